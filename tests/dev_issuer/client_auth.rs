//! Client authentication without a shared secret: `private_key_jwt` (RFC 7523 §2.2, OpenID
//! Connect Core §9) and Sign in with Apple's ES256 client secret, at `/token` and `/revoke`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use openidconnect::{AuthType, ClientSecret, OAuth2TokenResponse, TokenResponse};
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::DecodePrivateKey as _;
use rocket::serde::json::serde_json::{json, Value};
use rocket_openid_connect::dev_issuer::{
    DevClient, DevClientKey, DevIssuer, APPLE_AUDIENCE, APPLE_AUTH_KEY_P8,
    APPLE_MAX_SECRET_LIFETIME, CLIENT_ASSERTION_TYPE_JWT_BEARER, CLIENT_P256_KEY_PEM,
    CLIENT_RSA_KEY_PEM, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};
use sha2::Sha256;

use crate::*;

/// A `private_key_jwt` client registered with the RSA key from PEM (its `kid` is the key's
/// thumbprint).
const RSA_CLIENT: &str = "backend-rsa";
/// A `private_key_jwt` client registered with a JWK Set holding the P-256 key (no `kid`).
const EC_CLIENT: &str = "backend-ec";
/// A Sign in with Apple client (the Services ID), its team and key id.
const APPLE_CLIENT: &str = "com.example.web";
const TEAM_ID: &str = "TEAM123456";
const KEY_ID: &str = "KEY1234567";

/// A compact JWS of `header` and `claims`, signed with `pem` as `alg` says (any other `alg`
/// gets the signature of `sign_as`).
fn mint(sign_as: &str, pem: &str, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let message = input.as_bytes();
    let signature = match sign_as {
        "RS256" => {
            let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem).unwrap();
            rsa::pkcs1v15::SigningKey::<Sha256>::new(key)
                .sign(message)
                .to_vec()
        }
        "PS256" => {
            let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem).unwrap();
            rsa::pss::SigningKey::<Sha256>::new(key)
                .sign_with_rng(&mut rand::thread_rng(), message)
                .to_vec()
        }
        "ES256" => {
            let key = p256::ecdsa::SigningKey::from_pkcs8_pem(pem).unwrap();
            let signature: p256::ecdsa::Signature = key.sign(message);
            signature.to_bytes().to_vec()
        }
        "none" => Vec::new(),
        other => panic!("no signer for {other}"),
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn jti() -> String {
    format!("jti-{:016x}", rand::random::<u64>())
}

async fn issuer() -> DevIssuer {
    let rsa = DevClientKey::from_pem(CLIENT_RSA_KEY_PEM).unwrap();
    // The P-256 key as a client would publish it: a JWK Set, here without `kid`.
    let mut ec_jwk = DevClientKey::from_pem(CLIENT_P256_KEY_PEM)
        .unwrap()
        .jwk()
        .clone();
    ec_jwk.as_object_mut().unwrap().remove("kid");
    let ec = DevClientKey::from_jwks(&json!({ "keys": [ec_jwk] })).unwrap();
    let apple = DevClientKey::from_pem(APPLE_AUTH_KEY_P8).unwrap();
    DevIssuer::builder()
        .client(DevClient::private_key_jwt(RSA_CLIENT, [rsa]).redirect_uri(REDIRECT_URI))
        .client(DevClient::private_key_jwt(EC_CLIENT, ec).redirect_uri(REDIRECT_URI))
        .client(DevClient::apple(APPLE_CLIENT, TEAM_ID, KEY_ID, apple).redirect_uri(REDIRECT_URI))
        .start()
        .await
        .unwrap()
}

/// One token request by a `private_key_jwt` client, as a test changes it.
struct Case {
    client_id: &'static str,
    sign_as: &'static str,
    pem: &'static str,
    header: Value,
    claims: Value,
    /// Replaces the minted assertion.
    assertion: Option<String>,
    /// The form, without `client_assertion`.
    form: Vec<(&'static str, String)>,
    basic: Option<(&'static str, &'static str)>,
}

impl Case {
    /// A valid RS256 assertion of [`RSA_CLIENT`] for `issuer`'s token endpoint, with a code
    /// that cannot be valid: a good assertion gets `invalid_grant`.
    fn new(issuer: &DevIssuer) -> Case {
        let rsa_kid = DevClientKey::from_pem(CLIENT_RSA_KEY_PEM)
            .unwrap()
            .kid()
            .unwrap()
            .to_owned();
        Case {
            client_id: RSA_CLIENT,
            sign_as: "RS256",
            pem: CLIENT_RSA_KEY_PEM,
            header: json!({"alg": "RS256", "typ": "JWT", "kid": rsa_kid}),
            claims: json!({
                "iss": RSA_CLIENT, "sub": RSA_CLIENT,
                "aud": format!("{}/token", issuer.issuer_url()),
                "iat": now(), "exp": now() + 60, "jti": jti(),
            }),
            assertion: None,
            form: vec![
                ("grant_type", "authorization_code".into()),
                ("code", "cannot-be-valid".into()),
                ("redirect_uri", REDIRECT_URI.into()),
                (
                    "client_assertion_type",
                    CLIENT_ASSERTION_TYPE_JWT_BEARER.into(),
                ),
            ],
            basic: None,
        }
    }

    /// The same for [`EC_CLIENT`], ES256.
    fn ec(issuer: &DevIssuer) -> Case {
        let mut case = Case::new(issuer);
        case.client_id = EC_CLIENT;
        case.sign_as = "ES256";
        case.pem = CLIENT_P256_KEY_PEM;
        case.header = json!({"alg": "ES256", "typ": "JWT"});
        case.claims["iss"] = json!(EC_CLIENT);
        case.claims["sub"] = json!(EC_CLIENT);
        case
    }

    fn assertion(&self) -> String {
        self.assertion
            .clone()
            .unwrap_or_else(|| mint(self.sign_as, self.pem, &self.header, &self.claims))
    }

    /// Sends it to `path`; returns the status and JSON body.
    async fn send(&self, issuer: &DevIssuer, path: &str) -> (u16, Value) {
        let mut form = self.form.clone();
        form.push(("client_assertion", self.assertion()));
        let mut request = http().post(format!("{}{path}", issuer.issuer_url()));
        if let Some((id, secret)) = self.basic {
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.form(&form).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }
}

#[rocket::async_test]
async fn a_good_assertion_passes_client_authentication() {
    let issuer = issuer().await;
    let base = issuer.issuer_url().to_owned();
    let token_endpoint = format!("{base}/token");
    let revocation_endpoint = format!("{base}/revoke");
    for aud in [
        json!(token_endpoint),
        json!(base),
        json!(revocation_endpoint),
        json!(["https://elsewhere.example", token_endpoint]),
    ] {
        for mut case in [Case::new(&issuer), Case::ec(&issuer)] {
            case.claims["aud"] = aud.clone();
            let (status, body) = case.send(&issuer, "/token").await;
            // Authenticated: only the code is wrong.
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_grant")),
                "{aud} {body}"
            );
        }
    }
    // PS256 with the RSA key, and an assertion without kid.
    let mut case = Case::new(&issuer);
    case.sign_as = "PS256";
    case.header = json!({"alg": "PS256"});
    assert_eq!(
        case.send(&issuer, "/token").await.1["error"],
        "invalid_grant"
    );
}

#[rocket::async_test]
async fn private_key_jwt_redeems_a_code_for_tokens() {
    let issuer = issuer().await;
    issuer.set_auto_login(Some("ada"));
    let metadata = discover(&issuer).await.unwrap();
    for mut case in [Case::new(&issuer), Case::ec(&issuer)] {
        let client = client(metadata.clone(), case.client_id, None);
        let request = authorization_request(&client, &["profile"]);
        let code = param(&login_auto(&request.url).await, "code")
            .unwrap()
            .to_owned();
        case.form = vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", REDIRECT_URI.into()),
            ("code_verifier", request.verifier.secret().clone()),
            (
                "client_assertion_type",
                CLIENT_ASSERTION_TYPE_JWT_BEARER.into(),
            ),
        ];
        let (status, body) = case.send(&issuer, "/token").await;
        assert_eq!(status, 200, "{body}");
        let (_, claims) = decode(body["id_token"].as_str().unwrap());
        assert_eq!(claims["aud"], json!(case.client_id));
        assert_eq!(claims["sub"], "ada-lovelace-1815");
        // Revoke the refresh token with a fresh assertion.
        let mut revoke = Case::new(&issuer);
        revoke.client_id = case.client_id;
        revoke.sign_as = case.sign_as;
        revoke.pem = case.pem;
        revoke.header = case.header.clone();
        revoke.claims = case.claims.clone();
        revoke.claims["jti"] = json!(jti());
        let refresh = body["refresh_token"].as_str().unwrap().to_owned();
        revoke.form = vec![
            ("token", refresh.clone()),
            (
                "client_assertion_type",
                CLIENT_ASSERTION_TYPE_JWT_BEARER.into(),
            ),
        ];
        assert_eq!(revoke.send(&issuer, "/revoke").await.0, 200);
        assert_eq!(issuer.counters().revoked_tokens.last(), Some(&refresh));
    }
}

#[rocket::async_test]
async fn a_replayed_jti_is_refused() {
    let issuer = issuer().await;
    let case = Case::new(&issuer);
    let assertion = case.assertion();
    let mut replay = Case::new(&issuer);
    replay.assertion = Some(assertion.clone());
    let mut first = Case::new(&issuer);
    first.assertion = Some(assertion);
    assert_eq!(
        first.send(&issuer, "/token").await.1["error"],
        "invalid_grant"
    );
    let (status, body) = replay.send(&issuer, "/token").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("replay"));
    // The same jti is refused at the revocation endpoint too.
    replay.form = vec![
        ("token", "x".into()),
        (
            "client_assertion_type",
            CLIENT_ASSERTION_TYPE_JWT_BEARER.into(),
        ),
    ];
    assert_eq!(replay.send(&issuer, "/revoke").await.0, 401);
}

/// One test per refusal: `$change` turns a valid case into the refused one; the answer is
/// `$status` `$error` with `$reason` in the description.
macro_rules! assertion_refused {
    ($($name:ident: $change:expr => $status:literal $error:literal $reason:literal,)*) => {$(
        #[rocket::async_test]
        async fn $name() {
            let issuer = issuer().await;
            let mut case = Case::new(&issuer);
            let change: fn(&mut Case, &str) = $change;
            change(&mut case, issuer.issuer_url());
            let (status, body) = case.send(&issuer, "/token").await;
            assert_eq!((status, body["error"].as_str()), ($status, Some($error)), "{body}");
            let description = body["error_description"].as_str().unwrap();
            assert!(description.contains($reason), "{description}");
        }
    )*};
}

assertion_refused! {
    assertion_expired: |c, _| c.claims["exp"] = json!(now() - 1)
        => 401 "invalid_client" "has expired",
    assertion_exp_too_far: |c, _| c.claims["exp"] = json!(now() + 3700)
        => 401 "invalid_client" "more than 3600 s away",
    assertion_without_exp: |c, _| { c.claims.as_object_mut().unwrap().remove("exp"); }
        => 401 "invalid_client" "no exp",
    assertion_wrong_iss: |c, _| c.claims["iss"] = json!("someone-else")
        => 401 "invalid_client" "iss must be the client_id",
    assertion_unknown_sub: |c, _| c.claims["sub"] = json!("someone-else")
        => 401 "invalid_client" "unknown client",
    assertion_client_id_differs: |c, _| c.form.push(("client_id", EC_CLIENT.into()))
        => 401 "invalid_client" "client_id differs",
    assertion_wrong_aud: |c, base| c.claims["aud"] = json!(format!("{base}/userinfo"))
        => 401 "invalid_client" "aud must be the token endpoint URL",
    assertion_without_jti: |c, _| { c.claims.as_object_mut().unwrap().remove("jti"); }
        => 401 "invalid_client" "no jti",
    assertion_iat_in_future: |c, _| c.claims["iat"] = json!(now() + 600)
        => 401 "invalid_client" "iat is in the future",
    assertion_bad_signature: |c, _| {
        let good = c.assertion();
        let (input, signature) = good.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[0] ^= 0xff;
        c.assertion = Some(format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes)));
    } => 401 "invalid_client" "does not verify",
    assertion_signed_by_another_key: |c, _| {
        c.sign_as = "ES256";
        c.pem = APPLE_AUTH_KEY_P8;
        c.header = json!({"alg": "ES256"});
    } => 401 "invalid_client" "does not verify",
    assertion_alg_none: |c, _| { c.sign_as = "none"; c.header = json!({"alg": "none"}); }
        => 401 "invalid_client" "alg `none` is not accepted",
    assertion_hs256: |c, _| c.header = json!({"alg": "HS256"})
        => 401 "invalid_client" "alg `HS256` is not accepted",
    assertion_unknown_kid: |c, _| c.header["kid"] = json!("not-this-key")
        => 401 "invalid_client" "no registered key has kid",
    assertion_not_a_jwt: |c, _| c.assertion = Some("not-a-jwt".into())
        => 401 "invalid_client" "not a JWT",
    assertion_wrong_type: |c, _| c.form[3].1 = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer".into()
        => 401 "invalid_client" "is not supported",
    assertion_without_type: |c, _| { c.form.remove(3); }
        => 400 "invalid_request" "client_assertion_type is required",
    assertion_and_basic: |c, _| c.basic = Some((RSA_CLIENT, "secret"))
        => 400 "invalid_request" "one client authentication method",
    assertion_for_a_secret_client: |c, _| {
        c.claims["iss"] = json!(DEFAULT_CLIENT_ID);
        c.claims["sub"] = json!(DEFAULT_CLIENT_ID);
    } => 401 "invalid_client" "not registered for private_key_jwt",
}

#[rocket::async_test]
async fn a_private_key_jwt_client_cannot_use_a_secret_or_nothing() {
    let issuer = issuer().await;
    let token = |basic: bool, form: Vec<(&'static str, &'static str)>| {
        let url = format!("{}/token", issuer.issuer_url());
        async move {
            let mut request = http().post(url);
            if basic {
                request = request.basic_auth(RSA_CLIENT, Some("a-secret"));
            }
            let response = request.form(&form).send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let bogus = [("grant_type", "authorization_code"), ("code", "x")];
    for (basic, extra) in [
        (true, vec![]),
        (
            false,
            vec![("client_id", RSA_CLIENT), ("client_secret", "a-secret")],
        ),
        (false, vec![("client_id", RSA_CLIENT)]),
    ] {
        let form = [bogus.to_vec(), extra].concat();
        let (status, body) = token(basic, form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client"))
        );
        assert!(body["error_description"]
            .as_str()
            .unwrap()
            .contains("authenticates with private_key_jwt"));
    }
}

#[rocket::async_test]
async fn discovery_advertises_private_key_jwt_and_its_algorithms() {
    let issuer = DevIssuer::start().await.unwrap();
    let document: Value = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            issuer.issuer_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for endpoint in ["token_endpoint", "revocation_endpoint"] {
        assert_eq!(
            document[format!("{endpoint}_auth_methods_supported")],
            json!([
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
                "none"
            ])
        );
        assert_eq!(
            document[format!("{endpoint}_auth_signing_alg_values_supported")],
            json!(["RS256", "PS256", "ES256"])
        );
    }
    let metadata = discover(&issuer).await.unwrap();
    assert_eq!(
        metadata
            .token_endpoint_auth_signing_alg_values_supported()
            .unwrap()
            .len(),
        3
    );
}

// --- Sign in with Apple ---

/// A Sign in with Apple client secret as the docs describe it, with these changes.
fn apple_secret(header: Value, claims: Value, pem: &str) -> String {
    let mut full_header = json!({"alg": "ES256", "kid": KEY_ID});
    let mut full_claims = json!({
        "iss": TEAM_ID, "sub": APPLE_CLIENT, "aud": APPLE_AUDIENCE,
        "iat": now(), "exp": now() + APPLE_MAX_SECRET_LIFETIME as i64,
    });
    for (target, changes) in [(&mut full_header, header), (&mut full_claims, claims)] {
        for (name, value) in changes.as_object().unwrap() {
            if value.is_null() {
                target.as_object_mut().unwrap().remove(name);
            } else {
                target[name] = value.clone();
            }
        }
    }
    let sign_as = full_header["alg"].as_str().unwrap().to_owned();
    mint(&sign_as, pem, &full_header, &full_claims)
}

#[rocket::async_test]
async fn an_apple_client_secret_redeems_a_code_and_revokes() {
    let issuer = issuer().await;
    issuer.set_auto_login(Some("grace"));
    let secret = apple_secret(json!({}), json!({}), APPLE_AUTH_KEY_P8);
    let client = client(discover(&issuer).await.unwrap(), APPLE_CLIENT, None)
        .set_client_secret(ClientSecret::new(secret.clone()))
        .set_auth_type(AuthType::RequestBody);
    let request = authorization_request(&client, &["email"]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    let tokens = exchange(&client, &code, request.verifier).await.unwrap();
    let (_, claims) = decode(&tokens.id_token().unwrap().to_string());
    assert_eq!(claims["aud"], APPLE_CLIENT);
    // The secret is reusable until it expires.
    let response = http()
        .post(format!("{}/revoke", issuer.issuer_url()))
        .form(&[
            ("client_id", APPLE_CLIENT),
            ("client_secret", secret.as_str()),
            ("token", tokens.access_token().secret().as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// One test per refusal of an Apple client secret: Apple answers 400 `invalid_client`.
macro_rules! apple_refused {
    ($($name:ident: $header:expr, $claims:expr, $pem:expr, $basic:literal => $reason:literal,)*) => {$(
        #[rocket::async_test]
        async fn $name() {
            let issuer = issuer().await;
            let secret = apple_secret($header, $claims, $pem);
            let mut request = http().post(format!("{}/token", issuer.issuer_url()));
            let mut form = vec![
                ("grant_type", "authorization_code".to_owned()),
                ("code", "cannot-be-valid".to_owned()),
            ];
            if $basic {
                request = request.basic_auth(APPLE_CLIENT, Some(&secret));
            } else {
                form.push(("client_id", APPLE_CLIENT.to_owned()));
                form.push(("client_secret", secret));
            }
            let response = request.form(&form).send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client")), "{body}");
            let description = body["error_description"].as_str().unwrap();
            assert!(description.contains($reason), "{description}");
        }
    )*};
}

apple_refused! {
    apple_secret_expired: json!({}), json!({"iat": now() - 100, "exp": now() - 1}),
        APPLE_AUTH_KEY_P8, false => "has expired",
    apple_secret_too_long_lived: json!({}),
        json!({"exp": now() + APPLE_MAX_SECRET_LIFETIME as i64 + 60}),
        APPLE_AUTH_KEY_P8, false => "lives too long",
    apple_secret_badly_signed: json!({}), json!({}), CLIENT_P256_KEY_PEM, false => "does not verify",
    apple_secret_wrong_iss: json!({}), json!({"iss": "OTHERTEAM1"}), APPLE_AUTH_KEY_P8, false
        => "iss must be the team id",
    apple_secret_wrong_sub: json!({}), json!({"sub": "com.example.other"}), APPLE_AUTH_KEY_P8, false
        => "sub must be the client_id",
    apple_secret_wrong_aud: json!({}), json!({"aud": "https://appleid.apple.com/auth/token"}),
        APPLE_AUTH_KEY_P8, false => "aud must be https://appleid.apple.com",
    apple_secret_wrong_kid: json!({"kid": "OTHERKEY12"}), json!({}), APPLE_AUTH_KEY_P8, false
        => "kid must be the key id",
    apple_secret_rs256: json!({"alg": "RS256"}), json!({}), CLIENT_RSA_KEY_PEM, false
        => "alg `RS256` is not accepted",
    apple_secret_in_basic: json!({}), json!({}), APPLE_AUTH_KEY_P8, true => "client_secret_post",
}

#[rocket::async_test]
async fn a_good_apple_secret_passes_client_authentication() {
    let issuer = issuer().await;
    let response = http()
        .post(format!("{}/token", issuer.issuer_url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "cannot-be-valid"),
            ("client_id", APPLE_CLIENT),
            (
                "client_secret",
                &apple_secret(json!({}), json!({}), APPLE_AUTH_KEY_P8),
            ),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    // Not a JWT at all.
    let response = http()
        .post(format!("{}/token", issuer.issuer_url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "cannot-be-valid"),
            ("client_id", APPLE_CLIENT),
            ("client_secret", DEFAULT_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}
