//! The one HTTP client the crate uses to talk to the provider: redirects off, a timeout covering
//! the whole exchange (headers and body), and a cap on response bodies, so that a slow or
//! hostile provider can neither hang launch nor exhaust memory.

use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The largest response body read from the provider (discovery, JWKS, token, userinfo).
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A response, fully read.
pub(crate) struct HttpResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Parses the body as JSON into `T`.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        rocket::serde::json::serde_json::from_slice(&self.body).map_err(|e| {
            format!(
                "HTTP {} with a body that is not the expected JSON ({e}; content-type {})",
                self.status,
                self.content_type.as_deref().unwrap_or("none")
            )
        })
    }

    /// The OAuth error (`error`, `error_description`) in a JSON body, if there is one.
    pub(crate) fn oauth_error(&self) -> Option<(String, Option<String>)> {
        #[derive(serde::Deserialize)]
        struct ErrorBody {
            error: String,
            error_description: Option<String>,
        }
        let body: ErrorBody = rocket::serde::json::serde_json::from_slice(&self.body).ok()?;
        Some((body.error, body.error_description))
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HttpError {
    Timeout(Duration),
    TooLarge(usize),
    Transport(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Timeout(d) => write!(
                f,
                "no complete answer within {} s (oidc.http_timeout_secs)",
                d.as_secs_f32()
            ),
            HttpError::TooLarge(n) => write!(f, "the response body exceeds {n} bytes"),
            HttpError::Transport(m) => write!(f, "{m}"),
        }
    }
}

/// How the client authenticates at the token and revocation endpoints.
#[derive(Clone, Copy)]
pub(crate) enum ClientAuth<'a> {
    /// RFC 6749 §2.3.1: `Authorization: Basic base64(urlencode(id):urlencode(secret))`.
    Basic { id: &'a str, secret: &'a str },
    /// `client_id` and `client_secret` in the form body.
    Post { id: &'a str, secret: &'a str },
    /// A public client: `client_id` in the body only.
    None { id: &'a str },
}

/// The crate's HTTP client.
#[derive(Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    timeout: Duration,
    max_body: usize,
}

impl Http {
    pub(crate) fn new(timeout: Duration) -> Result<Http, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .user_agent(concat!("rocket_openid_connect/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("could not build the HTTP client: {e}"))?;
        Ok(Http {
            client,
            timeout,
            max_body: MAX_BODY_BYTES,
        })
    }

    /// GET `url`, with a Bearer token when given.
    pub(crate) async fn get(
        &self,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<HttpResponse, HttpError> {
        let mut req = self.client.get(url).header("accept", "application/json");
        if let Some(token) = bearer {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        self.send(req).await
    }

    /// POST a form to `url`, authenticating the client as `auth` says.
    pub(crate) async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        auth: ClientAuth<'_>,
    ) -> Result<HttpResponse, HttpError> {
        let mut params: Vec<(&str, &str)> = form.to_vec();
        let mut req = self.client.post(url).header("accept", "application/json");
        match auth {
            ClientAuth::Basic { id, secret } => {
                req = req.header("authorization", basic_auth_header(id, secret));
            }
            ClientAuth::Post { id, secret } => {
                params.push(("client_id", id));
                params.push(("client_secret", secret));
            }
            ClientAuth::None { id } => params.push(("client_id", id)),
        }
        self.send(req.form(&params)).await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<HttpResponse, HttpError> {
        let max = self.max_body;
        let exchange = async move {
            let mut resp = req.send().await.map_err(describe)?;
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if resp.content_length().is_some_and(|n| n > max as u64) {
                return Err(HttpError::TooLarge(max));
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(describe)? {
                if body.len() + chunk.len() > max {
                    return Err(HttpError::TooLarge(max));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse {
                status,
                content_type,
                body,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or(Err(HttpError::Timeout(self.timeout)))
    }
}

/// The `Authorization` header value for `client_secret_basic`: each part is
/// form-urlencoded before base64 (RFC 6749 §2.3.1), which providers such as Okta and
/// oidc-provider require for secrets containing `:`, `%` or `+`.
pub(crate) fn basic_auth_header(id: &str, secret: &str) -> String {
    let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    let secret: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

fn describe(e: reqwest::Error) -> HttpError {
    if e.is_timeout() {
        return HttpError::Transport("timed out".into());
    }
    // The reqwest error chain holds the useful part ("connection refused", DNS failure).
    let mut msg = if e.is_connect() {
        "could not connect".to_string()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    // reqwest includes the URL, which never holds secrets here (they travel in bodies/headers).
    HttpError::Transport(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_urlencodes_before_base64() {
        // "a b:c" -> "a+b%3Ac" ; "%+" -> "%25%2B"
        let header = basic_auth_header("a b:c", "%+");
        let encoded = header.strip_prefix("Basic ").unwrap();
        let decoded = String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap();
        assert_eq!(decoded, "a+b%3Ac:%25%2B");
    }
}
