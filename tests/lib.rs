//! Integration tests: one binary, one module per concern.

#[cfg(feature = "accounts")]
mod accounts;
mod arbiter;
mod display;
mod persist;
mod projects;
mod properties;
mod shared;
mod sharing;
