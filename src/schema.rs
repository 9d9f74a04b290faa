//! The schema: object types, actions, their share thresholds, and the
//! default roles every new organization receives.
//!
//! A [`Schema`] is fixed when the [`Engine`](crate::Engine) is built. Every
//! schema contains three built-in *policy* object types — `users`, `roles`
//! and `permissions` — and six built-in actions — `create`, `read`,
//! `update`, `delete`, `grant` and `revoke` — because the engine authorizes
//! changes to the policy with the same `check` it answers for data.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::SchemaError;
use crate::id::{ActionId, Ident, Name, TypeId};

mod evolve;
pub use evolve::SchemaChange;

/// Maximum number of actions a schema may declare (the engine keeps the
/// actions a subject holds on an object in one 64-bit word).
pub const MAX_ACTIONS: usize = 64;

/// The built-in object type of users.
pub const USERS: TypeId = TypeId::builtin(0);
/// The built-in object type of roles.
pub const ROLES: TypeId = TypeId::builtin(1);
/// The built-in object type of permissions.
pub const PERMISSIONS: TypeId = TypeId::builtin(2);

impl TypeId {
    const fn builtin(i: u32) -> TypeId {
        // Built-in handles are small constants, far below `MAX`.
        match TypeId::from_raw(i) {
            Some(t) => t,
            None => TypeId::MAX,
        }
    }
}

/// The built-in `create` action.
pub const CREATE: ActionId = ActionId::builtin(0);
/// The built-in `read` action.
pub const READ: ActionId = ActionId::builtin(1);
/// The built-in `update` action.
pub const UPDATE: ActionId = ActionId::builtin(2);
/// The built-in `delete` action.
pub const DELETE: ActionId = ActionId::builtin(3);
/// The built-in `grant` action (give a role to a user).
pub const GRANT: ActionId = ActionId::builtin(4);
/// The built-in `revoke` action (take a role from a user).
pub const REVOKE: ActionId = ActionId::builtin(5);

impl ActionId {
    const fn builtin(i: u32) -> ActionId {
        match ActionId::from_raw(i) {
            Some(a) => a,
            None => ActionId::MAX,
        }
    }
}

/// A share's level for one object type or one object: `None < Read < Full`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
pub enum Level {
    /// Nothing of this data is visible (its tab is hidden).
    None,
    /// View, no additions or changes.
    Read,
    /// View and edit.
    Full,
}

/// The minimum a share must give for an action to be reached through it.
///
/// Ordered `Shared < Read < Full < Owner`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
pub enum Threshold {
    /// Any accepted share suffices, even one whose level is `None` (for
    /// example annual metrics shown in reporting).
    Shared,
    /// At least [`Level::Read`].
    Read,
    /// [`Level::Full`].
    Full,
    /// Never reachable through a share (delete or transfer the root).
    Owner,
}

impl Threshold {
    /// Whether a share giving `level` reaches this threshold.
    #[must_use]
    pub fn is_met_by(self, level: Level) -> bool {
        match self {
            Threshold::Shared => true,
            Threshold::Read => level >= Level::Read,
            Threshold::Full => level >= Level::Full,
            Threshold::Owner => false,
        }
    }
}

/// The declaration of one action.
///
/// # Example
///
/// ```
/// use accord::{ActionSpec, Level, Threshold};
///
/// let spec = ActionSpec::new("select_energy_meters", Threshold::Full)
///     .requires_every_child("energy_meter", Level::Full);
/// assert_eq!(spec.threshold(), Threshold::Full);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionSpec {
    name: String,
    threshold: Threshold,
    administrative: bool,
    every_child: Vec<(String, Level)>,
}

impl ActionSpec {
    /// An action called `name` reachable through shares at `threshold`.
    #[must_use]
    pub fn new(name: &str, threshold: Threshold) -> ActionSpec {
        ActionSpec {
            name: name.to_owned(),
            threshold,
            administrative: false,
            every_child: Vec::new(),
        }
    }

    /// Marks the action administrative on every object type: it is never
    /// granted to users of another organization, never reached by a token.
    #[must_use]
    pub fn administrative(mut self) -> ActionSpec {
        self.administrative = true;
        self
    }

    /// Through a share, the action also needs `level` on every child of
    /// `child_type` of the object (a compound action).
    #[must_use]
    pub fn requires_every_child(
        mut self,
        child_type: &str,
        level: Level,
    ) -> ActionSpec {
        self.every_child.push((child_type.to_owned(), level));
        self
    }

    /// The action's share threshold.
    #[must_use]
    pub fn threshold(&self) -> Threshold {
        self.threshold
    }
}

/// A resolved action definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionDef {
    threshold: Threshold,
    administrative: bool,
    every_child: Vec<(TypeId, Level)>,
}

impl ActionDef {
    /// The share threshold of this action.
    #[must_use]
    pub fn threshold(&self) -> Threshold {
        self.threshold
    }
    /// Whether the action is administrative on every object type.
    #[must_use]
    pub fn is_administrative(&self) -> bool {
        self.administrative
    }
    /// The compound requirements: a level needed on every child of a type.
    pub fn every_child(&self) -> impl Iterator<Item = (TypeId, Level)> + '_ {
        self.every_child.iter().copied()
    }
}

/// A resolved object type definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeDef {
    policy: bool,
}

impl TypeDef {
    /// Whether this is one of the built-in policy types (`users`, `roles`,
    /// `permissions`).
    #[must_use]
    pub fn is_policy(&self) -> bool {
        self.policy
    }
}

/// A permission of a default role: `action` on every current and future
/// object of type `object_type` in the new organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionTemplate {
    /// The permission's name (description).
    pub name: Name,
    /// The action.
    pub action: ActionId,
    /// The object type.
    pub object_type: TypeId,
}

/// A role created in every new organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleTemplate {
    /// The role's name, unique in its organization.
    pub name: Name,
    /// The role's description.
    pub description: String,
    /// Its permissions, each applying to all objects of its type.
    pub permissions: Vec<PermissionTemplate>,
    /// Object types a grant of the role must be bound to.
    #[serde(default)]
    pub required_bindings: Vec<TypeId>,
}

/// The object types, actions and default roles of an engine.
///
/// # Example
///
/// ```
/// use accord::{Schema, Threshold, schema};
///
/// let schema = Schema::builder()
///     .object_type("site")
///     .action("read_values", Threshold::Read)
///     .default_role("Read sites", "read every site", &[("read", "site")])
///     .build()?;
/// let site = schema.object_type("site").unwrap();
/// assert!(schema.action("read_values").is_some());
/// assert_eq!(schema.object_type("users"), Some(schema::USERS));
/// assert_eq!(schema.type_name(site), Some("site"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// Written as a sequence of `[name, definition]` pairs: a type's
    /// position is its handle, and JSON tools may reorder object keys but
    /// never array elements.
    #[serde(
        serialize_with = "indexmap::map::serde_seq::serialize",
        deserialize_with = "unique_pairs"
    )]
    types: IndexMap<Ident, TypeDef>,
    /// As `types`.
    #[serde(
        serialize_with = "indexmap::map::serde_seq::serialize",
        deserialize_with = "unique_pairs"
    )]
    actions: IndexMap<Ident, ActionDef>,
    default_roles: Vec<RoleTemplate>,
}

/// A sequence of `[name, definition]` pairs into a map, refusing a name
/// given twice (it would shift every later handle).
fn unique_pairs<'de, D, V>(d: D) -> Result<IndexMap<Ident, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    let pairs = Vec::<(Ident, V)>::deserialize(d)?;
    let mut map = IndexMap::with_capacity(pairs.len());
    for (name, def) in pairs {
        if map.contains_key(&name) {
            return Err(serde::de::Error::custom(format_args!(
                "duplicate name `{name}`"
            )));
        }
        map.insert(name, def);
    }
    Ok(map)
}

impl Schema {
    /// Starts a schema holding only the built-in types and actions.
    #[must_use]
    pub fn builder() -> SchemaBuilder {
        SchemaBuilder::default()
    }

    /// Looks up an object type by name.
    #[must_use]
    pub fn object_type(&self, name: &str) -> Option<TypeId> {
        self.types.get_index_of(name).and_then(|i| TypeId::new(i).ok())
    }

    /// Looks up an action by name.
    #[must_use]
    pub fn action(&self, name: &str) -> Option<ActionId> {
        self.actions.get_index_of(name).and_then(|i| ActionId::new(i).ok())
    }

    /// The name of an object type.
    #[must_use]
    pub fn type_name(&self, ty: TypeId) -> Option<&str> {
        self.types.get_index(ty.as_usize()).map(|(k, _)| k.as_str())
    }

    /// The name of an action.
    #[must_use]
    pub fn action_name(&self, action: ActionId) -> Option<&str> {
        self.actions.get_index(action.as_usize()).map(|(k, _)| k.as_str())
    }

    /// The definition of an object type.
    #[must_use]
    pub fn type_def(&self, ty: TypeId) -> Option<&TypeDef> {
        self.types.get_index(ty.as_usize()).map(|(_, v)| v)
    }

    /// The definition of an action.
    #[must_use]
    pub fn action_def(&self, action: ActionId) -> Option<&ActionDef> {
        self.actions.get_index(action.as_usize()).map(|(_, v)| v)
    }

    /// Every object type, in declaration order.
    pub fn object_types(&self) -> impl Iterator<Item = TypeId> + '_ {
        (0..self.types.len()).filter_map(|i| TypeId::new(i).ok())
    }

    /// Every action, in declaration order.
    pub fn actions(&self) -> impl Iterator<Item = ActionId> + '_ {
        (0..self.actions.len()).filter_map(|i| ActionId::new(i).ok())
    }

    /// The roles every new organization receives.
    #[must_use]
    pub fn default_roles(&self) -> &[RoleTemplate] {
        &self.default_roles
    }

    /// Whether a permission for `action` on `ty` is *administrative*: the
    /// action is declared administrative, or the type is a policy type
    /// (`users`, `roles`, `permissions`) and the action is not `read`.
    ///
    /// Administrative permissions may not reach users of another
    /// organization, and tokens never exercise them.
    #[must_use]
    pub fn is_administrative(&self, action: ActionId, ty: TypeId) -> bool {
        let declared =
            self.action_def(action).is_some_and(ActionDef::is_administrative);
        let policy = self.type_def(ty).is_some_and(TypeDef::is_policy);
        declared || (policy && action != READ)
    }

    pub(crate) fn action_count(&self) -> usize {
        self.actions.len()
    }

    /// Re-checks the invariants a builder establishes (used when loading).
    pub(crate) fn validate(&self) -> Result<(), SchemaError> {
        let builtin_types = ["users", "roles", "permissions"];
        for (i, name) in builtin_types.iter().enumerate() {
            match self.types.get_index(i) {
                Some((k, d)) if k.as_str() == *name && d.policy => {}
                _ => return Err(SchemaError::builtin(name)),
            }
        }
        for (k, d) in self.types.iter().skip(builtin_types.len()) {
            if d.policy {
                return Err(SchemaError::builtin(k.as_str()));
            }
        }
        for (i, name) in BUILTIN_ACTIONS.iter().enumerate() {
            match self.actions.get_index(i) {
                Some((k, _)) if k.as_str() == name.0 => {}
                _ => return Err(SchemaError::builtin(name.0)),
            }
        }
        if self.actions.len() > MAX_ACTIONS {
            return Err(SchemaError::too_many_actions());
        }
        let types = self.types.len();
        let actions = self.actions.len();
        for def in self.actions.values() {
            if def.every_child.iter().any(|(t, _)| t.as_usize() >= types) {
                return Err(SchemaError::dangling("compound action"));
            }
        }
        let mut role_names = std::collections::HashSet::new();
        for role in &self.default_roles {
            if !role_names.insert(&role.name) {
                return Err(SchemaError::duplicate(
                    "default role",
                    role.name.as_str(),
                ));
            }
            crate::text::validate_description(&role.description)?;
            for p in &role.permissions {
                if p.action.as_usize() >= actions
                    || p.object_type.as_usize() >= types
                {
                    return Err(SchemaError::dangling("default role"));
                }
            }
            if role.required_bindings.iter().any(|t| t.as_usize() >= types) {
                return Err(SchemaError::dangling("default role"));
            }
        }
        Ok(())
    }
}

const BUILTIN_ACTIONS: [(&str, Threshold); 6] = [
    ("create", Threshold::Full),
    ("read", Threshold::Read),
    ("update", Threshold::Full),
    ("delete", Threshold::Owner),
    ("grant", Threshold::Owner),
    ("revoke", Threshold::Owner),
];

/// Builds a [`Schema`]; see [`Schema::builder`].
///
/// Declarations are collected and validated together by
/// [`SchemaBuilder::build`].
#[derive(Clone, Debug, Default)]
pub struct SchemaBuilder {
    types: Vec<String>,
    actions: Vec<ActionSpec>,
    roles: Vec<RoleDecl>,
}

/// A default role as declared: name, description and
/// `(permission name, action, object type)` triples.
#[derive(Clone, Debug)]
struct RoleDecl {
    name: String,
    description: String,
    permissions: Vec<(String, String, String)>,
    required_bindings: Vec<String>,
}

impl SchemaBuilder {
    /// Declares an object type.
    #[must_use]
    pub fn object_type(mut self, name: &str) -> SchemaBuilder {
        self.types.push(name.to_owned());
        self
    }

    /// Declares a plain action with the given share threshold.
    #[must_use]
    pub fn action(self, name: &str, threshold: Threshold) -> SchemaBuilder {
        self.action_spec(ActionSpec::new(name, threshold))
    }

    /// Declares an action from a full [`ActionSpec`].
    ///
    /// Declaring a built-in action (`read`, `update`, …) again replaces its
    /// threshold and flags.
    #[must_use]
    pub fn action_spec(mut self, spec: ActionSpec) -> SchemaBuilder {
        self.actions.push(spec);
        self
    }

    /// Declares a default role: `permissions` lists `(action, object type)`
    /// pairs, each becoming an applies-to-all permission named
    /// "`action` all `type`".
    #[must_use]
    pub fn default_role(
        self,
        name: &str,
        description: &str,
        permissions: &[(&str, &str)],
    ) -> SchemaBuilder {
        let named: Vec<(String, &str, &str)> = permissions
            .iter()
            .map(|(a, t)| (format!("{a} all {t}"), *a, *t))
            .collect();
        let refs: Vec<(&str, &str, &str)> =
            named.iter().map(|(n, a, t)| (n.as_str(), *a, *t)).collect();
        self.default_role_named(name, description, &refs)
    }

    /// Declares a default role whose permissions carry explicit names:
    /// `(permission name, action, object type)`.
    #[must_use]
    pub fn default_role_named(
        mut self,
        name: &str,
        description: &str,
        permissions: &[(&str, &str, &str)],
    ) -> SchemaBuilder {
        let permissions = permissions
            .iter()
            .map(|(n, a, t)| {
                ((*n).to_owned(), (*a).to_owned(), (*t).to_owned())
            })
            .collect();
        self.roles.push(RoleDecl {
            name: name.to_owned(),
            description: description.to_owned(),
            permissions,
            required_bindings: Vec::new(),
        });
        self
    }

    /// Declares that the last declared default role must be bound, when
    /// granted, to one object of each of `types`.
    #[must_use]
    pub fn bound_to(mut self, types: &[&str]) -> SchemaBuilder {
        if let Some(last) = self.roles.last_mut() {
            last.required_bindings
                .extend(types.iter().map(|t| (*t).to_owned()));
        }
        self
    }

    /// Validates every declaration and builds the schema.
    ///
    /// # Errors
    ///
    /// Returns a [`SchemaError`] for an invalid or duplicate name, a
    /// reference to an undeclared type or action, or more than
    /// [`MAX_ACTIONS`] actions.
    pub fn build(self) -> Result<Schema, SchemaError> {
        let mut types: IndexMap<Ident, TypeDef> = IndexMap::new();
        for name in ["users", "roles", "permissions"] {
            types.insert(Ident::new(name)?, TypeDef { policy: true });
        }
        for name in &self.types {
            let ident = Ident::new(name)?;
            if types.contains_key(&ident) {
                return Err(SchemaError::duplicate("object type", name));
            }
            types.insert(ident, TypeDef { policy: false });
        }
        let type_id = |name: &str, context: &str| {
            types
                .get_index_of(name)
                .and_then(|i| TypeId::new(i).ok())
                .ok_or_else(|| SchemaError::unknown_type(context, name))
        };

        let mut actions: IndexMap<Ident, ActionDef> = IndexMap::new();
        for (name, threshold) in BUILTIN_ACTIONS {
            let def = ActionDef {
                threshold,
                administrative: false,
                every_child: Vec::new(),
            };
            actions.insert(Ident::new(name)?, def);
        }
        let mut declared = std::collections::HashSet::new();
        for spec in &self.actions {
            let ident = Ident::new(&spec.name)?;
            if !declared.insert(ident.clone()) {
                return Err(SchemaError::duplicate("action", &spec.name));
            }
            let mut every_child = Vec::new();
            for (t, level) in &spec.every_child {
                every_child.push((type_id(t, &spec.name)?, *level));
            }
            let def = ActionDef {
                threshold: spec.threshold,
                administrative: spec.administrative,
                every_child,
            };
            actions.insert(ident, def);
        }
        if actions.len() > MAX_ACTIONS {
            return Err(SchemaError::too_many_actions());
        }

        let mut default_roles = Vec::new();
        let mut role_names = std::collections::HashSet::new();
        for RoleDecl {
            name,
            description,
            permissions: perms,
            required_bindings,
        } in self.roles
        {
            let role_name = Name::new(&name)?;
            crate::text::validate_description(&description)?;
            if !role_names.insert(role_name.clone()) {
                return Err(SchemaError::duplicate("default role", &name));
            }
            let mut permissions = Vec::new();
            for (pname, action, ty) in perms {
                let action_id = actions
                    .get_index_of(action.as_str())
                    .and_then(|i| ActionId::new(i).ok())
                    .ok_or_else(|| {
                        SchemaError::unknown_action(&name, &action)
                    })?;
                permissions.push(PermissionTemplate {
                    name: Name::new(&pname)?,
                    action: action_id,
                    object_type: type_id(&ty, &name)?,
                });
            }
            let mut required = Vec::new();
            for t in &required_bindings {
                let ty = type_id(t, &name)?;
                if types
                    .get_index(ty.as_usize())
                    .is_some_and(|(_, d)| d.policy)
                {
                    return Err(SchemaError::unknown_type(&name, t));
                }
                required.push(ty);
            }
            default_roles.push(RoleTemplate {
                name: role_name,
                description,
                permissions,
                required_bindings: required,
            });
        }
        Ok(Schema { types, actions, default_roles })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_have_fixed_ids() {
        let s = Schema::builder().object_type("site").build().unwrap();
        assert_eq!(s.object_type("users"), Some(USERS));
        assert_eq!(s.object_type("roles"), Some(ROLES));
        assert_eq!(s.object_type("permissions"), Some(PERMISSIONS));
        assert_eq!(s.action("create"), Some(CREATE));
        assert_eq!(s.action("read"), Some(READ));
        assert_eq!(s.action("revoke"), Some(REVOKE));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn administrative_rule() {
        let s = Schema::builder()
            .object_type("site")
            .action("read_values", Threshold::Read)
            .action_spec(
                ActionSpec::new("purge", Threshold::Owner).administrative(),
            )
            .build()
            .unwrap();
        let site = s.object_type("site").unwrap();
        let rv = s.action("read_values").unwrap();
        let purge = s.action("purge").unwrap();
        assert!(!s.is_administrative(READ, USERS));
        assert!(s.is_administrative(UPDATE, ROLES));
        assert!(s.is_administrative(rv, PERMISSIONS));
        assert!(!s.is_administrative(UPDATE, site));
        assert!(!s.is_administrative(GRANT, site));
        assert!(s.is_administrative(purge, site));
    }

    #[test]
    fn errors() {
        let dup = Schema::builder().object_type("a").object_type("a").build();
        assert_eq!(
            dup.unwrap_err().to_string(),
            "duplicate object type `a` in schema"
        );
        let bad = Schema::builder().object_type("A").build();
        assert!(bad.is_err());
        let unknown = Schema::builder()
            .default_role("r", "", &[("read", "nowhere")])
            .build();
        assert_eq!(
            unknown.unwrap_err().to_string(),
            "unknown object type `nowhere` in `r`"
        );
        let mut b = Schema::builder();
        for i in 0..MAX_ACTIONS {
            b = b.action(&format!("a{i}"), Threshold::Read);
        }
        assert!(b.build().is_err());
    }

    #[test]
    fn thresholds() {
        assert!(Threshold::Shared.is_met_by(Level::None));
        assert!(!Threshold::Read.is_met_by(Level::None));
        assert!(Threshold::Read.is_met_by(Level::Full));
        assert!(!Threshold::Full.is_met_by(Level::Read));
        assert!(!Threshold::Owner.is_met_by(Level::Full));
    }
}
