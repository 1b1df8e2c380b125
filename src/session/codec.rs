//! The session's plaintext: a compact encoding of [`SessionData`], split into chunks that each
//! fit one cookie and cannot be spliced with another session's.

use std::ops::Range;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::serde::json::serde_json;

use super::cookies::{max_chunk_plaintext, MAX_CHUNKS, MAX_NAME_BYTES};
use super::SessionData;
use crate::util;

/// Marks the compact body: `COMPACT` ‖ `<header length>.<payload length>.` ‖ header JSON ‖
/// payload JSON ‖ rest JSON. The lengths (bytes) spare decoding a scan of the two JSON values.
pub(crate) const COMPACT: &str = ".";

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
    decode_stored(body.to_owned()).map(|stored| stored.data)
}

/// A session read back from its cookies: the stored data, and where its ID token's claims are
/// as JSON text, so that the guards parse them without decoding base64 again.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The session, its ID token rebuilt.
    pub data: SessionData,
    body: String,
    claims: Option<Range<usize>>,
}

impl Stored {
    /// The ID token's payload (its claims) as JSON text, when the session is in the compact
    /// form; `None` for the plain form, whose ID token must be decoded.
    pub fn claims_json(&self) -> Option<&str> {
        self.claims.clone().and_then(|r| self.body.get(r))
    }
}

/// Parses a session plaintext (owned, so that the claims can stay in it).
fn decode_stored(body: String) -> Option<Stored> {
    let Some(compact) = body.strip_prefix(COMPACT) else {
        return Some(Stored {
            data: serde_json::from_str(&body).ok()?,
            body: String::new(),
            claims: None,
        });
    };
    let (header_len, rest) = compact.split_once('.')?;
    let (payload_len, rest) = rest.split_once('.')?;
    let start = body.len() - rest.len();
    let header_end: usize = header_len.parse().ok()?;
    let payload_end = header_end.checked_add(payload_len.parse().ok()?)?;
    let is_object = |v: &str| v.starts_with('{') && v.ends_with('}');
    let (header, payload) = (rest.get(..header_end)?, rest.get(header_end..payload_end)?);
    if !is_object(header) || !is_object(payload) {
        return None;
    }
    let mut data: SessionData = serde_json::from_str(rest.get(payload_end..)?).ok()?;
    if data.id_token.contains('.') {
        return None;
    }
    // The ID token again, in one allocation: header and payload to base64url, then the
    // signature segment that was stored as it is.
    let mut id_token =
        String::with_capacity((header.len() + payload.len()) * 4 / 3 + data.id_token.len() + 4);
    URL_SAFE_NO_PAD.encode_string(header, &mut id_token);
    id_token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut id_token);
    id_token.push('.');
    id_token.push_str(&data.id_token);
    data.id_token = id_token;
    let claims = start + header_end..start + payload_end;
    Some(Stored {
        data,
        body,
        claims: Some(claims),
    })
}

/// Splits the serialized session (`encode_body`) into chunk plaintexts, each `sid~i~n~data`.
pub fn encode_chunks(data: &SessionData) -> Result<Vec<String>, String> {
    let json = encode_body(data)?;
    let sid = util::random_token(8);
    let header_len = sid.len() + 8;
    // Sized for the longest name a chunk can have (`__Host-<longest prefix>_session.8`), so
    // that the chunks fit whatever `oidc.cookie_prefix` the app sets.
    let room = max_chunk_plaintext(MAX_NAME_BYTES) - header_len;
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
pub fn decode_chunks(get: impl FnMut(usize) -> Option<String>) -> Option<SessionData> {
    read_chunks(get).map(|stored| stored.data)
}

/// [`decode_chunks`], keeping where the claims are.
pub(crate) fn read_chunks(mut get: impl FnMut(usize) -> Option<String>) -> Option<Stored> {
    let mut first = get(0)?;
    let (sid, idx, n, data) = split_chunk(&first)?;
    if idx != 0 || n == 0 || n > MAX_CHUNKS {
        return None;
    }
    if n == 1 {
        // The usual case: the body is the first chunk after its header, with no copy.
        let header = first.len() - data.len();
        first.drain(..header);
        return decode_stored(first);
    }
    let (sid, mut json) = (sid.to_owned(), String::from(data));
    for i in 1..n {
        let chunk = get(i)?;
        let (sid_i, idx_i, n_i, data_i) = split_chunk(&chunk)?;
        if sid_i != sid || idx_i != i || n_i != n {
            return None;
        }
        json.push_str(data_i);
    }
    decode_stored(json)
}

fn split_chunk(chunk: &str) -> Option<(&str, usize, usize, &str)> {
    let mut parts = chunk.splitn(4, '~');
    let sid = parts.next()?;
    let idx = parts.next()?.parse().ok()?;
    let n = parts.next()?.parse().ok()?;
    let data = parts.next()?;
    Some((sid, idx, n, data))
}
