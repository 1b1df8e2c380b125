//! The token options of the builder, what a test can do to a running issuer's grants, and the
//! multi-tenant mode's switch and URLs. (Above server.rs, which defines the two types; kept
//! apart so that each capability's controls sit together.)

use std::time::Duration;

use rocket::serde::json::serde_json::Value;

use super::backchannel;
use super::counters::{BackchannelLogout, GrantCounters};
use super::directory::DevUser;
use super::grants;
use super::options::{AccessTokenFormat, RefreshRotation, Tenants};
use super::server::{DevIssuer, DevIssuerBuilder};
use super::state::{unix_now, Inner};
use super::tenants;

/// Token options.
impl DevIssuerBuilder {
    /// How long access tokens live (`expires_in`; after it, userinfo refuses them), apart from
    /// the ID tokens' [`token_lifetime`](DevIssuerBuilder::token_lifetime). Whole seconds
    /// count in `expires_in`. _Default:_ the `token_lifetime`.
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.options.access_token_lifetime = Some(lifetime);
        self
    }

    /// Whether access tokens are opaque or signed JWTs with the user's claims and roles.
    /// _Default:_ [`AccessTokenFormat::Opaque`].
    pub fn access_token_format(mut self, format: AccessTokenFormat) -> Self {
        self.options.access_token_format = format;
        self
    }

    /// How refresh tokens rotate, and whether presenting a consumed one revokes the grant.
    /// _Default:_ [`RefreshRotation::Rotate`].
    pub fn refresh_rotation(mut self, rotation: RefreshRotation) -> Self {
        self.options.rotation = rotation;
        self
    }

    /// How long the issuer waits for a client's answer to a back-channel logout POST before it
    /// records a timeout (requests to several clients run at once). _Default:_ 5 s.
    pub fn backchannel_logout_timeout(mut self, timeout: Duration) -> Self {
        self.options.backchannel_logout_timeout = Some(timeout);
        self
    }
}

/// Multi-tenant mode.
impl DevIssuerBuilder {
    /// Entra-style multi-tenant mode (see "Multi-tenant issuer" in the [module
    /// docs](super)): discovery at `/common`, `/organizations`, `/consumers` and
    /// `/{tenant id}` (each `/v2.0/.well-known/openid-configuration`), none at the root; ID
    /// tokens (and JWT access tokens and logout tokens) with `iss = {issuer URL}/{tid}/v2.0`,
    /// and `tid` among the claims. A user's tenant is the string claim `tid` in
    /// [`DevUser::extra`](super::DevUser::extra); users without one get `default_tenant_id`
    /// (for example [`DEFAULT_TENANT_ID`](super::DEFAULT_TENANT_ID)). _Default:_ off.
    pub fn multi_tenant(mut self, default_tenant_id: impl Into<String>) -> Self {
        self.tenants = Some(Tenants {
            default_tenant: default_tenant_id.into(),
        });
        self
    }
}

/// Multi-tenant URLs.
impl DevIssuer {
    /// `{issuer URL}/{tenant}/v2.0`: in multi-tenant mode, the `iss` of tokens for users of
    /// tenant `tenant` and the `issuer` of that tenant's discovery document (Entra's
    /// `https://login.microsoftonline.com/{tenant}/v2.0`). With `"{tenantid}"`, the template the
    /// `/common` and `/organizations` documents announce.
    pub fn tenant_issuer_url(&self, tenant: &str) -> String {
        tenants::tenant_issuer(self.issuer_url(), tenant)
    }

    /// `{issuer URL}/{tenant}/v2.0/.well-known/openid-configuration`, the discovery URL of
    /// `tenant`: `common`, `organizations`, `consumers` or a tenant id.
    pub fn tenant_discovery_url(&self, tenant: &str) -> String {
        format!(
            "{}/.well-known/openid-configuration",
            tenants::tenant_issuer(self.issuer_url(), tenant)
        )
    }
}

/// The directory of a running issuer.
impl DevIssuer {
    /// Adds a user to the directory, effective at once; a user with the same `sub` or
    /// `preferred_username` is replaced (a test declares the user it needs).
    pub fn add_user(&self, user: DevUser) {
        add_user(&self.inner, user);
    }
}

/// [`DevIssuer::add_user`] on the issuer's shared state (also for `testing::sign_in`).
pub(crate) fn add_user(inner: &Inner, user: DevUser) {
    let mut users = [user];
    if let Some(tenants) = &inner.tenants {
        tenants::assign(tenants, &mut users);
    }
    let [user] = users;
    let mut state = inner.lock();
    state
        .users
        .retain(|u| u.sub != user.sub && u.preferred_username != user.preferred_username);
    state.users.push(user);
}

/// Who `/authorize` signs in without showing the login page, if anyone.
pub(crate) fn auto_login(inner: &Inner) -> Option<String> {
    inner.lock().auto_login.clone()
}

/// Grants and back-channel logout.
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

    /// Logs a user (by `preferred_username`, `sub` or `email`; otherwise taken as a `sub`) out
    /// of every client, as `end_session` with that user's ID token does: every grant of the
    /// user not logged out yet ends, and each client with a `backchannel_logout_uri` gets a
    /// logout token by POST (OpenID Connect Back-Channel Logout 1.0 §2.5): one per grant, with
    /// its `sid`, to a client with `backchannel_logout_session_required`; one with `sub` only to
    /// the others. Requests run at once, each bounded by the
    /// [`backchannel_logout_timeout`](DevIssuerBuilder::backchannel_logout_timeout); this
    /// returns when all have answered or timed out. Returns (and appends to
    /// [`Counters::backchannel_logouts`](super::Counters::backchannel_logouts)) what each
    /// request got. Grants are not revoked: see [`DevIssuer::revoke_grants`].
    pub async fn logout_everywhere(&self, username: &str) -> Vec<BackchannelLogout> {
        let sub = {
            let state = self.inner.lock();
            state
                .user(username)
                .map(|user| user.sub.clone())
                .unwrap_or_else(|| username.to_owned())
        };
        backchannel::logout_user(&self.inner, &sub).await
    }

    /// The claims of a valid logout token from this issuer for `client_id` (Back-Channel
    /// Logout 1.0 §2.4): `iss`, `aud`, `iat` (now), `exp` (`iat` + 120 s), a fresh random
    /// `jti`, `events: {"http://schemas.openid.net/event/backchannel-logout": {}}`, and the
    /// `sub` and `sid` given. A starting point for [`DevIssuer::sign_logout_token`]. `iss` is
    /// the issuer URL, or in multi-tenant mode the issuer of the tenant of the user with that
    /// `sub` (without one, of the default tenant), as in the logout tokens the issuer sends.
    pub fn logout_token_claims(
        &self,
        client_id: &str,
        sub: Option<&str>,
        sid: Option<&str>,
    ) -> Value {
        let issuer = tenants::subject_issuer(&self.inner, &self.inner.lock().users, sub);
        Value::Object(backchannel::claims(
            &issuer,
            client_id,
            sub,
            sid,
            unix_now(),
        ))
    }

    /// Signs `claims` (any JSON, used as the payload as it is) as a logout token: RS256 with the
    /// issuer's current signing key (key B under [`Fault::RotatedKey`](super::Fault::RotatedKey)),
    /// header `{"alg":"RS256","kid":...,"typ":"logout+jwt"}`; the logout-token faults
    /// (`Fault::Logout...`) apply, so a test can build replays, repeated `jti`s or any claim set.
    pub fn sign_logout_token(&self, claims: &Value) -> String {
        let faults = self.inner.lock().faults.clone();
        backchannel::sign(claims, &faults)
    }
}
