//! Real Rocket servers on loopback: a free port, launch and stop, the test app (its figment and
//! routes), a development issuer with an app signed in against it, and the check that the
//! fairing stopped a launch.

use std::net::TcpListener;
use std::sync::Mutex;
use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Rocket, Shutdown};
use rocket_openid_connect::dev_issuer::{
    DevIssuer, Fault, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};

use super::{init_logging, TEST_SECRET_KEY};

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

    /// Which provider signed the user in, and the identity key.
    #[rocket::get("/whoami")]
    pub fn whoami(user: AuthenticatedUser) -> Value {
        let (issuer, sub) = user.identity();
        json!({"provider": user.provider.name.as_str(), "issuer": issuer, "sub": sub,
               "name": user.userinfo.name, "tid": user.userinfo.other.get("tid")})
    }

    #[rocket::get("/two-guards")]
    pub fn two_guards(a: AuthenticatedUser, b: Option<UserContext>) -> String {
        format!(
            "{} {}",
            a.userinfo.sub,
            b.map(|b| b.userinfo.sub).unwrap_or_default()
        )
    }

    /// A page whose app sets its own `Cache-Control`, which the crate keeps unless the
    /// response carries a session cookie.
    #[derive(rocket::Responder)]
    #[response(content_type = "text")]
    pub struct OwnCacheControl {
        body: String,
        cache_control: rocket::http::Header<'static>,
    }

    #[rocket::get("/own-cache-control")]
    pub fn own_cache_control(user: Option<UserContext>) -> OwnCacheControl {
        OwnCacheControl {
            body: match user {
                Some(u) => format!("cached for {}", u.userinfo.sub),
                None => "cached for visitors".into(),
            },
            cache_control: rocket::http::Header::new("Cache-Control", "public, max-age=3600"),
        }
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
            app_routes::whoami,
            app_routes::two_guards,
            app_routes::own_cache_control,
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
    setup_faulted(&[], tweak).await
}

/// As [`setup_with`], with `faults` switched on at the issuer *before* the app launches (so that
/// the app's discovery and JWKS fetch see them).
pub async fn setup_faulted(faults: &[Fault], tweak: impl FnOnce(Figment) -> Figment) -> Setup {
    init_logging();
    let issuer = DevIssuer::start().await.expect("dev issuer starts");
    issuer.set_auto_login(Some("ada"));
    for fault in faults {
        issuer.set_fault(fault.clone());
    }
    let port = free_port();
    let app = launch(test_app(tweak(app_figment(issuer.issuer_url(), port))))
        .await
        .expect("app launches");
    Setup { issuer, app }
}

pub async fn setup() -> Setup {
    setup_with(|f| f).await
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
