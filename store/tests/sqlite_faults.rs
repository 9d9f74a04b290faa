//! Faults on real SQLite files: a writer process killed in the middle of
//! a burst of mutations, torn WAL and database files, tampered event
//! rows, and refusals that change nothing but the log.
//!
//! The kill tests run this test binary again as the writer: the test
//! `child_writer` does nothing unless `ACCORD_STORE_FAULT_DB` names a
//! database, so it passes in ordinary runs. The kill points are drawn
//! from a seed printed on stderr; set `ACCORD_STORE_FAULT_SEED` to it to
//! repeat a run.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use accord::{
    presets, Actor, Engine, Event, MutationError, ObjectId, Op, Timestamp,
};
use accord_store::{
    DurableEngine, Options, SqliteStore, StoreError, WriteError,
};
use serde_json::Value;

/// The database the writer process writes to.
const DB_VAR: &str = "ACCORD_STORE_FAULT_DB";
/// The first step the writer runs.
const FROM_VAR: &str = "ACCORD_STORE_FAULT_FROM";
/// The seed of the kill points.
const SEED_VAR: &str = "ACCORD_STORE_FAULT_SEED";
/// The writer's test, run with `--exact`.
const CHILD: &str = "child_writer";
/// Steps the writer runs at most; it is killed long before.
const MAX_STEPS: usize = 2_000;
/// The most acknowledgements a kill waits for.
const MAX_KILL_AFTER: usize = 40;

fn t() -> Timestamp {
    Timestamp::from_unix_millis(1_700_000_000_000)
}

/// A checkpoint every few events, so that kills and tears also land on
/// checkpoint writes.
fn options() -> Options {
    Options::new().checkpoint_every(5)
}

fn try_open(path: &Path) -> Result<DurableEngine<SqliteStore>, StoreError> {
    DurableEngine::open_with(
        SqliteStore::open(path)?,
        presets::arbiter(),
        options(),
    )
}

fn open(path: &Path) -> DurableEngine<SqliteStore> {
    try_open(path).unwrap()
}

fn create_org(name: &str) -> Op {
    Op::CreateOrg { name: name.to_owned() }
}

/// The kinds of write the burst mixes.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// One op through `apply`: an organization `S{step}`.
    Single,
    /// `apply_batch` of four ops, one of them refused (the name of the
    /// step before, a `Single`): organizations `B{step}.0` to `.2`.
    Batch,
    /// An `act` closure of four mutations: organization `A{step}`, its
    /// terms accepted, user `u{step}@a.example` and site `site-{step}`.
    Act,
}

fn shape(step: usize) -> Shape {
    match step % 3 {
        0 => Shape::Single,
        1 => Shape::Batch,
        _ => Shape::Act,
    }
}

/// How many revisions a step adds.
fn delta(step: usize) -> u64 {
    match shape(step) {
        Shape::Single => 1,
        Shape::Batch => 3,
        Shape::Act => 4,
    }
}

/// Runs `step`; the revision once it is committed.
fn run_step(
    policy: &DurableEngine<SqliteStore>,
    step: usize,
) -> Result<u64, String> {
    match shape(step) {
        Shape::Single => policy
            .apply(Actor::System, t(), create_org(&format!("S{step}")))
            .map(|r| r.get())
            .map_err(|e| e.to_string()),
        Shape::Batch => {
            let ops = [
                create_org(&format!("B{step}.0")),
                create_org(&format!("B{step}.1")),
                create_org(&format!("S{}", step - 1)),
                create_org(&format!("B{step}.2")),
            ];
            let results = policy
                .apply_batch(ops.map(|op| (Actor::System, t(), op)))
                .map_err(|e| e.to_string())?;
            let refused: Vec<bool> =
                results.iter().map(Result::is_err).collect();
            if refused != [false, false, true, false] {
                return Err(format!("batch {step}: {results:?}"));
            }
            Ok(policy.revision().get())
        }
        Shape::Act => {
            policy
                .act(Actor::System, t(), |sys| -> Result<(), MutationError> {
                    let org = sys.create_org(&format!("A{step}"))?.value;
                    sys.accept_terms(org)?;
                    sys.create_user(org, &format!("u{step}@a.example"))?;
                    sys.create_object(
                        org,
                        "sites",
                        &format!("site-{step}"),
                        &[],
                    )?;
                    Ok(())
                })
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            Ok(policy.revision().get())
        }
    }
}

/// How much of what `step` creates `engine` holds: (found, expected).
fn presence(engine: &Engine, step: usize) -> (usize, usize) {
    let org = |name: String| engine.org_by_name(&name);
    match shape(step) {
        Shape::Single => (usize::from(org(format!("S{step}")).is_some()), 1),
        Shape::Batch => {
            let found = (0..3)
                .filter(|i| org(format!("B{step}.{i}")).is_some())
                .count();
            (found, 3)
        }
        Shape::Act => {
            let sites = engine.schema().object_type("sites").unwrap();
            let org = org(format!("A{step}"));
            let found = [
                org.is_some(),
                org.and_then(|o| engine.org(o))
                    .is_some_and(|o| o.accepted_terms()),
                engine.user_by_email(&format!("u{step}@a.example")).is_some(),
                engine.object_by_key(sites, &format!("site-{step}")).is_some(),
            ];
            (found.iter().filter(|f| **f).count(), 4)
        }
    }
}

/// The writer process of the kill tests (see the module documentation):
/// runs steps from `ACCORD_STORE_FAULT_FROM` on the database
/// `ACCORD_STORE_FAULT_DB`, printing `ACK <step> <revision>` once each
/// has returned.
#[test]
fn child_writer() {
    let Some(path) = std::env::var_os(DB_VAR) else {
        return;
    };
    let from: usize = std::env::var(FROM_VAR).unwrap().parse().unwrap();
    let policy = open(Path::new(&path));
    let mut out = std::io::stdout();
    // On a line of its own, whatever the harness printed before.
    writeln!(out, "\nOPEN {}", policy.revision().get()).unwrap();
    out.flush().unwrap();
    for step in from..from + MAX_STEPS {
        let revision = run_step(&policy, step).unwrap();
        writeln!(out, "ACK {step} {revision}").unwrap();
        out.flush().unwrap();
    }
}

/// What a killed writer acknowledged.
#[derive(Debug, Default)]
struct Killed {
    /// The revision it opened at.
    opened: Option<u64>,
    /// (step, revision) of each step that returned, in order.
    acks: Vec<(usize, u64)>,
}

impl Killed {
    fn record(&mut self, line: &str) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            ["OPEN", revision] => {
                self.opened = Some(revision.parse().unwrap());
            }
            ["ACK", step, revision] => self
                .acks
                .push((step.parse().unwrap(), revision.parse().unwrap())),
            _ => {}
        }
    }
}

/// Runs the writer on `path` from step `from`, and sends it SIGKILL once
/// it has opened the store and acknowledged `kill_after` steps.
fn kill_writer(path: &Path, from: usize, kill_after: usize) -> Killed {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", CHILD, "--nocapture", "--test-threads=1"])
        .env(DB_VAR, path)
        .env(FROM_VAR, from.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut killed = Killed::default();
    let mut line = String::new();
    while killed.opened.is_none() || killed.acks.len() < kill_after {
        line.clear();
        if stdout.read_line(&mut line).unwrap() == 0 {
            let status = child.wait().unwrap();
            panic!("the writer ended before its kill: {status}");
        }
        killed.record(&line);
    }
    child.kill().unwrap();
    // What the writer printed before it died was acknowledged too; a
    // line cut short was not.
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    for line in rest.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
        killed.record(line);
    }
    let status = child.wait().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{status}");
    }
    let steps: Vec<usize> = killed.acks.iter().map(|a| a.0).collect();
    let expected: Vec<usize> = (from..from + steps.len()).collect();
    assert_eq!(steps, expected, "acknowledged in order");
    killed
}

/// The event rows as stored: (seq, revision, event).
fn stored_rows(path: &Path) -> Vec<(u64, u64, String)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT seq, revision, event FROM accord_events ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// An engine's state without its retained log, and the head of its hash
/// chain.
fn state(engine: &Engine) -> (Value, Option<Value>) {
    let mut v: Value = serde_json::from_str(&engine.to_json()).unwrap();
    let events = v.as_object_mut().unwrap().remove("events");
    let base = v.as_object_mut().unwrap().remove("log_base");
    let head = events
        .and_then(|e| e.as_array().and_then(|e| e.last()).cloned())
        .or(base)
        .and_then(|e| e.get("digest").cloned());
    (v, head)
}

/// The stored log has no gap, every row agrees with its event, and
/// replaying all of it from the start (`Engine::replay`) gives `engine`'s
/// state; returns the number of events.
fn assert_log_replays(path: &Path, engine: &Engine) -> usize {
    let rows = stored_rows(path);
    let mut events: Vec<Event> = Vec::with_capacity(rows.len());
    for (i, (seq, revision, text)) in rows.iter().enumerate() {
        assert_eq!(*seq, i as u64, "the log has a gap before `{seq}`");
        let event: Event = serde_json::from_str(text).unwrap();
        assert_eq!((event.seq, event.revision.get()), (*seq, *revision));
        events.push(event);
    }
    assert_eq!(engine.next_event_seq(), rows.len() as u64);
    let replayed = Engine::replay(presets::arbiter(), &events).unwrap();
    assert_eq!(replayed.revision(), engine.revision());
    assert_eq!(state(&replayed), state(engine), "replay gives the state");
    rows.len()
}

/// The open engine on `path` is a prefix of `reference` (the rows of the
/// untouched store): its rows are the reference's first ones, and they
/// replay to its state. Returns how many rows it holds.
fn assert_prefix(
    path: &Path,
    engine: &Engine,
    reference: &[(u64, u64, String)],
) -> usize {
    let rows = stored_rows(path);
    assert!(rows.len() <= reference.len(), "more rows than were written");
    assert_eq!(rows[..], reference[..rows.len()], "not a prefix");
    assert_log_replays(path, engine)
}

/// A refused open says why with a typed error.
fn assert_typed(e: &StoreError) {
    assert!(
        matches!(
            e,
            StoreError::Database(_)
                | StoreError::Damaged { .. }
                | StoreError::Checkpoint { .. }
                | StoreError::Format(_)
        ),
        "{e:?}"
    );
}

/// `path` with `suffix` added (SQLite's `-wal` and `-shm` files).
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Copies the store at `from` (with its WAL and shared-memory files, as
/// they are) into the new directory `dir`; the copy's path.
fn copy_store(from: &Path, dir: &Path) -> PathBuf {
    std::fs::create_dir(dir).unwrap();
    let to = dir.join("policy.db");
    for suffix in ["", "-wal", "-shm"] {
        let file = sidecar(from, suffix);
        if file.exists() {
            std::fs::copy(&file, sidecar(&to, suffix)).unwrap();
        }
    }
    to
}

/// SplitMix64, for kill points and garbage bytes.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

fn seed() -> u64 {
    match std::env::var(SEED_VAR) {
        Ok(s) => s.parse().unwrap(),
        Err(_) => RandomState::new().hash_one(std::process::id()),
    }
}

/// A writer killed (SIGKILL) after a random number of acknowledged
/// steps, five times over on the same file: each reopen holds every
/// acknowledged step, at most the one in flight beyond them (whole or
/// not at all), a gap-free log that replays to the same state, and takes
/// a new write.
#[test]
fn a_writer_killed_mid_burst_keeps_every_acknowledged_write() {
    let seed = seed();
    eprintln!("kill points from {SEED_VAR}={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.db");
    let mut next_step = 0;
    let mut revision = 0;
    let mut written_after: Vec<String> = Vec::new();
    for round in 0..5 {
        // The first kill lands on the first write, or just before it.
        let kill_after =
            if round == 0 { 0 } else { 1 + rng.below(MAX_KILL_AFTER) };
        let killed = kill_writer(&path, next_step, kill_after);
        assert_eq!(killed.opened, Some(revision), "the writer opened all");
        let acked = killed.acks.last().map_or(revision, |a| a.1);
        let in_flight = next_step + killed.acks.len();

        let policy = open(&path);
        let snap = policy.snapshot();
        let reopened = snap.revision().get();
        eprintln!(
            "round {round}: killed after {} acks (revision {acked}), \
             reopened at {reopened}",
            killed.acks.len()
        );
        assert!(reopened >= acked, "lost acknowledged writes");
        for step in 0..in_flight {
            let (found, expected) = presence(&snap, step);
            assert_eq!(found, expected, "step {step} acknowledged");
        }
        // The step in flight is in whole or not at all, and nothing
        // after it.
        let (found, expected) = presence(&snap, in_flight);
        if reopened == acked {
            assert_eq!(found, 0, "step {in_flight} in part");
        } else {
            assert_eq!(reopened, acked + delta(in_flight), "beyond the kill");
            assert_eq!(found, expected, "step {in_flight} in part");
        }
        assert_eq!(presence(&snap, in_flight + 1).0, 0, "beyond the kill");
        for name in &written_after {
            assert!(snap.org_by_name(name).is_some(), "{name} lost");
        }
        assert_log_replays(&path, &snap);

        let name = format!("After {round}");
        policy.apply(Actor::System, t(), create_org(&name)).unwrap();
        written_after.push(name);
        next_step = in_flight + usize::from(reopened > acked);
        revision = policy.revision().get();
    }
    let last = open(&path);
    assert_eq!(last.revision().get(), revision);
    assert_log_replays(&path, &last.snapshot());
}

/// What a tear does to a file's bytes.
type Tear = Box<dyn Fn(&mut Vec<u8>)>;

/// Opens a copy of the store at `path` torn by each of `tears` (applied
/// to the file `suffix` names): each opens to a prefix of `reference` or
/// fails with a typed error. Returns each outcome, rows held or error.
fn open_torn(
    path: &Path,
    suffix: &str,
    tears: Vec<(&str, Tear)>,
    reference: &[(u64, u64, String)],
    scratch: &Path,
) -> Vec<(String, Result<usize, String>)> {
    let mut outcomes = Vec::new();
    for (i, (name, tear)) in tears.into_iter().enumerate() {
        let copy = copy_store(path, &scratch.join(format!("case-{i}")));
        let file = sidecar(&copy, suffix);
        let mut bytes = std::fs::read(&file).unwrap();
        tear(&mut bytes);
        std::fs::write(&file, &bytes).unwrap();
        let outcome = match try_open(&copy) {
            Ok(policy) => {
                let held = assert_prefix(&copy, &policy.snapshot(), reference);
                // And it takes a new write.
                policy
                    .apply(Actor::System, t(), create_org("After the tear"))
                    .unwrap();
                drop(policy);
                let again = open(&copy);
                assert_eq!(again.snapshot().next_event_seq(), held as u64 + 1);
                Ok(held)
            }
            Err(e) => {
                assert_typed(&e);
                Err(e.to_string())
            }
        };
        eprintln!("{name}: {outcome:?} of {} rows", reference.len());
        outcomes.push((name.to_owned(), outcome));
    }
    outcomes
}

/// The WAL a killed writer left, torn in several ways (cut short by a
/// few bytes, by a frame, mid-frame, in its header; garbage appended or
/// written over its tail; a flipped byte): every open gives a prefix of
/// the log that replays to its state, or a typed error. Twice: a writer
/// killed early, whose commits are all still in the WAL alone, and one
/// killed later, after SQLite's automatic checkpoint (at 1,000 WAL pages)
/// may have copied the WAL into the database file.
#[test]
fn a_torn_wal_opens_to_a_prefix_or_fails_typed() {
    let dir = tempfile::tempdir().unwrap();
    for kill_after in [8, 30] {
        let scratch = dir.path().join(format!("killed-after-{kill_after}"));
        std::fs::create_dir(&scratch).unwrap();
        let outcomes = torn_wal(&scratch, kill_after);
        let rows = |name: &str| {
            outcomes.iter().find(|o| o.0 == name).unwrap().1.clone()
        };
        if kill_after == 8 {
            // Far below 1,000 pages: every commit is in the WAL only, so
            // the tears do bite.
            let full = rows("untouched");
            for name in ["cut at the middle frame", "emptied"] {
                let torn = rows(name);
                assert!(
                    matches!((&full, &torn), (Ok(f), Ok(t)) if t < f),
                    "{name}: {torn:?} of {full:?}"
                );
            }
        }
    }
}

/// Kills a writer after `kill_after` acknowledgements, then opens copies
/// of what it left with the WAL torn in each way; each outcome.
fn torn_wal(
    scratch: &Path,
    kill_after: usize,
) -> Vec<(String, Result<usize, String>)> {
    let path = scratch.join("policy.db");
    let killed = kill_writer(&path, 0, kill_after);
    let wal = std::fs::read(sidecar(&path, "-wal")).unwrap();
    let page = u32::from_be_bytes(wal[8..12].try_into().unwrap()) as usize;
    let frame = 24 + page;
    let frames = (wal.len() - 32) / frame;
    assert!(frames >= 8, "the killed writer left {frames} WAL frames");

    let reference = copy_store(&path, &scratch.join("reference"));
    {
        let full = open(&reference);
        assert!(full.revision().get() >= killed.acks.last().unwrap().1);
    }
    let reference = stored_rows(&reference);

    let len = wal.len();
    let half = 32 + frames / 2 * frame;
    let mut rng = Rng(0x7ea2);
    let garbage = rng.bytes(3 * frame);
    let g = garbage.clone();
    let tears: Vec<(&str, Tear)> = vec![
        ("untouched", Box::new(|_| {})),
        ("one byte short", Box::new(move |b| b.truncate(len - 1))),
        ("100 bytes short", Box::new(move |b| b.truncate(len - 100))),
        ("one frame short", Box::new(move |b| b.truncate(len - frame))),
        ("cut at the middle frame", Box::new(move |b| b.truncate(half))),
        (
            "cut inside the middle frame",
            Box::new(move |b| b.truncate(half + frame / 2)),
        ),
        ("cut inside its header", Box::new(|b| b.truncate(20))),
        ("emptied", Box::new(Vec::clear)),
        ("garbage appended", Box::new(move |b| b.extend_from_slice(&g))),
        (
            "its last frame half garbage",
            Box::new(move |b| {
                let from = len - frame / 2;
                b[from..].copy_from_slice(&garbage[..len - from]);
            }),
        ),
        (
            "a byte of the middle frame flipped",
            Box::new(move |b| b[half + 24 + page / 2] ^= 0x20),
        ),
        ("its header zeroed", Box::new(|b| b[..32].fill(0))),
    ];
    open_torn(&path, "-wal", tears, &reference, scratch)
}

/// The database file itself torn after a clean close (cut short, a page
/// zeroed, garbage over its tail): every open gives a prefix of the log
/// that replays to its state, or a typed error.
#[test]
fn a_torn_database_file_opens_to_a_prefix_or_fails_typed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.db");
    {
        let policy = open(&path);
        for step in 0..40 {
            run_step(&policy, step).unwrap();
        }
    }
    assert!(!sidecar(&path, "-wal").exists(), "closed cleanly");
    let db = std::fs::read(&path).unwrap();
    let page = match u16::from_be_bytes(db[16..18].try_into().unwrap()) {
        1 => 65_536,
        n => usize::from(n),
    };
    let pages = db.len() / page;
    assert!(pages >= 8, "{pages} pages");
    let reference = stored_rows(&path);

    let len = db.len();
    let mut rng = Rng(0xdb);
    let garbage = rng.bytes(page);
    let tears: Vec<(&str, Tear)> = vec![
        ("one byte short", Box::new(move |b| b.truncate(len - 1))),
        ("100 bytes short", Box::new(move |b| b.truncate(len - 100))),
        ("one page short", Box::new(move |b| b.truncate(len - page))),
        ("cut in half", Box::new(move |b| b.truncate(pages / 2 * page))),
        ("two pages left", Box::new(move |b| b.truncate(2 * page))),
        ("its first page left", Box::new(move |b| b.truncate(page))),
        ("cut inside its header", Box::new(|b| b.truncate(50))),
        ("emptied", Box::new(Vec::clear)),
        (
            "its middle page zeroed",
            Box::new(move |b| {
                let at = pages / 2 * page;
                b[at..at + page].fill(0);
            }),
        ),
        (
            "its last page half garbage",
            Box::new(move |b| {
                let from = len - page / 2;
                b[from..].copy_from_slice(&garbage[..page / 2]);
            }),
        ),
    ];
    open_torn(&path, "", tears, &reference, dir.path());
}

/// Builds the store the tampering cases start from: seven events, two
/// of them refusals.
///
/// | seq | revision | event |
/// |---|---|---|
/// | 0 | 1 | create organization `A` |
/// | 1 | 2 | create organization `B` |
/// | 2 | 2 | create organization `A` again: refused |
/// | 3 | 3 | accept terms of `A` |
/// | 4 | 4 | create user `ann@a.example` in `A` |
/// | 5 | 4 | ann creates organization `C`: refused |
/// | 6 | 5 | create organization `C` |
///
/// No checkpoint but the first: an open replays every row (the rows
/// before a later checkpoint are not read by an open).
fn tamper_base(path: &Path) {
    let policy = DurableEngine::open_with(
        SqliteStore::open(path).unwrap(),
        presets::arbiter(),
        Options::new().checkpoint_every(0),
    )
    .unwrap();
    let sys = |op| policy.apply(Actor::System, t(), op);
    sys(create_org("A")).unwrap();
    sys(create_org("B")).unwrap();
    assert!(sys(create_org("A")).is_err());
    let org = policy.snapshot().org_by_name("A").unwrap();
    sys(Op::AcceptTerms { org }).unwrap();
    sys(Op::CreateUser { org, email: "ann@a.example".to_owned() }).unwrap();
    let ann = policy.snapshot().user_by_email("ann@a.example").unwrap();
    assert!(policy.apply(Actor::User(ann), t(), create_org("C")).is_err());
    sys(create_org("C")).unwrap();
    assert_eq!(policy.snapshot().next_event_seq(), 7);
    assert_eq!(policy.revision().get(), 5);
}

/// Rewrites the event of row `seq` with `f`.
fn edit(conn: &rusqlite::Connection, seq: i64, f: impl Fn(&mut Value)) {
    let text: String = conn
        .query_row(
            "SELECT event FROM accord_events WHERE seq = ?1",
            [seq],
            |r| r.get(0),
        )
        .unwrap();
    let mut event: Value = serde_json::from_str(&text).unwrap();
    f(&mut event);
    conn.execute(
        "UPDATE accord_events SET event = ?2 WHERE seq = ?1",
        rusqlite::params![seq, event.to_string()],
    )
    .unwrap();
}

/// Swaps the events of rows `a` and `b`, each row keeping its seq and
/// revision columns.
fn swap_events(conn: &rusqlite::Connection, a: i64, b: i64) {
    let event = |seq: i64| -> String {
        conn.query_row(
            "SELECT event FROM accord_events WHERE seq = ?1",
            [seq],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (of_a, of_b) = (event(a), event(b));
    for (seq, text) in [(a, of_b), (b, of_a)] {
        conn.execute(
            "UPDATE accord_events SET event = ?2 WHERE seq = ?1",
            rusqlite::params![seq, text],
        )
        .unwrap();
    }
}

/// One way of tampering with the rows, and the row the open must name.
struct Tamper {
    name: &'static str,
    apply: fn(&rusqlite::Connection),
    /// (seq, revision) of the row refused; `None` when the edit changes
    /// nothing an event means, and the store opens.
    refused: Option<(u64, u64)>,
}

/// Event rows tampered with in many ways are each refused on open with
/// `StoreError::Damaged` naming the row, and the refused open writes
/// nothing.
#[test]
fn tampered_rows_are_refused_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.db");
    tamper_base(&base);
    let cases = [
        Tamper {
            name: "its keys reordered, the same event",
            apply: |c| edit(c, 1, |_| {}),
            refused: None,
        },
        Tamper {
            name: "another actor",
            apply: |c| {
                edit(c, 1, |e| e["actor"] = serde_json::json!({"User": 0}))
            },
            refused: Some((1, 2)),
        },
        Tamper {
            name: "a refusal's actor made the system",
            apply: |c| edit(c, 5, |e| e["actor"] = "System".into()),
            refused: Some((5, 4)),
        },
        Tamper {
            name: "another organization's name",
            apply: |c| {
                edit(c, 1, |e| e["op"]["create_org"]["name"] = "Z".into())
            },
            refused: Some((1, 2)),
        },
        Tamper {
            name: "another op",
            apply: |c| {
                edit(c, 3, |e| {
                    e["op"] = serde_json::json!({"accept_terms": {"org": 1}});
                });
            },
            refused: Some((3, 3)),
        },
        Tamper {
            name: "a refusal made applied",
            apply: |c| edit(c, 2, |e| e["outcome"] = "Applied".into()),
            refused: Some((2, 2)),
        },
        Tamper {
            name: "another time",
            apply: |c| edit(c, 4, |e| e["at"] = 5.into()),
            refused: Some((4, 4)),
        },
        Tamper {
            name: "another digest",
            apply: |c| edit(c, 6, |e| e["digest"] = "00".repeat(32).into()),
            refused: Some((6, 5)),
        },
        Tamper {
            name: "an unknown field",
            apply: |c| edit(c, 4, |e| e["note"] = "x".into()),
            refused: Some((4, 4)),
        },
        Tamper {
            name: "not JSON",
            apply: |c| {
                c.execute(
                    "UPDATE accord_events SET event = 'garbage' WHERE seq = 2",
                    [],
                )
                .unwrap();
            },
            refused: Some((2, 2)),
        },
        Tamper {
            name: "a middle row deleted",
            apply: |c| {
                c.execute("DELETE FROM accord_events WHERE seq = 3", [])
                    .unwrap();
            },
            refused: Some((4, 4)),
        },
        Tamper {
            name: "the first row deleted",
            apply: |c| {
                c.execute("DELETE FROM accord_events WHERE seq = 0", [])
                    .unwrap();
            },
            refused: Some((1, 2)),
        },
        Tamper {
            name: "two rows' events swapped",
            apply: |c| {
                swap_events(c, 3, 4);
            },
            refused: Some((3, 3)),
        },
        Tamper {
            name: "two events swapped and renumbered to fit",
            apply: |c| {
                swap_events(c, 0, 1);
                edit(c, 0, |e| {
                    e["seq"] = 0.into();
                    e["revision"] = 1.into();
                });
                edit(c, 1, |e| {
                    e["seq"] = 1.into();
                    e["revision"] = 2.into();
                });
            },
            refused: Some((0, 1)),
        },
        Tamper {
            name: "the seq column moved off its event",
            apply: |c| {
                c.execute(
                    "UPDATE accord_events SET seq = 9 WHERE seq = 6",
                    [],
                )
                .unwrap();
            },
            refused: Some((9, 5)),
        },
        Tamper {
            name: "the event's seq moved off its column",
            apply: |c| edit(c, 2, |e| e["seq"] = 3.into()),
            refused: Some((2, 2)),
        },
        Tamper {
            name: "the revision column changed",
            apply: |c| {
                c.execute(
                    "UPDATE accord_events SET revision = 9 WHERE seq = 4",
                    [],
                )
                .unwrap();
            },
            refused: Some((4, 9)),
        },
        Tamper {
            name: "a forged row appended",
            apply: |c| {
                c.execute(
                    "INSERT INTO accord_events (seq, revision, event)
                     SELECT 7, revision,
                         replace(event, '\"seq\":6', '\"seq\":7')
                     FROM accord_events WHERE seq = 6",
                    [],
                )
                .unwrap();
            },
            refused: Some((7, 5)),
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        let copy = copy_store(&base, &dir.path().join(format!("case-{i}")));
        let conn = rusqlite::Connection::open(&copy).unwrap();
        (case.apply)(&conn);
        drop(conn);
        let rows = stored_rows(&copy);
        let opened = try_open(&copy);
        match (case.refused, opened) {
            (None, Ok(policy)) => {
                assert_eq!(policy.revision().get(), 5, "{}", case.name);
            }
            (Some((seq, revision)), Err(err)) => {
                assert!(
                    matches!(
                        err,
                        StoreError::Damaged { seq: s, revision: r, .. }
                            if (s, r) == (seq, revision)
                    ),
                    "{}: {err}",
                    case.name
                );
                let message = err.to_string();
                assert!(
                    message.contains(&format!("`{seq}`"))
                        && message.contains(&format!("`{revision}`")),
                    "{}: {message}",
                    case.name
                );
                assert_eq!(stored_rows(&copy), rows, "{}", case.name);
            }
            (expected, opened) => panic!(
                "{}: expected {expected:?}, got {:?}",
                case.name,
                opened.map(|p| p.revision())
            ),
        }
    }
}

/// Every refusal through the durable engine (a user without the right,
/// a duplicate, an unknown object, a batch of refusals, refused
/// mutations in an `act` closure) commits the refusal and changes
/// nothing else, in memory or in the store: memory equals a fresh open.
#[test]
fn refusals_change_nothing_but_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.db");
    let policy = open(&path);
    let (org, ann, site) = policy
        .act(Actor::System, t(), |sys| -> Result<_, MutationError> {
            let org = sys.create_org("A")?.value;
            sys.accept_terms(org)?;
            let ann = sys.create_user(org, "ann@a.example")?.value;
            let site = sys.create_object(org, "sites", "plant", &[])?.value;
            Ok((org, ann, site))
        })
        .unwrap()
        .unwrap();
    let nowhere = ObjectId::new(999_999).unwrap();
    let ops: Vec<(&str, Actor, Op)> = vec![
        ("ann creates an organization", Actor::User(ann), create_org("B")),
        (
            "ann deletes a site",
            Actor::User(ann),
            Op::DeleteObject { object: site },
        ),
        (
            "ann makes herself an administrator",
            Actor::User(ann),
            Op::SetPlatformAdmin { user: ann, admin: true },
        ),
        ("a duplicate organization", Actor::System, create_org("A")),
        (
            "a duplicate user",
            Actor::System,
            Op::CreateUser { org, email: "ann@a.example".to_owned() },
        ),
        (
            "an unknown object",
            Actor::System,
            Op::DeleteObject { object: nowhere },
        ),
    ];
    let mut expected_events = policy.snapshot().next_event_seq();
    let mut assert_unchanged = |before: &Engine, refusals: u64, what: &str| {
        expected_events += refusals;
        let after = policy.snapshot();
        assert_eq!(after.revision(), before.revision(), "{what}");
        assert_eq!(state(&after).0, state(before).0, "{what}: state changed");
        assert_eq!(after.next_event_seq(), expected_events, "{what}");
        let rows = stored_rows(&path);
        assert_eq!(rows.len() as u64, expected_events, "{what}");
        for (_, _, text) in &rows[rows.len() - refusals as usize..] {
            let event: Event = serde_json::from_str(text).unwrap();
            assert!(!event.applied(), "{what}: {text}");
        }
        let fresh = open(&path);
        assert_eq!(fresh.snapshot().to_json(), after.to_json(), "{what}");
    };
    for (what, actor, op) in ops {
        let before = policy.snapshot();
        let refused = policy.apply(actor, t(), op);
        assert!(
            matches!(refused, Err(WriteError::Refused(_))),
            "{what}: {refused:?}"
        );
        assert_unchanged(&before, 1, what);
    }

    let before = policy.snapshot();
    let batch = policy
        .apply_batch([
            (Actor::User(ann), t(), create_org("B")),
            (Actor::System, t(), create_org("A")),
        ])
        .unwrap();
    assert!(batch.iter().all(Result::is_err), "{batch:?}");
    assert_unchanged(&before, 2, "a batch of refusals");

    let before = policy.snapshot();
    let acted = policy
        .act(Actor::User(ann), t(), |me| {
            (me.create_org("B").is_err(), me.delete_object(site).is_err())
        })
        .unwrap();
    assert_eq!(acted, (true, true));
    assert_unchanged(&before, 2, "refusals in a closure");
}
