//! The `[default.oidc.refresh]` table: when the guards refresh the access token, and how long
//! refresh results are shared ([`RefreshConfig`]), with its checks.

use rocket::serde::{Deserialize, Serialize};

/// When an access token is refreshed (RFC 6749 §6, OpenID Connect Core §12), set in the
/// `refresh` table of the `oidc` settings:
///
/// ```toml
/// [default.oidc.refresh]
/// mode = "auto"            # or "on_demand", "off"
/// skew_secs = 60
/// result_cache_secs = 30
/// failure_cache_secs = 5
/// ```
///
/// or in the environment as `ROCKET_OIDC_REFRESH={mode="on_demand",skew_secs=120}`.
///
/// A refresh needs a refresh token in the session: the provider must issue one (most want the
/// `offline_access` scope; oidc-provider honours it only with `prompt=consent`, which the login
/// adds by itself; Google wants `access_type=offline` instead) and
/// [`keep_refresh_token`](super::Config::keep_refresh_token) must stay `true`. Sessions without
/// one keep their tokens as they are.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(crate = "rocket::serde", default, deny_unknown_fields)]
pub struct RefreshConfig {
    /// Who refreshes: the guards by themselves (`"auto"`), only the app through
    /// [`TokenRefresher`](crate::TokenRefresher) (`"on_demand"`), or nobody (`"off"`).
    ///
    /// _Default:_ `"auto"`.
    pub mode: RefreshMode,

    /// In `auto` mode, the guards refresh an access token that expires within this many
    /// seconds (or has expired). Keep it below the provider's access-token lifetime, or every
    /// request refreshes. At most 3600.
    ///
    /// _Default:_ `60`.
    pub skew_secs: u64,

    /// How many seconds the result of a refresh stays cached in memory, keyed by a hash of the
    /// old refresh token, so that a request that arrives a little later with the old cookie (a
    /// burst from one page, a tab that had not seen the new cookie yet) gets the same new tokens
    /// instead of presenting the consumed refresh token again, which a provider with strict
    /// rotation answers by revoking the whole grant. From 1 to 300.
    ///
    /// _Default:_ `30`.
    pub result_cache_secs: u64,

    /// How many seconds a failed refresh (refused, unreachable provider) stays cached, so that
    /// a burst of requests makes one token-endpoint call, and an outage is not hammered by every
    /// request. From 1 to 300.
    ///
    /// _Default:_ `5`.
    pub failure_cache_secs: u64,
}

/// Who refreshes the access token; see [`RefreshConfig::mode`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(crate = "rocket::serde", rename_all = "snake_case")]
pub enum RefreshMode {
    /// The guards refresh an access token within `skew_secs` of its expiry, at most once per
    /// request; [`TokenRefresher`](crate::TokenRefresher) works too.
    #[default]
    Auto,
    /// Only the app refreshes, through [`TokenRefresher`](crate::TokenRefresher).
    OnDemand,
    /// Nothing refreshes; [`TokenRefresher`](crate::TokenRefresher) answers
    /// [`RefreshError::Disabled`](crate::RefreshError::Disabled).
    Off,
}

impl Default for RefreshConfig {
    fn default() -> Self {
        RefreshConfig {
            mode: RefreshMode::Auto,
            skew_secs: 60,
            result_cache_secs: 30,
            failure_cache_secs: 5,
        }
    }
}

/// The keys of the table, qualified, in declaration order.
pub(super) const REFRESH_KEYS: &[&str] = &[
    "oidc.refresh.mode",
    "oidc.refresh.skew_secs",
    "oidc.refresh.result_cache_secs",
    "oidc.refresh.failure_cache_secs",
];

/// The most skew: more would refresh hour-long tokens on every request.
const MAX_SKEW_SECS: u64 = 3600;

/// The longest a result may be cached: it holds live tokens in memory.
const MAX_CACHE_SECS: u64 = 300;

/// `"oidc.refresh.<field>"` for a field of the table, `"oidc.refresh"` otherwise.
pub(super) fn qualified(field: &str) -> &'static str {
    REFRESH_KEYS
        .iter()
        .find(|k| k.strip_prefix("oidc.refresh.") == Some(field))
        .copied()
        .unwrap_or("oidc.refresh")
}

/// `"; did you mean `skew_secs`?"` for a field spelled another way, else the list of fields.
pub(super) fn did_you_mean(name: &str) -> String {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let fields = || REFRESH_KEYS.iter().map(|k| &k["oidc.refresh.".len()..]);
    match fields().find(|f| squash(f) == squash(name)) {
        Some(field) => format!("; did you mean `{field}`?"),
        None => format!(
            "; the refresh settings are {}",
            fields().collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The problems of the table, as (key, message).
pub(super) fn problems(refresh: &RefreshConfig) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if refresh.skew_secs > MAX_SKEW_SECS {
        out.push((
            "oidc.refresh.skew_secs",
            format!(
                "{} is more than {MAX_SKEW_SECS}: access tokens would be refreshed long before \
                 they expire (typical lifetimes are 5 to 60 minutes); use e.g. 60",
                refresh.skew_secs
            ),
        ));
    }
    for (key, value, typical) in [
        (
            "oidc.refresh.result_cache_secs",
            refresh.result_cache_secs,
            30,
        ),
        (
            "oidc.refresh.failure_cache_secs",
            refresh.failure_cache_secs,
            5,
        ),
    ] {
        if value == 0 {
            out.push((
                key,
                format!(
                    "must be at least 1: without it, requests that arrive together would each \
                     call the token endpoint; use e.g. {typical}"
                ),
            ));
        } else if value > MAX_CACHE_SECS {
            out.push((
                key,
                format!(
                    "{value} is more than {MAX_CACHE_SECS}: the cache holds live tokens (or \
                     hides a recovered provider) that long; use e.g. {typical}"
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use rocket::figment::Figment;

    fn keys(config: &Config) -> Vec<String> {
        match config.validate() {
            Ok(()) => Vec::new(),
            Err(e) => e.problems.iter().map(|p| p.key.clone()).collect(),
        }
    }

    fn valid() -> Config {
        Config {
            issuer: "https://id.example.com".into(),
            client_id: "app".into(),
            client_secret: Some("s".into()),
            app_base_url: "https://app.example.com".into(),
            ..Config::default()
        }
    }

    #[test]
    fn defaults_are_auto_60_30_5_and_valid() {
        let r = RefreshConfig::default();
        assert_eq!(
            (
                r.mode,
                r.skew_secs,
                r.result_cache_secs,
                r.failure_cache_secs
            ),
            (RefreshMode::Auto, 60, 30, 5)
        );
        assert!(keys(&valid()).is_empty());
    }

    #[test]
    fn bounds_are_checked_at_their_edges() {
        let with = |skew, result, failure| Config {
            refresh: RefreshConfig {
                mode: RefreshMode::Auto,
                skew_secs: skew,
                result_cache_secs: result,
                failure_cache_secs: failure,
            },
            ..valid()
        };
        assert!(keys(&with(0, 1, 1)).is_empty());
        assert!(keys(&with(3600, 300, 300)).is_empty());
        assert_eq!(keys(&with(3601, 30, 5)), ["oidc.refresh.skew_secs"]);
        assert_eq!(
            keys(&with(60, 0, 301)),
            [
                "oidc.refresh.result_cache_secs",
                "oidc.refresh.failure_cache_secs"
            ]
        );
    }

    fn read(figment: Figment) -> Result<Config, Vec<String>> {
        Config::from_figment(&figment)
            .map_err(|e| e.problems.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn the_table_is_read_from_rocket_toml_and_the_environment() {
        let base = || {
            rocket::Config::figment()
                .merge(("oidc.issuer", "https://id.example.com"))
                .merge(("oidc.refresh.mode", "on_demand"))
                .merge(("oidc.refresh.skew_secs", 120))
        };
        let config = read(base()).unwrap();
        assert_eq!(config.refresh.mode, RefreshMode::OnDemand);
        assert_eq!(config.refresh.skew_secs, 120);
        assert_eq!(config.refresh.result_cache_secs, 30, "the rest defaults");

        // ROCKET_OIDC_REFRESH={mode="off"} arrives as the top-level key `oidc_refresh`.
        let env = rocket::figment::value::Dict::from_iter([("mode".to_string(), "off".into())]);
        let config = read(base().merge(("oidc_refresh", env))).unwrap();
        assert_eq!(config.refresh.mode, RefreshMode::Off);
    }

    #[test]
    fn wrong_values_name_the_nested_key() {
        let problems = read(
            rocket::Config::figment()
                .merge(("oidc.refresh.mode", "sometimes"))
                .merge(("oidc.refresh.skew_secs", "soon")),
        )
        .unwrap_err();
        assert!(
            problems.iter().any(|p| p.starts_with(
                "oidc.refresh.mode: `sometimes` is not one of `auto`, `on_demand`, `off`"
            )),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("oidc.refresh.skew_secs: expected a whole number")),
            "{problems:?}"
        );
        let problems =
            read(rocket::Config::figment().merge(("oidc.refresh.skewSecs", 5))).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with(
                "oidc.refresh: `skewSecs` is not a refresh setting; did you mean `skew_secs`?"
            ),
            "{problems:?}"
        );
        let problems = read(rocket::Config::figment().merge(("oidc.refresh", "auto"))).unwrap_err();
        assert!(
            problems[0].starts_with("oidc.refresh: expected a table"),
            "{problems:?}"
        );
    }
}
