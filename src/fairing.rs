//! [`OidcFairing`]: what happens at ignite.

use std::sync::Arc;
use std::time::Instant;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Rocket};

use crate::config::Config;
use crate::error::StartupError;
use crate::http::Http;
use crate::provider::Provider;
use crate::refresh::RefreshCoordinator;
use crate::routes;
use crate::state::OidcState;
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
/// 4. **mount** the login, callback and logout routes at their configured paths, register the
///    401 catcher that sends browsers to login (unless the app has its own 401 catcher at `/`),
///    and manage the state the guards need.
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
    coordinator: Option<Arc<dyn RefreshCoordinator>>,
}

impl std::fmt::Debug for OidcFairing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcFairing")
            .field("config", &self.config)
            .field("custom_refresh_coordinator", &self.coordinator.is_some())
            .finish()
    }
}

impl OidcFairing {
    /// A fairing that reads its configuration from the `oidc` table of Rocket's figment
    /// (`Rocket.toml`, `ROCKET_OIDC={...}`) and `ROCKET_OIDC_<KEY>` environment variables.
    pub fn new() -> Self {
        OidcFairing::default()
    }

    /// A fairing with the configuration given in code; Rocket's figment is not read.
    pub fn with_config(config: Config) -> Self {
        OidcFairing {
            config: Some(config),
            coordinator: None,
        }
    }

    /// Refreshes go through `coordinator` instead of the in-memory
    /// [`LocalCoordinator`](crate::LocalCoordinator) (whose cache lifetimes come from
    /// `oidc.refresh`): for example one shared by every instance of the app, so that
    /// concurrent requests on different instances still make one token-endpoint call per
    /// refresh token. See [`RefreshCoordinator`] for what it must do.
    pub fn with_refresh_coordinator(mut self, coordinator: Arc<dyn RefreshCoordinator>) -> Self {
        self.coordinator = Some(coordinator);
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
        let refresh = &config.refresh;
        log::info!(
            "OpenID Connect: refresh {:?}: skew {} s, results cached {} s, failures {} s, {} \
             coordinator{}",
            refresh.mode,
            refresh.skew_secs,
            refresh.result_cache_secs,
            refresh.failure_cache_secs,
            if self.coordinator.is_some() {
                "the app's"
            } else {
                "in-memory"
            },
            if config.keep_refresh_token {
                ""
            } else {
                " (but oidc.keep_refresh_token = false: sessions hold no refresh token)"
            }
        );
        Ok(OidcState::new(config, provider, self.coordinator.clone()))
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
        let routes = routes::routes(&state.config);
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
