//! What the routes and guards share: the configuration, the discovered provider, the cookie
//! settings and the revocation store, managed by Rocket once the fairing has ignited.

use std::sync::Arc;

use rocket::{Ignite, Request, Rocket};

use crate::config::Config;
use crate::provider::Provider;
use crate::session::{CookieOptions, Lifetimes, SessionData};
use crate::store::{RevocationKeys, RevocationStore};

/// Why a route or guard finds no state: the fairing is not attached.
pub(crate) const NOT_ATTACHED: &str = "the OpenID Connect fairing is not attached";

/// What the routes and guards share, managed by Rocket. (Public only for the crate's benches,
/// through the `internals` feature.)
pub struct OidcState {
    pub(crate) config: Config,
    pub(crate) provider: Provider,
    cookies: CookieOptions,
    lifetimes: Lifetimes,
    store: Arc<dyn RevocationStore>,
    keys: RevocationKeys,
    /// The back-channel logout path, when the endpoint is mounted.
    pub(crate) backchannel_path: Option<String>,
}

impl OidcState {
    pub(crate) fn new(
        config: Config,
        provider: Provider,
        store: Arc<dyn RevocationStore>,
        backchannel_path: Option<String>,
    ) -> OidcState {
        let cookies = CookieOptions {
            secure: config.is_https_app(),
        };
        let lifetimes = Lifetimes {
            idle: secs(config.session_idle_timeout_secs),
            absolute: secs(config.session_absolute_timeout_secs),
        };
        OidcState {
            keys: RevocationKeys::new(&config.issuer),
            config,
            provider,
            cookies,
            lifetimes,
            store,
            backchannel_path,
        }
    }

    /// A state for a provider that is not contacted: `metadata` is its discovery document and
    /// `keys` its JWKS (for the benches, which replay a recorded login).
    #[cfg(feature = "internals")]
    pub fn offline(
        config: Config,
        metadata: rocket::serde::json::Value,
        keys: openidconnect::core::CoreJsonWebKeySet,
    ) -> Result<OidcState, String> {
        let provider = Provider::offline(&config, metadata, keys)?;
        let store = Arc::new(crate::store::MemoryStore::new(config.store.max_entries));
        Ok(OidcState::new(config, provider, store, None))
    }

    /// The state of the Rocket serving `req`, if the fairing is attached.
    pub(crate) fn of<'r>(req: &'r Request<'_>) -> Option<&'r OidcState> {
        req.rocket().state::<OidcState>()
    }

    /// The cookie names and attributes.
    pub(crate) fn cookie_options(&self) -> CookieOptions {
        self.cookies
    }

    /// The session lifetimes.
    pub(crate) fn lifetimes(&self) -> Lifetimes {
        self.lifetimes
    }

    /// The revocation store.
    pub(crate) fn store(&self) -> &dyn RevocationStore {
        &*self.store
    }

    /// The store keys of this provider.
    pub(crate) fn revocation_keys(&self) -> &RevocationKeys {
        &self.keys
    }

    /// Whether the session `data` of user `sub`, whose ID token has `sid` (if any), was signed
    /// out: by the provider (back-channel logout), or by `POST /logout` on any instance sharing
    /// the store. Memory only: this runs on every guarded request.
    pub fn is_revoked(&self, data: &SessionData, sid: Option<&str>, sub: &str) -> bool {
        let keys = self.keys.of_session(sid, data.session_id.as_deref(), sub);
        self.store.is_revoked(keys.as_slice(), data.created)
    }

    /// Until when a marker written at `logged_out_at` must be kept: the last session it can
    /// sign out (created at or before it) then reaches its absolute lifetime.
    pub(crate) fn marker_expiry(&self, logged_out_at: i64) -> i64 {
        logged_out_at
            .saturating_add(self.lifetimes.absolute)
            .saturating_add(1)
    }
}

/// Seconds as `i64`; validated settings are at most a year, so this never saturates in practice.
fn secs(s: u64) -> i64 {
    s.min(i64::MAX as u64) as i64
}

/// The [`Sentinel`](rocket::Sentinel) check of every guard: launch stops, with a message saying
/// what to attach, when `guard` is used without the fairing.
pub(crate) fn sentinel_abort(rocket: &Rocket<Ignite>, guard: &str) -> bool {
    if rocket.state::<OidcState>().is_some() {
        return false;
    }
    log::error!(
        "`{guard}` is used as a request guard but {NOT_ATTACHED}: add \
         `.attach(rocket_openid_connect::OidcFairing::new())` to your Rocket"
    );
    true
}
