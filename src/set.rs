//! A compact insertion-ordered set of handles for the policy records.
//!
//! Most back-reference sets of a record (an object's children, the lists
//! that name it, the shares rooted at it; a role's grants) hold nothing or
//! a handful of handles, while a few (an organization's objects, a widely
//! granted role's grants) grow large. An `IndexSet` costs 72 bytes and a
//! hash table even when small; this set takes 24 bytes, keeps up to
//! [`INLINE`] handles in place with no allocation, up to [`SMALL`] in an
//! exact-size slice, and beyond that a vector plus a hash table of
//! positions into it (4 bytes a slot, with a fast integer hasher), so
//! membership stays O(1) on large sets.

use std::hash::{BuildHasher, BuildHasherDefault, Hash};

use hashbrown::HashTable;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

use crate::index::KeyHasher;

/// Handles kept in place, with no allocation.
const INLINE: usize = 4;

/// Handles kept in a plain slice before switching to a hash set.
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
#[derive(Clone, Debug, Default)]
pub(crate) enum Set<T> {
    /// No element; does not allocate.
    #[default]
    Empty,
    /// Up to [`INLINE`] elements stored in place: the count, then the
    /// elements (slots past the count repeat the first element).
    Inline(u8, [T; INLINE]),
    /// Up to [`SMALL`] elements in an exact-size heap slice, scanned
    /// linearly.
    Small(Box<[T]>),
    /// More, hashed. Never shrinks back.
    Large(Box<Large<T>>),
}

impl<T: Copy + Eq + Hash> Set<T> {
    /// An empty set; does not allocate.
    pub(crate) fn new() -> Self {
        Set::default()
    }

    /// A set of the distinct `items`, at most [`SMALL`] of them.
    fn of_few(items: &[T]) -> Self {
        match items {
            [] => Set::Empty,
            [first, ..] if items.len() <= INLINE => {
                let mut slots = [*first; INLINE];
                for (slot, v) in slots.iter_mut().zip(items) {
                    *slot = *v;
                }
                Set::Inline(items.len() as u8, slots)
            }
            _ => Set::Small(items.into()),
        }
    }

    /// The elements in insertion order, as a slice.
    fn as_slice(&self) -> &[T] {
        match self {
            Set::Empty => &[],
            Set::Inline(n, slots) => slots.get(..*n as usize).unwrap_or(&[]),
            Set::Small(items) => items,
            Set::Large(set) => &set.items,
        }
    }

    /// Adds `v`; returns whether it was absent.
    pub(crate) fn insert(&mut self, v: T) -> bool {
        if let Set::Large(set) = self {
            return set.insert(v);
        }
        let items = self.as_slice();
        if items.contains(&v) {
            return false;
        }
        if let Set::Inline(n, slots) = self {
            if let Some(slot) = slots.get_mut(*n as usize) {
                *slot = v;
                *n += 1;
                return true;
            }
        }
        let items = self.as_slice();
        *self = if items.len() < SMALL {
            let mut grown = Vec::with_capacity(items.len() + 1);
            grown.extend_from_slice(items);
            grown.push(v);
            Set::of_few(&grown)
        } else {
            let mut large: Large<T> = items.iter().copied().collect();
            large.insert(v);
            Set::Large(Box::new(large))
        };
        true
    }

    /// Adds `v` where it belongs in a set kept in ascending order (one
    /// whose every insertion goes through here); returns whether it was
    /// absent. Appending is the common case and costs what
    /// [`Set::insert`] does; an insertion in the middle rebuilds the set.
    pub(crate) fn insert_in_order(&mut self, v: T) -> bool
    where
        T: Ord,
    {
        let items = self.as_slice();
        let at = items.partition_point(|x| *x < v);
        if at == items.len() {
            return self.insert(v);
        }
        if items.get(at) == Some(&v) {
            return false;
        }
        let mut grown = Vec::with_capacity(items.len() + 1);
        grown.extend_from_slice(items);
        grown.insert(at, v);
        *self = if grown.len() <= SMALL {
            Set::of_few(&grown)
        } else {
            Set::Large(Box::new(grown.into_iter().collect()))
        };
        true
    }

    /// Whether `v` is in the set.
    pub(crate) fn contains(&self, v: &T) -> bool {
        match self {
            Set::Large(set) => set.position(v).is_some(),
            _ => self.as_slice().contains(v),
        }
    }

    /// Removes `v`, keeping the order of the others; returns whether it
    /// was present.
    pub(crate) fn shift_remove(&mut self, v: &T) -> bool {
        match self {
            Set::Large(set) => set.shift_remove(v),
            _ => self.remove_few(v, Vec::remove),
        }
    }

    /// Removes `v`, moving the last element into its place (O(1) on a
    /// large set); returns whether it was present.
    pub(crate) fn swap_remove(&mut self, v: &T) -> bool {
        match self {
            Set::Large(set) => set.swap_remove(v),
            _ => self.remove_few(v, Vec::swap_remove),
        }
    }

    /// Removes `v` from a set below the hashed form with `remove`, which
    /// takes out the element at a position.
    fn remove_few(
        &mut self,
        v: &T,
        remove: fn(&mut Vec<T>, usize) -> T,
    ) -> bool {
        let items = self.as_slice();
        let Some(i) = items.iter().position(|x| x == v) else { return false };
        let mut rest = items.to_vec();
        remove(&mut rest, i);
        *self = Set::of_few(&rest);
        true
    }

    /// Removes every element.
    pub(crate) fn clear(&mut self) {
        *self = Set::default();
    }

    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether the set is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements in insertion order.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, T> {
        self.as_slice().iter()
    }
}

impl<'a, T: Copy + Eq + Hash> IntoIterator for &'a Set<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A [`Set`] that most records leave empty, boxed: 8 bytes instead of 24
/// while empty (a user's API tokens).
#[derive(Clone, Debug)]
pub(crate) struct RareSet<T>(Option<Box<Set<T>>>);

impl<T> Default for RareSet<T> {
    fn default() -> Self {
        RareSet(None)
    }
}

impl<T: Copy + Eq + Hash> RareSet<T> {
    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        self.0.as_deref().map_or(0, Set::len)
    }

    /// The elements in insertion order.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.as_deref().map_or([].iter(), Set::iter)
    }

    /// Adds `v`; `false` if it was there.
    pub(crate) fn insert(&mut self, v: T) -> bool {
        self.0.get_or_insert_with(Box::default).insert(v)
    }

    /// Removes `v`, keeping the order of the others; `false` if it was
    /// not there. The box is freed with the last element.
    pub(crate) fn shift_remove(&mut self, v: &T) -> bool {
        let Some(set) = self.0.as_deref_mut() else { return false };
        let removed = set.shift_remove(v);
        if set.is_empty() {
            self.0 = None;
        }
        removed
    }
}

impl<'a, T: Copy + Eq + Hash> IntoIterator for &'a RareSet<T> {
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
            Set::Large(set) => set.items.into_iter(),
            Set::Small(items) => items.into_vec().into_iter(),
            _ => self.as_slice().to_vec().into_iter(),
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
///
/// Two pairs are kept in place (24 bytes, as a vector), so most users'
/// grants take no allocation.
#[derive(Clone, Debug)]
pub(crate) struct PairMap<K, V>(SmallVec<[(K, V); 2]>);

impl<K, V> Default for PairMap<K, V> {
    fn default() -> Self {
        PairMap(SmallVec::new())
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
        assert!(matches!(&s, Set::Empty));
    }

    #[test]
    fn matches_a_plain_vector_under_random_operations() {
        // A deterministic mix of inserts, both removals and lookups,
        // compared step by step with a naive vector: first over values
        // 0..6 (which stays below the hashed form, moving between the
        // others), then over 0..64.
        let mut s: Set<u32> = Set::new();
        let mut model: Vec<u32> = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut forms = [false; 4];
        for step in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = (x % if step < 2_000 { 6 } else { 64 }) as u32;
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
            let form = match &s {
                Set::Empty => 0,
                Set::Inline(..) => 1,
                Set::Small(_) => 2,
                Set::Large(_) => 3,
            };
            forms[form] = true;
            // Below the hashed form, the form follows the length.
            let expected = match model.len() {
                0 => 0,
                n if n <= INLINE => 1,
                _ => 2,
            };
            assert!(form == 3 || form == expected);
        }
        assert_eq!(forms, [true; 4], "the run visited every form");
        assert!(matches!(s, Set::Large(_)), "the run crossed the threshold");
    }

    #[test]
    fn ordered_insertion_keeps_ascending_order_across_the_switch() {
        let mut s: Set<u32> = Set::new();
        let mut model = std::collections::BTreeSet::new();
        // A fixed scramble of 0..64, with repeats and removals mixed in.
        for step in 0..200u32 {
            let v = step.wrapping_mul(37) % 64;
            if step % 7 == 6 {
                assert_eq!(s.shift_remove(&v), model.remove(&v));
            } else {
                assert_eq!(s.insert_in_order(v), model.insert(v));
            }
            assert!(s.iter().eq(model.iter()), "step {step}");
            assert_eq!(s.contains(&v), model.contains(&v));
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
    /// A rare set allocates with its first element and frees its box
    /// with its last; it keeps the order of a set.
    #[test]
    fn a_rare_set_boxes_only_while_it_has_elements() {
        let mut s: RareSet<u32> = RareSet::default();
        assert!(s.0.is_none() && s.len() == 0 && s.iter().next().is_none());
        assert!(!s.shift_remove(&1));
        assert!(s.insert(3) && s.insert(1) && s.insert(2) && !s.insert(1));
        assert!(s.0.is_some());
        assert!(s.shift_remove(&1) && !s.shift_remove(&1));
        assert_eq!((&s).into_iter().copied().collect::<Vec<_>>(), [3, 2]);
        assert_eq!(s.len(), 2);
        assert!(s.shift_remove(&3) && s.shift_remove(&2));
        assert!(s.0.is_none());
    }
}
