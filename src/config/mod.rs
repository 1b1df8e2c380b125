//! The `oidc` settings: the [`Config`] struct with its defaults and derived values. Reading it
//! from Rocket's figment is in `figment.rs`, the checks in `validate.rs`, the error types in
//! `error.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use openidconnect::core::CoreJwsSigningAlgorithm;
use rocket::serde::{Deserialize, Serialize};
use url::{Host, Url};

mod credentials;
mod error;
mod figment;
mod lenient;
mod providers;
mod refresh;
mod revocation;
mod store;
#[cfg(test)]
mod tests;
mod validate;

pub(crate) use credentials::{KeySource, CLIENT_KEY_ALGS};
pub use error::{ConfigError, ConfigProblem};
pub use providers::ProviderConfig;
pub use providers::ProviderName;
pub(crate) use providers::{scope_message, sub_path, ResolvedProvider};
pub use refresh::{RefreshConfig, RefreshMode};
pub use revocation::BackchannelLogoutConfig;
pub(crate) use store::DEFAULT_STORE_MAX_ENTRIES;
#[cfg_attr(not(feature = "redis"), allow(unused_imports))]
pub use store::{RedisSettings, StoreConfig};
pub(crate) use validate::{cookie_prefix_problem, DEFAULT_COOKIE_PREFIX, MAX_COOKIE_PREFIX_LEN};
pub(crate) use validate::{has_placeholder, is_guid, issuer_is_valid};

/// Settings of the OpenID Connect login, read from the `oidc` table of Rocket's configuration.
///
/// `OidcFairing::new()` reads it with [`Config::from_figment()`] at ignite; build it in code
/// (with `..Default::default()` for the rest) to pass it to `OidcFairing::with_config`.
/// Either way it is checked with [`Config::validate()`] before any network call.
///
/// # Rocket.toml and environment variables
///
/// ```toml
/// [default.oidc]
/// issuer = "https://dev-123456.okta.com/oauth2/default"
/// client_id = "0oa..."
/// app_base_url = "http://localhost:8000"
/// scopes = ["openid", "profile", "email"]
///
/// [release.oidc]
/// app_base_url = "https://app.example.com"
/// ```
///
/// Every key can also be set by one environment variable `ROCKET_OIDC_<KEY>`, which wins over the
/// table, e.g. `ROCKET_OIDC_CLIENT_SECRET=...` or `ROCKET_OIDC_SCOPES=[openid,profile]`; the whole
/// table can be given as `ROCKET_OIDC={issuer="...",client_id="..."}`. Keep the client secret in
/// the environment rather than in a file that ends up in version control. Environment values are
/// parsed the way Rocket parses them: a value that looks like a number, an array (`[...]`) or a
/// table (`{...}`) must be quoted to stay a string (`ROCKET_OIDC_CLIENT_ID='"0012"'`).
///
/// # Several providers
///
/// With `[default.oidc.providers.NAME]` tables the app signs in with several providers (see
/// [`ProviderConfig`] for the keys of a table). The top-level table then holds the app's own
/// settings (`app_base_url`, the paths, the lifetimes, ...) and the per-provider keys that the
/// tables share (e.g. `scopes`); `issuer`, `client_id`, `client_secret` and `redirect_uri` go
/// into the tables:
///
/// ```toml
/// [default.oidc]
/// app_base_url = "https://app.example.com"
/// scopes = ["openid", "profile", "email"]     # shared by both providers
///
/// [default.oidc.providers.okta]
/// display_name = "Okta"
/// issuer = "https://dev-123456.okta.com/oauth2/default"
/// client_id = "0oa..."
///
/// [default.oidc.providers.google]
/// display_name = "Google"
/// issuer = "https://accounts.google.com"
/// client_id = "1234.apps.googleusercontent.com"
/// authorization_params = { access_type = "offline" }
/// ```
///
/// A provider's key in the environment is `ROCKET_OIDC_PROVIDERS_<NAME>_<KEY>`, e.g.
/// `ROCKET_OIDC_PROVIDERS_OKTA_CLIENT_SECRET=...`, for a provider that a table (or
/// `ROCKET_OIDC_PROVIDERS={okta={issuer="..."}}`, which gives whole tables) defines.
///
/// # Building it in code
///
/// ```
/// use rocket_openid_connect::Config;
///
/// let config = Config {
///     issuer: "https://dev-123456.okta.com/oauth2/default".into(),
///     client_id: "0oa1b2c3d4".into(),
///     client_secret: std::env::var("OIDC_CLIENT_SECRET").ok().or(Some("s3cr3t".into())),
///     app_base_url: "http://localhost:8000".into(),
///     ..Default::default()
/// };
/// assert!(config.validate().is_ok());
/// assert_eq!(config.redirect_uri(), "http://localhost:8000/authorization-code/callback");
/// ```
#[derive(Clone, Deserialize, Serialize)]
#[serde(crate = "rocket::serde", default, deny_unknown_fields)]
pub struct Config {
    /// The issuer identifier of the OpenID Provider, e.g.
    /// `https://dev-123456.okta.com/oauth2/default`.
    ///
    /// Discovery fetches `<issuer>/.well-known/openid-configuration`, and the `issuer` in that
    /// document must equal this value character for character (OpenID Connect Discovery 1.0
    /// §4.3), trailing `/` included: some providers (Auth0, for one) have one, most don't. It
    /// must be https, except for loopback hosts or with [`Config::insecure_allow_http`].
    ///
    /// _Default:_ none, required.
    #[serde(deserialize_with = "lenient::string")]
    pub issuer: String,

    /// The client ID of the application registered with the provider.
    ///
    /// _Default:_ none, required.
    #[serde(deserialize_with = "lenient::string")]
    pub client_id: String,

    /// The client secret of the application registered with the provider. Prefer setting it
    /// through the `ROCKET_OIDC_CLIENT_SECRET` environment variable. It never appears in `Debug`
    /// output or in error messages.
    ///
    /// _Default:_ none; required unless [`Config::client_auth_method`] is
    /// `Some(`[`ClientAuthMethod::None`]`)`.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub client_secret: Option<String>,

    /// The origin under which users reach the app: scheme, host and port only, with no
    /// trailing `/`, e.g. `http://localhost:8000` or `https://app.example.com`. The default
    /// redirect URIs are built from it, and cookies are `Secure` when it is https.
    ///
    /// _Default:_ none, required.
    #[serde(deserialize_with = "lenient::string")]
    pub app_base_url: String,

    /// The scopes requested at login; `openid` is required. A string is split at whitespace
    /// (`ROCKET_OIDC_SCOPES="openid profile"`).
    ///
    /// _Default:_ `["openid", "profile", "email"]`.
    #[serde(deserialize_with = "lenient::string_list")]
    pub scopes: Vec<String>,

    /// The path of the route that starts a login.
    ///
    /// _Default:_ `"/login"`.
    #[serde(deserialize_with = "lenient::string")]
    pub login_path: String,

    /// The path of the route the provider redirects back to with the authorization code.
    ///
    /// _Default:_ `"/authorization-code/callback"`.
    #[serde(deserialize_with = "lenient::string")]
    pub callback_path: String,

    /// The path of the (POST) route that logs the user out.
    ///
    /// _Default:_ `"/logout"`.
    #[serde(deserialize_with = "lenient::string")]
    pub logout_path: String,

    /// The redirect URI sent to the provider, which must be registered there as a sign-in
    /// redirect URI. It must have the origin of [`Config::app_base_url`] (the login cookie is
    /// only sent back to that origin) and the path [`Config::callback_path`] (where the
    /// callback route is mounted); so set it only when it must differ in its query.
    ///
    /// _Default:_ none: `app_base_url` + `callback_path` (see [`Config::redirect_uri()`]).
    #[serde(deserialize_with = "lenient::opt_string")]
    pub redirect_uri: Option<String>,

    /// Where the provider sends the browser after logout; it must be an absolute URL registered
    /// with the provider as a sign-out redirect URI.
    ///
    /// _Default:_ none: `app_base_url` + `/` (see [`Config::post_logout_redirect_uri()`]).
    #[serde(deserialize_with = "lenient::opt_string")]
    pub post_logout_redirect_uri: Option<String>,

    /// How the client authenticates at the token and revocation endpoints
    /// (`client_secret_basic`, `client_secret_post`, or `none` for a public client). Set it only
    /// if the provider needs a method other than the one chosen for you; launch warns when the
    /// provider does not list the one set here.
    ///
    /// _Default:_ none: the first of `client_secret_basic`, `client_secret_post` that the
    /// provider lists in `token_endpoint_auth_methods_supported` (`client_secret_basic` when it
    /// lists none, OpenID Connect Discovery 1.0 §3); launch fails if it lists neither. The
    /// launch log says which was chosen.
    pub client_auth_method: Option<ClientAuthMethod>,

    /// The path of the client's private key, for `private_key_jwt` (RFC 7523) or Sign in with
    /// Apple (its `AuthKey_<KEYID>.p8` file): PEM, PKCS#8 (`-----BEGIN PRIVATE KEY-----`), RSA
    /// of 2048 bits or more, or P-256. Relative paths are relative to the working directory.
    /// It is read and checked at launch. Setting it (or [`Config::client_key`]) without
    /// [`Config::client_auth_method`] means `private_key_jwt` (or, with
    /// [`Config::apple_team_id`], the Apple client secret).
    ///
    /// _Default:_ none.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub client_key_file: Option<String>,

    /// The client's private key itself, as PEM text, in place of [`Config::client_key_file`]:
    /// meant for the environment, `ROCKET_OIDC_CLIENT_KEY` (with real line breaks, or `\n`
    /// escapes on one line). Never in `Debug` output or messages.
    ///
    /// _Default:_ none.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub client_key: Option<String>,

    /// The `kid` header of the JWTs signed with the client key: the key's id as registered at
    /// the provider (Okta shows it beside the public key). Required for Sign in with Apple: the
    /// Key ID of the `.p8` key.
    ///
    /// _Default:_ none: no `kid` (for `private_key_jwt`; the provider then tries its keys).
    #[serde(deserialize_with = "lenient::opt_string")]
    pub client_key_id: Option<String>,

    /// The JWS algorithm of the client assertions: `RS256` or `PS256` for an RSA key, `ES256`
    /// for a P-256 key. Launch fails if the provider's
    /// `token_endpoint_auth_signing_alg_values_supported` does not list it.
    ///
    /// _Default:_ none: `RS256` for an RSA key, `ES256` for a P-256 key.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub client_key_alg: Option<String>,

    /// Sign in with Apple: the Apple Developer team ID (10 characters, e.g. `ABCDE12345`).
    /// With it, the client secret is an ES256 JWT this crate mints from the P-256 key
    /// ([`Config::client_key_file`], the `.p8` file) and [`Config::client_key_id`], with `iss`
    /// the team ID, `sub` the client ID (the Services ID) and `aud` `https://appleid.apple.com`;
    /// it is renewed before it expires. `client_secret` must then be unset.
    ///
    /// _Default:_ none.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub apple_team_id: Option<String>,

    /// How the provider returns the authorization response (OAuth 2.0 Multiple Response Type
    /// Encoding Practices): `query` (a redirect to the callback) or `form_post` (OAuth 2.0 Form
    /// Post Response Mode: a form the browser POSTs to the callback; Sign in with Apple sends
    /// the user's name and email only so). With `form_post` the callback also accepts `POST`,
    /// and the pending login's cookie is `SameSite=None; Secure` so that the cross-site POST
    /// carries it: the app must be served over https or from a loopback host (browsers accept
    /// `Secure` cookies from `http://localhost`, no other plain-http site).
    ///
    /// _Default:_ `query`.
    pub response_mode: ResponseMode,

    /// Seconds of clock difference tolerated with the provider when checking `exp` and `iat`
    /// of ID tokens. At most 300.
    ///
    /// _Default:_ `60`.
    pub clock_skew_secs: u64,

    /// Timeout in seconds of every HTTP request to the provider (discovery, keys, token,
    /// userinfo, revocation).
    ///
    /// _Default:_ `10`.
    pub http_timeout_secs: u64,

    /// A session ends after this many seconds without a request.
    ///
    /// _Default:_ `86400` (1 day).
    pub session_idle_timeout_secs: u64,

    /// A session ends this many seconds after login, however active it is.
    ///
    /// _Default:_ `604800` (7 days).
    pub session_absolute_timeout_secs: u64,

    /// How many seconds a started login may take before its callback is refused.
    ///
    /// _Default:_ `600` (10 minutes).
    pub login_timeout_secs: u64,

    /// How many logins may be pending at once in one browser (e.g. in several tabs), from 1 to
    /// 10. Each pending login is kept in a cookie until its callback.
    ///
    /// _Default:_ `4`.
    pub max_pending_logins: usize,

    /// The start of the cookies' names: the session is `<prefix>_session` (with chunks
    /// `<prefix>_session.1`, `.2`, ...) and each pending login `<prefix>_tx_<id>`, all with
    /// `__Host-` in front when the app is https. 1 to 16 ASCII letters, digits, `_` or `-`,
    /// not starting with `__`.
    ///
    /// Give each app its own prefix when several apps share a host name: browsers send a
    /// host's cookies to all its ports (RFC 6265 §8.5) and all its paths (the cookies are
    /// `Path=/`), so two apps at `localhost:8000` and `localhost:8001`, or behind one domain,
    /// would otherwise write the same cookies and sign each other out. A cookie under this
    /// app's names that its `secret_key` cannot decrypt is never deleted (see SECURITY.md).
    /// Changing the prefix signs everybody out: the cookies under the old names are no longer
    /// read (and expire in the browsers on their own).
    ///
    /// _Default:_ `"oidc"` (`oidc_session`, `oidc_tx_*`).
    #[serde(deserialize_with = "lenient::string")]
    pub cookie_prefix: String,

    /// Keep the access token in the session (for calling APIs). The ID token is always kept:
    /// it carries the claims.
    ///
    /// _Default:_ `true`.
    pub keep_access_token: bool,

    /// Keep the refresh token in the session, so that the access token can be refreshed when it
    /// expires (see [`Config::refresh`]). An app that needs neither a fresh access token nor
    /// the provider's say on whether the grant is still alive may set `false`: the session is
    /// ~80 bytes smaller on every request and no long-lived credential rides in the browser's
    /// cookie, but it is never refreshed.
    ///
    /// _Default:_ `true`.
    pub keep_refresh_token: bool,

    /// Fetch the userinfo endpoint after login and merge its claims.
    ///
    /// _Default:_ `true`.
    pub fetch_userinfo: bool,

    /// The JWS algorithms accepted in ID token signatures (`alg` header), by their JWA names.
    /// `none` is always refused. `HS256`, `HS384` and `HS512` are accepted only when listed
    /// explicitly, and are then keyed with the client secret. `ES512` is not supported.
    ///
    /// _Default:_ `["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
    /// "EdDSA"]`.
    #[serde(deserialize_with = "lenient::string_list")]
    pub id_token_signing_algs: Vec<String>,

    /// Extra values accepted in the ID token's `aud` claim besides the client ID.
    ///
    /// _Default:_ `[]`.
    #[serde(deserialize_with = "lenient::string_list")]
    pub trusted_audiences: Vec<String>,

    /// For a multi-tenant Microsoft Entra ID issuer (`…/common/v2.0` or
    /// `…/organizations/v2.0`, whose discovery document names the template issuer
    /// `…/{tenantid}/v2.0`): the tenant IDs (GUIDs) whose users may sign in. Each ID token's
    /// `tid` must be one of them, and its `iss` must be the template filled in with that `tid`.
    /// Empty: users of any tenant may sign in (the launch log says so). Set only for a
    /// multi-tenant issuer: launch fails otherwise.
    ///
    /// _Default:_ `[]`.
    #[serde(deserialize_with = "lenient::string_list")]
    pub allowed_tenants: Vec<String>,

    /// Extra parameters of the authorization request, e.g. Google's
    /// `{ access_type = "offline" }` (its refresh tokens need it). The parameters the crate sets
    /// itself (`response_type`, `client_id`, `redirect_uri`, `scope`, `state`, `nonce`,
    /// `code_challenge`, `code_challenge_method`, `login_hint`, `response_mode`, `request`,
    /// `request_uri`) cannot be given here. A `prompt` given here replaces the `prompt=consent`
    /// that `offline_access` adds, and must then contain `consent` too.
    ///
    /// _Default:_ `{}`.
    #[serde(deserialize_with = "lenient::string_map")]
    pub authorization_params: BTreeMap<String, String>,

    /// A path of the app, such as `/login-failed`, to which the browser is sent with
    /// `?error=<code>` when a login fails, instead of the built-in error page.
    ///
    /// _Default:_ none: the built-in error page.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub failure_redirect: Option<String>,

    /// Check the client credentials against the token endpoint at launch, so that a wrong
    /// client ID or secret stops launch. Turn it off for providers that object to the probe.
    ///
    /// _Default:_ `true`.
    pub check_credentials: bool,

    /// Allow plain-http `issuer`, `app_base_url` and `post_logout_redirect_uri` on hosts that
    /// are not loopback. Tokens and the client secret then travel in clear text: use it only on
    /// a trusted test network. Every launch logs a warning ([`Config::insecure_warnings()`]).
    /// Loopback hosts (`localhost`, `127.0.0.0/8`, `[::1]`) never need it.
    ///
    /// _Default:_ `false`.
    pub insecure_allow_http: bool,

    /// When and how the access token is refreshed: the `[default.oidc.refresh]` table, see
    /// [`RefreshConfig`].
    ///
    /// _Default:_ `mode = "auto"`, `skew_secs = 60`, `result_cache_secs = 30`,
    /// `failure_cache_secs = 5`.
    pub refresh: RefreshConfig,
    /// With several [`providers`](Config::providers): the one `/login` signs in with. Without
    /// it `/login` shows a page to choose (straight to the provider when there is only one).
    /// Other providers stay reachable at `/login/NAME`.
    ///
    /// _Default:_ none.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub default_provider: Option<String>,

    /// Several providers, by name (`[default.oidc.providers.NAME]`): see the [several
    /// providers](Config#several-providers) section above and [`ProviderConfig`]. Names are
    /// 1 to 32 characters of `a`–`z`, `0`–`9` and `_`, starting with a letter; they appear in
    /// paths (`/login/NAME`, the default callback `…/callback/NAME`), in environment variables
    /// and in the session. Empty: this table itself configures the one provider.
    ///
    /// _Default:_ `{}`.
    pub providers: BTreeMap<String, ProviderConfig>,

    /// The back-channel logout endpoint (`[default.oidc.backchannel_logout]`): see
    /// [`BackchannelLogoutConfig`].
    ///
    /// _Default:_ mounted at `/backchannel-logout` when discovery advertises
    /// `backchannel_logout_supported`.
    pub backchannel_logout: BackchannelLogoutConfig,

    /// The store of signed-out sessions (`[default.oidc.store]`): see [`StoreConfig`].
    ///
    /// _Default:_ in memory, at most 1,000,000 markers.
    pub store: StoreConfig,
}

/// How the client authenticates at the provider's token endpoint
/// (OpenID Connect Core 1.0 §9, `token_endpoint_auth_method`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(crate = "rocket::serde", rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// `client_secret_basic`: the client ID and secret in an HTTP Basic `Authorization` header.
    #[default]
    ClientSecretBasic,
    /// `client_secret_post`: the client ID and secret in the request body.
    ClientSecretPost,
    /// `none`: a public client, which has no secret; PKCE protects the code exchange.
    None,
    /// `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9): a JWT signed with the
    /// client's private key ([`Config::client_key_file`]), fresh for every request.
    PrivateKeyJwt,
}

impl ClientAuthMethod {
    /// The name of the method, as in Rocket.toml and in provider metadata.
    ///
    /// ```
    /// # use rocket_openid_connect::ClientAuthMethod;
    /// assert_eq!(ClientAuthMethod::ClientSecretPost.as_str(), "client_secret_post");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::ClientSecretPost => "client_secret_post",
            ClientAuthMethod::None => "none",
            ClientAuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

impl fmt::Display for ClientAuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the provider returns the authorization response to the callback
/// ([`Config::response_mode`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(crate = "rocket::serde", rename_all = "snake_case")]
pub enum ResponseMode {
    /// `query`: the provider redirects the browser to the callback with the response in the
    /// query string (RFC 6749 §4.1.2), the default of the code flow.
    #[default]
    Query,
    /// `form_post` (OAuth 2.0 Form Post Response Mode): the provider's page POSTs the response
    /// to the callback as `application/x-www-form-urlencoded`; it stays out of URLs, and Sign
    /// in with Apple sends the user's name only so.
    FormPost,
}

impl ResponseMode {
    /// The name of the mode, as in Rocket.toml and in the authorization request.
    ///
    /// ```
    /// # use rocket_openid_connect::ResponseMode;
    /// assert_eq!(ResponseMode::FormPost.as_str(), "form_post");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::FormPost => "form_post",
        }
    }
}

/// Every key of the `oidc` table, qualified, in declaration order: the one list of settings
/// (messages name `oidc.<key>`; [`key_name`] gives the bare key).
pub(super) const KEYS: &[&str] = &[
    "oidc.issuer",
    "oidc.client_id",
    "oidc.client_secret",
    "oidc.app_base_url",
    "oidc.scopes",
    "oidc.login_path",
    "oidc.callback_path",
    "oidc.logout_path",
    "oidc.redirect_uri",
    "oidc.post_logout_redirect_uri",
    "oidc.client_auth_method",
    "oidc.client_key_file",
    "oidc.client_key",
    "oidc.client_key_id",
    "oidc.client_key_alg",
    "oidc.apple_team_id",
    "oidc.response_mode",
    "oidc.clock_skew_secs",
    "oidc.http_timeout_secs",
    "oidc.session_idle_timeout_secs",
    "oidc.session_absolute_timeout_secs",
    "oidc.login_timeout_secs",
    "oidc.max_pending_logins",
    "oidc.cookie_prefix",
    "oidc.keep_access_token",
    "oidc.keep_refresh_token",
    "oidc.fetch_userinfo",
    "oidc.id_token_signing_algs",
    "oidc.trusted_audiences",
    "oidc.allowed_tenants",
    "oidc.authorization_params",
    "oidc.failure_redirect",
    "oidc.check_credentials",
    "oidc.insecure_allow_http",
    "oidc.refresh",
    "oidc.default_provider",
    "oidc.providers",
    "oidc.backchannel_logout",
    "oidc.store",
];

/// The keys of the `oidc` table that a provider table may set too (bare names): everything
/// about one provider and one client. The others are the app's own and stay at the top level.
/// `display_name` is a provider table's alone.
pub(super) const PROVIDER_KEYS: &[&str] = &[
    "display_name",
    "issuer",
    "client_id",
    "client_secret",
    "scopes",
    "callback_path",
    "redirect_uri",
    "post_logout_redirect_uri",
    "client_auth_method",
    "client_key_file",
    "client_key",
    "client_key_id",
    "client_key_alg",
    "apple_team_id",
    "response_mode",
    "keep_access_token",
    "keep_refresh_token",
    "fetch_userinfo",
    "id_token_signing_algs",
    "trusted_audiences",
    "allowed_tenants",
    "authorization_params",
    "check_credentials",
];

/// The bare name of a qualified key: `issuer` for `oidc.issuer`.
pub(super) fn key_name(qualified: &'static str) -> &'static str {
    qualified.strip_prefix("oidc.").unwrap_or(qualified)
}

/// The asymmetric JWS algorithms accepted by default, all of which openidconnect 4 verifies.
const DEFAULT_SIGNING_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// The algorithms that may be listed: the defaults plus the HMAC ones keyed with the secret.
pub(crate) const KNOWN_SIGNING_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA", "HS256",
    "HS384", "HS512",
];

/// The longest duration setting accepted, one year, which keeps cookie expiry arithmetic far
/// from overflow.
const MAX_SECS: u64 = 365 * 24 * 60 * 60;

/// The most clock skew tolerated: more would keep expired ID tokens valid for long.
const MAX_CLOCK_SKEW_SECS: u64 = 300;

/// Upper bound of `max_pending_logins`: each pending login is a cookie sent with every request.
const MAX_PENDING_LOGINS: usize = 10;

impl Default for Config {
    fn default() -> Self {
        Config {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: None,
            app_base_url: String::new(),
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            login_path: "/login".into(),
            callback_path: "/authorization-code/callback".into(),
            logout_path: "/logout".into(),
            redirect_uri: None,
            post_logout_redirect_uri: None,
            client_auth_method: None,
            client_key_file: None,
            client_key: None,
            client_key_id: None,
            client_key_alg: None,
            apple_team_id: None,
            response_mode: ResponseMode::Query,
            clock_skew_secs: 60,
            http_timeout_secs: 10,
            session_idle_timeout_secs: 24 * 60 * 60,
            session_absolute_timeout_secs: 7 * 24 * 60 * 60,
            login_timeout_secs: 10 * 60,
            max_pending_logins: 4,
            cookie_prefix: DEFAULT_COOKIE_PREFIX.into(),
            keep_access_token: true,
            keep_refresh_token: true,
            fetch_userinfo: true,
            id_token_signing_algs: DEFAULT_SIGNING_ALGS.iter().map(|s| s.to_string()).collect(),
            trusted_audiences: Vec::new(),
            allowed_tenants: Vec::new(),
            authorization_params: BTreeMap::new(),
            failure_redirect: None,
            check_credentials: true,
            insecure_allow_http: false,
            refresh: RefreshConfig::default(),
            default_provider: None,
            providers: BTreeMap::new(),
            backchannel_logout: BackchannelLogoutConfig::default(),
            store: StoreConfig::default(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("app_base_url", &self.app_base_url)
            .field("scopes", &self.scopes)
            .field("login_path", &self.login_path)
            .field("callback_path", &self.callback_path)
            .field("logout_path", &self.logout_path)
            .field("redirect_uri", &self.redirect_uri)
            .field("post_logout_redirect_uri", &self.post_logout_redirect_uri)
            .field("client_auth_method", &self.client_auth_method)
            .field("client_key_file", &self.client_key_file)
            .field(
                "client_key",
                &self.client_key.as_ref().map(|_| "<redacted>"),
            )
            .field("client_key_id", &self.client_key_id)
            .field("client_key_alg", &self.client_key_alg)
            .field("apple_team_id", &self.apple_team_id)
            .field("response_mode", &self.response_mode)
            .field("clock_skew_secs", &self.clock_skew_secs)
            .field("http_timeout_secs", &self.http_timeout_secs)
            .field("session_idle_timeout_secs", &self.session_idle_timeout_secs)
            .field(
                "session_absolute_timeout_secs",
                &self.session_absolute_timeout_secs,
            )
            .field("login_timeout_secs", &self.login_timeout_secs)
            .field("max_pending_logins", &self.max_pending_logins)
            .field("cookie_prefix", &self.cookie_prefix)
            .field("keep_access_token", &self.keep_access_token)
            .field("keep_refresh_token", &self.keep_refresh_token)
            .field("fetch_userinfo", &self.fetch_userinfo)
            .field("id_token_signing_algs", &self.id_token_signing_algs)
            .field("trusted_audiences", &self.trusted_audiences)
            .field("allowed_tenants", &self.allowed_tenants)
            .field("authorization_params", &self.authorization_params)
            .field("failure_redirect", &self.failure_redirect)
            .field("check_credentials", &self.check_credentials)
            .field("insecure_allow_http", &self.insecure_allow_http)
            .field("refresh", &self.refresh)
            .field("default_provider", &self.default_provider)
            .field("providers", &self.providers)
            .field("backchannel_logout", &self.backchannel_logout)
            .field("store", &self.store)
            .finish()
    }
}

impl Config {
    /// Checks the settings, all of them, before any network call.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] listing every problem found, each naming its key and the fix. The
    /// client secret never appears in it.
    ///
    /// ```
    /// use rocket_openid_connect::Config;
    ///
    /// let config = Config {
    ///     issuer: "https://{yourOktaDomain}/oauth2/default".into(),
    ///     app_base_url: "http://localhost:8000/".into(),
    ///     ..Default::default()
    /// };
    /// let error = config.validate().unwrap_err();
    /// let keys: Vec<_> = error.problems.iter().map(|p| p.key.as_str()).collect();
    /// assert_eq!(keys, ["oidc.issuer", "oidc.client_id", "oidc.client_secret", "oidc.app_base_url"]);
    /// ```
    ///
    /// With several [`providers`](Config::providers), a provider's problem names its table:
    ///
    /// ```
    /// use rocket_openid_connect::{Config, ProviderConfig};
    ///
    /// let provider = |issuer: &str| ProviderConfig {
    ///     issuer: Some(issuer.into()),
    ///     client_id: Some("app".into()),
    ///     client_secret: Some("s3cr3t".into()),
    ///     ..Default::default()
    /// };
    /// let config = Config {
    ///     app_base_url: "http://localhost:8000".into(),
    ///     providers: [
    ///         ("okta".to_string(), provider("https://dev-123456.okta.com/oauth2/default")),
    ///         ("google".to_string(), ProviderConfig { client_id: None, ..provider("https://accounts.google.com") }),
    ///     ]
    ///     .into(),
    ///     ..Default::default()
    /// };
    /// let error = config.validate().unwrap_err();
    /// assert_eq!(error.problems[0].key, "oidc.providers.google.client_id");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        let problems = providers::problems(self);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }

    /// What [`Config::insecure_allow_http`] allowed, one line each, for the fairing to log as a
    /// warning at every launch. Empty when nothing insecure is allowed.
    pub fn insecure_warnings(&self) -> Vec<String> {
        if !self.insecure_allow_http {
            return Vec::new();
        }
        let mut warnings = Vec::new();
        let mut urls = vec![
            ("oidc.issuer".to_owned(), Some(self.issuer.clone())),
            (
                "oidc.app_base_url".to_owned(),
                Some(self.app_base_url.clone()),
            ),
            (
                "oidc.post_logout_redirect_uri".to_owned(),
                self.post_logout_redirect_uri.clone(),
            ),
        ];
        for (name, provider) in &self.providers {
            urls.push((
                format!("oidc.providers.{name}.issuer"),
                provider.issuer.clone(),
            ));
            urls.push((
                format!("oidc.providers.{name}.post_logout_redirect_uri"),
                provider.post_logout_redirect_uri.clone(),
            ));
        }
        for (key, url) in urls {
            let Some(url) = url else { continue };
            if let Ok(parsed) = Url::parse(&url) {
                if parsed.scheme() == "http" && !is_loopback(&parsed) {
                    warnings.push(format!(
                        "{key}: {url} is plain http, allowed only because \
                         insecure_allow_http = true: tokens, cookies and the client secret \
                         travel in clear text. Never use this in production."
                    ));
                }
            }
        }
        if warnings.is_empty() {
            warnings.push(
                "oidc.insecure_allow_http: it is true but nothing needs it (all URLs are https \
                 or loopback); remove it."
                    .into(),
            );
        }
        warnings
    }

    /// The effective redirect URI: [`Config::redirect_uri`] or else `app_base_url` +
    /// `callback_path`.
    pub fn redirect_uri(&self) -> String {
        match &self.redirect_uri {
            Some(uri) => uri.clone(),
            None => format!("{}{}", self.app_base_url, self.callback_path),
        }
    }

    /// The effective post-logout redirect URI: [`Config::post_logout_redirect_uri`] or else
    /// `app_base_url` + `/`.
    pub fn post_logout_redirect_uri(&self) -> String {
        match &self.post_logout_redirect_uri {
            Some(uri) => uri.clone(),
            None => format!("{}/", self.app_base_url),
        }
    }

    /// Whether `app_base_url` is https, in which case cookies get the `Secure` flag.
    pub fn is_https_app(&self) -> bool {
        Url::parse(&self.app_base_url).is_ok_and(|url| url.scheme() == "https")
    }

    /// [`Config::clock_skew_secs`] as a [`Duration`].
    pub fn clock_skew(&self) -> Duration {
        Duration::from_secs(self.clock_skew_secs)
    }

    /// [`Config::http_timeout_secs`] as a [`Duration`].
    pub fn http_timeout(&self) -> Duration {
        Duration::from_secs(self.http_timeout_secs)
    }

    /// [`Config::session_idle_timeout_secs`] as a [`Duration`].
    pub fn session_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.session_idle_timeout_secs)
    }

    /// [`Config::session_absolute_timeout_secs`] as a [`Duration`].
    pub fn session_absolute_timeout(&self) -> Duration {
        Duration::from_secs(self.session_absolute_timeout_secs)
    }

    /// [`Config::login_timeout_secs`] as a [`Duration`].
    pub fn login_timeout(&self) -> Duration {
        Duration::from_secs(self.login_timeout_secs)
    }

    /// The accepted ID token signing algorithms as openidconnect types; names that do not
    /// parse, and `none`, are left out (a validated config has none of them).
    pub(crate) fn signing_algorithms(&self) -> Vec<CoreJwsSigningAlgorithm> {
        self.id_token_signing_algs
            .iter()
            .filter_map(|name| parse_signing_alg(name))
            .collect()
    }
}

/// The openidconnect algorithm named `name` among [`KNOWN_SIGNING_ALGS`].
fn parse_signing_alg(name: &str) -> Option<CoreJwsSigningAlgorithm> {
    if !KNOWN_SIGNING_ALGS.contains(&name) {
        return None;
    }
    rocket::serde::json::serde_json::from_value(name.into()).ok()
}

/// Whether the URL's host is a loopback one: `localhost` (and `*.localhost`, RFC 6761 §6.3),
/// `127.0.0.0/8` or `[::1]`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            domain == "localhost" || domain.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}
