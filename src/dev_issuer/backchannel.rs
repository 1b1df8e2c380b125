//! OpenID Connect Back-Channel Logout 1.0: logout tokens (§2.4), and POSTing them to the
//! clients that hold a grant of the user (§2.5), with the logout-token faults applied.

use std::time::Duration;

use rocket::serde::json::serde_json::{json, Map, Value};
use rocket::tokio::task::JoinSet;

use super::counters::BackchannelLogout;
use super::faults::{Fault, Faults};
use super::jwt;
use super::state::{random_token, unix_now, Inner, State};
use super::tenants;

/// The event a logout token announces (§2.4).
pub(crate) const BACKCHANNEL_LOGOUT_EVENT: &str =
    "http://schemas.openid.net/event/backchannel-logout";

/// The header `typ` of logout tokens (§2.4: "explicitly typed").
pub(crate) const LOGOUT_TOKEN_TYP: &str = "logout+jwt";

/// `exp - iat` of a logout token: the spec asks for a short life (§2.4: "RECOMMENDED to be at
/// most two minutes").
pub(crate) const LOGOUT_TOKEN_LIFETIME: u64 = 120;

/// The wait for a client's answer when the builder sets none.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A valid logout token's claims: `iss`, `aud`, `iat`, `exp`, a fresh `jti`, the event, and
/// `sub` and/or `sid`; never `nonce`.
pub(crate) fn claims(
    issuer: &str,
    client_id: &str,
    sub: Option<&str>,
    sid: Option<&str>,
    now: u64,
) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("aud".into(), json!(client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + LOGOUT_TOKEN_LIFETIME));
    claims.insert("jti".into(), json!(random_token()));
    claims.insert("events".into(), json!({ BACKCHANNEL_LOGOUT_EVENT: {} }));
    if let Some(sub) = sub {
        claims.insert("sub".into(), json!(sub));
    }
    if let Some(sid) = sid {
        claims.insert("sid".into(), json!(sid));
    }
    claims
}

/// `claims` with the logout-token claim faults applied.
fn corrupt(mut claims: Map<String, Value>, faults: &Faults, now: u64) -> Map<String, Value> {
    for fault in &faults.0 {
        match fault {
            Fault::LogoutWrongIssuer => {
                claims.insert("iss".into(), json!("http://wrong-issuer.invalid"));
            }
            Fault::LogoutWrongAudience => {
                claims.insert("aud".into(), json!("another-client"));
            }
            Fault::LogoutIatInFuture => {
                claims.insert("iat".into(), json!(now + 3600));
                claims.insert("exp".into(), json!(now + 3600 + LOGOUT_TOKEN_LIFETIME));
            }
            Fault::LogoutExpired => {
                let exp = now.saturating_sub(3600);
                claims.insert("exp".into(), json!(exp));
                claims.insert(
                    "iat".into(),
                    json!(exp.saturating_sub(LOGOUT_TOKEN_LIFETIME)),
                );
            }
            Fault::LogoutMissingEvents => {
                claims.remove("events");
            }
            Fault::LogoutEventsNotObject => {
                claims.insert(
                    "events".into(),
                    json!({ BACKCHANNEL_LOGOUT_EVENT: "logout" }),
                );
            }
            Fault::LogoutNoSidNoSub => {
                claims.remove("sid");
                claims.remove("sub");
            }
            Fault::LogoutWithNonce => {
                claims.insert("nonce".into(), json!("n-0S6_WzA2Mj"));
            }
            Fault::LogoutMissingJti => {
                claims.remove("jti");
            }
            _ => {}
        }
    }
    claims
}

/// Signs a logout token with the issuer's current key (the one ID tokens are signed with, so
/// [`Fault::RotatedKey`] applies) and header `typ: logout+jwt`; the logout signature faults
/// apply when `faults` has them, the ID-token ones never.
pub(crate) fn sign(payload: &Value, faults: &Faults) -> String {
    let mut signing = Faults(
        faults
            .0
            .iter()
            .filter(|f| **f == Fault::RotatedKey)
            .cloned()
            .collect(),
    );
    for (logout, id_token) in [
        (Fault::LogoutBadSignature, Fault::BadSignature),
        (Fault::LogoutAlgNone, Fault::AlgNone),
        (Fault::LogoutUnknownKid, Fault::UnknownKid),
    ] {
        if faults.has(&logout) {
            signing.0.push(id_token);
        }
    }
    let typ = if faults.has(&Fault::LogoutWrongTyp) {
        "JWT"
    } else {
        LOGOUT_TOKEN_TYP
    };
    jwt::sign_typed(payload, None, &signing, typ)
}

/// One logout token to send.
struct Target {
    client_id: String,
    uri: String,
    sub: String,
    sid: Option<String>,
}

/// Under the lock: marks the user's grants logged out, and picks the tokens to send: one per
/// grant (with its `sid`) to a client with `backchannel_logout_session_required`, one per
/// client (with `sub` only) to the others.
fn plan(state: &mut State, sub: &str) -> Vec<Target> {
    let mut ended = Vec::new();
    for grant in state.counters.grants.iter_mut() {
        if grant.sub == sub && !grant.logged_out {
            grant.logged_out = true;
            ended.push((grant.client_id.clone(), grant.sid.clone()));
        }
    }
    let mut targets: Vec<Target> = Vec::new();
    for (client_id, sid) in ended {
        let Some(client) = state.clients.get(&client_id) else {
            continue;
        };
        let Some(uri) = client.backchannel_logout_uri.clone() else {
            continue;
        };
        let sid = client.backchannel_logout_session_required.then_some(sid);
        let already = targets
            .iter()
            .any(|t| t.client_id == client_id && sid.is_none() && t.sid.is_none());
        if !already {
            targets.push(Target {
                client_id,
                uri,
                sub: sub.to_owned(),
                sid,
            });
        }
    }
    targets
}

/// Sends a logout token for every grant of the user with `sub` that has not been logged out
/// yet, all at once, each bounded by the timeout; records and returns the results in order.
/// The lock is held only to plan and to record, never across a request.
pub(crate) async fn logout_user(inner: &Inner, sub: &str) -> Vec<BackchannelLogout> {
    let (targets, faults, issuer) = {
        let mut state = inner.lock();
        // In multi-tenant mode the user's tenant's issuer, as in the user's ID tokens
        // (Back-Channel Logout 1.0 §2.6: the logout token's `iss` is checked as an ID token's).
        let issuer = tenants::subject_issuer(inner, &state.users, Some(sub));
        (plan(&mut state, sub), state.faults.clone(), issuer)
    };
    if targets.is_empty() {
        return Vec::new();
    }
    let timeout = inner
        .options
        .backchannel_logout_timeout
        .unwrap_or(DEFAULT_TIMEOUT);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .build();
    let now = unix_now();
    let mut pending = JoinSet::new();
    for (index, target) in targets.into_iter().enumerate() {
        let claims = claims(
            &issuer,
            &target.client_id,
            Some(&target.sub),
            target.sid.as_deref(),
            now,
        );
        let token = sign(&Value::Object(corrupt(claims, &faults, now)), &faults);
        let http = http.as_ref().map(Clone::clone).map_err(|e| e.to_string());
        pending.spawn(async move { (index, post(http, target, token).await) });
    }
    let mut results = Vec::new();
    while let Some(joined) = pending.join_next().await {
        if let Ok(result) = joined {
            results.push(result);
        }
    }
    results.sort_by_key(|(index, _)| *index);
    let results: Vec<BackchannelLogout> = results.into_iter().map(|(_, r)| r).collect();
    inner
        .lock()
        .counters
        .backchannel_logouts
        .extend(results.iter().cloned());
    results
}

/// §2.5: `POST`, `application/x-www-form-urlencoded`, `logout_token=...`.
async fn post(
    http: Result<reqwest::Client, String>,
    target: Target,
    token: String,
) -> BackchannelLogout {
    let answer = match http {
        Ok(http) => http
            .post(&target.uri)
            .form(&[("logout_token", token.as_str())])
            .send()
            .await
            .map(|response| response.status().as_u16())
            .map_err(|error| error.to_string()),
        Err(error) => Err(format!("no HTTP client: {error}")),
    };
    BackchannelLogout {
        client_id: target.client_id,
        uri: target.uri,
        sub: target.sub,
        sid: target.sid,
        logout_token: token,
        status: answer.as_ref().ok().copied(),
        error: answer.err(),
    }
}

/// Signs `payload` as the issuer signs logout tokens, with the logout-token signature faults in
/// `faults` applied (for the logout-token rule tests).
#[cfg(feature = "internals")]
#[doc(hidden)]
pub fn sign_dev_logout_token(payload: &Value, faults: &[Fault]) -> String {
    sign(payload, &Faults(faults.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_follow_the_spec_and_faults_corrupt_one_rule_each() {
        let valid = claims("http://127.0.0.1:1", "app", Some("ada"), Some("s1"), 1000);
        assert_eq!(valid["exp"], json!(1120));
        assert_eq!(valid["events"], json!({ BACKCHANNEL_LOGOUT_EVENT: {} }));
        assert!(!valid.contains_key("nonce"));
        assert_eq!(valid["jti"].as_str().unwrap().len(), 43);
        let with = |fault: Fault| corrupt(valid.clone(), &Faults(vec![fault]), 10_000);
        assert_eq!(with(Fault::LogoutExpired)["exp"], json!(6400));
        assert_eq!(with(Fault::LogoutExpired)["iat"], json!(6280));
        assert_eq!(with(Fault::LogoutIatInFuture)["iat"], json!(13_600));
        let none = with(Fault::LogoutNoSidNoSub);
        assert!(!none.contains_key("sid") && !none.contains_key("sub"));
        assert_eq!(with(Fault::LogoutWithNonce)["nonce"], json!("n-0S6_WzA2Mj"));
        let mut unchanged = with(Fault::BadSignature);
        unchanged.remove("jti");
        let mut expected = valid.clone();
        expected.remove("jti");
        assert_eq!(
            unchanged, expected,
            "ID-token faults leave logout claims alone"
        );
    }

    #[test]
    fn id_token_signature_faults_do_not_touch_logout_tokens() {
        let payload = json!({"iss": "x"});
        let faults = Faults(vec![Fault::AlgNone, Fault::BadSignature, Fault::NoKid]);
        let token = sign(&payload, &faults);
        assert!(jwt::verify_own(&token).is_some());
        let bad = sign(&payload, &Faults(vec![Fault::LogoutBadSignature]));
        assert!(jwt::verify_own(&bad).is_none());
    }
}
