//! The log capture: every line the app, the fairing and Rocket log, so tests can assert what the
//! fairing says (and that it never says a secret).

use std::sync::{Mutex, OnceLock};

struct Capture;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {}: {}", record.level(), record.target(), record.args());
        if std::env::var_os("TEST_LOG").is_some() {
            eprintln!("{line}");
        }
        LINES.lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

/// Installs the capturing logger before Rocket can install its own.
pub fn init_logging() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        log::set_boxed_logger(Box::new(Capture)).expect("no other logger");
        log::set_max_level(log::LevelFilter::Info);
    });
}

/// Every captured log line (of every test in this binary) containing all `needles`.
pub fn log_lines_with(needles: &[&str]) -> Vec<String> {
    LINES
        .lock()
        .unwrap()
        .iter()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .cloned()
        .collect()
}

/// Every captured line.
pub fn all_log_lines() -> Vec<String> {
    LINES.lock().unwrap().clone()
}

/// Asserts that one captured line contains all of `parts`. All tests of a binary share the log,
/// so make `parts[0]` something unique to the test (its client id or issuer URL); the lines
/// containing it are shown when none has all parts.
pub fn assert_logged(parts: &[&str]) {
    assert!(
        !log_lines_with(parts).is_empty(),
        "no log line contains all of {parts:?}; the lines with {:?}:\n{}",
        parts[0],
        log_lines_with(&parts[..1]).join("\n")
    );
}

/// Asserts that no captured line (of any test in this binary) contains `secret`.
pub fn assert_not_logged(secret: &str) {
    let lines = log_lines_with(&[secret]);
    assert!(lines.is_empty(), "secret in the log: {secret}");
}
