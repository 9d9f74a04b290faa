//! Snapshots round-trip across feature sets: a snapshot written by a
//! build with `accounts` (accounts, their ops in the log) loads in every
//! build, and a build without the feature refuses account ops with a
//! typed error instead of failing to read them.
//!
//! `tests/data/accounts_snapshot.json` was written by a build with
//! `accounts`; regenerate it with
//! `ACCORD_BLESS=1 cargo test --all-features --test integration features`.

use accord::{Actor, Engine, Timestamp};

fn fixture_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/accounts_snapshot.json")
}

#[cfg(feature = "accounts")]
fn write_fixture() -> String {
    let mut engine = accord::presets::metering().build().unwrap();
    let t = Timestamp::from_unix_millis(1_700_000_000_000);
    let mut sys = engine.act(Actor::System, t);
    let org = sys.create_org("Meters Ltd").unwrap().value;
    let ann = sys
        .create_account(
            org,
            "ann@meters.example",
            Some("Ann"),
            "correct horse 1",
            "Europe/Berlin",
            "de",
        )
        .unwrap()
        .value;
    sys.edit_account(
        ann,
        "ann@meters.example",
        Some("Ann B"),
        "",
        "Europe/Berlin",
        "en",
    )
    .unwrap();
    let bob = sys
        .create_account(
            org,
            "bob@meters.example",
            None,
            "abcdefg1",
            "UTC",
            "en",
        )
        .unwrap()
        .value;
    sys.delete_account(bob).unwrap();
    engine.to_json()
}

#[test]
fn a_snapshot_with_accounts_loads_in_every_build() {
    #[cfg(feature = "accounts")]
    if std::env::var_os("ACCORD_BLESS").is_some() {
        std::fs::write(fixture_path(), write_fixture()).unwrap();
    }
    let json = std::fs::read_to_string(fixture_path()).unwrap();
    let engine = Engine::from_json(&json).unwrap();
    assert_eq!(engine.to_json(), json);
    let ops: Vec<&str> = engine.events().iter().map(|e| e.op.name()).collect();
    for op in ["create account", "edit account", "delete account"] {
        assert!(ops.contains(&op), "the fixture logs `{op}`: {ops:?}");
    }
    let ann = engine.user_by_email("ann@meters.example").unwrap();
    assert!(engine.user_by_email("bob@meters.example").is_none());
    #[cfg(feature = "accounts")]
    {
        let profile = engine.user(ann).unwrap().profile().unwrap();
        assert_eq!(profile.language(), "en");
        assert!(engine.verify_password(ann, "correct horse 1"));
    }
    #[cfg(not(feature = "accounts"))]
    let _ = ann;
}

#[cfg(not(feature = "accounts"))]
#[test]
fn account_ops_are_refused_without_the_feature() {
    let json = std::fs::read_to_string(fixture_path()).unwrap();
    let mut engine = Engine::from_json(&json).unwrap();
    let before = engine.to_json();
    let user = engine.users().next().unwrap().0;
    let t = Timestamp::from_unix_millis(1);
    let err = engine
        .apply(Actor::System, t, accord::Op::DeleteAccount { user })
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            accord::ErrorKind::FeatureDisabled { feature: "accounts" }
        ),
        "{err}"
    );
    assert_eq!(err.code(), "feature_disabled");
    // Refused, logged, nothing else changed.
    let after = Engine::from_json(&engine.to_json()).unwrap();
    assert_eq!(
        after.revision(),
        Engine::from_json(&before).unwrap().revision()
    );
    // Replaying a log with applied account ops needs the feature.
    assert!(
        Engine::replay(accord::presets::metering(), engine.events()).is_err()
    );
}
