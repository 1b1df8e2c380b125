//! Cache-safe responses: a response that depends on who is signed in must never be stored by a
//! shared cache (a CDN, a corporate proxy) and served to somebody else, and a session cookie
//! must never ride on a cached response.
//!
//! The guards mark, in the request-local cache, whether they looked at the session and whether
//! the request carried one ([`mark`]); the response fairing [`CacheSafe`], which
//! [`OidcFairing`](crate::OidcFairing) attaches at ignite, reads the mark and looks at the
//! response's `Set-Cookie` headers for the crate's own cookies (whoever wrote them: the
//! guard's sliding renewal, the expiry of a stale session, the callback, logout, `/login`),
//! and adds what the response needs:
//!
//! | the response ...                                           | `Vary: Cookie` | `Cache-Control: private, no-store` |
//! |------------------------------------------------------------|----------------|------------------------------------|
//! | did not depend on the session                              | -              | -                                  |
//! | came from a guard that found no session cookie (a visitor) | added          | -                                  |
//! | came from a guard that read the request's session cookies  | added          | unless the app set `Cache-Control` |
//! | sets or expires one of the crate's cookies (`Set-Cookie`)  | added          | always, replacing the app's        |
//!
//! `Vary: Cookie` (RFC 9110 §12.5.5) tells a cache not to answer one browser with what another's
//! cookies produced; a visitor's page stays cacheable for other visitors. `no-store` (RFC 9111
//! §5.2.2.5) keeps a response out of every cache, and `private` (§5.2.2.7) tells shared caches
//! why, at no cost. `no-store` rather than `private` alone: `private` would still let the
//! browser keep the signed-in page on disk and show it again from its history after logout on
//! a shared computer. An app that wants a signed-in page cached in the browser says so with its
//! own `Cache-Control` (e.g. `private, max-age=60`), which is kept, except on a response that
//! sets one of the crate's cookies: a cache that stored it would hand the user's session (or
//! pending login) to whoever asks next, whatever the app meant.
//!
//! It runs on every response, so it does no more than one request-local lookup and one header
//! lookup (`Set-Cookie`); only a response that sets cookies or read the session costs more.

use std::sync::atomic::{AtomicU8, Ordering};

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Request, Response};

use crate::session::Loaded;
use crate::state::OidcState;

/// How a request used the session, from least to most: each mark only ever raises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(crate) enum SessionUse {
    /// The session was not looked at.
    Untouched = 0,
    /// A guard looked for a session and the request had no session cookie.
    Consulted = 1,
    /// The request's session cookies were read (valid, stale or foreign).
    Read = 2,
}

impl SessionUse {
    fn from_u8(value: u8) -> SessionUse {
        match value {
            0 => SessionUse::Untouched,
            1 => SessionUse::Consulted,
            _ => SessionUse::Read,
        }
    }
}

/// The request-local mark (an atomic, since Rocket's request-local cache hands out shared
/// references and a request may be marked by several guards).
struct Mark(AtomicU8);

fn mark_of<'r>(req: &'r Request<'_>) -> &'r AtomicU8 {
    &req.local_cache(|| Mark(AtomicU8::new(SessionUse::Untouched as u8)))
        .0
}

/// Records that the request used the session as `used` (a higher mark stays).
pub(crate) fn mark(req: &Request<'_>, used: SessionUse) {
    mark_of(req).fetch_max(used as u8, Ordering::Relaxed);
}

/// How the request used the session so far.
pub(crate) fn session_use(req: &Request<'_>) -> SessionUse {
    SessionUse::from_u8(mark_of(req).load(Ordering::Relaxed))
}

/// How a guard's [`load`](crate::session::load) used the session: looked for it, or read it.
pub(crate) fn use_of(loaded: &Loaded) -> SessionUse {
    match loaded {
        Loaded::None => SessionUse::Consulted,
        Loaded::Stale | Loaded::Foreign | Loaded::Valid { .. } => SessionUse::Read,
    }
}

/// The value of `Cache-Control` on a response that depends on the session.
pub(crate) const PRIVATE_NO_STORE: &str = "private, no-store";

/// Whether `response` sets or expires one of the crate's cookies (a session chunk or a pending
/// login), by the names of `req`'s app.
fn sets_own_cookie(req: &Request<'_>, response: &Response<'_>) -> bool {
    let mut set_cookies = response.headers().get("Set-Cookie").peekable();
    if set_cookies.peek().is_none() {
        return false;
    }
    let Some(state) = OidcState::of(req) else {
        return false;
    };
    let opts = state.cookie_options();
    set_cookies.any(|c| opts.is_own_name(c.split('=').next().unwrap_or_default().trim()))
}

/// Adds to `response` what `used` and `sets_own_cookie` require (see the table in the module
/// docs).
pub(crate) fn make_cache_safe(
    used: SessionUse,
    sets_own_cookie: bool,
    response: &mut Response<'_>,
) {
    if used == SessionUse::Untouched && !sets_own_cookie {
        return;
    }
    let headers = response.headers();
    let varies_on_cookie = headers.get("Vary").any(|v| {
        v.split(',')
            .any(|t| t.trim() == "*" || t.trim().eq_ignore_ascii_case("cookie"))
    });
    let app_said = headers.contains("Cache-Control");
    if !varies_on_cookie {
        // A second `Vary` line is the same as one joined with a comma (RFC 9110 §5.3).
        response.adjoin_header(Header::new("Vary", "Cookie"));
    }
    if sets_own_cookie || (used == SessionUse::Read && !app_said) {
        response.set_header(Header::new("Cache-Control", PRIVATE_NO_STORE));
    }
}

/// The response fairing that keeps session-dependent responses out of shared caches (see the
/// module docs). Attached by [`OidcFairing`](crate::OidcFairing) at ignite, after the app's own
/// fairings, so that it sees the `Cache-Control` they set. (Public only for the crate's
/// benches, through the `internals` feature.)
pub struct CacheSafe;

/// The name Rocket lists this fairing under.
pub(crate) const FAIRING_NAME: &str = "OpenID Connect: cache-safe session responses";

#[rocket::async_trait]
impl Fairing for CacheSafe {
    fn info(&self) -> Info {
        Info {
            name: FAIRING_NAME,
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, response: &mut Response<'r>) {
        let sets_own_cookie = sets_own_cookie(req, response);
        make_cache_safe(session_use(req), sets_own_cookie, response);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `Cache-Control` and `Vary` values of a response with `headers`, once made safe
    /// for `used` (and a crate cookie set, when `sets`).
    fn after(
        used: SessionUse,
        sets: bool,
        headers: &[(&'static str, &'static str)],
    ) -> (Vec<String>, Vec<String>) {
        let mut response = Response::new();
        for (name, value) in headers {
            response.adjoin_header(Header::new(*name, *value));
        }
        make_cache_safe(used, sets, &mut response);
        let values = |name| response.headers().get(name).map(str::to_owned).collect();
        (values("Cache-Control"), values("Vary"))
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    const PUBLIC: [(&str, &str); 1] = [("Cache-Control", "public, max-age=60")];

    #[test]
    fn untouched_responses_are_left_as_they_are() {
        assert_eq!(after(SessionUse::Untouched, false, &[]), (vec![], vec![]));
        assert_eq!(
            after(SessionUse::Untouched, false, &PUBLIC),
            (strings(&["public, max-age=60"]), vec![])
        );
    }

    #[test]
    fn a_visitor_page_varies_on_the_cookie_and_stays_cacheable() {
        assert_eq!(
            after(SessionUse::Consulted, false, &[]),
            (vec![], strings(&["Cookie"]))
        );
        assert_eq!(
            after(SessionUse::Consulted, false, &PUBLIC),
            (strings(&["public, max-age=60"]), strings(&["Cookie"]))
        );
    }

    #[test]
    fn a_page_that_read_the_session_is_private_unless_the_app_said_otherwise() {
        assert_eq!(
            after(SessionUse::Read, false, &[]),
            (strings(&[PRIVATE_NO_STORE]), strings(&["Cookie"]))
        );
        assert_eq!(
            after(
                SessionUse::Read,
                false,
                &[("Cache-Control", "private, max-age=60")]
            ),
            (strings(&["private, max-age=60"]), strings(&["Cookie"]))
        );
    }

    #[test]
    fn a_crate_set_cookie_is_never_cacheable_whatever_the_app_said() {
        for used in [
            SessionUse::Untouched,
            SessionUse::Consulted,
            SessionUse::Read,
        ] {
            for app in ["public, max-age=3600", "no-cache", "no-store"] {
                assert_eq!(
                    after(used, true, &[("Cache-Control", app)]),
                    (strings(&[PRIVATE_NO_STORE]), strings(&["Cookie"])),
                    "{used:?} {app}"
                );
            }
            assert_eq!(
                after(used, true, &[]),
                (strings(&[PRIVATE_NO_STORE]), strings(&["Cookie"]))
            );
        }
    }

    #[test]
    fn an_existing_vary_is_kept_and_cookie_added_once() {
        let (_, vary) = after(SessionUse::Read, false, &[("Vary", "Accept-Encoding")]);
        assert_eq!(vary, strings(&["Accept-Encoding", "Cookie"]));
        for already in ["cookie", "Accept, Cookie", "*"] {
            let (_, vary) = after(SessionUse::Read, false, &[("Vary", already)]);
            assert_eq!(vary, strings(&[already]), "{already}");
        }
    }

    #[test]
    fn marks_only_ever_rise() {
        let client = rocket::local::blocking::Client::untracked(rocket::custom(
            rocket::Config::figment().merge(("log_level", "off")),
        ))
        .unwrap();
        let req = client.get("/");
        let req = req.inner();
        assert_eq!(session_use(req), SessionUse::Untouched);
        mark(req, SessionUse::Read);
        mark(req, SessionUse::Consulted);
        assert_eq!(session_use(req), SessionUse::Read);
    }
}
