//! [`TokenRefresher`]: a refresh when the app asks for one, e.g. right before it calls an API
//! with the access token.

use std::time::Duration;

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

use super::refresh::{refresh_session, RefreshedSession};
use super::{lookup, SessionLookup};
use crate::error::RefreshError;
use crate::refresh::is_due;
use crate::session::{self, Loaded, SessionData};
use crate::state::{self, OidcState, ProviderState};
use crate::unauthorized::{LoginRequired, StaleSession};
use crate::user::{into_context, user_claims, Claims, RefreshStatus, UserContext};

/// A request guard for handlers that refresh the tokens themselves: a signed-in user (like
/// [`AuthenticatedUser`](crate::AuthenticatedUser), with the same outcomes when there is no
/// session) whose tokens can be refreshed on demand, in `auto` and `on_demand` modes alike.
///
/// - [`refresh_if_expiring`](TokenRefresher::refresh_if_expiring) refreshes only when the
///   access token expires within the given time: call it right before using the token.
/// - [`refresh`](TokenRefresher::refresh) refreshes now, e.g. after an API answered 401.
///
/// Either goes through the same single-flight coordinator as the guards' automatic refresh, so
/// requests racing with the same session still make one token-endpoint call. On success the
/// response carries the new session cookie. On failure the [`RefreshError`] says what happened:
/// when it [ends the session](RefreshError::ends_session) the session cookie is removed, and
/// returning the error (it is a `Responder`, so `?` works) answers 401, which sends a browser
/// to login and back like a failed `AuthenticatedUser`; when the provider could not refresh, the
/// session stays and the error answers 503.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use std::time::Duration;
/// use rocket_openid_connect::{RefreshError, TokenRefresher};
///
/// #[get("/report")]
/// async fn report(mut tokens: TokenRefresher<'_>) -> Result<String, RefreshError> {
///     // The API call below takes a while: make sure the token outlives it.
///     let user = tokens.refresh_if_expiring(Duration::from_secs(120)).await?;
///     let access_token = user.tokens.access_token.as_deref().unwrap_or_default();
///     // ... call the API with `Authorization: Bearer {access_token}` ...
///     # let _ = access_token;
///     Ok(format!("report for {}", user.userinfo.sub))
/// }
/// ```
pub struct TokenRefresher<'r> {
    req: &'r Request<'r>,
    state: &'r OidcState,
    /// The provider that signed the user in: refreshes go to it.
    provider: &'r ProviderState,
    data: SessionData,
    /// What `data`'s ID token says, for the checks of a refresh.
    claims: Claims,
    user: UserContext,
}

impl std::fmt::Debug for TokenRefresher<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRefresher")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl<'r> TokenRefresher<'r> {
    /// The signed-in user as the request sees it now: after any automatic refresh, and after
    /// the last successful call of this guard.
    pub fn user(&self) -> &UserContext {
        &self.user
    }

    /// The user, owned.
    pub fn into_user(self) -> UserContext {
        self.user
    }

    /// Refreshes the tokens if the access token expires within `within` (or has expired);
    /// otherwise returns the user as is. An access token of unstated lifetime is not refreshed.
    ///
    /// # Errors
    ///
    /// See [`refresh`](TokenRefresher::refresh).
    pub async fn refresh_if_expiring(
        &mut self,
        within: Duration,
    ) -> Result<&UserContext, RefreshError> {
        let within = within.as_secs().min(i64::MAX as u64) as i64;
        if is_due(
            self.data.access_expires_at,
            within,
            self.state.clock().now_unix(),
        ) {
            self.refresh().await
        } else {
            Ok(&self.user)
        }
    }

    /// Refreshes the tokens now (or shares the result of a refresh of the same refresh token
    /// made moments ago).
    ///
    /// # Errors
    ///
    /// [`RefreshError::Disabled`] in `off` mode, [`RefreshError::NoRefreshToken`] for a
    /// session without one; [`InvalidGrant`](RefreshError::InvalidGrant) and
    /// [`Rejected`](RefreshError::Rejected) end the session; with
    /// [`Unavailable`](RefreshError::Unavailable) and [`Refused`](RefreshError::Refused) it
    /// keeps its old tokens ([`RefreshStatus::Stale`]).
    pub async fn refresh(&mut self) -> Result<&UserContext, RefreshError> {
        let now = self.state.clock().now_unix();
        match refresh_session(self.provider, &self.data, &self.claims, now).await {
            Ok(mut applied) => {
                let jar = self.req.cookies();
                let opts = self.state.cookie_options();
                if session::tokens_differ(&self.data, &applied.data) {
                    let lifetimes = self.state.lifetimes();
                    if let Err(e) = session::renew(jar, opts, &mut applied.data, lifetimes, now) {
                        log::warn!("OpenID Connect: could not write the session cookie: {e}");
                    }
                }
                self.data = applied.data;
                self.claims = applied.claims.clone();
                self.user = into_context(
                    &self.provider.binding,
                    applied.claims,
                    self.data.clone(),
                    RefreshStatus::Refreshed,
                );
                Ok(&self.user)
            }
            Err(e) => {
                if e.ends_session() {
                    // The catcher clears the cookies again if the handler answers 401 (Rocket
                    // drops a handler's cookie changes before running catchers).
                    self.req.local_cache(|| StaleSession(true));
                    self.req.local_cache(|| LoginRequired(true));
                    session::clear_session(self.req.cookies(), self.state.cookie_options());
                } else if matches!(
                    e,
                    RefreshError::Unavailable(_) | RefreshError::Refused { .. }
                ) {
                    self.user.tokens.refresh_status = RefreshStatus::Stale;
                }
                Err(e)
            }
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for TokenRefresher<'r> {
    type Error = &'static str;

    /// | request | outcome |
    /// |---|---|
    /// | valid session | success (after any automatic refresh) |
    /// | no session | 401 for the catcher, as [`AuthenticatedUser`](crate::AuthenticatedUser) |
    /// | fairing not attached | 500 (and the app does not launch: `Sentinel`) |
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let ctx = match lookup(req).await {
            SessionLookup::Some(ctx) => ctx,
            SessionLookup::None => {
                req.local_cache(|| LoginRequired(true));
                return Outcome::Error((Status::Unauthorized, "sign-in required"));
            }
            SessionLookup::NotConfigured => {
                log::error!("TokenRefresher: {}", state::NOT_ATTACHED);
                return Outcome::Error((
                    Status::InternalServerError,
                    "OpenID Connect is not configured",
                ));
            }
        };
        let Some(state) = OidcState::of(req) else {
            return Outcome::Error((
                Status::InternalServerError,
                "OpenID Connect is not configured",
            ));
        };
        // The session as this request left it: refreshed by the lookup, or as it came.
        let data = match &req.local_cache(|| RefreshedSession(None)).0 {
            Some(data) => Some(data.clone()),
            None => match session::load(
                req.cookies(),
                state.cookie_options(),
                state.lifetimes(),
                state.clock().now_unix(),
            ) {
                Loaded::Valid { session, .. } => Some(session.data),
                Loaded::None | Loaded::Stale | Loaded::Foreign => None,
            },
        };
        // The lookup accepted this session, so its provider and claims are there; a session
        // that changed under it (it cannot) would be answered as none.
        let found = data.and_then(|data| {
            let provider = state.provider_of(&data)?;
            let claims = user_claims(&provider.binding, &data, None)?;
            Some((data, provider, claims))
        });
        let Some((data, provider, claims)) = found else {
            req.local_cache(|| LoginRequired(true));
            return Outcome::Error((Status::Unauthorized, "sign-in required"));
        };
        Outcome::Success(TokenRefresher {
            req,
            state,
            provider,
            data,
            claims,
            user: (*ctx).clone(),
        })
    }
}

impl Sentinel for TokenRefresher<'_> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        state::sentinel_abort(rocket, "TokenRefresher")
    }
}
