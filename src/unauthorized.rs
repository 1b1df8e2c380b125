//! What a request without a session gets: a login redirect for a browser navigating to a
//! protected page, a 401 for everything else (API, XHR, fetch), and the 401 catcher that decides.

use rocket::http::{Header, Method, Status};
use rocket::response::{self, Responder, Response};
use rocket::serde::json::serde_json;
use rocket::{Catcher, Request};

use crate::return_to::sanitize_return_to;
use crate::session;
use crate::state::OidcState;

/// Set when the request carried session cookies that gave no session (expired, tampered, from
/// another key): the 401 catcher expires them, since Rocket drops a guard's cookie changes
/// before running catchers.
pub(crate) struct StaleSession(pub bool);

/// Marks a request whose `AuthenticatedUser` guard failed, for the catcher.
pub(crate) struct LoginRequired(pub bool);

/// Expires the request's session cookies if they turned out to be stale.
pub(crate) fn clear_stale_session(req: &Request<'_>) {
    if req.local_cache(|| StaleSession(false)).0 {
        if let Some(state) = OidcState::of(req) {
            session::clear_session(req.cookies(), state.cookie_options());
        }
    }
}

/// Whether the request is a browser navigating to a page (and so may be redirected to login),
/// rather than an API, XHR or fetch call (which must get a 401).
pub(crate) fn is_browser_navigation(req: &Request<'_>) -> bool {
    let headers = req.headers();
    if !matches!(req.method(), Method::Get | Method::Head) {
        return false;
    }
    if headers
        .get("X-Requested-With")
        .any(|v| v.eq_ignore_ascii_case("XMLHttpRequest"))
    {
        return false;
    }
    if headers
        .get_one("Sec-Fetch-Mode")
        .is_some_and(|m| !m.eq_ignore_ascii_case("navigate"))
    {
        return false;
    }
    if headers
        .get_one("Sec-Fetch-Dest")
        .is_some_and(|d| !d.eq_ignore_ascii_case("document"))
    {
        return false;
    }
    headers
        .get("Accept")
        .any(|a| a.to_ascii_lowercase().contains("text/html"))
}

/// What an unauthenticated request gets: a login redirect for a browser whose
/// [`AuthenticatedUser`](crate::AuthenticatedUser) guard failed, a 401 otherwise.
///
/// The fairing registers a 401 catcher that returns this. If your app has its own 401 catcher
/// at `/`, return this from it for the requests where it matters:
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket::Request;
/// use rocket_openid_connect::{unauthorized, Unauthorized};
///
/// #[catch(401)]
/// fn my_unauthorized(req: &Request<'_>) -> Unauthorized {
///     unauthorized(req)
/// }
/// ```
pub fn unauthorized(req: &Request<'_>) -> Unauthorized {
    clear_stale_session(req);
    let login_required = req.local_cache(|| LoginRequired(false)).0;
    let state = OidcState::of(req);
    let login_path = state.map_or("/login", |s| s.app.login_path.as_str());
    if login_required && is_browser_navigation(req) {
        let here = req.uri().to_string();
        let return_to = sanitize_return_to(&here).unwrap_or_else(|| "/".into());
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("return_to", &return_to)
            .finish();
        return Unauthorized::Redirect(format!("{login_path}?{query}"));
    }
    Unauthorized::Challenge {
        realm: state
            .map(|s| s.app.app_base_url.clone())
            .unwrap_or_default(),
        login: login_path.to_owned(),
        login_required,
    }
}

/// The response of [`unauthorized`]: a 303 to the login route, or a 401.
#[derive(Debug, Clone)]
pub enum Unauthorized {
    /// 303 See Other to this location (the login route with `return_to`).
    Redirect(String),
    /// 401 with `WWW-Authenticate` and a small JSON body.
    Challenge {
        /// The realm in `WWW-Authenticate` (the app's base URL).
        realm: String,
        /// Where a person can sign in.
        login: String,
        /// Whether the 401 came from a failed [`AuthenticatedUser`](crate::AuthenticatedUser) guard.
        login_required: bool,
    },
}

impl<'r> Responder<'r, 'static> for Unauthorized {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        match self {
            Unauthorized::Redirect(location) => Response::build()
                .status(Status::SeeOther)
                .header(Header::new("Location", location))
                .header(Header::new("Cache-Control", "no-store"))
                .ok(),
            Unauthorized::Challenge {
                realm,
                login,
                login_required,
            } => {
                let body = if login_required {
                    serde_json::json!({"error": "unauthorized", "message": "sign-in required", "login": login})
                } else {
                    serde_json::json!({"error": "unauthorized"})
                }
                .to_string();
                let realm = realm.replace('"', "");
                Response::build()
                    .status(Status::Unauthorized)
                    .header(Header::new(
                        "WWW-Authenticate",
                        format!("Session realm=\"{realm}\", login=\"{login}\""),
                    ))
                    .header(Header::new("Cache-Control", "no-store"))
                    .header(rocket::http::ContentType::JSON)
                    .sized_body(body.len(), std::io::Cursor::new(body))
                    .ok()
            }
        }
    }
}

#[rocket::catch(401)]
fn unauthorized_catcher(req: &Request<'_>) -> Unauthorized {
    unauthorized(req)
}

/// The catchers the fairing registers at `/`.
pub(crate) fn catchers() -> Vec<Catcher> {
    rocket::catchers![unauthorized_catcher]
}
