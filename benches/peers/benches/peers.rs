//! `accord`'s `check` side by side with `cedar-policy` and `casbin` on the
//! Arbiter workload of `benches/check.rs` (see `src/workload.rs` here).
//!
//! For each size, the workload is built in accord, read back and
//! translated to Cedar and Casbin (see `src/lib.rs`), and every query of
//! the 4,096-query stream is answered by all three engines before timing.
//! Any disagreement prints the query and the three answers and ends the
//! run with a non-zero exit status.
//!
//! Benchmarks (one query per iteration, cycling over the stream, so the
//! time per iteration is the time per query):
//!
//! * `peers/accord/<orgs>`: `Engine::check`;
//! * `peers/cedar/<orgs>`: `Authorizer::is_authorized` with a prebuilt
//!   `PolicySet`, `Entities` and `Request`s;
//! * `peers/casbin/<orgs>`: `Enforcer::enforce` (synchronous) with
//!   prebuilt request strings.
//!
//! Sizes: 10 and 100 organizations (`ACCORD_PEERS_ORGS=10,100,1000`
//! chooses others). `cargo bench --bench peers -- --test` runs every
//! benchmark once after the cross-check, at 10 organizations only.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use accord_peers::{Peers, Result};
use criterion::{BenchmarkId, Criterion, SamplingMode};

/// Organization counts benchmarked by default.
const SIZES: [usize; 2] = [10, 100];
/// Organization counts of the smoke run (`--test`).
const SMOKE_SIZES: [usize; 1] = [10];
/// Per-query cost above which a benchmark takes ten flat samples.
const SLOW: Duration = Duration::from_micros(50);

fn main() -> ExitCode {
    let smoke = std::env::args().any(|a| a == "--test");
    let mut c = Criterion::default().configure_from_args();
    let sizes = match sizes(smoke) {
        Ok(s) => s,
        Err(e) => return fail(&*e),
    };
    for n in sizes {
        if let Err(e) = bench_size(&mut c, n) {
            return fail(&*e);
        }
    }
    c.final_summary();
    ExitCode::SUCCESS
}

fn fail(e: &dyn std::error::Error) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}

/// The sizes to run: `ACCORD_PEERS_ORGS` if set, else the defaults.
fn sizes(smoke: bool) -> Result<Vec<usize>> {
    match std::env::var("ACCORD_PEERS_ORGS") {
        Ok(list) => list
            .split(',')
            .map(|s| s.trim().parse::<usize>().map_err(Into::into))
            .collect(),
        Err(_) if smoke => Ok(SMOKE_SIZES.to_vec()),
        Err(_) => Ok(SIZES.to_vec()),
    }
}

/// Mean time per query of one pass over the stream, and the answers.
fn pass(
    peers: &Peers,
    mut answer: impl FnMut(&accord_peers::Prepared) -> Result<bool>,
) -> Result<(Duration, Vec<bool>)> {
    let start = Instant::now();
    let mut out = Vec::with_capacity(peers.prepared.len());
    for p in &peers.prepared {
        out.push(answer(black_box(p))?);
    }
    let per_query = start.elapsed() / u32::try_from(out.len().max(1))?;
    Ok((per_query, out))
}

fn bench_size(c: &mut Criterion, n: usize) -> Result<()> {
    let start = Instant::now();
    let peers = Peers::build(n)?;
    let built = start.elapsed();
    let engine = &peers.workload.engine;
    eprintln!(
        "peers {n} orgs: built and translated in {:.1} s: accord {} users, \
         {} objects, {} roles, {} grants; cedar {} policies; casbin {} p \
         lines",
        built.as_secs_f64(),
        engine.users().count(),
        engine.objects().count(),
        engine.roles().count(),
        engine.grants().count(),
        peers.cedar.policy_count(),
        peers.casbin.policy_count(),
    );

    // Cross-check: every query, every engine, before any timing.
    let (t_accord, accord) =
        pass(&peers, |p| Ok(peers.accord_allows(&p.query)))?;
    let (t_cedar, cedar) =
        pass(&peers, |p| Ok(peers.cedar.is_allowed(&p.cedar)))?;
    let (t_casbin, casbin) =
        pass(&peers, |p| peers.casbin.is_allowed(&p.casbin))?;
    let mut mismatches = 0;
    for (i, p) in peers.prepared.iter().enumerate() {
        let (a, c, s) = (accord.get(i), cedar.get(i), casbin.get(i));
        if a != c || a != s {
            mismatches += 1;
            eprintln!(
                "MISMATCH query {i} (user u{}, {}, object o{}): accord {a:?}, \
                 cedar {c:?}, casbin {s:?}",
                p.query.user.as_u32(),
                p.query.action_name,
                p.query.object.as_u32(),
            );
        }
    }
    let allowed = accord.iter().filter(|a| **a).count();
    eprintln!(
        "peers {n} orgs: cross-check of {} queries ({allowed} allowed): \
         {mismatches} mismatches; one pass per query: accord {t_accord:?}, \
         cedar {t_cedar:?}, casbin {t_casbin:?}",
        peers.prepared.len(),
    );
    if mismatches != 0 {
        return Err(format!("{mismatches} mismatches at {n} orgs").into());
    }

    let mask = peers.prepared.len() - 1;
    if !peers.prepared.len().is_power_of_two() {
        return Err("the query stream's length is not a power of two".into());
    }
    let mut group = c.benchmark_group("peers");
    // The position persists across samples, so that together they cover
    // the stream even when each takes few iterations.
    let mut i = 0usize;
    group.bench_function(BenchmarkId::new("accord", n), |b| {
        b.iter(|| {
            let p = &peers.prepared[i & mask];
            i = i.wrapping_add(1);
            peers.accord_allows(black_box(&p.query))
        });
    });
    configure(&mut group, t_cedar);
    let mut i = 0usize;
    group.bench_function(BenchmarkId::new("cedar", n), |b| {
        b.iter(|| {
            let p = &peers.prepared[i & mask];
            i = i.wrapping_add(1);
            peers.cedar.is_allowed(black_box(&p.cedar))
        });
    });
    configure(&mut group, t_casbin);
    let mut i = 0usize;
    group.bench_function(BenchmarkId::new("casbin", n), |b| {
        b.iter(|| {
            let p = &peers.prepared[i & mask];
            i = i.wrapping_add(1);
            // Evaluation errors were ruled out by the cross-check.
            peers.casbin.is_allowed(black_box(&p.casbin)).unwrap_or(false)
        });
    });
    group.finish();
    Ok(())
}

/// Slow engines take ten flat samples over a longer measurement, so that
/// each benchmark still covers a good part of the stream.
fn configure(
    group: &mut criterion::BenchmarkGroup<
        '_,
        criterion::measurement::WallTime,
    >,
    per_query: Duration,
) {
    if per_query > SLOW {
        group.sample_size(10);
        group.sampling_mode(SamplingMode::Flat);
        group.measurement_time(Duration::from_secs(20));
    } else {
        group.sample_size(100);
        group.sampling_mode(SamplingMode::Auto);
        group.measurement_time(Duration::from_secs(5));
    }
}
