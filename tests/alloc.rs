//! `check` allocates nothing.
fn main() {}
