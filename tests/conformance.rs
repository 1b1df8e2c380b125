//! The conformance suite: every case SECURITY.md lists, one test each, named after the case id.
//!
//! Each test runs a real Rocket app on loopback signing in at the development issuer over real
//! HTTP, switches on the issuer's fault for the case, and asserts the outcome: the status, the
//! error code on the page, that no session cookie was set, and what the app asked of the
//! provider (a rejected ID token never leads to a userinfo call).
//!
//! Id schemes, mapped to Rust names (`-` and `+` become `_`):
//! - `rp_*`: the OpenID Foundation's RP certification tests of the Basic RP and Config RP
//!   profiles, by their ids in the RP conformance profiles (e.g. `rp-id_token-aud`); the current
//!   suite (openid/conformance-suite) names them `oidcc-client-test-*`.
//! - `rfc9700_*`, `rfc9207_*`, `rfc8725_*`, `oidc_core_*`: rules of OAuth 2.0 Security BCP
//!   (RFC 9700), OAuth 2.0 Authorization Server Issuer Identification (RFC 9207), JWT BCP
//!   (RFC 8725) and OpenID Connect Core 1.0.
//! - `adv_*`: regressions for advisories published against peer libraries.
//! - `bad_input_*`: malformed, oversized and slow input: never a 500, never a panic.
//! - `provider_*`: what real providers publish (issue 12, items 8 and 9), named after the
//!   provider that publishes it, in `conformance/provider_metadata.rs`.
//! - `hard_*` (in `conformance/hardening.rs`): the hardening cases of the security review of
//!   issue 12.

mod common;
#[path = "conformance/hardening.rs"]
mod hardening;
#[path = "conformance/provider_metadata.rs"]
mod provider_metadata;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use rocket::figment::Figment;
use rocket::serde::json::serde_json::{json, Value};
use rocket_openid_connect::dev_issuer::{DevIssuer, Fault, DEFAULT_CLIENT_ID};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------------------------------------
// Helpers (`login_case`, `callback_refused` and the one check of a refused callback,
// `assert_refused`, live in tests/common/cases.rs: flow.rs uses them too)

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Launches an app at `issuer` (faults already set) and asserts that our fairing stops launch,
/// with a log line containing every one of `expected` (which includes something unique to the
/// test, such as the issuer URL, since all tests of this binary share the log).
async fn assert_launch_fails(
    issuer: &DevIssuer,
    tweak: impl FnOnce(Figment) -> Figment,
    expected: &[&str],
) {
    assert_fairing_fails(test_app(tweak(app_figment(
        issuer.issuer_url(),
        free_port(),
    ))))
    .await;
    assert_logged(expected);
}

/// Starts an issuer with `fault` on, launches an app at it (adjusted by `tweak`) and asserts
/// that our fairing stops launch with a log line naming this issuer and containing all of
/// `expected`. Returns the issuer, still running (for its counters), and how long launch took.
async fn faulted_launch_fails(
    fault: Fault,
    tweak: impl FnOnce(Figment) -> Figment,
    expected: &[&str],
) -> (DevIssuer, Duration) {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_fault(fault);
    let started = Instant::now();
    let needles = [&[issuer.issuer_url()], expected].concat();
    assert_launch_fails(&issuer, tweak, &needles).await;
    (issuer, started.elapsed())
}

/// One login with `faults` against a fresh app, expecting `expect`.
async fn single_case(faults: &[Fault], expect: Expect) {
    let s = setup().await;
    login_case(&s, faults, expect).await;
    s.stop().await;
}

/// One login per value of the ID token's `claim`, against one fresh app, each ending as its
/// case says.
async fn claim_cases(claim: &str, cases: &[(Value, Expect)]) {
    let s = setup().await;
    for (value, expect) in cases {
        login_case(&s, &[Fault::Claim(claim.into(), value.clone())], *expect).await;
    }
    s.stop().await;
}

/// Sends `b`'s callback with each of `queries` in place of the genuine query: each is a bad
/// request (400 `bad_request`), refused before the pending login is looked up, so the pending
/// login stays and no code is exchanged.
async fn bad_request_queries(s: &Setup, b: &Browser, queries: &[String]) {
    let base = s.app.url("/authorization-code/callback");
    for query in queries {
        callback_refused(s, b, &format!("{base}?{query}"), 400, "bad_request").await;
    }
}

/// Sends a raw HTTP/1.1 GET (bytes as given, not encoded) to `app`; the status, or `None` if the
/// server closed the connection without an answer.
async fn raw_get(app: &App, target: &[u8], headers: &[u8]) -> Option<u16> {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(target);
    request.extend_from_slice(
        format!(" HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n").as_bytes(),
    );
    request.extend_from_slice(headers);
    request.extend_from_slice(b"\r\n");
    stream.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let line = String::from_utf8_lossy(&answer);
    line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// The app still serves a visitor and a logged-in browser after whatever a test threw at it.
async fn assert_app_healthy(s: &Setup) {
    s.issuer.clear_faults();
    let b = Browser::new();
    assert_eq!(b.get(&s.app.url("/")).await.body, "Hello, visitor");
    assert_eq!(
        login(&b, &s.app, "/protected").await.pop().unwrap().body,
        format!("Only for {ADA}")
    );
}

// ---------------------------------------------------------------------------------------------
// OpenID Connect RP certification: Basic RP and Config RP profiles

/// `rp-response_type-code` (`oidcc-client-test`): a code-flow login with every parameter it
/// needs, ending signed in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_response_type_code() {
    let s = setup().await;
    let b = Browser::new();
    let chain = login(&b, &s.app, "/protected").await;
    let authorize = query_of(&chain[0].location().unwrap());
    assert_eq!(authorize["response_type"], "code");
    assert_eq!(authorize["client_id"], DEFAULT_CLIENT_ID);
    assert_eq!(authorize["scope"], "openid profile email");
    assert_eq!(
        authorize["redirect_uri"],
        s.app.url("/authorization-code/callback")
    );
    assert!(authorize.contains_key("state") && authorize.contains_key("nonce"));
    assert_eq!(chain.last().unwrap().body, format!("Only for {ADA}"));
    assert_eq!(b.get(&s.app.url("/")).await.body, "Hi Ada Lovelace!");
    let counters = s.issuer.counters();
    // One token call at ignite (the credential check), one for the login.
    assert_eq!((counters.token, counters.userinfo), (2, 1));
    s.stop().await;
}

/// `rp-id_token-issuer-mismatch` (`oidcc-client-test-invalid-iss`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_id_token_issuer_mismatch() {
    single_case(&[Fault::WrongIssuer], ID_TOKEN_REJECTED).await;
}

/// `rp-id_token-aud` (`oidcc-client-test-invalid-aud`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_id_token_aud() {
    single_case(&[Fault::WrongAudience], ID_TOKEN_REJECTED).await;
}

/// `oidcc-client-test-missing-aud`: no `aud` at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_id_token_aud_missing() {
    single_case(&[Fault::RemoveClaim("aud".into())], ID_TOKEN_REJECTED).await;
}

/// `rp-id_token-sub` (`oidcc-client-test-missing-sub`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_id_token_sub() {
    single_case(&[Fault::MissingSub], ID_TOKEN_REJECTED).await;
}

/// `rp-id_token-iat` (`oidcc-client-test-missing-iat`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_id_token_iat() {
    single_case(&[Fault::MissingIat], ID_TOKEN_REJECTED).await;
}

/// `rp-nonce-invalid` (`oidcc-client-test-nonce-invalid`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_nonce_invalid() {
    single_case(&[Fault::WrongNonce], ID_TOKEN_REJECTED).await;
}

/// `rp-id_token-bad-sig-rs256` (`oidcc-client-test-invalid-sig-rs256`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_id_token_bad_sig_rs256() {
    single_case(&[Fault::BadSignature], ID_TOKEN_REJECTED).await;
}

/// `rp-id_token-sig-rs256` (`oidcc-client-test-idtoken-sig-rs256`): the signature is checked
/// with the discovered key and a good one is accepted (no refetch needed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_id_token_sig_rs256() {
    let s = setup().await;
    login_case(&s, &[], Expect::SignedIn).await;
    assert_eq!(s.issuer.counters().jwks, 1, "the key fetched at ignite");
    s.stop().await;
}

/// `rp-id_token-kid-absent-single-jwks`: no `kid`, one key in the JWKS: accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_id_token_kid_absent_single_jwks() {
    single_case(&[Fault::NoKid], Expect::SignedIn).await;
}

/// `rp-id_token-kid-absent-multiple-jwks`: no `kid`, several keys in the JWKS. The suite
/// accepts either outcome; we reject (openidconnect reports an ambiguous key: OIDC Core §10.1
/// requires a `kid` when the JWKS holds several keys) and do not refetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_id_token_kid_absent_multiple_jwks() {
    // The extra key must be in the JWKS the app fetches at ignite.
    let s = setup_faulted(&[Fault::ExtraJwksKey], |f| f).await;
    login_case(&s, &[Fault::ExtraJwksKey, Fault::NoKid], ID_TOKEN_REJECTED).await;
    assert_eq!(
        s.issuer.counters().jwks,
        1,
        "an ambiguous key is no reason to refetch"
    );
    // With a kid, the same JWKS works.
    login_case(&s, &[Fault::ExtraJwksKey], Expect::SignedIn).await;
    s.stop().await;
}

/// `rp-id_token-sig-none` (`oidcc-client-test-idtoken-sig-none`): the suite lets a code-flow RP
/// accept an unsigned ID token from the token endpoint or stop; we always refuse `alg: none`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_id_token_sig_none() {
    single_case(&[Fault::AlgNone], ID_TOKEN_REJECTED).await;
}

/// `rp-userinfo-bad-sub-claim` (`oidcc-client-test-userinfo-invalid-sub`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_userinfo_bad_sub_claim() {
    let s = setup().await;
    let last = login_case(
        &s,
        &[Fault::UserinfoSubMismatch],
        Expect::Rejected(502, "userinfo"),
    )
    .await;
    assert!(
        !last.body.contains("someone-else"),
        "no detail leaks to the page"
    );
    assert_eq!(s.issuer.counters().userinfo, 1);
    s.stop().await;
}

/// `rp-token_endpoint-client_secret_basic` (`oidcc-client-test-client-secret-basic`): the
/// default method is `client_secret_basic`, proved against a token endpoint that refuses the
/// secret in the body; an app configured for `client_secret_post` fails launch there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_token_endpoint_client_secret_basic() {
    let s = setup_faulted(&[Fault::ClientSecretBasicOnly], |f| f).await;
    login_case(&s, &[Fault::ClientSecretBasicOnly], Expect::SignedIn).await;
    assert_launch_fails(
        &s.issuer,
        |f| f.merge(("oidc.client_auth_method", "client_secret_post")),
        &[
            "rejected client_id",
            "must authenticate with client_secret_basic",
        ],
    )
    .await;
    s.stop().await;
}

/// `rp-userinfo-bearer-header`: userinfo is fetched with `Authorization: Bearer` (the
/// development issuer accepts nothing else) and its claims reach the app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_userinfo_bearer_header() {
    let s = setup().await;
    let b = Browser::new();
    login(&b, &s.app, "/protected").await;
    assert_eq!(s.issuer.counters().userinfo, 1);
    let me = b.api_client().get(&s.app.url("/api/me")).await.json();
    assert_eq!(me["sub"], ADA);
    assert_eq!(me["name"], "Ada Lovelace");
    s.stop().await;
}

/// `rp-discovery-openid-configuration`: the endpoints come from discovery, fetched once at
/// ignite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_discovery_openid_configuration() {
    let s = setup().await;
    assert_eq!(s.issuer.counters().discovery, 1);
    let b = Browser::new();
    let authorize = b.get(&s.app.url("/login")).await.location().unwrap();
    assert!(
        authorize.starts_with(&format!("{}/authorize?", s.issuer.issuer_url())),
        "{authorize}"
    );
    login_case(&s, &[], Expect::SignedIn).await;
    assert_eq!(
        s.issuer.counters().discovery,
        1,
        "discovery is not repeated per login"
    );
    s.stop().await;
}

/// `rp-discovery-jwks_uri-keys`: the keys come from the discovered `jwks_uri`, fetched once
/// at ignite and cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_discovery_jwks_uri_keys() {
    let s = setup().await;
    assert_eq!(s.issuer.counters().jwks, 1);
    login_case(&s, &[], Expect::SignedIn).await;
    login_case(&s, &[], Expect::SignedIn).await;
    assert_eq!(s.issuer.counters().jwks, 1, "cached");
    s.stop().await;
}

/// `rp-discovery-issuer-not-matching-config` (`oidcc-client-test-discovery-issuer-mismatch`):
/// launch fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_discovery_issuer_not_matching_config() {
    let (issuer, _) =
        faulted_launch_fails(Fault::DiscoveryWrongIssuer, |f| f, &["names issuer"]).await;
    assert_logged(&[&format!("{}/other", issuer.issuer_url()), "names issuer"]);
    assert_eq!(issuer.counters().jwks, 0, "nothing else is fetched");
    issuer.stop().await;
}

/// `rp-key-rotation-op-sign-key-native` (`oidcc-client-test-signing-key-rotation-just-before-
/// signing`): the key is rotated after ignite, before the app's first login: one refetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_key_rotation_op_sign_key_native() {
    let s = setup().await;
    login_case(&s, &[Fault::RotatedKey], Expect::SignedIn).await;
    assert_eq!(s.issuer.counters().jwks, 2, "one refetch");
    s.stop().await;
}

/// `rp-key-rotation-op-sign-key` (`oidcc-client-test-signing-key-rotation`): a login, then
/// the key rotates, then another login: one refetch, and none after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_key_rotation_op_sign_key() {
    let s = setup().await;
    login_case(&s, &[], Expect::SignedIn).await;
    login_case(&s, &[Fault::RotatedKey], Expect::SignedIn).await;
    login_case(&s, &[Fault::RotatedKey], Expect::SignedIn).await;
    assert_eq!(s.issuer.counters().jwks, 2, "exactly one refetch");
    s.stop().await;
}

// ---------------------------------------------------------------------------------------------
// RFC 9700, RFC 9207, RFC 8725 and OpenID Connect Core

/// RFC 9700 §2.1.1: PKCE with S256 on every login, a fresh verifier each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9700_pkce_s256_always() {
    let s = setup().await;
    let b = Browser::new();
    let mut challenges = Vec::new();
    for _ in 0..3 {
        let q = query_of(&b.get(&s.app.url("/login")).await.location().unwrap());
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"].len(), 43, "base64url of SHA-256");
        challenges.push(q["code_challenge"].clone());
    }
    challenges.dedup();
    assert_eq!(challenges.len(), 3, "a fresh verifier per login");
    // The issuer requires PKCE and checks the verifier: a login only succeeds with it.
    login_case(&s, &[], Expect::SignedIn).await;
    s.stop().await;
}

/// RFC 9700 §2.1, §4.7: the callback is bound to the browser that started the login; another
/// browser (no transaction cookie) is refused before any code exchange.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9700_state_bound_to_browser() {
    let s = setup().await;
    let callback = callback_url(&Browser::new(), &s.app).await;
    // Refused as `unknown_state`: no session, no code exchange.
    callback_refused(&s, &Browser::new(), &callback, 400, "unknown_state").await;
    s.stop().await;
}

/// RFC 9700 §4.7 (login CSRF): the attacker's own callback delivered to a victim who has a
/// pending login of her own does not log her in as the attacker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9700_login_csrf() {
    let s = setup().await;
    s.issuer.set_auto_login(Some("alan"));
    let attacker = callback_url(&Browser::new(), &s.app).await;
    s.issuer.set_auto_login(Some("ada"));
    let victim = Browser::new();
    let _own = callback_url(&victim, &s.app).await;
    assert_eq!(tx_cookies(&victim, &s.app).len(), 1);
    // Refused as `unknown_state`: no session, no code exchange, her own login still pending.
    callback_refused(&s, &victim, &attacker, 400, "unknown_state").await;
    assert_eq!(victim.get(&s.app.url("/")).await.body, "Hello, visitor");
    s.stop().await;
}

/// RFC 9700 §4.5 (code replay): a callback replayed with the transaction cookie put back is
/// refused (the code is spent); replayed as is, the transaction is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9700_callback_replay() {
    let s = setup().await;
    let b = Browser::new();
    let callback = callback_url(&b, &s.app).await;
    let cookies = b.cookies(&s.app.base);
    assert_eq!(b.get(&callback).await.status, 303);

    let replayer = Browser::new();
    for (k, v) in &cookies {
        replayer.set_cookie(&s.app.base, k, v);
    }
    // The issuer says invalid_grant: a 502 and no session.
    callback_refused(&s, &replayer, &callback, 502, "token_endpoint").await;

    // The session this callback made stays as it is.
    callback_refused(&s, &b, &callback, 400, "unknown_state").await;
    s.stop().await;
}

/// RFC 9207 §2.4: a wrong `iss` in the authorization response is refused before the code is
/// exchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9207_iss_wrong() {
    iss_refused_before_exchange(Fault::AuthResponseWrongIssuer).await;
}

/// RFC 9207 §2.4: a missing `iss` although the provider advertises
/// `authorization_response_iss_parameter_supported` is refused before the code is exchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9207_iss_missing() {
    iss_refused_before_exchange(Fault::AuthResponseMissingIssuer).await;
}

/// RFC 9207 §2.4, also for error responses (issue 12 item 2): an `error=access_denied` response
/// with a wrong `iss`, or none although discovery advertises it, is an issuer mismatch; the
/// provider's text is not shown. The genuine issuer's error response shows its (escaped) text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9207_iss_checked_on_error_responses() {
    let s = setup().await;
    for fault in [
        Fault::AuthResponseWrongIssuer,
        Fault::AuthResponseMissingIssuer,
    ] {
        let page = login_case(
            &s,
            &[Fault::AuthResponseErrorHtml, fault.clone()],
            Expect::Rejected(401, "issuer_mismatch"),
        )
        .await;
        assert!(
            !page.body.contains("The provider said") && !page.body.contains("alert"),
            "{fault:?}: the provider's text is shown: {}",
            page.body
        );
    }
    let page = login_case(
        &s,
        &[Fault::AuthResponseErrorHtml],
        Expect::Rejected(401, "provider_error"),
    )
    .await;
    assert!(page
        .body
        .contains("The provider said: <code>access_denied</code>"));
    s.stop().await;
}

/// RFC 9700 §4.4 (mix-up), a code of A delivered to B's callback: the answer to a login sent to
/// provider A (its code, `state` and `iss`) arrives at provider B's callback path. Refused as
/// `provider_mismatch` (the pending login is A's, the path is B's) before any token call: B
/// would otherwise receive A's code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9700_mix_up_code_of_a_at_the_callback_of_b() {
    let s = setup_providers(&["a", "b"], |f| f).await;
    let b = Browser::new();
    let at_a = provider_callback_url(&b, &s.app, "a").await;
    let at_b = at_a.replace(
        "/authorization-code/callback/a?",
        "/authorization-code/callback/b?",
    );
    assert_ne!(at_a, at_b);
    callback_refused(&s, &b, &at_b, 401, "provider_mismatch").await;
    for name in ["a", "b"] {
        assert_eq!(
            s.issuer(name).counters().token,
            1,
            "{name}: only the credential check at ignite"
        );
    }
    s.stop().await;
}

/// RFC 9700 §4.4.2 with RFC 9207, a swapped `iss`: the answer at B's callback, for B's pending
/// login, names A as its issuer (the classic mix-up: the login went to B, the answer came from
/// A). Refused as `issuer_mismatch` before any token call: A's code is never sent to B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9700_mix_up_swapped_iss() {
    let s = setup_providers(&["a", "b"], |f| f).await;
    let b = Browser::new();
    let at_b = provider_callback_url(&b, &s.app, "b").await;
    let swapped = with_param(&at_b, "iss", s.issuer("a").issuer_url());
    callback_refused(&s, &b, &swapped, 401, "issuer_mismatch").await;
    assert_eq!(s.issuer("a").counters().token, 1);
    assert_eq!(s.issuer("b").counters().token, 1);
    // The genuine answer comes too late: the pending login is spent.
    callback_refused(&s, &b, &at_b, 400, "unknown_state").await;
    s.stop().await;
}

/// RFC 9700 §4.4.2, a transaction of A completed at B's path: B's genuine answer (its code and
/// `iss`) carrying the `state` of the browser's pending login at A. Refused as
/// `provider_mismatch` before any token call; the browser's pending login at B is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9700_mix_up_transaction_of_a_at_the_path_of_b() {
    let s = setup_providers(&["a", "b"], |f| f).await;
    let b = Browser::new();
    let at_a = provider_callback_url(&b, &s.app, "a").await;
    let at_b = provider_callback_url(&b, &s.app, "b").await;
    let state_of_a = query_of(&at_a)["state"].clone();
    let spliced = with_param(&at_b, "state", &state_of_a);
    callback_refused(&s, &b, &spliced, 401, "provider_mismatch").await;
    assert_eq!(s.issuer("a").counters().token, 1);
    assert_eq!(s.issuer("b").counters().token, 1);
    // B's own login completes.
    let done = b.get(&at_b).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(s.issuer("b").counters().token, 2);
    s.stop().await;
}

/// A login whose authorization response carries `fault` ends in 401 `issuer_mismatch`, and the
/// code is never exchanged (the only token call is the credential check at ignite).
async fn iss_refused_before_exchange(fault: Fault) {
    let s = setup().await;
    login_case(&s, &[fault], Expect::Rejected(401, "issuer_mismatch")).await;
    assert_eq!(
        s.issuer.counters().token,
        1,
        "only the credential check at ignite"
    );
    s.stop().await;
}

/// OIDC Core §3.1.3.7 steps 3–5: an untrusted extra audience, several audiences without `azp`,
/// and an `azp` that is not this client are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_core_azp_several_audiences() {
    let s = setup().await;
    let azp_ok = Fault::Claim("azp".into(), json!(DEFAULT_CLIENT_ID));
    for faults in [
        vec![Fault::ExtraAudience],
        vec![Fault::ExtraAudience, azp_ok],
        vec![Fault::WrongAzp],
    ] {
        login_case(&s, &faults, ID_TOKEN_REJECTED).await;
    }
    s.stop().await;
}

/// OIDC Core §3.1.3.7 steps 3–5: several audiences, all trusted (`oidc.trusted_audiences`),
/// with `azp` = this client: accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_core_azp_trusted_audience() {
    let s = setup_with(|f| f.merge(("oidc.trusted_audiences", ["another-audience"]))).await;
    let azp_ok = Fault::Claim("azp".into(), json!(DEFAULT_CLIENT_ID));
    login_case(&s, &[Fault::ExtraAudience, azp_ok], Expect::SignedIn).await;
    login_case(&s, &[Fault::ExtraAudience], ID_TOKEN_REJECTED).await;
    s.stop().await;
}

/// OIDC Core §3.1.3.7 step 9: `exp` within the clock skew (60 s) is accepted, beyond it
/// refused; so are an hour-old token and a token without `exp`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_core_exp_skew() {
    let s = setup().await;
    let exp = |offset: i64| Fault::Claim("exp".into(), json!(now() + offset));
    login_case(&s, &[exp(-20)], Expect::SignedIn).await;
    login_case(&s, &[exp(-120)], ID_TOKEN_REJECTED).await;
    login_case(&s, &[Fault::Expired], ID_TOKEN_REJECTED).await;
    login_case(&s, &[Fault::MissingExp], ID_TOKEN_REJECTED).await;
    s.stop().await;
}

/// OIDC Core §3.1.3.7 step 10: `iat` up to the clock skew in the future is accepted, beyond
/// it refused; an `iat` from before the login started is refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_core_iat_skew() {
    let s = setup().await;
    let iat = |offset: i64| Fault::Claim("iat".into(), json!(now() + offset));
    login_case(&s, &[iat(20)], Expect::SignedIn).await;
    login_case(&s, &[iat(180)], ID_TOKEN_REJECTED).await;
    login_case(&s, &[Fault::IatInFuture], ID_TOKEN_REJECTED).await;
    // Older than the login itself can be (login_timeout_secs, 600 s, plus the skew): refused.
    login_case(&s, &[iat(-300)], Expect::SignedIn).await;
    login_case(&s, &[iat(-3600)], ID_TOKEN_REJECTED).await;
    s.stop().await;
}

/// OIDC Core §3.1.3.7 step 11: no `nonce` although the request had one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_core_nonce_missing() {
    single_case(&[Fault::MissingNonce], ID_TOKEN_REJECTED).await;
}

/// OIDC Core §3.1.3.8: an `at_hash` that does not match the access token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_core_at_hash() {
    single_case(&[Fault::WrongAtHash], ID_TOKEN_REJECTED).await;
}

/// RFC 8725 §2.1, §3.1 (algorithm confusion): HS256 keyed with the RSA public key is refused,
/// by default and even with HS256 allowed (HS256 is then keyed with the client secret only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc8725_hs256_with_rsa_public_key() {
    single_case(&[Fault::Hs256WithPublicKey], ID_TOKEN_REJECTED).await;
    let s = setup_with(|f| f.merge(("oidc.id_token_signing_algs", ["RS256", "HS256"]))).await;
    login_case(&s, &[Fault::Hs256WithPublicKey], ID_TOKEN_REJECTED).await;
    s.stop().await;
}

/// OIDC Core §10.1: HS256 keyed with the client secret is refused unless configured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_core_hs256_client_secret_not_configured() {
    single_case(&[Fault::Hs256WithClientSecret], ID_TOKEN_REJECTED).await;
}

/// OIDC Core §10.1: HS256 keyed with the client secret is accepted when configured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_core_hs256_client_secret_configured() {
    let s = setup_with(|f| f.merge(("oidc.id_token_signing_algs", ["RS256", "HS256"]))).await;
    login_case(&s, &[Fault::Hs256WithClientSecret], Expect::SignedIn).await;
    s.stop().await;
}

/// OIDC Core §10.1.1 (key rotation): an unknown `kid` triggers a JWKS refetch at most once per
/// 30 s, so a flood of tokens with unknown keys costs the provider one fetch, not one per token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_core_jwks_refetch_rate_limited() {
    let s = setup().await;
    for _ in 0..10 {
        login_case(&s, &[Fault::UnknownKid], ID_TOKEN_REJECTED).await;
    }
    assert_eq!(
        s.issuer.counters().jwks,
        2,
        "ignite + one refetch for 10 unknown kids"
    );
    assert_eq!(s.issuer.counters().userinfo, 0);
    // Within the interval, even a real rotation waits: known keys keep working meanwhile.
    login_case(&s, &[], Expect::SignedIn).await;
    s.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Advisories of peer libraries

/// Session fixation (express-openid-connect CVE-2021-41246 / GHSA-7rg2-qxmf-hhx9, passport
/// CVE-2022-25896): an attacker's valid session planted in the victim's browser is replaced at
/// login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adv_session_fixation() {
    let s = setup().await;
    s.issuer.set_auto_login(Some("alan"));
    let attacker = Browser::new();
    login(&attacker, &s.app, "/protected").await;
    s.issuer.set_auto_login(Some("ada"));
    let victim = Browser::new();
    for (k, v) in attacker.cookies(&s.app.base) {
        victim.set_cookie(&s.app.base, &k, &v);
    }
    assert_eq!(victim.get(&s.app.url("/")).await.body, "Hi Alan Turing!");
    assert_eq!(
        login(&victim, &s.app, "/protected")
            .await
            .pop()
            .unwrap()
            .body,
        format!("Only for {ADA}")
    );
    assert_ne!(
        victim.cookies(&s.app.base)["oidc_session"],
        attacker.cookies(&s.app.base)["oidc_session"]
    );
    assert_eq!(victim.get(&s.app.url("/")).await.body, "Hi Ada Lovelace!");
    s.stop().await;
}

/// Open redirect through `return_to` (nextjs-auth0 v4.0.1, "sanitize the returnTo parameter",
/// auth0/nextjs-auth0#1897): every trick ends on a same-origin path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adv_open_redirect_return_to() {
    let s = setup().await;
    for trick in [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "/%252F%252Fevil.example",
        "/%09/evil.example",
        "javascript:alert(1)",
        "/\u{ff0f}evil.example",
        "https:evil.example",
    ] {
        assert_eq!(landing_of(&s.app, trick).await, "/", "{trick:?}");
    }
    s.stop().await;
}

/// Open redirect through a catch-all guarded route (express-openid-connect
/// GHSA-7p99-3798-f85c): the path that becomes `return_to` can start with `//` or `/\`; the
/// redirect to login and the final landing stay same-origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adv_open_redirect_catch_all() {
    let s = setup().await;
    for path in [
        "//evil.example/x",
        "/%5Cevil.example",
        "/%2F%2Fevil.example",
    ] {
        let b = Browser::new();
        let first = b.get(&s.app.url(path)).await;
        let location = first.location().unwrap_or_default();
        assert!(
            location.starts_with("/login?return_to="),
            "{path}: {location}"
        );
        let chain = b.follow(first).await;
        let landing = callback_of(&chain).location().unwrap();
        assert!(
            landing.starts_with('/') && !landing.starts_with("//") && !landing.contains('\\'),
            "{path}: {landing}"
        );
        let joined = url::Url::parse(&s.app.base)
            .unwrap()
            .join(&landing)
            .unwrap();
        assert_eq!(joined.host_str(), Some("127.0.0.1"), "{path}: {landing}");
    }
    s.stop().await;
}

/// HTML in `error_description` is escaped (reflected XSS on the callback's error page:
/// nextjs-auth0 CVE-2021-32702 / GHSA-954c-jjx6-cxv7).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adv_error_description_html_escaped() {
    let s = setup().await;
    let last = login_case(
        &s,
        &[Fault::AuthResponseErrorHtml],
        Expect::Rejected(401, "provider_error"),
    )
    .await;
    assert!(!last.body.contains("<script>"), "{}", last.body);
    assert!(
        last.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        last.body
    );
    assert!(last
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'none'"));
    s.stop().await;
}

/// A malformed `return_to` never crashes `/login`: it falls back to `/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adv_malformed_return_to() {
    let s = setup().await;
    let long = format!("/{}", "a".repeat(20_000));
    let cases = [
        ("%", "/"),
        ("%zz", "/"),
        ("/%E2%82", "/"),
        ("/%FF%FE", "/"),
        ("/%00", "/"),
        ("/%0a", "/"),
        (&long, "/"),
        ("/%C0%AF", "/"),
        ("/%25C0%25AF", "/"),
        // A malformed query on a local path is still a local path: kept, and harmless.
        ("/a?b=%25ZZ", "/a?b=%ZZ"),
    ];
    for (raw, landing) in cases {
        let b = Browser::new();
        let r = b
            .get(&format!("{}?return_to={raw}", s.app.url("/login")))
            .await;
        assert_eq!(r.status, 303, "{raw:?}: {}", r.body);
        let chain = b.follow(r).await;
        assert_eq!(
            callback_of(&chain).location().as_deref(),
            Some(landing),
            "{raw:?}"
        );
        let last = chain.last().unwrap();
        assert_eq!(last.status, 200, "{raw:?}: {}", last.body);
    }
    s.stop().await;
}

/// A crafted Cookie header (hundreds of cookies, 8 KB of garbage, malformed syntax, fake
/// chunks) never crashes a guard: visitors stay visitors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adv_crafted_cookie_header() {
    let s = setup().await;
    let many: String = (0..500).map(|i| format!("c{i}=v{i}; ")).collect();
    let many_sessions: String = (0..=20)
        .map(|i| format!("oidc_session.{i}=x{i}; "))
        .collect();
    let garbage: String = (0..8192)
        .map(|i| (b'!' + (i % 90) as u8) as char)
        .filter(|c| *c != ';')
        .collect();
    let headers: Vec<Vec<u8>> = vec![
        many.into_bytes(),
        many_sessions.into_bytes(),
        format!("oidc_session={garbage}").into_bytes(),
        garbage.clone().into_bytes(),
        b";;;==;=;oidc_session;=;;".to_vec(),
        b"oidc_session=\"unterminated; oidc_session.1=\"".to_vec(),
        b"oidc_session=a=b=c; oidc_session=dup; oidc_session.1=".to_vec(),
        b"oidc_session=\xff\xfe\x80; oidc_tx_abc=\xc0\xaf".to_vec(),
        b"oidc_session=AAAA%%%%; oidc_session.1=%zz".to_vec(),
        format!("oidc_session={}", "A".repeat(8000)).into_bytes(),
    ];
    for cookie in headers {
        for (path, accept, want) in [
            ("/", "text/html", 200),
            ("/protected", "text/html", 303),
            ("/api/me", "application/json", 401),
        ] {
            let accept = format!("\r\nAccept: {accept}\r\n");
            let h = [b"Cookie: ".as_slice(), &cookie, accept.as_bytes()].concat();
            let status = raw_get(&s.app, path.as_bytes(), &h).await;
            assert_eq!(
                status,
                Some(want),
                "{path} with Cookie: {:?}",
                String::from_utf8_lossy(&cookie[..cookie.len().min(80)])
            );
        }
    }
    assert_app_healthy(&s).await;
    s.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Bad input

/// A 100 KB callback query: refused with a 4xx (by Rocket's HTTP layer or our 16 KB cap),
/// no exchange.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_query_100kb() {
    let s = setup().await;
    let b = Browser::new();
    let callback = callback_url(&b, &s.app).await;
    let tokens = s.issuer.counters().token;
    let huge = format!("{callback}&pad={}", "x".repeat(100 * 1024));
    let target = huge.trim_start_matches(&s.app.base).as_bytes().to_vec();
    let status = raw_get(&s.app, &target, b"").await;
    assert_eq!(status, Some(414), "URI Too Long, from Rocket's HTTP layer");
    // Our cap: a bad request, no session.
    let medium = format!("{callback}&pad={}", "x".repeat(20 * 1024));
    callback_refused(&s, &b, &medium, 400, "bad_request").await;
    assert_eq!(s.issuer.counters().token, tokens, "no exchange");
    // So does the login page, and a 60 KB one (under the URI limit) falls back to `/`.
    let target = format!("/login?return_to=/{}", "y".repeat(100 * 1024));
    let status = raw_get(&s.app, target.as_bytes(), b"").await;
    assert_eq!(status, Some(414));
    let r = b
        .get(&format!(
            "{}?return_to=/{}",
            s.app.url("/login"),
            "y".repeat(60 * 1024)
        ))
        .await;
    assert_eq!(r.status, 303);
    assert_app_healthy(&s).await;
    s.stop().await;
}

/// Invalid UTF-8 in callback parameters, percent-encoded or raw on the wire: 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_callback_invalid_utf8() {
    let s = setup().await;
    let b = Browser::new();
    let callback = callback_url(&b, &s.app).await;
    let state = query_of(&callback)["state"].clone();
    let queries = [
        format!("code=%FF%FE&state={state}"),
        format!("code=abc&state=%C0%AF{state}"),
        format!("code=abc&state={state}&iss=%ED%A0%80"),
        format!("code=abc&state={state}&error=%FF"),
    ];
    bad_request_queries(&s, &b, &queries).await;
    let target = [
        b"/authorization-code/callback?code=\xff\xfe&state=".as_slice(),
        state.as_bytes(),
    ]
    .concat();
    let status = raw_get(&s.app, &target, b"").await;
    assert!(matches!(status, Some(400..=499)), "raw bytes: {status:?}");
    assert_eq!(s.issuer.counters().token, 1, "no exchange");
    s.stop().await;
}

/// Bad percent-encoding in callback parameters: 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_callback_bad_percent_encoding() {
    let s = setup().await;
    let b = Browser::new();
    let callback = callback_url(&b, &s.app).await;
    let state = query_of(&callback)["state"].clone();
    let queries = [
        format!("code=%zz&state={state}"),
        format!("code=abc%&state={state}"),
        format!("code=abc%4&state={state}"),
        format!("code=abc&state={state}%"),
        format!("co%de=abc&state={state}"),
    ];
    bad_request_queries(&s, &b, &queries).await;
    // The genuine callback still works: garbage does not consume the pending login.
    assert_eq!(b.get(&callback).await.status, 303);
    s.stop().await;
}

/// Duplicated `code`, `state` or `iss`: 400, no exchange (RFC 6749 §3.1: parameters MUST NOT
/// be included more than once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_duplicate_params() {
    let s = setup().await;
    let b = Browser::new();
    let callback = callback_url(&b, &s.app).await;
    let (_, genuine) = callback.split_once('?').unwrap();
    let q = query_of(&callback);
    let queries = [
        format!("code={}", q["code"]),
        "code=other".to_string(),
        format!("state={}", q["state"]),
        "iss=http%3A%2F%2Fevil.example".to_string(),
        format!("iss={}", q["iss"]),
    ]
    .map(|extra| format!("{genuine}&{extra}"));
    bad_request_queries(&s, &b, &queries).await;
    assert_eq!(b.get(&callback).await.status, 303);
    s.stop().await;
}

/// A token response with wrong JSON types (`access_token` a number, `expires_in` "3600abc").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_token_response_wrong_types() {
    let s = setup().await;
    login_case(
        &s,
        &[Fault::TokenWrongTypes],
        Expect::Rejected(502, "token_endpoint"),
    )
    .await;
    assert_eq!(s.issuer.counters().userinfo, 0);
    s.stop().await;
}

/// `exp` as a huge, negative, float or string value: a clear outcome, never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exp_types() {
    let cases = [
        (json!(u64::MAX), ID_TOKEN_REJECTED),
        (json!(1e300), ID_TOKEN_REJECTED),
        (json!(i64::MAX), ID_TOKEN_REJECTED),
        (json!(-1), ID_TOKEN_REJECTED),
        (json!(i64::MIN), ID_TOKEN_REJECTED),
        (json!(now() as f64 + 3600.5), Expect::SignedIn),
        (json!((now() + 3600).to_string()), ID_TOKEN_REJECTED),
        (json!(null), ID_TOKEN_REJECTED),
    ];
    claim_cases("exp", &cases).await;
}

/// `iat` as a huge, negative, float or string value: a clear outcome, never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_iat_types() {
    let cases = [
        (json!(u64::MAX), ID_TOKEN_REJECTED),
        (json!(1e300), ID_TOKEN_REJECTED),
        (json!(i64::MAX), ID_TOKEN_REJECTED),
        (json!(-1), ID_TOKEN_REJECTED),
        (json!(now() as f64 - 0.5), Expect::SignedIn),
        (json!(now().to_string()), ID_TOKEN_REJECTED),
        (json!(null), ID_TOKEN_REJECTED),
    ];
    claim_cases("iat", &cases).await;
}

/// A 50 MB discovery document: launch fails at the 1 MiB cap, quickly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_discovery_50mb() {
    let (issuer, took) = faulted_launch_fails(
        Fault::HugeDiscovery { mb: 50 },
        |f| f,
        &["could not discover", "exceeds 1048576 bytes"],
    )
    .await;
    assert!(took < Duration::from_secs(5), "took {took:?}");
    issuer.stop().await;
}

/// Discovery that does not answer within `oidc.http_timeout_secs`: launch fails on time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_discovery_slow() {
    let (issuer, took) = faulted_launch_fails(
        Fault::Delay(Duration::from_secs(5)),
        |f| f.merge(("oidc.http_timeout_secs", 1)),
        &["no complete answer within 1 s"],
    )
    .await;
    assert!(took < Duration::from_secs(4), "took {took:?}");
    issuer.stop().await;
}

/// A 50 MB JWKS at ignite: launch fails at the cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_jwks_50mb_at_ignite() {
    let (issuer, _) = faulted_launch_fails(
        Fault::HugeJwks { mb: 50 },
        |f| f,
        &["signing keys", "exceeds 1048576 bytes"],
    )
    .await;
    issuer.stop().await;
}

/// A 50 MB JWKS at a refetch (rotated key): the login is refused, the old keys stay, the app
/// keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_jwks_50mb_at_refetch() {
    let s = setup().await;
    login_case(
        &s,
        &[Fault::RotatedKey, Fault::HugeJwks { mb: 50 }],
        ID_TOKEN_REJECTED,
    )
    .await;
    assert_eq!(s.issuer.counters().jwks, 2);
    login_case(&s, &[], Expect::SignedIn).await;
    s.stop().await;
}

/// A JWKS refetch that does not answer within `oidc.http_timeout_secs`: the login is refused
/// on time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_jwks_slow() {
    let s = setup_with(|f| f.merge(("oidc.http_timeout_secs", 1))).await;
    let started = Instant::now();
    login_case(
        &s,
        &[Fault::RotatedKey, Fault::DelayJwks(Duration::from_secs(5))],
        ID_TOKEN_REJECTED,
    )
    .await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert_eq!(s.issuer.counters().jwks, 2);
    s.stop().await;
}
