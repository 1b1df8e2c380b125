//! OpenID Connect login for Rocket apps.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod config;

pub use config::{ClientAuthMethod, Config, ConfigError, ConfigProblem};
