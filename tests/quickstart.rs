//! The quickstart example end to end, as built by the example's own code: visitor page, login
//! through the development issuer's form, greeting by name, /protected, /api/me, logout; and
//! its /admin page and login hook, signed in with `rocket_openid_connect::testing`.

mod common;

#[allow(dead_code)]
#[path = "../examples/quickstart.rs"]
mod quickstart;

use common::*;
use rocket::http::Status;
use rocket_openid_connect::testing::{sign_in, try_sign_in, TestServer, TestingError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_signs_in_through_the_development_issuer_form() {
    init_logging();
    let port = free_port();
    // What `cargo run --example quickstart` reads, on a free port; no oidc settings, so the
    // example starts its own development issuer.
    let figment = rocket::Config::figment()
        .merge(("port", port))
        .merge(("secret_key", TEST_SECRET_KEY))
        .merge(("shutdown.ctrlc", false))
        .merge(("shutdown.grace", 0))
        .merge(("shutdown.mercy", 0))
        .merge(("oidc.app_base_url", format!("http://127.0.0.1:{port}")));
    let app = launch(quickstart::app(figment).await.expect("example builds"))
        .await
        .expect("launches");
    let b = Browser::new();

    let home = b.get(&app.url("/")).await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Hello, visitor"), "{}", home.body);
    assert!(home.body.contains("href=\"/login\""));

    // /protected → /login → the issuer's login page.
    let page = b.visit(&app.url("/protected")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("name=\"username\" value=\"ada\""),
        "{}",
        page.body
    );
    let request_id = page
        .body
        .split("name=\"request_id\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the login form carries a request id")
        .to_owned();
    let issuer = origin_of(&page.url);
    let submitted = b
        .post_form(
            &format!("{issuer}/login"),
            &[
                ("request_id", &request_id),
                ("username", "ada"),
                ("action", "login"),
            ],
            &[],
        )
        .await;
    assert_eq!(submitted.status, 303);
    let protected = b.follow(submitted).await.pop().unwrap();
    assert_eq!(protected.url, app.url("/protected"));
    assert!(
        protected
            .body
            .contains("Signed in as <strong>Ada Lovelace</strong>"),
        "{}",
        protected.body
    );
    assert!(protected.body.contains("ada@example.com"));
    assert!(
        protected
            .body
            .contains("Sign-in number 1 of this account since the app started"),
        "the login hook's app data: {}",
        protected.body
    );
    assert!(protected.body.contains("Refresh token: yes"));
    assert!(
        protected
            .body
            .contains("Access token expires: <span id=\"access-expires\">20"),
        "an expiry date is shown"
    );
    let status = |page: &Resp| {
        page.body
            .split("<span id=\"refresh-status\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(status(&protected), "not needed");

    // An hour later the access token has expired (aged in the cookie, not waited for): the
    // page refreshes it before it renders, and says so.
    let mut aged = browser_session(&b, &app);
    let expired = time::OffsetDateTime::now_utc().unix_timestamp() - 1;
    aged.access_expires_at = Some(expired);
    set_browser_session(&b, &app, &aged);
    let refreshed = b.get(&app.url("/protected")).await;
    assert_eq!(refreshed.status, 200);
    assert_eq!(status(&refreshed), "refreshed on this request");
    let after = browser_session(&b, &app);
    assert!(
        after.access_expires_at > Some(expired + 3000),
        "a new one-hour token"
    );
    assert_ne!(after.access_token, aged.access_token);
    assert_ne!(after.refresh_token, aged.refresh_token, "rotated");
    assert_eq!(status(&b.get(&app.url("/protected")).await), "not needed");

    let home = b.get(&app.url("/")).await;
    assert!(home.body.contains("Hi Ada Lovelace!"), "{}", home.body);
    assert!(home
        .body
        .contains("<form method=\"post\" action=\"/logout\">"));

    let me = b.api_client().get(&app.url("/api/me")).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["name"], "Ada Lovelace");
    assert_eq!(me.json()["preferred_username"], "ada");
    let anonymous = Browser::api().get(&app.url("/api/me")).await;
    assert_eq!(anonymous.status, 401);

    let logout = b
        .post_form(
            &app.url("/logout"),
            &[],
            &[("origin", &app.base), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(logout.status, 303);
    assert!(logout
        .location()
        .unwrap()
        .starts_with(&format!("{issuer}/end_session?")));
    let back = b.follow(logout).await.pop().unwrap();
    assert!(back.url.starts_with(&app.url("/")), "{}", back.url);
    assert!(back.body.contains("Hello, visitor"), "{}", back.body);
    assert_eq!(b.get(&app.url("/protected")).await.status, 303);
    app.stop().await;
}

/// `QUICKSTART_DEV_ISSUERS=2`: two development issuers as the provider tables `a` and `b`;
/// `/login` offers both, each signs in (the same user name at two issuers: two identities) and
/// out at its own issuer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_with_two_development_issuers_offers_both() {
    init_logging();
    let port = free_port();
    let figment = rocket::Config::figment()
        .merge(("port", port))
        .merge(("secret_key", TEST_SECRET_KEY))
        .merge(("shutdown.ctrlc", false))
        .merge(("shutdown.grace", 0))
        .merge(("shutdown.mercy", 0))
        .merge(("oidc.app_base_url", format!("http://127.0.0.1:{port}")));
    let app = launch(
        quickstart::app_with(figment, 2)
            .await
            .expect("example builds"),
    )
    .await
    .expect("launches");
    let b = Browser::new();
    let home = b.get(&app.url("/")).await;
    assert!(home.body.contains("href=\"/login\""), "{}", home.body);
    let choice = b.get(&app.url("/login")).await;
    assert_eq!(choice.status, 200);
    for name in ["a", "b"] {
        let label = format!(
            "<a href=\"/login/{name}\">Sign in with Development issuer {}</a>",
            name.to_uppercase()
        );
        assert!(choice.body.contains(&label), "{}", choice.body);
    }

    let mut issuers = Vec::new();
    for name in ["a", "b"] {
        // The issuer's login page, then its form.
        let page = b
            .visit(&app.url(&format!("/login/{name}?return_to=%2Fprotected")))
            .await;
        let request_id = page
            .body
            .split("name=\"request_id\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("the login form carries a request id")
            .to_owned();
        let issuer = origin_of(&page.url);
        let submitted = b
            .post_form(
                &format!("{issuer}/login"),
                &[
                    ("request_id", &request_id),
                    ("username", "grace"),
                    ("action", "login"),
                ],
                &[],
            )
            .await;
        let protected = b.follow(submitted).await.pop().unwrap();
        assert_eq!(protected.url, app.url("/protected"));
        // minijinja escapes `/` in HTML.
        let shown = issuer.replace('/', "&#x2f;");
        assert!(
            protected.body.contains(&format!(
                "Issuer: <code>{shown}</code> (provider <code>{name}</code>)"
            )),
            "{}",
            protected.body
        );
        let home = b.get(&app.url("/")).await;
        assert!(
            home.body
                .contains(&format!("Signed in with provider <code>{name}</code>.")),
            "{}",
            home.body
        );
        let logout = b
            .post_form(
                &app.url("/logout"),
                &[],
                &[("origin", &app.base), ("sec-fetch-site", "same-origin")],
            )
            .await;
        assert!(
            logout
                .location()
                .unwrap()
                .starts_with(&format!("{issuer}/end_session?")),
            "{name}: signed out at its issuer"
        );
        let back = b.follow(logout).await.pop().unwrap();
        assert!(back.body.contains("Hello, visitor"), "{}", back.body);
        issuers.push(issuer);
    }
    assert_ne!(issuers[0], issuers[1], "two issuers");
    app.stop().await;
}

/// What `cargo run --example quickstart` reads, on a free port: no oidc settings, so the
/// example starts its own development issuer.
fn quickstart_figment() -> rocket::figment::Figment {
    let port = free_port();
    rocket::Config::figment()
        .merge(("port", port))
        .merge(("secret_key", TEST_SECRET_KEY))
        .merge(("log_level", "normal"))
        .merge(("oidc.app_base_url", format!("http://127.0.0.1:{port}")))
}

const HTML: &[(&str, &str)] = &[("Accept", "text/html"), ("Sec-Fetch-Mode", "navigate")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_admin_page_is_for_admins_only() {
    init_logging();
    let app = quickstart::app(quickstart_figment())
        .await
        .expect("example builds");
    let server = TestServer::start(app).await.expect("launches");

    let visitor = server.get_with("/admin", HTML).await;
    assert_eq!(visitor.status(), Status::SeeOther);
    assert_eq!(
        visitor.header("location"),
        Some("/login?return_to=%2Fadmin")
    );

    sign_in(&server, "ada").await;
    let admin = server.get_with("/admin", HTML).await;
    assert_eq!(admin.status(), Status::Ok, "{}", admin.body());
    assert!(
        admin
            .body()
            .contains("Only members of the <code>admins</code> group"),
        "{}",
        admin.body()
    );
    assert!(admin.body().contains("Ada Lovelace"));

    sign_in(&server, "grace").await;
    let refused = server.get_with("/admin", HTML).await;
    assert_eq!(refused.status(), Status::Forbidden);
    assert_eq!(refused.header("location"), None, "never a login redirect");
    assert!(
        refused
            .body()
            .contains("signed in as <strong>Grace Hopper</strong>"),
        "{}",
        refused.body()
    );
    let api = server.get("/admin").await;
    assert_eq!(api.status(), Status::Forbidden);
    assert!(
        api.body().contains("\"error\":\"forbidden\""),
        "{}",
        api.body()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_login_hook_counts_sign_ins_and_refuses_alan() {
    init_logging();
    let app = quickstart::app(quickstart_figment())
        .await
        .expect("example builds");
    let server = TestServer::start(app).await.expect("launches");
    for n in 1..=2 {
        sign_in(&server, "grace").await;
        let page = server.get_with("/protected", HTML).await;
        assert!(
            page.body()
                .contains(&format!("Sign-in number {n} of this account")),
            "{}",
            page.body()
        );
    }
    let e = try_sign_in(&server, "alan").await.unwrap_err();
    let TestingError::SignInFailed { status, body } = e else {
        panic!("{e:?}")
    };
    assert_eq!(status, 403);
    assert!(
        body.contains("Alan&#x27;s account is disabled in this app"),
        "{body}"
    );
    server.stop().await;
}
