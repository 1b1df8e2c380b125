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
//! All but the metadata documents and the redirect hops are advertised in
//! `/.well-known/openid-configuration`:
//!
//! | Path | What |
//! |------|------|
//! | `GET /.well-known/openid-configuration` | discovery |
//! | `GET /.well-known/oauth-authorization-server` | RFC 8414 metadata: the discovery document without its OpenID-only members (`userinfo_endpoint`, `subject_types_supported`, `id_token_signing_alg_values_supported`, `claims_supported`, `claims_parameter_supported`) |
//! | `GET /moved/{n}/openid-configuration` | the hops of [`Fault::DiscoveryRedirect`] and [`Fault::DiscoveryRedirectLoop`] (`n` a number, or `loop`); the document once the chain ends or the fault is off |
//! | `GET /{tenant}/v2.0/.well-known/openid-configuration` | multi-tenant mode only (see [below](#multi-tenant-issuer-entra-style)) |
//! | `GET /jwks` | the public signing key(s): RS256, `use: sig`, `kid` = RFC 7638 thumbprint |
//! | `GET /authorize` | authorization code flow only, PKCE `S256` required, a login page; `response_mode` `query` or `form_post` |
//! | `POST /login` | the login page's form |
//! | `POST /token` | `authorization_code` and `refresh_token` grants; `client_secret_basic`, `client_secret_post`, `private_key_jwt`, `none`, Sign in with Apple's JWT secret |
//! | `GET`/`POST /userinfo` | claims, with `Authorization: Bearer` only |
//! | `POST /revoke` | RFC 7009 token revocation (the same client authentication) |
//! | `GET`/`POST /end_session` | RP-Initiated Logout 1.0, then Back-Channel Logout 1.0 |
//!
//! Behaviour worth knowing:
//! - **Redirect URIs** match exactly, except that the port of a loopback host (`127.0.0.1`,
//!   `[::1]`, `localhost`) may differ, as RFC 8252 §7.3 requires: an app on a random test port
//!   works with the default client. The same rule applies to post-logout redirect URIs.
//! - **Unknown `client_id` or unregistered `redirect_uri`** at `/authorize` gives an HTML 400 page,
//!   never a redirect. Other errors (no `openid` scope, missing PKCE, `plain` PKCE, another
//!   `response_type`, a `response_mode` other than `query` and `form_post`, `prompt=none`
//!   without auto-login) redirect with `error`, `error_description`, `state` and `iss`.
//! - **`response_mode=form_post`** (OAuth 2.0 Form Post Response Mode): instead of a 303, the
//!   authorization response (the code, or an error) is a 200 HTML page with
//!   `Cache-Control: no-store` holding `<form method="post" action="{redirect_uri}">` with one
//!   `<input type="hidden">` per parameter: `code`, `state` (when sent), `iss`; or `error`,
//!   `error_description`, `state`, `iss`. `<body onload="document.forms[0].submit()">` submits
//!   it; with JavaScript off, a `<noscript>` "Continue" button does. This holds after the login
//!   page and with auto-login alike. Other modes (`fragment`, JARM's `*.jwt`) are refused with
//!   `invalid_request` in the query.
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
//!   form-urlencoded id and secret, RFC 6749 §2.3.1), `client_secret_post`, `none` for public
//!   clients (PKCE protects them), `private_key_jwt` and Sign in with Apple's client secret
//!   (below). One method per request (RFC 6749 §2.3), else 400 `invalid_request`.
//! - **`private_key_jwt`** (RFC 7523 §2.2 and §3, OpenID Connect Core §9), for clients made
//!   with [`DevClient::private_key_jwt`] from [`DevClientKey`]s (a JWK, a JWK Set or PEM): the
//!   request carries `client_assertion_type=`[`CLIENT_ASSERTION_TYPE_JWT_BEARER`] and a
//!   `client_assertion` JWT (`client_id` is optional and must then equal its `sub`). The JWT is
//!   signed RS256, PS256 or ES256 by a registered key (a header `kid` selects the key with that
//!   `kid`; without one every key is tried; `none`, HMAC and `crit` are refused); `iss` = `sub` =
//!   the `client_id`; `aud` (a string or an array) names `{issuer}/token`, `{issuer}/revoke` or
//!   the issuer URL; `exp` is in the future and at most [`MAX_ASSERTION_LIFETIME`] (3600 s)
//!   ahead; `nbf` and `iat`, if present, at most 60 s ahead; `jti` is present and not used before
//!   by that client (remembered until `exp`). A refusal is 401 `invalid_client` whose
//!   `error_description` names the check that failed. Discovery advertises `private_key_jwt` and
//!   `token_endpoint_auth_signing_alg_values_supported: ["RS256", "PS256", "ES256"]` (and the
//!   same for revocation). Such a client's secret, or its bare `client_id`, is refused.
//! - **Sign in with Apple**, for clients made with [`DevClient::apple`]: the `client_secret`,
//!   sent in the form body (`client_secret_post`; Basic is refused), is an ES256 JWT signed by
//!   the registered P-256 key, with header `kid` = the key id and claims `iss` = the team id,
//!   `sub` = the `client_id` (the Services ID), `aud` = [`APPLE_AUDIENCE`], `iat` (at most 60 s
//!   ahead) and `exp`, in the future and at most [`APPLE_MAX_SECRET_LIFETIME`] (15777000 s, six
//!   months) after `iat` and after now. It may be reused until it expires. A refusal is
//!   **400** `invalid_client`, as `appleid.apple.com` answers (with an `error_description` here;
//!   Apple sends none).
//! - **Client key fixtures**, public and for development only: [`CLIENT_RSA_KEY_PEM`] and
//!   [`CLIENT_P256_KEY_PEM`] for `private_key_jwt`, [`APPLE_AUTH_KEY_P8`] in the form of Apple's
//!   `.p8` files; [`DevClientKey::from_pem`] takes their public halves.
//! - **Bad input** (missing, repeated or badly encoded parameters, invalid UTF-8, a body over
//!   1 MiB) gives a standard OAuth error or a 400 page, never a 500.
//! - **Logging**: the issuer never changes the process-wide log level (Rocket 0.5 has one
//!   per process): it runs at the level in force when it starts. Its request lines are
//!   labelled and redacted, so that at `normal` the app's log shows
//!   `GET /dev-issuer/authorize?redacted` and `Matched: (dev issuer: token) POST
//!   /dev-issuer/token`, never a `state`, `nonce`, code or `id_token_hint`, and never a line that
//!   looks as if the app served `/token`. Every path above is labelled so, the metadata
//!   document, redirect hops and tenant paths included (`GET
//!   /dev-issuer/common/v2.0/.well-known/openid-configuration`). (A request fairing gives Rocket
//!   a labelled, query-free URI to log; the real paths are unchanged for clients: documents,
//!   `Location` headers and `form_post` pages name the real URLs.) At `debug`, Rocket prints
//!   every request in full, as hyper received it, for the app and the issuer alike.
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
//! # Multi-tenant issuer (Entra style)
//!
//! With [`DevIssuerBuilder::multi_tenant`] the issuer behaves like Microsoft Entra ID v2.0
//! (`https://login.microsoftonline.com`) for multi-tenant apps. With `{base}` the
//! [issuer URL](DevIssuer::issuer_url) and `{tid}` a tenant id:
//!
//! | Discovery URL | Its `issuer` | Entra |
//! |---|---|---|
//! | `{base}/common/v2.0/.well-known/openid-configuration` | `{base}/{tenantid}/v2.0`, literally, braces included | `/common/v2.0/…` has `"issuer": "https://login.microsoftonline.com/{tenantid}/v2.0"` |
//! | `{base}/organizations/v2.0/.well-known/openid-configuration` | the same template | the same for `/organizations` |
//! | `{base}/consumers/v2.0/.well-known/openid-configuration` | `{base}/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0` ([`CONSUMERS_TENANT_ID`]) | the tenant of personal accounts |
//! | `{base}/{tid}/v2.0/.well-known/openid-configuration`, `{tid}` the default tenant, a user's `tid` or [`CONSUMERS_TENANT_ID`] | `{base}/{tid}/v2.0` | a tenant's own document |
//! | `{base}/{other}/v2.0/.well-known/openid-configuration` | 400 `{"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant '{other}' not found. …"}` | Entra's AADSTS90002 |
//! | `{base}/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server` | 404 `invalid_tenant`, naming the paths above | Entra serves no document at its root |
//!
//! Every tenant document is the ordinary one with that `issuer` and with the same shared
//! endpoints `{base}/authorize`, `{base}/token`, `{base}/userinfo`, `{base}/jwks`,
//! `{base}/end_session` (Entra's are per path, `…/common/oauth2/v2.0/authorize`, and reach one
//! service). As Entra's, it has no `revocation_endpoint` and no
//! `authorization_response_iss_parameter_supported`, lists `tid` in `claims_supported`, and has
//! `tenant_region_scope` (`null` for `/common` and `/organizations`, `"WW"` otherwise) and
//! `cloud_instance_name: "microsoftonline.com"`. The document faults apply to it
//! ([`Fault::DiscoveryWrongIssuer`] appends `/other` to its `issuer`); the redirect faults do not.
//! Each fetch counts as a discovery call.
//!
//! A user's tenant is the string claim `tid` in [`DevUser::extra`]; at start, users without one
//! get the default tenant id given to `multi_tenant` (for example [`DEFAULT_TENANT_ID`]). Since
//! `extra` claims are always released, ID tokens and userinfo carry `tid`, and every ID token
//! has `iss = {base}/{tid}/v2.0` for the user's tenant, whichever document the client read, as
//! Entra's v2.0 ID tokens have `iss: "https://login.microsoftonline.com/<tid>/v2.0"` and
//! `tid: "<tid>"`. The authorization response carries no RFC 9207 `iss` (Entra sends none). So a
//! client of `/common` or `/organizations` must take the tenant from the token's `tid` and check
//! `iss` against the template filled in with it; a client of a fixed tenant checks `iss` as
//! usual. [`AccessTokenFormat::Jwt`] access tokens carry the same `iss` and `tid`, as Entra's
//! v2.0 access tokens do. `end_session` accepts tenant ID tokens as `id_token_hint`, and the
//! back-channel logout that follows (as well as [`DevIssuer::logout_everywhere`] and
//! [`DevIssuer::logout_token_claims`]) gives its logout tokens the user's tenant issuer too.
//! [`DevIssuer::tenant_issuer_url`] and [`DevIssuer::tenant_discovery_url`] build these URLs.
//!
//! Not mimicked: `/organizations` lets personal-account users sign in too; `sub` is not
//! pairwise; Entra's `oid` and `ver` claims are absent (add them to [`DevUser::extra`]); the
//! tenant documents still advertise back-channel logout, which Entra does not offer.
//!
//! # Faults
//!
//! [`DevIssuer::set_fault`] switches on a [`Fault`]: a wrong claim, a bad signature, a rotated
//! key, an error or a slow answer from one endpoint, metadata as real providers publish it, so
//! that a test can show the client rejects, or copes with, exactly that. The groups, each
//! documented on its variants:
//! - ID-token claims and signatures (`WrongIssuer`, `Expired`, `AlgNone`, `RotatedKey`, ...);
//! - the authorization response, the token endpoint, userinfo, discovery and JWKS;
//! - metadata real providers publish: `DiscoveryMissingRevocationEndpoint` (revocation only in
//!   the RFC 8414 document), `DiscoveryRedirect` and `DiscoveryRedirectLoop`,
//!   `ClientSecretPostOnly` (Apple, Twitch), `JwksEncryptionKeys` (Keycloak, PayPal),
//!   `JwksKeyWithoutUseAndAlg` (MojeID);
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
//   client_keys, counters, faults, keys, options, request_log
//   directory, params
//   jwt, reply
//   discovery, form_post
//   state
//   access_token, client_auth, entry, grants
//   tenants
//   backchannel, issue, metadata
//   endpoints, refresh
//   token
//   server
//   controls
// (Checked over the `use super::` edges.)
// This file only declares and re-exports.
mod access_token;
pub(crate) mod backchannel;
mod client_auth;
mod client_keys;
mod controls;
mod counters;
mod directory;
mod discovery;
mod endpoints;
mod entry;
mod faults;
mod form_post;
mod grants;
mod issue;
pub(crate) mod jwt;
mod keys;
mod metadata;
mod options;
mod params;
mod refresh;
mod reply;
mod request_log;
mod server;
mod state;
mod tenants;
mod token;

// For `testing` (the walks find the issuer an app signs in at).
pub(crate) use controls::{add_user, auto_login};
pub(crate) use server::running;

pub use client_auth::{
    APPLE_AUDIENCE, APPLE_MAX_SECRET_LIFETIME, CLIENT_ASSERTION_TYPE_JWT_BEARER,
    MAX_ASSERTION_LIFETIME,
};
pub use client_keys::{
    DevClientKey, DevClientKeyError, APPLE_AUTH_KEY_P8, CLIENT_P256_KEY_PEM, CLIENT_RSA_KEY_PEM,
};
pub use counters::{BackchannelLogout, Counters, GrantCounters};
pub use directory::{
    default_users, DevClient, DevUser, JwtClientAuth, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};
pub use faults::Fault;
pub use options::{AccessTokenFormat, RefreshRotation};
pub use server::{DevIssuer, DevIssuerBuilder, DevIssuerError};
pub use tenants::{CONSUMERS_TENANT_ID, DEFAULT_TENANT_ID};
