//! The embedded store: one SQLite file in WAL mode.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::store::{Checkpoint, Row, Store, StoreError};

/// The store format this crate writes; a file of a newer one is refused.
const FORMAT: i64 = 1;

/// A [`Store`] in one SQLite file, in WAL mode with `synchronous=FULL`:
/// a commit that returned survives a crash of the process and of the
/// machine.
///
/// Several processes may open the same file; their appends are
/// serialized by SQLite, and one that lost a race for a sequence number
/// gets [`StoreError::Conflict`].
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file and its tables if
    /// need be.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the file cannot be opened or is not
    /// a database; [`StoreError::Format`] when it is a store of a newer
    /// format.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path).map_err(db)?;
        SqliteStore::init(conn)
    }

    /// How long a write waits for another connection's lock on the file
    /// before it fails with [`StoreError::Database`] (default 10 s).
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] if SQLite refuses the setting.
    pub fn busy_timeout(
        self,
        timeout: std::time::Duration,
    ) -> Result<SqliteStore, StoreError> {
        self.conn.busy_timeout(timeout).map_err(db)?;
        Ok(self)
    }

    /// A store in memory only, for tests and examples.
    ///
    /// # Errors
    ///
    /// As [`SqliteStore::open`].
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::init(Connection::open_in_memory().map_err(db)?)
    }

    fn init(conn: Connection) -> Result<SqliteStore, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db)?;
        // `journal_mode` answers with the mode in force (`memory` for an
        // in-memory database).
        let _: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(db)?;
        conn.execute_batch(
            "PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS accord_meta (
                 key TEXT PRIMARY KEY, value INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS accord_events (
                 seq INTEGER PRIMARY KEY,
                 revision INTEGER NOT NULL,
                 event TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS accord_checkpoints (
                 seq INTEGER PRIMARY KEY,
                 revision INTEGER NOT NULL,
                 snapshot TEXT NOT NULL);
             INSERT OR IGNORE INTO accord_meta (key, value)
                 VALUES ('format', 1);",
        )
        .map_err(db)?;
        let format: i64 = conn
            .query_row(
                "SELECT value FROM accord_meta WHERE key = 'format'",
                [],
                |r| r.get(0),
            )
            .map_err(db)?;
        if format != FORMAT {
            return Err(StoreError::Format(format!(
                "store format `{format}`, this build reads `{FORMAT}`"
            )));
        }
        Ok(SqliteStore { conn })
    }
}

impl Store for SqliteStore {
    fn latest_checkpoint(&mut self) -> Result<Option<Checkpoint>, StoreError> {
        self.conn
            .query_row(
                "SELECT seq, revision, snapshot FROM accord_checkpoints
                 ORDER BY seq DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(db)?
            .map(|(seq, revision, snapshot)| {
                Ok(Checkpoint {
                    seq: unsigned(seq)?,
                    revision: unsigned(revision)?,
                    snapshot,
                })
            })
            .transpose()
    }

    fn base_seq(&mut self) -> Result<Option<u64>, StoreError> {
        let base: Option<i64> = self
            .conn
            .query_row("SELECT min(seq) FROM accord_checkpoints", [], |r| {
                r.get(0)
            })
            .map_err(db)?;
        base.map(unsigned).transpose()
    }

    fn events_from(&mut self, from: u64) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, revision, event FROM accord_events
                 WHERE seq >= ?1 ORDER BY seq",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![signed(from)?], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, revision, event) = row.map_err(db)?;
            out.push(Row {
                seq: unsigned(seq)?,
                revision: unsigned(revision)?,
                event,
            });
        }
        Ok(out)
    }

    fn append(&mut self, rows: &[Row]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO accord_events (seq, revision, event)
                     VALUES (?1, ?2, ?3)",
                )
                .map_err(db)?;
            for row in rows {
                let inserted = stmt.execute(params![
                    signed(row.seq)?,
                    signed(row.revision)?,
                    row.event
                ]);
                match inserted {
                    Ok(_) => {}
                    Err(e) if is_constraint(&e) => {
                        return Err(StoreError::Conflict { seq: row.seq });
                    }
                    Err(e) => return Err(db(e)),
                }
            }
        }
        // Dropping the transaction on an error above rolls it back.
        tx.commit().map_err(db)
    }

    fn write_checkpoint(
        &mut self,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO accord_checkpoints
                     (seq, revision, snapshot) VALUES (?1, ?2, ?3)",
                params![
                    signed(checkpoint.seq)?,
                    signed(checkpoint.revision)?,
                    checkpoint.snapshot
                ],
            )
            .map(|_| ())
            .map_err(db)
    }
}

fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ConstraintViolation)
    )
}

#[cold]
fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

fn signed(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n)
        .map_err(|_| StoreError::Database(format!("`{n}` too large")))
}

fn unsigned(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n)
        .map_err(|_| StoreError::Format(format!("negative number `{n}`")))
}
