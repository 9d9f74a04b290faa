//! Fixtures of the project-security tests: a WattMetrics-style portal,
//! and helpers asserting what every applied or refused mutation leaves
//! behind.
//!
//! Mutations go through [`ok`] (asserts the mutation was applied, that
//! its receipt carries the engine's new revision, one more than before,
//! that one applied event was logged and that the index is consistent) or
//! [`refused`] (asserts the revision and the whole policy state are
//! unchanged and that exactly one refused event, carrying the error's code
//! and message, was logged).

#![cfg(test)]

use std::collections::BTreeSet;

pub(super) use accord::{
    presets, ActionId, ActionSpec, Actor, Decision, Denial, Engine, ErrorKind,
    Grantee, Level, MutationError, Mutator, ObjectId, Op, OrgId, Outcome,
    Reason, Receipt, Schema, Secret, ShareId, ShareKind, ShareSpec, Subject,
    Threshold, Timestamp, TokenId, TypeId, UserId,
};

/// The time every scenario acts at, unless it says otherwise.
pub(super) const T: Timestamp = Timestamp::from_unix_millis(1_700_000_000_000);

/// A project portal with one organization owning two projects, and users
/// around them.
///
/// * `project` (with `dashboard` and `dataset` under it) has `pat` as
///   project administrator (Full Access share by e-mail, "grant
///   administrative access" checked) and `vic` as project user (Read Only
///   share by e-mail), both added by the owner.
/// * `second` (with `second_dashboard`) has no project users.
/// * Both projects are public, as every new project.
pub(super) struct Portal {
    pub(super) e: Engine,
    pub(super) solar: OrgId,
    pub(super) other: OrgId,
    /// Solar Co's account administrator: the owner of the projects.
    pub(super) owner: UserId,
    /// A member of Solar Co holding no role.
    pub(super) member: UserId,
    /// Of Other Co: administrator of `project`.
    pub(super) pat: UserId,
    /// Of Other Co: project user of `project`.
    pub(super) vic: UserId,
    /// Of Other Co: given nothing.
    pub(super) olga: UserId,
    /// A platform administrator, in a third organization.
    pub(super) root: UserId,
    pub(super) project: ObjectId,
    pub(super) dashboard: ObjectId,
    pub(super) dataset: ObjectId,
    pub(super) second: ObjectId,
    pub(super) second_dashboard: ObjectId,
    pub(super) pat_share: ShareId,
    pub(super) vic_share: ShareId,
    pub(super) read: ActionId,
    pub(super) create: ActionId,
    pub(super) update: ActionId,
    pub(super) delete: ActionId,
    pub(super) grant: ActionId,
    pub(super) revoke: ActionId,
    pub(super) project_ty: TypeId,
}

pub(super) const PAT: &str = "pat@other.example";
pub(super) const VIC: &str = "vic@other.example";
pub(super) const OLGA: &str = "olga@other.example";

impl Portal {
    pub(super) fn new() -> Portal {
        let mut e = presets::project_portal().build().expect("preset builds");
        let sys = Actor::System;
        let solar = ok(&mut e, sys, |m| m.create_org("Solar Co"));
        let other = ok(&mut e, sys, |m| m.create_org("Other Co"));
        let platform = ok(&mut e, sys, |m| m.create_org("Platform"));
        let owner =
            ok(&mut e, sys, |m| m.create_user(solar, "owner@solar.example"));
        let member =
            ok(&mut e, sys, |m| m.create_user(solar, "member@solar.example"));
        let pat = ok(&mut e, sys, |m| m.create_user(other, PAT));
        let vic = ok(&mut e, sys, |m| m.create_user(other, VIC));
        let olga = ok(&mut e, sys, |m| m.create_user(other, OLGA));
        let root = ok(&mut e, sys, |m| {
            m.create_user(platform, "root@platform.example")
        });
        ok(&mut e, sys, |m| m.set_platform_admin(root, true));
        let admin_role = e
            .role_by_name(solar, "Account administrator")
            .expect("default role");
        ok(&mut e, sys, |m| m.grant_role(owner, admin_role, &[]));

        let by_owner = Actor::User(owner);
        let project = ok(&mut e, by_owner, |m| {
            m.create_object(solar, "project", "Rooftop 7", &[])
        });
        let dashboard = ok(&mut e, by_owner, |m| {
            m.create_object(solar, "dashboard", "Rooftop 7 live", &[project])
        });
        let dataset = ok(&mut e, by_owner, |m| {
            m.create_object(solar, "dataset", "Rooftop 7 kWh", &[project])
        });
        let second = ok(&mut e, by_owner, |m| {
            m.create_object(solar, "project", "Carport 2", &[])
        });
        let second_dashboard = ok(&mut e, by_owner, |m| {
            m.create_object(solar, "dashboard", "Carport 2 live", &[second])
        });
        let pat_share = ok(&mut e, by_owner, |m| {
            m.share_by_email(project, PAT, ShareSpec::full())
        });
        let vic_share = ok(&mut e, by_owner, |m| {
            m.share_by_email(project, VIC, ShareSpec::read_only())
        });

        let s = e.schema();
        let action = |n: &str| s.action(n).expect("action");
        let (read, create, update) =
            (action("read"), action("create"), action("update"));
        let (delete, grant, revoke) =
            (action("delete"), action("grant"), action("revoke"));
        let project_ty = s.object_type("project").expect("type");
        Portal {
            e,
            solar,
            other,
            owner,
            member,
            pat,
            vic,
            olga,
            root,
            project,
            dashboard,
            dataset,
            second,
            second_dashboard,
            pat_share,
            vic_share,
            read,
            create,
            update,
            delete,
            grant,
            revoke,
            project_ty,
        }
    }

    /// The objects of `project`: the project, its dashboard, its dataset.
    pub(super) fn project_data(&self) -> [ObjectId; 3] {
        [self.project, self.dashboard, self.dataset]
    }

    /// Whether `subject` may read each object of `project`, all the same.
    pub(super) fn reads_project(&self, subject: Subject) -> bool {
        let all: Vec<Decision> = self
            .project_data()
            .iter()
            .map(|o| self.e.check(subject, self.read, *o))
            .collect();
        assert!(
            all.iter().all(|d| *d == all[0]),
            "{subject:?} reads part of the project only: {all:?}"
        );
        all[0].is_allow()
    }

    /// Whether `subject` may change `project` (update it).
    pub(super) fn administers_project(&self, subject: Subject) -> bool {
        self.e.check(subject, self.update, self.project).is_allow()
    }

    /// Issues a token to `user`, by `user`.
    pub(super) fn token(
        &mut self,
        user: UserId,
        scope: Option<ObjectId>,
    ) -> (TokenId, Secret) {
        ok(&mut self.e, Actor::User(user), |m| {
            m.issue_token(user, scope, "export job", None)
        })
    }
}

/// The policy state: the snapshot without its audit log.
pub(super) fn state(e: &Engine) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&e.to_json()).expect("snapshot is JSON");
    v.as_object_mut().expect("snapshot is an object").remove("events");
    v
}

/// Applies a mutation at [`T`] and asserts it was applied; returns its
/// value.
pub(super) fn ok<R>(
    e: &mut Engine,
    actor: Actor,
    f: impl FnOnce(&mut Mutator<'_>) -> Result<Receipt<R>, MutationError>,
) -> R {
    ok_at(e, actor, T, f)
}

/// Applies a mutation at `at` and asserts it was applied: its receipt's
/// revision is the engine's, one more than before, one applied event was
/// logged, and the index is consistent. Returns the receipt's value.
pub(super) fn ok_at<R>(
    e: &mut Engine,
    actor: Actor,
    at: Timestamp,
    f: impl FnOnce(&mut Mutator<'_>) -> Result<Receipt<R>, MutationError>,
) -> R {
    let before = e.revision();
    let events = e.events().len();
    let receipt = match f(&mut e.act(actor, at)) {
        Ok(r) => r,
        Err(err) => panic!("mutation by {actor:?} refused: {err}"),
    };
    assert_eq!(receipt.revision, e.revision(), "receipt revision");
    assert_eq!(e.revision().get(), before.get() + 1, "one more revision");
    assert_eq!(e.events().len(), events + 1, "one event logged");
    let last = e.events().last().expect("an event");
    assert!(last.applied(), "the event is applied: {last:?}");
    assert_eq!(last.actor, actor);
    assert_eq!(last.at, at);
    assert_eq!(last.revision, receipt.revision);
    assert!(e.index_is_consistent(), "index consistent");
    receipt.value
}

/// Attempts a mutation at [`T`] and asserts it was refused with nothing
/// changed but one refused event (with the error's code and message).
pub(super) fn refused<R>(
    e: &mut Engine,
    actor: Actor,
    f: impl FnOnce(&mut Mutator<'_>) -> Result<Receipt<R>, MutationError>,
) -> MutationError {
    let before = e.revision();
    let events = e.events().len();
    let state_before = state(e);
    let err = match f(&mut e.act(actor, T)) {
        Ok(_) => panic!("mutation by {actor:?} was applied"),
        Err(err) => err,
    };
    assert_eq!(e.revision(), before, "revision unchanged by a refusal");
    assert_eq!(e.events().len(), events + 1, "the refusal is logged");
    let last = e.events().last().expect("an event");
    assert_eq!(last.actor, actor);
    assert_eq!(last.revision, before);
    match &last.outcome {
        Outcome::Refused(r) => {
            assert_eq!(r.code, err.code());
            assert_eq!(r.message, err.to_string());
        }
        Outcome::Applied => panic!("refusal logged as applied: {last:?}"),
    }
    assert!(state(e) == state_before, "a refusal changed the policy");
    assert!(e.index_is_consistent(), "index consistent");
    err
}

/// Asserts the error is [`ErrorKind::Denied`].
pub(super) fn assert_denied(err: &MutationError) {
    assert!(
        matches!(err.kind(), ErrorKind::Denied { .. }),
        "expected a denial, got {err}"
    );
}

/// Asserts the error is [`ErrorKind::NotFound`].
pub(super) fn assert_not_found(err: &MutationError) {
    assert!(
        matches!(err.kind(), ErrorKind::NotFound { .. }),
        "expected not found, got {err}"
    );
}

/// Every object of the engine, with its type.
pub(super) fn all_objects(e: &Engine) -> Vec<(ObjectId, TypeId)> {
    e.objects().map(|(id, o)| (id, o.object_type())).collect()
}

/// Whether `object` is `scope` or lies under it, walking parents (an
/// oracle independent of the engine's ancestor sets).
pub(super) fn at_or_under(
    e: &Engine,
    object: ObjectId,
    scope: ObjectId,
) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![object];
    while let Some(o) = stack.pop() {
        if o == scope {
            return true;
        }
        if seen.insert(o) {
            if let Some(rec) = e.object(o) {
                stack.extend(rec.parents().iter().copied());
            }
        }
    }
    false
}

/// Whether a token may attempt `action` on an object of type `ty` at all:
/// not administrative, threshold `Read` or below.
pub(super) fn token_may_attempt(
    e: &Engine,
    action: ActionId,
    ty: TypeId,
) -> bool {
    let def = e.schema().action_def(action).expect("action");
    def.threshold() <= Threshold::Read
        && !e.schema().is_administrative(action, ty)
}
