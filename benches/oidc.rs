//! Micro-benchmarks (issue 8): decoding a session into a `UserContext`, encoding one, the
//! callback's own work with the provider's answers recorded from a real development issuer, the
//! revocation check of every guarded request (issue 14; with the Redis store of issue 15 under
//! `--features redis`: `benches/support/redis_store.rs`), and the `return_to` check. A
//! hand-written harness (`harness = false`): warm-up, batches of ~2 ms, median per iteration.
//! Run: `cargo bench --bench oidc` (`-- FILTER` for a subset, `BENCH_QUICK=1` for fewer
//! samples).

#[cfg(feature = "redis")]
#[path = "support/redis_store.rs"]
mod redis_store;
mod refresh;
mod support;

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use openidconnect::core::CoreJsonWebKeySet;
use rocket::http::private::cookie;
use rocket::http::uri::Origin;
use rocket::http::{Cookie, CookieJar, Status};
use rocket::local::blocking::Client;
use rocket::serde::json::serde_json::{self, Map, Value};
use rocket::State;
use rocket_openid_connect::__internals::{
    check_callback, clear_session, encode_chunks, load, new_session, read_session,
    sign_sample_id_token, stored_user_context, tx_cookie_name, user_context, validate,
    write_session, CacheSafe, CookieOptions, ExpectedNonce, IdTokenRules, Lifetimes, Loaded,
    OidcState, RevocationKeys, SessionBinding, SessionData, TokenResponse, Transaction,
    ValidatedIdToken,
};
use rocket_openid_connect::dev_issuer::{
    DevIssuer, Fault, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};
use rocket_openid_connect::{sanitize_return_to, Config, MemoryStore, RevocationStore};
use support::{fmt, measure, record_login, Recorded, Stats};

/// The cookie options of an http app (no `__Host-` prefix, no `Secure`).
const PLAIN: CookieOptions = CookieOptions::new(false);

/// Development-only secret key (the same as the test harness's). Never use it anywhere else.
const SECRET_KEY: &str =
    "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk0Xw0HjxM1kyqq8hYUGFspuV6Kea4dPKw4q0S4UOnc9g==";

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

struct Bench {
    filter: Option<String>,
    results: Vec<(String, Stats)>,
}

impl Bench {
    fn run<T>(&mut self, name: &str, f: impl FnMut() -> T) -> Option<Stats> {
        if self.filter.as_deref().is_some_and(|f| !name.contains(f)) {
            return None;
        }
        let s = measure(f);
        println!(
            "{name:<44} median {:>10}   (p10 {:>10}, p90 {:>10})",
            fmt(s.median),
            fmt(s.p10),
            fmt(s.p90)
        );
        self.results.push((name.to_owned(), s));
        Some(s)
    }
}

/// What the callback needs, recorded once.
struct Fixture {
    config: Config,
    rules: IdTokenRules,
    keys: CoreJsonWebKeySet,
    tokens: TokenResponse,
    userinfo: Map<String, Value>,
    metadata: Value,
    state: OidcState,
}

impl Fixture {
    fn new(config: &Config, rec: &Recorded) -> Fixture {
        let keys: CoreJsonWebKeySet = serde_json::from_str(&rec.jwks).unwrap();
        let issuer = &config.issuer;
        let metadata = serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
            "authorization_response_iss_parameter_supported": true,
        });
        Fixture {
            config: config.clone(),
            rules: IdTokenRules::from_config(config).unwrap(),
            state: OidcState::offline(config.clone(), metadata.clone(), keys.clone(), None)
                .unwrap(),
            metadata,
            keys,
            tokens: serde_json::from_str(&rec.token_response).unwrap(),
            userinfo: serde_json::from_str(&rec.userinfo).unwrap(),
        }
    }

    /// The callback's ID-token validation with the cached keys (no refetch).
    fn validate(&self, raw: &str, nonce: &str) -> Result<ValidatedIdToken, String> {
        validate(
            &self.rules,
            &self.keys,
            raw,
            ExpectedNonce::Exact(nonce),
            Some(&self.tokens.access_token),
            now(),
        )
        .map_err(|e| format!("{e:?}"))
    }

    /// The session the crate's callback writes for this login.
    fn session(&self, rec: &Recorded) -> SessionData {
        let raw = self.tokens.id_token.as_deref().unwrap();
        let id = self
            .validate(raw, &rec.nonce)
            .expect("the recorded ID token validates");
        new_session(
            &self.config,
            &self.tokens,
            id,
            Some(self.userinfo.clone()),
            now(),
            "c2Vzc2lvbi1pZA".into(),
        )
    }
}

fn key() -> cookie::Key {
    cookie::Key::from(&STANDARD.decode(SECRET_KEY).unwrap())
}

fn chunk_name(i: usize) -> String {
    if i == 0 {
        "oidc_session".into()
    } else {
        format!("oidc_session.{i}")
    }
}

/// The session's cookies as Rocket would send them: (name, encrypted value, `name=value` on the
/// wire, percent-encoded as Rocket's `Set-Cookie` writes it and the browser sends it back).
fn encrypt(key: &cookie::Key, chunks: &[String]) -> Vec<(String, String, String)> {
    let mut jar = cookie::CookieJar::new();
    chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            jar.private_mut(key)
                .add(Cookie::new(chunk_name(i), c.clone()));
            let sealed = jar.get(&chunk_name(i)).unwrap().clone();
            let wire = sealed.encoded().to_string();
            (chunk_name(i), sealed.value().to_owned(), wire)
        })
        .collect()
}

/// Bytes of the session in the request's `Cookie:` header (`a=..; b=..`).
fn wire_bytes(cookies: &[(String, String, String)]) -> usize {
    cookies.iter().map(|c| c.2.len()).sum::<usize>() + 2 * cookies.len().saturating_sub(1)
}

#[rocket::get("/cb")]
fn callback(uri: &Origin<'_>, jar: &CookieJar<'_>, fx: &State<Fixture>) -> Result<String, String> {
    let (tx, _code) = check_callback(jar, uri.query().map(|q| q.as_str()), &fx.state)
        .map_err(|e| e.to_string())?;
    let raw = fx.tokens.id_token.as_deref().unwrap_or_default();
    let id = fx.validate(raw, &tx.nonce)?;
    let data = new_session(
        &fx.config,
        &fx.tokens,
        id,
        Some(fx.userinfo.clone()),
        now(),
        "c2Vzc2lvbi1pZA".into(),
    );
    clear_session(jar, PLAIN);
    write_session(jar, PLAIN, &data, 7 * 24 * 3600)?;
    Ok(tx.return_to)
}

#[rocket::get("/noop")]
fn noop(_jar: &CookieJar<'_>) -> &'static str {
    "/protected"
}

fn rocket_with(fx: Option<Fixture>) -> Client {
    let figment = rocket::Config::figment()
        .merge(("secret_key", SECRET_KEY))
        .merge(("log_level", "off"));
    let r = rocket::custom(figment);
    let r = match fx {
        Some(fx) => r.mount("/", rocket::routes![callback, noop]).manage(fx),
        None => r.mount("/", rocket::routes![noop]),
    };
    Client::untracked(r).unwrap()
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let mut b = Bench {
        filter,
        results: Vec::new(),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let issuer = rt.block_on(DevIssuer::start()).unwrap();
    let config = Config {
        issuer: issuer.issuer_url().to_owned(),
        client_id: DEFAULT_CLIENT_ID.into(),
        client_secret: Some(DEFAULT_CLIENT_SECRET.into()),
        app_base_url: "http://127.0.0.1:8000".into(),
        ..Default::default()
    };
    let key = key();

    // Recorded logins: ada as the dev issuer issues her (~1 KB session), and with enough extra
    // groups (in the ID token and userinfo, as Fault::ManyGroups gives them) for ~3 KB and ~8 KB.
    let record = |groups: usize| {
        issuer.clear_faults();
        if groups > 0 {
            issuer.set_fault(Fault::ManyGroups(groups));
        }
        let rec = rt.block_on(record_login(&issuer, "ada"));
        let fx = Fixture::new(&config, &rec);
        let data = fx.session(&rec);
        let cookies = encrypt(&key, &encode_chunks(&data).unwrap());
        (rec, fx, data, cookies)
    };
    let base = record(0);
    let ten = record(10);
    let per_group = (wire_bytes(&ten.3) - wire_bytes(&base.3)) as f64 / 10.0;
    let groups_for =
        |target: usize| ((target - wire_bytes(&base.3)) as f64 / per_group).round() as usize;
    let (n3, n8) = (groups_for(3 * 1024), groups_for(8 * 1024));
    let s3 = record(n3);
    let s8 = record(n8);

    println!("== session size on the wire (Cookie header bytes, dev issuer user `ada`) ==");
    for (label, s) in [
        ("typical (ada, openid profile email)", &base),
        (&*format!("+{n3} groups"), &s3),
        (&*format!("+{n8} groups"), &s8),
    ] {
        println!(
            "{label:<40} {:>5} bytes in {} cookie(s); plaintext {} bytes",
            wire_bytes(&s.3),
            s.3.len(),
            encode_chunks(&s.2)
                .unwrap()
                .iter()
                .map(String::len)
                .sum::<usize>()
        );
    }
    print_size_options(&key, &base.2);

    println!("\n== decode: cookie(s) → UserContext (decrypt, parse, claims) ==");
    let client = rocket_with(None);
    let lifetimes = Lifetimes {
        idle: 86_400,
        absolute: 604_800,
        skew: 60,
    };
    let stored = |jar: &CookieJar<'_>| match load(jar, PLAIN, lifetimes, now()) {
        Loaded::Valid { session, .. } => Some(session),
        _ => None,
    };
    // What the guard checks a session against (its provider's issuer and client id), built
    // once per provider at launch.
    let binding = SessionBinding::of(&config);
    for (label, s) in [("1k", &base), ("3k", &s3), ("8k_chunked", &s8)] {
        let mut req = client.get("/");
        for (name, value, _) in &s.3 {
            req = req.cookie(Cookie::new(name.clone(), value.clone()));
        }
        let jar = req.inner().cookies();
        let session = stored(jar).expect("the session loads");
        assert!(stored_user_context(&binding, &session).is_some());
        let w = wire_bytes(&s.3);
        b.run(&format!("decode_{label} ({w} B)"), || {
            stored(jar).and_then(|s| stored_user_context(&binding, &s))
        });
        b.run(&format!("decode_{label}/decrypt+parse only"), || {
            stored(jar)
        });
        b.run(&format!("decode_{label}/user_context only"), || {
            stored_user_context(&binding, &session)
        });
        // What each guard adds on top: it hands out its own copy of the request's context.
        let ctx = user_context(&binding, &s.2).unwrap();
        b.run(
            &format!("decode_{label}/guard's copy of the context"),
            || ctx.clone(),
        );
    }

    // The same typical session in the plain-JSON form the crate wrote before issue 8 (and still
    // writes for an ID token that does not round-trip), to compare decoding costs.
    let legacy = format!(
        "AAAAAAAAAAA~0~1~{}",
        serde_json::to_string(&base.2).unwrap()
    );
    let legacy = encrypt(&key, &[legacy]);
    let mut req = client.get("/");
    for (name, value, _) in &legacy {
        req = req.cookie(Cookie::new(name.clone(), value.clone()));
    }
    let jar = req.inner().cookies();
    assert_eq!(read_session(jar, PLAIN).as_ref(), Some(&base.2));
    b.run(
        &format!("decode_1k_plain_json ({} B)", wire_bytes(&legacy)),
        || read_session(jar, PLAIN).and_then(|d| user_context(&binding, &d)),
    );

    println!("\n== encode: SessionData → encrypted cookie(s) ==");
    for (label, s) in [("1k", &base), ("3k", &s3), ("8k_chunked", &s8)] {
        b.run(&format!("encode_{label}"), || {
            encrypt(&key, &encode_chunks(&s.2).unwrap())
        });
    }

    println!("\n== callback's own work (state, ID token with cached keys, session write) ==");
    let (rec, _, _, _) = &base;
    let fx = Fixture::new(&config, rec);
    let cb = rocket_with(Some(fx));
    let tx = Transaction {
        state: rec.state.clone(),
        nonce: rec.nonce.clone(),
        pkce_verifier: "unused-here".into(),
        return_to: "/protected".into(),
        issuer: rec.issuer.clone(),
        created: now(),
        provider: None,
    };
    let tx_name = tx_cookie_name(&tx.state);
    let mut tx_jar = cookie::CookieJar::new();
    tx_jar.private_mut(&key).add(Cookie::new(
        tx_name.clone(),
        serde_json::to_string(&tx).unwrap(),
    ));
    let tx_value = tx_jar.get(&tx_name).unwrap().value().to_owned();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("code", &rec.code)
        .append_pair("state", &rec.state)
        .append_pair("iss", &rec.issuer)
        .finish();
    let cb_uri = format!("/cb?{query}");
    let dispatch = |path: &str| {
        cb.get(path.to_owned())
            .cookie(Cookie::new(tx_name.clone(), tx_value.clone()))
            .dispatch()
    };
    let first = dispatch(&cb_uri);
    assert_eq!(first.status(), Status::Ok, "{:?}", first.into_string());
    let full = b.run("callback (dispatch incl.)", || dispatch(&cb_uri).status());
    let base_dispatch = b.run("callback/baseline dispatch (noop route)", || {
        dispatch("/noop").status()
    });
    let raw = base.1.tokens.id_token.clone().unwrap();
    b.run("callback/validate_id_token only", || {
        base.1.validate(&raw, &rec.nonce).is_ok()
    });
    if let (Some(full), Some(base_dispatch)) = (full, base_dispatch) {
        let own = full.median.saturating_sub(base_dispatch.median);
        println!(
            "{:<44} median {:>10}   (target < 1 ms: {})",
            "callback own work (= callback − baseline)",
            fmt(own),
            if own < Duration::from_millis(1) {
                "met"
            } else {
                "MISSED"
            }
        );
    }

    println!("\n== guard: one request through Rocket with the typical session's cookie ==");
    // The guard's own cost: the same route with and without `AuthenticatedUser`, the same
    // Cookie header, dispatched through a local client (no network, no logging) in this run.
    let guard_client = guard_rocket(&config, &base.1, false);
    let cache_safe_client = guard_rocket(&config, &base.1, true);
    let dispatch_on = |client: &Client, path: &str| {
        let mut req = client.get(path.to_owned());
        for (name, value, _) in &base.3 {
            req = req.cookie(Cookie::new(name.clone(), value.clone()));
        }
        req.dispatch().status()
    };
    let dispatch_with = |path: &str| dispatch_on(&guard_client, path);
    assert_eq!(dispatch_with("/guarded"), Status::Ok);
    let unguarded = b.run("guard/same cookie, no guard", || dispatch_with("/plain"));
    let guarded = b.run("guard/same cookie, AuthenticatedUser", || {
        dispatch_with("/guarded")
    });
    let page = b.run("guard/same cookie, Option<UserContext>", || {
        dispatch_with("/page")
    });
    if let (Some(u), Some(g), Some(p)) = (unguarded, guarded, page) {
        println!(
            "{:<44} median {:>10}   (target <= 2 µs: {}); unguarded ÷ guarded {:.3}",
            "guard's own cost (AuthenticatedUser)",
            fmt(g.median.saturating_sub(u.median)),
            if g.median.saturating_sub(u.median) <= Duration::from_micros(2) {
                "met"
            } else {
                "MISSED"
            },
            u.median.as_secs_f64() / g.median.as_secs_f64()
        );
        println!(
            "{:<44} median {:>10}",
            "guard's own cost (Option<UserContext>)",
            fmt(p.median.saturating_sub(u.median))
        );
    }
    // The cache-safe response fairing (issue 12): on every response a request-local lookup and
    // a `Set-Cookie` lookup; on one that read the session, a look at `Vary` and `Cache-Control`
    // and two headers more. (Names apart from the two above, for filters: `-- "guard/same"`.)
    let cached = |path: &str| dispatch_on(&cache_safe_client, path);
    assert_eq!(cached("/guarded"), Status::Ok);
    let unguarded_cs = b.run("guard/CacheSafe: same cookie, no guard", || {
        cached("/plain")
    });
    let guarded_cs = b.run("guard/CacheSafe: same cookie, AuthenticatedUser", || {
        cached("/guarded")
    });
    for (what, without, with) in [
        ("unguarded", unguarded, unguarded_cs),
        ("AuthenticatedUser", guarded, guarded_cs),
    ] {
        if let (Some(without), Some(with)) = (without, with) {
            println!(
                "{:<44} median {:>10}",
                format!("CacheSafe's cost ({what})"),
                fmt(with.median.saturating_sub(without.median))
            );
        }
    }

    revocation_check(&mut b, &config.issuer);
    #[cfg(feature = "redis")]
    redis_store::redis_check(&mut b, &config.issuer);

    println!("\n== return_to check ==");
    let long = format!("/{}", "a/".repeat(1000));
    for (label, input) in [
        ("typical", "/protected?tab=1"),
        ("attack", "/%2F%2Fevil.example/%09"),
        ("long_2k", long.as_str()),
    ] {
        b.run(&format!("return_to_{label}"), || sanitize_return_to(input));
    }

    println!("\n== ratios (medians, this run) ==");
    let get = |name: &str| {
        b.results
            .iter()
            .find(|(n, _)| n.starts_with(name))
            .map(|(_, s)| s.median.as_secs_f64())
    };
    for (a, z) in [
        ("decode_3k (", "decode_1k ("),
        ("decode_8k_chunked (", "decode_1k ("),
        ("encode_1k", "decode_1k ("),
        ("decode_1k/decrypt+parse", "decode_1k ("),
        ("decode_1k_plain_json", "decode_1k ("),
    ] {
        if let (Some(x), Some(y)) = (get(a), get(z)) {
            println!("{a:<28} ÷ {z:<16} {:.2}", x / y);
        }
    }
    refresh::run(&mut b, &rt, &issuer, &key);

    // The development issuer (issue #2): what starting one, signing an ID token and a whole
    // strict login cost.
    b.run("dev_issuer/start+stop", || {
        rt.block_on(async { DevIssuer::start().await.unwrap().stop().await })
    });
    b.run("dev_issuer/sign one ID token (RS256)", sign_sample_id_token);
    b.run("dev_issuer/whole login (authorize..JWKS)", || {
        issuer.clear_faults();
        rt.block_on(record_login(&issuer, "ada"))
    });
    rt.block_on(issuer.stop());
}

/// The check every guarded request makes (issue 14): derive the session's store keys (two
/// SHA-256 with a `sid`, three without) and look them up under the read lock, with 100,000
/// markers in the store, mixed as real ones would be (sids, subs, sessions' own ids).
fn revocation_check(b: &mut Bench, issuer: &str) {
    println!("\n== revocation check: every guarded request, 100,000 markers ==");
    const MARKERS: usize = 100_000;
    let store = MemoryStore::new(1_000_000);
    let keys = RevocationKeys::new(issuer);
    let t = now();
    for i in 0..MARKERS {
        let key = match i % 3 {
            0 => keys.sid(&format!("sid-{i:06}-8f2e1c")),
            1 => keys.sub(&format!("user-{i:06}")),
            _ => keys.session(&format!("Zm9v{i:07}")),
        };
        store.mark(key, t, t + 604_800, t);
    }
    assert_eq!(store.len(), MARKERS);
    let (sid, sub, own) = ("3c9b7a80-5e1d-4f2c-9a6b", "ada-lovelace-1815", "c2Vzc2lvbg");
    let created = t + 1;
    let with_sid = keys.of_session(Some(sid), None, sub);
    assert!(!store.is_revoked(with_sid.as_slice(), created));
    let marked = keys.of_session(Some("sid-000000-8f2e1c"), None, sub);
    assert!(store.is_revoked(marked.as_slice(), t));
    let check = b.run("revocation/check: sid + sub, not signed out", || {
        store.is_revoked(keys.of_session(Some(sid), None, sub).as_slice(), created)
    });
    b.run(
        "revocation/check: own id + 2 sub keys, not signed out",
        || store.is_revoked(keys.of_session(None, Some(own), sub).as_slice(), created),
    );
    b.run("revocation/check: signed out (first key hits)", || {
        store.is_revoked(
            keys.of_session(Some("sid-000000-8f2e1c"), None, sub)
                .as_slice(),
            t,
        )
    });
    b.run("revocation/keys only (2 × SHA-256)", || {
        keys.of_session(Some(sid), None, sub)
    });
    b.run("revocation/lookup only (2 keys, read lock)", || {
        store.is_revoked(with_sid.as_slice(), created)
    });
    let shared: Arc<dyn RevocationStore> = Arc::new(store);
    b.run("revocation/check through Arc<dyn RevocationStore>", || {
        shared.is_revoked(keys.of_session(Some(sid), None, sub).as_slice(), created)
    });
    if let Some(check) = check {
        println!(
            "{:<44} median {:>10}   (target <= 0.5 µs: {})",
            "revocation check per guarded request",
            fmt(check.median),
            if check.median <= Duration::from_nanos(500) {
                "met"
            } else {
                "MISSED"
            }
        );
    }
}

#[rocket::get("/plain")]
fn plain() -> &'static str {
    "ok"
}

#[rocket::get("/guarded")]
fn guarded(_user: rocket_openid_connect::AuthenticatedUser) -> &'static str {
    "ok"
}

#[rocket::get("/page")]
fn page(user: Option<rocket_openid_connect::UserContext>) -> &'static str {
    if user.is_some() {
        "ok"
    } else {
        "visitor"
    }
}

/// A Rocket serving the guard with `fx`'s provider, offline (no network; no fairing, or only
/// the cache-safe response fairing the OIDC fairing attaches, when `cache_safe`).
fn guard_rocket(config: &Config, fx: &Fixture, cache_safe: bool) -> Client {
    let figment = rocket::Config::figment()
        .merge(("secret_key", SECRET_KEY))
        .merge(("log_level", "off"));
    let state =
        OidcState::offline(config.clone(), fx.metadata.clone(), fx.keys.clone(), None).unwrap();
    let mut r = rocket::custom(figment)
        .manage(state)
        .mount("/", rocket::routes![plain, guarded, page]);
    if cache_safe {
        r = r.attach(CacheSafe);
    }
    Client::untracked(r).unwrap()
}

/// Sizes of the typical session under every encoding option tried (issue 8).
fn print_size_options(key: &cookie::Key, data: &SessionData) {
    let chunked = |plain: &str| -> usize {
        // One chunk is enough for all of these; the chunk header is `sid~0~1~`.
        let chunk = format!("AAAAAAAAAAA~0~1~{plain}");
        wire_bytes(&encrypt(key, &[chunk]))
    };
    let legacy = serde_json::to_string(data).unwrap();
    let shipped = encode_chunks(data).unwrap();
    let shipped_wire = wire_bytes(&encrypt(key, &shipped));
    println!("-- options for the typical session (wire bytes of the Cookie header) --");
    println!(
        "  A  JSON, raw ID token string (before issue 8)          {:>5}",
        chunked(&legacy)
    );
    println!("  B  as shipped (encode_chunks)                          {shipped_wire:>5}");
    let mut no_refresh = data.clone();
    no_refresh.refresh_token = None;
    let b1 = wire_bytes(&encrypt(key, &encode_chunks(&no_refresh).unwrap()));
    println!("  B + keep_refresh_token = false                         {b1:>5}");
    let mut id_only = no_refresh.clone();
    id_only.access_token = None;
    id_only.access_expires_at = None;
    let b2 = wire_bytes(&encrypt(key, &encode_chunks(&id_only).unwrap()));
    println!("  B + keep_access_token = false too (ID token only)     {b2:>5}");
    // A binary layout (raw header/payload/signature bytes, tokens, two u64 times, u16 lengths)
    // cannot go through Rocket's private cookies, whose plaintext must be UTF-8; estimated as if
    // it could, with the same percent-encoding overhead as the shipped form.
    let parts: Vec<Vec<u8>> = data
        .id_token
        .split('.')
        .map(|p| URL_SAFE_NO_PAD.decode(p).unwrap_or_default())
        .collect();
    let bin = parts.iter().map(Vec::len).sum::<usize>()
        + data.access_token.as_deref().map_or(0, str::len)
        + data.refresh_token.as_deref().map_or(0, str::len)
        + if data.userinfo_extra.is_empty() {
            0
        } else {
            serde_json::to_string(&data.userinfo_extra).unwrap().len()
        }
        + 3 * 8
        + 6 * 2
        + 16;
    let b64 = (bin + 28).div_ceil(3) * 4;
    let shipped_b64: usize = encrypt(key, &shipped).iter().map(|c| c.1.len()).sum();
    let overhead = (shipped_wire - "oidc_session=".len()) as f64 / shipped_b64 as f64;
    println!(
        "  C  binary layout (estimate; needs our own AEAD)        {:>5}",
        "oidc_session=".len() + (b64 as f64 * overhead).round() as usize
    );
}
