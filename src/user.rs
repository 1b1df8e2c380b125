//! Who is signed in: [`UserContext`] with its [`UserInfo`] claims and [`Tokens`], built from a
//! stored session. The request guards that hand it out are in `guards.rs`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::serde::json::serde_json::{self, Map, Value};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[cfg(test)]
use crate::config::Config;
use crate::config::ProviderName;
use crate::provider::IssuerPolicy;
#[cfg(feature = "internals")]
use crate::session::Stored;
use crate::session::{SessionBinding, SessionData};
use crate::util::TypeCache;

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
fn is_protocol_claim(name: &str) -> bool {
    // A match, not a list search: this runs for every claim of every signed-in request.
    matches!(
        name,
        "iss"
            | "aud"
            | "exp"
            | "iat"
            | "nbf"
            | "nonce"
            | "at_hash"
            | "c_hash"
            | "azp"
            | "jti"
            | "sid"
            | "auth_time"
            | "acr"
            | "amr"
            | "s_hash"
            | "typ"
    )
}

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
    /// Whether this request refreshed the tokens, or tried to and could not.
    pub refresh_status: RefreshStatus,
}

/// What the request did about an expiring access token (see [`Tokens::refresh_status`] and
/// `[default.oidc.refresh]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefreshStatus {
    /// The tokens are as stored: no refresh was due, the mode is not `auto`, or the session
    /// has no refresh token (then an expired access token stays expired).
    Unchanged,
    /// The tokens were refreshed during this request (the token-endpoint call may have been
    /// made for a concurrent request of the same session, whose result this one shares); the
    /// response carries the new session cookie.
    Refreshed,
    /// A refresh was due but the provider could not do it (unreachable, timed out, 5xx, an
    /// OAuth error other than `invalid_grant`): the tokens are the old ones and the access
    /// token may have expired. The log says why; a request after
    /// `oidc.refresh.failure_cache_secs` tries again.
    Stale,
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
            .field("refresh_status", &self.refresh_status)
            .finish()
    }
}

/// Who is signed in: the counterpart of `req.userContext` in `@okta/oidc-middleware`.
///
/// As a request guard it **succeeds** with a valid session and **forwards** (status 401)
/// otherwise, so `Option<UserContext>` is `None` for visitors and a route taking `UserContext`
/// simply does not match them. It never fails with a 500 because of a bad cookie: tampered,
/// truncated, expired, foreign or signed-out cookies all mean "no session", and so does a
/// session whose refresh the provider refused (`invalid_grant`). An access token due for
/// refresh is refreshed first, as for [`AuthenticatedUser`](crate::AuthenticatedUser). Without
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
    /// What the login hook stored in the session (`UserContext::app_data`).
    pub(crate) app_data: Option<Value>,
    /// What [`claims`](UserContext::claims) decoded for this request, shared by the clones.
    pub(crate) cache: Arc<TypeCache>,
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
    /// The issuer of the user's ID token (its `iss`): `oidc.issuer` (shared, not copied per
    /// request), or for a multi-tenant Entra ID provider the issuer of the user's tenant.
    pub issuer: Arc<str>,
}

/// Builds the user context from stored session data; `None` if the ID token's payload does not
/// belong to `binding`'s provider and client (another issuer, another client id).
pub(crate) fn bound_user_context(
    binding: &SessionBinding,
    data: &SessionData,
) -> Option<UserContext> {
    let claims = user_claims(binding, data, None)?;
    let tokens = SessionData {
        id_token: data.id_token.clone(),
        access_token: data.access_token.clone(),
        refresh_token: data.refresh_token.clone(),
        userinfo_extra: Map::new(),
        nonce: None,
        session_id: data.session_id.clone(),
        app_data: data.app_data.clone(),
        ..*data
    };
    Some(into_context(
        binding,
        claims,
        tokens,
        RefreshStatus::Unchanged,
    ))
}

/// [`bound_user_context`] (for the benches).
#[cfg(feature = "internals")]
pub fn user_context(binding: &SessionBinding, data: &SessionData) -> Option<UserContext> {
    bound_user_context(binding, data)
}

/// [`user_context`] for a session read back from its cookies, reading the claims from the
/// JSON the session kept (what the guards do; for the benches).
#[cfg(feature = "internals")]
pub fn stored_user_context(binding: &SessionBinding, stored: &Stored) -> Option<UserContext> {
    let claims = user_claims(binding, &stored.data, stored.claims_json())?;
    let data = &stored.data;
    let tokens = SessionData {
        id_token: data.id_token.clone(),
        access_token: data.access_token.clone(),
        refresh_token: data.refresh_token.clone(),
        userinfo_extra: Map::new(),
        nonce: None,
        session_id: data.session_id.clone(),
        app_data: data.app_data.clone(),
        ..*data
    };
    Some(into_context(
        binding,
        claims,
        tokens,
        RefreshStatus::Unchanged,
    ))
}

/// What the guard reads from a session's ID token: the user's claims, when the token expires,
/// and its issuer when it is not the provider's one (a tenant of a multi-tenant issuer).
#[derive(Clone)]
pub(crate) struct Claims {
    userinfo: UserInfo,
    id_token_expires_at: Option<OffsetDateTime>,
    tenant_issuer: Option<Arc<str>>,
    /// The provider's session id (`sid`, Back-Channel Logout 1.0 §2.4), when the ID token has
    /// one: what a back-channel logout names.
    sid: Option<String>,
}

impl Claims {
    /// The user's `sub`.
    pub(crate) fn sub(&self) -> &str {
        &self.userinfo.sub
    }

    /// The ID token's `sid`, if any.
    pub(crate) fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The issuer of the user's tenant, when it is not the provider's own issuer.
    pub(crate) fn tenant_issuer(&self) -> Option<&str> {
        self.tenant_issuer.as_deref()
    }
}

/// The claims part of [`user_context`], and when the ID token expires: the ID token's claims
/// (read from `claims_json` when the session kept them as JSON, else decoded from the token),
/// then the userinfo claims the session added, which win. `None` unless the token's `iss` is
/// the binding's (its issuer, or a tenant's of its template) and its `aud` names its client
/// id: a session minted for another provider or client under the same `secret_key` is
/// refused.
pub(crate) fn user_claims(
    binding: &SessionBinding,
    data: &SessionData,
    claims_json: Option<&str>,
) -> Option<Claims> {
    let seed = ClaimsSeed {
        issuer: &binding.policy,
        client_id: &binding.client_id,
    };
    let parsed = match claims_json {
        Some(json) => seed.deserialize(&mut serde_json::Deserializer::from_str(json)),
        None => {
            let payload = URL_SAFE_NO_PAD
                .decode(data.id_token.split('.').nth(1)?)
                .ok()?;
            seed.deserialize(&mut serde_json::Deserializer::from_slice(&payload))
        }
    };
    let Parsed {
        mut userinfo,
        sub,
        exp,
        sid,
        iss,
        aud_ok,
    } = parsed.ok()?;
    let tenant_issuer = match iss {
        Iss::Accepted(tenant) if aud_ok => tenant,
        _ => return None,
    };
    let mut sub = sub?;
    for (name, value) in &data.userinfo_extra {
        if name == "sub" {
            sub = value.as_str()?.to_owned();
        } else {
            set_claim(&mut userinfo, name, value.clone());
        }
    }
    userinfo.sub = sub;
    let id_token_expires_at = exp.and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok());
    Some(Claims {
        userinfo,
        id_token_expires_at,
        tenant_issuer,
        sid,
    })
}

/// What [`ClaimsSeed`] reads out of an ID token's payload.
struct Parsed {
    userinfo: UserInfo,
    /// The last `sub`, if it is a string.
    sub: Option<String>,
    exp: Option<i64>,
    /// The last `sid`, if it is a non-empty string.
    sid: Option<String>,
    /// Whether `iss` is this provider's.
    iss: Iss,
    /// Whether `aud` names this client.
    aud_ok: bool,
}

/// What [`IssSeed`] makes of an `iss` claim.
enum Iss {
    /// Not this provider's (or absent, or not a string).
    Refused,
    /// This provider's: its issuer (`None`), or the issuer of one of its tenants.
    Accepted(Option<Arc<str>>),
}

/// Parses an ID token's payload straight into [`UserInfo`]: standard claims into their fields,
/// `iss` and `aud` compared as they are read (not kept), `sid` kept aside for the revocation
/// check, the other protocol claims skipped
/// unallocated, everything else into `other`. This is on every signed-in request's path. A
/// repeated claim keeps its last value, as parsing into a map does.
struct ClaimsSeed<'a> {
    issuer: &'a IssuerPolicy,
    client_id: &'a str,
}

impl<'de> DeserializeSeed<'de> for ClaimsSeed<'_> {
    type Value = Parsed;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Parsed, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ClaimsSeed<'_> {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        let mut p = Parsed {
            userinfo: UserInfo::default(),
            sub: None,
            exp: None,
            sid: None,
            iss: Iss::Refused,
            aud_ok: false,
        };
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "iss" => p.iss = map.next_value_seed(IssSeed(self.issuer))?,
                "aud" => p.aud_ok = map.next_value_seed(Names(self.client_id))?,
                "exp" => p.exp = map.next_value::<Value>()?.as_i64(),
                "sub" => {
                    p.sub = match map.next_value()? {
                        Value::String(sub) => Some(sub),
                        _ => None,
                    }
                }
                "sid" => {
                    p.sid = match map.next_value()? {
                        Value::String(sid) if !sid.is_empty() => Some(sid),
                        _ => None,
                    }
                }
                k if is_protocol_claim(k) => {
                    map.next_value::<IgnoredAny>()?;
                }
                k => {
                    let value = map.next_value()?;
                    set_claim(&mut p.userinfo, k, value);
                }
            }
        }
        Ok(p)
    }
}

/// Whether an `iss` claim is a string the policy accepts, read without allocating unless it is
/// a tenant's issuer (kept for [`ProviderInfo::issuer`]); any other value is consumed and
/// refused.
struct IssSeed<'a>(&'a IssuerPolicy);

impl<'de> DeserializeSeed<'de> for IssSeed<'_> {
    type Value = Iss;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Iss, D::Error> {
        match Option::<Cow<'de, str>>::deserialize(d) {
            Ok(Some(iss)) if self.0.accepts(&iss) => Ok(Iss::Accepted(match self.0 {
                IssuerPolicy::Exact(_) => None,
                IssuerPolicy::Tenant(_) => Some(Arc::from(&*iss)),
            })),
            Ok(_) => Ok(Iss::Refused),
            Err(e) => Err(e),
        }
    }
}

/// Whether a claim is `expected`, or an array containing it (`aud`, OIDC Core §2); any other
/// value is consumed and is not a match.
struct Names<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for Names<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Names<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array")
    }

    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(item) = seq.next_element::<Value>()? {
            found |= item.as_str() == Some(self.0);
        }
        Ok(found)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// Sets one claim other than `sub` on `u`, leniently: a standard claim of an unexpected type (e.g. Cognito's
/// `"email_verified": "true"`) is converted when unambiguous and otherwise kept in `other`, so
/// that no provider quirk can make a stored session unreadable. A later value of the same claim
/// replaces an earlier one, wherever the earlier one went.
fn set_claim(u: &mut UserInfo, name: &str, value: Value) {
    let field = match name {
        "email_verified" => {
            u.email_verified = match &value {
                Value::Bool(b) => Some(*b),
                Value::String(s) if s == "true" || s == "false" => Some(s == "true"),
                _ => None,
            };
            if u.email_verified.is_some() {
                u.other.remove(name);
            } else {
                u.other.insert(name.to_owned(), value);
            }
            return;
        }
        "name" => &mut u.name,
        "given_name" => &mut u.given_name,
        "family_name" => &mut u.family_name,
        "preferred_username" => &mut u.preferred_username,
        "email" => &mut u.email,
        "picture" => &mut u.picture,
        _ => {
            u.other.insert(name.to_owned(), value);
            return;
        }
    };
    match value {
        Value::String(s) => {
            *field = Some(s);
            if !u.other.is_empty() {
                u.other.remove(name);
            }
        }
        other => {
            *field = None;
            u.other.insert(name.to_owned(), other);
        }
    }
}

/// The user context, taking the tokens out of `data` (no copies on the request path).
pub(crate) fn into_context(
    binding: &SessionBinding,
    claims: Claims,
    data: SessionData,
    refresh_status: RefreshStatus,
) -> UserContext {
    let Claims {
        userinfo,
        id_token_expires_at,
        tenant_issuer,
        ..
    } = claims;
    UserContext {
        userinfo,
        provider: ProviderInfo {
            name: binding.name,
            issuer: tenant_issuer.unwrap_or_else(|| binding.issuer.clone()),
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
            refresh_status,
        },
        app_data: data.app_data,
        cache: Arc::default(),
    }
}

/// Builds [`UserInfo`] from claims, leniently (see [`set_claim`]). `None` only without a
/// string `sub`.
#[cfg(test)]
fn userinfo_from_claims(claims: Map<String, Value>) -> Option<UserInfo> {
    let mut u = UserInfo::default();
    let mut sub = None;
    for (name, value) in claims {
        if name == "sub" {
            sub = value.as_str().map(str::to_owned);
        } else {
            set_claim(&mut u, &name, value);
        }
    }
    u.sub = sub?;
    Some(u)
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
            session_id: None,
            created: 1_700_000_000,
            seen: 1_700_000_000,
            nonce: None,
            provider: None,
            app_data: None,
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
        let binding = SessionBinding::of(&config);
        let ctx = bound_user_context(&binding, &data).unwrap();
        assert_eq!(ctx.userinfo.sub, "ada");
        assert_eq!(ctx.identity(), ("https://op.example", "ada"));
        assert_eq!(ctx.provider.name.as_str(), "default");
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
                bound_user_context(&binding, &session(foreign.clone())).is_none(),
                "{foreign}"
            );
        }
    }

    #[test]
    fn the_sid_of_the_id_token_is_read_for_the_revocation_check() {
        let config = Config {
            issuer: "https://op.example".into(),
            client_id: "app".into(),
            ..Config::default()
        };
        let binding = SessionBinding::of(&config);
        let base = json!({"iss": "https://op.example", "aud": "app", "sub": "ada"});
        let sid_of = |extra: Value| {
            let mut payload = base.clone();
            payload
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            user_claims(&binding, &session(payload), None).unwrap().sid
        };
        assert_eq!(sid_of(json!({"sid": "s-1"})), Some("s-1".into()));
        assert_eq!(sid_of(json!({})), None);
        assert_eq!(sid_of(json!({"sid": ""})), None, "empty");
        assert_eq!(sid_of(json!({"sid": 5})), None, "not a string");
        let ctx = bound_user_context(
            &binding,
            &session(
                json!({"iss": "https://op.example", "aud": "app", "sub": "ada", "sid": "s-1"}),
            ),
        )
        .unwrap();
        assert!(
            ctx.userinfo.other.get("sid").is_none(),
            "sid stays out of UserInfo"
        );
    }

    /// A session of a multi-tenant provider names its user's tenant's issuer, and is refused
    /// for a tenant no longer allowed.
    #[test]
    fn tenant_sessions_carry_their_tenants_issuer() {
        let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let config = |allowed: &[&str]| Config {
            issuer: "https://login.microsoftonline.com/common/v2.0".into(),
            client_id: "app".into(),
            allowed_tenants: allowed.iter().map(|t| t.to_string()).collect(),
            ..Config::default()
        };
        let binding = |allowed: &[&str]| {
            let policy = IssuerPolicy::resolve(&config(allowed), template).unwrap();
            SessionBinding::new(ProviderName::new("entra").unwrap(), policy, "app")
        };
        let iss = format!("https://login.microsoftonline.com/{tid}/v2.0");
        let data = session(json!({"iss": iss, "aud": "app", "sub": "ada", "tid": tid}));
        let ctx = bound_user_context(&binding(&[]), &data).unwrap();
        assert_eq!(&*ctx.provider.issuer, iss);
        assert_eq!(ctx.provider.name.as_str(), "entra");
        assert!(bound_user_context(&binding(&[tid]), &data).is_some());
        assert!(
            bound_user_context(&binding(&["fbf0c628-dc8f-44f4-b9b4-b79ee550e242"]), &data)
                .is_none()
        );
        let templated = session(json!({"iss": template, "aud": "app", "sub": "ada"}));
        assert!(bound_user_context(&binding(&[]), &templated).is_none());
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
