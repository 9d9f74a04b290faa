//! The policy in Cedar (`cedar-policy`).
//!
//! * Entities: `User::"u<id>"` with its roles as parents, `Role::"r<id>"`,
//!   `Object::"o<id>"` with its group `Group::"org<o>/<type>"` ("every
//!   object of the type owned by the organization") as parent.
//! * One `permit` per (role, data permission):
//!   - applies to all: `permit(principal in Role::"r", action ==
//!     Action::"read", resource in Group::"org3/sites");`
//!   - explicit list: `permit(principal in Role::"r", action ==
//!     Action::"read", resource) when { resource in [Object::"o1",
//!     Object::"o2"] };` (a policy's resource scope names one entity, so
//!     the list goes in the condition, where `in` takes a set).
//!
//! No schema: requests and entities are not validated, as with accord's
//! `check`, which takes handles.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName,
    EntityUid, PolicySet, Request,
};

use crate::translate::{
    group_name, object_name, role_name, user_name, Policy, Target,
};
use crate::workload::Query;
use crate::Result;

/// The entity type names used.
#[derive(Debug)]
struct Types {
    user: EntityTypeName,
    role: EntityTypeName,
    object: EntityTypeName,
    group: EntityTypeName,
    action: EntityTypeName,
}

impl Types {
    fn new() -> Result<Types> {
        Ok(Types {
            user: EntityTypeName::from_str("User")?,
            role: EntityTypeName::from_str("Role")?,
            object: EntityTypeName::from_str("Object")?,
            group: EntityTypeName::from_str("Group")?,
            action: EntityTypeName::from_str("Action")?,
        })
    }
}

fn uid(ty: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
}

/// A Cedar authorizer with the translated policy set and entities.
#[derive(Debug)]
pub struct CedarPeer {
    authorizer: Authorizer,
    policies: PolicySet,
    entities: Entities,
    types: Types,
}

impl CedarPeer {
    /// Translates `policy`.
    ///
    /// # Errors
    ///
    /// Cedar refuses the generated policy text or entities (a bug here).
    pub fn new(policy: &Policy) -> Result<CedarPeer> {
        let types = Types::new()?;
        let mut text = String::new();
        for rule in &policy.rules {
            let role = role_name(rule.role);
            let action = &rule.action;
            match &rule.target {
                Target::AllOfType { org, ty } => {
                    let ty = policy.type_name(*ty).ok_or("unknown type")?;
                    let group = group_name(*org, ty);
                    writeln!(
                        text,
                        "permit(principal in Role::\"{role}\", action == \
                         Action::\"{action}\", resource in Group::\"{group}\");"
                    )?;
                }
                Target::Objects(objects) => {
                    let list: Vec<String> = objects
                        .iter()
                        .map(|o| format!("Object::\"{}\"", object_name(*o)))
                        .collect();
                    writeln!(
                        text,
                        "permit(principal in Role::\"{role}\", action == \
                         Action::\"{action}\", resource) when {{ resource in \
                         [{}] }};",
                        list.join(", ")
                    )?;
                }
            }
        }
        let policies = PolicySet::from_str(&text)?;

        let mut entities = Vec::new();
        for role in &policy.roles {
            let uid = uid(&types.role, &role_name(*role));
            entities.push(Entity::new_no_attrs(uid, HashSet::new()));
        }
        for (user, roles) in &policy.users {
            let parents: HashSet<EntityUid> = roles
                .iter()
                .map(|r| uid(&types.role, &role_name(*r)))
                .collect();
            let uid = uid(&types.user, &user_name(*user));
            entities.push(Entity::new_no_attrs(uid, parents));
        }
        let mut groups = HashSet::new();
        for object in &policy.objects {
            let ty = policy.type_name(object.ty).ok_or("unknown type")?;
            let group = group_name(object.org, ty);
            let group_uid = uid(&types.group, &group);
            if groups.insert(group) {
                entities.push(Entity::new_no_attrs(
                    group_uid.clone(),
                    HashSet::new(),
                ));
            }
            let uid = uid(&types.object, &object_name(object.id));
            entities
                .push(Entity::new_no_attrs(uid, HashSet::from([group_uid])));
        }
        let entities = Entities::from_entities(entities, None)?;
        Ok(CedarPeer {
            authorizer: Authorizer::new(),
            policies,
            entities,
            types,
        })
    }

    /// The number of policies.
    #[must_use]
    pub fn policy_count(&self) -> usize {
        self.policies.policies().count()
    }

    /// The Cedar request of a query (built once, before timing).
    ///
    /// # Errors
    ///
    /// Cedar refuses the request (a bug here).
    pub fn request(&self, q: &Query) -> Result<Request> {
        Ok(Request::new(
            uid(&self.types.user, &user_name(q.user)),
            uid(&self.types.action, q.action_name),
            uid(&self.types.object, &object_name(q.object)),
            Context::empty(),
            None,
        )?)
    }

    /// Whether Cedar allows the request.
    #[inline]
    #[must_use]
    pub fn is_allowed(&self, request: &Request) -> bool {
        self.authorizer
            .is_authorized(request, &self.policies, &self.entities)
            .decision()
            == Decision::Allow
    }
}
