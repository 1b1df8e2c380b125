//! One refresh: the refresh-token grant at the token endpoint and the checks of its answer
//! (OpenID Connect Core §12.2), as the `'static` future a coordinator runs once per refresh
//! token. It logs its outcome once, however many requests share it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::{RefreshResult, RefreshedTokens};
use crate::config::{Config, ProviderName};
use crate::error::RefreshError;
use crate::provider::{ExpectedNonce, Provider};
use crate::util;

/// Redeems `refresh_token` at provider `name` for a session of `subject` whose ID token
/// carried `nonce`, starting at `now` by the app's clock (Unix seconds; the new expiry counts
/// from it, so that an app's tests that move the clock see a fresh token).
pub(super) async fn redeem(
    name: ProviderName,
    config: Arc<Config>,
    provider: Arc<Provider>,
    refresh_token: String,
    subject: String,
    nonce: Option<String>,
    now: i64,
) -> RefreshResult {
    let started = Instant::now();
    let result = attempt(
        &config,
        &provider,
        &refresh_token,
        &subject,
        nonce.as_deref(),
        (now, started),
    )
    .await;
    let who = util::truncate(&subject, 64);
    // As the launch lines name providers: by name only when there are provider tables.
    let prefix = if name.is_default() {
        "OpenID Connect".to_owned()
    } else {
        format!("OpenID Connect [{name}]")
    };
    match &result {
        Ok(t) => {
            let lifetime = t
                .access_expires_at
                .map(|at| format!("{} s", at.saturating_sub(t.refreshed_at)))
                .unwrap_or_else(|| "of unstated lifetime".into());
            log::info!(
                "{prefix}: refreshed the tokens of subject `{who}` in {} ms (access \
                 token {lifetime}; {} refresh token; {} ID token)",
                started.elapsed().as_millis(),
                if t.refresh_token.is_some() {
                    "new"
                } else {
                    "same"
                },
                if t.id_token.is_some() { "new" } else { "same" },
            );
            warn_if_skew_too_large(&config, t);
        }
        Err(e) if e.ends_session() => log::warn!(
            "{prefix}: refresh for subject `{who}` failed and the session ends (the \
             user signs in again): {e}"
        ),
        Err(e) => log::warn!(
            "{prefix}: could not refresh the tokens of subject `{who}`; the session \
             keeps its old, stale tokens and the next request after \
             oidc.refresh.failure_cache_secs tries again: {e}"
        ),
    }
    result
}

async fn attempt(
    config: &Config,
    provider: &Provider,
    refresh_token: &str,
    subject: &str,
    nonce: Option<&str>,
    (now, started): (i64, Instant),
) -> RefreshResult {
    let response = provider.refresh(config, refresh_token).await?;
    let (id_token, new_subject) = match response.id_token.as_deref() {
        None => (None, None),
        Some(raw) => {
            // OIDC Core §12.2: the rules of §3.1.3.7 (signature, iss, aud, azp, exp/iat), and a
            // nonce, if any, equal to the original one: Keycloak ≥ 25 omits it. An original
            // token without nonce admits none.
            let validated = provider
                .verify_id_token(
                    raw,
                    ExpectedNonce::IfPresent(nonce.unwrap_or_default()),
                    Some(&response.access_token),
                )
                .await
                .map_err(|e| RefreshError::Rejected(e.to_string()))?;
            check_subject(&validated.subject, subject)?;
            (Some(validated.raw), Some(validated.subject))
        }
    };
    // RFC 6749 §5.1: `expires_in` counts from the answer.
    let elapsed = started.elapsed().as_secs().min(i64::MAX as u64) as i64;
    let now = now.saturating_add(elapsed);
    Ok(RefreshedTokens {
        access_expires_at: response
            .expires_in
            .map(|s| now.saturating_add(s.min(i64::MAX as u64) as i64)),
        access_token: response.access_token,
        // RFC 6749 §6: without a new refresh token the client keeps the old one.
        refresh_token: response.refresh_token.filter(|t| !t.is_empty()),
        id_token,
        subject: new_subject,
        refreshed_at: now,
    })
}

/// OIDC Core §12.2: the refreshed ID token's `sub` must be the session's.
pub(crate) fn check_subject(new: &str, session: &str) -> Result<(), RefreshError> {
    if new == session {
        return Ok(());
    }
    Err(RefreshError::Rejected(format!(
        "the new ID token's sub `{}` is not the session's `{}` (OpenID Connect Core §12.2)",
        util::truncate(new, 64),
        util::truncate(session, 64)
    )))
}

/// Says once per process that access tokens live no longer than the skew: each would be due as
/// soon as it is issued, so every request would refresh.
fn warn_if_skew_too_large(config: &Config, tokens: &RefreshedTokens) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    let Some(at) = tokens.access_expires_at else {
        return;
    };
    let lifetime = at.saturating_sub(tokens.refreshed_at).max(0) as u64;
    let skew = config.refresh.skew_secs;
    if lifetime <= skew && !WARNED.swap(true, Ordering::Relaxed) {
        log::warn!(
            "OpenID Connect: the provider's access tokens live {lifetime} s, no longer than \
             oidc.refresh.skew_secs = {skew}: every request will refresh; set skew_secs below \
             the lifetime (e.g. {})",
            lifetime / 4
        );
    }
}
