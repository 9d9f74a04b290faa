//! `Shared` and `Reader` under real threads.
//!
//! * Reader threads query while a writer mutates, restores backups inside
//!   its closure and publishes; afterwards the published engine must equal
//!   the same script run on a plain engine, one step after the other.
//! * Reader threads alternate `Shared::snapshot` and `Reader::engine`
//!   while a writer publishes revision after revision; the revisions each
//!   thread reads, in program order across both paths, never decrease.

use std::thread;

use accord::{
    presets, ActionId, Actor, Decision, Engine, MutationError, ObjectId,
    Shared, Subject, Timestamp,
};

const ROUNDS: usize = 12;
const READERS: usize = 3;
const READS: usize = 2_000;

/// The writer's script, step `i`: four steps per round, creating an
/// organization with a granted user and an object, revoking the grant,
/// deleting the previous round's organization (if it is there), then
/// restoring the backup taken after the first step, which undoes the
/// revocation and the deletion (on odd rounds deleting the round's
/// organization in the same closure). `backups` holds one backup per
/// round.
fn step(
    e: &mut Engine,
    i: usize,
    backups: &mut Vec<String>,
) -> Result<(), MutationError> {
    let t = Timestamp::from_unix_millis(0);
    let round = i / 4;
    let org_name = format!("Org {round}");
    let email = format!("u{round}@x.example");
    match i % 4 {
        0 => {
            let mut sys = e.act(Actor::System, t);
            let org = sys.create_org(&org_name)?.value;
            sys.accept_terms(org)?;
            let user = sys.create_user(org, &email)?.value;
            let role = sys.engine().role_by_name(org, "Read all").unwrap();
            sys.grant_role(user, role, &[])?;
            sys.create_object(org, "sites", &format!("s{round}"), &[])?;
            backups.push(e.to_json());
        }
        1 => {
            let org = e.org_by_name(&org_name).unwrap();
            let user = e.user_by_email(&email).unwrap();
            let role = e.role_by_name(org, "Read all").unwrap();
            e.act(Actor::System, t).revoke_role(user, role)?;
        }
        2 => {
            let prev = round.checked_sub(1).map(|p| format!("Org {p}"));
            match prev.and_then(|name| e.org_by_name(&name)) {
                Some(org) => {
                    e.act(Actor::System, t).delete_org(org)?;
                }
                None => {
                    let name = format!("Extra {round}");
                    e.act(Actor::System, t).create_org(&name)?;
                }
            }
        }
        _ => {
            *e = Engine::from_json(&backups[round]).unwrap();
            if round % 2 == 1 {
                let org = e.org_by_name(&org_name).unwrap();
                e.act(Actor::System, t).delete_org(org)?;
            }
        }
    }
    Ok(())
}

/// A base organization the script never touches: a user allowed to read
/// a site, and the read action.
fn base(e: &mut Engine) -> (Subject, ActionId, ObjectId) {
    let t = Timestamp::from_unix_millis(0);
    let mut sys = e.act(Actor::System, t);
    let org = sys.create_org("Base").unwrap().value;
    sys.accept_terms(org).unwrap();
    let user = sys.create_user(org, "base@x.example").unwrap().value;
    let role = sys.engine().role_by_name(org, "Read all").unwrap();
    sys.grant_role(user, role, &[]).unwrap();
    let site = sys.create_object(org, "sites", "base", &[]).unwrap().value;
    let read = e.schema().action("read").unwrap();
    (Subject::User(user), read, site)
}

#[test]
fn restores_inside_writes_beside_reader_threads_match_a_sequential_run() {
    let shared = Shared::new(presets::arbiter().build().unwrap());
    let (subject, read, site) = shared.write(base);
    let mut expected = presets::arbiter().build().unwrap();
    base(&mut expected);

    thread::scope(|s| {
        for n in 0..READERS {
            let shared = &shared;
            s.spawn(move || {
                let mut reader = shared.reader();
                for i in 0..READS {
                    let decision = match (i + n) % 3 {
                        0 => shared.check(subject, read, site),
                        1 => reader.check(subject, read, site),
                        _ => {
                            // Held across a yield, so that some writes find
                            // the other copy still in use.
                            let snap = shared.snapshot();
                            thread::yield_now();
                            snap.check(subject, read, site)
                        }
                    };
                    assert_eq!(decision, Decision::Allow);
                }
            });
        }
        let mut backups = Vec::new();
        for i in 0..ROUNDS * 4 {
            shared.write(|e| step(e, i, &mut backups)).unwrap();
            thread::yield_now();
        }
    });

    let mut backups = Vec::new();
    for i in 0..ROUNDS * 4 {
        step(&mut expected, i, &mut backups).unwrap();
    }
    assert_eq!(shared.snapshot().to_json(), expected.to_json());
    // A write after the last restore starts from the restored state.
    let t = Timestamp::from_unix_millis(0);
    shared.write(|e| e.act(Actor::System, t).create_org("Last")).unwrap();
    expected.act(Actor::System, t).create_org("Last").unwrap();
    let published = shared.snapshot();
    assert_eq!(published.revision(), expected.revision());
    assert_eq!(published.to_json(), expected.to_json());
    assert!(published.index_is_consistent());
}

#[test]
fn revisions_read_through_snapshots_and_readers_never_decrease() {
    const WRITES: u64 = 100;
    // A bound only: a reader stops once it has read the last revision.
    const MAX_READS: usize = 20_000_000;
    let shared = Shared::new(presets::arbiter().build().unwrap());
    let t = Timestamp::from_unix_millis(0);
    let outcomes = thread::scope(|s| {
        let threads: Vec<_> = (0..READERS)
            .map(|n| {
                let shared = &shared;
                s.spawn(move || {
                    // The first decrease this thread reads, in program
                    // order across both read paths: (read number, highest
                    // revision read before it, revision read).
                    let mut reader = shared.reader();
                    let (mut last, mut back) = (0, None);
                    for i in 0..MAX_READS {
                        if last == WRITES {
                            break;
                        }
                        let revision = if (i + n) % 2 == 0 {
                            shared.snapshot().revision()
                        } else {
                            reader.engine().revision()
                        };
                        let revision = revision.get();
                        if revision < last && back.is_none() {
                            back = Some((i, last, revision));
                        }
                        last = last.max(revision);
                    }
                    back
                })
            })
            .collect();
        // Revisions 1..=WRITES, the engine staying small.
        for i in 0..WRITES {
            shared.write(|e| match e.org_by_name("X") {
                Some(org) if i % 2 == 1 => {
                    e.act(Actor::System, t).delete_org(org).unwrap();
                }
                _ => {
                    e.act(Actor::System, t).create_org("X").unwrap();
                }
            });
        }
        threads.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
    });
    assert_eq!(shared.snapshot().revision().get(), WRITES);
    for (n, back) in outcomes.into_iter().enumerate() {
        assert_eq!(back, None, "reader thread {n} went back");
    }
}
