//! The client's private key for `private_key_jwt` and Sign in with Apple: read at launch from
//! `oidc.client_key_file` or `oidc.client_key`, parsed (PEM, PKCS#8, RSA of 2048 bits or more,
//! or P-256), and paired with the JWS algorithm it signs with (RFC 7518 §3.1). Every failure
//! names the key to change and says how.

use std::fmt;

use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::DecodePrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use sha2::Sha256;

use crate::config::{Config, ConfigError, KeySource};

/// The largest key file read: PEM keys are a few KB; anything larger is not one.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// RFC 7518 §3.3 and §3.5: RSA keys for RS256 and PS256 have at least 2048 bits.
const MIN_RSA_BYTES: usize = 256;

/// The JWS algorithm a client key signs with (RFC 7518 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PSS with SHA-256 (salt of 32 bytes).
    Ps256,
    /// ECDSA P-256 with SHA-256, the signature as `R || S` (64 bytes).
    Es256,
}

impl KeyAlg {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KeyAlg::Rs256 => "RS256",
            KeyAlg::Ps256 => "PS256",
            KeyAlg::Es256 => "ES256",
        }
    }
}

enum Signing {
    Rs256(rsa::pkcs1v15::SigningKey<Sha256>),
    Ps256(rsa::pss::SigningKey<Sha256>),
    Es256(p256::ecdsa::SigningKey),
}

/// A client's private signing key and its algorithm. `Debug` shows the kind of key, its
/// algorithm and `kid`, never the key (the `rsa` and `p256` keys zeroize themselves on drop).
pub(crate) struct ClientKey {
    signing: Signing,
    /// `RSA-3072` or `P-256`, for messages.
    kind: String,
    kid: Option<String>,
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientKey")
            .field("kind", &self.kind)
            .field("alg", &self.alg().as_str())
            .field("kid", &self.kid)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Why a key cannot be used: what is wrong with it, in words (never any of its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyProblem(pub String);

impl ClientKey {
    /// The key `config` names (`client_key_file` or `client_key`), with `client_key_alg` and
    /// `client_key_id`; `None` when it names none.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `oidc.client_key_file` or `oidc.client_key` (or
    /// `oidc.client_key_alg`), saying what is wrong and what to change.
    pub(crate) fn load(config: &Config) -> Result<Option<ClientKey>, ConfigError> {
        let Some(source) = config.client_key_source() else {
            return Ok(None);
        };
        let (key_name, pem) = match source {
            KeySource::File(path) => ("oidc.client_key_file", read_key_file(path)?),
            KeySource::Inline(pem) => ("oidc.client_key", unescape_newlines(pem)),
        };
        let kid = config.client_key_id.clone();
        match ClientKey::from_pem(&pem, config.client_key_alg.as_deref(), kid) {
            Ok(key) => Ok(Some(key)),
            Err(KeyProblem(reason)) if reason.starts_with("client_key_alg") => {
                Err(ConfigError::single("oidc.client_key_alg", reason))
            }
            Err(KeyProblem(reason)) => Err(ConfigError::single(
                key_name,
                format!("{} {reason}", describe_source(source)),
            )),
        }
    }

    /// Parses a PKCS#8 PEM private key, RSA (2048 bits or more) or P-256, to sign with `alg`
    /// (the key's default, RS256 or ES256, when `None`).
    pub(crate) fn from_pem(
        pem: &str,
        alg: Option<&str>,
        kid: Option<String>,
    ) -> Result<ClientKey, KeyProblem> {
        let problem = |text: String| KeyProblem(text);
        if let Ok(key) = rsa::RsaPrivateKey::from_pkcs8_pem(pem) {
            if key.size() < MIN_RSA_BYTES {
                return Err(problem(format!(
                    "is an RSA key of {} bits; RS256 and PS256 need at least 2048 (RFC 7518 \
                     §3.3): generate a new one, e.g. `openssl genpkey -algorithm RSA -pkeyopt \
                     rsa_keygen_bits:2048 -out client-key.pem`, and register its public half",
                    key.size() * 8
                )));
            }
            let kind = format!("RSA-{}", key.size() * 8);
            let signing = match alg.unwrap_or("RS256") {
                "RS256" => Signing::Rs256(rsa::pkcs1v15::SigningKey::new(key)),
                "PS256" => Signing::Ps256(rsa::pss::SigningKey::new(key)),
                other => return Err(problem(alg_mismatch(other, &kind))),
            };
            return Ok(ClientKey { signing, kind, kid });
        }
        if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_pem(pem) {
            let kind = "P-256".to_owned();
            return match alg.unwrap_or("ES256") {
                "ES256" => Ok(ClientKey {
                    signing: Signing::Es256(key),
                    kind,
                    kid,
                }),
                other => Err(problem(alg_mismatch(other, &kind))),
            };
        }
        Err(problem(why_not(pem)))
    }

    /// The algorithm it signs with.
    pub(crate) fn alg(&self) -> KeyAlg {
        match self.signing {
            Signing::Rs256(_) => KeyAlg::Rs256,
            Signing::Ps256(_) => KeyAlg::Ps256,
            Signing::Es256(_) => KeyAlg::Es256,
        }
    }

    /// The `kid` its JWS headers carry, if any.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// `RSA-2048` or `P-256`.
    pub(crate) fn kind(&self) -> &str {
        &self.kind
    }

    /// Whether it is a P-256 key (what Sign in with Apple needs).
    pub(crate) fn is_p256(&self) -> bool {
        matches!(self.signing, Signing::Es256(_))
    }

    /// For the launch log: `RS256 with an RSA-2048 key, kid `k1``.
    pub(crate) fn describe(&self) -> String {
        let alg = self.alg().as_str();
        let key = with_article(&self.kind);
        match &self.kid {
            Some(kid) => format!("{alg} with {key} key, kid `{kid}`"),
            None => format!("{alg} with {key} key, no kid"),
        }
    }

    /// The JWS signature of `signing_input` (RFC 7515 §5.1), raw bytes: PKCS#1 v1.5 or PSS for
    /// RSA, `R || S` for ES256 (RFC 7518 §3.4). PSS draws its salt from the thread's CSPRNG.
    pub(crate) fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, String> {
        match &self.signing {
            Signing::Rs256(key) => key
                .try_sign(signing_input)
                .map(|s| s.to_vec())
                .map_err(|e| format!("RS256 signing failed: {e}")),
            Signing::Ps256(key) => key
                .try_sign_with_rng(&mut rand::thread_rng(), signing_input)
                .map(|s| s.to_vec())
                .map_err(|e| format!("PS256 signing failed: {e}")),
            Signing::Es256(key) => key
                .try_sign(signing_input)
                .map(|s: p256::ecdsa::Signature| s.to_bytes().to_vec())
                .map_err(|e| format!("ES256 signing failed: {e}")),
        }
    }
}

/// `an RSA-2048`, `a P-256`: the word with its article, for messages.
pub(crate) fn with_article(word: &str) -> String {
    let an = word.starts_with(['A', 'E', 'I', 'O', 'U', 'R', 'a', 'e', 'i', 'o', 'u']);
    format!("{} {word}", if an { "an" } else { "a" })
}

/// The message of an algorithm the key cannot sign with.
fn alg_mismatch(alg: &str, kind: &str) -> String {
    let fits = if kind.starts_with("RSA") {
        "RS256 or PS256"
    } else {
        "ES256"
    };
    format!(
        "client_key_alg is {:?}, which {} key cannot sign: set it to {fits}, or remove it \
         to use the key's default",
        crate::util::truncate(alg, 32),
        with_article(kind)
    )
}

/// `the key file `/etc/app/key.pem`` or `the key in oidc.client_key`, for messages.
fn describe_source(source: KeySource<'_>) -> String {
    match source {
        KeySource::File(path) => format!("the key file `{path}`"),
        KeySource::Inline(_) => "the key".to_owned(),
    }
}

/// Reads the key file at `path` (relative to the working directory).
fn read_key_file(path: &str) -> Result<String, ConfigError> {
    let fail = |reason: String| ConfigError::single("oidc.client_key_file", reason);
    let shown = match std::path::Path::new(path).is_absolute() {
        true => format!("`{path}`"),
        false => match std::env::current_dir() {
            Ok(dir) => format!("`{path}` (in {})", dir.display()),
            Err(_) => format!("`{path}`"),
        },
    };
    let metadata = std::fs::metadata(path).map_err(|e| {
        fail(match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "there is no key file {shown}: set client_key_file to the path of the PEM file \
                 of the client's private key (relative paths start at the working directory), \
                 or give the PEM text in client_key"
            ),
            std::io::ErrorKind::PermissionDenied => format!(
                "the key file {shown} cannot be read (permission denied): make it readable by \
                 the user the app runs as, and by nobody else"
            ),
            _ => format!("the key file {shown} cannot be read: {e}"),
        })
    })?;
    if !metadata.is_file() {
        return Err(fail(format!(
            "{shown} is not a file: set client_key_file to the PEM file itself"
        )));
    }
    if metadata.len() > MAX_KEY_FILE_BYTES {
        return Err(fail(format!(
            "the key file {shown} is {} bytes, too large for a PEM private key: check the path",
            metadata.len()
        )));
    }
    std::fs::read_to_string(path).map_err(|e| {
        fail(match e.kind() {
            std::io::ErrorKind::InvalidData => format!(
                "the key file {shown} is not text: it must be PEM (`-----BEGIN PRIVATE KEY-----`); \
                 convert a DER key with `openssl pkcs8 -topk8 -nocrypt -inform DER -in key.der \
                 -out key.pem`"
            ),
            _ => format!("the key file {shown} cannot be read: {e}"),
        })
    })
}

/// A PEM given on one line with `\n` escapes (as environment variables often carry it) gets
/// its line breaks back.
fn unescape_newlines(pem: &str) -> String {
    if pem.contains('\n') {
        pem.to_owned()
    } else {
        pem.replace("\\n", "\n")
    }
}

/// Why a PEM text that neither the RSA nor the P-256 parser took is not a usable key, by its
/// label and, for PKCS#8, its algorithm; with the fix.
fn why_not(pem: &str) -> String {
    let text = pem.trim_start();
    if text.starts_with('{') {
        return "is JSON (a JWK?), not PEM: give the private key as PKCS#8 PEM \
                (`-----BEGIN PRIVATE KEY-----`)"
            .into();
    }
    let label = text
        .split_once("-----BEGIN ")
        .and_then(|(_, rest)| rest.split_once("-----"))
        .map(|(label, _)| label.trim());
    let convert = "convert it with `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.p8` \
                   and use key.p8";
    match label {
        None => "holds no PEM block: it must be a PKCS#8 private key in PEM, starting with \
                 `-----BEGIN PRIVATE KEY-----`"
            .into(),
        Some("RSA PRIVATE KEY") => format!("is a PKCS#1 RSA key: PKCS#8 is needed; {convert}"),
        Some("EC PRIVATE KEY") => format!("is a SEC1 EC key: PKCS#8 is needed; {convert}"),
        Some("ENCRYPTED PRIVATE KEY") => {
            "is encrypted with a passphrase: store it unencrypted (readable only by the app), \
             e.g. `openssl pkcs8 -topk8 -nocrypt -in encrypted.pem -out key.p8`"
                .into()
        }
        Some("PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE") => {
            "is a public key or certificate: give the private key here, and register the \
             public key (or certificate) at the provider"
                .into()
        }
        Some("PRIVATE KEY") => match pkcs8_algorithm(pem) {
            Some(algorithm) => format!(
                "is {} key, which this crate cannot sign client assertions with: use an RSA \
                 (2048 bits or more) or P-256 key",
                with_article(&algorithm)
            ),
            None => "does not parse as a PKCS#8 private key (is the PEM complete, with its \
                     BEGIN and END lines?)"
                .into(),
        },
        Some(other) => format!(
            "is a PEM `{}` block, not a private key: it must be PKCS#8 (`-----BEGIN PRIVATE \
             KEY-----`)",
            crate::util::truncate(other, 40)
        ),
    }
}

/// The algorithm (and curve) of a PKCS#8 key that did not parse as RSA or P-256, in words.
fn pkcs8_algorithm(pem: &str) -> Option<String> {
    let (_, document) = rsa::pkcs8::SecretDocument::from_pem(pem).ok()?;
    let info = rsa::pkcs8::PrivateKeyInfo::try_from(document.as_bytes()).ok()?;
    let oid = info.algorithm.oid.to_string();
    let curve = info.algorithm.parameters_oid().ok().map(|c| c.to_string());
    Some(match (oid.as_str(), curve.as_deref()) {
        ("1.2.840.10045.2.1", Some("1.3.132.0.34")) => "P-384 (EC)".into(),
        ("1.2.840.10045.2.1", Some("1.3.132.0.35")) => "P-521 (EC)".into(),
        ("1.2.840.10045.2.1", Some("1.3.132.0.10")) => "secp256k1 (EC)".into(),
        ("1.2.840.10045.2.1", _) => "elliptic-curve key on another curve than P-256".into(),
        ("1.3.101.112", _) => "Ed25519".into(),
        ("1.3.101.113", _) => "Ed448".into(),
        ("1.2.840.10040.4.1", _) => "DSA".into(),
        ("1.2.840.113549.1.1.10", _) => "RSA-PSS-restricted (id-RSASSA-PSS)".into(),
        ("1.2.840.113549.1.1.1", _) => "malformed RSA".into(),
        (other, _) => format!("algorithm {other}"),
    })
}

#[cfg(test)]
pub(crate) mod tests;
