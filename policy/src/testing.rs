//! Policy test files.
