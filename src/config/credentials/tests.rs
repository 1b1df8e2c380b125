// `Jail::expect_with` closures must return `figment::Result`, whose error is large.
#![allow(clippy::result_large_err)]

use rocket::figment::Jail;

use super::super::{ClientAuthMethod, Config, ResponseMode};

/// A PEM-shaped text: these tests check settings, not keys (provider/client_key.rs does).
const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";

fn base() -> Config {
    Config {
        issuer: "https://id.example.com".into(),
        client_id: "app".into(),
        app_base_url: "https://app.example.com".into(),
        ..Config::default()
    }
}

/// The problems of `config`, as `key: message` lines.
fn problems(config: &Config) -> Vec<String> {
    match config.validate() {
        Ok(()) => Vec::new(),
        Err(error) => error
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.key, p.message))
            .collect(),
    }
}

#[test]
fn a_key_from_the_environment_keeps_its_line_breaks_or_escapes() {
    Jail::expect_with(|jail| {
        jail.set_env("ROCKET_OIDC_ISSUER", "https://id.example.com");
        jail.set_env("ROCKET_OIDC_CLIENT_ID", "app");
        jail.set_env("ROCKET_OIDC_CLIENT_KEY", PEM);
        let config = Config::from_figment(&rocket::Config::figment()).unwrap();
        // The environment loses the final line break, which PEM parsers do not need.
        assert_eq!(config.client_key.as_deref(), Some(PEM.trim_end()));
        assert_eq!(
            config.effective_client_auth(),
            Some(ClientAuthMethod::PrivateKeyJwt)
        );
        // One line with `\n` escapes stays as given; client_key.rs restores the breaks.
        let escaped = PEM.trim_end().replace('\n', "\\n");
        jail.set_env("ROCKET_OIDC_CLIENT_KEY", &escaped);
        let config = Config::from_figment(&rocket::Config::figment()).unwrap();
        assert_eq!(config.client_key.as_deref(), Some(escaped.as_str()));
        // Never in Debug output, not even in part.
        let debug = format!("{config:?}");
        assert!(
            debug.contains("client_key: Some(\"<redacted>\")"),
            "{debug}"
        );
        assert!(!debug.contains("MIGHAgEA"), "{debug}");
        Ok(())
    });
    // A provider's key, from its own variable.
    Jail::expect_with(|jail| {
        jail.set_env(
            "ROCKET_OIDC",
            r#"{app_base_url="https://app.example.com",providers={corp={issuer="https://id.example.com",client_id="corp"}}}"#,
        );
        jail.set_env("ROCKET_OIDC_PROVIDERS_CORP_CLIENT_KEY", PEM);
        let config = Config::from_figment(&rocket::Config::figment()).unwrap();
        let corp = &config.providers.values().next().unwrap();
        assert_eq!(corp.client_key.as_deref(), Some(PEM.trim_end()));
        assert!(!format!("{corp:?}").contains("MIGHAgEA"));
        Ok(())
    });
}

#[test]
fn key_settings_that_do_not_fit_together_say_what_to_change() {
    let with_key = Config {
        client_key_file: Some("key.pem".into()),
        ..base()
    };
    assert_eq!(problems(&with_key), Vec::<String>::new());
    assert_eq!(
        with_key.implied_client_auth(),
        Some((ClientAuthMethod::PrivateKeyJwt, "oidc.client_key_file"))
    );

    let both = Config {
        client_key: Some(PEM.into()),
        ..with_key.clone()
    };
    assert_eq!(
        problems(&both),
        [
            "oidc.client_key: Both client_key and client_key_file are set: set one of them \
          (client_key_file for the path of the PEM file, client_key for the PEM text itself, \
          e.g. in the environment)."
        ]
    );
    let with_secret = Config {
        client_secret: Some("s3cret-value".into()),
        ..with_key.clone()
    };
    let found = problems(&with_secret);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("oidc.client_secret: A client secret is set beside the client key"),
        "{found:?}"
    );
    assert!(!found[0].contains("s3cret-value"));
    let no_key = Config {
        client_auth_method: Some(ClientAuthMethod::PrivateKeyJwt),
        ..base()
    };
    assert!(problems(&no_key)[0].starts_with(
        "oidc.client_key_file: client_auth_method is \"private_key_jwt\", which signs with the \
         client's private key: set client_key_file"
    ));
    let wrong_method = Config {
        client_auth_method: Some(ClientAuthMethod::ClientSecretBasic),
        ..with_key.clone()
    };
    assert!(problems(&wrong_method)[0]
        .starts_with("oidc.client_key_file: A client key is set, but client_auth_method is"));
    let typo = Config {
        client_key_alg: Some("rs256".into()),
        ..with_key.clone()
    };
    assert!(problems(&typo)[0].starts_with(
        "oidc.client_key_alg: \"rs256\" is not an algorithm for client keys. Did you mean RS256?"
    ));
    let stray_kid = Config {
        client_key_id: Some("k1".into()),
        client_secret: Some("s".into()),
        ..base()
    };
    assert!(problems(&stray_kid)[0]
        .starts_with("oidc.client_key_id: client_key_id is set, but there is no client key"));
}

#[test]
fn sign_in_with_apple_needs_its_team_key_and_form_post_for_the_name() {
    let apple = Config {
        issuer: "https://appleid.apple.com".into(),
        client_id: "com.example.web".into(),
        apple_team_id: Some("ABCDE12345".into()),
        client_key_file: Some("AuthKey_KEY1234567.p8".into()),
        client_key_id: Some("KEY1234567".into()),
        scopes: vec!["openid".into(), "name".into(), "email".into()],
        response_mode: ResponseMode::FormPost,
        ..base()
    };
    assert_eq!(problems(&apple), Vec::<String>::new());
    assert_eq!(
        apple.effective_client_auth(),
        Some(ClientAuthMethod::ClientSecretPost)
    );

    let query = Config {
        response_mode: ResponseMode::Query,
        ..apple.clone()
    };
    assert_eq!(
        problems(&query),
        [
            "oidc.response_mode: Sign in with Apple returns the name and email only with \
          response_mode = \"form_post\", and refuses the name and email scopes otherwise: set \
          response_mode = \"form_post\", or remove \"name\" and \"email\" from scopes."
        ]
    );
    let incomplete = Config {
        apple_team_id: Some("ABC".into()),
        client_key_file: None,
        client_key_id: None,
        client_secret: Some("copied".into()),
        ..apple.clone()
    };
    let keys: Vec<String> = problems(&incomplete)
        .iter()
        .map(|p| p.split(':').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        keys,
        [
            "oidc.apple_team_id",
            "oidc.client_key_file",
            "oidc.client_key_id",
            "oidc.client_secret"
        ]
    );
}

#[test]
fn form_post_needs_https_or_a_loopback_host() {
    let form_post = |base_url: &str| Config {
        client_secret: Some("s".into()),
        app_base_url: base_url.into(),
        response_mode: ResponseMode::FormPost,
        insecure_allow_http: true,
        ..base()
    };
    assert_eq!(
        problems(&form_post("https://app.example.com")),
        Vec::<String>::new()
    );
    assert_eq!(
        problems(&form_post("http://localhost:8000")),
        Vec::<String>::new()
    );
    assert_eq!(
        problems(&form_post("http://127.0.0.1:8000")),
        Vec::<String>::new()
    );
    let plain = problems(&form_post("http://app.internal:8000"));
    assert_eq!(plain.len(), 1, "{plain:?}");
    assert!(plain[0].starts_with(
        "oidc.response_mode: response_mode = \"form_post\" needs a SameSite=None; Secure cookie"
    ));
}
