//! The timeline, state by state. Orders are written as JSON in the import
//! format, so each test reads like the data that produces the state.

use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::*;

/// Wednesday 2026-11-25, 12:00 UTC.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
        .single()
        .expect("valid")
}

const TZ: Tz = chrono_tz::Europe::Stockholm;

fn base() -> Value {
    json!({
        "shop": "t.example", "id": 1, "name": "#1001", "email": "a@example.com",
        "financial_status": "PAID", "fulfillment_status": "UNFULFILLED",
        "processed_at": "2026-11-20T10:00:00Z",
        "line_items": [
            {"id": 11, "title": "Mug", "quantity": 1},
            {"id": 12, "title": "Tee", "quantity": 2}
        ]
    })
}

fn with(mut v: Value, patch: Value) -> Value {
    if let (Some(o), Some(p)) = (v.as_object_mut(), patch.as_object()) {
        for (k, val) in p {
            o.insert(k.clone(), val.clone());
        }
    }
    v
}

fn timeline(v: Value) -> Timeline {
    let order: Order = serde_json::from_value(v).expect("order parses");
    Timeline::of(&order, now(), TZ)
}

fn shipment(id: u64, status: &str, items: Value) -> Value {
    json!({
        "id": id, "display_status": status, "tracking_company": "PostNord",
        "tracking_numbers": [format!("PN{id}")], "tracking_urls": [format!("https://track.example/PN{id}")],
        "created_at": "2026-11-22T09:00:00Z", "line_items": items
    })
}

fn statuses(t: &Timeline) -> Vec<(StepKind, StepStatus)> {
    t.steps.iter().map(|s| (s.kind, s.status)).collect()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

#[test]
fn paid_unfulfilled_is_preparing() {
    let t = timeline(base());
    assert_eq!(t.current, StepKind::Preparing);
    assert_eq!(t.headline, Headline::Preparing);
    assert_eq!(
        statuses(&t),
        vec![
            (StepKind::Confirmed, StepStatus::Done),
            (StepKind::Preparing, StepStatus::Current),
            (StepKind::Shipped, StepStatus::Upcoming),
            (StepKind::OutForDelivery, StepStatus::Upcoming),
            (StepKind::Delivered, StepStatus::Upcoming),
        ]
    );
    assert_eq!(t.waiting.len(), 2);
    assert_eq!(t.waiting[1].quantity, 2);
    assert!(t.packages.is_empty());
}

#[test]
fn pending_payment_waits_at_confirmed() {
    let t = timeline(with(base(), json!({"financial_status": "pending"})));
    assert_eq!(t.current, StepKind::Confirmed);
    assert_eq!(t.headline, Headline::AwaitingPayment);
    assert_eq!(t.headline.to_string(), "Waiting for payment");
    assert!(
        t.waiting
            .iter()
            .all(|w| w.reason == WaitReason::AwaitingPayment)
    );
}

#[test]
fn custom_stage_names_the_wait() {
    let t = timeline(with(
        base(),
        json!({"custom_stages": [
            {"name": "Engraving", "at": "2026-11-21T08:00:00Z"},
            {"name": "Quality check", "at": "2026-11-24T08:00:00Z"},
            {"name": "Gift wrap", "at": "2026-11-30T08:00:00Z"}
        ]}),
    ));
    assert_eq!(t.headline, Headline::InStage("Quality check".into()));
    assert_eq!(
        t.waiting[0].reason,
        WaitReason::Stage("Quality check".into())
    );
    assert_eq!(t.current, StepKind::Preparing);
}

#[test]
fn merchant_statuses_are_steps_and_name_the_wait() {
    let history = json!([
        {"at": "2026-11-21T08:00:00Z", "status": "production", "position": 1, "by": "rule"},
        {"at": "2026-11-23T08:00:00Z", "status": "qc", "position": 2, "by": "staff:anna",
         "note": "Looks great"}
    ]);
    let t = timeline(with(base(), json!({"status_history": history})));
    assert_eq!(t.headline, Headline::InStage("qc".into()));
    assert_eq!(t.waiting[0].reason, WaitReason::Stage("qc".into()));
    let steps: Vec<(StepKind, StepStatus, Option<&str>)> = t
        .steps
        .iter()
        .map(|s| (s.kind, s.status, s.label.as_deref()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (StepKind::Confirmed, StepStatus::Done, None),
            (StepKind::Preparing, StepStatus::Done, Some("production")),
            (StepKind::Preparing, StepStatus::Current, Some("qc")),
            (StepKind::Shipped, StepStatus::Upcoming, None),
            (StepKind::OutForDelivery, StepStatus::Upcoming, None),
            (StepKind::Delivered, StepStatus::Upcoming, None),
        ]
    );
    // Cleared: back to the plain path.
    let mut cleared = history.as_array().cloned().unwrap_or_default();
    cleared.push(json!({"at": "2026-11-24T08:00:00Z", "position": 0, "by": "staff:anna"}));
    let t = timeline(with(base(), json!({"status_history": cleared})));
    assert_eq!(t.headline, Headline::Preparing);
    assert_eq!(t.steps.len(), 5);
    // Shipped: the statuses stay as done steps.
    let t = timeline(with(
        base(),
        json!({"status_history": history, "fulfillment_status": "FULFILLED",
               "fulfillments": [{"id": 7, "created_at": "2026-11-24T09:00:00Z", "status": "success",
                                 "line_items": [{"id": 11, "quantity": 1}, {"id": 12, "quantity": 2}]}]}),
    ));
    assert!(
        t.steps
            .iter()
            .filter(|s| s.label.is_some())
            .all(|s| s.status == StepStatus::Done)
    );
    assert_eq!(t.current, StepKind::Shipped);
}

#[test]
fn on_hold_and_scheduled_say_why() {
    let hold = timeline(with(
        base(),
        json!({"fulfillment_orders": [{
            "status": "on_hold",
            "fulfillment_holds": [{"reason": "inventory_out_of_stock"}],
            "line_items": [{"line_item_id": 11, "quantity": 1}, {"line_item_id": 12, "quantity": 2}]
        }]}),
    ));
    assert_eq!(
        hold.headline,
        Headline::OnHold(HoldReason::InventoryOutOfStock)
    );
    assert_eq!(
        hold.waiting[0].reason,
        WaitReason::OnHold(HoldReason::InventoryOutOfStock)
    );
    assert_eq!(hold.current, StepKind::Preparing);

    let scheduled = timeline(with(
        base(),
        json!({"fulfillment_orders": [{
            "status": "SCHEDULED", "fulfill_at": "2026-12-01T23:30:00Z",
            "line_items": [{"line_item_id": 11, "quantity": 1}, {"line_item_id": 12, "quantity": 2}]
        }]}),
    ));
    // 23:30 UTC is already 2 Dec in Stockholm.
    assert_eq!(
        scheduled.headline,
        Headline::Scheduled(Some(date(2026, 12, 2)))
    );
}

#[test]
fn in_transit_with_estimate_says_the_weekday() {
    let mut s = shipment(
        5,
        "IN_TRANSIT",
        json!([{"id": 11, "quantity": 1}, {"id": 12, "quantity": 2}]),
    );
    s["estimated_delivery_at"] = json!("2026-11-27T15:00:00Z");
    let t = timeline(with(
        base(),
        json!({"fulfillment_status": "FULFILLED", "fulfillments": [s]}),
    ));
    assert_eq!(t.current, StepKind::Shipped);
    assert_eq!(
        t.headline,
        Headline::Arriving(Day::Weekday(chrono::Weekday::Fri))
    );
    assert_eq!(t.headline.to_string(), "Arriving Friday");
    assert!(t.waiting.is_empty());
    assert_eq!(t.packages.len(), 1);
    assert_eq!(t.packages[0].tracking_number.as_deref(), Some("PN5"));
    assert_eq!(
        t.steps[2].at,
        Some(
            Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0)
                .single()
                .expect("t")
        )
    );
}

#[test]
fn the_newest_event_estimate_wins_and_events_are_newest_first() {
    let mut s = shipment(
        5,
        "IN_TRANSIT",
        json!([{"id": 11, "quantity": 1}, {"id": 12, "quantity": 2}]),
    );
    s["estimated_delivery_at"] = json!("2026-12-10T10:00:00Z");
    s["events"] = json!([
        {"status": "label_printed", "happened_at": "2026-11-22T09:00:00Z"},
        {"status": "in_transit", "happened_at": "2026-11-24T09:00:00Z", "city": "Malmö",
         "estimated_delivery_at": "2026-11-26T10:00:00Z"},
        {"status": "confirmed", "happened_at": "2026-11-23T09:00:00Z",
         "estimated_delivery_at": "2026-12-20T10:00:00Z"}
    ]);
    let t = timeline(with(base(), json!({"fulfillments": [s]})));
    assert_eq!(t.headline, Headline::Arriving(Day::Tomorrow));
    let order: Vec<_> = t.packages[0]
        .events
        .iter()
        .map(|e| e.status.clone())
        .collect();
    assert_eq!(
        order,
        vec![
            TrackingStatus::InTransit,
            TrackingStatus::Confirmed,
            TrackingStatus::LabelPrinted
        ]
    );
}

#[test]
fn shipped_without_estimate_is_on_its_way() {
    let s = shipment(
        5,
        "LABEL_PRINTED",
        json!([{"id": 11, "quantity": 1}, {"id": 12, "quantity": 2}]),
    );
    let t = timeline(with(base(), json!({"fulfillments": [s]})));
    assert_eq!(t.headline, Headline::OnItsWay);
    assert_eq!(t.current, StepKind::Shipped);
}

#[test]
fn out_for_delivery_and_ready_for_pickup() {
    let s = shipment(
        5,
        "OUT_FOR_DELIVERY",
        json!([{"id": 11, "quantity": 1}, {"id": 12, "quantity": 2}]),
    );
    let t = timeline(with(base(), json!({"fulfillments": [s]})));
    assert_eq!(t.headline, Headline::OutForDelivery);
    assert_eq!(t.current, StepKind::OutForDelivery);

    let s = shipment(
        5,
        "READY_FOR_PICKUP",
        json!([{"id": 11, "quantity": 1}, {"id": 12, "quantity": 2}]),
    );
    let t = timeline(with(base(), json!({"fulfillments": [s]})));
    assert_eq!(t.headline, Headline::ReadyForPickup);
}

#[test]
fn delivered_says_the_local_date() {
    let mut s = shipment(
        5,
        "DELIVERED",
        json!([{"id": 11, "quantity": 1}, {"id": 12, "quantity": 2}]),
    );
    s["delivered_at"] = json!("2026-11-30T23:30:00Z");
    let t = timeline(with(
        base(),
        json!({"fulfillment_status": "FULFILLED", "fulfillments": [s]}),
    ));
    assert_eq!(t.current, StepKind::Delivered);
    assert_eq!(t.headline, Headline::Delivered(date(2026, 12, 1)));
    assert_eq!(t.headline.to_string(), "Delivered on 1 Dec");
    assert!(t.steps.iter().take(4).all(|s| s.status == StepStatus::Done));
    assert_eq!(t.steps[4].status, StepStatus::Current);
}

#[test]
fn rest_shipment_status_drives_the_display_status() {
    let s = json!({"id": 5, "status": "success", "shipment_status": "out_for_delivery",
                   "line_items": [{"id": 11, "quantity": 1}, {"id": 12, "quantity": 2}]});
    let t = timeline(with(base(), json!({"fulfillments": [s]})));
    assert_eq!(
        t.packages[0].status,
        FulfillmentDisplayStatus::OutForDelivery
    );
    let s = json!({"id": 5, "status": "success", "line_items": []});
    let t = timeline(with(
        base(),
        json!({"fulfillment_status": "fulfilled", "fulfillments": [s]}),
    ));
    assert_eq!(t.packages[0].status, FulfillmentDisplayStatus::Fulfilled);
    assert_eq!(t.headline, Headline::OnItsWay);
}

#[test]
fn split_shipment_is_as_far_as_its_slowest_package() {
    let mut a = shipment(5, "DELIVERED", json!([{"id": 11, "quantity": 1}]));
    a["delivered_at"] = json!("2026-11-24T10:00:00Z");
    a["location_name"] = json!("Stockholm warehouse");
    let mut b = shipment(6, "IN_TRANSIT", json!([{"id": 12, "quantity": 2}]));
    b["created_at"] = json!("2026-11-23T09:00:00Z");
    b["estimated_delivery_at"] = json!("2026-12-09T10:00:00Z");
    let t = timeline(with(
        base(),
        json!({"fulfillment_status": "FULFILLED", "fulfillments": [b, a]}),
    ));
    assert_eq!(t.packages.len(), 2);
    assert_eq!((t.packages[0].number, t.packages[0].of), (1, Some(2)));
    assert_eq!(
        t.packages[0].location_name.as_deref(),
        Some("Stockholm warehouse")
    );
    assert_eq!(t.packages[0].stage, StepKind::Delivered);
    assert_eq!(t.packages[1].stage, StepKind::Shipped);
    assert_eq!(t.current, StepKind::Shipped);
    assert_eq!(t.headline, Headline::Arriving(Day::Date(date(2026, 12, 9))));
}

#[test]
fn partly_shipped_lists_what_is_left() {
    let s = shipment(5, "IN_TRANSIT", json!([{"id": 12, "quantity": 1}]));
    let t = timeline(with(
        base(),
        json!({"fulfillment_status": "PARTIALLY_FULFILLED", "fulfillments": [s]}),
    ));
    assert_eq!(t.headline, Headline::PartlyShipped);
    assert_eq!(t.current, StepKind::Preparing);
    let left: Vec<_> = t
        .waiting
        .iter()
        .map(|w| (w.title.as_str(), w.quantity))
        .collect();
    assert_eq!(left, vec![("Mug", 1), ("Tee", 1)]);
}

#[test]
fn cancelled_shipments_are_not_packages() {
    let s = shipment(
        5,
        "CANCELED",
        json!([{"id": 11, "quantity": 1}, {"id": 12, "quantity": 2}]),
    );
    let t = timeline(with(base(), json!({"fulfillments": [s]})));
    assert!(t.packages.is_empty());
    assert_eq!(t.waiting.len(), 2);
    assert_eq!(t.headline, Headline::Preparing);
}

#[test]
fn delivery_problems_take_the_headline() {
    for (status, problem, stage) in [
        ("FAILURE", Problem::Failed, StepKind::Shipped),
        ("NOT_DELIVERED", Problem::Failed, StepKind::Shipped),
        (
            "ATTEMPTED_DELIVERY",
            Problem::AttemptedDelivery,
            StepKind::OutForDelivery,
        ),
        ("DELAYED", Problem::Delayed, StepKind::Shipped),
    ] {
        let s = shipment(
            5,
            status,
            json!([{"id": 11, "quantity": 1}, {"id": 12, "quantity": 2}]),
        );
        let t = timeline(with(base(), json!({"fulfillments": [s]})));
        assert_eq!(t.headline, Headline::DeliveryProblem(problem), "{status}");
        assert_eq!(t.current, stage, "{status}");
        assert_eq!(t.packages[0].problem, Some(problem));
    }
}

#[test]
fn cancelled_orders_branch_off_after_confirmed() {
    let cases = [
        ("REFUNDED", RefundState::Refunded, "Cancelled and refunded"),
        (
            "PARTIALLY_REFUNDED",
            RefundState::PartiallyRefunded,
            "Cancelled and partly refunded",
        ),
        (
            "VOIDED",
            RefundState::Voided,
            "Cancelled, you were not charged",
        ),
        ("PAID", RefundState::NotRefunded, "Cancelled"),
    ];
    for (fin, state, text) in cases {
        let t = timeline(with(
            base(),
            json!({"financial_status": fin, "cancelled_at": "2026-11-21T10:00:00Z",
                   "cancel_reason": "customer"}),
        ));
        assert_eq!(t.headline, Headline::Cancelled(state), "{fin}");
        assert_eq!(t.headline.to_string(), text);
        assert_eq!(
            statuses(&t),
            vec![
                (StepKind::Confirmed, StepStatus::Done),
                (StepKind::Cancelled, StepStatus::Current)
            ]
        );
        assert!(t.waiting.iter().all(|w| w.reason == WaitReason::Cancelled));
    }
}

fn delivered_order() -> Value {
    let mut s = shipment(
        5,
        "DELIVERED",
        json!([{"id": 11, "quantity": 1}, {"id": 12, "quantity": 2}]),
    );
    s["delivered_at"] = json!("2026-11-23T10:00:00Z");
    with(
        base(),
        json!({"fulfillment_status": "FULFILLED", "fulfillments": [s]}),
    )
}

#[test]
fn returns_follow_delivery() {
    for (state, headline, step_status) in [
        ("REQUESTED", Headline::ReturnRequested, StepStatus::Current),
        ("OPEN", Headline::ReturnInProgress, StepStatus::Current),
        (
            "CLOSED",
            Headline::Returned { refunded: false },
            StepStatus::Current,
        ),
    ] {
        let t = timeline(with(
            delivered_order(),
            json!({"returns": [{"id": 9, "status": state, "created_at": "2026-11-24T10:00:00Z",
                               "line_items": [{"line_item_id": 11, "title": "Mug", "quantity": 1}]}]}),
        ));
        assert_eq!(t.headline, headline, "{state}");
        assert_eq!(t.current, StepKind::Return);
        let last = t.steps.last().expect("steps");
        assert_eq!((last.kind, last.status), (StepKind::Return, step_status));
        assert!(t.steps[..5].iter().all(|s| s.status == StepStatus::Done));
    }
}

#[test]
fn declined_return_changes_nothing() {
    let t = timeline(with(
        delivered_order(),
        json!({"returns": [{"id": 9, "status": "DECLINED"}]}),
    ));
    assert_eq!(t.current, StepKind::Delivered);
    assert!(matches!(t.headline, Headline::Delivered(_)));
}

#[test]
fn returned_and_refunded_ends_with_the_refund() {
    let t = timeline(with(
        delivered_order(),
        json!({
            "financial_status": "REFUNDED",
            "returns": [{"id": 9, "status": "CLOSED"}],
            "refunds": [{"id": 3, "created_at": "2026-11-25T08:00:00Z",
                         "transactions": [{"amount": "20.00", "kind": "refund", "status": "success"}]}]
        }),
    ));
    assert_eq!(t.headline, Headline::Returned { refunded: true });
    assert_eq!(t.current, StepKind::Refunded);
    let kinds: Vec<_> = t.steps.iter().map(|s| s.kind).collect();
    assert_eq!(kinds[5..], [StepKind::Return, StepKind::Refunded]);
}

#[test]
fn refunded_before_shipping_drops_the_steps_that_never_happen() {
    let t = timeline(with(base(), json!({"financial_status": "refunded"})));
    assert_eq!(t.headline, Headline::Refunded);
    let kinds: Vec<_> = t.steps.iter().map(|s| s.kind).collect();
    // Nothing will ship: the path ends at confirmed, then the refund.
    assert_eq!(kinds, vec![StepKind::Confirmed, StepKind::Refunded]);
    assert!(t.waiting.iter().all(|w| w.reason == WaitReason::Refunded));
}

#[test]
fn digital_orders_have_nothing_to_ship() {
    let t = timeline(with(
        base(),
        json!({"fulfillment_status": "FULFILLMENT_NOT_REQUIRED",
               "line_items": [{"id": 11, "title": "Gift card", "quantity": 1, "requires_shipping": false}]}),
    ));
    assert_eq!(t.headline, Headline::NothingToShip);
    assert!(t.waiting.is_empty());
}

#[test]
fn relative_days() {
    let today = date(2026, 11, 25);
    assert_eq!(relative_day(today, today), Day::Today);
    assert_eq!(relative_day(date(2026, 11, 26), today), Day::Tomorrow);
    assert_eq!(
        relative_day(date(2026, 12, 1), today),
        Day::Weekday(chrono::Weekday::Tue)
    );
    assert_eq!(
        relative_day(date(2026, 12, 2), today),
        Day::Date(date(2026, 12, 2))
    );
}
