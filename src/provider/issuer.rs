//! Which `iss` values a provider's answers may carry: its one issuer, or, for a multi-tenant
//! Microsoft Entra ID issuer (`…/common/v2.0`, `…/organizations/v2.0`), the issuer of the
//! user's tenant. Pure functions: the ID-token rules, the callback's RFC 9207 check and the
//! guard's session check all ask the same [`IssuerPolicy`].
//!
//! Entra's `/common` and `/organizations` discovery documents name the issuer
//! `https://login.microsoftonline.com/{tenantid}/v2.0`, with the literal placeholder, while each
//! ID token's `iss` names the user's tenant, whose ID is also its `tid` claim. Microsoft's rule
//! for multi-tenant apps ("Validate the issuer", Microsoft identity platform docs): take `tid`
//! from the token, substitute it into the template, and require `iss` to equal the result; an
//! app that does not serve every organization must also check `tid` against its own list.

use crate::config::{self, Config};

/// The placeholder Entra puts in a multi-tenant issuer.
pub(crate) const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// How the `iss` of a provider's ID tokens, authorization responses and sessions is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerPolicy {
    /// Exactly `oidc.issuer` (OpenID Connect Core 1.0 §3.1.3.7 step 2, Discovery 1.0 §4.3).
    Exact(String),
    /// A multi-tenant template: `iss` is the template with a tenant's ID in place of
    /// `{tenantid}`.
    Tenant(TenantTemplate),
}

/// A multi-tenant issuer template and the tenants allowed to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantTemplate {
    /// The discovered issuer, e.g. `https://login.microsoftonline.com/{tenantid}/v2.0`.
    template: String,
    /// The template before `{tenantid}` (`https://login.microsoftonline.com/`).
    prefix: String,
    /// The template after it (`/v2.0`).
    suffix: String,
    /// The tenant IDs allowed (`oidc.allowed_tenants`, lowercase); empty: any tenant.
    allowed: Vec<String>,
}

impl IssuerPolicy {
    /// The policy of a provider configured with `config.issuer` whose discovery document names
    /// `discovered`: [`IssuerPolicy::Exact`] when they are equal, [`IssuerPolicy::Tenant`] when
    /// `discovered` is a template that `config.issuer` fills ([`template_fits`]), else `None`.
    pub fn resolve(config: &Config, discovered: &str) -> Option<IssuerPolicy> {
        if discovered == config.issuer {
            return Some(IssuerPolicy::Exact(config.issuer.clone()));
        }
        if !template_fits(&config.issuer, discovered) {
            return None;
        }
        let (prefix, suffix) = discovered.split_once(TENANT_PLACEHOLDER)?;
        Some(IssuerPolicy::Tenant(TenantTemplate {
            template: discovered.to_owned(),
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
            allowed: config
                .allowed_tenants
                .iter()
                .map(|t| t.to_ascii_lowercase())
                .collect(),
        }))
    }

    /// Whether `iss` is an issuer of this provider: the issuer, or the template filled with an
    /// allowed tenant (or, in an RFC 9207 authorization response, the template itself). The
    /// guard asks this on every signed-in request: no allocation.
    pub fn accepts(&self, iss: &str) -> bool {
        match self {
            IssuerPolicy::Exact(issuer) => iss == issuer,
            IssuerPolicy::Tenant(t) => t.tenant_of(iss).is_some_and(|tid| t.allows(tid)),
        }
    }

    /// Whether `iss`, the RFC 9207 `iss` of an authorization response, is this provider's
    /// (RFC 9207 §2.4): as [`accepts`](Self::accepts), and for a template also the template
    /// itself, which is the issuer its metadata names.
    pub fn accepts_response_iss(&self, iss: &str) -> bool {
        match self {
            IssuerPolicy::Tenant(t) if iss == t.template => true,
            _ => self.accepts(iss),
        }
    }

    /// The multi-tenant checks of an ID token whose signature, audience and times passed, with
    /// its `iss` and `tid` claims: `tid` must be a tenant ID, allowed, and `iss` the template
    /// filled with it. An exact issuer was checked by openidconnect already.
    pub fn check_id_token(&self, iss: Option<&str>, tid: Option<&str>) -> Result<(), String> {
        let IssuerPolicy::Tenant(t) = self else {
            return Ok(());
        };
        let Some(tid) = tid else {
            return Err(format!(
                "no `tid` claim, which a token of the multi-tenant issuer {} must carry",
                t.template
            ));
        };
        if !config::is_guid(tid) {
            return Err(format!(
                "`tid` {:?} is not a tenant ID",
                crate::util::truncate(tid, 64)
            ));
        }
        if !t.allows(tid) {
            return Err(format!(
                "tenant `{tid}` is not in oidc.allowed_tenants: its users may not sign in"
            ));
        }
        let expected = format!("{}{tid}{}", t.prefix, t.suffix);
        match iss {
            Some(iss) if iss == expected => Ok(()),
            Some(iss) => Err(format!(
                "`iss` {:?} is not the issuer of tenant `{tid}` ({expected})",
                crate::util::truncate(iss, 200)
            )),
            None => Err("no `iss` claim".into()),
        }
    }

    /// The template, for a multi-tenant issuer.
    pub fn template(&self) -> Option<&TenantTemplate> {
        match self {
            IssuerPolicy::Tenant(t) => Some(t),
            IssuerPolicy::Exact(_) => None,
        }
    }
}

impl TenantTemplate {
    /// The template, as discovered.
    pub fn as_str(&self) -> &str {
        &self.template
    }

    /// The tenants allowed to sign in; empty: any.
    pub fn allowed(&self) -> &[String] {
        &self.allowed
    }

    /// The tenant segment of `iss`, if it is the template filled with one tenant ID.
    fn tenant_of<'a>(&self, iss: &'a str) -> Option<&'a str> {
        let tid = iss
            .strip_prefix(self.prefix.as_str())?
            .strip_suffix(self.suffix.as_str())?;
        config::is_guid(tid).then_some(tid)
    }

    fn allows(&self, tid: &str) -> bool {
        self.allowed.is_empty() || self.allowed.iter().any(|a| a.eq_ignore_ascii_case(tid))
    }
}

/// Whether `discovered` is a multi-tenant template that `configured` fills: it has exactly one
/// `{…}`, the whole path segment `{tenantid}`, and `configured` is `discovered` with that
/// segment replaced by one non-empty segment (`common`, `organizations`, `consumers`, a tenant
/// ID or domain).
pub(crate) fn template_fits(configured: &str, discovered: &str) -> bool {
    let Some((prefix, suffix)) = discovered.split_once(TENANT_PLACEHOLDER) else {
        return false;
    };
    if !prefix.ends_with('/')
        || !(suffix.is_empty() || suffix.starts_with('/'))
        || prefix.contains(['{', '}'])
        || suffix.contains(['{', '}'])
        || !prefix.contains("://")
    {
        return false;
    }
    let Some(segment) = configured
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
    else {
        return false;
    };
    !segment.is_empty() && !segment.contains(['/', '{', '}', '?', '#'])
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const OTHER: &str = "fbf0c628-dc8f-44f4-b9b4-b79ee550e242";

    fn config(issuer: &str, allowed: &[&str]) -> Config {
        Config {
            issuer: issuer.into(),
            allowed_tenants: allowed.iter().map(|s| s.to_string()).collect(),
            ..Config::default()
        }
    }

    #[test]
    fn a_template_fits_the_issuer_it_was_discovered_from() {
        for segment in [
            "common",
            "organizations",
            "consumers",
            TID,
            "contoso.onmicrosoft.com",
        ] {
            let configured = format!("https://login.microsoftonline.com/{segment}/v2.0");
            assert!(template_fits(&configured, TEMPLATE), "{configured}");
        }
        for configured in [
            // Another host, another path, a segment too many or none.
            "https://login.microsoftonline.us/common/v2.0",
            "https://login.microsoftonline.com/common/v1.0",
            "https://login.microsoftonline.com/a/b/v2.0",
            "https://login.microsoftonline.com//v2.0",
            "https://login.microsoftonline.com/v2.0",
            "https://login.microsoftonline.com/{tenantid}/v2.0",
            "https://login.microsoftonline.com/common/v2.0/",
        ] {
            assert!(!template_fits(configured, TEMPLATE), "{configured}");
        }
        // Two placeholders, a placeholder that is not a whole segment, or another one: no.
        for template in [
            "https://login.microsoftonline.com/{tenantid}/{tenantid}/v2.0",
            "https://login.microsoftonline.com/{tenantid}/{region}/v2.0",
            "https://login.microsoftonline.com/x{tenantid}/v2.0",
            "https://login.microsoftonline.com/{tenantid}x/v2.0",
            "https://login.microsoftonline.com/{tenant}/v2.0",
        ] {
            assert!(
                !template_fits("https://login.microsoftonline.com/common/v2.0", template),
                "{template}"
            );
        }
        // Entra v1's template names another host than its discovery URL: no.
        assert!(!template_fits(
            "https://login.microsoftonline.com/common",
            "https://sts.windows.net/{tenantid}/"
        ));
        assert!(template_fits(
            "https://sts.windows.net/common/",
            "https://sts.windows.net/{tenantid}/"
        ));
    }

    #[test]
    fn resolve_picks_exact_or_template() {
        let exact = IssuerPolicy::resolve(&config("https://id.example", &[]), "https://id.example");
        assert_eq!(
            exact,
            Some(IssuerPolicy::Exact("https://id.example".into()))
        );
        assert_eq!(
            IssuerPolicy::resolve(&config("https://id.example", &[]), "https://id.example/"),
            None
        );
        let policy = IssuerPolicy::resolve(
            &config("https://login.microsoftonline.com/common/v2.0", &[TID]),
            TEMPLATE,
        )
        .unwrap();
        let template = policy.template().unwrap();
        assert_eq!(template.as_str(), TEMPLATE);
        assert_eq!(template.allowed(), [TID]);
    }

    #[test]
    fn a_tenant_issuer_is_accepted_for_allowed_tenants_only() {
        let any = IssuerPolicy::resolve(
            &config("https://login.microsoftonline.com/organizations/v2.0", &[]),
            TEMPLATE,
        )
        .unwrap();
        let tenant_iss = |tid: &str| format!("https://login.microsoftonline.com/{tid}/v2.0");
        assert!(any.accepts(&tenant_iss(TID)));
        assert!(any.accepts(&tenant_iss(OTHER)));
        assert!(!any.accepts(TEMPLATE), "the template is no token's issuer");
        assert!(any.accepts_response_iss(TEMPLATE), "but the metadata's");
        for bad in [
            tenant_iss("common"),
            tenant_iss(&format!("{TID}/x")),
            format!("https://evil.example/{TID}/v2.0"),
            format!("https://login.microsoftonline.com/{TID}/v2.0/"),
        ] {
            assert!(!any.accepts(&bad), "{bad}");
        }
        let one = IssuerPolicy::resolve(
            &config(
                "https://login.microsoftonline.com/common/v2.0",
                &[&TID.to_ascii_uppercase()],
            ),
            TEMPLATE,
        )
        .unwrap();
        assert!(
            one.accepts(&tenant_iss(TID)),
            "tenant IDs compare without case"
        );
        assert!(!one.accepts(&tenant_iss(OTHER)));
        assert!(!one.accepts_response_iss(&tenant_iss(OTHER)));
    }

    #[test]
    fn id_tokens_of_a_template_need_a_matching_allowed_tid() {
        let policy = IssuerPolicy::resolve(
            &config("https://login.microsoftonline.com/common/v2.0", &[TID]),
            TEMPLATE,
        )
        .unwrap();
        let iss = format!("https://login.microsoftonline.com/{TID}/v2.0");
        assert_eq!(policy.check_id_token(Some(&iss), Some(TID)), Ok(()));
        let err =
            |iss: Option<&str>, tid: Option<&str>| policy.check_id_token(iss, tid).unwrap_err();
        assert!(err(Some(&iss), None).contains("no `tid` claim"));
        assert!(err(Some(&iss), Some("common")).contains("is not a tenant ID"));
        assert!(err(Some(&iss), Some(OTHER)).contains("not in oidc.allowed_tenants"));
        let other_iss = format!("https://login.microsoftonline.com/{OTHER}/v2.0");
        let any = IssuerPolicy::resolve(
            &config("https://login.microsoftonline.com/common/v2.0", &[]),
            TEMPLATE,
        )
        .unwrap();
        assert!(any
            .check_id_token(Some(&other_iss), Some(TID))
            .unwrap_err()
            .contains("is not the issuer of tenant"));
        assert!(any.check_id_token(None, Some(TID)).is_err());
        // An exact issuer leaves iss to openidconnect.
        assert_eq!(
            IssuerPolicy::Exact("https://id.example".into()).check_id_token(None, None),
            Ok(())
        );
    }
}
