//! Redis as the store shared by several instances of the app (cargo feature `redis`,
//! `[default.oidc.store] url = "redis://..."`): the revocation markers, the logout-token replay
//! cache and the refresh coordination.
//!
//! - `conn.rs`: the connection (one bounded probe at launch, then redis-rs's reconnecting
//!   `ConnectionManager`), and errors that name the key to change.
//! - `replica.rs`: each instance's local copy of the markers, fed by pub/sub and a full
//!   resync on every (re)connect, so that the check on every request stays in memory.
//! - `flight.rs`: one refresh per refresh token across instances: a `SET NX PX` lock and a
//!   shared result, encrypted under a key only holders of the old refresh token can derive;
//!   `refresh.rs`: the [`RefreshCoordinator`](crate::RefreshCoordinator) built on it.
//!
//! # What Redis holds
//!
//! Only digests and ciphertext: `{prefix}rev:{hex}` = `"<logged_out_at> <expires_at>"` (the
//! key is a SHA-256 of the issuer and `sid`/`sub`, never either in clear), `{prefix}jti:{hex}`
//! (a digest of a logout token's `jti`), `{prefix}refresh:{hex}:lock` (a random token) and
//! `{prefix}refresh:{hex}:result` (AES-256-GCM ciphertext). Every key expires by itself
//! (`EX`/`PX`). Channel `{prefix}rev` carries `"<hex> <logged_out_at> <expires_at>"`.

pub(crate) mod conn;
pub(crate) mod flight;
mod refresh;
pub(crate) mod replica;
mod store;

pub use conn::ConnectError;
#[cfg_attr(not(feature = "internals"), allow(unused_imports))] // For the Redis tests.
pub use flight::{FlightError, FlightSettings, Outcome};
pub use refresh::RedisCoordinator;
pub use store::{RedisStore, StoreStatus};

use std::time::Duration;

use redis::aio::ConnectionManager;

/// The names of the crate's keys and channel under one prefix. `{hex}` parts are in braces
/// in the refresh keys (a Redis Cluster hash tag), so that a lock and its result share a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Keys {
        Keys {
            prefix: prefix.to_owned(),
        }
    }

    /// The key of the marker of `key`.
    pub(crate) fn marker(&self, key: &[u8; 32]) -> String {
        format!("{}rev:{}", self.prefix, hex(key))
    }

    /// What precedes the hex digest in a marker's key.
    pub(crate) fn marker_prefix(&self) -> String {
        format!("{}rev:", self.prefix)
    }

    /// The `SCAN MATCH` pattern of every marker: the prefix with its glob characters escaped.
    pub(crate) fn marker_pattern(&self) -> String {
        let mut out = String::with_capacity(self.prefix.len() + 8);
        for c in self.prefix.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push_str("rev:*");
        out
    }

    /// The channel markers are published on.
    pub(crate) fn channel(&self) -> String {
        format!("{}rev", self.prefix)
    }

    /// The replay-cache key of a logout token's `jti` digest.
    pub(crate) fn jti(&self, key: &[u8; 32]) -> String {
        format!("{}jti:{}", self.prefix, hex(key))
    }

    /// The lock of the refresh of `id`.
    pub(crate) fn refresh_lock(&self, id: &[u8; 32]) -> String {
        format!("{}refresh:{{{}}}:lock", self.prefix, hex(id))
    }

    /// The shared result of the refresh of `id`.
    pub(crate) fn refresh_result(&self, id: &[u8; 32]) -> String {
        format!("{}refresh:{{{}}}:result", self.prefix, hex(id))
    }
}

/// 64 lowercase hex digits.
pub(crate) fn hex(bytes: &[u8; 32]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Parses 64 hex digits.
pub(crate) fn unhex(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |c: u8| char::from(c).to_digit(16);
        out[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

/// Remembers a logout token's `jti` (its digest) until `expires_at` across instances: `SET
/// NX EX`, `Ok(true)` the first time, `Ok(false)` for a replay (Back-Channel Logout 1.0 §2.6
/// step 10). Bounded by `timeout`.
pub(crate) async fn first_use(
    manager: &ConnectionManager,
    keys: &Keys,
    jti: &[u8; 32],
    expires_at: i64,
    now: i64,
    timeout: Duration,
) -> Result<bool, String> {
    // At least a second: a token that expires now is still remembered briefly.
    let ttl = expires_at.saturating_sub(now).max(1);
    let mut conn = manager.clone();
    let mut cmd = redis::cmd("SET");
    cmd.arg(keys.jti(jti)).arg(1).arg("NX").arg("EX").arg(ttl);
    let set = cmd.query_async::<Option<String>>(&mut conn);
    match tokio::time::timeout(timeout, set).await {
        Ok(Ok(reply)) => Ok(reply.is_some()),
        Ok(Err(e)) => Err(format!("SET NX of a logout token's jti failed: {e}")),
        Err(_) => Err(format!(
            "SET NX of a logout token's jti took more than {} ms",
            timeout.as_millis()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_escape_the_prefix_for_scan_and_tag_refresh_keys() {
        let keys = Keys::new("a*b[1]:");
        let id = [0xab; 32];
        assert_eq!(keys.marker(&id), format!("a*b[1]:rev:{}", "ab".repeat(32)));
        assert_eq!(keys.marker_pattern(), "a\\*b\\[1\\]:rev:*");
        assert_eq!(keys.channel(), "a*b[1]:rev");
        assert_eq!(
            keys.refresh_lock(&id),
            format!("a*b[1]:refresh:{{{}}}:lock", "ab".repeat(32))
        );
        assert_eq!(unhex(&hex(&id)), Some(id));
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex(&"g".repeat(64)), None);
    }
}
