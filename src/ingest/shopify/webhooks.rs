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
    Fulfillment, FulfillmentHold, FulfillmentOrderStatus, Refund, Return, ReturnItem, ReturnState,
    ReturnTracking, TrackingEvent, order_key,
};
use crate::store::{Part, Store};

/// The topics this site acts on (and subscribes to, see the README).
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
    "fulfillment_orders/placed_on_hold",
    "fulfillment_orders/hold_released",
    "fulfillment_orders/cancelled",
    "fulfillment_orders/scheduled_fulfillment_order_ready",
    "fulfillment_orders/rescheduled",
    "fulfillment_orders/fulfillment_request_accepted",
    "fulfillment_orders/fulfillment_request_rejected",
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

/// What a webhook asks of the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Apply(Box<Change>),
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

/// Works out what a webhook changes. Needs the store only to find the
/// order of a part named alone.
pub fn plan(store: &Store, d: &Delivery<'_>) -> Result<Plan, Unusable> {
    let topic = d.topic;
    let value: Value = serde_json::from_slice(d.body).map_err(|e| serde_reason(topic, &e))?;
    if !value.is_object() {
        return Err(unusable(topic, "the body is not a JSON object"));
    }
    let shop = d.shop;
    let need =
        |field: &str| id_of(&value, field).ok_or_else(|| unusable(topic, &format!("no `{field}`")));
    let plan = match topic {
        "orders/edited" => {
            let edit = value
                .get("order_edit")
                .ok_or_else(|| unusable(topic, "no `order_edit`"))?;
            let order_id = id_of(edit, "order_id")
                .ok_or_else(|| unusable(topic, "no `order_edit.order_id`"))?;
            Plan::Refetch(order_id)
        }
        "orders/delete" => Plan::Delete(vec![order_key(shop, need("id")?)]),
        t if t.starts_with("orders/") => {
            let mut o = rest::order(value).map_err(|e| serde_reason(topic, &e))?;
            o.shop = shop.to_string();
            let o = o
                .validated(shop)
                .map_err(|e| unusable(topic, &e.to_string()))?;
            Plan::apply(Change::Rest(o))
        }
        "fulfillments/create" | "fulfillments/update" => {
            let key = order_key(shop, need("order_id")?);
            let f: Fulfillment =
                serde_json::from_value(value).map_err(|e| serde_reason(topic, &e))?;
            if f.id == 0 {
                return Err(unusable(topic, "no `id`"));
            }
            Plan::apply(Change::Fulfillment {
                key,
                fulfillment: f,
            })
        }
        "fulfillment_events/create" => {
            let key = order_key(shop, need("order_id")?);
            let fulfillment_id = need("fulfillment_id")?;
            let event: TrackingEvent =
                serde_json::from_value(value).map_err(|e| serde_reason(topic, &e))?;
            Plan::apply(Change::Event {
                key,
                fulfillment_id,
                event,
            })
        }
        "fulfillment_events/delete" => Plan::apply(Change::EventDeleted {
            key: order_key(shop, need("order_id")?),
            event_id: need("id")?,
        }),
        "refunds/create" => {
            let key = order_key(shop, need("order_id")?);
            let refund: Refund =
                serde_json::from_value(value).map_err(|e| serde_reason(topic, &e))?;
            if refund.id == 0 {
                return Err(unusable(topic, "no `id`"));
            }
            Plan::apply(Change::Refund { key, refund })
        }
        t if t.starts_with("fulfillment_orders/") => fulfillment_order(store, d, &value)?,
        "returns/update" => {
            let id = id_of(&value, "admin_graphql_api_id")
                .or_else(|| id_of(&value, "id"))
                .ok_or_else(|| unusable(topic, "no return id"))?;
            match store.find_by_part(Part::Return, id) {
                Some(key) => Plan::Refetch(key_id(&key)),
                None => Plan::Ignore,
            }
        }
        t if t.starts_with("returns/") => {
            let (order_id, mut ret) = parse_return(t, &value).map_err(|e| unusable(t, e))?;
            ret.updated_at = ret.updated_at.or(d.triggered_at);
            let key = match order_id {
                Some(id) => order_key(shop, id),
                None => match store.find_by_part(Part::Return, ret.id) {
                    Some(key) => key,
                    None => return Ok(Plan::Ignore),
                },
            };
            Plan::apply(Change::Return { key, ret })
        }
        "customers/redact" => {
            let ids: Vec<u64> = value
                .get("orders_to_redact")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            Plan::Delete(ids.into_iter().map(|id| order_key(shop, id)).collect())
        }
        "shop/redact" => Plan::DeleteShop,
        _ => Plan::Ignore,
    };
    Ok(plan)
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
/// "fulfillment_holds"?}, "created_fulfillment_hold"?}`. The order is
/// found by the fulfillment order's id; one we do not know yet comes with
/// the next sync.
fn fulfillment_order(store: &Store, d: &Delivery<'_>, value: &Value) -> Result<Plan, Unusable> {
    let topic = d.topic;
    let fo = value
        .get("fulfillment_order")
        .ok_or_else(|| unusable(topic, "no `fulfillment_order`"))?;
    let id = id_of(fo, "id").ok_or_else(|| unusable(topic, "no fulfillment order id"))?;
    let by_topic = match topic {
        "fulfillment_orders/placed_on_hold" => Some(FulfillmentOrderStatus::OnHold),
        "fulfillment_orders/hold_released" => Some(FulfillmentOrderStatus::Open),
        "fulfillment_orders/cancelled" => Some(FulfillmentOrderStatus::Cancelled),
        _ => None,
    };
    let status = fo
        .get("status")
        .and_then(Value::as_str)
        .map(FulfillmentOrderStatus::parse)
        .or(by_topic)
        .ok_or_else(|| unusable(topic, "no fulfillment order status"))?;
    let holds = match topic {
        "fulfillment_orders/hold_released" => Some(Vec::new()),
        "fulfillment_orders/placed_on_hold" => {
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
    let Some(key) = store.find_by_part(Part::FulfillmentOrder, id) else {
        return Ok(Plan::Ignore);
    };
    Ok(Plan::apply(Change::FulfillmentOrder {
        key,
        id,
        status,
        holds,
        at: d.triggered_at.unwrap_or_else(Utc::now),
    }))
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
            topic in proptest::sample::select(TOPICS.to_vec()),
            body in prop_oneof![
                arb_json().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
                proptest::collection::vec(any::<u8>(), 0..200),
            ],
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
            let d = Delivery { shop: "s.example", topic, body: &body, triggered_at: None };
            if let Ok(Plan::Apply(change)) = plan(&store, &d) {
                let result = rt.block_on(store.apply(vec![*change]));
                prop_assert!(result.is_ok(), "{result:?}");
            }
        }
    }
}
