//! What a refresh costs (issue 13): a request that refreshes, with the provider's time left out
//! (its parts measured one by one), and a burst of 50 concurrent requests with one expired
//! session against a real app and a real development issuer over loopback, as a figure: token
//! calls per burst and the burst's latency percentiles.

use std::time::{Duration, Instant};

use rocket::http::private::cookie;
use rocket::http::{Cookie, Status};
use rocket::serde::json::serde_json;
use rocket_openid_connect::__internals::{
    encode_chunks, validate, ExpectedNonce, SessionData, TokenResponse,
};
use rocket_openid_connect::dev_issuer::{
    DevIssuer, RefreshRotation, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};
use rocket_openid_connect::{
    Config, LocalCoordinator, OidcFairing, RefreshCoordinator, RefreshError, RefreshKey,
};

use super::support::{fmt, record_login};
use super::{encrypt, guard_rocket, now, Bench, Fixture, SECRET_KEY};

/// Concurrent requests per burst, and bursts measured.
const BURST: usize = 50;
const BURSTS: usize = 20;

pub fn run(b: &mut Bench, rt: &tokio::runtime::Runtime, issuer: &DevIssuer, key: &cookie::Key) {
    println!("\n== refresh: a request whose access token is due (provider time excluded) ==");
    let mut config = Config {
        issuer: issuer.issuer_url().to_owned(),
        client_id: DEFAULT_CLIENT_ID.into(),
        client_secret: Some(DEFAULT_CLIENT_SECRET.into()),
        app_base_url: "http://127.0.0.1:8000".into(),
        ..Default::default()
    };
    // Long enough that every timed request finds the one real refresh's result in the cache.
    config.refresh.result_cache_secs = 300;
    issuer.clear_faults();
    let rec = rt.block_on(record_login(issuer, "ada"));
    let fx = Fixture::new(&config, &rec);
    let mut data = fx.session(&rec);
    let fresh = encrypt(key, &encode_chunks(&data).unwrap());
    data.access_expires_at = Some(now() - 1);
    let due = encrypt(key, &encode_chunks(&data).unwrap());

    // The guard with the provider offline but for its token endpoint, the real dev issuer: the
    // first request makes the one real refresh, the timed ones share its cached result, so what
    // they measure is this crate's work on the request path: the due check, the key, the cache,
    // the merge, the new claims and the new, encrypted session cookie.
    let client = guard_rocket(&config, &fx, false);
    let dispatch = |cookies: &[(String, String, String)]| {
        let mut req = client.get("/guarded");
        for (name, value, _) in cookies {
            req = req.cookie(Cookie::new(name.clone(), value.clone()));
        }
        let resp = req.dispatch();
        let set = resp.headers().get("set-cookie").count();
        (resp.status(), set)
    };
    let (status, set) = dispatch(&due);
    assert_eq!(status, Status::Ok);
    assert!(
        set > 0,
        "the first due request refreshed and wrote the session"
    );
    let calls = issuer.grants().last().map(|g| g.refresh_calls);
    assert_eq!(calls, Some(1), "one real refresh");
    let not_due = b.run("refresh/request, token not due (baseline)", || {
        dispatch(&fresh)
    });
    let cached = b.run("refresh/request, token due, result cached", || {
        dispatch(&due)
    });
    assert_eq!(
        issuer.grants().last().map(|g| g.refresh_calls),
        Some(1),
        "the timed requests made no call"
    );

    // The refresh itself, without the provider: the answer parsed and its ID token validated
    // (the key set cached), the cache key, and the coordinator's leader path (a spawned task and
    // a channel) around an instant refresh.
    // A login of its own: the first one's refresh token was redeemed above (and rotated).
    let rec = rt.block_on(record_login(issuer, "ada"));
    let refresh_token = serde_json::from_str::<TokenResponse>(&rec.token_response)
        .unwrap()
        .refresh_token
        .unwrap();
    let answer = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/token", issuer.issuer_url()))
            .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.as_str()),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    let checked = || {
        let t: TokenResponse = serde_json::from_str(&answer).unwrap();
        validate(
            &fx.rules,
            &fx.keys,
            t.id_token.as_deref().unwrap(),
            ExpectedNonce::IfPresent(&rec.nonce),
            Some(&t.access_token),
            now(),
        )
        .is_ok()
    };
    assert!(checked(), "the recorded refresh answer validates");
    let flight = b.run("refresh/answer parsed + ID token validated", checked);
    let hashed = b.run("refresh/RefreshKey::new (SHA-256 + HKDF)", || {
        RefreshKey::new("default", &refresh_token)
    });
    let coordinator = LocalCoordinator::new(Duration::ZERO, Duration::ZERO);
    let key_once = RefreshKey::new("default", &refresh_token);
    let leader = b.run("refresh/coordinator leader, instant refresh", || {
        // Inside the runtime: the leader spawns its flight.
        rt.block_on(async {
            coordinator
                .run(
                    key_once.clone(),
                    Box::pin(async { Err(RefreshError::Unavailable("instant".into())) }),
                )
                .await
        })
    });
    if let (Some(n), Some(c), Some(f), Some(h), Some(l)) = (not_due, cached, flight, hashed, leader)
    {
        let path = c.median.saturating_sub(n.median);
        println!(
            "{:<44} median {:>10}   (request path {} + answer {} + key {} + leader {})",
            "refresh/own cost of a refreshing request",
            fmt(path + f.median + h.median + l.median),
            fmt(path),
            fmt(f.median),
            fmt(h.median),
            fmt(l.median)
        );
    }

    if b.filter
        .as_deref()
        .is_some_and(|f| !"refresh/burst".contains(f))
    {
        return;
    }
    burst(rt, key);
}

/// 50 concurrent requests with one expired session, `BURSTS` times, against a real app with
/// the fairing and a dev issuer with strict rotation (a second redemption would revoke the
/// grant), over loopback; and the same bursts with a session that is not due, for comparison.
fn burst(rt: &tokio::runtime::Runtime, key: &cookie::Key) {
    println!(
        "\n== refresh/burst: {BURST} concurrent requests, one expired session, {BURSTS} bursts =="
    );
    let issuer = rt
        .block_on(
            DevIssuer::builder()
                .refresh_rotation(RefreshRotation::Strict {
                    grace: Duration::ZERO,
                })
                .start(),
        )
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("secret_key", SECRET_KEY))
        .merge(("log_level", "off"))
        .merge(("shutdown.ctrlc", false))
        .merge(("shutdown.grace", 0))
        .merge(("shutdown.mercy", 0))
        .merge(("oidc.issuer", issuer.issuer_url()))
        .merge(("oidc.client_id", DEFAULT_CLIENT_ID))
        .merge(("oidc.client_secret", DEFAULT_CLIENT_SECRET))
        .merge(("oidc.app_base_url", base.clone()));
    let config = Config::from_figment(&figment).unwrap();
    let rocket = rocket::custom(figment)
        .attach(OidcFairing::new())
        .mount("/", rocket::routes![super::guarded]);
    let ignited = rt.block_on(rocket.ignite()).expect("the app ignites");
    let shutdown = ignited.shutdown();
    let server = rt.spawn(ignited.launch());
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the app listens"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(BURST)
        .build()
        .unwrap();
    let url = format!("{base}/guarded");

    let mut due_latencies = Vec::new();
    let mut fresh_latencies = Vec::new();
    let mut calls = Vec::new();
    let mut revoked = 0;
    for _ in 0..BURSTS {
        let rec = rt.block_on(record_login(&issuer, "ada"));
        let fx = Fixture::new(&config, &rec);
        let mut data = fx.session(&rec);
        let fresh = cookie_header(key, &data);
        data.access_expires_at = Some(now() - 1);
        let due = cookie_header(key, &data);
        fresh_latencies.extend(fire(rt, &http, &url, &fresh));
        due_latencies.extend(fire(rt, &http, &url, &due));
        let grant = issuer.grants().last().cloned().unwrap();
        calls.push(grant.refresh_calls);
        revoked += usize::from(grant.revoked);
    }
    shutdown.notify();
    let _ = rt.block_on(server);
    rt.block_on(issuer.stop());

    let total: u64 = calls.iter().sum();
    println!(
        "{:<44} {:.2} (min {}, max {}); grants revoked: {revoked} of {BURSTS}",
        "token calls per burst",
        total as f64 / BURSTS as f64,
        calls.iter().min().unwrap(),
        calls.iter().max().unwrap()
    );
    for (label, latencies) in [
        ("burst, session due (one refresh)", &mut due_latencies),
        ("burst, session not due (baseline)", &mut fresh_latencies),
    ] {
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        println!(
            "{label:<44} p50 {:>10}   p99 {:>10}   max {:>10}   ({} requests)",
            fmt(at(0.5)),
            fmt(at(0.99)),
            fmt(at(1.0)),
            latencies.len()
        );
    }
}

/// The `Cookie` header a browser holding `data` sends.
fn cookie_header(key: &cookie::Key, data: &SessionData) -> String {
    encrypt(key, &encode_chunks(data).unwrap())
        .iter()
        .map(|c| c.2.clone())
        .collect::<Vec<_>>()
        .join("; ")
}

/// `BURST` requests at once with `cookie`; each one's latency, all answered 200.
fn fire(
    rt: &tokio::runtime::Runtime,
    http: &reqwest::Client,
    url: &str,
    cookie: &str,
) -> Vec<Duration> {
    rt.block_on(async {
        let tasks: Vec<_> = (0..BURST)
            .map(|_| {
                let request = http.get(url).header("cookie", cookie).send();
                tokio::spawn(async move {
                    let started = Instant::now();
                    let response = request.await.expect("the app answers");
                    assert_eq!(response.status(), 200);
                    started.elapsed()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(BURST);
        for task in tasks {
            out.push(task.await.unwrap());
        }
        out
    })
}
