//! Standard flows: discovery, code + PKCE, userinfo, refresh, revocation, logout, client auth.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use openidconnect::core::CoreProviderMetadata;
use openidconnect::{AuthType, OAuth2TokenResponse, RefreshToken, TokenResponse};
use rocket::serde::json::serde_json::{json, Value};
use rocket_openid_connect::dev_issuer::{
    default_users, DevClient, DevIssuer, DevUser, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};

use crate::*;

#[rocket::async_test]
async fn discovery_is_complete_and_parses() {
    let issuer = DevIssuer::start().await.unwrap();
    let url = issuer.issuer_url().to_owned();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with('/'));
    let raw: Value = http()
        .get(format!("{url}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(raw["issuer"], json!(url));
    for endpoint in [
        "revocation_endpoint",
        "end_session_endpoint",
        "userinfo_endpoint",
    ] {
        assert!(
            raw[endpoint].as_str().unwrap().starts_with(&url),
            "{endpoint}"
        );
    }
    assert_eq!(raw["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        raw["authorization_response_iss_parameter_supported"],
        json!(true)
    );
    let metadata = discover(&issuer).await.unwrap();
    assert_eq!(metadata.issuer().as_str(), url);
    assert_eq!(metadata.jwks().keys().len(), 1);
    let jwks: Value = http()
        .get(format!("{url}/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["use"].as_str(), key["alg"].as_str()),
        (Some("sig"), Some("RS256"))
    );
    assert!(key["kid"].is_string());
    assert_eq!(issuer.counters().discovery, 2);
    assert_eq!(issuer.counters().jwks, 2);
    issuer.stop().await;
}

#[rocket::async_test]
async fn code_flow_through_the_login_form() {
    let issuer = DevIssuer::start().await.unwrap();
    let client = default_client(discover(&issuer).await.unwrap());
    let request = authorization_request(&client, &["profile", "email", "groups"]);
    let callback = login_with_form(&issuer, &request.url, "grace").await;
    assert_eq!(param(&callback, "iss"), Some(issuer.issuer_url()));
    assert_eq!(
        param(&callback, "state"),
        Some(request.state.secret().as_str())
    );
    let tokens = exchange(&client, param(&callback, "code").unwrap(), request.verifier)
        .await
        .unwrap();
    assert_eq!(tokens.access_token().secret().len(), 43);
    assert!(tokens.refresh_token().is_some());
    let id_token = tokens.id_token().unwrap();
    let claims = id_token
        .claims(&client.id_token_verifier(), &request.nonce)
        .unwrap();
    assert_eq!(claims.subject().as_str(), "grace-hopper-1906");
    assert_eq!(claims.preferred_username().unwrap().as_str(), "grace");
    assert_eq!(claims.email().unwrap().as_str(), "grace@example.com");
    let (header, raw) = decode(&id_token.to_string());
    assert_eq!(header["alg"], "RS256");
    assert!(header["kid"].is_string());
    assert_eq!(
        raw["at_hash"],
        json!(at_hash(tokens.access_token().secret()))
    );
    assert_eq!(raw["groups"], json!(["engineering", "navy"]));
    assert!(!id_token.to_string().contains(' '));

    let userinfo: openidconnect::core::CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http())
        .await
        .unwrap();
    assert_eq!(userinfo.email().unwrap().as_str(), "grace@example.com");
    let counters = issuer.counters();
    assert_eq!(
        (
            counters.authorize,
            counters.login,
            counters.token,
            counters.userinfo
        ),
        (1, 1, 1, 1)
    );
}

#[rocket::async_test]
async fn auto_login_and_login_hint() {
    let issuer = DevIssuer::start().await.unwrap();
    let login = strict_login(&issuer).await.unwrap();
    assert_eq!(login.claims.subject().as_str(), "ada-lovelace-1815");
    assert_eq!(login.userinfo.subject().as_str(), "ada-lovelace-1815");

    issuer.set_auto_login(None);
    let client = default_client(discover(&issuer).await.unwrap());
    let request = authorization_request(&client, &[]);
    let html = http()
        .get(format!("{}&login_hint=alan", request.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"value="alan" checked"#), "{html}");
}

#[rocket::async_test]
async fn login_page_errors_and_deny() {
    let issuer = DevIssuer::start().await.unwrap();
    let client = default_client(discover(&issuer).await.unwrap());
    let request = authorization_request(&client, &[]);
    let html = http()
        .get(&request.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let id = request_id(&html);
    let login = |username: &'static str, action: &'static str| {
        let (id, url) = (id.clone(), format!("{}/login", issuer.issuer_url()));
        async move {
            http()
                .post(url)
                .form(&[
                    ("request_id", id.as_str()),
                    ("username", username),
                    ("action", action),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let unknown = login("mallory", "login").await;
    assert_eq!(unknown.status(), 400);
    assert!(unknown.text().await.unwrap().contains("There is no user"));
    let denied = login("ada", "deny").await;
    assert_eq!(denied.status(), 303);
    let params = location_params(&denied);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(
        param(&params, "state"),
        Some(request.state.secret().as_str())
    );
    // The request is used up.
    assert_eq!(login("ada", "login").await.status(), 400);

    issuer.set_auto_login(Some("nobody"));
    let response = http().get(&request.url).send().await.unwrap();
    assert_eq!(response.status(), 400);
}

#[rocket::async_test]
async fn refresh_rotates_the_refresh_token() {
    let issuer = DevIssuer::start().await.unwrap();
    let login = strict_login(&issuer).await.unwrap();
    let client = default_client(discover(&issuer).await.unwrap());
    let first = login.tokens.refresh_token().unwrap().clone();
    let refreshed = client
        .exchange_refresh_token(&first)
        .unwrap()
        .request_async(&http())
        .await
        .unwrap();
    let second = refreshed.refresh_token().unwrap();
    assert_ne!(second.secret(), first.secret());
    let (_, claims) = decode(&refreshed.id_token().unwrap().to_string());
    assert_eq!(claims["sub"], "ada-lovelace-1815");
    let again = client
        .exchange_refresh_token(&first)
        .unwrap()
        .request_async(&http())
        .await;
    assert!(format!("{again:?}").contains("invalid_grant"), "{again:?}");
    client
        .exchange_refresh_token(second)
        .unwrap()
        .request_async(&http())
        .await
        .unwrap();
}

async fn revoke(issuer: &DevIssuer, token: &str) -> reqwest::Response {
    http()
        .post(format!("{}/revoke", issuer.issuer_url()))
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

#[rocket::async_test]
async fn revocation() {
    let issuer = DevIssuer::start().await.unwrap();
    let login = strict_login(&issuer).await.unwrap();
    let access = login.tokens.access_token().secret().clone();
    let refresh = login.tokens.refresh_token().unwrap().secret().clone();
    let userinfo = |token: String| {
        let url = format!("{}/userinfo", issuer.issuer_url());
        async move {
            http()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(userinfo(access.clone()).await, 200);
    assert_eq!(revoke(&issuer, &refresh).await.status(), 200);
    // Revoking the refresh token revoked the access token of the same grant (RFC 7009 §2.1).
    assert_eq!(userinfo(access.clone()).await, 401);
    let client = default_client(discover(&issuer).await.unwrap());
    let refreshed = client
        .exchange_refresh_token(&RefreshToken::new(refresh.clone()))
        .unwrap()
        .request_async(&http())
        .await;
    assert!(format!("{refreshed:?}").contains("invalid_grant"));
    assert_eq!(revoke(&issuer, "never-issued").await.status(), 200);
    let unauthenticated = http()
        .post(format!("{}/revoke", issuer.issuer_url()))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let counters = issuer.counters();
    assert_eq!(
        counters.revoked_tokens,
        vec![refresh, "never-issued".to_owned()]
    );
    assert_eq!(counters.revocation, 3);
}

#[rocket::async_test]
async fn end_session() {
    let issuer = DevIssuer::start().await.unwrap();
    let login = strict_login(&issuer).await.unwrap();
    let url = format!("{}/end_session", issuer.issuer_url());
    let get = |query: Vec<(&'static str, String)>| {
        let url = url.clone();
        async move { http().get(url).query(&query).send().await.unwrap() }
    };
    let redirect = get(vec![
        ("id_token_hint", login.id_token.clone()),
        ("post_logout_redirect_uri", "http://localhost:48123/".into()),
        ("state", "xyz".into()),
    ])
    .await;
    assert_eq!(redirect.status(), 303);
    assert_eq!(
        redirect.headers()["location"],
        "http://localhost:48123/?state=xyz"
    );
    let last = issuer.counters().last_end_session.unwrap();
    assert_eq!(
        last[0],
        ("id_token_hint".to_owned(), login.id_token.clone())
    );
    assert_eq!(last.len(), 3);

    let with_client_id = get(vec![
        ("client_id", DEFAULT_CLIENT_ID.into()),
        ("post_logout_redirect_uri", "http://127.0.0.1:9/".into()),
    ])
    .await;
    assert_eq!(with_client_id.status(), 303);
    let unregistered = get(vec![
        ("id_token_hint", login.id_token.clone()),
        ("post_logout_redirect_uri", "https://evil.example/".into()),
    ])
    .await;
    assert_eq!(unregistered.status(), 400);
    assert!(unregistered.headers().get("location").is_none());
    let forged = get(vec![("id_token_hint", format!("{}x", login.id_token))]).await;
    assert_eq!(forged.status(), 400);
    let no_redirect = get(vec![("id_token_hint", login.id_token.clone())]).await;
    assert_eq!(no_redirect.status(), 200);
    assert!(no_redirect
        .text()
        .await
        .unwrap()
        .contains("You are signed out"));
    assert_eq!(issuer.counters().end_session, 5);
}

#[rocket::async_test]
async fn codes_are_one_time_and_bound_to_pkce_and_redirect_uri() {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_auto_login(Some("ada"));
    let client = default_client(discover(&issuer).await.unwrap());

    // Reuse.
    let request = authorization_request(&client, &[]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    let verifier = request.verifier.secret().clone();
    exchange(
        &client,
        &code,
        openidconnect::PkceCodeVerifier::new(verifier.clone()),
    )
    .await
    .unwrap();
    let reused = exchange(
        &client,
        &code,
        openidconnect::PkceCodeVerifier::new(verifier),
    )
    .await;
    assert!(reused.unwrap_err().contains("invalid_grant"));

    // Wrong verifier.
    let request = authorization_request(&client, &[]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    let wrong = openidconnect::PkceCodeVerifier::new("x".repeat(43));
    assert!(exchange(&client, &code, wrong)
        .await
        .unwrap_err()
        .contains("invalid_grant"));

    // Another redirect_uri at the token endpoint.
    let request = authorization_request(&client, &[]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    let other = client.clone().set_redirect_uri(
        openidconnect::RedirectUrl::new("http://localhost:48123/other".into()).unwrap(),
    );
    let result = exchange(&other, &code, request.verifier).await;
    assert!(result.unwrap_err().contains("invalid_grant"));

    // An unregistered redirect_uri at the authorization endpoint: a 400 page, no redirect.
    let request = authorization_request(&other, &[]);
    let response = http().get(&request.url).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}

#[rocket::async_test]
async fn expired_codes_and_tokens() {
    let issuer = DevIssuer::builder()
        .code_lifetime(std::time::Duration::from_millis(1))
        .start()
        .await
        .unwrap();
    issuer.set_auto_login(Some("ada"));
    let client = default_client(discover(&issuer).await.unwrap());
    let request = authorization_request(&client, &[]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    rocket::tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert!(exchange(&client, &code, request.verifier)
        .await
        .unwrap_err()
        .contains("invalid_grant"));
}

#[rocket::async_test]
async fn authorization_errors_redirect_with_state_and_iss() {
    let issuer = DevIssuer::start().await.unwrap();
    let client = default_client(discover(&issuer).await.unwrap());
    let request = authorization_request(&client, &[]);
    let cases = [
        (
            request.url.replace("scope=openid", "scope=profile"),
            "invalid_scope",
        ),
        (request.url.replace("S256", "plain"), "invalid_request"),
        (
            request
                .url
                .replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (format!("{}&prompt=none", request.url), "login_required"),
    ];
    for (url, error) in cases {
        let response = http().get(&url).send().await.unwrap();
        assert_eq!(response.status(), 303, "{url}");
        let params = location_params(&response);
        assert_eq!(param(&params, "error"), Some(error), "{url}");
        assert_eq!(
            param(&params, "state"),
            Some(request.state.secret().as_str())
        );
        assert_eq!(param(&params, "iss"), Some(issuer.issuer_url()));
    }
    let no_pkce: String = url::Url::parse(&request.url)
        .unwrap()
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .fold(
            url::form_urlencoded::Serializer::new(String::new()),
            |mut s, (k, v)| {
                s.append_pair(&k, &v);
                s
            },
        )
        .finish();
    let response = http()
        .get(format!("{}/authorize?{no_pkce}", issuer.issuer_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        param(&location_params(&response), "error"),
        Some("invalid_request")
    );

    let unknown_client = request.url.replace(DEFAULT_CLIENT_ID, "nobody");
    let response = http().get(&unknown_client).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}

#[rocket::async_test]
async fn basic_auth_form_urlencodes_id_and_secret() {
    let secret = "s3:cr%t+x y/é";
    let issuer = DevIssuer::builder()
        .client(DevClient::confidential("odd:client", secret).redirect_uri(REDIRECT_URI))
        .start()
        .await
        .unwrap();
    issuer.set_auto_login(Some("ada"));
    let metadata = discover(&issuer).await.unwrap();
    for auth_type in [AuthType::BasicAuth, AuthType::RequestBody] {
        let client = client(metadata.clone(), "odd:client", Some(secret)).set_auth_type(auth_type);
        let request = authorization_request(&client, &[]);
        let code = param(&login_auto(&request.url).await, "code")
            .unwrap()
            .to_owned();
        exchange(&client, &code, request.verifier).await.unwrap();
    }
    // Without form-urlencoding, `%t+` is not a valid escape: invalid_client with a challenge.
    let raw = format!(
        "Basic {}",
        STANDARD.encode(format!("odd%3Aclient:{secret}"))
    );
    let response = http()
        .post(format!("{}/token", issuer.issuer_url()))
        .header("Authorization", raw)
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[rocket::async_test]
async fn credential_check_answers_invalid_client_or_invalid_grant() {
    let issuer = DevIssuer::start().await.unwrap();
    let token = |id: &'static str, secret: &'static str| {
        let url = format!("{}/token", issuer.issuer_url());
        async move {
            let response = http()
                .post(url)
                .basic_auth(id, Some(secret))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", "cannot-be-valid"),
                    ("redirect_uri", REDIRECT_URI),
                ])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (status, body["error"].as_str().unwrap().to_owned())
        }
    };
    assert_eq!(
        token(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET).await,
        (400, "invalid_grant".into())
    );
    assert_eq!(
        token(DEFAULT_CLIENT_ID, "wrong").await,
        (401, "invalid_client".into())
    );
    assert_eq!(token("nobody", "x").await, (401, "invalid_client".into()));
}

#[rocket::async_test]
async fn public_client_with_pkce() {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.register_client(DevClient::public("spa").redirect_uri("http://127.0.0.1:5173/cb"));
    issuer.set_auto_login(Some("alan"));
    let client = client(discover(&issuer).await.unwrap(), "spa", None).set_redirect_uri(
        openidconnect::RedirectUrl::new("http://127.0.0.1:5173/cb".into()).unwrap(),
    );
    let request = authorization_request(&client, &["email"]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    let tokens = exchange(&client, &code, request.verifier).await.unwrap();
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &request.nonce)
        .unwrap();
    assert_eq!(claims.email_verified(), Some(false));
}

#[rocket::async_test]
async fn custom_users_replace_the_defaults() {
    let mut eve = DevUser::new("eve-1", "eve");
    eve.extra.insert("tenant".into(), json!("acme"));
    let issuer = DevIssuer::builder().users(vec![eve]).start().await.unwrap();
    issuer.set_auto_login(Some("ada"));
    let client = default_client(discover(&issuer).await.unwrap());
    let request = authorization_request(&client, &[]);
    let ada_is_gone = http().get(&request.url).send().await.unwrap();
    assert_eq!(ada_is_gone.status(), 400);
    issuer.set_auto_login(Some("eve"));
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    let tokens = exchange(&client, &code, request.verifier).await.unwrap();
    let (_, claims) = decode(&tokens.id_token().unwrap().to_string());
    assert_eq!(
        (claims["sub"].as_str(), claims["tenant"].as_str()),
        (Some("eve-1"), Some("acme"))
    );
    assert_eq!(default_users().len(), 3);
}

#[rocket::async_test]
async fn stop_and_drop_shut_the_server_down() {
    let issuer = DevIssuer::start().await.unwrap();
    let url = format!("{}/jwks", issuer.issuer_url());
    assert!(http().get(&url).send().await.is_ok());
    issuer.stop().await;
    assert!(http().get(&url).send().await.is_err());

    let issuer = DevIssuer::start().await.unwrap();
    let url = format!("{}/jwks", issuer.issuer_url());
    drop(issuer);
    for _ in 0..100 {
        if http().get(&url).send().await.is_err() {
            return;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the dropped issuer still answers");
}

#[rocket::async_test]
async fn a_taken_port_is_a_launch_error() {
    let issuer = DevIssuer::start().await.unwrap();
    let port: u16 = issuer
        .issuer_url()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let error = DevIssuer::builder().port(port).start().await.unwrap_err();
    assert!(error.to_string().contains("launch"), "{error}");
    let _: CoreProviderMetadata = discover(&issuer).await.unwrap();
}
