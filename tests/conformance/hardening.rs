//! Hardening cases from the outside security review (issue 12): cache-safe responses, two apps
//! on one host, exact eviction of pending logins, range-checked session times, the callback's
//! `Referrer-Policy`, `HEAD` and request line, the public development `secret_key`, and a clean
//! post-logout landing. Each case is a row of SECURITY.md's "Hardening" table.

use rocket::figment::Figment;
use rocket_openid_connect::__internals::SessionData;
use rocket_openid_connect::dev_issuer::{DevIssuer, Fault};

use super::now;
use crate::common::*;

/// Another app's `secret_key` (64 bytes, base64): development only, never use it anywhere else.
const OTHER_APP_KEY: &str =
    "8Xui8SN4mI+7egV/9dlfYYLGQJeEx4+DwmSQLwDVXJg6Bi2nKvHVJ9XxKgGyEPrt1jeYDPpr3DUX8wN4h9tM6A==";

/// A second app at `issuer` on another port of 127.0.0.1, with its own `secret_key`.
async fn other_app(issuer: &DevIssuer, tweak: impl FnOnce(Figment) -> Figment) -> App {
    let figment =
        app_figment(issuer.issuer_url(), free_port()).merge(("secret_key", OTHER_APP_KEY));
    launch(test_app(tweak(figment)))
        .await
        .expect("the other app launches")
}

/// `hard-two-apps-one-host`: browsers send a host's cookies to all its ports. An app that finds
/// another app's session or pending logins under its cookie names (which it cannot decrypt)
/// treats the user as not signed in here and leaves them alone; with `oidc.cookie_prefix`, both
/// apps keep their sessions at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_two_apps_one_host() {
    let s = setup().await;
    let twin = other_app(&s.issuer, |f| f).await;
    // One jar for the host, as a browser keeps it.
    let browser = Browser::per_host();
    login(&browser, &s.app, "/").await;
    let session = browser.cookies(&s.app.base)["oidc_session"].clone();
    assert_eq!(
        browser.cookies(&twin.base).get("oidc_session"),
        Some(&session),
        "the jar is shared across ports"
    );

    // At the twin (same names, another key): not signed in, and the session is not touched,
    // neither by a page, nor by the 401 catcher, nor by logout.
    assert_eq!(browser.get(&twin.url("/")).await.body, "Hello, visitor");
    assert_eq!(browser.get(&twin.url("/protected")).await.status, 303);
    let out = browser
        .post_form(&twin.url("/logout"), &[], &[("origin", &twin.base)])
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(
        browser.cookies(&s.app.base).get("oidc_session"),
        Some(&session)
    );
    assert_eq!(browser.get(&s.app.url("/")).await.body, "Hi Ada Lovelace!");

    // The first app's pending logins are the twin's to neither count nor evict: four logins
    // started there (its cap) leave both of the first app's pending.
    let pending = [
        callback_url(&browser, &s.app).await,
        callback_url(&browser, &s.app).await,
    ];
    let ours = tx_cookies(&browser, &s.app);
    assert_eq!(ours.len(), 2);
    for _ in 0..4 {
        assert_eq!(browser.get(&twin.url("/login")).await.status, 303);
    }
    let all = tx_cookies(&browser, &s.app);
    assert_eq!(all.len(), 6, "2 + the twin's 4: {all:?}");
    assert!(ours.iter().all(|name| all.contains(name)), "{all:?}");
    // A pending login that arrives at the twin is refused without spending it: the twin cannot
    // decrypt it.
    let at_twin = pending[1].replace(&s.app.base, &twin.base);
    assert_eq!(browser.get(&at_twin).await.status, 400);
    assert_eq!(tx_cookies(&browser, &s.app).len(), 6);
    for callback in &pending {
        assert_eq!(browser.get(callback).await.status, 303, "{callback}");
    }
    assert_eq!(browser.get(&s.app.url("/")).await.body, "Hi Ada Lovelace!");

    // With a prefix of its own, a third app on the host signs in beside the first one.
    let own = other_app(&s.issuer, |f| f.merge(("oidc.cookie_prefix", "appc"))).await;
    let chain = login(&browser, &own, "/").await;
    assert!(
        chain[0]
            .set_cookies
            .iter()
            .any(|c| c.starts_with("appc_tx_")),
        "{:?}",
        chain[0].set_cookies
    );
    assert_eq!(chain.last().unwrap().body, "Hi Ada Lovelace!");
    let jar = browser.cookies(&own.base);
    assert!(jar.contains_key("appc_session") && jar.contains_key("oidc_session"));
    assert_eq!(browser.get(&own.url("/")).await.body, "Hi Ada Lovelace!");
    assert_eq!(browser.get(&s.app.url("/")).await.body, "Hi Ada Lovelace!");
    own.stop().await;
    twin.stop().await;
    s.stop().await;
}

/// `hard-pending-logins-oldest-first`: ten logins started within a second or two, four allowed
/// pending: exactly the last four stay, whatever their random names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_pending_logins_oldest_first() {
    let s = setup().await;
    let b = Browser::new();
    let mut started = Vec::new();
    for _ in 0..10 {
        let r = b.get(&s.app.url("/login")).await;
        assert_eq!(r.status, 303);
        let state = query_of(&r.location().unwrap())["state"].clone();
        started.push(format!("oidc_tx_{}", &state[..16]));
    }
    let mut pending = tx_cookies(&b, &s.app);
    pending.sort();
    let mut newest = started[6..].to_vec();
    newest.sort();
    assert_eq!(pending, newest, "started in this order: {started:?}");
    s.stop().await;
}

/// `hard-session-times`: session times beyond now + `oidc.clock_skew_secs` (60 s) are stale,
/// and no time makes a request fail: a `created` of 2^62 due for sliding was a panic (500).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_session_times() {
    let s = setup().await;
    let b = Browser::new();
    login(&b, &s.app, "/").await;
    let signed_in = browser_session(&b, &s.app);
    let now = now();
    for (created, seen, valid) in [
        (1_i64 << 62, now - 400, false),
        (1 << 62, now, false),
        (now - 10, now + 3600, false),
        (now + 3600, now + 3600, false),
        (now + 30, now + 30, true),
        (now - 400, now + 30, true),
        (i64::MAX, i64::MAX, false),
        (i64::MIN, i64::MIN, false),
    ] {
        let x = Browser::new();
        let data = SessionData {
            created,
            seen,
            ..signed_in.clone()
        };
        set_browser_session(&x, &s.app, &data);
        let page = x.get(&s.app.url("/")).await;
        assert_eq!(
            page.status, 200,
            "created {created}, seen {seen}: {}",
            page.body
        );
        let expected = if valid {
            "Hi Ada Lovelace!"
        } else {
            "Hello, visitor"
        };
        assert_eq!(page.body, expected, "created {created}, seen {seen}");
        if !valid {
            assert!(session_cookies(&x, &s.app).is_empty(), "stale: expired");
            assert_eq!(x.get(&s.app.url("/protected")).await.status, 303);
        }
    }
    s.stop().await;
}

/// Whether `r` says it varies on the `Cookie` header (in any of its `Vary` lines).
fn varies_on_cookie(r: &Resp) -> bool {
    r.headers.get_all("vary").iter().any(|v| {
        v.to_str()
            .unwrap_or_default()
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("cookie"))
    })
}

/// Whether `r` sets (not expires) a session cookie of the default names.
fn sets_session(r: &Resp) -> bool {
    r.set_cookies
        .iter()
        .any(|c| c.starts_with("oidc_session=") && !c.contains("Max-Age=0"))
}

/// `hard-cache-safe-responses`: a response that read the session is kept out of every cache
/// and varies on the cookie; the app's own `Cache-Control` is kept, except on a response that
/// carries a session cookie (a sliding renewal, an expired session).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_cache_safe_responses() {
    let s = setup().await;
    let b = Browser::new();
    // A visitor's page depends on the Cookie header but holds nobody's data: it varies on the
    // cookie and stays cacheable.
    let visitor = b.get(&s.app.url("/")).await;
    assert_eq!(visitor.body, "Hello, visitor");
    assert!(varies_on_cookie(&visitor), "{:?}", visitor.headers);
    assert_eq!(visitor.header("cache-control"), None);

    // The crate's own answers that set its cookies: /login (a pending login) and the callback
    // (the session).
    let chain = login(&b, &s.app, "/").await;
    let callback = callback_of(&chain);
    assert!(sets_session(callback), "{:?}", callback.set_cookies);
    for r in [&chain[0], callback] {
        assert_eq!(
            r.header("cache-control").as_deref(),
            Some("private, no-store"),
            "{}",
            r.url
        );
        assert!(varies_on_cookie(r), "{}", r.url);
    }
    for (client, path) in [
        (&b, "/"),
        (&b, "/protected"),
        (&b, "/two-guards"),
        (&b.api_client(), "/api/me"),
    ] {
        let r = client.get(&s.app.url(path)).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(
            r.header("cache-control").as_deref(),
            Some("private, no-store"),
            "{path}"
        );
        assert!(varies_on_cookie(&r), "{path}: {:?}", r.headers);
    }

    // The app said how its page may be cached: kept, when no session cookie rides on it.
    let own = b.get(&s.app.url("/own-cache-control")).await;
    assert_eq!(own.body, format!("cached for {ADA}"));
    assert!(!sets_session(&own));
    assert_eq!(
        own.header("cache-control").as_deref(),
        Some("public, max-age=3600")
    );
    assert!(varies_on_cookie(&own));

    // The guard slides the session (last seen 400 s ago, beyond the 300 s renewal interval):
    // the response carries the whole encrypted session, and is never cacheable.
    age_browser_session(&b, &s.app, 400, 400);
    let slid = b.get(&s.app.url("/own-cache-control")).await;
    assert_eq!(slid.body, format!("cached for {ADA}"));
    assert!(sets_session(&slid), "{:?}", slid.set_cookies);
    assert_eq!(
        slid.header("cache-control").as_deref(),
        Some("private, no-store")
    );

    // An expired session is expired in the response (a Set-Cookie too): the same, on the
    // app's page and through the 401 catcher.
    for path in ["/own-cache-control", "/protected"] {
        age_browser_session(&b, &s.app, 8 * 86_400, 0);
        let expired = b.get(&s.app.url(path)).await;
        assert!(
            expired
                .set_cookies
                .iter()
                .any(|c| c.starts_with("oidc_session=;")),
            "{path}: {:?}",
            expired.set_cookies
        );
        assert_eq!(
            expired.header("cache-control").as_deref(),
            Some("private, no-store"),
            "{path}"
        );
        assert!(varies_on_cookie(&expired), "{path}");
        login(&b, &s.app, "/").await;
    }
    s.stop().await;
}

/// The public development `secret_key` of the shipped Rocket.toml.
const PUBLIC_DEVELOPMENT_KEY: &str =
    "PQe9lHGsjAmKyAtSyRMg2WmdeoYnZg3HgRzkfDzzTzYJQqtvDXxEfWCqi0D3ng7E3cnZcXDK9mzfglbdBImUJA==";

/// `hard-callback-no-referrer`: the callback's answers (its redirect and its error pages) say
/// `Referrer-Policy: no-referrer`, so its URL (code and state) is never handed on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_callback_no_referrer() {
    let s = setup().await;
    let b = Browser::new();
    let chain = login(&b, &s.app, "/protected").await;
    let callback = callback_of(&chain);
    assert_eq!(callback.status, 303);
    assert_eq!(
        callback.header("referrer-policy").as_deref(),
        Some("no-referrer")
    );
    let unknown = format!(
        "{}?code=c&state=not-a-login-of-this-browser",
        s.app.url("/authorization-code/callback")
    );
    let page = callback_refused(&s, &b, &unknown, 400, "unknown_state").await;
    assert_eq!(
        page.header("referrer-policy").as_deref(),
        Some("no-referrer")
    );
    let denied = login_case(
        &s,
        &[Fault::AuthResponseErrorHtml],
        Expect::Rejected(401, "provider_error"),
    )
    .await;
    assert_eq!(
        denied.header("referrer-policy").as_deref(),
        Some("no-referrer")
    );
    s.stop().await;
}

/// `hard-callback-head`: `HEAD` on the callback is 405 and redeems nothing; the `GET` that
/// follows completes the login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_callback_head() {
    let s = setup().await;
    let b = Browser::new();
    let callback = callback_url(&b, &s.app).await;
    let token_calls = s.issuer.counters().token;
    let head = b.head(&callback).await;
    assert_eq!(head.status, 405);
    assert_eq!(head.header("allow").as_deref(), Some("GET"));
    assert!(head.set_cookies.is_empty(), "{:?}", head.set_cookies);
    assert_eq!(s.issuer.counters().token, token_calls, "no code exchange");
    assert_eq!(
        tx_cookies(&b, &s.app).len(),
        1,
        "the login is still pending"
    );
    assert_eq!(b.get(&callback).await.status, 303);
    assert_eq!(b.get(&s.app.url("/")).await.body, "Hi Ada Lovelace!");
    s.stop().await;
}

/// `hard-callback-request-line`: Rocket logs request lines at `normal` (the test apps' level);
/// the callback's shows `?redacted`, and the code and state appear in no log line, while the
/// login still completes (the callback reads the query the browser sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_callback_request_line() {
    let s = setup().await;
    let b = Browser::new();
    let callback = callback_url(&b, &s.app).await;
    let query = query_of(&callback);
    assert_eq!(b.get(&callback).await.status, 303);
    assert_eq!(b.get(&s.app.url("/")).await.body, "Hi Ada Lovelace!");
    assert_not_logged(&query["code"]);
    assert_not_logged(&query["state"]);
    assert_logged(&["GET /authorization-code/callback?redacted"]);
    s.stop().await;
}

/// `hard-public-secret-key`: the shipped Rocket.toml's development `secret_key` outside the
/// debug profile is warned about at launch, naming the profile and what to set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_public_secret_key() {
    init_logging();
    let issuer = DevIssuer::start().await.unwrap();
    let figment = app_figment(issuer.issuer_url(), free_port())
        .merge(("secret_key", PUBLIC_DEVELOPMENT_KEY))
        .select("hard-public-key");
    let app = launch(test_app(figment))
        .await
        .expect("launches, with a warning");
    assert_logged(&[
        "profile is `hard-public-key`",
        "INSECURE",
        "public development key",
        "ROCKET_SECRET_KEY",
    ]);
    app.stop().await;
    issuer.stop().await;
}

/// `hard-post-logout-landing`: no `state` is sent to end_session, so the browser lands on the
/// post-logout URL exactly, with nothing unchecked in its address bar.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_post_logout_landing() {
    let s = setup().await;
    let b = Browser::new();
    login(&b, &s.app, "/").await;
    let out = b
        .post_form(&s.app.url("/logout"), &[], &[("origin", &s.app.base)])
        .await;
    assert_eq!(out.status, 303);
    let end_session = query_of(&out.location().unwrap());
    assert!(!end_session.contains_key("state"), "{end_session:?}");
    let home = b.follow(out).await.pop().unwrap();
    assert_eq!(home.url, s.app.url("/"));
    assert_eq!(home.body, "Hello, visitor");
    s.stop().await;
}

/// `hard-cookie-prefix-every-provider`: with provider tables, `oidc.cookie_prefix` names every
/// provider's pending logins and the session, whichever provider signed in; each provider's
/// callback refuses `HEAD` and keeps its query out of the request log, and the signed-in
/// page is cache-safe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_cookie_prefix_every_provider() {
    let s = setup_providers(&["a", "b"], |f| f.merge(("oidc.cookie_prefix", "multi"))).await;
    let b = Browser::new();
    let callback_a = provider_callback_url(&b, &s.app, "a").await;
    let callback_b = provider_callback_url(&b, &s.app, "b").await;
    let names: Vec<String> = b.cookies(&s.app.base).into_keys().collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.iter().all(|n| n.starts_with("multi_tx_")),
        "{names:?}"
    );

    for callback in [&callback_a, &callback_b] {
        let head = b.head(callback).await;
        assert_eq!(head.status, 405, "{callback}");
        assert!(head.set_cookies.is_empty(), "{:?}", head.set_cookies);
    }
    assert_eq!(b.cookies(&s.app.base).len(), 2, "both logins still pending");

    let done = b.get(&callback_b).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_not_logged(&query_of(&callback_b)["code"]);
    let me = b.api_client().get(&s.app.url("/whoami")).await;
    assert_eq!(me.json()["provider"], "b");
    assert_eq!(
        me.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    let names: Vec<String> = b.cookies(&s.app.base).into_keys().collect();
    assert!(names.contains(&"multi_session".to_string()), "{names:?}");
    assert!(
        names.iter().all(|n| n.starts_with("multi_")),
        "no cookie under the default names: {names:?}"
    );
    let done = b.get(&callback_a).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        b.api_client().get(&s.app.url("/whoami")).await.json()["provider"],
        "a"
    );
    let names: Vec<String> = b.cookies(&s.app.base).into_keys().collect();
    assert_eq!(names, ["multi_session"], "no login left pending");
    s.stop().await;
}
