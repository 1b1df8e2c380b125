// `Jail::expect_with` closures must return `figment::Result`, whose error is large.
#![allow(clippy::result_large_err)]

use rocket::figment::Jail;

use super::*;

/// A password no message or `Debug` output may contain.
const PASSWORD: &str = "r3d1s-PW-9f1e";

fn with_url(url: &str) -> StoreConfig {
    StoreConfig {
        url: Some(url.into()),
        ..StoreConfig::default()
    }
}

/// `(key, message)` of every problem, asserting that none shows the password.
fn problems(config: &StoreConfig) -> Vec<(String, String)> {
    let found: Vec<_> = config
        .problems(true)
        .into_iter()
        .map(|p| (p.key, p.message))
        .collect();
    for (_, message) in &found {
        assert!(!message.contains(PASSWORD), "password leaked: {message}");
    }
    found
}

#[track_caller]
fn assert_one(config: &StoreConfig, key: &str, part: &str) {
    let found = problems(config);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, key, "{found:#?}");
    assert!(found[0].1.contains(part), "{:?} lacks {part:?}", found[0].1);
}

#[test]
fn defaults_are_in_memory_and_valid() {
    let config = StoreConfig::default();
    assert_eq!(config.max_entries, 1_000_000);
    assert_eq!(config.url, None);
    assert_eq!(config.key_prefix, "oidc:");
    assert_eq!(config.connect_timeout_ms, 1000);
    assert_eq!(config.command_timeout_ms, 300);
    assert!(problems(&config).is_empty());
    assert_eq!(config.redis_settings(|_| None), Ok(None));
    // Without Redis built in, the defaults are fine too.
    assert!(config.problems(false).is_empty());
}

#[test]
fn good_urls_pass() {
    for url in [
        "redis://127.0.0.1:6379",
        "redis://127.0.0.1:6379/",
        "redis://redis.internal/1",
        "rediss://redis.example.com:6380/15",
        "redis://oidc:pw@10.0.0.5:6379/1",
    ] {
        assert!(problems(&with_url(url)).is_empty(), "{url}");
    }
}

#[test]
fn a_url_without_the_feature_says_to_add_it() {
    let problems = with_url("redis://127.0.0.1/1").problems(false);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].key, "oidc.store.url");
    assert!(problems[0].message.contains("features"), "{problems:?}");
    assert!(problems[0].message.contains("\"redis\""), "{problems:?}");
}

#[test]
fn bad_urls_name_the_key_and_the_fix() {
    assert_one(
        &with_url("http://127.0.0.1:6379"),
        "oidc.store.url",
        "redis:// or rediss://",
    );
    assert_one(
        &with_url("127.0.0.1:6379"),
        "oidc.store.url",
        "must start with redis://",
    );
    assert_one(&with_url("redis://a b"), "oidc.store.url", "is not a URL");
    assert_one(&with_url("redis:///1"), "oidc.store.url", "has no host");
    assert_one(
        &with_url("redis://h/sessions"),
        "oidc.store.url",
        "database number",
    );
    assert_one(
        &with_url("redis://h/1?protocol=resp2"),
        "oidc.store.url",
        "Remove the ?",
    );
    assert_one(
        &with_url(&format!("redis://:{PASSWORD}@h/1?x=1")),
        "oidc.store.url",
        "<redacted>",
    );
}

#[test]
fn password_env_and_ca_file_need_a_fitting_url() {
    let config = StoreConfig {
        password_env: Some("REDIS_PASSWORD".into()),
        ca_file: Some("/etc/ca.pem".into()),
        ..StoreConfig::default()
    };
    let keys: Vec<_> = problems(&config).into_iter().map(|p| p.0).collect();
    assert_eq!(keys, ["oidc.store.password_env", "oidc.store.ca_file"]);

    let config = StoreConfig {
        ca_file: Some("/etc/ca.pem".into()),
        ..with_url("redis://h/1")
    };
    assert_one(&config, "oidc.store.ca_file", "rediss://");

    let config = StoreConfig {
        password_env: Some("REDIS_PASSWORD".into()),
        ..with_url(&format!("redis://:{PASSWORD}@h/1"))
    };
    assert_one(&config, "oidc.store.password_env", "remove the one in url");

    let config = StoreConfig {
        password_env: Some("A=B".into()),
        ..with_url("redis://h/1")
    };
    assert_one(
        &config,
        "oidc.store.password_env",
        "name of an environment variable",
    );
}

#[test]
fn timeouts_prefix_and_size_are_bounded() {
    let config = StoreConfig {
        max_entries: 0,
        connect_timeout_ms: 0,
        command_timeout_ms: 60_001,
        key_prefix: "my app:".into(),
        ..StoreConfig::default()
    };
    let found = problems(&config);
    let keys: Vec<_> = found.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(
        keys,
        [
            "oidc.store.max_entries",
            "oidc.store.connect_timeout_ms",
            "oidc.store.command_timeout_ms",
            "oidc.store.key_prefix"
        ]
    );
    assert!(found[2].1.contains("between 1 and 60000"), "{found:?}");
    assert_one(
        &StoreConfig {
            key_prefix: String::new(),
            ..StoreConfig::default()
        },
        "oidc.store.key_prefix",
        "1 to 64",
    );
}

#[test]
fn settings_take_the_password_from_the_environment_and_debug_redacts_it() {
    let config = StoreConfig {
        password_env: Some("MY_REDIS_PW".into()),
        command_timeout_ms: 250,
        ..with_url("rediss://oidc@redis.example.com:6380/2")
    };
    let settings = config
        .redis_settings(|name| (name == "MY_REDIS_PW").then(|| PASSWORD.to_string()))
        .unwrap()
        .unwrap();
    assert_eq!(settings.url, "rediss://oidc@redis.example.com:6380/2");
    assert!(settings.tls);
    assert_eq!(settings.password.as_deref(), Some(PASSWORD));
    assert_eq!(settings.command_timeout, Duration::from_millis(250));
    assert_eq!(settings.connect_timeout, Duration::from_millis(1000));
    assert!(!format!("{settings:?}").contains(PASSWORD));

    let missing = config.redis_settings(|_| None).unwrap_err();
    assert_eq!(missing.key, "oidc.store.password_env");
    assert!(missing.message.contains("MY_REDIS_PW"), "{missing}");
    assert!(missing.message.contains("not set"), "{missing}");
}

#[test]
fn a_password_in_the_url_is_moved_out_of_it_and_never_shown() {
    let config = with_url(&format!("redis://:{PASSWORD}@127.0.0.1:6379/1"));
    let debug = format!("{config:?}");
    assert!(!debug.contains(PASSWORD), "{debug}");
    assert!(
        debug.contains("redis://:<redacted>@127.0.0.1:6379/1"),
        "{debug}"
    );
    let settings = config.redis_settings(|_| None).unwrap().unwrap();
    assert_eq!(settings.url, "redis://127.0.0.1:6379/1");
    assert_eq!(settings.password.as_deref(), Some(PASSWORD));
    assert!(!settings.tls);
    // Percent-encoded characters are decoded: `p@ss` is written `p%40ss` in a URL.
    let config = with_url("redis://:p%40ss@h/1");
    let settings = config.redis_settings(|_| None).unwrap().unwrap();
    assert_eq!(settings.password.as_deref(), Some("p@ss"));
}

#[test]
fn the_ca_file_must_be_a_readable_pem() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "ca.pem",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        )?;
        jail.create_file("key.pem", "-----BEGIN PRIVATE KEY-----\n")?;
        let dir = jail.directory().to_owned();
        let config = |file: &str| StoreConfig {
            ca_file: Some(dir.join(file).display().to_string()),
            ..with_url("rediss://h:6380/1")
        };
        let settings = config("ca.pem").redis_settings(|_| None).unwrap().unwrap();
        assert!(settings
            .ca_pem
            .unwrap()
            .starts_with(b"-----BEGIN CERTIFICATE"));
        let err = config("key.pem").redis_settings(|_| None).unwrap_err();
        assert_eq!(err.key, "oidc.store.ca_file");
        assert!(err.message.contains("no PEM certificate"), "{err}");
        let err = config("absent.pem").redis_settings(|_| None).unwrap_err();
        assert!(err.message.contains("cannot be read"), "{err}");
        Ok(())
    });
}

#[test]
fn the_table_is_read_from_rocket_toml_and_the_environment() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "Rocket.toml",
            r#"
            [default.oidc.store]
            url = "redis://127.0.0.1:6379/1"
            password_env = "REDIS_PASSWORD"
            key_prefix = "app1:"
            command_timeout_ms = 200
            "#,
        )?;
        let read = || -> StoreConfig {
            rocket::Config::figment()
                .extract_inner("oidc.store")
                .expect("a valid table")
        };
        let config = read();
        assert_eq!(config.url.as_deref(), Some("redis://127.0.0.1:6379/1"));
        assert_eq!(config.password_env.as_deref(), Some("REDIS_PASSWORD"));
        assert_eq!(config.key_prefix, "app1:");
        assert_eq!(config.command_timeout_ms, 200);
        assert_eq!(config.connect_timeout_ms, 1000);

        jail.set_env("ROCKET_OIDC", "{store={url=\"rediss://r.example:6380/2\"}}");
        assert_eq!(read().url.as_deref(), Some("rediss://r.example:6380/2"));
        Ok(())
    });
}
