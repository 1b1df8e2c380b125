//! Reading [`Config`] from Rocket's figment: the `oidc` table over the defaults, then the
//! `ROCKET_OIDC_<KEY>` environment variables, every problem reported at once with its origin.

use rocket::figment::error::{Actual, Kind};
use rocket::figment::providers::Serialized;
use rocket::figment::{self, Figment};

use super::providers::order;
use super::{key_name, Config, ConfigError, ConfigProblem, ProviderConfig, KEYS, PROVIDER_KEYS};

impl Config {
    /// Reads the `oidc` table of `figment` (usually `rocket.figment()`), in its selected
    /// profile, over the defaults; then every top-level `oidc_<key>`, which is where Rocket puts
    /// an environment variable `ROCKET_OIDC_<KEY>`, wins over the table's `<key>`.
    ///
    /// It only reads: call [`Config::validate()`] to check the values.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] with one [`ConfigProblem`] per value of the wrong type, per unknown
    /// key, and for an `oidc` value that is not a table.
    ///
    /// # Example
    ///
    /// ```
    /// use rocket::figment::Figment;
    /// use rocket_openid_connect::Config;
    ///
    /// let figment = rocket::Config::figment()
    ///     .merge(("oidc", rocket::figment::value::Dict::from_iter([
    ///         ("issuer".to_string(), "https://id.example.com".into()),
    ///         ("client_id".to_string(), "app".into()),
    ///     ])))
    ///     // What `ROCKET_OIDC_CLIENT_SECRET=...` in the environment does:
    ///     .merge(("oidc_client_secret", "s3cr3t"));
    /// let config = Config::from_figment(&figment).unwrap();
    /// assert_eq!(config.issuer, "https://id.example.com");
    /// assert_eq!(config.client_secret.as_deref(), Some("s3cr3t"));
    /// assert_eq!(config.login_path, "/login");
    /// ```
    pub fn from_figment(figment: &Figment) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        if let Ok(value) = figment.find_value("oidc") {
            if value.as_dict().is_none() {
                problems.push(ConfigProblem::new(
                    "oidc".into(),
                    "must be a table of settings, e.g. [default.oidc] in Rocket.toml or \
                     ROCKET_OIDC={issuer=\"...\",client_id=\"...\"} in the environment"
                        .into(),
                ));
            }
        }

        // Rocket's own `ROCKET_` environment provider is global and does not split keys, so
        // `ROCKET_OIDC_CLIENT_SECRET` arrives as the top-level key `oidc_client_secret` (and
        // `ROCKET_OIDC_PROVIDERS={..}` as `oidc_providers`, merged into the tables).
        let mut merged = figment
            .focus("oidc")
            .join(Serialized::defaults(Config::default()));
        let mut overridden = Vec::new();
        for key in names() {
            if let Ok(value) = figment.find_value(&format!("oidc_{key}")) {
                merged = merged.merge(Serialized::global(key, value));
                overridden.push(key.to_owned());
            }
        }
        // `ROCKET_OIDC_PROVIDERS_<NAME>_<KEY>` arrives as `oidc_providers_<name>_<key>`: the
        // name is one of the providers the tables define (names and keys both contain `_`).
        let providers: Vec<String> = merged
            .find_value("providers")
            .ok()
            .and_then(|v| v.into_dict())
            .map(|d| d.into_keys().collect())
            .unwrap_or_default();
        if let Ok(top) = figment.extract::<figment::value::Dict>() {
            for name in top.keys() {
                let Some(rest) = name.strip_prefix("oidc_") else {
                    continue;
                };
                if is_key(rest) {
                    continue;
                }
                if let Some(rest) = rest.strip_prefix("providers_") {
                    match provider_override(name, rest, &providers) {
                        Ok((provider, key)) => {
                            if let Ok(value) = figment.find_value(name) {
                                let path = format!("providers.{provider}.{key}");
                                merged = merged.merge(Serialized::global(&path, value));
                                overridden.push(path);
                            }
                        }
                        Err(problem) => problems.push(problem),
                    }
                    continue;
                }
                problems.push(ConfigProblem::new(
                    "oidc".into(),
                    format!(
                        "`{}` (the top-level key `{name}`) is not a setting{}",
                        env_var(rest),
                        did_you_mean(rest, names())
                    ),
                ));
            }
        }

        // Serde stops at the first bad field of a struct, so each key is read on its own over
        // the defaults, to report every bad one at once.
        let table = merged.extract::<figment::value::Dict>().unwrap_or_default();
        for (name, value) in &table {
            if name == "providers" {
                check_providers(figment, &merged, value, &overridden, &mut problems);
                continue;
            }
            if !is_key(name) {
                let message = if name == "display_name" {
                    "`display_name` is a setting of a provider table \
                     ([default.oidc.providers.NAME]), not of the top level"
                        .into()
                } else {
                    format!("`{name}` is not a setting{}", did_you_mean(name, names()))
                };
                problems.push(ConfigProblem::new("oidc".into(), message));
                continue;
            }
            // The nested `refresh` table field by field too.
            let pieces = match value.as_dict() {
                Some(fields) if name == "refresh" => fields
                    .iter()
                    .map(|(field, v)| (format!("refresh.{field}"), v.clone()))
                    .collect(),
                _ => vec![(name.clone(), value.clone())],
            };
            for (path, value) in pieces {
                let single = Figment::from(Serialized::defaults(Config::default()))
                    .merge(Serialized::default(&path, value));
                if let Err(errors) = single.extract::<Config>() {
                    let source = source_of(figment, &merged, name, &overridden);
                    for error in errors {
                        problems.push(extraction_problem(&error, &source, None));
                    }
                }
            }
        }
        if !problems.is_empty() {
            problems.sort_by_key(|p| order(&p.key));
            return Err(ConfigError { problems });
        }
        merged.extract::<Config>().map_err(|errors| ConfigError {
            problems: errors
                .into_iter()
                .map(|error| extraction_problem(&error, "", None))
                .collect(),
        })
    }
}

/// The provider and key of `ROCKET_OIDC_PROVIDERS_<rest>` (the top-level key `top`), or the
/// problem with it.
fn provider_override(
    top: &str,
    rest: &str,
    providers: &[String],
) -> Result<(String, &'static str), ConfigProblem> {
    let var = env_var(top.strip_prefix("oidc_").unwrap_or(top));
    let mut candidates: Vec<&String> = providers.iter().collect();
    // The longest name first: `my_okta_client_id` is `client_id` of `my_okta`, not of `my`.
    candidates.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let found = candidates.into_iter().find_map(|provider| {
        let key = rest.strip_prefix(provider.as_str())?.strip_prefix('_')?;
        Some((provider.clone(), key))
    });
    let Some((provider, key)) = found else {
        let known = if providers.is_empty() {
            "there are no provider tables".to_owned()
        } else {
            format!(
                "the providers are {}",
                providers
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(ConfigProblem::new(
            "oidc.providers".into(),
            format!(
                "`{var}` (the top-level key `{top}`) names no provider: {known}. Define the \
                 provider in a [default.oidc.providers.NAME] table, or give whole tables in \
                 ROCKET_OIDC_PROVIDERS={{NAME={{issuer=\"...\"}}}}"
            ),
        ));
    };
    if let Some(key) = PROVIDER_KEYS.iter().find(|k| **k == key) {
        return Ok((provider, key));
    }
    let message = if is_key(key) {
        format!(
            "`{var}`: `{key}` is a setting of the app, not of one provider: set \
             {} instead",
            env_var(key)
        )
    } else {
        format!(
            "`{var}` (the top-level key `{top}`): `{key}` is not a setting of a \
             provider{}",
            did_you_mean(key, PROVIDER_KEYS.iter().copied())
        )
    };
    Err(ConfigProblem::new(
        format!("oidc.providers.{provider}"),
        message,
    ))
}

/// The problems of the `providers` table: each provider's keys read on their own, and the
/// app's settings and unknown keys refused.
fn check_providers(
    figment: &Figment,
    merged: &Figment,
    value: &figment::value::Value,
    overridden: &[String],
    problems: &mut Vec<ConfigProblem>,
) {
    let Some(providers) = value.as_dict() else {
        problems.push(ConfigProblem::new(
            "oidc.providers".into(),
            "must be a table of provider tables, e.g. [default.oidc.providers.okta] in \
             Rocket.toml"
                .into(),
        ));
        return;
    };
    for (provider, table) in providers {
        let Some(table) = table.as_dict() else {
            problems.push(ConfigProblem::new(
                format!("oidc.providers.{provider}"),
                format!(
                    "must be a table of settings, e.g. [default.oidc.providers.{provider}] with \
                     issuer = \"...\" and client_id = \"...\""
                ),
            ));
            continue;
        };
        for (key, value) in table {
            let qualified = format!("oidc.providers.{provider}.{key}");
            if !PROVIDER_KEYS.contains(&key.as_str()) {
                let message = if is_key(key) {
                    format!(
                        "`{key}` is a setting of the app, not of one provider: move it to \
                         [default.oidc] (or {})",
                        env_var(key)
                    )
                } else {
                    format!(
                        "`{key}` is not a setting of a provider{}",
                        did_you_mean(key, PROVIDER_KEYS.iter().copied())
                    )
                };
                problems.push(ConfigProblem::new(qualified, message));
                continue;
            }
            let single = Figment::from(Serialized::default(key, value));
            if let Err(errors) = single.extract::<ProviderConfig>() {
                let path = format!("providers.{provider}.{key}");
                let source = source_of(figment, merged, &path, overridden);
                for error in errors {
                    problems.push(extraction_problem(&error, &source, Some(provider)));
                }
            }
        }
    }
}

/// `"oidc.<key>"` for a known key, `"oidc"` otherwise.
fn qualified(key: &str) -> &'static str {
    KEYS.iter()
        .find(|q| key_name(q) == key)
        .copied()
        .unwrap_or("oidc")
}

/// The bare names of the settings (`issuer`, `client_id`, ...), in declaration order.
fn names() -> impl Iterator<Item = &'static str> + Clone {
    KEYS.iter().map(|k| key_name(k))
}

/// Whether `name` is a setting.
fn is_key(name: &str) -> bool {
    qualified(name) != "oidc"
}

fn env_var(key: &str) -> String {
    format!("ROCKET_OIDC_{}", key.to_ascii_uppercase())
}

/// `"; did you mean `client_id`?"` when `name` is one of `keys` spelled another way
/// (`clientId`, `client-id`, `CLIENT_ID`), else a list of the known keys.
fn did_you_mean<'a>(name: &str, keys: impl Iterator<Item = &'a str> + Clone) -> String {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    match keys.clone().find(|key| squash(key) == squash(name)) {
        Some(key) => format!("; did you mean `{key}`?"),
        None => format!("; the settings are {}", keys.collect::<Vec<_>>().join(", ")),
    }
}

/// Where the value of `key` (a path in the `oidc` table) came from, as ` (from ...)`, for
/// messages.
fn source_of(figment: &Figment, merged: &Figment, key: &str, overridden: &[String]) -> String {
    if overridden.iter().any(|o| o == key) {
        let top = format!("oidc_{}", key.replace('.', "_"));
        return match figment.find_metadata(&top) {
            Some(md) if md.name.contains("environment") => {
                format!(" (from {})", env_var(&key.replace('.', "_")))
            }
            Some(md) => format!(" (from the top-level key `{top}` in {})", md.name),
            None => format!(" (from the top-level key `{top}`)"),
        };
    }
    if let Some(rest) = key.strip_prefix("providers.") {
        if figment
            .find_value(&format!("oidc_providers.{rest}"))
            .is_ok()
        {
            return " (from ROCKET_OIDC_PROVIDERS)".into();
        }
    }
    match merged.find_metadata(key) {
        Some(md) if md.name.contains("environment") => " (from ROCKET_OIDC)".into(),
        Some(md) => match &md.source {
            Some(source) => format!(" (in {} {source})", md.name),
            None => format!(" (in {})", md.name),
        },
        None => String::new(),
    }
}

/// A figment extraction error as a problem, without any value that could be the secret; of
/// the top level, or of the table of `provider`.
fn extraction_problem(
    error: &figment::Error,
    source: &str,
    provider: Option<&str>,
) -> ConfigProblem {
    let field = error.path.first().map(String::as_str).unwrap_or("");
    let key = match provider {
        Some(provider) if PROVIDER_KEYS.contains(&field) => {
            format!("oidc.providers.{provider}.{field}")
        }
        Some(provider) => format!("oidc.providers.{provider}"),
        // The one nested table, `[oidc.refresh]`: name its field.
        None if field == "refresh" => match error.path.get(1) {
            Some(nested) => super::refresh::qualified(nested).to_owned(),
            None => "oidc.refresh".to_owned(),
        },
        None => qualified(field).to_owned(),
    };
    let is_secret = key.ends_with(".client_secret") || key.ends_with(".client_key");
    let message = match &error.kind {
        Kind::UnknownField(name, _) if key.starts_with("oidc.refresh") => format!(
            "`{name}` is not a refresh setting{}",
            super::refresh::did_you_mean(name)
        ),
        Kind::UnknownField(name, _) => {
            format!("`{name}` is not a setting{}", did_you_mean(name, names()))
        }
        Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
            let expected = match expected.as_str() {
                "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)",
                "struct RefreshConfig" => "a table ([default.oidc.refresh] in Rocket.toml)",
                other => other,
            };
            format!("expected {expected}, found {}", describe(actual))
        }
        Kind::UnknownVariant(given, variants) if !is_secret => format!(
            "`{given}` is not one of {}",
            variants
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Kind::InvalidLength(len, expected) => format!("expected {expected}, found {len} items"),
        Kind::ISizeOutOfRange(_) | Kind::USizeOutOfRange(_) => "the number is out of range".into(),
        _ if is_secret => "the value cannot be read".into(),
        other => other.to_string(),
    };
    ConfigProblem::new(key, format!("{message}{source}"))
}

/// The kind of a value found, never the value itself (it may be a secret).
fn describe(actual: &Actual) -> &'static str {
    match actual {
        Actual::Bool(_) => "a boolean",
        Actual::Signed(n) if *n < 0 => "a negative integer",
        Actual::Unsigned(_) | Actual::Signed(_) => "an integer",
        Actual::Float(_) => "a float",
        Actual::Char(_) | Actual::Str(_) => "a string",
        Actual::Bytes(_) => "bytes",
        Actual::Unit | Actual::Option => "nothing",
        Actual::Seq => "an array",
        Actual::Map => "a table",
        _ => "another kind of value",
    }
}
