//! Moving a provider's published metadata onto one loopback port: every URL on one of the
//! provider's hosts keeps its path and gets `http://127.0.0.1:PORT` as its origin.
//!
//! The rewrite works on the URL text, never through a URL parser, so that what the provider
//! published stays as it is apart from the origin: Entra's templated issuer
//! `https://login.microsoftonline.com/{tenantid}/v2.0` becomes `http://127.0.0.1:PORT/{tenantid}/v2.0`
//! (a parser would percent-encode the braces), a trailing `/` stays, and so does the case of a
//! host: AD FS publishes its issuer on `EC2AMAZ-5A2FKI6.REDPANDA.COM` and its endpoints on the
//! same host in lower case, which become `LOCALHOST` and `localhost` (one host, two spellings,
//! as published).

use std::collections::BTreeMap;

use serde_json::Value;

/// Where a provider's hosts go: the lower-cased authority (`host[:port]`) of each of them, and
/// the loopback port they all share.
#[derive(Debug, Clone)]
pub struct Rewrite {
    /// Lower-cased authority → whether some spelling of it in the document has upper case.
    hosts: BTreeMap<String, bool>,
    port: u16,
}

/// `(scheme, authority, rest)` of an absolute http(s) URL written as text; `rest` is
/// everything from the first `/`, `?` or `#` after the authority (possibly empty).
pub fn split_url(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, after) = url.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = &after[..end];
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some((scheme, authority, &after[end..]))
}

/// The members of a discovery document that name the provider's own servers (OpenID Connect
/// Discovery 1.0 §3, RFC 8414 §2 and their extensions): the issuer, every `*_endpoint`, the
/// JWKS, the session iframe and RFC 8705's `mtls_endpoint_aliases`. Other URLs in a document
/// are names, not servers (PayPal's scopes on `uri.paypal.com`, GitLab's claims on
/// `gitlab.org`, MojeID's `acr` values on `eidas.europa.eu`, Entra's `rbac_url`): they are not
/// rewritten unless they happen to be on one of these hosts.
fn server_urls(document: &Value) -> Vec<&str> {
    let mut urls = Vec::new();
    let Some(members) = document.as_object() else {
        return urls;
    };
    for (key, value) in members {
        let names_a_server = key == "issuer"
            || key.ends_with("_endpoint")
            || key == "jwks_uri"
            || key == "check_session_iframe";
        if names_a_server {
            if let Some(url) = value.as_str() {
                urls.push(url);
            }
        }
        if key == "mtls_endpoint_aliases" {
            if let Some(aliases) = value.as_object() {
                urls.extend(aliases.values().filter_map(Value::as_str));
            }
        }
    }
    urls
}

impl Rewrite {
    /// The hosts of `document`'s servers (see [`server_urls`]) plus those of `extra` URLs (a
    /// configured issuer, a redirect target), all sent to `127.0.0.1:port`.
    pub fn for_document(document: &Value, extra: &[&str], port: u16) -> Rewrite {
        let mut hosts = BTreeMap::new();
        for url in server_urls(document)
            .into_iter()
            .chain(extra.iter().copied())
        {
            if let Some((_, authority, _)) = split_url(url) {
                let upper = authority.chars().any(|c| c.is_ascii_uppercase());
                *hosts.entry(authority.to_ascii_lowercase()).or_insert(false) |= upper;
            }
        }
        Rewrite { hosts, port }
    }

    /// The provider's hosts, lower-cased, for the report.
    pub fn hosts(&self) -> Vec<String> {
        self.hosts.keys().cloned().collect()
    }

    /// `url` moved to loopback if it is on one of the provider's hosts, else `None`.
    pub fn url(&self, url: &str) -> Option<String> {
        let (_, authority, rest) = split_url(url)?;
        let has_upper_spelling = *self.hosts.get(&authority.to_ascii_lowercase())?;
        // A host published in two spellings keeps two spellings of one loopback name; any
        // other host becomes 127.0.0.1, where the server listens.
        let host = if !has_upper_spelling {
            "127.0.0.1"
        } else if authority.chars().any(|c| c.is_ascii_uppercase()) {
            "LOCALHOST"
        } else {
            "localhost"
        };
        Some(format!("http://{host}:{}{rest}", self.port))
    }

    /// `url` moved to loopback; panics naming `what` if it is not on the provider's hosts.
    pub fn required(&self, what: &str, url: &str) -> String {
        self.url(url).unwrap_or_else(|| {
            panic!(
                "{what} `{url}` is not on one of the provider's hosts {:?}",
                self.hosts()
            )
        })
    }

    /// A copy of `document` with every string that is a URL on the provider's hosts moved to
    /// loopback, wherever it appears.
    pub fn document(&self, document: &Value) -> Value {
        match document {
            Value::String(s) => Value::String(self.url(s).unwrap_or_else(|| s.clone())),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.document(v)).collect()),
            Value::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), self.document(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The path (and query) of a URL written as text, `/` when it has none: what the loopback
/// server matches requests against.
pub fn path_of(url: &str) -> String {
    match split_url(url) {
        Some((_, _, "")) => "/".into(),
        Some((_, _, rest)) => rest.split('#').next().unwrap_or_default().to_string(),
        None => panic!("`{url}` is not an absolute http(s) URL"),
    }
}

/// `issuer` + `/.well-known/openid-configuration` with one slash between them (OpenID Connect
/// Discovery 1.0 §4.1), as a client builds it.
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templated_issuer_and_trailing_slashes_survive() {
        let doc = json!({
            "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
            "authorization_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "rbac_url": "https://pas.windows.net",
            "scopes_supported": ["openid", "https://graph.microsoft.com/User.Read"],
        });
        let rewrite = Rewrite::for_document(&doc, &[], 4242);
        assert_eq!(
            rewrite.hosts(),
            ["graph.microsoft.com", "login.microsoftonline.com"]
        );
        let moved = rewrite.document(&doc);
        assert_eq!(moved["issuer"], "http://127.0.0.1:4242/{tenantid}/v2.0");
        assert_eq!(
            moved["authorization_endpoint"],
            "http://127.0.0.1:4242/common/oauth2/v2.0/authorize"
        );
        assert_eq!(
            moved["userinfo_endpoint"],
            "http://127.0.0.1:4242/oidc/userinfo"
        );
        // Not a server of the provider: left alone.
        assert_eq!(moved["rbac_url"], "https://pas.windows.net");
        // A scope name on one of its hosts is moved too: harmless, the app never fetches it.
        assert_eq!(
            moved["scopes_supported"][1],
            "http://127.0.0.1:4242/User.Read"
        );
        assert_eq!(
            rewrite.url("https://auth0.example/").as_deref(),
            None,
            "a host of no server stays"
        );
        let auth0 = json!({"issuer": "https://t.eu.auth0.com/"});
        let rewrite = Rewrite::for_document(&auth0, &[], 1);
        assert_eq!(rewrite.document(&auth0)["issuer"], "http://127.0.0.1:1/");
    }

    #[test]
    fn one_host_in_two_spellings_keeps_two_spellings() {
        let doc = json!({
            "issuer": "https://EC2AMAZ-5A2FKI6.REDPANDA.COM/adfs",
            "token_endpoint": "https://ec2amaz-5a2fki6.redpanda.com/adfs/oauth2/token/",
            "access_token_issuer": "http://EC2AMAZ-5A2FKI6.REDPANDA.COM/adfs/services/trust",
        });
        let moved = Rewrite::for_document(&doc, &[], 7).document(&doc);
        assert_eq!(moved["issuer"], "http://LOCALHOST:7/adfs");
        assert_eq!(
            moved["token_endpoint"],
            "http://localhost:7/adfs/oauth2/token/"
        );
        assert_eq!(
            moved["access_token_issuer"],
            "http://LOCALHOST:7/adfs/services/trust"
        );
    }

    #[test]
    fn ports_and_paths() {
        let doc = json!({"issuer": "https://localhost:9031", "jwks_uri": "https://localhost:9031/pf/JWKS"});
        let rewrite = Rewrite::for_document(&doc, &[], 80);
        assert_eq!(
            rewrite.url("https://localhost:9031").unwrap(),
            "http://127.0.0.1:80"
        );
        assert_eq!(rewrite.url("https://localhost:9032/x"), None);
        assert_eq!(path_of("http://127.0.0.1:80"), "/");
        assert_eq!(path_of("http://127.0.0.1:80/pf/JWKS?x=1#f"), "/pf/JWKS?x=1");
        assert_eq!(
            discovery_url("http://127.0.0.1:80/"),
            "http://127.0.0.1:80/.well-known/openid-configuration"
        );
        assert_eq!(split_url("urn:x:y"), None);
        assert_eq!(split_url("ftp://h/x"), None);
    }
}
