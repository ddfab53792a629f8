//! `order-status sync`: orders from Shopify's Admin API into the store
//! (a backfill, or catching up from where the last sync stopped), with a
//! progress line per shop.

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;

use super::{offline_store_options, shops_with_api};
use crate::config::Config;
use crate::ingest::shopify::sync::{self, BulkMode, SyncOptions};
use crate::store::{Store, StoreOptions};

/// `order-status sync [--since DATE] [--shop DOMAIN]`: returns whether
/// every shop synced.
pub async fn run(
    config: &Config,
    since: Option<DateTime<Utc>>,
    only: Option<&str>,
) -> anyhow::Result<bool> {
    sync_with(config, since, only, BulkMode::Auto).await
}

pub(super) async fn sync_with(
    config: &Config,
    since: Option<DateTime<Utc>>,
    only: Option<&str>,
    bulk: BulkMode,
) -> anyhow::Result<bool> {
    let apis = shops_with_api(config, only)?;
    let store = Store::open(
        &config.data_dir,
        offline_store_options(config, StoreOptions::BATCH)?,
    )?;
    let mut all_ok = true;
    for api in apis {
        let domain = api.domain().to_string();
        let bar = ProgressBar::new_spinner().with_message(domain.clone());
        let started = std::time::Instant::now();
        let options = SyncOptions {
            bulk,
            ..SyncOptions::default()
        };
        let result = sync::sync_shop(&store, &config.data_dir, &api, since, options, |r| {
            bar.set_message(format!(
                "{domain}: {} orders ({} by bulk operation), {} shipments completed, {} pages",
                r.orders, r.bulk_orders, r.parcels, r.pages
            ));
            bar.tick();
        })
        .await;
        bar.finish_and_clear();
        let version = api.version();
        if version.mismatch() {
            eprintln!(
                "warning: {domain}: asked for API version {}, Shopify answered with {}: set ORDER_STATUS_SHOPIFY_API_VERSION to a supported version",
                version.asked,
                version.answered.as_deref().unwrap_or("?")
            );
        }
        match result {
            Ok(r) => println!(
                "{domain}: {} orders ({} through a bulk operation, {} read again, {} shipments' lines and scans read, {} pages) ({} written, {} older than stored, {} unchanged; {} calls retried, {} throttled) in {:.1} s; next sync from {}",
                r.orders,
                r.bulk_orders,
                r.refetched,
                r.parcels,
                r.pages,
                r.written.applied,
                r.written.stale,
                r.written.unchanged,
                r.retries,
                r.throttled,
                started.elapsed().as_secs_f64(),
                r.next_since
                    .map_or("the beginning".to_string(), |t| t.to_rfc3339())
            ),
            Err(e) => {
                eprintln!("error: {}", crate::errors::chain(&e));
                all_ok = false;
            }
        }
    }
    Ok(all_ok)
}
