//! The OpenID Provider Metadata document (OpenID Connect Discovery 1.0 §3) and the discovery
//! response, under the document and response faults. Shared by the root discovery endpoint, the
//! redirect hops and the RFC 8414 document (metadata.rs) and the tenant documents (tenants.rs),
//! so that all of them publish one document with one set of faults.

use rocket::http::Status;
use rocket::serde::json::serde_json::{json, Value};

use super::client_keys::ASSERTION_ALGS;
use super::faults::{Fault, Faults};
use super::reply::{page, Reply};

/// The scopes the issuer knows; others are ignored (RFC 6749 §3.3 lets a server narrow scopes).
pub(crate) const SCOPES: &[&str] = &["openid", "profile", "email", "groups", "offline_access"];

/// Answers a discovery request with `document`, or as the discovery response faults say.
pub(crate) fn serve_discovery(faults: &Faults, document: Value) -> Reply {
    if faults.has(&Fault::DiscoveryServerError) {
        return Reply::server_error();
    }
    if faults.has(&Fault::DiscoveryNotJson) {
        return Reply::html(Status::Ok, page("Welcome", "<p>This is not JSON.</p>"));
    }
    match faults.huge_discovery() {
        Some(mb) => Reply::padded_json(&document, mb),
        None => Reply::json(Status::Ok, &document),
    }
}

/// The OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3) of the issuer at `issuer`,
/// with the document faults applied.
pub(crate) fn openid_configuration(issuer: &str, faults: &Faults) -> Value {
    let mut document = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "end_session_endpoint": format!("{issuer}/end_session"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": SCOPES,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "name",
            "given_name", "family_name", "preferred_username", "email", "email_verified", "groups", "sid"
        ],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    });
    if let Value::Object(fields) = &mut document {
        if faults.has(&Fault::DiscoveryWrongIssuer) {
            fields.insert("issuer".into(), json!(format!("{issuer}/other")));
        }
        if faults.has(&Fault::DiscoveryMissingJwksUri) {
            fields.remove("jwks_uri");
        }
        if faults.has(&Fault::DiscoveryMissingTokenEndpoint) {
            fields.remove("token_endpoint");
        }
        if faults.has(&Fault::NoEndSessionEndpoint) {
            fields.remove("end_session_endpoint");
        }
        if faults.has(&Fault::ImplicitOnly) {
            fields.remove("token_endpoint");
            fields.insert(
                "response_types_supported".into(),
                json!(["id_token", "token id_token"]),
            );
        }
    }
    apply_document_faults(&mut document, faults);
    document
}

/// Changes the OpenID document (and, through it, the RFC 8414 one) as the metadata faults say.
fn apply_document_faults(document: &mut Value, faults: &Faults) {
    let Value::Object(fields) = document else {
        return;
    };
    if faults.has(&Fault::DiscoveryMissingRevocationEndpoint) {
        fields.remove("revocation_endpoint");
        fields.remove("revocation_endpoint_auth_methods_supported");
        fields.remove("revocation_endpoint_auth_signing_alg_values_supported");
    }
    if faults.has(&Fault::ClientSecretPostOnly) {
        for (methods, algs) in [
            (
                "token_endpoint_auth_methods_supported",
                "token_endpoint_auth_signing_alg_values_supported",
            ),
            (
                "revocation_endpoint_auth_methods_supported",
                "revocation_endpoint_auth_signing_alg_values_supported",
            ),
        ] {
            if fields.contains_key(methods) {
                fields.insert(methods.into(), json!(["client_secret_post"]));
            }
            fields.remove(algs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_advertises_every_capability() {
        let document = openid_configuration("http://127.0.0.1:1", &Faults::default());
        assert_eq!(document["backchannel_logout_supported"], json!(true));
        assert_eq!(
            document["backchannel_logout_session_supported"],
            json!(true)
        );
        assert_eq!(
            document["response_modes_supported"],
            json!(["query", "form_post"])
        );
        assert_eq!(
            document["token_endpoint_auth_methods_supported"],
            json!([
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
                "none"
            ])
        );
        assert_eq!(
            document["token_endpoint_auth_signing_alg_values_supported"],
            json!(["RS256", "PS256", "ES256"])
        );
        assert_eq!(document["revocation_endpoint"], "http://127.0.0.1:1/revoke");
    }
}
