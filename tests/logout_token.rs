//! The logout-token rules (OpenID Connect Back-Channel Logout 1.0 §2.4 and §2.6) one by one, as
//! the pure function the back-channel endpoint calls (`provider::validate_logout_token`), at a
//! fixed `now`, with tokens signed by the development issuer's keys (or, for header variants the
//! issuer never produces, with HS256 and a configured client secret). The same rules over real
//! HTTP are in `backchannel.rs`; here each rule has a test of its own, with its boundary.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::CoreJsonWebKeySet;
use rocket::serde::json::serde_json::{self, json, Map, Value};
use rocket_openid_connect::__internals::{
    dev_jwks, sign_dev_logout_token, validate_logout_token, LogoutTokenRules, Rejection,
    ValidatedLogoutToken, BACKCHANNEL_LOGOUT_EVENT, MAX_LOGOUT_TOKEN_AGE_SECS,
};
use rocket_openid_connect::dev_issuer::Fault;
use rocket_openid_connect::Config;
use sha2::{Digest, Sha256};

/// The time every test validates at (2023-11-14T22:13:20Z).
const NOW: i64 = 1_700_000_000;
const ISSUER: &str = "https://op.example";
const CLIENT: &str = "app";
const SECRET: &str = "client-secret-of-at-least-32-bytes!!";
const SKEW: i64 = 60;

fn config() -> Config {
    Config {
        issuer: ISSUER.into(),
        client_id: CLIENT.into(),
        client_secret: Some(SECRET.into()),
        app_base_url: "https://app.example".into(),
        ..Config::default()
    }
}

/// Defaults: clock skew 60 s, the asymmetric algorithms.
fn rules() -> LogoutTokenRules {
    LogoutTokenRules::from_config(&config())
}

/// The rules with HS256 allowed (keyed with the client secret), for hand-made headers.
fn hs256_rules() -> LogoutTokenRules {
    LogoutTokenRules::from_config(&Config {
        id_token_signing_algs: vec!["RS256".into(), "HS256".into()],
        ..config()
    })
}

/// The key set the issuer publishes under `faults`.
fn keys(faults: &[Fault]) -> CoreJsonWebKeySet {
    serde_json::from_value(dev_jwks(faults)).unwrap()
}

/// A valid claim set for `NOW`, as the development issuer sends them.
fn claims() -> Map<String, Value> {
    match json!({
        "iss": ISSUER, "aud": CLIENT, "iat": NOW - 5, "exp": NOW + 115,
        "jti": "bWJq-4f2c", "sub": "ada", "sid": "08a5019c-17e1-4977",
        "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
    }) {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

/// `claims()` with `changes` applied (`null` removes a claim).
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

/// Signed by the development issuer, as its logout tokens are (`typ: logout+jwt`, RS256).
fn sign(claims: &Map<String, Value>, faults: &[Fault]) -> String {
    sign_dev_logout_token(&Value::Object(claims.clone()), faults)
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    // RFC 2104 with SHA-256 (block size 64); keys of at most 64 bytes are used as they are.
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// A token with this exact `header`, HS256-signed with the client secret.
fn hs256(header: Value, claims: &Map<String, Value>) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string())
    );
    let mac = hmac_sha256(SECRET.as_bytes(), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac))
}

fn check(rules: &LogoutTokenRules, token: &str) -> Result<ValidatedLogoutToken, Rejection> {
    validate_logout_token(rules, &keys(&[]), token, NOW)
}

#[track_caller]
fn accepted(claims: Map<String, Value>) -> ValidatedLogoutToken {
    check(&rules(), &sign(&claims, &[]))
        .unwrap_or_else(|e| panic!("{claims:?} should be accepted: {e:?}"))
}

/// Asserts the token is rejected as invalid and the reason mentions `needle`.
#[track_caller]
fn rejected_token(rules: &LogoutTokenRules, token: &str, needle: &str) {
    match check(rules, token) {
        Err(Rejection::Invalid(reason)) => assert!(
            reason.to_lowercase().contains(&needle.to_lowercase()),
            "reason `{reason}` does not mention `{needle}`"
        ),
        other => panic!("expected a rejection mentioning `{needle}`, got {other:?}"),
    }
}

#[track_caller]
fn rejected(claims: Map<String, Value>, needle: &str) {
    rejected_token(&rules(), &sign(&claims, &[]), needle);
}

#[test]
fn a_valid_token_is_accepted_with_its_claims() {
    let token = accepted(claims());
    assert_eq!(
        token,
        ValidatedLogoutToken {
            iss: ISSUER.into(),
            sub: Some("ada".into()),
            sid: Some("08a5019c-17e1-4977".into()),
            jti: "bWJq-4f2c".into(),
            iat: NOW - 5,
            exp: Some(NOW + 115),
        }
    );
    let debug = format!("{token:?}");
    assert!(
        !debug.contains("08a5019c") && !debug.contains("bWJq"),
        "{debug}"
    );
}

// --- signature and algorithm (§2.6 step 3, as for ID tokens; RFC 8725 §3.1) ----------------------

#[test]
fn a_bad_signature_is_rejected() {
    rejected_token(
        &rules(),
        &sign(&claims(), &[Fault::LogoutBadSignature]),
        "signature",
    );
}

#[test]
fn alg_none_is_rejected_even_when_listed() {
    let token = sign(&claims(), &[Fault::LogoutAlgNone]);
    rejected_token(&rules(), &token, "not allowed");
    let listed = LogoutTokenRules::from_config(&Config {
        id_token_signing_algs: vec!["RS256".into(), "none".into()],
        ..config()
    });
    rejected_token(&listed, &token, "not allowed");
}

#[test]
fn an_algorithm_not_configured_is_rejected() {
    let rs384_only = LogoutTokenRules::from_config(&Config {
        id_token_signing_algs: vec!["RS384".into()],
        ..config()
    });
    rejected_token(&rs384_only, &sign(&claims(), &[]), "RS256");
}

#[test]
fn hs256_with_the_client_secret_needs_it_listed() {
    let token = hs256(json!({"alg": "HS256", "typ": "logout+jwt"}), &claims());
    rejected_token(&rules(), &token, "not allowed");
    assert!(check(&hs256_rules(), &token).is_ok());
    let public_client = LogoutTokenRules::from_config(&Config {
        id_token_signing_algs: vec!["HS256".into()],
        client_auth_method: Some(rocket_openid_connect::ClientAuthMethod::None),
        ..config()
    });
    rejected_token(&public_client, &token, "client secret");
}

#[test]
fn a_key_the_set_does_not_hold_asks_for_a_refetch() {
    let unknown = sign(&claims(), &[Fault::LogoutUnknownKid]);
    assert_eq!(check(&rules(), &unknown), Err(Rejection::UnknownKey));
    // A rotated key is unknown to a set fetched before the rotation, known after.
    let rotated = sign(&claims(), &[Fault::RotatedKey]);
    assert_eq!(check(&rules(), &rotated), Err(Rejection::UnknownKey));
    let after = validate_logout_token(&rules(), &keys(&[Fault::RotatedKey]), &rotated, NOW);
    assert_eq!(after.map(|t| t.jti), Ok("bWJq-4f2c".into()));
}

#[test]
fn no_kid_is_ambiguous_with_several_keys() {
    // The header without its kid: the key choice fails before the (now broken) signature.
    let token = sign(&claims(), &[]);
    let (header, rest) = token.split_once('.').unwrap();
    let mut header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header.as_object_mut().unwrap().remove("kid");
    let stripped = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()));
    let two = validate_logout_token(&rules(), &keys(&[Fault::ExtraJwksKey]), &stripped, NOW);
    assert!(
        matches!(&two, Err(Rejection::Invalid(m)) if m.contains("several keys")),
        "{two:?}"
    );
}

#[test]
fn a_token_that_is_not_a_jws_is_rejected() {
    for junk in [
        "",
        "a.b",
        "a.b.c",
        "not a token",
        "e30.e30",
        "e30.W10.c2ln",
        "a.b.c.d",
    ] {
        assert!(
            matches!(check(&rules(), junk), Err(Rejection::Invalid(_))),
            "{junk:?}"
        );
    }
    let long = format!("{}.{}", sign(&claims(), &[]), "a".repeat(17 * 1024));
    rejected_token(&rules(), &long, "16 KiB");
}

#[test]
fn an_encrypted_token_is_rejected() {
    rejected_token(&rules(), "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", "encrypted");
}

// --- typ (§2.4, explicit typing; §4.1 cross-JWT confusion) -----------------------------------------

#[test]
fn typ_must_be_logout_jwt_when_present() {
    rejected_token(
        &rules(),
        &sign(&claims(), &[Fault::LogoutWrongTyp]),
        "typ `jwt`",
    );
    for typ in ["logout+jwt", "application/logout+jwt", "Logout+JWT"] {
        let token = hs256(json!({"alg": "HS256", "typ": typ}), &claims());
        assert!(check(&hs256_rules(), &token).is_ok(), "{typ}");
    }
    let untyped = hs256(json!({"alg": "HS256"}), &claims());
    assert!(
        check(&hs256_rules(), &untyped).is_ok(),
        "no typ is accepted"
    );
    let number = hs256(json!({"alg": "HS256", "typ": 5}), &claims());
    rejected_token(&hs256_rules(), &number, "typ");
}

#[test]
fn crit_header_extensions_are_rejected() {
    let token = hs256(
        json!({"alg": "HS256", "typ": "logout+jwt", "crit": ["exp"]}),
        &claims(),
    );
    rejected_token(&hs256_rules(), &token, "crit");
}

// --- iss, aud (§2.6 step 4) --------------------------------------------------------------------------

#[test]
fn another_issuer_is_rejected() {
    rejected(
        with(json!({"iss": "http://wrong-issuer.invalid"})),
        "issuer",
    );
    rejected(with(json!({"iss": format!("{ISSUER}/")})), "issuer");
    rejected(with(json!({"iss": null})), "no iss");
}

#[test]
fn another_audience_or_none_is_rejected() {
    rejected(with(json!({"aud": "another-client"})), "aud");
    rejected(with(json!({"aud": null})), "no aud");
    rejected(with(json!({"aud": 5})), "aud");
    accepted(with(json!({"aud": [CLIENT]})));
}

#[test]
fn an_untrusted_extra_audience_is_rejected_and_a_trusted_one_accepted() {
    let several = with(json!({"aud": [CLIENT, "api"]}));
    rejected(several.clone(), "not a trusted audience");
    let trusting = LogoutTokenRules::from_config(&Config {
        trusted_audiences: vec!["api".into()],
        ..config()
    });
    assert!(check(&trusting, &sign(&several, &[])).is_ok());
}

// --- iat and exp with the clock skew (§2.6 step 4) ---------------------------------------------------

#[test]
fn iat_in_the_future_beyond_the_skew_is_rejected() {
    accepted(with(json!({"iat": NOW + SKEW, "exp": NOW + SKEW + 120})));
    rejected(
        with(json!({"iat": NOW + SKEW + 1, "exp": NOW + SKEW + 121})),
        "future",
    );
}

#[test]
fn iat_older_than_a_logout_token_may_be_is_rejected() {
    let oldest = NOW - SKEW - MAX_LOGOUT_TOKEN_AGE_SECS;
    accepted(with(json!({"iat": oldest, "exp": null})));
    rejected(with(json!({"iat": oldest - 1, "exp": null})), "in the past");
    rejected(with(json!({"iat": -5, "exp": null})), "in the past");
}

#[test]
fn a_token_without_a_numeric_iat_is_rejected() {
    rejected(with(json!({"iat": null})), "no iat");
    rejected(with(json!({"iat": "1700000000"})), "NumericDate");
    rejected(with(json!({"iat": u64::MAX})), "NumericDate");
    assert_eq!(accepted(with(json!({"iat": NOW as f64 + 0.5}))).iat, NOW);
}

#[test]
fn exp_is_checked_with_the_clock_skew_when_present() {
    accepted(with(json!({"iat": NOW - 120, "exp": NOW - SKEW + 1})));
    rejected(
        with(json!({"iat": NOW - 120, "exp": NOW - SKEW})),
        "expired",
    );
    assert_eq!(accepted(with(json!({"exp": null}))).exp, None);
    rejected(with(json!({"exp": "soon"})), "exp is not a NumericDate");
}

// --- events (§2.6 step 5) ----------------------------------------------------------------------------

#[test]
fn the_backchannel_logout_event_must_be_there_with_an_object() {
    rejected(with(json!({"events": null})), "no events");
    rejected(
        with(json!({"events": [BACKCHANNEL_LOGOUT_EVENT]})),
        "not a JSON object",
    );
    rejected(
        with(json!({"events": {"http://schemas.openid.net/event/other": {}}})),
        "no back-channel logout event",
    );
    rejected(
        with(json!({"events": {BACKCHANNEL_LOGOUT_EVENT: "logout"}})),
        "value is not a JSON object",
    );
    accepted(with(
        json!({"events": {BACKCHANNEL_LOGOUT_EVENT: {"reason": "admin"}}}),
    ));
}

// --- sid and sub (§2.6 step 6) -----------------------------------------------------------------------

#[test]
fn sid_or_sub_or_both_must_be_there() {
    rejected(
        with(json!({"sid": null, "sub": null})),
        "neither sub nor sid",
    );
    let sub_only = accepted(with(json!({"sid": null})));
    assert_eq!((sub_only.sub.as_deref(), sub_only.sid), (Some("ada"), None));
    let sid_only = accepted(with(json!({"sub": null})));
    assert_eq!(sid_only.sub, None);
    rejected(with(json!({"sub": 42})), "sub is not");
    rejected(with(json!({"sid": ""})), "sid is not");
}

// --- nonce (§2.6 step 7) -----------------------------------------------------------------------------

#[test]
fn a_token_with_a_nonce_is_rejected() {
    rejected(with(json!({"nonce": "n-0S6_WzA2Mj"})), "nonce");
}

// --- jti (§2.4; replay is the endpoint's, see backchannel.rs) ------------------------------------------

#[test]
fn a_token_without_jti_is_rejected() {
    rejected(with(json!({"jti": null})), "no jti");
    rejected(with(json!({"jti": 7})), "jti is not");
}

#[test]
fn rules_debug_never_shows_the_client_secret() {
    let debug = format!("{:?}", rules());
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(debug.contains(CLIENT), "{debug}");
}
