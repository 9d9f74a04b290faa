//! Every state the mutation API reaches loads back: scenarios in which a
//! mutation used to leave a state that the loader refuses (so one tenant
//! could make every backup and restart fail), and snapshots the loader
//! used to accept although a later ordinary mutation turned them into
//! ones it refuses.

use accord::{
    presets, Actor, Engine, ErrorKind, LoadErrorKind, OrgId, RoleId,
    Timestamp, UserId,
};
use serde_json::{json, Value};

fn t() -> Timestamp {
    Timestamp::from_unix_millis(1_700_000_000_000)
}

/// An Arbiter engine with one organization (terms accepted) and ann, who
/// holds the organization's "Create metadata" role.
fn arbiter_with_creator() -> (Engine, OrgId, UserId) {
    let mut engine = presets::arbiter().build().unwrap();
    let mut sys = engine.act(Actor::System, t());
    let org = sys.create_org("Org A").unwrap().value;
    sys.accept_terms(org).unwrap();
    let ann = sys.create_user(org, "ann@a.example").unwrap().value;
    let create = role_named(sys.engine(), org, "Create metadata");
    sys.grant_role(ann, create, &[]).unwrap();
    (engine, org, ann)
}

fn role_named(engine: &Engine, org: OrgId, name: &str) -> RoleId {
    engine
        .org(org)
        .unwrap()
        .roles()
        .find(|r| engine.role(*r).unwrap().name() == name)
        .unwrap()
}

fn assert_loads_back(engine: &Engine) {
    let json = engine.to_json();
    let loaded = Engine::from_json(&json)
        .unwrap_or_else(|e| panic!("the engine's own snapshot: {e}"));
    assert_eq!(loaded.to_json(), json);
    assert_eq!(loaded.revision(), engine.revision());
}

/// A user holding a `create` permission used to create an object under
/// their own user object (which their personal role lets them read):
/// accepted, and the engine's snapshot then failed to load ("invalid,
/// repeated or dangling parent"). Parents must be data objects, as
/// `link_object` requires; the refusal changes nothing.
#[test]
fn an_object_is_never_created_under_a_user_role_or_permission() {
    let (mut engine, org, ann) = arbiter_with_creator();
    let user_object = engine.user(ann).unwrap().object();
    let personal = engine.user(ann).unwrap().personal_role().unwrap();
    let role_object = engine.role(personal).unwrap().object();
    let perm = engine.role(personal).unwrap().permissions().next().unwrap();
    let perm_object = engine.permission(perm).unwrap().object();
    let site = engine
        .act(Actor::System, t())
        .create_object(org, "sites", "site-1", &[])
        .unwrap()
        .value;
    for (actor, parents) in [
        (Actor::User(ann), vec![user_object]),
        (Actor::System, vec![user_object]),
        (Actor::System, vec![site, role_object]),
        (Actor::System, vec![perm_object, site]),
    ] {
        let revision = engine.revision();
        let objects = engine.objects().count();
        let err = engine
            .act(actor, t())
            .create_object(org, "sites", "plant", &parents)
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Invalid { .. }),
            "{actor:?} under {parents:?}: {err}"
        );
        assert!(err.to_string().contains("not a data object"), "{err}");
        assert_eq!(engine.revision(), revision);
        assert_eq!(engine.objects().count(), objects);
        assert!(engine.index_is_consistent());
        assert_loads_back(&engine);
    }
    // Data parents are still fine.
    engine
        .act(Actor::System, t())
        .create_object(org, "sites", "plant", &[site])
        .unwrap();
    assert_loads_back(&engine);
}

/// An Arbiter engine with ann (and her personal role) and bob, as JSON.
fn personal_roles_value() -> (Engine, Value, UserId, UserId) {
    let (mut engine, org, ann) = arbiter_with_creator();
    let bob = engine
        .act(Actor::System, t())
        .create_user(org, "bob@a.example")
        .unwrap()
        .value;
    let v = serde_json::from_str(&engine.to_json()).unwrap();
    (engine, v, ann, bob)
}

fn at<'a>(v: &'a mut Value, pointer: &str) -> &'a mut Value {
    v.pointer_mut(pointer).unwrap_or_else(|| panic!("no `{pointer}`"))
}

fn assert_refused_at(v: &Value, path: &str) {
    match Engine::from_json(&v.to_string()) {
        Ok(mut e) => {
            // What a later ordinary mutation did with it before.
            let users: Vec<UserId> = e.users().map(|(id, _)| id).collect();
            for u in users {
                let _ = e.act(Actor::System, t()).delete_user(u);
            }
            let after = Engine::from_json(&e.to_json()).map(|_| ());
            panic!("loaded; after deleting the users: {after:?}")
        }
        Err(err) => match err.kind() {
            LoadErrorKind::Invalid { path: p, reason } => {
                assert_eq!(p, path, "{err}");
                assert!(reason.contains("personal role"), "{err}");
            }
            other => panic!("{other:?}"),
        },
    }
}

/// A snapshot in which a second role names ann as its personal user
/// used to load; deleting ann then removed her personal role only and
/// left the other one naming a deleted user, and the snapshot failed to
/// load. Each role personal to a user must be that user's personal role.
#[test]
fn a_forged_second_personal_role_is_refused_on_load() {
    let (engine, mut v, ann, _) = personal_roles_value();
    let org = engine.user(ann).unwrap().org();
    let other = role_named(&engine, org, "Read all");
    *at(&mut v, &format!("/model/roles/{}/personal", other.as_usize())) =
        json!(ann.as_u32());
    assert_refused_at(&v, &format!("model.roles[{}]", other.as_usize()));
}

/// The other direction: a role personal to ann while ann names no
/// personal role (or another one) is refused too.
#[test]
fn a_personal_role_its_user_does_not_name_is_refused_on_load() {
    let (engine, base, ann, bob) = personal_roles_value();
    let ann_role = engine.user(ann).unwrap().personal_role().unwrap();
    let bob_role = engine.user(bob).unwrap().personal_role().unwrap();
    let role_path = |r: RoleId| format!("model.roles[{}]", r.as_usize());
    let mut v = base.clone();
    *at(&mut v, &format!("/model/users/{}/personal_role", ann.as_usize())) =
        Value::Null;
    assert_refused_at(&v, &role_path(ann_role));
    // Ann's and bob's roles swapped between them: each user names a role
    // personal to the other.
    let mut v = base.clone();
    *at(&mut v, &format!("/model/roles/{}/personal", ann_role.as_usize())) =
        json!(bob.as_u32());
    *at(&mut v, &format!("/model/roles/{}/personal", bob_role.as_usize())) =
        json!(ann.as_u32());
    assert!(Engine::from_json(&v.to_string()).is_err());
    // The intact snapshot loads, and so does it after ann is deleted.
    let mut loaded = Engine::from_json(&base.to_string()).unwrap();
    loaded.act(Actor::System, t()).delete_user(ann).unwrap();
    assert_loads_back(&loaded);
}
