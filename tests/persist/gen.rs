//! Decodes a byte string into a random policy, built only through the
//! public mutation API ([`Engine::apply`] with public [`Op`] values).
//!
//! Shared by the property tests of `tests/persist.rs` (which feed it
//! random byte vectors) and by the `ops` and `roundtrip` fuzz targets
//! (which include this file with `#[path]`), so both explore the same
//! space. Every byte string decodes to some sequence of attempts: bytes
//! pick an op, an actor (`System` most of the time, else an existing
//! user) and arguments, mostly among the records that exist. Any handle
//! may be picked where the API takes one: where it takes an object, the
//! objects standing for users, roles and permissions as well as data
//! objects; for every kind of handle, the odd deleted or never-created
//! one. Names, keys and e-mails are mostly plain, and now and then of
//! the forms the engine gives its own records, differing only in case,
//! or text that no name may be. Missing bytes read as zero. Most
//! attempts are applied, many are refused — both are logged, and both
//! must survive a save and load.

use accord::{
    presets, ActionId, Actor, Builder, Downstream, Engine, Grantee, Level,
    ObjectId, ObjectKind, Op, OrgId, PermissionId, RoleId, ShareId, ShareSpec,
    Subject, Timestamp, TokenId, UserId, MAX_NAME_LEN,
};

/// The most attempts decoded from one byte string.
pub const MAX_STEPS: usize = 64;

/// Which engine a byte string builds on, and which ops it may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Organizations, users, objects, roles, permissions and grants on the
    /// Arbiter preset: no share ever exists, so `check` is exactly the
    /// role path that `tests/properties/reference.rs` models.
    Roles,
    /// Everything but accounts (whose Argon2 hashing is slow), on a preset
    /// chosen by the first byte: shares, connections, transfers, public
    /// objects and tokens as well.
    Everything,
}

/// A cursor over the input; reads past its end yield zero.
struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos = self.pos.saturating_add(1);
        b
    }

    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
}

/// Picks one of `items`, or a never-created handle (`wild`) for 255.
fn pick<T: Clone>(items: &[T], b: u8, wild: Option<T>) -> Option<T> {
    if b == u8::MAX {
        if let Some(w) = wild {
            return Some(w);
        }
    }
    if items.is_empty() {
        return wild;
    }
    items.get(usize::from(b) % items.len()).cloned()
}

/// A name made by `plain` from the next byte; for 255 an odd one (the
/// byte after says which): of the forms the engine gives personal roles
/// and their permissions, `plain`'s in upper case, the longest a name
/// may be, or text that no name may be (empty, padded, with a control
/// character or a line break, one byte too long).
fn name(input: &mut Bytes<'_>, plain: impl Fn(u8) -> String) -> String {
    let b = input.byte();
    if b != u8::MAX {
        return plain(b);
    }
    let k = input.byte();
    match k % 10 {
        0 => String::new(),
        1 => format!(" padded {k}"),
        2 => format!("bell\u{7} {k}"),
        3 => format!("line\nbreak {k}"),
        4 => "x".repeat(MAX_NAME_LEN + usize::from(k % 2)),
        5 => format!("DEFAULT User role {}", k % 8),
        6 => format!("DEFAULT Read Self User {}", k % 8),
        7 => format!("DEFAULT Read User Role {}", k % 8),
        8 => format!("DEFAULT User role 0{}", k % 8),
        _ => plain(k).to_uppercase(),
    }
}

/// The handles of one kind that a picker chooses from.
struct Pool<T> {
    /// The live ones.
    live: Vec<T>,
    /// One more than the highest live handle (0 if none).
    slots: usize,
    /// The handle of a slot.
    make: fn(usize) -> Option<T>,
}

impl<T: Copy> Pool<T> {
    fn new(
        live: Vec<T>,
        index: fn(T) -> usize,
        make: fn(usize) -> Option<T>,
    ) -> Self {
        let slots = live.iter().map(|h| index(*h) + 1).max().unwrap_or(0);
        Pool { live, slots, make }
    }

    /// For 254, any handle up to one past the highest live one (the next
    /// byte says which): a live, a deleted or a never-created one. For
    /// 255 a never-created one far beyond (`wild`); else a live one.
    fn pick(
        &self,
        input: &mut Bytes<'_>,
        b: u8,
        wild: Option<T>,
    ) -> Option<T> {
        if b == u8::MAX - 1 {
            let n = usize::from(input.byte()) % (self.slots + 1);
            return (self.make)(n);
        }
        pick(&self.live, b, wild)
    }
}

/// The builder that `bytes` (its first byte) selects in `mode`.
#[must_use]
pub fn builder(mode: Mode, bytes: &[u8]) -> Builder {
    match (mode, bytes.first().copied().unwrap_or(0) % 4) {
        (Mode::Roles, _) | (Mode::Everything, 0) => presets::arbiter(),
        (Mode::Everything, 1) => presets::portfolio(),
        (Mode::Everything, 2) => presets::portfolio().configure(|c| {
            c.downstream = Downstream::Cascade;
            c.require_connection = false;
            c.require_share_acceptance = false;
        }),
        _ => presets::project_portal(),
    }
}

/// Builds an engine from `bytes`; see the module documentation.
#[must_use]
pub fn build(mode: Mode, bytes: &[u8]) -> Engine {
    build_checked(mode, bytes, |_| {})
}

/// [`build`], calling `after` on the engine after every attempt.
pub fn build_checked(
    mode: Mode,
    bytes: &[u8],
    mut after: impl FnMut(&Engine),
) -> Engine {
    let mut engine = match builder(mode, bytes).build() {
        Ok(e) => e,
        Err(e) => unreachable!("presets build: {e}"),
    };
    let mut input = Bytes { data: bytes.get(1..).unwrap_or_default(), pos: 0 };
    let mut t = 1_700_000_000_000_i64;
    for _ in 0..MAX_STEPS {
        if input.done() {
            break;
        }
        let actor_byte = input.byte();
        let actor = if actor_byte < 176 {
            Actor::System
        } else {
            let users: Vec<UserId> =
                engine.users().map(|(id, _)| id).collect();
            pick(&users, actor_byte, None).map_or(Actor::System, Actor::User)
        };
        let op = decode(&engine, mode, &mut input);
        t = t.saturating_add(1_000);
        // Refusals are part of the log too; their reasons do not matter.
        let _ = engine.apply(actor, Timestamp::from_unix_millis(t), op);
        after(&engine);
    }
    engine
}

/// The live handles of `engine`, for picking arguments.
struct Handles {
    orgs: Pool<OrgId>,
    users: Pool<UserId>,
    /// The data objects.
    data: Pool<ObjectId>,
    /// The objects standing for users, roles and permissions.
    policy: Vec<ObjectId>,
    roles: Pool<RoleId>,
    perms: Pool<PermissionId>,
    shares: Pool<ShareId>,
    tokens: Pool<TokenId>,
    data_types: Vec<String>,
    /// Every type, policy types included.
    types: Vec<String>,
    actions: Vec<String>,
}

impl Handles {
    fn of(engine: &Engine) -> Handles {
        let schema = engine.schema();
        let (data, policy): (Vec<_>, Vec<_>) = engine
            .objects()
            .map(|(id, o)| (id, o.kind()))
            .partition(|(_, k)| *k == ObjectKind::Data);
        let policy: Vec<ObjectId> =
            policy.into_iter().map(|(id, _)| id).collect();
        // Deleted and never-created objects are picked up to the highest
        // handle of either kind.
        let slots = engine.objects().map(|(id, _)| id.as_usize() + 1).max();
        let mut data = Pool::new(
            data.into_iter().map(|(id, _)| id).collect(),
            ObjectId::as_usize,
            |n| ObjectId::new(n).ok(),
        );
        data.slots = slots.unwrap_or(0);
        let type_names = |policy: bool| {
            schema
                .object_types()
                .filter(|t| {
                    policy
                        || schema.type_def(*t).is_some_and(|d| !d.is_policy())
                })
                .filter_map(|t| schema.type_name(t).map(str::to_owned))
                .collect()
        };
        Handles {
            orgs: Pool::new(
                engine.orgs().map(|(id, _)| id).collect(),
                OrgId::as_usize,
                |n| OrgId::new(n).ok(),
            ),
            users: Pool::new(
                engine.users().map(|(id, _)| id).collect(),
                UserId::as_usize,
                |n| UserId::new(n).ok(),
            ),
            data,
            policy,
            roles: Pool::new(
                engine.roles().map(|(id, _)| id).collect(),
                RoleId::as_usize,
                |n| RoleId::new(n).ok(),
            ),
            perms: Pool::new(
                engine.permissions().map(|(id, _)| id).collect(),
                PermissionId::as_usize,
                |n| PermissionId::new(n).ok(),
            ),
            shares: Pool::new(
                engine.shares().map(|(id, _)| id).collect(),
                ShareId::as_usize,
                |n| ShareId::new(n).ok(),
            ),
            tokens: Pool::new(
                engine
                    .users()
                    .flat_map(|(u, _)| engine.tokens_of(u))
                    .map(|(id, _)| id)
                    .collect(),
                TokenId::as_usize,
                |n| TokenId::new(n).ok(),
            ),
            data_types: type_names(false),
            types: type_names(true),
            actions: schema
                .actions()
                .filter_map(|a| schema.action_name(a).map(str::to_owned))
                .collect(),
        }
    }

    /// Any object handle: a data object most of the time; for 192 to 253
    /// (then the next byte says which) an object standing for a user,
    /// role or permission; for 254 and 255 a deleted or never-created
    /// one as [`Pool::pick`] does.
    fn object(&self, input: &mut Bytes<'_>) -> Option<ObjectId> {
        let b = input.byte();
        if (192..u8::MAX - 1).contains(&b) && !self.policy.is_empty() {
            return pick(&self.policy, input.byte(), None);
        }
        self.data.pick(input, b, wild_object())
    }

    /// For a byte below 128 one of `fitting` (the next byte says which),
    /// the objects the op is likely to accept, so that more attempts go
    /// through; else any object as [`Handles::object`] picks.
    fn object_in(
        &self,
        input: &mut Bytes<'_>,
        fitting: &[ObjectId],
    ) -> Option<ObjectId> {
        if input.byte() < 128 && !fitting.is_empty() {
            return pick(fitting, input.byte(), None);
        }
        self.object(input)
    }
}

fn wild_org() -> Option<OrgId> {
    OrgId::new(900).ok()
}
fn wild_user() -> Option<UserId> {
    UserId::new(900).ok()
}
fn wild_object() -> Option<ObjectId> {
    ObjectId::new(90_000).ok()
}
fn wild_role() -> Option<RoleId> {
    RoleId::new(9_000).ok()
}
fn wild_perm() -> Option<PermissionId> {
    PermissionId::new(90_000).ok()
}
fn wild_share() -> Option<ShareId> {
    ShareId::new(9_000).ok()
}

fn level(b: u8) -> Level {
    match b % 3 {
        0 => Level::None,
        1 => Level::Read,
        _ => Level::Full,
    }
}

fn spec(h: &Handles, input: &mut Bytes<'_>) -> ShareSpec {
    let b = input.byte();
    let mut s = match b % 4 {
        0 => ShareSpec::read_only(),
        1 => ShareSpec::full(),
        2 => ShareSpec::custom(),
        _ => ShareSpec::exchange_data(),
    };
    if b & 4 != 0 {
        if let Some(t) = pick(&h.data_types, input.byte(), None) {
            s = s.level(&t, level(input.byte()));
        }
    }
    if b & 8 != 0 {
        if let Some(o) = h.object(input) {
            s = s.object_level(o, level(input.byte()));
        }
    }
    if b & 16 != 0 {
        s = s.share_forward(true);
    }
    s
}

/// Decodes one op. Handles that cannot be picked (nothing exists yet)
/// become never-created ones, so the attempt is refused.
#[expect(clippy::too_many_lines, reason = "one arm per op")]
fn decode(engine: &Engine, mode: Mode, input: &mut Bytes<'_>) -> Op {
    let h = Handles::of(engine);
    let ops: u8 = match mode {
        Mode::Roles => 20,
        Mode::Everything => 32,
    };
    // One attempt in eight (the op byte from 224 up) builds: it creates
    // an organization, user, object, role or permission, fills a role,
    // grants one, or (everything mode) shares, connects or issues a
    // token. Without these, most attempts would find nothing to act on.
    let builds: &[u8] = match mode {
        Mode::Roles => &[0, 1, 2, 4, 5, 9, 11, 16, 18],
        Mode::Everything => &[0, 1, 2, 4, 5, 9, 11, 16, 18, 20, 26, 29],
    };
    let b = input.byte();
    let code = match b {
        224.. => pick(builds, b, None).unwrap_or(0),
        _ => b % ops,
    };
    let org = |input: &mut Bytes<'_>| {
        let b = input.byte();
        h.orgs.pick(input, b, wild_org()).unwrap_or(OrgId::MAX)
    };
    let user = |input: &mut Bytes<'_>| {
        let b = input.byte();
        h.users.pick(input, b, wild_user()).unwrap_or(UserId::MAX)
    };
    let object =
        |input: &mut Bytes<'_>| h.object(input).unwrap_or(ObjectId::MAX);
    // Up to two objects; none while there is no data object, so that
    // the first objects are created at all.
    let objects = |input: &mut Bytes<'_>| {
        let n = input.byte() % 3;
        let n = if h.data.live.is_empty() { 0 } else { n };
        (0..n).filter_map(|_| h.object(input)).collect::<Vec<_>>()
    };
    let role = |input: &mut Bytes<'_>| {
        let b = input.byte();
        h.roles.pick(input, b, wild_role()).unwrap_or(RoleId::MAX)
    };
    let perm = |input: &mut Bytes<'_>| {
        let b = input.byte();
        h.perms.pick(input, b, wild_perm()).unwrap_or(PermissionId::MAX)
    };
    let share = |input: &mut Bytes<'_>| {
        let b = input.byte();
        h.shares.pick(input, b, wild_share()).unwrap_or(ShareId::MAX)
    };
    let data_type = |input: &mut Bytes<'_>| {
        let b = input.byte();
        if b == u8::MAX {
            return "users".to_owned();
        }
        pick(&h.data_types, b, None).unwrap_or_default()
    };
    match code {
        0 => Op::CreateOrg { name: name(input, |b| format!("Org {}", b % 6)) },
        1 => Op::AcceptTerms { org: org(input) },
        2 => Op::CreateUser {
            org: org(input),
            email: name(input, |b| format!("u{}@x.example", b % 24)),
        },
        3 => Op::DeleteUser { user: user(input) },
        4 | 5 => Op::CreateObject {
            org: org(input),
            object_type: data_type(input),
            key: name(input, |b| format!("k{}", b % 48)),
            parents: objects(input),
        },
        6 => Op::DeleteObject { object: object(input) },
        7 => Op::LinkObject { child: object(input), parent: object(input) },
        8 => {
            let child = object(input);
            let parents = engine
                .object(child)
                .map(|o| o.parents().to_vec())
                .unwrap_or_default();
            let parent = pick(&parents, input.byte(), wild_object())
                .unwrap_or(ObjectId::MAX);
            Op::UnlinkObject { child, parent }
        }
        9 => Op::CreateRole {
            org: org(input),
            name: name(input, |b| format!("Role {}", b % 8)),
            description: String::new(),
            required_bindings: if input.byte() % 4 == 0 {
                vec![data_type(input)]
            } else {
                Vec::new()
            },
        },
        10 => Op::DeleteRole { role: role(input) },
        11 | 12 => {
            let b = input.byte();
            Op::CreatePermission {
                org: org(input),
                name: name(input, |k| format!("Perm {}", k ^ b)),
                action: pick(&h.actions, input.byte(), None)
                    .unwrap_or_default(),
                // Policy types too: permissions on users, roles and
                // permissions list the objects standing for them.
                object_type: if b & 4 == 0 {
                    data_type(input)
                } else {
                    pick(&h.types, input.byte(), None).unwrap_or_default()
                },
                applies_to_all: b % 2 == 0,
                objects: if b % 2 == 0 { Vec::new() } else { objects(input) },
            }
        }
        13 => Op::DeletePermission { permission: perm(input) },
        14 => {
            let permission = perm(input);
            let fitting: Vec<ObjectId> = engine
                .permission(permission)
                .map(|p| {
                    engine.objects_of_type(p.org(), p.object_type()).collect()
                })
                .unwrap_or_default();
            let object = h.object_in(input, &fitting).unwrap_or(ObjectId::MAX);
            Op::AddObjectToPermission { permission, object }
        }
        15 => {
            let permission = perm(input);
            let fitting: Vec<ObjectId> = engine
                .permission(permission)
                .map(|p| p.objects().collect())
                .unwrap_or_default();
            let object = h.object_in(input, &fitting).unwrap_or(ObjectId::MAX);
            Op::RemoveObjectFromPermission { permission, object }
        }
        16 | 17 => Op::AddPermissionToRole {
            role: role(input),
            permission: perm(input),
        },
        18 => {
            let user = user(input);
            let role = role(input);
            if input.byte() % 8 == 0 {
                Op::RevokeRole { user, role }
            } else {
                // Bindings of the types the role requires, mostly.
                let fitting: Vec<ObjectId> = engine
                    .role(role)
                    .map(|r| {
                        r.required_bindings()
                            .iter()
                            .flat_map(|t| engine.objects_of_type(r.org(), *t))
                            .collect()
                    })
                    .unwrap_or_default();
                let n = input.byte() % 3;
                let bindings = (0..n)
                    .filter_map(|_| h.object_in(input, &fitting))
                    .collect();
                Op::GrantRole { user, role, bindings }
            }
        }
        19 => match input.byte() % 4 {
            0 => Op::DeleteOrg { org: org(input) },
            1 => Op::RemovePermissionFromRole {
                role: role(input),
                permission: perm(input),
            },
            2 => Op::SetPlatformAdmin {
                user: user(input),
                admin: input.byte() % 2 == 0,
            },
            _ => Op::Transfer { root: object(input), to: org(input) },
        },
        // Mode::Everything only from here on.
        20..=22 => {
            let b = input.byte();
            let grantee = match b % 4 {
                0 => Grantee::Org(org(input)),
                1 => Grantee::Public,
                _ => Grantee::User(user(input)),
            };
            Op::Share { root: object(input), grantee, spec: spec(&h, input) }
        }
        23 => Op::Unshare { share: share(input) },
        24 => Op::AcceptShare { share: share(input) },
        25 => Op::RejectShare { share: share(input) },
        26 => {
            let b = input.byte();
            let requested: Vec<(OrgId, OrgId)> = engine
                .connections()
                .filter(|c| !c.accepted)
                .map(|c| (c.from, c.to))
                .collect();
            let (from, to) = match pick(&requested, input.byte(), None) {
                Some(pair) if b & 2 == 0 => pair,
                _ => (org(input), org(input)),
            };
            if b % 4 == 0 {
                Op::RequestConnection { from, to }
            } else {
                Op::RespondConnection { from, to, accept: b % 8 != 1 }
            }
        }
        27 => {
            let pending: Vec<ObjectId> = engine
                .objects()
                .map(|(id, _)| id)
                .filter(|id| engine.pending_transfer(*id).is_some())
                .collect();
            Op::RespondTransfer {
                root: h.object_in(input, &pending).unwrap_or(ObjectId::MAX),
                accept: input.byte() % 4 != 0,
            }
        }
        28 => Op::SetPublic {
            root: object(input),
            public: input.byte() % 2 == 0,
        },
        29 => Op::IssueToken {
            user: user(input),
            scope: if input.byte() % 2 == 0 {
                None
            } else {
                Some(object(input))
            },
            label: name(input, |_| "token".to_owned()),
            expires: match input.byte() {
                0..=191 => None,
                b => Some(Timestamp::from_unix_millis(match b % 4 {
                    0 => i64::MIN,
                    1 => i64::MAX,
                    2 => 0,
                    _ => 1_700_000_000_000,
                })),
            },
            hash: format!("{:064x}", input.byte()),
        },
        30 => Op::ShareByEmail {
            root: object(input),
            email: name(input, |b| format!("u{}@x.example", b % 24)),
            spec: spec(&h, input),
        },
        _ => {
            let b = input.byte();
            Op::RevokeToken {
                token: h
                    .tokens
                    .pick(input, b, TokenId::new(9_000).ok())
                    .unwrap_or(TokenId::MAX),
            }
        }
    }
}

/// Every subject worth asking about: each user handle ever created plus
/// one never created, and `Anonymous`.
#[must_use]
pub fn subjects(engine: &Engine) -> Vec<Subject> {
    let users = engine.users().map(|(id, _)| id.as_usize()).max();
    let n = users.map_or(0, |m| m + 1);
    let mut out: Vec<Subject> = (0..=n)
        .filter_map(|i| UserId::new(i).ok())
        .map(Subject::User)
        .collect();
    out.push(Subject::Anonymous);
    out
}

/// Every object handle ever created, plus one never created.
#[must_use]
pub fn objects(engine: &Engine) -> Vec<ObjectId> {
    let n = engine
        .objects()
        .map(|(id, _)| id.as_usize())
        .max()
        .map_or(0, |m| m + 1);
    (0..=n).filter_map(|i| ObjectId::new(i).ok()).collect()
}

/// Every action of the schema.
#[must_use]
pub fn actions(engine: &Engine) -> Vec<ActionId> {
    engine.schema().actions().collect()
}

/// Every decision of `engine` over subjects × actions × objects of
/// `like` (so that two engines can be compared on the same questions).
#[must_use]
pub fn decisions(engine: &Engine, like: &Engine) -> Vec<bool> {
    let mut out = Vec::new();
    for s in subjects(like) {
        for a in actions(like) {
            for o in objects(like) {
                out.push(engine.check(s, a, o).is_allow());
            }
        }
    }
    out
}
