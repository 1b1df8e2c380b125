//! `provider-*` cases: what real providers publish (issue 12, items 8 and 9), each reproduced
//! by a development-issuer fault and named after the provider that publishes it. The published
//! documents themselves are run by the provider-metadata CI step (`.ci/provider-metadata`),
//! which cannot log in; these cases do.

use super::*;

/// What an Amazon Cognito user pool without a domain answers at its advertised token endpoint
/// (`provider-metadata/cognito-nodomain/SOURCE.md`).
const COGNITO_BAD_REQUEST: &str = r#"{"code":"BadRequest","message":"The server did not understand the operation that was requested.","type":"client"}"#;

/// What Twitch's token endpoint answers a wrong client secret (PhantomBot/PhantomBot#2860).
const TWITCH_WRONG_SECRET: &str = r#"{"status":403,"message":"invalid client secret"}"#;

/// `POST /logout` from the app's own page.
async fn logout(b: &Browser, app: &App) -> Resp {
    b.post_form(
        &app.url("/logout"),
        &[],
        &[("origin", &app.base), ("sec-fetch-site", "same-origin")],
    )
    .await
}

/// A login as ada in `b`, ending on `/protected`.
async fn signed_in(b: &Browser, s: &Setup) {
    let last = login(b, &s.app, "/protected").await.pop().unwrap();
    assert_eq!(last.body, format!("Only for {ADA}"), "{last:?}");
}

/// `provider-discovery-redirect` (Verimi): the discovery URL answers 302 (or 308) to where the
/// document lives. Followed, at most 5 times, and the document's `issuer` must still be the
/// configured one; a loop fails launch naming where it pointed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_discovery_redirect() {
    for status in [302, 308] {
        let s = setup_faulted(&[Fault::DiscoveryRedirect { status, hops: 2 }], |f| f).await;
        assert_eq!(
            s.issuer.counters().discovery,
            3,
            "two hops and the document"
        );
        assert_logged(&[
            &format!("{}/moved/1/openid-configuration", s.issuer.issuer_url()),
            &format!("redirected (HTTP {status}) to"),
            "/moved/2/openid-configuration",
        ]);
        login_case(&s, &[], Expect::SignedIn).await;
        s.stop().await;
    }
    let (issuer, _) = faulted_launch_fails(
        Fault::DiscoveryRedirectLoop { status: 302 },
        |f| f,
        &[
            "could not discover the issuer",
            "HTTP 302 to",
            "/.well-known/openid-configuration (not followed: more than 5 redirects)",
            "check oidc.issuer",
        ],
    )
    .await;
    assert_eq!(
        issuer.counters().discovery,
        6,
        "the first request and 5 hops"
    );
    issuer.stop().await;
}

/// `provider-client-secret-post-only` (Apple, Twitch): `token_endpoint_auth_methods_supported`
/// lists only `client_secret_post`, and Basic is refused. With `oidc.client_auth_method` unset
/// the app chooses post for the credential check, the code exchange and revocation; set to
/// `client_secret_basic`, launch warns, and the refusal names the setting and the method.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_client_secret_post_only() {
    let s = setup_faulted(&[Fault::ClientSecretPostOnly], |f| f).await;
    assert_eq!(
        s.issuer.counters().token,
        1,
        "one credential check, accepted"
    );
    assert_logged(&[
        "3/4 client credentials: credentials accepted",
        "client authentication client_secret_post (the only method the provider lists)",
    ]);
    let b = Browser::new();
    signed_in(&b, &s).await;
    let before = s.issuer.counters().revoked_tokens.len();
    assert_eq!(logout(&b, &s.app).await.status, 303);
    assert_eq!(
        s.issuer.counters().revoked_tokens.len(),
        before + 2,
        "refresh and access tokens revoked with client_secret_post"
    );
    assert_launch_fails(
        &s.issuer,
        |f| f.merge(("oidc.client_auth_method", "client_secret_basic")),
        &[
            "rejected client_id",
            "must authenticate with client_secret_post",
            "oidc.client_auth_method is \"client_secret_basic\", but the provider lists only \
             [\"client_secret_post\"] in token_endpoint_auth_methods_supported: set \
             oidc.client_auth_method = \"client_secret_post\"",
        ],
    )
    .await;
    assert_logged(&[
        "WARN",
        "but the provider lists only [\"client_secret_post\"]",
    ]);
    s.stop().await;
}

/// `provider-jwks-encryption-keys` (Keycloak, PayPal): the JWKS holds an RSA-OAEP `use: enc`
/// key and an X25519 key beside the signing key. Only the signing key is counted and kept; the
/// others are ignored without a warning, and logins verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_jwks_encryption_keys() {
    let s = setup_faulted(&[Fault::JwksEncryptionKeys], |f| f).await;
    assert_logged(&[
        s.issuer.issuer_url(),
        "2/4 discovered",
        "(1 signing key(s), 2 encryption key(s) ignored,",
    ]);
    let warnings: Vec<String> =
        log_lines_with(&["WARN rocket_openid_connect::", s.issuer.issuer_url()])
            .into_iter()
            .filter(|line| !line.contains("::dev_issuer"))
            .collect();
    assert_eq!(
        warnings,
        Vec::<String>::new(),
        "the crate warns about nothing"
    );
    login_case(&s, &[Fault::JwksEncryptionKeys], Expect::SignedIn).await;
    s.stop().await;
}

/// `provider-jwks-standard-base64` (Battle.net): the signing key's `n` and `e` are standard
/// base64 with `=` padding. openidconnect cannot decode them and drops the modulus, so no ID
/// token verified; the crate reads them as base64, and logins verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_jwks_standard_base64() {
    let s = setup_faulted(&[Fault::JwksStandardBase64], |f| f).await;
    login_case(&s, &[Fault::JwksStandardBase64], Expect::SignedIn).await;
    assert_eq!(s.issuer.counters().jwks, 1, "the key verified: no refetch");
    s.stop().await;
}

/// `provider-token-endpoint-not-oauth` (Twitch, Amazon Cognito without a domain): the token
/// endpoint answers outside RFC 6749 §5.2. A 403 is a rejection (Twitch's wrong secret); a 400
/// without an OAuth error is neither, so launch goes on with a warning that quotes the answer;
/// a 200 to a made-up code is not a token endpoint, and its body (tokens?) is never logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_token_endpoint_not_oauth() {
    let cognito = Fault::TokenRaw {
        status: 400,
        body: COGNITO_BAD_REQUEST.into(),
    };
    let s = setup_faulted(&[cognito], |f| f).await;
    assert_logged(&[
        &format!("{}/token", s.issuer.issuer_url()),
        "WARN",
        "3/4 client credentials NOT confirmed",
        "answered HTTP 400 without an OAuth error (RFC 6749 §5.2)",
        "The server did not understand the operation that was requested.",
    ]);
    s.stop().await;

    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_fault(Fault::TokenRaw {
        status: 403,
        body: TWITCH_WRONG_SECRET.into(),
    });
    assert_launch_fails(
        &issuer,
        |f| f.merge(("oidc.client_id", "client-like-twitch")),
        &[
            "rejected client_id `client-like-twitch`",
            "no OAuth error code, HTTP 403: invalid client secret",
            "oidc.client_secret",
        ],
    )
    .await;
    issuer.stop().await;

    let (issuer, _) = faulted_launch_fails(
        Fault::TokenRaw {
            status: 200,
            body: r#"{"access_token":"leaked-access-token-7d1f","token_type":"Bearer"}"#.into(),
        },
        |f| f,
        &["accepted a made-up authorization code (HTTP 200)"],
    )
    .await;
    assert_not_logged("leaked-access-token-7d1f");
    issuer.stop().await;
}

/// `provider-no-code-flow` (Facebook Limited Login): only implicit response types and no token
/// endpoint in either metadata document. Launch fails, saying the provider offers no code flow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_no_code_flow() {
    let (issuer, _) = faulted_launch_fails(
        Fault::ImplicitOnly,
        |f| f,
        &[
            "the provider offers no authorization code flow",
            "response_types_supported = [\"id_token\", \"token id_token\"], no token_endpoint",
        ],
    )
    .await;
    assert_eq!(
        issuer.counters().authorization_server_metadata,
        1,
        "the RFC 8414 metadata was asked for the token endpoint"
    );
    issuer.stop().await;
}

/// `provider-signing-algs-disjoint`: the provider signs ID tokens only with algorithms
/// `oidc.id_token_signing_algs` does not accept (`id_token_signing_alg_values_supported`,
/// Discovery 1.0 §3). Every login would fail; launch fails instead, saying what to add.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_signing_algs_disjoint() {
    let issuer = DevIssuer::start().await.unwrap();
    assert_launch_fails(
        &issuer,
        |f| f.merge(("oidc.id_token_signing_algs", ["ES256", "EdDSA"])),
        &[
            issuer.issuer_url(),
            "the provider signs ID tokens with [\"RS256\"] only, none of which \
             oidc.id_token_signing_algs accepts: add \"RS256\" to oidc.id_token_signing_algs",
        ],
    )
    .await;
    assert_eq!(
        issuer.counters().token,
        0,
        "refused before the credential check"
    );
    issuer.stop().await;
}

/// `provider-no-end-session` (Google, Apple, Auth0, and 15 more of 34): no
/// `end_session_endpoint` anywhere. Launch says `/logout` signs out of the app only, and
/// logout revokes the tokens and lands home.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_no_end_session() {
    let s = setup_faulted(&[Fault::NoEndSessionEndpoint], |f| f).await;
    assert_logged(&[
        "/logout signs out of this app only (the provider advertises no end_session_endpoint)",
    ]);
    assert_eq!(s.issuer.counters().authorization_server_metadata, 1);
    let b = Browser::new();
    signed_in(&b, &s).await;
    let r = logout(&b, &s.app).await;
    assert_eq!(r.location(), Some(s.app.url("/")));
    assert_eq!(s.issuer.counters().end_session, 0);
    assert_eq!(s.issuer.counters().revoked_tokens.len(), 2);
    s.stop().await;
}

/// `provider-rfc8414-revocation-endpoint` (issue 12 item 8): the OpenID discovery document
/// lacks `revocation_endpoint`, the RFC 8414 document (`/.well-known/oauth-authorization-server`)
/// has it. The crate takes it from there at ignite, and logout revokes the tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_rfc8414_revocation_endpoint() {
    let s = setup_faulted(&[Fault::DiscoveryMissingRevocationEndpoint], |f| f).await;
    assert_eq!(s.issuer.counters().authorization_server_metadata, 1);
    assert_logged(&[
        &format!(
            "{}/.well-known/oauth-authorization-server",
            s.issuer.issuer_url()
        ),
        "took revocation_endpoint, revocation_endpoint_auth_methods_supported from the RFC 8414 \
         metadata",
    ]);
    assert_logged(&[s.issuer.issuer_url(), "2/4 discovered", "revocation yes"]);
    let b = Browser::new();
    signed_in(&b, &s).await;
    logout(&b, &s.app).await;
    assert_eq!(
        s.issuer.counters().revoked_tokens.len(),
        2,
        "refresh and access tokens revoked"
    );
    s.stop().await;
}
