//! The issuer's request lines in the app's log: labelled, redacted, and never at the cost of
//! the app's own lines or log level.
//!
//! The `log` logger and its level are process-wide, and the other tests of this binary start
//! Rockets (which install Rocket's logger) in parallel. So each test here runs its body in a
//! fresh process: the test binary itself, restarted with `--exact <this test>`.

use std::process::Command;
use std::sync::Mutex;

use openidconnect::{OAuth2TokenResponse, TokenResponse};
use rocket::config::LogLevel;
use rocket::fairing::AdHoc;
use rocket::serde::json::serde_json::Value;
use rocket::tokio::sync::oneshot;
use rocket_openid_connect::dev_issuer::{
    DevIssuer, Fault, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID,
};

use crate::*;

/// Set in the child process to the name of the test it runs.
const CHILD: &str = "DEV_ISSUER_LOG_TEST_CHILD";

/// Runs `body` in a process of its own: in the parent, restarts this binary for `test` alone and
/// asserts that it passed; in that child, runs `body`.
fn in_own_process(test: &str, body: impl FnOnce()) {
    if std::env::var(CHILD).as_deref() == Ok(test) {
        body();
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, test)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{test} failed in its own process:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every line logged, at every level, ANSI colours removed.
static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = strip_ansi(&record.args().to_string());
            LINES.lock().unwrap().push(line);
        }
    }

    fn flush(&self) {}
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte (a letter).
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[rocket::get("/app-home?<visit>")]
fn home(visit: Option<u32>) -> String {
    format!("visit {visit:?}")
}

/// Launches an app Rocket at `level` on a free loopback port; returns its URL and shutdown.
async fn launch_app(level: LogLevel) -> (String, rocket::Shutdown) {
    let config = rocket::Config {
        address: std::net::Ipv4Addr::LOCALHOST.into(),
        port: 0,
        log_level: level,
        cli_colors: false,
        ..rocket::Config::debug_default()
    };
    let (tx, rx) = oneshot::channel();
    let rocket = rocket::custom(config)
        .mount("/", rocket::routes![home])
        .attach(AdHoc::on_liftoff("app port", move |rocket| {
            Box::pin(async move {
                let _ = tx.send(format!("http://127.0.0.1:{}", rocket.config().port));
            })
        }))
        .ignite()
        .await
        .unwrap();
    let shutdown = rocket.shutdown();
    rocket::tokio::spawn(rocket.launch());
    (rx.await.unwrap(), shutdown)
}

#[test]
fn issuer_request_lines_are_labelled_and_redacted() {
    in_own_process(
        "logs::issuer_request_lines_are_labelled_and_redacted",
        || {
            log::set_boxed_logger(Box::new(Capture)).expect("the first logger of this process");
            log::set_max_level(LogLevel::Normal.into());
            rocket::execute(whole_login_next_to_an_app());
        },
    );
}

/// Everything a client does, with an app beside the issuer; then the log is checked.
async fn whole_login_next_to_an_app() {
    let issuer = DevIssuer::start().await.unwrap();
    let (app, app_shutdown) = launch_app(LogLevel::Normal).await;
    let mut secrets: Vec<(&str, String)> = Vec::new();

    // A login through the form (authorize with state, nonce, PKCE and a login_hint; POST /login).
    let client = default_client(discover(&issuer).await.unwrap());
    let request = authorization_request(&client, &["profile", "email"]);
    let url = format!("{}&login_hint=grace", request.url);
    let callback = login_with_form(&issuer, &url, "grace").await;
    let code = param(&callback, "code").unwrap().to_owned();
    secrets.push(("state", request.state.secret().clone()));
    secrets.push(("nonce", request.nonce.secret().clone()));
    secrets.push(("code", code.clone()));
    secrets.push(("code_verifier", request.verifier.secret().clone()));
    let tokens = exchange(&client, &code, request.verifier).await.unwrap();
    secrets.push(("id_token", tokens.id_token().unwrap().to_string()));

    // A strict login with auto-login: discovery, JWKS, authorize, token, userinfo.
    let login = strict_login(&issuer).await.unwrap();
    secrets.push((
        "callback code",
        param(&login.callback, "code").unwrap().into(),
    ));
    secrets.push((
        "callback state",
        param(&login.callback, "state").unwrap().into(),
    ));
    secrets.push(("id_token", login.id_token.clone()));
    secrets.push(("access_token", login.tokens.access_token().secret().clone()));
    let refresh = login.tokens.refresh_token().unwrap().clone();
    secrets.push(("refresh_token", refresh.secret().clone()));

    // Refresh, revoke, and end_session with the whole ID token in the query.
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http())
        .await
        .unwrap();
    secrets.push((
        "refreshed id_token",
        refreshed.id_token().unwrap().to_string(),
    ));
    let revoked = http()
        .post(format!("{}/revoke", issuer.issuer_url()))
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .form(&[("token", refreshed.refresh_token().unwrap().secret())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let ended = http()
        .get(format!("{}/end_session", issuer.issuer_url()))
        .query(&[
            ("id_token_hint", login.id_token.as_str()),
            ("post_logout_redirect_uri", "http://localhost:48123/"),
            ("state", "logout-state-0123456789"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 303);
    secrets.push(("logout state", "logout-state-0123456789".into()));

    // The app's own request, with its own query.
    let page = http()
        .get(format!("{app}/app-home?visit=7"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.text().await.unwrap(), "visit Some(7)");
    app_shutdown.notify();
    issuer.stop().await;

    let lines = LINES.lock().unwrap().clone();
    let log = lines.join("\n");
    for (what, secret) in &secrets {
        assert!(secret.len() >= 16, "{what} is long enough to be found");
        assert!(
            !log.contains(secret.as_str()),
            "the {what} is in the log:\n{log}"
        );
    }
    // The app's lines are there, untouched.
    assert!(lines.iter().any(|l| l == "GET /app-home?visit=7:"), "{log}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Matched: (home) GET /app-home")),
        "{log}"
    );
    // The issuer's are labelled: each endpoint shows up under /dev-issuer, none bare.
    for expected in [
        "GET /dev-issuer/.well-known/openid-configuration",
        "GET /dev-issuer/jwks",
        "GET /dev-issuer/authorize?redacted:",
        "POST /dev-issuer/login",
        "POST /dev-issuer/token",
        "GET /dev-issuer/userinfo",
        "POST /dev-issuer/revoke",
        "GET /dev-issuer/end_session?redacted:",
        "Matched: (dev issuer: token) POST /dev-issuer/token",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(expected)),
            "no `{expected}` in:\n{log}"
        );
    }
    for path in [
        "/jwks",
        "/authorize",
        "/login",
        "/token",
        "/userinfo",
        "/end_session",
    ] {
        assert!(
            !log.contains(&format!(" {path}")),
            "an unlabelled {path} in:\n{log}"
        );
    }
}

#[test]
fn the_issuer_keeps_the_app_log_level() {
    in_own_process("logs::the_issuer_keeps_the_app_log_level", || {
        rocket::execute(async {
            // Rocket's own logger, as in an app: the app ignites at `normal`, then an issuer
            // starts; it must not switch the app's log off (or on) for the whole process.
            let (_app, app_shutdown) = launch_app(LogLevel::Normal).await;
            assert_eq!(log::max_level(), log::LevelFilter::Info);
            let issuer = DevIssuer::start().await.unwrap();
            assert_eq!(log::max_level(), log::LevelFilter::Info);
            issuer.stop().await;
            log::set_max_level(log::LevelFilter::Warn);
            let issuer = DevIssuer::start().await.unwrap();
            assert_eq!(log::max_level(), log::LevelFilter::Warn);
            issuer.stop().await;
            app_shutdown.notify();
        });
    });
}

#[test]
fn metadata_tenant_and_form_post_requests_are_labelled_and_keep_real_urls() {
    in_own_process(
        "logs::metadata_tenant_and_form_post_requests_are_labelled_and_keep_real_urls",
        || {
            log::set_boxed_logger(Box::new(Capture)).expect("the first logger of this process");
            log::set_max_level(LogLevel::Normal.into());
            rocket::execute(metadata_tenants_and_form_post());
        },
    );
}

/// The routes that came with the metadata faults, the multi-tenant mode and form_post: each is
/// reached through the labelling fairing (its line reads `/dev-issuer/...`), while what it
/// answers (a `Location`, a document's URLs, a form's `action`) names the real paths.
async fn metadata_tenants_and_form_post() {
    let issuer = DevIssuer::start().await.unwrap();
    let base = issuer.issuer_url().to_owned();
    issuer.set_fault(Fault::DiscoveryRedirect {
        status: 302,
        hops: 2,
    });
    let mut url = format!("{base}/.well-known/openid-configuration");
    let mut locations = Vec::new();
    let document: Value = loop {
        let response = http().get(&url).send().await.unwrap();
        if response.status() != 302 {
            assert_eq!(response.status(), 200);
            break response.json().await.unwrap();
        }
        url = response.headers()["location"].to_str().unwrap().to_owned();
        locations.push(url.clone());
    };
    assert_eq!(
        locations,
        [
            format!("{base}/moved/1/openid-configuration"),
            format!("{base}/moved/2/openid-configuration"),
        ]
    );
    assert_eq!(document["token_endpoint"], format!("{base}/token"));
    issuer.clear_faults();
    let rfc8414: Value = http()
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        rfc8414["authorization_endpoint"],
        format!("{base}/authorize")
    );

    // form_post: the code travels in the page, whose action is the client's real redirect_uri.
    issuer.set_auto_login(Some("ada"));
    let client = default_client(discover(&issuer).await.unwrap());
    let request = authorization_request(&client, &[]);
    let page = http()
        .get(format!("{}&response_mode=form_post", request.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("action=\"{REDIRECT_URI}\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("name=\"iss\" value=\"{base}\"")),
        "{html}"
    );
    let code_at = html.find("name=\"code\" value=\"").unwrap() + 19;
    let code = html[code_at..code_at + 43].to_owned();
    issuer.stop().await;

    let tenants = DevIssuer::builder()
        .multi_tenant(DEFAULT_TENANT_ID)
        .start()
        .await
        .unwrap();
    let tenant: Value = http()
        .get(tenants.tenant_discovery_url("common"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        tenant["issuer"],
        format!("{}/{{tenantid}}/v2.0", tenants.issuer_url())
    );
    assert_eq!(
        tenant["token_endpoint"],
        format!("{}/token", tenants.issuer_url())
    );
    tenants.stop().await;

    let lines = LINES.lock().unwrap().clone();
    let log = lines.join("\n");
    assert!(
        !log.contains(&code),
        "the form_post code is in the log:\n{log}"
    );
    for expected in [
        "GET /dev-issuer/.well-known/openid-configuration:",
        "GET /dev-issuer/moved/1/openid-configuration:",
        "GET /dev-issuer/moved/2/openid-configuration:",
        "Matched: (dev issuer: moved_discovery) GET /dev-issuer/moved/<hop>/openid-configuration",
        "GET /dev-issuer/.well-known/oauth-authorization-server:",
        "Matched: (dev issuer: authorization_server_metadata) GET \
         /dev-issuer/.well-known/oauth-authorization-server",
        "GET /dev-issuer/authorize?redacted:",
        "GET /dev-issuer/common/v2.0/.well-known/openid-configuration:",
        "Matched: (dev issuer: tenant_discovery) GET \
         /dev-issuer/<tenant>/v2.0/.well-known/openid-configuration",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(expected)),
            "no `{expected}` in:\n{log}"
        );
    }
    for path in [
        "/moved/",
        "/common/",
        "/.well-known/oauth-authorization-server",
    ] {
        assert!(
            !log.contains(&format!(" {path}")),
            "an unlabelled {path} in:\n{log}"
        );
    }
}
