//! Back-channel logout with several providers (issues 14 and 17), over real HTTP against two
//! development issuers: each provider has its own endpoint (`/backchannel-logout/NAME`) that
//! checks logout tokens with that provider's issuer, client id and keys; markers are keyed by
//! the issuer, so one provider signing a user out never ends a session of the other, even for
//! the same `sub`; and `POST /logout` marks the session's own provider only.

mod common;

use common::*;
use rocket_openid_connect::dev_issuer::{BackchannelLogout, Fault};

/// Registers the app's back-channel logout URI of provider `name` with its issuer's client,
/// with or without `backchannel_logout_session_required` (`sid` in ID and logout tokens).
fn register(s: &Multi, name: &str, session_required: bool) {
    s.issuer(name).register_client(
        provider_client(name)
            .backchannel_logout_uri(s.app.url(&format!("/backchannel-logout/{name}")))
            .backchannel_logout_session_required(session_required),
    );
}

/// Two providers `a` and `b` whose issuers both sign `ada` in (the same `sub` at both: what
/// a store keyed by `sub` alone would confuse), both registered for back-channel logout.
async fn two_providers(session_required: bool) -> Multi {
    let s = setup_providers(&["a", "b"], |f| f).await;
    s.issuer("b").set_auto_login(Some("ada"));
    register(&s, "a", session_required);
    register(&s, "b", session_required);
    s
}

/// A fresh browser signed in with provider `name`, landing on `/protected`.
async fn signed_in_with(s: &Multi, name: &str) -> Browser {
    let b = Browser::new();
    let chain = b.get(&provider_login_url(&s.app, name, "/protected")).await;
    assert_eq!(chain.status, 303, "{}", chain.body);
    let page = b.follow(chain).await.pop().unwrap();
    assert_eq!(
        (page.url.as_str(), page.body.as_str()),
        (&*s.app.url("/protected"), &*format!("Only for {ADA}")),
        "signed in with {name}"
    );
    b
}

/// `b` is signed in with provider `name`: `/whoami` answers with it (API client, so a
/// signed-out session would be a 401, not a redirect).
async fn assert_signed_in_with(b: &Browser, s: &Multi, name: &str) {
    let me = b.api_client().get(&s.app.url("/whoami")).await;
    assert_eq!(me.status, 200, "{name}: {}", me.body);
    let me = me.json();
    assert_eq!(me["provider"], name, "{me}");
    assert_eq!(me["issuer"], s.issuer(name).issuer_url(), "{me}");
    assert_eq!(me["sub"], ADA, "{me}");
}

/// `b` is signed out: the API gets 401 and a page a redirect to login.
async fn assert_signed_out(b: &Browser, s: &Multi) {
    let api = b.api_client().get(&s.app.url("/whoami")).await;
    assert_eq!(api.status, 401, "{}", api.body);
    let page = b.get(&s.app.url("/protected")).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(
        page.location().unwrap().starts_with("/login?return_to="),
        "{:?}",
        page.location()
    );
}

/// The logouts the issuer sent (`count`, one per provider session it holds for the user), all
/// to `path` and answered 200.
#[track_caller]
fn accepted(sent: &[BackchannelLogout], count: usize, path: &str) {
    assert_eq!(sent.len(), count, "{sent:?}");
    for logout in sent {
        assert!(logout.uri.ends_with(path), "{sent:?}");
        assert_eq!(logout.status, Some(200), "{sent:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bcl_providers_each_have_their_own_endpoint() {
    let s = two_providers(true).await;
    let base = s.app.base.clone();
    assert_logged(&[
        "OpenID Connect [a]: back-channel logout at POST /backchannel-logout/a: register",
        &format!("{base}/backchannel-logout/a"),
    ]);
    assert_logged(&[
        "OpenID Connect [b]: back-channel logout at POST /backchannel-logout/b: register",
        &format!("{base}/backchannel-logout/b"),
    ]);
    // No endpoint at the bare path: with provider tables it would not say whose token it is.
    let bare = Browser::api()
        .post_form(
            &s.app.url("/backchannel-logout"),
            &[("logout_token", "x")],
            &[],
        )
        .await;
    assert_eq!(bare.status, 404, "{}", bare.body);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bcl_logout_everywhere_at_one_issuer_ends_its_sessions_only() {
    // Without sid, the issuer sends one logout token naming only `sub`: the marker is
    // iss|sub, and the same sub at the other issuer must not match it.
    let s = two_providers(false).await;
    let (at_a, also_at_a) = (signed_in_with(&s, "a").await, signed_in_with(&s, "a").await);
    let at_b = signed_in_with(&s, "b").await;

    let sent = s.issuer("a").logout_everywhere("ada").await;
    accepted(&sent, 1, "/backchannel-logout/a");
    assert_signed_out(&at_a, &s).await;
    assert_signed_out(&also_at_a, &s).await;
    assert_signed_in_with(&at_b, &s, "b").await;

    // And the other way round, with sids this time (b's issuer now holds two provider
    // sessions of ada, the one above and this one).
    register(&s, "a", true);
    register(&s, "b", true);
    let (at_a, at_b) = (signed_in_with(&s, "a").await, signed_in_with(&s, "b").await);
    let sent = s.issuer("b").logout_everywhere("ada").await;
    accepted(&sent, 2, "/backchannel-logout/b");
    assert!(sent.iter().any(|l| l.sid.is_some()), "{sent:?}");
    assert_signed_out(&at_b, &s).await;
    assert_signed_in_with(&at_a, &s, "a").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bcl_a_token_of_one_provider_is_refused_at_the_others_endpoint() {
    let s = two_providers(true).await;
    let at_a = signed_in_with(&s, "a").await;
    let at_b = signed_in_with(&s, "b").await;
    // Point a's client at b's endpoint: a's issuer signs, b's endpoint must refuse.
    s.issuer("a").register_client(
        provider_client("a")
            .backchannel_logout_uri(s.app.url("/backchannel-logout/b"))
            .backchannel_logout_session_required(true),
    );
    let sent = s.issuer("a").logout_everywhere("ada").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].status, Some(400), "{sent:?}");
    // The development issuers sign with the same built-in key, so here only the issuer tells
    // the providers apart: b's endpoint must compare `iss` with b's issuer.
    let token = sent[0].logout_token.clone();
    assert_refused_at_b(&s, &token, "is not the configured issuer").await;
    // With a key that only a's JWKS publishes, b's endpoint refetches b's keys and finds none
    // (the issuer forgot the session it signed out above: sign in there once more).
    s.issuer("a").set_fault(Fault::RotatedKey);
    let _again_at_a = signed_in_with(&s, "a").await;
    let rotated = s.issuer("a").logout_everywhere("ada").await;
    assert_eq!(rotated.len(), 1, "{rotated:?}");
    assert_eq!(rotated[0].status, Some(400), "{rotated:?}");
    assert_refused_at_b(&s, &rotated[0].logout_token, "kid").await;
    s.issuer("a").clear_faults();
    assert_logged(&["OpenID Connect [b]: back-channel logout refused"]);
    assert_signed_in_with(&at_b, &s, "b").await;
    assert_signed_in_with(&at_a, &s, "a").await;

    // The same token at a's own endpoint is accepted and ends a's session only.
    let ok = Browser::api()
        .post_form(
            &s.app.url("/backchannel-logout/a"),
            &[("logout_token", &token)],
            &[],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_signed_out(&at_a, &s).await;
    assert_signed_in_with(&at_b, &s, "b").await;
    s.stop().await;
}

/// `token` posted to provider b's endpoint: 400 with the OAuth error JSON naming `needle`.
async fn assert_refused_at_b(s: &Multi, token: &str, needle: &str) {
    let resp = Browser::api()
        .post_form(
            &s.app.url("/backchannel-logout/b"),
            &[("logout_token", token)],
            &[],
        )
        .await;
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert_eq!(resp.header("cache-control").as_deref(), Some("no-store"));
    let body = resp.json();
    assert_eq!(body["error"], "invalid_request", "{body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains(needle),
        "`{description}` does not mention `{needle}`"
    );
}

/// A second browser holding a copy of `b`'s cookies for the app.
fn copy_of(b: &Browser, app: &App) -> Browser {
    let copy = Browser::new();
    for (name, value) in b.cookies(&app.base) {
        copy.set_cookie(&app.base, &name, &value);
    }
    copy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_marks_the_sessions_own_provider_only() {
    // No sid: /logout marks the session's own id under its provider's issuer.
    let s = two_providers(false).await;
    let at_a = signed_in_with(&s, "a").await;
    let at_b = signed_in_with(&s, "b").await;
    let copy_a = copy_of(&at_a, &s.app);
    let copy_b = copy_of(&at_b, &s.app);
    let out = at_a
        .post_form(
            &s.app.url("/logout"),
            &[],
            &[("origin", &s.app.base), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert!(
        out.location()
            .unwrap()
            .starts_with(&format!("{}/end_session?", s.issuer("a").issuer_url())),
        "{:?}",
        out.location()
    );
    assert_signed_out(&copy_a, &s).await;
    assert_signed_in_with(&copy_b, &s, "b").await;
    assert_signed_in_with(&at_b, &s, "b").await;
    s.stop().await;
}
