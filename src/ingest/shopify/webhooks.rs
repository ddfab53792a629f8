//! Shopify webhooks: from a verified topic and body to a change of the
//! store. (Signatures and HTTP live in `web::webhooks`, keeping what could
//! not be applied in [`super::deadletter`]; this module trusts its input
//! to come from Shopify, not to be well-formed.)
//!
//! Each topic's documented payload becomes one [`Change`] (see
//! [`crate::order::merge`] for how each part judges staleness by its own
//! clock), a deletion, or a request to read the order again through the
//! API when the payload cannot say what changed (`orders/edited` carries
//! only line-item deltas; `returns/update` only what was removed). Payloads
//! without a time of their own (returns, fulfillment orders) are dated by
//! `X-Shopify-Triggered-At`. Webhooks that name a fulfillment order or a
//! return but not its order find the order through the index.
//!
//! Why a body cannot be used is described without its values: serde's
//! messages quote the offending value, which may be an email.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::rest;
use crate::order::merge::Change;
use crate::order::{
    Fulfillment, FulfillmentHold, FulfillmentOrderStatus, Refund, RequestStatus, Return,
    ReturnItem, ReturnState, ReturnTracking, TrackingEvent, order_key,
};
use crate::shopify::scopes::Topic;
use crate::store::{Part, Store};

/// What a webhook asks of the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Apply(Box<Change>),
    /// An order the store does not have yet, from a body that does not
    /// prove its shop: with API access it is read from that shop instead
    /// (Shopify's word, not the body's; an order of another shop sharing
    /// the app's secret is not found there), else the body is applied.
    NewOrder(Box<Change>, u64),
    /// Apply, then read the order (Shopify's id) again: the body tells
    /// only part of a change of shape (a partial hold split the
    /// fulfillment order).
    ApplyAndRefetch(Box<Change>, u64),
    /// `orders/delete`: with API access, confirmed gone from Shopify
    /// before the order is removed.
    DeleteOrder(u64),
    /// `customers/redact`: these orders.
    Delete(Vec<String>),
    DeleteShop,
    /// Read this order (Shopify's id) again through the API.
    Refetch(u64),
    /// Nothing to do (a topic we have no use for, or nothing known to
    /// change).
    Ignore,
}

impl Plan {
    fn apply(change: Change) -> Plan {
        Plan::Apply(Box::new(change))
    }
}

/// One verified delivery.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub shop: &'a str,
    pub topic: &'a str,
    pub body: &'a [u8],
    /// `X-Shopify-Triggered-At`: when the change happened.
    pub triggered_at: Option<DateTime<Utc>>,
}

/// Why a verified body cannot be used, without any of its values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unusable(pub String);

fn unusable(topic: &str, what: &str) -> Unusable {
    Unusable(format!("{topic}: {what}"))
}

/// A serde error, described by its kind and place only.
fn serde_reason(topic: &str, e: &serde_json::Error) -> Unusable {
    Unusable(format!("{topic}: {}", crate::logsafe::json_error(e)))
}

/// Shopify's HMAC covers the body, not the `X-Shopify-Topic` header, so a
/// signed body can be re-sent under another topic (or, where shops share
/// an app's secret, another shop's header). Every body must be what its
/// topic promises: the resource its `admin_graphql_api_id` names (REST
/// bodies carry one), the shop its `shop_domain` or `order_status_url`
/// names, and for the destructive topics exactly the documented shape.
fn expect_resource(topic: Topic, v: &Value, resource: &str) -> Result<(), Unusable> {
    match v.get("admin_graphql_api_id") {
        None | Some(Value::Null) => Ok(()),
        Some(id) => match id.as_str().and_then(crate::shopify::graphql::gid_type) {
            Some(t) if t == resource => Ok(()),
            _ => Err(unusable(
                topic.as_str(),
                &format!(
                    "the body is not a {resource} (its admin_graphql_api_id names another resource)"
                ),
            )),
        },
    }
}

/// A compliance body's `shop_domain` must be the header's shop.
fn expect_shop_domain(topic: Topic, v: &Value, shop: &str) -> Result<(), Unusable> {
    match v.get("shop_domain").and_then(Value::as_str) {
        Some(d) if d.eq_ignore_ascii_case(shop) => Ok(()),
        Some(_) => Err(unusable(topic.as_str(), "the body names another shop")),
        None => Err(unusable(topic.as_str(), "no `shop_domain`")),
    }
}

/// Whether an order body's `order_status_url` proves its shop: `Some(true)`
/// on the header's `*.myshopify.com` host, `Some(false)` on another
/// `*.myshopify.com` host, `None` when it cannot tell (absent, or the
/// shop's own domain).
fn status_url_shop(v: &Value, shop: &str) -> Option<bool> {
    let url = url::Url::parse(v.get("order_status_url")?.as_str()?).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    host.ends_with(".myshopify.com")
        .then(|| host.eq_ignore_ascii_case(shop))
}

/// The store key of a part's order, if it is one of this shop's.
fn own_order(store: &Store, shop: &str, part: Part, id: u64) -> Option<String> {
    store
        .find_by_part(part, id)
        .filter(|key| key.strip_suffix(&format!("/{}", key_id(key))) == Some(shop))
}

/// Works out what a webhook changes. Needs the store only to find the
/// order of a part named alone. A topic the site does not act on is
/// ignored.
pub fn plan(store: &Store, d: &Delivery<'_>) -> Result<Plan, Unusable> {
    let Some(topic) = Topic::parse(d.topic) else {
        return Ok(Plan::Ignore);
    };
    let name = topic.as_str();
    let value: Value = serde_json::from_slice(d.body).map_err(|e| serde_reason(name, &e))?;
    if !value.is_object() {
        return Err(unusable(name, "the body is not a JSON object"));
    }
    let shop = d.shop;
    let need =
        |field: &str| id_of(&value, field).ok_or_else(|| unusable(name, &format!("no `{field}`")));
    let plan = match topic {
        Topic::OrdersEdited => {
            let edit = value
                .get("order_edit")
                .ok_or_else(|| unusable(name, "no `order_edit`"))?;
            expect_resource(topic, edit, "OrderEdit")?;
            let order_id = id_of(edit, "order_id")
                .ok_or_else(|| unusable(name, "no `order_edit.order_id`"))?;
            Plan::Refetch(order_id)
        }
        Topic::OrdersDelete => {
            // Shopify's body is the id alone; anything more is another
            // topic's body re-sent under this one.
            let fields = value.as_object().map(|m| m.len()).unwrap_or(0);
            let extra = value
                .as_object()
                .is_some_and(|m| m.keys().any(|k| k != "id" && k != "admin_graphql_api_id"));
            if extra || fields == 0 {
                return Err(unusable(name, "the body is not an order's id alone"));
            }
            expect_resource(topic, &value, "Order")?;
            Plan::DeleteOrder(need("id")?)
        }
        Topic::OrdersCreate
        | Topic::OrdersUpdated
        | Topic::OrdersPaid
        | Topic::OrdersCancelled
        | Topic::OrdersFulfilled
        | Topic::OrdersPartiallyFulfilled => {
            expect_resource(topic, &value, "Order")?;
            if value.get("line_items").is_none_or(|l| !l.is_array()) {
                return Err(unusable(name, "the body is not an order (no `line_items`)"));
            }
            let proven = status_url_shop(&value, shop);
            if proven == Some(false) {
                return Err(unusable(name, "the body is another shop's order"));
            }
            let mut o = rest::order(value).map_err(|e| serde_reason(name, &e))?;
            o.shop = shop.to_string();
            let o = o
                .validated(shop)
                .map_err(|e| unusable(name, &e.to_string()))?;
            let id = o.id;
            let known = store.get(&o.key()).ok().flatten().is_some();
            if known || proven == Some(true) {
                Plan::apply(Change::Rest(o))
            } else {
                Plan::NewOrder(Box::new(Change::Rest(o)), id)
            }
        }
        Topic::FulfillmentsCreate | Topic::FulfillmentsUpdate => {
            expect_resource(topic, &value, "Fulfillment")?;
            let key = order_key(shop, need("order_id")?);
            let f: Fulfillment =
                serde_json::from_value(value).map_err(|e| serde_reason(name, &e))?;
            if f.id == 0 {
                return Err(unusable(name, "no `id`"));
            }
            Plan::apply(Change::Fulfillment {
                key,
                fulfillment: f,
            })
        }
        Topic::FulfillmentEventsCreate => {
            expect_resource(topic, &value, "FulfillmentEvent")?;
            let key = order_key(shop, need("order_id")?);
            let fulfillment_id = need("fulfillment_id")?;
            let event: TrackingEvent =
                serde_json::from_value(value).map_err(|e| serde_reason(name, &e))?;
            Plan::apply(Change::Event {
                key,
                fulfillment_id,
                event,
            })
        }
        Topic::FulfillmentEventsDelete => {
            expect_resource(topic, &value, "FulfillmentEvent")?;
            Plan::apply(Change::EventDeleted {
                key: order_key(shop, need("order_id")?),
                event_id: need("id")?,
            })
        }
        Topic::RefundsCreate => {
            expect_resource(topic, &value, "Refund")?;
            let key = order_key(shop, need("order_id")?);
            let refund: Refund =
                serde_json::from_value(value).map_err(|e| serde_reason(name, &e))?;
            if refund.id == 0 {
                return Err(unusable(name, "no `id`"));
            }
            Plan::apply(Change::Refund { key, refund })
        }
        Topic::FulfillmentOrdersPlacedOnHold
        | Topic::FulfillmentOrdersHoldReleased
        | Topic::FulfillmentOrdersCancelled
        | Topic::FulfillmentOrdersScheduledReady
        | Topic::FulfillmentOrdersRescheduled
        | Topic::FulfillmentOrdersRequestAccepted
        | Topic::FulfillmentOrdersRequestRejected => fulfillment_order(store, d, topic, &value)?,
        Topic::FulfillmentOrdersSplit
        | Topic::FulfillmentOrdersMerged
        | Topic::FulfillmentOrdersMoved => {
            // The body names fulfillment orders, not their order, nor the
            // lines each holds now: read the order again.
            let ids = shape_change_ids(&value);
            if ids.is_empty() {
                return Err(unusable(name, "no fulfillment order named"));
            }
            match ids
                .iter()
                .find_map(|id| own_order(store, shop, Part::FulfillmentOrder, *id))
            {
                Some(key) => Plan::Refetch(key_id(&key)),
                None => Plan::Ignore,
            }
        }
        Topic::ReturnsUpdate => {
            expect_resource(topic, &value, "Return")?;
            let id = id_of(&value, "admin_graphql_api_id")
                .or_else(|| id_of(&value, "id"))
                .ok_or_else(|| unusable(name, "no return id"))?;
            match own_order(store, shop, Part::Return, id) {
                Some(key) => Plan::Refetch(key_id(&key)),
                None => Plan::Ignore,
            }
        }
        Topic::ReturnsRequest
        | Topic::ReturnsApprove
        | Topic::ReturnsDecline
        | Topic::ReturnsCancel
        | Topic::ReturnsClose
        | Topic::ReturnsReopen => {
            expect_resource(topic, &value, "Return")?;
            let (order_id, mut ret) = parse_return(name, &value).map_err(|e| unusable(name, e))?;
            ret.updated_at = ret.updated_at.or(d.triggered_at);
            let key = match order_id {
                Some(id) => order_key(shop, id),
                None => match own_order(store, shop, Part::Return, ret.id) {
                    Some(key) => key,
                    None => return Ok(Plan::Ignore),
                },
            };
            Plan::apply(Change::Return { key, ret })
        }
        Topic::ReverseDeliveriesAttachDeliverable => {
            // A return's parcel got its tracking: read the order again
            // (the body names the return, not the order).
            expect_resource(topic, &value, "ReverseDelivery")?;
            let return_id = value
                .get("return")
                .and_then(|r| id_of(r, "id").or_else(|| id_of(r, "admin_graphql_api_id")))
                .ok_or_else(|| unusable(name, "no `return`"))?;
            match own_order(store, shop, Part::Return, return_id) {
                Some(key) => Plan::Refetch(key_id(&key)),
                None => Plan::Ignore,
            }
        }
        Topic::CustomersRedact => {
            expect_shop_domain(topic, &value, shop)?;
            let list = value
                .get("orders_to_redact")
                .and_then(Value::as_array)
                .ok_or_else(|| unusable(name, "no `orders_to_redact`"))?;
            let ids: Vec<u64> = list.iter().filter_map(Value::as_u64).collect();
            if ids.len() != list.len() {
                return Err(unusable(
                    name,
                    "`orders_to_redact` is not a list of order ids",
                ));
            }
            Plan::Delete(ids.into_iter().map(|id| order_key(shop, id)).collect())
        }
        Topic::ShopRedact => {
            // `{"shop_id": N, "shop_domain": "..."}` and nothing else.
            expect_shop_domain(topic, &value, shop)?;
            let extra = value
                .as_object()
                .is_some_and(|m| m.keys().any(|k| k != "shop_id" && k != "shop_domain"));
            if extra || value.get("shop_id").and_then(Value::as_u64).is_none() {
                return Err(unusable(name, "the body is not a shop's erasure request"));
            }
            Plan::DeleteShop
        }
        Topic::CustomersDataRequest => {
            expect_shop_domain(topic, &value, shop)?;
            Plan::Ignore
        }
    };
    Ok(plan)
}

/// The fulfillment orders a shape change names (`fulfillment_orders/split`,
/// `/merged`, `/moved`): every `*fulfillment_order` object's id and every
/// id in `fulfillment_orders` / `merge_intents`.
fn shape_change_ids(v: &Value) -> Vec<u64> {
    let mut ids = Vec::new();
    if let Some(m) = v.as_object() {
        for (k, x) in m {
            if k.ends_with("fulfillment_order")
                && let Some(id) = id_of(x, "id")
            {
                ids.push(id);
            }
            if (k == "fulfillment_orders" || k == "merge_intents")
                && let Some(list) = x.as_array()
            {
                for item in list {
                    if let Some(id) = id_of(item, "id")
                        .or_else(|| item.get("fulfillment_order").and_then(|f| id_of(f, "id")))
                        .or_else(|| id_of(item, "fulfillment_order_id"))
                    {
                        ids.push(id);
                    }
                }
            }
        }
    }
    ids
}

/// The order id of a store key (`shop/123`).
fn key_id(key: &str) -> u64 {
    key.rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[derive(Deserialize)]
struct Hold {
    reason: crate::order::HoldReason,
    #[serde(default)]
    reason_notes: Option<String>,
}

/// `fulfillment_orders/*`: `{"fulfillment_order": {"id", "status",
/// "fulfillment_holds"?}, "created_fulfillment_hold"?,
/// "remaining_fulfillment_order"?}`. The order is found by the fulfillment
/// order's id; one we do not know yet comes with the next sync. A partial
/// hold splits the fulfillment order (the rest goes on in
/// `remaining_fulfillment_order`), so the order is read again after the
/// hold is applied.
fn fulfillment_order(
    store: &Store,
    d: &Delivery<'_>,
    topic: Topic,
    value: &Value,
) -> Result<Plan, Unusable> {
    let name = topic.as_str();
    let fo = value
        .get("fulfillment_order")
        .ok_or_else(|| unusable(name, "no `fulfillment_order`"))?;
    expect_resource(topic, fo, "FulfillmentOrder")?;
    let id = id_of(fo, "id").ok_or_else(|| unusable(name, "no fulfillment order id"))?;
    let by_topic = match topic {
        Topic::FulfillmentOrdersPlacedOnHold => Some(FulfillmentOrderStatus::OnHold),
        Topic::FulfillmentOrdersHoldReleased => Some(FulfillmentOrderStatus::Open),
        Topic::FulfillmentOrdersCancelled => Some(FulfillmentOrderStatus::Cancelled),
        _ => None,
    };
    let status = fo
        .get("status")
        .and_then(Value::as_str)
        .map(FulfillmentOrderStatus::parse)
        .or(by_topic)
        .ok_or_else(|| unusable(name, "no fulfillment order status"))?;
    let holds = match topic {
        Topic::FulfillmentOrdersHoldReleased => Some(Vec::new()),
        Topic::FulfillmentOrdersPlacedOnHold => {
            // The created hold is always there (2024-10 and later); the
            // list may already be empty again by the time it is sent.
            let listed: Vec<Hold> = fo
                .get("fulfillment_holds")
                .and_then(|h| serde_json::from_value(h.clone()).ok())
                .unwrap_or_default();
            let created: Option<Hold> = value
                .get("created_fulfillment_hold")
                .and_then(|h| serde_json::from_value(h.clone()).ok());
            let mut all: Vec<FulfillmentHold> = listed
                .into_iter()
                .chain(created)
                .map(|h| FulfillmentHold {
                    reason: h.reason,
                    reason_notes: h.reason_notes,
                })
                .collect();
            all.dedup();
            Some(all)
        }
        _ => None,
    };
    let Some(key) = own_order(store, d.shop, Part::FulfillmentOrder, id) else {
        return Ok(Plan::Ignore);
    };
    let request_status = fo
        .get("request_status")
        .and_then(Value::as_str)
        .map(RequestStatus::parse)
        .or(match topic {
            Topic::FulfillmentOrdersRequestAccepted => Some(RequestStatus::Accepted),
            Topic::FulfillmentOrdersRequestRejected => Some(RequestStatus::Rejected),
            _ => None,
        });
    let change = Change::FulfillmentOrder {
        key: key.clone(),
        id,
        status,
        holds,
        at: d.triggered_at.unwrap_or_else(Utc::now),
        request_status,
    };
    let split = value
        .get("remaining_fulfillment_order")
        .is_some_and(|r| !r.is_null());
    Ok(if split {
        Plan::ApplyAndRefetch(Box::new(change), key_id(&key))
    } else {
        Plan::apply(change)
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

/// A `returns/*` body: `{id | admin_graphql_api_id, order: {id}, status,
/// name, return_line_items}` (ids as numbers or gids). The status follows
/// the topic; the order may be missing (then it is looked up). Line items
/// carry ids only; the merge gives them their titles.
pub fn parse_return(topic: &str, v: &Value) -> Result<(Option<u64>, Return), &'static str> {
    let id = id_of(v, "id")
        .or_else(|| id_of(v, "admin_graphql_api_id"))
        .ok_or("no return id")?;
    let order_id = v
        .get("order")
        .and_then(|o| id_of(o, "id").or_else(|| id_of(o, "admin_graphql_api_id")))
        .or_else(|| id_of(v, "order_id"));
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
                        line_item_id: line
                            .and_then(|l| {
                                id_of(l, "id").or_else(|| id_of(l, "admin_graphql_api_id"))
                            })
                            .unwrap_or(0),
                        title: line
                            .and_then(|l| l.get("title").or_else(|| l.get("name")))
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                        quantity: li
                            .get("quantity")
                            .and_then(Value::as_u64)
                            .and_then(|q| u32::try_from(q).ok())
                            .unwrap_or(0),
                        return_reason: li
                            .get("return_reason")
                            .and_then(Value::as_str)
                            .map(|s| s.to_ascii_uppercase().replace(['-', ' '], "_")),
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
    let closed_at = time("closed_at");
    Ok((
        order_id,
        Return {
            id,
            name: v.get("name").and_then(Value::as_str).map(str::to_string),
            status,
            created_at: time("created_at"),
            closed_at,
            line_items,
            tracking,
            updated_at: time("updated_at").or(closed_at),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;
    use serde_json::json;

    fn delivery<'a>(topic: &'a str, body: &'a [u8]) -> Delivery<'a> {
        Delivery {
            shop: "s.example",
            topic,
            body,
            triggered_at: Some(Utc::now()),
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
        (dir, store)
    }

    #[test]
    fn an_order_edit_asks_for_the_order_again() {
        let (_d, store) = store();
        let body = json!({"order_edit": {"id": 78912328, "order_id": 450789469, "committed_at": "2026-11-20T10:00:00Z",
            "line_items": {"additions": [{"id": 466157049, "delta": 1}], "removals": []}}})
        .to_string();
        assert_eq!(
            plan(&store, &delivery("orders/edited", body.as_bytes())),
            Ok(Plan::Refetch(450789469))
        );
    }

    #[tokio::test]
    async fn holds_on_fulfillment_orders_find_their_order_by_the_part() {
        let (_d, store) = store();
        let order: crate::order::Order = serde_json::from_value(json!({
            "shop": "s.example", "id": 5, "name": "#1005", "updated_at": "2026-11-01T00:00:00Z",
            "line_items": [{"id": 50, "title": "Mug", "quantity": 1}],
            "fulfillment_orders": [{"id": 70, "status": "OPEN", "updated_at": "2026-11-01T00:00:00Z",
                                    "line_items": [{"line_item_id": 50, "quantity": 1}]}]
        }))
        .expect("order");
        store.upsert(vec![order]).await.expect("upsert");
        let hold = json!({
            "fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/70", "status": "on_hold", "fulfillment_holds": []},
            "created_fulfillment_hold": {"id": "gid://shopify/FulfillmentHold/1", "reason": "incorrect_address", "reason_notes": "Check the zip"}
        })
        .to_string();
        let mut d = delivery("fulfillment_orders/placed_on_hold", hold.as_bytes());
        d.triggered_at = Some(Utc::now());
        let Ok(Plan::Apply(change)) = plan(&store, &d) else {
            panic!("a change");
        };
        store.apply(vec![*change]).await.expect("apply");
        let o = store.get("s.example/5").expect("get").expect("order");
        assert_eq!(
            o.fulfillment_orders[0].status,
            FulfillmentOrderStatus::OnHold
        );
        assert_eq!(
            o.fulfillment_orders[0].fulfillment_holds[0].reason,
            crate::order::HoldReason::IncorrectAddress
        );
        assert_eq!(
            o.updated_at,
            Some(
                DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
                    .expect("t")
                    .to_utc()
            )
        );
        let release = json!({"fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/70", "status": "open"}}).to_string();
        let d = delivery("fulfillment_orders/hold_released", release.as_bytes());
        let Ok(Plan::Apply(change)) = plan(&store, &d) else {
            panic!("a change");
        };
        store.apply(vec![*change]).await.expect("apply");
        let o = store.get("s.example/5").expect("get").expect("order");
        assert_eq!(o.fulfillment_orders[0].status, FulfillmentOrderStatus::Open);
        assert!(o.fulfillment_orders[0].fulfillment_holds.is_empty());
        // A fulfillment order we do not know comes with the next sync.
        let unknown = json!({"fulfillment_order": {"id": 999, "status": "open"}}).to_string();
        assert_eq!(
            plan(
                &store,
                &delivery("fulfillment_orders/hold_released", unknown.as_bytes())
            ),
            Ok(Plan::Ignore)
        );
    }

    #[test]
    fn returns_parse_from_ids_or_gids_and_follow_the_topic() {
        let v = json!({
            "admin_graphql_api_id": "gid://shopify/Return/77",
            "order": {"admin_graphql_api_id": "gid://shopify/Order/1"},
            "name": "#1-R1",
            "return_line_items": [{"quantity": 1, "return_reason": "size_too_small",
                                    "fulfillment_line_item": {"line_item": {"admin_graphql_api_id": "gid://shopify/LineItem/3"}}}]
        });
        let (order_id, r) = parse_return("returns/approve", &v).expect("return");
        assert_eq!(
            (order_id, r.id, r.status.clone()),
            (Some(1), 77, ReturnState::Open)
        );
        assert_eq!(r.line_items[0].line_item_id, 3);
        assert_eq!(r.line_items[0].title, "", "titles come from the order");
        assert_eq!(
            r.line_items[0].return_reason.as_deref(),
            Some("SIZE_TOO_SMALL")
        );
        assert!(parse_return("returns/request", &json!({"id": 1})).is_ok());
        assert!(parse_return("returns/update", &json!({"id": 1})).is_err());
    }

    #[test]
    fn reasons_never_quote_the_body() {
        let (_d, store) = store();
        let body = br##"{"id": 1, "email": ["anna@example.se"], "name": "#1"}"##;
        let e = plan(&store, &delivery("orders/updated", body)).expect_err("bad email type");
        assert!(!e.0.contains("anna"), "{e}");
        let e = plan(&store, &delivery("orders/updated", b"{not json")).expect_err("syntax");
        assert!(e.0.contains("not valid JSON"), "{e}");
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
                        "order" => super::rest::order(item)
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

        let order =
            |n: &str| -> Order { super::rest::order(sample(n)["order"].clone()).expect("order") };
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
        assert_eq!(o.shipping_method.as_deref(), Some("Free Shipping"));
        assert_eq!(
            o.fulfillments[0].display_status(),
            FulfillmentDisplayStatus::Failure
        );
        assert_eq!(
            o.refunded_amount(),
            Some(rust_decimal::Decimal::new(20900, 2))
        );
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
            Just(serde_json::Value::from("79228162514264337593543950335")),
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
                        Just("order_edit".to_string()),
                        Just("fulfillment_order".to_string()),
                        Just("line_items".to_string()),
                        Just("updated_at".to_string()),
                        Just("total_price_set".to_string()),
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
            topic in proptest::sample::select(Topic::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>()),
            body in prop_oneof![
                arb_json().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
                proptest::collection::vec(any::<u8>(), 0..200),
            ],
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
            let d = Delivery { shop: "s.example", topic, body: &body, triggered_at: None };
            if let Ok(Plan::Apply(change) | Plan::NewOrder(change, _) | Plan::ApplyAndRefetch(change, _)) = plan(&store, &d) {
                let result = rt.block_on(store.apply(vec![*change]));
                prop_assert!(result.is_ok(), "{result:?}");
            }
        }
    }
}
