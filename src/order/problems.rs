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
//!
//! Staff work the queue on the order itself ([`Desk`], ours, kept by
//! every channel and replicated with the order): who took it, which
//! problems were handled (each until it changes: a hold that ends and
//! starts again is a new problem), and until when the order is snoozed.
//! The store leaves a handled problem out of the index and marks a
//! snoozed or taken order with terms of its own, so the queue and its
//! counts stay one query.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

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

/// Staff's work on an order's problems (ours; see the module's words).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desk {
    /// The staff member who took the order's problems (`alex`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_by: Option<String>,
    /// Problems marked handled, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handled: Vec<Handled>,
    /// Out of the queue until then (on the hour; see [`snooze_term`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<DateTime<Utc>>,
}

/// A problem staff marked handled: the state (`kind` held `since`) leaves
/// the queue; the same kind starting again later is a new problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handled {
    /// [`ProblemKind::as_str`].
    pub kind: String,
    pub since: DateTime<Utc>,
    pub at: DateTime<Utc>,
    /// `staff:alex`.
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Most handled problems an order keeps (the oldest go first).
const MAX_HANDLED: usize = 20;

/// A change staff make on the desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeskUpdate {
    /// `name` takes the order (from whoever had it).
    Take { name: String },
    /// Nobody has it.
    Release,
    /// Out of the queue until `until` (`None`: back now).
    Snooze { until: Option<DateTime<Utc>> },
    /// A problem handled.
    Handle(Handled),
}

impl Desk {
    /// Whether nothing is recorded (not stored then).
    pub fn is_empty(&self) -> bool {
        self == &Desk::default()
    }

    /// Applies `update`.
    pub fn apply(&mut self, update: DeskUpdate) {
        match update {
            DeskUpdate::Take { name } => self.taken_by = Some(name),
            DeskUpdate::Release => self.taken_by = None,
            DeskUpdate::Snooze { until } => self.snoozed_until = until,
            DeskUpdate::Handle(h) => {
                self.handled
                    .retain(|old| (old.kind.as_str(), old.since) != (h.kind.as_str(), h.since));
                self.handled.push(h);
                let extra = self.handled.len().saturating_sub(MAX_HANDLED);
                self.handled.drain(..extra);
            }
        }
    }

    /// The record of `kind` held `since` being handled, if it was.
    pub fn handled(&self, kind: ProblemKind, since: DateTime<Utc>) -> Option<&Handled> {
        self.handled
            .iter()
            .find(|h| h.kind == kind.as_str() && h.since == since)
    }

    /// Whether the order is snoozed at `now`.
    pub fn snooze_active(&self, now: DateTime<Utc>) -> bool {
        self.snoozed_until.is_some_and(|u| u > now)
    }
}

/// The problem states of `order` not marked handled: what the queue
/// watches.
pub fn open_watches(order: &Order) -> Vec<(ProblemKind, DateTime<Utc>)> {
    watches(order)
        .into_iter()
        .filter(|(kind, since)| order.desk.handled(*kind, *since).is_none())
        .collect()
}

/// The index term of an order snoozed until `until`: "snoozed now" is the
/// range of terms after the current hour's.
pub fn snooze_term(until: DateTime<Utc>) -> String {
    format!("{SNOOZED}{}", until.format("%Y-%m-%dT%H"))
}

/// Whose problems a queue lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Assignee {
    /// Everyone's, taken or not.
    #[default]
    Anyone,
    /// Those `name` took.
    Taken(String),
    /// Those nobody took.
    Nobody,
}

/// The prefix of [`snooze_term`].
pub const SNOOZED: &str = "snoozed:";
/// The prefix of [`taken_term`].
pub const TAKEN: &str = "taken:";

/// The index term of an order taken by `name`.
pub fn taken_term(name: &str) -> String {
    format!("{TAKEN}{name}")
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

/// The problems of `order` at `now`: states held longer than allowed and
/// not marked handled.
pub fn problems(
    order: &Order,
    now: DateTime<Utc>,
    limits: &impl Thresholds,
) -> Vec<(ProblemKind, DateTime<Utc>)> {
    open_watches(order)
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
    fn a_handled_problem_stays_handled_until_the_state_starts_again() {
        let mut o = order(json!({
            "fulfillment_orders": [{"id": 1, "status": "ON_HOLD", "updated_at": "2026-11-02T08:00:00Z"}]
        }));
        let now = t("2026-11-09T08:00:00Z");
        assert_eq!(problems(&o, now, &Days).len(), 1);
        o.desk.apply(DeskUpdate::Handle(Handled {
            kind: "on_hold".into(),
            since: t("2026-11-02T08:00:00Z"),
            at: now,
            by: "staff:alex".into(),
            note: Some("called the warehouse".into()),
        }));
        assert!(problems(&o, now, &Days).is_empty(), "handled");
        assert_eq!(watches(&o).len(), 1, "the state itself is still there");
        // The hold ended and a new one began: a new problem.
        o.fulfillment_orders[0].updated_at = Some(t("2026-11-10T08:00:00Z"));
        assert_eq!(
            problems(&o, t("2026-11-14T08:00:00Z"), &Days),
            vec![(ProblemKind::OnHold, t("2026-11-10T08:00:00Z"))]
        );
        // Kept short: the oldest handled records go first.
        for day in 0..30 {
            o.desk.apply(DeskUpdate::Handle(Handled {
                kind: "late".into(),
                since: now + Duration::days(day),
                at: now,
                by: "staff:alex".into(),
                note: None,
            }));
        }
        assert_eq!(o.desk.handled.len(), MAX_HANDLED);
        assert_eq!(o.desk.handled[0].since, now + Duration::days(10));
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
