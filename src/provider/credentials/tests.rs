use rocket::serde::json::serde_json::{self, json};

use super::*;
use crate::provider::client_key::tests::{P256_PEM, RSA_PEM};

fn metadata(algs: Option<&[&str]>) -> ProviderMetadata {
    let mut document = json!({
        "issuer": "https://id.example.com",
        "authorization_endpoint": "https://id.example.com/authorize",
    });
    if let Some(algs) = algs {
        document["token_endpoint_auth_signing_alg_values_supported"] = json!(algs);
    }
    serde_json::from_value(document).unwrap()
}

fn jwt(pem: &str, alg: Option<&str>) -> Credential {
    Credential::PrivateKeyJwt(ClientKey::from_pem(pem, alg, None).unwrap())
}

/// The message of `credential` at a provider listing `algs`, or `None` when it is accepted.
fn refusal(credential: &Credential, algs: Option<&[&str]>) -> Option<String> {
    credential
        .check_metadata(&metadata(algs))
        .err()
        .map(|e| e.to_string())
}

#[test]
fn the_assertion_alg_must_be_one_the_provider_lists() {
    let rs256 = jwt(RSA_PEM, None);
    assert_eq!(refusal(&rs256, None), None, "not said: any");
    assert_eq!(refusal(&rs256, Some(&[])), None, "empty: not said");
    assert_eq!(refusal(&rs256, Some(&["ES256", "RS256"])), None);
    let text = refusal(&rs256, Some(&["PS256", "ES256"])).unwrap();
    assert!(
        text.contains(
            "oidc.client_key_alg: the provider accepts client assertions signed with \
             [\"PS256\", \"ES256\"] only (token_endpoint_auth_signing_alg_values_supported), \
             not RS256: set client_key_alg = \"PS256\""
        ),
        "{text}"
    );
    let es256 = jwt(P256_PEM, None);
    let text = refusal(&es256, Some(&["RS256", "PS256"])).unwrap();
    assert!(
        text.ends_with("sign with an RSA key (RS256 or PS256) instead of this P-256 key"),
        "{text}"
    );
    let text = refusal(&rs256, Some(&["ES256"])).unwrap();
    assert!(
        text.ends_with("sign with a P-256 key (ES256) instead of this RSA key"),
        "{text}"
    );
    let text = refusal(&rs256, Some(&["HS256", "EdDSA"])).unwrap();
    assert!(
        text.ends_with("none of which this crate signs with (RS256, PS256, ES256)"),
        "{text}"
    );
    // A secret, or Apple's minted secret, is no assertion: nothing to check.
    assert_eq!(refusal(&Credential::Configured, Some(&["ES256"])), None);
}

#[test]
fn each_request_gets_a_fresh_assertion_for_its_endpoint() {
    let credential = jwt(P256_PEM, None);
    let config = Config {
        client_id: "app".into(),
        ..Config::default()
    };
    let auth = credential
        .authenticate(
            ClientAuthMethod::PrivateKeyJwt,
            "app",
            "https://id.example.com/revoke",
            1_800_000_000,
            "jti-9",
        )
        .unwrap();
    let assertion = auth.made().unwrap().to_owned();
    match auth.client_auth(&config) {
        ClientAuth::Assertion {
            id,
            assertion: sent,
        } => {
            assert_eq!((id, sent), ("app", assertion.as_str()));
        }
        _ => panic!("private_key_jwt sends an assertion"),
    }
    let again = credential
        .authenticate(
            ClientAuthMethod::PrivateKeyJwt,
            "app",
            "https://id.example.com/revoke",
            1_800_000_000,
            "jti-10",
        )
        .unwrap();
    assert_ne!(
        again.made(),
        Some(assertion.as_str()),
        "a new jti, a new JWT"
    );
    // A configured secret is sent as configured.
    let config = Config {
        client_secret: Some("s".into()),
        ..config
    };
    let secret = Credential::Configured
        .authenticate(ClientAuthMethod::ClientSecretPost, "app", "u", 0, "j")
        .unwrap();
    assert!(matches!(
        secret.client_auth(&config),
        ClientAuth::Post {
            id: "app",
            secret: "s"
        }
    ));
    assert!(Credential::Configured
        .authenticate(ClientAuthMethod::PrivateKeyJwt, "app", "u", 0, "j")
        .is_err());
}
