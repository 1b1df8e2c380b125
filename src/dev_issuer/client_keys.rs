//! Public keys that clients register instead of a shared secret (`private_key_jwt`, Sign in
//! with Apple's client secret), the JWS checks made with them, and the development-only client
//! key fixtures.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use rocket::serde::json::serde_json::{self, json, Map, Value};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use rsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

/// An RSA-2048 private key (PKCS#8 PEM) for a `private_key_jwt` client's RS256 or PS256
/// assertions: generated with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` on
/// 2026-12-01 (`src/dev_issuer/keys/client-rsa-key.pem`). **Development only**: it is public.
pub const CLIENT_RSA_KEY_PEM: &str = include_str!("keys/client-rsa-key.pem");

/// A P-256 private key (PKCS#8 PEM) for a `private_key_jwt` client's ES256 assertions:
/// generated with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` on
/// 2026-12-01 (`src/dev_issuer/keys/client-p256-key.pem`). **Development only**: it is public.
pub const CLIENT_P256_KEY_PEM: &str = include_str!("keys/client-p256-key.pem");

/// A P-256 private key in the form of the `AuthKey_<KEYID>.p8` file Apple hands out (PKCS#8
/// PEM), to mint Sign in with Apple client secrets: generated with `openssl genpkey -algorithm
/// EC -pkeyopt ec_paramgen_curve:P-256` on 2026-12-01 (`src/dev_issuer/keys/apple-auth-key.p8`).
/// **Development only**: it is public.
pub const APPLE_AUTH_KEY_P8: &str = include_str!("keys/apple-auth-key.p8");

/// The JWS algorithms accepted for client assertions, as advertised in
/// `token_endpoint_auth_signing_alg_values_supported`.
pub(crate) const ASSERTION_ALGS: &[&str] = &["RS256", "PS256", "ES256"];

/// Why a [`DevClientKey`] could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevClientKeyError(String);

impl fmt::Display for DevClientKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unusable client key: {}", self.0)
    }
}

impl std::error::Error for DevClientKeyError {}

fn key_error(message: impl Into<String>) -> DevClientKeyError {
    DevClientKeyError(message.into())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PublicKey {
    Rsa(RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
}

/// A client's public signing key: RSA of at least 2048 bits (RS256, PS256) or P-256 (ES256).
///
/// Made from a JWK, a JWK Set or PEM; only the public half is kept (a private JWK's `d` or a
/// private PEM's secret is dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevClientKey {
    jwk: Value,
    kid: Option<String>,
    alg: Option<String>,
    key: PublicKey,
}

impl DevClientKey {
    /// A key from a JWK (RFC 7517): `kty` `RSA` (`n`, `e`) or `EC` with `crv` `P-256` (`x`,
    /// `y`). `kid` and `alg` are kept (a JWS must then use that `alg`); `use`, if present, must
    /// be `sig`.
    pub fn from_jwk(jwk: &Value) -> Result<DevClientKey, DevClientKeyError> {
        let Value::Object(members) = jwk else {
            return Err(key_error("a JWK must be a JSON object"));
        };
        let text = |name: &str| members.get(name).and_then(Value::as_str);
        let bytes = |name: &str| {
            let value = text(name).ok_or_else(|| key_error(format!("the JWK has no `{name}`")))?;
            URL_SAFE_NO_PAD
                .decode(value)
                .map_err(|_| key_error(format!("the JWK's `{name}` is not base64url")))
        };
        if let Some(usage) = members.get("use") {
            if usage != "sig" {
                return Err(key_error(format!(
                    "the JWK's `use` is {usage}; a client signing key has `use: sig`"
                )));
            }
        }
        let key = match (text("kty"), text("crv")) {
            (Some("RSA"), _) => {
                let n = BigUint::from_bytes_be(&bytes("n")?);
                let e = BigUint::from_bytes_be(&bytes("e")?);
                PublicKey::Rsa(
                    RsaPublicKey::new(n, e)
                        .map_err(|error| key_error(format!("not an RSA public key: {error}")))?,
                )
            }
            (Some("EC"), Some("P-256")) => {
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(key_error("a P-256 JWK's `x` and `y` are 32 bytes each"));
                }
                let point = [&[0x04][..], &x, &y].concat();
                PublicKey::P256(
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                        .map_err(|_| key_error("`x`, `y` are not a point on P-256"))?,
                )
            }
            (kty, crv) => {
                return Err(key_error(format!(
                    "kty {kty:?} (crv {crv:?}) cannot verify RS256, PS256 or ES256; use an RSA or \
                     P-256 key"
                )))
            }
        };
        let alg = text("alg").map(str::to_owned);
        DevClientKey::new(key, text("kid").map(str::to_owned), alg)
    }

    /// The keys of a JWK Set (`{"keys": [...]}`, RFC 7517 §5), each as in
    /// [`DevClientKey::from_jwk`]; an empty set is an error.
    pub fn from_jwks(jwks: &Value) -> Result<Vec<DevClientKey>, DevClientKeyError> {
        let keys = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| key_error("a JWK Set is an object with a `keys` array"))?;
        if keys.is_empty() {
            return Err(key_error("the JWK Set has no keys"));
        }
        keys.iter().map(DevClientKey::from_jwk).collect()
    }

    /// A key from PEM: a public key (`-----BEGIN PUBLIC KEY-----`, SPKI) or a PKCS#8 private key
    /// (`-----BEGIN PRIVATE KEY-----`, such as Apple's `.p8` files and [`CLIENT_RSA_KEY_PEM`]),
    /// RSA or P-256. Its `kid` is its RFC 7638 JWK thumbprint; it has no `alg`.
    pub fn from_pem(pem: &str) -> Result<DevClientKey, DevClientKeyError> {
        let key = if let Ok(key) = RsaPublicKey::from_public_key_pem(pem) {
            PublicKey::Rsa(key)
        } else if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            PublicKey::P256(key)
        } else if let Ok(key) = RsaPrivateKey::from_pkcs8_pem(pem) {
            PublicKey::Rsa(key.to_public_key())
        } else if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_pem(pem) {
            PublicKey::P256(*key.verifying_key())
        } else {
            return Err(key_error(
                "not an SPKI public key or a PKCS#8 private key (RSA or P-256) in PEM",
            ));
        };
        let kid = thumbprint(&key);
        DevClientKey::new(key, Some(kid), None)
    }

    fn new(
        key: PublicKey,
        kid: Option<String>,
        alg: Option<String>,
    ) -> Result<DevClientKey, DevClientKeyError> {
        if let PublicKey::Rsa(rsa) = &key {
            // RFC 7518 §3.3 and §3.5: RSA keys for RS256/PS256 are at least 2048 bits.
            if rsa.size() < 256 {
                return Err(key_error("RSA keys must have at least 2048 bits"));
            }
        }
        if let Some(alg) = &alg {
            if !compatible(&key, alg) {
                return Err(key_error(format!(
                    "the JWK's alg `{alg}` does not fit the key (RSA: RS256 or PS256; P-256: ES256)"
                )));
            }
        }
        let mut jwk = public_members(&key);
        if let Value::Object(members) = &mut jwk {
            members.insert("use".into(), json!("sig"));
            if let Some(kid) = &kid {
                members.insert("kid".into(), json!(kid));
            }
            if let Some(alg) = &alg {
                members.insert("alg".into(), json!(alg));
            }
        }
        Ok(DevClientKey { jwk, kid, alg, key })
    }

    /// The public key as a JWK (`kty`, `n`/`e` or `crv`/`x`/`y`, `use: sig`, and `kid`, `alg`
    /// when known).
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// The key's `kid`: the JWK's, or for a key from PEM its RFC 7638 thumbprint, unless
    /// [`DevClientKey::with_kid`] set another.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The same key under another `kid` (for example the name a client puts in its JWS
    /// headers, or Apple's key id).
    pub fn with_kid(mut self, kid: impl Into<String>) -> DevClientKey {
        let kid = kid.into();
        if let Value::Object(members) = &mut self.jwk {
            members.insert("kid".into(), json!(kid));
        }
        self.kid = Some(kid);
        self
    }

    /// Whether this key may check a JWS with `alg`.
    fn accepts(&self, alg: &str) -> bool {
        compatible(&self.key, alg) && self.alg.as_deref().is_none_or(|own| own == alg)
    }

    /// Checks the signature `signature` of `message` with `alg`.
    fn verify(&self, alg: &str, message: &[u8], signature: &[u8]) -> bool {
        match (&self.key, alg) {
            (PublicKey::Rsa(key), "RS256") => rsa::pkcs1v15::Signature::try_from(signature)
                .is_ok_and(|signature| {
                    rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.clone())
                        .verify(message, &signature)
                        .is_ok()
                }),
            (PublicKey::Rsa(key), "PS256") => {
                rsa::pss::Signature::try_from(signature).is_ok_and(|signature| {
                    rsa::pss::VerifyingKey::<Sha256>::new(key.clone())
                        .verify(message, &signature)
                        .is_ok()
                })
            }
            // RFC 7518 §3.4: ES256 signatures are R || S, 64 bytes, not DER.
            (PublicKey::P256(key), "ES256") => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
            _ => false,
        }
    }
}

fn compatible(key: &PublicKey, alg: &str) -> bool {
    matches!(
        (key, alg),
        (PublicKey::Rsa(_), "RS256" | "PS256") | (PublicKey::P256(_), "ES256")
    )
}

/// The required public members (RFC 7638 §3.2).
fn public_members(key: &PublicKey) -> Value {
    match key {
        PublicKey::Rsa(rsa) => json!({
            "e": URL_SAFE_NO_PAD.encode(rsa.e().to_bytes_be()),
            "kty": "RSA",
            "n": URL_SAFE_NO_PAD.encode(rsa.n().to_bytes_be()),
        }),
        PublicKey::P256(ec) => {
            let point = ec.to_sec1_point(false);
            let coordinate = |c: Option<&[u8]>| URL_SAFE_NO_PAD.encode(c.unwrap_or_default());
            json!({
                "crv": "P-256",
                "kty": "EC",
                "x": coordinate(point.x().map(|x| x.as_slice())),
                "y": coordinate(point.y().map(|y| y.as_slice())),
            })
        }
    }
}

/// RFC 7638 §3: base64url SHA-256 of the required members, sorted, without whitespace
/// (written out, so as not to depend on the JSON map's order).
fn thumbprint(key: &PublicKey) -> String {
    let members = public_members(key);
    let text = |name: &str| members[name].as_str().unwrap_or_default().to_owned();
    let canonical = match key {
        PublicKey::Rsa(_) => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, text("e"), text("n")),
        PublicKey::P256(_) => format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            text("x"),
            text("y")
        ),
    };
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// A JWS's decoded header and claims.
pub(crate) type HeaderAndClaims = (Map<String, Value>, Map<String, Value>);

/// The decoded header and claims of a compact JWS, unverified; `None` if it is not one.
pub(crate) fn decode_unverified(token: &str) -> Option<HeaderAndClaims> {
    let mut parts = token.split('.');
    let (header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let object = |part: &str| match serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?) {
        Ok(Value::Object(members)) => Some(members),
        _ => None,
    };
    Some((object(header)?, object(payload)?))
}

/// Verifies a compact JWS (RFC 7515 §5.2) with one of `keys` and one of `algs`, and returns its
/// header and claims; `Err` is the `error_description`. A `kid` in the header selects the keys
/// with that `kid` (and those without one); `none`, HMAC and any `crit` header are refused.
pub(crate) fn verify_jws(
    token: &str,
    keys: &[DevClientKey],
    algs: &[&str],
) -> Result<HeaderAndClaims, String> {
    let (header, claims) =
        decode_unverified(token).ok_or("the JWT is not a compact JWS of JSON objects")?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or("the JWT header has no alg")?;
    if !algs.contains(&alg) {
        return Err(format!(
            "the JWT's alg `{alg}` is not accepted; sign with {}",
            algs.join(", ")
        ));
    }
    if header.contains_key("crit") {
        return Err("the JWT header has `crit` extensions, which are not supported".into());
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let candidates: Vec<&DevClientKey> = keys
        .iter()
        .filter(|key| kid.is_none_or(|kid| key.kid().is_none_or(|own| own == kid)))
        .collect();
    if candidates.is_empty() {
        return Err(format!(
            "no registered key has kid `{}`",
            kid.unwrap_or_default()
        ));
    }
    let (signing_input, signature) = token
        .rsplit_once('.')
        .ok_or("the JWT is not a compact JWS")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "the JWT's signature is not base64url")?;
    let verified = candidates
        .iter()
        .filter(|key| key.accepts(alg))
        .any(|key| key.verify(alg, signing_input.as_bytes(), &signature));
    if !verified {
        return Err(format!(
            "the JWT's {alg} signature does not verify with the client's registered key"
        ));
    }
    Ok((header, claims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer as _;

    fn jws(header: &Value, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn es256(pem: &str) -> impl Fn(&[u8]) -> Vec<u8> {
        let key = p256::ecdsa::SigningKey::from_pkcs8_pem(pem).unwrap();
        move |message| {
            let signature: p256::ecdsa::Signature = key.sign(message);
            signature.to_bytes().to_vec()
        }
    }

    #[test]
    fn fixtures_parse_and_pem_keys_round_trip_through_their_jwk() {
        for pem in [CLIENT_RSA_KEY_PEM, CLIENT_P256_KEY_PEM, APPLE_AUTH_KEY_P8] {
            let key = DevClientKey::from_pem(pem).unwrap();
            assert_eq!(key.kid().unwrap().len(), 43);
            let again = DevClientKey::from_jwk(key.jwk()).unwrap();
            assert_eq!(again, key);
        }
        assert_ne!(
            DevClientKey::from_pem(CLIENT_P256_KEY_PEM).unwrap().kid(),
            DevClientKey::from_pem(APPLE_AUTH_KEY_P8).unwrap().kid()
        );
        let renamed = DevClientKey::from_pem(APPLE_AUTH_KEY_P8)
            .unwrap()
            .with_kid("KEY1234567");
        assert_eq!(renamed.kid(), Some("KEY1234567"));
        assert_eq!(renamed.jwk()["kid"], "KEY1234567");
    }

    #[test]
    fn unusable_keys_are_refused_with_a_reason() {
        let p256 = DevClientKey::from_pem(CLIENT_P256_KEY_PEM).unwrap();
        let mut wrong_alg = p256.jwk().clone();
        wrong_alg["alg"] = json!("RS256");
        let mut enc = p256.jwk().clone();
        enc["use"] = json!("enc");
        let cases = [
            json!("not an object"),
            json!({"kty": "OKP", "crv": "X25519", "x": "BA5dUluOGDb32nfOSIdzjmfGxImSlpqvR9W3sHK6s0M"}),
            json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}),
            json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
            json!({"kty": "RSA", "e": "AQAB"}),
            wrong_alg,
            enc,
        ];
        for case in cases {
            assert!(DevClientKey::from_jwk(&case).is_err(), "{case}");
        }
        assert!(DevClientKey::from_jwks(&json!({"keys": []})).is_err());
        assert!(
            DevClientKey::from_pem("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----").is_err()
        );
    }

    #[test]
    fn es256_verifies_with_the_right_key_and_kid_only() {
        let key = DevClientKey::from_pem(CLIENT_P256_KEY_PEM).unwrap();
        let other = DevClientKey::from_pem(APPLE_AUTH_KEY_P8).unwrap();
        let claims = json!({"sub": "c"});
        let token = jws(
            &json!({"alg": "ES256", "kid": key.kid()}),
            &claims,
            es256(CLIENT_P256_KEY_PEM),
        );
        let (_, verified) =
            verify_jws(&token, &[other.clone(), key.clone()], ASSERTION_ALGS).unwrap();
        assert_eq!(verified["sub"], "c");
        assert!(
            verify_jws(&token, std::slice::from_ref(&other), ASSERTION_ALGS)
                .unwrap_err()
                .contains("no registered key has kid")
        );
        let no_kid = jws(&json!({"alg": "ES256"}), &claims, es256(APPLE_AUTH_KEY_P8));
        assert!(
            verify_jws(&no_kid, std::slice::from_ref(&key), ASSERTION_ALGS)
                .unwrap_err()
                .contains("does not verify")
        );
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"c"}"#)
        );
        assert!(
            verify_jws(&none, std::slice::from_ref(&key), ASSERTION_ALGS)
                .unwrap_err()
                .contains("alg `none` is not accepted")
        );
        let crit = jws(
            &json!({"alg": "ES256", "crit": ["exp"]}),
            &claims,
            es256(CLIENT_P256_KEY_PEM),
        );
        assert!(verify_jws(&crit, &[key], ASSERTION_ALGS).is_err());
        assert!(decode_unverified("a.b").is_none());
        assert!(decode_unverified("a.b.c.d").is_none());
    }
}
