//! [`DurableEngine`]: an engine whose every mutation is committed to a
//! [`Store`] before it returns.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use accord::{
    ActionId, Actor, AuditKey, Builder, Decision, Engine, Event, Limits,
    Loader, MutationError, Mutator, ObjectId, Op, Reader, Revision, Shared,
    Subject, Timestamp,
};

use crate::store::{Checkpoint, Row, Store, StoreError};

/// How a [`DurableEngine`] loads and checkpoints.
#[derive(Clone, Debug)]
pub struct Options {
    limits: Limits,
    audit_key: Option<AuditKey>,
    checkpoint_every: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            limits: Limits::default(),
            audit_key: None,
            checkpoint_every: 10_000,
        }
    }
}

impl Options {
    /// The default options: [`Limits::default`], no audit key, a
    /// checkpoint every 10,000 events.
    #[must_use]
    pub fn new() -> Options {
        Options::default()
    }

    /// The limits checkpoints are loaded under (see [`Loader::limits`]);
    /// give the ones the engine is built with.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Options {
        self.limits = limits;
        self
    }

    /// Keys the audit chain (see [`AuditKey`]): a new store's engine is
    /// built with it, and an existing store opens only with it.
    #[must_use]
    pub fn audit_key(mut self, key: AuditKey) -> Options {
        self.audit_key = Some(key);
        self
    }

    /// Writes a checkpoint after a write once this many events were
    /// logged since the last one (opening then replays at most about as
    /// many). `0` writes none but those [`DurableEngine::checkpoint`]
    /// asks for.
    #[must_use]
    pub fn checkpoint_every(mut self, events: usize) -> Options {
        self.checkpoint_every = events;
        self
    }

    fn loader(&self) -> Loader {
        let loader = Loader::new().limits(self.limits.clone());
        match &self.audit_key {
            Some(key) => loader.audit_key(key.clone()),
            None => loader,
        }
    }
}

/// Why a single durable mutation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The engine refused the mutation; the refusal is committed to the
    /// audit log like any event, and nothing else changed.
    #[error(transparent)]
    Refused(MutationError),
    /// The store failed (or another writer won the race); nothing
    /// changed in memory, nor in the store — unless the connection was
    /// lost during the commit, whose outcome is then unknown: retrying
    /// the same call (same actor, time and op) finds its own rows if it
    /// did commit, and returns as committed without applying it twice.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How far a [`DurableEngine`] has followed its store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The revision of the published engine.
    pub revision: Revision,
    /// The sequence number of the next event the engine expects.
    pub next_seq: u64,
    /// When the engine last read the store for other writers' events.
    pub last_caught_up: Option<Instant>,
    /// How many events that read brought in.
    pub last_caught_up_events: usize,
    /// The sequence number after the newest event this engine knows the
    /// store to hold: from its own reads and commits, and from the
    /// notifications passed to [`DurableEngine::notice`] (a
    /// [`Follower`](crate::Follower) passes them). Never below
    /// `next_seq`.
    pub store_next_seq: u64,
}

impl Progress {
    /// How many events the store is known to hold that the engine has
    /// not applied yet: a replica's lag, in events.
    #[must_use]
    pub fn behind(&self) -> u64 {
        self.store_next_seq.saturating_sub(self.next_seq)
    }
}

/// An [`Engine`] whose every mutation is committed to a [`Store`] before
/// it returns, shared by many reader threads.
///
/// Reads (`check`, [`DurableEngine::snapshot`], readers) run on an
/// in-memory engine exactly as with [`Shared`]: the same
/// allocation-free `check`, never waiting for a write. A write runs its
/// mutations on a private copy, commits the events they logged (the
/// refusals too) to the store in one transaction — a batch is one
/// transaction, so group commit is a matter of batching — and only then
/// publishes the copy. If the commit fails, the copy is dropped: memory
/// and store stay exactly as they were, and the error says why.
///
/// Opening loads the newest checkpoint and replays the events after it,
/// each of which must reproduce its recorded outcome, revision and digest
/// (the hash chain), or the open is refused naming the row.
///
/// # Example
///
/// ```
/// use accord::{presets, Actor, Decision, Subject, Timestamp};
/// use accord_store::{DurableEngine, SqliteStore};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("policy.db");
/// let t = Timestamp::from_unix_millis(0);
/// let (ann, site) = {
///     let policy = DurableEngine::open(SqliteStore::open(&path)?, presets::arbiter())?;
///     policy.act(Actor::System, t, |sys| -> Result<_, accord::MutationError> {
///         let org = sys.create_org("Utility X")?.value;
///         sys.accept_terms(org)?;
///         let ann = sys.create_user(org, "ann@x.example")?.value;
///         let read_all = sys.engine().role_by_name(org, "Read all").ok_or(accord::ErrorKind::Invalid { reason: "no role".into() })?;
///         sys.grant_role(ann, read_all, &[])?;
///         let site = sys.create_object(org, "sites", "plant", &[])?.value;
///         Ok((ann, site))
///     })??
/// };
/// // Reopened: the committed state is back.
/// let policy = DurableEngine::open(SqliteStore::open(&path)?, presets::arbiter())?;
/// let read = policy.snapshot().schema().action("read").ok_or("no action")?;
/// assert_eq!(policy.check(Subject::User(ann), read, site), Decision::Allow);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct DurableEngine<S: Store> {
    shared: Shared,
    store: Mutex<S>,
    options: Options,
    caught_up: Mutex<(Option<Instant>, usize)>,
    /// The highest `seq + 1` passed to [`DurableEngine::notice`].
    noticed: AtomicU64,
}

impl<S: Store> DurableEngine<S> {
    /// Opens `store` with the default [`Options`]: loads its newest
    /// checkpoint and replays the events after it; an empty store starts
    /// from the engine `builder` makes, whose schema and config are
    /// written as its first checkpoint.
    ///
    /// When `builder`'s schema is a newer version of the store's that
    /// only adds object types, actions and default roles, the engine moves
    /// to it ([`Engine::upgrade_schema`]) and a checkpoint records the
    /// move. Upgrade every instance of a shared store together: an
    /// instance still running the older schema must not follow events
    /// written under the newer one (reopened, it is refused with
    /// [`StoreError::Upgrade`], the newer schema being no addition to its
    /// own).
    ///
    /// # Errors
    ///
    /// A [`StoreError`]: the database's, or a checkpoint or event that
    /// does not load or replay (naming it).
    pub fn open(store: S, builder: Builder) -> Result<Self, StoreError> {
        DurableEngine::open_with(store, builder, Options::default())
    }

    /// Moves `engine` into `store`, which must be empty, and opens it:
    /// the way from a policy kept in snapshot files to a durable one.
    /// The engine's retained audit events are written to the store, then
    /// a checkpoint of its state, where the store's log starts (its
    /// base); events drained from the engine before are not in the
    /// store.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotEmpty`] when the store is not empty; the store's
    /// error; as [`DurableEngine::open`].
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{presets, Actor, Engine, Timestamp};
    /// use accord_store::{DurableEngine, Options, SqliteStore};
    ///
    /// let mut engine = presets::arbiter().build()?;
    /// engine.act(Actor::System, Timestamp::default()).create_org("Utility X")?;
    /// let json = engine.to_json(); // as kept in a snapshot file
    ///
    /// let engine = Engine::from_json(&json)?;
    /// let policy = DurableEngine::import(SqliteStore::in_memory()?, engine, Options::new())?;
    /// assert!(policy.snapshot().org_by_name("Utility X").is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn import(
        mut store: S,
        mut engine: Engine,
        options: Options,
    ) -> Result<Self, StoreError> {
        let empty = store.latest_checkpoint()?.is_none()
            && store.events_from(0)?.is_empty();
        if !empty {
            return Err(StoreError::NotEmpty);
        }
        let rows = rows_of(engine.events());
        if !rows.is_empty() {
            store.append(&rows)?;
        }
        let _ = engine.drain_events();
        store.write_checkpoint(&Checkpoint {
            seq: engine.next_event_seq(),
            revision: engine.revision().get(),
            snapshot: engine.to_json(),
        })?;
        let builder = Builder::new(engine.schema().clone())
            .config(engine.config().clone());
        DurableEngine::open_with(store, builder, options)
    }

    /// [`DurableEngine::open`] with `options`.
    ///
    /// # Errors
    ///
    /// As [`DurableEngine::open`].
    pub fn open_with(
        store: S,
        builder: Builder,
        options: Options,
    ) -> Result<Self, StoreError> {
        DurableEngine::open_inner(store, Some(builder), options)
    }

    /// Opens a store that holds a policy, under the schema it holds (no
    /// upgrade): for tools that read a store without building the
    /// application's engine.
    ///
    /// # Errors
    ///
    /// [`StoreError::Empty`] when the store is empty; as
    /// [`DurableEngine::open`].
    pub fn open_existing(
        store: S,
        options: Options,
    ) -> Result<Self, StoreError> {
        DurableEngine::open_inner(store, None, options)
    }

    fn open_inner(
        mut store: S,
        builder: Option<Builder>,
        options: Options,
    ) -> Result<Self, StoreError> {
        let newer = builder.as_ref().and_then(|b| b.schema().cloned());
        let checkpoint = match (store.latest_checkpoint()?, builder) {
            (Some(checkpoint), _) => checkpoint,
            (None, None) => return Err(StoreError::Empty),
            (None, Some(builder)) => {
                let builder = match &options.audit_key {
                    Some(key) => builder.audit_key(key.clone()),
                    None => builder,
                };
                let engine = builder.build()?;
                let genesis = Checkpoint {
                    seq: engine.next_event_seq(),
                    revision: engine.revision().get(),
                    snapshot: engine.to_json(),
                };
                store.write_checkpoint(&genesis)?;
                // Another instance may have written its own first; the
                // store keeps one per sequence number.
                store.latest_checkpoint()?.unwrap_or(genesis)
            }
        };
        let mut engine = options
            .loader()
            .from_json(&checkpoint.snapshot)
            .map_err(|source| StoreError::Checkpoint {
                seq: checkpoint.seq,
                source,
            })?;
        let consistent = engine.next_event_seq() == checkpoint.seq
            && engine.revision().get() == checkpoint.revision
            && engine.events().is_empty();
        if !consistent {
            return Err(StoreError::Format(format!(
                "checkpoint at event `{}` does not hold what its row says",
                checkpoint.seq
            )));
        }
        // Unless the checkpoint is where the store's log starts, the row
        // before it must be the event its chain ends with: a log cut or
        // edited behind the newest checkpoint is refused, not continued
        // with a gap.
        let base = store.base_seq()?.unwrap_or(checkpoint.seq);
        let joined = checkpoint.seq > base;
        let from = if joined { checkpoint.seq - 1 } else { checkpoint.seq };
        let mut rows = store.events_from(from)?;
        if joined {
            let first = rows.first();
            let joins = first.is_some_and(|r| {
                r.seq == from
                    && serde_json::from_str::<Event>(&r.event).is_ok_and(|e| {
                        e.seq == from
                            && e.revision.get() == checkpoint.revision
                            && e.digest == engine.chain_head()
                    })
            });
            if !joins {
                return Err(StoreError::Damaged {
                    seq: from,
                    revision: first
                        .map_or(checkpoint.revision, |r| r.revision),
                    reason: "missing, or not the event the checkpoint after \
                             it ends with"
                        .to_owned(),
                });
            }
            rows.remove(0);
        }
        replay_rows(&mut engine, &rows)?;
        // The events replay under the schema they were written with; then
        // the engine moves to the application's, if that only adds to it,
        // and a checkpoint records the move, so that later opens replay
        // what follows under the new schema.
        if let Some(schema) = newer.filter(|s| s != engine.schema()) {
            engine.upgrade_schema(schema).map_err(StoreError::Upgrade)?;
            let _ = engine.drain_events();
            store.write_checkpoint(&Checkpoint {
                seq: engine.next_event_seq(),
                revision: engine.revision().get(),
                snapshot: engine.to_json(),
            })?;
        }
        Ok(DurableEngine {
            shared: Shared::new(engine),
            store: Mutex::new(store),
            options,
            caught_up: Mutex::new((Some(Instant::now()), rows.len())),
            noticed: AtomicU64::new(0),
        })
    }

    /// The published engine (see [`Shared::snapshot`]).
    #[must_use]
    pub fn snapshot(&self) -> Arc<Engine> {
        self.shared.snapshot()
    }

    /// [`Engine::check`] on the published engine.
    #[must_use]
    pub fn check(
        &self,
        subject: Subject,
        action: ActionId,
        object: ObjectId,
    ) -> Decision {
        self.shared.check(subject, action, object)
    }

    /// A per-thread reading handle (see [`Shared::reader`]).
    #[must_use]
    pub fn reader(&self) -> Reader<'_> {
        self.shared.reader()
    }

    /// The published engine's revision.
    #[must_use]
    pub fn revision(&self) -> Revision {
        self.shared.snapshot().revision()
    }

    /// Applies one op and commits its event.
    ///
    /// # Errors
    ///
    /// [`WriteError::Refused`] when the engine refused it (the refusal is
    /// committed to the log), [`WriteError::Store`] when the commit
    /// failed (nothing changed).
    pub fn apply(
        &self,
        actor: Actor,
        at: Timestamp,
        op: Op,
    ) -> Result<Revision, WriteError> {
        self.write(|e| e.apply(actor, at, op))?.map_err(WriteError::Refused)
    }

    /// Applies `ops` in order and commits all their events in one
    /// transaction; each op's own result is returned in order.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the commit failed: then none of the ops
    /// changed anything.
    pub fn apply_batch(
        &self,
        ops: impl IntoIterator<Item = (Actor, Timestamp, Op)>,
    ) -> Result<Vec<Result<Revision, MutationError>>, StoreError> {
        self.write(|e| {
            ops.into_iter()
                .map(|(actor, at, op)| e.apply(actor, at, op))
                .collect()
        })
    }

    /// Runs `f` with a [`Mutator`] for `actor` at `at`, and commits every
    /// event its mutations logged in one transaction.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the commit failed: then nothing `f` did
    /// changed anything.
    pub fn act<R>(
        &self,
        actor: Actor,
        at: Timestamp,
        f: impl FnOnce(&mut Mutator<'_>) -> R,
    ) -> Result<R, StoreError> {
        self.write(|e| f(&mut e.act(actor, at)))
    }

    /// Runs `f` on a private copy, commits the events it logged, then
    /// publishes the copy; on a conflict, catches up before returning
    /// the error.
    fn write<R>(
        &self,
        f: impl FnOnce(&mut Engine) -> R,
    ) -> Result<R, StoreError> {
        let result = self.shared.try_write(|e| {
            let before = e.events().len();
            let out = f(e);
            let rows = rows_of(e.events().get(before..).unwrap_or_default());
            if !rows.is_empty() {
                let mut store = self.lock_store();
                match store.append(&rows) {
                    // The store holds exactly these rows: this very write
                    // committed before, and its answer was lost (a
                    // connection dropped during the commit). It is
                    // committed; applying it again would duplicate it.
                    Err(StoreError::Conflict { .. })
                        if holds(&mut *store, &rows) => {}
                    other => other?,
                }
            }
            Ok((out, e.events().len()))
        });
        match result {
            Ok((out, retained)) => {
                let every = self.options.checkpoint_every;
                if every > 0 && retained >= every {
                    // The write is committed; a failed checkpoint only
                    // means a longer replay at the next open.
                    let _ = self.checkpoint();
                }
                Ok(out)
            }
            Err(StoreError::Conflict { seq }) => {
                let _ = self.catch_up();
                Err(StoreError::Conflict { seq })
            }
            Err(e) => Err(e),
        }
    }

    /// Reads the events other writers committed since this engine's last
    /// one, replays them (each must reproduce its recorded outcome,
    /// revision and digest) and publishes the result; returns how many
    /// were applied.
    ///
    /// # Errors
    ///
    /// The store's error, or [`StoreError::Damaged`] naming the first
    /// event that does not replay; the engine is then unchanged.
    pub fn catch_up(&self) -> Result<usize, StoreError> {
        let next = self.shared.snapshot().next_event_seq();
        let rows = self.lock_store().events_from(next)?;
        if !rows.is_empty() {
            self.shared.try_write(|e| {
                // A write may have been committed since the read: skip
                // what the engine has already.
                let have = e.next_event_seq();
                let new: Vec<Row> =
                    rows.iter().filter(|r| r.seq >= have).cloned().collect();
                replay_rows(e, &new)
            })?;
        }
        let mut caught =
            self.caught_up.lock().unwrap_or_else(PoisonError::into_inner);
        *caught = (Some(Instant::now()), rows.len());
        Ok(rows.len())
    }

    /// The published engine once its revision is at least `revision`
    /// (read-your-writes across instances: pass the revision a write on
    /// another instance returned), catching up from the store — never
    /// waiting on a notification alone.
    ///
    /// # Errors
    ///
    /// [`StoreError::Stale`] when `timeout` passes first; the store's
    /// error.
    pub fn at_least(
        &self,
        revision: Revision,
        timeout: Duration,
    ) -> Result<Arc<Engine>, StoreError> {
        let deadline = Instant::now() + timeout;
        loop {
            let snap = self.shared.snapshot();
            if snap.revision() >= revision {
                return Ok(snap);
            }
            if Instant::now() >= deadline {
                return Err(StoreError::Stale {
                    wanted: revision.get(),
                    reached: snap.revision().get(),
                });
            }
            drop(snap);
            if self.catch_up()? == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }

    /// Records that the store holds the event `seq` (a notification
    /// said so), which [`Progress::store_next_seq`] then shows until the
    /// engine has caught up with it. Only a hint: nothing is read.
    pub fn notice(&self, seq: u64) {
        let _ =
            self.noticed.fetch_max(seq.saturating_add(1), Ordering::Relaxed);
    }

    /// How far this engine has followed its store.
    #[must_use]
    pub fn progress(&self) -> Progress {
        let snap = self.shared.snapshot();
        let (last_caught_up, last_caught_up_events) =
            *self.caught_up.lock().unwrap_or_else(PoisonError::into_inner);
        Progress {
            revision: snap.revision(),
            next_seq: snap.next_event_seq(),
            last_caught_up,
            last_caught_up_events,
            store_next_seq: self
                .noticed
                .load(Ordering::Relaxed)
                .max(snap.next_event_seq()),
        }
    }

    /// Writes a checkpoint of the published state, so the next open
    /// replays only the events after it, and drops the events before it
    /// from memory (they stay in the store).
    ///
    /// # Errors
    ///
    /// The store's error; the engine is then unchanged.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.shared.try_write(|e| {
            let seq = e.next_event_seq();
            let revision = e.revision().get();
            let _ = e.drain_events();
            let snapshot = e.to_json();
            self.lock_store().write_checkpoint(&Checkpoint {
                seq,
                revision,
                snapshot,
            })
        })
    }

    fn lock_store(&self) -> std::sync::MutexGuard<'_, S> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The rows that store `events`.
fn rows_of(events: &[Event]) -> Vec<Row> {
    events
        .iter()
        .map(|e| Row {
            seq: e.seq,
            revision: e.revision.get(),
            // An event serializes to JSON whatever it holds.
            event: serde_json::to_string(e).unwrap_or_default(),
        })
        .collect()
}

/// Whether `store` holds exactly `rows` (same sequence numbers,
/// revisions and event text); a read that fails counts as no.
fn holds<S: Store>(store: &mut S, rows: &[Row]) -> bool {
    let Some(first) = rows.first() else {
        return true;
    };
    store
        .events_from(first.seq)
        .is_ok_and(|stored| stored.get(..rows.len()) == Some(rows))
}

/// Replays stored rows on `engine`: each must be the next event and
/// reproduce itself exactly (outcome, revision, digest).
fn replay_rows(engine: &mut Engine, rows: &[Row]) -> Result<(), StoreError> {
    for row in rows {
        let damaged = |reason: &str| StoreError::Damaged {
            seq: row.seq,
            revision: row.revision,
            reason: reason.to_owned(),
        };
        let event: Event = serde_json::from_str(&row.event)
            .map_err(|e| damaged(&format!("does not read: {e}")))?;
        if event.seq != row.seq || event.revision.get() != row.revision {
            return Err(damaged("its row and its event disagree"));
        }
        if event.seq != engine.next_event_seq() {
            return Err(damaged("not the next event: the log has a gap"));
        }
        let _ = engine.apply(event.actor, event.at, event.op.clone());
        if engine.events().last() != Some(&event) {
            return Err(damaged(
                "does not replay to its recorded outcome, revision and \
                 digest: tampered with, or written by another schema",
            ));
        }
    }
    Ok(())
}
