//! Durable storage for [`accord`] policy engines.
//!
//! A [`DurableEngine`] owns an [`accord::Engine`] and a [`Store`]: every
//! mutation returns only after its audit events are committed to the
//! store, and a commit that fails leaves memory exactly as it was. `check`
//! runs on the in-memory engine, unchanged. Opening loads the newest
//! checkpoint and replays the events after it, verifying that each
//! reproduces its recorded outcome and digest.
//!
//! Two stores ship:
//!
//! * [`SqliteStore`] (feature `sqlite`): one file, WAL mode, the embedded
//!   default — `SqliteStore::open("policy.db")` creates or reopens it.
//! * [`PgStore`] (feature `postgres`): a PostgreSQL database shared by
//!   many application instances. Events are keyed by sequence number, so
//!   of two writers racing for the same one exactly one commits and the
//!   other gets [`StoreError::Conflict`], catches up and may retry;
//!   followers learn of new events by LISTEN/NOTIFY and always read them
//!   with a catch-up query; [`DurableEngine::at_least`] waits for a
//!   revision (read-your-writes across instances).
//!
//! A [`Follower`] keeps a replica up to date: a thread that waits on a
//! [`Waiter`] — a [`PgListener`]'s notifications, or [`Polling`] — and
//! catches up after every wake-up and at least once per interval, so a
//! lost notification only delays it. [`DurableEngine::progress`] shows
//! how far behind it is.
//!
//! Both keep the whole audit log; checkpoints only bound how much of it
//! an open replays.
//!
//! For the hot path, take a [`DurableEngine::reader`] per thread: its
//! `check` costs one atomic load on top of [`accord::Engine::check`],
//! while [`DurableEngine::check`] takes the published engine each time.
//! The `service` example shows an axum service on either store, and the
//! `durable` example a policy kept in one SQLite file.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod durable;
mod follow;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;

pub use crate::durable::{DurableEngine, Options, Progress, WriteError};
pub use crate::follow::{Follower, Polling, Waiter, Wake};
#[cfg(feature = "postgres")]
pub use crate::postgres::{PgListener, PgStore};
#[cfg(feature = "sqlite")]
pub use crate::sqlite::SqliteStore;
pub use crate::store::{Checkpoint, Row, Store, StoreError};
