//! One refresh per refresh token across instances (RFC 9700 §4.14.2: a rotated refresh token
//! redeemed twice revokes the grant at providers with reuse detection).
//!
//! 1. `GET` the shared result; found: done, no token call.
//! 2. `SET lock <random> NX PX lock_ttl`. The winner checks the result once more (the last
//!    winner may have finished in between), makes the token call, then stores the result and
//!    releases its lock in one script ([`FINISH`]).
//! 3. The others poll result and lock in one round trip; a lock gone without a result (its
//!    holder died) sends them back to 2; past the lock's lifetime they give up.
//!
//! The result is AES-256-GCM ciphertext under a key derived from the old refresh token
//! (`RefreshKey::result_key`), with the lookup id as associated data: Redis, and whoever reads
//! it, never holds usable tokens, and only a holder of the old refresh token can read the new
//! ones. Every call is bounded by the command timeout.

use std::future::Future;
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use redis::aio::ConnectionManager;
use redis::FromRedisValue;

use super::Keys;

/// Stores the result and deletes the lock if it is still this winner's. `KEYS[1]` lock,
/// `KEYS[2]` result; `ARGV`: the lock's token, the result, its lifetime in ms.
pub(crate) const FINISH: &str = r#"
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"#;

/// Deletes the lock if it is still this caller's.
const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

/// The settings of one coordinated refresh.
#[derive(Debug, Clone)]
pub struct FlightSettings {
    /// How long a winner holds the lock: longer than a token call can take (the HTTP timeout)
    /// plus a margin, so that a live winner never loses it.
    pub lock_ttl: Duration,
    /// The bound of each Redis call.
    pub timeout: Duration,
    /// How often a waiting instance looks for the result.
    pub poll: Duration,
}

/// Why the shared flight gave no result.
#[non_exhaustive]
pub enum FlightError<F> {
    /// Redis failed before any lock was seen: nobody else is known to be refreshing, so the
    /// caller may make the call itself (the local coordinator still joins this instance's
    /// requests). The token call, not started, is handed back.
    Unavailable(F, String),
    /// Another instance holds (or held) the lock, and then Redis failed, or the lock outlived
    /// its time: a second redemption would revoke the grant under strict rotation, so the
    /// caller must not refresh now.
    Lost(String),
}

impl<F> std::fmt::Debug for FlightError<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlightError::Unavailable(_, reason) => write!(f, "Unavailable({reason:?})"),
            FlightError::Lost(reason) => write!(f, "Lost({reason:?})"),
        }
    }
}

/// Who produced a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// This caller made the token call.
    Won(Vec<u8>),
    /// Another caller's (or instance's) result.
    Shared(Vec<u8>),
}

/// Encrypts `plain` under `key` with `id` as associated data: nonce ‖ ciphertext.
pub(crate) fn seal(key: &[u8; 32], id: &[u8; 32], plain: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: id,
            },
        )
        .unwrap_or_default();
    let mut out = Vec::with_capacity(12 + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

/// The plaintext of [`seal`]'s output, `None` when it was not sealed under this key and id.
pub(crate) fn open(key: &[u8; 32], id: &[u8; 32], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 12 + 16 {
        return None;
    }
    let (nonce, body) = sealed.split_at(12);
    Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: id })
        .ok()
}

async fn bounded<T: FromRedisValue>(
    conn: &mut ConnectionManager,
    cmd: &redis::Cmd,
    timeout: Duration,
) -> Result<T, String> {
    match tokio::time::timeout(timeout, cmd.query_async::<T>(conn)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}

async fn bounded_pipe(
    conn: &mut ConnectionManager,
    pipe: &redis::Pipeline,
    timeout: Duration,
) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>), String> {
    match tokio::time::timeout(timeout, pipe.query_async(conn)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}

/// Runs `upstream` for `id` once across every instance sharing this Redis, or returns the
/// result another made. `upstream` returns the plaintext result and how long it is to be
/// kept; `secret` is the key results are sealed under.
pub(crate) async fn run<F>(
    manager: &ConnectionManager,
    keys: &Keys,
    id: &[u8; 32],
    secret: &[u8; 32],
    settings: &FlightSettings,
    upstream: F,
) -> Result<Outcome, FlightError<F>>
where
    F: Future<Output = (Vec<u8>, Duration)>,
{
    let mut conn = manager.clone();
    let lock = keys.refresh_lock(id);
    let result = keys.refresh_result(id);
    let timeout = settings.timeout;
    let mut get = redis::cmd("GET");
    get.arg(&result);
    let mut token = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut token);
    let token = super::hex(&{
        let mut t = [0u8; 32];
        t[..16].copy_from_slice(&token);
        t
    });
    let opened = |sealed: Vec<u8>| {
        open(secret, id, &sealed).ok_or_else(|| {
            "the shared refresh result does not decrypt (written under another key)".to_owned()
        })
    };
    let mut seen_lock = false;
    let deadline = Instant::now() + settings.lock_ttl + settings.timeout;
    let fail = |seen: bool, upstream: F, reason: String| {
        if seen {
            FlightError::Lost(reason)
        } else {
            FlightError::Unavailable(upstream, reason)
        }
    };
    loop {
        match bounded::<Option<Vec<u8>>>(&mut conn, &get, timeout).await {
            Ok(Some(sealed)) => {
                return opened(sealed)
                    .map(Outcome::Shared)
                    .map_err(FlightError::Lost)
            }
            Ok(None) => {}
            Err(e) => return Err(fail(seen_lock, upstream, e)),
        }
        let mut set = redis::cmd("SET");
        set.arg(&lock)
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(settings.lock_ttl.as_millis()).unwrap_or(u64::MAX));
        let won = match bounded::<Option<String>>(&mut conn, &set, timeout).await {
            Ok(won) => won.is_some(),
            Err(e) => return Err(fail(seen_lock, upstream, e)),
        };
        if won {
            // The last winner may have finished between our GET and SET.
            if let Ok(Some(sealed)) = bounded::<Option<Vec<u8>>>(&mut conn, &get, timeout).await {
                let mut release = redis::cmd("EVAL");
                release.arg(RELEASE).arg(1).arg(&lock).arg(&token);
                let _ = bounded::<i64>(&mut conn, &release, timeout).await;
                return opened(sealed)
                    .map(Outcome::Shared)
                    .map_err(FlightError::Lost);
            }
            let (plain, keep) = upstream.await;
            let mut finish = redis::cmd("EVAL");
            finish
                .arg(FINISH)
                .arg(2)
                .arg(&lock)
                .arg(&result)
                .arg(&token)
                .arg(seal(secret, id, &plain))
                .arg(u64::try_from(keep.as_millis()).unwrap_or(u64::MAX).max(1));
            if let Err(e) = bounded::<i64>(&mut conn, &finish, timeout).await {
                log::warn!(
                    "OpenID Connect: could not share a refresh result through Redis ({e}): \
                     other instances waiting for it give up and keep their tokens"
                );
            }
            return Ok(Outcome::Won(plain));
        }
        seen_lock = true;
        loop {
            tokio::time::sleep(settings.poll).await;
            let mut pipe = redis::pipe();
            pipe.get(&result).get(&lock);
            match bounded_pipe(&mut conn, &pipe, timeout).await {
                Ok((Some(sealed), _)) => {
                    return opened(sealed)
                        .map(Outcome::Shared)
                        .map_err(FlightError::Lost)
                }
                // Its holder went away without a result: try to take the lock.
                Ok((None, None)) => break,
                Ok((None, Some(_))) if Instant::now() >= deadline => {
                    return Err(FlightError::Lost(format!(
                        "another instance held the refresh lock for more than {} ms",
                        settings.lock_ttl.as_millis()
                    )))
                }
                Ok((None, Some(_))) => {}
                Err(e) => return Err(FlightError::Lost(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_results_open_only_with_their_key_and_id() {
        let key = [1u8; 32];
        let id = [2u8; 32];
        let sealed = seal(&key, &id, b"{\"access_token\":\"at\"}");
        assert!(!sealed.windows(12).any(|w| w == b"access_token"));
        assert_eq!(
            open(&key, &id, &sealed).as_deref(),
            Some(&b"{\"access_token\":\"at\"}"[..])
        );
        assert_eq!(open(&[9u8; 32], &id, &sealed), None);
        assert_eq!(open(&key, &[9u8; 32], &sealed), None);
        assert_eq!(open(&key, &id, &sealed[..20]), None);
        let mut flipped = sealed.clone();
        flipped[15] ^= 1;
        assert_eq!(open(&key, &id, &flipped), None);
    }
}
