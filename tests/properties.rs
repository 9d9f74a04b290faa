//! Property tests against a naive reference evaluator.
