//! The issuer's requests in the app's log: labelled, redacted, and at the app's log level.
//!
//! The issuer is a second Rocket in the app's process, and Rocket 0.5 logs through one
//! process-wide `log` logger whose records say nothing about which Rocket wrote them. At
//! `normal`, Rocket writes for every request (rocket 0.5.2 `src/server.rs`):
//! - the request line, `info!("{}:", request)` in `Rocket::dispatch`, i.e. the method and the
//!   whole URI with its query, written **after** the request fairings have run;
//! - the matched route, `info_!("Matched: {}", route)` in `Rocket::route`, i.e. the route's name
//!   and its mounted path;
//! - the outcome and `Response succeeded.`.
//!
//! So the issuer can decide what its own lines say without touching the app's: an `on_request`
//! fairing ([`LabelRequests`]) replaces each request's URI by a labelled, query-free one,
//! `/dev-issuer/token` or `/dev-issuer/authorize?redacted`, and stashes the original
//! ([`OriginalUri`]) for the handlers, which read their parameters from it. The routes are
//! mounted under [`LOG_BASE`] and named `dev issuer: <handler>` ([`label_routes`]), so that the
//! "Matched" line is labelled too. The issuer's URLs (discovery, redirects) keep their real paths:
//! only the request as Rocket sees it after the fairing carries the label.
//!
//! What stays visible: at `debug`, Rocket also writes every request in full as hyper received
//! it (`debug!("received request: {:#?}")`, before any fairing), headers and query included, for
//! the app and the issuer alike; and a request too malformed for Rocket to parse is logged raw
//! before any fairing runs.
//!
//! The log level itself is process-wide, and Rocket sets it on every `rocket::custom` and every
//! ignite. [`issuer_level`] and [`restore_level`] keep the issuer from changing it: it runs at
//! whatever level is in force when it starts.

use rocket::config::LogLevel;
use rocket::data::Data;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::ext::IntoOwned as _;
use rocket::http::uri::Origin;
use rocket::request::Request;
use rocket::Route;

/// The path every issuer route is mounted under, and every issuer request is rewritten to: what
/// the app's log shows for the issuer's requests.
pub(crate) const LOG_BASE: &str = "/dev-issuer";

/// The query that replaces a request's real one in the log.
const REDACTED_QUERY: &str = "redacted";

/// The URI the client sent, before [`LabelRequests`] replaced it (request-local state).
pub(crate) struct OriginalUri(pub Option<Origin<'static>>);

/// The request fairing that labels and redacts the issuer's request lines.
pub(crate) struct LabelRequests;

#[rocket::async_trait]
impl Fairing for LabelRequests {
    fn info(&self) -> Info {
        Info {
            name: "development issuer: labelled, redacted request log",
            kind: Kind::Request,
        }
    }

    async fn on_request(&self, request: &mut Request<'_>, _: &mut Data<'_>) {
        let original = request.uri().clone().into_owned();
        let labelled = labelled(&original);
        request.local_cache(|| OriginalUri(Some(original)));
        request.set_uri(labelled);
    }
}

/// `LOG_BASE` + the path, and `?redacted` in place of any query: the query is where the secrets
/// are (`state`, `nonce`, `code_challenge`, `id_token_hint`, `login_hint`).
fn labelled(original: &Origin<'_>) -> Origin<'static> {
    let mut uri = format!("{LOG_BASE}{}", original.path());
    if original.query().is_some() {
        uri.push('?');
        uri.push_str(REDACTED_QUERY);
    }
    // The path was already a valid origin path, so prefixing a static segment keeps it valid;
    // the fallback routes to no handler (404) rather than to the wrong one.
    Origin::parse_owned(uri).unwrap_or_else(|_| Origin::path_only(format!("{LOG_BASE}/-")))
}

/// Names every route `dev issuer: <handler>`, for the "Matched" line.
pub(crate) fn label_routes(routes: Vec<Route>) -> Vec<Route> {
    routes
        .into_iter()
        .map(|mut route| {
            let name = route.name.as_deref().unwrap_or("route");
            route.name = Some(format!("dev issuer: {name}").into());
            route
        })
        .collect()
}

/// The Rocket level that sets `log::max_level()` back to `level` (Rocket sets the level on
/// ignite, from its config). `Error`, which Rocket never sets itself, becomes `critical` until
/// [`restore_level`] puts it back.
pub(crate) fn issuer_level(level: log::LevelFilter) -> LogLevel {
    match level {
        log::LevelFilter::Off => LogLevel::Off,
        log::LevelFilter::Error | log::LevelFilter::Warn => LogLevel::Critical,
        log::LevelFilter::Info => LogLevel::Normal,
        log::LevelFilter::Debug | log::LevelFilter::Trace => LogLevel::Debug,
    }
}

/// Puts the process-wide level back to `level`, if igniting the issuer changed it. (Rocket
/// changes it only when its own logger is the process's logger; with another logger installed,
/// this finds nothing to do.)
pub(crate) fn restore_level(level: log::LevelFilter) {
    if log::max_level() != level {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_drop_the_query() {
        let uri = Origin::parse("/authorize?state=s3cret&nonce=n").unwrap();
        assert_eq!(labelled(&uri).to_string(), "/dev-issuer/authorize?redacted");
        let uri = Origin::parse("/jwks").unwrap();
        assert_eq!(labelled(&uri).to_string(), "/dev-issuer/jwks");
        let uri = Origin::parse("/a%20b?").unwrap();
        assert_eq!(labelled(&uri).to_string(), "/dev-issuer/a%20b?redacted");
    }

    #[test]
    fn every_rocket_level_round_trips() {
        for level in [
            log::LevelFilter::Off,
            log::LevelFilter::Warn,
            log::LevelFilter::Info,
            log::LevelFilter::Trace,
        ] {
            assert_eq!(log::LevelFilter::from(issuer_level(level)), level);
        }
    }
}
