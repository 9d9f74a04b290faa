//! Reads an accord policy back through the engine's public getters into a
//! neutral form that the peers' translations start from.
//!
//! Only what decides access to *data* objects (objects of non-policy
//! types) through roles is carried over:
//!
//! * every user's roles, from their grants (bound grants are refused: no
//!   peer translation of them is attempted);
//! * every permission of every role on a data type: applies-to-all →
//!   "every object of type T owned by organization O" (a group), explicit
//!   list → those objects. An applies-to-all `create` permission covers no
//!   existing object in accord (it is the right to create), so it is
//!   dropped;
//! * every data object with its owner and type.
//!
//! Permissions on the policy types (`users`, `roles`, `permissions`), the
//! arbiter preset's personal roles and role self-read all concern policy
//! objects, which the query stream never names. Shares are refused (the
//! arbiter workload has none).

use accord::{Engine, ObjectId, OrgId, RoleId, TypeId, UserId};

use crate::Result;

/// What a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every object of `ty` owned by `org`.
    AllOfType {
        /// The owning organization.
        org: OrgId,
        /// The object type.
        ty: TypeId,
    },
    /// Exactly these objects.
    Objects(Vec<ObjectId>),
}

/// Holders of `role` may perform `action` on `target`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The role.
    pub role: RoleId,
    /// The action's name.
    pub action: String,
    /// What it covers.
    pub target: Target,
}

/// A data object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataObject {
    /// Its handle.
    pub id: ObjectId,
    /// Its owner.
    pub org: OrgId,
    /// Its type.
    pub ty: TypeId,
}

/// The role-based part of an accord policy over data objects.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Each user and the roles they hold (unbound grants).
    pub users: Vec<(UserId, Vec<RoleId>)>,
    /// Every role referenced by a grant or a rule.
    pub roles: Vec<RoleId>,
    /// Every data object.
    pub objects: Vec<DataObject>,
    /// One rule per (role, data permission).
    pub rules: Vec<Rule>,
    /// The data object types, by handle, with their names.
    pub types: Vec<(TypeId, String)>,
}

impl Policy {
    /// The name of a data type.
    #[must_use]
    pub fn type_name(&self, ty: TypeId) -> Option<&str> {
        self.types.iter().find(|(t, _)| *t == ty).map(|(_, n)| n.as_str())
    }
}

/// Reads the role-based data policy of `engine`.
///
/// # Errors
///
/// The policy holds something this translation does not carry over: a
/// bound grant or a share.
pub fn read_policy(engine: &Engine) -> Result<Policy> {
    let schema = engine.schema();
    if engine.shares().next().is_some() {
        return Err("shares are not translated to the peers".into());
    }
    let is_data =
        |ty: TypeId| schema.type_def(ty).is_some_and(|d| !d.is_policy());
    let create = schema.action("create").ok_or("no `create` action")?;

    let mut out = Policy::default();
    for ty in schema.object_types().filter(|t| is_data(*t)) {
        let name = schema.type_name(ty).ok_or("unnamed type")?;
        out.types.push((ty, name.to_owned()));
    }
    let mut roles = std::collections::BTreeSet::new();
    for (id, user) in engine.users() {
        let mut held = Vec::new();
        for g in user.grants() {
            let grant = engine.grant(g).ok_or("dangling grant")?;
            if !grant.bindings().is_empty() {
                return Err("bound grants are not translated".into());
            }
            held.push(grant.role());
            roles.insert(grant.role());
        }
        out.users.push((id, held));
    }
    for (id, object) in engine.objects() {
        if is_data(object.object_type()) {
            out.objects.push(DataObject {
                id,
                org: object.org(),
                ty: object.object_type(),
            });
        }
    }
    for (role_id, role) in engine.roles() {
        for p in role.permissions() {
            let perm = engine.permission(p).ok_or("dangling permission")?;
            let ty = perm.object_type();
            if !is_data(ty) {
                continue;
            }
            let target = if perm.applies_to_all() {
                if perm.action() == create {
                    continue;
                }
                Target::AllOfType { org: perm.org(), ty }
            } else {
                Target::Objects(perm.objects().collect())
            };
            let action = schema
                .action_name(perm.action())
                .ok_or("unnamed action")?
                .to_owned();
            roles.insert(role_id);
            out.rules.push(Rule { role: role_id, action, target });
        }
    }
    out.roles = roles.into_iter().collect();
    Ok(out)
}

/// The peers' name of a user.
#[must_use]
pub fn user_name(u: UserId) -> String {
    format!("u{}", u.as_u32())
}

/// The peers' name of a role.
#[must_use]
pub fn role_name(r: RoleId) -> String {
    format!("r{}", r.as_u32())
}

/// The peers' name of an object.
#[must_use]
pub fn object_name(o: ObjectId) -> String {
    format!("o{}", o.as_u32())
}

/// The peers' name of the group "every object of `ty` owned by `org`",
/// e.g. `org3/sites`.
#[must_use]
pub fn group_name(org: OrgId, ty_name: &str) -> String {
    format!("org{}/{ty_name}", org.as_u32())
}
