// `Jail::expect_with` closures must return `figment::Result`, whose error is large.
#![allow(clippy::result_large_err)]

use rocket::figment::value::Dict;
use rocket::figment::{Figment, Jail};

use super::*;

/// A secret no message or `Debug` output may contain.
const SECRET: &str = "TOP-SECRET-c4f3b4b3";

/// A configuration that passes validation.
fn valid() -> Config {
    Config {
        issuer: "https://dev-123456.okta.com/oauth2/default".into(),
        client_id: "0oa1b2c3d4".into(),
        client_secret: Some(SECRET.into()),
        app_base_url: "http://localhost:8000".into(),
        ..Default::default()
    }
}

/// The problems of `config`, as `(key, message)` pairs.
fn problems(config: &Config) -> Vec<(String, String)> {
    match config.validate() {
        Ok(()) => Vec::new(),
        Err(e) => e.problems.into_iter().map(|p| (p.key, p.message)).collect(),
    }
}

/// Asserts that `config` has exactly one problem, at `key`, whose message contains `part`.
#[track_caller]
fn assert_problem(config: &Config, key: &str, part: &str) {
    let found = problems(config);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    assert_eq!(found[0].0, key, "{found:#?}");
    assert!(
        found[0].1.contains(part),
        "{:?} does not contain {part:?}",
        found[0].1
    );
    assert!(
        !found[0].1.contains(SECRET),
        "secret leaked in {:?}",
        found[0].1
    );
}

fn with(f: impl FnOnce(&mut Config)) -> Config {
    let mut config = valid();
    f(&mut config);
    config
}

#[test]
fn defaults() {
    let config = Config::default();
    assert_eq!(config.scopes, ["openid", "profile", "email"]);
    assert_eq!(config.login_path, "/login");
    assert_eq!(config.callback_path, "/authorization-code/callback");
    assert_eq!(config.logout_path, "/logout");
    assert_eq!(config.redirect_uri, None);
    assert_eq!(config.post_logout_redirect_uri, None);
    assert_eq!(
        config.client_auth_method, None,
        "chosen from the provider's list"
    );
    assert_eq!(config.clock_skew(), Duration::from_secs(60));
    assert_eq!(config.http_timeout(), Duration::from_secs(10));
    assert_eq!(config.session_idle_timeout(), Duration::from_secs(86_400));
    assert_eq!(
        config.session_absolute_timeout(),
        Duration::from_secs(604_800)
    );
    assert_eq!(config.login_timeout(), Duration::from_secs(600));
    assert_eq!(config.max_pending_logins, 4);
    assert!(config.keep_access_token && config.keep_refresh_token && config.fetch_userinfo);
    assert_eq!(
        config.id_token_signing_algs,
        ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]
    );
    assert!(config.trusted_audiences.is_empty());
    assert_eq!(config.failure_redirect, None);
    assert!(config.check_credentials);
    assert!(!config.insecure_allow_http);
    assert!(config.insecure_warnings().is_empty());
}

#[test]
fn every_default_algorithm_is_one_openidconnect_verifies() {
    use CoreJwsSigningAlgorithm::*;
    let config = with(|c| c.id_token_signing_algs.push("HS256".into()));
    assert_eq!(
        config.signing_algorithms(),
        [
            RsaSsaPkcs1V15Sha256,
            RsaSsaPkcs1V15Sha384,
            RsaSsaPkcs1V15Sha512,
            RsaSsaPssSha256,
            RsaSsaPssSha384,
            RsaSsaPssSha512,
            EcdsaP256Sha256,
            EcdsaP384Sha384,
            EdDsa,
            HmacSha256,
        ]
    );
    assert!(problems(&config).is_empty());
}

#[test]
fn effective_uris_and_https() {
    let config = valid();
    assert_eq!(
        config.redirect_uri(),
        "http://localhost:8000/authorization-code/callback"
    );
    assert_eq!(config.post_logout_redirect_uri(), "http://localhost:8000/");
    assert!(!config.is_https_app());
    let config = with(|c| {
        c.app_base_url = "https://app.example.com".into();
        c.redirect_uri = Some("https://app.example.com/authorization-code/callback?x=1".into());
        c.post_logout_redirect_uri = Some("https://app.example.com/bye".into());
    });
    assert!(problems(&config).is_empty(), "{:?}", problems(&config));
    assert!(config.is_https_app());
    assert_eq!(
        config.redirect_uri(),
        "https://app.example.com/authorization-code/callback?x=1"
    );
    assert_eq!(
        config.post_logout_redirect_uri(),
        "https://app.example.com/bye"
    );
}

#[test]
fn valid_configs_pass() {
    assert_eq!(problems(&valid()), []);
    // Loopback hosts may use http; a trailing `/` in the issuer is allowed (Auth0 has one).
    for (issuer, app) in [
        ("http://127.0.0.1:9000", "http://127.0.0.2:8000"),
        ("http://[::1]:9000/realms/x", "http://app.localhost:8000"),
        ("https://tenant.eu.auth0.com/", "https://app.example.com"),
    ] {
        let config = with(|c| {
            c.issuer = issuer.into();
            c.app_base_url = app.into();
        });
        assert_eq!(problems(&config), [], "{issuer} {app}");
    }
    let public = with(|c| {
        c.client_secret = None;
        c.client_auth_method = Some(ClientAuthMethod::None);
    });
    assert_eq!(problems(&public), []);
}

#[test]
fn missing_values() {
    assert_problem(
        &with(|c| c.issuer.clear()),
        "oidc.issuer",
        "Your issuer URL is missing.",
    );
    assert_problem(
        &with(|c| c.client_id.clear()),
        "oidc.client_id",
        "Your client ID is missing.",
    );
    assert_problem(
        &with(|c| c.client_secret = None),
        "oidc.client_secret",
        "Your client secret is missing. Set the environment variable ROCKET_OIDC_CLIENT_SECRET",
    );
    assert_problem(
        &with(|c| c.client_secret = Some(" \n".into())),
        "oidc.client_secret",
        "Your client secret is missing.",
    );
    assert_problem(
        &with(|c| c.app_base_url.clear()),
        "oidc.app_base_url",
        "Your app_base_url is missing.",
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let config = Config {
        issuer: "http://{yourOktaDomain}/oauth2/default".into(),
        client_id: "{clientId}".into(),
        client_secret: Some("{clientSecret}".into()),
        app_base_url: "{appBaseUrl}".into(),
        scopes: vec!["profile".into()],
        logout_path: "/login".into(),
        http_timeout_secs: 0,
        id_token_signing_algs: vec!["none".into()],
        ..Default::default()
    };
    let keys: Vec<_> = problems(&config)
        .into_iter()
        .map(|(k, _)| k)
        .collect::<Vec<_>>();
    assert_eq!(
        keys,
        [
            "oidc.issuer",
            "oidc.client_id",
            "oidc.client_secret",
            "oidc.app_base_url",
            "oidc.scopes",
            "oidc.logout_path",
            "oidc.http_timeout_secs",
            "oidc.id_token_signing_algs",
        ]
    );
    let error = config.validate().unwrap_err();
    let text = error.to_string();
    assert_eq!(text.lines().count(), 8);
    assert!(text.starts_with("oidc.issuer: Replace {yourOktaDomain} with your Okta domain."));
    assert!(text.lines().all(|l| l.starts_with("oidc.")));
}

#[test]
fn placeholders() {
    assert_problem(
        &with(|c| c.issuer = "https://{yourOktaDomain}/oauth2/default".into()),
        "oidc.issuer",
        "Replace {yourOktaDomain} with your Okta domain.",
    );
    assert_problem(
        &with(|c| c.client_id = "{clientId}".into()),
        "oidc.client_id",
        "Replace {clientId} with the client ID of your application.",
    );
    assert_problem(
        &with(|c| c.client_secret = Some("{clientSecret}".into())),
        "oidc.client_secret",
        "Replace {clientSecret} with the client secret of your application.",
    );
    assert_problem(
        &with(|c| c.app_base_url = "{appBaseUrl}".into()),
        "oidc.app_base_url",
        "Replace {appBaseUrl} with the base URL of your application.",
    );
    assert_problem(
        &with(|c| c.redirect_uri = Some("{redirectUri}".into())),
        "oidc.redirect_uri",
        "Replace {redirectUri} with the redirect URI of your application.",
    );
    assert_problem(
        &with(|c| c.issuer = "https://{tenant}.auth0.com/".into()),
        "oidc.issuer",
        "Replace the placeholder {tenant} with a real value.",
    );
    assert_problem(
        &with(|c| c.post_logout_redirect_uri = Some("{appBaseUrl}/".into())),
        "oidc.post_logout_redirect_uri",
        "Replace {appBaseUrl} with the base URL of your application.",
    );
}

#[test]
fn okta_admin_domain() {
    assert_problem(
        &with(|c| c.issuer = "https://dev-123456-admin.okta.com/oauth2/default".into()),
        "oidc.issuer",
        "Your Okta domain should not contain -admin: dev-123456-admin.okta.com is the Okta admin \
         console. Remove -admin: https://dev-123456.okta.com/oauth2/default.",
    );
    assert_problem(
        &with(|c| c.issuer = "https://acme-admin.oktapreview.com".into()),
        "oidc.issuer",
        "should not contain -admin",
    );
    // Other providers may have `-admin.` in a host name.
    assert_eq!(
        problems(&with(|c| c.issuer = "https://id-admin.example.com".into())),
        []
    );
}

#[test]
fn typos() {
    assert_problem(
        &with(|c| c.issuer = "https://dev-123456.okta.com.com/oauth2/default".into()),
        "oidc.issuer",
        "It looks like there's a typo in your issuer URL: `.com.com`.",
    );
    assert_problem(
        &with(|c| c.app_base_url = "https://app.example.org.org".into()),
        "oidc.app_base_url",
        "typo in your app_base_url: `.org.org`",
    );
    assert_problem(
        &with(|c| c.issuer = "https://https://dev-123456.okta.com".into()),
        "oidc.issuer",
        "It looks like there's a typo in your issuer URL: it has two schemes.",
    );
    assert_problem(
        &with(|c| c.app_base_url = "http://http://localhost:8000".into()),
        "oidc.app_base_url",
        "it has two schemes",
    );
}

#[test]
fn https_is_required_off_loopback() {
    assert_problem(
        &with(|c| c.issuer = "http://id.example.com".into()),
        "oidc.issuer",
        "Your issuer URL must start with https. Current value: http://id.example.com. Plain \
         http is allowed only for loopback hosts",
    );
    assert_problem(
        &with(|c| c.app_base_url = "http://app.example.com".into()),
        "oidc.app_base_url",
        "Your app_base_url must start with https.",
    );
    assert_problem(
        &with(|c| c.issuer = "ftp://id.example.com".into()),
        "oidc.issuer",
        "must be an https URL, not ftp",
    );
    // `localhost.example.com` is not loopback.
    assert_problem(
        &with(|c| c.issuer = "http://localhost.example.com".into()),
        "oidc.issuer",
        "must start with https",
    );
}

#[test]
fn insecure_allow_http_allows_and_warns() {
    let config = with(|c| {
        c.issuer = "http://id.test".into();
        c.app_base_url = "http://app.test".into();
        c.insecure_allow_http = true;
    });
    assert_eq!(problems(&config), []);
    let warnings = config.insecure_warnings();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with("oidc.issuer: http://id.test is plain http, allowed only"));
    assert!(warnings[1].starts_with("oidc.app_base_url: http://app.test is plain http"));

    let unused = with(|c| c.insecure_allow_http = true);
    assert_eq!(unused.insecure_warnings().len(), 1);
    assert!(unused.insecure_warnings()[0].contains("nothing needs it"));
}

#[test]
fn app_base_url_shape() {
    assert_problem(
        &with(|c| c.app_base_url = "http://localhost:8000/".into()),
        "oidc.app_base_url",
        "Your app_base_url must not end in a '/'. Current value: http://localhost:8000/. Use \
         http://localhost:8000.",
    );
    assert_problem(
        &with(|c| c.app_base_url = "localhost:8000".into()),
        "oidc.app_base_url",
        "Your app_base_url must contain a scheme (e.g. https://). Current value: localhost:8000.",
    );
    assert_problem(
        &with(|c| c.app_base_url = "http://localhost:8000/app?x=1#top".into()),
        "oidc.app_base_url",
        "must be an origin only (scheme, host and optional port): remove `/app?x=1#top`.",
    );
    assert_problem(
        &with(|c| c.app_base_url = "http://user:pw@localhost:8000".into()),
        "oidc.app_base_url",
        "must not contain a user name or password",
    );
}

#[test]
fn issuer_shape() {
    assert_problem(
        &with(|c| c.issuer = "https://id.example.com/?tenant=1".into()),
        "oidc.issuer",
        "Your issuer URL must not contain a query (`?...`) or fragment (`#...`)",
    );
    assert_problem(
        &with(|c| c.issuer = "dev-123456.okta.com/oauth2/default".into()),
        "oidc.issuer",
        "Your issuer URL must contain a scheme (e.g. https://).",
    );
    assert_problem(
        &with(|c| c.issuer = "https://exa mple.com".into()),
        "oidc.issuer",
        "Your issuer URL is not a valid URL",
    );
}

#[test]
fn whitespace_in_credentials() {
    assert_problem(
        &with(|c| c.client_id = "0oa1 ".into()),
        "oidc.client_id",
        "Your client ID has leading or trailing whitespace",
    );
    assert_problem(
        &with(|c| c.client_secret = Some(format!("{SECRET}\n"))),
        "oidc.client_secret",
        "Your client secret has leading or trailing whitespace",
    );
}

#[test]
fn public_client_must_not_have_a_secret() {
    assert_problem(
        &with(|c| c.client_auth_method = Some(ClientAuthMethod::None)),
        "oidc.client_secret",
        "A client secret is set, but client_auth_method is \"none\"",
    );
}

#[test]
fn scopes() {
    assert_problem(
        &with(|c| c.scopes = vec!["profile".into(), "email".into()]),
        "oidc.scopes",
        "Your scopes must include \"openid\"",
    );
    assert_problem(
        &with(|c| c.scopes = vec!["openid profile".into(), "openid".into()]),
        "oidc.scopes",
        "The scope \"openid profile\" is not valid",
    );
}

#[test]
fn paths() {
    assert_problem(
        &with(|c| c.login_path = "login".into()),
        "oidc.login_path",
        "Your login_path must start with '/', e.g. /login. Current value: \"login\".",
    );
    assert_problem(
        &with(|c| c.callback_path = "/cb?x=1".into()),
        "oidc.callback_path",
        "Your callback_path must be a path only, without '?' or '#'",
    );
    assert_problem(
        &with(|c| c.logout_path = "/logout#x".into()),
        "oidc.logout_path",
        "without '?' or '#'",
    );
    assert_problem(
        &with(|c| c.logout_path = "/<user>".into()),
        "oidc.logout_path",
        "may contain only letters, digits",
    );
    assert_problem(
        &with(|c| c.login_path = "/login/".into()),
        "oidc.login_path",
        "must not contain empty segments or end in '/'",
    );
    assert_problem(
        &with(|c| c.callback_path = "/login".into()),
        "oidc.callback_path",
        "Your callback_path must differ from login_path: both are /login.",
    );
    assert_problem(
        &with(|c| c.logout_path = "/authorization-code/callback".into()),
        "oidc.logout_path",
        "Your logout_path must differ from callback_path",
    );
}

#[test]
fn redirect_uri() {
    assert_problem(
        &with(|c| c.redirect_uri = Some("http://localhost:8000/cb".into())),
        "oidc.redirect_uri",
        "The path of your redirect URI (/cb) differs from callback_path \
         (/authorization-code/callback)",
    );
    assert_problem(
        &with(|c| {
            c.redirect_uri = Some("http://127.0.0.1:8000/authorization-code/callback".into())
        }),
        "oidc.redirect_uri",
        "Your redirect URI must have the origin of app_base_url (http://localhost:8000): the \
         login cookie is only sent back there.",
    );
    assert_problem(
        &with(|c| {
            c.redirect_uri = Some("http://localhost:8000/authorization-code/callback#x".into())
        }),
        "oidc.redirect_uri",
        "must not contain a fragment",
    );
    assert_problem(
        &with(|c| c.redirect_uri = Some("/authorization-code/callback".into())),
        "oidc.redirect_uri",
        "Your redirect URI must contain a scheme",
    );
}

#[test]
fn post_logout_redirect_uri() {
    assert_problem(
        &with(|c| c.post_logout_redirect_uri = Some("/bye".into())),
        "oidc.post_logout_redirect_uri",
        "Your post_logout_redirect_uri must be an absolute URL registered with your provider, \
         e.g. http://localhost:8000/. Current value: /bye.",
    );
    assert_problem(
        &with(|c| c.post_logout_redirect_uri = Some("http://example.com/bye".into())),
        "oidc.post_logout_redirect_uri",
        "must start with https",
    );
}

#[test]
fn failure_redirect() {
    assert_eq!(
        problems(&with(|c| c.failure_redirect = Some("/login-failed".into()))),
        []
    );
    for bad in [
        "//evil.example",
        "https://evil.example/x",
        "login-failed",
        "/x?y=1",
    ] {
        assert_problem(
            &with(|c| c.failure_redirect = Some(bad.into())),
            "oidc.failure_redirect",
            "Your failure_redirect must be a path of this app, such as /login-failed",
        );
    }
    assert_problem(
        &with(|c| c.failure_redirect = Some("/login".into())),
        "oidc.failure_redirect",
        "must not be the login or callback path (/login)",
    );
}

#[test]
fn durations() {
    for (key, f) in [
        (
            "oidc.http_timeout_secs",
            (|c: &mut Config| c.http_timeout_secs = 0) as fn(&mut Config),
        ),
        ("oidc.login_timeout_secs", |c| c.login_timeout_secs = 0),
    ] {
        assert_problem(&with(f), key, "must be at least 1 second");
    }
    let config = with(|c| c.session_absolute_timeout_secs = 0);
    let keys: Vec<_> = problems(&config).into_iter().map(|p| p.0).collect();
    assert_eq!(
        keys,
        [
            "oidc.session_absolute_timeout_secs",
            "oidc.session_idle_timeout_secs"
        ]
    );
    assert_problem(
        &with(|c| c.session_idle_timeout_secs = 0),
        "oidc.session_idle_timeout_secs",
        "Your session_idle_timeout_secs must be at least 1 second.",
    );
    assert_problem(
        &with(|c| c.session_idle_timeout_secs = 700_000),
        "oidc.session_idle_timeout_secs",
        "Your session_idle_timeout_secs (700000) must not exceed session_absolute_timeout_secs \
         (604800).",
    );
    assert_problem(
        &with(|c| c.login_timeout_secs = u64::MAX),
        "oidc.login_timeout_secs",
        "must be at most 31536000 seconds (one year)",
    );
    assert_problem(
        &with(|c| c.clock_skew_secs = 3600),
        "oidc.clock_skew_secs",
        "Your clock_skew_secs must be at most 300; it is 3600.",
    );
    assert_eq!(problems(&with(|c| c.clock_skew_secs = 0)), []);
    for n in [0, 11] {
        assert_problem(
            &with(|c| c.max_pending_logins = n),
            "oidc.max_pending_logins",
            "Your max_pending_logins must be between 1 and 10",
        );
    }
}

#[test]
fn signing_algorithms() {
    const KEY: &str = "oidc.id_token_signing_algs";
    assert_problem(&with(|c| c.id_token_signing_algs.clear()), KEY, "is empty");
    assert_problem(
        &with(|c| c.id_token_signing_algs.push("none".into())),
        KEY,
        "\"none\" is never accepted",
    );
    assert_problem(
        &with(|c| c.id_token_signing_algs = vec!["rs256".into()]),
        KEY,
        "\"rs256\" is not a signing algorithm this crate verifies. Did you mean RS256?",
    );
    assert_problem(
        &with(|c| c.id_token_signing_algs = vec!["XS1".into()]),
        KEY,
        "\"XS1\" is not a signing algorithm this crate verifies. Use some of RS256,",
    );
    assert_problem(
        &with(|c| c.id_token_signing_algs = vec!["ES512".into()]),
        KEY,
        "ES512 is not supported",
    );
    let public = with(|c| {
        c.client_secret = None;
        c.client_auth_method = Some(ClientAuthMethod::None);
        c.id_token_signing_algs = vec!["HS256".into()];
    });
    assert_problem(
        &public,
        KEY,
        "HS256 is keyed with the client secret, but there is no client secret",
    );
}

#[test]
fn trusted_audiences() {
    assert_eq!(
        problems(&with(|c| c.trusted_audiences = vec!["api://x".into()])),
        []
    );
    assert_problem(
        &with(|c| c.trusted_audiences = vec![String::new()]),
        "oidc.trusted_audiences",
        "contains an empty value",
    );
}

#[test]
fn debug_redacts_the_secret() {
    let debug = format!("{:?}", valid());
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(
        debug.contains(r#"client_secret: Some("<redacted>")"#),
        "{debug}"
    );
    let debug = format!("{:#?}", with(|c| c.client_secret = None));
    assert!(debug.contains("client_secret: None"), "{debug}");
}

#[test]
fn no_message_contains_the_secret() {
    // A secret that also breaks other rules must not be echoed by any of them.
    let mut config = with(|c| {
        c.client_secret = Some(format!(" {SECRET}{{clientSecret}}"));
        c.id_token_signing_algs = vec![SECRET.into()];
    });
    let mut all = problems(&config);
    config.client_auth_method = Some(ClientAuthMethod::None);
    all.extend(problems(&config));
    assert!(all.len() >= 3, "{all:?}");
    for (_, message) in all {
        // The bad algorithm name is echoed on purpose: it is not the secret's field.
        if !message.contains("signing algorithm") {
            assert!(!message.contains(SECRET), "{message}");
        }
    }
}

// --- Reading from the figment -------------------------------------------------------------

fn table(pairs: &[(&str, &str)]) -> Dict {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), (*v).into()))
        .collect()
}

#[test]
fn figment_reads_the_table_over_the_defaults() {
    let figment = Figment::new().merge((
        "oidc",
        table(&[
            ("issuer", "https://id.example.com"),
            ("login_path", "/signin"),
        ]),
    ));
    let config = Config::from_figment(&figment).unwrap();
    assert_eq!(config.issuer, "https://id.example.com");
    assert_eq!(config.login_path, "/signin");
    assert_eq!(config.logout_path, "/logout");
    assert_eq!(config.client_secret, None);

    // No table at all: the defaults, which validation then finds incomplete.
    let config = Config::from_figment(&Figment::new()).unwrap();
    assert_eq!(config.scopes, Config::default().scopes);
}

#[test]
fn figment_top_level_keys_win_over_the_table() {
    let figment = Figment::new()
        .merge((
            "oidc",
            table(&[("client_secret", "from-table"), ("client_id", "a")]),
        ))
        .merge(("oidc_client_secret", "from-env"))
        .merge(("oidc_scopes", vec!["openid", "groups"]));
    let config = Config::from_figment(&figment).unwrap();
    assert_eq!(config.client_secret.as_deref(), Some("from-env"));
    assert_eq!(config.client_id, "a");
    assert_eq!(config.scopes, ["openid", "groups"]);
}

#[test]
fn rocket_toml_profiles_and_environment() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "Rocket.toml",
            r#"
            [default.oidc]
            issuer = "https://dev-123456.okta.com/oauth2/default"
            client_id = "0oa-default"
            app_base_url = "http://localhost:8000"
            clock_skew_secs = 30

            [release.oidc]
            app_base_url = "https://app.example.com"
            "#,
        )?;
        jail.set_env("ROCKET_OIDC_CLIENT_SECRET", SECRET);
        jail.set_env("ROCKET_OIDC_SCOPES", "[openid,profile]");
        jail.set_env("ROCKET_OIDC_CLOCK_SKEW_SECS", "5");
        jail.set_env("ROCKET_OIDC_CLIENT_ID", "12345");

        let config = Config::from_figment(&rocket::Config::figment()).unwrap();
        assert_eq!(config.issuer, "https://dev-123456.okta.com/oauth2/default");
        assert_eq!(config.client_secret.as_deref(), Some(SECRET));
        assert_eq!(config.scopes, ["openid", "profile"]);
        assert_eq!(config.clock_skew_secs, 5);
        // A numeric client ID stays a string.
        assert_eq!(config.client_id, "12345");
        assert_eq!(config.app_base_url, "http://localhost:8000");
        assert!(config.validate().is_ok());

        jail.set_env("ROCKET_PROFILE", "release");
        let config = Config::from_figment(&rocket::Config::figment()).unwrap();
        assert_eq!(config.app_base_url, "https://app.example.com");
        assert_eq!(config.issuer, "https://dev-123456.okta.com/oauth2/default");
        assert!(config.is_https_app());

        // An environment value for a key also set in the selected profile still wins.
        jail.set_env("ROCKET_OIDC_APP_BASE_URL", "https://env.example.com");
        let config = Config::from_figment(&rocket::Config::figment()).unwrap();
        assert_eq!(config.app_base_url, "https://env.example.com");
        Ok(())
    });
}

#[test]
fn rocket_oidc_dict_and_scope_string() {
    Jail::expect_with(|jail| {
        jail.set_env(
            "ROCKET_OIDC",
            r#"{issuer="https://id.example.com",client_id="app",client_auth_method="none"}"#,
        );
        jail.set_env("ROCKET_OIDC_SCOPES", "openid email");
        let config = Config::from_figment(&rocket::Config::figment()).unwrap();
        assert_eq!(config.issuer, "https://id.example.com");
        assert_eq!(config.client_id, "app");
        assert_eq!(config.client_auth_method, Some(ClientAuthMethod::None));
        assert_eq!(config.scopes, ["openid", "email"]);
        Ok(())
    });
}

#[test]
fn wrong_types_name_the_key_and_the_expected_type() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "Rocket.toml",
            r#"
            [default.oidc]
            issuer = ["https://id.example.com"]
            keep_access_token = "yes"
            client_auth_method = "tls_client_auth"
            clientId = "x"
            "#,
        )?;
        jail.set_env("ROCKET_OIDC_HTTP_TIMEOUT_SECS", "ten");
        jail.set_env("ROCKET_OIDC_CLIENT_SECRET", "[1]");
        jail.set_env("ROCKET_OIDC_CLIENTSECRET", "x");
        let error = Config::from_figment(&rocket::Config::figment()).unwrap_err();
        let text = error.to_string();
        assert!(!text.contains(SECRET));
        // In the order of the keys, unknown keys first.
        let keys: Vec<_> = error.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "oidc",
                "oidc",
                "oidc.issuer",
                "oidc.client_secret",
                "oidc.client_auth_method",
                "oidc.http_timeout_secs",
                "oidc.keep_access_token"
            ],
            "{text}"
        );
        let find = |key: &str| -> String {
            error
                .problems
                .iter()
                .filter(|p| p.key == key)
                .map(|p| p.message.clone())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let issuer = find("oidc.issuer");
        assert!(
            issuer.starts_with("expected a string, found an array (in TOML"),
            "{text}"
        );
        assert!(issuer.contains("Rocket.toml"), "{text}");
        assert!(find("oidc.keep_access_token").starts_with("expected a boolean, found a string"));
        assert_eq!(
            find("oidc.client_auth_method").split(" (").next().unwrap(),
            "`tls_client_auth` is not one of `client_secret_basic`, `client_secret_post`, `none`, `private_key_jwt`"
        );
        assert_eq!(
            find("oidc.http_timeout_secs"),
            "expected a whole number (0 or more), found a string (from ROCKET_OIDC_HTTP_TIMEOUT_SECS)"
        );
        assert_eq!(
            find("oidc.client_secret"),
            "expected a string, found an array (from ROCKET_OIDC_CLIENT_SECRET)"
        );
        let table = find("oidc");
        assert!(
            table.contains("`clientId` is not a setting; did you mean `client_id`?"),
            "{text}"
        );
        assert!(
            table.contains(
                "`ROCKET_OIDC_CLIENTSECRET` (the top-level key `oidc_clientsecret`) is not a \
                 setting; did you mean `client_secret`?"
            ),
            "{text}"
        );
        Ok(())
    });
}

#[test]
fn a_wrongly_typed_secret_is_not_echoed() {
    let figment = Figment::new().merge(("oidc_client_secret", 1234.5));
    let error = Config::from_figment(&figment).unwrap_err();
    assert_eq!(error.problems.len(), 1);
    assert_eq!(error.problems[0].key, "oidc.client_secret");
    assert!(!error.to_string().contains("1234"), "{error}");
}

#[test]
fn negative_numbers() {
    Jail::expect_with(|jail| {
        jail.set_env("ROCKET_OIDC", "{max_pending_logins=-1}");
        let error = Config::from_figment(&rocket::Config::figment()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "oidc.max_pending_logins: expected a whole number (0 or more), found a negative \
             integer (from ROCKET_OIDC)"
        );
        Ok(())
    });
}

#[test]
fn oidc_must_be_a_table() {
    let figment = Figment::new().merge(("oidc", "https://id.example.com"));
    let error = Config::from_figment(&figment).unwrap_err();
    assert_eq!(error.problems[0].key, "oidc");
    assert!(error.problems[0]
        .message
        .starts_with("must be a table of settings"));
}

#[test]
fn serde_round_trip() {
    let config = with(|c| c.client_auth_method = Some(ClientAuthMethod::ClientSecretPost));
    let json = rocket::serde::json::serde_json::to_string(&config).unwrap();
    assert!(
        json.contains(r#""client_auth_method":"client_secret_post""#),
        "{json}"
    );
    let back: Config = rocket::serde::json::serde_json::from_str(&json).unwrap();
    assert_eq!(format!("{back:?}"), format!("{config:?}"));
    // Missing keys take their defaults.
    let partial: Config = rocket::serde::json::serde_json::from_str(r#"{"issuer":"x"}"#).unwrap();
    assert_eq!(partial.login_path, "/login");
}

#[test]
fn app_base_url_must_be_written_as_browsers_send_origin() {
    for (value, origin) in [
        ("https://app.example.com:443", "https://app.example.com"),
        ("https://APP.example.com", "https://app.example.com"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ] {
        assert_problem(
            &with(|c| c.app_base_url = value.into()),
            "oidc.app_base_url",
            origin,
        );
    }
    assert!(with(|c| c.app_base_url = "http://localhost:8000".into())
        .validate()
        .is_ok());
}

#[test]
fn cookie_prefix() {
    assert_eq!(Config::default().cookie_prefix, "oidc");
    for good in ["a", "oidc", "billing", "app_b", "App-2", "x234567890123456"] {
        assert_eq!(
            problems(&with(|c| c.cookie_prefix = good.into())),
            [],
            "{good:?}"
        );
    }
    for (bad, part) in [
        ("", "is empty"),
        ("x2345678901234567", "longer than 16"),
        ("__Host-app", "starts with `__`"),
        ("__secure", "starts with `__`"),
        ("a.b", "other than ASCII letters"),
        ("a b", "other than ASCII letters"),
        ("a;b=c", "other than ASCII letters"),
        ("café", "other than ASCII letters"),
    ] {
        assert_problem(
            &with(|c| c.cookie_prefix = bad.into()),
            "oidc.cookie_prefix",
            part,
        );
    }
    // From the environment, like every key.
    Jail::expect_with(|jail| {
        jail.set_env("ROCKET_OIDC_COOKIE_PREFIX", "billing");
        let config = Config::from_figment(&rocket::Config::figment()).unwrap();
        assert_eq!(config.cookie_prefix, "billing");
        Ok(())
    });
}
