//! Starting and stopping the issuer's Rocket instance.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rand::RngCore;
use rocket::config::{SecretKey, Shutdown as ShutdownConfig};
use rocket::fairing::AdHoc;
use rocket::tokio::sync::oneshot;
use rocket::tokio::task::JoinHandle;

use super::counters::Counters;
use super::directory::{default_users, DevClient, DevUser};
use super::faults::Fault;
use super::options::{Options, Tenants};
use super::request_log::{self, LabelRequests, LOG_BASE};
use super::state::Inner;
use super::{endpoints, metadata, tenants, token};

/// A running development issuer. Dropping it stops the server (without waiting); prefer
/// [`DevIssuer::stop`] in async code, which waits until it is down.
///
/// # Example
///
/// Start an issuer, read its discovery document, and stop it:
///
/// ```
/// use rocket_openid_connect::dev_issuer::{DevIssuer, Fault};
///
/// # rocket::execute(async {
/// let issuer = DevIssuer::start().await.expect("the issuer starts");
/// assert!(issuer.issuer_url().starts_with("http://127.0.0.1:"));
///
/// let url = format!("{}/.well-known/openid-configuration", issuer.issuer_url());
/// let discovery: rocket::serde::json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
/// assert_eq!(discovery["issuer"], issuer.issuer_url());
///
/// // Make the issuer misbehave, then check what a client saw.
/// issuer.set_fault(Fault::WrongIssuer);
/// issuer.set_auto_login(Some("ada"));
/// assert_eq!(issuer.counters().discovery, 1);
/// issuer.stop().await;
/// # });
/// ```
pub struct DevIssuer {
    pub(crate) inner: Arc<Inner>,
    issuer_url: String,
    shutdown: Option<rocket::Shutdown>,
    server: Option<JoinHandle<Result<(), String>>>,
}

/// Configures a [`DevIssuer`]; from [`DevIssuer::builder`].
#[derive(Debug, Clone)]
pub struct DevIssuerBuilder {
    address: IpAddr,
    port: u16,
    clients: Vec<DevClient>,
    users: Vec<DevUser>,
    code_lifetime: Duration,
    token_lifetime: Duration,
    /// Set in controls.rs.
    pub(crate) options: Options,
    /// Set in controls.rs ([`DevIssuerBuilder::multi_tenant`]).
    pub(crate) tenants: Option<Tenants>,
}

/// Why a [`DevIssuer`] could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum DevIssuerError {
    /// Rocket refused the issuer's configuration (a bug in this crate; please report it).
    Ignite(String),
    /// The server could not start, e.g. the address or port is taken or not local: choose
    /// another with [`DevIssuerBuilder::address`] / [`DevIssuerBuilder::port`] (port 0 picks a
    /// free one).
    Launch(String),
}

impl fmt::Display for DevIssuerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DevIssuerError::Ignite(message) => {
                write!(f, "the development issuer failed to ignite: {message}")
            }
            DevIssuerError::Launch(message) => write!(
                f,
                "the development issuer failed to launch: {message}; is the address free?"
            ),
        }
    }
}

impl std::error::Error for DevIssuerError {}

impl Default for DevIssuerBuilder {
    fn default() -> Self {
        DevIssuerBuilder {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            clients: vec![DevClient::default_client()],
            users: default_users(),
            code_lifetime: Duration::from_secs(60),
            token_lifetime: Duration::from_secs(3600),
            options: Options::default(),
            tenants: None,
        }
    }
}

impl DevIssuerBuilder {
    /// The address to listen on. _Default:_ `127.0.0.1`.
    pub fn address(mut self, address: IpAddr) -> Self {
        self.address = address;
        self
    }

    /// The port to listen on; 0 picks a free one. _Default:_ `0`.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Registers one more client, next to the ones already configured (a client with the same
    /// id replaces the earlier one). _Default:_ only [`DevClient::default_client`].
    pub fn client(mut self, client: DevClient) -> Self {
        self.clients.retain(|c| c.client_id != client.client_id);
        self.clients.push(client);
        self
    }

    /// Replaces all clients, the default client included, with `clients`.
    pub fn clients(mut self, clients: impl IntoIterator<Item = DevClient>) -> Self {
        self.clients = Vec::new();
        for client in clients {
            self = self.client(client);
        }
        self
    }

    /// Adds one user to the directory. _Default:_ [`default_users`].
    pub fn user(mut self, user: DevUser) -> Self {
        self.users.push(user);
        self
    }

    /// Replaces the whole directory, the default users included, with `users`.
    pub fn users(mut self, users: Vec<DevUser>) -> Self {
        self.users = users;
        self
    }

    /// How long an authorization code stays redeemable. _Default:_ 60 s.
    pub fn code_lifetime(mut self, lifetime: Duration) -> Self {
        self.code_lifetime = lifetime;
        self
    }

    /// How long ID tokens live (`exp - iat`), and access tokens too unless
    /// [`access_token_lifetime`](DevIssuerBuilder::access_token_lifetime) says otherwise.
    /// _Default:_ 1 h.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Starts the issuer in the current tokio runtime and returns once it accepts connections.
    pub async fn start(self) -> Result<DevIssuer, DevIssuerError> {
        let mut users = self.users;
        if let Some(tenants) = &self.tenants {
            tenants::assign(tenants, &mut users);
        }
        let mut inner = Inner::new(self.clients, users, self.code_lifetime, self.token_lifetime);
        inner.options = self.options;
        inner.tenants = self.tenants;
        let inner = Arc::new(inner);
        let (port_tx, port_rx) = oneshot::channel::<String>();
        let liftoff_inner = inner.clone();
        // Rocket sets the process-wide log level in `custom` and `ignite`: run at the level in
        // force, and put it back afterwards (see request_log.rs).
        let log_level = log::max_level();
        let config = rocket_config(self.address, self.port, log_level);
        let rocket = rocket::custom(config)
            .manage(inner.clone())
            .mount(LOG_BASE, request_log::label_routes(routes()))
            .register("/", endpoints::catchers())
            .attach(LabelRequests)
            .attach(AdHoc::on_liftoff(
                "development issuer: its URL",
                move |rocket| {
                    Box::pin(async move {
                        // Rocket has bound the listener and updated `port` by now.
                        let config = rocket.config();
                        let url =
                            format!("http://{}", SocketAddr::new(config.address, config.port));
                        log::info!(
                            "Development issuer (an in-process OpenID Provider, not your app) at \
                         {url}: its request lines read {LOG_BASE}/..., queries redacted."
                        );
                        let _ = liftoff_inner.issuer.set(url.clone());
                        let _ = port_tx.send(url);
                    })
                },
            ));
        let rocket = rocket.ignite().await;
        request_log::restore_level(log_level);
        let rocket = rocket.map_err(|error| DevIssuerError::Ignite(error.to_string()))?;
        let shutdown = rocket.shutdown();
        let mut server = rocket::tokio::spawn(async move {
            rocket
                .launch()
                .await
                .map(drop)
                .map_err(|error| error.to_string())
        });
        let issuer_url = rocket::tokio::select! {
            url = port_rx => url.ok(),
            result = &mut server => {
                return Err(DevIssuerError::Launch(match result {
                    Ok(Err(message)) => message,
                    Ok(Ok(())) => "the server stopped before it started".into(),
                    Err(join_error) => join_error.to_string(),
                }));
            }
        };
        let Some(issuer_url) = issuer_url else {
            shutdown.notify();
            let message = match server.await {
                Ok(Err(message)) => message,
                _ => "the server stopped before it started".into(),
            };
            return Err(DevIssuerError::Launch(message));
        };
        register(&issuer_url, &inner);
        Ok(DevIssuer {
            inner,
            issuer_url,
            shutdown: Some(shutdown),
            server: Some(server),
        })
    }
}

/// The issuers running in this process, by URL: so that `testing::sign_in` can find the issuer
/// an app signs in at (to add a test's `DevUser`) from the app's configuration alone. An entry
/// dies with its issuer.
static RUNNING: Mutex<Vec<(String, Weak<Inner>)>> = Mutex::new(Vec::new());

fn register(issuer_url: &str, inner: &Arc<Inner>) {
    let mut running = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
    running.retain(|(_, weak)| weak.strong_count() > 0);
    running.push((issuer_url.to_owned(), Arc::downgrade(inner)));
}

/// The running issuer whose URL `issuer` is, or starts (multi-tenant issuers: `{url}/{tid}/v2.0`).
pub(crate) fn running(issuer: &str) -> Option<Arc<Inner>> {
    let running = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
    running
        .iter()
        .filter(|(url, _)| {
            issuer == url
                || issuer
                    .strip_prefix(url.as_str())
                    .is_some_and(|r| r.starts_with('/'))
        })
        .find_map(|(_, weak)| weak.upgrade())
}

/// Every route of the issuer: each endpoint module lists its own. All are mounted under
/// [`LOG_BASE`] and reached through [`LabelRequests`], which rewrites each request's path to it;
/// the URLs the issuer advertises and redirects to keep the real paths.
fn routes() -> Vec<rocket::Route> {
    [
        endpoints::routes(),
        token::routes(),
        metadata::routes(),
        tenants::routes(),
    ]
    .concat()
}

/// A detachable configuration: the log level in force (`log_level`, so that igniting changes
/// nothing), no signal handling, no grace period, its own random secret key, and nothing read
/// from `Rocket.toml` or `ROCKET_*` variables.
fn rocket_config(address: IpAddr, port: u16, log_level: log::LevelFilter) -> rocket::Config {
    let mut shutdown = ShutdownConfig {
        ctrlc: false,
        grace: 0,
        mercy: 0,
        ..ShutdownConfig::default()
    };
    #[cfg(unix)]
    {
        shutdown.signals = Default::default();
    }
    let mut secret = [0u8; 64];
    rand::thread_rng().fill_bytes(&mut secret);
    rocket::Config {
        address,
        port,
        log_level: request_log::issuer_level(log_level),
        cli_colors: false,
        shutdown,
        secret_key: SecretKey::from(&secret[..]),
        ..rocket::Config::default()
    }
}

impl DevIssuer {
    /// A builder, to choose the address, clients, users and lifetimes.
    pub fn builder() -> DevIssuerBuilder {
        DevIssuerBuilder::default()
    }

    /// Starts an issuer on `127.0.0.1` and a free port, with the default client and users.
    pub async fn start() -> Result<DevIssuer, DevIssuerError> {
        DevIssuer::builder().start().await
    }

    /// The issuer URL, `http://127.0.0.1:PORT` (no trailing slash): the `iss` of its tokens
    /// and the base of its discovery document.
    pub fn issuer_url(&self) -> &str {
        &self.issuer_url
    }

    /// Switches a fault on, from the next request on. Faults accumulate until
    /// [`DevIssuer::clear_faults`].
    pub fn set_fault(&self, fault: Fault) {
        self.inner.lock().faults.0.push(fault);
    }

    /// Switches all faults off.
    pub fn clear_faults(&self) {
        self.inner.lock().faults.0.clear();
    }

    /// With `Some(username)`, `/authorize` skips the login page and logs that user in at once
    /// (or shows the page with a 400 if there is no such user); `None` shows the page again.
    pub fn set_auto_login(&self, username: Option<&str>) {
        self.inner.lock().auto_login = username.map(str::to_owned);
    }

    /// Registers a client (or replaces the one with the same id), effective at once.
    pub fn register_client(&self, client: DevClient) {
        self.inner
            .lock()
            .clients
            .insert(client.client_id.clone(), client);
    }

    /// A snapshot of the [`Counters`].
    pub fn counters(&self) -> Counters {
        self.inner.lock().counters.clone()
    }

    /// Stops the server and waits until it is down.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            shutdown.notify();
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for DevIssuer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            shutdown.notify();
        }
    }
}

impl fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevIssuer")
            .field("issuer_url", &self.issuer_url)
            .finish_non_exhaustive()
    }
}
