//! The harness shared by the browser suite (`tests/interop.rs`) and the HTTP-client suite
//! (`tests/http.rs`): processes started and stopped by PID, the test provider, the quickstart,
//! Chromium, and an HTTP agent standing in for a browser.
#![allow(dead_code)] // Each test binary uses part of the harness.

pub mod app;
pub mod browser;
pub mod http;
pub mod procs;
pub mod provider;
