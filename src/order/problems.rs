//! Problem orders: orders in a state that needs a person once it has
//! lasted too long (on hold, no carrier scan after the label, estimated
//! delivery passed, a delivery failure, a return not processed, payment
//! pending).
//!
//! [`watches`] says since when each such state has held, which depends on
//! the order alone; the store indexes it as `kind:YYYY-MM-DDTHH`, so "on
//! hold for more than 3 days" is a range of terms, and an order becomes a
//! problem as time passes without being written again. Whether it is one
//! now is [`problems`] with the merchant's thresholds.

use chrono::{DateTime, Duration, Utc};

use super::model::*;

/// Why an order needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// Work on it stopped (a fulfillment order on hold).
    OnHold,
    /// A label was made, and the carrier has not scanned the parcel.
    NoScan,
    /// The estimated delivery passed without a delivery.
    Late,
    /// The carrier could not deliver.
    DeliveryFailed,
    /// A return asked for or open, not processed.
    ReturnWaiting,
    /// The payment has not come through.
    PaymentPending,
}

impl ProblemKind {
    pub const ALL: [ProblemKind; 6] = [
        ProblemKind::OnHold,
        ProblemKind::NoScan,
        ProblemKind::Late,
        ProblemKind::DeliveryFailed,
        ProblemKind::ReturnWaiting,
        ProblemKind::PaymentPending,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::OnHold => "on_hold",
            ProblemKind::NoScan => "no_scan",
            ProblemKind::Late => "late",
            ProblemKind::DeliveryFailed => "delivery_failed",
            ProblemKind::ReturnWaiting => "return_waiting",
            ProblemKind::PaymentPending => "payment_pending",
        }
    }

    pub fn parse(s: &str) -> Option<ProblemKind> {
        ProblemKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The index term of a state held since `since` (hour precision, UTC).
pub fn watch_term(kind: ProblemKind, since: DateTime<Utc>) -> String {
    format!("{}:{}", kind.as_str(), since.format("%Y-%m-%dT%H"))
}

/// Each problem state the order is in, with since when (the earliest, if
/// several parts are in it). Cancelled orders have none.
pub fn watches(order: &Order) -> Vec<(ProblemKind, DateTime<Utc>)> {
    let mut out: Vec<(ProblemKind, DateTime<Utc>)> = Vec::new();
    if order.cancelled_at.is_some() {
        return out;
    }
    let mut add = |kind, at: Option<DateTime<Utc>>| {
        let Some(at) = at else { return };
        match out.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, t)) => *t = (*t).min(at),
            None => out.push((kind, at)),
        }
    };
    let placed = order.processed_at.or(order.created_at);
    for fo in &order.fulfillment_orders {
        if fo.status == FulfillmentOrderStatus::OnHold {
            add(ProblemKind::OnHold, fo.updated_at.or(order.updated_at));
        }
    }
    for f in &order.fulfillments {
        let status = f.display_status();
        let delivered = matches!(
            status,
            FulfillmentDisplayStatus::Delivered | FulfillmentDisplayStatus::PickedUp
        ) || f.delivered_at.is_some();
        if delivered || status == FulfillmentDisplayStatus::Canceled {
            continue;
        }
        if matches!(
            status,
            FulfillmentDisplayStatus::Failure | FulfillmentDisplayStatus::NotDelivered
        ) {
            add(
                ProblemKind::DeliveryFailed,
                f.latest_event()
                    .and_then(|e| e.happened_at)
                    .or(f.updated_at)
                    .or(f.created_at),
            );
            continue;
        }
        // Only a parcel with a tracking number can be scanned; a label
        // printed or bought is the shipper's doing, not a carrier's scan.
        let label_only = |e: &TrackingEvent| {
            matches!(
                e.status,
                TrackingStatus::LabelPrinted
                    | TrackingStatus::LabelPurchased
                    | TrackingStatus::Confirmed
            )
        };
        if !f.tracking_numbers.is_empty()
            && f.events.iter().all(label_only)
            && f.in_transit_at.is_none()
        {
            let label = f.events.iter().filter_map(|e| e.happened_at).min();
            add(ProblemKind::NoScan, label.or(f.created_at));
        }
        add(ProblemKind::Late, f.estimated_delivery_at);
    }
    for r in &order.returns {
        if matches!(r.status, ReturnState::Requested | ReturnState::Open) {
            add(ProblemKind::ReturnWaiting, r.created_at);
        }
    }
    if order.financial_status == FinancialStatus::Pending {
        add(ProblemKind::PaymentPending, placed);
    }
    out.sort();
    out
}

/// How long each state may last before the order is a problem.
pub trait Thresholds {
    fn allowed(&self, kind: ProblemKind) -> Duration;
}

/// The problems of `order` at `now`: states held longer than allowed.
pub fn problems(
    order: &Order,
    now: DateTime<Utc>,
    limits: &impl Thresholds,
) -> Vec<(ProblemKind, DateTime<Utc>)> {
    watches(order)
        .into_iter()
        .filter(|(kind, since)| now - *since >= limits.allowed(*kind))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Days;
    impl Thresholds for Days {
        fn allowed(&self, kind: ProblemKind) -> Duration {
            match kind {
                ProblemKind::Late | ProblemKind::DeliveryFailed => Duration::zero(),
                _ => Duration::days(3),
            }
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    fn order(v: serde_json::Value) -> Order {
        let mut base = json!({"id": 1, "order_number": 1, "processed_at": "2026-11-01T10:00:00Z",
                              "financial_status": "PAID"});
        if let (Some(b), Some(extra)) = (base.as_object_mut(), v.as_object()) {
            for (k, x) in extra {
                b.insert(k.clone(), x.clone());
            }
        }
        serde_json::from_value(base).expect("order")
    }

    #[test]
    fn each_state_is_watched_from_when_it_began() {
        let o = order(json!({
            "financial_status": "PENDING",
            "fulfillment_orders": [{"id": 1, "status": "ON_HOLD", "updated_at": "2026-11-02T08:00:00Z"}],
            "fulfillments": [
                {"id": 1, "tracking_numbers": ["X1"], "created_at": "2026-11-03T09:00:00Z",
                 "estimated_delivery_at": "2026-11-06T12:00:00Z",
                 "events": [{"id": 9, "status": "LABEL_PRINTED", "happened_at": "2026-11-03T09:30:00Z"}]},
                {"id": 2, "created_at": "2026-11-03T09:00:00Z", "shipment_status": "failure",
                 "events": [{"id": 5, "status": "FAILURE", "happened_at": "2026-11-04T10:00:00Z"}]},
                {"id": 3, "created_at": "2026-11-03T09:00:00Z", "shipment_status": "delivered",
                 "estimated_delivery_at": "2026-11-04T12:00:00Z"}
            ],
            "returns": [{"id": 1, "status": "REQUESTED", "created_at": "2026-11-05T10:00:00Z"}]
        }));
        assert_eq!(
            watches(&o),
            vec![
                (ProblemKind::OnHold, t("2026-11-02T08:00:00Z")),
                (ProblemKind::NoScan, t("2026-11-03T09:30:00Z")),
                (ProblemKind::Late, t("2026-11-06T12:00:00Z")),
                (ProblemKind::DeliveryFailed, t("2026-11-04T10:00:00Z")),
                (ProblemKind::ReturnWaiting, t("2026-11-05T10:00:00Z")),
                (ProblemKind::PaymentPending, t("2026-11-01T10:00:00Z")),
            ]
        );
        assert_eq!(
            watch_term(ProblemKind::OnHold, t("2026-11-02T08:59:00Z")),
            "on_hold:2026-11-02T08"
        );
        let mut cancelled = o.clone();
        cancelled.cancelled_at = Some(t("2026-11-07T00:00:00Z"));
        assert!(watches(&cancelled).is_empty());
    }

    #[test]
    fn a_state_is_a_problem_once_it_lasted_longer_than_allowed() {
        let o = order(json!({
            "fulfillment_orders": [{"id": 1, "status": "ON_HOLD", "updated_at": "2026-11-02T08:00:00Z"}],
            "fulfillments": [{"id": 1, "created_at": "2026-11-03T09:00:00Z",
                              "events": [{"id": 1, "status": "IN_TRANSIT", "happened_at": "2026-11-03T10:00:00Z"}],
                              "estimated_delivery_at": "2026-11-06T12:00:00Z"}]
        }));
        let kinds = |now: &str| -> Vec<ProblemKind> {
            problems(&o, t(now), &Days)
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        };
        assert!(kinds("2026-11-04T08:00:00Z").is_empty());
        assert_eq!(kinds("2026-11-05T08:00:00Z"), [ProblemKind::OnHold]);
        assert_eq!(
            kinds("2026-11-06T12:00:00Z"),
            [ProblemKind::OnHold, ProblemKind::Late]
        );
    }
}
