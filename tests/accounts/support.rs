//! Fixtures of the account tests: the metering platform of seed 003 with
//! a platform administrator, and helpers asserting what every applied or
//! refused mutation leaves behind.
//!
//! [`ok`] asserts that a mutation was applied, returned the engine's new
//! revision (one more than before), logged one applied event by its actor
//! and left the index consistent. [`refused`] asserts that the policy
//! state and the revision did not change and that exactly one refused
//! event, by its actor and carrying the error's code and message, was
//! logged.

pub(super) use accord::{
    presets, ActionId, Actor, Engine, ErrorKind, Grantee, MutationError,
    Mutator, ObjectId, Op, OrgId, Outcome, Receipt, RoleId, ShareSpec,
    Subject, Timestamp, UserId,
};

/// The time every mutation is made at.
pub(super) const T: Timestamp = Timestamp::from_unix_millis(1_700_000_000_000);

pub(super) const ADMIN_EMAIL: &str = "admin@platform.example";
pub(super) const ADMIN_PW: &str = "Adm1nistrat0r";
pub(super) const CLERK_EMAIL: &str = "clerk@platform.example";
pub(super) const CLERK_PW: &str = "Cl3rkOfTheDesk";
pub(super) const TECH_EMAIL: &str = "service_tech@domain.com";
pub(super) const TECH_PW: &str = "Tashkent2024";

/// The metering platform: one organization owning the supply companies,
/// service organizations and metering units of the seed's example.
///
/// * `admin` is a platform administrator holding `Access administrator`
///   (so it may also assign roles).
/// * `clerk` holds `Access administrator` and `Platform operator` but is
///   not a platform administrator.
/// * Units: `units[0]`, `units[1]` under Hududgaz and TechService,
///   `units[2]` under Hududgaz and FixIt, `units[3]` under Suvsoz and
///   TechService.
pub(super) struct Platform {
    pub(super) e: Engine,
    pub(super) platform: OrgId,
    pub(super) admin: UserId,
    pub(super) clerk: UserId,
    pub(super) gaz: ObjectId,
    pub(super) suvsoz: ObjectId,
    pub(super) tech: ObjectId,
    pub(super) fixit: ObjectId,
    pub(super) units: [ObjectId; 4],
    pub(super) sca: RoleId,
    pub(super) operator: RoleId,
    pub(super) access: RoleId,
    pub(super) reporting: RoleId,
    pub(super) monitoring: RoleId,
}

impl Platform {
    pub(super) fn new() -> Platform {
        let mut e = presets::metering().build().expect("preset builds");
        let sys = Actor::System;
        let platform = ok(&mut e, sys, |m| m.create_org("Platform"));
        let admin = ok(&mut e, sys, |m| {
            m.create_account(
                platform,
                ADMIN_EMAIL,
                Some("Admin"),
                ADMIN_PW,
                "UTC",
                "en",
            )
        });
        ok(&mut e, sys, |m| m.set_platform_admin(admin, true));
        let clerk = ok(&mut e, sys, |m| {
            m.create_account(
                platform,
                CLERK_EMAIL,
                Some("Clerk"),
                CLERK_PW,
                "Asia/Tashkent",
                "uz",
            )
        });
        let role = |e: &Engine, name: &str| {
            e.role_by_name(platform, name).expect("default role")
        };
        let sca = role(&e, "Service Company Administrator");
        let operator = role(&e, "Platform operator");
        let access = role(&e, "Access administrator");
        let reporting = role(&e, "Reporting");
        let monitoring = role(&e, "Equipment monitoring");
        ok(&mut e, sys, |m| m.grant_role(admin, access, &[]));
        ok(&mut e, sys, |m| m.grant_role(clerk, access, &[]));
        ok(&mut e, sys, |m| m.grant_role(clerk, operator, &[]));

        let mut object = |ty: &str, key: &str, parents: &[ObjectId]| {
            ok(&mut e, sys, |m| m.create_object(platform, ty, key, parents))
        };
        let gaz = object("resource_supply_company", "Hududgaz", &[]);
        let suvsoz = object("resource_supply_company", "Suvsoz", &[]);
        let tech = object("service_organization", "TechService", &[]);
        let fixit = object("service_organization", "FixIt", &[]);
        let units = [
            object("metering_unit", "MU-001", &[gaz, tech]),
            object("metering_unit", "MU-002", &[gaz, tech]),
            object("metering_unit", "MU-003", &[gaz, fixit]),
            object("metering_unit", "MU-004", &[suvsoz, tech]),
        ];
        Platform {
            e,
            platform,
            admin,
            clerk,
            gaz,
            suvsoz,
            tech,
            fixit,
            units,
            sca,
            operator,
            access,
            reporting,
            monitoring,
        }
    }

    /// Creates an account in the platform organization, by the platform
    /// administrator.
    pub(super) fn account(&mut self, email: &str, password: &str) -> UserId {
        let (org, by) = (self.platform, Actor::User(self.admin));
        ok(&mut self.e, by, |m| {
            m.create_account(org, email, None, password, "UTC", "en")
        })
    }

    /// An action of the schema.
    pub(super) fn action(&self, name: &str) -> ActionId {
        self.e.schema().action(name).expect("action")
    }

    /// Whether `user` may perform `action` on `object`.
    pub(super) fn can(
        &self,
        user: UserId,
        action: &str,
        object: ObjectId,
    ) -> bool {
        self.e
            .check(Subject::User(user), self.action(action), object)
            .is_allow()
    }
}

/// The policy state: the snapshot without its audit log.
pub(super) fn state(e: &Engine) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&e.to_json()).expect("snapshot is JSON");
    v.as_object_mut().expect("snapshot is an object").remove("events");
    v
}

/// Every string in a JSON value that looks like an Argon2id PHC hash.
pub(super) fn argon2_hashes(v: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_hashes(v, &mut out);
    out
}

fn collect_hashes(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) if s.starts_with("$argon2") => {
            out.push(s.clone());
        }
        serde_json::Value::Array(items) => {
            for i in items {
                collect_hashes(i, out);
            }
        }
        serde_json::Value::Object(map) => {
            for i in map.values() {
                collect_hashes(i, out);
            }
        }
        _ => {}
    }
}

/// The stored password hashes of the engine, from its snapshot.
pub(super) fn stored_hashes(e: &Engine) -> Vec<String> {
    argon2_hashes(&state(e))
}

/// Applies a mutation at [`T`], asserts it was applied and returns its
/// value.
pub(super) fn ok<R>(
    e: &mut Engine,
    actor: Actor,
    f: impl FnOnce(&mut Mutator<'_>) -> Result<Receipt<R>, MutationError>,
) -> R {
    let revision = e.revision().get();
    let logged = e.events().len();
    let receipt = match f(&mut e.act(actor, T)) {
        Ok(r) => r,
        Err(err) => panic!("mutation by {actor} refused: {err}"),
    };
    assert_eq!(receipt.revision.get(), revision + 1, "receipt revision");
    assert_eq!(e.revision(), receipt.revision, "engine revision");
    assert_eq!(e.events().len(), logged + 1, "one event logged");
    let event = e.events().last().expect("an event");
    assert!(event.applied(), "event not marked applied: {event:?}");
    assert_eq!(event.actor, actor);
    assert_eq!(event.revision, receipt.revision);
    assert!(e.index_is_consistent(), "index inconsistent after {event:?}");
    receipt.value
}

/// Attempts a mutation at [`T`], asserts it was refused without changing
/// anything but the audit log, and returns the error.
pub(super) fn refused<R>(
    e: &mut Engine,
    actor: Actor,
    f: impl FnOnce(&mut Mutator<'_>) -> Result<Receipt<R>, MutationError>,
) -> MutationError {
    let before = state(e);
    let revision = e.revision();
    let logged = e.events().len();
    let err = match f(&mut e.act(actor, T)) {
        Ok(_) => panic!("mutation by {actor} was applied"),
        Err(err) => err,
    };
    assert_eq!(e.revision(), revision, "refusal changed the revision");
    assert!(state(e) == before, "refusal `{err}` changed the policy state");
    assert_eq!(e.events().len(), logged + 1, "refusal not logged");
    let event = e.events().last().expect("an event");
    assert_eq!(event.actor, actor);
    assert_eq!(event.revision, revision);
    match &event.outcome {
        Outcome::Refused(r) => {
            assert_eq!(r.code, err.code());
            assert_eq!(r.message, err.to_string());
        }
        Outcome::Applied => panic!("refusal logged as applied: {event:?}"),
    }
    err
}
