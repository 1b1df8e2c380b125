//! The development issuer's fixed RSA signing keys.
//!
//! The three keys were generated once with
//! `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` and are committed in `keys/`.
//! They are **development-only**: the private keys are public, so anyone can forge tokens that a
//! client trusting a development issuer accepts. Fixed keys are used because generating a 2048-bit
//! RSA key takes seconds in a debug build (see the module docs for measurements), and every test
//! starts an issuer.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rocket::serde::json::serde_json::{self, json, Value};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};

/// PEM (PKCS#8) of key A, the key the issuer signs with by default. Development-only.
const KEY_A_PEM: &str = include_str!("keys/dev-signing-key-a.pem");
/// PEM of key B, the key the issuer switches to under [`Fault::RotatedKey`](super::Fault::RotatedKey).
const KEY_B_PEM: &str = include_str!("keys/dev-signing-key-b.pem");
/// PEM of key C, published next to A under [`Fault::ExtraJwksKey`](super::Fault::ExtraJwksKey).
const KEY_C_PEM: &str = include_str!("keys/dev-signing-key-c.pem");

/// Which of the three fixture keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyId {
    A,
    B,
    C,
}

/// One parsed fixture key with everything derived from it.
pub(crate) struct DevKey {
    /// RFC 7638 JWK thumbprint, used as `kid`.
    pub kid: String,
    /// The public key as a JWK (`kty`, `use`, `alg`, `kid`, `n`, `e`).
    pub jwk: Value,
    /// The public key as `SubjectPublicKeyInfo` PEM text, the HMAC secret of the classic
    /// RS256/HS256 confusion attack.
    pub public_pem: String,
    signing: SigningKey<Sha256>,
    verifying: VerifyingKey<Sha256>,
}

impl DevKey {
    fn parse(pem: &str) -> DevKey {
        // The PEMs are compile-time fixtures checked by a unit test, so failing here is a bug in
        // the crate, not something a user can cause.
        let private = RsaPrivateKey::from_pkcs8_pem(pem).expect("fixture key is valid PKCS#8");
        let public = private.to_public_key();
        let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
        // RFC 7638 §3.2: the required members, lexicographic order, no whitespace.
        let thumbprint_input = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumbprint_input.as_bytes()));
        let jwk = json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e});
        let public_pem = public
            .to_public_key_pem(LineEnding::LF)
            .expect("an RSA public key encodes as PEM");
        DevKey {
            kid,
            jwk,
            public_pem,
            signing: SigningKey::new(private),
            verifying: VerifyingKey::new(public),
        }
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 (JWS `RS256`).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signing.sign(message).to_vec()
    }

    /// Checks an `RS256` signature.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::try_from(signature)
            .map(|signature| self.verifying.verify(message, &signature).is_ok())
            .unwrap_or(false)
    }
}

/// The key for `id`, parsed once per process.
pub(crate) fn key(id: KeyId) -> &'static DevKey {
    static KEYS: OnceLock<[DevKey; 3]> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        [
            DevKey::parse(KEY_A_PEM),
            DevKey::parse(KEY_B_PEM),
            DevKey::parse(KEY_C_PEM),
        ]
    });
    match id {
        KeyId::A => &keys[0],
        KeyId::B => &keys[1],
        KeyId::C => &keys[2],
    }
}

/// All keys, for checking tokens the issuer issued itself (`id_token_hint`).
pub(crate) fn all_keys() -> [&'static DevKey; 3] {
    [key(KeyId::A), key(KeyId::B), key(KeyId::C)]
}

/// A JWK Set document holding `ids`.
pub(crate) fn jwks(ids: &[KeyId]) -> Value {
    let keys: Vec<Value> = ids.iter().map(|id| key(*id).jwk.clone()).collect();
    json!({ "keys": keys })
}

/// Serializes compactly; a `Value` always serializes.
pub(crate) fn to_compact(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_keys_parse_and_differ() {
        let [a, b, c] = all_keys();
        assert_ne!(a.kid, b.kid);
        assert_ne!(a.kid, c.kid);
        assert_ne!(b.kid, c.kid);
        assert_eq!(a.kid.len(), 43, "base64url of a SHA-256 thumbprint");
        assert!(a.public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(a.jwk["e"], "AQAB");
    }

    #[test]
    fn signatures_verify_with_their_own_key_only() {
        let signature = key(KeyId::A).sign(b"header.payload");
        assert!(key(KeyId::A).verify(b"header.payload", &signature));
        assert!(!key(KeyId::A).verify(b"header.payloaD", &signature));
        assert!(!key(KeyId::B).verify(b"header.payload", &signature));
        assert!(!key(KeyId::A).verify(b"header.payload", b"garbage"));
    }
}
