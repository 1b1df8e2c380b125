//! The revocation store: "logged out at" markers, checked on every guarded request, and the
//! replay cache of back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.6
//! step 10, §2.7). One object-safe trait, [`RevocationStore`], so that the in-memory store
//! ([`MemoryStore`], `memory.rs`) and a shared one (Redis) are interchangeable behind
//! `Arc<dyn RevocationStore>`. Keys are digests (`key.rs`).
//!
//! # The rule
//!
//! A marker says "every session of this key created at or before `logged_out_at` is signed
//! out". A session is refused when any of its keys has a marker at or after its creation, so a
//! later login works with no cleanup. A marker is kept until `expires_at`, the moment the last
//! session it can refuse reaches its absolute lifetime, and is dropped after that.

mod key;
mod memory;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

#[allow(unused_imports)] // SessionKeys is named by the benches only (feature `internals`).
pub use key::{RevocationKeys, SessionKeys, StoreKey};
pub use memory::{Marker, MemoryStore};

/// A boxed, sendable future: what the store's asynchronous operations return, so that the
/// trait stays object-safe without an `async-trait` dependency.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where markers and the replay cache live. The crate uses [`MemoryStore`] unless
/// [`OidcFairing::revocation_store`](crate::OidcFairing::revocation_store) is given another.
///
/// # Contract
///
/// What every implementation must keep (the in-memory [`MemoryStore`] does; a shared store,
/// such as one on Redis that each instance mirrors locally through pub/sub, must too):
///
/// - **The check stays in memory.** [`is_revoked`](RevocationStore::is_revoked) runs on every
///   guarded request: it answers from this process's memory, with no I/O, no `await`, no
///   blocking on anything but a short lock; a shared store keeps a local copy and feeds it in
///   the background (target: ≤ 0.5 µs with 100,000 markers, `benches/oidc.rs`). A marker
///   written elsewhere may reach the copy a moment later; that delay is the store's to bound
///   and document.
/// - **`Ok` means the logout took effect.** [`record`](RevocationStore::record) returns
///   `Ok(())` only once the marker is honoured by this instance's own `is_revoked` **and** is
///   on its way to every instance that shares the store: acknowledged by the shared server, or,
///   while that server is unreachable, kept locally and written back when it returns (what
///   `RedisStore` of the `redis` feature does, logging an error each time; the README section
///   explains why it does not fail closed). The back-channel endpoint answers the provider 200
///   only after that `Ok` (Back-Channel Logout 1.0 §2.8: 200 means the logout succeeded); on
///   `Err`, the marker was not recorded at all, it answers 400 `server_error` so that the
///   provider may retry.
/// - **The replay check is one atomic "insert if absent".**
///   [`first_use`](RevocationStore::first_use) must decide and insert in one step (a lock held
///   across both, Redis `SET key value NX EXAT t`), so that of two instances receiving the
///   same `jti` at once exactly one gets `Ok(true)` (§2.6 step 10).
/// - **Never forget a live marker to save memory.** A marker is kept until its `expires_at`
///   (then it may be dropped); a store that cannot keep one more must fail safe (refuse more
///   sessions, not fewer) and log it. A marker already present keeps the later
///   `logged_out_at` and `expires_at` (writes are monotonic, so their order does not matter).
/// - **Keys are opaque digests** ([`StoreKey`]): the store never sees an issuer, `sid`, `sub`
///   or `jti` in clear, and stores keys as given (they already include the issuer, so the
///   markers of several providers never collide).
/// - **Object-safe**: the crate holds it as `Arc<dyn RevocationStore>`; asynchronous
///   operations return a [`BoxFuture`].
///
/// The asynchronous operations run only on `POST /logout` and on the back-channel endpoint,
/// never on a guarded request (a login, too, only calls `is_revoked`).
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use rocket_openid_connect::{BoxFuture, MemoryStore, RevocationStore, StoreError, StoreKey};
///
/// /// The in-memory store, counting the markers written.
/// struct Counting {
///     inner: MemoryStore,
///     writes: AtomicU64,
/// }
///
/// impl RevocationStore for Counting {
///     fn is_revoked(&self, keys: &[StoreKey], created_at: i64) -> bool {
///         self.inner.is_revoked(keys, created_at)
///     }
///     fn record(&self, key: StoreKey, logged_out_at: i64, expires_at: i64, now: i64)
///         -> BoxFuture<'_, Result<(), StoreError>> {
///         self.writes.fetch_add(1, Ordering::Relaxed);
///         self.inner.record(key, logged_out_at, expires_at, now)
///     }
///     fn first_use(&self, jti: StoreKey, expires_at: i64, now: i64)
///         -> BoxFuture<'_, Result<bool, StoreError>> {
///         self.inner.first_use(jti, expires_at, now)
///     }
/// }
/// ```
pub trait RevocationStore: Send + Sync + 'static {
    /// Whether a session created at `created_at` (Unix seconds) is signed out: some key in
    /// `keys` has a marker with `logged_out_at >= created_at`. Synchronous and memory-only: it
    /// is the only store call on a guarded request's path.
    fn is_revoked(&self, keys: &[StoreKey], created_at: i64) -> bool;

    /// Writes the marker "sessions of `key` created at or before `logged_out_at` are signed
    /// out", to be kept until `expires_at` (both Unix seconds); `now` is the current time, for
    /// pruning. A marker already there keeps the later `logged_out_at` and `expires_at`.
    /// `Ok` means durable and visible to every instance sharing the store (see the contract);
    /// the back-channel endpoint answers 200 only then.
    fn record(
        &self,
        key: StoreKey,
        logged_out_at: i64,
        expires_at: i64,
        now: i64,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Remembers a logout token's `jti` until `expires_at`: `Ok(true)` the first time,
    /// `Ok(false)` when it was seen before and has not expired (a replay). One atomic "insert
    /// if absent" (see the contract): concurrent calls with one `jti` give exactly one `true`.
    fn first_use(
        &self,
        jti: StoreKey,
        expires_at: i64,
        now: i64,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;
}

/// The creation time of a session that signs in at `now` with `keys`: `now`; or `now + 1`
/// when a marker of this very second covers it. Markers are whole seconds and a session created
/// in a marker's second counts as signed out (fail safe); but a login finishing while this
/// instance already holds the marker is newer than it, and must not be refused at once (the
/// user would loop through login). `None` when a marker lies further ahead (a clock ahead of
/// ours wrote it).
pub(crate) fn creation_time(
    store: &dyn RevocationStore,
    keys: &[StoreKey],
    now: i64,
) -> Option<i64> {
    if !store.is_revoked(keys, now) {
        return Some(now);
    }
    let next = now.checked_add(1)?;
    (!store.is_revoked(keys, next)).then_some(next)
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached, or refused the operation; the text says what failed,
    /// never a key's preimage.
    Unavailable(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unavailable(reason) => write!(f, "the revocation store failed: {reason}"),
        }
    }
}

impl std::error::Error for StoreError {}
