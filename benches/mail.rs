//! Status-email benchmarks against a real SMTP server (Debian's aiosmtpd,
//! the handler of `tests/fixtures/smtp_handlers.py`, writing a Maildir):
//!
//! 1. **Latency**: from a `fulfillments/create` webhook's acknowledgement
//!    to the message accepted by the SMTP server (the Maildir file's
//!    modification time, written just before the server's `250`), one
//!    webhook at a time, 200 times: p50 and p99.
//! 2. **Burst**: 10,000 shipments arrive while the site is down (an
//!    import queues their emails); the site starts with them in its
//!    outbox. The drain rate (start to the last message accepted) and a
//!    status page's p50/p99 meanwhile, against the same page idle.
//! 3. **Webhook burst**: 5,000 shipments as webhooks, 16 at a time; how
//!    fast they are acknowledged and emailed, and the status page.
//! 4. **"Email me my link" timing**: `POST /link` for an order number and
//!    its email, the right number with a wrong email, and a number that
//!    does not exist, interleaved, 200 each: p50 and p99 of each, which
//!    should be alike (the answer must not tell them apart).
//!
//! Run with `cargo bench --bench mail`. It prints a table and asserts
//! nothing: the numbers are a record (BENCHMARKS.md), not a test. Server,
//! SMTP server and clients share the machine; to give the site a core of
//! its own (the SMTP relay and the shoppers elsewhere, as in production):
//! `MAIL_BENCH_SERVER_CPUS=0 taskset -c 1 cargo bench --bench mail` (the
//! SMTP server then runs at nice 19 on the readers' core). As root, add
//! `chrt -f 1` before `taskset`: the bench's own clients then run at
//! real-time priority, as if on a machine of their own, while the site and
//! the SMTP server are started back at normal priority (`chrt -o 0`).
//! `/healthz` is read beside the status page, to tell the machine's share
//! of the page's tail from the page's.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const SHOP: &str = "bench.myshopify.com";
const SECRET: &str = "bench-webhook-secret";
const LATENCY_SAMPLES: u64 = 200;
const BURST: u64 = 10_000;
const BURST_CONCURRENCY: usize = 16;
const WEBHOOK_BURST: u64 = 5_000;
const WARM_UP: Duration = Duration::from_secs(3);
const IDLE: Duration = Duration::from_secs(20);

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn order(i: u64) -> serde_json::Value {
    let t = chrono::Utc::now() - chrono::Duration::hours(3);
    serde_json::json!({
        "shop": SHOP, "id": 1_000_000 + i, "name": format!("#{}", 10_000 + i),
        "order_number": 10_000 + i, "email": format!("c{i}@mail.example.com"),
        "financial_status": "PAID", "created_at": t, "updated_at": t,
        "shipping_address": {"city": "Umeå", "country": "Sweden"},
        "line_items": [{"id": 1, "title": "Mug", "quantity": 1, "price": "12.00"}]
    })
}

fn shipment(i: u64) -> Vec<u8> {
    let now = chrono::Utc::now();
    serde_json::to_vec(&serde_json::json!({
        "id": 5_000_000 + i, "order_id": 1_000_000 + i, "status": "success",
        "tracking_company": "PostNord", "tracking_numbers": [format!("TRK{i:06}")],
        "created_at": now, "updated_at": now,
        "line_items": [{"id": 1, "title": "Mug", "quantity": 1}]
    }))
    .expect("json")
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn webhook(client: &reqwest::Client, base: &str, i: u64) {
    let body = shipment(i);
    let res = client
        .post(format!("{base}/webhooks/shopify"))
        .header("x-shopify-topic", "fulfillments/create")
        .header("x-shopify-shop-domain", SHOP)
        .header("x-shopify-hmac-sha256", sign(&body))
        .header("x-shopify-event-id", format!("ev-{i}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("webhook");
    assert_eq!(res.status(), 200, "webhook {i}");
}

fn maildir_times(dir: &std::path::Path) -> Vec<SystemTime> {
    std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .filter_map(|e| e.metadata().ok()?.modified().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn maildir_count(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map(|r| r.count()).unwrap_or(0)
}

/// CPU seconds a process has used so far (user + system, from /proc).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line: 11 and 12 here.
    (ticks(11) + ticks(12)) / 100.0
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Reads `url` in a closed loop until `stop`; returns when each request
/// started and how long it took.
async fn read_page(
    client: reqwest::Client,
    url: String,
    stop: Arc<AtomicBool>,
) -> Vec<(Instant, Duration)> {
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        let res = client.get(&url).send().await.expect("page");
        assert_eq!(res.status(), 200);
        let _ = res.bytes().await.expect("body");
        out.push((t, t.elapsed()));
        // About 100 a second: a reader, not a load generator.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    out
}

/// The sorted latencies of requests started in `[from, to)`.
fn window(samples: &[(Instant, Duration)], from: Instant, to: Instant) -> Vec<Duration> {
    let mut v: Vec<Duration> = samples
        .iter()
        .filter(|(t, _)| *t >= from && *t < to)
        .map(|(_, d)| *d)
        .collect();
    v.sort();
    v
}

fn import(data: &std::path::Path, file: &std::path::Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_order-status"))
        .arg("import")
        .arg(file)
        .env("ORDER_STATUS_DATA_DIR", data)
        .env("ORDER_STATUS_MAIL_EVENTS", "shipped")
        .env("RUST_LOG", "error")
        .output()
        .expect("import");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write_orders(path: &std::path::Path, range: std::ops::Range<u64>, shipped: bool) {
    let mut f = std::fs::File::create(path).expect("file");
    for i in range {
        let mut o = order(i);
        if shipped {
            let now = chrono::Utc::now();
            o["updated_at"] = serde_json::json!(now - chrono::Duration::minutes(5));
            o["fulfillments"] =
                serde_json::json!([
                    serde_json::from_slice::<serde_json::Value>(&shipment(i)).expect("json")
                ]);
        }
        writeln!(f, "{o}").expect("line");
    }
}

/// Starts `order-status serve` on `data`, sending to the SMTP server on
/// `port`; returns it and its base URL once it listens.
fn serve(data: &std::path::Path, port: u16) -> (Proc, String) {
    let bin = env!("CARGO_BIN_EXE_order-status");
    // MAIL_BENCH_SERVER_CPUS=0 (with the bench itself under `taskset -c
    // 1`): the site gets a core of its own, and the SMTP server and the
    // page reader share the other, as a relay on another machine would.
    let mut cmd = match std::env::var("MAIL_BENCH_SERVER_CPUS") {
        Ok(cpus) => {
            // Normal priority whatever the bench's own (see the top).
            let mut c = Command::new("chrt");
            c.args(["-o", "0", "taskset", "-c", cpus.as_str(), bin]);
            c
        }
        Err(_) => Command::new(bin),
    };
    let mut child = cmd
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "error")
        .env("ORDER_STATUS_SEED_DEMO", "false")
        .env("ORDER_STATUS_SHOPIFY_SHOP", SHOP)
        .env("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", SECRET)
        .env("ORDER_STATUS_SMTP_URL", format!("smtp://127.0.0.1:{port}"))
        .env("ORDER_STATUS_MAIL_EVENTS", "shipped")
        .env("ORDER_STATUS_LIMIT_PAGES", "1000000/s")
        .env("ORDER_STATUS_LIMIT_API", "1000000/s")
        .env("ORDER_STATUS_LIMIT_LOOKUP", "1000000/s")
        .env("ORDER_STATUS_MAIL_LINK_PER_ADDRESS", "1000000/s")
        .stdout(Stdio::piped())
        .spawn()
        .expect("server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let base = loop {
        let line = lines.next().expect("output").expect("line");
        if let Some(url) = line.split("listening on ").nth(1) {
            break url.trim().trim_end_matches('/').to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (Proc(child), base)
}

/// Waits until the Maildir holds `want` messages; returns when the last
/// of them was accepted (the newest file's time). Looks four times a
/// second, off the async threads: counting a directory of 15,000 files
/// every few milliseconds took enough of the reader's core to show in
/// the page latencies it measures.
async fn drained(dir: &std::path::Path, want: usize) -> SystemTime {
    let deadline = Instant::now() + Duration::from_secs(900);
    let on_blocking = |f: fn(&std::path::Path) -> usize| {
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || f(&dir))
    };
    while on_blocking(maildir_count).await.expect("count") < want {
        assert!(Instant::now() < deadline, "the outbox did not drain");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || maildir_times(&dir).into_iter().max())
        .await
        .expect("times")
        .expect("a message")
}

fn main() {
    let work = tempfile::tempdir().expect("dir");
    let data = work.path().join("data");
    let all = 0..LATENCY_SAMPLES + BURST + WEBHOOK_BURST;
    let file = work.path().join("orders.ndjson");
    write_orders(&file, all.clone(), false);
    import(&data, &file);

    let port = free_port();
    let maildir = work.path().join("maildir");
    // With the site on a core of its own, the SMTP server stands in for a
    // relay on another machine: at nice 19 it yields the reader's core to
    // the reader, whose wake-ups it otherwise delays by a time slice.
    let mut smtpd = if std::env::var_os("MAIL_BENCH_SERVER_CPUS").is_some() {
        let mut c = Command::new("chrt");
        c.args(["-o", "0", "nice", "-n", "19", "/usr/bin/python3"]);
        c
    } else {
        Command::new("/usr/bin/python3")
    };
    let _smtp = Proc(
        smtpd
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "smtp_handlers.Picky"])
            .arg(&maildir)
            .env(
                "PYTHONPATH",
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"),
            )
            .spawn()
            .expect("aiosmtpd (apt-get install python3-aiosmtpd)"),
    );
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let new_dir = maildir.join("new");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::new();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);

    // Phase 1: idle reference, then one webhook at a time.
    let (server, base) = serve(&data, port);
    let page = status_page(&data, &base);
    let ((idle, idle_health), latencies) = rt.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let reader = tokio::spawn(read_page(client.clone(), page.clone(), Arc::clone(&stop)));
        let health = tokio::spawn(read_page(
            client.clone(),
            format!("{base}/healthz"),
            Arc::clone(&stop),
        ));
        tokio::time::sleep(IDLE).await;
        stop.store(true, Ordering::Relaxed);
        let all = Instant::now() - IDLE * 2..Instant::now();
        let idle = window(&reader.await.expect("reader"), all.start, all.end);
        let health = window(&health.await.expect("reader"), all.start, all.end);
        let mut latencies = Vec::new();
        for i in 0..LATENCY_SAMPLES {
            let before = maildir_count(&new_dir);
            webhook(&client, &base, i).await;
            let acked = SystemTime::now();
            let deadline = Instant::now() + Duration::from_secs(30);
            while maildir_count(&new_dir) <= before {
                assert!(Instant::now() < deadline, "message {i} never arrived");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let newest = maildir_times(&new_dir).into_iter().max().expect("a file");
            latencies.push(newest.duration_since(acked).unwrap_or(Duration::ZERO));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        latencies.sort();
        ((idle, health), latencies)
    });
    let link_timing = rt.block_on(link_timing(&client, &base));
    drop(server);

    // Phase 2: 10,000 shipments arrive while the site is down (an import
    // queues their emails), and the site starts with a full outbox.
    let burst = LATENCY_SAMPLES..LATENCY_SAMPLES + BURST;
    let file = work.path().join("shipped.ndjson");
    write_orders(&file, burst.clone(), true);
    import(&data, &file);
    let before = maildir_count(&new_dir);
    let smtp_pid = _smtp.0.id();
    let smtp_cpu = cpu_seconds(smtp_pid);
    let (started, started_wall) = (Instant::now(), SystemTime::now());
    let (server, base) = serve(&data, port);
    let server_pid = server.0.id();
    let page = status_page(&data, &base);
    let (drain_time, (draining, draining_health)) = rt.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let reader = tokio::spawn(read_page(client.clone(), page.clone(), Arc::clone(&stop)));
        let health = tokio::spawn(read_page(
            client.clone(),
            format!("{base}/healthz"),
            Arc::clone(&stop),
        ));
        let last = drained(&new_dir, before + BURST as usize).await;
        let took = last.duration_since(started_wall).unwrap_or_default();
        let so_far = started.elapsed().as_secs_f64();
        let cpu = (
            cpu_seconds(server_pid) / so_far,
            (cpu_seconds(smtp_pid) - smtp_cpu) / so_far,
        );
        println!(
            "  (during the drain: order-status used {:.0}% of a core, aiosmtpd {:.0}%)",
            cpu.0 * 100.0,
            cpu.1 * 100.0
        );
        stop.store(true, Ordering::Relaxed);
        let samples = reader.await.expect("reader");
        let health = health.await.expect("reader");
        // The first seconds are a cold start (index files not yet in the
        // page cache), whatever the outbox holds: left out, as the idle
        // reference was taken on a warm server. The window ends with the
        // last message: after it the site is idle again.
        let during = started + WARM_UP..started + took;
        (
            took,
            (
                window(&samples, during.start, during.end),
                window(&health, during.start, during.end),
            ),
        )
    });

    // Phase 3: shipments arriving as webhooks, 16 at a time, the emails
    // going out as they come.
    let first = LATENCY_SAMPLES + BURST;
    let before = maildir_count(&new_dir);
    let (ingest_time, emailed_time, ingesting) = rt.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let reader = tokio::spawn(read_page(client.clone(), page.clone(), Arc::clone(&stop)));
        let (t0, t0_wall) = (Instant::now(), SystemTime::now());
        let next = Arc::new(std::sync::atomic::AtomicU64::new(first));
        let mut senders = Vec::new();
        for _ in 0..BURST_CONCURRENCY {
            let (client, base, next) = (client.clone(), base.clone(), Arc::clone(&next));
            senders.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= first + WEBHOOK_BURST {
                        break;
                    }
                    webhook(&client, &base, i).await;
                }
            }));
        }
        for s in senders {
            s.await.expect("sender");
        }
        let acked = t0.elapsed();
        let last = drained(&new_dir, before + WEBHOOK_BURST as usize).await;
        let emailed = last.duration_since(t0_wall).unwrap_or_default();
        stop.store(true, Ordering::Relaxed);
        let samples = reader.await.expect("reader");
        (acked, emailed, window(&samples, t0, t0 + emailed))
    });
    drop(server);

    let ratio = |w: &[Duration]| pct(w, 0.99).as_secs_f64() / pct(&idle, 0.99).as_secs_f64();
    println!("status emails (aiosmtpd on loopback, 4 workers, release build)");
    println!(
        "  webhook ack -> accepted by SMTP, {LATENCY_SAMPLES} one at a time: p50 {}  p99 {}  max {}",
        ms(pct(&latencies, 0.50)),
        ms(pct(&latencies, 0.99)),
        ms(*latencies.last().expect("samples"))
    );
    println!(
        "  {BURST} queued at start: all accepted by SMTP {:.1} s after the start: {:.0} messages/s",
        drain_time.as_secs_f64(),
        BURST as f64 / drain_time.as_secs_f64()
    );
    println!(
        "  {WEBHOOK_BURST} shipments as webhooks ({BURST_CONCURRENCY} at a time): acknowledged in {:.1} s ({:.0}/s), all emails accepted after {:.1} s",
        ingest_time.as_secs_f64(),
        WEBHOOK_BURST as f64 / ingest_time.as_secs_f64(),
        emailed_time.as_secs_f64()
    );
    for (name, mut w) in link_timing {
        w.sort();
        println!(
            "  POST /link, {name}: p50 {}  p99 {}  ({} requests)",
            ms(pct(&w, 0.50)),
            ms(pct(&w, 0.99)),
            w.len()
        );
    }
    for (name, w) in [
        ("idle", &idle),
        ("while the 10,000 drain", &draining),
        ("while webhooks arrive", &ingesting),
    ] {
        println!(
            "  status page, {name}: p50 {}  p99 {}  ({} requests)  p99 / idle p99 {:.2}",
            ms(pct(w, 0.50)),
            ms(pct(w, 0.99)),
            w.len(),
            ratio(w)
        );
    }
    // The same for an answer that does no work: what of the page's tail is
    // the machine (scheduling, loopback) rather than the page.
    println!(
        "  /healthz (beside the page), idle: p99 {}  while the 10,000 drain: p99 {}  ({:.2}x)",
        ms(pct(&idle_health, 0.99)),
        ms(pct(&draining_health, 0.99)),
        pct(&draining_health, 0.99).as_secs_f64() / pct(&idle_health, 0.99).as_secs_f64()
    );
}

/// `POST /link` round trips for the three kinds of request, interleaved
/// so that all three meet the same background.
async fn link_timing(client: &reqwest::Client, base: &str) -> [(&'static str, Vec<Duration>); 3] {
    let mut out = [
        ("order and its email", Vec::new()),
        ("a wrong email", Vec::new()),
        ("no such order", Vec::new()),
    ];
    for i in 0..LATENCY_SAMPLES {
        let number = (10_000 + i).to_string();
        let requests = [
            (number.clone(), format!("c{i}@mail.example.com")),
            (number, format!("x{i}@mail.example.com")),
            (
                (90_000_000 + i).to_string(),
                format!("c{i}@mail.example.com"),
            ),
        ];
        for (k, (order, email)) in requests.into_iter().enumerate() {
            let t = Instant::now();
            let res = client
                .post(format!("{base}/link"))
                .form(&[("order", order.as_str()), ("email", email.as_str())])
                .send()
                .await
                .expect("POST /link");
            assert_eq!(res.status(), 200);
            res.bytes().await.expect("body");
            out[k].1.push(t.elapsed());
        }
    }
    out
}

/// A signed link to the status page of the last order (the link key is
/// the one the server keeps in the data dir).
fn status_page(data: &std::path::Path, base: &str) -> String {
    let key_line = std::fs::read_to_string(data.join("link-keys")).expect("link key");
    let (kid, secret) = key_line
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .and_then(|l| l.trim().split_once(' '))
        .expect("key");
    let links = order_status::links::Links::new(vec![
        order_status::links::LinkKey::new(kid, secret.as_bytes()).expect("key"),
    ])
    .expect("links");
    let token = links.sign(&order_status::links::LinkClaims {
        shop: SHOP.into(),
        order_id: 1_000_000 + LATENCY_SAMPLES + BURST - 1,
        expires: chrono::Utc::now() + chrono::Duration::days(1),
        epoch: 0,
    });
    format!("{base}/status/{token}")
}
