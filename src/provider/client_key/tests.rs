use super::*;
use p256::ecdsa::signature::Verifier as _;
use rsa::signature::Verifier as _;

/// The development issuer's client key fixtures (see `src/dev_issuer/client_keys.rs`).
pub(crate) const RSA_PEM: &str = include_str!("../../dev_issuer/keys/client-rsa-key.pem");
pub(crate) const P256_PEM: &str = include_str!("../../dev_issuer/keys/client-p256-key.pem");
pub(crate) const APPLE_P8: &str = include_str!("../../dev_issuer/keys/apple-auth-key.p8");
/// Keys to refuse (see `client_key/README.md`).
const P384_PEM: &str = include_str!("p384-key.pem");
const ED25519_PEM: &str = include_str!("ed25519-key.pem");
const RSA1024_PEM: &str = include_str!("rsa1024-key.pem");
const RSA_PKCS1_PEM: &str = include_str!("rsa-pkcs1-key.pem");
const P256_SEC1_PEM: &str = include_str!("p256-sec1-key.pem");

fn problem(pem: &str) -> String {
    ClientKey::from_pem(pem, None, None).unwrap_err().0
}

#[test]
fn rsa_and_p256_keys_sign_with_their_default_or_the_configured_algorithm() {
    let cases = [
        (RSA_PEM, None, KeyAlg::Rs256, "RSA-2048"),
        (RSA_PEM, Some("PS256"), KeyAlg::Ps256, "RSA-2048"),
        (RSA_PEM, Some("RS256"), KeyAlg::Rs256, "RSA-2048"),
        (P256_PEM, None, KeyAlg::Es256, "P-256"),
        (APPLE_P8, Some("ES256"), KeyAlg::Es256, "P-256"),
    ];
    for (pem, alg, expected, kind) in cases {
        let key = ClientKey::from_pem(pem, alg, Some("k1".into())).unwrap();
        assert_eq!((key.alg(), key.kind()), (expected, kind), "{alg:?}");
        assert_eq!(key.kid(), Some("k1"));
        assert_eq!(key.is_p256(), kind == "P-256");
    }
    assert_eq!(
        ClientKey::from_pem(RSA_PEM, None, None).unwrap().describe(),
        "RS256 with an RSA-2048 key, no kid"
    );
}

#[test]
fn signatures_verify_with_the_public_key() {
    let message = b"header.claims";
    let rsa = rsa::RsaPrivateKey::from_pkcs8_pem(RSA_PEM)
        .unwrap()
        .to_public_key();
    let rs256 = ClientKey::from_pem(RSA_PEM, None, None).unwrap();
    let signature = rsa::pkcs1v15::Signature::try_from(&rs256.sign(message).unwrap()[..]).unwrap();
    rsa::pkcs1v15::VerifyingKey::<Sha256>::new(rsa.clone())
        .verify(message, &signature)
        .unwrap();
    let ps256 = ClientKey::from_pem(RSA_PEM, Some("PS256"), None).unwrap();
    let (one, two) = (ps256.sign(message).unwrap(), ps256.sign(message).unwrap());
    assert_ne!(one, two, "PSS salts are random");
    let signature = rsa::pss::Signature::try_from(&one[..]).unwrap();
    rsa::pss::VerifyingKey::<Sha256>::new(rsa)
        .verify(message, &signature)
        .unwrap();
    let es256 = ClientKey::from_pem(P256_PEM, None, None).unwrap();
    let bytes = es256.sign(message).unwrap();
    assert_eq!(bytes.len(), 64, "R || S, RFC 7518 §3.4");
    let public = *p256::ecdsa::SigningKey::from_pkcs8_pem(P256_PEM)
        .unwrap()
        .verifying_key();
    public
        .verify(
            message,
            &p256::ecdsa::Signature::from_slice(&bytes).unwrap(),
        )
        .unwrap();
}

#[test]
fn unusable_keys_say_what_they_are_and_how_to_fix_them() {
    let cases: [(&str, &str); 10] = [
        (
            RSA1024_PEM,
            "is an RSA key of 1024 bits; RS256 and PS256 need at least 2048",
        ),
        (
            RSA_PKCS1_PEM,
            "is a PKCS#1 RSA key: PKCS#8 is needed; convert it with `openssl pkcs8 -topk8",
        ),
        (P256_SEC1_PEM, "is a SEC1 EC key: PKCS#8 is needed"),
        (
            P384_PEM,
            "is a P-384 (EC) key, which this crate cannot sign client assertions with",
        ),
        (
            ED25519_PEM,
            "is an Ed25519 key, which this crate cannot sign",
        ),
        (
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            "is encrypted with a passphrase",
        ),
        (
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "is a public key or certificate: give the private key here",
        ),
        ("{\"kty\":\"RSA\"}", "is JSON (a JWK?), not PEM"),
        ("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "holds no PEM block"),
        (
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "does not parse as a PKCS#8 private key",
        ),
    ];
    for (pem, expected) in cases {
        let text = problem(pem);
        assert!(text.starts_with(expected), "{expected}: {text}");
    }
    let mismatch = ClientKey::from_pem(P256_PEM, Some("RS256"), None)
        .unwrap_err()
        .0;
    assert_eq!(
        mismatch,
        "client_key_alg is \"RS256\", which a P-256 key cannot sign: set it to ES256, or remove \
         it to use the key's default"
    );
    let mismatch = ClientKey::from_pem(RSA_PEM, Some("ES256"), None)
        .unwrap_err()
        .0;
    assert!(mismatch.contains("set it to RS256 or PS256"), "{mismatch}");
}

fn config(source: KeySource<'_>) -> Config {
    let (file, key) = match source {
        KeySource::File(path) => (Some(path.to_owned()), None),
        KeySource::Inline(pem) => (None, Some(pem.to_owned())),
    };
    Config {
        client_key_file: file,
        client_key: key,
        client_key_id: Some("k1".into()),
        ..Config::default()
    }
}

#[test]
fn load_reads_the_file_or_the_text_and_names_the_setting_on_failure() {
    let dir = std::env::temp_dir().join(format!("client-key-{}", crate::util::random_token(6)));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("key.pem");
    std::fs::write(&path, P256_PEM).unwrap();
    let from_file = ClientKey::load(&config(KeySource::File(path.to_str().unwrap())))
        .unwrap()
        .unwrap();
    assert_eq!(from_file.alg(), KeyAlg::Es256);
    // One line with `\n` escapes, as an environment variable may carry it.
    let escaped = RSA_PEM.trim_end().replace('\n', "\\n");
    let inline = ClientKey::load(&config(KeySource::Inline(&escaped)))
        .unwrap()
        .unwrap();
    assert_eq!(inline.alg(), KeyAlg::Rs256);
    assert!(ClientKey::load(&Config::default()).unwrap().is_none());

    let missing = dir.join("nope.pem");
    let error = ClientKey::load(&config(KeySource::File(missing.to_str().unwrap())))
        .unwrap_err()
        .problems
        .remove(0);
    assert_eq!(error.key, "oidc.client_key_file");
    assert!(
        error.message.starts_with("there is no key file `"),
        "{}",
        error.message
    );
    let error = ClientKey::load(&config(KeySource::File(dir.to_str().unwrap())))
        .unwrap_err()
        .problems
        .remove(0);
    assert!(error
        .message
        .ends_with("is not a file: set client_key_file to the PEM file itself"));
    let relative = ClientKey::load(&config(KeySource::File("no/such/key.pem")))
        .unwrap_err()
        .to_string();
    assert!(relative.contains("`no/such/key.pem` (in /"), "{relative}");
    let public = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----";
    let error = ClientKey::load(&config(KeySource::Inline(public)))
        .unwrap_err()
        .problems
        .remove(0);
    assert_eq!(error.key, "oidc.client_key");
    assert!(
        error.message.starts_with("the key is a public key"),
        "{}",
        error.message
    );
    let mut wrong_alg = config(KeySource::File(path.to_str().unwrap()));
    wrong_alg.client_key_alg = Some("PS256".into());
    let error = ClientKey::load(&wrong_alg).unwrap_err().problems.remove(0);
    assert_eq!(error.key, "oidc.client_key_alg");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn debug_never_shows_the_key() {
    let key = ClientKey::from_pem(P256_PEM, None, Some("k1".into())).unwrap();
    let text = format!("{key:?}");
    assert_eq!(
        text,
        "ClientKey { kind: \"P-256\", alg: \"ES256\", kid: Some(\"k1\"), key: \"<redacted>\" }"
    );
    let inline = format!("{:?}", KeySource::Inline(P256_PEM));
    assert_eq!(inline, "Inline(<redacted>)");
}
