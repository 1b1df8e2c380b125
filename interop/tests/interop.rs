//! The interop suite in a real browser: the quickstart (`http://localhost:PORT`) against
//! panva/oidc-provider (`http://127.0.0.1:PORT`, a different site), driven through headless
//! Chromium by chromedriver. Every scenario asserts what the page shows.
//!
//! Run with `bash .ci/interop`, or, with chromium, chromium-driver and `npm ci` in `interop/`
//! done: `cargo test -p interop -- --test-threads=1 --nocapture`.

mod common;

use std::time::{Duration, Instant};

use common::app::{
    app_options, app_port, assert_wrong_secret_refused, backchannel_logout_uri, base_url, App,
    ProviderTable,
};
use common::browser::{Browser, Driver};
use common::provider::{display_name, ProviderOptions, TestProvider, PASSWORD};

fn done(scenario: &str, started: Instant) {
    eprintln!("[browser] {scenario}: ok in {:?}", started.elapsed());
}

/// On the provider's devInteractions login page: types `login` and a password, signs in, and
/// continues on the consent page if the provider shows one. Returns once the browser has left
/// the provider.
async fn sign_in_at_provider(browser: &Browser, provider: &TestProvider, login: &str) {
    browser
        .wait_for_url(&format!("{}/interaction/", provider.issuer))
        .await;
    browser.fill("input[name=login]", login).await;
    browser.fill("input[name=password]", PASSWORD).await;
    browser.click("button[type=submit]").await;
    let deadline = Instant::now() + common::browser::STEP_TIMEOUT;
    loop {
        let url = browser.url().await;
        if !url.starts_with(&provider.issuer) {
            return;
        }
        if browser.has("input[name=prompt][value=consent]").await {
            browser.click("button[type=submit]").await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert!(
            Instant::now() < deadline,
            "stuck at the provider ({url}):\n{}",
            browser.text().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens `/protected` as a visitor, is sent to the provider, signs in as `login`, and checks
/// the page back at the app shows the name. Returns the page text.
async fn sign_in_via_protected(
    browser: &Browser,
    app: &str,
    provider: &TestProvider,
    login: &str,
) -> String {
    browser.goto(&format!("{app}/protected")).await;
    sign_in_at_provider(browser, provider, login).await;
    browser.wait_for_url(&format!("{app}/protected")).await;
    browser
        .wait_for_text(&format!("Signed in as {}", display_name(login)))
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_scenarios() {
    let suite = Instant::now();
    let driver = Driver::start().await;
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

    // 1. A visitor opens /protected, is sent to the provider's login page, signs in and
    // consents, and lands back on /protected showing their name; the home page greets them.
    let started = Instant::now();
    let browser = driver.session().await;
    browser.goto(&format!("{main}/")).await;
    browser.wait_for_text("visitor").await;
    assert!(browser.has("a[href='/login']").await);
    let login = Instant::now();
    let page = sign_in_via_protected(&browser, &main, &provider, "ada").await;
    let login_time = login.elapsed();
    assert!(page.contains("Refresh token: no"), "{page}");
    browser.goto(&format!("{main}/")).await;
    browser.wait_for_text("Hi Ada Lovelace!").await;
    eprintln!("[browser] one login (/protected → provider → back on /protected): {login_time:?}");
    done("1 sign in via /protected", started);

    // 3. Logout through the page's button → the provider's end-session confirmation → confirm
    // → back home as a visitor; /protected requires a login again.
    let started = Instant::now();
    browser.click("#logout").await;
    browser
        .wait_for_url(&format!("{}/session/end", provider.issuer))
        .await;
    browser.wait_for_text("Do you want to sign-out").await;
    browser.click("button[name=logout][value=yes]").await;
    browser.wait_for_url(&format!("{main}/")).await;
    browser.wait_for_text("visitor").await;
    assert!(browser.has("a[href='/login']").await);
    provider.wait_for_events("end_session.success", 1).await;
    // The app revoked its tokens before leaving (the provider offers revocation, DESIGN.md §4).
    provider.wait_for_events("access_token.destroyed", 1).await;
    browser.goto(&format!("{main}/protected")).await;
    browser
        .wait_for_url(&format!("{}/interaction/", provider.issuer))
        .await;
    browser.element("input[name=login]").await;
    done("3 logout", started);

    // 4. Two tabs start a login at once and both complete. This tab already waits on the
    // provider's login page (from the end of 3); a second tab starts another login; the second
    // finishes first, then the first: a single transaction slot would fail one of them.
    let started = Instant::now();
    let first = browser.client.window().await.expect("window");
    let second = browser
        .client
        .new_window(true)
        .await
        .expect("new tab")
        .handle;
    browser
        .client
        .switch_to_window(second.clone())
        .await
        .expect("switch");
    browser.goto(&format!("{main}/protected")).await;
    sign_in_at_provider(&browser, &provider, "ada").await;
    browser.wait_for_url(&format!("{main}/protected")).await;
    browser.wait_for_text("Signed in as Ada Lovelace").await;
    browser
        .client
        .switch_to_window(first)
        .await
        .expect("switch");
    sign_in_at_provider(&browser, &provider, "ada").await;
    browser.wait_for_url(&format!("{main}/protected")).await;
    browser.wait_for_text("Signed in as Ada Lovelace").await;
    browser.close().await;
    done("4 two tabs", started);

    // 10. Back-channel logout: signed in at the app, the user ends the session at the provider
    // itself (/session/end, confirmed); the provider POSTs a logout token to the app, and the
    // app's next page shows a visitor although the browser still holds its session cookie.
    let started = Instant::now();
    let browser = driver.session().await;
    sign_in_via_protected(&browser, &main, &provider, "ada").await;
    let before = provider.events("backchannel.success").len();
    browser
        .goto(&format!("{}/session/end", provider.issuer))
        .await;
    browser.wait_for_text("Do you want to sign-out").await;
    browser.click("button[name=logout][value=yes]").await;
    let events = provider
        .wait_for_events("backchannel.success", before + 1)
        .await;
    assert!(events[before].contains("sid=yes"), "{events:?}");
    browser.goto(&format!("{main}/")).await;
    browser.wait_for_text("visitor").await;
    assert!(browser.has("a[href='/login']").await);
    browser.goto(&format!("{main}/protected")).await;
    browser
        .wait_for_url(&format!("{}/interaction/", provider.issuer))
        .await;
    browser.element("input[name=login]").await;
    browser.close().await;
    done("10 back-channel logout at the provider", started);

    // 5. The provider restarts on the same port with a new signing key while the app keeps
    // running: the next login works (the app refetches the JWKS on the unknown kid).
    let started = Instant::now();
    let old_kid = provider.kid.clone();
    provider.restart().await;
    assert_ne!(provider.kid, old_kid, "the restart should bring a new key");
    let browser = driver.session().await;
    sign_in_via_protected(&browser, &main, &provider, "grace").await;
    browser.close().await;
    done("5 provider restarted with a new key", started);

    // 9. Who may see what: /admin is for the `admins` group, which the provider releases with
    // the `groups` scope (ada); anyone else signed in gets the 403 page, never a login redirect;
    // the quickstart's login hook refuses `alan` with its message.
    let started = Instant::now();
    let browser = driver.session().await;
    browser.goto(&format!("{main}/admin")).await;
    sign_in_at_provider(&browser, &provider, "ada").await;
    browser.wait_for_url(&format!("{main}/admin")).await;
    let page = browser
        .wait_for_text("Only members of the admins group see this page")
        .await;
    assert!(page.contains("Ada Lovelace"), "{page}");
    browser.close().await;
    let browser = driver.session().await;
    browser.goto(&format!("{main}/admin")).await;
    sign_in_at_provider(&browser, &provider, "grace").await;
    browser.wait_for_url(&format!("{main}/admin")).await;
    let page = browser.wait_for_text("Access denied").await;
    assert!(page.contains("signed in as Grace Lovelace"), "{page}");
    assert!(browser.has("form[action='/logout'] button").await);
    browser.close().await;
    let browser = driver.session().await;
    browser.goto(&format!("{main}/protected")).await;
    sign_in_at_provider(&browser, &provider, "alan").await;
    let page = browser.wait_for_text("Sign-in refused").await;
    assert!(
        page.contains("Alan's account is disabled in this app"),
        "{page}"
    );
    browser.goto(&format!("{main}/")).await;
    browser.wait_for_text("visitor").await;
    browser.close().await;
    done("9 admin page and login hook", started);

    // 7. With offline_access a refresh token is issued and kept; the signed-in page is saved
    // as a screenshot.
    let started = Instant::now();
    let offline_app = App::start(app_options(
        &provider,
        offline_port,
        "[openid,profile,email,offline_access]",
        "app-offline",
    ))
    .await;
    let browser = driver.session().await;
    let page = sign_in_via_protected(&browser, &offline, &provider, "ada").await;
    assert!(page.contains("Refresh token: yes"), "{page}");
    let screenshot = browser.screenshot("signed-in.png").await;
    eprintln!("[browser] screenshot: {}", screenshot.display());
    browser.close().await;
    drop(offline_app);
    done("7 offline_access keeps a refresh token", started);

    // 6. A wrong client secret: the quickstart does not launch, and says why.
    let started = Instant::now();
    assert_wrong_secret_refused(&provider).await;
    done("6 wrong client secret", started);
    drop(app);
    drop(provider);

    // 2. A provider in strict-claims mode (profile claims only from userinfo) still yields the
    // name.
    let started = Instant::now();
    let strict_port = app_port();
    let strict_url = base_url(strict_port);
    let strict = TestProvider::start(ProviderOptions {
        port: 0,
        strict_claims: true,
        apps: vec![strict_url.clone()],
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
    let browser = driver.session().await;
    sign_in_via_protected(&browser, &strict_url, &strict, "grace").await;
    browser.goto(&format!("{strict_url}/")).await;
    browser.wait_for_text("Hi Grace Lovelace!").await;
    browser.close().await;
    done("2 strict claims", started);

    // 8. Two providers on two ports: the sign-in page offers both; the second's link signs in
    // through its own (cross-site) callback, and logout ends at that provider.
    let started = Instant::now();
    let port = app_port();
    let app_url = base_url(port);
    let one = TestProvider::start_at(
        ProviderOptions {
            port: 0,
            strict_claims: false,
            apps: vec![app_url.clone()],
            backchannel_logout_uri: None,
            access_token_ttl: None,
            rotate_refresh_tokens: false,
        },
        "/authorization-code/callback/one",
        "provider-one",
    )
    .await;
    let mut two = TestProvider::start_at(
        ProviderOptions {
            port: 0,
            strict_claims: false,
            apps: vec![app_url.clone()],
            backchannel_logout_uri: None,
            access_token_ttl: None,
            rotate_refresh_tokens: false,
        },
        "/authorization-code/callback/two",
        "provider-two",
    )
    .await;
    let tables = [
        ProviderTable {
            name: "one",
            display_name: "Provider One",
            provider: &one,
        },
        ProviderTable {
            name: "two",
            display_name: "Provider Two",
            provider: &two,
        },
    ];
    let _two_app = App::start_with_providers("app-two-providers", port, &tables).await;
    let browser = driver.session().await;
    browser.goto(&format!("{app_url}/protected")).await;
    browser.wait_for_text("Sign in with Provider One").await;
    browser.click("a[href^='/login/two']").await;
    sign_in_at_provider(&browser, &two, "grace").await;
    browser.wait_for_url(&format!("{app_url}/protected")).await;
    let page = browser
        .wait_for_text(&format!("Signed in as {}", display_name("grace")))
        .await;
    assert!(page.contains(&two.issuer), "{page}");
    browser.click("#logout").await;
    browser
        .wait_for_url(&format!("{}/session/end", two.issuer))
        .await;
    browser.click("button[name=logout][value=yes]").await;
    browser.wait_for_url(&format!("{app_url}/")).await;
    browser.wait_for_text("visitor").await;
    two.wait_for_events("end_session.success", 1).await;
    assert!(one.events("end_session.success").is_empty());
    assert!(
        one.events("grant.success").is_empty(),
        "provider one saw no login"
    );
    browser.close().await;
    done("8 two providers", started);

    driver.stop();
    eprintln!("[browser] all scenarios: {:?}", suite.elapsed());
}

/// The access-token lifetime of the rotating provider in scenario 11, seconds. With the app's
/// skew of 1 s a token is due 3 s after it was issued.
const SHORT_TTL: u64 = 4;

/// How many refresh grants the provider has answered.
fn refreshes(provider: &TestProvider) -> usize {
    provider
        .events("grant.success grant_type=refresh_token")
        .len()
}

/// 11. Refresh against oidc-provider with `rotateRefreshToken` (a consumed refresh token
/// presented again revokes the grant) and 4 s access tokens: a browser session keeps working
/// across several refreshes, each page load after expiry showing a new expiry; then a burst of
/// parallel `fetch`es from the page after expiry makes one refresh and does not revoke the
/// grant, which the next refresh proves.
#[tokio::test(flavor = "multi_thread")]
async fn refresh_scenarios() {
    let suite = Instant::now();
    let driver = Driver::start().await;
    let port = app_port();
    let app_url = base_url(port);
    let mut provider = TestProvider::start(ProviderOptions {
        apps: vec![app_url.clone()],
        access_token_ttl: Some(SHORT_TTL as u32),
        rotate_refresh_tokens: true,
        ..Default::default()
    })
    .await;
    let mut options = app_options(
        &provider,
        port,
        "[openid,profile,email,offline_access]",
        "app-refresh",
    );
    options
        .env
        .push(("ROCKET_OIDC_REFRESH".into(), "{skew_secs=1}".into()));
    let app = App::start(options).await;
    let browser = driver.session().await;

    let started = Instant::now();
    let page = sign_in_via_protected(&browser, &app_url, &provider, "ada").await;
    assert!(page.contains("Refresh token: yes"), "{page}");
    assert!(page.contains("Access token refresh: not needed"), "{page}");
    let mut expiry = browser.text_of("#access-expires").await;
    assert_eq!(refreshes(&provider), 0);
    let wait_until_due = || tokio::time::sleep(Duration::from_millis((SHORT_TTL - 1) * 1000 + 500));
    for n in 1..=3 {
        wait_until_due().await;
        browser.goto(&format!("{app_url}/protected")).await;
        browser
            .wait_for_text("Access token refresh: refreshed on this request")
            .await;
        let next = browser.text_of("#access-expires").await;
        assert_ne!(next, expiry, "refresh {n} brought a new access token");
        expiry = next;
        provider
            .wait_for_events("grant.success grant_type=refresh_token", n)
            .await;
        browser.wait_for_text("Signed in as Ada Lovelace").await;
    }
    assert_eq!(refreshes(&provider), 3);
    done("11a a session across three refreshes", started);

    let started = Instant::now();
    wait_until_due().await;
    let statuses = browser
        .execute(
            "return Promise.all(Array.from({length: 12}, () => \
               fetch('/api/me').then(async r => [r.status, (await r.json()).name])))",
        )
        .await;
    let statuses = statuses.as_array().expect("an array of results").clone();
    assert_eq!(statuses.len(), 12);
    for status in &statuses {
        assert_eq!(
            status,
            &serde_json::json!([200, "Ada Lovelace"]),
            "{statuses:?}"
        );
    }
    provider
        .wait_for_events("grant.success grant_type=refresh_token", 4)
        .await;
    // Events are logged as the provider answers: give a second refresh a moment to show.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(refreshes(&provider), 4, "one refresh for the whole burst");
    assert!(
        provider.events("grant.revoked").is_empty(),
        "the grant must survive the burst:\n{}",
        provider.output()
    );
    // The grant is alive: the next refresh works.
    wait_until_due().await;
    browser.goto(&format!("{app_url}/protected")).await;
    browser
        .wait_for_text("Access token refresh: refreshed on this request")
        .await;
    provider
        .wait_for_events("grant.success grant_type=refresh_token", 5)
        .await;
    assert!(provider.events("grant.revoked").is_empty());
    done("11b a burst of 12 fetches after expiry", started);

    browser.close().await;
    drop(app);
    drop(provider);
    driver.stop();
    eprintln!("[browser] refresh scenarios: {:?}", suite.elapsed());
}
