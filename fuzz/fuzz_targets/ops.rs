//! Bytes → a sequence of mutations by arbitrary actors through the public
//! API (`tests/persist/gen.rs`, roles mode: organizations, users, objects,
//! roles, permissions, grants, transfers — no shares). After every attempt
//! the incremental index must equal a rebuild; at the end `check` must
//! equal the naive reference evaluator of `tests/properties/reference.rs`
//! on every (subject, action, object), and the store's invariants hold.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../tests/persist/gen.rs"]
mod gen;

#[allow(dead_code)]
#[path = "../../tests/properties/reference.rs"]
mod reference;

fuzz_target!(|data: &[u8]| {
    let mut step = 0_usize;
    let engine = gen::build_checked(gen::Mode::Roles, data, |e| {
        step += 1;
        assert!(e.index_is_consistent(), "index inconsistent after {step}");
    });
    reference::assert_invariants(&engine);
    for s in gen::subjects(&engine) {
        for a in gen::actions(&engine) {
            for o in gen::objects(&engine) {
                assert_eq!(
                    engine.check(s, a, o).is_allow(),
                    reference::reference_check(&engine, s, a, o),
                    "check({s:?}, {a:?}, {o:?}) differs from the reference"
                );
            }
        }
    }
});
