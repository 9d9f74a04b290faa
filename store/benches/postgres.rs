//! The PostgreSQL store on the real server (`DATABASE_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`), in a schema of its own
//! that is dropped at the end.
//!
//! # Criterion group `postgres`
//!
//! The engine holds one organization and one user; every op sets the
//! user's platform-administrator flag (`Op::SetPlatformAdmin`, on and off
//! in turn), so the state does not grow with the iterations and every op
//! is applied.
//!
//! * `durable/apply`: one [`DurableEngine::apply`]: the mutation on a
//!   private copy, its event committed (one `INSERT … RETURNING` plus
//!   `pg_notify`, one statement), then published.
//! * `durable/batch_100`: [`DurableEngine::apply_batch`] of 100 such
//!   ops, committed in one transaction.
//! * The floor, beside them in the same run: the same row bytes (an
//!   event row of the first group, sequence numbers aside) written to a
//!   plain table of the same shape with no engine at all:
//!   `floor/insert` (one prepared `INSERT`, autocommit: one round trip
//!   and one commit, as the store's append), `floor/begin_insert_commit`
//!   (`BEGIN`, `INSERT`, `COMMIT`: three round trips) and
//!   `floor/insert_100` (100 rows in one `INSERT … SELECT unnest(…)`).
//!
//! # Replica lag
//!
//! Not a criterion benchmark: in a namespace of its own, a writer commits
//! the same ops at a steady 500 per second for 4 s, and a replica on a connection of its
//! own follows it ([`Follower`] on a [`PgListener`]). For each write the
//! lag is the time from the writer's `apply` returning to the replica's
//! published revision reaching it, seen by a thread that polls
//! [`DurableEngine::revision`] every ~50 µs. Prints the writer's commit
//! latency and the lag, p50, p99 and max.
//!
//! Run with `cargo bench -p accord-store --bench postgres`; `-- --test`
//! runs every benchmark once and the lag for 0.5 s at 200 per second.

use std::collections::VecDeque;
use std::error::Error;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use accord::{presets, Actor, Op, Revision, Timestamp, UserId};
use accord_store::{DurableEngine, Follower, PgListener, PgStore};
use criterion::{BatchSize, Criterion, SamplingMode};
use postgres::{Client, NoTls};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn t() -> Timestamp {
    Timestamp::from_unix_millis(1_700_000_000_000)
}

/// Sets `user`'s platform-administrator flag, on and off in turn.
fn toggle(user: UserId) -> Op {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    Op::SetPlatformAdmin { user, admin: n.is_multiple_of(2) }
}

/// Opens the engine of `ns`, with one organization and one user (made
/// on the first open).
fn open(ns: &Ns) -> Result<(DurableEngine<PgStore>, UserId)> {
    let durable = DurableEngine::open(
        PgStore::connect(&ns.url, &ns.name)?,
        presets::arbiter(),
    )?;
    let email = "bench@x.example";
    if durable.snapshot().user_by_email(email).is_none() {
        let _ = durable.act(Actor::System, t(), |sys| {
            let org = sys.create_org("Bench")?.value;
            sys.accept_terms(org)?;
            sys.create_user(org, email)
        })??;
    }
    let user = durable.snapshot().user_by_email(email).ok_or("no user")?;
    Ok((durable, user))
}

/// The bench's schema, dropped when it ends.
struct Ns {
    url: String,
    name: String,
}

impl Drop for Ns {
    fn drop(&mut self) {
        if let Ok(mut c) = Client::connect(&self.url, NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                self.name
            ));
        }
    }
}

fn bench_writes(c: &mut Criterion, ns: &Ns) -> Result<()> {
    let (durable, user) = open(ns)?;
    // The row bytes the floor writes: one event of the same kind.
    let _ = durable.apply(Actor::System, t(), toggle(user))?;
    let row = serde_json::to_string(
        durable.snapshot().events().last().ok_or("no event")?,
    )?;

    let mut floor = Client::connect(&ns.url, NoTls)?;
    floor.batch_execute(&format!(
        "CREATE TABLE \"{0}\".floor (
             seq BIGINT PRIMARY KEY,
             revision BIGINT NOT NULL,
             event TEXT NOT NULL)",
        ns.name
    ))?;
    let insert = floor.prepare(&format!(
        "INSERT INTO \"{}\".floor (seq, revision, event) VALUES ($1, $2, $3)",
        ns.name
    ))?;
    let insert_many = floor.prepare(&format!(
        "INSERT INTO \"{}\".floor (seq, revision, event)
         SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[])",
        ns.name
    ))?;
    let mut seq: i64 = 0;

    let mut group = c.benchmark_group("postgres");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sampling_mode(SamplingMode::Flat);
    group.bench_function("durable/apply", |b| {
        b.iter_batched(
            || toggle(user),
            |op| durable.apply(Actor::System, t(), op).map(|_| ()),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("floor/insert", |b| {
        b.iter(|| {
            seq += 1;
            floor.execute(&insert, &[&seq, &seq, &row]).map(|_| ())
        });
    });
    group.bench_function("floor/begin_insert_commit", |b| {
        b.iter(|| {
            seq += 1;
            let mut tx = floor.transaction()?;
            let _ = tx.execute(&insert, &[&seq, &seq, &row])?;
            tx.commit()
        });
    });
    group.bench_function("durable/batch_100", |b| {
        b.iter_batched(
            || -> Vec<_> {
                (0..100).map(|_| (Actor::System, t(), toggle(user))).collect()
            },
            |ops| durable.apply_batch(ops).map(|_| ()),
            BatchSize::SmallInput,
        );
    });
    let rows: Vec<&str> = vec![row.as_str(); 100];
    group.bench_function("floor/insert_100", |b| {
        b.iter(|| {
            let seqs: Vec<i64> = (seq + 1..=seq + 100).collect();
            seq += 100;
            floor.execute(&insert_many, &[&seqs, &seqs, &rows]).map(|_| ())
        });
    });
    group.finish();
    Ok(())
}

/// p-th percentile of sorted `xs`, in microseconds.
fn pct(xs: &[Duration], p: f64) -> f64 {
    let i = ((xs.len() as f64 - 1.0) * p).round() as usize;
    xs.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1e6)
}

fn replica_lag(ns: &Ns, smoke: bool) -> Result<()> {
    let (rate, seconds) = if smoke { (200, 0.5) } else { (500, 4.0) };
    let writes = (f64::from(rate) * seconds) as u64;
    let period = Duration::from_secs(1) / rate;
    let (writer, user) = open(ns)?;
    let replica = Arc::new(open(ns)?.0);
    let follower = Follower::spawn(
        Arc::clone(&replica),
        PgListener::connect(&ns.url, &ns.name)?,
        Duration::from_secs(1),
    )?;
    let (tx, rx) = mpsc::channel::<(Revision, Instant)>();
    let observed = Arc::clone(&replica);
    let observer = std::thread::spawn(move || {
        let mut pending: VecDeque<(Revision, Instant)> = VecDeque::new();
        let mut lags = Vec::new();
        let mut open = true;
        let deadline = Instant::now() + Duration::from_secs(60);
        while (open || !pending.is_empty()) && Instant::now() < deadline {
            loop {
                match rx.try_recv() {
                    Ok(item) => pending.push_back(item),
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => {
                        open = false;
                        break;
                    }
                }
            }
            let reached = observed.revision();
            let now = Instant::now();
            while pending.front().is_some_and(|(rev, _)| *rev <= reached) {
                if let Some((_, committed)) = pending.pop_front() {
                    lags.push(now.duration_since(committed));
                }
            }
            std::thread::sleep(Duration::from_micros(50));
        }
        lags
    });

    let mut commits = Vec::new();
    let start = Instant::now();
    for i in 0..writes {
        let due = start + period * u32::try_from(i)?;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let began = Instant::now();
        let rev = writer.apply(Actor::System, t(), toggle(user))?;
        let done = Instant::now();
        commits.push(done - began);
        tx.send((rev, done))?;
    }
    let elapsed = start.elapsed();
    drop(tx);
    let mut lags = observer.join().map_err(|_| "the observer panicked")?;
    let errors = follower.errors();
    follower.stop();
    commits.sort();
    lags.sort();
    println!(
        "replica lag: {writes} writes in {:.2} s ({:.0}/s achieved, \
         {rate}/s asked), follower errors {errors}",
        elapsed.as_secs_f64(),
        writes as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  writer commit (apply returning): p50 {:.0} us, p99 {:.0} us, \
         max {:.0} us",
        pct(&commits, 0.5),
        pct(&commits, 0.99),
        pct(&commits, 1.0)
    );
    println!(
        "  replica lag (commit returned -> replica published), {} seen: \
         p50 {:.0} us, p99 {:.0} us, max {:.0} us",
        lags.len(),
        pct(&lags, 0.5),
        pct(&lags, 0.99),
        pct(&lags, 1.0)
    );
    if lags.len() as u64 != writes {
        return Err("the replica did not reach every write in time".into());
    }
    Ok(())
}

// `criterion_group!` would define an undocumented `pub fn`, which the
// crate's `missing_docs = "deny"` refuses; this is what it expands to.
fn main() -> Result<()> {
    let url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.into());
    if let Err(e) = Client::connect(&url, NoTls) {
        let e = match std::error::Error::source(&e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        };
        return Err(format!(
            "the PostgreSQL server is unreachable at `{url}` ({e}): this \
             bench needs it; start it or set DATABASE_URL"
        )
        .into());
    }
    let name = format!("accord_bench_{}", std::process::id());
    let ns = Ns { url: url.clone(), name: name.clone() };
    let smoke = std::env::args().any(|a| a == "--test");
    let mut c = Criterion::default().configure_from_args();
    bench_writes(&mut c, &ns)?;
    c.final_summary();
    replica_lag(&Ns { url, name: format!("{name}_lag") }, smoke)
}
