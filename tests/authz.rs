//! Who may see what, over real logins at the development issuer: `Authorized<R>` for visitors,
//! allowed and refused users, browsers and API clients; typed claims from each source; wrong
//! shapes and Entra's group overage; the 403 / 500 catchers. The users sign in through
//! `rocket_openid_connect::testing` into `rocket::local` clients, as users' own tests do.

mod common;

use common::*;
use rocket::error::ErrorKind;
use rocket::figment::Figment;
use rocket::http::{Accept, ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use rocket::serde::json::{json, Json, Value};
use rocket::serde::Deserialize;
use rocket::{get, routes, Build, Rocket};
use rocket_openid_connect::dev_issuer::{AccessTokenFormat, DevIssuer, DevUser, Fault};
use rocket_openid_connect::testing::{self, sign_in};
use rocket_openid_connect::{
    requirement, Authorized, AuthzError, ClaimSource, Claims, ClaimsError, OidcFairing, Rule,
};

requirement! {
    /// The dev issuer's `ada` is in `admins`; `grace` and `alan` are not.
    Admin = Rule::group("admins");
    /// Keycloak realm role `admins` (the dev issuer's JWT access tokens carry the groups as
    /// `realm_access.roles`).
    RealmAdmin = Rule::role("admins");
    /// Keycloak nested roles: a realm role and a client role.
    Publisher = Rule::role("editor").and(Rule::client_role("my-app", "publisher"));
    /// A claim of the wrong shape for `claim_includes` (an object).
    InDepartment = Rule::claim_includes("departments", "research");
    /// Granted scope `profile`, read from the access token.
    ProfileScope = Rule::scope("profile");
    /// A typed claim, checked by the app's own code.
    AcmeTenant = Rule::custom("tenant acme", |user| {
        Ok(user.claims::<Tenant>()?.tenant == "acme")
    });
}

#[derive(Deserialize, serde::Serialize)]
#[serde(crate = "rocket::serde")]
struct Tenant {
    tenant: String,
}
impl Claims for Tenant {}

/// What the ID token says of the authentication.
#[derive(Deserialize, serde::Serialize)]
#[serde(crate = "rocket::serde")]
struct IdTokenClaims {
    auth_time: i64,
    email: Option<String>,
}
impl Claims for IdTokenClaims {
    const SOURCE: ClaimSource = ClaimSource::IdToken;
}

/// The user's claims (ID token and userinfo).
#[derive(Deserialize, serde::Serialize)]
#[serde(crate = "rocket::serde")]
struct UserClaims {
    email: Option<String>,
    auth_time: Option<i64>,
    #[serde(default)]
    groups: Vec<String>,
}
impl Claims for UserClaims {}

/// Keycloak's realm roles, from the access token.
#[derive(Deserialize, serde::Serialize)]
#[serde(crate = "rocket::serde")]
struct RealmRoles {
    realm_access: RealmAccess,
}
#[derive(Deserialize, serde::Serialize)]
#[serde(crate = "rocket::serde")]
struct RealmAccess {
    roles: Vec<String>,
}
impl Claims for RealmRoles {
    const SOURCE: ClaimSource = ClaimSource::AccessToken;
}

#[get("/admin")]
fn admin(user: Authorized<Admin>) -> String {
    format!("admin page for {}", user.userinfo.sub)
}

#[get("/realm-admin")]
fn realm_admin(user: Authorized<RealmAdmin>) -> String {
    format!("realm admin {}", user.userinfo.sub)
}

#[get("/publish")]
fn publish(_user: Authorized<Publisher>) -> &'static str {
    "publisher"
}

#[get("/department")]
fn department(_user: Authorized<InDepartment>) -> &'static str {
    "research"
}

#[get("/acme")]
fn acme(_user: Authorized<AcmeTenant>) -> &'static str {
    "acme"
}

/// A route that handles the refusal itself.
#[get("/maybe-admin")]
fn maybe_admin(user: Result<Authorized<Admin>, AuthzError>) -> String {
    match user {
        Ok(user) => format!("yes, {}", user.userinfo.sub),
        Err(AuthzError::Forbidden { requirement }) => format!("no: {requirement}"),
        Err(e) => format!("error: {e}"),
    }
}

fn claims_json<C: Claims + serde::Serialize>(
    user: &rocket_openid_connect::UserContext,
) -> Json<Value> {
    Json(match user.claims::<C>() {
        Ok(c) => json!({"ok": &*c}),
        Err(e) => json!({"error": e.code(), "claim": e.claim(), "message": e.to_string()}),
    })
}

#[get("/claims/id-token")]
fn id_token_claims(user: rocket_openid_connect::AuthenticatedUser) -> Json<Value> {
    claims_json::<IdTokenClaims>(&user)
}

#[get("/claims/user")]
fn user_claims(user: rocket_openid_connect::AuthenticatedUser) -> Json<Value> {
    claims_json::<UserClaims>(&user)
}

#[get("/claims/access-token")]
fn access_token_claims(user: rocket_openid_connect::AuthenticatedUser) -> Json<Value> {
    claims_json::<RealmRoles>(&user)
}

fn app(figment: Figment) -> Rocket<Build> {
    rocket::custom(figment).attach(OidcFairing::new()).mount(
        "/",
        routes![
            admin,
            realm_admin,
            publish,
            department,
            acme,
            maybe_admin,
            id_token_claims,
            user_claims,
            access_token_claims
        ],
    )
}

/// The test app's figment for `issuer`, with the `groups` scope.
fn figment(issuer: &DevIssuer) -> Figment {
    testing::figment(issuer)
        .merge(("secret_key", TEST_SECRET_KEY))
        .merge(("log_level", "normal"))
        .merge(("cli_colors", false))
        .merge(("oidc.scopes", ["openid", "profile", "email", "groups"]))
}

async fn client(issuer: &DevIssuer) -> Client {
    init_logging();
    Client::tracked(app(figment(issuer)))
        .await
        .expect("the app ignites")
}

/// A development issuer (the log capture installed first: the issuer's Rocket would install
/// its own logger).
async fn issuer() -> DevIssuer {
    init_logging();
    DevIssuer::start().await.unwrap()
}

/// An issuer whose access tokens are JWTs (as Keycloak's).
async fn jwt_issuer() -> DevIssuer {
    init_logging();
    DevIssuer::builder()
        .access_token_format(AccessTokenFormat::Jwt)
        .start()
        .await
        .unwrap()
}

/// A browser navigating to `path`.
async fn navigate<'c>(client: &'c Client, path: &'c str) -> LocalResponse<'c> {
    client
        .get(path)
        .header(Accept::HTML)
        .header(Header::new("Sec-Fetch-Mode", "navigate"))
        .header(Header::new("Sec-Fetch-Dest", "document"))
        .dispatch()
        .await
}

/// An API client (`fetch()`) asking for `path`.
async fn api<'c>(client: &'c Client, path: &'c str) -> LocalResponse<'c> {
    client
        .get(path)
        .header(Accept::JSON)
        .header(Header::new("Sec-Fetch-Mode", "cors"))
        .dispatch()
        .await
}

async fn json_of(resp: LocalResponse<'_>) -> Value {
    let body = resp.into_string().await.unwrap_or_default();
    rocket::serde::json::serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[rocket::async_test]
async fn visitor_browser_is_sent_to_login() {
    let issuer = issuer().await;
    let client = client(&issuer).await;
    let r = navigate(&client, "/admin").await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(
        r.headers().get_one("Location"),
        Some("/login?return_to=%2Fadmin")
    );
}

#[rocket::async_test]
async fn visitor_api_gets_401() {
    let issuer = issuer().await;
    let client = client(&issuer).await;
    let r = api(&client, "/admin").await;
    assert_eq!(r.status(), Status::Unauthorized);
    assert!(r.headers().get_one("Location").is_none());
    assert_eq!(json_of(r).await["error"], "unauthorized");
}

#[rocket::async_test]
async fn allowed_browser_gets_the_page() {
    let issuer = issuer().await;
    let client = client(&issuer).await;
    sign_in(&client, "ada").await;
    let r = navigate(&client, "/admin").await;
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(
        r.into_string().await.unwrap(),
        "admin page for ada-lovelace-1815"
    );
}

#[rocket::async_test]
async fn allowed_api_gets_the_page() {
    let issuer = issuer().await;
    let client = client(&issuer).await;
    sign_in(&client, "ada").await;
    let r = api(&client, "/admin").await;
    assert_eq!(r.status(), Status::Ok);
}

#[rocket::async_test]
async fn forbidden_browser_gets_the_403_page_never_a_redirect() {
    let issuer = issuer().await;
    let client = client(&issuer).await;
    sign_in(&client, "grace").await;
    let r = navigate(&client, "/admin").await;
    assert_eq!(r.status(), Status::Forbidden);
    assert!(
        r.headers().get_one("Location").is_none(),
        "never a redirect"
    );
    assert_eq!(r.content_type(), Some(ContentType::HTML));
    assert_eq!(r.headers().get_one("Cache-Control"), Some("no-store"));
    let body = r.into_string().await.unwrap();
    assert!(body.contains("<title>Access denied</title>"), "{body}");
    assert!(
        body.contains("signed in as <strong>Grace Hopper</strong>"),
        "{body}"
    );
    assert!(
        body.contains("<form method=\"post\" action=\"/logout\">"),
        "a way to switch accounts: {body}"
    );
    assert!(
        !body.contains("admins"),
        "the page does not reveal the requirement"
    );
    // Still signed in: the refusal does not end the session.
    assert_eq!(navigate(&client, "/claims/user").await.status(), Status::Ok);
}

#[rocket::async_test]
async fn forbidden_api_gets_403_json() {
    let issuer = issuer().await;
    let client = client(&issuer).await;
    sign_in(&client, "grace").await;
    let r = api(&client, "/admin").await;
    assert_eq!(r.status(), Status::Forbidden);
    assert_eq!(r.content_type(), Some(ContentType::JSON));
    assert_eq!(json_of(r).await["error"], "forbidden");
    // XHR from a page, even with HTML in Accept: JSON, as for the 401.
    let xhr = client
        .get("/admin")
        .header(Accept::HTML)
        .header(Header::new("X-Requested-With", "XMLHttpRequest"))
        .dispatch()
        .await;
    assert_eq!(xhr.status(), Status::Forbidden);
    assert_eq!(xhr.content_type(), Some(ContentType::JSON));
}

#[rocket::async_test]
async fn forbidden_is_logged_with_the_requirement_and_sub() {
    let issuer = issuer().await;
    let client = client(&issuer).await;
    sign_in(&client, "alan").await;
    assert_eq!(api(&client, "/admin").await.status(), Status::Forbidden);
    assert_logged(&[
        "alan-turing-1912",
        "403 for `GET /admin`",
        "requirement `Admin` (group `admins`)",
    ]);
}

#[rocket::async_test]
async fn a_route_can_take_the_refusal_as_a_result() {
    let issuer = issuer().await;
    let client = client(&issuer).await;
    sign_in(&client, "grace").await;
    let r = api(&client, "/maybe-admin").await;
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(r.into_string().await.unwrap(), "no: Admin");
    sign_in(&client, "ada").await;
    let r = api(&client, "/maybe-admin").await;
    assert_eq!(r.into_string().await.unwrap(), "yes, ada-lovelace-1815");
}

#[rocket::async_test]
async fn wrong_claim_shape_is_a_500_naming_the_claim() {
    let issuer = issuer().await;
    let client = client(&issuer).await;
    let odd = DevUser::new("odd-1", "odd")
        .claim("departments", json!({"research": true}))
        .claim("tenant", 42);
    sign_in(&client, &odd).await;

    let r = api(&client, "/department").await;
    assert_eq!(r.status(), Status::InternalServerError, "not a 403");
    let body = json_of(r).await;
    assert_eq!(body["error"], "invalid_claim");
    assert_eq!(body["claim"], "departments");
    assert_logged(&[
        "odd-1",
        "500 for `GET /department`",
        "claim `departments` of the user's claims (ID token and userinfo) has the wrong shape",
    ]);

    // A typed claim read by the app's own rule.
    let r = api(&client, "/acme").await;
    assert_eq!(r.status(), Status::InternalServerError);
    assert_eq!(json_of(r).await["claim"], "tenant");
    assert_logged(&[
        "odd-1",
        "claim `tenant`",
        "invalid type: integer `42`, expected a string",
    ]);

    // The browser's page says the access could not be checked, and who to ask.
    let page = navigate(&client, "/acme").await;
    assert_eq!(page.status(), Status::InternalServerError);
    let body = page.into_string().await.unwrap();
    assert!(body.contains("Access could not be checked"), "{body}");
    assert!(body.contains("<code>invalid_claim</code>"), "{body}");
}

#[rocket::async_test]
async fn entra_group_overage_is_a_500_not_a_403() {
    let issuer = issuer().await;
    issuer.set_fault(Fault::GroupOverage);
    let client = client(&issuer).await;
    sign_in(&client, "ada").await;

    let r = api(&client, "/admin").await;
    assert_eq!(r.status(), Status::InternalServerError);
    let body = json_of(r).await;
    assert_eq!(body["error"], "distributed_claim");
    assert_eq!(body["claim"], "groups");
    assert_logged(&[
        "ada-lovelace-1815",
        "500 for `GET /admin`",
        "claim `groups` is not in the user's claims",
        "graph.microsoft.com",
        "group overage",
    ]);
    // Typed claims: an error, not an empty list.
    let typed = json_of(api(&client, "/claims/user").await).await;
    assert_eq!(typed["error"], "distributed_claim", "{typed}");
}

#[rocket::async_test]
async fn claims_from_the_id_token_and_from_userinfo() {
    let issuer = issuer().await;
    // Userinfo has `email`, the ID token does not.
    issuer.set_fault(Fault::RemoveClaim("email".into()));
    let client = client(&issuer).await;
    sign_in(&client, "ada").await;

    let id = json_of(api(&client, "/claims/id-token").await).await;
    assert!(
        id["ok"]["auth_time"].as_i64().unwrap() > 1_700_000_000,
        "{id}"
    );
    assert_eq!(id["ok"]["email"], Value::Null, "not in the ID token: {id}");

    let user = json_of(api(&client, "/claims/user").await).await;
    assert_eq!(
        user["ok"]["email"], "ada@example.com",
        "from userinfo: {user}"
    );
    assert_eq!(
        user["ok"]["auth_time"],
        Value::Null,
        "a protocol claim: {user}"
    );
    assert_eq!(user["ok"]["groups"], json!(["admins", "engineering"]));
}

#[rocket::async_test]
async fn claims_from_a_jwt_access_token() {
    let issuer = jwt_issuer().await;
    let client = client(&issuer).await;
    sign_in(&client, "grace").await;
    let roles = json_of(api(&client, "/claims/access-token").await).await;
    assert_eq!(
        roles["ok"]["realm_access"]["roles"],
        json!(["engineering", "navy"])
    );
}

#[rocket::async_test]
async fn an_opaque_access_token_has_no_claims_and_says_so() {
    let issuer = issuer().await;
    let client = client(&issuer).await;
    sign_in(&client, "ada").await;
    let roles = json_of(api(&client, "/claims/access-token").await).await;
    assert_eq!(roles["error"], "claims_unavailable");
    assert!(
        roles["message"].as_str().unwrap().contains("is not a JWT"),
        "{roles}"
    );
    // Rule::role falls back to the user's claims, which have no roles: a plain 403.
    assert_eq!(
        api(&client, "/realm-admin").await.status(),
        Status::Forbidden
    );
}

#[rocket::async_test]
async fn keycloak_realm_roles_in_the_access_token_authorize() {
    let issuer = jwt_issuer().await;
    let client = client(&issuer).await;
    sign_in(&client, "ada").await;
    assert_eq!(api(&client, "/realm-admin").await.status(), Status::Ok);
    sign_in(&client, "grace").await;
    assert_eq!(
        api(&client, "/realm-admin").await.status(),
        Status::Forbidden
    );
}

#[rocket::async_test]
async fn keycloak_style_nested_roles_authorize() {
    let issuer = jwt_issuer().await;
    let client = client(&issuer).await;
    let editor = DevUser::new("edith-1", "edith")
        .claim("realm_access", json!({"roles": ["editor", "user"]}))
        .claim(
            "resource_access",
            json!({"my-app": {"roles": ["publisher"]}, "other-app": {"roles": ["root"]}}),
        );
    sign_in(&client, editor).await;
    assert_eq!(api(&client, "/publish").await.status(), Status::Ok);

    let writer = DevUser::new("walt-1", "walt")
        .claim("realm_access", json!({"roles": ["editor"]}))
        .claim(
            "resource_access",
            json!({"other-app": {"roles": ["publisher"]}}),
        );
    sign_in(&client, writer).await;
    assert_eq!(
        api(&client, "/publish").await.status(),
        Status::Forbidden,
        "a role of another client does not count"
    );
}

#[rocket::async_test]
async fn a_custom_rule_on_typed_claims_authorizes() {
    let issuer = issuer().await;
    let client = client(&issuer).await;
    sign_in(
        &client,
        DevUser::new("acme-1", "wile").claim("tenant", "acme"),
    )
    .await;
    assert_eq!(api(&client, "/acme").await.status(), Status::Ok);
    sign_in(
        &client,
        DevUser::new("evil-1", "evil").claim("tenant", "evil"),
    )
    .await;
    assert_eq!(api(&client, "/acme").await.status(), Status::Forbidden);
}

#[get("/profile-scope")]
fn profile_scope(_user: Authorized<ProfileScope>) -> &'static str {
    "scoped"
}

#[rocket::async_test]
async fn a_scope_rule_reads_the_access_token() {
    let issuer = jwt_issuer().await;
    init_logging();
    let client = Client::tracked(app(figment(&issuer)).mount("/", routes![profile_scope]))
        .await
        .unwrap();
    sign_in(&client, "ada").await;
    assert_eq!(api(&client, "/profile-scope").await.status(), Status::Ok);
}

#[rocket::async_test]
async fn an_access_token_rule_without_the_access_token_stops_launch() {
    init_logging();
    let issuer = jwt_issuer().await;
    let rocket = app(figment(&issuer).merge(("oidc.keep_access_token", false)))
        .mount("/", routes![profile_scope]);
    let Err(err) = Client::tracked(rocket).await else {
        panic!("launch must fail");
    };
    assert!(
        matches!(err.kind(), ErrorKind::SentinelAborts(_)),
        "{err:?}"
    );
    assert_logged(&[
        "`Authorized<ProfileScope>` checks scope `profile`",
        "oidc.keep_access_token is false",
    ]);
}

#[rocket::async_test]
async fn authorized_without_the_fairing_stops_launch() {
    init_logging();
    let rocket = rocket::custom(rocket::Config::figment().merge(("log_level", "normal")))
        .mount("/", routes![admin]);
    let Err(err) = Client::tracked(rocket).await else {
        panic!("launch must fail");
    };
    assert!(
        matches!(err.kind(), ErrorKind::SentinelAborts(_)),
        "{err:?}"
    );
    assert_logged(&["`Authorized` is used as a request guard", "not attached"]);
}

#[rocket::catch(403)]
fn app_403(req: &rocket::Request<'_>) -> rocket_openid_connect::AccessDenied {
    rocket_openid_connect::access_denied(Status::Forbidden, req)
}

#[rocket::async_test]
async fn an_app_with_its_own_403_catcher_keeps_the_page() {
    let issuer = issuer().await;
    init_logging();
    let rocket = app(figment(&issuer)).register("/", rocket::catchers![app_403]);
    let client = Client::tracked(rocket).await.expect("no catcher collision");
    assert_logged(&[
        "its own 403 catcher",
        "access_denied(Status::Forbidden, req)",
    ]);
    sign_in(&client, "grace").await;
    let r = navigate(&client, "/admin").await;
    assert_eq!(r.status(), Status::Forbidden);
    assert!(r.into_string().await.unwrap().contains("Grace Hopper"));
}

#[get("/boom")]
fn boom() -> Result<&'static str, Status> {
    Err(Status::Forbidden)
}

#[rocket::async_test]
async fn other_403s_and_500s_get_plain_pages() {
    let issuer = issuer().await;
    init_logging();
    let client = Client::tracked(app(figment(&issuer)).mount("/", routes![boom]))
        .await
        .unwrap();
    let html = navigate(&client, "/boom").await;
    assert_eq!(html.status(), Status::Forbidden);
    assert!(html.into_string().await.unwrap().contains("403 Forbidden"));
    let json = json_of(api(&client, "/boom").await).await;
    assert_eq!(json["error"]["code"], 403);
}

/// ClaimsError's messages as an app's log shows them, for the README.
#[test]
fn claims_errors_say_what_to_change() {
    let e = ClaimsError::Missing {
        source: ClaimSource::AccessToken,
        claim: "realm_access.roles".into(),
    };
    assert_eq!(
        e.to_string(),
        "claim `realm_access.roles` is missing from the access token: make the field an \
         `Option` or `#[serde(default)]` if not every user has it, or have the provider release \
         it (scopes, claim mappers)"
    );
}
