//! A real server on port 0 in a temp data dir, talked to over HTTP as a
//! user's browser would. By default it runs in this test process
//! ([`Server::start`]: the same `App::build` the binary runs, on its own
//! runtime thread, without spawning and seeding through a new process);
//! tests about the process itself (signals, crashes, file limits, what it
//! prints) spawn the real binary ([`Server::start_process`]).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How a test server runs.
enum Backend {
    Process(Child),
    InProcess {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
}

/// A running server; stopped on drop.
pub struct Server {
    backend: Backend,
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
    // Tests read each delivery's outcome in its answer; the early
    // `accepted` answer has tests of its own, which set this short.
    ("ORDER_STATUS_LIMIT_WEBHOOK_ANSWER", "30s"),
    // Tests write one change after another and wait for each; the pacing
    // of commits under a stream of writes has a store test of its own.
    ("ORDER_STATUS_COMMIT_INTERVAL", "1ms"),
];

/// The shop the test servers run as (the config default).
pub const SHOP: &str = "demo.example";

/// The demo order the server seeded at `index` (emails and numbers do not
/// depend on the time, so the test can regenerate them).
pub fn demo_order(index: u64) -> order_status::order::Order {
    order_status::ingest::demo::order(
        order_status::ingest::demo::SEED,
        index,
        chrono::Utc::now(),
        SHOP,
    )
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
        self.halt();
    }
}

impl Server {
    /// Starts a server in this process on a fresh data dir, configured by
    /// `env` (the `ORDER_STATUS_*` variables) on top of relaxed limits.
    pub fn start(env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir, env)
    }

    /// Starts a server in this process on the data dir in `dir/data`.
    pub fn start_in(dir: tempfile::TempDir, env: &[(&str, &str)]) -> Server {
        let mut vars: std::collections::HashMap<String, String> = RELAXED_LIMITS
            .iter()
            .chain(env)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        vars.insert("ORDER_STATUS_ADDR".into(), "127.0.0.1:0".into());
        vars.insert(
            "ORDER_STATUS_DATA_DIR".into(),
            dir.path().join("data").display().to_string(),
        );
        vars.entry("ORDER_STATUS_PUBLIC_DIR".into())
            .or_insert_with(|| concat!(env!("CARGO_MANIFEST_DIR"), "/public").to_string());
        let mut config = order_status::config::Config::load(None, |k| vars.get(k).cloned())
            .expect("test config");
        config.data_dir = dir.path().join("data").into();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                match order_status::app::App::build(config).await {
                    Ok(site) => {
                        let _ = ready_tx.send(Ok((site.addr, site.samples.clone())));
                        if let Err(e) = site
                            .serve(async move {
                                let _ = stop_rx.await;
                            })
                            .await
                        {
                            eprintln!("the test server stopped with an error: {e}");
                        }
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                    }
                }
            });
        });
        let started = ready_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server started in time")
            .expect("server starts");
        Server {
            backend: Backend::InProcess {
                stop: Some(stop_tx),
                thread: Some(thread),
            },
            base: format!("http://{}", started.0),
            samples: started
                .1
                .iter()
                .map(|o| (o.name.clone(), o.email.clone()))
                .collect(),
            dir,
        }
    }

    /// Starts the real binary (`order-status serve`) on a fresh data dir.
    pub fn start_process(env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_process_in(dir, env)
    }

    /// Starts the real binary on the data dir in `dir/data`.
    pub fn start_process_in(dir: tempfile::TempDir, env: &[(&str, &str)]) -> Server {
        let data = dir.path().join("data");
        Self::spawn(dir, &data, env)
    }

    /// Whether this server is the real binary.
    fn is_process(&self) -> bool {
        matches!(self.backend, Backend::Process(_))
    }

    /// Stops the server: kills the process, or shuts the in-process one
    /// down and waits for it (its data dir lock is released after).
    fn halt(&mut self) {
        match &mut self.backend {
            Backend::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Backend::InProcess { stop, thread } => {
                if let Some(tx) = stop.take() {
                    let _ = tx.send(());
                }
                if let Some(t) = thread.take() {
                    let _ = t.join();
                }
            }
        }
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
            backend: Backend::Process(child),
            base,
            samples,
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The server's process id (a server started with `start_process`).
    pub fn pid(&self) -> u32 {
        match &self.backend {
            Backend::Process(child) => child.id(),
            Backend::InProcess { .. } => panic!("an in-process server has no pid"),
        }
    }

    /// Sends SIGTERM and waits up to `timeout` for the process to exit;
    /// returns its exit status, or `None` if it did not exit in time.
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let Backend::Process(child) = &mut self.backend else {
            panic!("only a server started with start_process gets signals");
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Stops this server and hands back its directory (data in `data/`).
    pub fn stop(mut self) -> tempfile::TempDir {
        self.halt();
        std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"))
    }

    /// Stops this server (a process is killed, as by a crash) and starts a
    /// new one of the same kind on the same data dir.
    pub fn restart(mut self, env: &[(&str, &str)]) -> Server {
        let process = self.is_process();
        self.halt();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
        if process {
            Server::start_process_in(dir, env)
        } else {
            Server::start_in(dir, env)
        }
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

    /// The site's own link signer, from the key it generated in its data
    /// dir: what its emails sign status and unsubscribe links with.
    pub fn links(&self) -> order_status::links::Links {
        let (kid, secret) = std::fs::read_to_string(self.dir.path().join("data/link-keys"))
            .expect("key file")
            .lines()
            .find(|l| !l.starts_with('#') && !l.trim().is_empty())
            .and_then(|l| {
                l.trim()
                    .split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
            })
            .expect("a key");
        order_status::links::Links::new(vec![
            order_status::links::LinkKey::new(&kid, secret.as_bytes()).expect("key"),
        ])
        .expect("links")
    }

    /// `/metrics` as the operator on this machine reads it.
    pub async fn metrics(&self) -> String {
        let (status, text) = self.page("/metrics").await;
        assert_eq!(status, 200, "/metrics from loopback: {text}");
        text
    }
}

/// A client that does not follow redirects, so tests see them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A client keeping its cookies, signed in to the staff console as a new
/// account `name` with `role` (added to the server's accounts file, which
/// the server reads on every request).
pub async fn staff_client(
    server: &Server,
    name: &str,
    role: order_status::staff::Role,
) -> reqwest::Client {
    let data = server.dir.path().join("data");
    order_status::staff::Accounts::change_file(&data, |accounts| {
        accounts.add_with_role(name, STAFF_PASSWORD, role)
    })
    .expect("account");
    let (c, code) = sign_in(server, name).await;
    assert_eq!(code, 303, "{name} signs in");
    c
}

/// A client keeping its cookies that tried to sign in as `name` with
/// [`STAFF_PASSWORD`], and the sign-in's status (303: signed in).
pub async fn sign_in(server: &Server, name: &str) -> (reqwest::Client, u16) {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let res = c
        .post(server.url("/staff/login"))
        .form(&[("name", name), ("password", STAFF_PASSWORD)])
        .send()
        .await
        .expect("login");
    let code = res.status().as_u16();
    (c, code)
}

/// Installs Debian's `package` with apt-get when `has` says it is
/// missing (a fresh machine running `cargo test`, as root like CI), and
/// panics with `why` if it is still missing after.
pub fn ensure_debian_package(package: &str, has: impl Fn() -> bool, why: &str) {
    if has() {
        return;
    }
    let lock = ["-o", "DPkg::Lock::Timeout=300"];
    let _ = Command::new("apt-get")
        .args(lock)
        .args(["update", "-qq"])
        .status();
    let installed = Command::new("apt-get")
        .args(lock)
        .args(["install", "-y", "-qq", package])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .status();
    assert!(installed.is_ok_and(|s| s.success()) && has(), "{why}");
}

/// The password of the accounts [`staff_client`] makes.
pub const STAFF_PASSWORD: &str = "a-long-password-1";

/// Every state Shopify names in capitals (payment, fulfillment, returns,
/// fulfillment orders, shipments): words a page must never show raw.
pub fn shopify_enum_values() -> Vec<&'static str> {
    use order_status::order::{
        FinancialStatus, FulfillmentDisplayStatus, FulfillmentOrderStatus, FulfillmentStatus,
        ReturnState, ReturnStatus,
    };
    FinancialStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .chain(FulfillmentStatus::ALL.iter().map(|s| s.as_str()))
        .chain(ReturnStatus::ALL.iter().map(|s| s.as_str()))
        .chain(ReturnState::ALL.iter().map(|s| s.as_str()))
        .chain(FulfillmentOrderStatus::ALL.iter().map(|s| s.as_str()))
        .chain(FulfillmentDisplayStatus::ALL.iter().map(|s| s.as_str()))
        .collect()
}

pub mod fake_shopify;
pub mod inproc;
pub mod nats;
pub mod smtp;
pub mod webhook;

/// Posts a staff form as a browser does. A post that succeeds answers 303
/// (post, redirect, get), so the page it leads to is fetched with the same
/// client, whose cookies carry the notice of what the post did; a refused
/// post answers with its page and status. Returns the last status and body,
/// and whether the post redirected.
pub async fn post_form(
    c: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    form: &[(&str, &str)],
) -> (u16, String, bool) {
    let res = c
        .post(url)
        .header("accept", "text/html")
        .form(form)
        .send()
        .await
        .expect("post");
    if res.status() != 303 {
        let code = res.status().as_u16();
        let body = res.text().await.expect("body");
        // A post that worked must not answer with a page: a reload would
        // post it again.
        assert_ne!(code, 200, "a successful post answers 303, not a page");
        return (code, body, false);
    }
    let to = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let next = res.url().join(&to).expect("a location on the site");
    let page = c
        .get(next)
        .header("accept", "text/html")
        .send()
        .await
        .expect("the page after a post");
    (
        page.status().as_u16(),
        page.text().await.expect("body"),
        true,
    )
}

/// The `Set-Cookie` of cookie `name` in a response (signing in sets two:
/// the session, for `/staff`, and its copy for status pages).
pub fn set_cookie(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie set"))
        .to_string()
}

/// The `name=value` pair of the staff session cookie a sign-in set.
pub fn session_pair(res: &reqwest::Response) -> String {
    set_cookie(res, "staff_session")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string()
}
