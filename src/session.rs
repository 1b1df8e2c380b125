//! The session and login-transaction cookie formats.
//!
//! Both live in Rocket private cookies (AES-256-GCM keyed from Rocket's `secret_key`), so they
//! need no server store: any number of instances sharing one `secret_key` serve the same
//! sessions. A session that does not fit one cookie (4096 bytes counting name, value and
//! attributes) is split into numbered chunks; every chunk carries the session's random id and its
//! position, so chunks of two sessions can never be spliced together.

use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::serde::json::serde_json::{self, Map, Value};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::util;

/// Name of the first (or only) session cookie; further chunks are `oidc_session.1`, `.2`, ...
pub const SESSION_COOKIE: &str = "oidc_session";
/// Prefix of the login-transaction cookies, one per pending login (`oidc_tx_<state prefix>`).
pub const TX_COOKIE_PREFIX: &str = "oidc_tx_";
/// The most chunks a session may span (8 × ~2.9 KB of plaintext).
pub const MAX_CHUNKS: usize = 8;
/// What a browser accepts per cookie, counting name, value and attributes (RFC 6265 §6.1).
pub const MAX_COOKIE_BYTES: usize = 4096;
/// Room kept for `; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=...; Expires=...`.
const ATTRIBUTE_BUDGET: usize = 160;
/// Rocket's private cookies: base64(12-byte nonce ‖ ciphertext ‖ 16-byte tag).
const ENCRYPTION_OVERHEAD: usize = 28;
/// Rocket percent-encodes `/` and `=` in cookie values when it writes `Set-Cookie`, adding two
/// bytes each. `/` is one base64 character in 64 of random data: about 61 in a 3.9 KB value,
/// standard deviation 8. 320 bytes cover 160 of them, more than ten deviations above the mean.
const PERCENT_ENCODING_ALLOWANCE: usize = 320;

/// What the session stores. Short field names keep the cookie small; the ID token is kept raw
/// (it carries the identity claims, which are therefore not stored twice) and userinfo adds only
/// the claims the ID token lacks or states differently.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
    /// When the user signed in (Unix seconds): the absolute lifetime counts from here.
    #[serde(rename = "c")]
    pub created: i64,
    /// When the session was last written (Unix seconds): the idle lifetime counts from here.
    #[serde(rename = "s")]
    pub seen: i64,
}

/// Cookie attributes shared by the session and transaction cookies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CookieOptions {
    pub secure: bool,
}

impl CookieOptions {
    fn build(&self, name: String, value: String, max_age_secs: i64) -> Cookie<'static> {
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

/// The largest plaintext per chunk that keeps the encrypted cookie within
/// [`MAX_COOKIE_BYTES`].
pub(crate) fn max_chunk_plaintext(name_len: usize) -> usize {
    let value_budget =
        MAX_COOKIE_BYTES - name_len - 1 - ATTRIBUTE_BUDGET - PERCENT_ENCODING_ALLOWANCE;
    (value_budget / 4) * 3 - ENCRYPTION_OVERHEAD
}

fn chunk_name(i: usize) -> String {
    if i == 0 {
        SESSION_COOKIE.to_owned()
    } else {
        format!("{SESSION_COOKIE}.{i}")
    }
}

/// Splits the serialized session into chunk plaintexts, each `sid~i~n~data`.
pub fn encode_chunks(data: &SessionData) -> Result<Vec<String>, String> {
    let json = serde_json::to_string(data).map_err(|e| e.to_string())?;
    let sid = util::random_token(8);
    let header_len = sid.len() + 8;
    let room = max_chunk_plaintext(chunk_name(MAX_CHUNKS).len()) - header_len;
    let mut pieces = Vec::new();
    let mut rest = json.as_str();
    while !rest.is_empty() {
        let mut cut = room.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        pieces.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    if pieces.len() > MAX_CHUNKS {
        return Err(format!(
            "the session needs {} bytes, more than {MAX_CHUNKS} cookies can carry; set \
             oidc.keep_refresh_token / oidc.keep_access_token = false or request fewer claims",
            json.len()
        ));
    }
    let n = pieces.len();
    Ok(pieces
        .into_iter()
        .enumerate()
        .map(|(i, p)| format!("{sid}~{i}~{n}~{p}"))
        .collect())
}

/// Reassembles a session from the chunks `get(i)` returns; `None` for anything missing,
/// mismatched or malformed.
pub fn decode_chunks(mut get: impl FnMut(usize) -> Option<String>) -> Option<SessionData> {
    let first = get(0)?;
    let (sid, idx, n, data) = split_chunk(&first)?;
    if idx != 0 || n == 0 || n > MAX_CHUNKS {
        return None;
    }
    let mut json = String::from(data);
    for i in 1..n {
        let chunk = get(i)?;
        let (sid_i, idx_i, n_i, data_i) = split_chunk(&chunk)?;
        if sid_i != sid || idx_i != i || n_i != n {
            return None;
        }
        json.push_str(data_i);
    }
    serde_json::from_str(&json).ok()
}

fn split_chunk(chunk: &str) -> Option<(&str, usize, usize, &str)> {
    let mut parts = chunk.splitn(4, '~');
    let sid = parts.next()?;
    let idx = parts.next()?.parse().ok()?;
    let n = parts.next()?.parse().ok()?;
    let data = parts.next()?;
    Some((sid, idx, n, data))
}

/// Reads the session from the request's cookies (no expiry check).
pub(crate) fn read_session(jar: &CookieJar<'_>) -> Option<SessionData> {
    decode_chunks(|i| {
        jar.get_private(&chunk_name(i))
            .map(|c| c.value().to_owned())
    })
}

/// Writes `data` as the session, replacing whatever session cookies the request carried.
pub(crate) fn write_session(
    jar: &CookieJar<'_>,
    opts: CookieOptions,
    data: &SessionData,
    max_age_secs: i64,
) -> Result<(), String> {
    let chunks = encode_chunks(data)?;
    let n = chunks.len();
    for (i, value) in chunks.into_iter().enumerate() {
        jar.add_private(opts.build(chunk_name(i), value, max_age_secs));
    }
    // Stale chunks of a previous, larger session.
    for i in n..=MAX_CHUNKS {
        let name = chunk_name(i);
        if jar.get(&name).is_some() {
            jar.remove(Cookie::build(name).path("/"));
        }
    }
    Ok(())
}

/// Expires every session chunk the request carried.
pub(crate) fn clear_session(jar: &CookieJar<'_>) {
    for i in 0..=MAX_CHUNKS {
        let name = chunk_name(i);
        if jar.get(&name).is_some() {
            jar.remove(Cookie::build(name).path("/"));
        }
    }
}

/// A pending login: what the callback must find to accept an authorization response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Transaction {
    #[serde(rename = "s")]
    pub state: String,
    #[serde(rename = "n")]
    pub nonce: String,
    #[serde(rename = "v")]
    pub pkce_verifier: String,
    #[serde(rename = "r")]
    pub return_to: String,
    #[serde(rename = "i")]
    pub issuer: String,
    #[serde(rename = "t")]
    pub created: i64,
}

/// The cookie name of the transaction for `state`. Every tab's login gets its own cookie, so
/// several tabs can log in at once.
pub(crate) fn tx_cookie_name(state: &str) -> String {
    let prefix: String = state
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(16)
        .collect();
    format!("{TX_COOKIE_PREFIX}{prefix}")
}

/// Stores a new transaction, removing the oldest pending ones beyond `max_pending`.
pub(crate) fn write_transaction(
    jar: &CookieJar<'_>,
    opts: CookieOptions,
    tx: &Transaction,
    lifetime_secs: i64,
    max_pending: usize,
) -> Result<(), String> {
    let mut pending: Vec<(i64, String)> = jar
        .iter()
        .filter(|c| c.name().starts_with(TX_COOKIE_PREFIX))
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
        jar.remove(Cookie::build(name).path("/"));
    }
    let value = serde_json::to_string(tx).map_err(|e| e.to_string())?;
    jar.add_private(opts.build(tx_cookie_name(&tx.state), value, lifetime_secs));
    Ok(())
}

/// Takes the transaction for `state` out of the jar: it is removed whatever happens next, so a
/// replayed callback finds nothing. Checks the state in constant time and the age.
pub(crate) fn take_transaction(
    jar: &CookieJar<'_>,
    state: &str,
    lifetime_secs: i64,
) -> Option<Transaction> {
    let name = tx_cookie_name(state);
    jar.get(&name)?;
    jar.remove(Cookie::build(name.clone()).path("/"));
    let tx: Transaction = serde_json::from_str(jar.get_private(&name)?.value()).ok()?;
    let fresh = util::now_unix().saturating_sub(tx.created) <= lifetime_secs;
    (fresh && util::constant_time_eq(&tx.state, state)).then_some(tx)
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
