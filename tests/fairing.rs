//! Ignite: configuration, discovery and the credential check against the development issuer
//! over real HTTP. Launch either succeeds with the routes mounted, or fails with the fairing
//! named and a log line that says what to change.

mod common;

use std::time::{Duration, Instant};

use common::*;
use rocket::error::ErrorKind;
use rocket::figment::Figment;
use rocket_openid_connect::dev_issuer::{DevClient, DevIssuer, Fault};

/// Asserts that launching the test app from `figment` failed because of our fairing, with a log
/// line containing all of `parts`; `parts[0]` is unique to the test (its client id or issuer
/// URL), since all tests of this binary share the log.
async fn launch_fails(figment: Figment, parts: &[&str]) {
    assert_fairing_fails(test_app(figment)).await;
    assert_logged(parts);
}

/// An issuer with a client of a unique id, and the figment of an app using it.
async fn issuer_with_client(id: &str, secret: &str) -> (DevIssuer, Figment) {
    init_logging();
    let issuer = DevIssuer::start().await.unwrap();
    issuer.register_client(
        DevClient::confidential(id, secret)
            .redirect_uri("http://127.0.0.1/authorization-code/callback"),
    );
    let figment = app_figment(issuer.issuer_url(), free_port())
        .merge(("oidc.client_id", id))
        .merge(("oidc.client_secret", secret));
    (issuer, figment)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn right_credentials_launch_and_mount_the_routes() {
    let (issuer, figment) = issuer_with_client("client-right", "s3cret:with%odd+chars").await;
    let app = launch(test_app(figment)).await.expect("launches");
    let counters = issuer.counters();
    assert_eq!(counters.discovery, 1);
    assert_eq!(counters.jwks, 1);
    assert_eq!(counters.token, 1, "one credential check");

    let browser = Browser::new();
    let login = browser.get(&app.url("/login")).await;
    assert_eq!(login.status, 303);
    assert!(login
        .location()
        .unwrap()
        .starts_with(&format!("{}/", issuer.issuer_url())));
    assert_eq!(
        browser
            .get(&app.url("/authorization-code/callback"))
            .await
            .status,
        400
    );
    assert_eq!(
        browser.get(&app.url("/logout")).await.status,
        200,
        "GET /logout shows a form"
    );
    assert_logged(&["client-right", "1/4 configuration valid"]);
    assert_logged(&["3/4 client credentials: credentials accepted"]);
    assert_not_logged("s3cret");
    app.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_fails_launch_and_names_the_keys_to_check() {
    let (issuer, figment) = issuer_with_client("client-wrong-secret", "right-secret").await;
    let figment = figment.merge(("oidc.client_secret", "wrong-secret-value"));
    launch_fails(
        figment,
        &[
            "rejected client_id `client-wrong-secret`",
            "invalid_client",
            "oidc.client_secret",
        ],
    )
    .await;
    assert_not_logged("wrong-secret-value");
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_from_rocket_oidc_client_secret_variable_is_used() {
    // Rocket's figment maps ROCKET_OIDC_CLIENT_SECRET to the top-level key `oidc_client_secret`.
    let (issuer, figment) = issuer_with_client("client-env-secret", "env-secret").await;
    let figment = figment
        .merge(("oidc.client_secret", "wrong-in-toml"))
        .merge(("oidc_client_secret", "env-secret"));
    let app = launch(test_app(figment))
        .await
        .expect("the variable overrides the table");
    app.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_client_id_fails_launch() {
    let (issuer, figment) = issuer_with_client("client-known", "secret").await;
    let figment = figment.merge(("oidc.client_id", "client-unknown-xyz"));
    launch_fails(
        figment,
        &["rejected client_id `client-unknown-xyz`", "oidc.client_id"],
    )
    .await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_check_can_be_switched_off() {
    let (issuer, figment) = issuer_with_client("client-nocheck", "right").await;
    let figment = figment
        .merge(("oidc.client_secret", "wrong"))
        .merge(("oidc.check_credentials", false));
    let app = launch(test_app(figment))
        .await
        .expect("launches without the check");
    assert_eq!(issuer.counters().token, 0);
    app.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_5xx_at_the_credential_check_fails_launch() {
    let (issuer, figment) = issuer_with_client("client-5xx", "s").await;
    issuer.set_fault(Fault::TokenServerError);
    launch_fails(
        figment,
        &[
            issuer.issuer_url(),
            "could not check the client credentials",
            "HTTP 5",
        ],
    )
    .await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_issuer_fails_launch_quickly() {
    init_logging();
    let port = free_port(); // nothing listens there
    let issuer = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    launch_fails(
        app_figment(&issuer, free_port()),
        &[
            &issuer,
            "could not discover the issuer",
            "could not connect",
            "oidc.issuer",
        ],
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// An issuer URL with a wrong path: the advice is about the URL, not the host (issue 12 item 9).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_not_found_says_the_issuer_url_is_wrong() {
    init_logging();
    let issuer = DevIssuer::start().await.unwrap();
    let wrong = format!("{}/realms/nope", issuer.issuer_url());
    launch_fails(
        app_figment(&wrong, free_port()),
        &[
            &wrong,
            "the server answered HTTP 404; there is no discovery document at that URL",
            "check that oidc.issuer is the issuer URL itself",
            "this crate appends /.well-known/openid-configuration",
        ],
    )
    .await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_discovery_fails_within_the_timeout() {
    init_logging();
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_fault(Fault::Delay(Duration::from_secs(5)));
    let figment =
        app_figment(issuer.issuer_url(), free_port()).merge(("oidc.http_timeout_secs", 1));
    let started = Instant::now();
    launch_fails(
        figment,
        &[
            issuer.issuer_url(),
            "no complete answer within 1 s",
            "oidc.http_timeout_secs",
        ],
    )
    .await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_discovery_documents_fail_launch_with_the_right_message() {
    let cases: Vec<(Fault, &[&str])> = vec![
        (
            Fault::DiscoveryServerError,
            &["could not discover", "HTTP 5"],
        ),
        (
            Fault::DiscoveryNotJson,
            &["could not discover", "not the expected JSON"],
        ),
        (
            Fault::DiscoveryWrongIssuer,
            &["names issuer", "must match character for character"],
        ),
        (
            Fault::HugeDiscovery { mb: 50 },
            &["could not discover", "exceeds"],
        ),
        (Fault::HugeJwks { mb: 50 }, &["signing keys", "exceeds"]),
    ];
    init_logging();
    for (fault, expected) in cases {
        let issuer = DevIssuer::start().await.unwrap();
        issuer.set_fault(fault.clone());
        let parts = [&[issuer.issuer_url()], expected].concat();
        launch_fails(app_figment(issuer.issuer_url(), free_port()), &parts).await;
        issuer.stop().await;
    }
}

/// A discovery document without `jwks_uri` or `token_endpoint` is completed from the RFC 8414
/// metadata of the same issuer (issue 12 item 8); where neither has them, launch fails (see
/// `provider_no_code_flow` in the conformance suite).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_missing_from_discovery_are_taken_from_rfc8414() {
    init_logging();
    for (fault, member) in [
        (Fault::DiscoveryMissingJwksUri, "jwks_uri"),
        (Fault::DiscoveryMissingTokenEndpoint, "token_endpoint"),
    ] {
        let issuer = DevIssuer::start().await.unwrap();
        issuer.set_fault(fault);
        let app = launch(test_app(app_figment(issuer.issuer_url(), free_port())))
            .await
            .expect("launches");
        assert_logged(&[
            &format!(
                "{}/.well-known/oauth-authorization-server",
                issuer.issuer_url()
            ),
            &format!("took {member}"),
        ]);
        let counters = issuer.counters();
        assert_eq!(counters.authorization_server_metadata, 1);
        assert_eq!((counters.jwks, counters.token), (1, 1));
        app.stop().await;
        issuer.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_configuration_fails_before_any_network_call() {
    init_logging();
    let issuer = DevIssuer::start().await.unwrap();
    let figment = app_figment(issuer.issuer_url(), free_port())
        .merge(("oidc.client_id", "{clientId}"))
        .merge(("oidc.scopes", vec!["profile"]));
    launch_fails(figment, &["oidc.client_id", "{clientId}"]).await;
    assert_logged(&["oidc.scopes", "openid"]);
    assert_eq!(
        issuer.counters().discovery,
        0,
        "no network call before validation passes"
    );
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_paths_are_mounted() {
    init_logging();
    let issuer = DevIssuer::start().await.unwrap();
    issuer.register_client(
        DevClient::confidential("client-paths", "s").redirect_uri("http://127.0.0.1/auth/cb"),
    );
    issuer.set_auto_login(Some("grace"));
    let figment = app_figment(issuer.issuer_url(), free_port())
        .merge(("oidc.client_id", "client-paths"))
        .merge(("oidc.client_secret", "s"))
        .merge(("oidc.login_path", "/signin"))
        .merge(("oidc.callback_path", "/auth/cb"))
        .merge(("oidc.logout_path", "/signout"));
    let app = launch(test_app(figment)).await.expect("launches");
    let browser = Browser::new();
    // /login is not ours any more: the app's catch-all guarded route sends the browser to /signin.
    let old = browser.get(&app.url("/login")).await;
    assert_eq!(
        old.location().as_deref(),
        Some("/signin?return_to=%2Flogin")
    );
    let done = browser
        .visit(&app.url("/signin?return_to=/protected"))
        .await;
    assert_eq!(done.status, 200, "{done:?}");
    assert!(done.body.contains("Only for"), "{}", done.body);
    app.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guards_without_the_fairing_stop_launch() {
    init_logging();
    let figment = rocket::Config::figment()
        .merge(("port", 0))
        .merge(("log_level", "normal"));
    let rocket = rocket::custom(figment).mount("/", rocket::routes![app_routes::protected]);
    let err = launch(rocket).await.err().expect("launch must fail");
    assert!(
        matches!(err.kind(), ErrorKind::SentinelAborts(_)),
        "{:?}",
        err.kind()
    );
    assert_logged(&[
        "OpenID Connect fairing is not attached",
        "AuthenticatedUser",
    ]);
}

#[rocket::catch(401)]
fn app_401(req: &rocket::Request<'_>) -> rocket_openid_connect::Unauthorized {
    rocket_openid_connect::unauthorized(req)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_with_its_own_401_catcher_launches_and_keeps_login_redirects() {
    init_logging();
    let issuer = DevIssuer::start().await.unwrap();
    let rocket = test_app(app_figment(issuer.issuer_url(), free_port()))
        .register("/", rocket::catchers![app_401]);
    let app = launch(rocket).await.expect("no catcher collision");
    let r = Browser::new().get(&app.url("/protected")).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location().as_deref(),
        Some("/login?return_to=%2Fprotected")
    );
    app.stop().await;
    issuer.stop().await;
}
