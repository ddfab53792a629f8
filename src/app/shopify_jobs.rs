//! The two Shopify loops a server runs for the shops with API access: the
//! periodic sync (webhooks can be lost) and the write-back of statuses
//! that were set where no Shopify call could be made. With replicas only
//! the holder of the jobs lease runs them ([`JobsGate`]). Both are
//! services of the supervisor: every failed round is logged and retried at
//! the next, so neither ends while the site runs.

use std::sync::Arc;

use chrono::Utc;

use crate::ingest::shopify::SyncStatus;
use crate::ingest::shopify::shared_checkpoint::{self, Copied, SharedCheckpoints};
use crate::ingest::shopify::sync::{self, SyncOptions};
use crate::shopify::Apis;
use crate::store::Store;

/// How often statuses that Shopify's tags do not say yet are written back.
pub const WRITE_BACK_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// Shipments a server's periodic sync completes per run after a bulk
/// backfill (about 24 queries; by Shopify's published 100 points a second
/// on a standard plan, a few minutes of the bucket, worked out, not
/// measured), so the run still gets to paging what changed; `order-status
/// sync` reads them all.
pub const SERVER_PARCELS_PER_RUN: u64 = 1_000;

/// Whether this process runs the Shopify jobs now: always alone, and with
/// replicas while it holds the jobs lease (`replicate::lease`).
#[derive(Clone, Debug, Default)]
pub struct JobsGate(Option<tokio::sync::watch::Receiver<bool>>);

impl JobsGate {
    /// A gate that follows a lease.
    pub fn leased(holds: tokio::sync::watch::Receiver<bool>) -> JobsGate {
        JobsGate(Some(holds))
    }

    fn open(&self) -> bool {
        self.0.as_ref().is_none_or(|rx| *rx.borrow())
    }
}

/// Whether any shop writes back (the write-back loop is needed).
pub fn writes_back(apis: &Apis) -> bool {
    apis.all().any(|a| a.shop().write_back)
}

/// For shops with write-back on: writes back, every [`WRITE_BACK_EVERY`],
/// the statuses set where no Shopify call can be made (automatic rules,
/// inside the store's writer) or left half-written by a failure.
pub async fn write_back_statuses(store: Store, apis: Apis, gate: JobsGate) {
    let mut tick = tokio::time::interval(WRITE_BACK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !gate.open() {
            continue;
        }
        let n = crate::actions::write_back::reconcile(&store, &apis).await;
        if n > 0 {
            tracing::info!(orders = n, "statuses written back to Shopify");
        }
    }
}

/// Reconciles every shop with API credentials every `every`, starting
/// right away (and at once when a replica takes the lease).
///
/// With replicas (`shared`), each run starts from the cluster's checkpoint
/// and copies its progress back every [`COPY_UP_EVERY`] and at its end, so
/// the next holder of the lease goes on from there.
pub async fn sync_periodically(
    store: Store,
    data_dir: std::path::PathBuf,
    apis: Apis,
    status: SyncStatus,
    mut gate: JobsGate,
    every: std::time::Duration,
    shared: Option<Arc<dyn SharedCheckpoints>>,
) {
    let shops: Vec<_> = apis.all().cloned().collect();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        match gate.0.as_mut() {
            Some(rx) if !*rx.borrow() => {
                if rx.wait_for(|holds| *holds).await.is_err() {
                    // The lease's service is gone: the supervisor stops the
                    // site; nothing to do meanwhile.
                    std::future::pending::<()>().await;
                }
                tick.reset();
            }
            _ => {
                tick.tick().await;
            }
        }
        if !gate.open() {
            continue;
        }
        for api in &shops {
            let domain = api.domain().to_string();
            let options = SyncOptions {
                parcels_per_run: Some(SERVER_PARCELS_PER_RUN),
                ..SyncOptions::default()
            };
            let mut copied = Copied::default();
            if let Some(shared) = &shared {
                match shared_checkpoint::copy_down(&**shared, &data_dir, &domain).await {
                    Ok(c) => copied = c,
                    Err(e) => {
                        // Without it this run could read the shop again
                        // from an older point; the next round tries again.
                        status.failed(&domain, crate::errors::chain(&e));
                        tracing::error!(shop = %domain, error = %crate::errors::chain(&e), "sync not started");
                        continue;
                    }
                }
            }
            let run = sync::sync_shop(&store, &data_dir, api, None, options, |_| {});
            tokio::pin!(run);
            let mut copy_up = tokio::time::interval(COPY_UP_EVERY);
            copy_up.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let result = loop {
                tokio::select! {
                    result = &mut run => break result,
                    _ = copy_up.tick() => {
                        if let Some(shared) = &shared {
                            copy_checkpoint_up(&**shared, &data_dir, &domain, &mut copied).await;
                        }
                    }
                }
            };
            if let Some(shared) = &shared {
                copy_checkpoint_up(&**shared, &data_dir, &domain, &mut copied).await;
            }
            status.version(&domain, api.version());
            match result {
                Ok(r) => {
                    status.succeeded(&domain, Utc::now());
                    tracing::info!(shop = %domain, orders = r.orders, applied = r.written.applied, "sync finished");
                }
                Err(e) => {
                    status.failed(&domain, crate::errors::chain(&e));
                    tracing::error!(shop = %domain, error = %crate::errors::chain(&e), "sync failed; will retry next round");
                }
            }
        }
    }
}

/// How often a run's progress is copied to the cluster (what the next
/// holder may have to read again).
const COPY_UP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

async fn copy_checkpoint_up(
    shared: &dyn SharedCheckpoints,
    data_dir: &std::path::Path,
    shop: &str,
    copied: &mut Copied,
) {
    if let Err(e) = shared_checkpoint::copy_up(shared, data_dir, shop, copied).await {
        tracing::warn!(shop, error = %crate::errors::chain(&e), "the sync checkpoint was not copied to the replicas; again shortly");
    }
}
