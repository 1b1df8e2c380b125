//! The login and logout walks: the app's routes through the client under test, the issuer over
//! real HTTP, as a browser goes (redirects followed one at a time).

use std::time::Duration;

use super::sealed::{App, AppProvider, Driver};
use super::{TestUser, TestingError};
use crate::dev_issuer::{add_user, auto_login, running};

/// What a navigating browser sends: the app answers it as a page, not as an API.
const NAVIGATE: &[(&str, &str)] = &[
    ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
    ("Sec-Fetch-Mode", "navigate"),
    ("Sec-Fetch-Dest", "document"),
];

fn unexpected(step: &str, status: u16, body: &str) -> TestingError {
    TestingError::UnexpectedResponse {
        step: step.to_owned(),
        status,
        body: body.to_owned(),
    }
}

/// The HTTP client to the issuer: no redirects followed (each hop is looked at), bounded.
fn issuer_client() -> Result<reqwest::Client, TestingError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| TestingError::Issuer(e.to_string()))
}

/// `path?query` of a URL the issuer redirects to (the app's callback, its home page): the
/// client under test reaches the app by path, whatever host `app_base_url` names.
fn path_and_query(url: &str) -> Result<String, TestingError> {
    let url = url::Url::parse(url)
        .map_err(|e| TestingError::Issuer(format!("redirect to `{url}`: {e}")))?;
    Ok(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    })
}

/// The value of the hidden `request_id` of the issuer's login form.
fn request_id(page: &str) -> Option<&str> {
    page.split("name=\"request_id\" value=\"")
        .nth(1)?
        .split('"')
        .next()
}

/// The provider to sign in at: the one named, else the app's only or default provider, else
/// the only one whose issuer is a development issuer of this process.
fn provider<'a>(app: &'a App, name: Option<&str>) -> Result<&'a AppProvider, TestingError> {
    let names = || {
        app.providers
            .iter()
            .map(|p| format!("`{}`", p.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(name) = name {
        return app
            .providers
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                TestingError::Provider(format!(
                    "the app has no provider `{name}`; it has {}",
                    names()
                ))
            });
    }
    if let [only] = app.providers.as_slice() {
        return Ok(only);
    }
    if let Some(default) = app.default.and_then(|i| app.providers.get(i)) {
        return Ok(default);
    }
    let mut dev = app
        .providers
        .iter()
        .filter(|p| running(&p.issuer).is_some());
    match (dev.next(), dev.next()) {
        (Some(only), None) => Ok(only),
        _ => Err(TestingError::Provider(format!(
            "the app has several providers ({}) and no default_provider: say which with \
             testing::sign_in_at(&client, \"name\", user)",
            names()
        ))),
    }
}

pub(super) async fn sign_in<C: Driver + ?Sized>(
    client: &C,
    provider_name: Option<&str>,
    user: TestUser,
) -> Result<(), TestingError> {
    let app = client.app()?;
    let provider = provider(&app, provider_name)?;
    let issuer = running(&provider.issuer);
    let username = match user {
        TestUser::Known(name) => name,
        TestUser::New(user) => {
            let issuer = issuer
                .as_ref()
                .ok_or_else(|| TestingError::UnknownIssuer(provider.issuer.clone()))?;
            let name = user.preferred_username.clone();
            add_user(issuer, *user);
            name
        }
    };
    if let Some(auto) = issuer.as_deref().and_then(auto_login) {
        if auto != username {
            return Err(TestingError::AutoLogin {
                auto_login: auto,
                wanted: username,
            });
        }
    }

    // 1. The app's /login: a 303 to the issuer's authorization endpoint.
    let step = format!("GET {}", provider.login_path);
    let login = client
        .send(
            None,
            &format!("{}?return_to=%2F", provider.login_path),
            NAVIGATE,
        )
        .await?;
    let authorize = match (login.status, login.location) {
        (303, Some(location)) => location,
        (status, _) => return Err(unexpected(&step, status, &login.body)),
    };

    // 2. The issuer: its login form (or, with auto-login, the redirect at once).
    let http = issuer_client()?;
    let page = http
        .get(&authorize)
        .send()
        .await
        .map_err(|e| TestingError::Issuer(format!("GET {authorize}: {e}")))?;
    let callback = match page.status().as_u16() {
        303 => location_of(&page)?,
        200 => {
            let action = page
                .url()
                .join("/login")
                .map_err(|e| TestingError::Issuer(e.to_string()))?;
            let body = page.text().await.unwrap_or_default();
            let id = request_id(&body)
                .ok_or_else(|| unexpected("the issuer's /authorize", 200, &body))?
                .to_owned();
            let submitted = http
                .post(action.clone())
                .form(&[
                    ("request_id", id.as_str()),
                    ("username", username.as_str()),
                    ("action", "login"),
                ])
                .send()
                .await
                .map_err(|e| TestingError::Issuer(format!("POST {action}: {e}")))?;
            match submitted.status().as_u16() {
                303 => location_of(&submitted)?,
                status => {
                    let body = submitted.text().await.unwrap_or_default();
                    return Err(unexpected(
                        &format!("the issuer's login form for `{username}`"),
                        status,
                        &body,
                    ));
                }
            }
        }
        status => {
            let body = page.text().await.unwrap_or_default();
            return Err(unexpected("the issuer's /authorize", status, &body));
        }
    };

    // 3. The app's callback: the code exchanged, the session written, a 303 to `return_to`.
    let done = client
        .send(None, &path_and_query(&callback)?, NAVIGATE)
        .await?;
    if done.status != 303 {
        // A client that dropped the login transaction cookie gets `unknown_state`.
        if done.status == 400 && !client.has_session_cookie() && done.body.contains("unknown_state")
        {
            return Err(TestingError::Untracked);
        }
        return Err(TestingError::SignInFailed {
            status: done.status,
            body: done.body,
        });
    }
    if !client.has_session_cookie() {
        return Err(TestingError::Untracked);
    }
    Ok(())
}

fn location_of(resp: &reqwest::Response) -> Result<String, TestingError> {
    resp.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| TestingError::Issuer(format!("{}: a redirect without Location", resp.url())))
}

pub(super) async fn sign_out<C: Driver + ?Sized>(client: &C) -> Result<(), TestingError> {
    let app = client.app()?;
    let step = format!("POST {}", app.logout_path);
    // A same-origin form submission, as the app's logout requires (cross-site ones are refused).
    let headers = [
        ("Origin", app.app_base_url.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
        ("Sec-Fetch-Mode", "navigate"),
        ("Accept", "text/html"),
    ];
    let out = client.send(Some(&[]), &app.logout_path, &headers).await?;
    let location = match (out.status, out.location) {
        (303, Some(location)) => location,
        (status, _) => return Err(unexpected(&step, status, &out.body)),
    };
    // The issuer's end_session (RP-Initiated Logout), which redirects back to the app; the walk
    // stops there. A location on the app itself means the provider has no end_session.
    if location.starts_with("http") && !location.starts_with(&app.app_base_url) {
        let http = issuer_client()?;
        let end = http
            .get(&location)
            .send()
            .await
            .map_err(|e| TestingError::Issuer(format!("GET {location}: {e}")))?;
        if !end.status().is_redirection() {
            let status = end.status().as_u16();
            let body = end.text().await.unwrap_or_default();
            return Err(unexpected("the issuer's end_session", status, &body));
        }
    }
    Ok(())
}
