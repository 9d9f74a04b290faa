//! If the bytes load (as a snapshot), saving and loading again gives the
//! same JSON and identical decisions. Bytes that are not a JSON object
//! are decoded into a random policy instead (`tests/persist/gen.rs`), and
//! the snapshot is saved and loaded after every attempt: every state the
//! mutation API reaches must load back, with the same JSON, revision and
//! a consistent index.
#![no_main]

use accord::Engine;
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../tests/persist/gen.rs"]
mod gen;

/// Above this many (subject, object) pairs the decision comparison is
/// skipped, to keep each run fast on large hostile snapshots.
const MAX_PAIRS: usize = 100_000;

/// Saves `engine`, loads the snapshot and checks that it is the same
/// engine again; returns the loaded engine.
fn round_trip(engine: &Engine, step: usize) -> Engine {
    let json = engine.to_json();
    let again = match Engine::from_json(&json) {
        Ok(e) => e,
        Err(e) => {
            panic!("step {step}: a saved snapshot does not load: {e}\n{json}")
        }
    };
    assert_eq!(again.to_json(), json, "step {step}: save → load → save");
    assert_eq!(again.revision(), engine.revision(), "step {step}");
    assert!(again.index_is_consistent(), "step {step}: index inconsistent");
    again
}

fuzz_target!(|data: &[u8]| {
    let engine = if data.first() == Some(&b'{') {
        let Ok(text) = std::str::from_utf8(data) else { return };
        let Ok(engine) = Engine::from_json(text) else { return };
        engine
    } else {
        let mut step = 0_usize;
        gen::build_checked(gen::Mode::Everything, data, |e| {
            step += 1;
            round_trip(e, step);
        })
    };
    let again = round_trip(&engine, usize::MAX);
    let pairs = gen::subjects(&engine).len() * gen::objects(&engine).len();
    if pairs <= MAX_PAIRS {
        assert_eq!(
            gen::decisions(&again, &engine),
            gen::decisions(&engine, &engine),
            "decisions differ after a round trip"
        );
    }
});
