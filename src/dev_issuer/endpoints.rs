//! Discovery, JWKS, the authorization endpoint with its login page, end_session, and catchers.

use std::sync::Arc;
use std::time::Instant;

use rocket::data::Data;
use rocket::http::Status;
use rocket::request::Request;
use rocket::serde::json::serde_json::Value;
use rocket::State;
use url::Url;

use super::backchannel;
use super::directory::DevUser;
use super::discovery::{openid_configuration, serve_discovery, SCOPES};
use super::entry::enter;
use super::faults::{Fault, Faults};
use super::form_post::{form_post_page, ResponseMode};
use super::jwt;
use super::keys;
use super::metadata;
use super::params::{ParamError, Params, RequestInfo};
use super::reply::{error_page, login_page, signed_out_page, Reply};
use super::state::{
    random_token, unix_now, CodeGrant, Grant, Inner, Pending, State as IssuerState,
};
use super::tenants;

/// The `iss` of the faults that corrupt it.
const WRONG_ISSUER: &str = "http://wrong-issuer.invalid";

/// The routes of this module.
pub(crate) fn routes() -> Vec<rocket::Route> {
    rocket::routes![
        discovery,
        jwks,
        authorize,
        login,
        end_session_get,
        end_session_post,
    ]
}

/// One catcher for everything Rocket itself rejects: a JSON OAuth-style error, and 400 instead of
/// Rocket's 422.
pub(crate) fn catchers() -> Vec<rocket::Catcher> {
    rocket::catchers![catch_all]
}

#[rocket::catch(default)]
fn catch_all(status: Status, _: &Request<'_>) -> Reply {
    let status = if status == Status::UnprocessableEntity {
        Status::BadRequest
    } else {
        status
    };
    let error = if status.code >= 500 {
        "server_error"
    } else {
        "invalid_request"
    };
    Reply::oauth_error(status, error, status.reason().unwrap_or("error"))
}

#[rocket::get("/.well-known/openid-configuration")]
async fn discovery(inner: &State<Arc<Inner>>) -> Reply {
    let faults = enter(inner, |c| &mut c.discovery).await;
    if let Some(reply) = tenants::root_discovery(inner) {
        return reply;
    }
    if let Some(reply) = metadata::discovery_redirect(inner.issuer(), &faults) {
        return reply;
    }
    serve_discovery(&faults, openid_configuration(inner.issuer(), &faults))
}

#[rocket::get("/jwks")]
async fn jwks(inner: &State<Arc<Inner>>) -> Reply {
    let faults = enter(inner, |c| &mut c.jwks).await;
    let jwks_delay = faults.delay_jwks();
    if !jwks_delay.is_zero() {
        rocket::tokio::time::sleep(jwks_delay).await;
    }
    let mut document = keys::jwks(&jwt::published_keys(&faults));
    metadata::apply_jwks_faults(&mut document, &faults);
    if faults.has(&Fault::JwksStandardBase64) {
        super::faults::standard_base64(&mut document);
    }
    match faults.huge_jwks() {
        Some(mb) => Reply::padded_json(&document, mb),
        None => Reply::json(Status::Ok, &document),
    }
}

/// Whether `requested` matches the `registered` redirect URI: exactly, except that the port of
/// a loopback host (`127.0.0.1`, `[::1]`, `localhost`) may differ (RFC 8252 §7.3).
pub(crate) fn redirect_uri_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Ok(mut registered), Ok(mut requested)) = (Url::parse(registered), Url::parse(requested))
    else {
        return false;
    };
    let loopback = matches!(
        registered.host_str(),
        Some("127.0.0.1" | "[::1]" | "localhost")
    );
    if !loopback || requested.fragment().is_some() {
        return false;
    }
    // Both are loopback URLs here, so set_port cannot fail; ignore the ports.
    let _ = registered.set_port(None);
    let _ = requested.set_port(None);
    registered == requested
}

/// The authorization response: `params` and RFC 9207 `iss` (unless a fault or the multi-tenant
/// mode says otherwise), appended to `redirect_uri` or posted to it (`form_post`).
fn redirect_to(
    redirect_uri: &str,
    mode: ResponseMode,
    params: &[(&str, &str)],
    inner: &Inner,
    faults: &Faults,
) -> Reply {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return error_page("The redirect_uri is not a valid URL.");
    };
    let mut params = params.to_vec();
    if faults.has(&Fault::AuthResponseWrongIssuer) {
        params.push(("iss", WRONG_ISSUER));
    } else if let Some(issuer) = tenants::response_issuer(inner) {
        if !faults.has(&Fault::AuthResponseMissingIssuer) {
            params.push(("iss", issuer));
        }
    }
    if mode == ResponseMode::FormPost {
        return form_post_page(redirect_uri, &params);
    }
    url.query_pairs_mut().extend_pairs(&params);
    Reply::redirect(url.into()).no_store()
}

/// An error authorization response (RFC 6749 §4.1.2.1).
fn error_redirect(
    inner: &Inner,
    faults: &Faults,
    redirect_uri: &str,
    mode: ResponseMode,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Reply {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect_to(redirect_uri, mode, &params, inner, faults)
}

#[rocket::get("/authorize")]
fn authorize(info: RequestInfo, inner: &State<Arc<Inner>>) -> Reply {
    let mut state = inner.lock();
    state.counters.authorize += 1;
    let params = match info.query_params() {
        Ok(params) => params,
        Err(error) => return error_page(&error.description()),
    };
    let Some(client_id) = params.get("client_id") else {
        return error_page("The authorization request has no client_id.");
    };
    let Some(client) = state.clients.get(client_id) else {
        return error_page(&format!("Unknown client_id `{client_id}`."));
    };
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return error_page("The authorization request has no redirect_uri.");
    };
    if !client
        .redirect_uris
        .iter()
        .any(|registered| redirect_uri_matches(registered, redirect_uri))
    {
        return error_page(&format!(
            "The redirect_uri `{redirect_uri}` is not registered for client `{client_id}`."
        ));
    }

    let faults = state.faults.clone();
    let state_param = params.get("state");
    // OAuth 2.0 Form Post Response Mode §2; an unsupported mode is answered in the default one.
    let response_mode = ResponseMode::parse(params.get("response_mode"));
    let fail = |error: &str, description: &str| {
        error_redirect(
            inner,
            &faults,
            redirect_uri,
            response_mode.unwrap_or_default(),
            state_param,
            error,
            description,
        )
    };
    match params.get("response_type") {
        Some("code") => {}
        None => return fail("invalid_request", "response_type is required"),
        Some(_) => {
            return fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            )
        }
    }
    let Some(response_mode) = response_mode else {
        return fail(
            "invalid_request",
            "response_mode must be query or form_post",
        );
    };
    if params.get("request").is_some() {
        return fail("request_not_supported", "request objects are not supported");
    }
    if params.get("request_uri").is_some() {
        return fail("request_uri_not_supported", "request_uri is not supported");
    }
    let requested: Vec<&str> = params.get("scope").unwrap_or("").split(' ').collect();
    if !requested.contains(&"openid") {
        return fail("invalid_scope", "the scope must include openid");
    }
    let scope: Vec<String> = SCOPES
        .iter()
        .filter(|s| requested.contains(s))
        .map(|s| s.to_string())
        .collect();
    let Some(code_challenge) = params.get("code_challenge") else {
        return fail(
            "invalid_request",
            "PKCE is required: send code_challenge with code_challenge_method=S256",
        );
    };
    if params.get("code_challenge_method") != Some("S256") {
        return fail(
            "invalid_request",
            "code_challenge_method must be S256 (plain is not accepted)",
        );
    }
    if code_challenge.len() != 43
        || !code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return fail(
            "invalid_request",
            "code_challenge must be a base64url SHA-256 (43 characters)",
        );
    }
    let pending = Pending {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: state_param.map(str::to_owned),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        login_hint: params.get("login_hint").map(str::to_owned),
        response_mode,
        created: Instant::now(),
    };
    let prompt_none = params
        .get("prompt")
        .is_some_and(|prompt| prompt.split(' ').any(|p| p == "none"));

    if let Some(username) = state.auto_login.clone() {
        if let Some(user) = state.user(&username).cloned() {
            return complete_login(inner, &mut state, pending, &user);
        }
    }
    if prompt_none {
        return fail("login_required", "prompt=none, and nobody is signed in");
    }
    let hint = pending.login_hint.clone();
    let message = state
        .auto_login
        .as_ref()
        .map(|name| format!("Auto-login user `{name}` does not exist."));
    let status = if message.is_some() {
        Status::BadRequest
    } else {
        Status::Ok
    };
    let id = state.add_pending(pending);
    let selected = hint
        .as_deref()
        .and_then(|hint| state.user(hint))
        .map(|u| u.preferred_username.as_str());
    login_page(
        status,
        &id,
        client_id,
        &state.users,
        selected,
        message.as_deref(),
    )
}

/// Issues a code for `user` and redirects back to the client.
fn complete_login(
    inner: &Inner,
    state: &mut IssuerState,
    pending: Pending,
    user: &DevUser,
) -> Reply {
    let faults = state.faults.clone();
    if faults.has(&Fault::AuthResponseErrorHtml) {
        return error_redirect(
            inner,
            &faults,
            &pending.redirect_uri,
            pending.response_mode,
            pending.state.as_deref(),
            "access_denied",
            "<script>alert(1)</script>",
        );
    }
    let grant = Grant {
        id: state.new_grant_id(),
        client_id: pending.client_id,
        sub: user.sub.clone(),
        scope: pending.scope,
        nonce: pending.nonce,
        auth_time: unix_now(),
        sid: random_token(),
    };
    let code = state.add_code(CodeGrant {
        grant,
        redirect_uri: pending.redirect_uri.clone(),
        code_challenge: pending.code_challenge,
        expires: Instant::now() + inner.code_lifetime,
    });
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = pending.state.as_deref() {
        params.push(("state", s));
    }
    redirect_to(
        &pending.redirect_uri,
        pending.response_mode,
        &params,
        inner,
        &faults,
    )
}

#[rocket::post("/login", data = "<data>")]
async fn login(info: RequestInfo, data: Data<'_>, inner: &State<Arc<Inner>>) -> Reply {
    let params = info.body_params(data).await;
    let mut state = inner.lock();
    state.counters.login += 1;
    let params = match params {
        Ok(params) => params,
        Err(error) => return error_page(&error.description()),
    };
    let Some(id) = params.get("request_id") else {
        return error_page("The login form has no request_id.");
    };
    let Some(pending) = state.pending.get(id).cloned() else {
        return error_page(
            "This login request is unknown or has expired. Start again from the application.",
        );
    };
    match params.get("action") {
        None | Some("login") => {}
        Some("deny") => {
            state.pending.remove(id);
            let faults = state.faults.clone();
            return error_redirect(
                inner,
                &faults,
                &pending.redirect_uri,
                pending.response_mode,
                pending.state.as_deref(),
                "access_denied",
                "the user denied the request",
            );
        }
        Some(_) => return error_page("The action must be `login` or `deny`."),
    }
    let username = params.get("username").unwrap_or("");
    let Some(user) = state.user(username).cloned() else {
        let message = if username.is_empty() {
            "Choose a user.".to_owned()
        } else {
            format!("There is no user `{username}`.")
        };
        return login_page(
            Status::BadRequest,
            id,
            &pending.client_id,
            &state.users,
            None,
            Some(&message),
        );
    };
    state.pending.remove(id);
    complete_login(inner, &mut state, pending, &user)
}

#[rocket::get("/end_session")]
async fn end_session_get(info: RequestInfo, inner: &State<Arc<Inner>>) -> Reply {
    let params = info.query_params();
    let sub = hint_subject(inner, &params);
    logged_out(inner, sub, end_session(inner, params)).await
}

#[rocket::post("/end_session", data = "<data>")]
async fn end_session_post(info: RequestInfo, data: Data<'_>, inner: &State<Arc<Inner>>) -> Reply {
    let params = info.body_params(data).await;
    let sub = hint_subject(inner, &params);
    logged_out(inner, sub, end_session(inner, params)).await
}

/// The `sub` of a valid `id_token_hint`.
fn hint_subject(inner: &Inner, params: &Result<Params, ParamError>) -> Option<String> {
    let hint = params.as_ref().ok()?.get("id_token_hint")?;
    let claims = jwt::verify_own(hint).filter(|c| tenants::is_own_issuer(inner, c.get("iss")))?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

/// After an end_session that succeeded with an `id_token_hint`, and before answering (as
/// oidc-provider does): back-channel logout of that user's grants at every client
/// (Back-Channel Logout 1.0 §2.5). The issuer keeps no login session, so all of the user's
/// grants stand for "the session".
async fn logged_out(inner: &Inner, sub: Option<String>, reply: Reply) -> Reply {
    if let (Some(sub), true) = (sub, reply.status().code < 400) {
        backchannel::logout_user(inner, &sub).await;
    }
    reply
}

/// RP-Initiated Logout 1.0 §2–3. The issuer keeps no login session, so there is nothing to end
/// but the request is checked as a real provider would.
fn end_session(inner: &Inner, params: Result<Params, ParamError>) -> Reply {
    let mut state = inner.lock();
    state.counters.end_session += 1;
    let params = match params {
        Ok(params) => params,
        Err(error) => return error_page(&error.description()),
    };
    state.counters.last_end_session = Some(params.0.clone());
    let mut client_id = params.get("client_id").map(str::to_owned);
    if let Some(hint) = params.get("id_token_hint") {
        let Some(claims) =
            jwt::verify_own(hint).filter(|c| tenants::is_own_issuer(inner, c.get("iss")))
        else {
            return error_page("The id_token_hint was not issued by this issuer.");
        };
        let audience = match claims.get("aud") {
            Some(Value::String(aud)) => Some(aud.clone()),
            Some(Value::Array(auds)) => auds.first().and_then(Value::as_str).map(str::to_owned),
            _ => None,
        };
        if client_id.is_some() && audience.is_some() && client_id != audience {
            return error_page("The client_id does not match the id_token_hint.");
        }
        client_id = client_id.or(audience);
    }
    let Some(uri) = params.get("post_logout_redirect_uri") else {
        return signed_out_page();
    };
    let Some(client) = client_id.as_deref().and_then(|id| state.clients.get(id)) else {
        return error_page("A post_logout_redirect_uri needs a known client_id or id_token_hint.");
    };
    if !client
        .post_logout_redirect_uris
        .iter()
        .any(|registered| redirect_uri_matches(registered, uri))
    {
        return error_page(&format!(
            "The post_logout_redirect_uri `{uri}` is not registered for client `{}`.",
            client.client_id
        ));
    }
    let Ok(mut url) = Url::parse(uri) else {
        return error_page("The post_logout_redirect_uri is not a valid URL.");
    };
    if let Some(s) = params.get("state") {
        url.query_pairs_mut().append_pair("state", s);
    }
    Reply::redirect(url.into())
}

#[cfg(test)]
mod tests {
    use super::redirect_uri_matches as matches;

    #[test]
    fn redirect_uris_match_exactly_except_loopback_ports() {
        let reg = "http://localhost:8000/authorization-code/callback";
        assert!(matches(reg, reg));
        assert!(matches(
            reg,
            "http://localhost:41234/authorization-code/callback"
        ));
        assert!(matches(reg, "http://localhost/authorization-code/callback"));
        assert!(!matches(
            reg,
            "http://localhost:8000/authorization-code/callback/"
        ));
        assert!(!matches(
            reg,
            "http://localhost:8000/authorization-code/callback?x=1"
        ));
        assert!(!matches(
            reg,
            "http://localhost:8000/authorization-code/callback#f"
        ));
        assert!(!matches(
            reg,
            "https://localhost:8000/authorization-code/callback"
        ));
        assert!(!matches(
            reg,
            "http://127.0.0.1:8000/authorization-code/callback"
        ));
        assert!(!matches(
            reg,
            "http://localhost.evil.com:8000/authorization-code/callback"
        ));
        assert!(matches("http://[::1]:1/cb", "http://[::1]:2/cb"));
        let remote = "https://app.example.com/cb";
        assert!(!matches(remote, "https://app.example.com:444/cb"));
        assert!(!matches(remote, "https://APP.example.com/cb"));
        assert!(!matches("garbage", "also garbage"));
    }
}
