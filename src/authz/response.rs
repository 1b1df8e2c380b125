//! What a refused request gets: the 403 page or JSON when the signed-in user does not meet a
//! requirement, the 500 when a requirement cannot be checked, and the catchers that answer
//! them (registered by the fairing unless the app has its own).

use std::io::Cursor;

use rocket::http::{ContentType, Header, Status};
use rocket::response::{self, Responder, Response};
use rocket::serde::json::serde_json::json;
use rocket::{Build, Catcher, Request, Rocket};

use crate::claims::ClaimsError;
use crate::state::OidcState;
use crate::unauthorized::is_browser_navigation;
use crate::user::UserContext;
use crate::util;

/// Why `Authorized` refused the request, kept for the catcher (Rocket hands a catcher only the
/// status).
#[derive(Debug, Clone)]
pub(crate) enum Denial {
    /// Signed in, not allowed: the name to greet the user with.
    Forbidden { name: String },
    /// The requirement could not be checked.
    Claims {
        code: &'static str,
        claim: Option<String>,
    },
}

/// The request's denial, if an `Authorized` guard refused it.
struct Remembered(Option<Denial>);

impl Denial {
    pub(crate) fn forbidden(user: &UserContext) -> Denial {
        let u = &user.userinfo;
        let name = u
            .name
            .clone()
            .or_else(|| u.preferred_username.clone())
            .or_else(|| u.email.clone())
            .unwrap_or_else(|| u.sub.clone());
        Denial::Forbidden {
            name: util::truncate(&name, 100),
        }
    }

    pub(crate) fn claims(e: &ClaimsError) -> Denial {
        Denial::Claims {
            code: e.code(),
            claim: e.claim().map(|c| util::truncate(c, 100)),
        }
    }

    /// Keeps the denial for the catcher; the first one of a request counts.
    pub(crate) fn remember(self, req: &Request<'_>) {
        req.local_cache(move || Remembered(Some(self)));
    }
}

/// What an app's own 403 or 500 catcher returns to keep this crate's pages for requests that
/// [`Authorized`](crate::Authorized) refused: the 403 page (or JSON) naming the signed-in user,
/// or the 500 saying a requirement could not be checked. Other requests get a plain page (or
/// JSON, when the client prefers it) for `status`.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket::http::Status;
/// use rocket::Request;
/// use rocket_openid_connect::{access_denied, AccessDenied};
///
/// #[catch(403)]
/// fn forbidden(req: &Request<'_>) -> AccessDenied {
///     access_denied(Status::Forbidden, req)
/// }
/// ```
pub fn access_denied(status: Status, req: &Request<'_>) -> AccessDenied {
    let denial = req.local_cache(|| Remembered(None)).0.clone();
    let logout = OidcState::of(req).map_or("/logout", |s| s.app.logout_path.as_str());
    match denial {
        Some(Denial::Forbidden { name }) => {
            let html = is_browser_navigation(req).then(|| {
                page(
                    "Access denied",
                    &format!(
                        "<p>You are signed in as <strong>{}</strong>, but this page is not for \
                         your account.</p><p><a href=\"/\">Go home</a>, or sign out to sign in \
                         with another account:</p><form method=\"post\" action=\"{}\">\
                         <button type=\"submit\">Sign out</button></form>",
                        util::html_escape(&name),
                        util::html_escape(logout)
                    ),
                )
            });
            AccessDenied {
                status: Status::Forbidden,
                html,
                json: json!({
                    "error": "forbidden",
                    "message": "signed in, but not allowed to access this resource",
                })
                .to_string(),
            }
        }
        Some(Denial::Claims { code, claim }) => {
            let html = is_browser_navigation(req).then(|| {
                page(
                    "Access could not be checked",
                    &format!(
                        "<p>This page needs information about your account that the sign-in \
                         did not provide in a form this application can read. The details are \
                         in the application's log.</p><p>Error code: <code>{code}</code></p>"
                    ),
                )
            });
            AccessDenied {
                status: Status::InternalServerError,
                html,
                json: json!({
                    "error": code,
                    "message": "the requirement of this resource cannot be checked for this user",
                    "claim": claim,
                })
                .to_string(),
            }
        }
        None => {
            let reason = status.reason().unwrap_or("Error");
            let prefers_json = req.accept().is_some_and(|a| a.preferred().is_json());
            AccessDenied {
                status,
                html: (!prefers_json).then(|| page(&format!("{} {reason}", status.code), "")),
                json: json!({"error": {"code": status.code, "reason": reason}}).to_string(),
            }
        }
    }
}

/// The response of [`access_denied`]: its status with an HTML page or JSON.
#[derive(Debug, Clone)]
pub struct AccessDenied {
    status: Status,
    html: Option<String>,
    json: String,
}

impl AccessDenied {
    /// The status it answers with: 403, 500, or the one given for other requests.
    pub fn status(&self) -> Status {
        self.status
    }
}

impl<'r> Responder<'r, 'static> for AccessDenied {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let (content_type, body) = match self.html {
            Some(html) => (ContentType::HTML, html),
            None => (ContentType::JSON, self.json),
        };
        Response::build()
            .status(self.status)
            .header(content_type)
            .header(Header::new("Cache-Control", "no-store"))
            // As the crate's other pages: no script, no framing (frame-ancestors does not fall
            // back to default-src).
            .header(Header::new(
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ))
            .header(Header::new("X-Frame-Options", "DENY"))
            .sized_body(body.len(), Cursor::new(body))
            .ok()
    }
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;\
         padding:0 1rem;line-height:1.5}}code{{background:#f3f3f3;padding:0 .2em}}</style>\
         </head><body><h1>{t}</h1>{body}</body></html>\n",
        t = util::html_escape(title)
    )
}

#[rocket::catch(403)]
fn forbidden_catcher(req: &Request<'_>) -> AccessDenied {
    access_denied(Status::Forbidden, req)
}

#[rocket::catch(500)]
fn internal_error_catcher(req: &Request<'_>) -> AccessDenied {
    access_denied(Status::InternalServerError, req)
}

/// Registers the 403 and 500 catchers at `/`, each unless the app has its own there (Rocket
/// forbids two), which is logged with what to return from it.
pub(crate) fn register_catchers(rocket: Rocket<Build>) -> Rocket<Build> {
    let mut ours = Vec::new();
    for (code, status, catcher) in [
        (403, "Forbidden", rocket::catchers![forbidden_catcher]),
        (
            500,
            "InternalServerError",
            rocket::catchers![internal_error_catcher],
        ),
    ] {
        let app_has_it = rocket
            .catchers()
            .any(|c| c.code == Some(code) && c.base.path() == "/");
        if app_has_it {
            log::info!(
                "OpenID Connect: the app registers its own {code} catcher at `/`; return \
                 `rocket_openid_connect::access_denied(Status::{status}, req)` from it to keep \
                 the pages of refused requirements"
            );
        } else {
            ours.extend(catcher);
        }
    }
    let ours: Vec<Catcher> = ours;
    rocket.register("/", ours)
}
