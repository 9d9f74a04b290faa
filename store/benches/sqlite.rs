//! Criterion benchmarks of the SQLite store: what durability costs, beside
//! the floor SQLite itself sets on the same file configuration.
//!
//! # Workload
//!
//! The policy is the core crate's Arbiter workload (`benches/common/
//! arbiter.rs` of the repository, included by path): `N` organizations of
//! 50 users, 300 data objects, the six default roles and six custom ones,
//! with their grants, and its fixed stream of 4,096 queries. Each store is
//! seeded with a checkpoint of that policy, written with
//! [`Store::write_checkpoint`]: the generator drains the audit log as it
//! builds, so the events before the checkpoint are not in the store — an
//! open does not read them anyway.
//!
//! # Benchmarks
//!
//! * `write/floor_insert_commit/<rows>`: the floor. A bare `rusqlite`
//!   connection on a file of its own, set up as [`SqliteStore`] sets up
//!   its file (WAL, `synchronous=FULL`, the same events table), runs
//!   `BEGIN IMMEDIATE`, `<rows>` prepared `INSERT`s of the bytes of a
//!   real event row, and `COMMIT`: exactly the SQL of
//!   [`Store::append`], without an engine.
//! * `write/durable_apply/<orgs>`: [`DurableEngine::apply`] of one op
//!   (`CreateObject` of a report with a fresh key, as `System`): the
//!   mutation on the private copy, its event serialized, committed in its
//!   own transaction, then published.
//! * `write/durable_batch_<k>/<orgs>`, k = 100 and 1,000:
//!   [`DurableEngine::apply_batch`] of k such ops, committed in one
//!   transaction. Every `write` benchmark reports elements per second
//!   (ops, or rows for the floor).
//!
//!   The three run one after the other on one durable engine, which grows
//!   by every object they create (some hundreds of thousands by the end
//!   of `durable_batch_1000`). They write no automatic checkpoints
//!   (`checkpoint_every(0)`), so the figures are the write path alone.
//! * `checkpoint/<orgs>`: [`DurableEngine::checkpoint`] of a fresh open
//!   of the policy, after an untimed write so that each is new: the
//!   snapshot serialized and written in its own transaction. The default
//!   options write one every 10,000 events.
//! * `open/checkpoint/<orgs>`: [`SqliteStore::open`] and
//!   [`DurableEngine::open_with`] of a store holding the checkpoint and no
//!   event after it: reading the snapshot from SQLite and loading it.
//! * `open/checkpoint_tail_1000/<orgs>`: the same with 1,000 events after
//!   the checkpoint, each replayed and verified (outcome, revision,
//!   digest).
//! * `open/from_json/<orgs>`: the reference, [`Engine::from_json`] of the
//!   same snapshot from memory.
//! * `check/engine/<orgs>`: [`Engine::check`] over the query stream, on
//!   the engine a durable open published (its [`DurableEngine::snapshot`]).
//! * `check/durable/<orgs>`: [`DurableEngine::check`] on the same engine,
//!   which takes the published snapshot each call.
//! * `check/durable_reader/<orgs>`: [`accord::Reader::check`] of a
//!   [`DurableEngine::reader`], which keeps its snapshot until the next
//!   write.
//!
//!   Every decision is compared with the one the generated engine gave.
//!
//! Run with `cargo bench -p accord-store --bench sqlite`; `-- --test` runs
//! every benchmark once at 10 organizations only (the 1,000-organization
//! setup alone takes seconds). `ACCORD_SIZES=10,1000` lists the sizes.
//! Every size is set up even when a filter selects only some benchmarks.
//! The files are in a temporary directory (`TMPDIR`): put it on the disk
//! whose cost is to be measured.

use std::error::Error;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use accord::{
    presets, ActionId, Actor, Decision, Engine, ObjectId, Op, OrgId, Subject,
    Timestamp,
};
use accord_store::{Checkpoint, DurableEngine, Options, SqliteStore, Store};
use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput};
use rusqlite::{params, Connection, TransactionBehavior};

#[path = "../../benches/common/arbiter.rs"]
#[expect(
    dead_code,
    reason = "the workload module serves several benchmarks; this one \
              uses part of it"
)]
mod arbiter;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Organization counts benchmarked (unless `ACCORD_SIZES` says otherwise).
const SIZES: [usize; 2] = [10, 1000];
/// Largest size run by `-- --test`.
const SMOKE_MAX_ORGS: usize = 100;
/// Events after the checkpoint of `open/checkpoint_tail_1000`.
const TAIL: usize = 1000;
/// Ops per transaction of the batched benchmarks.
const BATCHES: [usize; 2] = [100, 1000];

fn t() -> Timestamp {
    Timestamp::from_unix_millis(1_700_000_000_000)
}

/// Fails the benchmark run with a message.
fn fail(what: &str, e: &dyn std::fmt::Display) -> ! {
    eprintln!("error: {what}: {e}");
    std::process::exit(1)
}

/// One query of the stream and the decision the generated engine gave.
#[derive(Clone, Copy, Debug)]
struct Query {
    subject: Subject,
    action: ActionId,
    object: ObjectId,
    expected: Decision,
}

/// Everything the benchmarks of one size need.
#[derive(Debug)]
struct Setup {
    dir: tempfile::TempDir,
    /// The policy's snapshot.
    snapshot: String,
    /// Where its log ends: the next event's sequence number, and its
    /// revision.
    seq: u64,
    revision: u64,
    /// Its first organization (where the writes create objects).
    org: OrgId,
    /// The query stream.
    queries: Vec<Query>,
    /// A store holding the checkpoint only.
    checkpoint: PathBuf,
    /// A store holding the checkpoint and [`TAIL`] events after it.
    with_tail: PathBuf,
}

/// No automatic checkpoints: the write path alone.
fn options() -> Options {
    Options::new().checkpoint_every(0)
}

fn open(path: &Path) -> Result<DurableEngine<SqliteStore>> {
    let store = SqliteStore::open(path)?;
    Ok(DurableEngine::open_with(store, presets::arbiter(), options())?)
}

/// A new store at `path` holding a checkpoint of the policy of `s`.
fn seed(path: &Path, s: &Setup) -> Result<()> {
    let mut store = SqliteStore::open(path)?;
    store.write_checkpoint(&Checkpoint {
        seq: s.seq,
        revision: s.revision,
        snapshot: s.snapshot.clone(),
    })?;
    Ok(())
}

/// The op of the write benchmarks: a report with a fresh key.
fn create_report(org: OrgId, key: u64) -> Op {
    Op::CreateObject {
        org,
        object_type: "reports".to_owned(),
        key: format!("bench-{key}"),
        parents: Vec::new(),
    }
}

/// Applies `ops` in one batch; an error unless every one was applied.
fn apply_all(
    policy: &DurableEngine<SqliteStore>,
    ops: impl IntoIterator<Item = Op>,
) -> Result<()> {
    let results = policy
        .apply_batch(ops.into_iter().map(|op| (Actor::System, t(), op)))?;
    for r in results {
        r?;
    }
    Ok(())
}

fn setup(n: usize) -> Result<Setup> {
    let g = arbiter::generate(n)?;
    let org = g.orgs.first().ok_or("no organization")?.id;
    let queries = arbiter::stream(&g)?
        .into_iter()
        .map(|q| {
            let subject = Subject::User(q.user);
            Query {
                subject,
                action: q.action,
                object: q.object,
                expected: g.engine.check(subject, q.action, q.object),
            }
        })
        .collect();
    let dir = tempfile::tempdir()?;
    let s = Setup {
        checkpoint: dir.path().join("checkpoint.db"),
        with_tail: dir.path().join("tail.db"),
        dir,
        snapshot: g.engine.to_json(),
        seq: g.engine.next_event_seq(),
        revision: g.engine.revision().get(),
        org,
        queries,
    };
    seed(&s.checkpoint, &s)?;
    seed(&s.with_tail, &s)?;
    let policy = open(&s.with_tail)?;
    for chunk in 0..TAIL / 100 {
        let keys = (0..100).map(|i| (chunk * 100 + i) as u64);
        apply_all(&policy, keys.map(|k| create_report(org, k)))?;
    }
    Ok(s)
}

/// The floor's connection: a file set up as [`SqliteStore`] sets up its
/// own, with the same events table.
fn floor_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    let _: String =
        conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    conn.execute_batch(
        "PRAGMA synchronous=FULL;
         CREATE TABLE IF NOT EXISTS accord_events (
             seq INTEGER PRIMARY KEY,
             revision INTEGER NOT NULL,
             event TEXT NOT NULL);",
    )?;
    Ok(conn)
}

/// One transaction of `rows` inserts of `event`, as [`Store::append`]
/// runs it.
fn floor_commit(
    conn: &mut Connection,
    seq: &mut i64,
    rows: usize,
    event: &str,
) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO accord_events (seq, revision, event)
             VALUES (?1, ?2, ?3)",
        )?;
        for _ in 0..rows {
            stmt.execute(params![*seq, *seq, event])?;
            *seq += 1;
        }
    }
    tx.commit()
}

/// `write/floor_insert_commit/<rows>`, with the bytes of `event`.
fn bench_floor(c: &mut Criterion, dir: &Path, event: &str) -> Result<()> {
    let mut conn = floor_connection(&dir.join("floor.db"))?;
    let mut seq = 0i64;
    let mut group = c.benchmark_group("write");
    for rows in [1].into_iter().chain(BATCHES) {
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(
            BenchmarkId::new("floor_insert_commit", rows),
            |b| {
                b.iter(|| {
                    floor_commit(&mut conn, &mut seq, rows, event)
                        .unwrap_or_else(|e| fail("floor commit", &e));
                });
            },
        );
    }
    group.finish();
    Ok(())
}

/// `write/durable_*/<n>` on a store seeded with the policy of `s`;
/// returns the bytes of one event row the writes committed.
fn bench_durable_writes(
    c: &mut Criterion,
    n: usize,
    s: &Setup,
) -> Result<String> {
    let path = s.dir.path().join("write.db");
    seed(&path, s)?;
    let policy = open(&path)?;
    let mut key = 0u64;
    policy.apply(Actor::System, t(), create_report(s.org, key))?;
    key += 1;
    let snap = policy.snapshot();
    let last = snap.events().last().ok_or("no event")?;
    let event = serde_json::to_string(last)?;
    drop(snap);

    let mut group = c.benchmark_group("write");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("durable_apply", n), |b| {
        b.iter(|| {
            let op = create_report(s.org, key);
            key += 1;
            policy
                .apply(Actor::System, t(), op)
                .unwrap_or_else(|e| fail("durable apply", &e));
        });
    });
    for k in BATCHES {
        group.throughput(Throughput::Elements(k as u64));
        let id = BenchmarkId::new(format!("durable_batch_{k}"), n);
        group.bench_function(id, |b| {
            b.iter(|| {
                let from = key;
                key += k as u64;
                let ops = (from..key).map(|i| create_report(s.org, i));
                apply_all(&policy, ops)
                    .unwrap_or_else(|e| fail("durable batch", &*e));
            });
        });
    }
    group.finish();
    Ok(event)
}

/// `checkpoint/<n>`, on a fresh durable open of the policy of `s`.
fn bench_checkpoint(c: &mut Criterion, n: usize, s: &Setup) -> Result<()> {
    let path = s.dir.path().join("checkpoints.db");
    seed(&path, s)?;
    let policy = open(&path)?;
    let mut key = 0u64;
    let mut group = c.benchmark_group("checkpoint");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function(BenchmarkId::from_parameter(n), |b| {
        // A write before each, untimed, so that every checkpoint is new.
        b.iter_batched(
            || {
                policy
                    .apply(Actor::System, t(), create_report(s.org, key))
                    .unwrap_or_else(|e| fail("durable apply", &e));
                key += 1;
            },
            |()| {
                policy.checkpoint().unwrap_or_else(|e| fail("checkpoint", &e));
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
    Ok(())
}

/// `open/*/<n>`.
fn bench_open(c: &mut Criterion, n: usize, s: &Setup) {
    let mut group = c.benchmark_group("open");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1));
    for (name, path, events) in [
        ("checkpoint", &s.checkpoint, 0),
        ("checkpoint_tail_1000", &s.with_tail, TAIL),
    ] {
        group.bench_function(BenchmarkId::new(name, n), |b| {
            b.iter_with_large_drop(|| {
                let policy = open(path).unwrap_or_else(|e| fail("open", &*e));
                let replayed = policy.progress().last_caught_up_events;
                if replayed != events {
                    fail("open", &format!("replayed {replayed} events"));
                }
                policy
            });
        });
    }
    group.bench_function(BenchmarkId::new("from_json", n), |b| {
        b.iter_with_large_drop(|| {
            Engine::from_json(black_box(&s.snapshot))
                .unwrap_or_else(|e| fail("from_json", &e))
        });
    });
    group.finish();
}

/// `check/*/<n>`, on a durable open of the checkpoint.
fn bench_check(c: &mut Criterion, n: usize, s: &Setup) -> Result<()> {
    let policy = open(&s.checkpoint)?;
    let engine = policy.snapshot();
    let queries = &s.queries;
    let mask = queries.len() - 1;
    let mut group = c.benchmark_group("check");
    let mut cycle =
        |name: &str, answer: &mut dyn FnMut(&Query) -> Decision| {
            group.bench_function(BenchmarkId::new(name, n), |b| {
                let mut i = 0usize;
                let mut wrong = 0u64;
                b.iter(|| {
                    if let Some(q) = queries.get(i & mask) {
                        wrong += u64::from(answer(black_box(q)) != q.expected);
                    }
                    i = i.wrapping_add(1);
                });
                if wrong > 0 {
                    fail("check", &format!("{name}: {wrong} wrong decisions"));
                }
            });
        };
    cycle("engine", &mut |q| engine.check(q.subject, q.action, q.object));
    cycle("durable", &mut |q| policy.check(q.subject, q.action, q.object));
    let mut reader = policy.reader();
    cycle("durable_reader", &mut |q| {
        reader.check(q.subject, q.action, q.object)
    });
    group.finish();
    Ok(())
}

/// The sizes to run: `ACCORD_SIZES` (comma-separated organization
/// counts) or [`SIZES`].
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

fn benches(c: &mut Criterion) -> Result<()> {
    let smoke = std::env::args().any(|a| a == "--test");
    let mut floor_done = false;
    for n in sizes() {
        if smoke && n > SMOKE_MAX_ORGS {
            continue;
        }
        let s = setup(n)?;
        let event = bench_durable_writes(c, n, &s)?;
        if !floor_done {
            bench_floor(c, s.dir.path(), &event)?;
            floor_done = true;
        }
        bench_checkpoint(c, n, &s)?;
        bench_open(c, n, &s);
        bench_check(c, n, &s)?;
    }
    Ok(())
}

// `criterion_group!` would define an undocumented `pub fn`, which the
// crate's `missing_docs = "deny"` refuses; this is what it expands to.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c).unwrap_or_else(|e| fail("benchmarks", &*e));
    c.final_summary();
}
