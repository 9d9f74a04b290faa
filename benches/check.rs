//! Benchmarks (placeholder until the workload lands).
fn main() {}
