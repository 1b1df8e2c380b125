//! The app's login hook: [`LoginHook`], run by the callback after the ID token and userinfo
//! are validated and before the session is written, and what it decides ([`LoginDecision`]).
//! The callback's side (running it, what a refusal answers) is in `routes/hook.rs`.

use std::fmt;
use std::sync::Arc;

use rocket::serde::json::serde_json::{self, Value};
use rocket::Request;
use serde::Serialize;

use crate::user::UserContext;

/// Any error a hook returns (`?` on a database error works).
pub type LoginHookError = Box<dyn std::error::Error + Send + Sync>;

/// Runs once per sign-in, after the provider's answer is validated (ID token and userinfo) and
/// before the session is written: to provision the user in the app's database, refuse some
/// users (wrong tenant, disabled locally), send them elsewhere (a first-login page), or keep a
/// small piece of app data in the session. Attach it with
/// [`OidcFairing::on_login`](crate::OidcFairing::on_login).
///
/// `user` is what the guards will see once the session exists (claims, typed claims, tokens);
/// `req` is the callback request (managed state, headers, other request guards).
///
/// If the hook returns an error or panics, the sign-in ends on the error page (500, error code
/// `login_hook`) with the reason logged, and no session is written.
///
/// ```rust
/// use rocket::Request;
/// use rocket_openid_connect::{LoginDecision, LoginHook, LoginHookError, UserContext};
///
/// /// Refuses accounts the app has disabled, remembers the app's own user id.
/// struct Provision;
///
/// #[rocket::async_trait]
/// impl LoginHook for Provision {
///     async fn on_login(
///         &self,
///         user: &UserContext,
///         _req: &Request<'_>,
///     ) -> Result<LoginDecision, LoginHookError> {
///         if user.userinfo.preferred_username.as_deref() == Some("alan") {
///             return Ok(LoginDecision::refuse("Your account is disabled in this app."));
///         }
///         // A database lookup or insert would go here (`req.rocket().state::<Db>()`).
///         let app_user_id = 42;
///         Ok(LoginDecision::allow().data(app_user_id))
///     }
/// }
/// ```
///
/// A synchronous closure is a hook too:
///
/// ```rust
/// use rocket::Request;
/// use rocket_openid_connect::{LoginDecision, OidcFairing, UserContext};
///
/// let fairing = OidcFairing::new().on_login(|user: &UserContext, _: &Request<'_>| {
///     Ok(match user.userinfo.email_verified {
///         Some(true) => LoginDecision::allow(),
///         _ => LoginDecision::refuse("Please verify your email address first."),
///     })
/// });
/// # let _ = fairing;
/// ```
#[rocket::async_trait]
pub trait LoginHook: Send + Sync + 'static {
    /// Decides what happens to this sign-in.
    async fn on_login(
        &self,
        user: &UserContext,
        req: &Request<'_>,
    ) -> Result<LoginDecision, LoginHookError>;
}

#[rocket::async_trait]
impl<F> LoginHook for F
where
    F: Fn(&UserContext, &Request<'_>) -> Result<LoginDecision, LoginHookError>
        + Send
        + Sync
        + 'static,
{
    async fn on_login(
        &self,
        user: &UserContext,
        req: &Request<'_>,
    ) -> Result<LoginDecision, LoginHookError> {
        self(user, req)
    }
}

/// What a [`LoginHook`] decides.
///
/// | decision | the user |
/// |---|---|
/// | [`allow()`](LoginDecision::allow) | is signed in and lands where the login was going (`return_to`) |
/// | `allow().redirect("/welcome")` | is signed in and lands on `/welcome` |
/// | `allow().data(value)` | is signed in; `value` is kept in the session, read back with [`UserContext::app_data`] (or [`ClaimSource::AppData`](crate::ClaimSource::AppData)) |
/// | [`refuse("message")`](LoginDecision::refuse) | is not signed in: 403 with the message (an HTML page for a browser, JSON for an API client), logged with the user's `sub`; with `oidc.failure_redirect` set, sent there with `error=access_refused` |
/// | `refuse("message").redirect("/sign-up")` | is not signed in, and is sent to `/sign-up` (303) |
///
/// Redirects must be paths of this app (`/welcome`, not `https://…`): anything else ends the
/// sign-in with the error `login_hook`.
///
/// **App data counts in the session's size.** It is stored as JSON inside the encrypted
/// session cookie, so every request to the app carries it (Rocket spends about 3 µs per KB of
/// `Cookie` header on every request, guarded or not), and a session that outgrows the
/// cookies' room (8 cookies of about 2.9 KB each, tokens included) cannot be written: the sign-in then fails with
/// the error `login_hook`. Keep it to ids and a few flags; look bigger things up by id.
/// Sessions written before a change to its type keep the old shape: give new fields
/// `#[serde(default)]`.
#[derive(Debug, Clone)]
pub struct LoginDecision {
    pub(crate) refusal: Option<String>,
    pub(crate) redirect: Option<String>,
    pub(crate) data: Option<Result<Value, String>>,
}

impl LoginDecision {
    /// Sign the user in.
    pub fn allow() -> LoginDecision {
        LoginDecision {
            refusal: None,
            redirect: None,
            data: None,
        }
    }

    /// Do not sign the user in; `message` is shown to them (as text, escaped) and logged.
    pub fn refuse(message: impl Into<String>) -> LoginDecision {
        LoginDecision {
            refusal: Some(message.into()),
            ..LoginDecision::allow()
        }
    }

    /// Where the user goes next: a path of this app (a query is kept).
    pub fn redirect(mut self, path: impl Into<String>) -> LoginDecision {
        self.redirect = Some(path.into());
        self
    }

    /// Keeps `data` (anything `Serialize`) in the session (see the type's docs on its size).
    /// Ignored when the user is refused.
    pub fn data(mut self, data: impl Serialize) -> LoginDecision {
        self.data = Some(serde_json::to_value(data).map_err(|e| e.to_string()));
        self
    }
}

/// The hook the fairing was given, managed by Rocket for the callback.
#[derive(Clone, Default)]
pub(crate) struct LoginHooks(pub(crate) Option<Arc<dyn LoginHook>>);

impl fmt::Debug for LoginHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "LoginHooks(set)"
        } else {
            "LoginHooks(none)"
        })
    }
}
