//! JWT access tokens ([`AccessTokenFormat::Jwt`](super::AccessTokenFormat::Jwt)): the JWT
//! profile of RFC 9068 with Keycloak's `realm_access.roles`, so that an app can read claims
//! from the access token.

use rocket::serde::json::serde_json::{json, Value};

use super::directory::{DevClient, DevUser};
use super::faults::{Fault, Faults};
use super::jwt;
use super::state::{random_token, Grant};

/// The header `typ` (RFC 9068 §2.1).
const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// What a JWT access token is about.
pub(crate) struct AccessTokenInput<'a> {
    pub issuer: &'a str,
    pub client: &'a DevClient,
    pub grant: &'a Grant,
    pub user: &'a DevUser,
    pub scope: &'a [String],
    /// Unix time of issue.
    pub now: u64,
    /// Seconds until `exp`.
    pub lifetime: u64,
}

/// A signed JWT access token. Signed with the current key (so [`Fault::RotatedKey`] applies);
/// the ID-token faults do not touch it, but the claim faults that concern the user's claims
/// ([`Fault::ManyGroups`], [`Fault::GroupOverage`]) do.
pub(crate) fn jwt_access_token(input: &AccessTokenInput<'_>, faults: &Faults) -> String {
    let mut claims = jwt::user_claims(input.user, input.scope, faults);
    // RFC 9068 §2.2; Keycloak's `realm_access.roles`, from the user's groups unless the user's
    // own claims say otherwise.
    claims
        .entry("realm_access")
        .or_insert_with(|| json!({"roles": input.user.groups}));
    let client_id = &input.client.client_id;
    claims.insert("iss".into(), json!(input.issuer));
    claims.insert("sub".into(), json!(input.user.sub));
    claims.insert("aud".into(), json!(client_id));
    claims.insert("azp".into(), json!(client_id));
    claims.insert("client_id".into(), json!(client_id));
    claims.insert("iat".into(), json!(input.now));
    claims.insert("exp".into(), json!(input.now + input.lifetime));
    claims.insert("jti".into(), json!(random_token()));
    claims.insert("scope".into(), json!(input.scope.join(" ")));
    if input.client.backchannel_logout_session_required {
        claims.insert("sid".into(), json!(input.grant.sid));
    }
    let signing = Faults(
        faults
            .0
            .iter()
            .filter(|f| **f == Fault::RotatedKey)
            .cloned()
            .collect(),
    );
    jwt::sign_typed(&Value::Object(claims), None, &signing, ACCESS_TOKEN_TYP)
}
