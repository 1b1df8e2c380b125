//! Fault switches: each one makes the issuer misbehave in exactly one way a real provider (or an
//! attacker in the middle) can.

use std::time::Duration;

use rocket::serde::json::serde_json::Value;

/// One way for the development issuer to misbehave, switched on at runtime with
/// [`DevIssuer::set_fault`](super::DevIssuer::set_fault) and off with
/// [`DevIssuer::clear_faults`](super::DevIssuer::clear_faults).
///
/// A fault takes effect from the next request on. Each variant corrupts exactly one thing, so a
/// test can show that a strict client rejects precisely that corruption. Faults combine: with
/// [`Fault::NoKid`] and [`Fault::ExtraJwksKey`] together, a token without `kid` meets a JWKS with
/// two keys. ID-token faults apply to every ID token issued, from the authorization-code grant
/// and from the refresh grant alike.
///
/// In the descriptions below, "the client" is the client the token is issued to, and `now` is the
/// time of issue.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    // --- ID token claims ---
    /// ID token `iss` is `http://wrong-issuer.invalid` instead of the issuer URL.
    WrongIssuer,
    /// ID token `aud` is `"another-client"` instead of the client's id.
    WrongAudience,
    /// ID token gains `azp: "another-client"`; `aud` stays the client's id. (openidconnect does
    /// not check `azp`; OpenID Connect Core §3.1.3.7 step 5 says a client should.)
    WrongAzp,
    /// ID token `aud` is `[client_id, "another-audience"]`, with no `azp` (OpenID Connect Core
    /// §3.1.3.7 step 4: a client should reject audiences it does not trust).
    ExtraAudience,
    /// ID token has no `sub`.
    MissingSub,
    /// ID token has no `iat`.
    MissingIat,
    /// ID token has no `exp`.
    MissingExp,
    /// ID token `iat` is one hour in the future (`exp` unchanged, still in the future).
    IatInFuture,
    /// ID token expired an hour ago: `exp = now - 3600`, `iat = exp - token lifetime`
    /// (and `auth_time` no later than `iat`).
    Expired,
    /// ID token `nonce` is `"not-the-nonce-you-sent"`.
    WrongNonce,
    /// ID token has no `nonce`, even though the authorization request had one.
    MissingNonce,
    /// ID token `at_hash` is the hash of a different access token.
    WrongAtHash,
    /// Sets (adds or overrides) one ID-token claim, after every other fault is applied:
    /// e.g. `Fault::Claim("exp".into(), json!("soon"))`, a float, a negative or a huge number.
    Claim(String, Value),
    /// Removes one ID-token claim, after every other fault is applied.
    RemoveClaim(String),
    /// Adds a `groups` claim with this many long group names to the ID token, userinfo and JWT
    /// access tokens (whatever the scopes), so that 300 groups make the token set larger than
    /// 8 KB.
    ManyGroups(usize),

    // --- ID token signature ---
    /// The RS256 signature has its first and last bytes flipped.
    BadSignature,
    /// Header `{"alg":"none","typ":"JWT"}` and an empty signature (`header.payload.`).
    AlgNone,
    /// Header `alg: HS256` with the signing key's `kid`, HMAC-SHA-256 keyed with the text of the
    /// signing key's public key as `SubjectPublicKeyInfo` PEM (`-----BEGIN PUBLIC KEY-----`, LF
    /// line endings, trailing newline): the classic algorithm-confusion attack.
    Hs256WithPublicKey,
    /// Header `alg: HS256` (no `kid`), HMAC-SHA-256 keyed with the client's secret (the empty
    /// string for a public client). OpenID Connect Core §10.1 allows this only if the client
    /// asked for it at registration.
    Hs256WithClientSecret,
    /// The JWS header has no `kid`.
    NoKid,
    /// Key rotation: the issuer signs with key B instead of key A, and the JWKS publishes A and B.
    /// A client that cached the JWKS before the fault was set sees an unknown `kid` and must fetch
    /// the JWKS again.
    RotatedKey,
    /// The JWKS publishes a second key (C) next to the signing key, so a token without `kid`
    /// (see [`Fault::NoKid`]) is ambiguous.
    ExtraJwksKey,
    /// The JWS header's `kid` names no published key: a fresh random value
    /// (`unknown-<random>`) on every token, signature by the current key. Every such token sends
    /// a client that refetches the JWKS on an unknown `kid` back to the JWKS endpoint, which
    /// shows whether it rate-limits those refetches.
    UnknownKid,

    // --- Authorization response ---
    /// The authorization response's `iss` (RFC 9207) is `http://wrong-issuer.invalid`.
    AuthResponseWrongIssuer,
    /// The authorization response has no `iss`, although discovery promises it
    /// (`authorization_response_iss_parameter_supported: true`).
    AuthResponseMissingIssuer,
    /// Instead of a code, the authorization response is `error=access_denied` with
    /// `error_description=<script>alert(1)</script>`, to check the client escapes it.
    AuthResponseErrorHtml,

    // --- Token endpoint ---
    /// The token endpoint answers 401 `invalid_client` (with `WWW-Authenticate: Basic`).
    TokenInvalidClient,
    /// The token endpoint answers 400 `invalid_grant`.
    TokenInvalidGrant,
    /// The token endpoint answers 500 with an HTML body.
    TokenServerError,
    /// `/token` and `/revoke` refuse a client secret sent in the form body
    /// (`client_secret_post`) with 401 `invalid_client`, as a provider does for a client
    /// registered with `token_endpoint_auth_method: client_secret_basic`; the Basic header
    /// still works.
    ClientSecretBasicOnly,
    /// The token response has no `id_token`.
    TokenMissingIdToken,
    /// The token response has wrong JSON types: `access_token` is the number `12345` and
    /// `expires_in` is the string `"3600abc"`.
    TokenWrongTypes,

    // --- Refresh grant ---
    /// Only the token endpoint waits this long before answering (on top of any
    /// [`Fault::Delay`]; several `DelayToken` faults add up): a slow refresh, while discovery,
    /// JWKS and userinfo answer at once.
    DelayToken(Duration),
    /// The ID token of a refresh response has `sub: "someone-else"` (OpenID Connect Core §12.2:
    /// its `sub` must be the original one). The authorization-code grant is unaffected.
    RefreshWrongSub,
    /// A refresh response has no `id_token`, as Okta's may (OpenID Connect Core §12.2 makes it
    /// optional).
    RefreshNoIdToken,
    /// The ID token of a refresh response has no `nonce`, as Keycloak ≥ 25 sends it (OpenID
    /// Connect Core §12.2 allows it to be absent).
    RefreshNoNonce,
    /// A refresh response has no `refresh_token` (RFC 6749 §6: the client keeps the old one), as
    /// Google's does; the presented refresh token is not consumed and stays valid, whatever the
    /// [`RefreshRotation`](super::RefreshRotation).
    RefreshNoRefreshToken,

    // --- Back-channel logout tokens ---
    // Each corrupts one rule of OpenID Connect Back-Channel Logout 1.0 §2.4/§2.6 in every logout
    // token sent; the ID-token faults above never touch logout tokens.
    /// Logout token `iss` is `http://wrong-issuer.invalid`.
    LogoutWrongIssuer,
    /// Logout token `aud` is `"another-client"`.
    LogoutWrongAudience,
    /// Logout token `iat` is one hour in the future (`exp` = `iat` + 2 minutes).
    LogoutIatInFuture,
    /// Logout token expired an hour ago: `exp = now - 3600`, `iat = exp - 120`.
    LogoutExpired,
    /// Logout token has no `events` claim.
    LogoutMissingEvents,
    /// Logout token `events` holds the back-channel logout event with a non-object value:
    /// `{"http://schemas.openid.net/event/backchannel-logout": "logout"}` (§2.4: a JSON
    /// object, `{}` by default).
    LogoutEventsNotObject,
    /// Logout token has neither `sid` nor `sub` (§2.4: it must have one).
    LogoutNoSidNoSub,
    /// Logout token carries `nonce: "n-0S6_WzA2Mj"` (§2.4: prohibited, so that an ID token
    /// cannot pass as a logout token).
    LogoutWithNonce,
    /// Logout token has no `jti`.
    LogoutMissingJti,
    /// Logout token header `typ` is `JWT` instead of `logout+jwt` (§2.4, explicit typing).
    LogoutWrongTyp,
    /// Logout token signature has its first and last bytes flipped.
    LogoutBadSignature,
    /// Logout token header `{"alg":"none","typ":"logout+jwt"}` and an empty signature.
    LogoutAlgNone,
    /// Logout token header `kid` names no published key (`unknown-<random>`), signature by the
    /// current key.
    LogoutUnknownKid,

    // --- Claims for authorization ---
    /// Entra ID's group overage (more than 200 groups; OpenID Connect Core §5.6.2, distributed
    /// claims): the ID token, userinfo and JWT access tokens have no `groups` claim, whatever
    /// the scopes, and instead `_claim_names: {"groups": "src1"}` and `_claim_sources: {"src1":
    /// {"endpoint": "https://graph.microsoft.com/v1.0/users/<sub>/getMemberObjects"}}`, as
    /// Entra sends them. (The issuer does not serve that endpoint.)
    GroupOverage,

    // --- Userinfo ---
    /// Userinfo returns `sub: "someone-else"`.
    UserinfoSubMismatch,
    /// Userinfo answers 500 with an HTML body.
    UserinfoServerError,
    /// Userinfo answers 401 `WWW-Authenticate: Bearer error="invalid_token"` for every token.
    UserinfoUnauthorized,

    // --- Discovery and JWKS ---
    /// The discovery document's `issuer` is the issuer URL with `/other` appended.
    DiscoveryWrongIssuer,
    /// Discovery answers 500 with an HTML body.
    DiscoveryServerError,
    /// Discovery answers 200 with an HTML page instead of JSON.
    DiscoveryNotJson,
    /// The discovery document has no `jwks_uri`.
    DiscoveryMissingJwksUri,
    /// The discovery document has no `token_endpoint`.
    DiscoveryMissingTokenEndpoint,
    /// Discovery answers with a valid document padded with whitespace to about `mb` MiB, streamed
    /// (chunked, no `Content-Length`) and never held in memory.
    HugeDiscovery {
        /// Size of the padding in MiB.
        mb: u32,
    },
    /// The JWKS endpoint answers with a valid JWK Set padded to about `mb` MiB, streamed like
    /// [`Fault::HugeDiscovery`].
    HugeJwks {
        /// Size of the padding in MiB.
        mb: u32,
    },

    // --- Timing ---
    /// Discovery, JWKS, token and userinfo wait this long before answering. (Several `Delay`
    /// faults add up.)
    Delay(Duration),
    /// Only the JWKS endpoint waits this long before answering (on top of any
    /// [`Fault::Delay`]; several `DelayJwks` faults add up), so that a client's JWKS refetch can be
    /// slow while the rest of the login is not.
    DelayJwks(Duration),

    // --- Metadata real providers publish (issue 12, items 8 and 9) ---
    /// The OpenID discovery document has no `revocation_endpoint` (nor
    /// `revocation_endpoint_auth_methods_supported`), while the RFC 8414 document at
    /// `/.well-known/oauth-authorization-server` still lists it, as one widely used provider
    /// publishes them. Revocation itself keeps working.
    DiscoveryMissingRevocationEndpoint,
    /// `/.well-known/openid-configuration` answers `status` (301, 302, 303, 307 or 308; a code
    /// outside 300–399 is sent as 302) with an absolute `Location`, and so does every hop until the
    /// `hops`-th (0 counts as 1), which serves the discovery document: the path chain is
    /// `/moved/1/openid-configuration`, `/moved/2/openid-configuration`, …. The document's
    /// `issuer` stays the issuer URL, as Verimi's does behind its 302. Every hop counts as a
    /// discovery call and waits out [`Fault::Delay`].
    DiscoveryRedirect {
        /// The redirect status code.
        status: u16,
        /// How many redirects before the document.
        hops: u8,
    },
    /// A redirect loop: `/.well-known/openid-configuration` answers `status` to
    /// `/moved/loop/openid-configuration`, which answers `status` back to
    /// `/.well-known/openid-configuration`, for ever.
    DiscoveryRedirectLoop {
        /// The redirect status code.
        status: u16,
    },
    /// The issuer accepts only `client_secret_post`, as Apple and Twitch do:
    /// `token_endpoint_auth_methods_supported` and `revocation_endpoint_auth_methods_supported`
    /// are `["client_secret_post"]` (in both metadata documents, without the signing-algorithm
    /// lists), and `/token` and `/revoke` refuse an `Authorization: Basic` header with 401
    /// `invalid_client`. The opposite of [`Fault::ClientSecretBasicOnly`].
    ClientSecretPostOnly,
    /// Next to the signing key(s), the JWKS publishes two keys that cannot verify a signature:
    /// an RSA encryption key `{"kty":"RSA","use":"enc","alg":"RSA-OAEP",...}` (a real RSA-2048
    /// public key, as Keycloak publishes one) and an X25519 key
    /// `{"kty":"OKP","crv":"X25519","x":...}` without `use` or `alg` (as PayPal publishes one).
    /// Each has its own RFC 7638 thumbprint as `kid`; ID tokens are still signed with the
    /// signing key and verify.
    JwksEncryptionKeys,
    /// The JWKS publishes the signing key(s) without `use` and `alg` (both optional, RFC 7517
    /// §4.2 and §4.4), as MojeID does: `{"kty":"RSA","kid":...,"n":...,"e":...}`. ID tokens
    /// still verify; a client must not require either member.
    JwksKeyWithoutUseAndAlg,

    // --- Answers outside the specifications (issue 12 item 9; helper metadata-fixes) ---
    /// `/token` answers every request with `status` and `body` (sent as JSON when it parses as
    /// JSON, else as HTML), before looking at the client: a token endpoint that does not speak
    /// RFC 6749 §5.2, such as Twitch's `{"status":403,"message":"invalid client secret"}` or the
    /// `{"code":"BadRequest",...}` of an Amazon Cognito user pool without a domain.
    TokenRaw {
        /// The HTTP status.
        status: u16,
        /// The body.
        body: String,
    },
    /// The JWKS publishes the RSA signing keys' `n` and `e` in standard base64 with `=`
    /// padding (`+` and `/` instead of `-` and `_`), as Battle.net does, instead of the
    /// unpadded base64url of RFC 7518 §6.3.1. The key is the same; ID tokens verify with it.
    JwksStandardBase64,
    /// Neither metadata document has an `end_session_endpoint`, as 18 of the 34 real
    /// providers' documents (Google, Apple, Auth0 unless RP-initiated logout is enabled, ...).
    /// `/end_session` itself still answers.
    NoEndSessionEndpoint,
    /// The provider offers no authorization code flow, as Facebook's Limited Login:
    /// `response_types_supported` is `["id_token", "token id_token"]` and neither metadata
    /// document has a `token_endpoint`.
    ImplicitOnly,
}

/// The list of faults switched on, with questions the endpoints ask of it.
#[derive(Debug, Default, Clone)]
pub(crate) struct Faults(pub Vec<Fault>);

impl Faults {
    /// Whether `fault` is on (compared with `==`, so use it for variants without data).
    pub fn has(&self, fault: &Fault) -> bool {
        self.0.contains(fault)
    }

    /// Total [`Fault::Delay`].
    pub fn delay(&self) -> Duration {
        self.0
            .iter()
            .map(|fault| match fault {
                Fault::Delay(delay) => *delay,
                _ => Duration::ZERO,
            })
            .sum()
    }

    /// Total [`Fault::DelayJwks`].
    pub fn delay_jwks(&self) -> Duration {
        self.0
            .iter()
            .map(|fault| match fault {
                Fault::DelayJwks(delay) => *delay,
                _ => Duration::ZERO,
            })
            .sum()
    }

    /// The number of extra groups of [`Fault::ManyGroups`], if on.
    pub fn many_groups(&self) -> Option<usize> {
        self.0.iter().rev().find_map(|fault| match fault {
            Fault::ManyGroups(n) => Some(*n),
            _ => None,
        })
    }

    /// Padding in MiB of [`Fault::HugeDiscovery`], if on.
    pub fn huge_discovery(&self) -> Option<u32> {
        self.0.iter().rev().find_map(|fault| match fault {
            Fault::HugeDiscovery { mb } => Some(*mb),
            _ => None,
        })
    }

    /// The last [`Fault::DiscoveryRedirect`] or [`Fault::DiscoveryRedirectLoop`], if on.
    pub fn discovery_redirect(&self) -> Option<&Fault> {
        self.0.iter().rev().find(|fault| {
            matches!(
                fault,
                Fault::DiscoveryRedirect { .. } | Fault::DiscoveryRedirectLoop { .. }
            )
        })
    }

    /// The status and body of the last [`Fault::TokenRaw`], if on.
    pub fn token_raw(&self) -> Option<(u16, &str)> {
        self.0.iter().rev().find_map(|fault| match fault {
            Fault::TokenRaw { status, body } => Some((*status, body.as_str())),
            _ => None,
        })
    }

    /// Padding in MiB of [`Fault::HugeJwks`], if on.
    pub fn huge_jwks(&self) -> Option<u32> {
        self.0.iter().rev().find_map(|fault| match fault {
            Fault::HugeJwks { mb } => Some(*mb),
            _ => None,
        })
    }
}

/// Questions about the refresh-grant faults.
impl Faults {
    /// Total [`Fault::DelayToken`].
    pub fn delay_token(&self) -> Duration {
        self.0
            .iter()
            .map(|fault| match fault {
                Fault::DelayToken(delay) => *delay,
                _ => Duration::ZERO,
            })
            .sum()
    }

    /// The faults for the ID token of a refresh response: the refresh-only ones become the
    /// ID-token faults they amount to.
    pub fn for_refreshed_id_token(&self) -> Faults {
        let mut faults = self.clone();
        if self.has(&Fault::RefreshNoNonce) {
            faults.0.push(Fault::MissingNonce);
        }
        if self.has(&Fault::RefreshWrongSub) {
            faults
                .0
                .push(Fault::Claim("sub".into(), Value::from("someone-else")));
        }
        faults
    }
}

/// Rewrites the `n` and `e` of every RSA key of a JWK Set in standard, padded base64
/// ([`Fault::JwksStandardBase64`]).
pub(crate) fn standard_base64(document: &mut Value) {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let Some(keys) = document.get_mut("keys").and_then(Value::as_array_mut) else {
        return;
    };
    for key in keys.iter_mut().filter(|k| k["kty"] == "RSA") {
        for member in ["n", "e"] {
            let decoded = key[member]
                .as_str()
                .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok());
            if let Some(bytes) = decoded {
                key[member] = Value::String(STANDARD.encode(bytes));
            }
        }
    }
}

/// The group names [`Fault::ManyGroups`] adds: long, realistic, distinct.
pub(crate) fn many_groups(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("org-engineering-platform-team-{i:04}-readers"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_delay_adds_up_and_is_separate_from_delay() {
        let faults = Faults(vec![
            Fault::Delay(Duration::from_secs(1)),
            Fault::DelayJwks(Duration::from_secs(2)),
            Fault::DelayJwks(Duration::from_millis(500)),
        ]);
        assert_eq!(faults.delay(), Duration::from_secs(1));
        assert_eq!(faults.delay_jwks(), Duration::from_millis(2500));
        assert_eq!(Faults::default().delay_jwks(), Duration::ZERO);
    }
}
