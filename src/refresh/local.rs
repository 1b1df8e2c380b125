//! [`LocalCoordinator`]: single-flight refreshes within one process, with a bounded cache of
//! results and failures.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{BoxFuture, RefreshCoordinator, RefreshKey, RefreshResult};
use crate::error::RefreshError;

/// The most entries kept. A cached result holds a token set (a few KB), so this caps the cache
/// near 100 MB in the worst case; an app refreshing this many sessions within
/// `result_cache_secs` needs a shared coordinator anyway.
pub(crate) const MAX_ENTRIES: usize = 32_768;

/// The in-memory [`RefreshCoordinator`], the default: the first caller with a key spawns the
/// refresh on the tokio runtime (so it completes even if that request is dropped), later ones
/// await the same result, and the result stays for `result_ttl` (a failure for
/// `failure_ttl`). Entries expire and are swept as the map grows; at most 32 768 are kept
/// (a cached result holds a token set of a few KB, so the cache stays near 100 MB at worst),
/// beyond which results are still shared by the callers waiting for them but not cached.
/// Nothing is kept per session.
///
/// It coordinates the requests of one process. Several instances of an app behind a load
/// balancer each have their own: see the README's "Several instances" for what that means
/// with rotating refresh tokens.
pub struct LocalCoordinator {
    inner: Arc<Inner>,
}

type Clock = Arc<dyn Fn() -> Duration + Send + Sync>;

struct Inner {
    entries: Mutex<Entries>,
    result_ttl: Duration,
    failure_ttl: Duration,
    /// Monotonic time from an arbitrary origin; passed in so tests control it.
    clock: Clock,
    max_entries: usize,
}

struct Entries {
    map: HashMap<[u8; 32], Slot>,
    /// Which flight started last, so a finishing flight updates only its own entry.
    flights: u64,
    /// Sweep expired entries when the map reaches this size.
    sweep_at: usize,
}

enum Slot {
    Running {
        result: watch::Receiver<Option<RefreshResult>>,
        flight: u64,
    },
    Done {
        result: RefreshResult,
        until: Duration,
    },
}

impl LocalCoordinator {
    /// A coordinator that keeps results `result_ttl` and failures `failure_ttl`
    /// (`oidc.refresh.result_cache_secs` and `failure_cache_secs`).
    pub fn new(result_ttl: Duration, failure_ttl: Duration) -> LocalCoordinator {
        let origin = Instant::now();
        LocalCoordinator::with_clock(
            result_ttl,
            failure_ttl,
            MAX_ENTRIES,
            Arc::new(move || origin.elapsed()),
        )
    }

    pub(crate) fn with_clock(
        result_ttl: Duration,
        failure_ttl: Duration,
        max_entries: usize,
        clock: Clock,
    ) -> LocalCoordinator {
        LocalCoordinator {
            inner: Arc::new(Inner {
                entries: Mutex::new(Entries {
                    map: HashMap::new(),
                    flights: 0,
                    sweep_at: 1024,
                }),
                result_ttl,
                failure_ttl,
                clock,
                max_entries,
            }),
        }
    }

    /// How many entries it holds now, running or cached (for monitoring and tests).
    pub fn entries(&self) -> usize {
        self.inner.lock().map.len()
    }
}

impl std::fmt::Debug for LocalCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCoordinator")
            .field("result_ttl", &self.inner.result_ttl)
            .field("failure_ttl", &self.inner.failure_ttl)
            .field("entries", &self.entries())
            .finish()
    }
}

impl Inner {
    /// The map, even if a thread panicked while holding it (every update leaves it
    /// consistent).
    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the result of `flight` for `id`: cached until its lifetime ends, or dropped when
    /// the cache is full.
    fn finish(&self, id: [u8; 32], flight: u64, result: &RefreshResult) {
        static WARNED_FULL: AtomicBool = AtomicBool::new(false);
        let ttl = if result.is_ok() {
            self.result_ttl
        } else {
            self.failure_ttl
        };
        let until = (self.clock)().saturating_add(ttl);
        let mut entries = self.lock();
        if !matches!(entries.map.get(&id), Some(Slot::Running { flight: f, .. }) if *f == flight) {
            return;
        }
        if entries.map.len() > self.max_entries {
            entries.map.remove(&id);
            if !WARNED_FULL.swap(true, Ordering::Relaxed) {
                log::warn!(
                    "OpenID Connect: the refresh result cache is full ({} entries): results are \
                     no longer cached, so a late request with an old cookie may replay a \
                     consumed refresh token; lower oidc.refresh.result_cache_secs or share a \
                     coordinator between instances",
                    self.max_entries
                );
            }
            return;
        }
        entries.map.insert(
            id,
            Slot::Done {
                result: result.clone(),
                until,
            },
        );
    }

    /// Forgets `flight` if it ended without a result (its task panicked or the runtime shut
    /// down): the next caller starts afresh.
    fn abandon(&self, id: [u8; 32], flight: u64) {
        let mut entries = self.lock();
        if matches!(entries.map.get(&id), Some(Slot::Running { flight: f, .. }) if *f == flight) {
            entries.map.remove(&id);
        }
    }
}

impl Entries {
    /// Drops expired results once the map has grown, so that memory follows the refresh rate.
    fn sweep_if_large(&mut self, now: Duration) {
        if self.map.len() < self.sweep_at {
            return;
        }
        self.map.retain(|_, slot| match slot {
            Slot::Running { .. } => true,
            Slot::Done { until, .. } => *until > now,
        });
        self.sweep_at = (self.map.len() * 2).max(1024);
    }
}

/// Marks the flight abandoned unless it completed (then `inner` was taken).
struct Flight {
    inner: Option<Arc<Inner>>,
    id: [u8; 32],
    flight: u64,
}

impl Flight {
    fn complete(&mut self, result: &RefreshResult) {
        if let Some(inner) = self.inner.take() {
            inner.finish(self.id, self.flight, result);
        }
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            inner.abandon(self.id, self.flight);
        }
    }
}

impl RefreshCoordinator for LocalCoordinator {
    fn run(
        &self,
        key: RefreshKey,
        refresh: BoxFuture<'static, RefreshResult>,
    ) -> BoxFuture<'_, RefreshResult> {
        let id = *key.id();
        let mut receiver = {
            let mut entries = self.inner.lock();
            let now = (self.inner.clock)();
            match entries.map.get(&id) {
                Some(Slot::Done { result, until }) if *until > now => {
                    let result = result.clone();
                    return Box::pin(async move { result });
                }
                Some(Slot::Running { result, .. }) => result.clone(),
                _ => {
                    entries.sweep_if_large(now);
                    entries.flights = entries.flights.wrapping_add(1);
                    let flight = entries.flights;
                    let (sender, receiver) = watch::channel(None);
                    entries.map.insert(
                        id,
                        Slot::Running {
                            result: receiver.clone(),
                            flight,
                        },
                    );
                    drop(entries);
                    let mut guard = Flight {
                        inner: Some(self.inner.clone()),
                        id,
                        flight,
                    };
                    tokio::spawn(async move {
                        let result = refresh.await;
                        guard.complete(&result);
                        // No receiver left is fine: the result is cached for later callers.
                        let _ = sender.send(Some(result));
                    });
                    receiver
                }
            }
        };
        Box::pin(async move {
            let interrupted = || {
                RefreshError::Unavailable("the refresh was interrupted before it finished".into())
            };
            match receiver.wait_for(Option::is_some).await {
                Ok(result) => result.clone().unwrap_or_else(|| Err(interrupted())),
                Err(_) => Err(interrupted()),
            }
        })
    }
}

#[cfg(test)]
mod tests;
