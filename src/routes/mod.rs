//! The routes the fairing mounts: login (`login.rs`), the authorization-code callback
//! (`callback.rs`, and its `POST` form for `form_post` providers in `form_post.rs`), logout
//! (`logout.rs`) and back-channel logout (`backchannel.rs`), with the pages they answer with
//! (`pages.rs`).
//!
//! Without provider tables they are mounted at `login_path`, `callback_path`, `logout_path` and
//! `backchannel_logout.path` as they always were. With provider tables each provider has its own
//! login route (`login_path/NAME`), callback route (its `callback_path`, by default
//! `callback_path/NAME`) and back-channel logout route (`backchannel_logout.path/NAME`);
//! `login_path` itself goes to the default provider or shows the choice.

mod backchannel;
pub(crate) mod callback;
mod form_post;
mod head;
mod hook;
mod login;
mod logout;
mod pages;

use rocket::http::Method;
use rocket::route::Route;
use rocket::Request;

use crate::config::{sub_path, ResponseMode};
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
/// leading `/`, only unreserved characters, no two alike), so `Route::new` cannot panic on them.
pub(crate) fn routes(state: &OidcState) -> Vec<Route> {
    let app = &state.app;
    let mut routes = Vec::new();
    if state.named {
        routes.push(Route::new(Method::Get, &app.login_path, login::Choose));
        for (index, provider) in state.providers.iter().enumerate() {
            let login = sub_path(&app.login_path, provider.name.as_str());
            routes.push(Route::new(Method::Get, &login, login::Login { index }));
            let callback = &provider.config.callback_path;
            routes.push(Route::new(
                Method::Get,
                callback,
                callback::Callback { index },
            ));
            routes.push(Route::new(Method::Head, callback, head::RefuseHead));
        }
    } else {
        routes.push(Route::new(
            Method::Get,
            &app.login_path,
            login::Login { index: 0 },
        ));
        routes.push(Route::new(
            Method::Get,
            &app.callback_path,
            callback::Callback { index: 0 },
        ));
        routes.push(Route::new(
            Method::Head,
            &app.callback_path,
            head::RefuseHead,
        ));
    }
    // A form_post provider's answer arrives as a POST at its callback path.
    for (index, provider) in state.providers.iter().enumerate() {
        if provider.config.response_mode == ResponseMode::FormPost {
            let callback = &provider.config.callback_path;
            routes.push(Route::new(
                Method::Post,
                callback,
                form_post::FormPostCallback { index },
            ));
        }
    }
    routes.push(Route::new(Method::Post, &app.logout_path, logout::Logout));
    routes.push(Route::new(Method::Get, &app.logout_path, logout::Logout));
    for (index, provider) in state.providers.iter().enumerate() {
        if let Some(path) = &provider.backchannel_path {
            routes.push(backchannel_route(index, path));
        }
    }
    routes
}

/// The back-channel logout route of the provider at `index`, at `path` (validated like the
/// others). One per provider: with provider tables, each has its own path.
pub(crate) fn backchannel_route(index: usize, path: &str) -> Route {
    Route::new(Method::Post, path, backchannel::BackchannelLogout { index })
}
