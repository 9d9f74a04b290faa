//! Reading collections from untrusted input without reserving what the
//! input claims.
//!
//! A binary format such as bincode writes a sequence's or a map's length
//! before its elements and hands it to the collection being read as the
//! `size_hint`. The length comes from the input: a collection that
//! reserves it up front lets a few edited bytes request terabytes before
//! the first element is read (and abort the process where a failed
//! reservation is not an error). serde's own `Vec`, `Box<[T]>` and map
//! impls reserve at most 1 MiB ahead, whatever the hint ([`cautious`] is
//! the same rule); the collections of a snapshot that serde does not
//! provide are read through the helpers here, which do the same:
//!
//! * [`small_vec`], for every `SmallVec` field (`#[serde(with = ...)]`);
//! * [`index_map`], for every `IndexMap` field (`deserialize_with`), so
//!   the bound does not depend on the `indexmap` version.
//!
//! Every other collection a snapshot holds is one of serde's, or is read
//! through one (a `Set` through a `Vec`, the schema's pairs through a
//! `Vec`). A new collection type in a snapshot needs a helper here.
//! Strings are the format's to allocate: bincode reading from a stream
//! needs its byte limit (see the crate docs, Serialization).

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;

use indexmap::IndexMap;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// The most a collection reserves ahead of its elements, in bytes.
const MAX_PREALLOC_BYTES: usize = 1 << 20;

/// How many elements of type `T` to reserve for a collection whose
/// input claims `hint` of them: the claim, up to [`MAX_PREALLOC_BYTES`].
/// Beyond it, the collection grows as elements actually arrive.
pub(crate) fn cautious<T>(hint: Option<usize>) -> usize {
    capped(hint, std::mem::size_of::<T>())
}

/// `hint`, up to as many items of `size` bytes as [`MAX_PREALLOC_BYTES`]
/// holds.
fn capped(hint: Option<usize>, size: usize) -> usize {
    hint.unwrap_or(0).min(MAX_PREALLOC_BYTES / size.max(1))
}

/// A `SmallVec` as a sequence, written as the `smallvec` crate writes it
/// and read with a bounded reservation:
/// `#[serde(with = "crate::serde_util::small_vec")]`.
pub(crate) mod small_vec {
    use super::{
        cautious, fmt, Deserialize, Deserializer, PhantomData, SeqAccess,
        Visitor,
    };
    use serde::{Serialize, Serializer};
    use smallvec::{Array, SmallVec};

    pub(crate) fn serialize<A, S>(
        v: &SmallVec<A>,
        s: S,
    ) -> Result<S::Ok, S::Error>
    where
        A: Array,
        A::Item: Serialize,
        S: Serializer,
    {
        s.collect_seq(v.iter())
    }

    pub(crate) fn deserialize<'de, A, D>(d: D) -> Result<SmallVec<A>, D::Error>
    where
        A: Array,
        A::Item: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        struct Visit<A>(PhantomData<A>);
        impl<'de, A> Visitor<'de> for Visit<A>
        where
            A: Array,
            A::Item: Deserialize<'de>,
        {
            type Value = SmallVec<A>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<S: SeqAccess<'de>>(
                self,
                mut seq: S,
            ) -> Result<SmallVec<A>, S::Error> {
                let mut v = SmallVec::with_capacity(cautious::<A::Item>(
                    seq.size_hint(),
                ));
                while let Some(x) = seq.next_element()? {
                    v.push(x);
                }
                Ok(v)
            }
        }
        d.deserialize_seq(Visit(PhantomData))
    }
}

/// An `IndexMap` read as `indexmap` reads it (a map; a repeated key keeps
/// its first position and its last value), with a bounded reservation:
/// `#[serde(deserialize_with = "crate::serde_util::index_map")]`.
pub(crate) fn index_map<'de, K, V, S, D>(
    d: D,
) -> Result<IndexMap<K, V, S>, D::Error>
where
    K: Deserialize<'de> + Eq + Hash,
    V: Deserialize<'de>,
    S: BuildHasher + Default,
    D: Deserializer<'de>,
{
    struct Visit<K, V, S>(PhantomData<(K, V, S)>);
    impl<'de, K, V, S> Visitor<'de> for Visit<K, V, S>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        S: BuildHasher + Default,
    {
        type Value = IndexMap<K, V, S>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<M: MapAccess<'de>>(
            self,
            mut map: M,
        ) -> Result<IndexMap<K, V, S>, M::Error> {
            // An entry keeps its hash beside the pair, and the table
            // of positions up to two `usize` slots per entry (a power
            // of two, at most 7/8 full).
            let entry = std::mem::size_of::<(K, V)>()
                + 3 * std::mem::size_of::<usize>();
            let mut out = IndexMap::with_capacity_and_hasher(
                capped(map.size_hint(), entry),
                S::default(),
            );
            while let Some((k, v)) = map.next_entry()? {
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Visit(PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_are_capped_at_a_mebibyte() {
        assert_eq!(cautious::<u32>(None), 0);
        assert_eq!(cautious::<u32>(Some(7)), 7);
        assert_eq!(cautious::<u32>(Some(usize::MAX)), 1 << 18);
        assert_eq!(cautious::<[u8; 3 << 20]>(Some(5)), 0);
    }
}
