//! The app under test: the crate's quickstart example, configured through the environment only.

use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::procs::{free_port, target_dir, workspace_root, Proc};
use super::provider::{TestProvider, CLIENT_ID, CLIENT_SECRET};

/// Builds `examples/quickstart.rs` once per test binary (cargo releases its lock on the target
/// directory before running tests, so this nested build is safe) and returns the binary.
/// With `INTEROP_NO_BUILD=1` the binary must already exist (`.ci/interop` builds it first).
pub fn quickstart_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let binary = target_dir().join("debug/examples/quickstart");
            if std::env::var_os("INTEROP_NO_BUILD").is_none() {
                let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
                let status = Command::new(cargo)
                    .current_dir(workspace_root())
                    .args([
                        "build",
                        "--package",
                        "rocket_openid_connect",
                        "--example",
                        "quickstart",
                    ])
                    .status()
                    .expect("run cargo build --example quickstart");
                assert!(status.success(), "cargo build --example quickstart failed");
            }
            assert!(
                binary.is_file(),
                "{} is missing: run `cargo build --example quickstart` at the workspace root",
                binary.display()
            );
            binary
        })
        .clone()
}

#[derive(Clone, Debug)]
pub struct AppOptions {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Rocket's array syntax, e.g. `[openid,profile,email]`.
    pub scopes: String,
    /// Chosen before the provider starts: the provider registers its redirect URI.
    pub port: u16,
    /// Name of the log file under `target/interop/logs/`.
    pub name: String,
    /// More environment variables, e.g. `ROCKET_OIDC_REFRESH`.
    pub env: Vec<(String, String)>,
}

impl AppOptions {
    pub fn base_url(&self) -> String {
        base_url(self.port)
    }
}

/// The app is reached as `localhost`, the provider as `127.0.0.1`: two sites, so the redirect
/// back to the callback is a real cross-site navigation (SameSite=Strict cookies would be lost).
pub fn base_url(port: u16) -> String {
    format!("http://localhost:{port}")
}

/// A port for an app, picked before the provider that must know its redirect URI starts.
pub fn app_port() -> u16 {
    free_port()
}

/// The quickstart's back-channel logout endpoint on `port`, as the provider reaches it (by
/// address: the app listens on 127.0.0.1 only).
pub fn backchannel_logout_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}/backchannel-logout")
}

pub struct App {
    proc: Proc,
    pub base: String,
}

fn command(options: &AppOptions) -> Command {
    let mut command = hermetic_command(options.port);
    command
        .env("ROCKET_OIDC_ISSUER", &options.issuer)
        .env("ROCKET_OIDC_CLIENT_ID", &options.client_id)
        .env("ROCKET_OIDC_CLIENT_SECRET", &options.client_secret)
        .env("ROCKET_OIDC_APP_BASE_URL", options.base_url())
        .env("ROCKET_OIDC_SCOPES", &options.scopes);
    for (key, value) in &options.env {
        command.env(key, value);
    }
    command
}

/// The quickstart on `port`, with no ROCKET_* setting of the developer's shell and none of
/// the oidc settings yet.
fn hermetic_command(port: u16) -> Command {
    let mut command = Command::new(quickstart_binary());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ROCKET_") {
            command.env_remove(key);
        }
    }
    command
        .current_dir(workspace_root())
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_LOG_LEVEL", "normal")
        .env("ROCKET_CLI_COLORS", "false");
    command
}

/// One provider table of the quickstart's `ROCKET_OIDC_PROVIDERS`: its name, display name
/// and provider (whose confidential client the quickstart is).
pub struct ProviderTable<'a> {
    pub name: &'a str,
    pub display_name: &'a str,
    pub provider: &'a TestProvider,
}

impl App {
    /// Starts the quickstart and waits until it serves `/` (launch includes discovery and the
    /// credentials check against the provider).
    pub async fn start(options: AppOptions) -> App {
        let proc = Proc::spawn(&options.name, command(&options), false);
        App::serving(proc, options.base_url()).await
    }

    /// Starts the quickstart with several providers, configured as a user would through the
    /// environment only: the whole tables in `ROCKET_OIDC_PROVIDERS={name={issuer=..,..},..}`,
    /// the secrets in `ROCKET_OIDC_PROVIDERS_<NAME>_CLIENT_SECRET`.
    pub async fn start_with_providers(name: &str, port: u16, tables: &[ProviderTable<'_>]) -> App {
        let mut command = hermetic_command(port);
        let inline: Vec<String> = tables
            .iter()
            .map(|t| {
                format!(
                    "{}={{issuer=\"{}\",client_id=\"{CLIENT_ID}\",display_name=\"{}\"}}",
                    t.name, t.provider.issuer, t.display_name
                )
            })
            .collect();
        command
            .env("ROCKET_OIDC_PROVIDERS", format!("{{{}}}", inline.join(",")))
            .env("ROCKET_OIDC_APP_BASE_URL", base_url(port));
        for t in tables {
            let var = format!(
                "ROCKET_OIDC_PROVIDERS_{}_CLIENT_SECRET",
                t.name.to_ascii_uppercase()
            );
            command.env(var, CLIENT_SECRET);
        }
        let proc = Proc::spawn(name, command, false);
        App::serving(proc, base_url(port)).await
    }

    /// Waits until the quickstart `proc` serves `base`/.
    async fn serving(mut proc: Proc, base: String) -> App {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = proc.try_exit() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!(
                    "the quickstart exited ({status}) instead of launching; its output:\n{}",
                    proc.output()
                );
            }
            if let Ok(response) = http.get(format!("{base}/")).send().await {
                if response.status().is_success() {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the quickstart did not serve {base}/ within 30 s; its output:\n{}",
                proc.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        App { proc, base }
    }

    /// Starts the quickstart expecting launch to fail: returns its exit status and output, or
    /// panics if it is still running after `timeout` (it would be serving half-configured).
    pub async fn start_expecting_failure(
        options: AppOptions,
        timeout: Duration,
    ) -> (ExitStatus, String) {
        let mut proc = Proc::spawn(&options.name, command(&options), false);
        match proc.wait_exit(timeout).await {
            Some(status) => (status, proc.output()),
            None => panic!(
                "the quickstart was still running {timeout:?} after start although it should \
                 have refused to launch; its output:\n{}",
                proc.output()
            ),
        }
    }

    pub fn output(&self) -> String {
        self.proc.output()
    }
}

/// The quickstart configured for `provider`'s confidential client on `port`, with `scopes`
/// (Rocket's array syntax, e.g. `[openid,profile,email]`); `name` names its log file.
pub fn app_options(provider: &TestProvider, port: u16, scopes: &str, name: &str) -> AppOptions {
    AppOptions {
        issuer: provider.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        scopes: scopes.into(),
        port,
        name: name.into(),
        env: Vec::new(),
    }
}

/// Scenario 6: the quickstart started with a wrong client secret against `provider` does not
/// launch, and its output says why (`invalid_client`) and which setting to check.
pub async fn assert_wrong_secret_refused(provider: &TestProvider) {
    let mut wrong = app_options(
        provider,
        app_port(),
        "[openid,profile,email]",
        "app-wrong-secret",
    );
    wrong.client_secret = "not-the-secret".into();
    let (status, output) = App::start_expecting_failure(wrong, Duration::from_secs(30)).await;
    assert!(!status.success(), "launch should fail: {status}\n{output}");
    assert!(output.contains("invalid_client"), "{output}");
    assert!(output.contains("oidc.client_secret"), "{output}");
}
