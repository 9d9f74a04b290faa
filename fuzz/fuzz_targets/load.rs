//! Arbitrary bytes → `Engine::from_json`: never panics. Whatever loads is
//! consistent (its incremental index equals a rebuild).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(engine) = accord::Engine::from_json(text) {
        assert!(engine.index_is_consistent(), "loaded index inconsistent");
    }
});
