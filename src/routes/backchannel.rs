//! `POST /backchannel-logout` (OpenID Connect Back-Channel Logout 1.0): the provider ends
//! sessions of this app. One endpoint per provider: with provider tables, provider `NAME`'s is
//! `backchannel_logout.path/NAME`, so the path says whose keys and rules a token is checked
//! with. The logout token is validated in full (§2.6, `provider::logout_token`),
//! its `jti` must be new (step 10), and a marker per session it names goes to the revocation
//! store (§2.7), which the guards consult on every request. The answer is 200 with
//! `Cache-Control: no-store`, or 400 with an OAuth error JSON (§2.8); bad input never yields a
//! 5xx.

use std::io::Cursor;

use percent_encoding::percent_decode_str;
use rocket::data::ToByteUnit;
use rocket::http::{ContentType, Header, Status};
use rocket::route::{Handler, Outcome};
use rocket::serde::json::serde_json::json;
use rocket::{Data, Request, Response};

use crate::provider::ValidatedLogoutToken;
use crate::state::{OidcState, ProviderState, NOT_ATTACHED};
use crate::store::{RevocationKeys, StoreKey};
use crate::util;

/// The largest request body read: a logout token is well under 2 KB, the token rules refuse
/// more than 16 KiB.
const MAX_BODY_BYTES: u64 = 32 * 1024;

/// The back-channel logout endpoint of the provider at `index`.
#[derive(Clone)]
pub(super) struct BackchannelLogout {
    pub index: usize,
}

#[rocket::async_trait]
impl Handler for BackchannelLogout {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let found = OidcState::of(req).and_then(|s| Some((s, s.providers.get(self.index)?)));
        let Some((state, provider)) = found else {
            log::error!("OpenID Connect: back-channel logout: {NOT_ATTACHED}");
            return Outcome::Success(error(
                Status::InternalServerError,
                "server_error",
                NOT_ATTACHED,
            ));
        };
        let prefix = provider.log_prefix(state.named);
        Outcome::Success(match logout(req, data, state, provider).await {
            Ok(()) => Response::build()
                .status(Status::Ok)
                .header(Header::new("Cache-Control", "no-store"))
                .finalize(),
            Err(Failure {
                error: code,
                reason,
            }) => {
                log::warn!("{prefix}: back-channel logout refused: {reason}");
                error(Status::BadRequest, code, &reason)
            }
        })
    }
}

/// Why a request was refused: the OAuth error code and a description (for the log and the
/// provider; it never holds a token).
struct Failure {
    error: &'static str,
    reason: String,
}

fn invalid(reason: impl Into<String>) -> Failure {
    Failure {
        error: "invalid_request",
        reason: reason.into(),
    }
}

/// §2.8: the OAuth error JSON, not cacheable.
fn error(status: Status, code: &str, description: &str) -> Response<'static> {
    let body = json!({"error": code, "error_description": description}).to_string();
    Response::build()
        .status(status)
        .header(ContentType::JSON)
        .header(Header::new("Cache-Control", "no-store"))
        .sized_body(body.len(), Cursor::new(body))
        .finalize()
}

async fn logout(
    req: &Request<'_>,
    data: Data<'_>,
    state: &OidcState,
    provider: &ProviderState,
) -> Result<(), Failure> {
    let raw = logout_token(req, data).await?;
    let now = util::now_unix();
    let token = provider
        .provider
        .verify_logout_token(&raw, now)
        .await
        .map_err(|reason| invalid(format!("invalid logout_token: {reason}")))?;
    let skew = provider.provider.clock_skew();
    let keys = provider.keys_of(Some(&token.iss));

    // §2.6 step 10: a jti seen before is a replay.
    let jti = keys.jti(&token.jti);
    match state
        .store()
        .first_use(jti, token.replay_horizon(skew), now)
        .await
    {
        Ok(true) => {}
        Ok(false) => return Err(invalid("this logout_token was received before (its jti)")),
        // The logout matters more than the replay check: a replayed token can only write its
        // markers again, which never reach past its iat plus the skew.
        Err(e) => log::warn!(
            "{}: back-channel logout: replay check skipped ({e}); logging out anyway",
            provider.log_prefix(state.named)
        ),
    }

    // §2.7: sid names one provider session; sub alone every session of the user. The token is
    // judged by real time (the provider's), its marker is dated on the clock sessions are
    // created with (they differ only when a test of the app moved it: `testing::advance_clock`).
    let logged_out_at = token
        .logged_out_at(now, skew)
        .saturating_add(state.clock().offset());
    let expires_at = state.marker_expiry(logged_out_at);
    for key in markers(&keys, &token) {
        if let Err(e) = state
            .store()
            .record(key, logged_out_at, expires_at, now)
            .await
        {
            log::error!(
                "{}: back-channel logout: the marker was not written ({e})",
                provider.log_prefix(state.named)
            );
            return Err(Failure {
                error: "server_error",
                reason: "the sessions could not be signed out; send the logout again".into(),
            });
        }
    }
    log::info!(
        "{}: back-channel logout: signed out {}",
        provider.log_prefix(state.named),
        match (&token.sid, &token.sub) {
            (Some(_), Some(sub)) => format!(
                "one provider session of subject `{}`",
                util::truncate(sub, 64)
            ),
            (Some(_), None) => "one provider session".into(),
            (None, sub) => format!(
                "every session of subject `{}`",
                util::truncate(sub.as_deref().unwrap_or_default(), 64)
            ),
        }
    );
    Ok(())
}

/// The markers a valid logout token writes: its `sid`; with `sub` as well, also the user's
/// sessions whose ID token had no `sid` (they cannot be told apart, so they all end: fail
/// safe); `sub` alone, every session of the user.
fn markers(keys: &RevocationKeys, token: &ValidatedLogoutToken) -> Vec<StoreKey> {
    match (&token.sid, &token.sub) {
        (Some(sid), Some(sub)) => vec![keys.sid(sid), keys.sub_sidless(sub)],
        (Some(sid), None) => vec![keys.sid(sid)],
        (None, Some(sub)) => vec![keys.sub(sub)],
        (None, None) => Vec::new(), // the rules refuse such a token
    }
}

/// §2.5: the one `logout_token` parameter of an `application/x-www-form-urlencoded` body.
async fn logout_token(req: &Request<'_>, data: Data<'_>) -> Result<String, Failure> {
    let is_form = req
        .content_type()
        .is_some_and(|ct| ct.top() == "application" && ct.sub() == "x-www-form-urlencoded");
    if !is_form {
        return Err(invalid(
            "the body must be application/x-www-form-urlencoded (Back-Channel Logout 1.0 §2.5)",
        ));
    }
    let body = data
        .open(MAX_BODY_BYTES.bytes())
        .into_string()
        .await
        .map_err(|_| invalid("the body is not UTF-8 text"))?;
    if !body.is_complete() {
        return Err(invalid(format!(
            "the body is larger than {MAX_BODY_BYTES} bytes"
        )));
    }
    let mut token = None;
    for pair in body.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if form_decode(name)? != "logout_token" {
            continue;
        }
        if token.is_some() {
            return Err(invalid("logout_token appears twice"));
        }
        token = Some(form_decode(value)?);
    }
    token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid("the logout_token parameter is missing"))
}

/// Form decoding that refuses malformed percent-encoding and invalid UTF-8.
fn form_decode(s: &str) -> Result<String, Failure> {
    let bytes = s.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(invalid("malformed percent-encoding in the body"));
        }
    }
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| invalid("the body is not valid UTF-8"))
}
