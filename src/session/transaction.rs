//! The login transaction: one encrypted cookie per pending login (several tabs may log in at
//! once), consumed by the callback.

use rocket::http::CookieJar;
use rocket::serde::json::serde_json;
use serde::{Deserialize, Serialize};

use super::cookies::{CookieOptions, TX_COOKIE_PREFIX};
use crate::config::ProviderName;
use crate::util;

/// A pending login: what the callback must find to accept an authorization response.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct Transaction {
    /// The `state` sent to the provider (RFC 6749 §10.12).
    #[serde(rename = "s")]
    pub state: String,
    /// The `nonce` the ID token must carry (OIDC Core §3.1.2.1).
    #[serde(rename = "n")]
    pub nonce: String,
    /// The PKCE code verifier (RFC 7636).
    #[serde(rename = "v")]
    pub pkce_verifier: String,
    /// Where to send the browser after login (already sanitized).
    #[serde(rename = "r")]
    pub return_to: String,
    /// The issuer the login started with.
    #[serde(rename = "i")]
    pub issuer: String,
    /// When the login started (Unix seconds).
    #[serde(rename = "t")]
    pub created: i64,
    /// The provider the login was sent to, by name; none for the provider named `default`.
    /// The callback requires it to be the provider whose callback path answered (the mix-up
    /// defence of RFC 9700 §4.4.2).
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderName>,
}

impl Transaction {
    /// The name of the provider the login was sent to.
    pub fn provider_name(&self) -> &str {
        self.provider
            .as_ref()
            .map_or(ProviderName::DEFAULT, ProviderName::as_str)
    }
}

/// `Debug` hides the state, nonce and PKCE verifier.
impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("state", &"<redacted>")
            .field("nonce", &"<redacted>")
            .field("pkce_verifier", &"<redacted>")
            .field("return_to", &self.return_to)
            .field("issuer", &self.issuer)
            .field("created", &self.created)
            .field("provider", &self.provider_name())
            .finish()
    }
}

/// The cookie name of the transaction for `state`. Every tab's login gets its own cookie, so
/// several tabs can log in at once.
pub fn tx_cookie_name(state: &str) -> String {
    let prefix: String = state
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(16)
        .collect();
    format!("{TX_COOKIE_PREFIX}{prefix}")
}

/// Stores a new transaction, removing the oldest pending ones beyond `max_pending`.
pub fn write_transaction(
    jar: &CookieJar<'_>,
    opts: CookieOptions,
    tx: &Transaction,
    lifetime_secs: i64,
    max_pending: usize,
) -> Result<(), String> {
    write_transaction_for(jar, opts, tx, lifetime_secs, max_pending, false)
}

/// [`write_transaction`]; with `cross_site` (a `form_post` login) the cookie is
/// `SameSite=None; Secure`, so that the provider's cross-site form POST carries it.
pub(crate) fn write_transaction_for(
    jar: &CookieJar<'_>,
    opts: CookieOptions,
    tx: &Transaction,
    lifetime_secs: i64,
    max_pending: usize,
    cross_site: bool,
) -> Result<(), String> {
    let mut pending: Vec<(i64, String)> = jar
        .iter()
        .filter(|c| opts.is_tx_name(c.name()))
        .map(|c| {
            let created = jar
                .get_private(c.name())
                .and_then(|c| serde_json::from_str::<Transaction>(c.value()).ok())
                .map_or(i64::MIN, |t| t.created);
            (created, c.name().to_owned())
        })
        .collect();
    pending.sort();
    let excess = (pending.len() + 1).saturating_sub(max_pending);
    for (_, name) in pending.into_iter().take(excess) {
        jar.remove(opts.removal(name));
    }
    let value = serde_json::to_string(tx).map_err(|e| e.to_string())?;
    let cookie = opts.build(opts.tx_name(&tx.state), value, lifetime_secs);
    jar.add_private(if cross_site {
        super::cookies::cross_site(cookie)
    } else {
        cookie
    });
    Ok(())
}

/// Takes the transaction for `state` out of the jar: it is removed whatever happens next, so a
/// replayed callback finds nothing. Checks the state in constant time and the age.
pub(crate) fn take_transaction(
    jar: &CookieJar<'_>,
    opts: CookieOptions,
    state: &str,
    lifetime_secs: i64,
) -> Option<Transaction> {
    let name = opts.tx_name(state);
    jar.get(&name)?;
    jar.remove(opts.removal(name.clone()));
    let tx: Transaction = serde_json::from_str(jar.get_private(&name)?.value()).ok()?;
    let fresh = util::now_unix().saturating_sub(tx.created) <= lifetime_secs;
    (fresh && util::constant_time_eq(&tx.state, state)).then_some(tx)
}
