//! A session refreshed during a request: the refresher's (possibly shared) result checked
//! against this session and merged into it, with the claims the guards hand out.

use crate::error::RefreshError;
use crate::session::{self, SessionData};
use crate::state::ProviderState;
use crate::user::{user_claims, Claims};
use crate::util;

/// The session this request refreshed, for a [`TokenRefresher`](super::TokenRefresher) later
/// in the same request (the jar shows only the cookies the request came with). Set only when
/// a refresh happened.
pub(super) struct RefreshedSession(pub Option<SessionData>);

/// A refreshed session and what the guards read from it.
pub(super) struct Applied {
    pub data: SessionData,
    pub claims: Claims,
}

/// Refreshes `data`, whose ID token gave `claims`, at `provider` (the one that signed the user
/// in, named by the session) through its refresher, and merges the new tokens in at `now`.
pub(super) async fn refresh_session(
    provider: &ProviderState,
    data: &SessionData,
    claims: &Claims,
    now: i64,
) -> Result<Applied, RefreshError> {
    let subject = claims.sub();
    let refresh_token = data
        .refresh_token
        .as_deref()
        .ok_or(RefreshError::NoRefreshToken)?;
    let refreshed = provider
        .refresher
        .refresh(refresh_token, subject, session::login_nonce(data), now)
        .await?;
    // The result may have been made for a concurrent request: the same refresh token means the
    // same grant, but its subject is checked against this session all the same.
    if let Some(new_subject) = &refreshed.subject {
        crate::refresh::check_subject(new_subject, subject)?;
    }
    let merged = session::apply_refresh(data, &refreshed, provider.config.keep_access_token, now);
    // Read back as every later request will: bound to this provider's issuer and client.
    let new_claims = user_claims(&provider.binding, &merged, None).ok_or_else(|| {
        RefreshError::Rejected(
            "the new ID token's claims cannot be read back (iss/aud not this client, or no \
             string sub)"
                .into(),
        )
    })?;
    // A multi-tenant issuer: the tenant that signed the user in stays the tenant (OIDC Core
    // §12.2: the new ID token's iss must be the original one).
    if new_claims.tenant_issuer() != claims.tenant_issuer() {
        return Err(RefreshError::Rejected(format!(
            "the new ID token's issuer `{}` is not the session's `{}` (OpenID Connect Core \
             §12.2)",
            util::truncate(new_claims.tenant_issuer().unwrap_or("the provider's"), 128),
            util::truncate(claims.tenant_issuer().unwrap_or("the provider's"), 128)
        )));
    }
    Ok(Applied {
        data: merged,
        claims: new_claims,
    })
}
