//! The provider's signing keys: fetched at ignite, cached, and refetched (rate limited) when a
//! token names a key the cache does not hold (key rotation).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use openidconnect::core::CoreJsonWebKeySet;
use rocket::serde::json::serde_json::Value;
use serde::Deserialize;

use super::key_census::{census, KeyCensus};
use crate::error::StartupError;
use crate::http::{FetchError, Http};

/// The least time between two JWKS refetches triggered by an unknown `kid`, so that a flood of
/// forged tokens cannot turn us into a load generator against the provider.
pub(crate) const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// The cached key set of one provider.
pub(crate) struct Jwks {
    uri: String,
    cache: RwLock<Cached>,
    /// Serializes refetches, so that concurrent callers wait for one fetch.
    refetch: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
}

struct Cached {
    keys: CoreJsonWebKeySet,
    last_refetch: Option<Instant>,
}

impl Jwks {
    /// Fetches the key set at `uri` (ignite step 2); it must hold at least one key that can
    /// verify a signature. Returns the cache and what else the set holds, in words for the
    /// launch line (`1 encryption key(s) ignored`, or empty).
    pub(crate) async fn load(http: &Http, uri: &str) -> Result<(Jwks, String), StartupError> {
        let found = fetch(http, uri)
            .await
            .map_err(|source| StartupError::Jwks {
                url: uri.to_owned(),
                source,
            })?;
        found.log(uri);
        if found.signing.is_empty() {
            return Err(StartupError::NoSigningKeys {
                url: uri.to_owned(),
                others: found.others(),
            });
        }
        let others = found.others();
        let jwks = Jwks {
            uri: uri.to_owned(),
            cache: RwLock::new(Cached {
                keys: CoreJsonWebKeySet::new(found.signing),
                last_refetch: None,
            }),
            refetch: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(1),
        };
        Ok((jwks, others))
    }

    /// A cache holding `keys`, as if fetched from `uri`.
    #[cfg(feature = "internals")]
    pub(crate) fn offline(uri: String, keys: CoreJsonWebKeySet) -> Jwks {
        Jwks {
            uri,
            cache: RwLock::new(Cached {
                keys,
                last_refetch: None,
            }),
            refetch: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
        }
    }

    /// The cached keys.
    pub(crate) fn keys(&self) -> CoreJsonWebKeySet {
        match self.cache.read() {
            Ok(cache) => cache.keys.clone(),
            Err(poisoned) => poisoned.into_inner().keys.clone(),
        }
    }

    /// The number of signing keys in the cache.
    pub(crate) fn len(&self) -> usize {
        self.keys().keys().len()
    }

    /// How many times the key set was fetched, the one at ignite included.
    pub(crate) fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Refetches the key set unless another refetch happened within [`JWKS_REFETCH_INTERVAL`].
    /// Concurrent callers wait for one fetch. Returns whether the key set may have changed.
    pub(crate) async fn refetch(&self, http: &Http) -> bool {
        let _guard = self.refetch.lock().await;
        let recent = self
            .cache
            .read()
            .ok()
            .and_then(|c| c.last_refetch)
            .is_some_and(|t| t.elapsed() < JWKS_REFETCH_INTERVAL);
        if recent {
            // Either rate-limited, or a concurrent caller just refetched: retry with its keys.
            return true;
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = fetch(http, &self.uri).await;
        let Ok(mut cache) = self.cache.write() else {
            return false;
        };
        cache.last_refetch = Some(Instant::now());
        match fetched {
            Ok(found) if !found.signing.is_empty() => {
                found.log(&self.uri);
                log::info!(
                    "OpenID Connect: refetched the provider's JWKS ({} signing key(s))",
                    found.signing.len()
                );
                cache.keys = CoreJsonWebKeySet::new(found.signing);
                true
            }
            Ok(found) => {
                found.log(&self.uri);
                log::warn!(
                    "OpenID Connect: the refetched JWKS holds no key that can verify a \
                     signature; keeping the old set"
                );
                false
            }
            Err(e) => {
                log::warn!("OpenID Connect: JWKS refetch from {} failed: {e}", self.uri);
                false
            }
        }
    }
}

/// Fetches a JWKS and sorts its keys: only those that can verify a signature are kept (an
/// encryption key or an unknown key type must not break login with the others).
async fn fetch(http: &Http, uri: &str) -> Result<KeyCensus, FetchError> {
    #[derive(Deserialize)]
    struct RawSet {
        keys: Vec<Value>,
    }
    let raw: RawSet = http.get_json(uri).await?;
    Ok(census(raw.keys))
}
