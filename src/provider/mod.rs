//! Everything that talks to one OpenID Provider: discovery (`metadata.rs`), the key cache
//! (`jwks.rs`), the pure ID-token rules (`id_token.rs`) and logout-token rules
//! (`logout_token.rs`), the token endpoint (`token.rs`) and userinfo (`userinfo.rs`).
//! [`Provider`] ties them together for the routes.

mod id_token;
mod jwks;
mod logout_token;
mod metadata;
mod token;
mod userinfo;

pub use id_token::{validate, ExpectedNonce, IdTokenRules, Rejection, ValidatedIdToken};
// The constants are for the rule tests (feature `internals`).
#[allow(unused_imports)]
pub use logout_token::{
    validate_logout_token, LogoutTokenRules, ValidatedLogoutToken, BACKCHANNEL_LOGOUT_EVENT,
    MAX_LOGOUT_TOKEN_AGE_SECS,
};
pub(crate) use metadata::ProviderMetadata;
pub use token::TokenResponse;

use crate::config::Config;
use crate::error::{LoginError, StartupError};
use crate::http::Http;
use crate::util;
use jwks::Jwks;

/// The discovered provider and everything the routes need to talk to it. Shared, immutable but
/// for the key cache.
pub(crate) struct Provider {
    pub metadata: ProviderMetadata,
    pub http: Http,
    jwks: Jwks,
    rules: IdTokenRules,
    logout_rules: LogoutTokenRules,
}

impl Provider {
    /// Discovers `config.issuer`, checks the metadata and fetches the keys (ignite step 2).
    pub(crate) async fn discover(config: &Config, http: Http) -> Result<Provider, StartupError> {
        let rules = IdTokenRules::from_config(config).ok_or_else(|| StartupError::Metadata {
            issuer: config.issuer.clone(),
            reason: "the issuer is not a URL".into(),
        })?;
        let metadata = metadata::discover(config, &http).await?;
        let jwks = Jwks::load(&http, metadata.jwks_uri.as_deref().unwrap_or_default()).await?;
        Ok(Provider {
            metadata,
            http,
            jwks,
            rules,
            logout_rules: LogoutTokenRules::from_config(config),
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
        Ok(Provider {
            rules: IdTokenRules::from_config(config).ok_or("the issuer is not a URL")?,
            logout_rules: LogoutTokenRules::from_config(config),
            http: Http::new(config.http_timeout()).map_err(|e| e.to_string())?,
            jwks: Jwks::offline(metadata.jwks_uri.clone().unwrap_or_default(), keys),
            metadata,
        })
    }

    /// How many times the JWKS was fetched, the one at ignite included.
    #[allow(dead_code)]
    pub(crate) fn jwks_fetches(&self) -> u64 {
        self.jwks.fetches()
    }

    /// The number of usable keys in the cache.
    pub(crate) fn key_count(&self) -> usize {
        self.jwks.len()
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
