//! Scenario and property tests of sharing (Portfolio Manager model).
