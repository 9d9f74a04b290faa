//! The index `check` reads, kept up to date incrementally.
//!
//! # Design
//!
//! Each role is compiled into a small hash map from a *scope key* to a
//! 64-bit mask of actions:
//!
//! * `Type(org, type)` — from applies-to-all permissions: the actions hold
//!   on every object of `type` owned by `org`;
//! * `Object(id)` — from explicit object lists.
//!
//! Each user's *unbound* grants are merged into one such map, so the role
//! path of `check` costs two probes of one small, user-local map, whatever
//! the size of the policy. Bound grants are rare; they are kept as a short
//! list per user and tested against the object's ancestor set.
//!
//! Per object the index keeps 12 bytes: type, owner, and where the
//! object's share reach is kept, if a share reaches it. Reach lists and
//! the active share roots exist only for the objects shares touch.
//!
//! A mutation marks the roles and users it touched; only their maps are
//! rebuilt (a permission change reaches the roles that contain it and then
//! their grantees). Nothing is ever rebuilt globally.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use indexmap::IndexSet;

use crate::id::{GrantId, ObjectId, OrgId, RoleId, ShareId, TypeId, UserId};
use crate::model::{Dirty, Model};
use crate::schema::{Level, CREATE};
use crate::share::{Grantee, ShareStatus};

/// A fast hasher for the engine's 64-bit keys (a 64-bit finalizer in the
/// style of MurmurHash3's `fmix64`). Keys are engine-generated integers,
/// never attacker-chosen strings, so flooding resistance is not needed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    #[inline]
    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b))
                .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = self.0.rotate_left(29) ^ v;
    }

    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
}

/// Hash builder for [`KeyHasher`].
pub(crate) type KeyBuild = BuildHasherDefault<KeyHasher>;

/// Scope keys and their action masks.
///
/// A hash map: a lookup costs one probe whatever the size of the map. A
/// sorted boxed slice would save the spare buckets (about half the
/// bytes), but measured slower for `check` at every size, even with a
/// branch-free scan of small maps (see `BENCHMARKS.md`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ScopeMap(HashMap<u64, u64, KeyBuild>);

impl ScopeMap {
    /// Merges `entries`, OR-ing the masks of repeated keys.
    fn merged(entries: Vec<(u64, u64)>) -> ScopeMap {
        let mut map = HashMap::with_capacity_and_hasher(
            entries.len(),
            KeyBuild::default(),
        );
        for (k, m) in entries {
            *map.entry(k).or_insert(0) |= m;
        }
        map.shrink_to_fit();
        ScopeMap(map)
    }

    /// The mask stored under `key` (0 when absent).
    #[inline]
    pub(crate) fn get(&self, key: u64) -> u64 {
        self.0.get(&key).copied().unwrap_or(0)
    }

    /// Every `(key, mask)` entry, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.0.iter().map(|(k, m)| (*k, *m))
    }
}

const TYPE_TAG: u64 = 1 << 63;

/// Scope key of every object of `ty` owned by `org`.
#[inline]
pub(crate) fn type_key(org: OrgId, ty: TypeId) -> u64 {
    TYPE_TAG | (u64::from(org.as_u32()) << 32) | u64::from(ty.as_u32())
}

const CREATE_TAG: u64 = 1 << 62;

/// Scope key of "may create objects of `ty` in `org`".
#[inline]
pub(crate) fn create_key(org: OrgId, ty: TypeId) -> u64 {
    CREATE_TAG | (u64::from(org.as_u32()) << 32) | u64::from(ty.as_u32())
}

/// Scope key of one object.
#[inline]
pub(crate) fn object_key(object: ObjectId) -> u64 {
    u64::from(object.as_u32())
}

/// Key of the share of `root` to `grantee`.
#[inline]
pub(crate) fn share_key(root: ObjectId, grantee: Grantee) -> u64 {
    (u64::from(root.as_u32()) << 33) | grantee.code()
}

/// The grantees reaching `o` through accepted shares on it or an
/// ancestor, each with the highest level among their shares (empty for a
/// dead object).
fn reach_of(model: &Model, o: ObjectId) -> Reach {
    let Some(rec) = model.objects.get(o) else { return Reach::default() };
    let mut out: Vec<(Grantee, Level)> = Vec::new();
    for a in std::iter::once(o).chain(rec.ancestors.iter().copied()) {
        let Some(root) = model.objects.get(a) else { continue };
        for id in &root.links().shares {
            let Some(s) = model.shares.get(*id) else { continue };
            if s.status != ShareStatus::Accepted {
                continue;
            }
            let level = s.level_for(o, rec.ty);
            match out.iter_mut().find(|(g, _)| *g == s.grantee) {
                Some(slot) => slot.1 = slot.1.max(level),
                None => out.push((s.grantee, level)),
            }
        }
    }
    out.sort_unstable_by_key(|(g, _)| g.code());
    out.into_boxed_slice()
}

/// Decodes a scope key.
pub(crate) enum Scope {
    Type(OrgId, TypeId),
    Object(ObjectId),
}

pub(crate) fn decode(key: u64) -> Option<Scope> {
    if key & CREATE_TAG != 0 {
        None
    } else if key & TYPE_TAG != 0 {
        let org = OrgId::from_raw(((key >> 32) & 0x7fff_ffff) as u32)?;
        let ty = TypeId::from_raw((key & 0xffff_ffff) as u32)?;
        Some(Scope::Type(org, ty))
    } else {
        Some(Scope::Object(ObjectId::from_raw(key as u32)?))
    }
}

/// What `check` needs of an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ObjMeta {
    pub(crate) ty: TypeId,
    pub(crate) org: OrgId,
    /// Whether the object or one of its ancestors is the root of an
    /// accepted share (so the share path must be consulted).
    pub(crate) shared: bool,
}

/// One object's entry: type and owner (every bit set when the slot is
/// dead), and where its share reach is kept (`0` for none, else the
/// position in [`Index::reach_lists`] plus one). An object is `shared`
/// exactly when it has a reach entry: an accepted share is rooted at it
/// or at an ancestor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    ty: u32,
    org: u32,
    reach: u32,
}

const DEAD: Slot = Slot { ty: u32::MAX, org: u32::MAX, reach: 0 };

impl Slot {
    #[inline]
    fn unpack(self) -> Option<ObjMeta> {
        let ty = TypeId::from_raw(self.ty)?;
        let org = OrgId::from_raw(self.org)?;
        Some(ObjMeta { ty, org, shared: self.reach != 0 })
    }
}

/// What `check` needs of a user; `org` is `None` for a dead slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct UserIndex {
    pub(crate) org: Option<OrgId>,
    /// Union of the compiled maps of the user's unbound grants.
    pub(crate) unbound: ScopeMap,
    /// The user's bound grants.
    pub(crate) bound: Box<[(GrantId, RoleId)]>,
}

/// The whole index.
///
/// Per object it keeps one 12-byte [`Slot`]; share reach is kept only
/// for the objects shares reach, and active share roots in a hash map.
#[derive(Clone, Debug, Default)]
pub(crate) struct Index {
    pub(crate) objects: Vec<Slot>,
    pub(crate) users: Vec<UserIndex>,
    pub(crate) roles: Vec<ScopeMap>,
    /// Accepted shares by (root, grantee).
    pub(crate) shares: HashMap<u64, ShareId, KeyBuild>,
    /// The key each share is indexed under, if accepted.
    pub(crate) share_keys: Vec<Option<u64>>,
    /// The number of accepted shares rooted at an object, for the objects
    /// that root at least one.
    pub(crate) root_active: HashMap<ObjectId, u32, KeyBuild>,
    /// Share reach, for the objects whose slot points here: each grantee
    /// an accepted share on the object or an ancestor reaches it, with
    /// the highest level among those shares. The share path of `check`
    /// reads one entry instead of walking the ancestors and their shares.
    pub(crate) reach_lists: Vec<Reach>,
    /// Positions of `reach_lists` free for reuse.
    reach_free: Vec<u32>,
}

/// The grantees reaching one object through accepted shares, with their
/// highest level; sorted by grantee, usually empty.
pub(crate) type Reach = Box<[(Grantee, Level)]>;

impl Index {
    /// Builds the index of a whole model (used once, when loading).
    ///
    /// Fills each table in one pass over its arena; it must agree with
    /// [`Index::refresh`] applied to everything, which the engine's
    /// consistency check (run by the property tests after every
    /// operation) compares it with.
    pub(crate) fn build(model: &Model) -> Index {
        let mut index = Index {
            share_keys: vec![None; model.shares.len_slots()],
            ..Index::default()
        };
        for (id, s) in model.shares.iter::<ShareId>() {
            if s.status != ShareStatus::Accepted {
                continue;
            }
            let key = share_key(s.root, s.grantee);
            index.shares.insert(key, id);
            index.bump_root(s.root, true);
            if let Some(slot) = index.share_keys.get_mut(id.as_usize()) {
                *slot = Some(key);
            }
        }
        let objects = (0..model.objects.len_slots())
            .map(|i| {
                let Some(o) = ObjectId::new(i).ok() else { return DEAD };
                let Some(r) = model.objects.get(o) else { return DEAD };
                Slot { ty: r.ty.as_u32(), org: r.org.as_u32(), reach: 0 }
            })
            .collect();
        index.objects = objects;
        // Only objects at or under an active root can be reached.
        let mut reached: HashSet<ObjectId, KeyBuild> = HashSet::default();
        for root in index.root_active.keys() {
            reached.insert(*root);
            reached.extend(model.descendants(*root));
        }
        for o in reached {
            index.set_reach(o, reach_of(model, o));
        }
        index.roles = (0..model.roles.len_slots())
            .map(|i| match RoleId::new(i) {
                Ok(r) => compile_role(model, r),
                Err(_) => ScopeMap::default(),
            })
            .collect();
        let users = (0..model.users.len_slots())
            .map(|i| match UserId::new(i) {
                Ok(u) => index.compile_user(model, u),
                Err(_) => UserIndex::default(),
            })
            .collect();
        index.users = users;
        index
    }

    /// Rebuilds the entries of everything marked dirty.
    pub(crate) fn refresh(&mut self, model: &Model, mut dirty: Dirty) {
        let mut toggled: Vec<ObjectId> = Vec::new();
        let mut reached: IndexSet<ObjectId> = IndexSet::new();
        for sh in &dirty.shares {
            let new_key = model
                .shares
                .get(*sh)
                .filter(|s| s.status == ShareStatus::Accepted)
                .map(|s| (share_key(s.root, s.grantee), s.root));
            let i = sh.as_usize();
            if self.share_keys.len() <= i {
                self.share_keys.resize(i + 1, None);
            }
            let old_key = self.share_keys.get(i).copied().flatten();
            // Levels may have changed even when the key did not: the
            // share's subtree is reached anew either way.
            let roots = old_key
                .and_then(|k| ObjectId::from_raw((k >> 33) as u32))
                .into_iter()
                .chain(new_key.map(|(_, r)| r));
            for root in roots {
                if reached.insert(root) {
                    reached.extend(model.descendants(root));
                }
            }
            if old_key == new_key.map(|(k, _)| k) {
                continue;
            }
            if let Some(k) = old_key {
                self.shares.remove(&k);
                let root = ObjectId::from_raw((k >> 33) as u32);
                if let Some(root) = root {
                    if self.bump_root(root, false) {
                        toggled.push(root);
                    }
                }
            }
            if let Some((k, root)) = new_key {
                self.shares.insert(k, *sh);
                if self.bump_root(root, true) {
                    toggled.push(root);
                }
            }
            if let Some(slot) = self.share_keys.get_mut(i) {
                *slot = new_key.map(|(k, _)| k);
            }
        }
        for root in toggled {
            dirty.objects.insert(root);
            dirty.objects.extend(model.descendants(root));
        }
        for o in &dirty.objects {
            // The reach pass below settles each dirty object's reach
            // (freeing a dead object's).
            let i = o.as_usize();
            if self.objects.len() <= i {
                self.objects.resize(i + 1, DEAD);
            }
            if let Some(slot) = self.objects.get_mut(i) {
                *slot = match model.objects.get(*o) {
                    Some(r) => Slot {
                        ty: r.ty.as_u32(),
                        org: r.org.as_u32(),
                        reach: slot.reach,
                    },
                    None => Slot { reach: slot.reach, ..DEAD },
                };
            }
        }
        reached.extend(dirty.objects.iter().copied());
        for o in reached {
            self.set_reach(o, reach_of(model, o));
        }
        for r in &dirty.roles {
            let map = compile_role(model, *r);
            let i = r.as_usize();
            if self.roles.len() <= i {
                self.roles.resize_with(i + 1, ScopeMap::default);
            }
            if let Some(slot) = self.roles.get_mut(i) {
                *slot = map;
            }
            if let Some(role) = model.roles.get(*r) {
                for g in &role.grants {
                    if let Some(grant) = model.grants.get(*g) {
                        dirty.users.insert(grant.user);
                    }
                }
            }
        }
        for u in &dirty.users {
            let entry = self.compile_user(model, *u);
            let i = u.as_usize();
            if self.users.len() <= i {
                self.users.resize_with(i + 1, UserIndex::default);
            }
            if let Some(slot) = self.users.get_mut(i) {
                *slot = entry;
            }
        }
    }

    fn compile_user(&self, model: &Model, u: UserId) -> UserIndex {
        let Some(user) = model.users.get(u) else {
            return UserIndex::default();
        };
        let mut unbound: Vec<(u64, u64)> = Vec::new();
        let mut bound = Vec::new();
        for (role, g) in &user.grants {
            let Some(grant) = model.grants.get(*g) else { continue };
            if !grant.bindings.is_empty() {
                bound.push((*g, *role));
                continue;
            }
            if let Some(map) = self.roles.get(role.as_usize()) {
                unbound.extend(map.iter());
            }
        }
        UserIndex {
            org: Some(user.org),
            unbound: ScopeMap::merged(unbound),
            bound: bound.into_boxed_slice(),
        }
    }

    /// Whether two indexes give the same answers for every handle
    /// (slots past the end of one vector count as dead or empty).
    pub(crate) fn same_as(&self, other: &Index) -> bool {
        fn same<T: PartialEq>(a: &[T], b: &[T], empty: &T) -> bool {
            let n = a.len().max(b.len());
            (0..n).all(|i| {
                a.get(i).unwrap_or(empty) == b.get(i).unwrap_or(empty)
            })
        }
        // Reach positions depend on the order of changes; compare what
        // they point at.
        let n = self.objects.len().max(other.objects.len());
        let objects = (0..n).all(|i| {
            let a = self.objects.get(i).copied().unwrap_or(DEAD);
            let b = other.objects.get(i).copied().unwrap_or(DEAD);
            (a.ty, a.org) == (b.ty, b.org)
                && self.reach_list(a) == other.reach_list(b)
        });
        let live = |x: &Index| x.reach_lists.len() - x.reach_free.len();
        objects
            && live(self) == live(other)
            && same(&self.users, &other.users, &UserIndex::default())
            && same(&self.roles, &other.roles, &ScopeMap::default())
            && same(&self.share_keys, &other.share_keys, &None)
            && self.root_active == other.root_active
            && self.shares == other.shares
    }

    /// The reach entry a slot points at (empty for none).
    fn reach_list(&self, slot: Slot) -> &[(Grantee, Level)] {
        let at = (slot.reach as usize).checked_sub(1);
        at.and_then(|i| self.reach_lists.get(i)).map_or(&[], |r| r)
    }

    /// Stores `o`'s reach, taking, reusing or freeing a position of
    /// `reach_lists`.
    fn set_reach(&mut self, o: ObjectId, entry: Reach) {
        let i = o.as_usize();
        if self.objects.len() <= i {
            self.objects.resize(i + 1, DEAD);
        }
        let Some(slot) = self.objects.get_mut(i) else { return };
        match (slot.reach.checked_sub(1), entry.is_empty()) {
            (None, true) => {}
            (Some(at), true) => {
                if let Some(old) = self.reach_lists.get_mut(at as usize) {
                    *old = Reach::default();
                }
                self.reach_free.push(at);
                slot.reach = 0;
            }
            (Some(at), false) => {
                if let Some(old) = self.reach_lists.get_mut(at as usize) {
                    *old = entry;
                }
            }
            (None, false) => {
                let at = match self.reach_free.pop() {
                    Some(at) => {
                        if let Some(old) =
                            self.reach_lists.get_mut(at as usize)
                        {
                            *old = entry;
                        }
                        at
                    }
                    None => {
                        let Ok(at) = u32::try_from(self.reach_lists.len())
                        else {
                            return;
                        };
                        self.reach_lists.push(entry);
                        at
                    }
                };
                slot.reach = at + 1;
            }
        }
    }

    /// Counts an accepted share in or out of `root`; true when the root
    /// became active or inactive.
    fn bump_root(&mut self, root: ObjectId, up: bool) -> bool {
        let before = self.root_active.get(&root).copied().unwrap_or(0);
        let after = if up {
            before.saturating_add(1)
        } else {
            before.saturating_sub(1)
        };
        if after == 0 {
            self.root_active.remove(&root);
        } else {
            self.root_active.insert(root, after);
        }
        (before == 0) != (after == 0)
    }

    /// The highest level any of `grantees` holds on `o` through accepted
    /// shares, or `None` if no accepted share of theirs covers it.
    #[inline]
    pub(crate) fn reach_level(
        &self,
        o: ObjectId,
        grantees: &[Grantee],
    ) -> Option<Level> {
        let mut best = None;
        let slot = self.objects.get(o.as_usize())?;
        for (g, l) in self.reach_list(*slot) {
            if grantees.contains(g) {
                best = best.max(Some(*l));
            }
        }
        best
    }

    #[inline]
    pub(crate) fn is_root(&self, o: ObjectId) -> bool {
        self.root_active.contains_key(&o)
    }

    #[inline]
    pub(crate) fn share(
        &self,
        root: ObjectId,
        grantee: Grantee,
    ) -> Option<ShareId> {
        self.shares.get(&share_key(root, grantee)).copied()
    }

    #[inline]
    pub(crate) fn object(&self, o: ObjectId) -> Option<ObjMeta> {
        self.objects.get(o.as_usize())?.unpack()
    }

    #[inline]
    pub(crate) fn user(&self, u: UserId) -> Option<&UserIndex> {
        self.users.get(u.as_usize()).filter(|x| x.org.is_some())
    }

    #[inline]
    pub(crate) fn role(&self, r: RoleId) -> Option<&ScopeMap> {
        self.roles.get(r.as_usize())
    }
}

/// Looks up the actions a scope map allows on an object.
#[inline]
pub(crate) fn mask_on(map: &ScopeMap, object: ObjectId, meta: ObjMeta) -> u64 {
    map.get(type_key(meta.org, meta.ty)) | map.get(object_key(object))
}

fn compile_role(model: &Model, r: RoleId) -> ScopeMap {
    let mut entries: Vec<(u64, u64)> = Vec::new();
    let Some(role) = model.roles.get(r) else { return ScopeMap::default() };
    for p in &role.permissions {
        let Some(perm) = model.permissions.get(*p) else { continue };
        let bit = 1u64 << (perm.action.as_u32() & 63);
        if perm.action == CREATE {
            // Any `create` permission lets its holder create objects of its
            // type in the permission's organization; an applies-to-all one
            // covers no existing object.
            entries.push((create_key(perm.org, perm.ty), bit));
            if perm.applies_to_all {
                continue;
            }
        }
        if perm.applies_to_all {
            entries.push((type_key(perm.org, perm.ty), bit));
        } else {
            entries.extend(perm.objects.iter().map(|o| (object_key(*o), bit)));
        }
    }
    ScopeMap::merged(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let org = OrgId::new(123_456).unwrap();
        let ty = TypeId::new(7).unwrap();
        match decode(type_key(org, ty)) {
            Some(Scope::Type(o, t)) => assert_eq!((o, t), (org, ty)),
            _ => panic!("expected a type key"),
        }
        let obj = ObjectId::new(2_000_000_000).unwrap();
        match decode(object_key(obj)) {
            Some(Scope::Object(o)) => assert_eq!(o, obj),
            _ => panic!("expected an object key"),
        }
        assert_ne!(type_key(org, ty), object_key(obj));
    }
}
