//! Schema evolution: a snapshot written under an older schema loads
//! under a newer one that only adds object types, actions and default
//! roles; any other change is refused, naming it.

use accord::{
    Actor, Decision, Engine, LoadErrorKind, Loader, Schema, SchemaChange,
    Subject, Threshold, Timestamp,
};

fn v1() -> Schema {
    Schema::builder()
        .object_type("site")
        .action("read_values", Threshold::Read)
        .default_role("Readers", "read sites", &[("read", "site")])
        .build()
        .unwrap()
}

fn v2() -> Schema {
    Schema::builder()
        .object_type("site")
        .action("read_values", Threshold::Read)
        .default_role("Readers", "read sites", &[("read", "site")])
        .object_type("meter")
        .action("add_bill", Threshold::Full)
        .default_role("Meter readers", "read meters", &[("read", "meter")])
        .build()
        .unwrap()
}

fn old_engine() -> Engine {
    let mut engine = Engine::builder(v1()).build().unwrap();
    let t = Timestamp::from_unix_millis(1);
    let mut sys = engine.act(Actor::System, t);
    let org = sys.create_org("Old Org").unwrap().value;
    let ann = sys.create_user(org, "ann@old.example").unwrap().value;
    let readers = sys.engine().role_by_name(org, "Readers").unwrap();
    sys.grant_role(ann, readers, &[]).unwrap();
    sys.create_object(org, "site", "plant", &[]).unwrap();
    engine
}

#[test]
fn a_snapshot_loads_under_a_schema_that_only_adds() {
    let old = old_engine();
    let json = old.to_json();
    let mut loaded = Loader::new().schema(v2()).from_json(&json).unwrap();
    assert_eq!(loaded.schema(), &v2());
    assert_eq!(loaded.revision(), old.revision());
    assert!(loaded.index_is_consistent());
    // Old decisions hold.
    let org = loaded.org_by_name("Old Org").unwrap();
    let ann = loaded.user_by_email("ann@old.example").unwrap();
    let site_ty = loaded.schema().object_type("site").unwrap();
    let site = loaded.object_by_key(site_ty, "plant").unwrap();
    let read = loaded.schema().action("read").unwrap();
    assert_eq!(loaded.check(Subject::User(ann), read, site), Decision::Allow);
    // The new type and action work, and new organizations get the new
    // default role while the old one keeps its own.
    let t = Timestamp::from_unix_millis(2);
    let mut sys = loaded.act(Actor::System, t);
    let meter = sys.create_object(org, "meter", "m1", &[site]).unwrap().value;
    let new_org = sys.create_org("New Org").unwrap().value;
    assert!(sys.engine().role_by_name(new_org, "Meter readers").is_some());
    assert!(sys.engine().role_by_name(org, "Meter readers").is_none());
    let add_bill = loaded.schema().action("add_bill").unwrap();
    assert_eq!(
        loaded.check(Subject::User(ann), add_bill, meter),
        Decision::Deny
    );
    // Saved under v2, it loads as it is.
    let again = Engine::from_json(&loaded.to_json()).unwrap();
    assert_eq!(again.to_json(), loaded.to_json());
    // The log checks out under the schema it was written with.
    let verified = Loader::new().schema(v2()).verify_log(true);
    assert!(verified.from_json(&json).is_ok());
}

#[test]
fn any_change_but_an_addition_is_refused_naming_it() {
    let json = old_engine().to_json();
    let cases: Vec<(Schema, SchemaChange)> = vec![
        (
            Schema::builder()
                .action("read_values", Threshold::Read)
                .default_role("Readers", "read sites", &[("read", "users")])
                .build()
                .unwrap(),
            SchemaChange::TypeRemoved("site".into()),
        ),
        (
            Schema::builder()
                .object_type("site")
                .action("read_values", Threshold::Full)
                .default_role("Readers", "read sites", &[("read", "site")])
                .build()
                .unwrap(),
            SchemaChange::ActionChanged("read_values".into()),
        ),
        (
            Schema::builder()
                .object_type("site")
                .action("read_values", Threshold::Read)
                .build()
                .unwrap(),
            SchemaChange::DefaultRoleRemoved("Readers".into()),
        ),
        (
            Schema::builder()
                .object_type("meter")
                .object_type("site")
                .action("read_values", Threshold::Read)
                .default_role("Readers", "read sites", &[("read", "site")])
                .build()
                .unwrap(),
            SchemaChange::TypeMoved { name: "site".into(), from: 3, to: 4 },
        ),
    ];
    for (schema, change) in cases {
        let err = Loader::new().schema(schema).from_json(&json).unwrap_err();
        assert_eq!(err.kind(), &LoadErrorKind::SchemaChange(change.clone()));
        assert!(err.to_string().contains("incompatible schema change"));
    }
}
