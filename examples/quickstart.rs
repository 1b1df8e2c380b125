//! The quickstart: OpenID Connect login for a Rocket app, with no account anywhere.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! then open the URL it prints (http://localhost:8000/) and sign in as `ada`, `grace` or `alan`.
//! Without an `oidc.issuer` setting the example starts the crate's development issuer on
//! loopback and signs in there. To use a real provider (Okta, Auth0, Keycloak, Entra ID, ...),
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

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::serde::json::{json, Json, Value};
use rocket::{get, routes, Build, Rocket};
use rocket_dyn_templates::{context, Template};
use rocket_openid_connect::dev_issuer::{DevIssuer, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use rocket_openid_connect::{AuthenticatedUser, OidcFairing, RefreshStatus, UserContext};
use time::OffsetDateTime;

/// The home page greets a signed-in user by name and offers a visitor the login link.
#[get("/")]
fn index(user: Option<UserContext>) -> Template {
    let name = user.as_ref().map(display_name);
    Template::render("index", context! { name })
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
    Template::render(
        "protected",
        context! {
            name: display_name(&user),
            claims,
            access_token_expires: tokens.access_token_expires_at.map(describe_time),
            id_token_expires: tokens.id_token_expires_at.map(describe_time),
            signed_in: describe_time(tokens.signed_in_at),
            refresh_token: tokens.refresh_token.is_some(),
            refresh_status: describe_refresh(tokens.refresh_status),
        },
    )
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

/// Keeps the development issuer running as long as the app.
struct DevIssuerHandle(#[allow(dead_code)] DevIssuer);

/// Whether `figment` configures an issuer (Rocket.toml `oidc.issuer`, `ROCKET_OIDC={issuer=..}`
/// or `ROCKET_OIDC_ISSUER`).
fn issuer_configured(figment: &Figment) -> bool {
    figment.find_value("oidc.issuer").is_ok() || figment.find_value("oidc_issuer").is_ok()
}

/// Builds the quickstart app from `figment`, starting the development issuer when no issuer
/// is configured.
pub async fn app(figment: Figment) -> Result<Rocket<Build>, String> {
    let mut figment = figment;
    if figment.find_value("template_dir").is_err() {
        figment = figment.merge((
            "template_dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/templates"),
        ));
    }
    let mut dev_issuer = None;
    if !issuer_configured(&figment) {
        let issuer = DevIssuer::start()
            .await
            .map_err(|e| format!("could not start the development issuer: {e}"))?;
        figment = figment
            .merge(("oidc.issuer", issuer.issuer_url()))
            .merge(("oidc.client_id", DEFAULT_CLIENT_ID))
            .merge(("oidc.client_secret", DEFAULT_CLIENT_SECRET));
        dev_issuer = Some(issuer);
    }
    if figment.find_value("oidc.app_base_url").is_err()
        && figment.find_value("oidc_app_base_url").is_err()
    {
        let port: u16 = figment.extract_inner("port").unwrap_or(8000);
        figment = figment.merge(("oidc.app_base_url", format!("http://localhost:{port}")));
    }
    let using_dev_issuer = dev_issuer.is_some();
    // What the fairing will read (table and ROCKET_OIDC_* variables), for the banner.
    let base = rocket_openid_connect::Config::from_figment(&figment)
        .map(|c| c.app_base_url)
        .unwrap_or_default();
    let rocket = rocket::custom(figment)
        .attach(OidcFairing::new())
        .attach(Template::fairing())
        .attach(AdHoc::on_liftoff("Quickstart banner", move |_| {
            Box::pin(async move {
                println!("\n    Quickstart ready: open {base}/");
                if using_dev_issuer {
                    println!("    Sign in at the development issuer as ada, grace or alan (no password).\n");
                }
            })
        }))
        .mount("/", routes![index, protected, me]);
    Ok(match dev_issuer {
        Some(issuer) => rocket.manage(DevIssuerHandle(issuer)),
        None => rocket,
    })
}

#[rocket::main]
async fn main() {
    let rocket = match app(rocket::Config::figment()).await {
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
