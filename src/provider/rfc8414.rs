//! Endpoints the OpenID discovery document lacks, taken from the provider's OAuth 2.0
//! Authorization Server Metadata (RFC 8414): some providers list `revocation_endpoint` only
//! there, and logout would otherwise revoke nothing (issue 12, item 8). The token endpoint, the
//! JWKS and the end-session endpoint are taken the same way.
//!
//! It is fetched at ignite only when the discovery document lacks one of the endpoints it can
//! supply; every failure is logged at info and leaves the discovery document as it was. A
//! document naming another issuer is ignored (RFC 8414 §3.3).

use serde::Deserialize;

use super::metadata::{lenient_list, ProviderMetadata};
use super::redirect::get_json_following;
use crate::config::Config;
use crate::http::Http;

/// The members of RFC 8414 §2 the crate can use, and `end_session_endpoint`, which OpenID
/// Connect RP-Initiated Logout 1.0 §2.1 registers for this document too.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuthorizationServerMetadata {
    issuer: Option<String>,
    token_endpoint: Option<String>,
    jwks_uri: Option<String>,
    revocation_endpoint: Option<String>,
    end_session_endpoint: Option<String>,
    #[serde(default, deserialize_with = "lenient_list")]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient_list")]
    revocation_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// Whether `metadata` lacks an endpoint RFC 8414 metadata could supply.
pub(crate) fn lacks_endpoints(metadata: &ProviderMetadata) -> bool {
    !missing_endpoints(metadata).is_empty()
}

/// The endpoints `metadata` lacks that RFC 8414 metadata could supply.
fn missing_endpoints(metadata: &ProviderMetadata) -> Vec<&'static str> {
    [
        ("token_endpoint", &metadata.token_endpoint),
        ("jwks_uri", &metadata.jwks_uri),
        ("revocation_endpoint", &metadata.revocation_endpoint),
        ("end_session_endpoint", &metadata.end_session_endpoint),
    ]
    .into_iter()
    .filter(|(_, value)| value.as_deref().is_none_or(str::is_empty))
    .map(|(name, _)| name)
    .collect()
}

/// Where the RFC 8414 metadata of `issuer` may be: the well-known URI inserted between host and
/// path (RFC 8414 §3.1), then, for an issuer with a path, appended to it as OpenID discovery
/// does (where Okta and Keycloak serve it; RFC 8414 §5 allows that for compatibility).
pub(crate) fn metadata_urls(issuer: &str) -> Vec<String> {
    const WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
    let Ok(url) = url::Url::parse(issuer) else {
        return Vec::new();
    };
    let path = url.path().trim_end_matches('/');
    let mut origin = url.clone();
    origin.set_path("");
    origin.set_query(None);
    origin.set_fragment(None);
    let origin = origin.as_str().trim_end_matches('/').to_owned();
    let mut urls = vec![format!("{origin}{WELL_KNOWN}{path}")];
    if !path.is_empty() {
        urls.push(format!("{}{WELL_KNOWN}", issuer.trim_end_matches('/')));
    }
    urls
}

/// Fills in the members `metadata` lacks from `document`, and returns their names. The endpoint
/// auth-method lists come along with their endpoint, since they describe it.
pub(crate) fn merge(
    metadata: &mut ProviderMetadata,
    document: AuthorizationServerMetadata,
) -> Vec<&'static str> {
    let mut taken = Vec::new();
    let missing = |value: &Option<String>| value.as_deref().is_none_or(str::is_empty);
    let given = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.is_empty());
    if missing(&metadata.token_endpoint) && given(&document.token_endpoint) {
        metadata.token_endpoint = document.token_endpoint;
        taken.push("token_endpoint");
        if metadata.token_endpoint_auth_methods_supported.is_none()
            && document.token_endpoint_auth_methods_supported.is_some()
        {
            metadata.token_endpoint_auth_methods_supported =
                document.token_endpoint_auth_methods_supported;
            taken.push("token_endpoint_auth_methods_supported");
        }
    }
    if missing(&metadata.jwks_uri) && given(&document.jwks_uri) {
        metadata.jwks_uri = document.jwks_uri;
        taken.push("jwks_uri");
    }
    if missing(&metadata.revocation_endpoint) && given(&document.revocation_endpoint) {
        metadata.revocation_endpoint = document.revocation_endpoint;
        taken.push("revocation_endpoint");
        if metadata
            .revocation_endpoint_auth_methods_supported
            .is_none()
            && document
                .revocation_endpoint_auth_methods_supported
                .is_some()
        {
            metadata.revocation_endpoint_auth_methods_supported =
                document.revocation_endpoint_auth_methods_supported;
            taken.push("revocation_endpoint_auth_methods_supported");
        }
    }
    if missing(&metadata.end_session_endpoint) && given(&document.end_session_endpoint) {
        metadata.end_session_endpoint = document.end_session_endpoint;
        taken.push("end_session_endpoint");
    }
    taken
}

/// Fetches the RFC 8414 metadata of `config.issuer` and fills in what `metadata` lacks. Never
/// fails: what happened is logged at info.
pub(crate) async fn fill(config: &Config, http: &Http, metadata: &mut ProviderMetadata) {
    let mut failures = Vec::new();
    for url in metadata_urls(&config.issuer) {
        let document: AuthorizationServerMetadata =
            match get_json_following(http, &url, config.insecure_allow_http, "RFC 8414 metadata")
                .await
            {
                Ok(document) => document,
                Err(e) => {
                    failures.push(format!("{url}: {e}"));
                    continue;
                }
            };
        if document.issuer.as_deref() != Some(config.issuer.as_str()) {
            failures.push(format!(
                "{url}: names issuer `{}`, not oidc.issuer, so it is ignored (RFC 8414 §3.3)",
                crate::util::truncate(document.issuer.as_deref().unwrap_or("(none)"), 200)
            ));
            continue;
        }
        let taken = merge(metadata, document);
        if taken.is_empty() {
            log::info!(
                "OpenID Connect: the RFC 8414 metadata at {url} has nothing the discovery \
                 document lacks"
            );
        } else {
            log::info!(
                "OpenID Connect: took {} from the RFC 8414 metadata at {url} (the discovery \
                 document lacks them)",
                taken.join(", ")
            );
        }
        return;
    }
    log::info!(
        "OpenID Connect: the discovery document lacks {}, and no RFC 8414 metadata supplies it \
         ({})",
        missing_endpoints(metadata).join(", "),
        failures.join("; ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::serde::json::serde_json::{self, json};

    fn discovered(extra: serde_json::Value) -> ProviderMetadata {
        let mut doc = json!({
            "issuer": "https://id.example",
            "authorization_endpoint": "https://id.example/authorize",
            "token_endpoint": "https://id.example/token",
            "jwks_uri": "https://id.example/jwks",
            "response_types_supported": ["code"],
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                doc.as_object_mut().unwrap().remove(k);
            } else {
                doc[k] = v.clone();
            }
        }
        serde_json::from_value(doc).unwrap()
    }

    #[test]
    fn urls_insert_the_well_known_part_then_append_it() {
        assert_eq!(
            metadata_urls("https://id.example"),
            ["https://id.example/.well-known/oauth-authorization-server"]
        );
        // Auth0's issuer has a trailing slash.
        assert_eq!(
            metadata_urls("https://tenant.auth0.com/"),
            ["https://tenant.auth0.com/.well-known/oauth-authorization-server"]
        );
        assert_eq!(
            metadata_urls("https://dev-1.okta.com/oauth2/default"),
            [
                "https://dev-1.okta.com/.well-known/oauth-authorization-server/oauth2/default",
                "https://dev-1.okta.com/oauth2/default/.well-known/oauth-authorization-server",
            ]
        );
        assert_eq!(
            metadata_urls("http://127.0.0.1:8080/realms/x/"),
            [
                "http://127.0.0.1:8080/.well-known/oauth-authorization-server/realms/x",
                "http://127.0.0.1:8080/realms/x/.well-known/oauth-authorization-server",
            ]
        );
        assert!(metadata_urls("not a url").is_empty());
    }

    #[test]
    fn only_missing_members_are_taken() {
        let document = || AuthorizationServerMetadata {
            issuer: Some("https://id.example".into()),
            token_endpoint: Some("https://id.example/other-token".into()),
            jwks_uri: Some("https://id.example/other-jwks".into()),
            revocation_endpoint: Some("https://id.example/revoke".into()),
            end_session_endpoint: Some("https://id.example/logout".into()),
            token_endpoint_auth_methods_supported: Some(vec!["client_secret_post".into()]),
            revocation_endpoint_auth_methods_supported: Some(vec!["client_secret_basic".into()]),
        };
        let mut metadata = discovered(json!({"end_session_endpoint": "https://id.example/end"}));
        assert!(lacks_endpoints(&metadata));
        assert_eq!(
            merge(&mut metadata, document()),
            [
                "revocation_endpoint",
                "revocation_endpoint_auth_methods_supported"
            ]
        );
        assert_eq!(
            metadata.end_session_endpoint.as_deref(),
            Some("https://id.example/end")
        );
        assert_eq!(
            metadata.revocation_endpoint.as_deref(),
            Some("https://id.example/revoke")
        );
        // Discovery's own endpoints win.
        assert_eq!(
            metadata.token_endpoint.as_deref(),
            Some("https://id.example/token")
        );
        assert_eq!(metadata.token_endpoint_auth_methods_supported, None);
        assert!(!lacks_endpoints(&metadata));

        let mut bare = discovered(json!({"token_endpoint": null, "jwks_uri": ""}));
        assert_eq!(
            merge(&mut bare, document()),
            [
                "token_endpoint",
                "token_endpoint_auth_methods_supported",
                "jwks_uri",
                "revocation_endpoint",
                "revocation_endpoint_auth_methods_supported",
                "end_session_endpoint"
            ]
        );
        let mut complete = discovered(json!({
            "revocation_endpoint": "https://id.example/r",
            "end_session_endpoint": "https://id.example/e",
        }));
        assert!(!lacks_endpoints(&complete));
        assert!(merge(&mut complete, AuthorizationServerMetadata::default()).is_empty());
    }

    #[test]
    fn malformed_lists_are_dropped_not_fatal() {
        let document: AuthorizationServerMetadata = serde_json::from_value(json!({
            "issuer": "https://id.example",
            "revocation_endpoint": "https://id.example/revoke",
            "revocation_endpoint_auth_methods_supported": "client_secret_basic",
        }))
        .unwrap();
        assert_eq!(document.revocation_endpoint_auth_methods_supported, None);
    }
}
