//! What differs between two policy files.
