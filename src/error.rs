//! Errors, one type per phase.
//!
//! * [`NameError`]: a string was not a valid [`Name`](crate::Name) or
//!   [`Ident`](crate::Ident).
//! * [`IdError`]: a raw index was too large for a handle.
//! * [`SchemaError`]: a [`Schema`](crate::Schema) declaration is invalid.
//! * [`MutationError`]: a change to the policy was refused; nothing changed.
//!   Match on [`MutationError::kind`] for the reason.
//!
//! Messages follow one style: lowercase, no final period, user values in
//! backticks, context joined with `: `.

use serde::{Deserialize, Serialize};

/// A string is not a valid name or identifier.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct NameError {
    kind: NameErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
enum NameErrorKind {
    #[error("empty {what}")]
    Empty { what: &'static str },
    #[error("{what} `{prefix}…` is longer than {max} bytes")]
    TooLong { what: &'static str, prefix: String, max: usize },
    #[error("invalid {what} `{value}`: {reason}")]
    Invalid { what: &'static str, value: String, reason: &'static str },
}

impl NameError {
    #[cold]
    pub(crate) fn empty(what: &'static str) -> NameError {
        NameError { kind: NameErrorKind::Empty { what } }
    }

    #[cold]
    pub(crate) fn too_long(what: &'static str, s: &str, max: usize) -> Self {
        let prefix = one_line(&s.chars().take(32).collect::<String>());
        NameError { kind: NameErrorKind::TooLong { what, prefix, max } }
    }

    #[cold]
    pub(crate) fn invalid(
        what: &'static str,
        s: &str,
        reason: &'static str,
    ) -> NameError {
        let value: String = s.chars().take(64).collect::<String>();
        let value = value.escape_debug().to_string();
        NameError { kind: NameErrorKind::Invalid { what, value, reason } }
    }
}

/// `s` with its control characters escaped (`\n` for a line feed), so
/// that an error message quoting input stays on one line.
#[cold]
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// `s` as an error message quotes it: its first 64 characters, on one
/// line, with `…` when cut short.
#[cold]
pub(crate) fn excerpt(s: &str) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(64).collect();
    let mut out = one_line(&head);
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// A raw index does not fit a handle.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} index `{index}` exceeds the largest handle")]
pub struct IdError {
    what: &'static str,
    index: usize,
}

impl IdError {
    #[cold]
    pub(crate) fn new(what: &'static str, index: usize) -> IdError {
        IdError { what, index }
    }
}

/// A schema declaration is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct SchemaError {
    kind: SchemaErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
enum SchemaErrorKind {
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("duplicate {what} `{name}` in schema")]
    Duplicate { what: &'static str, name: String },
    #[error("unknown object type `{name}` in `{context}`")]
    UnknownType { context: String, name: String },
    #[error("unknown action `{name}` in `{context}`")]
    UnknownAction { context: String, name: String },
    #[error("schema declares more than {max} actions")]
    TooManyActions { max: usize },
    #[error("schema lacks built-in `{name}` in its place")]
    Builtin { name: String },
    #[error("schema {what} names an undeclared type or action")]
    Dangling { what: &'static str },
}

impl From<NameError> for SchemaError {
    fn from(e: NameError) -> SchemaError {
        SchemaError { kind: SchemaErrorKind::Name(e) }
    }
}

impl SchemaError {
    #[cold]
    pub(crate) fn duplicate(what: &'static str, name: &str) -> SchemaError {
        let name = name.to_owned();
        SchemaError { kind: SchemaErrorKind::Duplicate { what, name } }
    }
    #[cold]
    pub(crate) fn unknown_type(context: &str, name: &str) -> SchemaError {
        SchemaError {
            kind: SchemaErrorKind::UnknownType {
                context: context.to_owned(),
                name: name.to_owned(),
            },
        }
    }
    #[cold]
    pub(crate) fn unknown_action(context: &str, name: &str) -> SchemaError {
        SchemaError {
            kind: SchemaErrorKind::UnknownAction {
                context: context.to_owned(),
                name: name.to_owned(),
            },
        }
    }
    #[cold]
    pub(crate) fn too_many_actions() -> SchemaError {
        let max = crate::schema::MAX_ACTIONS;
        SchemaError { kind: SchemaErrorKind::TooManyActions { max } }
    }
    #[cold]
    pub(crate) fn builtin(name: &str) -> SchemaError {
        let name = name.to_owned();
        SchemaError { kind: SchemaErrorKind::Builtin { name } }
    }
    #[cold]
    pub(crate) fn dangling(what: &'static str) -> SchemaError {
        SchemaError { kind: SchemaErrorKind::Dangling { what } }
    }
}

/// A mutation was refused. The engine is unchanged, and the refusal is in
/// the audit log.
///
/// The error is cheap to move (one pointer). Use [`MutationError::kind`] to
/// match on the reason, or the predicates for the common cases.
///
/// # Example
///
/// ```
/// use accord::{Actor, ErrorKind, Timestamp, presets};
///
/// let mut engine = presets::arbiter().build()?;
/// let t = Timestamp::from_unix_millis(0);
/// let org = engine.act(Actor::System, t).create_org("Utility X")?.value;
/// let err = engine.act(Actor::System, t).create_org("Utility X").unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Duplicate { .. }));
/// assert_eq!(err.to_string(), "organization `Utility X` already exists");
/// # let _ = org;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct MutationError {
    kind: Box<ErrorKind>,
}

impl MutationError {
    /// Why the mutation was refused.
    #[must_use]
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Whether the actor lacked the authority for the mutation.
    #[must_use]
    pub fn is_denied(&self) -> bool {
        matches!(*self.kind, ErrorKind::Denied { .. })
    }

    /// Whether a named record does not exist.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(*self.kind, ErrorKind::NotFound { .. })
    }

    /// Whether a configured limit would have been exceeded.
    #[must_use]
    pub fn is_limit(&self) -> bool {
        matches!(*self.kind, ErrorKind::Limit { .. })
    }

    /// A stable, machine-readable code for the kind (used in audit events).
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl From<ErrorKind> for MutationError {
    #[cold]
    fn from(kind: ErrorKind) -> MutationError {
        MutationError { kind: Box::new(kind) }
    }
}

impl From<NameError> for MutationError {
    #[cold]
    fn from(e: NameError) -> MutationError {
        ErrorKind::Name(e).into()
    }
}

/// Why a mutation was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The actor lacks the authority for the operation.
    #[error("`{operation}` denied: {reason}")]
    Denied {
        /// The operation, e.g. `grant role`.
        operation: &'static str,
        /// What was missing.
        reason: String,
    },
    /// A referenced record does not exist.
    #[error("unknown {what} `{id}`")]
    NotFound {
        /// The kind of record.
        what: &'static str,
        /// The handle or name given.
        id: String,
    },
    /// A record with this name or identity already exists.
    #[error("{what} `{name}` already exists")]
    Duplicate {
        /// The kind of record.
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// A name looks like an existing one: both have the same confusable
    /// skeleton (UTS #39), as `Team 1` and `Team l` do. Organization
    /// names are compared so.
    #[error("{what} `{name}` looks like existing `{existing}`")]
    Confusable {
        /// The kind of record.
        what: &'static str,
        /// The name given.
        name: String,
        /// The existing record's name.
        existing: String,
    },
    /// A role with administrative permissions cannot reach a user of
    /// another organization.
    #[error(
        "cannot share administrative role `{role}` outside its organization"
    )]
    AdministrativeRoleOutside {
        /// The role's name.
        role: String,
    },
    /// An administrative permission cannot be added to a role held by users
    /// of another organization.
    #[error(
        "cannot add administrative permission `{permission}` to role `{role}`: \
         it is granted outside its organization"
    )]
    AdministrativePermissionOnExternalRole {
        /// The role's name.
        role: String,
        /// The permission's name.
        permission: String,
    },
    /// The object belongs to another organization.
    #[error("{what} `{object}` is not owned by organization `{org}`")]
    NotOwned {
        /// What the object is used as.
        what: &'static str,
        /// The object.
        object: String,
        /// The organization that should own it.
        org: String,
    },
    /// The object has the wrong type.
    #[error("object `{object}` is not of type `{expected}`")]
    WrongType {
        /// The object.
        object: String,
        /// The type required.
        expected: String,
    },
    /// The grantee's organization has not accepted the terms of use.
    #[error("organization `{org}` has not accepted the terms of use")]
    TermsNotAccepted {
        /// The organization's name.
        org: String,
    },
    /// A role that must be bound was granted without a binding of a type.
    #[error(
        "role `{role}` must be bound to an object of type `{object_type}`"
    )]
    MissingBinding {
        /// The role's name.
        role: String,
        /// The missing binding type.
        object_type: String,
    },
    /// Objects cannot be removed from an applies-to-all permission.
    #[error("permission `{permission}` applies to all objects of its type")]
    AppliesToAll {
        /// The permission's name.
        permission: String,
    },
    /// The change would create a cycle among objects.
    #[error("linking `{child}` under `{parent}` would create a cycle")]
    Cycle {
        /// The would-be child.
        child: String,
        /// The would-be parent.
        parent: String,
    },
    /// A share would give more than its grantor holds.
    #[error(
        "share ceiling exceeded on {object}: granting `{granted:?}` but the \
         grantor holds `{held:?}`"
    )]
    Ceiling {
        /// The object.
        object: String,
        /// The level asked for.
        granted: crate::Level,
        /// The grantor's own level.
        held: crate::Level,
    },
    /// Removing or lowering a share would invalidate shares granted on
    /// its strength (downstream policy `Restrict`).
    #[error("dependent shares exist: {shares}")]
    DependentShares {
        /// The dependent shares, described.
        shares: String,
    },
    /// The two organizations are not connected.
    #[error("organizations `{a}` and `{b}` are not connected")]
    NotConnected {
        /// One organization.
        a: String,
        /// The other.
        b: String,
    },
    /// Share-forward would be granted back to the grantor's own source.
    #[error(
        "share forward cannot be granted back to your own grantor: {grantee}"
    )]
    CircularShareForward {
        /// The grantee.
        grantee: String,
    },
    /// A password does not follow the rules.
    #[error("password refused: {reason}")]
    WeakPassword {
        /// Which rule it breaks.
        reason: String,
    },
    /// A configured limit would be exceeded.
    #[error("limit exceeded: {what} (at most {max})")]
    Limit {
        /// The limited quantity.
        what: &'static str,
        /// The configured maximum.
        max: usize,
    },
    /// The op needs a crate feature this build lacks (an account op in a
    /// build without `accounts`); such ops still load from snapshots and
    /// logs, so that every build reads every snapshot.
    #[error("operation needs the `{feature}` feature of this build")]
    FeatureDisabled {
        /// The feature's name.
        feature: &'static str,
    },
    /// A name was invalid.
    #[error(transparent)]
    Name(NameError),
    /// The request is inconsistent in itself.
    #[error("invalid request: {reason}")]
    Invalid {
        /// What is wrong.
        reason: String,
    },
}

impl ErrorKind {
    /// A stable, machine-readable code for this kind.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::Denied { .. } => "denied",
            ErrorKind::NotFound { .. } => "not_found",
            ErrorKind::Duplicate { .. } => "duplicate",
            ErrorKind::Confusable { .. } => "confusable",
            ErrorKind::AdministrativeRoleOutside { .. } => {
                "administrative_role_outside"
            }
            ErrorKind::AdministrativePermissionOnExternalRole { .. } => {
                "administrative_permission_on_external_role"
            }
            ErrorKind::NotOwned { .. } => "not_owned",
            ErrorKind::WrongType { .. } => "wrong_type",
            ErrorKind::TermsNotAccepted { .. } => "terms_not_accepted",
            ErrorKind::MissingBinding { .. } => "missing_binding",
            ErrorKind::AppliesToAll { .. } => "applies_to_all",
            ErrorKind::Cycle { .. } => "cycle",
            ErrorKind::Limit { .. } => "limit",
            ErrorKind::WeakPassword { .. } => "weak_password",
            ErrorKind::Ceiling { .. } => "ceiling",
            ErrorKind::DependentShares { .. } => "dependent_shares",
            ErrorKind::NotConnected { .. } => "not_connected",
            ErrorKind::CircularShareForward { .. } => "circular_share_forward",
            ErrorKind::FeatureDisabled { .. } => "feature_disabled",
            ErrorKind::Name(_) => "invalid_name",
            ErrorKind::Invalid { .. } => "invalid",
        }
    }
}

/// A snapshot or an event log could not be loaded. Nothing was loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct LoadError {
    kind: Box<LoadErrorKind>,
}

impl LoadError {
    #[cold]
    pub(crate) fn new(kind: LoadErrorKind) -> LoadError {
        LoadError { kind: Box::new(kind) }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> &LoadErrorKind {
        &self.kind
    }
}

/// Why a snapshot or log was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The input is not well-formed (malformed JSON, unknown fields,
    /// wrong types, numbers out of range, nesting too deep).
    #[error("malformed snapshot: {0}")]
    Syntax(String),
    /// Reading the snapshot from its source failed (an I/O error of the
    /// reader given to [`Engine::read_json`](crate::Engine::read_json)).
    #[error("reading the snapshot failed: {0}")]
    Io(String),
    /// The snapshot's format version is not supported.
    #[error("unsupported snapshot version `{found}` (expected `{expected}`)")]
    Version {
        /// The version found.
        found: u32,
        /// The version this crate reads.
        expected: u32,
    },
    /// The schema is invalid.
    #[error("invalid schema: {0}")]
    Schema(SchemaError),
    /// An invariant does not hold.
    #[error("invalid snapshot at `{path}`: {reason}")]
    Invalid {
        /// Where, as a path into the snapshot.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// An event log does not replay.
    #[error("event log refused at event `{seq}`: {reason}")]
    Replay {
        /// The first bad event.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
    /// The schema given to load under
    /// ([`Loader::schema`](crate::Loader::schema),
    /// [`Engine::upgrade_schema`](crate::Engine::upgrade_schema)) does more
    /// than add object types, actions and default roles to the
    /// snapshot's.
    #[error("incompatible schema change: {0}")]
    SchemaChange(crate::schema::SchemaChange),
    /// The snapshot's audit chain is keyed, and no
    /// [`AuditKey`](crate::AuditKey) was given to verify it.
    #[error("the snapshot's audit chain is keyed: load it with its key")]
    KeyRequired,
    /// An [`AuditKey`](crate::AuditKey) was given, and the snapshot's
    /// audit chain is not keyed (a keyed loader never accepts an unkeyed
    /// chain, which anyone could have recomputed).
    #[error("the snapshot's audit chain is not keyed")]
    Unkeyed,
    /// The seal of a keyed snapshot does not match its state and where
    /// its log ends: the snapshot was altered, or the key is not the one
    /// it was written with.
    #[error(
        "the snapshot's seal does not match: it was altered or the key \
         differs"
    )]
    Seal,
    /// [`Loader::verify_log`](crate::Loader::verify_log): the snapshot's
    /// state is not what its log replays to.
    #[error("the snapshot's state differs from what its log replays to")]
    StateMismatch,
    /// [`Loader::verify_log`](crate::Loader::verify_log): the snapshot's
    /// log was drained, so it cannot be replayed from the beginning.
    #[error(
        "the snapshot's log does not start at the beginning: it cannot \
         be replayed"
    )]
    LogIncomplete,
}

/// How a refused mutation is recorded in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    /// The [`ErrorKind::code`] of the refusal.
    pub code: String,
    /// The error message.
    pub message: String,
}

impl From<&MutationError> for Refusal {
    fn from(e: &MutationError) -> Refusal {
        Refusal { code: e.code().to_owned(), message: e.to_string() }
    }
}
