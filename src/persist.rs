//! Snapshots, loading with full validation, and replay of the audit log.
//!
//! A snapshot holds the schema, the config, the policy's primary records
//! (each reference stored once, in one direction), the audit log and the
//! revision. Every back-reference, ancestor set and index entry is rebuilt
//! on load, after the primary records have been validated, so a snapshot
//! cannot smuggle in an inconsistent index.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use crate::audit::{AuditKey, ChainKind, Event, LogBase, Outcome, Revision};
use crate::engine::{Config, Downstream, Engine, Limits};
use crate::error::{LoadError, LoadErrorKind};
use crate::id::{Arena, Idx, ObjectId, OrgId, ShareId, TypeId, UserId};
use crate::index::{Index, KeyBuild};
use crate::lookup::{EmailTable, KeyTable, RoleNames};
use crate::model::{pair_key, Model, ObjectKind};
use crate::schema::{Schema, PERMISSIONS, ROLES, USERS};
use crate::set::Set;
use crate::share::{Grantee, Grantor, ShareKind};

/// The snapshot format version this crate writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;

#[derive(Serialize)]
#[serde(deny_unknown_fields)]
struct SnapshotRef<'a> {
    version: u32,
    schema: &'a Schema,
    config: &'a Config,
    revision: Revision,
    model: &'a Model,
    /// Left out of human-readable snapshots that start at the genesis;
    /// always written in binary formats, which read fields by position.
    #[serde(skip_serializing_if = "Option::is_none")]
    log_base: Option<&'a LogBase>,
    events: &'a [Event],
    /// Left out of human-readable snapshots whose chain is unkeyed, as
    /// `log_base` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    chain: Option<Chain>,
}

/// How a snapshot's audit chain is made, and the seal of a keyed one.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Chain {
    kind: ChainKind,
    /// Present exactly when the chain is keyed.
    seal: Option<String>,
}

/// What a keyed snapshot's seal covers: everything in it but the events,
/// which the keyed chain covers, and where that chain ends.
#[derive(Serialize)]
struct SealBody<'a> {
    version: u32,
    schema: &'a Schema,
    config: &'a Config,
    revision: Revision,
    model: &'a Model,
    log_base: &'a LogBase,
    /// The sequence number after the last event, and its digest.
    log_end: (u64, &'a str),
}

impl Engine {
    /// The sequence number after the last event, and the last digest.
    fn log_end(&self) -> (u64, &str) {
        let last = self
            .log
            .last()
            .map_or(self.log_base.digest.as_str(), |e| e.digest.as_str());
        (self.next_event_seq(), last)
    }

    /// The seal of this engine's state under `key`, with `config` in
    /// place of its own (the config a snapshot recorded).
    fn seal_with(&self, key: &AuditKey, config: &Config) -> String {
        crate::audit::seal(
            key,
            &SealBody {
                version: SNAPSHOT_VERSION,
                schema: &self.schema,
                config,
                revision: self.revision,
                model: &self.model,
                log_base: &self.log_base,
                log_end: self.log_end(),
            },
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Snapshot {
    version: u32,
    schema: Schema,
    config: Config,
    revision: Revision,
    model: Model,
    /// Where `events` start; absent (the genesis) unless the log was
    /// drained before the snapshot.
    #[serde(default)]
    log_base: Option<LogBase>,
    events: Vec<Event>,
    /// How the digests are made; absent when unkeyed.
    #[serde(default)]
    chain: Option<Chain>,
}

impl Serialize for Engine {
    fn serialize<S: serde::Serializer>(
        &self,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let binary = !s.is_human_readable();
        let chain = ChainKind::of(self.audit_key.as_ref());
        SnapshotRef {
            version: SNAPSHOT_VERSION,
            schema: &self.schema,
            config: &self.config,
            revision: self.revision,
            model: &self.model,
            log_base: (!self.log_base.is_genesis() || binary)
                .then_some(&self.log_base),
            events: &self.log,
            chain: (!chain.is_unkeyed() || binary).then(|| Chain {
                kind: chain,
                seal: self
                    .audit_key
                    .as_ref()
                    .map(|k| self.seal_with(k, &self.config)),
            }),
        }
        .serialize(s)
    }
}

/// Reads a snapshot in any serde format and validates it, as
/// [`Engine::from_json`] does. No collection reserves more than 1 MiB
/// ahead of its elements, whatever length the input claims; a format's
/// own allocations are the format's to bound: load untrusted bincode
/// from a reader with a byte limit (see the crate docs,
/// [Binary snapshots](crate#binary-snapshots)).
impl<'de> Deserialize<'de> for Engine {
    /// Deserializes and validates a snapshot; see [`Engine::from_json`].
    fn deserialize<D: serde::Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Self, D::Error> {
        Loader::new().deserialize(d)
    }
}

/// A snapshot that does not read as JSON.
#[cold]
fn json_error(e: serde_json::Error) -> LoadError {
    // serde quotes input (an unknown field's name), which may hold a
    // line break.
    let msg = crate::error::one_line(&e.to_string());
    LoadError::new(if e.is_io() {
        LoadErrorKind::Io(msg)
    } else {
        LoadErrorKind::Syntax(msg)
    })
}

#[cold]
fn bad(path: impl Into<String>, reason: impl Into<String>) -> LoadError {
    LoadError::new(LoadErrorKind::Invalid {
        path: path.into(),
        reason: reason.into(),
    })
}

type Result<T> = std::result::Result<T, LoadError>;

impl Engine {
    /// Saves the whole state — schema, config, policy, audit log and
    /// revision — as JSON.
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{Actor, Engine, Timestamp, presets};
    ///
    /// let mut engine = presets::arbiter().build()?;
    /// engine.act(Actor::System, Timestamp::default()).create_org("Utility X")?;
    /// let json = engine.to_json();
    /// let loaded = Engine::from_json(&json)?;
    /// assert_eq!(loaded.revision(), engine.revision());
    /// assert_eq!(loaded.to_json(), json);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Loads a snapshot written by [`Engine::to_json`], validating every
    /// invariant: version, schema, no dangling handles, no cycles among
    /// objects, permissions listing only objects of their organization and
    /// type, no administrative role granted outside its organization,
    /// required bindings, unique names, limits, and — under
    /// [`Downstream::Cascade`] — that every share is derivable from the
    /// owner within its grantor's ceiling.
    ///
    /// The snapshot's own `limits` are not trusted: it is validated
    /// under [`Limits::default`], and the loaded engine runs under them.
    /// To load under other limits, or with an [`AuditKey`], or checking
    /// the state against its log, use a [`Loader`].
    ///
    /// # Errors
    ///
    /// Returns a [`LoadError`] naming what is wrong and where; never
    /// panics, whatever the input. A snapshot whose audit chain is keyed
    /// is refused ([`LoadErrorKind::KeyRequired`]).
    pub fn from_json(json: &str) -> Result<Engine> {
        Loader::new().from_json(json)
    }

    /// Writes the snapshot [`Engine::to_json`] returns to `writer`,
    /// without holding it in memory. Buffer the writer (a
    /// [`std::io::BufWriter`] around a file): the snapshot is written in
    /// many small pieces.
    ///
    /// # Errors
    ///
    /// Returns the writer's I/O error.
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{Actor, Engine, Timestamp, presets};
    ///
    /// let mut engine = presets::arbiter().build()?;
    /// engine.act(Actor::System, Timestamp::default()).create_org("Utility X")?;
    /// let mut bytes = Vec::new();
    /// engine.write_json(&mut bytes)?;
    /// assert_eq!(bytes, engine.to_json().into_bytes());
    /// let loaded = Engine::read_json(bytes.as_slice())?;
    /// assert_eq!(loaded.revision(), engine.revision());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_json<W: std::io::Write>(
        &self,
        writer: W,
    ) -> std::io::Result<()> {
        serde_json::to_writer(writer, self).map_err(std::io::Error::from)
    }

    /// Loads a snapshot from `reader`, as [`Engine::from_json`] does from
    /// a string, without holding the text in memory: a large policy
    /// loads from a file with the engine's own size as its peak. Buffer
    /// the reader (a [`std::io::BufReader`] around a file).
    ///
    /// Safe on untrusted input: JSON claims no lengths, so what a load
    /// allocates follows the bytes read. A binary format read from a
    /// stream needs a byte limit; see
    /// [Binary snapshots](crate#binary-snapshots) in the crate docs.
    ///
    /// # Errors
    ///
    /// Returns a [`LoadError`] as [`Engine::from_json`] does, or of kind
    /// [`LoadErrorKind::Io`] when the reader fails; never panics.
    pub fn read_json<R: std::io::Read>(reader: R) -> Result<Engine> {
        Loader::new().read_json(reader)
    }
}

/// How to load a snapshot: under which [`Limits`], with which
/// [`AuditKey`], and whether to check its state against its log.
///
/// [`Engine::from_json`] and [`Engine::read_json`] load with
/// `Loader::new()`; `Engine`'s `Deserialize` does too, for formats other
/// than JSON. A snapshot's own limits are never trusted — a hostile file
/// could raise them to make loading take minutes and gigabytes — so the
/// loader's limits govern both the validation and the loaded engine.
///
/// # Example
///
/// ```
/// use accord::{Actor, Engine, Limits, Loader, Timestamp, presets};
///
/// let mut limits = Limits::default();
/// limits.max_parents = 32;
/// let mut engine = presets::arbiter()
///     .configure(|c| c.limits = limits.clone())
///     .build()?;
/// engine.act(Actor::System, Timestamp::default()).create_org("Utility X")?;
///
/// let loaded = Loader::new()
///     .limits(limits)
///     .verify_log(true)
///     .from_json(&engine.to_json())?;
/// assert_eq!(loaded.config().limits.max_parents, 32);
/// assert_eq!(loaded.to_json(), engine.to_json());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Loader {
    limits: Limits,
    audit_key: Option<AuditKey>,
    verify_log: bool,
    schema: Option<Schema>,
}

impl Loader {
    /// A loader with the default limits, no key, and no replay.
    #[must_use]
    pub fn new() -> Loader {
        Loader::default()
    }

    /// Validates under `limits`, and gives them to the loaded engine.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Loader {
        self.limits = limits;
        self
    }

    /// Verifies the audit chain and the snapshot's seal with `key`, and
    /// gives it to the loaded engine (and to [`Loader::replay`]'s). A
    /// snapshot whose chain is not keyed is then refused
    /// ([`LoadErrorKind::Unkeyed`]): stripping the key must not be a way
    /// around it.
    #[must_use]
    pub fn audit_key(mut self, key: AuditKey) -> Loader {
        self.audit_key = Some(key);
        self
    }

    /// Also replays the snapshot's log on an empty engine and requires
    /// the result to equal the snapshot's state
    /// ([`LoadErrorKind::StateMismatch`] otherwise), so a state edited
    /// apart from its log is refused even without a key. Needs the whole
    /// log: a snapshot taken after [`Engine::drain_events`] is refused
    /// ([`LoadErrorKind::LogIncomplete`]); seal those with an
    /// [`AuditKey`] instead. Costs a replay of the whole history.
    #[must_use]
    pub fn verify_log(mut self, verify: bool) -> Loader {
        self.verify_log = verify;
        self
    }

    /// Moves the loaded engine to `schema`, a newer version of the
    /// snapshot's that only adds object types, actions and default roles
    /// (see [`Engine::upgrade_schema`]); any other change is refused with
    /// [`LoadErrorKind::SchemaChange`] naming it. The snapshot is
    /// validated, and its log checked, under the schema it was written
    /// with.
    #[must_use]
    pub fn schema(mut self, schema: Schema) -> Loader {
        self.schema = Some(schema);
        self
    }

    /// Loads a JSON snapshot; see [`Engine::from_json`].
    ///
    /// # Errors
    ///
    /// Returns a [`LoadError`] naming what is wrong and where; never
    /// panics, whatever the input.
    pub fn from_json(&self, json: &str) -> Result<Engine> {
        let snap: Snapshot = serde_json::from_str(json).map_err(json_error)?;
        self.load_snapshot(snap)
    }

    /// Loads a JSON snapshot from `reader`; see [`Engine::read_json`].
    ///
    /// # Errors
    ///
    /// As [`Loader::from_json`], or of kind [`LoadErrorKind::Io`] when
    /// the reader fails.
    pub fn read_json<R: std::io::Read>(&self, reader: R) -> Result<Engine> {
        let snap: Snapshot =
            serde_json::from_reader(reader).map_err(json_error)?;
        self.load_snapshot(snap)
    }

    /// Loads a snapshot from any serde format (`Engine`'s `Deserialize`
    /// uses `Loader::new()`).
    ///
    /// # Errors
    ///
    /// The deserializer's error, carrying a [`LoadError`]'s message when
    /// the snapshot reads but does not validate.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        &self,
        d: D,
    ) -> std::result::Result<Engine, D::Error> {
        let snap = Snapshot::deserialize(d)?;
        self.load_snapshot(snap).map_err(serde::de::Error::custom)
    }

    /// Rebuilds an engine by replaying `events` on the empty engine
    /// `builder` makes, verifying the chain with this loader's key (if
    /// any) and running under its limits; see [`Engine::replay`].
    ///
    /// # Errors
    ///
    /// As [`Engine::replay`].
    pub fn replay(
        &self,
        builder: crate::Builder,
        events: &[Event],
    ) -> Result<Engine> {
        let mut builder =
            builder.configure(|c| c.limits = self.limits.clone());
        if let Some(key) = &self.audit_key {
            builder = builder.audit_key(key.clone());
        }
        replay(builder, events)
    }

    fn load_snapshot(&self, snap: Snapshot) -> Result<Engine> {
        if snap.version != SNAPSHOT_VERSION {
            return Err(LoadError::new(LoadErrorKind::Version {
                found: snap.version,
                expected: SNAPSHOT_VERSION,
            }));
        }
        snap.schema
            .validate()
            .map_err(|e| LoadError::new(LoadErrorKind::Schema(e)))?;
        if let Some((i, t)) = snap.config.unknown_public_type(&snap.schema) {
            return Err(bad(
                format!("config.public_by_default[{i}]"),
                format!("`{}` is not a data type", crate::error::excerpt(t)),
            ));
        }
        let (chain, seal) =
            snap.chain.map_or((ChainKind::Sha256, None), |c| (c.kind, c.seal));
        match (&self.audit_key, chain) {
            (None, ChainKind::HmacSha256) => {
                return Err(LoadError::new(LoadErrorKind::KeyRequired))
            }
            (Some(_), ChainKind::Sha256) => {
                return Err(LoadError::new(LoadErrorKind::Unkeyed))
            }
            _ => {}
        }
        if chain.is_unkeyed() && seal.is_some() {
            return Err(bad("chain.seal", "present on an unkeyed chain"));
        }
        // The snapshot's limits say what its writer ran under; the
        // loader's govern.
        let written = snap.config;
        let mut config = written.clone();
        config.limits = self.limits.clone();
        let mut model = snap.model;
        validate_and_link(&mut model, &snap.schema, &config)?;
        let log_base = snap.log_base.unwrap_or_default();
        let key = self.audit_key.as_ref();
        validate_log(key, &log_base, &snap.events, snap.revision)?;
        let index = Index::build(&model);
        let engine = Engine {
            schema: snap.schema,
            config,
            model,
            index,
            log: snap.events,
            log_base,
            revision: snap.revision,
            audit_key: self.audit_key.clone(),
        };
        if let Some(key) = key {
            let sealed = seal.as_deref().is_some_and(|seal| {
                crate::audit::same_digest(
                    seal,
                    &engine.seal_with(key, &written),
                )
            });
            if !sealed {
                return Err(LoadError::new(LoadErrorKind::Seal));
            }
        }
        let max = engine.config.limits.max_share_depth;
        for (id, _) in engine.model.shares.iter::<ShareId>() {
            if engine.share_chain(id).len() > max {
                return Err(bad(
                    format!("model.shares[{}]", id.as_usize()),
                    "share chain deeper than the limit",
                ));
            }
        }
        if engine.config.downstream == Downstream::Cascade {
            let roots: Vec<ObjectId> = engine
                .model
                .shares
                .iter::<ShareId>()
                .map(|(_, s)| s.root)
                .collect();
            if let Some((id, _)) = engine.underivable(&roots).first() {
                return Err(bad(
                    format!("model.shares[{}]", id.as_usize()),
                    "share is not derivable from the owner within its \
                     grantor's ceiling",
                ));
            }
        }
        if self.verify_log {
            verify_against_log(&engine, written)?;
        }
        let mut engine = engine;
        if let Some(schema) = &self.schema {
            engine.upgrade_schema(schema.clone())?;
        }
        Ok(engine)
    }
}

impl Engine {
    /// Moves the engine to `schema`, a newer version of its own that only
    /// appends object types and actions and adds default roles: every
    /// handle keeps its meaning, and organizations created from now on
    /// get the new default roles (existing ones keep theirs). Replay a
    /// log under the schema it was written with, then upgrade: a replay
    /// under a schema with more default roles creates more roles and
    /// gives later ones other handles.
    ///
    /// # Errors
    ///
    /// [`LoadErrorKind::SchemaChange`] naming the first change that is
    /// not an addition (a removed, moved or changed type, action or
    /// default role), or [`LoadErrorKind::Schema`] if `schema` is
    /// invalid; the engine is then unchanged.
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{Actor, Engine, LoadErrorKind, Schema, Threshold, Timestamp};
    ///
    /// let v1 = Schema::builder().object_type("site").build()?;
    /// let v2 = Schema::builder()
    ///     .object_type("site")
    ///     .object_type("meter")
    ///     .action("read_values", Threshold::Read)
    ///     .build()?;
    /// let mut engine = Engine::builder(v1.clone()).build()?;
    /// engine.act(Actor::System, Timestamp::default()).create_org("Utility X")?;
    /// engine.upgrade_schema(v2.clone())?;
    /// assert!(engine.schema().object_type("meter").is_some());
    /// // Back to v1 would remove `meter`: refused, naming it.
    /// let err = engine.upgrade_schema(v1).unwrap_err();
    /// assert!(matches!(err.kind(), LoadErrorKind::SchemaChange(_)));
    /// assert_eq!(engine.schema(), &v2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upgrade_schema(&mut self, schema: Schema) -> Result<()> {
        schema
            .validate()
            .map_err(|e| LoadError::new(LoadErrorKind::Schema(e)))?;
        if let Some(change) = self.schema.change_to(&schema) {
            return Err(LoadError::new(LoadErrorKind::SchemaChange(change)));
        }
        self.schema = schema;
        Ok(())
    }
}

/// Replays `engine`'s log on an empty engine of its schema and `written`
/// config, and requires the same state.
fn verify_against_log(engine: &Engine, written: Config) -> Result<()> {
    if !engine.log_base.is_genesis() {
        return Err(LoadError::new(LoadErrorKind::LogIncomplete));
    }
    let mut builder = crate::Builder::new(engine.schema.clone())
        .config(written)
        .configure(|c| c.limits = engine.config.limits.clone());
    if let Some(key) = &engine.audit_key {
        builder = builder.audit_key(key.clone());
    }
    let replayed = replay(builder, &engine.log)?;
    let same = replayed.revision == engine.revision
        && serde_json::to_string(&replayed.model).ok()
            == serde_json::to_string(&engine.model).ok();
    if !same {
        return Err(LoadError::new(LoadErrorKind::StateMismatch));
    }
    Ok(())
}

impl Engine {
    /// Rebuilds an engine by replaying the applied events of `events` on
    /// the empty engine `builder` makes.
    ///
    /// The log must be complete and untampered: sequence numbers run from
    /// 0 without gaps, each event's digest chains to the previous one
    /// (under the builder's [`AuditKey`], if it has one), and each
    /// applied event reproduces the recorded revision. An unkeyed chain
    /// shows accidental damage, not tampering: see [`AuditKey`].
    ///
    /// # Errors
    ///
    /// Returns a [`LoadError`] naming the first event that is missing,
    /// out of order, tampered with, or that does not replay.
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{Actor, Engine, Timestamp, presets};
    ///
    /// let mut engine = presets::arbiter().build()?;
    /// let t = Timestamp::default();
    /// let org = engine.act(Actor::System, t).create_org("Utility X")?.value;
    /// let _ = engine.act(Actor::System, t).create_org("Utility X"); // refused
    /// engine.act(Actor::System, t).create_user(org, "a@x.example")?;
    ///
    /// let replayed = Engine::replay(presets::arbiter(), engine.events())?;
    /// assert_eq!(replayed.revision(), engine.revision());
    /// assert_eq!(replayed.user_by_email("a@x.example"), engine.user_by_email("a@x.example"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn replay(
        builder: crate::Builder,
        events: &[Event],
    ) -> Result<Engine> {
        replay(builder, events)
    }
}

/// [`Engine::replay`].
fn replay(builder: crate::Builder, events: &[Event]) -> Result<Engine> {
    let mut engine = builder
        .build()
        .map_err(|e| LoadError::new(LoadErrorKind::Schema(e)))?;
    let mut prev = crate::audit::GENESIS;
    for (i, e) in events.iter().enumerate() {
        let fail = |reason: &str| {
            LoadError::new(LoadErrorKind::Replay {
                seq: i as u64,
                reason: reason.to_owned(),
            })
        };
        if e.seq != i as u64 {
            return Err(fail("sequence number out of order or missing"));
        }
        let key = engine.audit_key.as_ref();
        if !crate::audit::same_digest(
            &e.digest,
            &crate::audit::digest(key, &prev, e),
        ) {
            return Err(fail("digest does not match: event tampered with"));
        }
        prev = e.digest.clone();
        if !e.applied() {
            continue;
        }
        match engine.apply(e.actor, e.at, e.op.as_logged()) {
            Ok(r) if r == e.revision => {}
            Ok(_) => return Err(fail("revision differs on replay")),
            Err(err) => {
                return Err(fail(&format!("applied event refused: {err}")))
            }
        }
    }
    // The replayed engine carries the original log, digests included.
    engine.log = events.to_vec();
    Ok(engine)
}

/// Largest sequence number a snapshot's log may start at: far beyond any
/// real history, and far from overflow.
const MAX_LOG_SEQ: u64 = 1 << 53;

fn validate_log(
    key: Option<&AuditKey>,
    base: &LogBase,
    events: &[Event],
    revision: Revision,
) -> Result<()> {
    if base.seq > MAX_LOG_SEQ {
        return Err(bad("log_base.seq", "too large"));
    }
    if base.revision.get() > base.seq {
        return Err(bad(
            "log_base.revision",
            "exceeds the number of drained events",
        ));
    }
    let is_digest = base.digest.len() == 64
        && base.digest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if base.is_genesis() != base.digest.is_empty()
        || !(base.is_genesis() || is_digest)
    {
        return Err(bad(
            "log_base.digest",
            "must be a SHA-256 digest in lower-case hex, empty only at \
             sequence 0",
        ));
    }
    if events.is_empty() && base.revision != revision {
        return Err(bad("revision", "differs from the log's revision"));
    }
    let mut prev = base.digest.as_str();
    let mut rev = base.revision;
    for (i, e) in events.iter().enumerate() {
        let path = || format!("events[{i}]");
        if e.seq != base.seq + i as u64 {
            return Err(bad(
                path(),
                "sequence number out of order or missing",
            ));
        }
        if !crate::audit::same_digest(
            &e.digest,
            &crate::audit::digest(key, prev, e),
        ) {
            return Err(bad(path(), "digest does not match"));
        }
        prev = &e.digest;
        let expected = match e.outcome {
            Outcome::Applied => rev.next(),
            Outcome::Refused(_) => rev,
        };
        if e.revision != expected {
            return Err(bad(path(), "revision does not follow the log"));
        }
        rev = expected;
    }
    if !events.is_empty() && rev != revision {
        return Err(bad("revision", "differs from the log's last revision"));
    }
    Ok(())
}

fn check_slots<T>(arena: &Arena<T>, what: &str) -> Result<()> {
    if arena.len_slots() > ObjectId::MAX.as_usize() {
        return Err(bad(what, "too many records"));
    }
    Ok(())
}

/// Maps `key` to `value` unless `key` is mapped already; returns whether
/// it was added.
fn insert_new<K: Eq + Hash, V, S: std::hash::BuildHasher>(
    map: &mut HashMap<K, V, S>,
    key: K,
    value: V,
) -> bool {
    match map.entry(key) {
        Entry::Occupied(_) => false,
        Entry::Vacant(slot) => {
            slot.insert(value);
            true
        }
    }
}

/// Lists up to this long are searched for repeats pair by pair; the
/// limits keep parents, bindings and type levels that short by default.
const PAIRWISE: usize = 32;

/// Whether no two of `items` have the same `key`.
fn all_distinct<T, K: Eq + Hash>(items: &[T], key: impl Fn(&T) -> K) -> bool {
    if items.len() <= PAIRWISE {
        items.iter().enumerate().all(|(i, x)| {
            let k = key(x);
            items.iter().take(i).all(|y| key(y) != k)
        })
    } else {
        let mut seen = HashSet::with_capacity(items.len());
        items.iter().all(|x| seen.insert(key(x)))
    }
}

/// Validates the primary records and rebuilds every derived field.
#[expect(clippy::too_many_lines, reason = "one check after the other")]
fn validate_and_link(
    m: &mut Model,
    schema: &Schema,
    config: &Config,
) -> Result<()> {
    let limits = &config.limits;
    check_slots(&m.orgs, "model.orgs")?;
    check_slots(&m.users, "model.users")?;
    check_slots(&m.objects, "model.objects")?;
    check_slots(&m.roles, "model.roles")?;
    check_slots(&m.permissions, "model.permissions")?;
    check_slots(&m.grants, "model.grants")?;
    check_slots(&m.shares, "model.shares")?;
    check_slots(&m.tokens, "model.tokens")?;
    let is_data_type =
        |t: TypeId| schema.type_def(t).is_some_and(|d| !d.is_policy());

    // Organizations: unique names. Each lookup by name (here, and of
    // e-mails, role names and shares below) is built as its uniqueness
    // is checked.
    let mut org_names = HashMap::with_capacity(m.orgs.iter::<OrgId>().count());
    let mut org_skeletons = HashMap::with_capacity(org_names.capacity());
    for (id, o) in m.orgs.iter::<OrgId>() {
        if !insert_new(&mut org_names, o.name.clone(), id) {
            return Err(bad(
                format!("model.orgs[{}].name", id.as_usize()),
                "duplicate name",
            ));
        }
        let skeleton = crate::text::skeleton(o.name.as_str());
        if !insert_new(&mut org_skeletons, skeleton, id) {
            return Err(bad(
                format!("model.orgs[{}].name", id.as_usize()),
                "looks like another organization's name",
            ));
        }
    }

    // Objects: type, owner, kind, parents, keys. The data objects' keys
    // are indexed as they are checked.
    let data = m
        .objects
        .iter::<ObjectId>()
        .filter(|(_, o)| o.kind() == ObjectKind::Data)
        .count();
    let mut keys = KeyTable::with_capacity(data);
    for (id, o) in m.objects.iter::<ObjectId>() {
        let path = || format!("model.objects[{}]", id.as_usize());
        if schema.type_def(o.ty).is_none() {
            return Err(bad(path(), "unknown object type"));
        }
        if !m.orgs.contains(o.org) {
            return Err(bad(path(), "dangling organization"));
        }
        // A user's, role's or permission's object keeps no key when the
        // key read was its handle's name.
        let key_ok = match o.kind() {
            ObjectKind::Data => keys.insert_new(&m.objects, id),
            _ => !o.has_stored_key(),
        };
        if !key_ok {
            return Err(bad(
                path(),
                "duplicate key within its type, or a user, role or \
                 permission object whose key is not its handle",
            ));
        }
        let kind_ok = match o.kind() {
            ObjectKind::Data => is_data_type(o.ty),
            ObjectKind::User(u) => {
                o.ty == USERS
                    && m.users
                        .get(u)
                        .is_some_and(|r| r.object == id && r.org == o.org)
            }
            ObjectKind::Role(r) => {
                o.ty == ROLES
                    && m.roles
                        .get(r)
                        .is_some_and(|r| r.object == id && r.org == o.org)
            }
            ObjectKind::Permission(p) => {
                o.ty == PERMISSIONS
                    && m.permissions
                        .get(p)
                        .is_some_and(|p| p.object == id && p.org == o.org)
            }
        };
        if !kind_ok {
            return Err(bad(
                path(),
                "object kind does not match its type or record",
            ));
        }
        if o.parents().len() > limits.max_parents {
            return Err(bad(path(), "too many parents"));
        }
        let parents_ok = all_distinct(o.parents(), |p| *p)
            && o.parents().iter().all(|p| {
                *p != id
                    && o.kind() == ObjectKind::Data
                    && m.objects
                        .get(*p)
                        .is_some_and(|r| r.kind() == ObjectKind::Data)
            });
        if !parents_ok {
            return Err(bad(path(), "invalid, repeated or dangling parent"));
        }
    }

    // Ancestor closures in topological order; a cycle is an error.
    let order = topological(m)?;
    let mut closure = Vec::new();
    for id in order {
        // Objects without parents, left out of the order, keep their
        // empty ancestors.
        let Some(o) = m.objects.get(id) else { continue };
        m.closure_into(o.parents(), &mut closure);
        if closure.len() > limits.max_ancestors {
            return Err(bad(
                format!("model.objects[{}]", id.as_usize()),
                "too many ancestors",
            ));
        }
        if let Some(o) = m.objects.get_mut(id) {
            o.set_ancestors(&closure);
        }
    }
    // Children in handle order, as the live engine keeps them: visiting
    // the children in that order appends to each parent's list.
    for slot in 0..m.objects.len_slots() {
        let Ok(id) = ObjectId::new(slot) else { break };
        let n = m.objects.get(id).map_or(0, |o| o.parents().len());
        for i in 0..n {
            let p =
                m.objects.get(id).and_then(|o| o.parents().get(i)).copied();
            if let Some(po) = p.and_then(|p| m.objects.get_mut(p)) {
                po.links_mut().children.insert(id);
            }
        }
    }

    // From here on each section reads some records while it links
    // others.
    let Model {
        orgs,
        users,
        objects,
        roles,
        permissions,
        grants,
        shares,
        tokens,
        connections,
        transfers,
        ..
    } = &mut *m;

    // Each organization's objects, by type. An organization's objects of
    // one type mostly come in runs, so the set of the last run is kept.
    let mut run: Option<(OrgId, TypeId, &mut Set<ObjectId>)> = None;
    for (id, o) in objects.iter::<ObjectId>() {
        if o.kind() != ObjectKind::Data {
            continue;
        }
        let same =
            matches!(&run, Some((org, ty, _)) if *org == o.org && *ty == o.ty);
        if !same {
            run = orgs.get_mut(o.org).map(|org| {
                (o.org, o.ty, org.objects.entry(o.ty).or_default())
            });
        }
        if let Some((_, _, set)) = &mut run {
            set.insert(id);
        }
    }

    // Users.
    let mut emails = EmailTable::with_capacity(users.iter::<UserId>().count());
    for (id, u) in users.iter::<UserId>() {
        let path = || format!("model.users[{}]", id.as_usize());
        if crate::mutate::validate_email(u.email.as_str()).is_err() {
            return Err(bad(path(), "invalid e-mail"));
        }
        if let Some((field, why)) =
            u.profile.as_deref().and_then(|p| p.problem())
        {
            return Err(bad(format!("{}.profile.{field}", path()), why));
        }
        if !emails.insert_new(users, id) {
            return Err(bad(path(), "duplicate e-mail"));
        }
        let ok = orgs.contains(u.org)
            && objects
                .get(u.object)
                .is_some_and(|o| o.kind() == ObjectKind::User(id));
        if !ok {
            return Err(bad(path(), "dangling organization or object"));
        }
        if let Some(r) = u.personal_role {
            let ok = roles
                .get(r)
                .is_some_and(|r| r.personal == Some(id) && r.org == u.org);
            if !ok {
                return Err(bad(path(), "invalid personal role"));
            }
        }
        if let Some(o) = orgs.get_mut(u.org) {
            o.users.insert(id);
        }
    }

    // Permissions.
    for (id, p) in permissions.iter::<crate::PermissionId>() {
        let path = || format!("model.permissions[{}]", id.as_usize());
        let ok = orgs.contains(p.org)
            && schema.action_def(p.action).is_some()
            && schema.type_def(p.ty).is_some()
            && objects
                .get(p.object)
                .is_some_and(|o| o.kind() == ObjectKind::Permission(id));
        if !ok {
            return Err(bad(
                path(),
                "dangling organization, action, type or object",
            ));
        }
        if p.applies_to_all && !p.objects.is_empty() {
            return Err(bad(path(), "applies to all yet lists objects"));
        }
        if p.objects.len() > limits.max_objects_per_permission {
            return Err(bad(path(), "too many objects"));
        }
        for o in &p.objects {
            let ok = objects
                .get(*o)
                .is_some_and(|r| r.ty == p.ty && r.org == p.org);
            if !ok {
                return Err(bad(
                    path(),
                    format!("listed object `{o}` is missing, of another type or of another organization"),
                ));
            }
        }
        for o in &p.objects {
            if let Some(r) = objects.get_mut(*o) {
                r.add_listing(id);
            }
        }
        if let Some(o) = orgs.get_mut(p.org) {
            o.permissions.insert(id);
            if p.applies_to_all {
                o.applying_to_all.insert(id);
            }
        }
    }

    // Roles.
    let mut role_names =
        RoleNames::with_capacity(roles.iter::<crate::RoleId>().count());
    for (id, r) in roles.iter::<crate::RoleId>() {
        let path = || format!("model.roles[{}]", id.as_usize());
        let ok = orgs.contains(r.org)
            && objects
                .get(r.object)
                .is_some_and(|o| o.kind() == ObjectKind::Role(id))
            && r.personal.map_or(true, |u| users.contains(u));
        if !ok {
            return Err(bad(path(), "dangling organization, object or user"));
        }
        // With the users' check above: a user's personal role and the
        // user it is personal to name each other, so a user has one.
        let personal_ok = r.personal.map_or(true, |u| {
            users.get(u).is_some_and(|u| u.personal_role == Some(id))
        });
        if !personal_ok {
            return Err(bad(path(), "not the personal role of its user"));
        }
        if !role_names.insert_new(roles, id) {
            return Err(bad(path(), "duplicate name in its organization"));
        }
        crate::text::validate_description(&r.description).map_err(|e| {
            bad(format!("{}.description", path()), e.to_string())
        })?;
        if r.permissions.len() > limits.max_permissions_per_role {
            return Err(bad(path(), "too many permissions"));
        }
        if r.required_bindings.iter().any(|t| !is_data_type(*t)) {
            return Err(bad(path(), "required binding of a non-data type"));
        }
        for p in &r.permissions {
            if !permissions.get(*p).is_some_and(|p| p.org == r.org) {
                return Err(bad(path(), format!("permission `{p}` is missing or of another organization")));
            }
        }
        for p in &r.permissions {
            if let Some(p) = permissions.get_mut(*p) {
                p.roles.insert(id);
            }
        }
        if let Some(o) = orgs.get_mut(r.org) {
            o.roles.insert(id);
        }
    }

    // Grants.
    for (id, g) in grants.iter::<crate::GrantId>() {
        let path = || format!("model.grants[{}]", id.as_usize());
        let (Some(u), Some(r)) = (users.get(g.user), roles.get(g.role)) else {
            return Err(bad(path(), "dangling user or role"));
        };
        if u.grants.contains_key(&g.role) {
            return Err(bad(path(), "role granted twice to one user"));
        }
        if u.grants.len() >= limits.max_grants_per_user {
            return Err(bad(path(), "too many grants for the user"));
        }
        if g.bindings.len() > limits.max_bindings {
            return Err(bad(path(), "too many bindings"));
        }
        let bindings_ok = all_distinct(&g.bindings, |b| *b)
            && g.bindings.iter().all(|b| {
                objects.get(*b).is_some_and(|o| o.kind() == ObjectKind::Data)
            });
        if !bindings_ok {
            return Err(bad(path(), "invalid, repeated or dangling binding"));
        }
        for t in &r.required_bindings {
            let bound = g
                .bindings
                .iter()
                .any(|b| objects.get(*b).is_some_and(|o| o.ty == *t));
            if !bound {
                return Err(bad(path(), "missing a required binding"));
            }
        }
        // A user's personal role is granted when the user is created,
        // before any acceptance of the terms (as `create_user` does).
        let personal = r.personal == Some(g.user);
        if config.require_terms
            && !personal
            && !orgs.get(u.org).is_some_and(|o| o.accepted_terms)
        {
            return Err(bad(
                path(),
                "grantee's organization has not accepted the terms",
            ));
        }
        let external = u.org != r.org;
        let administrative = r.permissions.iter().any(|p| {
            permissions
                .get(*p)
                .is_some_and(|p| schema.is_administrative(p.action, p.ty))
        });
        if external && administrative {
            return Err(bad(
                path(),
                "administrative role granted outside its organization",
            ));
        }
        if let Some(u) = users.get_mut(g.user) {
            u.grants.insert(g.role, id);
        }
        if let Some(r) = roles.get_mut(g.role) {
            r.grants.insert(id);
        }
        for b in &g.bindings {
            if let Some(o) = objects.get_mut(*b) {
                o.links_mut().rare_mut().bound_by.insert(id);
            }
        }
    }

    // Shares.
    let mut share_keys = HashMap::with_capacity_and_hasher(
        shares.iter::<ShareId>().count(),
        KeyBuild::default(),
    );
    for (id, s) in shares.iter::<ShareId>() {
        let path = || format!("model.shares[{}]", id.as_usize());
        let root_ok =
            objects.get(s.root).is_some_and(|o| o.kind() == ObjectKind::Data);
        let grantee_ok = match s.grantee {
            Grantee::User(u) => users.contains(u),
            Grantee::Org(o) => orgs.contains(o),
            Grantee::Public => !s.share_forward,
        };
        if !root_ok || !grantee_ok {
            return Err(bad(
                path(),
                "dangling root or grantee, or public share-forward",
            ));
        }
        if !insert_new(&mut share_keys, (s.root, s.grantee), id) {
            return Err(bad(path(), "two shares of one root to one grantee"));
        }
        let fixed = match s.kind {
            ShareKind::ReadOnly => Some(false),
            ShareKind::Full => Some(true),
            _ => None,
        };
        if fixed.is_some_and(|f| f != s.share_forward) {
            return Err(bad(
                path(),
                "share-forward contradicts the share's kind",
            ));
        }
        let levels_ok = s.levels.iter().all(|(t, _)| is_data_type(*t))
            && all_distinct(&s.levels, |(t, _)| *t);
        if !levels_ok {
            return Err(bad(path(), "invalid or repeated type level"));
        }
        let sorted =
            s.overrides.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0));
        let under = s.overrides.iter().all(|(o, _)| {
            objects.get(*o).is_some_and(|r| r.is_at_or_under(*o, s.root))
        });
        if !sorted || !under {
            return Err(bad(
                path(),
                "object levels unsorted, repeated or outside the root",
            ));
        }
        if let Grantor::User(u) = s.grantor {
            // A grantor may have been deleted since (the share is then
            // kept under `Keep`); a handle beyond every user is invalid.
            if u.as_usize() >= users.len_slots() {
                return Err(bad(path(), "grantor was never a user"));
            }
        }
    }
    for (id, s) in shares.iter::<ShareId>() {
        if let Some(o) = objects.get_mut(s.root) {
            o.links_mut().rare_mut().shares.insert(id);
        }
    }

    // Tokens.
    for (id, t) in tokens.iter::<crate::TokenId>() {
        let path = || format!("model.tokens[{}]", id.as_usize());
        let ok = users.contains(t.user)
            && t.scope.map_or(true, |s| objects.contains(s));
        if !ok {
            return Err(bad(path(), "dangling user or scope"));
        }
        if !crate::token::is_hash(&t.hash) {
            return Err(bad(
                format!("{}.hash", path()),
                "must be a SHA-256 digest in lower-case hex",
            ));
        }
    }
    // Tokens per user, by user slot (every token's user exists).
    let mut per_user = vec![0_usize; users.len_slots()];
    for (_, t) in tokens.iter::<crate::TokenId>() {
        if let Some(n) = per_user.get_mut(t.user.as_usize()) {
            *n += 1;
        }
    }
    if per_user.iter().any(|n| *n > limits.max_tokens_per_user) {
        return Err(bad("model.tokens", "too many tokens for one user"));
    }

    // Connections and transfers.
    for (k, c) in &*connections {
        let ok = c.from != c.to
            && orgs.contains(c.from)
            && orgs.contains(c.to)
            && *k == pair_key(c.from, c.to);
        if !ok {
            return Err(bad(
                format!("model.connections[{k}]"),
                "invalid connection",
            ));
        }
    }
    for (root, to) in &*transfers {
        let ok = objects
            .get(*root)
            .is_some_and(|o| o.kind() == ObjectKind::Data && o.org != *to)
            && orgs.contains(*to);
        if !ok {
            return Err(bad(
                format!("model.transfers[{}]", root.as_usize()),
                "invalid transfer",
            ));
        }
    }
    m.org_names = org_names;
    m.org_skeletons = org_skeletons;
    m.object_keys = keys;
    m.emails = emails;
    m.role_names = role_names;
    m.share_keys = share_keys;
    m.link_tokens_and_grantees();
    Ok(())
}

/// Orders the objects that have parents parents-first; fails on a cycle.
///
/// Objects without parents are taken from the highest handle down, and
/// each object's children are pushed in handle order onto one stack as
/// they become ready. The objects without parents, whose ancestors are
/// none, are left out of the order returned.
fn topological(m: &Model) -> Result<Vec<ObjectId>> {
    let slots = m.objects.len_slots();
    // Parents left to order, per slot; each parent link as (parent,
    // child), in handle order of the child; the objects ready to order,
    // each with whether it has parents.
    let mut indegree: Vec<usize> = vec![0; slots];
    let mut links: Vec<(ObjectId, ObjectId)> = Vec::new();
    let mut ready: Vec<(ObjectId, bool)> = Vec::new();
    let mut live = 0;
    for (id, o) in m.objects.iter::<ObjectId>() {
        live += 1;
        if o.parents().is_empty() {
            ready.push((id, false));
            continue;
        }
        if let Some(d) = indegree.get_mut(id.as_usize()) {
            *d = o.parents().len();
        }
        links.extend(o.parents().iter().map(|p| (*p, id)));
    }
    // Each object's children, in handle order, as the slice of `children`
    // from `start[slot]` to `start[slot + 1]`. Each object's count goes
    // two places on, so that once summed, `start[slot + 1]` is where its
    // children begin; filling moves it to where they end.
    let mut start: Vec<usize> = vec![0; slots + 2];
    for (p, _) in &links {
        if let Some(n) = start.get_mut(p.as_usize() + 2) {
            *n += 1;
        }
    }
    let mut sum = 0;
    for n in &mut start {
        sum += *n;
        *n = sum;
    }
    let mut children = vec![ObjectId::MAX; links.len()];
    for (p, c) in &links {
        if let Some(at) = start.get_mut(p.as_usize() + 1) {
            if let Some(slot) = children.get_mut(*at) {
                *slot = *c;
            }
            *at += 1;
        }
    }
    let mut ordered = 0;
    let mut order = Vec::new();
    while let Some((id, has_parents)) = ready.pop() {
        ordered += 1;
        if has_parents {
            order.push(id);
        }
        let i = id.as_usize();
        let (from, to) = (
            start.get(i).copied().unwrap_or(0),
            start.get(i + 1).copied().unwrap_or(0),
        );
        for c in children.get(from..to).unwrap_or_default() {
            if let Some(d) = indegree.get_mut(c.as_usize()) {
                *d = d.saturating_sub(1);
                if *d == 0 {
                    ready.push((*c, true));
                }
            }
        }
    }
    if ordered != live {
        let mut done = vec![false; slots];
        for id in &order {
            if let Some(d) = done.get_mut(id.as_usize()) {
                *d = true;
            }
        }
        let stuck = m
            .objects
            .iter::<ObjectId>()
            .find(|(id, o)| {
                !o.parents().is_empty()
                    && !done.get(id.as_usize()).copied().unwrap_or(false)
            })
            .map(|(id, _)| id);
        let at = stuck.map_or(0, Idx::index);
        return Err(bad(
            format!("model.objects[{at}].parents"),
            "cycle among objects",
        ));
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_distinct_finds_repeats_in_short_and_long_lists() {
        for n in [0, 1, 2, PAIRWISE, PAIRWISE + 1, 100] {
            let items: Vec<u32> = (0..n as u32).collect();
            assert!(all_distinct(&items, |x| *x), "{n}");
            for (i, j) in [(0, 1), (0, n / 2), (n / 2, n / 2 + 1)] {
                let mut repeated = items.clone();
                if j < n && i != j {
                    repeated[j] = repeated[i];
                    assert!(!all_distinct(&repeated, |x| *x), "{n} {i} {j}");
                }
            }
        }
        let pairs = [(1, 'a'), (2, 'a'), (1, 'b')];
        assert!(!all_distinct(&pairs, |(_, c)| *c));
        assert!(!all_distinct(&pairs, |(k, _)| *k));
        assert!(all_distinct(&pairs, |p| *p));
    }
}
