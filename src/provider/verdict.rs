//! What the token endpoint's answer to the credential check means (ignite step 3): the check
//! sends an authorization-code grant with a code that cannot be valid, so a provider that
//! authenticated the client answers `invalid_grant`, and one that did not answers 401 or
//! `invalid_client` (RFC 6749 §5.2). Real providers also answer outside RFC 6749: Twitch's
//! `{"status":403,"message":"invalid client secret"}`, or the `{"code":"BadRequest"}` of an
//! Amazon Cognito user pool without a domain. [`judge`] sorts them all, as a pure function.

use rocket::serde::json::serde_json::{self, Value};

use crate::util;

/// The longest excerpt of a body quoted in the launch log.
const EXCERPT_CHARS: usize = 160;

/// What the answer to the credential check says about the client's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// `invalid_grant`: the client was authenticated, then the made-up code refused.
    Accepted,
    /// 401, 403, or `invalid_client`: the client was not authenticated.
    Rejected {
        /// The OAuth `error`, if the answer has one.
        error: Option<String>,
        /// `error_description`, else a `message` member (Twitch), cut short.
        description: Option<String>,
    },
    /// `unauthorized_client`: the client may not use the authorization-code grant.
    UnauthorizedClient,
    /// A 5xx: the provider failed.
    ServerError,
    /// A 2xx without an `error` member: the endpoint accepted a made-up code. Its body is
    /// never quoted: it may hold tokens.
    CodeAccepted,
    /// Anything else: the credentials are neither confirmed nor rejected.
    Inconclusive {
        /// The OAuth `error`, if the answer has one (`invalid_request`, ...).
        error: Option<String>,
        /// The body, whitespace collapsed, control characters removed, the client secret
        /// redacted, cut to [`EXCERPT_CHARS`] characters.
        excerpt: String,
    },
}

/// Judges the token endpoint's answer of `status` and `body` to the credential check. `secret`
/// (the client secret) is redacted from anything quoted, in case an endpoint echoes its
/// request.
pub(crate) fn judge(status: u16, body: &[u8], secret: Option<&str>) -> Verdict {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let member = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(Value::as_str)
            .map(|text| redact(text, secret))
    };
    let error = member("error").map(|e| util::truncate(&e, 64));
    match (status, error.as_deref()) {
        (401, _) | (_, Some("invalid_client")) => Verdict::Rejected {
            description: member("error_description")
                .or_else(|| member("message"))
                .map(|d| util::truncate(&d, 200)),
            error,
        },
        (_, Some("invalid_grant")) => Verdict::Accepted,
        (_, Some("unauthorized_client")) => Verdict::UnauthorizedClient,
        // RFC 9110 §15.5.4: the server understood and refuses; Twitch's wrong secret.
        (403, _) => Verdict::Rejected {
            description: member("error_description")
                .or_else(|| member("message"))
                .map(|d| util::truncate(&d, 200)),
            error,
        },
        (500.., _) => Verdict::ServerError,
        // A 2xx with an `error` member is an error in the wrong status (GitHub's token endpoint
        // answers 200 `{"error":"bad_verification_code"}`): quoted below like any other.
        (200..=299, None) => Verdict::CodeAccepted,
        _ => Verdict::Inconclusive {
            error,
            excerpt: excerpt(body, secret),
        },
    }
}

/// `body` as one short line: lossy UTF-8, whitespace runs collapsed to one space, the secret
/// redacted, cut to [`EXCERPT_CHARS`] characters (control characters dropped).
fn excerpt(body: &[u8], secret: Option<&str>) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    util::truncate(&redact(&line, secret), EXCERPT_CHARS)
}

/// `text` with every occurrence of `secret` (as is, and form-urlencoded) replaced.
fn redact(text: &str, secret: Option<&str>) -> String {
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return text.to_owned();
    };
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    text.replace(secret, "<redacted>")
        .replace(&encoded, "<redacted>")
}

/// A hint for a credential check that was not confirmed, when the provider is recognisable:
/// an Amazon Cognito user pool without a domain advertises endpoints on the issuer's host
/// (`cognito-idp.<region>.amazonaws.com`) that answer `{"code":"BadRequest"}` to every login;
/// with a domain, the endpoints are on the domain.
pub(crate) fn provider_hint(issuer: &str, authorization_endpoint: &str) -> Option<&'static str> {
    let host = |u: &str| {
        url::Url::parse(u)
            .ok()?
            .host_str()
            .map(str::to_ascii_lowercase)
    };
    let issuer_host = host(issuer)?;
    let cognito =
        issuer_host.starts_with("cognito-idp.") && issuer_host.ends_with(".amazonaws.com");
    (cognito && host(authorization_endpoint).as_ref() == Some(&issuer_host)).then_some(
        "this Amazon Cognito user pool seems to have no domain: the endpoints it advertises \
         without one do not serve logins; add a domain (App integration → Domain) and launch \
         again",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Twitch's answers (see `provider-metadata/twitch/SOURCE.md`): a bad code with the right
    /// secret, a wrong secret, and no secret in the body.
    const TWITCH_BAD_CODE: &str = r#"{"status":400,"message":"Invalid authorization code"}"#;
    const TWITCH_WRONG_SECRET: &str = r#"{"status":403,"message":"invalid client secret"}"#;
    const TWITCH_NO_SECRET: &str = r#"{"status":400,"message":"missing client secret"}"#;
    /// What a Cognito user pool without a domain answers (`provider-metadata/cognito-nodomain/SOURCE.md`).
    const COGNITO_BAD_REQUEST: &str = r#"{"code":"BadRequest","message":"The server did not understand the operation that was requested.","type":"client"}"#;

    fn rejected(error: Option<&str>, description: Option<&str>) -> Verdict {
        Verdict::Rejected {
            error: error.map(str::to_owned),
            description: description.map(str::to_owned),
        }
    }

    #[test]
    fn the_table() {
        let cases: &[(u16, &str, Verdict)] = &[
            (
                401,
                r#"{"error":"invalid_client","error_description":"bad secret"}"#,
                rejected(Some("invalid_client"), Some("bad secret")),
            ),
            (401, "", rejected(None, None)),
            // Keycloak answers a wrong secret with 401 unauthorized_client.
            (
                401,
                r#"{"error":"unauthorized_client"}"#,
                rejected(Some("unauthorized_client"), None),
            ),
            (
                400,
                r#"{"error":"invalid_client"}"#,
                rejected(Some("invalid_client"), None),
            ),
            (
                403,
                TWITCH_WRONG_SECRET,
                rejected(None, Some("invalid client secret")),
            ),
            (
                403,
                r#"{"error":"access_denied"}"#,
                rejected(Some("access_denied"), None),
            ),
            (400, r#"{"error":"invalid_grant"}"#, Verdict::Accepted),
            (
                400,
                r#"{"error":"unauthorized_client"}"#,
                Verdict::UnauthorizedClient,
            ),
            (500, "<html>oops</html>", Verdict::ServerError),
            (503, r#"{"error":"invalid_grant"}"#, Verdict::Accepted),
            (502, "", Verdict::ServerError),
            (
                200,
                r#"{"access_token":"at-SECRET","token_type":"Bearer"}"#,
                Verdict::CodeAccepted,
            ),
            (
                200,
                r#"{"error":"bad_verification_code"}"#,
                Verdict::Inconclusive {
                    error: Some("bad_verification_code".into()),
                    excerpt: r#"{"error":"bad_verification_code"}"#.into(),
                },
            ),
            (
                400,
                TWITCH_BAD_CODE,
                Verdict::Inconclusive {
                    error: None,
                    excerpt: TWITCH_BAD_CODE.into(),
                },
            ),
            (
                400,
                TWITCH_NO_SECRET,
                Verdict::Inconclusive {
                    error: None,
                    excerpt: TWITCH_NO_SECRET.into(),
                },
            ),
            (
                400,
                r#"{"error":"invalid_request"}"#,
                Verdict::Inconclusive {
                    error: Some("invalid_request".into()),
                    excerpt: r#"{"error":"invalid_request"}"#.into(),
                },
            ),
            (
                302,
                "",
                Verdict::Inconclusive {
                    error: None,
                    excerpt: String::new(),
                },
            ),
        ];
        for (status, body, expected) in cases {
            assert_eq!(
                &judge(*status, body.as_bytes(), Some("s3cret")),
                expected,
                "{status} {body}"
            );
        }
    }

    #[test]
    fn non_oauth_bodies_are_quoted_short() {
        let Verdict::Inconclusive { error, excerpt } =
            judge(400, COGNITO_BAD_REQUEST.as_bytes(), None)
        else {
            panic!("inconclusive expected");
        };
        assert_eq!(error, None);
        assert_eq!(excerpt, COGNITO_BAD_REQUEST);
        let long = format!("<html>{}</html>", "x".repeat(500));
        let Verdict::Inconclusive { excerpt, .. } = judge(404, long.as_bytes(), None) else {
            panic!("inconclusive expected");
        };
        assert_eq!(excerpt.chars().count(), EXCERPT_CHARS + 1, "{excerpt}");
        assert!(excerpt.starts_with("<html>xxx") && excerpt.ends_with('…'));
    }

    #[test]
    fn excerpts_are_one_line_and_never_hold_the_secret() {
        let body = "{\n  \"echo\": \"client_secret=a%2Bb&x\",\n\t\"raw\": \"a+b\" \u{7}}";
        let Verdict::Inconclusive { excerpt, .. } = judge(400, body.as_bytes(), Some("a+b")) else {
            panic!("inconclusive expected");
        };
        assert_eq!(
            excerpt,
            r#"{ "echo": "client_secret=<redacted>&x", "raw": "<redacted>" }"#
        );
        let Verdict::Rejected { description, .. } = judge(
            401,
            br#"{"error":"invalid_client","error_description":"secret a+b is wrong"}"#,
            Some("a+b"),
        ) else {
            panic!("rejected expected");
        };
        assert_eq!(description.as_deref(), Some("secret <redacted> is wrong"));
        let invalid_utf8 = judge(400, b"\xff\xfe bad", None);
        assert!(matches!(invalid_utf8, Verdict::Inconclusive { .. }));
    }

    #[test]
    fn cognito_without_a_domain_is_recognised_by_its_hosts() {
        // `provider-metadata/cognito-nodomain/discovery.json` and `cognito/discovery.json`.
        assert!(provider_hint(
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_FDyGrrjP6",
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_FDyGrrjP6/authorize",
        )
        .is_some());
        assert_eq!(
            provider_hint(
                "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_4OqDoWVrZ",
                "https://auth-groovycalamari.auth.us-east-1.amazoncognito.com/oauth2/authorize",
            ),
            None
        );
        assert_eq!(
            provider_hint("http://127.0.0.1:9", "http://127.0.0.1:9/authorize"),
            None
        );
    }
}
