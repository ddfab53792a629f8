//! Backfill and reconciliation through the GraphQL Admin API.
//!
//! `sync` pages through `orders` sorted by `UPDATED_AT` and filtered by
//! `updated_at:>=SINCE`, pages any nested list that came back truncated
//! (line items, carrier events), and upserts each page (newest
//! `updated_at` wins, so replays and overlaps are harmless). After every
//! committed page it writes a checkpoint (`<data dir>/sync/<shop>.json`:
//! the `since` of the run and the cursor reached), so an interrupted sync
//! resumes where it stopped; a finished run moves `since` to the newest
//! update it saw.
//!
//! Shopify limits GraphQL by query cost: a bucket that refills at
//! `restoreRate` points a second. The client reads
//! `extensions.cost.throttleStatus` after every call and waits before a
//! call the bucket cannot pay for; it backs off with jitter on `THROTTLED`
//! errors, 429 (honouring `Retry-After`) and 5xx, and gives up at once
//! with a clear error on 401 (bad token) and 403 (missing scope).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use thiserror::Error;

use super::graphql::{
    Connection, GqlOrder, MORE_EVENTS, MORE_FULFILLMENT_LINE_ITEMS,
    MORE_FULFILLMENT_ORDER_LINE_ITEMS, MORE_LINE_ITEMS, MORE_RETURN_LINE_ITEMS, ORDERS_PER_PAGE,
    orders_query,
};
use crate::config::ShopifyShop;
use crate::store::{Store, StoreError};

/// Why a sync stopped.
#[derive(Debug, Error)]
pub enum SyncError {
    #[error("{shop}: no access token configured (ORDER_STATUS_SHOPIFY_ACCESS_TOKEN)")]
    NoToken { shop: String },
    #[error(
        "{shop}: Shopify refused the access token (401); check ORDER_STATUS_SHOPIFY_ACCESS_TOKEN"
    )]
    Unauthorized { shop: String },
    #[error(
        "{shop}: access denied (403): the app needs the read_orders scope (and read_all_orders for orders older than 60 days): {detail}"
    )]
    Forbidden { shop: String, detail: String },
    #[error("{shop}: Shopify answered with an error: {detail}")]
    Api { shop: String, detail: String },
    #[error("{shop}: gave up after {attempts} attempts: {last}")]
    GaveUp {
        shop: String,
        attempts: u32,
        last: String,
    },
    #[error("sync checkpoint {path}: {reason}")]
    Checkpoint { path: PathBuf, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Knobs, mostly for tests (a fake Shopify needs no real back-off).
#[derive(Debug, Clone, Copy)]
pub struct SyncOptions {
    /// First back-off step; doubles per retry.
    pub backoff: Duration,
    /// Longest single wait.
    pub max_wait: Duration,
    /// Attempts per call before giving up.
    pub attempts: u32,
    /// Orders a page.
    pub page_size: u32,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            attempts: 8,
            page_size: ORDERS_PER_PAGE,
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub pages: usize,
    pub orders: usize,
    pub applied: usize,
    pub stale: usize,
    /// Calls repeated after a throttle, 429 or 5xx.
    pub retries: usize,
    /// The `since` the next run will start from.
    pub next_since: Option<DateTime<Utc>>,
}

/// Where a shop's sync stands, saved after every page.
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
}

/// The checkpoint file of a shop.
pub fn checkpoint_path(data_dir: &Path, shop: &str) -> PathBuf {
    data_dir.join("sync").join(format!("{shop}.json"))
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

/// The cost bucket as Shopify last reported it.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    available: f64,
    restore_rate: f64,
    seen: std::time::Instant,
}

/// A GraphQL Admin API client for one shop.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    shop: ShopifyShop,
    token: String,
    options: SyncOptions,
    bucket: Option<Bucket>,
    /// Cost of the last call, the estimate for the next.
    last_cost: f64,
    pub retries: usize,
}

impl Client {
    pub fn new(shop: &ShopifyShop, options: SyncOptions) -> Result<Client, SyncError> {
        let token = shop
            .access_token
            .clone()
            .ok_or_else(|| SyncError::NoToken {
                shop: shop.domain.clone(),
            })?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("order-status/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Api {
                shop: shop.domain.clone(),
                detail: e.to_string(),
            })?;
        Ok(Client {
            http,
            shop: shop.clone(),
            token,
            options,
            bucket: None,
            last_cost: 50.0,
            retries: 0,
        })
    }

    fn url(&self) -> String {
        format!(
            "{}/admin/api/{}/graphql.json",
            self.shop.api_base, self.shop.api_version
        )
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.options.backoff.saturating_mul(1u32 << attempt.min(10));
        // Up to half again, so many clients do not retry in step.
        let mut r = [0u8; 2];
        let _ = getrandom::fill(&mut r);
        let jitter = f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX) * 0.5;
        base.mul_f64(1.0 + jitter).min(self.options.max_wait)
    }

    /// Waits until the bucket can pay for a call like the last one.
    async fn wait_for_budget(&self) {
        if let Some(b) = self.bucket {
            let refilled = b.available + b.seen.elapsed().as_secs_f64() * b.restore_rate;
            if refilled < self.last_cost && b.restore_rate > 0.0 {
                let secs = (self.last_cost - refilled) / b.restore_rate;
                let wait = Duration::from_secs_f64(secs).min(self.options.max_wait);
                tracing::debug!(?wait, "waiting for the GraphQL cost bucket");
                tokio::time::sleep(wait).await;
            }
        }
    }

    fn note_cost(&mut self, body: &Value) {
        let cost = &body["extensions"]["cost"];
        if let Some(c) = cost["actualQueryCost"]
            .as_f64()
            .or_else(|| cost["requestedQueryCost"].as_f64())
        {
            self.last_cost = c.max(1.0);
        }
        let t = &cost["throttleStatus"];
        if let (Some(available), Some(rate)) =
            (t["currentlyAvailable"].as_f64(), t["restoreRate"].as_f64())
        {
            self.bucket = Some(Bucket {
                available,
                restore_rate: rate,
                seen: std::time::Instant::now(),
            });
        }
    }

    /// One GraphQL call, with throttling, retries and clear failures.
    pub async fn call(&mut self, query: &str, variables: Value) -> Result<Value, SyncError> {
        let shop = self.shop.domain.clone();
        let mut last = String::new();
        for attempt in 0..self.options.attempts {
            if attempt > 0 {
                self.retries += 1;
            }
            self.wait_for_budget().await;
            let sent = self
                .http
                .post(self.url())
                .header("X-Shopify-Access-Token", &self.token)
                .json(&json!({ "query": query, "variables": variables }))
                .send()
                .await;
            let res = match sent {
                Ok(r) => r,
                Err(e) => {
                    last = format!("network error: {e}");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    continue;
                }
            };
            let status = res.status();
            match status.as_u16() {
                401 => return Err(SyncError::Unauthorized { shop }),
                403 => {
                    let detail = res.text().await.unwrap_or_default();
                    return Err(SyncError::Forbidden {
                        shop,
                        detail: detail.chars().take(300).collect(),
                    });
                }
                429 => {
                    let wait = res
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .map(Duration::from_secs_f64)
                        .unwrap_or_else(|| self.backoff(attempt))
                        .min(self.options.max_wait);
                    last = "429 Too Many Requests".into();
                    tokio::time::sleep(wait).await;
                    continue;
                }
                s if s >= 500 => {
                    last = format!("HTTP {s}");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    continue;
                }
                s if !(200..300).contains(&s) => {
                    let text = res.text().await.unwrap_or_default();
                    return Err(SyncError::Api {
                        shop,
                        detail: format!("HTTP {s}: {}", text.chars().take(300).collect::<String>()),
                    });
                }
                _ => {}
            }
            let body: Value = match res.json().await {
                Ok(v) => v,
                Err(e) => {
                    last = format!("unreadable response: {e}");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    continue;
                }
            };
            self.note_cost(&body);
            if let Some(errors) = body["errors"].as_array().filter(|e| !e.is_empty()) {
                let code = |c: &str| errors.iter().any(|e| e["extensions"]["code"] == c);
                if code("THROTTLED") {
                    last = "THROTTLED".into();
                    self.wait_for_budget().await;
                    tokio::time::sleep(self.backoff(attempt)).await;
                    continue;
                }
                let messages: Vec<String> = errors
                    .iter()
                    .filter_map(|e| e["message"].as_str().map(str::to_string))
                    .collect();
                if code("ACCESS_DENIED") {
                    return Err(SyncError::Forbidden {
                        shop,
                        detail: messages.join("; "),
                    });
                }
                if body["data"].is_null() {
                    return Err(SyncError::Api {
                        shop,
                        detail: messages.join("; "),
                    });
                }
                tracing::warn!(shop = %shop, errors = %messages.join("; "), "partial GraphQL errors");
            }
            return Ok(body["data"].clone());
        }
        Err(SyncError::GaveUp {
            shop,
            attempts: self.options.attempts,
            last,
        })
    }

    /// Pages the rest of one nested connection of node `id`.
    async fn page_rest<T: serde::de::DeserializeOwned>(
        &mut self,
        query: &str,
        id: &str,
        field: &str,
        list: &mut Connection<T>,
    ) -> Result<(), SyncError> {
        let mut page = list.page_info.clone();
        while page.has_next_page && page.end_cursor.is_some() {
            let data = self
                .call(query, json!({ "id": id, "after": page.end_cursor }))
                .await?;
            let more: Connection<T> =
                serde_json::from_value(data["node"][field].clone()).map_err(|e| self.api(e))?;
            list.nodes.extend(more.nodes);
            page = more.page_info;
        }
        list.page_info = page;
        Ok(())
    }

    /// Pages what the first page of an order's nested connections left
    /// out: line items, each fulfillment order's and shipment's items, each
    /// shipment's carrier events, each return's items.
    async fn complete(&mut self, order: &mut GqlOrder) -> Result<(), SyncError> {
        let id = order.id.clone();
        self.page_rest(MORE_LINE_ITEMS, &id, "lineItems", &mut order.line_items)
            .await?;
        for fo in &mut order.fulfillment_orders.nodes {
            let id = fo.id.clone();
            let query = MORE_FULFILLMENT_ORDER_LINE_ITEMS;
            self.page_rest(query, &id, "lineItems", &mut fo.line_items)
                .await?;
        }
        for f in &mut order.fulfillments {
            let id = f.id.clone();
            self.page_rest(MORE_EVENTS, &id, "events", &mut f.events)
                .await?;
            let query = MORE_FULFILLMENT_LINE_ITEMS;
            self.page_rest(
                query,
                &id,
                "fulfillmentLineItems",
                &mut f.fulfillment_line_items,
            )
            .await?;
        }
        for r in &mut order.returns.nodes {
            let id = r.id.clone();
            let query = MORE_RETURN_LINE_ITEMS;
            self.page_rest(query, &id, "returnLineItems", &mut r.return_line_items)
                .await?;
        }
        Ok(())
    }

    fn api(&self, e: serde_json::Error) -> SyncError {
        SyncError::Api {
            shop: self.shop.domain.clone(),
            detail: format!("unexpected response shape: {e}"),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrdersPage {
    page_info: super::graphql::PageInfo,
    nodes: Vec<GqlOrder>,
}

/// Syncs one shop: from `since` if given, else from where the last run
/// stopped (resuming a run cut short), else everything.
pub async fn sync_shop(
    store: &Store,
    data_dir: &Path,
    shop: &ShopifyShop,
    since: Option<DateTime<Utc>>,
    options: SyncOptions,
    mut progress: impl FnMut(&SyncReport),
) -> Result<SyncReport, SyncError> {
    let mut client = Client::new(shop, options)?;
    let mut cp = load_checkpoint(data_dir, &shop.domain)?;
    if let Some(s) = since {
        // An explicit start is a new run.
        cp = Checkpoint {
            since: Some(s),
            finished_at: cp.finished_at,
            ..Checkpoint::default()
        };
    }
    let mut report = SyncReport::default();
    let query = orders_query();
    loop {
        let filter = cp.since.map(|s| {
            format!(
                "updated_at:>='{}'",
                s.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )
        });
        let data = client
            .call(
                &query,
                json!({ "first": options.page_size, "after": cp.cursor, "query": filter }),
            )
            .await?;
        let page: OrdersPage =
            serde_json::from_value(data["orders"].clone()).map_err(|e| client.api(e))?;
        let mut orders = Vec::with_capacity(page.nodes.len());
        for mut g in page.nodes {
            client.complete(&mut g).await?;
            let o = g.into_order(&shop.domain);
            match o.clone().validated(&shop.domain) {
                Ok(o) => orders.push(o),
                Err(e) => {
                    tracing::warn!(shop = %shop.domain, order = o.id, error = %e, "skipping an order Shopify sent")
                }
            }
        }
        report.pages += 1;
        report.orders += orders.len();
        let newest = orders.iter().filter_map(|o| o.updated_at).max();
        if !orders.is_empty() {
            let r = store.upsert(orders).await?;
            report.applied += r.applied;
            report.stale += r.stale;
        }
        cp.newest = cp.newest.max(newest);
        report.retries = client.retries;
        if page.page_info.has_next_page && page.page_info.end_cursor.is_some() {
            cp.cursor = page.page_info.end_cursor;
            save_checkpoint(data_dir, &shop.domain, &cp)?;
            progress(&report);
            continue;
        }
        // Finished: the next run starts just before the newest update seen.
        let next = cp.newest.map(|n| n - OVERLAP).or(cp.since);
        cp = Checkpoint {
            since: next,
            cursor: None,
            newest: None,
            finished_at: Some(Utc::now()),
        };
        save_checkpoint(data_dir, &shop.domain, &cp)?;
        report.next_since = next;
        progress(&report);
        return Ok(report);
    }
}
