//! Refreshing a session's tokens (RFC 6749 §6, OpenID Connect Core §12): when a refresh is due
//! ([`is_due`]), the single-flight coordinator that makes one token-endpoint call per refresh
//! token however many requests race ([`RefreshCoordinator`], in memory [`LocalCoordinator`] in
//! `local.rs`), and the grant itself with the checks of its answer (`grant.rs`). How the
//! result is merged into a session is in `session/merge.rs`; the guards drive it all.
//!
//! # Why single-flight and a result cache
//!
//! A page load fires several requests at once, each carrying the same cookie with the same
//! expired access token and the same refresh token. Providers that rotate refresh tokens answer
//! the second redemption of one with `invalid_grant`, and those with reuse detection (Auth0,
//! oidc-provider's `rotateRefreshToken`, Okta outside its grace period) revoke the whole grant
//! (RFC 9700 §4.14.2): racing refreshes sign the user out everywhere. So every request that
//! presents a refresh token goes through the coordinator under a [`RefreshKey`] derived from that
//! token: the first makes the call, the others await its result, and the result stays cached
//! for `oidc.refresh.result_cache_secs` so that a request arriving later with the old cookie gets
//! the same new tokens instead of replaying the consumed one. Failures are cached for
//! `failure_cache_secs`.

mod grant;
mod local;

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::serde::json::serde_json::{self, Value};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{Config, ProviderName, RefreshMode};
use crate::error::RefreshError;
use crate::provider::Provider;

pub(crate) use grant::check_subject;
pub use local::LocalCoordinator;

/// A boxed, sendable future: what [`RefreshCoordinator`] takes and returns, so that the trait
/// is object-safe (`Arc<dyn RefreshCoordinator>`) without an `async-trait` dependency. The same
/// alias as the revocation store's (one `BoxFuture` in the public API).
pub use crate::store::BoxFuture;

/// What a refresh gives: the new tokens, already checked, or why there are none.
pub type RefreshResult = Result<RefreshedTokens, RefreshError>;

/// Coordinates the refreshes of one refresh token: concurrent callers with the same
/// [`RefreshKey`] share one token-endpoint call, and its result (or failure) is kept for a
/// short while for callers that come later.
///
/// The fairing takes one as `Arc<dyn RefreshCoordinator>`
/// ([`OidcFairing::with_refresh_coordinator`](crate::OidcFairing::with_refresh_coordinator)),
/// shared by every provider of the app: a key names its provider. The default is the in-memory
/// [`LocalCoordinator`], which coordinates the requests of one process. A coordinator shared by
/// several instances (Redis, say) adds the guarantees below across instances.
///
/// # Contract
///
/// Every implementation must guarantee, for everything that shares it (one process, or every
/// instance of the app):
///
/// 1. **One redemption per key at a time.** While `refresh` runs for a key, no other caller
///    starts it for that key: they wait for its result. A refresh token presented twice is
///    `invalid_grant` at a provider with strict rotation, which revokes the whole grant (RFC
///    9700 §4.14.2). Across instances that takes an exclusive lock per key, e.g. Redis
///    `SET <prefix><hex id> <random owner> NX PX <ms>`, whose expiry outlasts the call
///    (`oidc.http_timeout_secs` plus the checks, with a margin), so that a live holder is never
///    overtaken and a crashed one blocks the key only until it expires, and released by its
///    owner only (compare-and-delete).
/// 2. **One result for all.** Every caller waiting on a run gets a clone of its result,
///    success or failure, and a caller arriving while it is cached gets it without running
///    `refresh`: successes for `oidc.refresh.result_cache_secs`, failures for
///    `failure_cache_secs` (the [`LocalCoordinator`] is built with those lifetimes; a shared
///    one should read the same settings). Across instances the result goes into a shared
///    entry with that expiry **before** the lock is released, and waiters on other instances
///    read it from there (poll or subscribe). [`RefreshResult`] is `Serialize`/`Deserialize`
///    for this. A waiter that finds neither a result nor the lock after the lock expired may
///    take the lock and run `refresh` itself (its leader died; if it had redeemed the token,
///    the provider answers `invalid_grant` and that session ends, which is the safe outcome).
/// 3. **Results stay secret.** A result holds live tokens. A store outside the process is
///    addressed by [`RefreshKey::id`] only, never by the token, and the entry is encrypted
///    (AES-256-GCM) under [`RefreshKey::result_key`], derived from the old refresh token and
///    never stored, with the id as associated data: only a holder of the old refresh token can
///    read the new tokens, and the store's contents alone give none away. An entry that does not
///    decrypt or parse counts as a failure ([`RefreshError::Unavailable`]), never as absent
///    (absent would let a caller replay the consumed token).
/// 4. **Runs finish.** `refresh` (the token-endpoint call with every check of its answer,
///    `'static`, independent of the request that started it) is driven to completion even if
///    the caller goes away, e.g. spawned: a provider that has redeemed the token will not redeem
///    it again, so its answer must reach the cache.
/// 5. **Safe when the store fails.** A shared coordinator that cannot reach its store answers
///    [`RefreshError::Unavailable`] (the session keeps its old tokens, the app sees
///    [`RefreshStatus::Stale`](crate::RefreshStatus::Stale)) rather than running `refresh`
///    without the lock.
/// 6. **Bounded memory.** Entries expire; nothing is kept per session; `run` never blocks the
///    async runtime's threads.
///
/// A shared coordinator should wrap a `LocalCoordinator` first, so that only one task per
/// instance and key reaches the store. The checks of the refreshed ID token (signature, `iss`,
/// `aud`, `azp`, `exp`/`iat`, `sub`, `nonce`) run inside `refresh`, against the provider's keys;
/// each request that receives a shared result checks its `sub` against its own session again.
pub trait RefreshCoordinator: Send + Sync + 'static {
    /// Runs `refresh` for `key`, or joins the call already running for it, or returns the
    /// result cached for it.
    fn run(
        &self,
        key: RefreshKey,
        refresh: BoxFuture<'static, RefreshResult>,
    ) -> BoxFuture<'_, RefreshResult>;
}

/// Names one refresh token without holding it: a SHA-256 of the token with a
/// domain-separating prefix and the provider's name. Refresh tokens are high-entropy secrets, so
/// the hash reveals nothing and cannot be guessed. A second value, [`result_key`](Self::result_key),
/// is derived from the token by HKDF for coordinators that store results outside the process.
/// `Debug` shows the first bytes of the id only.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RefreshKey {
    id: [u8; 32],
    result_key: [u8; 32],
}

/// Separates these hashes from any other use of SHA-256 over a refresh token.
const KEY_ID_PREFIX: &[u8] = b"rocket_openid_connect refresh-cache id v1\0";
/// The HKDF salt of [`RefreshKey::result_key`].
const RESULT_KEY_SALT: &[u8] = b"rocket_openid_connect refresh-cache result key v1";

impl RefreshKey {
    /// The key of `refresh_token` issued by the provider named `provider` (its issuer today).
    pub fn new(provider: &str, refresh_token: &str) -> RefreshKey {
        let mut id = Sha256::new();
        id.update(KEY_ID_PREFIX);
        id.update(provider.as_bytes());
        id.update([0]);
        id.update(refresh_token.as_bytes());
        let mut result_key = [0u8; 32];
        hkdf::Hkdf::<Sha256>::new(Some(RESULT_KEY_SALT), refresh_token.as_bytes())
            .expand(provider.as_bytes(), &mut result_key)
            .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 output length"));
        RefreshKey {
            id: id.finalize().into(),
            result_key,
        }
    }

    /// The lookup id: safe to use as a map or store key.
    pub fn id(&self) -> &[u8; 32] {
        &self.id
    }

    /// A 256-bit key derived from the refresh token itself (HKDF-SHA256): encrypt a result
    /// stored outside the process under it (AES-256-GCM, the id as associated data), so that
    /// only a holder of the old refresh token can read the new tokens. Never store it.
    pub fn result_key(&self) -> &[u8; 32] {
        &self.result_key
    }
}

impl std::fmt::Debug for RefreshKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex: String = self.id[..4].iter().map(|b| format!("{b:02x}")).collect();
        write!(f, "RefreshKey({hex}…)")
    }
}

/// The answer of one refresh, checked: the new access token, and the refresh and ID tokens
/// when the provider sent new ones. Shared by every request that presented the same refresh
/// token. `Debug` redacts the tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefreshedTokens {
    /// The new access token.
    pub access_token: String,
    /// When it expires (Unix seconds), if the provider said (`expires_in`).
    pub access_expires_at: Option<i64>,
    /// The new refresh token; `None` when the answer had none (the old one stays valid,
    /// RFC 6749 §6).
    pub refresh_token: Option<String>,
    /// The new ID token, validated; `None` when the answer had none (OpenID Connect Core §12.2
    /// makes it optional; Okta may omit it).
    pub id_token: Option<String>,
    /// The `sub` of the new ID token (equal to the session's, or the answer was rejected).
    pub subject: Option<String>,
    /// When the refresh was made (Unix seconds).
    pub refreshed_at: i64,
}

impl std::fmt::Debug for RefreshedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let present = |t: &Option<String>| t.as_ref().map(|_| "<redacted>");
        f.debug_struct("RefreshedTokens")
            .field("access_token", &"<redacted>")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_token", &present(&self.refresh_token))
            .field("id_token", &present(&self.id_token))
            .field("subject", &self.subject)
            .field("refreshed_at", &self.refreshed_at)
            .finish()
    }
}

/// Whether an access token that expires at `expires_at` (Unix seconds) is due for a refresh at
/// `now`: it expires within `skew` seconds, or has expired. An unknown expiry is never due.
pub fn is_due(expires_at: Option<i64>, skew: i64, now: i64) -> bool {
    expires_at.is_some_and(|at| at.saturating_sub(skew) <= now)
}

/// The `nonce` claim of a raw ID token, if it has one (decoded without checks: the token was
/// validated when it was stored).
pub fn id_token_nonce(raw: &str) -> Option<String> {
    let payload = URL_SAFE_NO_PAD.decode(raw.split('.').nth(1)?).ok()?;
    match serde_json::from_slice::<Value>(&payload)
        .ok()?
        .get("nonce")?
    {
        Value::String(nonce) => Some(nonce.clone()),
        _ => None,
    }
}

/// What a provider needs to refresh its sessions: its name, its effective settings (client
/// credentials and authentication, and the app's `oidc.refresh`), the discovered provider (token
/// endpoint, keys, ID-token rules), and the coordinator all providers share. One per provider,
/// in the shared state; the guard picks the one of the provider the session names.
pub(crate) struct Refresher {
    /// Names the provider in [`RefreshKey`]s and in the log.
    name: ProviderName,
    config: Arc<Config>,
    provider: Arc<Provider>,
    coordinator: Arc<dyn RefreshCoordinator>,
}

impl Refresher {
    /// The refresher of provider `name`.
    pub(crate) fn new(
        name: ProviderName,
        config: Arc<Config>,
        provider: Arc<Provider>,
        coordinator: Arc<dyn RefreshCoordinator>,
    ) -> Refresher {
        Refresher {
            name,
            config,
            provider,
            coordinator,
        }
    }

    /// `oidc.refresh.mode`.
    pub(crate) fn mode(&self) -> RefreshMode {
        self.config.refresh.mode
    }

    /// Whether the guards refresh an access token expiring at `expires_at` now: in `auto`
    /// mode, when it is [due](is_due) within `skew_secs`.
    pub(crate) fn auto_due(&self, expires_at: Option<i64>, now: i64) -> bool {
        let skew = self.config.refresh.skew_secs.min(i64::MAX as u64) as i64;
        self.mode() == RefreshMode::Auto && is_due(expires_at, skew, now)
    }

    /// Refreshes with `refresh_token`, for a session of `subject` whose login had `nonce` (a
    /// new ID token must repeat it or have none), through the coordinator; `now` is the app's
    /// clock at the request.
    pub(crate) async fn refresh(
        &self,
        refresh_token: &str,
        subject: &str,
        nonce: Option<String>,
        now: i64,
    ) -> RefreshResult {
        if self.mode() == RefreshMode::Off {
            return Err(RefreshError::Disabled);
        }
        let key = RefreshKey::new(self.name.as_str(), refresh_token);
        let flight = grant::redeem(
            self.name,
            self.config.clone(),
            self.provider.clone(),
            refresh_token.to_owned(),
            subject.to_owned(),
            nonce,
            now,
        );
        self.coordinator.run(key, Box::pin(flight)).await
    }
}

#[cfg(test)]
mod tests;
