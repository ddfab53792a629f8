//! Killing the site (SIGKILL) while it drains its outbox: no message is
//! lost, and none goes out as a second, different message.
//!
//! 1,000 status emails are queued by an offline import (so they wait in the
//! outbox before the site starts), then the site is killed at random
//! moments during the drain, six times, and finally let finish. The
//! Maildir of a real SMTP server (aiosmtpd) must then hold every message;
//! a repeat is possible only for a message the server had accepted in the
//! instant before the kill (before the journal line was on disk), and it
//! carries the same `Message-ID` as the first copy.

use crate::common;

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use common::Server;
use common::smtp::Smtpd;

const ORDERS: u64 = 1000;
const KILLS: usize = 6;
const WORKERS: usize = 4;

fn order(i: u64, shipped: bool) -> serde_json::Value {
    let now = chrono::Utc::now();
    let mut o = serde_json::json!({
        "shop": common::SHOP, "id": 7_000_000 + i, "name": format!("#{}", 20_000 + i),
        "order_number": 20_000 + i, "email": format!("c{i}@mail.example.com"),
        "financial_status": "PAID",
        "created_at": now - chrono::Duration::hours(2),
        "updated_at": now - chrono::Duration::hours(if shipped { 1 } else { 2 }),
        "line_items": [{"id": 1, "title": "Mug", "quantity": 1}]
    });
    if shipped {
        o["fulfillments"] = serde_json::json!([{
            "id": 9_000_000 + i, "status": "success", "tracking_company": "PostNord",
            "tracking_numbers": [format!("TRK{i:05}")],
            "created_at": now - chrono::Duration::hours(1),
            "updated_at": now - chrono::Duration::hours(1)
        }]);
    }
    o
}

fn import(data: &std::path::Path, file: &std::path::Path) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .arg("import")
        .arg(file)
        .env("ORDER_STATUS_DATA_DIR", data)
        .env("ORDER_STATUS_MAIL_EVENTS", "shipped")
        .env("RUST_LOG", "warn")
        .output()
        .expect("import runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn sigkill_mid_send_loses_nothing_and_sends_nothing_twice_as_a_new_message() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    for (name, shipped) in [("a.ndjson", false), ("b.ndjson", true)] {
        let path = dir.path().join(name);
        let mut f = std::fs::File::create(&path).expect("file");
        for i in 0..ORDERS {
            writeln!(f, "{}", order(i, shipped)).expect("line");
        }
        drop(f);
        import(&data, &path);
    }
    let smtp = Smtpd::start();
    let url = smtp.url();
    let env = [
        ("ORDER_STATUS_SEED_DEMO", "false"),
        ("ORDER_STATUS_SMTP_URL", url.as_str()),
        ("ORDER_STATUS_MAIL_EVENTS", "shipped"),
        ("ORDER_STATUS_MAIL_WORKERS", "4"),
    ];
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .subsec_nanos() as u64;
    eprintln!("kill-time seed {seed}");
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut server = Server::start_process_in(dir, &env);
    let mut kills = 0;
    while kills < KILLS && smtp.messages().len() < ORDERS as usize {
        tokio::time::sleep(Duration::from_millis(50 + next() % 200)).await;
        server = server.restart(&env); // SIGKILL, then start again
        kills += 1;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let got = loop {
        let got = smtp.messages();
        let ids: std::collections::HashSet<String> =
            got.iter().map(|m| m.header("message-id")).collect();
        if ids.len() >= ORDERS as usize || Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Give a late duplicate the chance to show.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = if smtp.messages().len() > got.len() {
        smtp.messages()
    } else {
        got
    };

    let mut by_tracking: HashMap<String, Vec<String>> = HashMap::new();
    for m in &got {
        let number = m
            .text
            .split_whitespace()
            .find(|w| w.starts_with("TRK"))
            .expect("a tracking number in every message")
            .to_string();
        by_tracking
            .entry(number)
            .or_default()
            .push(m.header("message-id"));
    }
    let repeats: usize = by_tracking.values().map(|v| v.len() - 1).sum();
    eprintln!(
        "{} messages delivered for {ORDERS} emails after {kills} kills: {repeats} repeats",
        got.len()
    );
    assert_eq!(
        by_tracking.len(),
        ORDERS as usize,
        "every email arrived: none lost"
    );
    for (number, ids) in &by_tracking {
        assert!(
            ids.iter().all(|id| id == &ids[0]),
            "{number}: a repeat is the same message (same Message-ID), never a new one"
        );
    }
    assert!(
        repeats <= kills * WORKERS,
        "repeats only for messages in flight at a kill: {repeats} after {kills} kills"
    );
    // Every outcome reached the orders: all sent, nothing left queued.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let dir = server.stop();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .arg("export")
        .env("ORDER_STATUS_DATA_DIR", dir.path().join("data"))
        .env("RUST_LOG", "warn")
        .output()
        .expect("export runs");
    let orders: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let states: Vec<String> = orders
        .iter()
        .flat_map(|o| {
            o["mail"]["messages"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|m| m["state"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(states.len(), ORDERS as usize, "one message per order");
    assert!(
        states.iter().all(|s| s == "sent"),
        "all recorded as sent: {states:?}"
    );
}
