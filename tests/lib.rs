//! Integration tests: one binary, one module per concern.

mod arbiter;
mod properties;
mod sharing;
