//! Scenario and property tests of projects, visibility and API tokens
//! (the WattMetrics model, `presets::project_portal`).
//!
//! * `scenarios`: one test per statement of the WattMetrics page.
//! * `tokens`: API tokens — the read-only cap, scope, revocation, expiry,
//!   authority over tokens, malformed secrets.
//! * `cap`: a property test of the token cap on random policies.
//! * `secrecy`: secrets appear nowhere but in the value returned once.

mod cap;
mod scenarios;
mod secrecy;
mod support;
mod tokens;
