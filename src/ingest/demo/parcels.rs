//! Demo parcels: the carrier events on the way to a tracking status, the
//! shipment itself, and what happens after delivery (returns, refunds).

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::catalog::*;
use super::*;

pub(super) fn path_to(target: &TrackingStatus) -> Vec<TrackingStatus> {
    use TrackingStatus as T;
    let mut path = vec![T::LabelPrinted];
    let tail: &[T] = match target {
        T::LabelPrinted => &[],
        T::InTransit => &[T::CarrierPickedUp, T::InTransit],
        T::Delayed => &[T::CarrierPickedUp, T::InTransit, T::Delayed],
        T::OutForDelivery => &[T::CarrierPickedUp, T::InTransit, T::OutForDelivery],
        T::AttemptedDelivery => &[
            T::CarrierPickedUp,
            T::InTransit,
            T::OutForDelivery,
            T::AttemptedDelivery,
        ],
        T::Failure => &[
            T::CarrierPickedUp,
            T::InTransit,
            T::OutForDelivery,
            T::Failure,
        ],
        T::ReadyForPickup => &[T::CarrierPickedUp, T::InTransit, T::ReadyForPickup],
        T::PickedUp => &[
            T::CarrierPickedUp,
            T::InTransit,
            T::ReadyForPickup,
            T::PickedUp,
        ],
        _ => &[
            T::CarrierPickedUp,
            T::InTransit,
            T::OutForDelivery,
            T::Delivered,
        ],
    };
    path.extend(tail.iter().cloned());
    path
}

#[allow(clippy::too_many_arguments)]
pub(super) fn shipment(
    rng: &mut Rng,
    o: &Order,
    k: u64,
    location: usize,
    carrier: &Carrier,
    items: &[u64],
    placed: DateTime<Utc>,
    now: DateTime<Utc>,
    target: TrackingStatus,
) -> Fulfillment {
    let path = path_to(&target);
    // Spread the scans between shipping and now, so the last one is recent.
    let shipped = (placed + rng.hours(4, 30)).min(now - Duration::hours(path.len() as i64 * 3));
    let span = (now - shipped).num_minutes().max(path.len() as i64 * 60);
    let step = span / (path.len() as i64 + 1);
    let tracking = format!("{}{:010}", carrier.prefix, rng.below(10_000_000_000));
    let route = Route::of(o, location);
    let eta = now + rng.hours(20, 24 * 5);
    let mut events = Vec::new();
    let mut at = shipped;
    for (n, status) in path.iter().enumerate() {
        at += Duration::minutes(step.max(30) - rng.below(20) as i64);
        let at = at.min(now);
        let (city, country) = route.stop(status);
        let late = matches!(
            status,
            TrackingStatus::InTransit | TrackingStatus::Delayed | TrackingStatus::CarrierPickedUp
        );
        events.push(TrackingEvent {
            id: o.id * 100 + k * 10 + n as u64,
            status: status.clone(),
            happened_at: Some(at),
            message: Some(event_message(status).to_string()),
            city: Some(city.to_string()),
            province: None,
            country: Some(country.to_string()),
            estimated_delivery_at: late.then_some(eta),
        });
    }
    let last = events.last().and_then(|e| e.happened_at).unwrap_or(shipped);
    let delivered = matches!(target, TrackingStatus::Delivered | TrackingStatus::PickedUp);
    Fulfillment {
        id: o.id * 10 + 5 + k,
        name: Some(format!("{}.{}", o.name, k + 1)),
        status: Some(ShipmentRecordStatus::Success),
        shipment_status: Some(target.clone()),
        display_status: Some(target.as_display_status()),
        location_id: Some(70_000 + location as u64),
        location_name: Some(LOCATIONS[location % LOCATIONS.len()].0.to_string()),
        tracking_company: Some(carrier.name.to_string()),
        tracking_urls: vec![format!("{}{}", carrier.url, tracking)],
        tracking_numbers: vec![tracking],
        estimated_delivery_at: (!delivered).then_some(eta),
        in_transit_at: events
            .iter()
            .find(|e| e.status == TrackingStatus::InTransit)
            .and_then(|e| e.happened_at),
        delivered_at: delivered.then_some(last),
        created_at: Some(shipped),
        updated_at: Some(last),
        line_items: o
            .line_items
            .iter()
            .filter(|li| items.contains(&li.id))
            .map(|li| ShippedItem {
                id: li.id,
                title: li.title.clone(),
                variant_title: li.variant_title.clone(),
                quantity: li.quantity,
            })
            .collect(),
        events,
    }
}

/// The way a parcel travels: picked up at the warehouse, sorted at the
/// hub of the warehouse's country and, abroad, at the destination
/// country's hub, then delivered (or left at a pickup point) in the
/// shopper's own city.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Route {
    pub(super) warehouse: (&'static str, &'static str),
    pub(super) hub: (&'static str, &'static str),
    pub(super) destination: (&'static str, &'static str),
}

impl Route {
    pub(super) fn of(o: &Order, location: usize) -> Route {
        let (_, city, code) = LOCATIONS[location % LOCATIONS.len()];
        let from = country_of(code);
        let to = o
            .shipping_address
            .as_ref()
            .and_then(|a| a.country_code.as_deref())
            .map_or(from, country_of);
        let dest_city = o
            .shipping_address
            .as_ref()
            .and_then(|a| a.city.as_deref())
            .and_then(|c| to.cities.iter().find(|(n, _)| *n == c))
            .map_or(to.cities[0].0, |(n, _)| *n);
        Route {
            warehouse: (city, from.code),
            // Abroad, the last sorting before the van is the destination
            // country's hub; at home, the national one.
            hub: (to.hub, to.code),
            destination: (dest_city, to.code),
        }
    }

    /// Where a scan of `status` happens: city and country code (as a
    /// carrier gives it; the page names it in the shopper's language).
    pub(super) fn stop(&self, status: &TrackingStatus) -> (&'static str, &'static str) {
        use TrackingStatus as T;
        match status {
            T::LabelPrinted | T::LabelPurchased | T::CarrierPickedUp | T::Confirmed => {
                self.warehouse
            }
            T::InTransit | T::Delayed => self.hub,
            _ => self.destination,
        }
    }
}

fn country_of(code: &str) -> &'static Country {
    COUNTRIES
        .iter()
        .find(|c| c.code == code)
        .unwrap_or(&COUNTRIES[0])
}

pub(super) fn event_message(s: &TrackingStatus) -> &'static str {
    use TrackingStatus as T;
    match s {
        T::LabelPrinted => "Shipping label created",
        T::LabelPurchased => "Label purchased",
        T::CarrierPickedUp => "Picked up by the carrier",
        T::Confirmed => "Shipment confirmed",
        T::InTransit => "In transit to the destination terminal",
        T::OutForDelivery => "Out for delivery",
        T::AttemptedDelivery => "Delivery attempted, nobody home",
        T::Delayed => "Delayed by high volumes",
        T::Failure => "Could not be delivered, returning to sender",
        T::ReadyForPickup => "Ready for pickup at the service point",
        T::PickedUp => "Picked up at the service point",
        T::Delivered => "Delivered",
        T::Unknown(_) => "Update from the carrier",
    }
}

pub(super) fn refund(
    o: &mut Order,
    k: u64,
    amount: Decimal,
    at: DateTime<Utc>,
    note: Option<&str>,
) {
    if o.financial_status != FinancialStatus::Refunded {
        o.financial_status = FinancialStatus::PartiallyRefunded;
    }
    o.refunds.push(Refund {
        id: o.id * 10 + k,
        created_at: Some(at),
        processed_at: Some(at),
        note: note.map(str::to_string),
        transactions: vec![Transaction {
            amount,
            kind: "refund".into(),
            status: "success".into(),
        }],
    });
}

/// Returns, refunds and archiving that happen after a delivery; returns the
/// time of the last change.
pub(super) fn after_delivery(
    rng: &mut Rng,
    o: &mut Order,
    scenario: &Scenario,
    delivered: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    use Scenario as S;
    let state = match scenario {
        S::ReturnRequested => ReturnState::Requested,
        S::ReturnInProgress => ReturnState::Open,
        S::Returned => ReturnState::Closed,
        S::ReturnDeclined => ReturnState::Declined,
        S::ReturnCanceled => ReturnState::Canceled,
        S::PartiallyRefunded => {
            let at = (delivered + rng.hours(24, 96)).min(now);
            let li = &o.line_items[0];
            let amount = li.price.unwrap_or_default();
            refund(o, 1, amount, at, Some("Goodwill refund: damaged box"));
            return at;
        }
        S::Archived => {
            let at = (delivered + rng.hours(24, 72)).min(now);
            o.closed_at = Some(at);
            return at;
        }
        _ => return delivered,
    };
    let requested = (delivered + rng.hours(24, 24 * 5)).min(now);
    let li = o.line_items[0].clone();
    let reasons = [
        "SIZE_TOO_SMALL",
        "SIZE_TOO_LARGE",
        "DEFECTIVE",
        "NOT_AS_DESCRIBED",
        "UNWANTED",
    ];
    let mut ret = Return {
        id: o.id * 10 + 8,
        name: Some(format!("{}-R1", o.name)),
        status: state.clone(),
        created_at: Some(requested),
        closed_at: None,
        line_items: vec![ReturnItem {
            line_item_id: li.id,
            title: li.title.clone(),
            quantity: 1,
            return_reason: Some(rng.pick(&reasons).to_string()),
        }],
        tracking: Vec::new(),
        updated_at: None,
    };
    let mut last = requested;
    if matches!(state, ReturnState::Open | ReturnState::Closed) {
        ret.tracking.push(ReturnTracking {
            company: Some("PostNord".into()),
            number: Some(format!("RT{:010}SE", rng.below(10_000_000_000))),
            url: None,
        });
    }
    if matches!(
        state,
        ReturnState::Closed | ReturnState::Declined | ReturnState::Canceled
    ) {
        last = (requested + rng.hours(24, 24 * 6)).min(now);
        ret.closed_at = Some(last);
    }
    o.returns.push(ret);
    if state == ReturnState::Closed {
        let only_item = o.line_items.len() == 1 && li.quantity == 1;
        if only_item {
            o.financial_status = FinancialStatus::Refunded;
        }
        refund(
            o,
            2,
            li.price.unwrap_or_default(),
            last,
            Some("Return received"),
        );
    }
    last
}
