//! The login transaction: one encrypted cookie per pending login (several tabs may log in at
//! once), consumed by the callback.

use rocket::http::CookieJar;
use rocket::serde::json::serde_json;
use serde::{Deserialize, Serialize};

use super::cookies::CookieOptions;
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

/// The cookie name of the transaction for `state` under the default cookie prefix
/// (`oidc_tx_<state prefix>`; see `CookieOptions::tx_name` for the configured one). Every tab's
/// login gets its own cookie, so several tabs can log in at once.
#[cfg(any(test, feature = "internals"))]
pub fn tx_cookie_name(state: &str) -> String {
    CookieOptions::new(false).tx_name(state)
}

/// How far ahead of this instance's clock a pending login's start may be: the most
/// `oidc.clock_skew_secs` allows between instances. Beyond it, the time was not written by a
/// sane clock and the login is refused.
const FUTURE_TOLERANCE_SECS: i64 = 300;

/// A pending login's place in the eviction order, read from its cookie: its sequence number
/// (`q`, see [`write_transaction`]) and start second. A cookie of an earlier release has no
/// number, and counts as the oldest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
struct Order {
    #[serde(rename = "q", default)]
    seq: u64,
    #[serde(rename = "t")]
    created: i64,
}

/// What a transaction cookie holds: the transaction and its sequence number. Kept beside
/// [`Transaction`] rather than in it: the number is the jar's business, assigned here.
#[derive(Serialize)]
struct Sequenced<'a> {
    #[serde(flatten)]
    tx: &'a Transaction,
    #[serde(rename = "q")]
    seq: u64,
}

/// Stores a new transaction, removing the oldest pending ones beyond `max_pending`.
///
/// Only this app's pending logins count: a transaction cookie this app's key cannot decrypt
/// (another app on the same host, under the same names) is neither counted nor evicted. Ours
/// are evicted oldest first, exactly: each new login is numbered one more than the highest
/// number among the pending logins the browser sent, so the order does not hang on clocks
/// (whole seconds, or two instances' clocks). Two logins started at the same moment in two
/// tabs see the same pending logins and share a number; they are ordered by start second,
/// then name.
#[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
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
    let pending: Vec<(Order, String)> = jar
        .iter()
        .filter(|c| opts.is_tx_name(c.name()))
        .filter_map(|c| {
            let ours = jar.get_private(c.name())?;
            // Ours but unreadable (truncated, an unknown format): first to go.
            let order = serde_json::from_str::<Order>(ours.value()).unwrap_or(Order {
                seq: 0,
                created: i64::MIN,
            });
            Some((order, c.name().to_owned()))
        })
        .collect();
    let (seq, evicted) = eviction_plan(pending, max_pending);
    for name in evicted {
        jar.remove(opts.removal(name));
    }
    let value = serde_json::to_string(&Sequenced { tx, seq }).map_err(|e| e.to_string())?;
    let cookie = opts.build(opts.tx_name(&tx.state), value, lifetime_secs);
    jar.add_private(if cross_site {
        super::cookies::cross_site(cookie)
    } else {
        cookie
    });
    Ok(())
}

/// The sequence number of a new login among `pending` (this app's pending logins, in any
/// order), and the names to evict, oldest first, so that `max_pending` remain with the new one.
fn eviction_plan(mut pending: Vec<(Order, String)>, max_pending: usize) -> (u64, Vec<String>) {
    pending.sort();
    let seq = pending
        .last()
        .map_or(0, |(order, _)| order.seq.saturating_add(1));
    let excess = (pending.len() + 1).saturating_sub(max_pending);
    let evicted = pending.into_iter().take(excess).map(|(_, name)| name);
    (seq, evicted.collect())
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
    // Only ours: another app's pending login under the same name stays for its own callback.
    let value = jar.get_private(&name)?;
    jar.remove(opts.removal(name));
    let tx: Transaction = serde_json::from_str(value.value()).ok()?;
    let fresh = is_fresh(tx.created, util::now_unix(), lifetime_secs);
    (fresh && util::constant_time_eq(&tx.state, state)).then_some(tx)
}

/// Whether a login started at `created` may still finish at `now`: no more than
/// `lifetime_secs` ago, and not in the future beyond what clocks may differ.
fn is_fresh(created: i64, now: i64, lifetime_secs: i64) -> bool {
    created <= now.saturating_add(FUTURE_TOLERANCE_SECS)
        && now.saturating_sub(created) <= lifetime_secs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(seq: u64, created: i64) -> Order {
        Order { seq, created }
    }

    fn names(pending: &[(Order, &str)]) -> Vec<(Order, String)> {
        pending.iter().map(|(o, n)| (*o, n.to_string())).collect()
    }

    #[test]
    fn logins_of_one_second_are_evicted_in_the_order_they_started() {
        // Four logins in the same second whose random names sort against their order.
        let pending = names(&[
            (order(3, 100), "oidc_tx_AAAA"),
            (order(1, 100), "oidc_tx_zzzz"),
            (order(2, 100), "oidc_tx_MMMM"),
            (order(0, 100), "oidc_tx_yyyy"),
        ]);
        assert_eq!(
            eviction_plan(pending.clone(), 4),
            (4, vec!["oidc_tx_yyyy".to_string()])
        );
        assert_eq!(
            eviction_plan(pending.clone(), 2),
            (
                4,
                vec![
                    "oidc_tx_yyyy".into(),
                    "oidc_tx_zzzz".into(),
                    "oidc_tx_MMMM".into()
                ]
            )
        );
        assert_eq!(eviction_plan(pending, 10), (4, vec![]));
    }

    #[test]
    fn numbers_count_on_from_the_highest_pending_one() {
        assert_eq!(eviction_plan(vec![], 4), (0, vec![]));
        let pending = names(&[(order(41, 5), "b"), (order(7, 9), "a")]);
        assert_eq!(eviction_plan(pending, 4), (42, vec![]));
        // Cookies of an earlier release (no number) and unreadable ones go first; a number at
        // the top of the range stays there.
        let pending = names(&[
            (order(u64::MAX, 1), "new"),
            (order(0, 50), "old-release"),
            (order(0, i64::MIN), "unreadable"),
        ]);
        assert_eq!(
            eviction_plan(pending, 2),
            (u64::MAX, vec!["unreadable".into(), "old-release".into()])
        );
        // Ties (two tabs at the same moment): start second, then name.
        let pending = names(&[
            (order(5, 11), "a"),
            (order(5, 10), "b"),
            (order(5, 10), "a"),
        ]);
        assert_eq!(eviction_plan(pending, 2), (6, vec!["a".into(), "b".into()]));
    }

    #[test]
    fn the_number_rides_beside_the_transaction_and_old_cookies_still_parse() {
        let tx = Transaction {
            state: "s".into(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            return_to: "/".into(),
            issuer: "https://op.example".into(),
            created: 7,
            provider: None,
        };
        let json = serde_json::to_string(&Sequenced { tx: &tx, seq: 3 }).unwrap();
        assert_eq!(serde_json::from_str::<Transaction>(&json).unwrap(), tx);
        assert_eq!(serde_json::from_str::<Order>(&json).unwrap(), order(3, 7));
        let old = serde_json::to_string(&tx).unwrap();
        assert_eq!(serde_json::from_str::<Order>(&old).unwrap(), order(0, 7));
    }

    #[test]
    fn a_login_is_fresh_within_its_lifetime_and_never_from_the_future() {
        let now = 1_700_000_000;
        assert!(is_fresh(now, now, 600));
        assert!(is_fresh(now - 600, now, 600));
        assert!(!is_fresh(now - 601, now, 600));
        assert!(is_fresh(now + FUTURE_TOLERANCE_SECS, now, 600));
        assert!(!is_fresh(now + FUTURE_TOLERANCE_SECS + 1, now, 600));
        for created in [i64::MIN, i64::MAX, 1 << 62, -(1 << 62)] {
            assert!(!is_fresh(created, now, 600), "{created}");
        }
    }
}
