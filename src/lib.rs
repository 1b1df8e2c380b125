//! OpenID Connect login for Rocket apps.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
