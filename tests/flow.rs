//! The sign-in flow over real HTTP: a Rocket app on loopback signing in at the development
//! issuer, driven by a browser-like client with a cookie jar.

mod common;

use common::*;
use rocket_openid_connect::dev_issuer::Fault;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_from_protected_through_login_back_to_protected() {
    let s = setup().await;
    let b = Browser::new();
    assert_eq!(b.get(&s.app.url("/")).await.body, "Hello, visitor");

    let first = b.get(&s.app.url("/protected")).await;
    assert_eq!(first.status, 303);
    assert_eq!(
        first.location().as_deref(),
        Some("/login?return_to=%2Fprotected")
    );
    let chain = b.follow(first).await;
    let statuses: Vec<u16> = chain.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [303, 303, 303, 303, 200], "{chain:#?}");

    // /login → the issuer with every parameter a code flow with PKCE needs.
    let authorize = chain[1].location().unwrap();
    let q = query_of(&authorize);
    assert!(authorize.starts_with(s.issuer.issuer_url()));
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert!(
        q["state"].len() >= 22 && q["nonce"].len() >= 22,
        "≥128 bits each"
    );
    assert_eq!(q["scope"], "openid profile email");
    assert_eq!(q["redirect_uri"], s.app.url("/authorization-code/callback"));
    // It sets a pending-login cookie: never cacheable (src/cache_control.rs).
    assert_eq!(
        chain[1].header("cache-control").as_deref(),
        Some("private, no-store")
    );

    // The transaction cookie: private, HttpOnly, Lax, short-lived.
    let tx = chain[1]
        .set_cookies
        .iter()
        .find(|c| c.starts_with("oidc_tx_"))
        .expect("tx cookie");
    assert!(
        tx.contains("HttpOnly") && tx.contains("SameSite=Lax") && tx.contains("Path=/"),
        "{tx}"
    );
    assert!(tx.contains("Max-Age=600"), "{tx}");
    assert!(!tx.contains("Secure"), "http app: no Secure flag: {tx}");

    let last = chain.last().unwrap();
    assert_eq!(last.url, s.app.url("/protected"));
    assert_eq!(
        last.body,
        "Only for ada-lovelace-1815".replace("ada-lovelace-1815", &sub_of(&b, &s).await)
    );
    assert_eq!(b.get(&s.app.url("/")).await.body, "Hi Ada Lovelace!");
    assert!(tx_cookies(&b, &s.app).is_empty(), "transaction consumed");

    let session = chain[3]
        .set_cookies
        .iter()
        .find(|c| c.starts_with("oidc_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(session.contains("Max-Age="), "{session}");
    assert_eq!(s.issuer.counters().userinfo, 1);
    s.stop().await;
}

async fn sub_of(b: &Browser, s: &Setup) -> String {
    b.api_client().get(&s.app.url("/api/me")).await.json()["sub"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_and_xhr_clients_get_401_never_a_redirect() {
    let s = setup().await;
    let api = Browser::api();
    let r = api.get(&s.app.url("/api/me")).await;
    assert_eq!(r.status, 401);
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains("login=\"/login\""));
    assert_eq!(r.json()["error"], "unauthorized");

    let b = Browser::new();
    for headers in [
        vec![("x-requested-with", "XMLHttpRequest")],
        vec![("sec-fetch-mode", "cors")],
        vec![("sec-fetch-dest", "empty")],
        vec![("accept", "application/json")],
    ] {
        let mut req_headers = headers.clone();
        if !headers.iter().any(|(k, _)| *k == "accept") {
            req_headers.push(("accept", "text/html"));
        }
        let r = Browser::api()
            .get_with(&s.app.url("/protected"), &req_headers)
            .await;
        assert_eq!(r.status, 401, "{headers:?}");
    }
    let post = b.post_form(&s.app.url("/protected"), &[], &[]).await;
    assert!(
        post.status == 401 || post.status == 404,
        "POST never redirects to login: {}",
        post.status
    );
    // Signed in, the API works.
    login(&b, &s.app, "/").await;
    let r = b.api_client().get(&s.app.url("/api/me")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["name"], "Ada Lovelace");
    assert_eq!(r.json()["refresh"], true);
    assert_eq!(b.get(&s.app.url("/two-guards")).await.status, 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn return_to_tricks_all_land_on_a_local_path() {
    let s = setup().await;
    let long = format!("/{}", "a".repeat(5000));
    let tricks: Vec<&str> = OPEN_REDIRECT_TRICKS
        .iter()
        .copied()
        .chain([long.as_str()])
        .collect();
    assert!(tricks.len() >= 30);
    for trick in tricks {
        assert_eq!(landing_of(&s.app, trick).await, "/", "{trick:?}");
    }
    // A good one is kept.
    assert_eq!(
        landing_of(&s.app, "/protected?tab=2").await,
        "/protected?tab=2"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_all_guarded_route_is_not_an_open_redirect() {
    let s = setup().await;
    let b = Browser::new();
    let r = b.get(&s.app.url("//evil.example/x")).await;
    let location = r.location().unwrap_or_default();
    assert!(location.starts_with("/login?return_to="), "{location}");
    let return_to = query_of(&format!("http://x{location}"))["return_to"].clone();
    assert!(
        return_to == "/" || (return_to.starts_with('/') && !return_to.starts_with("//")),
        "{return_to}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_missing_wrong_and_foreign_state_are_refused() {
    let s = setup().await;
    let b = Browser::new();
    let callback = callback_url(&b, &s.app).await;
    let cookies_before = b.cookies(&s.app.base);
    let ok = b.get(&callback).await;
    assert_eq!(ok.status, 303);

    // Replay with the transaction cookie planted back: the code is spent, no new session.
    let replay_browser = Browser::new();
    for (k, v) in &cookies_before {
        replay_browser.set_cookie(&s.app.base, k, v);
    }
    let replay = replay_browser.get(&callback).await;
    assert!(replay.status >= 400, "replay accepted: {}", replay.status);
    assert!(session_cookies(&replay_browser, &s.app).is_empty());
    // Replay in the same browser: the transaction is gone.
    let again = b.get(&callback).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("unknown_state"));

    // Missing state, wrong state.
    let mut q = query_of(&callback);
    let base = callback.split('?').next().unwrap().to_owned();
    q.remove("state");
    let no_state = format!("{base}?{}", encode(&q));
    let b2 = Browser::new();
    let _ = callback_url(&b2, &s.app).await;
    assert_eq!(b2.get(&no_state).await.status, 400);
    let wrong = format!("{base}?{}&state=not-the-state", encode(&q));
    assert_eq!(b2.get(&wrong).await.status, 400);

    // Login CSRF: a callback made for one browser delivered to another.
    let victim = Browser::new();
    let attacker = Browser::new();
    let attacker_callback = callback_url(&attacker, &s.app).await;
    let r = victim.get(&attacker_callback).await;
    assert_eq!(r.status, 400);
    assert!(session_cookies(&victim, &s.app).is_empty());
    s.stop().await;
}

fn encode(q: &std::collections::BTreeMap<String, String>) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in q {
        ser.append_pair(k, v);
    }
    ser.finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_response_iss_is_checked() {
    let s = setup().await;
    for fault in [
        Fault::AuthResponseWrongIssuer,
        Fault::AuthResponseMissingIssuer,
    ] {
        // No session, and no code exchange after a bad iss.
        login_case(&s, &[fault], Expect::Rejected(401, "issuer_mismatch")).await;
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_id_token_fault_is_rejected_with_no_session_and_no_userinfo_call() {
    let s = setup().await;
    let faults = [
        Fault::WrongIssuer,
        Fault::WrongAudience,
        Fault::WrongAzp,
        Fault::ExtraAudience,
        Fault::MissingSub,
        Fault::MissingIat,
        Fault::MissingExp,
        Fault::IatInFuture,
        Fault::Expired,
        Fault::WrongNonce,
        Fault::MissingNonce,
        Fault::BadSignature,
        Fault::AlgNone,
        Fault::Hs256WithPublicKey,
        Fault::Hs256WithClientSecret,
        Fault::WrongAtHash,
    ];
    for fault in faults {
        // No session, the transaction removed, no userinfo call.
        login_case(&s, &[fault], ID_TOKEN_REJECTED).await;
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_failures_end_on_an_error_page_without_a_session() {
    let s = setup().await;
    let cases = [
        (Fault::TokenInvalidGrant, 502, "token_endpoint"),
        (Fault::TokenInvalidClient, 502, "token_endpoint"),
        (Fault::TokenServerError, 502, "token_endpoint"),
        (Fault::TokenMissingIdToken, 502, "token_endpoint"),
        (Fault::TokenWrongTypes, 502, "token_endpoint"),
        (Fault::UserinfoSubMismatch, 502, "userinfo"),
        (Fault::UserinfoServerError, 502, "userinfo"),
        (Fault::UserinfoUnauthorized, 502, "userinfo"),
    ];
    for (fault, status, code) in cases {
        login_case(&s, &[fault], Expect::Rejected(status, code)).await;
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_error_with_html_is_escaped() {
    let s = setup().await;
    // A 401, no session, the transaction removed.
    let last = login_case(
        &s,
        &[Fault::AuthResponseErrorHtml],
        Expect::Rejected(401, "provider_error"),
    )
    .await;
    assert!(!last.body.contains("<script>"), "{}", last.body);
    assert!(last.body.contains("&lt;script&gt;"), "{}", last.body);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_destination_is_configurable() {
    let s = setup_with(|f| f.merge(("oidc.failure_redirect", "/login-failed"))).await;
    s.issuer.set_fault(Fault::WrongNonce);
    let b = Browser::new();
    let chain = login(&b, &s.app, "/").await;
    let callback = callback_of(&chain);
    assert_eq!(callback.status, 303);
    assert_eq!(
        callback.location().as_deref(),
        Some("/login-failed?error=invalid_id_token")
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_signing_key_is_accepted_after_one_jwks_refetch() {
    let s = setup().await;
    let b = Browser::new();
    assert_eq!(
        login(&b, &s.app, "/protected").await.pop().unwrap().status,
        200
    );
    let jwks_before = s.issuer.counters().jwks;
    s.issuer.set_fault(Fault::RotatedKey);
    let b2 = Browser::new();
    let last = login(&b2, &s.app, "/protected").await.pop().unwrap();
    assert_eq!(last.status, 200, "{}", last.body);
    assert_eq!(
        s.issuer.counters().jwks,
        jwks_before + 1,
        "exactly one refetch"
    );
    // The next login needs no further fetch.
    let b3 = Browser::new();
    assert_eq!(
        login(&b3, &s.app, "/protected").await.pop().unwrap().status,
        200
    );
    assert_eq!(s.issuer.counters().jwks, jwks_before + 1);
    s.stop().await;
}

/// Signs in as a user with `groups` extra groups; the browser and the sizes of the session
/// cookies the callback set (whole `Set-Cookie` values).
async fn sign_in_with_groups(s: &Setup, groups: usize) -> (Browser, Vec<usize>) {
    s.issuer.set_fault(Fault::ManyGroups(groups));
    let b = Browser::new();
    let chain = login(&b, &s.app, "/api/me").await;
    let sizes = callback_of(&chain)
        .set_cookies
        .iter()
        .filter(|c| c.starts_with("oidc_session"))
        .map(|c| c.len())
        .collect();
    (b, sizes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_with_many_groups_gets_a_chunked_session_that_works() {
    let s = setup().await;
    let (b, sizes) = sign_in_with_groups(&s, 100).await;
    assert!(sizes.len() >= 2, "chunked: {sizes:?}");
    assert!(
        sizes.iter().all(|n| *n <= 4096),
        "each cookie within 4096 bytes: {sizes:?}"
    );
    println!(
        "100-group session: {} cookies, {} bytes on the wire: {sizes:?}",
        sizes.len(),
        sizes.iter().sum::<usize>()
    );
    let me = b.api_client();
    let r = me.get(&s.app.url("/api/me")).await;
    assert_eq!(r.status, 200);
    assert!(r.json()["groups"].as_array().unwrap().len() >= 100);
    // Still signed in on the next request.
    assert_eq!(me.get(&s.app.url("/api/me")).await.status, 200);

    // Signing in again as a small user shrinks the session: stale chunks are removed.
    s.issuer.clear_faults();
    let chain = login(&b, &s.app, "/").await;
    assert_eq!(chain.last().unwrap().body, "Hi Ada Lovelace!");
    assert_eq!(
        session_cookies(&b, &s.app),
        vec!["oidc_session".to_string()]
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_truncated_mixed_and_junk_cookies_mean_no_session() {
    let s = setup().await;
    s.issuer.set_fault(Fault::ManyGroups(100));
    let a = Browser::new();
    login(&a, &s.app, "/").await;
    let b = Browser::new();
    login(&b, &s.app, "/").await;
    let ca = a.cookies(&s.app.base);
    let cb = b.cookies(&s.app.base);
    assert!(ca.contains_key("oidc_session.1"));

    let check = |cookies: Vec<(String, String)>, what: &'static str| {
        let app = s.app.base.clone();
        async move {
            let x = Browser::new();
            for (k, v) in cookies {
                x.set_cookie(&app, &k, &v);
            }
            let r = x.get(&format!("{app}/")).await;
            assert_eq!(r.status, 200, "{what}");
            assert_eq!(r.body, "Hello, visitor", "{what}");
            let p = x.get(&format!("{app}/protected")).await;
            assert_eq!(p.status, 303, "{what}");
        }
    };
    let mut tampered = ca.clone();
    let v = tampered.get_mut("oidc_session").unwrap();
    let mid = v.len() / 2;
    let flipped = if &v[mid..mid + 1] == "A" { "B" } else { "A" };
    v.replace_range(mid..mid + 1, flipped);
    check(tampered.into_iter().collect(), "tampered").await;
    let mut truncated = ca.clone();
    let v = truncated.get_mut("oidc_session.1").unwrap();
    v.truncate(v.len() / 2);
    check(truncated.into_iter().collect(), "truncated").await;
    let mut missing = ca.clone();
    missing.remove("oidc_session.1");
    check(missing.into_iter().collect(), "missing chunk").await;
    let mut mixed = ca.clone();
    mixed.insert("oidc_session.1".into(), cb["oidc_session.1"].clone());
    check(mixed.into_iter().collect(), "mixed chunks").await;
    let mut renamed = ca.clone();
    let first = renamed.remove("oidc_session").unwrap();
    renamed.insert("oidc_session.2".into(), first);
    check(renamed.into_iter().collect(), "renamed").await;
    check(vec![("oidc_session".into(), "garbage".into())], "garbage").await;
    check(vec![("oidc_session".into(), "".into())], "empty").await;
    // Another secret key: a cookie from an app with a different secret is junk here.
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_key_means_no_session() {
    let s = setup().await;
    let b = Browser::new();
    login(&b, &s.app, "/").await;
    let issuer_url = s.issuer.issuer_url().to_owned();
    let port = free_port();
    let other = launch(test_app(app_figment(&issuer_url, port).merge((
        "secret_key",
        "8Xui8SN4mI+7egV/9dlfYYLGQJeEx4+DwmSQLwDVXJg6Bi2nKvHVJ9XxKgGyEPrt1jeYDPpr3DUX8wN4h9tM6A==",
    ))))
    .await
    .unwrap();
    let x = Browser::new();
    for (k, v) in b.cookies(&s.app.base) {
        x.set_cookie(&other.base, &k, &v);
    }
    assert_eq!(x.get(&other.url("/")).await.body, "Hello, visitor");
    other.stop().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_expiry_ends_a_session() {
    let s = setup_with(|f| f.merge(("oidc.session_idle_timeout_secs", 2))).await;
    let b = Browser::new();
    login(&b, &s.app, "/").await;
    assert_eq!(b.get(&s.app.url("/")).await.body, "Hi Ada Lovelace!");
    // Unused for 3 s (the times live inside the ciphertext; the exact boundaries are unit-tested
    // in src/session/tests.rs).
    age_browser_session(&b, &s.app, 3, 3);
    assert_eq!(b.get(&s.app.url("/")).await.body, "Hello, visitor");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_extends_the_idle_lifetime_but_not_the_absolute_one() {
    // Lifetimes long enough that the real seconds a loaded machine takes between requests never
    // decide the outcome (the exact boundaries are unit tests in src/session/tests.rs); the
    // session's times are moved instead.
    let s = setup_with(|f| {
        f.merge(("oidc.session_idle_timeout_secs", 30))
            .merge(("oidc.session_absolute_timeout_secs", 50))
    })
    .await;
    let b = Browser::new();
    login(&b, &s.app, "/").await;
    let signed_in = browser_session(&b, &s.app);
    // Active every 10 s for 40 s: each request renews the idle lifetime (the renewal interval
    // is idle / 20, at least 1 s), so idle never runs out, but the absolute lifetime does.
    for step in 1..=4 {
        age_browser_session(&b, &s.app, 10, 10);
        let before = browser_session(&b, &s.app);
        let r = b.get(&s.app.url("/")).await;
        assert_eq!(r.body, "Hi Ada Lovelace!", "after {} s", step * 10);
        let after = browser_session(&b, &s.app);
        assert!(after.seen > before.seen, "the idle lifetime slid");
        assert_eq!(
            after.created,
            signed_in.created - step * 10,
            "the sign-in time stays"
        );
    }
    // The original cookie (seen 40 s ago) is idle-expired although the browser's is not: a
    // replayed old cookie is refused because times live inside the ciphertext.
    let old = Browser::new();
    set_browser_session(&old, &s.app, &aged(&signed_in, 40, 40));
    assert_eq!(old.get(&s.app.url("/")).await.body, "Hello, visitor");
    // 15 s more, the last activity within the idle lifetime: 55 s after sign-in.
    age_browser_session(&b, &s.app, 15, 5);
    assert_eq!(
        b.get(&s.app.url("/")).await.body,
        "Hello, visitor",
        "absolute lifetime over"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_clears_everything_and_reaches_end_session() {
    let s = setup().await;
    let b = Browser::new();
    login(&b, &s.app, "/").await;
    let before = s.issuer.counters();
    let r = b
        .post_form(
            &s.app.url("/logout"),
            &[],
            &[("origin", &s.app.base), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(r.status, 303);
    let location = r.location().unwrap();
    assert!(location.starts_with(s.issuer.issuer_url()), "{location}");
    let q = query_of(&location);
    assert_eq!(q["post_logout_redirect_uri"], s.app.url("/"));
    assert!(q["id_token_hint"].split('.').count() == 3);
    // No `state`: nothing checks it on the landing (SECURITY.md, hard-post-logout-landing).
    assert!(!q.contains_key("state"), "{q:?}");
    assert!(
        session_cookies(&b, &s.app).is_empty(),
        "session cookies expired"
    );
    let after = s.issuer.counters();
    assert_eq!(
        after.revocation,
        before.revocation + 2,
        "refresh and access tokens revoked"
    );

    let home = b.follow(r).await.pop().unwrap();
    assert_eq!(home.url, s.app.url("/"));
    assert_eq!(home.body, "Hello, visitor");
    let ended = s.issuer.counters().last_end_session.unwrap();
    assert!(ended.iter().any(|(k, _)| k == "id_token_hint"));
    assert_eq!(
        b.get(&s.app.url("/protected")).await.status,
        303,
        "login required again"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_logout_is_refused_and_get_does_not_log_out() {
    let s = setup().await;
    let b = Browser::new();
    login(&b, &s.app, "/").await;
    for header in [
        ("origin", "http://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let r = b.post_form(&s.app.url("/logout"), &[], &[header]).await;
        assert_eq!(r.status, 403, "{header:?}");
    }
    let r = b.get(&s.app.url("/logout")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        b.get(&s.app.url("/")).await.body,
        "Hi Ada Lovelace!",
        "still signed in"
    );
    assert_eq!(s.issuer.counters().revocation, 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_tabs_log_in_at_once_and_pending_logins_are_capped() {
    let s = setup().await;
    let b = Browser::new();
    let first = callback_url(&b, &s.app).await;
    let second = callback_url(&b, &s.app).await;
    assert_eq!(tx_cookies(&b, &s.app).len(), 2);
    // Finish them in reverse order: both succeed.
    assert_eq!(b.get(&second).await.status, 303);
    assert_eq!(b.get(&first).await.status, 303);
    assert_eq!(b.get(&s.app.url("/")).await.body, "Hi Ada Lovelace!");
    for _ in 0..10 {
        b.get(&s.app.url("/login")).await;
    }
    let pending = tx_cookies(&b, &s.app).len();
    assert!(pending <= 4, "{pending} pending transactions");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_session_does_not_survive_login() {
    let s = setup().await;
    // The attacker's own valid session, planted in the victim's browser.
    let attacker = Browser::new();
    s.issuer.set_auto_login(Some("alan"));
    login(&attacker, &s.app, "/").await;
    let victim = Browser::new();
    for (k, v) in attacker.cookies(&s.app.base) {
        victim.set_cookie(&s.app.base, &k, &v);
    }
    s.issuer.set_auto_login(Some("ada"));
    let chain = login(&victim, &s.app, "/").await;
    assert_eq!(chain.last().unwrap().body, "Hi Ada Lovelace!");
    assert_ne!(
        victim.cookies(&s.app.base)["oidc_session"],
        attacker.cookies(&s.app.base)["oidc_session"]
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_codes_and_cookie_values_never_reach_the_log() {
    let s = setup().await;
    let b = Browser::new();
    let callback = callback_url(&b, &s.app).await;
    let code = query_of(&callback)["code"].clone();
    b.get(&callback).await;
    b.post_form(&s.app.url("/logout"), &[], &[("origin", &s.app.base)])
        .await;
    let revoked = s.issuer.counters().revoked_tokens;
    assert_eq!(revoked.len(), 2);
    // Tokens and secrets appear in no line at all.
    for secret in [
        revoked[0].as_str(),
        revoked[1].as_str(),
        common::TEST_SECRET_KEY,
        "quickstart-dev-secret",
    ] {
        assert_not_logged(secret);
    }
    // Nor the one-time code: Rocket logs request lines at the `normal` level, but the
    // callback's shows `?redacted` (src/callback_log.rs).
    assert_not_logged(&code);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_quirks_auth0_updated_at_and_string_booleans_sign_in() {
    let s = setup().await;
    // Auth0 sends `updated_at` as an RFC 3339 string; Apple and Cognito send booleans as strings.
    s.issuer.set_fault(Fault::Claim(
        "updated_at".into(),
        "2025-12-23T10:59:07.841Z".into(),
    ));
    s.issuer
        .set_fault(Fault::Claim("email_verified".into(), "true".into()));
    let b = Browser::new();
    let last = login(&b, &s.app, "/").await.pop().unwrap();
    assert_eq!(last.body, "Hi Ada Lovelace!");
    assert_eq!(b.api_client().get(&s.app.url("/api/me")).await.status, 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_text_is_shown_only_for_a_login_this_browser_started() {
    let s = setup().await;
    let b = Browser::new();
    let crafted = s.app.url(
        "/authorization-code/callback?error=access_denied&error_description=Call+0800+to+unlock&state=x",
    );
    let r = b.get(&crafted).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("unknown_state"));
    assert!(!r.body.contains("0800"), "attacker text shown: {}", r.body);
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_apps_use_host_prefixed_secure_cookies() {
    let port = free_port();
    let s =
        setup_with(|f| f.merge(("oidc.app_base_url", format!("https://localhost:{port}")))).await;
    let r = Browser::new().get(&s.app.url("/login")).await;
    assert_eq!(r.status, 303);
    let tx = &r.set_cookies[0];
    assert!(tx.starts_with("__Host-oidc_tx_"), "{tx}");
    assert!(
        tx.contains("Secure") && tx.contains("Path=/") && !tx.contains("Domain"),
        "{tx}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_is_expired_in_the_browser_too() {
    let s = setup_with(|f| f.merge(("oidc.session_idle_timeout_secs", 1))).await;
    let b = Browser::new();
    login(&b, &s.app, "/").await;
    age_browser_session(&b, &s.app, 3, 3);
    // Through the 401 catcher (Rocket drops the guard's cookie changes before catchers run).
    let r = b.get(&s.app.url("/protected")).await;
    assert_eq!(r.status, 303);
    assert!(
        r.set_cookies
            .iter()
            .any(|c| c.starts_with("oidc_session=;") && c.contains("Max-Age=0")),
        "{:?}",
        r.set_cookies
    );
    assert!(session_cookies(&b, &s.app).is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_300_group_token_set_fits_and_a_larger_one_fails_with_advice() {
    let s = setup().await;
    // 300 groups: a token set far beyond 8 KB still signs in, in at most 8 cookies of 4 KB.
    let (b, sizes) = sign_in_with_groups(&s, 300).await;
    println!(
        "300-group session: {} cookies, {} bytes: {sizes:?}",
        sizes.len(),
        sizes.iter().sum::<usize>()
    );
    assert!(sizes.len() > 4 && sizes.len() <= 8, "{sizes:?}");
    assert!(sizes.iter().all(|n| *n <= 4096), "{sizes:?}");
    let r = b.api_client().get(&s.app.url("/api/me")).await;
    assert_eq!(r.status, 200);
    assert!(r.json()["groups"].as_array().unwrap().len() >= 300);

    // 1000 groups cannot fit: a clear error page, no session, and the log says what to change.
    let internal = Expect::Rejected(500, "internal");
    login_case(&s, &[Fault::ManyGroups(1000)], internal).await;
    assert_logged(&["more than 8 cookies can carry", "oidc.fetch_userinfo"]);
    s.stop().await;
}
