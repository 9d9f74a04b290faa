//! What a durable store keeps, and the [`Store`] trait its backends
//! implement.

/// One event of the audit log as a store keeps it: its sequence number,
/// the revision after it, and the event itself as JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The event's sequence number (its position in the log, from 0).
    pub seq: u64,
    /// The engine's revision after the event.
    pub revision: u64,
    /// The [`accord::Event`] as JSON.
    pub event: String,
}

/// A snapshot of the engine with an empty retained log: the state after
/// every event before `seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The sequence number of the first event after the checkpoint.
    pub seq: u64,
    /// The revision the checkpoint holds.
    pub revision: u64,
    /// The snapshot, as [`accord::Engine::to_json`] writes it.
    pub snapshot: String,
}

/// A backend that keeps an engine's audit log and its checkpoints.
///
/// The log is keyed by sequence number: [`Store::append`] adds events in
/// one transaction, all or none, and fails with
/// [`StoreError::Conflict`] if another writer has taken one of their
/// sequence numbers — which is how two writers racing for the same
/// revision are told apart: exactly one commits.
pub trait Store: Send {
    /// The newest checkpoint, if any was written.
    ///
    /// # Errors
    ///
    /// The backend's error.
    fn latest_checkpoint(&mut self) -> Result<Option<Checkpoint>, StoreError>;

    /// The sequence number of the oldest checkpoint: where the store's
    /// log starts (0 for a store that began empty; later for one seeded
    /// with a checkpoint of an existing engine). Every event from there
    /// on must be in the store.
    ///
    /// # Errors
    ///
    /// The backend's error.
    fn base_seq(&mut self) -> Result<Option<u64>, StoreError>;

    /// The events from sequence number `from` on, in order.
    ///
    /// # Errors
    ///
    /// The backend's error.
    fn events_from(&mut self, from: u64) -> Result<Vec<Row>, StoreError>;

    /// Appends `rows` (consecutive sequence numbers) in one transaction.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] when a sequence number is taken (nothing
    /// is then appended); the backend's error otherwise (nothing is then
    /// appended either).
    fn append(&mut self, rows: &[Row]) -> Result<(), StoreError>;

    /// Writes `checkpoint`.
    ///
    /// # Errors
    ///
    /// The backend's error.
    fn write_checkpoint(
        &mut self,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError>;
}

/// Why a store operation failed. Whatever the error, the engine in
/// memory is as it was before the call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another writer committed the event at `seq` first. The engine has
    /// caught up with what was committed, where it could; retry the
    /// mutation.
    #[error("another writer committed event `{seq}` first: retry")]
    Conflict {
        /// The sequence number taken.
        seq: u64,
    },
    /// A stored event cannot be read, or does not replay to what it
    /// records (a damaged or tampered row).
    #[error("stored event `{seq}` (revision `{revision}`) refused: {reason}")]
    Damaged {
        /// Its sequence number.
        seq: u64,
        /// The revision its row records.
        revision: u64,
        /// What is wrong.
        reason: String,
    },
    /// A checkpoint does not load.
    #[error("checkpoint at event `{seq}` refused: {source}")]
    Checkpoint {
        /// The sequence number it starts the log at.
        seq: u64,
        /// Why it was refused.
        source: accord::LoadError,
    },
    /// The store's schema cannot move to the application's: the
    /// application's does more than add object types, actions and
    /// default roles (the [`accord::LoadErrorKind::SchemaChange`] names
    /// the change).
    #[error("the store's schema cannot move to this one: {0}")]
    Upgrade(accord::LoadError),
    /// [`DurableEngine::import`](crate::DurableEngine::import): the store
    /// already holds a policy.
    #[error("the store already holds a policy: import into a new one")]
    NotEmpty,
    /// [`DurableEngine::open_existing`](crate::DurableEngine::open_existing):
    /// the store holds no policy.
    #[error("the store holds no policy")]
    Empty,
    /// The store was written by a newer format, or is not an accord
    /// store.
    #[error("unsupported store format: {0}")]
    Format(String),
    /// A PostgreSQL store's namespace (the schema its tables live in) is
    /// not a plain lowercase identifier.
    #[error("invalid namespace `{name}`: {reason}")]
    Namespace {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The engine's schema could not be built.
    #[error("invalid schema: {0}")]
    Schema(#[from] accord::SchemaError),
    /// The database failed (I/O, connection lost, a constraint other than
    /// a taken sequence number).
    #[error("database error: {0}")]
    Database(String),
    /// [`DurableEngine::at_least`](crate::DurableEngine::at_least): the
    /// revision asked for was not reached in time.
    #[error("revision `{wanted}` not reached in time (at `{reached}`)")]
    Stale {
        /// The revision asked for.
        wanted: u64,
        /// The revision reached.
        reached: u64,
    },
}
