//! Operations: health, readiness, metrics, request ids, graceful
//! shutdown, export and reindex.

use crate::common;

use std::time::Duration;

use common::{Server, client};

#[tokio::test]
async fn health_and_readiness() {
    let server = Server::start(&[("ORDER_STATUS_SHOPIFY_SHOP", "fika.myshopify.com")]);
    let res = client()
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    let res = client()
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    let v: serde_json::Value = res.json().await.expect("json");
    assert_eq!(v["ready"], true);
    assert_eq!(
        v["store"]["orders"], 0,
        "a real shop configured: no demo orders"
    );
    assert_eq!(v["shops"][0]["shop"], "fika.myshopify.com");
    assert_eq!(v["shops"][0]["syncs"], false, "no access token, no sync");
}

#[tokio::test]
async fn metrics_count_what_the_merchant_cares_about_and_stay_private() {
    let server = Server::start(&[
        ("ORDER_STATUS_TRUSTED_PROXIES", "127.0.0.1"),
        ("ORDER_STATUS_PUBLIC_URL", "http://track.test"),
        ("ORDER_STATUS_METRICS_TOKEN", "metrics-token-0123456789"),
    ]);
    let (name, email) = server.samples[0].clone();
    let path = server.status_path(&name, &email).await;
    assert_eq!(server.page(&path).await.0, 200);
    let _ = server.lookup(&name, "wrong@example.com").await;
    let res = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200, "loopback may read");
    let text = res.text().await.expect("body");
    for line in [
        "order_status_lookups_total{outcome=\"found\"} 1",
        "order_status_lookups_total{outcome=\"not_found\"} 1",
        "order_status_status_page_views_total 1",
        "order_status_orders 3000",
        // Nothing is being written: the writer's queue is empty.
        "order_status_store_write_queue 0",
        "order_status_http_requests_total{route=\"/status/{token}\",status=\"200\"} 1",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(text.contains("order_status_store_commits_total"));
    assert!(!text.contains(&email), "no PII in metrics");
    // From outside (through the trusted proxy), only with the token.
    let outside = |token: Option<&str>| {
        let mut r = client()
            .get(server.url("/metrics"))
            .header("x-forwarded-for", "203.0.113.9");
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    assert_eq!(outside(None).await.expect("get").status(), 404);
    assert_eq!(outside(Some("wrong")).await.expect("get").status(), 404);
    assert_eq!(
        outside(Some("metrics-token-0123456789"))
            .await
            .expect("get")
            .status(),
        200
    );
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let server = Server::start(&[]);
    let res = client().get(server.url("/")).send().await.expect("get");
    let id = res.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert_eq!(id.len(), 16);
    let res = client()
        .get(server.url("/"))
        .header("x-request-id", "proxy-abc-123")
        .send()
        .await
        .expect("get");
    assert_eq!(
        res.headers()["x-request-id"],
        "proxy-abc-123",
        "a proxy's id is kept"
    );
    let res = client()
        .get(server.url("/"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .expect("get");
    assert_ne!(res.headers()["x-request-id"], "bad id with spaces");
}

/// A supervisor may stop the server the moment it says it listens: the
/// signal must find its handler installed, not the default action.
#[test]
fn sigterm_right_after_listening_finishes_cleanly() {
    for _ in 0..5 {
        let mut server = Server::start_process(&[]);
        let status = server
            .terminate(Duration::from_secs(10))
            .expect("exited within 10 s");
        assert!(status.success(), "{status:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_cleanly_and_quickly() {
    let mut server = Server::start_process(&[]);
    let (name, email) = server.samples[0].clone();
    let path = server.status_path(&name, &email).await;
    let status = tokio::task::block_in_place(|| server.terminate(Duration::from_secs(10)));
    let status = status.expect("exited within 10 s");
    assert!(status.success(), "{status:?}");
    // Nothing lost: the same data, the same links.
    let server = server.restart(&[]);
    assert!(server.samples.is_empty());
    assert_eq!(server.page(&path).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_reindex_gives_the_same_orders() {
    let server = Server::start_process(&[]);
    let data = server.dir.path().join("data");
    let out = server.dir.path().join("export.ndjson");
    let bin = env!("CARGO_BIN_EXE_order-status");
    // Export works while the server runs.
    let status = std::process::Command::new(bin)
        .args(["export", "--out"])
        .arg(&out)
        .arg("--data-dir")
        .arg(&data)
        .status()
        .expect("runs");
    assert!(status.success());
    let text = std::fs::read_to_string(&out).expect("export");
    assert_eq!(text.lines().count(), 3000);
    let (name, email) = server.samples[1].clone();

    // Reindex refuses while the server holds the data dir...
    let busy = std::process::Command::new(bin)
        .args(["reindex", "--from"])
        .arg(&out)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .expect("runs");
    assert!(!busy.status.success());
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("in use by another order-status process")
    );
    // ...and rebuilds once it is stopped.
    let mut server = server;
    tokio::task::block_in_place(|| server.terminate(Duration::from_secs(10))).expect("stopped");
    let done = std::process::Command::new(bin)
        .args(["reindex", "--from"])
        .arg(&out)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .expect("runs");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(String::from_utf8_lossy(&done.stdout).contains("The store has 3000 orders"));
    let kept = std::fs::read_dir(&data)
        .expect("dir")
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("index.old-"));
    assert!(kept, "the old index is kept aside");
    let server = server.restart(&[]);
    let path = server.status_path(&name, &email).await;
    assert_eq!(server.page(&path).await.0, 200);
}
