//! Timings, printed, never asserted. Run with
//! `cargo test [--release] --test dev_issuer timing -- --ignored --nocapture`.

use std::time::Instant;

use rocket_openid_connect::dev_issuer::DevIssuer;

use crate::*;

#[rocket::async_test]
#[ignore = "prints timings; run by hand"]
async fn timing_start_and_login() {
    // The first start parses the fixture keys.
    let started = Instant::now();
    let issuer = DevIssuer::start().await.unwrap();
    println!("first start: {:?}", started.elapsed());
    issuer.stop().await;
    let runs = 20;
    let started = Instant::now();
    for _ in 0..runs {
        DevIssuer::start().await.unwrap().stop().await;
    }
    println!("start + stop: {:?} each", started.elapsed() / runs);
    let issuer = DevIssuer::start().await.unwrap();
    strict_login(&issuer).await.unwrap();
    let started = Instant::now();
    for _ in 0..runs {
        strict_login(&issuer).await.unwrap();
    }
    println!(
        "strict login (discovery .. userinfo): {:?} each",
        started.elapsed() / runs
    );
}
