//! Structured input: any session the callback can write (arbitrary tokens, timestamps and
//! userinfo claims) encodes into chunks that decode to the same session; dropping, reordering
//! or splicing in another session's chunks never decodes.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rocket_openid_connect::__internals::{decode_chunks, encode_chunks, SessionData};
use serde_json::{Map, Value};

/// A JSON value without floats' text round-trip question (integers, strings, bools, nesting).
#[derive(Debug, Arbitrary)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn into_value(self, depth: u32) -> Value {
        if depth > 8 {
            return Value::Null;
        }
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Int(i) => Value::from(i),
            Json::UInt(u) => Value::from(u),
            // NaN and infinities have no JSON form (serde_json makes them null).
            Json::Float(f) => Value::from(f),
            Json::Str(s) => Value::String(s),
            Json::Array(a) => {
                Value::Array(a.into_iter().map(|j| j.into_value(depth + 1)).collect())
            }
            Json::Object(o) => Value::Object(
                o.into_iter()
                    .map(|(k, v)| (k, v.into_value(depth + 1)))
                    .collect(),
            ),
        }
    }
}

#[derive(Debug, Arbitrary)]
struct Input {
    id_token: String,
    access_token: Option<String>,
    access_expires_at: Option<i64>,
    refresh_token: Option<String>,
    userinfo_extra: Vec<(String, Json)>,
    session_id: Option<String>,
    created: i64,
    seen: i64,
    /// Which chunk to tamper with, and how.
    tamper: Option<(u8, u8)>,
    /// Last, so that the seeds written before it decode as before.
    nonce: Option<String>,
}

fuzz_target!(|input: Input| {
    let userinfo_extra: Map<String, Value> = input
        .userinfo_extra
        .into_iter()
        .map(|(k, v)| (k, v.into_value(0)))
        .collect();
    let session = SessionData {
        id_token: input.id_token,
        access_token: input.access_token,
        access_expires_at: input.access_expires_at,
        refresh_token: input.refresh_token,
        userinfo_extra,
        session_id: input.session_id,
        created: input.created,
        seen: input.seen,
        nonce: input.nonce,
        provider: None,
        app_data: None,
    };
    let Ok(chunks) = encode_chunks(&session) else {
        return; // too large for the cookies: refused with a message, fine
    };
    let decoded = decode_chunks(|i| chunks.get(i).cloned());
    assert_eq!(decoded.as_ref(), Some(&session), "round trip");

    // What an attacker can do to the chunks: each is an AEAD-encrypted cookie, so not edit one,
    // but drop, reorder or replace whole chunks, e.g. with chunks of another session of theirs
    // (same data here, so only the splice itself can be caught).
    if let Some((which, how)) = input.tamper {
        let mut tampered = chunks.clone();
        let i = which as usize % tampered.len();
        match how % 3 {
            0 => {
                tampered.remove(i);
            }
            1 => tampered.swap(i, (i + 1) % chunks.len()),
            _ => {
                let other = encode_chunks(&session).expect("encoded once already");
                tampered[i] = other[i].clone();
            }
        }
        if tampered != chunks {
            let result = decode_chunks(|i| tampered.get(i).cloned());
            assert!(
                result.is_none() || (chunks.len() == 1 && result.as_ref() == Some(&session)),
                "tampered chunks decoded: {result:?}"
            );
        }
    }
});
