//! Grants: their counters, and revoking one as a whole (RFC 7009 §2.1, reuse detection, and
//! the test API).

use super::counters::GrantCounters;
use super::state::{Grant, State};

/// The counters of `grant`, created on its first tokens.
pub(crate) fn record<'s>(state: &'s mut State, grant: &Grant) -> &'s mut GrantCounters {
    let grants = &mut state.counters.grants;
    let index = match grants.iter().position(|g| g.id == grant.id) {
        Some(index) => index,
        None => {
            // Ids grow with every code, and codes are redeemed roughly in order: keep the list
            // sorted by id for readers of `Counters::grants`.
            let index = grants.partition_point(|g| g.id < grant.id);
            grants.insert(
                index,
                GrantCounters {
                    id: grant.id,
                    client_id: grant.client_id.clone(),
                    sub: grant.sub.clone(),
                    sid: grant.sid.clone(),
                    refresh_calls: 0,
                    revoked: false,
                    revoked_by_reuse: false,
                    logged_out: false,
                },
            );
            index
        }
    };
    &mut grants[index]
}

/// Whether `grant` is revoked.
pub(crate) fn is_revoked(state: &State, grant_id: u64) -> bool {
    state
        .counters
        .grants
        .iter()
        .any(|g| g.id == grant_id && g.revoked)
}

/// Revokes a grant: its refresh tokens and access tokens stop working at once. `by_reuse`
/// records that reuse detection did it (only if the grant was still live). Returns whether it
/// was live.
pub(crate) fn revoke(state: &mut State, grant: &Grant, by_reuse: bool) -> bool {
    let revoked: Vec<String> = state
        .refresh_tokens
        .iter()
        .filter(|(_, g)| g.id == grant.id)
        .map(|(token, _)| token.clone())
        .collect();
    for token in revoked {
        if let Some(grant) = state.refresh_tokens.remove(&token) {
            state.revoked_refresh.insert(token, grant);
        }
    }
    state.access_tokens.retain(|_, a| a.grant.id != grant.id);
    let counters = record(state, grant);
    let live = !counters.revoked;
    counters.revoked = true;
    counters.revoked_by_reuse |= live && by_reuse;
    live
}

/// Revokes every live grant of the user with this `sub`; returns how many there were.
pub(crate) fn revoke_user(state: &mut State, sub: &str) -> usize {
    let mut grants: Vec<Grant> = state
        .refresh_tokens
        .values()
        .cloned()
        .chain(state.access_tokens.values().map(|a| a.grant.clone()))
        .filter(|g| g.sub == sub)
        .collect();
    grants.sort_by_key(|g| g.id);
    grants.dedup_by_key(|g| g.id);
    grants
        .iter()
        .filter(|grant| revoke(state, grant, false))
        .count()
}
