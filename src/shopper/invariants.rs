//! The shopper view's invariants (see the module's list), checked over
//! generated orders in every state: any mix of payment, fulfillment
//! (parcels at any carrier status, split, voided, or none known), holds,
//! schedules, merchant statuses with notes, returns, refunds, removed
//! units, cancellation and lines that need no shipping, seen at a time
//! before, during or after the parcels' estimates.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::order::timeline::{Headline, StepKind, StepStatus};
use crate::order::{
    FinancialStatus, FulfillmentDisplayStatus, FulfillmentOrderStatus, FulfillmentStatus,
    HoldReason, ReturnState,
};

const TZ: Tz = chrono_tz::Europe::London;
const STREET: &str = "Hemligvägen 12";
const ZIP: &str = "99123";
const PHONE: &str = "+46 70 999 12 34";
const EMAIL: &str = "anna.private@example.se";
/// A pickup point's street: public, shown to the shopper.
const PICKUP_STREET: &str = "Queen Street 1";

fn pickup(s: &FulfillmentDisplayStatus) -> bool {
    matches!(
        s,
        FulfillmentDisplayStatus::ReadyForPickup | FulfillmentDisplayStatus::PickedUp
    )
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0)
        .single()
        .expect("valid")
}

/// `hours` from now, as the import format writes it.
fn at(hours: i64) -> Value {
    json!((now() + Duration::hours(hours)).to_rfc3339())
}

fn pick<T: Clone + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    prop::sample::select(all)
}

#[derive(Debug, Clone)]
struct Line {
    quantity: u32,
    removed: u32,
    ships: bool,
}

fn line() -> impl Strategy<Value = Line> {
    (1u32..=3, 0u32..=3, prop::bool::weighted(0.8)).prop_map(|(quantity, removed, ships)| Line {
        quantity,
        removed: removed.min(quantity),
        ships,
    })
}

/// A shipment: its status, when it left and its estimate (hours from
/// now), and how many units of each line it holds.
#[derive(Debug, Clone)]
struct Parcel {
    status: FulfillmentDisplayStatus,
    left: i64,
    eta: Option<i64>,
    units: Vec<u32>,
}

fn parcel() -> impl Strategy<Value = Parcel> {
    (
        pick(FulfillmentDisplayStatus::ALL),
        -400i64..-1,
        prop::option::of(-200i64..200),
        prop::collection::vec(0u32..=3, 3),
    )
        .prop_map(|(status, left, eta, units)| Parcel {
            status,
            left,
            eta,
            units,
        })
}

#[derive(Debug, Clone)]
struct Work {
    status: FulfillmentOrderStatus,
    hold: HoldReason,
    fulfill_in: i64,
}

fn work() -> impl Strategy<Value = Work> {
    (
        pick(FulfillmentOrderStatus::ALL),
        pick(HoldReason::ALL),
        -50i64..300,
    )
        .prop_map(|(status, hold, fulfill_in)| Work {
            status,
            hold,
            fulfill_in,
        })
}

prop_compose! {
    fn order()(
        lines in prop::collection::vec(line(), 1..=3),
        financial in pick(FinancialStatus::ALL),
        fulfillment in pick(FulfillmentStatus::ALL),
        parcels in prop::collection::vec(parcel(), 0..=3),
        work in prop::option::of(work()),
        cancelled in prop::bool::weighted(0.2),
        refunds in 0usize..=2,
        returns in prop::collection::vec((pick(ReturnState::ALL), 0u32..=3), 0..=2),
        note in prop::option::of(prop::option::of("[A-Za-z ]{1,30}")),
        address in any::<bool>(),
    ) -> Value {
        let line_items: Vec<Value> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| json!({
                "id": 11 + i as u64, "title": format!("Item {i}"),
                "quantity": l.quantity, "current_quantity": l.quantity - l.removed,
                "requires_shipping": l.ships,
            }))
            .collect();
        let fulfillments: Vec<Value> = parcels
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let items: Vec<Value> = lines
                    .iter()
                    .zip(&p.units)
                    .enumerate()
                    .filter(|(_, (_, n))| **n > 0)
                    .map(|(i, (_, n))| json!({"id": 11 + i as u64, "title": format!("Item {i}"), "quantity": n}))
                    .collect();
                json!({
                    "id": 100 + k as u64, "display_status": p.status.as_str(),
                    "tracking_company": "PostNord", "tracking_numbers": [format!("PN{k}")],
                    "created_at": at(p.left),
                    "estimated_delivery_at": p.eta.map(at),
                    "delivered_at": matches!(p.status, FulfillmentDisplayStatus::Delivered | FulfillmentDisplayStatus::PickedUp).then(|| at(-1)),
                    "line_items": items,
                    // A carrier's scan names a street: a pickup point's
                    // (public), or on any other scan the shopper's own.
                    "events": [{
                        "status": p.status.as_str(), "happened_at": at(p.left + 1),
                        "message": "Scanned", "city": "Cardiff", "country": "GB",
                        "address1": if pickup(&p.status) { PICKUP_STREET } else { STREET },
                        "zip": if pickup(&p.status) { "CF10 1AA" } else { ZIP },
                    }],
                })
            })
            .collect();
        let fulfillment_orders: Vec<Value> = work
            .iter()
            .map(|w| json!({
                "id": 200, "status": w.status.as_str(),
                "fulfill_at": at(w.fulfill_in),
                "fulfillment_holds": if w.status == FulfillmentOrderStatus::OnHold {
                    json!([{"reason": w.hold.as_str()}])
                } else {
                    json!([])
                },
                "line_items": (0..lines.len()).map(|i| json!({"line_item_id": 11 + i as u64, "quantity": lines[i].quantity})).collect::<Vec<_>>(),
            }))
            .collect();
        let returns: Vec<Value> = returns
            .iter()
            .enumerate()
            .map(|(k, (state, n))| json!({
                "id": 400 + k as u64, "status": state.as_str(), "created_at": at(-20),
                "line_items": [{"line_item_id": 11, "title": "Item 0", "quantity": n}],
            }))
            .collect();
        let refunds: Vec<Value> = (0..refunds)
            .map(|k| json!({"id": 300 + k as u64, "created_at": at(-10),
                "transactions": [{"amount": "5.00", "kind": "refund", "status": "success"}]}))
            .collect();
        let history: Vec<Value> = note
            .iter()
            .map(|n| json!({"at": at(-30), "status": "engraving", "position": 1, "note": n, "by": "staff:test"}))
            .collect();
        json!({
            "shop": "p.example", "id": 1, "name": "#1001", "email": EMAIL, "phone": PHONE,
            "currency": "GBP", "total_price": "50.00",
            "financial_status": financial.as_str(), "fulfillment_status": fulfillment.as_str(),
            "processed_at": at(-500),
            "cancelled_at": cancelled.then(|| at(-5)),
            "shipping_address": address.then(|| json!({
                "address1": STREET, "zip": ZIP, "phone": PHONE,
                "city": "Cardiff", "country": "United Kingdom", "country_code": "GB",
            })),
            "line_items": line_items,
            "fulfillments": fulfillments,
            "fulfillment_orders": fulfillment_orders,
            "returns": returns,
            "refunds": refunds,
            "status_history": history,
        })
    }
}

/// Every invariant of the module's list that `view` of `order` breaks.
fn broken(order: &Order, view: &ShopperView) -> Vec<String> {
    let mut out = Vec::new();
    let t = &view.timeline;
    let today = now().with_timezone(&TZ).date_naive();
    let n = t.packages.len();

    // 1. Every unit in exactly one place.
    for item in &view.items {
        let placed: u32 = item.places.iter().map(|p| p.quantity).sum();
        if placed != item.quantity || item.places.iter().any(|p| p.quantity == 0) {
            out.push(format!(
                "1: {} has {} units in {:?}",
                item.title, item.quantity, item.places
            ));
        }
    }
    // 2. Nothing waits to ship in a cancelled or refunded order.
    let ended = order.cancelled_at.is_some() || order.financial_status == FinancialStatus::Refunded;
    let waiting = view
        .items
        .iter()
        .flat_map(|i| &i.places)
        .any(|p| matches!(p.place, Place::Waiting(_)));
    if ended && waiting {
        out.push("2: a unit waits to ship in an ended order".into());
    }
    // 3. Packages numbered 1..n; "of n" only when nothing will still ship.
    let more = t.waiting.iter().any(|w| w.reason.will_ship());
    for (k, p) in t.packages.iter().enumerate() {
        if p.number != k + 1 || p.of != (!more).then_some(n) {
            out.push(format!(
                "3: package {} of {:?} among {n}, more to come: {more}",
                p.number, p.of
            ));
        }
    }
    for place in view.items.iter().flat_map(|i| &i.places) {
        if let Place::Package { number, of, .. } = &place.place
            && (*number == 0 || *number > n || *of != t.packages[*number - 1].of)
        {
            out.push(format!("3: an item in package {number} of {of:?}"));
        }
    }
    // 4. A parcel has left: Shipped is done.
    if order.cancelled_at.is_none() && !t.packages.is_empty() {
        let shipped = t.steps.iter().find(|s| s.kind == StepKind::Shipped);
        if shipped.is_none_or(|s| s.status == StepStatus::Upcoming) {
            out.push(format!("4: a parcel left, steps {:?}", t.steps));
        }
    }
    // 5. Nothing to ship: no destination, no step past confirmed.
    let ships_something = order
        .line_items
        .iter()
        .any(|li| li.requires_shipping && li.live_quantity() > 0);
    if !ships_something && t.packages.is_empty() {
        if view.destination.is_some() {
            out.push("5: a destination for an order with nothing to ship".into());
        }
        if t.steps.iter().any(|s| {
            matches!(
                s.kind,
                StepKind::Preparing
                    | StepKind::Shipped
                    | StepKind::OutForDelivery
                    | StepKind::Delivered
            )
        }) {
            out.push(format!(
                "5: shipping steps with nothing to ship: {:?}",
                t.steps
            ));
        }
    }
    // 5. Cancelled or refunded before anything left: no destination.
    let left = !t.packages.is_empty()
        || t.steps
            .iter()
            .any(|s| s.kind == StepKind::Shipped && s.status == StepStatus::Done);
    if ended && !left && view.destination.is_some() {
        out.push("5: a destination for an order that ended before anything left".into());
    }
    // 6. No estimate in the past, none on a delivered parcel.
    for p in &t.packages {
        if let Some(eta) = p.estimated_delivery {
            let day = eta.with_timezone(&TZ).date_naive();
            if day < today
                || p.stage >= StepKind::OutForDelivery
                || p.problem == Some(crate::order::timeline::Problem::Failed)
            {
                out.push(format!(
                    "6: package {} estimated {day} ({:?})",
                    p.number, p.stage
                ));
            }
        }
    }
    // 7. An on-hold headline names a hold the order has.
    if let Headline::OnHold(reason) = &t.headline {
        let held = order
            .fulfillment_orders
            .iter()
            .flat_map(|fo| &fo.fulfillment_holds)
            .any(|h| &h.reason == reason)
            || *reason == HoldReason::Other;
        if !held {
            out.push(format!(
                "7: headline on hold for {reason:?}, not a hold of the order"
            ));
        }
    }
    // 8. The merchant's note is shown.
    if let Some(note) = order.custom_status().and_then(|c| c.note.as_deref())
        && !note.trim().is_empty()
        && view.status_note.as_deref() != Some(note)
    {
        out.push("8: the merchant's note is hidden".into());
    }
    // A parcel at a pickup point says where that is.
    for p in &t.packages {
        let at_point = p.status == FulfillmentDisplayStatus::ReadyForPickup;
        let street = p.pickup.as_ref().and_then(|pt| pt.street.as_deref());
        if at_point != (street == Some(PICKUP_STREET)) {
            out.push(format!(
                "2: package {} at {:?}, pickup point {street:?}",
                p.number, p.status
            ));
        }
    }
    // 9. Nothing private.
    let all = format!("{view:?}");
    for private in [STREET, ZIP, PHONE, EMAIL] {
        if all.contains(private) {
            out.push(format!("9: {private:?} is in the view"));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_view_keeps_its_invariants_in_every_state(v in order()) {
        let order: Order = serde_json::from_value(v).expect("a generated order parses");
        let view = ShopperView::of(&order, now(), TZ);
        let broken = broken(&order, &view);
        prop_assert!(broken.is_empty(), "{broken:#?}\n{order:#?}");
    }
}

/// The generator reaches the states the invariants speak of (a property
/// over orders that never hold a parcel or a hold would prove nothing).
#[test]
fn the_generated_orders_cover_every_state() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut seen = std::collections::BTreeSet::new();
    // "Arriving(Today)" -> "Arriving".
    let kind = |debug: String| {
        debug
            .split(['(', ' ', '{'])
            .next()
            .unwrap_or_default()
            .to_string()
    };
    for _ in 0..2_000 {
        let v = order().new_tree(&mut runner).expect("tree").current();
        let order: Order = serde_json::from_value(v).expect("parses");
        let view = ShopperView::of(&order, now(), TZ);
        let t = &view.timeline;
        seen.insert(format!("headline {}", kind(format!("{:?}", t.headline))));
        for p in view.items.iter().flat_map(|i| &i.places) {
            seen.insert(format!("place {}", kind(format!("{:?}", p.place))));
        }
        if t.packages.iter().any(|p| p.of.is_none()) {
            seen.insert("more to come".into());
        }
        if t.packages.iter().any(|p| p.estimated_delivery.is_some()) {
            seen.insert("an estimate".into());
        }
        if view.status_note.is_some() {
            seen.insert("a note".into());
        }
    }
    let want = [
        "headline AwaitingPayment",
        "headline Preparing",
        "headline InStage",
        "headline OnHold",
        "headline Scheduled",
        "headline PartlyShipped",
        "headline OnItsWay",
        "headline Arriving",
        "headline OutForDelivery",
        "headline ReadyForPickup",
        "headline Delivered",
        "headline DeliveryProblem",
        "headline Cancelled",
        "headline ReturnRequested",
        "headline ReturnInProgress",
        "headline Returned",
        "headline Refunded",
        "headline NothingToShip",
        "place Package",
        "place Shipped",
        "place Waiting",
        "place Cancelled",
        "place Refunded",
        "place Returned",
        "place Removed",
        "place NoShipping",
        "more to come",
        "an estimate",
        "a note",
    ];
    let missing: Vec<_> = want.iter().filter(|w| !seen.contains(**w)).collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}
