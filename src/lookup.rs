//! Lookup tables that hold only handles.
//!
//! Each table finds a record by a key the record itself carries (a data
//! object's type and key, a user's e-mail, a role's organization and
//! name): the table stores the handle and reads the key back from the
//! record to compare, so no key is stored twice. An entry is four bytes,
//! where a map from an owned key would also hold a copy of the key and its
//! allocation. Keys come from applications, so they are hashed with the
//! standard library's keyed SipHash, which resists collision flooding.

use std::hash::{BuildHasher, Hash, Hasher, RandomState};

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use crate::id::{Arena, Idx, ObjectId, OrgId, RoleId, TypeId, UserId};
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

/// A record found by a name it carries within a scope: a data object by
/// its key within its type, a role by its name within its organization.
pub(crate) trait Keyed {
    /// The handle of such a record.
    type Id: Idx + Copy + Eq;
    /// What the name is unique within.
    type Scope: Copy + Eq + Hash;
    /// Calls `f` with the record's scope and name (a role's name may be
    /// stored compactly; it is written out in place, not allocated).
    fn with_scoped_name<T>(&self, f: impl FnOnce(Self::Scope, &str) -> T)
        -> T;
    /// Whether the record's scope and name are `scope` and `name`.
    fn is_named(&self, scope: Self::Scope, name: &str) -> bool {
        self.with_scoped_name(|s, n| s == scope && n == name)
    }
}

impl Keyed for Object {
    type Id = ObjectId;
    type Scope = TypeId;
    fn with_scoped_name<T>(&self, f: impl FnOnce(TypeId, &str) -> T) -> T {
        f(self.ty, self.data_key())
    }
}

impl Keyed for Role {
    type Id = RoleId;
    type Scope = OrgId;
    fn with_scoped_name<T>(&self, f: impl FnOnce(OrgId, &str) -> T) -> T {
        self.name.with_str(|name| f(self.org, name))
    }
}

/// Records of one kind by scope and name.
#[derive(Clone, Debug)]
pub(crate) struct ByName<R: Keyed> {
    table: HashTable<R::Id>,
    hasher: RandomState,
}

impl<R: Keyed> Default for ByName<R> {
    fn default() -> Self {
        ByName::with_capacity(0)
    }
}

/// Data objects by (type, key). Users, roles and permissions are found
/// by their handles instead.
pub(crate) type KeyTable = ByName<Object>;

/// Roles by organization and name.
pub(crate) type RoleNames = ByName<Role>;

impl<R: Keyed> ByName<R> {
    fn hash(hasher: &RandomState, scope: R::Scope, name: &str) -> u64 {
        hasher.hash_one((scope, name))
    }

    /// An empty table with room for `n` records.
    pub(crate) fn with_capacity(n: usize) -> Self {
        ByName {
            table: HashTable::with_capacity(n),
            hasher: RandomState::new(),
        }
    }

    /// The record named `name` in `scope`.
    pub(crate) fn get(
        &self,
        records: &Arena<R>,
        scope: R::Scope,
        name: &str,
    ) -> Option<R::Id> {
        let h = Self::hash(&self.hasher, scope, name);
        let is = |id: &R::Id| {
            records.get(*id).is_some_and(|r| r.is_named(scope, name))
        };
        self.table.find(h, is).copied()
    }

    /// Indexes `id`, which must be in `records` (as must every record
    /// already indexed), unless another record has its scope and name;
    /// returns whether it was added.
    pub(crate) fn insert_new(
        &mut self,
        records: &Arena<R>,
        id: R::Id,
    ) -> bool {
        let Some(r) = records.get(id) else { return false };
        let hasher = &self.hasher;
        let table = &mut self.table;
        r.with_scoped_name(|scope, name| {
            let same = |x: R::Id| {
                records.get(x).is_some_and(|r| r.is_named(scope, name))
            };
            let rehash = |x: R::Id| {
                records.get(x).map_or(0, |r| {
                    r.with_scoped_name(|scope, name| {
                        Self::hash(hasher, scope, name)
                    })
                })
            };
            let h = Self::hash(hasher, scope, name);
            insert_new(table, h, id, same, rehash)
        })
    }

    /// Forgets `id`, indexed under `scope` and `name`.
    pub(crate) fn remove(&mut self, scope: R::Scope, name: &str, id: R::Id) {
        let h = Self::hash(&self.hasher, scope, name);
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
