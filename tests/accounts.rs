//! Scenario and property tests of accounts and bound roles (the IoT
//! metering platform of seed 003, `presets::metering`, feature
//! `accounts`).
//!
//! * `managing`: one test per statement about account management — only
//!   the platform administrator, unique e-mail logins, password rules and
//!   Argon2id hashes, time zone and language, editing, deletion.
//! * `access`: the access level plus modules, the bindings the Service
//!   Company Administrator requires, the seed's example workflow.
//! * `bindings`: a property test that a bound grant never reaches an
//!   object outside the intersection of its bindings.
//! * `secrecy`: passwords and hashes never show; replay and snapshots.
//! * `loading`: hostile time zones, languages and password hashes in a
//!   snapshot are refused, naming the field.

mod access;
mod bindings;
mod loading;
mod managing;
mod secrecy;
mod support;
