//! What the issuer counts, for tests to assert on.

/// How often each endpoint was called, and what revocation and logout saw.
///
/// Every request that reaches an endpoint counts, whatever its outcome (errors and faulted
/// answers included). [`DevIssuer::counters`](super::DevIssuer::counters) returns a snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    /// `GET /.well-known/openid-configuration`.
    pub discovery: u64,
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
}
