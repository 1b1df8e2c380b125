//! The rules a logout token must pass (OpenID Connect Back-Channel Logout 1.0 §2.4 and §2.6),
//! as a pure function of the token, the keys and the time, like the ID-token rules next door;
//! every rule is tested on its own at a fixed `now` in `tests/logout_token.rs`. The replay check
//! (§2.6 step 10) needs the store and is the endpoint's (`routes/backchannel.rs`).
//!
//! openidconnect 4 has no logout-token type, so the JWS is checked here with its key types: the
//! algorithm from an allow-list that never holds `none` (RFC 8725 §3.1), the key chosen by `kid`
//! and type as openidconnect chooses it for ID tokens, `crit` refused (RFC 7515 §4.1.11).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyUse, JwsSigningAlgorithm};
use rocket::serde::json::serde_json::{self, Map, Value};

use super::{id_token, IssuerPolicy, Rejection};
use crate::config::Config;
use crate::util;

/// The member of `events` that makes a JWT a logout token (§2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How old a logout token's `iat` may be, beyond the clock skew (seconds). The provider sends
/// the token as the logout happens (§2.5) and should give it a short life (§2.4 recommends two
/// minutes for `exp`); five minutes leave room for a retry. It also bounds the replay cache.
pub const MAX_LOGOUT_TOKEN_AGE_SECS: i64 = 300;

/// The longest logout token read (bytes); real ones are well under 2 KB.
const MAX_LOGOUT_TOKEN_LEN: usize = 16 * 1024;

/// What a logout token of one provider and client must satisfy, derived once from the config.
#[derive(Clone)]
pub struct LogoutTokenRules {
    issuer: IssuerPolicy,
    client_id: String,
    /// The client secret, which keys HS256/384/512 when those are allowed.
    hmac_secret: Option<String>,
    algorithms: Vec<CoreJwsSigningAlgorithm>,
    clock_skew: i64,
    trusted_audiences: Vec<String>,
}

/// `Debug` leaves the secret out.
impl std::fmt::Debug for LogoutTokenRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogoutTokenRules")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("algorithms", &self.algorithms)
            .field("clock_skew", &self.clock_skew)
            .field("trusted_audiences", &self.trusted_audiences)
            .finish_non_exhaustive()
    }
}

impl LogoutTokenRules {
    /// The rules of `config`: the ID tokens' issuer, audience, algorithms and clock skew
    /// (§2.6 steps 3 and 4: "in the same way as ID tokens"), the issuer exactly `oidc.issuer`.
    pub fn from_config(config: &Config) -> LogoutTokenRules {
        LogoutTokenRules {
            issuer: IssuerPolicy::Exact(config.issuer.clone()),
            client_id: config.client_id.clone(),
            hmac_secret: id_token::hmac_secret(config),
            algorithms: id_token::signing_algorithms(config),
            clock_skew: id_token::clock_skew(config),
            trusted_audiences: config.trusted_audiences.clone(),
        }
    }

    /// The same rules with the issuer policy discovery resolved (a multi-tenant template
    /// accepts its tenants' issuers, as for ID tokens).
    pub fn with_issuer_policy(self, issuer: IssuerPolicy) -> LogoutTokenRules {
        LogoutTokenRules { issuer, ..self }
    }

    /// The clock skew tolerated (seconds).
    pub fn clock_skew(&self) -> i64 {
        self.clock_skew
    }
}

/// What a valid logout token says. `Debug` shows `sub` and times, never `sid` or `jti`.
#[derive(Clone, PartialEq, Eq)]
pub struct ValidatedLogoutToken {
    /// Its issuer: the provider's (or, for a multi-tenant provider, a tenant's).
    pub iss: String,
    /// The user whose sessions end, when given.
    pub sub: Option<String>,
    /// The provider session that ends, when given (§2.4: at least one of `sub` and `sid`).
    pub sid: Option<String>,
    /// Its unique id (§2.4), for the replay cache.
    pub jti: String,
    /// When it was issued (Unix seconds).
    pub iat: i64,
    /// When it expires, if it says.
    pub exp: Option<i64>,
}

impl std::fmt::Debug for ValidatedLogoutToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidatedLogoutToken")
            .field("iss", &self.iss)
            .field("sub", &self.sub)
            .field("sid", &self.sid.as_ref().map(|_| "<redacted>"))
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

impl ValidatedLogoutToken {
    /// Until when its `jti` must be remembered: past that, the token is refused for its age
    /// (`iat`) or its `exp`, so a replay needs no cache.
    pub fn replay_horizon(&self, clock_skew: i64) -> i64 {
        let by_age = self
            .iat
            .saturating_add(MAX_LOGOUT_TOKEN_AGE_SECS)
            .saturating_add(clock_skew);
        match self.exp {
            Some(exp) => by_age.min(exp.saturating_add(clock_skew)),
            None => by_age,
        }
    }

    /// The `logged_out_at` of its markers, at `now`: `iat` plus the skew at the latest, so that
    /// a token replayed after the cache forgot it cannot sign out a later login.
    pub fn logged_out_at(&self, now: i64, clock_skew: i64) -> i64 {
        now.min(self.iat.saturating_add(clock_skew))
    }
}

/// Validates the logout token `raw` against `rules` with `keys`, at `now` (Unix seconds).
pub fn validate_logout_token(
    rules: &LogoutTokenRules,
    keys: &CoreJsonWebKeySet,
    raw: &str,
    now: i64,
) -> Result<ValidatedLogoutToken, Rejection> {
    let reject = |m: &str| Rejection::Invalid(m.to_owned());
    if raw.len() > MAX_LOGOUT_TOKEN_LEN {
        return Err(reject("longer than 16 KiB"));
    }
    let parts: Vec<&str> = raw.split('.').collect();
    let (header_b64, payload_b64, signature_b64) = match parts[..] {
        [h, p, s] => (h, p, s),
        [_, _, _, _, _] => {
            return Err(reject(
                "encrypted (JWE): this client registers no ID token encryption, so logout \
                 tokens must be signed JWTs (§2.6 steps 1 and 2)",
            ))
        }
        _ => return Err(reject("not a compact JWS (three base64url parts)")),
    };
    let header = json_object(header_b64).ok_or_else(|| reject("the header is not JSON"))?;
    let payload = json_object(payload_b64).ok_or_else(|| reject("the payload is not JSON"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| reject("the signature is not base64url"))?;

    // §2.4, explicit typing (RFC 8725 §3.11): when `typ` is there it must say logout token,
    // so that no other JWT of this provider (an ID token, `typ: JWT`) passes for one.
    // Media types compare case-insensitively, with or without `application/` (RFC 7515 §4.1.9).
    if let Some(typ) = header.get("typ") {
        let typ = typ.as_str().unwrap_or_default().to_ascii_lowercase();
        if typ != "logout+jwt" && typ != "application/logout+jwt" {
            return Err(Rejection::Invalid(format!(
                "typ `{}` is not logout+jwt",
                util::truncate(&typ, 40)
            )));
        }
    }
    if header.contains_key("crit") {
        return Err(reject(
            "the header has `crit` extensions, which we do not implement",
        ));
    }

    // §2.6 step 3: the signature, as for ID tokens (OIDC Core §3.1.3.7 steps 6–8).
    let alg_name = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| reject("the header has no `alg`"))?;
    let alg: CoreJwsSigningAlgorithm = serde_json::from_value(Value::String(alg_name.into()))
        .map_err(|_| reject("signature: unknown algorithm"))?;
    if alg == CoreJwsSigningAlgorithm::None || !rules.algorithms.contains(&alg) {
        return Err(Rejection::Invalid(format!(
            "signature: algorithm `{}` is not allowed",
            util::truncate(alg_name, 16)
        )));
    }
    let signing_input = &raw[..header_b64.len() + 1 + payload_b64.len()];
    let verified = if alg.uses_shared_secret() {
        let Some(secret) = &rules.hmac_secret else {
            return Err(reject("signature: HMAC needs a client secret"));
        };
        CoreJsonWebKey::new_symmetric(secret.clone().into_bytes()).verify_signature(
            &alg,
            signing_input.as_bytes(),
            &signature,
        )
    } else {
        let kid = header.get("kid").and_then(Value::as_str);
        let candidates: Vec<&CoreJsonWebKey> = keys
            .keys()
            .iter()
            .filter(|k| kid.is_none_or(|kid| k.key_id().is_some_and(|id| id.as_str() == kid)))
            .filter(|k| compatible(k, &alg))
            .collect();
        match candidates[..] {
            [] => return Err(Rejection::UnknownKey),
            [key] => key.verify_signature(&alg, signing_input.as_bytes(), &signature),
            _ => return Err(reject(
                "signature: several keys fit and the header names none (`kid`, OIDC Core §10.1)",
            )),
        }
    };
    verified.map_err(|e| {
        Rejection::Invalid(format!(
            "signature: {}",
            util::truncate(&e.to_string(), 200)
        ))
    })?;

    // §2.6 step 4: iss, aud, iat (and exp when present) as for ID tokens.
    let iss = match payload.get("iss").and_then(Value::as_str) {
        Some(iss) if rules.issuer.accepts(iss) => iss.to_owned(),
        Some(iss) => {
            return Err(Rejection::Invalid(format!(
                "iss `{}` is not the configured issuer",
                util::truncate(iss, 100)
            )))
        }
        None => return Err(reject("no iss")),
    };
    check_audience(rules, payload.get("aud"))?;
    let skew = rules.clock_skew;
    let iat = payload
        .get("iat")
        .ok_or_else(|| reject("no iat"))
        .and_then(|v| numeric_date(v).ok_or_else(|| reject("iat is not a NumericDate")))?;
    if iat > now.saturating_add(skew) {
        return Err(Rejection::Invalid(format!(
            "iat is {} s in the future",
            iat.saturating_sub(now)
        )));
    }
    if iat
        < now
            .saturating_sub(skew)
            .saturating_sub(MAX_LOGOUT_TOKEN_AGE_SECS)
    {
        return Err(Rejection::Invalid(format!(
            "iat is {} s in the past, older than a logout token may be",
            now.saturating_sub(iat)
        )));
    }
    let exp = match payload.get("exp") {
        None => None,
        Some(v) => {
            let exp = numeric_date(v).ok_or_else(|| reject("exp is not a NumericDate"))?;
            if exp <= now.saturating_sub(skew) {
                return Err(Rejection::Invalid(format!(
                    "expired {} s ago",
                    now.saturating_sub(exp)
                )));
            }
            Some(exp)
        }
    };

    // §2.6 step 5: the back-channel logout event, an object.
    let event = payload
        .get("events")
        .ok_or_else(|| reject("no events claim"))?
        .as_object()
        .ok_or_else(|| reject("events is not a JSON object"))?
        .get(BACKCHANNEL_LOGOUT_EVENT)
        .ok_or_else(|| reject("events has no back-channel logout event"))?;
    if !event.is_object() {
        return Err(reject(
            "the back-channel logout event's value is not a JSON object",
        ));
    }

    // §2.6 step 6: sub, sid or both.
    let string_claim = |name: &str| -> Result<Option<String>, Rejection> {
        match payload.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(Rejection::Invalid(format!(
                "{name} is not a non-empty string"
            ))),
        }
    };
    let sub = string_claim("sub")?;
    let sid = string_claim("sid")?;
    if sub.is_none() && sid.is_none() {
        return Err(reject("neither sub nor sid"));
    }

    // §2.6 step 7: no nonce, so that a logout token can never pass for an ID token.
    if payload.contains_key("nonce") {
        return Err(reject("it has a nonce, which logout tokens must not have"));
    }

    // §2.4: jti is required; the endpoint checks it was not seen before (§2.6 step 10).
    let jti = string_claim("jti")?.ok_or_else(|| reject("no jti"))?;
    Ok(ValidatedLogoutToken {
        iss,
        sub,
        sid,
        jti,
        iat,
        exp,
    })
}

/// A base64url segment holding a JSON object.
fn json_object(segment: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A NumericDate (RFC 7519 §2): seconds, possibly fractional, within `i64`.
fn numeric_date(value: &Value) -> Option<i64> {
    let n = value.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // Only floats that stand for a real time: finite, and within ±2^53 (exact in f64).
    const LIMIT: f64 = 9_007_199_254_740_992.0;
    (f.is_finite() && f.abs() < LIMIT).then(|| f.floor() as i64)
}

/// `aud` names this client, and every other audience is trusted (OIDC Core §3.1.3.7 step 3).
fn check_audience(rules: &LogoutTokenRules, aud: Option<&Value>) -> Result<(), Rejection> {
    let audiences: Vec<&str> = match aud {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(_) => return Err(Rejection::Invalid("aud is not a string or array".into())),
        None => return Err(Rejection::Invalid("no aud".into())),
    };
    if !audiences.contains(&rules.client_id.as_str()) {
        return Err(Rejection::Invalid("aud does not name this client".into()));
    }
    if let Some(other) = audiences
        .iter()
        .find(|a| **a != rules.client_id && !rules.trusted_audiences.iter().any(|t| t == *a))
    {
        return Err(Rejection::Invalid(format!(
            "aud names `{}`, which is not a trusted audience",
            util::truncate(other, 64)
        )));
    }
    Ok(())
}

/// Whether `key` may verify `alg` signatures: its use, type and algorithm allow it (what
/// openidconnect checks for ID-token keys).
fn compatible(key: &CoreJsonWebKey, alg: &CoreJwsSigningAlgorithm) -> bool {
    if key.key_use().is_some_and(|u| !u.allows_signature()) {
        return false;
    }
    if alg.key_type().as_ref() != Some(key.key_type()) {
        return false;
    }
    match key.signing_alg() {
        JsonWebKeyAlgorithm::Unspecified => true,
        JsonWebKeyAlgorithm::Unsupported => false,
        JsonWebKeyAlgorithm::Algorithm(key_alg) => key_alg == alg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(iat: i64, exp: Option<i64>) -> ValidatedLogoutToken {
        ValidatedLogoutToken {
            iss: "https://op.example".into(),
            sub: Some("ada".into()),
            sid: None,
            jti: "j".into(),
            iat,
            exp,
        }
    }

    #[test]
    fn the_replay_horizon_covers_every_moment_the_token_is_accepted() {
        // Accepted while now <= iat + skew + MAX_AGE and (if exp) now < exp + skew.
        assert_eq!(token(1000, None).replay_horizon(60), 1360);
        assert_eq!(token(1000, Some(1120)).replay_horizon(60), 1180);
        assert_eq!(token(1000, Some(5000)).replay_horizon(60), 1360);
        assert_eq!(token(i64::MAX, None).replay_horizon(60), i64::MAX);
    }

    #[test]
    fn markers_never_reach_past_iat_plus_the_skew() {
        assert_eq!(token(1000, None).logged_out_at(1010, 60), 1010);
        assert_eq!(token(1000, None).logged_out_at(1300, 60), 1060);
    }

    #[test]
    fn numeric_dates_are_whole_seconds_within_range() {
        use rocket::serde::json::serde_json::json;
        assert_eq!(numeric_date(&json!(1_700_000_000)), Some(1_700_000_000));
        assert_eq!(numeric_date(&json!(1_700_000_000.9)), Some(1_700_000_000));
        assert_eq!(numeric_date(&json!(u64::MAX)), None);
        assert_eq!(numeric_date(&json!(1e300)), None);
        assert_eq!(numeric_date(&json!("1700000000")), None);
    }
}
