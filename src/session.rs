//! The session and login-transaction cookie formats.
//!
//! Both live in Rocket private cookies (AES-256-GCM keyed from Rocket's `secret_key`), so they
//! need no server store: any number of instances sharing one `secret_key` serve the same
//! sessions. A session that does not fit one cookie (4096 bytes counting name, value and
//! attributes) is split into numbered chunks; every chunk carries the session's random id and its
//! position, so chunks of two sessions can never be spliced together.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
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
    /// When the user signed in (Unix seconds): the absolute lifetime counts from here.
    #[serde(rename = "c")]
    pub created: i64,
    /// When the session was last written (Unix seconds): the idle lifetime counts from here.
    #[serde(rename = "s")]
    pub seen: i64,
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
            .field("created", &self.created)
            .field("seen", &self.seen)
            .finish()
    }
}

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
        format!("{}{}", self.prefix(), tx_cookie_name(state))
    }

    fn is_tx_name(&self, name: &str) -> bool {
        name.strip_prefix(self.prefix())
            .is_some_and(|n| n.starts_with(TX_COOKIE_PREFIX))
    }

    /// A cookie that expires `name` (it must carry the same `Secure`/prefix rules to be taken).
    fn removal(&self, name: String) -> Cookie<'static> {
        Cookie::build(name).path("/").secure(self.secure).build()
    }

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

/// Marks the compact body: `COMPACT` ‖ `<header length>.<payload length>.` ‖ header JSON ‖
/// payload JSON ‖ rest JSON. The lengths (bytes) spare decoding a scan of the two JSON values.
const COMPACT: &str = ".";

/// The session's plaintext. Compact when the ID token allows it: its header and payload are
/// stored as the JSON they encode, not as base64url text (which the cookie's own base64 would
/// inflate a second time), followed by the other fields as JSON with `i` holding the
/// signature segment alone. A JWS compact serialization is base64url without padding (RFC 7515
/// §7.1), so re-encoding on read gives the token back byte for byte; a token that does not
/// round-trip exactly (non-canonical base64url, whitespace around its JSON) is stored as it is,
/// as plain JSON.
pub fn encode_body(data: &SessionData) -> Result<String, String> {
    if let Some(body) = compact_body(data) {
        if decode_body(&body).as_ref() == Some(data) {
            return Ok(body);
        }
    }
    serde_json::to_string(data).map_err(|e| e.to_string())
}

fn compact_body(data: &SessionData) -> Option<String> {
    let mut segments = data.id_token.split('.');
    let (header, payload, signature) = (segments.next()?, segments.next()?, segments.next()?);
    if segments.next().is_some() {
        return None;
    }
    let header = String::from_utf8(URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let rest = SessionData {
        id_token: signature.to_owned(),
        ..data.clone()
    };
    let rest = serde_json::to_string(&rest).ok()?;
    Some(format!(
        "{COMPACT}{}.{}.{header}{payload}{rest}",
        header.len(),
        payload.len()
    ))
}

/// Parses a session plaintext, compact or plain JSON; `None` for anything malformed.
pub fn decode_body(body: &str) -> Option<SessionData> {
    let Some(compact) = body.strip_prefix(COMPACT) else {
        return serde_json::from_str(body).ok();
    };
    let (header_len, compact) = compact.split_once('.')?;
    let (payload_len, compact) = compact.split_once('.')?;
    let header_end: usize = header_len.parse().ok()?;
    let payload_end = header_end.checked_add(payload_len.parse().ok()?)?;
    let is_object = |v: &str| v.starts_with('{') && v.ends_with('}');
    if !is_object(compact.get(..header_end)?) || !is_object(compact.get(header_end..payload_end)?) {
        return None;
    }
    let mut data: SessionData = serde_json::from_str(compact.get(payload_end..)?).ok()?;
    let signature = std::mem::take(&mut data.id_token);
    if signature.contains('.') {
        return None;
    }
    data.id_token = format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(&compact[..header_end]),
        URL_SAFE_NO_PAD.encode(&compact[header_end..payload_end])
    );
    Some(data)
}

/// Splits the serialized session (`encode_body`) into chunk plaintexts, each `sid~i~n~data`.
pub fn encode_chunks(data: &SessionData) -> Result<Vec<String>, String> {
    let json = encode_body(data)?;
    let sid = util::random_token(8);
    let header_len = sid.len() + 8;
    // The longest name a chunk can have: `__Host-oidc_session.8`.
    let room = max_chunk_plaintext("__Host-".len() + chunk_name(MAX_CHUNKS).len()) - header_len;
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
             oidc.keep_refresh_token / oidc.keep_access_token = false, oidc.fetch_userinfo = \
             false, or request fewer claims",
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
    decode_body(&json)
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

/// Expires every session chunk the request carried.
pub fn clear_session(jar: &CookieJar<'_>, opts: CookieOptions) {
    for i in 0..=MAX_CHUNKS {
        let name = opts.session_name(i);
        if jar.get(&name).is_some() {
            jar.remove(opts.removal(name));
        }
    }
}

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
    jar.add_private(opts.build(opts.tx_name(&tx.state), value, lifetime_secs));
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
