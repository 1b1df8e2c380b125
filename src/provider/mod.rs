//! Everything that talks to one OpenID Provider: discovery (`metadata.rs`, with its redirects
//! in `redirect.rs`, the RFC 8414 fallback in `rfc8414.rs` and the capability checks in
//! `capabilities.rs`), the key cache (`jwks.rs`, which sorts keys with `key_census.rs`), the
//! pure ID-token and logout-token rules (`id_token.rs`, `logout_token.rs`), the token endpoint
//! (`token.rs`, with the client authentication chosen in `client_auth.rs`, the credential each
//! request sends in `credentials.rs` (a client key from `client_key.rs`, the JWTs it signs in
//! `assertion.rs`), and the credential check judged in `verdict.rs`), userinfo (`userinfo.rs`),
//! and which `iss` is the provider's (`issuer.rs`: one issuer, or a
//! multi-tenant template). [`Provider`] ties them together for the routes.

mod assertion;
mod capabilities;
mod client_auth;
mod client_key;
mod credentials;
mod id_token;
mod issuer;
mod jwks;
mod key_census;
mod logout_token;
mod metadata;
mod redirect;
mod rfc8414;
mod token;
mod userinfo;
mod verdict;

pub use id_token::{validate, ExpectedNonce, IdTokenRules, Rejection, ValidatedIdToken};
pub use issuer::IssuerPolicy;
#[cfg(feature = "internals")]
pub use issuer::TenantTemplate;
// The constants and the pure validation are for the rule tests (feature `internals`).
#[allow(unused_imports)]
pub use logout_token::{
    validate_logout_token, LogoutTokenRules, ValidatedLogoutToken, BACKCHANNEL_LOGOUT_EVENT,
    MAX_LOGOUT_TOKEN_AGE_SECS,
};
pub(crate) use metadata::ProviderMetadata;
pub(crate) use token::CheckOutcome;
pub use token::TokenResponse;

use crate::config::Config;
use crate::error::{LoginError, StartupError};
use crate::http::Http;
use crate::util;
use client_auth::{choose_client_auth, choose_revocation_auth, ClientAuthChoice};
use credentials::Credential;
use jwks::Jwks;

/// The discovered provider and everything the routes need to talk to it. Shared, immutable but
/// for the key cache.
pub(crate) struct Provider {
    pub metadata: ProviderMetadata,
    pub http: Http,
    jwks: Jwks,
    /// What else the JWKS held at ignite, in words (`1 encryption key(s) ignored`), or empty.
    jwks_others: String,
    rules: IdTokenRules,
    logout_rules: LogoutTokenRules,
    /// The client authentication at the token endpoint.
    token_auth: ClientAuthChoice,
    /// The client authentication at the revocation endpoint.
    revocation_auth: ClientAuthChoice,
    /// What the client authenticates with: its secret, or a key (`private_key_jwt`, Sign in
    /// with Apple).
    credential: Credential,
}

impl Provider {
    /// Discovers `config.issuer`, checks the metadata and fetches the keys (ignite step 2).
    pub(crate) async fn discover(config: &Config, http: Http) -> Result<Provider, StartupError> {
        let rules = IdTokenRules::from_config(config).ok_or_else(|| StartupError::Metadata {
            issuer: config.issuer.clone(),
            reason: "the issuer is not a URL".into(),
        })?;
        // The client key is read and checked first: a missing file fails before any call.
        let credential = Credential::load(config)?;
        let metadata = metadata::discover(config, &http).await?;
        let policy = IssuerPolicy::resolve(config, &metadata.issuer).ok_or_else(|| {
            StartupError::IssuerMismatch {
                configured: config.issuer.clone(),
                discovered: metadata.issuer.clone(),
            }
        })?;
        if policy.template().is_none() && !config.allowed_tenants.is_empty() {
            return Err(StartupError::Config(crate::config::ConfigError::single(
                "oidc.allowed_tenants",
                format!(
                    "allowed_tenants is set, but issuer {} is not a multi-tenant one (its \
                     discovery document names no {{tenantid}} template): remove \
                     allowed_tenants, or configure the multi-tenant issuer (for Entra ID: \
                     https://login.microsoftonline.com/organizations/v2.0)",
                    config.issuer
                ),
            )));
        }
        let logout_rules = LogoutTokenRules::from_config(config).with_issuer_policy(policy.clone());
        let rules = rules.with_issuer_policy(policy);
        let token_auth = choose_client_auth(
            config.client_auth_method,
            config.implied_client_auth(),
            metadata.token_endpoint_auth_methods_supported.as_deref(),
        )
        .map_err(|reason| StartupError::Metadata {
            issuer: metadata.issuer.clone(),
            reason,
        })?;
        // The fairing logs `token_auth_warning`, naming the provider when there are several.
        let revocation_auth = choose_revocation_auth(
            config.effective_client_auth(),
            metadata
                .revocation_endpoint_auth_methods_supported
                .as_deref(),
            &token_auth,
        );
        credential.check_metadata(&metadata)?;
        let (jwks, jwks_others) =
            Jwks::load(&http, metadata.jwks_uri.as_deref().unwrap_or_default()).await?;
        Ok(Provider {
            metadata,
            http,
            jwks,
            jwks_others,
            rules,
            logout_rules,
            token_auth,
            revocation_auth,
            credential,
        })
    }

    /// A provider built from a recorded discovery document and key set, with no network call
    /// (for the benches).
    #[cfg(feature = "internals")]
    pub(crate) fn offline(
        config: &Config,
        metadata: rocket::serde::json::Value,
        keys: openidconnect::core::CoreJsonWebKeySet,
    ) -> Result<Provider, String> {
        let metadata: ProviderMetadata =
            rocket::serde::json::serde_json::from_value(metadata).map_err(|e| e.to_string())?;
        let token_auth = choose_client_auth(
            config.client_auth_method,
            config.implied_client_auth(),
            metadata.token_endpoint_auth_methods_supported.as_deref(),
        )?;
        let credential = Credential::load(config).map_err(|e| e.to_string())?;
        Ok(Provider {
            rules: IdTokenRules::from_config(config).ok_or("the issuer is not a URL")?,
            logout_rules: LogoutTokenRules::from_config(config),
            http: Http::new(config.http_timeout()).map_err(|e| e.to_string())?,
            jwks: Jwks::offline(metadata.jwks_uri.clone().unwrap_or_default(), keys),
            jwks_others: String::new(),
            revocation_auth: choose_revocation_auth(
                config.effective_client_auth(),
                metadata
                    .revocation_endpoint_auth_methods_supported
                    .as_deref(),
                &token_auth,
            ),
            token_auth,
            credential,
            metadata,
        })
    }

    /// How many times the JWKS was fetched, the one at ignite included.
    #[allow(dead_code)]
    pub(crate) fn jwks_fetches(&self) -> u64 {
        self.jwks.fetches()
    }

    /// The keys loaded at ignite, for the launch line: `2 signing key(s)`, and what else the
    /// set held (`, 1 encryption key(s) ignored`).
    pub(crate) fn key_summary(&self) -> String {
        let signing = format!("{} signing key(s)", self.jwks.len());
        if self.jwks_others.is_empty() {
            signing
        } else {
            format!("{signing}, {}", self.jwks_others)
        }
    }

    /// The warning of a configured client authentication method the provider does not list.
    pub(crate) fn token_auth_warning(&self) -> Option<String> {
        self.token_auth.not_listed()
    }

    /// The warning of `response_mode = "form_post"` at a provider whose
    /// `response_modes_supported` leaves it out (absent, it is not said: many providers that
    /// support it do not list it).
    pub(crate) fn response_mode_warning(&self, config: &Config) -> Option<String> {
        if config.response_mode != crate::config::ResponseMode::FormPost {
            return None;
        }
        let modes = self.metadata.response_modes_supported.as_deref()?;
        if modes.iter().any(|m| m == "form_post") {
            return None;
        }
        let listed: Vec<String> = modes
            .iter()
            .take(10)
            .map(|m| format!("\"{}\"", util::truncate(m, 40)))
            .collect();
        Some(format!(
            "oidc.response_mode is \"form_post\", but the provider lists only [{}] in \
             response_modes_supported: if logins fail at the provider, remove \
             oidc.response_mode",
            listed.join(", ")
        ))
    }

    /// The client authentication at the token endpoint, and why, for the launch log (with the
    /// key it signs with, if any).
    pub(crate) fn token_auth(&self) -> String {
        format!(
            "{}{}",
            self.token_auth.describe(),
            self.credential.describe()
        )
    }

    /// Which `iss` is this provider's (the ID token rules, RFC 9207, the guard's check).
    pub(crate) fn issuer_policy(&self) -> &IssuerPolicy {
        self.rules.issuer_policy()
    }

    /// Validates an ID token completely (OIDC Core §3.1.3.7) at the current time, refetching the
    /// JWKS once (rate limited) when the token names a key we do not know.
    pub(crate) async fn verify_id_token(
        &self,
        raw: &str,
        nonce: ExpectedNonce<'_>,
        access_token: Option<&str>,
    ) -> Result<ValidatedIdToken, LoginError> {
        let now = util::now_unix();
        let check = |keys| validate(&self.rules, &keys, raw, nonce, access_token, now);
        let result = match check(self.jwks.keys()) {
            Err(Rejection::UnknownKey) if self.jwks.refetch(&self.http).await => {
                check(self.jwks.keys()).map_err(|e| match e {
                    Rejection::UnknownKey => Rejection::Invalid(
                        "no key in the provider's JWKS matches the token's kid".into(),
                    ),
                    other => other,
                })
            }
            Err(Rejection::UnknownKey) => Err(Rejection::Invalid(
                "no key in the provider's JWKS matches the token's kid (refetch rate-limited)"
                    .into(),
            )),
            other => other,
        };
        result.map_err(|e| match e {
            Rejection::Invalid(reason) => LoginError::IdToken(reason),
            Rejection::UnknownKey => {
                LoginError::IdToken("no key in the provider's JWKS matches the token's kid".into())
            }
        })
    }

    /// The clock skew the token rules tolerate (seconds).
    pub(crate) fn clock_skew(&self) -> i64 {
        self.logout_rules.clock_skew()
    }

    /// Validates a logout token (Back-Channel Logout 1.0 §2.6 steps 1–9) at `now`, refetching
    /// the JWKS once (rate limited) when it names a key we do not know, as for ID tokens. The
    /// error says which rule failed, for the log and the provider.
    pub(crate) async fn verify_logout_token(
        &self,
        raw: &str,
        now: i64,
    ) -> Result<ValidatedLogoutToken, String> {
        let check = |keys| validate_logout_token(&self.logout_rules, &keys, raw, now);
        let result =
            match check(self.jwks.keys()) {
                Err(Rejection::UnknownKey) if self.jwks.refetch(&self.http).await => {
                    check(self.jwks.keys())
                }
                Err(Rejection::UnknownKey) => return Err(
                    "no key in the provider's JWKS matches the token's kid (refetch rate-limited)"
                        .into(),
                ),
                other => other,
            };
        result.map_err(|e| match e {
            Rejection::Invalid(reason) => reason,
            Rejection::UnknownKey => "no key in the provider's JWKS matches the token's kid".into(),
        })
    }
}
