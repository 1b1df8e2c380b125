//! [`TestServer`]: the app as a real server on loopback, with a cookie jar, for tests that need
//! real HTTP (or another client than Rocket's).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::http::Status;
use rocket::tokio::sync::oneshot;
use rocket::tokio::task::JoinHandle;
use rocket::{Build, Rocket, Shutdown};

use super::sealed::Driver;
use super::sealed::{App, Reply};
use super::TestingError;
use crate::state::OidcState;

/// The app under test as a real HTTP server on `127.0.0.1` and a free port, with a cookie jar
/// that [`sign_in`](super::sign_in) fills. Requests go over real loopback HTTP; redirects are
/// not followed.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket::http::Status;
/// use rocket_openid_connect::dev_issuer::DevIssuer;
/// use rocket_openid_connect::testing::{self, sign_in, TestServer};
/// use rocket_openid_connect::{AuthenticatedUser, OidcFairing};
///
/// #[get("/me")]
/// fn me(user: AuthenticatedUser) -> String {
///     user.userinfo.sub.clone()
/// }
///
/// # rocket::async_test(async {
/// let issuer = DevIssuer::start().await.unwrap();
/// let app = rocket::custom(testing::figment(&issuer))
///     .attach(OidcFairing::new())
///     .mount("/", routes![me]);
/// let server = TestServer::start(app).await.unwrap();
/// sign_in(&server, "ada").await;
/// let me = server.get("/me").await;
/// assert_eq!(me.status(), Status::Ok);
/// assert_eq!(me.body(), "ada-lovelace-1815");
/// // Any other HTTP client: send `server.cookie_header()` as `Cookie`.
/// assert!(server.cookie_header().unwrap().contains("oidc_session="));
/// server.stop().await;
/// # issuer.stop().await;
/// # });
/// ```
pub struct TestServer {
    base: String,
    http: reqwest::Client,
    /// name → value, as the server set them.
    jar: Mutex<BTreeMap<String, String>>,
    /// The name of the app's (first) session cookie, under its `oidc.cookie_prefix`.
    session_cookie: String,
    app: App,
    shutdown: Shutdown,
    join: JoinHandle<Result<(), String>>,
}

/// An answer of a [`TestServer`], read whole.
#[derive(Debug, Clone)]
pub struct TestResponse {
    status: Status,
    headers: Vec<(String, String)>,
    body: String,
}

impl TestResponse {
    /// The status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn body(&self) -> &str {
        &self.body
    }
}

impl TestServer {
    /// Launches `rocket` on `127.0.0.1` and a free port (its `address` and `port` settings are
    /// replaced, Ctrl-C and signal handling and the shutdown grace period switched off) and
    /// returns once it serves. `Err` if it fails to launch (a fairing or a sentinel stopped it:
    /// the log says why).
    pub async fn start(rocket: Rocket<Build>) -> Result<TestServer, TestingError> {
        let figment = rocket
            .figment()
            .clone()
            .merge(("address", "127.0.0.1"))
            .merge(("port", 0))
            .merge(("shutdown.ctrlc", false))
            .merge(("shutdown.grace", 0))
            .merge(("shutdown.mercy", 0))
            .merge(("shutdown.signals", Vec::<String>::new()));
        let (port_tx, port_rx) = oneshot::channel::<u16>();
        let port_tx = Mutex::new(Some(port_tx));
        let rocket =
            rocket
                .configure(figment)
                .attach(AdHoc::on_liftoff("testing: the port", move |r| {
                    let port = r.config().port;
                    Box::pin(async move {
                        let tx = port_tx.lock().ok().and_then(|mut tx| tx.take());
                        if let Some(tx) = tx {
                            let _ = tx.send(port);
                        }
                    })
                }));
        let rocket = rocket
            .ignite()
            .await
            .map_err(|e| TestingError::Launch(e.to_string()))?;
        let state = rocket
            .state::<OidcState>()
            .ok_or(TestingError::NotConfigured)?;
        let app = App::of(state);
        let session_cookie = state.cookie_options().session_name(0);
        let shutdown = rocket.shutdown();
        let mut join = rocket::tokio::spawn(async move {
            rocket.launch().await.map(drop).map_err(|e| e.to_string())
        });
        let port = rocket::tokio::select! {
            port = port_rx => port.ok(),
            ended = &mut join => {
                let why = match ended {
                    Ok(Err(e)) => e,
                    _ => "the server stopped before it served".into(),
                };
                return Err(TestingError::Launch(why));
            }
        };
        let Some(port) = port else {
            shutdown.notify();
            return Err(TestingError::Launch(
                "the server stopped before it served".into(),
            ));
        };
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| TestingError::Launch(e.to_string()))?;
        Ok(TestServer {
            base: format!("http://127.0.0.1:{port}"),
            http,
            jar: Mutex::new(BTreeMap::new()),
            session_cookie,
            app,
            shutdown,
            join,
        })
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path` with the jar's cookies and no other header (an API client).
    ///
    /// # Panics
    ///
    /// If the server cannot be reached.
    pub async fn get(&self, path: &str) -> TestResponse {
        self.get_with(path, &[]).await
    }

    /// `GET path` with the jar's cookies and `headers` (`("Accept", "text/html")` for a browser).
    ///
    /// # Panics
    ///
    /// If the server cannot be reached.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        self.request(None, path, headers).await
    }

    /// `POST path` with an `application/x-www-form-urlencoded` body, the jar's cookies and
    /// `headers`.
    ///
    /// # Panics
    ///
    /// If the server cannot be reached.
    pub async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> TestResponse {
        self.request(Some(form), path, headers).await
    }

    /// The jar's cookies as a `Cookie` header value, for another HTTP client; `None` when empty.
    pub fn cookie_header(&self) -> Option<String> {
        let jar = self.jar.lock().unwrap_or_else(|p| p.into_inner());
        (!jar.is_empty()).then(|| {
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Stops the server and waits until it is down.
    pub async fn stop(self) {
        self.shutdown.notify();
        let _ = rocket::tokio::time::timeout(Duration::from_secs(10), self.join).await;
    }

    async fn request(
        &self,
        form: Option<&[(&str, &str)]>,
        path: &str,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let url = self.url(path);
        let mut req = match form {
            None => self.http.get(&url),
            Some(form) => self.http.post(&url).form(form),
        };
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(cookies) = self.cookie_header() {
            req = req.header("Cookie", cookies);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("TestServer: {url}: {e}"));
        let status = Status::new(resp.status().as_u16());
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        self.store(&headers);
        let body = resp.text().await.unwrap_or_default();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// Keeps the cookies an answer sets, and forgets those it expires.
    fn store(&self, headers: &[(String, String)]) {
        let mut jar = self.jar.lock().unwrap_or_else(|p| p.into_inner());
        for (_, set_cookie) in headers.iter().filter(|(n, _)| n == "set-cookie") {
            let Some((name, value)) = set_cookie
                .split(';')
                .next()
                .and_then(|pair| pair.split_once('='))
            else {
                continue;
            };
            let attributes = set_cookie.to_ascii_lowercase();
            let expired = value.is_empty()
                || attributes.contains("max-age=0")
                || attributes.contains("max-age=-");
            if expired {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }
}

#[rocket::async_trait]
impl Driver for TestServer {
    fn app(&self) -> Result<App, TestingError> {
        Ok(self.app.clone())
    }

    async fn send(
        &self,
        post_form: Option<&[(&str, &str)]>,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Reply, TestingError> {
        let resp = self.request(post_form, path_and_query, headers).await;
        Ok(Reply {
            status: resp.status.code,
            location: resp.header("location").map(str::to_owned),
            body: resp.body,
        })
    }

    fn has_session_cookie(&self) -> bool {
        let jar = self.jar.lock().unwrap_or_else(|p| p.into_inner());
        jar.contains_key(&self.session_cookie)
    }
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}
