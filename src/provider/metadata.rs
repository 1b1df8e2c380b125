//! Discovery (OpenID Connect Discovery 1.0): the provider metadata a code-flow client uses, and
//! the checks it must pass at ignite.

use rocket::serde::json::serde_json::Value;
use serde::{Deserialize, Deserializer};

use super::capabilities::{check_code_flow, check_signing_algs};
use super::redirect::get_json_following;
use super::rfc8414;
use crate::config::Config;
use crate::error::StartupError;
use crate::http::Http;
use crate::util;

/// The parts of the provider metadata (OpenID Connect Discovery 1.0 §3) a code-flow client uses.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    #[serde(default)]
    pub response_types_supported: Vec<String>,
    pub end_session_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    #[serde(default, deserialize_with = "lenient_list")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// Absent means `client_secret_basic` (Discovery 1.0 §3).
    #[serde(default, deserialize_with = "lenient_list")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// The JWS algorithms the token endpoint accepts for `private_key_jwt` assertions
    /// (Discovery 1.0 §3); absent: not said.
    #[serde(default, deserialize_with = "lenient_list")]
    pub token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// Discovery 1.0 §3; absent means `query` and `fragment`, though providers under-report.
    #[serde(default, deserialize_with = "lenient_list")]
    pub response_modes_supported: Option<Vec<String>>,
    /// RFC 8414 §2; absent means the token endpoint's methods.
    #[serde(default, deserialize_with = "lenient_list")]
    pub revocation_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// Required by Discovery 1.0 §3, but only read when present.
    #[serde(default, deserialize_with = "lenient_list")]
    pub id_token_signing_alg_values_supported: Option<Vec<String>>,
    /// Back-Channel Logout 1.0 §2.1: the provider can POST logout tokens.
    #[serde(default, deserialize_with = "hint")]
    pub backchannel_logout_supported: bool,
    /// §2.1: its logout tokens (and ID tokens) can carry `sid`.
    #[serde(default, deserialize_with = "hint")]
    pub backchannel_logout_session_supported: bool,
}

/// A boolean that only steers a default: `true` or `"true"`; anything else (`null`, another
/// type) is `false` rather than a failed discovery.
fn hint<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(value.as_bool() == Some(true) || value.as_str() == Some("true"))
}

/// An optional list of strings, read leniently: a member of another shape is as good as absent
/// (a provider's odd capability list must not stop discovery), and non-string items are
/// dropped.
pub(crate) fn lenient_list<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<String>>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Array(items)) => Some(
            items
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        ),
        _ => None,
    })
}

/// Fetches `<issuer>/.well-known/openid-configuration`, following up to 5 redirects (see
/// `redirect.rs`), fills in endpoints it lacks from the RFC 8414 metadata (see `rfc8414.rs`),
/// and checks it (ignite step 2).
pub(crate) async fn discover(
    config: &Config,
    http: &Http,
) -> Result<ProviderMetadata, StartupError> {
    let url = discovery_url(&config.issuer);
    let mut metadata: ProviderMetadata =
        get_json_following(http, &url, config.insecure_allow_http, "discovery")
            .await
            .map_err(|source| StartupError::Discovery { url, source })?;
    check_issuer(config, &metadata)?;
    if rfc8414::lacks_endpoints(&metadata) {
        rfc8414::fill(config, http, &mut metadata).await;
    }
    check_metadata(config, &metadata)?;
    Ok(metadata)
}

/// `issuer` + `/.well-known/openid-configuration`, with exactly one slash between them
/// (Discovery 1.0 §4.1).
pub(crate) fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// Discovery 1.0 §4.3: the document's `issuer` must be the configured one, exactly (or, for a
/// multi-tenant template, the template it fills).
fn check_issuer(config: &Config, m: &ProviderMetadata) -> Result<(), StartupError> {
    // A multi-tenant template that `oidc.issuer` fills is checked as such (`issuer.rs`).
    if m.issuer != config.issuer && !super::issuer::template_fits(&config.issuer, &m.issuer) {
        return Err(StartupError::IssuerMismatch {
            configured: config.issuer.clone(),
            discovered: m.issuer.clone(),
        });
    }
    Ok(())
}

fn check_metadata(config: &Config, m: &ProviderMetadata) -> Result<(), StartupError> {
    check_issuer(config, m)?;
    // An https issuer must not send the browser, the code or the client secret over plain http.
    if config.issuer.starts_with("https://") {
        let endpoints = [
            ("authorization_endpoint", Some(&m.authorization_endpoint)),
            ("token_endpoint", m.token_endpoint.as_ref()),
            ("userinfo_endpoint", m.userinfo_endpoint.as_ref()),
            ("jwks_uri", m.jwks_uri.as_ref()),
            ("revocation_endpoint", m.revocation_endpoint.as_ref()),
            ("end_session_endpoint", m.end_session_endpoint.as_ref()),
        ];
        for (name, url) in endpoints {
            if let Some(url) = url.filter(|u| !u.starts_with("https://")) {
                return Err(StartupError::Metadata {
                    issuer: m.issuer.clone(),
                    reason: format!(
                        "its {name} `{}` is not https, although the issuer is",
                        util::truncate(url, 200)
                    ),
                });
            }
        }
    }
    check_code_flow(m).map_err(|reason| StartupError::Metadata {
        issuer: m.issuer.clone(),
        reason,
    })?;
    check_signing_algs(config, m).map_err(|reason| StartupError::Metadata {
        issuer: m.issuer.clone(),
        reason,
    })?;
    if let Some(methods) = &m.code_challenge_methods_supported {
        if !methods.iter().any(|x| x == "S256") {
            log::warn!(
                "OpenID Connect: the provider does not advertise PKCE S256 \
                 (code_challenge_methods_supported = {methods:?}); sending it anyway"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::serde::json::serde_json;

    fn metadata(issuer: &str, token_endpoint: &str) -> ProviderMetadata {
        serde_json::from_value(serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": token_endpoint,
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
        }))
        .unwrap()
    }

    #[test]
    fn an_https_issuer_must_not_name_http_endpoints() {
        let config = Config {
            issuer: "https://id.example".into(),
            ..Config::default()
        };
        let err = check_metadata(
            &config,
            &metadata("https://id.example", "http://id.example/token"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("token_endpoint `http://id.example/token` is not https"),
            "{err}"
        );
        assert!(check_metadata(
            &config,
            &metadata("https://id.example", "https://id.example/t")
        )
        .is_ok());
        // A loopback development issuer is plain http throughout.
        let local = Config {
            issuer: "http://127.0.0.1:9".into(),
            ..Config::default()
        };
        assert!(check_metadata(
            &local,
            &metadata("http://127.0.0.1:9", "http://127.0.0.1:9/t")
        )
        .is_ok());
    }

    #[test]
    fn discovery_url_has_one_slash() {
        assert_eq!(
            discovery_url("https://a.example/"),
            "https://a.example/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://a.example/realms/x"),
            "https://a.example/realms/x/.well-known/openid-configuration"
        );
    }
}
