//! Crash safety: a stream of signed webhooks while the server is killed
//! with SIGKILL at random moments, ten times. Every webhook that got a 200
//! must be in the store afterwards, exactly once, and the index must open:
//! answered once committed, and answered `accepted` before it is applied
//! (kept in the inbox, applied at the next start).

use crate::common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use common::Server;
use hmac::{Hmac, Mac};
use order_status::store::{Store, StoreOptions};
use sha2::Sha256;

/// One run of the test: its own shop and secret, so a delivery that
/// reaches another test's server (a killed server's port taken again by
/// the next server started, in this binary's tests running side by side)
/// is refused there, not counted here.
#[derive(Clone, Copy)]
struct Run {
    shop: &'static str,
    secret: &'static str,
    answer_within: &'static str,
}

impl Run {
    fn env(self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("ORDER_STATUS_SEED_DEMO", "false"),
            ("ORDER_STATUS_SHOPIFY_SHOP", self.shop),
            ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", self.secret),
            ("ORDER_STATUS_LIMIT_WEBHOOK_ANSWER", self.answer_within),
        ]
    }

    fn sign(self, b: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes()).expect("key");
        mac.update(b);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }
}

fn body(id: u64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": id, "name": format!("#{id}"), "email": format!("c{id}@example.com"),
        "updated_at": "2026-11-20T10:00:00Z", "financial_status": "paid",
        "line_items": [{"id": id * 10, "title": "Mug", "quantity": 1}]
    }))
    .expect("json")
}

/// A little randomness without a crate: the clock's nanoseconds.
fn random_ms(lo: u64, hi: u64) -> u64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    lo + u64::from(n) % (hi - lo)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_answered_once_committed_survive_sigkill() {
    let accepted = survive_sigkill(Run {
        shop: "crash-committed.myshopify.com",
        secret: "crash-committed-secret",
        answer_within: "30s",
    })
    .await;
    assert_eq!(accepted, 0, "every answer waited for the commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_answered_before_they_are_applied_survive_sigkill() {
    let accepted = survive_sigkill(Run {
        shop: "crash-accepted.myshopify.com",
        secret: "crash-accepted-secret",
        answer_within: "1ms",
    })
    .await;
    assert!(accepted > 50, "only {accepted} answered before applied");
}

/// Answers a run must have had for its check to mean something.
const ENOUGH_ACKED: usize = 50;

/// Runs the rounds; returns how many answers were `accepted`.
async fn survive_sigkill(run: Run) -> usize {
    let mut server = Server::start_process(&run.env());
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let acked: Arc<Mutex<HashSet<u64>>> = Arc::default();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(1));
    // Ten rounds at least, and more (up to 30) until enough answers came to
    // check: on a busy machine a round's few hundred milliseconds may see
    // only a few commits (49 answers in ten rounds once, in CI).
    let enough = |acked: &Mutex<HashSet<u64>>| acked.lock().expect("acked").len() > ENOUGH_ACKED;
    let mut round = 0;
    while round < 10 || (!enough(&acked) && round < 30) {
        round += 1;
        let url = server.url("/webhooks/shopify");
        // Set before the kill: no sender starts a delivery after it, when
        // the port may already belong to another server.
        let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut senders = Vec::new();
        for _ in 0..4 {
            let (url, acked, next, accepted, killed) = (
                url.clone(),
                acked.clone(),
                next.clone(),
                accepted.clone(),
                killed.clone(),
            );
            senders.push(tokio::spawn(async move {
                let c = reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .expect("client");
                while !killed.load(std::sync::atomic::Ordering::SeqCst) {
                    let id = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let b = body(id);
                    let res = c
                        .post(&url)
                        .header("x-shopify-topic", "orders/create")
                        .header("x-shopify-shop-domain", run.shop)
                        .header("x-shopify-hmac-sha256", run.sign(&b))
                        .body(b)
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status() == 200 => {
                            acked.lock().expect("acked").insert(id);
                            if r.text().await.is_ok_and(|t| t.contains("\"accepted\"")) {
                                accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            }
                        }
                        Ok(_) => {}
                        Err(_) => return, // the server is gone
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(random_ms(150, 700))).await;
        // SIGKILL, no warning, then a fresh process on the same data dir.
        killed.store(true, std::sync::atomic::Ordering::SeqCst);
        server = tokio::task::block_in_place(|| server.restart(&run.env()));
        for s in senders {
            let _ = s.await;
        }
        assert!(
            !acked.lock().expect("acked").is_empty() || round < 3,
            "nothing acknowledged by round {round}"
        );
    }
    // The last start applies what the last kill left in the inbox.
    let mut drained = false;
    for _ in 0..400 {
        if server
            .metrics()
            .await
            .lines()
            .any(|l| l.trim() == "order_status_webhook_inbox_open 0")
        {
            drained = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(drained, "the inbox is applied after the last start");
    // Stopped, but kept: dropping the server would delete its temp dir.
    let dir = server.dir.path().join("data");
    tokio::task::block_in_place(|| server.terminate(Duration::from_secs(10))).expect("stopped");
    let store = Store::open(&dir, StoreOptions::default()).expect("the index opens cleanly");
    let acked = acked.lock().expect("acked").clone();
    assert!(
        acked.len() > ENOUGH_ACKED,
        "only {} webhooks acknowledged in {round} rounds",
        acked.len()
    );
    let mut seen: HashMap<String, u32> = HashMap::new();
    store
        .for_each_order(|o| {
            *seen.entry(o.key()).or_default() += 1;
            Ok(())
        })
        .expect("every stored order reads");
    let mut missing: Vec<u64> = acked
        .iter()
        .copied()
        .filter(|id| !seen.contains_key(&format!("{}/{id}", run.shop)))
        .collect();
    missing.sort();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged orders are missing: {missing:?} (stored: {})",
        missing.len(),
        acked.len(),
        seen.len()
    );
    assert!(seen.values().all(|n| *n == 1), "no order is stored twice");
    accepted.load(std::sync::atomic::Ordering::SeqCst)
}
