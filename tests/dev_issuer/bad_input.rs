//! Garbage in: every endpoint answers a 4xx (an OAuth error where one is defined), never a 5xx.

use rocket::serde::json::serde_json::Value;
use rocket_openid_connect::dev_issuer::{DevIssuer, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};

use crate::*;

/// Query strings and form bodies no endpoint should choke on.
/// `huge` is the size of the big values: 100 KB in a body, 30 KB in a URL (some inputs hold two,
/// and the `http` crate caps URIs at 64 KiB).
fn garbage(huge: usize) -> Vec<String> {
    let huge = "a".repeat(huge);
    vec![
        String::new(),
        "%zz".into(),
        "%".into(),
        "a=%F".into(),
        "x=%ff%fe".into(),
        "=&&==&".into(),
        "client_id=a&client_id=a".into(),
        format!("client_id={DEFAULT_CLIENT_ID}&redirect_uri={REDIRECT_URI}&response_type=code&response_type=code"),
        format!("client_id={huge}"),
        format!("client_id={DEFAULT_CLIENT_ID}&redirect_uri={REDIRECT_URI}&scope=openid&response_type=code&state={huge}&code_challenge={huge}&code_challenge_method=S256"),
        "grant_type=authorization_code&code=%00&code_verifier=%0A".into(),
        format!("grant_type=refresh_token&refresh_token={huge}"),
        "grant_type=password&username=a&password=b".into(),
        "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOjF9.AAAA".into(),
        format!("client_assertion_type=x&client_assertion={huge}.{huge}."),
        format!("client_id={DEFAULT_CLIENT_ID}&redirect_uri={REDIRECT_URI}&scope=openid&response_type=code&response_mode=form_post&state=%22%3E%3Cscript%3E"),
        "token=..&id_token_hint=a.b.c&request_id=x".into(),
        "id_token_hint=....&post_logout_redirect_uri=http://localhost:1/".into(),
        "id_token_hint=eyJhbGciOiJub25lIn0.e30.&post_logout_redirect_uri=javascript:alert(1)".into(),
    ]
}

async fn assert_client_error(response: reqwest::Response, what: &str) {
    let status = response.status().as_u16();
    assert!((200..500).contains(&status), "{what}: {status}");
}

#[rocket::async_test]
async fn no_endpoint_answers_5xx_to_garbage() {
    let issuer = DevIssuer::start().await.unwrap();
    let base = issuer.issuer_url().to_owned();
    let http = http();
    for input in garbage(30 * 1024) {
        for path in [
            "/authorize",
            "/end_session",
            "/userinfo",
            "/jwks",
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
            "/moved/1/openid-configuration",
            "/common/v2.0/.well-known/openid-configuration",
            "/token",
        ] {
            let response = http
                .get(format!("{base}{path}?{input}"))
                .send()
                .await
                .unwrap();
            assert_client_error(response, &format!("GET {path}?{:.60}", input)).await;
        }
    }
    for input in garbage(100 * 1024) {
        for path in ["/token", "/revoke", "/login", "/end_session", "/userinfo"] {
            let form = http
                .post(format!("{base}{path}"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(input.clone())
                .send()
                .await
                .unwrap();
            assert_client_error(form, &format!("POST {path} {:.60}", input)).await;
            let basic = http
                .post(format!("{base}{path}"))
                .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(input.clone())
                .send()
                .await
                .unwrap();
            assert_client_error(basic, &format!("POST {path} (basic) {:.60}", input)).await;
        }
    }
}

#[rocket::async_test]
async fn token_and_revoke_answer_oauth_errors() {
    let issuer = DevIssuer::start().await.unwrap();
    let base = issuer.issuer_url().to_owned();
    let http = http();
    let cases: Vec<(&str, Vec<u8>, Option<&str>, &str)> = vec![
        (
            "/token",
            b"grant_type=authorization_code".to_vec(),
            None,
            "invalid_client",
        ),
        (
            "/token",
            b"client_id=a&client_id=b".to_vec(),
            None,
            "invalid_request",
        ),
        (
            "/token",
            vec![b'a', b'=', 0xff, 0xfe],
            None,
            "invalid_request",
        ),
        (
            "/token",
            b"{\"grant_type\":\"x\"}".to_vec(),
            Some("application/json"),
            "invalid_request",
        ),
        ("/token", vec![b'x'; 2 << 20], None, "invalid_request"),
        (
            "/token",
            b"grant_type=implicit".to_vec(),
            Some("basic"),
            "unsupported_grant_type",
        ),
        (
            "/token",
            b"code=x".to_vec(),
            Some("basic"),
            "invalid_request",
        ),
        (
            "/token",
            b"grant_type=authorization_code&client_secret=x".to_vec(),
            Some("basic"),
            "invalid_request",
        ),
        (
            "/token",
            b"grant_type=authorization_code&code=nope&redirect_uri=x".to_vec(),
            Some("basic"),
            "invalid_grant",
        ),
        (
            "/token",
            b"grant_type=refresh_token&refresh_token=nope".to_vec(),
            Some("basic"),
            "invalid_grant",
        ),
        (
            "/token",
            b"grant_type=refresh_token".to_vec(),
            Some("basic"),
            "invalid_request",
        ),
        ("/revoke", b"token=x".to_vec(), None, "invalid_client"),
        ("/revoke", b"".to_vec(), Some("basic"), "invalid_request"),
    ];
    for (path, body, mode, error) in cases {
        let mut request = http.post(format!("{base}{path}")).body(body.clone());
        request = match mode {
            Some("application/json") => request.header("Content-Type", "application/json"),
            Some(_) => request
                .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
                .header("Content-Type", "application/x-www-form-urlencoded"),
            None => request.header("Content-Type", "application/x-www-form-urlencoded"),
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let what = format!("{path} {:.40}", String::from_utf8_lossy(&body));
        assert!(status == 400 || status == 401, "{what}: {status}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{what}");
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["error"], error, "{what}");
    }
}

#[rocket::async_test]
async fn userinfo_wants_a_bearer_header() {
    let issuer = DevIssuer::start().await.unwrap();
    let login = strict_login(&issuer).await.unwrap();
    let token = openidconnect::OAuth2TokenResponse::access_token(&login.tokens)
        .secret()
        .clone();
    let url = format!("{}/userinfo", issuer.issuer_url());
    let http = http();
    let challenge = |response: &reqwest::Response| {
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned()
    };

    let in_query = http
        .get(format!("{url}?access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(in_query.status(), 400);
    assert!(challenge(&in_query).contains("error=\"invalid_request\""));
    let in_body = http
        .post(&url)
        .form(&[("access_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(in_body.status(), 400);
    assert!(challenge(&in_body).contains("error=\"invalid_request\""));

    let missing = http.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert!(challenge(&missing).starts_with("Bearer"));
    let invalid = http.get(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(invalid.status(), 401);
    assert!(challenge(&invalid).contains("error=\"invalid_token\""));
    let basic = http
        .get(&url)
        .basic_auth("a", Some("b"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 400);

    let ok = http.post(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let claims: Value = ok.json().await.unwrap();
    assert_eq!(claims["sub"], "ada-lovelace-1815");
}

#[rocket::async_test]
async fn unknown_paths_and_methods_are_4xx_json() {
    let issuer = DevIssuer::start().await.unwrap();
    let http = http();
    for (method, path) in [
        ("GET", "/nope"),
        ("DELETE", "/token"),
        ("PUT", "/authorize"),
    ] {
        let response = http
            .request(
                method.parse().unwrap(),
                format!("{}{path}", issuer.issuer_url()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        let json: Value = response.json().await.unwrap();
        assert!(json["error"].is_string());
    }
}
