//! Several providers: the [`ProviderConfig`] tables, their names ([`ProviderName`]), how a
//! configuration resolves into one effective [`Config`] per provider ([`Resolved`]), and the
//! checks that span providers (names, paths, redirect URIs, the default).
//!
//! A configuration without provider tables is one provider, named [`ProviderName::DEFAULT`],
//! configured by the top-level keys exactly as before provider tables existed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use rocket::serde::{Deserialize, Serialize};

use super::validate::{self, path_problem, Scope};
use super::{
    lenient, ClientAuthMethod, Config, ConfigError, ConfigProblem, ResponseMode, KEYS,
    PROVIDER_KEYS,
};

/// One provider of several: a `[default.oidc.providers.NAME]` table, or an entry of
/// [`Config::providers`] in code.
///
/// Every key is optional. A key the table does not set is taken from the top-level `oidc`
/// table (or its default), e.g. `scopes` shared by all providers; except for `issuer`,
/// `client_id` and `client_secret`, which every table sets itself (they are errors at the top
/// level once there are provider tables), `callback_path`, whose default is the top level's
/// `callback_path` + `/NAME`, and `redirect_uri`, whose default is `app_base_url` + the
/// provider's callback path. The keys mean what the [`Config`] field of the same name says.
///
/// The app's own settings (`app_base_url`, `login_path`, `logout_path`, the session lifetimes,
/// `login_timeout_secs`, `max_pending_logins`, `cookie_prefix`, `failure_redirect`,
/// `clock_skew_secs`, `http_timeout_secs`, `insecure_allow_http`, `default_provider`, the
/// `refresh` table) exist only at the top level: in a provider table they are errors that say so.
///
/// ```
/// use rocket_openid_connect::{Config, ProviderConfig};
///
/// let config = Config {
///     app_base_url: "http://localhost:8000".into(),
///     providers: [
///         (
///             "okta".to_string(),
///             ProviderConfig::new("https://dev-123456.okta.com/oauth2/default", "0oa1b2c3d4")
///                 .client_secret("s3cr3t")
///                 .display_name("Okta"),
///         ),
///         (
///             "google".to_string(),
///             ProviderConfig {
///                 authorization_params: Some([("access_type".into(), "offline".into())].into()),
///                 ..ProviderConfig::new("https://accounts.google.com", "1234.apps.googleusercontent.com")
///                     .client_secret("s3cr3t")
///             },
///         ),
///     ]
///     .into(),
///     ..Default::default()
/// };
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(crate = "rocket::serde", default, deny_unknown_fields)]
pub struct ProviderConfig {
    /// What the sign-in page shows: "Sign in with `display_name`".
    ///
    /// _Default:_ the provider's name.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
    /// [`Config::issuer`]. Required.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub issuer: Option<String>,
    /// [`Config::client_id`]. Required.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_id: Option<String>,
    /// [`Config::client_secret`]; better in `ROCKET_OIDC_PROVIDERS_<NAME>_CLIENT_SECRET`. Never
    /// in `Debug` output.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_secret: Option<String>,
    /// [`Config::client_auth_method`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_auth_method: Option<ClientAuthMethod>,
    /// [`Config::client_key_file`]; a provider's own, never inherited.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_key_file: Option<String>,
    /// [`Config::client_key`]; better in `ROCKET_OIDC_PROVIDERS_<NAME>_CLIENT_KEY`. A
    /// provider's own, never inherited, never in `Debug` output.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_key: Option<String>,
    /// [`Config::client_key_id`]; a provider's own, never inherited.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_key_id: Option<String>,
    /// [`Config::client_key_alg`]; a provider's own, never inherited.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_key_alg: Option<String>,
    /// [`Config::apple_team_id`]; a provider's own, never inherited.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub apple_team_id: Option<String>,
    /// [`Config::response_mode`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_mode: Option<ResponseMode>,
    /// [`Config::scopes`].
    #[serde(
        deserialize_with = "lenient::opt_string_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub scopes: Option<Vec<String>>,
    /// The path of this provider's callback route. Each provider needs its own: the path tells
    /// the callback which provider answered (RFC 9700 §4.4.2).
    ///
    /// _Default:_ the top level's `callback_path` + `/NAME`, e.g.
    /// `/authorization-code/callback/okta`.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub callback_path: Option<String>,
    /// [`Config::redirect_uri`], which must have this provider's callback path.
    ///
    /// _Default:_ `app_base_url` + the provider's callback path.
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub redirect_uri: Option<String>,
    /// [`Config::post_logout_redirect_uri`].
    #[serde(
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub post_logout_redirect_uri: Option<String>,
    /// [`Config::id_token_signing_algs`].
    #[serde(
        deserialize_with = "lenient::opt_string_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub id_token_signing_algs: Option<Vec<String>>,
    /// [`Config::trusted_audiences`].
    #[serde(
        deserialize_with = "lenient::opt_string_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub trusted_audiences: Option<Vec<String>>,
    /// [`Config::allowed_tenants`].
    #[serde(
        deserialize_with = "lenient::opt_string_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub allowed_tenants: Option<Vec<String>>,
    /// [`Config::authorization_params`].
    #[serde(
        deserialize_with = "lenient::opt_string_map",
        skip_serializing_if = "Option::is_none"
    )]
    pub authorization_params: Option<BTreeMap<String, String>>,
    /// [`Config::fetch_userinfo`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetch_userinfo: Option<bool>,
    /// [`Config::check_credentials`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_credentials: Option<bool>,
    /// [`Config::keep_access_token`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_access_token: Option<bool>,
    /// [`Config::keep_refresh_token`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_refresh_token: Option<bool>,
}

impl ProviderConfig {
    /// A provider with its issuer and client ID; the rest inherited or defaulted.
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>) -> ProviderConfig {
        ProviderConfig {
            issuer: Some(issuer.into()),
            client_id: Some(client_id.into()),
            ..ProviderConfig::default()
        }
    }

    /// With this client secret.
    pub fn client_secret(mut self, secret: impl Into<String>) -> ProviderConfig {
        self.client_secret = Some(secret.into());
        self
    }

    /// With this name on the sign-in page.
    pub fn display_name(mut self, name: impl Into<String>) -> ProviderConfig {
        self.display_name = Some(name.into());
        self
    }

    /// Whether the table sets the bare `key` itself.
    pub(super) fn sets(&self, key: &str) -> bool {
        match key {
            "display_name" => self.display_name.is_some(),
            "issuer" => self.issuer.is_some(),
            "client_id" => self.client_id.is_some(),
            "client_secret" => self.client_secret.is_some(),
            "client_auth_method" => self.client_auth_method.is_some(),
            "client_key_file" => self.client_key_file.is_some(),
            "client_key" => self.client_key.is_some(),
            "client_key_id" => self.client_key_id.is_some(),
            "client_key_alg" => self.client_key_alg.is_some(),
            "apple_team_id" => self.apple_team_id.is_some(),
            "response_mode" => self.response_mode.is_some(),
            "scopes" => self.scopes.is_some(),
            "callback_path" => self.callback_path.is_some(),
            "redirect_uri" => self.redirect_uri.is_some(),
            "post_logout_redirect_uri" => self.post_logout_redirect_uri.is_some(),
            "id_token_signing_algs" => self.id_token_signing_algs.is_some(),
            "trusted_audiences" => self.trusted_audiences.is_some(),
            "allowed_tenants" => self.allowed_tenants.is_some(),
            "authorization_params" => self.authorization_params.is_some(),
            "fetch_userinfo" => self.fetch_userinfo.is_some(),
            "check_credentials" => self.check_credentials.is_some(),
            "keep_access_token" => self.keep_access_token.is_some(),
            "keep_refresh_token" => self.keep_refresh_token.is_some(),
            _ => false,
        }
    }

    /// The effective configuration of provider `name`: `top` with this table's keys over it.
    fn effective(&self, name: &str, top: &Config) -> Config {
        fn or<T: Clone>(own: &Option<T>, inherited: &T) -> T {
            own.clone().unwrap_or_else(|| inherited.clone())
        }
        Config {
            issuer: self.issuer.clone().unwrap_or_default(),
            client_id: self.client_id.clone().unwrap_or_default(),
            client_secret: self.client_secret.clone(),
            client_auth_method: self.client_auth_method.or(top.client_auth_method),
            // A provider's credentials are its own, like its secret.
            client_key_file: self.client_key_file.clone(),
            client_key: self.client_key.clone(),
            client_key_id: self.client_key_id.clone(),
            client_key_alg: self.client_key_alg.clone(),
            apple_team_id: self.apple_team_id.clone(),
            response_mode: or(&self.response_mode, &top.response_mode),
            scopes: or(&self.scopes, &top.scopes),
            callback_path: self
                .callback_path
                .clone()
                .unwrap_or_else(|| sub_path(&top.callback_path, name)),
            redirect_uri: self.redirect_uri.clone(),
            post_logout_redirect_uri: self
                .post_logout_redirect_uri
                .clone()
                .or_else(|| top.post_logout_redirect_uri.clone()),
            id_token_signing_algs: or(&self.id_token_signing_algs, &top.id_token_signing_algs),
            trusted_audiences: or(&self.trusted_audiences, &top.trusted_audiences),
            allowed_tenants: or(&self.allowed_tenants, &top.allowed_tenants),
            authorization_params: or(&self.authorization_params, &top.authorization_params),
            fetch_userinfo: or(&self.fetch_userinfo, &top.fetch_userinfo),
            check_credentials: or(&self.check_credentials, &top.check_credentials),
            keep_access_token: or(&self.keep_access_token, &top.keep_access_token),
            keep_refresh_token: or(&self.keep_refresh_token, &top.keep_refresh_token),
            default_provider: None,
            providers: BTreeMap::new(),
            ..top.clone_app_settings()
        }
    }
}

/// `Debug` leaves the secret out.
impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("display_name", &self.display_name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
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
            .field("scopes", &self.scopes)
            .field("callback_path", &self.callback_path)
            .field("redirect_uri", &self.redirect_uri)
            .field("post_logout_redirect_uri", &self.post_logout_redirect_uri)
            .field("id_token_signing_algs", &self.id_token_signing_algs)
            .field("trusted_audiences", &self.trusted_audiences)
            .field("allowed_tenants", &self.allowed_tenants)
            .field("authorization_params", &self.authorization_params)
            .field("fetch_userinfo", &self.fetch_userinfo)
            .field("check_credentials", &self.check_credentials)
            .field("keep_access_token", &self.keep_access_token)
            .field("keep_refresh_token", &self.keep_refresh_token)
            .finish()
    }
}

impl Config {
    /// The app's own settings, with the per-provider ones at their defaults (the base of an
    /// effective provider configuration; the map of providers is left out, it can be large).
    fn clone_app_settings(&self) -> Config {
        Config {
            app_base_url: self.app_base_url.clone(),
            login_path: self.login_path.clone(),
            callback_path: self.callback_path.clone(),
            logout_path: self.logout_path.clone(),
            clock_skew_secs: self.clock_skew_secs,
            http_timeout_secs: self.http_timeout_secs,
            session_idle_timeout_secs: self.session_idle_timeout_secs,
            session_absolute_timeout_secs: self.session_absolute_timeout_secs,
            login_timeout_secs: self.login_timeout_secs,
            max_pending_logins: self.max_pending_logins,
            cookie_prefix: self.cookie_prefix.clone(),
            failure_redirect: self.failure_redirect.clone(),
            insecure_allow_http: self.insecure_allow_http,
            refresh: self.refresh.clone(),
            backchannel_logout: self.backchannel_logout.clone(),
            store: self.store.clone(),
            ..Config::default()
        }
    }
}

/// `base` + `/` + `name`: the path of provider `name`'s route under `base` (`/login/okta`;
/// `/okta` under `/`).
pub(crate) fn sub_path(base: &str, name: &str) -> String {
    format!("{}/{name}", base.trim_end_matches('/'))
}

/// The longest provider name: it is part of paths, environment variables and every session.
pub(crate) const MAX_NAME_LEN: usize = 32;

/// A provider's name, checked (1 to 32 of `a`–`z`, `0`–`9`, `_`, starting with a
/// letter) and stored inline: the guard reads it from every session without allocating.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProviderName {
    len: u8,
    bytes: [u8; MAX_NAME_LEN],
}

impl ProviderName {
    /// The name of the one provider of a configuration without provider tables, and of the
    /// provider a session or login names none for (so that a provider table named `default`
    /// keeps the sessions of an app that moves to provider tables).
    pub(crate) const DEFAULT: &'static str = "default";

    /// [`ProviderName::DEFAULT`] as a name.
    pub(crate) const DEFAULT_NAME: ProviderName = {
        let text = Self::DEFAULT.as_bytes();
        let mut bytes = [0; MAX_NAME_LEN];
        let mut i = 0;
        while i < text.len() {
            bytes[i] = text[i];
            i += 1;
        }
        ProviderName {
            len: text.len() as u8,
            bytes,
        }
    };

    /// `name`, if it is a valid provider name.
    pub(crate) fn new(name: &str) -> Option<ProviderName> {
        if !is_valid_name(name) {
            return None;
        }
        let mut bytes = [0; MAX_NAME_LEN];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Some(ProviderName {
            len: name.len() as u8,
            bytes,
        })
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored (`is_valid_name`).
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }

    /// Whether this is [`ProviderName::DEFAULT`], which sessions and logins leave unnamed.
    pub(crate) fn is_default(&self) -> bool {
        self.as_str() == Self::DEFAULT
    }
}

impl fmt::Debug for ProviderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ProviderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ProviderName {
    fn serialize<S: rocket::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProviderName {
    fn deserialize<D: rocket::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl rocket::serde::de::Visitor<'_> for Name {
            type Value = ProviderName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a provider name")
            }
            fn visit_str<E: rocket::serde::de::Error>(self, v: &str) -> Result<ProviderName, E> {
                ProviderName::new(v).ok_or_else(|| E::custom("not a provider name"))
            }
        }
        d.deserialize_str(Name)
    }
}

/// Whether `name` may name a provider: it appears in paths, environment variable names (which
/// Rocket lowercases) and sessions.
fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME_LEN
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A configuration resolved into its providers, each with its effective configuration.
pub(crate) struct Resolved {
    /// The top-level settings (the app's own; for a configuration without provider tables,
    /// all of them).
    pub app: Config,
    /// The providers, in name order; exactly one without provider tables.
    pub providers: Vec<ResolvedProvider>,
    /// Whether the providers come from provider tables (several routes, named sessions).
    pub named: bool,
    /// Which provider `/login` goes to without asking: `default_provider`, or the only one.
    pub default: Option<usize>,
}

/// One provider of a [`Resolved`] configuration.
pub(crate) struct ResolvedProvider {
    /// Its name ([`ProviderName::DEFAULT`] without provider tables).
    pub name: ProviderName,
    /// What the sign-in page calls it.
    pub display_name: String,
    /// Its effective configuration: the app's settings and its own.
    pub config: Config,
}

impl Config {
    /// Validates and resolves the configuration into its providers.
    pub(crate) fn resolve(&self) -> Result<Resolved, ConfigError> {
        self.validate()?;
        if self.providers.is_empty() {
            return Ok(Resolved {
                app: self.clone(),
                providers: vec![ResolvedProvider {
                    name: ProviderName::DEFAULT_NAME,
                    display_name: ProviderName::DEFAULT.into(),
                    config: self.clone(),
                }],
                named: false,
                default: Some(0),
            });
        }
        let mut providers = Vec::with_capacity(self.providers.len());
        for (name, table) in &self.providers {
            providers.push(ResolvedProvider {
                name: ProviderName::new(name).ok_or_else(unreachable_name)?,
                display_name: table.display_name.clone().unwrap_or_else(|| name.clone()),
                config: table.effective(name, self),
            });
        }
        let default = match &self.default_provider {
            Some(name) => providers.iter().position(|p| p.name.as_str() == name),
            None if providers.len() == 1 => Some(0),
            None => None,
        };
        Ok(Resolved {
            app: Config {
                providers: BTreeMap::new(),
                ..self.clone()
            },
            providers,
            named: true,
            default,
        })
    }
}

/// Validation accepted a name that [`ProviderName::new`] refuses: a bug, reported rather than
/// panicking.
fn unreachable_name() -> ConfigError {
    ConfigError {
        problems: vec![ConfigProblem::new(
            "oidc.providers".into(),
            "a provider name passed validation but cannot be used (a bug: please report it)".into(),
        )],
    }
}

/// Every problem of `config` ([`Config::validate()`]).
pub(super) fn problems(config: &Config) -> Vec<ConfigProblem> {
    if config.providers.is_empty() {
        let mut problems = validate::all(config, Scope::Single);
        if config.default_provider.is_some() {
            problems.push(ConfigProblem::new(
                "oidc.default_provider".into(),
                "default_provider names a provider table, but there are none \
                 ([default.oidc.providers.NAME]); remove it."
                    .into(),
            ));
        }
        return problems;
    }
    let mut problems = validate::all(config, Scope::App);
    for (key, set) in [
        ("issuer", !config.issuer.is_empty()),
        ("client_id", !config.client_id.is_empty()),
        ("client_secret", config.client_secret.is_some()),
        ("redirect_uri", config.redirect_uri.is_some()),
        ("client_key_file", config.client_key_file.is_some()),
        ("client_key", config.client_key.is_some()),
        ("client_key_id", config.client_key_id.is_some()),
        ("client_key_alg", config.client_key_alg.is_some()),
        ("apple_team_id", config.apple_team_id.is_some()),
    ] {
        if set {
            problems.push(ConfigProblem::new(
                format!("oidc.{key}"),
                format!(
                    "With provider tables, each provider has its own {key}: move it into \
                     [default.oidc.providers.NAME] (ROCKET_OIDC_PROVIDERS_<NAME>_{}).",
                    key.to_ascii_uppercase()
                ),
            ));
        }
    }
    for (name, table) in &config.providers {
        if !is_valid_name(name) {
            problems.push(ConfigProblem::new(
                format!("oidc.providers.{}", crate::util::truncate(name, 64)),
                format!(
                    "{:?} is not a provider name: use 1 to {MAX_NAME_LEN} characters of a-z, \
                     0-9 and _, starting with a letter (it appears in paths such as \
                     /login/NAME and in environment variables such as \
                     ROCKET_OIDC_PROVIDERS_NAME_CLIENT_SECRET).",
                    crate::util::truncate(name, 64)
                ),
            ));
            continue;
        }
        let effective = table.effective(name, config);
        problems.extend(validate::all(&effective, Scope::Provider { name, table }));
        if table
            .display_name
            .as_deref()
            .is_some_and(|d| d.trim().is_empty())
        {
            problems.push(ConfigProblem::new(
                format!("oidc.providers.{name}.display_name"),
                "Your display_name is empty; remove it to show the provider's name.".into(),
            ));
        }
    }
    if let Some(default) = &config.default_provider {
        if !config.providers.contains_key(default) {
            problems.push(ConfigProblem::new(
                "oidc.default_provider".into(),
                format!(
                    "default_provider is {:?}, which is not a provider: use one of {}.",
                    crate::util::truncate(default, 64),
                    names(config)
                ),
            ));
        }
    }
    problems.extend(route_clashes(config));
    // A key inherited by several providers is reported once.
    let mut seen = BTreeSet::new();
    problems.retain(|p| seen.insert((p.key.clone(), p.message.clone())));
    problems
}

/// The provider names, for messages.
fn names(config: &Config) -> String {
    config
        .providers
        .keys()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every path the routes of a configuration with provider tables are mounted at must be its
/// own. So every provider has its own redirect URI too (its path is the callback path, which
/// validation checks): the path the provider redirects to is what tells the callback which
/// provider answered (the mix-up defence of RFC 9700 §4.4.2).
fn route_clashes(config: &Config) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    // (path, key, what it is)
    let mut routes: Vec<(String, String, String)> = vec![
        (
            config.login_path.clone(),
            "oidc.login_path".into(),
            "the login path".into(),
        ),
        (
            config.logout_path.clone(),
            "oidc.logout_path".into(),
            "the logout path".into(),
        ),
    ];
    for (name, table) in &config.providers {
        if !is_valid_name(name) {
            continue;
        }
        let effective = table.effective(name, config);
        routes.push((
            sub_path(&config.login_path, name),
            "oidc.login_path".into(),
            format!("the login path of provider `{name}`"),
        ));
        let key = format!("oidc.providers.{name}.callback_path");
        if path_problem(&effective.callback_path).is_none() {
            routes.push((
                effective.callback_path.clone(),
                key,
                format!("the callback path of provider `{name}`"),
            ));
        }
        if path_problem(&config.backchannel_logout.path).is_none() {
            routes.push((
                sub_path(&config.backchannel_logout.path, name),
                "oidc.backchannel_logout".into(),
                format!("the back-channel logout path of provider `{name}`"),
            ));
        }
    }
    for (i, (path, key, what)) in routes.iter().enumerate() {
        if let Some((_, _, other)) = routes[..i].iter().find(|(p, _, _)| p == path) {
            let fix = if what.contains("callback") {
                " (set callback_path in the provider's table)"
            } else {
                ""
            };
            problems.push(ConfigProblem::new(
                key.clone(),
                format!("{path} is both {other} and {what}: give each route its own path{fix}."),
            ));
        }
    }
    if let Some(target) = config.failure_redirect.as_deref() {
        if let Some((_, _, what)) = routes.iter().find(|(p, _, _)| p == target) {
            problems.push(ConfigProblem::new(
                "oidc.failure_redirect".into(),
                format!(
                    "Your failure_redirect must not be a route of the login ({target} is \
                     {what}): a failing login would start over and over."
                ),
            ));
        }
    }
    problems
}

/// Rewrites a message about one provider's settings (written with the top-level names,
/// `oidc.client_secret` and `ROCKET_OIDC_CLIENT_SECRET`) to name that provider's
/// (`oidc.providers.okta.client_secret`, `ROCKET_OIDC_PROVIDERS_OKTA_CLIENT_SECRET`). Only the
/// per-provider keys are rewritten: the app's own (`oidc.http_timeout_secs`) stay as they are.
pub(crate) fn scope_message(message: &str, provider: &str) -> String {
    let upper = provider.to_ascii_uppercase();
    let mut out = String::with_capacity(message.len() + 64);
    let mut rest = message;
    while !rest.is_empty() {
        let next = [rest.find("oidc."), rest.find("ROCKET_OIDC_")]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (prefix, env) = if rest.starts_with("oidc.") {
            ("oidc.", false)
        } else {
            ("ROCKET_OIDC_", true)
        };
        let after = &rest[prefix.len()..];
        let key_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let key = &after[..key_len];
        let per_provider = PROVIDER_KEYS.iter().any(|k| {
            if env {
                k.eq_ignore_ascii_case(key)
            } else {
                *k == key
            }
        });
        let preceded = out
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if per_provider && !preceded {
            if env {
                out.push_str(&format!("ROCKET_OIDC_PROVIDERS_{upper}_{key}"));
            } else {
                out.push_str(&format!("oidc.providers.{provider}.{key}"));
            }
        } else {
            out.push_str(&rest[..prefix.len() + key_len]);
        }
        rest = &after[key_len..];
    }
    out
}

/// The position of a problem's key, to sort problems: the top level's keys in declaration
/// order (the table itself first), then each provider's, by name.
pub(super) fn order(key: &str) -> (u8, String, Option<usize>) {
    let position = |bare: &str| {
        KEYS.iter()
            .position(|k| k.strip_prefix("oidc.") == Some(bare))
    };
    match key.strip_prefix("oidc.providers.") {
        Some(rest) => {
            let (name, bare) = rest.split_once('.').unwrap_or((rest, ""));
            let position = match bare {
                "display_name" => Some(0),
                "" => None,
                bare => position(bare).map(|p| p + 1),
            };
            (1, name.to_owned(), position)
        }
        None => (
            0,
            String::new(),
            // A key of a nested table (`oidc.refresh.skew_secs`) sorts with the table.
            key.strip_prefix("oidc.")
                .and_then(|bare| position(bare.split('.').next().unwrap_or(bare))),
        ),
    }
}

#[cfg(test)]
mod tests;
