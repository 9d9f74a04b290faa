//! Many concurrent readers, one writer, and readers that never wait for a
//! mutation.
//!
//! [`Shared`] keeps two copies of the engine. Readers take the published
//! copy (an [`Arc`] cloned under a read lock held for a pointer copy) and
//! run `check` on it without any lock. The writer mutates the other copy,
//! publishes it with a pointer swap, and replays the same events on the
//! copy it took back before its next mutation — the *left-right* scheme.
//! A reader therefore never waits for a mutation to run, only (at worst)
//! for a pointer swap; the price is twice the memory of one engine.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::audit::Event;
use crate::decision::{Decision, Subject};
use crate::id::{ActionId, ObjectId};
use crate::Engine;

/// How long the writer waits for readers to release the previously
/// published copy before it copies the published engine instead.
const RECLAIM_PATIENCE: Duration = Duration::from_millis(2);

/// An engine shared by many reader threads and mutated by one writer at a
/// time, readers never blocked by a mutation in progress.
///
/// Readers call [`Shared::check`] (or take a [`Shared::snapshot`] for a
/// batch of queries: it stays consistent however the engine changes
/// meanwhile). Writers call [`Shared::write`], which runs a closure on a
/// private copy and publishes the result when it returns; writers are
/// serialized. Snapshots should be short-lived: while a reader holds the
/// previous copy, the next write waits for it up to a couple of
/// milliseconds, then copies the engine instead.
///
/// Reads are monotonic: once a snapshot, a check or a [`Reader`] has seen
/// a publication, every read through the same `Shared` that happens
/// after it (later in the same thread, or in a thread synchronized with
/// it), by any path ([`Shared::snapshot`], [`Shared::check`] or a
/// [`Reader`]), sees that publication or a later one, never an older one.
///
/// The closure given to [`Shared::write`] may replace the engine
/// outright, for instance to restore a backup: what it leaves is what is
/// published, and the next write starts from it.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use accord::{presets, Actor, Decision, Shared, Subject, Timestamp};
///
/// let shared = Arc::new(Shared::new(presets::arbiter().build()?));
/// let t = Timestamp::from_unix_millis(0);
/// let (ann, site) = shared.write(|e| -> Result<_, accord::MutationError> {
///     let mut sys = e.act(accord::Actor::System, t);
///     let org = sys.create_org("Utility X")?.value;
///     sys.accept_terms(org)?;
///     let ann = sys.create_user(org, "ann@x.example")?.value;
///     let read_all = sys.engine().role_by_name(org, "Read all").unwrap();
///     sys.grant_role(ann, read_all, &[])?;
///     let site = sys.create_object(org, "sites", "plant", &[])?.value;
///     Ok((ann, site))
/// })?;
/// let read = shared.snapshot().schema().action("read").unwrap();
/// let reader = {
///     let shared = Arc::clone(&shared);
///     std::thread::spawn(move || shared.check(Subject::User(ann), read, site))
/// };
/// assert_eq!(reader.join().unwrap(), Decision::Allow);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Shared {
    published: RwLock<Arc<Engine>>,
    /// The number of publications, bumped by each one while it still
    /// holds the write lock of `published`, so a [`Reader`] knows when its
    /// snapshot is stale with one atomic load (see [`Reader::engine`]).
    generation: AtomicU64,
    writer: Mutex<Standby>,
}

/// The writer's side: the copy published before the current one, and the
/// events it has not seen yet.
#[derive(Debug)]
struct Standby {
    previous: Option<Arc<Engine>>,
    behind: Vec<Event>,
}

impl Shared {
    /// Shares `engine`.
    #[must_use]
    pub fn new(engine: Engine) -> Shared {
        Shared {
            published: RwLock::new(Arc::new(engine)),
            generation: AtomicU64::new(0),
            writer: Mutex::new(Standby { previous: None, behind: Vec::new() }),
        }
    }

    /// The published engine: every mutation whose [`Shared::write`] has
    /// returned, and none in progress.
    #[must_use]
    pub fn snapshot(&self) -> Arc<Engine> {
        let guard =
            self.published.read().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(&guard)
    }

    /// [`Engine::check`] on the published engine.
    #[must_use]
    pub fn check(
        &self,
        subject: Subject,
        action: ActionId,
        object: ObjectId,
    ) -> Decision {
        self.snapshot().check(subject, action, object)
    }

    /// Runs `f` on a private, up-to-date copy of the engine, then publishes
    /// that copy. Readers see either none or all of what `f` did. Writers
    /// are serialized.
    ///
    /// `f` may do anything to the engine, including replacing it: a
    /// restore (`*e = Engine::from_json(&backup)?`), a fresh engine or a
    /// drained log is published as it is, and the next write starts from
    /// it. The other copy is brought up to date by replaying the events
    /// `f` caused only when the new engine provably continues it (same
    /// schema, config and start of the log, and its retained events a
    /// prefix of the new engine's, compared by their chained digest);
    /// otherwise the next write starts from a copy of the published
    /// engine.
    pub fn write<R>(&self, f: impl FnOnce(&mut Engine) -> R) -> R {
        match self.try_write(|e| Ok::<R, Infallible>(f(e))) {
            Ok(out) => out,
            Err(never) => match never {},
        }
    }

    /// As [`Shared::write`], but all or nothing: the private copy is
    /// published only if `f` returns `Ok`. When `f` returns `Err`, what it
    /// did to the copy is dropped, readers go on seeing the engine as it
    /// was, and the next write starts from a copy of it (a clone, since
    /// the standby copy was the one `f` changed).
    ///
    /// This is how a write is made durable: apply the mutations, commit
    /// their events to storage, and return the storage's error to leave
    /// memory exactly as before.
    ///
    /// # Errors
    ///
    /// Returns `f`'s error.
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{presets, Actor, Shared, Timestamp};
    ///
    /// let shared = Shared::new(presets::arbiter().build()?);
    /// let t = Timestamp::from_unix_millis(0);
    /// let failed: Result<(), &str> = shared.try_write(|e| {
    ///     e.act(Actor::System, t).create_org("Utility X").map_err(|_| "refused")?;
    ///     Err("the commit failed")
    /// });
    /// assert!(failed.is_err());
    /// assert!(shared.snapshot().org_by_name("Utility X").is_none());
    /// assert_eq!(shared.snapshot().revision().get(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_write<R, E>(
        &self,
        f: impl FnOnce(&mut Engine) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut standby =
            self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut engine = self.reclaim(&mut standby);
        let out = f(&mut engine)?;
        // The copy about to be replaced becomes the standby copy, and the
        // events `f` caused are what it has to replay. That holds only if
        // `f` continued the log it was given: if it drained the log,
        // restored a backup or put in another engine, the standby copy is
        // dropped and the next write starts from a clone. Writers are
        // serialized, so the published copy is still the one `f` started
        // from.
        let new_events = continuation(&self.snapshot(), &engine);
        let fresh = Arc::new(engine);
        let previous = {
            let mut guard =
                self.published.write().unwrap_or_else(PoisonError::into_inner);
            let previous = std::mem::replace(&mut *guard, fresh);
            // Before the lock is released, so that whoever sees the new
            // copy also sees the new generation (see `Reader::engine`).
            self.generation.fetch_add(1, Ordering::Release);
            previous
        };
        standby.previous = new_events.is_some().then_some(previous);
        standby.behind = new_events.unwrap_or_default();
        Ok(out)
    }

    /// A per-thread reading handle that keeps its snapshot until the next
    /// publication: each check costs one atomic load on top of
    /// [`Engine::check`], and concurrent readers share no written memory.
    /// Drop idle readers: a reader holding an old snapshot makes the next
    /// write copy the engine instead of reusing that copy.
    #[must_use]
    pub fn reader(&self) -> Reader<'_> {
        let generation = self.generation.load(Ordering::Acquire);
        Reader { shared: self, generation, engine: Some(self.snapshot()) }
    }

    /// An owned engine equal to the published one: the previous copy
    /// brought up to date, or a copy of the published engine when readers
    /// still hold the previous one (or it cannot be brought up to date).
    fn reclaim(&self, standby: &mut Standby) -> Engine {
        let behind = std::mem::take(&mut standby.behind);
        if let Some(mut previous) = standby.previous.take() {
            let deadline = Instant::now() + RECLAIM_PATIENCE;
            loop {
                match Arc::try_unwrap(previous) {
                    Ok(mut engine) => {
                        if catch_up(&mut engine, &behind) {
                            return engine;
                        }
                        break;
                    }
                    Err(still_shared) if Instant::now() < deadline => {
                        previous = still_shared;
                        thread::yield_now();
                    }
                    Err(_) => break,
                }
            }
        }
        Engine::clone(&self.snapshot())
    }
}

/// A reading handle of a [`Shared`] engine (see [`Shared::reader`]).
///
/// A reader's view is monotonic: [`Reader::engine`] never returns an
/// engine older than one already returned by it, or by any read through
/// the same `Shared` (a snapshot, a check, another reader) that happened
/// before the call.
#[derive(Debug)]
pub struct Reader<'a> {
    shared: &'a Shared,
    generation: u64,
    engine: Option<Arc<Engine>>,
}

impl Reader<'_> {
    /// The engine as last published, refreshed if a write was published
    /// since the previous call: never older than anything a read through
    /// the same [`Shared`] observed before this call started.
    pub fn engine(&mut self) -> &Engine {
        // Why this never returns a copy older than one already observed
        // through the same `Shared`. A publication swaps the pointer and
        // bumps the generation inside one write-lock section. (1) A read
        // that took publication N (a snapshot, a check, another reader)
        // did so under the lock after that section, so the store of
        // generation N happens before it, and so before this call if the
        // call starts afterwards: by coherence this load returns N or a
        // later generation. (2) A generation M loaded here (Acquire,
        // pairing with the Release increment) was stored after the swap
        // of publication M, so the snapshot taken below, under the lock,
        // returns publication M or a later one. The kept copy was taken
        // after its generation was loaded, so it is at least as new as
        // that generation; if that equals the one loaded now, it is at
        // least as new as anything observed before, by (1); otherwise the
        // copy is refreshed, and by (2) the new one is too.
        let now = self.shared.generation.load(Ordering::Acquire);
        if now != self.generation {
            // Release the stale copy first, so the writer can reclaim it.
            self.engine = None;
            self.generation = now;
        }
        let shared = self.shared;
        self.engine.get_or_insert_with(|| shared.snapshot())
    }

    /// [`Engine::check`] on the latest published engine.
    pub fn check(
        &mut self,
        subject: Subject,
        action: ActionId,
        object: ObjectId,
    ) -> Decision {
        self.engine().check(subject, action, object)
    }
}

/// The events `to` holds beyond those of `from`, if `to` provably
/// continues `from`: the same schema and config, the same start of the
/// log, and `from`'s retained events a prefix of `to`'s. The digest of
/// the last of them chains every event before it (and the start of the
/// log), so comparing it compares the whole prefix; where `from` retains
/// no event, the start of the log vouches for the history unless it is
/// the genesis (an engine with no history looks like any other). `None`
/// otherwise: a restored backup, a fresh engine, a drained log, an engine
/// with fewer events or a different last one.
fn continuation(from: &Engine, to: &Engine) -> Option<Vec<Event>> {
    if from.log_base != to.log_base
        || from.schema != to.schema
        || from.config != to.config
    {
        return None;
    }
    let n = from.events().len();
    let (prefix, new) = (to.events().get(..n)?, to.events().get(n..)?);
    let same = match (from.events().last(), prefix.last()) {
        (Some(a), Some(b)) => {
            a.seq == b.seq && a.revision == b.revision && a.digest == b.digest
        }
        _ => !from.log_base.is_genesis(),
    };
    same.then(|| new.to_vec())
}

/// Replays `events` on `engine`; false if any does not reproduce its
/// recorded outcome and revision (the copy is then discarded).
fn catch_up(engine: &mut Engine, events: &[Event]) -> bool {
    for e in events {
        let result = engine.apply(e.actor, e.at, e.op.clone());
        let same = match &result {
            Ok(rev) => e.applied() && *rev == e.revision,
            Err(_) => !e.applied() && engine.revision() == e.revision,
        };
        if !same {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::{RoleId, UserId};
    use crate::{presets, Actor, Builder, Timestamp};

    #[test]
    fn draining_inside_a_write_keeps_the_copies_equal() {
        let shared = Shared::new(presets::arbiter().build().unwrap());
        let t = Timestamp::from_unix_millis(0);
        let mut stored = Vec::new();
        for i in 0..4 {
            shared
                .write(|e| {
                    e.act(Actor::System, t).create_org(&format!("Org {i}"))
                })
                .unwrap();
            if i % 2 == 1 {
                stored.extend(shared.write(Engine::drain_events));
            }
        }
        shared.write(|e| e.act(Actor::System, t).create_org("Org 9")).unwrap();
        let snap = shared.snapshot();
        assert_eq!(snap.events().len(), 1);
        assert_eq!(snap.events()[0].seq, 4);
        let mut standby = shared.writer.lock().unwrap();
        drop(snap);
        let caught_up = shared.reclaim(&mut standby);
        assert_eq!(caught_up.to_json(), shared.snapshot().to_json());
        stored.extend(caught_up.events().iter().cloned());
        let replayed = Engine::replay(presets::arbiter(), &stored).unwrap();
        assert_eq!(replayed.revision().get(), 5);
    }

    #[test]
    fn writes_reach_later_snapshots_and_both_copies_agree() {
        let shared = Shared::new(presets::arbiter().build().unwrap());
        let t = Timestamp::from_unix_millis(0);
        let mut ids = Vec::new();
        for i in 0..5 {
            let org = shared.write(|e| {
                e.act(Actor::System, t).create_org(&format!("Org {i}"))
            });
            ids.push(org.unwrap().value);
            // A refused attempt is logged on both copies too.
            let dup = shared.write(|e| {
                e.act(Actor::System, t).create_org(&format!("Org {i}"))
            });
            assert!(dup.is_err());
        }
        let snap = shared.snapshot();
        assert_eq!(snap.revision().get(), 5);
        assert_eq!(snap.events().len(), 10);
        for id in &ids {
            assert!(snap.org(*id).is_some());
        }
        // The standby copy, brought up to date, equals the published one.
        let mut standby = shared.writer.lock().unwrap();
        drop(snap);
        let caught_up = shared.reclaim(&mut standby);
        assert_eq!(caught_up.to_json(), shared.snapshot().to_json());
    }

    #[test]
    fn copies_agree_after_grants_objects_and_tokens() {
        let shared = Shared::new(presets::arbiter().build().unwrap());
        let t = Timestamp::from_unix_millis(0);
        let user = shared.write(|e| {
            let mut sys = e.act(Actor::System, t);
            let org = sys.create_org("A").unwrap().value;
            sys.accept_terms(org).unwrap();
            let u = sys.create_user(org, "a@a.example").unwrap().value;
            let r = sys.engine().role_by_name(org, "Read all").unwrap();
            sys.grant_role(u, r, &[]).unwrap();
            sys.create_object(org, "sites", "s", &[]).unwrap();
            u
        });
        let token = shared.write(|e| {
            e.act(Actor::System, t).issue_token(user, None, "ci", None)
        });
        let (id, secret) = token.unwrap().value;
        assert!(shared.snapshot().authenticate(secret.expose(), t).is_some());
        shared
            .write(|e| e.act(Actor::User(user), t).revoke_token(id))
            .unwrap();
        let mut standby = shared.writer.lock().unwrap();
        let caught_up = shared.reclaim(&mut standby);
        let published = shared.snapshot();
        assert_eq!(caught_up.to_json(), published.to_json());
        assert!(published.authenticate(secret.expose(), t).is_none());
    }

    #[test]
    fn a_failed_try_write_publishes_nothing_and_the_next_write_is_whole() {
        let shared = Shared::new(presets::arbiter().build().unwrap());
        let t = Timestamp::from_unix_millis(0);
        shared.write(|e| e.act(Actor::System, t).create_org("A")).unwrap();
        let before = shared.snapshot().to_json();
        let failed: Result<(), ()> = shared.try_write(|e| {
            e.act(Actor::System, t).create_org("B").unwrap();
            Err(())
        });
        assert!(failed.is_err());
        assert_eq!(shared.snapshot().to_json(), before);
        shared.write(|e| e.act(Actor::System, t).create_org("C")).unwrap();
        let snap = shared.snapshot();
        assert!(snap.org_by_name("B").is_none());
        assert_eq!(snap.revision().get(), 2);
        let mut standby = shared.writer.lock().unwrap();
        drop(snap);
        let caught_up = shared.reclaim(&mut standby);
        assert_eq!(caught_up.to_json(), shared.snapshot().to_json());
    }

    #[test]
    fn a_reader_follows_publications() {
        let shared = Shared::new(presets::arbiter().build().unwrap());
        let t = Timestamp::from_unix_millis(0);
        let mut reader = shared.reader();
        assert_eq!(reader.engine().revision().get(), 0);
        shared.write(|e| e.act(Actor::System, t).create_org("A")).unwrap();
        assert_eq!(reader.engine().revision().get(), 1);
        assert!(reader.engine().org_by_name("A").is_some());
    }

    /// An organization with the terms accepted, a user holding "Read all"
    /// and an object: (user, role, object).
    fn granted(e: &mut Engine, t: Timestamp) -> (UserId, RoleId, ObjectId) {
        let mut sys = e.act(Actor::System, t);
        let org = sys.create_org("A").unwrap().value;
        sys.accept_terms(org).unwrap();
        let u = sys.create_user(org, "a@a.example").unwrap().value;
        let r = sys.engine().role_by_name(org, "Read all").unwrap();
        sys.grant_role(u, r, &[]).unwrap();
        let site = sys.create_object(org, "sites", "s", &[]).unwrap().value;
        (u, r, site)
    }

    /// The standby copy brought up to date, once no snapshot is held.
    fn caught_up(shared: &Shared) -> Engine {
        let mut standby = shared.writer.lock().unwrap();
        shared.reclaim(&mut standby)
    }

    #[test]
    fn a_grant_revoked_after_a_restore_inside_a_write_stays_revoked() {
        let shared = Shared::new(presets::arbiter().build().unwrap());
        let t = Timestamp::from_unix_millis(0);
        let (user, role, site) = shared.write(|e| granted(e, t));
        let backup = shared.snapshot().to_json();
        for name in ["B", "C", "D"] {
            shared
                .write(|e| e.act(Actor::System, t).create_org(name))
                .unwrap();
        }
        // Fewer events than before the closure: the backup's, plus one.
        shared.write(|e| {
            *e = Engine::from_json(&backup).unwrap();
            e.act(Actor::System, t).revoke_role(user, role).unwrap();
        });
        shared.write(|e| e.act(Actor::System, t).create_org("E")).unwrap();
        let mut expected = Engine::from_json(&backup).unwrap();
        expected.act(Actor::System, t).revoke_role(user, role).unwrap();
        expected.act(Actor::System, t).create_org("E").unwrap();
        let published = shared.snapshot();
        let read = published.schema().action("read").unwrap();
        assert_eq!(
            published.check(Subject::User(user), read, site),
            Decision::Deny
        );
        assert!(published.org_by_name("B").is_none());
        assert_eq!(published.to_json(), expected.to_json());
        drop(published);
        assert_eq!(caught_up(&shared).to_json(), expected.to_json());
    }

    #[test]
    fn an_org_deleted_after_a_restore_inside_a_write_stays_deleted() {
        let shared = Shared::new(presets::arbiter().build().unwrap());
        let t = Timestamp::from_unix_millis(0);
        shared.write(|e| e.act(Actor::System, t).create_org("A")).unwrap();
        let x = shared.write(|e| e.act(Actor::System, t).create_org("X"));
        let x = x.unwrap().value;
        let backup = shared.snapshot().to_json();
        shared.write(|e| e.act(Actor::System, t).create_org("B")).unwrap();
        // As many events as before the closure, the last one different.
        shared.write(|e| {
            *e = Engine::from_json(&backup).unwrap();
            e.act(Actor::System, t).delete_org(x).unwrap();
        });
        shared.write(|e| e.act(Actor::System, t).create_org("C")).unwrap();
        let published = shared.snapshot();
        assert!(published.org_by_name("X").is_none());
        assert!(published.org_by_name("B").is_none());
        assert!(published.org_by_name("C").is_some());
        drop(published);
        let standby = caught_up(&shared);
        assert!(standby.org_by_name("X").is_none());
        assert_eq!(standby.to_json(), shared.snapshot().to_json());
    }

    #[test]
    fn a_plain_restore_inside_a_write_survives_the_next_write() {
        let shared = Shared::new(presets::arbiter().build().unwrap());
        let t = Timestamp::from_unix_millis(0);
        let (user, role, site) = shared.write(|e| granted(e, t));
        let backup = shared.snapshot().to_json();
        shared
            .write(|e| e.act(Actor::System, t).revoke_role(user, role))
            .unwrap();
        shared.write(|e| *e = Engine::from_json(&backup).unwrap());
        shared.write(|e| e.act(Actor::System, t).create_org("B")).unwrap();
        let published = shared.snapshot();
        let read = published.schema().action("read").unwrap();
        assert_eq!(
            published.check(Subject::User(user), read, site),
            Decision::Allow
        );
        drop(published);
        let standby = caught_up(&shared);
        assert_eq!(
            standby.check(Subject::User(user), read, site),
            Decision::Allow
        );
        assert_eq!(standby.to_json(), shared.snapshot().to_json());
    }

    #[test]
    fn a_replacement_with_the_same_revision_and_length_is_not_continued() {
        let shared = Shared::new(presets::arbiter().build().unwrap());
        let t = Timestamp::from_unix_millis(0);
        shared.write(|e| e.act(Actor::System, t).create_org("A")).unwrap();
        let mut other = presets::arbiter().build().unwrap();
        other.act(Actor::System, t).create_org("B").unwrap();
        assert_eq!(other.revision(), shared.snapshot().revision());
        assert_eq!(other.events().len(), shared.snapshot().events().len());
        shared.write(|e| *e = other.clone());
        shared.write(|e| e.act(Actor::System, t).create_org("C")).unwrap();
        other.act(Actor::System, t).create_org("C").unwrap();
        assert!(shared.snapshot().org_by_name("A").is_none());
        assert!(shared.snapshot().org_by_name("B").is_some());
        assert_eq!(shared.snapshot().to_json(), other.to_json());
        let standby = caught_up(&shared);
        assert!(standby.org_by_name("A").is_none());
        assert_eq!(standby.to_json(), other.to_json());
    }

    #[test]
    fn a_fresh_engine_put_in_inside_a_write_is_not_continued() {
        let shared = Shared::new(presets::arbiter().build().unwrap());
        let t = Timestamp::from_unix_millis(0);
        shared.write(|e| e.act(Actor::System, t).create_org("A")).unwrap();
        shared.write(|e| *e = presets::arbiter().build().unwrap());
        shared.write(|e| e.act(Actor::System, t).create_org("B")).unwrap();
        assert!(shared.snapshot().org_by_name("A").is_none());
        let standby = caught_up(&shared);
        assert!(standby.org_by_name("A").is_none());
        assert_eq!(standby.to_json(), shared.snapshot().to_json());
    }

    #[test]
    fn the_same_history_under_another_schema_or_config_is_not_continued() {
        let t = Timestamp::from_unix_millis(0);
        let arbiter = presets::arbiter().build().unwrap();
        let config = arbiter.config().clone();
        let schema = presets::portfolio_schema().unwrap();
        let others = [
            Builder::new(schema).config(config),
            presets::arbiter().configure(|c| c.require_terms = false),
        ];
        for other in others {
            let shared = Shared::new(arbiter.clone());
            shared.write(|e| e.act(Actor::System, t).create_org("A")).unwrap();
            let mut other = other.build().unwrap();
            other.act(Actor::System, t).create_org("A").unwrap();
            // The digests chain the events only.
            let last = |e: &Engine| e.events().last().unwrap().digest.clone();
            assert_eq!(last(&other), last(&shared.snapshot()));
            shared.write(|e| *e = other.clone());
            shared.write(|e| e.act(Actor::System, t).create_org("C")).unwrap();
            other.act(Actor::System, t).create_org("C").unwrap();
            let published = shared.snapshot();
            assert!(published.schema() == other.schema());
            assert!(published.config() == other.config());
            assert_eq!(published.to_json(), other.to_json());
            drop(published);
            let standby = caught_up(&shared);
            assert!(standby.schema() == other.schema());
            assert!(standby.config() == other.config());
            assert_eq!(standby.to_json(), other.to_json());
        }
    }

    #[test]
    fn a_held_snapshot_is_never_changed_by_later_writes() {
        let shared = Shared::new(presets::arbiter().build().unwrap());
        let t = Timestamp::from_unix_millis(0);
        let held = shared.snapshot();
        shared.write(|e| e.act(Actor::System, t).create_org("A")).unwrap();
        shared.write(|e| e.act(Actor::System, t).create_org("B")).unwrap();
        assert_eq!(held.revision().get(), 0);
        assert!(held.org_by_name("A").is_none());
        assert_eq!(shared.snapshot().revision().get(), 2);
    }
}
