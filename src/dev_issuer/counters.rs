//! What the issuer counts, for tests to assert on.

/// How often each endpoint was called, and what revocation and logout saw.
///
/// Every request that reaches an endpoint counts, whatever its outcome (errors and faulted
/// answers included). [`DevIssuer::counters`](super::DevIssuer::counters) returns a snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    /// `GET /.well-known/openid-configuration`, and the other paths that serve a discovery
    /// document (redirect hops, multi-tenant paths).
    pub discovery: u64,
    /// `GET /.well-known/oauth-authorization-server` (RFC 8414).
    pub authorization_server_metadata: u64,
    /// `GET /jwks`.
    pub jwks: u64,
    /// `GET /authorize`.
    pub authorize: u64,
    /// `POST /login` (the login form).
    pub login: u64,
    /// `POST /token`.
    pub token: u64,
    /// `GET`/`POST /userinfo`.
    pub userinfo: u64,
    /// `POST /revoke`.
    pub revocation: u64,
    /// `GET`/`POST /end_session`.
    pub end_session: u64,
    /// The `token` of every revocation request from an authenticated client, in order, whether
    /// or not the token was known.
    pub revoked_tokens: Vec<String>,
    /// The decoded parameters of the last well-formed `end_session` request, in order.
    pub last_end_session: Option<Vec<(String, String)>>,
    /// Every grant whose code was redeemed, in the order of their ids.
    pub grants: Vec<GrantCounters>,
    /// Every back-channel logout request sent, in order.
    pub backchannel_logouts: Vec<BackchannelLogout>,
}

/// What one grant (one login of one user at one client: its code, and every access and refresh
/// token that came from it) saw at the token endpoint. In [`Counters::grants`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantCounters {
    /// The grant's number, from 1, in the order its code was issued.
    pub id: u64,
    /// The client it was issued to.
    pub client_id: String,
    /// The user's `sub`.
    pub sub: String,
    /// The login's session id: the `sid` of its ID tokens and logout tokens, for a client with
    /// `backchannel_logout_session_required` (others never see it).
    pub sid: String,
    /// Refresh requests that presented one of its refresh tokens (current, consumed or
    /// revoked), whatever the outcome.
    pub refresh_calls: u64,
    /// Whether it is revoked: by revoking one of its refresh tokens at `/revoke`, by
    /// [`DevIssuer::revoke_grants`](super::DevIssuer::revoke_grants), or by reuse detection.
    pub revoked: bool,
    /// Whether reuse detection revoked it: a consumed refresh token was presented under
    /// [`RefreshRotation::Strict`](super::RefreshRotation::Strict).
    pub revoked_by_reuse: bool,
    /// Whether a back-channel logout ended it (end_session, or
    /// [`DevIssuer::logout_everywhere`](super::DevIssuer::logout_everywhere)); a logout token was
    /// sent for it if its client registered a `backchannel_logout_uri`.
    pub logged_out: bool,
}

/// One back-channel logout request the issuer sent (OpenID Connect Back-Channel Logout 1.0
/// §2.5), and what came of it. In [`Counters::backchannel_logouts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackchannelLogout {
    /// The client it went to.
    pub client_id: String,
    /// Its `backchannel_logout_uri`.
    pub uri: String,
    /// The token's `sub`.
    pub sub: String,
    /// The token's `sid`, for a client with `backchannel_logout_session_required`.
    pub sid: Option<String>,
    /// The `logout_token` posted (a test can post it again to check replay detection).
    pub logout_token: String,
    /// The answer's HTTP status; `None` when there was no answer (refused, timed out).
    pub status: Option<u16>,
    /// Why there was no answer.
    pub error: Option<String>,
}
