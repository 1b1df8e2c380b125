//! `POST` at the callback path of a `form_post` provider (OAuth 2.0 Form Post Response Mode
//! §2): the provider's page submits the authorization response as a form, cross-site.
//!
//! The body goes through exactly the checks of the `GET` callback (`finish_login`: the
//! `state` and its transaction cookie, the provider the login went to, RFC 9207 `iss`, the
//! provider's `error`, then PKCE at the code exchange and the nonce in the ID token). What a
//! POST adds is checked first: the form content type, a size cap, strict decoding. There is no
//! Origin check (the provider's login page may live on another host than its issuer); the
//! request is authenticated as the `GET` is, by `state` and the pending login's cookie, which a
//! cross-site attacker can neither read nor guess, so a forged POST finds no login to finish
//! (login CSRF, RFC 9700 §4.7). Parameters in the URL's query are ignored: the response is the
//! body.
//!
//! Sign in with Apple adds a `user` field on a user's first authorization: JSON with the name
//! (and email) the user entered or chose at Apple. It is not signed; the browser relays it. So
//! it is used for display only: `given_name`, `family_name` and `name` are taken from it when
//! neither the ID token nor userinfo has them, each cut to [`MAX_NAME_CHARS`] characters, and
//! its `email` is ignored (the ID token carries the signed one).

use rocket::data::ToByteUnit;
use rocket::route::{Handler, Outcome};
use rocket::serde::json::serde_json::{self, Map, Value};
use rocket::{Data, Request};

use super::callback::{finish_login, form_decode, parse_callback_query};
use super::pages::{login_failure, see_other};
use super::state_of;
use crate::error::LoginError;
use crate::state::OidcState;
use crate::util;

/// The largest form body read: the limit of the `GET` callback's query.
pub(super) const MAX_FORM_BYTES: usize = 16 * 1024;

/// The longest name part taken from Apple's `user` field.
pub(super) const MAX_NAME_CHARS: usize = 100;

/// `POST` at the callback path of the `form_post` provider at `index`.
#[derive(Clone)]
pub(super) struct FormPostCallback {
    pub index: usize,
}

#[rocket::async_trait]
impl Handler for FormPostCallback {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let state = match state_of(req) {
            Ok(s) => s,
            Err(e) => return Outcome::Success(login_failure(None, &e)),
        };
        let apple = state
            .providers
            .get(self.index)
            .is_some_and(|p| p.config.apple_team_id.is_some());
        let result = async {
            let body = read_form(req, data).await?;
            require_login_cookie(req, state, &body)?;
            let user = if apple { apple_user(&body)? } else { None };
            finish_login(req, state, self.index, Some(&body), user).await
        }
        .await;
        Outcome::Success(match result {
            Ok(location) => see_other(location),
            // A refusal of the login hook may answer otherwise (issue 16), as at the GET.
            Err(e) => super::hook::refused(req, state, &e)
                .unwrap_or_else(|| login_failure(Some(state), &e)),
        })
    }
}

/// The body of a form POST: `application/x-www-form-urlencoded`, UTF-8, at most
/// [`MAX_FORM_BYTES`].
async fn read_form(req: &Request<'_>, data: Data<'_>) -> Result<String, LoginError> {
    if !req.content_type().is_some_and(|ct| ct.is_form()) {
        return Err(LoginError::BadRequest(
            "a form_post callback must be application/x-www-form-urlencoded".into(),
        ));
    }
    let limit = (MAX_FORM_BYTES + 1).bytes();
    let body = data
        .open(limit)
        .into_string()
        .await
        .map_err(|_| LoginError::BadRequest("the form body is not valid UTF-8".into()))?;
    if !body.is_complete() || body.len() > MAX_FORM_BYTES {
        return Err(LoginError::BadRequest(format!(
            "the form body exceeds {MAX_FORM_BYTES} bytes"
        )));
    }
    Ok(body.into_inner())
}

/// The pending login's cookie must have come with the POST. Without it the login cannot be
/// finished, and the usual "unknown state" would hide the likely cause: the browser did not
/// send the `SameSite=None; Secure` cookie with the provider's cross-site POST (plain http
/// other than localhost, third-party cookies blocked, a login started in another browser, or
/// one that expired). A missing `state` is left to `finish_login`'s own message.
fn require_login_cookie(
    req: &Request<'_>,
    state: &OidcState,
    body: &str,
) -> Result<(), LoginError> {
    let params = parse_callback_query(Some(body))?;
    let Some(tx_state) = params.state.as_deref() else {
        return Ok(());
    };
    let name = state.cookie_options().tx_name(tx_state);
    if req.cookies().get(&name).is_some() {
        return Ok(());
    }
    Err(LoginError::MissingLoginCookie(format!(
        "the form_post callback came without the pending login's cookie `{}`: the browser did \
         not send it with the provider's cross-site POST. It is SameSite=None; Secure, which \
         browsers refuse from plain-http sites other than localhost and withhold where \
         third-party cookies are blocked; or the login was started in another browser, or \
         is older than oidc.login_timeout_secs ({} s)",
        util::truncate(&name, 80),
        state.app.login_timeout_secs
    )))
}

/// The claims of Sign in with Apple's `user` field in `body`, if present; decoded as strictly
/// as the other parameters (twice is an error). A value that is not the JSON Apple sends is
/// ignored: it is display data, and the login does not depend on it.
fn apple_user(body: &str) -> Result<Option<Map<String, Value>>, LoginError> {
    let mut raw = None;
    for pair in body.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if form_decode(key)? != "user" {
            continue;
        }
        if raw.is_some() {
            return Err(LoginError::BadRequest(
                "parameter `user` appears twice".into(),
            ));
        }
        raw = Some(form_decode(value)?);
    }
    Ok(raw.and_then(|raw| user_claims(&raw)))
}

/// `given_name`, `family_name` and `name` from Apple's
/// `{"name":{"firstName":"..","lastName":".."},"email":".."}`: trimmed, control characters
/// removed, each cut to [`MAX_NAME_CHARS`] characters; `None` when it names nobody.
pub(super) fn user_claims(raw: &str) -> Option<Map<String, Value>> {
    let user: Value = serde_json::from_str(raw).ok()?;
    let name = user.get("name")?;
    let part = |key: &str| {
        let text: String = name
            .get(key)?
            .as_str()?
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_NAME_CHARS)
            .collect();
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    };
    let (given, family) = (part("firstName"), part("lastName"));
    let full = match (&given, &family) {
        (Some(g), Some(f)) => format!("{g} {f}"),
        (Some(one), None) | (None, Some(one)) => one.clone(),
        (None, None) => return None,
    };
    let mut claims = Map::new();
    if let Some(given) = given {
        claims.insert("given_name".into(), Value::String(given));
    }
    if let Some(family) = family {
        claims.insert("family_name".into(), Value::String(family));
    }
    claims.insert("name".into(), Value::String(full));
    Some(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apples_user_field_gives_the_name_and_nothing_else() {
        let claims = user_claims(
            r#"{"name":{"firstName":" Ada ","lastName":"Lovelace"},"email":"x@privaterelay.appleid.com"}"#,
        )
        .unwrap();
        assert_eq!(
            Value::Object(claims),
            serde_json::json!({"given_name": "Ada", "family_name": "Lovelace", "name": "Ada Lovelace"})
        );
        let only_first = user_claims(r#"{"name":{"firstName":"Grace"}}"#).unwrap();
        assert_eq!(only_first["name"], "Grace");
        assert!(!only_first.contains_key("family_name"));
        for nobody in [
            r#"{"email":"x@example.com"}"#,
            r#"{"name":{"firstName":"  ","lastName":5}}"#,
            r#"{"name":"Ada"}"#,
            "not json",
            "[]",
        ] {
            assert_eq!(user_claims(nobody), None, "{nobody}");
        }
        let long = format!(
            r#"{{"name":{{"firstName":"{}\u0000\n"}}}}"#,
            "é".repeat(500)
        );
        let cut = user_claims(&long).unwrap();
        assert_eq!(
            cut["given_name"].as_str().unwrap().chars().count(),
            MAX_NAME_CHARS
        );
    }

    #[test]
    fn the_user_field_is_decoded_strictly() {
        let user = "user=%7B%22name%22%3A%7B%22firstName%22%3A%22Ada%22%7D%7D";
        assert_eq!(
            apple_user(&format!("code=c&state=s&{user}"))
                .unwrap()
                .unwrap()["name"],
            "Ada"
        );
        assert_eq!(apple_user("code=c&state=s").unwrap(), None);
        assert!(apple_user(&format!("{user}&{user}")).is_err());
        assert!(apple_user("user=%zz").is_err());
        assert_eq!(apple_user("user=%7Bnot%20json").unwrap(), None);
    }
}
