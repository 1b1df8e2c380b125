//! Child processes the suite starts and, whatever happens, stops again by their PID.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The workspace root (the crate under test).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("interop/ sits inside the workspace")
        .to_path_buf()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` if set, else the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// `target/interop/`: logs of every process, screenshots. Kept after the run as CI artifacts.
pub fn artifacts_dir() -> PathBuf {
    let dir = target_dir().join("interop");
    fs::create_dir_all(dir.join("logs")).expect("create target/interop/logs");
    dir
}

/// The running test binary's name (`interop`, `http`): log files are named after it, so that the
/// suites do not overwrite each other's logs.
fn test_binary() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let stem = exe
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Cargo names test binaries `<name>-<hash>`.
    match stem.rsplit_once('-') {
        Some((name, _)) => name.to_string(),
        None => stem,
    }
}

/// A port that was free a moment ago: bind 127.0.0.1:0, read the port, release it. The caller
/// starts its server on it right away; the window for a clash is tiny and the kernel hands out
/// ephemeral ports round-robin.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// Finds `tool` on `PATH`, or panics saying how to install it: a missing tool is a failure,
/// never a skipped test.
pub fn require_tool(tool: &str, install_hint: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("`{tool}` is not installed; {install_hint}"))
}

/// A running child process. Its stdout and stderr are collected (for assertions) and copied to
/// `target/interop/logs/<name>.log`. Dropping it kills it, so a failing assertion leaks nothing.
pub struct Proc {
    name: String,
    child: Child,
    output: Arc<Mutex<String>>,
    /// Started in a process group of its own, killed as a group (chromedriver and its Chromium).
    own_group: bool,
    exited: Option<ExitStatus>,
}

impl Proc {
    /// Spawns `command`. With `own_group`, the child leads a new process group (its PGID is its
    /// PID), so that whatever it starts can be stopped with it.
    pub fn spawn(name: &str, mut command: Command, own_group: bool) -> Proc {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if own_group {
            command.process_group(0);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        let log_path = artifacts_dir()
            .join("logs")
            .join(format!("{}-{name}.log", test_binary()));
        // A log holds one test run: the first process of a name truncates it, restarts append.
        static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let first = {
            let mut seen = SEEN.lock().unwrap();
            let first = !seen.iter().any(|n| n == name);
            if first {
                seen.push(name.to_string());
            }
            first
        };
        let mut log = OpenOptions::new()
            .create(true)
            .write(true)
            .append(!first)
            .truncate(first)
            .open(&log_path)
            .unwrap_or_else(|e| panic!("open {}: {e}", log_path.display()));
        let _ = writeln!(log, "===== {name} (pid {}): {command:?}", child.id());
        let log = Arc::new(Mutex::new(log));
        let output = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        copy_lines(stdout, output.clone(), log.clone());
        copy_lines(stderr, output.clone(), log);
        Proc {
            name: name.to_string(),
            child,
            output,
            own_group,
            exited: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process printed so far, stdout and stderr interleaved by line.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Its exit status, if it has exited.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// Waits until `find` returns `Some` for the output so far. Panics with the output when the
    /// process exits first or `timeout` passes.
    pub async fn wait_for_output<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        find: impl Fn(&str) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = find(&self.output()) {
                return found;
            }
            if let Some(status) = self.try_exit() {
                // Give the reader threads a moment to drain the pipes before reporting.
                tokio::time::sleep(Duration::from_millis(100)).await;
                if let Some(found) = find(&self.output()) {
                    return found;
                }
                panic!(
                    "{} exited ({status}) before {what}; its output:\n{}",
                    self.name,
                    self.output()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "{} did not show {what} within {timeout:?}; its output:\n{}",
                    self.name,
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits up to `timeout` for the process to exit on its own.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.try_exit() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Kills the process (SIGKILL, by PID; by PGID too when it leads its own group) and reaps it.
    /// Nothing it serves holds state worth a graceful shutdown.
    pub fn stop(&mut self) {
        if self.own_group {
            // The group outlives its leader when Chromium was orphaned; kill it by its id.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        if self.try_exit().is_none() {
            let _ = self.child.kill();
            self.exited = self.child.wait().ok();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

fn copy_lines(pipe: impl Read + Send + 'static, output: Arc<Mutex<String>>, log: Arc<Mutex<File>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(log.lock().unwrap(), "{line}");
            let mut output = output.lock().unwrap();
            output.push_str(&line);
            output.push('\n');
        }
    });
}
