//! `GET /login`: starts a login (OIDC Core §3.1.2.1 with PKCE, RFC 7636) and sends the browser to
//! the provider.

use rocket::route::{Handler, Outcome};
use rocket::{Data, Request};

use super::pages::{login_failure, see_other};
use super::{query_param, state_of};
use crate::error::LoginError;
use crate::return_to::sanitize_return_to;
use crate::session::{self, Transaction};
use crate::state::OidcState;
use crate::util;

/// `GET /login[?return_to=..][&login_hint=..]`: starts a login (OIDC Core §3.1.2.1 with PKCE,
/// RFC 7636) and sends the browser to the provider.
#[derive(Clone)]
pub(super) struct Login;

#[rocket::async_trait]
impl Handler for Login {
    async fn handle<'r>(&self, req: &'r Request<'_>, _data: Data<'r>) -> Outcome<'r> {
        let state = match state_of(req) {
            Ok(s) => s,
            Err(e) => return Outcome::Success(login_failure(None, &e)),
        };
        Outcome::Success(match start_login(req, state) {
            Ok(location) => see_other(location),
            Err(e) => login_failure(Some(state), &e),
        })
    }
}

fn start_login(req: &Request<'_>, state: &OidcState) -> Result<String, LoginError> {
    let config = &state.config;
    let return_to = query_param(req, "return_to")
        .and_then(|r| sanitize_return_to(&r))
        .unwrap_or_else(|| "/".into());
    let csrf = util::random_token(16);
    let nonce = util::random_token(16);
    let verifier = util::random_token(32);
    let challenge = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()))
    };
    let tx = Transaction {
        state: csrf.clone(),
        nonce: nonce.clone(),
        pkce_verifier: verifier,
        return_to,
        issuer: config.issuer.clone(),
        created: util::now_unix(),
    };
    session::write_transaction(
        req.cookies(),
        state.cookie_options(),
        &tx,
        config.login_timeout_secs as i64,
        config.max_pending_logins,
    )
    .map_err(LoginError::Internal)?;

    let mut url = url::Url::parse(&state.provider.metadata.authorization_endpoint)
        .map_err(|e| LoginError::Internal(format!("authorization_endpoint: {e}")))?;
    {
        let scope = config.scopes.join(" ");
        let redirect_uri = config.redirect_uri();
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &config.client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", &scope)
            .append_pair("state", &csrf)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        // OIDC Core §11: a request for offline_access MUST carry prompt=consent.
        if config.scopes.iter().any(|s| s == "offline_access") {
            q.append_pair("prompt", "consent");
        }
        if let Some(hint) = query_param(req, "login_hint").filter(|h| h.len() <= 256) {
            q.append_pair("login_hint", &hint);
        }
    }
    Ok(url.into())
}
