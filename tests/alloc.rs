//! `check` allocates nothing, and a tampered binary snapshot cannot make
//! a load request much memory.
//!
//! A counting global allocator (`stats_alloc`) wraps the system
//! allocator. Policies of
//! every preset are built (role grants, bound roles, external roles,
//! share chains with per-type and per-object levels, organization and
//! public shares, public projects, API tokens), then every subject ×
//! action × object query, plus unknown ids, is checked while counting.
//! Then each policy's bincode snapshot is loaded with every word that
//! may be a length prefix set to a huge value, counting the bytes each
//! load requests (a request that fails counts too).
//! The binary runs without the test harness, on one thread, so nothing
//! else allocates while counting is on.

use std::alloc::System;
use std::error::Error;

use accord::{
    presets, ActionId, Actor, Decision, Downstream, Engine, Grantee, Level,
    ObjectId, ShareSpec, Subject, Timestamp,
};
use bincode::Options;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const T: Timestamp = Timestamp::from_unix_millis(1_700_000_000_000);

/// Every subject (each user, each token, anonymous) against every action
/// and every object, plus ids past the end. Returns (queries, allows,
/// allocations while checking).
fn count(e: &Engine) -> (usize, usize, usize) {
    let mut subjects: Vec<Subject> =
        e.users().map(|(u, _)| Subject::User(u)).collect();
    let tokens: Vec<Subject> = e
        .users()
        .flat_map(|(u, _)| e.tokens_of(u).map(|(t, _)| Subject::Token(t)))
        .collect();
    subjects.extend(tokens);
    subjects.push(Subject::Anonymous);
    let mut objects: Vec<ObjectId> = e.objects().map(|(o, _)| o).collect();
    let past = objects.iter().map(|o| o.as_usize()).max().unwrap_or(0) + 1;
    objects.extend((past..past + 3).filter_map(|i| ObjectId::new(i).ok()));
    let mut actions: Vec<ActionId> = e.schema().actions().collect();
    actions.extend(ActionId::new(63).ok());
    let mut queries: Vec<(Subject, ActionId, ObjectId)> = Vec::new();
    for s in &subjects {
        for a in &actions {
            for o in &objects {
                queries.push((*s, *a, *o));
            }
        }
    }
    let mut out = Vec::with_capacity(queries.len());

    let region = Region::new(GLOBAL);
    let mut allows = 0;
    for (s, a, o) in &queries {
        if e.check(*s, *a, *o) == Decision::Allow {
            allows += 1;
        }
    }
    e.check_batch(&queries, &mut out);
    let change = region.change();
    let n = change.allocations + change.reallocations;
    let batch_allows = out.iter().filter(|d| **d == Decision::Allow).count();
    assert_eq!(allows, batch_allows, "check_batch agrees with check");
    (queries.len(), allows, n)
}

fn arbiter() -> Result<Engine> {
    let mut e = presets::arbiter().build()?;
    let mut sys = e.act(Actor::System, T);
    let mut orgs = Vec::new();
    for o in 0..3 {
        let org = sys.create_org(&format!("Org {o}"))?.value;
        sys.accept_terms(org)?;
        orgs.push(org);
    }
    let mut users = Vec::new();
    let mut sites = Vec::new();
    for (i, org) in orgs.iter().enumerate() {
        let site = sys.create_object(*org, "sites", &format!("s{i}"), &[])?;
        let obs = sys.create_object(
            *org,
            "observations",
            &format!("o{i}"),
            &[site.value],
        )?;
        sys.create_object(*org, "forecasts", &format!("f{i}"), &[obs.value])?;
        sites.push(site.value);
        for (j, role) in ["Read all", "Update all", "Write all values"]
            .into_iter()
            .enumerate()
        {
            let u = sys.create_user(*org, &format!("u{j}@o{i}.example"))?;
            let r = sys.engine().role_by_name(*org, role).ok_or("role")?;
            sys.grant_role(u.value, r, &[])?;
            users.push(u.value);
        }
    }
    // A custom role shared with another organization.
    let (o0, o1) = (orgs[0], orgs[1]);
    let custom = sys.create_role(o0, "Partners", "read site 0")?.value;
    let p =
        sys.create_permission_for(o0, "Site 0", "read", "sites", &[sites[0]]);
    sys.add_permission_to_role(custom, p?.value)?;
    sys.grant_role(users[3], custom, &[])?;
    // A role bound to a site.
    let bound = sys.create_bound_role(o1, "Site crew", "", &["sites"])?.value;
    let p = sys.create_permission_all(o1, "All obs", "read", "observations");
    sys.add_permission_to_role(bound, p?.value)?;
    let crew = sys.create_user(o1, "crew@o1.example")?.value;
    sys.grant_role(crew, bound, &[sites[1]])?;
    Ok(e)
}

fn portfolio(policy: Downstream) -> Result<Engine> {
    let mut e =
        presets::portfolio().configure(|c| c.downstream = policy).build()?;
    let mut sys = e.act(Actor::System, T);
    let mut orgs = Vec::new();
    let mut users = Vec::new();
    for i in 0..5 {
        let org = sys.create_org(&format!("P{i}"))?.value;
        users.push(sys.create_user(org, &format!("p{i}@example.com"))?.value);
        orgs.push(org);
    }
    for pair in orgs.windows(2) {
        sys.request_connection(pair[0], pair[1])?;
        sys.respond_connection(pair[0], pair[1], true)?;
    }
    let owner_role = sys
        .engine()
        .role_by_name(orgs[0], "Property Data Administrator")
        .ok_or("role")?;
    sys.grant_role(users[0], owner_role, &[])?;
    let hq = sys.create_object(orgs[0], "property", "HQ", &[])?.value;
    let m1 = sys.create_object(orgs[0], "energy_meter", "E", &[hq])?.value;
    sys.create_object(orgs[0], "water_meter", "W", &[hq])?;
    let other = sys.create_object(orgs[0], "property", "Annex", &[])?.value;
    sys.create_object(orgs[0], "energy_meter", "E2", &[hq, other])?;

    let specs = [
        ShareSpec::full(),
        ShareSpec::custom()
            .level("energy_meter", Level::Full)
            .share_forward(true),
        ShareSpec::custom()
            .level("water_meter", Level::None)
            .object_level(m1, Level::Read)
            .share_forward(true),
        ShareSpec::custom().level("water_meter", Level::None),
    ];
    for (i, spec) in specs.into_iter().enumerate() {
        let (from, to) = (users[i], users[i + 1]);
        let id = e
            .act(Actor::User(from), T)
            .share(hq, Grantee::User(to), spec)?
            .value;
        e.act(Actor::User(to), T).accept_share(id)?;
    }
    let mut o = e.act(Actor::User(users[0]), T);
    let id = o.share(other, Grantee::Org(orgs[1]), ShareSpec::read_only());
    let id = id?.value;
    e.act(Actor::User(users[1]), T).accept_share(id)?;
    e.act(Actor::User(users[0]), T).share(
        other,
        Grantee::Public,
        ShareSpec::exchange_data(),
    )?;
    Ok(e)
}

fn project_portal() -> Result<Engine> {
    let mut e = presets::project_portal().build()?;
    let mut sys = e.act(Actor::System, T);
    let solar = sys.create_org("Solar")?.value;
    let owner = sys.create_user(solar, "owner@solar.example")?.value;
    let viewer = sys.create_user(solar, "viewer@solar.example")?.value;
    let admin = sys
        .engine()
        .role_by_name(solar, "Account administrator")
        .ok_or("role")?;
    sys.grant_role(owner, admin, &[])?;
    let mut o = e.act(Actor::User(owner), T);
    let open = o.create_object(solar, "project", "Open", &[])?.value;
    o.create_object(solar, "dashboard", "Open dash", &[open])?;
    let closed = o.create_object(solar, "project", "Closed", &[])?.value;
    o.create_object(solar, "dataset", "Closed data", &[closed])?;
    o.set_public(closed, false)?;
    o.share_by_email(closed, "viewer@solar.example", ShareSpec::read_only())?;
    o.issue_token(owner, Some(closed), "ci", None)?;
    o.issue_token(owner, None, "all", None)?;
    let later = Timestamp::from_unix_millis(1_700_000_000_001);
    o.issue_token(owner, Some(open), "expiring", Some(later))?;
    e.act(Actor::User(viewer), T).issue_token(viewer, None, "mine", None)?;
    Ok(e)
}

/// The bytes requested while loading the binary snapshot `bytes`: the
/// more of a load from the slice and one streamed from a reader, limited
/// to the snapshot's length (with the options that read what
/// `bincode::serialize` writes).
fn requested(bytes: &[u8]) -> usize {
    let limited = bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .allow_trailing_bytes()
        .with_limit(bytes.len() as u64);
    // Requests count whether or not they succeed, so the counter may
    // wrap around between loads (not within one): it is read modulo
    // 2^64, not through `Region::change`, which would overflow.
    let counted = || GLOBAL.stats().bytes_allocated;
    let start = counted();
    let sliced = bincode::deserialize::<Engine>(bytes);
    let from_slice = counted().wrapping_sub(start);
    drop(sliced);
    let start = counted();
    let streamed = limited.deserialize_from::<_, Engine>(bytes);
    let from_reader = counted().wrapping_sub(start);
    drop(streamed);
    from_slice.max(from_reader)
}

/// The bytes a load of `e`'s binary snapshot requests, and the most one
/// load requests when a word of the snapshot that may be a length prefix
/// (a little-endian `u64` no larger than the bytes after it, as every
/// length is) is set to 2^40 or 2^60.
fn tampered_loads(e: &Engine) -> Result<(usize, usize)> {
    let bytes = bincode::serialize(e)?;
    let intact = requested(&bytes);
    let mut worst = 0;
    for i in 0..bytes.len().saturating_sub(7) {
        let word: [u8; 8] = bytes[i..i + 8].try_into()?;
        if u64::from_le_bytes(word) > (bytes.len() - i - 8) as u64 {
            continue;
        }
        for huge in [1u64 << 40, 1 << 60] {
            let mut edited = bytes.clone();
            edited[i..i + 8].copy_from_slice(&huge.to_le_bytes());
            worst = worst.max(requested(&edited));
        }
    }
    Ok((intact, worst))
}

/// The most a tampered load may request: the snapshot's records, and a
/// collection in progress within another, each reserving at most 1 MiB
/// ahead of its elements.
const MAX_TAMPERED_REQUEST: usize = 4 << 20;

fn main() -> Result<()> {
    let mut engines = vec![("arbiter", arbiter()?)];
    for policy in [Downstream::Keep, Downstream::Cascade, Downstream::Restrict]
    {
        engines.push(("portfolio", portfolio(policy)?));
    }
    engines.push(("project_portal", project_portal()?));
    let mut failed = false;
    for (name, e) in &engines {
        let (queries, allows, allocations) = count(e);
        // Guard against a vacuous run: the policies must allow and deny.
        assert!(allows > 0 && allows < queries, "{name}: {allows}/{queries}");
        println!(
            "{name}: {queries} checks ({allows} allowed), \
             {allocations} allocations"
        );
        failed |= allocations != 0;
    }
    // One policy of each preset (the portfolios differ in a setting).
    let mut seen = Vec::new();
    for (name, e) in &engines {
        if seen.contains(name) {
            continue;
        }
        seen.push(*name);
        let (intact, worst) = tampered_loads(e)?;
        println!(
            "{name}: a binary load requests {intact} bytes, a tampered \
             one at most {worst}"
        );
        failed |= worst > MAX_TAMPERED_REQUEST;
    }
    // The counter works: an allocation while counting is seen.
    let region = Region::new(GLOBAL);
    let v: Vec<u64> = std::hint::black_box(vec![1, 2, 3]);
    assert!(region.change().allocations >= 1, "counter is dead");
    drop(v);
    if failed {
        return Err("`check` allocated, or a tampered load requested \
                    too much"
            .into());
    }
    Ok(())
}
