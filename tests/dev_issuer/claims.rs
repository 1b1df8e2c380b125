//! Claims for authorization tests: JWT access tokens with Keycloak-style roles, nested claims
//! from `DevUser::extra`, and Entra's group overage.

use std::time::Duration;

use openidconnect::OAuth2TokenResponse;
use rocket::serde::json::serde_json::{json, Map, Value};
use rocket_openid_connect::dev_issuer::{
    AccessTokenFormat, DevClient, DevIssuer, DevUser, Fault, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
};

use crate::*;

/// Userinfo's claims for `access_token`.
async fn userinfo(issuer: &DevIssuer, access_token: &str) -> Map<String, Value> {
    let response = http()
        .get(format!("{}/userinfo", issuer.issuer_url()))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A code exchanged by hand for `scopes`, with auto-login as `username`: the raw token response.
async fn tokens_for(issuer: &DevIssuer, username: &str, scopes: &[&str]) -> Value {
    issuer.set_auto_login(Some(username));
    let client = default_client(discover(issuer).await.unwrap());
    let request = authorization_request(&client, scopes);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    http()
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
        .unwrap()
}

fn text<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {body}"))
}

#[rocket::async_test]
async fn jwt_access_tokens_carry_roles_scope_and_audience() {
    let issuer = DevIssuer::builder()
        .access_token_format(AccessTokenFormat::Jwt)
        .access_token_lifetime(Duration::from_secs(300))
        .start()
        .await
        .unwrap();
    // A strict client accepts it all: at_hash over the JWT, userinfo with it as Bearer.
    let login = strict_login(&issuer).await.unwrap();
    let access = login.tokens.access_token().secret().clone();
    assert!(signature_verifies(&access, &jwks(&issuer).await));
    let (header, claims) = decode(&access);
    assert_eq!(
        (header["alg"].as_str(), header["typ"].as_str()),
        (Some("RS256"), Some("at+jwt"))
    );
    assert_eq!(claims["iss"], issuer.issuer_url());
    assert_eq!(claims["sub"], "ada-lovelace-1815");
    for audience in ["aud", "azp", "client_id"] {
        assert_eq!(claims[audience], DEFAULT_CLIENT_ID, "{audience}");
    }
    assert_eq!(claims["scope"], "openid profile email");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    assert_eq!(claims["jti"].as_str().unwrap().len(), 43);
    assert_eq!(
        claims["realm_access"],
        json!({"roles": ["admins", "engineering"]})
    );
    assert_eq!(claims["email"], "ada@example.com");
    assert!(
        !claims.contains_key("groups"),
        "groups only with the groups scope"
    );
    assert!(!claims.contains_key("nonce"));

    let with_groups = tokens_for(&issuer, "grace", &["groups"]).await;
    let (_, claims) = decode(text(&with_groups, "access_token"));
    assert_eq!(claims["groups"], json!(["engineering", "navy"]));
    assert_eq!(
        claims["realm_access"]["roles"],
        json!(["engineering", "navy"])
    );
    assert_eq!(claims["scope"], "openid groups");

    // Revocation and refresh treat it as any access token.
    let revoked = http()
        .post(format!("{}/revoke", issuer.issuer_url()))
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let status = http()
        .get(format!("{}/userinfo", issuer.issuer_url()))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    let client = default_client(discover(&issuer).await.unwrap());
    let refreshed = client
        .exchange_refresh_token(login.tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&http())
        .await
        .unwrap();
    let (_, claims) = decode(refreshed.access_token().secret());
    assert_eq!(claims["sub"], "ada-lovelace-1815");
}

#[rocket::async_test]
async fn jwt_access_tokens_carry_sid_for_clients_that_require_it() {
    let issuer = DevIssuer::builder()
        .access_token_format(AccessTokenFormat::Jwt)
        .client(
            DevClient::confidential("needs-sid", "secret")
                .redirect_uri(REDIRECT_URI)
                .backchannel_logout_session_required(true),
        )
        .start()
        .await
        .unwrap();
    issuer.set_auto_login(Some("ada"));
    let client = client(
        discover(&issuer).await.unwrap(),
        "needs-sid",
        Some("secret"),
    );
    let request = authorization_request(&client, &[]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    let tokens = exchange(&client, &code, request.verifier).await.unwrap();
    let (_, claims) = decode(tokens.access_token().secret());
    assert_eq!(
        claims["sid"].as_str(),
        Some(issuer.grants()[0].sid.as_str())
    );
    let default = tokens_for(&issuer, "ada", &[]).await;
    assert!(!decode(text(&default, "access_token")).1.contains_key("sid"));
}

#[rocket::async_test]
async fn nested_extra_claims_reach_every_token_unchanged() {
    let roles = json!({"roles": ["realm-admin", "user"]});
    let resources = json!({"my-app": {"roles": ["editor"]}, "account": {"roles": ["view"]}});
    let mut root = DevUser::new("root-1", "root");
    root.groups = vec!["ops".into()];
    root.extra.insert("realm_access".into(), roles.clone());
    root.extra
        .insert("resource_access".into(), resources.clone());
    root.extra
        .insert("tenant".into(), json!({"id": 7, "tags": ["eu", "paid"]}));
    let issuer = DevIssuer::builder()
        .user(root)
        .access_token_format(AccessTokenFormat::Jwt)
        .start()
        .await
        .unwrap();
    let body = tokens_for(&issuer, "root", &["profile"]).await;
    let access = text(&body, "access_token");
    let id_claims = decode(text(&body, "id_token")).1;
    let userinfo = userinfo(&issuer, access).await;
    let (_, access_claims) = decode(access);
    for (source, claims) in [
        ("ID token", &id_claims),
        ("userinfo", &userinfo),
        ("access token", &access_claims),
    ] {
        assert_eq!(claims["realm_access"], roles, "{source}");
        assert_eq!(claims["resource_access"], resources, "{source}");
        assert_eq!(
            claims["tenant"],
            json!({"id": 7, "tags": ["eu", "paid"]}),
            "{source}"
        );
    }
    // The user's own realm_access wins over the one derived from groups.
    assert_eq!(
        access_claims["realm_access"]["roles"],
        json!(["realm-admin", "user"])
    );
}

#[rocket::async_test]
async fn group_overage_replaces_groups_with_claim_sources() {
    let issuer = DevIssuer::builder()
        .access_token_format(AccessTokenFormat::Jwt)
        .start()
        .await
        .unwrap();
    issuer.set_fault(Fault::GroupOverage);
    let body = tokens_for(&issuer, "ada", &["groups"]).await;
    let access = text(&body, "access_token");
    let expected_sources = json!({"src1": {
        "endpoint": "https://graph.microsoft.com/v1.0/users/ada-lovelace-1815/getMemberObjects"
    }});
    let id_claims = decode(text(&body, "id_token")).1;
    let userinfo = userinfo(&issuer, access).await;
    let (_, access_claims) = decode(access);
    for (source, claims) in [
        ("ID token", &id_claims),
        ("userinfo", &userinfo),
        ("access token", &access_claims),
    ] {
        assert!(!claims.contains_key("groups"), "{source}");
        assert_eq!(
            claims["_claim_names"],
            json!({"groups": "src1"}),
            "{source}"
        );
        assert_eq!(claims["_claim_sources"], expected_sources, "{source}");
    }
    // Whatever the scopes, as Entra does; and only while the fault is on.
    let no_scope = tokens_for(&issuer, "ada", &[]).await;
    assert!(decode(text(&no_scope, "id_token"))
        .1
        .contains_key("_claim_names"));
    issuer.clear_faults();
    let normal = tokens_for(&issuer, "ada", &["groups"]).await;
    let claims = decode(text(&normal, "id_token")).1;
    assert_eq!(claims["groups"], json!(["admins", "engineering"]));
    assert!(!claims.contains_key("_claim_names"));
}
