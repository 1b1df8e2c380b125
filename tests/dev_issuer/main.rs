//! The development issuer over real loopback HTTP, driven by openidconnect 4's own client.

mod backchannel;
mod bad_input;
mod claims;
mod client_auth;
mod faults;
mod flows;
mod form_post;
mod logs;
mod metadata;
mod refresh;
mod tenants;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreProviderMetadata, CoreTokenResponse,
    CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use rocket::serde::json::serde_json::{Map, Value};
use rocket_openid_connect::dev_issuer::{DevIssuer, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::{BigUint, RsaPublicKey};
use sha2::{Digest, Sha256};

/// The client type `CoreClient::from_provider_metadata` returns.
pub type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// An app on a random loopback port: the default client accepts it (RFC 8252 §7.3).
pub const REDIRECT_URI: &str = "http://localhost:48123/authorization-code/callback";

/// An HTTP client that never follows redirects, as openidconnect requires.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn discover(issuer: &DevIssuer) -> Result<CoreProviderMetadata, String> {
    let url = IssuerUrl::new(issuer.issuer_url().to_owned()).unwrap();
    CoreProviderMetadata::discover_async(url, &http())
        .await
        .map_err(|e| format!("discovery: {e:?}"))
}

pub fn client(metadata: CoreProviderMetadata, id: &str, secret: Option<&str>) -> Client {
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(id.into()),
        secret.map(|s| ClientSecret::new(s.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap())
}

pub fn default_client(metadata: CoreProviderMetadata) -> Client {
    client(metadata, DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
}

/// What the authorization request sent, to check the response against.
pub struct Request {
    pub url: String,
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

pub fn authorization_request(client: &Client, scopes: &[&str]) -> Request {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for scope in scopes {
        request = request.add_scope(Scope::new(scope.to_string()));
    }
    let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
    Request {
        url: url.to_string(),
        state,
        nonce,
        verifier,
    }
}

/// The query parameters of a redirect's `Location`.
pub fn location_params(response: &reqwest::Response) -> Vec<(String, String)> {
    let location = response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap();
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The value of the hidden `request_id` field of the login page.
pub fn request_id(html: &str) -> String {
    let start = html
        .find("name=\"request_id\" value=\"")
        .expect("a request_id field")
        + 25;
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_owned()
}

/// Logs `username` in through the login form, as a browser would; returns the callback params.
pub async fn login_with_form(
    issuer: &DevIssuer,
    url: &str,
    username: &str,
) -> Vec<(String, String)> {
    let http = http();
    let page = http.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let response = http
        .post(format!("{}/login", issuer.issuer_url()))
        .form(&[
            ("request_id", request_id(&html).as_str()),
            ("username", username),
            ("action", "login"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    location_params(&response)
}

/// Follows the authorization request with auto-login on; returns the callback params.
pub async fn login_auto(url: &str) -> Vec<(String, String)> {
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    location_params(&response)
}

pub async fn exchange(
    client: &Client,
    code: &str,
    verifier: PkceCodeVerifier,
) -> Result<CoreTokenResponse, String> {
    client
        .exchange_code(AuthorizationCode::new(code.into()))
        .map_err(|e| format!("no token endpoint: {e:?}"))?
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .map_err(|e| format!("token: {e:?}"))
}

/// The decoded (unverified) JWS header and claims of a token.
pub fn decode(token: &str) -> (Map<String, Value>, Map<String, Value>) {
    let mut parts = token.split('.');
    let mut part = || -> Map<String, Value> {
        let bytes = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
        rocket::serde::json::from_slice(&bytes).unwrap()
    };
    (part(), part())
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16])
}

/// What a strict client ends up with.
#[derive(Debug)]
pub struct Login {
    pub tokens: CoreTokenResponse,
    pub id_token: String,
    pub claims: CoreIdTokenClaims,
    pub userinfo: CoreUserInfoClaims,
    pub callback: Vec<(String, String)>,
}

/// A complete login as a strict client does it: discovery, authorization with PKCE and nonce
/// (auto-login as ada), RFC 9207 `iss`, code exchange, full ID-token verification (including
/// the checks openidconnect skips: `azp`, `iat` not in the future, `at_hash`), and userinfo with
/// the expected subject. `Err` names the first step that failed.
pub async fn strict_login(issuer: &DevIssuer) -> Result<Login, String> {
    issuer.set_auto_login(Some("ada"));
    let metadata = discover(issuer).await?;
    if metadata.token_endpoint().is_none() {
        return Err("discovery: no token_endpoint".into());
    }
    let client = default_client(metadata);
    let request = authorization_request(&client, &["profile", "email"]);
    let callback = login_auto(&request.url).await;
    if let Some(error) = param(&callback, "error") {
        return Err(format!("authorization: {error}"));
    }
    if param(&callback, "iss") != Some(issuer.issuer_url()) {
        return Err(format!(
            "authorization: iss is {:?}",
            param(&callback, "iss")
        ));
    }
    if param(&callback, "state") != Some(request.state.secret().as_str()) {
        return Err("authorization: state".into());
    }
    let code = param(&callback, "code").ok_or("authorization: no code")?;
    let tokens = exchange(&client, code, request.verifier).await?;
    let id_token = tokens.id_token().ok_or("token: no id_token")?;
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &request.nonce)
        .map_err(|e| format!("id_token: {e:?}"))?
        .clone();
    let raw = id_token.to_string();
    let (_, raw_claims) = decode(&raw);
    if raw_claims
        .get("azp")
        .is_some_and(|azp| azp != DEFAULT_CLIENT_ID)
    {
        return Err("id_token: azp".into());
    }
    if raw_claims["iat"]
        .as_i64()
        .is_none_or(|iat| iat > now() + 60)
    {
        return Err("id_token: iat in the future".into());
    }
    if raw_claims["at_hash"] != at_hash(tokens.access_token().secret()) {
        return Err("id_token: at_hash".into());
    }
    let userinfo = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .map_err(|e| format!("userinfo: {e:?}"))?
        .request_async(&http())
        .await
        .map_err(|e| format!("userinfo: {e:?}"))?;
    Ok(Login {
        tokens,
        id_token: raw,
        claims,
        userinfo,
        callback,
    })
}

/// The issuer's JWK Set.
pub async fn jwks(issuer: &DevIssuer) -> Value {
    http()
        .get(format!("{}/jwks", issuer.issuer_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Whether `token` is RS256-signed by the JWKS key its `kid` names.
pub fn signature_verifies(token: &str, jwks: &Value) -> bool {
    let (header, _) = decode(token);
    let Some(key) = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| Some(&k["kid"]) == header.get("kid"))
    else {
        return false;
    };
    let number = |name: &str| {
        BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(key[name].as_str().unwrap()).unwrap())
    };
    let public = RsaPublicKey::new(number("n"), number("e")).unwrap();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let Ok(signature) = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(drop)
        .and_then(|s| Signature::try_from(s.as_slice()).map_err(drop))
    else {
        return false;
    };
    header["alg"] == "RS256"
        && VerifyingKey::<Sha256>::new(public)
            .verify(input.as_bytes(), &signature)
            .is_ok()
}
