//! The cookies' names and attributes, and how much one cookie can carry (RFC 6265).

use rocket::http::{Cookie, SameSite};
use time::{Duration, OffsetDateTime};

/// Name of the first (or only) session cookie; further chunks are `oidc_session.1`, `.2`, ...
pub const SESSION_COOKIE: &str = "oidc_session";
/// Prefix of the login-transaction cookies, one per pending login (`oidc_tx_<state prefix>`).
pub const TX_COOKIE_PREFIX: &str = "oidc_tx_";
/// The most chunks a session may span (8 × ~2.9 KB of plaintext).
pub const MAX_CHUNKS: usize = 8;
/// What a browser accepts per cookie, counting name, value and attributes (RFC 6265 §6.1).
pub const MAX_COOKIE_BYTES: usize = 4096;
/// Room kept for `; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=...; Expires=...`.
pub(crate) const ATTRIBUTE_BUDGET: usize = 160;
/// Rocket's private cookies: base64(12-byte nonce ‖ ciphertext ‖ 16-byte tag).
pub(crate) const ENCRYPTION_OVERHEAD: usize = 28;
/// Rocket percent-encodes `/` and `=` in cookie values when it writes `Set-Cookie`, adding two
/// bytes each. `/` is one base64 character in 64 of random data: about 61 in a 3.9 KB value,
/// standard deviation 8. 320 bytes cover 160 of them, more than ten deviations above the mean.
pub(crate) const PERCENT_ENCODING_ALLOWANCE: usize = 320;

/// Cookie names and attributes shared by the session and transaction cookies.
#[derive(Debug, Clone, Copy)]
pub struct CookieOptions {
    /// The app is served over https: cookies are `Secure` and their names carry the `__Host-`
    /// prefix, which browsers accept only from the exact origin, over https, with `Path=/` and
    /// no `Domain` — so a sibling subdomain or an injected http response cannot plant a session
    /// or a pending login (RFC 6265bis §4.1.3.2).
    pub secure: bool,
}

impl CookieOptions {
    fn prefix(&self) -> &'static str {
        if self.secure {
            "__Host-"
        } else {
            ""
        }
    }

    /// The name of session chunk `i`.
    pub(crate) fn session_name(&self, i: usize) -> String {
        format!("{}{}", self.prefix(), chunk_name(i))
    }

    /// The name of the transaction cookie for `state`.
    pub(crate) fn tx_name(&self, state: &str) -> String {
        format!("{}{}", self.prefix(), super::tx_cookie_name(state))
    }

    pub(crate) fn is_tx_name(&self, name: &str) -> bool {
        name.strip_prefix(self.prefix())
            .is_some_and(|n| n.starts_with(TX_COOKIE_PREFIX))
    }

    /// A cookie that expires `name` (it must carry the same `Secure`/prefix rules to be taken).
    pub(crate) fn removal(&self, name: String) -> Cookie<'static> {
        Cookie::build(name).path("/").secure(self.secure).build()
    }

    pub(crate) fn build(&self, name: String, value: String, max_age_secs: i64) -> Cookie<'static> {
        let max_age = Duration::seconds(max_age_secs.max(0));
        Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .secure(self.secure)
            // Lax: the callback arrives as a cross-site top-level navigation from the provider;
            // Rocket's private-cookie default (Strict) would withhold the cookies there.
            .same_site(SameSite::Lax)
            .max_age(max_age)
            .expires(OffsetDateTime::now_utc() + max_age)
            .build()
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

pub(crate) fn chunk_name(i: usize) -> String {
    if i == 0 {
        SESSION_COOKIE.to_owned()
    } else {
        format!("{SESSION_COOKIE}.{i}")
    }
}
