//! The routes the fairing mounts: login (`login.rs`), the authorization-code callback
//! (`callback.rs`) and logout (`logout.rs`), with the pages they answer with (`pages.rs`).

pub(crate) mod callback;
mod head;
mod login;
mod logout;
mod pages;

use rocket::http::Method;
use rocket::route::Route;
use rocket::Request;

use crate::config::Config;
use crate::error::LoginError;
use crate::state::{OidcState, NOT_ATTACHED};

/// Lenient query lookup for `/login` (bad values are ignored, not fatal).
fn query_param(req: &Request<'_>, name: &str) -> Option<String> {
    let raw = req.uri().query()?.as_str();
    url::form_urlencoded::parse(raw.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn state_of<'r>(req: &'r Request<'_>) -> Result<&'r OidcState, LoginError> {
    OidcState::of(req).ok_or_else(|| LoginError::Internal(NOT_ATTACHED.into()))
}

/// The routes at their configured paths, to be mounted at `/`. The paths were validated (a
/// leading `/`, only unreserved characters), so `Route::new` cannot panic on them.
pub(crate) fn routes(config: &Config) -> Vec<Route> {
    vec![
        Route::new(Method::Get, &config.login_path, login::Login),
        Route::new(Method::Get, &config.callback_path, callback::Callback),
        Route::new(Method::Head, &config.callback_path, head::RefuseHead),
        Route::new(Method::Post, &config.logout_path, logout::Logout),
        Route::new(Method::Get, &config.logout_path, logout::Logout),
    ]
}
