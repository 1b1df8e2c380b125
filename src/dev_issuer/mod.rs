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
//! All but the metadata documents are advertised in `/.well-known/openid-configuration`:
//!
//! | Path | What |
//! |------|------|
//! | `GET /.well-known/openid-configuration` | discovery |
//! | `GET /.well-known/oauth-authorization-server` | RFC 8414 metadata: the discovery document without its OpenID-only members (`userinfo_endpoint`, `subject_types_supported`, `id_token_signing_alg_values_supported`, `claims_supported`, `claims_parameter_supported`) |
//! | `GET /{tenant}/v2.0/.well-known/openid-configuration` | multi-tenant mode only (see [below](#multi-tenant-issuer-entra-style)) |
//! | `GET /jwks` | the public signing key(s): RS256, `use: sig`, `kid` = RFC 7638 thumbprint |
//! | `GET /authorize` | authorization code flow only, PKCE `S256` required, a login page |
//! | `POST /login` | the login page's form |
//! | `POST /token` | `authorization_code` and `refresh_token` grants |
//! | `GET`/`POST /userinfo` | claims, with `Authorization: Bearer` only |
//! | `POST /revoke` | RFC 7009 token revocation |
//! | `GET`/`POST /end_session` | RP-Initiated Logout 1.0 |
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
//!   releases `groups`; a user's [`DevUser::extra`] claims are always released. The ID token
//!   carries these claims too, plus `iss`, `sub`, `aud`, `exp`, `iat`, `auth_time`, `nonce` (when
//!   the request had one) and `at_hash`. Other scopes are ignored.
//! - **Tokens**: codes are one-time (gone after the first redemption attempt) and live
//!   [`code_lifetime`](DevIssuerBuilder::code_lifetime) (60 s); access tokens are opaque, 43
//!   characters, and live [`token_lifetime`](DevIssuerBuilder::token_lifetime) (1 h), as do ID
//!   tokens. A refresh token is **always** issued (whether or not `offline_access` was asked
//!   for), never expires, and is rotated on use: the old one then fails with `invalid_grant`.
//!   ID tokens from a refresh keep the original `nonce` and `auth_time`.
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
//! - **Logging**: the issuer's Rocket logs nothing. Rocket 0.5's log level is process-wide and
//!   the Rocket ignited last sets it, so start the issuer before igniting your app if you want
//!   your app's logs.
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
//! usual. `end_session` accepts such tokens as `id_token_hint`.
//! [`DevIssuer::tenant_issuer_url`] and [`DevIssuer::tenant_discovery_url`] build these URLs.
//!
//! Not mimicked: `/organizations` lets personal-account users sign in too; `sub` is not
//! pairwise; Entra's `oid` and `ver` claims are absent (add them to [`DevUser::extra`]).
//!
//! # Faults
//!
//! [`DevIssuer::set_fault`] switches on a [`Fault`]: a wrong claim, a bad signature, a rotated
//! key, an error or a slow answer from one endpoint, metadata as real providers publish it (a
//! discovery redirect, `client_secret_post` only, encryption keys in the JWKS, a revocation
//! endpoint only in the RFC 8414 document), so that a test can show the client rejects, or
//! copes with, exactly that.

mod client_auth;
mod client_keys;
mod endpoints;
mod faults;
mod form_post;
pub(crate) mod jwt;
mod keys;
mod metadata;
mod params;
mod reply;
mod server;
mod state;
mod tenants;
mod token;

pub use client_auth::{
    JwtClientAuth, APPLE_AUDIENCE, APPLE_MAX_SECRET_LIFETIME, CLIENT_ASSERTION_TYPE_JWT_BEARER,
    MAX_ASSERTION_LIFETIME,
};
pub use client_keys::{
    DevClientKey, DevClientKeyError, APPLE_AUTH_KEY_P8, CLIENT_P256_KEY_PEM, CLIENT_RSA_KEY_PEM,
};
pub use faults::Fault;
pub use server::{DevIssuer, DevIssuerBuilder, DevIssuerError};
pub use tenants::{CONSUMERS_TENANT_ID, DEFAULT_TENANT_ID};

use rocket::serde::json::serde_json::{Map, Value};

/// The default client's id.
pub const DEFAULT_CLIENT_ID: &str = "rocket-quickstart";

/// The default client's secret. **Development-only**: it is public.
pub const DEFAULT_CLIENT_SECRET: &str = "quickstart-dev-secret";

/// A client registered with the issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevClient {
    /// The `client_id`.
    pub client_id: String,
    /// The secret of a confidential client; `None` for a public client, which must use PKCE and
    /// authenticates with its `client_id` alone, and for a client with `jwt_auth`.
    pub client_secret: Option<String>,
    /// How a client without a shared secret authenticates: `private_key_jwt` or a Sign in with
    /// Apple client secret ([`DevClient::private_key_jwt`], [`DevClient::apple`]). Such a client
    /// is not a public client: without its JWT it is refused.
    pub jwt_auth: Option<JwtClientAuth>,
    /// Registered redirect URIs (exact match, except loopback ports; see the module docs).
    pub redirect_uris: Vec<String>,
    /// Registered post-logout redirect URIs (same matching rule).
    pub post_logout_redirect_uris: Vec<String>,
}

impl DevClient {
    /// A confidential client (`client_secret_basic` or `client_secret_post`) with no URIs yet.
    pub fn confidential(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        DevClient {
            client_id: client_id.into(),
            client_secret: Some(client_secret.into()),
            jwt_auth: None,
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
        }
    }

    /// A public client (token endpoint auth method `none`) with no URIs yet.
    pub fn public(client_id: impl Into<String>) -> Self {
        DevClient {
            client_id: client_id.into(),
            client_secret: None,
            jwt_auth: None,
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
        }
    }

    /// Registers a redirect URI.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// Registers a post-logout redirect URI.
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.post_logout_redirect_uris.push(uri.into());
        self
    }

    /// The default client: [`DEFAULT_CLIENT_ID`] / [`DEFAULT_CLIENT_SECRET`], redirect URIs
    /// `http://localhost:8000/authorization-code/callback` and
    /// `http://127.0.0.1:8000/authorization-code/callback`, post-logout redirect URIs
    /// `http://localhost:8000/` and `http://127.0.0.1:8000/` (any port, since these are loopback).
    pub fn default_client() -> Self {
        DevClient::confidential(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
            .redirect_uri("http://localhost:8000/authorization-code/callback")
            .redirect_uri("http://127.0.0.1:8000/authorization-code/callback")
            .post_logout_redirect_uri("http://localhost:8000/")
            .post_logout_redirect_uri("http://127.0.0.1:8000/")
    }
}

/// A user in the issuer's directory. Anyone can log in as any user: there are no passwords.
#[derive(Debug, Clone, PartialEq)]
pub struct DevUser {
    /// `sub`: stable, unique.
    pub sub: String,
    /// `name` (scope `profile`).
    pub name: String,
    /// `given_name` (scope `profile`).
    pub given_name: String,
    /// `family_name` (scope `profile`).
    pub family_name: String,
    /// `email` (scope `email`).
    pub email: String,
    /// `email_verified` (scope `email`).
    pub email_verified: bool,
    /// `preferred_username` (scope `profile`); also what the login form submits.
    pub preferred_username: String,
    /// `groups` (scope `groups`).
    pub groups: Vec<String>,
    /// Further claims, released in the ID token and userinfo whatever the scopes.
    pub extra: Map<String, Value>,
}

impl DevUser {
    /// A user with this `sub` and `preferred_username`, the other claims derived from them
    /// (`name` = username, `email` = `username@example.com`, verified, no groups).
    pub fn new(sub: impl Into<String>, preferred_username: impl Into<String>) -> Self {
        let username = preferred_username.into();
        DevUser {
            sub: sub.into(),
            name: username.clone(),
            given_name: username.clone(),
            family_name: String::new(),
            email: format!("{username}@example.com"),
            email_verified: true,
            preferred_username: username,
            groups: Vec::new(),
            extra: Map::new(),
        }
    }
}

fn person(
    sub: &str,
    username: &str,
    given: &str,
    family: &str,
    email: &str,
    groups: &[&str],
) -> DevUser {
    DevUser {
        sub: sub.into(),
        name: format!("{given} {family}"),
        given_name: given.into(),
        family_name: family.into(),
        email: email.into(),
        email_verified: true,
        preferred_username: username.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        extra: Map::new(),
    }
}

/// The default directory: `ada` (Ada Lovelace), `grace` (Grace Hopper) and `alan` (Alan Turing).
///
/// | username | sub | email | groups |
/// |----------|-----|-------|--------|
/// | `ada` | `ada-lovelace-1815` | `ada@example.com` | `admins`, `engineering` |
/// | `grace` | `grace-hopper-1906` | `grace@example.com` | `engineering`, `navy` |
/// | `alan` | `alan-turing-1912` | `alan@example.org` (unverified) | `research` |
pub fn default_users() -> Vec<DevUser> {
    let mut alan = person(
        "alan-turing-1912",
        "alan",
        "Alan",
        "Turing",
        "alan@example.org",
        &["research"],
    );
    alan.email_verified = false;
    vec![
        person(
            "ada-lovelace-1815",
            "ada",
            "Ada",
            "Lovelace",
            "ada@example.com",
            &["admins", "engineering"],
        ),
        person(
            "grace-hopper-1906",
            "grace",
            "Grace",
            "Hopper",
            "grace@example.com",
            &["engineering", "navy"],
        ),
        alan,
    ]
}

/// How often each endpoint was called, and what revocation and logout saw.
///
/// Every request that reaches an endpoint counts, whatever its outcome (errors and faulted
/// answers included). [`DevIssuer::counters`] returns a snapshot.
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
}
