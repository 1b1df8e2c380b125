//! The Entra-style multi-tenant mode: `/common` and `/organizations` announce the `{tenantid}`
//! template, a tenant's own path its own issuer, ID tokens and JWT access tokens the user's
//! tenant. (Logout tokens in this mode: backchannel.rs.)

use openidconnect::core::CoreProviderMetadata;
use openidconnect::{OAuth2TokenResponse, TokenResponse};
use rocket::serde::json::serde_json::{json, Value};
use rocket_openid_connect::dev_issuer::{
    AccessTokenFormat, DevIssuer, DevUser, CONSUMERS_TENANT_ID, DEFAULT_TENANT_ID,
};

use crate::*;

/// A second tenant, and a user in it.
const OTHER_TENANT: &str = "6a1d96bf-6b6e-4f07-87d6-b25b79c5bc92";

async fn multi_tenant() -> DevIssuer {
    let mut eve = DevUser::new("eve-1", "eve");
    eve.extra.insert("tid".into(), json!(OTHER_TENANT));
    DevIssuer::builder()
        .user(eve)
        .multi_tenant(DEFAULT_TENANT_ID)
        .start()
        .await
        .unwrap()
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = http().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[rocket::async_test]
async fn common_and_organizations_announce_the_tenantid_template() {
    let issuer = multi_tenant().await;
    let base = issuer.issuer_url().to_owned();
    for tenant in ["common", "organizations"] {
        let (status, document) = get_json(&issuer.tenant_discovery_url(tenant)).await;
        assert_eq!(status, 200, "{tenant}");
        assert_eq!(
            document["issuer"],
            json!(format!("{base}/{{tenantid}}/v2.0"))
        );
        assert_eq!(
            issuer.tenant_issuer_url("{tenantid}"),
            document["issuer"].as_str().unwrap()
        );
        // One set of endpoints for every tenant path.
        assert_eq!(
            document["authorization_endpoint"],
            json!(format!("{base}/authorize"))
        );
        assert_eq!(document["token_endpoint"], json!(format!("{base}/token")));
        assert_eq!(document["jwks_uri"], json!(format!("{base}/jwks")));
        // As Entra: no RFC 9207 iss, no revocation endpoint, a null region.
        assert!(document
            .get("authorization_response_iss_parameter_supported")
            .is_none());
        assert!(document.get("revocation_endpoint").is_none());
        assert_eq!(document["tenant_region_scope"], Value::Null);
        // It parses as provider metadata, as a client reading it directly would.
        let metadata: CoreProviderMetadata = rocket::serde::json::from_value(document).unwrap();
        assert_eq!(
            metadata.issuer().as_str(),
            format!("{base}/{{tenantid}}/v2.0")
        );
    }
    assert_eq!(issuer.counters().discovery, 2);
}

#[rocket::async_test]
async fn a_fixed_tenant_has_its_own_issuer_and_consumers_its_fixed_one() {
    let issuer = multi_tenant().await;
    for (tenant, iss) in [
        (DEFAULT_TENANT_ID, DEFAULT_TENANT_ID),
        (OTHER_TENANT, OTHER_TENANT),
        ("consumers", CONSUMERS_TENANT_ID),
        (CONSUMERS_TENANT_ID, CONSUMERS_TENANT_ID),
    ] {
        let (status, document) = get_json(&issuer.tenant_discovery_url(tenant)).await;
        assert_eq!(status, 200, "{tenant}");
        assert_eq!(document["issuer"], json!(issuer.tenant_issuer_url(iss)));
        assert_eq!(document["tenant_region_scope"], "WW");
    }
    // The tenant's discovery URL is its issuer + /.well-known/openid-configuration, so a
    // strict client discovers it by the issuer.
    let url = openidconnect::IssuerUrl::new(issuer.tenant_issuer_url(OTHER_TENANT)).unwrap();
    let metadata = CoreProviderMetadata::discover_async(url, &http())
        .await
        .unwrap();
    assert_eq!(
        metadata.issuer().as_str(),
        issuer.tenant_issuer_url(OTHER_TENANT)
    );
}

#[rocket::async_test]
async fn unknown_tenants_root_and_rfc8414_are_refused() {
    let issuer = multi_tenant().await;
    let (status, body) = get_json(&issuer.tenant_discovery_url("not-a-tenant")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_tenant"))
    );
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS90002: Tenant 'not-a-tenant' not found"));
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let (status, body) = get_json(&format!("{}{path}", issuer.issuer_url())).await;
        assert_eq!(status, 404, "{path}");
        assert!(body["error_description"]
            .as_str()
            .unwrap()
            .contains("/common/v2.0/.well-known/openid-configuration"));
    }
}

#[rocket::async_test]
async fn without_the_mode_there_are_no_tenant_paths() {
    let issuer = DevIssuer::start().await.unwrap();
    let (status, _) = get_json(&issuer.tenant_discovery_url("common")).await;
    assert_eq!(status, 404);
    let (status, _) = get_json(&issuer.tenant_discovery_url(DEFAULT_TENANT_ID)).await;
    assert_eq!(status, 404);
}

/// Logs `username` in with `metadata` and verifies the ID token against its issuer; returns the
/// callback parameters and the raw ID token.
async fn login_as(
    issuer: &DevIssuer,
    metadata: CoreProviderMetadata,
    username: &str,
) -> (Vec<(String, String)>, String) {
    issuer.set_auto_login(Some(username));
    let client = default_client(metadata);
    let request = authorization_request(&client, &["profile"]);
    let callback = login_auto(&request.url).await;
    let code = param(&callback, "code").unwrap().to_owned();
    let tokens = exchange(&client, &code, request.verifier).await.unwrap();
    let id_token = tokens.id_token().unwrap();
    // openidconnect checks iss against the metadata's issuer: the tenant's.
    id_token
        .claims(&client.id_token_verifier(), &request.nonce)
        .unwrap();
    (callback, id_token.to_string())
}

#[rocket::async_test]
async fn id_tokens_carry_the_users_tenant_in_tid_and_iss() {
    let issuer = multi_tenant().await;
    for (username, tid) in [("ada", DEFAULT_TENANT_ID), ("eve", OTHER_TENANT)] {
        let url = openidconnect::IssuerUrl::new(issuer.tenant_issuer_url(tid)).unwrap();
        let metadata = CoreProviderMetadata::discover_async(url, &http())
            .await
            .unwrap();
        let (callback, id_token) = login_as(&issuer, metadata, username).await;
        // Entra sends no RFC 9207 iss in the authorization response.
        assert!(param(&callback, "iss").is_none(), "{callback:?}");
        let (_, claims) = decode(&id_token);
        assert_eq!(claims["tid"], json!(tid));
        assert_eq!(claims["iss"], json!(issuer.tenant_issuer_url(tid)));
        // The issuer's own end_session takes the tenant token as id_token_hint.
        let response = http()
            .get(format!("{}/end_session", issuer.issuer_url()))
            .query(&[
                ("id_token_hint", id_token.as_str()),
                ("post_logout_redirect_uri", "http://localhost:48123/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
    }
}

#[rocket::async_test]
async fn a_common_login_yields_a_token_whose_iss_fills_the_template() {
    let issuer = multi_tenant().await;
    let (_, document) = get_json(&issuer.tenant_discovery_url("common")).await;
    let template = document["issuer"].as_str().unwrap().to_owned();
    // A client that took the /common document as it is: its issuer is the template, so the
    // ID token's iss never equals it; the tenant is the token's tid.
    let metadata: CoreProviderMetadata = rocket::serde::json::from_value(document).unwrap();
    let jwks = openidconnect::core::CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &http())
        .await
        .unwrap();
    let metadata = metadata.set_jwks(jwks);
    let client = default_client(metadata.clone());
    issuer.set_auto_login(Some("eve"));
    let request = authorization_request(&client, &[]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    let tokens = exchange(&client, &code, request.verifier).await.unwrap();
    let id_token = tokens.id_token().unwrap();
    let error = id_token
        .claims(&client.id_token_verifier(), &request.nonce)
        .unwrap_err();
    assert!(format!("{error:?}").contains("InvalidIssuer"), "{error:?}");
    let (_, claims) = decode(&id_token.to_string());
    let tid = claims["tid"].as_str().unwrap();
    assert_eq!(tid, OTHER_TENANT);
    assert_eq!(claims["iss"], json!(template.replace("{tenantid}", tid)));
    // With the template filled in from tid, the token verifies.
    let tenant = openidconnect::IssuerUrl::new(issuer.tenant_issuer_url(tid)).unwrap();
    let client = default_client(metadata.set_issuer(tenant));
    id_token
        .claims(&client.id_token_verifier(), &request.nonce)
        .unwrap();
}

#[rocket::async_test]
async fn jwt_access_tokens_name_the_users_tenant() {
    let mut eve = DevUser::new("eve-1", "eve");
    eve.extra.insert("tid".into(), json!(OTHER_TENANT));
    let issuer = DevIssuer::builder()
        .user(eve)
        .multi_tenant(DEFAULT_TENANT_ID)
        .access_token_format(AccessTokenFormat::Jwt)
        .start()
        .await
        .unwrap();
    let jwks = jwks(&issuer).await;
    for (username, tid) in [("ada", DEFAULT_TENANT_ID), ("eve", OTHER_TENANT)] {
        let url = openidconnect::IssuerUrl::new(issuer.tenant_issuer_url(tid)).unwrap();
        let metadata = CoreProviderMetadata::discover_async(url, &http())
            .await
            .unwrap();
        issuer.set_auto_login(Some(username));
        let client = default_client(metadata);
        let request = authorization_request(&client, &["profile"]);
        let code = param(&login_auto(&request.url).await, "code")
            .unwrap()
            .to_owned();
        let tokens = exchange(&client, &code, request.verifier).await.unwrap();
        let access = tokens.access_token().secret().clone();
        assert!(signature_verifies(&access, &jwks), "{username}");
        let (header, claims) = decode(&access);
        assert_eq!(header["typ"], "at+jwt");
        // As the ID token's, the access token's iss is the user's tenant's, as Entra's v2.0
        // access tokens have.
        assert_eq!(claims["iss"], json!(issuer.tenant_issuer_url(tid)));
        assert_eq!(claims["tid"], json!(tid));
        let id_token = tokens.id_token().unwrap();
        id_token
            .claims(&client.id_token_verifier(), &request.nonce)
            .unwrap();
        assert_eq!(decode(&id_token.to_string()).1["iss"], claims["iss"]);
        // Userinfo takes it as a Bearer token.
        let userinfo = http()
            .get(format!("{}/userinfo", issuer.issuer_url()))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
        assert_eq!(userinfo.status(), 200);
    }
}
