//! Test harness: real Rocket servers on loopback, a browser-like HTTP client with a cookie jar,
//! and a log capture to assert what the fairing says (and that it never says a secret).
//!
//! Each test binary does `mod common; use common::*;`, so this file only declares the parts,
//! each with one job, and re-exports them:
//! - `log`: the log capture;
//! - `app`: servers, the test app and its routes, `setup`, the fairing-failure check;
//! - `browser`: `Browser` (cookie jar, navigation headers, redirects) and `Resp`;
//! - `flows`: the steps of a login and what the jar holds after them;
//! - `cases`: how a login or a callback ends, asserted with all that goes with the ending;
//! - `providers`: several providers, a development issuer each, and one app;
//! - `session`: the browser's session cookie opened and resealed, to age a session without
//!   sleeping.

// Every test binary compiles its own copy of this harness and uses only part of it, so a helper
// that one binary leaves unused is not dead: `quickstart.rs` launches no test app and reads no
// log, `fairing.rs` walks no login, `conformance.rs` sends no form, only `flow.rs` reads
// OPEN_REDIRECT_TRICKS. The allows below say so, module by module. A helper that no binary uses
// must go: build each test binary with them removed, and compare the warnings.
#[allow(dead_code)]
mod app;
#[allow(dead_code)]
mod browser;
#[allow(dead_code)]
mod cases;
#[allow(dead_code)]
mod flows;
#[allow(dead_code)]
mod log;
#[allow(dead_code)]
mod providers;
#[allow(dead_code)]
mod session;
#[allow(dead_code)]
mod open_redirects {
    // One list for the unit tests (src/return_to.rs) and the HTTP tests.
    include!("open_redirects.rs");
}

pub use self::app::*;
pub use self::browser::*;
#[allow(unused_imports)] // Only conformance.rs and flow.rs assert how logins end.
pub use self::cases::*;
#[allow(unused_imports)] // fairing.rs and quickstart.rs walk no login.
pub use self::flows::*;
pub use self::log::*;
#[allow(unused_imports)] // Only flow.rs tries the payloads.
pub use self::open_redirects::OPEN_REDIRECT_TRICKS;
#[allow(unused_imports)] // Only the binaries with several providers use them.
pub use self::providers::*;
#[allow(unused_imports)] // Only flow.rs ages sessions.
pub use self::session::*;

/// A development-only secret key for test apps (64 bytes, base64). Never use it anywhere else.
pub const TEST_SECRET_KEY: &str =
    "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk0Xw0HjxM1kyqq8hYUGFspuV6Kea4dPKw4q0S4UOnc9g==";
