//! Fixtures and assertions shared by the Arbiter scenarios.
//!
//! Every mutation in the scenarios goes through [`ok`] or [`refused`]:
//! `ok` asserts that the mutation was applied, bumped the revision by
//! exactly one and logged an applied event; `refused` asserts that nothing
//! observable changed (records, grants, lists and every decision), that
//! the revision stayed put and that a refused event was logged.

#![cfg(test)]

use std::collections::BTreeSet;
use std::fmt::Debug;

pub(super) use accord::{
    presets, ActionId, Actor, Decision, Engine, ErrorKind, GrantId,
    MutationError, Mutator, ObjectId, OrgId, Outcome, PermissionId, Reason,
    Receipt, RoleId, Subject, Timestamp, TypeId, UserId,
};

/// The time every scenario acts at.
pub(super) const T: Timestamp = Timestamp::from_unix_millis(1_700_000_000_000);

/// The default roles of a new organization, in creation order.
pub(super) const READ_ALL: &str = "Read all";
pub(super) const WRITE_ALL: &str = "Write all values";
pub(super) const CREATE_META: &str = "Create metadata";
pub(super) const DELETE_META: &str = "Delete metadata";
pub(super) const UPDATE_ALL: &str = "Update all";
pub(super) const ADMIN: &str = "Administer data access controls";
pub(super) const DEFAULT_ROLES: [&str; 6] =
    [READ_ALL, WRITE_ALL, CREATE_META, DELETE_META, UPDATE_ALL, ADMIN];

/// The data types of the Arbiter, in schema order.
pub(super) const DATA_TYPES: [&str; 6] = [
    "sites",
    "aggregates",
    "cdf_forecasts",
    "forecasts",
    "observations",
    "reports",
];

/// The policy types.
pub(super) const POLICY_TYPES: [&str; 3] = ["users", "roles", "permissions"];

/// Every action of the Arbiter.
pub(super) const ACTIONS: [&str; 9] = [
    "create",
    "read",
    "update",
    "delete",
    "grant",
    "revoke",
    "read_values",
    "write_values",
    "delete_values",
];

pub(super) fn action(e: &Engine, name: &str) -> ActionId {
    e.schema().action(name).unwrap_or_else(|| panic!("no action `{name}`"))
}

pub(super) fn ty(e: &Engine, name: &str) -> TypeId {
    e.schema().object_type(name).unwrap_or_else(|| panic!("no type `{name}`"))
}

pub(super) fn role(e: &Engine, org: OrgId, name: &str) -> RoleId {
    e.role_by_name(org, name).unwrap_or_else(|| panic!("no role `{name}`"))
}

pub(super) fn role_object(e: &Engine, r: RoleId) -> ObjectId {
    e.role(r).expect("role exists").object()
}

pub(super) fn perm_object(e: &Engine, p: PermissionId) -> ObjectId {
    e.permission(p).expect("permission exists").object()
}

pub(super) fn user_object(e: &Engine, u: UserId) -> ObjectId {
    e.user(u).expect("user exists").object()
}

/// The permission called `name` inside role `r`.
pub(super) fn perm_in(e: &Engine, r: RoleId, name: &str) -> PermissionId {
    e.role(r)
        .expect("role exists")
        .permissions()
        .find(|p| e.permission(*p).is_some_and(|p| p.name() == name))
        .unwrap_or_else(|| panic!("no permission `{name}` in role"))
}

/// `(name, action, type, applies_to_all)` of every permission of a role.
pub(super) fn perms_of(
    e: &Engine,
    r: RoleId,
) -> BTreeSet<(String, String, String, bool)> {
    let s = e.schema();
    e.role(r)
        .expect("role exists")
        .permissions()
        .map(|p| {
            let p = e.permission(p).expect("permission exists");
            (
                p.name().into_owned(),
                s.action_name(p.action()).expect("action").to_owned(),
                s.type_name(p.object_type()).expect("type").to_owned(),
                p.applies_to_all(),
            )
        })
        .collect()
}

/// Asserts that `name` is a default role of `org` with `description` and
/// exactly the applies-to-all permissions `expected`, all owned by `org`.
#[track_caller]
pub(super) fn assert_default_role(
    e: &Engine,
    org: OrgId,
    name: &str,
    description: &str,
    expected: &[(&str, &str, &str)],
) {
    let r = role(e, org, name);
    let rec = e.role(r).expect("role");
    assert_eq!(rec.org(), org);
    assert_eq!(rec.description(), description);
    assert_eq!(rec.personal_to(), None);
    assert!(rec.required_bindings().is_empty());
    let want: BTreeSet<_> = expected
        .iter()
        .map(|(n, a, t)| {
            ((*n).to_owned(), (*a).to_owned(), (*t).to_owned(), true)
        })
        .collect();
    assert_eq!(want.len(), expected.len(), "expected list has duplicates");
    assert_eq!(perms_of(e, r), want);
    for p in rec.permissions() {
        let p = e.permission(p).expect("permission");
        assert_eq!(p.org(), org, "default permissions belong to the org");
        assert_eq!(p.objects().count(), 0, "applies-to-all lists nothing");
    }
}

/// Whether role `r` contains permission `p`, seen from both sides.
pub(super) fn role_has(e: &Engine, r: RoleId, p: PermissionId) -> bool {
    e.role(r).is_some_and(|r| r.permissions().any(|q| q == p))
        && e.permission(p).is_some_and(|p| p.roles().any(|s| s == r))
}

/// Whether `role` is granted to `user`.
pub(super) fn holds(e: &Engine, user: UserId, r: RoleId) -> bool {
    e.user(user).is_some_and(|u| {
        u.grants().any(|g| e.grant(g).is_some_and(|g| g.role() == r))
    })
}

/// The decision of `user` doing `act` on `obj`, cross-checked against
/// `explain`, `allowed_actions` and `subjects_for`.
#[track_caller]
pub(super) fn decide(
    e: &Engine,
    user: UserId,
    act: &str,
    obj: ObjectId,
) -> Decision {
    let a = action(e, act);
    let s = Subject::User(user);
    let d = e.check(s, a, obj);
    let r = e.explain(s, a, obj);
    assert_eq!(r.decision(), d, "explain disagrees with check");
    assert_eq!(r.reasons().is_empty(), d == Decision::Deny);
    assert_eq!(e.allowed_actions(s, obj).contains(a), d == Decision::Allow);
    assert_eq!(e.subjects_for(a, obj).contains(&user), d == Decision::Allow);
    d
}

#[track_caller]
pub(super) fn allow(e: &Engine, user: UserId, act: &str, obj: ObjectId) {
    assert_eq!(
        decide(e, user, act, obj),
        Decision::Allow,
        "expected {user} to be allowed `{act}` on {obj}"
    );
}

#[track_caller]
pub(super) fn deny(e: &Engine, user: UserId, act: &str, obj: ObjectId) {
    assert_eq!(
        decide(e, user, act, obj),
        Decision::Deny,
        "expected {user} to be denied `{act}` on {obj}"
    );
}

/// The names of the actions `user` may perform on `obj`.
pub(super) fn actions_on(
    e: &Engine,
    user: UserId,
    obj: ObjectId,
) -> BTreeSet<String> {
    e.allowed_actions(Subject::User(user), obj)
        .iter()
        .map(|a| e.schema().action_name(a).expect("action").to_owned())
        .collect()
}

pub(super) fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

type UserRow = (UserId, OrgId, String, Option<RoleId>, Vec<GrantId>);
type RoleRow = (RoleId, OrgId, String, Vec<PermissionId>, Vec<GrantId>);

/// Everything a mutation could change, including every decision.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Snapshot {
    revision: u64,
    orgs: Vec<(OrgId, String, bool, usize, usize, usize)>,
    users: Vec<UserRow>,
    objects: Vec<(ObjectId, TypeId, OrgId, String, Vec<ObjectId>)>,
    roles: Vec<RoleRow>,
    perms: Vec<(PermissionId, OrgId, String, bool, Vec<ObjectId>)>,
    grants: Vec<(GrantId, UserId, RoleId, Vec<ObjectId>)>,
    decisions: Vec<Decision>,
}

impl Snapshot {
    pub(super) fn of(e: &Engine) -> Snapshot {
        let orgs = e
            .orgs()
            .map(|(id, o)| {
                (
                    id,
                    o.name().to_owned(),
                    o.accepted_terms(),
                    o.users().count(),
                    o.roles().count(),
                    o.permissions().count(),
                )
            })
            .collect();
        let users = e
            .users()
            .map(|(id, u)| {
                (
                    id,
                    u.org(),
                    u.email().to_owned(),
                    u.personal_role(),
                    u.grants().collect(),
                )
            })
            .collect();
        let objects = e
            .objects()
            .map(|(id, o)| {
                (
                    id,
                    o.object_type(),
                    o.org(),
                    o.key().into_owned(),
                    o.parents().to_vec(),
                )
            })
            .collect();
        let roles = e
            .roles()
            .map(|(id, r)| {
                (
                    id,
                    r.org(),
                    r.name().into_owned(),
                    r.permissions().collect(),
                    r.grants().collect(),
                )
            })
            .collect();
        let perms = e
            .permissions()
            .map(|(id, p)| {
                (
                    id,
                    p.org(),
                    p.name().into_owned(),
                    p.applies_to_all(),
                    p.objects().collect(),
                )
            })
            .collect();
        let grants = e
            .grants()
            .map(|(id, g)| (id, g.user(), g.role(), g.bindings().to_vec()))
            .collect();
        let mut decisions = Vec::new();
        let objects_ids: Vec<ObjectId> =
            e.objects().map(|(id, _)| id).collect();
        for (u, _) in e.users() {
            for a in e.schema().actions() {
                for o in &objects_ids {
                    decisions.push(e.check(Subject::User(u), a, *o));
                }
            }
        }
        Snapshot {
            revision: e.revision().get(),
            orgs,
            users,
            objects,
            roles,
            perms,
            grants,
            decisions,
        }
    }
}

/// Applies a mutation that must succeed and returns its value.
#[track_caller]
pub(super) fn ok<V: Debug>(
    e: &mut Engine,
    actor: Actor,
    f: impl FnOnce(&mut Mutator<'_>) -> Result<Receipt<V>, MutationError>,
) -> V {
    let before = e.revision().get();
    let events = e.events().len();
    let receipt = match f(&mut e.act(actor, T)) {
        Ok(r) => r,
        Err(err) => panic!("mutation by {actor} refused: {err}"),
    };
    assert_eq!(receipt.revision.get(), before + 1, "revision must bump by 1");
    assert_eq!(e.revision().get(), before + 1);
    assert_eq!(e.events().len(), events + 1, "one event per mutation");
    let last = e.events().last().expect("an event");
    assert!(last.applied(), "event must be applied");
    assert_eq!(last.revision, receipt.revision);
    assert_eq!(last.actor, actor);
    assert!(e.index_is_consistent(), "index drifted from the store");
    receipt.value
}

/// Attempts a mutation that must be refused; asserts it changed nothing
/// but the audit log, and returns the reason.
#[track_caller]
pub(super) fn refused<V: Debug>(
    e: &mut Engine,
    actor: Actor,
    f: impl FnOnce(&mut Mutator<'_>) -> Result<Receipt<V>, MutationError>,
) -> ErrorKind {
    let before = Snapshot::of(e);
    let events = e.events().len();
    let err = match f(&mut e.act(actor, T)) {
        Ok(r) => panic!("mutation by {actor} should be refused: {r:?}"),
        Err(err) => err,
    };
    assert_eq!(Snapshot::of(e), before, "refusal `{err}` changed the policy");
    assert_eq!(e.events().len(), events + 1, "a refusal is logged");
    let last = e.events().last().expect("an event");
    assert_eq!(last.revision.get(), before.revision);
    assert_eq!(last.actor, actor);
    match &last.outcome {
        Outcome::Refused(r) => {
            assert_eq!(r.code, err.code());
            assert_eq!(r.message, err.to_string());
        }
        Outcome::Applied => panic!("refusal `{err}` logged as applied"),
    }
    assert!(e.index_is_consistent(), "index drifted from the store");
    err.kind().clone()
}

/// Asserts that a mutation is refused with an error matching `$pat`.
macro_rules! assert_refused {
    ($e:expr, $actor:expr, $pat:pat, |$m:ident| $body:expr) => {{
        let kind = support::refused($e, $actor, |$m| $body);
        assert!(
            matches!(kind, $pat),
            "expected {}, got {kind:?}",
            stringify!($pat)
        );
    }};
}
pub(super) use assert_refused;

/// Three organizations that accepted the terms: Utility X and Forecast
/// Providers A and B, each with an administrator holding all six default
/// roles and a plain user holding only a personal role.
pub(super) struct World {
    pub(super) e: Engine,
    pub(super) x: OrgId,
    pub(super) a: OrgId,
    pub(super) b: OrgId,
    pub(super) x_admin: UserId,
    pub(super) x_user: UserId,
    pub(super) a_admin: UserId,
    pub(super) a_user: UserId,
    pub(super) b_admin: UserId,
    pub(super) b_user: UserId,
}

pub(super) const SYS: Actor = Actor::System;

/// A new organization, as the platform creates it (terms not accepted).
pub(super) fn new_org(e: &mut Engine, name: &str) -> OrgId {
    ok(e, SYS, |m| m.create_org(name))
}

pub(super) fn new_user(e: &mut Engine, org: OrgId, email: &str) -> UserId {
    ok(e, SYS, |m| m.create_user(org, email))
}

/// Grants roles of the user's organization by name, as the platform.
pub(super) fn give(e: &mut Engine, user: UserId, roles: &[&str]) {
    let org = e.user(user).expect("user").org();
    for name in roles {
        let r = role(e, org, name);
        ok(e, SYS, |m| m.grant_role(user, r, &[]));
    }
}

pub(super) fn world() -> World {
    let mut e = presets::arbiter().build().expect("arbiter preset builds");
    let x = new_org(&mut e, "Utility X");
    let a = new_org(&mut e, "Forecast Provider A");
    let b = new_org(&mut e, "Forecast Provider B");
    for org in [x, a, b] {
        ok(&mut e, SYS, |m| m.accept_terms(org));
    }
    let x_admin = new_user(&mut e, x, "admin@utility-x.example");
    let x_user = new_user(&mut e, x, "analyst@utility-x.example");
    let a_admin = new_user(&mut e, a, "admin@provider-a.example");
    let a_user = new_user(&mut e, a, "modeler@provider-a.example");
    let b_admin = new_user(&mut e, b, "admin@provider-b.example");
    let b_user = new_user(&mut e, b, "modeler@provider-b.example");
    for admin in [x_admin, a_admin, b_admin] {
        give(&mut e, admin, &DEFAULT_ROLES);
    }
    World { e, x, a, b, x_admin, x_user, a_admin, a_user, b_admin, b_user }
}

/// Creates a data object as `actor`.
pub(super) fn obj(
    e: &mut Engine,
    actor: UserId,
    org: OrgId,
    ty: &str,
    key: &str,
    parents: &[ObjectId],
) -> ObjectId {
    ok(e, Actor::User(actor), |m| m.create_object(org, ty, key, parents))
}

/// Creates a role as `actor` holding new permissions, each
/// `(name, action, type, objects)`; an empty object list makes an
/// applies-to-all permission.
pub(super) fn shared_role(
    e: &mut Engine,
    actor: UserId,
    org: OrgId,
    name: &str,
    perms: &[(&str, &str, &str, &[ObjectId])],
) -> RoleId {
    let who = Actor::User(actor);
    let r = ok(e, who, |m| m.create_role(org, name, "shared data"));
    for (pname, act, t, objects) in perms {
        let p = if objects.is_empty() {
            ok(e, who, |m| m.create_permission_all(org, pname, act, t))
        } else {
            ok(e, who, |m| {
                m.create_permission_for(org, pname, act, t, objects)
            })
        };
        ok(e, who, |m| m.add_permission_to_role(r, p));
    }
    r
}

/// Utility X's plant: a site and a GHI observation at it, shared through
/// the non-administrative role "Read Plant X".
pub(super) struct Plant {
    pub(super) site: ObjectId,
    pub(super) ghi: ObjectId,
    pub(super) role: RoleId,
}

/// Creates Utility X's plant and its sharing role (not yet granted).
pub(super) fn plant(w: &mut World) -> Plant {
    let (x, adm) = (w.x, w.x_admin);
    let site = obj(&mut w.e, adm, x, "sites", "plant-x", &[]);
    let ghi = obj(&mut w.e, adm, x, "observations", "plant-x-ghi", &[site]);
    let role = shared_role(
        &mut w.e,
        adm,
        x,
        "Read Plant X",
        &[
            ("Read Plant X site", "read", "sites", &[site]),
            ("Read Plant X GHI", "read", "observations", &[ghi]),
            ("Read Plant X GHI values", "read_values", "observations", &[ghi]),
        ],
    );
    Plant { site, ghi, role }
}
