//! The store's own operations, two or three instances (stores) sharing one Redis.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rocket_openid_connect::__internals::{
    redis_settings, FlightError, FlightSettings, Outcome, RedisSettings,
};
use rocket_openid_connect::{MemoryStore, RedisStore, RevocationStore, StoreConfig, StoreKey};

use crate::server::{free_port, RedisServer};

/// A password no error message may contain.
const PASSWORD: &str = "test-PW-5e7a91";

/// The settings of `url`, with `password_env` read from `env`.
fn settings_with(url: &str, password_env: Option<&str>, env: Option<&str>) -> RedisSettings {
    let config = StoreConfig {
        url: Some(url.into()),
        password_env: password_env.map(Into::into),
        command_timeout_ms: 300,
        connect_timeout_ms: 500,
        ..StoreConfig::default()
    };
    redis_settings(&config, |_| env.map(Into::into))
        .expect("valid settings")
        .expect("a url")
}

fn settings(server: &RedisServer) -> RedisSettings {
    settings_with(&server.url(0), None, None)
}

async fn store(settings: &RedisSettings) -> RedisStore {
    RedisStore::connect(settings, Arc::new(MemoryStore::default()))
        .await
        .expect("the store connects")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn key(n: u8) -> StoreKey {
    StoreKey::from_bytes([n; 32])
}

/// Waits up to `limit` for `done`, polling every millisecond; how long it took.
async fn until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    start.elapsed()
}

#[tokio::test]
async fn launch_fails_at_once_when_nothing_listens() {
    let settings = settings_with(&format!("redis://127.0.0.1:{}/0", free_port()), None, None);
    let start = Instant::now();
    let err = RedisStore::connect(&settings, Arc::default())
        .await
        .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_millis(800),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(err.key, "oidc.store.url");
    assert!(err.message.contains("Cannot reach Redis"), "{err}");
    assert!(err.message.contains("start redis-server"), "{err}");
}

#[tokio::test]
async fn launch_fails_within_the_timeouts_when_redis_hangs() {
    let server = RedisServer::start(&[]);
    server.signal("STOP");
    let start = Instant::now();
    let err = RedisStore::connect(&settings(&server), Arc::default())
        .await
        .unwrap_err();
    let took = start.elapsed();
    server.signal("CONT");
    // connect_timeout_ms + command_timeout_ms = 800 ms at most, plus scheduling.
    assert!(took < Duration::from_millis(1300), "{took:?}");
    assert_eq!(err.key, "oidc.store.url", "{err}");
    assert!(err.message.contains("did not answer within"), "{err}");
}

#[tokio::test]
async fn the_password_comes_from_the_environment_and_errors_name_password_env() {
    let server = RedisServer::start(&["--requirepass", PASSWORD]);
    let none = RedisStore::connect(&settings(&server), Arc::default())
        .await
        .unwrap_err();
    assert_eq!(none.key, "oidc.store.password_env", "{none}");
    assert!(none.message.contains("requires a password"), "{none}");

    let wrong = settings_with(&server.url(0), Some("REDIS_PW"), Some("not-it"));
    let wrong = RedisStore::connect(&wrong, Arc::default())
        .await
        .unwrap_err();
    assert_eq!(wrong.key, "oidc.store.password_env", "{wrong}");
    assert!(wrong.message.contains("WRONGPASS"), "{wrong}");

    let good = settings_with(&server.url(0), Some("REDIS_PW"), Some(PASSWORD));
    assert!(!format!("{good:?}").contains(PASSWORD));
    let store = store(&good).await;
    assert!(store.status().connected);
    assert!(!format!("{store:?}").contains(PASSWORD));
    for err in [none, wrong] {
        assert!(!err.to_string().contains(PASSWORD), "{err}");
    }
}

#[tokio::test]
async fn a_marker_written_on_one_instance_is_honoured_by_the_other_within_100_ms() {
    let server = RedisServer::start(&[]);
    let a = store(&settings(&server)).await;
    let b = store(&settings(&server)).await;
    let created = now() - 10;
    let mut took = Vec::new();
    for n in 0..100u8 {
        assert!(!b.is_revoked(&[key(n)], created));
        let start = Instant::now();
        a.share_marker(key(n), now(), now() + 3600, now())
            .await
            .unwrap();
        // Polled without sleeping: the figure is the propagation, not a sleep's granularity.
        while !b.is_revoked(&[key(n)], created) {
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "marker {n} never arrived"
            );
            tokio::task::yield_now().await;
        }
        took.push(start.elapsed());
    }
    took.sort();
    let (median, p99, max) = (took[50], took[98], took[99]);
    println!("A → B propagation over 100 markers: median {median:?}, p99 {p99:?}, max {max:?}");
    assert!(max < Duration::from_millis(100), "max {max:?}");
    assert_eq!(b.status().messages, 100);
    // The marker is what Redis holds: "<logged_out_at> <expires_at>" under a digest.
    let value = server.cli(&["GET", &format!("oidc:rev:{}", "00".repeat(32))]);
    assert!(value.split(' ').count() == 2, "{value}");
}

#[tokio::test]
async fn a_later_marker_wins_and_an_earlier_one_changes_nothing() {
    let server = RedisServer::start(&[]);
    let a = store(&settings(&server)).await;
    let t = now();
    a.share_marker(key(1), t, t + 100, t).await.unwrap();
    a.share_marker(key(1), t - 50, t + 50, t).await.unwrap();
    let name = format!("oidc:rev:{}", "01".repeat(32));
    assert_eq!(server.cli(&["GET", &name]), format!("{t} {}", t + 100));
    a.share_marker(key(1), t + 5, t + 200, t).await.unwrap();
    assert_eq!(
        server.cli(&["GET", &name]),
        format!("{} {}", t + 5, t + 200)
    );
    let ttl: i64 = server.cli(&["TTL", &name]).parse().unwrap();
    assert!((198..=200).contains(&ttl), "{ttl}");
    // A marker that has expired already is not written.
    a.share_marker(key(2), t - 10, t - 1, t).await.unwrap();
    assert_eq!(
        server.cli(&["EXISTS", &format!("oidc:rev:{}", "02".repeat(32))]),
        "0"
    );
}

#[tokio::test]
async fn a_new_instance_loads_every_marker_at_launch_and_prefixes_keep_apps_apart() {
    let server = RedisServer::start(&[]);
    let a = store(&settings(&server)).await;
    for n in 0..50 {
        a.share_marker(key(n), now(), now() + 3600, now())
            .await
            .unwrap();
    }
    let b = store(&settings(&server)).await;
    assert_eq!(b.local().len(), 50);
    assert!(b.is_revoked(&[key(49)], now() - 1));
    let mut other = settings(&server);
    other.key_prefix = "other*app:".into();
    let c = store(&other).await;
    assert_eq!(c.local().len(), 0, "another prefix sees none of them");
}

#[tokio::test]
async fn redis_killed_and_restarted_empty_every_marker_survives_and_is_repaired() {
    let mut server = RedisServer::start(&[]);
    let a = store(&settings(&server)).await;
    let b = store(&settings(&server)).await;
    let created = now() - 10;
    a.share_marker(key(1), now(), now() + 3600, now())
        .await
        .unwrap();
    until(Duration::from_secs(1), "k1 on B", || {
        b.is_revoked(&[key(1)], created)
    })
    .await;

    server.kill();
    until(Duration::from_secs(3), "A and B see the loss", || {
        !a.status().connected && !b.status().connected
    })
    .await;
    // Both keep answering from their copies, in memory.
    assert!(a.is_revoked(&[key(1)], created) && b.is_revoked(&[key(1)], created));
    // A logout received while Redis is down: honoured by A at once, Redis skipped at once.
    let start = Instant::now();
    let err = a
        .share_marker(key(2), now(), now() + 3600, now())
        .await
        .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_millis(50),
        "{:?}",
        start.elapsed()
    );
    assert!(err.contains("unreachable"), "{err}");
    assert!(a.is_revoked(&[key(2)], created));
    assert!(!b.is_revoked(&[key(2)], created));

    server.restart();
    let restarted = Instant::now();
    let back = until(Duration::from_secs(5), "both resynced", || {
        a.status().connected && b.status().connected
    })
    .await;
    let delivered = until(Duration::from_secs(2), "k2 on B", || {
        b.is_revoked(&[key(2)], created)
    })
    .await;
    println!(
        "Redis restarted empty: both instances resynced {back:?} after it was ready, k2 \
         reached B {:?} after the restart",
        restarted.elapsed().min(back + delivered)
    );
    // Redis holds both again: the instances wrote back what it lost.
    for n in [1u8, 2] {
        let name = format!("oidc:rev:{}", hex(n));
        assert_eq!(server.cli(&["EXISTS", &name]), "1", "marker {n} repaired");
    }
    assert!(a.status().repaired + b.status().repaired >= 2);
    assert_eq!(a.status().disconnects, 1);
    // Pub/sub works again, both ways.
    b.share_marker(key(3), now(), now() + 3600, now())
        .await
        .unwrap();
    until(Duration::from_millis(500), "k3 on A", || {
        a.is_revoked(&[key(3)], created)
    })
    .await;
    // A fresh instance sees all three.
    let c = store(&settings(&server)).await;
    assert!([1, 2, 3].iter().all(|n| c.is_revoked(&[key(*n)], created)));
}

fn hex(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

#[tokio::test]
async fn a_hung_redis_bounds_every_call_and_the_check_stays_in_memory() {
    let server = RedisServer::start(&[]);
    let a = store(&settings(&server)).await;
    let b = store(&settings(&server)).await;
    a.share_marker(key(1), now(), now() + 3600, now())
        .await
        .unwrap();
    server.signal("STOP");
    // Until the heartbeat notices, a call waits for the command timeout (300 ms), no more.
    let start = Instant::now();
    let err = a
        .share_marker(key(2), now(), now() + 3600, now())
        .await
        .unwrap_err();
    let took = start.elapsed();
    assert!(took < Duration::from_millis(450), "{took:?}");
    assert!(
        ["timed out", "300 ms", "unreachable"]
            .iter()
            .any(|e| err.contains(e)),
        "{err}"
    );
    let start = Instant::now();
    assert!(b.share_jti(key(9), now() + 60, now()).await.is_err());
    assert!(
        start.elapsed() < Duration::from_millis(450),
        "{:?}",
        start.elapsed()
    );
    // The check itself never waits.
    let start = Instant::now();
    for _ in 0..1000 {
        assert!(a.is_revoked(&[key(1)], now() - 10));
    }
    assert!(
        start.elapsed() < Duration::from_millis(20),
        "{:?}",
        start.elapsed()
    );
    until(Duration::from_secs(3), "the heartbeat notices", || {
        !a.status().connected
    })
    .await;
    server.signal("CONT");
    until(Duration::from_secs(5), "both resync", || {
        a.status().connected && b.status().connected
    })
    .await;
    until(Duration::from_secs(1), "k2 repaired to B", || {
        b.is_revoked(&[key(2)], now() - 10)
    })
    .await;
}

#[tokio::test]
async fn a_logout_token_jti_is_accepted_once_across_instances() {
    let server = RedisServer::start(&[]);
    let a = store(&settings(&server)).await;
    let b = store(&settings(&server)).await;
    assert_eq!(a.share_jti(key(7), now() + 120, now()).await, Ok(true));
    assert_eq!(b.share_jti(key(7), now() + 120, now()).await, Ok(false));
    assert_eq!(a.share_jti(key(7), now() + 120, now()).await, Ok(false));
    assert_eq!(b.share_jti(key(8), now() + 120, now()).await, Ok(true));
    let ttl: i64 = server
        .cli(&["TTL", &format!("oidc:jti:{}", hex(7))])
        .parse()
        .unwrap();
    assert!((118..=120).contains(&ttl), "{ttl}");
}

fn flight() -> FlightSettings {
    FlightSettings {
        lock_ttl: Duration::from_millis(2000),
        timeout: Duration::from_millis(300),
        poll: Duration::from_millis(10),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_refreshes_on_two_instances_make_one_call_and_share_its_result() {
    let server = RedisServer::start(&[]);
    let a = Arc::new(store(&settings(&server)).await);
    let b = Arc::new(store(&settings(&server)).await);
    let calls = Arc::new(AtomicUsize::new(0));
    let (id, secret) = ([5u8; 32], [6u8; 32]);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let calls = calls.clone();
        tasks.push(tokio::spawn(async move {
            let upstream = async {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(200)).await;
                (b"new tokens".to_vec(), Duration::from_secs(30))
            };
            match store.refresh_once(&id, &secret, &flight(), upstream).await {
                Ok(Outcome::Won(v)) => (true, v),
                Ok(Outcome::Shared(v)) => (false, v),
                Err(e) => panic!("{e:?}"),
            }
        }));
    }
    let mut won = 0;
    for task in tasks {
        let (w, value) = task.await.unwrap();
        won += usize::from(w);
        assert_eq!(value, b"new tokens");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(won, 1);
    // Redis holds ciphertext only.
    let stored = server.cli(&["GET", &format!("oidc:refresh:{{{}}}:result", hex(5))]);
    assert!(
        !stored.contains("new tokens") && !stored.is_empty(),
        "{stored}"
    );
    // A late request with the old cookie gets the same result without a call.
    let late = a
        .refresh_once(&id, &secret, &flight(), async {
            unreachable!("no second call")
        })
        .await;
    assert!(matches!(late, Ok(Outcome::Shared(v)) if v == b"new tokens"));
}

#[tokio::test]
async fn a_lock_left_by_a_dead_winner_is_taken_over_after_its_lifetime() {
    let server = RedisServer::start(&[]);
    let a = store(&settings(&server)).await;
    let id = [3u8; 32];
    let lock = format!("oidc:refresh:{{{}}}:lock", hex(3));
    assert_eq!(server.cli(&["SET", &lock, "dead", "PX", "300"]), "OK");
    let start = Instant::now();
    let got = a
        .refresh_once(&id, &[4; 32], &flight(), async {
            (b"taken over".to_vec(), Duration::from_secs(5))
        })
        .await;
    let took = start.elapsed();
    assert!(
        matches!(got, Ok(Outcome::Won(ref v)) if v == b"taken over"),
        "{got:?}"
    );
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_millis(800),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_refresh_without_redis_is_handed_back_and_one_seen_locked_is_not_made() {
    let mut server = RedisServer::start(&[]);
    let a = store(&settings(&server)).await;
    // Another instance holds the lock, then Redis dies: do not refresh (strict rotation).
    let lock = format!("oidc:refresh:{{{}}}:lock", hex(3));
    server.cli(&["SET", &lock, "other", "PX", "5000"]);
    let settings = flight();
    let waiting = a.refresh_once(&[3; 32], &[4; 32], &settings, async {
        unreachable!("another instance is refreshing")
    });
    let kill = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        server.kill();
    };
    let (got, ()) = tokio::join!(waiting, kill);
    assert!(matches!(got, Err(FlightError::Lost(_))), "{got:?}");
    // Redis down before any lock: the call is handed back, not started, to be made locally.
    until(Duration::from_secs(3), "the loss is noticed", || {
        !a.status().connected
    })
    .await;
    let got = a
        .refresh_once(&[3; 32], &[4; 32], &flight(), async {
            (b"local".to_vec(), Duration::from_secs(1))
        })
        .await;
    match got {
        Err(FlightError::Unavailable(upstream, reason)) => {
            assert!(reason.contains("unreachable"), "{reason}");
            assert_eq!(upstream.await.0, b"local");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rediss_with_a_private_ca_and_a_password_and_the_errors_without_them() {
    let server = RedisServer::start_tls();
    let url = format!("rediss://127.0.0.1:{}/0", server.port);
    let config = |ca: Option<String>| StoreConfig {
        url: Some(url.clone()),
        ca_file: ca,
        ..StoreConfig::default()
    };
    // The CA given: TLS works, pub/sub included.
    let settings = redis_settings(&config(Some(server.ca_file())), |_| None)
        .unwrap()
        .unwrap();
    assert!(settings.tls);
    let a = store(&settings).await;
    let b = store(&settings).await;
    a.share_marker(key(1), now(), now() + 60, now())
        .await
        .unwrap();
    until(Duration::from_secs(1), "k1 on B over TLS", || {
        b.is_revoked(&[key(1)], now() - 5)
    })
    .await;
    // Without it the system roots do not know the CA: the error names ca_file.
    let without = redis_settings(&config(None), |_| None).unwrap().unwrap();
    let err = RedisStore::connect(&without, Arc::default())
        .await
        .unwrap_err();
    assert_eq!(err.key, "oidc.store.ca_file", "{err}");
    // redis:// to the TLS port: the error says which scheme to use.
    let plain = settings_with(&format!("redis://127.0.0.1:{}/0", server.port), None, None);
    let err = RedisStore::connect(&plain, Arc::default())
        .await
        .unwrap_err();
    assert_eq!(err.key, "oidc.store.url", "{err}");
    assert!(err.message.contains("rediss://"), "{err}");
}
