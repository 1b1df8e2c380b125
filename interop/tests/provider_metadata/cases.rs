//! What each provider's published metadata must lead to: the app launches and `/login`
//! redirects correctly, or launch fails with a message that says what to do.
//!
//! Every folder of the metadata directory needs a main case here (one with `variant: ""`), and
//! every case a folder: a new provider gets an expectation before it gets a green run. Where
//! the library is wrong today, the expectation is the correct behaviour, not today's
//! (`/work/notes/provider-metadata-findings.md` lists which cases fail today and why).

/// One launch of the quickstart against one provider's documents.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// The provider's folder in the metadata directory.
    pub provider: &'static str,
    /// What this case varies, when a provider has more than one; `""` for its main case.
    pub variant: &'static str,
    /// The issuer the app is configured with, as the provider publishes it, when it is not the
    /// document's `issuer`: Entra's `/common` URL, whose document names a `{tenantid}` template.
    pub issuer: Option<&'static str>,
    /// Where the document really lives, as published, when the discovery URL answers with a
    /// redirect there (302), as Verimi's does.
    pub redirect_to: Option<&'static str>,
    /// How the token endpoint answers the credential check.
    pub token: Token,
    /// More settings of the app, as environment variables.
    pub env: &'static [(&'static str, &'static str)],
    /// No loopback server and no rewrite: the app gets the issuer as published. Only for
    /// checks that must fail before any network call.
    pub unserved: bool,
    pub expect: Expect,
}

#[derive(Clone, Copy, Debug)]
pub enum Token {
    /// Like a provider with whom the client is registered, speaking RFC 6749 §5.2.
    OAuth,
    /// Like Twitch's, in its own error shape (see `TokenEndpoint::Twitch`).
    Twitch,
    /// Always this status and JSON body.
    Fixed(u16, &'static str),
}

#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// Launch succeeds: discovery, every signing key counted and nothing else, the credential
    /// check authenticated the way the provider allows, and `GET /login` answers 303 to the
    /// authorization endpoint with a complete code-flow request. The fairing's warnings must
    /// contain each of `warns`; with `warns` empty it must not warn at all.
    Launch { warns: &'static [&'static str] },
    /// Launch fails, rightly (`why`), and the fairing's error lines contain each of `says`;
    /// `{issuer}` in them stands for the document's issuer on loopback.
    Refuse {
        why: &'static str,
        says: &'static [&'static str],
    },
}

const MAIN: Case = Case {
    provider: "",
    variant: "",
    issuer: None,
    redirect_to: None,
    token: Token::OAuth,
    env: &[],
    unserved: false,
    expect: Expect::Launch { warns: &[] },
};

/// Launches, with nothing special to configure.
const fn launches(provider: &'static str) -> Case {
    Case { provider, ..MAIN }
}

/// What Cognito's domain-less endpoints answer (see `cognito-nodomain/SOURCE.md`).
const COGNITO_BAD_REQUEST: &str = r#"{"code":"BadRequest","message":"The server did not understand the operation that was requested.","type":"client"}"#;

pub const CASES: &[Case] = &[
    // AD FS: issuer host in upper case, endpoints on the same host in lower case.
    launches("adfs"),
    // Lists only client_secret_post: without a choice in the config, the app must pick it.
    launches("apple"),
    Case {
        provider: "apple",
        variant: "client_auth_method = client_secret_basic",
        env: &[("ROCKET_OIDC_CLIENT_AUTH_METHOD", "client_secret_basic")],
        expect: Expect::Refuse {
            why: "the provider lists only client_secret_post; the chosen method must be named \
                  as unsupported, with the one to choose",
            says: &["oidc.client_auth_method", "client_secret_post"],
        },
        ..MAIN
    },
    // Issuer with a trailing `/`; no end_session_endpoint (Auth0 advertises it only when enabled).
    launches("auth0"),
    Case {
        provider: "auth0",
        variant: "issuer configured without the trailing slash",
        issuer: Some("https://dev-ltxchcls4igzho78.us.auth0.com"),
        expect: Expect::Refuse {
            why: "the issuer must match character for character; the message must give it",
            says: &["oidc.issuer = \"{issuer}\""],
        },
        ..MAIN
    },
    launches("authentik"),
    // Its JWKS moduli are standard base64 with `=` padding; the crate reads them as base64
    // (openidconnect alone drops them, and no ID token would verify: see the conformance case
    // `provider_jwks_standard_base64`, since this step does not sign in).
    launches("battle-net"),
    // Issuer on cognito-idp, endpoints on the hosted-UI domain.
    launches("cognito"),
    Case {
        provider: "cognito-2017",
        expect: Expect::Refuse {
            why: "no token_endpoint: a user pool without a domain offers no code flow",
            says: &["no token_endpoint"],
        },
        ..MAIN
    },
    // The advertised token endpoint answers {"code":"BadRequest"}, not OAuth (RFC 6749 §5.2):
    // every login would fail. Nothing on the wire tells it from Twitch's endpoint, which is not
    // OAuth either but works: the credential check cannot refuse, it must warn and quote it.
    Case {
        provider: "cognito-nodomain",
        token: Token::Fixed(400, COGNITO_BAD_REQUEST),
        expect: Expect::Launch {
            warns: &["HTTP 400", "The server did not understand the operation"],
        },
        ..MAIN
    },
    // No token_endpoint_auth_methods_supported: client_secret_basic (RFC 8414 §2).
    launches("discord"),
    launches("docker"),
    // Token endpoint on another host (api.dropboxapi.com).
    launches("dropbox"),
    // Multi-tenant: configured with the /common URL, the document's issuer is a template.
    Case {
        provider: "entra-common",
        issuer: Some("https://login.microsoftonline.com/common/v2.0"),
        ..MAIN
    },
    Case {
        provider: "entra-organizations",
        issuer: Some("https://login.microsoftonline.com/organizations/v2.0"),
        ..MAIN
    },
    // v1: issuer on sts.windows.net, endpoints on login.windows.net.
    launches("entra-v1-tenant"),
    Case {
        provider: "entra-v1-tenant",
        variant: "issuer configured as the login.windows.net URL",
        issuer: Some("https://login.windows.net/cc74fc12-4142-400e-a653-f98bdeadbeef"),
        expect: Expect::Refuse {
            why: "the document names another issuer; the message must give the exact one",
            says: &["oidc.issuer = \"{issuer}\""],
        },
        ..MAIN
    },
    launches("entra-v2-tenant"),
    Case {
        provider: "facebook",
        expect: Expect::Refuse {
            why: "Limited Login publishes only implicit response types and no token endpoint",
            says: &["no token_endpoint"],
        },
        ..MAIN
    },
    launches("gitlab"),
    // No end_session_endpoint; userinfo, token and JWKS on three other hosts.
    launches("google"),
    launches("keycloak"),
    // Its JWKS holds an RSA-OAEP encryption key beside the signing key.
    launches("keycloak-http"),
    Case {
        provider: "keycloak-http",
        variant: "issuer as published (http, not loopback)",
        unserved: true,
        expect: Expect::Refuse {
            why: "a plain-http issuer on a network host needs the explicit insecure switch",
            says: &["oidc.issuer", "insecure_allow_http"],
        },
        ..MAIN
    },
    launches("klarna"),
    launches("lego"),
    // A JWKS key with neither `use` nor `alg`.
    launches("mojeid"),
    launches("okta-custom"),
    // The org authorization server: issuer is the bare Okta domain, endpoints under /oauth2/v1.
    launches("okta-org"),
    // JWKS with EC keys without `use`, an X25519 key, PS256 keys; code_challenge_methods_supported
    // lists JWS algorithms beside S256.
    launches("paypal"),
    launches("pingfederate"),
    launches("pingone"),
    launches("salesforce"),
    launches("slack"),
    launches("spotify"),
    // Lists only client_secret_post, and its token endpoint answers in a shape of its own with
    // no OAuth `error`: the credential check cannot confirm the client and must say so.
    Case {
        provider: "twitch",
        token: Token::Twitch,
        expect: Expect::Launch {
            warns: &["HTTP 400", "Invalid authorization code"],
        },
        ..MAIN
    },
    Case {
        provider: "twitch",
        variant: "wrong client secret",
        token: Token::Twitch,
        env: &[("ROCKET_OIDC_CLIENT_SECRET", "not-the-secret")],
        expect: Expect::Refuse {
            why: "Twitch answers a wrong secret with 403 `invalid client secret`",
            says: &["oidc.client_secret"],
        },
        ..MAIN
    },
    // <issuer>/.well-known/openid-configuration redirects to /dipp/api/.well-known/...
    Case {
        provider: "verimi",
        redirect_to: Some("https://web.verimi.de/dipp/api/.well-known/openid-configuration"),
        ..MAIN
    },
    launches("yahoo"),
];

impl Case {
    /// `provider` or `provider (variant)`.
    pub fn name(&self) -> String {
        if self.variant.is_empty() {
            self.provider.to_string()
        } else {
            format!("{} ({})", self.provider, self.variant)
        }
    }

    /// A name for log files: letters, digits and `-` only.
    pub fn file_name(&self) -> String {
        let mut name: String = self
            .name()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        while name.contains("--") {
            name = name.replace("--", "-");
        }
        name.trim_matches('-').to_string()
    }
}
