//! The cookies' names and attributes, and how much one cookie can carry (RFC 6265).

use rocket::http::{Cookie, SameSite};
use time::{Duration, OffsetDateTime};

use crate::config::{cookie_prefix_problem, DEFAULT_COOKIE_PREFIX, MAX_COOKIE_PREFIX_LEN};

/// What follows the prefix in the name of the first (or only) session cookie; further chunks
/// add `.1`, `.2`, ...
const SESSION_SUFFIX: &str = "_session";
/// What follows the prefix in the name of a login-transaction cookie, one per pending login.
const TX_SUFFIX: &str = "_tx_";
/// The most chunks a session may span (8 × ~2.9 KB of plaintext).
pub const MAX_CHUNKS: usize = 8;
/// What a browser accepts per cookie, counting name, value and attributes (RFC 6265 §6.1).
pub const MAX_COOKIE_BYTES: usize = 4096;
/// The longest name a session chunk can have: `__Host-` + the longest prefix + `_session.8`.
pub(crate) const MAX_NAME_BYTES: usize =
    "__Host-".len() + MAX_COOKIE_PREFIX_LEN + SESSION_SUFFIX.len() + ".8".len();
/// Room kept for `; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=...; Expires=...`.
pub(crate) const ATTRIBUTE_BUDGET: usize = 160;
/// Rocket's private cookies: base64(12-byte nonce ‖ ciphertext ‖ 16-byte tag).
pub(crate) const ENCRYPTION_OVERHEAD: usize = 28;
/// Rocket percent-encodes `/` and `=` in cookie values when it writes `Set-Cookie`, adding two
/// bytes each. `/` is one base64 character in 64 of random data: about 61 in a 3.9 KB value,
/// standard deviation 8. 320 bytes cover 160 of them, more than ten deviations above the mean.
pub(crate) const PERCENT_ENCODING_ALLOWANCE: usize = 320;
/// The longest lifetime a cookie is given: browsers cap `Max-Age` and `Expires` at 400 days
/// (RFC 6265bis §5.6.1, §5.6.2), and a bound keeps the `Expires` arithmetic in range whatever
/// the session's times say.
pub(crate) const MAX_COOKIE_AGE_SECS: i64 = 400 * 24 * 60 * 60;

/// A cookie name prefix (`oidc.cookie_prefix`), kept inline so that [`CookieOptions`] stays
/// `Copy`; valid as `cookie_prefix_problem` in `config/validate.rs` says (ASCII only).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Prefix {
    bytes: [u8; MAX_COOKIE_PREFIX_LEN],
    len: u8,
}

impl Prefix {
    const DEFAULT: Prefix = match Prefix::new(DEFAULT_COOKIE_PREFIX) {
        Some(p) => p,
        None => panic!("the default cookie prefix is valid"),
    };

    const fn new(prefix: &str) -> Option<Prefix> {
        if cookie_prefix_problem(prefix).is_some() {
            return None;
        }
        let src = prefix.as_bytes();
        let mut bytes = [0u8; MAX_COOKIE_PREFIX_LEN];
        let mut i = 0;
        while i < src.len() {
            bytes[i] = src[i];
            i += 1;
        }
        Some(Prefix {
            bytes,
            len: src.len() as u8,
        })
    }

    fn as_str(&self) -> &str {
        // Only ASCII was copied in, so this never falls back.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or(DEFAULT_COOKIE_PREFIX)
    }
}

/// Cookie names and attributes shared by the session and transaction cookies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CookieOptions {
    /// The app is served over https: cookies are `Secure` and their names carry the `__Host-`
    /// prefix, which browsers accept only from the exact origin, over https, with `Path=/` and
    /// no `Domain` — so a sibling subdomain or an injected http response cannot plant a session
    /// or a pending login (RFC 6265bis §4.1.3.2).
    pub secure: bool,
    prefix: Prefix,
}

impl std::fmt::Debug for CookieOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieOptions")
            .field("secure", &self.secure)
            .field("prefix", &self.prefix.as_str())
            .finish()
    }
}

impl CookieOptions {
    /// The default names (`oidc_session`, `oidc_tx_*`), with `Secure` and `__Host-` when
    /// `secure`.
    pub const fn new(secure: bool) -> CookieOptions {
        CookieOptions {
            secure,
            prefix: Prefix::DEFAULT,
        }
    }

    /// The same options with names under `prefix` (`<prefix>_session`, `<prefix>_tx_*`);
    /// `None` unless `prefix` is a valid `oidc.cookie_prefix` (1 to 16 ASCII letters, digits,
    /// `_` or `-`, not starting with `__`).
    pub fn with_prefix(self, prefix: &str) -> Option<CookieOptions> {
        Some(CookieOptions {
            prefix: Prefix::new(prefix)?,
            ..self
        })
    }

    /// The cookie name prefix (`oidc.cookie_prefix`).
    pub fn prefix(&self) -> &str {
        self.prefix.as_str()
    }

    fn host_prefix(&self) -> &'static str {
        if self.secure {
            "__Host-"
        } else {
            ""
        }
    }

    /// The name of session chunk `i`.
    pub(crate) fn session_name(&self, i: usize) -> String {
        let (host, prefix) = (self.host_prefix(), self.prefix());
        if i == 0 {
            format!("{host}{prefix}{SESSION_SUFFIX}")
        } else {
            format!("{host}{prefix}{SESSION_SUFFIX}.{i}")
        }
    }

    /// The name of the transaction cookie for `state`: one cookie per pending login, so
    /// several tabs can log in at once.
    pub(crate) fn tx_name(&self, state: &str) -> String {
        let state: String = state
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(16)
            .collect();
        format!("{}{}{TX_SUFFIX}{state}", self.host_prefix(), self.prefix())
    }

    pub(crate) fn is_tx_name(&self, name: &str) -> bool {
        name.strip_prefix(self.host_prefix())
            .and_then(|n| n.strip_prefix(self.prefix()))
            .is_some_and(|n| n.starts_with(TX_SUFFIX))
    }

    /// Whether `name` is one of this app's cookies: a session chunk or a pending login.
    pub(crate) fn is_own_name(&self, name: &str) -> bool {
        name.strip_prefix(self.host_prefix())
            .and_then(|n| n.strip_prefix(self.prefix()))
            .is_some_and(|n| n.starts_with(SESSION_SUFFIX) || n.starts_with(TX_SUFFIX))
    }

    /// A cookie that expires `name` (it must carry the same `Secure`/prefix rules to be taken).
    pub(crate) fn removal(&self, name: String) -> Cookie<'static> {
        Cookie::build(name).path("/").secure(self.secure).build()
    }

    /// A cookie living `max_age_secs`, clamped to 0..=[`MAX_COOKIE_AGE_SECS`]: the lifetime
    /// may come from a decrypted session's times, and no value of them may panic (an
    /// `Expires` out of `OffsetDateTime`'s range would).
    pub(crate) fn build(&self, name: String, value: String, max_age_secs: i64) -> Cookie<'static> {
        self.build_at(name, value, max_age_secs, OffsetDateTime::now_utc())
    }

    fn build_at(
        &self,
        name: String,
        value: String,
        max_age_secs: i64,
        now: OffsetDateTime,
    ) -> Cookie<'static> {
        let max_age = Duration::seconds(max_age_secs.clamp(0, MAX_COOKIE_AGE_SECS));
        let cookie = Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .secure(self.secure)
            // Lax: the callback arrives as a cross-site top-level navigation from the provider;
            // Rocket's private-cookie default (Strict) would withhold the cookies there.
            .same_site(SameSite::Lax)
            .max_age(max_age);
        // Max-Age wins over Expires in every browser that knows it (RFC 6265 §5.3 step 3);
        // Expires is for the others, and is left out rather than wrong.
        match now.checked_add(max_age) {
            Some(expires) => cookie.expires(expires).build(),
            None => cookie.build(),
        }
    }
}

/// `cookie`, sent with cross-site requests too: `SameSite=None`, which browsers accept only
/// with `Secure` (RFC 6265bis §4.1.2.7), and accept `Secure` only from https origins and
/// `http://localhost` (validation refuses `form_post` on other plain-http origins). Only the
/// pending login of a `form_post` login is made so: the provider's form POST to the callback
/// is a cross-site request, which a `SameSite=Lax` cookie does not accompany.
pub(crate) fn cross_site(mut cookie: Cookie<'static>) -> Cookie<'static> {
    cookie.set_same_site(SameSite::None);
    cookie.set_secure(true);
    cookie
}

/// The largest plaintext per chunk that keeps the encrypted cookie within
/// [`MAX_COOKIE_BYTES`].
pub(crate) fn max_chunk_plaintext(name_len: usize) -> usize {
    let value_budget =
        MAX_COOKIE_BYTES - name_len - 1 - ATTRIBUTE_BUDGET - PERCENT_ENCODING_ALLOWANCE;
    (value_budget / 4) * 3 - ENCRYPTION_OVERHEAD
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_prefix_keeps_the_names_of_earlier_releases() {
        let plain = CookieOptions::new(false);
        assert_eq!(plain.session_name(0), "oidc_session");
        assert_eq!(plain.session_name(3), "oidc_session.3");
        assert_eq!(plain.tx_name("abc"), "oidc_tx_abc");
        let https = CookieOptions::new(true);
        assert_eq!(https.session_name(1), "__Host-oidc_session.1");
        assert_eq!(https.tx_name("abc"), "__Host-oidc_tx_abc");
    }

    #[test]
    fn a_prefix_renames_every_cookie_and_only_its_own_are_transactions() {
        let app = CookieOptions::new(true).with_prefix("billing-2").unwrap();
        assert_eq!(app.session_name(0), "__Host-billing-2_session");
        assert_eq!(app.session_name(8), "__Host-billing-2_session.8");
        assert_eq!(app.tx_name("s"), "__Host-billing-2_tx_s");
        assert!(app.is_tx_name("__Host-billing-2_tx_abc"));
        for other in [
            "__Host-oidc_tx_abc",
            "billing-2_tx_abc",
            "__Host-billing-2_session",
        ] {
            assert!(!app.is_tx_name(other), "{other}");
        }
        assert_eq!(app.prefix(), "billing-2");
        for own in [
            "__Host-billing-2_session",
            "__Host-billing-2_session.3",
            "__Host-billing-2_tx_x",
        ] {
            assert!(app.is_own_name(own), "{own}");
        }
        for other in [
            "__Host-oidc_session",
            "billing-2_session",
            "__Host-billing-2",
            "x",
        ] {
            assert!(!app.is_own_name(other), "{other}");
        }
        assert!(format!("{app:?}").contains("billing-2"));
    }

    #[test]
    fn the_longest_name_is_budgeted() {
        let longest = CookieOptions::new(true)
            .with_prefix(&"x".repeat(MAX_COOKIE_PREFIX_LEN))
            .unwrap()
            .session_name(MAX_CHUNKS);
        assert_eq!(longest.len(), MAX_NAME_BYTES);
    }

    #[test]
    fn any_lifetime_gives_a_cookie_without_panicking() {
        let opts = CookieOptions::new(false);
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let build = |secs| opts.build_at("n".into(), "v".into(), secs, now);
        for (secs, age) in [
            (i64::MIN, 0),
            (-5, 0),
            (0, 0),
            (3600, 3600),
            (1 << 62, MAX_COOKIE_AGE_SECS),
            (i64::MAX, MAX_COOKIE_AGE_SECS),
        ] {
            let cookie = build(secs);
            assert_eq!(cookie.max_age(), Some(Duration::seconds(age)), "{secs}");
            assert_eq!(
                cookie.expires_datetime(),
                Some(now + Duration::seconds(age)),
                "{secs}"
            );
        }
        // At the end of time, Expires is left out rather than wrong.
        let late = opts.build_at(
            "n".into(),
            "v".into(),
            3600,
            time::macros::datetime!(9999-12-31 23:59 UTC),
        );
        assert_eq!(late.max_age(), Some(Duration::seconds(3600)));
        assert_eq!(late.expires_datetime(), None);
    }
}
