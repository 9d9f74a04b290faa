//! The PostgreSQL store on the real server (`DATABASE_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`): round trips, racing
//! writers (threads and processes), followers, replicas restarted
//! during writes, connections killed during writes, refusals.
//!
//! Each test works in a schema of its own, dropped at its end. A server
//! that cannot be reached fails the tests, saying so.
#![cfg(feature = "postgres")]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use accord::{
    presets, Actor, Engine, ErrorKind, Event, Op, Outcome, Revision, Timestamp,
};
use accord_store::{
    DurableEngine, Follower, PgListener, PgStore, Polling, StoreError,
    WriteError,
};
use postgres::{Client, NoTls};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Names the namespace of a child writer process.
const CHILD_NS: &str = "ACCORD_PG_CHILD_NAMESPACE";
/// Names the child writer process itself (its org names).
const CHILD_ID: &str = "ACCORD_PG_CHILD_ID";
const CHILD_WRITES: usize = 25;

fn url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// `url()` with an `application_name`, so that an admin connection can
/// find the connection in `pg_stat_activity`.
fn url_named(app: &str) -> String {
    let url = url();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}application_name={app}")
    } else {
        format!("{url} application_name={app}")
    }
}

fn admin() -> Client {
    let url = url();
    Client::connect(&url, NoTls).unwrap_or_else(|e| {
        let e = match std::error::Error::source(&e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        };
        panic!(
            "the PostgreSQL server is unreachable at `{url}` ({e}): these \
             tests need it; start it or set DATABASE_URL"
        )
    })
}

/// A schema of the test's own, dropped when the test ends.
struct Ns(String);

impl Ns {
    fn new() -> Ns {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        // Fails the test, naming the server, when it is unreachable.
        drop(admin());
        Ns(format!("accord_t{}_{nanos}_{n}", std::process::id()))
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        if let Ok(mut c) = Client::connect(&url(), NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                self.0
            ));
        }
    }
}

fn t() -> Timestamp {
    Timestamp::from_unix_millis(1_700_000_000_000)
}

fn create_org(name: &str) -> Op {
    Op::CreateOrg { name: name.to_owned() }
}

fn store(ns: &Ns) -> PgStore {
    PgStore::connect(&url(), &ns.0).unwrap()
}

fn open(ns: &Ns) -> DurableEngine<PgStore> {
    DurableEngine::open(store(ns), presets::arbiter()).unwrap()
}

fn open_named(ns: &Ns, app: &str) -> DurableEngine<PgStore> {
    let store = PgStore::connect(&url_named(app), &ns.0).unwrap();
    DurableEngine::open(store, presets::arbiter()).unwrap()
}

/// The whole stored log, in order.
fn stored_events(ns: &Ns) -> Vec<Event> {
    admin()
        .query(
            &format!(
                "SELECT seq, event FROM \"{}\".accord_events ORDER BY seq",
                ns.0
            ),
            &[],
        )
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let seq: i64 = r.get(0);
            assert_eq!(seq, i as i64, "the log has no gap");
            serde_json::from_str(r.get::<_, &str>(1)).unwrap()
        })
        .collect()
}

/// The stored log has no gap, replays from the start, and replays to
/// `engine`'s state.
fn assert_log_replays_to(ns: &Ns, engine: &Engine) {
    let events = stored_events(ns);
    assert_eq!(events.len() as u64, engine.next_event_seq());
    let replayed = Engine::replay(presets::arbiter(), &events).unwrap();
    assert_eq!(replayed.revision(), engine.revision());
    assert_eq!(replayed.to_json(), engine.to_json());
}

/// A write that retries while another writer wins the race (bounded);
/// returns the revision it committed and how many races it lost.
fn apply_retrying(
    durable: &DurableEngine<PgStore>,
    op: &Op,
) -> (Revision, usize) {
    for lost in 0..1_000 {
        match durable.apply(Actor::System, t(), op.clone()) {
            Ok(rev) => return (rev, lost),
            Err(WriteError::Store(StoreError::Conflict { .. })) => {}
            Err(e) => panic!("{op:?}: {e}"),
        }
    }
    panic!("{op:?}: lost 1,000 races in a row");
}

/// Waits (without reading the store itself) until `durable`'s published
/// revision reaches `rev`: only a follower can bring it there.
fn followed_to(
    durable: &DurableEngine<PgStore>,
    rev: Revision,
    within: Duration,
) -> Duration {
    let start = Instant::now();
    while durable.revision() < rev {
        assert!(
            start.elapsed() < within,
            "the follower did not reach revision {rev} within {within:?} \
             (at {}; {:?})",
            durable.revision(),
            durable.progress()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    start.elapsed()
}

/// Kills the connections whose `application_name` is `app`, waiting for
/// them to end; returns how many there were.
fn terminate(app: &str) -> usize {
    admin()
        .query(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
             WHERE application_name = $1",
            &[&app],
        )
        .unwrap()
        .iter()
        .filter(|r| r.get::<_, bool>(0))
        .count()
}

/// The engine's state without its audit log.
fn state(engine: &Engine) -> serde_json::Value {
    let mut json: serde_json::Value =
        serde_json::from_str(&engine.to_json()).unwrap();
    let object = json.as_object_mut().unwrap();
    let _ = object.remove("events");
    let _ = object.remove("log_base");
    json
}

/// Applied and refused mutations, one by one and in a batch, reach a
/// second instance and a reopen exactly.
#[test]
fn a_mutation_round_trips_to_a_second_instance() {
    let ns = Ns::new();
    let a = open(&ns);
    a.apply(Actor::System, t(), create_org("A")).unwrap();
    let refused = a.apply(Actor::System, t(), create_org("A"));
    assert!(matches!(refused, Err(WriteError::Refused(_))), "{refused:?}");
    let batch = a
        .apply_batch(
            (0..10).map(|i| {
                (Actor::System, t(), create_org(&format!("Batch {i}")))
            }),
        )
        .unwrap();
    assert!(batch.iter().all(Result::is_ok));
    let json = a.snapshot().to_json();

    let b = open(&ns);
    assert_eq!(b.snapshot().to_json(), json);
    assert_eq!(b.revision().get(), 11);
    assert_eq!(b.snapshot().events().len(), 12, "the refusal too");
    drop((a, b));
    assert_eq!(open(&ns).snapshot().to_json(), json, "reopened");
    assert_log_replays_to(&ns, &open(&ns).snapshot());
}

/// A namespace of a newer format, or a bad name, is refused.
#[test]
fn a_newer_format_and_a_bad_namespace_are_refused() {
    let ns = Ns::new();
    drop(store(&ns));
    let _ = admin()
        .execute(
            &format!(
                "UPDATE \"{}\".accord_meta SET value = 2
                 WHERE key = 'format'",
                ns.0
            ),
            &[],
        )
        .unwrap();
    let err = PgStore::connect(&url(), &ns.0).unwrap_err();
    assert!(matches!(err, StoreError::Format(_)), "{err}");
    let err = PgStore::connect(&url(), "x\"; DROP TABLE y; --").unwrap_err();
    assert!(matches!(err, StoreError::Namespace { .. }), "{err}");
}

/// Two engines on one namespace: the stale one loses the race with a
/// typed conflict, has caught up when it gets it, and its retry
/// commits.
#[test]
fn racing_engines_one_wins_the_other_catches_up_and_retries() {
    let ns = Ns::new();
    let a = open(&ns);
    let b = open(&ns);
    a.apply(Actor::System, t(), create_org("From A")).unwrap();
    let lost = b.apply(Actor::System, t(), create_org("From B"));
    assert!(
        matches!(
            lost,
            Err(WriteError::Store(StoreError::Conflict { seq: 0 }))
        ),
        "{lost:?}"
    );
    assert!(b.snapshot().org_by_name("From A").is_some(), "caught up");
    assert!(b.snapshot().org_by_name("From B").is_none());
    b.apply(Actor::System, t(), create_org("From B")).unwrap();
    let rev = b.revision();
    assert_eq!(
        a.at_least(rev, Duration::from_secs(5)).unwrap().revision(),
        rev
    );
    assert_eq!(a.snapshot().to_json(), b.snapshot().to_json());
    assert_log_replays_to(&ns, &a.snapshot());
}

/// Two threads, each with its own engine and connection, hammer one
/// namespace: every sequence number has exactly one winner, every
/// mutation commits once, and both engines end on the same state, which
/// the stored log replays to.
#[test]
fn two_threads_hammering_one_namespace_share_one_gap_free_log() {
    const EACH: usize = 40;
    let ns = Ns::new();
    let engines = [open(&ns), open(&ns)];
    let won: Vec<(Vec<u64>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = engines
            .iter()
            .enumerate()
            .map(|(w, durable)| {
                s.spawn(move || {
                    let mut revs = Vec::new();
                    let mut lost = 0;
                    for i in 0..EACH {
                        let op = create_org(&format!("W{w} {i}"));
                        let (rev, l) = apply_retrying(durable, &op);
                        revs.push(rev.get());
                        lost += l;
                    }
                    (revs, lost)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: BTreeSet<u64> =
        won.iter().flat_map(|(revs, _)| revs.iter().copied()).collect();
    assert_eq!(all.len(), 2 * EACH, "no revision won twice");
    assert_eq!(all, (1..=2 * EACH as u64).collect(), "none skipped");
    let lost: usize = won.iter().map(|(_, l)| l).sum();
    eprintln!("races lost: {lost}");
    for e in &engines {
        let _ = e.catch_up().unwrap();
    }
    let [a, b] = &engines;
    assert_eq!(a.snapshot().to_json(), b.snapshot().to_json());
    assert_eq!(a.snapshot().orgs().count(), 2 * EACH);
    assert!(a
        .snapshot()
        .events()
        .iter()
        .all(|e| e.outcome == Outcome::Applied));
    assert_log_replays_to(&ns, &a.snapshot());
}

/// Run by `two_writer_processes_share_one_gap_free_log` in a child
/// process: `CHILD_WRITES` mutations with retries. In an ordinary run
/// (no namespace given) it returns at once.
#[test]
fn child_writer() {
    let Ok(ns) = std::env::var(CHILD_NS) else { return };
    let ns = Ns(ns);
    let id = std::env::var(CHILD_ID).unwrap();
    let durable = open(&ns);
    for i in 0..CHILD_WRITES {
        let _ = apply_retrying(&durable, &create_org(&format!("P{id} {i}")));
    }
    // The parent drops the namespace.
    std::mem::forget(ns);
}

/// Two processes (this test binary, running `child_writer`) race on one
/// namespace; the log they leave has every mutation once, no gap, and
/// replays.
#[test]
fn two_writer_processes_share_one_gap_free_log() {
    let ns = Ns::new();
    drop(store(&ns)); // created before the race
    let exe = std::env::current_exe().unwrap();
    let mut children: Vec<_> = (0..2)
        .map(|id| {
            std::process::Command::new(&exe)
                .args(["child_writer", "--exact"])
                .args(["--test-threads=1", "--nocapture"])
                .env(CHILD_NS, &ns.0)
                .env(CHILD_ID, id.to_string())
                .env("DATABASE_URL", url())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(50);
    for child in &mut children {
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("a child writer did not finish within 50 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "child writer failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
    }
    let durable = open(&ns);
    let engine = durable.snapshot();
    assert_eq!(engine.revision().get(), 2 * CHILD_WRITES as u64);
    for id in 0..2 {
        for i in 0..CHILD_WRITES {
            assert!(engine.org_by_name(&format!("P{id} {i}")).is_some());
        }
    }
    assert_log_replays_to(&ns, &engine);
}

/// A replica with a listening follower sees another instance's writes
/// without reading the store itself, well before its catch-up interval;
/// its progress shows it caught up; `at_least` gives read-your-writes
/// on a third instance.
#[test]
fn a_follower_sees_another_instance_s_writes_within_a_bounded_wait() {
    let ns = Ns::new();
    let writer = open(&ns);
    let replica = Arc::new(open(&ns));
    let listener = PgListener::connect(&url(), &ns.0).unwrap();
    // A long interval: only notifications explain a quick follow.
    let follower = Follower::spawn(
        Arc::clone(&replica),
        listener,
        Duration::from_secs(30),
    )
    .unwrap();
    for i in 0..5 {
        let rev = writer
            .apply(Actor::System, t(), create_org(&format!("O{i}")))
            .unwrap();
        // Well before the 30 s interval: a notification woke it.
        followed_to(&replica, rev, Duration::from_secs(5));
    }
    let progress = replica.progress();
    assert_eq!(progress.revision, writer.revision());
    assert_eq!(progress.store_next_seq, 5);
    assert_eq!(progress.behind(), 0);
    assert_eq!(replica.snapshot().to_json(), writer.snapshot().to_json());
    assert_eq!(follower.errors(), 0, "{:?}", follower.last_error());
    // Joins the thread: a follower that did not stop would hang here.
    follower.stop();

    let third = open(&ns);
    let rev = writer.apply(Actor::System, t(), create_org("Last")).unwrap();
    let seen = third.at_least(rev, Duration::from_secs(5)).unwrap();
    assert!(seen.org_by_name("Last").is_some());
}

/// Notifications are never trusted alone: a follower whose listening
/// connection is killed while writes go on reconnects and catches up;
/// one that gets no notifications at all catches up on its interval.
#[test]
fn a_follower_catches_up_without_notifications() {
    let ns = Ns::new();
    let listener_app = format!("{}_l", ns.0);
    let writer = open(&ns);
    let replica = Arc::new(open(&ns));
    let listener =
        PgListener::connect(&url_named(&listener_app), &ns.0).unwrap();
    let follower = Follower::spawn(
        Arc::clone(&replica),
        listener,
        Duration::from_millis(300),
    )
    .unwrap();
    writer.apply(Actor::System, t(), create_org("Before")).unwrap();
    followed_to(&replica, writer.revision(), Duration::from_secs(5));
    assert_eq!(terminate(&listener_app), 1);
    for i in 0..3 {
        writer
            .apply(Actor::System, t(), create_org(&format!("O{i}")))
            .unwrap();
    }
    followed_to(&replica, writer.revision(), Duration::from_secs(5));
    assert!(follower.errors() >= 1, "the killed connection was noticed");
    writer.apply(Actor::System, t(), create_org("After")).unwrap();
    followed_to(&replica, writer.revision(), Duration::from_secs(5));
    assert_eq!(replica.snapshot().to_json(), writer.snapshot().to_json());
    drop(follower);

    let polled = Arc::new(open(&ns));
    let follower = Follower::spawn(
        Arc::clone(&polled),
        Polling,
        Duration::from_millis(200),
    )
    .unwrap();
    let rev = writer.apply(Actor::System, t(), create_org("Polled")).unwrap();
    followed_to(&polled, rev, Duration::from_secs(5));
    assert_eq!(polled.snapshot().to_json(), writer.snapshot().to_json());
    assert_eq!(follower.errors(), 0);
}

/// A replica stopped and opened again while a writer goes on ends on
/// exactly the writer's state.
#[test]
fn a_replica_restarted_during_writes_catches_up_exactly() {
    const WRITES: usize = 150;
    let ns = Ns::new();
    let writer = open(&ns);
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let writing = s.spawn(|| {
            for i in 0..WRITES {
                writer
                    .apply(Actor::System, t(), create_org(&format!("O{i}")))
                    .unwrap();
                std::thread::sleep(Duration::from_millis(2));
            }
            done.store(true, Ordering::Release);
        });
        let follow = |replica: &Arc<DurableEngine<PgStore>>| {
            let listener = PgListener::connect(&url(), &ns.0).unwrap();
            Follower::spawn(
                Arc::clone(replica),
                listener,
                Duration::from_secs(1),
            )
            .unwrap()
        };
        let first = Arc::new(open(&ns));
        let follower = follow(&first);
        while writer.revision().get() < (WRITES / 3) as u64 {
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(follower);
        let stopped_at = first.revision();
        drop(first);
        std::thread::sleep(Duration::from_millis(50));
        let second = Arc::new(open(&ns));
        assert!(second.revision() >= stopped_at);
        let follower = follow(&second);
        writing.join().unwrap();
        assert!(done.load(Ordering::Acquire));
        followed_to(&second, writer.revision(), Duration::from_secs(10));
        assert_eq!(second.snapshot().to_json(), writer.snapshot().to_json());
        assert_eq!(second.progress().behind(), 0);
        assert_eq!(follower.errors(), 0, "{:?}", follower.last_error());
    });
    assert_log_replays_to(&ns, &writer.snapshot());
}

/// The writer's connection is killed between writes: the next write
/// fails with a typed database error and changes nothing, in memory or
/// in the store; the retry connects again and commits.
#[test]
fn a_killed_connection_fails_the_next_write_typed_and_a_retry_commits() {
    let ns = Ns::new();
    let app = format!("{}_w", ns.0);
    let writer = open_named(&ns, &app);
    for i in 0..5 {
        writer
            .apply(Actor::System, t(), create_org(&format!("O{i}")))
            .unwrap();
    }
    let before = writer.snapshot().to_json();
    assert_eq!(terminate(&app), 1);
    let failed = writer.apply(Actor::System, t(), create_org("Next"));
    assert!(
        matches!(failed, Err(WriteError::Store(StoreError::Database(_)))),
        "{failed:?}"
    );
    assert_eq!(writer.snapshot().to_json(), before, "memory unchanged");
    assert_eq!(stored_events(&ns).len(), 5, "store unchanged");
    let rev = writer.apply(Actor::System, t(), create_org("Next")).unwrap();
    assert_eq!(rev.get(), 6);
    assert_eq!(open(&ns).snapshot().to_json(), writer.snapshot().to_json());
    assert_log_replays_to(&ns, &writer.snapshot());
}

/// Connections killed again and again during a burst of writes, each
/// retried after a database error: every mutation commits exactly once
/// (a retry after a commit whose answer was lost does not apply it
/// twice), and the log has no gap.
#[test]
fn a_burst_with_connections_killed_commits_each_mutation_once() {
    const WRITES: usize = 150;
    let ns = Ns::new();
    let app = format!("{}_w", ns.0);
    let writer = open_named(&ns, &app);
    let done = AtomicBool::new(false);
    let failures = std::thread::scope(|s| {
        let writing = s.spawn(|| {
            let mut failures = 0;
            for i in 0..WRITES {
                let op = create_org(&format!("O{i}"));
                let mut attempts = 0;
                loop {
                    let before = writer.snapshot().to_json();
                    match writer.apply(Actor::System, t(), op.clone()) {
                        Ok(_) => break,
                        Err(WriteError::Store(StoreError::Database(_))) => {
                            assert_eq!(writer.snapshot().to_json(), before);
                            failures += 1;
                            attempts += 1;
                            assert!(attempts < 50, "{op:?} never commits");
                        }
                        Err(e) => panic!("{op:?}: {e}"),
                    }
                }
                // Paced, so that the kills land during the burst.
                std::thread::sleep(Duration::from_millis(2));
            }
            done.store(true, Ordering::Release);
            failures
        });
        let mut kills = 0;
        while kills < 3 && !done.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(20));
            kills += terminate(&app);
        }
        assert!(kills >= 1, "the burst ended before any kill");
        writing.join().unwrap()
    });
    eprintln!("failed writes: {failures}");
    assert!(failures >= 1);
    let engine = writer.snapshot();
    assert_eq!(engine.revision().get(), WRITES as u64);
    assert_eq!(engine.next_event_seq(), WRITES as u64, "no duplicate");
    assert!(engine.events().iter().all(|e| e.outcome == Outcome::Applied));
    assert_eq!(open(&ns).snapshot().to_json(), engine.to_json());
    assert_log_replays_to(&ns, &engine);
}

/// A write whose rows are already in the store, byte for byte — what a
/// retry finds after a commit that succeeded but whose answer was lost
/// — is taken as committed: the engine catches up to it rather than
/// applying it again. Rows that differ are a conflict.
#[test]
fn a_commit_whose_answer_was_lost_is_not_applied_twice() {
    let ns = Ns::new();
    let a = open(&ns);
    let b = open(&ns);
    // `b` commits exactly the write `a` is about to make: as if `a` had
    // committed it and lost the connection before hearing so.
    let rev_b = b.apply(Actor::System, t(), create_org("Once")).unwrap();
    let rev_a = a.apply(Actor::System, t(), create_org("Once")).unwrap();
    assert_eq!(rev_a, rev_b);
    assert_eq!(a.snapshot().to_json(), b.snapshot().to_json());
    assert_eq!(stored_events(&ns).len(), 1, "stored once");
    assert_eq!(a.snapshot().events().len(), 1, "applied once");

    // A different write at a taken number is a conflict, as ever.
    b.apply(Actor::System, t(), create_org("B")).unwrap();
    let lost = a.apply(Actor::System, t(), create_org("A"));
    assert!(
        matches!(
            lost,
            Err(WriteError::Store(StoreError::Conflict { seq: 1 }))
        ),
        "{lost:?}"
    );
    assert_log_replays_to(&ns, &a.snapshot());
}

/// A TCP proxy in front of the server that can drop a connection just
/// as the server answers: the server has done what was asked (committed
/// an append), and the client never hears of it.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
}

impl Proxy {
    fn start() -> Proxy {
        let config: postgres::Config = url().parse().unwrap();
        let host = match config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(host)) => host.clone(),
            other => panic!("the proxy needs a tcp host, not {other:?}"),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let server = format!("{host}:{port}");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let cutting = Arc::clone(&cut);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(upstream) = std::net::TcpStream::connect(&server)
                else {
                    continue;
                };
                let (c2, u2) = (
                    client.try_clone().unwrap(),
                    upstream.try_clone().unwrap(),
                );
                std::thread::spawn(move || pipe(c2, u2, None));
                let cutting = Arc::clone(&cutting);
                std::thread::spawn(move || {
                    pipe(upstream, client, Some(cutting))
                });
            }
        });
        Proxy { port, cut }
    }

    /// A connection string through the proxy.
    fn url(&self) -> String {
        let config: postgres::Config = url().parse().unwrap();
        let mut out = format!("host=127.0.0.1 port={}", self.port);
        if let Some(user) = config.get_user() {
            out.push_str(&format!(" user={user}"));
        }
        if let Some(db) = config.get_dbname() {
            out.push_str(&format!(" dbname={db}"));
        }
        if let Some(password) = config.get_password() {
            let password = String::from_utf8(password.to_vec()).unwrap();
            out.push_str(&format!(" password='{password}'"));
        }
        out
    }

    /// The next answer the server sends on any connection is dropped,
    /// and that connection closed.
    fn drop_next_answer(&self) {
        self.cut.store(true, Ordering::Release);
    }
}

/// Copies `from` to `to` until either closes; with `cut`, closes both
/// instead of forwarding once it is set.
fn pipe(
    mut from: std::net::TcpStream,
    mut to: std::net::TcpStream,
    cut: Option<Arc<AtomicBool>>,
) {
    use std::io::{Read, Write};
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if cut.as_ref().is_some_and(|c| c.swap(false, Ordering::AcqRel)) {
            break;
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(std::net::Shutdown::Both);
    let _ = to.shutdown(std::net::Shutdown::Both);
}

/// A real commit whose answer is lost (the connection dropped as the
/// server answered the append): the write fails with a database error
/// and memory is unchanged, though the store holds the event; the
/// retry of the same call finds its own rows and returns as committed,
/// applied once.
#[test]
fn a_retry_after_a_lost_commit_answer_applies_the_write_once() {
    let ns = Ns::new();
    let proxy = Proxy::start();
    let store = PgStore::connect(&proxy.url(), &ns.0).unwrap();
    let durable = DurableEngine::open(store, presets::arbiter()).unwrap();
    durable.apply(Actor::System, t(), create_org("A")).unwrap();
    let before = durable.snapshot().to_json();

    proxy.drop_next_answer();
    let failed = durable.apply(Actor::System, t(), create_org("B"));
    assert!(
        matches!(failed, Err(WriteError::Store(StoreError::Database(_)))),
        "{failed:?}"
    );
    assert_eq!(durable.snapshot().to_json(), before, "memory unchanged");
    assert_eq!(stored_events(&ns).len(), 2, "yet the server committed it");

    let rev = durable.apply(Actor::System, t(), create_org("B")).unwrap();
    assert_eq!(rev.get(), 2);
    assert_eq!(durable.snapshot().events().len(), 2, "applied once");
    assert_eq!(stored_events(&ns).len(), 2, "stored once");
    assert_eq!(open(&ns).snapshot().to_json(), durable.snapshot().to_json());
    assert_log_replays_to(&ns, &durable.snapshot());
}

/// Every refusal — unauthorized, invalid, a lost race, a failed commit —
/// leaves the engine in memory and the store as they were, but for the
/// refusal's own committed event.
#[test]
fn every_refusal_leaves_memory_and_store_unchanged_but_for_its_event() {
    let ns = Ns::new();
    let app = format!("{}_w", ns.0);
    let durable = open_named(&ns, &app);
    let ann = durable
        .act(Actor::System, t(), |sys| {
            let org = sys.create_org("Utility X")?.value;
            sys.accept_terms(org)?;
            sys.create_user(org, "ann@x.example").map(|u| u.value)
        })
        .unwrap()
        .unwrap();

    let refusals = [
        (Actor::User(ann), create_org("Not hers to make")),
        (Actor::System, create_org("Utility X")),
        (Actor::System, create_org("")),
    ];
    for (actor, op) in refusals {
        let before = durable.snapshot();
        let stored = stored_events(&ns).len();
        let refused = durable.apply(actor, t(), op.clone());
        let Err(WriteError::Refused(e)) = refused else {
            panic!("{op:?}: {refused:?}");
        };
        if actor != Actor::System {
            assert!(matches!(e.kind(), ErrorKind::Denied { .. }), "{e}");
        }
        let after = durable.snapshot();
        assert_eq!(state(&after), state(&before), "{op:?}");
        assert_eq!(after.revision(), before.revision());
        let events = stored_events(&ns);
        assert_eq!(events.len(), stored + 1, "the refusal is committed");
        let last = events.last().unwrap();
        assert!(matches!(last.outcome, Outcome::Refused(_)), "{last:?}");
        assert_eq!(after.events().last(), Some(last));
    }

    // A lost race: nothing of the loser's reaches the store, and its
    // memory holds the winner's write only.
    let other = open(&ns);
    other.apply(Actor::System, t(), create_org("Winner")).unwrap();
    let stored = stored_events(&ns).len();
    let lost = durable.apply(Actor::System, t(), create_org("Loser"));
    assert!(
        matches!(lost, Err(WriteError::Store(StoreError::Conflict { .. }))),
        "{lost:?}"
    );
    assert_eq!(stored_events(&ns).len(), stored);
    assert_eq!(durable.snapshot().to_json(), other.snapshot().to_json());

    // A failed commit (the connection killed): nothing at all.
    let before = durable.snapshot().to_json();
    assert_eq!(terminate(&app), 1);
    let failed = durable.apply(Actor::System, t(), create_org("Lost"));
    assert!(
        matches!(failed, Err(WriteError::Store(StoreError::Database(_)))),
        "{failed:?}"
    );
    assert_eq!(durable.snapshot().to_json(), before);
    assert_eq!(stored_events(&ns).len(), stored);
    assert_eq!(open(&ns).snapshot().to_json(), before);
    assert_log_replays_to(&ns, &durable.snapshot());
}

/// An append names the first taken sequence number; checkpoints are
/// written once per sequence number, and an open starts from the newest.
#[test]
fn checkpoints_bound_the_replay_and_keep_the_state() {
    use accord_store::{Options, Store};
    let ns = Ns::new();
    let options = Options::new().checkpoint_every(7);
    let durable = DurableEngine::open_with(
        store(&ns),
        presets::arbiter(),
        options.clone(),
    )
    .unwrap();
    for i in 0..30 {
        durable
            .apply(Actor::System, t(), create_org(&format!("O{i}")))
            .unwrap();
        assert!(durable.snapshot().events().len() < 7);
    }
    let state = durable.snapshot();
    let again =
        DurableEngine::open_with(store(&ns), presets::arbiter(), options)
            .unwrap();
    assert_eq!(again.revision(), state.revision());
    assert_eq!(again.snapshot().to_json(), state.to_json());
    let mut raw = store(&ns);
    let latest = raw.latest_checkpoint().unwrap().unwrap();
    assert_eq!(latest.seq, 28);
    // Insert-if-absent: a second checkpoint at the same number is a
    // no-op.
    let mut other = latest.clone();
    other.snapshot = "not written".into();
    raw.write_checkpoint(&other).unwrap();
    assert_eq!(raw.latest_checkpoint().unwrap(), Some(latest));
    let rows = raw.events_from(25).unwrap();
    let err = raw.append(&rows).unwrap_err();
    assert!(matches!(err, StoreError::Conflict { seq: 25 }), "{err}");
    let events = stored_events(&ns);
    assert_eq!(events.len(), 30);
    let replayed = Engine::replay(presets::arbiter(), &events).unwrap();
    assert_eq!(replayed.revision(), state.revision());
}
