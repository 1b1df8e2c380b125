//! [`RedisStore`]: the revocation store shared through Redis, answering every check from this
//! instance's local copy.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::conn::{self, ConnectError};
use super::flight::{self, FlightError, FlightSettings, Outcome};
use super::replica::{LocalMarkers, Replica};
use super::Keys;
use crate::config::RedisSettings;

/// The local copy of the markers (in memory, read on every guarded request).
#[derive(Debug, Default)]
pub struct LocalCopy {
    markers: RwLock<HashMap<[u8; 32], (i64, i64)>>,
}

impl LocalCopy {
    /// Whether a session created at `created_at` is signed out by a marker of one of `keys`.
    pub fn is_revoked(&self, keys: &[[u8; 32]], created_at: i64) -> bool {
        let markers = self.markers.read().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .any(|k| markers.get(k).is_some_and(|(at, _)| created_at <= *at))
    }

    /// How many markers it holds.
    pub fn len(&self) -> usize {
        self.markers.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl LocalMarkers for LocalCopy {
    fn apply(&self, key: [u8; 32], logged_out_at: i64, expires_at: i64, now: i64) {
        let mut markers = self.markers.write().unwrap_or_else(|p| p.into_inner());
        if expires_at < now {
            return;
        }
        let entry = markers.entry(key).or_insert((logged_out_at, expires_at));
        entry.0 = entry.0.max(logged_out_at);
        entry.1 = entry.1.max(expires_at);
    }

    fn markers(&self) -> Vec<([u8; 32], i64, i64)> {
        let markers = self.markers.read().unwrap_or_else(|p| p.into_inner());
        markers.iter().map(|(k, (a, e))| (*k, *a, *e)).collect()
    }
}

/// What a [`RedisStore`] has done since launch, for monitoring and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreStatus {
    /// Whether Redis is reachable and the local copy resynced since the last loss.
    pub connected: bool,
    /// Complete syncs (SUBSCRIBE, scan, repair), the one at launch included.
    pub syncs: u64,
    /// Markers received from other instances on the channel.
    pub messages: u64,
    /// Times the link to Redis was lost.
    pub disconnects: u64,
    /// Markers this instance wrote back to Redis after a loss.
    pub repaired: u64,
}

/// The revocation store of several instances: markers and the logout-token replay cache in
/// Redis, each instance keeping a local copy of the markers fed by pub/sub, so that the check
/// on every request never waits for Redis; and refresh coordination across instances. Built
/// at launch from `[default.oidc.store] url` (feature `redis`).
pub struct RedisStore {
    replica: Replica<LocalCopy>,
    keys: Keys,
    timeout: Duration,
    url: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.url)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects (failing at once when Redis is unreachable), loads every marker into `local`,
    /// writes back those Redis lacks, and starts following the channel.
    ///
    /// # Errors
    ///
    /// A [`ConnectError`] naming the setting to change.
    pub async fn connect(
        settings: &RedisSettings,
        local: Arc<LocalCopy>,
    ) -> Result<RedisStore, ConnectError> {
        let link = conn::connect(settings).await?;
        let keys = Keys::new(&settings.key_prefix);
        let bound = settings
            .command_timeout
            .saturating_mul(20)
            .max(Duration::from_secs(5));
        let replica = Replica::start(
            local,
            link.manager,
            link.pushes,
            keys.clone(),
            settings.command_timeout,
            settings.url.clone(),
        );
        let replica = tokio::time::timeout(bound, replica)
            .await
            .map_err(|_| ConnectError {
                key: "oidc.store.url",
                message: format!(
                    "the first sync of the markers with Redis at {} took more than {} ms: \
                     check the server's load, or give the store a database of its own",
                    settings.url,
                    bound.as_millis()
                ),
            })?
            .map_err(|e| conn::explain(&e, settings))?;
        Ok(RedisStore {
            replica,
            keys,
            timeout: settings.command_timeout,
            url: settings.url.clone(),
        })
    }

    /// The local copy.
    pub fn local(&self) -> &LocalCopy {
        &self.replica.local
    }

    /// Whether a session created at `created_at` is signed out: memory only.
    pub fn is_revoked(&self, keys: &[[u8; 32]], created_at: i64) -> bool {
        self.replica.local.is_revoked(keys, created_at)
    }

    /// Writes a marker locally, then to Redis (bounded, skipped while Redis is unreachable).
    /// `Err` says why other instances do not have it yet; they get it at the next repair.
    pub async fn record(
        &self,
        key: [u8; 32],
        logged_out_at: i64,
        expires_at: i64,
        now: i64,
    ) -> Result<(), String> {
        self.replica.mark(key, logged_out_at, expires_at, now).await
    }

    /// Remembers a logout token's `jti` digest across instances: `Ok(true)` the first time.
    /// `Err` when Redis is unreachable or slow (the caller falls back to its own cache).
    pub async fn first_use(
        &self,
        jti: [u8; 32],
        expires_at: i64,
        now: i64,
    ) -> Result<bool, String> {
        if !self.replica.connected() {
            return Err("Redis is unreachable".into());
        }
        super::first_use(
            self.replica.manager(),
            &self.keys,
            &jti,
            expires_at,
            now,
            self.timeout,
        )
        .await
    }

    /// Runs `upstream` once for `id` across the instances, or returns the result another
    /// made: see `flight.rs`. Skips Redis (handing `upstream` back) while it is unreachable.
    pub async fn refresh_once<F>(
        &self,
        id: &[u8; 32],
        secret: &[u8; 32],
        settings: &FlightSettings,
        upstream: F,
    ) -> Result<Outcome, FlightError<F>>
    where
        F: std::future::Future<Output = (Vec<u8>, Duration)>,
    {
        if !self.replica.connected() {
            return Err(FlightError::Unavailable(
                upstream,
                "Redis is unreachable".into(),
            ));
        }
        flight::run(
            self.replica.manager(),
            &self.keys,
            id,
            secret,
            settings,
            upstream,
        )
        .await
    }

    /// What it has done since launch.
    pub fn status(&self) -> StoreStatus {
        use std::sync::atomic::Ordering::Relaxed;
        let status = self.replica.status();
        StoreStatus {
            connected: self.replica.connected(),
            syncs: status.syncs.load(Relaxed),
            messages: status.messages.load(Relaxed),
            disconnects: status.disconnects.load(Relaxed),
            repaired: status.repaired.load(Relaxed),
        }
    }
}
