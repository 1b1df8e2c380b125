//! The request guards [`UserContext`] and [`AuthenticatedUser`]: the session is decoded once per
//! request (Rocket's request-local cache), however many guards ask, checked against the
//! revocation store, and refreshed there when its access token is due (`refresh.rs`).
//! [`TokenRefresher`] (`refresher.rs`) refreshes on the app's demand.

mod refresh;
mod refresher;

use std::ops::Deref;
use std::sync::Arc;

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

use crate::cache_control;
use crate::session::{self, Loaded};
use crate::state::{self, OidcState};
use crate::unauthorized::{LoginRequired, StaleSession};
use crate::user::{into_context, user_claims, RefreshStatus, UserContext};
use crate::util;

pub use refresher::TokenRefresher;

/// The result of looking at the session once per request (request-local cache).
#[derive(Clone)]
enum SessionLookup {
    NotConfigured,
    None,
    Some(Arc<UserContext>),
}

async fn lookup(req: &Request<'_>) -> SessionLookup {
    req.local_cache_async(async {
        let Some(state) = OidcState::of(req) else {
            return SessionLookup::NotConfigured;
        };
        let jar = req.cookies();
        let opts = state.cookie_options();
        let lifetimes = state.lifetimes();
        let now = state.clock().now_unix();
        let stale = || {
            req.local_cache(|| StaleSession(true));
            session::clear_session(jar, opts);
            SessionLookup::None
        };
        let loaded = session::load(jar, opts, lifetimes, now);
        cache_control::mark(req, cache_control::use_of(&loaded));
        let (session, mut rewrite) = match loaded {
            Loaded::None | Loaded::Foreign => return SessionLookup::None,
            Loaded::Stale => return stale(),
            Loaded::Valid { session, rewrite } => (session, rewrite),
        };
        // Bound to the provider that signed the user in: its issuer and client id. A session
        // naming a provider no longer configured is stale, and so is one minted for another
        // provider or client under the same secret_key.
        let Some(provider) = state.provider_of(&session.data) else {
            return stale();
        };
        let binding = &provider.binding;
        let Some(mut claims) = user_claims(binding, &session.data, session.claims_json()) else {
            return stale();
        };
        // Signed out since (back-channel logout, or /logout with a copy of this cookie): the
        // session ends here as an expired one would. The store answers from memory.
        if state.is_revoked(
            provider,
            &session.data,
            claims.tenant_issuer(),
            claims.sid(),
            claims.sub(),
        ) {
            log::info!(
                "{}: refused a signed-out session of subject `{}`",
                provider.log_prefix(state.named),
                util::truncate(claims.sub(), 64)
            );
            return stale();
        }
        let mut data = session.data;
        let mut status = RefreshStatus::Unchanged;
        // Refreshed at the provider that signed the user in (the session names it), with its
        // client authentication, keys and rules.
        let refresher = &provider.refresher;
        if data.refresh_token.is_some() && refresher.auto_due(data.access_expires_at, now) {
            match refresh::refresh_session(provider, &data, &claims, now).await {
                Ok(applied) => {
                    // The cookie is written only when the tokens changed; the idle renewal
                    // below rides on the same write.
                    rewrite |= session::tokens_differ(&data, &applied.data);
                    data = applied.data;
                    claims = applied.claims;
                    status = RefreshStatus::Refreshed;
                    req.local_cache(|| refresh::RefreshedSession(Some(data.clone())));
                }
                Err(e) if e.ends_session() => return stale(),
                Err(_) => status = RefreshStatus::Stale,
            }
        }
        if rewrite {
            if let Err(e) = session::renew(jar, opts, &mut data, lifetimes, now) {
                log::warn!("OpenID Connect: could not write the session cookie: {e}");
            }
        }
        SessionLookup::Some(Arc::new(into_context(binding, claims, data, status)))
    })
    .await
    .clone()
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for UserContext {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match lookup(req).await {
            SessionLookup::Some(ctx) => Outcome::Success((*ctx).clone()),
            _ => Outcome::Forward(Status::Unauthorized),
        }
    }
}

impl Sentinel for UserContext {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        state::sentinel_abort(rocket, "UserContext")
    }
}

/// A route guard that requires a signed-in user; derefs to its [`UserContext`].
///
/// | request                                   | outcome                                      |
/// |-------------------------------------------|----------------------------------------------|
/// | valid session                             | success                                      |
/// | a session signed out since (back-channel logout from the provider, or `POST /logout` when this is a copy of the cookie) | as with no session, and its cookies are expired |
/// | no session, browser navigating (`GET`/`HEAD`, `Accept` with `text/html`, no `X-Requested-With: XMLHttpRequest`, `Sec-Fetch-Mode` absent or `navigate`, `Sec-Fetch-Dest` absent or `document`) | 303 to `/login?return_to=<this page>`, then back after login |
/// | no session, any other client (API, XHR, fetch, curl) | 401 with `WWW-Authenticate` and a JSON body, never a redirect |
/// | access token due for refresh (`auto` mode), refreshed | success with the new tokens (`tokens.refresh_status` = `Refreshed`), new session cookie |
/// | refresh refused (`invalid_grant`) or its answer rejected | as without a session: the session cookie is expired, login redirect or 401 |
/// | refresh failed for lack of a usable answer (outage, timeout, 5xx) | success with the old tokens (`Stale`) |
///
/// Both responses come from a 401 catcher that the fairing registers at `/`. If your app
/// registers its own 401 catcher at `/`, the fairing leaves it alone (Rocket forbids two) and
/// logs so at launch: call [`unauthorized`](crate::unauthorized) from your catcher to keep the
/// login redirect for browsers.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_openid_connect::AuthenticatedUser;
///
/// #[get("/protected")]
/// fn protected(user: AuthenticatedUser) -> String {
///     format!("Only for {}", user.userinfo.sub)
/// }
/// ```
///
/// It shares the request's decoded session instead of copying it (the guard runs on every
/// request to a protected route); [`into_inner`](AuthenticatedUser::into_inner) gives an owned
/// [`UserContext`].
#[derive(Debug, Clone)]
pub struct AuthenticatedUser(Arc<UserContext>);

impl AuthenticatedUser {
    /// The user context, owned (copied only if another guard of the request holds it too).
    pub fn into_inner(self) -> UserContext {
        Arc::try_unwrap(self.0).unwrap_or_else(|shared| (*shared).clone())
    }
}

impl Deref for AuthenticatedUser {
    type Target = UserContext;

    fn deref(&self) -> &UserContext {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AuthenticatedUser {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match lookup(req).await {
            SessionLookup::Some(ctx) => Outcome::Success(AuthenticatedUser(ctx)),
            SessionLookup::None => {
                req.local_cache(|| LoginRequired(true));
                Outcome::Error((Status::Unauthorized, "sign-in required"))
            }
            SessionLookup::NotConfigured => {
                log::error!("AuthenticatedUser: {}", state::NOT_ATTACHED);
                Outcome::Error((
                    Status::InternalServerError,
                    "OpenID Connect is not configured",
                ))
            }
        }
    }
}

impl Sentinel for AuthenticatedUser {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        state::sentinel_abort(rocket, "AuthenticatedUser")
    }
}
