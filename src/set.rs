//! A compact insertion-ordered set of handles for the policy records.
//!
//! Most back-reference sets of a record (an object's children, the lists
//! that name it, the shares rooted at it; a role's grants) hold nothing or
//! a handful of handles, while a few (an organization's objects, a widely
//! granted role's grants) grow large. An `IndexSet` costs 72 bytes and a
//! hash table even when small; this set stores up to [`SMALL`] handles in
//! a plain vector (24 bytes, no allocation while empty) and beyond that
//! adds a hash table of positions into the vector (4 bytes a slot, with a
//! fast integer hasher), so membership stays O(1) on large sets.

use std::hash::{BuildHasher, BuildHasherDefault, Hash};

use hashbrown::HashTable;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::index::KeyHasher;

/// Handles kept in a plain vector before switching to a hash set.
const SMALL: usize = 16;

/// A large set: the elements in order, and a table of their positions.
#[derive(Clone, Debug)]
pub(crate) struct Large<T> {
    items: Vec<T>,
    positions: HashTable<u32>,
}

fn hash_of<T: Hash>(v: &T) -> u64 {
    BuildHasherDefault::<KeyHasher>::default().hash_one(v)
}

impl<T: Copy + Eq + Hash> Large<T> {
    fn position(&self, v: &T) -> Option<usize> {
        let items = &self.items;
        let eq = |i: &u32| items.get(*i as usize) == Some(v);
        self.positions.find(hash_of(v), eq).map(|i| *i as usize)
    }

    fn insert(&mut self, v: T) -> bool {
        if self.position(&v).is_some() {
            return false;
        }
        let Ok(at) = u32::try_from(self.items.len()) else { return false };
        let items = &self.items;
        let rehash = |i: &u32| items.get(*i as usize).map_or(0, hash_of);
        self.positions.insert_unique(hash_of(&v), at, rehash);
        self.items.push(v);
        true
    }

    /// Takes `v`'s position out of the table.
    fn take(&mut self, v: &T) -> Option<usize> {
        let items = &self.items;
        let eq = |i: &u32| items.get(*i as usize) == Some(v);
        let entry = self.positions.find_entry(hash_of(v), eq).ok()?;
        let (at, _) = entry.remove();
        Some(at as usize)
    }

    fn shift_remove(&mut self, v: &T) -> bool {
        let Some(at) = self.take(v) else { return false };
        self.items.remove(at);
        for i in &mut self.positions {
            if *i as usize > at {
                *i -= 1;
            }
        }
        true
    }

    fn swap_remove(&mut self, v: &T) -> bool {
        let Some(at) = self.take(v) else { return false };
        let last = self.items.len() - 1;
        if at != last {
            if let Some(moved) = self.items.get(last).copied() {
                let eq = |i: &u32| *i as usize == last;
                if let Some(i) = self.positions.find_mut(hash_of(&moved), eq) {
                    *i = at as u32;
                }
            }
        }
        self.items.swap_remove(at);
        true
    }
}

impl<T: Copy + Eq + Hash> FromIterator<T> for Large<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut large =
            Large { items: Vec::new(), positions: HashTable::new() };
        for v in iter {
            large.insert(v);
        }
        large
    }
}

/// An insertion-ordered set of small `Copy` handles; see the module docs.
#[derive(Clone, Debug)]
pub(crate) enum Set<T> {
    /// Up to [`SMALL`] elements, scanned linearly.
    Small(Vec<T>),
    /// More, hashed. Never shrinks back.
    Large(Box<Large<T>>),
}

impl<T> Default for Set<T> {
    fn default() -> Self {
        Set::Small(Vec::new())
    }
}

impl<T: Copy + Eq + Hash> Set<T> {
    /// An empty set; does not allocate.
    pub(crate) fn new() -> Self {
        Set::default()
    }

    /// Adds `v`; returns whether it was absent.
    pub(crate) fn insert(&mut self, v: T) -> bool {
        match self {
            Set::Small(items) => {
                if items.contains(&v) {
                    return false;
                }
                if items.len() < SMALL {
                    items.push(v);
                    return true;
                }
                let mut large: Large<T> = items.iter().copied().collect();
                large.insert(v);
                *self = Set::Large(Box::new(large));
                true
            }
            Set::Large(set) => set.insert(v),
        }
    }

    /// Whether `v` is in the set.
    pub(crate) fn contains(&self, v: &T) -> bool {
        match self {
            Set::Small(items) => items.contains(v),
            Set::Large(set) => set.position(v).is_some(),
        }
    }

    /// Removes `v`, keeping the order of the others; returns whether it
    /// was present.
    pub(crate) fn shift_remove(&mut self, v: &T) -> bool {
        match self {
            Set::Small(items) => match items.iter().position(|x| x == v) {
                Some(i) => {
                    items.remove(i);
                    true
                }
                None => false,
            },
            Set::Large(set) => set.shift_remove(v),
        }
    }

    /// Removes `v`, moving the last element into its place (O(1) on a
    /// large set); returns whether it was present.
    pub(crate) fn swap_remove(&mut self, v: &T) -> bool {
        match self {
            Set::Small(items) => match items.iter().position(|x| x == v) {
                Some(i) => {
                    items.swap_remove(i);
                    true
                }
                None => false,
            },
            Set::Large(set) => set.swap_remove(v),
        }
    }

    /// Removes every element.
    pub(crate) fn clear(&mut self) {
        *self = Set::default();
    }

    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        match self {
            Set::Small(items) => items.len(),
            Set::Large(set) => set.items.len(),
        }
    }

    /// Whether the set is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements in insertion order.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, T> {
        match self {
            Set::Small(items) => items.iter(),
            Set::Large(set) => set.items.iter(),
        }
    }
}

impl<'a, T: Copy + Eq + Hash> IntoIterator for &'a Set<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: Copy + Eq + Hash> IntoIterator for Set<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        match self {
            Set::Small(items) => items.into_iter(),
            Set::Large(set) => set.items.into_iter(),
        }
    }
}

impl<T: Copy + Eq + Hash> Extend<T> for Set<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for v in iter {
            self.insert(v);
        }
    }
}

impl<T: Copy + Eq + Hash> FromIterator<T> for Set<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut set = Set::new();
        set.extend(iter);
        set
    }
}

impl<T: Serialize + Copy + Eq + Hash> Serialize for Set<T> {
    /// A sequence, as an `IndexSet` is written.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de, T: Deserialize<'de> + Copy + Eq + Hash> Deserialize<'de> for Set<T> {
    /// A sequence; repeated elements collapse, as in an `IndexSet`.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<T>::deserialize(d)?;
        Ok(items.into_iter().collect())
    }
}

/// A small insertion-ordered map kept as a vector of pairs: a user's
/// grants, one per role (a handful per user; their number is bounded by
/// `Limits::max_grants_per_user`).
#[derive(Clone, Debug)]
pub(crate) struct PairMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for PairMap<K, V> {
    fn default() -> Self {
        PairMap(Vec::new())
    }
}

impl<K: Copy + Eq, V: Copy> PairMap<K, V> {
    /// The value of `k`.
    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        self.0.iter().find(|(x, _)| x == k).map(|(_, v)| v)
    }

    /// Whether `k` has a value.
    pub(crate) fn contains_key(&self, k: &K) -> bool {
        self.get(k).is_some()
    }

    /// Sets the value of `k`, returning the previous one.
    pub(crate) fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self.0.iter_mut().find(|(x, _)| *x == k) {
            Some((_, old)) => Some(std::mem::replace(old, v)),
            None => {
                self.0.push((k, v));
                None
            }
        }
    }

    /// Removes `k`, keeping the order of the others.
    pub(crate) fn shift_remove(&mut self, k: &K) -> Option<V> {
        let i = self.0.iter().position(|(x, _)| x == k)?;
        Some(self.0.remove(i).1)
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The values in insertion order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }
}

impl<'a, K: Copy + Eq, V: Copy> IntoIterator for &'a PairMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (K, V)>,
        fn(&'a (K, V)) -> (&'a K, &'a V),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_an_ordered_set_across_the_switch() {
        let mut s: Set<u32> = Set::new();
        assert!(s.is_empty());
        for i in 0..40 {
            assert!(s.insert(i));
            assert!(!s.insert(i));
            assert_eq!(s.len(), i as usize + 1);
        }
        assert!(matches!(s, Set::Large(_)));
        assert!(s.shift_remove(&3));
        assert!(!s.shift_remove(&3));
        assert!(!s.contains(&3));
        let order: Vec<u32> = s.iter().copied().collect();
        let expected: Vec<u32> = (0..40).filter(|&i| i != 3).collect();
        assert_eq!(order, expected);
        s.clear();
        assert!(matches!(&s, Set::Small(v) if v.is_empty()));
    }

    #[test]
    fn matches_a_plain_vector_under_random_operations() {
        // A deterministic mix of inserts, both removals and lookups over
        // values 0..64, compared step by step with a naive vector.
        let mut s: Set<u32> = Set::new();
        let mut model: Vec<u32> = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = (x % 64) as u32;
            match (x >> 8) % 4 {
                0 | 1 => {
                    let fresh = !model.contains(&v);
                    if fresh {
                        model.push(v);
                    }
                    assert_eq!(s.insert(v), fresh);
                }
                2 => {
                    let at = model.iter().position(|y| *y == v);
                    if let Some(i) = at {
                        model.remove(i);
                    }
                    assert_eq!(s.shift_remove(&v), at.is_some());
                }
                _ => {
                    let at = model.iter().position(|y| *y == v);
                    if let Some(i) = at {
                        model.swap_remove(i);
                    }
                    assert_eq!(s.swap_remove(&v), at.is_some());
                }
            }
            assert_eq!(s.len(), model.len());
            assert!(s.iter().eq(model.iter()));
            for probe in [v, v ^ 1, 63 - v] {
                assert_eq!(s.contains(&probe), model.contains(&probe));
            }
        }
        assert!(matches!(s, Set::Large(_)), "the run crossed the threshold");
    }

    #[test]
    fn small_removal_keeps_order() {
        let mut s: Set<u32> = [5, 1, 9, 2].into_iter().collect();
        assert!(s.shift_remove(&1));
        assert_eq!(s.iter().copied().collect::<Vec<_>>(), vec![5, 9, 2]);
        assert_eq!(s.iter().rev().copied().collect::<Vec<_>>(), vec![2, 9, 5]);
    }

    #[test]
    fn pair_map_behaves_as_an_ordered_map() {
        let mut m: PairMap<u32, u32> = PairMap::default();
        assert_eq!(m.insert(3, 30), None);
        assert_eq!(m.insert(1, 10), None);
        assert_eq!(m.insert(3, 31), Some(30));
        assert_eq!(m.len(), 2);
        assert_eq!(m.get(&3), Some(&31));
        assert!(m.contains_key(&1) && !m.contains_key(&2));
        let keys: Vec<u32> = (&m).into_iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, vec![3, 1]);
        assert_eq!(m.values().copied().collect::<Vec<_>>(), vec![31, 10]);
        assert_eq!(m.shift_remove(&3), Some(31));
        assert_eq!(m.shift_remove(&3), None);
        assert_eq!((&m).into_iter().count(), 1);
    }

    #[test]
    fn serde_is_a_sequence_and_collapses_repeats() {
        let s: Set<u32> = serde_json::from_str("[3,1,3,2]").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "[3,1,2]");
    }
}
