//! Arbitrary bytes → `Engine::from_json` and `Engine::read_json`, and
//! → bincode, from the slice (`bincode::deserialize`) and streamed from a
//! reader with the input's length as the byte limit (as the crate docs
//! advise): never panics, and the two ways of each format agree on
//! whether the input loads. Whatever loads is consistent (its
//! incremental index equals a rebuild).
//!
//! libFuzzer reports a single allocation above its `-malloc_limit_mb`
//! (by default the 2 GiB RSS limit) as a crash, so a collection that
//! reserves the length a binary input claims is caught too.
#![no_main]

use accord::Engine;
use bincode::Options;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sliced = bincode::deserialize::<Engine>(data);
    let streamed: bincode::Result<Engine> = bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .allow_trailing_bytes()
        .with_limit(data.len() as u64)
        .deserialize_from(data);
    assert_eq!(sliced.is_ok(), streamed.is_ok(), "slice and reader disagree");
    if let Ok(engine) = sliced {
        assert!(engine.index_is_consistent(), "loaded index inconsistent");
    }
    // The reader takes any bytes; the string form only UTF-8.
    let streamed = Engine::read_json(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let loaded = Engine::from_json(text);
    assert_eq!(loaded.is_ok(), streamed.is_ok(), "string and reader disagree");
    if let Ok(engine) = loaded {
        assert!(engine.index_is_consistent(), "loaded index inconsistent");
    }
});
