//! What a provider's metadata must offer a code-flow client beyond its endpoints' URLs: the
//! `code` response type with a token endpoint and a JWKS (OpenID Connect Core 1.0 §3.1), and an
//! ID-token signing algorithm this client accepts (Discovery 1.0 §3). Each check names what is
//! missing and what to change.

use super::metadata::ProviderMetadata;
use crate::config::{Config, KNOWN_SIGNING_ALGS};
use crate::util;

/// A code-flow client needs the `code` response type, a token endpoint and a JWKS
/// (OpenID Connect Core 1.0 §3.1). The reason names everything that is missing at once: a
/// provider without the code flow (Facebook's Limited Login lists only `id_token` response
/// types) is told apart from one whose document lacks an endpoint.
pub(crate) fn check_code_flow(m: &ProviderMetadata) -> Result<(), String> {
    let code = m.response_types_supported.iter().any(|t| t == "code");
    let no_token = m.token_endpoint.as_deref().is_none_or(str::is_empty);
    let no_jwks = m.jwks_uri.as_deref().is_none_or(str::is_empty);
    let mut missing = Vec::new();
    if no_token {
        missing.push("no token_endpoint");
    }
    if no_jwks {
        missing.push("no jwks_uri");
    }
    let types = || {
        let listed: Vec<String> = m
            .response_types_supported
            .iter()
            .take(10)
            .map(|t| format!("\"{}\"", util::truncate(t, 40)))
            .collect();
        format!("[{}]", listed.join(", "))
    };
    if !code && no_token {
        return Err(format!(
            "the provider offers no authorization code flow (response_types_supported = {}, \
             {}): this crate signs in with the code flow only, so it cannot sign in there",
            types(),
            missing.join(", ")
        ));
    }
    if !code {
        return Err(format!(
            "response_types_supported is {}; this client needs `code`: enable the \
             authorization code flow for the provider",
            types()
        ));
    }
    if missing.is_empty() {
        return Ok(());
    }
    // Amazon Cognito (2017) published this for a user pool without a domain: the
    // authorization endpoint is the issuer itself, and there is no token endpoint.
    let cognito = if m.authorization_endpoint == m.issuer && no_token {
        "; the authorization_endpoint is the issuer itself, as Amazon Cognito publishes for a \
         user pool without a domain: add a domain to the user pool"
    } else {
        ""
    };
    Err(format!(
        "it has {}; a code-flow client needs both a token endpoint and a JWKS{cognito}",
        missing.join(" and ")
    ))
}

/// Discovery 1.0 §3 `id_token_signing_alg_values_supported`: if none of the algorithms the
/// provider signs ID tokens with is one `oidc.id_token_signing_algs` accepts, every login would
/// fail at the ID-token check, so launch stops instead. `none` never counts.
pub(crate) fn check_signing_algs(config: &Config, m: &ProviderMetadata) -> Result<(), String> {
    let Some(offered) = &m.id_token_signing_alg_values_supported else {
        return Ok(());
    };
    let offered: Vec<&String> = offered.iter().filter(|a| *a != "none").collect();
    if offered.is_empty()
        || offered
            .iter()
            .any(|a| config.id_token_signing_algs.contains(a))
    {
        return Ok(());
    }
    let listed: Vec<String> = offered
        .iter()
        .take(12)
        .map(|a| format!("\"{}\"", util::truncate(a, 20)))
        .collect();
    let could: Vec<&str> = KNOWN_SIGNING_ALGS
        .iter()
        .copied()
        .filter(|k| offered.iter().any(|a| a == k))
        .collect();
    let fix = match could.as_slice() {
        [] => "this crate verifies none of them: have the provider sign ID tokens with RS256, \
               PS256, ES256, ES384 or EdDSA"
            .to_string(),
        some => format!(
            "add {} to oidc.id_token_signing_algs{}",
            some.iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(" or "),
            if some.iter().all(|a| a.starts_with("HS")) {
                " (HMAC keyed with the client secret)"
            } else {
                ""
            }
        ),
    };
    Err(format!(
        "the provider signs ID tokens with [{}] only, none of which oidc.id_token_signing_algs \
         accepts: {fix}",
        listed.join(", ")
    ))
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

    fn document(fields: serde_json::Value) -> ProviderMetadata {
        serde_json::from_value(fields).unwrap()
    }

    #[test]
    fn a_provider_without_the_code_flow_is_named_as_such() {
        // Facebook Limited Login (`provider-metadata/facebook/discovery.json`).
        let facebook = document(serde_json::json!({
            "issuer": "https://www.facebook.com",
            "authorization_endpoint": "https://facebook.com/dialog/oauth/",
            "jwks_uri": "https://www.facebook.com/.well-known/oauth/openid/jwks/",
            "response_types_supported": ["id_token", "token id_token"],
        }));
        assert_eq!(
            check_code_flow(&facebook).unwrap_err(),
            "the provider offers no authorization code flow (response_types_supported = \
             [\"id_token\", \"token id_token\"], no token_endpoint): this crate signs in with \
             the code flow only, so it cannot sign in there"
        );
        // Amazon Cognito in 2017, a user pool without a domain
        // (`provider-metadata/cognito-2017/discovery.json`).
        let issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_BGU9CKFCM";
        let cognito = document(serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": issuer,
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "response_types_supported": ["code", "id_token", "token id_token", "none"],
        }));
        let err = check_code_flow(&cognito).unwrap_err();
        assert!(
            err.starts_with("it has no token_endpoint; a code-flow client needs both"),
            "{err}"
        );
        assert!(err.ends_with("add a domain to the user pool"), "{err}");
        let neither = document(serde_json::json!({
            "issuer": "https://id.example",
            "authorization_endpoint": "https://id.example/authorize",
            "response_types_supported": ["code"],
        }));
        assert_eq!(
            check_code_flow(&neither).unwrap_err(),
            "it has no token_endpoint and no jwks_uri; a code-flow client needs both a token \
             endpoint and a JWKS"
        );
        let implicit_only = metadata("https://id.example", "https://id.example/token");
        let implicit_only = ProviderMetadata {
            response_types_supported: vec!["id_token".into()],
            ..implicit_only
        };
        assert!(check_code_flow(&implicit_only)
            .unwrap_err()
            .starts_with("response_types_supported is [\"id_token\"]; this client needs `code`"));
        assert!(check_code_flow(&metadata("https://id.example", "https://id.example/t")).is_ok());
    }

    #[test]
    fn the_providers_signing_algorithms_must_meet_the_accepted_ones() {
        let with_algs = |algs: &[&str]| ProviderMetadata {
            id_token_signing_alg_values_supported: Some(
                algs.iter().map(|a| a.to_string()).collect(),
            ),
            ..metadata("https://id.example", "https://id.example/t")
        };
        let config = Config::default();
        // Keycloak, PingFederate (with `none`), Auth0 (HS256 first): all fine by default.
        for algs in [
            &["PS384", "ES384", "RS384", "HS256", "ES512"][..],
            &["none", "HS256", "RS256"],
            &["HS256", "RS256", "PS256"],
            &[],
            &["none"],
        ] {
            assert!(
                check_signing_algs(&config, &with_algs(algs)).is_ok(),
                "{algs:?}"
            );
        }
        assert!(check_signing_algs(
            &config,
            &metadata("https://id.example", "https://id.example/t")
        )
        .is_ok());
        assert_eq!(
            check_signing_algs(&config, &with_algs(&["ES512", "none"])).unwrap_err(),
            "the provider signs ID tokens with [\"ES512\"] only, none of which \
             oidc.id_token_signing_algs accepts: this crate verifies none of them: have the \
             provider sign ID tokens with RS256, PS256, ES256, ES384 or EdDSA"
        );
        assert_eq!(
            check_signing_algs(&config, &with_algs(&["HS256"])).unwrap_err(),
            "the provider signs ID tokens with [\"HS256\"] only, none of which \
             oidc.id_token_signing_algs accepts: add \"HS256\" to oidc.id_token_signing_algs \
             (HMAC keyed with the client secret)"
        );
        let rs256_only = Config {
            id_token_signing_algs: vec!["RS256".into()],
            ..Config::default()
        };
        assert!(
            check_signing_algs(&rs256_only, &with_algs(&["ES256", "PS256"]))
                .unwrap_err()
                .ends_with("add \"PS256\" or \"ES256\" to oidc.id_token_signing_algs")
        );
    }

    #[test]
    fn odd_capability_lists_do_not_stop_discovery() {
        let odd = document(serde_json::json!({
            "issuer": "https://id.example",
            "authorization_endpoint": "https://id.example/authorize",
            "token_endpoint_auth_methods_supported": "client_secret_post",
            "code_challenge_methods_supported": ["S256", 7],
            "id_token_signing_alg_values_supported": null,
        }));
        assert_eq!(odd.token_endpoint_auth_methods_supported, None);
        assert_eq!(
            odd.code_challenge_methods_supported.as_deref(),
            Some(&["S256".to_string()][..])
        );
        assert_eq!(odd.id_token_signing_alg_values_supported, None);
    }
}
