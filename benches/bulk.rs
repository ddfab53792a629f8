//! Parsing and importing a bulk operation's result: the JSONL file Shopify
//! hands back for a backfill, streamed into a fresh store the way `sync`
//! does it (one object a line, nested ones after their parent with
//! `__parentId`).
//!
//! `cargo bench --bench bulk` (BULK_ORDERS=N, default 1,000,000; RUNS=N,
//! default 3). The file is made once from the demo generator: the fake
//! Shopify of the tests runs the very bulk query `sync` sends over each
//! demo order, and the lines are cached in `target/bulk/`.

#[path = "../tests/common/fake_shopify/mod.rs"]
mod fake;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use order_status::ingest::shopify::backfill;
use order_status::store::Store;

/// The binary's allocator, so the benchmark measures what `sync` runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn make_file(path: &Path, orders: u64, now: DateTime<Utc>) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(path.parent().expect("dir"))?;
    let tmp = path.with_extension("tmp");
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    let started = Instant::now();
    // What Shopify writes for the query `sync` sends: the fake runs it.
    let mut file = fake::BulkFile::new(&order_status::shopify::graphql::bulk_orders_query(None));
    for i in 0..orders {
        let o = order_status::ingest::demo::order(42, i, now, "bench.myshopify.com");
        for line in file.lines(fake::graphql_order(&o)) {
            w.write_all(line.as_bytes())?;
            w.write_all(b"\n")?;
        }
    }
    w.flush()?;
    std::fs::rename(&tmp, path)?;
    eprintln!(
        "made {} ({orders} orders) in {:.0} s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() {
    let orders: u64 = std::env::var("BULK_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bulk");
    let file = root.join(format!("orders-{orders}.jsonl"));
    // A fixed "now" so the cached file stays the same.
    let now = DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z")
        .expect("time")
        .to_utc();
    make_file(&file, orders, now).expect("bulk file");
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let lines = {
        use std::io::BufRead;
        std::io::BufReader::new(std::fs::File::open(&file).expect("open"))
            .lines()
            .count()
    };
    println!(
        "bulk result: {orders} orders, {lines} lines, {:.2} GB",
        bytes as f64 / 1e9
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for run in 1..=runs {
        let data = root.join("store");
        let _ = std::fs::remove_dir_all(&data);
        let store = Store::open(&data, order_status::store::StoreOptions::BATCH).expect("store");
        let input = std::fs::File::open(&file).expect("open");
        let started = Instant::now();
        let done = rt
            .block_on(backfill::import_reader(
                &store,
                input,
                "bench.myshopify.com",
                &Default::default(),
                now,
                0,
                |_, _, _| {},
            ))
            .expect("import");
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(done.orders, orders);
        assert_eq!(store.count(), orders);
        println!(
            "run {run}: {} orders in {secs:.1} s = {:.0} orders/s ({} to read again: returns or open work; {} shipments' lines and scans to read)",
            done.orders,
            done.orders as f64 / secs,
            done.refetch.len(),
            done.parcels.len()
        );
        rt.block_on(store.close(std::time::Duration::from_secs(30)));
    }
}
