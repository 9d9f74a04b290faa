//! Lookup tables that hold only handles.
//!
//! Each table finds a record by a key the record itself carries (a data
//! object's type and key, a user's e-mail, a role's organization and
//! name): the table stores the handle and reads the key back from the
//! record to compare, so no key is stored twice. An entry is four bytes,
//! where a map from an owned key would also hold a copy of the key and its
//! allocation. Keys come from applications, so they are hashed with the
//! standard library's keyed SipHash, which resists collision flooding.

use std::hash::{BuildHasher, Hasher, RandomState};

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use crate::id::{Arena, ObjectId, OrgId, RoleId, TypeId, UserId};
use crate::model::{email_key, Object, Role, User};

/// Adds `id` under `hash` unless a handle `same` accepts is there; returns
/// whether it was added. `rehash` gives a stored handle's hash.
fn insert_new<I: Copy>(
    table: &mut HashTable<I>,
    hash: u64,
    id: I,
    same: impl Fn(I) -> bool,
    rehash: impl Fn(I) -> u64,
) -> bool {
    match table.entry(hash, |x| same(*x), |x| rehash(*x)) {
        Entry::Occupied(_) => false,
        Entry::Vacant(slot) => {
            slot.insert(id);
            true
        }
    }
}

/// Forgets `id`, stored under `hash`.
fn remove<I: Copy + Eq>(table: &mut HashTable<I>, hash: u64, id: I) {
    if let Ok(entry) = table.find_entry(hash, |x| *x == id) {
        entry.remove();
    }
}

/// Data objects by (type, key). Users, roles and permissions are found
/// by their handles instead.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyTable {
    table: HashTable<ObjectId>,
    hasher: RandomState,
}

impl KeyTable {
    fn hash(hasher: &RandomState, ty: TypeId, key: &str) -> u64 {
        hasher.hash_one((ty.as_u32(), key))
    }

    /// An empty table with room for `n` objects.
    pub(crate) fn with_capacity(n: usize) -> KeyTable {
        KeyTable {
            table: HashTable::with_capacity(n),
            hasher: RandomState::new(),
        }
    }

    /// The data object of type `ty` with key `key`.
    pub(crate) fn get(
        &self,
        objects: &Arena<Object>,
        ty: TypeId,
        key: &str,
    ) -> Option<ObjectId> {
        let h = Self::hash(&self.hasher, ty, key);
        let is = |id: &ObjectId| {
            objects.get(*id).is_some_and(|o| o.ty == ty && o.key() == key)
        };
        self.table.find(h, is).copied()
    }

    /// Indexes `id`, which must be in `objects` (as must every object
    /// already indexed), unless another object of its type with its key is
    /// indexed already; returns whether it was added.
    pub(crate) fn insert_new(
        &mut self,
        objects: &Arena<Object>,
        id: ObjectId,
    ) -> bool {
        let Some(o) = objects.get(id) else { return false };
        let hasher = &self.hasher;
        let (ty, key) = (o.ty, o.key());
        let same = |x: ObjectId| {
            objects.get(x).is_some_and(|o| o.ty == ty && o.key() == key)
        };
        let rehash = |x: ObjectId| {
            objects.get(x).map_or(0, |o| Self::hash(hasher, o.ty, o.key()))
        };
        let h = Self::hash(hasher, ty, key);
        insert_new(&mut self.table, h, id, same, rehash)
    }

    /// Forgets `id`, indexed under `ty` and `key`.
    pub(crate) fn remove(&mut self, ty: TypeId, key: &str, id: ObjectId) {
        let h = Self::hash(&self.hasher, ty, key);
        remove(&mut self.table, h, id);
    }
}

/// Users by e-mail, case-insensitively (two e-mails are the same when
/// their lowercase forms are).
#[derive(Clone, Debug, Default)]
pub(crate) struct EmailTable {
    table: HashTable<UserId>,
    hasher: RandomState,
}

impl EmailTable {
    /// Hashes the lowercase form of `email`, without building it for an
    /// ASCII address.
    fn hash(hasher: &RandomState, email: &str) -> u64 {
        let mut h = hasher.build_hasher();
        if email.is_ascii() {
            // The hasher streams: chunk boundaries do not change the hash.
            let mut buf = [0u8; 32];
            for chunk in email.as_bytes().chunks(buf.len()) {
                let part = buf.get_mut(..chunk.len()).unwrap_or(&mut []);
                for (to, from) in part.iter_mut().zip(chunk) {
                    *to = from.to_ascii_lowercase();
                }
                h.write(part);
            }
        } else {
            h.write(email_key(email).as_bytes());
        }
        h.finish()
    }

    /// Whether `a` and `b` have the same lowercase form.
    fn same(a: &str, b: &str) -> bool {
        if a.is_ascii() && b.is_ascii() {
            a.eq_ignore_ascii_case(b)
        } else {
            email_key(a) == email_key(b)
        }
    }

    /// An empty table with room for `n` users.
    pub(crate) fn with_capacity(n: usize) -> EmailTable {
        EmailTable {
            table: HashTable::with_capacity(n),
            hasher: RandomState::new(),
        }
    }

    /// The user with `email`, in any case.
    pub(crate) fn get(
        &self,
        users: &Arena<User>,
        email: &str,
    ) -> Option<UserId> {
        let h = Self::hash(&self.hasher, email);
        let is = |id: &UserId| {
            users.get(*id).is_some_and(|u| Self::same(u.email(), email))
        };
        self.table.find(h, is).copied()
    }

    /// Indexes `id` under its e-mail, which must be in `users` (as must
    /// every user already indexed), unless another user has that e-mail;
    /// returns whether it was added.
    pub(crate) fn insert_new(
        &mut self,
        users: &Arena<User>,
        id: UserId,
    ) -> bool {
        let Some(u) = users.get(id) else { return false };
        let hasher = &self.hasher;
        let email = u.email();
        let same = |x: UserId| {
            users.get(x).is_some_and(|u| Self::same(u.email(), email))
        };
        let rehash = |x: UserId| {
            users.get(x).map_or(0, |u| Self::hash(hasher, u.email()))
        };
        let h = Self::hash(hasher, email);
        insert_new(&mut self.table, h, id, same, rehash)
    }

    /// Forgets `id`, indexed under `email`.
    pub(crate) fn remove(&mut self, email: &str, id: UserId) {
        let h = Self::hash(&self.hasher, email);
        remove(&mut self.table, h, id);
    }
}

/// Roles by organization and name.
#[derive(Clone, Debug, Default)]
pub(crate) struct RoleNames {
    table: HashTable<RoleId>,
    hasher: RandomState,
}

impl RoleNames {
    fn hash(hasher: &RandomState, org: OrgId, name: &str) -> u64 {
        hasher.hash_one((org.as_u32(), name))
    }

    /// An empty table with room for `n` roles.
    pub(crate) fn with_capacity(n: usize) -> RoleNames {
        RoleNames {
            table: HashTable::with_capacity(n),
            hasher: RandomState::new(),
        }
    }

    /// The role of `org` named `name`.
    pub(crate) fn get(
        &self,
        roles: &Arena<Role>,
        org: OrgId,
        name: &str,
    ) -> Option<RoleId> {
        let h = Self::hash(&self.hasher, org, name);
        let is = |id: &RoleId| {
            roles.get(*id).is_some_and(|r| r.org == org && r.name() == name)
        };
        self.table.find(h, is).copied()
    }

    /// Indexes `id` under its organization and name, which must be in
    /// `roles` (as must every role already indexed), unless its
    /// organization has another role of that name; returns whether it was
    /// added.
    pub(crate) fn insert_new(
        &mut self,
        roles: &Arena<Role>,
        id: RoleId,
    ) -> bool {
        let Some(r) = roles.get(id) else { return false };
        let hasher = &self.hasher;
        let (org, name) = (r.org, r.name());
        let same = |x: RoleId| {
            roles.get(x).is_some_and(|r| r.org == org && r.name() == name)
        };
        let rehash = |x: RoleId| {
            roles.get(x).map_or(0, |r| Self::hash(hasher, r.org, r.name()))
        };
        let h = Self::hash(hasher, org, name);
        insert_new(&mut self.table, h, id, same, rehash)
    }

    /// Forgets `id`, indexed under `org` and `name`.
    pub(crate) fn remove(&mut self, org: OrgId, name: &str, id: RoleId) {
        let h = Self::hash(&self.hasher, org, name);
        remove(&mut self.table, h, id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_hash_and_compare_by_their_lowercase_form() {
        let h = RandomState::new();
        let pairs = [
            ("Ann@Example.org", "ann@example.org", true),
            ("ann@example.org", "anne@example.org", false),
            // The Kelvin sign lowercases to an ASCII `k`.
            ("\u{212A}im@x.io", "kim@x.io", true),
            ("ÅSA@x.io", "åsa@x.io", true),
            ("åsa@x.io", "asa@x.io", false),
            // Longer than one hashing chunk, one of them not ASCII.
            (
                "Very.Long.Local.Part.Of.An.Address@\u{212A}.example.org",
                "very.long.local.part.of.an.address@k.example.org",
                true,
            ),
        ];
        for (a, b, same) in pairs {
            assert_eq!(EmailTable::same(a, b), same, "{a} {b}");
            assert_eq!(email_key(a) == email_key(b), same, "{a} {b}");
            if same {
                let (x, y) =
                    (EmailTable::hash(&h, a), EmailTable::hash(&h, b));
                assert_eq!(x, y, "{a} {b}");
            }
        }
    }
}
