//! The token endpoint (RFC 6749 §3.2, RFC 7636), userinfo (OpenID Connect Core §5.3) and
//! revocation (RFC 7009).

use std::sync::Arc;
use std::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rocket::data::Data;
use rocket::http::Status;
use rocket::serde::json::serde_json::{json, Value};
use rocket::State;
use sha2::{Digest, Sha256};

use super::client_auth::{authenticate, invalid_client};
use super::directory::DevClient;
use super::entry::enter;
use super::faults::Fault;
use super::grants;
use super::issue::{self, Issue, RefreshToken};
use super::jwt;
use super::params::{Params, RequestInfo};
use super::refresh;
use super::reply::Reply;
use super::state::{Grant, Inner};

/// The routes of this module.
pub(crate) fn routes() -> Vec<rocket::Route> {
    rocket::routes![token, userinfo_get, userinfo_post, revoke]
}

fn invalid_request(description: &str) -> Reply {
    Reply::oauth_error(Status::BadRequest, "invalid_request", description)
}

fn invalid_grant(description: &str) -> Reply {
    Reply::oauth_error(Status::BadRequest, "invalid_grant", description)
}

#[rocket::post("/token", data = "<data>")]
async fn token(info: RequestInfo, data: Data<'_>, inner: &State<Arc<Inner>>) -> Reply {
    let faults = enter(inner, |c| &mut c.token).await;
    let token_delay = faults.delay_token();
    if !token_delay.is_zero() {
        rocket::tokio::time::sleep(token_delay).await;
    }
    if let Some((status, body)) = faults.token_raw() {
        let status = Status::from_code(status).unwrap_or(Status::BadRequest);
        return match rocket::serde::json::serde_json::from_str::<Value>(body) {
            Ok(json) => Reply::json(status, &json),
            Err(_) => Reply::html(status, body.to_owned()),
        };
    }
    if faults.has(&Fault::TokenServerError) {
        return Reply::server_error();
    }
    if faults.has(&Fault::TokenInvalidClient) {
        return invalid_client("client authentication failed (fault)", true);
    }
    if faults.has(&Fault::TokenInvalidGrant) {
        return invalid_grant("the grant is invalid (fault)");
    }
    let params = match info.body_params(data).await {
        Ok(params) => params,
        Err(error) => return invalid_request(&error.description()),
    };
    let client = match authenticate(inner, &info, &params) {
        Ok(client) => client,
        Err(reply) => return reply,
    };
    match params.get("grant_type") {
        None => invalid_request("grant_type is required"),
        Some("authorization_code") => match code_grant(inner, &client, &params) {
            Ok((grant, scope)) => issue::token_response(
                inner,
                Issue {
                    client: &client,
                    grant,
                    scope,
                    refresh_token: RefreshToken::New,
                    is_refresh: false,
                },
            ),
            Err(reply) => reply,
        },
        Some("refresh_token") => refresh::refresh_grant(inner, &client, &params),
        Some(_) => Reply::oauth_error(
            Status::BadRequest,
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
        ),
    }
}

/// RFC 7636 §4.1: 43–128 unreserved characters.
fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Redeems a code: one-time (it is gone after the first attempt, successful or not), unexpired,
/// issued to this client for this redirect_uri, and matching the PKCE challenge.
fn code_grant(
    inner: &Inner,
    client: &DevClient,
    params: &Params,
) -> Result<(Grant, Vec<String>), Reply> {
    let Some(code) = params.get("code") else {
        return Err(invalid_request("code is required"));
    };
    let Some(issued) = inner.lock().codes.remove(code) else {
        return Err(invalid_grant(
            "the code is unknown, expired or already used",
        ));
    };
    if issued.expires <= Instant::now() {
        return Err(invalid_grant("the code has expired"));
    }
    if issued.grant.client_id != client.client_id {
        return Err(invalid_grant("the code was issued to another client"));
    }
    if params.get("redirect_uri") != Some(issued.redirect_uri.as_str()) {
        return Err(invalid_grant(
            "redirect_uri differs from the authorization request",
        ));
    }
    let Some(verifier) = params.get("code_verifier") else {
        return Err(invalid_grant("code_verifier is required (PKCE)"));
    };
    if !valid_verifier(verifier)
        || URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != issued.code_challenge
    {
        return Err(invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    let scope = issued.grant.scope.clone();
    Ok((issued.grant, scope))
}

/// A 401/400 with an RFC 6750 §3 challenge.
fn bearer_error(status: Status, error: Option<&str>, description: &str) -> Reply {
    let challenge = match error {
        Some(error) => format!(
            "Bearer realm=\"dev-issuer\", error=\"{error}\", error_description=\"{description}\""
        ),
        None => "Bearer realm=\"dev-issuer\"".to_owned(),
    };
    let body =
        json!({"error": error.unwrap_or("invalid_request"), "error_description": description});
    Reply::json(status, &body).header("WWW-Authenticate", challenge)
}

#[rocket::get("/userinfo")]
async fn userinfo_get(info: RequestInfo, inner: &State<Arc<Inner>>) -> Reply {
    let params = info.query_params();
    userinfo(inner, &info, params.ok()).await
}

#[rocket::post("/userinfo", data = "<data>")]
async fn userinfo_post(info: RequestInfo, data: Data<'_>, inner: &State<Arc<Inner>>) -> Reply {
    let params = if info.form_body {
        info.body_params(data).await.ok()
    } else {
        Some(Params::default())
    };
    userinfo(inner, &info, params).await
}

/// Userinfo: only with `Authorization: Bearer`. `params` is `None` when the query or body could
/// not be parsed.
async fn userinfo(inner: &Inner, info: &RequestInfo, params: Option<Params>) -> Reply {
    let faults = enter(inner, |c| &mut c.userinfo).await;
    if faults.has(&Fault::UserinfoServerError) {
        return Reply::server_error();
    }
    let Some(params) = params else {
        return bearer_error(
            Status::BadRequest,
            Some("invalid_request"),
            "malformed parameters",
        );
    };
    if params.get("access_token").is_some() {
        return bearer_error(
            Status::BadRequest,
            Some("invalid_request"),
            "send the access token in the Authorization header, not in the query or body",
        );
    }
    let token = match info.authorization.as_slice() {
        [] => return bearer_error(Status::Unauthorized, None, "an access token is required"),
        [header] => match header.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => {
                return bearer_error(
                    Status::BadRequest,
                    Some("invalid_request"),
                    "use the Bearer scheme",
                )
            }
        },
        _ => {
            return bearer_error(
                Status::BadRequest,
                Some("invalid_request"),
                "more than one Authorization header",
            )
        }
    };
    if faults.has(&Fault::UserinfoUnauthorized) {
        return bearer_error(
            Status::Unauthorized,
            Some("invalid_token"),
            "the token was rejected (fault)",
        );
    }
    let (grant, user) = {
        let state = inner.lock();
        let Some(access) = state
            .access_tokens
            .get(token)
            .filter(|a| a.expires > Instant::now())
        else {
            return bearer_error(
                Status::Unauthorized,
                Some("invalid_token"),
                "the access token is unknown, expired or revoked",
            );
        };
        let user = state
            .users
            .iter()
            .find(|u| u.sub == access.grant.sub)
            .cloned();
        (access.grant.clone(), user)
    };
    let Some(user) = user else {
        return bearer_error(
            Status::Unauthorized,
            Some("invalid_token"),
            "the user no longer exists",
        );
    };
    let mut claims = jwt::user_claims(&user, &grant.scope, &faults);
    let sub = if faults.has(&Fault::UserinfoSubMismatch) {
        "someone-else"
    } else {
        &user.sub
    };
    claims.insert("sub".into(), json!(sub));
    Reply::json(Status::Ok, &Value::Object(claims)).no_store()
}

/// RFC 7009: always 200 for tokens the client may name, known or not.
#[rocket::post("/revoke", data = "<data>")]
async fn revoke(info: RequestInfo, data: Data<'_>, inner: &State<Arc<Inner>>) -> Reply {
    inner.lock().counters.revocation += 1;
    let params = match info.body_params(data).await {
        Ok(params) => params,
        Err(error) => return invalid_request(&error.description()),
    };
    let client = match authenticate(inner, &info, &params) {
        Ok(client) => client,
        Err(reply) => return reply,
    };
    let Some(token) = params.get("token") else {
        return invalid_request("token is required");
    };
    let mut state = inner.lock();
    state.counters.revoked_tokens.push(token.to_owned());
    let owned_access = state
        .access_tokens
        .get(token)
        .is_some_and(|a| a.grant.client_id == client.client_id);
    if owned_access {
        state.access_tokens.remove(token);
    }
    let refresh = state
        .refresh_tokens
        .get(token)
        .filter(|g| g.client_id == client.client_id)
        .cloned();
    if let Some(grant) = refresh {
        // RFC 7009 §2.1: revoking a refresh token revokes the access tokens of its grant too.
        grants::revoke(&mut state, &grant, false);
    }
    Reply::json(Status::Ok, &json!({}))
}
