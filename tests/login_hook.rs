//! The login hook over real logins at the development issuer: allow, refuse (page, JSON,
//! failure_redirect, a redirect of its own), send elsewhere, app data stored and read back,
//! and a panicking or failing hook, each leaving no session behind.

mod common;

use std::collections::HashMap;
use std::sync::Mutex;

use common::*;
use rocket::figment::Figment;
use rocket::http::{Accept, ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use rocket::serde::json::{json, Value};
use rocket::serde::{Deserialize, Serialize};
use rocket::{get, routes, Request};
use rocket_openid_connect::dev_issuer::{DevIssuer, DevUser};
use rocket_openid_connect::testing::{self, sign_in, try_sign_in, TestingError};
use rocket_openid_connect::{
    requirement, AuthenticatedUser, Authorized, ClaimSource, Claims, LoginDecision, LoginHook,
    LoginHookError, OidcFairing, Rule, UserContext,
};

/// The app data of the tests: the app's own user id and how often the user signed in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(crate = "rocket::serde")]
struct Account {
    id: u64,
    logins: u32,
    #[serde(default)]
    role: Option<String>,
}
impl Claims for Account {
    const SOURCE: ClaimSource = ClaimSource::AppData;
}

requirement! {
    /// The app's own role, decided at sign-in by the hook.
    AppAdmin = Rule::claim_equals("role", "admin").from_source(ClaimSource::AppData);
}

#[get("/me")]
fn me(user: AuthenticatedUser) -> Value {
    json!({
        "sub": user.userinfo.sub,
        "account": user.app_data::<Account>().unwrap().as_deref(),
        "via_claims": user.claims::<Account>().ok().as_deref(),
    })
}

#[get("/app-admin")]
fn app_admin(_user: Authorized<AppAdmin>) -> &'static str {
    "app admin"
}

/// Sign-ins per subject, as an app's database would count them.
#[derive(Default)]
struct Logins(Mutex<HashMap<String, u32>>);

/// What the tests' hook does, by username.
struct Hook;

#[rocket::async_trait]
impl LoginHook for Hook {
    async fn on_login(
        &self,
        user: &UserContext,
        req: &Request<'_>,
    ) -> Result<LoginDecision, LoginHookError> {
        let name = user.userinfo.preferred_username.clone().unwrap_or_default();
        match name.as_str() {
            "alan" => Ok(LoginDecision::refuse("Alan's account is <disabled> here.")),
            "signup" => Ok(LoginDecision::refuse("Sign up first.").redirect("/sign-up?from=login")),
            "newbie" => Ok(LoginDecision::allow().redirect("/welcome")),
            "faraway" => Ok(LoginDecision::allow().redirect("https://evil.example/")),
            "panicky" => panic!("the hook's database is on fire"),
            "failing" => Err("connection refused (db:5432)".into()),
            "hoarder" => Ok(LoginDecision::allow().data("x".repeat(30_000))),
            _ => {
                // A counter in managed state, as a database would be reached.
                let logins = req.rocket().state::<Logins>().expect("managed");
                let n = {
                    let mut map = logins.0.lock().unwrap();
                    let n = map.entry(user.userinfo.sub.clone()).or_insert(0);
                    *n += 1;
                    *n
                };
                // The hook sees the claims the guards will see.
                let admin = Rule::group("admins").check(user)?;
                Ok(LoginDecision::allow().data(Account {
                    id: 1000 + u64::from(n),
                    logins: n,
                    role: admin.then(|| "admin".into()),
                }))
            }
        }
    }
}

fn figment(issuer: &DevIssuer) -> Figment {
    testing::figment(issuer)
        .merge(("secret_key", TEST_SECRET_KEY))
        .merge(("log_level", "normal"))
        .merge(("cli_colors", false))
        .merge(("oidc.scopes", ["openid", "profile", "email", "groups"]))
}

async fn setup(tweak: impl FnOnce(Figment) -> Figment) -> (DevIssuer, Client) {
    init_logging();
    let issuer = DevIssuer::start().await.unwrap();
    for name in [
        "signup", "newbie", "faraway", "panicky", "failing", "hoarder",
    ] {
        issuer.add_user(DevUser::new(format!("{name}-1"), name));
    }
    let rocket = rocket::custom(tweak(figment(&issuer)))
        .attach(OidcFairing::new().on_login(Hook))
        .manage(Logins::default())
        .mount("/", routes![me, app_admin]);
    let client = Client::tracked(rocket).await.unwrap();
    (issuer, client)
}

async fn me_json(client: &Client) -> Value {
    let body = client
        .get("/me")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    rocket::serde::json::serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn session_cookie(client: &Client) -> Option<String> {
    client
        .cookies()
        .get("oidc_session")
        .map(|c| c.value().to_owned())
}

/// The callback URL of a login started by `client`, not followed yet (the walk's first steps,
/// for the tests that look at the callback's own answer).
async fn callback_of(issuer: &DevIssuer, client: &Client, username: &str) -> String {
    issuer.set_auto_login(Some(username));
    let login = client.get("/login").dispatch().await;
    let authorize = login.headers().get_one("Location").unwrap().to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http.get(&authorize).send().await.unwrap();
    issuer.set_auto_login(None);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let url = url::Url::parse(&location).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap())
}

#[rocket::async_test]
async fn hook_allows_and_its_data_is_read_back_typed() {
    let (_issuer, client) = setup(|f| f).await;
    sign_in(&client, "grace").await;
    let me = me_json(&client).await;
    assert_eq!(me["sub"], "grace-hopper-1906");
    assert_eq!(
        me["account"],
        json!({"id": 1001, "logins": 1, "role": null})
    );
    assert_eq!(me["via_claims"], me["account"], "the same data as Claims");
    sign_in(&client, "grace").await;
    assert_eq!(me_json(&client).await["account"]["logins"], 2);
}

#[rocket::async_test]
async fn hook_data_authorizes_through_the_app_data_source() {
    let (_issuer, client) = setup(|f| f).await;
    sign_in(&client, "ada").await;
    assert_eq!(
        client.get("/app-admin").dispatch().await.status(),
        Status::Ok
    );
    sign_in(&client, "grace").await;
    assert_eq!(
        client.get("/app-admin").dispatch().await.status(),
        Status::Forbidden
    );
}

#[rocket::async_test]
async fn hook_data_counts_in_the_session_size() {
    let (issuer, client) = setup(|f| f).await;
    sign_in(&client, "grace").await;
    let with_data = session_cookie(&client).unwrap().len();
    // The same login without a hook.
    let plain = Client::tracked(
        rocket::custom(figment(&issuer))
            .attach(OidcFairing::new())
            .mount("/", routes![me]),
    )
    .await
    .unwrap();
    sign_in(&plain, "grace").await;
    let without = session_cookie(&plain).unwrap().len();
    // {"id":1001,"logins":1,"role":null} under "d": ~45 bytes of JSON, base64 and encrypted.
    assert!(
        (50..=90).contains(&(with_data - without)),
        "{with_data} vs {without}"
    );
}

#[rocket::async_test]
async fn hook_refuses_a_browser_with_its_message_and_no_session() {
    let (issuer, client) = setup(|f| f).await;
    let callback = callback_of(&issuer, &client, "alan").await;
    let r = client
        .get(callback)
        .header(Accept::HTML)
        .header(Header::new("Sec-Fetch-Mode", "navigate"))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden);
    assert_eq!(r.content_type(), Some(ContentType::HTML));
    let body = r.into_string().await.unwrap();
    assert!(body.contains("<title>Sign-in refused</title>"), "{body}");
    assert!(
        body.contains("Alan&#x27;s account is &lt;disabled&gt; here."),
        "the app's message, escaped: {body}"
    );
    assert!(body.contains("<code>access_refused</code>"), "{body}");
    assert_eq!(session_cookie(&client), None, "no session");
    assert_logged(&[
        "the login hook refused subject `alan-turing-1912`",
        "Alan's account is <disabled> here.",
    ]);
    // What the testing API reports for it.
    let e = try_sign_in(&client, "alan").await.unwrap_err();
    assert!(
        matches!(e, TestingError::SignInFailed { status: 403, .. }),
        "{e:?}"
    );
}

#[rocket::async_test]
async fn hook_refuses_an_api_client_with_json() {
    let (issuer, client) = setup(|f| f).await;
    let callback = callback_of(&issuer, &client, "alan").await;
    let r = client.get(callback).header(Accept::JSON).dispatch().await;
    assert_eq!(r.status(), Status::Forbidden);
    assert_eq!(r.content_type(), Some(ContentType::JSON));
    let body: Value =
        rocket::serde::json::serde_json::from_str(&r.into_string().await.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"error": "access_refused", "message": "Alan's account is <disabled> here."})
    );
    assert_eq!(session_cookie(&client), None);
}

#[rocket::async_test]
async fn hook_refusal_goes_to_the_failure_redirect_when_configured() {
    let (issuer, client) = setup(|f| f.merge(("oidc.failure_redirect", "/oops"))).await;
    let callback = callback_of(&issuer, &client, "alan").await;
    let r = client.get(callback).dispatch().await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(
        r.headers().get_one("Location"),
        Some("/oops?error=access_refused")
    );
    assert_eq!(session_cookie(&client), None);
}

#[rocket::async_test]
async fn hook_refusal_can_send_the_user_elsewhere() {
    let (issuer, client) = setup(|f| f).await;
    let callback = callback_of(&issuer, &client, "signup").await;
    let r = client.get(callback).dispatch().await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some("/sign-up?from=login"));
    assert_eq!(session_cookie(&client), None, "refused: no session");
}

#[rocket::async_test]
async fn hook_redirect_signs_in_and_lands_elsewhere() {
    let (issuer, client) = setup(|f| f).await;
    let callback = callback_of(&issuer, &client, "newbie").await;
    let r = client.get(callback).dispatch().await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some("/welcome"));
    assert!(session_cookie(&client).is_some());
    assert_eq!(me_json(&client).await["sub"], "newbie-1");
}

#[rocket::async_test]
async fn hook_redirect_off_site_is_a_hook_error() {
    let (_issuer, client) = setup(|f| f).await;
    let e = try_sign_in(&client, "faraway").await.unwrap_err();
    let TestingError::SignInFailed { status, body } = e else {
        panic!("{e:?}")
    };
    assert_eq!(status, 500);
    assert!(body.contains("<code>login_hook</code>"), "{body}");
    assert_eq!(session_cookie(&client), None);
    assert_logged(&[
        "faraway-1",
        "its redirect `https://evil.example/` for subject `faraway-1` is not a path of this app",
    ]);
}

#[rocket::async_test]
async fn hook_panic_ends_the_login_with_an_error_and_no_session() {
    let (_issuer, client) = setup(|f| f).await;
    sign_in(&client, "grace").await;
    let before = session_cookie(&client);
    let e = try_sign_in(&client, "panicky").await.unwrap_err();
    let TestingError::SignInFailed { status, body } = e else {
        panic!("{e:?}")
    };
    assert_eq!(status, 500);
    assert!(body.contains("<code>login_hook</code>"), "{body}");
    assert_eq!(
        session_cookie(&client),
        before,
        "no session written, none half-written"
    );
    assert_logged(&[
        "the login hook failed: it panicked for subject `panicky-1`",
        "the hook's database is on fire",
    ]);
    // The app goes on serving.
    assert_eq!(me_json(&client).await["sub"], "grace-hopper-1906");
}

#[rocket::async_test]
async fn hook_error_ends_the_login_with_an_error_and_no_session() {
    let (_issuer, client) = setup(|f| f).await;
    let e = try_sign_in(&client, "failing").await.unwrap_err();
    assert!(
        matches!(e, TestingError::SignInFailed { status: 500, .. }),
        "{e:?}"
    );
    assert_eq!(session_cookie(&client), None);
    assert_logged(&[
        "it returned an error for subject `failing-1`",
        "connection refused (db:5432)",
    ]);
}

#[rocket::async_test]
async fn hook_data_too_large_for_the_session_is_a_clear_error() {
    let (_issuer, client) = setup(|f| f).await;
    let e = try_sign_in(&client, "hoarder").await.unwrap_err();
    assert!(
        matches!(e, TestingError::SignInFailed { status: 500, .. }),
        "{e:?}"
    );
    assert_eq!(session_cookie(&client), None);
    assert_logged(&["hoarder-1", "makes the session too large"]);
}

#[rocket::async_test]
async fn a_closure_is_a_hook_too() {
    init_logging();
    let issuer = DevIssuer::start().await.unwrap();
    let rocket = rocket::custom(figment(&issuer))
        .attach(
            OidcFairing::new().on_login(|user: &UserContext, _: &Request<'_>| {
                Ok(match user.userinfo.email_verified {
                    Some(true) => LoginDecision::allow(),
                    _ => LoginDecision::refuse("Verify your email address first."),
                })
            }),
        )
        .mount("/", routes![me]);
    let client = Client::tracked(rocket).await.unwrap();
    sign_in(&client, "ada").await;
    // alan's email is unverified at the dev issuer.
    let e = try_sign_in(&client, "alan").await.unwrap_err();
    let TestingError::SignInFailed { status, body } = e else {
        panic!("{e:?}")
    };
    assert_eq!(status, 403);
    assert!(body.contains("Verify your email address first."), "{body}");
}
