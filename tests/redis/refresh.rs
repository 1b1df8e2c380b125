//! Refresh across two real app instances sharing one Redis: one token call per refresh token,
//! with the development issuer's strict rotation (a second redemption would revoke the grant).

use std::time::Duration;

use rocket::figment::Figment;
use rocket_openid_connect::dev_issuer::{DevIssuer, Fault, RefreshRotation};

use crate::common::*;
use crate::server::RedisServer;

/// An app on `port` with the store at `redis_url`, skew 0 (the new 2 s token is not due again
/// while the test looks at it).
fn figment(issuer: &DevIssuer, port: u16, redis_url: &str) -> Figment {
    app_figment(issuer.issuer_url(), port)
        .merge(("oidc.store.url", redis_url))
        .merge(("oidc.refresh.skew_secs", 0))
        .merge(("log_level", "critical"))
}

async fn issuer() -> DevIssuer {
    init_logging();
    let issuer = DevIssuer::builder()
        .access_token_lifetime(Duration::from_secs(2))
        .refresh_rotation(RefreshRotation::Strict {
            grace: Duration::ZERO,
        })
        .start()
        .await
        .expect("dev issuer starts");
    issuer.set_auto_login(Some("ada"));
    issuer
}

/// Makes the access token in `b`'s session for `app` look expired a second ago.
fn expire_access_token(b: &Browser, app: &App) {
    let mut data = browser_session(b, app);
    data.access_expires_at = Some(time::OffsetDateTime::now_utc().unix_timestamp() - 1);
    set_browser_session(b, app, &data);
}

/// (refresh calls, revoked, revoked by reuse) of the issuer's one grant.
fn grant(issuer: &DevIssuer) -> (u64, bool, bool) {
    let g = &issuer.grants()[0];
    (g.refresh_calls, g.revoked, g.revoked_by_reuse)
}

/// 25 concurrent API requests to each of `a` and `b`, all with `browser`'s (expired) cookie:
/// their statuses, and one client per instance holding the cookies of an answer.
async fn burst(browser: &Browser, a: &App, b: &App) -> (Vec<u16>, Browser, Browser) {
    let cookies = browser.cookies(&a.base);
    let mut requests = Vec::new();
    for i in 0..50 {
        let app = if i % 2 == 0 { a } else { b };
        let client = Browser::api();
        for (name, value) in &cookies {
            client.set_cookie(&app.base, name, value);
        }
        let url = app.url("/api/me");
        requests.push(tokio::spawn(
            async move { (client.get(&url).await, client) },
        ));
    }
    let mut statuses = Vec::new();
    let mut clients = Vec::new();
    for request in requests {
        let (resp, client) = request.await.unwrap();
        statuses.push(resp.status);
        clients.push(client);
    }
    let on_b = clients.remove(1);
    let on_a = clients.remove(0);
    (statuses, on_a, on_b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_requests_split_across_two_instances_make_one_refresh_call_under_strict_rotation() {
    let redis = RedisServer::start(&[]);
    let issuer = issuer().await;
    let a = launch(test_app(figment(&issuer, free_port(), &redis.url(0))))
        .await
        .expect("A launches");
    let b = launch(test_app(figment(&issuer, free_port(), &redis.url(0))))
        .await
        .expect("B launches");
    let browser = Browser::new();
    login(&browser, &a, "/").await;
    let before = browser_session(&browser, &a);
    expire_access_token(&browser, &a);
    // A slow token endpoint: all 50 requests are in flight during the one refresh.
    issuer.set_fault(Fault::DelayToken(Duration::from_millis(300)));
    let (statuses, on_a, on_b) = burst(&browser, &a, &b).await;
    issuer.clear_faults();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        grant(&issuer),
        (1, false, false),
        "exactly one refresh call at the issuer, and the grant alive"
    );
    let (new_a, new_b) = (browser_session(&on_a, &a), browser_session(&on_b, &b));
    assert_eq!(
        new_a.refresh_token, new_b.refresh_token,
        "both serve the new tokens"
    );
    assert_ne!(new_a.refresh_token, before.refresh_token, "rotated");
    a.stop().await;
    b.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_each_instance_falls_back_to_its_own_single_flight() {
    let mut redis = RedisServer::start(&[]);
    let issuer = issuer().await;
    let a = launch(test_app(figment(&issuer, free_port(), &redis.url(0))))
        .await
        .expect("A launches");
    let browser = Browser::new();
    login(&browser, &a, "/").await;
    expire_access_token(&browser, &a);
    redis.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await; // the heartbeat notices
    issuer.set_fault(Fault::DelayToken(Duration::from_millis(300)));
    let (statuses, _, _) = burst(&browser, &a, &a).await;
    issuer.clear_faults();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        grant(&issuer),
        (1, false, false),
        "one call: the local coordinator"
    );
    a.stop().await;
    issuer.stop().await;
}
