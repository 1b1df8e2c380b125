//! The quickstart: OpenID Connect login for a Rocket app, with no account anywhere.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! then open the URL it prints (http://localhost:8000/) and sign in as `ada`, `grace` or `alan`.
//! Without an `oidc.issuer` setting the example starts the crate's development issuer on
//! loopback and signs in there. `/admin` is for members of the `admins` group (`ada`), and the
//! login hook refuses `alan` and counts everybody's sign-ins. To use a real provider (Okta, Auth0, Keycloak, Entra ID, ...),
//! register a web application with the redirect URI `http://localhost:8000/authorization-code/callback`
//! and the sign-out redirect `http://localhost:8000/`, then set, with no code change:
//!
//! ```sh
//! ROCKET_OIDC_ISSUER=https://dev-123456.okta.com/oauth2/default \
//! ROCKET_OIDC_CLIENT_ID=0oa... ROCKET_OIDC_CLIENT_SECRET=... \
//! cargo run --example quickstart
//! ```
//!
//! (or the same keys in the `[default.oidc]` table of Rocket.toml). `ROCKET_OIDC_APP_BASE_URL`,
//! `ROCKET_ADDRESS` and `ROCKET_PORT` move the app to another address or behind a proxy.
//!
//! Several providers: with `QUICKSTART_DEV_ISSUERS=2` the example starts two development
//! issuers, configured as the provider tables `a` and `b`, and `/login` asks "Sign in with
//! Development issuer A / Development issuer B":
//!
//! ```sh
//! QUICKSTART_DEV_ISSUERS=2 cargo run --example quickstart
//! ```
//!
//! Real providers go into `[default.oidc.providers.NAME]` tables (or
//! `ROCKET_OIDC_PROVIDERS_<NAME>_<KEY>` variables), as the README shows; the example then starts
//! no development issuer.

use std::collections::HashMap;
use std::sync::Mutex;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::serde::json::{json, Json, Value};
use rocket::serde::{Deserialize, Serialize};
use rocket::{get, routes, Build, Request, Rocket};
use rocket_dyn_templates::{context, Template};
use rocket_openid_connect::dev_issuer::{
    DevClient, DevIssuer, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};
use rocket_openid_connect::{
    requirement, AuthenticatedUser, Authorized, LoginDecision, LoginHook, LoginHookError,
    OidcFairing, RefreshStatus, Rule, UserContext,
};
use time::OffsetDateTime;

requirement! {
    /// Members of the `admins` group (the development issuer's `ada`).
    Admin = Rule::group("admins");
}

/// What the login hook keeps in the session: the how-many-th sign-in of this account it is.
#[derive(Serialize, Deserialize)]
#[serde(crate = "rocket::serde")]
struct Visit {
    sign_in: u32,
}

/// Sign-ins per subject since the app started (an app would use its database).
#[derive(Default)]
struct SignIns(Mutex<HashMap<String, u32>>);

/// The login hook: runs after the provider's answer is validated, before the session exists.
struct CountSignIns;

#[rocket::async_trait]
impl LoginHook for CountSignIns {
    async fn on_login(
        &self,
        user: &UserContext,
        req: &Request<'_>,
    ) -> Result<LoginDecision, LoginHookError> {
        // Accounts this app has disabled, whatever the provider says.
        if user.userinfo.preferred_username.as_deref() == Some("alan") {
            return Ok(LoginDecision::refuse(
                "Alan's account is disabled in this app (the login hook in examples/quickstart.rs refuses it).",
            ));
        }
        let sign_ins = req
            .rocket()
            .state::<SignIns>()
            .ok_or("SignIns is not managed")?;
        let mut counts = sign_ins
            .0
            .lock()
            .map_err(|_| "the sign-in counter is poisoned")?;
        let count = counts.entry(user.userinfo.sub.clone()).or_insert(0);
        *count += 1;
        Ok(LoginDecision::allow().data(Visit { sign_in: *count }))
    }
}

/// The home page greets a signed-in user by name and offers a visitor the login link.
#[get("/")]
fn index(user: Option<UserContext>) -> Template {
    let name = user.as_ref().map(display_name);
    let provider = user.as_ref().and_then(provider_name);
    Template::render("index", context! { name, provider })
}

/// Only for signed-in users: a browser is sent to login first, and back here afterwards. An
/// access token about to expire is refreshed before this runs (`[default.oidc.refresh]`); the
/// page says whether this request did.
#[get("/protected")]
fn protected(user: AuthenticatedUser) -> Template {
    let mut claims: Vec<(String, String)> = match serde_json_value(&user.userinfo) {
        Value::Object(map) => map
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                (
                    k,
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    claims.sort();
    let tokens = &user.tokens;
    let sign_in = user.app_data::<Visit>().ok().flatten().map(|v| v.sign_in);
    Template::render(
        "protected",
        context! {
            name: display_name(&user),
            sign_in,
            claims,
            access_token_expires: tokens.access_token_expires_at.map(describe_time),
            id_token_expires: tokens.id_token_expires_at.map(describe_time),
            signed_in: describe_time(tokens.signed_in_at),
            refresh_token: tokens.refresh_token.is_some(),
            refresh_status: describe_refresh(tokens.refresh_status),
            provider: provider_name(&user),
            issuer: &*user.provider.issuer,
        },
    )
}

/// Only for members of `admins`: a visitor is sent to login; anyone else signed in gets 403
/// (never a login redirect).
#[get("/admin")]
fn admin(user: Authorized<Admin>) -> Template {
    let groups = user.userinfo.other.get("groups").map(Value::to_string);
    Template::render("admin", context! { name: display_name(&user), groups })
}

/// For API clients: JSON when signed in, 401 (never a login redirect) otherwise.
#[get("/api/me")]
fn me(user: AuthenticatedUser) -> Json<Value> {
    let u = &user.userinfo;
    Json(json!({
        "sub": u.sub,
        "name": u.name,
        "email": u.email,
        "preferred_username": u.preferred_username,
        "groups": u.other.get("groups"),
    }))
}

fn display_name(user: &UserContext) -> String {
    let u = &user.userinfo;
    u.name
        .clone()
        .or_else(|| u.preferred_username.clone())
        .unwrap_or_else(|| u.sub.clone())
}

/// The provider table that signed the user in; none for the one provider of `[default.oidc]`.
fn provider_name(user: &UserContext) -> Option<String> {
    let name = user.provider.name.as_str();
    (name != "default").then(|| name.to_owned())
}

fn serde_json_value<T: rocket::serde::Serialize>(v: &T) -> Value {
    rocket::serde::json::serde_json::to_value(v).unwrap_or(Value::Null)
}

fn describe_refresh(status: RefreshStatus) -> &'static str {
    match status {
        RefreshStatus::Refreshed => "refreshed on this request",
        RefreshStatus::Stale => "due, but the provider could not refresh it (stale)",
        _ => "not needed",
    }
}

fn describe_time(t: OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.format(&format).unwrap_or_else(|_| t.to_string())
}

/// Keeps the development issuers running as long as the app.
struct DevIssuerHandle(#[allow(dead_code)] Vec<DevIssuer>);

/// Whether `figment` configures an issuer (Rocket.toml `oidc.issuer`, `ROCKET_OIDC={issuer=..}`
/// or `ROCKET_OIDC_ISSUER`) or provider tables (`[default.oidc.providers.NAME]`,
/// `ROCKET_OIDC_PROVIDERS={..}`).
fn issuer_configured(figment: &Figment) -> bool {
    [
        "oidc.issuer",
        "oidc_issuer",
        "oidc.providers",
        "oidc_providers",
    ]
    .iter()
    .any(|key| figment.find_value(key).is_ok())
}

/// The development client of provider `name`: the default client id and secret, its callback
/// `/authorization-code/callback/<name>` on any loopback port (RFC 8252 §7.3).
fn dev_client(name: &str) -> DevClient {
    let mut client = DevClient::confidential(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET);
    for host in ["localhost", "127.0.0.1"] {
        client = client
            .redirect_uri(format!("http://{host}/authorization-code/callback/{name}"))
            .post_logout_redirect_uri(format!("http://{host}/"));
    }
    client
}

/// Builds the quickstart app from `figment`, starting the development issuer when no issuer
/// is configured.
pub async fn app(figment: Figment) -> Result<Rocket<Build>, String> {
    app_with(figment, 1).await
}

/// [`app`] with `dev_issuers` development issuers when no issuer is configured: one, configured
/// as `[default.oidc]`, or two, configured as the provider tables `a` and `b`
/// (`QUICKSTART_DEV_ISSUERS=2`).
pub async fn app_with(figment: Figment, dev_issuers: usize) -> Result<Rocket<Build>, String> {
    let mut figment = figment;
    if figment.find_value("template_dir").is_err() {
        figment = figment.merge((
            "template_dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/templates"),
        ));
    }
    let mut issuers = Vec::new();
    if !issuer_configured(&figment) {
        // The development issuer releases `groups` (for /admin) with the `groups` scope; a
        // real provider may need it configured (Okta) or call it otherwise.
        figment = figment.merge(("oidc.scopes", ["openid", "profile", "email", "groups"]));
        let start_error = |e| format!("could not start the development issuer: {e}");
        if dev_issuers <= 1 {
            let issuer = DevIssuer::start().await.map_err(start_error)?;
            figment = figment
                .merge(("oidc.issuer", issuer.issuer_url()))
                .merge(("oidc.client_id", DEFAULT_CLIENT_ID))
                .merge(("oidc.client_secret", DEFAULT_CLIENT_SECRET));
            issuers.push(issuer);
        } else {
            for name in ["a", "b"] {
                let issuer = DevIssuer::builder()
                    .client(dev_client(name))
                    .start()
                    .await
                    .map_err(start_error)?;
                let key = |k: &str| format!("oidc.providers.{name}.{k}");
                let display = format!("Development issuer {}", name.to_ascii_uppercase());
                figment = figment
                    .merge((key("issuer"), issuer.issuer_url()))
                    .merge((key("client_id"), DEFAULT_CLIENT_ID))
                    .merge((key("client_secret"), DEFAULT_CLIENT_SECRET))
                    .merge((key("display_name"), display));
                issuers.push(issuer);
            }
        }
    }
    if figment.find_value("oidc.app_base_url").is_err()
        && figment.find_value("oidc_app_base_url").is_err()
    {
        let port: u16 = figment.extract_inner("port").unwrap_or(8000);
        figment = figment.merge(("oidc.app_base_url", format!("http://localhost:{port}")));
    }
    let dev_issuers = issuers.len();
    // What the fairing will read (table and ROCKET_OIDC_* variables), for the banner.
    let base = rocket_openid_connect::Config::from_figment(&figment)
        .map(|c| c.app_base_url)
        .unwrap_or_default();
    let rocket = rocket::custom(figment)
        .attach(OidcFairing::new().on_login(CountSignIns))
        .manage(SignIns::default())
        .attach(Template::fairing())
        .attach(AdHoc::on_liftoff("Quickstart banner", move |_| {
            Box::pin(async move {
                println!("\n    Quickstart ready: open {base}/");
                match dev_issuers {
                    0 => {}
                    1 => println!(
                        "    Sign in at the development issuer as ada, grace or alan (no password);"
                    ),
                    _ => println!(
                        "    Sign in with development issuer A or B, as ada, grace or alan (no password);"
                    ),
                }
                if dev_issuers > 0 {
                    println!("    /admin is for ada (group admins), and the login hook refuses alan.\n");
                }
            })
        }))
        .mount("/", routes![index, protected, admin, me]);
    Ok(if issuers.is_empty() {
        rocket
    } else {
        rocket.manage(DevIssuerHandle(issuers))
    })
}

/// How many development issuers `QUICKSTART_DEV_ISSUERS` asks for (1 unless it says 2).
fn dev_issuers_wanted() -> Result<usize, String> {
    match std::env::var("QUICKSTART_DEV_ISSUERS").as_deref() {
        Err(_) | Ok("1") => Ok(1),
        Ok("2") => Ok(2),
        Ok(other) => Err(format!(
            "QUICKSTART_DEV_ISSUERS is {other:?}: set it to 1 (the default) or 2"
        )),
    }
}

#[rocket::main]
async fn main() {
    let built = match dev_issuers_wanted() {
        Ok(n) => app_with(rocket::Config::figment(), n).await,
        Err(e) => Err(e),
    };
    let rocket = match built {
        Ok(rocket) => rocket,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rocket.launch().await {
        // The reason was logged above (e.g. by the "OpenID Connect" fairing).
        eprintln!("error: {}", e.pretty_print());
        std::process::exit(1);
    }
}
