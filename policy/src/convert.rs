//! Between the file's declarations and the engine's [`Schema`] and
//! [`Config`].

use accord::{
    ActionSpec, Config, Downstream, Level, Limits, Schema, SchemaBuilder,
    ShareKind, Threshold,
};

use crate::error::{PolicyError, PolicyErrorKind};
use crate::file::{
    ActionDecl, ConfigDecl, DefaultRoleDecl, DownstreamDecl, EveryChildDecl,
    LevelDecl, LimitsDecl, SchemaDecl, ShareKindDecl, Spanned, TemplateDecl,
    ThresholdDecl,
};

/// The built-in actions and their definitions, in handle order.
const BUILTIN_ACTIONS: [(&str, Threshold); 6] = [
    ("create", Threshold::Full),
    ("read", Threshold::Read),
    ("update", Threshold::Full),
    ("delete", Threshold::Owner),
    ("grant", Threshold::Owner),
    ("revoke", Threshold::Owner),
];

pub(crate) fn threshold(t: ThresholdDecl) -> Threshold {
    match t {
        ThresholdDecl::Shared => Threshold::Shared,
        ThresholdDecl::Read => Threshold::Read,
        ThresholdDecl::Full => Threshold::Full,
        ThresholdDecl::Owner => Threshold::Owner,
    }
}

pub(crate) fn threshold_decl(t: Threshold) -> ThresholdDecl {
    match t {
        Threshold::Shared => ThresholdDecl::Shared,
        Threshold::Read => ThresholdDecl::Read,
        Threshold::Full => ThresholdDecl::Full,
        Threshold::Owner => ThresholdDecl::Owner,
    }
}

pub(crate) fn level(l: LevelDecl) -> Level {
    match l {
        LevelDecl::None => Level::None,
        LevelDecl::Read => Level::Read,
        LevelDecl::Full => Level::Full,
    }
}

pub(crate) fn level_decl(l: Level) -> LevelDecl {
    match l {
        Level::None => LevelDecl::None,
        Level::Read => LevelDecl::Read,
        Level::Full => LevelDecl::Full,
    }
}

pub(crate) fn share_kind_decl(k: ShareKind) -> ShareKindDecl {
    match k {
        ShareKind::ReadOnly => ShareKindDecl::ReadOnly,
        ShareKind::Full => ShareKindDecl::Full,
        ShareKind::Custom => ShareKindDecl::Custom,
        ShareKind::ExchangeData => ShareKindDecl::ExchangeData,
    }
}

/// The lowercase word for a level, as files write it.
#[must_use]
pub fn level_word(l: Level) -> &'static str {
    match l {
        Level::None => "none",
        Level::Read => "read",
        Level::Full => "full",
    }
}

/// The lowercase word for a threshold, as files write it.
#[must_use]
pub fn threshold_word(t: Threshold) -> &'static str {
    match t {
        Threshold::Shared => "shared",
        Threshold::Read => "read",
        Threshold::Full => "full",
        Threshold::Owner => "owner",
    }
}

/// The lowercase word for a share kind, as files write it.
#[must_use]
pub fn share_kind_word(k: ShareKind) -> &'static str {
    match k {
        ShareKind::ReadOnly => "read_only",
        ShareKind::Full => "full",
        ShareKind::Custom => "custom",
        ShareKind::ExchangeData => "exchange_data",
    }
}

fn action_spec(a: &ActionDecl) -> ActionSpec {
    let mut spec = ActionSpec::new(&a.name, threshold(a.threshold));
    if a.administrative {
        spec = spec.administrative();
    }
    for c in &a.every_child {
        spec = spec.requires_every_child(&c.object_type, level(c.level));
    }
    spec
}

fn template_name(t: &TemplateDecl) -> String {
    t.name
        .clone()
        .unwrap_or_else(|| format!("{} all {}", t.action, t.object_type))
}

fn add_role(b: SchemaBuilder, r: &DefaultRoleDecl) -> SchemaBuilder {
    let named: Vec<(String, &str, &str)> = r
        .permissions
        .iter()
        .map(|p| (template_name(p), p.action.as_str(), p.object_type.as_str()))
        .collect();
    let refs: Vec<(&str, &str, &str)> =
        named.iter().map(|(n, a, t)| (n.as_str(), *a, *t)).collect();
    let b = b.default_role_named(&r.name, &r.description, &refs);
    let bound: Vec<&str> = r.bound_to.iter().map(String::as_str).collect();
    if bound.is_empty() {
        b
    } else {
        b.bound_to(&bound)
    }
}

/// Builds the schema a declaration describes.
///
/// # Errors
///
/// The first invalid declaration, with its entry and position.
pub(crate) fn schema(decl: &SchemaDecl) -> Result<Schema, PolicyError> {
    let mut b = Schema::builder();
    for t in &decl.types {
        b = b.object_type(t.get_ref());
    }
    for a in &decl.actions {
        b = b.action_spec(action_spec(a.get_ref()));
    }
    for r in &decl.default_roles {
        b = add_role(b, r.get_ref());
    }
    match b.build() {
        Ok(s) => Ok(s),
        Err(e) => Err(locate_schema_error(decl).unwrap_or_else(|| {
            PolicyError::new(PolicyErrorKind::Schema, e.to_string())
                .in_entry("schema")
        })),
    }
}

/// Finds the first declaration whose addition makes the schema fail, by
/// building ever longer prefixes (each section refers only to earlier
/// ones: actions to types, roles to types and actions).
fn locate_schema_error(decl: &SchemaDecl) -> Option<PolicyError> {
    fn fails<T>(
        b: &SchemaBuilder,
        entry: String,
        item: &Spanned<T>,
    ) -> Option<PolicyError> {
        b.clone().build().err().map(|e| {
            PolicyError::new(PolicyErrorKind::Schema, e.to_string())
                .in_entry(entry)
                .at(item.span())
        })
    }
    let mut b = Schema::builder();
    for (i, t) in decl.types.iter().enumerate() {
        b = b.object_type(t.get_ref());
        if let Some(e) = fails(&b, format!("schema.types[{i}]"), t) {
            return Some(e);
        }
    }
    for (i, a) in decl.actions.iter().enumerate() {
        b = b.action_spec(action_spec(a.get_ref()));
        if let Some(e) = fails(&b, format!("schema.actions[{i}]"), a) {
            return Some(e);
        }
    }
    for (i, r) in decl.default_roles.iter().enumerate() {
        b = add_role(b, r.get_ref());
        if let Some(e) = fails(&b, format!("schema.default_roles[{i}]"), r) {
            return Some(e);
        }
    }
    None
}

fn spanned<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}

/// The declaration of a schema: its own types, the actions that are not
/// built-in ones left as they are, and its default roles.
pub(crate) fn schema_decl(schema: &Schema) -> SchemaDecl {
    let mut types = Vec::new();
    for t in schema.object_types() {
        let policy = schema.type_def(t).is_some_and(|d| d.is_policy());
        if let (false, Some(name)) = (policy, schema.type_name(t)) {
            types.push(spanned(name.to_owned()));
        }
    }
    let mut actions = Vec::new();
    for a in schema.actions() {
        let (Some(name), Some(def)) =
            (schema.action_name(a), schema.action_def(a))
        else {
            continue;
        };
        let every_child: Vec<EveryChildDecl> = def
            .every_child()
            .filter_map(|(t, l)| {
                Some(EveryChildDecl {
                    object_type: schema.type_name(t)?.to_owned(),
                    level: level_decl(l),
                })
            })
            .collect();
        let builtin =
            BUILTIN_ACTIONS.get(a.as_usize()).is_some_and(|(n, t)| {
                *n == name
                    && *t == def.threshold()
                    && !def.is_administrative()
                    && every_child.is_empty()
            });
        if builtin {
            continue;
        }
        actions.push(spanned(ActionDecl {
            name: name.to_owned(),
            threshold: threshold_decl(def.threshold()),
            administrative: def.is_administrative(),
            every_child,
        }));
    }
    let mut default_roles = Vec::new();
    for r in schema.default_roles() {
        let permissions = r
            .permissions
            .iter()
            .map(|p| TemplateDecl {
                name: Some(p.name.as_str().to_owned()),
                action: schema.action_name(p.action).unwrap_or("?").to_owned(),
                object_type: schema
                    .type_name(p.object_type)
                    .unwrap_or("?")
                    .to_owned(),
            })
            .collect();
        let bound_to = r
            .required_bindings
            .iter()
            .filter_map(|t| schema.type_name(*t).map(str::to_owned))
            .collect();
        default_roles.push(spanned(DefaultRoleDecl {
            name: r.name.as_str().to_owned(),
            description: r.description.clone(),
            bound_to,
            permissions,
        }));
    }
    SchemaDecl { types, actions, default_roles }
}

/// The engine config a declaration describes, checked against `schema`.
///
/// # Errors
///
/// A public-by-default type that is not a data type of the schema.
pub(crate) fn config(
    decl: &ConfigDecl,
    schema: &Schema,
) -> Result<Config, PolicyError> {
    for (i, t) in decl.public_by_default.iter().enumerate() {
        let data = schema
            .object_type(t)
            .and_then(|ty| schema.type_def(ty))
            .is_some_and(|d| !d.is_policy());
        if !data {
            return Err(PolicyError::new(
                PolicyErrorKind::Schema,
                format!("unknown data object type `{t}`"),
            )
            .in_entry(format!("config.public_by_default[{i}]")));
        }
    }
    let mut c = Config::default();
    c.require_terms = decl.require_terms;
    c.personal_roles = decl.personal_roles;
    c.role_self_read = decl.role_self_read;
    c.require_share_acceptance = decl.require_share_acceptance;
    c.require_connection = decl.require_connection;
    c.downstream = match decl.downstream {
        DownstreamDecl::Keep => Downstream::Keep,
        DownstreamDecl::Cascade => Downstream::Cascade,
        DownstreamDecl::Restrict => Downstream::Restrict,
    };
    c.public_by_default.clone_from(&decl.public_by_default);
    let l = &decl.limits;
    let mut limits = Limits::default();
    limits.max_parents = l.max_parents;
    limits.max_ancestors = l.max_ancestors;
    limits.max_bindings = l.max_bindings;
    limits.max_grants_per_user = l.max_grants_per_user;
    limits.max_permissions_per_role = l.max_permissions_per_role;
    limits.max_objects_per_permission = l.max_objects_per_permission;
    limits.max_tokens_per_user = l.max_tokens_per_user;
    limits.max_share_depth = l.max_share_depth;
    c.limits = limits;
    Ok(c)
}

pub(crate) fn config_decl(c: &Config) -> ConfigDecl {
    ConfigDecl {
        require_terms: c.require_terms,
        personal_roles: c.personal_roles,
        role_self_read: c.role_self_read,
        require_share_acceptance: c.require_share_acceptance,
        require_connection: c.require_connection,
        downstream: match c.downstream {
            Downstream::Cascade => DownstreamDecl::Cascade,
            Downstream::Restrict => DownstreamDecl::Restrict,
            Downstream::Keep => DownstreamDecl::Keep,
        },
        public_by_default: c.public_by_default.clone(),
        limits: limits_decl(&c.limits),
    }
}

pub(crate) fn limits_decl(l: &Limits) -> LimitsDecl {
    LimitsDecl {
        max_parents: l.max_parents,
        max_ancestors: l.max_ancestors,
        max_bindings: l.max_bindings,
        max_grants_per_user: l.max_grants_per_user,
        max_permissions_per_role: l.max_permissions_per_role,
        max_objects_per_permission: l.max_objects_per_permission,
        max_tokens_per_user: l.max_tokens_per_user,
        max_share_depth: l.max_share_depth,
    }
}
