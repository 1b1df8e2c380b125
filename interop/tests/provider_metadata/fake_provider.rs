//! A provider's published documents served on `127.0.0.1:0` over real HTTP/1.1: the (rewritten)
//! discovery document, the JWKS as published, optionally a redirect to the discovery document,
//! and a token endpoint that answers the app's credential check the way a real provider does.
//!
//! Hand-written on tokio's `TcpListener` (one request per connection, `Connection: close`):
//! three routes do not need a web framework in the interop crate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The largest request head or body the server reads; the app's requests are a few hundred bytes.
const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// How the token endpoint answers the app's authorization-code grant with a made-up code.
#[derive(Clone, Debug)]
pub enum TokenEndpoint {
    /// Like a provider with whom this client is registered: the client must authenticate with
    /// one of `methods` (its `token_endpoint_auth_methods_supported`, RFC 8414 §2; when absent,
    /// `client_secret_basic`) and the right id and secret, else 401 `invalid_client`
    /// (RFC 6749 §5.2); an accepted client gets 400 `invalid_grant` for the code.
    OAuth {
        methods: Vec<String>,
        client_id: String,
        client_secret: String,
    },
    /// Twitch's token endpoint, which answers in a shape of its own, `{"status":N,"message":M}`
    /// with no OAuth `error` member, and reads the secret from the body only: no secret in the
    /// body is 400 "missing client secret" (twitchdev/issues#943), a wrong one 403 "invalid
    /// client secret" (PhantomBot/PhantomBot#2860), a bad code 400 (twitchdev/issues#1042 shows
    /// "Invalid grant" for a bad refresh token; the message for a bad code is inferred).
    Twitch {
        client_id: String,
        client_secret: String,
    },
    /// A fixed answer, whatever the request: an endpoint that is not really a token endpoint.
    Fixed { status: u16, body: String },
}

/// What one route answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200 with a JSON body.
    Json(String),
    /// 302 to this URL (the discovery redirect some providers answer with).
    Redirect(String),
}

/// The routes: `GET` paths (path and query as requested) and the token endpoint's path.
#[derive(Clone, Debug, Default)]
pub struct Routes {
    pub get: HashMap<String, Reply>,
    pub token: Option<(String, TokenEndpoint)>,
}

/// One request the server saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// For token requests: how the client authenticated (`client_secret_basic`,
    /// `client_secret_post`, `none`, or `several` when it used more than one).
    pub client_auth: Option<String>,
    /// For token requests: whether the endpoint accepted the client's authentication (`None`
    /// for a [`TokenEndpoint::Fixed`] answer, which accepts nothing).
    pub accepted: Option<bool>,
}

pub struct FakeProvider {
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl FakeProvider {
    /// Binds `127.0.0.1:0`; the routes are given later by [`FakeProvider::serve`], once the
    /// documents are rewritten to the port.
    pub async fn bind() -> (TcpListener, u16) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        (listener, port)
    }

    /// Serves `routes` on `listener` until dropped.
    pub fn serve(listener: TcpListener, routes: Routes) -> FakeProvider {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let routes = Arc::new(routes);
        let task = {
            let seen = seen.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let routes = routes.clone();
                    let seen = seen.clone();
                    tokio::spawn(async move {
                        if let Some(record) = handle(stream, &routes).await {
                            seen.lock().unwrap().push(record);
                        }
                    });
                }
            })
        };
        FakeProvider { seen, task }
    }

    /// Every request answered so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_REQUEST_BYTES {
            return None;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_string();
    let path = request_line.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_REQUEST_BYTES {
        return None;
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

async fn handle(mut stream: TcpStream, routes: &Routes) -> Option<Seen> {
    let request = read_request(&mut stream).await?;
    let mut client_auth = None;
    let mut accepted = None;
    let (status, extra_headers, body) = match (request.method.as_str(), &routes.token) {
        ("POST", Some((path, endpoint))) if *path == request.path => {
            let answer = token(&request, endpoint);
            client_auth = Some(answer.method);
            accepted = answer.accepted;
            let (status, body) = (answer.status, answer.body);
            let challenge = if status == 401 {
                vec![("WWW-Authenticate", "Basic realm=\"token\"".to_string())]
            } else {
                Vec::new()
            };
            (status, challenge, body)
        }
        ("GET", _) => match routes.get.get(&request.path) {
            Some(Reply::Json(body)) => (200, Vec::new(), body.clone()),
            Some(Reply::Redirect(to)) => (302, vec![("Location", to.clone())], String::new()),
            None => (404, Vec::new(), r#"{"error":"not_found"}"#.to_string()),
        },
        _ => (
            405,
            Vec::new(),
            r#"{"error":"method_not_allowed"}"#.to_string(),
        ),
    };
    let reason = match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Other",
    };
    let mut response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in extra_headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(&body);
    stream.write_all(response.as_bytes()).await.ok()?;
    let _ = stream.shutdown().await;
    Some(Seen {
        method: request.method,
        path: request.path,
        status,
        client_auth,
        accepted,
    })
}

/// `application/x-www-form-urlencoded` pairs, decoded.
fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// What the token endpoint made of a request.
struct TokenAnswer {
    method: String,
    accepted: Option<bool>,
    status: u16,
    body: String,
}

/// The token endpoint: how the client authenticated, whether that was accepted, the answer.
fn token(request: &Request, endpoint: &TokenEndpoint) -> TokenAnswer {
    let fields = form(&request.body);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    // RFC 6749 §2.3.1: Basic carries form-urlencoded id and secret.
    let basic = request
        .header("authorization")
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| STANDARD.decode(b64.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Some((decode(id), decode(secret)))
        });
    let post = field("client_secret").map(|secret| {
        (
            field("client_id").unwrap_or_default().to_string(),
            secret.to_string(),
        )
    });
    let (method, credentials) = match (basic, post.clone()) {
        (Some(_), Some(_)) => ("several", None),
        (Some(c), None) => ("client_secret_basic", Some(c)),
        (None, Some(c)) => ("client_secret_post", Some(c)),
        (None, None) => ("none", None),
    };
    let answer = |accepted: Option<bool>, status: u16, body: String| TokenAnswer {
        method: method.to_string(),
        accepted,
        status,
        body,
    };
    match endpoint {
        TokenEndpoint::Fixed { status, body } => answer(None, *status, body.clone()),
        TokenEndpoint::Twitch {
            client_id,
            client_secret,
        } => match post {
            None => answer(
                Some(false),
                400,
                r#"{"status":400,"message":"missing client secret"}"#.into(),
            ),
            Some((id, secret)) if id == *client_id && secret == *client_secret => answer(
                Some(true),
                400,
                r#"{"status":400,"message":"Invalid authorization code"}"#.into(),
            ),
            Some(_) => answer(
                Some(false),
                403,
                r#"{"status":403,"message":"invalid client secret"}"#.into(),
            ),
        },
        TokenEndpoint::OAuth {
            methods,
            client_id,
            client_secret,
        } => {
            let listed = methods.iter().any(|m| m == method);
            let right = credentials
                .as_ref()
                .is_some_and(|(id, secret)| id == client_id && secret == client_secret);
            if !listed || !right {
                // As terse as real providers are: Apple answers a client that authenticates
                // the wrong way with a bare `invalid_client`.
                let body = serde_json::json!({
                    "error": "invalid_client",
                    "error_description": "client authentication failed",
                });
                return answer(Some(false), 401, body.to_string());
            }
            if field("grant_type") != Some("authorization_code") {
                let body = r#"{"error":"unsupported_grant_type"}"#.to_string();
                return answer(Some(true), 400, body);
            }
            let body = serde_json::json!({
                "error": "invalid_grant",
                "error_description": "the authorization code is invalid or expired",
            });
            answer(Some(true), 400, body.to_string())
        }
    }
}
