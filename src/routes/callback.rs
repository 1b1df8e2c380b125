//! `GET /authorization-code/callback`: finishes a login. The checks before the provider is asked
//! anything (`state`, the provider the login went to, RFC 9207 `iss`), the code exchange,
//! ID-token and userinfo validation, and the new session.

use percent_encoding::percent_decode_str;
use rocket::http::CookieJar;
use rocket::route::{Handler, Outcome};
use rocket::serde::json::serde_json::{Map, Value};
use rocket::{Data, Request};

use super::hook;
use super::pages::{login_failure, see_other};
use super::state_of;
use crate::config::Config;
use crate::error::LoginError;
use crate::provider::{ExpectedNonce, TokenResponse, ValidatedIdToken};
use crate::session::{self, SessionData, Transaction};
use crate::state::{OidcState, ProviderState};
use crate::store;
use crate::user;
use crate::util;

/// The longest callback query we parse.
const MAX_CALLBACK_QUERY: usize = 16 * 1024;

/// The parameters of an authorization response (RFC 6749 §4.1.2, RFC 9207).
#[derive(Default, PartialEq, Eq)]
pub struct CallbackParams {
    /// `code`: the authorization code.
    pub code: Option<String>,
    /// `state`: the value /login sent, naming the pending login.
    pub state: Option<String>,
    /// `iss` (RFC 9207): the issuer that answered.
    pub iss: Option<String>,
    /// `error`: the provider's OAuth error code.
    pub error: Option<String>,
    /// `error_description`: the provider's explanation.
    pub error_description: Option<String>,
}

/// `Debug` hides the one-time code and the state.
impl std::fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("CallbackParams")
            .field("code", &hidden(&self.code))
            .field("state", &hidden(&self.state))
            .field("iss", &self.iss)
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
}

/// Parses a callback query strictly: invalid percent-encoding or UTF-8, duplicated protocol
/// parameters and oversized queries are errors, never guesses.
pub fn parse_callback_query(raw: Option<&str>) -> Result<CallbackParams, LoginError> {
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_CALLBACK_QUERY {
        return Err(LoginError::BadRequest(format!(
            "query of {} bytes is too long",
            raw.len()
        )));
    }
    let mut params = CallbackParams::default();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = form_decode(key)?;
        let slot = match key.as_str() {
            "code" => &mut params.code,
            "state" => &mut params.state,
            "iss" => &mut params.iss,
            "error" => &mut params.error,
            "error_description" => &mut params.error_description,
            _ => continue,
        };
        if slot.is_some() {
            return Err(LoginError::BadRequest(format!(
                "parameter `{key}` appears twice"
            )));
        }
        *slot = Some(form_decode(value)?);
    }
    Ok(params)
}

/// `application/x-www-form-urlencoded` decoding that refuses malformed input.
pub(super) fn form_decode(s: &str) -> Result<String, LoginError> {
    let bytes = s.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(LoginError::BadRequest("malformed percent-encoding".into()));
        }
    }
    let plus = s.replace('+', " ");
    percent_decode_str(&plus)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| LoginError::BadRequest("a parameter is not valid UTF-8".into()))
}

/// `GET /authorization-code/callback` (with provider tables, each provider's callback path):
/// finishes a login at the provider at `index`.
#[derive(Clone)]
pub(super) struct Callback {
    pub index: usize,
}

#[rocket::async_trait]
impl Handler for Callback {
    async fn handle<'r>(&self, req: &'r Request<'_>, _data: Data<'r>) -> Outcome<'r> {
        let state = match state_of(req) {
            Ok(s) => s,
            Err(e) => return Outcome::Success(login_failure(None, &e)),
        };
        // The query as the browser sent it: `RedactCallbackQuery` took it out of the URI
        // before Rocket logged the request line.
        let query = crate::callback_log::original_query(req);
        Outcome::Success(
            match finish_login(req, state, self.index, query, None).await {
                Ok(location) => see_other(location),
                // A refusal of the login hook may answer otherwise (issue 16).
                Err(e) => {
                    hook::refused(req, state, &e).unwrap_or_else(|| login_failure(Some(state), &e))
                }
            },
        )
    }
}

/// Finishes a login whose authorization response (`params`: the callback's query, or the body
/// of a `form_post` callback, see `form_post.rs`) reached the callback of the provider at
/// `index`. `untrusted` are claims the response carried beside it, unsigned (Sign in with
/// Apple's `user`): they fill only claims that neither the ID token nor userinfo has.
pub(super) async fn finish_login(
    req: &Request<'_>,
    state: &OidcState,
    index: usize,
    params: Option<&str>,
    untrusted: Option<Map<String, Value>>,
) -> Result<String, LoginError> {
    let jar = req.cookies();
    let opts = state.cookie_options();
    let (tx, code) = check_provider_callback(jar, params, state, index)?;
    let provider = state
        .providers
        .get(index)
        .ok_or_else(|| LoginError::Internal("no such provider".into()))?;
    let config = &provider.config;
    let tokens = provider
        .provider
        .exchange_code(config, &code, &tx.pkce_verifier)
        .await?;
    let raw_id_token = tokens.id_token.as_deref().ok_or_else(|| {
        LoginError::TokenEndpoint(
            "the response has no id_token (is `openid` among the scopes?)".into(),
        )
    })?;
    let id_token = provider
        .provider
        .verify_id_token(
            raw_id_token,
            ExpectedNonce::Exact(&tx.nonce),
            Some(&tokens.access_token),
        )
        .await?;
    let userinfo = if config.fetch_userinfo {
        provider
            .provider
            .userinfo(&tokens.access_token, &id_token.subject)
            .await?
    } else {
        None
    };
    let userinfo = match untrusted {
        Some(extra) => {
            let mut merged = userinfo.unwrap_or_default();
            for (claim, value) in extra {
                if !id_token.claims.contains_key(&claim) {
                    merged.entry(claim).or_insert(value);
                }
            }
            Some(merged)
        }
        None => userinfo,
    };
    let subject = util::truncate(&id_token.subject, 64);
    let now = state.clock().now_unix();
    let mut data = new_session(
        config,
        &tokens,
        id_token,
        userinfo,
        now,
        util::random_token(SESSION_ID_BYTES),
    );
    data.provider = provider.stored_name();
    // What the guards will read back must be readable, or the user would loop through login.
    let Some(claims) = user::user_claims(&provider.binding, &data, None) else {
        return Err(LoginError::IdToken(
            "its claims cannot be read back (no string `sub`, or iss/aud not this client)".into(),
        ));
    };
    not_signed_out(state, provider, &mut data, &claims)?;
    // The app's login hook (issue 16) decides on what the guards will see, before anything is
    // written: a refusal or a failure leaves no session.
    let user = user::bound_user_context(&provider.binding, &data);
    let landing = hook::run(req, user, &mut data, tx.return_to).await?;
    // Always a fresh session: whatever session cookie the browser had is replaced (session
    // fixation).
    session::clear_session(jar, opts);
    session::write_session(jar, opts, &data, state.lifetimes().absolute)
        .map_err(LoginError::Internal)?;
    log::info!(
        "{}: signed in subject `{subject}`",
        provider.log_prefix(state.named)
    );
    Ok(landing)
}

/// The callback's checks before any provider is asked anything (the transaction, the provider
/// it went to, RFC 9207 `iss`, then `error` and the code), for the first provider (the only one
/// without provider tables): for the benches.
#[cfg(feature = "internals")]
pub fn check_callback(
    jar: &CookieJar<'_>,
    query: Option<&str>,
    state: &OidcState,
) -> Result<(Transaction, String), LoginError> {
    check_provider_callback(jar, query, state, 0)
}

/// The checks of a callback at the provider at `index` before any provider is asked anything,
/// in this order: the query; the transaction (`state`, taken out of the jar whatever happens
/// next); that the login was sent to this provider (the mix-up defence of RFC 9700 §4.4.2: each
/// provider has its own redirect URI); the RFC 9207 `iss`, which must be this provider's and is
/// required when its metadata advertises it, also on error responses (RFC 9207 §2.4); only then
/// the provider's `error`; and the code. Returns the transaction and the code.
pub(crate) fn check_provider_callback(
    jar: &CookieJar<'_>,
    query: Option<&str>,
    state: &OidcState,
    index: usize,
) -> Result<(Transaction, String), LoginError> {
    let provider = state
        .providers
        .get(index)
        .ok_or_else(|| LoginError::Internal("no such provider".into()))?;
    let config = &provider.config;
    let opts = state.cookie_options();
    let login_timeout = state.app.login_timeout_secs.min(i64::MAX as u64) as i64;
    let metadata = &provider.provider.metadata;
    let params = parse_callback_query(query)?;
    let tx = params
        .state
        .as_deref()
        .and_then(|s| session::take_transaction(jar, opts, s, login_timeout));
    let Some(tx) = tx else {
        return Err(if params.state.is_none() {
            LoginError::BadRequest("the `state` parameter is missing".into())
        } else {
            LoginError::UnknownState
        });
    };
    // A login sent to one provider whose answer arrives at another's callback: the browser was
    // sent here by another party than the one the login went to. Nothing is sent to either.
    if tx.provider_name() != provider.name.as_str() {
        return Err(LoginError::ProviderMismatch(format!(
            "the login was sent to provider `{}`, but its answer came to the callback of `{}`",
            util::truncate(tx.provider_name(), 32),
            provider.name
        )));
    }
    if tx.issuer != config.issuer {
        return Err(LoginError::UnknownState);
    }
    // RFC 9207 §2.4: iss, when present, must be this provider's; when the provider advertises
    // it, it must be present (a mix-up attack strips it). Before the provider's `error`: an
    // error response of another issuer must not show its text here.
    match params.iss.as_deref() {
        Some(iss) if !provider.provider.issuer_policy().accepts_response_iss(iss) => {
            return Err(LoginError::IssuerMismatch(format!(
                "`{}` is not the issuer of provider `{}` ({})",
                util::truncate(iss, 100),
                provider.name,
                config.issuer
            )))
        }
        None if metadata.authorization_response_iss_parameter_supported => {
            return Err(LoginError::IssuerMismatch(
                "missing, though the provider advertises authorization_response_iss_parameter_supported"
                    .into(),
            ))
        }
        _ => {}
    }
    // Only an answer to a login this browser started may show the provider's text: anyone can
    // craft a link with `error_description=...`.
    if let Some(error) = params.error {
        return Err(LoginError::Provider {
            error,
            description: params.error_description,
        });
    }
    let code = params
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| LoginError::BadRequest("the `code` parameter is missing".into()))?;
    Ok((tx, code))
}

/// Random bytes of a session's own id (`SessionData::session_id`): 64 bits, 11 characters.
const SESSION_ID_BYTES: usize = 8;

/// Dates the new session after any marker this instance holds for it (`store::creation_time`:
/// a login finishing in the second of a logout is newer than it), or refuses the login when a
/// marker lies ahead of our clock.
fn not_signed_out(
    state: &OidcState,
    provider: &ProviderState,
    data: &mut SessionData,
    claims: &user::Claims,
) -> Result<(), LoginError> {
    let keys = provider.keys_of(claims.tenant_issuer()).of_session(
        claims.sid(),
        data.session_id.as_deref(),
        claims.sub(),
    );
    match store::creation_time(state.store(), keys.as_slice(), data.created) {
        Some(created) => {
            data.created = created;
            Ok(())
        }
        None => Err(LoginError::Internal(
            "this user (or provider session) was signed out at a time still ahead of this \
             server's clock; check the clocks of the instances sharing the revocation store"
                .into(),
        )),
    }
}

/// The session a validated login yields: the ID token, the tokens the app keeps
/// (`oidc.keep_access_token`, `oidc.keep_refresh_token`) and only the userinfo claims the ID
/// token lacks. `now` is the sign-in time (Unix seconds); `session_id` a fresh random id, kept
/// only when the ID token has no `sid` (what `POST /logout` then marks as signed out). It names
/// no provider: the callback sets [`SessionData::provider`].
pub fn new_session(
    config: &Config,
    tokens: &TokenResponse,
    id_token: ValidatedIdToken,
    userinfo: Option<Map<String, Value>>,
    now: i64,
    session_id: String,
) -> SessionData {
    let has_sid = id_token
        .claims
        .get("sid")
        .and_then(Value::as_str)
        .is_some_and(|sid| !sid.is_empty());
    SessionData {
        session_id: (!has_sid).then_some(session_id),
        userinfo_extra: userinfo
            .map(|u| session::userinfo_delta(&id_token.claims, u))
            .unwrap_or_default(),
        id_token: id_token.raw,
        access_token: config
            .keep_access_token
            .then(|| tokens.access_token.clone()),
        access_expires_at: tokens
            .expires_in
            .map(|s| now.saturating_add(s.min(i64::MAX as u64) as i64)),
        refresh_token: if config.keep_refresh_token {
            tokens.refresh_token.clone()
        } else {
            None
        },
        created: now,
        seen: now,
        nonce: None,
        provider: None,
        app_data: None,
    }
}

#[cfg(test)]
mod tests;
