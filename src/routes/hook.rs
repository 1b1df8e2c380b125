//! The callback's side of the login hook: running it (a panic caught, a failure an error),
//! applying its decision to the session about to be written, and the answer to a refusal.

use std::any::Any;
use std::panic::AssertUnwindSafe;

use rocket::futures::FutureExt;
use rocket::http::Status;
use rocket::serde::json::serde_json::json;
use rocket::{Request, Response};

use super::pages::{html, page, see_other};
use crate::error::LoginError;
use crate::login_hook::{LoginDecision, LoginHooks};
use crate::return_to::sanitize_return_to;
use crate::session::{self, SessionData};
use crate::state::OidcState;
use crate::unauthorized::is_browser_navigation;
use crate::user::UserContext;
use crate::util;

/// App data above this many bytes of JSON is logged: every request carries it.
const LARGE_APP_DATA: usize = 1024;

/// Runs the app's login hook, if any, on the sign-in of `user` whose session is `data`, and
/// applies its decision: `Ok` with where the user lands (`return_to` unless the hook says
/// otherwise), `data` holding the hook's app data; `Err` when the hook refuses the user or
/// fails. Nothing is written here: on `Err` the callback writes no session.
pub(super) async fn run(
    req: &Request<'_>,
    user: Option<UserContext>,
    data: &mut SessionData,
    return_to: String,
) -> Result<String, LoginError> {
    let Some(hook) = req.rocket().state::<LoginHooks>().and_then(|h| h.0.clone()) else {
        return Ok(return_to);
    };
    // The callback checked the context can be built before it calls this.
    let Some(user) = user else {
        return Ok(return_to);
    };
    let subject = util::truncate(&user.userinfo.sub, 64);
    // A panic in the app's code must end this sign-in only: caught here, it becomes the error
    // page instead of a dropped connection, and no session is written.
    let decision = AssertUnwindSafe(hook.on_login(&user, req))
        .catch_unwind()
        .await
        .map_err(|panic| {
            LoginError::Hook(format!(
                "it panicked for subject `{subject}`: {}",
                panic_message(&*panic)
            ))
        })?
        .map_err(|e| {
            LoginError::Hook(format!(
                "it returned an error for subject `{subject}`: {}",
                util::truncate(&e.to_string(), 300)
            ))
        })?;
    apply(decision, &subject, data, return_to)
}

/// The decision applied to the session about to be written.
fn apply(
    decision: LoginDecision,
    subject: &str,
    data: &mut SessionData,
    return_to: String,
) -> Result<String, LoginError> {
    let redirect = match decision.redirect {
        None => None,
        Some(path) => Some(sanitize_return_to(&path).ok_or_else(|| {
            LoginError::Hook(format!(
                "its redirect `{}` for subject `{subject}` is not a path of this app (write \
                 `/welcome`, not a URL)",
                util::truncate(&path, 100)
            ))
        })?),
    };
    if let Some(message) = decision.refusal {
        log::warn!(
            "OpenID Connect: the login hook refused subject `{subject}`: {}",
            util::truncate(&message, 300)
        );
        return Err(LoginError::Refused {
            subject: subject.to_owned(),
            message,
            redirect,
        });
    }
    if let Some(app_data) = decision.data {
        let app_data = app_data
            .map_err(|e| LoginError::Hook(format!("its data cannot be serialized as JSON: {e}")))?;
        let size = app_data.to_string().len();
        data.app_data = Some(app_data);
        // The callback writes the session next: say now, and why, if the data makes it too big.
        session::codec::encode_chunks(data).map_err(|e| {
            LoginError::Hook(format!(
                "its data for subject `{subject}` ({size} bytes of JSON) makes the session \
                 too large: {e}; keep ids in the session and look the rest up"
            ))
        })?;
        if size > LARGE_APP_DATA {
            log::warn!(
                "OpenID Connect: the login hook stores {size} bytes of app data in the session \
                 of subject `{subject}`: every request to the app carries them"
            );
        }
    }
    Ok(redirect.unwrap_or(return_to))
}

/// A panic's message, when it has one.
fn panic_message(panic: &(dyn Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    util::truncate(text, 300)
}

/// The answer to a sign-in the hook refused: a 303 to the hook's redirect; else, unless
/// `oidc.failure_redirect` takes over (`None`: the usual failure answer), 403 with the app's
/// message, as an HTML page for a browser navigating and as JSON otherwise.
pub(super) fn refused(
    req: &Request<'_>,
    state: &OidcState,
    err: &LoginError,
) -> Option<Response<'static>> {
    let LoginError::Refused {
        message, redirect, ..
    } = err
    else {
        return None;
    };
    if let Some(to) = redirect {
        return Some(see_other(to.clone()));
    }
    if state.app.failure_redirect.is_some() {
        return None;
    }
    if !is_browser_navigation(req) {
        let body = json!({"error": err.code(), "message": message}).to_string();
        return Some(
            Response::build()
                .status(Status::Forbidden)
                .header(rocket::http::ContentType::JSON)
                .header(rocket::http::Header::new("Cache-Control", "no-store"))
                .sized_body(body.len(), std::io::Cursor::new(body))
                .finalize(),
        );
    }
    let body = format!(
        "<p>{}</p><p>Error code: <code>{}</code></p><p><a href=\"/\">Go home</a>.</p>",
        util::html_escape(message),
        err.code()
    );
    Some(html(Status::Forbidden, page("Sign-in refused", &body)))
}
