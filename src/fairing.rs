//! [`OidcFairing`]: what happens at ignite.

use std::time::Instant;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Rocket};

use crate::cache_control::CacheSafe;
use crate::callback_log::RedactCallbackQuery;
use crate::config::Config;
use crate::error::StartupError;
use crate::http::Http;
use crate::provider::Provider;
use crate::routes;
use crate::secret_key;
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
///    attach two small fairings (a response fairing that keeps responses which depend on the
///    session out of shared caches, and a request fairing that keeps the callback's one-time
///    `code` and `state` out of Rocket's request log), and manage the state the guards need.
///
/// Before step 2 it warns when Rocket's `secret_key` is the public development key of the
/// example `Rocket.toml` outside the `debug` profile.
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
#[derive(Debug, Clone, Default)]
pub struct OidcFairing {
    config: Option<Config>,
}

impl OidcFairing {
    /// A fairing that reads its configuration from the `oidc` table of Rocket's figment
    /// (`Rocket.toml`, `ROCKET_OIDC={...}`) and `ROCKET_OIDC_<KEY>` environment variables.
    pub fn new() -> Self {
        OidcFairing { config: None }
    }

    /// A fairing with the configuration given in code; Rocket's figment is not read.
    pub fn with_config(config: Config) -> Self {
        OidcFairing {
            config: Some(config),
        }
    }

    async fn ignite(&self, rocket: &Rocket<Build>) -> Result<OidcState, StartupError> {
        let started = Instant::now();
        let config = match &self.config {
            Some(c) => c.clone(),
            None => Config::from_figment(rocket.figment())?,
        };
        config.validate()?;
        let key_warning = secret_key::public_key_warning(rocket.figment());
        for warning in config.insecure_warnings().into_iter().chain(key_warning) {
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
        Ok(OidcState::new(config, provider))
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
        let callback_paths = [state.config.callback_path.clone()];
        let mut rocket = rocket
            .mount("/", routes)
            .attach(CacheSafe)
            .attach(RedactCallbackQuery::new(callback_paths));
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
