//! The audit log: revisions, timestamps, actors and events.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Refusal;
use crate::id::UserId;
use crate::mutate::Op;

/// The number of successful mutations applied to an engine.
///
/// Every successful mutation increases the revision by exactly one and
/// returns the new value; a refused one leaves it unchanged.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct Revision(u64);

impl Revision {
    /// The revision of an empty engine.
    pub const ZERO: Revision = Revision(0);

    /// The revision as a number.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }

    pub(crate) fn next(self) -> Revision {
        Revision(self.0.saturating_add(1))
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// A caller-supplied point in time, in milliseconds since the Unix epoch.
///
/// The engine never reads a clock; the caller says when each mutation
/// happens, which keeps replay deterministic.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// A timestamp from milliseconds since the Unix epoch.
    #[must_use]
    pub const fn from_unix_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    /// Milliseconds since the Unix epoch.
    #[must_use]
    pub const fn as_unix_millis(self) -> i64 {
        self.0
    }
}

/// Who performs a mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Actor {
    /// The trusted embedding application itself (bootstrapping, migrations).
    /// Authority checks are skipped; integrity rules still hold.
    System,
    /// A user, whose authority the engine checks.
    User(UserId),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::System => f.write_str("system"),
            Actor::User(u) => write!(f, "{u}"),
        }
    }
}

/// What became of an attempted mutation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Applied; the event's revision is the new revision.
    Applied,
    /// Refused; nothing changed.
    Refused(Refusal),
}

/// One entry of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Position in the log, from 0.
    pub seq: u64,
    /// The engine's revision after the attempt.
    pub revision: Revision,
    /// Who attempted it.
    pub actor: Actor,
    /// When, as the caller said.
    pub at: Timestamp,
    /// What was attempted.
    pub op: Op,
    /// Whether it was applied.
    pub outcome: Outcome,
    /// SHA-256 (hex) over the previous event's digest and this event's
    /// other fields: the log is a hash chain, so a missing, reordered or
    /// altered event is detected on [`Engine::replay`](crate::Engine::replay)
    /// and on load.
    pub digest: String,
}

/// The digest that precedes the first event.
pub(crate) const GENESIS: String = String::new();

/// Where the retained part of an engine's audit log starts: the events
/// before it were handed out by
/// [`Engine::drain_events`](crate::Engine::drain_events).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogBase {
    /// Sequence number of the first retained event (events drained).
    pub(crate) seq: u64,
    /// The revision after the last drained event.
    pub(crate) revision: Revision,
    /// The digest of the last drained event ([`GENESIS`] if none).
    pub(crate) digest: String,
}

impl LogBase {
    /// Whether no event was ever drained.
    pub(crate) fn is_genesis(&self) -> bool {
        self.seq == 0
    }
}

/// Feeds what serde_json writes straight into the hash.
struct HashWriter(sha2::Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(&mut self.0, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The digest of `event` chained to `prev`: SHA-256 over the JSON of
/// `prev` and the event's other fields, in lower-case hex.
pub(crate) fn digest(prev: &str, event: &Event) -> String {
    use sha2::{Digest, Sha256};
    #[derive(Serialize)]
    struct Body<'a> {
        prev: &'a str,
        seq: u64,
        revision: Revision,
        actor: Actor,
        at: Timestamp,
        op: &'a Op,
        outcome: &'a Outcome,
    }
    let body = Body {
        prev,
        seq: event.seq,
        revision: event.revision,
        actor: event.actor,
        at: event.at,
        op: &event.op,
        outcome: &event.outcome,
    };
    let mut w = HashWriter(Sha256::new());
    // Serializing these plain fields cannot fail; if it ever did, the
    // digest would differ and verification would reject the event.
    let _ = serde_json::to_writer(&mut w, &body);
    let hash = w.0.finalize();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(64);
    for b in hash {
        for nibble in [b >> 4, b & 0xf] {
            let c = HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
            hex.push(char::from(c));
        }
    }
    hex
}

impl Event {
    /// Whether the mutation was applied.
    #[must_use]
    pub fn applied(&self) -> bool {
        matches!(self.outcome, Outcome::Applied)
    }
}
