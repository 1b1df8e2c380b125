//! The pure parts of refresh: when it is due, the cache key, the nonce of a stored ID token.

use super::*;

#[test]
fn a_refresh_is_due_within_the_skew_or_after_expiry_never_without_an_expiry() {
    let (expires, skew) = (Some(1_000), 60);
    assert!(!is_due(expires, skew, 939), "61 s left");
    assert!(is_due(expires, skew, 940), "60 s left: due");
    assert!(is_due(expires, skew, 1_000));
    assert!(is_due(expires, skew, 5_000), "long expired");
    assert!(!is_due(expires, 0, 999));
    assert!(is_due(expires, 0, 1_000), "no skew: due at expiry");
    assert!(!is_due(None, skew, i64::MAX), "unknown expiry");
    assert!(is_due(Some(i64::MIN), i64::MAX, i64::MIN), "no overflow");
}

#[test]
fn the_key_hashes_the_token_with_the_provider_and_never_shows_it() {
    let a = RefreshKey::new("https://op.example", "rt-secret-value");
    assert_eq!(a, RefreshKey::new("https://op.example", "rt-secret-value"));
    assert_ne!(a, RefreshKey::new("https://op.example", "rt-secret-valuf"));
    assert_ne!(
        a,
        RefreshKey::new("https://other.example", "rt-secret-value")
    );
    // The provider and the token are separated: ("ab", "c") is not ("a", "bc").
    assert_ne!(RefreshKey::new("ab", "c"), RefreshKey::new("a", "bc"));
    // The id is SHA-256(prefix ‖ provider ‖ 0 ‖ token), checked against an independent
    // computation (Python: hashlib.sha256(b"rocket_openid_connect refresh-cache id v1\0"
    // + b"https://op.example\0rt-secret-value").hexdigest()).
    let hex: String = a.id().iter().map(|b| format!("{b:02x}")).collect();
    let mut expected = Sha256::new();
    expected
        .update(b"rocket_openid_connect refresh-cache id v1\0https://op.example\0rt-secret-value");
    let expected: String = expected
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, expected);
    assert_ne!(a.id(), a.result_key(), "two different derivations");
    let debug = format!("{a:?}");
    assert!(
        debug.starts_with("RefreshKey(") && debug.len() < 24,
        "{debug}"
    );
    assert!(!debug.contains("rt-secret"));
}

#[test]
fn the_nonce_is_read_from_a_stored_id_token() {
    let token = |payload: &str| format!("e30.{}.c2ln", URL_SAFE_NO_PAD.encode(payload));
    assert_eq!(
        id_token_nonce(&token(r#"{"sub":"a","nonce":"n-1"}"#)).as_deref(),
        Some("n-1")
    );
    assert_eq!(id_token_nonce(&token(r#"{"sub":"a"}"#)), None);
    assert_eq!(id_token_nonce(&token(r#"{"nonce":5}"#)), None);
    assert_eq!(id_token_nonce("not a token"), None);
    assert_eq!(id_token_nonce(&token("[1]")), None);
}

#[test]
fn refreshed_tokens_debug_hides_the_tokens() {
    let t = RefreshedTokens {
        access_token: "at-secret".into(),
        access_expires_at: Some(5),
        refresh_token: Some("rt-secret".into()),
        id_token: Some("id-secret".into()),
        subject: Some("ada".into()),
        refreshed_at: 1,
    };
    let debug = format!("{t:?}");
    assert!(!debug.contains("secret"), "{debug}");
    assert!(debug.contains("ada"));
}
