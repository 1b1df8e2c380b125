//! Responses of the issuer's endpoints, and its HTML pages.

use std::io::Cursor;

use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::serde_json::{json, Value};
use rocket::tokio::io::AsyncReadExt as _;

use super::directory::DevUser;
use super::keys::to_compact;

/// Any response of the issuer (boxed: it is passed around in `Result`s).
pub(crate) struct Reply(Box<Parts>);

struct Parts {
    status: Status,
    content_type: ContentType,
    headers: Vec<Header<'static>>,
    body: Body,
}

enum Body {
    Bytes(Vec<u8>),
    /// `prefix`, `padding` spaces, `suffix`, streamed.
    Padded {
        prefix: Vec<u8>,
        padding: u64,
        suffix: Vec<u8>,
    },
}

impl Reply {
    /// A compact JSON body.
    pub fn json(status: Status, value: &Value) -> Reply {
        Reply(Box::new(Parts {
            status,
            content_type: ContentType::JSON,
            headers: Vec::new(),
            body: Body::Bytes(to_compact(value)),
        }))
    }

    /// A JSON body whose last `}` is preceded by `mb` MiB of whitespace, streamed.
    pub fn padded_json(value: &Value, mb: u32) -> Reply {
        let mut prefix = to_compact(value);
        let suffix = prefix.split_off(prefix.len().saturating_sub(1));
        Reply(Box::new(Parts {
            status: Status::Ok,
            content_type: ContentType::JSON,
            headers: Vec::new(),
            body: Body::Padded {
                prefix,
                padding: u64::from(mb) * 1024 * 1024,
                suffix,
            },
        }))
    }

    /// An OAuth 2.0 error (RFC 6749 §5.2), `Cache-Control: no-store`.
    pub fn oauth_error(status: Status, error: &str, description: &str) -> Reply {
        Reply::json(
            status,
            &json!({"error": error, "error_description": description}),
        )
        .no_store()
    }

    /// An HTML page.
    pub fn html(status: Status, body: String) -> Reply {
        Reply(Box::new(Parts {
            status,
            content_type: ContentType::HTML,
            headers: Vec::new(),
            body: Body::Bytes(body.into_bytes()),
        }))
    }

    /// 303 See Other.
    pub fn redirect(location: String) -> Reply {
        Reply::html(Status::SeeOther, String::new()).header("Location", location)
    }

    /// A plain 500 page, for the server-error faults.
    pub fn server_error() -> Reply {
        Reply::html(
            Status::InternalServerError,
            page(
                "Internal Server Error",
                "<p>The development issuer failed (on purpose).</p>",
            ),
        )
    }

    /// The status it answers with.
    pub fn status(&self) -> Status {
        self.0.status
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.0.headers.push(Header::new(name, value.into()));
        self
    }

    /// `Cache-Control: no-store` (RFC 6749 §5.1).
    pub fn no_store(self) -> Reply {
        self.header("Cache-Control", "no-store")
            .header("Pragma", "no-cache")
    }
}

impl<'r> Responder<'r, 'static> for Reply {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let parts = *self.0;
        let mut response = Response::build();
        response.status(parts.status).header(parts.content_type);
        for header in parts.headers {
            response.header_adjoin(header);
        }
        match parts.body {
            Body::Bytes(bytes) => {
                response.sized_body(bytes.len(), Cursor::new(bytes));
            }
            Body::Padded {
                prefix,
                padding,
                suffix,
            } => {
                let padding = rocket::tokio::io::repeat(b' ').take(padding);
                response.streamed_body(
                    Cursor::new(prefix)
                        .chain(padding)
                        .chain(Cursor::new(suffix)),
                );
            }
        }
        response.ok()
    }
}

/// Escapes text for HTML element content and quoted attribute values. The issuer's own copy:
/// the development issuer imports nothing from the library core.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page; `body` must already be escaped.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title} · development issuer</title></head>\n<body>\n<h1>{title}</h1>\n{body}\n\
         <p><small>rocket_openid_connect development issuer — for development and tests only; \
         its signing keys are public.</small></p>\n</body></html>\n",
        title = escape(title)
    )
}

/// A 400 page for requests that cannot be answered with a redirect.
pub(crate) fn error_page(message: &str) -> Reply {
    Reply::html(
        Status::BadRequest,
        page("Bad request", &format!("<p>{}</p>", escape(message))),
    )
}

/// The login page: one radio button per user, a hidden `request_id`, and Sign in / Deny buttons
/// (`action=login` / `action=deny`), posted to `/login`.
pub(crate) fn login_page(
    status: Status,
    request_id: &str,
    client_id: &str,
    users: &[DevUser],
    selected: Option<&str>,
    message: Option<&str>,
) -> Reply {
    let selected = selected
        .filter(|s| users.iter().any(|u| u.preferred_username == *s))
        .or_else(|| users.first().map(|u| u.preferred_username.as_str()));
    let mut body = format!(
        "<p>The application <code>{}</code> asks you to sign in.</p>\n",
        escape(client_id)
    );
    if let Some(message) = message {
        body.push_str(&format!(
            "<p role=\"alert\"><strong>{}</strong></p>\n",
            escape(message)
        ));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/login\">\n\
         <input type=\"hidden\" name=\"request_id\" value=\"{}\">\n<fieldset><legend>User</legend>\n",
        escape(request_id)
    ));
    for user in users {
        let checked = if Some(user.preferred_username.as_str()) == selected {
            " checked"
        } else {
            ""
        };
        body.push_str(&format!(
            "<label><input type=\"radio\" name=\"username\" value=\"{u}\"{checked}> {name} \
             (<code>{u}</code>, {email})</label><br>\n",
            u = escape(&user.preferred_username),
            name = escape(&user.name),
            email = escape(&user.email),
        ));
    }
    body.push_str(
        "</fieldset>\n<button type=\"submit\" name=\"action\" value=\"login\">Sign in</button>\n\
         <button type=\"submit\" name=\"action\" value=\"deny\">Deny</button>\n</form>",
    );
    Reply::html(status, page("Sign in", &body)).no_store()
}

/// The page shown after logout without a `post_logout_redirect_uri`.
pub(crate) fn signed_out_page() -> Reply {
    Reply::html(
        Status::Ok,
        page(
            "You are signed out",
            "<p>You are signed out of the development issuer.</p>",
        ),
    )
}
