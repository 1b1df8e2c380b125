//! Discovery (OpenID Connect Discovery 1.0): the provider metadata a code-flow client uses, and
//! the checks it must pass at ignite.

use serde::Deserialize;

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
    pub code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// Back-Channel Logout 1.0 §2.1: the provider can POST logout tokens.
    #[serde(default, deserialize_with = "hint")]
    pub backchannel_logout_supported: bool,
    /// §2.1: its logout tokens (and ID tokens) can carry `sid`.
    #[serde(default, deserialize_with = "hint")]
    pub backchannel_logout_session_supported: bool,
}

/// A boolean that only steers a default: `true` or `"true"`; anything else (`null`, another
/// type) is `false` rather than a failed discovery.
fn hint<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let value = rocket::serde::json::Value::deserialize(d)?;
    Ok(value.as_bool() == Some(true) || value.as_str() == Some("true"))
}

/// Fetches `<issuer>/.well-known/openid-configuration` and checks it (ignite step 2).
pub(crate) async fn discover(
    config: &Config,
    http: &Http,
) -> Result<ProviderMetadata, StartupError> {
    let url = discovery_url(&config.issuer);
    let metadata: ProviderMetadata = http
        .get_json(&url)
        .await
        .map_err(|source| StartupError::Discovery { url, source })?;
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

fn check_metadata(config: &Config, m: &ProviderMetadata) -> Result<(), StartupError> {
    if m.issuer != config.issuer {
        return Err(StartupError::IssuerMismatch {
            configured: config.issuer.clone(),
            discovered: m.issuer.clone(),
        });
    }
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
    let mut missing = Vec::new();
    if m.token_endpoint.as_deref().is_none_or(str::is_empty) {
        missing.push("token_endpoint");
    }
    if m.jwks_uri.as_deref().is_none_or(str::is_empty) {
        missing.push("jwks_uri");
    }
    if !missing.is_empty() {
        return Err(StartupError::Metadata {
            issuer: m.issuer.clone(),
            reason: format!(
                "it has no {}; a code-flow client needs both a token endpoint and a JWKS",
                missing.join(" and no ")
            ),
        });
    }
    if !m.response_types_supported.iter().any(|t| t == "code") {
        return Err(StartupError::Metadata {
            issuer: m.issuer.clone(),
            reason: format!(
                "response_types_supported is {:?}; this client needs `code`: enable the \
                 authorization code flow for the provider",
                m.response_types_supported
            ),
        });
    }
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
