//! Small helpers shared by the modules: HTML escaping, truncation, random tokens, time, and a
//! per-value cache keyed by type.

use std::any::{Any, TypeId};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Cuts untrusted text to at most `max` characters and drops control characters, for logs.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// `bytes` random bytes from the operating system's CSPRNG, base64url without padding.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Seconds since the Unix epoch.
pub(crate) fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The clock session lifetimes are measured with: the system clock plus an offset that only the
/// `testing` module (feature `dev-issuer`) moves, so that a test of an app can let its sessions
/// expire without sleeping. Clones share the offset.
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// Seconds since the Unix epoch, on this clock.
    pub(crate) fn now_unix(&self) -> i64 {
        now_unix().saturating_add(self.offset.load(Ordering::Relaxed))
    }

    /// How far this clock is ahead of the system clock (seconds; 0 unless a test moved it).
    pub(crate) fn offset(&self) -> i64 {
        self.offset.load(Ordering::Relaxed)
    }

    /// Moves the clock `secs` seconds forward (test support).
    #[cfg(feature = "dev-issuer")]
    pub(crate) fn advance(&self, secs: i64) {
        let _ = self
            .offset
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |o| {
                Some(o.saturating_add(secs))
            });
    }
}

/// Values computed at most once per owner, one per type: the claims a request decodes
/// (`claims.rs`). A value is computed without the lock held, so computing one may fill another;
/// when two threads race, the first value stored wins and both get it.
#[derive(Default)]
pub(crate) struct TypeCache {
    entries: Mutex<Vec<(TypeId, Arc<dyn Any + Send + Sync>)>>,
}

impl TypeCache {
    /// The value of type `T`, computed by `make` the first time.
    pub(crate) fn get_or_insert_with<T: Any + Send + Sync>(
        &self,
        make: impl FnOnce() -> T,
    ) -> Arc<T> {
        let id = TypeId::of::<T>();
        if let Some(found) = self.find::<T>(id) {
            return found;
        }
        let made = Arc::new(make());
        let mut entries = self.lock();
        match entries.iter().find(|(t, _)| *t == id) {
            // Another thread stored one first: everybody gets that one.
            Some((_, raced)) => raced.clone().downcast::<T>().unwrap_or(made),
            None => {
                entries.push((id, made.clone()));
                made
            }
        }
    }

    fn find<T: Any + Send + Sync>(&self, id: TypeId) -> Option<Arc<T>> {
        let entries = self.lock();
        let (_, value) = entries.iter().find(|(t, _)| *t == id)?;
        value.clone().downcast::<T>().ok()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(TypeId, Arc<dyn Any + Send + Sync>)>> {
        // A panic while the lock is held leaves at most a complete entry behind.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Debug for TypeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypeCache")
            .field("entries", &self.lock().len())
            .finish()
    }
}

/// Compares two strings in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            html_escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;&quot;"
        );
    }

    #[test]
    fn truncates_and_strips_controls() {
        assert_eq!(truncate("ab\ncd", 10), "abcd");
        assert_eq!(truncate("abcdef", 3), "abc…");
    }

    #[test]
    fn random_tokens_are_long_and_distinct() {
        let a = random_token(16);
        assert_eq!(a.len(), 22);
        assert_ne!(a, random_token(16));
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
