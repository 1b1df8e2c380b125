//! The checks of [`Config::validate()`], one function per key or group of keys.
//!
//! The first checks and their wording follow Okta's `@okta/configuration-validation`
//! (`packages/configuration-validation/src/lib.js` in okta/okta-oidc-js, used by
//! `@okta/oidc-middleware`): `assertIssuer` (missing, https, `{yourOktaDomain}`, `-admin`,
//! `.com.com` or two schemes), `assertClientId`, `assertClientSecret`, `assertRedirectUri` and
//! `assertAppBaseUrl` (missing, placeholder, no protocol, trailing `/`). Unlike it, every problem
//! is reported, not only the first, and the rest are ours.
//!
//! With provider tables the same checks run in a [`Scope`]: once for the app's own keys at the
//! top level, and once per provider for its keys on its effective configuration, so that each
//! problem names the table it must be fixed in.

use url::Url;

use crate::util;

use super::{
    is_loopback, parse_signing_alg, ClientAuthMethod, Config, ConfigProblem, ProviderConfig,
    KNOWN_SIGNING_ALGS, MAX_CLOCK_SKEW_SECS, MAX_PENDING_LOGINS, MAX_SECS,
};

const FIND_DOMAIN: &str = "For Okta, copy your domain from the Okta Developer Console: \
    https://bit.ly/finding-okta-domain";

const FIND_CREDENTIALS: &str = "You can copy it from your provider's console, in the details \
    of the application you created (for Okta: https://bit.ly/finding-okta-app-credentials).";

/// The placeholders of Okta's samples, and what replaces them.
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("{yourOktaDomain}", "your Okta domain"),
    ("{clientId}", "the client ID of your application"),
    ("{clientSecret}", "the client secret of your application"),
    ("{appBaseUrl}", "the base URL of your application"),
    ("{redirectUri}", "the redirect URI of your application"),
];

/// The authorization request parameters the crate sets itself, which
/// `authorization_params` must not give (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1;
/// `request`/`request_uri` would replace them all, RFC 9101).
pub(super) const RESERVED_AUTHORIZATION_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "login_hint",
    "response_mode",
    "request",
    "request_uri",
];

/// Which keys a run of the checks covers, and how it names them.
#[derive(Clone, Copy)]
pub(super) enum Scope<'a> {
    /// A configuration without provider tables: every check; keys `oidc.<key>`.
    Single,
    /// The top level of a configuration with provider tables: the app's own keys.
    App,
    /// Provider table `name`, checked on its effective configuration: its keys only. A key the
    /// table inherits from the top level is named there (`oidc.<key>`); the provider's own
    /// credentials, callback and redirect URI are always named in the table.
    Provider {
        name: &'a str,
        table: &'a ProviderConfig,
    },
}

impl Scope<'_> {
    fn provider_checks(&self) -> bool {
        !matches!(self, Scope::App)
    }

    fn app_checks(&self) -> bool {
        !matches!(self, Scope::Provider { .. })
    }

    /// The qualified name of the bare `key` in this scope.
    pub(super) fn qualify(&self, key: &str) -> String {
        match self {
            Scope::Provider { name, table }
                if matches!(
                    key,
                    "issuer"
                        | "client_id"
                        | "client_secret"
                        | "callback_path"
                        | "redirect_uri"
                        | "client_key_file"
                        | "client_key"
                        | "client_key_id"
                        | "client_key_alg"
                        | "apple_team_id"
                ) || table.sets(key) =>
            {
                format!("oidc.providers.{name}.{key}")
            }
            _ => format!("oidc.{key}"),
        }
    }

    /// The table a user sets the provider's keys in, for messages.
    pub(super) fn table(&self) -> String {
        match self {
            Scope::Provider { name, .. } => format!("[default.oidc.providers.{name}]"),
            _ => "[default.oidc]".into(),
        }
    }

    /// The environment variable of the provider's `key`, for messages.
    pub(super) fn env(&self, key: &str) -> String {
        match self {
            Scope::Provider { name, .. } => format!(
                "ROCKET_OIDC_PROVIDERS_{}_{}",
                name.to_ascii_uppercase(),
                key.to_ascii_uppercase()
            ),
            _ => format!("ROCKET_OIDC_{}", key.to_ascii_uppercase()),
        }
    }
}

/// Every problem of `config` within `scope`, in the order of the keys.
pub(super) fn all(config: &Config, scope: Scope<'_>) -> Vec<ConfigProblem> {
    let mut out = Problems {
        scope,
        list: Vec::new(),
    };
    if scope.provider_checks() {
        issuer(config, &mut out);
        client_id(config, &mut out);
        client_secret(config, &mut out);
        super::credentials::check(config, &mut out);
    }
    if scope.app_checks() {
        app_base_url(config, &mut out);
    }
    if scope.provider_checks() {
        scopes(config, &mut out);
    }
    paths(config, &mut out);
    if scope.provider_checks() {
        redirect_uri(config, &mut out);
        post_logout_redirect_uri(config, &mut out);
    }
    if scope.app_checks() {
        durations(config, &mut out);
        cookie_prefix(config, &mut out);
    }
    if scope.provider_checks() {
        signing_algs(config, &mut out);
        trusted_audiences(config, &mut out);
        allowed_tenants(config, &mut out);
        authorization_params(config, &mut out);
    }
    if scope.app_checks() {
        failure_redirect(config, &mut out);
        // `[default.oidc.refresh]` is the app's: one policy for every provider's sessions.
        for (key, message) in super::refresh::problems(&config.refresh) {
            out.push(key.strip_prefix("oidc.").unwrap_or(key), message);
        }
        out.list.extend(super::revocation::problems(
            config,
            matches!(scope, Scope::Single),
        ));
    }
    out.list
}

/// Whether `value` passes the checks of `oidc.issuer`, with `insecure_allow_http` as given: a
/// message must never advise an issuer that validation then rejects.
pub(crate) fn issuer_is_valid(value: &str, insecure_allow_http: bool) -> bool {
    let config = Config {
        issuer: value.to_owned(),
        insecure_allow_http,
        ..Config::default()
    };
    let mut out = Problems {
        scope: Scope::Single,
        list: Vec::new(),
    };
    issuer(&config, &mut out);
    out.list.is_empty()
}

pub(super) struct Problems<'a> {
    pub(super) scope: Scope<'a>,
    list: Vec<ConfigProblem>,
}

impl Problems<'_> {
    /// A problem of the bare `key`, named as the scope names it.
    pub(super) fn push(&mut self, key: &str, message: String) {
        let key = self.scope.qualify(key);
        self.list.push(ConfigProblem::new(key, message));
    }
}

/// Problems with the placeholders left in `value`; for URLs, any `{...}` is one.
fn placeholders(key: &str, value: &str, is_url: bool, out: &mut Problems<'_>) -> bool {
    let mut found = false;
    for (placeholder, what) in PLACEHOLDERS {
        if value.contains(placeholder) {
            out.push(key, format!("Replace {placeholder} with {what}."));
            found = true;
        }
    }
    if is_url && !found {
        if let Some(start) = value.find('{') {
            if let Some(len) = value[start..].find('}') {
                let placeholder = &value[start..=start + len];
                out.push(
                    key,
                    format!("Replace the placeholder {placeholder} with a real value. Current value: {value}."),
                );
                found = true;
            }
        }
    }
    found
}

/// The common checks of an absolute http(s) URL, `Some(url)` when it parses.
fn web_url(
    key: &str,
    name: &str,
    value: &str,
    config: &Config,
    out: &mut Problems<'_>,
) -> Option<Url> {
    if !value.contains("://") {
        out.push(
            key,
            format!("Your {name} must contain a scheme (e.g. https://). Current value: {value}."),
        );
        return None;
    }
    let after_scheme = &value[value.find("://").unwrap_or(0) + 3..];
    let lower = after_scheme.to_ascii_lowercase();
    if lower.starts_with("http:") || lower.starts_with("https:") {
        out.push(
            key,
            format!("It looks like there's a typo in your {name}: it has two schemes. Current value: {value}."),
        );
        return None;
    }
    let url = match Url::parse(value) {
        Ok(url) => url,
        Err(e) => {
            out.push(
                key,
                format!("Your {name} is not a valid URL ({e}). Current value: {value}."),
            );
            return None;
        }
    };
    if let Some(host) = url.host_str() {
        let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
        if let [.., a, b] = labels[..] {
            if a.eq_ignore_ascii_case(b) && a.chars().all(|c| c.is_ascii_alphabetic()) {
                out.push(
                    key,
                    format!("It looks like there's a typo in your {name}: `.{a}.{b}`. Current value: {value}."),
                );
            }
        }
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) || config.insecure_allow_http => {}
        "http" => out.push(
            key,
            format!(
                "Your {name} must start with https. Current value: {value}. Plain http is \
                 allowed only for loopback hosts (localhost, 127.0.0.1, [::1]), or with \
                 insecure_allow_http = true on a trusted test network."
            ),
        ),
        other => out.push(
            key,
            format!("Your {name} must be an https URL, not {other}. Current value: {value}."),
        ),
    }
    if url.host().is_none() {
        out.push(
            key,
            format!("Your {name} has no host. Current value: {value}."),
        );
    }
    if !url.username().is_empty() || url.password().is_some() {
        out.push(
            key,
            format!(
                "Your {name} must not contain a user name or password; remove the part before `@`."
            ),
        );
    }
    Some(url)
}

fn issuer(config: &Config, out: &mut Problems<'_>) {
    const KEY: &str = "issuer";
    let value = config.issuer.as_str();
    if value.trim().is_empty() {
        out.push(
            KEY,
            format!(
                "Your issuer URL is missing. Set `issuer` in the {} table of Rocket.toml or \
                 {}, e.g. https://dev-123456.okta.com/oauth2/default. {FIND_DOMAIN}",
                out.scope.table(),
                out.scope.env("issuer")
            ),
        );
        return;
    }
    if placeholders(KEY, value, true, out) {
        return;
    }
    let Some(url) = web_url(KEY, "issuer URL", value, config, out) else {
        return;
    };
    if let Some(host) = url.host_str() {
        let lower = host.to_ascii_lowercase();
        let okta = [".okta.com", ".oktapreview.com", ".okta-emea.com"];
        if lower.contains("-admin.") && okta.iter().any(|d| lower.ends_with(d)) {
            out.push(
                KEY,
                format!(
                    "Your Okta domain should not contain -admin: {host} is the Okta admin \
                     console. Remove -admin: {}. {FIND_DOMAIN}",
                    value.replacen("-admin.", ".", 1)
                ),
            );
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        out.push(
            KEY,
            format!(
                "Your issuer URL must not contain a query (`?...`) or fragment (`#...`); \
                 remove them. Current value: {value}."
            ),
        );
    }
}

fn client_id(config: &Config, out: &mut Problems<'_>) {
    const KEY: &str = "client_id";
    let value = config.client_id.as_str();
    if value.trim().is_empty() {
        out.push(
            KEY,
            format!(
                "Your client ID is missing. Set `client_id` in the {} table of Rocket.toml or \
                 {}. {FIND_CREDENTIALS}",
                out.scope.table(),
                out.scope.env("client_id")
            ),
        );
    } else if !placeholders(KEY, value, false, out) && value.trim() != value {
        out.push(
            KEY,
            "Your client ID has leading or trailing whitespace; remove it.".into(),
        );
    }
}

fn client_secret(config: &Config, out: &mut Problems<'_>) {
    const KEY: &str = "client_secret";
    let secret = config.client_secret.as_deref();
    // A client key replaces the secret; credentials.rs checks that combination.
    if config.authenticates_with_key() {
        return;
    }
    if config.client_auth_method == Some(ClientAuthMethod::None) {
        if secret.is_some() {
            out.push(
                KEY,
                "A client secret is set, but client_auth_method is \"none\" (a public client, \
                 which has no secret). Remove the secret, or remove client_auth_method to let \
                 the crate choose a method the provider lists (or set it to \
                 \"client_secret_basic\" or \"client_secret_post\")."
                    .into(),
            );
        }
        return;
    }
    match secret.filter(|s| !s.trim().is_empty()) {
        None => out.push(
            KEY,
            format!(
                "Your client secret is missing. Set the environment variable {} (better than \
                 Rocket.toml, which tends to end up in version control), or set \
                 client_auth_method = \"none\" for a public client. {FIND_CREDENTIALS}",
                out.scope.env("client_secret")
            ),
        ),
        // The secret itself is never echoed: messages end up in logs.
        Some(secret) => {
            if !placeholders(KEY, secret, false, out) && secret.trim() != secret {
                out.push(
                    KEY,
                    "Your client secret has leading or trailing whitespace; remove it.".into(),
                );
            }
        }
    }
}

fn app_base_url(config: &Config, out: &mut Problems<'_>) {
    const KEY: &str = "app_base_url";
    let value = config.app_base_url.as_str();
    if value.trim().is_empty() {
        out.push(
            KEY,
            "Your app_base_url is missing. Set it to the URL at which users reach your app, \
             e.g. http://localhost:8000 or https://app.example.com."
                .into(),
        );
        return;
    }
    if placeholders(KEY, value, true, out) {
        return;
    }
    if value.ends_with('/') && value.contains("://") {
        out.push(
            KEY,
            format!(
                "Your app_base_url must not end in a '/'. Current value: {value}. Use {}.",
                value.trim_end_matches('/')
            ),
        );
    }
    let Some(url) = web_url(KEY, "app_base_url", value, config, out) else {
        return;
    };
    let path = url.path().trim_end_matches('/');
    if !path.is_empty() || url.query().is_some() || url.fragment().is_some() {
        out.push(
            KEY,
            format!(
                "Your app_base_url must be an origin only (scheme, host and optional port): \
                 remove `{}`. Current value: {value}.",
                &url[url::Position::BeforePath..].trim_end_matches('/'),
            ),
        );
        return;
    }
    // Browsers send the Origin header in its serialized form (lowercase, no default port,
    // punycode); logout compares it with app_base_url, so the two must be written alike.
    let origin = url.origin().ascii_serialization();
    let has_credentials = !url.username().is_empty() || url.password().is_some();
    if origin != value && !value.ends_with('/') && !has_credentials {
        out.push(
            KEY,
            format!(
                "Your app_base_url must be written as browsers send it in the Origin header: \
                 use {origin} (current value: {value})."
            ),
        );
    }
}

fn scopes(config: &Config, out: &mut Problems<'_>) {
    const KEY: &str = "scopes";
    if !config.scopes.iter().any(|s| s == "openid") {
        out.push(
            KEY,
            "Your scopes must include \"openid\", or the provider sends no ID token, e.g. \
             scopes = [\"openid\", \"profile\", \"email\"]."
                .into(),
        );
    }
    for scope in &config.scopes {
        if scope.is_empty() || scope.contains(char::is_whitespace) || scope.contains('"') {
            out.push(
                KEY,
                format!("The scope {scope:?} is not valid: list each scope as its own string, without spaces or quotes."),
            );
        }
    }
}

fn paths(config: &Config, out: &mut Problems<'_>) {
    let paths = [
        ("login_path", &config.login_path, "/login"),
        (
            "callback_path",
            &config.callback_path,
            "/authorization-code/callback",
        ),
        ("logout_path", &config.logout_path, "/logout"),
    ];
    for (i, (name, path, example)) in paths.iter().enumerate() {
        let checked = match out.scope {
            Scope::Single | Scope::App => true,
            // A provider's own callback path; the derived one (`<callback_path>/<name>`) is
            // good when the top level's is.
            Scope::Provider { table, .. } => *name == "callback_path" && table.sets(name),
        };
        if !checked {
            continue;
        }
        if let Some(message) = path_problem(path) {
            out.push(
                name,
                format!("Your {name} {message}, e.g. {example}. Current value: {path:?}."),
            );
            continue;
        }
        // With provider tables the callback path at the top level is only the base of the
        // providers' ones; the checks of all mounted paths find clashes (`route_clashes`).
        if !matches!(out.scope, Scope::Single) {
            continue;
        }
        for (other, other_path, _) in &paths[..i] {
            if other_path == path {
                out.push(
                    name,
                    format!("Your {name} must differ from {other}: both are {path}."),
                );
            }
        }
    }
}

/// What is wrong with a route path, if anything.
pub(super) fn path_problem(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        Some("must start with '/'")
    } else if path.contains(['?', '#']) {
        Some("must be a path only, without '?' or '#'")
    } else if !path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '.' | '_' | '~'))
    {
        Some("may contain only letters, digits, '-', '.', '_', '~' and '/'")
    } else if path.contains("//") || (path.len() > 1 && path.ends_with('/')) {
        Some("must not contain empty segments or end in '/'")
    } else if path.split('/').any(|s| s == "." || s == "..") {
        Some("must not contain '.' or '..' segments")
    } else {
        None
    }
}

fn redirect_uri(config: &Config, out: &mut Problems<'_>) {
    const KEY: &str = "redirect_uri";
    let Some(value) = config.redirect_uri.as_deref() else {
        return;
    };
    if value.trim().is_empty() {
        out.push(
            KEY,
            "Your redirect URI is empty. Remove redirect_uri to use app_base_url + callback_path."
                .into(),
        );
        return;
    }
    if placeholders(KEY, value, true, out) {
        return;
    }
    let Some(url) = web_url(KEY, "redirect URI", value, config, out) else {
        return;
    };
    if url.fragment().is_some() {
        out.push(
            KEY,
            format!("Your redirect URI must not contain a fragment (`#...`), RFC 6749 §3.1.2. Current value: {value}."),
        );
    }
    if url.path() != config.callback_path {
        out.push(
            KEY,
            format!(
                "The path of your redirect URI ({}) differs from callback_path ({}), where the \
                 callback route is mounted: the provider would send users to a page that does \
                 not exist. Set callback_path = \"{}\", or remove redirect_uri.",
                url.path(),
                config.callback_path,
                url.path()
            ),
        );
    }
    if let Ok(base) = Url::parse(&config.app_base_url) {
        if base.origin() != url.origin() {
            out.push(
                KEY,
                format!(
                    "Your redirect URI must have the origin of app_base_url ({}): the login \
                     cookie is only sent back there. Use {}{}, or remove redirect_uri.",
                    base.origin().ascii_serialization(),
                    base.origin().ascii_serialization(),
                    config.callback_path
                ),
            );
        }
    }
}

fn post_logout_redirect_uri(config: &Config, out: &mut Problems<'_>) {
    const KEY: &str = "post_logout_redirect_uri";
    let Some(value) = config.post_logout_redirect_uri.as_deref() else {
        return;
    };
    if placeholders(KEY, value, true, out) {
        return;
    }
    if !value.contains("://") {
        out.push(
            KEY,
            format!(
                "Your post_logout_redirect_uri must be an absolute URL registered with your \
                 provider, e.g. {}/. Current value: {value}.",
                config.app_base_url
            ),
        );
        return;
    }
    web_url(KEY, "post_logout_redirect_uri", value, config, out);
}

fn durations(config: &Config, out: &mut Problems<'_>) {
    let timeouts = [
        ("http_timeout_secs", config.http_timeout_secs),
        (
            "session_idle_timeout_secs",
            config.session_idle_timeout_secs,
        ),
        (
            "session_absolute_timeout_secs",
            config.session_absolute_timeout_secs,
        ),
        ("login_timeout_secs", config.login_timeout_secs),
    ];
    for (key, secs) in timeouts {
        let name = key;
        if secs == 0 {
            out.push(key, format!("Your {name} must be at least 1 second."));
        } else if secs > MAX_SECS {
            out.push(
                key,
                format!("Your {name} must be at most {MAX_SECS} seconds (one year); it is {secs}."),
            );
        }
    }
    if config.session_idle_timeout_secs > config.session_absolute_timeout_secs {
        out.push(
            "session_idle_timeout_secs",
            format!(
                "Your session_idle_timeout_secs ({}) must not exceed \
                 session_absolute_timeout_secs ({}).",
                config.session_idle_timeout_secs, config.session_absolute_timeout_secs
            ),
        );
    }
    if config.clock_skew_secs > MAX_CLOCK_SKEW_SECS {
        out.push(
            "clock_skew_secs",
            format!(
                "Your clock_skew_secs must be at most {MAX_CLOCK_SKEW_SECS}; it is {}. More \
                 would keep expired ID tokens valid: fix the clock (NTP) instead.",
                config.clock_skew_secs
            ),
        );
    }
    if config.max_pending_logins == 0 || config.max_pending_logins > MAX_PENDING_LOGINS {
        out.push(
            "max_pending_logins",
            format!(
                "Your max_pending_logins must be between 1 and {MAX_PENDING_LOGINS}; it is {}. \
                 Each pending login is a cookie sent with every request to the app.",
                config.max_pending_logins
            ),
        );
    }
}

fn signing_algs(config: &Config, out: &mut Problems<'_>) {
    const KEY: &str = "id_token_signing_algs";
    if config.id_token_signing_algs.is_empty() {
        out.push(
            KEY,
            "Your id_token_signing_algs is empty: list the algorithms your provider signs ID \
             tokens with, e.g. [\"RS256\"], or remove the key for the default."
                .into(),
        );
    }
    let has_secret = config.client_auth_method != Some(ClientAuthMethod::None)
        && config
            .client_secret
            .as_deref()
            .is_some_and(|s| !s.is_empty());
    for alg in &config.id_token_signing_algs {
        if alg.eq_ignore_ascii_case("none") {
            out.push(
                KEY,
                "\"none\" is never accepted: anyone could forge an unsigned ID token. Remove it."
                    .into(),
            );
        } else if alg == "ES512" {
            out.push(
                KEY,
                "ES512 is not supported (openidconnect cannot verify P-521 signatures); remove \
                 it and have your provider sign with ES256, ES384, RS256 or EdDSA."
                    .into(),
            );
        } else if parse_signing_alg(alg).is_none() {
            let hint = match KNOWN_SIGNING_ALGS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(alg))
            {
                Some(known) => format!(" Did you mean {known}?"),
                None => String::new(),
            };
            out.push(
                KEY,
                format!(
                    "{alg:?} is not a signing algorithm this crate verifies.{hint} Use some of {}.",
                    KNOWN_SIGNING_ALGS.join(", ")
                ),
            );
        } else if alg.starts_with("HS") && !has_secret {
            out.push(
                KEY,
                format!("{alg} is keyed with the client secret, but there is no client secret; remove {alg}."),
            );
        }
    }
}

fn trusted_audiences(config: &Config, out: &mut Problems<'_>) {
    if config.trusted_audiences.iter().any(|a| a.trim().is_empty()) {
        out.push(
            "trusted_audiences",
            "Your trusted_audiences contains an empty value; remove it.".into(),
        );
    }
}

fn failure_redirect(config: &Config, out: &mut Problems<'_>) {
    const KEY: &str = "failure_redirect";
    let Some(path) = config.failure_redirect.as_deref() else {
        return;
    };
    if let Some(message) = path_problem(path) {
        out.push(
            KEY,
            format!(
                "Your failure_redirect must be a path of this app, such as /login-failed (the \
                 browser is sent there with ?error=<code>): it {message}. Current value: {path:?}."
            ),
        );
    } else if path == config.login_path || path == config.callback_path {
        out.push(
            KEY,
            format!(
                "Your failure_redirect must not be the login or callback path ({path}): a \
                 failing login would start over and over."
            ),
        );
    }
}

/// Whether `value` holds a `{…}` placeholder (as a multi-tenant issuer template does).
pub(crate) fn has_placeholder(value: &str) -> bool {
    value
        .find('{')
        .is_some_and(|start| value[start..].contains('}'))
}

/// Whether `value` is a GUID in its usual text form, `8-4-4-4-12` hex digits: what Entra ID
/// puts in `tid` (and in its issuer URLs).
pub(crate) fn is_guid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn allowed_tenants(config: &Config, out: &mut Problems<'_>) {
    const KEY: &str = "allowed_tenants";
    for tenant in &config.allowed_tenants {
        if !is_guid(tenant) {
            out.push(
                KEY,
                format!(
                    "{:?} is not a tenant ID: list the tenant IDs (GUIDs such as \
                     72f988bf-86f1-41af-91ab-2d7cd011db47; Entra admin center > Overview > \
                     Tenant ID) of the organizations whose users may sign in, not their domain \
                     names: ID tokens carry the ID in `tid`.",
                    crate::util::truncate(tenant, 64)
                ),
            );
        }
    }
}

fn authorization_params(config: &Config, out: &mut Problems<'_>) {
    const KEY: &str = "authorization_params";
    for (name, value) in &config.authorization_params {
        if name.is_empty() {
            out.push(KEY, "A parameter has an empty name; remove it.".into());
        } else if RESERVED_AUTHORIZATION_PARAMS.contains(&name.as_str()) {
            let how = match name.as_str() {
                "scope" => " Set scopes instead.",
                "redirect_uri" => " Set redirect_uri instead.",
                "login_hint" => " Pass it per login: /login?login_hint=...",
                "response_mode" => " Set response_mode instead.",
                _ => "",
            };
            out.push(
                KEY,
                format!("`{name}` is set by this crate and cannot be given here; remove it.{how}"),
            );
        } else if name == "prompt"
            && config.scopes.iter().any(|s| s == "offline_access")
            && !value.split(' ').any(|p| p == "consent")
        {
            out.push(
                KEY,
                format!(
                    "prompt = {value:?} replaces the prompt=consent that offline_access needs \
                     (OpenID Connect Core §11): use a prompt that contains consent, or remove it."
                ),
            );
        }
    }
}

/// The default [`Config::cookie_prefix`]: the names of earlier releases.
pub(crate) const DEFAULT_COOKIE_PREFIX: &str = "oidc";

/// The longest [`Config::cookie_prefix`]: every session chunk is sized for the longest name it
/// can have, so each byte allowed here is a byte less per chunk for everybody.
pub(crate) const MAX_COOKIE_PREFIX_LEN: usize = 16;

/// Why `prefix` cannot be a [`Config::cookie_prefix`], if it cannot. Cookie names are tokens
/// (RFC 6265 §4.1.1); this takes a safe subset that no proxy or framework mangles, and leaves
/// `__` to the browser's own name prefixes (`__Host-`, `__Secure-`, RFC 6265bis §4.1.3, which
/// this crate adds itself on https and browsers match case-insensitively).
pub(crate) const fn cookie_prefix_problem(prefix: &str) -> Option<&'static str> {
    let bytes = prefix.as_bytes();
    if bytes.is_empty() {
        return Some("is empty");
    }
    if bytes.len() > MAX_COOKIE_PREFIX_LEN {
        return Some("is longer than 16 characters");
    }
    if bytes.len() >= 2 && bytes[0] == b'_' && bytes[1] == b'_' {
        return Some("starts with `__`, which browsers reserve for `__Host-` and `__Secure-`");
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Some("has a character other than ASCII letters, digits, `_` and `-`");
        }
        i += 1;
    }
    None
}

fn cookie_prefix(config: &Config, out: &mut Problems<'_>) {
    if let Some(problem) = cookie_prefix_problem(&config.cookie_prefix) {
        out.push(
            "cookie_prefix",
            format!(
                "Your cookie_prefix {problem}: use 1 to {MAX_COOKIE_PREFIX_LEN} ASCII letters, \
                 digits, `_` or `-`, such as \"billing\" (the cookies are then \
                 billing_session and billing_tx_*). Current value: {:?}.",
                util::truncate(&config.cookie_prefix, 40)
            ),
        );
    }
}
