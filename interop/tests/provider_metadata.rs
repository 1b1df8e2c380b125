//! The quickstart against the discovery documents and JWKS that 34 real providers publish.
//!
//! For each provider folder of the metadata directory (`PROVIDER_METADATA_DIR`, by default
//! `<workspace>/../shared/provider-metadata`; relative paths are taken from the workspace
//! root), it serves the document and the JWKS on `127.0.0.1:0` with every URL of the
//! provider's hosts moved there (`provider_metadata/rewrite.rs`), and a token endpoint that
//! answers the credential check like a provider that registered the client
//! (`provider_metadata/fake_provider.rs`). Then it starts the quickstart binary configured for
//! that provider and checks (`provider_metadata/checks.rs`) what `provider_metadata/cases.rs`
//! expects: launch and a correct `/login` redirect, or a failed launch whose message says what
//! to do.
//!
//! One line per case and a summary are printed; the test fails if any case does. Run it with
//! `bash .ci/provider-metadata`, or
//! `PROVIDER_METADATA_DIR=/path/to/provider-metadata cargo test -p interop --test provider_metadata -- --nocapture`.

#[path = "provider_metadata/cases.rs"]
mod cases;
#[path = "provider_metadata/checks.rs"]
mod checks;
mod common;
#[path = "provider_metadata/fake_provider.rs"]
mod fake_provider;
#[path = "provider_metadata/rewrite.rs"]
mod rewrite;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use cases::{Case, Expect, Token, CASES};
use checks::{check_launch, explaining_line, fairing_errors, signing_keys};
use common::app::quickstart_binary;
use common::procs::{free_port, workspace_root, Proc};
use fake_provider::{FakeProvider, Reply, Routes, TokenEndpoint};
use rewrite::{discovery_url, path_of, Rewrite};

const CLIENT_ID: &str = "rocket-metadata-check";
const CLIENT_SECRET: &str = "metadata-check-secret-7Qx";
/// How long a launch may take; on loopback it takes well under a second.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);
/// Launches run at once: the quickstart is a debug build, the CI machine has 2 cores.
const PARALLEL: usize = 3;

/// The metadata directory, or a panic saying where it was looked for: a missing directory
/// fails the step, it never skips it.
fn metadata_dir() -> PathBuf {
    let dir = match std::env::var_os("PROVIDER_METADATA_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("../shared/provider-metadata"),
    };
    let shown = dir.canonicalize().unwrap_or_else(|_| dir.clone());
    assert!(
        dir.is_dir(),
        "provider metadata: no directory at {} ({}); set PROVIDER_METADATA_DIR to the folder \
         holding one <provider>/discovery.json + jwks.json per provider (CI has it at \
         ../shared/provider-metadata beside the clone)",
        shown.display(),
        match std::env::var_os("PROVIDER_METADATA_DIR") {
            Some(v) => format!("PROVIDER_METADATA_DIR={}", v.to_string_lossy()),
            None => "PROVIDER_METADATA_DIR is not set, so the default was used".into(),
        }
    );
    dir
}

/// The provider folders: every subdirectory.
fn provider_folders(dir: &Path) -> BTreeSet<String> {
    let folders: BTreeSet<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("provider metadata: cannot list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !folders.is_empty(),
        "provider metadata: {} holds no provider folder",
        dir.display()
    );
    folders
}

/// What one case came to.
struct Outcome {
    pass: bool,
    /// One line: what happened.
    summary: String,
    /// The app's log line that explains a failure (or a refusal), if any.
    log_line: Option<String>,
    took: Duration,
}

/// The quickstart, hermetic (no `ROCKET_*` of the caller's shell), for `issuer` on `port`.
fn app_command(case: &Case, issuer: &str, port: u16) -> Command {
    let mut command = Command::new(quickstart_binary());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ROCKET_") {
            command.env_remove(key);
        }
    }
    command
        .current_dir(workspace_root())
        .env("ROCKET_OIDC_ISSUER", issuer)
        .env("ROCKET_OIDC_CLIENT_ID", CLIENT_ID)
        .env("ROCKET_OIDC_CLIENT_SECRET", CLIENT_SECRET)
        .env(
            "ROCKET_OIDC_APP_BASE_URL",
            format!("http://localhost:{port}"),
        )
        .env("ROCKET_OIDC_HTTP_TIMEOUT_SECS", "5")
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_LOG_LEVEL", "normal")
        .env("ROCKET_CLI_COLORS", "false");
    for (key, value) in case.env {
        command.env(key, value);
    }
    command
}

/// Starts the app and waits until it serves `/` (`Ok`) or exits (`Err(exit status)`).
async fn start_app(name: &str, command: Command, port: u16) -> (Proc, Result<(), String>) {
    let mut proc = Proc::spawn(name, command, false);
    let http = reqwest::Client::new();
    let deadline = Instant::now() + LAUNCH_TIMEOUT;
    loop {
        if let Some(status) = proc.try_exit() {
            // Let the reader threads drain the pipes.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return (proc, Err(status.to_string()));
        }
        let home = http.get(format!("http://127.0.0.1:{port}/")).send().await;
        if home.is_ok_and(|r| r.status().is_success()) {
            return (proc, Ok(()));
        }
        if Instant::now() > deadline {
            return (
                proc,
                Err(format!(
                    "neither served / nor exited within {LAUNCH_TIMEOUT:?}"
                )),
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The provider's documents on loopback, ready for the app.
struct Served {
    server: FakeProvider,
    /// The issuer the app is configured with, on loopback.
    issuer: String,
    /// The document's `issuer`, on loopback.
    document_issuer: String,
    authorization_endpoint: String,
    discovery_path: String,
    jwks_path: Option<String>,
    token_path: Option<String>,
    /// The methods the token endpoint accepts.
    auth_methods: Vec<String>,
    signing_keys: usize,
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))
}

/// Serves `case`'s documents on a fresh loopback port.
async fn serve(dir: &Path, case: &Case) -> Result<Served, String> {
    let folder = dir.join(case.provider);
    let document = read_json(&folder.join("discovery.json"))?;
    let jwks_text = std::fs::read_to_string(folder.join("jwks.json"))
        .map_err(|e| format!("cannot read {}/jwks.json: {e}", folder.display()))?;
    let jwks: Value = serde_json::from_str(&jwks_text)
        .map_err(|e| format!("{}/jwks.json is not JSON: {e}", folder.display()))?;
    let published_issuer = document["issuer"]
        .as_str()
        .ok_or("the document has no string `issuer`")?;
    let configured = case.issuer.unwrap_or(published_issuer);

    let (listener, port) = FakeProvider::bind().await;
    let extra: Vec<&str> = [Some(configured), case.redirect_to]
        .into_iter()
        .flatten()
        .collect();
    let rewrite = Rewrite::for_document(&document, &extra, port);
    let moved = rewrite.document(&document);
    let issuer = rewrite.required("the configured issuer", configured);
    let endpoint = |name: &str| moved[name].as_str().map(str::to_string);

    let mut routes = Routes::default();
    let mut add = |path: String, reply: Reply| {
        if routes.get.insert(path.clone(), reply).is_some() {
            panic!(
                "{}: two documents would be served at {path} on the one port; the hosts' \
                 paths collide, give the harness a way to keep them apart",
                case.name()
            );
        }
    };
    let standard = path_of(&discovery_url(&issuer));
    let discovery_path = match case.redirect_to {
        Some(to) => {
            let to = rewrite.required("the discovery redirect target", to);
            add(standard, Reply::Redirect(to.clone()));
            path_of(&to)
        }
        None => standard,
    };
    add(discovery_path.clone(), Reply::Json(moved.to_string()));
    let jwks_path = match endpoint("jwks_uri") {
        Some(uri) => {
            rewrite.required("jwks_uri", document["jwks_uri"].as_str().unwrap_or(""));
            let path = path_of(&uri);
            add(path.clone(), Reply::Json(jwks_text));
            Some(path)
        }
        None => None,
    };
    // Absent, the default is client_secret_basic (OpenID Connect Discovery 1.0 §3, RFC 8414 §2).
    let auth_methods: Vec<String> = match moved["token_endpoint_auth_methods_supported"].as_array()
    {
        Some(list) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        None => vec!["client_secret_basic".into()],
    };
    let token_path = match endpoint("token_endpoint") {
        Some(uri) => {
            rewrite.required(
                "token_endpoint",
                document["token_endpoint"].as_str().unwrap_or(""),
            );
            let path = path_of(&uri);
            let behaviour = match case.token {
                Token::Fixed(status, body) => TokenEndpoint::Fixed {
                    status,
                    body: body.to_string(),
                },
                Token::Twitch => TokenEndpoint::Twitch {
                    client_id: CLIENT_ID.into(),
                    client_secret: CLIENT_SECRET.into(),
                },
                Token::OAuth => TokenEndpoint::OAuth {
                    methods: auth_methods.clone(),
                    client_id: CLIENT_ID.into(),
                    client_secret: CLIENT_SECRET.into(),
                },
            };
            routes.token = Some((path.clone(), behaviour));
            Some(path)
        }
        None => None,
    };
    Ok(Served {
        server: FakeProvider::serve(listener, routes),
        issuer,
        document_issuer: rewrite.required("issuer", published_issuer),
        authorization_endpoint: endpoint("authorization_endpoint").unwrap_or_default(),
        discovery_path,
        jwks_path,
        token_path,
        auth_methods,
        signing_keys: signing_keys(&jwks),
    })
}

async fn run(dir: PathBuf, case: Case) -> Outcome {
    let started = Instant::now();
    let outcome = |pass: bool, summary: String, log_line: Option<String>| Outcome {
        pass,
        summary,
        log_line,
        took: started.elapsed(),
    };
    let port = free_port();
    let served = if case.unserved {
        None
    } else {
        match serve(&dir, &case).await {
            Ok(served) => Some(served),
            Err(e) => return outcome(false, format!("harness: {e}"), None),
        }
    };
    let issuer = match &served {
        Some(served) => served.issuer.clone(),
        None => match read_json(&dir.join(case.provider).join("discovery.json")) {
            Ok(doc) => doc["issuer"].as_str().unwrap_or_default().to_string(),
            Err(e) => return outcome(false, format!("harness: {e}"), None),
        },
    };
    let name = format!("app-{}", case.file_name());
    let (mut proc, launched) = start_app(&name, app_command(&case, &issuer, port), port).await;
    let output = proc.output();
    let seen = served.as_ref().map(|s| s.server.seen()).unwrap_or_default();
    let result = match (case.expect, launched) {
        (Expect::Launch { warns }, Ok(())) => {
            let served = served.as_ref().expect("a launch case is served");
            match check_launch(served, &seen, &output, port, warns).await {
                Ok(summary) => outcome(true, summary, None),
                Err(e) => outcome(false, e, None),
            }
        }
        (Expect::Launch { .. }, Err(status)) => outcome(
            false,
            format!("expected launch; the app exited ({status})"),
            explaining_line(&output),
        ),
        (Expect::Refuse { why, .. }, Ok(())) => outcome(
            false,
            format!("launched, but should refuse: {why}"),
            output
                .lines()
                .find(|l| l.contains("OpenID Connect: 3/4"))
                .map(str::to_string),
        ),
        (Expect::Refuse { why, says }, Err(status)) => {
            let errors = fairing_errors(&output).join("\n");
            let document_issuer = served
                .as_ref()
                .map(|s| s.document_issuer.clone())
                .unwrap_or_default();
            let missing: Vec<String> = says
                .iter()
                .map(|s| s.replace("{issuer}", &document_issuer))
                .filter(|s| !errors.contains(s.as_str()))
                .collect();
            if status.contains("within") {
                outcome(false, format!("expected a refusal; the app {status}"), None)
            } else if errors.is_empty() {
                outcome(
                    false,
                    format!("refused ({status}) without a fairing error line; expected: {why}"),
                    explaining_line(&output),
                )
            } else if missing.is_empty() {
                outcome(
                    true,
                    format!("refuses, rightly: {why}"),
                    explaining_line(&output),
                )
            } else {
                outcome(
                    false,
                    format!("refuses ({why}), but the message lacks {missing:?}"),
                    explaining_line(&output),
                )
            }
        }
    };
    proc.stop();
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_launches_or_refuses_with_advice() {
    let dir = metadata_dir();
    let folders = provider_folders(&dir);
    quickstart_binary();
    let started = Instant::now();

    let limit = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut tasks = Vec::new();
    for case in CASES
        .iter()
        .copied()
        .filter(|c| folders.contains(c.provider))
    {
        let limit = limit.clone();
        let dir = dir.clone();
        tasks.push((
            case,
            tokio::spawn(async move {
                let _permit = limit.acquire_owned().await.expect("semaphore");
                run(dir, case).await
            }),
        ));
    }
    let mut rows: Vec<(String, Outcome)> = Vec::new();
    for (case, task) in tasks {
        let outcome = task.await.unwrap_or_else(|e| Outcome {
            pass: false,
            summary: format!("harness panicked: {e}"),
            log_line: None,
            took: Duration::ZERO,
        });
        rows.push((case.name(), outcome));
    }
    let expected: BTreeSet<&str> = CASES
        .iter()
        .filter(|c| c.variant.is_empty())
        .map(|c| c.provider)
        .collect();
    for folder in &folders {
        if !expected.contains(folder.as_str()) {
            rows.push((
                folder.clone(),
                Outcome {
                    pass: false,
                    summary:
                        "no expectation: add a Case to interop/tests/provider_metadata/cases.rs"
                            .into(),
                    log_line: None,
                    took: Duration::ZERO,
                },
            ));
        }
    }
    for case in CASES.iter().filter(|c| !folders.contains(c.provider)) {
        rows.push((
            case.name(),
            Outcome {
                pass: false,
                summary: format!("no folder {} in {}", case.provider, dir.display()),
                log_line: None,
                took: Duration::ZERO,
            },
        ));
    }

    let width = rows
        .iter()
        .map(|(n, _)| n.len())
        .filter(|n| *n <= 30)
        .max()
        .unwrap_or(0);
    let mut report = String::new();
    for (name, outcome) in &rows {
        report.push_str(&format!(
            "{name:<width$}  {}  {:>5} ms  {}",
            if outcome.pass { "PASS" } else { "FAIL" },
            outcome.took.as_millis(),
            outcome.summary
        ));
        if let Some(line) = &outcome.log_line {
            report.push_str(&format!("  | log: {line}"));
        }
        report.push('\n');
    }
    let failed = rows.iter().filter(|(_, o)| !o.pass).count();
    let providers: BTreeSet<&str> = CASES.iter().map(|c| c.provider).collect();
    report.push_str(&format!(
        "provider metadata: {} of {} cases passed ({} providers from {}), {failed} failed, in {:.1} s\n",
        rows.len() - failed,
        rows.len(),
        providers.len(),
        dir.display(),
        started.elapsed().as_secs_f64()
    ));
    // Printed once: cargo shows a failed test's stdout even without --nocapture.
    println!("{report}");
    assert_eq!(
        failed, 0,
        "{failed} provider-metadata case(s) failed; the table above says which and why"
    );
}
