//! Client authentication at `/token` and `/revoke` (RFC 6749 §2.3): a client secret (Basic or
//! form body), none for public clients, `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core
//! §9), and Sign in with Apple's JWT client secret.

use rocket::http::Status;
use rocket::serde::json::serde_json::{Map, Value};

use super::client_keys::{decode_unverified, verify_jws, DevClientKey, ASSERTION_ALGS};
use super::directory::{DevClient, JwtClientAuth};
use super::faults::Fault;
use super::params::{client_credentials, secrets_match, CredentialsError, Params, RequestInfo};
use super::reply::Reply;
use super::state::{unix_now, Inner};

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const CLIENT_ASSERTION_TYPE_JWT_BEARER: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The `aud` of a Sign in with Apple client secret.
pub const APPLE_AUDIENCE: &str = "https://appleid.apple.com";

/// The longest a Sign in with Apple client secret may live, in seconds: Apple's "not greater
/// than 15777000 (6 months in seconds) from the Current UNIX Time on the server".
pub const APPLE_MAX_SECRET_LIFETIME: u64 = 15_777_000;

/// The longest a `private_key_jwt` assertion may live (`exp - now`), in seconds, as Okta
/// requires; it also bounds how long a `jti` must be remembered.
pub const MAX_ASSERTION_LIFETIME: u64 = 3600;

/// How far in the future `iat` and `nbf` may be, in seconds.
const LEEWAY: u64 = 60;

fn invalid_request(description: &str) -> Reply {
    Reply::oauth_error(Status::BadRequest, "invalid_request", description)
}

/// RFC 6749 §5.2: 401, and a `WWW-Authenticate` challenge when the client used Basic.
pub(crate) fn invalid_client(description: &str, basic: bool) -> Reply {
    let reply = Reply::oauth_error(Status::Unauthorized, "invalid_client", description);
    if basic {
        reply.header("WWW-Authenticate", "Basic realm=\"dev-issuer\"")
    } else {
        reply
    }
}

/// Apple answers every client-authentication failure with 400 `invalid_client`.
fn apple_invalid_client(description: &str) -> Reply {
    Reply::oauth_error(Status::BadRequest, "invalid_client", description)
}

/// Authenticates the client of a token or revocation request.
pub(crate) fn authenticate(
    inner: &Inner,
    info: &RequestInfo,
    params: &Params,
) -> Result<DevClient, Reply> {
    if params.get("client_assertion").is_some() || params.get("client_assertion_type").is_some() {
        return authenticate_assertion(inner, info, params);
    }
    let credentials = client_credentials(info, params).map_err(|error| match error {
        CredentialsError::Malformed(description) => invalid_request(description),
        CredentialsError::BadBasic(description) => invalid_client(description, true),
        CredentialsError::Missing => invalid_client("client authentication is required", false),
    })?;
    let basic = credentials.basic;
    let faults = inner.lock().faults.clone();
    if !basic && credentials.client_secret.is_some() && faults.has(&Fault::ClientSecretBasicOnly) {
        return Err(invalid_client(
            "this client must authenticate with client_secret_basic",
            false,
        ));
    }
    if basic && faults.has(&Fault::ClientSecretPostOnly) {
        return Err(invalid_client(
            "this client must authenticate with client_secret_post",
            true,
        ));
    }
    let Some(client) = inner.lock().clients.get(&credentials.client_id).cloned() else {
        return Err(invalid_client("unknown client", basic));
    };
    let given = credentials.client_secret.as_deref();
    match &client.jwt_auth {
        Some(JwtClientAuth::PrivateKeyJwt(_)) => {
            return Err(invalid_client(
                "this client authenticates with private_key_jwt: send client_assertion_type and \
                 client_assertion, not a client secret",
                basic,
            ))
        }
        Some(JwtClientAuth::AppleClientSecret {
            team_id,
            key_id,
            key,
        }) => {
            if basic {
                return Err(apple_invalid_client(
                    "Sign in with Apple takes the client secret in the form body \
                     (client_secret_post), not in a Basic header",
                ));
            }
            let Some(secret) = given else {
                return Err(apple_invalid_client("client_secret is required"));
            };
            return check_apple_secret(secret, &client.client_id, team_id, key_id, key)
                .map(|()| client.clone())
                .map_err(|reason| apple_invalid_client(&reason));
        }
        None => {}
    }
    match (client.client_secret.as_deref(), given) {
        (Some(expected), Some(given)) if secrets_match(given, expected) => Ok(client),
        (Some(_), Some(_)) => Err(invalid_client("wrong client secret", basic)),
        (Some(_), None) => Err(invalid_client(
            "this client must authenticate with its secret",
            basic,
        )),
        (None, None | Some("")) => Ok(client),
        (None, Some(_)) => Err(invalid_client("a public client has no secret", basic)),
    }
}

/// `private_key_jwt`: RFC 7521 §4.2 (the parameters), RFC 7523 §3 (the JWT's claims).
fn authenticate_assertion(
    inner: &Inner,
    info: &RequestInfo,
    params: &Params,
) -> Result<DevClient, Reply> {
    // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each
    // request."
    if !info.authorization.is_empty() || params.get("client_secret").is_some() {
        return Err(invalid_request(
            "use one client authentication method: a client_assertion or a client secret, not both",
        ));
    }
    match params.get("client_assertion_type") {
        Some(CLIENT_ASSERTION_TYPE_JWT_BEARER) => {}
        None => {
            return Err(invalid_request(
                "client_assertion_type is required with a client_assertion",
            ))
        }
        Some(other) => {
            return Err(invalid_client(
                &format!(
                    "client_assertion_type `{other}` is not supported; use \
                     {CLIENT_ASSERTION_TYPE_JWT_BEARER}"
                ),
                false,
            ))
        }
    }
    let Some(assertion) = params.get("client_assertion") else {
        return Err(invalid_request(
            "client_assertion is required with a client_assertion_type",
        ));
    };
    let Some((_, unverified)) = decode_unverified(assertion) else {
        return Err(invalid_client("the client_assertion is not a JWT", false));
    };
    // RFC 7521 §4.2: the client is the assertion's subject; a `client_id` must agree with it.
    let Some(subject) = unverified.get("sub").and_then(Value::as_str) else {
        return Err(invalid_client("the client_assertion has no sub", false));
    };
    if params.get("client_id").is_some_and(|id| id != subject) {
        return Err(invalid_client(
            "client_id differs from the client_assertion's sub",
            false,
        ));
    }
    let Some(client) = inner.lock().clients.get(subject).cloned() else {
        return Err(invalid_client("unknown client", false));
    };
    let Some(JwtClientAuth::PrivateKeyJwt(keys)) = &client.jwt_auth else {
        return Err(invalid_client(
            "this client is not registered for private_key_jwt",
            false,
        ));
    };
    let (_, claims) =
        verify_jws(assertion, keys, ASSERTION_ALGS).map_err(|e| invalid_client(&e, false))?;
    let issuer = inner.issuer();
    let audiences = [
        issuer.to_owned(),
        format!("{issuer}/token"),
        format!("{issuer}/revoke"),
    ];
    let now = unix_now();
    let (jti, exp) = check_assertion_claims(&claims, &client.client_id, &audiences, now)
        .map_err(|e| invalid_client(&e, false))?;
    // RFC 7523 §3 item 7: remember each `jti` until its assertion expires.
    let mut state = inner.lock();
    state
        .client_assertion_jtis
        .retain(|_, expires| *expires > now);
    if state
        .client_assertion_jtis
        .insert((client.client_id.clone(), jti), exp)
        .is_some()
    {
        return Err(invalid_client(
            "the client_assertion's jti was used before (replay)",
            false,
        ));
    }
    drop(state);
    Ok(client)
}

/// A NumericDate (RFC 7519 §2): seconds, possibly fractional (truncated here).
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, String> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .or_else(|| {
                value
                    .as_f64()
                    .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or_else(|| format!("{name} is not a NumericDate")),
    }
}

/// Whether `aud` (a string or an array of strings, RFC 7519 §4.1.3) names one of `audiences`.
fn audience_matches(claims: &Map<String, Value>, audiences: &[String]) -> bool {
    let named = |value: &Value| {
        value
            .as_str()
            .is_some_and(|aud| audiences.iter().any(|a| a == aud))
    };
    match claims.get("aud") {
        Some(Value::Array(values)) => values.iter().any(named),
        Some(value) => named(value),
        None => false,
    }
}

/// The claims of a `private_key_jwt` assertion (RFC 7523 §3, OpenID Connect Core §9), at time
/// `now`: returns its `jti` and `exp`, or the `error_description`.
pub(crate) fn check_assertion_claims(
    claims: &Map<String, Value>,
    client_id: &str,
    audiences: &[String],
    now: u64,
) -> Result<(String, u64), String> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(client_id) {
        return Err("the client_assertion's iss must be the client_id".into());
    }
    if text("sub") != Some(client_id) {
        return Err("the client_assertion's sub must be the client_id".into());
    }
    if !audience_matches(claims, audiences) {
        return Err(format!(
            "the client_assertion's aud must be the token endpoint URL ({}) or the issuer URL",
            audiences.get(1).map(String::as_str).unwrap_or_default()
        ));
    }
    let exp = numeric_date(claims, "exp")?.ok_or("the client_assertion has no exp")?;
    if exp <= now {
        return Err("the client_assertion has expired".into());
    }
    if exp - now > MAX_ASSERTION_LIFETIME {
        return Err(format!(
            "the client_assertion's exp is more than {MAX_ASSERTION_LIFETIME} s away"
        ));
    }
    if numeric_date(claims, "nbf")?.is_some_and(|nbf| nbf > now.saturating_add(LEEWAY)) {
        return Err("the client_assertion is not valid yet (nbf)".into());
    }
    if numeric_date(claims, "iat")?.is_some_and(|iat| iat > now.saturating_add(LEEWAY)) {
        return Err("the client_assertion's iat is in the future".into());
    }
    let jti = text("jti")
        .filter(|jti| !jti.is_empty())
        .ok_or("the client_assertion has no jti (OpenID Connect Core §9 requires one)")?;
    Ok((jti.to_owned(), exp))
}

/// A Sign in with Apple client secret: signature and header first, then the claims.
fn check_apple_secret(
    secret: &str,
    client_id: &str,
    team_id: &str,
    key_id: &str,
    key: &DevClientKey,
) -> Result<(), String> {
    let (header, _) = decode_unverified(secret).ok_or("the client secret is not a JWT")?;
    if header.get("kid").and_then(Value::as_str) != Some(key_id) {
        return Err(format!(
            "the client secret's header kid must be the key id `{key_id}`"
        ));
    }
    let (_, claims) = verify_jws(secret, std::slice::from_ref(key), &["ES256"])?;
    check_apple_claims(&claims, client_id, team_id, unix_now())
}

/// The claims of a Sign in with Apple client secret at time `now` ("Creating a client secret"
/// in Apple's documentation); `Err` is the `error_description`.
pub(crate) fn check_apple_claims(
    claims: &Map<String, Value>,
    client_id: &str,
    team_id: &str,
    now: u64,
) -> Result<(), String> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(team_id) {
        return Err("the client secret's iss must be the team id".into());
    }
    if text("sub") != Some(client_id) {
        return Err("the client secret's sub must be the client_id (the Services ID)".into());
    }
    if !audience_matches(claims, &[APPLE_AUDIENCE.to_owned()]) {
        return Err(format!("the client secret's aud must be {APPLE_AUDIENCE}"));
    }
    let iat = numeric_date(claims, "iat")?.ok_or("the client secret has no iat")?;
    let exp = numeric_date(claims, "exp")?.ok_or("the client secret has no exp")?;
    if iat > now.saturating_add(LEEWAY) {
        return Err("the client secret's iat is in the future".into());
    }
    if exp <= now {
        return Err("the client secret has expired".into());
    }
    if exp.saturating_sub(iat) > APPLE_MAX_SECRET_LIFETIME || exp - now > APPLE_MAX_SECRET_LIFETIME
    {
        return Err(format!(
            "the client secret lives too long: exp may be at most {APPLE_MAX_SECRET_LIFETIME} s \
             (six months) after iat and after now"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::serde::json::serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(members) => members,
            _ => unreachable!(),
        }
    }

    fn audiences() -> Vec<String> {
        vec![
            "http://127.0.0.1:1".into(),
            "http://127.0.0.1:1/token".into(),
        ]
    }

    fn assertion(changes: Value) -> Map<String, Value> {
        let mut claims = object(json!({
            "iss": "app", "sub": "app", "aud": "http://127.0.0.1:1/token",
            "exp": NOW + 60, "iat": NOW, "jti": "j-1",
        }));
        for (name, value) in object(changes) {
            if value.is_null() {
                claims.remove(&name);
            } else {
                claims.insert(name, value);
            }
        }
        claims
    }

    #[test]
    fn assertion_claims_accept_the_token_endpoint_or_the_issuer() {
        let check = |claims| check_assertion_claims(&claims, "app", &audiences(), NOW);
        assert_eq!(check(assertion(json!({}))), Ok(("j-1".into(), NOW + 60)));
        assert!(check(assertion(json!({"aud": "http://127.0.0.1:1"}))).is_ok());
        assert!(check(assertion(json!({"aud": ["x", "http://127.0.0.1:1"]}))).is_ok());
        assert!(check(assertion(json!({"exp": (NOW + 60) as f64 + 0.5}))).is_ok());
        assert!(check(assertion(json!({"iat": null}))).is_ok());
    }

    #[test]
    fn assertion_claims_refusals() {
        let check = |changes| {
            check_assertion_claims(&assertion(changes), "app", &audiences(), NOW).unwrap_err()
        };
        assert!(check(json!({"iss": "other"})).contains("iss"));
        assert!(check(json!({"sub": "other"})).contains("sub"));
        assert!(check(json!({"aud": "http://127.0.0.1:1/userinfo"})).contains("aud"));
        assert!(check(json!({"aud": null})).contains("aud"));
        assert!(check(json!({"exp": NOW})).contains("expired"));
        assert!(check(json!({"exp": null})).contains("no exp"));
        assert!(check(json!({"exp": "soon"})).contains("NumericDate"));
        assert!(check(json!({"exp": NOW + 3601})).contains("3600 s"));
        assert!(check(json!({"nbf": NOW + 61})).contains("nbf"));
        assert!(check(json!({"iat": NOW + 61})).contains("iat"));
        assert!(check(json!({"jti": null})).contains("jti"));
        assert!(check(json!({"jti": ""})).contains("jti"));
    }

    #[test]
    fn apple_claims() {
        let secret = |changes: Value| {
            let mut claims = object(json!({
                "iss": "TEAM123456", "sub": "com.example.web", "aud": APPLE_AUDIENCE,
                "iat": NOW, "exp": NOW + APPLE_MAX_SECRET_LIFETIME,
            }));
            claims.extend(object(changes));
            check_apple_claims(&claims, "com.example.web", "TEAM123456", NOW)
        };
        assert_eq!(secret(json!({})), Ok(()));
        assert!(secret(json!({"exp": NOW})).unwrap_err().contains("expired"));
        assert!(secret(json!({"exp": NOW + APPLE_MAX_SECRET_LIFETIME + 1}))
            .unwrap_err()
            .contains("too long"));
        // Issued long ago, so that exp - iat is too long although exp - now is not.
        assert!(
            secret(json!({"iat": NOW - 10, "exp": NOW + APPLE_MAX_SECRET_LIFETIME - 5}))
                .unwrap_err()
                .contains("too long")
        );
        assert!(secret(json!({"iss": "OTHER"})).unwrap_err().contains("iss"));
        assert!(secret(json!({"sub": "other"})).unwrap_err().contains("sub"));
        assert!(secret(json!({"aud": "https://appleid.apple.com/"}))
            .unwrap_err()
            .contains("aud"));
        assert!(secret(json!({"iat": NOW + 61}))
            .unwrap_err()
            .contains("iat"));
    }
}
