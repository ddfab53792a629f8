//! Keeping the store in step with Shopify through the Admin API.
//!
//! A run starts where the last one stopped (`<data dir>/sync/<shop>.json`):
//!
//! 1. A large gap (the first run, or a last run longer ago than the shop's
//!    `bulk_after`) goes through a bulk operation ([`super::bulk`]), with
//!    no cost limit; its id is checkpointed, so a restart resumes it.
//! 2. Orders the bulk file could not complete (open fulfillment orders,
//!    returns) are read again one by one; the list is checkpointed too.
//!    Every other order's shipments ("parcels") get their lines and scans,
//!    which a bulk operation cannot read, in batches of
//!    [`PARCEL_BATCH`] per query, newest orders first (the ones shoppers
//!    look at), from a file of ids beside the checkpoint. A server reads
//!    a bounded number per run ([`SyncOptions::parcels_per_run`]) so that
//!    the catch-up paging below is never held up for hours by a large
//!    shop's history; `order-status sync` reads them all.
//! 3. Then pages of `orders` sorted by `UPDATED_AT` since the last run,
//!    each page sized to fit Shopify's 1,000-point limit, every truncated
//!    nested list completed by follow-up queries, each page committed and
//!    checkpointed (cursor) before the next.
//!
//! Every order goes to the store as a snapshot as of the time it was read,
//! merged part by part like every other channel (see
//! [`crate::order::merge`]). A field the app may not read (a missing
//! scope) stops the run with the scope named: a silent gap would show
//! shoppers a wrong page.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use thiserror::Error;

use super::backfill::{self, BackfillError, Parcel};
use crate::order::merge::{Change, Completeness};
use crate::order::order_key;
use crate::shopify::bulk::{self, BulkError, BulkRun};
use crate::shopify::client::{ApiError, ShopApi};
use crate::shopify::graphql::{
    Connection, FollowUp, GqlFulfillment, GqlOrder, GqlTracking, PARCEL_BATCH, first, fulfillment,
    gid_type, legacy_id, mark_withheld, order_query, orders_query, parcels_query,
};
use crate::store::{Part, Store, StoreError, WriteReport};

pub use crate::shopify::graphql::MAX_PAGE_SIZE;

/// Why a sync stopped.
#[derive(Debug, Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Bulk(#[from] BulkError),
    #[error(transparent)]
    Backfill(#[from] BackfillError),
    #[error("sync checkpoint {path}: {reason}")]
    Checkpoint { path: PathBuf, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// When to use a bulk operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMode {
    /// For the first run and gaps over the shop's `bulk_after`.
    Auto,
    /// Never (page through the API).
    Never,
    /// Always (e.g. `reindex --from-shopify`).
    Always,
}

/// Knobs, mostly for tests.
#[derive(Debug, Clone, Copy)]
pub struct SyncOptions {
    /// Orders a page (at most [`MAX_PAGE_SIZE`]).
    pub page_size: u32,
    pub bulk: BulkMode,
    /// First wait between polls of a bulk operation; doubles up to
    /// `poll_longest`. Short: a small shop's operation is done in a second
    /// or two, and a poll costs one point of the query budget.
    pub poll_first: Duration,
    pub poll_longest: Duration,
    /// Parcels whose lines and scans are read in one run at most (`None`:
    /// all of them); the rest wait for the next run.
    pub parcels_per_run: Option<u64>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            page_size: MAX_PAGE_SIZE,
            bulk: BulkMode::Auto,
            poll_first: Duration::from_millis(500),
            poll_longest: Duration::from_secs(60),
            parcels_per_run: None,
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub pages: usize,
    /// Orders read, by paging and from a bulk file.
    pub orders: usize,
    pub written: WriteReport,
    /// Orders that came through a bulk operation.
    pub bulk_orders: u64,
    /// Orders read again one by one.
    pub refetched: usize,
    /// Shipments whose lines and scans were read after a bulk operation.
    pub parcels: u64,
    /// Shipments still waiting for that (for the next run).
    pub parcels_left: u64,
    /// Calls repeated after a 429, 5xx or network error.
    pub retries: usize,
    /// `THROTTLED` answers.
    pub throttled: usize,
    /// The `since` the next run will start from.
    pub next_since: Option<DateTime<Utc>>,
}

/// Where a shop's sync stands, saved after every step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The `updated_at` bound of the run in progress (or of the next run).
    pub since: Option<DateTime<Utc>>,
    /// The cursor after the last committed page of the run in progress.
    pub cursor: Option<String>,
    /// The newest `updated_at` seen in the run in progress.
    pub newest: Option<DateTime<Utc>>,
    /// When a run last finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// A bulk operation started and not yet imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk: Option<BulkRun>,
    /// Orders (gids) still to be read again after a bulk import.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refetch: Vec<String>,
    /// Parcels listed in the parcel file ([`parcels_path`]) by the bulk
    /// imports so far; what the file holds beyond this was never
    /// checkpointed and is cut off.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub parcels: u64,
    /// Of them, the ones read (from the end of the file).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub parcels_done: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Checkpoint {
    /// Parcels still to be read.
    fn parcels_left(&self) -> u64 {
        self.parcels.saturating_sub(self.parcels_done)
    }

    /// A fresh run from `since`, keeping the parcels still to be read.
    fn restart(&self, since: Option<DateTime<Utc>>, finished_at: Option<DateTime<Utc>>) -> Self {
        Checkpoint {
            since,
            finished_at,
            parcels: self.parcels,
            parcels_done: self.parcels_done,
            ..Checkpoint::default()
        }
    }
}

/// The checkpoint file of a shop.
pub fn checkpoint_path(data_dir: &Path, shop: &str) -> PathBuf {
    data_dir.join("sync").join(format!("{shop}.json"))
}

/// The file of parcels (16 bytes each: order id, shipment id, little
/// endian) whose lines and scans are still to be read.
pub fn parcels_path(data_dir: &Path, shop: &str) -> PathBuf {
    data_dir.join("sync").join(format!("{shop}.parcels"))
}

pub(super) const PARCEL_BYTES: u64 = 16;

/// Cuts the parcel file to the `keep` parcels a checkpoint counted, and
/// opens it to append.
fn open_parcels(path: &Path, keep: u64) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts.open(path)?;
    file.set_len(keep * PARCEL_BYTES)?;
    Ok(file)
}

fn append_parcels(file: &mut std::fs::File, parcels: &[Parcel]) -> std::io::Result<()> {
    use std::io::Write;
    let mut buf = Vec::with_capacity(parcels.len() * PARCEL_BYTES as usize);
    for p in parcels {
        buf.extend_from_slice(&p.order_id.to_le_bytes());
        buf.extend_from_slice(&p.fulfillment_id.to_le_bytes());
    }
    file.write_all(&buf)?;
    file.sync_data()
}

/// `n` parcels from record `from` of the file.
fn read_parcels(path: &Path, from: u64, n: u64) -> std::io::Result<Vec<Parcel>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(from * PARCEL_BYTES))?;
    let mut buf = vec![0u8; (n * PARCEL_BYTES) as usize];
    file.read_exact(&mut buf)?;
    Ok(buf
        .chunks_exact(PARCEL_BYTES as usize)
        .map(|c| {
            let (a, b) = c.split_at(8);
            Parcel {
                order_id: u64::from_le_bytes(a.try_into().unwrap_or_default()),
                fulfillment_id: u64::from_le_bytes(b.try_into().unwrap_or_default()),
            }
        })
        .collect())
}

/// Reads a shop's checkpoint (none yet: the default).
pub fn load_checkpoint(data_dir: &Path, shop: &str) -> Result<Checkpoint, SyncError> {
    let path = checkpoint_path(data_dir, shop);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| SyncError::Checkpoint {
            path,
            reason: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Checkpoint::default()),
        Err(e) => Err(SyncError::Checkpoint {
            path,
            reason: e.to_string(),
        }),
    }
}

fn save_checkpoint(data_dir: &Path, shop: &str, cp: &Checkpoint) -> Result<(), SyncError> {
    let path = checkpoint_path(data_dir, shop);
    let err = |e: String| SyncError::Checkpoint {
        path: path.clone(),
        reason: e,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    }
    let bytes = serde_json::to_vec_pretty(cp).map_err(|e| err(e.to_string()))?;
    crate::files::write_private(&path, &bytes).map_err(|e| err(e.to_string()))
}

/// Overlap between runs: an order updated in the same second as the
/// newest one seen is fetched again rather than missed.
const OVERLAP: chrono::Duration = chrono::Duration::seconds(1);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrdersPage {
    page_info: crate::shopify::graphql::PageInfo,
    nodes: Vec<GqlOrder>,
}

/// Syncs one shop: from `since` if given (a new run), else from where the
/// last run stopped (resuming one cut short), else everything.
pub async fn sync_shop(
    store: &Store,
    data_dir: &Path,
    api: &ShopApi,
    since: Option<DateTime<Utc>>,
    options: SyncOptions,
    mut progress: impl FnMut(&SyncReport),
) -> Result<SyncReport, SyncError> {
    let domain = api.domain().to_string();
    let mut cp = load_checkpoint(data_dir, &domain)?;
    if let Some(s) = since {
        cp = cp.restart(Some(s), cp.finished_at);
    }
    let mut report = SyncReport::default();
    // What protected data Shopify withholds, so that orders read blank
    // say so (a bulk file leaves it blank without a word).
    api.probe_protected().await?;
    let parcel_file = parcels_path(data_dir, &domain);
    let checkpoint_err = |e: std::io::Error| SyncError::Checkpoint {
        path: parcel_file.clone(),
        reason: e.to_string(),
    };

    // 1. A bulk operation for a large gap, or one already under way.
    if cp.bulk.is_none() && cp.cursor.is_none() && cp.refetch.is_empty() && cp.parcels_left() == 0 {
        let gap_is_large = cp
            .since
            .is_none_or(|s| (Utc::now() - s).to_std().unwrap_or_default() > api.shop().bulk_after);
        let use_bulk = match options.bulk {
            BulkMode::Always => true,
            BulkMode::Never => false,
            BulkMode::Auto => gap_is_large,
        };
        if use_bulk {
            cp.bulk = Some(bulk::start(api, cp.since).await?);
            save_checkpoint(data_dir, &domain, &cp)?;
        }
    }
    if let Some(run) = cp.bulk.clone() {
        let done = bulk::wait(api, &run.id, options.poll_first, options.poll_longest).await?;
        let url = match done.status.as_str() {
            "COMPLETED" => done.url.clone(),
            _ => done.partial_url.clone(),
        };
        if let Some(url) = url {
            let mut parcels_out = open_parcels(&parcel_file, cp.parcels).map_err(checkpoint_err)?;
            let mut parcels_failed = None;
            let imported = backfill::import_url(
                store,
                api,
                &url,
                run.started_at,
                run.imported,
                |n, refetch, parcels| {
                    // The parcels are on disk before the checkpoint counts
                    // them; a parcel file that cannot be written stops the
                    // progress here (the orders are imported again).
                    if parcels_failed.is_some() {
                        return;
                    }
                    if let Err(e) = append_parcels(&mut parcels_out, parcels) {
                        parcels_failed = Some(e);
                        return;
                    }
                    cp.parcels += parcels.len() as u64;
                    if let Some(b) = cp.bulk.as_mut() {
                        b.imported = n;
                    }
                    cp.refetch.extend_from_slice(refetch);
                    // Progress is best effort: the imports are idempotent.
                    let _ = save_checkpoint(data_dir, &domain, &cp);
                },
            )
            .await?;
            if let Some(e) = parcels_failed {
                return Err(checkpoint_err(e));
            }
            report.bulk_orders += imported.orders.saturating_sub(run.imported);
            report.orders += imported.orders.saturating_sub(run.imported) as usize;
            report.written += imported.report;
        }
        cp.bulk = None;
        if done.status != "COMPLETED" {
            save_checkpoint(data_dir, &domain, &cp)?;
            return Err(BulkError::Ended {
                shop: domain,
                status: done.status,
                code: done.error_code,
            }
            .into());
        }
        // What changed while the operation ran is paged next.
        cp.since = Some(run.started_at - OVERLAP);
        cp.cursor = None;
        cp.newest = None;
        save_checkpoint(data_dir, &domain, &cp)?;
        progress(&report);
    }

    // 2. Orders the bulk file could not complete.
    let mut since_saved = 0;
    while let Some(gid) = cp.refetch.first().cloned() {
        report.written += refetch(store, api, &gid).await?;
        report.refetched += 1;
        cp.refetch.remove(0);
        since_saved += 1;
        if since_saved >= 25 || cp.refetch.is_empty() {
            save_checkpoint(data_dir, &domain, &cp)?;
            since_saved = 0;
            progress(&report);
        }
    }

    // 2b. The lines and scans of the bulk file's parcels, newest first.
    let budget = options.parcels_per_run.unwrap_or(u64::MAX);
    let mut read = 0;
    while cp.parcels_left() > 0 && read < budget {
        let left = cp.parcels_left();
        let n = left.min(PARCEL_BATCH as u64).min(budget - read);
        let batch = read_parcels(&parcel_file, left - n, n).map_err(checkpoint_err)?;
        report.written += complete_parcels(store, api, &batch).await?;
        cp.parcels_done += n;
        read += n;
        report.parcels += n;
        save_checkpoint(data_dir, &domain, &cp)?;
        progress(&report);
    }
    if cp.parcels > 0 && cp.parcels_left() == 0 {
        match std::fs::remove_file(&parcel_file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(checkpoint_err(e)),
        }
        cp.parcels = 0;
        cp.parcels_done = 0;
        save_checkpoint(data_dir, &domain, &cp)?;
    }
    report.parcels_left = cp.parcels_left();

    // 3. Pages of what changed since.
    let query = orders_query();
    let page_size = options.page_size.clamp(1, MAX_PAGE_SIZE);
    loop {
        let filter = cp.since.map(bulk::updated_since);
        let as_of = Utc::now();
        let data = api
            .call(
                &query,
                json!({ "first": page_size, "after": cp.cursor, "query": filter }),
            )
            .await?;
        let page: OrdersPage =
            serde_json::from_value(data["orders"].clone()).map_err(|e| shape(&domain, e))?;
        let mut changes = Vec::with_capacity(page.nodes.len());
        let mut newest = None;
        let withheld = api.withheld();
        for mut g in page.nodes {
            complete(api, &mut g).await?;
            let mut o = g.into_order(&domain);
            mark_withheld(&mut o, &withheld);
            let id = o.id;
            match o.validated(&domain) {
                Ok(o) => {
                    newest = newest.max(o.updated_at);
                    changes.push(Change::Snapshot {
                        order: o,
                        as_of,
                        complete: Completeness::FULL,
                    });
                }
                Err(e) => {
                    tracing::warn!(shop = %domain, order = id, error = %crate::errors::chain(&e), "skipping an order Shopify sent")
                }
            }
        }
        report.pages += 1;
        report.orders += changes.len();
        if !changes.is_empty() {
            report.written += store.apply(changes).await?;
        }
        cp.newest = cp.newest.max(newest);
        report.retries = api.retries();
        report.throttled = api.throttled();
        if page.page_info.has_next_page && page.page_info.end_cursor.is_some() {
            cp.cursor = page.page_info.end_cursor;
            save_checkpoint(data_dir, &domain, &cp)?;
            progress(&report);
            continue;
        }
        // Finished: the next run starts just before the newest update seen.
        let next = cp.newest.map(|n| n - OVERLAP).or(cp.since);
        cp = cp.restart(next, Some(Utc::now()));
        save_checkpoint(data_dir, &domain, &cp)?;
        report.next_since = next;
        progress(&report);
        return Ok(report);
    }
}

fn shape(shop: &str, e: serde_json::Error) -> ApiError {
    ApiError::Shape {
        shop: shop.to_string(),
        detail: crate::logsafe::json_error(&e),
    }
}

/// Reads one order (by its gid, or the gid of one of its shipments) again
/// through the API, whole, and applies it. An order Shopify no longer has
/// changes nothing.
pub async fn refetch(store: &Store, api: &ShopApi, gid: &str) -> Result<WriteReport, SyncError> {
    let order_gid = match gid_type(gid) {
        Some("Order") => gid.to_string(),
        Some("Fulfillment") => match store.find_by_part(Part::Fulfillment, legacy_id(gid)) {
            Some(key) => match key.rsplit_once('/') {
                Some((_, id)) => format!("gid://shopify/Order/{id}"),
                None => return Ok(WriteReport::default()),
            },
            None => return Ok(WriteReport::default()),
        },
        _ => return Ok(WriteReport::default()),
    };
    let as_of = Utc::now();
    let data = api.call(&order_query(), json!({ "id": order_gid })).await?;
    if data["node"].is_null() {
        tracing::debug!(shop = %api.domain(), "an order to read again is gone from Shopify");
        return Ok(WriteReport::default());
    }
    let mut g: GqlOrder =
        serde_json::from_value(data["node"].clone()).map_err(|e| shape(api.domain(), e))?;
    complete(api, &mut g).await?;
    let domain = api.domain().to_string();
    let mut o = g.into_order(&domain);
    mark_withheld(&mut o, &api.withheld());
    match o.validated(&domain) {
        Ok(order) => Ok(store
            .apply(vec![Change::Snapshot {
                order,
                as_of,
                complete: Completeness::FULL,
            }])
            .await?),
        Err(e) => {
            tracing::warn!(shop = %domain, error = %crate::errors::chain(&e), "an order Shopify sent is unusable");
            Ok(WriteReport::default())
        }
    }
}

/// Reads `batch` shipments whole (lines and scans, every page) and stores
/// each as a shipment of its order. A shipment Shopify no longer has is
/// left as it is.
async fn complete_parcels(
    store: &Store,
    api: &ShopApi,
    batch: &[Parcel],
) -> Result<WriteReport, SyncError> {
    if batch.is_empty() {
        return Ok(WriteReport::default());
    }
    let vars: serde_json::Map<String, Value> = batch
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                format!("p{i}"),
                json!(format!("gid://shopify/Fulfillment/{}", p.fulfillment_id)),
            )
        })
        .collect();
    let data = api
        .call(&parcels_query(batch.len()), Value::Object(vars))
        .await?;
    let mut changes = Vec::with_capacity(batch.len());
    for (i, p) in batch.iter().enumerate() {
        let v = &data[format!("p{i}")];
        if v.is_null() {
            continue;
        }
        let mut f: GqlFulfillment =
            serde_json::from_value(v.clone()).map_err(|e| shape(api.domain(), e))?;
        complete_shipment(api, &mut f).await?;
        changes.push(Change::Fulfillment {
            key: order_key(api.domain(), p.order_id),
            fulfillment: fulfillment(f),
        });
    }
    Ok(store.apply(changes).await?)
}

/// Completes one shipment's tracking numbers, lines and scans.
async fn complete_shipment(api: &ShopApi, f: &mut GqlFulfillment) -> Result<(), ApiError> {
    let fid = f.id.clone();
    if f.tracking_info.len() >= first::TRACKING as usize {
        let v = follow_up(api, FollowUp::Tracking, &fid, None).await?;
        if !v.is_null() {
            f.tracking_info = serde_json::from_value::<Vec<GqlTracking>>(v)
                .map_err(|e| shape(api.domain(), e))?;
        }
    }
    page_rest(
        api,
        FollowUp::ShipmentLines,
        &fid,
        &mut f.fulfillment_line_items,
    )
    .await?;
    page_rest(api, FollowUp::Events, &fid, &mut f.events).await
}

const EXISTS: &str = "query Exists($id: ID!) { node(id: $id) { id } }";

/// Whether Shopify still has an order (Shopify's id): what an
/// `orders/delete` delivery is checked against before the order goes.
pub async fn order_exists(api: &ShopApi, order_id: u64) -> Result<bool, ApiError> {
    let data = api
        .call(
            EXISTS,
            json!({ "id": format!("gid://shopify/Order/{order_id}") }),
        )
        .await?;
    Ok(!data["node"].is_null())
}

/// One follow-up call: the node's `field` (or the node itself).
async fn follow_up(
    api: &ShopApi,
    f: FollowUp,
    id: &str,
    after: Option<&str>,
) -> Result<Value, ApiError> {
    let vars = match after {
        Some(a) => json!({ "id": id, "after": a }),
        None => json!({ "id": id }),
    };
    let data = api.call(&f.query(), vars).await?;
    let node = data["node"].clone();
    Ok(if f.field().is_empty() {
        node
    } else {
        node[f.field()].clone()
    })
}

/// Pages the rest of one nested connection of node `id`.
async fn page_rest<T: DeserializeOwned>(
    api: &ShopApi,
    f: FollowUp,
    id: &str,
    list: &mut Connection<T>,
) -> Result<(), ApiError> {
    while list.page_info.has_next_page {
        let Some(after) = list.page_info.end_cursor.clone() else {
            break;
        };
        let v = follow_up(api, f, id, Some(&after)).await?;
        if v.is_null() {
            break; // the part is gone
        }
        let more: Connection<T> = serde_json::from_value(v).map_err(|e| shape(api.domain(), e))?;
        list.nodes.extend(more.nodes);
        list.page_info = more.page_info;
    }
    Ok(())
}

/// Completes what an order page left out: the rest of every connection
/// (line items, fulfillment orders and their lines, shipments' lines and
/// scans, returns and their lines and parcels) and of every plain list
/// that came back full (shipments, tracking numbers, refunds), which have
/// no cursor and are read again whole.
pub async fn complete(api: &ShopApi, o: &mut GqlOrder) -> Result<(), ApiError> {
    let id = o.id.clone();
    page_rest(api, FollowUp::LineItems, &id, &mut o.line_items).await?;
    page_rest(
        api,
        FollowUp::FulfillmentOrders,
        &id,
        &mut o.fulfillment_orders,
    )
    .await?;
    for fo in &mut o.fulfillment_orders.nodes {
        let fo_id = fo.id.clone();
        page_rest(
            api,
            FollowUp::FulfillmentOrderLines,
            &fo_id,
            &mut fo.line_items,
        )
        .await?;
    }
    if o.fulfillments.len() >= first::SHIPMENTS as usize {
        let ids = follow_up(api, FollowUp::ShipmentIds, &id, None).await?;
        let ids: Vec<String> = ids
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for sid in ids {
            if o.fulfillments.iter().any(|f| f.id == sid) {
                continue;
            }
            let v = follow_up(api, FollowUp::Shipment, &sid, None).await?;
            if !v.is_null() {
                let f: GqlFulfillment =
                    serde_json::from_value(v).map_err(|e| shape(api.domain(), e))?;
                o.fulfillments.push(f);
            }
        }
    }
    for f in &mut o.fulfillments {
        complete_shipment(api, f).await?;
    }
    page_rest(api, FollowUp::Returns, &id, &mut o.returns).await?;
    for r in &mut o.returns.nodes {
        let rid = r.id.clone();
        page_rest(api, FollowUp::ReturnLines, &rid, &mut r.return_line_items).await?;
        let more_parcels = r.reverse_fulfillment_orders.page_info.has_next_page
            || r.reverse_fulfillment_orders
                .nodes
                .iter()
                .any(|rfo| rfo.reverse_deliveries.page_info.has_next_page);
        if more_parcels {
            let v = follow_up(api, FollowUp::ReturnShipments, &rid, None).await?;
            if !v.is_null() {
                r.reverse_fulfillment_orders =
                    serde_json::from_value(v).map_err(|e| shape(api.domain(), e))?;
            }
        }
    }
    if o.refunds.len() >= first::REFUNDS as usize {
        let v = follow_up(api, FollowUp::Refunds, &id, None).await?;
        if !v.is_null() {
            o.refunds = serde_json::from_value(v).map_err(|e| shape(api.domain(), e))?;
        }
    }
    Ok(())
}
