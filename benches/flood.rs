//! Load check for the rate limits: one client floods lookups at full speed
//! while a second client reads a status page at a fixed rate. The flooder
//! should get 429s, and the reader's p99 should stay within 2x of its p99
//! with no flood. Run with `cargo bench --bench flood`; it prints a table,
//! asserts nothing (numbers are a record, not a test).
//!
//! Both clients are on this machine, so the server trusts 127.0.0.1 as a
//! proxy and each client names itself with `X-Forwarded-For`. The page
//! budget is raised so the reader's own traffic is not what gets limited;
//! the lookup budget is the production default.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const READER_RATE: u64 = 200; // requests a second
const PHASE: Duration = Duration::from_secs(8);
/// Concurrent connections of the flooding client (`FLOOD_CONNECTIONS`).
fn flooders() -> usize {
    std::env::var("FLOOD_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_order-status"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "error")
        .env("ORDER_STATUS_TRUSTED_PROXIES", "127.0.0.1")
        .env("ORDER_STATUS_LIMIT_PAGES", "100000/s")
        .stdout(Stdio::piped())
        .spawn()
        .expect("server starts");
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let mut samples = Vec::new();
    let base = loop {
        let line = lines.next().expect("server output").expect("line");
        if let Some(rest) = line.trim().strip_prefix("order ") {
            samples.push(rest.to_string());
        }
        if let Some(url) = line.split("listening on ").nth(1) {
            break url.trim().trim_end_matches('/').to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let first = samples.first().expect("demo sample").clone();
    Server(child, format!("{base}|{first}"))
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

/// GETs `url` at a fixed rate for `PHASE`, as client `ip`; returns sorted latencies.
async fn read_at_fixed_rate(
    client: reqwest::Client,
    url: String,
    ip: &'static str,
) -> Vec<Duration> {
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / READER_RATE));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let end = Instant::now() + PHASE;
    let mut tasks = Vec::new();
    while Instant::now() < end {
        tick.tick().await;
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let res = client.get(&url).header("x-forwarded-for", ip).send().await;
            let ok = match res {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            (t.elapsed(), ok)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        let (d, ok) = t.await.expect("task");
        assert!(ok, "the reader's request failed");
        lat.push(d);
    }
    lat.sort();
    lat
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path());
    let (base, sample) = server.1.split_once('|').expect("base|sample");
    let parts: Vec<&str> = sample.split_whitespace().collect();
    let (order, email) = (parts[0].to_string(), parts[2].to_string());
    let base = base.to_string();
    rt.block_on(async move {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(64)
            .build()
            .expect("client");
        let res = client
            .post(format!("{base}/"))
            .header("x-forwarded-for", "198.51.100.2")
            .form(&[("order", order.as_str()), ("email", email.as_str())])
            .send()
            .await
            .expect("lookup");
        let status_url = format!("{base}{}", res.headers()["location"].to_str().expect("ascii"));

        let quiet = read_at_fixed_rate(client.clone(), status_url.clone(), "198.51.100.2").await;

        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (limited, passed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let mut flood = Vec::new();
        for _ in 0..flooders() {
            let (client, url) = (client.clone(), format!("{base}/"));
            let (stop, limited, passed) = (stop.clone(), limited.clone(), passed.clone());
            flood.push(tokio::spawn(async move {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let guess = format!("guess{i}@example.com");
                    let res = client
                        .post(&url)
                        .header("x-forwarded-for", "198.51.100.1")
                        .form(&[("order", "1001"), ("email", guess.as_str())])
                        .send()
                        .await;
                    if let Ok(r) = res {
                        let counter = if r.status() == 429 { &limited } else { &passed };
                        counter.fetch_add(1, Ordering::Relaxed);
                        let _ = r.bytes().await;
                    }
                }
            }));
        }
        let loaded = read_at_fixed_rate(client.clone(), status_url, "198.51.100.2").await;
        stop.store(true, Ordering::Relaxed);
        for f in flood {
            let _ = f.await;
        }
        let (l, p) = (limited.load(Ordering::Relaxed), passed.load(Ordering::Relaxed));
        println!("reader: GET status page at {READER_RATE}/s for {PHASE:?}; flooder: {} connection(s) posting lookups", flooders());
        println!("{:<22} {:>8} {:>10} {:>10} {:>10}", "reader", "n", "p50", "p99", "max");
        for (name, lat) in [("without flood", &quiet), ("during flood", &loaded)] {
            println!(
                "{name:<22} {:>8} {:>10.2?} {:>10.2?} {:>10.2?}",
                lat.len(),
                percentile(lat, 0.5),
                percentile(lat, 0.99),
                lat[lat.len() - 1]
            );
        }
        let ratio = percentile(&loaded, 0.99).as_secs_f64() / percentile(&quiet, 0.99).as_secs_f64();
        println!("flooder: {} lookups, {} refused with 429 ({:.2}%), {} answered", l + p, l, 100.0 * l as f64 / (l + p).max(1) as f64, p);
        println!("reader p99 during flood / without: {ratio:.2}x (target <= 2x)");
    });
    drop(server);
}
