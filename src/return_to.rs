//! `return_to`: where a browser may be sent after login. Same-origin paths only (RFC 9700 §4.11).

use percent_encoding::percent_decode_str;

/// The longest `return_to` we keep; longer ones fall back to `/`.
pub const MAX_RETURN_TO: usize = 2048;

/// Returns `raw` if it is a safe same-origin path to send a browser to after login, `None`
/// otherwise (the caller then uses `/`).
///
/// Accepted: an absolute path (`/...`) with an optional query, made of printable ASCII. Refused,
/// so that no input can turn into an open redirect (RFC 9700 §4.11): anything not starting with
/// exactly one `/` (absolute URLs, scheme-relative `//host`, `/\host`), backslashes anywhere (some
/// browsers read them as `/`), control characters and whitespace (raw or percent-encoded, which
/// browsers strip, turning `/%09/host` into `//host`), encoded slashes or backslashes right after
/// the first `/`, fragments, non-ASCII and anything longer than 2048 bytes.
///
/// ```rust
/// use rocket_openid_connect::sanitize_return_to;
/// assert_eq!(sanitize_return_to("/protected?tab=1").as_deref(), Some("/protected?tab=1"));
/// assert_eq!(sanitize_return_to("//evil.example"), None);
/// assert_eq!(sanitize_return_to("https://evil.example/"), None);
/// ```
pub fn sanitize_return_to(raw: &str) -> Option<String> {
    if raw.is_empty() || raw.len() > MAX_RETURN_TO || !raw.starts_with('/') {
        return None;
    }
    if !raw.bytes().all(|b| b.is_ascii_graphic()) || raw.contains('\\') || raw.contains('#') {
        return None;
    }
    // Decode repeatedly (double encoding) and look at what a browser might end up with.
    let mut decoded = raw.to_owned();
    for _ in 0..3 {
        let next = percent_decode_str(&decoded)
            .decode_utf8_lossy()
            .into_owned();
        if next == decoded {
            break;
        }
        decoded = next;
    }
    let path = decoded.split('?').next().unwrap_or_default();
    if path.chars().any(|c| !c.is_ascii_graphic() || c == '\\')
        || path.starts_with("//")
        || !path.starts_with('/')
    {
        return None;
    }
    // Must be a valid origin-form URI for Rocket too.
    rocket::http::uri::Origin::parse(raw).ok()?;
    Some(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The list is shared with the integration tests (tests/flow.rs).
    include!("../tests/common/open_redirects.rs");

    #[test]
    fn every_open_redirect_trick_falls_back() {
        assert!(OPEN_REDIRECT_TRICKS.len() >= 30);
        for trick in OPEN_REDIRECT_TRICKS {
            assert_eq!(sanitize_return_to(trick), None, "{trick:?} was accepted");
        }
    }

    #[test]
    fn long_return_to_falls_back() {
        assert_eq!(
            sanitize_return_to(&format!("/{}", "a".repeat(MAX_RETURN_TO))),
            None
        );
    }

    #[test]
    fn local_paths_are_kept() {
        for ok in [
            "/",
            "/protected",
            "/a/b?c=d&e=%2F",
            "/search?q=%20x",
            "/@user",
            "/a//b",
        ] {
            assert_eq!(sanitize_return_to(ok).as_deref(), Some(ok));
        }
    }
}
