//! Shopify webhooks: from a verified topic and body to a change in the
//! store. (Signature checks and HTTP live in `web::webhooks`; this module
//! trusts its input to be from Shopify but not to be well-formed.)
//!
//! Bodies are Shopify's REST JSON for the topic. An `orders/*` body is a
//! whole order, but a REST order lacks what only GraphQL or other topics
//! carry (carrier events, returns, fulfillment orders, custom stages), so
//! it is merged over the stored order instead of replacing it. Sub-resource
//! topics (fulfillments, fulfillment events, refunds, returns) are merged
//! into their stored order by id. Every merge is keyed, so applying a
//! webhook twice changes nothing; a stale body (older `updated_at` than
//! what is stored) changes nothing either. Merges of one order are
//! serialised (read, merge, write), so two webhooks for the same order
//! never overwrite each other's change.

use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use crate::order::{
    Fulfillment, Order, Refund, Return, ReturnItem, ReturnState, ReturnTracking, TrackingEvent,
    order_key,
};
use crate::store::{Store, StoreError};

/// Why a webhook could not be applied.
#[derive(Debug, Error)]
pub enum WebhookError {
    /// The body is not what the topic promises (400: Shopify will not
    /// retry a bad body, and nothing was applied).
    #[error("malformed {topic} body: {reason}")]
    Malformed { topic: String, reason: String },
    /// The store could not take the change (503: Shopify retries).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a webhook did, for the response and the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Older than what is stored, or already applied.
    Unchanged,
    /// For an order we do not have yet (sync will bring it).
    UnknownOrder,
    /// A topic this site has no use for.
    Ignored,
    Deleted(usize),
}

/// The topics we act on.
pub const TOPICS: &[&str] = &[
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "orders/edited",
    "orders/delete",
    "fulfillments/create",
    "fulfillments/update",
    "fulfillment_events/create",
    "fulfillment_events/delete",
    "refunds/create",
    "returns/request",
    "returns/approve",
    "returns/decline",
    "returns/cancel",
    "returns/close",
    "returns/reopen",
    "returns/update",
    "customers/redact",
    "shop/redact",
    "customers/data_request",
];

/// Shared state of webhook processing: per-order locks, recently applied
/// event ids, topics already logged as unknown.
#[derive(Debug)]
pub struct Webhooks {
    stripes: Vec<tokio::sync::Mutex<()>>,
    seen: Mutex<(HashSet<String>, VecDeque<String>)>,
    unknown_logged: Mutex<HashSet<String>>,
}

/// How many applied event ids are remembered for duplicate detection.
const REMEMBERED_EVENTS: usize = 50_000;

impl Default for Webhooks {
    fn default() -> Self {
        Webhooks {
            stripes: (0..64).map(|_| tokio::sync::Mutex::new(())).collect(),
            seen: Mutex::new((HashSet::new(), VecDeque::new())),
            unknown_logged: Mutex::new(HashSet::new()),
        }
    }
}

impl Webhooks {
    fn stripe(&self, key: &str) -> &tokio::sync::Mutex<()> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        &self.stripes[(h.finish() as usize) % self.stripes.len()]
    }

    /// Whether an event id was applied already.
    pub fn is_duplicate(&self, event_id: &str) -> bool {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .contains(event_id)
    }

    /// Remembers an applied event id (bounded: the oldest are forgotten).
    pub fn remember(&self, event_id: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.0.insert(event_id.to_string()) {
            seen.1.push_back(event_id.to_string());
            while seen.1.len() > REMEMBERED_EVENTS {
                if let Some(old) = seen.1.pop_front() {
                    seen.0.remove(&old);
                }
            }
        }
    }

    /// Applies one webhook of `shop`. Returns once the change is committed.
    pub async fn apply(
        &self,
        store: &Store,
        shop: &str,
        topic: &str,
        body: &[u8],
    ) -> Result<Outcome, WebhookError> {
        let malformed = |reason: String| WebhookError::Malformed {
            topic: topic.to_string(),
            reason,
        };
        let value: Value = serde_json::from_slice(body).map_err(|e| malformed(e.to_string()))?;
        if !value.is_object() {
            return Err(malformed("not a JSON object".into()));
        }
        match topic {
            t if t.starts_with("orders/") && t != "orders/delete" => {
                let mut incoming: Order =
                    serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
                incoming.shop = shop.to_string();
                let incoming = incoming
                    .validated(shop)
                    .map_err(|e| malformed(e.to_string()))?;
                let key = incoming.key();
                let _guard = self.stripe(&key).lock().await;
                let stored = store.get(&key)?;
                let merged = merge_order(stored.as_ref(), incoming);
                upsert(store, merged).await
            }
            "orders/delete" => {
                let id = id_of(&value, "id").ok_or_else(|| malformed("no order id".into()))?;
                let key = order_key(shop, id);
                let _guard = self.stripe(&key).lock().await;
                let r = store.delete(vec![key]).await?;
                Ok(Outcome::Deleted(r.applied))
            }
            "fulfillments/create" | "fulfillments/update" => {
                let order_id =
                    id_of(&value, "order_id").ok_or_else(|| malformed("no order_id".into()))?;
                let f: Fulfillment =
                    serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
                self.merge_into(store, shop, order_id, |o| merge_fulfillment(o, f))
                    .await
            }
            "fulfillment_events/create" => {
                let order_id =
                    id_of(&value, "order_id").ok_or_else(|| malformed("no order_id".into()))?;
                let fulfillment_id = id_of(&value, "fulfillment_id")
                    .ok_or_else(|| malformed("no fulfillment_id".into()))?;
                let e: TrackingEvent =
                    serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
                self.merge_into(store, shop, order_id, |o| merge_event(o, fulfillment_id, e))
                    .await
            }
            "fulfillment_events/delete" => {
                let order_id =
                    id_of(&value, "order_id").ok_or_else(|| malformed("no order_id".into()))?;
                let id = id_of(&value, "id").ok_or_else(|| malformed("no id".into()))?;
                self.merge_into(store, shop, order_id, |o| {
                    let before: usize = o.fulfillments.iter().map(|f| f.events.len()).sum();
                    for f in &mut o.fulfillments {
                        f.events.retain(|e| e.id != id);
                    }
                    let after: usize = o.fulfillments.iter().map(|f| f.events.len()).sum();
                    (before != after).then_some(None)
                })
                .await
            }
            "refunds/create" => {
                let order_id =
                    id_of(&value, "order_id").ok_or_else(|| malformed("no order_id".into()))?;
                let r: Refund =
                    serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
                self.merge_into(store, shop, order_id, |o| merge_refund(o, r))
                    .await
            }
            t if t.starts_with("returns/") => {
                let (order_id, r) = parse_return(t, &value).map_err(malformed)?;
                self.merge_into(store, shop, order_id, |o| merge_return(o, r))
                    .await
            }
            "customers/redact" => {
                let ids: Vec<u64> = value
                    .get("orders_to_redact")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_u64).collect())
                    .unwrap_or_default();
                let keys = ids.into_iter().map(|id| order_key(shop, id)).collect();
                let r = store.delete(keys).await?;
                Ok(Outcome::Deleted(r.applied))
            }
            "shop/redact" => {
                let n = store.delete_shop(shop).await?;
                Ok(Outcome::Deleted(n))
            }
            "customers/data_request" => Ok(Outcome::Ignored),
            other => {
                let mut logged = self
                    .unknown_logged
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                if logged.insert(other.to_string()) {
                    tracing::info!(topic = other, "ignoring webhook topic (logged once)");
                }
                Ok(Outcome::Ignored)
            }
        }
    }

    /// Read, merge, write one stored order. `merge` returns `None` when
    /// the change is stale (nothing to do), else the time of the change.
    async fn merge_into(
        &self,
        store: &Store,
        shop: &str,
        order_id: u64,
        merge: impl FnOnce(&mut Order) -> Option<Option<DateTime<Utc>>>,
    ) -> Result<Outcome, WebhookError> {
        let key = order_key(shop, order_id);
        let _guard = self.stripe(&key).lock().await;
        let Some(mut order) = store.get(&key)? else {
            return Ok(Outcome::UnknownOrder);
        };
        let Some(at) = merge(&mut order) else {
            return Ok(Outcome::Unchanged);
        };
        // The order changed when its part did; never move it back in time.
        order.updated_at = order.updated_at.max(at);
        upsert(store, order).await
    }
}

async fn upsert(store: &Store, order: Order) -> Result<Outcome, WebhookError> {
    let r = store.upsert(vec![order]).await?;
    Ok(if r.applied > 0 {
        Outcome::Applied
    } else {
        Outcome::Unchanged
    })
}

/// A numeric id from `field`, also when Shopify sends it as a string or a
/// GraphQL gid (`gid://shopify/Order/123`).
pub fn id_of(v: &Value, field: &str) -> Option<u64> {
    match v.get(field)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.rsplit('/').next()?.parse().ok(),
        _ => None,
    }
    .filter(|id| *id > 0)
}

/// An incoming REST order over the stored one: what the REST payload does
/// not carry is kept from the stored order.
pub fn merge_order(stored: Option<&Order>, mut incoming: Order) -> Order {
    let Some(stored) = stored else {
        return incoming;
    };
    if incoming.fulfillment_orders.is_empty() {
        incoming.fulfillment_orders = stored.fulfillment_orders.clone();
    }
    if incoming.returns.is_empty() {
        incoming.returns = stored.returns.clone();
    }
    if incoming.return_status.is_none() {
        incoming.return_status = stored.return_status.clone();
    }
    if incoming.custom_stages.is_empty() {
        incoming.custom_stages = stored.custom_stages.clone();
    }
    for f in &mut incoming.fulfillments {
        if let Some(old) = stored.fulfillments.iter().find(|o| o.id == f.id) {
            carry_fulfillment(f, old);
        }
    }
    // Line item images are ours (REST has none).
    for li in &mut incoming.line_items {
        if li.image_url.is_none() {
            li.image_url = stored
                .line_items
                .iter()
                .find(|o| o.id == li.id)
                .and_then(|o| o.image_url.clone());
        }
    }
    incoming
}

/// Fields of a shipment that REST bodies lack, kept from the stored one.
fn carry_fulfillment(f: &mut Fulfillment, old: &Fulfillment) {
    if f.events.is_empty() {
        f.events = old.events.clone();
    }
    f.location_name = f.location_name.take().or_else(|| old.location_name.clone());
    f.estimated_delivery_at = f.estimated_delivery_at.or(old.estimated_delivery_at);
    f.in_transit_at = f.in_transit_at.or(old.in_transit_at);
    f.delivered_at = f.delivered_at.or(old.delivered_at);
    if f.display_status.is_none() && f.shipment_status.is_none() {
        f.display_status = old.display_status.clone();
    }
}

/// Adds or replaces a shipment. Stale (older than stored): `None`.
pub fn merge_fulfillment(order: &mut Order, mut f: Fulfillment) -> Option<Option<DateTime<Utc>>> {
    let at = f.updated_at.or(f.created_at);
    match order.fulfillments.iter_mut().find(|o| o.id == f.id) {
        Some(old) => {
            if let (Some(new), Some(prev)) = (f.updated_at, old.updated_at)
                && new < prev
            {
                return None;
            }
            carry_fulfillment(&mut f, old);
            *old = f;
        }
        None => order.fulfillments.push(f),
    }
    Some(at)
}

/// Adds a carrier scan to its shipment (once, by id) and moves the
/// shipment's status to it when it is the newest scan.
pub fn merge_event(
    order: &mut Order,
    fulfillment_id: u64,
    e: TrackingEvent,
) -> Option<Option<DateTime<Utc>>> {
    let f = order
        .fulfillments
        .iter_mut()
        .find(|f| f.id == fulfillment_id)?;
    let dup = f.events.iter().any(|old| {
        (e.id != 0 && old.id == e.id)
            || (e.id == 0 && old.status == e.status && old.happened_at == e.happened_at)
    });
    if dup {
        return None;
    }
    let newest = f.events.iter().all(|old| old.happened_at <= e.happened_at);
    if newest {
        f.shipment_status = Some(e.status.clone());
        // GraphQL's display status is replaced by what the newest scan says.
        f.display_status = None;
        if let Some(eta) = e.estimated_delivery_at {
            f.estimated_delivery_at = Some(eta);
        }
        if e.status == crate::order::TrackingStatus::Delivered {
            f.delivered_at = e.happened_at;
        }
    }
    let at = e.happened_at;
    f.events.push(e);
    Some(at)
}

/// Adds a refund once (by id).
pub fn merge_refund(order: &mut Order, r: Refund) -> Option<Option<DateTime<Utc>>> {
    if order.refunds.iter().any(|o| o.id == r.id && r.id != 0) {
        return None;
    }
    let at = r.at();
    order.refunds.push(r);
    Some(at)
}

/// Adds or updates a return (by id); the order's return status is then
/// derived from its returns.
pub fn merge_return(order: &mut Order, r: Return) -> Option<Option<DateTime<Utc>>> {
    let at = r.closed_at.or(r.created_at);
    match order.returns.iter_mut().find(|o| o.id == r.id) {
        Some(old) if *old == r => return None,
        Some(old) => {
            let mut r = r;
            if r.line_items.is_empty() {
                r.line_items = old.line_items.clone();
            }
            if r.tracking.is_empty() {
                r.tracking = old.tracking.clone();
            }
            *old = r;
        }
        None => order.returns.push(r),
    }
    order.return_status = None;
    Some(at.or_else(|| Some(Utc::now())))
}

/// A `returns/*` body: `{id, order: {id}, status, name, return_line_items}`
/// (ids as numbers or gids). The status, when absent, follows the topic.
pub fn parse_return(topic: &str, v: &Value) -> Result<(u64, Return), String> {
    let id = id_of(v, "id")
        .or_else(|| id_of(v, "admin_graphql_api_id"))
        .ok_or("no return id")?;
    let order_id = v
        .get("order")
        .and_then(|o| id_of(o, "id").or_else(|| id_of(o, "admin_graphql_api_id")))
        .or_else(|| id_of(v, "order_id"))
        .ok_or("no order id")?;
    let by_topic = match topic {
        "returns/request" => Some(ReturnState::Requested),
        "returns/approve" | "returns/reopen" => Some(ReturnState::Open),
        "returns/decline" => Some(ReturnState::Declined),
        "returns/cancel" => Some(ReturnState::Canceled),
        "returns/close" => Some(ReturnState::Closed),
        _ => None,
    };
    let status = by_topic
        .or_else(|| {
            v.get("status")
                .and_then(Value::as_str)
                .map(ReturnState::parse)
        })
        .ok_or("no return status")?;
    let time = |f: &str| {
        v.get(f)
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let line_items = v
        .get("return_line_items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|li| {
                    let line = li
                        .get("fulfillment_line_item")
                        .and_then(|f| f.get("line_item"))
                        .or_else(|| li.get("line_item"));
                    ReturnItem {
                        line_item_id: line.and_then(|l| id_of(l, "id")).unwrap_or(0),
                        title: line
                            .and_then(|l| l.get("title").or_else(|| l.get("name")))
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                        quantity: li.get("quantity").and_then(Value::as_u64).unwrap_or(0) as u32,
                        return_reason: li
                            .get("return_reason")
                            .and_then(Value::as_str)
                            .map(|s| s.to_ascii_uppercase()),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    #[derive(Deserialize)]
    struct Tracking {
        #[serde(default)]
        company: Option<String>,
        #[serde(default)]
        number: Option<String>,
        #[serde(default)]
        url: Option<String>,
    }
    let tracking = v
        .get("tracking")
        .and_then(|t| serde_json::from_value::<Vec<Tracking>>(t.clone()).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|t| ReturnTracking {
            company: t.company,
            number: t.number,
            url: t.url,
        })
        .collect();
    Ok((
        order_id,
        Return {
            id,
            name: v.get("name").and_then(Value::as_str).map(str::to_string),
            status,
            created_at: time("created_at"),
            closed_at: time("closed_at"),
            line_items,
            tracking,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order() -> Order {
        serde_json::from_value(json!({
            "shop": "s.example", "id": 1, "name": "#1", "updated_at": "2026-11-01T10:00:00Z",
            "fulfillments": [{"id": 9, "updated_at": "2026-11-01T10:00:00Z", "location_name": "Main",
                              "events": [{"id": 1, "status": "in_transit", "happened_at": "2026-11-01T09:00:00Z"}]}],
            "returns": [{"id": 5, "status": "OPEN"}],
            "custom_stages": [{"name": "Engraving", "at": "2026-11-01T08:00:00Z"}]
        }))
        .expect("order")
    }

    #[test]
    fn a_rest_order_keeps_what_only_we_know() {
        let rest: Order = serde_json::from_value(json!({
            "id": 1, "name": "#1", "financial_status": "refunded", "updated_at": "2026-11-02T10:00:00Z",
            "fulfillments": [{"id": 9, "status": "success", "updated_at": "2026-11-02T10:00:00Z"}]
        }))
        .expect("rest");
        let merged = merge_order(Some(&order()), rest);
        assert_eq!(
            merged.financial_status,
            crate::order::FinancialStatus::Refunded
        );
        assert_eq!(merged.fulfillments[0].events.len(), 1, "events kept");
        assert_eq!(
            merged.fulfillments[0].location_name.as_deref(),
            Some("Main")
        );
        assert_eq!(merged.returns.len(), 1);
        assert_eq!(merged.custom_stages.len(), 1);
    }

    #[test]
    fn events_apply_once_and_move_the_status() {
        let mut o = order();
        let e: TrackingEvent = serde_json::from_value(json!({
            "id": 2, "status": "out_for_delivery", "happened_at": "2026-11-02T08:00:00Z"
        }))
        .expect("event");
        assert!(merge_event(&mut o, 9, e.clone()).is_some());
        assert!(
            merge_event(&mut o, 9, e).is_none(),
            "a duplicate changes nothing"
        );
        assert_eq!(
            o.fulfillments[0].display_status(),
            crate::order::FulfillmentDisplayStatus::OutForDelivery
        );
        let old: TrackingEvent = serde_json::from_value(json!({
            "id": 3, "status": "label_printed", "happened_at": "2026-10-30T08:00:00Z"
        }))
        .expect("event");
        merge_event(&mut o, 9, old);
        assert_eq!(
            o.fulfillments[0].display_status(),
            crate::order::FulfillmentDisplayStatus::OutForDelivery,
            "a late, older scan does not move the status back"
        );
        assert!(
            merge_event(
                &mut o,
                404,
                serde_json::from_value(json!({"status": "delivered"})).expect("e")
            )
            .is_none()
        );
    }

    #[test]
    fn stale_fulfillment_updates_are_ignored() {
        let mut o = order();
        let stale: Fulfillment = serde_json::from_value(
            json!({"id": 9, "status": "cancelled", "updated_at": "2026-10-01T00:00:00Z"}),
        )
        .expect("f");
        assert!(merge_fulfillment(&mut o, stale).is_none());
        let fresh: Fulfillment = serde_json::from_value(json!({"id": 9, "status": "success", "shipment_status": "delivered", "updated_at": "2026-11-05T00:00:00Z"})).expect("f");
        assert!(merge_fulfillment(&mut o, fresh).is_some());
        assert_eq!(
            o.fulfillments[0].events.len(),
            1,
            "events survive an update without them"
        );
    }

    #[test]
    fn returns_parse_from_ids_or_gids_and_follow_the_topic() {
        let v = json!({
            "admin_graphql_api_id": "gid://shopify/Return/77",
            "order": {"admin_graphql_api_id": "gid://shopify/Order/1"},
            "name": "#1-R1",
            "return_line_items": [{"quantity": 1, "return_reason": "size_too_small",
                                    "fulfillment_line_item": {"line_item": {"id": 3, "title": "Mug"}}}]
        });
        let (order_id, r) = parse_return("returns/approve", &v).expect("return");
        assert_eq!(
            (order_id, r.id, r.status.clone()),
            (1, 77, ReturnState::Open)
        );
        assert_eq!(r.line_items[0].title, "Mug");
        assert_eq!(
            r.line_items[0].return_reason.as_deref(),
            Some("SIZE_TOO_SMALL")
        );
        let mut o = order();
        assert!(merge_return(&mut o, r.clone()).is_some());
        assert!(merge_return(&mut o, r).is_none());
        assert!(parse_return("returns/request", &json!({"id": 1})).is_err());
    }

    #[test]
    fn ids_come_as_numbers_strings_or_gids() {
        assert_eq!(id_of(&json!({"id": 5}), "id"), Some(5));
        assert_eq!(id_of(&json!({"id": "5"}), "id"), Some(5));
        assert_eq!(
            id_of(&json!({"id": "gid://shopify/Order/5"}), "id"),
            Some(5)
        );
        assert_eq!(id_of(&json!({"id": -1}), "id"), None);
        assert_eq!(id_of(&json!({"id": null}), "id"), None);
    }
}

#[cfg(test)]
mod sample_tests {
    //! Every payload Shopify publishes for these resources maps, unchanged.
    use crate::order::*;
    use serde_json::Value;

    fn sample(name: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/shopify")
            .join(name);
        serde_json::from_slice(&std::fs::read(path).expect("sample")).expect("json")
    }

    fn each(v: &Value) -> Vec<Value> {
        match v {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        }
    }

    #[test]
    fn every_sample_maps_and_reads_right() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shopify");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures").flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if !name.ends_with(".json") {
                continue;
            }
            let v = sample(&name);
            let wrapper = v.as_object().expect("wrapper object");
            // The response wrapper may hold more than the resource (a
            // `notice`, a replacement fulfillment order): map every part.
            for (kind, inner) in wrapper {
                for item in each(inner) {
                    let ok = match kind.as_str() {
                        "notice" => Ok(()),
                        "order" => serde_json::from_value::<Order>(item)
                            .map(|_| ())
                            .map_err(|e| e.to_string()),
                        "fulfillment" | "fulfillments" => {
                            serde_json::from_value::<Fulfillment>(item)
                                .map(|_| ())
                                .map_err(|e| e.to_string())
                        }
                        "fulfillment_event" | "fulfillment_events" => {
                            serde_json::from_value::<TrackingEvent>(item)
                                .map(|_| ())
                                .map_err(|e| e.to_string())
                        }
                        "fulfillment_order"
                        | "fulfillment_orders"
                        | "replacement_fulfillment_order" => {
                            serde_json::from_value::<FulfillmentOrder>(item)
                                .map(|_| ())
                                .map_err(|e| e.to_string())
                        }
                        "refund" => serde_json::from_value::<Refund>(item)
                            .map(|_| ())
                            .map_err(|e| e.to_string()),
                        other => Err(format!("unexpected sample kind {other}")),
                    };
                    ok.unwrap_or_else(|e| panic!("{name}: {e}"));
                    seen += 1;
                }
            }
        }
        assert!(seen >= 17, "{seen}");

        let order = |n: &str| -> Order {
            serde_json::from_value(sample(n)["order"].clone()).expect("order")
        };
        let o = order("rest_order_cancel_with_amount_refunded.json");
        assert_eq!(o.financial_status, FinancialStatus::Refunded);
        assert_eq!(o.cancel_reason, Some(CancelReason::Other));
        assert!(o.cancelled_at.is_some());
        assert_eq!(
            order("rest_order_create_pending.json").financial_status,
            FinancialStatus::Pending
        );
        assert_eq!(
            order("rest_order_create_paid_fulfilled.json").fulfillment_status,
            FulfillmentStatus::Fulfilled
        );
        assert_eq!(
            order("rest_order_create_paid_unfulfilled.json").fulfillment_status,
            FulfillmentStatus::Unfulfilled
        );
        assert!(order("rest_order_close_closed.json").closed_at.is_some());
        let o = order("rest_order_get_partially_refunded_with_fulfillment_and_refund.json");
        assert_eq!(o.financial_status, FinancialStatus::PartiallyRefunded);
        assert_eq!(
            o.fulfillments[0].display_status(),
            FulfillmentDisplayStatus::Failure
        );
        assert_eq!(o.refunded_amount(), rust_decimal::Decimal::new(20900, 2));
        assert_eq!(
            o.validated("jsmith.myshopify.com")
                .expect("valid")
                .order_number,
            1001
        );

        let fo: FulfillmentOrder = serde_json::from_value(
            sample("rest_fulfillment_order_hold_on_hold.json")["fulfillment_order"].clone(),
        )
        .expect("fo");
        assert_eq!(fo.status, FulfillmentOrderStatus::OnHold);
        assert_eq!(
            fo.fulfillment_holds[0].reason,
            HoldReason::InventoryOutOfStock
        );
        assert_eq!(
            fo.assigned_location.and_then(|l| l.name).as_deref(),
            Some("Apple Api Shipwire")
        );
        let e: TrackingEvent = serde_json::from_value(
            sample("rest_fulfillment_event_label_printed_2021.json")["fulfillment_event"].clone(),
        )
        .expect("event");
        assert_eq!(e.status, TrackingStatus::LabelPrinted);
        let f: Fulfillment = serde_json::from_value(
            sample("rest_fulfillment_create_with_tracking_ups.json")["fulfillment"].clone(),
        )
        .expect("f");
        assert_eq!(f.tracking_company.as_deref(), Some("UPS"));
        assert_eq!(f.display_status(), FulfillmentDisplayStatus::Fulfilled);
    }
}

#[cfg(test)]
mod never_panics {
    use super::*;
    use crate::store::StoreOptions;
    use proptest::prelude::*;

    fn arb_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            ".{0,20}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                proptest::collection::hash_map(
                    prop_oneof![
                        Just("id".to_string()),
                        Just("order_id".to_string()),
                        Just("fulfillment_id".to_string()),
                        Just("status".to_string()),
                        Just("order".to_string()),
                        Just("line_items".to_string()),
                        Just("updated_at".to_string()),
                        "[a-z_]{1,8}",
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn no_body_on_any_topic_makes_a_webhook_panic(
            topic in proptest::sample::select(TOPICS.to_vec()),
            body in prop_oneof![
                arb_json().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
                proptest::collection::vec(any::<u8>(), 0..200),
            ],
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
            let hooks = Webhooks::default();
            let result = rt.block_on(hooks.apply(&store, "s.example", topic, &body));
            prop_assert!(!matches!(result, Err(WebhookError::Store(_))), "{result:?}");
        }
    }
}
