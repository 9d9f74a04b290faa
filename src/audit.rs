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

    /// The revision numbered `n`: one that another instance of the same
    /// store returned, or that a client kept (a consistency token), to
    /// compare with an engine's own.
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{presets, Revision};
    ///
    /// let engine = presets::arbiter().build()?;
    /// assert!(engine.revision() < Revision::new(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn new(n: u64) -> Revision {
        Revision(n)
    }

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

/// A secret key for the audit log's hash chain (HMAC-SHA256).
///
/// With a key, each event's digest is an HMAC over the previous digest
/// and the event, and a snapshot carries a seal (an HMAC over its state
/// and where its log ends): only a holder of the key can append, edit,
/// drop or re-attribute events, forge where a drained log starts, or
/// change the state a snapshot says its log produced. Without a key the
/// chain is a plain SHA-256 chain, which anyone who can write the log can
/// recompute; see the audit section of `DESIGN.md` for exactly what each
/// detects.
///
/// Give the key to [`Builder::audit_key`](crate::Builder::audit_key) for
/// a new engine and to [`Loader::audit_key`](crate::Loader::audit_key)
/// when loading or replaying; keep it out of the snapshot's storage.
/// `Debug` never shows it.
///
/// # Example
///
/// ```
/// use accord::{Actor, AuditKey, Engine, Loader, Timestamp, presets};
///
/// let key = AuditKey::from_bytes([7; 32]);
/// let mut engine = presets::arbiter().audit_key(key.clone()).build()?;
/// engine.act(Actor::System, Timestamp::default()).create_org("Utility X")?;
/// let json = engine.to_json();
///
/// let loaded = Loader::new().audit_key(key).from_json(&json)?;
/// assert_eq!(loaded.revision(), engine.revision());
/// // Without the key, a keyed snapshot cannot be verified: refused.
/// assert!(Engine::from_json(&json).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct AuditKey([u8; 32]);

impl AuditKey {
    /// A key from 32 secret bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> AuditKey {
        AuditKey(bytes)
    }

    /// A new random key from the operating system's generator.
    ///
    /// # Errors
    ///
    /// Returns the generator's error if it cannot supply randomness.
    pub fn generate() -> Result<AuditKey, getrandom::Error> {
        let mut bytes = [0_u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(AuditKey(bytes))
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

/// How the audit chain's digests are made, as a snapshot records it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ChainKind {
    /// SHA-256, unkeyed.
    #[default]
    Sha256,
    /// HMAC-SHA256 under an [`AuditKey`].
    HmacSha256,
}

impl ChainKind {
    pub(crate) fn of(key: Option<&AuditKey>) -> ChainKind {
        if key.is_some() {
            ChainKind::HmacSha256
        } else {
            ChainKind::Sha256
        }
    }

    pub(crate) fn is_unkeyed(&self) -> bool {
        *self == ChainKind::Sha256
    }
}

/// Feeds what serde_json writes straight into a hash or MAC.
enum HashWriter {
    Plain(sha2::Sha256),
    Keyed(hmac::Hmac<sha2::Sha256>),
}

impl HashWriter {
    fn new(key: Option<&AuditKey>) -> HashWriter {
        use hmac::Mac;
        match key.map(|k| hmac::Hmac::<sha2::Sha256>::new_from_slice(&k.0)) {
            Some(Ok(mac)) => HashWriter::Keyed(mac),
            // HMAC takes a key of any length: `Err` cannot happen.
            Some(Err(_)) | None => HashWriter::Plain(sha2::Digest::new()),
        }
    }

    /// The hash or MAC in lower-case hex.
    fn finish(self) -> String {
        use hmac::Mac;
        let bytes: [u8; 32] = match self {
            HashWriter::Plain(h) => sha2::Digest::finalize(h).into(),
            HashWriter::Keyed(m) => m.finalize().into_bytes().into(),
        };
        hex(&bytes)
    }
}

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            HashWriter::Plain(h) => sha2::Digest::update(h, buf),
            HashWriter::Keyed(m) => hmac::Mac::update(m, buf),
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `bytes` in lower-case hex.
fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            let c = HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
            hex.push(char::from(c));
        }
    }
    hex
}

/// The digest of `event` chained to `prev`: SHA-256 (or, under `key`,
/// HMAC-SHA256) over the JSON of `prev` and the event's other fields, in
/// lower-case hex.
pub(crate) fn digest(
    key: Option<&AuditKey>,
    prev: &str,
    event: &Event,
) -> String {
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
    let mut w = HashWriter::new(key);
    // Serializing these plain fields cannot fail; if it ever did, the
    // digest would differ and verification would reject the event.
    let _ = serde_json::to_writer(&mut w, &body);
    w.finish()
}

/// The seal of a keyed snapshot: HMAC-SHA256 under `key` over the JSON of
/// `state` (the snapshot's schema, config, model, revision and where its
/// log starts and ends).
pub(crate) fn seal<T: Serialize>(key: &AuditKey, state: &T) -> String {
    let mut w = HashWriter::new(Some(key));
    let _ = serde_json::to_writer(&mut w, &("accord snapshot seal", state));
    w.finish()
}

/// Whether two digests (or seals) are equal, in time independent of
/// where they differ.
pub(crate) fn same_digest(a: &str, b: &str) -> bool {
    crate::token::constant_time_eq(a, b)
}

impl fmt::Display for Outcome {
    /// `applied`, or `refused: ` and the refusal's message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Applied => f.write_str("applied"),
            Outcome::Refused(r) => write!(f, "refused: {}", r.message),
        }
    }
}

impl fmt::Display for Event {
    /// One line: sequence number, revision, actor, operation, outcome,
    /// e.g. `#4 r3 user#1 grant role: applied`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {} {} {}: {}",
            self.seq,
            self.revision,
            self.actor,
            self.op.name(),
            self.outcome
        )
    }
}

impl Event {
    /// Whether the mutation was applied.
    #[must_use]
    pub fn applied(&self) -> bool {
        matches!(self.outcome, Outcome::Applied)
    }
}
