//! Shared by `benches/oidc.rs` and `examples/bench_app.rs`: a tiny timing harness and a recorder
//! of a real login at the development issuer.
#![allow(dead_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::serde::json::serde_json::{self, Map, Value};
use rocket_openid_connect::dev_issuer::{DevIssuer, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};

/// Median and spread of one benchmark, per iteration.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub median: Duration,
    pub p10: Duration,
    pub p90: Duration,
}

/// Warm-up, then `samples` batches of as many iterations as fill ~2 ms each; per-iteration
/// median and 10th/90th percentiles of the batches. Quick mode (`BENCH_QUICK=1`) takes fewer
/// samples.
pub fn measure<T>(mut f: impl FnMut() -> T) -> Stats {
    let quick = std::env::var_os("BENCH_QUICK").is_some();
    let warm = Duration::from_millis(if quick { 50 } else { 300 });
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < warm {
        black_box(f());
        n += 1;
    }
    let per_iter = start.elapsed().as_secs_f64() / n as f64;
    let batch = ((0.002 / per_iter).ceil() as u64).max(1);
    let samples = if quick { 11 } else { 51 };
    let mut times: Vec<f64> = (0..samples)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                black_box(f());
            }
            t.elapsed().as_secs_f64() / batch as f64
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    let at =
        |q: f64| Duration::from_secs_f64(times[((times.len() - 1) as f64 * q).round() as usize]);
    Stats {
        median: at(0.5),
        p10: at(0.1),
        p90: at(0.9),
    }
}

pub fn fmt(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The provider's answers to one login, recorded from a real development issuer.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub issuer: String,
    pub token_response: String,
    pub userinfo: String,
    pub jwks: String,
    pub state: String,
    pub nonce: String,
    pub code: String,
}

/// The redirect URI the recorded login used (the default dev client accepts any loopback port).
pub const REDIRECT_URI: &str = "http://127.0.0.1:8000/authorization-code/callback";

/// Logs `user` in at `issuer` (auto-login must be on) with a known state and nonce, and records
/// the token, userinfo and JWKS answers.
pub async fn record_login(issuer: &DevIssuer, user: &str) -> Recorded {
    use sha2::Digest;
    issuer.set_auto_login(Some(user));
    let base = issuer.issuer_url().to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let state = "bench-state-0123456789abcdef".to_owned();
    let nonce = "bench-nonce-0123456789abcdef".to_owned();
    let verifier = "bench-verifier-0123456789abcdef0123456789abcdef".to_owned();
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let authorize = http
        .get(format!("{base}/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid profile email"),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    let location = authorize.headers()["location"].to_str().unwrap().to_owned();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("auto-login redirects with a code");
    let token_response = http
        .post(format!("{base}/token"))
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let tokens: Map<String, Value> = serde_json::from_str(&token_response).unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let userinfo = http
        .get(format!("{base}/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let jwks = http
        .get(format!("{base}/jwks"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    Recorded {
        issuer: base,
        token_response,
        userinfo,
        jwks,
        state,
        nonce,
        code,
    }
}
