//! [`OidcFairing`]: what happens at ignite.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::tokio::task::JoinSet;
use rocket::{Build, Rocket};

use crate::authz;
use crate::cache_control::CacheSafe;
use crate::callback_log::RedactCallbackQuery;
use crate::config::{scope_message, sub_path, Config, ProviderName, ResolvedProvider};
use crate::error::StartupError;
use crate::http::Http;
use crate::login_hook::{LoginHook, LoginHooks};
use crate::provider::{CheckOutcome, Provider};
use crate::refresh::RefreshCoordinator;
use crate::routes;
use crate::secret_key;
use crate::state::{self, OidcState, ProviderState};
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
///    with `oidc.store.url` (feature `redis`) it then connects to Redis and loads every marker
///    into this instance's local copy, and launch fails, naming the key to change, when Redis is
///    unreachable or refuses the password; refreshes are then coordinated across instances
///    through it (`RedisCoordinator`) unless
///    [`with_refresh_coordinator`](OidcFairing::with_refresh_coordinator) gives another;
/// 2. **discover** (with provider tables, every provider at once; see
///    [`Config::providers`]): fetches `<issuer>/.well-known/openid-configuration` within
///    `oidc.http_timeout_secs` (following up to 5 redirects, never from https to http), requires
///    its `issuer` to equal `oidc.issuer` exactly (or be the multi-tenant template that
///    `oidc.issuer` fills, see [`Config::allowed_tenants`]), the `code` response type, a token endpoint, a
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
/// 4. **mount** the login, callback and logout routes at their configured paths, and each
///    provider's back-channel logout endpoint (`oidc.backchannel_logout`: when its discovery
///    advertises `backchannel_logout_supported`, unless configured otherwise), register the 401
///    catcher that sends browsers to login (unless the app has its own 401 catcher at `/`),
///    attach two small fairings (a response fairing that keeps responses which depend on the
///    session out of shared caches, and a request fairing that keeps the callback's one-time
///    `code` and `state` out of Rocket's request log), and manage the state the guards need,
///    with the revocation store (in memory unless
///    [`revocation_store`](OidcFairing::revocation_store) gives another).
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
#[derive(Clone, Default)]
pub struct OidcFairing {
    config: Option<Config>,
    coordinator: Option<Arc<dyn RefreshCoordinator>>,
    store: Option<Arc<dyn RevocationStore>>,
    hook: LoginHooks,
}

impl fmt::Debug for OidcFairing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcFairing")
            .field("config", &self.config)
            .field("custom_refresh_coordinator", &self.coordinator.is_some())
            .field(
                "store",
                &if self.store.is_some() {
                    "given"
                } else {
                    "in memory"
                },
            )
            .field("hook", &self.hook)
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
            ..OidcFairing::default()
        }
    }

    /// Refreshes go through `coordinator` instead of the in-memory
    /// [`LocalCoordinator`](crate::LocalCoordinator) (whose cache lifetimes come from
    /// `oidc.refresh`): for example one shared by every instance of the app, so that
    /// concurrent requests on different instances still make one token-endpoint call per
    /// refresh token. With several providers it serves them all: its keys name the provider.
    /// See [`RefreshCoordinator`] for what it must do.
    pub fn with_refresh_coordinator(mut self, coordinator: Arc<dyn RefreshCoordinator>) -> Self {
        self.coordinator = Some(coordinator);
        self
    }

    /// Runs `hook` at every sign-in, after the provider's answer is validated and before the
    /// session is written: it can allow, refuse, redirect, and keep app data in the session
    /// (see [`LoginHook`] and [`LoginDecision`](crate::LoginDecision)). A second call replaces
    /// the first hook.
    pub fn on_login(mut self, hook: impl LoginHook) -> Self {
        self.hook = LoginHooks(Some(Arc::new(hook)));
        self
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

    /// Steps 1 to 3; the failures, each with the provider it concerns (none for the
    /// configuration as a whole).
    async fn ignite(&self, rocket: &Rocket<Build>) -> Result<OidcState, Vec<Failure>> {
        let started = Instant::now();
        let whole = |e: StartupError| {
            vec![Failure {
                provider: None,
                error: e,
            }]
        };
        let config = match &self.config {
            Some(c) => c.clone(),
            None => Config::from_figment(rocket.figment()).map_err(|e| whole(e.into()))?,
        };
        let resolved = config.resolve().map_err(|e| whole(e.into()))?;
        let key_warning = secret_key::public_key_warning(rocket.figment());
        for warning in config.insecure_warnings().into_iter().chain(key_warning) {
            log::warn!("OpenID Connect: INSECURE: {warning}");
        }
        for p in &resolved.providers {
            log::info!(
                "{}: 1/4 configuration valid: issuer {}, client_id {}, redirect_uri {}",
                prefix(&p.name, resolved.named),
                p.config.issuer,
                p.config.client_id,
                p.config.redirect_uri()
            );
        }

        // `[default.oidc.store] url`: Redis, connected before discovery so that an unreachable
        // store fails launch at once. A store given in code wins.
        #[cfg(feature = "redis")]
        let redis_store = match &self.store {
            Some(_) => None,
            None => crate::redis_store::RedisStore::from_config(&resolved.app.store)
                .await
                .map_err(|e| whole(e.into()))?,
        };
        #[cfg(feature = "redis")]
        let shared = redis_store.clone().map(|s| s as Arc<dyn RevocationStore>);
        #[cfg(not(feature = "redis"))]
        let (shared, redis_store): (Option<Arc<dyn RevocationStore>>, Option<()>) = (None, None);

        let http = Http::new(resolved.app.http_timeout())
            .map_err(|e| whole(StartupError::HttpClient(e)))?;
        // Every provider at once: launch takes as long as the slowest, not the sum.
        let mut tasks = JoinSet::new();
        let named = resolved.named;
        for (index, p) in resolved.providers.into_iter().enumerate() {
            let http = http.clone();
            tasks.spawn(async move {
                let result = ignite_provider(&p, http, named, started).await;
                (index, p, result)
            });
        }
        let mut providers = Vec::new();
        let mut failures = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, p, Ok(provider))) => providers.push((index, p, provider)),
                Ok((_, p, Err(error))) => failures.push(Failure {
                    // Without provider tables, the lines of today: no name, top-level keys.
                    provider: named.then_some(p.name),
                    error,
                }),
                Err(e) => failures.push(Failure {
                    provider: None,
                    error: StartupError::CredentialCheck {
                        reason: format!("the start of a provider failed: {e}"),
                        source: None,
                    },
                }),
            }
        }
        if !failures.is_empty() {
            failures.sort_by(|a, b| {
                let name = |f: &Failure| f.provider.map(|n| n.to_string());
                name(a).cmp(&name(b))
            });
            return Err(failures);
        }
        providers.sort_by_key(|(index, _, _)| *index);
        // One coordinator for every provider: its keys name the provider.
        let coordinator = self
            .coordinator
            .clone()
            .or_else(|| shared_coordinator(&redis_store, &resolved.app))
            .unwrap_or_else(|| state::default_coordinator(&resolved.app));
        let refresh = &resolved.app.refresh;
        log::info!(
            "OpenID Connect: refresh {:?}: skew {} s, results cached {} s, failures {} s, {} \
             coordinator",
            refresh.mode,
            refresh.skew_secs,
            refresh.result_cache_secs,
            refresh.failure_cache_secs,
            if self.coordinator.is_some() {
                "the app's"
            } else if redis_store.is_some() {
                "Redis (across instances)"
            } else {
                "in-memory"
            },
        );
        let providers = providers
            .into_iter()
            .map(|(_, p, provider)| {
                if !p.config.keep_refresh_token {
                    log::info!(
                        "{}: keep_refresh_token = false: its sessions hold no refresh token and \
                         are never refreshed",
                        prefix(&p.name, named)
                    );
                }
                let path = backchannel_path(&resolved.app, &p, &provider, named);
                let mut state = ProviderState::new(
                    p.name,
                    p.display_name,
                    p.config,
                    provider,
                    coordinator.clone(),
                );
                state.backchannel_path = path;
                state
            })
            .collect();
        let store = match (&self.store, shared) {
            (Some(store), _) => store.clone(),
            (None, Some(shared)) => shared,
            (None, None) => Arc::new(MemoryStore::new(resolved.app.store.max_entries)),
        };
        Ok(OidcState::new(
            resolved.app,
            providers,
            named,
            resolved.default,
            store,
        ))
    }
}

/// With the Redis store, the coordinator that makes one refresh per refresh token across
/// every instance sharing it (unless the app gave its own).
#[cfg(feature = "redis")]
fn shared_coordinator(
    redis: &Option<Arc<crate::redis_store::RedisStore>>,
    app: &Config,
) -> Option<Arc<dyn RefreshCoordinator>> {
    let redis = redis.as_ref()?;
    Some(Arc::new(crate::redis_store::RedisCoordinator::new(
        redis.clone(),
        app.http_timeout(),
        std::time::Duration::from_secs(app.refresh.result_cache_secs),
        std::time::Duration::from_secs(app.refresh.failure_cache_secs),
    )))
}

#[cfg(not(feature = "redis"))]
fn shared_coordinator(_: &Option<()>, _: &Config) -> Option<Arc<dyn RefreshCoordinator>> {
    None
}

/// A reason launch fails, and the provider it concerns.
struct Failure {
    provider: Option<ProviderName>,
    error: StartupError,
}

/// How log lines about `name` start: `OpenID Connect`, or with provider tables
/// `OpenID Connect [name]`.
fn prefix(name: &ProviderName, named: bool) -> String {
    if named {
        format!("{FAIRING_NAME} [{name}]")
    } else {
        FAIRING_NAME.into()
    }
}

/// Steps 2 and 3 for one provider: discovery (with its keys) and the credential check.
async fn ignite_provider(
    p: &ResolvedProvider,
    http: Http,
    named: bool,
    started: Instant,
) -> Result<Provider, StartupError> {
    let config = &p.config;
    let prefix = prefix(&p.name, named);
    let provider = Provider::discover(config, http).await?;
    let warnings = [
        provider.token_auth_warning(),
        provider.response_mode_warning(config),
    ];
    for warning in warnings.into_iter().flatten() {
        log::warn!("{prefix}: {}", scoped(&warning, &p.name, named));
    }
    let yes_no = |present: bool| if present { "yes" } else { "no" };
    let end_session = provider.metadata.end_session_endpoint.is_some();
    let revocation = provider.metadata.revocation_endpoint.is_some();
    log::info!(
        "{prefix}: 2/4 discovered {} ({}, end_session {}, revocation {}) in {} ms",
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
            "{prefix}: {logout} signs out of this app only (the provider advertises no \
             end_session_endpoint)"
        );
    }
    if !revocation {
        log::info!(
            "{prefix}: {logout} revokes no tokens (the provider advertises no \
             revocation_endpoint)"
        );
    }
    if let Some(template) = provider.issuer_policy().template() {
        let who = if template.allowed().is_empty() {
            "users of any tenant may sign in; list the tenant IDs that may in \
             oidc.allowed_tenants to restrict it"
                .to_owned()
        } else {
            format!(
                "users of the tenants in oidc.allowed_tenants may sign in: {}",
                template.allowed().join(", ")
            )
        };
        let line = format!(
            "multi-tenant issuer {}: each ID token's iss must be it with the token's tid; {who}",
            template.as_str()
        );
        log::info!("{prefix}: {}", scoped(&line, &p.name, named));
    }

    let auth = scoped(&provider.token_auth(), &p.name, named);
    if config.check_credentials {
        match provider.check_credentials(config).await? {
            CheckOutcome::Confirmed(verdict) => log::info!(
                "{prefix}: 3/4 client credentials: {verdict}; client authentication {auth}"
            ),
            CheckOutcome::NotConfirmed(what) => log::warn!(
                "{prefix}: 3/4 client credentials NOT confirmed, continuing: {}; client \
                 authentication {auth}",
                scoped(&what, &p.name, named)
            ),
        }
    } else {
        let line = format!(
            "3/4 client credential check skipped (oidc.check_credentials = false); client \
             authentication {auth}"
        );
        log::info!("{prefix}: {}", scoped(&line, &p.name, named));
    }
    Ok(provider)
}

/// Where provider `p`'s back-channel logout endpoint goes, if it is mounted: the configured
/// path, or with provider tables the path + `/NAME`; with a log line saying why, and what to
/// register at the provider (Back-Channel Logout 1.0 §2.2).
fn backchannel_path(
    app: &Config,
    p: &ResolvedProvider,
    provider: &Provider,
    named: bool,
) -> Option<String> {
    let prefix = prefix(&p.name, named);
    let settings = &app.backchannel_logout;
    let advertised = provider.metadata.backchannel_logout_supported;
    if !settings.is_enabled(advertised) {
        let why = if settings.enabled == Some(false) {
            "oidc.backchannel_logout.enabled = false"
        } else {
            "discovery does not advertise backchannel_logout_supported; set \
             oidc.backchannel_logout.enabled = true to mount it anyway"
        };
        log::info!("{prefix}: back-channel logout off ({why})");
        return None;
    }
    let path = if named {
        sub_path(&settings.path, p.name.as_str())
    } else {
        settings.path.clone()
    };
    log::info!(
        "{prefix}: back-channel logout at POST {path}: register {}{path} as the client's \
         backchannel_logout_uri{}",
        app.app_base_url,
        if provider.metadata.backchannel_logout_session_supported {
            ", with backchannel_logout_session_required"
        } else {
            ""
        }
    );
    if !advertised {
        log::warn!(
            "{prefix}: oidc.backchannel_logout.enabled = true, but discovery does not \
             advertise backchannel_logout_supported: check that the provider sends logout tokens"
        );
    }
    Some(path)
}

/// `text` about provider `name`, naming its keys (`oidc.providers.NAME.<key>`) when there are
/// provider tables.
fn scoped(text: &str, name: &ProviderName, named: bool) -> String {
    if named {
        scope_message(text, name.as_str())
    } else {
        text.to_owned()
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
            Err(failures) => {
                for failure in failures {
                    let (prefix, text) = match &failure.provider {
                        // Messages name the provider's own keys (`oidc.providers.NAME.issuer`).
                        Some(name) => (
                            format!("{FAIRING_NAME} [{name}]"),
                            scope_message(&failure.error.to_string(), name.as_str()),
                        ),
                        None => (FAIRING_NAME.to_owned(), failure.error.to_string()),
                    };
                    for line in text.lines() {
                        log::error!("{prefix}: {line}");
                    }
                }
                return Err(rocket);
            }
        };
        let routes = routes::routes(&state);
        let mounted: Vec<String> = routes
            .iter()
            .map(|r| format!("{} {}", r.method, r.uri))
            .collect();
        // Every provider's callback path (without provider tables, the one provider's is the
        // app's `callback_path`).
        let callback_paths: Vec<String> = state
            .providers
            .iter()
            .map(|p| p.config.callback_path.clone())
            .chain(std::iter::once(state.app.callback_path.clone()))
            .collect();
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
