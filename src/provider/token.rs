//! The token endpoint (RFC 6749 §3.2): the credential check at ignite, the code exchange with
//! PKCE (RFC 7636), the refresh-token grant (RFC 6749 §6), and revocation (RFC 7009), with the
//! client authentication they share ([`Provider::authentication`]: a secret, or a
//! `private_key_jwt` assertion or Apple client secret made for the request, see
//! `credentials.rs`).

use rocket::serde::json::serde_json::Value;
use serde::{Deserialize, Deserializer};

use super::credentials::{Authentication, Credential};
use super::verdict::{judge, provider_hint, Verdict};
use super::Provider;
use crate::config::{ClientAuthMethod, Config};
use crate::error::{Endpoint, LoginError, RefreshError, StartupError};
use crate::util;

/// A token endpoint answer (RFC 6749 §5.1, OIDC Core §3.1.3.3). `Debug` redacts the tokens.
#[derive(Clone, Deserialize)]
pub struct TokenResponse {
    /// `access_token`.
    pub access_token: String,
    /// `token_type`; must be `Bearer`.
    pub token_type: String,
    /// `expires_in` (seconds), a number or a string of digits.
    #[serde(default, deserialize_with = "lenient_seconds")]
    pub expires_in: Option<u64>,
    /// `id_token`, the raw JWS.
    pub id_token: Option<String>,
    /// `refresh_token`, if the provider issued one.
    pub refresh_token: Option<String>,
}

/// `expires_in` as a number, or as a string of digits (Entra ID v1 endpoints send strings).
fn lenient_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| *f >= 0.0 && f.is_finite())
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("expires_in is not a positive number")),
        Some(Value::String(s)) => s
            .parse::<u64>()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("expires_in is a string but not a number")),
        Some(_) => Err(serde::de::Error::custom("expires_in has the wrong type")),
    }
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// What the credential check found, when it does not stop launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CheckOutcome {
    /// The provider authenticated the client: logged at info.
    Confirmed(String),
    /// The provider neither confirmed nor rejected the credentials: logged at warn, with what
    /// it answered, since every login may fail at the code exchange.
    NotConfirmed(String),
}

impl Provider {
    /// Ignite step 3: a code grant with a code that cannot be valid, authenticated with the
    /// chosen method, whose answer [`judge`] sorts: `invalid_grant` means the provider accepted
    /// the client's credentials before looking at the code; 401, 403 or `invalid_client` means
    /// it did not (Keycloak answers a wrong secret with 401 `unauthorized_client`, Twitch with
    /// 403 and no OAuth error at all).
    pub(crate) async fn check_credentials(
        &self,
        config: &Config,
    ) -> Result<CheckOutcome, StartupError> {
        let token_endpoint = self.metadata.token_endpoint.as_deref().unwrap_or_default();
        let code = format!(
            "rocket-openid-connect-credential-check-{}",
            util::random_token(16)
        );
        let verifier = util::random_token(32);
        let redirect_uri = config.redirect_uri();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ];
        let auth = self
            .authentication(config, self.token_auth.method, token_endpoint)
            .map_err(|reason| StartupError::CredentialCheck {
                reason,
                source: None,
            })?;
        let resp = self
            .http
            .post_form(token_endpoint, &form, auth.client_auth(config))
            .await
            .map_err(|e| StartupError::CredentialCheck {
                reason: format!("{token_endpoint}: {e}"),
                source: Some(e),
            })?;
        let status = resp.status;
        // Whatever was sent stays out of quoted answers: the secret, or the assertion.
        let sent = auth.made().or(config.client_secret.as_deref());
        match judge(status, &resp.body, sent) {
            Verdict::Accepted => Ok(CheckOutcome::Confirmed(
                "credentials accepted (invalid_grant for a dummy code)".into(),
            )),
            Verdict::Rejected { error, description } => {
                let error = error.unwrap_or_else(|| "no OAuth error code".into());
                let hint = self.token_auth.not_listed();
                Err(match key_advice(&self.credential) {
                    Some(advice) => StartupError::ClientKeyRejected {
                        client_id: config.client_id.clone(),
                        error,
                        status,
                        description,
                        hint,
                        advice,
                    },
                    None => StartupError::CredentialsRejected {
                        client_id: config.client_id.clone(),
                        error,
                        status,
                        description,
                        hint,
                    },
                })
            }
            Verdict::UnauthorizedClient => Err(StartupError::CredentialCheck {
                reason: format!(
                    "the token endpoint answered unauthorized_client (HTTP {status}): the client \
                     `{}` may not use the authorization_code grant; enable it for this \
                     application at the provider",
                    config.client_id
                ),
                source: None,
            }),
            Verdict::ServerError => Err(StartupError::CredentialCheck {
                reason: format!("the token endpoint {token_endpoint} answered HTTP {status}"),
                source: None,
            }),
            Verdict::CodeAccepted => Err(StartupError::CredentialCheck {
                reason: format!(
                    "the token endpoint {token_endpoint} accepted a made-up authorization code \
                     (HTTP {status}): it is not a working OAuth token endpoint, or not the \
                     provider's"
                ),
                source: None,
            }),
            Verdict::Inconclusive { error, excerpt } => {
                let what = match error {
                    Some(error) => {
                        format!("with error `{error}`, neither invalid_client nor invalid_grant")
                    }
                    None => "without an OAuth error (RFC 6749 §5.2)".into(),
                };
                let body = if excerpt.is_empty() {
                    "an empty body".to_string()
                } else {
                    excerpt
                };
                let hint =
                    provider_hint(&self.metadata.issuer, &self.metadata.authorization_endpoint)
                        .unwrap_or(
                        "if logins fail at the code exchange, check the application's setup at \
                         the provider",
                    );
                Ok(CheckOutcome::NotConfirmed(format!(
                    "the token endpoint {token_endpoint} answered HTTP {status} {what}: {body}; \
                     {hint}"
                )))
            }
        }
    }

    /// Exchanges an authorization code (RFC 6749 §4.1.3 with the PKCE verifier of RFC 7636).
    pub(crate) async fn exchange_code(
        &self,
        config: &Config,
        code: &str,
        verifier: &str,
    ) -> Result<TokenResponse, LoginError> {
        let token_endpoint = self.metadata.token_endpoint.as_deref().unwrap_or_default();
        let redirect_uri = config.redirect_uri();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier),
        ];
        let auth = self
            .authentication(config, self.token_auth.method, token_endpoint)
            .map_err(LoginError::Internal)?;
        let resp = self
            .http
            .post_form(token_endpoint, &form, auth.client_auth(config))
            .await
            .map_err(|source| LoginError::Unreachable {
                endpoint: Endpoint::Token,
                source,
            })?;
        if !resp.is_success() {
            let detail = match resp.oauth_error() {
                Some((e, d)) => format!(
                    "error={} {}",
                    util::truncate(&e, 64),
                    d.map(|d| util::truncate(&d, 200)).unwrap_or_default()
                ),
                None => "no OAuth error body".into(),
            };
            return Err(LoginError::TokenEndpoint(format!(
                "HTTP {}: {detail}",
                resp.status
            )));
        }
        let tokens: TokenResponse = resp
            .json()
            .map_err(|e| LoginError::TokenEndpoint(e.to_string()))?;
        if !tokens.token_type.eq_ignore_ascii_case("bearer") {
            return Err(LoginError::TokenEndpoint(format!(
                "token_type `{}` is not Bearer",
                util::truncate(&tokens.token_type, 32)
            )));
        }
        Ok(tokens)
    }

    /// Redeems a refresh token (RFC 6749 §6; OpenID Connect Core §12). No `scope`: the new
    /// access token gets the scope of the original grant. `invalid_grant` (revoked, expired,
    /// reused) is told apart from the failures that say nothing about the grant: transport
    /// errors and timeouts, 5xx and 429, and bodies that are not a token response
    /// ([`RefreshError::Unavailable`]), and other OAuth errors ([`RefreshError::Refused`]).
    /// The answer's ID token is not checked here (see `refresh::grant`).
    pub(crate) async fn refresh(
        &self,
        config: &Config,
        refresh_token: &str,
    ) -> Result<TokenResponse, RefreshError> {
        let token_endpoint = self.metadata.token_endpoint.as_deref().unwrap_or_default();
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        // The provider's client authentication, as for the code exchange: a secret, or a
        // `private_key_jwt` assertion (RFC 7523 §3) made for this request. A failure to make it
        // says nothing about the grant: the session keeps its tokens.
        let auth = self
            .authentication(config, self.token_auth.method, token_endpoint)
            .map_err(|e| {
                RefreshError::Unavailable(format!("the client authentication failed: {e}"))
            })?;
        let resp = self
            .http
            .post_form(token_endpoint, &form, auth.client_auth(config))
            .await
            .map_err(|e| RefreshError::Unavailable(format!("{token_endpoint}: {e}")))?;
        if !resp.is_success() {
            let (error, description) = resp.oauth_error().unwrap_or_default();
            let description = description.map(|d| util::truncate(&d, 200));
            return Err(match (resp.status, error.as_str()) {
                // RFC 6749 §5.2: invalid_grant comes with 400; some providers send 401.
                (_, "invalid_grant") => RefreshError::InvalidGrant { description },
                (status, _) if status >= 500 || status == 429 => {
                    RefreshError::Unavailable(format!("{token_endpoint} answered HTTP {status}"))
                }
                (status, "") => RefreshError::Refused {
                    error: if status == 401 {
                        "invalid_client".into()
                    } else {
                        "none".into()
                    },
                    status,
                    description,
                },
                (status, error) => RefreshError::Refused {
                    error: util::truncate(error, 64),
                    status,
                    description,
                },
            });
        }
        let tokens: TokenResponse = resp.json().map_err(|e| {
            RefreshError::Unavailable(format!("{token_endpoint}: not a token response: {e}"))
        })?;
        if !tokens.token_type.eq_ignore_ascii_case("bearer") {
            return Err(RefreshError::Unavailable(format!(
                "{token_endpoint}: token_type `{}` is not Bearer",
                util::truncate(&tokens.token_type, 32)
            )));
        }
        Ok(tokens)
    }

    /// Revokes a token (RFC 7009), best effort: failures are logged, never returned. A
    /// hand-written POST, because openidconnect refuses http revocation URLs (loopback tests).
    pub(crate) async fn revoke(&self, config: &Config, token: &str, hint: &str) {
        let Some(endpoint) = self.metadata.revocation_endpoint.as_deref() else {
            return;
        };
        let form = [("token", token), ("token_type_hint", hint)];
        // An assertion for revocation names the revocation endpoint (RFC 7523 §3 item 3).
        let auth = match self.authentication(config, self.revocation_auth.method, endpoint) {
            Ok(auth) => auth,
            Err(e) => {
                log::warn!("OpenID Connect: revoking the {hint} failed: {e}");
                return;
            }
        };
        match self
            .http
            .post_form(endpoint, &form, auth.client_auth(config))
            .await
        {
            Ok(r) if r.is_success() => {}
            Ok(r) => log::warn!(
                "OpenID Connect: revoking the {hint} failed with HTTP {}",
                r.status
            ),
            Err(e) => log::warn!("OpenID Connect: revoking the {hint} failed: {e}"),
        }
    }
}

impl Provider {
    /// The client authentication of one request with `method` to the endpoint at `url`: the
    /// configured secret, or an assertion made now for `url` (a new `jti` each time), or the
    /// current Apple client secret. Every token call (the credential check, the code exchange,
    /// refresh, revocation) goes through here.
    pub(crate) fn authentication(
        &self,
        config: &Config,
        method: ClientAuthMethod,
        url: &str,
    ) -> Result<Authentication, String> {
        self.credential.authenticate(
            method,
            &config.client_id,
            url,
            util::now_unix(),
            &util::random_token(16),
        )
    }
}

/// What to check when the provider refuses a client that authenticates with a key.
fn key_advice(credential: &Credential) -> Option<String> {
    match credential {
        Credential::Configured => None,
        Credential::PrivateKeyJwt(key) => Some(format!(
            "check that the public half of the key in oidc.client_key_file (or \
             oidc.client_key; {}) is registered for this client at the provider (its public \
             key or JWKS, for private_key_jwt), and oidc.client_id, oidc.client_key_id and \
             oidc.client_key_alg",
            key.describe()
        )),
        Credential::Apple(_) => Some(
            "check oidc.client_id (the Services ID, not the App ID), oidc.apple_team_id, \
             oidc.client_key_id (the Key ID of the .p8 key) and the key in \
             oidc.client_key_file (the .p8 file, enabled for Sign in with Apple), and that the \
             machine's clock is right"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::serde::json::serde_json;

    #[test]
    fn expires_in_accepts_numbers_and_digit_strings_only() {
        let parse = |json: &str| serde_json::from_str::<TokenResponse>(json);
        let base = r#""access_token":"a","token_type":"Bearer""#;
        assert_eq!(
            parse(&format!("{{{base},\"expires_in\":3600}}"))
                .unwrap()
                .expires_in,
            Some(3600)
        );
        assert_eq!(
            parse(&format!("{{{base},\"expires_in\":\"3600\"}}"))
                .unwrap()
                .expires_in,
            Some(3600)
        );
        assert_eq!(parse(&format!("{{{base}}}")).unwrap().expires_in, None);
        assert!(parse(&format!("{{{base},\"expires_in\":\"3600abc\"}}")).is_err());
        assert!(parse(&format!("{{{base},\"expires_in\":-5}}")).is_err());
        assert!(parse(r#"{"access_token":5,"token_type":"Bearer"}"#).is_err());
    }
}
