//! Property tests of snapshots and replay on random policies from
//! [`super::gen`].

use accord::{Engine, Event, ObjectId};
use proptest::prelude::*;
use serde_json::Value;

use super::gen::{self, Mode};

/// Cases per property; each case builds a whole random policy.
const CASES: u32 = 48;

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..320)
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(Mode::Roles), Just(Mode::Everything)]
}

/// Asserts that `loaded` is `engine` again: same snapshot, revision, log,
/// a consistent index and the same decision on every question.
fn assert_same(engine: &Engine, loaded: &Engine) {
    assert_eq!(loaded.revision(), engine.revision());
    assert_eq!(loaded.events(), engine.events());
    assert!(loaded.index_is_consistent());
    for (id, object) in engine.objects() {
        let again = loaded.object(id).expect("the object is loaded");
        assert!(
            object.children().eq(again.children()),
            "children of {id} listed in another order"
        );
    }
    assert_eq!(
        gen::decisions(loaded, engine),
        gen::decisions(engine, engine),
        "decisions differ"
    );
    assert_eq!(loaded.to_json(), engine.to_json());
}

/// `v` with the keys of every JSON object in reverse order (sorted, if
/// `serde_json` keeps maps sorted), as a tool that rewrites JSON may.
fn reorder_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let entries: Vec<(String, Value)> = map.into_iter().collect();
            let mut out = serde_json::Map::new();
            for (k, x) in entries.into_iter().rev() {
                out.insert(k, reorder_keys(x));
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(reorder_keys).collect())
        }
        other => other,
    }
}

/// A damaged copy of `json`, chosen by `how` and `at`.
fn damage(json: &str, schema: &str, how: u8, at: usize, byte: u8) -> Vec<u8> {
    let mut bytes = json.as_bytes().to_vec();
    let len = bytes.len().max(1);
    let at = at % len;
    match how % 6 {
        0 => {
            if let Some(b) = bytes.get_mut(at) {
                *b ^= byte | 1;
            }
        }
        1 => bytes.truncate(at),
        2 => {
            bytes.insert(at, byte);
        }
        3 => {
            let end = (at + usize::from(byte) + 1).min(bytes.len());
            bytes.drain(at..end);
        }
        _ => {
            // Structural damage: delete, or replace with something of
            // another shape, the `at`-th field or element of the tree
            // (outside the schema, which `Value` would reorder).
            let Ok(mut value) = serde_json::from_str::<Value>(json) else {
                return bytes;
            };
            if let Some(obj) = value.as_object_mut() {
                let schema = obj.remove("schema");
                let mut n = at % 4096;
                edit_nth(&mut value, &mut n, how % 6 == 4, byte);
                if let (Some(obj), Some(s)) = (value.as_object_mut(), schema) {
                    obj.insert("schema".to_owned(), s);
                }
            }
            bytes = super::compose(&value, schema).into_bytes();
        }
    }
    bytes
}

/// Walks `v` depth first; at the `n`-th member or element, deletes it
/// (`delete`) or replaces it with a value picked by `byte`.
fn edit_nth(v: &mut Value, n: &mut usize, delete: bool, byte: u8) -> bool {
    let replacement = || match byte % 6 {
        0 => Value::Null,
        1 => Value::from(u64::MAX),
        2 => Value::from(-1),
        3 => Value::from("x"),
        4 => Value::Array(Vec::new()),
        _ => Value::from(u64::from(byte) * 7),
    };
    match v {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                if *n == 0 {
                    if delete {
                        map.remove(&k);
                    } else {
                        map.insert(k, replacement());
                    }
                    return true;
                }
                *n -= 1;
                if let Some(child) = map.get_mut(&k) {
                    if edit_nth(child, n, delete, byte) {
                        return true;
                    }
                }
            }
            false
        }
        Value::Array(items) => {
            for i in 0..items.len() {
                if *n == 0 {
                    if delete {
                        items.remove(i);
                    } else if let Some(item) = items.get_mut(i) {
                        *item = replacement();
                    }
                    return true;
                }
                *n -= 1;
                if let Some(child) = items.get_mut(i) {
                    if edit_nth(child, n, delete, byte) {
                        return true;
                    }
                }
            }
            false
        }
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Saving and loading (JSON, and bincode) gives back the same engine:
    /// the same snapshot, revision and log, and the same decision for every user handle ever
    /// created (and one never created) and `Anonymous`, on every action
    /// and every object handle.
    #[test]
    fn round_trip_preserves_every_decision(
        mode in mode(),
        bytes in bytes(),
    ) {
        let engine = gen::build(mode, &bytes);
        let json = engine.to_json();
        let loaded = Engine::from_json(&json).unwrap();
        assert_same(&engine, &loaded);
        // The serde entry points agree with `from_json`.
        let via_serde: Engine = serde_json::from_str(&json).unwrap();
        assert_same(&engine, &via_serde);
        // JSON tools may reorder object keys: a snapshot whose keys were
        // all reordered loads into an engine that decides the same.
        let v: Value = serde_json::from_str(&json).unwrap();
        let reordered = Engine::from_json(&reorder_keys(v).to_string())
            .expect("a snapshot with reordered keys loads");
        assert_eq!(reordered.revision(), engine.revision());
        assert_eq!(reordered.events(), engine.events());
        assert!(reordered.index_is_consistent());
        assert_eq!(
            gen::decisions(&reordered, &engine),
            gen::decisions(&engine, &engine),
            "decisions differ after reordering keys"
        );
        // A binary format that reads fields by position works too.
        let bytes = bincode::serialize(&engine).unwrap();
        let via_binary: Engine = bincode::deserialize(&bytes).unwrap();
        assert_same(&engine, &via_binary);
    }

    /// Replaying the audit log — straight from memory, and after the log
    /// went through JSON on its own — on an empty engine reproduces the
    /// state exactly.
    #[test]
    fn replay_reproduces_the_state(mode in mode(), bytes in bytes()) {
        let engine = gen::build(mode, &bytes);
        let replayed =
            Engine::replay(gen::builder(mode, &bytes), engine.events())
                .unwrap();
        assert_same(&engine, &replayed);
        let log = serde_json::to_string(engine.events()).unwrap();
        let log: Vec<Event> = serde_json::from_str(&log).unwrap();
        let replayed =
            Engine::replay(gen::builder(mode, &bytes), &log).unwrap();
        assert_same(&engine, &replayed);
    }

    /// Draining the log at any point keeps the hash chain: the events
    /// that follow are the ones the undrained engine logged (digests
    /// included), a snapshot of the drained engine loads into the same
    /// state, the drained batch followed by the retained events replays
    /// it, and a snapshot whose recorded chain start is altered is
    /// refused when events follow it.
    #[test]
    fn draining_keeps_the_chain(
        mode in mode(),
        bytes in bytes(),
        cut in any::<prop::sample::Index>(),
    ) {
        let engine = gen::build(mode, &bytes);
        let full = engine.events();
        let k = cut.index(full.len() + 1);
        let (head, tail) = full.split_at(k);
        let mut drained =
            Engine::replay(gen::builder(mode, &bytes), head).unwrap();
        let stored = drained.drain_events();
        prop_assert_eq!(stored.as_slice(), head);
        for e in tail {
            let _ = drained.apply(e.actor, e.at, e.op.clone());
        }
        prop_assert_eq!(drained.events(), tail);
        prop_assert_eq!(drained.revision(), engine.revision());
        let loaded = Engine::from_json(&drained.to_json()).unwrap();
        assert_same(&drained, &loaded);
        let whole: Vec<Event> = stored.iter().chain(tail).cloned().collect();
        let replayed =
            Engine::replay(gen::builder(mode, &bytes), &whole).unwrap();
        prop_assert_eq!(replayed.to_json(), engine.to_json());
        // The recorded chain start is checked against the first retained
        // event (with none retained there is nothing to check it with).
        if k > 0 && !tail.is_empty() {
            let json = drained.to_json();
            let digest = &head[k - 1].digest;
            let forged = json.replacen(
                &format!("\"digest\":\"{digest}\""),
                &format!("\"digest\":\"{}\"", "0".repeat(64)),
                1,
            );
            prop_assert_ne!(&forged, &json);
            prop_assert!(Engine::from_json(&forged).is_err());
        }
    }

    /// Loading a damaged snapshot never panics. It is refused with a
    /// `LoadError` whose message follows the style rules, or — when the
    /// damage happened to leave a valid snapshot — loads into an engine
    /// that is consistent and saves and loads again unchanged.
    #[test]
    fn damaged_snapshots_never_panic(
        mode in mode(),
        bytes in prop::collection::vec(any::<u8>(), 0..160),
        how in any::<u8>(),
        at in any::<usize>(),
        byte in any::<u8>(),
    ) {
        let engine = gen::build(mode, &bytes);
        let json = engine.to_json();
        let schema = serde_json::to_string(engine.schema()).unwrap();
        let damaged = damage(&json, &schema, how, at, byte);
        let Ok(text) = std::str::from_utf8(&damaged) else {
            // `from_json` takes a `&str`; a byte flip can leave invalid
            // UTF-8, which the type system already refuses.
            return Ok(());
        };
        match Engine::from_json(text) {
            Ok(loaded) => {
                assert!(loaded.index_is_consistent());
                let again = Engine::from_json(&loaded.to_json()).unwrap();
                assert_eq!(again.to_json(), loaded.to_json());
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(!msg.is_empty() && !msg.contains('\n'), "{msg}");
            }
        }
    }
}

/// Cases of [`every_reachable_state_loads_back`], which saves and loads
/// after every step: `PROPTEST_CASES` if set, else this many.
const STEP_CASES: u32 = 24;

fn step_cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(STEP_CASES)
}

/// Builds the policy of `bytes`, saving and loading after every attempt:
/// each snapshot loads into an engine with the same revision, log,
/// consistent index and snapshot; the last one also decides the same
/// everywhere.
fn assert_every_step_loads_back(mode: Mode, bytes: &[u8]) {
    let mut step = 0_usize;
    let engine = gen::build_checked(mode, bytes, |e| {
        step += 1;
        let json = e.to_json();
        let loaded = Engine::from_json(&json).unwrap_or_else(|err| {
            panic!("step {step}: the snapshot does not load: {err}")
        });
        assert_eq!(loaded.revision(), e.revision(), "step {step}");
        assert_eq!(loaded.events(), e.events(), "step {step}");
        assert!(loaded.index_is_consistent(), "step {step}");
        assert_eq!(loaded.to_json(), json, "step {step}");
    });
    let loaded = Engine::from_json(&engine.to_json()).unwrap();
    assert_same(&engine, &loaded);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(step_cases()))]

    /// Every state reachable through the mutation API loads back: after
    /// each attempt of a random sequence (any handle picked as an
    /// argument, see `gen`), the engine's snapshot loads into the same
    /// engine.
    #[test]
    fn every_reachable_state_loads_back(mode in mode(), bytes in bytes()) {
        assert_every_step_loads_back(mode, &bytes);
    }
}

/// Regression (found by `every_reachable_state_loads_back` before
/// `create_object` refused parents that are not data objects): the
/// system created an object under the object of a role, and the
/// snapshot failed to load ("invalid, repeated or dangling parent").
/// The test also checks that the bytes still decode to that attempt.
#[test]
fn an_object_under_a_role_object_is_refused_and_loads_back() {
    let mut bytes = vec![0; 53];
    bytes.extend([
        6, 0, 0, 67, 0, 0, 0, 14, 0, 0, 0, 0, 84, 0, 0, 0, 0, 0, 24, 0, 0, 0,
        76, 0, 0, 156, 0, 0, 0, 218, 0, 0, 120, 0, 144, 0, 0, 1, 52, 192,
    ]);
    assert_every_step_loads_back(Mode::Roles, &bytes);
    let engine = gen::build(Mode::Roles, &bytes);
    let reached = engine.events().iter().any(|e| match &e.op {
        accord::Op::CreateObject { parents, .. } => parents.iter().any(|p| {
            engine.object(*p).is_some_and(|o| {
                matches!(o.kind(), accord::ObjectKind::Role(_))
            })
        }),
        _ => false,
    });
    assert!(reached, "the bytes no longer decode to the attempt");
}

/// Regression (found by `round_trip_preserves_every_decision`): under
/// `require_terms` a new user's personal role is granted before the
/// organization accepts the terms, and loading refused the engine's own
/// snapshot with "grantee's organization has not accepted the terms".
#[test]
fn personal_role_of_an_org_without_terms_round_trips() {
    let mut engine = accord::presets::arbiter().build().unwrap();
    let t = accord::Timestamp::default();
    let mut sys = engine.act(accord::Actor::System, t);
    let org = sys.create_org("Org A").unwrap().value;
    let user = sys.create_user(org, "ann@a.example").unwrap().value;
    assert!(!engine.org(org).unwrap().accepted_terms());
    assert_eq!(engine.user(user).unwrap().grants().count(), 1);
    let loaded = Engine::from_json(&engine.to_json()).unwrap();
    assert_same(&engine, &loaded);
}

/// An object's children are listed in handle order, live and after a
/// load alike, including a child linked after younger siblings.
#[test]
fn children_are_listed_in_handle_order_live_and_loaded() {
    let (mut engine, base) = super::base_engine();
    let t = accord::Timestamp::default();
    let mut sys = engine.act(accord::Actor::System, t);
    let org = engine_org(&sys, base.site);
    let mut meters = vec![base.meter];
    for k in ["meter-2", "meter-3", "meter-4"] {
        meters.push(
            sys.create_object(org, "meter", k, &[base.site]).unwrap().value,
        );
    }
    let other = sys.create_object(org, "site", "plant-y", &[]).unwrap().value;
    // Linked under `other` youngest first, then the oldest joins `site`
    // again after an unlink: every list ends up in handle order.
    for m in meters.iter().rev() {
        sys.link_object(*m, other).unwrap();
    }
    sys.unlink_object(meters[0], base.site).unwrap();
    sys.link_object(meters[0], base.site).unwrap();
    let listed = |e: &Engine, o: ObjectId| -> Vec<ObjectId> {
        e.object(o).unwrap().children().collect()
    };
    assert_eq!(listed(&engine, base.site), meters);
    assert_eq!(listed(&engine, other), meters);
    let loaded = Engine::from_json(&engine.to_json()).unwrap();
    assert_eq!(listed(&loaded, base.site), meters);
    assert_eq!(listed(&loaded, other), meters);
    assert_same(&engine, &loaded);
}

fn engine_org(sys: &accord::Mutator<'_>, object: ObjectId) -> accord::OrgId {
    sys.engine().object(object).unwrap().org()
}

/// The snapshot goes through a binary, non-self-describing serde format
/// (bincode) and back: the same engine, before and after a drain.
#[test]
fn snapshots_round_trip_through_a_binary_format() {
    for drain in [false, true] {
        let mut engine = gen::build(Mode::Everything, &[0, 1, 2, 3, 4, 5]);
        if drain {
            let _ = engine.drain_events();
            let t = accord::Timestamp::from_unix_millis(1);
            let _ = engine.act(accord::Actor::System, t).create_org("After");
        }
        let bytes = bincode::serialize(&engine).unwrap();
        let loaded: Engine = bincode::deserialize(&bytes).unwrap();
        assert_eq!(loaded.to_json(), engine.to_json(), "drain {drain}");
        assert!(loaded.index_is_consistent());
    }
}
