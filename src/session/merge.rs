//! A session after a refresh: the new tokens merged in, the rest (sign-in time, userinfo
//! claims) kept.

use super::SessionData;
use crate::refresh::{id_token_nonce, RefreshedTokens};

/// The nonce of the login that made this session: in its ID token, or kept aside once a
/// refreshed ID token without one replaced it.
pub fn login_nonce(data: &SessionData) -> Option<String> {
    data.nonce
        .clone()
        .or_else(|| id_token_nonce(&data.id_token))
}

/// `data` with the tokens of `refreshed`, seen at `now`. The access token is kept only with
/// `keep_access_token` (its expiry always, so that the next refresh is due on time). A response
/// without a refresh token or an ID token leaves the old one in place (RFC 6749 §6, OpenID
/// Connect Core §12.2). The userinfo claims fetched at sign-in stay as they were: a refresh does
/// not call userinfo, and they still win over the ID token's where the two differ. When a new ID
/// token without `nonce` replaces one with it, the login's nonce is kept aside, so that a later
/// refreshed ID token that has one can still be checked.
pub fn apply_refresh(
    data: &SessionData,
    refreshed: &RefreshedTokens,
    keep_access_token: bool,
    now: i64,
) -> SessionData {
    SessionData {
        id_token: refreshed
            .id_token
            .clone()
            .unwrap_or_else(|| data.id_token.clone()),
        access_token: keep_access_token.then(|| refreshed.access_token.clone()),
        access_expires_at: refreshed.access_expires_at,
        // A session without a refresh token is never refreshed, so `keep_refresh_token` holds.
        refresh_token: refreshed
            .refresh_token
            .clone()
            .or_else(|| data.refresh_token.clone()),
        userinfo_extra: data.userinfo_extra.clone(),
        created: data.created,
        seen: now,
        nonce: match &refreshed.id_token {
            // The new token repeats the login's nonce (checked): it is there to read.
            Some(new) if id_token_nonce(new).is_some() => None,
            Some(_) => login_nonce(data),
            None => data.nonce.clone(),
        },
        // The provider that signed the user in stays the session's: the next refresh goes to
        // it too.
        provider: data.provider,
        // What the app's login hook kept stays until the next sign-in.
        app_data: data.app_data.clone(),
        // The same sign-in: a `/logout` marker for it still ends this session.
        session_id: data.session_id.clone(),
    }
}

/// Whether `a` and `b` hold different tokens (or access-token expiry): only then is the
/// session written again after a refresh.
pub fn tokens_differ(a: &SessionData, b: &SessionData) -> bool {
    a.id_token != b.id_token
        || a.access_token != b.access_token
        || a.access_expires_at != b.access_expires_at
        || a.refresh_token != b.refresh_token
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ProviderName;
    use rocket::serde::json::serde_json::{json, Map};

    fn session() -> SessionData {
        let mut extra = Map::new();
        extra.insert("locale".into(), json!("en"));
        SessionData {
            id_token: "old.id.token".into(),
            access_token: Some("old-at".into()),
            access_expires_at: Some(1_000),
            refresh_token: Some("old-rt".into()),
            userinfo_extra: extra,
            created: 100,
            seen: 900,
            nonce: None,
            provider: None,
            app_data: None,
            session_id: None,
        }
    }

    fn refreshed(refresh: Option<&str>, id: Option<&str>) -> RefreshedTokens {
        RefreshedTokens {
            access_token: "new-at".into(),
            access_expires_at: Some(4_600),
            refresh_token: refresh.map(str::to_owned),
            id_token: id.map(str::to_owned),
            subject: id.map(|_| "ada".to_owned()),
            refreshed_at: 1_000,
        }
    }

    #[test]
    fn new_tokens_replace_old_ones_and_the_rest_stays() {
        let old = session();
        let new = apply_refresh(
            &old,
            &refreshed(Some("new-rt"), Some("new.id.token")),
            true,
            1_001,
        );
        assert_eq!(new.id_token, "new.id.token");
        assert_eq!(new.access_token.as_deref(), Some("new-at"));
        assert_eq!(new.access_expires_at, Some(4_600));
        assert_eq!(new.refresh_token.as_deref(), Some("new-rt"));
        assert_eq!(new.userinfo_extra, old.userinfo_extra);
        assert_eq!((new.created, new.seen), (100, 1_001));
        assert!(tokens_differ(&old, &new));
    }

    #[test]
    fn the_session_stays_with_the_provider_that_signed_the_user_in_and_keeps_its_app_data() {
        let mut old = session();
        old.provider = ProviderName::new("beta");
        old.app_data = Some(json!({"sign_in": 3}));
        let new = apply_refresh(&old, &refreshed(Some("new-rt"), None), true, 1_001);
        assert_eq!(new.provider_name(), "beta");
        assert_eq!(
            new.app_data,
            Some(json!({"sign_in": 3})),
            "the login hook's data"
        );
        let default = apply_refresh(&session(), &refreshed(None, None), true, 1_001);
        assert_eq!(default.provider_name(), "default");
    }

    #[test]
    fn an_answer_without_refresh_or_id_token_keeps_the_old_ones() {
        let old = session();
        let new = apply_refresh(&old, &refreshed(None, None), true, 1_001);
        assert_eq!(new.id_token, "old.id.token", "Okta may omit the ID token");
        assert_eq!(
            new.refresh_token.as_deref(),
            Some("old-rt"),
            "Google omits it"
        );
        assert_eq!(new.access_token.as_deref(), Some("new-at"));
    }

    #[test]
    fn without_keep_access_token_only_the_expiry_is_kept() {
        let mut old = session();
        old.access_token = None;
        let new = apply_refresh(&old, &refreshed(Some("new-rt"), None), false, 1_001);
        assert_eq!(new.access_token, None);
        assert_eq!(new.access_expires_at, Some(4_600));
    }

    /// A compact JWS with this payload (header `{}`, signature `sig`).
    fn jwt(payload: &str) -> String {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.c2ln", b64("{}"), b64(payload))
    }

    #[test]
    fn the_login_nonce_survives_refreshed_id_tokens_without_one() {
        let mut old = session();
        old.id_token = jwt(r#"{"sub":"ada","nonce":"n-login"}"#);
        assert_eq!(login_nonce(&old).as_deref(), Some("n-login"));
        // Keycloak ≥ 25: no nonce in the refreshed ID token; the login's is kept aside.
        let keycloak = apply_refresh(
            &old,
            &refreshed(None, Some(&jwt(r#"{"sub":"ada"}"#))),
            true,
            1,
        );
        assert_eq!(keycloak.nonce.as_deref(), Some("n-login"));
        assert_eq!(login_nonce(&keycloak).as_deref(), Some("n-login"));
        // Okta: no ID token at all; whatever was kept stays.
        let okta = apply_refresh(&keycloak, &refreshed(None, None), true, 2);
        assert_eq!(okta.nonce.as_deref(), Some("n-login"));
        // A refreshed ID token that repeats it: nothing to keep aside any more.
        let repeated = jwt(r#"{"sub":"ada","nonce":"n-login"}"#);
        let back = apply_refresh(&okta, &refreshed(None, Some(&repeated)), true, 3);
        assert_eq!(back.nonce, None);
        assert_eq!(login_nonce(&back).as_deref(), Some("n-login"));
        // The cookie keeps the field.
        let body = crate::session::codec::encode_body(&keycloak).unwrap();
        assert_eq!(crate::session::codec::decode_body(&body), Some(keycloak));
    }

    #[test]
    fn only_token_changes_count() {
        let old = session();
        let mut seen_later = old.clone();
        seen_later.seen = 5_000;
        assert!(!tokens_differ(&old, &seen_later));
        for change in [
            |d: &mut SessionData| d.id_token.push('x'),
            |d: &mut SessionData| d.access_token = None,
            |d: &mut SessionData| d.access_expires_at = Some(1),
            |d: &mut SessionData| d.refresh_token = None,
        ] {
            let mut other = old.clone();
            change(&mut other);
            assert!(tokens_differ(&old, &other));
        }
    }
}
