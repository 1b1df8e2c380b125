//! Reading [`Config`] from Rocket's figment: the `oidc` table over the defaults, then the
//! `ROCKET_OIDC_<KEY>` environment variables, every problem reported at once with its origin.

use rocket::figment::error::{Actual, Kind};
use rocket::figment::providers::Serialized;
use rocket::figment::{self, Figment};

use super::{key_name, Config, ConfigError, ConfigProblem, KEYS};

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
                    "oidc",
                    "must be a table of settings, e.g. [default.oidc] in Rocket.toml or \
                     ROCKET_OIDC={issuer=\"...\",client_id=\"...\"} in the environment"
                        .into(),
                ));
            }
        }

        // Rocket's own `ROCKET_` environment provider is global and does not split keys, so
        // `ROCKET_OIDC_CLIENT_SECRET` arrives as the top-level key `oidc_client_secret`.
        let mut merged = figment
            .focus("oidc")
            .join(Serialized::defaults(Config::default()));
        let mut overridden = Vec::new();
        for key in names() {
            if let Ok(value) = figment.find_value(&format!("oidc_{key}")) {
                merged = merged.merge(Serialized::global(key, value));
                overridden.push(key);
            }
        }
        if let Ok(top) = figment.extract::<figment::value::Dict>() {
            for name in top.keys() {
                if let Some(rest) = name.strip_prefix("oidc_") {
                    if !is_key(rest) {
                        problems.push(ConfigProblem::new(
                            "oidc",
                            format!(
                                "`{}` (the top-level key `{name}`) is not a setting{}",
                                env_var(rest),
                                did_you_mean(rest)
                            ),
                        ));
                    }
                }
            }
        }

        // Serde stops at the first bad field of a struct, so each key is read on its own over
        // the defaults, to report every bad one at once.
        let table = merged.extract::<figment::value::Dict>().unwrap_or_default();
        for (name, value) in &table {
            if !is_key(name) {
                problems.push(ConfigProblem::new(
                    "oidc",
                    format!("`{name}` is not a setting{}", did_you_mean(name)),
                ));
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
                        problems.push(extraction_problem(&error, &source));
                    }
                }
            }
        }
        if !problems.is_empty() {
            let order = |p: &ConfigProblem| {
                let key = if p.key.starts_with("oidc.refresh.") {
                    "oidc.refresh"
                } else {
                    p.key
                };
                KEYS.iter().position(|k| *k == key)
            };
            problems.sort_by_key(order);
            return Err(ConfigError { problems });
        }
        merged.extract::<Config>().map_err(|errors| ConfigError {
            problems: errors
                .into_iter()
                .map(|error| extraction_problem(&error, ""))
                .collect(),
        })
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
fn names() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|k| key_name(k))
}

/// Whether `name` is a setting.
fn is_key(name: &str) -> bool {
    qualified(name) != "oidc"
}

fn env_var(key: &str) -> String {
    format!("ROCKET_OIDC_{}", key.to_ascii_uppercase())
}

/// `"; did you mean `client_id`?"` when `name` is a known key spelled another way
/// (`clientId`, `client-id`, `CLIENT_ID`), else a list of the known keys.
fn did_you_mean(name: &str) -> String {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    match names().find(|key| squash(key) == squash(name)) {
        Some(key) => format!("; did you mean `{key}`?"),
        None => format!(
            "; the settings are {}",
            names().collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Where the value of `key` came from, as ` (from ...)`, for messages.
fn source_of(figment: &Figment, merged: &Figment, key: &str, overridden: &[&str]) -> String {
    if overridden.contains(&key) {
        let top = format!("oidc_{key}");
        return match figment.find_metadata(&top) {
            Some(md) if md.name.contains("environment") => format!(" (from {})", env_var(key)),
            Some(md) => format!(" (from the top-level key `{top}` in {})", md.name),
            None => format!(" (from the top-level key `{top}`)"),
        };
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

/// A figment extraction error as a problem, without any value that could be the secret.
fn extraction_problem(error: &figment::Error, source: &str) -> ConfigProblem {
    let field = error.path.first().map(String::as_str).unwrap_or("");
    let mut key = qualified(field);
    // The one nested table, `[oidc.refresh]`: name its field.
    if key == "oidc.refresh" {
        if let Some(nested) = error.path.get(1) {
            key = super::refresh::qualified(nested);
        }
    }
    let message = match &error.kind {
        Kind::UnknownField(name, _) if key.starts_with("oidc.refresh") => format!(
            "`{name}` is not a refresh setting{}",
            super::refresh::did_you_mean(name)
        ),
        Kind::UnknownField(name, _) => format!("`{name}` is not a setting{}", did_you_mean(name)),
        Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
            let expected = match expected.as_str() {
                "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)",
                "struct RefreshConfig" => "a table ([default.oidc.refresh] in Rocket.toml)",
                other => other,
            };
            format!("expected {expected}, found {}", describe(actual))
        }
        Kind::UnknownVariant(given, variants) if key != "oidc.client_secret" => format!(
            "`{given}` is not one of {}",
            variants
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Kind::InvalidLength(len, expected) => format!("expected {expected}, found {len} items"),
        Kind::ISizeOutOfRange(_) | Kind::USizeOutOfRange(_) => "the number is out of range".into(),
        _ if key == "oidc.client_secret" => "the value cannot be read".into(),
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
