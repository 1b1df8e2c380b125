//! [`ConfigError`]: every problem of a configuration, each naming its key and the fix.

use std::fmt;

/// A configuration that cannot be used: every problem found, each naming its key.
///
/// Its `Display` writes one line per problem, `<key>: <message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    /// The problems, in the order of the keys.
    pub problems: Vec<ConfigProblem>,
}

/// One wrong or missing setting, and what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigProblem {
    /// The setting, e.g. `"oidc.issuer"`, or `"oidc.providers.okta.client_id"` for a key of
    /// provider table `okta`; `"oidc"` for the table itself.
    pub key: String,
    /// What is wrong and how to fix it. It never contains the client secret.
    pub message: String,
}

impl ConfigProblem {
    pub(super) fn new(key: String, message: String) -> Self {
        ConfigProblem { key, message }
    }
}

impl ConfigError {
    /// An error of one problem, found after validation (at discovery, say).
    pub(crate) fn single(key: &str, message: String) -> ConfigError {
        ConfigError {
            problems: vec![ConfigProblem::new(key.into(), message)],
        }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
