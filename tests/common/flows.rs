//! Steps of a login as a browser walks them, and what its cookie jar holds afterwards.

use std::collections::BTreeMap;

use super::{App, Browser, Resp};

/// Session cookies in the browser's jar for `app`.
pub fn session_cookies(b: &Browser, app: &App) -> Vec<String> {
    b.cookies(&app.base)
        .into_keys()
        .filter(|k| k.starts_with("oidc_session"))
        .collect()
}

/// Pending-login (transaction) cookies in the browser's jar for `app`.
pub fn tx_cookies(b: &Browser, app: &App) -> Vec<String> {
    b.cookies(&app.base)
        .into_keys()
        .filter(|k| k.starts_with("oidc_tx_"))
        .collect()
}

/// `/login?return_to=<return_to>`, the value percent-encoded.
pub fn login_url(app: &App, return_to: &str) -> String {
    format!(
        "{}?return_to={}",
        app.url("/login"),
        url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
    )
}

/// A whole login from `/login?return_to=<return_to>` (auto-login at the issuer): every response.
pub async fn login(b: &Browser, app: &App, return_to: &str) -> Vec<Resp> {
    let first = b.get(&login_url(app, return_to)).await;
    b.follow(first).await
}

/// The callback's answer in a login's `chain` (found by its path, the default
/// `/authorization-code/callback`): its `Location` is where the login lands.
pub fn callback_of(chain: &[Resp]) -> &Resp {
    chain
        .iter()
        .find(|r| url::Url::parse(&r.url).is_ok_and(|u| u.path() == "/authorization-code/callback"))
        .unwrap_or_else(|| panic!("no callback in the chain: {chain:#?}"))
}

/// Where a whole login from `/login?return_to=<return_to>` in a fresh browser lands: the
/// `Location` of the callback's answer, which must be a 303.
pub async fn landing_of(app: &App, return_to: &str) -> String {
    let chain = login(&Browser::new(), app, return_to).await;
    let callback = callback_of(&chain);
    assert_eq!(callback.status, 303, "{return_to:?}: {}", callback.body);
    callback
        .location()
        .unwrap_or_else(|| panic!("{return_to:?}: the callback's 303 has no Location"))
}

/// The callback URL the issuer sends `b` to, not followed yet (`b` holds the transaction).
pub async fn callback_url(b: &Browser, app: &App) -> String {
    let login = b.get(&app.url("/login")).await;
    assert_eq!(login.status, 303);
    let authorize = b.get(&login.location().unwrap()).await;
    assert_eq!(
        authorize.status, 303,
        "auto-login redirects: {}",
        authorize.body
    );
    authorize.location().unwrap()
}

/// The query parameters of a URL.
pub fn query_of(url: &str) -> BTreeMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
