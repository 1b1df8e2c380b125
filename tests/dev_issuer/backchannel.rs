//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): `sid` in ID tokens, logout
//! tokens POSTed to a real receiver on loopback, their results, and one fault per rule.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::{OAuth2TokenResponse, TokenResponse};
use rocket::config::LogLevel;
use rocket::fairing::AdHoc;
use rocket::http::{ContentType, Status};
use rocket::serde::json::serde_json::{json, Map, Value};
use rocket::tokio::sync::oneshot;
use rocket_openid_connect::dev_issuer::{DevClient, DevIssuer, DevUser, Fault, DEFAULT_TENANT_ID};

use crate::*;

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
const ADA: &str = "ada-lovelace-1815";

/// One POST the receiver got.
#[derive(Debug, Clone)]
struct Post {
    path: String,
    content_type: Option<String>,
    body: String,
}

impl Post {
    /// The `logout_token` of the form body.
    fn logout_token(&self) -> String {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(pairs.len(), 1, "{pairs:?}");
        assert_eq!(pairs[0].0, "logout_token");
        pairs[0].1.clone()
    }
}

type Posts = Arc<Mutex<Vec<Post>>>;

/// Answers `POST /ok/...` with 200 and `POST /fail/...` with 400, recording every request.
#[rocket::post("/<kind>/<name>", data = "<body>")]
fn receive(
    kind: &str,
    name: &str,
    content_type: Option<&ContentType>,
    body: String,
    posts: &rocket::State<Posts>,
) -> Status {
    posts.lock().unwrap().push(Post {
        path: format!("/{kind}/{name}"),
        content_type: content_type.map(|ct| ct.to_string()),
        body,
    });
    if kind == "ok" {
        Status::Ok
    } else {
        Status::BadRequest
    }
}

/// A client's back-channel logout endpoint on loopback, as a small Rocket app.
struct Receiver {
    url: String,
    posts: Posts,
    shutdown: rocket::Shutdown,
}

impl Receiver {
    async fn start() -> Receiver {
        let posts: Posts = Arc::default();
        let config = rocket::Config {
            address: std::net::Ipv4Addr::LOCALHOST.into(),
            port: 0,
            log_level: LogLevel::Off,
            ..rocket::Config::debug_default()
        };
        let (tx, rx) = oneshot::channel();
        let rocket = rocket::custom(config)
            .manage(posts.clone())
            .mount("/", rocket::routes![receive])
            .attach(AdHoc::on_liftoff("receiver port", move |rocket| {
                Box::pin(async move {
                    let _ = tx.send(format!("http://127.0.0.1:{}", rocket.config().port));
                })
            }))
            .ignite()
            .await
            .unwrap();
        let shutdown = rocket.shutdown();
        rocket::tokio::spawn(rocket.launch());
        Receiver {
            url: rx.await.unwrap(),
            posts,
            shutdown,
        }
    }

    fn posts(&self) -> Vec<Post> {
        self.posts.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
    }
}

/// A confidential client with a back-channel logout URI.
fn logout_client(id: &str, uri: Option<String>, session_required: bool) -> DevClient {
    let mut client = DevClient::confidential(id, "secret").redirect_uri(REDIRECT_URI);
    if let Some(uri) = uri {
        client = client.backchannel_logout_uri(uri);
    }
    client.backchannel_logout_session_required(session_required)
}

/// Logs `username` in at client `id` (secret `secret`); returns the token response.
async fn login_at(
    issuer: &DevIssuer,
    id: &str,
    username: &str,
) -> openidconnect::core::CoreTokenResponse {
    issuer.set_auto_login(Some(username));
    let client = client(discover(issuer).await.unwrap(), id, Some("secret"));
    let request = authorization_request(&client, &["profile"]);
    let code = param(&login_auto(&request.url).await, "code")
        .unwrap()
        .to_owned();
    exchange(&client, &code, request.verifier).await.unwrap()
}

fn id_token_claims(tokens: &openidconnect::core::CoreTokenResponse) -> Map<String, Value> {
    decode(&tokens.id_token().unwrap().to_string()).1
}

/// Checks every rule of Back-Channel Logout 1.0 §2.4 that a receiver checks (§2.6), for a
/// token to `client_id` about ada.
fn assert_valid_logout_token(
    token: &str,
    jwks: &Value,
    issuer: &DevIssuer,
    client_id: &str,
    sid: Option<&str>,
) {
    assert!(signature_verifies(token, jwks), "signature");
    let (header, claims) = decode(token);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(claims["iss"], issuer.issuer_url());
    assert_eq!(claims["aud"], client_id);
    let iat = claims["iat"].as_i64().unwrap();
    assert!((iat - now()).abs() < 60, "iat is now");
    assert_eq!(claims["exp"].as_i64().unwrap(), iat + 120);
    assert_eq!(claims["jti"].as_str().unwrap().len(), 43);
    assert_eq!(claims["events"], json!({ EVENT: {} }));
    assert_eq!(claims["sub"], ADA);
    assert_eq!(claims.get("sid").and_then(Value::as_str), sid);
    assert!(!claims.contains_key("nonce"));
}

#[rocket::async_test]
async fn discovery_advertises_backchannel_logout() {
    let issuer = DevIssuer::start().await.unwrap();
    let document: Value = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            issuer.issuer_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["backchannel_logout_supported"], true);
    assert_eq!(document["backchannel_logout_session_supported"], true);
}

#[rocket::async_test]
async fn sid_is_in_id_tokens_only_for_clients_that_require_it() {
    let receiver = Receiver::start().await;
    let issuer = DevIssuer::builder()
        .client(logout_client(
            "with-sid",
            Some(format!("{}/ok/s", receiver.url)),
            true,
        ))
        .client(logout_client(
            "no-sid",
            Some(format!("{}/ok/p", receiver.url)),
            false,
        ))
        .start()
        .await
        .unwrap();
    let with_sid = login_at(&issuer, "with-sid", "ada").await;
    let no_sid = login_at(&issuer, "no-sid", "ada").await;
    let grants = issuer.grants();
    let claims = id_token_claims(&with_sid);
    assert_eq!(claims["sid"].as_str(), Some(grants[0].sid.as_str()));
    assert!(!id_token_claims(&no_sid).contains_key("sid"));
    let default = strict_login(&issuer).await.unwrap();
    assert!(!decode(&default.id_token).1.contains_key("sid"));
    assert_ne!(grants[0].sid, grants[1].sid, "one sid per login");

    // A refreshed ID token keeps the login's sid.
    let client = client(discover(&issuer).await.unwrap(), "with-sid", Some("secret"));
    let refreshed = client
        .exchange_refresh_token(with_sid.refresh_token().unwrap())
        .unwrap()
        .request_async(&http())
        .await
        .unwrap();
    assert_eq!(id_token_claims(&refreshed)["sid"], claims["sid"]);
}

#[rocket::async_test]
async fn end_session_posts_a_logout_token_to_every_client_of_the_user() {
    let receiver = Receiver::start().await;
    let issuer = DevIssuer::builder()
        .client(logout_client(
            "with-sid",
            Some(format!("{}/ok/s", receiver.url)),
            true,
        ))
        .client(logout_client(
            "no-sid",
            Some(format!("{}/ok/p", receiver.url)),
            false,
        ))
        .client(logout_client("no-uri", None, true))
        .start()
        .await
        .unwrap();
    let first = login_at(&issuer, "with-sid", "ada").await;
    login_at(&issuer, "with-sid", "ada").await;
    login_at(&issuer, "no-sid", "ada").await;
    login_at(&issuer, "no-sid", "ada").await;
    login_at(&issuer, "no-uri", "ada").await;
    login_at(&issuer, "with-sid", "grace").await;
    let sids: Vec<String> = issuer.grants().iter().map(|g| g.sid.clone()).collect();

    let ended = http()
        .get(format!("{}/end_session", issuer.issuer_url()))
        .query(&[("id_token_hint", first.id_token().unwrap().to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 200);
    // Sent before the answer, all at once: one per grant with sid, one for the client without.
    let posts = receiver.posts();
    assert_eq!(posts.len(), 3);
    let counters = issuer.counters();
    let logouts = &counters.backchannel_logouts;
    let jwks = jwks(&issuer).await;
    let expected = [
        ("with-sid", "/ok/s", Some(sids[0].as_str())),
        ("with-sid", "/ok/s", Some(sids[1].as_str())),
        ("no-sid", "/ok/p", None),
    ];
    assert_eq!(logouts.len(), expected.len());
    let mut jtis = Vec::new();
    for (logout, (client_id, path, sid)) in logouts.iter().zip(expected) {
        assert_eq!(
            (
                logout.client_id.as_str(),
                logout.sid.as_deref(),
                logout.status
            ),
            (client_id, sid, Some(200))
        );
        let post = posts
            .iter()
            .find(|p| p.logout_token() == logout.logout_token)
            .expect("the receiver got the recorded token");
        assert_eq!(post.path, path);
        assert_eq!(
            post.content_type.as_deref(),
            Some("application/x-www-form-urlencoded")
        );
        assert_valid_logout_token(&logout.logout_token, &jwks, &issuer, client_id, sid);
        jtis.push(decode(&logout.logout_token).1["jti"].clone());
    }
    jtis.sort_by_key(|jti| jti.to_string());
    jtis.dedup();
    assert_eq!(jtis.len(), 3, "a fresh jti per token");
    let logged_out: Vec<bool> = counters.grants.iter().map(|g| g.logged_out).collect();
    assert_eq!(logged_out, [true, true, true, true, true, false]);

    // The sessions are over: a second end_session sends nothing.
    http()
        .get(format!("{}/end_session", issuer.issuer_url()))
        .query(&[("id_token_hint", first.id_token().unwrap().to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(receiver.posts().len(), 3);
    // Logging out is not revoking: the grant still refreshes.
    assert!(!issuer.grants()[0].revoked);
}

#[rocket::async_test]
async fn logout_everywhere_records_each_answer() {
    let receiver = Receiver::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let issuer = DevIssuer::builder()
        .client(logout_client(
            "ok",
            Some(format!("{}/ok/a", receiver.url)),
            true,
        ))
        .client(logout_client(
            "fails",
            Some(format!("{}/fail/b", receiver.url)),
            false,
        ))
        .client(logout_client(
            "down",
            Some(format!("http://127.0.0.1:{closed}/logout")),
            false,
        ))
        .start()
        .await
        .unwrap();
    for id in ["ok", "fails", "down"] {
        login_at(&issuer, id, "ada").await;
    }
    let results = issuer.logout_everywhere("ada").await;
    let answers: Vec<(&str, Option<u16>, bool)> = results
        .iter()
        .map(|r| (r.client_id.as_str(), r.status, r.error.is_some()))
        .collect();
    assert_eq!(
        answers,
        [
            ("ok", Some(200), false),
            ("fails", Some(400), false),
            ("down", None, true)
        ]
    );
    assert_eq!(
        results[0].sid.as_deref(),
        Some(issuer.grants()[0].sid.as_str())
    );
    assert_eq!(results[1].sid, None);
    assert!(results.iter().all(|r| r.sub == ADA));
    assert_eq!(issuer.counters().backchannel_logouts, results);
    assert_eq!(receiver.posts().len(), 2);
    assert!(
        issuer.logout_everywhere("ada").await.is_empty(),
        "already out"
    );
    assert!(issuer.logout_everywhere("nobody").await.is_empty());
}

#[rocket::async_test]
async fn a_slow_receiver_times_out_without_blocking_the_issuer() {
    // Accepts connections and never answers.
    let listener = rocket::tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = rocket::tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let issuer = DevIssuer::builder()
        .client(logout_client(
            "slow",
            Some(format!("http://127.0.0.1:{port}/logout")),
            true,
        ))
        .backchannel_logout_timeout(Duration::from_millis(800))
        .start()
        .await
        .unwrap();
    login_at(&issuer, "slow", "ada").await;
    let started = Instant::now();
    let discovery_url = format!("{}/.well-known/openid-configuration", issuer.issuer_url());
    let (results, discovery_took) = rocket::tokio::join!(issuer.logout_everywhere("ada"), async {
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
        let asked = Instant::now();
        let status = http().get(&discovery_url).send().await.unwrap().status();
        assert_eq!(status, 200);
        asked.elapsed()
    });
    let took = started.elapsed();
    assert!(
        discovery_took < Duration::from_millis(500),
        "{discovery_took:?}"
    );
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].status, None);
    assert!(results[0].error.is_some());
    hold.abort();
}

#[rocket::async_test]
async fn sign_logout_token_signs_any_claims_with_the_current_key() {
    let issuer = DevIssuer::start().await.unwrap();
    let mut claims = issuer.logout_token_claims("app", Some(ADA), Some("sid-1"));
    assert_eq!(claims["iss"], issuer.issuer_url());
    assert_eq!(claims["aud"], "app");
    assert_eq!(claims["sid"], "sid-1");
    assert_eq!(claims["events"], json!({ EVENT: {} }));
    assert_ne!(
        issuer.logout_token_claims("app", Some(ADA), None)["jti"],
        claims["jti"]
    );
    claims["jti"] = json!("the-same-jti-twice");
    let token = issuer.sign_logout_token(&claims);
    let jwks_a = jwks(&issuer).await;
    assert!(signature_verifies(&token, &jwks_a));
    let (header, signed) = decode(&token);
    assert_eq!(
        (header["alg"].as_str(), header["typ"].as_str()),
        (Some("RS256"), Some("logout+jwt"))
    );
    assert_eq!(header["kid"], jwks_a["keys"][0]["kid"]);
    assert_eq!(Value::Object(signed), claims);

    // Key rotation: signed with the new key, which the JWKS now publishes too.
    issuer.set_fault(Fault::RotatedKey);
    let rotated = issuer.sign_logout_token(&claims);
    let jwks_ab = jwks(&issuer).await;
    assert_ne!(decode(&rotated).0["kid"], header["kid"]);
    assert!(!signature_verifies(&rotated, &jwks_a));
    assert!(signature_verifies(&rotated, &jwks_ab));
    // Any JSON, even what no logout token may be.
    let odd = issuer.sign_logout_token(&json!({"nonce": "n", "sub": ADA}));
    assert_eq!(decode(&odd).1["nonce"], "n");
}

#[rocket::async_test]
async fn multi_tenant_logout_tokens_name_the_users_tenant() {
    const OTHER_TENANT: &str = "6a1d96bf-6b6e-4f07-87d6-b25b79c5bc92";
    let receiver = Receiver::start().await;
    let mut eve = DevUser::new("eve-1", "eve");
    eve.extra.insert("tid".into(), json!(OTHER_TENANT));
    let issuer = DevIssuer::builder()
        .user(eve)
        .client(logout_client(
            "with-sid",
            Some(format!("{}/ok/s", receiver.url)),
            true,
        ))
        .multi_tenant(DEFAULT_TENANT_ID)
        .start()
        .await
        .unwrap();
    // Each user logs in through their own tenant's document (there is none at the root).
    let mut id_tokens = Vec::new();
    for (username, tid) in [("ada", DEFAULT_TENANT_ID), ("eve", OTHER_TENANT)] {
        let url = openidconnect::IssuerUrl::new(issuer.tenant_issuer_url(tid)).unwrap();
        let metadata = openidconnect::core::CoreProviderMetadata::discover_async(url, &http())
            .await
            .unwrap();
        issuer.set_auto_login(Some(username));
        let client = client(metadata, "with-sid", Some("secret"));
        let request = authorization_request(&client, &["profile"]);
        let code = param(&login_auto(&request.url).await, "code")
            .unwrap()
            .to_owned();
        let tokens = exchange(&client, &code, request.verifier).await.unwrap();
        id_tokens.push(tokens.id_token().unwrap().to_string());
    }
    let jwks = jwks(&issuer).await;

    // end_session takes ada's tenant ID token as id_token_hint, and logs her out over the
    // back channel with a logout token whose iss is her ID token's.
    let ended = http()
        .get(format!("{}/end_session", issuer.issuer_url()))
        .query(&[("id_token_hint", id_tokens[0].as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 200);
    let logouts = issuer.counters().backchannel_logouts;
    assert_eq!(logouts.len(), 1);
    let token = &logouts[0].logout_token;
    assert!(signature_verifies(token, &jwks));
    let (_, claims) = decode(token);
    assert_eq!(
        claims["iss"],
        json!(issuer.tenant_issuer_url(DEFAULT_TENANT_ID))
    );
    assert_eq!(claims["iss"], decode(&id_tokens[0]).1["iss"]);
    assert_eq!(claims["sub"], ADA);
    assert_eq!(claims["sid"], json!(issuer.grants()[0].sid));
    assert_eq!(receiver.posts().len(), 1);

    // logout_everywhere: eve's tenant.
    let results = issuer.logout_everywhere("eve").await;
    assert_eq!(results.len(), 1);
    let (_, claims) = decode(&results[0].logout_token);
    assert_eq!(claims["iss"], json!(issuer.tenant_issuer_url(OTHER_TENANT)));
    assert_eq!(claims["sub"], "eve-1");

    // The claims a test builds by hand agree; without a known sub, the default tenant's.
    let claims_for = |sub: Option<&str>| issuer.logout_token_claims("with-sid", sub, None);
    assert_eq!(
        claims_for(Some("eve-1"))["iss"],
        json!(issuer.tenant_issuer_url(OTHER_TENANT))
    );
    assert_eq!(
        claims_for(None)["iss"],
        json!(issuer.tenant_issuer_url(DEFAULT_TENANT_ID))
    );
}

/// Logs ada in at a client that requires `sid`, switches `fault` on, logs her out everywhere;
/// returns the logout token the receiver got, and the issuer's JWKS.
async fn logout_token_under(fault: Fault) -> (String, Value, DevIssuer) {
    let receiver = Receiver::start().await;
    let issuer = DevIssuer::builder()
        .client(logout_client(
            "app",
            Some(format!("{}/ok/app", receiver.url)),
            true,
        ))
        .start()
        .await
        .unwrap();
    login_at(&issuer, "app", "ada").await;
    issuer.set_fault(fault);
    let results = issuer.logout_everywhere("ada").await;
    assert_eq!(results.len(), 1);
    let posts = receiver.posts();
    assert_eq!(posts.len(), 1);
    let token = posts[0].logout_token();
    let jwks = jwks(&issuer).await;
    (token, jwks, issuer)
}

macro_rules! logout_faults {
    ($($name:ident: $fault:expr => |$header:ident, $claims:ident, $signed:ident| $check:expr;)*) => {$(
        #[rocket::async_test]
        async fn $name() {
            let (token, jwks, _issuer) = logout_token_under($fault).await;
            let ($header, $claims) = decode(&token);
            let $signed = signature_verifies(&token, &jwks);
            let _ = (&$header, &$claims);
            assert!($check, "{:?} {:?} signed: {}", $header, $claims, $signed);
        }
    )*};
}

/// What a fault leaves alone: the other claims of a valid token.
fn otherwise_valid(claims: &Map<String, Value>) -> bool {
    claims.get("sub") == Some(&json!(ADA))
        && claims.get("aud") == Some(&json!("app"))
        && claims.get("events") == Some(&json!({ EVENT: {} }))
}

logout_faults! {
    logout_wrong_issuer: Fault::LogoutWrongIssuer => |h, c, signed|
        signed && c["iss"] == "http://wrong-issuer.invalid" && otherwise_valid(&c);
    logout_wrong_audience: Fault::LogoutWrongAudience => |h, c, signed|
        signed && c["aud"] == "another-client" && c["sub"] == ADA;
    logout_iat_in_future: Fault::LogoutIatInFuture => |h, c, signed|
        signed && (c["iat"].as_i64().unwrap() - now() - 3600).abs() < 60 && otherwise_valid(&c);
    logout_expired: Fault::LogoutExpired => |h, c, signed|
        signed && c["exp"].as_i64().unwrap() < now() - 3000 && otherwise_valid(&c);
    logout_missing_events: Fault::LogoutMissingEvents => |h, c, signed|
        signed && !c.contains_key("events") && c["sub"] == ADA;
    logout_events_not_object: Fault::LogoutEventsNotObject => |h, c, signed|
        signed && c["events"] == json!({ EVENT: "logout" });
    logout_no_sid_no_sub: Fault::LogoutNoSidNoSub => |h, c, signed|
        signed && !c.contains_key("sid") && !c.contains_key("sub") && c["aud"] == "app";
    logout_with_nonce: Fault::LogoutWithNonce => |h, c, signed|
        signed && c["nonce"] == "n-0S6_WzA2Mj" && otherwise_valid(&c);
    logout_missing_jti: Fault::LogoutMissingJti => |h, c, signed|
        signed && !c.contains_key("jti") && otherwise_valid(&c);
    logout_wrong_typ: Fault::LogoutWrongTyp => |h, c, signed|
        signed && h["typ"] == "JWT" && otherwise_valid(&c);
    logout_bad_signature: Fault::LogoutBadSignature => |h, c, signed|
        !signed && h["alg"] == "RS256" && h["typ"] == "logout+jwt" && otherwise_valid(&c);
    logout_alg_none: Fault::LogoutAlgNone => |h, c, signed|
        !signed && h["alg"] == "none" && !h.contains_key("kid") && otherwise_valid(&c);
    logout_unknown_kid: Fault::LogoutUnknownKid => |h, c, signed|
        !signed && h["kid"].as_str().unwrap().starts_with("unknown-") && otherwise_valid(&c);
}

#[rocket::async_test]
async fn id_token_faults_leave_logout_tokens_valid() {
    let (token, jwks, issuer) = logout_token_under(Fault::BadSignature).await;
    assert_valid_logout_token(&token, &jwks, &issuer, "app", Some(&issuer.grants()[0].sid));
    let (token, jwks, issuer) = logout_token_under(Fault::WrongIssuer).await;
    assert_valid_logout_token(&token, &jwks, &issuer, "app", Some(&issuer.grants()[0].sid));
}
