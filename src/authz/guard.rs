//! The requirement guard [`Authorized<R>`]: signed in (else the usual login redirect or 401),
//! and meeting `R`'s [`Rule`] (else 403, never a redirect).

use std::any::type_name;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

use super::response::Denial;
use super::rule::Rule;
use crate::claims::{ClaimSource, ClaimsError};
use crate::guards::AuthenticatedUser;
use crate::state::{self, OidcState};
use crate::user::UserContext;
use crate::util;

/// What a route asks of the signed-in user, as a type for [`Authorized<R>`]. Implement it for
/// a marker type, or let [`requirement!`](crate::requirement) do it:
///
/// ```rust
/// use rocket_openid_connect::{Requirement, Rule};
///
/// /// Members of `admins` with a verified email.
/// struct Admin;
///
/// impl Requirement for Admin {
///     fn rule() -> Rule {
///         Rule::group("admins").and(Rule::email_verified())
///     }
/// }
/// ```
pub trait Requirement: Send + Sync + 'static {
    /// The rule; built for each request that checks it (rules are cheap to build).
    fn rule() -> Rule;

    /// The requirement's name in log lines. _Default:_ the type's name without its path.
    fn name() -> &'static str {
        let full = type_name::<Self>();
        let base = full.split('<').next().unwrap_or(full);
        base.rsplit("::").next().unwrap_or(full)
    }
}

/// Users whose email address the provider verified ([`Rule::email_verified`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct EmailVerified;

impl Requirement for EmailVerified {
    fn rule() -> Rule {
        Rule::email_verified()
    }
}

/// A route guard that requires a signed-in user who meets requirement `R`; derefs to the
/// [`UserContext`].
///
/// | request | outcome |
/// |---|---|
/// | signed in, meets `R` | success |
/// | no session | as [`AuthenticatedUser`]: a browser is sent to login and back, any other client gets 401 |
/// | signed in, does not meet `R` | **403**, never a redirect: an HTML page for a browser navigating, JSON for anything else (the rule of [`AuthenticatedUser`]); a `warn` log line names the requirement and the user's `sub` |
/// | signed in, `R` cannot be checked (a claim of the wrong shape, a distributed claim such as Entra's group overage, an opaque access token for a `scope` rule) | **500** with the error code (`invalid_claim`, `distributed_claim`, ...) and an `error` log line saying what to change |
///
/// The 403 and 500 responses come from catchers the fairing registers at `/`, unless the app
/// has its own for that status (see [`access_denied`](crate::access_denied)). Take
/// `Result<Authorized<R>, AuthzError>` to handle refusals in the route instead.
///
/// Launch stops (it is a [`Sentinel`]) without [`OidcFairing`](crate::OidcFairing), or when
/// `R`'s rule needs the access token and `oidc.keep_access_token` is false.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_openid_connect::{requirement, Authorized, Rule};
///
/// requirement! {
///     /// Members of the `admins` group.
///     pub Admin = Rule::group("admins");
/// }
///
/// #[get("/admin")]
/// fn admin(user: Authorized<Admin>) -> String {
///     format!("Welcome, administrator {}", user.userinfo.sub)
/// }
/// ```
pub struct Authorized<R: Requirement> {
    user: AuthenticatedUser,
    // `fn() -> R`: the guard holds no `R`, so it is `Send` and `Sync` whatever `R` is.
    requirement: PhantomData<fn() -> R>,
}

impl<R: Requirement> Authorized<R> {
    /// The user context, owned.
    pub fn into_inner(self) -> UserContext {
        self.user.into_inner()
    }
}

impl<R: Requirement> Deref for Authorized<R> {
    type Target = UserContext;

    fn deref(&self) -> &UserContext {
        &self.user
    }
}

impl<R: Requirement> fmt::Debug for Authorized<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorized")
            .field("requirement", &R::name())
            .field("user", &*self.user)
            .finish()
    }
}

/// Why [`Authorized`] failed; take `Result<Authorized<R>, AuthzError>` to see it in a route.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuthzError {
    /// Nobody is signed in (status 401).
    SignInRequired,
    /// The signed-in user does not meet the requirement (status 403).
    Forbidden {
        /// The requirement's [name](Requirement::name).
        requirement: &'static str,
    },
    /// The requirement could not be checked (status 500).
    Claims(ClaimsError),
    /// The fairing is not attached (status 500).
    NotConfigured,
}

impl fmt::Display for AuthzError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthzError::SignInRequired => f.write_str("sign-in required"),
            AuthzError::Forbidden { requirement } => {
                write!(f, "the user does not meet requirement `{requirement}`")
            }
            AuthzError::Claims(e) => write!(f, "the requirement cannot be checked: {e}"),
            AuthzError::NotConfigured => f.write_str(state::NOT_ATTACHED),
        }
    }
}

impl std::error::Error for AuthzError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuthzError::Claims(e) => Some(e),
            _ => None,
        }
    }
}

#[rocket::async_trait]
impl<'r, R: Requirement> FromRequest<'r> for Authorized<R> {
    type Error = AuthzError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthzError> {
        let user = match req.guard::<AuthenticatedUser>().await {
            Outcome::Success(user) => user,
            Outcome::Error((Status::Unauthorized, _)) => {
                return Outcome::Error((Status::Unauthorized, AuthzError::SignInRequired))
            }
            Outcome::Error((status, _)) => {
                return Outcome::Error((status, AuthzError::NotConfigured))
            }
            Outcome::Forward(status) => return Outcome::Forward(status),
        };
        let rule = R::rule();
        let sub = util::truncate(&user.userinfo.sub, 64);
        let route = format!(
            "{} {}",
            req.method(),
            util::truncate(req.uri().path().as_str(), 200)
        );
        match rule.check(&user) {
            Ok(true) => Outcome::Success(Authorized {
                user,
                requirement: PhantomData,
            }),
            Ok(false) => {
                log::warn!(
                    "OpenID Connect: 403 for `{route}`: subject `{sub}` does not meet requirement \
                     `{}` ({rule})",
                    R::name()
                );
                Denial::forbidden(&user).remember(req);
                Outcome::Error((
                    Status::Forbidden,
                    AuthzError::Forbidden {
                        requirement: R::name(),
                    },
                ))
            }
            Err(e) => {
                log::error!(
                    "OpenID Connect: 500 for `{route}`: requirement `{}` ({rule}) cannot be \
                     checked for subject `{sub}`: {e}",
                    R::name()
                );
                Denial::claims(&e).remember(req);
                Outcome::Error((Status::InternalServerError, AuthzError::Claims(e)))
            }
        }
    }
}

impl<R: Requirement> Sentinel for Authorized<R> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        if state::sentinel_abort(rocket, "Authorized") {
            return true;
        }
        let rule = R::rule();
        if !rule.needs(ClaimSource::AccessToken) {
            return false;
        }
        // Every provider's sessions must keep the access token, or its users could never pass.
        let Some(state) = rocket.state::<OidcState>() else {
            return false;
        };
        let mut abort = false;
        for provider in state
            .providers
            .iter()
            .filter(|p| !p.config.keep_access_token)
        {
            let key = if state.named {
                format!("oidc.providers.{}.keep_access_token", provider.name)
            } else {
                "oidc.keep_access_token".into()
            };
            log::error!(
                "`Authorized<{}>` checks {rule}, which needs the access token, but {key} is \
                 false: set it to true",
                R::name()
            );
            abort = true;
        }
        abort
    }
}
