//! The routes the fairing mounts: login, the authorization-code callback and logout.

use std::io::Cursor;

use percent_encoding::percent_decode_str;
use rocket::http::{ContentType, CookieJar, Header, Method, Status};
use rocket::route::{Handler, Outcome, Route};
use rocket::serde::json::serde_json::{Map, Value};
use rocket::{Data, Request, Response};

use crate::config::Config;
use crate::error::LoginError;
use crate::fairing::OidcState;
use crate::provider::{TokenResponse, ValidatedIdToken};
use crate::session::{self, CookieOptions, SessionData, Transaction};
use crate::util;

/// The longest `return_to` we keep; longer ones fall back to `/`.
pub const MAX_RETURN_TO: usize = 2048;
/// The longest callback query we parse.
const MAX_CALLBACK_QUERY: usize = 16 * 1024;

/// Returns `raw` if it is a safe same-origin path to send a browser to after login, `None`
/// otherwise (the caller then uses `/`).
///
/// Accepted: an absolute path (`/...`) with an optional query, made of printable ASCII. Refused,
/// so that no input can turn into an open redirect (RFC 9700 §4.11): anything not starting with
/// exactly one `/` (absolute URLs, scheme-relative `//host`, `/\host`), backslashes anywhere (some
/// browsers read them as `/`), control characters and whitespace (raw or percent-encoded, which
/// browsers strip, turning `/%09/host` into `//host`), encoded slashes or backslashes right after
/// the first `/`, fragments, non-ASCII and anything longer than 2048 bytes.
///
/// ```rust
/// use rocket_openid_connect::sanitize_return_to;
/// assert_eq!(sanitize_return_to("/protected?tab=1").as_deref(), Some("/protected?tab=1"));
/// assert_eq!(sanitize_return_to("//evil.example"), None);
/// assert_eq!(sanitize_return_to("https://evil.example/"), None);
/// ```
pub fn sanitize_return_to(raw: &str) -> Option<String> {
    if raw.is_empty() || raw.len() > MAX_RETURN_TO || !raw.starts_with('/') {
        return None;
    }
    if !raw.bytes().all(|b| b.is_ascii_graphic()) || raw.contains('\\') || raw.contains('#') {
        return None;
    }
    // Decode repeatedly (double encoding) and look at what a browser might end up with.
    let mut decoded = raw.to_owned();
    for _ in 0..3 {
        let next = percent_decode_str(&decoded)
            .decode_utf8_lossy()
            .into_owned();
        if next == decoded {
            break;
        }
        decoded = next;
    }
    let path = decoded.split('?').next().unwrap_or_default();
    if path.chars().any(|c| !c.is_ascii_graphic() || c == '\\')
        || path.starts_with("//")
        || !path.starts_with('/')
    {
        return None;
    }
    // Must be a valid origin-form URI for Rocket too.
    rocket::http::uri::Origin::parse(raw).ok()?;
    Some(raw.to_owned())
}

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
fn form_decode(s: &str) -> Result<String, LoginError> {
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

/// Lenient query lookup for `/login` (bad values are ignored, not fatal).
fn query_param(req: &Request<'_>, name: &str) -> Option<String> {
    let raw = req.uri().query()?.as_str();
    url::form_urlencoded::parse(raw.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn state_of<'r>(req: &'r Request<'_>) -> Result<&'r OidcState, LoginError> {
    req.rocket()
        .state::<OidcState>()
        .ok_or_else(|| LoginError::Internal("the OpenID Connect fairing is not attached".into()))
}

fn see_other(location: String) -> Response<'static> {
    Response::build()
        .status(Status::SeeOther)
        .header(Header::new("Location", location))
        .header(Header::new("Cache-Control", "no-store"))
        .finalize()
}

fn html(status: Status, body: String) -> Response<'static> {
    Response::build()
        .status(status)
        .header(ContentType::HTML)
        .header(Header::new("Cache-Control", "no-store"))
        // frame-ancestors does not fall back to default-src: say it, so that no page (the logout
        // form in particular) can be framed for clickjacking.
        .header(Header::new(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ))
        .header(Header::new("X-Frame-Options", "DENY"))
        .sized_body(body.len(), Cursor::new(body))
        .finalize()
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;\
         padding:0 1rem;line-height:1.5}}code{{background:#f3f3f3;padding:0 .2em}}</style>\
         </head><body><h1>{t}</h1>{body}</body></html>\n",
        t = util::html_escape(title)
    )
}

/// The response to a failed sign-in: the configured failure page, or a small built-in one.
fn login_failure(state: Option<&OidcState>, err: &LoginError) -> Response<'static> {
    log::warn!("OpenID Connect: sign-in failed: {err}");
    if let Some(target) = state.and_then(|s| s.config.failure_redirect.as_deref()) {
        let sep = if target.contains('?') { '&' } else { '?' };
        return see_other(format!("{target}{sep}error={}", err.code()));
    }
    let login = state.map_or("/login", |s| s.config.login_path.as_str());
    let mut body = format!("<p>{}</p>", util::html_escape(err.public_message()));
    if let LoginError::Provider { error, description } = err {
        body.push_str(&format!(
            "<p>The provider said: <code>{}</code>",
            util::html_escape(&util::truncate(error, 64))
        ));
        if let Some(d) = description {
            body.push_str(&format!(
                " &mdash; {}",
                util::html_escape(&util::truncate(d, 300))
            ));
        }
        body.push_str("</p>");
    }
    body.push_str(&format!(
        "<p>Error code: <code>{}</code></p><p><a href=\"{}\">Try signing in again</a> or \
         <a href=\"/\">go home</a>.</p>",
        err.code(),
        util::html_escape(login)
    ));
    html(err.status(), page("Sign-in failed", &body))
}

/// `GET /login[?return_to=..][&login_hint=..]`: starts a login (OIDC Core §3.1.2.1 with PKCE,
/// RFC 7636) and sends the browser to the provider.
#[derive(Clone)]
struct Login;

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

/// `GET /authorization-code/callback`: finishes a login.
#[derive(Clone)]
struct Callback;

#[rocket::async_trait]
impl Handler for Callback {
    async fn handle<'r>(&self, req: &'r Request<'_>, _data: Data<'r>) -> Outcome<'r> {
        let state = match state_of(req) {
            Ok(s) => s,
            Err(e) => return Outcome::Success(login_failure(None, &e)),
        };
        Outcome::Success(match finish_login(req, state).await {
            Ok(location) => see_other(location),
            Err(e) => login_failure(Some(state), &e),
        })
    }
}

async fn finish_login(req: &Request<'_>, state: &OidcState) -> Result<String, LoginError> {
    let config = &state.config;
    let jar = req.cookies();
    let opts = state.cookie_options();
    let (tx, code) = check_callback(
        jar,
        opts,
        req.uri().query().map(|q| q.as_str()),
        config,
        state
            .provider
            .metadata
            .authorization_response_iss_parameter_supported,
    )?;
    let tokens = state
        .provider
        .exchange_code(config, &code, &tx.pkce_verifier)
        .await?;
    let raw_id_token = tokens.id_token.as_deref().ok_or_else(|| {
        LoginError::TokenEndpoint(
            "the response has no id_token (is `openid` among the scopes?)".into(),
        )
    })?;
    let id_token = state
        .provider
        .validate_id_token(config, raw_id_token, &tx.nonce, &tokens.access_token)
        .await?;
    let userinfo = if config.fetch_userinfo {
        state
            .provider
            .userinfo(&tokens.access_token, &id_token.subject)
            .await?
    } else {
        None
    };
    let subject = util::truncate(&id_token.subject, 64);
    let data = new_session(config, &tokens, id_token, userinfo, util::now_unix());
    // What the guards will read back must be readable, or the user would loop through login.
    if crate::guards::user_context(config, &data).is_none() {
        return Err(LoginError::IdToken(
            "its claims cannot be read back (no string `sub`, or iss/aud not this client)".into(),
        ));
    }
    // Always a fresh session: whatever session cookie the browser had is replaced (session
    // fixation).
    session::clear_session(jar, opts);
    session::write_session(
        jar,
        opts,
        &data,
        config.session_absolute_timeout_secs as i64,
    )
    .map_err(LoginError::Internal)?;
    log::info!("OpenID Connect: signed in subject `{subject}`");
    Ok(tx.return_to)
}

/// The callback's checks before the provider is asked anything: the query, the transaction
/// (`state`, taken out of the jar whatever happens next), the provider's `error`, RFC 9207
/// `iss` and the code. Returns the transaction and the code.
pub fn check_callback(
    jar: &CookieJar<'_>,
    opts: CookieOptions,
    query: Option<&str>,
    config: &Config,
    iss_parameter_supported: bool,
) -> Result<(Transaction, String), LoginError> {
    let params = parse_callback_query(query)?;
    let tx = params
        .state
        .as_deref()
        .and_then(|s| session::take_transaction(jar, opts, s, config.login_timeout_secs as i64));
    let Some(tx) = tx else {
        return Err(if params.state.is_none() {
            LoginError::BadRequest("the `state` parameter is missing".into())
        } else {
            LoginError::UnknownState
        });
    };
    // Only an answer to a login this browser started may show the provider's text: anyone can
    // craft a link with `error_description=...`.
    if let Some(error) = params.error {
        return Err(LoginError::Provider {
            error,
            description: params.error_description,
        });
    }
    if tx.issuer != config.issuer {
        return Err(LoginError::UnknownState);
    }
    // RFC 9207: iss, when present, must be our issuer; when the provider advertises it, it
    // must be present (a mix-up attack strips it).
    match params.iss.as_deref() {
        Some(iss) if iss != config.issuer => {
            return Err(LoginError::IssuerMismatch(format!(
                "`{}` is not the configured issuer",
                util::truncate(iss, 100)
            )))
        }
        None if iss_parameter_supported => {
            return Err(LoginError::IssuerMismatch(
                "missing, though the provider advertises authorization_response_iss_parameter_supported"
                    .into(),
            ))
        }
        _ => {}
    }
    let code = params
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| LoginError::BadRequest("the `code` parameter is missing".into()))?;
    Ok((tx, code))
}

/// The session a validated login yields: the ID token, the tokens the app keeps
/// (`oidc.keep_access_token`, `oidc.keep_refresh_token`) and only the userinfo claims the ID
/// token lacks. `now` is the sign-in time (Unix seconds).
pub fn new_session(
    config: &Config,
    tokens: &TokenResponse,
    id_token: ValidatedIdToken,
    userinfo: Option<Map<String, Value>>,
    now: i64,
) -> SessionData {
    SessionData {
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
    }
}

/// `POST /logout`: ends the session here and at the provider.
#[derive(Clone)]
struct Logout;

#[rocket::async_trait]
impl Handler for Logout {
    async fn handle<'r>(&self, req: &'r Request<'_>, _data: Data<'r>) -> Outcome<'r> {
        let state = match state_of(req) {
            Ok(s) => s,
            Err(e) => return Outcome::Success(login_failure(None, &e)),
        };
        if req.method() == Method::Get {
            let body = format!(
                "<p>Sign out of this application?</p><form method=\"post\" action=\"{}\">\
                 <button type=\"submit\">Log out</button></form>",
                util::html_escape(&state.config.logout_path)
            );
            return Outcome::Success(html(Status::Ok, page("Log out", &body)));
        }
        if let Some(reason) = cross_site(req, state) {
            log::warn!("OpenID Connect: refused a cross-site logout ({reason})");
            return Outcome::Success(html(
                Status::Forbidden,
                page("Log out", "<p>Cross-site logout requests are refused.</p>"),
            ));
        }
        Outcome::Success(see_other(logout(req, state).await))
    }
}

/// Why a logout POST looks cross-site, if it does (Fetch Metadata and Origin checks, on top of
/// the SameSite=Lax session cookie that a cross-site POST does not carry).
fn cross_site(req: &Request<'_>, state: &OidcState) -> Option<String> {
    let headers = req.headers();
    if let Some(site) = headers.get_one("Sec-Fetch-Site") {
        if !site.eq_ignore_ascii_case("same-origin") && !site.eq_ignore_ascii_case("none") {
            return Some(format!("Sec-Fetch-Site: {}", util::truncate(site, 32)));
        }
    }
    if let Some(origin) = headers.get_one("Origin") {
        if !origin.eq_ignore_ascii_case(&state.config.app_base_url) {
            return Some(format!("Origin: {}", util::truncate(origin, 100)));
        }
    }
    None
}

async fn logout(req: &Request<'_>, state: &OidcState) -> String {
    let config = &state.config;
    let jar = req.cookies();
    let opts = state.cookie_options();
    let session = session::read_session(jar, opts);
    session::clear_session(jar, opts);
    let Some(session) = session else {
        return config.post_logout_redirect_uri();
    };
    if let Some(token) = &session.refresh_token {
        state.provider.revoke(config, token, "refresh_token").await;
    }
    if let Some(token) = &session.access_token {
        state.provider.revoke(config, token, "access_token").await;
    }
    log::info!("OpenID Connect: signed out");
    let Some(end_session) = state.provider.metadata.end_session_endpoint.as_deref() else {
        return config.post_logout_redirect_uri();
    };
    let Ok(mut url) = url::Url::parse(end_session) else {
        return config.post_logout_redirect_uri();
    };
    url.query_pairs_mut()
        .append_pair("id_token_hint", &session.id_token)
        .append_pair(
            "post_logout_redirect_uri",
            &config.post_logout_redirect_uri(),
        )
        .append_pair("client_id", &config.client_id)
        .append_pair("state", &util::random_token(16));
    url.into()
}

/// The routes at their configured paths, to be mounted at `/`. The paths were validated (a
/// leading `/`, only unreserved characters), so `Route::new` cannot panic on them.
pub(crate) fn routes(config: &crate::config::Config) -> Vec<Route> {
    vec![
        Route::new(Method::Get, &config.login_path, Login),
        Route::new(Method::Get, &config.callback_path, Callback),
        Route::new(Method::Post, &config.logout_path, Logout),
        Route::new(Method::Get, &config.logout_path, Logout),
    ]
}

#[cfg(test)]
mod tests;
