//! The shared store: a PostgreSQL database that many application
//! instances write to and follow.

use std::fmt;
use std::time::{Duration, Instant};

use ::postgres::error::SqlState;
use ::postgres::fallible_iterator::FallibleIterator;
use ::postgres::{Client, Config, NoTls, Statement};

use crate::follow::{Waiter, Wake};
use crate::store::{Checkpoint, Row, Store, StoreError};

/// The store format this crate writes; a namespace of a newer one is
/// refused.
const FORMAT: i64 = 1;

/// The longest namespace: its notification channel, `accord_` and the
/// namespace, must fit PostgreSQL's 63-byte identifiers.
const MAX_NAMESPACE: usize = 63 - "accord_".len();

/// How long a connection attempt may take unless the URL says otherwise.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`Store`] in a PostgreSQL database, for many application instances
/// on one database.
///
/// Its tables live in a schema of their own, the *namespace*, created
/// if missing: `accord_events` (the audit log, keyed by sequence
/// number), `accord_checkpoints` and `accord_meta` (the format). Several
/// engines — threads, processes, machines — may open the same
/// namespace: of two writers racing for one sequence number exactly one
/// commits, and the other gets [`StoreError::Conflict`].
///
/// An append is one statement, hence one transaction: all its rows or
/// none, and in the same transaction a `NOTIFY` on the channel
/// `accord_<namespace>` with the last sequence number as payload, which
/// PostgreSQL delivers only once the transaction has committed.
/// [`PgListener`] receives those.
///
/// The connection is remade lazily: a call that fails on a lost
/// connection returns [`StoreError::Database`], and the next call
/// connects again. An append whose connection was lost while it
/// committed may have committed or not; a
/// [`DurableEngine`](crate::DurableEngine) retrying the same call finds
/// its own rows if it did, and returns as committed without applying
/// it twice.
///
/// # Example
///
/// ```no_run
/// use accord::{presets, Actor, Op, Timestamp};
/// use accord_store::{DurableEngine, PgStore};
///
/// let url = "postgres://postgres@127.0.0.1:5432/test";
/// let store = PgStore::connect(url, "policy")?;
/// let policy = DurableEngine::open(store, presets::arbiter())?;
/// let t = Timestamp::from_unix_millis(0);
/// policy.apply(Actor::System, t, Op::CreateOrg { name: "X".into() })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PgStore {
    config: Config,
    namespace: String,
    channel: String,
    conn: Option<Conn>,
}

/// A live connection and its prepared statements.
struct Conn {
    client: Client,
    append: Statement,
    events_from: Statement,
    first_taken: Statement,
    latest_checkpoint: Statement,
    base_seq: Statement,
    write_checkpoint: Statement,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("namespace", &self.namespace)
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database at `url` (a `postgres://` URL or a
    /// `key=value` connection string) and opens the store in the schema
    /// `namespace`, creating the schema and its tables if need be.
    ///
    /// Unless `url` names one, the connection's `application_name` is
    /// `accord_<namespace>`, and its connect timeout 10 s.
    ///
    /// # Errors
    ///
    /// [`StoreError::Namespace`] when `namespace` is not a lowercase
    /// identifier (letters `a`–`z`, digits and `_`, not starting with a
    /// digit nor with `pg_`, at most 56 bytes); [`StoreError::Database`]
    /// when `url` does not parse or the database cannot be reached or
    /// refuses; [`StoreError::Format`] when the namespace holds a store
    /// of another format.
    pub fn connect(url: &str, namespace: &str) -> Result<PgStore, StoreError> {
        let config = config(url, namespace, "")?;
        let mut store = PgStore {
            config,
            namespace: namespace.to_owned(),
            channel: channel(namespace),
            conn: None,
        };
        let mut client = store.config.connect(NoTls).map_err(|e| db(&e))?;
        init(&mut client, namespace)?;
        store.conn = Some(prepare(client, namespace)?);
        Ok(store)
    }

    /// The schema the store's tables live in.
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The channel appends notify: `accord_<namespace>`.
    #[must_use]
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// The live connection, made again if the last one was lost.
    fn conn(&mut self) -> Result<&mut Conn, StoreError> {
        if self.conn.as_ref().is_some_and(|c| c.client.is_closed()) {
            self.conn = None;
        }
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => prepare(
                self.config.connect(NoTls).map_err(|e| db(&e))?,
                &self.namespace,
            )?,
        };
        Ok(self.conn.insert(conn))
    }

    /// The error of a failed call; the connection is dropped, so that
    /// the next call makes a new one (after a lost connection, or an
    /// error that may have left this one in an unknown state).
    #[cold]
    fn failed(&mut self, e: &::postgres::Error) -> StoreError {
        self.conn = None;
        db(e)
    }
}

impl Store for PgStore {
    fn latest_checkpoint(&mut self) -> Result<Option<Checkpoint>, StoreError> {
        let conn = self.conn()?;
        let found = conn.client.query_opt(&conn.latest_checkpoint, &[]);
        let row = match found {
            Ok(row) => row,
            Err(e) => return Err(self.failed(&e)),
        };
        row.map(|r| {
            Ok(Checkpoint {
                seq: unsigned(r.try_get(0).map_err(|e| db(&e))?)?,
                revision: unsigned(r.try_get(1).map_err(|e| db(&e))?)?,
                snapshot: r.try_get(2).map_err(|e| db(&e))?,
            })
        })
        .transpose()
    }

    fn base_seq(&mut self) -> Result<Option<u64>, StoreError> {
        let conn = self.conn()?;
        let found = conn.client.query_one(&conn.base_seq, &[]);
        let row = match found {
            Ok(row) => row,
            Err(e) => return Err(self.failed(&e)),
        };
        let base: Option<i64> = row.try_get(0).map_err(|e| db(&e))?;
        base.map(unsigned).transpose()
    }

    fn events_from(&mut self, from: u64) -> Result<Vec<Row>, StoreError> {
        let from = signed(from)?;
        let conn = self.conn()?;
        let rows = match conn.client.query(&conn.events_from, &[&from]) {
            Ok(rows) => rows,
            Err(e) => return Err(self.failed(&e)),
        };
        rows.iter()
            .map(|r| {
                Ok(Row {
                    seq: unsigned(r.try_get(0).map_err(|e| db(&e))?)?,
                    revision: unsigned(r.try_get(1).map_err(|e| db(&e))?)?,
                    event: r.try_get(2).map_err(|e| db(&e))?,
                })
            })
            .collect()
    }

    fn append(&mut self, rows: &[Row]) -> Result<(), StoreError> {
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(());
        };
        let seqs = rows
            .iter()
            .map(|r| signed(r.seq))
            .collect::<Result<Vec<_>, _>>()?;
        let revisions = rows
            .iter()
            .map(|r| signed(r.revision))
            .collect::<Result<Vec<_>, _>>()?;
        let events: Vec<&str> =
            rows.iter().map(|r| r.event.as_str()).collect();
        let (low, high) = (signed(first.seq)?, signed(last.seq)?);
        let channel = self.channel.clone();
        let conn = self.conn()?;
        let appended = conn
            .client
            .execute(&conn.append, &[&seqs, &revisions, &events, &channel]);
        match appended {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                // The statement, and so its transaction, failed whole:
                // nothing was appended. Name the first number taken.
                let taken = conn
                    .client
                    .query_one(&conn.first_taken, &[&low, &high])
                    .ok()
                    .and_then(|r| r.try_get::<_, Option<i64>>(0).ok())
                    .flatten()
                    .and_then(|seq| u64::try_from(seq).ok());
                Err(StoreError::Conflict { seq: taken.unwrap_or(first.seq) })
            }
            Err(e) => Err(self.failed(&e)),
        }
    }

    fn write_checkpoint(
        &mut self,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        let seq = signed(checkpoint.seq)?;
        let revision = signed(checkpoint.revision)?;
        let conn = self.conn()?;
        let written = conn.client.execute(
            &conn.write_checkpoint,
            &[&seq, &revision, &checkpoint.snapshot],
        );
        match written {
            Ok(_) => Ok(()),
            Err(e) => Err(self.failed(&e)),
        }
    }
}

/// Waits for the notifications a namespace's appends send, on a
/// connection of its own (`LISTEN accord_<namespace>`).
///
/// A notification only says that events were committed — the payload
/// is the last one's sequence number — and notifications sent while the
/// listener was disconnected are lost: a follower reads the events with
/// [`DurableEngine::catch_up`](crate::DurableEngine::catch_up) after
/// every wait, notified or not (see [`Follower`](crate::Follower)).
///
/// The connection is remade on the next wait after it was lost.
pub struct PgListener {
    config: Config,
    channel: String,
    client: Option<Client>,
}

impl fmt::Debug for PgListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgListener")
            .field("channel", &self.channel)
            .field("connected", &self.client.is_some())
            .finish_non_exhaustive()
    }
}

impl PgListener {
    /// Connects to the database at `url` and listens on the channel of
    /// `namespace`: every append committed after this returns is
    /// notified, while the connection lasts.
    ///
    /// Unless `url` names one, the connection's `application_name` is
    /// `accord_<namespace>_listener`.
    ///
    /// # Errors
    ///
    /// As [`PgStore::connect`] (the namespace need not exist yet).
    pub fn connect(
        url: &str,
        namespace: &str,
    ) -> Result<PgListener, StoreError> {
        let config = config(url, namespace, "_listener")?;
        let channel = channel(namespace);
        let client = listen(&config, &channel)?;
        Ok(PgListener { config, channel, client: Some(client) })
    }

    /// The channel listened on: `accord_<namespace>`.
    #[must_use]
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Waits up to `timeout` for a notification: [`Wake::Notified`]
    /// with the highest sequence number of those received, or
    /// [`Wake::Timeout`]. After a lost connection, connects and listens
    /// again and returns [`Wake::Missed`] at once: what was notified
    /// meanwhile is lost, so catch up.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the connection is lost, or cannot
    /// be made again; the next wait tries again.
    pub fn wait(&mut self, timeout: Duration) -> Result<Wake, StoreError> {
        let client = match self.client.take() {
            Some(client) if !client.is_closed() => client,
            _ => {
                self.client = Some(listen(&self.config, &self.channel)?);
                return Ok(Wake::Missed);
            }
        };
        let client = self.client.insert(client);
        let started = Instant::now();
        let first = client.notifications().timeout_iter(timeout).next();
        let mut newest = match first {
            Ok(Some(note)) => seq_of(&note),
            Ok(None) => {
                // The iterator ends early only when the connection did.
                if client.is_closed() || started.elapsed() < timeout {
                    self.client = None;
                    return Err(StoreError::Database(
                        "the listener's connection was closed".into(),
                    ));
                }
                return Ok(Wake::Timeout);
            }
            Err(e) => {
                self.client = None;
                return Err(db(&e));
            }
        };
        // Take every notification already received, without waiting.
        loop {
            let next = client.notifications().iter().next();
            match next {
                Ok(Some(note)) => newest = newest.max(seq_of(&note)),
                Ok(None) => break,
                Err(e) => {
                    self.client = None;
                    return Err(db(&e));
                }
            }
        }
        Ok(Wake::Notified(newest))
    }
}

impl Waiter for PgListener {
    fn wait(&mut self, timeout: Duration) -> Result<Wake, StoreError> {
        PgListener::wait(self, timeout)
    }
}

/// The sequence number a notification carries; `None` if its payload is
/// not one (someone else notified the channel).
fn seq_of(note: &::postgres::Notification) -> Option<u64> {
    note.payload().parse().ok()
}

/// Connects with `config` and listens on `channel`.
fn listen(config: &Config, channel: &str) -> Result<Client, StoreError> {
    let mut client = config.connect(NoTls).map_err(|e| db(&e))?;
    client
        .batch_execute(&format!("LISTEN \"{channel}\""))
        .map_err(|e| db(&e))?;
    Ok(client)
}

/// The connection configuration for `url`, after checking `namespace`.
fn config(
    url: &str,
    namespace: &str,
    suffix: &str,
) -> Result<Config, StoreError> {
    check_namespace(namespace)?;
    let mut config: Config = url.parse().map_err(|e| db(&e))?;
    if config.get_application_name().is_none() {
        let _ =
            config.application_name(&format!("accord_{namespace}{suffix}"));
    }
    if config.get_connect_timeout().is_none() {
        let _ = config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(config)
}

fn channel(namespace: &str) -> String {
    format!("accord_{namespace}")
}

/// A namespace is spliced into SQL (quoted): only plain lowercase
/// identifiers pass.
fn check_namespace(name: &str) -> Result<(), StoreError> {
    let refuse =
        |reason| Err(StoreError::Namespace { name: name.to_owned(), reason });
    let Some(first) = name.bytes().next() else {
        return refuse("empty");
    };
    if name.len() > MAX_NAMESPACE {
        return refuse("longer than 56 bytes");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return refuse("only `a`-`z`, digits and `_` are allowed");
    }
    if first.is_ascii_digit() {
        return refuse("starts with a digit");
    }
    if name.starts_with("pg_") {
        return refuse("`pg_` names are reserved by postgresql");
    }
    Ok(())
}

/// Creates the namespace's schema and tables if missing, and checks its
/// format. One transaction, under an advisory lock on the namespace, so
/// that instances starting together do not race to create them.
fn init(client: &mut Client, namespace: &str) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(|e| db(&e))?;
    let _ = tx
        .execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            &[&format!("accord_store {namespace}")],
        )
        .map_err(|e| db(&e))?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS \"{namespace}\";
         CREATE TABLE IF NOT EXISTS \"{namespace}\".accord_meta (
             key TEXT PRIMARY KEY, value BIGINT NOT NULL);
         CREATE TABLE IF NOT EXISTS \"{namespace}\".accord_events (
             seq BIGINT PRIMARY KEY,
             revision BIGINT NOT NULL,
             event TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS \"{namespace}\".accord_checkpoints (
             seq BIGINT PRIMARY KEY,
             revision BIGINT NOT NULL,
             snapshot TEXT NOT NULL);
         INSERT INTO \"{namespace}\".accord_meta (key, value)
             VALUES ('format', {FORMAT}) ON CONFLICT (key) DO NOTHING;"
    ))
    .map_err(|e| db(&e))?;
    let format: i64 = tx
        .query_one(
            &format!(
                "SELECT value FROM \"{namespace}\".accord_meta
                 WHERE key = 'format'"
            ),
            &[],
        )
        .and_then(|r| r.try_get(0))
        .map_err(|e| db(&e))?;
    tx.commit().map_err(|e| db(&e))?;
    if format != FORMAT {
        return Err(StoreError::Format(format!(
            "store format `{format}`, this build reads `{FORMAT}`"
        )));
    }
    Ok(())
}

/// Prepares the store's statements on a new connection.
fn prepare(mut client: Client, ns: &str) -> Result<Conn, StoreError> {
    let mut prepare = |sql: String| client.prepare(&sql).map_err(|e| db(&e));
    // A data-modifying WITH runs to completion whatever the outer query
    // reads; `pg_notify` queues the notification until the commit.
    let append = prepare(format!(
        "WITH appended AS (
             INSERT INTO \"{ns}\".accord_events (seq, revision, event)
             SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[])
             RETURNING seq)
         SELECT pg_notify($4, max(seq)::text) FROM appended"
    ))?;
    let events_from = prepare(format!(
        "SELECT seq, revision, event FROM \"{ns}\".accord_events
         WHERE seq >= $1 ORDER BY seq"
    ))?;
    let first_taken = prepare(format!(
        "SELECT min(seq) FROM \"{ns}\".accord_events
         WHERE seq BETWEEN $1 AND $2"
    ))?;
    let latest_checkpoint = prepare(format!(
        "SELECT seq, revision, snapshot FROM \"{ns}\".accord_checkpoints
         ORDER BY seq DESC LIMIT 1"
    ))?;
    let base_seq =
        prepare(format!("SELECT min(seq) FROM \"{ns}\".accord_checkpoints"))?;
    let write_checkpoint = prepare(format!(
        "INSERT INTO \"{ns}\".accord_checkpoints (seq, revision, snapshot)
         VALUES ($1, $2, $3) ON CONFLICT (seq) DO NOTHING"
    ))?;
    Ok(Conn {
        client,
        append,
        events_from,
        first_taken,
        latest_checkpoint,
        base_seq,
        write_checkpoint,
    })
}

/// A PostgreSQL error as a [`StoreError::Database`]: the server's own
/// message and SQLSTATE where it sent one.
#[cold]
fn db(e: &::postgres::Error) -> StoreError {
    StoreError::Database(match e.as_db_error() {
        Some(d) => format!(
            "{}: {} (sqlstate {})",
            d.severity().to_lowercase(),
            d.message(),
            d.code().code()
        ),
        None => {
            // The client's error names its kind; the cause (the
            // operating system's error) is in its sources.
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    })
}

fn signed(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n)
        .map_err(|_| StoreError::Database(format!("`{n}` too large")))
}

fn unsigned(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n)
        .map_err(|_| StoreError::Format(format!("negative number `{n}`")))
}

#[cfg(test)]
mod tests {
    use super::check_namespace;

    #[test]
    fn namespaces_are_plain_lowercase_identifiers() {
        for good in ["a", "policy", "t_1", "_x", &"n".repeat(56)] {
            assert!(check_namespace(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1a",
            "Policy",
            "a-b",
            "a\"b",
            "a b",
            "pg_x",
            "é",
            &"n".repeat(57),
        ] {
            assert!(check_namespace(bad).is_err(), "{bad}");
        }
    }
}
