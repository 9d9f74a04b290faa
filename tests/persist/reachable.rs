//! Every state the mutation API reaches loads back: scenarios in which a
//! mutation used to leave a state that the loader refuses (so one tenant
//! could make every backup and restart fail), and snapshots the loader
//! used to accept although a later ordinary mutation turned them into
//! ones it refuses.

use accord::{
    presets, Actor, Engine, ErrorKind, OrgId, RoleId, Timestamp, UserId,
};

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
