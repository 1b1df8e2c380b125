use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::serde::json::serde_json::json;
use serde::Deserialize;

use super::*;
use crate::config::Config;
use crate::session::{SessionBinding, SessionData};
use crate::user::bound_user_context;

/// A compact JWS with this payload and a signature nobody checks here (as the session holds it).
pub(crate) fn jwt(payload: Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k"}"#);
    let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
    format!("{header}.{payload}.c2ln")
}

fn config() -> Config {
    Config {
        issuer: "https://op.example".into(),
        client_id: "app".into(),
        ..Config::default()
    }
}

/// A user context whose ID token carries `id_claims` (with `iss`, `aud`, `sub` added), whose
/// userinfo added `userinfo`, and with `access_token`.
pub(crate) fn user(id_claims: Value, userinfo: Value, access_token: Option<String>) -> UserContext {
    let mut payload =
        json!({"iss": "https://op.example", "aud": "app", "sub": "ada", "acr": "mfa"});
    for (k, v) in id_claims.as_object().unwrap() {
        payload[k] = v.clone();
    }
    let data = SessionData {
        id_token: jwt(payload),
        access_token,
        access_expires_at: None,
        refresh_token: None,
        userinfo_extra: userinfo.as_object().unwrap().clone(),
        session_id: None,
        created: 1_700_000_000,
        seen: 1_700_000_000,
        nonce: None,
        provider: None,
        app_data: None,
    };
    bound_user_context(&SessionBinding::of(&config()), &data).unwrap()
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(crate = "rocket::serde")]
struct Membership {
    #[serde(default)]
    groups: Vec<String>,
    tenant: Option<String>,
}
impl Claims for Membership {}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(crate = "rocket::serde")]
struct RealmRoles {
    realm_access: RealmAccess,
}
#[derive(Debug, Deserialize, PartialEq)]
#[serde(crate = "rocket::serde")]
struct RealmAccess {
    roles: Vec<String>,
}
impl Claims for RealmRoles {
    const SOURCE: ClaimSource = ClaimSource::AccessToken;
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(crate = "rocket::serde")]
struct Authentication {
    acr: String,
    email: Option<String>,
}
impl Claims for Authentication {
    const SOURCE: ClaimSource = ClaimSource::IdToken;
}

#[test]
fn typed_claims_come_from_the_user_claims_by_default() {
    let u = user(
        json!({"groups": ["admins"], "tenant": "old"}),
        json!({"tenant": "acme"}),
        None,
    );
    let m = u.claims::<Membership>().unwrap();
    assert_eq!(
        *m,
        Membership {
            groups: vec!["admins".into()],
            tenant: Some("acme".into()),
        },
        "userinfo wins over the ID token"
    );
}

#[test]
fn id_token_claims_include_protocol_claims_and_exclude_userinfo() {
    let u = user(json!({}), json!({"email": "ada@example.com"}), None);
    let a = u.claims::<Authentication>().unwrap();
    assert_eq!(a.acr, "mfa");
    assert_eq!(a.email, None, "userinfo's claim is not the ID token's");
    assert_eq!(
        u.claims_in(ClaimSource::UserInfo).unwrap().get("email"),
        Some(&json!("ada@example.com"))
    );
    assert!(u
        .claims_in(ClaimSource::UserInfo)
        .unwrap()
        .get("acr")
        .is_none());
}

#[test]
fn access_token_claims_are_read_from_a_jwt_access_token() {
    let token = jwt(json!({"sub": "ada", "realm_access": {"roles": ["admin", "user"]}}));
    let u = user(json!({}), json!({}), Some(token));
    assert_eq!(
        u.claims::<RealmRoles>().unwrap().realm_access.roles,
        ["admin", "user"]
    );
}

#[test]
fn an_opaque_or_absent_access_token_is_unavailable_with_what_to_change() {
    let opaque = user(json!({}), json!({}), Some("2YotnFZFEjr1zCsicMWpAA".into()));
    let e = opaque.claims::<RealmRoles>().unwrap_err();
    assert_eq!(e.source(), ClaimSource::AccessToken);
    assert_eq!(e.code(), "claims_unavailable");
    assert!(e.to_string().contains("is not a JWT"), "{e}");
    let none = user(json!({}), json!({}), None);
    let e = none.claims::<RealmRoles>().unwrap_err();
    assert!(e.to_string().contains("oidc.keep_access_token"), "{e}");
    let jwe = user(json!({}), json!({}), Some("a.b.c.d.e".into()));
    assert!(jwe
        .claims::<RealmRoles>()
        .unwrap_err()
        .to_string()
        .contains("encrypted"));
}

#[test]
fn a_claim_of_the_wrong_shape_names_the_claim() {
    let u = user(json!({"groups": "admins"}), json!({}), None);
    let e = u.claims::<Membership>().unwrap_err();
    assert_eq!(e.claim(), Some("groups"));
    assert_eq!(e.code(), "invalid_claim");
    let text = e.to_string();
    assert!(text.contains("claim `groups`"), "{text}");
    assert!(text.contains("expected a sequence"), "{text}");

    let token = jwt(json!({"realm_access": {"roles": ["admin", 5]}}));
    let u = user(json!({}), json!({}), Some(token));
    let e = u.claims::<RealmRoles>().unwrap_err();
    assert_eq!(
        e,
        ClaimsError::Invalid {
            source: ClaimSource::AccessToken,
            claim: "realm_access.roles[1]".into(),
            reason: "invalid type: integer `5`, expected a string".into(),
        }
    );
}

#[test]
fn a_missing_required_claim_is_named_with_its_path() {
    let token = jwt(json!({"realm_access": {}}));
    let u = user(json!({}), json!({}), Some(token));
    assert_eq!(
        u.claims::<RealmRoles>().unwrap_err(),
        ClaimsError::Missing {
            source: ClaimSource::AccessToken,
            claim: "realm_access.roles".into()
        }
    );
    let u = user(json!({}), json!({}), Some(jwt(json!({}))));
    assert_eq!(
        u.claims::<RealmRoles>().unwrap_err().claim(),
        Some("realm_access")
    );
}

#[test]
fn entra_group_overage_is_a_distributed_claim_error_not_an_empty_list() {
    // What Entra ID sends for a user in more than 200 groups.
    let u = user(
        json!({
            "_claim_names": {"groups": "src1"},
            "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/ada/getMemberObjects"}}
        }),
        json!({}),
        None,
    );
    let e = u.claims::<Membership>().unwrap_err();
    assert_eq!(
        e,
        ClaimsError::Distributed {
            source: ClaimSource::UserInfo,
            claim: "groups".into(),
            endpoint: Some("https://graph.microsoft.com/v1.0/users/ada/getMemberObjects".into()),
        }
    );
    assert!(e.to_string().contains("group overage"), "{e}");
    // A type that does not ask for the claim is not affected.
    assert!(u.claims::<Authentication>().is_ok());
}

#[test]
fn claims_are_decoded_once_and_shared_by_clones() {
    let u = user(json!({"groups": ["a"]}), json!({}), None);
    let first = u.claims::<Membership>().unwrap();
    let clone = u.clone();
    let again = clone.claims::<Membership>().unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    assert!(Arc::ptr_eq(
        &u.claims_in(ClaimSource::UserInfo).unwrap(),
        &clone.claims_in(ClaimSource::UserInfo).unwrap()
    ));
}

#[test]
fn app_data_is_none_until_the_hook_stores_some() {
    let u = user(json!({}), json!({}), None);
    assert_eq!(u.app_data::<Membership>().unwrap(), None);
    let e = u.claims_in(ClaimSource::AppData).unwrap_err();
    assert_eq!(e.code(), "claims_unavailable");
}

#[test]
fn struct_fields_are_found_for_structs_only() {
    assert_eq!(
        decode::struct_fields::<Membership>(),
        Some(&["groups", "tenant"][..])
    );
    assert_eq!(decode::struct_fields::<Map<String, Value>>(), None);
    assert_eq!(decode::struct_fields::<Vec<String>>(), None);
}
