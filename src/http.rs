//! The one HTTP client the crate uses to talk to the provider: redirects off, a timeout covering
//! the whole exchange (headers and body), and a cap on response bodies, so that a slow or
//! hostile provider can neither hang launch nor exhaust memory.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rocket::serde::json::serde_json;

/// The largest response body read from the provider (discovery, JWKS, token, userinfo).
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A response, fully read.
pub(crate) struct HttpResponse {
    pub status: u16,
    pub content_type: Option<String>,
    /// The `Location` header, for the redirects that discovery follows by hand.
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A 2xx answer's body parsed as `T`; any other status is a [`FetchError`].
    pub(crate) fn json_document<T: serde::de::DeserializeOwned>(&self) -> Result<T, FetchError> {
        if (300..400).contains(&self.status) {
            return Err(FetchError::Redirect {
                status: self.status,
                location: self
                    .location
                    .as_deref()
                    .map(|l| crate::util::truncate(l, 200)),
                reason: "only discovery follows redirects".into(),
            });
        }
        if !self.is_success() {
            return Err(FetchError::Status(self.status));
        }
        self.json()
    }

    /// Parses the body as JSON into `T`.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, FetchError> {
        serde_json::from_slice(&self.body).map_err(|e| FetchError::Json {
            status: self.status,
            content_type: self.content_type.clone(),
            source: Arc::new(e),
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

/// Why a request to the provider got no usable response.
///
/// Its `Display` says what happened in words (for the log line); [`source`](Error::source)
/// gives the underlying `reqwest` error where there is one.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum HttpError {
    /// No complete answer (headers and body) within `oidc.http_timeout_secs`.
    Timeout(Duration),
    /// The response body was larger than this many bytes.
    TooLarge(usize),
    /// The connection failed or broke (refused, DNS, TLS, reset).
    Transport(Arc<reqwest::Error>),
    /// The HTTP client could not be built (the TLS backend of this machine).
    Build(Arc<reqwest::Error>),
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
            // The reqwest error chain holds the useful part ("connection refused", a DNS
            // failure); it is included so that the one log line says it all. reqwest includes
            // the URL, which never holds secrets here (they travel in bodies and headers).
            HttpError::Transport(e) => {
                let what = if e.is_connect() {
                    "could not connect".to_string()
                } else if e.is_timeout() {
                    "timed out".to_string()
                } else {
                    e.to_string()
                };
                write!(f, "{what}{}", chain(e.source()))
            }
            HttpError::Build(e) => write!(
                f,
                "could not build the HTTP client: {e}{}",
                chain(e.source())
            ),
        }
    }
}

impl Error for HttpError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            HttpError::Transport(e) | HttpError::Build(e) => Some(&**e),
            _ => None,
        }
    }
}

/// `": a: b"` for the chain of causes starting at `source`.
fn chain(mut source: Option<&(dyn Error + 'static)>) -> String {
    let mut out = String::new();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Why a JSON document (discovery, JWKS) could not be fetched.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FetchError {
    /// No response: see [`HttpError`].
    Http(HttpError),
    /// The server answered with this non-2xx status.
    Status(u16),
    /// The server answered with a redirect (3xx) that was not followed.
    Redirect {
        /// The HTTP status of the answer.
        status: u16,
        /// Its `Location` header, if any (cut to 200 characters).
        location: Option<String>,
        /// Why it was not followed, in words (`more than 5 redirects`, `https → http`, ...).
        reason: String,
    },
    /// The body is not the JSON document expected.
    Json {
        /// The HTTP status of the answer.
        status: u16,
        /// Its `Content-Type`, if any.
        content_type: Option<String>,
        /// The parse error.
        source: Arc<serde_json::Error>,
    },
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Http(e) => write!(f, "{e}"),
            FetchError::Status(status) => write!(f, "the server answered HTTP {status}"),
            FetchError::Redirect {
                status,
                location,
                reason,
            } => match location {
                Some(location) => write!(
                    f,
                    "the server answered HTTP {status} to {location} (not followed: {reason})"
                ),
                None => write!(
                    f,
                    "the server answered HTTP {status} (not followed: {reason})"
                ),
            },
            FetchError::Json {
                status,
                content_type,
                source,
            } => write!(
                f,
                "HTTP {status} with a body that is not the expected JSON ({source}; content-type {})",
                content_type.as_deref().unwrap_or("none")
            ),
        }
    }
}

impl Error for FetchError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            FetchError::Http(e) => Some(e),
            FetchError::Status(_) | FetchError::Redirect { .. } => None,
            FetchError::Json { source, .. } => Some(&**source),
        }
    }
}

impl From<HttpError> for FetchError {
    fn from(e: HttpError) -> Self {
        FetchError::Http(e)
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
    /// `private_key_jwt` (RFC 7521 §4.2, RFC 7523 §2.2): `client_assertion_type` and the
    /// signed `client_assertion` in the body, with `client_id` (optional there, but Entra ID
    /// requires it).
    Assertion { id: &'a str, assertion: &'a str },
}

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub(crate) const CLIENT_ASSERTION_TYPE_JWT: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The crate's HTTP client.
#[derive(Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    timeout: Duration,
    max_body: usize,
}

impl Http {
    pub(crate) fn new(timeout: Duration) -> Result<Http, HttpError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .user_agent(concat!("rocket_openid_connect/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Build(Arc::new(e)))?;
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

    /// GET the JSON document at `url`: a 2xx answer parsed as `T`. Redirects are not followed
    /// (a 3xx is [`FetchError::Redirect`], naming its `Location`).
    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, FetchError> {
        self.get(url, None).await?.json_document()
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
            ClientAuth::Assertion { id, assertion } => {
                params.push(("client_id", id));
                params.push(("client_assertion_type", CLIENT_ASSERTION_TYPE_JWT));
                params.push(("client_assertion", assertion));
            }
        }
        self.send(req.form(&params)).await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<HttpResponse, HttpError> {
        let max = self.max_body;
        let exchange = async move {
            let mut resp = req.send().await.map_err(describe)?;
            let status = resp.status().as_u16();
            let header = |name| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let content_type = header(reqwest::header::CONTENT_TYPE);
            let location = header(reqwest::header::LOCATION);
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
                location,
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
    HttpError::Transport(Arc::new(e))
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
