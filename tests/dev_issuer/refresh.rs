//! Refresh tokens: lifetimes, rotation, reuse detection and its grace period, per-grant
//! counters, the refresh faults, and revoking a user's grants.

use std::time::{Duration, Instant};

use openidconnect::OAuth2TokenResponse;
use rocket::serde::json::serde_json::Value;
use rocket_openid_connect::dev_issuer::{
    DevIssuer, Fault, RefreshRotation, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};

use crate::*;

/// The status and JSON body of a refresh request with `refresh_token`.
pub async fn refresh(issuer: &DevIssuer, refresh_token: &str) -> (u16, Value) {
    let response = http()
        .post(format!("{}/token", issuer.issuer_url()))
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// The `refresh_token` of a successful response.
fn refresh_token_of(body: &Value) -> String {
    body["refresh_token"]
        .as_str()
        .expect("a refresh_token")
        .to_owned()
}

fn error_of(body: &Value) -> &str {
    body["error"].as_str().unwrap_or("")
}

/// The status of a userinfo request with `access_token`.
pub async fn userinfo_status(issuer: &DevIssuer, access_token: &str) -> u16 {
    http()
        .get(format!("{}/userinfo", issuer.issuer_url()))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Logs ada in with a strict client; returns her first refresh token.
async fn first_refresh_token(issuer: &DevIssuer) -> String {
    let login = strict_login(issuer).await.unwrap();
    login.tokens.refresh_token().unwrap().secret().clone()
}

#[rocket::async_test]
async fn access_token_lifetime_is_separate_from_the_id_token_lifetime() {
    let issuer = DevIssuer::builder()
        .access_token_lifetime(Duration::from_secs(120))
        .token_lifetime(Duration::from_secs(900))
        .start()
        .await
        .unwrap();
    let login = strict_login(&issuer).await.unwrap();
    assert_eq!(
        login.tokens.expires_in(),
        Some(Duration::from_secs(120)),
        "expires_in is the access-token lifetime"
    );
    let (_, claims) = decode(&login.id_token);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    let (status, body) = refresh(&issuer, login.tokens.refresh_token().unwrap().secret()).await;
    assert_eq!((status, body["expires_in"].as_u64()), (200, Some(120)));

    // An access token that expires at once is refused by userinfo; the ID token is unaffected.
    let issuer = DevIssuer::builder()
        .access_token_lifetime(Duration::ZERO)
        .start()
        .await
        .unwrap();
    issuer.set_auto_login(Some("ada"));
    let client = default_client(discover(&issuer).await.unwrap());
    let request = authorization_request(&client, &[]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    let tokens = exchange(&client, &code, request.verifier).await.unwrap();
    assert_eq!(tokens.expires_in(), Some(Duration::ZERO));
    assert_eq!(
        userinfo_status(&issuer, tokens.access_token().secret()).await,
        401
    );
    let id_token = openidconnect::TokenResponse::id_token(&tokens).unwrap();
    let (_, claims) = decode(&id_token.to_string());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
}

#[rocket::async_test]
async fn default_rotation_rejects_reuse_and_keeps_the_grant() {
    let issuer = DevIssuer::start().await.unwrap();
    let first = first_refresh_token(&issuer).await;
    let (status, body) = refresh(&issuer, &first).await;
    assert_eq!(status, 200);
    let second = refresh_token_of(&body);
    assert_ne!(second, first);
    let (status, body) = refresh(&issuer, &first).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"));
    let (status, _) = refresh(&issuer, &second).await;
    assert_eq!(status, 200, "the grant lives on");
    let grants = issuer.grants();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].refresh_calls, 3);
    assert!(!grants[0].revoked && !grants[0].revoked_by_reuse);
    assert_eq!(issuer.counters().grants, grants);
}

#[rocket::async_test]
async fn strict_rotation_reuse_revokes_the_whole_grant() {
    let issuer = DevIssuer::builder()
        .refresh_rotation(RefreshRotation::Strict {
            grace: Duration::ZERO,
        })
        .start()
        .await
        .unwrap();
    let first = first_refresh_token(&issuer).await;
    let (status, body) = refresh(&issuer, &first).await;
    assert_eq!(status, 200);
    let second = refresh_token_of(&body);
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo_status(&issuer, &access).await, 200);

    let (status, body) = refresh(&issuer, &first).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"));
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("reuse"),
        "{body}"
    );
    // The current refresh token and the access tokens of the grant are gone too.
    let (status, body) = refresh(&issuer, &second).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"));
    assert_eq!(userinfo_status(&issuer, &access).await, 401);
    let grant = &issuer.grants()[0];
    assert_eq!(grant.refresh_calls, 3);
    assert!(grant.revoked && grant.revoked_by_reuse);

    // A new login is a new grant, unaffected.
    let again = first_refresh_token(&issuer).await;
    assert_eq!(refresh(&issuer, &again).await.0, 200);
    let grants = issuer.grants();
    assert_eq!(grants.len(), 2);
    assert!(!grants[1].revoked);
}

#[rocket::async_test]
async fn strict_rotation_grace_accepts_a_consumed_token_once_with_a_fresh_set() {
    let issuer = DevIssuer::builder()
        .refresh_rotation(RefreshRotation::Strict {
            grace: Duration::from_secs(60),
        })
        .start()
        .await
        .unwrap();
    let first = first_refresh_token(&issuer).await;
    let (_, body) = refresh(&issuer, &first).await;
    let second = refresh_token_of(&body);
    // Within the grace period: once more, with a fresh token set.
    let (status, replay) = refresh(&issuer, &first).await;
    assert_eq!(status, 200, "{replay}");
    let third = refresh_token_of(&replay);
    assert_ne!(third, second);
    assert_ne!(replay["access_token"], body["access_token"]);
    assert_ne!(replay["id_token"], body["id_token"]);
    // Both successors are valid.
    let (status, body) = refresh(&issuer, &second).await;
    assert_eq!(status, 200);
    let fourth = refresh_token_of(&body);
    assert_eq!(refresh(&issuer, &third).await.0, 200);
    // A second replay is reuse: the grant goes.
    let (status, body) = refresh(&issuer, &first).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"));
    assert_eq!(refresh(&issuer, &fourth).await.0, 400);
    let grant = &issuer.grants()[0];
    assert!(grant.revoked_by_reuse);
    assert_eq!(grant.refresh_calls, 6);
}

#[rocket::async_test]
async fn strict_rotation_replay_after_the_grace_period_revokes() {
    let issuer = DevIssuer::builder()
        .refresh_rotation(RefreshRotation::Strict {
            grace: Duration::from_millis(100),
        })
        .start()
        .await
        .unwrap();
    let first = first_refresh_token(&issuer).await;
    let consumed_at = Instant::now();
    let (_, body) = refresh(&issuer, &first).await;
    let second = refresh_token_of(&body);
    let wait = Duration::from_millis(150).saturating_sub(consumed_at.elapsed());
    rocket::tokio::time::sleep(wait).await;
    let (status, body) = refresh(&issuer, &first).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"));
    assert_eq!(refresh(&issuer, &second).await.0, 400);
    assert!(issuer.grants()[0].revoked_by_reuse);
}

#[rocket::async_test]
async fn no_rotation_returns_the_same_refresh_token() {
    let issuer = DevIssuer::builder()
        .refresh_rotation(RefreshRotation::Off)
        .start()
        .await
        .unwrap();
    let first = first_refresh_token(&issuer).await;
    for _ in 0..3 {
        let (status, body) = refresh(&issuer, &first).await;
        assert_eq!(status, 200);
        assert_eq!(refresh_token_of(&body), first);
    }
    assert_eq!(issuer.grants()[0].refresh_calls, 3);
}

#[rocket::async_test]
async fn grant_counters_are_per_grant() {
    let issuer = DevIssuer::start().await.unwrap();
    let ada = first_refresh_token(&issuer).await;
    issuer.set_auto_login(Some("grace"));
    let client = default_client(discover(&issuer).await.unwrap());
    let request = authorization_request(&client, &[]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    let tokens = exchange(&client, &code, request.verifier).await.unwrap();
    let grace = tokens.refresh_token().unwrap().secret().clone();
    let (_, body) = refresh(&issuer, &ada).await;
    refresh(&issuer, &refresh_token_of(&body)).await;
    refresh(&issuer, &grace).await;
    refresh(&issuer, "never-issued").await;
    let grants = issuer.grants();
    let summary: Vec<(&str, u64)> = grants
        .iter()
        .map(|g| (g.sub.as_str(), g.refresh_calls))
        .collect();
    assert_eq!(
        summary,
        vec![("ada-lovelace-1815", 2), ("grace-hopper-1906", 1)]
    );
    assert!(grants.iter().all(|g| g.client_id == DEFAULT_CLIENT_ID));
    assert!(grants[0].id < grants[1].id);
}

#[rocket::async_test]
async fn delay_token_slows_only_the_token_endpoint() {
    let issuer = DevIssuer::start().await.unwrap();
    let login = strict_login(&issuer).await.unwrap();
    issuer.set_fault(Fault::DelayToken(Duration::from_secs(2)));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let base = issuer.issuer_url();
    for path in ["/.well-known/openid-configuration", "/jwks"] {
        let response = impatient.get(format!("{base}{path}")).send().await;
        assert_eq!(response.unwrap().status(), 200, "{path}");
    }
    let userinfo = impatient
        .get(format!("{base}/userinfo"))
        .bearer_auth(login.tokens.access_token().secret())
        .send()
        .await;
    assert_eq!(userinfo.unwrap().status(), 200);
    let started = Instant::now();
    let token = impatient
        .post(format!("{base}/token"))
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                login.tokens.refresh_token().unwrap().secret(),
            ),
        ])
        .send()
        .await;
    assert!(token.unwrap_err().is_timeout());
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// Logs ada in under `fault` (set after discovery, so it applies to both grants), then
/// refreshes: the code grant's and the refresh grant's raw responses.
async fn code_and_refresh_under(fault: Fault) -> (Value, Value, DevIssuer) {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_auto_login(Some("ada"));
    let client = default_client(discover(&issuer).await.unwrap());
    issuer.set_fault(fault);
    let request = authorization_request(&client, &["profile"]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    let first: Value = http()
        .post(format!("{}/token", issuer.issuer_url()))
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", request.verifier.secret()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (status, refreshed) = refresh(&issuer, &refresh_token_of(&first)).await;
    assert_eq!(status, 200, "{refreshed}");
    (first, refreshed, issuer)
}

fn id_claims(body: &Value) -> rocket::serde::json::serde_json::Map<String, Value> {
    decode(body["id_token"].as_str().expect("an id_token")).1
}

#[rocket::async_test]
async fn refresh_wrong_sub_changes_only_the_refreshed_id_token() {
    let (first, refreshed, _issuer) = code_and_refresh_under(Fault::RefreshWrongSub).await;
    assert_eq!(id_claims(&first)["sub"], "ada-lovelace-1815");
    assert_eq!(id_claims(&refreshed)["sub"], "someone-else");
}

#[rocket::async_test]
async fn refresh_no_id_token_omits_it_only_on_refresh() {
    let (first, refreshed, _issuer) = code_and_refresh_under(Fault::RefreshNoIdToken).await;
    assert!(first["id_token"].is_string());
    assert!(refreshed.get("id_token").is_none(), "{refreshed}");
    assert!(refreshed["access_token"].is_string());
}

#[rocket::async_test]
async fn refresh_no_nonce_drops_the_nonce_only_on_refresh() {
    let (first, refreshed, _issuer) = code_and_refresh_under(Fault::RefreshNoNonce).await;
    assert!(id_claims(&first)["nonce"].is_string());
    let claims = id_claims(&refreshed);
    assert!(!claims.contains_key("nonce"), "{claims:?}");
    assert_eq!(claims["sub"], "ada-lovelace-1815");
}

#[rocket::async_test]
async fn refresh_no_refresh_token_keeps_the_old_one_valid() {
    let (first, refreshed, issuer) = code_and_refresh_under(Fault::RefreshNoRefreshToken).await;
    assert!(refreshed.get("refresh_token").is_none(), "{refreshed}");
    assert!(refreshed["id_token"].is_string());
    let (status, _) = refresh(&issuer, &refresh_token_of(&first)).await;
    assert_eq!(status, 200, "the old refresh token still works");
}

#[rocket::async_test]
async fn revoke_grants_ends_every_grant_of_that_user_only() {
    let issuer = DevIssuer::start().await.unwrap();
    let one = strict_login(&issuer).await.unwrap();
    let two = first_refresh_token(&issuer).await;
    issuer.set_auto_login(Some("grace"));
    let client = default_client(discover(&issuer).await.unwrap());
    let request = authorization_request(&client, &[]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    let grace = exchange(&client, &code, request.verifier).await.unwrap();

    assert_eq!(issuer.revoke_grants("ada"), 2);
    let (status, body) = refresh(&issuer, one.tokens.refresh_token().unwrap().secret()).await;
    assert_eq!((status, error_of(&body)), (400, "invalid_grant"));
    assert_eq!(refresh(&issuer, &two).await.0, 400);
    assert_eq!(
        userinfo_status(&issuer, one.tokens.access_token().secret()).await,
        401
    );
    assert_eq!(
        refresh(&issuer, grace.refresh_token().unwrap().secret())
            .await
            .0,
        200,
        "another user's grant is untouched"
    );
    let revoked: Vec<bool> = issuer.grants().iter().map(|g| g.revoked).collect();
    assert_eq!(revoked, vec![true, true, false]);
    assert!(issuer.grants().iter().all(|g| !g.revoked_by_reuse));
    assert_eq!(issuer.revoke_grants("ada"), 0, "nothing left to revoke");
    // A later login works.
    let again = first_refresh_token(&issuer).await;
    assert_eq!(refresh(&issuer, &again).await.0, 200);
}
