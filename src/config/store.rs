//! `[default.oidc.store]`: where the "logged out at" markers, the logout-token replay cache and
//! the refresh coordination live. In this process's memory by default; with `url`, in a Redis
//! shared by every instance of the app (cargo feature `redis`). The checks of the table, and
//! [`RedisSettings`], the resolved form the Redis store connects with (password read from the
//! environment, CA file read), are here; the connection itself is in `redis_store/`.

use std::fmt;
use std::time::Duration;

use rocket::serde::{Deserialize, Serialize};
use url::Url;

use super::{lenient, ConfigProblem};

/// The default of [`StoreConfig::max_entries`].
pub(crate) const DEFAULT_STORE_MAX_ENTRIES: usize = 1_000_000;

/// The longest timeout accepted, in milliseconds: a store slower than this is down.
const MAX_TIMEOUT_MS: u64 = 60_000;

/// The longest key prefix accepted.
const MAX_PREFIX_LEN: usize = 64;

/// `[default.oidc.store]`: where the markers of signed-out sessions, the replay cache of
/// logout tokens and (with Redis) the refresh coordination live.
///
/// Without `url` they live in this process's memory: right for one instance. With several
/// instances behind a load balancer, point them all at one Redis (cargo feature `redis`), so
/// that a back-channel logout received by one signs the user out on all, and one refresh token
/// is redeemed once:
///
/// ```toml
/// [default.oidc.store]
/// url = "redis://10.0.0.5:6379/1"      # rediss:// for TLS; /1 = a database of its own
/// password_env = "REDIS_PASSWORD"      # the *name* of the variable holding the password
/// key_prefix = "myapp:oidc:"
/// ```
///
/// or `ROCKET_OIDC_STORE={url="redis://10.0.0.5:6379/1",password_env="REDIS_PASSWORD"}` in
/// the environment. `Debug` redacts a password in `url`.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(crate = "rocket::serde", default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The most markers the in-memory store (and each instance's local copy of a Redis store)
    /// holds, and as many logout-token `jti`s; at least 1. A marker lives for
    /// `session_absolute_timeout_secs` after its logout, ~100 bytes each. A full store drops
    /// no live marker: it signs out every session older than the newest logout it could not
    /// store, and logs an error.
    ///
    /// _Default:_ `1000000`.
    pub max_entries: usize,

    /// The Redis shared by every instance: `redis://[[user]:password@]host[:port][/db]`, or
    /// `rediss://…` for TLS (checked against the system's roots, or [`ca_file`]). Needs the
    /// cargo feature `redis` and Redis 6 or later. Launch fails when it is set and Redis cannot
    /// be reached, like a wrong issuer. Prefer a database of its own (`/1`): resyncs scan it.
    ///
    /// [`ca_file`]: StoreConfig::ca_file
    ///
    /// _Default:_ none: the store is in this process's memory.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub url: Option<String>,

    /// The name of the environment variable holding the Redis password (`requirepass`, or the
    /// ACL user's password with a user name in `url`). Better than a password in `url`, which
    /// tends to end up in version control; not both.
    ///
    /// _Default:_ none: no password, unless `url` has one.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub password_env: Option<String>,

    /// What every Redis key and channel of the crate starts with, so that several apps can
    /// share one Redis. 1 to 64 printable ASCII characters, no spaces.
    ///
    /// _Default:_ `"oidc:"`.
    #[serde(deserialize_with = "lenient::string")]
    pub key_prefix: String,

    /// Milliseconds a connection to Redis (TCP, TLS, `HELLO`/`AUTH`) may take, at launch and on
    /// each reconnect. 1 to 60000.
    ///
    /// _Default:_ `1000`.
    pub connect_timeout_ms: u64,

    /// Milliseconds any Redis call may take, including waiting for a reconnect; after that the
    /// call is given up (the request goes on as described in the README's "When Redis
    /// fails"). 1 to 60000.
    ///
    /// _Default:_ `300`.
    pub command_timeout_ms: u64,

    /// A PEM file of the certificate authority that signed the Redis server's certificate,
    /// for `rediss://` with a private CA; it replaces the system's roots.
    ///
    /// _Default:_ none: the system's roots.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub ca_file: Option<String>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            max_entries: DEFAULT_STORE_MAX_ENTRIES,
            url: None,
            password_env: None,
            key_prefix: "oidc:".into(),
            connect_timeout_ms: 1000,
            command_timeout_ms: 300,
            ca_file: None,
        }
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("max_entries", &self.max_entries)
            .field("url", &self.url.as_deref().map(redact_url))
            .field("password_env", &self.password_env)
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("command_timeout_ms", &self.command_timeout_ms)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// `url` with its password, if any, replaced by `<redacted>`; what logs and messages show. A
/// value that does not parse shows only its scheme.
pub(crate) fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_none() {
                return parsed.to_string();
            }
            // A placeholder the URL keeps as it is (`<` and `>` would be percent-encoded).
            // set_password only fails for URLs that cannot have credentials, and this has.
            let _ = parsed.set_password(Some("REDACTED"));
            parsed.to_string().replacen(":REDACTED@", ":<redacted>@", 1)
        }
        Err(_) => match url.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://<unparsable>"),
            None => "<unparsable>".into(),
        },
    }
}

/// The settings a Redis store connects with: [`StoreConfig`] checked and resolved (the
/// password read from its variable, the CA file read). `Debug` redacts the password.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))] // Used by redis_store/ only.
pub struct RedisSettings {
    /// `url` without a password (the password is in [`password`](Self::password)).
    pub url: String,
    /// Whether it is `rediss://`.
    pub tls: bool,
    /// The password, from `password_env` or `url`.
    pub password: Option<String>,
    /// The key prefix.
    pub key_prefix: String,
    /// The bound of one connection attempt.
    pub connect_timeout: Duration,
    /// The bound of one call.
    pub command_timeout: Duration,
    /// The private CA's PEM, read from `ca_file`.
    pub ca_pem: Option<Vec<u8>>,
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &self.url)
            .field("tls", &self.tls)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("ca_pem", &self.ca_pem.as_ref().map(Vec::len))
            .finish()
    }
}

impl StoreConfig {
    /// The problems of the table that need nothing outside it (the checks of
    /// [`Config::validate`](super::Config::validate)). `redis_built` says whether the crate
    /// was built with the feature `redis`.
    pub(crate) fn problems(&self, redis_built: bool) -> Vec<ConfigProblem> {
        let mut out = Vec::new();
        let mut push = |key: &str, message: String| {
            out.push(ConfigProblem::new(format!("oidc.store.{key}"), message))
        };
        if self.max_entries == 0 {
            push(
                "max_entries",
                "Your store.max_entries must be at least 1 (the default is 1000000).".into(),
            );
        }
        for (key, value, default) in [
            ("connect_timeout_ms", self.connect_timeout_ms, 1000),
            ("command_timeout_ms", self.command_timeout_ms, 300),
        ] {
            if value == 0 || value > MAX_TIMEOUT_MS {
                push(
                    key,
                    format!(
                        "Your store.{key} must be between 1 and {MAX_TIMEOUT_MS} milliseconds; \
                         it is {value} (the default is {default})."
                    ),
                );
            }
        }
        let prefix = &self.key_prefix;
        if prefix.is_empty()
            || prefix.len() > MAX_PREFIX_LEN
            || !prefix.bytes().all(|b| b.is_ascii_graphic())
        {
            push(
                "key_prefix",
                format!(
                    "Your store.key_prefix must be 1 to {MAX_PREFIX_LEN} printable ASCII \
                     characters without spaces, e.g. \"myapp:oidc:\"; it is {:?}.",
                    crate::util::truncate(prefix, 80)
                ),
            );
        }
        let Some(url) = self.url.as_deref() else {
            for (key, set) in [
                ("password_env", self.password_env.is_some()),
                ("ca_file", self.ca_file.is_some()),
            ] {
                if set {
                    push(
                        key,
                        format!(
                            "store.{key} is set but store.url is not: set url to your Redis \
                             (redis://host:6379/1), or remove {key}."
                        ),
                    );
                }
            }
            return out;
        };
        if !redis_built {
            push(
                "url",
                "store.url is set, but this build of rocket_openid_connect lacks Redis: add \
                 the feature, `rocket_openid_connect = { version = \"…\", features = \
                 [\"redis\"] }` in Cargo.toml, or remove url to keep the store in memory."
                    .into(),
            );
            return out;
        }
        let shown = redact_url(url);
        if !url.contains("://") {
            push(
                "url",
                "Your store.url must start with redis:// or rediss:// (TLS), e.g. \
                 redis://host:6379/1."
                    .into(),
            );
            return out;
        }
        let parsed = match Url::parse(url) {
            Ok(parsed) => parsed,
            Err(e) => {
                push(
                    "url",
                    format!(
                        "Your store.url is not a URL ({e}): write it as redis://host:6379/1, or \
                         rediss://host:6380/1 for TLS. Current value: {shown}."
                    ),
                );
                return out;
            }
        };
        if !matches!(parsed.scheme(), "redis" | "rediss") {
            push(
                "url",
                format!(
                    "Your store.url must start with redis:// or rediss:// (TLS), e.g. \
                     redis://host:6379/1; it starts with {}://.",
                    parsed.scheme()
                ),
            );
            return out;
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            push(
                "url",
                format!("Your store.url has no host, e.g. redis://127.0.0.1:6379/1. Current value: {shown}."),
            );
        }
        let db = parsed.path().trim_start_matches('/');
        if !db.is_empty() && db.parse::<u16>().is_err() {
            push(
                "url",
                format!(
                    "The path of your store.url must be a database number, e.g. /1, or \
                     nothing; it is {:?}.",
                    crate::util::truncate(parsed.path(), 40)
                ),
            );
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            push(
                "url",
                format!(
                    "Remove the ?… or #… part of your store.url ({shown}): the crate sets the \
                     protocol itself, and a private CA is given with store.ca_file."
                ),
            );
        }
        if parsed.password().is_some() && self.password_env.is_some() {
            push(
                "password_env",
                "Both store.url and store.password_env give a password: remove the one in url \
                 (better: keep it out of Rocket.toml)."
                    .into(),
            );
        }
        if let Some(name) = self.password_env.as_deref() {
            if name.is_empty() || name.contains(['=', '\0']) {
                push(
                    "password_env",
                    format!(
                        "store.password_env must be the name of an environment variable, e.g. \
                         \"REDIS_PASSWORD\"; it is {:?}.",
                        crate::util::truncate(name, 40)
                    ),
                );
            }
        }
        if self.ca_file.is_some() && parsed.scheme() != "rediss" {
            push(
                "ca_file",
                format!(
                    "store.ca_file is set but store.url is not rediss:// ({shown}): use \
                     rediss:// for TLS, or remove ca_file."
                ),
            );
        }
        out
    }

    /// The Redis settings, or `None` without `url`. `env` reads an environment variable (the
    /// one `password_env` names); the CA file is read here. Call after [`problems`] found none.
    ///
    /// [`problems`]: StoreConfig::problems
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn redis_settings(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<RedisSettings>, ConfigProblem> {
        let Some(url) = self.url.as_deref() else {
            return Ok(None);
        };
        let problem =
            |key: &str, message: String| ConfigProblem::new(format!("oidc.store.{key}"), message);
        let mut parsed = Url::parse(url).map_err(|e| {
            problem(
                "url",
                format!("Your store.url is not a URL ({e}), e.g. redis://host:6379/1."),
            )
        })?;
        let mut password = parsed.password().map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        });
        let _ = parsed.set_password(None);
        if let Some(name) = self.password_env.as_deref() {
            match env(name) {
                Some(value) if !value.is_empty() => password = Some(value),
                _ => {
                    return Err(problem(
                        "password_env",
                        format!(
                            "store.password_env names the environment variable {name}, which \
                             is not set (or empty) in this process: set {name} to the Redis \
                             password, or remove password_env if Redis has none."
                        ),
                    ))
                }
            }
        }
        let ca_pem = match self.ca_file.as_deref() {
            None => None,
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    problem(
                        "ca_file",
                        format!(
                            "store.ca_file {path:?} cannot be read ({e}): give the path of the \
                             PEM file of the CA that signed the Redis server's certificate."
                        ),
                    )
                })?;
                if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
                    return Err(problem(
                        "ca_file",
                        format!(
                            "store.ca_file {path:?} holds no PEM certificate (-----BEGIN \
                             CERTIFICATE-----): give the CA's certificate in PEM form."
                        ),
                    ));
                }
                Some(pem)
            }
        };
        Ok(Some(RedisSettings {
            tls: parsed.scheme() == "rediss",
            url: parsed.to_string(),
            password,
            key_prefix: self.key_prefix.clone(),
            connect_timeout: Duration::from_millis(self.connect_timeout_ms),
            command_timeout: Duration::from_millis(self.command_timeout_ms),
            ca_pem,
        }))
    }
}

#[cfg(test)]
mod tests;
