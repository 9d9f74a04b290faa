//! Decodes a byte string into a random policy, built only through the
//! public mutation API ([`Engine::apply`] with public [`Op`] values).
//!
//! Shared by the property tests of `tests/persist.rs` (which feed it
//! random byte vectors) and by the `ops` and `roundtrip` fuzz targets
//! (which include this file with `#[path]`), so both explore the same
//! space. Every byte string decodes to some sequence of attempts: bytes
//! pick an op, an actor (`System` most of the time, else an existing
//! user) and arguments among the records that exist, with the odd
//! never-created handle; missing bytes read as zero. Most attempts are
//! applied, many are refused — both are logged, and both must survive a
//! save and load.

use accord::{
    presets, ActionId, Actor, Builder, Downstream, Engine, Grantee, Level,
    ObjectId, ObjectKind, Op, OrgId, PermissionId, RoleId, ShareId, ShareSpec,
    Subject, Timestamp, UserId,
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
    orgs: Vec<OrgId>,
    users: Vec<UserId>,
    data: Vec<ObjectId>,
    roles: Vec<RoleId>,
    perms: Vec<PermissionId>,
    shares: Vec<ShareId>,
    data_types: Vec<String>,
    actions: Vec<String>,
}

impl Handles {
    fn of(engine: &Engine) -> Handles {
        let schema = engine.schema();
        Handles {
            orgs: engine.orgs().map(|(id, _)| id).collect(),
            users: engine.users().map(|(id, _)| id).collect(),
            data: engine
                .objects()
                .filter(|(_, o)| o.kind() == ObjectKind::Data)
                .map(|(id, _)| id)
                .collect(),
            roles: engine.roles().map(|(id, _)| id).collect(),
            perms: engine.permissions().map(|(id, _)| id).collect(),
            shares: engine.shares().map(|(id, _)| id).collect(),
            data_types: schema
                .object_types()
                .filter(|t| {
                    schema.type_def(*t).is_some_and(|d| !d.is_policy())
                })
                .filter_map(|t| schema.type_name(t).map(str::to_owned))
                .collect(),
            actions: schema
                .actions()
                .filter_map(|a| schema.action_name(a).map(str::to_owned))
                .collect(),
        }
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
        if let Some(o) = pick(&h.data, input.byte(), wild_object()) {
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
        Mode::Everything => 31,
    };
    let code = input.byte() % ops;
    let org = |input: &mut Bytes<'_>| {
        pick(&h.orgs, input.byte(), wild_org()).unwrap_or(OrgId::MAX)
    };
    let user = |input: &mut Bytes<'_>| {
        pick(&h.users, input.byte(), wild_user()).unwrap_or(UserId::MAX)
    };
    let object = |input: &mut Bytes<'_>| {
        pick(&h.data, input.byte(), wild_object()).unwrap_or(ObjectId::MAX)
    };
    let objects = |input: &mut Bytes<'_>| {
        let n = input.byte() % 3;
        (0..n)
            .filter_map(|_| pick(&h.data, input.byte(), wild_object()))
            .collect::<Vec<_>>()
    };
    let role = |input: &mut Bytes<'_>| {
        pick(&h.roles, input.byte(), wild_role()).unwrap_or(RoleId::MAX)
    };
    let perm = |input: &mut Bytes<'_>| {
        pick(&h.perms, input.byte(), wild_perm()).unwrap_or(PermissionId::MAX)
    };
    let share = |input: &mut Bytes<'_>| {
        pick(&h.shares, input.byte(), wild_share()).unwrap_or(ShareId::MAX)
    };
    let data_type = |input: &mut Bytes<'_>| {
        let b = input.byte();
        if b == u8::MAX {
            return "users".to_owned();
        }
        pick(&h.data_types, b, None).unwrap_or_default()
    };
    match code {
        0 => Op::CreateOrg { name: format!("Org {}", input.byte() % 6) },
        1 => Op::AcceptTerms { org: org(input) },
        2 => Op::CreateUser {
            org: org(input),
            email: format!("u{}@x.example", input.byte() % 24),
        },
        3 => Op::DeleteUser { user: user(input) },
        4 | 5 => Op::CreateObject {
            org: org(input),
            object_type: data_type(input),
            key: format!("k{}", input.byte() % 48),
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
            name: format!("Role {}", input.byte() % 8),
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
                name: format!("Perm {b}"),
                action: pick(&h.actions, input.byte(), None)
                    .unwrap_or_default(),
                object_type: data_type(input),
                applies_to_all: b % 2 == 0,
                objects: if b % 2 == 0 { Vec::new() } else { objects(input) },
            }
        }
        13 => Op::DeletePermission { permission: perm(input) },
        14 => Op::AddObjectToPermission {
            permission: perm(input),
            object: object(input),
        },
        15 => Op::RemoveObjectFromPermission {
            permission: perm(input),
            object: object(input),
        },
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
                Op::GrantRole { user, role, bindings: objects(input) }
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
            let (from, to) = (org(input), org(input));
            if input.byte() % 2 == 0 {
                Op::RequestConnection { from, to }
            } else {
                Op::RespondConnection { from, to, accept: true }
            }
        }
        27 => Op::RespondTransfer {
            root: object(input),
            accept: input.byte() % 4 != 0,
        },
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
            label: "token".to_owned(),
            expires: None,
            hash: format!("{:064x}", input.byte()),
        },
        _ => Op::ShareByEmail {
            root: object(input),
            email: format!("u{}@x.example", input.byte() % 24),
            spec: spec(&h, input),
        },
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
