//! Two real app instances (two Rocket servers on two ports, one `secret_key`, one
//! `redis-server`, the development issuer), as behind a load balancer.

use std::time::{Duration, Instant};

use rocket::figment::Figment;
use rocket_openid_connect::dev_issuer::{DevClient, DevIssuer};

use crate::common::*;
use crate::server::RedisServer;

const ADA: &str = "ada-lovelace-1815";
const BCL: &str = "/backchannel-logout";

/// The test app's figment on `port` with the store at `redis_url`.
fn figment(issuer: &DevIssuer, port: u16, redis_url: &str) -> Figment {
    app_figment(issuer.issuer_url(), port)
        .merge(("oidc.store.url", redis_url))
        .merge(("oidc.store.command_timeout_ms", 300))
}

/// A dev issuer, and apps A and B sharing `redis`; the issuer sends back-channel logouts to A.
struct Pair {
    issuer: DevIssuer,
    a: App,
    b: App,
}

impl Pair {
    async fn start(redis: &RedisServer) -> Pair {
        init_logging();
        let issuer = DevIssuer::start().await.expect("dev issuer starts");
        issuer.set_auto_login(Some("ada"));
        let (port_a, port_b) = (free_port(), free_port());
        let a = launch(test_app(figment(&issuer, port_a, &redis.url(0))))
            .await
            .expect("A launches");
        let b = launch(test_app(figment(&issuer, port_b, &redis.url(0))))
            .await
            .expect("B launches");
        issuer.register_client(
            DevClient::default_client()
                .backchannel_logout_uri(a.url(BCL))
                .backchannel_logout_session_required(true),
        );
        Pair { issuer, a, b }
    }

    async fn stop(self) {
        self.a.stop().await;
        self.b.stop().await;
        self.issuer.stop().await;
    }

    /// A browser signed in on A, and a copy of its cookies for B (stateless sessions: the
    /// same cookie works on both, as behind a load balancer).
    async fn signed_in(&self) -> (Browser, Browser) {
        let browser = Browser::new();
        let landed = login(&browser, &self.a, "/protected").await.pop().unwrap();
        assert_eq!(landed.body, format!("Only for {ADA}"));
        let on_b = Browser::new();
        for (name, value) in browser.cookies(&self.a.base) {
            on_b.set_cookie(&self.b.base, &name, &value);
        }
        assert_eq!(api_status(&on_b, &self.b).await, 200);
        (browser, on_b)
    }
}

async fn api_status(b: &Browser, app: &App) -> u16 {
    b.api_client().get(&app.url("/api/me")).await.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_back_channel_logout_posted_to_a_signs_the_user_out_on_b_within_100_ms() {
    let redis = RedisServer::start(&[]);
    let pair = Pair::start(&redis).await;
    let (on_a, on_b) = pair.signed_in().await;
    let start = Instant::now();
    let sent = pair.issuer.logout_everywhere("ada").await;
    let posted = start.elapsed();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].status, Some(200), "{sent:?}");
    // B polled over HTTP, as a user's next request would be. The figure is when the first
    // refused request started: the marker was in B's copy by then (an upper bound, which
    // leaves out the debug build's own request time).
    let answered = Instant::now();
    let propagation = loop {
        let asked = answered.elapsed();
        if api_status(&on_b, &pair.b).await == 401 {
            break asked;
        }
        assert!(
            answered.elapsed() < Duration::from_secs(1),
            "B never signed ada out"
        );
    };
    println!(
        "back-channel logout: A answered the provider in {posted:?}; the first request B \
         refused started {propagation:?} after that"
    );
    assert!(propagation < Duration::from_millis(100), "{propagation:?}");
    assert_eq!(api_status(&on_a, &pair.a).await, 401);
    pair.stop().await;
}

#[tokio::test]
async fn launch_fails_naming_oidc_store_url_when_redis_is_down() {
    init_logging();
    let issuer = DevIssuer::start().await.expect("dev issuer starts");
    let port = free_port();
    let nowhere = format!("redis://127.0.0.1:{}/0", free_port());
    let start = Instant::now();
    assert_fairing_fails(test_app(figment(&issuer, port, &nowhere))).await;
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_logged(&["oidc.store.url", "Cannot reach Redis", &nowhere]);
    assert_eq!(
        issuer.counters().discovery,
        0,
        "the store is checked before discovery"
    );
    issuer.stop().await;
}

#[tokio::test]
async fn launch_fails_naming_password_env_when_its_variable_is_missing() {
    init_logging();
    let redis = RedisServer::start(&[]);
    let issuer = DevIssuer::start().await.expect("dev issuer starts");
    let f = figment(&issuer, free_port(), &redis.url(0))
        .merge(("oidc.store.password_env", "ROCKET_OIDC_TEST_UNSET_REDIS_PW"));
    assert_fairing_fails(test_app(f)).await;
    assert_logged(&[
        "oidc.store.password_env",
        "ROCKET_OIDC_TEST_UNSET_REDIS_PW",
        "not set",
    ]);
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_while_serving_sessions_go_on_and_no_revocation_is_lost_after_restart() {
    let mut redis = RedisServer::start(&[]);
    let pair = Pair::start(&redis).await;
    let (on_a, on_b) = pair.signed_in().await;

    redis.kill();
    // Every request keeps being served from the local copies: no 5xx, not one.
    for _ in 0..20 {
        assert_eq!(api_status(&on_a, &pair.a).await, 200);
        assert_eq!(api_status(&on_b, &pair.b).await, 200);
    }
    // The provider's logout reaches A while Redis is down: A honours it at once, and says 200.
    let sent = pair.issuer.logout_everywhere("ada").await;
    assert_eq!(sent[0].status, Some(200), "{sent:?}");
    assert_eq!(api_status(&on_a, &pair.a).await, 401);
    // B cannot know yet: what Redis being down costs, until it is back.
    assert_eq!(api_status(&on_b, &pair.b).await, 200);
    assert_logged(&["lost the Redis store", "local copy"]);

    redis.restart();
    let back = Instant::now();
    while api_status(&on_b, &pair.b).await != 401 {
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "the logout never reached B"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "Redis restarted empty: B refused the session {:?} after the server was ready",
        back.elapsed()
    );
    assert_logged(&["Redis store at", "is back after"]);
    // The marker is in Redis again (A wrote it back): a third instance would see it too.
    let keys = redis.cli(&["--scan", "--pattern", "oidc:rev:*"]);
    assert!(!keys.is_empty(), "repaired into Redis");
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_slows_no_page_and_bounds_the_back_channel_logout() {
    let redis = RedisServer::start(&[]);
    let pair = Pair::start(&redis).await;
    let (on_a, on_b) = pair.signed_in().await;
    redis.signal("STOP");
    // Pages never wait for Redis: the check reads the local copy.
    for _ in 0..10 {
        let start = Instant::now();
        assert_eq!(api_status(&on_b, &pair.b).await, 200);
        assert!(
            start.elapsed() < Duration::from_millis(250),
            "{:?}",
            start.elapsed()
        );
    }
    // The logout endpoint's Redis calls (the replay check, a marker by sid and one by sub)
    // give up after command_timeout_ms (300 ms) each, until the heartbeat (1 s) marks Redis
    // unreachable and they are skipped; the logout still counts on A.
    let start = Instant::now();
    let sent = pair.issuer.logout_everywhere("ada").await;
    let took = start.elapsed();
    assert_eq!(sent[0].status, Some(200), "{sent:?}");
    assert!(took < Duration::from_millis(2000), "{took:?}");
    println!("back-channel logout with Redis hung: answered 200 in {took:?}");
    assert_eq!(api_status(&on_a, &pair.a).await, 401);
    redis.signal("CONT");
    let resumed = Instant::now();
    while api_status(&on_b, &pair.b).await != 401 {
        assert!(
            resumed.elapsed() < Duration::from_secs(5),
            "the logout never reached B"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    pair.stop().await;
}
