//! The refresh-token grant (RFC 6749 §6, OpenID Connect Core §12): rotation, reuse detection
//! and its grace period, as [`RefreshRotation`] chooses.

use std::time::Instant;

use rocket::http::Status;

use super::directory::DevClient;
use super::faults::Fault;
use super::grants;
use super::issue::{self, Issue, RefreshToken};
use super::options::RefreshRotation;
use super::params::Params;
use super::reply::Reply;
use super::state::{Consumed, Inner};

fn invalid_grant(description: &str) -> Reply {
    Reply::oauth_error(Status::BadRequest, "invalid_grant", description)
}

/// Redeems a refresh token. A `scope` parameter may narrow the new access token's scope
/// (RFC 6749 §6).
pub(crate) fn refresh_grant(inner: &Inner, client: &DevClient, params: &Params) -> Reply {
    let Some(token) = params.get("refresh_token") else {
        return Reply::oauth_error(
            Status::BadRequest,
            "invalid_request",
            "refresh_token is required",
        );
    };
    let rotation = inner.options.rotation;
    let mut state = inner.lock();
    if let Some(grant) = state.refresh_tokens.get(token).cloned() {
        grants::record(&mut state, &grant).refresh_calls += 1;
        if grant.client_id != client.client_id {
            return invalid_grant("the refresh token was issued to another client");
        }
        let scope = match params.get("scope") {
            None => grant.scope.clone(),
            Some(requested) => {
                let requested: Vec<String> = requested.split(' ').map(str::to_owned).collect();
                if !requested.iter().all(|s| grant.scope.contains(s)) {
                    return Reply::oauth_error(
                        Status::BadRequest,
                        "invalid_scope",
                        "the scope exceeds the original grant",
                    );
                }
                requested
            }
        };
        let refresh_token = if state.faults.has(&Fault::RefreshNoRefreshToken) {
            RefreshToken::Omitted
        } else if rotation == RefreshRotation::Off {
            RefreshToken::Same(token.to_owned())
        } else {
            state.refresh_tokens.remove(token);
            let consumed = Consumed {
                grant: grant.clone(),
                at: Instant::now(),
                grace_used: false,
            };
            state.consumed_refresh.insert(token.to_owned(), consumed);
            RefreshToken::New
        };
        drop(state);
        return issue::token_response(
            inner,
            Issue {
                client,
                grant,
                scope,
                refresh_token,
                is_refresh: true,
            },
        );
    }

    if let Some(grant) = state.revoked_refresh.get(token).cloned() {
        grants::record(&mut state, &grant).refresh_calls += 1;
        return invalid_grant("the refresh token was revoked");
    }
    let Some(consumed) = state.consumed_refresh.get(token).cloned() else {
        return invalid_grant("the refresh token is unknown");
    };
    let grant = consumed.grant;
    grants::record(&mut state, &grant).refresh_calls += 1;
    if grant.client_id != client.client_id {
        return invalid_grant("the refresh token was issued to another client");
    }
    let RefreshRotation::Strict { grace } = rotation else {
        return invalid_grant("the refresh token was already used (it rotates on every refresh)");
    };
    let in_grace = !consumed.grace_used && consumed.at.elapsed() < grace;
    if in_grace && !grants::is_revoked(&state, grant.id) {
        if let Some(entry) = state.consumed_refresh.get_mut(token) {
            entry.grace_used = true;
        }
        drop(state);
        let scope = grant.scope.clone();
        return issue::token_response(
            inner,
            Issue {
                client,
                grant,
                scope,
                refresh_token: RefreshToken::New,
                is_refresh: true,
            },
        );
    }
    // RFC 9700 §4.14.2: a consumed refresh token presented again means it leaked, or a client
    // raced itself; the server cannot tell which, so the whole grant goes.
    grants::revoke(&mut state, &grant, true);
    invalid_grant("the refresh token was already used: reuse detected, the grant is revoked")
}
