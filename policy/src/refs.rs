//! Names for the records of an engine, as files and the command line
//! write them — never internal handles.
//!
//! * An organization by its name, a user by e-mail, a role by its name in
//!   an organization.
//! * An object as `type:key`. The objects standing for policy records are
//!   `users:<e-mail>`, `roles:<name>` and `permissions:<name>` where the
//!   organization is clear from the context (a permission's list), else
//!   `roles:<organization>/<name>` and `permissions:<organization>/<name>`.
//! * A subject as `user:<e-mail>` (or the bare e-mail) or `anonymous`.
//! * A share's grantee as `user:<e-mail>`, `org:<name>` or `public`.

use accord::schema::{PERMISSIONS, ROLES, USERS};
use accord::{
    Engine, Grantee, ObjectId, ObjectKind, OrgId, PermissionId, RoleId,
    Subject, TypeId, UserId,
};

use crate::error::PolicyError;

/// The organization called `name`.
///
/// # Errors
///
/// When there is none.
pub fn org(engine: &Engine, name: &str) -> Result<OrgId, PolicyError> {
    engine.org_by_name(name).ok_or_else(|| {
        PolicyError::reference(format!("unknown organization `{name}`"))
    })
}

/// The user whose e-mail is `email` (case-insensitively).
///
/// # Errors
///
/// When there is none.
pub fn user(engine: &Engine, email: &str) -> Result<UserId, PolicyError> {
    engine.user_by_email(email).ok_or_else(|| {
        PolicyError::reference(format!("unknown user `{email}`"))
    })
}

/// The role called `name` in `org`.
///
/// # Errors
///
/// When there is none.
pub fn role(
    engine: &Engine,
    org: OrgId,
    name: &str,
) -> Result<RoleId, PolicyError> {
    engine.role_by_name(org, name).ok_or_else(|| {
        PolicyError::reference(format!(
            "unknown role `{name}` in organization `{}`",
            org_name(engine, org)
        ))
    })
}

/// The object type called `name`.
///
/// # Errors
///
/// When the schema has none.
pub fn object_type(
    engine: &Engine,
    name: &str,
) -> Result<TypeId, PolicyError> {
    engine.schema().object_type(name).ok_or_else(|| {
        PolicyError::reference(format!("unknown object type `{name}`"))
    })
}

/// The permission called `name` in `org`, if exactly one has that name.
fn permission_in(
    engine: &Engine,
    org: OrgId,
    name: &str,
) -> Result<Option<PermissionId>, PolicyError> {
    let Some(o) = engine.org(org) else { return Ok(None) };
    let mut found = o
        .permissions()
        .filter(|p| engine.permission(*p).is_some_and(|r| r.name() == name));
    let first = found.next();
    if first.is_some() && found.next().is_some() {
        return Err(PolicyError::reference(format!(
            "permission name `{name}` is ambiguous in organization `{}`",
            org_name(engine, org)
        )));
    }
    Ok(first)
}

/// The object named `reference` (`type:key`); `context` is the
/// organization that `roles:` and `permissions:` names are looked up in
/// first.
///
/// # Errors
///
/// A malformed reference, an unknown type, or no such object.
pub fn object(
    engine: &Engine,
    reference: &str,
    context: Option<OrgId>,
) -> Result<ObjectId, PolicyError> {
    let Some((ty_name, key)) = reference.split_once(':') else {
        return Err(PolicyError::reference(format!(
            "object `{reference}` is not written `type:key`"
        )));
    };
    let ty = object_type(engine, ty_name)?;
    let unknown =
        || PolicyError::reference(format!("unknown object `{reference}`"));
    let found = match ty {
        USERS => engine
            .user_by_email(key)
            .and_then(|u| engine.user(u))
            .map(accord::User::object),
        ROLES => scoped(engine, key, context, |org, name| {
            Ok(engine
                .role_by_name(org, name)
                .and_then(|r| engine.role(r))
                .map(accord::Role::object))
        })?,
        PERMISSIONS => scoped(engine, key, context, |org, name| {
            Ok(permission_in(engine, org, name)?
                .and_then(|p| engine.permission(p))
                .map(accord::Permission::object))
        })?,
        _ => engine.object_by_key(ty, key),
    };
    found.ok_or_else(unknown)
}

/// Looks a name up in `context`, else as `organization/name` (trying
/// every `/`, since both may contain one).
fn scoped(
    engine: &Engine,
    key: &str,
    context: Option<OrgId>,
    find: impl Fn(OrgId, &str) -> Result<Option<ObjectId>, PolicyError>,
) -> Result<Option<ObjectId>, PolicyError> {
    if let Some(org) = context {
        if let Some(o) = find(org, key)? {
            return Ok(Some(o));
        }
    }
    for (i, _) in key.match_indices('/') {
        let (Some(org), Some(name)) = (key.get(..i), key.get(i + 1..)) else {
            continue;
        };
        if let Some(org) = engine.org_by_name(org) {
            if let Some(o) = find(org, name)? {
                return Ok(Some(o));
            }
        }
    }
    Ok(None)
}

/// The subject named `s`: `anonymous`, `user:<e-mail>` or an e-mail.
///
/// # Errors
///
/// An unknown user or a malformed name.
pub fn subject(engine: &Engine, s: &str) -> Result<Subject, PolicyError> {
    if s == "anonymous" {
        return Ok(Subject::Anonymous);
    }
    let email = s.strip_prefix("user:").unwrap_or(s);
    if !email.contains('@') {
        return Err(PolicyError::reference(format!(
            "subject `{s}` is neither `anonymous` nor `user:<e-mail>`"
        )));
    }
    user(engine, email).map(Subject::User)
}

/// The share grantee named `s`: `public`, `user:<e-mail>` or
/// `org:<name>`.
///
/// # Errors
///
/// An unknown user or organization, or a malformed name.
pub fn grantee(engine: &Engine, s: &str) -> Result<Grantee, PolicyError> {
    if s == "public" {
        return Ok(Grantee::Public);
    }
    if let Some(email) = s.strip_prefix("user:") {
        return user(engine, email).map(Grantee::User);
    }
    if let Some(name) = s.strip_prefix("org:") {
        return org(engine, name).map(Grantee::Org);
    }
    Err(PolicyError::reference(format!(
        "grantee `{s}` is not `public`, `user:<e-mail>` or `org:<name>`"
    )))
}

/// The name of an organization (`?` for an unknown one).
#[must_use]
pub fn org_name(engine: &Engine, org: OrgId) -> String {
    engine.org(org).map_or_else(|| "?".to_owned(), |o| o.name().to_owned())
}

/// The e-mail of a user (`?` for an unknown one).
#[must_use]
pub fn user_name(engine: &Engine, user: UserId) -> String {
    engine.user(user).map_or_else(|| "?".to_owned(), |u| u.email().to_owned())
}

/// The name of a role (`?` for an unknown one).
#[must_use]
pub fn role_name(engine: &Engine, role: RoleId) -> String {
    engine.role(role).map_or_else(|| "?".to_owned(), |r| r.name().into_owned())
}

/// The name of a subject: `user:<e-mail>` or `anonymous`.
#[must_use]
pub fn subject_name(engine: &Engine, subject: Subject) -> String {
    match subject {
        Subject::User(u) => format!("user:{}", user_name(engine, u)),
        Subject::Anonymous => "anonymous".to_owned(),
        _ => "token".to_owned(),
    }
}

/// The name of a grantee: `user:<e-mail>`, `org:<name>` or `public`.
#[must_use]
pub fn grantee_name(engine: &Engine, grantee: Grantee) -> String {
    match grantee {
        Grantee::User(u) => format!("user:{}", user_name(engine, u)),
        Grantee::Org(o) => format!("org:{}", org_name(engine, o)),
        Grantee::Public => "public".to_owned(),
    }
}

/// The name of an object as [`object`] reads it back: `type:key`, with
/// the organization left out of role and permission names when it is
/// `context`.
#[must_use]
pub fn object_name(
    engine: &Engine,
    object: ObjectId,
    context: Option<OrgId>,
) -> String {
    let Some(o) = engine.object(object) else { return "?".to_owned() };
    let ty = engine.schema().type_name(o.object_type()).unwrap_or("?");
    let scoped = |org: OrgId, name: &str| {
        if Some(org) == context {
            format!("{ty}:{name}")
        } else {
            format!("{ty}:{}/{name}", org_name(engine, org))
        }
    };
    match o.kind() {
        ObjectKind::User(u) => format!("{ty}:{}", user_name(engine, u)),
        ObjectKind::Role(r) => scoped(o.org(), &role_name(engine, r)),
        ObjectKind::Permission(p) => {
            let name = engine
                .permission(p)
                .map_or_else(String::new, |p| p.name().into_owned());
            scoped(o.org(), &name)
        }
        _ => format!("{ty}:{}", o.key()),
    }
}
