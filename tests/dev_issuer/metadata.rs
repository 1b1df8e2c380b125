//! Metadata as real providers publish it (issue 12, items 8 and 9): the RFC 8414 document,
//! discovery redirects, `client_secret_post` only, encryption keys and bare keys in the JWKS.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use openidconnect::{AuthType, OAuth2TokenResponse};
use rocket::serde::json::serde_json::{json, Value};
use rocket_openid_connect::dev_issuer::{
    DevIssuer, Fault, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};

use crate::*;

async fn get_json(url: &str) -> (u16, Value) {
    let response = http().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn discovery_url(issuer: &DevIssuer) -> String {
    format!("{}/.well-known/openid-configuration", issuer.issuer_url())
}

fn rfc8414_url(issuer: &DevIssuer) -> String {
    format!(
        "{}/.well-known/oauth-authorization-server",
        issuer.issuer_url()
    )
}

#[rocket::async_test]
async fn rfc8414_document_has_the_endpoints_without_openid_members() {
    let issuer = DevIssuer::start().await.unwrap();
    let base = issuer.issuer_url().to_owned();
    let (status, document) = get_json(&rfc8414_url(&issuer)).await;
    assert_eq!(status, 200);
    assert_eq!(document["issuer"], json!(base));
    for (member, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("jwks_uri", "/jwks"),
        ("revocation_endpoint", "/revoke"),
    ] {
        assert_eq!(document[member], json!(format!("{base}{path}")), "{member}");
    }
    assert_eq!(
        document["code_challenge_methods_supported"],
        json!(["S256"])
    );
    for openid_only in ["userinfo_endpoint", "id_token_signing_alg_values_supported"] {
        assert!(document.get(openid_only).is_none(), "{openid_only}");
    }
    let counters = issuer.counters();
    assert_eq!(
        (counters.authorization_server_metadata, counters.discovery),
        (1, 0)
    );
}

#[rocket::async_test]
async fn missing_revocation_endpoint_is_only_in_the_rfc8414_document() {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_fault(Fault::DiscoveryMissingRevocationEndpoint);
    let (_, discovery) = get_json(&discovery_url(&issuer)).await;
    assert!(discovery.get("revocation_endpoint").is_none());
    assert!(discovery
        .get("revocation_endpoint_auth_methods_supported")
        .is_none());
    let (_, rfc8414) = get_json(&rfc8414_url(&issuer)).await;
    let revocation = rfc8414["revocation_endpoint"].as_str().unwrap().to_owned();
    assert_eq!(revocation, format!("{}/revoke", issuer.issuer_url()));
    // The document is otherwise valid, and revocation still works.
    let login = strict_login(&issuer).await.unwrap();
    let response = http()
        .post(&revocation)
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .form(&[("token", login.tokens.access_token().secret().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Follows redirects by hand from `url`, at most `limit` times; returns each (status, Location)
/// and the final response.
async fn follow(url: &str, limit: usize) -> (Vec<(u16, String)>, reqwest::Response) {
    let mut hops = Vec::new();
    let mut url = url.to_owned();
    loop {
        let response = http().get(&url).send().await.unwrap();
        let status = response.status().as_u16();
        if !(300..400).contains(&status) || hops.len() == limit {
            return (hops, response);
        }
        url = response.headers()["location"].to_str().unwrap().to_owned();
        hops.push((status, url.clone()));
    }
}

#[rocket::async_test]
async fn discovery_redirect_ends_at_the_document_after_its_hops() {
    let issuer = DevIssuer::start().await.unwrap();
    let base = issuer.issuer_url().to_owned();
    for (status, hops) in [(302u16, 1u8), (301, 3), (308, 0)] {
        issuer.clear_faults();
        issuer.set_fault(Fault::DiscoveryRedirect { status, hops });
        let before = issuer.counters().discovery;
        let (seen, last) = follow(&discovery_url(&issuer), 10).await;
        let expected: Vec<(u16, String)> = (1..=hops.max(1))
            .map(|n| (status, format!("{base}/moved/{n}/openid-configuration")))
            .collect();
        assert_eq!(seen, expected);
        assert_eq!(last.status(), 200);
        let document: Value = last.json().await.unwrap();
        assert_eq!(
            document["issuer"],
            json!(base),
            "the issuer stays the issuer URL"
        );
        assert_eq!(
            issuer.counters().discovery - before,
            u64::from(hops.max(1)) + 1
        );
    }
    // A client that does not follow redirects (openidconnect with redirects off) fails.
    assert!(discover(&issuer).await.is_err());
    // One that follows a bounded number gets the document.
    let following = reqwest::Client::new();
    let document: Value = following
        .get(discovery_url(&issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["token_endpoint"], json!(format!("{base}/token")));
}

#[rocket::async_test]
async fn discovery_redirect_loop_never_ends() {
    let issuer = DevIssuer::start().await.unwrap();
    let base = issuer.issuer_url().to_owned();
    issuer.set_fault(Fault::DiscoveryRedirectLoop { status: 302 });
    let (seen, last) = follow(&discovery_url(&issuer), 6).await;
    let (moved, back) = (
        format!("{base}/moved/loop/openid-configuration"),
        discovery_url(&issuer),
    );
    assert_eq!(
        seen,
        vec![
            (302, moved.clone()),
            (302, back.clone()),
            (302, moved.clone()),
            (302, back.clone()),
            (302, moved),
            (302, back),
        ]
    );
    assert_eq!(last.status(), 302, "still redirecting after 6 hops");
    let bounded = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .unwrap();
    let error = bounded
        .get(discovery_url(&issuer))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_redirect(), "{error}");
    // Once the fault is off, the hop serves the document.
    issuer.clear_faults();
    let (status, document) = get_json(&format!("{base}/moved/loop/openid-configuration")).await;
    assert_eq!((status, document["issuer"].clone()), (200, json!(base)));
}

#[rocket::async_test]
async fn client_secret_post_only_is_advertised_and_basic_is_refused() {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_fault(Fault::ClientSecretPostOnly);
    for url in [discovery_url(&issuer), rfc8414_url(&issuer)] {
        let (_, document) = get_json(&url).await;
        assert_eq!(
            document["token_endpoint_auth_methods_supported"],
            json!(["client_secret_post"]),
            "{url}"
        );
        assert_eq!(
            document["revocation_endpoint_auth_methods_supported"],
            json!(["client_secret_post"])
        );
        assert!(document
            .get("token_endpoint_auth_signing_alg_values_supported")
            .is_none());
    }
    for path in ["/token", "/revoke"] {
        let response = http()
            .post(format!("{}{path}", issuer.issuer_url()))
            .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("token", "x"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
        assert!(response.headers().contains_key("www-authenticate"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
        assert!(body["error_description"]
            .as_str()
            .unwrap()
            .contains("client_secret_post"));
    }
    // The same secret in the form body works.
    issuer.set_auto_login(Some("ada"));
    let client =
        default_client(discover(&issuer).await.unwrap()).set_auth_type(AuthType::RequestBody);
    let request = authorization_request(&client, &[]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    exchange(&client, &code, request.verifier).await.unwrap();
}

#[rocket::async_test]
async fn jwks_encryption_keys_sit_beside_the_signing_key() {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_fault(Fault::JwksEncryptionKeys);
    let (_, jwks) = get_json(&format!("{}/jwks", issuer.issuer_url())).await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    assert_eq!(
        (keys[0]["use"].as_str(), keys[0]["alg"].as_str()),
        (Some("sig"), Some("RS256"))
    );
    let rsa = &keys[1];
    assert_eq!(
        (
            rsa["kty"].as_str(),
            rsa["use"].as_str(),
            rsa["alg"].as_str()
        ),
        (Some("RSA"), Some("enc"), Some("RSA-OAEP"))
    );
    // A real RSA-2048 public key.
    let n = URL_SAFE_NO_PAD.decode(rsa["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(rsa["e"].as_str().unwrap()).unwrap();
    rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&n),
        rsa::BigUint::from_bytes_be(&e),
    )
    .unwrap();
    assert_eq!(n.len(), 256);
    let okp = &keys[2];
    assert_eq!(
        (okp["kty"].as_str(), okp["crv"].as_str()),
        (Some("OKP"), Some("X25519"))
    );
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(okp["x"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );
    assert!(okp.get("use").is_none() && okp.get("alg").is_none());
    let kids: std::collections::HashSet<&str> =
        keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), 3);
    // ID tokens are still signed with the signing key and verify.
    strict_login(&issuer).await.unwrap();
}

#[rocket::async_test]
async fn jwks_key_without_use_and_alg_still_verifies() {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_fault(Fault::JwksKeyWithoutUseAndAlg);
    let (_, jwks) = get_json(&format!("{}/jwks", issuer.issuer_url())).await;
    let key = jwks["keys"][0].as_object().unwrap();
    let mut members: Vec<&str> = key.keys().map(String::as_str).collect();
    members.sort_unstable();
    assert_eq!(members, ["e", "kid", "kty", "n"]);
    strict_login(&issuer).await.unwrap();
}
