//! The multi-tenant mode, modelled on Microsoft Entra ID v2.0: discovery at `/common`,
//! `/organizations`, `/consumers` and per-tenant paths, one set of endpoints for all, ID tokens
//! whose `iss` names the user's tenant (`tid`). The module docs describe what is served.

use std::sync::Arc;

use rocket::http::Status;
use rocket::serde::json::serde_json::{json, Value};
use rocket::State;

use super::directory::DevUser;
use super::discovery::{openid_configuration, serve_discovery};
use super::entry::enter;
use super::faults::{Fault, Faults};
use super::options::Tenants;
use super::reply::Reply;
use super::state::Inner;

/// The tenant of users without a `tid` claim when
/// [`DevIssuerBuilder::multi_tenant`](super::DevIssuerBuilder::multi_tenant) is given no other.
/// A made-up GUID (Python's `uuid.uuid4()` on 2026-12-01), like Entra's tenant ids.
pub const DEFAULT_TENANT_ID: &str = "fbf0c628-dc8f-44f4-b9b4-b79ee550e242";

/// The tenant of Entra's personal Microsoft accounts, which `/consumers` stands for: Entra's
/// `/consumers/v2.0/.well-known/openid-configuration` has
/// `issuer: "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"`.
pub const CONSUMERS_TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// The placeholder Entra's `/common` and `/organizations` documents put in their `issuer`.
const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// Gives every user without a string `tid` claim the default tenant, so that the ID token
/// and userinfo carry `tid` as Entra's do.
pub(crate) fn assign(tenants: &Tenants, users: &mut [DevUser]) {
    for user in users {
        if !user.extra.get("tid").is_some_and(Value::is_string) {
            user.extra
                .insert("tid".into(), json!(tenants.default_tenant.clone()));
        }
    }
}

/// `{base}/{tenant}/v2.0`, Entra's v2.0 issuer form.
pub(crate) fn tenant_issuer(base: &str, tenant: &str) -> String {
    format!("{base}/{tenant}/v2.0")
}

/// The routes of this module.
pub(crate) fn routes() -> Vec<rocket::Route> {
    rocket::routes![tenant_discovery]
}

/// In multi-tenant mode, `/.well-known/openid-configuration` (and the RFC 8414 document) is not
/// served, as Entra serves none at its root: a 404 naming the paths that are.
pub(crate) fn root_discovery(inner: &Inner) -> Option<Reply> {
    inner.tenants.as_ref()?;
    Some(Reply::oauth_error(
        Status::NotFound,
        "invalid_tenant",
        "this development issuer is multi-tenant: discover it at /common/v2.0/.well-known/openid-configuration, \
         /organizations/v2.0/…, /consumers/v2.0/… or /{tenant id}/v2.0/…",
    ))
}

/// The RFC 9207 `iss` of authorization responses: the issuer URL, or none in multi-tenant mode,
/// where Entra sends none (its documents do not advertise
/// `authorization_response_iss_parameter_supported`).
pub(crate) fn response_issuer(inner: &Inner) -> Option<&str> {
    match inner.tenants {
        Some(_) => None,
        None => Some(inner.issuer()),
    }
}

/// The `tid` of a user (a string claim in [`DevUser::extra`]).
pub(crate) fn tenant_of(user: &DevUser) -> Option<&str> {
    user.extra.get("tid").and_then(Value::as_str)
}

/// The `iss` of the ID tokens issued to `user`: the issuer URL, or in multi-tenant mode
/// `{issuer URL}/{tid}/v2.0`.
pub(crate) fn id_token_issuer(inner: &Inner, user: &DevUser) -> String {
    match &inner.tenants {
        None => inner.issuer().to_owned(),
        Some(tenants) => {
            let tid = tenant_of(user).unwrap_or(&tenants.default_tenant);
            tenant_issuer(inner.issuer(), tid)
        }
    }
}

/// The `iss` of tokens about the user with `sub` that are not issued to a login (logout
/// tokens): that user's [`id_token_issuer`]; for a `sub` that names no user (or none), the
/// issuer URL, or in multi-tenant mode the default tenant's issuer.
pub(crate) fn subject_issuer(inner: &Inner, users: &[DevUser], sub: Option<&str>) -> String {
    let user = sub.and_then(|sub| users.iter().find(|user| user.sub == sub));
    match (user, &inner.tenants) {
        (Some(user), _) => id_token_issuer(inner, user),
        (None, None) => inner.issuer().to_owned(),
        (None, Some(tenants)) => tenant_issuer(inner.issuer(), &tenants.default_tenant),
    }
}

/// Whether `iss` (a claim of a token this issuer signed) is one of this issuer's identifiers.
pub(crate) fn is_own_issuer(inner: &Inner, iss: Option<&Value>) -> bool {
    let Some(iss) = iss.and_then(Value::as_str) else {
        return false;
    };
    match &inner.tenants {
        None => iss == inner.issuer(),
        Some(_) => iss
            .strip_prefix(inner.issuer())
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|rest| rest.strip_suffix("/v2.0"))
            .is_some_and(|tid| !tid.is_empty() && !tid.contains('/')),
    }
}

/// Entra's per-tenant discovery. `tenant` is `common` or `organizations` (the issuer is the
/// `{tenantid}` template), `consumers` (the issuer of [`CONSUMERS_TENANT_ID`]), or a known tenant
/// id (the default tenant, or any user's `tid`): the issuer is that tenant's. Anything else is
/// Entra's `400 invalid_tenant` (AADSTS90002). Outside multi-tenant mode, 404.
#[rocket::get("/<tenant>/v2.0/.well-known/openid-configuration")]
async fn tenant_discovery(tenant: &str, inner: &State<Arc<Inner>>) -> Reply {
    let faults = enter(inner, |c| &mut c.discovery).await;
    let Some(tenants) = &inner.tenants else {
        return Reply::oauth_error(Status::NotFound, "invalid_request", "Not Found");
    };
    let base = inner.issuer();
    let (issuer, region) = match tenant {
        "common" | "organizations" => (tenant_issuer(base, TENANT_PLACEHOLDER), Value::Null),
        "consumers" => (tenant_issuer(base, CONSUMERS_TENANT_ID), json!("WW")),
        tid => {
            let known = tid == tenants.default_tenant
                || tid == CONSUMERS_TENANT_ID
                || inner
                    .lock()
                    .users
                    .iter()
                    .any(|user| tenant_of(user) == Some(tid));
            if !known {
                return Reply::oauth_error(
                    Status::BadRequest,
                    "invalid_tenant",
                    &format!(
                        "AADSTS90002: Tenant '{tid}' not found. The known tenants are the default \
                         tenant and the `tid` of each user."
                    ),
                );
            }
            (tenant_issuer(base, tid), json!("WW"))
        }
    };
    serve_discovery(&faults, tenant_document(base, &issuer, region, &faults))
}

/// The issuer's OpenID document as Entra shapes it for one tenant path.
fn tenant_document(base: &str, issuer: &str, region: Value, faults: &Faults) -> Value {
    let mut document = openid_configuration(base, faults);
    let Value::Object(fields) = &mut document else {
        return document;
    };
    let issuer = if faults.has(&Fault::DiscoveryWrongIssuer) {
        format!("{issuer}/other")
    } else {
        issuer.to_owned()
    };
    fields.insert("issuer".into(), json!(issuer));
    // Entra sends no RFC 9207 `iss` and has no RFC 7009 revocation endpoint.
    for name in [
        "authorization_response_iss_parameter_supported",
        "revocation_endpoint",
        "revocation_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_signing_alg_values_supported",
    ] {
        fields.remove(name);
    }
    if let Some(Value::Array(claims)) = fields.get_mut("claims_supported") {
        claims.push(json!("tid"));
    }
    fields.insert("tenant_region_scope".into(), region);
    fields.insert("cloud_instance_name".into(), json!("microsoftonline.com"));
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_without_a_tenant_get_the_default_one() {
        let tenants = Tenants {
            default_tenant: "t-default".into(),
        };
        let mut users = vec![DevUser::new("a", "a"), DevUser::new("b", "b")];
        users[1].extra.insert("tid".into(), json!("t-other"));
        assign(&tenants, &mut users);
        assert_eq!(tenant_of(&users[0]), Some("t-default"));
        assert_eq!(tenant_of(&users[1]), Some("t-other"));
    }

    #[test]
    fn tenant_documents_look_like_entra() {
        let document = tenant_document(
            "http://127.0.0.1:1",
            "http://127.0.0.1:1/{tenantid}/v2.0",
            Value::Null,
            &Faults::default(),
        );
        assert_eq!(document["issuer"], "http://127.0.0.1:1/{tenantid}/v2.0");
        assert_eq!(document["token_endpoint"], "http://127.0.0.1:1/token");
        assert!(document.get("revocation_endpoint").is_none());
        assert!(document
            .get("authorization_response_iss_parameter_supported")
            .is_none());
        assert_eq!(document["tenant_region_scope"], Value::Null);
        assert!(document["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("tid")));
    }
}
