//! A real `redis-server` for the tests: on a free loopback port, without persistence, in a
//! directory of its own, stopped by PID when dropped; it can be killed (a crash), restarted on
//! the same port (empty), paused and resumed (a hung server).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One `redis-server` child process.
pub struct RedisServer {
    child: Option<Child>,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    args: Vec<String>,
    dir: PathBuf,
    tls: bool,
}

/// A free port of 127.0.0.1: bind port 0, read the port, close. (`redis-server --port 0`
/// turns TCP off instead of picking a port.)
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

impl RedisServer {
    /// Starts one with `args` added (e.g. `["--requirepass", "pw"]`), ready to serve.
    pub fn start(args: &[&str]) -> RedisServer {
        RedisServer::start_with(args, false)
    }

    /// Starts one that speaks TLS only (`--port 0 --tls-port N`) with a certificate signed by a
    /// CA of its own, made with the `openssl` command; the CA's PEM file is `ca_file()`.
    pub fn start_tls() -> RedisServer {
        let mut server = RedisServer::start_with(&[], true);
        server.kill();
        let dir = server.dir.clone();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("the openssl command");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ]);
        std::fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
            "-out",
            "server.crt",
        ]);
        let file = |name: &str| dir.join(name).display().to_string();
        server.args = vec![
            "--tls-cert-file".into(),
            file("server.crt"),
            "--tls-key-file".into(),
            file("server.key"),
            "--tls-ca-cert-file".into(),
            file("ca.crt"),
            "--tls-auth-clients".into(),
            "no".into(),
        ];
        server.spawn();
        server
    }

    /// The PEM file of the CA of a [`start_tls`](RedisServer::start_tls) server.
    pub fn ca_file(&self) -> String {
        self.dir.join("ca.crt").display().to_string()
    }

    fn start_with(args: &[&str], tls: bool) -> RedisServer {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "rocket_openid_connect-redis-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let mut server = RedisServer {
            child: None,
            port,
            args: args.iter().map(|a| a.to_string()).collect(),
            dir,
            tls,
        };
        if !tls {
            server.spawn();
        }
        server
    }

    fn spawn(&mut self) {
        let port = self.port.to_string();
        let ports = if self.tls {
            ["--port", "0", "--tls-port", &port]
        } else {
            ["--port", &port, "--tls-port", "0"]
        };
        let child = Command::new("redis-server")
            .args(ports)
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "redis-server must be on PATH for these tests (Debian: apt-get install \
                 redis-server; .ci/run installs it)",
            );
        self.child = Some(child);
        self.wait_ready();
    }

    /// Waits until it answers `PING` (`+PONG`, or `-NOAUTH` with a password); a TLS port
    /// until it accepts (a plain PING cannot be sent to it).
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                if self.tls {
                    return;
                }
                let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                let mut buf = [0u8; 64];
                if stream.write_all(b"PING\r\n").is_ok()
                    && stream.read(&mut buf).is_ok_and(|n| n > 0)
                {
                    return;
                }
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "redis-server on port {} exited at start: {status}",
                    self.port
                );
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer on port {} within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server runs").id()
    }

    /// Kills it with SIGKILL (a crash) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills it if it runs, and starts it again on the same port: empty, as after a crash
    /// without persistence.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Sends `signal` (`STOP`, `CONT`) to it, by PID.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill(1)");
        assert!(status.success(), "kill -{signal} {}", self.pid());
    }

    /// `redis://127.0.0.1:PORT/DB`.
    pub fn url(&self, db: u8) -> String {
        format!("redis://127.0.0.1:{}/{db}", self.port)
    }

    /// Runs one command with `redis-cli` (for the tests' own look at the data), its output.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli (package redis-tools) on PATH");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
