//! The connection to Redis: a client built from [`RedisSettings`], one bounded probe at
//! launch (so an unreachable store fails launch after `connect_timeout_ms`, not after the
//! manager's retries), then redis-rs's `ConnectionManager`, which reconnects by itself, with
//! its push messages (pub/sub, and `Disconnection` when the link drops) sent to the replica.

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncConnectionConfig, Client, IntoConnectionInfo, PushInfo, RedisError};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use crate::config::RedisSettings;

/// Reconnect attempts per round (redis-rs then waits for the next command to start another;
/// the replica's heartbeat sends one every second).
const RETRIES: usize = 6;
/// The backoff between reconnect attempts: from 50 ms, doubling, at most 500 ms, so that a
/// restarted Redis is used again within half a second.
const MIN_DELAY: Duration = Duration::from_millis(50);
const MAX_DELAY: Duration = Duration::from_millis(500);
/// With the heartbeat, turns a link to a vanished peer (no RST: a half-open connection) into
/// an error, so that the manager reconnects; response timeouts alone never do.
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the store could not start: the key to change and what to do. It never holds the
/// password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    /// The setting to look at, e.g. `oidc.store.url`.
    pub key: &'static str,
    /// What failed and what to change.
    pub message: String,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl std::error::Error for ConnectError {}

/// A live link: the reconnecting manager (cheap to clone, multiplexed) and the push messages
/// it receives.
pub(crate) struct Link {
    pub manager: ConnectionManager,
    pub pushes: UnboundedReceiver<PushInfo>,
}

/// The client of `settings`. RESP3 is forced: push messages on the same multiplexed
/// connection need it (Redis 6 or later).
fn client(settings: &RedisSettings) -> Result<Client, RedisError> {
    let info = settings.url.as_str().into_connection_info()?;
    let mut redis = info
        .redis_settings()
        .clone()
        .set_protocol(redis::ProtocolVersion::RESP3);
    if let Some(password) = &settings.password {
        redis = redis.set_password(password);
    }
    // TCP_NODELAY: small pub/sub and lock commands must not wait for Nagle.
    let tcp = info
        .tcp_settings()
        .clone()
        .set_nodelay(true)
        .set_user_timeout(TCP_USER_TIMEOUT);
    let info = info.set_redis_settings(redis).set_tcp_settings(tcp);
    match &settings.ca_pem {
        Some(pem) => Client::build_with_tls(
            info,
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem.clone()),
            },
        ),
        None => Client::open(info),
    }
}

/// Connects: one direct connection and `PING`, bounded by the timeouts; then the manager.
pub(crate) async fn connect(settings: &RedisSettings) -> Result<Link, ConnectError> {
    let fail = |e: RedisError| explain(&e, settings);
    let client = client(settings).map_err(fail)?;
    let probe = async {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            .set_response_timeout(Some(settings.command_timeout));
        let mut conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    };
    let bound = settings.connect_timeout + settings.command_timeout;
    match tokio::time::timeout(bound, probe).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(fail(e)),
        Err(_) => return Err(timed_out(settings)),
    }
    let (sender, pushes) = unbounded_channel();
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(settings.connect_timeout))
        .set_response_timeout(Some(settings.command_timeout))
        .set_number_of_retries(RETRIES)
        .set_min_delay(MIN_DELAY)
        .set_max_delay(MAX_DELAY)
        .set_push_sender(sender);
    let manager = tokio::time::timeout(bound, ConnectionManager::new_with_config(client, config))
        .await
        .map_err(|_| timed_out(settings))?
        .map_err(fail)?;
    Ok(Link { manager, pushes })
}

fn timed_out(settings: &RedisSettings) -> ConnectError {
    ConnectError {
        key: "oidc.store.url",
        message: format!(
            "Redis at {} did not answer within {} ms (connect_timeout_ms + command_timeout_ms): \
             check that redis-server runs there and that nothing blocks the port, or fix the \
             url.",
            settings.url,
            (settings.connect_timeout + settings.command_timeout).as_millis()
        ),
    }
}

/// What a Redis error at launch means, and which key to change. Redis' own messages never
/// contain the password; neither do these.
pub(crate) fn explain(e: &RedisError, settings: &RedisSettings) -> ConnectError {
    let url = &settings.url;
    let text = e.to_string();
    let (key, message) = if e.code() == Some("NOAUTH") || text.contains("NOAUTH") {
        (
            "oidc.store.password_env",
            format!(
                "Redis at {url} requires a password: set store.password_env to the name of an \
                 environment variable that holds it."
            ),
        )
    } else if e.code() == Some("WRONGPASS") || text.contains("WRONGPASS") {
        (
            "oidc.store.password_env",
            format!(
                "Redis at {url} refused the user name or password (WRONGPASS): check the \
                 variable store.password_env names, and the user name in store.url."
            ),
        )
    } else if e.code() == Some("NOPERM") || text.contains("NOPERM") {
        (
            "oidc.store.url",
            format!(
                "The Redis user of {url} lacks a permission the store needs ({text}): allow \
                 PING, GET, SET, MGET, SCAN, EVAL, PUBLISH and SUBSCRIBE on the keys and \
                 channels of store.key_prefix."
            ),
        )
    } else if text.contains("HELLO") && text.to_ascii_lowercase().contains("unknown command") {
        (
            "oidc.store.url",
            format!(
                "Redis at {url} is older than 6 (it lacks HELLO, RESP3): the store needs Redis \
                 6 or later."
            ),
        )
    } else if settings.tls && (text.contains("certificate") || text.contains("UnknownIssuer")) {
        (
            "oidc.store.ca_file",
            format!(
                "The TLS certificate of Redis at {url} was not accepted ({text}): set \
                 store.ca_file to the PEM of the CA that signed it, or check the host name."
            ),
        )
    } else if e.is_timeout() {
        return timed_out(settings);
    } else {
        (
            "oidc.store.url",
            format!(
                "Cannot reach Redis at {url} ({text}): start redis-server there, or fix \
                 store.url (and rediss:// for a TLS port)."
            ),
        )
    };
    ConnectError { key, message }
}
