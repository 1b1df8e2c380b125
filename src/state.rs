//! What the routes and guards share: the app's settings, the discovered providers with their
//! refreshers, the cookie settings and the revocation store, managed by Rocket once the fairing
//! has ignited.

use std::sync::Arc;

use rocket::{Ignite, Request, Rocket};

use crate::config::{Config, ProviderName};
use crate::provider::Provider;
use crate::refresh::{LocalCoordinator, RefreshCoordinator, Refresher};
use crate::session::{CookieOptions, Lifetimes, SessionBinding, SessionData};
use crate::store::{RevocationKeys, RevocationStore};
use crate::util::Clock;

/// Why a route or guard finds no state: the fairing is not attached.
pub(crate) const NOT_ATTACHED: &str = "the OpenID Connect fairing is not attached";

/// What the routes and guards share, managed by Rocket. (Public only for the crate's benches,
/// through the `internals` feature.)
pub struct OidcState {
    /// The app's own settings (the top-level `oidc` table; without provider tables, all of
    /// them).
    pub(crate) app: Config,
    /// The providers, in name order: exactly one, named `default`, without provider tables.
    pub(crate) providers: Vec<ProviderState>,
    /// Whether the providers come from provider tables: routes per provider, named sessions.
    pub(crate) named: bool,
    /// The provider `/login` goes to without asking, if any.
    pub(crate) default: Option<usize>,
    cookies: CookieOptions,
    lifetimes: Lifetimes,
    /// The markers of signed-out sessions, shared by every provider (keys name the issuer).
    store: Arc<dyn RevocationStore>,
    clock: Clock,
}

/// One provider: its name, effective configuration and discovered metadata (with its
/// ID-token rules and key cache), and the refresher of its sessions.
pub(crate) struct ProviderState {
    pub name: ProviderName,
    pub display_name: String,
    pub config: Config,
    /// Shared with the refresher, whose token-endpoint calls outlive the request.
    pub provider: Arc<Provider>,
    /// What its sessions are bound to (issuer policy, client id), for the guard.
    pub binding: SessionBinding,
    /// Refreshes the sessions this provider signed in: at its token endpoint, with its client
    /// authentication, checking the new ID token against its keys and rules.
    pub refresher: Refresher,
    /// The revocation store keys of its issuer.
    pub keys: RevocationKeys,
    /// Its back-channel logout path, when the endpoint is mounted (set by the fairing).
    pub backchannel_path: Option<String>,
}

impl ProviderState {
    /// Provider `name`; its refreshes go through `coordinator`, which all providers of the
    /// app share (its keys name the provider).
    pub(crate) fn new(
        name: ProviderName,
        display_name: String,
        config: Config,
        provider: Provider,
        coordinator: Arc<dyn RefreshCoordinator>,
    ) -> ProviderState {
        let binding =
            SessionBinding::new(name, provider.issuer_policy().clone(), &config.client_id);
        let provider = Arc::new(provider);
        let refresher = Refresher::new(
            name,
            Arc::new(config.clone()),
            provider.clone(),
            coordinator,
        );
        ProviderState {
            keys: RevocationKeys::new(&binding.issuer),
            name,
            display_name,
            config,
            provider,
            binding,
            refresher,
            backchannel_path: None,
        }
    }

    /// The store keys of issuer `iss`: this provider's own, or (a tenant of a multi-tenant
    /// provider) derived for it.
    pub(crate) fn keys_of(&self, iss: Option<&str>) -> std::borrow::Cow<'_, RevocationKeys> {
        match iss {
            Some(tenant) if tenant != &*self.binding.issuer => {
                std::borrow::Cow::Owned(RevocationKeys::new(tenant))
            }
            _ => std::borrow::Cow::Borrowed(&self.keys),
        }
    }

    /// `OpenID Connect` or, with provider tables, `OpenID Connect [name]`: how log lines about
    /// this provider start.
    pub(crate) fn log_prefix(&self, named: bool) -> String {
        if named {
            format!("OpenID Connect [{}]", self.name)
        } else {
            "OpenID Connect".into()
        }
    }

    /// The name a session or a login transaction stores: none for `default`.
    pub(crate) fn stored_name(&self) -> Option<ProviderName> {
        (!self.name.is_default()).then_some(self.name)
    }
}

impl OidcState {
    pub(crate) fn new(
        app: Config,
        providers: Vec<ProviderState>,
        named: bool,
        default: Option<usize>,
        store: Arc<dyn RevocationStore>,
    ) -> OidcState {
        // One set of names for the app, whatever the provider: every provider's pending
        // logins and sessions live under `oidc.cookie_prefix`.
        let cookies = CookieOptions::new(app.is_https_app());
        // A validated prefix always fits; the default names otherwise.
        let cookies = cookies.with_prefix(&app.cookie_prefix).unwrap_or(cookies);
        let lifetimes = Lifetimes {
            idle: secs(app.session_idle_timeout_secs),
            absolute: secs(app.session_absolute_timeout_secs),
            skew: secs(app.clock_skew_secs),
        };
        OidcState {
            app,
            providers,
            named,
            default,
            cookies,
            lifetimes,
            store,
            clock: Clock::default(),
        }
    }

    /// A state for one provider that is not discovered: `metadata` is its discovery document
    /// and `keys` its JWKS (for the benches, which replay a recorded login). Its token endpoint
    /// is called for refreshes, through `coordinator` if given, else a [`LocalCoordinator`].
    #[cfg(feature = "internals")]
    pub fn offline(
        config: Config,
        metadata: rocket::serde::json::Value,
        keys: openidconnect::core::CoreJsonWebKeySet,
        coordinator: Option<Arc<dyn RefreshCoordinator>>,
    ) -> Result<OidcState, String> {
        let provider = Provider::offline(&config, metadata, keys)?;
        let coordinator = coordinator.unwrap_or_else(|| default_coordinator(&config));
        let provider = ProviderState::new(
            ProviderName::DEFAULT_NAME,
            ProviderName::DEFAULT.into(),
            config.clone(),
            provider,
            coordinator,
        );
        let store = Arc::new(crate::store::MemoryStore::new(config.store.max_entries));
        Ok(OidcState::new(
            config,
            vec![provider],
            false,
            Some(0),
            store,
        ))
    }

    /// The state of the Rocket serving `req`, if the fairing is attached.
    pub(crate) fn of<'r>(req: &'r Request<'_>) -> Option<&'r OidcState> {
        req.rocket().state::<OidcState>()
    }

    /// The provider named `name`, if it is configured. A few providers at most: a scan of
    /// short names, no allocation (the guard asks on every request).
    pub(crate) fn provider_named(&self, name: &str) -> Option<&ProviderState> {
        self.providers.iter().find(|p| p.name.as_str() == name)
    }

    /// The provider that signed in the user of `data`, if it is still configured.
    pub(crate) fn provider_of(&self, data: &SessionData) -> Option<&ProviderState> {
        self.provider_named(data.provider_name())
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

    /// Whether the session `data` of `provider` was signed out, by the provider (back-channel
    /// logout) or by `POST /logout` on any instance sharing the store; its ID token names user
    /// `sub`, maybe a provider session `sid`, and (for a tenant of a multi-tenant provider) its
    /// issuer `tenant_issuer`. Memory only: this runs on every guarded request.
    pub(crate) fn is_revoked(
        &self,
        provider: &ProviderState,
        data: &SessionData,
        tenant_issuer: Option<&str>,
        sid: Option<&str>,
        sub: &str,
    ) -> bool {
        let keys = provider
            .keys_of(tenant_issuer)
            .of_session(sid, data.session_id.as_deref(), sub);
        self.store.is_revoked(keys.as_slice(), data.created)
    }

    /// Until when a marker written at `logged_out_at` must be kept: the last session it can
    /// sign out (created at or before it) then reaches its absolute lifetime.
    pub(crate) fn marker_expiry(&self, logged_out_at: i64) -> i64 {
        logged_out_at
            .saturating_add(self.lifetimes.absolute)
            .saturating_add(1)
    }

    /// The clock session lifetimes are measured with (the system clock, unless a test of the
    /// app moved it: `testing::advance_clock`).
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }
}

/// The coordinator of an app that brings none: in memory, with the cache lifetimes of
/// `oidc.refresh` (`app` is the top-level configuration; the refresh table is the app's).
pub(crate) fn default_coordinator(app: &Config) -> Arc<dyn RefreshCoordinator> {
    Arc::new(LocalCoordinator::new(
        std::time::Duration::from_secs(app.refresh.result_cache_secs),
        std::time::Duration::from_secs(app.refresh.failure_cache_secs),
    ))
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
