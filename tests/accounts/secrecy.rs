//! Passwords and their hashes are never shown: not by `Debug` of the
//! engine or of a profile, not in the serialized audit log, not in any
//! error message. The log withholds hashes, so a replayed log restores
//! accounts without passwords; a snapshot keeps them verifiable.

use super::support::*;

const PASSWORDS: [&str; 4] =
    ["Qz7vWm2pLx9t", "Rk4sNd8yHb3c", "Jp6fTg1wXe5u", "Weak5"];

/// Asserts that `text` contains no password of [`PASSWORDS`] and no hash
/// of `hashes` (nor the digest part of one).
fn assert_clean(what: &str, text: &str, hashes: &[String]) {
    for pw in PASSWORDS {
        assert!(!text.contains(pw), "{what} shows password `{pw}`");
    }
    for h in hashes {
        assert!(!text.contains(h.as_str()), "{what} shows a hash");
        let digest = h.rsplit('$').next().expect("PHC digest");
        assert!(!text.contains(digest), "{what} shows a hash digest");
    }
    assert!(!text.contains("$argon2"), "{what} shows a PHC string");
}

/// A platform where accounts were created, edited (with and without a
/// new password) and refused in every way a password can travel.
fn busy_platform() -> (Platform, UserId, UserId, Vec<String>) {
    let mut p = Platform::new();
    let [first, second, third, weak] = PASSWORDS;
    let (org, by) = (p.platform, Actor::User(p.admin));
    let a = ok(&mut p.e, by, |m| {
        m.create_account(org, "a@domain.com", Some("A"), first, "UTC", "en")
    });
    let b = ok(&mut p.e, by, |m| {
        m.create_account(
            org,
            "b@domain.com",
            None,
            second,
            "Asia/Tashkent",
            "uz",
        )
    });
    ok(&mut p.e, by, |m| {
        m.edit_account(a, "a@domain.com", Some("A."), third, "UTC", "en")
    });
    ok(&mut p.e, by, |m| {
        m.edit_account(b, "B@domain.com", None, "", "UTC", "ru")
    });
    // Refusals carrying a password: weak, duplicate, bad time zone,
    // non-administrator.
    let mut errors = Vec::new();
    errors.push(refused(&mut p.e, by, |m| {
        m.create_account(org, "c@domain.com", None, weak, "UTC", "en")
    }));
    errors.push(refused(&mut p.e, by, |m| {
        m.create_account(org, "A@DOMAIN.COM", None, first, "UTC", "en")
    }));
    errors.push(refused(&mut p.e, by, |m| {
        m.create_account(org, "c@domain.com", None, first, "Mars/Base", "en")
    }));
    errors.push(refused(&mut p.e, by, |m| {
        m.edit_account(a, "a@domain.com", None, weak, "UTC", "en")
    }));
    errors.push(refused(&mut p.e, Actor::User(p.clerk), |m| {
        m.edit_account(a, "a@domain.com", None, second, "UTC", "en")
    }));
    let messages: Vec<String> = errors
        .iter()
        .flat_map(|e| {
            [e.to_string(), format!("{e:?}"), format!("{:?}", e.kind())]
        })
        .collect();
    assert_eq!(
        errors.iter().map(|e| e.code()).collect::<Vec<_>>(),
        ["weak_password", "duplicate", "invalid", "weak_password", "denied"]
    );
    assert!(p.e.verify_password(a, third));
    assert!(p.e.verify_password(b, second));
    (p, a, b, messages)
}

#[test]
fn passwords_and_hashes_never_show() {
    let (p, a, b, messages) = busy_platform();
    let hashes = stored_hashes(&p.e);
    // admin, clerk, a, b — the hashes being looked for are real.
    assert_eq!(hashes.len(), 4, "{hashes:?}");

    assert_clean("Debug of the engine", &format!("{:?}", p.e), &hashes);
    assert_clean(
        "pretty Debug of the engine",
        &format!("{:#?}", p.e),
        &hashes,
    );
    for u in [a, b, p.admin, p.clerk] {
        let user = p.e.user(u).expect("user");
        let profile = user.profile().expect("profile");
        assert!(profile.has_password());
        assert_clean("Debug of a profile", &format!("{profile:?}"), &hashes);
        assert_clean("Debug of a user", &format!("{user:?}"), &hashes);
    }
    let log = serde_json::to_string(p.e.events()).expect("log serializes");
    assert_clean("the serialized log", &log, &hashes);
    assert!(log.contains("<redacted>"), "the log marks withheld hashes");
    assert_clean("Debug of the log", &format!("{:?}", p.e.events()), &hashes);
    for m in &messages {
        assert_clean("an error message", m, &hashes);
    }
    for e in p.e.events() {
        if let Outcome::Refused(r) = &e.outcome {
            assert_clean("a logged refusal", &r.message, &hashes);
        }
    }
    // The snapshot keeps the hashes (to stay verifiable), never the
    // passwords.
    let snapshot = p.e.to_json();
    for pw in PASSWORDS {
        assert!(!snapshot.contains(pw), "snapshot shows `{pw}`");
    }
    let loaded = Engine::from_json(&snapshot).expect("snapshot loads");
    assert_clean("Debug of a loaded engine", &format!("{loaded:?}"), &hashes);
}

/// The documented behaviour (`accord::accounts`): the log withholds
/// hashes, so replaying it restores every account — e-mail, name, time
/// zone, language, grants — with its password unset; a snapshot keeps
/// passwords verifiable.
#[test]
fn replay_withholds_passwords_and_snapshots_keep_them() {
    let (p, a, b, _) = busy_platform();
    let [_, second, third, _] = PASSWORDS;

    let snapshot = Engine::from_json(&p.e.to_json()).expect("snapshot loads");
    for (u, pw) in [(a, third), (b, second), (p.admin, ADMIN_PW)] {
        assert!(snapshot.verify_password(u, pw));
        assert!(!snapshot.verify_password(u, "wrong-passw0rd"));
        assert!(snapshot
            .user(u)
            .and_then(|u| u.profile())
            .is_some_and(|p| p.has_password()));
    }
    assert!(!snapshot.verify_password(a, PASSWORDS[0]), "replaced password");

    // The log as stored (serialized and read back), then replayed.
    let json = serde_json::to_string(p.e.events()).expect("log serializes");
    let stored: Vec<accord::Event> =
        serde_json::from_str(&json).expect("log reads back");
    let from_stored =
        Engine::replay(presets::metering(), &stored).expect("log replays");
    check_replayed(&p.e, &from_stored, &[(a, third), (b, second)]);

    // The log in memory, replayed directly.
    let replayed = Engine::replay(presets::metering(), p.e.events())
        .expect("log replays");
    check_replayed(&p.e, &replayed, &[(a, third), (b, second)]);
}

fn check_replayed(
    original: &Engine,
    replayed: &Engine,
    accounts: &[(UserId, &str)],
) {
    assert_eq!(replayed.revision(), original.revision());
    assert_eq!(replayed.events(), original.events());
    for (u, pw) in
        accounts.iter().copied().chain([(original_admin(original), ADMIN_PW)])
    {
        let before = original.user(u).expect("user");
        let after = replayed.user(u).expect("account replayed");
        assert_eq!(after.email(), before.email());
        let (pb, pa) = (
            before.profile().expect("profile"),
            after.profile().expect("profile replayed"),
        );
        assert_eq!(pa.name(), pb.name());
        assert_eq!(pa.time_zone(), pb.time_zone());
        assert_eq!(pa.language(), pb.language());
        assert_eq!(after.is_platform_admin(), before.is_platform_admin());
        assert_eq!(after.grants().count(), before.grants().count());
        assert!(
            !pa.has_password(),
            "replayed account {} has a password: hashes must be withheld \
             from the log",
            after.email()
        );
        assert!(!replayed.verify_password(u, pw));
    }
}

fn original_admin(e: &Engine) -> UserId {
    e.user_by_email(ADMIN_EMAIL).expect("admin")
}
