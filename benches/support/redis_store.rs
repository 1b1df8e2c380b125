//! The revocation check with the Redis store (issue 15), and the propagation A → B: needs the
//! feature `redis` and a `redis-server` on PATH, started here on a free loopback port and
//! stopped by PID. `cargo bench --bench oidc --features redis -- redis`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rocket_openid_connect::__internals::{redis_settings, RevocationKeys};
use rocket_openid_connect::{MemoryStore, RedisStore, RevocationStore, StoreConfig};

#[path = "../../tests/redis/server.rs"]
#[allow(dead_code)]
mod server;

use super::{fmt, now, Bench};

pub(crate) fn redis_check(b: &mut Bench, issuer: &str) {
    if b.filter.as_deref().is_some_and(|f| !f.contains("redis")) {
        return;
    }
    println!("\n== revocation check with the Redis store: 100,000 markers, local copy ==");
    const MARKERS: usize = 100_000;
    let redis = server::RedisServer::start(&[]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let config = StoreConfig {
        url: Some(redis.url(0)),
        ..StoreConfig::default()
    };
    let settings = redis_settings(&config, |_| None).unwrap().unwrap();
    let keys = RevocationKeys::new(issuer);
    let t = now();
    // Instance A holds the markers and writes them into the empty Redis (its repair at
    // connect); instance B then loads them all from Redis (its resync at launch).
    let local_a = Arc::new(MemoryStore::new(1_000_000));
    for i in 0..MARKERS {
        let key = match i % 3 {
            0 => keys.sid(&format!("sid-{i:06}-8f2e1c")),
            1 => keys.sub(&format!("user-{i:06}")),
            _ => keys.session(&format!("Zm9v{i:07}")),
        };
        local_a.mark(key, t, t + 604_800, t);
    }
    let start = Instant::now();
    let a = rt
        .block_on(RedisStore::connect(&settings, local_a))
        .expect("A connects");
    println!(
        "{:<44} {:>10}",
        "redis/A writes 100,000 markers back (repair)",
        fmt(start.elapsed())
    );
    let start = Instant::now();
    let b_store = rt
        .block_on(RedisStore::connect(&settings, Arc::default()))
        .expect("B connects");
    println!(
        "{:<44} {:>10}",
        "redis/B loads 100,000 markers (resync)",
        fmt(start.elapsed())
    );
    assert_eq!(b_store.local().len(), MARKERS);

    let (sid, sub) = ("3c9b7a80-5e1d-4f2c-9a6b", "ada-lovelace-1815");
    let created = t + 1;
    let shared: Arc<dyn RevocationStore> = Arc::new(b_store);
    assert!(!shared.is_revoked(keys.of_session(Some(sid), None, sub).as_slice(), created));
    let check = b.run("redis/check through Arc<dyn RevocationStore>", || {
        shared.is_revoked(keys.of_session(Some(sid), None, sub).as_slice(), created)
    });
    if let Some(check) = check {
        println!(
            "{:<44} median {:>10}   (target <= 0.5 µs: {})",
            "redis/revocation check per guarded request",
            fmt(check.median),
            if check.median <= Duration::from_nanos(500) {
                "met"
            } else {
                "MISSED"
            }
        );
    }

    // Propagation: from just before A's write (one EVAL round trip) until B's copy answers.
    let mut took = Vec::new();
    for i in 0..200 {
        let key = keys.sid(&format!("propagation-{i}"));
        let start = Instant::now();
        rt.block_on(a.share_marker(key, t, t + 3600, t)).unwrap();
        while !shared.is_revoked(&[key], t) {
            assert!(start.elapsed() < Duration::from_secs(1), "marker {i} lost");
            std::hint::spin_loop();
        }
        took.push(start.elapsed());
    }
    took.sort();
    println!(
        "{:<44} median {:>10}   (p99 {:>10}, max {:>10}; target < 100 ms)",
        "redis/propagation A → B (200 markers)",
        fmt(took[100]),
        fmt(took[197]),
        fmt(took[199])
    );
    drop(shared);
    drop(a);
    drop(rt);
}
