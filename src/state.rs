//! What the routes and guards share: the configuration, the discovered provider, its
//! refresher and the cookie settings, managed by Rocket once the fairing has ignited.

use std::sync::Arc;

use rocket::{Ignite, Request, Rocket};

use crate::config::Config;
use crate::provider::Provider;
use crate::refresh::{RefreshCoordinator, Refresher};
use crate::session::{CookieOptions, Lifetimes};

/// Why a route or guard finds no state: the fairing is not attached.
pub(crate) const NOT_ATTACHED: &str = "the OpenID Connect fairing is not attached";

/// What the routes and guards share, managed by Rocket. (Public only for the crate's benches,
/// through the `internals` feature.)
pub struct OidcState {
    pub(crate) config: Config,
    pub(crate) provider: Arc<Provider>,
    /// Refreshes the sessions of `provider`. (With several providers, one each: the session
    /// says which provider signed it in.)
    pub(crate) refresher: Refresher,
    cookies: CookieOptions,
    lifetimes: Lifetimes,
}

impl OidcState {
    /// The state of `provider`; refreshes go through `coordinator`, by default a
    /// [`LocalCoordinator`](crate::LocalCoordinator).
    pub(crate) fn new(
        config: Config,
        provider: Provider,
        coordinator: Option<Arc<dyn RefreshCoordinator>>,
    ) -> OidcState {
        let provider = Arc::new(provider);
        let refresher = Refresher::new(Arc::new(config.clone()), provider.clone(), coordinator);
        let cookies = CookieOptions {
            secure: config.is_https_app(),
        };
        let lifetimes = Lifetimes {
            idle: secs(config.session_idle_timeout_secs),
            absolute: secs(config.session_absolute_timeout_secs),
        };
        OidcState {
            config,
            provider,
            refresher,
            cookies,
            lifetimes,
        }
    }

    /// A state for a provider that is not discovered: `metadata` is its discovery document and
    /// `keys` its JWKS (for the benches, which replay a recorded login). Its token endpoint is
    /// called for refreshes, through `coordinator` if given.
    #[cfg(feature = "internals")]
    pub fn offline(
        config: Config,
        metadata: rocket::serde::json::Value,
        keys: openidconnect::core::CoreJsonWebKeySet,
        coordinator: Option<Arc<dyn RefreshCoordinator>>,
    ) -> Result<OidcState, String> {
        let provider = Provider::offline(&config, metadata, keys)?;
        Ok(OidcState::new(config, provider, coordinator))
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
