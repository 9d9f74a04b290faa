//! Integration tests of `accord-policy`.

mod load;
mod presets;
mod roundtrip;
mod testing;
