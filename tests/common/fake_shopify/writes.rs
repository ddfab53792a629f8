//! The fake's write mutations, with the rules shopify.dev documents for
//! each (scopes are checked before these run, from the schema's `@scope`;
//! cost is the flat 10 points of a mutation):
//!
//! - `tagsAdd` / `tagsRemove`: the resource must exist (a missing one is
//!   a `userErrors` entry on `id`); adding a tag twice keeps one.
//! - `metafieldsSet`: at most 25 at once, all or nothing; the owner must
//!   exist; namespace 3-255 and key 2-64 characters of letters, digits,
//!   `-` and `_` (`TOO_SHORT`, `TOO_LONG`, `INVALID`); a known type
//!   (`INVALID_TYPE`); a `single_line_text_field` value has no line break
//!   (`INVALID_VALUE`) and is not blank (`BLANK`).
//! - `metafieldsDelete`: deletes what exists; a missing one is `null` in
//!   `deletedMetafields`, not an error.
//! - `fulfillmentCreate`: every fulfillment order must exist and belong to
//!   one order; its status must be OPEN or IN_PROGRESS ("has an
//!   unfulfillable status"); each line's quantity 1..=remaining; a
//!   tracking URL must be an http(s) URL. The fulfillment order closes when
//!   nothing remains, and the order's fulfillment status follows.
//! - `fulfillmentTrackingInfoUpdate`, `fulfillmentEventCreate`: the
//!   fulfillment must exist and not be cancelled; an event's status moves
//!   the shipment's display status.
//! - `fulfillmentOrderAcceptFulfillmentRequest` / `Reject...`: only a
//!   fulfillment order whose request status is SUBMITTED (accepted: IN
//!   PROGRESS). `...AcceptCancellationRequest` / `Reject...`: only one
//!   whose request status is CANCELLATION_REQUESTED; accepted, it is
//!   cancelled, and with it the order the merchant was cancelling.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

fn user_error(field: &[&str], message: impl Into<String>) -> Value {
    json!({"field": field, "message": message.into()})
}

fn gid_type(id: &str) -> Option<&str> {
    id.strip_prefix("gid://shopify/")?.split('/').next()
}

fn legacy(id: &str) -> u64 {
    id.rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Where a fulfillment order (or a shipment) is: order index, index in the
/// order's list.
fn locate(orders: &[Value], list: &str, id: &str) -> Option<(usize, usize)> {
    orders.iter().enumerate().find_map(|(i, o)| {
        o[list]
            .as_array()?
            .iter()
            .position(|x| x["id"] == json!(id))
            .map(|j| (i, j))
    })
}

fn order_index(orders: &[Value], id: &str) -> Option<usize> {
    orders.iter().position(|o| o["id"] == json!(id))
}

fn ok_url(u: &str) -> bool {
    reqwest::Url::parse(u)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// Runs the write mutation `name` with its arguments; `None` for a name
/// that is not one of these.
pub fn apply(
    name: &str,
    arg: &dyn Fn(&str) -> Value,
    orders: &mut [Value],
    now: DateTime<Utc>,
) -> Option<Value> {
    let stamp = now.to_rfc3339();
    Some(match name {
        "tagsAdd" | "tagsRemove" => {
            let id = arg("id").as_str().unwrap_or("").to_string();
            let tags: Vec<String> = match arg("tags") {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect(),
                Value::String(s) => s.split(',').map(|t| t.trim().to_string()).collect(),
                _ => Vec::new(),
            };
            let Some(i) = order_index(orders, &id).filter(|_| gid_type(&id) == Some("Order"))
            else {
                return Some(
                    json!({"node": null, "userErrors": [user_error(&["id"], "Order does not exist")]}),
                );
            };
            let mut list: Vec<String> = orders[i]["tags"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            for t in tags.iter().filter(|t| !t.is_empty()) {
                if name == "tagsAdd" {
                    if !list.contains(t) {
                        list.push(t.clone());
                    }
                } else {
                    list.retain(|x| x != t);
                }
            }
            orders[i]["tags"] = json!(list);
            orders[i]["updatedAt"] = json!(stamp);
            json!({"node": {"id": id}, "userErrors": []})
        }
        "metafieldsSet" => {
            let inputs = arg("metafields").as_array().cloned().unwrap_or_default();
            let err = |i: usize, field: &str, message: &str, code: &str| json!({"metafields": null, "userErrors": [{"field": ["metafields", i.to_string(), field], "message": message, "code": code}]});
            if inputs.len() > 25 {
                return Some(
                    json!({"metafields": null, "userErrors": [{"field": ["metafields"], "message": "Exceeded the maximum metafields input limit of 25.", "code": "LESS_THAN_OR_EQUAL_TO"}]}),
                );
            }
            let name_ok = |s: &str| {
                s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            };
            for (n, m) in inputs.iter().enumerate() {
                let owner = m["ownerId"].as_str().unwrap_or("");
                if order_index(orders, owner).is_none() {
                    return Some(err(n, "ownerId", "Owner does not exist.", "INVALID"));
                }
                let ns = m["namespace"].as_str().unwrap_or("");
                let key = m["key"].as_str().unwrap_or("");
                if ns.chars().count() < 3 {
                    return Some(err(
                        n,
                        "namespace",
                        "Namespace is too short (minimum is 3 characters)",
                        "TOO_SHORT",
                    ));
                }
                if ns.chars().count() > 255 {
                    return Some(err(
                        n,
                        "namespace",
                        "Namespace is too long (maximum is 255 characters)",
                        "TOO_LONG",
                    ));
                }
                if key.chars().count() < 2 {
                    return Some(err(
                        n,
                        "key",
                        "Key is too short (minimum is 2 characters)",
                        "TOO_SHORT",
                    ));
                }
                if key.chars().count() > 64 {
                    return Some(err(
                        n,
                        "key",
                        "Key is too long (maximum is 64 characters)",
                        "TOO_LONG",
                    ));
                }
                if !name_ok(ns) || !name_ok(key) {
                    return Some(err(
                        n,
                        "key",
                        "Key contains one or more invalid characters.",
                        "INVALID",
                    ));
                }
                let ty = m["type"].as_str().unwrap_or("");
                if !matches!(
                    ty,
                    "single_line_text_field" | "multi_line_text_field" | "json"
                ) {
                    return Some(err(n, "type", "Type is invalid.", "INVALID_TYPE"));
                }
                let value = m["value"].as_str().unwrap_or("");
                if value.trim().is_empty() {
                    return Some(err(n, "value", "Value can't be blank.", "BLANK"));
                }
                if ty == "single_line_text_field" && value.contains(['\n', '\r']) {
                    return Some(err(
                        n,
                        "value",
                        "Value must be a single line text string.",
                        "INVALID_VALUE",
                    ));
                }
            }
            let mut out = Vec::new();
            for m in inputs {
                let i = order_index(orders, m["ownerId"].as_str().unwrap_or("")).unwrap_or(0);
                let mut list = orders[i]["metafields"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                list.retain(|x| !(x["namespace"] == m["namespace"] && x["key"] == m["key"]));
                let stored = json!({"id": format!("gid://shopify/Metafield/{}", legacy(m["ownerId"].as_str().unwrap_or("")) * 10 + list.len() as u64),
                    "namespace": m["namespace"], "key": m["key"], "type": m["type"], "value": m["value"]});
                list.push(stored.clone());
                orders[i]["metafields"] = Value::Array(list);
                out.push(stored);
            }
            json!({"metafields": out, "userErrors": []})
        }
        "metafieldsDelete" => {
            let inputs = arg("metafields").as_array().cloned().unwrap_or_default();
            let mut deleted = Vec::new();
            for m in inputs {
                let Some(i) = order_index(orders, m["ownerId"].as_str().unwrap_or("")) else {
                    deleted.push(Value::Null);
                    continue;
                };
                let mut list = orders[i]["metafields"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let before = list.len();
                list.retain(|x| !(x["namespace"] == m["namespace"] && x["key"] == m["key"]));
                deleted.push(if list.len() < before {
                    m.clone()
                } else {
                    Value::Null
                });
                orders[i]["metafields"] = Value::Array(list);
            }
            json!({"deletedMetafields": deleted, "userErrors": []})
        }
        "fulfillmentCreate" => fulfillment_create(&arg("fulfillment"), orders, &stamp),
        "fulfillmentTrackingInfoUpdate" => {
            let id = arg("fulfillmentId").as_str().unwrap_or("").to_string();
            let Some((i, j)) = locate(orders, "fulfillments", &id) else {
                return Some(
                    json!({"fulfillment": null, "userErrors": [user_error(&["fulfillmentId"], "Fulfillment does not exist.")]}),
                );
            };
            if orders[i]["fulfillments"][j]["status"] == "CANCELLED" {
                return Some(
                    json!({"fulfillment": null, "userErrors": [user_error(&["fulfillmentId"], "Fulfillment is cancelled.")]}),
                );
            }
            let t = arg("trackingInfoInput");
            if let Some(u) = t["url"].as_str()
                && !ok_url(u)
            {
                return Some(
                    json!({"fulfillment": null, "userErrors": [user_error(&["trackingInfoInput", "url"], "Url is invalid.")]}),
                );
            }
            let f = &mut orders[i]["fulfillments"][j];
            f["trackingInfo"] =
                json!([{"company": t["company"], "number": t["number"], "url": t["url"]}]);
            f["updatedAt"] = json!(stamp);
            f["notifyCustomer"] = arg("notifyCustomer");
            orders[i]["updatedAt"] = json!(stamp);
            json!({"fulfillment": orders[i]["fulfillments"][j].clone(), "userErrors": []})
        }
        "fulfillmentEventCreate" => {
            let e = arg("fulfillmentEvent");
            let id = e["fulfillmentId"].as_str().unwrap_or("").to_string();
            let Some((i, j)) = locate(orders, "fulfillments", &id) else {
                return Some(
                    json!({"fulfillmentEvent": null, "userErrors": [user_error(&["fulfillmentEvent", "fulfillmentId"], "Fulfillment does not exist.")]}),
                );
            };
            if orders[i]["fulfillments"][j]["status"] == "CANCELLED" {
                return Some(
                    json!({"fulfillmentEvent": null, "userErrors": [user_error(&["fulfillmentEvent", "fulfillmentId"], "Fulfillment is cancelled.")]}),
                );
            }
            let f = &mut orders[i]["fulfillments"][j];
            let mut events = f["events"].as_array().cloned().unwrap_or_default();
            let event = json!({
                "id": format!("gid://shopify/FulfillmentEvent/{}", legacy(&id) * 1000 + 500 + events.len() as u64),
                "status": e["status"], "happenedAt": e["happenedAt"].as_str().map_or(json!(stamp), |h| json!(h)),
                "message": e["message"], "city": e["city"], "province": e["province"], "country": e["country"],
                "estimatedDeliveryAt": e["estimatedDeliveryAt"],
            });
            events.push(event.clone());
            f["events"] = Value::Array(events);
            f["displayStatus"] = e["status"].clone();
            if e["status"] == "DELIVERED" {
                f["deliveredAt"] = event["happenedAt"].clone();
            }
            f["updatedAt"] = json!(stamp);
            orders[i]["updatedAt"] = json!(stamp);
            json!({"fulfillmentEvent": event, "userErrors": []})
        }
        "fulfillmentOrderAcceptFulfillmentRequest" | "fulfillmentOrderRejectFulfillmentRequest" => {
            let id = arg("id").as_str().unwrap_or("").to_string();
            let Some((i, j)) = locate(orders, "fulfillmentOrders", &id) else {
                return Some(
                    json!({"fulfillmentOrder": null, "userErrors": [user_error(&["id"], "Fulfillment order does not exist.")]}),
                );
            };
            let fo = &mut orders[i]["fulfillmentOrders"][j];
            let request = fo["requestStatus"]
                .as_str()
                .unwrap_or("UNSUBMITTED")
                .to_string();
            let accept = name == "fulfillmentOrderAcceptFulfillmentRequest";
            if request != "SUBMITTED" {
                let verb = if accept { "accept" } else { "reject" };
                return Some(
                    json!({"fulfillmentOrder": null, "userErrors": [user_error(&["id"],
                    format!("Cannot {verb} a fulfillment request for a fulfillment order whose request status is {}.", request.to_lowercase()))]}),
                );
            }
            if accept {
                fo["requestStatus"] = json!("ACCEPTED");
                fo["status"] = json!("IN_PROGRESS");
            } else {
                fo["requestStatus"] = json!("REJECTED");
                fo["rejectionReason"] = arg("reason");
            }
            fo["updatedAt"] = json!(stamp);
            let out = fo.clone();
            orders[i]["updatedAt"] = json!(stamp);
            if !accept {
                orders[i]["displayFulfillmentStatus"] = json!("REQUEST_DECLINED");
            }
            json!({"fulfillmentOrder": out, "userErrors": []})
        }
        "fulfillmentOrderAcceptCancellationRequest"
        | "fulfillmentOrderRejectCancellationRequest" => {
            let id = arg("id").as_str().unwrap_or("").to_string();
            let Some((i, j)) = locate(orders, "fulfillmentOrders", &id) else {
                return Some(
                    json!({"fulfillmentOrder": null, "userErrors": [user_error(&["id"], "Fulfillment order does not exist.")]}),
                );
            };
            let accept = name == "fulfillmentOrderAcceptCancellationRequest";
            let fo = &mut orders[i]["fulfillmentOrders"][j];
            let request = fo["requestStatus"]
                .as_str()
                .unwrap_or("UNSUBMITTED")
                .to_string();
            if request != "CANCELLATION_REQUESTED" {
                let verb = if accept { "accept" } else { "reject" };
                return Some(
                    json!({"fulfillmentOrder": null, "userErrors": [user_error(&["id"],
                    format!("Cannot {verb} a cancellation request for a fulfillment order whose request status is {}.", request.to_lowercase()))]}),
                );
            }
            let cancels_order = fo["cancelsOrder"] == json!(true);
            if accept {
                fo["requestStatus"] = json!("CANCELLATION_ACCEPTED");
                fo["status"] = json!("CANCELLED");
            } else {
                fo["requestStatus"] = json!("CANCELLATION_REJECTED");
            }
            fo["updatedAt"] = json!(stamp);
            let out = fo.clone();
            orders[i]["updatedAt"] = json!(stamp);
            if accept && cancels_order {
                // The merchant's order cancellation goes through once the
                // service has let go of the work.
                orders[i]["cancelledAt"] = json!(stamp);
                orders[i]["cancelReason"] = json!("CUSTOMER");
                orders[i]["closedAt"] = json!(stamp);
            }
            json!({"fulfillmentOrder": out, "userErrors": []})
        }
        _ => return None,
    })
}

/// What one fulfillment order gives: order index, its index in the
/// order, and (line index, quantity) pairs.
type Pick = (usize, usize, Vec<(usize, u64)>);

fn fulfillment_create(input: &Value, orders: &mut [Value], stamp: &str) -> Value {
    let fail = |field: &[&str], m: String| json!({"fulfillment": null, "userErrors": [user_error(field, m)]});
    let groups = input["lineItemsByFulfillmentOrder"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if groups.is_empty() {
        return fail(
            &["fulfillment", "lineItemsByFulfillmentOrder"],
            "Line items by fulfillment order can't be blank.".into(),
        );
    }
    if let Some(u) = input["trackingInfo"]["url"].as_str()
        && !ok_url(u)
    {
        return fail(
            &["fulfillment", "trackingInfo", "url"],
            "Url is invalid.".into(),
        );
    }
    // Check everything first: all or nothing.
    let mut plan: Vec<Pick> = Vec::new();
    let mut order_of: Option<usize> = None;
    for g in &groups {
        let fo_id = g["fulfillmentOrderId"].as_str().unwrap_or("");
        let Some((i, j)) = locate(orders, "fulfillmentOrders", fo_id) else {
            return fail(
                &["fulfillment"],
                format!("Fulfillment order {} does not exist.", legacy(fo_id)),
            );
        };
        if order_of.is_some_and(|o| o != i) {
            return fail(
                &["fulfillment"],
                "All fulfillment orders must belong to the same order.".into(),
            );
        }
        order_of = Some(i);
        let fo = &orders[i]["fulfillmentOrders"][j];
        let status = fo["status"].as_str().unwrap_or("");
        if !matches!(status, "OPEN" | "IN_PROGRESS") {
            return fail(
                &["fulfillment"],
                format!(
                    "Fulfillment order {} has an unfulfillable status= {}.",
                    legacy(fo_id),
                    status.to_lowercase()
                ),
            );
        }
        let lines = fo["lineItems"].as_array().cloned().unwrap_or_default();
        let mut picks = Vec::new();
        match g["fulfillmentOrderLineItems"].as_array() {
            // No lines given: every line, all that remains.
            None => {
                for (k, l) in lines.iter().enumerate() {
                    let left = l["remainingQuantity"].as_u64().unwrap_or(0);
                    if left > 0 {
                        picks.push((k, left));
                    }
                }
            }
            Some(asked) => {
                for a in asked {
                    let lid = a["id"].as_str().unwrap_or("");
                    let Some(k) = lines.iter().position(|l| l["id"] == json!(lid)) else {
                        return fail(
                            &["fulfillment"],
                            format!(
                                "Fulfillment order line item {} does not exist.",
                                legacy(lid)
                            ),
                        );
                    };
                    let q = a["quantity"].as_i64().unwrap_or(0);
                    let left = lines[k]["remainingQuantity"].as_i64().unwrap_or(0);
                    if q < 1 || q > left {
                        return fail(
                            &["fulfillment"],
                            "Invalid fulfillment order line item quantity requested.".into(),
                        );
                    }
                    picks.push((k, q as u64));
                }
            }
        }
        plan.push((i, j, picks));
    }
    let Some(i) = order_of else {
        return fail(&["fulfillment"], "Nothing to fulfill.".into());
    };
    let n = orders[i]["fulfillments"].as_array().map_or(0, Vec::len) as u64;
    let order_id = legacy(orders[i]["id"].as_str().unwrap_or(""));
    let mut items = Vec::new();
    let mut location = Value::Null;
    for (_, j, picks) in &plan {
        let fo = &mut orders[i]["fulfillmentOrders"][*j];
        location = fo["assignedLocation"]["location"].clone();
        if let Some(name) = fo["assignedLocation"]["name"].as_str()
            && location.is_object()
        {
            location["name"] = json!(name);
        }
        for (k, q) in picks {
            let line = &mut fo["lineItems"][*k];
            let left = line["remainingQuantity"].as_u64().unwrap_or(0);
            line["remainingQuantity"] = json!(left - q);
            items.push(json!({"id": format!("gid://shopify/FulfillmentLineItem/{}", order_id * 1000 + n * 10 + items.len() as u64),
                              "quantity": q, "lineItem": line["lineItem"].clone()}));
        }
        let open = fo["lineItems"].as_array().is_some_and(|ls| {
            ls.iter()
                .any(|l| l["remainingQuantity"].as_u64().unwrap_or(0) > 0)
        });
        fo["status"] = json!(if open { "IN_PROGRESS" } else { "CLOSED" });
        fo["updatedAt"] = json!(stamp);
    }
    let t = &input["trackingInfo"];
    let tracking = if t.is_object() && (t["number"].is_string() || t["company"].is_string()) {
        json!([{"company": t["company"], "number": t["number"], "url": t["url"]}])
    } else {
        json!([])
    };
    let name = format!("{}.{}", orders[i]["name"].as_str().unwrap_or(""), n + 1);
    let fulfillment = json!({
        "id": format!("gid://shopify/Fulfillment/{}", order_id * 100 + 50 + n),
        "name": name, "status": "SUCCESS", "displayStatus": "FULFILLED",
        "createdAt": stamp, "updatedAt": stamp, "location": location,
        "trackingInfo": tracking, "fulfillmentLineItems": items, "events": [],
        "notifyCustomer": input["notifyCustomer"].as_bool().unwrap_or(false),
    });
    let mut list = orders[i]["fulfillments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    list.push(fulfillment.clone());
    orders[i]["fulfillments"] = Value::Array(list);
    let all_closed = orders[i]["fulfillmentOrders"]
        .as_array()
        .is_some_and(|fos| {
            fos.iter()
                .all(|fo| matches!(fo["status"].as_str(), Some("CLOSED" | "CANCELLED")))
        });
    orders[i]["displayFulfillmentStatus"] = json!(if all_closed {
        "FULFILLED"
    } else {
        "PARTIALLY_FULFILLED"
    });
    orders[i]["updatedAt"] = json!(stamp);
    json!({"fulfillment": fulfillment, "userErrors": []})
}
