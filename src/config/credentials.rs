//! Client authentication without a shared secret, as configured: where the client key comes
//! from ([`KeySource`]), which method the credentials imply when `client_auth_method` is unset,
//! and the checks of these keys before any network call (part of [`Config::validate()`]).
//!
//! The key itself is read and parsed at launch (`provider/client_key.rs`); here only the
//! combinations of settings are checked: one key source, a key for `private_key_jwt`, no
//! secret beside a key, what Sign in with Apple needs, and what `form_post` needs.

use url::Url;

use super::validate::Problems;
use super::{is_loopback, ClientAuthMethod, Config, ResponseMode};

/// The JWS algorithms a client key may sign with (RFC 7518 §3.1): what RSA and P-256 keys can
/// do, and what providers accept for `private_key_jwt`.
pub(crate) const CLIENT_KEY_ALGS: &[&str] = &["RS256", "PS256", "ES256"];

/// Where the client's private key comes from.
#[derive(Clone, Copy)]
pub(crate) enum KeySource<'a> {
    /// `client_key_file`: a path.
    File(&'a str),
    /// `client_key`: the PEM text itself (from the environment, usually).
    Inline(&'a str),
}

/// `Debug` never shows an inline key.
impl std::fmt::Debug for KeySource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::File(path) => f.debug_tuple("File").field(path).finish(),
            KeySource::Inline(_) => f.write_str("Inline(<redacted>)"),
        }
    }
}

impl Config {
    /// The client key's source, if one is configured (`client_key_file` first).
    pub(crate) fn client_key_source(&self) -> Option<KeySource<'_>> {
        match (&self.client_key_file, &self.client_key) {
            (Some(path), _) => Some(KeySource::File(path)),
            (None, Some(pem)) => Some(KeySource::Inline(pem)),
            (None, None) => None,
        }
    }

    /// Whether the client authenticates with a key instead of a secret: `private_key_jwt`, or
    /// Sign in with Apple's minted secret.
    pub(crate) fn authenticates_with_key(&self) -> bool {
        self.client_key_source().is_some()
            || self.apple_team_id.is_some()
            || self.client_auth_method == Some(ClientAuthMethod::PrivateKeyJwt)
    }

    /// The method the credentials imply when `client_auth_method` is unset, and the key that
    /// implies it: `client_secret_post` for Sign in with Apple (its minted secret goes in the
    /// form body), `private_key_jwt` for a client key.
    pub(crate) fn implied_client_auth(&self) -> Option<(ClientAuthMethod, &'static str)> {
        if self.client_auth_method.is_some() {
            None
        } else if self.apple_team_id.is_some() {
            Some((ClientAuthMethod::ClientSecretPost, "oidc.apple_team_id"))
        } else if self.client_key_file.is_some() {
            Some((ClientAuthMethod::PrivateKeyJwt, "oidc.client_key_file"))
        } else if self.client_key.is_some() {
            Some((ClientAuthMethod::PrivateKeyJwt, "oidc.client_key"))
        } else {
            None
        }
    }

    /// `client_auth_method`, or the method the credentials imply.
    pub(crate) fn effective_client_auth(&self) -> Option<ClientAuthMethod> {
        self.client_auth_method
            .or(self.implied_client_auth().map(|(method, _)| method))
    }
}

/// The checks of the client key settings and of `response_mode`, in the scope of `out`.
pub(super) fn check(config: &Config, out: &mut Problems<'_>) {
    key_values(config, out);
    if config.apple_team_id.is_some() {
        apple(config, out);
    } else {
        private_key_jwt(config, out);
    }
    form_post(config, out);
}

/// Each value on its own: one key source, nothing empty, a known algorithm.
fn key_values(config: &Config, out: &mut Problems<'_>) {
    if config.client_key_file.is_some() && config.client_key.is_some() {
        out.push(
            "client_key",
            "Both client_key and client_key_file are set: set one of them (client_key_file \
             for the path of the PEM file, client_key for the PEM text itself, e.g. in the \
             environment)."
                .into(),
        );
    }
    if config
        .client_key_file
        .as_deref()
        .is_some_and(|p| p.trim().is_empty())
    {
        out.push(
            "client_key_file",
            "Your client_key_file is empty: set the path of the PEM file of the client's \
             private key, or remove it."
                .into(),
        );
    }
    // The key is never echoed, not even in part.
    if config
        .client_key
        .as_deref()
        .is_some_and(|k| k.trim().is_empty())
    {
        out.push(
            "client_key",
            format!(
                "Your client_key is empty: set {} to the PEM text of the client's private key, \
                 or remove it.",
                out.scope.env("client_key")
            ),
        );
    }
    if let Some(kid) = &config.client_key_id {
        if kid.trim().is_empty() || kid.trim() != kid {
            out.push(
                "client_key_id",
                format!(
                    "Your client_key_id {kid:?} is empty or has leading or trailing \
                     whitespace: set the key's id as the provider shows it, or remove it."
                ),
            );
        }
    }
    if let Some(alg) = &config.client_key_alg {
        if !CLIENT_KEY_ALGS.contains(&alg.as_str()) {
            let hint = match CLIENT_KEY_ALGS
                .iter()
                .find(|known| known.eq_ignore_ascii_case(alg))
            {
                Some(known) => format!(" Did you mean {known}?"),
                None => String::new(),
            };
            out.push(
                "client_key_alg",
                format!(
                    "{:?} is not an algorithm for client keys.{hint} Use RS256 or PS256 with \
                     an RSA key, ES256 with a P-256 key, or remove client_key_alg to sign with \
                     the key's default (RS256, ES256).",
                    crate::util::truncate(alg, 32)
                ),
            );
        }
    }
}

/// `private_key_jwt`: a key, used by that method only, and no secret beside it.
fn private_key_jwt(config: &Config, out: &mut Problems<'_>) {
    let key = config.client_key_source().is_some();
    let key_name = if config.client_key_file.is_some() || config.client_key.is_none() {
        "client_key_file"
    } else {
        "client_key"
    };
    match config.client_auth_method {
        Some(ClientAuthMethod::PrivateKeyJwt) if !key => out.push(
            "client_key_file",
            format!(
                "client_auth_method is \"private_key_jwt\", which signs with the client's \
                 private key: set client_key_file to the path of its PEM file (PKCS#8, RSA or \
                 P-256), or {} to its PEM text. Register the public key at the provider.",
                out.scope.env("client_key")
            ),
        ),
        Some(method) if key && method != ClientAuthMethod::PrivateKeyJwt => out.push(
            key_name,
            format!(
                "A client key is set, but client_auth_method is \"{method}\", which does not \
                 use it: set client_auth_method = \"private_key_jwt\" (or remove it: a key \
                 means private_key_jwt), or remove {key_name}."
            ),
        ),
        _ => {}
    }
    let jwt = key || config.client_auth_method == Some(ClientAuthMethod::PrivateKeyJwt);
    if jwt && config.client_secret.is_some() {
        out.push(
            "client_secret",
            format!(
                "A client secret is set beside the client key: private_key_jwt authenticates \
                 with the key, never with a secret. Remove client_secret (and {}).",
                out.scope.env("client_secret")
            ),
        );
    }
    if !jwt {
        for name in ["client_key_id", "client_key_alg"] {
            let set = match name {
                "client_key_id" => config.client_key_id.is_some(),
                _ => config.client_key_alg.is_some(),
            };
            if set {
                out.push(
                    name,
                    format!(
                        "{name} is set, but there is no client key: set client_key_file (for \
                         private_key_jwt, or with apple_team_id for Sign in with Apple), or \
                         remove {name}."
                    ),
                );
            }
        }
    }
}

/// Sign in with Apple: the team ID, the `.p8` key and its id, `client_secret_post`, no
/// configured secret, and `form_post` when asking for the name or email.
fn apple(config: &Config, out: &mut Problems<'_>) {
    let team = config.apple_team_id.as_deref().unwrap_or_default();
    if team.len() != 10 || !team.chars().all(|c| c.is_ascii_alphanumeric()) {
        out.push(
            "apple_team_id",
            format!(
                "Your apple_team_id must be the 10-character Team ID of your Apple Developer \
                 account (Account → Membership details), e.g. ABCDE12345. Current value: {:?}.",
                crate::util::truncate(team, 32)
            ),
        );
    }
    if config.client_key_source().is_none() {
        out.push(
            "client_key_file",
            format!(
                "Sign in with Apple signs its client secret with your .p8 key: set \
                 client_key_file to the path of the AuthKey_<KEYID>.p8 file (Certificates, \
                 Identifiers & Profiles → Keys), or {} to its contents.",
                out.scope.env("client_key")
            ),
        );
    }
    if config.client_key_id.is_none() {
        out.push(
            "client_key_id",
            "Sign in with Apple needs the Key ID of the .p8 key (10 characters, shown beside \
             the key in Certificates, Identifiers & Profiles → Keys, and in the file name \
             AuthKey_<KEYID>.p8): set client_key_id."
                .into(),
        );
    }
    if config
        .client_key_alg
        .as_deref()
        .is_some_and(|alg| alg != "ES256")
    {
        out.push(
            "client_key_alg",
            "Sign in with Apple client secrets are ES256 (the .p8 key is P-256): remove \
             client_key_alg."
                .into(),
        );
    }
    if let Some(method) = config
        .client_auth_method
        .filter(|m| *m != ClientAuthMethod::ClientSecretPost)
    {
        out.push(
            "client_auth_method",
            format!(
                "Sign in with Apple takes the client secret in the form body: \
                 client_auth_method must be \"client_secret_post\", not \"{method}\"; or \
                 remove it."
            ),
        );
    }
    if config.client_secret.is_some() {
        out.push(
            "client_secret",
            format!(
                "With apple_team_id, the client secret is minted from the .p8 key and renewed \
                 before it expires: remove client_secret (and {}).",
                out.scope.env("client_secret")
            ),
        );
    }
    let asks_profile = config.scopes.iter().any(|s| s == "name" || s == "email");
    if asks_profile && config.response_mode != ResponseMode::FormPost {
        out.push(
            "response_mode",
            "Sign in with Apple returns the name and email only with response_mode = \
             \"form_post\", and refuses the name and email scopes otherwise: set \
             response_mode = \"form_post\", or remove \"name\" and \"email\" from scopes."
                .into(),
        );
    }
}

/// `form_post` needs a `SameSite=None; Secure` transaction cookie, which browsers store only
/// from https and loopback origins.
fn form_post(config: &Config, out: &mut Problems<'_>) {
    if config.response_mode != ResponseMode::FormPost {
        return;
    }
    let Ok(base) = Url::parse(&config.app_base_url) else {
        return; // app_base_url has its own message
    };
    if base.scheme() == "http" && !is_loopback(&base) {
        out.push(
            "response_mode",
            format!(
                "response_mode = \"form_post\" needs a SameSite=None; Secure cookie for the \
                 pending login (the provider's form POST is cross-site), and browsers refuse \
                 Secure cookies from plain-http sites other than localhost: serve the app over \
                 https (app_base_url is {}), or remove response_mode.",
                config.app_base_url
            ),
        );
    }
}

#[cfg(test)]
mod tests;
