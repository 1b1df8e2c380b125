//! [`Rule`]: the built-in checks on claims (group, role, scope, claim equals / includes,
//! verified email), their combinations, and app-written checks.

use std::fmt;
use std::sync::Arc;

use rocket::serde::json::serde_json::{Map, Value};

use crate::claims::{distributed, ClaimSource, ClaimsError};
use crate::user::UserContext;

/// Where a claim is: a name, or a path into nested objects (`["realm_access", "roles"]`).
///
/// A `&str` is one claim name as it is, dots included (claim names are often URLs:
/// `"https://example.com/roles"`); an array or a `Vec` is a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPath(Vec<String>);

impl ClaimPath {
    fn lookup<'a>(&self, claims: &'a Map<String, Value>) -> Option<&'a Value> {
        let (first, rest) = self.0.split_first()?;
        rest.iter()
            .try_fold(claims.get(first)?, |value, name| value.get(name))
    }

    /// The top-level claim, which `_claim_names` would name.
    fn top(&self) -> &str {
        self.0.first().map_or("", String::as_str)
    }
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

impl From<&str> for ClaimPath {
    fn from(name: &str) -> Self {
        ClaimPath(vec![name.to_owned()])
    }
}

impl From<String> for ClaimPath {
    fn from(name: String) -> Self {
        ClaimPath(vec![name])
    }
}

impl<const N: usize> From<[&str; N]> for ClaimPath {
    fn from(path: [&str; N]) -> Self {
        ClaimPath(path.iter().map(|s| s.to_string()).collect())
    }
}

impl From<&[&str]> for ClaimPath {
    fn from(path: &[&str]) -> Self {
        ClaimPath(path.iter().map(|s| s.to_string()).collect())
    }
}

impl From<Vec<String>> for ClaimPath {
    fn from(path: Vec<String>) -> Self {
        ClaimPath(path)
    }
}

/// An app-written check (see [`Rule::custom`]).
type Check = Arc<dyn Fn(&UserContext) -> Result<bool, ClaimsError> + Send + Sync>;

/// What a [`Requirement`](crate::Requirement) asks of the signed-in user: built-in checks on
/// claims, combined with [`and`](Rule::and) / [`or`](Rule::or), or an app-written one.
///
/// | rule | met when | read from (default) |
/// |---|---|---|
/// | [`group("admins")`](Rule::group) | `groups` holds `admins` | the user's claims (ID token and userinfo) |
/// | [`role("admin")`](Rule::role) | `realm_access.roles` (Keycloak) or `roles` (Entra app roles) holds `admin` | the access token when it is a JWT, and the user's claims |
/// | [`client_role("app", "editor")`](Rule::client_role) | `resource_access.app.roles` (Keycloak client roles) holds `editor` | as `role` |
/// | [`scope("reports:read")`](Rule::scope) | the access token's `scope` (RFC 9068 §2.2.3) or `scp` (Entra) holds it | the access token (must be a JWT) |
/// | [`claim_equals("tid", "…")`](Rule::claim_equals) | the claim equals the JSON value | the user's claims |
/// | [`claim_includes(["realm_access", "roles"], "x")`](Rule::claim_includes) | the claim is a list holding the value, or is the value | the user's claims |
/// | [`email_verified()`](Rule::email_verified) | `email_verified` is `true` (or `"true"`) | the user's claims |
/// | [`custom("name", f)`](Rule::custom) | `f(user)` is `Ok(true)` | whatever `f` reads |
///
/// [`from_source`](Rule::from_source) reads a rule's claims elsewhere. An absent claim means
/// "not met" (a 403); a claim of the wrong shape (`groups: "admins"`), a distributed claim
/// (Entra's group overage) or an unavailable source is a [`ClaimsError`] (a 500 with the reason
/// logged), never a 403. Combined rules follow three-valued logic: `a.or(b)` is met when either
/// is, even if the other could not be checked; `a.and(b)` is not met when either is not.
///
/// ```rust
/// use rocket_openid_connect::{ClaimSource, Rule};
///
/// let editors = Rule::group("editors")
///     .or(Rule::role("editor"))
///     .and(Rule::email_verified());
/// assert_eq!(editors.to_string(), "(group `editors` or role `editor`) and a verified email");
///
/// let acme = Rule::claim_equals("tid", "9188040d-6c67-4c5b-b112-36a304b66dad")
///     .from_source(ClaimSource::IdToken);
/// # let _ = acme;
/// ```
#[derive(Clone)]
pub struct Rule(Node);

#[derive(Clone)]
enum Node {
    Group(String, ClaimSource),
    /// Roles at `path` under each source (`None`: the access token when usable, then the
    /// user's claims).
    Role {
        label: String,
        paths: Vec<ClaimPath>,
        role: String,
        source: Option<ClaimSource>,
    },
    Scope(String),
    Equals(ClaimPath, Value, ClaimSource),
    Includes(ClaimPath, Value, ClaimSource),
    EmailVerified,
    All(Vec<Rule>),
    Any(Vec<Rule>),
    Custom(String, Check),
}

impl Rule {
    /// The user is in group `name`: the `groups` claim (Okta, Entra, Keycloak's group mapper,
    /// Authentik, ...) holds it. Most providers release `groups` only for a `groups` scope or a
    /// claim mapper: put it in `oidc.scopes` where needed.
    pub fn group(name: impl Into<String>) -> Rule {
        Rule(Node::Group(name.into(), ClaimSource::UserInfo))
    }

    /// The user has role `name`: in `realm_access.roles` (Keycloak realm roles) or `roles`
    /// (Entra app roles, many others), looked up in the access token when it is a JWT and in
    /// the user's claims; met if either has it. Keycloak puts realm roles in the access token
    /// only, unless a mapper adds them to the ID token.
    pub fn role(name: impl Into<String>) -> Rule {
        let name = name.into();
        Rule(Node::Role {
            label: format!("role `{name}`"),
            paths: vec![
                ClaimPath::from(["realm_access", "roles"]),
                ClaimPath::from("roles"),
            ],
            role: name,
            source: None,
        })
    }

    /// The user has Keycloak client role `name` of `client`: `resource_access.<client>.roles`
    /// holds it (sources as for [`role`](Rule::role)).
    pub fn client_role(client: impl Into<String>, name: impl Into<String>) -> Rule {
        let (client, name) = (client.into(), name.into());
        Rule(Node::Role {
            label: format!("role `{name}` of client `{client}`"),
            paths: vec![ClaimPath(vec![
                "resource_access".into(),
                client,
                "roles".into(),
            ])],
            role: name,
            source: None,
        })
    }

    /// The access token was granted scope `name`: its `scope` claim (a space-separated string,
    /// RFC 9068 §2.2.3) or `scp` (Entra; a string or a list) holds it. Needs a JWT access token
    /// in the session; an opaque one is a [`ClaimsError::Unavailable`].
    pub fn scope(name: impl Into<String>) -> Rule {
        Rule(Node::Scope(name.into()))
    }

    /// Claim `claim` equals `value` exactly, as JSON (`"true"` is not `true`).
    pub fn claim_equals(claim: impl Into<ClaimPath>, value: impl Into<Value>) -> Rule {
        Rule(Node::Equals(
            claim.into(),
            value.into(),
            ClaimSource::UserInfo,
        ))
    }

    /// Claim `claim` is a list holding `value`, or is `value` (a provider may send a single
    /// value bare).
    pub fn claim_includes(claim: impl Into<ClaimPath>, value: impl Into<Value>) -> Rule {
        Rule(Node::Includes(
            claim.into(),
            value.into(),
            ClaimSource::UserInfo,
        ))
    }

    /// The provider says the user's email address is verified (`email_verified`, OpenID
    /// Connect Core §5.1; the string `"true"` some providers send counts).
    pub fn email_verified() -> Rule {
        Rule(Node::EmailVerified)
    }

    /// An app-written check named `name` (the name is what logs show). It can read typed
    /// claims ([`UserContext::claims`]) and the login hook's data
    /// ([`UserContext::app_data`]); `?` on their errors makes them 500s, not 403s.
    ///
    /// ```rust
    /// use rocket::serde::Deserialize;
    /// use rocket_openid_connect::{Claims, Rule};
    ///
    /// #[derive(Deserialize)]
    /// #[serde(crate = "rocket::serde")]
    /// struct Tenant { tenant: Option<String> }
    /// impl Claims for Tenant {}
    ///
    /// let acme = Rule::custom("tenant acme", |user| {
    ///     Ok(user.claims::<Tenant>()?.tenant.as_deref() == Some("acme"))
    /// });
    /// # let _ = acme;
    /// ```
    pub fn custom<F>(name: impl Into<String>, check: F) -> Rule
    where
        F: Fn(&UserContext) -> Result<bool, ClaimsError> + Send + Sync + 'static,
    {
        Rule(Node::Custom(name.into(), Arc::new(check)))
    }

    /// Met when every rule is (an empty list is always met).
    pub fn all(rules: impl IntoIterator<Item = Rule>) -> Rule {
        Rule(Node::All(rules.into_iter().collect()))
    }

    /// Met when any rule is (an empty list never is).
    pub fn any(rules: impl IntoIterator<Item = Rule>) -> Rule {
        Rule(Node::Any(rules.into_iter().collect()))
    }

    /// Met when both are.
    pub fn and(self, other: Rule) -> Rule {
        match self.0 {
            Node::All(mut rules) => {
                rules.push(other);
                Rule(Node::All(rules))
            }
            node => Rule(Node::All(vec![Rule(node), other])),
        }
    }

    /// Met when either is.
    pub fn or(self, other: Rule) -> Rule {
        match self.0 {
            Node::Any(mut rules) => {
                rules.push(other);
                Rule(Node::Any(rules))
            }
            node => Rule(Node::Any(vec![Rule(node), other])),
        }
    }

    /// Reads the claims of this rule (of each rule, for [`all`](Rule::all) and
    /// [`any`](Rule::any)) from `source` only. No effect on `scope` (always the access token),
    /// `email_verified` and `custom`.
    pub fn from_source(self, source: ClaimSource) -> Rule {
        Rule(match self.0 {
            Node::Group(name, _) => Node::Group(name, source),
            Node::Role {
                label, paths, role, ..
            } => Node::Role {
                label,
                paths,
                role,
                source: Some(source),
            },
            Node::Equals(claim, value, _) => Node::Equals(claim, value, source),
            Node::Includes(claim, value, _) => Node::Includes(claim, value, source),
            Node::All(rules) => {
                Node::All(rules.into_iter().map(|r| r.from_source(source)).collect())
            }
            Node::Any(rules) => {
                Node::Any(rules.into_iter().map(|r| r.from_source(source)).collect())
            }
            node => node,
        })
    }

    /// Whether `user` meets the rule; `Err` when that cannot be known (see the type's docs).
    pub fn check(&self, user: &UserContext) -> Result<bool, ClaimsError> {
        match &self.0 {
            Node::Group(name, source) => {
                let claims = user.claims_in(*source)?;
                let Some(groups) = claims.get("groups") else {
                    return absent(&claims, "groups", *source);
                };
                holds(groups, &Value::from(name.as_str()), "groups", *source)
            }
            Node::Role {
                paths,
                role,
                source,
                ..
            } => {
                let role = Value::from(role.as_str());
                let sources: Vec<Result<_, _>> = match source {
                    Some(source) => vec![user.claims_in(*source).map(|c| (c, *source))],
                    // An access token that cannot be read (opaque, not kept) is no error here:
                    // the user's claims are looked at too.
                    None => [ClaimSource::AccessToken, ClaimSource::UserInfo]
                        .into_iter()
                        .filter_map(|s| match user.claims_in(s) {
                            Ok(c) => Some(Ok((c, s))),
                            Err(_) if s == ClaimSource::AccessToken => None,
                            Err(e) => Some(Err(e)),
                        })
                        .collect(),
                };
                any_of(sources.into_iter().flat_map(|found| {
                    let found = found.map(|(claims, source)| {
                        paths
                            .iter()
                            .map(|path| match path.lookup(&claims) {
                                Some(v) => holds(v, &role, &path.to_string(), source),
                                None => Ok(false),
                            })
                            .collect::<Vec<_>>()
                    });
                    match found {
                        Ok(results) => results,
                        Err(e) => vec![Err(e)],
                    }
                }))
            }
            Node::Scope(name) => {
                let source = ClaimSource::AccessToken;
                let claims = user.claims_in(source)?;
                let mut found = false;
                for claim in ["scope", "scp"] {
                    found |= match claims.get(claim) {
                        None => false,
                        Some(Value::String(s)) => s.split_ascii_whitespace().any(|s| s == name),
                        Some(v) => holds(v, &Value::from(name.as_str()), claim, source)?,
                    };
                }
                Ok(found)
            }
            Node::Equals(claim, value, source) => {
                let claims = user.claims_in(*source)?;
                match claim.lookup(&claims) {
                    Some(found) => Ok(found == value),
                    None => absent(&claims, claim.top(), *source),
                }
            }
            Node::Includes(claim, value, source) => {
                let claims = user.claims_in(*source)?;
                match claim.lookup(&claims) {
                    Some(found) => holds(found, value, &claim.to_string(), *source),
                    None => absent(&claims, claim.top(), *source),
                }
            }
            Node::EmailVerified => match user.userinfo.other.get("email_verified") {
                // A value the user context could not take as a boolean (see user.rs).
                Some(odd) => Err(ClaimsError::Invalid {
                    source: ClaimSource::UserInfo,
                    claim: "email_verified".into(),
                    reason: format!("expected a boolean, found {}", kind(odd)),
                }),
                None => Ok(user.userinfo.email_verified == Some(true)),
            },
            Node::All(rules) => {
                let mut error = None;
                for rule in rules {
                    match rule.check(user) {
                        Ok(true) => {}
                        Ok(false) => return Ok(false),
                        Err(e) => error = error.or(Some(e)),
                    }
                }
                error.map_or(Ok(true), Err)
            }
            Node::Any(rules) => any_of(rules.iter().map(|rule| rule.check(user))),
            Node::Custom(_, check) => check(user),
        }
    }

    /// Whether the rule cannot be checked at all without `source`'s claims (for the guard's
    /// `Sentinel`: an access-token rule with `oidc.keep_access_token = false`).
    pub(crate) fn needs(&self, source: ClaimSource) -> bool {
        match &self.0 {
            Node::Scope(_) => source == ClaimSource::AccessToken,
            Node::Group(_, s) | Node::Equals(_, _, s) | Node::Includes(_, _, s) => *s == source,
            Node::Role { source: s, .. } => *s == Some(source),
            Node::All(rules) => rules.iter().any(|r| r.needs(source)),
            Node::Any(rules) => !rules.is_empty() && rules.iter().all(|r| r.needs(source)),
            Node::EmailVerified | Node::Custom(..) => false,
        }
    }
}

/// Met if any result is; else the first error; else not met (three-valued "or").
fn any_of(
    results: impl IntoIterator<Item = Result<bool, ClaimsError>>,
) -> Result<bool, ClaimsError> {
    let mut error = None;
    for result in results {
        match result {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(e) => error = error.or(Some(e)),
        }
    }
    error.map_or(Ok(false), Err)
}

/// An absent claim: not met, unless the provider sent it elsewhere (`_claim_names`).
fn absent(
    claims: &Map<String, Value>,
    claim: &str,
    source: ClaimSource,
) -> Result<bool, ClaimsError> {
    match distributed(claims, claim, source) {
        Some(e) => Err(e),
        None => Ok(false),
    }
}

/// Whether `found` (a list, or a single value) holds `wanted`; an object is the wrong shape.
fn holds(
    found: &Value,
    wanted: &Value,
    claim: &str,
    source: ClaimSource,
) -> Result<bool, ClaimsError> {
    match found {
        Value::Array(items) => Ok(items.contains(wanted)),
        Value::Object(_) => Err(ClaimsError::Invalid {
            source,
            claim: claim.to_owned(),
            reason: "expected a list, found an object".into(),
        }),
        single => Ok(single == wanted),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let from = |f: &mut fmt::Formatter<'_>, source: ClaimSource| {
            if source == ClaimSource::UserInfo {
                Ok(())
            } else {
                write!(f, " in {source}")
            }
        };
        let list = |f: &mut fmt::Formatter<'_>, rules: &[Rule], word: &str| {
            for (i, rule) in rules.iter().enumerate() {
                if i > 0 {
                    write!(f, " {word} ")?;
                }
                match rule.0 {
                    Node::All(_) | Node::Any(_) => write!(f, "({rule})")?,
                    _ => write!(f, "{rule}")?,
                }
            }
            Ok(())
        };
        match &self.0 {
            Node::Group(name, source) => {
                write!(f, "group `{name}`")?;
                from(f, *source)
            }
            Node::Role { label, source, .. } => {
                f.write_str(label)?;
                source.map_or(Ok(()), |s| write!(f, " in {s}"))
            }
            Node::Scope(name) => write!(f, "scope `{name}`"),
            Node::Equals(claim, value, source) => {
                write!(f, "claim `{claim}` = {value}")?;
                from(f, *source)
            }
            Node::Includes(claim, value, source) => {
                write!(f, "claim `{claim}` includes {value}")?;
                from(f, *source)
            }
            Node::EmailVerified => f.write_str("a verified email"),
            Node::All(rules) if rules.is_empty() => f.write_str("nothing"),
            Node::Any(rules) if rules.is_empty() => f.write_str("the impossible"),
            Node::All(rules) => list(f, rules, "and"),
            Node::Any(rules) => list(f, rules, "or"),
            Node::Custom(name, _) => f.write_str(name),
        }
    }
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rule({self})")
    }
}
