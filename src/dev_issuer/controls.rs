//! The token options of the builder, and what a test can do to a running issuer's grants.
//! (Above server.rs, which defines the two types; kept apart so that each capability's
//! controls sit together.)

use std::time::Duration;

use super::counters::GrantCounters;
use super::grants;
use super::options::RefreshRotation;
use super::server::{DevIssuer, DevIssuerBuilder};

/// Token options.
impl DevIssuerBuilder {
    /// How long access tokens live (`expires_in`; after it, userinfo refuses them), apart from
    /// the ID tokens' [`token_lifetime`](DevIssuerBuilder::token_lifetime). Whole seconds
    /// count in `expires_in`. _Default:_ the `token_lifetime`.
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.options.access_token_lifetime = Some(lifetime);
        self
    }

    /// How refresh tokens rotate, and whether presenting a consumed one revokes the grant.
    /// _Default:_ [`RefreshRotation::Rotate`].
    pub fn refresh_rotation(mut self, rotation: RefreshRotation) -> Self {
        self.options.rotation = rotation;
        self
    }
}

/// Grants.
impl DevIssuer {
    /// Revokes every grant of a user (found by `preferred_username`, `sub` or `email`; a string
    /// that names no user is taken as a `sub`), at every client, as an administrator who
    /// disables the user would: its refresh and access tokens stop working at once, so the next
    /// refresh answers `invalid_grant` and userinfo 401. Returns how many live grants there
    /// were. Later logins get new grants and work.
    pub fn revoke_grants(&self, username: &str) -> usize {
        let mut state = self.inner.lock();
        let sub = state
            .user(username)
            .map(|user| user.sub.clone())
            .unwrap_or_else(|| username.to_owned());
        grants::revoke_user(&mut state, &sub)
    }

    /// The [`GrantCounters`] of every grant whose code was redeemed, oldest first: the same as
    /// [`Counters::grants`](super::Counters::grants) in a [`counters`](DevIssuer::counters)
    /// snapshot.
    pub fn grants(&self) -> Vec<GrantCounters> {
        self.inner.lock().counters.grants.clone()
    }
}
