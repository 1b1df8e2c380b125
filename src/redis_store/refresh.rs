//! [`RedisCoordinator`]: one token-endpoint call per refresh token across every instance
//! sharing the Redis store. It wraps the in-memory [`LocalCoordinator`] (so only one task per
//! instance reaches Redis), and that task runs the cross-instance flight of `flight.rs`.

use std::sync::Arc;
use std::time::Duration;

use super::flight::{FlightError, FlightSettings, Outcome};
use super::RedisStore;
use crate::error::RefreshError;
use crate::refresh::{BoxFuture, LocalCoordinator, RefreshCoordinator, RefreshKey, RefreshResult};

/// How a waiting instance looks for the result.
const POLL: Duration = Duration::from_millis(10);

/// A result as it is stored in Redis (then encrypted): `{"Ok": tokens}` or `{"Err": why}`.
fn encode(result: &RefreshResult) -> Vec<u8> {
    rocket::serde::json::serde_json::to_vec(result).unwrap_or_default()
}

fn decode(bytes: &[u8]) -> RefreshResult {
    rocket::serde::json::serde_json::from_slice::<RefreshResult>(bytes).unwrap_or_else(|e| {
        Err(RefreshError::Unavailable(format!(
            "the shared refresh result could not be read: {e}"
        )))
    })
}

/// The [`RefreshCoordinator`] of several instances sharing a [`RedisStore`]: the first
/// instance to take the lock of a refresh token makes the call, the others wait for its
/// result, which stays in Redis (encrypted under a key derived from the old refresh token)
/// for `result_ttl` (`failure_ttl` for a failure). While Redis is unreachable, each instance
/// coordinates its own requests; when another instance was seen holding the lock and Redis
/// then failed, it does not refresh (a second redemption would revoke the grant under strict
/// rotation): the request goes on with the old tokens, as when the provider is down.
pub struct RedisCoordinator {
    store: Arc<RedisStore>,
    local: LocalCoordinator,
    flight: FlightSettings,
    result_ttl: Duration,
    failure_ttl: Duration,
}

impl std::fmt::Debug for RedisCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCoordinator")
            .field("store", &self.store)
            .field("flight", &self.flight)
            .field("result_ttl", &self.result_ttl)
            .field("failure_ttl", &self.failure_ttl)
            .finish()
    }
}

impl RedisCoordinator {
    /// A coordinator over `store`. `call_timeout` bounds one token-endpoint call
    /// (`oidc.http_timeout_secs`): the lock lives 2 s longer, so a live winner keeps it.
    pub fn new(
        store: Arc<RedisStore>,
        call_timeout: Duration,
        result_ttl: Duration,
        failure_ttl: Duration,
    ) -> RedisCoordinator {
        RedisCoordinator {
            flight: FlightSettings {
                lock_ttl: call_timeout.saturating_add(Duration::from_secs(2)),
                timeout: store.command_timeout(),
                poll: POLL,
            },
            local: LocalCoordinator::new(result_ttl, failure_ttl),
            store,
            result_ttl,
            failure_ttl,
        }
    }
}

impl RefreshCoordinator for RedisCoordinator {
    fn run(
        &self,
        key: RefreshKey,
        refresh: BoxFuture<'static, RefreshResult>,
    ) -> BoxFuture<'_, RefreshResult> {
        let store = self.store.clone();
        let flight = self.flight.clone();
        let (result_ttl, failure_ttl) = (self.result_ttl, self.failure_ttl);
        let (id, secret) = (*key.id(), *key.result_key());
        let shared = async move {
            let upstream = async move {
                let result = refresh.await;
                let keep = if result.is_ok() {
                    result_ttl
                } else {
                    failure_ttl
                };
                (encode(&result), keep)
            };
            match store.refresh_once(&id, &secret, &flight, upstream).await {
                Ok(Outcome::Won(bytes) | Outcome::Shared(bytes)) => decode(&bytes),
                Err(FlightError::Unavailable(upstream, reason)) => {
                    log::warn!(
                        "OpenID Connect: refresh coordinated within this instance only ({reason})"
                    );
                    decode(&upstream.await.0)
                }
                Err(FlightError::Lost(reason)) => {
                    log::warn!(
                        "OpenID Connect: another instance is refreshing this session's tokens \
                         and Redis failed ({reason}): keeping the old tokens for now"
                    );
                    Err(RefreshError::Unavailable(format!(
                        "another instance is refreshing, and Redis failed: {reason}"
                    )))
                }
            }
        };
        self.local.run(key, Box::pin(shared))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_result_survives_the_round_trip_through_redis() {
        let results: Vec<RefreshResult> = vec![
            Ok(crate::refresh::RefreshedTokens {
                access_token: "at-2".into(),
                access_expires_at: Some(1_700_000_300),
                refresh_token: Some("rt-2".into()),
                id_token: None,
                subject: Some("ada".into()),
                refreshed_at: 1_700_000_000,
            }),
            Err(RefreshError::Disabled),
            Err(RefreshError::NoRefreshToken),
            Err(RefreshError::InvalidGrant {
                description: Some("used".into()),
            }),
            Err(RefreshError::Rejected("sub".into())),
            Err(RefreshError::Refused {
                error: "invalid_client".into(),
                status: 401,
                description: None,
            }),
            Err(RefreshError::Unavailable("503".into())),
        ];
        for result in results {
            assert_eq!(decode(&encode(&result)), result);
        }
        assert!(matches!(
            decode(b"not json"),
            Err(RefreshError::Unavailable(_))
        ));
    }
}
