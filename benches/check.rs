//! Criterion benchmarks of `accord` on a synthetic multi-tenant workload
//! modelled on the Solar Forecast Arbiter ([`accord::presets::arbiter`]).
//!
//! # Workload
//!
//! A deterministic generator (seeded SplitMix64, defined below) creates
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
//! # Benchmarks
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
//! * `mutate/grant_revoke/<orgs>`: an organization administrator grants a
//!   custom role to a user and revokes it again (both in one iteration,
//!   so the policy returns to its start state).
//! * `build/arbiter/<orgs>`: generating the whole workload through the
//!   public mutation API (as `System`), timed without dropping the result.
//!   Ten flat samples, since one build of 1,000 organizations takes over a
//!   second.
//!
//! Run with `cargo bench --bench check`; `cargo bench --bench check --
//! --test` runs every benchmark once as a smoke test.

use std::collections::HashMap;
use std::error::Error;
use std::hash::{BuildHasherDefault, Hasher};
use std::hint::black_box;
use std::time::{Duration, Instant};

use accord::{
    presets, ActionId, Actor, Decision, Engine, ObjectId, OrgId, RoleId,
    Subject, Timestamp, UserId,
};
use criterion::{BenchmarkId, Criterion, SamplingMode};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Organization counts benchmarked.
const SIZES: [usize; 3] = [10, 100, 1000];
/// Users per organization.
const USERS_PER_ORG: usize = 50;
/// Objects per data type per organization.
const OBJECTS_PER_TYPE: usize = 50;
/// Custom roles per organization.
const CUSTOM_ROLES: usize = 6;
/// Permissions per custom role.
const PERMS_PER_CUSTOM_ROLE: usize = 2;
/// Largest explicit object list of a custom permission.
const MAX_LISTED: usize = 8;
/// Queries in the stream (a power of two, so the index is masked).
const QUERIES: usize = 4096;
/// Prefix of the stream cycled by the `_hot` scenarios: few enough
/// queries that everything they touch stays in cache.
const HOT_QUERIES: usize = 256;
/// Percentage of queries on an object of the user's own organization.
const OWN_ORG_PERCENT: usize = 70;
/// Seed of the generator.
const SEED: u64 = 0x00ac_c0d5_eed0_2024;

/// Data types, sites first so that children can name a site parent.
const TYPES: [&str; 6] = [
    "sites",
    "observations",
    "forecasts",
    "cdf_forecasts",
    "aggregates",
    "reports",
];
/// Types created under a site.
const SITE_CHILDREN: [&str; 3] =
    ["observations", "forecasts", "cdf_forecasts"];
/// The arbiter's default roles, in creation order.
const DEFAULT_ROLES: [&str; 6] = [
    "Read all",
    "Write all values",
    "Create metadata",
    "Delete metadata",
    "Update all",
    "Administer data access controls",
];
/// Index in [`DEFAULT_ROLES`] of the administrator role.
const ADMIN_ROLE: usize = 5;
/// Actions used by custom permissions and by queries.
const QUERY_ACTIONS: [&str; 5] =
    ["read", "read_values", "write_values", "update", "delete"];

/// SplitMix64: tiny, fast and good enough to shape a workload.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0), by multiply-shift.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A random element of a non-empty slice.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> Result<&'a T> {
        let i = self.below(items.len());
        items.get(i).ok_or_else(|| "picked from an empty slice".into())
    }
}

/// One organization of the workload.
struct OrgData {
    id: OrgId,
    users: Vec<UserId>,
    /// Objects per type, in [`TYPES`] order.
    objects: Vec<Vec<ObjectId>>,
    custom_roles: Vec<RoleId>,
}

/// One user of the workload.
#[derive(Clone, Copy)]
struct UserData {
    id: UserId,
    org: usize,
    /// The organization of the user's external custom role, if any.
    external: Option<usize>,
}

/// The built engine and what the query generator needs to know about it.
struct Workload {
    engine: Engine,
    orgs: Vec<OrgData>,
    users: Vec<UserData>,
}

/// Builds the workload of `n` organizations, deterministically.
fn build_workload(n: usize) -> Result<Workload> {
    let mut engine = presets::arbiter().build()?;
    let mut rng = Rng(SEED ^ n as u64);
    let mut sys = engine.act(Actor::System, Timestamp::from_unix_millis(0));
    let mut orgs = Vec::with_capacity(n);
    let mut users = Vec::with_capacity(n * USERS_PER_ORG);

    for o in 0..n {
        let id = sys.create_org(&format!("Org {o}"))?.value;
        sys.accept_terms(id)?;
        let mut org_users = Vec::with_capacity(USERS_PER_ORG);
        for u in 0..USERS_PER_ORG {
            let user = sys.create_user(id, &format!("u{u}@o{o}.example"))?;
            org_users.push(user.value);
        }
        let mut objects: Vec<Vec<ObjectId>> = Vec::with_capacity(TYPES.len());
        for ty in TYPES {
            let mut of_type = Vec::with_capacity(OBJECTS_PER_TYPE);
            for i in 0..OBJECTS_PER_TYPE {
                let parent = if SITE_CHILDREN.contains(&ty) {
                    let sites = objects.first().ok_or("no sites")?;
                    vec![*rng.pick(sites)?]
                } else {
                    Vec::new()
                };
                let key = format!("o{o}-{ty}-{i}");
                of_type.push(sys.create_object(id, ty, &key, &parent)?.value);
            }
            objects.push(of_type);
        }
        let mut custom_roles = Vec::with_capacity(CUSTOM_ROLES);
        for r in 0..CUSTOM_ROLES {
            let name = format!("Custom {r}");
            let role = sys.create_role(id, &name, "benchmark role")?.value;
            for p in 0..PERMS_PER_CUSTOM_ROLE {
                let action = *rng.pick(&QUERY_ACTIONS)?;
                let t = rng.below(TYPES.len());
                let ty = *TYPES.get(t).ok_or("type index")?;
                let pname = format!("Custom {r}.{p}");
                // Alternate so exactly half of the permissions apply to all.
                let perm = if p % 2 == 0 {
                    sys.create_permission_all(id, &pname, action, ty)?
                } else {
                    let pool = objects.get(t).ok_or("type index")?;
                    let count = 1 + rng.below(MAX_LISTED);
                    let mut listed: Vec<ObjectId> = Vec::with_capacity(count);
                    while listed.len() < count {
                        let obj = *rng.pick(pool)?;
                        if !listed.contains(&obj) {
                            listed.push(obj);
                        }
                    }
                    sys.create_permission_for(id, &pname, action, ty, &listed)?
                };
                sys.add_permission_to_role(role, perm.value)?;
            }
            custom_roles.push(role);
        }
        for user in &org_users {
            users.push(UserData { id: *user, org: o, external: None });
        }
        orgs.push(OrgData { id, users: org_users, objects, custom_roles });
    }

    // Grants, once every organization's custom roles exist.
    for user in &mut users {
        let org = orgs.get(user.org).ok_or("org index")?;
        let local = org
            .users
            .iter()
            .position(|u| *u == user.id)
            .ok_or("user index")?;
        let default_name = DEFAULT_ROLES
            .get(local % DEFAULT_ROLES.len())
            .ok_or("default role index")?;
        let default = sys
            .engine()
            .role_by_name(org.id, default_name)
            .ok_or("missing default role")?;
        sys.grant_role(user.id, default, &[])?;
        if local % 2 == 0 {
            let role = *rng.pick(&org.custom_roles)?;
            sys.grant_role(user.id, role, &[])?;
        }
        if local % 10 == 1 && n > 1 {
            let other = (user.org + 1 + rng.below(n - 1)) % n;
            let foreign = orgs.get(other).ok_or("org index")?;
            let role = *rng.pick(&foreign.custom_roles)?;
            sys.grant_role(user.id, role, &[])?;
            user.external = Some(other);
        }
    }
    Ok(Workload { engine, orgs, users })
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

/// Generates the fixed query stream and its expected decisions.
fn make_queries(w: &Workload) -> Result<Box<[Query; QUERIES]>> {
    let mut rng = Rng(SEED.rotate_left(17) ^ w.orgs.len() as u64);
    let schema = w.engine.schema();
    let mut actions = Vec::with_capacity(QUERY_ACTIONS.len());
    for name in QUERY_ACTIONS {
        actions.push(schema.action(name).ok_or("unknown action")?);
    }
    let n = w.orgs.len();
    let mut out = Vec::with_capacity(QUERIES);
    for _ in 0..QUERIES {
        let user = *rng.pick(&w.users)?;
        let org = if rng.below(100) < OWN_ORG_PERCENT || n < 2 {
            user.org
        } else {
            match user.external {
                Some(o) => o,
                None => (user.org + 1 + rng.below(n - 1)) % n,
            }
        };
        let objects = &w.orgs.get(org).ok_or("org index")?.objects;
        let of_type = rng.pick(objects)?;
        let object = *rng.pick(of_type)?;
        let action = *rng.pick(&actions)?;
        let subject = Subject::User(user.id);
        out.push(Query {
            subject,
            action,
            object,
            key: pair_key(user.id, object),
            bit: 1 << action.as_u32(),
            expected: w.engine.check(subject, action, object),
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
fn make_baseline(w: &Workload, queries: &[Query]) -> Baseline {
    let mut map = Baseline::default();
    for q in queries {
        let set = w.engine.allowed_actions(q.subject, q.object);
        let mask = set.iter().fold(0u64, |m, a| m | 1 << a.as_u32());
        map.insert(q.key, mask);
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

/// Audit events allowed to pile up during the mutation bench before the
/// engine is reset (outside the timed region) to its start state.
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

fn bench_size(c: &mut Criterion, n: usize) {
    let w = build_workload(n).unwrap_or_else(|e| fail("building", &e));
    let queries = make_queries(&w).unwrap_or_else(|e| fail("queries", &e));
    let map = make_baseline(&w, queries.as_slice());
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
        let mask = len - 1;
        let id = BenchmarkId::new(format!("arbiter{suffix}"), n);
        group.bench_function(id, |b| {
            let engine = &w.engine;
            let mut i = 0usize;
            let mut mismatches = 0u64;
            b.iter(|| {
                if let Some(q) = queries.get(i & mask) {
                    let d = engine.check(
                        black_box(q.subject),
                        black_box(q.action),
                        black_box(q.object),
                    );
                    mismatches += u64::from(d != q.expected);
                }
                i = i.wrapping_add(1);
            });
            assert_eq!(mismatches, 0, "check disagreed with expectations");
        });
        let id = BenchmarkId::new(format!("baseline_hashmap{suffix}"), n);
        group.bench_function(id, |b| {
            let mut i = 0usize;
            let mut mismatches = 0u64;
            b.iter(|| {
                if let Some(q) = queries.get(i & mask) {
                    let allow = map
                        .get(&black_box(q.key))
                        .is_some_and(|m| m & black_box(q.bit) != 0);
                    let d =
                        if allow { Decision::Allow } else { Decision::Deny };
                    mismatches += u64::from(d != q.expected);
                }
                i = i.wrapping_add(1);
            });
            assert_eq!(mismatches, 0, "baseline disagreed with expectations");
        });
    }
    group.finish();

    let case = grant_case(&w).unwrap_or_else(|e| fail("grant case", &e));
    let start = w.engine;
    let mut engine = start.clone();
    let base_log = engine.events().len();
    let mut group = c.benchmark_group("mutate");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function(BenchmarkId::new("grant_revoke", n), |b| {
        let mut failures = 0u64;
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let chunk = (iters - done).min(MUTATION_CHUNK);
                let t0 = Instant::now();
                for _ in 0..chunk {
                    failures += u64::from(!grant_revoke(&mut engine, &case));
                }
                elapsed += t0.elapsed();
                done += chunk;
                // The audit log grows by two events per iteration; reset
                // it outside the timed region so memory stays bounded.
                if engine.events().len() - base_log > MAX_LOG_GROWTH {
                    engine = start.clone();
                }
            }
            elapsed
        });
        assert_eq!(failures, 0, "grant or revoke was refused");
    });
    group.finish();
    drop(engine);
    drop(start);

    // Flat sampling with 10 samples. At 1,000 organizations one build
    // takes over a second: a 10 s target makes each sample one iteration
    // (criterion then warns that 10 samples need more than 10 s).
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

fn benches(c: &mut Criterion) {
    for n in SIZES {
        bench_size(c, n);
    }
}

// `criterion_group!` would define an undocumented `pub fn`, which the
// crate's `missing_docs = "deny"` refuses; this is what it expands to.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
