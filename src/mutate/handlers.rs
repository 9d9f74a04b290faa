//! The authorization and validation of each [`Op`], then its application.
//!
//! Every handler first performs all of its checks against the unchanged
//! engine and only then changes anything, so a refusal leaves no trace but
//! its audit event.

use std::fmt::Display;

use indexmap::IndexSet;
use smallvec::SmallVec;

use super::commit::Cascade;
use crate::audit::Actor;
use crate::decision::Subject;
use crate::engine::Downstream;
use crate::error::{ErrorKind, MutationError};
use crate::id::{
    ActionId, GrantId, Name, ObjectId, OrgId, PermissionId, RoleId, ShareId,
    TypeId, UserId,
};
use crate::index::{create_key, HandleSet};
use crate::model::{Dirty, Grant, ObjectKind, Permission, Role};
use crate::schema::{CREATE, DELETE, GRANT, PERMISSIONS, READ, REVOKE, ROLES};
use crate::schema::{UPDATE, USERS};
use crate::set::Set;
use crate::Engine;

pub(super) type Result<T> = std::result::Result<T, MutationError>;

#[cold]
pub(super) fn denied(
    operation: &'static str,
    reason: impl Into<String>,
) -> MutationError {
    ErrorKind::Denied { operation, reason: reason.into() }.into()
}

#[cold]
pub(super) fn not_found(
    what: &'static str,
    id: impl Display,
) -> MutationError {
    ErrorKind::NotFound { what, id: id.to_string() }.into()
}

#[cold]
pub(super) fn limit(what: &'static str, max: usize) -> MutationError {
    ErrorKind::Limit { what, max }.into()
}

#[cold]
pub(super) fn invalid(reason: impl Into<String>) -> MutationError {
    ErrorKind::Invalid { reason: reason.into() }.into()
}

/// Who is acting, once the actor has been resolved.
#[derive(Clone, Copy)]
pub(super) enum Who {
    System,
    User(UserId, OrgId),
}

impl Engine {
    // ----- authority helpers -------------------------------------------

    /// Who `actor` is, or the refusal of `op` by an unknown user.
    pub(super) fn resolve(
        &self,
        actor: Actor,
        op: &'static str,
    ) -> Result<Who> {
        match actor {
            Actor::System => Ok(Who::System),
            Actor::User(u) => match self.model.users.get(u) {
                Some(user) => Ok(Who::User(u, user.org)),
                None => Err(denied(op, format!("unknown actor `{u}`"))),
            },
        }
    }

    pub(super) fn require_platform(
        &self,
        who: Who,
        op: &'static str,
    ) -> Result<()> {
        match who {
            Who::System => Ok(()),
            Who::User(u, _) => {
                let admin = self
                    .model
                    .users
                    .get(u)
                    .is_some_and(|user| user.platform_admin);
                if admin {
                    Ok(())
                } else {
                    Err(denied(op, "only platform administrators may do this"))
                }
            }
        }
    }

    /// The actor must hold `action` on `object` (System always does).
    pub(super) fn require_action(
        &self,
        who: Who,
        op: &'static str,
        action: ActionId,
        object: ObjectId,
    ) -> Result<()> {
        let Who::User(u, _) = who else { return Ok(()) };
        if self.check(Subject::User(u), action, object).is_allow() {
            return Ok(());
        }
        let action = self.schema.action_name(action).unwrap_or("?");
        Err(denied(
            op,
            format!("actor lacks `{action}` on {}", self.describe(object)),
        ))
    }

    /// A user actor must belong to `org`.
    pub(super) fn require_member(
        &self,
        who: Who,
        op: &'static str,
        org: OrgId,
    ) -> Result<()> {
        match who {
            Who::User(_, mine) if mine != org => Err(denied(
                op,
                format!(
                    "actor is not in organization `{}`",
                    self.org_name(org)
                ),
            )),
            _ => Ok(()),
        }
    }

    /// A user actor must be in `org` and hold `create` on `ty` there.
    fn require_create(
        &self,
        who: Who,
        op: &'static str,
        org: OrgId,
        ty: TypeId,
    ) -> Result<()> {
        self.require_member(who, op, org)?;
        let Who::User(u, _) = who else { return Ok(()) };
        if self.can_create(u, ty) {
            return Ok(());
        }
        let ty = self.schema.type_name(ty).unwrap_or("?");
        Err(denied(op, format!("actor lacks `create` on `{ty}`")))
    }

    /// Whether `user` may create objects of `ty` in their own organization:
    /// one of their unbound roles holds a `create` permission on `ty` owned
    /// by the user's organization (create permissions of other
    /// organizations are ignored).
    pub(crate) fn can_create(&self, user: UserId, ty: TypeId) -> bool {
        let Some(ui) = self.index.user(user) else { return false };
        let Some(org) = ui.org else { return false };
        let mask = ui.mask(create_key(org, ty));
        mask & (1 << CREATE.as_u32()) != 0
    }

    // ----- naming helpers ----------------------------------------------

    pub(super) fn describe(&self, object: ObjectId) -> String {
        match self.model.objects.get(object) {
            Some(o) => {
                let ty = self.schema.type_name(o.ty).unwrap_or("object");
                let label = match o.kind() {
                    ObjectKind::Role(r) => {
                        self.model.roles.get(r).map_or_else(
                            || o.key().into_owned(),
                            |r| r.name.to_string(),
                        )
                    }
                    ObjectKind::Permission(p) => {
                        self.model.permissions.get(p).map_or_else(
                            || o.key().into_owned(),
                            |p| p.name.to_string(),
                        )
                    }
                    ObjectKind::User(u) => {
                        self.model.users.get(u).map_or_else(
                            || o.key().into_owned(),
                            |u| u.email.to_string(),
                        )
                    }
                    ObjectKind::Data => o.key().into_owned(),
                };
                format!("{ty} `{label}`")
            }
            None => format!("`{object}`"),
        }
    }

    pub(super) fn org_name(&self, org: OrgId) -> String {
        self.model
            .orgs
            .get(org)
            .map_or_else(|| org.to_string(), |o| o.name.to_string())
    }

    pub(super) fn resolve_type(&self, name: &str) -> Result<TypeId> {
        self.schema
            .object_type(name)
            .ok_or_else(|| not_found("object type", name))
    }

    pub(super) fn data_type(&self, name: &str) -> Result<TypeId> {
        let ty = self.resolve_type(name)?;
        if self.schema.type_def(ty).is_some_and(|d| d.is_policy()) {
            return Err(invalid(format!(
                "`{name}` is a policy type, not a data type"
            )));
        }
        Ok(ty)
    }

    /// Fails unless every arena can take `records` more records and the
    /// object arena `objects` more.
    pub(super) fn room(&self, objects: usize, records: usize) -> Result<()> {
        let max = ObjectId::MAX.as_usize();
        let m = &self.model;
        let fits = |len: usize, n: usize| len.saturating_add(n) <= max;
        let ok = fits(m.objects.len_slots(), objects)
            && fits(m.orgs.len_slots(), records)
            && fits(m.users.len_slots(), records)
            && fits(m.roles.len_slots(), records)
            && fits(m.permissions.len_slots(), records)
            && fits(m.grants.len_slots(), records);
        if ok {
            Ok(())
        } else {
            Err(limit("records of one kind", max))
        }
    }

    // ----- record constructors (after all checks) ------------------------

    fn new_role(
        &mut self,
        org: OrgId,
        name: Name,
        description: std::borrow::Cow<'static, str>,
        required_bindings: &[TypeId],
        personal: Option<UserId>,
        dirty: &mut Dirty,
    ) -> Result<RoleId> {
        let id: RoleId =
            self.model.roles.next_id().ok_or_else(|| limit("roles", 0))?;
        let object = self
            .model
            .insert_object(ROLES, org, None, ObjectKind::Role(id), &[], dirty)
            .ok_or_else(|| limit("objects", 0))?;
        let role = Role {
            org,
            name: name.into(),
            description,
            object,
            permissions: Set::new(),
            grants: Set::new(),
            required_bindings: required_bindings.into(),
            personal,
        };
        self.model.roles.push::<RoleId>(role);
        if let Some(o) = self.model.orgs.get_mut(org) {
            o.roles.insert(id);
        }
        self.model.role_names.insert_new(&self.model.roles, id);
        dirty.roles.insert(id);
        Ok(id)
    }

    #[expect(clippy::too_many_arguments, reason = "a record constructor")]
    fn new_permission(
        &mut self,
        org: OrgId,
        name: Name,
        action: ActionId,
        ty: TypeId,
        applies_to_all: bool,
        objects: &[ObjectId],
        dirty: &mut Dirty,
    ) -> Result<PermissionId> {
        let id: PermissionId = self
            .model
            .permissions
            .next_id()
            .ok_or_else(|| limit("permissions", 0))?;
        let kind = ObjectKind::Permission(id);
        let object = self
            .model
            .insert_object(PERMISSIONS, org, None, kind, &[], dirty)
            .ok_or_else(|| limit("objects", 0))?;
        for o in objects {
            if let Some(rec) = self.model.objects.get_mut(*o) {
                rec.add_listing(id);
            }
        }
        let perm = Permission {
            org,
            name: name.into(),
            action,
            ty,
            applies_to_all,
            objects: objects.iter().copied().collect(),
            object,
            roles: Set::new(),
        };
        self.model.permissions.push::<PermissionId>(perm);
        if let Some(o) = self.model.orgs.get_mut(org) {
            o.permissions.insert(id);
            if applies_to_all {
                o.applying_to_all.insert(id);
            }
        }
        Ok(id)
    }

    fn attach(&mut self, role: RoleId, perm: PermissionId, dirty: &mut Dirty) {
        if let Some(r) = self.model.roles.get_mut(role) {
            r.permissions.insert(perm);
        }
        if let Some(p) = self.model.permissions.get_mut(perm) {
            p.roles.insert(role);
        }
        dirty.roles.insert(role);
    }

    fn new_grant(
        &mut self,
        user: UserId,
        role: RoleId,
        bindings: &[ObjectId],
        dirty: &mut Dirty,
    ) -> Result<crate::GrantId> {
        let id = self
            .model
            .grants
            .push(Grant { user, role, bindings: bindings.into() })
            .ok_or_else(|| limit("grants", 0))?;
        if let Some(u) = self.model.users.get_mut(user) {
            u.grants.insert(role, id);
        }
        if let Some(r) = self.model.roles.get_mut(role) {
            r.grants.insert(id);
        }
        for b in bindings {
            if let Some(o) = self.model.objects.get_mut(*b) {
                o.links_mut().rare_mut().bound_by.insert(id);
            }
        }
        dirty.users.insert(user);
        dirty.bound_grant_changed(&self.model, role, bindings);
        Ok(id)
    }

    // ----- organizations and users -------------------------------------

    pub(super) fn create_org(
        &mut self,
        who: Who,
        op: &'static str,
        name: &str,
    ) -> Result<OrgId> {
        self.require_platform(who, op)?;
        let name = Name::new(name)?;
        if self.model.org_names.contains_key(&name) {
            return Err(ErrorKind::Duplicate {
                what: "organization",
                name: name.to_string(),
            }
            .into());
        }
        let skeleton = crate::text::skeleton(name.as_str());
        if let Some(other) = self.model.org_skeletons.get(&skeleton) {
            let existing = self.model.orgs.get(*other);
            return Err(ErrorKind::Confusable {
                what: "organization",
                name: name.to_string(),
                existing: existing
                    .map(|o| o.name.to_string())
                    .unwrap_or_default(),
            }
            .into());
        }
        let templates = self.schema.default_roles().to_vec();
        let perms: usize = templates.iter().map(|t| t.permissions.len()).sum();
        self.room(templates.len() + perms, templates.len() + perms + 1)?;

        let org = self
            .model
            .insert_org(name)
            .ok_or_else(|| limit("organizations", 0))?;
        if let Some(o) = self.model.orgs.get_mut(org) {
            o.accepted_terms = !self.config.require_terms;
        }
        let mut dirty = Dirty::default();
        for t in templates {
            let role = self.new_role(
                org,
                t.name.clone(),
                t.description.clone().into(),
                &t.required_bindings,
                None,
                &mut dirty,
            )?;
            for p in &t.permissions {
                let perm = self.new_permission(
                    org,
                    p.name.clone(),
                    p.action,
                    p.object_type,
                    true,
                    &[],
                    &mut dirty,
                )?;
                self.attach(role, perm, &mut dirty);
            }
        }
        self.commit(dirty, Cascade::Nothing);
        Ok(org)
    }

    pub(super) fn delete_org(
        &mut self,
        who: Who,
        op: &'static str,
        org: OrgId,
    ) -> Result<()> {
        self.require_platform(who, op)?;
        let Some(o) = self.model.orgs.get(org) else {
            return Err(not_found("organization", org));
        };
        let users: Vec<UserId> = o.users.iter().copied().collect();
        let roles: Vec<RoleId> = o.roles.iter().copied().collect();
        let perms: Vec<PermissionId> = o.permissions.iter().copied().collect();
        let mut dirty = Dirty::default();
        for u in users {
            self.model.remove_user(u, &mut dirty);
        }
        for r in roles {
            self.model.remove_role(r, &mut dirty);
        }
        for p in perms {
            self.model.remove_permission(p, &mut dirty);
        }
        let objects: Vec<ObjectId> = self
            .model
            .orgs
            .get(org)
            .map(|o| o.objects.values().flatten().copied().collect())
            .unwrap_or_default();
        for obj in objects {
            self.model.remove_object(obj, &mut dirty);
        }
        self.model.remove_shares_to(crate::Grantee::Org(org), &mut dirty);
        let connections: Vec<u64> = self
            .model
            .connections
            .iter()
            .filter(|(_, c)| c.from == org || c.to == org)
            .map(|(k, _)| *k)
            .collect();
        for k in connections {
            self.model.connections.shift_remove(&k);
        }
        self.model.transfers.retain(|_, to| *to != org);
        if let Some(o) = self.model.orgs.remove(org) {
            self.model.org_names.remove(&o.name);
            let skeleton = crate::text::skeleton(o.name.as_str());
            self.model.org_skeletons.remove(&skeleton);
        }
        self.commit(dirty, Cascade::All);
        Ok(())
    }

    pub(super) fn accept_terms(
        &mut self,
        who: Who,
        op: &'static str,
        org: OrgId,
    ) -> Result<()> {
        self.require_platform(who, op)?;
        let o = self.model.orgs.get_mut(org);
        let o = o.ok_or_else(|| not_found("organization", org))?;
        o.accepted_terms = true;
        self.commit(Dirty::default(), Cascade::Nothing);
        Ok(())
    }

    pub(super) fn create_user(
        &mut self,
        who: Who,
        op: &'static str,
        org: OrgId,
        email: &str,
    ) -> Result<UserId> {
        self.require_platform(who, op)?;
        if !self.model.orgs.contains(org) {
            return Err(not_found("organization", org));
        }
        let email = validate_email(email)?;
        if self.model.emails.get(&self.model.users, email.as_str()).is_some() {
            return Err(ErrorKind::Duplicate {
                what: "user with e-mail",
                name: email.to_string(),
            }
            .into());
        }
        let uid: UserId =
            self.model.users.next_id().ok_or_else(|| limit("users", 0))?;
        let personal_name = if self.config.personal_roles {
            let n =
                Name::new(&format!("DEFAULT User role {}", uid.as_usize()))?;
            if self
                .model
                .role_names
                .get(&self.model.roles, org, n.as_str())
                .is_some()
            {
                return Err(ErrorKind::Duplicate {
                    what: "role",
                    name: n.to_string(),
                }
                .into());
            }
            Some(n)
        } else {
            None
        };
        self.room(4, 4)?;

        let mut dirty = Dirty::default();
        let object = self
            .model
            .insert_object(
                USERS,
                org,
                None,
                ObjectKind::User(uid),
                &[],
                &mut dirty,
            )
            .ok_or_else(|| limit("objects", 0))?;
        let user = crate::model::User {
            org,
            email: email.clone(),
            platform_admin: false,
            object,
            grants: crate::set::PairMap::default(),
            personal_role: None,
            tokens: crate::set::RareSet::default(),
            profile: None,
        };
        self.model.users.push::<UserId>(user);
        if let Some(o) = self.model.orgs.get_mut(org) {
            o.users.insert(uid);
        }
        self.model.emails.insert_new(&self.model.users, uid);
        dirty.users.insert(uid);

        if let Some(role_name) = personal_name {
            let n = uid.as_usize();
            let role = self.new_role(
                org,
                role_name,
                crate::model::PERSONAL_DESCRIPTION.into(),
                &[],
                Some(uid),
                &mut dirty,
            )?;
            let role_object =
                self.model.roles.get(role).map(|r| r.object).unwrap_or(object);
            let read_self = self.new_permission(
                org,
                Name::new(&format!("DEFAULT Read Self User {n}"))?,
                READ,
                USERS,
                false,
                &[object],
                &mut dirty,
            )?;
            let read_role = self.new_permission(
                org,
                Name::new(&format!("DEFAULT Read User Role {n}"))?,
                READ,
                ROLES,
                false,
                &[role_object],
                &mut dirty,
            )?;
            self.attach(role, read_self, &mut dirty);
            self.attach(role, read_role, &mut dirty);
            if let Some(u) = self.model.users.get_mut(uid) {
                u.personal_role = Some(role);
            }
            self.new_grant(uid, role, &[], &mut dirty)?;
        }
        self.commit(dirty, Cascade::Nothing);
        Ok(uid)
    }

    pub(super) fn delete_user(
        &mut self,
        who: Who,
        op: &'static str,
        user: UserId,
    ) -> Result<()> {
        self.require_platform(who, op)?;
        if !self.model.users.contains(user) {
            return Err(not_found("user", user));
        }
        self.change(Cascade::All, |m, dirty| m.remove_user(user, dirty));
        Ok(())
    }

    pub(super) fn set_platform_admin(
        &mut self,
        who: Who,
        op: &'static str,
        user: UserId,
        admin: bool,
    ) -> Result<()> {
        self.require_platform(who, op)?;
        let u = self.model.users.get_mut(user);
        let u = u.ok_or_else(|| not_found("user", user))?;
        u.platform_admin = admin;
        self.commit(Dirty::default(), Cascade::Nothing);
        Ok(())
    }

    // ----- objects -----------------------------------------------------

    pub(super) fn create_object(
        &mut self,
        who: Who,
        op: &'static str,
        org: OrgId,
        object_type: &str,
        key: &str,
        parents: &[ObjectId],
    ) -> Result<ObjectId> {
        let ty = self.data_type(object_type)?;
        if !self.model.orgs.contains(org) {
            return Err(not_found("organization", org));
        }
        self.require_create(who, op, org, ty)?;
        let key = Name::new(key)?;
        let objects = &self.model.objects;
        if self.model.object_keys.get(objects, ty, key.as_str()).is_some() {
            return Err(ErrorKind::Duplicate {
                what: "object with key",
                name: key.to_string(),
            }
            .into());
        }
        let limits = &self.config.limits;
        if parents.len() > limits.max_parents {
            return Err(limit("parents per object", limits.max_parents));
        }
        let mut seen = IndexSet::new();
        for p in parents {
            // Only data objects are parents, as `link_object` requires
            // and as a snapshot is checked on load.
            self.data_object(*p)?;
            if !seen.insert(*p) {
                return Err(invalid(format!("parent `{p}` listed twice")));
            }
            self.require_action(who, op, READ, *p)?;
        }
        let closure = self.model.closure_of(parents);
        if closure.len() > limits.max_ancestors {
            return Err(limit("ancestors per object", limits.max_ancestors));
        }
        self.room(1, 0)?;
        let mut dirty = Dirty::default();
        let id = self
            .model
            .insert_object(
                ty,
                org,
                Some(key),
                ObjectKind::Data,
                parents,
                &mut dirty,
            )
            .ok_or_else(|| limit("objects", 0))?;
        self.publish_new(id, &mut dirty);
        self.commit(dirty, Cascade::Nothing);
        Ok(id)
    }

    pub(super) fn data_object(
        &self,
        object: ObjectId,
    ) -> Result<&crate::model::Object> {
        let o = self
            .model
            .objects
            .get(object)
            .ok_or_else(|| not_found("object", object))?;
        if o.kind() != ObjectKind::Data {
            return Err(invalid(format!(
                "{} is not a data object; use its own operation",
                self.describe(object)
            )));
        }
        Ok(o)
    }

    pub(super) fn delete_object(
        &mut self,
        who: Who,
        op: &'static str,
        object: ObjectId,
    ) -> Result<()> {
        self.data_object(object)?;
        self.require_action(who, op, DELETE, object)?;
        // The object, and every descendant of the same organization all of
        // whose parents go too. Descendants owned by another organization
        // are never deleted: they lose the link and stay.
        let owner = self.model.objects.get(object).map(|o| o.org);
        let mut doomed: HandleSet<ObjectId> = HandleSet::default();
        doomed.insert(object);
        for d in self.model.descendants(object) {
            let orphaned = self.model.objects.get(d).is_some_and(|o| {
                o.kind() == ObjectKind::Data
                    && Some(o.org) == owner
                    && o.parents().iter().all(|p| doomed.contains(p))
            });
            if orphaned {
                doomed.insert(d);
            }
        }
        let mut dirty = Dirty::default();
        for d in doomed.iter().rev() {
            self.model.remove_object(*d, &mut dirty);
        }
        self.commit(dirty, Cascade::All);
        Ok(())
    }

    pub(super) fn link_object(
        &mut self,
        who: Who,
        op: &'static str,
        child: ObjectId,
        parent: ObjectId,
    ) -> Result<()> {
        let c = self.data_object(child)?;
        let p = self.data_object(parent)?;
        if c.parents().contains(&parent) {
            return Err(ErrorKind::Duplicate {
                what: "parent link",
                name: format!("{child} under {parent}"),
            }
            .into());
        }
        if child == parent || p.ancestors().binary_search(&child).is_ok() {
            return Err(ErrorKind::Cycle {
                child: self.describe(child),
                parent: self.describe(parent),
            }
            .into());
        }
        let limits = &self.config.limits;
        if c.parents().len() >= limits.max_parents {
            return Err(limit("parents per object", limits.max_parents));
        }
        let mut parents = c.parents().to_vec();
        parents.push(parent);
        let closure = self.model.closure_of(&parents);
        let added = closure.len().saturating_sub(c.ancestors().len());
        let deepest = std::iter::once(c.ancestors().len())
            .chain(self.model.descendants(child).iter().filter_map(|d| {
                self.model.objects.get(*d).map(|o| o.ancestors().len())
            }))
            .max()
            .unwrap_or(0);
        if deepest.saturating_add(added) > limits.max_ancestors {
            return Err(limit("ancestors per object", limits.max_ancestors));
        }
        self.require_action(who, op, UPDATE, child)?;
        self.require_action(who, op, READ, parent)?;
        self.change(Cascade::Around(&[child]), |m, dirty| {
            m.link(child, parent, dirty)
        });
        Ok(())
    }

    pub(super) fn unlink_object(
        &mut self,
        who: Who,
        op: &'static str,
        child: ObjectId,
        parent: ObjectId,
    ) -> Result<()> {
        let c = self.data_object(child)?;
        if !c.parents().contains(&parent) {
            return Err(not_found(
                "parent link",
                format!("{child} under {parent}"),
            ));
        }
        self.require_action(who, op, UPDATE, child)?;
        let parents = c.parents().to_vec();
        let ancestors = c.ancestors().to_vec();
        // Under `Restrict`, an unlink that leaves a share without its
        // chain from the owner is refused like an unshare would be: it is
        // made, judged, and undone exactly.
        let restrict = self.config.downstream == Downstream::Restrict;
        let family = [child, parent];
        let before = if restrict { self.underivable(&family) } else { vec![] };
        self.change(Cascade::Nothing, |m, dirty| {
            m.unlink(child, parent, dirty)
        });
        if restrict {
            let orphaned: Vec<ShareId> = self
                .underivable(&family)
                .into_iter()
                .map(|(id, _)| id)
                .filter(|id| before.iter().all(|(b, _)| b != id))
                .collect();
            if !orphaned.is_empty() {
                self.change(Cascade::Nothing, |m, dirty| {
                    m.relink(child, parent, &parents, dirty)
                });
                return Err(self.dependent_shares(&orphaned));
            }
        }
        // Overrides on the child or its descendants in shares of roots
        // they are no longer under go with the link.
        let mut dirty = Dirty::default();
        self.model.drop_stray_overrides(&ancestors, &mut dirty);
        // Shares may have reached the child only through that parent.
        self.commit(dirty, Cascade::Around(&family));
        Ok(())
    }

    // ----- roles and permissions ---------------------------------------

    pub(super) fn create_role<S: AsRef<str>>(
        &mut self,
        who: Who,
        op: &'static str,
        org: OrgId,
        name: &str,
        description: &str,
        required_bindings: &[S],
    ) -> Result<RoleId> {
        if !self.model.orgs.contains(org) {
            return Err(not_found("organization", org));
        }
        self.require_create(who, op, org, ROLES)?;
        let name = Name::new(name)?;
        crate::text::validate_description(description)?;
        if self
            .model
            .role_names
            .get(&self.model.roles, org, name.as_str())
            .is_some()
        {
            return Err(ErrorKind::Duplicate {
                what: "role",
                name: name.to_string(),
            }
            .into());
        }
        let mut required: SmallVec<[TypeId; 2]> = SmallVec::new();
        for t in required_bindings {
            let ty = self.data_type(t.as_ref())?;
            if !required.contains(&ty) {
                required.push(ty);
            }
        }
        if required.len() > self.config.limits.max_bindings {
            return Err(limit(
                "bindings per grant",
                self.config.limits.max_bindings,
            ));
        }
        self.room(2, 2)?;
        let mut dirty = Dirty::default();
        let role = self.new_role(
            org,
            name,
            description.to_owned().into(),
            &required,
            None,
            &mut dirty,
        )?;
        if self.config.role_self_read {
            let role_object = self.model.roles.get(role).map(|r| r.object);
            if let Some(role_object) = role_object {
                let perm = self.new_permission(
                    org,
                    Name::new(&format!("Read Role {}", role.as_usize()))?,
                    READ,
                    ROLES,
                    false,
                    &[role_object],
                    &mut dirty,
                )?;
                self.attach(role, perm, &mut dirty);
            }
        }
        self.commit(dirty, Cascade::Nothing);
        Ok(role)
    }

    pub(super) fn delete_role(
        &mut self,
        who: Who,
        op: &'static str,
        role: RoleId,
    ) -> Result<()> {
        let r = self.model.roles.get(role);
        let r = r.ok_or_else(|| not_found("role", role))?;
        self.require_action(who, op, DELETE, r.object)?;
        self.change(Cascade::Nothing, |m, dirty| m.remove_role(role, dirty));
        Ok(())
    }

    #[expect(clippy::too_many_arguments, reason = "one per op field")]
    pub(super) fn create_permission(
        &mut self,
        who: Who,
        op: &'static str,
        org: OrgId,
        name: &str,
        action: &str,
        object_type: &str,
        applies_to_all: bool,
        objects: &[ObjectId],
    ) -> Result<PermissionId> {
        if !self.model.orgs.contains(org) {
            return Err(not_found("organization", org));
        }
        let ty = self.resolve_type(object_type)?;
        let action_id = self
            .schema
            .action(action)
            .ok_or_else(|| not_found("action", action))?;
        self.require_create(who, op, org, PERMISSIONS)?;
        let name = Name::new(name)?;
        if applies_to_all && !objects.is_empty() {
            return Err(invalid(
                "an applies-to-all permission takes no object list",
            ));
        }
        let max = self.config.limits.max_objects_per_permission;
        if objects.len() > max {
            return Err(limit("objects per permission", max));
        }
        let mut seen = IndexSet::new();
        for o in objects {
            self.check_listable(who, op, org, ty, *o)?;
            if !seen.insert(*o) {
                return Err(invalid(format!("object `{o}` listed twice")));
            }
        }
        self.room(1, 1)?;
        let mut dirty = Dirty::default();
        let id = self.new_permission(
            org,
            name,
            action_id,
            ty,
            applies_to_all,
            objects,
            &mut dirty,
        )?;
        self.commit(dirty, Cascade::Nothing);
        Ok(id)
    }

    pub(super) fn delete_permission(
        &mut self,
        who: Who,
        op: &'static str,
        permission: PermissionId,
    ) -> Result<()> {
        let p = self.model.permissions.get(permission);
        let p = p.ok_or_else(|| not_found("permission", permission))?;
        self.require_action(who, op, DELETE, p.object)?;
        self.change(Cascade::Nothing, |m, dirty| {
            m.remove_permission(permission, dirty)
        });
        Ok(())
    }

    /// `object` may join a list of a permission of `org` on `ty`: it
    /// exists, has that type, is owned by `org`, and a user actor can read
    /// it.
    fn check_listable(
        &self,
        who: Who,
        op: &'static str,
        org: OrgId,
        ty: TypeId,
        object: ObjectId,
    ) -> Result<()> {
        let rec = self
            .model
            .objects
            .get(object)
            .ok_or_else(|| not_found("object", object))?;
        if rec.ty != ty {
            return Err(ErrorKind::WrongType {
                object: self.describe(object),
                expected: self.schema.type_name(ty).unwrap_or("?").to_owned(),
            }
            .into());
        }
        if rec.org != org {
            return Err(ErrorKind::NotOwned {
                what: "object",
                object: self.describe(object),
                org: self.org_name(org),
            }
            .into());
        }
        self.require_action(who, op, READ, object)
    }

    pub(super) fn add_object_to_permission(
        &mut self,
        who: Who,
        op: &'static str,
        permission: PermissionId,
        object: ObjectId,
    ) -> Result<()> {
        let p = self
            .model
            .permissions
            .get(permission)
            .ok_or_else(|| not_found("permission", permission))?;
        self.require_member(who, op, p.org)?;
        self.require_action(who, op, UPDATE, p.object)?;
        self.check_listable(who, op, p.org, p.ty, object)?;
        if p.applies_to_all {
            return Err(ErrorKind::AppliesToAll {
                permission: p.name.to_string(),
            }
            .into());
        }
        if p.objects.contains(&object) {
            return Err(ErrorKind::Duplicate {
                what: "permission entry",
                name: self.describe(object),
            }
            .into());
        }
        let max = self.config.limits.max_objects_per_permission;
        if p.objects.len() >= max {
            return Err(limit("objects per permission", max));
        }
        let mut dirty = Dirty::default();
        if let Some(p) = self.model.permissions.get_mut(permission) {
            p.objects.insert(object);
            dirty.roles.extend(p.roles.iter().copied());
        }
        if let Some(o) = self.model.objects.get_mut(object) {
            o.add_listing(permission);
        }
        self.commit(dirty, Cascade::Nothing);
        Ok(())
    }

    pub(super) fn remove_object_from_permission(
        &mut self,
        who: Who,
        op: &'static str,
        permission: PermissionId,
        object: ObjectId,
    ) -> Result<()> {
        let p = self
            .model
            .permissions
            .get(permission)
            .ok_or_else(|| not_found("permission", permission))?;
        self.require_member(who, op, p.org)?;
        self.require_action(who, op, UPDATE, p.object)?;
        if p.applies_to_all {
            return Err(ErrorKind::AppliesToAll {
                permission: p.name.to_string(),
            }
            .into());
        }
        if !p.objects.contains(&object) {
            return Err(not_found("permission entry", object));
        }
        let mut dirty = Dirty::default();
        if let Some(p) = self.model.permissions.get_mut(permission) {
            p.objects.shift_remove(&object);
            dirty.roles.extend(p.roles.iter().copied());
        }
        if let Some(o) = self.model.objects.get_mut(object) {
            o.remove_listing(permission);
        }
        self.commit(dirty, Cascade::Nothing);
        Ok(())
    }

    /// Whether any grantee of `role` is outside the role's organization.
    pub(crate) fn granted_outside(&self, role: &Role) -> bool {
        role.grants.iter().any(|g| {
            self.model
                .grants
                .get(*g)
                .and_then(|g| self.model.users.get(g.user))
                .is_some_and(|u| u.org != role.org)
        })
    }

    /// Whether `role` contains an administrative permission.
    pub(crate) fn is_administrative_role(&self, role: &Role) -> bool {
        role.permissions.iter().any(|p| {
            self.model
                .permissions
                .get(*p)
                .is_some_and(|p| self.schema.is_administrative(p.action, p.ty))
        })
    }

    pub(super) fn add_permission_to_role(
        &mut self,
        who: Who,
        op: &'static str,
        role: RoleId,
        permission: PermissionId,
    ) -> Result<()> {
        let r = self
            .model
            .roles
            .get(role)
            .ok_or_else(|| not_found("role", role))?;
        let p = self
            .model
            .permissions
            .get(permission)
            .ok_or_else(|| not_found("permission", permission))?;
        self.require_member(who, op, r.org)?;
        self.require_action(who, op, UPDATE, r.object)?;
        if p.org != r.org {
            return Err(ErrorKind::NotOwned {
                what: "permission",
                object: p.name.to_string(),
                org: self.org_name(r.org),
            }
            .into());
        }
        if self.schema.is_administrative(p.action, p.ty)
            && self.granted_outside(r)
        {
            return Err(ErrorKind::AdministrativePermissionOnExternalRole {
                role: r.name.to_string(),
                permission: p.name.to_string(),
            }
            .into());
        }
        if r.permissions.contains(&permission) {
            return Err(ErrorKind::Duplicate {
                what: "permission in role",
                name: p.name.to_string(),
            }
            .into());
        }
        let max = self.config.limits.max_permissions_per_role;
        if r.permissions.len() >= max {
            return Err(limit("permissions per role", max));
        }
        let mut dirty = Dirty::default();
        self.attach(role, permission, &mut dirty);
        self.commit(dirty, Cascade::Nothing);
        Ok(())
    }

    pub(super) fn remove_permission_from_role(
        &mut self,
        who: Who,
        op: &'static str,
        role: RoleId,
        permission: PermissionId,
    ) -> Result<()> {
        let r = self
            .model
            .roles
            .get(role)
            .ok_or_else(|| not_found("role", role))?;
        self.require_member(who, op, r.org)?;
        self.require_action(who, op, UPDATE, r.object)?;
        if !r.permissions.contains(&permission) {
            return Err(not_found("permission in role", permission));
        }
        let mut dirty = Dirty::default();
        if let Some(r) = self.model.roles.get_mut(role) {
            r.permissions.shift_remove(&permission);
        }
        if let Some(p) = self.model.permissions.get_mut(permission) {
            p.roles.shift_remove(&role);
        }
        dirty.roles.insert(role);
        self.commit(dirty, Cascade::Nothing);
        Ok(())
    }

    // ----- grants ------------------------------------------------------

    pub(super) fn grant_role(
        &mut self,
        who: Who,
        op: &'static str,
        user: UserId,
        role: RoleId,
        bindings: &[ObjectId],
    ) -> Result<GrantId> {
        let r = self
            .model
            .roles
            .get(role)
            .ok_or_else(|| not_found("role", role))?;
        self.require_member(who, op, r.org)?;
        self.require_action(who, op, GRANT, r.object)?;
        let u = self
            .model
            .users
            .get(user)
            .ok_or_else(|| not_found("user", user))?;
        if self.config.require_terms {
            let accepted =
                self.model.orgs.get(u.org).is_some_and(|o| o.accepted_terms);
            if !accepted {
                return Err(ErrorKind::TermsNotAccepted {
                    org: self.org_name(u.org),
                }
                .into());
            }
        }
        if u.org != r.org && self.is_administrative_role(r) {
            return Err(ErrorKind::AdministrativeRoleOutside {
                role: r.name.to_string(),
            }
            .into());
        }
        let limits = &self.config.limits;
        if bindings.len() > limits.max_bindings {
            return Err(limit("bindings per grant", limits.max_bindings));
        }
        let mut set: SmallVec<[ObjectId; 2]> = SmallVec::new();
        for b in bindings {
            let ok = self
                .model
                .objects
                .get(*b)
                .is_some_and(|o| o.kind() == ObjectKind::Data);
            if !ok {
                return Err(not_found("binding object", b));
            }
            if set.contains(b) {
                return Err(invalid(format!("binding `{b}` listed twice")));
            }
            set.push(*b);
        }
        for ty in &r.required_bindings {
            let bound = set.iter().any(|b| {
                self.model.objects.get(*b).is_some_and(|o| o.ty == *ty)
            });
            if !bound {
                return Err(ErrorKind::MissingBinding {
                    role: r.name.to_string(),
                    object_type: self
                        .schema
                        .type_name(*ty)
                        .unwrap_or("?")
                        .to_owned(),
                }
                .into());
            }
        }
        if u.grants.contains_key(&role) {
            return Err(ErrorKind::Duplicate {
                what: "grant of role",
                name: r.name.to_string(),
            }
            .into());
        }
        if u.grants.len() >= limits.max_grants_per_user {
            return Err(limit("grants per user", limits.max_grants_per_user));
        }
        self.room(0, 1)?;
        let mut dirty = Dirty::default();
        let id = self.new_grant(user, role, &set, &mut dirty)?;
        self.commit(dirty, Cascade::Nothing);
        Ok(id)
    }

    pub(super) fn revoke_role(
        &mut self,
        who: Who,
        op: &'static str,
        user: UserId,
        role: RoleId,
    ) -> Result<()> {
        let r = self
            .model
            .roles
            .get(role)
            .ok_or_else(|| not_found("role", role))?;
        self.require_member(who, op, r.org)?;
        self.require_action(who, op, REVOKE, r.object)?;
        let grant = self
            .model
            .users
            .get(user)
            .and_then(|u| u.grants.get(&role).copied())
            .ok_or_else(|| not_found("grant of role", r.name.to_string()))?;
        self.change(Cascade::Nothing, |m, dirty| m.remove_grant(grant, dirty));
        Ok(())
    }
}

/// Validates an e-mail address: a [`Name`] of the form `local@domain`
/// without white space, whose domain contains a dot.
pub(crate) fn validate_email(email: &str) -> Result<Name> {
    let name = Name::new(email)?;
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(name)
    } else {
        Err(invalid(format!("`{email}` is not an e-mail address")))
    }
}
