//! The policy file format: what a TOML policy file holds, field by field.
//!
//! Every table refuses unknown fields, so a misspelt key is an error that
//! names it, never a setting silently ignored. Seed entries are wrapped in
//! [`Spanned`] so that a refusal points at the entry's line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
pub use toml::Spanned;

/// The format version this crate reads and writes.
pub const POLICY_VERSION: u32 = 1;

/// A whole policy file: the schema, the config and optional seed content.
///
/// Seed entries are applied in the order of the sections below (not the
/// order they appear in the file), each list in its own order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// The format version, [`POLICY_VERSION`].
    pub version: u32,
    /// After loading, remove whatever the engine created by itself that the
    /// file does not list: default and personal roles, their permissions,
    /// role memberships, grants and public shares. An exported file sets
    /// it, so that it reproduces the engine exactly.
    #[serde(default, skip_serializing_if = "is_false")]
    pub exact: bool,
    /// Object types, actions and default roles.
    pub schema: SchemaDecl,
    /// Engine settings.
    #[serde(default)]
    pub config: ConfigDecl,
    /// Organizations (created with the schema's default roles).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orgs: Vec<Spanned<OrgDecl>>,
    /// Users.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<Spanned<UserDecl>>,
    /// Data objects, parents first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<Spanned<ObjectDecl>>,
    /// Roles beyond the default ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Spanned<RoleDecl>>,
    /// Permissions, with the roles that hold them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<Spanned<PermissionDecl>>,
    /// Role grants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Spanned<GrantDecl>>,
    /// Connections between organizations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<Spanned<ConnectionDecl>>,
    /// Shares, each after the share its grantor forwards from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<Spanned<ShareDecl>>,
    /// Pending ownership transfers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transfers: Vec<Spanned<TransferDecl>>,
}

// Serde's `skip_serializing_if` passes a reference.
#[expect(clippy::trivially_copy_pass_by_ref, reason = "serde's signature")]
fn is_false(b: &bool) -> bool {
    !*b
}

fn yes() -> bool {
    true
}

/// The schema: object types beyond the built-in `users`, `roles` and
/// `permissions`, actions beyond (or redefining) the built-in `create`,
/// `read`, `update`, `delete`, `grant` and `revoke`, and default roles.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaDecl {
    /// Object type names.
    #[serde(default)]
    pub types: Vec<Spanned<String>>,
    /// Actions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Spanned<ActionDecl>>,
    /// Roles every new organization receives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_roles: Vec<Spanned<DefaultRoleDecl>>,
}

/// One action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionDecl {
    /// Its name.
    pub name: String,
    /// The least a share must give to reach it.
    pub threshold: ThresholdDecl,
    /// Never granted outside the organization, never reached by a token.
    #[serde(default, skip_serializing_if = "is_false")]
    pub administrative: bool,
    /// Through a share, the level also needed on every child of a type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub every_child: Vec<EveryChildDecl>,
}

/// A compound requirement of an action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EveryChildDecl {
    /// The child type.
    #[serde(rename = "type")]
    pub object_type: String,
    /// The level needed on each child of that type.
    pub level: LevelDecl,
}

/// A default role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultRoleDecl {
    /// Its name, unique among default roles.
    pub name: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// Object types a grant of it must be bound to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bound_to: Vec<String>,
    /// Its permissions, each applying to all objects of its type.
    #[serde(default)]
    pub permissions: Vec<TemplateDecl>,
}

/// A permission of a default role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateDecl {
    /// Its name; "`action` all `type`" when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The action.
    pub action: String,
    /// The object type.
    #[serde(rename = "type")]
    pub object_type: String,
}

/// A share threshold, lowercase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdDecl {
    /// Any accepted share.
    Shared,
    /// At least `read`.
    Read,
    /// `full`.
    Full,
    /// Never through a share.
    Owner,
}

/// A share level, lowercase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelDecl {
    /// Nothing.
    None,
    /// View.
    Read,
    /// View and edit.
    Full,
}

/// The engine settings; see [`accord::Config`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigDecl {
    /// Roles need the grantee's organization to accept the terms.
    pub require_terms: bool,
    /// Every new user gets a personal role.
    pub personal_roles: bool,
    /// Every new role can read itself.
    pub role_self_read: bool,
    /// New shares wait for the grantee's acceptance.
    pub require_share_acceptance: bool,
    /// Sharing and transfer need a connection between organizations.
    pub require_connection: bool,
    /// What happens downstream when a share is removed or lowered.
    pub downstream: DownstreamDecl,
    /// Object types whose new objects are public at once.
    pub public_by_default: Vec<String>,
    /// Size limits.
    pub limits: LimitsDecl,
}

impl Default for ConfigDecl {
    fn default() -> ConfigDecl {
        crate::convert::config_decl(&accord::Config::default())
    }
}

/// A downstream policy, lowercase.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DownstreamDecl {
    /// Downstream shares stay.
    #[default]
    Keep,
    /// Downstream shares are removed or clamped.
    Cascade,
    /// Refused while dependents exist.
    Restrict,
}

/// The size limits; see [`accord::Limits`]. Each defaults to the engine's
/// default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsDecl {
    /// Direct parents per object.
    pub max_parents: usize,
    /// Ancestors per object.
    pub max_ancestors: usize,
    /// Bindings per role grant.
    pub max_bindings: usize,
    /// Role grants per user.
    pub max_grants_per_user: usize,
    /// Permissions per role.
    pub max_permissions_per_role: usize,
    /// Objects in one permission's list.
    pub max_objects_per_permission: usize,
    /// API tokens per user.
    pub max_tokens_per_user: usize,
    /// Shares in a share-forward chain.
    pub max_share_depth: usize,
}

impl Default for LimitsDecl {
    fn default() -> LimitsDecl {
        crate::convert::limits_decl(&accord::Limits::default())
    }
}

/// An organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgDecl {
    /// Its unique name.
    pub name: String,
    /// Whether it accepted the terms of use.
    #[serde(default, skip_serializing_if = "is_false")]
    pub accepted_terms: bool,
}

/// A user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserDecl {
    /// The e-mail (login), unique case-insensitively.
    pub email: String,
    /// The organization's name.
    pub org: String,
    /// A platform administrator.
    #[serde(default, skip_serializing_if = "is_false")]
    pub platform_admin: bool,
}

/// A data object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectDecl {
    /// The object type.
    #[serde(rename = "type")]
    pub object_type: String,
    /// The key, unique within the type.
    pub key: String,
    /// The owning organization's name.
    pub org: String,
    /// Parents, as `type:key`, each declared above.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
}

/// A role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDecl {
    /// The owning organization's name.
    pub org: String,
    /// The name, unique in the organization. Naming a role the engine
    /// created (a default or personal role) refers to it.
    pub name: String,
    /// The description (checked against an existing role when given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Object types a grant must be bound to (checked against an existing
    /// role when given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_to: Option<Vec<String>>,
    /// The e-mail of the user whose personal role this is (the engine
    /// creates it with the user when `personal_roles` is on): the entry
    /// refers to that role whatever its name is now, and `name` stands
    /// for it in the rest of the file. Exports write it, since the name
    /// of a personal role holds a handle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_to: Option<String>,
}

/// A permission and the roles holding it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionDecl {
    /// The owning organization's name.
    pub org: String,
    /// The name (description).
    pub name: String,
    /// The action.
    pub action: String,
    /// The object type.
    #[serde(rename = "type")]
    pub object_type: String,
    /// Every current and future object of the type in the organization.
    #[serde(default, skip_serializing_if = "is_false")]
    pub applies_to_all: bool,
    /// Otherwise the objects, as `type:key` (`users:<e-mail>`,
    /// `roles:<name>`, `permissions:<name>` for the policy types).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<String>,
    /// The roles of the organization that hold it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// A role grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantDecl {
    /// The grantee's e-mail.
    pub user: String,
    /// The role's name.
    pub role: String,
    /// The role's organization; the grantee's when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Bindings, as `type:key`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<String>,
}

/// A connection between two organizations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionDecl {
    /// The requesting organization.
    pub from: String,
    /// The organization asked.
    pub to: String,
    /// Whether `to` accepted (else the request is pending).
    #[serde(default = "yes")]
    pub accepted: bool,
}

/// A share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareDecl {
    /// The root object, as `type:key`.
    pub root: String,
    /// The grantee: `user:<e-mail>`, `org:<name>` or `public`.
    pub to: String,
    /// `read_only`, `full`, `custom` or `exchange_data`.
    pub kind: ShareKindDecl,
    /// Levels per object type.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub levels: BTreeMap<String, LevelDecl>,
    /// Levels per object (`type:key`), overriding the type's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub objects: BTreeMap<String, LevelDecl>,
    /// Share-forward; the kind's default when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_forward: Option<bool>,
    /// The granting user's e-mail, who must hold share-forward; the
    /// owner when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Whether the grantee accepted it (else it stays pending).
    #[serde(default = "yes")]
    pub accepted: bool,
}

/// A share kind, lowercase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareKindDecl {
    /// Read Only.
    ReadOnly,
    /// Full Access.
    Full,
    /// Custom Access.
    Custom,
    /// Exchange Data.
    ExchangeData,
}

/// A pending ownership transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferDecl {
    /// The root object, as `type:key`.
    pub root: String,
    /// The recipient organization.
    pub to: String,
}
