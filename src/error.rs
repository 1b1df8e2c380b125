//! Errors, one enum per layer: [`StartupError`] while the fairing ignites, [`LoginError`] while a
//! browser signs in.

use std::fmt;

use rocket::http::Status;

use crate::config::ConfigError;

/// Why [`OidcFairing`](crate::OidcFairing) refused to launch the application.
///
/// Every message names what failed and what to change. It is logged at ignite; Rocket then reports
/// the fairing `OpenID Connect` as failed and does not serve anything.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartupError {
    /// The `oidc` configuration is missing, malformed or fails validation.
    Config(ConfigError),
    /// The issuer's discovery document could not be fetched or parsed.
    Discovery {
        /// The URL that was requested.
        url: String,
        /// What went wrong, in words.
        reason: String,
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
    /// The JSON Web Key Set could not be fetched or holds no usable key.
    Jwks {
        /// The `jwks_uri` that was requested.
        url: String,
        /// What went wrong, in words.
        reason: String,
    },
    /// The token endpoint rejected the client credentials.
    CredentialsRejected {
        /// The configured client id (not secret).
        client_id: String,
        /// The OAuth error code the provider answered (`invalid_client`, ...).
        error: String,
        /// The HTTP status of that answer.
        status: u16,
        /// The provider's `error_description`, if any.
        description: Option<String>,
    },
    /// The credential check could not be completed (network error, 5xx, ...).
    CredentialCheck(String),
    /// The HTTP client could not be built (TLS backend initialization).
    HttpClient(String),
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartupError::Config(e) => write!(f, "invalid OpenID Connect configuration:\n{e}"),
            StartupError::Discovery { url, reason } => write!(
                f,
                "could not discover the issuer at {url}: {reason}; check oidc.issuer \
                 (it must be the exact issuer URL whose /.well-known/openid-configuration exists)"
            ),
            StartupError::IssuerMismatch {
                configured,
                discovered,
            } => write!(
                f,
                "the discovery document names issuer `{discovered}` but oidc.issuer is \
                 `{configured}`; they must match character for character: set oidc.issuer = \
                 \"{discovered}\""
            ),
            StartupError::Metadata { issuer, reason } => {
                write!(f, "the metadata of issuer {issuer} is not usable: {reason}")
            }
            StartupError::Jwks { url, reason } => write!(
                f,
                "could not load the issuer's signing keys from {url}: {reason}"
            ),
            StartupError::CredentialsRejected {
                client_id,
                error,
                status,
                description,
            } => {
                write!(
                    f,
                    "the issuer rejected client_id `{client_id}` and its secret ({error}, HTTP \
                     {status}"
                )?;
                if let Some(d) = description {
                    write!(f, ": {}", crate::util::truncate(d, 200))?;
                }
                write!(
                    f,
                    "): check oidc.client_id and oidc.client_secret (or ROCKET_OIDC_CLIENT_SECRET), \
                     and oidc.client_auth_method; set oidc.check_credentials = false only if \
                     your provider objects to this check"
                )
            }
            StartupError::HttpClient(reason) => write!(
                f,
                "{reason}; this is a problem of the TLS setup of this machine, not of the oidc \
                 settings"
            ),
            StartupError::CredentialCheck(reason) => write!(
                f,
                "could not check the client credentials at the token endpoint: {reason}; set \
                 oidc.check_credentials = false to skip this check"
            ),
        }
    }
}

impl std::error::Error for StartupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartupError::Config(e) => Some(e),
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// The `iss` parameter of the authorization response (RFC 9207) is missing or wrong.
    IssuerMismatch(String),
    /// The token endpoint failed or answered something unusable.
    TokenEndpoint(String),
    /// The ID token failed validation.
    IdToken(String),
    /// The userinfo endpoint failed or answered for another subject.
    UserInfo(String),
    /// Too many pending logins or another local limit.
    Internal(String),
}

impl LoginError {
    /// A short, stable code for the error page and the `failure_redirect` query.
    pub fn code(&self) -> &'static str {
        match self {
            LoginError::Provider { .. } => "provider_error",
            LoginError::BadRequest(_) => "bad_request",
            LoginError::UnknownState => "unknown_state",
            LoginError::IssuerMismatch(_) => "issuer_mismatch",
            LoginError::TokenEndpoint(_) => "token_endpoint",
            LoginError::IdToken(_) => "invalid_id_token",
            LoginError::UserInfo(_) => "userinfo",
            LoginError::Internal(_) => "internal",
        }
    }

    /// The HTTP status of the error page: 400 for a bad request, 401 for a rejected login, 502
    /// when the provider fails.
    pub fn status(&self) -> Status {
        match self {
            LoginError::Provider { error, .. } if error == "server_error" => Status::BadGateway,
            LoginError::Provider { error, .. } if error == "temporarily_unavailable" => {
                Status::ServiceUnavailable
            }
            LoginError::Provider { .. } => Status::Unauthorized,
            LoginError::BadRequest(_) | LoginError::UnknownState => Status::BadRequest,
            LoginError::IssuerMismatch(_) | LoginError::IdToken(_) => Status::Unauthorized,
            LoginError::UserInfo(_) | LoginError::TokenEndpoint(_) => Status::BadGateway,
            LoginError::Internal(_) => Status::InternalServerError,
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
            LoginError::IssuerMismatch(_) | LoginError::IdToken(_) => {
                "The identity provider's answer could not be verified."
            }
            LoginError::TokenEndpoint(_) | LoginError::UserInfo(_) => {
                "The identity provider could not complete the sign-in."
            }
            LoginError::Internal(_) => "Sign-in failed because of a server error.",
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
            LoginError::IssuerMismatch(m) => write!(f, "authorization response iss: {m}"),
            LoginError::TokenEndpoint(m) => write!(f, "token endpoint: {m}"),
            LoginError::IdToken(m) => write!(f, "ID token rejected: {m}"),
            LoginError::UserInfo(m) => write!(f, "userinfo: {m}"),
            LoginError::Internal(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for LoginError {}
