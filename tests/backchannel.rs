//! Signing out that a copy of the cookie does not survive, over real HTTP: OpenID Connect
//! Back-Channel Logout 1.0 against the development issuer, which POSTs real logout tokens to a
//! running app (`DevIssuer::logout_everywhere`), one named test per rule of §2.4/§2.6 (the
//! issuer's `Fault::Logout*`), replay, markers honoured by the guards (browser → login, API →
//! 401) and a login after them; and `POST /logout` making a copied cookie worthless, on one
//! instance and on two sharing a store. The same rules as a pure function, boundary by
//! boundary, are in `logout_token.rs`.

mod common;

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::figment::Figment;
use rocket::serde::json::serde_json::{self, Value};
use rocket::{Build, Rocket};
use rocket_openid_connect::dev_issuer::{DevClient, Fault, DEFAULT_CLIENT_ID};
use rocket_openid_connect::{MemoryStore, OidcFairing, RevocationStore};

use common::*;

const ADA: &str = "ada-lovelace-1815";
const GRACE: &str = "grace-hopper-1906";
const PATH: &str = "/backchannel-logout";

/// Registers the app's back-channel logout URI with the issuer's default client, with or
/// without `backchannel_logout_session_required` (which puts `sid` in ID and logout tokens).
fn register(s: &Setup, path: &str, session_required: bool) {
    s.issuer.register_client(
        DevClient::default_client()
            .backchannel_logout_uri(s.app.url(path))
            .backchannel_logout_session_required(session_required),
    );
}

/// A dev issuer and a test app registered for back-channel logout.
async fn setup_backchannel(session_required: bool) -> Setup {
    let s = setup().await;
    register(&s, PATH, session_required);
    s
}

/// A fresh browser in which `user` signed in (auto-login), landing on `/protected`.
async fn signed_in(s: &Setup, user: &str, sub: &str) -> Browser {
    s.issuer.set_auto_login(Some(user));
    let b = Browser::new();
    let landed = login(&b, &s.app, "/protected").await.pop().unwrap();
    assert_eq!(landed.status, 200, "{}", landed.body);
    assert_eq!(landed.body, format!("Only for {sub}"));
    b
}

/// `b` is signed in as `sub`: for a page and for the API.
async fn assert_signed_in(b: &Browser, app: &App, sub: &str) {
    let page = b.get(&app.url("/protected")).await;
    assert_eq!(
        (page.status, page.body.as_str()),
        (200, &*format!("Only for {sub}"))
    );
    let api = b.api_client().get(&app.url("/api/me")).await;
    assert_eq!(api.status, 200, "{}", api.body);
    assert_eq!(api.json()["sub"], sub);
}

/// `b` is signed out: the API gets 401, a page a redirect to login, and the session cookie
/// is expired in the browser.
async fn assert_signed_out(b: &Browser, app: &App) {
    let api = b.api_client().get(&app.url("/api/me")).await;
    assert_eq!(api.status, 401, "{}", api.body);
    let page = b.get(&app.url("/protected")).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let location = page.location().unwrap();
    assert!(
        location.starts_with("/login?return_to="),
        "sent to login: {location}"
    );
    assert!(
        session_cookies(b, app).is_empty(),
        "the stale cookie is expired"
    );
}

/// POSTs `logout_token=<token>` to the app's endpoint at `path`, as a provider does (§2.5).
async fn post_token_to(app: &App, path: &str, token: &str) -> Resp {
    Browser::api()
        .post_form(&app.url(path), &[("logout_token", token)], &[])
        .await
}

async fn post_token(app: &App, token: &str) -> Resp {
    post_token_to(app, PATH, token).await
}

/// A 400 with the OAuth error JSON (§2.8) whose description mentions `needle`.
#[track_caller]
fn assert_refused(resp: &Resp, error: &str, needle: &str) {
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert_eq!(resp.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(
        resp.header("content-type").as_deref(),
        Some("application/json")
    );
    let body = resp.json();
    assert_eq!(body["error"], error, "{body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.to_lowercase().contains(&needle.to_lowercase()),
        "`{description}` does not mention `{needle}`"
    );
}

/// A 200 with `Cache-Control: no-store` (§2.8).
#[track_caller]
fn assert_accepted(status: Option<u16>, resp: Option<&Resp>) {
    assert_eq!(status, Some(200));
    if let Some(resp) = resp {
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.header("cache-control").as_deref(), Some("no-store"));
    }
}

/// The issuer ends ada's session with `fault` on: the app answers 400 naming the rule (to the
/// issuer's own POST, and to the same token posted again), and ada stays signed in.
async fn refused_by_rule(fault: Fault, needle: &str) -> Setup {
    let s = setup_backchannel(true).await;
    let b = signed_in(&s, "ada", ADA).await;
    s.issuer.set_fault(fault);
    let sent = s.issuer.logout_everywhere("ada").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].status, Some(400), "{sent:?}");
    let again = post_token(&s.app, &sent[0].logout_token).await;
    assert_refused(&again, "invalid_request", needle);
    assert_signed_in(&b, &s.app, ADA).await;
    s
}

/// The `sid` claim of the ID token in `b`'s session.
fn session_sid(b: &Browser, app: &App) -> Option<String> {
    let session = browser_session(b, app);
    let payload = session.id_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sid"].as_str().map(str::to_owned)
}

// --- the token rules, each with the issuer's fault (§2.4, §2.6) -----------------------------------

#[tokio::test]
async fn bcl_signature_bad() {
    refused_by_rule(Fault::LogoutBadSignature, "signature")
        .await
        .stop()
        .await;
}

#[tokio::test]
async fn bcl_signature_alg_none() {
    refused_by_rule(Fault::LogoutAlgNone, "`none` is not allowed")
        .await
        .stop()
        .await;
}

#[tokio::test]
async fn bcl_signature_unknown_kid_refetches_the_keys_once() {
    let s = refused_by_rule(Fault::LogoutUnknownKid, "kid").await;
    // One JWKS fetch at ignite, one refetch for the unknown kid; the second post is within the
    // rate limit and refetches nothing.
    assert_eq!(s.issuer.counters().jwks, 2);
    s.stop().await;
}

#[tokio::test]
async fn bcl_signature_rotated_key_is_refetched_and_accepted() {
    let s = setup_backchannel(true).await;
    let b = signed_in(&s, "ada", ADA).await;
    s.issuer.set_fault(Fault::RotatedKey);
    let sent = s.issuer.logout_everywhere("ada").await;
    assert_accepted(sent[0].status, None);
    assert_eq!(s.issuer.counters().jwks, 2, "one refetch for the new key");
    assert_signed_out(&b, &s.app).await;
    s.stop().await;
}

#[tokio::test]
async fn bcl_typ_wrong() {
    refused_by_rule(Fault::LogoutWrongTyp, "typ `jwt`")
        .await
        .stop()
        .await;
}

#[tokio::test]
async fn bcl_iss_wrong() {
    refused_by_rule(Fault::LogoutWrongIssuer, "iss")
        .await
        .stop()
        .await;
}

#[tokio::test]
async fn bcl_aud_wrong() {
    refused_by_rule(Fault::LogoutWrongAudience, "aud")
        .await
        .stop()
        .await;
}

#[tokio::test]
async fn bcl_iat_in_the_future() {
    refused_by_rule(Fault::LogoutIatInFuture, "in the future")
        .await
        .stop()
        .await;
}

#[tokio::test]
async fn bcl_expired_an_hour_ago() {
    // The fault's iat is an hour old too; the age rule speaks first (exp alone: bcl_exp_passed).
    refused_by_rule(Fault::LogoutExpired, "in the past")
        .await
        .stop()
        .await;
}

#[tokio::test]
async fn bcl_events_missing() {
    refused_by_rule(Fault::LogoutMissingEvents, "no events")
        .await
        .stop()
        .await;
}

#[tokio::test]
async fn bcl_events_value_not_an_object() {
    refused_by_rule(Fault::LogoutEventsNotObject, "not a JSON object")
        .await
        .stop()
        .await;
}

#[tokio::test]
async fn bcl_sid_and_sub_missing() {
    refused_by_rule(Fault::LogoutNoSidNoSub, "neither sub nor sid")
        .await
        .stop()
        .await;
}

#[tokio::test]
async fn bcl_nonce_present() {
    refused_by_rule(Fault::LogoutWithNonce, "nonce")
        .await
        .stop()
        .await;
}

#[tokio::test]
async fn bcl_jti_missing() {
    refused_by_rule(Fault::LogoutMissingJti, "no jti")
        .await
        .stop()
        .await;
}

#[tokio::test]
async fn bcl_exp_passed() {
    // exp alone decides here: iat is 200 s old, within the age a logout token may have.
    let s = setup_backchannel(true).await;
    let b = signed_in(&s, "ada", ADA).await;
    let sid = session_sid(&b, &s.app);
    let now = unix_now();
    let mut claims = s
        .issuer
        .logout_token_claims(DEFAULT_CLIENT_ID, Some(ADA), sid.as_deref());
    claims["iat"] = (now - 200).into();
    claims["exp"] = (now - 70).into();
    let expired = post_token(&s.app, &s.issuer.sign_logout_token(&claims)).await;
    assert_refused(&expired, "invalid_request", "expired");
    assert_signed_in(&b, &s.app, ADA).await;
    // 30 s past exp is within the 60 s skew: accepted. Its marker says "logged out at iat +
    // skew" at the latest, so this session, created after that, lives on: a token sent (or
    // replayed) late cannot sign out a later login.
    claims["exp"] = (now - 30).into();
    claims["jti"] = "another-jti".into();
    let late = post_token(&s.app, &s.issuer.sign_logout_token(&claims)).await;
    assert_accepted(Some(late.status), Some(&late));
    assert_signed_in(&b, &s.app, ADA).await;
    s.stop().await;
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn bcl_id_token_is_not_a_logout_token() {
    // Cross-JWT confusion (§4.1): the session's own ID token, validly signed by the same
    // provider for the same client, posted as a logout token.
    let s = setup_backchannel(true).await;
    let b = signed_in(&s, "ada", ADA).await;
    let id_token = browser_session(&b, &s.app).id_token;
    assert_refused(
        &post_token(&s.app, &id_token).await,
        "invalid_request",
        "typ",
    );
    assert_signed_in(&b, &s.app, ADA).await;
    s.stop().await;
}

// --- replay (§2.6 step 10) -------------------------------------------------------------------------

#[tokio::test]
async fn bcl_jti_replayed() {
    let s = setup_backchannel(true).await;
    let b = signed_in(&s, "ada", ADA).await;
    let sent = s.issuer.logout_everywhere("ada").await;
    assert_accepted(sent[0].status, None);
    let token = &sent[0].logout_token;
    assert_refused(
        &post_token(&s.app, token).await,
        "invalid_request",
        "received before",
    );
    // The same jti in a token signed afresh is a replay too.
    let mut claims = s
        .issuer
        .logout_token_claims(DEFAULT_CLIENT_ID, Some(ADA), None);
    let payload = token.split('.').nth(1).unwrap();
    let first: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["jti"] = first["jti"].clone();
    assert_refused(
        &post_token(&s.app, &s.issuer.sign_logout_token(&claims)).await,
        "invalid_request",
        "received before",
    );
    assert_signed_out(&b, &s.app).await;
    assert!(
        all_log_lines().iter().all(|l| !l.contains(token.as_str())),
        "a logout token reached the log"
    );
    s.stop().await;
}

// --- what a valid logout token does (§2.7) -----------------------------------------------------------

#[tokio::test]
async fn bcl_marker_honoured_then_a_new_login_works() {
    let s = setup_backchannel(true).await;
    let b = signed_in(&s, "ada", ADA).await;
    let sent = s.issuer.logout_everywhere("ada").await;
    assert_eq!(sent.len(), 1);
    assert_accepted(sent[0].status, None);
    assert!(
        sent[0].sid.is_some(),
        "session_required: the token names the sid"
    );
    assert_signed_out(&b, &s.app).await;
    // No cleanup needed: the next login (often within the marker's second) works.
    let again = login(&b, &s.app, "/protected").await.pop().unwrap();
    assert_eq!(
        (again.status, again.body.as_str()),
        (200, &*format!("Only for {ADA}"))
    );
    assert_signed_in(&b, &s.app, ADA).await;
    s.stop().await;
}

#[tokio::test]
async fn bcl_sid_signs_out_that_provider_session_only() {
    let s = setup_backchannel(true).await;
    let first = signed_in(&s, "ada", ADA).await;
    let second = signed_in(&s, "ada", ADA).await;
    let sid = session_sid(&first, &s.app).expect("session_required: the ID token has a sid");
    assert_ne!(session_sid(&second, &s.app).as_deref(), Some(sid.as_str()));
    let claims = s
        .issuer
        .logout_token_claims(DEFAULT_CLIENT_ID, Some(ADA), Some(&sid));
    let resp = post_token(&s.app, &s.issuer.sign_logout_token(&claims)).await;
    assert_accepted(Some(resp.status), Some(&resp));
    assert!(resp.body.is_empty());
    assert_signed_out(&first, &s.app).await;
    assert_signed_in(&second, &s.app, ADA).await;
    s.stop().await;
}

#[tokio::test]
async fn bcl_sub_signs_out_every_session_of_the_user() {
    // Without session_required the issuer sends sub only, and ID tokens carry no sid.
    let s = setup_backchannel(false).await;
    let first = signed_in(&s, "ada", ADA).await;
    let second = signed_in(&s, "ada", ADA).await;
    let grace = signed_in(&s, "grace", GRACE).await;
    assert_eq!(session_sid(&first, &s.app), None);
    let sent = s.issuer.logout_everywhere("ada").await;
    assert_eq!(sent.len(), 1, "one sub-only token for the client: {sent:?}");
    assert_eq!(sent[0].sid, None);
    assert_accepted(sent[0].status, None);
    assert_signed_out(&first, &s.app).await;
    assert_signed_out(&second, &s.app).await;
    assert_signed_in(&grace, &s.app, GRACE).await;
    s.stop().await;
}

#[tokio::test]
async fn bcl_sid_and_sub_sign_out_the_users_sessions_that_have_no_sid() {
    // The provider names a sid, but this app's ID tokens had none: the sid cannot be matched,
    // so every session of the user without a sid ends (fail safe).
    let s = setup_backchannel(false).await;
    let ada = signed_in(&s, "ada", ADA).await;
    let grace = signed_in(&s, "grace", GRACE).await;
    let claims =
        s.issuer
            .logout_token_claims(DEFAULT_CLIENT_ID, Some(ADA), Some("sid-the-app-never-saw"));
    let resp = post_token(&s.app, &s.issuer.sign_logout_token(&claims)).await;
    assert_accepted(Some(resp.status), Some(&resp));
    assert_signed_out(&ada, &s.app).await;
    assert_signed_in(&grace, &s.app, GRACE).await;
    s.stop().await;
}

#[tokio::test]
async fn bcl_end_session_at_the_provider_signs_the_app_out() {
    // RP-initiated logout at the provider from another app's point of view: end_session with an
    // ID token hint makes the issuer POST the logout token before it answers.
    let s = setup_backchannel(true).await;
    let b = signed_in(&s, "ada", ADA).await;
    let hint = browser_session(&b, &s.app).id_token;
    let end = Browser::new()
        .get(&format!(
            "{}/end_session?id_token_hint={hint}",
            s.issuer.issuer_url()
        ))
        .await;
    assert!(end.status < 400, "{}: {}", end.status, end.body);
    let logouts = s.issuer.counters().backchannel_logouts;
    assert_eq!(logouts.len(), 1, "{logouts:?}");
    assert_accepted(logouts[0].status, None);
    assert_signed_out(&b, &s.app).await;
    s.stop().await;
}

// --- the endpoint itself -----------------------------------------------------------------------------

#[tokio::test]
async fn bcl_bad_input_is_400_never_5xx() {
    let s = setup_backchannel(true).await;
    let url = s.app.url(PATH);
    let api = Browser::api();
    let raw = |content_type: &'static str, body: Vec<u8>| {
        api.client
            .post(&url)
            .header("content-type", content_type)
            .body(body)
    };
    let form = "application/x-www-form-urlencoded";
    let cases: Vec<(&str, reqwest::RequestBuilder, &str)> = vec![
        (
            "JSON body",
            raw("application/json", br#"{"logout_token":"x"}"#.to_vec()),
            "x-www-form-urlencoded",
        ),
        ("no body", raw(form, Vec::new()), "missing"),
        (
            "other parameters",
            raw(form, b"a=1&b=2".to_vec()),
            "missing",
        ),
        (
            "empty token",
            raw(form, b"logout_token=".to_vec()),
            "missing",
        ),
        (
            "twice",
            raw(form, b"logout_token=a&logout_token=b".to_vec()),
            "twice",
        ),
        (
            "bad percent-encoding",
            raw(form, b"logout_token=%zz".to_vec()),
            "percent",
        ),
        (
            "not UTF-8",
            raw(form, b"logout_token=\xff\xfe".to_vec()),
            "UTF-8",
        ),
        (
            "percent-encoded non-UTF-8",
            raw(form, b"logout_token=%ff%fe".to_vec()),
            "UTF-8",
        ),
        (
            "100 KB",
            raw(
                form,
                format!("logout_token={}", "a".repeat(100_000)).into_bytes(),
            ),
            "larger than",
        ),
        (
            "not a JWT",
            raw(form, b"logout_token=not.a.jwt".to_vec()),
            "invalid logout_token",
        ),
        (
            "a JWE",
            raw(form, b"logout_token=a.b.c.d.e".to_vec()),
            "encrypted",
        ),
    ];
    for (name, request, needle) in cases {
        let resp = api.request(request, &url).await;
        assert!(resp.status < 500, "{name}: {}", resp.status);
        assert_refused(&resp, "invalid_request", needle);
    }
    s.stop().await;
}

#[tokio::test]
async fn bcl_endpoint_path_is_configurable_and_it_can_be_switched_off() {
    let s = setup_with(|f: Figment| f.merge(("oidc.backchannel_logout.path", "/oidc/bcl"))).await;
    register(&s, "/oidc/bcl", true);
    let b = signed_in(&s, "ada", ADA).await;
    let sent = s.issuer.logout_everywhere("ada").await;
    assert_accepted(sent[0].status, None);
    assert_signed_out(&b, &s.app).await;
    let default_path = post_token(&s.app, &sent[0].logout_token).await;
    assert_eq!(default_path.status, 404, "nothing at the default path");
    s.stop().await;

    let off = setup_with(|f: Figment| f.merge(("oidc.backchannel_logout.enabled", false))).await;
    let resp = post_token(&off.app, "x").await;
    assert_eq!(resp.status, 404, "not mounted");
    assert_logged(&["back-channel logout off (oidc.backchannel_logout.enabled = false)"]);
    off.stop().await;
}

// --- POST /logout revokes: a copied cookie dies ----------------------------------------------------

/// A second browser holding a copy of `b`'s cookies for `from`, sent to `to` (another instance
/// with the same `secret_key`, or the same app).
fn copy_cookies(b: &Browser, from: &App, to: &App) -> Browser {
    let copy = Browser::new();
    for (name, value) in b.cookies(&from.base) {
        copy.set_cookie(&to.base, &name, &value);
    }
    copy
}

/// `POST /logout` from `b`, not following the redirect to the provider.
async fn log_out(b: &Browser, app: &App) {
    let resp = b.post_form(&app.url("/logout"), &[], &[]).await;
    assert_eq!(resp.status, 303, "{}", resp.body);
    assert!(session_cookies(b, app).is_empty());
}

#[tokio::test]
async fn logout_copied_cookie_is_signed_out() {
    // The provider sends sid (session_required): /logout marks that sid.
    let s = setup_backchannel(true).await;
    let b = signed_in(&s, "ada", ADA).await;
    assert!(session_sid(&b, &s.app).is_some());
    let copy = copy_cookies(&b, &s.app, &s.app);
    assert_signed_in(&copy, &s.app, ADA).await;
    log_out(&b, &s.app).await;
    assert_signed_out(&copy, &s.app).await;
    // Signing in again works, in the same browser and in the copy's.
    let again = signed_in(&s, "ada", ADA).await;
    assert_signed_in(&again, &s.app, ADA).await;
    s.stop().await;
}

#[tokio::test]
async fn logout_copied_cookie_without_sid_is_signed_out() {
    // No sid in the ID token: the session's own random id is what /logout marks, so another
    // session of the same user lives on.
    let s = setup().await;
    let b = signed_in(&s, "ada", ADA).await;
    let other = signed_in(&s, "ada", ADA).await;
    assert_eq!(session_sid(&b, &s.app), None);
    let own_id = browser_session(&b, &s.app).session_id;
    assert_eq!(own_id.as_ref().map(String::len), Some(11), "{own_id:?}");
    let copy = copy_cookies(&b, &s.app, &s.app);
    log_out(&b, &s.app).await;
    assert_signed_out(&copy, &s.app).await;
    assert_signed_in(&other, &s.app, ADA).await;
    s.stop().await;
}

/// The test app with its own revocation store.
fn app_with_store(figment: Figment, store: Arc<dyn RevocationStore>) -> Rocket<Build> {
    rocket::custom(figment)
        .attach(OidcFairing::new().revocation_store(store))
        .mount("/", rocket::routes![app_routes::protected, app_routes::me])
}

#[tokio::test]
async fn logout_copied_cookie_is_signed_out_on_every_instance_sharing_the_store() {
    let s = setup().await;
    let store: Arc<dyn RevocationStore> = Arc::new(MemoryStore::new(100));
    let (port_a, port_b) = (free_port(), free_port());
    let a = launch(app_with_store(
        app_figment(s.issuer.issuer_url(), port_a),
        store.clone(),
    ))
    .await
    .unwrap();
    let b_app = launch(app_with_store(
        app_figment(s.issuer.issuer_url(), port_b),
        store.clone(),
    ))
    .await
    .unwrap();
    let b = Browser::new();
    let landed = login(&b, &a, "/protected").await.pop().unwrap();
    assert_eq!(landed.body, format!("Only for {ADA}"));
    // Stateless sessions: the cookie works on the other instance (same secret_key).
    let copy = copy_cookies(&b, &a, &b_app);
    assert_signed_in(&copy, &b_app, ADA).await;
    log_out(&b, &a).await;
    assert_signed_out(&copy, &b_app).await;
    a.stop().await;
    b_app.stop().await;
    s.stop().await;
}
