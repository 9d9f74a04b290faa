//! Keeping a replica up to date: a [`Follower`] thread that waits for
//! word of new events and catches up.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::durable::DurableEngine;
use crate::store::{Store, StoreError};

/// How long a [`Follower`] waits at most before it looks whether it was
/// asked to stop.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// What a [`Waiter`] woke up for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Wake {
    /// Events were committed; the highest sequence number announced,
    /// when the word said.
    Notified(Option<u64>),
    /// The timeout passed without word.
    Timeout,
    /// Word may have been lost meanwhile (the waiter reconnected): catch
    /// up.
    Missed,
}

/// What a [`Follower`] waits on between catch-ups: word that events were
/// committed, such as a [`PgListener`](crate::PgListener)'s
/// notifications.
pub trait Waiter: Send {
    /// Waits up to `timeout` for word of new events.
    ///
    /// # Errors
    ///
    /// The waiter's own; the follower counts it, catches up, waits its
    /// interval out and calls again.
    fn wait(&mut self, timeout: Duration) -> Result<Wake, StoreError>;
}

/// A [`Waiter`] without notifications: sleeps the timeout out, so that a
/// [`Follower`] polls the store (for a store that sends none, such as
/// SQLite).
#[derive(Clone, Copy, Debug, Default)]
pub struct Polling;

impl Waiter for Polling {
    fn wait(&mut self, timeout: Duration) -> Result<Wake, StoreError> {
        std::thread::park_timeout(timeout);
        Ok(Wake::Timeout)
    }
}

/// A thread that keeps a [`DurableEngine`] up to date with its store:
/// it waits on a [`Waiter`], and catches up on every wake-up — a
/// notification, word that notifications were missed — and whenever
/// `interval` passed since the last catch-up, notified or not: a lost
/// notification delays a replica by at most `interval`.
///
/// Errors (the store's, the waiter's) are counted; after a waiter's
/// error the follower catches up and waits `interval` before it waits
/// on the waiter again (which reconnects as it sees fit). The thread
/// stops within about 100 ms of the follower being stopped or dropped.
///
/// How far behind the replica is shows in
/// [`DurableEngine::progress`]: the follower passes each notified
/// sequence number to [`DurableEngine::notice`].
#[derive(Debug)]
pub struct Follower {
    state: Arc<State>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct State {
    stop: AtomicBool,
    errors: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl State {
    fn failed(&self, e: &StoreError) {
        let _ = self.errors.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(e.to_string());
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }
}

impl Follower {
    /// Starts a thread that keeps `durable` up to date, waiting on
    /// `waiter` at most `interval` between catch-ups.
    ///
    /// # Errors
    ///
    /// The operating system's, when the thread cannot be started.
    pub fn spawn<S, W>(
        durable: Arc<DurableEngine<S>>,
        mut waiter: W,
        interval: Duration,
    ) -> std::io::Result<Follower>
    where
        S: Store + 'static,
        W: Waiter + 'static,
    {
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("accord-follower".into())
            .spawn(move || {
                let mut last = Instant::now();
                let mut pause = false;
                while !shared.stopped() {
                    if std::mem::take(&mut pause) {
                        std::thread::park_timeout(interval);
                        continue;
                    }
                    let left = interval.saturating_sub(last.elapsed());
                    let due = match waiter.wait(left.min(STOP_CHECK)) {
                        Ok(Wake::Notified(seq)) => {
                            if let Some(seq) = seq {
                                durable.notice(seq);
                            }
                            true
                        }
                        Ok(Wake::Missed) => true,
                        Ok(Wake::Timeout) => last.elapsed() >= interval,
                        Err(e) => {
                            shared.failed(&e);
                            pause = true;
                            true
                        }
                    };
                    if due && !shared.stopped() {
                        if let Err(e) = durable.catch_up() {
                            shared.failed(&e);
                        }
                        last = Instant::now();
                    }
                }
            })?;
        Ok(Follower { state, thread: Some(thread) })
    }

    /// How many waits and catch-ups failed so far.
    #[must_use]
    pub fn errors(&self) -> u64 {
        self.state.errors.load(Ordering::Relaxed)
    }

    /// The last error, if any, as text.
    #[must_use]
    pub fn last_error(&self) -> Option<String> {
        self.state
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops the thread and waits for it to end (within about the
    /// interval: a wait in progress runs out first).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.state.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            // A panic in the thread has nothing left to tell.
            let _ = thread.join();
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.halt();
    }
}
