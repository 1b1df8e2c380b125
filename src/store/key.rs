//! Store keys: fixed-size SHA-256 digests of what a marker names (an issuer's `sid`, `sub`, one
//! session, a logout token's `jti`), so that a store never holds a subject or a session id in
//! clear, and every instance of the app derives the same key for the same thing.

use std::fmt;

use sha2::{Digest, Sha256};

/// A key of the revocation store: the SHA-256 digest of `iss` with a `sid`, a `sub`, a session's
/// own id or a logout token's `jti`.
///
/// It is all a store sees of a session, a user or a logout token. `Debug` shows its first 8 hex
/// digits only.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StoreKey([u8; 32]);

impl StoreKey {
    /// The key with these 32 bytes (for a store that reads keys back, e.g. from Redis).
    pub const fn from_bytes(bytes: [u8; 32]) -> StoreKey {
        StoreKey(bytes)
    }

    /// The 32 bytes of the digest.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The digest as 64 lowercase hex digits (e.g. as part of a Redis key).
    pub fn to_hex(&self) -> String {
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        out
    }

    /// Parses [`to_hex`](StoreKey::to_hex)'s form (either case); `None` for anything else.
    pub fn from_hex(hex: &str) -> Option<StoreKey> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let digit = |c: u8| char::from(c).to_digit(16);
            let value = digit(pair[0])? * 16 + digit(pair[1])?;
            out[i] = u8::try_from(value).ok()?;
        }
        Some(StoreKey(out))
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreKey({}…)", &self.to_hex()[..8])
    }
}

/// Prefix of every digest: names the scheme, so that a future change of the derivation gives
/// new keys instead of colliding with old ones.
const DOMAIN: &[u8] = b"rocket_openid_connect revocation key v1\0";

/// The store keys of one issuer. Each digest is
/// `SHA-256(DOMAIN ‖ kind ‖ 0x00 ‖ len(iss) as u64 big-endian ‖ iss ‖ value)`: the kinds are
/// fixed NUL-terminated names and the issuer is length-prefixed, so no two (kind, iss, value)
/// triples share an input. The hasher state after the prefix is computed once per issuer; a key
/// then costs one or two SHA-256 blocks (~50 ns with the SHA extensions of current x86 CPUs).
#[derive(Clone)]
pub struct RevocationKeys {
    sid: Sha256,
    sub: Sha256,
    sub_sidless: Sha256,
    session: Sha256,
    jti: Sha256,
}

impl fmt::Debug for RevocationKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationKeys").finish_non_exhaustive()
    }
}

impl RevocationKeys {
    /// The keys of the issuer `issuer` (its identifier, exactly as in tokens' `iss`).
    pub fn new(issuer: &str) -> RevocationKeys {
        let prefix = |kind: &str| {
            let mut h = Sha256::new();
            h.update(DOMAIN);
            h.update(kind.as_bytes());
            h.update([0u8]);
            h.update((issuer.len() as u64).to_be_bytes());
            h.update(issuer.as_bytes());
            h
        };
        RevocationKeys {
            sid: prefix("sid"),
            sub: prefix("sub"),
            sub_sidless: prefix("sub-sidless"),
            session: prefix("session"),
            jti: prefix("jti"),
        }
    }

    fn finish(prefix: &Sha256, value: &str) -> StoreKey {
        let mut h = prefix.clone();
        h.update(value.as_bytes());
        StoreKey(h.finalize().into())
    }

    /// The provider's session `sid` (in ID tokens and logout tokens): every session of this app
    /// that belongs to that provider session.
    pub fn sid(&self, sid: &str) -> StoreKey {
        Self::finish(&self.sid, sid)
    }

    /// A user `sub`: every session of that user (a logout token without `sid`, §2.4).
    pub fn sub(&self, sub: &str) -> StoreKey {
        Self::finish(&self.sub, sub)
    }

    /// The sessions of user `sub` whose ID token carried no `sid`: a logout token with both
    /// `sid` and `sub` cannot name them by `sid`, so it marks them this way (fail safe).
    pub fn sub_sidless(&self, sub: &str) -> StoreKey {
        Self::finish(&self.sub_sidless, sub)
    }

    /// One session of this app, by the random id it keeps when the provider sends no `sid`.
    pub fn session(&self, id: &str) -> StoreKey {
        Self::finish(&self.session, id)
    }

    /// A logout token's `jti`, for the replay cache.
    pub fn jti(&self, jti: &str) -> StoreKey {
        Self::finish(&self.jti, jti)
    }

    /// The keys a session of user `sub` is checked against: with the provider's `sid`, that
    /// `sid` and `sub`; without, its own `session_id` (if it has one), `sub`, and the
    /// [`sub_sidless`](RevocationKeys::sub_sidless) key.
    pub fn of_session(
        &self,
        sid: Option<&str>,
        session_id: Option<&str>,
        sub: &str,
    ) -> SessionKeys {
        let mut keys = SessionKeys {
            keys: [StoreKey::default(); 3],
            len: 0,
        };
        match sid {
            Some(sid) => {
                keys.push(self.sid(sid));
                keys.push(self.sub(sub));
            }
            None => {
                if let Some(id) = session_id {
                    keys.push(self.session(id));
                }
                keys.push(self.sub(sub));
                keys.push(self.sub_sidless(sub));
            }
        }
        keys
    }
}

/// The two or three keys of one session, without a heap allocation (this is on every guarded
/// request's path).
#[derive(Debug, Clone, Copy)]
pub struct SessionKeys {
    keys: [StoreKey; 3],
    len: usize,
}

impl SessionKeys {
    fn push(&mut self, key: StoreKey) {
        if let Some(slot) = self.keys.get_mut(self.len) {
            *slot = key;
            self.len += 1;
        }
    }

    /// The keys, for [`RevocationStore::is_revoked`](super::RevocationStore::is_revoked).
    pub fn as_slice(&self) -> &[StoreKey] {
        self.keys.get(..self.len).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_documented_digests() {
        let keys = RevocationKeys::new("https://op.example");
        let mut input = Vec::new();
        input.extend_from_slice(b"rocket_openid_connect revocation key v1\0sid\0");
        input.extend_from_slice(&18u64.to_be_bytes());
        input.extend_from_slice(b"https://op.exampleS1");
        let expected: [u8; 32] = Sha256::digest(&input).into();
        assert_eq!(keys.sid("S1"), StoreKey::from_bytes(expected));
    }

    #[test]
    fn kinds_issuers_and_values_never_share_a_key() {
        let a = RevocationKeys::new("https://op.example");
        let b = RevocationKeys::new("https://op.example/");
        let all = [
            a.sid("x"),
            a.sub("x"),
            a.sub_sidless("x"),
            a.session("x"),
            a.jti("x"),
            b.sid("x"),
            a.sid("y"),
        ];
        for (i, k) in all.iter().enumerate() {
            for other in &all[i + 1..] {
                assert_ne!(k, other);
            }
        }
        assert_eq!(
            a.sid("x"),
            RevocationKeys::new("https://op.example").sid("x")
        );
    }

    #[test]
    fn a_session_is_checked_by_sid_or_by_its_own_id_and_always_by_sub() {
        let k = RevocationKeys::new("https://op.example");
        assert_eq!(
            k.of_session(Some("S"), Some("ignored"), "ada").as_slice(),
            [k.sid("S"), k.sub("ada")]
        );
        assert_eq!(
            k.of_session(None, Some("L"), "ada").as_slice(),
            [k.session("L"), k.sub("ada"), k.sub_sidless("ada")]
        );
        assert_eq!(
            k.of_session(None, None, "ada").as_slice(),
            [k.sub("ada"), k.sub_sidless("ada")]
        );
    }

    #[test]
    fn hex_round_trips_and_refuses_anything_else() {
        let key = RevocationKeys::new("i").sub("ada");
        let hex = key.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(StoreKey::from_hex(&hex), Some(key));
        assert_eq!(StoreKey::from_hex(&hex.to_uppercase()), Some(key));
        assert_eq!(StoreKey::from_hex(&hex[..63]), None);
        assert_eq!(StoreKey::from_hex(&format!("{}g", &hex[..63])), None);
        assert_eq!(StoreKey::from_hex(&format!("{}é", &hex[..62])), None);
        assert!(format!("{key:?}").len() < 24, "Debug shows a prefix only");
    }
}
