//! Public keys that clients register instead of a shared secret (`private_key_jwt`, Sign in
//! with Apple's client secret), and the development-only client key fixtures.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use rocket::serde::json::serde_json::{json, Value};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
