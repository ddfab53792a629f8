//! Spawns the real `order-status` binary on port 0 in a temp data dir and
//! talks to it over HTTP, as a user's browser would.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
    /// The (order, email) pairs the server printed on start.
    pub samples: Vec<(String, String)>,
    pub dir: tempfile::TempDir,
}

/// Limits high enough that ordinary tests never meet them.
pub const RELAXED_LIMITS: &[(&str, &str)] = &[
    ("ORDER_STATUS_LIMIT_PAGES", "100000/s"),
    ("ORDER_STATUS_LIMIT_LOOKUP", "100000/s"),
    ("ORDER_STATUS_LIMIT_LOGIN", "100000/s"),
    ("ORDER_STATUS_LIMIT_API", "100000/s"),
    ("ORDER_STATUS_LIMIT_ORDER_FAILURES", "100000/1m"),
];

/// The shop the test servers run as (the config default).
pub const SHOP: &str = "demo.example";

/// The demo order the server seeded at `index` (emails and numbers do not
/// depend on the time, so the test can regenerate them).
pub fn demo_order(index: u64) -> order_status::order::Order {
    order_status::ingest::demo::order(order_status::cli::SEED, index, chrono::Utc::now(), SHOP)
}

/// Index of the first seeded demo order with this scenario.
pub fn scenario_index(s: &order_status::ingest::demo::Scenario) -> u64 {
    order_status::ingest::demo::SCENARIOS
        .iter()
        .position(|x| x == s)
        .expect("scenario listed") as u64
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `order-status serve` on a fresh data dir with extra env vars.
    pub fn start(env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir, env)
    }

    pub fn start_in(dir: tempfile::TempDir, env: &[(&str, &str)]) -> Server {
        let data = dir.path().join("data");
        Self::spawn(dir, &data, env)
    }

    /// Starts a server on a data dir somewhere else (a special file system).
    pub fn start_with_data_dir(data: &std::path::Path, env: &[(&str, &str)]) -> Server {
        Self::spawn(tempfile::tempdir().expect("tempdir"), data, env)
    }

    /// Starts the server through `wrapper` (a program that execs the
    /// command it is given, such as `prlimit --nofile=256:4096`).
    pub fn start_wrapped(wrapper: &[&str], env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        Self::spawn_with(wrapper, dir, &data, env)
    }

    fn spawn(dir: tempfile::TempDir, data: &std::path::Path, env: &[(&str, &str)]) -> Server {
        Self::spawn_with(&[], dir, data, env)
    }

    fn spawn_with(
        wrapper: &[&str],
        dir: tempfile::TempDir,
        data: &std::path::Path,
        env: &[(&str, &str)],
    ) -> Server {
        let bin = env!("CARGO_BIN_EXE_order-status");
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        cmd.arg("serve")
            .args(["--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // Tests make many requests from one address; the limits get their
        // own tests, which set strict values here.
        for (k, v) in RELAXED_LIMITS {
            cmd.env(k, v);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("server starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut samples = Vec::new();
        let base = loop {
            assert!(Instant::now() < deadline, "server did not start in time");
            let line = lines
                .next()
                .expect("server exited before listening")
                .expect("stdout line");
            if let Some(rest) = line.trim().strip_prefix("order ") {
                let parts: Vec<&str> = rest.split_whitespace().collect();
                if let [name, "email", email] = parts[..] {
                    samples.push((name.to_string(), email.to_string()));
                }
            }
            if let Some(url) = line.split("listening on ").nth(1) {
                break url.trim().trim_end_matches('/').to_string();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base,
            samples,
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits up to `timeout` for the process to exit;
    /// returns its exit status, or `None` if it did not exit in time.
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Stops this server and hands back its directory (data in `data/`).
    pub fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"))
    }

    /// Stops this server and starts a new one on the same data dir.
    pub fn restart(mut self, env: &[(&str, &str)]) -> Server {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
        Server::start_in(dir, env)
    }

    /// POSTs the lookup form.
    pub async fn lookup(&self, order: &str, email: &str) -> reqwest::Response {
        client()
            .post(self.url("/"))
            .header("accept", "text/html")
            .form(&[("order", order), ("email", email)])
            .send()
            .await
            .expect("POST /")
    }

    /// Looks an order up and returns its status page path (`/status/...`).
    pub async fn status_path(&self, order: &str, email: &str) -> String {
        let res = self.lookup(order, email).await;
        assert_eq!(
            res.status(),
            303,
            "lookup of {order} / {email} should redirect"
        );
        res.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_string()
    }

    /// GETs a page and returns status and body.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let res = client().get(self.url(path)).send().await.expect("GET");
        let status = res.status().as_u16();
        (status, res.text().await.expect("body"))
    }
}

/// A client that does not follow redirects, so tests see them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub mod fake_shopify;
pub mod inproc;
