//! Minting a successful token response (RFC 6749 §5.1; OpenID Connect Core §3.1.3.3, and §12.2
//! for refreshes), for the authorization-code and refresh grants alike.

use std::time::Instant;

use rocket::http::Status;
use rocket::serde::json::serde_json::{json, Value};

use super::access_token::{jwt_access_token, AccessTokenInput};
use super::directory::DevClient;
use super::faults::Fault;
use super::grants;
use super::jwt::{self, IdTokenInput};
use super::options::AccessTokenFormat;
use super::reply::Reply;
use super::state::{random_token, unix_now, AccessGrant, Grant, Inner};
use super::tenants;

/// Which refresh token a response carries.
pub(crate) enum RefreshToken {
    /// A new one for the grant: the code grant, or a refresh that rotates.
    New,
    /// The one presented, which stays valid (no rotation).
    Same(String),
    /// None; the one presented stays valid ([`Fault::RefreshNoRefreshToken`]).
    Omitted,
}

/// What to issue.
pub(crate) struct Issue<'a> {
    pub client: &'a DevClient,
    pub grant: Grant,
    /// The access token's scope (a refresh may narrow it, RFC 6749 §6).
    pub scope: Vec<String>,
    pub refresh_token: RefreshToken,
    /// Whether this answers a refresh, so that the refresh-only faults apply.
    pub is_refresh: bool,
}

/// A token response: access token, refresh token, ID token; or `invalid_grant` when the user
/// is gone.
pub(crate) fn token_response(inner: &Inner, issue: Issue<'_>) -> Reply {
    let Issue {
        client,
        grant,
        scope,
        refresh_token,
        is_refresh,
    } = issue;
    let access_lifetime = inner.options.access_lifetime(inner.token_lifetime);
    let (faults, user) = {
        let state = inner.lock();
        let Some(user) = state.users.iter().find(|u| u.sub == grant.sub).cloned() else {
            return Reply::oauth_error(
                Status::BadRequest,
                "invalid_grant",
                "the user no longer exists",
            );
        };
        (state.faults.clone(), user)
    };
    let now = unix_now();
    // The `iss` of ID tokens and JWT access tokens alike: in multi-tenant mode, the user's
    // tenant's (Entra's v2.0 tokens have `iss: https://login.microsoftonline.com/{tid}/v2.0`).
    let issuer = tenants::id_token_issuer(inner, &user);
    // Signed outside the lock: an RSA signature takes milliseconds.
    let access_token = match inner.options.access_token_format {
        AccessTokenFormat::Opaque => random_token(),
        AccessTokenFormat::Jwt => jwt_access_token(
            &AccessTokenInput {
                issuer: &issuer,
                client,
                grant: &grant,
                user: &user,
                scope: &scope,
                now,
                lifetime: access_lifetime.as_secs(),
            },
            &faults,
        ),
    };
    let refresh_token = {
        let mut state = inner.lock();
        let access = AccessGrant {
            grant: Grant {
                scope: scope.clone(),
                ..grant.clone()
            },
            expires: Instant::now() + access_lifetime,
        };
        state.insert_access_token(access_token.clone(), access);
        let refresh_token = match refresh_token {
            RefreshToken::New => Some(state.add_refresh_token(grant.clone())),
            RefreshToken::Same(token) => Some(token),
            RefreshToken::Omitted => None,
        };
        grants::record(&mut state, &grant);
        refresh_token
    };
    let id_faults = if is_refresh {
        faults.for_refreshed_id_token()
    } else {
        faults.clone()
    };
    let id_token = jwt::id_token(
        &IdTokenInput {
            issuer: &issuer,
            client_id: &client.client_id,
            client_secret: client.client_secret.as_deref(),
            user: &user,
            scope: &scope,
            nonce: grant.nonce.as_deref(),
            sid: client
                .backchannel_logout_session_required
                .then_some(grant.sid.as_str()),
            auth_time: grant.auth_time,
            access_token: &access_token,
            now,
            lifetime: inner.token_lifetime.as_secs(),
        },
        &id_faults,
    );
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": access_lifetime.as_secs(),
        "id_token": id_token,
        "scope": scope.join(" "),
    });
    if let (Some(token), Value::Object(fields)) = (refresh_token, &mut body) {
        fields.insert("refresh_token".into(), json!(token));
    }
    let omit_id_token = faults.has(&Fault::TokenMissingIdToken)
        || (is_refresh && faults.has(&Fault::RefreshNoIdToken));
    if omit_id_token {
        body.as_object_mut().map(|fields| fields.remove("id_token"));
    }
    if faults.has(&Fault::TokenWrongTypes) {
        body["access_token"] = json!(12345);
        body["expires_in"] = json!("3600abc");
    }
    Reply::json(Status::Ok, &body).no_store()
}
