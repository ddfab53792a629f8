//! The store as a whole: `import` (NDJSON in), `export` (NDJSON out, a
//! backup), `snapshot` (the index as of its last commit), `reindex` (a
//! fresh index from a file or Shopify) and `demo-data`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use super::offline_store_options;
use crate::config::Config;
use crate::ingest::shopify::sync::{self, BulkMode};
use crate::ingest::{demo, ndjson};
use crate::store::{Store, StoreOptions};

/// `order-status import FILE`: returns whether every line was imported.
pub async fn import(config: &Config, file: &Path) -> anyhow::Result<bool> {
    let f = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    // Beside running replicas: into their stream, not into a data dir.
    let store = if config.replicate.on() {
        crate::replicate::log_only_store(&config.replicate).await?
    } else {
        Store::open(
            &config.data_dir,
            offline_store_options(config, StoreOptions::BATCH)?,
        )?
    };
    // indicatif draws nothing when stderr is not a terminal.
    let bar = ProgressBar::new(len).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let report = ndjson::import(
        &store,
        BufReader::with_capacity(1 << 20, f),
        &config.shop.domain,
        |bytes| bar.set_position(bytes),
    )
    .await?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    for e in &report.errors {
        eprintln!("{}:{}: {}", file.display(), e.line, e.reason);
    }
    if report.failed > report.errors.len() {
        eprintln!(
            "... and {} more bad lines",
            report.failed - report.errors.len()
        );
    }
    if config.replicate.on() {
        println!(
            "Published {} orders from {} lines to the replication stream in {:.1} s; {} lines failed. Every replica applies them (its /readyz and /metrics say how far it is).",
            report.logged, report.lines, secs, report.failed,
        );
        return Ok(report.failed == 0);
    }
    println!(
        "Imported {} orders ({} older than the stored version and {} unchanged, skipped) from {} lines in {:.1} s ({:.0} orders/s); {} lines failed. The store has {} orders.",
        report.applied,
        report.stale,
        report.unchanged,
        report.lines,
        secs,
        (report.applied + report.stale + report.unchanged) as f64 / secs.max(1e-9),
        report.failed,
        store.count(),
    );
    // The orders are in whatever happens here: a failed merge costs
    // search speed, not data.
    if let Err(e) = compact_after_bulk(&config.data_dir, store).await {
        eprintln!(
            "The index's segments could not be merged ({e:#}); searches are slower until the server's own merges catch up."
        );
    }
    Ok(report.failed == 0)
}

/// Ends a bulk write: lets the store's merges in progress finish (they
/// were cut off when the command ended), then merges the small segments
/// left into one, as a server would over time (see `store::compact`).
async fn compact_after_bulk(data_dir: &Path, store: Store) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // Merges of millions of orders take minutes; this command waits for
    // them rather than throwing their work away.
    store.close(std::time::Duration::from_secs(24 * 3600)).await;
    let dir = data_dir.to_path_buf();
    let below = StoreOptions::default().merge_max_orders;
    let done = tokio::task::spawn_blocking(move || crate::store::compact(&dir, below))
        .await
        .context("merging the index's segments")??;
    if done.after < done.before {
        println!(
            "Merged the index from {} segments into {} in {:.1} s (a search reads each segment).",
            done.before,
            done.after,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// `order-status snapshot --out DIR`: the index as of its last commit,
/// taken while the server runs (see `store::snapshot`).
pub fn snapshot(config: &Config, out: &Path) -> anyhow::Result<()> {
    let s = crate::store::snapshot::take(&config.data_dir, out)?;
    let position = if s.log_seq > 0 {
        format!(
            "; it holds the replication stream up to entry {}: a replica started on it goes on from there",
            s.log_seq
        )
    } else {
        String::new()
    };
    println!(
        "Snapshot of {} orders in {}{position}. To start on it: stop the server, put it in place of {}, start the server.",
        s.orders,
        out.display(),
        config.data_dir.join("index").display()
    );
    Ok(())
}

/// `order-status export [--out FILE]`.
pub fn export(config: &Config, out: Option<&Path>) -> anyhow::Result<()> {
    let store = Store::open_read_only(&config.data_dir)
        .with_context(|| format!("no order index in {}", config.data_dir.display()))?;
    let sink: Box<dyn Write> = match out {
        Some(p) => {
            Box::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = BufWriter::with_capacity(1 << 20, sink);
    let n = store.for_each_order(|o| {
        serde_json::to_writer(&mut w, &o)?;
        w.write_all(b"\n")
    })?;
    w.flush()?;
    eprintln!("Exported {n} orders.");
    Ok(())
}

/// `order-status reindex`: a fresh index from a file or from Shopify; the
/// old one is moved aside, not deleted. Returns whether it all went in.
pub async fn reindex(
    config: &Config,
    from: Option<&Path>,
    from_shopify: bool,
) -> anyhow::Result<bool> {
    anyhow::ensure!(
        from.is_some() || from_shopify,
        "say where the orders come from: --from FILE (an export) or --from-shopify"
    );
    if let Some(f) = from {
        anyhow::ensure!(f.is_file(), "cannot read {}", f.display());
    }
    anyhow::ensure!(
        !config.replicate.on(),
        "a replica's index is rebuilt from the stream: stop it, move its data dir's index aside and start it again"
    );
    let index = config.data_dir.join("index");
    // Taking the writer lock first makes sure no server is using the data dir.
    drop(Store::open(&config.data_dir, StoreOptions::default())?);
    let aside = config
        .data_dir
        .join(format!("index.old-{}", Utc::now().format("%Y%m%dT%H%M%S")));
    if index.exists() {
        // The writer thread lets go of its lock once the handle is gone.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        std::fs::rename(&index, &aside)
            .with_context(|| format!("cannot move {} aside", index.display()))?;
        println!(
            "The old index is kept in {}; delete it once you are happy.",
            aside.display()
        );
    }
    if let Some(f) = from {
        return import(config, f).await;
    }
    for shop in &config.shopify {
        let cp = sync::checkpoint_path(&config.data_dir, &shop.domain);
        if cp.exists() {
            std::fs::remove_file(&cp).with_context(|| format!("cannot reset {}", cp.display()))?;
        }
    }
    super::sync::sync_with(config, None, None, BulkMode::Always).await
}

/// `order-status demo-data`: writes `count` demo orders as NDJSON.
pub fn demo_data(
    count: u64,
    seed: u64,
    out: Option<&PathBuf>,
    shop: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let sink: Box<dyn Write> = match out {
        Some(p) => {
            Box::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = BufWriter::with_capacity(1 << 20, sink);
    let bar = if out.is_some() {
        ProgressBar::new(count)
    } else {
        ProgressBar::hidden()
    };
    for i in 0..count {
        serde_json::to_writer(&mut w, &demo::order(seed, i, now, shop))?;
        w.write_all(b"\n")?;
        if i % 10_000 == 0 {
            bar.set_position(i);
        }
    }
    w.flush()?;
    bar.finish_and_clear();
    if let Some(p) = out {
        eprintln!("Wrote {count} demo orders to {}", p.display());
    }
    Ok(())
}
