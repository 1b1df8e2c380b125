//! The interop scenarios without a browser: an HTTP agent (reqwest, a hand-written cookie jar,
//! redirects followed by hand, the provider's devInteractions forms parsed and posted) drives the
//! quickstart against panva/oidc-provider. Quick to run locally:
//! `cargo test -p interop --test http -- --test-threads=1 --nocapture`.
//!
//! `provider_alone` checks the test provider itself, with no app: what the scenarios rely on
//! (PKCE, refresh tokens with offline_access and prompt=consent, strict claims, key rotation).

mod common;

use std::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use common::app::{
    app_options, app_port, assert_wrong_secret_refused, backchannel_logout_uri, base_url, App,
    ProviderTable,
};
use common::http::{form_urlencode, sign_in_at_provider, Agent, Page};
use common::provider::{display_name, ProviderOptions, TestProvider, CLIENT_ID, CLIENT_SECRET};

/// A fixed PKCE verifier (RFC 7636 §4.1: 43–128 unreserved characters); randomness buys nothing
/// against a throwaway provider.
const VERIFIER: &str = "interop-pkce-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Header and payload of a compact JWS, unverified (the provider's own output, inspected).
fn jwt_parts(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let mut decode = || {
        let part = parts.next().expect("a JWT part");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
    };
    (decode(), decode())
}

fn query_param(url: &reqwest::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// An authorization-code flow straight against the provider (no app): returns the token
/// response. `redirect_uri` is registered but nothing listens there; the agent stops at it.
async fn code_flow(provider: &TestProvider, redirect_uri: &str, scope: &str, login: &str) -> Value {
    let mut agent = Agent::new();
    agent.stop_at = Some(redirect_uri.to_string());
    let authorize = format!(
        "{}/auth?{}",
        provider.issuer,
        form_urlencode(&[
            ("response_type".into(), "code".into()),
            ("client_id".into(), CLIENT_ID.into()),
            ("redirect_uri".into(), redirect_uri.into()),
            ("scope".into(), scope.into()),
            ("prompt".into(), "consent".into()),
            ("state".into(), "state-1".into()),
            ("nonce".into(), "nonce-1".into()),
            ("code_challenge".into(), s256(VERIFIER)),
            ("code_challenge_method".into(), "S256".into()),
        ])
    );
    let login_page = agent.navigate(&authorize).await;
    let back = sign_in_at_provider(&mut agent, login_page, login).await;
    assert!(
        back.url.as_str().starts_with(redirect_uri),
        "expected a redirect to {redirect_uri}, got {}: {}",
        back.url,
        back.text()
    );
    assert_eq!(query_param(&back.url, "state").as_deref(), Some("state-1"));
    // RFC 9207: the provider names itself in the authorization response.
    assert_eq!(
        query_param(&back.url, "iss").as_deref(),
        Some(provider.issuer.as_str())
    );
    let code = query_param(&back.url, "code").expect("a code");
    let response = reqwest::Client::new()
        .post(format!("{}/token", provider.issuer))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("token request");
    let status = response.status();
    let body: Value = response.json().await.expect("token JSON");
    assert_eq!(status, StatusCode::OK, "token response: {body}");
    body
}

async fn userinfo(provider: &TestProvider, access_token: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/me", provider.issuer))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("userinfo JSON")
}

/// A refresh-token grant straight at the provider: the status and the JSON body.
async fn refresh_grant(provider: &TestProvider, refresh_token: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/token", provider.issuer))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .expect("refresh request");
    let status = response.status();
    (status, response.json().await.expect("token JSON"))
}

/// What scenario 11 assumes of a provider with `rotateRefreshToken` and a short access-token
/// lifetime: each refresh rotates, and presenting a consumed refresh token again answers
/// invalid_grant *and revokes the grant*, so that the rotated token dies too. Without
/// single-flight, a burst of requests after expiry would do exactly that.
#[tokio::test(flavor = "multi_thread")]
async fn rotating_provider_alone_revokes_the_grant_on_reuse() {
    let app = base_url(app_port());
    let redirect_uri = format!("{app}/authorization-code/callback");
    let mut provider = TestProvider::start(ProviderOptions {
        apps: vec![app.clone()],
        access_token_ttl: Some(4),
        rotate_refresh_tokens: true,
        ..Default::default()
    })
    .await;
    let tokens = code_flow(
        &provider,
        &redirect_uri,
        "openid profile offline_access",
        "ada",
    )
    .await;
    assert_eq!(tokens["expires_in"], 4, "{tokens}");
    let first = tokens["refresh_token"].as_str().expect("a refresh token");

    let (status, refreshed) = refresh_grant(&provider, first).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    let second = refreshed["refresh_token"]
        .as_str()
        .expect("a rotated refresh token");
    assert_ne!(second, first, "rotated");
    let (_, claims) = jwt_parts(refreshed["id_token"].as_str().expect("an ID token"));
    assert_eq!(claims["sub"], "ada");

    let (status, reused) = refresh_grant(&provider, first).await;
    assert_eq!(
        (status, reused["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    provider.wait_for_events("grant.revoked", 1).await;
    let (status, after) = refresh_grant(&provider, second).await;
    assert_eq!(
        (status, after["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "the whole grant is gone"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_alone() {
    let app = base_url(app_port());
    let redirect_uri = format!("{app}/authorization-code/callback");
    let mut provider = TestProvider::start(ProviderOptions {
        port: 0,
        strict_claims: false,
        apps: vec![app.clone()],
        backchannel_logout_uri: None,
        ..Default::default()
    })
    .await;

    // Discovery names exactly what the quickstart needs.
    let discovery: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        provider.issuer
    ))
    .await
    .expect("discovery")
    .json()
    .await
    .expect("discovery JSON");
    assert_eq!(discovery["issuer"], provider.issuer.as_str());
    for endpoint in [
        "end_session_endpoint",
        "revocation_endpoint",
        "userinfo_endpoint",
    ] {
        assert!(
            discovery[endpoint].is_string(),
            "{endpoint} missing: {discovery}"
        );
    }

    // Back-channel logout is on (features.backchannelLogout), with sid (the app mounts its
    // endpoint because of the first).
    assert_eq!(
        discovery["backchannel_logout_supported"], true,
        "{discovery}"
    );
    assert_eq!(discovery["backchannel_logout_session_supported"], true);

    // Its built-in pages import no web font (the browser has no internet to fetch it from).
    let mut agent = Agent::new();
    let page = agent
        .navigate(&format!("{}/session/end", provider.issuer))
        .await;
    assert!(!page.body.contains("@import"), "{}", page.body);

    // Code flow with PKCE; offline_access with prompt=consent gives a refresh token; by default
    // (not strict) the ID token carries the profile claims, signed with the announced key.
    let tokens = code_flow(
        &provider,
        &redirect_uri,
        "openid profile email offline_access",
        "ada",
    )
    .await;
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    let (header, claims) = jwt_parts(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(header["kid"], provider.kid.as_str());
    assert_eq!(claims["name"], "Ada Lovelace");
    assert_eq!(claims["nonce"], "nonce-1");
    let info = userinfo(&provider, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info["email"], "ada@example.test");

    // Without offline_access: no refresh token.
    let tokens = code_flow(&provider, &redirect_uri, "openid profile", "ada").await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");

    // The `groups` scope releases `groups` (scenario 9's /admin): ada is in `admins`.
    let tokens = code_flow(&provider, &redirect_uri, "openid groups", "ada").await;
    let (_, claims) = jwt_parts(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        claims["groups"],
        serde_json::json!(["admins", "engineering"])
    );
    let tokens = code_flow(&provider, &redirect_uri, "openid groups", "grace").await;
    let info = userinfo(&provider, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info["groups"], serde_json::json!(["engineering"]));

    // PKCE is required of our confidential client too.
    let mut agent = Agent::new();
    agent.stop_at = Some(redirect_uri.clone());
    let page = agent
        .navigate(&format!(
            "{}/auth?{}",
            provider.issuer,
            form_urlencode(&[
                ("response_type".into(), "code".into()),
                ("client_id".into(), CLIENT_ID.into()),
                ("redirect_uri".into(), redirect_uri.clone()),
                ("scope".into(), "openid".into()),
                ("state".into(), "s".into()),
            ])
        ))
        .await;
    assert_eq!(
        query_param(&page.url, "error").as_deref(),
        Some("invalid_request"),
        "{}",
        page.url
    );

    // Revocation (RFC 7009) with client_secret_basic.
    let revoked = reqwest::Client::new()
        .post(format!("{}/token/revocation", provider.issuer))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("token", tokens["access_token"].as_str().unwrap())])
        .send()
        .await
        .expect("revocation");
    assert_eq!(revoked.status(), StatusCode::OK);
    provider.wait_for_events("access_token.destroyed", 1).await;

    // A wrong secret is `invalid_client`, what the quickstart's launch check looks for.
    let wrong = reqwest::Client::new()
        .post(format!("{}/token", provider.issuer))
        .basic_auth(CLIENT_ID, Some("wrong"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", &redirect_uri),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    // A restart on the same port comes up with a new signing key.
    let old_kid = provider.kid.clone();
    let old_issuer = provider.issuer.clone();
    provider.restart().await;
    assert_eq!(provider.issuer, old_issuer);
    assert_ne!(provider.kid, old_kid);
    let jwks: Value = reqwest::get(format!("{}/jwks", provider.issuer))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], provider.kid.as_str());

    // Strict claims: profile claims only from userinfo.
    let strict = TestProvider::start(ProviderOptions {
        port: 0,
        strict_claims: true,
        apps: vec![app.clone()],
        backchannel_logout_uri: None,
        ..Default::default()
    })
    .await;
    let tokens = code_flow(&strict, &redirect_uri, "openid profile email", "grace").await;
    let (_, claims) = jwt_parts(tokens["id_token"].as_str().unwrap());
    assert!(claims.get("name").is_none(), "strict ID token: {claims}");
    let info = userinfo(&strict, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info["name"], display_name("grace"));
}

/// Prints how long a scenario took (the suite's timings come from these lines).
fn done(scenario: &str, started: Instant) {
    eprintln!("[http] {scenario}: ok in {:?}", started.elapsed());
}

/// A visitor opens /protected, signs in at the provider as `login`, and lands on /protected.
async fn sign_in_via_protected(
    agent: &mut Agent,
    app: &str,
    provider: &TestProvider,
    login: &str,
) -> Page {
    let page = agent.navigate(&format!("{app}/protected")).await;
    assert!(
        page.chain.iter().any(
            |u| u.as_str() == format!("{app}/login?return_to=/protected")
                || u.as_str() == format!("{app}/login?return_to=%2Fprotected")
        ),
        "a visitor on /protected is sent to /login?return_to=/protected; went {:?}",
        page.chain
    );
    assert!(
        page.url
            .as_str()
            .starts_with(&format!("{}/interaction/", provider.issuer)),
        "expected the provider's login page, at {}: {}",
        page.url,
        page.text()
    );
    let page = sign_in_at_provider(agent, page, login).await;
    assert_eq!(
        page.url.as_str(),
        format!("{app}/protected"),
        "after signing in: {} {}\nchain: {:?}",
        page.status,
        page.text(),
        page.chain
    );
    assert_eq!(page.status, StatusCode::OK);
    let name = display_name(login);
    assert!(
        page.text().contains(&format!("Signed in as {name}")),
        "/protected: {}",
        page.text()
    );
    page
}

#[tokio::test(flavor = "multi_thread")]
async fn http_scenarios() {
    let suite = Instant::now();
    let main_port = app_port();
    let offline_port = app_port();
    let main = base_url(main_port);
    let offline = base_url(offline_port);
    let mut provider = TestProvider::start(ProviderOptions {
        port: 0,
        strict_claims: false,
        apps: vec![main.clone(), offline.clone()],
        backchannel_logout_uri: Some(backchannel_logout_uri(main_port)),
        ..Default::default()
    })
    .await;
    let app = App::start(app_options(
        &provider,
        main_port,
        "[openid,profile,email,groups]",
        "app",
    ))
    .await;

    // 1. A visitor opens /protected, signs in and consents, lands back on /protected showing
    // their name; the home page then greets them; the API knows them.
    let started = Instant::now();
    let mut agent = Agent::new();
    let home = agent.navigate(&format!("{main}/")).await;
    assert!(home.text().contains("visitor"), "{}", home.text());
    assert!(home.has_link("/login"), "{}", home.body);
    assert_eq!(
        agent.get_json(&format!("{main}/api/me")).await.0,
        StatusCode::UNAUTHORIZED
    );
    let page = sign_in_via_protected(&mut agent, &main, &provider, "ada").await;
    assert!(page.text().contains("Refresh token: no"), "{}", page.text());
    let home = agent.navigate(&format!("{main}/")).await;
    assert!(home.text().contains("Hi Ada Lovelace!"), "{}", home.text());
    assert!(home.has_id("logout"), "{}", home.body);
    let (status, me) = agent.get_json(&format!("{main}/api/me")).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let me: Value = serde_json::from_str(&me).expect("/api/me JSON");
    assert_eq!(me["sub"], "ada");
    assert_eq!(me["name"], "Ada Lovelace");
    assert_eq!(me["email"], "ada@example.test");
    done("1 sign in via /protected", started);

    // 3. Logout through the home page's button: the app clears its session and sends the
    // browser to the provider's end-session confirmation; confirming lands home as a visitor,
    // and /protected requires a login again.
    let started = Instant::now();
    let logout = home.form_with_action("/logout");
    let confirm = agent.submit(&home, &logout, &[], None).await;
    let end_session = confirm
        .chain
        .iter()
        .find(|u| {
            u.as_str()
                .starts_with(&format!("{}/session/end", provider.issuer))
        })
        .unwrap_or_else(|| panic!("logout did not go to end_session: {:?}", confirm.chain));
    for param in ["id_token_hint", "post_logout_redirect_uri"] {
        assert!(
            query_param(end_session, param).is_some(),
            "{param} missing from {end_session}"
        );
    }
    // No `state`: nothing would check it on the landing (SECURITY.md, hard-post-logout-landing).
    assert_eq!(query_param(end_session, "state"), None, "{end_session}");
    assert_eq!(
        query_param(end_session, "post_logout_redirect_uri").as_deref(),
        Some(format!("{main}/").as_str())
    );
    let form = confirm
        .forms()
        .into_iter()
        .find(|f| f.id.as_deref() == Some("op.logoutForm"))
        .unwrap_or_else(|| {
            panic!(
                "no logout confirmation at {}: {}",
                confirm.url,
                confirm.text()
            )
        });
    let yes = form.button("Yes, sign me out").clone();
    let home = agent.submit(&confirm, &form, &[], Some(&yes)).await;
    assert_eq!(
        home.url.as_str(),
        format!("{main}/"),
        "after logout, a clean landing: {}",
        home.text()
    );
    assert!(home.text().contains("visitor"), "{}", home.text());
    assert!(home.has_link("/login"), "{}", home.body);
    provider.wait_for_events("end_session.success", 1).await;
    // The app revoked its tokens before leaving (the provider offers revocation, DESIGN.md §4).
    provider.wait_for_events("access_token.destroyed", 1).await;
    assert_eq!(
        agent.get_json(&format!("{main}/api/me")).await.0,
        StatusCode::UNAUTHORIZED
    );
    let again = agent.navigate(&format!("{main}/protected")).await;
    assert!(
        again.prompt_form("login").is_some(),
        "/protected after logout should ask the provider for a login again, at {}: {}",
        again.url,
        again.text()
    );
    done("3 logout", started);

    // 10. Back-channel logout: signed in at the app, the user signs out at the provider itself
    // (/session/end, confirmed). The provider POSTs a logout token to the app before it
    // answers; the browser still holds the app's session cookie, yet the app's next page shows
    // a visitor, the API answers 401, and /protected asks the provider for a login again.
    let started = Instant::now();
    let mut agent = Agent::new();
    sign_in_via_protected(&mut agent, &main, &provider, "ada").await;
    let before = provider.events("backchannel.success").len();
    let confirm = agent
        .navigate(&format!("{}/session/end", provider.issuer))
        .await;
    let form = confirm
        .forms()
        .into_iter()
        .find(|f| f.id.as_deref() == Some("op.logoutForm"))
        .unwrap_or_else(|| panic!("no confirmation at {}: {}", confirm.url, confirm.text()));
    let yes = form.button("Yes, sign me out").clone();
    let signed_out = agent.submit(&confirm, &form, &[], Some(&yes)).await;
    assert!(
        signed_out.url.as_str().starts_with(&provider.issuer),
        "the provider's own sign-out page: {} {}",
        signed_out.url,
        signed_out.text()
    );
    let events = provider
        .wait_for_events("backchannel.success", before + 1)
        .await;
    assert!(events[before].contains("sid=yes"), "{events:?}");
    assert!(
        provider.events("backchannel.error").is_empty(),
        "{}",
        provider.output()
    );
    assert!(
        agent.has_cookie("localhost", "oidc_session"),
        "the browser still holds the app's session cookie"
    );
    let home = agent.navigate(&format!("{main}/")).await;
    assert!(home.text().contains("visitor"), "{}", home.text());
    assert_eq!(
        agent.get_json(&format!("{main}/api/me")).await.0,
        StatusCode::UNAUTHORIZED
    );
    let again = agent.navigate(&format!("{main}/protected")).await;
    assert!(
        again.prompt_form("login").is_some(),
        "/protected after the provider's logout should ask for a login, at {}: {}",
        again.url,
        again.text()
    );
    done("10 back-channel logout at the provider", started);

    // 5. The provider restarts on the same port with a new signing key; the app keeps running
    // and must accept ID tokens signed with the key it has not seen (JWKS refetched on the
    // unknown kid).
    let started = Instant::now();
    let old_kid = provider.kid.clone();
    provider.restart().await;
    assert_ne!(provider.kid, old_kid, "the restart should bring a new key");
    let mut agent = Agent::new();
    sign_in_via_protected(&mut agent, &main, &provider, "grace").await;
    done("5 provider restarted with a new key", started);

    // 9. /admin for the `admins` group the provider releases with the `groups` scope; 403 (a
    // page, never a login redirect) for anyone else; the login hook refuses `alan`.
    let started = Instant::now();
    let mut agent = Agent::new();
    let login = agent.navigate(&format!("{main}/admin")).await;
    let admin = sign_in_at_provider(&mut agent, login, "ada").await;
    assert_eq!(
        admin.url.as_str(),
        format!("{main}/admin"),
        "{}",
        admin.text()
    );
    assert_eq!(admin.status, StatusCode::OK);
    assert!(
        admin
            .text()
            .contains("Only members of the admins group see this page"),
        "{}",
        admin.text()
    );
    let (status, me) = agent.get_json(&format!("{main}/api/me")).await;
    assert_eq!(status, StatusCode::OK);
    let me: Value = serde_json::from_str(&me).expect("/api/me JSON");
    assert_eq!(me["groups"], serde_json::json!(["admins", "engineering"]));
    let mut agent = Agent::new();
    let login = agent.navigate(&format!("{main}/admin")).await;
    let refused = sign_in_at_provider(&mut agent, login, "grace").await;
    assert_eq!(refused.url.as_str(), format!("{main}/admin"));
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert!(
        refused.text().contains("signed in as Grace Lovelace"),
        "{}",
        refused.text()
    );
    assert_eq!(
        agent.get_json(&format!("{main}/admin")).await.0,
        StatusCode::FORBIDDEN,
        "an API client gets 403 too"
    );
    let mut agent = Agent::new();
    let login = agent.navigate(&format!("{main}/protected")).await;
    let hook = sign_in_at_provider(&mut agent, login, "alan").await;
    assert_eq!(hook.status, StatusCode::FORBIDDEN, "{}", hook.text());
    assert!(
        hook.text()
            .contains("Alan's account is disabled in this app"),
        "{}",
        hook.text()
    );
    assert_eq!(
        agent.get_json(&format!("{main}/api/me")).await.0,
        StatusCode::UNAUTHORIZED,
        "refused: no session"
    );
    done("9 admin page and login hook", started);

    // 7. With offline_access the login asks for consent (OIDC Core §11), a refresh token is
    // issued and the app keeps it.
    let started = Instant::now();
    let offline_app = App::start(app_options(
        &provider,
        offline_port,
        "[openid,profile,email,offline_access]",
        "app-offline",
    ))
    .await;
    let grants_before = provider.events("grant.success").len();
    let mut agent = Agent::new();
    let page = sign_in_via_protected(&mut agent, &offline, &provider, "ada").await;
    let authorize = agent
        .history
        .iter()
        .find(|u| {
            u.as_str()
                .starts_with(&format!("{}/auth?", provider.issuer))
        })
        .expect("the authorization request");
    assert_eq!(query_param(authorize, "prompt").as_deref(), Some("consent"));
    assert_eq!(
        query_param(authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(query_param(authorize, "scope").is_some_and(|s| s.contains("offline_access")));
    assert!(
        page.text().contains("Refresh token: yes"),
        "{}",
        page.text()
    );
    let grants = provider
        .wait_for_events("grant.success", grants_before + 1)
        .await;
    assert!(
        grants[grants_before..]
            .iter()
            .any(|g| g.contains("refresh_token=yes")),
        "{grants:?}"
    );
    drop(offline_app);
    done("7 offline_access keeps a refresh token", started);

    // 6. A wrong client secret: launch fails, saying why.
    let started = Instant::now();
    assert_wrong_secret_refused(&provider).await;
    done("6 wrong client secret", started);
    drop(app);
    drop(provider);

    // 2. Strict claims: profile claims only from userinfo, and the name still shows.
    let started = Instant::now();
    let strict_port = app_port();
    let strict_app_url = base_url(strict_port);
    let strict = TestProvider::start(ProviderOptions {
        port: 0,
        strict_claims: true,
        apps: vec![strict_app_url.clone()],
        backchannel_logout_uri: None,
        ..Default::default()
    })
    .await;
    let _strict_app = App::start(app_options(
        &strict,
        strict_port,
        "[openid,profile,email]",
        "app-strict",
    ))
    .await;
    let mut agent = Agent::new();
    sign_in_via_protected(&mut agent, &strict_app_url, &strict, "grace").await;
    let home = agent.navigate(&format!("{strict_app_url}/")).await;
    assert!(
        home.text().contains("Hi Grace Lovelace!"),
        "{}",
        home.text()
    );
    done("2 strict claims", started);

    eprintln!("[http] all scenarios: {:?}", suite.elapsed());
}

/// 8. Two providers, two oidc-provider instances on two ports: the quickstart configured
/// through `ROCKET_OIDC_PROVIDERS={one={..},two={..}}` offers both at `/login`; each signs a user
/// in through its own callback and out at its own end-session endpoint, and the other provider
/// sees nothing of it.
#[tokio::test(flavor = "multi_thread")]
async fn two_providers() {
    let started = Instant::now();
    let port = app_port();
    let app_url = base_url(port);
    let mut providers = Vec::new();
    for name in ["one", "two"] {
        let options = ProviderOptions {
            port: 0,
            strict_claims: false,
            apps: vec![app_url.clone()],
            backchannel_logout_uri: None,
            access_token_ttl: None,
            rotate_refresh_tokens: false,
        };
        let callback = format!("/authorization-code/callback/{name}");
        let provider =
            TestProvider::start_at(options, &callback, &format!("provider-{name}")).await;
        providers.push(provider);
    }
    assert_ne!(providers[0].port, providers[1].port);
    let tables = [
        ProviderTable {
            name: "one",
            display_name: "Provider One",
            provider: &providers[0],
        },
        ProviderTable {
            name: "two",
            display_name: "Provider Two",
            provider: &providers[1],
        },
    ];
    let app = App::start_with_providers("app-two-providers", port, &tables).await;
    assert!(
        app.output()
            .contains("OpenID Connect [two]: 3/4 client credentials: credentials accepted"),
        "{}",
        app.output()
    );

    let mut agent = Agent::new();
    let choice = agent.navigate(&format!("{app_url}/login")).await;
    assert_eq!(choice.status, StatusCode::OK);
    assert!(choice.has_link("/login/one"), "{}", choice.body);
    assert!(choice.has_link("/login/two"), "{}", choice.body);
    assert!(
        choice
            .text()
            .contains("Sign in with Provider One Sign in with Provider Two"),
        "{}",
        choice.text()
    );

    for (index, (name, login)) in [("one", "ada"), ("two", "grace")].into_iter().enumerate() {
        let issuer = providers[index].issuer.clone();
        let other_events = providers[1 - index].output().lines().count();
        let page = agent
            .navigate(&format!("{app_url}/login/{name}?return_to=%2Fprotected"))
            .await;
        assert!(
            page.url
                .as_str()
                .starts_with(&format!("{issuer}/interaction/")),
            "{name}: expected its login page, at {}",
            page.url
        );
        let page = sign_in_at_provider(&mut agent, page, login).await;
        assert_eq!(page.url.as_str(), format!("{app_url}/protected"), "{name}");
        assert!(
            page.chain
                .iter()
                .any(|u| u.path() == format!("/authorization-code/callback/{name}")),
            "{name}: back through its own callback: {:?}",
            page.chain
        );
        let text = page.text();
        assert!(
            text.contains(&format!("Signed in as {}", display_name(login))),
            "{text}"
        );
        assert!(text.contains(&format!("Issuer: {issuer}")), "{text}");
        assert!(
            page.body
                .contains(&format!("(provider <code>{name}</code>)")),
            "{}",
            page.body
        );

        let home = agent.navigate(&format!("{app_url}/")).await;
        let logout = home.form_with_action("/logout");
        let confirm = agent.submit(&home, &logout, &[], None).await;
        assert!(
            confirm
                .chain
                .iter()
                .any(|u| u.as_str().starts_with(&format!("{issuer}/session/end"))),
            "{name}: logout at its provider: {:?}",
            confirm.chain
        );
        let form = confirm
            .forms()
            .into_iter()
            .find(|f| f.id.as_deref() == Some("op.logoutForm"))
            .unwrap_or_else(|| panic!("no logout confirmation at {}", confirm.url));
        let yes = form.button("Yes, sign me out").clone();
        let home = agent.submit(&confirm, &form, &[], Some(&yes)).await;
        assert!(home.text().contains("visitor"), "{}", home.text());
        providers[index]
            .wait_for_events("end_session.success", 1)
            .await;
        assert_eq!(
            providers[1 - index].output().lines().count(),
            other_events,
            "{name}: the other provider saw nothing"
        );
    }
    drop(app);
    done("8 two providers", started);
}
