//! [`MemoryStore`]: markers and the replay cache in this process's memory, bounded, failing
//! safe when full.

use std::collections::HashMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::{BoxFuture, RevocationStore, StoreError, StoreKey};

/// The default bound of [`MemoryStore`]: a million markers (and as many `jti`s), about 100 MB
/// at most each; a store holds what a week of logouts leaves, far less for most apps.
pub const DEFAULT_MAX_ENTRIES: usize = crate::config::DEFAULT_STORE_MAX_ENTRIES;

/// How often expired entries are swept, at most (seconds), on the write paths.
const PRUNE_INTERVAL: i64 = 60;

/// How often the "store full" errors are logged again, at most (seconds).
const FULL_LOG_INTERVAL: i64 = 60;

/// One marker: sessions created at or before `logged_out_at` are signed out; kept while
/// `now <= expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// Sessions created at or before this time (Unix seconds) are signed out.
    pub logged_out_at: i64,
    /// The marker is kept up to this time (Unix seconds), then dropped.
    pub expires_at: i64,
}

impl Marker {
    /// The later of two markers for one key: the later logout, kept the longer.
    fn merge(self, other: Marker) -> Marker {
        Marker {
            logged_out_at: self.logged_out_at.max(other.logged_out_at),
            expires_at: self.expires_at.max(other.expires_at),
        }
    }
}

/// Markers and `jti`s in memory, behind one `RwLock`: the check on every guarded request takes
/// the read lock and looks up two or three keys (≈ 0.06 µs with 100,000 markers; ≈ 0.2 µs with
/// the keys' SHA-256, see BENCHMARKS.md); writes happen on logouts only.
///
/// **Bounded, never forgetful.** At most `max_entries` markers (and as many `jti`s). A marker
/// is dropped only after its `expires_at`. When the store is full, even after dropping the
/// expired ones, a new marker is not dropped either: it is folded into one store-wide marker
/// that signs out **every** session created at or before its time (logged as an error, with
/// what to change). Sessions are refused rather than a signed-out one accepted; logins after it
/// work. A full `jti` cache accepts the token without remembering it (logged): a replay can at
/// worst write a marker again, and markers from logout tokens never reach past the token's
/// `iat` plus the clock skew.
pub struct MemoryStore {
    max_entries: usize,
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    markers: HashMap<StoreKey, Marker>,
    /// Markers that found the store full, folded into one that applies to every key.
    overflow: Option<Marker>,
    jtis: HashMap<StoreKey, i64>,
    next_prune: i64,
    full_logged_at: Option<i64>,
    jti_full_logged_at: Option<i64>,
}

impl State {
    /// Drops what expired before `now`, at most every [`PRUNE_INTERVAL`] unless `force`.
    fn prune(&mut self, now: i64, force: bool) {
        if !force && now < self.next_prune {
            return;
        }
        self.markers.retain(|_, m| m.expires_at >= now);
        self.jtis.retain(|_, expires_at| *expires_at >= now);
        if self.overflow.is_some_and(|m| m.expires_at < now) {
            self.overflow = None;
        }
        self.next_prune = now.saturating_add(PRUNE_INTERVAL);
    }
}

/// Whether a log line last written at `last` may be written again at `now`.
fn log_due(last: &mut Option<i64>, now: i64) -> bool {
    if last.is_some_and(|t| now < t.saturating_add(FULL_LOG_INTERVAL)) {
        return false;
    }
    *last = Some(now);
    true
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.read();
        f.debug_struct("MemoryStore")
            .field("max_entries", &self.max_entries)
            .field("markers", &state.markers.len())
            .field("jtis", &state.jtis.len())
            .field("overflow", &state.overflow)
            .finish()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new(DEFAULT_MAX_ENTRIES)
    }
}

impl MemoryStore {
    /// An empty store holding at most `max_entries` markers and as many `jti`s (at least one).
    pub fn new(max_entries: usize) -> MemoryStore {
        MemoryStore {
            max_entries: max_entries.max(1),
            state: RwLock::new(State::default()),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // The state stays consistent whatever a panicking writer did: every write is one map
        // operation, so a poisoned lock is used as it is.
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// [`RevocationStore::is_revoked`]: the check on every guarded request.
    pub fn is_revoked(&self, keys: &[StoreKey], created_at: i64) -> bool {
        let state = self.read();
        if state
            .overflow
            .is_some_and(|m| created_at <= m.logged_out_at)
        {
            return true;
        }
        keys.iter().any(|key| {
            state
                .markers
                .get(key)
                .is_some_and(|m| created_at <= m.logged_out_at)
        })
    }

    /// Writes a marker at once (what [`RevocationStore::record`] does; also for a shared store
    /// applying markers it hears of). Returns `false` when the store was full and the marker was
    /// folded into the store-wide one.
    pub fn mark(&self, key: StoreKey, logged_out_at: i64, expires_at: i64, now: i64) -> bool {
        let marker = Marker {
            logged_out_at,
            expires_at,
        };
        let mut state = self.write();
        state.prune(now, false);
        if let Some(current) = state.markers.get_mut(&key) {
            *current = current.merge(marker);
            return true;
        }
        if state.markers.len() >= self.max_entries {
            state.prune(now, true);
        }
        if state.markers.len() < self.max_entries {
            state.markers.insert(key, marker);
            return true;
        }
        let folded = state.overflow.map_or(marker, |m| m.merge(marker));
        state.overflow = Some(folded);
        if log_due(&mut state.full_logged_at, now) {
            log::error!(
                "OpenID Connect: the revocation store is full ({} live markers): to keep \
                 failing safe, every session created at or before {} (Unix time) is signed \
                 out, until {}. Raise oidc.store.max_entries, or shorten \
                 oidc.session_absolute_timeout_secs (markers live that long).",
                state.markers.len(),
                folded.logged_out_at,
                folded.expires_at
            );
        }
        false
    }

    /// Remembers `jti` until `expires_at` (what [`RevocationStore::first_use`] does): `true`
    /// the first time, `false` for a replay.
    pub fn remember_jti(&self, jti: StoreKey, expires_at: i64, now: i64) -> bool {
        let mut state = self.write();
        state.prune(now, false);
        if let Some(until) = state.jtis.get_mut(&jti) {
            if *until >= now {
                return false;
            }
            *until = expires_at;
            return true;
        }
        if state.jtis.len() >= self.max_entries {
            state.prune(now, true);
        }
        if state.jtis.len() < self.max_entries {
            state.jtis.insert(jti, expires_at);
        } else if log_due(&mut state.jti_full_logged_at, now) {
            log::warn!(
                "OpenID Connect: the logout-token replay cache is full ({} jti): logout \
                 tokens are accepted without replay detection until some expire. Raise \
                 oidc.store.max_entries.",
                state.jtis.len()
            );
        }
        true
    }

    /// How many markers it holds (expired ones not swept yet included).
    pub fn len(&self) -> usize {
        self.read().markers.len()
    }

    /// Whether it holds no marker.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every marker, for a shared store that writes its local copy back to the shared one.
    pub fn snapshot(&self) -> Vec<(StoreKey, Marker)> {
        self.read().markers.iter().map(|(k, m)| (*k, *m)).collect()
    }

    /// The store-wide marker that markers found the store full were folded into, if any.
    pub fn overflow(&self) -> Option<Marker> {
        self.read().overflow
    }
}

impl RevocationStore for MemoryStore {
    fn is_revoked(&self, keys: &[StoreKey], created_at: i64) -> bool {
        MemoryStore::is_revoked(self, keys, created_at)
    }

    fn record(
        &self,
        key: StoreKey,
        logged_out_at: i64,
        expires_at: i64,
        now: i64,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        // Full is not an error: the marker was folded into the store-wide one (fail safe).
        self.mark(key, logged_out_at, expires_at, now);
        Box::pin(std::future::ready(Ok(())))
    }

    fn first_use(
        &self,
        jti: StoreKey,
        expires_at: i64,
        now: i64,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let first = self.remember_jti(jti, expires_at, now);
        Box::pin(std::future::ready(Ok(first)))
    }
}

#[cfg(test)]
mod tests;
