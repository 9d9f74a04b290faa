//! The policy store: organizations, users, objects, roles, permissions and
//! grants, with their back-references.
//!
//! Records are read through [`Engine`](crate::Engine) accessors
//! ([`Engine::user`](crate::Engine::user), [`Engine::role`](crate::Engine::role),
//! …). They change only through authorized mutations
//! ([`Engine::act`](crate::Engine::act)); the functions here are the
//! unchecked primitives those mutations use once every check has passed.

use std::borrow::Cow;
use std::collections::HashMap;

use indexmap::IndexMap;

use crate::index::{HandleSet, KeyBuild};
use crate::lookup::{EmailTable, KeyTable, RoleNames};
use crate::set::{PairMap, RareSet, Set};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::id::{
    ActionId, Arena, GrantId, Name, ObjectId, OrgId, PermissionId, RoleId,
    ShareId, TokenId, TypeId, UserId,
};
use crate::schema::{PERMISSIONS, ROLES, USERS};
use crate::share::{Grantee, Share};
use crate::stored_name::StoredName;
use crate::token::Token;

/// An organization: owns users, roles, permissions and objects.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Org {
    pub(crate) name: Name,
    pub(crate) accepted_terms: bool,
    #[serde(skip)]
    pub(crate) users: Set<UserId>,
    #[serde(skip)]
    pub(crate) roles: Set<RoleId>,
    #[serde(skip)]
    pub(crate) permissions: Set<PermissionId>,
    /// Those of its permissions that apply to every object of their type
    /// (the only ones a query by object must scan; listed ones are found
    /// from the object).
    #[serde(skip)]
    pub(crate) applying_to_all: Set<PermissionId>,
    /// Every data object the organization owns, grouped by type. The
    /// objects standing for its users, roles and permissions are reached
    /// from those (see [`Model::objects_of_type`]), not kept twice.
    #[serde(skip)]
    pub(crate) objects: IndexMap<TypeId, Set<ObjectId>>,
}

impl Org {
    /// The organization's unique name.
    #[must_use]
    pub fn name(&self) -> &str {
        self.name.as_str()
    }
    /// Whether the organization accepted the terms of use.
    #[must_use]
    pub fn accepted_terms(&self) -> bool {
        self.accepted_terms
    }
    /// Its users.
    pub fn users(&self) -> impl Iterator<Item = UserId> + '_ {
        self.users.iter().copied()
    }
    /// Its roles.
    pub fn roles(&self) -> impl Iterator<Item = RoleId> + '_ {
        self.roles.iter().copied()
    }
    /// Its permissions.
    pub fn permissions(&self) -> impl Iterator<Item = PermissionId> + '_ {
        self.permissions.iter().copied()
    }
}

/// A user: belongs to exactly one organization.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub(crate) org: OrgId,
    pub(crate) email: Name,
    pub(crate) platform_admin: bool,
    pub(crate) object: ObjectId,
    #[serde(skip)]
    pub(crate) grants: PairMap<RoleId, GrantId>,
    pub(crate) personal_role: Option<RoleId>,
    #[serde(skip)]
    pub(crate) tokens: RareSet<TokenId>,
    /// Always written (as `null` when absent): binary formats read fields
    /// by position. Snapshots that leave it out still load.
    #[serde(default)]
    pub(crate) profile: Option<Box<crate::accounts::Profile>>,
}

impl User {
    /// The user's organization.
    #[must_use]
    pub fn org(&self) -> OrgId {
        self.org
    }
    /// The user's e-mail (login), unique case-insensitively.
    #[must_use]
    pub fn email(&self) -> &str {
        self.email.as_str()
    }
    /// Whether the user is a platform administrator.
    #[must_use]
    pub fn is_platform_admin(&self) -> bool {
        self.platform_admin
    }
    /// The object (of type `users`) standing for this user.
    #[must_use]
    pub fn object(&self) -> ObjectId {
        self.object
    }
    /// The grants the user holds.
    pub fn grants(&self) -> impl Iterator<Item = GrantId> + '_ {
        self.grants.values().copied()
    }
    /// The account profile, for users created as accounts.
    #[must_use]
    pub fn profile(&self) -> Option<&crate::accounts::Profile> {
        self.profile.as_deref()
    }
    /// The user's API tokens.
    pub fn tokens(&self) -> impl Iterator<Item = TokenId> + '_ {
        self.tokens.iter().copied()
    }
    /// The user's personal default role, if the engine creates one.
    #[must_use]
    pub fn personal_role(&self) -> Option<RoleId> {
        self.personal_role
    }
}

/// What refers to an object, kept apart from [`Object`] because most
/// objects (users, roles, permissions, leaves of the hierarchy) have none:
/// an empty record costs one pointer. The references most objects never
/// have (bound grants, shares, tokens) sit one more pointer away, so the
/// common record (a parent's children, the lists naming a data object)
/// is 56 bytes instead of 120. An object standing for a user, role or
/// permission needs none for its first listing, kept in its lineage.
#[derive(Clone, Debug, Default)]
pub(crate) struct Links {
    /// The direct children.
    pub(crate) children: Set<ObjectId>,
    /// Explicit permission lists that name this object (but the first,
    /// for an object standing for a user, role or permission: see
    /// [`Object::listed_in`]).
    listed_in: Set<PermissionId>,
    /// The rarer references, allocated on first use.
    rare: Option<Box<RareLinks>>,
}

/// The references only some objects have.
#[derive(Clone, Debug, Default)]
pub(crate) struct RareLinks {
    /// Grants bound to this object.
    pub(crate) bound_by: Set<GrantId>,
    /// Shares rooted at this object.
    pub(crate) shares: Set<ShareId>,
    /// API tokens scoped to this object.
    pub(crate) tokens: Set<TokenId>,
}

static NO_LINKS: Links =
    Links { children: Set::Empty, listed_in: Set::Empty, rare: None };

static NO_RARE_LINKS: RareLinks =
    RareLinks { bound_by: Set::Empty, shares: Set::Empty, tokens: Set::Empty };

impl Links {
    fn rare(&self) -> &RareLinks {
        self.rare.as_deref().unwrap_or(&NO_RARE_LINKS)
    }
    /// The rarer references, allocated on first use.
    pub(crate) fn rare_mut(&mut self) -> &mut RareLinks {
        self.rare.get_or_insert_with(Box::default)
    }
    /// Grants bound to this object.
    pub(crate) fn bound_by(&self) -> &Set<GrantId> {
        &self.rare().bound_by
    }
    /// Shares rooted at this object.
    pub(crate) fn shares(&self) -> &Set<ShareId> {
        &self.rare().shares
    }
    /// API tokens scoped to this object.
    pub(crate) fn tokens(&self) -> &Set<TokenId> {
        &self.rare().tokens
    }
}

/// What an object stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectKind {
    /// Application data (a site, a meter, a project…).
    Data,
    /// A user.
    User(UserId),
    /// A role.
    Role(RoleId),
    /// A permission.
    Permission(PermissionId),
}

/// An object: typed, owned by one organization, with parents forming a DAG.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "ObjectRecord")]
pub struct Object {
    pub(crate) ty: TypeId,
    pub(crate) org: OrgId,
    /// The application's key; `None` for an object standing for a user,
    /// role or permission, whose key is its handle's name (derived, so
    /// not stored).
    key: Option<Name>,
    /// What the object stands for and, for a data object, its parents
    /// and ancestors.
    lineage: Lineage,
    /// Back-references, allocated only for the objects that have some.
    links: Option<Box<Links>>,
}

/// An object as written in a snapshot: the ancestors and back-references
/// are derived when loading.
#[derive(Deserialize)]
#[serde(rename = "Object", deny_unknown_fields)]
struct ObjectRecord {
    ty: TypeId,
    org: OrgId,
    key: Name,
    kind: ObjectKind,
    #[serde(deserialize_with = "crate::serde_util::small_vec::deserialize")]
    parents: SmallVec<[ObjectId; 2]>,
}

impl TryFrom<ObjectRecord> for Object {
    type Error = &'static str;

    fn try_from(r: ObjectRecord) -> std::result::Result<Object, &'static str> {
        if r.kind != ObjectKind::Data && !r.parents.is_empty() {
            return Err(
                "a user's, role's or permission's object has no parents",
            );
        }
        // A policy object's key is dropped when it is its handle's name;
        // any other is kept, for validation to refuse.
        let derived = r.kind != ObjectKind::Data
            && displays_as(&HandleName(r.kind), r.key.as_str());
        let key = (!derived).then_some(r.key);
        Ok(Object::new(r.ty, r.org, key, r.kind, &r.parents, &[]))
    }
}

/// Displays a policy object's key: its handle's name (`user#7`).
struct HandleName(ObjectKind);

impl std::fmt::Display for HandleName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            ObjectKind::Data => Ok(()),
            ObjectKind::User(u) => u.fmt(f),
            ObjectKind::Role(r) => r.fmt(f),
            ObjectKind::Permission(p) => p.fmt(f),
        }
    }
}

/// Written as the string it displays.
impl Serialize for HandleName {
    fn serialize<S: serde::Serializer>(
        &self,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Whether `value` displays exactly as `s`, compared piece by piece
/// without building the string.
pub(crate) fn displays_as(value: &impl std::fmt::Display, s: &str) -> bool {
    struct Rest<'a>(Option<&'a str>);
    impl std::fmt::Write for Rest<'_> {
        fn write_str(&mut self, piece: &str) -> std::fmt::Result {
            self.0 = self.0.and_then(|rest| rest.strip_prefix(piece));
            Ok(())
        }
    }
    let mut rest = Rest(Some(s));
    std::fmt::write(&mut rest, format_args!("{value}")).is_ok()
        && rest.0 == Some("")
}

impl Serialize for Object {
    fn serialize<S: serde::Serializer>(
        &self,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut o = s.serialize_struct("Object", 5)?;
        o.serialize_field("ty", &self.ty)?;
        o.serialize_field("org", &self.org)?;
        match &self.key {
            Some(key) => o.serialize_field("key", key)?,
            None => o.serialize_field("key", &HandleName(self.kind()))?,
        }
        o.serialize_field("kind", &self.kind())?;
        o.serialize_field("parents", self.parents())?;
        o.end()
    }
}

impl Object {
    /// An object with `parents` and `ancestors` and no back-references.
    /// `key` is `None` for an object standing for a user, role or
    /// permission.
    pub(crate) fn new(
        ty: TypeId,
        org: OrgId,
        key: Option<Name>,
        kind: ObjectKind,
        parents: &[ObjectId],
        ancestors: &[ObjectId],
    ) -> Object {
        let lineage = match kind {
            ObjectKind::Data => Lineage::new(parents, ancestors),
            ObjectKind::User(u) => Lineage::User(u, None),
            ObjectKind::Role(r) => Lineage::Role(r, None),
            ObjectKind::Permission(p) => Lineage::Permission(p, None),
        };
        Object { ty, org, key, lineage, links: None }
    }

    /// Replaces the parents and the ancestors of a data object (others
    /// have none).
    fn set_lineage(&mut self, parents: &[ObjectId], ancestors: &[ObjectId]) {
        if self.kind() == ObjectKind::Data {
            self.lineage = Lineage::new(parents, ancestors);
        }
    }

    /// Replaces the parents, keeping the ancestors (which the caller
    /// recomputes).
    pub(crate) fn set_parents(&mut self, parents: &[ObjectId]) {
        let ancestors = self.ancestors().to_vec();
        self.set_lineage(parents, &ancestors);
    }

    /// Appends `parent` to the parents (the caller recomputes the
    /// ancestors).
    pub(crate) fn add_parent(&mut self, parent: ObjectId) {
        let mut parents = self.parents().to_vec();
        parents.push(parent);
        self.set_parents(&parents);
    }

    /// Takes `parent` out of the parents (the caller recomputes the
    /// ancestors).
    pub(crate) fn remove_parent(&mut self, parent: ObjectId) {
        let mut parents = self.parents().to_vec();
        parents.retain(|p| *p != parent);
        self.set_parents(&parents);
    }

    /// Replaces the ancestors, keeping the parents.
    pub(crate) fn set_ancestors(&mut self, ancestors: &[ObjectId]) {
        if self.kind() == ObjectKind::Data {
            self.lineage = Lineage::new(self.parents(), ancestors);
        }
    }
}

/// What an object stands for and, for a data object, its direct parents,
/// in the order given, and the transitive closure of its parents, sorted
/// (it excludes the object itself). Objects standing for users, roles and
/// permissions have no parents; their variants use the room to keep the
/// first permission whose explicit list names them (a personal role's
/// permissions name its user's object and its own), which most would
/// otherwise allocate a [`Links`] box for. Folding all this in keeps an
/// object record at 48 bytes.
///
/// Most child objects have one parent that has no parent of its own (an
/// observation under a site, a meter under a property): both lists are
/// then that one parent, kept in place. Other lineages with parents take
/// two allocations.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Lineage {
    /// A data object without parents.
    Root,
    /// A data object whose parents and ancestors are both exactly this
    /// object.
    Single(ObjectId),
    /// A data object with any other parents.
    Listed(Box<Listed>),
    /// The object of a user, and the first permission listing it.
    User(UserId, Option<PermissionId>),
    /// The object of a role, and the first permission listing it.
    Role(RoleId, Option<PermissionId>),
    /// The object of a permission, and the first permission listing it.
    Permission(PermissionId, Option<PermissionId>),
}

/// Parents and ancestors in one allocation: the first `parents` entries
/// of `all` are the parents; the rest are the ancestors.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Listed {
    parents: u32,
    all: Box<[ObjectId]>,
}

impl Lineage {
    fn new(parents: &[ObjectId], ancestors: &[ObjectId]) -> Lineage {
        match (parents, ancestors) {
            ([], []) => return Lineage::Root,
            ([p], [a]) if p == a => return Lineage::Single(*p),
            _ => {}
        }
        // More parents than a `u32` counts exceed every limit; the
        // lineage is then kept empty rather than misread.
        let Ok(count) = u32::try_from(parents.len()) else {
            return Lineage::Root;
        };
        let mut all = Vec::with_capacity(parents.len() + ancestors.len());
        all.extend_from_slice(parents);
        all.extend_from_slice(ancestors);
        Lineage::Listed(Box::new(Listed {
            parents: count,
            all: all.into_boxed_slice(),
        }))
    }

    fn parents(&self) -> &[ObjectId] {
        match self {
            Lineage::Single(p) => std::slice::from_ref(p),
            Lineage::Listed(l) => {
                l.all.get(..l.parents as usize).unwrap_or(&[])
            }
            _ => &[],
        }
    }

    fn ancestors(&self) -> &[ObjectId] {
        match self {
            Lineage::Single(p) => std::slice::from_ref(p),
            Lineage::Listed(l) => {
                l.all.get(l.parents as usize..).unwrap_or(&[])
            }
            _ => &[],
        }
    }

    fn kind(&self) -> ObjectKind {
        match self {
            Lineage::Root | Lineage::Single(_) | Lineage::Listed(_) => {
                ObjectKind::Data
            }
            Lineage::User(u, _) => ObjectKind::User(*u),
            Lineage::Role(r, _) => ObjectKind::Role(*r),
            Lineage::Permission(p, _) => ObjectKind::Permission(*p),
        }
    }

    /// The slot for the first listing permission (policy objects only).
    fn first_listing(&mut self) -> Option<&mut Option<PermissionId>> {
        match self {
            Lineage::User(_, l)
            | Lineage::Role(_, l)
            | Lineage::Permission(_, l) => Some(l),
            _ => None,
        }
    }

    /// The first listing permission, if kept here.
    fn listing(&self) -> Option<PermissionId> {
        match self {
            Lineage::User(_, l)
            | Lineage::Role(_, l)
            | Lineage::Permission(_, l) => *l,
            _ => None,
        }
    }
}

impl Object {
    /// The object's type.
    #[must_use]
    pub fn object_type(&self) -> TypeId {
        self.ty
    }
    /// The owning organization.
    #[must_use]
    pub fn org(&self) -> OrgId {
        self.org
    }
    /// The object's key, unique within its type: the application's key
    /// for a data object, and for an object standing for a user, role or
    /// permission its handle's name (`user#7`), which is derived, not
    /// stored (so it is returned owned).
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{presets, Actor, Timestamp};
    ///
    /// let mut engine = presets::arbiter().build()?;
    /// let t = Timestamp::from_unix_millis(0);
    /// let mut sys = engine.act(Actor::System, t);
    /// let org = sys.create_org("Utility")?.value;
    /// let site = sys.create_object(org, "sites", "site-1", &[])?.value;
    /// let user = sys.create_user(org, "ada@example.com")?.value;
    /// let ada = engine.user(user).ok_or("no user")?.object();
    /// assert_eq!(engine.object(site).ok_or("no site")?.key(), "site-1");
    /// assert_eq!(engine.object(ada).ok_or("no object")?.key(), "user#0");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn key(&self) -> Cow<'_, str> {
        match &self.key {
            Some(key) => Cow::Borrowed(key.as_str()),
            None => Cow::Owned(HandleName(self.kind()).to_string()),
        }
    }

    /// A data object's key (empty for the other objects, which are never
    /// looked up by key).
    pub(crate) fn data_key(&self) -> &str {
        self.key.as_ref().map_or("", Name::as_str)
    }

    /// Whether the object's key is stored (a data object's) or derived
    /// from its handle.
    pub(crate) fn has_stored_key(&self) -> bool {
        self.key.is_some()
    }

    /// Whether the object's key is `key`, without building a derived
    /// one.
    pub(crate) fn key_is(&self, key: &str) -> bool {
        match &self.key {
            Some(k) => k.as_str() == key,
            None => displays_as(&HandleName(self.kind()), key),
        }
    }
    /// What the object stands for.
    #[must_use]
    pub fn kind(&self) -> ObjectKind {
        self.lineage.kind()
    }
    /// The direct parents.
    #[must_use]
    pub fn parents(&self) -> &[ObjectId] {
        self.lineage.parents()
    }
    /// The direct children, in ascending handle order (creation order),
    /// whether the policy was built live or loaded from a snapshot.
    pub fn children(&self) -> impl Iterator<Item = ObjectId> + '_ {
        self.links().children.iter().copied()
    }
    /// The shares rooted at this object.
    pub fn shares(&self) -> impl Iterator<Item = ShareId> + '_ {
        self.links().shares().iter().copied()
    }
    /// The object's back-references (empty for most objects).
    pub(crate) fn links(&self) -> &Links {
        self.links.as_deref().unwrap_or(&NO_LINKS)
    }
    /// The object's back-references, allocated on first use.
    pub(crate) fn links_mut(&mut self) -> &mut Links {
        self.links.get_or_insert_with(Box::default)
    }
    /// The permissions whose explicit lists name this object, in the
    /// order they named it.
    pub(crate) fn listed_in(&self) -> impl Iterator<Item = PermissionId> + '_ {
        let rest = self.links.as_deref().map(|l| l.listed_in.iter());
        self.lineage
            .listing()
            .into_iter()
            .chain(rest.into_iter().flatten().copied())
    }
    /// Records that `permission` lists this object; `false` if it did.
    ///
    /// An object standing for a user, role or permission keeps its first
    /// listing in place and the others in its [`Links`]; while it has any
    /// listing, the first sits in place.
    pub(crate) fn add_listing(&mut self, permission: PermissionId) -> bool {
        if let Some(first) = self.lineage.first_listing() {
            match first {
                None => {
                    *first = Some(permission);
                    return true;
                }
                Some(p) if *p == permission => return false,
                Some(_) => {}
            }
        }
        self.links_mut().listed_in.insert(permission)
    }
    /// Records that `permission` no longer lists this object; `false` if
    /// it did not.
    pub(crate) fn remove_listing(&mut self, permission: PermissionId) -> bool {
        let links = self.links.as_deref_mut();
        if let Some(first) = self.lineage.first_listing() {
            if *first == Some(permission) {
                // The next listing, if any, moves into place.
                *first = links.and_then(|l| {
                    let next = l.listed_in.iter().next().copied()?;
                    l.listed_in.shift_remove(&next);
                    Some(next)
                });
                return true;
            }
        }
        links.is_some_and(|l| l.listed_in.shift_remove(&permission))
    }
    /// Forgets every listing.
    pub(crate) fn clear_listings(&mut self) {
        if let Some(first) = self.lineage.first_listing() {
            *first = None;
        }
        if let Some(l) = self.links.as_deref_mut() {
            l.listed_in.clear();
        }
    }
    /// Every ancestor (parents, their parents, …), sorted.
    #[must_use]
    pub fn ancestors(&self) -> &[ObjectId] {
        self.lineage.ancestors()
    }
    /// Whether the object is `other` or lies under it.
    #[must_use]
    pub fn is_at_or_under(&self, self_id: ObjectId, other: ObjectId) -> bool {
        self_id == other || self.ancestors().binary_search(&other).is_ok()
    }
}

/// A role: a named set of permissions, owned by an organization.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub(crate) org: OrgId,
    pub(crate) name: StoredName,
    /// Shared, not allocated, for the description every personal role
    /// has.
    #[serde(deserialize_with = "description")]
    pub(crate) description: Cow<'static, str>,
    pub(crate) object: ObjectId,
    pub(crate) permissions: Set<PermissionId>,
    #[serde(skip)]
    pub(crate) grants: Set<GrantId>,
    pub(crate) required_bindings: Box<[TypeId]>,
    pub(crate) personal: Option<UserId>,
}

/// The description of every personal role.
pub(crate) const PERSONAL_DESCRIPTION: &str = "Default role";

/// Reads a role's description, sharing the personal roles' one.
fn description<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Cow<'static, str>, D::Error> {
    let s = String::deserialize(d)?;
    Ok(if s == PERSONAL_DESCRIPTION {
        Cow::Borrowed(PERSONAL_DESCRIPTION)
    } else {
        Cow::Owned(s)
    })
}

impl Role {
    /// The owning organization.
    #[must_use]
    pub fn org(&self) -> OrgId {
        self.org
    }
    /// The role's name, unique in its organization. Returned owned for
    /// a name of the form the engine gives personal roles
    /// (`DEFAULT User role 7`), which is stored as its number.
    #[must_use]
    pub fn name(&self) -> Cow<'_, str> {
        self.name.to_str()
    }
    /// The role's description.
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }
    /// The object (of type `roles`) standing for this role.
    #[must_use]
    pub fn object(&self) -> ObjectId {
        self.object
    }
    /// The role's permissions.
    pub fn permissions(&self) -> impl Iterator<Item = PermissionId> + '_ {
        self.permissions.iter().copied()
    }
    /// The grants of this role.
    pub fn grants(&self) -> impl Iterator<Item = GrantId> + '_ {
        self.grants.iter().copied()
    }
    /// Object types this role must be bound to when granted.
    #[must_use]
    pub fn required_bindings(&self) -> &[TypeId] {
        &self.required_bindings
    }
    /// The user whose personal default role this is, if it is one.
    #[must_use]
    pub fn personal_to(&self) -> Option<UserId> {
        self.personal
    }
}

/// A permission: one action on one object type, for every object of the
/// type owned by the permission's organization or for an explicit list.
/// Immutable once created, except for its object list.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    pub(crate) org: OrgId,
    pub(crate) name: StoredName,
    pub(crate) action: ActionId,
    pub(crate) ty: TypeId,
    pub(crate) applies_to_all: bool,
    pub(crate) objects: Set<ObjectId>,
    pub(crate) object: ObjectId,
    #[serde(skip)]
    pub(crate) roles: Set<RoleId>,
}

impl Permission {
    /// The owning organization.
    #[must_use]
    pub fn org(&self) -> OrgId {
        self.org
    }
    /// The permission's name (description). Returned owned for a name
    /// of the form the engine gives a personal role's permissions
    /// (`DEFAULT Read Self User 7`), which is stored as its number.
    #[must_use]
    pub fn name(&self) -> Cow<'_, str> {
        self.name.to_str()
    }
    /// The action it allows.
    #[must_use]
    pub fn action(&self) -> ActionId {
        self.action
    }
    /// The object type it applies to.
    #[must_use]
    pub fn object_type(&self) -> TypeId {
        self.ty
    }
    /// Whether it covers every current and future object of its type owned
    /// by its organization.
    #[must_use]
    pub fn applies_to_all(&self) -> bool {
        self.applies_to_all
    }
    /// The explicit object list (empty when it applies to all).
    pub fn objects(&self) -> impl Iterator<Item = ObjectId> + '_ {
        self.objects.iter().copied()
    }
    /// The object (of type `permissions`) standing for this permission.
    #[must_use]
    pub fn object(&self) -> ObjectId {
        self.object
    }
    /// The roles containing this permission.
    pub fn roles(&self) -> impl Iterator<Item = RoleId> + '_ {
        self.roles.iter().copied()
    }
    /// Whether the permission covers the existing `object` (of type `ty`,
    /// owned by `org`). An applies-to-all `create` permission covers no
    /// existing object: it is the right to make new ones.
    #[must_use]
    pub fn covers(&self, object: ObjectId, ty: TypeId, org: OrgId) -> bool {
        if self.applies_to_all {
            self.action != crate::schema::CREATE
                && self.ty == ty
                && self.org == org
        } else {
            self.objects.contains(&object)
        }
    }
}

/// A role grant: a user holding a role, optionally bound to objects.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub(crate) user: UserId,
    pub(crate) role: RoleId,
    pub(crate) bindings: Box<[ObjectId]>,
}

impl Grant {
    /// The grantee.
    #[must_use]
    pub fn user(&self) -> UserId {
        self.user
    }
    /// The role granted.
    #[must_use]
    pub fn role(&self) -> RoleId {
        self.role
    }
    /// The bindings: the grant is effective only on objects at or under
    /// every one of them. Empty for an unbound grant.
    #[must_use]
    pub fn bindings(&self) -> &[ObjectId] {
        &self.bindings
    }
}

/// Records touched by a primitive, whose index entries must be rebuilt.
#[derive(Debug, Default)]
pub(crate) struct Dirty {
    pub(crate) shares: HandleSet<ShareId>,
    pub(crate) roles: HandleSet<RoleId>,
    pub(crate) users: HandleSet<UserId>,
    pub(crate) objects: HandleSet<ObjectId>,
}

impl Dirty {
    /// Notes that a grant of `role` with `bindings` was made or removed:
    /// the index keeps a personal role's map only while a bound grant
    /// names it, so such a role is recompiled.
    pub(crate) fn bound_grant_changed(
        &mut self,
        model: &Model,
        role: RoleId,
        bindings: &[ObjectId],
    ) {
        let personal =
            model.roles.get(role).is_some_and(|r| r.personal.is_some());
        if personal && !bindings.is_empty() {
            self.roles.insert(role);
        }
    }
}

/// The whole policy store.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Model {
    pub(crate) orgs: Arena<Org>,
    pub(crate) users: Arena<User>,
    pub(crate) objects: Arena<Object>,
    pub(crate) roles: Arena<Role>,
    pub(crate) permissions: Arena<Permission>,
    pub(crate) grants: Arena<Grant>,
    pub(crate) shares: Arena<Share>,
    pub(crate) tokens: Arena<Token>,
    /// Connections between organizations, keyed by the unordered pair.
    #[serde(deserialize_with = "crate::serde_util::index_map")]
    pub(crate) connections: IndexMap<u64, Connection>,
    /// Pending ownership transfers: root object to recipient organization.
    #[serde(deserialize_with = "crate::serde_util::index_map")]
    pub(crate) transfers: IndexMap<ObjectId, OrgId>,
    #[serde(skip)]
    pub(crate) share_keys: HashMap<(ObjectId, Grantee), ShareId, KeyBuild>,
    #[serde(skip)]
    pub(crate) shares_by_grantee:
        HashMap<Grantee, HandleSet<ShareId>, KeyBuild>,
    #[serde(skip)]
    pub(crate) org_names: HashMap<Name, OrgId>,
    /// Organizations by the confusable skeleton of their name.
    #[serde(skip)]
    pub(crate) org_skeletons: HashMap<Box<str>, OrgId>,
    #[serde(skip)]
    pub(crate) emails: EmailTable,
    #[serde(skip)]
    /// Data objects by type and key (users, roles and permissions are
    /// found by their handle instead; their key is the handle's name).
    pub(crate) object_keys: KeyTable,
    #[serde(skip)]
    pub(crate) role_names: RoleNames,
}

/// A connection between two organizations, requested by `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// The requesting organization.
    pub from: OrgId,
    /// The organization asked to accept.
    pub to: OrgId,
    /// Whether `to` accepted.
    pub accepted: bool,
}

/// Key of the unordered pair `{a, b}`.
pub(crate) fn pair_key(a: OrgId, b: OrgId) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    (u64::from(lo.as_u32()) << 32) | u64::from(hi.as_u32())
}

/// The case-insensitive form of an e-mail used for uniqueness.
pub(crate) fn email_key(email: &str) -> String {
    email.to_lowercase()
}

impl Model {
    /// The objects of type `ty` that `org` owns: its data objects of that
    /// type, or the objects standing for its users, roles or permissions.
    pub(crate) fn objects_of_type(
        &self,
        org: OrgId,
        ty: TypeId,
    ) -> impl Iterator<Item = ObjectId> + '_ {
        let org = self.orgs.get(org);
        let data = org.and_then(|o| o.objects.get(&ty)).into_iter().flatten();
        let of = |t: TypeId| org.filter(|_| ty == t);
        let users = of(USERS).into_iter().flat_map(|o| o.users.iter());
        let roles = of(ROLES).into_iter().flat_map(|o| o.roles.iter());
        let perms =
            of(PERMISSIONS).into_iter().flat_map(|o| o.permissions.iter());
        data.copied()
            .chain(users.filter_map(|u| Some(self.users.get(*u)?.object)))
            .chain(roles.filter_map(|r| Some(self.roles.get(*r)?.object)))
            .chain(
                perms.filter_map(|p| Some(self.permissions.get(*p)?.object)),
            )
    }

    pub(crate) fn insert_org(&mut self, name: Name) -> Option<OrgId> {
        let org = Org {
            name: name.clone(),
            accepted_terms: false,
            users: Set::new(),
            roles: Set::new(),
            permissions: Set::new(),
            applying_to_all: Set::new(),
            objects: IndexMap::new(),
        };
        let id = self.orgs.push(org)?;
        self.org_skeletons.insert(crate::text::skeleton(name.as_str()), id);
        self.org_names.insert(name, id);
        Some(id)
    }

    /// Inserts an object. The caller has checked that the parents exist,
    /// the key is free and the limits hold.
    pub(crate) fn insert_object(
        &mut self,
        ty: TypeId,
        org: OrgId,
        key: Option<Name>,
        kind: ObjectKind,
        parents: &[ObjectId],
        dirty: &mut Dirty,
    ) -> Option<ObjectId> {
        let mut ancestors: Vec<ObjectId> = Vec::new();
        for p in parents {
            ancestors.push(*p);
            if let Some(po) = self.objects.get(*p) {
                ancestors.extend_from_slice(po.ancestors());
            }
        }
        ancestors.sort_unstable();
        ancestors.dedup();
        let object = Object::new(ty, org, key, kind, parents, &ancestors);
        let id: ObjectId = self.objects.push(object)?;
        for p in parents {
            if let Some(po) = self.objects.get_mut(*p) {
                po.links_mut().children.insert_in_order(id);
            }
        }
        if let (Some(o), ObjectKind::Data) = (self.orgs.get_mut(org), kind) {
            o.objects.entry(ty).or_default().insert(id);
        }
        // Users, roles and permissions are found by their handle; only
        // data objects have application keys to look up.
        if kind == ObjectKind::Data {
            // The caller has checked that the key is free.
            self.object_keys.insert_new(&self.objects, id);
        }
        dirty.objects.insert(id);
        Some(id)
    }

    /// The ancestor closure `object` would have with `parents`.
    pub(crate) fn closure_of(&self, parents: &[ObjectId]) -> Vec<ObjectId> {
        let mut ancestors: Vec<ObjectId> = Vec::new();
        self.closure_into(parents, &mut ancestors);
        ancestors
    }

    /// [`Model::closure_of`], written into `out` (cleared first), so that
    /// one buffer serves many objects.
    pub(crate) fn closure_into(
        &self,
        parents: &[ObjectId],
        out: &mut Vec<ObjectId>,
    ) {
        out.clear();
        if let [p] = parents {
            // One parent: its closure is sorted already.
            let above =
                self.objects.get(*p).map_or(&[][..], |o| o.ancestors());
            out.reserve_exact(above.len() + 1);
            out.extend_from_slice(above);
            if let Err(at) = out.binary_search(p) {
                out.insert(at, *p);
            }
            return;
        }
        for p in parents {
            out.push(*p);
            if let Some(po) = self.objects.get(*p) {
                out.extend_from_slice(po.ancestors());
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    /// Every descendant of `object`, parents before children.
    pub(crate) fn descendants(&self, object: ObjectId) -> Vec<ObjectId> {
        let mut seen: HandleSet<ObjectId> = HandleSet::default();
        let mut stack = vec![object];
        while let Some(o) = stack.pop() {
            if let Some(rec) = self.objects.get(o) {
                for c in &rec.links().children {
                    if seen.insert(*c) {
                        stack.push(*c);
                    }
                }
            }
        }
        // Order by ancestor count: an object's ancestors all have strictly
        // fewer ancestors than it has, so this is a topological order.
        let mut out: Vec<ObjectId> = seen.into_iter().collect();
        out.sort_by_key(|o| {
            (self.objects.get(*o).map_or(0, |r| r.ancestors().len()), *o)
        });
        out
    }

    /// Adds `parent` to `child`'s parents and recomputes ancestor closures.
    /// The caller has checked that no cycle results.
    pub(crate) fn link(
        &mut self,
        child: ObjectId,
        parent: ObjectId,
        dirty: &mut Dirty,
    ) {
        if let Some(c) = self.objects.get_mut(child) {
            c.add_parent(parent);
        }
        if let Some(p) = self.objects.get_mut(parent) {
            p.links_mut().children.insert_in_order(child);
        }
        self.recompute_closures(child, dirty);
    }

    /// Removes `parent` from `child`'s parents.
    pub(crate) fn unlink(
        &mut self,
        child: ObjectId,
        parent: ObjectId,
        dirty: &mut Dirty,
    ) {
        if let Some(c) = self.objects.get_mut(child) {
            c.remove_parent(parent);
        }
        if let Some(p) = self.objects.get_mut(parent) {
            p.links_mut().children.shift_remove(&child);
        }
        self.recompute_closures(child, dirty);
    }

    /// Drops, from the shares rooted at `roots`, the per-object overrides
    /// of objects no longer at or under their root (after an unlink or a
    /// deletion): an override applies only inside its share's subtree.
    pub(crate) fn drop_stray_overrides(
        &mut self,
        roots: &[ObjectId],
        dirty: &mut Dirty,
    ) {
        for root in roots {
            let Some(r) = self.objects.get(*root) else { continue };
            for sh in r.links().shares() {
                let Some(share) = self.shares.get_mut(*sh) else { continue };
                let objects = &self.objects;
                let before = share.overrides.len();
                share.overrides.retain(|(o, _)| {
                    objects
                        .get(*o)
                        .is_some_and(|x| x.is_at_or_under(*o, *root))
                });
                if share.overrides.len() != before {
                    dirty.shares.insert(*sh);
                }
            }
        }
    }

    /// Undoes [`Model::unlink`] of `child` from `parent`: `parents` is
    /// the child's list before it, so the order of the parents is kept
    /// (children are kept in handle order, so that list is restored too).
    pub(crate) fn relink(
        &mut self,
        child: ObjectId,
        parent: ObjectId,
        parents: &[ObjectId],
        dirty: &mut Dirty,
    ) {
        if let Some(c) = self.objects.get_mut(child) {
            c.set_parents(parents);
        }
        if let Some(p) = self.objects.get_mut(parent) {
            p.links_mut().children.insert_in_order(child);
        }
        self.recompute_closures(child, dirty);
    }

    fn recompute_closures(&mut self, from: ObjectId, dirty: &mut Dirty) {
        let mut order = vec![from];
        order.extend(self.descendants(from));
        for o in order {
            let parents: Vec<ObjectId> = match self.objects.get(o) {
                Some(r) => r.parents().to_vec(),
                None => continue,
            };
            let closure = self.closure_of(&parents);
            if let Some(r) = self.objects.get_mut(o) {
                r.set_ancestors(&closure);
            }
            dirty.objects.insert(o);
        }
    }

    /// Removes one object: from its parents, children, organization,
    /// permission lists, and every grant bound to it.
    pub(crate) fn remove_object(&mut self, id: ObjectId, dirty: &mut Dirty) {
        let Some(obj) = self.objects.remove(id) else { return };
        for p in obj.parents() {
            if let Some(po) = self.objects.get_mut(*p) {
                po.links_mut().children.shift_remove(&id);
            }
        }
        for c in &obj.links().children {
            if let Some(co) = self.objects.get_mut(*c) {
                co.remove_parent(id);
            }
        }
        for c in &obj.links().children {
            self.recompute_closures(*c, dirty);
        }
        if let Some(o) = self.orgs.get_mut(obj.org) {
            if let Some(set) = o.objects.get_mut(&obj.ty) {
                set.swap_remove(&id);
            }
        }
        for p in obj.listed_in() {
            if let Some(perm) = self.permissions.get_mut(p) {
                perm.objects.shift_remove(&id);
                dirty.roles.extend(perm.roles.iter().copied());
            }
        }
        for g in obj.links().bound_by() {
            self.remove_grant(*g, dirty);
        }
        // A token scoped to a deleted object could do nothing; it goes
        // with the object, as bound grants do.
        for t in obj.links().tokens() {
            self.remove_token(*t);
        }
        for sh in obj.links().shares() {
            self.remove_share(*sh, dirty);
        }
        // The object, and those of its descendants that were under its
        // ancestors only through it, left the shares rooted there.
        self.drop_stray_overrides(obj.ancestors(), dirty);
        self.transfers.shift_remove(&id);
        if obj.kind() == ObjectKind::Data {
            self.object_keys.remove(obj.ty, obj.data_key(), id);
        }
        dirty.objects.insert(id);
    }

    /// Removes a token from the store, its user and its scope.
    pub(crate) fn remove_token(&mut self, id: TokenId) {
        let Some(t) = self.tokens.remove(id) else { return };
        if let Some(u) = self.users.get_mut(t.user) {
            u.tokens.shift_remove(&id);
        }
        if let Some(o) = t.scope.and_then(|s| self.objects.get_mut(s)) {
            o.links_mut().rare_mut().tokens.shift_remove(&id);
        }
    }

    pub(crate) fn remove_grant(&mut self, id: GrantId, dirty: &mut Dirty) {
        let Some(g) = self.grants.remove(id) else { return };
        if let Some(u) = self.users.get_mut(g.user) {
            u.grants.shift_remove(&g.role);
        }
        if let Some(r) = self.roles.get_mut(g.role) {
            r.grants.shift_remove(&id);
        }
        for b in &g.bindings {
            if let Some(o) = self.objects.get_mut(*b) {
                o.links_mut().rare_mut().bound_by.shift_remove(&id);
            }
        }
        dirty.users.insert(g.user);
        dirty.bound_grant_changed(self, g.role, &g.bindings);
    }

    pub(crate) fn insert_share(&mut self, share: Share) -> Option<ShareId> {
        let root = share.root;
        let grantee = share.grantee;
        let id: ShareId = self.shares.push(share)?;
        if let Some(o) = self.objects.get_mut(root) {
            o.links_mut().rare_mut().shares.insert(id);
        }
        self.share_keys.insert((root, grantee), id);
        self.shares_by_grantee.entry(grantee).or_default().insert(id);
        Some(id)
    }

    pub(crate) fn remove_share(&mut self, id: ShareId, dirty: &mut Dirty) {
        let Some(share) = self.shares.remove(id) else { return };
        if let Some(o) = self.objects.get_mut(share.root) {
            o.links_mut().rare_mut().shares.shift_remove(&id);
        }
        self.share_keys.remove(&(share.root, share.grantee));
        if let Some(set) = self.shares_by_grantee.get_mut(&share.grantee) {
            set.shift_remove(&id);
            if set.is_empty() {
                self.shares_by_grantee.remove(&share.grantee);
            }
        }
        dirty.shares.insert(id);
    }

    /// Removes every share whose grantee is `grantee`.
    pub(crate) fn remove_shares_to(
        &mut self,
        grantee: Grantee,
        dirty: &mut Dirty,
    ) {
        let ids: Vec<ShareId> = self
            .shares_by_grantee
            .get(&grantee)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        for id in ids {
            self.remove_share(id, dirty);
        }
    }

    pub(crate) fn remove_permission(
        &mut self,
        id: PermissionId,
        dirty: &mut Dirty,
    ) {
        let Some(p) = self.permissions.remove(id) else { return };
        for r in &p.roles {
            if let Some(role) = self.roles.get_mut(*r) {
                role.permissions.shift_remove(&id);
            }
            dirty.roles.insert(*r);
        }
        for o in &p.objects {
            if let Some(obj) = self.objects.get_mut(*o) {
                obj.remove_listing(id);
            }
        }
        if let Some(org) = self.orgs.get_mut(p.org) {
            org.permissions.shift_remove(&id);
            org.applying_to_all.shift_remove(&id);
        }
        self.remove_object(p.object, dirty);
    }

    pub(crate) fn remove_role(&mut self, id: RoleId, dirty: &mut Dirty) {
        let Some(role) = self.roles.get(id) else { return };
        let grants: Vec<GrantId> = role.grants.iter().copied().collect();
        for g in grants {
            self.remove_grant(g, dirty);
        }
        let Some(role) = self.roles.remove(id) else { return };
        for p in &role.permissions {
            if let Some(perm) = self.permissions.get_mut(*p) {
                perm.roles.shift_remove(&id);
            }
        }
        if let Some(org) = self.orgs.get_mut(role.org) {
            org.roles.shift_remove(&id);
        }
        if let Some(u) = role.personal.and_then(|u| self.users.get_mut(u)) {
            u.personal_role = None;
        }
        role.name.with_str(|name| self.role_names.remove(role.org, name, id));
        dirty.roles.insert(id);
        self.remove_object(role.object, dirty);
    }

    /// Removes a user with its grants and its personal role (and that
    /// role's permissions).
    pub(crate) fn remove_user(&mut self, id: UserId, dirty: &mut Dirty) {
        let Some(user) = self.users.get(id) else { return };
        let grants: Vec<GrantId> = user.grants.values().copied().collect();
        let personal = user.personal_role;
        for g in grants {
            self.remove_grant(g, dirty);
        }
        if let Some(r) = personal {
            let perms: Vec<PermissionId> = self
                .roles
                .get(r)
                .map(|role| role.permissions.iter().copied().collect())
                .unwrap_or_default();
            self.remove_role(r, dirty);
            for p in perms {
                let orphan = self
                    .permissions
                    .get(p)
                    .is_some_and(|p| p.roles.is_empty());
                if orphan {
                    self.remove_permission(p, dirty);
                }
            }
        }
        self.remove_shares_to(Grantee::User(id), dirty);
        let Some(user) = self.users.remove(id) else { return };
        for t in &user.tokens {
            self.remove_token(*t);
        }
        if let Some(org) = self.orgs.get_mut(user.org) {
            org.users.shift_remove(&id);
        }
        self.emails.remove(user.email.as_str(), id);
        dirty.users.insert(id);
        self.remove_object(user.object, dirty);
    }

    /// Rebuilds what refers to tokens, and the shares by grantee: the
    /// derived fields that loading a snapshot does not build while it
    /// validates (it builds the name, e-mail and key lookups as it checks
    /// their uniqueness).
    pub(crate) fn link_tokens_and_grantees(&mut self) {
        let Model { tokens, users, objects, .. } = self;
        for (id, t) in tokens.iter::<TokenId>() {
            if let Some(user) = users.get_mut(t.user) {
                user.tokens.insert(id);
            }
            if let Some(o) = t.scope.and_then(|s| objects.get_mut(s)) {
                o.links_mut().rare_mut().tokens.insert(id);
            }
        }
        self.shares_by_grantee = HashMap::default();
        for (id, s) in self.shares.iter() {
            self.shares_by_grantee.entry(s.grantee).or_default().insert(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record sizes `BENCHMARKS.md` quotes, on 64-bit targets: an object
    /// record is 48 bytes (it was 168 with its back-reference sets inline)
    /// with a 16-byte lineage, and a back-reference set costs 24 bytes,
    /// with up to four handles in place; a user's grants keep two in
    /// place in 24 bytes too. The back-references an object most often
    /// has take 56 bytes; a grant is 24 bytes and a user 80.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn record_sizes() {
        assert_eq!(std::mem::size_of::<Object>(), 48);
        assert_eq!(std::mem::size_of::<Option<Object>>(), 48);
        assert_eq!(std::mem::size_of::<Set<ObjectId>>(), 24);
        assert_eq!(std::mem::size_of::<PairMap<RoleId, GrantId>>(), 24);
        assert_eq!(std::mem::size_of::<Links>(), 56);
        assert_eq!(std::mem::size_of::<Lineage>(), 16);
        assert_eq!(std::mem::size_of::<Option<Grant>>(), 24);
        assert_eq!(std::mem::size_of::<Option<User>>(), 80);
    }

    /// `displays_as` agrees with comparing the key to the handle's name.
    #[test]
    fn derived_keys_compare_as_strings() {
        let numbers = [0, 1, 7, 9, 10, 42, 100, 65_535, i32::MAX as u32];
        let kinds = |n| {
            [
                ObjectKind::User(UserId::from_raw(n).unwrap()),
                ObjectKind::Role(RoleId::from_raw(n).unwrap()),
                ObjectKind::Permission(PermissionId::from_raw(n).unwrap()),
            ]
        };
        for n in numbers {
            for kind in kinds(n) {
                let name = HandleName(kind).to_string();
                let prefix =
                    name.trim_end_matches(|c: char| c.is_ascii_digit());
                let mut keys = vec![
                    name.clone(),
                    format!("{name} "),
                    format!("{name}0"),
                    format!("{prefix}0{n}"),
                    format!("{prefix}+{n}"),
                    prefix.to_owned(),
                    String::new(),
                    "user#1".to_owned(),
                    "role#1".to_owned(),
                    "permission#1".to_owned(),
                    name.to_uppercase(),
                ];
                keys.extend(name.get(..name.len() - 1).map(str::to_owned));
                for m in numbers {
                    keys.extend(kinds(m).map(|k| HandleName(k).to_string()));
                }
                for key in keys {
                    let same = key == name;
                    assert_eq!(displays_as(&HandleName(kind), &key), same);
                    let o = Object::new(
                        TypeId::new(0).unwrap(),
                        OrgId::new(0).unwrap(),
                        None,
                        kind,
                        &[],
                        &[],
                    );
                    assert_eq!(o.key_is(&key), same, "{key} {name}");
                    assert_eq!(o.key(), name);
                }
            }
        }
    }

    #[test]
    fn the_personal_description_is_shared_when_read() {
        let read = |json: &str| {
            let mut d = serde_json::Deserializer::from_str(json);
            description(&mut d).unwrap()
        };
        assert!(matches!(read(r#""Default role""#), Cow::Borrowed(_)));
        let other = read(r#""Default roles""#);
        assert!(matches!(&other, Cow::Owned(s) if s == "Default roles"));
    }

    #[test]
    fn lineage_keeps_a_lone_top_parent_in_place() {
        let id = |n| ObjectId::new(n).unwrap();
        let (a, b, c) = (id(1), id(2), id(3));
        let cases: [(&[ObjectId], &[ObjectId], bool); 5] = [
            (&[], &[], false),
            (&[a], &[a], true),
            (&[b], &[a, b], false),
            (&[a, b], &[a, b], false),
            (&[c, a], &[a, b, c], false),
        ];
        for (parents, ancestors, single) in cases {
            let l = Lineage::new(parents, ancestors);
            assert_eq!(l.parents(), parents);
            assert_eq!(l.ancestors(), ancestors);
            assert_eq!(matches!(l, Lineage::Single(_)), single, "{l:?}");
        }
        // Replacing the ancestors moves between the forms.
        let mut o = Object::new(
            TypeId::new(0).unwrap(),
            OrgId::new(0).unwrap(),
            Some(Name::new("x").unwrap()),
            ObjectKind::Data,
            &[b],
            &[a, b],
        );
        o.set_ancestors(&[b]);
        assert!(matches!(o.lineage, Lineage::Single(p) if p == b));
        o.add_parent(c);
        assert_eq!((o.parents(), o.ancestors()), (&[b, c][..], &[b][..]));
        o.set_ancestors(&[b, c]);
        o.remove_parent(b);
        assert_eq!((o.parents(), o.ancestors()), (&[c][..], &[b, c][..]));
        o.set_ancestors(&[c]);
        assert_eq!((o.parents(), o.ancestors()), (&[c][..], &[c][..]));
        assert!(matches!(o.lineage, Lineage::Single(_)));
    }

    /// An object standing for a user, role or permission keeps its first
    /// listing in place, and its listings read back in the order they
    /// were made whatever is removed; a data object keeps them all in
    /// its links.
    #[test]
    fn listings_keep_their_order_in_place_or_boxed() {
        let p = |n| PermissionId::new(n).unwrap();
        let ty = TypeId::new(0).unwrap();
        let org = OrgId::new(0).unwrap();
        let user = ObjectKind::User(UserId::new(4).unwrap());
        let key = Some(Name::new("x").unwrap());
        for (kind, key) in [(user, None), (ObjectKind::Data, key)] {
            let mut o = Object::new(ty, org, key, kind, &[], &[]);
            let listed = |o: &Object| o.listed_in().collect::<Vec<_>>();
            assert!(o.add_listing(p(5)));
            // One listing needs no links box on a policy object.
            assert_eq!(o.links.is_none(), kind != ObjectKind::Data);
            assert!(!o.add_listing(p(5)));
            assert!(o.add_listing(p(2)));
            assert!(o.add_listing(p(9)));
            assert!(!o.add_listing(p(2)));
            assert_eq!(listed(&o), [p(5), p(2), p(9)]);
            assert!(!o.remove_listing(p(7)));
            assert!(o.remove_listing(p(5)));
            assert_eq!(listed(&o), [p(2), p(9)]);
            assert!(!o.add_listing(p(2)), "{kind:?}: the moved one is kept");
            assert!(o.remove_listing(p(9)));
            assert!(o.add_listing(p(5)));
            assert_eq!(listed(&o), [p(2), p(5)]);
            o.clear_listings();
            assert_eq!(listed(&o), []);
            assert!(!o.remove_listing(p(2)));
            assert!(o.add_listing(p(3)));
            assert_eq!(listed(&o), [p(3)]);
            assert_eq!(o.kind(), kind);
            assert!(o.parents().is_empty() && o.ancestors().is_empty());
        }
    }
}
