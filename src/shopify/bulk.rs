//! Bulk operations: Shopify runs one big query on its side and hands back
//! a JSONL file, with no cost limit and no paging.
//!
//! The life of one: `bulkOperationRunQuery` starts it (the caller
//! checkpoints its id at once, so a restart picks the same operation up
//! instead of starting another), `bulkOperation(id:)` is polled with
//! back-off until it is COMPLETED (or FAILED, CANCELED, EXPIRED), and the
//! file at its `url` is read by whoever imports it (`ingest::shopify::
//! backfill`). The query's shape keeps Shopify's bulk rules (five
//! connections, two deep, none inside a plain list): see
//! [`super::graphql::bulk_orders_query`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::client::{ApiError, ShopApi};
use super::graphql::bulk_orders_query;

/// A bulk operation in progress, as checkpointed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRun {
    /// Shopify's id of the operation.
    pub id: String,
    /// The `updated_at` bound it was started with (`None`: everything).
    pub since: Option<DateTime<Utc>>,
    /// When it was started: what the file says is as of then at least.
    pub started_at: DateTime<Utc>,
    /// Orders of its file already committed.
    #[serde(default)]
    pub imported: u64,
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub status: String,
    pub error_code: Option<String>,
    pub url: Option<String>,
    pub partial_url: Option<String>,
    pub objects: u64,
}

/// Why a bulk operation did not bring the data.
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("{shop}: Shopify would not start the bulk operation: {detail}")]
    Refused { shop: String, detail: String },
    #[error("{shop}: the bulk operation ended {status}{}", .code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Ended {
        shop: String,
        status: String,
        code: Option<String>,
    },
    #[error("{shop}: cannot download the bulk operation's result: {detail}")]
    Download { shop: String, detail: String },
}

/// Starts a bulk operation.
pub const RUN: &str = "mutation Run($query: String!) { bulkOperationRunQuery(query: $query, groupObjects: true) { bulkOperation { id status createdAt } userErrors { field message code } } }";
/// Polls one.
pub const POLL: &str = "query Poll($id: ID!) { bulkOperation(id: $id) { id status errorCode objectCount url partialDataUrl createdAt completedAt } }";

/// The search string for orders updated at or after `since`.
pub fn updated_since(since: DateTime<Utc>) -> String {
    format!(
        "updated_at:>='{}'",
        since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

/// Starts a bulk operation for the orders updated since `since`.
pub async fn start(api: &ShopApi, since: Option<DateTime<Utc>>) -> Result<BulkRun, BulkError> {
    let search = since.map(updated_since);
    let query = bulk_orders_query(search.as_deref());
    let data = api.call(RUN, json!({ "query": query })).await?;
    let payload = &data["bulkOperationRunQuery"];
    if let Some(errors) = payload["userErrors"].as_array().filter(|e| !e.is_empty()) {
        let detail = errors
            .iter()
            .filter_map(|e| e["message"].as_str())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(BulkError::Refused {
            shop: api.domain().to_string(),
            detail,
        });
    }
    let op = &payload["bulkOperation"];
    let id = op["id"].as_str().ok_or_else(|| BulkError::Refused {
        shop: api.domain().to_string(),
        detail: "no operation id in the answer".into(),
    })?;
    let started_at = op["createdAt"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(Utc::now, |t| t.to_utc());
    tracing::info!(shop = %api.domain(), operation = id, "bulk operation started");
    Ok(BulkRun {
        id: id.to_string(),
        since,
        started_at,
        imported: 0,
    })
}

/// Polls until the operation is no longer running; waits `first`, then
/// twice as long each time, up to `longest`.
pub async fn wait(
    api: &ShopApi,
    id: &str,
    first: Duration,
    longest: Duration,
) -> Result<Finished, BulkError> {
    let mut pause = first;
    loop {
        let data = api.call(POLL, json!({ "id": id })).await?;
        let op = &data["bulkOperation"];
        if op.is_null() {
            return Err(BulkError::Ended {
                shop: api.domain().to_string(),
                status: "unknown to Shopify".into(),
                code: None,
            });
        }
        let status = op["status"].as_str().unwrap_or("").to_string();
        if !matches!(status.as_str(), "CREATED" | "RUNNING" | "CANCELING") {
            let text = |f: &str| op[f].as_str().map(str::to_string);
            return Ok(Finished {
                status,
                error_code: text("errorCode"),
                url: text("url"),
                partial_url: text("partialDataUrl"),
                objects: op["objectCount"]
                    .as_u64()
                    .or_else(|| op["objectCount"].as_str().and_then(|s| s.parse().ok()))
                    .unwrap_or(0),
            });
        }
        tracing::debug!(shop = %api.domain(), operation = id, %status, "bulk operation still running");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(longest);
    }
}
