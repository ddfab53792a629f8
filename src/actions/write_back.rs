//! Staff actions written back to Shopify through the GraphQL Admin API:
//! the merchant's status as an order tag (`status:<id>`) and a metafield
//! (`order_status.status`), shipments (`fulfillmentCreate`), tracking
//! (`fulfillmentTrackingInfoUpdate`), carrier scans
//! (`fulfillmentEventCreate`), and, for a shop that runs this site as its
//! fulfillment service, accepting or rejecting fulfillment requests and
//! cancellation requests.
//!
//! Only for shops with `write_back` on. Every mutation's `userErrors` come
//! back as [`WriteError::Refused`] with Shopify's own words, for staff to
//! read; a missing scope as the client's [`ApiError::MissingScope`]. After
//! a change the order is read again from Shopify and stored
//! ([`crate::ingest::shopify::sync::refetch`]): what the page shows next is
//! what Shopify says happened, never a guess. The client retries a call
//! that was throttled or failed on the way (5xx, network); a retried
//! `fulfillmentCreate` that had in fact gone through is refused by Shopify
//! (nothing left to fulfill), and the read-back shows the one shipment.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use thiserror::Error;

use crate::ingest::shopify::sync;
use crate::order::status::{TAG_PREFIX, status_tag};
use crate::shopify::Apis;
use crate::shopify::client::{ApiError, ShopApi};
use crate::store::Store;

/// The metafield namespace and key of the merchant's status.
pub const METAFIELD_NAMESPACE: &str = "order_status";
pub const METAFIELD_KEY: &str = "status";

/// Why a write-back did not happen.
#[derive(Debug, Error)]
pub enum WriteError {
    /// The shop is not configured for write-back (or not at all).
    #[error("writing back to Shopify is off for this shop ([[shopify]] write_back)")]
    Off,
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Shopify's `userErrors`, in its words.
    #[error("Shopify refused: {}", .0.join("; "))]
    Refused(Vec<String>),
    #[error("Shopify answered in an unexpected shape: {0}")]
    Shape(String),
}

/// `gid://shopify/Order/ID`.
pub fn order_gid(id: u64) -> String {
    format!("gid://shopify/Order/{id}")
}

/// The `userErrors` of a mutation's payload, as an error when there are any.
fn checked(data: &Value, field: &str) -> Result<Value, WriteError> {
    let payload = &data[field];
    if payload.is_null() {
        return Err(WriteError::Shape(format!("no {field} in the answer")));
    }
    let errors: Vec<String> = payload["userErrors"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|e| {
                    let message = e["message"].as_str().unwrap_or("refused").to_string();
                    match e["field"].as_array().map(|f| {
                        f.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(".")
                    }) {
                        Some(f) if !f.is_empty() => format!("{message} ({f})"),
                        _ => message,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if errors.is_empty() {
        Ok(payload.clone())
    } else {
        Err(WriteError::Refused(errors))
    }
}

const STATUS_SET: &str = "mutation StatusSet($id: ID!, $add: [String!]!, $remove: [String!]!, $metafields: [MetafieldsSetInput!]!) { \
     removed: tagsRemove(id: $id, tags: $remove) { userErrors { field message } } \
     added: tagsAdd(id: $id, tags: $add) { userErrors { field message } } \
     metafieldsSet(metafields: $metafields) { metafields { id } userErrors { field message code } } }";

const STATUS_CLEAR: &str = "mutation StatusClear($id: ID!, $remove: [String!]!, $metafields: [MetafieldIdentifierInput!]!) { \
     removed: tagsRemove(id: $id, tags: $remove) { userErrors { field message } } \
     metafieldsDelete(metafields: $metafields) { userErrors { field message } } }";

/// Writes the order's status to Shopify: the `status:<id>` tag (the old
/// status's tag removed) and the metafield; `new = None` clears both.
/// The tags removed are every `status:` tag the order carries but the new
/// one, so a tag left by an earlier failure does not linger.
pub async fn write_status(
    api: &ShopApi,
    order_id: u64,
    tags: &[String],
    new: Option<&str>,
) -> Result<(), WriteError> {
    let id = order_gid(order_id);
    let wanted = new.map(status_tag);
    let mut remove: Vec<String> = tags
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| t.starts_with(TAG_PREFIX) && Some(t) != wanted.as_ref())
        .collect();
    remove.dedup();
    match (new, wanted) {
        (Some(status), Some(tag)) => {
            let data = api
                .call(
                    STATUS_SET,
                    json!({
                        "id": id, "add": [tag], "remove": remove,
                        "metafields": [{"ownerId": id, "namespace": METAFIELD_NAMESPACE, "key": METAFIELD_KEY,
                                        "type": "single_line_text_field", "value": status}],
                    }),
                )
                .await?;
            checked(&data, "removed")?;
            checked(&data, "added")?;
            checked(&data, "metafieldsSet")?;
        }
        _ => {
            let data = api
                .call(
                    STATUS_CLEAR,
                    json!({
                        "id": id, "remove": remove,
                        "metafields": [{"ownerId": id, "namespace": METAFIELD_NAMESPACE, "key": METAFIELD_KEY}],
                    }),
                )
                .await?;
            checked(&data, "removed")?;
            checked(&data, "metafieldsDelete")?;
        }
    }
    Ok(())
}

/// A fulfillment order that can ship now, read live from Shopify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shippable {
    pub id: String,
    pub location: String,
    pub lines: Vec<ShippableLine>,
}

/// One line of a [`Shippable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippableLine {
    /// The fulfillment order line item's gid.
    pub id: String,
    pub title: String,
    pub remaining: u32,
}

const OPEN_WORK: &str = "query OpenWork($id: ID!) { node(id: $id) { ... on Order { \
     fulfillmentOrders(first: 5) { nodes { id status assignedLocation { name } \
     lineItems(first: 30) { nodes { id remainingQuantity lineItem { title } } } } } } } }";

/// The order's fulfillment orders that are open (or in progress), with
/// what remains to ship of each line.
pub async fn shippable(api: &ShopApi, order_id: u64) -> Result<Vec<Shippable>, WriteError> {
    let data = api
        .call(OPEN_WORK, json!({ "id": order_gid(order_id) }))
        .await?;
    let nodes = data["node"]["fulfillmentOrders"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(nodes
        .iter()
        .filter(|fo| matches!(fo["status"].as_str(), Some("OPEN" | "IN_PROGRESS")))
        .map(|fo| Shippable {
            id: fo["id"].as_str().unwrap_or("").to_string(),
            location: fo["assignedLocation"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            lines: fo["lineItems"]["nodes"]
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .map(|l| ShippableLine {
                            id: l["id"].as_str().unwrap_or("").to_string(),
                            title: l["lineItem"]["title"].as_str().unwrap_or("").to_string(),
                            remaining: l["remainingQuantity"]
                                .as_u64()
                                .and_then(|n| u32::try_from(n).ok())
                                .unwrap_or(0),
                        })
                        .filter(|l| l.remaining > 0)
                        .collect()
                })
                .unwrap_or_default(),
        })
        .filter(|s| !s.lines.is_empty())
        .collect())
}

/// Tracking for a shipment: each part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracking {
    pub company: Option<String>,
    pub number: Option<String>,
    pub url: Option<String>,
}

impl Tracking {
    fn input(&self) -> Value {
        json!({"company": self.company, "number": self.number, "url": self.url})
    }
}

const FULFILLMENT_CREATE: &str = "mutation Ship($fulfillment: FulfillmentInput!) { \
     fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id } userErrors { field message } } }";

/// Creates a shipment of `lines` (fulfillment order gid, line gid,
/// quantity), all of one fulfillment order, as Shopify requires of one
/// call; then reads the order back.
pub async fn ship(
    api: &ShopApi,
    store: &Store,
    order_id: u64,
    fulfillment_order: &str,
    lines: &[(String, u32)],
    tracking: &Tracking,
    notify_customer: bool,
) -> Result<(), WriteError> {
    let items: Vec<Value> = lines
        .iter()
        .map(|(id, q)| json!({"id": id, "quantity": q}))
        .collect();
    let mut fulfillment = json!({
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order, "fulfillmentOrderLineItems": items}],
        "notifyCustomer": notify_customer,
    });
    if tracking.number.is_some() || tracking.company.is_some() || tracking.url.is_some() {
        fulfillment["trackingInfo"] = tracking.input();
    }
    let data = api
        .call(FULFILLMENT_CREATE, json!({ "fulfillment": fulfillment }))
        .await?;
    checked(&data, "fulfillmentCreate")?;
    read_back(api, store, order_id).await
}

const TRACKING_UPDATE: &str = "mutation Track($id: ID!, $tracking: FulfillmentTrackingInput!, $notify: Boolean) { \
     fulfillmentTrackingInfoUpdate(fulfillmentId: $id, trackingInfoInput: $tracking, notifyCustomer: $notify) { \
     fulfillment { id } userErrors { field message } } }";

/// Replaces a shipment's tracking; then reads the order back.
pub async fn update_tracking(
    api: &ShopApi,
    store: &Store,
    order_id: u64,
    fulfillment_id: u64,
    tracking: &Tracking,
    notify_customer: bool,
) -> Result<(), WriteError> {
    let data = api
        .call(
            TRACKING_UPDATE,
            json!({
                "id": format!("gid://shopify/Fulfillment/{fulfillment_id}"),
                "tracking": tracking.input(),
                "notify": notify_customer,
            }),
        )
        .await?;
    checked(&data, "fulfillmentTrackingInfoUpdate")?;
    read_back(api, store, order_id).await
}

/// A carrier scan staff record by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// A `FulfillmentEventStatus` (`IN_TRANSIT`, `DELIVERED`, ...).
    pub status: String,
    pub happened_at: DateTime<Utc>,
    pub message: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

/// The carrier statuses a scan may have (Shopify's enum).
pub const SCAN_STATUSES: &[&str] = &[
    "LABEL_PRINTED",
    "LABEL_PURCHASED",
    "CONFIRMED",
    "CARRIER_PICKED_UP",
    "IN_TRANSIT",
    "DELAYED",
    "OUT_FOR_DELIVERY",
    "ATTEMPTED_DELIVERY",
    "READY_FOR_PICKUP",
    "PICKED_UP",
    "DELIVERED",
    "FAILURE",
];

const EVENT_CREATE: &str = "mutation Scan($event: FulfillmentEventInput!) { \
     fulfillmentEventCreate(fulfillmentEvent: $event) { fulfillmentEvent { id } userErrors { field message } } }";

/// Adds a carrier scan to a shipment; then reads the order back.
pub async fn add_scan(
    api: &ShopApi,
    store: &Store,
    order_id: u64,
    fulfillment_id: u64,
    scan: &Scan,
) -> Result<(), WriteError> {
    let data = api
        .call(
            EVENT_CREATE,
            json!({"event": {
                "fulfillmentId": format!("gid://shopify/Fulfillment/{fulfillment_id}"),
                "status": scan.status, "happenedAt": scan.happened_at.to_rfc3339(),
                "message": scan.message, "city": scan.city, "country": scan.country,
            }}),
        )
        .await?;
    checked(&data, "fulfillmentEventCreate")?;
    read_back(api, store, order_id).await
}

/// Which requests to a fulfillment service to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FulfillmentRequests {
    /// Merchants ask the service to ship (`FULFILLMENT_REQUESTED`).
    Submitted,
    /// Merchants ask the service to give accepted work back
    /// (`CANCELLATION_REQUESTED`).
    CancellationRequested,
}

impl FulfillmentRequests {
    fn assignment_status(self) -> &'static str {
        match self {
            FulfillmentRequests::Submitted => "FULFILLMENT_REQUESTED",
            FulfillmentRequests::CancellationRequested => "CANCELLATION_REQUESTED",
        }
    }
}

/// A request waiting for this app (as a fulfillment service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The fulfillment order's gid.
    pub id: String,
    pub order_id: u64,
    pub order_name: String,
    pub location: String,
    /// "2 × Oak desk".
    pub lines: Vec<String>,
    pub kind: FulfillmentRequests,
}

const REQUESTS: &str = "query Requests($status: FulfillmentOrderAssignmentStatus) { assignedFulfillmentOrders(first: 25, assignmentStatus: $status) { \
     nodes { id orderId orderName assignedLocation { name } \
     lineItems(first: 10) { nodes { remainingQuantity totalQuantity lineItem { title } } } } } }";

/// The requests of one kind waiting for this app, read live.
pub async fn requests(
    api: &ShopApi,
    kind: FulfillmentRequests,
) -> Result<Vec<Request>, WriteError> {
    let data = api
        .call(REQUESTS, json!({ "status": kind.assignment_status() }))
        .await?;
    let nodes = data["assignedFulfillmentOrders"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(nodes
        .iter()
        .map(|fo| Request {
            id: fo["id"].as_str().unwrap_or("").to_string(),
            order_id: fo["orderId"]
                .as_str()
                .and_then(|g| g.rsplit('/').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            order_name: fo["orderName"].as_str().unwrap_or("").to_string(),
            location: fo["assignedLocation"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            lines: fo["lineItems"]["nodes"]
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .map(|l| {
                            // Work being cancelled was accepted: say what it
                            // was, not what is left.
                            let n = match kind {
                                FulfillmentRequests::Submitted => &l["remainingQuantity"],
                                FulfillmentRequests::CancellationRequested => &l["totalQuantity"],
                            };
                            format!(
                                "{} × {}",
                                n.as_u64().unwrap_or(0),
                                l["lineItem"]["title"].as_str().unwrap_or("")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            kind,
        })
        .collect())
}

const ACCEPT: &str = "mutation Accept($id: ID!, $message: String) { \
     fulfillmentOrderAcceptFulfillmentRequest(id: $id, message: $message) { fulfillmentOrder { id } userErrors { field message } } }";
const REJECT: &str = "mutation Reject($id: ID!, $message: String, $reason: FulfillmentOrderRejectionReason) { \
     fulfillmentOrderRejectFulfillmentRequest(id: $id, message: $message, reason: $reason) { fulfillmentOrder { id } userErrors { field message } } }";
const ACCEPT_CANCELLATION: &str = "mutation AcceptCancel($id: ID!, $message: String) { \
     fulfillmentOrderAcceptCancellationRequest(id: $id, message: $message) { fulfillmentOrder { id } userErrors { field message } } }";
const REJECT_CANCELLATION: &str = "mutation RejectCancel($id: ID!, $message: String) { \
     fulfillmentOrderRejectCancellationRequest(id: $id, message: $message) { fulfillmentOrder { id } userErrors { field message } } }";

/// Reasons a fulfillment request may be rejected for (Shopify's enum).
pub const REJECTION_REASONS: &[&str] = &[
    "INVENTORY_OUT_OF_STOCK",
    "INCORRECT_ADDRESS",
    "INELIGIBLE_PRODUCT",
    "UNDELIVERABLE_DESTINATION",
    "OTHER",
];

/// Accepts (or, with a reason, rejects) a fulfillment request; then reads
/// its order back.
pub async fn answer_request(
    api: &ShopApi,
    store: &Store,
    fulfillment_order: &str,
    order_id: u64,
    reject: Option<&str>,
    message: Option<&str>,
) -> Result<(), WriteError> {
    match reject {
        None => {
            let data = api
                .call(ACCEPT, json!({"id": fulfillment_order, "message": message}))
                .await?;
            checked(&data, "fulfillmentOrderAcceptFulfillmentRequest")?;
        }
        Some(reason) => {
            let data = api
                .call(
                    REJECT,
                    json!({"id": fulfillment_order, "message": message, "reason": reason}),
                )
                .await?;
            checked(&data, "fulfillmentOrderRejectFulfillmentRequest")?;
        }
    }
    if order_id > 0 {
        read_back(api, store, order_id).await?;
    }
    Ok(())
}

/// Accepts (the work goes back to the merchant, who may then cancel the
/// order) or rejects (the service keeps shipping) a cancellation request;
/// then reads its order back.
pub async fn answer_cancellation(
    api: &ShopApi,
    store: &Store,
    fulfillment_order: &str,
    order_id: u64,
    accept: bool,
    message: Option<&str>,
) -> Result<(), WriteError> {
    let (query, field) = if accept {
        (
            ACCEPT_CANCELLATION,
            "fulfillmentOrderAcceptCancellationRequest",
        )
    } else {
        (
            REJECT_CANCELLATION,
            "fulfillmentOrderRejectCancellationRequest",
        )
    };
    let data = api
        .call(query, json!({"id": fulfillment_order, "message": message}))
        .await?;
    checked(&data, field)?;
    if order_id > 0 {
        read_back(api, store, order_id).await?;
    }
    Ok(())
}

/// Reads the order again from Shopify and stores what it says.
pub async fn read_back(api: &ShopApi, store: &Store, order_id: u64) -> Result<(), WriteError> {
    sync::refetch(store, api, &order_gid(order_id))
        .await
        .map(|_| ())
        .map_err(|e| WriteError::Shape(format!("reading the order back: {e}")))
}

/// Orders whose status tag is put right in one round.
const RECONCILE_BATCH: usize = 25;

/// Writes to Shopify the statuses its tags do not say yet: set by an
/// automatic rule (inside the store's writer, which does not call out),
/// or left half-written by a failure. One round: up to a batch of orders
/// of shops with write-back on; each is read back after, which clears it.
/// Returns how many were put right.
pub async fn reconcile(store: &Store, apis: &Apis) -> usize {
    let pending = match store.status_tags_stale(RECONCILE_BATCH * 4) {
        Ok(list) => list,
        Err(e) => {
            tracing::warn!(error = %crate::errors::chain(&e), "cannot look for status tags to write back");
            return 0;
        }
    };
    let mut done = 0;
    for order in pending {
        let Some(api) = apis.get(&order.shop).filter(|a| a.shop().write_back) else {
            continue;
        };
        let status = order.custom_status().and_then(|c| c.status.clone());
        let result = async {
            write_status(api, order.id, &order.tags, status.as_deref()).await?;
            read_back(api, store, order.id).await
        }
        .await;
        match result {
            Ok(()) => done += 1,
            Err(e) => {
                tracing::warn!(shop = %order.shop, error = %crate::errors::chain(&e), "could not write a status back to Shopify; will try again")
            }
        }
        if done >= RECONCILE_BATCH {
            break;
        }
    }
    done
}

/// Every query and mutation this module sends (for the cost test).
pub const OPERATIONS: &[&str] = &[
    STATUS_SET,
    STATUS_CLEAR,
    OPEN_WORK,
    FULFILLMENT_CREATE,
    TRACKING_UPDATE,
    EVENT_CREATE,
    REQUESTS,
    ACCEPT,
    REJECT,
    ACCEPT_CANCELLATION,
    REJECT_CANCELLATION,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::cost::{MAX_QUERY_COST, Schema, parse_query};

    #[test]
    fn every_write_back_operation_is_in_the_schema_and_fits_the_cost_limit() {
        let schema = Schema::admin().expect("schema");
        for q in OPERATIONS {
            let doc = parse_query(q).unwrap_or_else(|e| panic!("{e}\n{q}"));
            let cost = schema
                .requested_cost(&doc, &json!({}))
                .unwrap_or_else(|e| panic!("{e}\n{q}"));
            assert!(cost <= MAX_QUERY_COST, "{q}: {cost}");
        }
    }

    #[test]
    fn user_errors_become_words_with_their_field() {
        let data = json!({"fulfillmentCreate": {"userErrors": [
            {"field": ["fulfillment", "trackingInfo", "url"], "message": "Url is invalid."}
        ]}});
        match checked(&data, "fulfillmentCreate") {
            Err(WriteError::Refused(m)) => {
                assert_eq!(m, ["Url is invalid. (fulfillment.trackingInfo.url)"])
            }
            other => panic!("{other:?}"),
        }
        assert!(checked(&json!({"x": {"userErrors": []}}), "x").is_ok());
        assert!(matches!(
            checked(&json!({}), "x"),
            Err(WriteError::Shape(_))
        ));
    }
}
