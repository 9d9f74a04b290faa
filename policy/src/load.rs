//! Loading a policy file: build the engine from the schema and config,
//! then apply the seed content through the engine's own mutations.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use accord::{
    Actor, Builder, Config, Engine, GrantId, Mutator, ObjectId, OrgId,
    PermissionId, Receipt, RoleId, Schema, ShareId, ShareSpec, ShareStatus,
    Timestamp, UserId,
};

use crate::convert;
use crate::error::{PolicyError, PolicyErrorKind};
use crate::file::{
    ConnectionDecl, GrantDecl, ObjectDecl, OrgDecl, PermissionDecl,
    PolicyFile, RoleDecl, ShareDecl, ShareKindDecl, Spanned, TransferDecl,
    UserDecl, POLICY_VERSION,
};
use crate::refs;

/// The largest policy or test file read, in bytes (32 MiB).
pub const MAX_FILE_BYTES: u64 = 32 << 20;

/// Parses the text of a policy file.
///
/// # Errors
///
/// Malformed TOML, a wrong type, an unknown or missing field, or another
/// format version, placed at its line and column.
///
/// # Example
///
/// ```
/// let file = accord_policy::parse("version = 1\n[schema]\ntypes = [\"site\"]\n")?;
/// assert_eq!(file.schema.types.len(), 1);
/// let err = accord_policy::parse("version = 1\n[schema]\ntypo = 1\n").unwrap_err();
/// assert_eq!(err.line(), Some(3));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse(text: &str) -> Result<PolicyFile, PolicyError> {
    let file: PolicyFile = toml::from_str(text)
        .map_err(|e| PolicyError::syntax(&e).locate(None, text))?;
    if file.version != POLICY_VERSION {
        return Err(PolicyError::new(
            PolicyErrorKind::Version,
            format!(
                "unsupported policy file version `{}` (expected \
                 `{POLICY_VERSION}`)",
                file.version
            ),
        )
        .in_entry("version"));
    }
    Ok(file)
}

/// Parses and loads the text of a policy file; `origin` (a file name)
/// prefixes error messages.
///
/// # Errors
///
/// As [`parse`] and [`PolicyFile::load`], placed in the text.
///
/// # Example
///
/// ```
/// use accord::Subject;
///
/// let text = r#"
/// version = 1
/// [schema]
/// types = ["site"]
/// [[schema.default_roles]]
/// name = "Readers"
/// permissions = [{ action = "read", type = "site" }]
///
/// [[orgs]]
/// name = "Utility"
/// [[users]]
/// email = "ann@utility.example"
/// org = "Utility"
/// [[objects]]
/// type = "site"
/// key = "plant"
/// org = "Utility"
/// [[grants]]
/// user = "ann@utility.example"
/// role = "Readers"
/// "#;
/// let engine = accord_policy::load_str(text, Some("policy.toml"))?;
/// let ann = engine.user_by_email("ann@utility.example").unwrap();
/// let site = accord_policy::refs::object(&engine, "site:plant", None)?;
/// let read = engine.schema().action("read").unwrap();
/// assert!(engine.check(Subject::User(ann), read, site).is_allow());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_str(
    text: &str,
    origin: Option<&str>,
) -> Result<Engine, PolicyError> {
    parse(text).and_then(|f| f.load()).map_err(|e| e.locate(origin, text))
}

/// Reads a file of at most [`MAX_FILE_BYTES`] as UTF-8 text.
///
/// # Errors
///
/// The file cannot be read, is too large or is not UTF-8.
pub fn read_text(path: &Path) -> Result<String, PolicyError> {
    let name = path.display().to_string();
    let io = |e: std::io::Error| {
        PolicyError::new(
            PolicyErrorKind::Io,
            format!("cannot read `{name}`: {e}"),
        )
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_FILE_BYTES {
        return Err(PolicyError::new(
            PolicyErrorKind::Io,
            format!("`{name}` is larger than {MAX_FILE_BYTES} bytes"),
        ));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    String::from_utf8(bytes).map_err(|e| {
        PolicyError::new(
            PolicyErrorKind::Syntax,
            format!(
                "`{name}` is not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Reads, parses and loads a policy file.
///
/// # Errors
///
/// As [`read_text`] and [`load_str`]; messages start with the path.
pub fn load_path(path: &Path) -> Result<Engine, PolicyError> {
    let text = read_text(path)?;
    load_str(&text, Some(&path.display().to_string()))
}

impl PolicyFile {
    /// The schema the file declares.
    ///
    /// # Errors
    ///
    /// The first invalid declaration.
    pub fn schema(&self) -> Result<Schema, PolicyError> {
        convert::schema(&self.schema)
    }

    /// The config the file declares.
    ///
    /// # Errors
    ///
    /// As [`PolicyFile::schema`], and a public-by-default type that is
    /// not a data type.
    pub fn config(&self) -> Result<Config, PolicyError> {
        convert::config(&self.config, &self.schema()?)
    }

    /// A builder for an empty engine of the file's schema and config.
    ///
    /// # Errors
    ///
    /// As [`PolicyFile::config`].
    pub fn builder(&self) -> Result<Builder, PolicyError> {
        let schema = self.schema()?;
        let config = convert::config(&self.config, &schema)?;
        Ok(Builder::new(schema).config(config))
    }

    /// Builds the engine and applies the seed content, every entry as the
    /// `System` actor (a share with `by` as its granting user) through
    /// [`Engine::act`], so that each is authorized, validated and audited
    /// as through the API.
    ///
    /// # Errors
    ///
    /// The first entry the engine refuses or that names something unknown,
    /// with its section and index (`grants[2]`) and position.
    pub fn load(&self) -> Result<Engine, PolicyError> {
        self.load_at(Timestamp::from_unix_millis(0))
    }

    /// As [`PolicyFile::load`], the audit events stamped `at`.
    ///
    /// # Errors
    ///
    /// As [`PolicyFile::load`].
    pub fn load_at(&self, at: Timestamp) -> Result<Engine, PolicyError> {
        let engine = self.build_empty()?;
        let mut s = Seeder::new(engine, at, true);
        s.exact = self.exact;
        s.seed(&Sections::of(self))?;
        Ok(s.engine)
    }

    fn build_empty(&self) -> Result<Engine, PolicyError> {
        self.builder()?.build().map_err(|e| {
            PolicyError::new(PolicyErrorKind::Schema, e.to_string())
                .in_entry("schema")
        })
    }

    /// Loads with shares whose granting user cannot grant them any more
    /// re-created as granted by the owner; returns their indexes.
    pub(crate) fn load_with_fallback(
        &self,
    ) -> Result<(Engine, Vec<usize>), PolicyError> {
        let engine = self.build_empty()?;
        let mut s = Seeder::new(engine, Timestamp::from_unix_millis(0), true);
        s.exact = self.exact;
        s.fallback = Some(Vec::new());
        s.seed(&Sections::of(self))?;
        let fell = s.fallback.take().unwrap_or_default();
        Ok((s.engine, fell))
    }

    /// The file as TOML text.
    ///
    /// # Errors
    ///
    /// A value TOML cannot hold (none in practice).
    pub fn to_toml(&self) -> Result<String, PolicyError> {
        toml::to_string(self).map_err(|e| {
            PolicyError::new(PolicyErrorKind::Export, e.to_string())
        })
    }
}

/// The seed sections of a policy or test file.
#[derive(Debug)]
pub(crate) struct Sections<'a> {
    pub(crate) orgs: &'a [Spanned<OrgDecl>],
    pub(crate) users: &'a [Spanned<UserDecl>],
    pub(crate) objects: &'a [Spanned<ObjectDecl>],
    pub(crate) roles: &'a [Spanned<RoleDecl>],
    pub(crate) permissions: &'a [Spanned<PermissionDecl>],
    pub(crate) grants: &'a [Spanned<GrantDecl>],
    pub(crate) connections: &'a [Spanned<ConnectionDecl>],
    pub(crate) shares: &'a [Spanned<ShareDecl>],
    pub(crate) transfers: &'a [Spanned<TransferDecl>],
}

impl<'a> Sections<'a> {
    fn of(f: &'a PolicyFile) -> Sections<'a> {
        Sections {
            orgs: &f.orgs,
            users: &f.users,
            objects: &f.objects,
            roles: &f.roles,
            permissions: &f.permissions,
            grants: &f.grants,
            connections: &f.connections,
            shares: &f.shares,
            transfers: &f.transfers,
        }
    }
}

/// What the file named, so that `exact` can remove the rest.
#[derive(Debug, Default)]
struct Kept {
    roles: HashSet<RoleId>,
    permissions: HashSet<PermissionId>,
    members: HashSet<(RoleId, PermissionId)>,
    grants: HashSet<GrantId>,
    shares: HashSet<ShareId>,
}

/// Applies file entries to an engine.
#[derive(Debug)]
pub(crate) struct Seeder {
    pub(crate) engine: Engine,
    at: Timestamp,
    /// Seeding a fresh engine: entries naming what the engine created by
    /// itself refer to it instead of creating it again.
    seeding: bool,
    exact: bool,
    kept: Kept,
    fallback: Option<Vec<usize>>,
    share_index: usize,
    /// File names of personal roles whose name is now another.
    aliases: HashMap<(OrgId, String), RoleId>,
}

type Res<T> = std::result::Result<T, PolicyError>;

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort_unstable();
    v
}

impl Seeder {
    pub(crate) fn new(engine: Engine, at: Timestamp, seeding: bool) -> Self {
        Seeder {
            engine,
            at,
            seeding,
            exact: false,
            kept: Kept::default(),
            fallback: None,
            share_index: 0,
            aliases: HashMap::new(),
        }
    }

    /// Runs one mutation as `actor`.
    pub(crate) fn run<T>(
        &mut self,
        actor: Actor,
        f: impl FnOnce(
            &mut Mutator<'_>,
        )
            -> std::result::Result<Receipt<T>, accord::MutationError>,
    ) -> Res<T> {
        let mut m = self.engine.act(actor, self.at);
        f(&mut m).map(|r| r.value).map_err(|e| PolicyError::refused(&e))
    }

    pub(crate) fn seed(&mut self, file: &Sections<'_>) -> Res<()> {
        let sys = Actor::System;
        each(file.orgs, "orgs", |d| self.org(sys, d))?;
        each(file.users, "users", |d| self.user(sys, d))?;
        each(file.objects, "objects", |d| self.object(sys, d))?;
        each(file.roles, "roles", |d| self.role(sys, d))?;
        each(file.permissions, "permissions", |d| self.permission(sys, d))?;
        if self.exact {
            self.prune_roles()?;
        }
        each(file.grants, "grants", |d| self.grant(sys, d))?;
        if self.exact {
            self.prune_grants()?;
        }
        each(file.connections, "connections", |d| self.connection(d))?;
        for (i, d) in file.shares.iter().enumerate() {
            self.share_index = i;
            let actor = match &d.get_ref().by {
                Some(email) => {
                    refs::user(&self.engine, email).map(Actor::User).map_err(
                        |e| e.in_entry(format!("shares[{i}]")).at(d.span()),
                    )?
                }
                None => sys,
            };
            self.share(actor, d.get_ref()).map_err(|e| {
                e.in_entry(format!("shares[{i}]")).at(d.span())
            })?;
        }
        if self.exact {
            self.prune_shares()?;
        }
        each(file.transfers, "transfers", |d| self.transfer(sys, d))?;
        Ok(())
    }

    fn org_of(&self, name: &str) -> Res<OrgId> {
        refs::org(&self.engine, name)
    }

    pub(crate) fn org(&mut self, actor: Actor, d: &OrgDecl) -> Res<()> {
        let org = self.run(actor, |m| m.create_org(&d.name))?;
        let accepted =
            self.engine.org(org).is_some_and(accord::Org::accepted_terms);
        if d.accepted_terms && !accepted {
            self.run(actor, |m| m.accept_terms(org))?;
        }
        Ok(())
    }

    pub(crate) fn user(&mut self, actor: Actor, d: &UserDecl) -> Res<()> {
        let org = self.org_of(&d.org)?;
        let user = self.run(actor, |m| m.create_user(org, &d.email))?;
        if d.platform_admin {
            self.run(actor, |m| m.set_platform_admin(user, true))?;
        }
        Ok(())
    }

    fn objects(
        &self,
        names: &[String],
        context: Option<OrgId>,
    ) -> Res<Vec<ObjectId>> {
        names
            .iter()
            .map(|n| {
                let alias = context.zip(n.strip_prefix("roles:")).and_then(
                    |(org, name)| self.aliases.get(&(org, name.to_owned())),
                );
                match alias.and_then(|r| self.engine.role(*r)) {
                    Some(r) => Ok(r.object()),
                    None => refs::object(&self.engine, n, context),
                }
            })
            .collect()
    }

    pub(crate) fn object(&mut self, actor: Actor, d: &ObjectDecl) -> Res<()> {
        let org = self.org_of(&d.org)?;
        let parents = self.objects(&d.parents, None)?;
        let (ty, key) = (&d.object_type, &d.key);
        self.run(actor, |m| m.create_object(org, ty, key, &parents))?;
        Ok(())
    }

    /// The role called `name` in `org`, by the file's name.
    fn role_named(&self, org: OrgId, name: &str) -> Res<RoleId> {
        match self.aliases.get(&(org, name.to_owned())) {
            Some(r) => Ok(*r),
            None => refs::role(&self.engine, org, name),
        }
    }

    pub(crate) fn role(&mut self, actor: Actor, d: &RoleDecl) -> Res<()> {
        let org = self.org_of(&d.org)?;
        if let Some(email) = &d.personal_to {
            return self.personal_role(org, email, d);
        }
        if self.seeding {
            if let Some(id) = self.engine.role_by_name(org, &d.name) {
                if !self.kept.roles.contains(&id) {
                    return self.same_role(id, d);
                }
            }
        }
        let description = d.description.as_deref().unwrap_or_default();
        let bound: Vec<&str> =
            d.bound_to.iter().flatten().map(String::as_str).collect();
        let id = self.run(actor, |m| {
            m.create_bound_role(org, &d.name, description, &bound)
        })?;
        self.kept.roles.insert(id);
        Ok(())
    }

    /// An entry naming the personal role of a user.
    fn personal_role(
        &mut self,
        org: OrgId,
        email: &str,
        d: &RoleDecl,
    ) -> Res<()> {
        if !self.seeding {
            return Err(PolicyError::reference(
                "`personal_to` names a role the engine created: seed \
                 content only",
            ));
        }
        let user = refs::user(&self.engine, email)?;
        let role = self
            .engine
            .user(user)
            .and_then(accord::User::personal_role)
            .filter(|r| self.engine.role(*r).is_some_and(|r| r.org() == org))
            .ok_or_else(|| {
                PolicyError::reference(format!(
                    "user `{email}` has no personal role in organization \
                     `{}`",
                    d.org
                ))
            })?;
        if self.kept.roles.contains(&role) {
            return Err(PolicyError::reference(format!(
                "the personal role of `{email}` is listed twice"
            )));
        }
        self.kept.roles.insert(role);
        self.aliases.insert((org, d.name.clone()), role);
        Ok(())
    }

    /// An entry naming a role the engine created: it must agree with it.
    fn same_role(&mut self, id: RoleId, d: &RoleDecl) -> Res<()> {
        let Some(r) = self.engine.role(id) else { return Ok(()) };
        if let Some(desc) = &d.description {
            if desc != r.description() {
                return Err(PolicyError::reference(format!(
                    "role `{}` exists with another description",
                    d.name
                )));
            }
        }
        if let Some(bound) = &d.bound_to {
            let schema = self.engine.schema();
            let have: Vec<&str> = r
                .required_bindings()
                .iter()
                .filter_map(|t| schema.type_name(*t))
                .collect();
            if sorted(have)
                != sorted(bound.iter().map(String::as_str).collect())
            {
                return Err(PolicyError::reference(format!(
                    "role `{}` exists with other required bindings",
                    d.name
                )));
            }
        }
        self.kept.roles.insert(id);
        Ok(())
    }

    pub(crate) fn permission(
        &mut self,
        actor: Actor,
        d: &PermissionDecl,
    ) -> Res<()> {
        let org = self.org_of(&d.org)?;
        let objects = self.objects(&d.objects, Some(org))?;
        let roles: Vec<RoleId> = d
            .roles
            .iter()
            .map(|r| self.role_named(org, r))
            .collect::<Res<_>>()?;
        let existing = if self.seeding {
            self.automatic_permission(org, d, &objects)
        } else {
            None
        };
        let id = match existing {
            Some(id) => id,
            None => {
                let (name, action, ty) = (&d.name, &d.action, &d.object_type);
                if d.applies_to_all {
                    self.run(actor, |m| {
                        m.create_permission_all(org, name, action, ty)
                    })?
                } else {
                    self.run(actor, |m| {
                        m.create_permission_for(
                            org, name, action, ty, &objects,
                        )
                    })?
                }
            }
        };
        self.kept.permissions.insert(id);
        for role in roles {
            let member = self
                .engine
                .role(role)
                .is_some_and(|r| r.permissions().any(|p| p == id));
            let fresh = !self.kept.members.contains(&(role, id));
            if !(member && fresh && self.seeding) {
                self.run(actor, |m| m.add_permission_to_role(role, id))?;
            }
            self.kept.members.insert((role, id));
        }
        Ok(())
    }

    /// A permission the engine created in `org` that the entry describes
    /// and no earlier entry claimed.
    fn automatic_permission(
        &self,
        org: OrgId,
        d: &PermissionDecl,
        objects: &[ObjectId],
    ) -> Option<PermissionId> {
        let schema = self.engine.schema();
        let action = schema.action(&d.action)?;
        let ty = schema.object_type(&d.object_type)?;
        let want = sorted(objects.to_vec());
        self.engine.org(org)?.permissions().find(|id| {
            !self.kept.permissions.contains(id)
                && self.engine.permission(*id).is_some_and(|p| {
                    p.name() == d.name.as_str()
                        && p.action() == action
                        && p.object_type() == ty
                        && p.applies_to_all() == d.applies_to_all
                        && sorted(p.objects().collect()) == want
                })
        })
    }

    fn grant_of(&self, user: UserId, role: RoleId) -> Option<GrantId> {
        self.engine
            .user(user)?
            .grants()
            .find(|g| self.engine.grant(*g).is_some_and(|r| r.role() == role))
    }

    pub(crate) fn grant(&mut self, actor: Actor, d: &GrantDecl) -> Res<()> {
        let user = refs::user(&self.engine, &d.user)?;
        let org = match &d.org {
            Some(o) => self.org_of(o)?,
            None => self.engine.user(user).map(accord::User::org).ok_or_else(
                || {
                    PolicyError::reference(format!(
                        "unknown user `{}`",
                        d.user
                    ))
                },
            )?,
        };
        let role = self.role_named(org, &d.role)?;
        let bindings = self.objects(&d.bindings, Some(org))?;
        if self.seeding {
            if let Some(g) = self.grant_of(user, role) {
                let same = self.engine.grant(g).is_some_and(|r| {
                    sorted(r.bindings().to_vec()) == sorted(bindings.clone())
                });
                if same && !self.kept.grants.contains(&g) {
                    self.kept.grants.insert(g);
                    return Ok(());
                }
            }
        }
        let g = self.run(actor, |m| m.grant_role(user, role, &bindings))?;
        self.kept.grants.insert(g);
        Ok(())
    }

    fn connection(&mut self, d: &ConnectionDecl) -> Res<()> {
        let (from, to) = (self.org_of(&d.from)?, self.org_of(&d.to)?);
        self.run(Actor::System, |m| m.request_connection(from, to))?;
        if d.accepted {
            self.run(Actor::System, |m| m.respond_connection(from, to, true))?;
        }
        Ok(())
    }

    /// The spec a share entry describes.
    pub(crate) fn spec(&self, d: &ShareDecl) -> Res<ShareSpec> {
        let mut spec = match d.kind {
            ShareKindDecl::ReadOnly => ShareSpec::read_only(),
            ShareKindDecl::Full => ShareSpec::full(),
            ShareKindDecl::Custom => ShareSpec::custom(),
            ShareKindDecl::ExchangeData => ShareSpec::exchange_data(),
        };
        for (t, l) in &d.levels {
            refs::object_type(&self.engine, t)?;
            spec = spec.level(t, convert::level(*l));
        }
        for (o, l) in &d.objects {
            let id = refs::object(&self.engine, o, None)?;
            spec = spec.object_level(id, convert::level(*l));
        }
        if let Some(f) = d.share_forward {
            spec = spec.share_forward(f);
        }
        Ok(spec)
    }

    pub(crate) fn share(&mut self, actor: Actor, d: &ShareDecl) -> Res<()> {
        let root = refs::object(&self.engine, &d.root, None)?;
        let grantee = refs::grantee(&self.engine, &d.to)?;
        let spec = self.spec(d)?;
        if !d.accepted && !self.engine.config().require_share_acceptance {
            return Err(PolicyError::new(
                PolicyErrorKind::Reference,
                "a share cannot stay pending: the config does not require \
                 acceptance",
            ));
        }
        let existing = self.engine.share_of(root, grantee);
        let id = match existing {
            Some(id)
                if self.seeding
                    && !self.kept.shares.contains(&id)
                    && self.engine.share_spec(id).as_ref() == Some(&spec) =>
            {
                id
            }
            _ => {
                let attempt =
                    self.run(actor, |m| m.share(root, grantee, spec.clone()));
                match (attempt, actor, self.fallback.is_some()) {
                    (Err(_), Actor::User(_), true) => {
                        let i = self.share_index;
                        if let Some(f) = &mut self.fallback {
                            f.push(i);
                        }
                        self.run(Actor::System, |m| {
                            m.share(root, grantee, spec)
                        })?
                    }
                    (result, _, _) => result?,
                }
            }
        };
        self.kept.shares.insert(id);
        let pending = self
            .engine
            .share(id)
            .is_some_and(|s| s.status() == ShareStatus::Pending);
        if d.accepted && pending {
            self.run(Actor::System, |m| m.accept_share(id))?;
        }
        Ok(())
    }

    pub(crate) fn transfer(
        &mut self,
        actor: Actor,
        d: &TransferDecl,
    ) -> Res<()> {
        let root = refs::object(&self.engine, &d.root, None)?;
        let to = self.org_of(&d.to)?;
        self.run(actor, |m| m.transfer(root, to))?;
        Ok(())
    }

    /// `exact`: removes the roles, permissions and memberships the engine
    /// created by itself that the file does not list.
    fn prune_roles(&mut self) -> Res<()> {
        let sys = Actor::System;
        let roles: Vec<RoleId> = self
            .engine
            .roles()
            .map(|(id, _)| id)
            .filter(|id| !self.kept.roles.contains(id))
            .collect();
        for r in roles {
            self.run(sys, |m| m.delete_role(r))
                .map_err(|e| e.in_entry("exact"))?;
        }
        let perms: Vec<PermissionId> = self
            .engine
            .permissions()
            .map(|(id, _)| id)
            .filter(|id| !self.kept.permissions.contains(id))
            .collect();
        for p in perms {
            self.run(sys, |m| m.delete_permission(p))
                .map_err(|e| e.in_entry("exact"))?;
        }
        let members: Vec<(RoleId, PermissionId)> = self
            .engine
            .roles()
            .flat_map(|(id, r)| r.permissions().map(move |p| (id, p)))
            .filter(|m| !self.kept.members.contains(m))
            .collect();
        for (r, p) in members {
            self.run(sys, |m| m.remove_permission_from_role(r, p))
                .map_err(|e| e.in_entry("exact"))?;
        }
        Ok(())
    }

    /// `exact`: revokes the grants the engine made by itself that the file
    /// does not list.
    fn prune_grants(&mut self) -> Res<()> {
        let grants: Vec<(UserId, RoleId)> = self
            .engine
            .grants()
            .filter(|(id, _)| !self.kept.grants.contains(id))
            .map(|(_, g)| (g.user(), g.role()))
            .collect();
        for (u, r) in grants {
            self.run(Actor::System, |m| m.revoke_role(u, r))
                .map_err(|e| e.in_entry("exact"))?;
        }
        Ok(())
    }

    /// `exact`: removes the shares the engine made by itself (public ones)
    /// that the file does not list.
    fn prune_shares(&mut self) -> Res<()> {
        let shares: Vec<ShareId> = self
            .engine
            .shares()
            .map(|(id, _)| id)
            .filter(|id| !self.kept.shares.contains(id))
            .collect();
        for s in shares {
            self.run(Actor::System, |m| m.unshare(s))
                .map_err(|e| e.in_entry("exact"))?;
        }
        Ok(())
    }
}

/// Applies `f` to every entry of a section, naming the failing one.
fn each<T>(
    entries: &[Spanned<T>],
    section: &str,
    mut f: impl FnMut(&T) -> Res<()>,
) -> Res<()> {
    for (i, d) in entries.iter().enumerate() {
        f(d.get_ref())
            .map_err(|e| e.in_entry(format!("{section}[{i}]")).at(d.span()))?;
    }
    Ok(())
}
