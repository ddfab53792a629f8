//! What an order tells the merchant's insights page: how long it took to
//! ship and to arrive, whether it came when the carrier first said, what
//! went wrong on the way, its returns, holds, problems and how long it sat
//! in each of the merchant's statuses. Pure: the store indexes these
//! [`Facts`] as fast fields, and the insights page asks the store for
//! aggregations over them instead of reading orders.
//!
//! Decisions, where Shopify's data leaves a choice:
//! - An order's carrier and its shipping times are those of its **first
//!   parcel** (the first fulfillment made). Most orders have one; an order
//!   split between carriers counts under the first. Every parcel counts in
//!   `parcels` and `parcel_problems`.
//! - "On time" compares the first parcel's delivery with the **first
//!   estimate** the carrier gave (the earliest scan carrying one, else the
//!   parcel's own estimate), to the end of that day in UTC: a later,
//!   revised estimate does not make a late parcel punctual.
//! - A parcel had a delivery problem when the carrier reported a failed
//!   or attempted delivery, a delay, or "not delivered" for it.
//! - Problems opened are the problem states the order is in or was
//!   handled in ([`super::problems::watches`] and the desk's handled
//!   records); a state that ended by itself before anyone handled it is no
//!   longer known to the order and is not counted.
//! - Time in a merchant status is counted for statuses the order left
//!   (the current one is still running).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::*;
use super::problems::watches;

/// The day number of `t`: whole days since 1970-01-01 (UTC).
pub fn day_number(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp().div_euclid(86_400)).unwrap_or(0)
}

/// The facts of one order (see the module's words). Field names are the
/// index's contract: the insights page aggregates `facts.<name>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// The day the order was placed ([`day_number`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placed_day: Option<u64>,
    /// The first parcel's carrier as the shop wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// The destination's ISO country code (none for a digital order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Days from placed to the first parcel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_ship: Option<f64>,
    /// Days from the first parcel's shipping to its delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transit: Option<f64>,
    /// 1 when the first parcel came by the carrier's first estimate, 0
    /// when later; none when it has not come or had no estimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_time: Option<u64>,
    /// Parcels sent (cancelled ones left out).
    pub parcels: u64,
    /// Parcels with a delivery problem.
    pub parcel_problems: u64,
    /// Returns asked for (declined and cancelled ones too).
    pub returns: u64,
    /// Every returned item's reason (`OTHER` when none was given).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub return_reasons: Vec<String>,
    /// Why its work is on hold now (Shopify's `FulfillmentHoldReason`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<String>,
    /// The day the earliest current hold began.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_day: Option<u64>,
    /// The days its problems began.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub opened_days: Vec<u64>,
    /// The days staff handled its problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub handled_days: Vec<u64>,
    /// Hours spent in each merchant status it left, by status id.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub status_hours: std::collections::BTreeMap<String, f64>,
}

fn days_between(a: DateTime<Utc>, b: DateTime<Utc>) -> Option<f64> {
    let secs = (b - a).num_seconds();
    (secs >= 0).then(|| secs as f64 / 86_400.0)
}

fn had_problem(f: &Fulfillment) -> bool {
    use super::vocab::{FulfillmentDisplayStatus as D, TrackingStatus as T};
    matches!(
        f.display_status(),
        D::Failure | D::AttemptedDelivery | D::NotDelivered | D::Delayed
    ) || f
        .events
        .iter()
        .any(|e| matches!(e.status, T::Failure | T::AttemptedDelivery | T::Delayed))
}

/// The first estimate a carrier gave for `f`.
fn first_estimate(f: &Fulfillment) -> Option<DateTime<Utc>> {
    f.events
        .iter()
        .filter(|e| e.estimated_delivery_at.is_some())
        .min_by_key(|e| e.happened_at)
        .and_then(|e| e.estimated_delivery_at)
        .or(f.estimated_delivery_at)
}

/// The facts of `order`.
pub fn facts(order: &Order) -> Facts {
    use super::vocab::FulfillmentDisplayStatus as D;
    // As the store's `created_at` has it, so "placed in the period" means
    // the same to every figure.
    let placed = order.created_at.or(order.processed_at);
    let sent: Vec<&Fulfillment> = order
        .fulfillments
        .iter()
        .filter(|f| f.display_status() != D::Canceled && f.display_status() != D::LabelVoided)
        .collect();
    let first = sent
        .iter()
        .filter(|f| f.created_at.is_some())
        .min_by_key(|f| f.created_at)
        .or(sent.first())
        .copied();
    let shipped = first.and_then(|f| f.created_at.or(f.in_transit_at));
    let delivered = first.and_then(|f| {
        f.delivered_at.or_else(|| {
            f.events
                .iter()
                .filter(|e| e.status == super::vocab::TrackingStatus::Delivered)
                .filter_map(|e| e.happened_at)
                .min()
        })
    });
    let on_time = match (first.and_then(first_estimate), delivered) {
        (Some(estimate), Some(came)) => {
            let end_of_day = estimate
                .date_naive()
                .and_hms_opt(23, 59, 59)
                .map(|t| t.and_utc());
            Some(u64::from(end_of_day.is_some_and(|end| came <= end)))
        }
        _ => None,
    };
    let needs_shipping = order.line_items.iter().any(|l| l.requires_shipping);
    let country = needs_shipping
        .then_some(order.shipping_address.as_ref())
        .flatten()
        .and_then(|a| a.country_code.as_deref())
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_uppercase);

    let mut holds: Vec<String> = Vec::new();
    let mut hold_since: Option<DateTime<Utc>> = None;
    for fo in &order.fulfillment_orders {
        if fo.status == super::vocab::FulfillmentOrderStatus::OnHold {
            for h in &fo.fulfillment_holds {
                holds.push(h.reason.as_str().to_string());
            }
            if fo.fulfillment_holds.is_empty() {
                holds.push("OTHER".into());
            }
            if let Some(t) = fo.updated_at.or(order.updated_at) {
                hold_since = Some(hold_since.map_or(t, |s| s.min(t)));
            }
        }
    }
    holds.sort();
    holds.dedup();

    // A state that is open and was handled before it began again is two
    // problems; the same (kind, since) seen both ways is one.
    let opened: std::collections::BTreeSet<(String, DateTime<Utc>)> = watches(order)
        .into_iter()
        .map(|(kind, since)| (kind.as_str().to_string(), since))
        .chain(order.desk.handled.iter().map(|h| (h.kind.clone(), h.since)))
        .collect();
    let mut opened_days: Vec<u64> = opened.iter().map(|(_, since)| day_number(*since)).collect();
    opened_days.sort_unstable();
    let handled_days = order
        .desk
        .handled
        .iter()
        .map(|h| day_number(h.at))
        .collect();

    let mut status_hours = std::collections::BTreeMap::new();
    for pair in order.status_history.windows(2) {
        if let Some(id) = &pair[0].status {
            let hours = (pair[1].at - pair[0].at).num_seconds().max(0) as f64 / 3600.0;
            *status_hours.entry(id.clone()).or_insert(0.0) += hours;
        }
    }

    let mut return_reasons: Vec<String> = Vec::new();
    for r in &order.returns {
        for item in &r.line_items {
            return_reasons.push(
                item.return_reason
                    .clone()
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or_else(|| "OTHER".into()),
            );
        }
    }

    Facts {
        placed_day: placed.map(day_number),
        carrier: first.map(|f| {
            f.tracking_company
                .clone()
                .filter(|c| !c.trim().is_empty())
                .unwrap_or_else(|| "Other".into())
        }),
        country,
        to_ship: placed.zip(shipped).and_then(|(p, s)| days_between(p, s)),
        transit: shipped.zip(delivered).and_then(|(s, d)| days_between(s, d)),
        on_time,
        parcels: sent.len() as u64,
        parcel_problems: sent.iter().filter(|f| had_problem(f)).count() as u64,
        returns: order.returns.len() as u64,
        return_reasons,
        holds,
        hold_day: hold_since.map(day_number),
        opened_days,
        handled_days,
        status_hours,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(extra: serde_json::Value) -> Order {
        let mut o = json!({
            "id": 1, "name": "#1001", "order_number": 1001, "email": "a@example.com",
            "created_at": "2026-11-01T10:00:00Z",
            "line_items": [{"id": 1, "title": "Mug", "quantity": 1, "requires_shipping": true}],
            "shipping_address": {"country_code": "se"},
        });
        for (k, v) in extra.as_object().expect("object") {
            o[k] = v.clone();
        }
        serde_json::from_value(o).expect("an order")
    }

    fn parcel(id: u64, status: &str, extra: serde_json::Value) -> serde_json::Value {
        let mut f = json!({
            "id": id, "status": "success", "display_status": status,
            "tracking_company": "PostNord", "created_at": "2026-11-02T10:00:00Z",
        });
        for (k, v) in extra.as_object().expect("object") {
            f[k] = v.clone();
        }
        f
    }

    #[test]
    fn a_late_parcel_is_late_against_the_first_estimate_whatever_came_after() {
        let late = order(json!({"fulfillments": [parcel(1, "DELIVERED", json!({
            "delivered_at": "2026-11-05T09:00:00Z",
            "estimated_delivery_at": "2026-11-06T00:00:00Z",
            "events": [
                {"id": 1, "status": "IN_TRANSIT", "happened_at": "2026-11-02T12:00:00Z",
                 "estimated_delivery_at": "2026-11-04T00:00:00Z"},
                {"id": 2, "status": "DELAYED", "happened_at": "2026-11-03T12:00:00Z",
                 "estimated_delivery_at": "2026-11-06T00:00:00Z"},
            ],
        }))]}));
        let f = facts(&late);
        assert_eq!(f.on_time, Some(0), "due the 4th, came the 5th");
        assert_eq!(f.parcel_problems, 1, "a delay is a problem");
        assert_eq!(f.country.as_deref(), Some("SE"));
        assert_eq!(f.carrier.as_deref(), Some("PostNord"));
        assert_eq!(f.to_ship, Some(1.0));
        assert!((f.transit.expect("transit") - 2.958).abs() < 0.001);

        // Late in the evening of the day it was due is on time.
        let on_time = order(json!({"fulfillments": [parcel(1, "DELIVERED", json!({
            "delivered_at": "2026-11-04T20:00:00Z",
            "estimated_delivery_at": "2026-11-04T00:00:00Z",
        }))]}));
        assert_eq!(facts(&on_time).on_time, Some(1));
        // Not delivered yet, or never estimated: not counted either way.
        let moving = order(json!({"fulfillments": [parcel(1, "IN_TRANSIT", json!({
            "estimated_delivery_at": "2026-11-04T00:00:00Z",
        }))]}));
        assert_eq!(facts(&moving).on_time, None);
        assert_eq!(facts(&moving).transit, None);
    }

    #[test]
    fn cancelled_parcels_do_not_count_and_a_digital_order_goes_nowhere() {
        let o = order(json!({"fulfillments": [
            parcel(1, "CANCELED", json!({"tracking_company": "DHL", "created_at": "2026-11-01T12:00:00Z"})),
            parcel(2, "IN_TRANSIT", json!({})),
        ]}));
        let f = facts(&o);
        assert_eq!((f.parcels, f.carrier.as_deref()), (1, Some("PostNord")));
        let digital = order(json!({
            "line_items": [{"id": 1, "title": "E-book", "quantity": 1, "requires_shipping": false}],
        }));
        assert_eq!(facts(&digital).country, None);
        assert_eq!(facts(&digital).parcels, 0);
    }

    #[test]
    fn time_in_a_status_counts_once_it_is_left() {
        let o = order(json!({"status_history": [
            {"at": "2026-11-01T10:00:00Z", "status": "printing", "by": "rule"},
            {"at": "2026-11-01T16:00:00Z", "status": "packing", "by": "rule"},
            {"at": "2026-11-02T10:00:00Z", "status": "printing", "by": "staff:ana"},
            {"at": "2026-11-02T12:00:00Z", "status": "shipped", "by": "rule"},
        ]}));
        let f = facts(&o);
        assert_eq!(
            f.status_hours.get("printing"),
            Some(&8.0),
            "6 h, then 2 h more"
        );
        assert_eq!(f.status_hours.get("packing"), Some(&18.0));
        assert_eq!(f.status_hours.get("shipped"), None, "still in it");
    }
}
