//! Store benchmarks over a large demo store.
//!
//! `cargo bench --bench store` builds (once, cached under
//! `target/bench-store-<N>`) a store of N demo orders, N from
//! `BENCH_ORDERS` (default 1,000,000), then measures `get`, `lookup` and a
//! 2-term `search` with criterion, and prints p50/p99 from individually
//! timed calls, since criterion reports means and medians but not tails.
//! `BENCH_PROBES_ONLY=true` stops after `get` and `lookup`;
//! `BENCH_EACH_QUERY=true` also prints each 2-term query's own tails and
//! how many orders it matches.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use order_status::ingest::demo;
use order_status::order::Order;
use order_status::store::{Filters, SearchQuery, Sort, Store, StoreOptions};

const SHOP: &str = "bench.example";
const SEED: u64 = 42;

fn orders() -> u64 {
    std::env::var("BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
        .single()
        .expect("valid time")
}

/// Opens the cached bench store, building it first if needed.
fn store(rt: &tokio::runtime::Runtime) -> Store {
    let n = orders();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-store-{n}"));
    let done = dir.join("complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir, order_status::store::StoreOptions::BATCH).expect("open");
        let started = Instant::now();
        rt.block_on(async {
            let mut pending = Vec::new();
            let mut i = 0;
            while i < n {
                let batch: Vec<Order> = (i..(i + 2_000).min(n))
                    .map(|k| demo::order(SEED, k, now(), SHOP))
                    .collect();
                i += batch.len() as u64;
                pending.push(store.submit(batch).await.expect("submit"));
                if pending.len() >= 4 {
                    pending.remove(0).committed().await.expect("commit");
                }
            }
            for p in pending {
                p.committed().await.expect("commit");
            }
        });
        let secs = started.elapsed().as_secs_f64();
        println!(
            "built a store of {n} orders in {secs:.1} s ({:.0} orders/s, generation included)",
            n as f64 / secs
        );
        // As `import` ends: its merges finished, the small segments left
        // merged into one.
        rt.block_on(store.close(Duration::from_secs(24 * 3600)));
        let merged = order_status::store::compact(&dir, StoreOptions::default().merge_max_orders)
            .expect("compact");
        println!("merged {} segments into {}", merged.before, merged.after);
        std::fs::write(&done, b"").expect("mark complete");
    }
    // The writer thread of a just-dropped store may still hold the lock.
    for _ in 0..100 {
        // BENCH_RANDOM_READS=false compares the kernel's read-ahead.
        let options = StoreOptions {
            random_reads: std::env::var("BENCH_RANDOM_READS").map_or(true, |v| v != "false"),
            ..StoreOptions::default()
        };
        match Store::open(&dir, options) {
            Ok(s) => return s,
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    panic!("cannot open the bench store in {}", dir.display())
}

/// Prints p50 / p99 / max of `f` over `n` individually timed calls.
fn tails(name: &str, n: usize, mut f: impl FnMut(usize)) {
    let mut t = Vec::with_capacity(n);
    for i in 0..n {
        let s = Instant::now();
        f(i);
        t.push(s.elapsed());
    }
    t.sort();
    let at = |q: f64| t[((n as f64 * q) as usize).min(n - 1)];
    println!(
        "{name:<28} n={n:<7} p50={:>10.1?} p99={:>10.1?} max={:>10.1?}",
        at(0.50),
        at(0.99),
        t[n - 1]
    );
}

/// A spread of existing orders to ask for (a fixed stride, no RNG needed).
fn sample(n: u64, i: usize) -> u64 {
    (i as u64).wrapping_mul(7_919) % n
}

fn benches(c: &mut Criterion) {
    // BENCH_TRACE=order_status::store=trace says which way each listing went.
    if let Ok(filter) = std::env::var("BENCH_TRACE") {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = store(&rt);
    let n = store.count();
    println!("store holds {n} orders");
    let probes: Vec<Order> = (0..1_000)
        .map(|i| demo::order(SEED, sample(n, i), now(), SHOP))
        .collect();
    let two_terms = [
        "linen shirt",
        "anna stockholm",
        "merino oat",
        "running eu",
        "ceramic mug",
    ];
    let search = |text: &str| SearchQuery {
        text: text.into(),
        ..SearchQuery::default()
    };
    let filtered = |text: &str| SearchQuery {
        text: text.into(),
        filters: Filters {
            state: Some(order_status::order::OrderState::Open),
            ..Filters::default()
        },
        sort: Sort::UpdatedDesc,
        ..SearchQuery::default()
    };

    tails("get", 20_000, |i| {
        black_box(store.get(&probes[i % probes.len()].key()).expect("get"));
    });
    tails("lookup (hit)", 20_000, |i| {
        let o = &probes[i % probes.len()];
        black_box(store.lookup(o.order_number, &o.email).expect("lookup"));
    });
    tails("lookup (wrong email)", 20_000, |i| {
        let o = &probes[i % probes.len()];
        black_box(
            store
                .lookup(o.order_number, "nobody@example.com")
                .expect("lookup"),
        );
    });
    if std::env::var("BENCH_PROBES_ONLY").is_ok_and(|v| v == "true") {
        return;
    }
    let staff_like = |text: &str| SearchQuery {
        text: text.into(),
        filters: Filters {
            financial: Some(order_status::order::FinancialStatus::Paid),
            state: Some(order_status::order::OrderState::Open),
            ..Filters::default()
        },
        ..SearchQuery::default()
    };
    let staff_words = [
        "anna",
        "lindqvst",
        "stockholm",
        "merino",
        "garcia portland",
        "1z",
    ];
    tails("staff search + 2 filters", 1_000, |i| {
        black_box(
            store
                .search(&staff_like(staff_words[i % staff_words.len()]))
                .expect("search"),
        );
    });
    tails("filters only, newest first", 1_000, |_| {
        black_box(store.search(&staff_like("")).expect("search"));
    });
    tails("search 2 terms, relevance", 1_000, |i| {
        black_box(
            store
                .search(&search(two_terms[i % two_terms.len()]))
                .expect("search"),
        );
    });
    if std::env::var("BENCH_EACH_QUERY").is_ok_and(|v| v == "true") {
        for text in two_terms {
            let r = store.search(&search(text)).expect("search");
            let more = if r.more { "more than " } else { "" };
            println!("  {text:?} matches {more}{} orders", r.total);
            tails(&format!("  {text}"), 200, |_| {
                black_box(store.search(&search(text)).expect("search"));
            });
            let r = store.search(&filtered(text)).expect("search");
            let more = if r.more { "more than " } else { "" };
            println!("  {text:?}, open, matches {more}{} orders", r.total);
            tails(&format!("  {text}, open, by date"), 200, |_| {
                black_box(store.search(&filtered(text)).expect("search"));
            });
        }
    }
    tails("search 2 terms, open, by date", 1_000, |i| {
        black_box(
            store
                .search(&filtered(two_terms[i % two_terms.len()]))
                .expect("search"),
        );
    });

    let mut g = c.benchmark_group("store");
    let mut i = 0usize;
    g.bench_function("get", |b| {
        b.iter(|| {
            i += 1;
            black_box(store.get(&probes[i % probes.len()].key()).expect("get"))
        })
    });
    g.bench_function("lookup", |b| {
        b.iter(|| {
            i += 1;
            let o = &probes[i % probes.len()];
            black_box(store.lookup(o.order_number, &o.email).expect("lookup"))
        })
    });
    g.bench_function("search_2_terms", |b| {
        b.iter(|| {
            i += 1;
            black_box(
                store
                    .search(&search(two_terms[i % two_terms.len()]))
                    .expect("search"),
            )
        })
    });
    g.bench_function("staff_search_filtered", |b| {
        b.iter(|| {
            i += 1;
            black_box(
                store
                    .search(&staff_like(staff_words[i % staff_words.len()]))
                    .expect("search"),
            )
        })
    });
    g.bench_function("search_2_terms_filtered_sorted", |b| {
        b.iter(|| {
            i += 1;
            black_box(
                store
                    .search(&filtered(two_terms[i % two_terms.len()]))
                    .expect("search"),
            )
        })
    });
    g.finish();
}

criterion_group! {
    name = store_benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(store_benches);
