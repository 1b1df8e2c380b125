//! Typed claims: the app declares a struct for the claims it uses and reads it from the
//! [`UserContext`], decoded at most once per request, from the source it names
//! ([`ClaimSource`]). A claim of the wrong shape is a [`ClaimsError`] naming the claim, never a
//! silent `None`. The decoding itself is in `decode.rs`.

mod decode;

pub(crate) use decode::distributed;

use std::fmt;
use std::sync::{Arc, OnceLock};

use rocket::serde::json::serde_json::{self, Map, Value};
use serde::de::DeserializeOwned;

use crate::user::UserContext;
use crate::util;

/// Where a set of claims is read from. Every source is as trustworthy as the sign-in: each came
/// from the provider's token endpoint (or userinfo) over the back channel and is kept in the
/// encrypted, authenticated session.
///
/// | source | what it holds | when to use it |
/// |---|---|---|
/// | [`UserInfo`](ClaimSource::UserInfo) (default) | the user's claims exactly as [`UserContext::userinfo`] has them: the ID token's, with userinfo's on top (userinfo wins), without protocol claims | `groups`, `email`, profile claims, custom claims the provider releases to the app |
/// | [`IdToken`](ClaimSource::IdToken) | the ID token's claims only (signature verified at sign-in), protocol claims included (`acr`, `amr`, `auth_time`, `sid`, `tid`, ...) | how the user authenticated (step-up, MFA), Entra's `roles` |
/// | [`AccessToken`](ClaimSource::AccessToken) | the payload of the access token, when it is a JWT | Keycloak's `realm_access.roles` and `resource_access`, `scope` / `scp` |
/// | [`AppData`](ClaimSource::AppData) | what the app's login hook stored in the session | app-side ids and roles looked up at sign-in |
///
/// There is no "userinfo endpoint only" source: the session keeps only the userinfo claims the
/// ID token lacks or states differently (no claim is stored twice), so `UserInfo` is the view
/// that exists.
///
/// **The access token** is read as the provider sent it, at each request that asks for it
/// (decoding it costs a base64 and a JSON parse; nothing more is stored in the session, and a
/// refreshed access token is read as soon as it is in the session). Its signature is not
/// verified, and its `iss`, `aud`, `exp` are not checked: it reached the app only from the token
/// endpoint, over TLS, in the same response as the verified ID token (OpenID Connect Core
/// §3.1.3.7 accepts TLS for the ID token itself in that case), and lives in the encrypted,
/// authenticated session, so no one else can have altered it. A signature check would also
/// fail for real tokens that are not meant for the app to verify (Entra signs Microsoft Graph
/// tokens specially). An opaque (non-JWT) access token, or none kept
/// (`oidc.keep_access_token = false`), is a [`ClaimsError::Unavailable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClaimSource {
    /// The user's claims: [`UserContext::userinfo`], the ID token's claims joined with
    /// userinfo's (userinfo wins), protocol claims left out. _The default._
    UserInfo,
    /// The ID token's claims, protocol claims (`iss`, `aud`, `acr`, `amr`, `auth_time`, ...)
    /// included.
    IdToken,
    /// The access token's payload, when the access token is a JWT (RFC 9068, Keycloak, Entra).
    AccessToken,
    /// What the login hook stored in the session ([`LoginDecision::data`](crate::LoginDecision::data)).
    AppData,
}

impl ClaimSource {
    fn index(self) -> usize {
        match self {
            ClaimSource::UserInfo => 0,
            ClaimSource::IdToken => 1,
            ClaimSource::AccessToken => 2,
            ClaimSource::AppData => 3,
        }
    }
}

impl fmt::Display for ClaimSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClaimSource::UserInfo => "the user's claims (ID token and userinfo)",
            ClaimSource::IdToken => "the ID token",
            ClaimSource::AccessToken => "the access token",
            ClaimSource::AppData => "the login hook's app data",
        })
    }
}

/// A struct of the claims an app uses, read with [`UserContext::claims`].
///
/// Derive `Deserialize` and say where the claims come from ([`SOURCE`](Claims::SOURCE), by
/// default the user's claims of ID token and userinfo). A field that not every user has must
/// be an `Option` or `#[serde(default)]`; any other missing or ill-shaped claim is an error
/// naming it.
///
/// ```rust
/// use rocket::serde::Deserialize;
/// use rocket_openid_connect::{ClaimSource, Claims};
///
/// #[derive(Deserialize)]
/// #[serde(crate = "rocket::serde")]
/// struct Membership {
///     #[serde(default)]
///     groups: Vec<String>,
///     tenant: Option<String>,
/// }
/// impl Claims for Membership {}
///
/// /// Keycloak's realm roles, from the access token.
/// #[derive(Deserialize)]
/// #[serde(crate = "rocket::serde")]
/// struct RealmRoles {
///     realm_access: RealmAccess,
/// }
/// #[derive(Deserialize)]
/// #[serde(crate = "rocket::serde")]
/// struct RealmAccess {
///     roles: Vec<String>,
/// }
/// impl Claims for RealmRoles {
///     const SOURCE: ClaimSource = ClaimSource::AccessToken;
/// }
/// ```
pub trait Claims: DeserializeOwned + Send + Sync + 'static {
    /// Where these claims are read from. _Default:_ [`ClaimSource::UserInfo`].
    const SOURCE: ClaimSource = ClaimSource::UserInfo;
}

/// Why claims could not be read. Each message names the claim and its source and says what to
/// change. A guard that meets one answers 500 (never 403: nobody decided the user may not
/// pass) and logs the message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimsError {
    /// A claim the app's type requires is absent.
    Missing {
        /// Where it was looked for.
        source: ClaimSource,
        /// The claim, as a path (`realm_access.roles`).
        claim: String,
    },
    /// A claim has another shape than the app's type wants (a string for a list, ...).
    Invalid {
        /// Where it was read.
        source: ClaimSource,
        /// The claim, as a path (`realm_access.roles[2]`); empty for the claim set as a whole.
        claim: String,
        /// What was wrong, in serde's words (`invalid type: string "x", expected a sequence`).
        reason: String,
    },
    /// The provider sent the claim elsewhere: a distributed or aggregated claim (OpenID Connect
    /// Core §5.6.2), named in `_claim_names` instead of carried in the token. Entra ID does so
    /// with `groups` for users in more than 200 groups (the "group overage").
    Distributed {
        /// Where the claim was expected.
        source: ClaimSource,
        /// The claim (`groups`).
        claim: String,
        /// The endpoint the provider names for it, if any (its access token, if any, is never
        /// kept here).
        endpoint: Option<String>,
    },
    /// The source holds no claims for this session.
    Unavailable {
        /// The source.
        source: ClaimSource,
        /// Why, and what to change.
        reason: String,
    },
}

impl ClaimsError {
    /// The source the error concerns.
    pub fn source(&self) -> ClaimSource {
        match self {
            ClaimsError::Missing { source, .. }
            | ClaimsError::Invalid { source, .. }
            | ClaimsError::Distributed { source, .. }
            | ClaimsError::Unavailable { source, .. } => *source,
        }
    }

    /// The claim the error names, if it names one.
    pub fn claim(&self) -> Option<&str> {
        match self {
            ClaimsError::Missing { claim, .. }
            | ClaimsError::Invalid { claim, .. }
            | ClaimsError::Distributed { claim, .. } => Some(claim),
            ClaimsError::Unavailable { .. } => None,
        }
    }

    /// A short code for responses and logs: `missing_claim`, `invalid_claim`,
    /// `distributed_claim`, `claims_unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            ClaimsError::Missing { .. } => "missing_claim",
            ClaimsError::Invalid { .. } => "invalid_claim",
            ClaimsError::Distributed { .. } => "distributed_claim",
            ClaimsError::Unavailable { .. } => "claims_unavailable",
        }
    }
}

impl fmt::Display for ClaimsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimsError::Missing { source, claim } => write!(
                f,
                "claim `{claim}` is missing from {source}: make the field an `Option` or \
                 `#[serde(default)]` if not every user has it, or have the provider release it \
                 (scopes, claim mappers)"
            ),
            ClaimsError::Invalid {
                source,
                claim,
                reason,
            } if claim.is_empty() => write!(
                f,
                "the claims of {source} do not fit the app's type: {reason}"
            ),
            ClaimsError::Invalid {
                source,
                claim,
                reason,
            } => write!(
                f,
                "claim `{claim}` of {source} has the wrong shape: {reason}; change the field's \
                 type to what the provider sends (a `serde_json::Value` accepts anything)"
            ),
            ClaimsError::Distributed {
                source,
                claim,
                endpoint,
            } => {
                write!(
                    f,
                    "claim `{claim}` is not in {source}: the provider sent it as a distributed \
                     claim (`_claim_names`, OpenID Connect Core §5.6.2)"
                )?;
                if let Some(endpoint) = endpoint {
                    write!(f, " to be fetched from {endpoint}")?;
                }
                if claim == "groups" {
                    write!(
                        f,
                        ". Entra ID does this for users in more than 200 groups (group \
                         overage): emit only the groups assigned to the application (app \
                         registration → Token configuration → groups claim), use app roles \
                         (`roles`), or read the groups from Microsoft Graph"
                    )?;
                }
                Ok(())
            }
            ClaimsError::Unavailable { source, reason } => {
                write!(f, "no claims in {source}: {reason}")
            }
        }
    }
}

impl std::error::Error for ClaimsError {}

/// One source's claims, or why there are none.
type SourceClaims = Result<Arc<Map<String, Value>>, ClaimsError>;

/// Each source's claims, decoded once per request.
#[derive(Default)]
struct Sources([OnceLock<SourceClaims>; 4]);

/// A type's claims, decoded once per request.
struct Decoded<C>(Result<Arc<C>, ClaimsError>);

/// Typed claims.
impl UserContext {
    /// The claims `C` declares, read from [`C::SOURCE`](Claims::SOURCE): decoded the first time
    /// a request asks (by any guard or route), and shared afterwards.
    ///
    /// ```rust
    /// # #[macro_use] extern crate rocket;
    /// use rocket::serde::Deserialize;
    /// use rocket_openid_connect::{AuthenticatedUser, Claims, ClaimsError};
    ///
    /// #[derive(Deserialize)]
    /// #[serde(crate = "rocket::serde")]
    /// struct Membership {
    ///     #[serde(default)]
    ///     groups: Vec<String>,
    /// }
    /// impl Claims for Membership {}
    ///
    /// #[get("/groups")]
    /// fn groups(user: AuthenticatedUser) -> Result<String, String> {
    ///     let claims = user.claims::<Membership>().map_err(|e| e.to_string())?;
    ///     Ok(claims.groups.join(", "))
    /// }
    /// ```
    pub fn claims<C: Claims>(&self) -> Result<Arc<C>, ClaimsError> {
        self.cache
            .get_or_insert_with(|| {
                Decoded(
                    self.claims_in(C::SOURCE)
                        .and_then(|map| decode::decode(&map, C::SOURCE).map(Arc::new)),
                )
            })
            .0
            .clone()
    }

    /// The claims of `source` as JSON, decoded once per request: what [`claims`](Self::claims)
    /// reads, for claims no struct names.
    pub fn claims_in(&self, source: ClaimSource) -> Result<Arc<Map<String, Value>>, ClaimsError> {
        let sources = self.cache.get_or_insert_with(Sources::default);
        sources.0[source.index()]
            .get_or_init(|| self.read_source(source).map(Arc::new))
            .clone()
    }

    fn read_source(&self, source: ClaimSource) -> Result<Map<String, Value>, ClaimsError> {
        let unavailable = |reason: &str| ClaimsError::Unavailable {
            source,
            reason: reason.to_owned(),
        };
        match source {
            ClaimSource::UserInfo => match serde_json::to_value(&self.userinfo) {
                Ok(Value::Object(mut map)) => {
                    // Standard claims the user lacks serialize as `null`: absent, as in the token.
                    map.retain(|_, v| !v.is_null());
                    Ok(map)
                }
                _ => Err(unavailable("the user's claims could not be read")),
            },
            ClaimSource::IdToken => decode::jwt_payload(&self.tokens.id_token)
                .map_err(|why| unavailable(&format!("the ID token {why}"))),
            ClaimSource::AccessToken => {
                let Some(token) = self.tokens.access_token.as_deref() else {
                    return Err(unavailable(
                        "the session keeps no access token: set oidc.keep_access_token = true \
                         (the default), or read these claims from ClaimSource::UserInfo",
                    ));
                };
                decode::jwt_payload(token).map_err(|why| {
                    unavailable(&format!(
                        "the access token {why}; the provider issues access tokens meant only \
                         for its APIs: read these claims from ClaimSource::UserInfo or \
                         ClaimSource::IdToken, or have the provider issue JWT access tokens"
                    ))
                })
            }
            ClaimSource::AppData => match &self.app_data {
                Some(Value::Object(map)) => Ok(map.clone()),
                Some(_) => Err(unavailable(
                    "the login hook stored a value that is not a JSON object: read it with \
                     UserContext::app_data",
                )),
                None => Err(unavailable(
                    "the login hook stored no data for this session (sessions started before \
                     the hook existed have none)",
                )),
            },
        }
    }

    /// The typed data the login hook stored for this session
    /// ([`LoginDecision::data`](crate::LoginDecision::data)), decoded once per request; `None`
    /// if it stored none. Data of another shape (a session from before a change to the type)
    /// is an error naming the field: give new fields `#[serde(default)]`.
    pub fn app_data<T>(&self) -> Result<Option<Arc<T>>, ClaimsError>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        struct AppDataOf<T>(Result<Option<Arc<T>>, ClaimsError>);
        self.cache
            .get_or_insert_with(|| {
                AppDataOf(match &self.app_data {
                    None => Ok(None),
                    Some(value) => {
                        decode::decode_value(value, ClaimSource::AppData).map(|t| Some(Arc::new(t)))
                    }
                })
            })
            .0
            .clone()
    }
}

/// `text` cut for a log line or an error message.
fn short(text: &str) -> String {
    util::truncate(text, 300)
}

#[cfg(test)]
pub(crate) mod tests;
