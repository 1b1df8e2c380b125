//! The pages and redirects the routes answer with: a 303, a small HTML page with strict
//! headers, and the sign-in failure page (or the app's `failure_redirect`).

use std::io::Cursor;

use rocket::http::{ContentType, Header, Status};
use rocket::Response;

use crate::error::LoginError;
use crate::state::OidcState;
use crate::util;

pub(crate) fn see_other(location: String) -> Response<'static> {
    Response::build()
        .status(Status::SeeOther)
        .header(Header::new("Location", location))
        .header(Header::new("Cache-Control", "no-store"))
        .header(no_referrer())
        .finalize()
}

pub(crate) fn html(status: Status, body: String) -> Response<'static> {
    Response::build()
        .status(status)
        .header(ContentType::HTML)
        .header(Header::new("Cache-Control", "no-store"))
        .header(no_referrer())
        // frame-ancestors does not fall back to default-src: say it, so that no page (the logout
        // form in particular) can be framed for clickjacking.
        .header(Header::new(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ))
        .header(Header::new("X-Frame-Options", "DENY"))
        .sized_body(body.len(), Cursor::new(body))
        .finalize()
}

/// `Referrer-Policy: no-referrer` (W3C Referrer Policy §3.1) on every response of the crate's
/// routes. The callback's URL holds the one-time `code` and the `state`: a page shown at that
/// URL (the error page) must not hand it on as `Referer`, nor to `document.referrer` of the
/// page its links lead to (where any analytics script would read it). On redirects the policy
/// applies to the request that follows (Fetch §4.4, "HTTP-redirect fetch"), so neither the
/// provider nor the landing page learn where the browser came from; nothing here needs them to.
fn no_referrer() -> Header<'static> {
    Header::new("Referrer-Policy", "no-referrer")
}

pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;\
         padding:0 1rem;line-height:1.5}}code{{background:#f3f3f3;padding:0 .2em}}</style>\
         </head><body><h1>{t}</h1>{body}</body></html>\n",
        t = util::html_escape(title)
    )
}

/// The response to a failed sign-in: the configured failure page, or a small built-in one.
pub(crate) fn login_failure(state: Option<&OidcState>, err: &LoginError) -> Response<'static> {
    log::warn!("OpenID Connect: sign-in failed: {err}");
    if let Some(target) = state.and_then(|s| s.app.failure_redirect.as_deref()) {
        let sep = if target.contains('?') { '&' } else { '?' };
        return see_other(format!("{target}{sep}error={}", err.code()));
    }
    let login = state.map_or("/login", |s| s.app.login_path.as_str());
    let mut body = format!("<p>{}</p>", util::html_escape(err.public_message()));
    if let LoginError::Provider { error, description } = err {
        body.push_str(&format!(
            "<p>The provider said: <code>{}</code>",
            util::html_escape(&util::truncate(error, 64))
        ));
        if let Some(d) = description {
            body.push_str(&format!(
                " &mdash; {}",
                util::html_escape(&util::truncate(d, 300))
            ));
        }
        body.push_str("</p>");
    }
    body.push_str(&format!(
        "<p>Error code: <code>{}</code></p><p><a href=\"{}\">Try signing in again</a> or \
         <a href=\"/\">go home</a>.</p>",
        err.code(),
        util::html_escape(login)
    ));
    html(err.status(), page("Sign-in failed", &body))
}
