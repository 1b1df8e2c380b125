//! [`OidcFairing`]: what happens at ignite.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Rocket};

use crate::config::Config;
use crate::error::StartupError;
use crate::http::Http;
use crate::provider::Provider;
use crate::routes;
use crate::state::OidcState;
use crate::store::{MemoryStore, RevocationStore};
use crate::unauthorized;

/// The name Rocket prints for this fairing, also when it fails.
pub const FAIRING_NAME: &str = "OpenID Connect";

/// Adds OpenID Connect login to a Rocket application.
///
/// At ignite it performs, in order, logging one line per step:
///
/// 1. **configure**: reads the `oidc` table of Rocket's configuration (or the [`Config`] given to
///    [`with_config`](OidcFairing::with_config)) with the `ROCKET_OIDC_<KEY>` environment
///    variables, and validates it before any network call, reporting every problem at once;
/// 2. **discover**: fetches `<issuer>/.well-known/openid-configuration` within
///    `oidc.http_timeout_secs`, requires its `issuer` to equal `oidc.issuer` exactly, the `code`
///    response type, a token endpoint and a JWKS, and loads the signing keys (keys it cannot
///    parse are skipped);
/// 3. **check credentials**: sends the token endpoint an authorization-code grant with a code that
///    cannot be valid; `invalid_client` (or any 401) means the client id or secret is wrong and
///    launch fails, `invalid_grant` means they were accepted (`oidc.check_credentials = false`
///    skips this);
/// 4. **mount** the login, callback and logout routes at their configured paths, and the
///    back-channel logout endpoint (`oidc.backchannel_logout`: when discovery advertises
///    `backchannel_logout_supported`, unless configured otherwise), register the 401 catcher
///    that sends browsers to login (unless the app has its own 401 catcher at `/`), and manage
///    the state the guards need, with the revocation store (in memory unless
///    [`revocation_store`](OidcFairing::revocation_store) gives another).
///
/// Any failure aborts launch: Rocket reports the fairing `OpenID Connect` as failed, and the log
/// says what was wrong and what to change. Nothing is served with login half-configured.
///
/// ```rust,no_run
/// # #[macro_use] extern crate rocket;
/// use rocket_openid_connect::OidcFairing;
///
/// #[launch]
/// fn rocket() -> _ {
///     rocket::build().attach(OidcFairing::new())
/// }
/// ```
#[derive(Clone, Default)]
pub struct OidcFairing {
    config: Option<Config>,
    store: Option<Arc<dyn RevocationStore>>,
}

impl fmt::Debug for OidcFairing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcFairing")
            .field("config", &self.config)
            .field(
                "store",
                &if self.store.is_some() {
                    "given"
                } else {
                    "in memory"
                },
            )
            .finish()
    }
}

impl OidcFairing {
    /// A fairing that reads its configuration from the `oidc` table of Rocket's figment
    /// (`Rocket.toml`, `ROCKET_OIDC={...}`) and `ROCKET_OIDC_<KEY>` environment variables.
    pub fn new() -> Self {
        OidcFairing {
            config: None,
            store: None,
        }
    }

    /// A fairing with the configuration given in code; Rocket's figment is not read.
    pub fn with_config(config: Config) -> Self {
        OidcFairing {
            config: Some(config),
            store: None,
        }
    }

    /// Keeps the markers of signed-out sessions in `store` instead of this process's memory
    /// (then `oidc.store.max_entries` is not used). Apps whose instances share one store see each
    /// other's logouts: a cookie copied before `POST /logout`, or a session the provider ended
    /// by back-channel logout, is refused by all of them.
    ///
    /// ```rust,no_run
    /// # #[macro_use] extern crate rocket;
    /// use std::sync::Arc;
    /// use rocket_openid_connect::{MemoryStore, OidcFairing};
    ///
    /// #[launch]
    /// fn rocket() -> _ {
    ///     let store = Arc::new(MemoryStore::new(100_000));
    ///     rocket::build().attach(OidcFairing::new().revocation_store(store))
    /// }
    /// ```
    pub fn revocation_store(mut self, store: Arc<dyn RevocationStore>) -> Self {
        self.store = Some(store);
        self
    }

    async fn ignite(&self, rocket: &Rocket<Build>) -> Result<OidcState, StartupError> {
        let started = Instant::now();
        let config = match &self.config {
            Some(c) => c.clone(),
            None => Config::from_figment(rocket.figment())?,
        };
        config.validate()?;
        for warning in config.insecure_warnings() {
            log::warn!("OpenID Connect: INSECURE: {warning}");
        }
        log::info!(
            "OpenID Connect: 1/4 configuration valid: issuer {}, client_id {}, redirect_uri {}",
            config.issuer,
            config.client_id,
            config.redirect_uri()
        );

        let http = Http::new(config.http_timeout()).map_err(StartupError::HttpClient)?;
        let provider = Provider::discover(&config, http).await?;
        log::info!(
            "OpenID Connect: 2/4 discovered {} ({} signing key(s), end_session {}, revocation {}) in {} ms",
            config.issuer,
            provider.key_count(),
            if provider.metadata.end_session_endpoint.is_some() { "yes" } else { "no" },
            if provider.metadata.revocation_endpoint.is_some() { "yes" } else { "no" },
            started.elapsed().as_millis()
        );

        if config.check_credentials {
            let verdict = provider.check_credentials(&config).await?;
            log::info!("OpenID Connect: 3/4 client credentials: {verdict}");
        } else {
            log::info!("OpenID Connect: 3/4 client credential check skipped (oidc.check_credentials = false)");
        }
        let store = match &self.store {
            Some(store) => store.clone(),
            None => Arc::new(MemoryStore::new(config.store.max_entries)),
        };
        let backchannel = backchannel_path(&config, &provider);
        Ok(OidcState::new(config, provider, store, backchannel))
    }
}

#[rocket::async_trait]
impl Fairing for OidcFairing {
    fn info(&self) -> Info {
        Info {
            name: FAIRING_NAME,
            kind: Kind::Ignite,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let started = Instant::now();
        let state = match self.ignite(&rocket).await {
            Ok(state) => state,
            Err(e) => {
                for line in e.to_string().lines() {
                    log::error!("OpenID Connect: {line}");
                }
                return Err(rocket);
            }
        };
        let mut routes = routes::routes(&state.config);
        if let Some(path) = &state.backchannel_path {
            routes.push(routes::backchannel_route(path));
        }
        let mounted: Vec<String> = routes
            .iter()
            .map(|r| format!("{} {}", r.method, r.uri))
            .collect();
        let mut rocket = rocket.mount("/", routes);
        let app_has_401 = rocket
            .catchers()
            .any(|c| c.code == Some(401) && c.base.path() == "/");
        if app_has_401 {
            log::info!(
                "OpenID Connect: the app registers its own 401 catcher at `/`; return \
                 `rocket_openid_connect::unauthorized(req)` from it to keep login redirects"
            );
        } else {
            rocket = rocket.register("/", unauthorized::catchers());
        }
        log::info!(
            "OpenID Connect: 4/4 mounted {} (ignite took {} ms)",
            mounted.join(", "),
            started.elapsed().as_millis()
        );
        Ok(rocket.manage(state))
    }
}

/// Where the back-channel logout endpoint goes, if it is mounted, with a log line saying why and
/// what to register at the provider (Back-Channel Logout 1.0 §2.2).
fn backchannel_path(config: &Config, provider: &Provider) -> Option<String> {
    let settings = &config.backchannel_logout;
    let advertised = provider.metadata.backchannel_logout_supported;
    if !settings.is_enabled(advertised) {
        let why = if settings.enabled == Some(false) {
            "oidc.backchannel_logout.enabled = false"
        } else {
            "discovery does not advertise backchannel_logout_supported; set \
             oidc.backchannel_logout.enabled = true to mount it anyway"
        };
        log::info!("OpenID Connect: back-channel logout off ({why})");
        return None;
    }
    log::info!(
        "OpenID Connect: back-channel logout at POST {path}: register {}{path} as the client's \
         backchannel_logout_uri{}",
        config.app_base_url,
        if provider.metadata.backchannel_logout_session_supported {
            ", with backchannel_logout_session_required"
        } else {
            ""
        },
        path = settings.path
    );
    if !advertised {
        log::warn!(
            "OpenID Connect: oidc.backchannel_logout.enabled = true, but discovery does not \
             advertise backchannel_logout_supported: check that the provider sends logout tokens"
        );
    }
    Some(settings.path.clone())
}
