//! Criterion benchmarks of `accord` on two synthetic multi-tenant
//! workloads: one modelled on the Solar Forecast Arbiter
//! ([`accord::presets::arbiter`]: roles and permissions) and one on
//! Portfolio Manager ([`accord::presets::portfolio`]: shares and
//! share-forward chains).
//!
//! # Workload
//!
//! A deterministic generator (seeded SplitMix64, in
//! `benches/common/arbiter.rs`, shared with the peer crate) creates
//! `N` organizations, each with:
//!
//! * 50 users;
//! * 50 objects of each of the six data types; observations, forecasts and
//!   probabilistic forecasts have a site of their organization as parent;
//! * the six default roles, plus 6 custom roles of 2 permissions each:
//!   half of the 12 custom permissions apply to all objects of their type,
//!   half list 1 to 8 objects of the organization explicitly;
//! * grants: every user holds one default role (round-robin), every second
//!   user one custom role of their organization, and every tenth user one
//!   custom role of another organization (custom roles hold only data
//!   permissions, so granting them outside is allowed).
//!
//! The queries are a fixed vector of 4,096 `(user, action, object)`
//! triples: 70% on an object of the user's own organization, 30% on an
//! object of another one (the organization of the user's external role if
//! the user holds one, otherwise a random other organization); actions are
//! drawn from `read`, `read_values`, `write_values`, `update` and `delete`.
//! The expected decisions are computed once with [`Engine::check`] before
//! timing and compared inside the timed loop.
//!
//! # Sharing workload
//!
//! A second generator builds a Portfolio Manager policy
//! ([`accord::presets::portfolio`]) of `N` accounts (organizations), each
//! with 4 users (the first two hold the Property Data Administrator role)
//! and 5 properties of 1 to 20 meters each (70% energy, 30% water). Each
//! account requests (and gets) up to 3 connections to random other
//! accounts. 60% of the properties are shared by their owner with 1 or 2
//! users or accounts (25% accounts) of connected accounts, with a random
//! kind (Read Only, Full Access, Custom or Exchange Data, the last two
//! with random levels per type and random share-forward); every share is
//! accepted. A share that carries share-forward continues (75% of the
//! time) into a chain: its holder re-shares the property to a user of an
//! account connected to theirs, at levels no higher than their own, up to
//! a depth of 5 shares from the owner.
//!
//! Its query stream (again 4,096 triples, expected decisions precomputed)
//! is 35% on a property or meter of the user's own account, 35% on one
//! reached by a share (the share's grantee user, or a member of the
//! grantee account) and 30% on one of a random other account; 30% of the
//! queries name a property, 70% one of its meters, with an action drawn
//! from those that make sense on that type.
//!
//! # Benchmarks
//!
//! Every `check`, `explain`, `allowed_actions` and `objects_for`
//! benchmark answers one query (one call) per iteration, so criterion's
//! time per iteration is the time per query; a `mutate` iteration is one
//! whole cycle, a `load` or `build` iteration one whole load or build.
//!
//! * `check/arbiter/<orgs>`: [`Engine::check`] over the query vector.
//! * `check/baseline_hashmap/<orgs>`: the same query stream answered by a
//!   precomputed `HashMap<(user, object), action mask>` holding only the
//!   query pairs, with a multiplicative hasher like the engine's: a lower
//!   bound for any index probed by a hash of the pair. Its table (4,096
//!   entries) stays in cache whatever the number of organizations.
//! * `check/arbiter_hot/<orgs>` and `check/baseline_hashmap_hot/<orgs>`:
//!   the same, cycling over only the first 256 queries, so the engine's
//!   index entries they touch stay in cache too. The difference from the
//!   full stream is the cost of cache misses in a large policy.
//! * `check/portfolio/<orgs>` and `check/baseline_hashmap_portfolio/<orgs>`:
//!   the same pair on the sharing workload.
//! * `check_batch/{arbiter,portfolio}/<orgs>`: [`Engine::check_batch`]
//!   over windows of 64 queries of the stream, one window per iteration
//!   (so the time per query is the time per iteration divided by 64),
//!   every decision compared with the expected one.
//! * `explain/{arbiter,portfolio}/<orgs>`: [`Engine::explain`] over the
//!   query stream (its decision compared with the expected one).
//! * `allowed_actions/{arbiter,portfolio}/<orgs>`:
//!   [`Engine::allowed_actions`] of each query's (user, object) pair; the
//!   number of actions and whether the query's action is among them are
//!   compared with the baseline's mask.
//! * `objects_for/{arbiter,portfolio}/<orgs>`: the reverse query
//!   [`Engine::objects_for`]`(user, action, type)`, with the user, action
//!   and object type of each of the first 256 queries; the length of the
//!   answer is compared with one computed before timing.
//! * `subjects_for/{arbiter,portfolio}/<orgs>`: the other reverse query,
//!   [`Engine::subjects_for`]`(action, object)` (every user who may), with
//!   the action and object of each of the first 256 queries; the answer is
//!   compared with one computed before timing.
//! * `mutate/grant_revoke/<orgs>`: an organization administrator grants a
//!   custom role to a user and revokes it again (both in one iteration,
//!   so the policy returns to its start state).
//! * `mutate/list_unlist/<orgs>` (Arbiter): the same administrator (who
//!   also holds `Read all` for this benchmark, as listing an object needs
//!   `read` on it) adds an object to a custom permission's explicit list
//!   and removes it again.
//! * `mutate/share_accept_unshare/<orgs>` (Portfolio): a property's owner
//!   shares it (Custom) with a user of a connected account, the user
//!   accepts, and the owner removes the share.
//! * `mutate/forward_accept_unshare/<orgs>` (Portfolio): the same, done by
//!   the holder of share-forward at the end of the deepest chain, so the
//!   share is ceiling-checked against the holder's own levels.
//! * `load/arbiter_json/<orgs>`: [`Engine::from_json`] of the built
//!   workload's snapshot (the policy; its audit log was drained while
//!   building): parsing, validation and rebuilding the index. The loaded engine is checked once, before
//!   timing, to answer the query stream as the original.
//! * `build/arbiter/<orgs>`: generating the whole workload through the
//!   public mutation API (as `System`), timed without dropping the result.
//!   `load` and `build` take ten flat samples, since one iteration at
//!   1,000 organizations takes over a second. `build` is not run above
//!   1,000 organizations (see `benches/concurrency.rs` for the build time
//!   and memory at 10,000).
//!
//! The Arbiter generator drains the audit log ([`Engine::drain_events`])
//! after each organization, as an application that streams its log to
//! storage would, so the engine holds the policy only. Each mutation
//! benchmark runs on one engine (every cycle returns the policy to an
//! equivalent state, leaving tombstones since handles are never reused)
//! and drains the log outside the timed region whenever it has grown by
//! half a million events.
//!
//! Run with `cargo bench --bench check`; `cargo bench --bench check --
//! --test` runs every benchmark once as a smoke test, at 10 and 100
//! organizations only (the 1,000-organization setup alone takes seconds).
//! `ACCORD_SIZES=10,10000` runs the sizes listed instead (10,000 needs
//! about 8 GB of memory and ten minutes); the Arbiter full-table baseline
//! is built up to 1,000 organizations, or at every size with
//! `ACCORD_FULL_BASELINE=1`. Every size is set up even when a filter
//! selects only some benchmarks.

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::hash::{BuildHasherDefault, Hasher};
use std::hint::black_box;
use std::time::{Duration, Instant};

use accord::{
    presets, ActionId, Actor, Decision, Engine, Grantee, Level, ObjectId,
    OrgId, PermissionId, RoleId, Share, ShareId, ShareKind, ShareSpec,
    Subject, Timestamp, TypeId, UserId,
};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Organization counts benchmarked (unless `ACCORD_SIZES` says otherwise).
const SIZES: [usize; 3] = [10, 100, 1000];
/// Largest size whose `build` bench is run (building 10,000 organizations
/// takes tens of seconds per sample; it is timed once, with its memory, by
/// the scale report of `benches/concurrency.rs`).
const BUILD_MAX_ORGS: usize = 1000;
/// Largest size whose full-table baselines are built, unless
/// `ACCORD_FULL_BASELINE=1`: at 10,000 organizations the Arbiter table
/// holds over 100 million pairs (several GB, minutes to build).
const FULL_BASELINE_MAX_ORGS: usize = 1000;

/// Whether to build the full-table baselines at `n` organizations.
fn full_baseline_at(n: usize) -> bool {
    n <= FULL_BASELINE_MAX_ORGS
        || std::env::var("ACCORD_FULL_BASELINE").is_ok_and(|v| v == "1")
}
/// Largest size run by `cargo bench -- --test`.
const SMOKE_MAX_ORGS: usize = 100;
/// Prefix of the stream cycled by the `_hot` scenarios: few enough
/// queries that everything they touch stays in cache.
const HOT_QUERIES: usize = 256;
/// Index in [`arbiter::DEFAULT_ROLES`] of the administrator role.
const ADMIN_ROLE: usize = 5;

#[path = "common/arbiter.rs"]
mod arbiter;

use arbiter::{Rng, QUERIES, SEED};

/// The built Arbiter workload.
type Workload = arbiter::Generated;

/// Builds the Arbiter workload of `n` organizations, deterministically
/// ([`arbiter::generate`]).
fn build_workload(n: usize) -> Result<Workload> {
    arbiter::generate(n)
}

/// One query with everything both implementations need, and the answer.
#[derive(Clone, Copy, Debug)]
struct Query {
    subject: Subject,
    action: ActionId,
    object: ObjectId,
    /// `(user << 32) | object`, the baseline's key.
    key: u64,
    /// `1 << action`, the baseline's mask bit.
    bit: u64,
    expected: Decision,
}

/// The fixed query stream ([`arbiter::stream`]) with its expected
/// decisions.
fn make_queries(w: &Workload) -> Result<Box<[Query; QUERIES]>> {
    let mut out = Vec::with_capacity(QUERIES);
    for q in arbiter::stream(w)? {
        let subject = Subject::User(q.user);
        out.push(Query {
            subject,
            action: q.action,
            object: q.object,
            key: pair_key(q.user, q.object),
            bit: 1 << q.action.as_u32(),
            expected: w.engine.check(subject, q.action, q.object),
        });
    }
    out.into_boxed_slice()
        .try_into()
        .map_err(|_| "query vector has the wrong length".into())
}

/// The baseline's key of a (user, object) pair.
fn pair_key(user: UserId, object: ObjectId) -> u64 {
    (u64::from(user.as_u32()) << 32) | u64::from(object.as_u32())
}

/// A multiplicative hasher for `u64` keys, the same kind as the engine's
/// internal one: one multiply by an odd constant, then a fold of the high
/// half into the low half (hashbrown takes the bucket from the low bits).
#[derive(Clone, Copy, Debug, Default)]
struct MulHasher(u64);

impl Hasher for MulHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type Baseline = HashMap<u64, u64, BuildHasherDefault<MulHasher>>;

/// The baseline table: the action mask of every queried pair, from
/// [`Engine::allowed_actions`].
fn make_baseline(engine: &Engine, queries: &[Query]) -> Baseline {
    let mut map = Baseline::default();
    for q in queries {
        let set = engine.allowed_actions(q.subject, q.object);
        let mask = set.iter().fold(0u64, |m, a| m | 1 << a.as_u32());
        map.insert(q.key, mask);
    }
    map
}

/// The full precomputed table, at the size of the policy: the action mask
/// of every (user, object) pair where the user may do anything, built from
/// the engine's reverse query [`Engine::objects_for`] for every user, type
/// and action. This is what a "precompute everything" design would hold;
/// unlike the query-pair table it does not fit in cache at large sizes.
fn make_full_baseline(engine: &Engine) -> Baseline {
    let types: Vec<TypeId> = engine.schema().object_types().collect();
    let actions: Vec<ActionId> = engine.schema().actions().collect();
    let users: Vec<UserId> = engine.users().map(|(u, _)| u).collect();
    let mut map = Baseline::default();
    for u in users {
        for t in &types {
            for a in &actions {
                for o in engine.objects_for(Subject::User(u), *a, *t) {
                    *map.entry(pair_key(u, o)).or_insert(0) |= 1 << a.as_u32();
                }
            }
        }
    }
    map
}

/// Counts the queries whose baseline answer differs from the expected one.
fn baseline_mismatches(map: &Baseline, queries: &[Query]) -> usize {
    queries
        .iter()
        .filter(|q| {
            let allow = map.get(&q.key).is_some_and(|m| m & q.bit != 0);
            allow != q.expected.is_allow()
        })
        .count()
}

/// The grant-and-revoke mutation: who does it, to whom, with which role.
struct GrantCase {
    admin: UserId,
    user: UserId,
    role: RoleId,
}

/// Picks the first organization's administrator and a (user, custom role)
/// pair of that organization that is not granted yet.
fn grant_case(w: &Workload) -> Result<GrantCase> {
    let org = w.orgs.first().ok_or("no organizations")?;
    let admin = *org.users.get(ADMIN_ROLE).ok_or("no administrator")?;
    for user in &org.users {
        let held: Vec<RoleId> = w
            .engine
            .user(*user)
            .ok_or("unknown user")?
            .grants()
            .filter_map(|g| w.engine.grant(g).map(accord::Grant::role))
            .collect();
        if let Some(role) = org.custom_roles.iter().find(|r| !held.contains(r))
        {
            return Ok(GrantCase { admin, user: *user, role: *role });
        }
    }
    Err("every user holds every custom role".into())
}

/// Grants and revokes once; whether both succeeded.
#[inline]
fn grant_revoke(engine: &mut Engine, case: &GrantCase) -> bool {
    let t = Timestamp::from_unix_millis(0);
    let mut adm = engine.act(Actor::User(case.admin), t);
    let granted = adm.grant_role(black_box(case.user), case.role, &[]);
    let revoked = adm.revoke_role(black_box(case.user), case.role);
    granted.is_ok() && revoked.is_ok()
}

/// Audit events allowed to pile up during a mutation bench before they are
/// drained (outside the timed region).
const MAX_LOG_GROWTH: usize = 1 << 19;
/// Mutation iterations timed between checks of the log size.
const MUTATION_CHUNK: u64 = 4096;

/// Prints what a workload contains, once per size.
fn describe(w: &Workload, queries: &[Query], map: &Baseline) {
    let allowed = queries.iter().filter(|q| q.expected.is_allow()).count();
    eprintln!(
        "workload {} orgs: {} users, {} objects, {} roles, {} grants, \
         {} audit events; {} queries ({} allowed, {} distinct pairs)",
        w.orgs.len(),
        w.engine.users().count(),
        w.engine.objects().count(),
        w.engine.roles().count(),
        w.engine.grants().count(),
        w.engine.events().len(),
        queries.len(),
        allowed,
        map.len(),
    );
}

/// Fails the benchmark run with a message.
fn fail(what: &str, e: &dyn std::fmt::Display) -> ! {
    eprintln!("error: {what}: {e}");
    std::process::exit(1)
}

// ----- the sharing workload (Portfolio Manager) -------------------------

/// Users per Portfolio Manager account.
const PF_USERS_PER_ORG: usize = 4;
/// Users per account holding the Property Data Administrator role.
const PF_ADMINS_PER_ORG: usize = 2;
/// Properties per account.
const PF_PROPERTIES_PER_ORG: usize = 5;
/// Most meters under one property (at least one).
const PF_MAX_METERS: usize = 20;
/// Percentage of meters that measure energy (the rest water).
const PF_ENERGY_PERCENT: usize = 70;
/// Connections each account requests to random other accounts
/// (duplicates are skipped).
const PF_CONNECTIONS_PER_ORG: usize = 3;
/// Percentage of properties their owner shares.
const PF_SHARED_PERCENT: usize = 60;
/// Most direct (owner) shares of one shared property.
const PF_MAX_DIRECT_SHARES: usize = 2;
/// Percentage of direct shares made to a whole account.
const PF_ORG_GRANTEE_PERCENT: usize = 25;
/// Longest share-forward chain, in shares from the owner.
const PF_MAX_DEPTH: usize = 5;
/// Percentage of chances a holder of share-forward shares forward.
const PF_FORWARD_PERCENT: usize = 75;
/// Query mix: own-account objects, shared objects, the rest elsewhere.
const PF_OWN_QUERY_PERCENT: usize = 35;
/// See [`PF_OWN_QUERY_PERCENT`].
const PF_SHARED_QUERY_PERCENT: usize = 35;
/// Percentage of queries on a property (the rest on one of its meters).
const PF_PROPERTY_QUERY_PERCENT: usize = 30;
/// The owner's role in the Portfolio Manager preset.
const PDA: &str = "Property Data Administrator";
/// Types whose levels a Custom or Exchange Data share sets: every data
/// type, since the ceiling of a forwarded share also covers types with no
/// object yet.
const PF_SHARED_TYPES: [&str; 5] =
    ["property", "energy_meter", "water_meter", "goal", "recognition"];
/// Share levels, lowest first.
const LEVELS: [Level; 3] = [Level::None, Level::Read, Level::Full];
/// Actions queried on a property.
const PF_PROPERTY_ACTIONS: [&str; 11] = [
    "read",
    "update",
    "view_metrics",
    "add_meter",
    "edit_meter",
    "delete_meter",
    "select_energy_meters",
    "select_water_meters",
    "grant",
    "delete",
    "transfer",
];
/// Actions queried on a meter.
const PF_METER_ACTIONS: [&str; 5] =
    ["read", "update", "add_bill", "delete", "grant"];

/// One account of the sharing workload.
struct PfOrg {
    id: OrgId,
    users: Vec<UserId>,
    /// Indices into [`Portfolio::properties`].
    properties: Vec<usize>,
    /// Indices of the connected accounts.
    neighbours: Vec<usize>,
}

/// One property and its meters.
struct PfProperty {
    id: ObjectId,
    org: usize,
    meters: Vec<ObjectId>,
}

/// One accepted share of the workload.
#[derive(Clone, Copy)]
struct PfShare {
    id: ShareId,
    /// Index into [`Portfolio::properties`].
    property: usize,
    grantee: Grantee,
    /// The grantee's account.
    org: usize,
    /// The member who accepted it (the grantee user, or a member of the
    /// grantee account), who also shares it forward.
    holder: UserId,
    /// Shares from the owner to this one, this one included.
    depth: usize,
    forward: bool,
}

/// The built sharing workload.
struct Portfolio {
    engine: Engine,
    orgs: Vec<PfOrg>,
    properties: Vec<PfProperty>,
    shares: Vec<PfShare>,
    /// Every user and the index of their account.
    users: Vec<(UserId, usize)>,
}

impl Portfolio {
    fn org(&self, i: usize) -> Result<&PfOrg> {
        self.orgs.get(i).ok_or_else(|| "account index".into())
    }

    fn property(&self, i: usize) -> Result<&PfProperty> {
        self.properties.get(i).ok_or_else(|| "property index".into())
    }
}

/// A random share spec of any kind, as an owner would grant it.
fn random_spec(rng: &mut Rng) -> Result<ShareSpec> {
    let roll = rng.below(100);
    if roll < 25 {
        return Ok(ShareSpec::read_only());
    }
    if roll < 45 {
        return Ok(ShareSpec::full());
    }
    let base = if roll < 85 {
        ShareSpec::custom()
    } else {
        ShareSpec::exchange_data()
    };
    let mut spec = base.share_forward(rng.below(2) == 0);
    for ty in PF_SHARED_TYPES {
        spec = spec.level(ty, *rng.pick(&LEVELS)?);
    }
    Ok(spec)
}

/// A random spec that stays within `held` (the holder's share), for
/// sharing forward: Full Access again (from a Full Access holder) or
/// Custom with levels at most the holder's.
fn forward_spec(
    rng: &mut Rng,
    held: &Share,
    types: &[(&str, TypeId)],
) -> Result<ShareSpec> {
    if held.kind() == ShareKind::Full && rng.below(100) < 30 {
        return Ok(ShareSpec::full());
    }
    let mut spec = ShareSpec::custom().share_forward(rng.below(100) < 70);
    for (name, ty) in types {
        let max = held.type_level(*ty);
        let allowed: Vec<Level> =
            LEVELS.iter().copied().filter(|l| *l <= max).collect();
        spec = spec.level(name, *rng.pick(&allowed)?);
    }
    Ok(spec)
}

/// Builds the sharing workload of `n` accounts, deterministically.
fn build_portfolio(n: usize) -> Result<Portfolio> {
    let mut engine = presets::portfolio().build()?;
    let mut rng = Rng(SEED.rotate_left(29) ^ n as u64);
    let t = Timestamp::from_unix_millis(0);
    let mut types = Vec::with_capacity(PF_SHARED_TYPES.len());
    for name in PF_SHARED_TYPES {
        let ty = engine.schema().object_type(name).ok_or("unknown type")?;
        types.push((name, ty));
    }
    let mut orgs: Vec<PfOrg> = Vec::with_capacity(n);
    let mut properties = Vec::with_capacity(n * PF_PROPERTIES_PER_ORG);
    let mut users = Vec::with_capacity(n * PF_USERS_PER_ORG);
    let mut sys = engine.act(Actor::System, t);
    for o in 0..n {
        let id = sys.create_org(&format!("Account {o}"))?.value;
        let pda = sys.engine().role_by_name(id, PDA).ok_or("no PDA role")?;
        let mut org_users = Vec::with_capacity(PF_USERS_PER_ORG);
        for u in 0..PF_USERS_PER_ORG {
            let email = format!("u{u}@a{o}.example");
            let user = sys.create_user(id, &email)?.value;
            if u < PF_ADMINS_PER_ORG {
                sys.grant_role(user, pda, &[])?;
            }
            org_users.push(user);
            users.push((user, o));
        }
        let mut props = Vec::with_capacity(PF_PROPERTIES_PER_ORG);
        for p in 0..PF_PROPERTIES_PER_ORG {
            let key = format!("a{o}-p{p}");
            let property = sys.create_object(id, "property", &key, &[])?.value;
            let count = 1 + rng.below(PF_MAX_METERS);
            let mut meters = Vec::with_capacity(count);
            for m in 0..count {
                let ty = if rng.below(100) < PF_ENERGY_PERCENT {
                    "energy_meter"
                } else {
                    "water_meter"
                };
                let key = format!("a{o}-p{p}-m{m}");
                meters
                    .push(sys.create_object(id, ty, &key, &[property])?.value);
            }
            props.push(properties.len());
            properties.push(PfProperty { id: property, org: o, meters });
        }
        orgs.push(PfOrg {
            id,
            users: org_users,
            properties: props,
            neighbours: Vec::new(),
        });
    }

    // Connections, requested and accepted.
    let mut connected: HashSet<(usize, usize)> = HashSet::new();
    for o in 0..n {
        for _ in 0..PF_CONNECTIONS_PER_ORG {
            if n < 2 {
                break;
            }
            let other = (o + 1 + rng.below(n - 1)) % n;
            if !connected.insert((o.min(other), o.max(other))) {
                continue;
            }
            let a = orgs.get(o).ok_or("account index")?.id;
            let b = orgs.get(other).ok_or("account index")?.id;
            sys.request_connection(a, b)?;
            sys.respond_connection(a, b, true)?;
            orgs.get_mut(o).ok_or("account index")?.neighbours.push(other);
            orgs.get_mut(other).ok_or("account index")?.neighbours.push(o);
        }
    }

    let mut w =
        Portfolio { engine, orgs, properties, shares: Vec::new(), users };
    let mut taken: HashSet<(ObjectId, Grantee)> = HashSet::new();
    for p in 0..w.properties.len() {
        if rng.below(100) >= PF_SHARED_PERCENT {
            continue;
        }
        let prop = w.property(p)?;
        let (root, owner_org) = (prop.id, prop.org);
        let owner = *w.org(owner_org)?.users.first().ok_or("no users")?;
        for _ in 0..1 + rng.below(PF_MAX_DIRECT_SHARES) {
            let Some(&g) = rng.pick(&w.org(owner_org)?.neighbours).ok() else {
                break;
            };
            let members = &w.org(g)?.users;
            let holder = *rng.pick(members)?;
            let grantee = if rng.below(100) < PF_ORG_GRANTEE_PERCENT {
                Grantee::Org(w.org(g)?.id)
            } else {
                Grantee::User(holder)
            };
            if !taken.insert((root, grantee)) {
                continue;
            }
            let spec = random_spec(&mut rng)?;
            let forward = spec.has_share_forward();
            let id = w
                .engine
                .act(Actor::User(owner), t)
                .share(root, grantee, spec)?
                .value;
            w.engine.act(Actor::User(holder), t).accept_share(id)?;
            let mut last = PfShare {
                id,
                property: p,
                grantee,
                org: g,
                holder,
                depth: 1,
                forward,
            };
            w.shares.push(last);

            // The chain: each holder of share-forward may pass it on.
            while last.forward
                && last.depth < PF_MAX_DEPTH
                && rng.below(100) < PF_FORWARD_PERCENT
            {
                let next = *rng.pick(&w.org(last.org)?.neighbours)?;
                if next == owner_org {
                    break;
                }
                let to = *rng.pick(&w.org(next)?.users)?;
                let grantee = Grantee::User(to);
                if !taken.insert((root, grantee)) {
                    break;
                }
                let held = w.engine.share(last.id).ok_or("no share")?;
                let spec = forward_spec(&mut rng, held, &types)?;
                let forward = spec.has_share_forward();
                let id = w
                    .engine
                    .act(Actor::User(last.holder), t)
                    .share(root, grantee, spec)?
                    .value;
                w.engine.act(Actor::User(to), t).accept_share(id)?;
                last = PfShare {
                    id,
                    property: p,
                    grantee,
                    org: next,
                    holder: to,
                    depth: last.depth + 1,
                    forward,
                };
                w.shares.push(last);
            }
        }
    }
    Ok(w)
}

/// Generates the sharing workload's query stream and expected decisions.
fn make_portfolio_queries(w: &Portfolio) -> Result<Box<[Query; QUERIES]>> {
    let mut rng = Rng(SEED.rotate_left(41) ^ w.orgs.len() as u64);
    let schema = w.engine.schema();
    let resolve = |names: &[&str]| -> Result<Vec<ActionId>> {
        names
            .iter()
            .map(|a| schema.action(a).ok_or_else(|| "unknown action".into()))
            .collect()
    };
    let on_property = resolve(&PF_PROPERTY_ACTIONS)?;
    let on_meter = resolve(&PF_METER_ACTIONS)?;
    let n = w.orgs.len();
    let mut out = Vec::with_capacity(QUERIES);
    for _ in 0..QUERIES {
        let roll = rng.below(100);
        let (user, p) = if roll < PF_OWN_QUERY_PERCENT {
            let (user, o) = *rng.pick(&w.users)?;
            (user, *rng.pick(&w.org(o)?.properties)?)
        } else if roll < PF_OWN_QUERY_PERCENT + PF_SHARED_QUERY_PERCENT
            && !w.shares.is_empty()
        {
            let s = *rng.pick(&w.shares)?;
            let user = match s.grantee {
                Grantee::User(u) => u,
                _ => *rng.pick(&w.org(s.org)?.users)?,
            };
            (user, s.property)
        } else {
            let (user, o) = *rng.pick(&w.users)?;
            let other = if n > 1 { (o + 1 + rng.below(n - 1)) % n } else { o };
            (user, *rng.pick(&w.org(other)?.properties)?)
        };
        let prop = w.property(p)?;
        let (object, actions) = if rng.below(100) < PF_PROPERTY_QUERY_PERCENT {
            (prop.id, &on_property)
        } else {
            (*rng.pick(&prop.meters)?, &on_meter)
        };
        let action = *rng.pick(actions)?;
        let subject = Subject::User(user);
        out.push(Query {
            subject,
            action,
            object,
            key: pair_key(user, object),
            bit: 1 << action.as_u32(),
            expected: w.engine.check(subject, action, object),
        });
    }
    out.into_boxed_slice()
        .try_into()
        .map_err(|_| "query vector has the wrong length".into())
}

/// Prints what a sharing workload contains, once per size.
fn describe_portfolio(w: &Portfolio, queries: &[Query], map: &Baseline) {
    let allowed = queries.iter().filter(|q| q.expected.is_allow()).count();
    let mut by_depth = [0usize; PF_MAX_DEPTH];
    for s in &w.shares {
        if let Some(d) = by_depth.get_mut(s.depth.saturating_sub(1)) {
            *d += 1;
        }
    }
    eprintln!(
        "portfolio {} accounts: {} users, {} objects ({} properties), \
         {} connections, {} shares (by depth from the owner: {:?}), \
         {} audit events; {} queries ({} allowed, {} distinct pairs)",
        w.orgs.len(),
        w.engine.users().count(),
        w.engine.objects().count(),
        w.properties.len(),
        w.engine.connections().count(),
        w.engine.shares().count(),
        by_depth,
        w.engine.events().len(),
        queries.len(),
        allowed,
        map.len(),
    );
}

// ----- benchmark bodies shared by both workloads -------------------------

/// A reverse query and the length of its answer.
struct Reverse {
    subject: Subject,
    action: ActionId,
    ty: TypeId,
    len: usize,
    object: ObjectId,
    /// Who may do `action` on `object`.
    subjects: Vec<UserId>,
}

/// Reverse queries benchmarked per size.
const REVERSE_QUERIES: usize = 256;

/// The reverse queries of the first [`REVERSE_QUERIES`] queries.
fn make_reverse(engine: &Engine, queries: &[Query]) -> Result<Vec<Reverse>> {
    queries
        .iter()
        .take(REVERSE_QUERIES)
        .map(|q| {
            let ty = engine.object(q.object).ok_or("unknown object")?;
            let ty = ty.object_type();
            let len = engine.objects_for(q.subject, q.action, ty).len();
            let subjects = engine.subjects_for(q.action, q.object);
            Ok(Reverse {
                subject: q.subject,
                action: q.action,
                ty,
                len,
                object: q.object,
                subjects,
            })
        })
        .collect()
}

/// Benchmarks one call per iteration: `answer(i)` answers the `i`-th
/// query (i = 0, 1, 2, …) and says whether the answer was the expected
/// one; any wrong answer fails the run after timing.
fn bench_cycle(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    what: &str,
    mut answer: impl FnMut(usize) -> bool,
) {
    group.bench_function(id, |b| {
        let mut i = 0usize;
        let mut mismatches = 0u64;
        b.iter(|| {
            mismatches += u64::from(!answer(i));
            i = i.wrapping_add(1);
        });
        assert_eq!(mismatches, 0, "{what} disagreed with expectations");
    });
}

/// `check/<name>/<n>` over the first `len` queries (a power of two).
fn bench_check(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    engine: &Engine,
    queries: &[Query],
    len: usize,
) {
    let mask = len - 1;
    bench_cycle(group, id, "check", |i| {
        queries.get(i & mask).map_or(true, |q| {
            let d = engine.check(
                black_box(q.subject),
                black_box(q.action),
                black_box(q.object),
            );
            d == q.expected
        })
    });
}

/// Queries per `check_batch` iteration.
const BATCH: usize = 64;

/// A query as [`Engine::check_batch`] takes it.
type Triple = (Subject, ActionId, ObjectId);

/// `check_batch/<name>/<n>`: [`Engine::check_batch`] over consecutive
/// windows of [`BATCH`] queries of the stream, one window per iteration.
fn bench_check_batch(
    c: &mut Criterion,
    name: &str,
    n: usize,
    engine: &Engine,
    queries: &[Query],
) {
    let triples: Vec<Triple> =
        queries.iter().map(|q| (q.subject, q.action, q.object)).collect();
    let windows: Vec<(&[Triple], &[Query])> =
        triples.chunks_exact(BATCH).zip(queries.chunks_exact(BATCH)).collect();
    let mut group = c.benchmark_group("check_batch");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let mut out = Vec::with_capacity(BATCH);
    let id = BenchmarkId::new(name, n);
    bench_cycle(&mut group, id, "check_batch", |i| {
        windows.get(i % windows.len()).map_or(true, |(batch, expected)| {
            engine.check_batch(black_box(batch), &mut out);
            out.iter().zip(*expected).all(|(d, q)| *d == q.expected)
        })
    });
    group.finish();
}

/// The hash-map baseline over the first `len` queries (a power of two).
fn bench_baseline(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    map: &Baseline,
    queries: &[Query],
    len: usize,
) {
    let mask = len - 1;
    bench_cycle(group, id, "baseline", |i| {
        queries.get(i & mask).map_or(true, |q| {
            let allow = map
                .get(&black_box(q.key))
                .is_some_and(|m| m & black_box(q.bit) != 0);
            let d = if allow { Decision::Allow } else { Decision::Deny };
            d == q.expected
        })
    });
}

/// The full-table baseline ([`make_full_baseline`]), checked against the
/// expected decisions first.
fn bench_full_baseline(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    n: usize,
    engine: &Engine,
    queries: &[Query],
) {
    let full = make_full_baseline(engine);
    let wrong = baseline_mismatches(&full, queries);
    if wrong != 0 {
        fail(name, &format_args!("{wrong} answers differ from check"));
    }
    println!("{name}/{n}: {} (user, object) pairs", full.len());
    let id = BenchmarkId::new(name, n);
    bench_baseline(group, id, &full, queries, QUERIES);
}

/// `explain`, `allowed_actions` and `objects_for` on one workload.
fn bench_queries(
    c: &mut Criterion,
    workload: &str,
    n: usize,
    engine: &Engine,
    queries: &[Query],
    map: &Baseline,
) {
    let mask = queries.len() - 1;
    bench_query(c, "explain", BenchmarkId::new(workload, n), |i| {
        queries.get(i & mask).map_or(true, |q| {
            let r = engine.explain(
                black_box(q.subject),
                black_box(q.action),
                black_box(q.object),
            );
            let right = r.decision() == q.expected;
            drop(black_box(r));
            right
        })
    });

    // The expected size of each pair's action set, from the baseline.
    let sizes: Vec<usize> = queries
        .iter()
        .map(|q| map.get(&q.key).map_or(0, |m| m.count_ones() as usize))
        .collect();
    bench_query(c, "allowed_actions", BenchmarkId::new(workload, n), |i| {
        let j = i & mask;
        let (Some(q), Some(size)) = (queries.get(j), sizes.get(j)) else {
            return true;
        };
        let set =
            engine.allowed_actions(black_box(q.subject), black_box(q.object));
        set.len() == *size && set.contains(q.action) == q.expected.is_allow()
    });

    let reverse =
        make_reverse(engine, queries).unwrap_or_else(|e| fail("reverse", &e));
    let average = |total: usize| total as f64 / reverse.len().max(1) as f64;
    let objects = average(reverse.iter().map(|r| r.len).sum());
    let users = average(reverse.iter().map(|r| r.subjects.len()).sum());
    eprintln!(
        "{workload} {n}: objects_for answers hold {objects:.1} objects, \
         subjects_for answers {users:.1} users on average"
    );
    bench_query(c, "objects_for", BenchmarkId::new(workload, n), |i| {
        reverse.get(i % REVERSE_QUERIES).map_or(true, |r| {
            let found = engine.objects_for(
                black_box(r.subject),
                black_box(r.action),
                black_box(r.ty),
            );
            let right = found.len() == r.len;
            drop(black_box(found));
            right
        })
    });
    bench_query(c, "subjects_for", BenchmarkId::new(workload, n), |i| {
        reverse.get(i % REVERSE_QUERIES).map_or(true, |r| {
            let found =
                engine.subjects_for(black_box(r.action), black_box(r.object));
            let right = found == r.subjects;
            drop(black_box(found));
            right
        })
    });
}

/// One query benchmark in group `what` (1 s warm-up, 3 s measurement);
/// see [`bench_cycle`].
fn bench_query(
    c: &mut Criterion,
    what: &str,
    id: BenchmarkId,
    answer: impl FnMut(usize) -> bool,
) {
    let mut group = c.benchmark_group(what);
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    bench_cycle(&mut group, id, what, answer);
    group.finish();
}

/// A mutation benchmark: `op` runs once per iteration on `engine` and must
/// return it to an equivalent state (it reports whether every step was
/// applied). The audit log is drained outside the timed region whenever
/// it has grown too much.
fn bench_mutation(
    c: &mut Criterion,
    id: BenchmarkId,
    engine: &mut Engine,
    mut op: impl FnMut(&mut Engine) -> bool,
) {
    let mut group = c.benchmark_group("mutate");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function(id, |b| {
        let mut failures = 0u64;
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let chunk = (iters - done).min(MUTATION_CHUNK);
                let t0 = Instant::now();
                for _ in 0..chunk {
                    failures += u64::from(!op(engine));
                }
                elapsed += t0.elapsed();
                done += chunk;
                // Outside the timed region, so memory stays bounded.
                if engine.events().len() > MAX_LOG_GROWTH {
                    let _ = engine.drain_events();
                }
            }
            elapsed
        });
        assert_eq!(failures, 0, "a mutation was refused");
    });
    group.finish();
}

// ----- mutations beyond grant and revoke ---------------------------------

/// Adding an object to a permission's list and removing it again.
struct ListCase {
    admin: UserId,
    permission: PermissionId,
    object: ObjectId,
}

/// The first organization's administrator, its first custom permission
/// with an explicit list, and an object of that type not on the list.
fn list_case(w: &Workload) -> Result<ListCase> {
    let org = w.orgs.first().ok_or("no organizations")?;
    let admin = *org.users.get(ADMIN_ROLE).ok_or("no administrator")?;
    let engine = &w.engine;
    for role in &org.custom_roles {
        let role = engine.role(*role).ok_or("unknown role")?;
        for pid in role.permissions() {
            let perm = engine.permission(pid).ok_or("unknown permission")?;
            if perm.applies_to_all() {
                continue;
            }
            let listed: Vec<ObjectId> = perm.objects().collect();
            let candidates = org.objects.iter().flatten().filter(|o| {
                engine.object(**o).map(accord::Object::object_type)
                    == Some(perm.object_type())
            });
            for object in candidates {
                if !listed.contains(object) {
                    return Ok(ListCase {
                        admin,
                        permission: pid,
                        object: *object,
                    });
                }
            }
        }
    }
    Err("no listable object".into())
}

/// Lists and unlists once; whether both succeeded.
#[inline]
fn list_unlist(engine: &mut Engine, case: &ListCase) -> bool {
    let t = Timestamp::from_unix_millis(0);
    let mut adm = engine.act(Actor::User(case.admin), t);
    let added =
        adm.add_object_to_permission(case.permission, black_box(case.object));
    let removed = adm.remove_object_from_permission(
        case.permission,
        black_box(case.object),
    );
    added.is_ok() && removed.is_ok()
}

/// Sharing, accepting and unsharing: who shares what with whom.
struct ShareCase {
    actor: UserId,
    root: ObjectId,
    grantee: UserId,
    spec: ShareSpec,
}

/// Shares, accepts and unshares once; whether all three succeeded.
#[inline]
fn share_cycle(engine: &mut Engine, case: &ShareCase) -> bool {
    let t = Timestamp::from_unix_millis(0);
    let grantee = Grantee::User(black_box(case.grantee));
    let spec = case.spec.clone();
    let shared = engine.act(Actor::User(case.actor), t).share(
        black_box(case.root),
        grantee,
        spec,
    );
    let Ok(id) = shared.map(|r| r.value) else { return false };
    let accepted = engine.act(Actor::User(case.grantee), t).accept_share(id);
    let removed = engine.act(Actor::User(case.actor), t).unshare(id);
    accepted.is_ok() && removed.is_ok()
}

/// A user of an account connected to `org` (other than `except`) who
/// holds no share of `root` yet.
fn fresh_grantee(
    w: &Portfolio,
    org: usize,
    except: usize,
    root: ObjectId,
) -> Result<UserId> {
    for &g in &w.org(org)?.neighbours {
        if g == except {
            continue;
        }
        for &u in &w.org(g)?.users {
            if w.engine.share_of(root, Grantee::User(u)).is_none() {
                return Ok(u);
            }
        }
    }
    Err("no connected user without a share".into())
}

/// The owner case: the first shared property's owner shares it (Custom,
/// Full on energy meters) with a fresh user of a connected account.
fn owner_share_case(w: &Portfolio) -> Result<ShareCase> {
    let first = w.shares.first().ok_or("no shares")?;
    let prop = w.property(first.property)?;
    let actor = *w.org(prop.org)?.users.first().ok_or("no users")?;
    let grantee = fresh_grantee(w, prop.org, prop.org, prop.id)?;
    let spec = ShareSpec::custom()
        .level("property", Level::Read)
        .level("energy_meter", Level::Full);
    Ok(ShareCase { actor, root: prop.id, grantee, spec })
}

/// The forward case: the holder of share-forward at the end of the deepest
/// chain shares the property on, with its own per-type levels.
fn forward_share_case(w: &Portfolio) -> Result<ShareCase> {
    let last = w
        .shares
        .iter()
        .filter(|s| s.forward)
        .max_by_key(|s| s.depth)
        .ok_or("no share-forward")?;
    let prop = w.property(last.property)?;
    let held = w.engine.share(last.id).ok_or("no share")?;
    let mut spec = ShareSpec::custom();
    for name in PF_SHARED_TYPES {
        let ty = w.engine.schema().object_type(name).ok_or("unknown type")?;
        spec = spec.level(name, held.type_level(ty));
    }
    let grantee = fresh_grantee(w, last.org, prop.org, prop.id)?;
    eprintln!(
        "forward case: share-forward holder at depth {}, property with {} \
         meters",
        last.depth,
        prop.meters.len()
    );
    Ok(ShareCase { actor: last.holder, root: prop.id, grantee, spec })
}

// ----- per size ----------------------------------------------------------

fn bench_size(c: &mut Criterion, n: usize) {
    let w = build_workload(n).unwrap_or_else(|e| fail("building", &e));
    let queries = make_queries(&w).unwrap_or_else(|e| fail("queries", &e));
    let map = make_baseline(&w.engine, queries.as_slice());
    let wrong = baseline_mismatches(&map, queries.as_slice());
    if wrong != 0 {
        fail("baseline", &format_args!("{wrong} answers differ from check"));
    }
    describe(&w, queries.as_slice(), &map);

    let mut group = c.benchmark_group("check");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for (suffix, len) in [("", QUERIES), ("_hot", HOT_QUERIES)] {
        let id = BenchmarkId::new(format!("arbiter{suffix}"), n);
        bench_check(&mut group, id, &w.engine, queries.as_slice(), len);
        let id = BenchmarkId::new(format!("baseline_hashmap{suffix}"), n);
        bench_baseline(&mut group, id, &map, queries.as_slice(), len);
    }
    if full_baseline_at(n) {
        bench_full_baseline(
            &mut group,
            "baseline_full",
            n,
            &w.engine,
            queries.as_slice(),
        );
    } else {
        println!("baseline_full/{n}: skipped (set ACCORD_FULL_BASELINE=1)");
    }
    group.finish();
    bench_check_batch(c, "arbiter", n, &w.engine, queries.as_slice());
    bench_queries(c, "arbiter", n, &w.engine, queries.as_slice(), &map);

    // Loading a snapshot: parse, validate, rebuild the index. The loaded
    // engine must answer the query stream as the original did.
    let json = w.engine.to_json();
    let revision = w.engine.revision();
    let loaded = Engine::from_json(&json).unwrap_or_else(|e| fail("load", &e));
    let wrong = queries
        .iter()
        .filter(|q| loaded.check(q.subject, q.action, q.object) != q.expected)
        .count();
    if wrong != 0 {
        fail("load", &format_args!("{wrong} answers changed on reload"));
    }
    drop(loaded);
    let mut group = c.benchmark_group("load");
    let secs = if n >= 1000 { 10 } else { 5 };
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(secs));
    group.bench_function(BenchmarkId::new("arbiter_json", n), |b| {
        let mut failures = 0u64;
        b.iter_with_large_drop(|| {
            let loaded = Engine::from_json(black_box(&json));
            let ok = loaded.as_ref().is_ok_and(|e| e.revision() == revision);
            failures += u64::from(!ok);
            loaded
        });
        assert_eq!(failures, 0, "loading the snapshot failed");
    });
    group.finish();
    drop(json);

    let case = grant_case(&w).unwrap_or_else(|e| fail("grant case", &e));
    let list = list_case(&w).unwrap_or_else(|e| fail("list case", &e));
    let org = w.orgs.first().map(|o| o.id);
    let mut engine = w.engine;
    let id = BenchmarkId::new("grant_revoke", n);
    bench_mutation(c, id, &mut engine, |e| grant_revoke(e, &case));

    // Listing needs `read` on the object: the administrator gets
    // `Read all` for this benchmark (the last one on this engine).
    let read_all = org.and_then(|o| engine.role_by_name(o, "Read all"));
    let Some(read_all) = read_all else { fail("list case", &"no Read all") };
    let t = Timestamp::from_unix_millis(0);
    if let Err(e) =
        engine.act(Actor::System, t).grant_role(list.admin, read_all, &[])
    {
        fail("list case", &e);
    }
    if !list_unlist(&mut engine, &list) {
        fail("list case", &"adding or removing the object was refused");
    }
    let id = BenchmarkId::new("list_unlist", n);
    bench_mutation(c, id, &mut engine, |e| list_unlist(e, &list));
    drop(engine);

    // Flat sampling with 10 samples. At 1,000 organizations one build
    // takes over a second: a 10 s target makes each sample one iteration
    // (criterion then warns that 10 samples need more than 10 s).
    if n > BUILD_MAX_ORGS {
        println!("build/arbiter/{n}: skipped (see the scale report)");
        return;
    }
    let mut group = c.benchmark_group("build");
    let secs = if n >= 1000 { 10 } else { 5 };
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(secs));
    group.bench_function(BenchmarkId::new("arbiter", n), |b| {
        b.iter_with_large_drop(|| {
            build_workload(black_box(n))
                .unwrap_or_else(|e| fail("building", &e))
        });
    });
    group.finish();
}

fn bench_portfolio(c: &mut Criterion, n: usize) {
    let w = build_portfolio(n).unwrap_or_else(|e| fail("portfolio", &e));
    let queries = make_portfolio_queries(&w)
        .unwrap_or_else(|e| fail("portfolio queries", &e));
    let map = make_baseline(&w.engine, queries.as_slice());
    let wrong = baseline_mismatches(&map, queries.as_slice());
    if wrong != 0 {
        fail("baseline", &format_args!("{wrong} answers differ from check"));
    }
    describe_portfolio(&w, queries.as_slice(), &map);

    let mut group = c.benchmark_group("check");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let id = BenchmarkId::new("portfolio", n);
    bench_check(&mut group, id, &w.engine, queries.as_slice(), QUERIES);
    let id = BenchmarkId::new("baseline_hashmap_portfolio", n);
    bench_baseline(&mut group, id, &map, queries.as_slice(), QUERIES);
    let name = "baseline_full_portfolio";
    // The sharing workload's table stays small (about 2.3 million pairs
    // at 10,000 accounts): built at every size.
    if full_baseline_at(n) || n <= 10_000 {
        bench_full_baseline(
            &mut group,
            name,
            n,
            &w.engine,
            queries.as_slice(),
        );
    } else {
        println!("{name}/{n}: skipped (set ACCORD_FULL_BASELINE=1)");
    }
    group.finish();
    bench_check_batch(c, "portfolio", n, &w.engine, queries.as_slice());
    bench_queries(c, "portfolio", n, &w.engine, queries.as_slice(), &map);

    let cases = [
        ("share_accept_unshare", owner_share_case(&w)),
        ("forward_accept_unshare", forward_share_case(&w)),
    ];
    let mut engine = w.engine;
    for (name, case) in cases {
        let case = case.unwrap_or_else(|e| fail(name, &e));
        if !share_cycle(&mut engine, &case) {
            fail(name, &"sharing, accepting or unsharing was refused");
        }
        let id = BenchmarkId::new(name, n);
        bench_mutation(c, id, &mut engine, |e| share_cycle(e, &case));
    }
}

/// The sizes to run: `ACCORD_SIZES` (comma-separated organization
/// counts, e.g. `10,10000`) or [`SIZES`].
fn sizes() -> Vec<usize> {
    match std::env::var("ACCORD_SIZES") {
        Ok(list) => list
            .split(',')
            .map(|n| n.trim().parse())
            .collect::<std::result::Result<_, _>>()
            .unwrap_or_else(|e| fail("ACCORD_SIZES", &e)),
        Err(_) => SIZES.to_vec(),
    }
}

fn benches(c: &mut Criterion) {
    // In smoke-test mode every benchmark runs once, but setting up 1,000
    // organizations (build, snapshot, verified reload) alone takes several
    // seconds and over a gigabyte; the code paths are the same at every
    // size, so `--test` stops at 100.
    let smoke = std::env::args().any(|a| a == "--test");
    for n in sizes() {
        if smoke && n > SMOKE_MAX_ORGS {
            continue;
        }
        bench_size(c, n);
        bench_portfolio(c, n);
    }
}

// `criterion_group!` would define an undocumented `pub fn`, which the
// crate's `missing_docs = "deny"` refuses; this is what it expands to.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
