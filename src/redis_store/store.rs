//! [`RedisStore`]: the revocation store shared through Redis, answering every check from this
//! instance's local copy.

use std::sync::Arc;
use std::time::Duration;

use super::conn::{self, ConnectError};
use super::flight::{self, FlightError, FlightSettings, Outcome};
use super::replica::{LocalMarkers, Replica};
use super::Keys;
use crate::config::RedisSettings;
use crate::store::{BoxFuture, MemoryStore, RevocationStore, StoreError, StoreKey};

impl LocalMarkers for MemoryStore {
    fn apply(&self, key: [u8; 32], logged_out_at: i64, expires_at: i64, now: i64) {
        if expires_at >= now {
            self.mark(StoreKey::from_bytes(key), logged_out_at, expires_at, now);
        }
    }

    fn markers(&self) -> Vec<([u8; 32], i64, i64)> {
        self.snapshot()
            .into_iter()
            .map(|(k, m)| (*k.as_bytes(), m.logged_out_at, m.expires_at))
            .collect()
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
    replica: Replica<MemoryStore>,
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
        local: Arc<MemoryStore>,
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

    /// Launch's step for `[default.oidc.store]`: with `url`, the connected store; `None`
    /// without. Every failure names the key to change, like a wrong issuer.
    pub(crate) async fn from_config(
        config: &crate::config::StoreConfig,
    ) -> Result<Option<Arc<RedisStore>>, crate::ConfigError> {
        let single = |p: crate::ConfigProblem| crate::ConfigError::single(&p.key, p.message);
        let Some(settings) = config
            .redis_settings(|name| std::env::var(name).ok())
            .map_err(single)?
        else {
            return Ok(None);
        };
        let started = std::time::Instant::now();
        let local = Arc::new(MemoryStore::new(config.max_entries));
        let store = RedisStore::connect(&settings, local)
            .await
            .map_err(|e| crate::ConfigError::single(e.key, e.message))?;
        log::info!(
            "OpenID Connect: store: Redis at {}{}, {} markers in the local copy, in {} ms",
            settings.url,
            if settings.password.is_some() {
                " (with a password)"
            } else {
                ""
            },
            store.local().len(),
            started.elapsed().as_millis()
        );
        if !settings.tls && !is_loopback_url(&settings.url) {
            log::warn!(
                "OpenID Connect: store: Redis at {} is reached without TLS: its password and \
                 the markers cross the network in clear; use rediss:// unless the network is \
                 private",
                settings.url
            );
        }
        Ok(Some(Arc::new(store)))
    }

    /// The local copy, the in-memory store the checks read.
    pub fn local(&self) -> &MemoryStore {
        &self.replica.local
    }

    /// Writes a marker locally, then to Redis (bounded, skipped while Redis is unreachable).
    /// `Err` says why other instances do not have it yet; they get it at the next repair.
    pub async fn share_marker(
        &self,
        key: StoreKey,
        logged_out_at: i64,
        expires_at: i64,
        now: i64,
    ) -> Result<(), String> {
        self.replica
            .mark(*key.as_bytes(), logged_out_at, expires_at, now)
            .await
    }

    /// Remembers a logout token's `jti` digest across instances: `Ok(true)` the first time.
    /// `Err` when Redis is unreachable or slow.
    pub async fn share_jti(
        &self,
        jti: StoreKey,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, String> {
        if !self.replica.connected() {
            return Err("Redis is unreachable".into());
        }
        super::first_use(
            self.replica.manager(),
            &self.keys,
            jti.as_bytes(),
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

    /// The bound of each Redis call (`oidc.store.command_timeout_ms`).
    pub fn command_timeout(&self) -> Duration {
        self.timeout
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

/// The check of every guarded request reads the local copy only. A marker is honoured by this
/// instance at once; when Redis cannot take it, `record` still succeeds (logged loudly) and
/// the repair after reconnect brings it to the others. The replay cache falls back to this
/// instance's own while Redis is unreachable.
impl RevocationStore for RedisStore {
    fn is_revoked(&self, keys: &[StoreKey], created_at: i64) -> bool {
        self.replica.local.is_revoked(keys, created_at)
    }

    fn record(
        &self,
        key: StoreKey,
        logged_out_at: i64,
        expires_at: i64,
        now: i64,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            if let Err(e) = self.share_marker(key, logged_out_at, expires_at, now).await {
                log::error!(
                    "OpenID Connect: a signed-out session's marker is honoured by this \
                     instance, but not yet by the others: {e}. They get it when Redis at {} \
                     is back, unless this instance stops first.",
                    self.url
                );
            }
            Ok(())
        })
    }

    fn first_use(
        &self,
        jti: StoreKey,
        expires_at: i64,
        now: i64,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move {
            match self.share_jti(jti, expires_at, now).await {
                Ok(first) => Ok(first),
                Err(e) => {
                    log::warn!(
                        "OpenID Connect: the logout-token replay check used this instance's \
                         cache only ({e})"
                    );
                    Ok(self.replica.local.remember_jti(jti, expires_at, now))
                }
            }
        })
    }
}

/// Whether `url`'s host is a loopback address or `localhost`.
fn is_loopback_url(url: &str) -> bool {
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
