//! Everything that talks to the OpenID Provider: discovery, the JWKS cache, the credential check,
//! the code exchange, ID-token validation, userinfo and revocation.

use std::str::FromStr;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    Audience, ClaimsVerificationError, ClientId, ClientSecret, IssuerUrl, Nonce,
    SignatureVerificationError,
};
use rocket::serde::json::serde_json::{self, Map, Value};
use serde::{Deserialize, Deserializer};
use sha2::Digest;

use crate::config::{ClientAuthMethod, Config};
use crate::error::{LoginError, StartupError};
use crate::http::{ClientAuth, Http};
use crate::util;

/// The least time between two JWKS refetches triggered by an unknown `kid`, so that a flood of
/// forged tokens cannot turn us into a load generator against the provider.
pub(crate) const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// The parts of the provider metadata (OpenID Connect Discovery 1.0 §3) a code-flow client uses.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    #[serde(default)]
    pub response_types_supported: Vec<String>,
    pub end_session_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

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

/// What a validated ID token says, with its raw form. `Debug` shows the subject only.
#[derive(Clone)]
pub struct ValidatedIdToken {
    /// The compact JWS as the provider sent it.
    pub raw: String,
    /// Its payload.
    pub claims: Map<String, Value>,
    /// Its `sub`.
    pub subject: String,
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

impl std::fmt::Debug for ValidatedIdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidatedIdToken")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

struct JwksCache {
    keys: CoreJsonWebKeySet,
    last_refetch: Option<Instant>,
}

/// The discovered provider and everything the routes need to talk to it. Shared, immutable but
/// for the JWKS cache.
pub(crate) struct Provider {
    pub metadata: ProviderMetadata,
    pub http: Http,
    jwks: RwLock<JwksCache>,
    refetch: tokio::sync::Mutex<()>,
    jwks_fetches: std::sync::atomic::AtomicU64,
}

impl Provider {
    /// Discovers `config.issuer`, checks the metadata and fetches the keys (ignite step 2).
    pub(crate) async fn discover(config: &Config, http: Http) -> Result<Provider, StartupError> {
        let url = discovery_url(&config.issuer);
        let resp = http
            .get(&url, None)
            .await
            .map_err(|e| StartupError::Discovery {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        if !resp.is_success() {
            return Err(StartupError::Discovery {
                url,
                reason: format!("the server answered HTTP {}", resp.status),
            });
        }
        let metadata: ProviderMetadata = resp.json().map_err(|reason| StartupError::Discovery {
            url: url.clone(),
            reason,
        })?;
        check_metadata(config, &metadata)?;

        let jwks_uri = metadata.jwks_uri.clone().unwrap_or_default();
        let keys = fetch_jwks(&http, &jwks_uri)
            .await
            .map_err(|reason| StartupError::Jwks {
                url: jwks_uri.clone(),
                reason,
            })?;
        if keys.keys().is_empty() {
            return Err(StartupError::Jwks {
                url: jwks_uri,
                reason: "the key set holds no key this client can use".into(),
            });
        }
        Ok(Provider {
            metadata,
            http,
            jwks: RwLock::new(JwksCache {
                keys,
                last_refetch: None,
            }),
            refetch: tokio::sync::Mutex::new(()),
            jwks_fetches: std::sync::atomic::AtomicU64::new(1),
        })
    }

    /// How many times the JWKS was fetched, the one at ignite included.
    #[allow(dead_code)]
    pub(crate) fn jwks_fetches(&self) -> u64 {
        self.jwks_fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The number of usable keys in the cache.
    pub(crate) fn key_count(&self) -> usize {
        self.jwks.read().map(|c| c.keys.keys().len()).unwrap_or(0)
    }

    /// Ignite step 3: a code grant with a code that cannot be valid. `invalid_grant` means the
    /// provider accepted the client's credentials before looking at the code; `invalid_client`
    /// (or any 401: Keycloak answers `unauthorized_client` with 401 for a wrong secret) means it
    /// did not.
    pub(crate) async fn check_credentials(&self, config: &Config) -> Result<String, StartupError> {
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
        let resp = self
            .http
            .post_form(token_endpoint, &form, client_auth(config))
            .await
            .map_err(|e| StartupError::CredentialCheck(format!("{token_endpoint}: {e}")))?;
        let (error, description) = resp.oauth_error().unwrap_or_default();
        match (resp.status, error.as_str()) {
            (401, _) | (_, "invalid_client") => Err(StartupError::CredentialsRejected {
                client_id: config.client_id.clone(),
                error: if error.is_empty() {
                    "no OAuth error code".into()
                } else {
                    error
                },
                status: resp.status,
                description,
            }),
            (_, "invalid_grant") => {
                Ok("credentials accepted (invalid_grant for a dummy code)".into())
            }
            (status, "unauthorized_client") => Err(StartupError::CredentialCheck(format!(
                "the token endpoint answered unauthorized_client (HTTP {status}): the client \
                 `{}` may not use the authorization_code grant; enable it for this \
                 application at the provider",
                config.client_id
            ))),
            (status, _) if status >= 500 => Err(StartupError::CredentialCheck(format!(
                "the token endpoint {token_endpoint} answered HTTP {status}"
            ))),
            (status, error) => Ok(format!(
                "inconclusive (HTTP {status}, error `{}`): the provider did not reject the \
                 credentials, continuing",
                util::truncate(error, 64)
            )),
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
        let resp = self
            .http
            .post_form(token_endpoint, &form, client_auth(config))
            .await
            .map_err(|e| LoginError::TokenEndpoint(e.to_string()))?;
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
        let tokens: TokenResponse = resp.json().map_err(LoginError::TokenEndpoint)?;
        if !tokens.token_type.eq_ignore_ascii_case("bearer") {
            return Err(LoginError::TokenEndpoint(format!(
                "token_type `{}` is not Bearer",
                util::truncate(&tokens.token_type, 32)
            )));
        }
        Ok(tokens)
    }

    /// Validates an ID token completely (OIDC Core §3.1.3.7), refetching the JWKS once (rate
    /// limited) when the token names a key we do not know.
    pub(crate) async fn validate_id_token(
        &self,
        config: &Config,
        raw: &str,
        nonce: &str,
        access_token: &str,
    ) -> Result<ValidatedIdToken, LoginError> {
        let now = util::now_unix();
        match self.validate_with_cached_keys(config, raw, nonce, access_token, now) {
            Err(KeyLookup::Unknown) if self.refetch_jwks().await => {
                match self.validate_with_cached_keys(config, raw, nonce, access_token, now) {
                    Err(KeyLookup::Unknown) => Err(LoginError::IdToken(
                        "no key in the provider's JWKS matches the token's kid".into(),
                    )),
                    Err(KeyLookup::Rejected(e)) => Err(e),
                    Ok(v) => Ok(v),
                }
            }
            Err(KeyLookup::Unknown) => Err(LoginError::IdToken(
                "no key in the provider's JWKS matches the token's kid (refetch rate-limited)"
                    .into(),
            )),
            Err(KeyLookup::Rejected(e)) => Err(e),
            Ok(v) => Ok(v),
        }
    }

    fn validate_with_cached_keys(
        &self,
        config: &Config,
        raw: &str,
        nonce: &str,
        access_token: &str,
        now: i64,
    ) -> Result<ValidatedIdToken, KeyLookup> {
        let keys = self
            .jwks
            .read()
            .map_err(|_| KeyLookup::Rejected(LoginError::Internal("JWKS cache poisoned".into())))?
            .keys
            .clone();
        validate_id_token(config, keys, raw, nonce, access_token, now)
    }

    /// Refetches the JWKS unless another refetch happened within [`JWKS_REFETCH_INTERVAL`].
    /// Concurrent callers wait for one fetch. Returns whether the key set may have changed.
    async fn refetch_jwks(&self) -> bool {
        let _guard = self.refetch.lock().await;
        let recent = self
            .jwks
            .read()
            .ok()
            .and_then(|c| c.last_refetch)
            .is_some_and(|t| t.elapsed() < JWKS_REFETCH_INTERVAL);
        if recent {
            // Either rate-limited, or a concurrent caller just refetched: retry with its keys.
            return true;
        }
        let uri = self.metadata.jwks_uri.as_deref().unwrap_or_default();
        self.jwks_fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let fetched = fetch_jwks(&self.http, uri).await;
        let Ok(mut cache) = self.jwks.write() else {
            return false;
        };
        cache.last_refetch = Some(Instant::now());
        match fetched {
            Ok(keys) if !keys.keys().is_empty() => {
                log::info!(
                    "OpenID Connect: refetched the provider's JWKS ({} keys)",
                    keys.keys().len()
                );
                cache.keys = keys;
                true
            }
            Ok(_) => {
                log::warn!(
                    "OpenID Connect: refetched JWKS holds no usable key; keeping the old set"
                );
                false
            }
            Err(e) => {
                log::warn!("OpenID Connect: JWKS refetch from {uri} failed: {e}");
                false
            }
        }
    }

    /// Fetches userinfo with a Bearer header (RFC 6750 §2.1) and checks its `sub` (OIDC Core
    /// §5.3.2).
    pub(crate) async fn userinfo(
        &self,
        access_token: &str,
        subject: &str,
    ) -> Result<Option<Map<String, Value>>, LoginError> {
        let Some(endpoint) = self.metadata.userinfo_endpoint.as_deref() else {
            return Ok(None);
        };
        let resp = self
            .http
            .get(endpoint, Some(access_token))
            .await
            .map_err(|e| LoginError::UserInfo(e.to_string()))?;
        if !resp.is_success() {
            return Err(LoginError::UserInfo(format!("HTTP {}", resp.status)));
        }
        if resp
            .content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/jwt"))
        {
            return Err(LoginError::UserInfo(
                "signed or encrypted userinfo responses are not supported; configure the \
                 client at the provider to return plain JSON"
                    .into(),
            ));
        }
        let claims: Map<String, Value> = resp.json().map_err(LoginError::UserInfo)?;
        match claims.get("sub") {
            Some(Value::String(sub)) if util::constant_time_eq(sub, subject) => Ok(Some(claims)),
            Some(Value::String(_)) => Err(LoginError::UserInfo(
                "the userinfo `sub` differs from the ID token's `sub`".into(),
            )),
            _ => Err(LoginError::UserInfo(
                "the userinfo response has no string `sub`".into(),
            )),
        }
    }

    /// Revokes a token (RFC 7009), best effort: failures are logged, never returned. A
    /// hand-written POST, because openidconnect refuses http revocation URLs (loopback tests).
    pub(crate) async fn revoke(&self, config: &Config, token: &str, hint: &str) {
        let Some(endpoint) = self.metadata.revocation_endpoint.as_deref() else {
            return;
        };
        let form = [("token", token), ("token_type_hint", hint)];
        match self
            .http
            .post_form(endpoint, &form, client_auth(config))
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

enum KeyLookup {
    /// The token names a key (or needs one) we do not have: worth one JWKS refetch.
    Unknown,
    Rejected(LoginError),
}

/// `issuer` + `/.well-known/openid-configuration`, with exactly one slash between them
/// (Discovery 1.0 §4.1).
pub(crate) fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

fn check_metadata(config: &Config, m: &ProviderMetadata) -> Result<(), StartupError> {
    if m.issuer != config.issuer {
        return Err(StartupError::IssuerMismatch {
            configured: config.issuer.clone(),
            discovered: m.issuer.clone(),
        });
    }
    // An https issuer must not send the browser, the code or the client secret over plain http.
    if config.issuer.starts_with("https://") {
        let endpoints = [
            ("authorization_endpoint", Some(&m.authorization_endpoint)),
            ("token_endpoint", m.token_endpoint.as_ref()),
            ("userinfo_endpoint", m.userinfo_endpoint.as_ref()),
            ("jwks_uri", m.jwks_uri.as_ref()),
            ("revocation_endpoint", m.revocation_endpoint.as_ref()),
            ("end_session_endpoint", m.end_session_endpoint.as_ref()),
        ];
        for (name, url) in endpoints {
            if let Some(url) = url.filter(|u| !u.starts_with("https://")) {
                return Err(StartupError::Metadata {
                    issuer: m.issuer.clone(),
                    reason: format!(
                        "its {name} `{}` is not https, although the issuer is",
                        util::truncate(url, 200)
                    ),
                });
            }
        }
    }
    let mut missing = Vec::new();
    if m.token_endpoint.as_deref().is_none_or(str::is_empty) {
        missing.push("token_endpoint");
    }
    if m.jwks_uri.as_deref().is_none_or(str::is_empty) {
        missing.push("jwks_uri");
    }
    if !missing.is_empty() {
        return Err(StartupError::Metadata {
            issuer: m.issuer.clone(),
            reason: format!(
                "it has no {}; a code-flow client needs both a token endpoint and a JWKS",
                missing.join(" and no ")
            ),
        });
    }
    if !m.response_types_supported.iter().any(|t| t == "code") {
        return Err(StartupError::Metadata {
            issuer: m.issuer.clone(),
            reason: format!(
                "response_types_supported is {:?}; this client needs `code`: enable the \
                 authorization code flow for the provider",
                m.response_types_supported
            ),
        });
    }
    if let Some(methods) = &m.code_challenge_methods_supported {
        if !methods.iter().any(|x| x == "S256") {
            log::warn!(
                "OpenID Connect: the provider does not advertise PKCE S256 \
                 (code_challenge_methods_supported = {methods:?}); sending it anyway"
            );
        }
    }
    Ok(())
}

/// Fetches a JWKS, keeping the keys openidconnect can parse and skipping the rest (an unknown
/// key type must not break login with the others).
async fn fetch_jwks(http: &Http, uri: &str) -> Result<CoreJsonWebKeySet, String> {
    #[derive(Deserialize)]
    struct RawSet {
        keys: Vec<Value>,
    }
    let resp = http.get(uri, None).await.map_err(|e| e.to_string())?;
    if !resp.is_success() {
        return Err(format!("the server answered HTTP {}", resp.status));
    }
    let raw: RawSet = resp.json()?;
    let total = raw.keys.len();
    let keys: Vec<CoreJsonWebKey> = raw
        .keys
        .into_iter()
        .filter_map(|k| serde_json::from_value(k).ok())
        .collect();
    if keys.len() < total {
        log::warn!(
            "OpenID Connect: skipped {} of {total} JWKS keys that could not be parsed",
            total - keys.len()
        );
    }
    Ok(CoreJsonWebKeySet::new(keys))
}

fn client_auth(config: &Config) -> ClientAuth<'_> {
    let secret = config.client_secret.as_deref().unwrap_or_default();
    match config.client_auth_method {
        ClientAuthMethod::ClientSecretBasic => ClientAuth::Basic {
            id: &config.client_id,
            secret,
        },
        ClientAuthMethod::ClientSecretPost => ClientAuth::Post {
            id: &config.client_id,
            secret,
        },
        ClientAuthMethod::None => ClientAuth::None {
            id: &config.client_id,
        },
    }
}

/// The pure part of ID-token validation: everything but fetching keys. `now` is passed in so
/// tests can pin time.
fn validate_id_token(
    config: &Config,
    keys: CoreJsonWebKeySet,
    raw: &str,
    nonce: &str,
    access_token: &str,
    now: i64,
) -> Result<ValidatedIdToken, KeyLookup> {
    let reject = |m: String| KeyLookup::Rejected(LoginError::IdToken(m));
    let token = CoreIdToken::from_str(raw).map_err(|e| {
        reject(format!(
            "not a well-formed ID token: {}",
            util::truncate(&e.to_string(), 200)
        ))
    })?;
    let allowed: Vec<CoreJwsSigningAlgorithm> = config
        .signing_algorithms()
        .into_iter()
        .filter(|a| *a != CoreJwsSigningAlgorithm::None)
        .collect();
    let client_id = ClientId::new(config.client_id.clone());
    let issuer = IssuerUrl::new(config.issuer.clone())
        .map_err(|e| KeyLookup::Rejected(LoginError::Internal(format!("issuer URL: {e}"))))?;
    let verifier = match config.client_secret.as_deref() {
        Some(secret) if config.client_auth_method != ClientAuthMethod::None => {
            CoreIdTokenVerifier::new_confidential_client(
                client_id,
                ClientSecret::new(secret.to_owned()),
                issuer,
                keys,
            )
        }
        _ => CoreIdTokenVerifier::new_public_client(client_id, issuer, keys),
    };
    let skew = config.clock_skew_secs as i64;
    // The oldest plausible iat: the token answers a login started at most login_timeout_secs
    // ago (the transaction's age is checked), so an earlier iat (a negative one, say) is not a
    // token minted for this login. OIDC Core §3.1.3.7 step 10 leaves the range to the client.
    let oldest_iat = now
        .saturating_sub(config.login_timeout_secs.min(i64::MAX as u64) as i64)
        .saturating_sub(skew);
    let trusted = config.trusted_audiences.clone();
    let verifier = verifier
        .set_allowed_algs(allowed)
        // exp gets the clock skew: openidconnect compares exp with time_fn() and has no leeway.
        .set_time_fn(move || chrono_from_unix(now.saturating_sub(skew)))
        // iat must not be in the future beyond the skew, nor older than the login
        // (openidconnect accepts any iat).
        .set_issue_time_verifier_fn(move |iat| {
            let iat = iat.timestamp();
            if iat > now.saturating_add(skew) {
                Err(format!(
                    "iat is {} s in the future",
                    iat.saturating_sub(now)
                ))
            } else if iat < oldest_iat {
                Err(format!(
                    "iat is {} s in the past, before this login started",
                    now.saturating_sub(iat)
                ))
            } else {
                Ok(())
            }
        })
        .set_other_audience_verifier_fn(move |aud: &Audience| {
            trusted.iter().any(|t| t == aud.as_str())
        });
    let nonce = Nonce::new(nonce.to_owned());
    let claims = match token.claims(&verifier, &nonce) {
        Ok(c) => c,
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => return Err(KeyLookup::Unknown),
        Err(e) => return Err(reject(describe_claims_error(&e))),
    };
    // OIDC Core §3.1.3.7 steps 4 and 5, which openidconnect leaves out.
    let several_audiences = claims.audiences().len() > 1;
    match claims.authorized_party() {
        Some(azp) if azp.as_str() != config.client_id => {
            return Err(reject(format!(
                "azp `{}` is not this client",
                util::truncate(azp.as_str(), 64)
            )))
        }
        None if several_audiences => {
            return Err(reject("several audiences but no azp claim".into()))
        }
        _ => {}
    }
    // at_hash (OIDC Core §3.1.3.8 for the code flow: checked when present).
    if let Some(at_hash) = claims.access_token_hash() {
        let alg = token
            .signing_alg()
            .map_err(|e| reject(format!("signing algorithm: {e}")))?;
        match expected_token_hash(alg, access_token) {
            Some(expected) if util::constant_time_eq(&expected, at_hash.as_str()) => {}
            Some(_) => return Err(reject("at_hash does not match the access token".into())),
            None => {
                return Err(reject(
                    "at_hash with an algorithm we cannot hash for".into(),
                ))
            }
        }
    }
    let subject = claims.subject().as_str().to_owned();
    let payload = raw.split('.').nth(1).unwrap_or_default();
    let claims: Map<String, Value> = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| reject("payload is not a JSON object".into()))?;
    Ok(ValidatedIdToken {
        raw: raw.to_owned(),
        claims,
        subject,
    })
}

/// ID-token validation against `keys` with no refetch: what the callback does when the
/// token's key is cached. `now` is Unix seconds.
pub fn validate_id_token_with_keys(
    config: &Config,
    keys: CoreJsonWebKeySet,
    raw: &str,
    nonce: &str,
    access_token: &str,
    now: i64,
) -> Result<ValidatedIdToken, LoginError> {
    validate_id_token(config, keys, raw, nonce, access_token, now).map_err(|e| match e {
        KeyLookup::Unknown => {
            LoginError::IdToken("no key in the provider's JWKS matches the token's kid".into())
        }
        KeyLookup::Rejected(e) => e,
    })
}

fn chrono_from_unix(secs: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

fn describe_claims_error(e: &ClaimsVerificationError) -> String {
    match e {
        ClaimsVerificationError::SignatureVerification(inner) => {
            format!("signature: {}", util::truncate(&inner.to_string(), 200))
        }
        other => util::truncate(&other.to_string(), 300),
    }
}

/// The left half of the hash of `token`, base64url (OIDC Core §3.1.3.6), with the hash the JWS
/// algorithm names.
fn expected_token_hash(alg: &CoreJwsSigningAlgorithm, token: &str) -> Option<String> {
    use CoreJwsSigningAlgorithm as A;
    let digest: Vec<u8> = match alg {
        A::RsaSsaPkcs1V15Sha256 | A::RsaSsaPssSha256 | A::EcdsaP256Sha256 | A::HmacSha256 => {
            sha2::Sha256::digest(token.as_bytes()).to_vec()
        }
        A::RsaSsaPkcs1V15Sha384 | A::RsaSsaPssSha384 | A::EcdsaP384Sha384 | A::HmacSha384 => {
            sha2::Sha384::digest(token.as_bytes()).to_vec()
        }
        A::RsaSsaPkcs1V15Sha512
        | A::RsaSsaPssSha512
        | A::EcdsaP521Sha512
        | A::HmacSha512
        | A::EdDsa => sha2::Sha512::digest(token.as_bytes()).to_vec(),
        _ => return None,
    };
    Some(URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(issuer: &str, token_endpoint: &str) -> ProviderMetadata {
        serde_json::from_value(serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": token_endpoint,
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
        }))
        .unwrap()
    }

    #[test]
    fn an_https_issuer_must_not_name_http_endpoints() {
        let config = Config {
            issuer: "https://id.example".into(),
            ..Config::default()
        };
        let err = check_metadata(
            &config,
            &metadata("https://id.example", "http://id.example/token"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("token_endpoint `http://id.example/token` is not https"),
            "{err}"
        );
        assert!(check_metadata(
            &config,
            &metadata("https://id.example", "https://id.example/t")
        )
        .is_ok());
        // A loopback development issuer is plain http throughout.
        let local = Config {
            issuer: "http://127.0.0.1:9".into(),
            ..Config::default()
        };
        assert!(check_metadata(
            &local,
            &metadata("http://127.0.0.1:9", "http://127.0.0.1:9/t")
        )
        .is_ok());
    }

    #[test]
    fn discovery_url_has_one_slash() {
        assert_eq!(
            discovery_url("https://a.example/"),
            "https://a.example/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://a.example/realms/x"),
            "https://a.example/realms/x/.well-known/openid-configuration"
        );
    }

    #[test]
    fn at_hash_matches_the_spec_example() {
        // Expected value computed independently with Python:
        // base64.urlsafe_b64encode(hashlib.sha256(token).digest()[:16]).
        let hash = expected_token_hash(
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            "jHkWEdUXMU1BwAsC4vtUsZwnNbs",
        );
        assert_eq!(hash.as_deref(), Some("j64eQ4N9lYlOoMaKIf08Yw"));
    }

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
