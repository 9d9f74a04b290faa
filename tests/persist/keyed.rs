//! The keyed audit chain and sealed snapshots ([`AuditKey`]), and
//! [`Loader::verify_log`].
//!
//! Each forgery below is one an attacker who can write the snapshot (or
//! the stored log) can make: the attacker recomputes the chain, with
//! plain SHA-256 or with a key of their own. An unkeyed snapshot accepts
//! the recomputed chain — the documented limit of an unkeyed chain — and
//! a keyed one refuses every forgery.

use accord::{
    Actor, AuditKey, Engine, Event, LoadErrorKind, Loader, Op, Outcome,
    Revision, Timestamp,
};
use bincode::Options;
use serde::Serialize;
use serde_json::{json, Value};

use super::base_engine;

const KEY: AuditKey = AuditKey::from_bytes([42; 32]);
const OTHER: [u8; 32] = [7; 32];

/// The base engine with its history replayed under `KEY`.
fn keyed() -> Engine {
    let (plain, _) = base_engine();
    let schema = plain.schema().clone();
    let builder = accord::Builder::new(schema)
        .config(plain.config().clone())
        .audit_key(KEY);
    let mut engine = builder.build().unwrap();
    for e in plain.events() {
        let _ = engine.apply(e.actor, e.at, e.op.clone());
    }
    assert_eq!(engine.revision(), plain.revision());
    engine
}

/// The digest the engine documents: SHA-256, or HMAC-SHA256 under `key`,
/// over the JSON of the previous digest and the event's other fields.
fn digest(key: Option<&[u8]>, prev: &str, e: &Event) -> String {
    use hmac::Mac;
    use sha2::Digest;
    #[derive(Serialize)]
    struct Body<'a> {
        prev: &'a str,
        seq: u64,
        revision: Revision,
        actor: Actor,
        at: Timestamp,
        op: &'a Op,
        outcome: &'a Outcome,
    }
    let body = serde_json::to_vec(&Body {
        prev,
        seq: e.seq,
        revision: e.revision,
        actor: e.actor,
        at: e.at,
        op: &e.op,
        outcome: &e.outcome,
    })
    .unwrap();
    let bytes: Vec<u8> = match key {
        Some(k) => {
            let mut mac =
                hmac::Hmac::<sha2::Sha256>::new_from_slice(k).unwrap();
            mac.update(&body);
            mac.finalize().into_bytes().to_vec()
        }
        None => sha2::Sha256::digest(&body).to_vec(),
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Recomputes every digest of `events` from `prev` on, as an attacker
/// would after editing them.
fn rechain(events: &mut [Event], mut prev: String, key: Option<&[u8]>) {
    for e in events {
        e.digest = digest(key, &prev, e);
        prev = e.digest.clone();
    }
}

/// `engine`'s snapshot with its events replaced by `events`, and its
/// revision by theirs.
fn with_events(engine: &Engine, events: &[Event]) -> String {
    let mut v: Value = serde_json::from_str(&engine.to_json()).unwrap();
    v["events"] = serde_json::to_value(events).unwrap();
    if let Some(last) = events.last() {
        v["revision"] = json!(last.revision.get());
    }
    v.to_string()
}

fn load_keyed(json: &str) -> Result<Engine, LoadErrorKind> {
    Loader::new().audit_key(KEY).from_json(json).map_err(|e| e.kind().clone())
}

fn assert_refused(json: &str, what: &str) {
    let err = load_keyed(json).map(|_| ()).unwrap_err();
    let tamper = matches!(
        &err,
        LoadErrorKind::Seal
            | LoadErrorKind::Invalid { .. }
            | LoadErrorKind::Replay { .. }
    );
    assert!(tamper, "{what}: unexpected {err:?}");
}

#[test]
fn the_engines_digests_are_the_documented_ones() {
    let (plain, _) = base_engine();
    let mut prev = String::new();
    for e in plain.events() {
        assert_eq!(e.digest, digest(None, &prev, e));
        prev = e.digest.clone();
    }
    let engine = keyed();
    let mut prev = String::new();
    for e in engine.events() {
        assert_eq!(e.digest, digest(Some(&[42; 32]), &prev, e));
        assert_ne!(e.digest, digest(None, &prev, e));
        prev = e.digest.clone();
    }
}

#[test]
fn a_keyed_snapshot_loads_only_with_its_key() {
    let engine = keyed();
    let json = engine.to_json();
    let loaded = load_keyed(&json).unwrap();
    assert_eq!(loaded.to_json(), json);
    assert_eq!(loaded.events(), engine.events());
    assert_eq!(
        Engine::from_json(&json).unwrap_err().kind(),
        &LoadErrorKind::KeyRequired
    );
    let wrong = Loader::new().audit_key(AuditKey::from_bytes(OTHER));
    assert!(wrong.from_json(&json).is_err(), "loaded under another key");
    // Through serde (any format) too.
    let via_serde: Result<Engine, _> = serde_json::from_str(&json);
    assert!(via_serde.is_err());
    // A binary format (bincode reads fields by position) keeps the
    // chain and the seal.
    let bytes = bincode::serialize(&engine).unwrap();
    let opts = bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .allow_trailing_bytes();
    let mut de = bincode::Deserializer::from_slice(&bytes, opts);
    let loaded = Loader::new().audit_key(KEY).deserialize(&mut de).unwrap();
    assert_eq!(loaded.to_json(), json);
    assert!(bincode::deserialize::<Engine>(&bytes).is_err(), "no key");
}

#[test]
fn a_keyed_loader_refuses_an_unkeyed_snapshot() {
    let (plain, _) = base_engine();
    assert_eq!(
        load_keyed(&plain.to_json()).map(|_| ()).unwrap_err(),
        LoadErrorKind::Unkeyed
    );
    // Stripping the chain's description from a keyed snapshot is no way
    // around the key.
    let mut v: Value = serde_json::from_str(&keyed().to_json()).unwrap();
    v.as_object_mut().unwrap().remove("chain");
    assert_eq!(
        load_keyed(&v.to_string()).map(|_| ()).unwrap_err(),
        LoadErrorKind::Unkeyed
    );
}

/// An event re-attributed to System, with the chain recomputed: the
/// unkeyed chain cannot tell; the keyed one refuses it.
#[test]
fn a_reattributed_event_is_refused_only_under_a_key() {
    let (plain, b) = base_engine();
    let mut events = plain.events().to_vec();
    let i = events
        .iter()
        .position(|e| e.actor == Actor::User(b.bob))
        .expect("bob acted");
    events[i].actor = Actor::System;
    rechain(&mut events, String::new(), None);
    assert!(
        Engine::from_json(&with_events(&plain, &events)).is_ok(),
        "the unkeyed chain detects no recomputed forgery"
    );

    let engine = keyed();
    let mut events = engine.events().to_vec();
    events[i].actor = Actor::System;
    rechain(&mut events, String::new(), Some(&OTHER));
    assert_refused(&with_events(&engine, &events), "re-attributed");
    rechain(&mut events, String::new(), None);
    assert_refused(&with_events(&engine, &events), "re-attributed, sha");
}

/// An inserted System `SetPlatformAdmin`, chained with another key.
#[test]
fn an_inserted_event_is_refused_under_a_key() {
    let engine = keyed();
    let user = engine.users().next().map(|(id, _)| id).unwrap();
    let mut events = engine.events().to_vec();
    let last = events.last().unwrap().clone();
    events.push(Event {
        seq: last.seq + 1,
        revision: Revision::default(),
        actor: Actor::System,
        at: last.at,
        op: Op::SetPlatformAdmin { user, admin: true },
        outcome: Outcome::Applied,
        digest: String::new(),
    });
    // The revision must follow the log: one more than the last.
    let mut v = serde_json::to_value(&events).unwrap();
    v[events.len() - 1]["revision"] = json!(last.revision.get() + 1);
    let mut events: Vec<Event> = serde_json::from_value(v).unwrap();
    rechain(&mut events, String::new(), Some(&OTHER));
    assert_refused(&with_events(&engine, &events), "inserted");
}

/// The last events dropped (revision adjusted): every remaining digest
/// is genuine, and the seal, which covers where the log ends, refuses.
#[test]
fn a_dropped_tail_is_refused_by_the_seal() {
    let engine = keyed();
    let mut events = engine.events().to_vec();
    events.pop();
    let json = with_events(&engine, &events);
    assert_eq!(
        load_keyed(&json).map(|_| ()).unwrap_err(),
        LoadErrorKind::Seal
    );
}

/// The state edited apart from the log (a user made platform
/// administrator in the model): the seal refuses it under a key, and
/// `verify_log` refuses it without one.
#[test]
fn a_state_edited_apart_from_its_log_is_refused() {
    let edit = |json: &str| {
        let mut v: Value = serde_json::from_str(json).unwrap();
        let users = v["model"]["users"].as_array_mut().unwrap();
        let user = users.iter_mut().find(|u| u.is_object()).unwrap();
        let obj = user.as_object_mut().unwrap();
        let flag = obj
            .iter_mut()
            .find(|(k, _)| k.contains("admin"))
            .map(|(_, x)| x)
            .expect("a platform-administrator flag");
        *flag = json!(true);
        v.to_string()
    };
    let (plain, _) = base_engine();
    let forged = edit(&plain.to_json());
    assert!(Engine::from_json(&forged).is_ok(), "loads without checks");
    let verified = Loader::new().verify_log(true).from_json(&forged);
    assert_eq!(
        verified.map(|_| ()).unwrap_err().kind(),
        &LoadErrorKind::StateMismatch
    );
    // The genuine snapshot passes the same check.
    let genuine = Loader::new().verify_log(true).from_json(&plain.to_json());
    assert_eq!(genuine.unwrap().to_json(), plain.to_json());

    let engine = keyed();
    let forged = edit(&engine.to_json());
    assert_eq!(
        load_keyed(&forged).map(|_| ()).unwrap_err(),
        LoadErrorKind::Seal
    );
}

/// A drained log: the seal covers where it starts, so a forged
/// `log_base` is refused; `verify_log` cannot replay it and says so.
#[test]
fn a_forged_log_base_is_refused_by_the_seal() {
    let mut engine = keyed();
    let drained = engine.drain_events();
    let t = Timestamp::from_unix_millis(1);
    engine.act(Actor::System, t).create_org("After").unwrap();
    let json = engine.to_json();
    assert_eq!(load_keyed(&json).unwrap().to_json(), json);
    let mut v: Value = serde_json::from_str(&json).unwrap();
    v["log_base"]["revision"] = json!(0);
    v["events"][0]["revision"] = json!(1);
    v["revision"] = json!(1);
    let mut events: Vec<Event> =
        serde_json::from_value(v["events"].clone()).unwrap();
    let base = v["log_base"]["digest"].as_str().unwrap().to_owned();
    rechain(&mut events, base, Some(&OTHER));
    v["events"] = serde_json::to_value(&events).unwrap();
    assert_refused(&v.to_string(), "forged log base");

    let whole = Loader::new().audit_key(KEY).verify_log(true);
    assert_eq!(
        whole.from_json(&json).map(|_| ()).unwrap_err().kind(),
        &LoadErrorKind::LogIncomplete
    );
    // The drained events and the retained ones replay under the key,
    // and under no other.
    let mut all = drained;
    all.extend(engine.events().iter().cloned());
    let builder = || {
        accord::Builder::new(engine.schema().clone())
            .config(engine.config().clone())
    };
    let replayed = Loader::new().audit_key(KEY).replay(builder(), &all);
    assert_eq!(replayed.unwrap().revision(), engine.revision());
    assert!(Engine::replay(builder(), &all).is_err());
    let other = AuditKey::from_bytes(OTHER);
    assert!(Engine::replay(builder().audit_key(other), &all).is_err());
}

#[test]
fn keys_never_show_in_debug_output() {
    let shown = format!("{:?}", AuditKey::from_bytes([0xab; 32]));
    assert!(!shown.contains("171") && !shown.contains("ab"), "{shown}");
    let engine = keyed();
    assert!(!format!("{engine:?}").contains("42, 42"));
}
