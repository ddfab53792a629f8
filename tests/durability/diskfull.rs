//! A full disk: writes get 503 (so Shopify retries), reads keep being
//! served, nothing stored is lost, and writes work again once there is
//! room. The data dir lives on a small tmpfs, which needs root to mount
//! (CI runs as root); where mounting is not allowed the test says so and
//! does nothing.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use common::Server;
use hmac::{Hmac, Mac};
use order_status::store::{Store, StoreOptions};
use sha2::Sha256;

const SHOP: &str = "full.myshopify.com";
const SECRET: &str = "disk-full-secret";

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn body(id: u64) -> Vec<u8> {
    let items: Vec<serde_json::Value> = (0..150)
        .map(|k| serde_json::json!({"id": id * 1000 + k, "title": format!("Item {k} of a long order"), "sku": format!("SKU-{id}-{k}"), "quantity": 1}))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "id": id, "name": format!("#{id}"), "email": format!("c{id}@example.com"),
        "updated_at": "2026-11-20T10:00:00Z", "line_items": items
    }))
    .expect("json")
}

async fn send(server: &Server, id: u64) -> u16 {
    let b = body(id);
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(&b);
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    common::client()
        .post(server.url("/webhooks/shopify"))
        .header("x-shopify-topic", "orders/create")
        .header("x-shopify-shop-domain", SHOP)
        .header("x-shopify-hmac-sha256", sig)
        .body(b)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Fills the file system at `dir` with `ballast`, then gives back `room`.
fn fill(ballast: &Path, room: u64) {
    let mut f = std::fs::File::create(ballast).expect("ballast");
    let chunk = vec![0u8; 256 * 1024];
    let mut written = 0u64;
    while f.write_all(&chunk).is_ok() {
        written += chunk.len() as u64;
    }
    let _ = f.flush();
    f.set_len(written.saturating_sub(room)).expect("make room");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_keeps_reads_and_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mnt = dir.path().join("mnt");
    std::fs::create_dir_all(&mnt).expect("mkdir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=24m", "tmpfs"])
        .arg(&mnt)
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!("not run: mounting a tmpfs needs root");
        return;
    }
    let _mount = Mount(mnt.clone());
    let data = mnt.join("data");
    let env = [
        ("ORDER_STATUS_SEED_DEMO", "false"),
        ("ORDER_STATUS_SHOPIFY_SHOP", SHOP),
        ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", SECRET),
        ("ORDER_STATUS_DATA_DIR", data.to_str().expect("utf8")),
    ];
    let mut server = Server::start_with_data_dir(&data, &env);
    for id in 1..=3 {
        assert_eq!(send(&server, id).await, 200);
    }
    let ballast = mnt.join("ballast");
    fill(&ballast, 1024 * 1024);

    let mut acked = vec![1, 2, 3];
    let mut refused = 0;
    for id in 4..400 {
        match send(&server, id).await {
            200 => acked.push(id),
            503 => {
                refused += 1;
                if refused >= 3 {
                    break;
                }
            }
            other => panic!("webhook {id} got {other}, not 200 or 503"),
        }
    }
    assert!(
        refused >= 3,
        "the disk never filled ({} acked)",
        acked.len()
    );
    // Reads go on.
    let ready = common::client()
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    assert_eq!(
        common::client()
            .get(server.url("/"))
            .send()
            .await
            .expect("page")
            .status(),
        200
    );

    // Room again: the next writes go through without a restart.
    std::fs::remove_file(&ballast).expect("free the disk");
    let mut recovered = false;
    for id in 1000..1010 {
        if send(&server, id).await == 200 {
            acked.push(id);
            recovered = true;
        }
    }
    assert!(recovered, "writes work again once there is room");

    tokio::task::block_in_place(|| server.terminate(Duration::from_secs(10))).expect("stopped");
    let store = Store::open(&data, StoreOptions::default()).expect("the index opens");
    for id in &acked {
        assert!(
            store.get(&format!("{SHOP}/{id}")).expect("read").is_some(),
            "acknowledged order {id} is still there"
        );
    }
}
