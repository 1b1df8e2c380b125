//! Test harness: real Rocket servers on loopback, a browser-like HTTP client with a cookie jar,
//! and a log capture to assert what the fairing says (and that it never says a secret).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::serde::json::serde_json::{self, Value};
use rocket::{Build, Rocket, Shutdown};
use rocket_openid_connect::dev_issuer::{DevIssuer, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};

/// A development-only secret key for test apps (64 bytes, base64). Never use it anywhere else.
pub const TEST_SECRET_KEY: &str =
    "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk0Xw0HjxM1kyqq8hYUGFspuV6Kea4dPKw4q0S4UOnc9g==";

include!("open_redirects.rs");

// ---------------------------------------------------------------------------------------------
// Log capture

struct Capture;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {}: {}", record.level(), record.target(), record.args());
        if std::env::var_os("TEST_LOG").is_some() {
            eprintln!("{line}");
        }
        LINES.lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

/// Installs the capturing logger before Rocket can install its own.
pub fn init_logging() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        log::set_boxed_logger(Box::new(Capture)).expect("no other logger");
        log::set_max_level(log::LevelFilter::Info);
    });
}

/// Every captured log line (of every test in this binary) containing all `needles`.
pub fn log_lines_with(needles: &[&str]) -> Vec<String> {
    LINES
        .lock()
        .unwrap()
        .iter()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .cloned()
        .collect()
}

/// Every captured line.
pub fn all_log_lines() -> Vec<String> {
    LINES.lock().unwrap().clone()
}

// ---------------------------------------------------------------------------------------------
// Servers

/// A port that was free a moment ago. The app must know its own URL (app_base_url, hence
/// redirect_uri) before it launches, so tests pick the port first.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running Rocket application.
pub struct App {
    pub base: String,
    shutdown: Shutdown,
    join: tokio::task::JoinHandle<Result<(), rocket::Error>>,
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn stop(self) {
        self.shutdown.notify();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.join).await;
    }
}

/// Launches `rocket` and waits for liftoff. `Err` carries Rocket's launch error (e.g. a failed
/// fairing).
pub async fn launch(rocket: Rocket<Build>) -> Result<App, rocket::Error> {
    let (tx, rx) = tokio::sync::oneshot::channel::<(u16, Shutdown)>();
    let tx = Mutex::new(Some(tx));
    let rocket = rocket.attach(AdHoc::on_liftoff("test port", move |r| {
        let port = r.config().port;
        let shutdown = r.shutdown();
        Box::pin(async move {
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send((port, shutdown));
            }
        })
    }));
    let join = tokio::spawn(async move { rocket.launch().await.map(|_| ()) });
    match rx.await {
        Ok((port, shutdown)) => Ok(App {
            base: format!("http://127.0.0.1:{port}"),
            shutdown,
            join,
        }),
        Err(_) => Err(join
            .await
            .expect("launch task panicked")
            .expect_err("launched without liftoff")),
    }
}

/// The figment of a test app on `port` signing in at `issuer` with the default dev client.
pub fn app_figment(issuer: &str, port: u16) -> Figment {
    rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("secret_key", TEST_SECRET_KEY))
        .merge(("log_level", "normal"))
        .merge(("cli_colors", false))
        .merge(("shutdown.ctrlc", false))
        .merge(("shutdown.grace", 0))
        .merge(("shutdown.mercy", 0))
        .merge(("shutdown.signals", Vec::<String>::new()))
        .merge(("oidc.issuer", issuer))
        .merge(("oidc.client_id", DEFAULT_CLIENT_ID))
        .merge(("oidc.client_secret", DEFAULT_CLIENT_SECRET))
        .merge(("oidc.app_base_url", format!("http://127.0.0.1:{port}")))
}

/// Test routes: a public page, a protected page, and an API route.
pub mod app_routes {
    use rocket::serde::json::{json, Value};
    use rocket_openid_connect::{AuthenticatedUser, UserContext};

    #[rocket::get("/")]
    pub fn index(user: Option<UserContext>) -> String {
        match user {
            Some(u) => format!("Hi {}!", u.userinfo.name.as_deref().unwrap_or("there")),
            None => "Hello, visitor".into(),
        }
    }

    #[rocket::get("/protected")]
    pub fn protected(user: AuthenticatedUser) -> String {
        format!("Only for {}", user.userinfo.sub)
    }

    #[rocket::get("/api/me")]
    pub fn me(user: AuthenticatedUser) -> Value {
        json!({"sub": user.userinfo.sub, "name": user.userinfo.name, "groups": user.userinfo.other.get("groups"),
               "refresh": user.tokens.refresh_token.is_some(), "access": user.tokens.access_token.is_some()})
    }

    #[rocket::get("/two-guards")]
    pub fn two_guards(a: AuthenticatedUser, b: Option<UserContext>) -> String {
        format!(
            "{} {}",
            a.userinfo.sub,
            b.map(|b| b.userinfo.sub).unwrap_or_default()
        )
    }

    #[rocket::get("/<_path..>", rank = 20)]
    pub fn catch_all(_path: std::path::PathBuf, user: AuthenticatedUser) -> String {
        format!("catch-all for {}", user.userinfo.sub)
    }
}

/// A test app with the routes above, built from `figment`.
pub fn test_app(figment: Figment) -> Rocket<Build> {
    use rocket_openid_connect::OidcFairing;
    rocket::custom(figment).attach(OidcFairing::new()).mount(
        "/",
        rocket::routes![
            app_routes::index,
            app_routes::protected,
            app_routes::me,
            app_routes::two_guards,
            app_routes::catch_all
        ],
    )
}

/// A dev issuer plus an app signed in against it.
pub struct Setup {
    pub issuer: DevIssuer,
    pub app: App,
}

impl Setup {
    pub async fn stop(self) {
        self.app.stop().await;
        self.issuer.stop().await;
    }
}

/// Starts a dev issuer (auto-login as `ada`) and a test app; `tweak` adjusts the app figment.
pub async fn setup_with(tweak: impl FnOnce(Figment) -> Figment) -> Setup {
    init_logging();
    let issuer = DevIssuer::start().await.expect("dev issuer starts");
    issuer.set_auto_login(Some("ada"));
    let port = free_port();
    let app = launch(test_app(tweak(app_figment(issuer.issuer_url(), port))))
        .await
        .expect("app launches");
    Setup { issuer, app }
}

pub async fn setup() -> Setup {
    setup_with(|f| f).await
}

// ---------------------------------------------------------------------------------------------
// A browser-like client

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub url: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
    pub set_cookies: Vec<String>,
}

impl Resp {
    pub fn location(&self) -> Option<String> {
        self.headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// An HTTP client that keeps cookies per origin and does not follow redirects by itself.
pub struct Browser {
    pub client: reqwest::Client,
    /// origin -> (name -> value)
    pub jar: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
    /// Headers a navigating browser sends.
    pub navigate_headers: bool,
}

impl Default for Browser {
    fn default() -> Self {
        Browser::new()
    }
}

pub fn origin_of(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    u.origin().ascii_serialization()
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            jar: Mutex::new(BTreeMap::new()),
            navigate_headers: true,
        }
    }

    /// An API client: no HTML in Accept, fetch metadata of a `fetch()` call.
    pub fn api() -> Browser {
        Browser {
            navigate_headers: false,
            ..Browser::new()
        }
    }

    pub fn cookies(&self, url: &str) -> BTreeMap<String, String> {
        self.jar
            .lock()
            .unwrap()
            .get(&origin_of(url))
            .cloned()
            .unwrap_or_default()
    }

    pub fn set_cookie(&self, url: &str, name: &str, value: &str) {
        self.jar
            .lock()
            .unwrap()
            .entry(origin_of(url))
            .or_default()
            .insert(name.into(), value.into());
    }

    pub fn remove_cookie(&self, url: &str, name: &str) {
        if let Some(c) = self.jar.lock().unwrap().get_mut(&origin_of(url)) {
            c.remove(name);
        }
    }

    fn cookie_header(&self, url: &str) -> Option<String> {
        let c = self.cookies(url);
        (!c.is_empty()).then(|| {
            c.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    pub async fn request(&self, req: reqwest::RequestBuilder, url: &str) -> Resp {
        let mut req = req;
        if let Some(cookie) = self.cookie_header(url) {
            req = req.header("cookie", cookie);
        }
        if self.navigate_headers {
            req = req
                .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
                .header("sec-fetch-mode", "navigate")
                .header("sec-fetch-dest", "document");
        } else {
            req = req.header("accept", "application/json");
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("request to {url} failed: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let set_cookies: Vec<String> = headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        self.store(url, &set_cookies);
        let body = resp.text().await.unwrap_or_default();
        Resp {
            status,
            url: url.to_owned(),
            headers,
            body,
            set_cookies,
        }
    }

    fn store(&self, url: &str, set_cookies: &[String]) {
        let mut jar = self.jar.lock().unwrap();
        let cookies = jar.entry(origin_of(url)).or_default();
        for sc in set_cookies {
            let first = sc.split(';').next().unwrap();
            let (name, value) = first.split_once('=').unwrap();
            let lower = sc.to_ascii_lowercase();
            let expired =
                lower.contains("max-age=0") || lower.contains("max-age=-") || value.is_empty();
            if expired {
                cookies.remove(name.trim());
            } else {
                cookies.insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }

    pub async fn get(&self, url: &str) -> Resp {
        self.request(self.client.get(url), url).await
    }

    pub async fn get_with(&self, url: &str, headers: &[(&str, &str)]) -> Resp {
        let mut req = self.client.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.request(req, url).await
    }

    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self.client.post(url).form(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.request(req, url).await
    }

    /// Follows redirects from `resp` (at most 10), returning every response on the way.
    pub async fn follow(&self, resp: Resp) -> Vec<Resp> {
        let mut chain = vec![resp];
        for _ in 0..10 {
            let last = chain.last().unwrap();
            if !(300..400).contains(&last.status) {
                break;
            }
            let next = url::Url::parse(&last.url)
                .unwrap()
                .join(&last.location().unwrap())
                .unwrap();
            let r = self.get(next.as_str()).await;
            chain.push(r);
        }
        chain
    }

    /// GET `url` and follow redirects; the last response.
    pub async fn visit(&self, url: &str) -> Resp {
        let first = self.get(url).await;
        self.follow(first).await.pop().unwrap()
    }
}

/// Session cookies in the browser's jar for `app`.
pub fn session_cookies(b: &Browser, app: &App) -> Vec<String> {
    b.cookies(&app.base)
        .into_keys()
        .filter(|k| k.starts_with("oidc_session"))
        .collect()
}

/// Pending-login (transaction) cookies in the browser's jar for `app`.
pub fn tx_cookies(b: &Browser, app: &App) -> Vec<String> {
    b.cookies(&app.base)
        .into_keys()
        .filter(|k| k.starts_with("oidc_tx_"))
        .collect()
}

/// A whole login from `/login?return_to=<return_to>` (auto-login at the issuer): every response.
pub async fn login(b: &Browser, app: &App, return_to: &str) -> Vec<Resp> {
    let url = format!(
        "{}?return_to={}",
        app.url("/login"),
        url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
    );
    let first = b.get(&url).await;
    b.follow(first).await
}

/// The callback URL the issuer sends `b` to, not followed yet (`b` holds the transaction).
pub async fn callback_url(b: &Browser, app: &App) -> String {
    let login = b.get(&app.url("/login")).await;
    assert_eq!(login.status, 303);
    let authorize = b.get(&login.location().unwrap()).await;
    assert_eq!(
        authorize.status, 303,
        "auto-login redirects: {}",
        authorize.body
    );
    authorize.location().unwrap()
}

/// Launches `rocket` and asserts that the OpenID Connect fairing stopped it.
pub async fn assert_fairing_fails(rocket: Rocket<Build>) {
    use rocket::error::ErrorKind;
    init_logging();
    match launch(rocket).await {
        Ok(app) => {
            app.stop().await;
            panic!("launch succeeded but should have failed");
        }
        Err(e) => match e.kind() {
            ErrorKind::FailedFairings(failed) => {
                let name = rocket_openid_connect::FAIRING_NAME;
                assert!(failed.iter().any(|f| f.name == name), "{failed:?}");
            }
            other => panic!("launch failed for another reason: {other:?}"),
        },
    }
}

/// The query parameters of a URL.
pub fn query_of(url: &str) -> BTreeMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
