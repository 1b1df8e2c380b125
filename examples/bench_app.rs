//! The app `benches/load.sh` puts under load (issue 8). Not an example to copy: it starts the
//! development issuer, ignites and launches an app on loopback with logging off, signs `ada` in
//! over real HTTP, and writes what the load script needs into `$BENCH_OUT` (default
//! `target/bench-load`):
//!
//! - `cookie.txt`: the session as the browser sends it (`Cookie:` header value);
//! - `sessions.txt`: `$BENCH_SESSIONS` (default 10000) further, distinct sessions, one `Cookie:`
//!   header value a line: the same login with `sub` = `bench-user-NNNNN`, encrypted afresh (the
//!   guard trusts the encrypted cookie and does not re-verify the ID token's signature, so these
//!   are sessions the app serves like any other);
//! - `info.txt`: `key=value` lines (ignite time, session sizes).
//!
//! Then it prints `READY` and serves until stopped (SIGTERM or Ctrl-C).
//!
//! Run: `cargo run --release --example bench_app` (port `$BENCH_PORT`, default 8001), or let
//! `benches/load.sh` do it.

use std::io::Write;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rocket::http::private::cookie;
use rocket::http::Cookie;
use rocket::serde::json::serde_json::{self, Map, Value};
use rocket_openid_connect::__internals::{decode_chunks, encode_chunks};
use rocket_openid_connect::dev_issuer::{DevIssuer, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use rocket_openid_connect::{AuthenticatedUser, OidcFairing, UserContext};

/// Development-only secret key (the test harness's). Never use it anywhere else.
const SECRET_KEY: &str =
    "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk0Xw0HjxM1kyqq8hYUGFspuV6Kea4dPKw4q0S4UOnc9g==";

/// No guard.
#[rocket::get("/plain")]
fn plain() -> &'static str {
    "ok"
}

/// The same answer behind `AuthenticatedUser`.
#[rocket::get("/guarded")]
fn guarded(_user: AuthenticatedUser) -> &'static str {
    "ok"
}

/// The quickstart's page: greets the signed-in user, or a visitor.
#[rocket::get("/")]
fn index(user: Option<UserContext>) -> String {
    match user {
        Some(user) => format!("Hi {}!", user.userinfo.name.as_deref().unwrap_or("there")),
        None => "Hello, stranger. Visit /login".into(),
    }
}

/// The quickstart's protected page (a visitor gets a 303 to login).
#[rocket::get("/protected")]
fn protected(user: AuthenticatedUser) -> String {
    format!("Only for {}", user.userinfo.sub)
}

fn chunk_name(i: usize) -> String {
    if i == 0 {
        "oidc_session".into()
    } else {
        format!("oidc_session.{i}")
    }
}

/// Logs `ada` in through the app and returns the session's `Set-Cookie` headers.
async fn login(app: &str) -> Vec<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http.get(format!("{app}/login")).send().await.unwrap();
    let tx: Vec<String> = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let authorize = login.headers()["location"].to_str().unwrap().to_owned();
    let back = http.get(&authorize).send().await.unwrap();
    let callback = back.headers()["location"].to_str().unwrap().to_owned();
    let done = http
        .get(&callback)
        .header("cookie", tx.join("; "))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status().as_u16(), 303, "callback failed");
    done.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .filter(|c| c.starts_with("oidc_session") && !c.contains("Max-Age=0"))
        .collect()
}

/// `n` distinct sessions derived from `cookie_header`: the same login as other subjects.
fn mint(cookie_header: &str, n: usize) -> Vec<String> {
    let key = cookie::Key::from(&STANDARD.decode(SECRET_KEY).unwrap());
    let mut jar = cookie::CookieJar::new();
    for pair in cookie_header.split("; ") {
        jar.add_original(Cookie::parse_encoded(pair.to_owned()).unwrap());
    }
    let data = decode_chunks(|i| {
        jar.private(&key)
            .get(&chunk_name(i))
            .map(|c| c.value().to_owned())
    })
    .expect("the real session decodes");
    let mut parts: Vec<String> = data.id_token.split('.').map(str::to_owned).collect();
    let mut claims: Map<String, Value> =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    (0..n)
        .map(|i| {
            claims.insert("sub".into(), Value::String(format!("bench-user-{i:05}")));
            parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
            let mut d = data.clone();
            d.id_token = parts.join(".");
            let mut out = cookie::CookieJar::new();
            encode_chunks(&d)
                .unwrap()
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    out.private_mut(&key).add(Cookie::new(chunk_name(i), c));
                    out.get(&chunk_name(i)).unwrap().encoded().to_string()
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .collect()
}

#[rocket::main]
async fn main() {
    let port: u16 = std::env::var("BENCH_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8001);
    let out = std::path::PathBuf::from(
        std::env::var("BENCH_OUT").unwrap_or_else(|_| "target/bench-load".into()),
    );
    let sessions: usize = std::env::var("BENCH_SESSIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    std::fs::create_dir_all(&out).unwrap();

    let issuer = DevIssuer::start().await.expect("dev issuer starts");
    issuer.set_auto_login(Some("ada"));
    let base = format!("http://127.0.0.1:{port}");
    let figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("secret_key", SECRET_KEY))
        .merge(("log_level", "off"))
        .merge(("cli_colors", false))
        .merge(("oidc.issuer", issuer.issuer_url()))
        .merge(("oidc.client_id", DEFAULT_CLIENT_ID))
        .merge(("oidc.client_secret", DEFAULT_CLIENT_SECRET))
        .merge(("oidc.app_base_url", base.as_str()));
    let app = rocket::custom(figment)
        .attach(OidcFairing::new())
        .mount("/", rocket::routes![plain, guarded, index, protected]);

    // Ignite = every ignite fairing, ours included: config, discovery, JWKS, credential check.
    let started = Instant::now();
    let app = app.ignite().await.expect("ignite");
    let ignite_ms = started.elapsed().as_secs_f64() * 1e3;
    let server = tokio::spawn(app.launch());
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let set_cookies = login(&base).await;
    let cookie_header = set_cookies
        .iter()
        .map(|c| c.split(';').next().unwrap())
        .collect::<Vec<_>>()
        .join("; ");
    let minted = mint(&cookie_header, sessions);
    std::fs::write(out.join("cookie.txt"), &cookie_header).unwrap();
    std::fs::write(out.join("sessions.txt"), minted.join("\n") + "\n").unwrap();
    let mut info = std::fs::File::create(out.join("info.txt")).unwrap();
    writeln!(info, "ignite_ms={ignite_ms:.1}").unwrap();
    writeln!(info, "session_cookies={}", set_cookies.len()).unwrap();
    writeln!(info, "cookie_header_bytes={}", cookie_header.len()).unwrap();
    writeln!(
        info,
        "set_cookie_bytes={}",
        set_cookies.iter().map(String::len).sum::<usize>()
    )
    .unwrap();
    println!("READY");
    let _ = server.await;
    issuer.stop().await;
}
