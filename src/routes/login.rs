//! `GET /login`: starts a login (OIDC Core §3.1.2.1 with PKCE, RFC 7636) and sends the browser to
//! the provider. With provider tables, `/login/NAME` does so for provider `NAME`, and `/login`
//! goes to the default provider or lets the user choose.

use rocket::http::Status;
use rocket::route::{Handler, Outcome};
use rocket::{Data, Request};

use super::pages::{html, login_failure, page, see_other};
use super::{query_param, state_of};
use crate::config::{sub_path, ResponseMode};
use crate::error::LoginError;
use crate::return_to::sanitize_return_to;
use crate::session::{self, Transaction};
use crate::state::{OidcState, ProviderState};
use crate::util;

/// `GET /login[?return_to=..][&login_hint=..]` (or `/login/NAME`): starts a login at the
/// provider at `index` and sends the browser there.
#[derive(Clone)]
pub(super) struct Login {
    pub index: usize,
}

#[rocket::async_trait]
impl Handler for Login {
    async fn handle<'r>(&self, req: &'r Request<'_>, _data: Data<'r>) -> Outcome<'r> {
        let state = match state_of(req) {
            Ok(s) => s,
            Err(e) => return Outcome::Success(login_failure(None, &e)),
        };
        let Some(provider) = state.providers.get(self.index) else {
            let e = LoginError::Internal("no such provider".into());
            return Outcome::Success(login_failure(Some(state), &e));
        };
        Outcome::Success(match start_login(req, state, provider) {
            Ok(location) => see_other(location),
            Err(e) => login_failure(Some(state), &e),
        })
    }
}

/// `GET /login` with provider tables: a 303 to the default provider's `/login/NAME` (the query
/// kept), or a page with one sign-in link per provider.
#[derive(Clone)]
pub(super) struct Choose;

#[rocket::async_trait]
impl Handler for Choose {
    async fn handle<'r>(&self, req: &'r Request<'_>, _data: Data<'r>) -> Outcome<'r> {
        let state = match state_of(req) {
            Ok(s) => s,
            Err(e) => return Outcome::Success(login_failure(None, &e)),
        };
        // What the provider's login needs: a safe return_to, and the hint.
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(return_to) = query_param(req, "return_to").and_then(|r| sanitize_return_to(&r))
        {
            query.append_pair("return_to", &return_to);
        }
        if let Some(hint) = query_param(req, "login_hint").filter(|h| h.len() <= 256) {
            query.append_pair("login_hint", &hint);
        }
        let query = query.finish();
        let href = |provider: &ProviderState| {
            let path = sub_path(&state.app.login_path, provider.name.as_str());
            if query.is_empty() {
                path
            } else {
                format!("{path}?{query}")
            }
        };
        if let Some(provider) = state.default.and_then(|i| state.providers.get(i)) {
            return Outcome::Success(see_other(href(provider)));
        }
        let links: String = state
            .providers
            .iter()
            .map(|p| {
                format!(
                    "<li><a href=\"{}\">Sign in with {}</a></li>",
                    util::html_escape(&href(p)),
                    util::html_escape(&p.display_name)
                )
            })
            .collect();
        let body = format!("<ul class=\"providers\">{links}</ul>");
        Outcome::Success(html(Status::Ok, page("Sign in", &body)))
    }
}

fn start_login(
    req: &Request<'_>,
    state: &OidcState,
    provider: &ProviderState,
) -> Result<String, LoginError> {
    let app = &state.app;
    let config = &provider.config;
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
        // The callback requires the answer at this provider's callback path (RFC 9700 §4.4.2).
        provider: provider.stored_name(),
    };
    // A form_post answer is a cross-site POST, which a SameSite=Lax cookie does not accompany.
    let form_post = config.response_mode == ResponseMode::FormPost;
    session::write_transaction_for(
        req.cookies(),
        state.cookie_options(),
        &tx,
        app.login_timeout_secs as i64,
        app.max_pending_logins,
        form_post,
    )
    .map_err(LoginError::Internal)?;

    let mut url = url::Url::parse(&provider.provider.metadata.authorization_endpoint)
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
        if form_post {
            // OAuth 2.0 Form Post Response Mode §2.
            q.append_pair("response_mode", "form_post");
        }
        // OIDC Core §11: a request for offline_access MUST carry prompt=consent (a `prompt` of
        // authorization_params replaces it; validation made sure it asks for consent too).
        if config.scopes.iter().any(|s| s == "offline_access")
            && !config.authorization_params.contains_key("prompt")
        {
            q.append_pair("prompt", "consent");
        }
        // Validation refused the parameters set above.
        for (name, value) in &config.authorization_params {
            q.append_pair(name, value);
        }
        if let Some(hint) = query_param(req, "login_hint").filter(|h| h.len() <= 256) {
            q.append_pair("login_hint", &hint);
        }
    }
    Ok(url.into())
}
