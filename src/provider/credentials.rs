//! What the client proves its identity with at the token and revocation endpoints, request by
//! request: the configured secret (or nothing, for a public client), a `private_key_jwt`
//! assertion made for that request (`assertion.rs`), or Sign in with Apple's minted secret.
//! Loaded at launch, before any network call, so that a missing or unusable key stops launch
//! naming its setting.

use super::assertion::{client_assertion, AppleSecret};
use super::client_key::ClientKey;
use super::metadata::ProviderMetadata;
use crate::config::{ClientAuthMethod, Config, ConfigError};
use crate::error::StartupError;
use crate::http::ClientAuth;

/// The client's credential, as launch loaded it.
#[derive(Debug)]
pub(crate) enum Credential {
    /// What the configuration holds: the client secret (`client_secret_basic`,
    /// `client_secret_post`), or nothing (`none`).
    Configured,
    /// `private_key_jwt`: a fresh assertion signed with this key for every request.
    PrivateKeyJwt(ClientKey),
    /// Sign in with Apple: the client secret is a JWT minted with the `.p8` key.
    Apple(AppleSecret),
}

/// The credential of one request: the method, and the assertion or minted secret it sends (none
/// for what the configuration holds).
pub(crate) struct Authentication {
    method: ClientAuthMethod,
    made: Option<String>,
}

impl Credential {
    /// Reads and checks the key `config` names, if any (launch, before discovery).
    ///
    /// # Errors
    ///
    /// [`StartupError::Config`] naming the key setting: a missing or unreadable file, a key
    /// that does not parse, an algorithm it cannot sign with, a key that is not P-256 for Sign
    /// in with Apple.
    pub(crate) fn load(config: &Config) -> Result<Credential, StartupError> {
        let Some(key) = ClientKey::load(config)? else {
            return Ok(Credential::Configured);
        };
        let Some(team_id) = config.apple_team_id.clone() else {
            return Ok(Credential::PrivateKeyJwt(key));
        };
        if !key.is_p256() {
            let setting = if config.client_key_file.is_some() {
                "oidc.client_key_file"
            } else {
                "oidc.client_key"
            };
            return Err(ConfigError::single(
                setting,
                format!(
                    "Sign in with Apple signs its client secret with the P-256 key of your .p8 \
                     file, but this is {} key: use the AuthKey_<KEYID>.p8 file that Apple gave \
                     you (Certificates, Identifiers & Profiles → Keys)",
                    super::client_key::with_article(key.kind())
                ),
            )
            .into());
        }
        Ok(Credential::Apple(AppleSecret::new(
            key,
            team_id,
            config.client_id.clone(),
        )))
    }

    /// The algorithm of the `private_key_jwt` assertions, if this is such a credential.
    pub(crate) fn assertion_alg(&self) -> Option<&'static str> {
        match self {
            Credential::PrivateKeyJwt(key) => Some(key.alg().as_str()),
            _ => None,
        }
    }

    /// For the launch log, after the method: `, RS256 with an RSA-2048 key, kid `k1``.
    pub(crate) fn describe(&self) -> String {
        match self {
            Credential::Configured => String::new(),
            Credential::PrivateKeyJwt(key) => format!(", {}", key.describe()),
            Credential::Apple(apple) => format!(
                ", Sign in with Apple client secret (ES256, key id `{}`, team `{}`, renewed \
                 daily)",
                apple.key().kid().unwrap_or_default(),
                apple.team_id()
            ),
        }
    }

    /// Launch: the provider must accept the assertions' algorithm where it lists the ones it
    /// accepts (`token_endpoint_auth_signing_alg_values_supported`, OpenID Connect Discovery
    /// 1.0 §3; absent, any).
    pub(crate) fn check_metadata(&self, metadata: &ProviderMetadata) -> Result<(), StartupError> {
        let Some(alg) = self.assertion_alg() else {
            return Ok(());
        };
        let Some(listed) = metadata
            .token_endpoint_auth_signing_alg_values_supported
            .as_deref()
            .filter(|list| !list.is_empty())
        else {
            return Ok(());
        };
        if listed.iter().any(|a| a == alg) {
            return Ok(());
        }
        let usable: Vec<&str> = listed
            .iter()
            .map(String::as_str)
            .filter(|a| crate::config::CLIENT_KEY_ALGS.contains(a))
            .collect();
        let rsa: Vec<&str> = usable.iter().copied().filter(|a| *a != "ES256").collect();
        let fix = if usable.is_empty() {
            "none of which this crate signs with (RS256, PS256, ES256)".to_owned()
        } else if alg == "ES256" {
            format!(
                "sign with an RSA key ({}) instead of this P-256 key",
                rsa.join(" or ")
            )
        } else if !rsa.is_empty() {
            format!("set client_key_alg = \"{}\"", rsa[0])
        } else {
            "sign with a P-256 key (ES256) instead of this RSA key".to_owned()
        };
        let listed: Vec<String> = listed
            .iter()
            .take(10)
            .map(|a| format!("\"{}\"", crate::util::truncate(a, 20)))
            .collect();
        Err(ConfigError::single(
            "oidc.client_key_alg",
            format!(
                "the provider accepts client assertions signed with [{}] only \
                 (token_endpoint_auth_signing_alg_values_supported), not {alg}: {fix}",
                listed.join(", ")
            ),
        )
        .into())
    }

    /// The credential of one request to `audience` (the endpoint's URL) with `method`, at
    /// `now`, with `jti` for an assertion.
    ///
    /// # Errors
    ///
    /// Signing failed, or `method` needs a key this credential lacks (which validation rules
    /// out); in words.
    pub(crate) fn authenticate(
        &self,
        method: ClientAuthMethod,
        client_id: &str,
        audience: &str,
        now: i64,
        jti: &str,
    ) -> Result<Authentication, String> {
        let made = match (self, method) {
            (Credential::PrivateKeyJwt(key), ClientAuthMethod::PrivateKeyJwt) => {
                Some(client_assertion(key, client_id, audience, now, jti)?)
            }
            (_, ClientAuthMethod::PrivateKeyJwt) => {
                return Err("private_key_jwt needs a client key (oidc.client_key_file)".into())
            }
            (Credential::Apple(apple), _) => Some(apple.secret_at(now)?),
            _ => None,
        };
        Ok(Authentication { method, made })
    }
}

impl Authentication {
    /// How the HTTP client sends it; the secret, if any, from `config`.
    pub(crate) fn client_auth<'a>(&'a self, config: &'a Config) -> ClientAuth<'a> {
        let id = config.client_id.as_str();
        let secret = self
            .made
            .as_deref()
            .or(config.client_secret.as_deref())
            .unwrap_or_default();
        match self.method {
            ClientAuthMethod::ClientSecretBasic => ClientAuth::Basic { id, secret },
            ClientAuthMethod::ClientSecretPost => ClientAuth::Post { id, secret },
            ClientAuthMethod::None => ClientAuth::None { id },
            ClientAuthMethod::PrivateKeyJwt => ClientAuth::Assertion {
                id,
                assertion: self.made.as_deref().unwrap_or_default(),
            },
        }
    }

    /// What it sends that must never be quoted (the assertion or minted secret), if anything
    /// beyond the configured secret.
    pub(crate) fn made(&self) -> Option<&str> {
        self.made.as_deref()
    }
}

#[cfg(test)]
mod tests;
