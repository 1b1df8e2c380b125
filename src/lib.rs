//! OpenID Connect login for Rocket apps.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod error;
mod fairing;
mod guards;
mod http;
mod provider;
mod routes;
mod session;
mod util;

pub use config::{ClientAuthMethod, Config, ConfigError, ConfigProblem};
pub use error::{LoginError, StartupError};
pub use fairing::{OidcFairing, FAIRING_NAME};
pub use guards::{unauthorized, AuthenticatedUser, Tokens, Unauthorized, UserContext, UserInfo};
pub use routes::sanitize_return_to;

#[cfg(feature = "dev-issuer")]
pub mod dev_issuer;
