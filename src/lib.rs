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

/// Crate internals for the benches and fuzz targets. **Not a public API**: anything here may
/// change or vanish in any release.
#[doc(hidden)]
pub mod __internals {
    // -- benches (issue 8): session codec, user context, the callback's own work ----------------
    pub use crate::guards::user_context;
    pub use crate::provider::{validate_id_token_with_keys, TokenResponse, ValidatedIdToken};
    pub use crate::routes::{check_callback, new_session};
    pub use crate::session::{
        clear_session, decode_chunks, encode_chunks, read_session, tx_cookie_name, write_session,
        write_transaction, CookieOptions, SessionData, Transaction,
    };
    // -- end benches --------------------------------------------------------------------------
}
