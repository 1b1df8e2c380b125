// `Jail::expect_with` closures must return `figment::Result`, whose error is large.
#![allow(clippy::result_large_err)]

use rocket::figment::{Figment, Jail};

use super::*;

/// A secret no message or `Debug` output may contain.
const SECRET: &str = "TOP-SECRET-9a8b7c6d";

fn provider(issuer: &str) -> ProviderConfig {
    ProviderConfig::new(issuer, "app").client_secret(SECRET)
}

/// Two valid providers, `okta` and `google`, with shared scopes at the top level.
fn two() -> Config {
    Config {
        app_base_url: "http://localhost:8000".into(),
        scopes: vec!["openid".into(), "email".into()],
        providers: [
            (
                "okta".to_string(),
                provider("https://dev-123456.okta.com/oauth2/default").display_name("Okta"),
            ),
            (
                "google".to_string(),
                ProviderConfig {
                    scopes: Some(vec!["openid".into(), "profile".into()]),
                    ..provider("https://accounts.google.com")
                },
            ),
        ]
        .into(),
        ..Default::default()
    }
}

fn with(f: impl FnOnce(&mut Config)) -> Config {
    let mut config = two();
    f(&mut config);
    config
}

/// `(key, message)` of every problem.
fn problems(config: &Config) -> Vec<(String, String)> {
    let found: Vec<_> = match config.validate() {
        Ok(()) => Vec::new(),
        Err(e) => e.problems.into_iter().map(|p| (p.key, p.message)).collect(),
    };
    for (_, message) in &found {
        assert!(!message.contains(SECRET), "secret leaked in {message:?}");
    }
    found
}

/// Asserts exactly one problem, at `key`, containing every one of `parts`.
#[track_caller]
fn assert_problem(config: &Config, key: &str, parts: &[&str]) {
    let found = problems(config);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    assert_eq!(found[0].0, key, "{found:#?}");
    for part in parts {
        assert!(found[0].1.contains(part), "{:?} lacks {part:?}", found[0].1);
    }
}

#[test]
fn two_providers_resolve_into_effective_configs() {
    let resolved = two().resolve().unwrap();
    assert!(resolved.named);
    assert_eq!(
        resolved.default, None,
        "two providers and no default_provider"
    );
    let names: Vec<_> = resolved.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["google", "okta"], "in name order");
    let google = &resolved.providers[0].config;
    let okta = &resolved.providers[1].config;
    assert_eq!(resolved.providers[0].display_name, "google");
    assert_eq!(resolved.providers[1].display_name, "Okta");
    assert_eq!(okta.issuer, "https://dev-123456.okta.com/oauth2/default");
    assert_eq!(okta.client_secret.as_deref(), Some(SECRET));
    assert_eq!(okta.scopes, ["openid", "email"], "inherited");
    assert_eq!(google.scopes, ["openid", "profile"], "its own");
    assert_eq!(okta.callback_path, "/authorization-code/callback/okta");
    assert_eq!(
        okta.redirect_uri(),
        "http://localhost:8000/authorization-code/callback/okta"
    );
    assert_eq!(
        google.redirect_uri(),
        "http://localhost:8000/authorization-code/callback/google"
    );
    assert_eq!(okta.login_path, "/login");
    assert_eq!(okta.app_base_url, "http://localhost:8000");
    assert!(okta.providers.is_empty() && okta.default_provider.is_none());
    assert!(resolved.app.providers.is_empty());

    let resolved = with(|c| c.default_provider = Some("okta".into()))
        .resolve()
        .unwrap();
    assert_eq!(resolved.default, Some(1));
    let one = with(|c| {
        c.providers.remove("google");
    });
    assert_eq!(one.resolve().unwrap().default, Some(0), "the only one");
}

#[test]
fn a_config_without_tables_is_the_default_provider() {
    let config = Config {
        issuer: "https://id.example.com".into(),
        client_id: "app".into(),
        client_secret: Some(SECRET.into()),
        app_base_url: "http://localhost:8000".into(),
        ..Default::default()
    };
    let resolved = config.resolve().unwrap();
    assert!(!resolved.named);
    assert_eq!(resolved.default, Some(0));
    assert_eq!(resolved.providers.len(), 1);
    assert_eq!(resolved.providers[0].name.as_str(), "default");
    assert!(resolved.providers[0].name.is_default());
    assert_eq!(
        resolved.providers[0].config.redirect_uri(),
        "http://localhost:8000/authorization-code/callback",
        "the paths of today"
    );
    assert_problem(
        &Config {
            default_provider: Some("okta".into()),
            ..config
        },
        "oidc.default_provider",
        &["there are none"],
    );
}

#[test]
fn provider_problems_name_the_table_and_its_variables() {
    assert_problem(
        &with(|c| c.providers.get_mut("okta").unwrap().client_id = None),
        "oidc.providers.okta.client_id",
        &[
            "Your client ID is missing",
            "[default.oidc.providers.okta]",
            "ROCKET_OIDC_PROVIDERS_OKTA_CLIENT_ID",
        ],
    );
    assert_problem(
        &with(|c| c.providers.get_mut("google").unwrap().client_secret = None),
        "oidc.providers.google.client_secret",
        &["ROCKET_OIDC_PROVIDERS_GOOGLE_CLIENT_SECRET"],
    );
    assert_problem(
        &with(|c| c.providers.get_mut("okta").unwrap().issuer = Some("http://id.example".into())),
        "oidc.providers.okta.issuer",
        &["must start with https"],
    );
    assert_problem(
        &with(|c| c.providers.get_mut("google").unwrap().scopes = Some(vec!["email".into()])),
        "oidc.providers.google.scopes",
        &["must include \"openid\""],
    );
    // An inherited value is wrong at the top level, and said once.
    assert_problem(
        &with(|c| {
            c.scopes = vec!["email".into()];
            c.providers.get_mut("google").unwrap().scopes = None;
        }),
        "oidc.scopes",
        &["must include \"openid\""],
    );
    // The app's own keys are checked once, at the top level.
    assert_problem(
        &with(|c| c.app_base_url = "http://localhost:8000/".into()),
        "oidc.app_base_url",
        &["must not end in a '/'"],
    );
}

#[test]
fn top_level_credentials_must_move_into_a_table() {
    let config = with(|c| {
        c.issuer = "https://id.example.com".into();
        c.client_id = "app".into();
        c.client_secret = Some(SECRET.into());
        c.redirect_uri = Some("http://localhost:8000/cb".into());
    });
    let found = problems(&config);
    let keys: Vec<_> = found.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "oidc.issuer",
            "oidc.client_id",
            "oidc.client_secret",
            "oidc.redirect_uri"
        ]
    );
    assert!(found[0]
        .1
        .contains("move it into [default.oidc.providers.NAME]"));
    assert!(found[2]
        .1
        .contains("ROCKET_OIDC_PROVIDERS_<NAME>_CLIENT_SECRET"));
}

#[test]
fn provider_names_are_checked() {
    for bad in [
        "Okta",
        "1okta",
        "ok-ta",
        "ok.ta",
        "",
        &"a".repeat(33),
        "okta!",
    ] {
        let config = with(|c| {
            c.providers
                .insert(bad.into(), provider("https://id.example.com"));
        });
        let found = problems(&config);
        assert_eq!(found.len(), 1, "{bad:?}: {found:#?}");
        assert!(found[0].1.contains("is not a provider name"), "{found:#?}");
    }
    for good in ["a", "okta_2", &"a".repeat(32)] {
        assert!(ProviderName::new(good).is_some(), "{good}");
    }
    assert_eq!(ProviderName::new("entra_ab").unwrap().as_str(), "entra_ab");
}

#[test]
fn default_provider_must_be_one() {
    assert_problem(
        &with(|c| c.default_provider = Some("auth0".into())),
        "oidc.default_provider",
        &["is not a provider", "`google`, `okta`"],
    );
}

#[test]
fn every_route_has_its_own_path() {
    assert_problem(
        &with(|c| {
            c.providers.get_mut("okta").unwrap().callback_path =
                Some("/authorization-code/callback/google".into())
        }),
        "oidc.providers.okta.callback_path",
        &["is both the callback path of provider `google`"],
    );
    // A callback at the login path of another provider.
    assert_problem(
        &with(|c| {
            c.providers.get_mut("okta").unwrap().callback_path = Some("/login/google".into())
        }),
        "oidc.providers.okta.callback_path",
        &["/login/google is both the login path of provider `google`"],
    );
    assert_problem(
        &with(|c| c.failure_redirect = Some("/login/okta".into())),
        "oidc.failure_redirect",
        &["must not be a route of the login"],
    );
    assert_problem(
        &with(|c| c.logout_path = "/login".into()),
        "oidc.logout_path",
        &["/login is both the login path and the logout path: give each route its own path."],
    );
    // Two providers sent back to one URI could not be told apart.
    assert_problem(
        &with(|c| {
            for (name, uri) in [("okta", "?p=1"), ("google", "?p=2")] {
                let p = c.providers.get_mut(name).unwrap();
                p.callback_path = Some("/cb".into());
                p.redirect_uri = Some(format!("http://localhost:8000/cb{uri}"));
            }
        }),
        "oidc.providers.okta.callback_path",
        &["/cb is both the callback path of provider `google`"],
    );
}

#[test]
fn allowed_tenants_are_guids() {
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let config =
        with(|c| c.providers.get_mut("okta").unwrap().allowed_tenants = Some(vec![tenant.into()]));
    assert_eq!(problems(&config), []);
    assert_problem(
        &with(|c| {
            c.providers.get_mut("okta").unwrap().allowed_tenants =
                Some(vec!["contoso.onmicrosoft.com".into()])
        }),
        "oidc.providers.okta.allowed_tenants",
        &["is not a tenant ID", "GUIDs"],
    );
    assert!(validate::is_guid(tenant));
    assert!(validate::is_guid(&tenant.to_ascii_uppercase()));
    for bad in [
        "common",
        "72f988bf86f141af91ab2d7cd011db47",
        "72f988bf-86f1-41af-91ab-2d7cd011db4g",
    ] {
        assert!(!validate::is_guid(bad), "{bad}");
    }
}

#[test]
fn authorization_params_cannot_replace_the_protocol() {
    let google = |params: &[(&str, &str)]| {
        with(|c| {
            c.providers.get_mut("google").unwrap().authorization_params = Some(
                params
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        })
    };
    assert_eq!(
        problems(&google(&[
            ("access_type", "offline"),
            ("prompt", "consent")
        ])),
        []
    );
    for reserved in [
        "state",
        "redirect_uri",
        "scope",
        "code_challenge_method",
        "login_hint",
    ] {
        assert_problem(
            &google(&[(reserved, "x")]),
            "oidc.providers.google.authorization_params",
            &[&format!("`{reserved}` is set by this crate")],
        );
    }
    let offline = with(|c| {
        let g = c.providers.get_mut("google").unwrap();
        g.scopes = Some(vec!["openid".into(), "offline_access".into()]);
        g.authorization_params = Some([("prompt".to_string(), "login".to_string())].into());
    });
    assert_problem(
        &offline,
        "oidc.providers.google.authorization_params",
        &["needs (OpenID Connect Core §11)"],
    );
}

#[test]
fn debug_redacts_provider_secrets() {
    let text = format!("{:?}", two());
    assert!(!text.contains(SECRET), "{text}");
    assert!(text.contains("<redacted>"));
}

#[test]
fn insecure_warnings_name_the_provider() {
    let config = with(|c| {
        c.insecure_allow_http = true;
        c.providers.get_mut("okta").unwrap().issuer = Some("http://id.test".into());
    });
    assert_eq!(problems(&config), []);
    let warnings = config.insecure_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("oidc.providers.okta.issuer: http://id.test is plain http"));
}

#[test]
fn messages_about_a_provider_name_its_keys() {
    assert_eq!(
        scope_message(
            "check oidc.client_id and oidc.client_secret (or ROCKET_OIDC_CLIENT_SECRET), and \
             oidc.client_auth_method; set oidc.check_credentials = false",
            "okta"
        ),
        "check oidc.providers.okta.client_id and oidc.providers.okta.client_secret (or \
         ROCKET_OIDC_PROVIDERS_OKTA_CLIENT_SECRET), and oidc.providers.okta.client_auth_method; \
         set oidc.providers.okta.check_credentials = false"
    );
    // The app's own keys, and anything else, stay.
    let app = "no answer within 1 s (oidc.http_timeout_secs); set oidc.issuer = \"x\"; \
               the oidc.issuers and xoidc.issuer";
    assert_eq!(
        scope_message(app, "g"),
        "no answer within 1 s (oidc.http_timeout_secs); set oidc.providers.g.issuer = \"x\"; \
         the oidc.issuers and xoidc.issuer"
    );
    assert_eq!(scope_message("oidc.", "g"), "oidc.");
}

#[test]
fn problems_sort_by_table_then_key() {
    let mut keys = vec![
        "oidc.providers.okta.client_id",
        "oidc.providers.google.scopes",
        "oidc.scopes",
        "oidc.providers.okta.issuer",
        "oidc",
        "oidc.providers.google.display_name",
        "oidc.providers.google",
    ];
    keys.sort_by_key(|k| order(k));
    assert_eq!(
        keys,
        [
            "oidc",
            "oidc.scopes",
            "oidc.providers.google",
            "oidc.providers.google.display_name",
            "oidc.providers.google.scopes",
            "oidc.providers.okta.issuer",
            "oidc.providers.okta.client_id",
        ]
    );
}

#[test]
fn provider_names_round_trip_through_serde_inline() {
    use rocket::serde::json::serde_json;
    let name = ProviderName::new("okta_2").unwrap();
    let json = serde_json::to_string(&name).unwrap();
    assert_eq!(json, "\"okta_2\"");
    assert_eq!(serde_json::from_str::<ProviderName>(&json).unwrap(), name);
    assert!(serde_json::from_str::<ProviderName>("\"Okta\"").is_err());
    assert!(serde_json::from_str::<ProviderName>(&format!("\"{}\"", "a".repeat(33))).is_err());
    assert!(serde_json::from_str::<ProviderName>("5").is_err());
}

// --- Reading provider tables from the figment ----------------------------------------------

const TWO_PROVIDERS_TOML: &str = r#"
    [default.oidc]
    app_base_url = "http://localhost:8000"
    scopes = ["openid", "email"]
    default_provider = "okta"

    [default.oidc.providers.okta]
    display_name = "Okta"
    issuer = "https://dev-123456.okta.com/oauth2/default"
    client_id = "0oa-okta"

    [default.oidc.providers.my_google]
    issuer = "https://accounts.google.com"
    client_id = 1234
    authorization_params = { access_type = "offline", max_age = 0 }
"#;

#[test]
fn rocket_toml_provider_tables_and_their_variables() {
    Jail::expect_with(|jail| {
        jail.create_file("Rocket.toml", TWO_PROVIDERS_TOML)?;
        jail.set_env("ROCKET_OIDC_PROVIDERS_OKTA_CLIENT_SECRET", SECRET);
        jail.set_env("ROCKET_OIDC_PROVIDERS_MY_GOOGLE_CLIENT_SECRET", "g-secret");
        jail.set_env("ROCKET_OIDC_PROVIDERS_MY_GOOGLE_SCOPES", "openid profile");
        jail.set_env("ROCKET_OIDC_CLOCK_SKEW_SECS", "5");
        let config = Config::from_figment(&rocket::Config::figment()).unwrap();
        assert_eq!(config.clock_skew_secs, 5);
        assert_eq!(config.default_provider.as_deref(), Some("okta"));
        let okta = &config.providers["okta"];
        assert_eq!(okta.client_secret.as_deref(), Some(SECRET));
        assert_eq!(okta.display_name.as_deref(), Some("Okta"));
        let google = &config.providers["my_google"];
        assert_eq!(
            google.client_id.as_deref(),
            Some("1234"),
            "a number stays a string"
        );
        assert_eq!(google.client_secret.as_deref(), Some("g-secret"));
        assert_eq!(
            google.scopes.as_deref(),
            Some(&["openid".to_string(), "profile".to_string()][..])
        );
        assert_eq!(
            google.authorization_params.as_ref().unwrap()["max_age"],
            "0",
            "a number stays a string"
        );
        let resolved = config.resolve().unwrap();
        assert_eq!(resolved.default, Some(1));
        assert_eq!(resolved.providers[1].config.scopes, ["openid", "email"]);
        assert_eq!(resolved.providers[1].config.clock_skew_secs, 5);
        Ok(())
    });
}

#[test]
fn rocket_oidc_providers_gives_whole_tables() {
    Jail::expect_with(|jail| {
        jail.create_file("Rocket.toml", TWO_PROVIDERS_TOML)?;
        jail.set_env(
            "ROCKET_OIDC_PROVIDERS",
            r#"{okta={client_id="from-env"},auth0={issuer="https://acme.eu.auth0.com/",client_id="a0"}}"#,
        );
        let config = Config::from_figment(&rocket::Config::figment()).unwrap();
        assert_eq!(config.providers.len(), 3);
        assert_eq!(
            config.providers["okta"].client_id.as_deref(),
            Some("from-env")
        );
        assert_eq!(
            config.providers["okta"].issuer.as_deref(),
            Some("https://dev-123456.okta.com/oauth2/default"),
            "merged with the table, not replacing it"
        );
        assert_eq!(
            config.providers["auth0"].issuer.as_deref(),
            Some("https://acme.eu.auth0.com/")
        );
        Ok(())
    });
}

#[test]
fn provider_table_mistakes_name_the_provider_and_the_key() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "Rocket.toml",
            r#"
            [default.oidc]
            app_base_url = "http://localhost:8000"
            display_name = "x"

            [default.oidc.providers.okta]
            issuer = ["https://id.example.com"]
            clientId = "x"
            login_path = "/signin"
            keep_refresh_token = "no"

            [default.oidc.providers.bad]
            "#,
        )?;
        jail.set_env("ROCKET_OIDC_PROVIDERS_OKTA_CLIENT_SECRET", "[1]");
        jail.set_env("ROCKET_OIDC_PROVIDERS_AUTH0_CLIENT_ID", "x");
        jail.set_env("ROCKET_OIDC_PROVIDERS_OKTA_HTTP_TIMEOUT_SECS", "1");
        jail.set_env("ROCKET_OIDC_PROVIDERS_OKTA_CLIENTID", "1");
        let error = Config::from_figment(&rocket::Config::figment()).unwrap_err();
        let text = error.to_string();
        assert!(!text.contains(SECRET));
        let keys: Vec<_> = error.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "oidc",
                "oidc.providers",
                "oidc.providers.okta",
                "oidc.providers.okta",
                "oidc.providers.okta.clientId",
                "oidc.providers.okta.issuer",
                "oidc.providers.okta.client_secret",
                "oidc.providers.okta.login_path",
                "oidc.providers.okta.keep_refresh_token",
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
        assert!(find("oidc").contains("`display_name` is a setting of a provider table"));
        assert!(
            find("oidc.providers").contains(
                "`ROCKET_OIDC_PROVIDERS_AUTH0_CLIENT_ID` (the top-level key \
                 `oidc_providers_auth0_client_id`) names no provider: the providers are \
                 `bad`, `okta`"
            ),
            "{text}"
        );
        let okta = find("oidc.providers.okta");
        assert!(
            okta.contains(
                "`ROCKET_OIDC_PROVIDERS_OKTA_HTTP_TIMEOUT_SECS`: `http_timeout_secs` is a \
                 setting of the app, not of one provider: set ROCKET_OIDC_HTTP_TIMEOUT_SECS"
            ),
            "{text}"
        );
        assert!(
            okta.contains("`clientid` is not a setting of a provider; did you mean `client_id`?"),
            "{text}"
        );
        let issuer = find("oidc.providers.okta.issuer");
        assert!(
            issuer.starts_with("expected a string, found an array (in TOML"),
            "{text}"
        );
        assert!(issuer.contains("Rocket.toml"), "{text}");
        assert_eq!(
            find("oidc.providers.okta.client_secret"),
            "expected a string, found an array (from ROCKET_OIDC_PROVIDERS_OKTA_CLIENT_SECRET)"
        );
        assert!(find("oidc.providers.okta.keep_refresh_token")
            .starts_with("expected a boolean, found a string"));
        assert!(find("oidc.providers.okta.clientId")
            .contains("`clientId` is not a setting of a provider; did you mean `client_id`?"));
        assert!(find("oidc.providers.okta.login_path").contains(
            "`login_path` is a setting of the app, not of one provider: move it to \
             [default.oidc] (or ROCKET_OIDC_LOGIN_PATH)"
        ));
        Ok(())
    });
}

#[test]
fn an_empty_provider_table_is_reported_by_validation() {
    let figment = Figment::new().merge((
        "oidc",
        rocket::figment::value::Dict::from_iter([
            ("app_base_url".to_string(), "http://localhost:8000".into()),
            (
                "providers".to_string(),
                rocket::figment::value::Dict::from_iter([(
                    "okta".to_string(),
                    rocket::figment::value::Dict::new().into(),
                )])
                .into(),
            ),
        ]),
    ));
    let config = Config::from_figment(&figment).unwrap();
    let keys: Vec<_> = config
        .validate()
        .unwrap_err()
        .problems
        .into_iter()
        .map(|p| p.key)
        .collect();
    assert_eq!(
        keys,
        [
            "oidc.providers.okta.issuer",
            "oidc.providers.okta.client_id",
            "oidc.providers.okta.client_secret"
        ]
    );
    let not_a_table = Figment::new().merge((
        "oidc",
        rocket::figment::value::Dict::from_iter([("providers".to_string(), "okta".into())]),
    ));
    let error = Config::from_figment(&not_a_table).unwrap_err();
    assert_eq!(error.problems[0].key, "oidc.providers");
}
