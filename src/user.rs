//! Who is signed in: [`UserContext`] with its [`UserInfo`] claims and [`Tokens`], built from a
//! stored session. The request guards that hand it out are in `guards.rs`.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::serde::json::serde_json::{self, Map, Value};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[cfg(any(test, feature = "internals"))]
use crate::config::Config;
use crate::config::ProviderName;
use crate::provider::IssuerPolicy;
use crate::session::SessionData;

/// The signed-in user's claims: the ID token's identity claims joined with userinfo (userinfo
/// wins where both speak), without the protocol claims (`iss`, `aud`, `exp`, `nonce`, ...).
///
/// The standard claims of OIDC Core §5.1 that apps use most have fields; every other claim
/// (`groups`, `locale`, custom claims) is in [`other`](UserInfo::other).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(crate = "rocket::serde")]
#[non_exhaustive]
pub struct UserInfo {
    /// The subject: the provider's stable identifier for the user.
    pub sub: String,
    /// Full name.
    pub name: Option<String>,
    /// Given (first) name.
    pub given_name: Option<String>,
    /// Family (last) name.
    pub family_name: Option<String>,
    /// The name the user likes to be called by, e.g. a login name.
    pub preferred_username: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Whether the provider verified the email address.
    pub email_verified: Option<bool>,
    /// URL of a profile picture.
    pub picture: Option<String>,
    /// Every other claim, by name.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl UserInfo {
    /// A claim by name, standard or not, as JSON.
    pub fn claim(&self, name: &str) -> Option<Value> {
        let v = serde_json::to_value(self).ok()?;
        v.get(name).filter(|v| !v.is_null()).cloned()
    }
}

/// Claims that describe the token, not the user; they stay out of [`UserInfo`].
const PROTOCOL_CLAIMS: &[&str] = &[
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "nonce",
    "at_hash",
    "c_hash",
    "azp",
    "jti",
    "sid",
    "auth_time",
    "acr",
    "amr",
    "s_hash",
    "typ",
];

/// The tokens of the session. `Debug` shows whether each is present, never its value.
#[derive(Clone)]
#[non_exhaustive]
pub struct Tokens {
    /// The raw ID token (a JWT).
    pub id_token: String,
    /// The access token, unless `oidc.keep_access_token = false`.
    pub access_token: Option<String>,
    /// When the access token expires, if the provider said.
    pub access_token_expires_at: Option<OffsetDateTime>,
    /// The refresh token, if the provider issued one and `oidc.keep_refresh_token` is true.
    pub refresh_token: Option<String>,
    /// When the ID token expires.
    pub id_token_expires_at: Option<OffsetDateTime>,
    /// When the user signed in.
    pub signed_in_at: OffsetDateTime,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = |t: &Option<String>| if t.is_some() { "<redacted>" } else { "none" };
        f.debug_struct("Tokens")
            .field("id_token", &"<redacted>")
            .field("access_token", &present(&self.access_token))
            .field("access_token_expires_at", &self.access_token_expires_at)
            .field("refresh_token", &present(&self.refresh_token))
            .field("id_token_expires_at", &self.id_token_expires_at)
            .field("signed_in_at", &self.signed_in_at)
            .finish()
    }
}

/// Who is signed in: the counterpart of `req.userContext` in `@okta/oidc-middleware`.
///
/// As a request guard it **succeeds** with a valid session and **forwards** (status 401)
/// otherwise, so `Option<UserContext>` is `None` for visitors and a route taking `UserContext`
/// simply does not match them. It never fails with a 500 because of a bad cookie: tampered,
/// truncated, expired or foreign cookies all mean "no session". Without
/// [`OidcFairing`](crate::OidcFairing) attached the app does not launch (the guard is a
/// [`Sentinel`](rocket::Sentinel)).
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_openid_connect::UserContext;
///
/// #[get("/")]
/// fn index(user: Option<UserContext>) -> String {
///     match user {
///         Some(user) => format!("Hi {}!", user.userinfo.name.as_deref().unwrap_or("there")),
///         None => "Hello, visitor. Visit /login".into(),
///     }
/// }
/// ```
///
/// # Who the user is
///
/// A user is identified by the pair ([`issuer`](ProviderInfo::issuer), [`sub`](UserInfo::sub)),
/// [`identity`](UserContext::identity): `sub` is unique and never reassigned within one issuer
/// only (OpenID Connect Core 1.0 §2, §5.7), and two providers may well give two people the same
/// one. Never key accounts by `email` (or `preferred_username`): the user or the provider can
/// change it, and another provider may hand the same address to someone else.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UserContext {
    /// The user's claims.
    pub userinfo: UserInfo,
    /// The session's tokens.
    pub tokens: Tokens,
    /// The provider that signed the user in.
    pub provider: ProviderInfo,
}

impl UserContext {
    /// The user's identity key: (issuer, `sub`). See [Who the user is](#who-the-user-is).
    ///
    /// ```
    /// # fn f(user: rocket_openid_connect::UserContext) {
    /// let (issuer, subject) = user.identity();
    /// // e.g. look up the account with: WHERE issuer = $1 AND subject = $2
    /// # let _ = (issuer, subject);
    /// # }
    /// ```
    pub fn identity(&self) -> (&str, &str) {
        (&self.provider.issuer, &self.userinfo.sub)
    }
}

/// Which provider signed the user in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderInfo {
    /// Its name: `NAME` of `[default.oidc.providers.NAME]`, or `default` for the one provider
    /// of a configuration without provider tables.
    pub name: ProviderName,
    /// The issuer of the user's ID token (its `iss`): `oidc.issuer`, or for a multi-tenant
    /// Entra ID provider the issuer of the user's tenant.
    pub issuer: String,
}

/// An ID token's payload as the guards read it: `iss`, `aud` and `exp` apart, the other
/// [`PROTOCOL_CLAIMS`] skipped while parsing (never allocated, inserted and removed again: this
/// is on every signed-in request's path), every other claim in `claims`. A repeated claim keeps
/// its last value, as parsing into a map does.
struct IdTokenPayload {
    iss: Option<Value>,
    aud: Option<Value>,
    exp: Option<Value>,
    claims: Map<String, Value>,
}

impl<'de> Deserialize<'de> for IdTokenPayload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Claims;
        impl<'de> serde::de::Visitor<'de> for Claims {
            type Value = IdTokenPayload;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of claims")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<IdTokenPayload, A::Error> {
                let mut p = IdTokenPayload {
                    iss: None,
                    aud: None,
                    exp: None,
                    claims: Map::new(),
                };
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "iss" => p.iss = Some(map.next_value()?),
                        "aud" => p.aud = Some(map.next_value()?),
                        "exp" => p.exp = Some(map.next_value()?),
                        k if PROTOCOL_CLAIMS.contains(&k) => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                        _ => {
                            let value = map.next_value()?;
                            p.claims.insert(key, value);
                        }
                    }
                }
                Ok(p)
            }
        }
        d.deserialize_map(Claims)
    }
}

/// Builds the user context from stored session data; `None` if the ID token's payload does not
/// belong to this client (another issuer, another client id). For the benches and tests.
#[cfg(any(test, feature = "internals"))]
pub fn user_context(config: &Config, data: &SessionData) -> Option<UserContext> {
    provider_context(
        &IssuerPolicy::Exact(config.issuer.clone()),
        &config.client_id,
        data,
    )
}

/// [`user_context`] for the provider with this issuer policy and client id.
pub(crate) fn provider_context(
    issuer: &IssuerPolicy,
    client_id: &str,
    data: &SessionData,
) -> Option<UserContext> {
    let claims = user_claims(issuer, client_id, data)?;
    let tokens = SessionData {
        id_token: data.id_token.clone(),
        access_token: data.access_token.clone(),
        refresh_token: data.refresh_token.clone(),
        userinfo_extra: Map::new(),
        ..*data
    };
    Some(into_context(claims, tokens))
}

/// What the guard reads from a session's ID token: the user's claims, when the token expires,
/// and its issuer.
pub(crate) struct Claims {
    userinfo: UserInfo,
    id_token_expires_at: Option<OffsetDateTime>,
    issuer: String,
}

/// The claims part of [`user_context`]: `None` unless the ID token's `iss` is `issuer`'s and
/// its `aud` holds `client_id` (a session of another provider or client under the same
/// `secret_key` is not this one's).
pub(crate) fn user_claims(
    issuer: &IssuerPolicy,
    client_id: &str,
    data: &SessionData,
) -> Option<Claims> {
    let payload = data.id_token.split('.').nth(1)?;
    let IdTokenPayload {
        iss,
        aud,
        exp,
        mut claims,
    } = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let Some(Value::String(iss)) = iss else {
        return None;
    };
    if !issuer.accepts(&iss) {
        return None;
    }
    let aud_ok = match aud {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(client_id)),
        _ => false,
    };
    if !aud_ok {
        return None;
    }
    let id_token_expires_at = exp
        .as_ref()
        .and_then(Value::as_i64)
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok());
    for (k, v) in &data.userinfo_extra {
        claims.insert(k.clone(), v.clone());
    }
    Some(Claims {
        userinfo: userinfo_from_claims(claims)?,
        id_token_expires_at,
        issuer: iss,
    })
}

/// The user context, taking the tokens out of `data` (no copies on the request path).
pub(crate) fn into_context(claims: Claims, data: SessionData) -> UserContext {
    let Claims {
        userinfo,
        id_token_expires_at,
        issuer,
    } = claims;
    UserContext {
        userinfo,
        provider: ProviderInfo {
            name: data.provider.unwrap_or(ProviderName::DEFAULT_NAME),
            issuer,
        },
        tokens: Tokens {
            id_token: data.id_token,
            access_token: data.access_token,
            access_token_expires_at: data
                .access_expires_at
                .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok()),
            refresh_token: data.refresh_token,
            id_token_expires_at,
            signed_in_at: OffsetDateTime::from_unix_timestamp(data.created)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        },
    }
}

/// Builds [`UserInfo`] from claims, leniently: a standard claim of an unexpected type (e.g.
/// Cognito's `"email_verified": "true"`) is converted when unambiguous and otherwise kept in
/// `other`, so that no provider quirk can make a stored session unreadable. `None` only without
/// a string `sub`.
pub(crate) fn userinfo_from_claims(mut claims: Map<String, Value>) -> Option<UserInfo> {
    let sub = match claims.remove("sub") {
        Some(Value::String(sub)) => sub,
        _ => return None,
    };
    let mut take_string = |name: &str| match claims.get(name) {
        Some(Value::String(_)) => match claims.remove(name) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    };
    let name = take_string("name");
    let given_name = take_string("given_name");
    let family_name = take_string("family_name");
    let preferred_username = take_string("preferred_username");
    let email = take_string("email");
    let picture = take_string("picture");
    let email_verified = match claims.get("email_verified") {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s == "true" || s == "false" => Some(s == "true"),
        _ => None,
    };
    if email_verified.is_some() {
        claims.remove("email_verified");
    }
    Some(UserInfo {
        sub,
        name,
        given_name,
        family_name,
        preferred_username,
        email,
        email_verified,
        picture,
        other: claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::serde::json::serde_json::json;

    fn session(payload: Value) -> SessionData {
        let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
        SessionData {
            id_token: format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln"),
            access_token: None,
            access_expires_at: None,
            refresh_token: None,
            userinfo_extra: Map::new(),
            created: 1_700_000_000,
            seen: 1_700_000_000,
            provider: None,
        }
    }

    #[test]
    fn user_context_keeps_user_claims_and_drops_protocol_claims() {
        let config = Config {
            issuer: "https://op.example".into(),
            client_id: "app".into(),
            ..Config::default()
        };
        let mut data = session(json!({
            "iss": "https://op.example", "aud": ["other", "app"], "exp": 1_800_000_000,
            "iat": 1, "nonce": "n", "at_hash": "h", "auth_time": 2, "sid": "s",
            "sub": "ada", "name": "Ada", "groups": ["g"], "iss2": "kept"
        }));
        data.userinfo_extra.insert("name".into(), json!("Ada L."));
        data.userinfo_extra.insert("locale".into(), json!("en"));
        let ctx = user_context(&config, &data).unwrap();
        assert_eq!(ctx.userinfo.sub, "ada");
        assert_eq!(
            ctx.userinfo.name.as_deref(),
            Some("Ada L."),
            "userinfo wins"
        );
        assert_eq!(
            Value::Object(ctx.userinfo.other.clone()),
            json!({"groups": ["g"], "iss2": "kept", "locale": "en"})
        );
        assert_eq!(
            ctx.tokens.id_token_expires_at.map(|t| t.unix_timestamp()),
            Some(1_800_000_000)
        );
        for foreign in [
            json!({"iss": "https://other.example", "aud": "app", "sub": "ada"}),
            json!({"iss": "https://op.example", "aud": "other", "sub": "ada"}),
            json!({"iss": "https://op.example", "sub": "ada"}),
            json!({"aud": "app", "sub": "ada"}),
            json!({"iss": "https://op.example", "aud": "app"}),
            json!(["not", "an", "object"]),
        ] {
            assert!(
                user_context(&config, &session(foreign.clone())).is_none(),
                "{foreign}"
            );
        }
    }

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn userinfo_accepts_provider_quirks_without_failing() {
        let u = userinfo_from_claims(claims(json!({
            "sub": "a", "name": "Ada", "email_verified": "true", "picture": 5,
            "groups": ["g"], "updated_at": "2025-12-23T10:59:07.841Z"
        })))
        .unwrap();
        assert_eq!(u.email_verified, Some(true));
        assert_eq!(u.name.as_deref(), Some("Ada"));
        assert_eq!(u.picture, None);
        assert_eq!(
            u.other.get("picture"),
            Some(&json!(5)),
            "wrong type kept in other"
        );
        assert_eq!(u.other.get("groups"), Some(&json!(["g"])));
        let odd =
            userinfo_from_claims(claims(json!({"sub": "a", "email_verified": "yes"}))).unwrap();
        assert_eq!(odd.email_verified, None);
        assert_eq!(odd.other.get("email_verified"), Some(&json!("yes")));
    }

    #[test]
    fn userinfo_needs_a_string_sub() {
        assert!(userinfo_from_claims(claims(json!({"sub": 5}))).is_none());
        assert!(userinfo_from_claims(claims(json!({"name": "x"}))).is_none());
    }
}
