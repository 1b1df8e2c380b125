//! Options chosen on the builder: the access tokens' lifetime and format, how refresh tokens
//! rotate, how long a back-channel logout may take, and the multi-tenant mode.

use std::time::Duration;

/// How the token endpoint treats a refresh token it has just redeemed; chosen with
/// [`DevIssuerBuilder::refresh_rotation`](super::DevIssuerBuilder::refresh_rotation).
///
/// Real providers differ here, and a client that refreshes from several requests or instances
/// at once must survive each of them: see the module docs' "Refresh tokens".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RefreshRotation {
    /// Every refresh returns a new refresh token and consumes the one presented; presenting a
    /// consumed one answers `invalid_grant`, and the grant lives on. _The default._
    #[default]
    Rotate,
    /// Rotation with reuse detection, as oidc-provider's `rotateRefreshToken` and Auth0's
    /// "reuse detection" do (OAuth 2.0 Security BCP, RFC 9700 §4.14.2): presenting a consumed
    /// refresh token answers `invalid_grant` **and revokes the whole grant**, its current
    /// refresh token(s) and its access tokens.
    ///
    /// Within `grace` of its consumption, a consumed token is accepted **once** more, as Okta's
    /// rotation grace period (0–60 s) and Auth0's overlap period allow: that refresh returns a
    /// **fresh** token set (new access, refresh and ID tokens), and the successor issued by the
    /// first refresh stays valid too. A second replay, or one after `grace`, is reuse.
    /// `Duration::ZERO` means no grace at all.
    Strict {
        /// How long a consumed refresh token may still be presented once.
        grace: Duration,
    },
    /// No rotation: the refresh token stays valid and the refresh response returns it again.
    Off,
}

/// What access tokens look like; chosen with
/// [`DevIssuerBuilder::access_token_format`](super::DevIssuerBuilder::access_token_format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AccessTokenFormat {
    /// 43 random base64url characters, meaningful only to the issuer (userinfo, revocation).
    /// _The default._
    #[default]
    Opaque,
    /// A signed JWT, as Keycloak issues them, so that an app can read claims (roles) from the
    /// access token: header `{"alg":"RS256","kid":...,"typ":"at+jwt"}` (RFC 9068 §2.1), claims
    /// `iss`, `sub`, `aud` and `azp` and `client_id` (the client's id), `iat`, `exp`, a random
    /// `jti`, `scope` (space-separated), `realm_access: {"roles": [the user's groups]}`, `sid`
    /// for a client that requires it, and the user's claims for the scopes (as in the ID
    /// token, [`DevUser::extra`](super::DevUser::extra) included, which may replace
    /// `realm_access` or add `resource_access`). `iss` is the ID tokens' `iss`: in
    /// [multi-tenant mode](super::DevIssuerBuilder::multi_tenant), `{issuer URL}/{tid}/v2.0`
    /// for the user's tenant, as Entra's v2.0 access tokens have. Userinfo and revocation
    /// accept it as they do an opaque one.
    Jwt,
}

/// The builder's token options, kept by the running issuer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// `expires_in` of access tokens; `None`: the ID-token lifetime.
    pub access_token_lifetime: Option<Duration>,
    pub rotation: RefreshRotation,
    pub access_token_format: AccessTokenFormat,
    /// How long a back-channel logout POST may take; `None`: 5 s.
    pub backchannel_logout_timeout: Option<Duration>,
}

impl Options {
    /// The access-token lifetime, given the ID-token lifetime.
    pub fn access_lifetime(&self, token_lifetime: Duration) -> Duration {
        self.access_token_lifetime.unwrap_or(token_lifetime)
    }
}

/// The multi-tenant mode ([`DevIssuerBuilder::multi_tenant`](super::DevIssuerBuilder::multi_tenant));
/// what it serves is in tenants.rs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tenants {
    /// The `tid` of users who have none.
    pub default_tenant: String,
}
