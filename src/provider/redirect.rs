//! Redirects on the way to a metadata document, followed by hand and bounded.
//!
//! The crate's HTTP client never follows redirects: a token or revocation request must not be
//! re-sent, with the client's credentials, wherever a `Location` points. A metadata document is
//! different: it is public, fetched with a GET, and some providers serve it behind a redirect
//! (Verimi answers `<issuer>/.well-known/openid-configuration` with a 302). Following it is
//! safe because the document's `issuer` must still equal the configured issuer (OpenID Connect
//! Discovery 1.0 §4.3, RFC 8414 §3.3), so a redirect can never substitute another issuer.

use serde::de::DeserializeOwned;
use url::Url;

use crate::config::is_loopback;
use crate::http::{FetchError, Http};
use crate::util;

/// The most redirects followed for one document.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// What to do with one answer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Hop {
    /// Not a redirect: this answer is the one to read.
    Done,
    /// A redirect to follow, to this URL.
    Follow(Url),
    /// A redirect not to follow, and why.
    Refuse(String),
}

/// Decides what to do with an answer of `status` and `location` to a GET of `current`, after
/// `hops` redirects: RFC 9110 §15.4 (301, 302, 303, 307 and 308 carry a `Location`, which may
/// be relative to the request URL, §10.2.2). A redirect from https to plain http is refused
/// unless the target is a loopback host or `allow_http` is set (`oidc.insecure_allow_http`).
pub(crate) fn next_hop(
    current: &Url,
    status: u16,
    location: Option<&str>,
    hops: usize,
    allow_http: bool,
) -> Hop {
    if !(300..400).contains(&status) {
        return Hop::Done;
    }
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return Hop::Refuse(format!("HTTP {status} is not a redirect to follow"));
    }
    let Some(location) = location.filter(|l| !l.trim().is_empty()) else {
        return Hop::Refuse("no Location header".into());
    };
    let Ok(target) = current.join(location.trim()) else {
        return Hop::Refuse("the Location is not a URL".into());
    };
    if hops >= MAX_REDIRECTS {
        return Hop::Refuse(format!("more than {MAX_REDIRECTS} redirects"));
    }
    match (current.scheme(), target.scheme()) {
        ("https", "http") if !allow_http && !is_loopback(&target) => {
            Hop::Refuse("https → http".into())
        }
        (_, "https" | "http") => Hop::Follow(target),
        (_, other) => Hop::Refuse(format!("`{}` is not http(s)", util::truncate(other, 16))),
    }
}

/// GETs the JSON document at `url`, following up to [`MAX_REDIRECTS`] redirects as
/// [`next_hop`] allows, and logging each hop at info as `OpenID Connect: <what>: <url>
/// redirected (HTTP 302) to <target>`.
pub(crate) async fn get_json_following<T: DeserializeOwned>(
    http: &Http,
    url: &str,
    allow_http: bool,
    what: &str,
) -> Result<T, FetchError> {
    let Ok(mut current) = Url::parse(url) else {
        // Not reached with a validated issuer; the client reports the URL error.
        return http.get_json(url).await;
    };
    let mut hops = 0;
    loop {
        let response = http.get(current.as_str(), None).await?;
        let location = response.location.as_deref();
        match next_hop(&current, response.status, location, hops, allow_http) {
            Hop::Done => return response.json_document(),
            Hop::Follow(target) => {
                log::info!(
                    "OpenID Connect: {what}: {current} redirected (HTTP {}) to {target}",
                    response.status
                );
                current = target;
                hops += 1;
            }
            Hop::Refuse(reason) => {
                return Err(FetchError::Redirect {
                    status: response.status,
                    location: location.map(|l| util::truncate(l, 200)),
                    reason,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const WELL_KNOWN: &str = "https://web.verimi.de/.well-known/openid-configuration";

    #[test]
    fn relative_and_absolute_locations_resolve_against_the_request() {
        // Verimi's redirect, absolute and as a path.
        let moved = "https://web.verimi.de/dipp/api/.well-known/openid-configuration";
        for location in [moved, "/dipp/api/.well-known/openid-configuration"] {
            assert_eq!(
                next_hop(&url(WELL_KNOWN), 302, Some(location), 0, false),
                Hop::Follow(url(moved))
            );
        }
        assert_eq!(
            next_hop(&url("https://a.example/x/y"), 307, Some("z"), 0, false),
            Hop::Follow(url("https://a.example/x/z"))
        );
        for status in [301, 303, 308] {
            assert!(matches!(
                next_hop(&url(WELL_KNOWN), status, Some(moved), 4, false),
                Hop::Follow(_)
            ));
        }
    }

    #[test]
    fn answers_that_are_not_redirects_are_read() {
        for status in [200, 204, 400, 404, 500] {
            assert_eq!(
                next_hop(&url(WELL_KNOWN), status, Some("/x"), 0, false),
                Hop::Done
            );
        }
    }

    #[test]
    fn the_hop_limit_and_odd_redirects_are_refused() {
        assert_eq!(
            next_hop(&url(WELL_KNOWN), 302, Some("/x"), MAX_REDIRECTS, false),
            Hop::Refuse("more than 5 redirects".into())
        );
        assert_eq!(
            next_hop(&url(WELL_KNOWN), 302, None, 0, false),
            Hop::Refuse("no Location header".into())
        );
        assert_eq!(
            next_hop(&url(WELL_KNOWN), 302, Some("  "), 0, false),
            Hop::Refuse("no Location header".into())
        );
        assert_eq!(
            next_hop(&url(WELL_KNOWN), 304, Some("/x"), 0, false),
            Hop::Refuse("HTTP 304 is not a redirect to follow".into())
        );
        assert_eq!(
            next_hop(&url(WELL_KNOWN), 302, Some("http://[::1"), 0, false),
            Hop::Refuse("the Location is not a URL".into())
        );
        assert_eq!(
            next_hop(&url(WELL_KNOWN), 302, Some("ftp://a.example/doc"), 0, false),
            Hop::Refuse("`ftp` is not http(s)".into())
        );
    }

    #[test]
    fn a_downgrade_to_http_is_refused_unless_loopback_or_allowed() {
        let http = "http://web.verimi.de/.well-known/openid-configuration";
        assert_eq!(
            next_hop(&url(WELL_KNOWN), 301, Some(http), 0, false),
            Hop::Refuse("https → http".into())
        );
        assert_eq!(
            next_hop(&url(WELL_KNOWN), 301, Some(http), 0, true),
            Hop::Follow(url(http))
        );
        assert_eq!(
            next_hop(
                &url(WELL_KNOWN),
                302,
                Some("http://127.0.0.1:9/d"),
                0,
                false
            ),
            Hop::Follow(url("http://127.0.0.1:9/d"))
        );
        // http to http (a loopback development issuer) and http to https are fine.
        assert!(matches!(
            next_hop(&url("http://127.0.0.1:9/a"), 302, Some("/b"), 0, false),
            Hop::Follow(_)
        ));
        assert!(matches!(
            next_hop(
                &url("http://id.example/a"),
                302,
                Some("https://id.example/a"),
                0,
                false
            ),
            Hop::Follow(_)
        ));
    }
}
