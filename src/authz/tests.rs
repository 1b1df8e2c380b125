//! The rules on claims, one case at a time, on user contexts built from fixed tokens.

use rocket::serde::json::serde_json::{json, Value};

use super::*;
use crate::claims::tests::{jwt, user};
use crate::claims::{ClaimSource, ClaimsError};
use crate::user::UserContext;

fn with_claims(claims: Value) -> UserContext {
    user(claims, json!({}), None)
}

fn with_access_token(access: Value) -> UserContext {
    user(json!({}), json!({}), Some(jwt(access)))
}

#[test]
fn group_is_met_by_membership_only() {
    let ada = with_claims(json!({"groups": ["admins", "engineering"]}));
    assert_eq!(Rule::group("admins").check(&ada), Ok(true));
    assert_eq!(Rule::group("navy").check(&ada), Ok(false));
    assert_eq!(
        Rule::group("admins").check(&with_claims(json!({}))),
        Ok(false)
    );
    // A provider sending a single group bare.
    let single = with_claims(json!({"groups": "admins"}));
    assert_eq!(Rule::group("admins").check(&single), Ok(true));
}

#[test]
fn group_of_the_wrong_shape_is_an_error_naming_the_claim() {
    let odd = with_claims(json!({"groups": {"admins": true}}));
    let e = Rule::group("admins").check(&odd).unwrap_err();
    assert_eq!(e.claim(), Some("groups"));
    assert_eq!(e.code(), "invalid_claim");
}

#[test]
fn group_overage_is_an_error_not_a_refusal() {
    let entra = with_claims(json!({
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}
    }));
    let e = Rule::group("admins").check(&entra).unwrap_err();
    assert!(
        matches!(e, ClaimsError::Distributed { ref claim, .. } if claim == "groups"),
        "{e:?}"
    );
}

#[test]
fn keycloak_realm_roles_are_read_from_the_access_token() {
    let u = with_access_token(json!({"realm_access": {"roles": ["admin", "user"]}}));
    assert_eq!(Rule::role("admin").check(&u), Ok(true));
    assert_eq!(Rule::role("auditor").check(&u), Ok(false));
    assert_eq!(
        Rule::role("admin")
            .from_source(ClaimSource::UserInfo)
            .check(&u),
        Ok(false),
        "not in the ID token"
    );
}

#[test]
fn keycloak_client_roles_are_read_from_resource_access() {
    let u = with_access_token(
        json!({"resource_access": {"my-app": {"roles": ["editor"]}, "other": {"roles": ["root"]}}}),
    );
    assert_eq!(Rule::client_role("my-app", "editor").check(&u), Ok(true));
    assert_eq!(Rule::client_role("my-app", "root").check(&u), Ok(false));
}

#[test]
fn roles_of_the_user_claims_count_when_the_access_token_is_opaque() {
    // Entra app roles arrive in the ID token; the access token is for Graph and opaque here.
    let u = user(
        json!({"roles": ["Reports.Reader"]}),
        json!({}),
        Some("opaque-access-token".into()),
    );
    assert_eq!(Rule::role("Reports.Reader").check(&u), Ok(true));
    let e = Rule::role("Reports.Reader")
        .from_source(ClaimSource::AccessToken)
        .check(&u)
        .unwrap_err();
    assert_eq!(e.code(), "claims_unavailable");
}

#[test]
fn scope_reads_scope_or_scp_of_the_access_token() {
    let rfc9068 = with_access_token(json!({"scope": "openid profile reports:read"}));
    assert_eq!(Rule::scope("reports:read").check(&rfc9068), Ok(true));
    assert_eq!(Rule::scope("reports").check(&rfc9068), Ok(false));
    let okta = with_access_token(json!({"scp": ["openid", "reports:read"]}));
    assert_eq!(Rule::scope("reports:read").check(&okta), Ok(true));
    let entra = with_access_token(json!({"scp": "User.Read Reports.Read"}));
    assert_eq!(Rule::scope("Reports.Read").check(&entra), Ok(true));
    let opaque = user(json!({}), json!({}), Some("opaque".into()));
    assert_eq!(
        Rule::scope("x").check(&opaque).unwrap_err().source(),
        ClaimSource::AccessToken
    );
}

#[test]
fn claim_equals_and_includes_follow_paths_and_keep_dotted_names_whole() {
    let u = with_claims(json!({
        "tenant": {"id": "acme"},
        "https://example.com/roles": ["billing"],
        "level": 3
    }));
    assert_eq!(
        Rule::claim_equals(["tenant", "id"], "acme").check(&u),
        Ok(true)
    );
    assert_eq!(
        Rule::claim_equals(["tenant", "id"], "other").check(&u),
        Ok(false)
    );
    assert_eq!(Rule::claim_equals("level", 3).check(&u), Ok(true));
    assert_eq!(
        Rule::claim_equals("level", "3").check(&u),
        Ok(false),
        "JSON types differ"
    );
    assert_eq!(
        Rule::claim_includes("https://example.com/roles", "billing").check(&u),
        Ok(true)
    );
    assert_eq!(Rule::claim_includes("absent", "x").check(&u), Ok(false));
    assert!(Rule::claim_includes("tenant", "acme").check(&u).is_err());
}

#[test]
fn claims_of_the_id_token_include_protocol_claims() {
    let u = with_claims(json!({"amr": ["pwd", "otp"]}));
    let mfa = Rule::claim_includes("amr", "otp");
    assert_eq!(mfa.clone().check(&u), Ok(false), "amr is no user claim");
    assert_eq!(mfa.from_source(ClaimSource::IdToken).check(&u), Ok(true));
}

#[test]
fn email_verified_accepts_true_and_the_string_true() {
    assert_eq!(
        Rule::email_verified().check(&with_claims(json!({"email_verified": true}))),
        Ok(true)
    );
    assert_eq!(
        Rule::email_verified().check(&with_claims(json!({"email_verified": "true"}))),
        Ok(true)
    );
    assert_eq!(
        Rule::email_verified().check(&with_claims(json!({"email_verified": false}))),
        Ok(false)
    );
    assert_eq!(
        Rule::email_verified().check(&with_claims(json!({}))),
        Ok(false)
    );
    let odd = Rule::email_verified()
        .check(&with_claims(json!({"email_verified": "yes"})))
        .unwrap_err();
    assert_eq!(odd.claim(), Some("email_verified"));
}

#[test]
fn combinations_use_three_valued_logic() {
    let overage = with_claims(json!({
        "_claim_names": {"groups": "src1"},
        "roles": ["admin"],
        "email_verified": true
    }));
    let group = Rule::group("admins");
    let role = Rule::role("admin");
    let never = Rule::custom("never", |_| Ok(false));
    assert_eq!(group.clone().or(role.clone()).check(&overage), Ok(true));
    assert_eq!(group.clone().and(never.clone()).check(&overage), Ok(false));
    assert!(group.clone().and(role.clone()).check(&overage).is_err());
    assert!(group.clone().or(never).check(&overage).is_err());
    assert_eq!(Rule::all([]).check(&overage), Ok(true));
    assert_eq!(Rule::any([]).check(&overage), Ok(false));
}

#[test]
fn custom_rules_read_typed_claims_and_pass_their_errors_on() {
    #[derive(serde::Deserialize)]
    #[serde(crate = "rocket::serde")]
    struct Tenant {
        tenant: String,
    }
    impl crate::Claims for Tenant {}
    let acme = Rule::custom(
        "tenant acme",
        |u| Ok(u.claims::<Tenant>()?.tenant == "acme"),
    );
    assert_eq!(
        acme.check(&with_claims(json!({"tenant": "acme"}))),
        Ok(true)
    );
    assert_eq!(
        acme.check(&with_claims(json!({"tenant": "evil"}))),
        Ok(false)
    );
    assert_eq!(
        acme.check(&with_claims(json!({}))).unwrap_err().code(),
        "missing_claim"
    );
}

#[test]
fn rules_describe_themselves_for_the_log() {
    let rule = Rule::group("editors")
        .or(Rule::role("editor"))
        .and(Rule::email_verified())
        .and(Rule::scope("docs:write"))
        .and(Rule::claim_equals(["tenant", "id"], "acme").from_source(ClaimSource::AccessToken));
    assert_eq!(
        rule.to_string(),
        "(group `editors` or role `editor`) and a verified email and scope `docs:write` and \
         claim `tenant.id` = \"acme\" in the access token"
    );
    assert_eq!(
        Rule::client_role("app", "x").to_string(),
        "role `x` of client `app`"
    );
}

#[test]
fn rules_know_when_they_cannot_work_without_the_access_token() {
    let at = ClaimSource::AccessToken;
    assert!(Rule::scope("x").needs(at));
    assert!(
        !Rule::role("x").needs(at),
        "falls back to the user's claims"
    );
    assert!(Rule::role("x").from_source(at).needs(at));
    assert!(Rule::group("a").and(Rule::scope("x")).needs(at));
    assert!(!Rule::group("a").or(Rule::scope("x")).needs(at));
    assert!(!Rule::group("a").needs(at));
}

crate::requirement! {
    /// For the name test.
    Staff = Rule::group("staff");
}

struct Handwritten;
impl Requirement for Handwritten {
    fn rule() -> Rule {
        Rule::email_verified()
    }
}

#[test]
fn requirements_are_named_by_their_type() {
    assert_eq!(Staff::name(), "Staff");
    assert_eq!(Staff::rule().to_string(), "group `staff`");
    assert_eq!(Handwritten::name(), "Handwritten");
    assert_eq!(EmailVerified::name(), "EmailVerified");
}
