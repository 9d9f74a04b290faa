//! A token's secret is shown once, in the value `issue_token` returns, and
//! nowhere else: not in debug output, snapshots, the audit log or error
//! messages. The engine keeps only its SHA-256, and still verifies it after
//! a snapshot round trip.

#![cfg(test)]

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::support::*;

fn sha256_hex(s: &str) -> String {
    let mut out = String::new();
    for b in Sha256::digest(s.as_bytes()) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[test]
fn secrets_appear_nowhere_but_where_they_are_issued() {
    let mut p = Portal::new();
    let expires = Timestamp::from_unix_millis(T.as_unix_millis() + 60_000);
    let mut issued: Vec<(TokenId, Secret)> = Vec::new();
    let mut receipts = String::new();
    for (user, scope, exp) in [
        (p.vic, Some(p.project), None),
        (p.vic, None, Some(expires)),
        (p.pat, Some(p.dashboard), None),
        (p.owner, None, None),
        (p.olga, Some(p.second), Some(expires)),
    ] {
        let r =
            p.e.act(Actor::User(user), T)
                .issue_token(user, scope, "nightly export", exp)
                .expect("issued");
        let _ = write!(receipts, "{r:?}");
        issued.push(r.value);
    }
    // One revoked, so that both states are on record.
    let revoked = issued[1].0;
    ok(&mut p.e, Actor::User(p.vic), |m| m.revoke_token(revoked));

    // Errors about tokens, and their records in the log.
    let mut errors = Vec::new();
    let (vic_token, pat_token) = (issued[0].0, issued[2].0);
    errors.push(refused(&mut p.e, Actor::User(p.olga), |m| {
        m.revoke_token(vic_token)
    }));
    errors.push(refused(&mut p.e, Actor::User(p.vic), |m| {
        m.revoke_token(pat_token)
    }));
    errors.push(refused(&mut p.e, Actor::User(p.vic), |m| {
        m.revoke_token(revoked)
    }));
    errors.push(refused(&mut p.e, Actor::User(p.owner), |m| {
        m.issue_token(p.vic, None, "not yours", None)
    }));
    errors.push(refused(&mut p.e, Actor::User(p.vic), |m| {
        m.issue_token(p.vic, None, "", None)
    }));

    let mut hay: Vec<(&str, String)> = vec![
        ("engine debug", format!("{:?}", p.e)),
        ("engine pretty debug", format!("{:#?}", p.e)),
        ("snapshot", p.e.to_json()),
        ("events", serde_json::to_string(p.e.events()).expect("json")),
        ("events debug", format!("{:?}", p.e.events())),
        ("receipts debug", receipts),
    ];
    for (id, secret) in &issued {
        hay.push(("token debug", format!("{:?}", p.e.token(*id))));
        hay.push(("secret debug", format!("{secret:?}")));
        hay.push(("secret pretty debug", format!("{secret:#?}")));
    }
    for u in [p.vic, p.pat, p.owner, p.olga] {
        let listed: Vec<_> = p.e.tokens_of(u).collect();
        hay.push(("tokens_of", format!("{listed:?}")));
    }
    hay.push(("scoped", format!("{:?}", p.e.tokens_scoped_to(p.project))));
    for e in &errors {
        hay.push(("error display", e.to_string()));
        hay.push(("error debug", format!("{e:?}")));
    }
    for (id, _) in &issued {
        let why = p.e.explain(Subject::Token(*id), p.update, p.dataset);
        hay.push(("explain", format!("{why:?} {}", p.e.render(&why))));
    }

    for (id, secret) in &issued {
        let s = secret.expose();
        let random = s.rsplit('_').next().expect("random part");
        assert!(random.len() >= 32);
        assert_ne!(format!("{secret:?}"), s);
        for (what, text) in &hay {
            assert!(!text.contains(s), "secret of {id} in {what}");
            assert!(!text.contains(random), "random part of {id} in {what}");
        }
    }

    // The log records the SHA-256 of each secret, nothing more.
    let hashes: Vec<String> =
        p.e.events()
            .iter()
            .filter(|ev| ev.applied())
            .filter_map(|ev| match &ev.op {
                Op::IssueToken { hash, .. } => Some(hash.clone()),
                _ => None,
            })
            .collect();
    let expected: Vec<String> =
        issued.iter().map(|(_, s)| sha256_hex(s.expose())).collect();
    assert_eq!(hashes, expected);

    // A snapshot and a replay keep the tokens working (and the revoked one
    // revoked), from the hashes alone.
    let loaded = Engine::from_json(&p.e.to_json()).expect("loads");
    let replayed = Engine::replay(presets::project_portal(), p.e.events())
        .expect("replays");
    for (id, secret) in &issued {
        let want =
            if *id == revoked { None } else { Some(Subject::Token(*id)) };
        assert_eq!(p.e.authenticate(secret.expose(), T), want);
        assert_eq!(loaded.authenticate(secret.expose(), T), want);
        assert_eq!(replayed.authenticate(secret.expose(), T), want);
    }
}
