//! The ID-token rules (OpenID Connect Core 1.0 §3.1.3.7) one by one, as the pure function the
//! callback calls (`provider::validate`), at a fixed `now`, with tokens signed by the development
//! issuer's keys. The same rules over real HTTP are in `conformance.rs`; here each rule has a
//! test of its own, with its boundary.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::CoreJsonWebKeySet;
use rocket::serde::json::serde_json::{self, json, Map, Value};
use rocket_openid_connect::__internals::{
    dev_jwks, sign_dev_jwt, validate, ExpectedNonce, IdTokenRules, Rejection,
};
use rocket_openid_connect::dev_issuer::Fault;
use rocket_openid_connect::Config;
use sha2::{Digest, Sha256};

/// The time every test validates at (2023-11-14T22:13:20Z).
const NOW: i64 = 1_700_000_000;
const ISSUER: &str = "https://op.example";
const CLIENT: &str = "app";
const SECRET: &str = "client-secret-of-at-least-32-bytes!!";
const NONCE: &str = "n-0S6_WzA2Mj";
const ACCESS_TOKEN: &str = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";

fn config() -> Config {
    Config {
        issuer: ISSUER.into(),
        client_id: CLIENT.into(),
        client_secret: Some(SECRET.into()),
        app_base_url: "https://app.example".into(),
        ..Config::default()
    }
}

/// Defaults: clock skew 60 s, login timeout 600 s, the asymmetric algorithms.
fn rules() -> IdTokenRules {
    rules_with(config())
}

fn rules_with(config: Config) -> IdTokenRules {
    IdTokenRules::from_config(&config).expect("a valid issuer URL")
}

/// The key set the issuer publishes under `faults`.
fn keys(faults: &[Fault]) -> CoreJsonWebKeySet {
    serde_json::from_value(dev_jwks(faults)).unwrap()
}

fn at_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(token.as_bytes())[..16])
}

/// A valid claim set for `NOW`.
fn claims() -> Map<String, Value> {
    match json!({
        "iss": ISSUER, "sub": "ada", "aud": CLIENT,
        "iat": NOW - 5, "exp": NOW + 3600, "auth_time": NOW - 10,
        "nonce": NONCE, "at_hash": at_hash(ACCESS_TOKEN), "name": "Ada Lovelace",
    }) {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn with(changes: Value) -> Map<String, Value> {
    let mut c = claims();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            c.remove(k);
        } else {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

fn sign(claims: &Map<String, Value>, faults: &[Fault]) -> String {
    sign_dev_jwt(claims, Some(SECRET), faults)
}

fn check(rules: &IdTokenRules, token: &str, nonce: ExpectedNonce<'_>) -> Result<String, Rejection> {
    validate(rules, &keys(&[]), token, nonce, Some(ACCESS_TOKEN), NOW).map(|v| v.subject)
}

fn accepted(claims: Map<String, Value>) {
    let token = sign(&claims, &[]);
    assert_eq!(
        check(&rules(), &token, ExpectedNonce::Exact(NONCE)),
        Ok("ada".to_owned()),
        "{claims:?}"
    );
}

/// Asserts the token is rejected as invalid and the reason mentions `needle`.
fn rejected_token(rules: &IdTokenRules, token: &str, needle: &str) {
    match check(rules, token, ExpectedNonce::Exact(NONCE)) {
        Err(Rejection::Invalid(reason)) => assert!(
            reason.to_lowercase().contains(&needle.to_lowercase()),
            "reason `{reason}` does not mention `{needle}`"
        ),
        other => panic!("expected a rejection mentioning `{needle}`, got {other:?}"),
    }
}

fn rejected(claims: Map<String, Value>, needle: &str) {
    rejected_token(&rules(), &sign(&claims, &[]), needle);
}

#[test]
fn a_valid_token_is_accepted_with_its_claims() {
    let token = sign(&claims(), &[]);
    let v = validate(
        &rules(),
        &keys(&[]),
        &token,
        ExpectedNonce::Exact(NONCE),
        Some(ACCESS_TOKEN),
        NOW,
    )
    .unwrap();
    assert_eq!(v.subject, "ada");
    assert_eq!(v.raw, token);
    assert_eq!(v.claims.get("name"), Some(&json!("Ada Lovelace")));
}

// --- signature and algorithm (§3.1.3.7 steps 6–8, RFC 8725 §3.1) ---------------------------

#[test]
fn a_bad_signature_is_rejected() {
    rejected_token(
        &rules(),
        &sign(&claims(), &[Fault::BadSignature]),
        "signature",
    );
}

#[test]
fn alg_none_is_rejected_even_when_listed() {
    let token = sign(&claims(), &[Fault::AlgNone]);
    rejected_token(&rules(), &token, "signature");
    let listed = rules_with(Config {
        id_token_signing_algs: vec!["RS256".into(), "none".into()],
        ..config()
    });
    rejected_token(&listed, &token, "signature");
}

#[test]
fn hs256_keyed_with_the_public_key_is_rejected() {
    let token = sign(&claims(), &[Fault::Hs256WithPublicKey]);
    rejected_token(&rules(), &token, "signature");
}

#[test]
fn hs256_with_the_client_secret_needs_it_listed() {
    let token = sign(&claims(), &[Fault::Hs256WithClientSecret]);
    rejected_token(&rules(), &token, "signature");
    let listed = rules_with(Config {
        id_token_signing_algs: vec!["RS256".into(), "HS256".into()],
        ..config()
    });
    assert_eq!(
        check(&listed, &token, ExpectedNonce::Exact(NONCE)),
        Ok("ada".into())
    );
}

#[test]
fn a_key_the_set_does_not_hold_asks_for_a_refetch() {
    let token = sign(&claims(), &[Fault::UnknownKid]);
    assert_eq!(
        check(&rules(), &token, ExpectedNonce::Exact(NONCE)),
        Err(Rejection::UnknownKey)
    );
    // A rotated key is unknown to a set fetched before the rotation, known after.
    let rotated = sign(&claims(), &[Fault::RotatedKey]);
    assert_eq!(
        check(&rules(), &rotated, ExpectedNonce::Exact(NONCE)),
        Err(Rejection::UnknownKey)
    );
    let after = validate(
        &rules(),
        &keys(&[Fault::RotatedKey]),
        &rotated,
        ExpectedNonce::Exact(NONCE),
        Some(ACCESS_TOKEN),
        NOW,
    );
    assert_eq!(after.map(|v| v.subject), Ok("ada".into()));
}

#[test]
fn no_kid_is_fine_with_one_key_and_ambiguous_with_several() {
    let token = sign(&claims(), &[Fault::NoKid]);
    assert_eq!(
        check(&rules(), &token, ExpectedNonce::Exact(NONCE)),
        Ok("ada".into())
    );
    let two = validate(
        &rules(),
        &keys(&[Fault::ExtraJwksKey]),
        &token,
        ExpectedNonce::Exact(NONCE),
        Some(ACCESS_TOKEN),
        NOW,
    );
    assert!(matches!(two, Err(Rejection::Invalid(_))), "{two:?}");
}

#[test]
fn a_token_that_is_not_a_jws_is_rejected() {
    for junk in ["", "a.b", "a.b.c", "not a token", "e30.e30.e30.e30"] {
        assert!(
            matches!(
                check(&rules(), junk, ExpectedNonce::Exact(NONCE)),
                Err(Rejection::Invalid(_))
            ),
            "{junk:?}"
        );
    }
}

// --- iss, aud, azp (steps 2–5) -----------------------------------------------------------------

#[test]
fn another_issuer_is_rejected() {
    rejected(with(json!({"iss": "https://other.example"})), "issuer");
    rejected(with(json!({"iss": format!("{ISSUER}/")})), "issuer");
}

#[test]
fn another_audience_or_none_is_rejected() {
    rejected(with(json!({"aud": "another-client"})), "audience");
    rejected(with(json!({"aud": null})), "aud");
}

#[test]
fn an_untrusted_extra_audience_is_rejected_and_a_trusted_one_accepted() {
    let several = with(json!({"aud": [CLIENT, "api"], "azp": CLIENT}));
    rejected(several.clone(), "audience");
    let trusting = rules_with(Config {
        trusted_audiences: vec!["api".into()],
        ..config()
    });
    assert_eq!(
        check(&trusting, &sign(&several, &[]), ExpectedNonce::Exact(NONCE)),
        Ok("ada".into())
    );
}

#[test]
fn several_audiences_need_an_azp() {
    let trusting = rules_with(Config {
        trusted_audiences: vec!["api".into()],
        ..config()
    });
    let token = sign(&with(json!({"aud": [CLIENT, "api"]})), &[]);
    rejected_token(&trusting, &token, "azp");
}

#[test]
fn an_azp_naming_another_client_is_rejected() {
    rejected(with(json!({"azp": "another-client"})), "azp");
    accepted(with(json!({"azp": CLIENT})));
}

// --- exp and iat with the clock skew (steps 9 and 10) ----------------------------------------

#[test]
fn exp_is_checked_with_the_clock_skew() {
    // Expired 59 s ago: within the 60 s skew. 61 s ago: not.
    accepted(with(json!({"exp": NOW - 59, "iat": NOW - 120})));
    rejected(with(json!({"exp": NOW - 61, "iat": NOW - 120})), "expire");
}

#[test]
fn a_token_without_exp_is_rejected() {
    rejected(with(json!({"exp": null})), "exp");
}

#[test]
fn iat_in_the_future_beyond_the_skew_is_rejected() {
    accepted(with(json!({"iat": NOW + 60})));
    rejected(with(json!({"iat": NOW + 61})), "future");
}

#[test]
fn iat_older_than_the_login_is_rejected() {
    // The login may have started login_timeout_secs (600) ago, plus the skew (60).
    accepted(with(json!({"iat": NOW - 660})));
    rejected(with(json!({"iat": NOW - 661})), "before this login");
    rejected(with(json!({"iat": -5})), "before this login");
}

#[test]
fn a_token_without_iat_is_rejected() {
    rejected(with(json!({"iat": null})), "iat");
}

// --- nonce (step 11) -----------------------------------------------------------------------------

#[test]
fn the_login_nonce_must_be_there_and_equal() {
    rejected(with(json!({"nonce": "another-nonce"})), "nonce");
    rejected(with(json!({"nonce": null})), "nonce");
}

#[test]
fn a_refreshed_token_may_omit_the_nonce_but_not_change_it() {
    let omitted = sign(&with(json!({"nonce": null})), &[]);
    assert_eq!(
        check(&rules(), &omitted, ExpectedNonce::IfPresent(NONCE)),
        Ok("ada".into())
    );
    let same = sign(&claims(), &[]);
    assert_eq!(
        check(&rules(), &same, ExpectedNonce::IfPresent(NONCE)),
        Ok("ada".into())
    );
    let other = sign(&with(json!({"nonce": "another-nonce"})), &[]);
    assert!(matches!(
        check(&rules(), &other, ExpectedNonce::IfPresent(NONCE)),
        Err(Rejection::Invalid(_))
    ));
}

// --- at_hash (§3.1.3.8) --------------------------------------------------------------------------

#[test]
fn at_hash_must_match_the_access_token_when_present() {
    rejected(
        with(json!({"at_hash": at_hash("another-token")})),
        "at_hash",
    );
    accepted(with(json!({"at_hash": null})));
}

#[test]
fn at_hash_without_an_access_token_to_check_is_rejected() {
    let token = sign(&claims(), &[]);
    let r = validate(
        &rules(),
        &keys(&[]),
        &token,
        ExpectedNonce::Exact(NONCE),
        None,
        NOW,
    );
    assert!(
        matches!(&r, Err(Rejection::Invalid(m)) if m.contains("at_hash")),
        "{r:?}"
    );
}

// --- sub -----------------------------------------------------------------------------------------

#[test]
fn a_token_without_sub_is_rejected() {
    rejected(with(json!({"sub": null})), "sub");
}

#[test]
fn rules_debug_never_shows_the_client_secret() {
    let debug = format!("{:?}", rules());
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(debug.contains(CLIENT), "{debug}");
}
