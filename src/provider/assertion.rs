//! JWTs the client signs with its own key: `private_key_jwt` client assertions (RFC 7523 §2.2
//! and §3, OpenID Connect Core §9), fresh for every request, and Sign in with Apple's client
//! secret (an ES256 JWT of at most six months), minted once and renewed before it expires.
//!
//! Everything here takes `now` (and the `jti`) as arguments, so that tests assert exact
//! claims; the callers pass the clock and `util::random_token`.

use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rocket::serde::json::serde_json::{self, json, Value};

use super::client_key::ClientKey;

/// How long a client assertion is valid: short, since a fresh one is made for every request
/// (OpenID Connect Core §9: "short expiration"), yet tolerant of a minute or two of clock
/// difference with the provider. Okta and the development issuer accept at most an hour.
pub(crate) const ASSERTION_LIFETIME_SECS: i64 = 120;

/// The `aud` of a Sign in with Apple client secret.
pub(crate) const APPLE_AUDIENCE: &str = "https://appleid.apple.com";

/// How long a minted Apple client secret is valid. Apple allows up to six months (15777000 s);
/// a day keeps a leaked secret short-lived, and minting costs well under a millisecond.
pub(crate) const APPLE_SECRET_LIFETIME_SECS: i64 = 24 * 60 * 60;

/// A cached Apple client secret is replaced once it is this close to its `exp`, so that no
/// request carries a secret that expires on its way (or at a provider whose clock runs ahead).
pub(crate) const APPLE_SECRET_RENEW_MARGIN_SECS: i64 = 60 * 60;

/// A compact JWS (RFC 7515 §7.1) of `header` and `claims`, signed with `key`.
pub(crate) fn sign_jwt(key: &ClientKey, header: &Value, claims: &Value) -> Result<String, String> {
    let encode = |value: &Value| {
        serde_json::to_vec(value)
            .map(|json| URL_SAFE_NO_PAD.encode(json))
            .map_err(|e| format!("the JWT cannot be encoded: {e}"))
    };
    let signing_input = format!("{}.{}", encode(header)?, encode(claims)?);
    let signature = key.sign(signing_input.as_bytes())?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

/// A `private_key_jwt` client assertion for a request to `audience` (the URL of the endpoint
/// it is sent to) made at `now` (Unix seconds): header `alg`, `typ: JWT` and the key's `kid`;
/// claims `iss` = `sub` = `client_id` (RFC 7523 §3 items 1 and 2), `aud` = `audience` (item 3),
/// `exp` = `now` + [`ASSERTION_LIFETIME_SECS`] (item 4), `iat` = `now` (item 6) and `jti`
/// (item 7; the provider may refuse a `jti` it has seen, so every request gets a new one).
///
/// `aud` is the URL the assertion is sent to, never another: a provider that receives it can
/// only present it to itself (the audience-injection attack on `private_key_jwt` needs an
/// assertion whose `aud` names another server than the one it is sent to).
pub(crate) fn client_assertion(
    key: &ClientKey,
    client_id: &str,
    audience: &str,
    now: i64,
    jti: &str,
) -> Result<String, String> {
    let mut header = json!({ "alg": key.alg().as_str(), "typ": "JWT" });
    if let Some(kid) = key.kid() {
        header["kid"] = json!(kid);
    }
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now.saturating_add(ASSERTION_LIFETIME_SECS),
        "jti": jti,
    });
    sign_jwt(key, &header, &claims)
}

/// A Sign in with Apple client secret minted at `now`: header `alg: ES256` and `kid` = the
/// key id; claims `iss` = the team id, `iat`, `exp` = `iat` + [`APPLE_SECRET_LIFETIME_SECS`],
/// `aud` = [`APPLE_AUDIENCE`], `sub` = the client id (the Services ID). Returns it with its
/// `exp`.
pub(crate) fn apple_client_secret(
    key: &ClientKey,
    team_id: &str,
    client_id: &str,
    now: i64,
) -> Result<(String, i64), String> {
    let exp = now.saturating_add(APPLE_SECRET_LIFETIME_SECS);
    let header = json!({ "alg": "ES256", "kid": key.kid().unwrap_or_default() });
    let claims = json!({
        "iss": team_id,
        "iat": now,
        "exp": exp,
        "aud": APPLE_AUDIENCE,
        "sub": client_id,
    });
    Ok((sign_jwt(key, &header, &claims)?, exp))
}

/// Sign in with Apple's client secret for one client: minted on first use, reused, and
/// replaced once within [`APPLE_SECRET_RENEW_MARGIN_SECS`] of its `exp`.
pub(crate) struct AppleSecret {
    key: ClientKey,
    team_id: String,
    client_id: String,
    /// The current secret and its `exp`.
    current: Mutex<Option<(String, i64)>>,
}

impl std::fmt::Debug for AppleSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppleSecret")
            .field("key", &self.key)
            .field("team_id", &self.team_id)
            .field("client_id", &self.client_id)
            .field("current", &"<redacted>")
            .finish()
    }
}

impl AppleSecret {
    /// The secret of `client_id` in team `team_id`, signed with `key` (P-256, its `kid` the
    /// Key ID).
    pub(crate) fn new(key: ClientKey, team_id: String, client_id: String) -> AppleSecret {
        AppleSecret {
            key,
            team_id,
            client_id,
            current: Mutex::new(None),
        }
    }

    /// The key it is signed with.
    pub(crate) fn key(&self) -> &ClientKey {
        &self.key
    }

    /// The team id (the secret's `iss`).
    pub(crate) fn team_id(&self) -> &str {
        &self.team_id
    }

    /// The secret to send at `now`: the current one while more than the renewal margin is
    /// left before its `exp`, else a new one (which becomes the current one).
    pub(crate) fn secret_at(&self, now: i64) -> Result<String, String> {
        // One minting at a time; a poisoned lock only means another thread panicked while
        // minting, and the value it guards is replaced anyway.
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((secret, exp)) = current.as_ref() {
            if exp.saturating_sub(now) > APPLE_SECRET_RENEW_MARGIN_SECS {
                return Ok(secret.clone());
            }
        }
        let (secret, exp) = apple_client_secret(&self.key, &self.team_id, &self.client_id, now)?;
        *current = Some((secret.clone(), exp));
        Ok(secret)
    }
}

#[cfg(test)]
mod tests;
