//! Authorized, validated, audited changes to the policy.
//!
//! Every change is an [`Op`] applied by an [`Actor`] at a caller-supplied
//! [`Timestamp`]. [`Engine::act`] returns a [`Mutator`] whose methods build
//! the op, authorize it with the engine's own `check`, validate it, apply
//! it, update the index for exactly the records it touched, and append an
//! [`Event`](crate::Event) to the audit log — or refuse it with a typed
//! [`MutationError`], change nothing, and log the refusal.

#[cfg(feature = "accounts")]
mod accounts;
mod commit;
mod dispatch;
mod handlers;
mod sharing;
mod tokens;

pub(crate) use handlers::validate_email;

use serde::{Deserialize, Serialize};

use self::handlers::Who;
use crate::audit::Timestamp as Ts;
use crate::audit::{Actor, Event, Outcome, Revision, Timestamp};
use crate::error::{ErrorKind, MutationError, Refusal};
use crate::id::{
    GrantId, ObjectId, OrgId, PermissionId, RoleId, ShareId, TokenId, UserId,
};
use crate::share::{Grantee, ShareSpec};
use crate::token::Secret;
use crate::Engine;

/// One mutation, as recorded in the audit log.
///
/// Strings are kept as given, so a refused attempt with an invalid name is
/// logged faithfully; they are validated when the op is applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
#[non_exhaustive]
pub enum Op {
    /// Create an organization with the schema's default roles.
    CreateOrg {
        /// Unique name.
        name: String,
    },
    /// Delete an organization and everything it owns.
    DeleteOrg {
        /// The organization.
        org: OrgId,
    },
    /// Record that an organization accepted the terms of use.
    AcceptTerms {
        /// The organization.
        org: OrgId,
    },
    /// Create a user in an organization.
    CreateUser {
        /// The organization.
        org: OrgId,
        /// Unique (case-insensitively) e-mail.
        email: String,
    },
    /// Delete a user, its grants and its personal role.
    DeleteUser {
        /// The user.
        user: UserId,
    },
    /// Make a user a platform administrator, or not.
    SetPlatformAdmin {
        /// The user.
        user: UserId,
        /// The new flag.
        admin: bool,
    },
    /// Create a data object.
    CreateObject {
        /// The owning organization.
        org: OrgId,
        /// The object type's name.
        object_type: String,
        /// The application's key, unique within the type.
        key: String,
        /// The parents.
        parents: Vec<ObjectId>,
    },
    /// Delete a data object and the descendants left without a parent.
    DeleteObject {
        /// The object.
        object: ObjectId,
    },
    /// Add a parent to an object.
    LinkObject {
        /// The child.
        child: ObjectId,
        /// The new parent.
        parent: ObjectId,
    },
    /// Remove a parent from an object.
    UnlinkObject {
        /// The child.
        child: ObjectId,
        /// The parent to remove.
        parent: ObjectId,
    },
    /// Create a role.
    CreateRole {
        /// The owning organization.
        org: OrgId,
        /// Name, unique in the organization.
        name: String,
        /// Description.
        description: String,
        /// Names of object types a grant of the role must be bound to.
        required_bindings: Vec<String>,
    },
    /// Delete a role and its grants.
    DeleteRole {
        /// The role.
        role: RoleId,
    },
    /// Create a permission.
    CreatePermission {
        /// The owning organization.
        org: OrgId,
        /// Name (description).
        name: String,
        /// The action's name.
        action: String,
        /// The object type's name.
        object_type: String,
        /// Whether it covers all current and future objects of the type.
        applies_to_all: bool,
        /// The initial explicit object list.
        objects: Vec<ObjectId>,
    },
    /// Delete a permission.
    DeletePermission {
        /// The permission.
        permission: PermissionId,
    },
    /// Add an object to a permission's explicit list.
    AddObjectToPermission {
        /// The permission.
        permission: PermissionId,
        /// The object.
        object: ObjectId,
    },
    /// Remove an object from a permission's explicit list.
    RemoveObjectFromPermission {
        /// The permission.
        permission: PermissionId,
        /// The object.
        object: ObjectId,
    },
    /// Add a permission to a role.
    AddPermissionToRole {
        /// The role.
        role: RoleId,
        /// The permission.
        permission: PermissionId,
    },
    /// Remove a permission from a role.
    RemovePermissionFromRole {
        /// The role.
        role: RoleId,
        /// The permission.
        permission: PermissionId,
    },
    /// Grant a role to a user, optionally bound to objects.
    GrantRole {
        /// The grantee.
        user: UserId,
        /// The role.
        role: RoleId,
        /// The bindings.
        bindings: Vec<ObjectId>,
    },
    /// Revoke a role from a user.
    RevokeRole {
        /// The grantee.
        user: UserId,
        /// The role.
        role: RoleId,
    },
    /// Share a root object with a grantee, or update the existing share of
    /// that root to that grantee.
    Share {
        /// The root object.
        root: ObjectId,
        /// Who receives it.
        grantee: Grantee,
        /// What is shared.
        spec: ShareSpec,
    },
    /// Remove a share.
    Unshare {
        /// The share.
        share: ShareId,
    },
    /// Accept a pending share (by its grantee).
    AcceptShare {
        /// The share.
        share: ShareId,
    },
    /// Reject a pending share (by its grantee); it is removed.
    RejectShare {
        /// The share.
        share: ShareId,
    },
    /// Ask another organization for a connection.
    RequestConnection {
        /// The requesting organization.
        from: OrgId,
        /// The organization asked.
        to: OrgId,
    },
    /// Accept or reject a connection request (by the organization asked).
    RespondConnection {
        /// The requesting organization.
        from: OrgId,
        /// The organization asked.
        to: OrgId,
        /// Accept (`true`) or reject and remove (`false`).
        accept: bool,
    },
    /// Offer the ownership of a root object to another organization.
    Transfer {
        /// The root object.
        root: ObjectId,
        /// The recipient.
        to: OrgId,
    },
    /// Accept or reject a pending transfer (by the recipient).
    RespondTransfer {
        /// The root object.
        root: ObjectId,
        /// Accept (`true`) or reject (`false`).
        accept: bool,
    },
    /// Share a root with the user holding an e-mail address.
    ShareByEmail {
        /// The root object.
        root: ObjectId,
        /// The grantee's e-mail (login).
        email: String,
        /// What is shared.
        spec: ShareSpec,
    },
    /// Make a root public (a Read Only share to the public) or require a
    /// login for it (remove that share).
    SetPublic {
        /// The root object.
        root: ObjectId,
        /// Public (`true`) or login required (`false`).
        public: bool,
    },
    /// Issue an API token. The log records only the secret's hash.
    IssueToken {
        /// The user the token acts as.
        user: UserId,
        /// The object under which it works, if scoped.
        scope: Option<ObjectId>,
        /// A label.
        label: String,
        /// When it stops working, if ever.
        expires: Option<Ts>,
        /// SHA-256 (hex) of the secret.
        hash: String,
    },
    /// Revoke an API token.
    RevokeToken {
        /// The token.
        token: TokenId,
    },
    /// Create an account: a user with a login profile.
    CreateAccount {
        /// The organization.
        org: OrgId,
        /// The e-mail (login), unique case-insensitively.
        email: String,
        /// The display name.
        name: Option<String>,
        /// The IANA time zone.
        time_zone: String,
        /// The interface language.
        language: String,
        /// The password (its hash is never recorded).
        password: crate::accounts::PasswordField,
    },
    /// Edit an account; [`PasswordField::Keep`] keeps the password.
    ///
    /// [`PasswordField::Keep`]: crate::accounts::PasswordField::Keep
    EditAccount {
        /// The account's user.
        user: UserId,
        /// The new display name.
        name: Option<String>,
        /// The new e-mail.
        email: String,
        /// The new time zone.
        time_zone: String,
        /// The new language.
        language: String,
        /// The new password, or keep.
        password: crate::accounts::PasswordField,
    },
    /// Delete an account irreversibly, with its grants, shares and tokens;
    /// the data its organization owns stays.
    DeleteAccount {
        /// The account's user.
        user: UserId,
    },
}

impl Op {
    /// The op as a stored log would hold it: a password hash, which is
    /// never serialized, is withheld here too, so replaying a log from
    /// memory and from storage give the same engine.
    #[must_use]
    pub(crate) fn as_logged(&self) -> Op {
        use crate::accounts::{PasswordField, Redacted};
        let mut op = self.clone();
        if let Op::CreateAccount { password, .. }
        | Op::EditAccount { password, .. } = &mut op
        {
            if let PasswordField::Set(_) = password {
                *password = PasswordField::Set(Redacted(None));
            }
        }
        op
    }

    /// A short human name of the operation, e.g. `grant role`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Op::CreateOrg { .. } => "create organization",
            Op::DeleteOrg { .. } => "delete organization",
            Op::AcceptTerms { .. } => "accept terms",
            Op::CreateUser { .. } => "create user",
            Op::DeleteUser { .. } => "delete user",
            Op::SetPlatformAdmin { .. } => "set platform administrator",
            Op::CreateObject { .. } => "create object",
            Op::DeleteObject { .. } => "delete object",
            Op::LinkObject { .. } => "link object",
            Op::UnlinkObject { .. } => "unlink object",
            Op::CreateRole { .. } => "create role",
            Op::DeleteRole { .. } => "delete role",
            Op::CreatePermission { .. } => "create permission",
            Op::DeletePermission { .. } => "delete permission",
            Op::AddObjectToPermission { .. } => "add object to permission",
            Op::RemoveObjectFromPermission { .. } => {
                "remove object from permission"
            }
            Op::AddPermissionToRole { .. } => "add permission to role",
            Op::RemovePermissionFromRole { .. } => {
                "remove permission from role"
            }
            Op::GrantRole { .. } => "grant role",
            Op::RevokeRole { .. } => "revoke role",
            Op::Share { .. } => "share",
            Op::Unshare { .. } => "unshare",
            Op::AcceptShare { .. } => "accept share",
            Op::RejectShare { .. } => "reject share",
            Op::RequestConnection { .. } => "request connection",
            Op::RespondConnection { .. } => "respond to connection",
            Op::Transfer { .. } => "transfer",
            Op::RespondTransfer { .. } => "respond to transfer",
            Op::ShareByEmail { .. } => "share by e-mail",
            Op::SetPublic { .. } => "set public",
            Op::IssueToken { .. } => "issue token",
            Op::RevokeToken { .. } => "revoke token",
            Op::CreateAccount { .. } => "create account",
            Op::EditAccount { .. } => "edit account",
            Op::DeleteAccount { .. } => "delete account",
        }
    }
}

/// The result of a successful mutation: its value (usually the handle of
/// what it created) and the engine's new revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt<T> {
    /// What the mutation produced.
    pub value: T,
    /// The engine's revision after the mutation.
    pub revision: Revision,
}

impl<T: std::fmt::Display> std::fmt::Display for Receipt<T> {
    /// The value and the revision, e.g. `org#0 at r1`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {}", self.value, self.revision)
    }
}

impl Engine {
    /// Starts mutations by `actor` at time `at`.
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{Actor, Timestamp, presets};
    ///
    /// let mut engine = presets::arbiter().build()?;
    /// let t = Timestamp::from_unix_millis(0);
    /// let receipt = engine.act(Actor::System, t).create_org("Utility X")?;
    /// assert_eq!(receipt.revision.get(), 1);
    /// assert_eq!(engine.events().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn act(&mut self, actor: Actor, at: Timestamp) -> Mutator<'_> {
        Mutator { engine: self, actor, at }
    }

    /// Applies one op by `actor` at `at`, logging the attempt.
    ///
    /// # Errors
    ///
    /// Returns the reason the op was refused; the engine is then unchanged
    /// apart from the refusal appended to the audit log.
    pub fn apply(
        &mut self,
        actor: Actor,
        at: Timestamp,
        op: Op,
    ) -> Result<Revision, MutationError> {
        self.apply_inner(actor, at, op, Engine::execute).map(|(r, ())| r)
    }

    /// Resolves the actor, runs `run` — the op's handler — and logs the
    /// outcome. The event records exactly the result returned: an op
    /// logged as applied returns `Ok`, one logged as refused `Err`.
    fn apply_inner<T>(
        &mut self,
        actor: Actor,
        at: Timestamp,
        op: Op,
        run: impl FnOnce(&mut Engine, Who, &Op) -> Result<T, MutationError>,
    ) -> Result<(Revision, T), MutationError> {
        let result =
            self.resolve(actor, op.name()).and_then(|who| run(self, who, &op));
        let seq = self.next_event_seq();
        let outcome = match &result {
            Ok(_) => {
                self.revision = self.revision.next();
                Outcome::Applied
            }
            Err(e) => Outcome::Refused(Refusal::from(e)),
        };
        let revision = self.revision;
        let mut event = Event {
            seq,
            revision,
            actor,
            at,
            op,
            outcome,
            digest: String::new(),
        };
        let prev = self
            .log
            .last()
            .map_or(self.log_base.digest.as_str(), |e| e.digest.as_str());
        event.digest =
            crate::audit::digest(self.audit_key.as_ref(), prev, &event);
        self.log.push(event);
        result.map(|value| (revision, value))
    }
}

/// Mutations by one actor at one time; see [`Engine::act`].
///
/// Each method applies one [`Op`] and returns a [`Receipt`], or the
/// [`MutationError`] that refused it.
#[derive(Debug)]
pub struct Mutator<'a> {
    engine: &'a mut Engine,
    actor: Actor,
    at: Timestamp,
}

impl Mutator<'_> {
    /// The engine, for lookups between mutations.
    #[must_use]
    pub fn engine(&self) -> &Engine {
        self.engine
    }

    /// Applies `op` through the dispatch; for ops that create nothing.
    fn unit(&mut self, op: Op) -> Result<Receipt<()>, MutationError> {
        self.run(op, Engine::execute)
    }

    /// Applies `op` by calling `handler`, which is the op's handler called
    /// with the op's own fields — what [`Engine::execute`] calls for it,
    /// and what a replay of the log calls — and returns the handler's
    /// value, typed: nothing is converted after the op is applied.
    fn run<T>(
        &mut self,
        op: Op,
        handler: impl FnOnce(&mut Engine, Who, &Op) -> Result<T, MutationError>,
    ) -> Result<Receipt<T>, MutationError> {
        let (revision, value) =
            self.engine.apply_inner(self.actor, self.at, op, handler)?;
        Ok(Receipt { value, revision })
    }

    /// Creates an organization with the schema's default roles. Platform
    /// administrators and `System` only.
    ///
    /// # Errors
    ///
    /// Refused if the actor is not a platform administrator, the name is
    /// invalid (see [`Name`](crate::Name)) or taken, or it looks like an
    /// existing organization's name ([`ErrorKind::Confusable`]).
    pub fn create_org(
        &mut self,
        name: &str,
    ) -> Result<Receipt<OrgId>, MutationError> {
        let op = Op::CreateOrg { name: name.to_owned() };
        self.run(op, |e, who, op| e.create_org(who, op.name(), name))
    }

    /// Deletes an organization with its users, roles, permissions and
    /// objects. Platform administrators and `System` only.
    ///
    /// # Errors
    ///
    /// Refused if the actor is not a platform administrator or the
    /// organization does not exist.
    pub fn delete_org(
        &mut self,
        org: OrgId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::DeleteOrg { org })
    }

    /// Records that an organization accepted the terms of use. Platform
    /// administrators and `System` only.
    ///
    /// # Errors
    ///
    /// Refused if the actor is not a platform administrator or the
    /// organization does not exist.
    pub fn accept_terms(
        &mut self,
        org: OrgId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::AcceptTerms { org })
    }

    /// Creates a user in `org`. Platform administrators and `System` only.
    ///
    /// # Errors
    ///
    /// Refused if the actor is not a platform administrator, the
    /// organization does not exist, or the e-mail is invalid or taken.
    pub fn create_user(
        &mut self,
        org: OrgId,
        email: &str,
    ) -> Result<Receipt<UserId>, MutationError> {
        let op = Op::CreateUser { org, email: email.to_owned() };
        self.run(op, |e, who, op| e.create_user(who, op.name(), org, email))
    }

    /// Deletes a user with its grants and personal role. Platform
    /// administrators and `System` only.
    ///
    /// # Errors
    ///
    /// Refused if the actor is not a platform administrator or the user
    /// does not exist.
    pub fn delete_user(
        &mut self,
        user: UserId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::DeleteUser { user })
    }

    /// Sets or clears a user's platform administrator flag. Platform
    /// administrators and `System` only.
    ///
    /// # Errors
    ///
    /// Refused if the actor is not a platform administrator or the user
    /// does not exist.
    pub fn set_platform_admin(
        &mut self,
        user: UserId,
        admin: bool,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::SetPlatformAdmin { user, admin })
    }

    /// Creates a data object of type `object_type` (by name) owned by
    /// `org`, under `parents` (data objects). A user needs `create` on the
    /// type in their own organization and `read` on every parent.
    ///
    /// # Errors
    ///
    /// Refused on missing authority, an unknown or policy type, an unknown
    /// parent or one that is not a data object (the object of a user,
    /// role or permission), a taken key, or a limit.
    pub fn create_object(
        &mut self,
        org: OrgId,
        object_type: &str,
        key: &str,
        parents: &[ObjectId],
    ) -> Result<Receipt<ObjectId>, MutationError> {
        let op = Op::CreateObject {
            org,
            object_type: object_type.to_owned(),
            key: key.to_owned(),
            parents: parents.to_vec(),
        };
        self.run(op, |e, who, op| {
            e.create_object(who, op.name(), org, object_type, key, parents)
        })
    }

    /// Deletes a data object; a user needs `delete` on it. Descendants
    /// left without any parent are deleted with it, and so are the shares
    /// rooted at, the grants bound to and the API tokens scoped to any
    /// object deleted.
    ///
    /// # Errors
    ///
    /// Refused on missing authority or an unknown object.
    pub fn delete_object(
        &mut self,
        object: ObjectId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::DeleteObject { object })
    }

    /// Adds `parent` to `child`'s parents; a user needs `update` on the
    /// child and `read` on the parent.
    ///
    /// # Errors
    ///
    /// Refused on missing authority, unknown objects, a cycle or a limit.
    pub fn link_object(
        &mut self,
        child: ObjectId,
        parent: ObjectId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::LinkObject { child, parent })
    }

    /// Removes `parent` from `child`'s parents; a user needs `update` on
    /// the child.
    ///
    /// # Errors
    ///
    /// Refused on missing authority or if `parent` is not a parent.
    pub fn unlink_object(
        &mut self,
        child: ObjectId,
        parent: ObjectId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::UnlinkObject { child, parent })
    }

    /// Creates a role in `org`; a user needs `create` on `roles` in their
    /// own organization.
    ///
    /// # Errors
    ///
    /// Refused on missing authority, an invalid or taken name, or a
    /// description longer than [`MAX_DESCRIPTION_LEN`] bytes or holding a
    /// control, format, private-use, unassigned or invisible character or
    /// white space other than the plain space.
    ///
    /// [`MAX_DESCRIPTION_LEN`]: crate::MAX_DESCRIPTION_LEN
    pub fn create_role(
        &mut self,
        org: OrgId,
        name: &str,
        description: &str,
    ) -> Result<Receipt<RoleId>, MutationError> {
        self.create_bound_role(org, name, description, &[])
    }

    /// Creates a role that must be bound, when granted, to one object of
    /// each type in `required_bindings` (type names).
    ///
    /// # Errors
    ///
    /// As [`Mutator::create_role`], and for an unknown or policy type.
    pub fn create_bound_role(
        &mut self,
        org: OrgId,
        name: &str,
        description: &str,
        required_bindings: &[&str],
    ) -> Result<Receipt<RoleId>, MutationError> {
        let types =
            required_bindings.iter().map(|t| (*t).to_owned()).collect();
        let op = Op::CreateRole {
            org,
            name: name.to_owned(),
            description: description.to_owned(),
            required_bindings: types,
        };
        self.run(op, |e, who, op| {
            let n = op.name();
            e.create_role(who, n, org, name, description, required_bindings)
        })
    }

    /// Deletes a role with its grants; a user needs `delete` on it.
    ///
    /// # Errors
    ///
    /// Refused on missing authority or an unknown role.
    pub fn delete_role(
        &mut self,
        role: RoleId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::DeleteRole { role })
    }

    /// Creates a permission in `org` for `action` on `object_type` (names)
    /// covering every current and future object of the type owned by
    /// `org`. A user needs `create` on `permissions` in their own
    /// organization.
    ///
    /// # Errors
    ///
    /// Refused on missing authority, unknown names or an invalid name.
    pub fn create_permission_all(
        &mut self,
        org: OrgId,
        name: &str,
        action: &str,
        object_type: &str,
    ) -> Result<Receipt<PermissionId>, MutationError> {
        self.create_permission(org, name, action, object_type, true, &[])
    }

    /// Creates a permission in `org` for `action` on `object_type` (names)
    /// covering the listed objects, each of which must be of that type and
    /// owned by `org` (and readable by a user actor).
    ///
    /// # Errors
    ///
    /// As [`Mutator::create_permission_all`], and for a listed object that
    /// is unknown, of another type or owned by another organization.
    pub fn create_permission_for(
        &mut self,
        org: OrgId,
        name: &str,
        action: &str,
        object_type: &str,
        objects: &[ObjectId],
    ) -> Result<Receipt<PermissionId>, MutationError> {
        self.create_permission(org, name, action, object_type, false, objects)
    }

    fn create_permission(
        &mut self,
        org: OrgId,
        name: &str,
        action: &str,
        object_type: &str,
        applies_to_all: bool,
        objects: &[ObjectId],
    ) -> Result<Receipt<PermissionId>, MutationError> {
        let op = Op::CreatePermission {
            org,
            name: name.to_owned(),
            action: action.to_owned(),
            object_type: object_type.to_owned(),
            applies_to_all,
            objects: objects.to_vec(),
        };
        self.run(op, |e, who, op| {
            e.create_permission(
                who,
                op.name(),
                org,
                name,
                action,
                object_type,
                applies_to_all,
                objects,
            )
        })
    }

    /// Deletes a permission; a user needs `delete` on it.
    ///
    /// # Errors
    ///
    /// Refused on missing authority or an unknown permission.
    pub fn delete_permission(
        &mut self,
        permission: PermissionId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::DeletePermission { permission })
    }

    /// Adds an object to a permission's list. A user needs `update` on the
    /// permission and `read` on the object, and the user, the permission
    /// and the object must share one organization.
    ///
    /// # Errors
    ///
    /// Refused on missing authority, an applies-to-all permission, an
    /// object of another type or organization, or a duplicate.
    pub fn add_object_to_permission(
        &mut self,
        permission: PermissionId,
        object: ObjectId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::AddObjectToPermission { permission, object })
    }

    /// Removes an object from a permission's list; a user needs `update`
    /// on the permission, in its organization.
    ///
    /// # Errors
    ///
    /// Refused on missing authority, an applies-to-all permission, or an
    /// object not in the list.
    pub fn remove_object_from_permission(
        &mut self,
        permission: PermissionId,
        object: ObjectId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::RemoveObjectFromPermission { permission, object })
    }

    /// Adds a permission to a role. A user needs `update` on the role; the
    /// user, the role and the permission must share one organization. An
    /// administrative permission cannot join a role granted outside its
    /// organization.
    ///
    /// # Errors
    ///
    /// Refused on missing authority, organization mismatch, the
    /// administrative rule, or a duplicate.
    pub fn add_permission_to_role(
        &mut self,
        role: RoleId,
        permission: PermissionId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::AddPermissionToRole { role, permission })
    }

    /// Removes a permission from a role; a user needs `update` on the role,
    /// in its organization.
    ///
    /// # Errors
    ///
    /// Refused on missing authority or a permission not in the role.
    pub fn remove_permission_from_role(
        &mut self,
        role: RoleId,
        permission: PermissionId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::RemovePermissionFromRole { role, permission })
    }

    /// Grants a role to a user, bound to `bindings` (empty for an unbound
    /// grant). A user actor needs `grant` on the role and must be in the
    /// role's organization; the grantee's organization must have accepted
    /// the terms when the engine requires it; a role with administrative
    /// permissions cannot be granted to a user of another organization; a
    /// role that declares required binding types needs one binding of each.
    ///
    /// # Errors
    ///
    /// Refused when any rule above fails, or the role is already granted.
    pub fn grant_role(
        &mut self,
        user: UserId,
        role: RoleId,
        bindings: &[ObjectId],
    ) -> Result<Receipt<GrantId>, MutationError> {
        let op = Op::GrantRole { user, role, bindings: bindings.to_vec() };
        self.run(op, |e, who, op| {
            e.grant_role(who, op.name(), user, role, bindings)
        })
    }

    /// Revokes a role from a user; a user actor needs `revoke` on the role
    /// and must be in the role's organization. External grantees can be
    /// revoked too.
    ///
    /// # Errors
    ///
    /// Refused on missing authority or if the role is not granted.
    pub fn revoke_role(
        &mut self,
        user: UserId,
        role: RoleId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::RevokeRole { user, role })
    }

    /// Shares `root` (and everything under it) with `grantee`, or updates
    /// the existing share of `root` to `grantee`.
    ///
    /// * A member of the owning organization needs `grant` on the root;
    ///   the share is then granted by the owner and is never capped.
    /// * Anyone else needs share-forward on the root (or an ancestor)
    ///   through an accepted share, and can grant no level — per type and
    ///   per object — above their own.
    /// * Updating an existing share needs edit rights over it: the owner
    ///   edits any share; a Full Access holder any share (also upstream);
    ///   a Custom or Exchange Data holder only shares they granted; a Read
    ///   Only holder none.
    ///
    /// # Errors
    ///
    /// Refused on missing authority, a ceiling violation, an invalid spec,
    /// missing connection, a circular share-forward, or dependent shares
    /// under [`Downstream::Restrict`](crate::Downstream::Restrict).
    pub fn share(
        &mut self,
        root: ObjectId,
        grantee: Grantee,
        spec: ShareSpec,
    ) -> Result<Receipt<ShareId>, MutationError> {
        let op = Op::Share { root, grantee, spec: spec.clone() };
        self.run(op, |e, who, op| {
            e.share_op(who, op.name(), root, grantee, &spec)
        })
    }

    /// Removes a share. Needs edit rights over it, or being its grantee.
    ///
    /// # Errors
    ///
    /// Refused on missing authority, an unknown share, or dependent shares
    /// under [`Downstream::Restrict`](crate::Downstream::Restrict).
    pub fn unshare(
        &mut self,
        share: ShareId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::Unshare { share })
    }

    /// Accepts a pending share; the actor must be its grantee (or a member
    /// of the grantee organization).
    ///
    /// # Errors
    ///
    /// Refused for anyone else, an unknown share or one already accepted.
    pub fn accept_share(
        &mut self,
        share: ShareId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::AcceptShare { share })
    }

    /// Rejects (removes) a pending share; the actor must be its grantee.
    ///
    /// # Errors
    ///
    /// Refused for anyone else, an unknown share or one already accepted.
    pub fn reject_share(
        &mut self,
        share: ShareId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::RejectShare { share })
    }

    /// Asks organization `to` for a connection, on behalf of `from`.
    ///
    /// # Errors
    ///
    /// Refused unless the actor belongs to `from`, or if a connection
    /// between the two exists or is pending.
    pub fn request_connection(
        &mut self,
        from: OrgId,
        to: OrgId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::RequestConnection { from, to })
    }

    /// Accepts or rejects the connection `from` requested of `to`.
    ///
    /// # Errors
    ///
    /// Refused unless the actor belongs to `to` and the request is pending.
    pub fn respond_connection(
        &mut self,
        from: OrgId,
        to: OrgId,
        accept: bool,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::RespondConnection { from, to, accept })
    }

    /// Offers the ownership of `root` (with the objects under it owned by
    /// the same organization) to organization `to`. Needs `delete` on the
    /// root, in the owning organization: only the owner transfers.
    ///
    /// # Errors
    ///
    /// Refused on missing authority, an unknown object or organization, or
    /// a missing connection when connections are required.
    pub fn transfer(
        &mut self,
        root: ObjectId,
        to: OrgId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::Transfer { root, to })
    }

    /// Accepts or rejects a pending transfer; the actor must belong to the
    /// recipient. On acceptance the recipient owns the objects; the old
    /// owner keeps access only through shares; other shares are unchanged.
    ///
    /// # Errors
    ///
    /// Refused unless a transfer of `root` to the actor's organization is
    /// pending.
    pub fn respond_transfer(
        &mut self,
        root: ObjectId,
        accept: bool,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::RespondTransfer { root, accept })
    }

    /// Shares `root` with the user whose login is `email`
    /// (case-insensitive); otherwise as [`Mutator::share`].
    ///
    /// # Errors
    ///
    /// Refused with [`ErrorKind::NotFound`] when no account has that
    /// e-mail, and as [`Mutator::share`].
    pub fn share_by_email(
        &mut self,
        root: ObjectId,
        email: &str,
        spec: ShareSpec,
    ) -> Result<Receipt<ShareId>, MutationError> {
        let op = Op::ShareByEmail {
            root,
            email: email.to_owned(),
            spec: spec.clone(),
        };
        self.run(op, |e, who, op| {
            e.share_by_email(who, op.name(), root, email, &spec)
        })
    }

    /// Makes `root` public (readable by anyone, listed by
    /// [`Engine::public_objects`]) or requires a login for it. Needs the
    /// authority to share the root (to make it public) or to remove its
    /// public share (to require a login).
    ///
    /// # Errors
    ///
    /// Refused on missing authority, if the root is already in the asked
    /// state, or for an unknown object.
    pub fn set_public(
        &mut self,
        root: ObjectId,
        public: bool,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::SetPublic { root, public })
    }

    /// Issues a read-only API token acting as `user`, optionally limited to
    /// `scope` and everything under it, optionally expiring. The actor must
    /// be `user` (or `System`), and `user` must be able to read the scope.
    ///
    /// Returns the token's handle and its secret. The secret is shown only
    /// here: the engine and its audit log keep only its hash.
    ///
    /// # Errors
    ///
    /// Refused on missing authority, an unknown user or scope, too many
    /// tokens, or if the operating system's random source fails.
    pub fn issue_token(
        &mut self,
        user: UserId,
        scope: Option<ObjectId>,
        label: &str,
        expires: Option<Ts>,
    ) -> Result<Receipt<(TokenId, Secret)>, MutationError> {
        let next = self.engine.model.tokens.next_id::<TokenId>();
        let secret = next.and_then(crate::token::generate);
        let hash = secret
            .as_ref()
            .map(|s| crate::token::hash(s.expose()))
            .unwrap_or_default();
        let op = Op::IssueToken {
            user,
            scope,
            label: label.to_owned(),
            expires,
            hash: hash.clone(),
        };
        self.run(op, |e, who, op| {
            let id = e.issue_token(
                who,
                op.name(),
                user,
                scope,
                label,
                expires,
                &hash,
            )?;
            // Without a secret the op's hash is empty, which the handler
            // refuses (it is not 64 hexadecimal digits) before it changes
            // anything: an applied op always has its secret.
            match secret {
                Some(secret) => Ok((id, secret)),
                None => Err(ErrorKind::Invalid {
                    reason: "random source unavailable".to_owned(),
                }
                .into()),
            }
        })
    }

    /// Revokes an API token. Allowed to its user, to anyone holding
    /// `update` on its scope (a project administrator), and to platform
    /// administrators.
    ///
    /// # Errors
    ///
    /// Refused on missing authority or an unknown token.
    pub fn revoke_token(
        &mut self,
        token: TokenId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::RevokeToken { token })
    }

    /// Creates an account in `org`: a user whose login is `email`, with a
    /// password (at least 8 characters, a letter and a digit) stored only
    /// as an Argon2id hash, a time zone (IANA name) and a language.
    /// Platform administrators and `System` only.
    ///
    /// # Errors
    ///
    /// Refused for other actors, a duplicate or invalid e-mail, a weak
    /// password, an unknown time zone or an invalid language.
    #[cfg(feature = "accounts")]
    #[cfg_attr(docsrs, doc(cfg(feature = "accounts")))]
    pub fn create_account(
        &mut self,
        org: OrgId,
        email: &str,
        name: Option<&str>,
        password: &str,
        time_zone: &str,
        language: &str,
    ) -> Result<Receipt<UserId>, MutationError> {
        let password = password_field(password, false);
        let op = Op::CreateAccount {
            org,
            email: email.to_owned(),
            name: name.map(str::to_owned),
            time_zone: time_zone.to_owned(),
            language: language.to_owned(),
            password: password.clone(),
        };
        self.run(op, |e, who, op| {
            e.create_account(
                who,
                op.name(),
                org,
                email,
                name,
                time_zone,
                language,
                &password,
            )
        })
    }

    /// Edits an account's name, e-mail (still unique), time zone, language
    /// and password; a blank `password` keeps the old one. Platform
    /// administrators and `System` only.
    ///
    /// # Errors
    ///
    /// As [`Mutator::create_account`], and for a user without an account.
    #[cfg(feature = "accounts")]
    #[cfg_attr(docsrs, doc(cfg(feature = "accounts")))]
    pub fn edit_account(
        &mut self,
        user: UserId,
        email: &str,
        name: Option<&str>,
        password: &str,
        time_zone: &str,
        language: &str,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::EditAccount {
            user,
            name: name.map(str::to_owned),
            email: email.to_owned(),
            time_zone: time_zone.to_owned(),
            language: language.to_owned(),
            password: password_field(password, true),
        })
    }

    /// Deletes an account irreversibly: its grants, shares and tokens go;
    /// the objects its organization owns stay; the audit log keeps the
    /// history. Platform administrators and `System` only.
    ///
    /// # Errors
    ///
    /// Refused for other actors or an unknown account.
    #[cfg(feature = "accounts")]
    #[cfg_attr(docsrs, doc(cfg(feature = "accounts")))]
    pub fn delete_account(
        &mut self,
        user: UserId,
    ) -> Result<Receipt<()>, MutationError> {
        self.unit(Op::DeleteAccount { user })
    }
}

/// Turns a plaintext password into what the op records: its hash (never
/// serialized), `Keep` for a blank edit, or the reason it is refused.
#[cfg(feature = "accounts")]
fn password_field(
    password: &str,
    blank_keeps: bool,
) -> crate::accounts::PasswordField {
    use crate::accounts::{password_problem, PasswordField, Redacted};
    if blank_keeps && password.is_empty() {
        return PasswordField::Keep;
    }
    if let Some(problem) = password_problem(password) {
        return PasswordField::Rejected(problem.to_owned());
    }
    match crate::accounts::hash_password(password) {
        Some(h) => PasswordField::Set(Redacted(Some(h))),
        None => {
            PasswordField::Rejected("random source unavailable".to_owned())
        }
    }
}
