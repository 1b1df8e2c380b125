//! Token refresh over real HTTP (issue 13): a Rocket app on loopback signed in at the
//! development issuer with short-lived access tokens and rotating refresh tokens. Sessions are
//! aged by rewriting the browser's cookie (no sleeping), except where the server's own cache
//! must expire.

mod common;

use std::time::{Duration, Instant};

use rocket::figment::Figment;
use rocket::serde::json::{json, Value};
use rocket_openid_connect::dev_issuer::{DevIssuer, DevIssuerBuilder, Fault, RefreshRotation};
use rocket_openid_connect::{
    AuthenticatedUser, OidcFairing, RefreshError, TokenRefresher, UserContext,
};

use common::*;

fn describe(user: &UserContext) -> Value {
    json!({
        "sub": user.userinfo.sub,
        "name": user.userinfo.name,
        "status": format!("{:?}", user.tokens.refresh_status),
        "expires": user.tokens.access_token_expires_at.map(|t| t.unix_timestamp()),
    })
}

#[rocket::get("/status")]
fn status(user: AuthenticatedUser) -> Value {
    describe(&user)
}

#[rocket::get("/page")]
fn page(user: Option<UserContext>) -> Value {
    user.map(|u| describe(&u))
        .unwrap_or(json!({"visitor": true}))
}

/// Three guards in one request: the session is refreshed once, and all see the new tokens.
#[rocket::get("/three")]
fn three(a: AuthenticatedUser, b: Option<UserContext>, c: TokenRefresher<'_>) -> Value {
    json!([describe(&a), b.map(|b| describe(&b)), describe(c.user())])
}

#[rocket::get("/refresh-now")]
async fn refresh_now(mut tokens: TokenRefresher<'_>) -> Result<Value, RefreshError> {
    Ok(describe(tokens.refresh().await?))
}

#[rocket::get("/fresh?<within>")]
async fn fresh(mut tokens: TokenRefresher<'_>, within: u64) -> Result<Value, RefreshError> {
    Ok(describe(
        tokens
            .refresh_if_expiring(Duration::from_secs(within))
            .await?,
    ))
}

/// A dev issuer with 2 s access tokens and `rotation`, auto-login as ada, and an app whose
/// figment `tweak` adjusts (skew 1 s by default, below the 2 s lifetime).
async fn start(
    rotation: RefreshRotation,
    tweak: impl FnOnce(Figment) -> Figment,
) -> (DevIssuer, App) {
    start_with(
        DevIssuer::builder()
            .access_token_lifetime(Duration::from_secs(2))
            .refresh_rotation(rotation),
        tweak,
    )
    .await
}

async fn start_with(
    builder: DevIssuerBuilder,
    tweak: impl FnOnce(Figment) -> Figment,
) -> (DevIssuer, App) {
    init_logging();
    let issuer = builder.start().await.expect("dev issuer starts");
    issuer.set_auto_login(Some("ada"));
    let app = start_app(&issuer, tweak).await;
    (issuer, app)
}

async fn start_app(issuer: &DevIssuer, tweak: impl FnOnce(Figment) -> Figment) -> App {
    let figment = app_figment(issuer.issuer_url(), free_port())
        .merge(("oidc.refresh.skew_secs", 1))
        .merge(("log_level", "critical"));
    let rocket = rocket::custom(tweak(figment))
        .attach(OidcFairing::new())
        .mount(
            "/",
            rocket::routes![
                status,
                page,
                three,
                refresh_now,
                fresh,
                app_routes::protected,
                app_routes::me
            ],
        );
    launch(rocket).await.expect("app launches")
}

fn strict(grace: Duration) -> RefreshRotation {
    RefreshRotation::Strict { grace }
}

/// Signs ada in with a fresh browser.
async fn signed_in(app: &App) -> Browser {
    let b = Browser::new();
    login(&b, app, "/").await;
    assert!(!session_cookies(&b, app).is_empty(), "signed in");
    b
}

/// Makes the access token in `b`'s session look expired a second ago (no sleeping); returns
/// the expiry it set.
fn expire_access_token(b: &Browser, app: &App) -> i64 {
    let mut data = browser_session(b, app);
    let expired = time::OffsetDateTime::now_utc().unix_timestamp() - 1;
    data.access_expires_at = Some(expired);
    set_browser_session(b, app, &data);
    expired
}

/// A copy of every cookie a browser holds, to replay later.
type Jar = std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>;

fn snapshot(b: &Browser) -> Jar {
    b.jar.lock().unwrap().clone()
}

/// A client holding `jar`: navigating like a browser, or calling like `fetch()`.
fn client_with(jar: &Jar, navigate: bool) -> Browser {
    let c = if navigate {
        Browser::new()
    } else {
        Browser::api()
    };
    *c.jar.lock().unwrap() = jar.clone();
    c
}

/// Whether a response sets (or removes) a session cookie.
fn sets_session(r: &Resp) -> bool {
    r.set_cookies.iter().any(|c| c.starts_with("oidc_session"))
}

fn removes_session(r: &Resp) -> bool {
    r.set_cookies
        .iter()
        .any(|c| c.starts_with("oidc_session=") && c.contains("Max-Age=0"))
}

/// The one grant of the issuer: (refresh calls, revoked, revoked by reuse).
fn grant(issuer: &DevIssuer, n: usize) -> (u64, bool, bool) {
    let g = &issuer.grants()[n];
    (g.refresh_calls, g.revoked, g.revoked_by_reuse)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_requests_with_one_expired_session_make_exactly_one_refresh_call() {
    // Skew 0: the new 2 s token is not due again while the test looks at it.
    let (issuer, app) = start(strict(Duration::ZERO), |f| {
        f.merge(("oidc.refresh.skew_secs", 0))
    })
    .await;
    let b = signed_in(&app).await;
    let before = browser_session(&b, &app);
    expire_access_token(&b, &app);
    // A slow token endpoint, so that all 50 requests are in flight during the one refresh.
    issuer.set_fault(Fault::DelayToken(Duration::from_millis(300)));

    let url = app.url("/status");
    let requests: Vec<_> = (0..50)
        .map(|_| {
            // Each request from its own client holding the same (old) cookie, as the tabs and
            // `fetch()`es of one browser send it before any answer arrives.
            let client = b.api_client();
            let url = url.clone();
            tokio::spawn(async move { (client.get(&url).await, client) })
        })
        .collect();
    let mut clients = Vec::new();
    for request in requests {
        let (r, client) = request.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["status"], "Refreshed");
        assert!(sets_session(&r), "the new tokens reach every request");
        clients.push(client);
    }
    assert_eq!(
        grant(&issuer, 0),
        (1, false, false),
        "exactly one refresh call, and the grant alive"
    );
    let mut refresh_tokens: Vec<_> = clients
        .iter()
        .map(|c| browser_session(c, &app).refresh_token)
        .collect();
    refresh_tokens.dedup();
    assert_eq!(
        refresh_tokens.len(),
        1,
        "every response has the same new tokens"
    );
    assert_ne!(refresh_tokens[0], before.refresh_token, "rotated");

    // With the new cookie nothing is due: no refresh, no Set-Cookie.
    issuer.clear_faults();
    let r = clients[0].get(&url).await;
    assert_eq!(r.json()["status"], "Unchanged");
    assert!(!sets_session(&r), "Set-Cookie only when the tokens change");
    assert_eq!(grant(&issuer, 0).0, 1);
    app.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stale_cookie_replayed_after_the_result_cache_expired_signs_out_cleanly() {
    let (issuer, app) = start(strict(Duration::ZERO), |f| {
        f.merge(("oidc.refresh.result_cache_secs", 1))
    })
    .await;
    let b = signed_in(&app).await;
    expire_access_token(&b, &app);
    let stale = snapshot(&b); // the cookie as it was before the refresh
    let r = b.get(&app.url("/status")).await;
    assert_eq!(r.json()["status"], "Refreshed");
    assert_eq!(grant(&issuer, 0), (1, false, false));

    // Within the cache, the old cookie gets the same new tokens (no second call).
    let r = client_with(&stale, false).get(&app.url("/status")).await;
    assert_eq!(r.json()["status"], "Refreshed");
    assert_eq!(grant(&issuer, 0).0, 1);

    // Once the result cache (1 s) has expired, the old cookie presents the consumed refresh
    // token: the provider revokes the grant (reuse detection) and the session ends cleanly.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let page = client_with(&stale, true).get(&app.url("/page")).await;
    assert_eq!(page.status, 200, "never a 500: {}", page.body);
    assert_eq!(page.json(), json!({"visitor": true}));
    assert!(removes_session(&page), "{:?}", page.set_cookies);
    assert_eq!(grant(&issuer, 0), (2, true, true));
    assert_logged(&[
        "refresh for subject",
        "the session ends",
        "invalid_grant",
        "already used",
    ]);
    // The same replay as an API call, and as a browser: 401, and a login redirect. The failure
    // is cached, so no third call.
    let r = client_with(&stale, false).get(&app.url("/api/me")).await;
    assert_eq!(r.status, 401);
    assert!(removes_session(&r));
    let r = client_with(&stale, true).get(&app.url("/protected")).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location().as_deref(),
        Some("/login?return_to=%2Fprotected")
    );
    assert!(removes_session(&r));
    assert_eq!(grant(&issuer, 0).0, 2);
    app.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_sends_a_browser_to_login_and_back_and_an_api_client_gets_401() {
    let (issuer, app) = start(strict(Duration::ZERO), |f| f).await;
    let b = signed_in(&app).await;
    expire_access_token(&b, &app);
    assert_eq!(issuer.revoke_grants("ada"), 1);

    let api = b.api_client();
    let r = api.get(&app.url("/api/me")).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json()["login"], "/login");
    assert!(removes_session(&r), "{:?}", r.set_cookies);
    assert_logged(&["the session ends", "invalid_grant", "revoked"]);

    // The browser (same cookie; the failure is cached: one call in all) goes to login and
    // comes back to the page with a new session.
    let r = b.get(&app.url("/protected")).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location().as_deref(),
        Some("/login?return_to=%2Fprotected")
    );
    assert_eq!(grant(&issuer, 0).0, 1);
    let back = b.follow(r).await.pop().unwrap();
    assert_eq!(back.url, app.url("/protected"));
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(issuer.grants().len(), 2, "a new login, a new grant");
    app.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refreshed_id_token_for_another_sub_is_rejected_and_ends_the_session() {
    let (issuer, app) = start(RefreshRotation::Rotate, |f| f).await;
    let b = signed_in(&app).await;
    let before = browser_session(&b, &app);
    expire_access_token(&b, &app);
    issuer.set_fault(Fault::RefreshWrongSub);
    let r = b.api_client().get(&app.url("/status")).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(removes_session(&r));
    assert_logged(&[
        "refresh response was rejected",
        "sub `someone-else` is not the session's",
    ]);
    // The rejected tokens were never written: the browser still holds the old session, which
    // the next request (failure cached) refuses again.
    assert_eq!(
        browser_session(&b, &app).refresh_token,
        before.refresh_token
    );
    let r = b.get(&app.url("/protected")).await;
    assert_eq!(r.status, 303);
    assert_eq!(grant(&issuer, 0).0, 1);
    app.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_quirks_no_id_token_no_nonce_and_no_refresh_token_keep_the_session() {
    let (issuer, app) = start(RefreshRotation::Rotate, |f| f).await;
    for (fault, n) in [
        (Fault::RefreshNoIdToken, 0),
        (Fault::RefreshNoNonce, 1),
        (Fault::RefreshNoRefreshToken, 2),
    ] {
        issuer.clear_faults();
        let b = signed_in(&app).await;
        let before = browser_session(&b, &app);
        let expired = expire_access_token(&b, &app);
        issuer.set_fault(fault.clone());
        let r = b.get(&app.url("/status")).await;
        assert_eq!(r.status, 200, "{fault:?}: {}", r.body);
        assert_eq!(r.json()["status"], "Refreshed", "{fault:?}");
        assert_eq!(r.json()["name"], "Ada Lovelace", "{fault:?}");
        let after = browser_session(&b, &app);
        assert_ne!(after.access_token, before.access_token, "{fault:?}");
        assert!(after.access_expires_at > Some(expired), "{fault:?}");
        match fault {
            Fault::RefreshNoIdToken => assert_eq!(after.id_token, before.id_token),
            Fault::RefreshNoNonce => {
                assert_ne!(after.id_token, before.id_token);
                assert_eq!(rocket_openid_connect_nonce(&after.id_token), None);
            }
            _ => assert_eq!(after.refresh_token, before.refresh_token),
        }
        // And the session keeps refreshing with what it kept.
        issuer.clear_faults();
        expire_access_token(&b, &app);
        let r = b.get(&app.url("/status")).await;
        assert_eq!(r.status, 200, "{fault:?}, second refresh: {r:?}");
        assert_eq!(r.json()["status"], "Refreshed", "{fault:?}, second refresh");
        // Without a new refresh token the second refresh presents the same one again, within
        // result_cache_secs: the cached result answers it, no second call.
        let calls = if fault == Fault::RefreshNoRefreshToken {
            1
        } else {
            2
        };
        assert_eq!(grant(&issuer, n).0, calls, "{fault:?}");
    }
    app.stop().await;
    issuer.stop().await;
}

/// The `nonce` claim of a raw ID token.
fn rocket_openid_connect_nonce(id_token: &str) -> Option<String> {
    use base64::Engine;
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Value = rocket::serde::json::serde_json::from_slice(&bytes).ok()?;
    claims["nonce"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_outage_or_timeout_keeps_the_session_with_stale_tokens() {
    let (issuer, app) = start(strict(Duration::ZERO), |f| {
        f.merge(("oidc.http_timeout_secs", 1))
            .merge(("oidc.refresh.failure_cache_secs", 1))
    })
    .await;
    // A 500 from the token endpoint.
    let b = signed_in(&app).await;
    expire_access_token(&b, &app);
    let before = browser_session(&b, &app);
    issuer.set_fault(Fault::TokenServerError);
    let calls = issuer.counters().token;
    let r = b.get(&app.url("/protected")).await;
    assert_eq!(r.status, 200, "the session stays: {}", r.body);
    let r = b.api_client().get(&app.url("/status")).await;
    assert_eq!(r.json()["status"], "Stale");
    assert_eq!(
        r.json()["expires"],
        json!(before.access_expires_at),
        "the old token"
    );
    assert!(!sets_session(&r), "nothing to write");
    assert_eq!(issuer.counters().token - calls, 1, "the failure is cached");
    assert_logged(&["keeps its old, stale tokens", "HTTP 500"]);

    // Once the provider is back and the failure cache (1 s) has expired, the refresh works.
    issuer.clear_faults();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let r = b.api_client().get(&app.url("/status")).await;
    assert_eq!(r.json()["status"], "Refreshed");

    // A token endpoint slower than oidc.http_timeout_secs (1 s): stale, not signed out.
    let b = signed_in(&app).await;
    expire_access_token(&b, &app);
    issuer.set_fault(Fault::DelayToken(Duration::from_secs(3)));
    let started = Instant::now();
    let r = b.api_client().get(&app.url("/status")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "Stale");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the timeout bounds the wait"
    );
    assert_logged(&[
        "keeps its old, stale tokens",
        "no complete answer within 1 s",
    ]);
    issuer.clear_faults();
    app.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refresh_per_request_and_every_guard_sees_the_new_tokens() {
    let (issuer, app) = start(strict(Duration::ZERO), |f| f).await;
    let b = signed_in(&app).await;
    expire_access_token(&b, &app);
    let r = b.api_client().get(&app.url("/three")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let seen = r.json();
    assert_eq!(seen[0]["status"], "Refreshed");
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0], seen[2]);
    assert_eq!(grant(&issuer, 0).0, 1);
    app.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_refresher_refreshes_on_demand() {
    let (issuer, app) = start(RefreshRotation::Rotate, |f| {
        f.merge(("oidc.refresh.mode", "on_demand"))
            .merge(("oidc.refresh.skew_secs", 0))
    })
    .await;
    let b = signed_in(&app).await;
    expire_access_token(&b, &app);
    let api = b.api_client();
    // on_demand: the guards leave an expired access token alone.
    let r = api.get(&app.url("/status")).await;
    assert_eq!(r.json()["status"], "Unchanged");
    assert_eq!(grant(&issuer, 0).0, 0);
    // The handler asks for a token valid 60 s more: it refreshes.
    let r = api.get(&app.url("/fresh?within=60")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "Refreshed");
    assert!(sets_session(&r));
    let after = browser_session(&api, &app);
    // The new 2 s token is valid now: nothing to do.
    let r = api.get(&app.url("/fresh?within=0")).await;
    assert_eq!(r.json()["status"], "Unchanged");
    assert!(!sets_session(&r));
    assert_eq!(grant(&issuer, 0).0, 1);
    // A forced refresh rotates again.
    let r = api.get(&app.url("/refresh-now")).await;
    assert_eq!(r.json()["status"], "Refreshed");
    assert_ne!(
        browser_session(&api, &app).refresh_token,
        after.refresh_token
    );
    assert_eq!(grant(&issuer, 0).0, 2);

    // A revoked grant: the handler's `?` answers 401, a browser goes to login.
    issuer.revoke_grants("ada");
    let jar = snapshot(&api);
    let r = client_with(&jar, false).get(&app.url("/refresh-now")).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(removes_session(&r), "{:?}", r.set_cookies);
    let r = client_with(&jar, true).get(&app.url("/refresh-now")).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location().as_deref(),
        Some("/login?return_to=%2Frefresh-now")
    );
    assert!(removes_session(&r), "{:?}", r.set_cookies);
    app.stop().await;

    // Off: the app's refresh is refused with a 500 (a contradiction in the app itself), and the
    // log says how to switch it on.
    let off = start_app(&issuer, |f| f.merge(("oidc.refresh.mode", "off"))).await;
    let b = signed_in(&off).await;
    expire_access_token(&b, &off);
    let api = b.api_client();
    assert_eq!(
        api.get(&off.url("/status")).await.json()["status"],
        "Unchanged"
    );
    let r = api.get(&off.url("/refresh-now")).await;
    assert_eq!(r.status, 500);
    off.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_without_a_shared_coordinator_rely_on_the_providers_grace_period() {
    // Two instances of the app share the secret key (so the cookie works on both) but not a
    // coordinator: a burst split between them makes two refresh calls with one refresh token.
    for (grace, survives) in [(Duration::from_secs(10), true), (Duration::ZERO, false)] {
        let (issuer, one) = start(strict(grace), |f| f).await;
        let two = start_app(&issuer, |f| f).await;
        let b = signed_in(&one).await;
        expire_access_token(&b, &one);
        issuer.set_fault(Fault::DelayToken(Duration::from_millis(300)));
        let (c1, c2) = (b.api_client(), b.api_client());
        // The jar is per origin: give the second client the cookie for the second instance.
        let cookies = b.cookies(&one.base);
        for (name, value) in &cookies {
            c2.set_cookie(&two.base, name, value);
        }
        let (u1, u2) = (one.url("/status"), two.url("/status"));
        let (r1, r2) = tokio::join!(c1.get(&u1), c2.get(&u2));
        let statuses = [r1.status, r2.status];
        let (calls, revoked, by_reuse) = grant(&issuer, 0);
        assert_eq!(calls, 2, "one call per instance");
        if survives {
            assert_eq!(statuses, [200, 200], "within the grace period");
            assert!(!revoked);
        } else {
            assert!(
                statuses.contains(&401),
                "{statuses:?}: one replay, reuse detected"
            );
            assert!(revoked && by_reuse);
        }
        issuer.clear_faults();
        one.stop().await;
        two.stop().await;
        issuer.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_never_reach_the_log_during_refreshes() {
    let (issuer, app) = start(RefreshRotation::Rotate, |f| f).await;
    let b = signed_in(&app).await;
    let before = browser_session(&b, &app);
    expire_access_token(&b, &app);
    b.get(&app.url("/status")).await;
    let after = browser_session(&b, &app);
    for secret in [
        before.refresh_token.unwrap(),
        before.access_token.unwrap(),
        after.refresh_token.unwrap(),
        after.access_token.unwrap(),
        after.id_token,
    ] {
        assert_not_logged(&secret);
    }
    assert_logged(&["refreshed the tokens of subject"]);
    app.stop().await;
    issuer.stop().await;
}

/// Several providers (issue 17): a session is refreshed at the provider that signed the user
/// in, which the session names, with that provider's client and keys; the other provider sees
/// no token call. Two dev issuers with strict rotation, so a refresh token presented at the
/// wrong provider or twice would show as a failed or revoked grant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_from_provider_b_refreshes_at_b_and_makes_no_token_call_at_a() {
    init_logging();
    let mut issuers = Vec::new();
    for (name, user) in [("a", "ada"), ("b", "grace")] {
        let issuer = DevIssuer::builder()
            .client(provider_client(name))
            .access_token_lifetime(Duration::from_secs(2))
            .refresh_rotation(strict(Duration::ZERO))
            .start()
            .await
            .expect("dev issuer starts");
        issuer.set_auto_login(Some(user));
        issuers.push(issuer);
    }
    let (a, b) = (&issuers[0], &issuers[1]);
    let port = free_port();
    let figment = multi_figment(port, &[("a", a.issuer_url()), ("b", b.issuer_url())])
        // Skew 0: the new 2 s token is not due again while the test looks at it.
        .merge(("oidc.refresh.skew_secs", 0))
        .merge(("log_level", "critical"));
    let rocket = rocket::custom(figment)
        .attach(OidcFairing::new())
        .mount("/", rocket::routes![status, app_routes::whoami]);
    let app = launch(rocket).await.expect("app launches");

    // Grace signs in at B, Ada at A.
    let sign_in = |provider: &'static str| {
        let app = &app;
        async move {
            let browser = Browser::new();
            let chain = browser
                .get(&provider_login_url(app, provider, "/status"))
                .await;
            let page = browser.follow(chain).await.pop().unwrap();
            assert_eq!(page.status, 200, "{provider}: {}", page.body);
            assert_eq!(page.json()["status"], "Unchanged");
            assert_eq!(browser_session(&browser, app).provider_name(), provider);
            browser
        }
    };
    let at_b = sign_in("b").await;
    let at_a = sign_in("a").await;
    let (a_before, b_before) = (a.counters(), b.counters());
    assert_eq!((a_before.grants.len(), b_before.grants.len()), (1, 1));

    // B's session expires; a burst of 10 concurrent requests refreshes it once, at B.
    expire_access_token(&at_b, &app);
    b.set_fault(Fault::DelayToken(Duration::from_millis(200)));
    let requests: Vec<_> = (0..10)
        .map(|_| {
            let client = at_b.api_client();
            let url = app.url("/status");
            tokio::spawn(async move { client.get(&url).await })
        })
        .collect();
    for request in requests {
        let r = request.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["status"], "Refreshed");
        assert_eq!(r.json()["sub"], "grace-hopper-1906");
        assert!(sets_session(&r), "the new tokens reach every request");
    }
    b.clear_faults();
    let (a_after, b_after) = (a.counters(), b.counters());
    assert_eq!(
        b_after.token,
        b_before.token + 1,
        "one token call at B, the provider that signed Grace in"
    );
    assert_eq!(
        grant(b, 0),
        (1, false, false),
        "B's grant refreshed once, alive"
    );
    assert_eq!(a_after.token, a_before.token, "no token call at A");
    assert_eq!(grant(a, 0), (0, false, false), "A's grant untouched");

    // The refreshed session still names B and is B's user; the next request uses it as is.
    b.set_fault(Fault::DelayToken(Duration::ZERO));
    let session = browser_session(&at_b, &app);
    assert_eq!(session.provider_name(), "b");
    assert_ne!(session.refresh_token, None);
    let me = at_b.api_client().get(&app.url("/whoami")).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["provider"], "b");
    assert_eq!(me.json()["issuer"], b.issuer_url());
    assert_eq!(b.counters().token, b_after.token, "not due again");

    // And A's session refreshes at A, leaving B alone.
    expire_access_token(&at_a, &app);
    let r = at_a.api_client().get(&app.url("/status")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "Refreshed");
    assert_eq!(r.json()["sub"], ADA);
    assert_eq!(grant(a, 0), (1, false, false));
    assert_eq!(b.counters().token, b_after.token, "no token call at B");

    app.stop().await;
    for issuer in issuers {
        issuer.stop().await;
    }
}
