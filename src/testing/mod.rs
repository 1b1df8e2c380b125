//! Testing your own app's protected routes (feature `dev-issuer`): one call signs a user of the
//! [development issuer](crate::dev_issuer) into a `rocket::local` client or a real server.
//!
//! ```rust
//! # #[macro_use] extern crate rocket;
//! use rocket::http::{Accept, Status};
//! use rocket::local::asynchronous::Client;
//! use rocket_openid_connect::dev_issuer::{DevIssuer, DevUser};
//! use rocket_openid_connect::testing::{self, sign_in, sign_out};
//! use rocket_openid_connect::{requirement, Authorized, OidcFairing, Rule};
//!
//! // The app under test.
//! requirement! { Admin = Rule::group("admins"); }
//!
//! #[get("/admin")]
//! fn admin(user: Authorized<Admin>) -> String {
//!     format!("Hello, administrator {}", user.userinfo.sub)
//! }
//!
//! fn app(figment: rocket::figment::Figment) -> rocket::Rocket<rocket::Build> {
//!     rocket::custom(figment).attach(OidcFairing::new()).mount("/", routes![admin])
//! }
//!
//! # rocket::async_test(async {
//! // The test: the app pointed at a development issuer, in a cookie-tracking client.
//! let issuer = DevIssuer::start().await.unwrap();
//! let figment = testing::figment(&issuer).merge(("oidc.scopes", ["openid", "profile", "groups"]));
//! let client = Client::tracked(app(figment)).await.unwrap();
//!
//! assert_eq!(client.get("/admin").dispatch().await.status(), Status::Unauthorized);
//!
//! sign_in(&client, "ada").await; // in `admins`
//! assert_eq!(client.get("/admin").dispatch().await.status(), Status::Ok);
//!
//! sign_in(&client, "grace").await; // not in `admins`
//! assert_eq!(client.get("/admin").dispatch().await.status(), Status::Forbidden);
//!
//! // A user the test declares, with the groups and claims it needs.
//! sign_in(&client, DevUser::new("root-1", "root").group("admins").claim("tenant", "acme")).await;
//! assert_eq!(client.get("/admin").dispatch().await.status(), Status::Ok);
//!
//! // The session runs out: a browser is sent to sign in again.
//! testing::expire_session(&client);
//! let page = client.get("/admin").header(Accept::HTML).dispatch().await;
//! assert_eq!(page.status(), Status::SeeOther);
//!
//! sign_in(&client, "ada").await;
//! sign_out(&client).await;
//! assert_eq!(client.get("/admin").dispatch().await.status(), Status::Unauthorized);
//! # issuer.stop().await;
//! # });
//! ```
//!
//! How it signs in: it walks the real login, as a browser would, over the app's routes and
//! real HTTP to the issuer: `GET /login` on the app, the issuer's `/authorize` and its login
//! form (the user chosen by `preferred_username`), then the app's callback, which validates
//! the tokens and writes the session into the client's cookies. Nothing is faked, so what the
//! app's guards see is what they see in production with that provider, and a login hook runs
//! as it would (a refusal is a [`TestingError::SignInFailed`] from [`try_sign_in`]).
//!
//! - **`rocket::local::asynchronous::Client`**: must be
//!   [`Client::tracked`](rocket::local::asynchronous::Client::tracked), which keeps the session
//!   cookies across requests.
//! - **A real server**: [`TestServer::start`] launches the app on `127.0.0.1` and a free port,
//!   with a cookie jar; [`TestServer::cookie_header`] hands the session to any other HTTP
//!   client.
//! - **Users**: the issuer's own (`ada`, `grace`, `alan`, see
//!   [`default_users`](crate::dev_issuer::default_users)), users added to its builder, or a
//!   [`DevUser`] given to `sign_in`, which adds it to the issuer first (the app's issuer must be
//!   a [`DevIssuer`] of this process).
//! - **Time**: [`expire_session`] and [`advance_clock`] move the clock the app measures session
//!   lifetimes with, so a test sees an expired session without sleeping.

mod local;
mod server;
mod walk;

use std::fmt;
use std::time::Duration;

use rocket::figment::Figment;

use crate::dev_issuer::{DevIssuer, DevUser, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use sealed::App;

pub use server::{TestResponse, TestServer};

/// `rocket::Config::figment()` (Rocket.toml, `ROCKET_*` variables) with the app pointed at
/// `issuer`: see [`configure`].
pub fn figment(issuer: &DevIssuer) -> Figment {
    configure(rocket::Config::figment(), issuer)
}

/// `figment` with the `oidc` settings of an app signing in at `issuer` with its default
/// client: `oidc.issuer`, `oidc.client_id`, `oidc.client_secret`, and `oidc.app_base_url`
/// `http://127.0.0.1:<port>` (the default client accepts any loopback port), plus
/// `shutdown.ctrlc = false` so that test servers leave the process's Ctrl-C alone.
pub fn configure(figment: Figment, issuer: &DevIssuer) -> Figment {
    let port: u16 = figment.extract_inner("port").unwrap_or(8000);
    figment
        .merge(("oidc.issuer", issuer.issuer_url()))
        .merge(("oidc.client_id", DEFAULT_CLIENT_ID))
        .merge(("oidc.client_secret", DEFAULT_CLIENT_SECRET))
        .merge(("oidc.app_base_url", format!("http://127.0.0.1:{port}")))
        .merge(("shutdown.ctrlc", false))
}

/// Whom to sign in: a username (`preferred_username`, `sub` or email of a user the issuer
/// knows), or a [`DevUser`] that [`sign_in`] adds to the issuer first. From `&str`, `String`,
/// `DevUser` and `&DevUser`.
#[derive(Debug, Clone)]
pub enum TestUser {
    /// A user the issuer knows, by `preferred_username`.
    Known(String),
    /// A user to add to the issuer (replacing one with the same `sub` or username).
    New(Box<DevUser>),
}

impl From<&str> for TestUser {
    fn from(name: &str) -> Self {
        TestUser::Known(name.to_owned())
    }
}

impl From<String> for TestUser {
    fn from(name: String) -> Self {
        TestUser::Known(name)
    }
}

impl From<DevUser> for TestUser {
    fn from(user: DevUser) -> Self {
        TestUser::New(Box::new(user))
    }
}

impl From<&DevUser> for TestUser {
    fn from(user: &DevUser) -> Self {
        TestUser::New(Box::new(user.clone()))
    }
}

/// Why [`try_sign_in`] or [`TestServer::start`] failed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TestingError {
    /// The app has no [`OidcFairing`](crate::OidcFairing) attached (or it failed).
    NotConfigured,
    /// The app's callback did not sign the user in: its status and body (e.g. 403 and the
    /// message of a login hook that refused the user).
    SignInFailed {
        /// The callback's status.
        status: u16,
        /// Its body.
        body: String,
    },
    /// A step of the walk got an answer it should not have.
    UnexpectedResponse {
        /// The step (`GET /login`, `the issuer's /authorize`, ...).
        step: String,
        /// The status.
        status: u16,
        /// The body.
        body: String,
    },
    /// The issuer could not be reached.
    Issuer(String),
    /// A `DevUser` was given, but the app's issuer is no development issuer of this process.
    UnknownIssuer(String),
    /// The issuer signs another user in automatically ([`DevIssuer::set_auto_login`]).
    AutoLogin {
        /// The auto-login user.
        auto_login: String,
        /// The user asked for.
        wanted: String,
    },
    /// The client keeps no cookies.
    Untracked,
    /// Which provider to sign in at is not clear (an app with provider tables), or the one
    /// named does not exist.
    Provider(String),
    /// [`TestServer::start`]: the app did not launch.
    Launch(String),
}

impl fmt::Display for TestingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TestingError::NotConfigured => f.write_str(
                "the app has no OpenID Connect state: attach `OidcFairing` (and check the \
                 log for why it failed)",
            ),
            TestingError::SignInFailed { status, body } => write!(
                f,
                "the app's callback answered {status} instead of signing in: {}",
                text_of(body)
            ),
            TestingError::UnexpectedResponse { step, status, body } => {
                write!(f, "{step} answered {status}: {}", text_of(body))
            }
            TestingError::Issuer(e) => write!(f, "the development issuer: {e}"),
            TestingError::UnknownIssuer(issuer) => write!(
                f,
                "the app signs in at {issuer}, which is not a DevIssuer running in this \
                 process: a DevUser can only be added to one (or add it with \
                 DevIssuer::add_user / DevIssuerBuilder::user and sign in by name)"
            ),
            TestingError::AutoLogin { auto_login, wanted } => write!(
                f,
                "the issuer signs `{auto_login}` in automatically, not `{wanted}`: call \
                 issuer.set_auto_login(None) before sign_in"
            ),
            TestingError::Untracked => f.write_str(
                "the client keeps no cookies: use rocket::local::asynchronous::Client::tracked",
            ),
            TestingError::Launch(e) => write!(f, "the app did not launch: {e}"),
            TestingError::Provider(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for TestingError {}

/// The readable start of a body: an HTML page's text without its markup and head.
fn text_of(body: &str) -> String {
    // After `<body`, the rest of that tag comes first.
    let (mut in_tag, body) = match body.split_once("<body") {
        Some((_, rest)) => (true, rest),
        None => (false, body),
    };
    let mut text = String::new();
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::util::truncate(&text, 300)
}

/// Signs `user` into the app behind `client`: afterwards the client's requests carry that
/// user's session, replacing any earlier one.
///
/// # Panics
///
/// If the sign-in fails, with the reason ([`try_sign_in`] returns it instead).
pub async fn sign_in<C: TestClient + ?Sized>(client: &C, user: impl Into<TestUser>) {
    if let Err(e) = try_sign_in(client, user).await {
        panic!("sign_in failed: {e}");
    }
}

/// [`sign_in`], returning why it failed (for a test of a login hook that refuses users).
pub async fn try_sign_in<C: TestClient + ?Sized>(
    client: &C,
    user: impl Into<TestUser>,
) -> Result<(), TestingError> {
    walk::sign_in(client, None, user.into()).await
}

/// [`sign_in`] at provider `provider` of an app with several (`[default.oidc.providers.NAME]`).
/// [`sign_in`] itself picks the app's default provider, else the only one whose issuer is a
/// development issuer of this process.
///
/// # Panics
///
/// If the sign-in fails, with the reason ([`try_sign_in_at`] returns it instead).
pub async fn sign_in_at<C: TestClient + ?Sized>(
    client: &C,
    provider: &str,
    user: impl Into<TestUser>,
) {
    if let Err(e) = try_sign_in_at(client, provider, user).await {
        panic!("sign_in_at failed: {e}");
    }
}

/// [`sign_in_at`], returning why it failed.
pub async fn try_sign_in_at<C: TestClient + ?Sized>(
    client: &C,
    provider: &str,
    user: impl Into<TestUser>,
) -> Result<(), TestingError> {
    walk::sign_in(client, Some(provider), user.into()).await
}

/// Signs the client's user out through the app's `POST /logout` (which revokes the tokens and
/// ends the session at the issuer too).
///
/// # Panics
///
/// If the app does not answer the logout with a redirect.
pub async fn sign_out<C: TestClient + ?Sized>(client: &C) {
    if let Err(e) = walk::sign_out(client).await {
        panic!("sign_out failed: {e}");
    }
}

/// Lets every session of the app run out: moves the app's session clock past the shorter of
/// the idle and absolute lifetimes (`oidc.session_idle_timeout_secs`,
/// `oidc.session_absolute_timeout_secs`). The next request with the old session is treated as
/// the app treats an expired session (the cookies are expired; a browser is sent to sign in);
/// sessions started afterwards are fresh.
///
/// # Panics
///
/// If the app has no OpenID Connect state (the fairing is not attached).
pub fn expire_session<C: TestClient + ?Sized>(client: &C) {
    let app = app_of(client);
    app.clock.advance(app.shortest_lifetime.saturating_add(1));
}

/// Moves the clock the app measures session lifetimes with `by` forward (whole seconds), as if
/// that much time had passed: a test of what is still allowed after 20 minutes idle, and what is
/// not after 31. Tokens are not affected (the issuer keeps real time).
///
/// # Panics
///
/// If the app has no OpenID Connect state (the fairing is not attached).
pub fn advance_clock<C: TestClient + ?Sized>(client: &C, by: Duration) {
    let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
    app_of(client).clock.advance(secs);
}

fn app_of<C: TestClient + ?Sized>(client: &C) -> App {
    client
        .app()
        .unwrap_or_else(|e| panic!("rocket_openid_connect::testing: {e}"))
}

/// A client of the app under test: `rocket::local::asynchronous::Client` or a [`TestServer`].
/// (Sealed: its methods are this module's.)
pub trait TestClient: sealed::Driver + Sync {}

impl TestClient for rocket::local::asynchronous::Client {}
impl TestClient for TestServer {}

mod sealed {
    use super::TestingError;
    use crate::config::sub_path;
    use crate::state::OidcState;
    use crate::util::Clock;

    /// What the walks need to know of the app.
    #[derive(Clone)]
    pub struct App {
        pub(crate) providers: Vec<AppProvider>,
        /// The provider `/login` goes to without asking, if any.
        pub(crate) default: Option<usize>,
        pub(crate) logout_path: String,
        pub(crate) app_base_url: String,
        pub(crate) shortest_lifetime: i64,
        pub(crate) clock: Clock,
    }

    /// One of the app's providers.
    #[derive(Clone)]
    pub struct AppProvider {
        pub(crate) name: String,
        pub(crate) issuer: String,
        /// Its login route (`/login`, or `/login/NAME` with provider tables).
        pub(crate) login_path: String,
    }

    impl App {
        pub(crate) fn of(state: &OidcState) -> App {
            let app = &state.app;
            let lifetimes = state.lifetimes();
            let providers = state
                .providers
                .iter()
                .map(|p| AppProvider {
                    name: p.name.as_str().to_owned(),
                    issuer: p.config.issuer.clone(),
                    login_path: if state.named {
                        sub_path(&app.login_path, p.name.as_str())
                    } else {
                        app.login_path.clone()
                    },
                })
                .collect();
            App {
                providers,
                default: state.default,
                logout_path: app.logout_path.clone(),
                app_base_url: app.app_base_url.clone(),
                shortest_lifetime: lifetimes.idle.min(lifetimes.absolute),
                clock: state.clock().clone(),
            }
        }
    }

    /// An answer of the app, read whole.
    pub struct Reply {
        pub(crate) status: u16,
        pub(crate) location: Option<String>,
        pub(crate) body: String,
    }

    /// How the walks talk to the app.
    #[rocket::async_trait]
    pub trait Driver {
        /// The app's settings.
        fn app(&self) -> Result<App, TestingError>;
        /// Sends a request to the app, keeping the cookies it sets.
        async fn send(
            &self,
            post_form: Option<&[(&str, &str)]>,
            path_and_query: &str,
            headers: &[(&str, &str)],
        ) -> Result<Reply, TestingError>;
        /// Whether the client holds a session cookie of the app.
        fn has_session_cookie(&self) -> bool;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_messages_show_a_page_s_text_without_its_markup() {
        let page = "<!doctype html><html><head><title>T</title><style>b{x:y}</style></head>\
                    <body class=\"a\"><h1>Sign-in refused</h1><p>Not   here.</p></body></html>";
        assert_eq!(super::text_of(page), "Sign-in refused Not here.");
        assert_eq!(super::text_of(r#"{"error":"x"}"#), r#"{"error":"x"}"#);
    }
}
