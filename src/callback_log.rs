//! The callback's request line in Rocket's log, without the one-time `code` and the `state`.
//!
//! At log level `normal` (the debug default) Rocket logs every request line, method and whole
//! URI with its query, in `Rocket::dispatch`, **after** the request fairings have run (rocket
//! 0.5.2 `src/server.rs`). The callback's query holds the authorization code and the `state`
//! (RFC 6749 §4.1.2): single-use and bound to the PKCE verifier in the browser's encrypted
//! cookie, but no reason to write them to a log file. So a request fairing
//! ([`RedactCallbackQuery`]) replaces the query of a request to a callback path with
//! `?redacted` before Rocket logs it, and keeps the original in the request-local cache, where
//! the callback reads it ([`original_query`]). The path is kept, so routing and the "Matched"
//! line are unchanged. The development issuer does the same for its own routes
//! (`dev_issuer/request_log.rs`).
//!
//! What stays visible: at `debug`, Rocket also logs each request as hyper received it, before
//! any fairing; and a request too malformed for Rocket to parse is logged raw.

use rocket::data::Data;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::uri::Origin;
use rocket::Request;

/// The query that replaces the callback's real one, as Rocket logs it.
const REDACTED_QUERY: &str = "redacted";

/// The callback's query as the browser sent it, before [`RedactCallbackQuery`] replaced it
/// (request-local state).
struct OriginalQuery(Option<String>);

/// The request fairing that takes the callback's query out of Rocket's request line.
/// Attached by [`OidcFairing`](crate::OidcFairing) with the mounted callback paths.
pub(crate) struct RedactCallbackQuery {
    paths: Vec<String>,
}

impl RedactCallbackQuery {
    /// Redacts requests to any of `paths` (the callback paths, as mounted).
    pub(crate) fn new(paths: impl IntoIterator<Item = String>) -> RedactCallbackQuery {
        RedactCallbackQuery {
            paths: paths.into_iter().collect(),
        }
    }
}

#[rocket::async_trait]
impl Fairing for RedactCallbackQuery {
    fn info(&self) -> Info {
        Info {
            name: "OpenID Connect: callback query kept out of the request log",
            kind: Kind::Request,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let uri = req.uri();
        if uri.query().is_none() || !self.paths.iter().any(|p| uri.path() == p.as_str()) {
            return;
        }
        let original = uri.query().map(|q| q.as_str().to_owned());
        let redacted = redacted(uri);
        req.local_cache(|| OriginalQuery(original));
        req.set_uri(redacted);
    }
}

/// `uri` with `?redacted` for its query. A path Rocket already parsed stays valid with a plain
/// query; should it not, the URI is left as it is (logged, but never misrouted).
fn redacted(uri: &Origin<'_>) -> Origin<'static> {
    let text = format!("{}?{REDACTED_QUERY}", uri.path());
    Origin::parse_owned(text).unwrap_or_else(|_| {
        use rocket::http::ext::IntoOwned as _;
        uri.clone().into_owned()
    })
}

/// The query of the request as the browser sent it: the original of a redacted callback
/// request, else the URI's own.
pub(crate) fn original_query<'r>(req: &'r Request<'_>) -> Option<&'r str> {
    match &req.local_cache(|| OriginalQuery(None)).0 {
        Some(query) => Some(query.as_str()),
        None => req.uri().query().map(|q| q.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_replaced_and_the_path_kept() {
        let uri = Origin::parse("/authorization-code/callback?code=c0de&state=s7ate").unwrap();
        assert_eq!(
            redacted(&uri).to_string(),
            "/authorization-code/callback?redacted"
        );
        let uri = Origin::parse("/cb%20x?code=1").unwrap();
        assert_eq!(redacted(&uri).to_string(), "/cb%20x?redacted");
    }
}
