//! If the bytes load (as a snapshot), saving and loading again gives the
//! same JSON and identical decisions. Bytes that are not a JSON object
//! are decoded into a random policy instead (`tests/persist/gen.rs`), so
//! the target also explores snapshots the engine itself wrote.
#![no_main]

use accord::Engine;
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../tests/persist/gen.rs"]
mod gen;

/// Above this many (subject, object) pairs the decision comparison is
/// skipped, to keep each run fast on large hostile snapshots.
const MAX_PAIRS: usize = 100_000;

fuzz_target!(|data: &[u8]| {
    let engine = if data.first() == Some(&b'{') {
        let Ok(text) = std::str::from_utf8(data) else { return };
        let Ok(engine) = Engine::from_json(text) else { return };
        engine
    } else {
        gen::build(gen::Mode::Everything, data)
    };
    let json = engine.to_json();
    let again = match Engine::from_json(&json) {
        Ok(e) => e,
        Err(e) => panic!("a saved snapshot does not load: {e}\n{json}"),
    };
    assert_eq!(again.to_json(), json, "save → load → save differs");
    assert_eq!(again.revision(), engine.revision());
    assert!(again.index_is_consistent(), "reloaded index inconsistent");
    let pairs = gen::subjects(&engine).len() * gen::objects(&engine).len();
    if pairs <= MAX_PAIRS {
        assert_eq!(
            gen::decisions(&again, &engine),
            gen::decisions(&engine, &engine),
            "decisions differ after a round trip"
        );
    }
});
