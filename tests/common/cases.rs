//! How a login ends: walk one with the issuer's faults switched on, or send one callback, and
//! assert the ending with everything that goes with it: the page, the cookies, and the calls the
//! app made to the provider.

use std::collections::BTreeMap;
use std::fmt::Debug;

use rocket_openid_connect::dev_issuer::{DevIssuer, Fault};

use super::{login_url, session_cookies, tx_cookies, App, Browser, Multi, Resp, Setup};

/// An app and the issuers it signs in at: one ([`Setup`]) or one per provider ([`Multi`]).
/// The calls a refused callback must not make are counted at all of them.
pub trait Scene {
    fn app(&self) -> &App;
    fn issuers(&self) -> Vec<&DevIssuer>;
}

impl Scene for Setup {
    fn app(&self) -> &App {
        &self.app
    }
    fn issuers(&self) -> Vec<&DevIssuer> {
        vec![&self.issuer]
    }
}

impl Scene for Multi {
    fn app(&self) -> &App {
        &self.app
    }
    fn issuers(&self) -> Vec<&DevIssuer> {
        self.issuers.iter().map(|(_, i)| i).collect()
    }
}

/// `sub` of `ada`, the user the issuer logs in automatically.
pub const ADA: &str = "ada-lovelace-1815";

/// What a login must end in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expect {
    /// Back on `/protected` as ada, with a session.
    SignedIn,
    /// An error page with this status and error code, and no session (see [`assert_refused`]).
    Rejected(u16, &'static str),
}

/// The end of a login whose ID token fails validation (OIDC Core §3.1.3.7).
pub const ID_TOKEN_REJECTED: Expect = Expect::Rejected(401, "invalid_id_token");

/// Switches exactly `faults` on, runs one login from `/login?return_to=/protected` in a fresh
/// browser and checks it ends as `expect`. Signed in: back on `/protected` as ada with a
/// session, the transaction cookie gone, after one code exchange and one userinfo call.
/// Rejected: all that [`assert_refused`] checks. Returns the last response.
pub async fn login_case(s: &Setup, faults: &[Fault], expect: Expect) -> Resp {
    s.issuer.clear_faults();
    for fault in faults {
        s.issuer.set_fault(fault.clone());
    }
    let b = Browser::new();
    let first = b.get(&login_url(&s.app, "/protected")).await;
    assert_eq!(first.status, 303, "{faults:?}: /login: {}", first.body);
    let before = Before::take(s, &b);
    let last = b.follow(first).await.pop().unwrap();
    match expect {
        Expect::SignedIn => {
            assert_eq!(last.status, 200, "{faults:?}: {}", last.body);
            assert_eq!(last.url, s.app.url("/protected"), "{faults:?}");
            assert_eq!(last.body, format!("Only for {ADA}"), "{faults:?}");
            assert!(!session_cookies(&b, &s.app).is_empty(), "{faults:?}");
            assert!(
                tx_cookies(&b, &s.app).is_empty(),
                "{faults:?}: transaction kept"
            );
            assert_eq!(
                before.calls_since(s),
                Calls {
                    token: 1,
                    userinfo: 1
                },
                "{faults:?}: one code exchange, one userinfo call"
            );
        }
        Expect::Rejected(status, code) => {
            assert_refused(s, &b, before, &last, status, code, &faults).await;
        }
    }
    last
}

/// Sends browser `b` to the callback `url` and asserts that the app refuses it with `status` and
/// error `code`, as [`assert_refused`] checks. Returns the error page.
pub async fn callback_refused(
    s: &impl Scene,
    b: &Browser,
    url: &str,
    status: u16,
    code: &'static str,
) -> Resp {
    let before = Before::take(s, b);
    let resp = b.get(url).await;
    let case: String = url.chars().take(160).collect();
    assert_refused(s, b, before, &resp, status, code, &case).await;
    resp
}

/// The one check of a refused callback, whoever sent it and whatever refused it:
/// - `resp` has `status` and names `code` on its error page;
/// - the browser's session cookies are as they were (a refused callback neither signs in nor
///   out), and a browser without a session is still sent to log in from `/protected`;
/// - the pending login is spent or kept, and the app made exactly the token and userinfo calls,
///   that `code` implies (see [`Reach::of`]): a callback refused before the exchange makes no
///   token call, and a rejected ID token never leads to a userinfo call.
///
/// `before` is taken just before the callback; `case` names it in failure messages.
pub async fn assert_refused(
    s: &impl Scene,
    b: &Browser,
    before: Before,
    resp: &Resp,
    status: u16,
    code: &'static str,
    case: &dyn Debug,
) {
    assert_eq!(resp.status, status, "{case:?}: {}", resp.body);
    assert!(
        resp.body.contains(&format!("<code>{code}</code>")),
        "{case:?}: expected {code}: {}",
        resp.body
    );
    let reach = Reach::of(code);
    let after = b.cookies(&s.app().base);
    let sessions_before = named(&before.jar, "oidc_session");
    let sessions = named(&after, "oidc_session");
    assert!(
        sessions == sessions_before,
        "{case:?}: session cookies changed: {:?} -> {:?}",
        sessions_before.keys(),
        sessions.keys()
    );
    let (pending_before, pending) = (named(&before.jar, "oidc_tx_"), named(&after, "oidc_tx_"));
    if reach.spends_login {
        assert!(
            pending.len() + 1 == pending_before.len()
                && pending
                    .iter()
                    .all(|(k, v)| pending_before.get(k) == Some(v)),
            "{case:?}: the pending login is not spent: {:?} -> {:?}",
            pending_before.keys(),
            pending.keys()
        );
    } else {
        assert!(
            pending == pending_before,
            "{case:?}: pending logins changed: {:?} -> {:?}",
            pending_before.keys(),
            pending.keys()
        );
    }
    assert_eq!(
        before.calls_since(s),
        reach.calls,
        "{case:?}: calls to the provider"
    );
    if sessions_before.is_empty() {
        let protected = b.get(&s.app().url("/protected")).await;
        assert_eq!(protected.status, 303, "{case:?}: no session");
        assert!(
            protected
                .location()
                .is_some_and(|l| l.starts_with("/login?")),
            "{case:?}: {:?}",
            protected.location()
        );
    }
}

/// The browser's cookies for the app and the issuer's call counts, taken just before a callback.
pub struct Before {
    jar: BTreeMap<String, String>,
    calls: Calls,
}

impl Before {
    pub fn take(s: &impl Scene, b: &Browser) -> Before {
        Before {
            jar: b.cookies(&s.app().base),
            calls: Calls::now(s),
        }
    }

    fn calls_since(&self, s: &impl Scene) -> Calls {
        let now = Calls::now(s);
        Calls {
            token: now.token - self.calls.token,
            userinfo: now.userinfo - self.calls.userinfo,
        }
    }
}

/// Calls to the token and userinfo endpoints, of all the scene's issuers.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Calls {
    token: u64,
    userinfo: u64,
}

impl Calls {
    fn now(s: &impl Scene) -> Calls {
        s.issuers().iter().fold(
            Calls {
                token: 0,
                userinfo: 0,
            },
            |sum, issuer| {
                let counters = issuer.counters();
                Calls {
                    token: sum.token + counters.token,
                    userinfo: sum.userinfo + counters.userinfo,
                }
            },
        )
    }
}

/// How far the callback got before refusing with an error code, in the order it works: parse
/// the parameters, find the pending login by `state` (RFC 6749 §4.1.2, RFC 9700 §4.7), check
/// that it went to this callback's provider (RFC 9700 §4.4.2), then `iss` (RFC 9207 §2.4) and
/// only then the provider's error, exchange the code and validate the ID token
/// (OIDC Core §3.1.3), fetch userinfo (§5.3.2), write the session.
struct Reach {
    /// Whether the pending login is gone afterwards.
    spends_login: bool,
    calls: Calls,
}

impl Reach {
    fn of(code: &str) -> Reach {
        let (spends_login, token, userinfo) = match code {
            // A malformed callback, or one that no pending login of this browser matches: any
            // pending login stays, for the genuine callback.
            "bad_request" | "unknown_state" => (false, 0, 0),
            // The provider's error response, the wrong issuer, or the answer to a login sent to
            // another provider (mix-up): refused before the exchange, at any provider.
            "provider_error" | "issuer_mismatch" | "provider_mismatch" => (true, 0, 0),
            // The exchange failed, or its ID token did: no userinfo call.
            "token_endpoint" | "invalid_id_token" => (true, 1, 0),
            // Userinfo failed, or (in these tests) the session it made could not be written.
            "userinfo" | "internal" => (true, 1, 1),
            other => panic!("no expectation for error code {other:?}: add it to Reach::of"),
        };
        Reach {
            spends_login,
            calls: Calls { token, userinfo },
        }
    }
}

/// The cookies of `jar` whose names start with `prefix`.
fn named(jar: &BTreeMap<String, String>, prefix: &str) -> BTreeMap<String, String> {
    jar.iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}
