//! The test OpenID Provider: `node interop/provider.mjs` (panva/oidc-provider, pinned in
//! `interop/package-lock.json`).

use std::process::Command;
use std::time::Duration;

use super::procs::{require_tool, workspace_root, Proc};

pub const CLIENT_ID: &str = "rocket-quickstart";
pub const CLIENT_SECRET: &str = "interop-secret-9f2c";
/// Any login works with the provider's devInteractions; "ada" becomes "Ada Lovelace".
pub const PASSWORD: &str = "any password works";

/// Who the provider makes of a login: `findAccount` in `interop/provider.mjs`.
pub fn display_name(login: &str) -> String {
    let mut chars = login.chars();
    let first = chars.next().expect("a non-empty login");
    format!("{}{} Lovelace", first.to_uppercase(), chars.as_str())
}

#[derive(Clone, Debug, Default)]
pub struct ProviderOptions {
    /// 0: any free port.
    pub port: u16,
    /// `conformIdTokenClaims: true`: profile claims only from userinfo.
    pub strict_claims: bool,
    /// App base URLs (`http://localhost:PORT`) whose callback and home page are registered.
    pub apps: Vec<String>,
    /// Access-token lifetime in seconds; `None`: the default hour.
    pub access_token_ttl: Option<u32>,
    /// `rotateRefreshToken: true`: a consumed refresh token presented again revokes the grant.
    pub rotate_refresh_tokens: bool,
    /// The client's `backchannel_logout_uri` (with `backchannel_logout_session_required`), if
    /// any. Name the app by `127.0.0.1`: Node may resolve `localhost` to `::1`, where the app
    /// does not listen.
    pub backchannel_logout_uri: Option<String>,
}

pub struct TestProvider {
    proc: Proc,
    options: ProviderOptions,
    /// The path of the app's callback for this provider, under each of `options.apps`.
    callback_path: String,
    /// The name of its log file under `target/interop/logs/`.
    name: String,
    /// `http://127.0.0.1:PORT`, exactly as in its discovery document.
    pub issuer: String,
    pub port: u16,
    /// The `kid` of its (fresh) signing key.
    pub kid: String,
}

impl TestProvider {
    /// A provider for apps with one provider: their callback is `/authorization-code/callback`.
    pub async fn start(options: ProviderOptions) -> TestProvider {
        let name = if options.strict_claims {
            "provider-strict"
        } else if options.rotate_refresh_tokens {
            "provider-rotating"
        } else {
            "provider"
        };
        TestProvider::start_at(options, "/authorization-code/callback", name).await
    }

    /// A provider whose client's callback is `callback_path` under each app (an app with
    /// several providers has one per provider), logging to `target/interop/logs/…-<name>.log`.
    pub async fn start_at(
        options: ProviderOptions,
        callback_path: &str,
        name: &str,
    ) -> TestProvider {
        let node = require_tool(
            "node",
            "install Node.js 20 or later (Debian: apt-get install -y nodejs npm)",
        );
        let dir = workspace_root().join("interop");
        assert!(
            dir.join("node_modules/oidc-provider/package.json")
                .is_file(),
            "oidc-provider is not installed: run `npm ci` in {} (bash .ci/interop does)",
            dir.display()
        );
        let redirect_uris: Vec<String> = options
            .apps
            .iter()
            .map(|app| format!("{app}{callback_path}"))
            .collect();
        let post_logout: Vec<String> = options.apps.iter().map(|app| format!("{app}/")).collect();
        let mut command = Command::new(node);
        command
            .current_dir(&dir)
            .arg("provider.mjs")
            .env("OIDC_PROVIDER_PORT", options.port.to_string())
            .env("OIDC_PROVIDER_CLIENT_ID", CLIENT_ID)
            .env("OIDC_PROVIDER_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_PROVIDER_REDIRECT_URIS", redirect_uris.join(","))
            .env(
                "OIDC_PROVIDER_POST_LOGOUT_REDIRECT_URIS",
                post_logout.join(","),
            )
            .env(
                "OIDC_PROVIDER_STRICT_CLAIMS",
                if options.strict_claims { "1" } else { "0" },
            )
            .env(
                "OIDC_PROVIDER_ACCESS_TOKEN_TTL",
                options.access_token_ttl.unwrap_or(3600).to_string(),
            )
            .env(
                "OIDC_PROVIDER_ROTATE_REFRESH_TOKEN",
                if options.rotate_refresh_tokens {
                    "1"
                } else {
                    "0"
                },
            )
            // A fresh signing key on every start: the key-rotation scenario depends on it.
            .env_remove("OIDC_PROVIDER_JWKS_FILE");
        match &options.backchannel_logout_uri {
            Some(uri) => command.env("OIDC_PROVIDER_BACKCHANNEL_LOGOUT_URI", uri),
            None => command.env_remove("OIDC_PROVIDER_BACKCHANNEL_LOGOUT_URI"),
        };
        let mut proc = Proc::spawn(name, command, false);
        let (issuer, kid) = proc
            .wait_for_output("`LISTENING` and `KID`", Duration::from_secs(20), |out| {
                let issuer = out.lines().find_map(|l| l.strip_prefix("LISTENING "))?;
                let kid = out.lines().find_map(|l| l.strip_prefix("KID "))?;
                Some((issuer.to_string(), kid.to_string()))
            })
            .await;
        let port = issuer
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {issuer}"));
        TestProvider {
            proc,
            options,
            callback_path: callback_path.to_owned(),
            name: name.to_owned(),
            issuer,
            port,
            kid,
        }
    }

    /// Stops the provider and starts it again on the same port with a NEW signing key. All its
    /// state (sessions, grants, tokens) lives in memory and is gone.
    pub async fn restart(&mut self) {
        self.proc.stop();
        let options = ProviderOptions {
            port: self.port,
            ..self.options.clone()
        };
        let (callback_path, name) = (self.callback_path.clone(), self.name.clone());
        *self = TestProvider::start_at(options, &callback_path, &name).await;
    }

    /// Everything it printed: `EVENT ...` lines on stdout, errors on stderr.
    pub fn output(&self) -> String {
        self.proc.output()
    }

    /// The `EVENT <event> ...` lines it printed so far.
    pub fn events(&self, event: &str) -> Vec<String> {
        let prefix = format!("EVENT {event}");
        self.output()
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .map(str::to_string)
            .collect()
    }

    /// Waits until it printed at least `count` `EVENT <event>` lines (events are logged
    /// asynchronously to the responses that cause them) and returns them.
    pub async fn wait_for_events(&mut self, event: &str, count: usize) -> Vec<String> {
        let prefix = format!("EVENT {event}");
        self.proc
            .wait_for_output(
                &format!("{count} `{prefix}` lines"),
                Duration::from_secs(10),
                |out| {
                    let lines: Vec<String> = out
                        .lines()
                        .filter(|l| l.starts_with(&prefix))
                        .map(str::to_string)
                        .collect();
                    (lines.len() >= count).then_some(lines)
                },
            )
            .await
    }
}
