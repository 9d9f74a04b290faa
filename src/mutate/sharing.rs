//! Shares, connections and ownership transfer.
//!
//! The downstream rules (`Keep`, `Cascade`, `Restrict`) rest on one
//! computation, [`Engine::derive`]: the least fixpoint of "which shares
//! are derivable by a chain from the owner, and at which levels". Owner
//! shares are derivable at their stored levels; a share granted by a user
//! is derivable when that user holds share-forward on its root (or an
//! ancestor) through another derivable accepted share, at the lesser of its
//! stored levels and the grantor's derivable levels. Starting from nothing
//! and growing, circular chains that never reach the owner stay
//! underivable.

use std::collections::HashMap;

use smallvec::SmallVec;

use super::commit::Cascade;
use super::handlers::{denied, invalid, not_found, Result, Who};
use crate::engine::Downstream;
use crate::error::ErrorKind;
use crate::id::{ObjectId, OrgId, ShareId, TypeId, UserId};
use crate::index::HandleSet;
use crate::model::{pair_key, Connection, Dirty, ObjectKind};
use crate::schema::{Level, DELETE, GRANT};
use crate::share::ShareStatus;
use crate::share::{Grantee, Grantor, Share, ShareKind, ShareSpec};
use crate::Engine;

/// The levels of one share: on each object of its subtree, and per data
/// type (what objects created later under the root receive).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Levels {
    objects: Vec<(ObjectId, Level)>,
    types: Vec<(TypeId, Level)>,
}

impl Levels {
    fn is_empty(&self) -> bool {
        self.objects.is_empty() && self.types.is_empty()
    }
}

/// Derivable levels of each share of a family: `None` when the share is
/// not derivable.
type Derived = HashMap<ShareId, Option<Levels>>;

/// Shares a change would remove (`None`) or lower (the lowered levels).
type Dependents = Vec<(ShareId, Option<Levels>)>;

/// Changes to consider on top of the stored shares.
#[derive(Default)]
struct Overlay {
    removed: HandleSet<ShareId>,
    replaced: Option<(ShareId, Share)>,
}

impl Engine {
    // ----- levels held through shares -----------------------------------

    /// The grantees a user matches: the user, their organization, public.
    pub(crate) fn grantees_of(&self, user: UserId) -> [Grantee; 3] {
        let org = self.model.users.get(user).map(|u| u.org);
        [
            Grantee::User(user),
            org.map_or(Grantee::Public, Grantee::Org),
            Grantee::Public,
        ]
    }

    /// The accepted shares covering `object` that one of `grantees`
    /// receives, nearest root first.
    pub(crate) fn shares_covering(
        &self,
        grantees: &[Grantee],
        object: ObjectId,
    ) -> SmallVec<[ShareId; 4]> {
        let mut out = SmallVec::new();
        let Some(rec) = self.model.objects.get(object) else { return out };
        for a in std::iter::once(object).chain(rec.ancestors().iter().copied())
        {
            if !self.index.is_root(a) {
                continue;
            }
            for g in grantees {
                if let Some(id) = self.index.share(a, *g) {
                    if !out.contains(&id) {
                        out.push(id);
                    }
                }
            }
        }
        out
    }

    /// The highest level `grantees` hold on `object` through accepted
    /// shares, or `None` if no share covers it.
    pub(crate) fn share_level(
        &self,
        grantees: &[Grantee],
        object: ObjectId,
    ) -> Option<Level> {
        self.model.objects.get(object)?;
        self.index.reach_level(object, grantees)
    }

    /// Whether `user` holds share-forward on `root` through an accepted
    /// share (their own or their organization's) on it or an ancestor.
    pub(super) fn holds_share_forward(
        &self,
        user: UserId,
        root: ObjectId,
    ) -> bool {
        let g = self.grantees_of(user);
        let personal = g.get(..2).unwrap_or(&[]);
        self.shares_covering(personal, root)
            .iter()
            .filter_map(|id| self.model.shares.get(*id))
            .any(|s| s.share_forward)
    }

    /// The strongest kind among `user`'s accepted shares covering `root`.
    fn editor_kind(&self, user: UserId, root: ObjectId) -> Option<ShareKind> {
        let g = self.grantees_of(user);
        let personal = g.get(..2).unwrap_or(&[]);
        let rank = |k: ShareKind| match k {
            ShareKind::ReadOnly => 0,
            ShareKind::Custom | ShareKind::ExchangeData => 1,
            ShareKind::Full => 2,
        };
        self.shares_covering(personal, root)
            .iter()
            .filter_map(|id| self.model.shares.get(*id))
            .map(|s| s.kind)
            .max_by_key(|k| rank(*k))
    }

    /// Whether the actor acts as the owner of `root`: the system, or a
    /// member of the owning organization holding `grant` on it.
    pub(super) fn acts_as_owner(&self, who: Who, root: ObjectId) -> bool {
        match who {
            Who::System => true,
            Who::User(u, org) => {
                self.model.objects.get(root).is_some_and(|o| o.org == org)
                    && self
                        .check(crate::Subject::User(u), GRANT, root)
                        .is_allow()
            }
        }
    }

    /// The actor may edit or remove `share`.
    fn may_edit(&self, who: Who, share: &Share) -> bool {
        if self.acts_as_owner(who, share.root) {
            return true;
        }
        let Who::User(u, _) = who else { return true };
        match self.editor_kind(u, share.root) {
            Some(ShareKind::Full) => true,
            Some(ShareKind::Custom | ShareKind::ExchangeData) => {
                share.grantor == Grantor::User(u)
            }
            Some(ShareKind::ReadOnly) | None => false,
        }
    }

    fn is_grantee(&self, who: Who, grantee: Grantee) -> bool {
        match (who, grantee) {
            (Who::System, _) => true,
            (Who::User(u, _), Grantee::User(g)) => u == g,
            (Who::User(_, org), Grantee::Org(g)) => org == g,
            (Who::User(..), Grantee::Public) => false,
        }
    }

    pub(crate) fn describe_grantee(&self, g: Grantee) -> String {
        match g {
            Grantee::User(u) => self
                .model
                .users
                .get(u)
                .map_or_else(|| u.to_string(), |u| format!("`{}`", u.email)),
            Grantee::Org(o) => self
                .model
                .orgs
                .get(o)
                .map_or_else(|| o.to_string(), |o| format!("`{}`", o.name)),
            Grantee::Public => "the public".to_owned(),
        }
    }

    fn org_of_grantee(&self, g: Grantee) -> Option<OrgId> {
        match g {
            Grantee::User(u) => self.model.users.get(u).map(|u| u.org),
            Grantee::Org(o) => Some(o),
            Grantee::Public => None,
        }
    }

    fn connected(&self, a: OrgId, b: OrgId) -> bool {
        a == b
            || self
                .model
                .connections
                .get(&pair_key(a, b))
                .is_some_and(|c| c.accepted)
    }

    fn require_connected(&self, a: OrgId, b: OrgId) -> Result<()> {
        if !self.config.require_connection || self.connected(a, b) {
            return Ok(());
        }
        Err(ErrorKind::NotConnected {
            a: self.org_name(a),
            b: self.org_name(b),
        }
        .into())
    }

    /// The data (non-policy) object types of the schema.
    fn data_types(&self) -> Vec<TypeId> {
        self.schema
            .object_types()
            .filter(|t| {
                !self.schema.type_def(*t).is_some_and(|d| d.is_policy())
            })
            .collect()
    }

    /// The root and every object under it.
    fn subtree(&self, root: ObjectId) -> Vec<ObjectId> {
        let mut v = vec![root];
        v.extend(self.model.descendants(root));
        v
    }

    // ----- share ---------------------------------------------------------

    fn resolve_spec(
        &self,
        root: ObjectId,
        grantee: Grantee,
        spec: &ShareSpec,
    ) -> Result<Share> {
        let fixed = matches!(spec.kind, ShareKind::ReadOnly | ShareKind::Full);
        if fixed && (!spec.levels.is_empty() || !spec.overrides.is_empty()) {
            return Err(invalid(format!(
                "a {:?} share takes no per-type or per-object levels",
                spec.kind
            )));
        }
        let forced = match spec.kind {
            ShareKind::ReadOnly => Some(false),
            ShareKind::Full => Some(true),
            _ => None,
        };
        if forced.is_some_and(|f| f != spec.share_forward) {
            return Err(invalid(format!(
                "a {:?} share's share-forward is fixed",
                spec.kind
            )));
        }
        if grantee == Grantee::Public && spec.share_forward {
            return Err(invalid(
                "share-forward cannot be given to the public",
            ));
        }
        let above_read = spec.kind == ShareKind::Full
            || spec.levels.iter().any(|(_, l)| *l > Level::Read)
            || spec.overrides.iter().any(|(_, l)| *l > Level::Read);
        if grantee == Grantee::Public && above_read {
            return Err(invalid("the public can be given at most `Read`"));
        }
        let mut levels: SmallVec<[(TypeId, Level); 4]> = SmallVec::new();
        for (t, l) in &spec.levels {
            let ty = self.data_type(t)?;
            if levels.iter().any(|(x, _)| *x == ty) {
                return Err(invalid(format!("type `{t}` given twice")));
            }
            levels.push((ty, *l));
        }
        let root_rec = self.model.objects.get(root);
        let mut overrides: SmallVec<[(ObjectId, Level); 4]> = SmallVec::new();
        for (o, l) in &spec.overrides {
            let under = self
                .model
                .objects
                .get(*o)
                .is_some_and(|r| r.is_at_or_under(*o, root));
            if root_rec.is_none() || !under {
                return Err(invalid(format!(
                    "object `{o}` does not lie under the shared root"
                )));
            }
            if overrides.iter().any(|(x, _)| x == o) {
                return Err(invalid(format!("object `{o}` given twice")));
            }
            overrides.push((*o, *l));
        }
        overrides.sort_unstable_by_key(|(o, _)| *o);
        let max = self.config.limits.max_objects_per_permission;
        if overrides.len() > max {
            return Err(super::handlers::limit(
                "object levels per share",
                max,
            ));
        }
        Ok(Share {
            root,
            grantee,
            kind: spec.kind,
            levels,
            overrides,
            share_forward: spec.share_forward,
            grantor: Grantor::Owner,
            status: ShareStatus::Accepted,
        })
    }

    pub(super) fn share_op(
        &mut self,
        who: Who,
        op: &'static str,
        root: ObjectId,
        grantee: Grantee,
        spec: &ShareSpec,
    ) -> Result<ShareId> {
        let rec = self.data_object(root)?;
        let owner = rec.org;
        match grantee {
            Grantee::User(u) if !self.model.users.contains(u) => {
                return Err(not_found("user", u));
            }
            Grantee::Org(o) if !self.model.orgs.contains(o) => {
                return Err(not_found("organization", o));
            }
            Grantee::Org(o) if o == owner => {
                return Err(invalid(
                    "an organization cannot share with itself",
                ));
            }
            _ => {}
        }
        if let Who::User(u, _) = who {
            if grantee == Grantee::User(u) {
                return Err(invalid("a user cannot share with themself"));
            }
        }
        let mut share = self.resolve_spec(root, grantee, spec)?;
        let existing = self.model.share_keys.get(&(root, grantee)).copied();

        // Authority to share at all.
        let as_owner = self.acts_as_owner(who, root);
        let grantor = match who {
            _ if as_owner => Grantor::Owner,
            Who::User(u, _) => {
                if !self.holds_share_forward(u, root) {
                    return Err(denied(
                        op,
                        format!(
                            "actor holds no share-forward on {}",
                            self.describe(root)
                        ),
                    ));
                }
                Grantor::User(u)
            }
            Who::System => Grantor::Owner,
        };
        share.grantor = grantor;
        if let Some(id) = existing {
            let old = self.model.shares.get(id);
            let old = old.ok_or_else(|| not_found("share", id))?;
            if !self.may_edit(who, old) {
                return Err(denied(
                    op,
                    format!(
                        "actor may not edit the share of {} to {}",
                        self.describe(root),
                        self.describe_grantee(grantee)
                    ),
                ));
            }
            share.status = old.status;
            // An edit by anyone but the owner keeps the share's
            // provenance: it is still derived from its grantor's share (a
            // Full holder may edit shares upstream of their own). The
            // ceiling below still applies to the editor. The owner's edit
            // makes it the owner's share.
            if !as_owner {
                share.grantor = old.grantor;
            }
        } else if self.config.require_share_acceptance
            && grantee != Grantee::Public
        {
            // Nobody can accept for the public: a public share is in
            // force at once.
            share.status = ShareStatus::Pending;
        }

        // Connection between the grantor's and the grantee's organizations
        // (for a new share; editing an existing one needs none).
        let new_grantee = if existing.is_none() {
            self.org_of_grantee(grantee)
        } else {
            None
        };
        if let Some(to) = new_grantee {
            let from = match who {
                Who::User(_, org) if !as_owner => org,
                _ => owner,
            };
            self.require_connected(from, to)?;
        }

        // The depth of the chain from the owner, through the grantor's
        // shortest share-forward source.
        if let Grantor::User(u) = share.grantor {
            let g = self.grantees_of(u);
            let personal = g.get(..2).unwrap_or(&[]);
            let depth = self
                .shares_covering(personal, root)
                .iter()
                .filter(|id| {
                    self.model
                        .shares
                        .get(**id)
                        .is_some_and(|s| s.share_forward)
                })
                .map(|id| self.share_chain(*id).len())
                .min()
                .unwrap_or(0)
                .saturating_add(1);
            let max = self.config.limits.max_share_depth;
            if depth > max {
                return Err(super::handlers::limit("share chain depth", max));
            }
        }

        // The ceiling: never above the grantor's own levels.
        if let Grantor::User(u) = grantor {
            let g = self.grantees_of(u);
            for o in self.subtree(root) {
                let Some(ty) = self.model.objects.get(o).map(|r| r.ty) else {
                    continue;
                };
                let granted = share.level_for(o, ty);
                let held = self.share_level(&g, o).unwrap_or(Level::None);
                if granted > held {
                    return Err(ErrorKind::Ceiling {
                        object: self.describe(o),
                        granted,
                        held,
                    }
                    .into());
                }
            }
            // Per type too: objects created later under the root get the
            // type's level, which must not exceed the grantor's.
            let covering = self.shares_covering(&g, root);
            for ty in self.data_types() {
                let granted = share.type_level(ty);
                let held = covering
                    .iter()
                    .filter_map(|id| self.model.shares.get(*id))
                    .map(|s| s.type_level(ty))
                    .max()
                    .unwrap_or(Level::None);
                if granted > held {
                    let name = self.schema.type_name(ty).unwrap_or("?");
                    return Err(ErrorKind::Ceiling {
                        object: format!(
                            "every `{name}` under {}",
                            self.describe(root)
                        ),
                        granted,
                        held,
                    }
                    .into());
                }
            }
        }

        // No share-forward back to one's own source.
        let strict = self.config.downstream != Downstream::Keep;
        if let (true, true, Grantor::User(u)) =
            (strict, share.share_forward, share.grantor)
        {
            let mut overlay = Overlay::default();
            overlay.removed.extend(
                self.model
                    .shares_by_grantee
                    .get(&grantee)
                    .into_iter()
                    .flatten()
                    .copied(),
            );
            let derived = self.derive(&[root], &overlay);
            if !self.derived_share_forward(&derived, &overlay, u, root) {
                return Err(ErrorKind::CircularShareForward {
                    grantee: self.describe_grantee(grantee),
                }
                .into());
            }
        }

        // Downstream effects of lowering an existing share.
        if let Some(id) = existing {
            if self.config.downstream == Downstream::Restrict {
                let overlay = Overlay {
                    removed: HandleSet::default(),
                    replaced: Some((id, share.clone())),
                };
                self.refuse_dependents(&[root], &overlay, id)?;
            }
        }

        let mut dirty = Dirty::default();
        let id = match existing {
            Some(id) => {
                if let Some(slot) = self.model.shares.get_mut(id) {
                    *slot = share;
                }
                dirty.shares.insert(id);
                id
            }
            None => {
                self.room(0, 1)?;
                let id = self
                    .model
                    .insert_share(share)
                    .ok_or_else(|| super::handlers::limit("shares", 0))?;
                dirty.shares.insert(id);
                id
            }
        };
        self.commit(dirty, Cascade::Around(&[root]));
        Ok(id)
    }

    pub(super) fn unshare_op(
        &mut self,
        who: Who,
        op: &'static str,
        id: ShareId,
    ) -> Result<()> {
        let share =
            self.model.shares.get(id).ok_or_else(|| not_found("share", id))?;
        if !self.may_edit(who, share) && !self.is_grantee(who, share.grantee) {
            return Err(denied(
                op,
                format!(
                    "actor may not remove the share of {} to {}",
                    self.describe(share.root),
                    self.describe_grantee(share.grantee)
                ),
            ));
        }
        let root = share.root;
        if self.config.downstream == Downstream::Restrict {
            let mut overlay = Overlay::default();
            overlay.removed.insert(id);
            self.refuse_dependents(&[root], &overlay, id)?;
        }
        self.change(Cascade::Around(&[root]), |m, dirty| {
            m.remove_share(id, dirty)
        });
        Ok(())
    }

    pub(super) fn respond_share(
        &mut self,
        who: Who,
        op: &'static str,
        id: ShareId,
        accept: bool,
    ) -> Result<()> {
        let share =
            self.model.shares.get(id).ok_or_else(|| not_found("share", id))?;
        if !self.is_grantee(who, share.grantee) {
            return Err(denied(op, "only the grantee may respond to a share"));
        }
        if share.status != ShareStatus::Pending {
            return Err(invalid("the share is not pending"));
        }
        let root = share.root;
        let mut dirty = Dirty::default();
        if accept {
            if let Some(s) = self.model.shares.get_mut(id) {
                s.status = ShareStatus::Accepted;
            }
            dirty.shares.insert(id);
        } else {
            self.model.remove_share(id, &mut dirty);
        }
        self.commit(dirty, Cascade::Around(&[root]));
        Ok(())
    }

    // ----- derivation and downstream -----------------------------------

    /// The shares whose validity can depend on a change at `roots`: those
    /// rooted at the roots, their ancestors or their descendants, and every
    /// share any of those can derive from (rooted at an ancestor of a
    /// descendant: with several parents, a meter can be shared on the
    /// strength of another property than the one changed).
    fn family(&self, roots: &[ObjectId]) -> HandleSet<ShareId> {
        let mut objs: HandleSet<ObjectId> = HandleSet::default();
        for r in roots {
            let Some(rec) = self.model.objects.get(*r) else { continue };
            objs.insert(*r);
            objs.extend(rec.ancestors().iter().copied());
            for d in self.model.descendants(*r) {
                objs.insert(d);
                if let Some(rec) = self.model.objects.get(d) {
                    objs.extend(rec.ancestors().iter().copied());
                }
            }
        }
        let mut out = HandleSet::default();
        for o in objs {
            if let Some(rec) = self.model.objects.get(o) {
                out.extend(rec.links().shares().iter().copied());
            }
        }
        out
    }

    /// The least fixpoint of derivable shares in the family of `roots`,
    /// with `overlay` applied.
    fn derive(&self, roots: &[ObjectId], overlay: &Overlay) -> Derived {
        let mut shares: Vec<(ShareId, Share)> = Vec::new();
        for id in self.family(roots) {
            if overlay.removed.contains(&id) {
                continue;
            }
            let s = match &overlay.replaced {
                Some((rid, s)) if *rid == id => s.clone(),
                _ => match self.model.shares.get(id) {
                    Some(s) => s.clone(),
                    None => continue,
                },
            };
            shares.push((id, s));
        }
        let subtrees: Vec<Vec<(ObjectId, TypeId)>> = shares
            .iter()
            .map(|(_, s)| {
                self.subtree(s.root)
                    .into_iter()
                    .filter_map(|o| {
                        self.model.objects.get(o).map(|r| (o, r.ty))
                    })
                    .collect()
            })
            .collect();
        let types = self.data_types();
        let mut derived: Derived =
            shares.iter().map(|(id, _)| (*id, None)).collect();
        loop {
            let mut changed = false;
            for (i, (id, s)) in shares.iter().enumerate() {
                let objs = subtrees.get(i).map_or(&[][..], |v| v.as_slice());
                let target = match s.grantor {
                    Grantor::Owner => Some(Levels {
                        objects: objs
                            .iter()
                            .map(|(o, t)| (*o, s.level_for(*o, *t)))
                            .collect(),
                        types: types
                            .iter()
                            .map(|t| (*t, s.type_level(*t)))
                            .collect(),
                    }),
                    Grantor::User(u) => self.derive_one(
                        &shares, &subtrees, &derived, *id, s, u, objs, &types,
                    ),
                };
                if derived.get(id) != Some(&target) {
                    derived.insert(*id, target);
                    changed = true;
                }
            }
            if !changed {
                return derived;
            }
        }
    }

    #[expect(clippy::too_many_arguments, reason = "one fixpoint step")]
    fn derive_one(
        &self,
        shares: &[(ShareId, Share)],
        subtrees: &[Vec<(ObjectId, TypeId)>],
        derived: &Derived,
        id: ShareId,
        s: &Share,
        grantor: UserId,
        objs: &[(ObjectId, TypeId)],
        types: &[TypeId],
    ) -> Option<Levels> {
        let org = self.model.users.get(grantor)?.org;
        let matches = |g: Grantee, public: bool| match g {
            Grantee::User(x) => x == grantor,
            Grantee::Org(o) => o == org,
            Grantee::Public => public,
        };
        let root_rec = self.model.objects.get(s.root)?;
        let sources: Vec<(usize, &Share)> = shares
            .iter()
            .enumerate()
            .filter(|(_, (vid, v))| {
                *vid != id
                    && v.status == ShareStatus::Accepted
                    && derived.get(vid).is_some_and(Option::is_some)
            })
            .map(|(i, (_, v))| (i, v))
            .collect();
        let forward = sources.iter().any(|(_, v)| {
            matches(v.grantee, false)
                && v.share_forward
                && root_rec.is_at_or_under(s.root, v.root)
        });
        if !forward {
            return None;
        }
        let mut out = Levels {
            objects: Vec::with_capacity(objs.len()),
            types: Vec::with_capacity(types.len()),
        };
        // Per type: only sources rooted at or above this share's root cover
        // every object that may be created under it.
        for t in types {
            let mut held = Level::None;
            for (i, v) in &sources {
                if !matches(v.grantee, true)
                    || !root_rec.is_at_or_under(s.root, v.root)
                {
                    continue;
                }
                let vid = shares.get(*i).map(|(x, _)| *x);
                let Some(Some(levels)) = vid.and_then(|x| derived.get(&x))
                else {
                    continue;
                };
                if let Some((_, l)) = levels.types.iter().find(|(x, _)| x == t)
                {
                    held = held.max(*l);
                }
            }
            out.types.push((*t, s.type_level(*t).min(held)));
        }
        for (o, t) in objs {
            let mut held = Level::None;
            for (i, v) in &sources {
                if !matches(v.grantee, true) {
                    continue;
                }
                let vid = shares.get(*i).map(|(x, _)| *x);
                let Some(Some(levels)) = vid.and_then(|x| derived.get(&x))
                else {
                    continue;
                };
                let covered = subtrees
                    .get(*i)
                    .is_some_and(|st| st.iter().any(|(x, _)| x == o));
                if !covered {
                    continue;
                }
                if let Some((_, l)) =
                    levels.objects.iter().find(|(x, _)| x == o)
                {
                    held = held.max(*l);
                }
            }
            out.objects.push((*o, s.level_for(*o, *t).min(held)));
        }
        Some(out)
    }

    fn derived_share_forward(
        &self,
        derived: &Derived,
        overlay: &Overlay,
        user: UserId,
        root: ObjectId,
    ) -> bool {
        let Some(org) = self.model.users.get(user).map(|u| u.org) else {
            return false;
        };
        let Some(root_rec) = self.model.objects.get(root) else {
            return false;
        };
        derived.iter().any(|(id, d)| {
            if d.is_none() || overlay.removed.contains(id) {
                return false;
            }
            self.model.shares.get(*id).is_some_and(|v| {
                v.status == ShareStatus::Accepted
                    && v.share_forward
                    && (v.grantee == Grantee::User(user)
                        || v.grantee == Grantee::Org(org))
                    && root_rec.is_at_or_under(root, v.root)
            })
        })
    }

    /// The shares (other than `changed`) that the overlay would remove or
    /// clamp.
    fn dependents(
        &self,
        roots: &[ObjectId],
        overlay: &Overlay,
        changed: Option<ShareId>,
    ) -> Dependents {
        let derived = self.derive(roots, overlay);
        let mut out = Vec::new();
        for (id, d) in derived {
            if Some(id) == changed {
                continue;
            }
            let Some(stored) = self.model.shares.get(id) else { continue };
            match d {
                None => out.push((id, None)),
                Some(levels) => {
                    let types: Vec<(TypeId, Level)> = levels
                        .types
                        .into_iter()
                        .filter(|(t, l)| *l < stored.type_level(*t))
                        .collect();
                    // An object is listed when it must go lower, and also
                    // when a lowered type level would take it below what
                    // stays derivable (an upstream override holds it up):
                    // the clamp pins it with an override at that level.
                    let objects = levels
                        .objects
                        .into_iter()
                        .filter(|(o, l)| {
                            let Some(t) =
                                self.model.objects.get(*o).map(|r| r.ty)
                            else {
                                return false;
                            };
                            *l < stored.level_for(*o, t)
                                || (!stored.has_override(*o)
                                    && types
                                        .iter()
                                        .any(|(x, to)| *x == t && to < l))
                        })
                        .collect();
                    let lowered = Levels { objects, types };
                    if !lowered.is_empty() {
                        out.push((id, Some(lowered)));
                    }
                }
            }
        }
        out.sort_by_key(|(id, _)| *id);
        out
    }

    /// The shares rooted around `roots` that are not derivable from the
    /// owner at their stored levels.
    pub(crate) fn underivable(&self, roots: &[ObjectId]) -> Dependents {
        self.dependents(roots, &Overlay::default(), None)
    }

    fn refuse_dependents(
        &self,
        roots: &[ObjectId],
        overlay: &Overlay,
        changed: ShareId,
    ) -> Result<()> {
        let deps = self.dependents(roots, overlay, Some(changed));
        if deps.is_empty() {
            return Ok(());
        }
        let ids: Vec<ShareId> = deps.iter().map(|(id, _)| *id).collect();
        Err(self.dependent_shares(&ids))
    }

    /// The error refusing a change that `ids` depend on.
    pub(crate) fn dependent_shares(
        &self,
        ids: &[ShareId],
    ) -> crate::MutationError {
        let names: Vec<String> = ids
            .iter()
            .filter_map(|id| self.model.shares.get(*id).map(|s| (id, s)))
            .map(|(id, s)| {
                format!(
                    "{id} of {} to {}",
                    self.describe(s.root),
                    self.describe_grantee(s.grantee)
                )
            })
            .collect();
        ErrorKind::DependentShares { shares: names.join(", ") }.into()
    }

    /// Under [`Downstream::Cascade`], removes the shares of the family of
    /// `roots` that are no longer derivable and clamps those above their
    /// grantor's derivable levels, until nothing changes.
    pub(crate) fn cascade(&mut self, roots: &[ObjectId]) {
        if self.config.downstream != Downstream::Cascade {
            return;
        }
        let deps = self.dependents(roots, &Overlay::default(), None);
        if deps.is_empty() {
            return;
        }
        let types = self.data_types();
        let mut dirty = Dirty::default();
        for (id, d) in deps {
            match d {
                None => self.model.remove_share(id, &mut dirty),
                Some(lowered) => {
                    if let Some(s) = self.model.shares.get_mut(id) {
                        s.make_custom(&types);
                        for (t, l) in lowered.types {
                            s.set_type_level(t, l);
                        }
                        for (o, l) in lowered.objects {
                            match s
                                .overrides
                                .binary_search_by_key(&o, |(x, _)| *x)
                            {
                                Ok(i) => {
                                    if let Some(slot) = s.overrides.get_mut(i)
                                    {
                                        slot.1 = l;
                                    }
                                }
                                Err(i) => s.overrides.insert(i, (o, l)),
                            }
                        }
                    }
                    dirty.shares.insert(id);
                }
            }
        }
        self.commit(dirty, Cascade::Nothing);
    }

    /// [`Engine::cascade`] over every root that has shares (after a
    /// deletion, whose effects on shares are not local).
    pub(crate) fn cascade_all(&mut self) {
        if self.config.downstream != Downstream::Cascade {
            return;
        }
        let mut roots: HandleSet<ObjectId> = HandleSet::default();
        for (_, s) in self.model.shares.iter::<ShareId>() {
            roots.insert(s.root);
        }
        let roots: Vec<ObjectId> = roots.into_iter().collect();
        self.cascade(&roots);
    }

    // ----- connections ----------------------------------------------------

    pub(super) fn request_connection(
        &mut self,
        who: Who,
        op: &'static str,
        from: OrgId,
        to: OrgId,
    ) -> Result<()> {
        for o in [from, to] {
            if !self.model.orgs.contains(o) {
                return Err(not_found("organization", o));
            }
        }
        if from == to {
            return Err(invalid("an organization cannot connect to itself"));
        }
        self.require_member(who, op, from)?;
        let key = pair_key(from, to);
        if self.model.connections.contains_key(&key) {
            return Err(ErrorKind::Duplicate {
                what: "connection",
                name: format!(
                    "{} and {}",
                    self.org_name(from),
                    self.org_name(to)
                ),
            }
            .into());
        }
        self.model
            .connections
            .insert(key, Connection { from, to, accepted: false });
        self.commit(Dirty::default(), Cascade::Nothing);
        Ok(())
    }

    pub(super) fn respond_connection(
        &mut self,
        who: Who,
        op: &'static str,
        from: OrgId,
        to: OrgId,
        accept: bool,
    ) -> Result<()> {
        let key = pair_key(from, to);
        let pending = self
            .model
            .connections
            .get(&key)
            .is_some_and(|c| c.from == from && c.to == to && !c.accepted);
        if !pending {
            return Err(not_found(
                "pending connection",
                format!("{} to {}", self.org_name(from), self.org_name(to)),
            ));
        }
        self.require_member(who, op, to)?;
        if accept {
            if let Some(c) = self.model.connections.get_mut(&key) {
                c.accepted = true;
            }
        } else {
            self.model.connections.shift_remove(&key);
        }
        self.commit(Dirty::default(), Cascade::Nothing);
        Ok(())
    }

    // ----- ownership transfer --------------------------------------------

    pub(super) fn transfer(
        &mut self,
        who: Who,
        op: &'static str,
        root: ObjectId,
        to: OrgId,
    ) -> Result<()> {
        let owner = self.data_object(root)?.org;
        if !self.model.orgs.contains(to) {
            return Err(not_found("organization", to));
        }
        if to == owner {
            return Err(invalid("the organization already owns the object"));
        }
        self.require_member(who, op, owner)?;
        self.require_action(who, op, DELETE, root)?;
        self.require_connected(owner, to)?;
        self.model.transfers.insert(root, to);
        self.commit(Dirty::default(), Cascade::Nothing);
        Ok(())
    }

    pub(super) fn respond_transfer(
        &mut self,
        who: Who,
        op: &'static str,
        root: ObjectId,
        accept: bool,
    ) -> Result<()> {
        let to = self
            .model
            .transfers
            .get(&root)
            .copied()
            .ok_or_else(|| not_found("pending transfer", root))?;
        self.require_member(who, op, to)?;
        self.model.transfers.shift_remove(&root);
        let owner = self.model.objects.get(root).map(|o| o.org);
        let Some(owner) = owner.filter(|_| accept) else {
            self.commit(Dirty::default(), Cascade::Nothing);
            return Ok(());
        };
        let mut dirty = Dirty::default();
        for o in self.subtree(root) {
            let Some(rec) = self.model.objects.get(o) else { continue };
            if rec.org != owner || rec.kind() != ObjectKind::Data {
                continue;
            }
            let ty = rec.ty;
            let listed: Vec<_> = rec.listed_in().collect();
            for p in listed {
                if let Some(perm) = self.model.permissions.get_mut(p) {
                    perm.objects.shift_remove(&o);
                    dirty.roles.extend(perm.roles.iter().copied());
                }
            }
            if let Some(rec) = self.model.objects.get_mut(o) {
                rec.org = to;
                rec.clear_listings();
            }
            // An offer its former owner made for an object that moves
            // with this root is stale.
            self.model.transfers.shift_remove(&o);
            if let Some(old) = self.model.orgs.get_mut(owner) {
                if let Some(set) = old.objects.get_mut(&ty) {
                    set.swap_remove(&o);
                }
            }
            if let Some(new) = self.model.orgs.get_mut(to) {
                new.objects.entry(ty).or_default().insert(o);
            }
            dirty.objects.insert(o);
        }
        self.commit(dirty, Cascade::Around(&[root]));
        Ok(())
    }
}
