//! Every fault switch, against a strict client: it must reject exactly what the fault corrupts.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use openidconnect::core::CoreJsonWebKeySet;
use openidconnect::{OAuth2TokenResponse, TokenResponse};
use rocket::serde::json::serde_json::{json, Value};
use rocket_openid_connect::dev_issuer::{
    DevIssuer, Fault, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::{BigUint, RsaPublicKey};
use sha2::Sha256;

use crate::*;

/// Starts an issuer with `fault` and returns the strict client's error.
async fn rejected(fault: Fault) -> String {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_fault(fault.clone());
    let error = strict_login(&issuer)
        .await
        .expect_err(&format!("{fault:?} was accepted"));
    issuer.stop().await;
    error
}

/// The raw token response to a code redeemed by hand.
async fn raw_tokens(issuer: &DevIssuer, client: &Client) -> Value {
    let request = authorization_request(client, &["profile"]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    http()
        .post(format!("{}/token", issuer.issuer_url()))
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", request.verifier.secret()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// An ID token issued under `fault`, with the access token it came with; no verification.
async fn id_token_under(fault: Fault) -> (String, String) {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_auto_login(Some("ada"));
    let client = default_client(discover(&issuer).await.unwrap());
    issuer.set_fault(fault);
    let tokens = raw_tokens(&issuer, &client).await;
    let text = |name: &str| tokens[name].as_str().unwrap().to_owned();
    (text("id_token"), text("access_token"))
}

macro_rules! rejected {
    ($($name:ident: $fault:expr => $stage:literal,)*) => {$(
        #[rocket::async_test]
        async fn $name() {
            let error = rejected($fault).await;
            assert!(error.starts_with($stage), "{error}");
        }
    )*};
}

rejected! {
    wrong_issuer: Fault::WrongIssuer => "id_token",
    wrong_audience: Fault::WrongAudience => "id_token",
    wrong_azp: Fault::WrongAzp => "id_token: azp",
    extra_audience: Fault::ExtraAudience => "id_token",
    missing_sub: Fault::MissingSub => "token",
    missing_iat: Fault::MissingIat => "token",
    missing_exp: Fault::MissingExp => "token",
    iat_in_future: Fault::IatInFuture => "id_token: iat",
    expired: Fault::Expired => "id_token",
    wrong_nonce: Fault::WrongNonce => "id_token",
    missing_nonce: Fault::MissingNonce => "id_token",
    wrong_at_hash: Fault::WrongAtHash => "id_token: at_hash",
    bad_signature: Fault::BadSignature => "id_token",
    alg_none: Fault::AlgNone => "id_token",
    hs256_with_public_key: Fault::Hs256WithPublicKey => "id_token",
    hs256_with_client_secret: Fault::Hs256WithClientSecret => "id_token",
    exp_as_string: Fault::Claim("exp".into(), json!("3600")) => "token",
    exp_negative: Fault::Claim("exp".into(), json!(-1)) => "id_token",
    iat_float: Fault::Claim("iat".into(), json!(1.5e300)) => "token",
    aud_removed: Fault::RemoveClaim("aud".into()) => "id_token",
    auth_response_wrong_issuer: Fault::AuthResponseWrongIssuer => "authorization: iss",
    auth_response_missing_issuer: Fault::AuthResponseMissingIssuer => "authorization: iss",
    auth_response_error_html: Fault::AuthResponseErrorHtml => "authorization: access_denied",
    token_invalid_client: Fault::TokenInvalidClient => "token: ServerResponse",
    token_invalid_grant: Fault::TokenInvalidGrant => "token: ServerResponse",
    token_server_error: Fault::TokenServerError => "token",
    token_missing_id_token: Fault::TokenMissingIdToken => "token: no id_token",
    token_wrong_types: Fault::TokenWrongTypes => "token: Parse",
    userinfo_sub_mismatch: Fault::UserinfoSubMismatch => "userinfo",
    userinfo_server_error: Fault::UserinfoServerError => "userinfo",
    userinfo_unauthorized: Fault::UserinfoUnauthorized => "userinfo",
    discovery_wrong_issuer: Fault::DiscoveryWrongIssuer => "discovery",
    discovery_server_error: Fault::DiscoveryServerError => "discovery",
    discovery_not_json: Fault::DiscoveryNotJson => "discovery",
    discovery_missing_jwks_uri: Fault::DiscoveryMissingJwksUri => "discovery",
    discovery_missing_token_endpoint: Fault::DiscoveryMissingTokenEndpoint => "discovery: no token",
}

/// The faults openidconnect does not check by itself corrupt exactly one claim.
#[rocket::async_test]
async fn unchecked_claim_faults_corrupt_exactly_one_claim() {
    let (token, _) = id_token_under(Fault::MissingSub).await;
    assert!(!decode(&token).1.contains_key("sub"));

    let (token, _) = id_token_under(Fault::WrongAzp).await;
    let (_, claims) = decode(&token);
    assert_eq!(
        (claims["azp"].as_str(), claims["aud"].as_str()),
        (Some("another-client"), Some(DEFAULT_CLIENT_ID))
    );

    let (token, _) = id_token_under(Fault::ExtraAudience).await;
    let (_, claims) = decode(&token);
    assert_eq!(
        claims["aud"],
        json!([DEFAULT_CLIENT_ID, "another-audience"])
    );
    assert!(!claims.contains_key("azp"));

    let (token, _) = id_token_under(Fault::IatInFuture).await;
    let (_, claims) = decode(&token);
    let iat = claims["iat"].as_i64().unwrap();
    assert!((iat - now() - 3600).abs() < 5);
    assert!(claims["exp"].as_i64().unwrap() > now());

    let (token, access) = id_token_under(Fault::WrongAtHash).await;
    let (_, claims) = decode(&token);
    assert_ne!(claims["at_hash"], json!(at_hash(&access)));
    assert_eq!(claims["at_hash"].as_str().unwrap().len(), 22);

    let (token, _) = id_token_under(Fault::Expired).await;
    let (_, claims) = decode(&token);
    assert!((claims["exp"].as_i64().unwrap() - (now() - 3600)).abs() < 5);
    assert_eq!(
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap() - 3600
    );

    let (token, _) = id_token_under(Fault::Claim("exp".into(), json!(u64::MAX))).await;
    assert_eq!(decode(&token).1["exp"], json!(u64::MAX));
}

fn hs256(secret: &[u8], token: &str) -> String {
    let (input, _) = token.rsplit_once('.').unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

#[rocket::async_test]
async fn signature_faults_are_what_they_claim() {
    let (token, _) = id_token_under(Fault::AlgNone).await;
    assert_eq!(decode(&token).0["alg"], "none");
    assert!(token.ends_with('.'));

    let (token, _) = id_token_under(Fault::Hs256WithClientSecret).await;
    assert_eq!(decode(&token).0["alg"], "HS256");
    assert_eq!(
        token.rsplit('.').next().unwrap(),
        hs256(DEFAULT_CLIENT_SECRET.as_bytes(), &token)
    );

    // The classic confusion: HMAC keyed with the published RSA key as SPKI PEM text.
    let issuer = DevIssuer::start().await.unwrap();
    let jwks: Value = http()
        .get(format!("{}/jwks", issuer.issuer_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = |name: &str| {
        BigUint::from_bytes_be(
            &URL_SAFE_NO_PAD
                .decode(jwks["keys"][0][name].as_str().unwrap())
                .unwrap(),
        )
    };
    let pem = RsaPublicKey::new(number("n"), number("e"))
        .unwrap()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let (token, _) = id_token_under(Fault::Hs256WithPublicKey).await;
    let (header, _) = decode(&token);
    assert_eq!(
        (header["alg"].as_str(), &header["kid"]),
        (Some("HS256"), &jwks["keys"][0]["kid"])
    );
    assert_eq!(
        token.rsplit('.').next().unwrap(),
        hs256(pem.as_bytes(), &token)
    );

    let (token, _) = id_token_under(Fault::NoKid).await;
    assert!(!decode(&token).0.contains_key("kid"));
}

#[rocket::async_test]
async fn no_kid_is_fine_with_one_key_and_ambiguous_with_two() {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_fault(Fault::NoKid);
    strict_login(&issuer).await.unwrap();
    issuer.set_fault(Fault::ExtraJwksKey);
    let error = strict_login(&issuer).await.unwrap_err();
    assert!(error.contains("AmbiguousKeyId"), "{error}");
    issuer.clear_faults();
    issuer.set_fault(Fault::ExtraJwksKey);
    strict_login(&issuer).await.unwrap();
}

#[rocket::async_test]
async fn rotated_key_needs_a_jwks_refetch() {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_auto_login(Some("ada"));
    let mut metadata = discover(&issuer).await.unwrap();
    let stale = default_client(metadata.clone());
    issuer.set_fault(Fault::RotatedKey);
    let request = authorization_request(&stale, &[]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    let tokens = exchange(&stale, &code, request.verifier).await.unwrap();
    let id_token = tokens.id_token().unwrap();
    let error = id_token
        .claims(&stale.id_token_verifier(), &request.nonce)
        .unwrap_err();
    assert!(format!("{error:?}").contains("NoMatchingKey"), "{error:?}");

    let jwks = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &http())
        .await
        .unwrap();
    assert_eq!(jwks.keys().len(), 2);
    metadata = metadata.set_jwks(jwks);
    let fresh = default_client(metadata);
    let claims = id_token
        .claims(&fresh.id_token_verifier(), &request.nonce)
        .unwrap();
    assert_eq!(claims.subject().as_str(), "ada-lovelace-1815");
}

#[rocket::async_test]
async fn auth_response_faults_are_exact() {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_auto_login(Some("ada"));
    let client = default_client(discover(&issuer).await.unwrap());
    issuer.set_fault(Fault::AuthResponseErrorHtml);
    let callback = login_auto(&authorization_request(&client, &[]).url).await;
    assert_eq!(
        param(&callback, "error_description"),
        Some("<script>alert(1)</script>")
    );
    assert!(param(&callback, "code").is_none());
    issuer.clear_faults();
    issuer.set_fault(Fault::AuthResponseWrongIssuer);
    let callback = login_auto(&authorization_request(&client, &[]).url).await;
    assert_eq!(param(&callback, "iss"), Some("http://wrong-issuer.invalid"));
    assert!(param(&callback, "code").is_some());
}

#[rocket::async_test]
async fn many_groups_make_a_large_but_valid_token_set() {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_fault(Fault::ManyGroups(300));
    let login = strict_login(&issuer).await.unwrap();
    let size = login.id_token.len()
        + login.tokens.access_token().secret().len()
        + login.tokens.refresh_token().unwrap().secret().len();
    assert!(size > 8 * 1024, "{size}");
    assert_eq!(
        decode(&login.id_token).1["groups"]
            .as_array()
            .unwrap()
            .len(),
        300
    );
}

#[rocket::async_test]
async fn token_wrong_types_and_server_errors_are_exact() {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_fault(Fault::TokenWrongTypes);
    issuer.set_auto_login(Some("ada"));
    let client = default_client(discover(&issuer).await.unwrap());
    let body = raw_tokens(&issuer, &client).await;
    assert_eq!(
        (body["access_token"].clone(), body["expires_in"].clone()),
        (json!(12345), json!("3600abc"))
    );
    issuer.clear_faults();
    for (fault, status) in [
        (Fault::TokenServerError, 500),
        (Fault::TokenInvalidClient, 401),
        (Fault::TokenInvalidGrant, 400),
    ] {
        issuer.set_fault(fault);
        let response = http()
            .post(format!("{}/token", issuer.issuer_url()))
            .form(&[("grant_type", "refresh_token")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        issuer.clear_faults();
    }
}

/// Reads at most `limit` bytes, as a careful client does; `Err` if the body is longer.
async fn capped_body(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, usize> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            return Err(body.len());
        }
    }
    Ok(body)
}

#[rocket::async_test]
async fn huge_bodies_are_streamed() {
    let issuer = DevIssuer::start().await.unwrap();
    for (fault, path) in [
        (
            Fault::HugeDiscovery { mb: 50 },
            "/.well-known/openid-configuration",
        ),
        (Fault::HugeJwks { mb: 50 }, "/jwks"),
    ] {
        issuer.set_fault(fault);
        let response = http()
            .get(format!("{}{path}", issuer.issuer_url()))
            .send()
            .await
            .unwrap();
        assert!(
            response.content_length().is_none(),
            "streamed without a length"
        );
        assert!(capped_body(response, 1 << 20).await.is_err(), "{path}");
        issuer.clear_faults();
    }
    // The padded document is still valid: only its size is wrong.
    issuer.set_fault(Fault::HugeDiscovery { mb: 1 });
    let metadata = discover(&issuer).await.unwrap();
    assert_eq!(metadata.issuer().as_str(), issuer.issuer_url());
    issuer.clear_faults();
    issuer.set_fault(Fault::HugeJwks { mb: 1 });
    assert_eq!(discover(&issuer).await.unwrap().jwks().keys().len(), 1);
}

#[rocket::async_test]
async fn delays_trip_client_timeouts() {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_fault(Fault::Delay(Duration::from_secs(2)));
    let impatient = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = Instant::now();
    for path in ["/.well-known/openid-configuration", "/jwks", "/userinfo"] {
        let result = impatient
            .get(format!("{}{path}", issuer.issuer_url()))
            .send()
            .await;
        assert!(result.unwrap_err().is_timeout(), "{path}");
    }
    let result = impatient
        .post(format!("{}/token", issuer.issuer_url()))
        .send()
        .await;
    assert!(result.unwrap_err().is_timeout());
    assert!(started.elapsed() < Duration::from_secs(2));
}
