//! What the issuer publishes about itself besides the OpenID discovery document: the RFC 8414
//! authorization server metadata, the redirects of [`Fault::DiscoveryRedirect`], and the faults
//! that make the metadata and the JWKS look like real providers' (issue 12, items 8 and 9).

use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rocket::http::Status;
use rocket::serde::json::serde_json::{json, Value};
use rocket::State;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPublicKey;
use sha2::{Digest, Sha256};

use super::discovery::{openid_configuration, serve_discovery};
use super::entry::enter;
use super::faults::{Fault, Faults};
use super::reply::Reply;
use super::state::Inner;
use super::tenants;

/// The RSA encryption key of [`Fault::JwksEncryptionKeys`]: the public half of an RSA-2048 key
/// generated with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 | openssl pkey
/// -pubout` on 2026-12-01, development only (its private half was not kept).
const ENCRYPTION_KEY_PEM: &str = include_str!("keys/dev-encryption-key-public.pem");

/// The X25519 public key of [`Fault::JwksEncryptionKeys`], base64url: the last 32 bytes of the
/// DER `SubjectPublicKeyInfo` of `openssl genpkey -algorithm X25519 | openssl pkey -pubout
/// -outform DER`, generated on 2026-12-01, development only (its private half was not kept).
const X25519_PUBLIC_KEY: &str = "BA5dUluOGDb32nfOSIdzjmfGxImSlpqvR9W3sHK6s0M";

/// Members of the OpenID document that RFC 8414 does not define and the RFC 8414 document
/// leaves out (OpenID Connect Discovery 1.0 §3 only).
const OPENID_ONLY: &[&str] = &[
    "userinfo_endpoint",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "claims_supported",
    "claims_parameter_supported",
];

/// Faults that corrupt only the OpenID discovery document, not the RFC 8414 one.
fn discovery_only(fault: &Fault) -> bool {
    matches!(
        fault,
        Fault::DiscoveryWrongIssuer
            | Fault::DiscoveryMissingJwksUri
            | Fault::DiscoveryMissingTokenEndpoint
            | Fault::DiscoveryMissingRevocationEndpoint
    )
}

/// The routes of this module.
pub(crate) fn routes() -> Vec<rocket::Route> {
    rocket::routes![authorization_server_metadata, moved_discovery]
}

/// RFC 8414 §3: the authorization server metadata. The same endpoints and capabilities as the
/// OpenID document, without the OpenID-only members; the discovery-document faults
/// ([`Fault::DiscoveryMissingRevocationEndpoint`] and the other `Discovery*` document faults) do
/// not apply to it, the capability faults ([`Fault::ClientSecretPostOnly`]) do.
#[rocket::get("/.well-known/oauth-authorization-server")]
async fn authorization_server_metadata(inner: &State<Arc<Inner>>) -> Reply {
    let faults = enter(inner, |c| &mut c.authorization_server_metadata).await;
    if let Some(reply) = tenants::root_discovery(inner) {
        return reply;
    }
    Reply::json(
        Status::Ok,
        &authorization_server_document(inner.issuer(), &faults),
    )
}

/// The RFC 8414 document under `faults`.
pub(crate) fn authorization_server_document(issuer: &str, faults: &Faults) -> Value {
    let capabilities = Faults(
        faults
            .0
            .iter()
            .filter(|fault| !discovery_only(fault))
            .cloned()
            .collect(),
    );
    let mut document = openid_configuration(issuer, &capabilities);
    if let Value::Object(fields) = &mut document {
        for name in OPENID_ONLY {
            fields.remove(*name);
        }
    }
    document
}

/// The path of redirect hop `hop` (a number, or `loop`).
fn moved_url(issuer: &str, hop: &str) -> String {
    format!("{issuer}/moved/{hop}/openid-configuration")
}

/// A redirect with an absolute `Location`; a `status` outside 300–399 is sent as 302.
fn redirect(status: u16, location: String) -> Reply {
    let status = if (300..=399).contains(&status) {
        status
    } else {
        302
    };
    Reply::html(Status::new(status), String::new())
        .header("Location", location)
        .no_store()
}

/// The answer of `/.well-known/openid-configuration` under the redirect faults, if one is on.
pub(crate) fn discovery_redirect(issuer: &str, faults: &Faults) -> Option<Reply> {
    match faults.discovery_redirect()? {
        Fault::DiscoveryRedirect { status, .. } => Some(redirect(*status, moved_url(issuer, "1"))),
        Fault::DiscoveryRedirectLoop { status } => {
            Some(redirect(*status, moved_url(issuer, "loop")))
        }
        _ => None,
    }
}

/// A hop of [`Fault::DiscoveryRedirect`] or [`Fault::DiscoveryRedirectLoop`]: the next redirect,
/// or the discovery document once the chain ends (or once the fault is off, so that a client
/// following an old redirect still finds the document).
#[rocket::get("/moved/<hop>/openid-configuration")]
async fn moved_discovery(hop: &str, inner: &State<Arc<Inner>>) -> Reply {
    let faults = enter(inner, |c| &mut c.discovery).await;
    let issuer = inner.issuer();
    let next = match (faults.discovery_redirect(), hop) {
        (Some(Fault::DiscoveryRedirectLoop { status }), "loop") => Some((
            *status,
            format!("{issuer}/.well-known/openid-configuration"),
        )),
        (Some(Fault::DiscoveryRedirect { status, hops }), hop) => match hop.parse::<u8>() {
            Ok(n) if n < (*hops).max(1) => Some((*status, moved_url(issuer, &(n + 1).to_string()))),
            Ok(_) => None,
            Err(_) => {
                return Reply::oauth_error(Status::NotFound, "invalid_request", "no such hop")
            }
        },
        _ => None,
    };
    match next {
        Some((status, location)) => redirect(status, location),
        None => serve_discovery(&faults, openid_configuration(issuer, &faults)),
    }
}

/// The RSA encryption JWK and the X25519 JWK of [`Fault::JwksEncryptionKeys`], built once.
fn encryption_keys() -> &'static [Value; 2] {
    static KEYS: OnceLock<[Value; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        // A compile-time fixture, checked by a unit test: failing here is a bug in the crate.
        let rsa = RsaPublicKey::from_public_key_pem(ENCRYPTION_KEY_PEM)
            .expect("the encryption key fixture is SPKI PEM");
        let n = URL_SAFE_NO_PAD.encode(rsa.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(rsa.e().to_bytes_be());
        // RFC 7638 §3.2 (RSA) and RFC 8037 §2 (OKP): required members, sorted, no whitespace.
        let rsa_kid = thumbprint(&format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#));
        let okp_kid = thumbprint(&format!(
            r#"{{"crv":"X25519","kty":"OKP","x":"{X25519_PUBLIC_KEY}"}}"#
        ));
        [
            json!({"kty": "RSA", "use": "enc", "alg": "RSA-OAEP", "kid": rsa_kid, "n": n, "e": e}),
            json!({"kty": "OKP", "crv": "X25519", "kid": okp_kid, "x": X25519_PUBLIC_KEY}),
        ]
    })
}

fn thumbprint(members: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(members.as_bytes()))
}

/// Changes the JWK Set as the JWKS faults say.
pub(crate) fn apply_jwks_faults(document: &mut Value, faults: &Faults) {
    let Some(keys) = document.get_mut("keys").and_then(Value::as_array_mut) else {
        return;
    };
    if faults.has(&Fault::JwksKeyWithoutUseAndAlg) {
        for key in keys.iter_mut().filter_map(Value::as_object_mut) {
            key.remove("use");
            key.remove("alg");
        }
    }
    if faults.has(&Fault::JwksEncryptionKeys) {
        keys.extend(encryption_keys().iter().cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encryption_keys_are_real_and_distinct() {
        let [rsa, okp] = encryption_keys();
        assert_eq!(rsa["e"], "AQAB");
        // 2048 bits: 256 bytes, 342 base64url characters.
        assert_eq!(rsa["n"].as_str().unwrap().len(), 342);
        assert_eq!(URL_SAFE_NO_PAD.decode(X25519_PUBLIC_KEY).unwrap().len(), 32);
        assert_ne!(rsa["kid"], okp["kid"]);
        assert_eq!(rsa["kid"].as_str().unwrap().len(), 43);
    }

    #[test]
    fn post_only_and_missing_revocation_change_only_their_members() {
        let faults = Faults(vec![
            Fault::ClientSecretPostOnly,
            Fault::DiscoveryMissingRevocationEndpoint,
        ]);
        let discovery = openid_configuration("http://127.0.0.1:1", &faults);
        assert_eq!(
            discovery["token_endpoint_auth_methods_supported"],
            json!(["client_secret_post"])
        );
        assert!(discovery.get("revocation_endpoint").is_none());
        assert!(discovery
            .get("revocation_endpoint_auth_methods_supported")
            .is_none());
        assert!(discovery
            .get("token_endpoint_auth_signing_alg_values_supported")
            .is_none());
        let rfc8414 = authorization_server_document("http://127.0.0.1:1", &faults);
        assert_eq!(rfc8414["revocation_endpoint"], "http://127.0.0.1:1/revoke");
        assert_eq!(
            rfc8414["revocation_endpoint_auth_methods_supported"],
            json!(["client_secret_post"])
        );
        assert!(rfc8414.get("userinfo_endpoint").is_none());
    }
}
