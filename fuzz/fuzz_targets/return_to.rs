//! `sanitize_return_to` on arbitrary strings. Whatever it accepts must be a same-origin path:
//! unchanged, starting with exactly one `/`, no `\`, no control characters or whitespace, and
//! resolving against the app's origin to the app's host (WHATWG URL parsing, as browsers do).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_openid_connect::sanitize_return_to;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Some(accepted) = sanitize_return_to(raw) else {
        return;
    };
    assert_eq!(accepted, raw, "accepted values are kept as they are");
    assert!(
        accepted.starts_with('/') && !accepted.starts_with("//"),
        "{accepted:?}"
    );
    assert!(!accepted.contains('\\'), "{accepted:?}");
    assert!(
        !accepted
            .chars()
            .any(|c| c.is_control() || c.is_whitespace()),
        "{accepted:?}"
    );
    let base = url::Url::parse("https://app.example/some/page").unwrap();
    let joined = base.join(&accepted).expect("an accepted path joins");
    assert_eq!(
        joined.host_str(),
        Some("app.example"),
        "{accepted:?} -> {joined}"
    );
    assert_eq!(joined.scheme(), "https");
    assert_eq!(joined.port(), None);
    assert!(joined.username().is_empty() && joined.password().is_none());
});
