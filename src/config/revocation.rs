//! The two tables of signing out: `[default.oidc.backchannel_logout]` (the endpoint the
//! provider POSTs logout tokens to) and `[default.oidc.store]` (where "logged out at" markers
//! live), with their checks.

use rocket::serde::{Deserialize, Serialize};

use super::validate::path_problem;
use super::{lenient, Config, ConfigProblem};

/// `[default.oidc.backchannel_logout]`: OpenID Connect Back-Channel Logout 1.0, the endpoint
/// at which the provider ends sessions of this app (register `app_base_url` + `path` at the
/// provider as the client's `backchannel_logout_uri`, with `backchannel_logout_session_required`
/// so that ID tokens carry `sid`).
///
/// ```toml
/// [default.oidc.backchannel_logout]
/// path = "/backchannel-logout"
/// # enabled = true   # mount it even if discovery does not advertise backchannel_logout_supported
/// ```
///
/// or `ROCKET_OIDC_BACKCHANNEL_LOGOUT={enabled=false}` in the environment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(crate = "rocket::serde", default, deny_unknown_fields)]
pub struct BackchannelLogoutConfig {
    /// Whether to mount the endpoint. Unset, it is mounted when the provider's discovery
    /// document says `backchannel_logout_supported: true` (Back-Channel Logout 1.0 §2.1), and
    /// not otherwise: an endpoint no provider will call is left out. `true` mounts it anyway
    /// (some providers support it without advertising it), `false` never.
    ///
    /// _Default:_ unset (follow discovery).
    pub enabled: Option<bool>,

    /// The path of the `POST` endpoint; it must differ from the login, callback and logout
    /// paths.
    ///
    /// _Default:_ `"/backchannel-logout"`.
    #[serde(deserialize_with = "lenient::string")]
    pub path: String,
}

impl Default for BackchannelLogoutConfig {
    fn default() -> Self {
        BackchannelLogoutConfig {
            enabled: None,
            path: "/backchannel-logout".into(),
        }
    }
}

impl BackchannelLogoutConfig {
    /// Whether the endpoint is mounted, given what discovery advertised.
    pub fn is_enabled(&self, advertised: bool) -> bool {
        self.enabled.unwrap_or(advertised)
    }
}

/// The default of [`StoreConfig::max_entries`].
pub(crate) const DEFAULT_STORE_MAX_ENTRIES: usize = 1_000_000;

/// `[default.oidc.store]`: where the markers of signed-out sessions live. Today that is this
/// process's memory ([`MemoryStore`](crate::MemoryStore)); a store shared by several instances
/// is given in code with [`OidcFairing::revocation_store`](crate::OidcFairing::revocation_store).
///
/// ```toml
/// [default.oidc.store]
/// max_entries = 1000000
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(crate = "rocket::serde", default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The most markers the in-memory store holds (and as many logout-token `jti`s), at
    /// least 1. A marker lives for `session_absolute_timeout_secs` after its logout, ~100 bytes
    /// each. A full store drops no live marker: it signs out every session older than the
    /// newest logout it could not store, and logs an error.
    ///
    /// _Default:_ `1000000`.
    pub max_entries: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            max_entries: DEFAULT_STORE_MAX_ENTRIES,
        }
    }
}

/// The problems of the two tables (app-level settings). `single`: a configuration without
/// provider tables, whose one endpoint must differ from the other routes; with provider tables
/// each provider's (`path/NAME`) is checked with every route (`providers::route_clashes`).
pub(super) fn problems(config: &Config, single: bool) -> Vec<ConfigProblem> {
    let mut out = Vec::new();
    let path = &config.backchannel_logout.path;
    if let Some(message) = path_problem(path) {
        out.push(ConfigProblem::new(
            "oidc.backchannel_logout".into(),
            format!(
                "Your backchannel_logout.path {message}, e.g. /backchannel-logout. Current \
                 value: {path:?}."
            ),
        ));
    } else if single {
        for (name, other) in [
            ("login_path", &config.login_path),
            ("callback_path", &config.callback_path),
            ("logout_path", &config.logout_path),
        ] {
            if other == path {
                out.push(ConfigProblem::new(
                    "oidc.backchannel_logout".into(),
                    format!(
                        "Your backchannel_logout.path must differ from {name}: both are {path}."
                    ),
                ));
            }
        }
    }
    if config.store.max_entries == 0 {
        out.push(ConfigProblem::new(
            "oidc.store".into(),
            "Your store.max_entries must be at least 1 (the default is 1000000).".into(),
        ));
    }
    out
}

#[cfg(test)]
// `Jail::expect_with` closures must return `figment::Result`, whose error is large.
#[allow(clippy::result_large_err)]
mod tests {
    use rocket::figment::Jail;

    use super::*;

    fn valid() -> Config {
        Config {
            issuer: "https://op.example".into(),
            client_id: "app".into(),
            client_secret: Some("s".into()),
            app_base_url: "http://localhost:8000".into(),
            ..Config::default()
        }
    }

    #[test]
    fn defaults_follow_discovery_at_the_documented_path() {
        let config = Config::default();
        assert_eq!(config.backchannel_logout.path, "/backchannel-logout");
        assert!(config.backchannel_logout.is_enabled(true));
        assert!(!config.backchannel_logout.is_enabled(false));
        assert_eq!(config.store.max_entries, 1_000_000);
        assert!(valid().validate().is_ok());
    }

    #[test]
    fn a_bad_or_clashing_path_and_an_empty_store_are_refused() {
        let mut config = valid();
        config.backchannel_logout.path = "backchannel".into();
        let problems = config.validate().unwrap_err().problems;
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key, "oidc.backchannel_logout");
        assert!(
            problems[0].message.contains("must start with '/'"),
            "{problems:?}"
        );

        let mut config = valid();
        config.backchannel_logout.path = "/logout".into();
        config.store.max_entries = 0;
        let problems = config.validate().unwrap_err().problems;
        let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["oidc.backchannel_logout", "oidc.store"]);
        assert!(problems[0].message.contains("logout_path"), "{problems:?}");
    }

    #[test]
    fn tables_are_read_from_rocket_toml_and_the_environment() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "Rocket.toml",
                r#"
                [default.oidc]
                issuer = "https://op.example"
                [default.oidc.backchannel_logout]
                path = "/bcl"
                [default.oidc.store]
                max_entries = 10
                "#,
            )?;
            let config = Config::from_figment(&rocket::Config::figment()).unwrap();
            assert_eq!(config.backchannel_logout.path, "/bcl");
            assert_eq!(config.backchannel_logout.enabled, None);
            assert_eq!(config.store.max_entries, 10);

            jail.set_env("ROCKET_OIDC_BACKCHANNEL_LOGOUT", "{enabled=false}");
            let config = Config::from_figment(&rocket::Config::figment()).unwrap();
            assert_eq!(config.backchannel_logout.enabled, Some(false));

            jail.set_env("ROCKET_OIDC_BACKCHANNEL_LOGOUT", "{enabeld=false}");
            let err = Config::from_figment(&rocket::Config::figment()).unwrap_err();
            assert_eq!(err.problems[0].key, "oidc.backchannel_logout", "{err}");
            assert!(err.to_string().contains("enabeld"), "{err}");
            Ok(())
        });
    }
}
