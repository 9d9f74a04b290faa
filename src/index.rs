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
use std::sync::Arc;

use hashbrown::HashTable;
use smallvec::SmallVec;

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

/// An insertion-ordered set of handles hashed with [`KeyHasher`]: the
/// working sets of mutations and queries (handles are dense integers the
/// engine assigns, so keyed SipHash buys nothing there).
pub(crate) type HandleSet<T> = indexmap::IndexSet<T, KeyBuild>;

/// Scope keys and their action masks: an open-addressed table with
/// linear probing, in one shared allocation.
///
/// A lookup hashes the key once and usually reads one slot; the key and
/// its mask sit side by side, so a probe touches one cache line (a
/// `HashMap` reads its control bytes, then the bucket). At most half of
/// the slots are used, so every probe sequence reaches a vacant slot and
/// a missing key (the common case: most keys of a query are not in the
/// map) ends after 2.5 probes on average (linear probing at load 1/2). The table is built once from sorted, distinct entries and
/// never changes (a change builds a new one), which lets users with the
/// same grants share it (see [`Interner`]).
///
/// A sorted boxed slice would save the spare slots, but measured slower
/// for `check` at every size, even with a branch-free scan of small maps
/// (see `BENCHMARKS.md`).
#[derive(Clone, Debug, Default)]
pub(crate) struct ScopeMap(Option<Arc<[(u64, u64)]>>);

/// The key of a vacant slot. No scope key has both of the tag bits, so
/// none is `u64::MAX`.
const VACANT: u64 = u64::MAX;

/// Where the probe for `key` starts in a table of `len` slots (a power
/// of two).
#[inline]
fn home(key: u64, len: usize) -> usize {
    let mut x = key;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x as usize) & (len - 1)
}

impl ScopeMap {
    /// Merges `entries`, OR-ing the masks of repeated keys.
    fn merged(entries: Vec<(u64, u64)>) -> ScopeMap {
        ScopeMap::of_distinct(&merge(entries))
    }

    /// The map of `entries`, which hold distinct keys, none `VACANT`.
    fn of_distinct(entries: &[(u64, u64)]) -> ScopeMap {
        if entries.is_empty() {
            return ScopeMap(None);
        }
        let len = (entries.len() * 2).next_power_of_two();
        let mut table = vec![(VACANT, 0); len];
        for &(k, m) in entries {
            let mut i = home(k, len);
            while let Some(slot) = table.get_mut(i) {
                if slot.0 == VACANT {
                    *slot = (k, m);
                    break;
                }
                i = (i + 1) & (len - 1);
            }
        }
        ScopeMap(Some(table.into()))
    }

    /// The mask stored under `key` (0 when absent).
    #[inline]
    pub(crate) fn get(&self, key: u64) -> u64 {
        let Some(table) = &self.0 else { return 0 };
        let len = table.len();
        let mut i = home(key, len);
        // A vacant slot ends every probe; the bound only makes that
        // visible to the reader.
        for _ in 0..len {
            let Some(&(k, m)) = table.get(i) else { return 0 };
            if k == key {
                return m;
            }
            if k == VACANT {
                return 0;
            }
            i = (i + 1) & (len - 1);
        }
        0
    }

    /// Every `(key, mask)` entry, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let table = self.0.as_deref().unwrap_or(&[]);
        table.iter().copied().filter(|(k, _)| *k != VACANT)
    }

    /// The number of entries.
    fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether `self` holds exactly the sorted, distinct `entries`.
    fn holds(&self, entries: &[(u64, u64)]) -> bool {
        self.len() == entries.len()
            && entries.iter().all(|(k, m)| self.get(*k) == *m)
    }
}

impl PartialEq for ScopeMap {
    fn eq(&self, other: &ScopeMap) -> bool {
        self.len() == other.len()
            && self.iter().all(|(k, m)| other.get(k) == m)
    }
}

impl Eq for ScopeMap {}

/// `entries` sorted by key, with the masks of repeated keys OR-ed.
fn merge(mut entries: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    entries.sort_unstable_by_key(|(k, _)| *k);
    entries.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 |= later.1;
        }
        same
    });
    entries
}

/// A hash of sorted, distinct entries.
fn content_hash(entries: &[(u64, u64)]) -> u64 {
    let mut h = KeyHasher::default();
    for (k, m) in entries {
        h.write_u64(*k);
        h.0 = h.finish();
        h.write_u64(*m);
        h.0 = h.finish();
    }
    h.finish() ^ entries.len() as u64
}

/// One shared map and the number of users holding it.
#[derive(Clone, Debug)]
struct Interned {
    hash: u64,
    map: ScopeMap,
    users: u32,
}

/// The users' merged maps, one copy per distinct content.
///
/// Users with the same unbound grants (every "Read all" holder of an
/// organization) get the same map; a map is dropped from here when its
/// last user lets go of it. Counting users, rather than reading the
/// `Arc`'s count, keeps this exact when the engine is cloned.
#[derive(Clone, Debug, Default)]
pub(crate) struct Interner {
    maps: HashTable<Interned>,
}

impl Interner {
    /// The shared map of `entries`, counting one more user of it.
    fn acquire(&mut self, entries: Vec<(u64, u64)>) -> ScopeMap {
        let entries = merge(entries);
        if entries.is_empty() {
            return ScopeMap(None);
        }
        let hash = content_hash(&entries);
        let found = self
            .maps
            .find_mut(hash, |x| x.hash == hash && x.map.holds(&entries));
        if let Some(x) = found {
            x.users = x.users.saturating_add(1);
            return x.map.clone();
        }
        let map = ScopeMap::of_distinct(&entries);
        let entry = Interned { hash, map: map.clone(), users: 1 };
        self.maps.insert_unique(hash, entry, |x| x.hash);
        map
    }

    /// Counts one user less of `map`, dropping it with its last user.
    fn release(&mut self, map: &ScopeMap) {
        let Some(table) = &map.0 else { return };
        let same = |x: &Interned| {
            x.map.0.as_ref().is_some_and(|t| Arc::ptr_eq(t, table))
        };
        let hash = map.content_hash();
        if let Ok(mut entry) = self.maps.find_entry(hash, same) {
            let x = entry.get_mut();
            if x.users <= 1 {
                entry.remove();
            } else {
                x.users -= 1;
            }
        }
    }

    /// The number of distinct maps held, and of users holding them.
    pub(crate) fn census(&self) -> (usize, u64) {
        let users = self.maps.iter().map(|x| u64::from(x.users)).sum();
        (self.maps.len(), users)
    }
}

impl ScopeMap {
    /// The [`content_hash`] of the map's entries.
    fn content_hash(&self) -> u64 {
        let mut entries: Vec<(u64, u64)> = self.iter().collect();
        entries.sort_unstable_by_key(|(k, _)| *k);
        content_hash(&entries)
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
    let mut out: Vec<u64> = Vec::new();
    for a in std::iter::once(o).chain(rec.ancestors().iter().copied()) {
        let Some(root) = model.objects.get(a) else { continue };
        for id in root.links().shares() {
            let Some(s) = model.shares.get(*id) else { continue };
            if s.status != ShareStatus::Accepted {
                continue;
            }
            let (code, rank) =
                (s.grantee.code(), rank(s.level_for(o, rec.ty)));
            match out.iter_mut().find(|e| **e >> 2 == code) {
                Some(e) => *e = (code << 2) | rank.max(*e & 3),
                None => out.push((code << 2) | rank),
            }
        }
    }
    out.sort_unstable();
    out.into_boxed_slice()
}

/// A level's rank in a reach entry: 1, 2, 3 for `None`, `Read`, `Full`
/// (0 is "no share").
fn rank(level: Level) -> u64 {
    match level {
        Level::None => 1,
        Level::Read => 2,
        Level::Full => 3,
    }
}

/// The level of a rank, `None` for 0 (no share).
fn unrank(rank: u64) -> Option<Level> {
    match rank {
        1 => Some(Level::None),
        2 => Some(Level::Read),
        3 => Some(Level::Full),
        _ => None,
    }
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

/// What few users have: bound grants, or grants of roles of another
/// organization than theirs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rare {
    /// The user's bound grants, with their roles.
    bound: Box<[(GrantId, RoleId)]>,
    /// Whether some grant of the user (bound or not) is of a role of
    /// another organization.
    external: bool,
}

/// Entries of a user's personal role kept in the user's own entry.
const OWN: usize = 2;

/// What `check` needs of a user; `org` is `None` for a dead slot.
///
/// One cache line: the merged map of the user's unbound grants is shared
/// with every user who has the same one, so the entries that make it
/// unique to the user (those of the user's personal role, when there are
/// at most [`OWN`]) are kept here instead.
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(align(64))]
pub(crate) struct UserIndex {
    pub(crate) org: Option<OrgId>,
    /// Union of the compiled maps of the user's unbound grants, but for
    /// the entries in `own`; shared through [`Index::maps`].
    pub(crate) unbound: ScopeMap,
    /// The user's personal-role entries (`VACANT` keys when unused).
    own: [(u64, u64); OWN],
    /// The user's bound grants and whether any grant is external (rare:
    /// one pointer when there are none).
    rare: Option<Box<Rare>>,
}

impl Default for UserIndex {
    fn default() -> UserIndex {
        UserIndex {
            org: None,
            unbound: ScopeMap::default(),
            own: [(VACANT, 0); OWN],
            rare: None,
        }
    }
}

impl UserIndex {
    /// The actions the user's unbound grants allow under `key`.
    #[inline]
    pub(crate) fn mask(&self, key: u64) -> u64 {
        let own = self.own.iter().filter(|(k, _)| *k == key);
        own.fold(self.unbound.get(key), |acc, (_, m)| acc | m)
    }

    /// The actions the user's unbound grants allow on an object.
    #[inline]
    pub(crate) fn mask_on(&self, object: ObjectId, meta: ObjMeta) -> u64 {
        let (t, o) = (type_key(meta.org, meta.ty), object_key(object));
        let own = self.own.iter().filter(|(k, _)| *k == t || *k == o);
        own.fold(self.unbound.get(t) | self.unbound.get(o), |acc, (_, m)| {
            acc | m
        })
    }

    /// Every `(key, mask)` entry of the user's unbound grants (a key may
    /// repeat; masks are to be OR-ed).
    pub(crate) fn entries(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let own = self.own.iter().copied().filter(|(k, _)| *k != VACANT);
        self.unbound.iter().chain(own)
    }

    /// The user's bound grants, with their roles.
    pub(crate) fn bound(&self) -> &[(GrantId, RoleId)] {
        self.rare.as_deref().map_or(&[], |r| &r.bound)
    }

    /// Whether the user's grants may cover an object of `org`. A role's
    /// permissions cover only objects of the role's organization (an
    /// explicit list names only its own objects, and loses them when they
    /// are transferred; applies-to-all covers its own organization's), so
    /// a user whose roles are all of their own organization reaches no
    /// other organization's object by a role: `check` then skips the
    /// scope table, and the cache miss reading it.
    #[inline]
    pub(crate) fn may_cover(&self, org: OrgId) -> bool {
        self.org == Some(org)
            || self.rare.as_deref().is_some_and(|r| r.external)
    }
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
    /// The users' shared maps.
    pub(crate) maps: Interner,
}

/// The grantees reaching one object through accepted shares, with their
/// highest level, each packed in one word (the grantee's code shifted by
/// two, then the level's rank) so that a lookup compares integers; sorted,
/// usually empty.
pub(crate) type Reach = Box<[u64]>;

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
                Ok(r) => kept_map(model, r),
                Err(_) => ScopeMap::default(),
            })
            .collect();
        let mut users = Vec::with_capacity(model.users.len_slots());
        for i in 0..model.users.len_slots() {
            users.push(match UserId::new(i) {
                Ok(u) => index.compile_user(model, u),
                Err(_) => UserIndex::default(),
            });
        }
        index.users = users;
        index
    }

    /// Rebuilds the entries of everything marked dirty.
    pub(crate) fn refresh(&mut self, model: &Model, mut dirty: Dirty) {
        let mut toggled: Vec<ObjectId> = Vec::new();
        let mut reached: HandleSet<ObjectId> = HandleSet::default();
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
            let map = kept_map(model, *r);
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
                let old = std::mem::replace(slot, entry);
                self.maps.release(&old.unbound);
            }
        }
    }

    /// The entry of user `u`, taking its share of the interned maps.
    fn compile_user(&mut self, model: &Model, u: UserId) -> UserIndex {
        let Some(user) = model.users.get(u) else {
            return UserIndex::default();
        };
        let mut unbound: Vec<(u64, u64)> = Vec::new();
        let mut own: SmallVec<[(u64, u64); OWN]> = SmallVec::new();
        let mut bound = Vec::new();
        let mut external = false;
        for (role, g) in &user.grants {
            let Some(grant) = model.grants.get(*g) else { continue };
            let Some(r) = model.roles.get(*role) else { continue };
            external |= r.org != user.org;
            if !grant.bindings.is_empty() {
                bound.push((*g, *role));
                continue;
            }
            if r.personal.is_some() {
                // Not kept in `roles` (see `kept_map`): compiled here.
                let entries = merge(role_entries(model, *role));
                if r.personal == Some(u)
                    && own.is_empty()
                    && entries.len() <= OWN
                {
                    own.extend(entries);
                } else {
                    unbound.extend(entries);
                }
            } else if let Some(map) = self.roles.get(role.as_usize()) {
                unbound.extend(map.iter());
            }
        }
        own.sort_unstable_by_key(|(k, _)| *k);
        let mut slots = [(VACANT, 0); OWN];
        for (slot, entry) in slots.iter_mut().zip(own) {
            *slot = entry;
        }
        UserIndex {
            org: Some(user.org),
            unbound: self.maps.acquire(unbound),
            own: slots,
            rare: (external || !bound.is_empty()).then(|| {
                Box::new(Rare { bound: bound.into_boxed_slice(), external })
            }),
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
            && self.maps.census() == other.maps.census()
            && same(&self.users, &other.users, &UserIndex::default())
            && same(&self.roles, &other.roles, &ScopeMap::default())
            && same(&self.share_keys, &other.share_keys, &None)
            && self.root_active == other.root_active
            && self.shares == other.shares
    }

    /// The reach entry a slot points at (empty for none).
    fn reach_list(&self, slot: Slot) -> &[u64] {
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
        let slot = self.objects.get(o.as_usize())?;
        let list = self.reach_list(*slot);
        let mut best = 0;
        if let [a, b, c] = grantees {
            // `check`'s case: the user, their organization, the public.
            let (a, b, c) = (a.code(), b.code(), c.code());
            for e in list {
                let g = e >> 2;
                if g == a || g == b || g == c {
                    best = best.max(e & 3);
                }
            }
        } else {
            for e in list {
                if grantees.iter().any(|g| g.code() == e >> 2) {
                    best = best.max(e & 3);
                }
            }
        }
        unrank(best)
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
    ScopeMap::merged(role_entries(model, r))
}

/// The map kept for role `r`: its compiled map, except for a personal
/// role that no bound grant names. Such a role's entries live in its
/// holder's own entry (see [`UserIndex`]), so a map per user (a table of
/// at least four slots each) is not kept; [`Index::compile_user`]
/// compiles the entries when it needs them.
fn kept_map(model: &Model, r: RoleId) -> ScopeMap {
    let Some(role) = model.roles.get(r) else { return ScopeMap::default() };
    let bound = || {
        role.grants.iter().any(|g| {
            model.grants.get(*g).is_some_and(|g| !g.bindings.is_empty())
        })
    };
    if role.personal.is_some() && !bound() {
        return ScopeMap::default();
    }
    compile_role(model, r)
}

/// The entries of role `r`'s map, keys possibly repeated.
fn role_entries(model: &Model, r: RoleId) -> Vec<(u64, u64)> {
    let mut entries: Vec<(u64, u64)> = Vec::new();
    let Some(role) = model.roles.get(r) else { return entries };
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
    entries
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

    /// A scope map answers as a plain map of its merged entries, at every
    /// size (collisions included: object keys are dense integers).
    #[test]
    fn scope_map_matches_a_plain_map() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for n in [0, 1, 2, 3, 5, 12, 13, 40, 300] {
            let mut entries = Vec::new();
            let mut model = std::collections::BTreeMap::new();
            for _ in 0..n {
                let key = match next() % 3 {
                    0 => next() % 64,
                    1 => type_key(
                        OrgId::new((next() % 9) as usize).unwrap(),
                        TypeId::new((next() % 5) as usize).unwrap(),
                    ),
                    _ => create_key(
                        OrgId::new((next() % 9) as usize).unwrap(),
                        TypeId::new((next() % 5) as usize).unwrap(),
                    ),
                };
                let mask = 1u64 << (next() % 64);
                entries.push((key, mask));
                *model.entry(key).or_insert(0) |= mask;
            }
            let map = ScopeMap::merged(entries);
            assert_eq!(map.len(), model.len());
            for (k, m) in &model {
                assert_eq!(map.get(*k), *m);
            }
            for probe in 0..128 {
                let want = model.get(&probe).copied().unwrap_or(0);
                assert_eq!(map.get(probe), want, "key {probe} of {n}");
            }
            let mut listed: Vec<(u64, u64)> = map.iter().collect();
            listed.sort_unstable();
            assert!(listed.iter().copied().eq(model.into_iter()));
        }
    }

    /// Equal contents share one table; the interner forgets a map with
    /// its last user.
    #[test]
    fn interner_shares_and_counts() {
        let mut maps = Interner::default();
        let a = maps.acquire(vec![(7, 1), (3, 2), (7, 4)]);
        let b = maps.acquire(vec![(3, 2), (7, 5)]);
        let c = maps.acquire(vec![(3, 2)]);
        let empty = maps.acquire(Vec::new());
        assert!(Arc::ptr_eq(a.0.as_ref().unwrap(), b.0.as_ref().unwrap()));
        assert_eq!((a.get(7), a.get(3), a.get(9)), (5, 2, 0));
        assert_ne!(a, c);
        assert!(empty.0.is_none());
        assert_eq!(maps.census(), (2, 3));
        maps.release(&a);
        maps.release(&empty);
        assert_eq!(maps.census(), (2, 2));
        maps.release(&b);
        assert_eq!(maps.census(), (1, 1));
        // A map the interner does not hold is ignored.
        maps.release(&ScopeMap::merged(vec![(3, 2)]));
        assert_eq!(maps.census(), (1, 1));
        maps.release(&c);
        assert_eq!(maps.census(), (0, 0));
    }

    #[test]
    fn reach_entries_pack_grantee_and_level() {
        let big = UserId::new(UserId::MAX.as_usize()).unwrap();
        let grantees = [
            Grantee::User(UserId::new(0).unwrap()),
            Grantee::User(big),
            Grantee::Org(OrgId::new(7).unwrap()),
            Grantee::Public,
        ];
        for g in grantees {
            for l in [Level::None, Level::Read, Level::Full] {
                let e = (g.code() << 2) | rank(l);
                assert_eq!(e >> 2, g.code(), "{g:?}");
                assert_eq!(unrank(e & 3), Some(l));
            }
        }
        assert_eq!(unrank(0), None);
        // Ranks order as levels do, so the highest rank is the highest
        // level.
        assert!(rank(Level::None) < rank(Level::Read));
        assert!(rank(Level::Read) < rank(Level::Full));
    }

    /// A user's entry fills one cache line.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn user_entry_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<UserIndex>(), 64);
    }
}
