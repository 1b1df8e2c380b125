//! The single-flight coordinator at exact times: a manual clock, futures that count their runs.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::refresh::RefreshedTokens;

/// A clock the test moves by hand, in milliseconds.
#[derive(Clone, Default)]
struct Manual(Arc<AtomicU64>);

impl Manual {
    fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }
    fn clock(&self) -> Clock {
        let t = self.0.clone();
        Arc::new(move || Duration::from_millis(t.load(Ordering::SeqCst)))
    }
}

fn coordinator(clock: &Manual, max_entries: usize) -> LocalCoordinator {
    LocalCoordinator::with_clock(
        Duration::from_secs(30),
        Duration::from_secs(5),
        max_entries,
        clock.clock(),
    )
}

fn tokens(n: usize) -> RefreshedTokens {
    RefreshedTokens {
        access_token: format!("access-{n}"),
        access_expires_at: Some(1_000),
        refresh_token: Some(format!("refresh-{n}")),
        id_token: None,
        subject: None,
        refreshed_at: 0,
    }
}

/// A refresh that counts its runs, waits `delay`, then gives run number n's tokens (or fails).
fn counted(
    runs: &Arc<AtomicUsize>,
    delay: Duration,
    fail: bool,
) -> BoxFuture<'static, RefreshResult> {
    let runs = runs.clone();
    Box::pin(async move {
        let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(delay).await;
        if fail {
            Err(RefreshError::InvalidGrant { description: None })
        } else {
            Ok(tokens(n))
        }
    })
}

fn key(token: &str) -> RefreshKey {
    RefreshKey::new("https://op.example", token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_callers_share_one_refresh() {
    let clock = Manual::default();
    let c = Arc::new(coordinator(&clock, MAX_ENTRIES));
    let runs = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (c, runs) = (c.clone(), runs.clone());
            tokio::spawn(async move {
                c.run(
                    key("rt-1"),
                    counted(&runs, Duration::from_millis(50), false),
                )
                .await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(tokens(1)));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(c.entries(), 1);
}

#[tokio::test]
async fn a_result_is_cached_for_its_ttl_then_refreshed_again() {
    let clock = Manual::default();
    let c = coordinator(&clock, MAX_ENTRIES);
    let runs = Arc::new(AtomicUsize::new(0));
    let run = || c.run(key("rt"), counted(&runs, Duration::ZERO, false));
    assert_eq!(run().await, Ok(tokens(1)));
    clock.set(29_999);
    assert_eq!(run().await, Ok(tokens(1)), "still cached 1 ms before 30 s");
    clock.set(30_000);
    assert_eq!(run().await, Ok(tokens(2)), "expired at 30 s exactly");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failure_is_cached_for_the_shorter_failure_ttl() {
    let clock = Manual::default();
    let c = coordinator(&clock, MAX_ENTRIES);
    let runs = Arc::new(AtomicUsize::new(0));
    let fail = || c.run(key("rt"), counted(&runs, Duration::ZERO, true));
    let refused = Err(RefreshError::InvalidGrant { description: None });
    assert_eq!(fail().await, refused);
    clock.set(4_999);
    assert_eq!(fail().await, refused);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    clock.set(5_000);
    assert_eq!(fail().await, refused);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn different_refresh_tokens_and_providers_do_not_share() {
    let clock = Manual::default();
    let c = coordinator(&clock, MAX_ENTRIES);
    let runs = Arc::new(AtomicUsize::new(0));
    let quick = || counted(&runs, Duration::ZERO, false);
    assert_eq!(c.run(key("a"), quick()).await, Ok(tokens(1)));
    assert_eq!(c.run(key("b"), quick()).await, Ok(tokens(2)));
    let other = RefreshKey::new("https://other.example", "a");
    assert_eq!(c.run(other, quick()).await, Ok(tokens(3)));
    assert_eq!(c.run(key("a"), quick()).await, Ok(tokens(1)));
    assert_eq!(c.entries(), 3);
}

#[tokio::test]
async fn the_refresh_completes_and_is_cached_when_its_caller_goes_away() {
    let clock = Manual::default();
    let c = coordinator(&clock, MAX_ENTRIES);
    let runs = Arc::new(AtomicUsize::new(0));
    // The request that started it is dropped at once (the client disconnected).
    drop(c.run(key("rt"), counted(&runs, Duration::from_millis(30), false)));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let again = c
        .run(key("rt"), counted(&runs, Duration::ZERO, false))
        .await;
    assert_eq!(
        again,
        Ok(tokens(1)),
        "the result is there, not a second call"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_panicking_refresh_fails_its_waiters_and_is_forgotten() {
    let clock = Manual::default();
    let c = coordinator(&clock, MAX_ENTRIES);
    let panics: BoxFuture<'static, RefreshResult> = Box::pin(async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        panic!("a bug in a refresh")
    });
    match c.run(key("rt"), panics).await {
        Err(RefreshError::Unavailable(reason)) => assert!(reason.contains("interrupted")),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.entries(), 0);
    let runs = Arc::new(AtomicUsize::new(0));
    let next = c
        .run(key("rt"), counted(&runs, Duration::ZERO, false))
        .await;
    assert_eq!(next, Ok(tokens(1)));
}

#[tokio::test]
async fn memory_is_bounded_by_expiry_and_by_the_cap() {
    let clock = Manual::default();
    let c = coordinator(&clock, 2_000);
    let runs = Arc::new(AtomicUsize::new(0));
    for i in 0..1_024 {
        let _ = c
            .run(
                key(&format!("rt-{i}")),
                counted(&runs, Duration::ZERO, false),
            )
            .await;
    }
    assert_eq!(c.entries(), 1_024);
    // All expired: the next new key sweeps them (the map had reached its sweep size).
    clock.set(30_000);
    let _ = c
        .run(key("late"), counted(&runs, Duration::ZERO, false))
        .await;
    assert_eq!(c.entries(), 1);

    // A full cache still shares results but stops caching new ones.
    let tiny = coordinator(&clock, 3);
    for i in 0..10 {
        let _ = tiny
            .run(
                key(&format!("rt-{i}")),
                counted(&runs, Duration::ZERO, false),
            )
            .await;
    }
    assert_eq!(tiny.entries(), 3, "the cap");
}
