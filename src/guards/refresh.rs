//! A session refreshed during a request: the refresher's (possibly shared) result checked
//! against this session and merged into it, with the claims the guards hand out.

use time::OffsetDateTime;

use crate::error::RefreshError;
use crate::session::{self, SessionData};
use crate::state::OidcState;
use crate::user::{user_claims, UserInfo};

/// The session this request refreshed, for a [`TokenRefresher`](super::TokenRefresher) later
/// in the same request (the jar shows only the cookies the request came with). Set only when
/// a refresh happened.
pub(super) struct RefreshedSession(pub Option<SessionData>);

/// A refreshed session and what the guards read from it.
pub(super) struct Applied {
    pub data: SessionData,
    pub userinfo: UserInfo,
    pub id_token_expires_at: Option<OffsetDateTime>,
}

/// Refreshes `data`, the session of `subject`, through the provider's refresher, and merges
/// the new tokens in at `now`.
pub(super) async fn refresh_session(
    state: &OidcState,
    data: &SessionData,
    subject: &str,
    now: i64,
) -> Result<Applied, RefreshError> {
    let refresh_token = data
        .refresh_token
        .as_deref()
        .ok_or(RefreshError::NoRefreshToken)?;
    let refreshed = state
        .refresher
        .refresh(refresh_token, subject, session::login_nonce(data))
        .await?;
    // The result may have been made for a concurrent request: the same refresh token means the
    // same grant, but its subject is checked against this session all the same.
    if let Some(new_subject) = &refreshed.subject {
        crate::refresh::check_subject(new_subject, subject)?;
    }
    let merged = session::apply_refresh(data, &refreshed, state.config.keep_access_token, now);
    let (userinfo, id_token_expires_at) =
        user_claims(&state.config, &merged, None).ok_or_else(|| {
            RefreshError::Rejected(
                "the new ID token's claims cannot be read back (iss/aud not this client, or no \
                 string sub)"
                    .into(),
            )
        })?;
    Ok(Applied {
        data: merged,
        userinfo,
        id_token_expires_at,
    })
}
