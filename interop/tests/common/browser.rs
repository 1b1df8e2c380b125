//! Headless Chromium driven through chromedriver (WebDriver) with fantoccini.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use super::procs::{artifacts_dir, free_port, require_tool, Proc};

const CHROMIUM: &str = "/usr/bin/chromium";
const INSTALL: &str = "install Debian's chromium and chromium-driver \
                       (apt-get install -y chromium chromium-driver; bash .ci/interop does)";

/// How long a page may take to get where a step expects it.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// One chromedriver process. Sessions (each a fresh Chromium with an empty profile) are opened
/// from it with [`Driver::session`].
pub struct Driver {
    proc: Proc,
    url: String,
}

impl Driver {
    pub async fn start() -> Driver {
        let chromedriver = require_tool("chromedriver", INSTALL);
        assert!(
            std::path::Path::new(CHROMIUM).is_file(),
            "{CHROMIUM} is missing: {INSTALL}"
        );
        let port = free_port();
        let mut command = Command::new(chromedriver);
        command.arg(format!("--port={port}"));
        // Its own process group: if a session cannot be ended, stopping the driver stops the
        // Chromium it started too.
        let mut proc = Proc::spawn("chromedriver", command, true);
        proc.wait_for_output("that it started", Duration::from_secs(20), |out| {
            out.contains("started successfully").then_some(())
        })
        .await;
        Driver {
            proc,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A new browser session: a fresh Chromium with an empty profile (no cookies).
    pub async fn session(&self) -> Browser {
        static PROFILES: AtomicUsize = AtomicUsize::new(0);
        let profile = artifacts_dir().join(format!(
            "chromium-profile-{}-{}",
            std::process::id(),
            PROFILES.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&profile);
        // Everything but loopback fails to resolve, so nothing leaves the machine (the provider's
        // web font, Chromium's own traffic). `localhost` must be excluded by name: the rules apply
        // before Chromium's built-in localhost handling.
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", profile.display()),
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open a WebDriver session: {e}; chromedriver says:\n{}",
                    self.proc.output()
                )
            });
        let session_id = client
            .session_id()
            .await
            .expect("session id")
            .expect("a session id");
        Browser {
            client,
            driver_url: self.url.clone(),
            session_id,
            profile,
            closed: false,
        }
    }

    /// Stops chromedriver (after every [`Browser`] was closed or dropped).
    pub fn stop(mut self) {
        self.proc.stop();
    }
}

/// A WebDriver session. [`Browser::close`] ends it; if it is dropped instead (a failed
/// assertion), `Drop` ends it with a blocking `DELETE /session/{id}`, so Chromium never outlives
/// the test.
pub struct Browser {
    pub client: Client,
    driver_url: String,
    session_id: String,
    profile: PathBuf,
    closed: bool,
}

impl Browser {
    /// Ends the session (Chromium quits).
    pub async fn close(mut self) {
        self.closed = true;
        let client = self.client.clone();
        if let Err(e) = client.close().await {
            eprintln!("ending the WebDriver session failed: {e}");
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("navigate to {url}: {e}"));
    }

    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current url")
            .to_string()
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("a body")
            .text()
            .await
            .expect("body text")
    }

    /// Waits until the current URL starts with `prefix` and returns it.
    pub async fn wait_for_url(&self, prefix: &str) -> String {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let url = self.url().await;
            if url.starts_with(prefix) {
                return url;
            }
            if Instant::now() > deadline {
                panic!(
                    "the browser did not reach {prefix} within {STEP_TIMEOUT:?}; it is at {url}; \
                     page:\n{}",
                    self.page_text_now().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's text contains `needle` and returns the text.
    pub async fn wait_for_text(&self, needle: &str) -> String {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let text = self.page_text_now().await;
            if text.contains(needle) {
                return text;
            }
            if Instant::now() > deadline {
                panic!(
                    "the page at {} did not show {needle:?} within {STEP_TIMEOUT:?}; it shows:\n{text}",
                    self.url().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn page_text_now(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits for the element matching `css` on the current page.
    pub async fn element(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(STEP_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!(
                "no {css} at {} within {STEP_TIMEOUT:?} ({e}); the page shows:\n{}",
                self.url().await,
                self.page_text_now().await
            ),
        }
    }

    pub async fn click(&self, css: &str) {
        self.element(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub async fn fill(&self, css: &str, text: &str) {
        self.element(css)
            .await
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Runs `script` in the page (a returned promise is awaited, as WebDriver does) and returns
    /// its value.
    pub async fn execute(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The text of the element matching `css`.
    pub async fn text_of(&self, css: &str) -> String {
        self.element(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let path = artifacts_dir().join(name);
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.closed {
            delete_session(&self.driver_url, &self.session_id);
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `DELETE /session/{id}` over a plain blocking socket: usable from `Drop`, whatever state the
/// async runtime is in.
fn delete_session(driver_url: &str, session_id: &str) {
    let host = driver_url.trim_start_matches("http://");
    let Ok(mut stream) = TcpStream::connect(host) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "DELETE /session/{session_id} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
    }
}
