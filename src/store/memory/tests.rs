use std::sync::Arc;

use super::*;
use crate::store::RevocationKeys;

const T: i64 = 1_700_000_000;

fn keys() -> RevocationKeys {
    RevocationKeys::new("https://op.example")
}

#[test]
fn a_marker_signs_out_sessions_created_at_or_before_it_and_no_later_one() {
    let store = MemoryStore::new(10);
    let k = keys();
    store.mark(k.sub("ada"), T, T + 100, T);
    assert!(store.is_revoked(&[k.sub("ada")], T - 1));
    assert!(
        store.is_revoked(&[k.sub("ada")], T),
        "created in the same second: fail safe"
    );
    assert!(
        !store.is_revoked(&[k.sub("ada")], T + 1),
        "a later login works"
    );
    assert!(!store.is_revoked(&[k.sub("grace")], T - 1), "another user");
    assert!(
        store.is_revoked(&[k.sid("s"), k.sub("ada")], T),
        "any of the session's keys"
    );
    assert!(!store.is_revoked(&[], T));
}

#[test]
fn a_second_marker_for_a_key_keeps_the_later_logout_and_the_longer_life() {
    let store = MemoryStore::new(10);
    let key = keys().sid("s");
    store.mark(key, T + 10, T + 100, T);
    store.mark(key, T, T + 500, T);
    assert_eq!(
        store.snapshot(),
        vec![(
            key,
            Marker {
                logged_out_at: T + 10,
                expires_at: T + 500
            }
        )]
    );
    assert!(store.is_revoked(&[key], T + 10));
}

#[test]
fn markers_are_dropped_only_after_they_expire() {
    let store = MemoryStore::new(10);
    let k = keys();
    store.mark(k.sub("ada"), T, T + 100, T);
    // A write at the marker's last second sweeps, and keeps it.
    store.mark(k.sub("grace"), T + 100, T + 200, T + 100);
    assert_eq!(store.len(), 2);
    // The next sweep is due a minute later; then ada's marker is gone.
    store.mark(k.sub("alan"), T + 160, T + 300, T + 160);
    assert_eq!(store.len(), 2);
    assert!(!store.is_revoked(&[k.sub("ada")], T));
}

#[test]
fn a_full_store_forgets_no_live_marker_and_signs_out_everyone_older_instead() {
    let store = MemoryStore::new(2);
    let k = keys();
    assert!(store.mark(k.sub("ada"), T, T + 1000, T));
    assert!(store.mark(k.sub("grace"), T + 1, T + 1000, T + 1));
    // Full: alan's marker is folded into a store-wide one.
    assert!(!store.mark(k.sub("alan"), T + 5, T + 1000, T + 5));
    assert_eq!(store.len(), 2, "no live marker dropped");
    assert!(store.is_revoked(&[k.sub("ada")], T));
    assert!(
        store.is_revoked(&[k.sub("alan")], T + 5),
        "alan is signed out"
    );
    assert!(
        store.is_revoked(&[k.sub("anyone")], T + 5),
        "so is every older session"
    );
    assert!(
        !store.is_revoked(&[k.sub("alan")], T + 6),
        "later logins work"
    );
    assert_eq!(
        store.overflow(),
        Some(Marker {
            logged_out_at: T + 5,
            expires_at: T + 1000
        })
    );
    // An existing key is still updated in place, not folded.
    assert!(store.mark(k.sub("ada"), T + 7, T + 1000, T + 7));
    // Once the markers expire, room comes back and the store-wide marker goes.
    assert!(store.mark(k.sub("alan"), T + 1001, T + 2000, T + 1001));
    assert_eq!(store.overflow(), None);
    assert_eq!(store.len(), 1);
}

#[test]
fn a_jti_is_refused_until_it_expires() {
    let store = MemoryStore::new(10);
    let jti = keys().jti("j1");
    assert!(store.remember_jti(jti, T + 120, T));
    assert!(!store.remember_jti(jti, T + 120, T + 1), "replay");
    assert!(
        !store.remember_jti(jti, T + 120, T + 120),
        "replay at the last second"
    );
    assert!(
        store.remember_jti(jti, T + 400, T + 121),
        "expired: not a replay"
    );
    assert!(store.remember_jti(keys().jti("j2"), T + 120, T));
}

#[test]
fn a_full_jti_cache_accepts_without_remembering() {
    let store = MemoryStore::new(1);
    assert!(store.remember_jti(keys().jti("a"), T + 120, T));
    assert!(store.remember_jti(keys().jti("b"), T + 120, T));
    assert!(
        store.remember_jti(keys().jti("b"), T + 120, T),
        "not remembered"
    );
    assert!(
        !store.remember_jti(keys().jti("a"), T + 120, T),
        "a still is"
    );
}

#[tokio::test]
async fn it_works_as_a_trait_object() {
    let store: Arc<dyn RevocationStore> = Arc::new(MemoryStore::new(10));
    let k = keys();
    store.record(k.session("x"), T, T + 10, T).await.unwrap();
    assert!(store.is_revoked(&[k.session("x")], T));
    assert_eq!(store.first_use(k.jti("j"), T + 10, T).await, Ok(true));
    assert_eq!(store.first_use(k.jti("j"), T + 10, T).await, Ok(false));
}

#[test]
fn a_login_in_the_second_of_a_marker_counts_from_the_next_second() {
    use crate::store::creation_time;
    let store = MemoryStore::new(10);
    let k = keys();
    let session = [k.sub("ada")];
    assert_eq!(creation_time(&store, &session, T), Some(T), "no marker");
    store.mark(k.sub("ada"), T, T + 100, T);
    assert_eq!(creation_time(&store, &session, T), Some(T + 1));
    assert_eq!(creation_time(&store, &session, T + 1), Some(T + 1));
    store.mark(k.sub("ada"), T + 5, T + 100, T);
    assert_eq!(
        creation_time(&store, &session, T + 1),
        None,
        "a marker ahead"
    );
    assert_eq!(creation_time(&store, &session, i64::MAX), Some(i64::MAX));
}
