//! [`OidcFairing`]: what happens at ignite.

use std::sync::Arc;
use std::time::Instant;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Rocket};

use crate::authz;
use crate::config::Config;
use crate::error::StartupError;
use crate::http::Http;
use crate::login_hook::{LoginHook, LoginHooks};
use crate::provider::{CheckOutcome, Provider};
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
///    `oidc.http_timeout_secs` (following up to 5 redirects, never from https to http), requires
///    its `issuer` to equal `oidc.issuer` exactly, the `code` response type, a token endpoint, a
///    JWKS, and an ID-token signing algorithm that `oidc.id_token_signing_algs` accepts; takes
///    endpoints it lacks (such as `revocation_endpoint`) from the RFC 8414 metadata
///    (`/.well-known/oauth-authorization-server`) when that names the same issuer; chooses the
///    client authentication method (see [`Config::client_auth_method`]); and loads the keys that
///    can verify a signature (encryption keys are ignored, malformed ones skipped with a
///    warning);
/// 3. **check credentials**: sends the token endpoint an authorization-code grant with a code that
///    cannot be valid; `invalid_client` (or any 401 or 403) means the client id or secret is
///    wrong and launch fails, `invalid_grant` means they were accepted, and an answer that says
///    neither is quoted in a warning (`oidc.check_credentials = false` skips this);
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
#[derive(Debug, Clone, Default)]
pub struct OidcFairing {
    config: Option<Config>,
    hook: LoginHooks,
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
            ..OidcFairing::default()
        }
    }

    /// Runs `hook` at every sign-in, after the provider's answer is validated and before the
    /// session is written: it can allow, refuse, redirect, and keep app data in the session
    /// (see [`LoginHook`] and [`LoginDecision`](crate::LoginDecision)). A second call replaces
    /// the first hook.
    pub fn on_login(mut self, hook: impl LoginHook) -> Self {
        self.hook = LoginHooks(Some(Arc::new(hook)));
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
        let yes_no = |present: bool| if present { "yes" } else { "no" };
        let end_session = provider.metadata.end_session_endpoint.is_some();
        let revocation = provider.metadata.revocation_endpoint.is_some();
        log::info!(
            "OpenID Connect: 2/4 discovered {} ({}, end_session {}, revocation {}) in {} ms",
            config.issuer,
            provider.key_summary(),
            yes_no(end_session),
            yes_no(revocation),
            started.elapsed().as_millis()
        );
        // What a missing endpoint means for the user (OpenID Connect RP-Initiated Logout 1.0,
        // RFC 7009): said once at launch, at info, since many providers publish neither.
        let logout = &config.logout_path;
        if !end_session {
            log::info!(
                "OpenID Connect: {logout} signs out of this app only (the provider advertises \
                 no end_session_endpoint)"
            );
        }
        if !revocation {
            log::info!(
                "OpenID Connect: {logout} revokes no tokens (the provider advertises no \
                 revocation_endpoint)"
            );
        }

        let auth = provider.token_auth();
        if config.check_credentials {
            match provider.check_credentials(&config).await? {
                CheckOutcome::Confirmed(verdict) => log::info!(
                    "OpenID Connect: 3/4 client credentials: {verdict}; client authentication \
                     {auth}"
                ),
                CheckOutcome::NotConfirmed(what) => log::warn!(
                    "OpenID Connect: 3/4 client credentials NOT confirmed, continuing: {what}; \
                     client authentication {auth}"
                ),
            }
        } else {
            log::info!(
                "OpenID Connect: 3/4 client credential check skipped (oidc.check_credentials = \
                 false); client authentication {auth}"
            );
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
        // The 403 / 500 pages of `Authorized` (issue 16).
        rocket = authz::register_catchers(rocket);
        log::info!(
            "OpenID Connect: 4/4 mounted {} (ignite took {} ms)",
            mounted.join(", "),
            started.elapsed().as_millis()
        );
        Ok(rocket.manage(state).manage(self.hook.clone()))
    }
}
