//! A development OpenID Provider that runs in-process on loopback (feature `dev-issuer`).
//!
//! [`DevIssuer`] is a small, standards-following OpenID Provider served by a second Rocket
//! instance inside the current tokio runtime. It is what `cargo run --example quickstart` logs in
//! against, what this crate's integration tests drive real login flows through, and what you can
//! use to test your own protected routes without an account anywhere.
//!
//! # Security
//!
//! **For development and tests only.** Its RSA signing keys are committed to this crate's
//! source, so anyone can forge ID tokens that a client trusting a development issuer accepts;
//! [`DEFAULT_CLIENT_SECRET`] is public too; any user logs in without a password. Never point a
//! deployed application at it.
//!
//! # Endpoints
//!
//! All are advertised in `/.well-known/openid-configuration`:
//!
//! | Path | What |
//! |------|------|
//! | `GET /.well-known/openid-configuration` | discovery |
//! | `GET /jwks` | the public signing key(s): RS256, `use: sig`, `kid` = RFC 7638 thumbprint |
//! | `GET /authorize` | authorization code flow only, PKCE `S256` required, a login page |
//! | `POST /login` | the login page's form |
//! | `POST /token` | `authorization_code` and `refresh_token` grants |
//! | `GET`/`POST /userinfo` | claims, with `Authorization: Bearer` only |
//! | `POST /revoke` | RFC 7009 token revocation |
//! | `GET`/`POST /end_session` | RP-Initiated Logout 1.0, then Back-Channel Logout 1.0 |
//!
//! Behaviour worth knowing:
//! - **Redirect URIs** match exactly, except that the port of a loopback host (`127.0.0.1`,
//!   `[::1]`, `localhost`) may differ, as RFC 8252 §7.3 requires: an app on a random test port
//!   works with the default client. The same rule applies to post-logout redirect URIs.
//! - **Unknown `client_id` or unregistered `redirect_uri`** at `/authorize` gives an HTML 400 page,
//!   never a redirect. Other errors (no `openid` scope, missing PKCE, `plain` PKCE, another
//!   `response_type`, `prompt=none` without auto-login) redirect with `error`,
//!   `error_description`, `state` and `iss`.
//! - **Logging in without a browser**: `GET /authorize` answers a form
//!   `<form method="post" action="/login">` with a hidden `request_id`, radio buttons named
//!   `username` (the users' `preferred_username`; `login_hint` selects one) and buttons
//!   `action=login` / `action=deny`. POST `request_id=…&username=ada` as
//!   `application/x-www-form-urlencoded` to `/login`: the answer is a 303 to
//!   `redirect_uri?code=…&state=…&iss=…` (RFC 9207). An unknown user re-shows the page with 400;
//!   `action=deny` redirects with `error=access_denied`. Or skip the page altogether with
//!   [`DevIssuer::set_auto_login`]. The issuer keeps no login session of its own: every
//!   `/authorize` shows the page unless auto-login is on.
//! - **Scopes and claims**: `openid` is required; `profile` releases `name`, `given_name`,
//!   `family_name`, `preferred_username`; `email` releases `email`, `email_verified`; `groups`
//!   releases `groups`; a user's [`DevUser::extra`] claims are always released, as they are
//!   (nested objects such as Keycloak's `realm_access: {"roles": [...]}` or `resource_access`
//!   included, so a test user can carry whatever roles the app checks). The ID token carries
//!   these claims too, plus `iss`, `sub`, `aud`, `exp`, `iat`, `auth_time`, `nonce` (when the
//!   request had one), `at_hash`, and `sid` (see back-channel logout). Other scopes are ignored.
//! - **Tokens**: codes are one-time (gone after the first redemption attempt) and live
//!   [`code_lifetime`](DevIssuerBuilder::code_lifetime) (60 s); ID tokens live
//!   [`token_lifetime`](DevIssuerBuilder::token_lifetime) (1 h); access tokens live
//!   [`access_token_lifetime`](DevIssuerBuilder::access_token_lifetime) (`expires_in`; the
//!   `token_lifetime` unless set) and are opaque (43 characters) or, with
//!   [`AccessTokenFormat::Jwt`], signed JWTs (`typ: at+jwt`) with the user's claims, `scope`
//!   and Keycloak's `realm_access.roles` (the user's groups), so that an app can authorize
//!   from the access token. A refresh token is **always** issued (whether or not
//!   `offline_access` was asked for) and never expires.
//! - **Refresh tokens** (RFC 6749 §6, OpenID Connect Core §12): the
//!   [`refresh_rotation`](DevIssuerBuilder::refresh_rotation) decides what a refresh does to
//!   the token presented. [`RefreshRotation::Rotate`] (the default): a new refresh token every
//!   time, and the old one answers `invalid_grant`. [`RefreshRotation::Strict`]: the same, and
//!   presenting a consumed token also revokes the whole grant (its refresh and access tokens),
//!   as oidc-provider's `rotateRefreshToken` does; within its `grace` a consumed token is
//!   accepted once more and returns a fresh token set. [`RefreshRotation::Off`]: the same
//!   refresh token comes back and stays valid. ID tokens from a refresh keep the original
//!   `nonce` and `auth_time`. [`DevIssuer::grants`] (or [`Counters::grants`]) counts each
//!   grant's refresh calls and says whether reuse detection revoked it;
//!   [`DevIssuer::revoke_grants`] revokes a user's grants as an administrator would.
//! - **Back-channel logout** (OpenID Connect Back-Channel Logout 1.0; discovery advertises
//!   `backchannel_logout_supported` and `backchannel_logout_session_supported`): every login
//!   has its own session id. A client with
//!   [`backchannel_logout_session_required`](DevClient::backchannel_logout_session_required)
//!   gets it as `sid` in its ID tokens (refreshed ones too) and logout tokens; others never
//!   see it, as with oidc-provider. An `end_session` with a valid `id_token_hint`, or
//!   [`DevIssuer::logout_everywhere`], ends every grant of that user not ended yet (the issuer
//!   keeps no login session, so they stand for it) and, before answering, POSTs a logout token
//!   (`application/x-www-form-urlencoded`, `logout_token=...`) to each client with a
//!   [`backchannel_logout_uri`](DevClient::backchannel_logout_uri): one per grant with `sid` to
//!   a client that requires it, one with `sub` only to the others. The token: header
//!   `{"alg":"RS256","kid":...,"typ":"logout+jwt"}`, claims `iss`, `aud`, `iat`, `exp`
//!   (two minutes after `iat`), a random `jti`, `events` holding
//!   `http://schemas.openid.net/event/backchannel-logout: {}`, `sub`, and `sid` as above;
//!   never `nonce`. Requests run at once, each bounded by the
//!   [`backchannel_logout_timeout`](DevIssuerBuilder::backchannel_logout_timeout) (5 s), never
//!   under the issuer's lock; each answer (status, or the error) is in
//!   [`Counters::backchannel_logouts`]. Logging out does not revoke grants
//!   ([`DevIssuer::revoke_grants`] does). [`DevIssuer::logout_token_claims`] and
//!   [`DevIssuer::sign_logout_token`] make any other logout token, for replay and `jti` tests.
//! - **Client authentication** at `/token` and `/revoke`: `client_secret_basic` (base64 of the
//!   form-urlencoded id and secret, RFC 6749 §2.3.1), `client_secret_post`, or `none` for public
//!   clients (PKCE protects them).
//! - **Bad input** (missing, repeated or badly encoded parameters, invalid UTF-8, a body over
//!   1 MiB) gives a standard OAuth error or a 400 page, never a 500.
//! - **Logging**: the issuer never changes the process-wide log level (Rocket 0.5 has one
//!   per process): it runs at the level in force when it starts. Its request lines are
//!   labelled and redacted, so that at `normal` the app's log shows
//!   `GET /dev-issuer/authorize?redacted` and `Matched: (dev issuer: token) POST
//!   /dev-issuer/token`, never a `state`, `nonce`, code or `id_token_hint`, and never a line that
//!   looks as if the app served `/token`. (A request fairing gives Rocket a labelled, query-free
//!   URI to log; the real paths are unchanged for clients.) At `debug`, Rocket prints every
//!   request in full, as hyper received it, for the app and the issuer alike.
//!
//! # Timing (2 cores, Rust 1.95)
//!
//! | | debug | release |
//! |---|---|---|
//! | generate an RSA-2048 key (why the keys are fixtures) | 1.7–4.5 s | 56–200 ms |
//! | start + stop an issuer | 0.7 ms | 0.17 ms |
//! | sign one ID token | 31 ms | 1.4 ms |
//! | a full login by a strict client (discovery to userinfo) | 46 ms | 4.7 ms |
//!
//! # Faults
//!
//! [`DevIssuer::set_fault`] switches on a [`Fault`]: a wrong claim, a bad signature, a rotated
//! key, an error or a slow answer from one endpoint, so that a test can show the client rejects
//! exactly that. The groups, each documented on its variants:
//! - ID-token claims and signatures (`WrongIssuer`, `Expired`, `AlgNone`, `RotatedKey`, ...);
//! - the authorization response, the token endpoint, userinfo, discovery and JWKS;
//! - refreshes: `RefreshWrongSub`, `RefreshNoIdToken` (Okta), `RefreshNoNonce` (Keycloak 25+),
//!   `RefreshNoRefreshToken` (Google), and `DelayToken`, a slow token endpoint alone;
//! - logout tokens, one per rule of Back-Channel Logout 1.0 §2.6: `LogoutWrongIssuer`,
//!   `LogoutWrongAudience`, `LogoutIatInFuture`, `LogoutExpired`, `LogoutMissingEvents`,
//!   `LogoutEventsNotObject`, `LogoutNoSidNoSub`, `LogoutWithNonce`, `LogoutMissingJti`,
//!   `LogoutWrongTyp`, `LogoutBadSignature`, `LogoutAlgNone`, `LogoutUnknownKid`;
//! - claims for authorization: `GroupOverage` (Entra's `_claim_names` / `_claim_sources` in
//!   place of `groups`), `ManyGroups`;
//! - timing: `Delay`, `DelayJwks`, `DelayToken`.

// Imports run one way (a module uses only modules of the lines above it):
//   counters, directory, faults, keys, options, request_log
//   params, jwt, reply, state
//   entry, grants, backchannel, access_token
//   issue → refresh
//   endpoints, token
//   server → controls
// This file only declares and re-exports.
mod access_token;
mod backchannel;
mod controls;
mod counters;
mod directory;
mod endpoints;
mod entry;
mod faults;
mod grants;
mod issue;
pub(crate) mod jwt;
mod keys;
mod options;
mod params;
mod refresh;
mod reply;
mod request_log;
mod server;
mod state;
mod token;

pub use counters::{BackchannelLogout, Counters, GrantCounters};
pub use directory::{default_users, DevClient, DevUser, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
pub use faults::Fault;
pub use options::{AccessTokenFormat, RefreshRotation};
pub use server::{DevIssuer, DevIssuerBuilder, DevIssuerError};
