//! The emails an order has caused, as the order itself keeps them (ours).
//!
//! An order carries its [`MailLog`]: every message ever queued for it, with
//! an idempotency key (`shipped:<parcel id>`, `refund:<refund id>`, ...),
//! its state and what happened on the way. Keeping the log inside the
//! order makes "the change and the email it causes" one document in one
//! commit: the store's writer detects what changed ([`detect`]) and queues
//! the message in the very version of the order it writes, so a crash can
//! neither lose the message of a committed change nor queue one for a
//! change that was not committed. The key makes replays, re-imports and
//! syncs harmless: an event whose key is in the log is never queued again.
//!
//! Everything here is pure; which events are wanted, opt-outs and sending
//! are the notify layer's business.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::*;

/// What an email tells the shopper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailEvent {
    /// A parcel left: carrier, tracking number and link, what is in it.
    Shipped,
    OutForDelivery,
    Delivered,
    /// The carrier failed to deliver or tried and missed.
    DeliveryProblem,
    /// The estimated delivery passed without a delivery.
    RunningLate,
    /// Work stopped on (part of) the order, with the reason.
    OnHold,
    /// The merchant's own stage was reached.
    CustomStage,
    /// A return was received and processed.
    ReturnReceived,
    Refunded,
    Cancelled,
    /// The shopper asked for their status link (`/link`).
    Link,
    /// Staff sent the current status again.
    Status,
}

impl MailEvent {
    /// Every event that follows from an order change (not `Link`/`Status`).
    pub const DETECTED: [MailEvent; 10] = [
        MailEvent::Shipped,
        MailEvent::OutForDelivery,
        MailEvent::Delivered,
        MailEvent::DeliveryProblem,
        MailEvent::RunningLate,
        MailEvent::OnHold,
        MailEvent::CustomStage,
        MailEvent::ReturnReceived,
        MailEvent::Refunded,
        MailEvent::Cancelled,
    ];

    /// The events sent unless configured otherwise: those Shopify's own
    /// default notifications do not cover (it sends order confirmation,
    /// shipping confirmation and updates, out for delivery, delivered,
    /// refund and cancellation emails itself).
    pub const DEFAULT_ON: [MailEvent; 5] = [
        MailEvent::DeliveryProblem,
        MailEvent::RunningLate,
        MailEvent::OnHold,
        MailEvent::CustomStage,
        MailEvent::ReturnReceived,
    ];

    /// Whether an email of this event can be about `order` (what staff
    /// previews: no "delivered" for an order with no parcel, no "refunded"
    /// without a refund). A parcel's emails need a parcel, a hold's a
    /// hold, a merchant status's a status; the link and "current status"
    /// emails always can.
    pub fn can_apply(self, order: &Order) -> bool {
        match self {
            MailEvent::Shipped
            | MailEvent::OutForDelivery
            | MailEvent::Delivered
            | MailEvent::DeliveryProblem
            | MailEvent::RunningLate => !order.fulfillments.is_empty(),
            MailEvent::OnHold => order.fulfillment_orders.iter().any(|fo| {
                fo.status == FulfillmentOrderStatus::OnHold || !fo.fulfillment_holds.is_empty()
            }),
            MailEvent::CustomStage => {
                order.custom_status().is_some() || !order.custom_stages.is_empty()
            }
            MailEvent::ReturnReceived => !order.returns.is_empty(),
            MailEvent::Refunded => order
                .refunded_amount()
                .is_some_and(|a| a > Default::default()),
            MailEvent::Cancelled => order.cancelled_at.is_some(),
            MailEvent::Link | MailEvent::Status => true,
        }
    }

    /// The name used in config, keys and templates.
    pub fn as_str(self) -> &'static str {
        match self {
            MailEvent::Shipped => "shipped",
            MailEvent::OutForDelivery => "out_for_delivery",
            MailEvent::Delivered => "delivered",
            MailEvent::DeliveryProblem => "delivery_problem",
            MailEvent::RunningLate => "running_late",
            MailEvent::OnHold => "on_hold",
            MailEvent::CustomStage => "custom_stage",
            MailEvent::ReturnReceived => "return_received",
            MailEvent::Refunded => "refunded",
            MailEvent::Cancelled => "cancelled",
            MailEvent::Link => "link",
            MailEvent::Status => "status",
        }
    }

    /// The event of a config name.
    pub fn parse(s: &str) -> Option<MailEvent> {
        MailEvent::DETECTED
            .into_iter()
            .chain([MailEvent::Link, MailEvent::Status])
            .find(|e| e.as_str() == s)
    }
}

/// Key prefix of the messages about a merchant status being entered
/// (`custom_status:qc:1764000000`): their `detail` is the status id.
pub const STATUS_KEY_PREFIX: &str = "custom_status:";

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailState {
    /// Waiting to be sent (or to be tried again).
    Queued,
    /// Accepted by the mail server.
    Sent,
    /// Refused for good (a 5xx reply, or retried too long).
    Failed,
    /// Never sent: the shopper opted out, or the order has no email.
    Skipped,
}

/// One message of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailMessage {
    /// Unique within the order: the idempotency key (`shipped:123`).
    pub key: String,
    pub event: MailEvent,
    /// The parcel, hold or return it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<u64>,
    /// The custom stage's name, for `CustomStage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub state: MailState,
    /// When it reached its state (sent, failed, skipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// Delivery attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// Why it failed or was skipped, or the last temporary error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The language the shopper asked in (a link requested from a page in
    /// that language), when they asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// An order's emails (ours: no Shopify channel carries it).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MailLog {
    /// When the shopper asked for no more emails about this order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opted_out_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<MailMessage>,
}

impl MailLog {
    /// Nothing recorded.
    pub fn is_empty(&self) -> bool {
        self.opted_out_at.is_none() && self.messages.is_empty()
    }

    /// Whether a message with this key was ever recorded.
    pub fn has(&self, key: &str) -> bool {
        self.messages.iter().any(|m| m.key == key)
    }

    /// Messages waiting to be sent.
    pub fn queued(&self) -> impl Iterator<Item = &MailMessage> {
        self.messages
            .iter()
            .filter(|m| m.state == MailState::Queued)
    }

    /// A key for a message no event makes (`link:3`, `status:1`): the
    /// next number for its kind.
    pub fn next_key(&self, event: MailEvent) -> String {
        let prefix = format!("{}:", event.as_str());
        let n = self
            .messages
            .iter()
            .filter(|m| m.key.starts_with(&prefix))
            .count();
        format!("{prefix}{}", n + 1)
    }
}

/// A change to an order's mail log (from the sender, the opt-out page or
/// staff), applied by the store's writer like any other change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MailUpdate {
    /// Add a message (unless its key is there already).
    Queue(MailMessage),
    /// A delivery attempt's result.
    Outcome {
        key: String,
        state: MailState,
        at: DateTime<Utc>,
        attempts: u32,
        note: Option<String>,
    },
    /// No more emails about this order: queued ones are skipped.
    OptOut { at: DateTime<Utc> },
    /// Nothing but a fresh look by the writer's event check (the clock
    /// uses it for time-driven events such as "running late").
    Touch,
}

/// Applies `update` to an order's log.
pub fn apply_update(log: &mut MailLog, update: MailUpdate) {
    match update {
        MailUpdate::Queue(m) => {
            if !log.has(&m.key) {
                log.messages.push(m);
            }
        }
        MailUpdate::Outcome {
            key,
            state,
            at,
            attempts,
            note,
        } => {
            // Only a queued message moves: a late outcome of an attempt
            // must not undo an opt-out or a recorded success.
            if let Some(m) = log
                .messages
                .iter_mut()
                .find(|m| m.key == key && m.state == MailState::Queued)
            {
                m.state = state;
                m.at = (state != MailState::Queued).then_some(at);
                m.attempts = attempts;
                m.note = note;
            }
        }
        MailUpdate::OptOut { at } => {
            if log.opted_out_at.is_none() {
                log.opted_out_at = Some(at);
            }
            for m in log
                .messages
                .iter_mut()
                .filter(|m| m.state == MailState::Queued && m.event != MailEvent::Link)
            {
                m.state = MailState::Skipped;
                m.at = Some(at);
                m.note = Some("opted out".into());
            }
        }
        MailUpdate::Touch => {}
    }
}

/// Something a shopper may be told, found by comparing two versions.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    /// The idempotency key.
    pub key: String,
    pub event: MailEvent,
    pub part: Option<u64>,
    pub detail: Option<String>,
    /// When it happened, as far as the order says (for the "too old to
    /// tell" rule); `None` when unknown.
    pub at: Option<DateTime<Utc>>,
}

impl Detected {
    /// The message to queue for it.
    pub fn message(&self, now: DateTime<Utc>) -> MailMessage {
        MailMessage {
            key: self.key.clone(),
            event: self.event,
            part: self.part,
            detail: self.detail.clone(),
            queued_at: now,
            state: MailState::Queued,
            at: None,
            attempts: 0,
            note: None,
            lang: None,
        }
    }
}

/// What happened between `old` and `new` that a shopper may be told, at
/// `now`. Events whose key is already in `new`'s log are left out, so the
/// same change seen twice finds nothing the second time. A first version
/// of an order (no `old`) finds nothing: importing history tells no one.
pub fn detect(old: Option<&Order>, new: &Order, now: DateTime<Utc>) -> Vec<Detected> {
    let Some(old) = old else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut push = |key: String, event, part, detail, at| {
        if !new.mail.has(&key) {
            found.push(Detected {
                key,
                event,
                part,
                detail,
                at,
            });
        }
    };
    for f in &new.fulfillments {
        let before = old.fulfillments.iter().find(|o| o.id == f.id);
        let status = f.display_status();
        if status == FulfillmentDisplayStatus::Canceled {
            continue;
        }
        let latest = f.latest_event().and_then(|e| e.happened_at);
        if before.is_none() {
            push(
                format!("shipped:{}", f.id),
                MailEvent::Shipped,
                Some(f.id),
                None,
                f.created_at.or(f.updated_at),
            );
        }
        let was = before.map(Fulfillment::display_status);
        if was.as_ref() != Some(&status) {
            let event = match status {
                FulfillmentDisplayStatus::OutForDelivery => Some(MailEvent::OutForDelivery),
                FulfillmentDisplayStatus::Delivered | FulfillmentDisplayStatus::PickedUp => {
                    Some(MailEvent::Delivered)
                }
                FulfillmentDisplayStatus::Failure
                | FulfillmentDisplayStatus::AttemptedDelivery
                | FulfillmentDisplayStatus::NotDelivered => Some(MailEvent::DeliveryProblem),
                _ => None,
            };
            if let Some(event) = event {
                let key = match event {
                    // Each kind of problem once per parcel: an attempted
                    // delivery and a later failure are two things to say.
                    MailEvent::DeliveryProblem => {
                        format!("delivery_problem:{}:{}", f.id, status.as_str())
                    }
                    _ => format!("{}:{}", event.as_str(), f.id),
                };
                let at = if event == MailEvent::Delivered {
                    f.delivered_time()
                } else {
                    latest
                };
                push(key, event, Some(f.id), None, at.or(f.updated_at));
            }
        }
        if let Some(eta) = f.estimated_delivery()
            && awaiting_delivery(f, &status)
            && eta < now
        {
            push(
                format!("running_late:{}", f.id),
                MailEvent::RunningLate,
                Some(f.id),
                None,
                Some(eta),
            );
        }
    }
    for fo in &new.fulfillment_orders {
        if fo.status != FulfillmentOrderStatus::OnHold {
            continue;
        }
        let before = old.fulfillment_orders.iter().find(|o| o.id == fo.id);
        for hold in &fo.fulfillment_holds {
            let held_before = before.is_some_and(|b| {
                b.status == FulfillmentOrderStatus::OnHold
                    && b.fulfillment_holds.iter().any(|h| h.reason == hold.reason)
            });
            if !held_before {
                push(
                    format!("on_hold:{}:{}", fo.id, hold.reason.as_str()),
                    MailEvent::OnHold,
                    Some(fo.id),
                    Some(hold.reason.as_str().to_string()),
                    fo.updated_at,
                );
            }
        }
        if fo.fulfillment_holds.is_empty() && before.is_none_or(|b| b.status != fo.status) {
            push(
                format!("on_hold:{}", fo.id),
                MailEvent::OnHold,
                Some(fo.id),
                None,
                fo.updated_at,
            );
        }
    }
    // The merchant's status: each time one is entered (an id, so the
    // message says it in the shopper's language).
    if let Some(c) = new.custom_status()
        && let Some(id) = &c.status
        && !old.status_history.contains(c)
    {
        push(
            format!("{STATUS_KEY_PREFIX}{id}:{}", c.at.timestamp()),
            MailEvent::CustomStage,
            None,
            Some(id.clone()),
            Some(c.at),
        );
    }
    for stage in &new.custom_stages {
        if !old.custom_stages.iter().any(|s| s.name == stage.name) {
            push(
                format!("custom_stage:{}", stage.name),
                MailEvent::CustomStage,
                None,
                Some(stage.name.clone()),
                Some(stage.at),
            );
        }
    }
    for r in &new.returns {
        let was_closed = old
            .returns
            .iter()
            .any(|o| o.id == r.id && o.status == ReturnState::Closed);
        if r.status == ReturnState::Closed && !was_closed {
            push(
                format!("return_received:{}", r.id),
                MailEvent::ReturnReceived,
                Some(r.id),
                None,
                r.closed_at.or(r.updated_at),
            );
        }
    }
    for r in &new.refunds {
        let positive = r.amount().is_some_and(|a| a > rust_decimal::Decimal::ZERO);
        if positive && !old.refunds.iter().any(|o| o.id == r.id) {
            push(
                format!("refunded:{}", r.id),
                MailEvent::Refunded,
                Some(r.id),
                None,
                r.at(),
            );
        }
    }
    if new.cancelled_at.is_some() && old.cancelled_at.is_none() {
        push(
            "cancelled".into(),
            MailEvent::Cancelled,
            None,
            None,
            new.cancelled_at,
        );
    }
    found
}

/// Whether a parcel is still only waiting to be delivered: not delivered,
/// cancelled or picked up, and no delivery problem (the shopper heard of
/// that; "running late" on top would be noise).
fn awaiting_delivery(f: &crate::order::Fulfillment, status: &FulfillmentDisplayStatus) -> bool {
    !matches!(
        status,
        FulfillmentDisplayStatus::Canceled
            | FulfillmentDisplayStatus::Delivered
            | FulfillmentDisplayStatus::PickedUp
            | FulfillmentDisplayStatus::Failure
            | FulfillmentDisplayStatus::AttemptedDelivery
            | FulfillmentDisplayStatus::NotDelivered
    ) && f.delivered_time().is_none()
}

/// The hours (UTC, `YYYY-MM-DDTHH`) in which a parcel of the order is due
/// and not yet late-noticed: the store indexes them so a clock can find
/// the orders whose estimate has just passed by reading only those due in
/// the hours since it last looked.
///
/// Only estimates still ahead at `now` (the time of the write): an order
/// that arrives (an import of history, say) with its estimate already
/// passed is not watched, so the clock never mails "running late" about
/// lateness that predates the site knowing the order. A later change to
/// it is still checked when written.
pub fn late_watch_hours(order: &Order, now: DateTime<Utc>) -> Vec<String> {
    let mut days: Vec<String> = order
        .fulfillments
        .iter()
        // Every order indexed passes here: one status derivation each.
        .filter(|f| awaiting_delivery(f, &f.display_status()))
        .filter(|f| !order.mail.has(&format!("running_late:{}", f.id)))
        .filter_map(|f| f.estimated_delivery())
        .filter(|eta| *eta > now)
        .map(watch_hour)
        .collect();
    days.sort();
    days.dedup();
    days
}

/// The index term's hour of an instant: `2026-11-20T14`.
pub fn watch_hour(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, h, 0, 0)
            .single()
            .expect("time")
    }

    fn order() -> Order {
        serde_json::from_value(serde_json::json!({
            "shop": "s.example", "id": 1, "name": "#1001", "order_number": 1001,
            "email": "a@example.com", "updated_at": t(1),
            "line_items": [{"id": 10, "title": "Mug", "quantity": 1}]
        }))
        .expect("order")
    }

    fn parcel(id: u64, status: &str) -> Fulfillment {
        serde_json::from_value(serde_json::json!({
            "id": id, "status": "success", "shipment_status": status,
            "created_at": t(2), "updated_at": t(3),
            "tracking_numbers": ["TRK1"]
        }))
        .expect("parcel")
    }

    fn keys(found: &[Detected]) -> Vec<&str> {
        found.iter().map(|d| d.key.as_str()).collect()
    }

    #[test]
    fn a_first_version_tells_no_one() {
        let mut o = order();
        o.fulfillments.push(parcel(5, "delivered"));
        assert!(detect(None, &o, t(5)).is_empty());
    }

    #[test]
    fn shipping_then_delivery_are_two_events_each_once() {
        let old = order();
        let mut shipped = old.clone();
        shipped.fulfillments.push(parcel(5, "in_transit"));
        assert_eq!(keys(&detect(Some(&old), &shipped, t(5))), ["shipped:5"]);
        let mut delivered = shipped.clone();
        delivered.fulfillments[0].shipment_status = Some(TrackingStatus::Delivered);
        assert_eq!(
            keys(&detect(Some(&shipped), &delivered, t(5))),
            ["delivered:5"]
        );
        // Once recorded, the same change finds nothing again.
        for d in detect(Some(&shipped), &delivered, t(5)) {
            apply_update(&mut delivered.mail, MailUpdate::Queue(d.message(t(5))));
        }
        assert!(detect(Some(&shipped), &delivered, t(5)).is_empty());
    }

    #[test]
    fn problems_holds_stages_returns_refunds_and_cancellation() {
        let mut old = order();
        old.fulfillments.push(parcel(5, "in_transit"));
        let mut new = old.clone();
        new.fulfillments[0].shipment_status = Some(TrackingStatus::AttemptedDelivery);
        new.custom_stages.push(CustomStage {
            name: "Engraving".into(),
            at: t(4),
        });
        new.fulfillment_orders.push(FulfillmentOrder {
            request_status: None,
            id: 7,
            status: FulfillmentOrderStatus::OnHold,
            fulfill_at: None,
            assigned_location: None,
            fulfillment_holds: vec![FulfillmentHold {
                reason: HoldReason::AwaitingPayment,
                reason_notes: None,
            }],
            line_items: vec![],
            updated_at: Some(t(4)),
        });
        new.refunds.push(
            serde_json::from_value(serde_json::json!({
                "id": 9, "created_at": t(4),
                "transactions": [{"amount": "5.00", "kind": "refund", "status": "success"}]
            }))
            .expect("refund"),
        );
        new.cancelled_at = Some(t(4));
        new.status_history.push(crate::order::StatusChange {
            at: t(4),
            status: Some("qc".into()),
            position: 1,
            note: None,
            by: "staff:anna".into(),
        });
        assert_eq!(
            keys(&detect(Some(&old), &new, t(5))),
            [
                "delivery_problem:5:ATTEMPTED_DELIVERY",
                "on_hold:7:AWAITING_PAYMENT",
                &format!("custom_status:qc:{}", t(4).timestamp()),
                "custom_stage:Engraving",
                "refunded:9",
                "cancelled"
            ]
        );
    }

    #[test]
    fn a_passed_estimate_is_late_once_and_not_after_delivery() {
        let mut old = order();
        let mut p = parcel(5, "in_transit");
        p.estimated_delivery_at = Some(t(6));
        old.fulfillments.push(p);
        assert!(detect(Some(&old), &old, t(5)).is_empty(), "not yet due");
        assert_eq!(late_watch_hours(&old, t(5)), [watch_hour(t(6))]);
        // Written when the estimate had already passed: not watched.
        assert!(late_watch_hours(&old, t(7)).is_empty());
        let found = detect(Some(&old), &old, t(7));
        assert_eq!(keys(&found), ["running_late:5"]);
        let mut noticed = old.clone();
        apply_update(&mut noticed.mail, MailUpdate::Queue(found[0].message(t(7))));
        assert!(late_watch_hours(&noticed, t(5)).is_empty());
        let mut delivered = old.clone();
        delivered.fulfillments[0].shipment_status = Some(TrackingStatus::Delivered);
        assert_eq!(keys(&detect(Some(&old), &delivered, t(7))), ["delivered:5"]);
        // A failed delivery was news of its own; lateness after it is not.
        let mut failed = old.clone();
        failed.fulfillments[0].shipment_status = Some(TrackingStatus::Failure);
        assert_eq!(
            keys(&detect(Some(&failed), &failed, t(7))),
            Vec::<String>::new()
        );
        assert!(late_watch_hours(&failed, t(5)).is_empty());
    }

    #[test]
    fn an_opt_out_skips_what_is_queued_and_outcomes_do_not_undo_it() {
        let mut log = MailLog::default();
        let d = Detected {
            key: "shipped:5".into(),
            event: MailEvent::Shipped,
            part: Some(5),
            detail: None,
            at: None,
        };
        apply_update(&mut log, MailUpdate::Queue(d.message(t(1))));
        apply_update(&mut log, MailUpdate::OptOut { at: t(2) });
        assert_eq!(log.messages[0].state, MailState::Skipped);
        apply_update(
            &mut log,
            MailUpdate::Outcome {
                key: "shipped:5".into(),
                state: MailState::Sent,
                at: t(3),
                attempts: 1,
                note: None,
            },
        );
        assert_eq!(log.messages[0].state, MailState::Skipped);
        assert_eq!(log.opted_out_at, Some(t(2)));
        assert_eq!(log.next_key(MailEvent::Link), "link:1");
    }

    #[test]
    fn event_names_round_trip() {
        for e in MailEvent::DETECTED {
            assert_eq!(MailEvent::parse(e.as_str()), Some(e));
        }
        assert_eq!(MailEvent::parse("nope"), None);
    }
}
