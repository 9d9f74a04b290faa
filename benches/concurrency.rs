//! Concurrent readers, and readers beside a writer.
//!
//! Not a criterion benchmark: it measures throughput across threads and a
//! latency distribution (p99), which criterion does not report. It prints
//! a table; `BENCHMARKS.md` records it with the command.
//!
//! # Workload
//!
//! `ORGS` organizations of the Arbiter preset, each with 50 users and 50
//! objects of each of the six data types (observations and forecasts under
//! a site); every user holds one default role (round-robin), every second
//! user also a custom role with one applies-to-all and one explicit-list
//! permission. A fixed stream of 4,096 queries, 70% inside the user's own
//! organization, actions `read`, `read_values`, `write_values`, `update`
//! and `delete`.
//!
//! # Measurements
//!
//! 1. **Reader scaling.** One thread answers the stream 200 times on
//!    a shared `&Engine`; then two threads do the same work each, at once.
//!    Throughput ratio = 2 × (one-thread time) / (two-thread time), median
//!    of 7 rounds after a discarded one. The same through [`Shared::check`] (a snapshot per
//!    query: two contended atomic updates) and through one
//!    [`accord::Reader`] per thread (one atomic load per query).
//! 2. **Readers beside a writer.** A reader thread answers queries
//!    through an [`accord::Reader`] for 10 s, timing each query; a writer
//!    thread grants and revokes a role through [`Shared::write`] at 1,000
//!    mutations per second. The reader's latency percentiles, against the
//!    same reader with no writer. Each timing includes two `Instant::now`
//!    calls.
//!
//! It first reports the build time, memory (`VmRSS`, `VmHWM`) and the
//! snapshot save and load times, in JSON and in bincode. `ACCORD_ORGS=<n>` sets the number of
//! organizations; with `ACCORD_SCALE_ONLY=1` it stops after that report.
//!
//! With `ACCORD_SNAPSHOT=<file>` it does one thing and stops: if the file
//! does not exist, it builds the workload and writes it there as a
//! snapshot (JSON if the name ends in `.json`, bincode otherwise); if it
//! does, it only loads it, streaming from the file, and reports the load
//! time and memory, so that the process's peak (`VmHWM`) is the peak of a
//! load alone.
//!
//! Run with `cargo bench --bench concurrency`; `-- --test` runs a short
//! smoke version (as CI does).

use std::error::Error;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use accord::{
    presets, ActionId, Actor, Decision, Engine, ObjectId, RoleId, Shared,
    Subject, Timestamp, UserId,
};
use bincode::Options;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const ORGS: usize = 100;
const USERS: usize = 50;
const PER_TYPE: usize = 50;
const QUERIES: usize = 4096;
const TYPES: [&str; 6] = [
    "sites",
    "observations",
    "forecasts",
    "cdf_forecasts",
    "aggregates",
    "reports",
];
const DEFAULT_ROLES: [&str; 5] = [
    "Read all",
    "Write all values",
    "Create metadata",
    "Delete metadata",
    "Update all",
];
const ACTIONS: [&str; 5] =
    ["read", "read_values", "write_values", "update", "delete"];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (((z ^ (z >> 31)) as u128 * n as u128) >> 64) as usize
    }
}

struct Workload {
    engine: Engine,
    queries: Vec<(Subject, ActionId, ObjectId, Decision)>,
    /// A user, and a custom role of their organization they do not hold.
    writer_case: (UserId, RoleId),
    /// Audit events drained during the build (`ACCORD_DRAIN`).
    drained: usize,
}

fn build(orgs: usize) -> Result<Workload> {
    let mut e = presets::arbiter().build()?;
    let t = Timestamp::from_unix_millis(0);
    let mut rng = Rng(0x5eed);
    let mut users: Vec<(UserId, usize)> = Vec::new();
    let mut objects: Vec<Vec<ObjectId>> = Vec::new();
    let mut writer_case = None;
    let drain = std::env::var_os("ACCORD_DRAIN").is_some();
    let mut drained = 0;
    for o in 0..orgs {
        let mut sys = e.act(Actor::System, t);
        let org = sys.create_org(&format!("Org {o}"))?.value;
        sys.accept_terms(org)?;
        let mut mine = Vec::new();
        let mut sites = Vec::new();
        for ty in TYPES {
            for i in 0..PER_TYPE {
                let parents = match ty {
                    "observations" | "forecasts" if !sites.is_empty() => {
                        vec![sites[rng.below(sites.len())]]
                    }
                    _ => Vec::new(),
                };
                let key = format!("o{o}-{ty}-{i}");
                let id = sys.create_object(org, ty, &key, &parents)?.value;
                if ty == "sites" {
                    sites.push(id);
                }
                mine.push(id);
            }
        }
        let custom = sys.create_role(org, "Custom", "")?.value;
        let all =
            sys.create_permission_all(org, "All reports", "read", "reports");
        sys.add_permission_to_role(custom, all?.value)?;
        let listed: Vec<ObjectId> =
            (0..8).map(|_| mine[rng.below(mine.len())]).collect();
        let mut listed = listed;
        listed.sort_unstable();
        listed.dedup();
        let some = sys.create_permission_for(
            org,
            "Some values",
            "read_values",
            "observations",
            &[],
        )?;
        for obj in listed {
            if sys.engine().object(obj).map(|r| r.object_type())
                == sys.engine().schema().object_type("observations")
            {
                sys.add_object_to_permission(some.value, obj)?;
            }
        }
        sys.add_permission_to_role(custom, some.value)?;
        for u in 0..USERS {
            let user = sys.create_user(org, &format!("u{u}@o{o}.example"))?;
            let user = user.value;
            let name = DEFAULT_ROLES[u % DEFAULT_ROLES.len()];
            let role = sys.engine().role_by_name(org, name).ok_or("role")?;
            sys.grant_role(user, role, &[])?;
            if u % 2 == 0 {
                sys.grant_role(user, custom, &[])?;
            } else if writer_case.is_none() {
                writer_case = Some((user, custom));
            }
            users.push((user, o));
        }
        objects.push(mine);
        if drain {
            // As an application streaming its audit log to storage would.
            drained += e.drain_events().len();
        }
    }
    let actions: Vec<ActionId> = ACTIONS
        .iter()
        .map(|a| e.schema().action(a).ok_or("action"))
        .collect::<std::result::Result<_, _>>()?;
    let mut queries = Vec::with_capacity(QUERIES);
    for _ in 0..QUERIES {
        let (user, org) = users[rng.below(users.len())];
        let target = if rng.below(100) < 70 { org } else { rng.below(orgs) };
        let pool = &objects[target];
        let object = pool[rng.below(pool.len())];
        let action = actions[rng.below(actions.len())];
        let s = Subject::User(user);
        queries.push((s, action, object, e.check(s, action, object)));
    }
    let writer_case = writer_case.ok_or("no writer case")?;
    Ok(Workload { engine: e, queries, writer_case, drained })
}

fn answer_all(
    check: impl Fn(Subject, ActionId, ObjectId) -> Decision,
    queries: &[(Subject, ActionId, ObjectId, Decision)],
    passes: usize,
) -> usize {
    let mut wrong = 0;
    for _ in 0..passes {
        for (s, a, o, want) in queries {
            wrong += usize::from(check(black_box(*s), *a, *o) != *want);
        }
    }
    wrong
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Two-thread throughput over one-thread throughput, median of `rounds`.
fn scaling<F>(check: F, w: &Workload, passes: usize, rounds: usize) -> f64
where
    F: Fn(Subject, ActionId, ObjectId) -> Decision + Sync,
{
    let q = w.queries.as_slice();
    // A discarded round first: page faults and cold caches after setup.
    answer_all(&check, q, passes);
    let mut ratios = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        assert_eq!(answer_all(&check, q, passes), 0, "wrong decision");
        let one = t.elapsed().as_secs_f64();
        let t = Instant::now();
        std::thread::scope(|s| {
            let a = s.spawn(|| answer_all(&check, q, passes));
            let b = s.spawn(|| answer_all(&check, q, passes));
            let wrong = a.join().unwrap_or(1) + b.join().unwrap_or(1);
            assert_eq!(wrong, 0, "wrong decision");
        });
        let two = t.elapsed().as_secs_f64();
        ratios.push(2.0 * one / two);
    }
    median(ratios)
}

/// As [`scaling`], each thread with its own [`accord::Reader`].
fn scaling_readers(
    shared: &Shared,
    w: &Workload,
    passes: usize,
    rounds: usize,
) -> f64 {
    let q = w.queries.as_slice();
    let run = || {
        let mut r = shared.reader();
        let mut wrong = 0;
        for _ in 0..passes {
            for (s, a, o, want) in q {
                wrong += usize::from(r.check(black_box(*s), *a, *o) != *want);
            }
        }
        wrong
    };
    run();
    let mut ratios = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        assert_eq!(run(), 0, "wrong decision");
        let one = t.elapsed().as_secs_f64();
        let t = Instant::now();
        std::thread::scope(|s| {
            let a = s.spawn(run);
            let b = s.spawn(run);
            let wrong = a.join().unwrap_or(1) + b.join().unwrap_or(1);
            assert_eq!(wrong, 0, "wrong decision");
        });
        let two = t.elapsed().as_secs_f64();
        ratios.push(2.0 * one / two);
    }
    median(ratios)
}

struct Latency {
    queries: usize,
    mutations: usize,
    p50: u64,
    p99: u64,
    p999: u64,
    max: u64,
}

/// A reader timing each `Reader::check` for `run`; with `writer`, a
/// second thread grants and revokes a role 1,000 times a second.
fn latency(w: &Workload, run: Duration, writer: bool) -> Latency {
    let shared = Shared::new(w.engine.clone());
    let stop = AtomicBool::new(false);
    let (user, role) = w.writer_case;
    let mut samples: Vec<u64> = Vec::with_capacity(50_000_000);
    let mut mutations = 0;
    std::thread::scope(|s| {
        let writer = writer.then(|| {
            s.spawn(|| {
                let t = Timestamp::from_unix_millis(0);
                let start = Instant::now();
                let mut n: u32 = 0;
                while !stop.load(Ordering::Relaxed) {
                    let ok = shared.write(|e| {
                        let mut sys = e.act(Actor::System, t);
                        if n % 2 == 0 {
                            sys.grant_role(user, role, &[]).is_ok()
                        } else {
                            sys.revoke_role(user, role).is_ok()
                        }
                    });
                    assert!(ok, "writer's mutation refused");
                    n += 1;
                    // 1,000 per second, on schedule.
                    let due = start + Duration::from_millis(u64::from(n));
                    if let Some(wait) =
                        due.checked_duration_since(Instant::now())
                    {
                        std::thread::sleep(wait);
                    }
                }
                n as usize
            })
        });
        let q = &w.queries;
        let mut reader = shared.reader();
        let start = Instant::now();
        let mut i = 0usize;
        while start.elapsed() < run {
            let (su, a, o, _) = q[i % q.len()];
            let t = Instant::now();
            black_box(reader.check(black_box(su), a, o));
            samples.push(t.elapsed().as_nanos() as u64);
            i += 1;
        }
        stop.store(true, Ordering::Relaxed);
        if let Some(h) = writer {
            mutations = h.join().unwrap_or(0);
        }
    });
    samples.sort_unstable();
    let at = |p: f64| {
        let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
        samples.get(i).copied().unwrap_or(0)
    };
    Latency {
        queries: samples.len(),
        mutations,
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
        max: samples.last().copied().unwrap_or(0),
    }
}

/// Resident and peak memory of this process (Linux; empty elsewhere).
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status");
    let status = status.unwrap_or_default();
    let lines: Vec<String> = status
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    lines.join(", ")
}

fn main() -> Result<()> {
    let smoke = std::env::args().any(|a| a == "--test");
    let (orgs, passes, rounds, run) = if smoke {
        (5, 2, 1, Duration::from_millis(200))
    } else {
        (ORGS, 200, 7, Duration::from_secs(10))
    };
    let orgs = match std::env::var("ACCORD_ORGS") {
        Ok(v) => v.parse()?,
        Err(_) => orgs,
    };
    let snapshot = std::env::var_os("ACCORD_SNAPSHOT").map(PathBuf::from);
    if let Some(path) = snapshot.as_ref().filter(|p| p.exists()) {
        let t = Instant::now();
        let file = std::fs::File::open(path)?;
        let limit = file.metadata()?.len();
        let file = std::io::BufReader::new(file);
        let engine: Engine = if is_json(path) {
            Engine::read_json(file)?
        } else {
            // What `bincode::serialize_into` writes, read no further
            // than the file's length (see the crate docs).
            bincode::DefaultOptions::new()
                .with_fixint_encoding()
                .allow_trailing_bytes()
                .with_limit(limit)
                .deserialize_from(file)?
        };
        println!(
            "loaded {} users, {} objects from {} in {:.2?}; {}",
            engine.users().count(),
            engine.objects().count(),
            path.display(),
            t.elapsed(),
            memory()
        );
        return Ok(());
    }
    let t = Instant::now();
    let w = build(orgs)?;
    let built = t.elapsed();
    println!(
        "workload: {orgs} organizations, {} users, {} objects, {} queries",
        w.engine.users().count(),
        w.engine.objects().count(),
        w.queries.len()
    );
    println!(
        "built in {built:.2?} ({} audit events drained, {} retained); {}",
        w.drained,
        w.engine.events().len(),
        memory()
    );
    if std::env::var_os("ACCORD_BUILD_ONLY").is_some() {
        return Ok(());
    }
    if let Some(path) = snapshot {
        let t = Instant::now();
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        if is_json(&path) {
            w.engine.write_json(&mut file)?;
        } else {
            bincode::serialize_into(&mut file, &w.engine)?;
        }
        std::io::Write::flush(&mut file)?;
        println!("saved to {} in {:.2?}", path.display(), t.elapsed());
        return Ok(());
    }
    let t = Instant::now();
    let json = w.engine.to_json();
    let saved = t.elapsed();
    let t = Instant::now();
    let loaded = Engine::from_json(&json)?;
    println!(
        "snapshot {} MB saved in {saved:.2?}, loaded in {:.2?}",
        json.len() / 1_000_000,
        t.elapsed()
    );
    drop((json, loaded));
    // The same policy through a binary serde format (the engine is
    // `Serialize` + `Deserialize`; loading validates the same way).
    let t = Instant::now();
    let bytes = bincode::serialize(&w.engine)?;
    let saved = t.elapsed();
    let t = Instant::now();
    let loaded: Engine = bincode::deserialize(&bytes)?;
    println!(
        "bincode {} MB saved in {saved:.2?}, loaded in {:.2?}",
        bytes.len() / 1_000_000,
        t.elapsed()
    );
    drop((bytes, loaded));
    if std::env::var("ACCORD_SCALE_ONLY").is_ok() {
        return Ok(());
    }
    let e = &w.engine;
    let direct = scaling(|s, a, o| e.check(s, a, o), &w, passes, rounds);
    let shared = Shared::new(w.engine.clone());
    let via = scaling(|s, a, o| shared.check(s, a, o), &w, passes, rounds);
    let handles = scaling_readers(&shared, &w, passes, rounds);
    println!("reader scaling, 2 threads / 1 thread (throughput):");
    println!("  &Engine::check          {direct:.2}x");
    println!("  Shared::check           {via:.2}x");
    println!("  Reader::check           {handles:.2}x");

    println!("reader latency through a Reader (ns):");
    println!("  writer      queries     mutations  p50   p99   p99.9  max");
    for writer in [false, true] {
        let l = latency(&w, run, writer);
        println!(
            "  {:<10}  {:>10}  {:>9}  {:>4}  {:>4}  {:>6}  {}",
            if writer { "1,000/s" } else { "none" },
            l.queries,
            l.mutations,
            l.p50,
            l.p99,
            l.p999,
            l.max
        );
        if writer && l.mutations == 0 {
            return Err("the writer made no mutation".into());
        }
    }
    Ok(())
}

/// Whether a snapshot file is JSON (by its name).
fn is_json(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e == "json")
}
