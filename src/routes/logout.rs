//! `POST /logout`: ends the session here and at the provider that signed the user in
//! (RP-Initiated Logout 1.0), after checking that the request is not cross-site; a marker in the
//! revocation store makes every copy of the cookie invalid too. `GET` shows a confirmation
//! form.

use rocket::http::{Method, Status};
use rocket::route::{Handler, Outcome};
use rocket::{Data, Request};

use super::pages::{html, login_failure, page, see_other};
use super::state_of;
use crate::session::{self, SessionData};
use crate::state::{OidcState, ProviderState};
use crate::user;
use crate::util;

/// `POST /logout`: ends the session here and at the provider.
#[derive(Clone)]
pub(super) struct Logout;

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
                util::html_escape(&state.app.logout_path)
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
        if !origin.eq_ignore_ascii_case(&state.app.app_base_url) {
            return Some(format!("Origin: {}", util::truncate(origin, 100)));
        }
    }
    None
}

/// Ends the session, and at the provider that signed the user in: revocation (RFC 7009) and
/// RP-Initiated Logout. Returns where to send the browser.
async fn logout(req: &Request<'_>, state: &OidcState) -> String {
    let jar = req.cookies();
    let opts = state.cookie_options();
    let session = session::read_session(jar, opts);
    session::clear_own_session(jar, opts);
    let Some(session) = session else {
        return state.app.post_logout_redirect_uri();
    };
    // A session of a provider no longer configured ends here only.
    let Some(provider) = state.provider_of(&session) else {
        return state.app.post_logout_redirect_uri();
    };
    let config = &provider.config;
    mark_signed_out(state, provider, &session).await;
    if let Some(token) = &session.refresh_token {
        provider
            .provider
            .revoke(config, token, "refresh_token")
            .await;
    }
    if let Some(token) = &session.access_token {
        provider
            .provider
            .revoke(config, token, "access_token")
            .await;
    }
    log::info!("{}: signed out", provider.log_prefix(state.named));
    let Some(end_session) = provider.provider.metadata.end_session_endpoint.as_deref() else {
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
        // No `state` (optional, RP-Initiated Logout 1.0 §2): the landing page does nothing a
        // state could protect, and an unchecked one would only linger in its URL.
        .append_pair("client_id", &config.client_id);
    url.into()
}

/// Writes the marker that signs this session out wherever a copy of its cookie is shown, on
/// every instance sharing the store: by the provider's `sid` when the ID token has one (every
/// session of that provider session), else by the session's own id.
async fn mark_signed_out(state: &OidcState, provider: &ProviderState, session: &SessionData) {
    let Some(claims) = user::user_claims(&provider.binding, session, None) else {
        return; // not a session of this client: nothing of ours to sign out
    };
    let keys = provider.keys_of(claims.tenant_issuer());
    let key = match (claims.sid(), session.session_id.as_deref()) {
        (Some(sid), _) => keys.sid(sid),
        (None, Some(id)) => keys.session(id),
        (None, None) => {
            log::info!(
                "{}: this session predates revocation markers (no sid, no session id): a \
                 copy of its cookie stays valid until it expires",
                provider.log_prefix(state.named)
            );
            return;
        }
    };
    let now = state.clock().now_unix();
    if let Err(e) = state
        .store()
        .record(key, now, state.marker_expiry(now), now)
        .await
    {
        log::error!(
            "OpenID Connect: signed out here, but the revocation marker was not written ({e}): \
             a copy of the session cookie stays valid until it expires"
        );
    }
}
