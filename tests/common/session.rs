//! The session cookie a browser holds, opened and resealed with the test apps' secret key: so a
//! test can move a session's times into the past (an idle or an old session) without sleeping.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rocket::http::private::cookie::{Cookie, CookieJar, Key};
use rocket_openid_connect::__internals::{decode_chunks, encode_chunks, SessionData};

use super::app::App;
use super::browser::Browser;
use super::TEST_SECRET_KEY;

fn key() -> Key {
    Key::from(&STANDARD.decode(TEST_SECRET_KEY).unwrap())
}

fn chunk_name(i: usize) -> String {
    match i {
        0 => "oidc_session".into(),
        i => format!("oidc_session.{i}"),
    }
}

/// The session `b` holds for `app`, decrypted.
pub fn browser_session(b: &Browser, app: &App) -> SessionData {
    let cookies = b.cookies(&app.base);
    let key = key();
    decode_chunks(|i| {
        let name = chunk_name(i);
        let value = cookies.get(&name)?;
        // The jar keeps values as Rocket sent them, percent-encoded.
        let mut jar = CookieJar::new();
        jar.add_original(
            Cookie::parse_encoded(format!("{name}={value}"))
                .ok()?
                .into_owned(),
        );
        jar.private(&key).get(&name).map(|c| c.value().to_owned())
    })
    .expect("the browser holds a session of this app")
}

/// Replaces the session `b` holds for `app` with `data`, sealed as the app seals it.
pub fn set_browser_session(b: &Browser, app: &App, data: &SessionData) {
    let key = key();
    for i in 0..=8 {
        b.remove_cookie(&app.base, &chunk_name(i));
    }
    for (i, chunk) in encode_chunks(data).unwrap().into_iter().enumerate() {
        let mut jar = CookieJar::new();
        jar.private_mut(&key).add(Cookie::new(chunk_name(i), chunk));
        let sealed = jar.get(&chunk_name(i)).unwrap().encoded().to_string();
        let (_, value) = sealed.split_once('=').unwrap();
        b.set_cookie(&app.base, &chunk_name(i), value);
    }
}

/// `data` as if it had been created `created_secs` and last used `seen_secs` earlier.
pub fn aged(data: &SessionData, created_secs: i64, seen_secs: i64) -> SessionData {
    SessionData {
        created: data.created - created_secs,
        seen: data.seen - seen_secs,
        ..data.clone()
    }
}

/// Moves the session `b` holds for `app` back in time (see [`aged`]).
pub fn age_browser_session(b: &Browser, app: &App, created_secs: i64, seen_secs: i64) {
    let data = aged(&browser_session(b, app), created_secs, seen_secs);
    set_browser_session(b, app, &data);
}
