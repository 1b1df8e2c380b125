use super::*;

/// Open-redirect payloads gathered from OWASP's cheat sheet, PortSwigger's research and the
/// advisories of peer libraries (express-openid-connect, next-auth, passport). None may survive.
pub(crate) const OPEN_REDIRECT_TRICKS: &[&str] = &[
    "https://evil.example",
    "http://evil.example/",
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%252F%252Fevil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    "/%0d%0a/evil.example",
    "/\r\n//evil.example",
    "/%20/evil.example",
    " /evil.example",
    "/ /evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "https:evil.example",
    "http:/evil.example",
    "@evil.example",
    "/%E3%80%82evil.example",
    "/\u{3002}evil.example",
    "/\u{ff0f}evil.example",
    "/#//evil.example",
    "%2F%2Fevil.example",
    "/\0//evil.example",
    "",
    "?next=//evil.example",
];

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

#[test]
fn callback_query_parses_the_protocol_parameters() {
    let p = parse_callback_query(Some(
        "code=abc&state=x%2By&iss=http%3A%2F%2Fi&other=1&other=2",
    ))
    .unwrap();
    assert_eq!(p.code.as_deref(), Some("abc"));
    assert_eq!(p.state.as_deref(), Some("x+y"));
    assert_eq!(p.iss.as_deref(), Some("http://i"));
    let p = parse_callback_query(Some("error=access_denied&error_description=a+b")).unwrap();
    assert_eq!(p.error_description.as_deref(), Some("a b"));
    assert_eq!(
        parse_callback_query(None).unwrap(),
        CallbackParams::default()
    );
}

#[test]
fn callback_query_refuses_duplicates_bad_encoding_and_huge_input() {
    for bad in [
        "code=a&code=b",
        "state=a&state=b",
        "iss=a&iss=b",
        "error=a&error=b",
        "code=%zz",
        "code=%",
        "code=%4",
        "state=%FF%FE",
        "co%de=1",
    ] {
        assert!(
            matches!(
                parse_callback_query(Some(bad)),
                Err(LoginError::BadRequest(_))
            ),
            "{bad:?} was accepted"
        );
    }
    let huge = format!("code={}", "a".repeat(100 * 1024));
    assert!(parse_callback_query(Some(&huge)).is_err());
}
