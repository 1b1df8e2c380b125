//! OpenID Connect login for Rocket apps.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(feature = "dev-issuer")]
pub mod dev_issuer;
