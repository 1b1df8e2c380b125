//! The checks of [`Config::validate()`], one function per key or group of keys.
//!
//! The first checks and their wording follow Okta's `@okta/configuration-validation`
//! (`packages/configuration-validation/src/lib.js` in okta/okta-oidc-js, used by
//! `@okta/oidc-middleware`): `assertIssuer` (missing, https, `{yourOktaDomain}`, `-admin`,
//! `.com.com` or two schemes), `assertClientId`, `assertClientSecret`, `assertRedirectUri` and
//! `assertAppBaseUrl` (missing, placeholder, no protocol, trailing `/`). Unlike it, every problem
//! is reported, not only the first, and the rest are ours.

use url::Url;

use super::{
    is_loopback, parse_signing_alg, ClientAuthMethod, Config, ConfigProblem, KNOWN_SIGNING_ALGS,
    MAX_CLOCK_SKEW_SECS, MAX_PENDING_LOGINS, MAX_SECS,
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

/// Every problem of `config`, in the order of the keys.
pub(super) fn all(config: &Config) -> Vec<ConfigProblem> {
    let mut out = Problems(Vec::new());
    issuer(config, &mut out);
    client_id(config, &mut out);
    client_secret(config, &mut out);
    app_base_url(config, &mut out);
    scopes(config, &mut out);
    paths(config, &mut out);
    redirect_uri(config, &mut out);
    post_logout_redirect_uri(config, &mut out);
    durations(config, &mut out);
    signing_algs(config, &mut out);
    trusted_audiences(config, &mut out);
    failure_redirect(config, &mut out);
    for (key, message) in super::refresh::problems(&config.refresh) {
        out.push(key, message);
    }
    out.0
}

struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn push(&mut self, key: &'static str, message: String) {
        self.0.push(ConfigProblem::new(key, message));
    }
}

/// Problems with the placeholders left in `value`; for URLs, any `{...}` is one.
fn placeholders(key: &'static str, value: &str, is_url: bool, out: &mut Problems) -> bool {
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
    key: &'static str,
    name: &str,
    value: &str,
    config: &Config,
    out: &mut Problems,
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

fn issuer(config: &Config, out: &mut Problems) {
    const KEY: &str = "oidc.issuer";
    let value = config.issuer.as_str();
    if value.trim().is_empty() {
        out.push(
            KEY,
            format!(
                "Your issuer URL is missing. Set `issuer` in the [default.oidc] table of \
                 Rocket.toml or ROCKET_OIDC_ISSUER, e.g. https://dev-123456.okta.com/oauth2/default. \
                 {FIND_DOMAIN}"
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

fn client_id(config: &Config, out: &mut Problems) {
    const KEY: &str = "oidc.client_id";
    let value = config.client_id.as_str();
    if value.trim().is_empty() {
        out.push(
            KEY,
            format!(
                "Your client ID is missing. Set `client_id` in the [default.oidc] table of \
                 Rocket.toml or ROCKET_OIDC_CLIENT_ID. {FIND_CREDENTIALS}"
            ),
        );
    } else if !placeholders(KEY, value, false, out) && value.trim() != value {
        out.push(
            KEY,
            "Your client ID has leading or trailing whitespace; remove it.".into(),
        );
    }
}

fn client_secret(config: &Config, out: &mut Problems) {
    const KEY: &str = "oidc.client_secret";
    let secret = config.client_secret.as_deref();
    if config.client_auth_method == ClientAuthMethod::None {
        if secret.is_some() {
            out.push(
                KEY,
                "A client secret is set, but client_auth_method is \"none\" (a public client, \
                 which has no secret). Remove the secret, or set client_auth_method to \
                 \"client_secret_basic\" or \"client_secret_post\"."
                    .into(),
            );
        }
        return;
    }
    match secret.filter(|s| !s.trim().is_empty()) {
        None => out.push(
            KEY,
            format!(
                "Your client secret is missing. Set the environment variable \
                 ROCKET_OIDC_CLIENT_SECRET (better than Rocket.toml, which tends to end up in \
                 version control), or set client_auth_method = \"none\" for a public client. \
                 {FIND_CREDENTIALS}"
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

fn app_base_url(config: &Config, out: &mut Problems) {
    const KEY: &str = "oidc.app_base_url";
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

fn scopes(config: &Config, out: &mut Problems) {
    const KEY: &str = "oidc.scopes";
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

fn paths(config: &Config, out: &mut Problems) {
    let paths = [
        (
            "oidc.login_path",
            "login_path",
            &config.login_path,
            "/login",
        ),
        (
            "oidc.callback_path",
            "callback_path",
            &config.callback_path,
            "/authorization-code/callback",
        ),
        (
            "oidc.logout_path",
            "logout_path",
            &config.logout_path,
            "/logout",
        ),
    ];
    for (i, (key, name, path, example)) in paths.iter().enumerate() {
        if let Some(message) = path_problem(path) {
            out.push(
                key,
                format!("Your {name} {message}, e.g. {example}. Current value: {path:?}."),
            );
            continue;
        }
        for (_, other, other_path, _) in &paths[..i] {
            if other_path == path {
                out.push(
                    key,
                    format!("Your {name} must differ from {other}: both are {path}."),
                );
            }
        }
    }
}

/// What is wrong with a route path, if anything.
fn path_problem(path: &str) -> Option<&'static str> {
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

fn redirect_uri(config: &Config, out: &mut Problems) {
    const KEY: &str = "oidc.redirect_uri";
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

fn post_logout_redirect_uri(config: &Config, out: &mut Problems) {
    const KEY: &str = "oidc.post_logout_redirect_uri";
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

fn durations(config: &Config, out: &mut Problems) {
    let timeouts = [
        ("oidc.http_timeout_secs", config.http_timeout_secs),
        (
            "oidc.session_idle_timeout_secs",
            config.session_idle_timeout_secs,
        ),
        (
            "oidc.session_absolute_timeout_secs",
            config.session_absolute_timeout_secs,
        ),
        ("oidc.login_timeout_secs", config.login_timeout_secs),
    ];
    for (key, secs) in timeouts {
        let name = key.trim_start_matches("oidc.");
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
            "oidc.session_idle_timeout_secs",
            format!(
                "Your session_idle_timeout_secs ({}) must not exceed \
                 session_absolute_timeout_secs ({}).",
                config.session_idle_timeout_secs, config.session_absolute_timeout_secs
            ),
        );
    }
    if config.clock_skew_secs > MAX_CLOCK_SKEW_SECS {
        out.push(
            "oidc.clock_skew_secs",
            format!(
                "Your clock_skew_secs must be at most {MAX_CLOCK_SKEW_SECS}; it is {}. More \
                 would keep expired ID tokens valid: fix the clock (NTP) instead.",
                config.clock_skew_secs
            ),
        );
    }
    if config.max_pending_logins == 0 || config.max_pending_logins > MAX_PENDING_LOGINS {
        out.push(
            "oidc.max_pending_logins",
            format!(
                "Your max_pending_logins must be between 1 and {MAX_PENDING_LOGINS}; it is {}. \
                 Each pending login is a cookie sent with every request to the app.",
                config.max_pending_logins
            ),
        );
    }
}

fn signing_algs(config: &Config, out: &mut Problems) {
    const KEY: &str = "oidc.id_token_signing_algs";
    if config.id_token_signing_algs.is_empty() {
        out.push(
            KEY,
            "Your id_token_signing_algs is empty: list the algorithms your provider signs ID \
             tokens with, e.g. [\"RS256\"], or remove the key for the default."
                .into(),
        );
    }
    let has_secret = config.client_auth_method != ClientAuthMethod::None
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

fn trusted_audiences(config: &Config, out: &mut Problems) {
    if config.trusted_audiences.iter().any(|a| a.trim().is_empty()) {
        out.push(
            "oidc.trusted_audiences",
            "Your trusted_audiences contains an empty value; remove it.".into(),
        );
    }
}

fn failure_redirect(config: &Config, out: &mut Problems) {
    const KEY: &str = "oidc.failure_redirect";
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
