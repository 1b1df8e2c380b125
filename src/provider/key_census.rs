//! Which keys of a JSON Web Key Set can verify an ID-token signature, sorted before any is
//! parsed: a provider's JWKS also carries encryption and key-agreement keys (Keycloak's
//! `RSA-OAEP` key, PayPal's X25519 key), which are no fault of the provider and no concern of a
//! relying party that only verifies signatures (issue 12, item 9).

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, NO_PAD};
use base64::Engine as _;
use openidconnect::core::CoreJsonWebKey;
use rocket::serde::json::serde_json::{self, Value};

use crate::util;

/// The JWS algorithms of RFC 7518 §3.1, RFC 8037 §3.1 (`EdDSA`) and RFC 8812 §3.2 (`ES256K`):
/// an `alg` outside this list names a JWE key-management algorithm (`RSA-OAEP`, `ECDH-ES`,
/// `A128KW`, `dir`, ...), so the key is for encryption.
const JWS_ALGS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256",
    "PS384", "PS512", "EdDSA", "ES256K", "none",
];

/// The JWS algorithms this crate verifies with a published (public) key.
const VERIFIABLE_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// What a key set holds, sorted.
#[derive(Debug, Default)]
pub(crate) struct KeyCensus {
    /// Keys that can verify a signature, parsed: the only ones kept.
    pub signing: Vec<CoreJsonWebKey>,
    /// Keys for encryption or key agreement, or symmetric keys: never used, nothing to report.
    pub not_for_signing: Vec<String>,
    /// Signing keys of a kind this crate cannot verify (EC P-521, Ed448, ...), described.
    pub unsupported: Vec<String>,
    /// Signing keys (or entries) that are malformed, described.
    pub malformed: Vec<String>,
}

/// What one key is, before it is parsed.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// For encryption or key agreement (RFC 7517 §4.2, §4.3; RFC 8037 §3.2), or symmetric.
    NotForSigning(&'static str),
    /// A signing key this crate cannot verify with.
    Unsupported(String),
    /// A signing key to parse.
    Signing,
    /// Not a JWK at all.
    Malformed(&'static str),
}

/// Sorts the `keys` member of a JWK Set (RFC 7517 §5).
pub(crate) fn census(keys: Vec<Value>) -> KeyCensus {
    let mut out = KeyCensus::default();
    for key in keys {
        let name = describe(&key);
        match classify(&key) {
            Kind::NotForSigning(why) => out.not_for_signing.push(format!("{name}: {why}")),
            Kind::Unsupported(why) => out.unsupported.push(format!("{name}: {why}")),
            Kind::Malformed(why) => out.malformed.push(format!("{name}: {why}")),
            Kind::Signing => match key_material(key) {
                Err(why) => out.malformed.push(format!("{name}: {why}")),
                Ok(key) => match serde_json::from_value::<CoreJsonWebKey>(key) {
                    Ok(parsed) => out.signing.push(parsed),
                    Err(e) => out
                        .malformed
                        .push(format!("{name}: {}", util::truncate(&e.to_string(), 120))),
                },
            },
        }
    }
    out
}

impl KeyCensus {
    /// `1 encryption key(s) ignored` etc. for the launch line: empty when every key signs.
    pub(crate) fn others(&self) -> String {
        let mut parts = Vec::new();
        if !self.not_for_signing.is_empty() {
            parts.push(format!(
                "{} encryption key(s) ignored",
                self.not_for_signing.len()
            ));
        }
        if !self.unsupported.is_empty() {
            parts.push(format!("{} unsupported", self.unsupported.len()));
        }
        if !self.malformed.is_empty() {
            parts.push(format!("{} malformed", self.malformed.len()));
        }
        parts.join(", ")
    }

    /// Logs what was left out: encryption keys at debug (they are normal), unsupported signing
    /// keys at info (tokens signed with them will be refused), malformed ones at warn.
    pub(crate) fn log(&self, uri: &str) {
        for key in &self.not_for_signing {
            log::debug!("OpenID Connect: JWKS {uri}: ignored {key}");
        }
        if !self.unsupported.is_empty() {
            log::info!(
                "OpenID Connect: the JWKS at {uri} holds {} signing key(s) this crate cannot \
                 verify with, and ID tokens signed with them will be refused: {}",
                self.unsupported.len(),
                self.unsupported.join("; ")
            );
        }
        if !self.malformed.is_empty() {
            log::warn!(
                "OpenID Connect: skipped {} signing key(s) of the JWKS at {uri} that could not \
                 be parsed: {}",
                self.malformed.len(),
                self.malformed.join("; ")
            );
        }
    }
}

/// `key kid=… (RSA)`, for messages: the `kid` and `kty` only, cut short (a public key is no
/// secret, but it is long and untrusted).
fn describe(key: &Value) -> String {
    let kty = key["kty"].as_str().map(|k| util::truncate(k, 16));
    match (key["kid"].as_str(), kty) {
        (Some(kid), Some(kty)) => format!("key `{}` ({kty})", util::truncate(kid, 64)),
        (Some(kid), None) => format!("key `{}`", util::truncate(kid, 64)),
        (None, Some(kty)) => format!("a {kty} key without kid"),
        (None, None) => "an entry without kid or kty".into(),
    }
}

/// Checks the public-key members of a signing key (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2) and
/// rewrites them as RFC 7515 §2 base64url (no padding) when they are padded or in standard
/// base64: Battle.net publishes its RSA moduli that way, and openidconnect silently drops a
/// member it cannot decode, which leaves a key that verifies nothing. The two alphabets differ
/// only in `+`/`-` and `/`/`_`, so the bytes are the same either way.
fn key_material(mut key: Value) -> Result<Value, String> {
    let required: &[&str] = match key["kty"].as_str() {
        Some("RSA") => &["n", "e"],
        Some("EC") => &["x", "y"],
        _ => &["x"],
    };
    // openidconnect's own decoder: base64url, no padding, trailing bits allowed.
    let engine = GeneralPurpose::new(&URL_SAFE, NO_PAD.with_decode_allow_trailing_bits(true));
    for member in required {
        let Some(text) = key[*member].as_str() else {
            return Err(format!("no `{member}`"));
        };
        let normalized: String = text
            .trim_end_matches('=')
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect();
        if normalized.is_empty() || engine.decode(&normalized).is_err() {
            return Err(format!("`{member}` is not base64url"));
        }
        if normalized != text {
            log::debug!(
                "OpenID Connect: JWKS: `{member}` of {} is not unpadded base64url; read as base64",
                describe(&key)
            );
            key[*member] = Value::String(normalized);
        }
    }
    Ok(key)
}

fn classify(key: &Value) -> Kind {
    if !key.is_object() {
        return Kind::Malformed("not a JSON object");
    }
    let text = |name: &str| key.get(name).and_then(Value::as_str);
    // RFC 7517 §4.2: "enc" (or any other use) is not for signatures.
    match key.get("use") {
        None => {}
        Some(Value::String(u)) if u == "sig" => {}
        Some(Value::String(_)) => return Kind::NotForSigning("`use` is not `sig`"),
        Some(_) => return Kind::Malformed("`use` is not a string"),
    }
    // RFC 7517 §4.3: a key restricted to other operations cannot verify.
    match key.get("key_ops") {
        None => {}
        Some(Value::Array(ops)) if ops.iter().any(|op| op == "verify") => {}
        Some(Value::Array(_)) => return Kind::NotForSigning("`key_ops` lacks `verify`"),
        Some(_) => return Kind::Malformed("`key_ops` is not an array"),
    }
    match key.get("alg") {
        None => {}
        Some(Value::String(alg)) if alg == "none" => return Kind::NotForSigning("`alg` is `none`"),
        Some(Value::String(alg)) if !JWS_ALGS.contains(&alg.as_str()) => {
            // RFC 7518 §4.1: a key-management algorithm of JWE.
            return Kind::NotForSigning("`alg` is an encryption algorithm");
        }
        Some(Value::String(alg)) if !VERIFIABLE_ALGS.contains(&alg.as_str()) => {
            return Kind::Unsupported(format!("alg {}", util::truncate(alg, 16)));
        }
        Some(Value::String(_)) => {}
        Some(_) => return Kind::Malformed("`alg` is not a string"),
    }
    match (text("kty"), text("crv")) {
        (Some("RSA"), _)
        | (Some("EC"), Some("P-256" | "P-384"))
        | (Some("OKP"), Some("Ed25519")) => Kind::Signing,
        // RFC 8037 §3.2: X25519 and X448 are for ECDH key agreement only.
        (Some("OKP"), Some("X25519" | "X448")) => Kind::NotForSigning("a key-agreement curve"),
        // A symmetric key in a public set: this crate keys HMAC with the client secret.
        (Some("oct"), _) => Kind::NotForSigning("a symmetric key"),
        (Some("EC" | "OKP"), Some(crv)) => {
            Kind::Unsupported(format!("curve {}", util::truncate(crv, 16)))
        }
        (Some("EC" | "OKP"), None) => Kind::Malformed("no `crv`"),
        (Some(kty), _) => Kind::Unsupported(format!("key type {}", util::truncate(kty, 16))),
        (None, _) => Kind::Malformed("no `kty`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::serde::json::serde_json::json;

    /// The RSA-OAEP encryption key Keycloak publishes beside its signing key, from
    /// `provider-metadata/keycloak-http/jwks.json` (redpanda-data/redpanda
    /// `src/v/security/tests/jwt_test.cc`, see its SOURCE.md; a public key, `x5c` left out).
    fn keycloak_encryption_key() -> Value {
        json!({
            "kid": "EWGWeiW8jqUC_T7Fawi5ecRbrDOanB_uqtTgAOgJDPk",
            "kty": "RSA",
            "alg": "RSA-OAEP",
            "use": "enc",
            "n": "0OceMDMwIZCADl3oZnevxMBzB5GTLwFYevc7PFbw394YY4-Sdt4xqudPMSf2WhU22CidYiMVP1xvcZP7W_5eNLS9nNg3gsswgPiL52ZbWeWoOYx1WDVZzZur3YyjOR1iYvwhR572JumAfDE64y2cHpN2meVana9Zv7S4_yc9pFwGdPTJh7O76lamMjigfYKGF8BKSsFYPkxh_RgaRVqOaaF-CtXPBWmwqvJZ1r0h7GewcP5QeyaUUrZtTo7z0H6VovUGdwguL-OxhWVWZNyGDudtc50PPu3BBn47NpZIa4qCBEsMpm0mJ7YUvwAG-Ktd93uSquJkXvFjaVbTYj_iqQ",
            "e": "AQAB",
        })
    }

    /// Keycloak's RS256 signing key from the same file.
    fn keycloak_signing_key() -> Value {
        json!({
            "kid": "kf46eDlB9jtz2PpktQ6NQSfRwoU_tT3NqxlI8C4MGvQ",
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "n": "3yqePLS9Q5Nf-q-ujodgMbblIwwPsEUCcXSxBS0eqrrSTNuPaHr-v_y_yyfKfxqhEmK_MBVvlXXmmwWZk6rWlR2hSdQW6Ih7UWLVaNOT35slcCfjQWQa3O0ZHxzemhgj0HHQ9x8t_AcK1wJd_hMjl3qwG12V1l-9-vSVIOrnl47YXC57K_j8MuNBPr1YdD4Rm9GGFxPQPRpc3nxTO2tFkkeGubfN6eJ226OvaA1uP6SlZEeA4KSjd-Bl0AAKotKcF9orHOuiceAarKs6uGZ84GocGaUtEEOli4e5bJrnNOXZDzCo34VdhFXFmJ2vU3g1XkY8e9wgA0fs9b3OhjqXIw",
            "e": "AQAB",
        })
    }

    #[test]
    fn keycloak_encryption_key_is_ignored_without_alarm() {
        let found = census(vec![keycloak_encryption_key(), keycloak_signing_key()]);
        assert_eq!(found.signing.len(), 1);
        assert_eq!(found.not_for_signing.len(), 1);
        assert!(found.unsupported.is_empty() && found.malformed.is_empty());
        assert_eq!(found.others(), "1 encryption key(s) ignored");
    }

    #[test]
    fn paypal_x25519_key_is_not_a_signing_key() {
        // PayPal's key-agreement key, verbatim from `provider-metadata/paypal/jwks.json`
        // (panva/wellknown `issuers/paypal/paypal.mjs`, see its SOURCE.md): no `use`, no `alg`;
        // openidconnect parses it, with `crv` = None, so counting parsed keys counted it.
        let x25519 = json!({
            "kty": "OKP", "crv": "X25519",
            "x": "IA0SO6bFK5u0O1ij3b0yXbAMEqJkaSZiDu6qxoEOnHY=",
            "kid": "753778214125442a472d4b6150645367"
        });
        assert!(serde_json::from_value::<CoreJsonWebKey>(x25519.clone()).is_ok());
        let found = census(vec![x25519, keycloak_signing_key()]);
        assert_eq!(found.signing.len(), 1);
        assert_eq!(
            found.not_for_signing,
            ["key `753778214125442a472d4b6150645367` (OKP): a key-agreement curve"]
        );
    }

    #[test]
    fn every_kind_is_sorted() {
        let keys = vec![
            keycloak_signing_key(),
            json!({"kty": "RSA", "key_ops": ["encrypt"], "n": "AQ", "e": "AQAB"}),
            json!({"kty": "RSA", "key_ops": ["verify"], "kid": "ops", "n": "AQAB", "e": "AQAB"}),
            json!({"kty": "RSA", "alg": "RSA1_5", "n": "AQ", "e": "AQAB"}),
            json!({"kty": "EC", "crv": "P-256", "kid": "ec",
                   "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                   "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}),
            json!({"kty": "EC", "crv": "P-521", "kid": "p521", "x": "AQ", "y": "AQ"}),
            json!({"kty": "EC", "alg": "ES512", "crv": "P-521", "x": "AQ", "y": "AQ"}),
            json!({"kty": "EC", "alg": "ECDH-ES", "crv": "P-256", "x": "AQ", "y": "AQ"}),
            json!({"kty": "OKP", "crv": "Ed448", "x": "AQ"}),
            json!({"kty": "OKP", "crv": "X448", "x": "AQ"}),
            json!({"kty": "oct", "k": "c2VjcmV0"}),
            json!({"kty": "RSA", "use": "sig", "kid": "bad-n", "n": "not base64!", "e": "AQAB"}),
            json!({"kty": "EC", "x": "AQ"}),
            json!({"n": "AQ"}),
            json!("not an object"),
            json!({"kty": "RSA", "use": 1}),
        ];
        let found = census(keys);
        assert_eq!(found.signing.len(), 3, "rsa, ops, ec");
        assert_eq!(
            found.not_for_signing.len(),
            5,
            "{:?}",
            found.not_for_signing
        );
        assert_eq!(found.unsupported.len(), 3, "{:?}", found.unsupported);
        assert_eq!(found.malformed.len(), 5, "{:?}", found.malformed);
        assert!(
            found.malformed[0].starts_with("key `bad-n` (RSA): "),
            "{:?}",
            found.malformed
        );
        assert_eq!(
            found.others(),
            "5 encryption key(s) ignored, 3 unsupported, 5 malformed"
        );
    }

    #[test]
    fn standard_base64_is_accepted_so_battle_net_keys_verify() {
        // The first key of `provider-metadata/battle-net/jwks.json` (verbatim, see its
        // SOURCE.md): its `n` is standard base64 with `+`, `/` and `=` padding, which
        // openidconnect cannot decode, so it parsed the key without a modulus, and no
        // Battle.net ID token could be verified.
        let battle_net = json!({"kty": "RSA", "e": "AQAB", "use": "sig", "kid": "877671eb-3ba7-4c1a-ae44-cf592d4c5b97", "alg": "RS256", "n": "AJcQTBkfQXu4lxGhA3wZnDKvYGe4/dJqwM5irVCKX9TlFdxPdk1MJsBC0ZiHlJiEroPxE651u1OquD7qOryzir6wkXQfdw+oZrA5yPuTPnIm5HXE2KrBW527N1QJKL7sxOIj04kyDhQm2wpwD24yxUrQjT8f3UnM4Fx+w5oQh1uZ8bHNrwrQI82enR0UImxtrFFjO8Gg9tQCxm2uygCeLg/KEaWyzzL4y1DQwvH2UqeeG0JdQ52LzRrRY/QXffjDLung8TbciNd2rz8gVBxf96SemCqzMkikvzgv78bxXGYQxp/qIpsYIstlrj8oTAYLtIb+NNpEqaqeyuA5Jn/aots="});
        let raw: CoreJsonWebKey = serde_json::from_value(battle_net.clone()).unwrap();
        assert!(!serde_json::to_string(&raw).unwrap().contains("\"n\""));
        let found = census(vec![battle_net]);
        assert_eq!(found.signing.len(), 1, "{:?}", found.malformed);
        let kept = serde_json::to_value(&found.signing[0]).unwrap();
        assert!(kept["n"].as_str().is_some_and(|n| n.len() > 300), "{kept}");
    }

    #[test]
    fn empty_set() {
        let found = census(Vec::new());
        assert!(found.signing.is_empty());
        assert_eq!(found.others(), "");
    }
}
