//! The Redis store against a real `redis-server` (started by the tests on a free loopback
//! port, stopped by PID): launch failures, the password, propagation between two instances,
//! a crash and restart of Redis, a hung Redis, the replay cache, and refresh coordination.
//! Run with `cargo test --features redis --test redis` (`.ci/run` does, after installing
//! Debian's `redis-server`).

#[path = "../common/mod.rs"]
#[allow(dead_code)]
mod common;
mod server;
mod store;

mod apps;
mod refresh;
