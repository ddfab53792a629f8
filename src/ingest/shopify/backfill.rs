//! A bulk operation's file into the store (the operation itself is
//! [`crate::shopify::bulk`]'s): streamed, never held whole, read line by
//! line on a blocking thread while it downloads. Each line is one object; nested
//! objects name their parent in `__parentId` and, with `groupObjects`,
//! follow it, so an order is complete when the next order starts. Orders
//! go to the store as snapshots in batches, with the same merge as every
//! other channel, and the count of orders committed is checkpointed so an
//! interrupted import skips what it already did.
//!
//! A bulk query may have five connections, nested two deep, and none
//! inside a plain list field, so it cannot bring fulfillment orders with
//! their lines, nor returns with theirs, nor a shipment's lines and scans
//! (`Order.fulfillments` is a plain list). It brings the ids of returns,
//! and the orders that have any, or that still have work open (not
//! fulfilled, not cancelled, not archived), are listed for a refetch
//! through the normal API afterwards; every other order's shipments are
//! listed as parcels whose lines and scans are read after the file (see
//! [`super::sync`]). A line whose parent never came (grouping not kept)
//! has its order read again too.

use std::collections::{BTreeSet, HashSet};
use std::io::{BufReader, Read};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::order::FulfillmentStatus;
use crate::order::merge::{Change, Completeness};
use crate::shopify::bulk::BulkError;
use crate::shopify::client::ShopApi;
use crate::shopify::graphql::{GqlLineItem, GqlOrder, gid_type, legacy_id, mark_withheld};
use crate::shopify::scopes::Protected;
use crate::store::{Store, StoreError, WriteReport};

/// Orders per store write.
const BATCH: usize = 2_000;
/// Batches queued at the store at once.
const IN_FLIGHT: usize = 4;
/// Longest JSONL line read (an order with hundreds of lines fits).
const MAX_LINE: usize = 8 << 20;

/// Why a bulk operation's file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error(transparent)]
    Bulk(#[from] BulkError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What importing a file did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    pub orders: u64,
    pub report: WriteReport,
    /// Order gids to read again through the normal API.
    pub refetch: Vec<String>,
    /// Shipments whose lines and scans are still to be read.
    pub parcels: Vec<Parcel>,
    /// Lines that could not be read (kept out, counted, logged).
    pub bad_lines: u64,
}

/// Streams the file at `url` into the store: every order as a snapshot as
/// of `as_of`, skipping the first `skip` orders (already committed by an
/// interrupted import). After each batch is committed, `committed` gets
/// the running count of orders committed, the orders of that batch to
/// read again and its shipments still to complete, so all can be
/// checkpointed together.
pub async fn import_url(
    store: &Store,
    api: &ShopApi,
    url: &str,
    as_of: DateTime<Utc>,
    skip: u64,
    committed: impl FnMut(u64, &[String], &[Parcel]),
) -> Result<Imported, BackfillError> {
    let shop = api.domain().to_string();
    let withheld = api.withheld();
    let download = |detail: String| BulkError::Download {
        shop: shop.clone(),
        detail,
    };
    let res = api
        .http()
        .get(url)
        .timeout(Duration::from_secs(24 * 3600))
        .send()
        .await
        .map_err(|e| download(e.without_url().to_string()))?;
    if !res.status().is_success() {
        return Err(download(format!("HTTP {}", res.status().as_u16())).into());
    }
    let (tx, rx) = mpsc::channel::<std::io::Result<bytes::Bytes>>(16);
    let mut body = res.bytes_stream();
    let pump = tokio::spawn(async move {
        while let Some(chunk) = body.next().await {
            let item = chunk.map_err(|e| std::io::Error::other(e.without_url().to_string()));
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    let reader = ChannelReader {
        rx,
        current: bytes::Bytes::new(),
    };
    let result = import_reader(store, reader, &shop, &withheld, as_of, skip, committed).await;
    pump.abort();
    result
}

/// [`import_url`]'s work on any reader of a JSONL file (also used by the
/// benchmark, on a local file). `withheld`: the protected data Shopify
/// withholds from the app, which a bulk file leaves blank without a word.
pub async fn import_reader<R: Read + Send + 'static>(
    store: &Store,
    reader: R,
    shop: &str,
    withheld: &BTreeSet<Protected>,
    as_of: DateTime<Utc>,
    skip: u64,
    mut committed: impl FnMut(u64, &[String], &[Parcel]),
) -> Result<Imported, BackfillError> {
    let (tx, rx) = mpsc::channel::<(Vec<Change>, Parsed)>(IN_FLIGHT);
    let shop_owned = shop.to_string();
    let withheld = withheld.clone();
    let parser = tokio::task::spawn_blocking(move || {
        parse(
            BufReader::with_capacity(1 << 20, reader),
            &shop_owned,
            &withheld,
            as_of,
            skip,
            tx,
        )
    });
    let mut done = Imported::default();
    let mut orders = skip;
    let report = store
        .apply_stream(rx, IN_FLIGHT, |_, p: Parsed| {
            orders += p.orders;
            committed(orders, &p.refetch, &p.parcels);
            done.refetch.extend(p.refetch);
            done.parcels.extend(p.parcels);
            done.bad_lines += p.bad_lines;
        })
        .await?;
    let parsed = parser.await.map_err(|e| BulkError::Download {
        shop: shop.to_string(),
        detail: e.to_string(),
    })?;
    if let Err(e) = parsed {
        return Err(BulkError::Download {
            shop: shop.to_string(),
            detail: e.to_string(),
        }
        .into());
    }
    done.orders = orders;
    done.report = report;
    if done.bad_lines > 0 {
        tracing::warn!(
            shop,
            lines = done.bad_lines,
            "bulk result lines that could not be read were left out"
        );
    }
    Ok(done)
}

/// A shipment whose lines and scans a bulk operation could not bring:
/// its order's id and its own (Shopify's numeric ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parcel {
    pub order_id: u64,
    pub fulfillment_id: u64,
}

/// What a batch of parsed lines held besides its changes.
#[derive(Debug, Default)]
struct Parsed {
    orders: u64,
    refetch: Vec<String>,
    parcels: Vec<Parcel>,
    bad_lines: u64,
}

/// The two fields that say what a line is.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(borrow, default)]
    id: Option<&'a str>,
    #[serde(rename = "__parentId", borrow, default)]
    parent: Option<&'a str>,
}

const PARENT: &[u8] = b"\"__parentId\":\"";
const ID: &[u8] = b"\"id\":\"gid://shopify/";

/// The id and parent of a child line found by looking, not parsing; `None`
/// when the line is not laid out as expected (then it is parsed).
fn quick_head(line: &[u8], parent_at: usize) -> Option<Head<'_>> {
    let string_at = |start: usize| -> Option<&str> {
        let rest = line.get(start..)?;
        let end = memchr::memchr2(b'"', b'\\', rest)?;
        if rest.get(end) != Some(&b'"') {
            return None; // an escape: let the parser read it
        }
        std::str::from_utf8(&rest[..end]).ok()
    };
    let parent = string_at(parent_at + PARENT.len())?;
    let id_at = memchr::memmem::find(line, ID)?;
    let id = string_at(id_at + ID.len() - "gid://shopify/".len())?;
    let known = matches!(gid_type(id), Some("LineItem" | "Return"));
    known.then_some(Head {
        id: Some(id),
        parent: Some(parent),
    })
}

/// The order being put together from its lines.
struct Building {
    order: GqlOrder,
    has_returns: bool,
}

impl Building {
    /// Whether the normal API must complete it: a bulk query cannot bring
    /// fulfillment orders or returns whole.
    fn needs_refetch(&self) -> bool {
        let o = &self.order;
        let done = matches!(
            o.display_fulfillment_status,
            Some(FulfillmentStatus::Fulfilled | FulfillmentStatus::FulfillmentNotRequired)
        );
        let open_work = !done && o.cancelled_at.is_none() && o.closed_at.is_none();
        open_work || self.has_returns
    }
}

fn parse<R: std::io::BufRead>(
    mut input: R,
    shop: &str,
    withheld: &BTreeSet<Protected>,
    as_of: DateTime<Utc>,
    skip: u64,
    tx: mpsc::Sender<(Vec<Change>, Parsed)>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(8192);
    let mut changes = Vec::with_capacity(BATCH);
    let mut meta = Parsed::default();
    let mut current: Option<Building> = None;
    let mut roots = 0u64;
    let mut orphaned: HashSet<String> = HashSet::new();
    let complete = Completeness {
        fulfillment_orders: false,
        returns: false,
    };
    let finish = |b: Building, changes: &mut Vec<Change>, meta: &mut Parsed, roots: u64| {
        if roots <= skip {
            return;
        }
        if b.needs_refetch() {
            meta.refetch.push(b.order.id.clone());
        } else {
            let order_id = legacy_id(&b.order.id);
            meta.parcels
                .extend(b.order.fulfillments.iter().map(|f| Parcel {
                    order_id,
                    fulfillment_id: legacy_id(&f.id),
                }));
        }
        let mut order = b.order.into_order(shop);
        if !withheld.is_empty() {
            mark_withheld(&mut order, withheld);
        }
        match order.validated(shop) {
            Ok(order) => changes.push(Change::Snapshot {
                order,
                as_of,
                complete,
            }),
            Err(e) => {
                tracing::warn!(shop, error = %crate::errors::chain(&e), "an order in the bulk result is unusable; left out");
                meta.bad_lines += 1;
            }
        }
        meta.orders += 1;
    };
    loop {
        buf.clear();
        let (n, too_long) = crate::ingest::ndjson::read_line(&mut input, &mut buf)?;
        if n == 0 {
            break;
        }
        let line = buf.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if too_long || line.len() > MAX_LINE {
            meta.bad_lines += 1;
            continue;
        }
        // What a line is (its id's type) and whose child: a line without
        // `__parentId` is an order; a child is known by a quick look for
        // its id and parent (each child's selection has no object with an
        // id before its own), else by a parse of just those two fields;
        // then one typed parse.
        let head = match memchr::memmem::find(line, PARENT) {
            None => Head {
                id: Some("gid://shopify/Order/"),
                parent: None,
            },
            Some(at) => match quick_head(line, at) {
                Some(h) => h,
                None => match serde_json::from_slice::<Head<'_>>(line) {
                    Ok(h) => h,
                    Err(_) => {
                        meta.bad_lines += 1;
                        continue;
                    }
                },
            },
        };
        let parent = head.parent.map(str::to_string);
        match (head.id.and_then(gid_type), parent) {
            (Some("Order"), None) => {
                let Ok(order) = serde_json::from_slice::<GqlOrder>(line) else {
                    meta.bad_lines += 1;
                    continue;
                };
                if let Some(done) = current.take() {
                    finish(done, &mut changes, &mut meta, roots);
                }
                roots += 1;
                current = Some(Building {
                    order,
                    has_returns: false,
                });
            }
            (kind, Some(parent)) => {
                // A child of the order being built (grouped), or of one
                // that went by already or never came.
                let here = current.as_mut().filter(|b| b.order.id == parent);
                let adopted = match kind {
                    Some("LineItem") => match serde_json::from_slice::<GqlLineItem>(line) {
                        Ok(li) => here.map(|b| b.order.line_items.nodes.push(li)).is_some(),
                        Err(_) => {
                            meta.bad_lines += 1;
                            continue;
                        }
                    },
                    Some("Return") => here.map(|b| b.has_returns = true).is_some(),
                    _ => {
                        meta.bad_lines += 1;
                        continue;
                    }
                };
                if !adopted && orphaned.insert(parent.clone()) {
                    // Its order went by already (or never came): read that
                    // order again through the API.
                    meta.refetch.push(parent);
                }
            }
            _ => meta.bad_lines += 1,
        }
        if changes.len() >= BATCH {
            let batch = std::mem::replace(&mut changes, Vec::with_capacity(BATCH));
            if tx
                .blocking_send((batch, std::mem::take(&mut meta)))
                .is_err()
            {
                return Ok(()); // the store stopped; the importer says why
            }
        }
    }
    if let Some(done) = current.take() {
        finish(done, &mut changes, &mut meta, roots);
    }
    let _ = tx.blocking_send((changes, meta));
    Ok(())
}

/// A `Read` over byte chunks arriving from the download task.
struct ChannelReader {
    rx: mpsc::Receiver<std::io::Result<bytes::Bytes>>,
    current: bytes::Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_known_at_a_glance_in_either_key_order() {
        for line in [
            &br#"{"id":"gid://shopify/LineItem/7","quantity":1,"title":"Mug","__parentId":"gid://shopify/Order/9"}"#[..],
            br#"{"__parentId":"gid://shopify/Order/9","id":"gid://shopify/LineItem/7","title":"Mug","quantity":1}"#,
        ] {
            let at = memchr::memmem::find(line, PARENT).expect("a child");
            let h = quick_head(line, at).expect("known");
            assert_eq!(h.id, Some("gid://shopify/LineItem/7"));
            assert_eq!(h.parent, Some("gid://shopify/Order/9"));
        }
        // Anything else is left to the parser.
        let odd = br#"{"__parentId":"gid://shopify/Order/1","id":"gid://shopify/Refund/2"}"#;
        let at = memchr::memmem::find(odd, PARENT).expect("a child");
        assert!(quick_head(odd, at).is_none());
        let escaped =
            br#"{"__parentId":"gid:\/\/shopify\/Order\/1","id":"gid://shopify/LineItem/2"}"#;
        let at = memchr::memmem::find(escaped, PARENT).expect("a child");
        assert!(quick_head(escaped, at).is_none());
    }
}
