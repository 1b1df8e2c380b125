//! `HEAD` on the callback: refused, so that it can never redeem a code.
//!
//! Rocket answers a `HEAD` request for which no `HEAD` route matches with the matching `GET`
//! route, body stripped (rocket 0.5.2 `Rocket::route_and_process`). For the callback that would
//! mean a `HEAD` exchanging the code, consuming the pending login and setting a session that
//! only the headers carry. The callback is not safe in the sense of RFC 9110 §9.2.1 (it acts on
//! a one-time code), so its `HEAD` is no mirror of its `GET`: a link checker or preview
//! service that probes the URL with the user's cookies must not spend the login the user's
//! browser is about to finish. `405 Method Not Allowed` with `Allow: GET` (RFC 9110 §15.5.6).

use rocket::http::{Header, Status};
use rocket::route::{Handler, Outcome};
use rocket::{Data, Request, Response};

/// `HEAD <callback path>`: 405, nothing read, nothing spent.
#[derive(Clone)]
pub(super) struct RefuseHead;

#[rocket::async_trait]
impl Handler for RefuseHead {
    async fn handle<'r>(&self, _req: &'r Request<'_>, _data: Data<'r>) -> Outcome<'r> {
        Outcome::Success(
            Response::build()
                .status(Status::MethodNotAllowed)
                .header(Header::new("Allow", "GET"))
                .header(Header::new("Cache-Control", "no-store"))
                .finalize(),
        )
    }
}
