//! Claims into the app's type: serde with the path of the claim that failed
//! (`serde_path_to_error`), and distributed claims (OpenID Connect Core §5.6.2) told apart from
//! missing ones. Also the payload of a compact JWS, unverified (see `ClaimSource` for why).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::serde::json::serde_json::{self, Map, Value};
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

use super::{short, ClaimSource, ClaimsError};

/// Decodes `T` from a source's claims. A field of `T` that the claims lack but name in
/// `_claim_names` is a [`ClaimsError::Distributed`], whether or not `T` could do without it: an
/// empty `groups` list in place of an overage would be a wrong answer, not a missing claim.
pub(super) fn decode<T: DeserializeOwned>(
    claims: &Map<String, Value>,
    source: ClaimSource,
) -> Result<T, ClaimsError> {
    if let Some(fields) = struct_fields::<T>() {
        for field in fields {
            if !claims.contains_key(*field) {
                if let Some(e) = distributed(claims, field, source) {
                    return Err(e);
                }
            }
        }
    }
    serde_path_to_error::deserialize(claims).map_err(|e| into_claims_error(e, source))
}

/// Decodes `T` from any JSON value (the login hook's app data).
pub(super) fn decode_value<T: DeserializeOwned>(
    value: &Value,
    source: ClaimSource,
) -> Result<T, ClaimsError> {
    serde_path_to_error::deserialize(value).map_err(|e| into_claims_error(e, source))
}

/// The error naming the claim: its path, or for a missing field the field under that path.
fn into_claims_error(
    e: serde_path_to_error::Error<serde_json::Error>,
    source: ClaimSource,
) -> ClaimsError {
    let path = e.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let reason = e.into_inner().to_string();
    // serde's words for a required field that is absent (`de::Error::missing_field`).
    let missing = reason
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'));
    match missing {
        Some(field) if path.is_empty() => ClaimsError::Missing {
            source,
            claim: field.to_owned(),
        },
        Some(field) => ClaimsError::Missing {
            source,
            claim: format!("{path}.{field}"),
        },
        None => ClaimsError::Invalid {
            source,
            claim: path,
            reason: short(&reason),
        },
    }
}

/// The distributed-claim error for `claim`, if `claims` names it in `_claim_names` (OpenID
/// Connect Core §5.6.2): with the endpoint of its `_claim_sources` entry when it has one (a
/// distributed claim; an aggregated one carries a JWT instead, which is never copied here).
pub(crate) fn distributed(
    claims: &Map<String, Value>,
    claim: &str,
    source: ClaimSource,
) -> Option<ClaimsError> {
    let source_name = claims.get("_claim_names")?.get(claim)?;
    let endpoint = source_name
        .as_str()
        .and_then(|name| claims.get("_claim_sources")?.get(name)?.get("endpoint"))
        .and_then(Value::as_str)
        .map(short);
    Some(ClaimsError::Distributed {
        source,
        claim: claim.to_owned(),
        endpoint,
    })
}

/// The payload of a compact JWS (RFC 7515 §7.1), as a JSON object; the signature is not looked
/// at. The error completes "the token ...".
pub(super) fn jwt_payload(token: &str) -> Result<Map<String, Value>, &'static str> {
    let segments: Vec<&str> = token.split('.').collect();
    match segments.len() {
        3 => {}
        // RFC 7516 §7.1: a JWE has five parts.
        5 => return Err("is encrypted (a JWE), so its claims cannot be read"),
        _ => return Err("is not a JWT"),
    }
    let payload = URL_SAFE_NO_PAD
        .decode(segments[1].trim_end_matches('='))
        .map_err(|_| "is not a JWT (its payload is not base64url)")?;
    match serde_json::from_slice(&payload) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err("is not a JWT (its payload is not a JSON object)"),
    }
}

/// The field names `T`'s `Deserialize` asks a struct for; `None` when `T` is not a struct
/// (a map, a `#[serde(flatten)]` struct, a value). Found by letting `T` ask a deserializer that
/// only records the question.
pub(super) fn struct_fields<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    match T::deserialize(FieldsProbe) {
        Err(Probed(fields)) => fields,
        Ok(_) => None,
    }
}

struct FieldsProbe;

/// The probe's answer, carried as its error.
#[derive(Debug)]
struct Probed(Option<&'static [&'static str]>);

impl fmt::Display for Probed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("probed")
    }
}

impl std::error::Error for Probed {}

impl de::Error for Probed {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Probed(None)
    }
}

impl<'de> Deserializer<'de> for FieldsProbe {
    type Error = Probed;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        Err(Probed(None))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Probed> {
        Err(Probed(Some(fields)))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
