//! Which client authentication the token and revocation endpoints get: the one the app
//! configured, or else the one the provider lists (OpenID Connect Core 1.0 §9; the lists are
//! `token_endpoint_auth_methods_supported` of OpenID Connect Discovery 1.0 §3 and
//! `revocation_endpoint_auth_methods_supported` of RFC 8414 §2).

use crate::config::ClientAuthMethod;

/// The methods this crate can choose for a client with a secret, in its order of preference:
/// `client_secret_basic` first, the default of Discovery 1.0 §3 and the one RFC 6749 §2.3.1
/// says every server must support.
const CHOOSABLE: [ClientAuthMethod; 2] = [
    ClientAuthMethod::ClientSecretBasic,
    ClientAuthMethod::ClientSecretPost,
];

/// Why a method was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Why {
    /// `oidc.client_auth_method` names it, and the provider lists it or lists nothing.
    Configured,
    /// `oidc.client_auth_method` names it, but the provider lists only these. It is used
    /// anyway (providers under-report), with a warning.
    ConfiguredNotListed(Vec<String>),
    /// `oidc.client_auth_method` is unset, and the client's credentials (the key named here)
    /// imply this method: `private_key_jwt` for a client key, `client_secret_post` for Sign in
    /// with Apple.
    Implied(&'static str),
    /// Implied by the key named here, but the provider lists only these (used anyway, with a
    /// warning).
    ImpliedNotListed(&'static str, Vec<String>),
    /// The provider lists no methods: the default, `client_secret_basic`.
    Default,
    /// Chosen from the provider's list.
    Listed {
        /// Whether it is the only method the provider lists.
        only: bool,
    },
    /// For revocation: the token endpoint's method (the provider lists none for revocation,
    /// or none this crate can use).
    SameAsToken,
}

/// A client authentication method, and why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientAuthChoice {
    pub method: ClientAuthMethod,
    pub why: Why,
}

/// Chooses the token endpoint's client authentication: `configured` when the app set
/// `oidc.client_auth_method`, else the first of `client_secret_basic`, `client_secret_post`
/// that `supported` lists, or `client_secret_basic` when it lists nothing (an absent or empty
/// `token_endpoint_auth_methods_supported`, Discovery 1.0 §3).
///
/// # Errors
///
/// The reason launch must stop, in words, when the app has not chosen and the provider lists
/// only methods this crate cannot use (`private_key_jwt`, `tls_client_auth`, ...).
pub(crate) fn choose_client_auth(
    configured: Option<ClientAuthMethod>,
    implied: Option<(ClientAuthMethod, &'static str)>,
    supported: Option<&[String]>,
) -> Result<ClientAuthChoice, String> {
    if let (None, Some((method, key))) = (configured, implied) {
        // Chosen by the credentials as if configured (listed or not, it is the only one they
        // can use), and said so.
        let mut choice = choose_client_auth(Some(method), None, supported)?;
        choice.why = match choice.why {
            Why::Configured => Why::Implied(key),
            Why::ConfiguredNotListed(list) => Why::ImpliedNotListed(key, list),
            other => other,
        };
        return Ok(choice);
    }
    let listed = supported.filter(|list| !list.is_empty());
    let choice = |method, why| Ok(ClientAuthChoice { method, why });
    match (configured, listed) {
        (Some(method), None) => choice(method, Why::Configured),
        (Some(method), Some(list)) if list.iter().any(|m| m == method.as_str()) => {
            choice(method, Why::Configured)
        }
        (Some(method), Some(list)) => choice(method, Why::ConfiguredNotListed(list.to_vec())),
        (None, None) => choice(ClientAuthMethod::ClientSecretBasic, Why::Default),
        (None, Some(list)) => {
            let usable: Vec<ClientAuthMethod> = CHOOSABLE
                .into_iter()
                .filter(|m| list.iter().any(|l| l == m.as_str()))
                .collect();
            match usable.first() {
                Some(method) => choice(
                    *method,
                    Why::Listed {
                        only: list.len() == 1,
                    },
                ),
                None => Err(unsupported(list)),
            }
        }
    }
}

/// Chooses the revocation endpoint's client authentication (RFC 7009 §2.1): `configured` when
/// set, else from `supported` (RFC 8414's `revocation_endpoint_auth_methods_supported`) when it
/// lists a method this crate can use, else the token endpoint's.
pub(crate) fn choose_revocation_auth(
    configured: Option<ClientAuthMethod>,
    supported: Option<&[String]>,
    token: &ClientAuthChoice,
) -> ClientAuthChoice {
    match (configured, supported.filter(|list| !list.is_empty())) {
        (Some(method), _) => ClientAuthChoice {
            method,
            why: Why::Configured,
        },
        (None, Some(list)) => {
            choose_client_auth(None, None, Some(list)).unwrap_or(ClientAuthChoice {
                method: token.method,
                why: Why::SameAsToken,
            })
        }
        (None, None) => ClientAuthChoice {
            method: token.method,
            why: Why::SameAsToken,
        },
    }
}

/// Why launch stops when the provider lists no method this crate supports.
fn unsupported(list: &[String]) -> String {
    let public = if list.iter().any(|m| m == "none") {
        "; if the application is a public client without a secret, set \
         oidc.client_auth_method = \"none\" and remove oidc.client_secret"
    } else {
        ""
    };
    let key = if list.iter().any(|m| m == "private_key_jwt") {
        "; to authenticate with a key instead (private_key_jwt), set oidc.client_key_file to \
         the client's private key (PEM) and register its public key at the provider"
    } else {
        ""
    };
    format!(
        "its token_endpoint_auth_methods_supported lists only {}, none of which this crate \
         supports for a client with a secret (client_secret_basic, client_secret_post){key}\
         {public}",
        quoted(list)
    )
}

/// `["a", "b"]`, each cut short (the list is the provider's, untrusted).
fn quoted(list: &[String]) -> String {
    let items: Vec<String> = list
        .iter()
        .take(10)
        .map(|m| format!("\"{}\"", crate::util::truncate(m, 40)))
        .collect();
    format!("[{}]", items.join(", "))
}

impl ClientAuthChoice {
    /// For the launch log: `client_secret_post (the only method the provider lists)`.
    pub(crate) fn describe(&self) -> String {
        let why = match &self.why {
            Why::Configured => "oidc.client_auth_method".to_string(),
            Why::Implied(key) => format!("{key} is set"),
            Why::ImpliedNotListed(key, _) => {
                format!("{key} is set, although the provider does not list it")
            }
            Why::ConfiguredNotListed(_) => {
                "oidc.client_auth_method, although the provider does not list it".to_string()
            }
            Why::Default => "the provider lists no token_endpoint_auth_methods_supported; \
                             the default of OpenID Connect Discovery 1.0 §3"
                .to_string(),
            Why::Listed { only: true } => "the only method the provider lists".to_string(),
            Why::Listed { only: false } => "listed by the provider".to_string(),
            Why::SameAsToken => "as at the token endpoint".to_string(),
        };
        format!("{} ({why})", self.method)
    }

    /// When the configured method is not one the provider lists: the sentence that says so
    /// and what to change, for the launch warning and a rejected credential check.
    pub(crate) fn not_listed(&self) -> Option<String> {
        let list = match &self.why {
            Why::ConfiguredNotListed(list) | Why::ImpliedNotListed(_, list) => list,
            _ => return None,
        };
        let fix = match choose_client_auth(None, None, Some(list)) {
            _ if self.method == ClientAuthMethod::PrivateKeyJwt => {
                "it is used anyway: check that the application is registered for \
                 private_key_jwt at the provider, with the public half of oidc.client_key_file"
                    .to_string()
            }
            Ok(auto) if self.method != ClientAuthMethod::None => format!(
                "set oidc.client_auth_method = \"{}\", or remove the key to let the crate choose",
                auto.method
            ),
            _ if self.method == ClientAuthMethod::None => {
                "check that the application is registered as a public client".to_string()
            }
            _ if list.iter().any(|m| m == "private_key_jwt") => {
                "to use private_key_jwt, set oidc.client_key_file to the client's private key \
                 (PEM), register its public key at the provider, and remove the secret"
                    .to_string()
            }
            _ => "this crate supports none of them".to_string(),
        };
        let setting = match &self.why {
            Why::ImpliedNotListed(key, _) => format!("{key} means \"{}\"", self.method),
            _ => format!("oidc.client_auth_method is \"{}\"", self.method),
        };
        Some(format!(
            "{setting}, but the provider lists only {} in \
             token_endpoint_auth_methods_supported: {fix}",
            quoted(list)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClientAuthMethod::{ClientSecretBasic, ClientSecretPost};

    fn list(methods: &[&str]) -> Vec<String> {
        methods.iter().map(|m| m.to_string()).collect()
    }

    fn auto(methods: Option<&[&str]>) -> Result<ClientAuthChoice, String> {
        let methods = methods.map(list);
        choose_client_auth(None, None, methods.as_deref())
    }

    #[test]
    fn without_a_configured_method_the_providers_list_decides() {
        let chosen = |methods| auto(methods).map(|c| (c.method, c.why));
        assert_eq!(chosen(None), Ok((ClientSecretBasic, Why::Default)));
        assert_eq!(chosen(Some(&[])), Ok((ClientSecretBasic, Why::Default)));
        // Apple and Twitch.
        assert_eq!(
            chosen(Some(&["client_secret_post"])),
            Ok((ClientSecretPost, Why::Listed { only: true }))
        );
        // Google lists post first; basic is still preferred.
        assert_eq!(
            chosen(Some(&["client_secret_post", "client_secret_basic"])),
            Ok((ClientSecretBasic, Why::Listed { only: false }))
        );
        // Keycloak.
        assert_eq!(
            chosen(Some(&[
                "private_key_jwt",
                "client_secret_basic",
                "client_secret_post",
                "tls_client_auth",
                "client_secret_jwt"
            ])),
            Ok((ClientSecretBasic, Why::Listed { only: false }))
        );
        // A client with a secret never falls to `none` on its own.
        assert!(auto(Some(&["none"])).is_err());
    }

    #[test]
    fn a_provider_listing_only_unsupported_methods_stops_launch() {
        let err = auto(Some(&["private_key_jwt", "tls_client_auth"])).unwrap_err();
        assert_eq!(
            err,
            "its token_endpoint_auth_methods_supported lists only [\"private_key_jwt\", \
             \"tls_client_auth\"], none of which this crate supports for a client with a \
             secret (client_secret_basic, client_secret_post); to authenticate with a key \
             instead (private_key_jwt), set oidc.client_key_file to the client's private key \
             (PEM) and register its public key at the provider"
        );
        let err = auto(Some(&["private_key_jwt", "none"])).unwrap_err();
        assert!(
            err.ends_with("set oidc.client_auth_method = \"none\" and remove oidc.client_secret"),
            "{err}"
        );
    }

    #[test]
    fn a_configured_method_is_kept_and_warned_about_when_not_listed() {
        let post_only = list(&["client_secret_post"]);
        let choice = choose_client_auth(Some(ClientSecretBasic), None, Some(&post_only)).unwrap();
        assert_eq!(choice.method, ClientSecretBasic);
        assert_eq!(
            choice.not_listed().unwrap(),
            "oidc.client_auth_method is \"client_secret_basic\", but the provider lists only \
             [\"client_secret_post\"] in token_endpoint_auth_methods_supported: set \
             oidc.client_auth_method = \"client_secret_post\", or remove the key to let the \
             crate choose"
        );
        let listed = choose_client_auth(Some(ClientSecretPost), None, Some(&post_only)).unwrap();
        assert_eq!(listed.why, Why::Configured);
        assert_eq!(listed.not_listed(), None);
        let unlisted = choose_client_auth(Some(ClientSecretPost), None, None).unwrap();
        assert_eq!(unlisted.why, Why::Configured);
        let public =
            choose_client_auth(Some(ClientAuthMethod::None), None, Some(&post_only)).unwrap();
        assert!(public
            .not_listed()
            .unwrap()
            .ends_with("check that the application is registered as a public client"));
        let jwt_only = list(&["private_key_jwt"]);
        let odd = choose_client_auth(Some(ClientSecretPost), None, Some(&jwt_only)).unwrap();
        assert!(odd
            .not_listed()
            .unwrap()
            .ends_with("register its public key at the provider, and remove the secret"));
        let tls_only = list(&["tls_client_auth"]);
        let odd = choose_client_auth(Some(ClientSecretPost), None, Some(&tls_only)).unwrap();
        assert!(odd
            .not_listed()
            .unwrap()
            .ends_with("this crate supports none of them"));
    }

    #[test]
    fn a_client_key_implies_its_method_and_says_so() {
        let keycloak = list(&["client_secret_basic", "private_key_jwt"]);
        let implied = Some((ClientAuthMethod::PrivateKeyJwt, "oidc.client_key_file"));
        let choice = choose_client_auth(None, implied, Some(&keycloak)).unwrap();
        assert_eq!(choice.method, ClientAuthMethod::PrivateKeyJwt);
        assert_eq!(choice.why, Why::Implied("oidc.client_key_file"));
        assert_eq!(
            choice.describe(),
            "private_key_jwt (oidc.client_key_file is set)"
        );
        assert_eq!(choice.not_listed(), None);
        // A configured method wins over the implied one (validation refuses the mix anyway).
        let configured = choose_client_auth(Some(ClientSecretBasic), implied, Some(&keycloak));
        assert_eq!(configured.unwrap().method, ClientSecretBasic);
        // Apple lists only client_secret_post; the Apple secret implies it.
        let apple = Some((ClientSecretPost, "oidc.apple_team_id"));
        let basic_only = list(&["client_secret_basic"]);
        let unlisted = choose_client_auth(None, apple, Some(&basic_only)).unwrap();
        assert_eq!(unlisted.method, ClientSecretPost);
        assert!(unlisted
            .not_listed()
            .unwrap()
            .starts_with("oidc.apple_team_id means \"client_secret_post\", but the provider"));
        let secret_only = list(&["client_secret_post"]);
        let jwt = choose_client_auth(None, implied, Some(&secret_only)).unwrap();
        assert_eq!(
            jwt.not_listed().unwrap(),
            "oidc.client_key_file means \"private_key_jwt\", but the provider lists only \
             [\"client_secret_post\"] in token_endpoint_auth_methods_supported: it is used \
             anyway: check that the application is registered for private_key_jwt at the \
             provider, with the public half of oidc.client_key_file"
        );
    }

    #[test]
    fn revocation_prefers_its_own_list_then_the_token_endpoints_method() {
        let token = auto(Some(&["client_secret_post"])).unwrap();
        let basic = list(&["client_secret_basic"]);
        let jwt = list(&["private_key_jwt"]);
        assert_eq!(
            choose_revocation_auth(None, Some(&basic), &token).method,
            ClientSecretBasic
        );
        assert_eq!(
            choose_revocation_auth(None, Some(&jwt), &token),
            ClientAuthChoice {
                method: ClientSecretPost,
                why: Why::SameAsToken
            }
        );
        assert_eq!(
            choose_revocation_auth(None, None, &token).method,
            ClientSecretPost
        );
        assert_eq!(
            choose_revocation_auth(Some(ClientSecretBasic), Some(&jwt), &token).method,
            ClientSecretBasic
        );
    }

    #[test]
    fn descriptions_for_the_log() {
        assert_eq!(
            auto(Some(&["client_secret_post"])).unwrap().describe(),
            "client_secret_post (the only method the provider lists)"
        );
        assert!(auto(None)
            .unwrap()
            .describe()
            .starts_with("client_secret_basic (the provider lists no"));
    }
}
