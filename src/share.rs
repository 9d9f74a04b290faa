//! Shares: a root object and its subtree made available to a user, an
//! organization or the public, at a level per object type and per object,
//! possibly with the right to share forward.

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::id::{ObjectId, OrgId, TypeId, UserId};
use crate::schema::Level;

/// Who receives a share.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
pub enum Grantee {
    /// One user.
    User(UserId),
    /// Every member of an organization.
    Org(OrgId),
    /// Anyone, signed in or not.
    Public,
}

impl Grantee {
    /// Packs the grantee into 33 bits for index keys.
    pub(crate) fn code(self) -> u64 {
        match self {
            Grantee::User(u) => u64::from(u.as_u32()),
            Grantee::Org(o) => (1 << 31) | u64::from(o.as_u32()),
            Grantee::Public => 1 << 32,
        }
    }
}

/// The kind of a share. It sets default levels and decides what its
/// holder may edit (see [`Mutator::share`](crate::Mutator::share)).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
pub enum ShareKind {
    /// `Read` on every type, never share-forward; edits nothing.
    ReadOnly,
    /// `Full` on every type, always share-forward; edits every share but
    /// the owner's (including upstream ones).
    Full,
    /// Chosen per type (default `Read`) and per object; edits only shares
    /// its holder granted.
    Custom,
    /// Chosen per type and per object (default `None`), for exchanging data
    /// with an organization; edits only shares its holder granted.
    ExchangeData,
}

impl ShareKind {
    /// The level of a type the share does not mention.
    #[must_use]
    pub fn default_level(self) -> Level {
        match self {
            ShareKind::ReadOnly | ShareKind::Custom => Level::Read,
            ShareKind::Full => Level::Full,
            ShareKind::ExchangeData => Level::None,
        }
    }
}

/// Whether the grantee has accepted the share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ShareStatus {
    /// Awaiting the grantee's acceptance; confers nothing.
    Pending,
    /// In force.
    Accepted,
}

/// Who granted a share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Grantor {
    /// The organization owning the root (or the trusted system): never
    /// capped.
    Owner,
    /// A user holding share-forward, capped by their own levels.
    User(UserId),
}

/// What to share: kind, levels per type and per object, share-forward.
///
/// # Example
///
/// ```
/// use accord::{Level, ShareKind, ShareSpec};
///
/// let spec = ShareSpec::custom()
///     .level("meter", Level::Full)
///     .share_forward(true);
/// assert_eq!(spec.kind(), ShareKind::Custom);
/// let ro = ShareSpec::read_only();
/// assert!(!ro.has_share_forward());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareSpec {
    pub(crate) kind: ShareKind,
    pub(crate) levels: Vec<(String, Level)>,
    pub(crate) overrides: Vec<(ObjectId, Level)>,
    pub(crate) share_forward: bool,
}

impl ShareSpec {
    /// Read Only: `Read` on everything, no share-forward.
    #[must_use]
    pub fn read_only() -> ShareSpec {
        ShareSpec::of(ShareKind::ReadOnly, false)
    }
    /// Full Access: `Full` on everything, with share-forward.
    #[must_use]
    pub fn full() -> ShareSpec {
        ShareSpec::of(ShareKind::Full, true)
    }
    /// Custom Access: `Read` on every type unless set, no share-forward
    /// unless set.
    #[must_use]
    pub fn custom() -> ShareSpec {
        ShareSpec::of(ShareKind::Custom, false)
    }
    /// Exchange Data: `None` on every type unless set, no share-forward
    /// unless set.
    #[must_use]
    pub fn exchange_data() -> ShareSpec {
        ShareSpec::of(ShareKind::ExchangeData, false)
    }

    fn of(kind: ShareKind, share_forward: bool) -> ShareSpec {
        ShareSpec {
            kind,
            levels: Vec::new(),
            overrides: Vec::new(),
            share_forward,
        }
    }

    /// Sets the level of every object of type `object_type` (Custom and
    /// Exchange Data only).
    #[must_use]
    pub fn level(mut self, object_type: &str, level: Level) -> ShareSpec {
        self.levels.push((object_type.to_owned(), level));
        self
    }

    /// Sets the level of one object, overriding its type's level (Custom
    /// and Exchange Data only).
    #[must_use]
    pub fn object_level(mut self, object: ObjectId, level: Level) -> Self {
        self.overrides.push((object, level));
        self
    }

    /// Grants share-forward, or not (Custom and Exchange Data only).
    #[must_use]
    pub fn share_forward(mut self, yes: bool) -> ShareSpec {
        self.share_forward = yes;
        self
    }

    /// The kind.
    #[must_use]
    pub fn kind(&self) -> ShareKind {
        self.kind
    }

    /// Whether share-forward is granted.
    #[must_use]
    pub fn has_share_forward(&self) -> bool {
        self.share_forward
    }
}

/// A share in force or pending.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Share {
    pub(crate) root: ObjectId,
    pub(crate) grantee: Grantee,
    pub(crate) kind: ShareKind,
    #[serde(with = "crate::serde_util::small_vec")]
    pub(crate) levels: SmallVec<[(TypeId, Level); 4]>,
    /// Sorted by object.
    #[serde(with = "crate::serde_util::small_vec")]
    pub(crate) overrides: SmallVec<[(ObjectId, Level); 4]>,
    pub(crate) share_forward: bool,
    pub(crate) grantor: Grantor,
    pub(crate) status: ShareStatus,
}

impl Share {
    /// The root object; the share covers it and everything under it.
    #[must_use]
    pub fn root(&self) -> ObjectId {
        self.root
    }
    /// Who receives it.
    #[must_use]
    pub fn grantee(&self) -> Grantee {
        self.grantee
    }
    /// Its kind.
    #[must_use]
    pub fn kind(&self) -> ShareKind {
        self.kind
    }
    /// Who granted (or last set) it.
    #[must_use]
    pub fn grantor(&self) -> Grantor {
        self.grantor
    }
    /// Whether it carries share-forward.
    #[must_use]
    pub fn share_forward(&self) -> bool {
        self.share_forward
    }
    /// Pending or accepted.
    #[must_use]
    pub fn status(&self) -> ShareStatus {
        self.status
    }
    /// The explicit per-type levels.
    #[must_use]
    pub fn type_levels(&self) -> &[(TypeId, Level)] {
        &self.levels
    }
    /// The per-object overrides, sorted by object.
    #[must_use]
    pub fn object_levels(&self) -> &[(ObjectId, Level)] {
        &self.overrides
    }

    /// The level this share gives on `object` of type `ty` (assumed to lie
    /// at or under the root): the object's override, else its type's
    /// level, else the kind's default.
    #[must_use]
    #[inline]
    pub fn level_for(&self, object: ObjectId, ty: TypeId) -> Level {
        if !self.overrides.is_empty() {
            if let Ok(i) =
                self.overrides.binary_search_by_key(&object, |(o, _)| *o)
            {
                if let Some((_, l)) = self.overrides.get(i) {
                    return *l;
                }
            }
        }
        self.type_level(ty)
    }

    /// Whether `object` has a level of its own in this share.
    pub(crate) fn has_override(&self, object: ObjectId) -> bool {
        self.overrides.binary_search_by_key(&object, |(o, _)| *o).is_ok()
    }

    /// The level on objects of type `ty` without a per-object level,
    /// including those not yet created: the per-type level, else the
    /// kind's default.
    #[must_use]
    #[inline]
    pub fn type_level(&self, ty: TypeId) -> Level {
        for (t, l) in &self.levels {
            if *t == ty {
                return *l;
            }
        }
        self.kind.default_level()
    }

    /// Sets the per-type level of `ty`.
    pub(crate) fn set_type_level(&mut self, ty: TypeId, level: Level) {
        match self.levels.iter_mut().find(|(t, _)| *t == ty) {
            Some(slot) => slot.1 = level,
            None => self.levels.push((ty, level)),
        }
    }

    /// Turns a `ReadOnly` or `Full` share into the `Custom` share with the
    /// same levels on every type of `types`, so that levels can be lowered
    /// one by one.
    pub(crate) fn make_custom(&mut self, types: &[TypeId]) {
        if self.kind == ShareKind::ReadOnly || self.kind == ShareKind::Full {
            for t in types {
                let l = self.type_level(*t);
                self.set_type_level(*t, l);
            }
            self.kind = ShareKind::Custom;
        }
    }
}
