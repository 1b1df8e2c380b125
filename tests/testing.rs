//! The testing API for users' own apps (`rocket_openid_connect::testing`): signing in, out,
//! and letting sessions expire, with `rocket::local` clients and with a real server.

mod common;

use std::time::Duration;

use common::*;
use rocket::figment::Figment;
use rocket::http::{Accept, Status};
use rocket::local::asynchronous::Client;
use rocket::serde::json::Value;
use rocket::{get, routes, Build, Rocket};
use rocket_openid_connect::dev_issuer::{
    DevClient, DevIssuer, DevUser, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID,
};
use rocket_openid_connect::testing::{
    self, advance_clock, expire_session, sign_in, sign_in_at, sign_out, try_sign_in, TestServer,
    TestingError,
};
use rocket_openid_connect::{AuthenticatedUser, OidcFairing, UserContext};

#[get("/me")]
fn me(user: AuthenticatedUser) -> String {
    user.userinfo.sub.clone()
}

#[get("/whoami")]
fn whoami(user: Option<UserContext>) -> String {
    user.map_or_else(|| "visitor".into(), |u| u.userinfo.sub)
}

#[get("/tenant")]
fn tenant(user: AuthenticatedUser) -> String {
    user.userinfo
        .other
        .get("tenant")
        .map(Value::to_string)
        .unwrap_or_default()
}

fn app(figment: Figment) -> Rocket<Build> {
    rocket::custom(figment)
        .attach(OidcFairing::new())
        .mount("/", routes![me, whoami, tenant])
}

fn figment(issuer: &DevIssuer) -> Figment {
    testing::figment(issuer)
        .merge(("secret_key", TEST_SECRET_KEY))
        .merge(("log_level", "normal"))
        .merge(("cli_colors", false))
}

async fn issuer() -> DevIssuer {
    init_logging();
    DevIssuer::start().await.unwrap()
}

async fn tracked(issuer: &DevIssuer) -> Client {
    Client::tracked(app(figment(issuer))).await.unwrap()
}

async fn body(client: &Client, path: &str) -> String {
    client
        .get(path.to_owned())
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap_or_default()
}

#[rocket::async_test]
async fn sign_in_signs_a_tracked_local_client_in_and_replaces_the_user() {
    let issuer = issuer().await;
    let client = tracked(&issuer).await;
    assert_eq!(body(&client, "/whoami").await, "visitor");
    sign_in(&client, "ada").await;
    assert_eq!(body(&client, "/me").await, "ada-lovelace-1815");
    sign_in(&client, "grace").await;
    assert_eq!(body(&client, "/me").await, "grace-hopper-1906");
    // A real login each time: authorize, login form, token and userinfo at the issuer.
    let counters = issuer.counters();
    assert_eq!(counters.authorize, 2);
    assert_eq!(counters.userinfo, 2);
}

#[rocket::async_test]
async fn sign_in_with_a_dev_user_adds_it_to_the_issuer() {
    let issuer = issuer().await;
    let client = tracked(&issuer).await;
    let wile = DevUser::new("wile-1", "wile").claim("tenant", "acme");
    sign_in(&client, &wile).await;
    assert_eq!(body(&client, "/me").await, "wile-1");
    assert_eq!(body(&client, "/tenant").await, "\"acme\"");
    // Declared again with other claims: the new claims count.
    sign_in(&client, wile.claim("tenant", "globex")).await;
    assert_eq!(body(&client, "/tenant").await, "\"globex\"");
}

#[rocket::async_test]
async fn sign_in_finds_a_multi_tenant_issuer_by_its_tenant_issuer_url() {
    init_logging();
    let issuer = DevIssuer::builder()
        .multi_tenant(DEFAULT_TENANT_ID)
        .start()
        .await
        .unwrap();
    let figment =
        figment(&issuer).merge(("oidc.issuer", issuer.tenant_issuer_url(DEFAULT_TENANT_ID)));
    let client = Client::tracked(app(figment)).await.unwrap();
    sign_in(&client, DevUser::new("tenant-user-1", "tess")).await;
    assert_eq!(body(&client, "/me").await, "tenant-user-1");
}

#[rocket::async_test]
async fn sign_in_to_a_real_server_keeps_the_session_in_its_jar() {
    let issuer = issuer().await;
    let server = TestServer::start(app(figment(&issuer))).await.unwrap();
    assert!(server.url("/me").starts_with("http://127.0.0.1:"));
    assert_eq!(server.get("/me").await.status(), Status::Unauthorized);
    sign_in(&server, "ada").await;
    let me = server.get("/me").await;
    assert_eq!(me.status(), Status::Ok);
    assert_eq!(me.body(), "ada-lovelace-1815");

    // Another HTTP client with the jar's cookies is signed in too.
    let other = reqwest::Client::new()
        .get(server.url("/me"))
        .header("Cookie", server.cookie_header().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    assert_eq!(other.text().await.unwrap(), "ada-lovelace-1815");

    sign_out(&server).await;
    assert_eq!(server.get("/me").await.status(), Status::Unauthorized);
    assert_eq!(issuer.counters().end_session, 1);
    server.stop().await;
}

#[rocket::async_test]
async fn sign_out_ends_the_session_here_and_at_the_issuer() {
    let issuer = issuer().await;
    let client = tracked(&issuer).await;
    sign_in(&client, "ada").await;
    sign_out(&client).await;
    assert_eq!(body(&client, "/whoami").await, "visitor");
    let counters = issuer.counters();
    assert_eq!(counters.end_session, 1);
    assert!(
        counters.revocation >= 1,
        "the tokens were revoked: {counters:?}"
    );
}

#[rocket::async_test]
async fn expire_session_makes_the_next_request_a_visitor_s() {
    let issuer = issuer().await;
    let client = tracked(&issuer).await;
    sign_in(&client, "ada").await;
    expire_session(&client);
    let page = client.get("/me").header(Accept::HTML).dispatch().await;
    assert_eq!(
        page.status(),
        Status::SeeOther,
        "a browser is sent to sign in"
    );
    assert_eq!(
        page.headers().get_one("Location"),
        Some("/login?return_to=%2Fme")
    );
    // The stale cookies were expired in the client.
    assert!(client.cookies().get("oidc_session").is_none());
    assert_eq!(
        client.get("/me").dispatch().await.status(),
        Status::Unauthorized
    );
    // A new sign-in after the jump is a fresh session.
    sign_in(&client, "ada").await;
    assert_eq!(body(&client, "/me").await, "ada-lovelace-1815");
}

#[rocket::async_test]
async fn advance_clock_shows_the_idle_lifetime_at_work() {
    let issuer = issuer().await;
    let figment = figment(&issuer).merge(("oidc.session_idle_timeout_secs", 1800));
    let client = Client::tracked(app(figment)).await.unwrap();
    sign_in(&client, "ada").await;
    advance_clock(&client, Duration::from_secs(20 * 60));
    assert_eq!(
        body(&client, "/whoami").await,
        "ada-lovelace-1815",
        "20 min idle"
    );
    // That request renewed the idle lifetime: another 20 minutes are fine, then 31 are not.
    advance_clock(&client, Duration::from_secs(20 * 60));
    assert_eq!(body(&client, "/whoami").await, "ada-lovelace-1815");
    advance_clock(&client, Duration::from_secs(31 * 60));
    assert_eq!(body(&client, "/whoami").await, "visitor");
}

#[rocket::async_test]
async fn an_untracked_client_is_told_to_track_cookies() {
    let issuer = issuer().await;
    let client = Client::untracked(app(figment(&issuer))).await.unwrap();
    let e = try_sign_in(&client, "ada").await.unwrap_err();
    assert!(matches!(e, TestingError::Untracked), "{e:?}");
    assert!(e.to_string().contains("Client::tracked"), "{e}");
}

#[rocket::async_test]
async fn an_unknown_user_is_a_clear_error() {
    let issuer = issuer().await;
    let client = tracked(&issuer).await;
    let e = try_sign_in(&client, "nobody").await.unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("the issuer's login form for `nobody` answered 400"),
        "{text}"
    );
}

#[rocket::async_test]
async fn an_auto_login_for_another_user_is_a_clear_error() {
    let issuer = issuer().await;
    issuer.set_auto_login(Some("grace"));
    let client = tracked(&issuer).await;
    let e = try_sign_in(&client, "ada").await.unwrap_err();
    assert!(e.to_string().contains("set_auto_login(None)"), "{e}");
    // The auto-login user itself signs in.
    sign_in(&client, "grace").await;
    assert_eq!(body(&client, "/me").await, "grace-hopper-1906");
}

#[get("/plain")]
fn plain() -> &'static str {
    "no guard"
}

#[rocket::async_test]
async fn sign_in_without_the_fairing_says_so() {
    init_logging();
    let client =
        Client::tracked(rocket::custom(rocket::Config::figment()).mount("/", routes![plain]))
            .await
            .unwrap();
    let e = try_sign_in(&client, "ada").await.unwrap_err();
    assert!(matches!(e, TestingError::NotConfigured), "{e:?}");
}

#[get("/provider")]
fn provider(user: AuthenticatedUser) -> String {
    format!("{} {}", user.provider.name.as_str(), user.userinfo.sub)
}

#[rocket::async_test]
async fn sign_in_at_names_the_provider_of_an_app_with_several() {
    init_logging();
    let mut issuers = Vec::new();
    let mut figment = rocket::Config::figment()
        .merge(("secret_key", TEST_SECRET_KEY))
        .merge(("log_level", "normal"))
        .merge(("oidc.app_base_url", "http://127.0.0.1:8000"));
    for name in ["a", "b"] {
        let client = DevClient::confidential(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
            .redirect_uri(format!(
                "http://127.0.0.1/authorization-code/callback/{name}"
            ))
            .post_logout_redirect_uri("http://127.0.0.1/");
        let issuer = DevIssuer::builder().client(client).start().await.unwrap();
        let key = |k: &str| format!("oidc.providers.{name}.{k}");
        figment = figment
            .merge((key("issuer"), issuer.issuer_url()))
            .merge((key("client_id"), DEFAULT_CLIENT_ID))
            .merge((key("client_secret"), DEFAULT_CLIENT_SECRET));
        issuers.push(issuer);
    }
    let rocket = rocket::custom(figment)
        .attach(OidcFairing::new())
        .mount("/", routes![provider]);
    let client = Client::tracked(rocket).await.unwrap();
    let e = try_sign_in(&client, "ada").await.unwrap_err();
    assert!(matches!(e, TestingError::Provider(_)), "{e:?}");
    assert!(e.to_string().contains("sign_in_at"), "{e}");
    sign_in_at(&client, "b", "grace").await;
    assert_eq!(body(&client, "/provider").await, "b grace-hopper-1906");
    sign_in_at(&client, "a", DevUser::new("only-at-a", "ann")).await;
    assert_eq!(body(&client, "/provider").await, "a only-at-a");
    let e = testing::try_sign_in_at(&client, "c", "ada")
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("no provider `c`; it has `a`, `b`"),
        "{e}"
    );
}
