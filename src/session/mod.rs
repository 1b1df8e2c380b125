//! The session: what it stores ([`SessionData`]), how it is read back and checked against its
//! lifetimes ([`load`]), written and cleared. The cookie format is in `codec.rs`, names and
//! attributes in `cookies.rs`, the login transaction in `transaction.rs`, a refresh merged in
//! in `merge.rs`.
//!
//! Both live in Rocket private cookies (AES-256-GCM keyed from Rocket's `secret_key`), so they
//! need no server store: any number of instances sharing one `secret_key` serve the same
//! sessions. A session that does not fit one cookie (4096 bytes counting name, value and
//! attributes) is split into numbered chunks; every chunk carries the session's random id and its
//! position, so chunks of two sessions can never be spliced together.

mod binding;
pub(crate) mod codec;
mod cookies;
mod merge;
mod transaction;

pub use binding::SessionBinding;
pub use codec::Stored;
use codec::{decode_chunks, encode_chunks, read_chunks};
pub use cookies::{CookieOptions, MAX_CHUNKS};
pub use merge::{apply_refresh, login_nonce, tokens_differ};
#[cfg(any(test, feature = "internals"))]
pub use transaction::tx_cookie_name;
pub use transaction::Transaction;
pub(crate) use transaction::{take_transaction, write_transaction_for};
// The login writes through `write_transaction_for`; the plain form is for benches and tests.
#[cfg(any(test, feature = "internals"))]
pub use transaction::write_transaction;

use rocket::http::CookieJar;
use rocket::serde::json::serde_json::{Map, Value};
use serde::{Deserialize, Serialize};

use crate::config::ProviderName;

/// What the session stores. Short field names keep the cookie small; the ID token carries the
/// identity claims, which are therefore not stored twice, and userinfo adds only the claims the
/// ID token lacks or states differently. See `encode_body` for the compact form the ID token
/// takes in the cookie.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionData {
    /// The raw ID token.
    #[serde(rename = "i")]
    pub id_token: String,
    /// The access token, when the app keeps it.
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// When the access token expires (Unix seconds).
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub access_expires_at: Option<i64>,
    /// The refresh token, when the app keeps it.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Userinfo claims not already in the ID token with the same value.
    #[serde(rename = "u", default, skip_serializing_if = "Map::is_empty")]
    pub userinfo_extra: Map<String, Value>,
    /// The session's own random id, given when the ID token carries no `sid`: what
    /// `POST /logout` marks as signed out, so that a copy of the cookie dies with it (with a
    /// `sid`, the logout marks the `sid`).
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// When the user signed in (Unix seconds): the absolute lifetime counts from here.
    #[serde(rename = "c")]
    pub created: i64,
    /// When the session was last written (Unix seconds): the idle lifetime counts from here.
    #[serde(rename = "s")]
    pub seen: i64,
    /// The login's `nonce`, kept only once a refreshed ID token without one (Keycloak ≥ 25)
    /// replaced the login's ID token: a later refreshed ID token that has a nonce must repeat
    /// it (OpenID Connect Core §12.2).
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The provider that signed the user in, by name; none for the provider named `default`
    /// (the one provider of a configuration without provider tables), so that such sessions
    /// are as they were before provider tables existed. Stored inline: reading it allocates
    /// nothing.
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderName>,
    /// What the app's login hook stored (`LoginDecision::data`), as JSON.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub app_data: Option<Value>,
}

impl SessionData {
    /// The name of the provider that signed the user in.
    pub fn provider_name(&self) -> &str {
        self.provider
            .as_ref()
            .map_or(ProviderName::DEFAULT, ProviderName::as_str)
    }
}

/// `Debug` shows the times and which tokens are present, never their values.
impl std::fmt::Debug for SessionData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let present = |t: &Option<String>| t.as_ref().map(|_| "<redacted>");
        f.debug_struct("SessionData")
            .field("id_token", &"<redacted>")
            .field("access_token", &present(&self.access_token))
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_token", &present(&self.refresh_token))
            .field(
                "userinfo_extra",
                &self.userinfo_extra.keys().collect::<Vec<_>>(),
            )
            .field(
                "session_id",
                &self.session_id.as_ref().map(|_| "<redacted>"),
            )
            .field("created", &self.created)
            .field("seen", &self.seen)
            .field("nonce", &self.nonce.as_ref().map(|_| "<redacted>"))
            .field("provider", &self.provider_name())
            .field("app_data", &self.app_data.as_ref().map(|_| "<app data>"))
            .finish()
    }
}

/// How long a session lives, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// A session unused this long ends (`oidc.session_idle_timeout_secs`).
    pub idle: i64,
    /// A session ends this long after sign-in (`oidc.session_absolute_timeout_secs`).
    pub absolute: i64,
    /// How far ahead of this instance's clock a session's times may be (`oidc.clock_skew_secs`:
    /// another instance sharing the `secret_key` may have written it with a clock ahead).
    /// Beyond it, the session is stale.
    pub skew: i64,
}

impl Lifetimes {
    /// How long before the idle lifetime is renewed: not on every request (a rewrite costs an
    /// encryption and a `Set-Cookie` header), but well before it runs out.
    fn renewal_interval(&self) -> i64 {
        (self.idle / 20).clamp(1, 300)
    }
}

/// What a request's session cookies hold.
// Returned once per request and consumed at once: boxing the session to shrink the enum would
// cost an allocation on every signed-in request.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    /// No session cookie at all: a visitor.
    None,
    /// Session cookies of this app that give no session: expired, their times out of range,
    /// chunks missing or mixed, a body that does not parse. They should be expired in the
    /// browser.
    Stale,
    /// A session cookie under this app's name that this app's key cannot decrypt: another
    /// app's on the same host (browsers share cookies across ports), one from before a
    /// `secret_key` rotation, or junk. Not signed in here, and left alone: deleting it would
    /// sign the user out of the app it belongs to.
    Foreign,
    /// A session within its lifetimes; `rewrite` when its idle lifetime is due for renewal
    /// ([`renew`]).
    Valid {
        /// The session (with its claims' JSON).
        session: Stored,
        /// Whether to write it again now to slide the idle lifetime.
        rewrite: bool,
    },
}

/// Reads the session from `jar` and checks its lifetimes at `now` (Unix seconds). The times live
/// inside the ciphertext, so a replayed old cookie expires like the browser's own.
pub fn load(jar: &CookieJar<'_>, opts: CookieOptions, lifetimes: Lifetimes, now: i64) -> Loaded {
    if !has_session_cookie(jar, opts) {
        return Loaded::None;
    }
    // The first chunk tells whose session this is: AES-GCM authenticates it with our key.
    let Some(first) = jar.get_private(&opts.session_name(0)) else {
        return Loaded::Foreign;
    };
    let mut first = Some(first.value().to_owned());
    let Some(session) = read_chunks(|i| match i {
        0 => first.take(),
        i => jar
            .get_private(&opts.session_name(i))
            .map(|c| c.value().to_owned()),
    }) else {
        return Loaded::Stale;
    };
    match check(&session.data, lifetimes, now) {
        Some(rewrite) => Loaded::Valid { session, rewrite },
        None => Loaded::Stale,
    }
}

/// The lifetime checks of [`load`] at `now`: `None` when the session has expired, or when its
/// times are beyond `now` + `lifetimes.skew` (no clock wrote them: a session is never
/// accepted for longer than its lifetimes allow), else whether its idle lifetime is due for
/// renewal.
pub fn check(data: &SessionData, lifetimes: Lifetimes, now: i64) -> Option<bool> {
    let latest = now.saturating_add(lifetimes.skew);
    if data.created > latest || data.seen > latest {
        return None;
    }
    let idle_for = now.saturating_sub(data.seen);
    if idle_for > lifetimes.idle || now.saturating_sub(data.created) > lifetimes.absolute {
        return None;
    }
    Some(idle_for >= lifetimes.renewal_interval())
}

/// Slides the idle lifetime: `data` was seen at `now`, and is written again with the rest of
/// its absolute lifetime.
pub fn renew(
    jar: &CookieJar<'_>,
    opts: CookieOptions,
    data: &mut SessionData,
    lifetimes: Lifetimes,
    now: i64,
) -> Result<(), String> {
    data.seen = now;
    let remaining = data
        .created
        .saturating_add(lifetimes.absolute)
        .saturating_sub(now);
    write_session(jar, opts, data, remaining)
}

/// Reads the session from the request's cookies (no expiry check).
pub fn read_session(jar: &CookieJar<'_>, opts: CookieOptions) -> Option<SessionData> {
    decode_chunks(|i| {
        jar.get_private(&opts.session_name(i))
            .map(|c| c.value().to_owned())
    })
}

/// Whether the request carries any session cookie at all.
pub(crate) fn has_session_cookie(jar: &CookieJar<'_>, opts: CookieOptions) -> bool {
    jar.get(&opts.session_name(0)).is_some()
}

/// Writes `data` as the session, replacing whatever session cookies the request carried.
pub fn write_session(
    jar: &CookieJar<'_>,
    opts: CookieOptions,
    data: &SessionData,
    max_age_secs: i64,
) -> Result<(), String> {
    let chunks = encode_chunks(data)?;
    let n = chunks.len();
    for (i, value) in chunks.into_iter().enumerate() {
        jar.add_private(opts.build(opts.session_name(i), value, max_age_secs));
    }
    // Stale chunks of a previous, larger session.
    for i in n..=MAX_CHUNKS {
        let name = opts.session_name(i);
        if jar.get(&name).is_some() {
            jar.remove(opts.removal(name));
        }
    }
    Ok(())
}

/// Expires the request's session chunks if they are this app's (the first decrypts with its
/// key), and leaves a foreign session under the same name alone (see [`Loaded::Foreign`]).
/// Whether there was a session of ours to expire.
pub fn clear_own_session(jar: &CookieJar<'_>, opts: CookieOptions) -> bool {
    let ours = jar.get_private(&opts.session_name(0)).is_some();
    if ours {
        clear_session(jar, opts);
    }
    ours
}

/// Expires every session chunk the request carried, whoever's they are: for the callback,
/// which writes a new session under these names anyway.
pub fn clear_session(jar: &CookieJar<'_>, opts: CookieOptions) {
    for i in 0..=MAX_CHUNKS {
        let name = opts.session_name(i);
        if jar.get(&name).is_some() {
            jar.remove(opts.removal(name));
        }
    }
}

/// Userinfo claims worth storing: those the ID token lacks or states differently.
pub(crate) fn userinfo_delta(
    id_claims: &Map<String, Value>,
    userinfo: Map<String, Value>,
) -> Map<String, Value> {
    userinfo
        .into_iter()
        .filter(|(k, v)| id_claims.get(k) != Some(v))
        .collect()
}

#[cfg(test)]
mod tests;
