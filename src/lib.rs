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

/// Crate internals re-exported for the fuzz targets in `fuzz/` only. Not part of the API: no
/// semver promise, may change in any release.
#[doc(hidden)]
pub mod __internals {
    pub use crate::routes::{parse_callback_query, CallbackParams};
    pub use crate::session::{decode_chunks, encode_chunks, SessionData};
}
