//! The SQLite store on real files: reopening, refusals, commits that
//! fail, racing writers, checkpoints and tampered rows.

use std::time::Duration;

use accord::{presets, Actor, Engine, Op, Timestamp};
use accord_store::{
    DurableEngine, Options, SqliteStore, StoreError, WriteError,
};

fn t() -> Timestamp {
    Timestamp::from_unix_millis(1_700_000_000_000)
}

fn open(path: &std::path::Path) -> DurableEngine<SqliteStore> {
    DurableEngine::open(SqliteStore::open(path).unwrap(), presets::arbiter())
        .unwrap()
}

fn create_org(name: &str) -> Op {
    Op::CreateOrg { name: name.to_owned() }
}

/// Applied and refused mutations survive a reopen exactly.
#[test]
fn a_reopened_store_holds_every_committed_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.db");
    let policy = open(&path);
    policy.apply(Actor::System, t(), create_org("A")).unwrap();
    let refused = policy.apply(Actor::System, t(), create_org("A"));
    assert!(matches!(refused, Err(WriteError::Refused(_))), "{refused:?}");
    let batch =
        policy
            .apply_batch((0..10).map(|i| {
                (Actor::System, t(), create_org(&format!("Batch {i}")))
            }))
            .unwrap();
    assert!(batch.iter().all(Result::is_ok));
    let before = policy.snapshot().to_json();
    drop(policy);
    let again = open(&path);
    assert_eq!(again.snapshot().to_json(), before);
    assert_eq!(again.revision().get(), 11);
    assert_eq!(again.snapshot().events().len(), 12, "the refusal too");
}

/// A commit that fails (another connection holds the file's write lock)
/// leaves memory unchanged, and the same write succeeds once the lock is
/// gone.
#[test]
fn a_failed_commit_changes_nothing_and_a_retry_works() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.db");
    let store = SqliteStore::open(&path)
        .unwrap()
        .busy_timeout(Duration::from_millis(50))
        .unwrap();
    let policy = DurableEngine::open(store, presets::arbiter()).unwrap();
    policy.apply(Actor::System, t(), create_org("A")).unwrap();
    let before = policy.snapshot().to_json();

    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let failed = policy.apply(Actor::System, t(), create_org("B"));
    assert!(
        matches!(failed, Err(WriteError::Store(StoreError::Database(_)))),
        "{failed:?}"
    );
    assert_eq!(policy.snapshot().to_json(), before, "memory unchanged");
    blocker.execute_batch("ROLLBACK").unwrap();

    policy.apply(Actor::System, t(), create_org("B")).unwrap();
    assert_eq!(policy.revision().get(), 2);
    drop(policy);
    let again = open(&path);
    assert!(again.snapshot().org_by_name("B").is_some());
    assert_eq!(again.snapshot().events().len(), 2, "no trace of the failure");
}

/// Two engines on one file: the stale one loses the race with a typed
/// conflict, catches up, and its retry commits.
#[test]
fn racing_writers_one_wins_the_other_catches_up_and_retries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.db");
    let a = open(&path);
    let b = open(&path);
    a.apply(Actor::System, t(), create_org("From A")).unwrap();
    let lost = b.apply(Actor::System, t(), create_org("From B"));
    assert!(
        matches!(
            lost,
            Err(WriteError::Store(StoreError::Conflict { seq: 0 }))
        ),
        "{lost:?}"
    );
    // The loser caught up with the winner's event.
    assert!(b.snapshot().org_by_name("From A").is_some());
    b.apply(Actor::System, t(), create_org("From B")).unwrap();
    assert_eq!(a.catch_up().unwrap(), 1);
    assert_eq!(a.snapshot().to_json(), b.snapshot().to_json());
    let rev = b.revision();
    assert_eq!(
        a.at_least(rev, Duration::from_secs(1)).unwrap().revision(),
        rev
    );
}

/// Checkpoints bound the replay; the state is the same either way.
#[test]
fn checkpoints_bound_the_replay_and_keep_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.db");
    let options = Options::new().checkpoint_every(7);
    let policy = DurableEngine::open_with(
        SqliteStore::open(&path).unwrap(),
        presets::arbiter(),
        options.clone(),
    )
    .unwrap();
    for i in 0..30 {
        policy
            .apply(Actor::System, t(), create_org(&format!("O{i}")))
            .unwrap();
        assert!(policy.snapshot().events().len() < 7);
    }
    let state = policy.snapshot();
    drop(policy);
    let again = DurableEngine::open_with(
        SqliteStore::open(&path).unwrap(),
        presets::arbiter(),
        options,
    )
    .unwrap();
    assert_eq!(again.revision(), state.revision());
    assert_eq!(again.snapshot().orgs().count(), state.orgs().count());
    // The whole log is still in the store and replays from the start.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut stmt =
        conn.prepare("SELECT event FROM accord_events ORDER BY seq").unwrap();
    let events: Vec<accord::Event> = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|e| serde_json::from_str(&e.unwrap()).unwrap())
        .collect();
    assert_eq!(events.len(), 30);
    let replayed = Engine::replay(presets::arbiter(), &events).unwrap();
    assert_eq!(replayed.revision(), state.revision());
}

/// An edited event row is refused on open, naming its sequence number
/// and revision.
#[test]
fn a_tampered_row_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.db");
    let policy = open(&path);
    for name in ["A", "B", "C"] {
        policy.apply(Actor::System, t(), create_org(name)).unwrap();
    }
    drop(policy);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE accord_events SET event = replace(event, '\"B\"', '\"Z\"')
         WHERE seq = 1",
        [],
    )
    .unwrap();
    let err = DurableEngine::open(
        SqliteStore::open(&path).unwrap(),
        presets::arbiter(),
    )
    .unwrap_err();
    assert!(
        matches!(err, StoreError::Damaged { seq: 1, revision: 2, .. }),
        "{err}"
    );
    // A row that is not JSON at all.
    conn.execute(
        "UPDATE accord_events SET event = 'garbage' WHERE seq = 2",
        [],
    )
    .unwrap();
    conn.execute(
        "UPDATE accord_events SET event = replace(event, '\"Z\"', '\"B\"')
         WHERE seq = 1",
        [],
    )
    .unwrap();
    let err = DurableEngine::open(
        SqliteStore::open(&path).unwrap(),
        presets::arbiter(),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::Damaged { seq: 2, .. }), "{err}");
}

/// A file that is not a database is a typed error, not a panic.
#[test]
fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.db");
    std::fs::write(&path, b"not a database at all, just some bytes....")
        .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Database(_)), "{err}");
}

/// A store written under one schema opens under a newer one that only
/// adds; a schema that removes something is refused, naming it.
#[test]
fn a_store_opens_under_a_schema_that_only_adds() {
    use accord::{Schema, Threshold};
    let v1 = || {
        Schema::builder()
            .object_type("site")
            .action("read_values", Threshold::Read)
            .build()
            .unwrap()
    };
    let v2 = || {
        Schema::builder()
            .object_type("site")
            .action("read_values", Threshold::Read)
            .object_type("meter")
            .build()
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.db");
    let store = || SqliteStore::open(&path).unwrap();
    let policy = DurableEngine::open(store(), Engine::builder(v1())).unwrap();
    let org = policy
        .act(Actor::System, t(), |sys| sys.create_org("Org"))
        .unwrap()
        .unwrap()
        .value;
    policy
        .act(Actor::System, t(), |sys| {
            sys.create_object(org, "site", "s1", &[])
        })
        .unwrap()
        .unwrap();
    drop(policy);
    let upgraded =
        DurableEngine::open(store(), Engine::builder(v2())).unwrap();
    assert_eq!(upgraded.snapshot().schema(), &v2());
    upgraded
        .act(Actor::System, t(), |sys| {
            sys.create_object(org, "meter", "m1", &[])
        })
        .unwrap()
        .unwrap();
    drop(upgraded);
    // Reopened under v2 again: the upgrade's checkpoint holds.
    let again = DurableEngine::open(store(), Engine::builder(v2())).unwrap();
    assert_eq!(again.revision().get(), 3);
    drop(again);
    // Back to v1 would remove `meter`.
    let err = DurableEngine::open(store(), Engine::builder(v1())).unwrap_err();
    match &err {
        StoreError::Upgrade(e) => assert_eq!(
            e.kind(),
            &accord::LoadErrorKind::SchemaChange(
                accord::SchemaChange::TypeRemoved("meter".into())
            )
        ),
        other => panic!("expected an upgrade error, got {other}"),
    }
}

/// A write whose rows the store already holds byte for byte (a commit
/// whose answer was lost, retried) is taken as committed, not applied
/// twice; rows that differ are a conflict.
#[test]
fn a_write_already_in_the_store_is_taken_as_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.db");
    let a = open(&path);
    let b = open(&path);
    let rev_b = b.apply(Actor::System, t(), create_org("Once")).unwrap();
    let rev_a = a.apply(Actor::System, t(), create_org("Once")).unwrap();
    assert_eq!(rev_a, rev_b);
    assert_eq!(a.snapshot().to_json(), b.snapshot().to_json());
    assert_eq!(open(&path).snapshot().events().len(), 1, "stored once");
    b.apply(Actor::System, t(), create_org("B")).unwrap();
    let lost = a.apply(Actor::System, t(), create_org("A"));
    assert!(
        matches!(
            lost,
            Err(WriteError::Store(StoreError::Conflict { seq: 1 }))
        ),
        "{lost:?}"
    );
}

/// Rows deleted or edited just behind the newest checkpoint are refused
/// on open (the next write would otherwise leave a gap in the log).
#[test]
fn a_log_cut_behind_a_checkpoint_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.db");
    let options = Options::new().checkpoint_every(0);
    let open = || {
        DurableEngine::open_with(
            SqliteStore::open(&path).unwrap(),
            presets::arbiter(),
            options.clone(),
        )
    };
    let policy = open().unwrap();
    for i in 0..5 {
        policy
            .apply(Actor::System, t(), create_org(&format!("O{i}")))
            .unwrap();
    }
    policy.checkpoint().unwrap();
    policy.apply(Actor::System, t(), create_org("After")).unwrap();
    drop(policy);
    assert_eq!(open().unwrap().revision().get(), 6, "intact, it opens");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("DELETE FROM accord_events WHERE seq IN (3, 4)", []).unwrap();
    let err = open().unwrap_err();
    assert!(matches!(err, StoreError::Damaged { seq: 4, .. }), "{err}");
}

/// A policy kept in a snapshot moves into an empty store with its state
/// and retained log; a store that is not empty refuses it.
#[test]
fn a_snapshot_imports_into_an_empty_store() {
    let mut engine = presets::arbiter().build().unwrap();
    let mut sys = engine.act(Actor::System, t());
    let org = sys.create_org("Utility X").unwrap().value;
    sys.create_object(org, "sites", "plant", &[]).unwrap();
    let _ = sys.create_org("Utility X");
    let json = engine.to_json();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.db");
    let loaded = Engine::from_json(&json).unwrap();
    let policy = DurableEngine::import(
        SqliteStore::open(&path).unwrap(),
        loaded,
        Options::new(),
    )
    .unwrap();
    policy.apply(Actor::System, t(), create_org("After")).unwrap();
    drop(policy);
    let again = open(&path);
    assert_eq!(again.revision().get(), 3);
    let snap = again.snapshot();
    let sites = snap.schema().object_type("sites").unwrap();
    assert!(snap.object_by_key(sites, "plant").is_some());
    assert!(snap.org_by_name("After").is_some());
    // The imported log is in the store, refusal included.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM accord_events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 4);
    drop(again);
    let err = DurableEngine::import(
        SqliteStore::open(&path).unwrap(),
        Engine::from_json(&json).unwrap(),
        Options::new(),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::NotEmpty), "{err}");
}
