//! Client authentication without a shared secret, over real HTTP against the development
//! issuer, which verifies what the app sends: `private_key_jwt` (RFC 7523 §2.2) with an RSA key
//! from a file and a P-256 key from the environment-style `client_key`, a wrong key stopping
//! launch; and Sign in with Apple (an ES256 client secret minted from the `.p8` key, and
//! `response_mode=form_post`, whose cross-site POST carries only the `SameSite=None` cookie).

mod common;

use std::path::PathBuf;

use common::*;
use rocket::figment::Figment;
use rocket_openid_connect::dev_issuer::{
    DevClient, DevClientKey, DevIssuer, APPLE_AUTH_KEY_P8, CLIENT_P256_KEY_PEM, CLIENT_RSA_KEY_PEM,
};

const APPLE_CLIENT: &str = "com.example.web";
const APPLE_TEAM: &str = "TEAM123456";
const APPLE_KEY_ID: &str = "KEY1234567";

/// A file holding `pem` in a directory of its own, removed when dropped.
struct KeyFile(PathBuf);

impl KeyFile {
    fn new(pem: &str) -> KeyFile {
        let dir = std::env::temp_dir().join(format!(
            "client-auth-test-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key.pem");
        std::fs::write(&path, pem).unwrap();
        KeyFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A test app's figment on `port` for `issuer`, with no client secret: the caller adds the
/// key settings.
fn keyed_figment(issuer: &str, port: u16, client_id: &str) -> Figment {
    base_figment(port)
        .merge(("oidc.issuer", issuer))
        .merge(("oidc.client_id", client_id))
}

/// A test app's figment on `port`, with no provider yet.
fn base_figment(port: u16) -> Figment {
    rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("secret_key", TEST_SECRET_KEY))
        .merge(("log_level", "normal"))
        .merge(("cli_colors", false))
        .merge(("shutdown.ctrlc", false))
        .merge(("shutdown.grace", 0))
        .merge(("shutdown.mercy", 0))
        .merge(("shutdown.signals", Vec::<String>::new()))
        .merge(("oidc.app_base_url", format!("http://127.0.0.1:{port}")))
}

/// A development issuer (auto-login as `ada`) that knows `client`.
async fn issuer_with(client: DevClient) -> DevIssuer {
    init_logging();
    let issuer = DevIssuer::builder()
        .client(
            client
                .redirect_uri("http://127.0.0.1/authorization-code/callback")
                .post_logout_redirect_uri("http://127.0.0.1/"),
        )
        .start()
        .await
        .expect("dev issuer starts");
    issuer.set_auto_login(Some("ada"));
    issuer
}

/// The first line of base64 of a PEM key: it must never reach the log.
fn key_material(pem: &str) -> &str {
    pem.lines().nth(1).unwrap()
}

/// The `Set-Cookie` of the pending login among `resp`'s.
fn tx_set_cookie(resp: &Resp) -> String {
    let found: Vec<&String> = resp
        .set_cookies
        .iter()
        .filter(|c| c.starts_with("oidc_tx_"))
        .collect();
    assert_eq!(found.len(), 1, "{:?}", resp.set_cookies);
    found[0].clone()
}

/// Signs in through `/login?return_to=/protected` and the issuer's redirect, then out.
async fn sign_in_and_out(issuer: &DevIssuer, app: &App) {
    let b = Browser::new();
    let login = b.get(&login_url(app, "/protected")).await;
    assert_eq!(login.status, 303);
    // Query mode: the pending login's cookie stays SameSite=Lax.
    let tx = tx_set_cookie(&login);
    assert!(tx.contains("SameSite=Lax"), "{tx}");
    let page = b.follow(login).await.pop().unwrap();
    assert_eq!(page.url, app.url("/protected"));
    assert_eq!(page.body, format!("Only for {ADA}"));

    let before = issuer.counters();
    let out = b
        .post_form(
            &app.url("/logout"),
            &[],
            &[("origin", &app.base), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(out.status, 303);
    let after = issuer.counters();
    // The issuer revokes only for an authenticated client: the assertion was accepted there
    // too (its aud is the revocation endpoint).
    assert!(
        after.revoked_tokens.len() > before.revoked_tokens.len(),
        "tokens revoked: {:?}",
        after.revoked_tokens
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_with_an_rsa_key_file_signs_in_and_out() {
    let key = DevClientKey::from_pem(CLIENT_RSA_KEY_PEM)
        .unwrap()
        .with_kid("rsa-1");
    let issuer = issuer_with(DevClient::private_key_jwt("pkjwt-rsa", [key])).await;
    let file = KeyFile::new(CLIENT_RSA_KEY_PEM);
    let figment = keyed_figment(issuer.issuer_url(), free_port(), "pkjwt-rsa")
        .merge(("oidc.client_key_file", file.path()))
        .merge(("oidc.client_key_id", "rsa-1"));
    let app = launch(test_app(figment)).await.expect("launches");
    assert_logged(&[
        "3/4 client credentials: credentials accepted",
        "client authentication private_key_jwt (oidc.client_key_file is set), RS256 with an \
         RSA-2048 key, kid `rsa-1`",
    ]);
    let checked = issuer.counters().token;
    assert_eq!(checked, 1, "the credential check");
    sign_in_and_out(&issuer, &app).await;
    assert_eq!(issuer.counters().token, checked + 1, "the code exchange");
    assert_not_logged(key_material(CLIENT_RSA_KEY_PEM));
    app.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_with_a_p256_key_from_the_environment_signs_in_with_es256() {
    // No kid registered or sent: the issuer tries its keys.
    let key = DevClientKey::from_pem(CLIENT_P256_KEY_PEM).unwrap();
    let issuer = issuer_with(DevClient::private_key_jwt("pkjwt-ec", [key])).await;
    // As ROCKET_OIDC_CLIENT_KEY often carries it: one line with `\n` escapes.
    let one_line = CLIENT_P256_KEY_PEM.trim_end().replace('\n', "\\n");
    let figment = keyed_figment(issuer.issuer_url(), free_port(), "pkjwt-ec")
        .merge(("oidc.client_key", one_line));
    let app = launch(test_app(figment)).await.expect("launches");
    assert_logged(&[
        "client authentication private_key_jwt (oidc.client_key is set), ES256 with a P-256 \
         key, no kid",
    ]);
    sign_in_and_out(&issuer, &app).await;
    assert_not_logged(key_material(CLIENT_P256_KEY_PEM));
    app.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_the_provider_does_not_know_stops_launch_naming_the_provider_and_the_key() {
    // Registered: the P-256 key. Configured: the RSA key.
    let registered = DevClientKey::from_pem(CLIENT_P256_KEY_PEM).unwrap();
    let issuer = issuer_with(DevClient::private_key_jwt("corp-app", [registered])).await;
    let file = KeyFile::new(CLIENT_RSA_KEY_PEM);
    let port = free_port();
    let provider = |figment: Figment, key_file: &str| {
        figment
            .merge(("oidc.providers.corp.issuer", issuer.issuer_url()))
            .merge(("oidc.providers.corp.client_id", "corp-app"))
            .merge(("oidc.providers.corp.client_key_file", key_file.to_owned()))
    };
    let base = base_figment(port);
    assert_fairing_fails(test_app(provider(base.clone(), file.path()))).await;
    assert_logged(&[
        "OpenID Connect [corp]: the issuer rejected client_id `corp-app` and its signed \
         credential (invalid_client, HTTP 401: the JWT's RS256 signature does not verify with \
         the client's registered key)",
        "check that the public half of the key in oidc.providers.corp.client_key_file",
        "RS256 with an RSA-2048 key, no kid",
    ]);
    assert_not_logged(key_material(CLIENT_RSA_KEY_PEM));

    // A key file that is not there stops launch before any request to the issuer.
    let before = issuer.counters();
    let missing = format!("{}.missing", file.path());
    assert_fairing_fails(test_app(provider(base, &missing))).await;
    assert_logged(&[
        "OpenID Connect [corp]: oidc.providers.corp.client_key_file: there is no key file `",
        &missing,
    ]);
    assert_eq!(issuer.counters().discovery, before.discovery);
    issuer.stop().await;
}

/// Sign in with Apple: its client, and the app's settings for it (with `form_post`).
async fn apple_setup(key_file: &KeyFile) -> (DevIssuer, App) {
    let public = DevClientKey::from_pem(APPLE_AUTH_KEY_P8).unwrap();
    let issuer = issuer_with(DevClient::apple(
        APPLE_CLIENT,
        APPLE_TEAM,
        APPLE_KEY_ID,
        public,
    ))
    .await;
    let figment = keyed_figment(issuer.issuer_url(), free_port(), APPLE_CLIENT)
        .merge(("oidc.apple_team_id", APPLE_TEAM))
        .merge(("oidc.client_key_file", key_file.path()))
        .merge(("oidc.client_key_id", APPLE_KEY_ID))
        .merge(("oidc.response_mode", "form_post"));
    let app = launch(test_app(figment)).await.expect("launches");
    (issuer, app)
}

/// What a browser would POST: the action and hidden inputs of the page's one form.
fn parse_form(html: &str) -> (String, Vec<(String, String)>) {
    let unescape = |text: &str| {
        text.replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        let end = start + tag[start..].find('"').unwrap();
        unescape(&tag[start..end])
    };
    let start = html.find("<form").expect("a form");
    let form = &html[start..start + html[start..].find("</form>").unwrap()];
    let open = &form[..form.find('>').unwrap()];
    assert_eq!(attribute(open, "method"), "post");
    let fields = form
        .match_indices("<input")
        .map(|(at, _)| &form[at..at + form[at..].find('>').unwrap()])
        .map(|tag| (attribute(tag, "name"), attribute(tag, "value")))
        .collect();
    (attribute(open, "action"), fields)
}

/// `/login?return_to=/protected` up to the issuer's form: the login's answer and the form.
async fn apple_form(b: &Browser, app: &App) -> (Resp, String, Vec<(String, String)>) {
    let login = b.get(&login_url(app, "/protected")).await;
    assert_eq!(login.status, 303, "{}", login.body);
    let authorize = login.location().unwrap();
    assert_eq!(query_of(&authorize)["response_mode"], "form_post");
    let page = b.get(&authorize).await;
    assert_eq!(page.status, 200, "the form_post page: {}", page.body);
    let (action, fields) = parse_form(&page.body);
    assert_eq!(action, app.url("/authorization-code/callback"));
    (login, action, fields)
}

/// The provider's form POSTed cross-site with the `cookie` header `cookies` (none: `None`).
async fn cross_site_post(
    issuer: &DevIssuer,
    action: &str,
    fields: &[(String, String)],
    cookies: Option<String>,
) -> Resp {
    let b = Browser::new(); // its jar is empty: only `cookies` are sent
    let form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let origin = origin_of(issuer.issuer_url());
    let mut headers = vec![
        ("origin", origin.as_str()),
        ("sec-fetch-site", "cross-site"),
    ];
    if let Some(cookies) = &cookies {
        headers.push(("cookie", cookies.as_str()));
    }
    b.post_form(action, &form, &headers).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_apple_mints_its_client_secret_and_finishes_a_form_post_login() {
    let key_file = KeyFile::new(APPLE_AUTH_KEY_P8);
    let (issuer, app) = apple_setup(&key_file).await;
    assert_logged(&[
        "3/4 client credentials: credentials accepted",
        "client authentication client_secret_post (oidc.apple_team_id is set), Sign in with \
         Apple client secret (ES256, key id `KEY1234567`, team `TEAM123456`",
    ]);
    assert_logged(&["4/4 mounted", "POST /authorization-code/callback"]);

    let b = Browser::new();
    let (login, action, fields) = apple_form(&b, &app).await;
    // The pending login's cookie goes with a cross-site POST: SameSite=None, hence Secure.
    let tx = tx_set_cookie(&login);
    assert!(tx.contains("SameSite=None"), "{tx}");
    assert!(tx.contains("Secure"), "{tx}");
    // What a browser sends with the provider's cross-site POST: the SameSite=None cookies the
    // app set, nothing else.
    let cross_site: Vec<String> = login
        .set_cookies
        .iter()
        .filter(|c| c.to_ascii_lowercase().contains("samesite=none"))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect();
    assert_eq!(cross_site.len(), 1, "{:?}", login.set_cookies);
    let callback = cross_site_post(&issuer, &action, &fields, Some(cross_site.join("; "))).await;
    assert_eq!(callback.status, 303, "{}", callback.body);
    assert_eq!(callback.location().as_deref(), Some("/protected"));
    // The session itself stays SameSite=Lax: set by the POST's answer, sent with the 303.
    let session: Vec<&String> = callback
        .set_cookies
        .iter()
        .filter(|c| c.starts_with("oidc_session"))
        .collect();
    assert!(!session.is_empty(), "{:?}", callback.set_cookies);
    assert!(
        session.iter().all(|c| c.contains("SameSite=Lax")),
        "{session:?}"
    );
    // The pending login is gone.
    assert!(callback
        .set_cookies
        .iter()
        .any(|c| c.starts_with("oidc_tx_") && c.contains("Max-Age=0")));

    let signed_in = Browser::new();
    for c in &callback.set_cookies {
        let (name, value) = c.split(';').next().unwrap().split_once('=').unwrap();
        if name.starts_with("oidc_session") {
            signed_in.set_cookie(&app.base, name, value);
        }
    }
    let page = signed_in.get(&app.url("/protected")).await;
    assert_eq!(page.body, format!("Only for {ADA}"));

    // Logout revokes with the minted secret (client_secret_post).
    let before = issuer.counters();
    let out = signed_in
        .post_form(
            &app.url("/logout"),
            &[],
            &[("origin", &app.base), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(out.status, 303);
    assert!(issuer.counters().revoked_tokens.len() > before.revoked_tokens.len());
    assert_not_logged(key_material(APPLE_AUTH_KEY_P8));
    app.stop().await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_post_callback_without_the_pending_login_cookie_is_a_clear_error() {
    let key_file = KeyFile::new(APPLE_AUTH_KEY_P8);
    let (issuer, app) = apple_setup(&key_file).await;
    let b = Browser::new();
    let (_login, action, fields) = apple_form(&b, &app).await;
    let before = issuer.counters();
    // A browser that withholds the cookie (as it would a SameSite=Lax one).
    let callback = cross_site_post(&issuer, &action, &fields, None).await;
    assert_eq!(callback.status, 400, "{}", callback.body);
    assert!(
        callback
            .body
            .contains("Your browser did not send back this sign-in&#x27;s cookie")
            || callback
                .body
                .contains("Your browser did not send back this sign-in's cookie"),
        "{}",
        callback.body
    );
    assert!(
        callback.body.contains("missing_login_cookie"),
        "{}",
        callback.body
    );
    assert!(!callback
        .set_cookies
        .iter()
        .any(|c| c.starts_with("oidc_session")));
    assert_logged(&[
        "the form_post callback came without the pending login's cookie `oidc_tx_",
        "SameSite=None; Secure",
    ]);
    assert_eq!(
        issuer.counters().token,
        before.token,
        "no code exchange without the pending login"
    );
    // The same POST with the cookie still finishes the login: nothing was consumed.
    let cookie = tx_set_cookie(&_login);
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let callback = cross_site_post(&issuer, &action, &fields, Some(cookie)).await;
    assert_eq!(callback.status, 303, "{}", callback.body);
    app.stop().await;
    issuer.stop().await;
}
