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
    let tracking = format!("{}{:010}", carrier.prefix, rng.below(10_000_000_000));
    let route = Route::of(o, location);
    let abroad = route.warehouse.1 != route.destination.1;
    // Each scan comes as long after the one before as it takes a carrier
    // (a label at once, a day or two across a border, the van in the
    // morning), not spread evenly over however old the order is.
    let earliest = placed + rng.hours(4, 30);
    let mut times = Vec::with_capacity(path.len());
    let mut at = earliest;
    for status in &path {
        at = next_scan(rng, at, status, abroad);
        times.push(at);
    }
    let settled = matches!(
        target,
        TrackingStatus::Delivered | TrackingStatus::PickedUp | TrackingStatus::Failure
    );
    let last = times.last().copied().unwrap_or(earliest);
    let latest = now - Duration::minutes(10);
    if !settled && last < latest {
        // Still on its way: its last scan was lately (whole days later, so
        // the van still leaves in the morning).
        let days = (latest - last).num_days();
        for t in &mut times {
            *t += Duration::days(days);
        }
    } else if last > latest {
        // An order too recent for the whole journey: the same scans, sooner.
        let room = (latest - earliest).num_seconds().max(1);
        let span = (last - earliest).num_seconds().max(1);
        for t in &mut times {
            *t = earliest + Duration::seconds((*t - earliest).num_seconds() * room / span);
        }
    }
    let shipped = times
        .first()
        .map_or(earliest, |t| *t - Duration::minutes(5));
    let eta = now + rng.hours(20, 24 * 4);
    let point = service_point(rng, route.destination.1);
    let mut events = Vec::new();
    for (n, (status, at)) in path.iter().zip(&times).enumerate() {
        let at = (*at).min(now);
        let (city, country) = route.stop(status);
        let late = matches!(
            status,
            TrackingStatus::InTransit | TrackingStatus::Delayed | TrackingStatus::CarrierPickedUp
        );
        let at_point = matches!(
            status,
            TrackingStatus::ReadyForPickup | TrackingStatus::PickedUp
        );
        let message = match status {
            TrackingStatus::ReadyForPickup => format!("Ready for pickup at {}", point.0),
            TrackingStatus::PickedUp => format!("Picked up at {}", point.0),
            s => event_message(s).to_string(),
        };
        events.push(TrackingEvent {
            id: o.id * 100 + k * 10 + n as u64,
            status: status.clone(),
            happened_at: Some(at),
            message: Some(message),
            city: Some(city.to_string()),
            address1: at_point.then(|| point.1.clone()),
            zip: at_point.then(|| point.2.clone()),
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

/// When a carrier makes a scan of `status`, after one at `before`.
fn next_scan(
    rng: &mut Rng,
    before: DateTime<Utc>,
    status: &TrackingStatus,
    abroad: bool,
) -> DateTime<Utc> {
    use TrackingStatus as T;
    let gap = match status {
        T::LabelPrinted | T::LabelPurchased | T::Confirmed => {
            Duration::minutes(rng.below(20) as i64)
        }
        T::CarrierPickedUp => rng.hours(2, 9),
        T::InTransit if abroad => rng.hours(20, 44),
        T::InTransit => rng.hours(5, 14),
        T::Delayed => rng.hours(10, 30),
        T::OutForDelivery => {
            // The van leaves in the morning (06:00 to 08:30 UTC, about
            // 07:00 to 09:30 in Europe) after the parcel reached the depot.
            let day = (before + Duration::hours(3)).date_naive() + Duration::days(1);
            let morning = day
                .and_hms_opt(6, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or(before);
            return morning + Duration::minutes(rng.below(150) as i64);
        }
        T::ReadyForPickup => rng.hours(6, 20),
        T::PickedUp => rng.hours(4, 72),
        _ => rng.hours(1, 6),
    };
    before + gap
}

/// A pickup point in `country`: its name, street and postcode.
fn service_point(rng: &mut Rng, country: &str) -> (String, String, String) {
    let (names, streets): (&[&str], &[&str]) = match country {
        "SE" => (
            &["ICA Nära Vasastan", "Pressbyrån Centralen"],
            &["Storgatan", "Kungsgatan"],
        ),
        "DE" => (
            &["DHL Paketshop Kiosk am Markt", "Postfiliale Hauptbahnhof"],
            &["Marktstraße", "Bahnhofstraße"],
        ),
        "FR" => (
            &["Relais Colis Tabac du Centre", "Point Retrait La Poste"],
            &["Rue de la République", "Avenue Jean Jaurès"],
        ),
        "GB" => (
            &["InPost Locker Tesco Express", "Post Office High Street"],
            &["High Street", "Station Road"],
        ),
        _ => (
            &["UPS Access Point Corner Market", "Walgreens Pickup"],
            &["Main Street", "Oak Avenue"],
        ),
    };
    let name = rng.pick(names).to_string();
    let street = format!("{} {}", rng.pick(streets), 1 + rng.below(80));
    let zip = match country {
        "GB" => format!("SW{} {}AB", 1 + rng.below(19), 1 + rng.below(9)),
        "SE" => format!("{} {:02}", 100 + rng.below(880), rng.below(100)),
        _ => format!("{:05}", 10_000 + rng.below(89_999)),
    };
    (name, street, zip)
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
