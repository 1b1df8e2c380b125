//! The rules an ID token must pass (OpenID Connect Core 1.0 §3.1.3.7), as a pure function of the
//! token, the keys and the time: no network, no clock, so that every rule is tested on its own
//! at a fixed `now` (see `tests/id_token.rs`).
//!
//! openidconnect 4 checks the signature, `iss`, `aud`, `exp` and `nonce`; this module adds what
//! it leaves out: `azp` (steps 4 and 5), `exp` leeway, `iat` bounds (step 10), `at_hash`
//! (§3.1.3.8), and an explicit algorithm allow-list that never holds `none`.

use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    Audience, ClaimsVerificationError, ClientId, ClientSecret, IssuerUrl, Nonce,
    SignatureVerificationError,
};
use rocket::serde::json::serde_json::{self, Map, Value};
use sha2::Digest;

use super::issuer::IssuerPolicy;
use crate::config::{ClientAuthMethod, Config};
use crate::util;

/// What an ID token of one provider and client must satisfy, derived once from the config.
#[derive(Clone)]
pub struct IdTokenRules {
    issuer: IssuerUrl,
    /// Which `iss` is this provider's: `issuer` exactly, or a multi-tenant template.
    issuer_policy: IssuerPolicy,
    client_id: String,
    /// The client secret, which keys HS256/384/512 when those are allowed.
    hmac_secret: Option<String>,
    algorithms: Vec<CoreJwsSigningAlgorithm>,
    clock_skew: i64,
    /// How old an `iat` may be: a token answers a login started at most this long ago.
    max_age: i64,
    trusted_audiences: Vec<String>,
}

/// `Debug` leaves the secret out.
impl std::fmt::Debug for IdTokenRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdTokenRules")
            .field("issuer", &self.issuer.as_str())
            .field("issuer_policy", &self.issuer_policy)
            .field("client_id", &self.client_id)
            .field("algorithms", &self.algorithms)
            .field("clock_skew", &self.clock_skew)
            .field("max_age", &self.max_age)
            .field("trusted_audiences", &self.trusted_audiences)
            .finish_non_exhaustive()
    }
}

/// The HMAC key for `HS*` signatures: the client secret, unless the client is public.
/// Shared with the logout-token rules (Back-Channel Logout 1.0 §2.6: "in the same way as ID
/// tokens").
pub(crate) fn hmac_secret(config: &Config) -> Option<String> {
    config
        .client_secret
        .clone()
        .filter(|_| config.client_auth_method != Some(ClientAuthMethod::None))
}

/// The algorithms a token of `config`'s provider may be signed with; `none` never.
pub(crate) fn signing_algorithms(config: &Config) -> Vec<CoreJwsSigningAlgorithm> {
    config
        .signing_algorithms()
        .into_iter()
        .filter(|a| *a != CoreJwsSigningAlgorithm::None)
        .collect()
}

/// The clock skew allowed on `iat`/`exp`, in seconds.
pub(crate) fn clock_skew(config: &Config) -> i64 {
    config.clock_skew_secs.min(i64::MAX as u64) as i64
}

impl IdTokenRules {
    /// The rules of a validated `config`, for tokens whose `iss` is exactly `config.issuer`;
    /// `None` only if its issuer is not a URL (validation refuses such a config).
    pub fn from_config(config: &Config) -> Option<IdTokenRules> {
        Some(IdTokenRules {
            issuer: IssuerUrl::new(config.issuer.clone()).ok()?,
            issuer_policy: IssuerPolicy::Exact(config.issuer.clone()),
            client_id: config.client_id.clone(),
            hmac_secret: hmac_secret(config),
            algorithms: signing_algorithms(config),
            clock_skew: clock_skew(config),
            max_age: config.login_timeout_secs.min(i64::MAX as u64) as i64,
            trusted_audiences: config.trusted_audiences.clone(),
        })
    }

    /// The same rules with `iss` checked by `policy` (a multi-tenant template, found at
    /// discovery).
    pub fn with_issuer_policy(self, policy: IssuerPolicy) -> IdTokenRules {
        IdTokenRules {
            issuer_policy: policy,
            ..self
        }
    }

    /// How `iss` is checked.
    pub fn issuer_policy(&self) -> &IssuerPolicy {
        &self.issuer_policy
    }
}

/// The `nonce` an ID token must carry.
#[derive(Debug, Clone, Copy)]
pub enum ExpectedNonce<'a> {
    /// Exactly this one (the login's; OIDC Core §3.1.3.7 step 11).
    Exact(&'a str),
    /// This one if the token has a nonce, or none at all (a refreshed ID token, OIDC Core §12.2:
    /// Keycloak 25+ omits it).
    IfPresent(&'a str),
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

impl std::fmt::Debug for ValidatedIdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidatedIdToken")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Why an ID token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The token names a key (or needs one) that the key set does not hold: worth one JWKS
    /// refetch before giving up.
    UnknownKey,
    /// The token breaks a rule; the text says which, for the log.
    Invalid(String),
}

/// Validates `raw` against `rules` with `keys`, at `now` (Unix seconds). `access_token` is the
/// one issued with it, for `at_hash`.
pub fn validate(
    rules: &IdTokenRules,
    keys: &CoreJsonWebKeySet,
    raw: &str,
    nonce: ExpectedNonce<'_>,
    access_token: Option<&str>,
    now: i64,
) -> Result<ValidatedIdToken, Rejection> {
    let reject = |m: String| Rejection::Invalid(m);
    let token = CoreIdToken::from_str(raw).map_err(|e| {
        reject(format!(
            "not a well-formed ID token: {}",
            util::truncate(&e.to_string(), 200)
        ))
    })?;
    let client_id = ClientId::new(rules.client_id.clone());
    let verifier = match &rules.hmac_secret {
        Some(secret) => CoreIdTokenVerifier::new_confidential_client(
            client_id,
            ClientSecret::new(secret.clone()),
            rules.issuer.clone(),
            keys.clone(),
        ),
        None => {
            CoreIdTokenVerifier::new_public_client(client_id, rules.issuer.clone(), keys.clone())
        }
    };
    let skew = rules.clock_skew;
    // The oldest plausible iat: the token answers a login started at most max_age ago (the
    // transaction's age is checked), so an earlier iat (a negative one, say) is not a token
    // minted for this login. OIDC Core §3.1.3.7 step 10 leaves the range to the client.
    let oldest_iat = now.saturating_sub(rules.max_age).saturating_sub(skew);
    let trusted = rules.trusted_audiences.clone();
    let verifier = verifier
        // A multi-tenant template has no one issuer: `iss` is checked against `tid` below.
        .require_issuer_match(matches!(rules.issuer_policy, IssuerPolicy::Exact(_)))
        .set_allowed_algs(rules.algorithms.clone())
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
    let verified = match nonce {
        ExpectedNonce::Exact(n) => token.claims(&verifier, &Nonce::new(n.to_owned())),
        ExpectedNonce::IfPresent(n) => token.claims(&verifier, |got: Option<&Nonce>| match got {
            None => Ok(()),
            Some(got) if util::constant_time_eq(got.secret(), n) => Ok(()),
            Some(_) => Err("the nonce differs from the login's".to_owned()),
        }),
    };
    let claims = match verified {
        Ok(c) => c,
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => return Err(Rejection::UnknownKey),
        Err(e) => return Err(reject(describe_claims_error(&e))),
    };
    // OIDC Core §3.1.3.7 steps 4 and 5, which openidconnect leaves out.
    let several_audiences = claims.audiences().len() > 1;
    match claims.authorized_party() {
        Some(azp) if azp.as_str() != rules.client_id => {
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
        let Some(access_token) = access_token else {
            return Err(reject(
                "at_hash but no access token to check it against".into(),
            ));
        };
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
    // Microsoft's multi-tenant rule: `iss` is the template filled with the token's `tid`, an
    // allowed tenant.
    rules
        .issuer_policy
        .check_id_token(
            claims.get("iss").and_then(Value::as_str),
            claims.get("tid").and_then(Value::as_str),
        )
        .map_err(reject)?;
    Ok(ValidatedIdToken {
        raw: raw.to_owned(),
        claims,
        subject,
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
}
