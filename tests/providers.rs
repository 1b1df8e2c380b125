//! Several providers in one app (`[default.oidc.providers.NAME]`), against one development
//! issuer per provider over real HTTP: signing in and out with each, the sign-in page and the
//! default provider, logins at two providers at once, sessions bound to their provider, launch
//! failing for one provider of two, environment overrides; and the Entra ID multi-tenant issuer
//! (`…/common/v2.0`, whose discovery names the `{tenantid}` template) with a tenant allow-list.
//! The mix-up attacks are in `tests/conformance.rs`.

mod common;

use std::time::{Duration, Instant};

use common::*;
use rocket::serde::json::serde_json::json;
use rocket_openid_connect::dev_issuer::{
    default_users, DevIssuer, Fault, DEFAULT_CLIENT_ID, DEFAULT_TENANT_ID,
};

const GRACE: &str = "grace-hopper-1906";

/// A same-origin logout POST, as the app's own logout button sends it.
async fn logout(b: &Browser, app: &App) -> Resp {
    b.post_form(
        &app.url("/logout"),
        &[],
        &[("origin", &app.base), ("sec-fetch-site", "same-origin")],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_out_with_each_of_two_providers() {
    let s = setup_providers(&["a", "b"], |f| f).await;
    let (a, b_issuer) = (s.issuer("a"), s.issuer("b"));
    assert_logged(&[
        "OpenID Connect [a]: 1/4 configuration valid",
        a.issuer_url(),
    ]);
    assert_logged(&["OpenID Connect [b]: 3/4 client credentials: credentials accepted"]);
    assert_logged(&[
        "OpenID Connect: 4/4 mounted",
        "GET /login/a",
        "GET /authorization-code/callback/a",
        "GET /login/b",
        "GET /authorization-code/callback/b",
    ]);

    for (name, issuer, sub, other) in [("a", a, ADA, b_issuer), ("b", b_issuer, GRACE, a)] {
        let b = Browser::new();
        let chain = b.get(&provider_login_url(&s.app, name, "/protected")).await;
        let authorize = query_of(&chain.location().unwrap());
        assert!(chain
            .location()
            .unwrap()
            .starts_with(&format!("{}/authorize?", issuer.issuer_url())));
        assert_eq!(authorize["client_id"], client_id_of(name));
        assert_eq!(
            authorize["redirect_uri"],
            s.app.url(&format!("/authorization-code/callback/{name}")),
            "each provider has its own redirect URI"
        );
        let page = b.follow(chain).await.pop().unwrap();
        assert_eq!(page.url, s.app.url("/protected"), "{name}");
        assert_eq!(page.body, format!("Only for {sub}"));
        let me = b.api_client().get(&s.app.url("/whoami")).await.json();
        assert_eq!(
            me,
            json!({"provider": name, "issuer": issuer.issuer_url(), "sub": sub,
                   "name": me["name"], "tid": null})
        );

        let (before, other_before) = (issuer.counters(), other.counters());
        let out = logout(&b, &s.app).await;
        assert_eq!(out.status, 303);
        let location = out.location().unwrap();
        assert!(
            location.starts_with(&format!("{}/end_session?", issuer.issuer_url())),
            "{name}: signs out at the provider that signed the user in: {location}"
        );
        assert_eq!(query_of(&location)["client_id"], client_id_of(name));
        let home = b.follow(out).await.pop().unwrap();
        assert_eq!(home.body, "Hello, visitor", "{name}");
        let after = issuer.counters();
        assert!(
            after.revocation > before.revocation,
            "{name}: tokens revoked"
        );
        assert_eq!(after.end_session, before.end_session + 1);
        let other_after = other.counters();
        assert_eq!(
            (
                other_after.revocation,
                other_after.end_session,
                other_after.token
            ),
            (
                other_before.revocation,
                other_before.end_session,
                other_before.token
            ),
            "{name}: nothing sent to the other provider"
        );
        assert_eq!(b.get(&s.app.url("/protected")).await.status, 303);
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_offers_every_provider_and_keeps_return_to() {
    let s = setup_providers(&["a", "b"], |f| {
        f.merge(("oidc.providers.b.display_name", "<b>Bee</b> & Co"))
    })
    .await;
    let b = Browser::new();
    let page = b
        .get(&format!(
            "{}?return_to=%2Fprotected%3Ftab%3D1&login_hint=ada",
            s.app.url("/login")
        ))
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
    assert!(page.body.contains(
        "<a href=\"/login/a?return_to=%2Fprotected%3Ftab%3D1&amp;login_hint=ada\">Sign in with \
         Issuer A</a>"
    ), "{}", page.body);
    assert!(
        page.body
            .contains("Sign in with &lt;b&gt;Bee&lt;/b&gt; &amp; Co</a>"),
        "escaped: {}",
        page.body
    );
    assert!(b.cookies(&s.app.base).is_empty(), "no login started yet");
    // An open redirect in return_to is dropped, not passed on.
    let page = b
        .get(&format!("{}?return_to=//evil.example", s.app.url("/login")))
        .await;
    assert!(page.body.contains("<a href=\"/login/a\">"), "{}", page.body);

    // The chosen link signs in and lands on return_to.
    let landed = b
        .visit(&s.app.url("/login/b?return_to=%2Fprotected%3Ftab%3D1"))
        .await;
    assert_eq!(landed.url, s.app.url("/protected?tab=1"));
    assert_eq!(landed.body, format!("Only for {GRACE}"));

    // A protected page sends a visitor to the choice, return_to kept.
    let visitor = Browser::new();
    let r = visitor.get(&s.app.url("/protected")).await;
    assert_eq!(
        r.location().as_deref(),
        Some("/login?return_to=%2Fprotected")
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_provider_and_a_single_table_go_straight_to_the_provider() {
    let s = setup_providers(&["a", "b"], |f| f.merge(("oidc.default_provider", "b"))).await;
    let b = Browser::new();
    let r = b.get(&login_url(&s.app, "/protected")).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location().as_deref(),
        Some("/login/b?return_to=%2Fprotected")
    );
    let page = b.follow(r).await.pop().unwrap();
    assert_eq!(page.body, format!("Only for {GRACE}"));
    // The other provider is still there.
    let page = Browser::new()
        .visit(&provider_login_url(&s.app, "a", "/protected"))
        .await;
    assert_eq!(page.body, format!("Only for {ADA}"));
    s.stop().await;

    let s = setup_providers(&["solo"], |f| f).await;
    let r = Browser::new().get(&s.app.url("/login")).await;
    assert_eq!(r.location().as_deref(), Some("/login/solo"));
    s.stop().await;
}

/// Two tabs of one browser start logins at two providers; the second one's callback comes
/// first. Each completes (each pending login has its own cookie), the last one's session wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_log_in_with_different_providers_at_once() {
    let s = setup_providers(&["a", "b"], |f| f).await;
    let b = Browser::new();
    let start_a = b.get(&provider_login_url(&s.app, "a", "/from-a")).await;
    let start_b = b.get(&provider_login_url(&s.app, "b", "/from-b")).await;
    assert_eq!(tx_cookies(&b, &s.app).len(), 2, "two logins pending");
    let callback_a = b
        .get(&start_a.location().unwrap())
        .await
        .location()
        .unwrap();
    let callback_b = b
        .get(&start_b.location().unwrap())
        .await
        .location()
        .unwrap();

    let done_b = b.get(&callback_b).await;
    assert_eq!(done_b.status, 303, "{}", done_b.body);
    assert_eq!(done_b.location().as_deref(), Some("/from-b"));
    let me = b.api_client().get(&s.app.url("/whoami")).await.json();
    assert_eq!(me["provider"], "b");
    assert_eq!(tx_cookies(&b, &s.app).len(), 1, "a's login still pending");

    let done_a = b.get(&callback_a).await;
    assert_eq!(done_a.status, 303, "{}", done_a.body);
    assert_eq!(done_a.location().as_deref(), Some("/from-a"));
    let me = b.api_client().get(&s.app.url("/whoami")).await.json();
    assert_eq!(me["provider"], "a");
    assert_eq!(me["sub"], ADA);
    assert!(tx_cookies(&b, &s.app).is_empty());
    s.stop().await;
}

/// Launch fails when one provider of two is misconfigured, naming it and its keys; the good one
/// is discovered too (at the same time: launch takes the slowest provider's time, not the sum).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignite_fails_for_one_bad_provider_of_two_and_names_it() {
    init_logging();
    let good = DevIssuer::builder()
        .client(provider_client("good"))
        .start()
        .await
        .unwrap();
    let bad = DevIssuer::builder()
        .client(provider_client("bad"))
        .start()
        .await
        .unwrap();
    let delay = Duration::from_secs(1);
    good.set_fault(Fault::Delay(delay));
    bad.set_fault(Fault::Delay(delay));
    let figment = multi_figment(
        free_port(),
        &[("good", good.issuer_url()), ("bad", bad.issuer_url())],
    )
    .merge(("oidc.providers.bad.client_secret", "wrong-secret-xyz"));
    let started = Instant::now();
    assert_fairing_fails(test_app(figment)).await;
    let took = started.elapsed();
    assert_logged(&[
        "ERROR",
        "OpenID Connect [bad]: the issuer rejected client_id `app-bad`",
        "check oidc.providers.bad.client_id and oidc.providers.bad.client_secret (or \
         ROCKET_OIDC_PROVIDERS_BAD_CLIENT_SECRET)",
    ]);
    assert!(log_lines_with(&["ERROR", "OpenID Connect [good]"]).is_empty());
    assert_not_logged("wrong-secret-xyz");
    // Each provider: discovery, JWKS and the credential check, 1 s each: 3 s at the same time,
    // 6 s one after the other.
    assert_eq!((good.counters().token, bad.counters().token), (1, 1));
    assert!(
        took < delay * 5,
        "both providers were started one after the other: {took:?}"
    );
    good.stop().await;
    bad.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_providers_keys_come_from_its_environment_variables() {
    // What `ROCKET_OIDC_PROVIDERS_B_CLIENT_SECRET=...` gives: the top-level key
    // `oidc_providers_b_client_secret`, which wins over the table.
    let s = setup_providers(&["a", "b"], |f| {
        f.merge(("oidc.providers.b.client_secret", "wrong-in-toml"))
            .merge(("oidc_providers_b_client_secret", "secret-b"))
            .merge(("oidc_providers_a_display_name", "Env A"))
    })
    .await;
    let page = Browser::new().get(&s.app.url("/login")).await;
    assert!(page.body.contains("Sign in with Env A"), "{}", page.body);
    let landed = Browser::new()
        .visit(&provider_login_url(&s.app, "b", "/protected"))
        .await;
    assert_eq!(landed.body, format!("Only for {GRACE}"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_names_the_provider_and_the_key() {
    init_logging();
    let figment = multi_figment(
        free_port(),
        &[
            ("valid", "http://127.0.0.1:9"),
            ("broken", "http://127.0.0.1:9"),
        ],
    )
    .merge(("oidc.providers.broken.client_id", ""))
    .merge(("oidc.providers.broken.login_path", "/x"))
    .merge(("oidc.issuer", "http://127.0.0.1:9"))
    .merge(("oidc_providers_nosuch_issuer", "http://127.0.0.1:9"));
    assert_fairing_fails(test_app(figment)).await;
    assert_logged(&[
        "OpenID Connect: oidc.providers.broken.login_path: `login_path` is a setting of the app",
    ]);
    assert_logged(&["OpenID Connect: oidc.providers: `ROCKET_OIDC_PROVIDERS_NOSUCH_ISSUER`"]);

    let figment = multi_figment(
        free_port(),
        &[
            ("valid", "http://127.0.0.1:9"),
            ("broken", "http://127.0.0.1:9"),
        ],
    )
    .merge(("oidc.providers.broken.client_id", ""))
    .merge(("oidc.issuer", "http://127.0.0.1:9"));
    assert_fairing_fails(test_app(figment)).await;
    assert_logged(&[
        "OpenID Connect: oidc.providers.broken.client_id: Your client ID is missing. Set \
         `client_id` in the [default.oidc.providers.broken] table of Rocket.toml or \
         ROCKET_OIDC_PROVIDERS_BROKEN_CLIENT_ID",
    ]);
    assert_logged(&[
        "OpenID Connect: oidc.issuer: With provider tables, each provider has its own issuer: \
         move it into [default.oidc.providers.NAME]",
    ]);
}

/// A session is bound to the provider that signed the user in, by its issuer and client id:
/// under the same `secret_key`, another app whose provider of that name is another issuer or
/// client refuses it, an app without that provider refuses it, and an app without provider
/// tables refuses a named session. An app that moves its provider into a table named `default`
/// keeps the sessions it had.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_bound_to_their_provider() {
    let s = setup_providers(&["a", "b"], |f| f).await;
    let b = Browser::new();
    assert_eq!(
        b.visit(&provider_login_url(&s.app, "a", "/protected"))
            .await
            .body,
        format!("Only for {ADA}")
    );
    let session = b.cookies(&s.app.base);
    let (a, b_issuer) = (s.issuer("a").issuer_url(), s.issuer("b").issuer_url());

    let signed_in_at = |figment: rocket::figment::Figment| {
        let session = session.clone();
        async move {
            let app = launch(test_app(figment)).await.expect("launches");
            let browser = Browser::new();
            for (k, v) in &session {
                browser.set_cookie(&app.base, k, v);
            }
            let r = browser.api_client().get(&app.url("/whoami")).await;
            app.stop().await;
            (r.status == 200).then(|| r.json()["provider"].as_str().unwrap().to_owned())
        }
    };
    // The same providers: signed in.
    assert_eq!(
        signed_in_at(multi_figment(free_port(), &[("a", a), ("b", b_issuer)])).await,
        Some("a".into())
    );
    // Provider `a` is now another issuer (whose client it is not: no credential check).
    let other_issuer = multi_figment(free_port(), &[("a", b_issuer)])
        .merge(("oidc.providers.a.check_credentials", false));
    assert_eq!(signed_in_at(other_issuer).await, None);
    // Provider `a` has another client id.
    let other_client = multi_figment(free_port(), &[("a", a)])
        .merge(("oidc.providers.a.client_id", DEFAULT_CLIENT_ID))
        .merge(("oidc.providers.a.check_credentials", false));
    assert_eq!(signed_in_at(other_client).await, None);
    // No provider `a` any more.
    assert_eq!(
        signed_in_at(multi_figment(free_port(), &[("b", b_issuer)])).await,
        None
    );
    // No provider tables: the one provider is `default`, and this session is `a`'s.
    let single = app_figment(a, free_port())
        .merge(("oidc.client_id", client_id_of("a")))
        .merge(("oidc.client_secret", "secret-a"))
        .merge(("oidc.callback_path", "/authorization-code/callback/a"));
    assert_eq!(signed_in_at(single).await, None);
    s.stop().await;

    // A session of an app without provider tables, and the same app with its provider moved
    // into a table named `default`.
    let s = setup().await;
    let b = Browser::new();
    login(&b, &s.app, "/").await;
    let session = b.cookies(&s.app.base);
    let port = free_port();
    let moved = multi_figment(port, &[("default", s.issuer.issuer_url())])
        .merge(("oidc.providers.default.client_id", DEFAULT_CLIENT_ID))
        .merge(("oidc.providers.default.client_secret", "unused"))
        .merge(("oidc.providers.default.check_credentials", false));
    let app = launch(test_app(moved)).await.expect("launches");
    let browser = Browser::new();
    for (k, v) in &session {
        browser.set_cookie(&app.base, k, v);
    }
    let me = browser.api_client().get(&app.url("/whoami")).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["provider"], "default");
    app.stop().await;
    s.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Entra ID multi-tenant (`/common/v2.0`, `/organizations/v2.0`): the `{tenantid}` template

/// A tenant other than the default one.
const OTHER_TENANT: &str = "3c1f2b9e-5d7a-4e8f-9a6b-0c2d4e6f8a1b";

/// A multi-tenant development issuer (ada in the default tenant, grace in [`OTHER_TENANT`]) and
/// an app configured with its `/common/v2.0` issuer; `tweak` adjusts the app's figment.
async fn entra(tweak: impl FnOnce(rocket::figment::Figment) -> rocket::figment::Figment) -> Setup {
    init_logging();
    let mut users = default_users();
    users[1].extra.insert("tid".into(), json!(OTHER_TENANT));
    let issuer = DevIssuer::builder()
        .multi_tenant(DEFAULT_TENANT_ID)
        .users(users)
        .start()
        .await
        .unwrap();
    issuer.set_auto_login(Some("ada"));
    let common = issuer.tenant_issuer_url("common");
    let app = launch(test_app(tweak(app_figment(&common, free_port()))))
        .await
        .expect("launches");
    Setup { issuer, app }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_multi_tenant_issuer_with_a_tenant_allow_list() {
    let s = entra(|f| f.merge(("oidc.allowed_tenants", vec![DEFAULT_TENANT_ID]))).await;
    let template = format!("{}/{{tenantid}}/v2.0", s.issuer.issuer_url());
    assert_logged(&[
        &template,
        "multi-tenant issuer",
        "users of the tenants in oidc.allowed_tenants may sign in",
    ]);
    let signed_in = login_case(&s, &[], Expect::SignedIn).await;
    assert_eq!(signed_in.body, format!("Only for {ADA}"));
    let b = Browser::new();
    login(&b, &s.app, "/").await;
    let me = b.api_client().get(&s.app.url("/whoami")).await.json();
    assert_eq!(
        me["issuer"],
        s.issuer.tenant_issuer_url(DEFAULT_TENANT_ID),
        "the issuer of the user's tenant"
    );
    assert_eq!(me["tid"], DEFAULT_TENANT_ID);

    // `iss` of another tenant than `tid`; no `tid`; a `tid` that is no tenant ID.
    for fault in [
        Fault::Claim(
            "iss".into(),
            json!(s.issuer.tenant_issuer_url(OTHER_TENANT)),
        ),
        Fault::RemoveClaim("tid".into()),
        Fault::Claim("tid".into(), json!("common")),
        Fault::Claim("iss".into(), json!(template)),
    ] {
        login_case(&s, &[fault], ID_TOKEN_REJECTED).await;
    }
    // A user of a tenant not on the list.
    s.issuer.set_auto_login(Some("grace"));
    login_case(&s, &[], ID_TOKEN_REJECTED).await;
    assert_logged(&[
        OTHER_TENANT,
        "is not in oidc.allowed_tenants: its users may not sign in",
    ]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_multi_tenant_issuer_without_a_list_lets_any_tenant_in() {
    let s = entra(|f| f).await;
    assert_logged(&[
        s.issuer.issuer_url(),
        "users of any tenant may sign in; list the tenant IDs that may in \
         oidc.allowed_tenants to restrict it",
    ]);
    assert!(
        log_lines_with(&["WARN", "OpenID Connect", s.issuer.issuer_url()]).is_empty(),
        "informed, not warned"
    );
    s.issuer.set_auto_login(Some("grace"));
    let b = Browser::new();
    assert_eq!(
        login(&b, &s.app, "/protected").await.pop().unwrap().body,
        format!("Only for {GRACE}")
    );
    let me = b.api_client().get(&s.app.url("/whoami")).await.json();
    assert_eq!(me["issuer"], s.issuer.tenant_issuer_url(OTHER_TENANT));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_template_mistakes_fail_launch_with_advice_that_validates() {
    init_logging();
    let issuer = DevIssuer::builder()
        .multi_tenant(DEFAULT_TENANT_ID)
        .start()
        .await
        .unwrap();
    // The issuer with a trailing `/` does not fit the template `…/{tenantid}/v2.0`.
    let common = format!("{}/", issuer.tenant_issuer_url("common"));
    assert_fairing_fails(test_app(app_figment(&common, free_port()))).await;
    assert_logged(&[
        &common,
        "the provider publishes a multi-tenant template issuer: set oidc.issuer to the URL you \
         discovered it from with the template segment filled",
    ]);
    assert!(
        log_lines_with(&[&common, "set oidc.issuer = \""]).is_empty(),
        "no advice to set the template, which validation refuses"
    );

    // allowed_tenants with an issuer that is not multi-tenant.
    let single = DevIssuer::start().await.unwrap();
    let figment = app_figment(single.issuer_url(), free_port())
        .merge(("oidc.allowed_tenants", vec![DEFAULT_TENANT_ID]));
    assert_fairing_fails(test_app(figment)).await;
    assert_logged(&[
        single.issuer_url(),
        "oidc.allowed_tenants: allowed_tenants is set, but issuer",
        "is not a multi-tenant one",
    ]);
    issuer.stop().await;
    single.stop().await;
}
