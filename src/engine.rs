//! The [`Engine`], its [`Builder`] and [`Config`].

use serde::{Deserialize, Serialize};

use crate::audit::{AuditKey, Event, LogBase, Revision};
use crate::error::SchemaError;
use crate::id::{
    GrantId, ObjectId, OrgId, PermissionId, RoleId, TypeId, UserId,
};
use crate::index::Index;
use crate::model::{Grant, Model, Object, Org, Permission, Role, User};
use crate::schema::Schema;

/// Sizes that bound the cost of `check` and of each mutation. Exceeding one
/// is a typed [`ErrorKind::Limit`](crate::ErrorKind::Limit) error when the
/// policy changes; `check` itself never fails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Limits {
    /// Direct parents per object. Default 16.
    pub max_parents: usize,
    /// Ancestors (transitive) per object. Default 64.
    pub max_ancestors: usize,
    /// Bindings per role grant. Default 8.
    pub max_bindings: usize,
    /// Role grants per user. Default 256.
    pub max_grants_per_user: usize,
    /// Permissions per role. Default 4,096.
    pub max_permissions_per_role: usize,
    /// Objects in one permission's explicit list (and object levels in
    /// one share). Default 65,536.
    pub max_objects_per_permission: usize,
    /// API tokens per user. Default 64.
    pub max_tokens_per_user: usize,
    /// Shares in a share-forward chain from the owner to the grantee,
    /// the grantee's own included (an owner's share is 1). Bounds
    /// [`Engine::explain`]'s chain and the downstream derivation.
    /// Default 16.
    #[serde(default = "default_share_depth")]
    pub max_share_depth: usize,
}

fn default_share_depth() -> usize {
    16
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_parents: 16,
            max_ancestors: 64,
            max_bindings: 8,
            max_grants_per_user: 256,
            max_permissions_per_role: 4096,
            max_objects_per_permission: 65_536,
            max_tokens_per_user: 64,
            max_share_depth: default_share_depth(),
        }
    }
}

/// Behaviour settings of an engine. Presets choose these to reproduce
/// their source system.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// A role can only be granted to users whose organization accepted the
    /// terms of use. New organizations start without acceptance when this
    /// is on. Default off.
    pub require_terms: bool,
    /// Every role created by a user gets a permission to `read` itself, so
    /// its holders (also external ones) can see it. Default off.
    pub role_self_read: bool,
    /// Every new user gets a personal default role allowing `read` on the
    /// user itself and on that role. Default off.
    pub personal_roles: bool,
    /// New shares stay pending until the grantee accepts them. Default
    /// off.
    pub require_share_acceptance: bool,
    /// Sharing and ownership transfer need an accepted connection between
    /// the two organizations. Default off.
    pub require_connection: bool,
    /// What happens downstream when a share is removed or lowered.
    /// Default [`Downstream::Keep`].
    pub downstream: Downstream,
    /// Object types whose new objects are public at once: each gets a
    /// Read Only share to [`Grantee::Public`](crate::Grantee::Public),
    /// granted by the owner, until someone with the authority removes it
    /// ("require login"). Each entry must name a data type of the schema
    /// (not `users`, `roles` or `permissions`). Default empty.
    pub public_by_default: Vec<String>,
    /// Size limits.
    pub limits: Limits,
}

impl Config {
    /// The first entry of `public_by_default` that names no data type of
    /// `schema`, with its position.
    pub(crate) fn unknown_public_type(
        &self,
        schema: &Schema,
    ) -> Option<(usize, &str)> {
        let is_data_type = |t: &str| {
            schema
                .object_type(t)
                .and_then(|ty| schema.type_def(ty))
                .is_some_and(|d| !d.is_policy())
        };
        self.public_by_default
            .iter()
            .enumerate()
            .find(|(_, t)| !is_data_type(t))
            .map(|(i, t)| (i, t.as_str()))
    }
}

/// What happens to shares granted on the strength of a share that is
/// removed or lowered.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize,
)]
pub enum Downstream {
    /// Downstream shares stay as they are (the ceiling is checked only when
    /// a share is granted).
    #[default]
    Keep,
    /// Downstream shares that can no longer be derived by a chain from the
    /// owner are removed, and those above their grantor's remaining levels
    /// are clamped. Circular chains confer nothing.
    Cascade,
    /// The removal or lowering is refused while dependent shares exist,
    /// naming them.
    Restrict,
}

/// Builds an [`Engine`] from a [`Schema`] and a [`Config`].
///
/// # Example
///
/// ```
/// use accord::{Builder, Config, Schema};
///
/// let schema = Schema::builder().object_type("site").build()?;
/// let engine = Builder::new(schema).config(Config::default()).build()?;
/// assert_eq!(engine.revision().get(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    schema: Result<Schema, SchemaError>,
    config: Config,
    audit_key: Option<AuditKey>,
}

impl Builder {
    /// A builder for an engine over `schema` with the default config.
    #[must_use]
    pub fn new(schema: Schema) -> Builder {
        Builder::from_result(Ok(schema))
    }

    pub(crate) fn from_result(schema: Result<Schema, SchemaError>) -> Self {
        Builder { schema, config: Config::default(), audit_key: None }
    }

    /// Replaces the whole config.
    #[must_use]
    pub fn config(mut self, config: Config) -> Builder {
        self.config = config;
        self
    }

    /// Changes the config in place.
    #[must_use]
    pub fn configure(mut self, f: impl FnOnce(&mut Config)) -> Builder {
        f(&mut self.config);
        self
    }

    /// Keys the audit log's hash chain with `key` (HMAC-SHA256): see
    /// [`AuditKey`]. Snapshots of the engine are then sealed with it, and
    /// load only through a [`Loader`](crate::Loader) given the same key.
    #[must_use]
    pub fn audit_key(mut self, key: AuditKey) -> Builder {
        self.audit_key = Some(key);
        self
    }

    /// The schema being built on (`None` if it failed to build).
    #[must_use]
    pub fn schema(&self) -> Option<&Schema> {
        self.schema.as_ref().ok()
    }

    /// Builds an empty engine (revision 0).
    ///
    /// # Errors
    ///
    /// Returns an error if the schema does not hold its invariants (only
    /// possible for a schema that was deserialized rather than built), or
    /// if [`Config::public_by_default`] names no data type of it.
    pub fn build(self) -> Result<Engine, SchemaError> {
        let schema = self.schema?;
        schema.validate()?;
        if let Some((_, t)) = self.config.unknown_public_type(&schema) {
            return Err(SchemaError::unknown_type("public_by_default", t));
        }
        Ok(Engine {
            schema,
            config: self.config,
            model: Model::default(),
            index: Index::default(),
            log: Vec::new(),
            log_base: LogBase::default(),
            revision: Revision::ZERO,
            audit_key: self.audit_key,
        })
    }
}

/// The policy engine: a validated policy store, the index `check` reads,
/// and the audit log.
///
/// # Synchronization and cloning
///
/// `Engine` is `Send + Sync` and holds no interior mutability: every query
/// (`check`, `explain`, …) takes `&self` and every mutation goes through
/// [`Engine::act`], which takes `&mut self`. Any number of threads can
/// query one engine at once; to mutate while serving readers, wrap it in
/// [`Shared`](crate::Shared) (readers never wait for a mutation), or clone
/// it to take a consistent snapshot. A query never observes a
/// half-applied mutation: a mutation either returns `Ok` with everything
/// applied and indexed, or `Err` with nothing changed.
///
/// # Example
///
/// ```
/// use accord::{Actor, Decision, Subject, Timestamp, presets};
///
/// let mut engine = presets::arbiter().build()?;
/// let t = Timestamp::from_unix_millis(1_700_000_000_000);
/// let mut sys = engine.act(Actor::System, t);
/// let org = sys.create_org("Utility X")?.value;
/// let alice = sys.create_user(org, "alice@utility.example")?.value;
/// let read_all = sys.engine().role_by_name(org, "Read all").unwrap();
/// sys.accept_terms(org)?;
/// sys.grant_role(alice, read_all, &[])?;
/// let site = sys.create_object(org, "sites", "plant-x", &[])?.value;
///
/// let read = engine.schema().action("read").unwrap();
/// assert_eq!(engine.check(Subject::User(alice), read, site), Decision::Allow);
/// assert_eq!(engine.check(Subject::Anonymous, read, site), Decision::Deny);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) schema: Schema,
    pub(crate) config: Config,
    pub(crate) model: Model,
    pub(crate) index: Index,
    /// The retained audit events, from `log_base.seq` on.
    pub(crate) log: Vec<Event>,
    pub(crate) log_base: LogBase,
    pub(crate) revision: Revision,
    /// The key of the audit chain, if it is keyed; never serialized.
    pub(crate) audit_key: Option<AuditKey>,
}

impl Engine {
    /// Starts building an engine over `schema`.
    #[must_use]
    pub fn builder(schema: Schema) -> Builder {
        Builder::new(schema)
    }

    /// The schema.
    #[must_use]
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The config.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current revision: the number of successful mutations so far.
    #[must_use]
    pub fn revision(&self) -> Revision {
        self.revision
    }

    /// The audit log: every mutation attempted, allowed or refused, in
    /// order, since the last [`Engine::drain_events`] (all of them if the
    /// log was never drained).
    #[must_use]
    pub fn events(&self) -> &[Event] {
        &self.log
    }

    /// Moves the retained audit events out of the engine, oldest first,
    /// for the application to store elsewhere (a database, an append-only
    /// file), so the engine's memory does not grow with its history.
    ///
    /// The hash chain carries on: the next event is numbered and chained
    /// after the last drained one, and a snapshot taken after a drain
    /// records where its retained events start (sequence number, revision
    /// and digest), so loading still verifies every retained event.
    /// [`Engine::replay`] needs the whole history: the drained batches,
    /// concatenated in order, followed by [`Engine::events`].
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{Actor, Engine, Timestamp, presets};
    ///
    /// let mut engine = presets::arbiter().build()?;
    /// let t = Timestamp::default();
    /// engine.act(Actor::System, t).create_org("Utility X")?;
    /// let mut stored = engine.drain_events();
    /// assert!(engine.events().is_empty());
    ///
    /// engine.act(Actor::System, t).create_org("Utility Y")?;
    /// assert_eq!(engine.events()[0].seq, 1);
    /// stored.extend(engine.drain_events());
    ///
    /// let replayed = Engine::replay(presets::arbiter(), &stored)?;
    /// assert_eq!(replayed.revision(), engine.revision());
    /// let loaded = Engine::from_json(&engine.to_json())?;
    /// assert_eq!(loaded.revision(), engine.revision());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn drain_events(&mut self) -> Vec<Event> {
        if let Some(last) = self.log.last() {
            self.log_base = LogBase {
                seq: last.seq + 1,
                revision: last.revision,
                digest: last.digest.clone(),
            };
        }
        std::mem::take(&mut self.log)
    }

    /// The digest of the last audit event logged, drained ones included
    /// (empty before the first): the head of the hash chain, which the
    /// next event's digest covers. A store checks that its log ends
    /// where a snapshot's chain does by comparing it with the stored
    /// event's digest.
    #[must_use]
    pub fn chain_head(&self) -> &str {
        self.log
            .last()
            .map_or(self.log_base.digest.as_str(), |e| e.digest.as_str())
    }

    /// The sequence number the next audit event will get: the number of
    /// events ever logged, drained ones included. A store that keeps the
    /// log elsewhere resumes from here.
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{Actor, Timestamp, presets};
    ///
    /// let mut engine = presets::arbiter().build()?;
    /// engine.act(Actor::System, Timestamp::default()).create_org("X")?;
    /// let _ = engine.drain_events();
    /// assert_eq!(engine.next_event_seq(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn next_event_seq(&self) -> u64 {
        self.log_base.seq + self.log.len() as u64
    }

    /// Rebuilds the index from the policy store from scratch and compares
    /// it with the incrementally maintained one. Always `true` unless the
    /// engine has a bug; exposed for tests and fuzzers.
    #[doc(hidden)]
    #[must_use]
    pub fn index_is_consistent(&self) -> bool {
        Index::build(&self.model).same_as(&self.index)
    }

    /// An organization.
    #[must_use]
    pub fn org(&self, id: OrgId) -> Option<&Org> {
        self.model.orgs.get(id)
    }

    /// Finds an organization by name.
    #[must_use]
    pub fn org_by_name(&self, name: &str) -> Option<OrgId> {
        let name = crate::Name::new(name).ok()?;
        self.model.org_names.get(&name).copied()
    }

    /// Every organization.
    pub fn orgs(&self) -> impl Iterator<Item = (OrgId, &Org)> {
        self.model.orgs.iter()
    }

    /// A user.
    #[must_use]
    pub fn user(&self, id: UserId) -> Option<&User> {
        self.model.users.get(id)
    }

    /// Finds a user by e-mail, case-insensitively.
    #[must_use]
    pub fn user_by_email(&self, email: &str) -> Option<UserId> {
        self.model.emails.get(&self.model.users, email)
    }

    /// Every user.
    pub fn users(&self) -> impl Iterator<Item = (UserId, &User)> {
        self.model.users.iter()
    }

    /// An object.
    #[must_use]
    pub fn object(&self, id: ObjectId) -> Option<&Object> {
        self.model.objects.get(id)
    }

    /// Finds an object by type and key.
    #[must_use]
    pub fn object_by_key(&self, ty: TypeId, key: &str) -> Option<ObjectId> {
        let meta = match ty {
            crate::schema::USERS => Some("user"),
            crate::schema::ROLES => Some("role"),
            crate::schema::PERMISSIONS => Some("permission"),
            _ => None,
        };
        if let Some(prefix) = meta {
            // The key of a user, role or permission object is its handle.
            let n: usize =
                key.strip_prefix(prefix)?.strip_prefix('#')?.parse().ok()?;
            let object = match ty {
                crate::schema::USERS => {
                    self.model.users.get(UserId::new(n).ok()?)?.object
                }
                crate::schema::ROLES => {
                    self.model.roles.get(RoleId::new(n).ok()?)?.object
                }
                _ => {
                    self.model
                        .permissions
                        .get(PermissionId::new(n).ok()?)?
                        .object
                }
            };
            return self
                .model
                .objects
                .get(object)
                .filter(|o| o.key_is(key))
                .map(|_| object);
        }
        self.model.object_keys.get(&self.model.objects, ty, key)
    }

    /// The objects of type `ty` that `org` owns, in no promised order:
    /// its data objects of that type, or, for the built-in types `users`,
    /// `roles` and `permissions`, the objects standing for its users,
    /// roles or permissions.
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{presets, schema, Actor, Timestamp};
    ///
    /// let mut engine = presets::arbiter().build()?;
    /// let mut sys = engine.act(Actor::System, Timestamp::default());
    /// let org = sys.create_org("Utility")?.value;
    /// let site = sys.create_object(org, "sites", "site-1", &[])?.value;
    /// let ada = sys.create_user(org, "ada@example.com")?.value;
    /// let sites = engine.schema().object_type("sites").ok_or("no type")?;
    /// let owned: Vec<_> = engine.objects_of_type(org, sites).collect();
    /// assert_eq!(owned, [site]);
    /// let ada = engine.user(ada).ok_or("no user")?.object();
    /// assert!(engine.objects_of_type(org, schema::USERS).any(|o| o == ada));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn objects_of_type(
        &self,
        org: OrgId,
        ty: TypeId,
    ) -> impl Iterator<Item = ObjectId> + '_ {
        self.model.objects_of_type(org, ty)
    }

    /// Every object.
    pub fn objects(&self) -> impl Iterator<Item = (ObjectId, &Object)> {
        self.model.objects.iter()
    }

    /// A role.
    #[must_use]
    pub fn role(&self, id: RoleId) -> Option<&Role> {
        self.model.roles.get(id)
    }

    /// Finds a role by organization and name.
    #[must_use]
    pub fn role_by_name(&self, org: OrgId, name: &str) -> Option<RoleId> {
        self.model.role_names.get(&self.model.roles, org, name)
    }

    /// Every role.
    pub fn roles(&self) -> impl Iterator<Item = (RoleId, &Role)> {
        self.model.roles.iter()
    }

    /// A permission.
    #[must_use]
    pub fn permission(&self, id: PermissionId) -> Option<&Permission> {
        self.model.permissions.get(id)
    }

    /// Every permission.
    pub fn permissions(
        &self,
    ) -> impl Iterator<Item = (PermissionId, &Permission)> {
        self.model.permissions.iter()
    }

    /// A role grant.
    #[must_use]
    pub fn grant(&self, id: GrantId) -> Option<&Grant> {
        self.model.grants.get(id)
    }

    /// Every role grant.
    pub fn grants(&self) -> impl Iterator<Item = (GrantId, &Grant)> {
        self.model.grants.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_traits<T: Send + Sync + std::panic::UnwindSafe + 'static>() {}

    #[test]
    fn oibits() {
        assert_traits::<Engine>();
        assert_traits::<Builder>();
        assert_traits::<Schema>();
        assert_traits::<crate::MutationError>();
        assert_traits::<crate::SchemaError>();
        assert_traits::<crate::NameError>();
        assert_traits::<crate::IdError>();
    }
}
