//! Several providers in one app: a development issuer per provider, each knowing the app as its
//! own client, and the app with a provider table for each.

use rocket::figment::Figment;
use rocket_openid_connect::dev_issuer::{DevClient, DevIssuer};

use super::{free_port, init_logging, launch, test_app, App, TEST_SECRET_KEY};

/// An app signing in at several development issuers, one per provider table.
pub struct Multi {
    /// (provider name, its issuer), in the order given.
    pub issuers: Vec<(String, DevIssuer)>,
    pub app: App,
}

impl Multi {
    /// The issuer of provider `name`.
    pub fn issuer(&self, name: &str) -> &DevIssuer {
        &self
            .issuers
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no provider {name}"))
            .1
    }

    pub async fn stop(self) {
        self.app.stop().await;
        for (_, issuer) in self.issuers {
            issuer.stop().await;
        }
    }
}

/// The client id the app has at provider `name`'s issuer.
pub fn client_id_of(name: &str) -> String {
    format!("app-{name}")
}

/// The client provider `name`'s issuer knows the app as: its own id and secret, redirect URIs
/// at the provider's default callback path (any loopback port, RFC 8252 §7.3).
pub fn provider_client(name: &str) -> DevClient {
    DevClient::confidential(client_id_of(name), format!("secret-{name}"))
        .redirect_uri(format!(
            "http://127.0.0.1/authorization-code/callback/{name}"
        ))
        .post_logout_redirect_uri("http://127.0.0.1/")
}

/// The figment of a test app on `port` with a provider table per `(name, issuer)`: display
/// name `Issuer <NAME>`, the issuer's client of [`provider_client`].
pub fn multi_figment(port: u16, providers: &[(&str, &str)]) -> Figment {
    let mut figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("secret_key", TEST_SECRET_KEY))
        .merge(("log_level", "normal"))
        .merge(("cli_colors", false))
        .merge(("shutdown.ctrlc", false))
        .merge(("shutdown.grace", 0))
        .merge(("shutdown.mercy", 0))
        .merge(("shutdown.signals", Vec::<String>::new()))
        .merge(("oidc.app_base_url", format!("http://127.0.0.1:{port}")));
    for (name, issuer) in providers {
        let key = |k: &str| format!("oidc.providers.{name}.{k}");
        figment = figment
            .merge((key("issuer"), *issuer))
            .merge((key("client_id"), client_id_of(name)))
            .merge((key("client_secret"), format!("secret-{name}")))
            .merge((
                key("display_name"),
                format!("Issuer {}", name.to_uppercase()),
            ));
    }
    figment
}

/// Starts one development issuer per name (auto-login: `ada` at the first, `grace` at the
/// second, `alan` at the third), each with the client of [`provider_client`], and a test app
/// with a provider table for each; `tweak` adjusts the app's figment.
pub async fn setup_providers(names: &[&str], tweak: impl FnOnce(Figment) -> Figment) -> Multi {
    init_logging();
    let mut issuers = Vec::new();
    for (name, user) in names.iter().zip(["ada", "grace", "alan"]) {
        let issuer = DevIssuer::builder()
            .client(provider_client(name))
            .start()
            .await
            .expect("dev issuer starts");
        issuer.set_auto_login(Some(user));
        issuers.push((name.to_string(), issuer));
    }
    let port = free_port();
    let urls: Vec<(&str, &str)> = issuers
        .iter()
        .map(|(n, i)| (n.as_str(), i.issuer_url()))
        .collect();
    let app = launch(test_app(tweak(multi_figment(port, &urls))))
        .await
        .expect("app launches");
    Multi { issuers, app }
}

/// `/login/<provider>?return_to=<return_to>`.
pub fn provider_login_url(app: &App, provider: &str, return_to: &str) -> String {
    format!(
        "{}?return_to={}",
        app.url(&format!("/login/{provider}")),
        url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
    )
}

/// The callback URL provider `provider`'s issuer sends `b` to after `/login/<provider>`, not
/// followed yet (`b` holds the pending login).
pub async fn provider_callback_url(b: &super::Browser, app: &App, provider: &str) -> String {
    let login = b.get(&app.url(&format!("/login/{provider}"))).await;
    assert_eq!(login.status, 303, "{}", login.body);
    let authorize = b.get(&login.location().unwrap()).await;
    assert_eq!(
        authorize.status, 303,
        "auto-login redirects: {}",
        authorize.body
    );
    authorize.location().unwrap()
}

/// `url` with query parameter `name` set to `value` (replaced, or added).
pub fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed
        .query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    parsed.into()
}
