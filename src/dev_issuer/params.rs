//! Strict parsing of `application/x-www-form-urlencoded` query strings and bodies, and client
//! authentication. Parsing by hand (instead of Rocket's form guards, which answer 422) lets every
//! endpoint answer malformed input with a standard OAuth error.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rocket::data::{Data, ToByteUnit};
use rocket::request::{FromRequest, Outcome, Request};

use super::request_log::OriginalUri;

/// The largest body an endpoint reads.
const BODY_LIMIT_KIB: u64 = 1024;

/// Why parameters could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParamError {
    /// A `%` not followed by two hex digits, or a value that is not UTF-8.
    Encoding,
    /// A parameter sent twice (RFC 6749 §3.1: "MUST NOT be included more than once").
    Duplicate(String),
    /// The body is larger than the limit, or could not be read.
    Body,
    /// A POST body that is not `application/x-www-form-urlencoded`.
    ContentType,
}

impl ParamError {
    pub fn description(&self) -> String {
        match self {
            ParamError::Encoding => "parameters are not valid form-urlencoded UTF-8".into(),
            ParamError::Duplicate(name) => format!("parameter `{name}` is repeated"),
            ParamError::Body => "the request body is too large or unreadable".into(),
            ParamError::ContentType => "the body must be application/x-www-form-urlencoded".into(),
        }
    }
}

/// Decoded parameters, in order, without empty values (RFC 6749 §3.1: "Parameters sent without a
/// value MUST be treated as if they were omitted").
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes one form-urlencoded component: `+` is a space, `%XX` a byte; anything else is an error.
pub(crate) fn decode(input: &str) -> Result<String, ParamError> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(ParamError::Encoding)?;
                let hex = std::str::from_utf8(hex).map_err(|_| ParamError::Encoding)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ParamError::Encoding);
                }
                out.push(u8::from_str_radix(hex, 16).map_err(|_| ParamError::Encoding)?);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ParamError::Encoding)
}

/// Parses a query string or form body.
pub(crate) fn parse(input: &str) -> Result<Params, ParamError> {
    let mut params: Vec<(String, String)> = Vec::new();
    for pair in input.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (decode(name)?, decode(value)?);
        if value.is_empty() {
            continue;
        }
        if params.iter().any(|(n, _)| *n == name) {
            return Err(ParamError::Duplicate(name));
        }
        params.push((name, value));
    }
    Ok(params.into())
}

impl From<Vec<(String, String)>> for Params {
    fn from(pairs: Vec<(String, String)>) -> Self {
        Params(pairs)
    }
}

/// What the endpoints need from a request besides the body: never fails.
pub(crate) struct RequestInfo {
    /// The raw (still percent-encoded) query string.
    pub query: Option<String>,
    /// Every `Authorization` header.
    pub authorization: Vec<String>,
    /// Whether the body is declared `application/x-www-form-urlencoded`.
    pub form_body: bool,
}

impl RequestInfo {
    pub fn query_params(&self) -> Result<Params, ParamError> {
        parse(self.query.as_deref().unwrap_or(""))
    }

    /// Reads and parses a form body.
    pub async fn body_params(&self, data: Data<'_>) -> Result<Params, ParamError> {
        if !self.form_body {
            return Err(ParamError::ContentType);
        }
        let body = data
            .open(BODY_LIMIT_KIB.kibibytes())
            .into_string()
            .await
            .map_err(|_| ParamError::Encoding)?;
        if !body.is_complete() {
            return Err(ParamError::Body);
        }
        parse(&body.into_inner())
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RequestInfo {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(RequestInfo {
            // The URI the client sent: the log fairing has replaced `request.uri()`.
            query: match &request.local_cache(|| OriginalUri(None)).0 {
                Some(original) => original.query().map(|q| q.as_str().to_owned()),
                None => request.uri().query().map(|q| q.as_str().to_owned()),
            },
            authorization: request
                .headers()
                .get("Authorization")
                .map(str::to_owned)
                .collect(),
            form_body: request.content_type().is_some_and(|ct| ct.is_form()),
        })
    }
}

/// The client credentials a token or revocation request presents (RFC 6749 §2.3.1).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ClientCredentials {
    pub client_id: String,
    pub client_secret: Option<String>,
    /// Whether they came in an `Authorization: Basic` header.
    pub basic: bool,
}

/// Why no client credentials could be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CredentialsError {
    /// Malformed (`invalid_request`), e.g. two methods at once or bad base64.
    Malformed(&'static str),
    /// A malformed `Authorization: Basic` header (`invalid_client`, with the challenge).
    BadBasic(&'static str),
    /// No client identified at all (`invalid_client`).
    Missing,
}

/// Reads client credentials from a Basic header (base64 of the form-urlencoded id and secret
/// joined by `:`) or from `client_id`/`client_secret` body parameters; using both is an error.
pub(crate) fn client_credentials(
    info: &RequestInfo,
    params: &Params,
) -> Result<ClientCredentials, CredentialsError> {
    if info.authorization.len() > 1 {
        return Err(CredentialsError::Malformed(
            "more than one Authorization header",
        ));
    }
    if let Some(header) = info.authorization.first() {
        let (scheme, value) = header.split_once(' ').unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(CredentialsError::BadBasic(
                "only Basic client authentication is supported",
            ));
        }
        if params.get("client_secret").is_some() {
            return Err(CredentialsError::Malformed(
                "use one client authentication method, not Basic and client_secret together",
            ));
        }
        let decoded = STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(CredentialsError::BadBasic(
                "the Basic credentials are not base64 of UTF-8",
            ))?;
        let (id, secret) = decoded.split_once(':').ok_or(CredentialsError::BadBasic(
            "the Basic credentials have no `:`",
        ))?;
        let bad = |_| CredentialsError::BadBasic("the Basic credentials are not form-urlencoded");
        let (client_id, client_secret) = (decode(id).map_err(bad)?, decode(secret).map_err(bad)?);
        if params
            .get("client_id")
            .is_some_and(|body_id| body_id != client_id)
        {
            return Err(CredentialsError::Malformed(
                "client_id differs from the Basic credentials",
            ));
        }
        return Ok(ClientCredentials {
            client_id,
            client_secret: Some(client_secret),
            basic: true,
        });
    }
    match params.get("client_id") {
        Some(client_id) => Ok(ClientCredentials {
            client_id: client_id.to_owned(),
            client_secret: params.get("client_secret").map(str::to_owned),
            basic: false,
        }),
        None => Err(CredentialsError::Missing),
    }
}

/// Compares secrets in time independent of where they differ.
pub(crate) fn secrets_match(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_decodes() {
        let params = parse("a=1&b=x+y%2Bz&c=&&d=%C3%A9").unwrap();
        assert_eq!(params.get("a"), Some("1"));
        assert_eq!(params.get("b"), Some("x y+z"));
        assert_eq!(params.get("c"), None);
        assert_eq!(params.get("d"), Some("é"));
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(parse("a=%zz").unwrap_err(), ParamError::Encoding);
        assert_eq!(parse("a=%4").unwrap_err(), ParamError::Encoding);
        assert_eq!(parse("a=%ff").unwrap_err(), ParamError::Encoding);
        assert_eq!(parse("a=%+1").unwrap_err(), ParamError::Encoding);
        assert_eq!(
            parse("a=1&a=2").unwrap_err(),
            ParamError::Duplicate("a".into())
        );
    }

    fn info(authorization: &[&str]) -> RequestInfo {
        RequestInfo {
            query: None,
            authorization: authorization.iter().map(|s| s.to_string()).collect(),
            form_body: true,
        }
    }

    #[test]
    fn basic_credentials_are_form_urlencoded() {
        // id "my client", secret "p:a%s+s" → form-urlencoded "my+client:p%3Aa%25s%2Bs".
        let header = format!("Basic {}", STANDARD.encode("my+client:p%3Aa%25s%2Bs"));
        let creds = client_credentials(&info(&[&header]), &Params::default()).unwrap();
        assert_eq!(creds.client_id, "my client");
        assert_eq!(creds.client_secret.as_deref(), Some("p:a%s+s"));
        assert!(creds.basic);
    }

    #[test]
    fn credential_errors() {
        let both = parse("client_secret=x").unwrap();
        let header = format!("Basic {}", STANDARD.encode("a:b"));
        assert!(matches!(
            client_credentials(&info(&[&header]), &both),
            Err(CredentialsError::Malformed(_))
        ));
        assert!(matches!(
            client_credentials(&info(&["Basic !!!"]), &Params::default()),
            Err(CredentialsError::BadBasic(_))
        ));
        assert_eq!(
            client_credentials(&info(&[]), &Params::default()),
            Err(CredentialsError::Missing)
        );
        assert!(secrets_match("abc", "abc"));
        assert!(!secrets_match("abc", "abd"));
        assert!(!secrets_match("abc", "abcd"));
    }
}
