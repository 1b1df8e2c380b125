//! What the provider-metadata suite checks: the signing keys a JWKS holds, what the app's log
//! says (the fairing's errors, warnings and key count), the credential check the provider saw,
//! and the `/login` redirect.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use crate::fake_provider::Seen;
use crate::{Served, CLIENT_ID};

/// How many keys of a JWKS can verify an ID-token signature with an algorithm this crate
/// accepts: RSA, EC on P-256 or P-384, OKP Ed25519; not those marked for encryption (`use`
/// other than `sig`, RFC 7517 §4.2; `key_ops` without `verify`, §4.3; a JWE `alg`). What the
/// launch log must report.
pub fn signing_keys(jwks: &Value) -> usize {
    const SIGNING_ALGS: &[&str] = &[
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
    ];
    let Some(keys) = jwks["keys"].as_array() else {
        return 0;
    };
    keys.iter()
        .filter(|key| {
            let text = |name: &str| key[name].as_str();
            let for_signing = matches!(text("use"), None | Some("sig"))
                && key["key_ops"]
                    .as_array()
                    .is_none_or(|ops| ops.iter().any(|op| op == "verify"))
                && text("alg").is_none_or(|alg| SIGNING_ALGS.contains(&alg));
            let can_sign = matches!(
                (text("kty"), text("crv")),
                (Some("RSA"), _)
                    | (Some("EC"), Some("P-256" | "P-384"))
                    | (Some("OKP"), Some("Ed25519"))
            );
            for_signing && can_sign
        })
        .count()
}

/// The fairing's lines at `level` (`Error`, `Warning`): `<level>: OpenID Connect: <text>`, or
/// with a provider's name after `OpenID Connect` (`OpenID Connect [okta]: ...`), text returned.
pub fn fairing_lines(output: &str, level: &str) -> Vec<String> {
    let prefix = format!("{level}: OpenID Connect");
    output
        .lines()
        .filter_map(|l| l.strip_prefix(prefix.as_str()))
        .filter_map(|rest| rest.split_once(": ").map(|(_, text)| text.to_string()))
        .collect()
}

/// The fairing's error lines.
pub fn fairing_errors(output: &str) -> Vec<String> {
    fairing_lines(output, "Error")
}

/// The fairing's warnings.
pub fn fairing_warnings(output: &str) -> Vec<String> {
    fairing_lines(output, "Warning")
}

/// The number in the launch log's `(<n> signing key(s)`, if there is one.
pub fn logged_signing_keys(output: &str) -> Option<usize> {
    output.lines().find_map(|line| {
        let at = line.find(" signing key")?;
        let digits: String = line[..at]
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .chars()
            .rev()
            .collect();
        digits.parse().ok()
    })
}

/// The explaining line of an app's output: its first fairing error, else its last line.
pub fn explaining_line(output: &str) -> Option<String> {
    let errors = fairing_errors(output);
    match errors.as_slice() {
        // A heading such as "invalid OpenID Connect configuration:" and its first problem.
        [heading, first, ..] if heading.ends_with(':') => Some(format!("{heading} {first}")),
        [first, ..] => Some(first.clone()),
        [] => output.lines().last().map(str::to_string),
    }
}

/// `GET /login` must answer 303 to the authorization endpoint with a complete authorization
/// request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, PKCE S256 of RFC 7636 §4.3).
pub async fn check_login(served: &Served, port: u16) -> Result<String, String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client");
    let response = http
        .get(format!("http://127.0.0.1:{port}/login"))
        .header("accept", "text/html")
        .send()
        .await
        .map_err(|e| format!("GET /login: {e}"))?;
    if response.status().as_u16() != 303 {
        return Err(format!(
            "GET /login answered {}, not 303",
            response.status()
        ));
    }
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or("GET /login: 303 without a Location")?;
    let target = Url::parse(location).map_err(|e| format!("Location `{location}`: {e}"))?;
    let endpoint = Url::parse(&served.authorization_endpoint).map_err(|e| {
        format!(
            "authorization_endpoint `{}`: {e}",
            served.authorization_endpoint
        )
    })?;
    let origin_path = |u: &Url| {
        (
            u.scheme().to_string(),
            u.host_str().map(str::to_ascii_lowercase),
            u.port_or_known_default(),
            u.path().to_string(),
        )
    };
    if origin_path(&target) != origin_path(&endpoint) {
        return Err(format!(
            "/login redirects to {}, not to the authorization endpoint {}",
            &target[..url::Position::AfterPath],
            served.authorization_endpoint
        ));
    }
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in target.query_pairs() {
        params
            .entry(k.into_owned())
            .or_default()
            .push(v.into_owned());
    }
    let one = |name: &str| -> Result<String, String> {
        match params.get(name).map(Vec::as_slice) {
            Some([value]) if !value.is_empty() => Ok(value.clone()),
            Some([_]) => Err(format!("/login: `{name}` is empty")),
            Some(_) => Err(format!("/login: `{name}` appears more than once")),
            None => Err(format!("/login: no `{name}` in {location}")),
        }
    };
    let expect = |name: &str, want: &str| -> Result<(), String> {
        let got = one(name)?;
        if got == want {
            Ok(())
        } else {
            Err(format!("/login: {name}={got}, expected {want}"))
        }
    };
    expect("response_type", "code")?;
    expect("client_id", CLIENT_ID)?;
    expect(
        "redirect_uri",
        &format!("http://localhost:{port}/authorization-code/callback"),
    )?;
    let scope = one("scope")?;
    if !scope.split(' ').any(|s| s == "openid") {
        return Err(format!("/login: scope `{scope}` lacks openid"));
    }
    one("state")?;
    one("nonce")?;
    let challenge = one("code_challenge")?;
    let base64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if challenge.len() != 43 || !challenge.chars().all(base64url) {
        return Err(format!(
            "/login: code_challenge `{challenge}` is not a base64url SHA-256 (43 characters)"
        ));
    }
    expect("code_challenge_method", "S256")?;
    Ok(format!("/login → 303 {}", served.authorization_endpoint))
}

/// The checks of a launch that should have succeeded, in order; the first failure is returned.
pub async fn check_launch(
    served: &Served,
    seen: &[Seen],
    output: &str,
    port: u16,
    warns: &[&str],
) -> Result<String, String> {
    let got = |path: &Option<String>| {
        path.as_ref().is_some_and(|p| {
            seen.iter()
                .any(|s| s.method == "GET" && &s.path == p && s.status == 200)
        })
    };
    if !got(&Some(served.discovery_path.clone())) {
        return Err(format!(
            "the app never fetched the document at {}",
            served.discovery_path
        ));
    }
    if !got(&served.jwks_path) {
        return Err("the app never fetched the JWKS".into());
    }
    let token: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.method == "POST" && Some(&s.path) == served.token_path.as_ref())
        .collect();
    match token.as_slice() {
        [one] if one.accepted != Some(false) => {}
        [one] => {
            return Err(format!(
                "the credential check authenticated with {} and was refused (HTTP {}); the \
                 provider lists {:?}",
                one.client_auth.as_deref().unwrap_or("?"),
                one.status,
                served.auth_methods
            ))
        }
        other => {
            return Err(format!(
                "{} credential checks at the token endpoint, expected one",
                other.len()
            ))
        }
    }
    match logged_signing_keys(output) {
        Some(n) if n == served.signing_keys => {}
        Some(n) => {
            return Err(format!(
                "the launch log reports {n} signing key(s); the JWKS holds {} that can verify a \
                 signature",
                served.signing_keys
            ))
        }
        None => {
            return Err(
                "the launch log does not say how many signing keys it loaded (`<n> signing key`)"
                    .into(),
            )
        }
    }
    let warnings = fairing_warnings(output);
    if warns.is_empty() {
        if let Some(warning) = warnings.first() {
            return Err(format!("launch warns: {warning}"));
        }
    } else {
        let all = warnings.join("\n");
        let missing: Vec<&&str> = warns.iter().filter(|w| !all.contains(**w)).collect();
        if !missing.is_empty() {
            return Err(format!(
                "launch should warn with {missing:?}; its warnings: {warnings:?}"
            ));
        }
    }
    let login = check_login(served, port).await?;
    let warned = if warns.is_empty() {
        ""
    } else {
        ", warns as it should"
    };
    Ok(format!(
        "launches, {} signing key(s){warned}, {login}",
        served.signing_keys
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_keys_leave_out_encryption_keys_and_curves_that_cannot_sign() {
        // The shapes of keycloak-http's and paypal's published sets (keys shortened).
        let jwks = serde_json::json!({"keys": [
            {"kty": "RSA", "alg": "RSA-OAEP", "use": "enc", "n": "0Oc", "e": "AQAB"},
            {"kty": "RSA", "alg": "RS256", "use": "sig", "n": "3yq", "e": "AQAB"},
            {"kty": "EC", "crv": "P-256", "x": "Ph", "y": "7C"},
            {"kty": "OKP", "crv": "X25519", "x": "IA0="},
            {"kty": "OKP", "crv": "Ed25519", "x": "11"},
            {"kty": "EC", "crv": "P-521", "x": "a", "y": "b"},
            {"kty": "RSA", "key_ops": ["encrypt"], "n": "1", "e": "AQAB"},
            {"kty": "RSA", "n": "2", "e": "AQAB"},
        ]});
        assert_eq!(signing_keys(&jwks), 4);
        assert_eq!(signing_keys(&serde_json::json!({})), 0);
    }

    #[test]
    fn log_lines_are_read_as_the_fairing_writes_them() {
        let output = "OpenID Connect: 2/4 discovered http://127.0.0.1:1 (14 signing key(s), end_session no) in 3 ms\n\
                  Warning: OpenID Connect: skipped 1 of 2 JWKS keys\n\
                  Error: OpenID Connect [okta]: invalid OpenID Connect configuration:\n\
                  Error: OpenID Connect: oidc.issuer: Your issuer URL must start with https.\n";
        assert_eq!(logged_signing_keys(output), Some(14));
        assert_eq!(fairing_warnings(output), ["skipped 1 of 2 JWKS keys"]);
        assert_eq!(
        explaining_line(output).as_deref(),
        Some("invalid OpenID Connect configuration: oidc.issuer: Your issuer URL must start with https.")
    );
        assert_eq!(logged_signing_keys("no count here"), None);
    }
}
