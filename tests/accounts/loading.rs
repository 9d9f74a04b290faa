//! Hostile account profiles in snapshots: a time zone, language or
//! password hash that the account mutations would never have stored is
//! refused on load, naming the field; the same strings are refused by
//! the mutations.

use serde_json::{json, Value};

use super::support::*;

/// The platform's snapshot as a JSON tree, and the slot of the clerk.
fn snapshot() -> (Platform, Value, usize) {
    let p = Platform::new();
    let v: Value = serde_json::from_str(&p.e.to_json()).expect("JSON");
    let clerk = p.clerk.as_usize();
    (p, v, clerk)
}

/// Loads `v` with the clerk's profile field `field` set to `to`, and
/// asserts it is refused at that field with a reason containing `why`.
fn assert_refused(v: &Value, clerk: usize, field: &str, to: Value, why: &str) {
    let mut v = v.clone();
    let pointer = format!("/model/users/{clerk}/profile/{field}");
    *v.pointer_mut(&pointer).expect("the field") = to.clone();
    let err = match Engine::from_json(&v.to_string()) {
        Ok(_) => panic!("loaded with `{field}` = {to}"),
        Err(e) => e,
    };
    match err.kind() {
        accord::LoadErrorKind::Invalid { path, reason } => {
            let expected = format!("model.users[{clerk}].profile.{field}");
            assert_eq!(path, &expected, "{err}");
            assert!(reason.contains(why), "{err}");
        }
        other => panic!("expected an invalid-snapshot error, got {other:?}"),
    }
    assert!(!err.to_string().contains(char::is_control), "{err}");
}

#[test]
fn hostile_time_zones_and_languages_are_refused_on_load() {
    let (_, v, clerk) = snapshot();
    assert!(Engine::from_json(&v.to_string()).is_ok());
    for zone in [
        "Asia/Tashkent\0",
        "Asia/Tashkent\n",
        "\u{1b}[2JUTC",
        "Mars/Olympus",
        "",
    ] {
        assert_refused(&v, clerk, "time_zone", json!(zone), "IANA time zone");
    }
    let long = "U".repeat(8 << 20);
    assert_refused(&v, clerk, "time_zone", json!(long), "IANA time zone");
    for tag in ["uz\0", "uz\u{1b}[31m", "uz-\u{200b}Latn", "en us", ""] {
        assert_refused(&v, clerk, "language", json!(tag), "language tag");
    }
}

#[test]
fn stored_passwords_must_be_argon2id_hashes() {
    let (p, v, clerk) = snapshot();
    let stored = v["model"]["users"][clerk]["profile"]["password"]
        .as_str()
        .expect("a stored hash")
        .to_owned();
    assert!(stored.starts_with("$argon2id$v=19$"), "{stored}");
    // The engine's own hash loads and still verifies.
    let loaded = Engine::from_json(&v.to_string()).expect("loads");
    assert!(loaded.verify_password(p.clerk, CLERK_PW));
    let huge = stored.replacen("m=19456", "m=4294967295", 1);
    assert_ne!(huge, stored);
    for (bad, why) in [
        (CLERK_PW.to_owned(), "PHC"),
        (String::new(), "PHC"),
        (stored.replacen("argon2id", "argon2i", 1), "Argon2id"),
        (stored.replacen("v=19", "v=16", 1), "version 19"),
        (huge, "out of range"),
        (stored.to_uppercase(), "PHC"),
    ] {
        assert_refused(&v, clerk, "password", json!(bad), why);
    }
}

#[test]
fn mutations_refuse_the_same_time_zones_and_languages() {
    let mut p = Platform::new();
    let (org, by) = (p.platform, Actor::User(p.admin));
    for (zone, tag) in [("Asia/Tashkent\0", "uz"), ("UTC", "uz\u{1b}[31m")] {
        let err = refused(&mut p.e, by, |m| {
            m.create_account(
                org,
                "new@x.example",
                None,
                "Passw0rd!",
                zone,
                tag,
            )
        });
        assert!(matches!(err.kind(), ErrorKind::Invalid { .. }), "{err}");
        assert!(!err.to_string().contains(char::is_control), "{err}");
    }
}
