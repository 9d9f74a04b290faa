//! Random mutation scripts.
//!
//! A script is a small fixed setup (organizations, users, default-role
//! grants) followed by random [`Attempt`]s. Each attempt names its records
//! by abstract indices; [`Runner::resolve`] turns them into a concrete
//! [`Op`] against the engine's current state, usually choosing among live
//! records that make the op plausible ("smart" picks), sometimes among
//! every handle ever seen, deleted ones included, or a handle that never
//! existed ("wild" picks), so that refusals of every kind happen too.

use std::cell::Cell;
use std::collections::BTreeSet;

use accord::{
    presets, ActionId, ActionSpec, Actor, Builder, Engine, MutationError,
    ObjectId, ObjectKind, Op, OrgId, PermissionId, Revision, RoleId, Schema,
    Subject, Threshold, Timestamp, TypeId, UserId,
};
use proptest::prelude::*;

use super::reference::at_or_under;

/// A raw index that [`Runner`] resolves against the current state.
pub type Ix = u16;

/// A handle index no engine in these tests ever reaches.
pub const UNKNOWN: usize = 100_000;

/// Which engine a script runs on.
#[derive(Clone, Copy, Debug)]
pub enum Flavor {
    /// The Solar Forecast Arbiter preset (terms, self-reading roles,
    /// personal roles, 44 default permissions per organization).
    Arbiter,
    /// A small two-type schema with three default roles and a random
    /// config.
    Small {
        /// `Config::require_terms`.
        require_terms: bool,
        /// `Config::role_self_read`.
        role_self_read: bool,
        /// `Config::personal_roles`.
        personal_roles: bool,
        /// Small `Config::limits`, so that limits are reached.
        tight_limits: bool,
        /// `Config::require_connection` (for ownership transfers).
        require_connection: bool,
    },
}

/// The builder of a flavor; the same flavor always yields the same engine.
pub fn builder(flavor: Flavor) -> Builder {
    match flavor {
        Flavor::Arbiter => presets::arbiter(),
        Flavor::Small {
            require_terms,
            role_self_read,
            personal_roles,
            tight_limits,
            require_connection,
        } => Engine::builder(small_schema()).configure(|c| {
            c.require_terms = require_terms;
            c.role_self_read = role_self_read;
            c.personal_roles = personal_roles;
            c.require_connection = require_connection;
            if tight_limits {
                c.limits.max_parents = 2;
                c.limits.max_ancestors = 3;
                c.limits.max_bindings = 1;
                c.limits.max_grants_per_user = 3;
                // The largest default role holds 11 permissions.
                c.limits.max_permissions_per_role = 11;
                c.limits.max_objects_per_permission = 2;
            }
        }),
    }
}

fn small_schema() -> Schema {
    Schema::builder()
        .object_type("site")
        .object_type("meter")
        .action("read_values", Threshold::Read)
        .action_spec(
            ActionSpec::new("purge", Threshold::Owner).administrative(),
        )
        .default_role(
            "Viewer",
            "reads all data",
            &[("read", "site"), ("read", "meter"), ("read_values", "meter")],
        )
        .default_role(
            "Editor",
            "creates, updates and deletes data",
            &[
                ("create", "site"),
                ("create", "meter"),
                ("update", "site"),
                ("update", "meter"),
                ("delete", "site"),
                ("delete", "meter"),
            ],
        )
        .default_role(
            "Admin",
            "administers access",
            &[
                ("create", "roles"),
                ("create", "permissions"),
                ("grant", "roles"),
                ("revoke", "roles"),
                ("update", "roles"),
                ("update", "permissions"),
                ("delete", "roles"),
                ("delete", "permissions"),
                ("read", "users"),
                ("read", "roles"),
                ("read", "permissions"),
            ],
        )
        .build()
        .expect("the small schema builds")
}

/// Flavors, the small one twice as often (it is cheaper).
pub fn flavor() -> impl Strategy<Value = Flavor> {
    prop_oneof![1 => Just(Flavor::Arbiter), 2 => small_flavor()]
}

/// The small flavor with a random config.
pub fn small_flavor() -> impl Strategy<Value = Flavor> {
    any::<(bool, bool, bool, bool, bool)>().prop_map(|(t, s, p, l, c)| {
        Flavor::Small {
            require_terms: t,
            role_self_read: s,
            personal_roles: p,
            tight_limits: l,
            require_connection: c,
        }
    })
}

/// The fixed start of a script: organizations (whether each accepts the
/// terms), per organization users with a bit mask of the default roles
/// they receive, and a forest of data objects.
#[derive(Clone, Debug)]
pub struct Setup {
    /// `(accepts terms, default-role masks of its users)` per organization.
    pub orgs: Vec<(bool, Vec<u8>)>,
    /// `(organization, type, parent among the earlier ones)` per object.
    pub objects: Vec<(Ix, Ix, Option<Ix>)>,
    /// `(user, role, binding among the setup objects)` per bound grant.
    pub bound: Vec<(Ix, Ix, Ix)>,
}

/// One to three organizations of one to three users, two to eight data
/// objects, and one to four bound grants.
pub fn setup() -> impl Strategy<Value = Setup> {
    let orgs = prop::collection::vec(
        (prop::bool::weighted(0.8), prop::collection::vec(any::<u8>(), 1..=3)),
        1..=3,
    );
    let objects = prop::collection::vec(
        (ix(), ix(), prop::option::weighted(0.7, ix())),
        2..=8,
    );
    let bound = prop::collection::vec((ix(), ix(), ix()), 1..=4);
    (orgs, objects, bound).prop_map(|(orgs, objects, bound)| Setup {
        orgs,
        objects,
        bound,
    })
}

/// One abstract mutation.
#[derive(Clone, Debug)]
pub enum Step {
    CreateOrg {
        dup: bool,
    },
    AcceptTerms {
        org: Ix,
    },
    CreateUser {
        org: Ix,
        dup: bool,
    },
    SetAdmin {
        user: Ix,
        admin: bool,
    },
    CreateObject {
        org: Ix,
        ty: Ix,
        parents: Vec<Ix>,
    },
    Link {
        child: Ix,
        parent: Ix,
    },
    Unlink {
        child: Ix,
        parent: Ix,
    },
    DeleteObject {
        object: Ix,
    },
    CreateRole {
        org: Ix,
        name: Ix,
        bound: Option<Ix>,
    },
    CreatePermission {
        org: Ix,
        action: Ix,
        ty: Ix,
        all: bool,
        objects: Vec<Ix>,
    },
    AddObject {
        perm: Ix,
        object: Ix,
    },
    RemoveObject {
        perm: Ix,
        object: Ix,
    },
    AddPermission {
        role: Ix,
        perm: Ix,
    },
    RemovePermission {
        role: Ix,
        perm: Ix,
    },
    Grant {
        user: Ix,
        role: Ix,
        bindings: Vec<Ix>,
    },
    Revoke {
        user: Ix,
        role: Ix,
    },
    DeleteRole {
        role: Ix,
    },
    DeletePermission {
        perm: Ix,
    },
    DeleteUser {
        user: Ix,
    },
    DeleteOrg {
        org: Ix,
    },
    Transfer {
        root: Ix,
        to: Ix,
    },
    RespondTransfer {
        root: Ix,
        accept: bool,
    },
    RequestConnection {
        from: Ix,
        to: Ix,
    },
    RespondConnection {
        pick: Ix,
        accept: bool,
    },
}

/// One step of a script: who attempts it and through which API.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// Resolves to `System` three times in four, else to a user.
    pub actor: Ix,
    /// The mutation.
    pub step: Step,
    /// Whether to go through the typed [`accord::Mutator`] methods rather
    /// than [`Engine::apply`].
    pub via_mutator: bool,
}

fn ix() -> impl Strategy<Value = Ix> {
    any::<Ix>()
}

fn ixs(max: usize) -> impl Strategy<Value = Vec<Ix>> {
    prop::collection::vec(ix(), 0..=max)
}

/// A random step, weighted towards the ops that build up a policy.
pub fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => any::<bool>().prop_map(|dup| Step::CreateOrg { dup }),
        2 => ix().prop_map(|org| Step::AcceptTerms { org }),
        6 => (ix(), prop::bool::weighted(0.1))
            .prop_map(|(org, dup)| Step::CreateUser { org, dup }),
        1 => (ix(), any::<bool>())
            .prop_map(|(user, admin)| Step::SetAdmin { user, admin }),
        16 => (ix(), ix(), ixs(2)).prop_map(|(org, ty, parents)| {
            Step::CreateObject { org, ty, parents }
        }),
        7 => (ix(), ix()).prop_map(|(child, parent)| Step::Link { child, parent }),
        3 => (ix(), ix())
            .prop_map(|(child, parent)| Step::Unlink { child, parent }),
        3 => ix().prop_map(|object| Step::DeleteObject { object }),
        6 => (ix(), ix(), prop::option::weighted(0.2, ix()))
            .prop_map(|(org, name, bound)| Step::CreateRole { org, name, bound }),
        10 => (ix(), ix(), ix(), prop::bool::weighted(0.4), ixs(3)).prop_map(
            |(org, action, ty, all, objects)| Step::CreatePermission {
                org,
                action,
                ty,
                all,
                objects,
            }
        ),
        7 => (ix(), ix()).prop_map(|(perm, object)| Step::AddObject { perm, object }),
        3 => (ix(), ix())
            .prop_map(|(perm, object)| Step::RemoveObject { perm, object }),
        10 => (ix(), ix())
            .prop_map(|(role, perm)| Step::AddPermission { role, perm }),
        3 => (ix(), ix())
            .prop_map(|(role, perm)| Step::RemovePermission { role, perm }),
        14 => (ix(), ix(), prop::collection::vec(ix(), 0..=3))
            .prop_map(|(user, role, bindings)| Step::Grant { user, role, bindings }),
        4 => (ix(), ix()).prop_map(|(user, role)| Step::Revoke { user, role }),
        2 => ix().prop_map(|role| Step::DeleteRole { role }),
        2 => ix().prop_map(|perm| Step::DeletePermission { perm }),
        2 => ix().prop_map(|user| Step::DeleteUser { user }),
        1 => ix().prop_map(|org| Step::DeleteOrg { org }),
        3 => (ix(), ix()).prop_map(|(root, to)| Step::Transfer { root, to }),
        3 => (ix(), prop::bool::weighted(0.8))
            .prop_map(|(root, accept)| Step::RespondTransfer { root, accept }),
        1 => (ix(), ix())
            .prop_map(|(from, to)| Step::RequestConnection { from, to }),
        1 => (ix(), prop::bool::weighted(0.8))
            .prop_map(|(pick, accept)| Step::RespondConnection { pick, accept }),
    ]
}

/// A random step of a script about ownership: transfers offered, accepted
/// and rejected, connections, and the objects, lists and grants they move.
pub fn transfer_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (ix(), ix()).prop_map(|(root, to)| Step::Transfer { root, to }),
        8 => (ix(), prop::bool::weighted(0.8))
            .prop_map(|(root, accept)| Step::RespondTransfer { root, accept }),
        2 => (ix(), ix())
            .prop_map(|(from, to)| Step::RequestConnection { from, to }),
        2 => (ix(), prop::bool::weighted(0.8))
            .prop_map(|(pick, accept)| Step::RespondConnection { pick, accept }),
        3 => (ix(), ix(), ixs(1)).prop_map(|(org, ty, parents)| {
            Step::CreateObject { org, ty, parents }
        }),
        2 => (ix(), ix()).prop_map(|(child, parent)| Step::Link { child, parent }),
        2 => (ix(), ix(), ix(), ixs(2)).prop_map(|(org, action, ty, objects)| {
            Step::CreatePermission { org, action, ty, all: false, objects }
        }),
        3 => (ix(), ix()).prop_map(|(perm, object)| Step::AddObject { perm, object }),
        2 => (ix(), ix(), prop::collection::vec(ix(), 0..=1))
            .prop_map(|(user, role, bindings)| Step::Grant { user, role, bindings }),
    ]
}

/// A random attempt of a script about ownership.
pub fn transfer_attempt() -> impl Strategy<Value = Attempt> {
    (ix(), transfer_step(), any::<bool>()).prop_map(
        |(actor, step, via_mutator)| Attempt { actor, step, via_mutator },
    )
}

/// A random attempt.
pub fn attempt() -> impl Strategy<Value = Attempt> {
    (ix(), step(), any::<bool>()).prop_map(|(actor, step, via_mutator)| {
        Attempt { actor, step, via_mutator }
    })
}

/// Whether an op can only add access, only remove it, or changes none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Every decision that allowed before still allows.
    Grows,
    /// Every decision that denied before still denies.
    Shrinks,
    /// No decision changes.
    Neutral,
    /// Decisions may change either way (ownership moves).
    Mixed,
}

/// The direction of an op, when it succeeds.
pub fn direction(op: &Op) -> Direction {
    match op {
        Op::AcceptTerms { .. }
        | Op::SetPlatformAdmin { .. }
        | Op::Transfer { .. }
        | Op::RequestConnection { .. }
        | Op::RespondConnection { .. } => Direction::Neutral,
        Op::RespondTransfer { .. } => Direction::Mixed,
        Op::CreateOrg { .. }
        | Op::CreateUser { .. }
        | Op::CreateObject { .. }
        | Op::LinkObject { .. }
        | Op::CreateRole { .. }
        | Op::CreatePermission { .. }
        | Op::AddObjectToPermission { .. }
        | Op::AddPermissionToRole { .. }
        | Op::GrantRole { .. } => Direction::Grows,
        _ => Direction::Shrinks,
    }
}

/// Picks `items[i % len]`, or `None` from an empty list.
fn pick<T: Clone>(items: &[T], i: Ix) -> Option<T> {
    if items.is_empty() {
        None
    } else {
        items.get(usize::from(i) % items.len()).cloned()
    }
}

/// Whether an index asks for a wild pick (one time in eight).
fn wild(i: Ix) -> bool {
    i % 8 == 7
}

/// Every handle ever observed in an engine, deleted ones included.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// Organizations.
    pub orgs: BTreeSet<OrgId>,
    /// Users.
    pub users: BTreeSet<UserId>,
    /// Objects of every kind.
    pub objects: BTreeSet<ObjectId>,
    /// Roles.
    pub roles: BTreeSet<RoleId>,
    /// Permissions.
    pub perms: BTreeSet<PermissionId>,
}

impl Seen {
    /// Adds every live handle of `engine`.
    pub fn observe(&mut self, engine: &Engine) {
        self.orgs.extend(engine.orgs().map(|(id, _)| id));
        self.users.extend(engine.users().map(|(id, _)| id));
        self.objects.extend(engine.objects().map(|(id, _)| id));
        self.roles.extend(engine.roles().map(|(id, _)| id));
        self.perms.extend(engine.permissions().map(|(id, _)| id));
    }
}

/// The handles queried when comparing decisions: every subject, action and
/// object handle up to one past the largest seen (so deleted and
/// never-created handles are included), plus `Anonymous`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Universe {
    /// Subjects.
    pub subjects: Vec<Subject>,
    /// Actions (one past the schema's, which is unknown).
    pub actions: Vec<ActionId>,
    /// Objects.
    pub objects: Vec<ObjectId>,
}

impl Universe {
    /// The universe of `engine` given what has been seen.
    pub fn new(engine: &Engine, seen: &Seen) -> Universe {
        let users = seen.users.last().map_or(0, |u| u.as_usize() + 1);
        let objects = seen.objects.last().map_or(0, |o| o.as_usize() + 1);
        let actions = engine.schema().actions().count();
        let mut subjects = vec![Subject::Anonymous];
        subjects.extend(
            (0..=users).map(|i| Subject::User(UserId::new(i).unwrap())),
        );
        Universe {
            subjects,
            actions: (0..=actions)
                .map(|i| ActionId::new(i).unwrap())
                .collect(),
            objects: (0..=objects)
                .map(|i| ObjectId::new(i).unwrap())
                .collect(),
        }
    }

    /// Every triple, subjects outermost.
    pub fn triples(
        &self,
    ) -> impl Iterator<Item = (Subject, ActionId, ObjectId)> + '_ {
        self.subjects.iter().flat_map(move |s| {
            self.actions.iter().flat_map(move |a| {
                self.objects.iter().map(move |o| (*s, *a, *o))
            })
        })
    }

    /// The position in `larger`'s triples of each of this universe's
    /// triples, in order; `larger` must extend every dimension of this
    /// one (universes only grow as handles are seen).
    pub fn positions_in<'a>(
        &'a self,
        larger: &'a Universe,
    ) -> impl Iterator<Item = usize> + 'a {
        assert!(larger.subjects.starts_with(&self.subjects));
        assert!(larger.actions.starts_with(&self.actions));
        assert!(larger.objects.starts_with(&self.objects));
        let (na, no) = (larger.actions.len(), larger.objects.len());
        (0..self.subjects.len()).flat_map(move |s| {
            (0..self.actions.len()).flat_map(move |a| {
                (0..self.objects.len()).map(move |o| (s * na + a) * no + o)
            })
        })
    }
}

/// Every decision of `engine` over `universe`, in [`Universe::triples`]
/// order.
pub fn decisions(engine: &Engine, universe: &Universe) -> Vec<bool> {
    universe
        .triples()
        .map(|(s, a, o)| engine.check(s, a, o).is_allow())
        .collect()
}

/// Resolves and applies attempts, tracking every handle ever seen.
#[derive(Clone, Debug)]
pub struct Runner {
    /// The engine under test.
    pub engine: Engine,
    /// Every handle seen so far.
    pub seen: Seen,
    counter: Cell<usize>,
    clock: i64,
}

impl Runner {
    /// A runner on a fresh engine of `flavor`.
    pub fn new(flavor: Flavor) -> Runner {
        let engine = builder(flavor).build().expect("the engine builds");
        Runner {
            engine,
            seen: Seen::default(),
            counter: Cell::new(0),
            clock: 0,
        }
    }

    fn fresh(&self) -> usize {
        self.counter.set(self.counter.get() + 1);
        self.counter.get()
    }

    /// The next timestamp.
    pub fn tick(&mut self) -> Timestamp {
        self.clock += 1;
        self.now()
    }

    /// The timestamp of the last attempt.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.clock)
    }

    /// The setup as concrete ops by `System`, with their actors, applied
    /// one by one through `apply` (which receives the runner so the ops of
    /// later setup stages can name records created earlier).
    pub fn run_setup(
        &mut self,
        setup: &Setup,
        mut apply: impl FnMut(&mut Runner, Actor, Op, bool),
    ) {
        for (i, (accept, users)) in setup.orgs.iter().enumerate() {
            let name = format!("Org {i}");
            apply(
                self,
                Actor::System,
                Op::CreateOrg { name: name.clone() },
                true,
            );
            let Some(org) = self.engine.org_by_name(&name) else { continue };
            if *accept {
                apply(self, Actor::System, Op::AcceptTerms { org }, false);
            }
            let defaults: Vec<RoleId> = self
                .engine
                .org(org)
                .map(|o| o.roles().collect())
                .unwrap_or_default();
            for (j, mask) in users.iter().enumerate() {
                let email = format!("setup{j}@org{i}.example");
                let op = Op::CreateUser { org, email: email.clone() };
                apply(self, Actor::System, op, j % 2 == 0);
                let Some(user) = self.engine.user_by_email(&email) else {
                    continue;
                };
                for (k, role) in defaults.iter().enumerate() {
                    if mask & (1 << k) != 0 {
                        let op = Op::GrantRole {
                            user,
                            role: *role,
                            bindings: Vec::new(),
                        };
                        apply(self, Actor::System, op, k % 2 == 0);
                    }
                }
            }
        }
        let orgs: Vec<OrgId> = self.engine.orgs().map(|(id, _)| id).collect();
        let schema = self.engine.schema();
        let types: Vec<String> = schema
            .object_types()
            .filter(|t| !schema.type_def(*t).unwrap().is_policy())
            .map(|t| schema.type_name(t).unwrap().to_owned())
            .collect();
        let mut made: Vec<ObjectId> = Vec::new();
        for (k, (org, ty, parent)) in setup.objects.iter().enumerate() {
            let Some(org) = pick(&orgs, *org) else { break };
            let key = format!("setup-obj{k}");
            let parent = parent.and_then(|p| pick(&made, p));
            // Three children in four belong to their parent's owner.
            let parent_org = parent
                .and_then(|p| self.engine.object(p))
                .map(accord::Object::org)
                .filter(|_| k % 4 != 3);
            let op = Op::CreateObject {
                org: parent_org.unwrap_or(org),
                object_type: pick(&types, *ty).unwrap(),
                key: key.clone(),
                parents: parent.into_iter().collect(),
            };
            apply(self, Actor::System, op.clone(), k % 2 == 0);
            let Op::CreateObject { object_type, .. } = op else { continue };
            let ty = self.engine.schema().object_type(&object_type).unwrap();
            made.extend(self.engine.object_by_key(ty, &key));
        }
        let users: Vec<UserId> =
            self.engine.users().map(|(id, _)| id).collect();
        for (k, (user, role, binding)) in setup.bound.iter().enumerate() {
            let (Some(user), Some(binding)) =
                (pick(&users, *user), pick(&made, *binding))
            else {
                break;
            };
            // A role of the user's organization the user does not hold.
            let e = &self.engine;
            let org = e.user(user).map(accord::User::org);
            let roles: Vec<RoleId> = e
                .roles()
                .filter(|(_, r)| {
                    Some(r.org()) == org
                        && !r.grants().any(|g| {
                            e.grant(g).is_some_and(|g| g.user() == user)
                        })
                })
                .map(|(id, _)| id)
                .collect();
            let Some(role) = pick(&roles, *role) else { continue };
            let op = Op::GrantRole { user, role, bindings: vec![binding] };
            apply(self, Actor::System, op, k % 2 == 0);
        }
    }

    /// The actor an attempt names.
    pub fn actor(&self, i: Ix) -> Actor {
        if i % 4 != 0 {
            return Actor::System;
        }
        let i = i / 4;
        if wild(i) {
            let mut all: Vec<UserId> =
                self.seen.users.iter().copied().collect();
            all.push(UserId::new(UNKNOWN).unwrap());
            Actor::User(pick(&all, i).unwrap())
        } else {
            // Users holding some role besides their personal one, who may
            // well have the authority to act.
            let e = &self.engine;
            let holders: Vec<UserId> = e
                .users()
                .filter(|(_, u)| {
                    u.grants().any(|g| {
                        e.grant(g)
                            .and_then(|g| e.role(g.role()))
                            .is_some_and(|r| r.personal_to().is_none())
                    })
                })
                .map(|(id, _)| id)
                .collect();
            pick(&holders, i).map_or(Actor::System, Actor::User)
        }
    }

    fn actor_org(&self, actor: Actor) -> Option<OrgId> {
        match actor {
            Actor::User(u) => self.engine.user(u).map(accord::User::org),
            Actor::System => None,
        }
    }

    fn org(&self, actor: Actor, i: Ix) -> OrgId {
        if wild(i) {
            let mut all: Vec<OrgId> = self.seen.orgs.iter().copied().collect();
            all.push(OrgId::new(UNKNOWN).unwrap());
            return pick(&all, i).unwrap();
        }
        if let Some(org) = self.actor_org(actor) {
            return org;
        }
        let live: Vec<OrgId> = self.engine.orgs().map(|(o, _)| o).collect();
        pick(&live, i).unwrap_or(OrgId::new(UNKNOWN).unwrap())
    }

    fn user(&self, i: Ix) -> UserId {
        let list: Vec<UserId> = if wild(i) {
            let mut all: Vec<UserId> =
                self.seen.users.iter().copied().collect();
            all.push(UserId::new(UNKNOWN).unwrap());
            all
        } else {
            self.engine.users().map(|(u, _)| u).collect()
        };
        pick(&list, i).unwrap_or(UserId::new(UNKNOWN).unwrap())
    }

    /// Any object, or a live data object satisfying `filter`.
    fn object(&self, i: Ix, filter: impl Fn(ObjectId) -> bool) -> ObjectId {
        let list: Vec<ObjectId> = if wild(i) {
            let mut all: Vec<ObjectId> =
                self.seen.objects.iter().copied().collect();
            all.push(ObjectId::new(UNKNOWN).unwrap());
            all
        } else {
            self.engine
                .objects()
                .filter(|(id, o)| o.kind() == ObjectKind::Data && filter(*id))
                .map(|(id, _)| id)
                .collect()
        };
        pick(&list, i).unwrap_or(ObjectId::new(UNKNOWN).unwrap())
    }

    /// Any role, or a live role (of the actor's organization for a user
    /// actor) satisfying `filter`.
    fn role(
        &self,
        actor: Actor,
        i: Ix,
        filter: impl Fn(&accord::Role) -> bool,
    ) -> RoleId {
        let list: Vec<RoleId> = if wild(i) {
            let mut all: Vec<RoleId> =
                self.seen.roles.iter().copied().collect();
            all.push(RoleId::new(UNKNOWN).unwrap());
            all
        } else {
            let mine = self.actor_org(actor);
            self.engine
                .roles()
                .filter(|(_, r)| {
                    mine.map_or(true, |o| o == r.org()) && filter(r)
                })
                .map(|(id, _)| id)
                .collect()
        };
        pick(&list, i).unwrap_or(RoleId::new(UNKNOWN).unwrap())
    }

    /// Any permission, or a live one satisfying `filter`.
    fn perm(
        &self,
        i: Ix,
        filter: impl Fn(&accord::Permission) -> bool,
    ) -> PermissionId {
        let list: Vec<PermissionId> = if wild(i) {
            let mut all: Vec<PermissionId> =
                self.seen.perms.iter().copied().collect();
            all.push(PermissionId::new(UNKNOWN).unwrap());
            all
        } else {
            self.engine
                .permissions()
                .filter(|(_, p)| filter(p))
                .map(|(id, _)| id)
                .collect()
        };
        pick(&list, i).unwrap_or(PermissionId::new(UNKNOWN).unwrap())
    }

    /// A type name: a data type, or (wild) any type or an unknown one.
    fn data_type_name(&self, i: Ix) -> String {
        let schema = self.engine.schema();
        let names: Vec<String> = schema
            .object_types()
            .filter(|t| wild(i) || !schema.type_def(*t).unwrap().is_policy())
            .map(|t| schema.type_name(t).unwrap().to_owned())
            .chain(wild(i).then(|| "nowhere".to_owned()))
            .collect();
        pick(&names, i).unwrap()
    }

    /// Any type name, or (wild) an unknown one.
    fn any_type_name(&self, i: Ix) -> String {
        let schema = self.engine.schema();
        let names: Vec<String> = schema
            .object_types()
            .map(|t| schema.type_name(t).unwrap().to_owned())
            .chain(wild(i).then(|| "nowhere".to_owned()))
            .collect();
        pick(&names, i).unwrap()
    }

    /// Any action name, or (wild) an unknown one.
    fn action_name(&self, i: Ix) -> String {
        let schema = self.engine.schema();
        let names: Vec<String> = schema
            .actions()
            .map(|a| schema.action_name(a).unwrap().to_owned())
            .chain(wild(i).then(|| "nothing".to_owned()))
            .collect();
        pick(&names, i).unwrap()
    }

    fn live_data(&self) -> Vec<ObjectId> {
        self.engine
            .objects()
            .filter(|(_, o)| o.kind() == ObjectKind::Data)
            .map(|(id, _)| id)
            .collect()
    }

    fn type_of(&self, object: ObjectId) -> Option<TypeId> {
        self.engine.object(object).map(accord::Object::object_type)
    }

    /// Turns an abstract step into a concrete op against the current state.
    pub fn resolve(&self, actor: Actor, step: &Step) -> Op {
        let e = &self.engine;
        match step {
            Step::CreateOrg { dup } => {
                let n = if *dup { 0 } else { self.fresh() };
                Op::CreateOrg { name: format!("Org {n}") }
            }
            Step::AcceptTerms { org } => {
                Op::AcceptTerms { org: self.org(actor, *org) }
            }
            Step::CreateUser { org, dup } => {
                let org = self.org(actor, *org);
                let email = if *dup {
                    "SETUP0@Org0.example".to_owned()
                } else {
                    format!("user{}@example.com", self.fresh())
                };
                Op::CreateUser { org, email }
            }
            Step::SetAdmin { user, admin } => {
                Op::SetPlatformAdmin { user: self.user(*user), admin: *admin }
            }
            Step::CreateObject { org, ty, parents } => {
                let object_type = self.data_type_name(*ty);
                let mut ps = Vec::new();
                for i in parents {
                    if !wild(*i) && self.live_data().is_empty() {
                        break;
                    }
                    let p = self.object(*i, |_| true);
                    // A wild pick may repeat a parent, which is refused.
                    if !ps.contains(&p) || wild(*i) {
                        ps.push(p);
                    }
                }
                // Objects usually belong to their first parent's owner.
                let parent_org = ps
                    .first()
                    .and_then(|p| e.object(*p))
                    .map(accord::Object::org)
                    .filter(|_| actor == Actor::System && org % 4 != 0);
                let org = parent_org.unwrap_or_else(|| self.org(actor, *org));
                let key = format!("obj{}", self.fresh());
                Op::CreateObject { org, object_type, key, parents: ps }
            }
            Step::Link { child, parent } => Op::LinkObject {
                child: self.object(*child, |_| true),
                parent: self.object(*parent, |_| true),
            },
            Step::Unlink { child, parent } => {
                let child = self.object(*child, |o| {
                    e.object(o).is_some_and(|o| !o.parents().is_empty())
                });
                let parent = if wild(*parent) {
                    self.object(*parent, |_| true)
                } else {
                    let ps = e.object(child).map(|o| o.parents().to_vec());
                    pick(&ps.unwrap_or_default(), *parent)
                        .unwrap_or(ObjectId::new(UNKNOWN).unwrap())
                };
                Op::UnlinkObject { child, parent }
            }
            Step::DeleteObject { object } => {
                Op::DeleteObject { object: self.object(*object, |_| true) }
            }
            Step::CreateRole { org, name, bound } => {
                let org = self.org(actor, *org);
                let name = if wild(*name) {
                    "Role 1".to_owned()
                } else {
                    format!("Role {}", self.fresh())
                };
                let required_bindings =
                    bound.iter().map(|t| self.data_type_name(*t)).collect();
                Op::CreateRole {
                    org,
                    name,
                    description: "a random role".to_owned(),
                    required_bindings,
                }
            }
            Step::CreatePermission { org, action, ty, all, objects } => {
                let org = self.org(actor, *org);
                let action = self.action_name(*action);
                let object_type = self.any_type_name(*ty);
                let ty = e.schema().object_type(&object_type);
                let mut list = Vec::new();
                if !*all {
                    for o in objects {
                        let o = if wild(*o) {
                            self.object(*o, |_| true)
                        } else {
                            let of_kind: Vec<ObjectId> = e
                                .objects()
                                .filter(|(_, r)| {
                                    Some(r.object_type()) == ty
                                        && r.org() == org
                                })
                                .map(|(id, _)| id)
                                .collect();
                            pick(&of_kind, *o)
                                .unwrap_or(ObjectId::new(UNKNOWN).unwrap())
                        };
                        if !list.contains(&o) {
                            list.push(o);
                        }
                    }
                }
                Op::CreatePermission {
                    org,
                    name: format!("Perm {}", self.fresh()),
                    action,
                    object_type,
                    applies_to_all: *all,
                    objects: list,
                }
            }
            Step::AddObject { perm, object } => {
                let mine = self.actor_org(actor);
                let permission = self.perm(*perm, |p| {
                    !p.applies_to_all() && mine.map_or(true, |o| o == p.org())
                });
                let p = e.permission(permission);
                let object = if wild(*object) {
                    self.object(*object, |_| true)
                } else {
                    let fits: Vec<ObjectId> = e
                        .objects()
                        .filter(|(id, r)| {
                            p.is_some_and(|p| {
                                p.object_type() == r.object_type()
                                    && p.org() == r.org()
                                    && !p.objects().any(|o| o == *id)
                            })
                        })
                        .map(|(id, _)| id)
                        .collect();
                    pick(&fits, *object)
                        .unwrap_or(ObjectId::new(UNKNOWN).unwrap())
                };
                Op::AddObjectToPermission { permission, object }
            }
            Step::RemoveObject { perm, object } => {
                let permission =
                    self.perm(*perm, |p| p.objects().next().is_some());
                let object = if wild(*object) {
                    self.object(*object, |_| true)
                } else {
                    let listed: Vec<ObjectId> = e
                        .permission(permission)
                        .map(|p| p.objects().collect())
                        .unwrap_or_default();
                    pick(&listed, *object)
                        .unwrap_or(ObjectId::new(UNKNOWN).unwrap())
                };
                Op::RemoveObjectFromPermission { permission, object }
            }
            Step::AddPermission { role, perm } => {
                let role = self.role(actor, *role, |_| true);
                let org = e.role(role).map(accord::Role::org);
                let permission = self.perm(*perm, |p| {
                    Some(p.org()) == org && !p.roles().any(|r| r == role)
                });
                Op::AddPermissionToRole { role, permission }
            }
            Step::RemovePermission { role, perm } => {
                let role = self
                    .role(actor, *role, |r| r.permissions().next().is_some());
                let permission = if wild(*perm) {
                    self.perm(*perm, |_| true)
                } else {
                    let held: Vec<PermissionId> = e
                        .role(role)
                        .map(|r| r.permissions().collect())
                        .unwrap_or_default();
                    pick(&held, *perm)
                        .unwrap_or(PermissionId::new(UNKNOWN).unwrap())
                };
                Op::RemovePermissionFromRole { role, permission }
            }
            Step::Grant { user, role, bindings } => {
                let user = self.user(*user);
                let role = self.role(actor, *role, |_| true);
                let required: Vec<TypeId> = e
                    .role(role)
                    .map(|r| r.required_bindings().to_vec())
                    .unwrap_or_default();
                let mut list = Vec::new();
                for (k, b) in bindings.iter().enumerate() {
                    if !wild(*b) && self.live_data().is_empty() {
                        break;
                    }
                    let want = required.get(k).copied();
                    let b = self.object(*b, |o| {
                        want.is_none() || self.type_of(o) == want
                    });
                    if !list.contains(&b) {
                        list.push(b);
                    }
                }
                Op::GrantRole { user, role, bindings: list }
            }
            Step::Revoke { user, role } => {
                if wild(*user) {
                    Op::RevokeRole {
                        user: self.user(*user),
                        role: self.role(actor, *role, |_| true),
                    }
                } else {
                    let mine = self.actor_org(actor);
                    let grants: Vec<(UserId, RoleId)> = e
                        .grants()
                        .filter(|(_, g)| {
                            mine.map_or(true, |o| {
                                e.role(g.role()).is_some_and(|r| r.org() == o)
                            })
                        })
                        .map(|(_, g)| (g.user(), g.role()))
                        .collect();
                    let (user, role) = pick(&grants, *role).unwrap_or((
                        UserId::new(UNKNOWN).unwrap(),
                        RoleId::new(UNKNOWN).unwrap(),
                    ));
                    Op::RevokeRole { user, role }
                }
            }
            Step::DeleteRole { role } => {
                Op::DeleteRole { role: self.role(actor, *role, |_| true) }
            }
            Step::DeletePermission { perm } => {
                let mine = self.actor_org(actor);
                Op::DeletePermission {
                    permission: self
                        .perm(*perm, |p| mine.map_or(true, |o| o == p.org())),
                }
            }
            Step::DeleteUser { user } => {
                Op::DeleteUser { user: self.user(*user) }
            }
            Step::DeleteOrg { org } => {
                Op::DeleteOrg { org: self.org(actor, *org) }
            }
            Step::Transfer { root, to } => {
                let mine = self.actor_org(actor);
                let owned = |o: ObjectId| {
                    mine.map_or(true, |m| {
                        e.object(o).is_some_and(|r| r.org() == m)
                    })
                };
                // Every other time, a root nested with a pending one.
                let pending: Vec<ObjectId> = e
                    .objects()
                    .map(|(id, _)| id)
                    .filter(|id| e.pending_transfer(*id).is_some())
                    .collect();
                let nested: Vec<ObjectId> = self
                    .live_data()
                    .into_iter()
                    .filter(|o| {
                        !pending.contains(o)
                            && owned(*o)
                            && pending.iter().any(|p| {
                                at_or_under(e, *o, *p)
                                    || at_or_under(e, *p, *o)
                            })
                    })
                    .collect();
                let root = match pick(&nested, *root / 8) {
                    Some(o) if !wild(*root) && root % 2 == 0 => o,
                    _ => self.object(*root, owned),
                };
                let owner = e.object(root).map(accord::Object::org);
                let to = if wild(*to) {
                    self.org(actor, *to)
                } else {
                    let others: Vec<OrgId> = e
                        .orgs()
                        .map(|(id, _)| id)
                        .filter(|id| Some(*id) != owner)
                        .collect();
                    pick(&others, *to).unwrap_or(OrgId::new(UNKNOWN).unwrap())
                };
                Op::Transfer { root, to }
            }
            Step::RespondTransfer { root, accept } => {
                let root = if wild(*root) {
                    self.object(*root, |_| true)
                } else {
                    let pending: Vec<ObjectId> = e
                        .objects()
                        .filter(|(id, _)| e.pending_transfer(*id).is_some())
                        .map(|(id, _)| id)
                        .collect();
                    pick(&pending, *root)
                        .unwrap_or(ObjectId::new(UNKNOWN).unwrap())
                };
                Op::RespondTransfer { root, accept: *accept }
            }
            Step::RequestConnection { from, to } => {
                let from = self.org(actor, *from);
                let to = if wild(*to) {
                    self.org(actor, *to)
                } else {
                    let others: Vec<OrgId> = e
                        .orgs()
                        .map(|(id, _)| id)
                        .filter(|id| *id != from)
                        .collect();
                    pick(&others, *to).unwrap_or(OrgId::new(UNKNOWN).unwrap())
                };
                Op::RequestConnection { from, to }
            }
            Step::RespondConnection { pick: i, accept } => {
                let pending: Vec<(OrgId, OrgId)> = e
                    .connections()
                    .filter(|c| wild(*i) || !c.accepted)
                    .map(|c| (c.from, c.to))
                    .collect();
                let unknown = OrgId::new(UNKNOWN).unwrap();
                let (from, to) =
                    pick(&pending, *i).unwrap_or((unknown, unknown));
                Op::RespondConnection { from, to, accept: *accept }
            }
        }
    }

    /// Applies `op` as `actor`, through the typed mutator methods when
    /// `via_mutator` (checking that what they return is what they made),
    /// else through [`Engine::apply`]; then records the new handles.
    pub fn apply(
        &mut self,
        actor: Actor,
        op: Op,
        via_mutator: bool,
    ) -> Result<Revision, MutationError> {
        let at = self.tick();
        let result = if via_mutator {
            apply_via_mutator(&mut self.engine, actor, at, op)
        } else {
            self.engine.apply(actor, at, op)
        };
        self.seen.observe(&self.engine);
        result
    }
}

/// Applies `op` through the [`accord::Mutator`] method that builds it, and
/// checks the record each creating method returns.
fn apply_via_mutator(
    engine: &mut Engine,
    actor: Actor,
    at: Timestamp,
    op: Op,
) -> Result<Revision, MutationError> {
    let mut m = engine.act(actor, at);
    let rev = match &op {
        Op::CreateOrg { name } => {
            let r = m.create_org(name)?;
            let org = m.engine().org(r.value).expect("created org is live");
            assert_eq!(org.name(), name);
            r.revision
        }
        Op::DeleteOrg { org } => m.delete_org(*org)?.revision,
        Op::AcceptTerms { org } => m.accept_terms(*org)?.revision,
        Op::CreateUser { org, email } => {
            let r = m.create_user(*org, email)?;
            let user = m.engine().user(r.value).expect("created user is live");
            assert_eq!((user.org(), user.email()), (*org, email.as_str()));
            r.revision
        }
        Op::DeleteUser { user } => m.delete_user(*user)?.revision,
        Op::SetPlatformAdmin { user, admin } => {
            m.set_platform_admin(*user, *admin)?.revision
        }
        Op::CreateObject { org, object_type, key, parents } => {
            let r = m.create_object(*org, object_type, key, parents)?;
            let e = m.engine();
            let obj = e.object(r.value).expect("created object is live");
            assert_eq!(obj.org(), *org);
            assert_eq!(
                e.schema().type_name(obj.object_type()),
                Some(object_type.as_str())
            );
            assert_eq!(obj.key(), key.as_str());
            assert_eq!(obj.parents(), parents.as_slice());
            assert_eq!(obj.kind(), ObjectKind::Data);
            r.revision
        }
        Op::DeleteObject { object } => m.delete_object(*object)?.revision,
        Op::LinkObject { child, parent } => {
            m.link_object(*child, *parent)?.revision
        }
        Op::UnlinkObject { child, parent } => {
            m.unlink_object(*child, *parent)?.revision
        }
        Op::CreateRole { org, name, description, required_bindings } => {
            let types: Vec<&str> =
                required_bindings.iter().map(String::as_str).collect();
            let r = if types.is_empty() {
                m.create_role(*org, name, description)?
            } else {
                m.create_bound_role(*org, name, description, &types)?
            };
            let role = m.engine().role(r.value).expect("created role is live");
            assert_eq!(
                (role.org(), role.name()),
                (*org, name.as_str().into())
            );
            r.revision
        }
        Op::DeleteRole { role } => m.delete_role(*role)?.revision,
        Op::CreatePermission {
            org,
            name,
            action,
            object_type,
            applies_to_all,
            objects,
        } => {
            let r = match (*applies_to_all, objects.is_empty()) {
                (true, true) => {
                    m.create_permission_all(*org, name, action, object_type)?
                }
                (false, _) => m.create_permission_for(
                    *org,
                    name,
                    action,
                    object_type,
                    objects,
                )?,
                (true, false) => {
                    return engine.apply(actor, at, op.clone());
                }
            };
            let e = m.engine();
            let p = e.permission(r.value).expect("created permission is live");
            assert_eq!(p.org(), *org);
            assert_eq!(p.applies_to_all(), *applies_to_all);
            assert_eq!(
                e.schema().action_name(p.action()),
                Some(action.as_str())
            );
            assert_eq!(
                e.schema().type_name(p.object_type()),
                Some(object_type.as_str())
            );
            assert_eq!(p.objects().collect::<Vec<_>>(), *objects);
            r.revision
        }
        Op::DeletePermission { permission } => {
            m.delete_permission(*permission)?.revision
        }
        Op::AddObjectToPermission { permission, object } => {
            m.add_object_to_permission(*permission, *object)?.revision
        }
        Op::RemoveObjectFromPermission { permission, object } => {
            m.remove_object_from_permission(*permission, *object)?.revision
        }
        Op::AddPermissionToRole { role, permission } => {
            m.add_permission_to_role(*role, *permission)?.revision
        }
        Op::RemovePermissionFromRole { role, permission } => {
            m.remove_permission_from_role(*role, *permission)?.revision
        }
        Op::GrantRole { user, role, bindings } => {
            let r = m.grant_role(*user, *role, bindings)?;
            let g = m.engine().grant(r.value).expect("created grant is live");
            assert_eq!((g.user(), g.role()), (*user, *role));
            assert_eq!(g.bindings(), bindings.as_slice());
            r.revision
        }
        Op::RevokeRole { user, role } => m.revoke_role(*user, *role)?.revision,
        Op::Transfer { root, to } => m.transfer(*root, *to)?.revision,
        Op::RespondTransfer { root, accept } => {
            m.respond_transfer(*root, *accept)?.revision
        }
        Op::RequestConnection { from, to } => {
            m.request_connection(*from, *to)?.revision
        }
        Op::RespondConnection { from, to, accept } => {
            m.respond_connection(*from, *to, *accept)?.revision
        }
        _ => {
            return engine.apply(actor, at, op.clone());
        }
    };
    Ok(rev)
}
