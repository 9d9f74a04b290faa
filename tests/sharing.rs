//! Scenario and property tests of sharing (Portfolio Manager model).
//!
//! * `levels`: the four share kinds (Read Only, Full, Custom, Exchange
//!   Data), per-type and per-meter levels, `None` with annual metrics, the
//!   derived operation rules and public shares (seed 001; reference §2.1,
//!   §2.2).
//! * `ceiling`: share-forward and its ceiling (reference §4).
//! * `edit_rights`: who edits or removes whose share, on EPA's chain
//!   Jack → Mary → Bill → Jane → Nick → Emma, and re-sharing (§1, §2.3).
//! * `lifecycle`: acceptance, connections, ownership transfer, deletion
//!   (§5, §6, §7).
//! * `downstream`: `Keep`, `Cascade` and `Restrict` (§4, §7; grant-option
//!   §1).
//! * `observe`: audit events and revisions, `explain` with the share
//!   chain, the share tree, `allowed_actions` and the lookups.
//! * `props`: property tests against a naive reference.

#![cfg(test)]

mod support;

mod ceiling;
mod downstream;
mod edit_rights;
mod levels;
mod lifecycle;
mod observe;
mod props;
