//! Queries beyond a single decision: what a subject may do on an object,
//! which objects a subject may act on, who may act on an object, which
//! types a user may create, which users an administrator may see, and who
//! holds a role.
//!
//! Each query starts from the subject's or the object's own index entries,
//! so its cost follows the size of the answer (and of the subject's
//! grants), not the size of the policy.

use crate::decision::Subject;
use crate::id::{ActionId, ObjectId, RoleId, ShareId, TypeId, UserId};
use crate::index::{decode, HandleSet, Scope};
use crate::schema::{GRANT, READ, REVOKE};
use crate::share::{Grantee, Grantor};
use crate::Engine;

/// A set of actions (at most 64, as in a [`Schema`](crate::Schema)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ActionSet(u64);

impl ActionSet {
    /// Whether the set contains `action`.
    #[must_use]
    pub fn contains(self, action: ActionId) -> bool {
        action.as_usize() < 64 && self.0 & (1 << action.as_u32()) != 0
    }
    /// The number of actions.
    #[must_use]
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }
    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The actions, in schema order.
    pub fn iter(self) -> impl Iterator<Item = ActionId> {
        (0..64u32)
            .filter(move |i| self.0 & (1 << i) != 0)
            .filter_map(ActionId::from_raw)
    }
    fn insert(&mut self, action: ActionId) {
        if action.as_usize() < 64 {
            self.0 |= 1 << action.as_u32();
        }
    }
}

/// A holder of a role, as seen by [`Engine::role_grantees`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleGrantee {
    /// The user.
    pub user: UserId,
    /// Whether the user belongs to another organization than the role.
    pub external: bool,
    /// The grant's bindings.
    pub bindings: Vec<ObjectId>,
}

impl Engine {
    /// Every action `subject` may perform on `object` (which tabs to show).
    ///
    /// Always equal to testing [`Engine::check`] with each action.
    #[must_use]
    pub fn allowed_actions(
        &self,
        subject: Subject,
        object: ObjectId,
    ) -> ActionSet {
        let mut set = ActionSet::default();
        for a in self.schema.actions() {
            if self.check(subject, a, object).is_allow() {
                set.insert(a);
            }
        }
        set
    }

    /// Every object of type `ty` on which `subject` may perform `action`,
    /// sorted.
    #[must_use]
    pub fn objects_for(
        &self,
        subject: Subject,
        action: ActionId,
        ty: TypeId,
    ) -> Vec<ObjectId> {
        if action.as_usize() >= 64 {
            return Vec::new();
        }
        // Candidates come from the (token's) user's grants and from the
        // shares the subject receives; `check` has the last word.
        let user = match subject {
            Subject::User(u) => Some(u),
            Subject::Token(t) => self.model.tokens.get(t).map(|t| t.user),
            _ => None,
        };
        let mut found: HandleSet<ObjectId> = HandleSet::default();
        let grantees: Vec<Grantee> = match user {
            Some(u) => self.grantees_of(u).to_vec(),
            None => vec![Grantee::Public],
        };
        for g in &grantees {
            for id in self.model.shares_by_grantee.get(g).into_iter().flatten()
            {
                let Some(share) = self.model.shares.get(*id) else { continue };
                let subtree = std::iter::once(share.root)
                    .chain(self.model.descendants(share.root));
                for o in subtree {
                    if self.model.objects.get(o).is_some_and(|r| r.ty == ty) {
                        found.insert(o);
                    }
                }
            }
        }
        let bit = 1u64 << action.as_u32();
        if let Some(ui) = user.and_then(|u| self.index.user(u)) {
            let bound = ui
                .bound()
                .iter()
                .filter_map(|(_, r)| self.index.role(*r))
                .flat_map(|map| map.iter());
            {
                for (key, mask) in ui.entries().chain(bound) {
                    if mask & bit == 0 {
                        continue;
                    }
                    match decode(key) {
                        Some(Scope::Type(org, t)) if t == ty => {
                            found.extend(self.model.objects_of_type(org, ty));
                        }
                        Some(Scope::Object(o)) => {
                            let same = self
                                .model
                                .objects
                                .get(o)
                                .is_some_and(|r| r.ty == ty);
                            if same {
                                found.insert(o);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        let mut out: Vec<ObjectId> = found
            .into_iter()
            .filter(|o| self.check(subject, action, *o).is_allow())
            .collect();
        out.sort_unstable();
        out
    }

    /// The objects of type `ty` that are public (a Read Only share to
    /// [`Grantee::Public`] is rooted at them), sorted: the "live projects"
    /// listing. An object that requires a login is not listed.
    #[must_use]
    pub fn public_objects(&self, ty: TypeId) -> Vec<ObjectId> {
        let mut out: Vec<ObjectId> = self
            .model
            .shares_by_grantee
            .get(&Grantee::Public)
            .into_iter()
            .flatten()
            .filter_map(|id| self.model.shares.get(*id))
            .filter(|s| s.status == crate::ShareStatus::Accepted)
            .map(|s| s.root)
            .filter(|o| self.model.objects.get(*o).is_some_and(|r| r.ty == ty))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every user who may perform `action` on `object`, sorted.
    ///
    /// A public share makes the object available to everyone, including
    /// anonymous callers; test that with
    /// [`Engine::check`]`(Subject::Anonymous, ..)` — such access is not
    /// listed user by user here.
    #[must_use]
    pub fn subjects_for(
        &self,
        action: ActionId,
        object: ObjectId,
    ) -> Vec<UserId> {
        let Some(obj) = self.model.objects.get(object) else {
            return Vec::new();
        };
        let mut roles: HandleSet<RoleId> = HandleSet::default();
        for p in obj.listed_in() {
            if let Some(perm) = self.model.permissions.get(p) {
                if perm.action == action {
                    roles.extend(perm.roles.iter().copied());
                }
            }
        }
        if let Some(org) = self.model.orgs.get(obj.org) {
            for p in &org.applying_to_all {
                if let Some(perm) = self.model.permissions.get(*p) {
                    if perm.applies_to_all
                        && perm.ty == obj.ty
                        && perm.action == action
                    {
                        roles.extend(perm.roles.iter().copied());
                    }
                }
            }
        }
        let mut users: HandleSet<UserId> = HandleSet::default();
        let covering =
            std::iter::once(object).chain(obj.ancestors().iter().copied());
        for a in covering {
            let Some(rec) = self.model.objects.get(a) else { continue };
            for id in rec.links().shares() {
                match self.model.shares.get(*id).map(|s| s.grantee) {
                    Some(Grantee::User(u)) => {
                        users.insert(u);
                    }
                    Some(Grantee::Org(o)) => {
                        if let Some(org) = self.model.orgs.get(o) {
                            users.extend(org.users.iter().copied());
                        }
                    }
                    _ => {}
                }
            }
        }
        for r in roles {
            if let Some(role) = self.model.roles.get(r) {
                for g in &role.grants {
                    if let Some(grant) = self.model.grants.get(*g) {
                        users.insert(grant.user);
                    }
                }
            }
        }
        let mut out: Vec<UserId> = users
            .into_iter()
            .filter(|u| {
                self.check(Subject::User(*u), action, object).is_allow()
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// The object types `user` may create in their own organization.
    #[must_use]
    pub fn creatable_types(&self, user: UserId) -> Vec<TypeId> {
        self.schema
            .object_types()
            .filter(|t| self.can_create(user, *t))
            .collect()
    }

    /// The users of `admin`'s own organization that `admin` may `read`,
    /// sorted. Users of other organizations who hold the organization's
    /// roles are not listed here; see [`Engine::role_grantees`].
    #[must_use]
    pub fn visible_users(&self, admin: UserId) -> Vec<UserId> {
        let Some(a) = self.model.users.get(admin) else { return Vec::new() };
        let Some(org) = self.model.orgs.get(a.org) else { return Vec::new() };
        let mut out: Vec<UserId> = org
            .users
            .iter()
            .copied()
            .filter(|u| {
                self.model.users.get(*u).is_some_and(|rec| {
                    self.check(Subject::User(admin), READ, rec.object)
                        .is_allow()
                })
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// The holders of `role`, internal and external, if `viewer` may see
    /// them: `viewer` needs `read`, `grant` or `revoke` on the role.
    /// Returns `None` when the viewer may not.
    #[must_use]
    pub fn role_grantees(
        &self,
        viewer: Subject,
        role: RoleId,
    ) -> Option<Vec<RoleGrantee>> {
        let r = self.model.roles.get(role)?;
        let may = [READ, GRANT, REVOKE]
            .iter()
            .any(|a| self.check(viewer, *a, r.object).is_allow());
        if !may {
            return None;
        }
        let mut out: Vec<RoleGrantee> = r
            .grants
            .iter()
            .filter_map(|g| self.model.grants.get(*g))
            .filter_map(|g| {
                let u = self.model.users.get(g.user)?;
                Some(RoleGrantee {
                    user: g.user,
                    external: u.org != r.org,
                    bindings: g.bindings.to_vec(),
                })
            })
            .collect();
        out.sort_by_key(|g| g.user);
        Some(out)
    }

    /// The shares of `root`'s subtree, as a tree: each node is a share and
    /// its depth in the chain from the owner (owner-granted shares have
    /// depth 0; a share granted by a user sits under the share through
    /// which that user holds share-forward). Shares whose grantor holds no
    /// share-forward any more (kept under [`Downstream::Keep`]) appear at
    /// depth 0 with [`ShareNode::detached`] set.
    ///
    /// [`Downstream::Keep`]: crate::Downstream::Keep
    #[must_use]
    pub fn share_tree(&self, root: ObjectId) -> Vec<ShareNode> {
        let Some(rec) = self.model.objects.get(root) else {
            return Vec::new();
        };
        let mut ids: Vec<ShareId> =
            rec.links().shares().iter().copied().collect();
        for d in self.model.descendants(root) {
            if let Some(r) = self.model.objects.get(d) {
                ids.extend(r.links().shares().iter().copied());
            }
        }
        let parent_of = |id: ShareId| -> Option<ShareId> {
            let s = self.model.shares.get(id)?;
            let Grantor::User(g) = s.grantor else { return None };
            let grantees = self.grantees_of(g);
            let personal = grantees.get(..2).unwrap_or(&[]);
            self.shares_covering(personal, s.root).into_iter().find(|p| {
                *p != id
                    && self
                        .model
                        .shares
                        .get(*p)
                        .is_some_and(|v| v.share_forward)
            })
        };
        let mut out = Vec::new();
        let mut placed: HandleSet<ShareId> = HandleSet::default();
        // Roots of the tree first, then children depth-first.
        let mut stack: Vec<(ShareId, usize, bool)> = ids
            .iter()
            .rev()
            .filter_map(|id| match parent_of(*id) {
                Some(p) if ids.contains(&p) => None,
                Some(_) => Some((*id, 0, false)),
                None => {
                    let detached = self
                        .model
                        .shares
                        .get(*id)
                        .is_some_and(|s| s.grantor != Grantor::Owner);
                    Some((*id, 0, detached))
                }
            })
            .collect();
        while let Some((id, depth, detached)) = stack.pop() {
            if !placed.insert(id) {
                continue;
            }
            let Some(s) = self.model.shares.get(id) else { continue };
            out.push(ShareNode {
                share: id,
                depth,
                detached,
                grantee: s.grantee,
                grantor: s.grantor,
            });
            for child in ids.iter().rev() {
                if !placed.contains(child) && parent_of(*child) == Some(id) {
                    stack.push((*child, depth + 1, false));
                }
            }
        }
        // Anything left sits in a cycle without a way up: list it detached.
        for id in ids {
            if placed.insert(id) {
                if let Some(s) = self.model.shares.get(id) {
                    out.push(ShareNode {
                        share: id,
                        depth: 0,
                        detached: true,
                        grantee: s.grantee,
                        grantor: s.grantor,
                    });
                }
            }
        }
        out
    }

    /// A share.
    #[must_use]
    pub fn share(&self, id: ShareId) -> Option<&crate::Share> {
        self.model.shares.get(id)
    }

    /// The spec that would re-create `share` as it stands: its kind,
    /// per-type and per-object levels and share-forward. Useful to edit one
    /// level of an existing share.
    #[must_use]
    pub fn share_spec(&self, share: ShareId) -> Option<crate::ShareSpec> {
        let s = self.model.shares.get(share)?;
        let mut levels = Vec::new();
        for (t, l) in &s.levels {
            levels.push((self.schema.type_name(*t)?.to_owned(), *l));
        }
        Some(crate::ShareSpec {
            kind: s.kind,
            levels,
            overrides: s.overrides.to_vec(),
            share_forward: s.share_forward,
        })
    }

    /// Finds the share of `root` to `grantee`.
    #[must_use]
    pub fn share_of(
        &self,
        root: ObjectId,
        grantee: Grantee,
    ) -> Option<ShareId> {
        self.model.share_keys.get(&(root, grantee)).copied()
    }

    /// Every share.
    pub fn shares(&self) -> impl Iterator<Item = (ShareId, &crate::Share)> {
        self.model.shares.iter()
    }

    /// The shares `grantee` receives.
    pub fn shares_to(
        &self,
        grantee: Grantee,
    ) -> impl Iterator<Item = ShareId> + '_ {
        self.model
            .shares_by_grantee
            .get(&grantee)
            .into_iter()
            .flatten()
            .copied()
    }

    /// Every connection between organizations, requested or accepted.
    pub fn connections(&self) -> impl Iterator<Item = &crate::Connection> {
        self.model.connections.values()
    }

    /// The organization a pending transfer of `root` would go to.
    #[must_use]
    pub fn pending_transfer(&self, root: ObjectId) -> Option<crate::OrgId> {
        self.model.transfers.get(&root).copied()
    }
}

/// One node of [`Engine::share_tree`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShareNode {
    /// The share.
    pub share: ShareId,
    /// Its depth in the chain from the owner.
    pub depth: usize,
    /// Whether its grantor no longer holds share-forward.
    pub detached: bool,
    /// Its grantee.
    pub grantee: Grantee,
    /// Its grantor.
    pub grantor: Grantor,
}
