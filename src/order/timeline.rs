//! From an order to what a shopper sees: the steps, the current step, one
//! headline, a card per package and the items still waiting.
//!
//! The result is structured (enums with dates), not text, so that every
//! language renders it its own way; [`Headline`]'s `Display` is the plain
//! English form, used by logs, tests and the JSON API. Everything here is a
//! pure function of the order, the current time and the shop's time zone.
//!
//! Rules, decided here and relied on by the pages:
//! - The main path is confirmed -> preparing -> shipped -> out for delivery
//!   -> delivered. An order is as far along as its *least* advanced part:
//!   a delivered parcel and an item still being prepared make "preparing"
//!   (the headline then says "Partly shipped").
//! - Cancelled orders leave the path after "confirmed". Returns and full
//!   refunds add a step after the path.
//! - A delivery problem (failed, attempted, delayed) or a hold marks the
//!   step it happens at instead of adding one, and takes the headline.
//! - Cancelled and voided shipments are not packages; their items count as
//!   not shipped. A shipment of nothing but lines that need no shipping (a
//!   gift card Shopify marks fulfilled) is not a package either.
//! - "Shipped" is done as soon as one parcel has left, even while other
//!   items are still being prepared.
//! - Units of a cancelled or fully refunded order that did not ship will
//!   not ship: they are waiting for nothing, and do not hold the order at
//!   "preparing".
//! - "Package 1 of 2" only when no more parcels are to come; while items
//!   still wait to ship a package is "Package 1" (`of` is `None`).
//! - An estimate is shown only while it is today or ahead, and never on a
//!   parcel out for delivery (it comes today), delivered, or whose delivery
//!   failed (it goes back to the sender).
//! - An order with nothing to ship has no path past "confirmed".

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use super::model::*;

mod carrier;
pub use carrier::{CarrierWords, PickupPoint};

/// Whether a URL from outside (a carrier's tracking link) is a web link:
/// only those may become links anywhere a shopper sees them (`javascript:`
/// and `data:` URLs would run in the shop's page or a storefront's).
pub fn is_web_url(u: &str) -> bool {
    let lower = u.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !u.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// A step on the shopper's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepKind {
    Confirmed,
    Preparing,
    Shipped,
    OutForDelivery,
    Delivered,
    /// Branch: the order was cancelled.
    Cancelled,
    /// Branch: items are being (or were) returned.
    Return,
    /// Branch: the whole order was refunded.
    Refunded,
}

/// Where a step stands relative to the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    Done,
    Current,
    Upcoming,
}

/// One step, with when it happened when that is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub kind: StepKind,
    pub status: StepStatus,
    pub at: Option<DateTime<Utc>>,
    /// A merchant status (its id) or stage name this step stands for; the
    /// preparing part of the path is one step per status passed through.
    pub label: Option<String>,
    /// The parcel goes to a pickup point: "out for delivery" is "ready for
    /// pickup" and "delivered" is "picked up".
    pub pickup: bool,
}

/// Something wrong on the way to the shopper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Problem {
    /// The carrier says the parcel is late.
    Delayed,
    /// The carrier tried and could not deliver; it will try again.
    AttemptedDelivery,
    /// The carrier could not deliver the parcel.
    Failed,
}

/// A day relative to today, for "Arriving Thursday".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Day {
    Today,
    Tomorrow,
    /// Within the coming week: the weekday's name says it.
    Weekday(Weekday),
    /// Further out: a date.
    Date(NaiveDate),
}

/// What happened to the money of a cancelled order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundState {
    Refunded,
    PartiallyRefunded,
    /// Only authorised, and the authorisation was voided: never charged.
    Voided,
    /// Nothing refunded (yet).
    NotRefunded,
}

/// The one sentence at the top of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Headline {
    AwaitingPayment,
    Preparing,
    /// A merchant stage such as "Engraving".
    InStage(String),
    /// On hold, and why (the first hold's reason).
    OnHold(HoldReason),
    Scheduled(Option<NaiveDate>),
    /// Some packages are on their way, other items are still being prepared.
    PartlyShipped,
    OnItsWay,
    Arriving(Day),
    OutForDelivery,
    ReadyForPickup,
    Delivered(NaiveDate),
    DeliveryProblem(Problem),
    Cancelled(RefundState),
    ReturnRequested,
    ReturnInProgress,
    Returned {
        refunded: bool,
    },
    Refunded,
    /// Nothing in the order needs shipping (digital goods, gift cards).
    NothingToShip,
}

/// Why an item has not shipped yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitReason {
    Preparing,
    AwaitingPayment,
    /// The merchant's current stage, e.g. "Engraving".
    Stage(String),
    OnHold(HoldReason),
    Scheduled(Option<NaiveDate>),
    /// The order was cancelled; it will not ship.
    Cancelled,
    /// The order was refunded in full before it shipped; it will not ship.
    Refunded,
}

impl WaitReason {
    /// Whether the units will still ship (they are not waiting for nothing).
    pub fn will_ship(&self) -> bool {
        !matches!(self, WaitReason::Cancelled | WaitReason::Refunded)
    }
}

/// An item (or part of a line) that has not shipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingItem {
    /// The order line it is (part of).
    pub line_item_id: u64,
    pub title: String,
    pub variant_title: Option<String>,
    pub quantity: u32,
    pub reason: WaitReason,
}

/// One parcel: "Package 1 of 2".
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    /// Shopify's id of the shipment.
    pub fulfillment_id: u64,
    /// 1-based position among the packages.
    pub number: usize,
    /// How many packages there are, once no more are to come (`None` while
    /// items still wait to ship).
    pub of: Option<usize>,
    pub stage: StepKind,
    pub status: FulfillmentDisplayStatus,
    pub problem: Option<Problem>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub location_name: Option<String>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub estimated_delivery: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub items: Vec<ShippedItem>,
    /// Newest first. Only a pickup point's scans keep a street: any other
    /// scan's could be the shopper's own (a delivery scan).
    pub events: Vec<TrackingEvent>,
    /// Where to collect the parcel, while it waits at a pickup point.
    pub pickup: Option<PickupPoint>,
}

/// Everything the status page shows about progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub steps: Vec<Step>,
    pub current: StepKind,
    pub headline: Headline,
    pub packages: Vec<Package>,
    pub waiting: Vec<WaitingItem>,
}

impl Timeline {
    /// The timeline of `order` as of `now`, with dates in `tz`.
    pub fn of(order: &Order, now: DateTime<Utc>, tz: Tz) -> Timeline {
        let today = now.with_timezone(&tz).date_naive();
        let local_date = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
        let cancelled = order.cancelled_at.is_some();

        let mut packages = packages(order);
        let waiting = waiting_items(order, &packages, now, local_date);
        let more_to_come = waiting.iter().any(|w| w.reason.will_ship());
        for p in &mut packages {
            if more_to_come {
                p.of = None;
            }
            // Yesterday's estimate is no estimate, and a parcel out for
            // delivery (it comes today), delivered, or that could not be
            // delivered (it goes back) has none.
            if p.stage >= StepKind::OutForDelivery
                || p.problem == Some(Problem::Failed)
                || p.estimated_delivery.is_some_and(|t| local_date(t) < today)
            {
                p.estimated_delivery = None;
            }
        }

        // How far along the order is: its least advanced part.
        let mut parts: Vec<StepKind> = packages.iter().map(|p| p.stage).collect();
        if more_to_come {
            let unpaid = waiting
                .iter()
                .filter(|w| w.reason.will_ship())
                .all(|w| w.reason == WaitReason::AwaitingPayment);
            parts.push(if unpaid {
                StepKind::Confirmed
            } else {
                StepKind::Preparing
            });
        } else if packages.is_empty() && shipped_without_parcels(order) {
            // Shopify says it shipped, without saying how.
            parts.push(StepKind::Shipped);
        }
        let progress = parts.iter().copied().min();

        let mut steps = main_path(order, &packages, progress.unwrap_or(StepKind::Confirmed));
        if progress.is_none() {
            // Nothing to ship: confirmed is all the path there is.
            steps.truncate(1);
        }
        let return_status = order.return_status();
        let current;
        if cancelled {
            steps.truncate(1);
            steps[0].status = StepStatus::Done;
            steps.push(Step {
                kind: StepKind::Cancelled,
                status: StepStatus::Current,
                at: order.cancelled_at,
                label: None,
                pickup: false,
            });
            current = StepKind::Cancelled;
        } else if return_status != ReturnStatus::NoReturn {
            finish_path(&mut steps);
            let done = return_status == ReturnStatus::Returned;
            steps.push(Step {
                kind: StepKind::Return,
                status: if done {
                    StepStatus::Done
                } else {
                    StepStatus::Current
                },
                at: order.returns.iter().filter_map(|r| r.created_at).min(),
                label: None,
                pickup: false,
            });
            if done && order.financial_status == FinancialStatus::Refunded {
                steps.push(refund_step(order));
                current = StepKind::Refunded;
            } else {
                if let Some(last) = steps.last_mut() {
                    last.status = StepStatus::Current;
                }
                current = StepKind::Return;
            }
        } else if order.financial_status == FinancialStatus::Refunded {
            finish_path_up_to(&mut steps, progress.unwrap_or(StepKind::Confirmed));
            steps.push(refund_step(order));
            current = StepKind::Refunded;
        } else if progress.is_none() {
            steps[0].status = StepStatus::Done;
            current = StepKind::Confirmed;
        } else {
            current = progress.unwrap_or(StepKind::Confirmed);
        }

        let headline = headline(
            order,
            &packages,
            &waiting,
            progress,
            today,
            local_date,
            &return_status,
        );
        Timeline {
            steps,
            current,
            headline,
            packages,
            waiting,
        }
    }
}

fn refund_step(order: &Order) -> Step {
    Step {
        kind: StepKind::Refunded,
        status: StepStatus::Current,
        at: order.refunds.iter().filter_map(Refund::at).max(),
        label: None,
        pickup: false,
    }
}

/// Marks the whole main path done (a return follows delivery).
fn finish_path(steps: &mut [Step]) {
    for s in steps {
        s.status = StepStatus::Done;
    }
}

/// Marks the path done up to `progress` and drops what never happened (a
/// refunded order that never shipped does not show "Delivered" to come).
fn finish_path_up_to(steps: &mut Vec<Step>, progress: StepKind) {
    steps.retain(|s| s.kind <= progress);
    finish_path(steps);
}

/// The five main steps, marked against `progress`.
fn main_path(order: &Order, packages: &[Package], progress: StepKind) -> Vec<Step> {
    let first_shipped = packages.iter().filter_map(|p| p.shipped_at).min();
    let pickup = packages.iter().any(|p| {
        matches!(
            p.status,
            FulfillmentDisplayStatus::ReadyForPickup | FulfillmentDisplayStatus::PickedUp
        )
    });
    let out_for_delivery = packages
        .iter()
        .flat_map(|p| &p.events)
        .filter(|e| {
            matches!(
                e.status,
                TrackingStatus::OutForDelivery | TrackingStatus::ReadyForPickup
            )
        })
        .filter_map(|e| e.happened_at)
        .max();
    let delivered = if progress == StepKind::Delivered {
        packages.iter().filter_map(|p| p.delivered_at).max()
    } else {
        None
    };
    // The merchant's statuses passed through stand for "Preparing".
    let passed = order.statuses_passed();
    let preparing: Vec<(Option<DateTime<Utc>>, Option<String>)> = if passed.is_empty() {
        vec![(order.custom_stages.first().map(|s| s.at), None)]
    } else {
        passed
            .into_iter()
            .map(|(id, at)| (Some(at), Some(id.to_string())))
            .collect()
    };
    // Its index in the path, after "Confirmed".
    let last_preparing = preparing.len();
    let mut path = vec![(
        StepKind::Confirmed,
        order.processed_at.or(order.created_at),
        None,
    )];
    path.extend(
        preparing
            .into_iter()
            .map(|(at, label)| (StepKind::Preparing, at, label)),
    );
    path.extend([
        (StepKind::Shipped, first_shipped, None),
        (StepKind::OutForDelivery, out_for_delivery, None),
        (StepKind::Delivered, delivered, None),
    ]);
    // One parcel gone is "shipped", whatever still waits.
    let reached =
        |kind: StepKind| kind <= progress || (kind == StepKind::Shipped && !packages.is_empty());
    path.into_iter()
        .enumerate()
        .map(|(n, (kind, at, label))| Step {
            kind,
            status: match kind.cmp(&progress) {
                std::cmp::Ordering::Less => StepStatus::Done,
                // Statuses before the last one passed are done.
                std::cmp::Ordering::Equal if n < last_preparing => StepStatus::Done,
                std::cmp::Ordering::Equal => StepStatus::Current,
                std::cmp::Ordering::Greater if reached(kind) => StepStatus::Done,
                std::cmp::Ordering::Greater => StepStatus::Upcoming,
            },
            at: if reached(kind) { at } else { None },
            label,
            pickup: pickup && matches!(kind, StepKind::OutForDelivery | StepKind::Delivered),
        })
        .collect()
}

/// Where a shipment with this display status is, and what is wrong.
fn stage_of(status: &FulfillmentDisplayStatus) -> (StepKind, Option<Problem>) {
    use FulfillmentDisplayStatus as S;
    match status {
        S::AttemptedDelivery => (StepKind::OutForDelivery, Some(Problem::AttemptedDelivery)),
        S::Failure | S::NotDelivered => (StepKind::Shipped, Some(Problem::Failed)),
        S::Delayed => (StepKind::Shipped, Some(Problem::Delayed)),
        S::OutForDelivery | S::ReadyForPickup => (StepKind::OutForDelivery, None),
        S::Delivered | S::PickedUp => (StepKind::Delivered, None),
        _ => (StepKind::Shipped, None),
    }
}

fn is_void(status: &FulfillmentDisplayStatus) -> bool {
    matches!(
        status,
        FulfillmentDisplayStatus::Canceled | FulfillmentDisplayStatus::LabelVoided
    )
}

/// Whether Shopify calls the order shipped while no shipment is known
/// (a payload without its fulfillments), and something in it ships.
fn shipped_without_parcels(order: &Order) -> bool {
    order.cancelled_at.is_none()
        && order.fulfillment_status == FulfillmentStatus::Fulfilled
        && order
            .line_items
            .iter()
            .any(|li| li.requires_shipping && li.live_quantity() > 0)
}

/// Whether a shipment holds something that travels: not only lines that
/// need no shipping (a line the order does not list counts as travelling).
fn travels(order: &Order, f: &Fulfillment) -> bool {
    f.line_items.is_empty()
        || f.line_items.iter().any(|it| {
            order
                .line_items
                .iter()
                .find(|li| li.id == it.id)
                .is_none_or(|li| li.requires_shipping)
        })
}

fn packages(order: &Order) -> Vec<Package> {
    let mut live: Vec<&Fulfillment> = order
        .fulfillments
        .iter()
        .filter(|f| !is_void(&f.display_status()) && travels(order, f))
        .collect();
    live.sort_by_key(|f| (f.created_at, f.id));
    let of = live.len();
    live.into_iter()
        .enumerate()
        .map(|(i, f)| {
            let status = f.display_status();
            let (stage, problem) = stage_of(&status);
            let mut events = f.events.clone();
            events.sort_by_key(|e| std::cmp::Reverse(e.happened_at));
            for e in &mut events {
                if !at_pickup_point(&e.status) {
                    e.address1 = None;
                    e.zip = None;
                }
            }
            let pickup = (status == FulfillmentDisplayStatus::ReadyForPickup)
                .then(|| events.iter().find(|e| at_pickup_point(&e.status)))
                .flatten()
                .map(|e| PickupPoint {
                    message: e.message.clone(),
                    street: e.address1.clone(),
                    zip: e.zip.clone(),
                    city: e.city.clone(),
                    country: e.country.clone(),
                });
            Package {
                fulfillment_id: f.id,
                number: i + 1,
                of: Some(of),
                stage,
                problem,
                carrier: f.tracking_company.clone(),
                tracking_number: f.tracking_numbers.first().cloned(),
                tracking_url: f.tracking_urls.first().filter(|u| is_web_url(u)).cloned(),
                location_name: f.location_name.clone(),
                shipped_at: f.created_at,
                estimated_delivery: f.estimated_delivery(),
                delivered_at: if stage == StepKind::Delivered {
                    f.delivered_time()
                } else {
                    None
                },
                items: f.line_items.clone(),
                events,
                pickup,
                status,
            }
        })
        .collect()
}

/// Scans made at a pickup point, whose street is a public place.
fn at_pickup_point(s: &TrackingStatus) -> bool {
    matches!(s, TrackingStatus::ReadyForPickup | TrackingStatus::PickedUp)
}

fn waiting_items(
    order: &Order,
    packages: &[Package],
    now: DateTime<Utc>,
    local_date: impl Fn(DateTime<Utc>) -> NaiveDate,
) -> Vec<WaitingItem> {
    // An order Shopify calls fulfilled has nothing waiting, even when the
    // payload did not carry its fulfillments.
    if order.fulfillment_status == FulfillmentStatus::Fulfilled && order.cancelled_at.is_none() {
        return Vec::new();
    }
    let mut shipped: HashMap<u64, u32> = HashMap::new();
    for item in packages.iter().flat_map(|p| &p.items) {
        *shipped.entry(item.id).or_default() += item.quantity;
    }
    let stage = order.current_stage(now);
    let awaiting_payment = order.financial_status == FinancialStatus::Pending;

    order
        .line_items
        .iter()
        .filter(|li| li.requires_shipping)
        .filter_map(|li| {
            let left = li
                .live_quantity()
                .saturating_sub(shipped.get(&li.id).copied().unwrap_or(0));
            if left == 0 {
                return None;
            }
            let work = order.fulfillment_orders.iter().find(|fo| {
                !matches!(
                    fo.status,
                    FulfillmentOrderStatus::Closed | FulfillmentOrderStatus::Cancelled
                ) && fo.line_items.iter().any(|l| l.line_item_id == li.id)
            });
            let reason = if order.cancelled_at.is_some() {
                WaitReason::Cancelled
            } else if order.financial_status == FinancialStatus::Refunded {
                WaitReason::Refunded
            } else {
                match work.map(|fo| (&fo.status, fo)) {
                    Some((FulfillmentOrderStatus::OnHold, fo)) => WaitReason::OnHold(
                        fo.fulfillment_holds
                            .first()
                            .map(|h| h.reason.clone())
                            .unwrap_or(HoldReason::Other),
                    ),
                    Some((FulfillmentOrderStatus::Scheduled, fo)) => {
                        WaitReason::Scheduled(fo.fulfill_at.map(&local_date))
                    }
                    _ if awaiting_payment => WaitReason::AwaitingPayment,
                    _ => match stage {
                        Some((name, _)) => WaitReason::Stage(name.to_string()),
                        None => WaitReason::Preparing,
                    },
                }
            };
            Some(WaitingItem {
                line_item_id: li.id,
                title: li.title.clone(),
                variant_title: li.variant_title.clone(),
                quantity: left,
                reason,
            })
        })
        .collect()
}

fn headline(
    order: &Order,
    packages: &[Package],
    waiting: &[WaitingItem],
    progress: Option<StepKind>,
    today: NaiveDate,
    local_date: impl Fn(DateTime<Utc>) -> NaiveDate,
    return_status: &ReturnStatus,
) -> Headline {
    let fin = &order.financial_status;
    if order.cancelled_at.is_some() {
        return Headline::Cancelled(match fin {
            FinancialStatus::Refunded => RefundState::Refunded,
            FinancialStatus::PartiallyRefunded => RefundState::PartiallyRefunded,
            FinancialStatus::Voided | FinancialStatus::Expired => RefundState::Voided,
            _ if order
                .refunded_amount()
                .is_none_or(|a| a > rust_decimal::Decimal::ZERO) =>
            {
                RefundState::PartiallyRefunded
            }
            _ => RefundState::NotRefunded,
        });
    }
    match return_status {
        ReturnStatus::ReturnRequested => return Headline::ReturnRequested,
        ReturnStatus::InProgress | ReturnStatus::InspectionComplete => {
            return Headline::ReturnInProgress;
        }
        ReturnStatus::Returned => {
            return Headline::Returned {
                refunded: matches!(
                    fin,
                    FinancialStatus::Refunded | FinancialStatus::PartiallyRefunded
                ),
            };
        }
        _ => {}
    }
    if *fin == FinancialStatus::Refunded {
        return Headline::Refunded;
    }
    if let Some(problem) = packages.iter().filter_map(|p| p.problem).max() {
        return Headline::DeliveryProblem(problem);
    }
    let Some(progress) = progress else {
        return Headline::NothingToShip;
    };
    match progress {
        StepKind::Delivered => {
            let last = packages.iter().filter_map(|p| p.delivered_at).max();
            match last {
                Some(t) => Headline::Delivered(local_date(t)),
                None => Headline::Delivered(today),
            }
        }
        StepKind::OutForDelivery => {
            if packages
                .iter()
                .any(|p| p.status == FulfillmentDisplayStatus::ReadyForPickup)
            {
                Headline::ReadyForPickup
            } else {
                Headline::OutForDelivery
            }
        }
        StepKind::Shipped => {
            let eta = packages
                .iter()
                .filter(|p| p.stage != StepKind::Delivered)
                .filter_map(|p| p.estimated_delivery)
                .max()
                .map(&local_date);
            match eta {
                Some(d) if d >= today => Headline::Arriving(relative_day(d, today)),
                _ => Headline::OnItsWay,
            }
        }
        StepKind::Confirmed => Headline::AwaitingPayment,
        _ if !packages.is_empty() => Headline::PartlyShipped,
        _ => match waiting.first().map(|w| &w.reason) {
            Some(WaitReason::OnHold(r)) => Headline::OnHold(r.clone()),
            Some(WaitReason::Scheduled(d)) => Headline::Scheduled(*d),
            Some(WaitReason::Stage(name)) => Headline::InStage(name.clone()),
            Some(WaitReason::AwaitingPayment) => Headline::AwaitingPayment,
            _ => Headline::Preparing,
        },
    }
}

/// Today, tomorrow, a weekday within the week, or a date.
pub fn relative_day(day: NaiveDate, today: NaiveDate) -> Day {
    match (day - today).num_days() {
        0 => Day::Today,
        1 => Day::Tomorrow,
        2..=6 => Day::Weekday(day.weekday()),
        _ => Day::Date(day),
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// "1 Dec": the short English date the headline uses.
pub fn short_date(d: NaiveDate) -> String {
    format!("{} {}", d.day(), MONTHS[d.month0() as usize])
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Day::Today => f.write_str("today"),
            Day::Tomorrow => f.write_str("tomorrow"),
            Day::Weekday(w) => f.write_str(weekday_name(*w)),
            Day::Date(d) => f.write_str(&short_date(*d)),
        }
    }
}

impl fmt::Display for Headline {
    /// Plain English; the pages translate the structured value instead.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Headline::AwaitingPayment => f.write_str("Waiting for payment"),
            Headline::Preparing => f.write_str("Preparing your order"),
            Headline::InStage(name) => write!(f, "{name}"),
            Headline::OnHold(_) => f.write_str("On hold"),
            Headline::Scheduled(Some(d)) => write!(f, "Scheduled for {}", short_date(*d)),
            Headline::Scheduled(None) => f.write_str("Scheduled"),
            Headline::PartlyShipped => f.write_str("Partly shipped"),
            Headline::OnItsWay => f.write_str("On its way"),
            Headline::Arriving(day) => write!(f, "Arriving {day}"),
            Headline::OutForDelivery => f.write_str("Out for delivery"),
            Headline::ReadyForPickup => f.write_str("Ready for pickup"),
            Headline::Delivered(d) => write!(f, "Delivered on {}", short_date(*d)),
            Headline::DeliveryProblem(Problem::Failed) => f.write_str("Delivery problem"),
            Headline::DeliveryProblem(Problem::AttemptedDelivery) => {
                f.write_str("Delivery attempted")
            }
            Headline::DeliveryProblem(Problem::Delayed) => f.write_str("Delayed"),
            Headline::Cancelled(RefundState::Refunded) => f.write_str("Cancelled and refunded"),
            Headline::Cancelled(RefundState::PartiallyRefunded) => {
                f.write_str("Cancelled and partly refunded")
            }
            Headline::Cancelled(RefundState::Voided) => {
                f.write_str("Cancelled, you were not charged")
            }
            Headline::Cancelled(RefundState::NotRefunded) => f.write_str("Cancelled"),
            Headline::ReturnRequested => f.write_str("Return requested"),
            Headline::ReturnInProgress => f.write_str("Return in progress"),
            Headline::Returned { refunded: true } => f.write_str("Returned and refunded"),
            Headline::Returned { refunded: false } => f.write_str("Returned"),
            Headline::Refunded => f.write_str("Refunded"),
            Headline::NothingToShip => f.write_str("Complete, nothing to ship"),
        }
    }
}

#[cfg(test)]
mod tests;
