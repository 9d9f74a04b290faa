//! Arbitrary bytes → `Engine::from_json` and `Engine::read_json`: never
//! panics, and both agree on whether the input loads. Whatever loads is
//! consistent (its incremental index equals a rebuild).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The reader takes any bytes; the string form only UTF-8.
    let streamed = accord::Engine::read_json(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let loaded = accord::Engine::from_json(text);
    assert_eq!(loaded.is_ok(), streamed.is_ok(), "string and reader disagree");
    if let Ok(engine) = loaded {
        assert!(engine.index_is_consistent(), "loaded index inconsistent");
    }
});
