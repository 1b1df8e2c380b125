//! Errors, one enum per layer: [`StartupError`] while the fairing ignites, [`LoginError`] while a
//! browser signs in.

use std::fmt;

use rocket::http::Status;

#[cfg(test)]
use crate::config::Config;
use crate::config::{self, ConfigError};
use crate::http::{FetchError, HttpError};

/// Why [`OidcFairing`](crate::OidcFairing) refused to launch the application.
///
/// Every message names what failed and what to change. It is logged at ignite; Rocket then reports
/// the fairing `OpenID Connect` as failed and does not serve anything. `Display` includes the
/// cause's words, so that the one log line is complete; [`source`](std::error::Error::source)
/// gives the typed cause.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartupError {
    /// The `oidc` configuration is missing, malformed or fails validation.
    Config(ConfigError),
    /// The issuer's discovery document could not be fetched or parsed.
    Discovery {
        /// The URL that was requested.
        url: String,
        /// What went wrong.
        source: FetchError,
    },
    /// The discovery document names another issuer than the configured one.
    IssuerMismatch {
        /// `oidc.issuer` as configured.
        configured: String,
        /// `issuer` in the provider's metadata.
        discovered: String,
    },
    /// The provider's metadata lacks something a code-flow client needs.
    Metadata {
        /// The issuer whose metadata it is.
        issuer: String,
        /// What is missing or wrong.
        reason: String,
    },
    /// The JSON Web Key Set could not be fetched or parsed.
    Jwks {
        /// The `jwks_uri` that was requested.
        url: String,
        /// What went wrong.
        source: FetchError,
    },
    /// The JSON Web Key Set holds no key that can verify an ID token's signature.
    NoSigningKeys {
        /// The `jwks_uri` that was requested.
        url: String,
        /// What the set holds instead, in words (`2 encryption key(s) ignored`), or empty.
        others: String,
    },
    /// The token endpoint rejected the client credentials.
    CredentialsRejected {
        /// The configured client id (not secret).
        client_id: String,
        /// The OAuth error code the provider answered (`invalid_client`, ...).
        error: String,
        /// The HTTP status of that answer.
        status: u16,
        /// The provider's `error_description` (or `message`), if any.
        description: Option<String>,
        /// What the provider's metadata says against the configured client authentication
        /// method, when it does not list it; else `None`.
        hint: Option<String>,
    },
    /// The token endpoint rejected a client that authenticates with a key (`private_key_jwt`,
    /// or Sign in with Apple's client secret minted from its `.p8` key).
    ClientKeyRejected {
        /// The configured client id.
        client_id: String,
        /// The OAuth error code the provider answered (`invalid_client`, ...).
        error: String,
        /// The HTTP status of that answer (Apple answers 400).
        status: u16,
        /// The provider's `error_description` (or `message`), if any.
        description: Option<String>,
        /// What the provider's metadata says against the client authentication method, when
        /// it does not list it; else `None`.
        hint: Option<String>,
        /// What to check, naming the settings of the key.
        advice: String,
    },
    /// The credential check could not be completed (network error, 5xx, ...).
    CredentialCheck {
        /// What happened, in words.
        reason: String,
        /// The transport failure, when that was the cause.
        source: Option<HttpError>,
    },
    /// The HTTP client could not be built (TLS backend initialization).
    HttpClient(HttpError),
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartupError::Config(e) => write!(f, "invalid OpenID Connect configuration:\n{e}"),
            StartupError::Discovery { url, source } => {
                write!(f, "could not discover the issuer at {url}: {source}; ")?;
                discovery_advice(f, url, source)
            }
            StartupError::IssuerMismatch {
                configured,
                discovered,
            } => {
                write!(
                    f,
                    "the discovery document names issuer `{discovered}` but oidc.issuer is \
                     `{configured}`; "
                )?;
                // Never advise a value that validation rejects (a placeholder, plain http).
                if config::has_placeholder(discovered) {
                    write!(
                        f,
                        "the provider publishes a multi-tenant template issuer: set \
                         oidc.issuer to the URL you discovered it from with the template \
                         segment filled, so that the two differ only there (for Microsoft \
                         Entra ID: https://login.microsoftonline.com/common/v2.0, \
                         https://login.microsoftonline.com/organizations/v2.0, or your tenant's \
                         own https://login.microsoftonline.com/<tenant ID>/v2.0)"
                    )
                } else if config::issuer_is_valid(discovered, false) {
                    write!(
                        f,
                        "they must match character for character: set oidc.issuer = \
                         \"{discovered}\""
                    )
                } else if config::issuer_is_valid(discovered, true) {
                    write!(
                        f,
                        "they must match character for character: set oidc.issuer = \
                         \"{discovered}\", which is plain http and needs \
                         oidc.insecure_allow_http = true (never in production): better, make \
                         the provider publish its https URL"
                    )
                } else {
                    write!(
                        f,
                        "they must match character for character, and that issuer is not one \
                         this client can be configured with: fix the provider's published \
                         issuer (its host name or frontend URL setting)"
                    )
                }
            }
            StartupError::Metadata { issuer, reason } => {
                write!(f, "the metadata of issuer {issuer} is not usable: {reason}")
            }
            StartupError::Jwks { url, source } => write!(
                f,
                "could not load the issuer's signing keys from {url}: {source}"
            ),
            StartupError::NoSigningKeys { url, others } => {
                write!(
                    f,
                    "could not load the issuer's signing keys from {url}: the key set holds no \
                     key that can verify an ID-token signature"
                )?;
                if !others.is_empty() {
                    write!(f, " ({others})")?;
                }
                Ok(())
            }
            StartupError::CredentialsRejected {
                client_id,
                error,
                status,
                description,
                hint,
            } => {
                write!(
                    f,
                    "the issuer rejected client_id `{client_id}` and its secret ({error}, HTTP \
                     {status}"
                )?;
                if let Some(d) = description {
                    write!(f, ": {}", crate::util::truncate(d, 200))?;
                }
                write!(f, "): ")?;
                if let Some(hint) = hint {
                    write!(f, "{hint}; otherwise ")?;
                }
                write!(
                    f,
                    "check oidc.client_id and oidc.client_secret (or ROCKET_OIDC_CLIENT_SECRET), \
                     and oidc.client_auth_method; set oidc.check_credentials = false only if \
                     your provider objects to this check"
                )
            }
            StartupError::ClientKeyRejected {
                client_id,
                error,
                status,
                description,
                hint,
                advice,
            } => {
                write!(
                    f,
                    "the issuer rejected client_id `{client_id}` and its signed credential \
                     ({error}, HTTP {status}"
                )?;
                if let Some(d) = description {
                    write!(f, ": {}", crate::util::truncate(d, 200))?;
                }
                write!(f, "): ")?;
                if let Some(hint) = hint {
                    write!(f, "{hint}; otherwise ")?;
                }
                write!(
                    f,
                    "{advice}; set oidc.check_credentials = false only if your provider objects \
                     to this check"
                )
            }
            StartupError::HttpClient(source) => write!(
                f,
                "{source}; this is a problem of the TLS setup of this machine, not of the oidc \
                 settings"
            ),
            StartupError::CredentialCheck { reason, .. } => write!(
                f,
                "could not check the client credentials at the token endpoint: {reason}; set \
                 oidc.check_credentials = false to skip this check"
            ),
        }
    }
}

/// What to change after a failed discovery, by cause: a missing document, a redirect not
/// followed, an unreachable host, or something else at that URL.
fn discovery_advice(f: &mut fmt::Formatter<'_>, url: &str, source: &FetchError) -> fmt::Result {
    match source {
        FetchError::Status(404 | 410) => write!(
            f,
            "there is no discovery document at that URL: check that oidc.issuer is the issuer \
             URL itself, as the provider documents it (this crate appends \
             /.well-known/openid-configuration)"
        ),
        FetchError::Redirect { .. } => write!(
            f,
            "check oidc.issuer (the discovery URL may redirect, but at most 5 times, and never \
             from https to http)"
        ),
        FetchError::Http(HttpError::Transport(_) | HttpError::Timeout(_)) => {
            let host = url::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| url.to_owned());
            write!(
                f,
                "check that {host} is reachable from this machine (DNS, proxy, firewall), and \
                 oidc.issuer"
            )
        }
        _ => write!(
            f,
            "check oidc.issuer (it must be the exact issuer URL whose \
             /.well-known/openid-configuration exists)"
        ),
    }
}

impl std::error::Error for StartupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartupError::Config(e) => Some(e),
            StartupError::Discovery { source, .. } | StartupError::Jwks { source, .. } => {
                Some(source)
            }
            StartupError::CredentialCheck {
                source: Some(source),
                ..
            }
            | StartupError::HttpClient(source) => Some(source),
            _ => None,
        }
    }
}

impl From<ConfigError> for StartupError {
    fn from(e: ConfigError) -> Self {
        StartupError::Config(e)
    }
}

/// Why a sign-in did not complete. Shown to the browser only as a short code and a generic
/// sentence; the details go to the log (never tokens, codes or cookie values).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LoginError {
    /// The provider answered the authorization request with `error=` (e.g. `access_denied`).
    Provider {
        /// The OAuth error code.
        error: String,
        /// The provider's `error_description`, if any (untrusted text).
        description: Option<String>,
    },
    /// The callback's query string is malformed: missing, duplicated or undecodable parameters.
    BadRequest(String),
    /// No pending login matches the callback's `state`: it expired, was already used, or was
    /// started in another browser (login CSRF).
    UnknownState,
    /// A `form_post` callback (a cross-site POST) came without the pending login's cookie:
    /// the browser did not send the `SameSite=None; Secure` transaction cookie (plain http,
    /// blocked third-party cookies), or the login was started elsewhere or expired.
    MissingLoginCookie(String),
    /// The `iss` parameter of the authorization response (RFC 9207) is missing or wrong.
    IssuerMismatch(String),
    /// The callback of one provider received the answer to a login sent to another (a mix-up,
    /// RFC 9700 §4.4): refused before anything is sent to either.
    ProviderMismatch(String),
    /// The token endpoint answered something unusable (an error status, a malformed body).
    TokenEndpoint(String),
    /// A provider endpoint gave no usable answer at all (timeout, connection, size).
    Unreachable {
        /// Which endpoint.
        endpoint: Endpoint,
        /// What happened.
        source: HttpError,
    },
    /// The ID token failed validation.
    IdToken(String),
    /// The userinfo endpoint failed or answered for another subject.
    UserInfo(String),
    /// Too many pending logins or another local limit.
    Internal(String),
    /// The app's login hook refused the user (status 403).
    Refused {
        /// The subject, for the log.
        subject: String,
        /// The app's message for the user.
        message: String,
        /// Where the app sends the refused user instead of the error page, if anywhere.
        redirect: Option<String>,
    },
    /// The app's login hook failed or panicked (status 500).
    Hook(String),
}

impl LoginError {
    /// A short, stable code for the error page and the `failure_redirect` query.
    pub fn code(&self) -> &'static str {
        match self {
            LoginError::Provider { .. } => "provider_error",
            LoginError::BadRequest(_) => "bad_request",
            LoginError::UnknownState => "unknown_state",
            LoginError::MissingLoginCookie(_) => "missing_login_cookie",
            LoginError::IssuerMismatch(_) => "issuer_mismatch",
            LoginError::ProviderMismatch(_) => "provider_mismatch",
            LoginError::TokenEndpoint(_)
            | LoginError::Unreachable {
                endpoint: Endpoint::Token,
                ..
            } => "token_endpoint",
            LoginError::Unreachable {
                endpoint: Endpoint::Userinfo,
                ..
            } => "userinfo",
            LoginError::IdToken(_) => "invalid_id_token",
            LoginError::UserInfo(_) => "userinfo",
            LoginError::Internal(_) => "internal",
            LoginError::Refused { .. } => "access_refused",
            LoginError::Hook(_) => "login_hook",
        }
    }

    /// The HTTP status of the error page: 400 for a bad request, 401 for a rejected login, 403
    /// when the app's login hook refuses the user, 502 when the provider fails.
    pub fn status(&self) -> Status {
        match self {
            LoginError::Provider { error, .. } if error == "server_error" => Status::BadGateway,
            LoginError::Provider { error, .. } if error == "temporarily_unavailable" => {
                Status::ServiceUnavailable
            }
            LoginError::Provider { .. } => Status::Unauthorized,
            LoginError::BadRequest(_)
            | LoginError::UnknownState
            | LoginError::MissingLoginCookie(_) => Status::BadRequest,
            LoginError::IssuerMismatch(_)
            | LoginError::ProviderMismatch(_)
            | LoginError::IdToken(_) => Status::Unauthorized,
            LoginError::UserInfo(_)
            | LoginError::TokenEndpoint(_)
            | LoginError::Unreachable { .. } => Status::BadGateway,
            LoginError::Internal(_) | LoginError::Hook(_) => Status::InternalServerError,
            LoginError::Refused { .. } => Status::Forbidden,
        }
    }

    /// A sentence for the person in front of the browser: no internal details.
    pub fn public_message(&self) -> &'static str {
        match self {
            LoginError::Provider { error, .. } if error == "access_denied" => {
                "Sign-in was cancelled or denied at the identity provider."
            }
            LoginError::Provider { .. } => "The identity provider reported an error.",
            LoginError::BadRequest(_) => "The sign-in response was malformed.",
            LoginError::UnknownState => {
                "This sign-in attempt is unknown or has expired. Please start again."
            }
            LoginError::MissingLoginCookie(_) => {
                "Your browser did not send back this sign-in's cookie. Please start again, and \
                 allow cookies for this site."
            }
            LoginError::IssuerMismatch(_)
            | LoginError::ProviderMismatch(_)
            | LoginError::IdToken(_) => "The identity provider's answer could not be verified.",
            LoginError::TokenEndpoint(_)
            | LoginError::UserInfo(_)
            | LoginError::Unreachable { .. } => {
                "The identity provider could not complete the sign-in."
            }
            LoginError::Internal(_) | LoginError::Hook(_) => {
                "Sign-in failed because of a server error."
            }
            LoginError::Refused { .. } => "This application does not let this account sign in.",
        }
    }
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginError::Provider { error, description } => {
                write!(
                    f,
                    "the provider answered error={}",
                    crate::util::truncate(error, 64)
                )?;
                if let Some(d) = description {
                    write!(f, " ({})", crate::util::truncate(d, 200))?;
                }
                Ok(())
            }
            LoginError::BadRequest(m) => write!(f, "malformed callback: {m}"),
            LoginError::UnknownState => write!(
                f,
                "no pending login matches the callback's state (expired, replayed, or started \
                 in another browser)"
            ),
            LoginError::MissingLoginCookie(m) => write!(f, "{m}"),
            LoginError::IssuerMismatch(m) => write!(f, "authorization response iss: {m}"),
            LoginError::ProviderMismatch(m) => write!(f, "provider mix-up: {m}"),
            LoginError::TokenEndpoint(m) => write!(f, "token endpoint: {m}"),
            LoginError::IdToken(m) => write!(f, "ID token rejected: {m}"),
            LoginError::UserInfo(m) => write!(f, "userinfo: {m}"),
            LoginError::Unreachable { endpoint, source } => write!(f, "{endpoint}: {source}"),
            LoginError::Internal(m) => write!(f, "{m}"),
            LoginError::Refused {
                subject, message, ..
            } => write!(
                f,
                "the login hook refused subject `{}`: {}",
                crate::util::truncate(subject, 64),
                crate::util::truncate(message, 300)
            ),
            LoginError::Hook(m) => write!(f, "the login hook failed: {m}"),
        }
    }
}

impl std::error::Error for LoginError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoginError::Unreachable { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A provider endpoint the sign-in talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// The token endpoint (code exchange, refresh).
    Token,
    /// The userinfo endpoint.
    Userinfo,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Endpoint::Token => "token endpoint",
            Endpoint::Userinfo => "userinfo",
        })
    }
}

/// Why the tokens of a session were not refreshed (RFC 6749 §6, OpenID Connect Core §12).
///
/// Two kinds of failure, and the session's fate differs:
/// - [`InvalidGrant`](RefreshError::InvalidGrant) and [`Rejected`](RefreshError::Rejected)
///   **end the session** ([`ends_session`](RefreshError::ends_session)): the provider says the
///   grant is over (revoked, expired, reused), or it answered with tokens that cannot be
///   trusted. The guards then see no session: a browser is sent to login and back, an API
///   client gets 401.
/// - [`Unavailable`](RefreshError::Unavailable) and [`Refused`](RefreshError::Refused) **keep
///   the session** with its old tokens: an outage or a misconfigured client must not sign
///   everybody out. [`Tokens::refresh_status`](crate::Tokens::refresh_status) is then
///   [`RefreshStatus::Stale`](crate::RefreshStatus::Stale).
///
/// As a [`Responder`](rocket::response::Responder) (for handlers that use
/// [`TokenRefresher`](crate::TokenRefresher) with `?`) it forwards to the catcher of its
/// [`status`](RefreshError::status): 401 (which sends a browser to login when the session
/// ended), 503, or 500 for the two configuration mistakes. `Display` is for logs: it never holds
/// a token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum RefreshError {
    /// `oidc.refresh.mode` is `"off"`.
    Disabled,
    /// The session holds no refresh token: the provider issued none (ask for the
    /// `offline_access` scope; Google wants `access_type=offline`), or
    /// `oidc.keep_refresh_token` is `false`.
    NoRefreshToken,
    /// The token endpoint answered `invalid_grant`: the refresh token was revoked, expired or
    /// already used. The session ends.
    InvalidGrant {
        /// The provider's `error_description`, if any (untrusted text, for the log).
        description: Option<String>,
    },
    /// The provider's answer broke a rule (an ID token with another `sub`, a bad signature, a
    /// wrong `nonce`, ...): the new tokens are not used and the session ends.
    Rejected(String),
    /// The token endpoint refused the refresh with another OAuth error (`invalid_client`,
    /// `unauthorized_client`, `invalid_scope`, ...): a configuration problem at the provider or
    /// here. The session keeps its old tokens.
    Refused {
        /// The OAuth `error` code, or `"none"` when the body had none.
        error: String,
        /// The HTTP status.
        status: u16,
        /// The provider's `error_description`, if any.
        description: Option<String>,
    },
    /// The token endpoint could not be reached, timed out, answered 5xx or 429, or sent a body
    /// that is not a token response. The session keeps its old tokens.
    Unavailable(String),
}

impl RefreshError {
    /// Whether this failure ends the session (`InvalidGrant`, `Rejected`).
    pub fn ends_session(&self) -> bool {
        matches!(
            self,
            RefreshError::InvalidGrant { .. } | RefreshError::Rejected(_)
        )
    }

    /// The status a handler answers with: 401 when the session ended, 503 when the provider
    /// could not refresh, 500 for `Disabled` and `NoRefreshToken` (the app asked for something
    /// its configuration rules out).
    pub fn status(&self) -> Status {
        match self {
            RefreshError::InvalidGrant { .. } | RefreshError::Rejected(_) => Status::Unauthorized,
            RefreshError::Refused { .. } | RefreshError::Unavailable(_) => {
                Status::ServiceUnavailable
            }
            RefreshError::Disabled | RefreshError::NoRefreshToken => Status::InternalServerError,
        }
    }
}

impl fmt::Display for RefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::util::truncate;
        match self {
            RefreshError::Disabled => write!(
                f,
                "refresh is off (oidc.refresh.mode = \"off\"); set it to \"on_demand\" or \"auto\""
            ),
            RefreshError::NoRefreshToken => write!(
                f,
                "the session has no refresh token: ask the provider for one (the \
                 `offline_access` scope; Google: access_type=offline) and keep \
                 oidc.keep_refresh_token = true"
            ),
            RefreshError::InvalidGrant { description } => {
                write!(f, "the provider refused the refresh token (invalid_grant")?;
                if let Some(d) = description {
                    write!(f, ": {}", truncate(d, 200))?;
                }
                write!(f, "): it was revoked, expired or already used")
            }
            RefreshError::Rejected(reason) => {
                write!(f, "the refresh response was rejected: {reason}")
            }
            RefreshError::Refused {
                error,
                status,
                description,
            } => {
                write!(
                    f,
                    "the token endpoint refused the refresh with `{}` (HTTP {status}",
                    truncate(error, 64)
                )?;
                if let Some(d) = description {
                    write!(f, ", {}", truncate(d, 200))?;
                }
                write!(f, ")")?;
                match error.as_str() {
                    "invalid_client" => write!(
                        f,
                        ": the client credentials are not accepted; check oidc.client_id and \
                         oidc.client_secret"
                    ),
                    "unauthorized_client" => write!(
                        f,
                        ": the client may not use the refresh_token grant; enable it for this \
                         application at the provider"
                    ),
                    _ => Ok(()),
                }
            }
            RefreshError::Unavailable(reason) => {
                write!(f, "the provider could not refresh: {reason}")
            }
        }
    }
}

impl std::error::Error for RefreshError {}

impl<'r> rocket::response::Responder<'r, 'static> for RefreshError {
    fn respond_to(self, _: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        Err(self.status())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The advice of an issuer mismatch for each discovered issuer: whatever it tells the user
    /// to set, validation accepts (P4: it used to advise Entra's `{tenantid}` template, which
    /// validation then refused as a placeholder).
    #[test]
    fn issuer_mismatch_never_advises_a_value_validation_rejects() {
        let cases = [
            // (configured, discovered, advice expected)
            (
                "https://a.example/",
                "https://a.example",
                Some("https://a.example"),
            ),
            (
                "http://127.0.0.1:9/x",
                "http://127.0.0.1:9/x/",
                Some("http://127.0.0.1:9/x/"),
            ),
            (
                "https://login.microsoftonline.com/common",
                "https://sts.windows.net/{tenantid}/",
                None,
            ),
            (
                "https://login.microsoftonline.com/common/v2.0",
                "https://login.microsoftonline.com/{tenantid}/v2.1",
                None,
            ),
            // Plain http, advised with insecure_allow_http, which it needs.
            (
                "https://kc.example/realms/x",
                "http://kc.example/realms/x",
                Some("http://kc.example/realms/x"),
            ),
            ("https://a.example", "not a url", None),
        ];
        for (configured, discovered, advice) in cases {
            let text = StartupError::IssuerMismatch {
                configured: configured.into(),
                discovered: discovered.into(),
            }
            .to_string();
            let suggested = text
                .split("set oidc.issuer = \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next());
            assert_eq!(suggested, advice, "{text}");
            if let Some(value) = suggested {
                let config = Config {
                    issuer: value.into(),
                    insecure_allow_http: text.contains("oidc.insecure_allow_http = true"),
                    ..Config::default()
                };
                let problems = config.validate().unwrap_err().problems;
                assert!(
                    problems.iter().all(|p| p.key != "oidc.issuer"),
                    "{value}: {problems:?}"
                );
            }
        }
        let template = StartupError::IssuerMismatch {
            configured: "https://login.microsoftonline.com/common".into(),
            discovered: "https://sts.windows.net/{tenantid}/".into(),
        }
        .to_string();
        assert!(
            template.contains("multi-tenant template issuer"),
            "{template}"
        );
        let http = StartupError::IssuerMismatch {
            configured: "https://kc.example/realms/x".into(),
            discovered: "http://kc.example/realms/x".into(),
        }
        .to_string();
        assert!(http.contains("oidc.insecure_allow_http = true"), "{http}");
    }
}
