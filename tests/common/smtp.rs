//! A real SMTP server for the mail tests: Debian's `python3-aiosmtpd`
//! (run by Debian's own `/usr/bin/python3`, which has the package),
//! writing every accepted message into a Maildir, with the handler in
//! `tests/fixtures/smtp_handlers.py` refusing some recipients (550, 451)
//! the way real servers do. Loopback only; killed on drop.

#![allow(dead_code)]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The CA that signed the TLS servers' certificate (for
/// `ORDER_STATUS_MAIL_CA_FILE`).
pub const TEST_CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");

/// How a [`Smtpd::start_secure`] server wants TLS.
#[derive(Clone, Copy, Debug)]
pub enum Secure {
    /// Plain first, STARTTLS required before AUTH and MAIL (port 587 style).
    StartTls,
    /// TLS from the first byte (port 465 style).
    Smtps,
}

/// A running aiosmtpd.
pub struct Smtpd {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

/// A free loopback port (closed again; a server can take it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Runs `start` on fresh free ports until one works (three tries).
fn retry_on_fresh_ports(start: impl Fn(u16) -> Result<Smtpd, String>) -> Smtpd {
    let mut last = String::new();
    for _ in 0..3 {
        match start(free_port()) {
            Ok(server) => return server,
            Err(e) => last = e,
        }
    }
    panic!("{last}");
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Installs Debian's `python3-aiosmtpd` if it is missing (a fresh machine
/// running `cargo test`); once per test binary.
fn ensure_aiosmtpd() {
    static READY: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    READY.get_or_init(|| {
        let has = || {
            Command::new("/usr/bin/python3")
                .args(["-c", "import aiosmtpd"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        super::ensure_debian_package(
            "python3-aiosmtpd",
            has,
            "the mail tests need Debian's python3-aiosmtpd (apt-get install python3-aiosmtpd)",
        );
    });
}

impl Smtpd {
    /// Starts on a free port. A port picked free can be taken before the
    /// server binds it (the server then exits), so a few fresh ones are
    /// tried.
    pub fn start() -> Smtpd {
        retry_on_fresh_ports(|port| Self::try_start_on(port, tempfile::tempdir().expect("maildir")))
    }

    /// Starts on `port`, delivering into the Maildir `dir`.
    pub fn start_on(port: u16, dir: tempfile::TempDir) -> Smtpd {
        Self::try_start_on(port, dir).unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_start_on(port: u16, dir: tempfile::TempDir) -> Result<Smtpd, String> {
        ensure_aiosmtpd();
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "smtp_handlers.Picky"])
            // A path that does not exist yet: Python's Maildir makes its
            // tmp/new/cur only when it creates the directory itself.
            .arg(dir.path().join("maildir"));
        Self::run(cmd, port, dir)
    }

    /// Starts a server that takes mail only over TLS (`Secure::StartTls`
    /// or `Secure::Smtps`) and after signing in as `user`/`password`; its
    /// certificate is signed by `tests/fixtures/tls/ca.pem` (see
    /// `TEST_CA`), for `127.0.0.1` and `localhost`.
    pub fn start_secure(mode: Secure, user: &str, password: &str) -> Smtpd {
        retry_on_fresh_ports(|port| Self::try_start_secure(port, mode, user, password))
    }

    fn try_start_secure(
        port: u16,
        mode: Secure,
        user: &str,
        password: &str,
    ) -> Result<Smtpd, String> {
        ensure_aiosmtpd();
        let dir = tempfile::tempdir().expect("maildir");
        let tls = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/smtp_secure.py"
        ))
        .arg(match mode {
            Secure::StartTls => "starttls",
            Secure::Smtps => "smtps",
        })
        .arg(port.to_string())
        .arg(dir.path().join("maildir"))
        .arg(format!("{tls}/server.pem"))
        .arg(format!("{tls}/server.key"))
        .args([user, password]);
        Self::run(cmd, port, dir)
    }

    fn run(mut cmd: Command, port: u16, dir: tempfile::TempDir) -> Result<Smtpd, String> {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let child = cmd
            .env("PYTHONPATH", fixtures)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd runs (apt-get install python3-aiosmtpd)");
        let mut server = Smtpd { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("aiosmtpd on {port} exited ({status})"));
            }
            if Instant::now() >= deadline {
                return Err(format!("aiosmtpd did not listen on {port}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Connecting proves someone listens; only a live child proves it is us.
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!("aiosmtpd on {port} exited ({status})"));
        }
        Ok(server)
    }

    /// Stops the server, keeping its Maildir.
    pub fn stop(mut self) -> (u16, tempfile::TempDir) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("dir"));
        (self.port, dir)
    }

    /// `ORDER_STATUS_SMTP_URL` for it.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message delivered so far (in no particular order).
    pub fn messages(&self) -> Vec<Received> {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("maildir/new")) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .filter_map(|e| std::fs::read(e.path()).ok())
            .map(|raw| Received::parse(&raw))
            .collect()
    }

    /// Waits (up to `timeout`) until at least `n` messages arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.messages();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A delivered message, decoded.
#[derive(Debug, Clone)]
pub struct Received {
    headers: HashMap<String, Vec<String>>,
    pub text: String,
    pub html: String,
}

impl Received {
    fn parse(raw: &[u8]) -> Received {
        let mail = mailparse::parse_mail(raw).expect("a parsable message");
        let mut headers: HashMap<String, Vec<String>> = HashMap::new();
        for h in &mail.headers {
            headers
                .entry(h.get_key().to_ascii_lowercase())
                .or_default()
                .push(h.get_value());
        }
        let part = |mime: &str| {
            mail.subparts
                .iter()
                .find(|p| p.ctype.mimetype == mime)
                .and_then(|p| p.get_body().ok())
                .unwrap_or_default()
        };
        Received {
            headers,
            text: part("text/plain"),
            html: part("text/html"),
        }
    }

    /// The first value of a header (case-insensitive name), or "".
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(&name.to_ascii_lowercase())
            .and_then(|v| v.first().cloned())
            .unwrap_or_default()
    }

    /// How many times a header occurs.
    pub fn header_count(&self, name: &str) -> usize {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map_or(0, Vec::len)
    }

    /// The first `http(s)://…/status/…` link of the text part.
    pub fn status_link(&self) -> Option<String> {
        self.text
            .split_whitespace()
            .find(|w| w.contains("/status/"))
            .map(|w| w.trim_matches(|c| c == '<' || c == '>').to_string())
    }
}
