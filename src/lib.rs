//! OpenID Connect login for [Rocket](https://rocket.rs) 0.5 apps: attach one fairing, write
//! `user: AuthenticatedUser` on a route, and put the issuer and client credentials in
//! `Rocket.toml`. Works with Okta, Auth0, Keycloak, Entra ID, Google and any certified OpenID
//! Provider, and ships a development issuer (module `dev_issuer`, feature `dev-issuer`) so that
//! everything runs with no account anywhere.
//!
//! # Quickstart
//!
//! 1. Add the crate (and Rocket) to `Cargo.toml`:
//!
//!    ```toml
//!    [dependencies]
//!    rocket = { version = "0.5", features = ["secrets"] }
//!    rocket_openid_connect = "0.1"
//!    ```
//!
//! 2. Register a web application at your provider with the redirect URI
//!    `http://localhost:8000/authorization-code/callback` and the sign-out redirect
//!    `http://localhost:8000/`, then configure it in `Rocket.toml` (the secret is better kept in
//!    the environment as `ROCKET_OIDC_CLIENT_SECRET`):
//!
//!    ```toml
//!    [default.oidc]
//!    issuer = "https://dev-123456.okta.com/oauth2/default"
//!    client_id = "0oa..."
//!    app_base_url = "http://localhost:8000"
//!    ```
//!
//! 3. Attach [`OidcFairing`] and protect routes with the guards:
//!
//!    ```rust,no_run
//!    #[macro_use] extern crate rocket;
//!    use rocket_openid_connect::{AuthenticatedUser, OidcFairing, UserContext};
//!
//!    #[get("/")]
//!    fn index(user: Option<UserContext>) -> String {
//!        match user {
//!            Some(user) => format!("Hi {}!", user.userinfo.name.as_deref().unwrap_or("there")),
//!            None => "Hello, stranger. Visit /login".into(),
//!        }
//!    }
//!
//!    #[get("/protected")]
//!    fn protected(user: AuthenticatedUser) -> String {
//!        format!("Only for {}", user.userinfo.sub)
//!    }
//!
//!    #[launch]
//!    fn rocket() -> _ {
//!        rocket::build().attach(OidcFairing::new()).mount("/", routes![index, protected])
//!    }
//!    ```
//!
//! 4. `cargo run`, open <http://localhost:8000/protected>: you are sent to the provider, sign
//!    in, and come back to the protected page. The server does not start when the issuer or
//!    the credentials are wrong; the log says what to change.
//!
//! No provider at hand? `cargo run --example quickstart` in this repository starts the same app
//! against the built-in development issuer.
//!
//! # What it does
//!
//! - **At launch** ([`OidcFairing`]): validates the configuration, discovers the issuer, checks
//!   the client credentials at the token endpoint, mounts the routes. Any failure stops launch
//!   with a message naming the setting to fix.
//! - **Routes**: `GET /login[?return_to=/path][&login_hint=..]` starts a code flow with PKCE
//!   (S256), `state` and `nonce`; `GET /authorization-code/callback` checks `state` and the
//!   RFC 9207 `iss`, exchanges the code, validates the ID token completely (signature with the
//!   provider's keys, refetched once on an unknown `kid`; `iss`, `aud`, `azp`, `exp`/`iat` with
//!   clock skew, `nonce`, `at_hash`), fetches userinfo and writes the session; `POST /logout`
//!   clears the session, marks it signed out (so a copy of the cookie dies too), revokes the
//!   tokens and signs out at the provider; `POST /backchannel-logout` lets the provider end
//!   sessions (OpenID Connect Back-Channel Logout 1.0, mounted when discovery advertises it).
//! - **Guards**: [`UserContext`] (forwards for visitors, so `Option<UserContext>` works),
//!   [`AuthenticatedUser`] (a browser is sent to login and back; an API client gets 401) and
//!   [`Authorized<R>`](Authorized) (signed in and meeting a [`Requirement`], such as
//!   [`Rule::group`]; else 403, never a login redirect). Typed [`Claims`] come from the user
//!   context, decoded once per request.
//! - **Login hook** ([`OidcFairing::on_login`]): allow, refuse, redirect, or keep app data in
//!   the session, before the session is written.
//! - **Testing your app** (module `testing`, feature `dev-issuer`): `sign_in(&client, "ada")`
//!   into a `rocket::local` client or a real server.
//! - **Refresh**: an access token about to expire is refreshed by the guards before the handler
//!   runs (or by the handler, with [`TokenRefresher`]), with one token-endpoint call per refresh
//!   token however many requests race, so that rotating refresh tokens never trip the provider's
//!   reuse detection. `invalid_grant` ends the session cleanly; an outage keeps it, with the old
//!   tokens marked [`RefreshStatus::Stale`]. Settings in `[default.oidc.refresh]`
//!   ([`RefreshConfig`]); several instances: see the README's "Token refresh".
//! - **Sessions**: stateless, in encrypted private cookies (AES-256-GCM with Rocket's
//!   `secret_key`), chunked when larger than one cookie, with idle and absolute expiry checked
//!   inside the ciphertext. Any number of instances sharing one `secret_key` serve the same
//!   sessions. Signed-out sessions are remembered as markers in a [`RevocationStore`] (in
//!   memory by default, [`MemoryStore`]), checked from memory on every guarded request; give
//!   instances one shared store with [`OidcFairing::revocation_store`].
//!
//! # Configuration
//!
//! Every key of the `oidc` table, its default and its environment variable are documented on
//! [`Config`]. Keys can come from `Rocket.toml` profiles, from `ROCKET_OIDC={...}`, or one by
//! one from `ROCKET_OIDC_<KEY>` variables, which win:
//!
//! ```sh
//! ROCKET_OIDC_ISSUER=https://dev-123456.okta.com/oauth2/default \
//! ROCKET_OIDC_CLIENT_ID=0oa... ROCKET_OIDC_CLIENT_SECRET=... cargo run
//! ```
//!
//! [`OidcFairing::with_config`] takes a [`Config`] built in code instead.
//!
//! Several providers ("Sign in with Okta or Google") go into `[default.oidc.providers.NAME]`
//! tables ([`ProviderConfig`]; keys also as `ROCKET_OIDC_PROVIDERS_<NAME>_<KEY>`): each gets
//! `/login/NAME` and its own callback and redirect URI, `/login` offers the choice (or goes to
//! `default_provider`), the callback refuses answers meant for another provider (RFC 9700
//! §4.4), and [`UserContext::provider`] says who signed the user in. Identify users by
//! [`UserContext::identity`], (issuer, `sub`), never by email.
//!
//! # Security
//!
//! - Set Rocket's `secret_key` (Rocket refuses to start without one outside debug): it encrypts
//!   the sessions. Rotating it signs everybody out.
//! - Serve the app over https in production: `app_base_url` must be https except for loopback
//!   hosts (an explicit `insecure_allow_http` switch exists and warns at every launch), and the
//!   cookies are marked `Secure` when it is.
//! - `none` is never an accepted signing algorithm, and HMAC (HS256...) only when configured.
//! - `return_to` accepts only same-origin paths ([`sanitize_return_to`]).
//! - Logout needs a same-origin POST; GET shows a confirmation form.
//! - Secrets, tokens and cookie values are never logged by this crate, and `Debug` of [`Config`]
//!   and [`Tokens`] redacts them. At Rocket's `normal` log level (the debug default), *Rocket*
//!   logs every request line; the callback's shows `?redacted` in place of its one-time `code`
//!   and `state`. At `debug`, Rocket logs requests raw; the release default `critical` logs no
//!   request lines.
//! - Responses that read the session get `Cache-Control: private, no-store` and
//!   `Vary: Cookie`, unless the app set its own `Cache-Control`; one that sets one of the
//!   crate's cookies always does.
//! - Several apps on one host name: give each its own [`Config::cookie_prefix`]. A cookie
//!   under this app's names that its `secret_key` cannot decrypt is left alone.
//! - See `SECURITY.md` for the list of attacks we test against.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

// The modules, from the bottom up: each imports only from those above it in this list (see the
// README's Architecture section).
mod authz;
mod cache_control;
mod callback_log;
mod claims;
mod config;
mod error;
mod fairing;
mod guards;
mod http;
mod login_hook;
mod provider;
#[cfg(feature = "redis")]
mod redis_store;
mod refresh;
mod return_to;
mod routes;
mod secret_key;
mod session;
mod state;
mod store;
mod unauthorized;
mod user;
mod util;

#[cfg(feature = "dev-issuer")]
pub mod dev_issuer;
#[cfg(feature = "dev-issuer")]
pub mod testing;

pub use authz::{
    access_denied, AccessDenied, Authorized, AuthzError, ClaimPath, EmailVerified, Requirement,
    Rule,
};
pub use claims::{ClaimSource, Claims, ClaimsError};
pub use config::ProviderName;
pub use config::{
    BackchannelLogoutConfig, ClientAuthMethod, Config, ConfigError, ConfigProblem, ProviderConfig,
    RefreshConfig, RefreshMode, ResponseMode, StoreConfig,
};
pub use error::{Endpoint, LoginError, RefreshError, StartupError};
pub use fairing::{OidcFairing, FAIRING_NAME};
pub use guards::{AuthenticatedUser, TokenRefresher};
pub use http::{FetchError, HttpError};
pub use login_hook::{LoginDecision, LoginHook, LoginHookError};
#[cfg(feature = "redis")]
pub use redis_store::{ConnectError, RedisCoordinator, RedisStore, StoreStatus};
pub use refresh::{
    LocalCoordinator, RefreshCoordinator, RefreshKey, RefreshResult, RefreshedTokens,
};
pub use return_to::sanitize_return_to;
pub use store::{BoxFuture, Marker, MemoryStore, RevocationStore, StoreError, StoreKey};
pub use unauthorized::{unauthorized, Unauthorized};
pub use user::{ProviderInfo, RefreshStatus, Tokens, UserContext, UserInfo};

/// Crate internals for the benches and fuzz targets (feature `internals`). **Not a public API**:
/// anything here may change or vanish in any release.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod __internals {
    pub use crate::cache_control::CacheSafe;
    pub use crate::provider::{
        validate, validate_logout_token, ExpectedNonce, IdTokenRules, IssuerPolicy,
        LogoutTokenRules, Rejection, TenantTemplate, TokenResponse, ValidatedIdToken,
        ValidatedLogoutToken, BACKCHANNEL_LOGOUT_EVENT, MAX_LOGOUT_TOKEN_AGE_SECS,
    };
    pub use crate::routes::callback::{
        check_callback, new_session, parse_callback_query, CallbackParams,
    };
    pub use crate::session::codec::{decode_body, decode_chunks, encode_body, encode_chunks};
    pub use crate::session::{
        check, clear_own_session, clear_session, load, read_session, renew, tx_cookie_name,
        write_session, write_transaction, CookieOptions, Lifetimes, Loaded, SessionBinding,
        SessionData, Stored, Transaction,
    };
    pub use crate::state::OidcState;
    pub use crate::store::{RevocationKeys, SessionKeys};
    pub use crate::user::{stored_user_context, user_context};

    #[cfg(feature = "redis")]
    pub use crate::config::RedisSettings;
    #[cfg(feature = "redis")]
    pub use crate::redis_store::{FlightError, FlightSettings, Outcome};
    /// Resolves `[default.oidc.store]` the way launch does (for the Redis tests).
    #[cfg(feature = "redis")]
    pub fn redis_settings(
        config: &crate::StoreConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<RedisSettings>, crate::ConfigProblem> {
        config.redis_settings(env)
    }

    #[cfg(feature = "dev-issuer")]
    pub use crate::dev_issuer::backchannel::sign_dev_logout_token;
    #[cfg(feature = "dev-issuer")]
    pub use crate::dev_issuer::jwt::{dev_jwks, sign_dev_jwt, sign_sample_id_token};
}
