use super::*;
use crate::provider::client_key::tests::{APPLE_P8, P256_PEM, RSA_PEM};
use p256::ecdsa::signature::Verifier as _;
use p256::pkcs8::DecodePrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::Verifier as _;

const NOW: i64 = 1_800_000_000;

/// The decoded header and claims of a compact JWS, and its signing input and signature.
fn parts(jwt: &str) -> (Value, Value, String, Vec<u8>) {
    let pieces: Vec<&str> = jwt.split('.').collect();
    assert_eq!(pieces.len(), 3, "a compact JWS has three parts");
    let json = |part: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    (
        json(pieces[0]),
        json(pieces[1]),
        format!("{}.{}", pieces[0], pieces[1]),
        URL_SAFE_NO_PAD.decode(pieces[2]).unwrap(),
    )
}

fn verify_es256(pem: &str, input: &str, signature: &[u8]) {
    let public = *p256::ecdsa::SigningKey::from_pkcs8_pem(pem)
        .unwrap()
        .verifying_key();
    public
        .verify(
            input.as_bytes(),
            &p256::ecdsa::Signature::from_slice(signature).unwrap(),
        )
        .unwrap();
}

#[test]
fn a_client_assertion_has_exactly_the_claims_of_rfc_7523() {
    let key = ClientKey::from_pem(RSA_PEM, None, Some("k1".into())).unwrap();
    let token = "https://op.example/token";
    let jwt = client_assertion(&key, "app", token, NOW, "jti-1").unwrap();
    let (header, claims, input, signature) = parts(&jwt);
    assert_eq!(header, json!({"alg": "RS256", "typ": "JWT", "kid": "k1"}));
    assert_eq!(
        claims,
        json!({
            "iss": "app", "sub": "app", "aud": token,
            "iat": NOW, "exp": NOW + ASSERTION_LIFETIME_SECS, "jti": "jti-1",
        })
    );
    let public = rsa::RsaPrivateKey::from_pkcs8_pem(RSA_PEM)
        .unwrap()
        .to_public_key();
    rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public)
        .verify(
            input.as_bytes(),
            &rsa::pkcs1v15::Signature::try_from(&signature[..]).unwrap(),
        )
        .unwrap();

    // ES256, no kid: the header has none.
    let key = ClientKey::from_pem(P256_PEM, None, None).unwrap();
    let jwt = client_assertion(&key, "app", token, NOW, "jti-2").unwrap();
    let (header, claims, input, signature) = parts(&jwt);
    assert_eq!(header, json!({"alg": "ES256", "typ": "JWT"}));
    assert_eq!(claims["jti"], "jti-2");
    verify_es256(P256_PEM, &input, &signature);
}

#[test]
fn an_apple_client_secret_has_exactly_the_claims_apple_asks_for() {
    let key = ClientKey::from_pem(APPLE_P8, None, Some("KEY1234567".into())).unwrap();
    let (secret, exp) = apple_client_secret(&key, "TEAM123456", "com.example.web", NOW).unwrap();
    assert_eq!(exp, NOW + APPLE_SECRET_LIFETIME_SECS);
    let (header, claims, input, signature) = parts(&secret);
    assert_eq!(header, json!({"alg": "ES256", "kid": "KEY1234567"}));
    assert_eq!(
        claims,
        json!({
            "iss": "TEAM123456", "iat": NOW, "exp": NOW + APPLE_SECRET_LIFETIME_SECS,
            "aud": APPLE_AUDIENCE, "sub": "com.example.web",
        })
    );
    verify_es256(APPLE_P8, &input, &signature);
    // Apple's limit: at most 15777000 s (six months).
    const { assert!(APPLE_SECRET_LIFETIME_SECS <= 15_777_000) };
    const { assert!(APPLE_SECRET_RENEW_MARGIN_SECS < APPLE_SECRET_LIFETIME_SECS) };
}

#[test]
fn the_apple_secret_is_reused_until_the_renewal_margin_then_re_minted() {
    let key = ClientKey::from_pem(APPLE_P8, None, Some("KEY1234567".into())).unwrap();
    let apple = AppleSecret::new(key, "TEAM123456".into(), "com.example.web".into());
    let exp_of = |secret: &str| parts(secret).1["exp"].as_i64().unwrap();

    let first = apple.secret_at(NOW).unwrap();
    assert_eq!(exp_of(&first), NOW + APPLE_SECRET_LIFETIME_SECS);
    // The last second at which more than the margin is left: the same secret.
    let renew_at = NOW + APPLE_SECRET_LIFETIME_SECS - APPLE_SECRET_RENEW_MARGIN_SECS;
    assert_eq!(apple.secret_at(NOW + 1).unwrap(), first);
    assert_eq!(apple.secret_at(renew_at - 1).unwrap(), first);
    // Exactly the margin left: a new one, minted at that second, which is then reused.
    let second = apple.secret_at(renew_at).unwrap();
    assert_ne!(second, first);
    assert_eq!(exp_of(&second), renew_at + APPLE_SECRET_LIFETIME_SECS);
    assert_eq!(parts(&second).1["iat"], renew_at);
    assert_eq!(apple.secret_at(renew_at + 1).unwrap(), second);
    // A clock that jumped past the expiry (a suspended machine) gets a new one too.
    let later = renew_at + 10 * APPLE_SECRET_LIFETIME_SECS;
    let third = apple.secret_at(later).unwrap();
    assert_eq!(exp_of(&third), later + APPLE_SECRET_LIFETIME_SECS);
}

#[test]
fn debug_never_shows_the_secret_or_the_key() {
    let key = ClientKey::from_pem(APPLE_P8, None, Some("KEY1234567".into())).unwrap();
    let apple = AppleSecret::new(key, "TEAM123456".into(), "com.example.web".into());
    let secret = apple.secret_at(NOW).unwrap();
    let text = format!("{apple:?}");
    assert!(!text.contains(&secret), "{text}");
    assert!(text.contains("current: \"<redacted>\""), "{text}");
    assert!(text.contains("key: \"<redacted>\""), "{text}");
}
