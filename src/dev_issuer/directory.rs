//! The issuer's directory: registered clients (with how each authenticates) and users, and the
//! default ones.

use rocket::serde::json::serde_json::{Map, Value};

use super::client_keys::DevClientKey;

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
    /// Where the issuer POSTs logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.2);
    /// `None`: the client gets none. Any `http` or `https` URL.
    pub backchannel_logout_uri: Option<String>,
    /// Whether the client needs `sid` (Back-Channel Logout 1.0 §2.2): then its ID tokens and
    /// logout tokens carry the login's `sid`; otherwise neither does (as oidc-provider).
    pub backchannel_logout_session_required: bool,
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
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
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
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
        }
    }

    /// A `private_key_jwt` client with these public keys (see [`JwtClientAuth::PrivateKeyJwt`])
    /// and no URIs yet. It has no secret, and a secret it sends is refused.
    pub fn private_key_jwt(
        client_id: impl Into<String>,
        keys: impl IntoIterator<Item = DevClientKey>,
    ) -> Self {
        let mut client = DevClient::public(client_id);
        client.jwt_auth = Some(JwtClientAuth::PrivateKeyJwt(keys.into_iter().collect()));
        client
    }

    /// A Sign in with Apple client: `client_id` is the Services ID, and its `client_secret` an
    /// ES256 JWT from the `.p8` key `key_id` of team `team_id`, whose public half is `key` (see
    /// [`JwtClientAuth::AppleClientSecret`]). No URIs yet.
    pub fn apple(
        client_id: impl Into<String>,
        team_id: impl Into<String>,
        key_id: impl Into<String>,
        key: DevClientKey,
    ) -> Self {
        let key_id = key_id.into();
        let mut client = DevClient::public(client_id);
        client.jwt_auth = Some(JwtClientAuth::AppleClientSecret {
            team_id: team_id.into(),
            key: key.with_kid(key_id.clone()),
            key_id,
        });
        client
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

    /// Registers the back-channel logout URI.
    pub fn backchannel_logout_uri(mut self, uri: impl Into<String>) -> Self {
        self.backchannel_logout_uri = Some(uri.into());
        self
    }

    /// Sets `backchannel_logout_session_required`.
    pub fn backchannel_logout_session_required(mut self, required: bool) -> Self {
        self.backchannel_logout_session_required = required;
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

/// How a client without a shared secret authenticates at `/token` and `/revoke`: the
/// [`DevClient::jwt_auth`] of such a client. The checks are in client_auth.rs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwtClientAuth {
    /// `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9): the client sends
    /// `client_assertion_type=`[`CLIENT_ASSERTION_TYPE_JWT_BEARER`](super::CLIENT_ASSERTION_TYPE_JWT_BEARER)
    /// and a `client_assertion` JWT signed (RS256, PS256 or ES256) by one of these keys, with
    /// `iss` = `sub` = its `client_id`, `aud` the token endpoint URL, the revocation endpoint URL
    /// or the issuer URL, an `exp` at most
    /// [`MAX_ASSERTION_LIFETIME`](super::MAX_ASSERTION_LIFETIME) ahead, and a `jti` never used
    /// before.
    PrivateKeyJwt(Vec<DevClientKey>),
    /// Sign in with Apple: the `client_secret` (sent with `client_secret_post`) is an ES256 JWT
    /// signed by `key` (whose `kid` is `key_id`), with header `kid` = `key_id` and claims `iss` =
    /// `team_id`, `sub` = the `client_id`, `aud` = [`APPLE_AUDIENCE`](super::APPLE_AUDIENCE),
    /// `iat`, and `exp` in the future and at most
    /// [`APPLE_MAX_SECRET_LIFETIME`](super::APPLE_MAX_SECRET_LIFETIME) after `iat` and after now.
    /// It may be used many times.
    AppleClientSecret {
        /// The Apple Developer team id (the secret's `iss`).
        team_id: String,
        /// The key id of the `.p8` key (the secret's header `kid`).
        key_id: String,
        /// The public half of the `.p8` key (P-256), with `kid` = `key_id`.
        key: DevClientKey,
    },
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
    /// Further claims, released in the ID token, userinfo and JWT access tokens whatever the
    /// scopes, as they are: any JSON, nested objects and arrays included. A standard claim of
    /// the same name (`name`, `email`, `groups`, ...) wins when its scope is granted.
    ///
    /// Keycloak-style roles, for authorization tests:
    ///
    /// ```
    /// use rocket::serde::json::serde_json::json;
    /// use rocket_openid_connect::dev_issuer::DevUser;
    ///
    /// let mut admin = DevUser::new("root-1", "root");
    /// admin.extra.insert("realm_access".into(), json!({"roles": ["admin", "user"]}));
    /// admin.extra.insert("resource_access".into(), json!({"my-app": {"roles": ["editor"]}}));
    /// admin.extra.insert("tenant".into(), json!("acme"));
    /// ```
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

    /// The user, in group `group` too (released as `groups` with the `groups` scope, and as
    /// Keycloak's `realm_access.roles` in JWT access tokens).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.groups.push(group.into());
        self
    }

    /// The user, with claim `name` (any JSON) among its [`extra`](DevUser::extra) claims.
    ///
    /// ```
    /// use rocket::serde::json::serde_json::json;
    /// use rocket_openid_connect::dev_issuer::DevUser;
    ///
    /// let editor = DevUser::new("edith-1", "edith")
    ///     .group("editors")
    ///     .claim("tenant", "acme")
    ///     .claim("realm_access", json!({"roles": ["editor"]}));
    /// assert_eq!(editor.groups, ["editors"]);
    /// ```
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
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
