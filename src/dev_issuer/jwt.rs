//! Hand-rolled JWS for ID tokens, so that faults can produce any header, claim set or signature.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rocket::serde::json::serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::directory::DevUser;
#[cfg(any(test, feature = "internals"))]
use super::directory::{default_users, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use super::faults::{many_groups, Fault, Faults};
use super::keys::{self, to_compact, KeyId};

/// What an ID token is about.
pub(crate) struct IdTokenInput<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The client's secret (for [`Fault::Hs256WithClientSecret`]).
    pub client_secret: Option<&'a str>,
    pub user: &'a DevUser,
    pub scope: &'a [String],
    pub nonce: Option<&'a str>,
    /// The login's `sid`, for clients that require it.
    pub sid: Option<&'a str>,
    /// Unix time of the login.
    pub auth_time: u64,
    pub access_token: &'a str,
    /// Unix time of issue.
    pub now: u64,
    /// Seconds until `exp`.
    pub lifetime: u64,
}

/// The claims a user releases for `scope` (besides `sub`): `profile` releases `name`,
/// `given_name`, `family_name`, `preferred_username`; `email` releases `email` and
/// `email_verified`; `groups` releases `groups`; the user's `extra` claims are always released.
pub(crate) fn user_claims(user: &DevUser, scope: &[String], faults: &Faults) -> Map<String, Value> {
    let has = |s: &str| scope.iter().any(|granted| granted == s);
    let mut claims = Map::new();
    for (name, value) in &user.extra {
        claims.insert(name.clone(), value.clone());
    }
    if has("profile") {
        claims.insert("name".into(), json!(user.name));
        claims.insert("given_name".into(), json!(user.given_name));
        claims.insert("family_name".into(), json!(user.family_name));
        claims.insert("preferred_username".into(), json!(user.preferred_username));
    }
    if has("email") {
        claims.insert("email".into(), json!(user.email));
        claims.insert("email_verified".into(), json!(user.email_verified));
    }
    if has("groups") {
        claims.insert("groups".into(), json!(user.groups));
    }
    if let Some(n) = faults.many_groups() {
        let mut groups = if has("groups") {
            user.groups.clone()
        } else {
            Vec::new()
        };
        groups.extend(many_groups(n));
        claims.insert("groups".into(), json!(groups));
    }
    if faults.has(&Fault::GroupOverage) {
        claims.remove("groups");
        let endpoint = format!(
            "https://graph.microsoft.com/v1.0/users/{}/getMemberObjects",
            user.sub
        );
        claims.insert("_claim_names".into(), json!({"groups": "src1"}));
        claims.insert(
            "_claim_sources".into(),
            json!({"src1": {"endpoint": endpoint}}),
        );
    }
    claims
}

/// `at_hash` (OpenID Connect Core §3.1.3.6): base64url of the left half of SHA-256 of the
/// access token's ASCII bytes.
pub(crate) fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The ID token's claim set, with the claim faults applied.
pub(crate) fn id_token_claims(input: &IdTokenInput<'_>, faults: &Faults) -> Map<String, Value> {
    let mut claims = user_claims(input.user, input.scope, faults);
    let (mut iat, mut exp, mut auth_time) =
        (input.now, input.now + input.lifetime, input.auth_time);
    if faults.has(&Fault::Expired) {
        exp = input.now.saturating_sub(3600);
        iat = exp.saturating_sub(input.lifetime);
        auth_time = auth_time.min(iat);
    }
    if faults.has(&Fault::IatInFuture) {
        iat = input.now + 3600;
    }
    claims.insert("iss".into(), json!(input.issuer));
    claims.insert("sub".into(), json!(input.user.sub));
    claims.insert("aud".into(), json!(input.client_id));
    claims.insert("exp".into(), json!(exp));
    claims.insert("iat".into(), json!(iat));
    claims.insert("auth_time".into(), json!(auth_time));
    if let Some(nonce) = input.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    if let Some(sid) = input.sid {
        claims.insert("sid".into(), json!(sid));
    }
    claims.insert("at_hash".into(), json!(at_hash(input.access_token)));

    for fault in &faults.0 {
        match fault {
            Fault::WrongIssuer => {
                claims.insert("iss".into(), json!("http://wrong-issuer.invalid"));
            }
            Fault::WrongAudience => {
                claims.insert("aud".into(), json!("another-client"));
            }
            Fault::WrongAzp => {
                claims.insert("azp".into(), json!("another-client"));
            }
            Fault::ExtraAudience => {
                claims.insert("aud".into(), json!([input.client_id, "another-audience"]));
            }
            Fault::MissingSub => {
                claims.remove("sub");
            }
            Fault::MissingIat => {
                claims.remove("iat");
            }
            Fault::MissingExp => {
                claims.remove("exp");
            }
            Fault::WrongNonce => {
                claims.insert("nonce".into(), json!("not-the-nonce-you-sent"));
            }
            Fault::MissingNonce => {
                claims.remove("nonce");
            }
            Fault::WrongAtHash => {
                let other = format!("{}-not-this-one", input.access_token);
                claims.insert("at_hash".into(), json!(at_hash(&other)));
            }
            _ => {}
        }
    }
    for fault in &faults.0 {
        match fault {
            Fault::Claim(name, value) => {
                claims.insert(name.clone(), value.clone());
            }
            Fault::RemoveClaim(name) => {
                claims.remove(name);
            }
            _ => {}
        }
    }
    claims
}

/// The key ID tokens are signed with under `faults`.
pub(crate) fn signing_key(faults: &Faults) -> KeyId {
    if faults.has(&Fault::RotatedKey) {
        KeyId::B
    } else {
        KeyId::A
    }
}

/// The keys the JWKS publishes under `faults`.
pub(crate) fn published_keys(faults: &Faults) -> Vec<KeyId> {
    let mut ids = vec![KeyId::A];
    if faults.has(&Fault::RotatedKey) {
        ids.push(KeyId::B);
    }
    if faults.has(&Fault::ExtraJwksKey) {
        ids.push(KeyId::C);
    }
    ids
}

/// A compact JWS of `claims`, signed as `faults` say (RS256 with the current key by default).
pub(crate) fn sign(
    claims: &Map<String, Value>,
    client_secret: Option<&str>,
    faults: &Faults,
) -> String {
    sign_typed(&Value::Object(claims.clone()), client_secret, faults, "JWT")
}

/// A compact JWS of any JSON `payload`, with header `typ`, signed as `faults` say.
pub(crate) fn sign_typed(
    payload: &Value,
    client_secret: Option<&str>,
    faults: &Faults,
    typ: &str,
) -> String {
    let key = keys::key(signing_key(faults));
    let mut header = Map::new();
    let mut mac_secret: Option<Vec<u8>> = None;
    if faults.has(&Fault::AlgNone) {
        header.insert("alg".into(), json!("none"));
    } else if faults.has(&Fault::Hs256WithPublicKey) {
        header.insert("alg".into(), json!("HS256"));
        header.insert("kid".into(), json!(key.kid));
        mac_secret = Some(key.public_pem.as_bytes().to_vec());
    } else if faults.has(&Fault::Hs256WithClientSecret) {
        header.insert("alg".into(), json!("HS256"));
        mac_secret = Some(client_secret.unwrap_or("").as_bytes().to_vec());
    } else {
        header.insert("alg".into(), json!("RS256"));
        header.insert("kid".into(), json!(key.kid));
    }
    header.insert("typ".into(), json!(typ));
    if faults.has(&Fault::NoKid) {
        header.remove("kid");
    }
    if faults.has(&Fault::UnknownKid) {
        let random: u64 = rand::random();
        header.insert("kid".into(), json!(format!("unknown-{random:016x}")));
    }

    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(to_compact(&Value::Object(header))),
        URL_SAFE_NO_PAD.encode(to_compact(payload))
    );
    let mut signature = if faults.has(&Fault::AlgNone) {
        Vec::new()
    } else if let Some(secret) = mac_secret {
        hs256(&secret, signing_input.as_bytes())
    } else {
        key.sign(signing_input.as_bytes())
    };
    if faults.has(&Fault::BadSignature) {
        if let Some(first) = signature.first_mut() {
            *first ^= 0xff;
        }
        if let Some(last) = signature.last_mut() {
            *last ^= 0xff;
        }
    }
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn hs256(secret: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; the error case cannot happen.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Builds and signs an ID token.
pub(crate) fn id_token(input: &IdTokenInput<'_>, faults: &Faults) -> String {
    sign(&id_token_claims(input, faults), input.client_secret, faults)
}

/// The claims of a token this issuer signed (RS256 with any of its keys), or `None`.
/// Expiry is not checked: `id_token_hint` may be expired (RP-Initiated Logout 1.0 §2).
pub(crate) fn verify_own(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Value =
        rocket::serde::json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header.get("alg")? != "RS256" {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let signing_input = &token[..token.len() - token.rsplit('.').next()?.len() - 1];
    let kid = header.get("kid").and_then(Value::as_str);
    let verified = keys::all_keys()
        .iter()
        .filter(|key| kid.is_none_or(|kid| kid == key.kid))
        .any(|key| key.verify(signing_input.as_bytes(), &signature));
    if !verified {
        return None;
    }
    match rocket::serde::json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

/// Signs an ID token for the first default user, as the token endpoint would (for the benches:
/// what one signature costs).
#[cfg(feature = "internals")]
#[doc(hidden)]
pub fn sign_sample_id_token() -> String {
    let user = &default_users()[0];
    let scope = [
        "openid".to_string(),
        "profile".to_string(),
        "email".to_string(),
    ];
    id_token(
        &IdTokenInput {
            issuer: "http://127.0.0.1:1",
            client_id: DEFAULT_CLIENT_ID,
            client_secret: Some(DEFAULT_CLIENT_SECRET),
            user,
            scope: &scope,
            nonce: Some("n-0S6_WzA2Mj"),
            sid: None,
            auth_time: 1_700_000_000,
            access_token: "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
            now: 1_700_000_010,
            lifetime: 3600,
        },
        &Faults::default(),
    )
}

/// Signs `claims` as the issuer signs its ID tokens, with `faults` applied to the header and
/// signature (for the ID-token rule tests: `alg: none`, a bad signature, HS256, key rotation).
#[cfg(feature = "internals")]
#[doc(hidden)]
pub fn sign_dev_jwt(
    claims: &Map<String, Value>,
    client_secret: Option<&str>,
    faults: &[super::Fault],
) -> String {
    sign(claims, client_secret, &Faults(faults.to_vec()))
}

/// The JWKS the issuer publishes under `faults`, as JSON.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub fn dev_jwks(faults: &[super::Fault]) -> Value {
    keys::jwks(&published_keys(&Faults(faults.to_vec())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(user: &'a DevUser, scope: &'a [String]) -> IdTokenInput<'a> {
        IdTokenInput {
            issuer: "http://127.0.0.1:1",
            client_id: "client",
            client_secret: Some("secret"),
            user,
            scope,
            nonce: Some("n-0S6_WzA2Mj"),
            sid: None,
            auth_time: 1_700_000_000,
            access_token: "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
            now: 1_700_000_010,
            lifetime: 3600,
        }
    }

    #[test]
    fn at_hash_matches_the_spec_example() {
        // OpenID Connect Core, Appendix A.3/A.4 example values.
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn claims_follow_scopes() {
        let user = &default_users()[0];
        let scope = vec!["openid".to_string(), "email".to_string()];
        let claims = id_token_claims(&input(user, &scope), &Faults::default());
        assert_eq!(claims["sub"], json!(user.sub));
        assert_eq!(claims["email"], json!(user.email));
        assert!(!claims.contains_key("name"));
        assert!(!claims.contains_key("groups"));
        assert_eq!(claims["exp"], json!(1_700_003_610u64));
        assert_eq!(claims["nonce"], json!("n-0S6_WzA2Mj"));
    }

    #[test]
    fn own_tokens_verify_and_corrupted_ones_do_not() {
        let user = &default_users()[1];
        let scope = vec!["openid".to_string()];
        let good = id_token(&input(user, &scope), &Faults::default());
        assert_eq!(verify_own(&good).unwrap()["sub"], json!(user.sub));
        assert_eq!(good.matches('.').count(), 2);
        for fault in [
            Fault::BadSignature,
            Fault::AlgNone,
            Fault::Hs256WithPublicKey,
        ] {
            let bad = id_token(&input(user, &scope), &Faults(vec![fault.clone()]));
            assert!(verify_own(&bad).is_none(), "{fault:?}");
        }
        let unknown = |token: &str| -> Value {
            let header = token.split('.').next().unwrap();
            rocket::serde::json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
        };
        let faults = Faults(vec![Fault::UnknownKid]);
        let (one, two) = (
            id_token(&input(user, &scope), &faults),
            id_token(&input(user, &scope), &faults),
        );
        let kid = unknown(&one)["kid"].as_str().unwrap().to_owned();
        assert!(kid.starts_with("unknown-"), "{kid}");
        assert_ne!(
            unknown(&two)["kid"],
            json!(kid),
            "a fresh kid on every token"
        );
        assert!(verify_own(&one).is_none(), "no published key has that kid");
        let rotated = id_token(&input(user, &scope), &Faults(vec![Fault::RotatedKey]));
        assert!(verify_own(&rotated).is_some());
        assert!(verify_own("a.b").is_none());
        assert!(verify_own("...").is_none());
    }
}
