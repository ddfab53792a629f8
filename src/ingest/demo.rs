//! Realistic demo orders, deterministic for a seed and a reference time.
//!
//! Order `i` is generated from its own random stream (seed and index mixed
//! with SplitMix64), so generation streams (a million orders need no
//! memory), and any order can be regenerated alone. We use our own small
//! generator instead of `rand`'s `StdRng` because `StdRng` may change its
//! algorithm between versions and the demo must stay the same.
//!
//! The first [`SCENARIOS`]`.len()` orders walk through every scenario once,
//! so even a small demo shows every state the timeline knows (split
//! shipments from two locations, holds, schedules, partial refunds, each
//! return state, each cancel reason, delivery failures, custom stages);
//! after that scenarios are drawn with realistic weights (most orders are
//! delivered or on their way). Times are relative to `now`, so demo
//! parcels are always "arriving Thursday", never two years late.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use crate::order::*;

mod catalog;
mod parcels;

use catalog::*;
use parcels::*;

/// What a demo order is going through.
#[derive(Debug, Clone, PartialEq)]
pub enum Scenario {
    AwaitingPayment,
    Authorized,
    PartiallyPaid,
    Preparing,
    CustomStage,
    OnHold(HoldReason),
    Scheduled,
    RequestDeclined,
    LabelPrinted,
    InTransit,
    OutForDelivery,
    Delivered,
    SplitShipment,
    PartlyShipped,
    DeliveryFailure,
    AttemptedDelivery,
    Delayed,
    ReadyForPickup,
    PickedUp,
    Cancelled(CancelReason),
    ReturnRequested,
    ReturnInProgress,
    Returned,
    ReturnDeclined,
    ReturnCanceled,
    PartiallyRefunded,
    Refunded,
    Archived,
    Digital,
    Expired,
}

/// Every scenario once, in the order the first demo orders take them.
/// How many demo orders a new site seeds into an empty store.
pub const SEED_ORDERS: u64 = 3_000;
/// The seed of the built-in demo, so every new install shows the same orders.
pub const SEED: u64 = 42;

/// Loads the built-in demo ([`SEED_ORDERS`] orders of [`SEED`]) into
/// `store` and returns three orders worth trying (one on its way, a split
/// shipment, one delivered).
pub async fn seed(
    store: &crate::store::Store,
    shop: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Order>, crate::store::StoreError> {
    let orders: Vec<Order> = (0..SEED_ORDERS)
        .map(|i| order(SEED, i, now, shop))
        .collect();
    let samples = orders[..3].to_vec();
    for chunk in orders.chunks(1_000) {
        store.upsert(chunk.to_vec()).await?;
    }
    Ok(samples)
}

pub const SCENARIOS: &[Scenario] = &[
    Scenario::InTransit,
    Scenario::SplitShipment,
    Scenario::Delivered,
    Scenario::Preparing,
    Scenario::CustomStage,
    Scenario::OnHold(HoldReason::InventoryOutOfStock),
    Scenario::OnHold(HoldReason::AwaitingPayment),
    Scenario::OnHold(HoldReason::IncorrectAddress),
    Scenario::Scheduled,
    Scenario::OutForDelivery,
    Scenario::PartlyShipped,
    Scenario::DeliveryFailure,
    Scenario::AttemptedDelivery,
    Scenario::Delayed,
    Scenario::ReadyForPickup,
    Scenario::PickedUp,
    Scenario::LabelPrinted,
    Scenario::Cancelled(CancelReason::Customer),
    Scenario::Cancelled(CancelReason::Declined),
    Scenario::Cancelled(CancelReason::Fraud),
    Scenario::Cancelled(CancelReason::Inventory),
    Scenario::Cancelled(CancelReason::Other),
    Scenario::Cancelled(CancelReason::Staff),
    Scenario::ReturnRequested,
    Scenario::ReturnInProgress,
    Scenario::Returned,
    Scenario::ReturnDeclined,
    Scenario::ReturnCanceled,
    Scenario::PartiallyRefunded,
    Scenario::Refunded,
    Scenario::Archived,
    Scenario::Digital,
    Scenario::AwaitingPayment,
    Scenario::Authorized,
    Scenario::PartiallyPaid,
    Scenario::Expired,
    Scenario::RequestDeclined,
];

/// Weights (per mille) of the scenarios after the first walk-through.
const WEIGHTED: &[(u32, Scenario)] = &[
    (300, Scenario::Delivered),
    (130, Scenario::InTransit),
    (80, Scenario::Preparing),
    (60, Scenario::Archived),
    (45, Scenario::SplitShipment),
    (40, Scenario::OutForDelivery),
    (35, Scenario::CustomStage),
    (30, Scenario::LabelPrinted),
    (30, Scenario::PartlyShipped),
    (25, Scenario::Authorized),
    (20, Scenario::OnHold(HoldReason::InventoryOutOfStock)),
    (20, Scenario::Scheduled),
    (20, Scenario::PartiallyRefunded),
    (15, Scenario::Returned),
    (15, Scenario::ReturnInProgress),
    (12, Scenario::ReturnRequested),
    (12, Scenario::Delayed),
    (10, Scenario::AwaitingPayment),
    (10, Scenario::Cancelled(CancelReason::Customer)),
    (8, Scenario::ReadyForPickup),
    (8, Scenario::PickedUp),
    (8, Scenario::AttemptedDelivery),
    (6, Scenario::DeliveryFailure),
    (6, Scenario::Refunded),
    (5, Scenario::Digital),
    (5, Scenario::Cancelled(CancelReason::Inventory)),
    (4, Scenario::ReturnDeclined),
    (3, Scenario::ReturnCanceled),
    (3, Scenario::Cancelled(CancelReason::Fraud)),
    (3, Scenario::OnHold(HoldReason::HighRiskOfFraud)),
    (3, Scenario::PartiallyPaid),
    (2, Scenario::Cancelled(CancelReason::Declined)),
    (2, Scenario::Cancelled(CancelReason::Staff)),
    (2, Scenario::Cancelled(CancelReason::Other)),
    (2, Scenario::Expired),
    (2, Scenario::RequestDeclined),
];

/// SplitMix64: tiny, fast, and fixed forever.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn for_order(seed: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, per_cent: u64) -> bool {
        self.below(100) < per_cent
    }
    /// A duration of `lo..hi` hours, at minute resolution.
    fn hours(&mut self, lo: i64, hi: i64) -> Duration {
        let span = ((hi - lo).max(1) * 60) as u64;
        Duration::minutes(lo * 60 + self.below(span) as i64)
    }
}

const ID_BASE: u64 = 5_100_000_000;

/// Generates demo order `index` (0-based) of shop `shop` for `seed`, as of
/// `now`. Order numbers start at 1001.
pub fn order(seed: u64, index: u64, now: DateTime<Utc>, shop: &str) -> Order {
    // Whole seconds: the demo's times should look like a shop's.
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    let mut rng = Rng::for_order(seed, index);
    let scenario = pick(&mut rng, index);
    build(&mut rng, index, scenario, now, shop)
}

/// The scenario demo order `index` has (without building it).
pub fn scenario(seed: u64, index: u64) -> Scenario {
    pick(&mut Rng::for_order(seed, index), index)
}

/// The walk-through first, then weighted draws.
fn pick(rng: &mut Rng, index: u64) -> Scenario {
    match SCENARIOS.get(index as usize) {
        Some(s) => s.clone(),
        None => weighted(rng),
    }
}

fn weighted(rng: &mut Rng) -> Scenario {
    let total: u32 = WEIGHTED.iter().map(|(w, _)| w).sum();
    let mut roll = rng.below(u64::from(total)) as u32;
    for (w, s) in WEIGHTED {
        if roll < *w {
            return s.clone();
        }
        roll -= w;
    }
    Scenario::Delivered
}

fn ascii_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'å' | 'ä' | 'á' | 'à' | 'â' => 'a',
            'Å' | 'Ä' => 'a',
            'ö' | 'ø' | 'ó' | 'ô' => 'o',
            'Ö' => 'o',
            'ü' | 'ú' => 'u',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'É' => 'e',
            'ï' | 'í' => 'i',
            'ç' => 'c',
            'ß' => 's',
            c => c.to_ascii_lowercase(),
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

fn money(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

fn build(rng: &mut Rng, index: u64, scenario: Scenario, now: DateTime<Utc>, shop: &str) -> Order {
    use Scenario as S;
    let country = rng.pick(COUNTRIES);
    let first = *rng.pick(country.first);
    let last = *rng.pick(country.last);
    let (city, province) = *rng.pick(country.cities);
    let id = ID_BASE + index;
    let number = 1001 + index;
    let email = if rng.chance(30) {
        format!(
            "{}{}@example.{}",
            ascii_fold(first),
            rng.below(100),
            country.tld
        )
    } else {
        format!(
            "{}.{}@example.{}",
            ascii_fold(first),
            ascii_fold(last),
            country.tld
        )
    };

    // How long ago the order was placed, by how far along it is.
    let age = match &scenario {
        S::AwaitingPayment | S::Authorized | S::PartiallyPaid | S::Preparing => rng.hours(1, 48),
        S::CustomStage | S::OnHold(_) | S::Scheduled | S::RequestDeclined => rng.hours(24, 120),
        S::LabelPrinted | S::Digital => rng.hours(12, 60),
        S::InTransit | S::Delayed | S::PartlyShipped | S::SplitShipment => rng.hours(48, 120),
        S::OutForDelivery | S::AttemptedDelivery | S::ReadyForPickup | S::DeliveryFailure => {
            rng.hours(72, 168)
        }
        S::Cancelled(_) | S::Expired => rng.hours(24, 24 * 30),
        S::Delivered | S::PickedUp | S::PartiallyRefunded | S::Refunded => {
            rng.hours(24 * 6, 24 * 45)
        }
        S::ReturnRequested | S::ReturnInProgress | S::ReturnDeclined | S::ReturnCanceled => {
            rng.hours(24 * 10, 24 * 30)
        }
        S::Returned | S::Archived => rng.hours(24 * 20, 24 * 120),
    };
    let created = now - age;

    let mut line_items = Vec::new();
    if scenario == S::Digital {
        line_items.push(line_item(rng, id, 0, &GIFT_CARD, country, false));
    } else {
        let n = match &scenario {
            S::SplitShipment | S::PartlyShipped => 2 + rng.below(2),
            _ => 1 + rng.below(3),
        };
        let mut used = Vec::new();
        for k in 0..n {
            let mut p = rng.below(PRODUCTS.len() as u64) as usize;
            while used.contains(&p) {
                p = (p + 1) % PRODUCTS.len();
            }
            used.push(p);
            line_items.push(line_item(rng, id, k, &PRODUCTS[p], country, true));
        }
    }
    let subtotal: Decimal = line_items
        .iter()
        .map(|li| li.price.unwrap_or_default() * Decimal::from(li.quantity))
        .sum();
    // Shipping and discounts follow from the order's id, not the random
    // stream, so that adding them left every other demo fact as it was.
    let ships = line_items.iter().any(|li| li.requires_shipping);
    let (method, shipping_usd_cents) = if id.is_multiple_of(5) {
        ("Express", 1490)
    } else {
        ("Standard", 490)
    };
    let shipping = ships.then(|| {
        let cents = shipping_usd_cents * country.price_pct / 100;
        money((cents / 100) * 100 + 90)
    });
    let discount = if id.is_multiple_of(7) {
        (subtotal * Decimal::new(10, 2)).round_dp(2)
    } else {
        Decimal::ZERO
    };
    // European prices include VAT (the shopper pays the price shown, and
    // the summary says how much of it is tax); American ones get sales tax
    // added at checkout.
    let vat_pct = match country.code {
        "SE" => 25,
        "DE" => 19,
        "FR" | "GB" => 20,
        _ => 0,
    };
    let taxes_included = vat_pct > 0;
    // A gift card is money paid in advance, taxed when it is spent.
    let (vat_pct, sales_tax_pct) = if scenario == S::Digital {
        (0, 0)
    } else {
        (vat_pct, 8)
    };
    let (tax, total) = if taxes_included {
        let gross = subtotal - discount + shipping.unwrap_or_default();
        let net = (gross * Decimal::from(100) / Decimal::from(100 + vat_pct)).round_dp(2);
        (gross - net, gross)
    } else {
        let tax = ((subtotal - discount) * Decimal::new(sales_tax_pct, 2)).round_dp(2);
        (
            tax,
            subtotal - discount + shipping.unwrap_or_default() + tax,
        )
    };

    let mut o = Order {
        shop: shop.to_string(),
        id,
        name: format!("#{number}"),
        order_number: number,
        email,
        phone: rng
            .chance(60)
            .then(|| format!("{}{:07}", country.phone_prefix, rng.below(10_000_000))),
        currency: country.currency.to_string(),
        shop_currency: None,
        shop_total_price: None,
        // Shoppers check out in their country's language.
        customer_locale: Some(
            match country.code {
                "SE" => "sv-SE",
                "DE" => "de-DE",
                "FR" => "fr-FR",
                "GB" => "en-GB",
                _ => "en-US",
            }
            .to_string(),
        ),
        shipping_method: ships.then(|| method.to_string()),
        total_shipping: shipping,
        subtotal_price: Some(subtotal),
        total_tax: Some(tax),
        taxes_included,
        total_discounts: Some(discount),
        total_price: Some(total),
        created_at: Some(created),
        processed_at: Some(created),
        updated_at: Some(created),
        closed_at: None,
        cancelled_at: None,
        cancel_reason: None,
        tags: if rng.chance(15) {
            vec!["vip".to_string()]
        } else {
            Vec::new()
        },
        customer: Some(Customer {
            first_name: Some(first.to_string()),
            last_name: Some(last.to_string()),
        }),
        shipping_address: Some(Address {
            name: Some(format!("{first} {last}")),
            address1: Some(format!(
                "{} {}",
                rng.pick(country.streets),
                1 + rng.below(120)
            )),
            address2: None,
            city: Some(city.to_string()),
            province: Some(province.to_string()),
            zip: Some(format!("{:05}", rng.below(99_999))),
            country: Some(country.name.to_string()),
            country_code: Some(country.code.to_string()),
            phone: None,
        }),
        line_items,
        financial_status: FinancialStatus::Paid,
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        fulfillment_orders: Vec::new(),
        fulfillments: Vec::new(),
        returns: Vec::new(),
        return_status: None,
        refunds: Vec::new(),
        custom_stages: Vec::new(),
        status_history: Vec::new(),
        pending_events: Vec::new(),
        mail: Default::default(),
        desk: Default::default(),
        withheld: Vec::new(),
    };
    let all_items: Vec<u64> = o.line_items.iter().map(|li| li.id).collect();
    let carrier = rng.pick(country.carriers);
    let mut last_update = created;

    match scenario {
        S::AwaitingPayment => {
            o.financial_status = FinancialStatus::Pending;
            o.fulfillment_orders
                .push(work_order(&o, 0, FulfillmentOrderStatus::Open, &all_items));
        }
        S::Authorized | S::PartiallyPaid | S::Preparing => {
            o.financial_status = match scenario {
                S::Authorized => FinancialStatus::Authorized,
                S::PartiallyPaid => FinancialStatus::PartiallyPaid,
                _ => FinancialStatus::Paid,
            };
            o.fulfillment_orders
                .push(work_order(&o, 0, FulfillmentOrderStatus::Open, &all_items));
        }
        S::Expired => {
            o.financial_status = FinancialStatus::Expired;
            o.fulfillment_orders
                .push(work_order(&o, 0, FulfillmentOrderStatus::Open, &all_items));
        }
        S::RequestDeclined => {
            o.fulfillment_status = FulfillmentStatus::RequestDeclined;
            o.fulfillment_orders
                .push(work_order(&o, 0, FulfillmentOrderStatus::Open, &all_items));
        }
        S::CustomStage => {
            o.fulfillment_status = FulfillmentStatus::InProgress;
            o.fulfillment_orders.push(work_order(
                &o,
                0,
                FulfillmentOrderStatus::InProgress,
                &all_items,
            ));
            let names: &[&str] = if rng.chance(50) {
                &["Engraving", "Quality check"]
            } else {
                &["Made to order", "Quality check"]
            };
            let mut at = created + rng.hours(2, 12);
            let stages = 1 + rng.below(names.len() as u64) as usize;
            for name in &names[..stages] {
                if at > now {
                    break;
                }
                o.custom_stages.push(CustomStage {
                    name: name.to_string(),
                    at,
                });
                last_update = at;
                at += rng.hours(12, 36);
            }
        }
        S::OnHold(reason) => {
            o.fulfillment_status = FulfillmentStatus::OnHold;
            let mut fo = work_order(&o, 0, FulfillmentOrderStatus::OnHold, &all_items);
            fo.fulfillment_holds.push(FulfillmentHold {
                reason,
                reason_notes: None,
            });
            o.fulfillment_orders.push(fo);
            last_update = created + rng.hours(1, 20);
        }
        S::Scheduled => {
            o.fulfillment_status = FulfillmentStatus::Scheduled;
            let mut fo = work_order(&o, 0, FulfillmentOrderStatus::Scheduled, &all_items);
            fo.fulfill_at = Some(now + rng.hours(24, 24 * 10));
            o.fulfillment_orders.push(fo);
        }
        S::LabelPrinted
        | S::InTransit
        | S::OutForDelivery
        | S::Delivered
        | S::DeliveryFailure
        | S::AttemptedDelivery
        | S::Delayed
        | S::ReadyForPickup
        | S::PickedUp
        | S::PartiallyRefunded
        | S::Archived
        | S::ReturnRequested
        | S::ReturnInProgress
        | S::Returned
        | S::ReturnDeclined
        | S::ReturnCanceled => {
            let target = match scenario {
                S::LabelPrinted => TrackingStatus::LabelPrinted,
                S::InTransit => TrackingStatus::InTransit,
                S::OutForDelivery => TrackingStatus::OutForDelivery,
                S::DeliveryFailure => TrackingStatus::Failure,
                S::AttemptedDelivery => TrackingStatus::AttemptedDelivery,
                S::Delayed => TrackingStatus::Delayed,
                S::ReadyForPickup => TrackingStatus::ReadyForPickup,
                S::PickedUp => TrackingStatus::PickedUp,
                _ => TrackingStatus::Delivered,
            };
            o.fulfillment_status = FulfillmentStatus::Fulfilled;
            o.fulfillment_orders.push(work_order(
                &o,
                0,
                FulfillmentOrderStatus::Closed,
                &all_items,
            ));
            let f = shipment(rng, &o, 0, 0, carrier, &all_items, created, now, target);
            last_update = f.updated_at.unwrap_or(created);
            o.fulfillments.push(f);
            last_update = after_delivery(rng, &mut o, &scenario, last_update, now);
        }
        S::SplitShipment => {
            let (a, b) = all_items.split_at(all_items.len() / 2);
            o.fulfillment_status = FulfillmentStatus::Fulfilled;
            o.fulfillment_orders
                .push(work_order(&o, 0, FulfillmentOrderStatus::Closed, a));
            o.fulfillment_orders
                .push(work_order(&o, 1, FulfillmentOrderStatus::Closed, b));
            let f1 = shipment(
                rng,
                &o,
                0,
                0,
                carrier,
                a,
                created,
                now,
                TrackingStatus::Delivered,
            );
            let later = created + rng.hours(6, 30);
            let f2 = shipment(
                rng,
                &o,
                1,
                1,
                &DHL,
                b,
                later,
                now,
                TrackingStatus::InTransit,
            );
            last_update = f1.updated_at.max(f2.updated_at).unwrap_or(created);
            o.fulfillments.extend([f1, f2]);
        }
        S::PartlyShipped => {
            let (a, b) = all_items.split_at(1);
            o.fulfillment_status = FulfillmentStatus::PartiallyFulfilled;
            o.fulfillment_orders
                .push(work_order(&o, 0, FulfillmentOrderStatus::Closed, a));
            o.fulfillment_orders
                .push(work_order(&o, 1, FulfillmentOrderStatus::InProgress, b));
            let f = shipment(
                rng,
                &o,
                0,
                0,
                carrier,
                a,
                created,
                now,
                TrackingStatus::InTransit,
            );
            last_update = f.updated_at.unwrap_or(created);
            o.fulfillments.push(f);
        }
        S::Cancelled(reason) => {
            let at = created + rng.hours(1, 30).min(age);
            o.cancelled_at = Some(at);
            o.closed_at = Some(at);
            o.financial_status = match reason {
                CancelReason::Declined | CancelReason::Fraud => FinancialStatus::Voided,
                _ => FinancialStatus::Refunded,
            };
            if o.financial_status == FinancialStatus::Refunded {
                refund(&mut o, 0, total, at, Some("Order cancelled"));
            }
            o.cancel_reason = Some(reason);
            o.fulfillment_orders.push(work_order(
                &o,
                0,
                FulfillmentOrderStatus::Cancelled,
                &all_items,
            ));
            last_update = at;
        }
        S::Refunded => {
            let at = created + rng.hours(2, 48);
            o.financial_status = FinancialStatus::Refunded;
            refund(
                &mut o,
                0,
                total,
                at,
                Some("Refunded at the customer's request"),
            );
            o.fulfillment_orders.push(work_order(
                &o,
                0,
                FulfillmentOrderStatus::Cancelled,
                &all_items,
            ));
            last_update = at;
        }
        S::Digital => {
            o.fulfillment_status = FulfillmentStatus::FulfillmentNotRequired;
        }
    }
    o.updated_at = Some(last_update.min(now));
    o
}

fn line_item(
    rng: &mut Rng,
    order_id: u64,
    k: u64,
    p: &Product,
    c: &Country,
    ship: bool,
) -> LineItem {
    let variant = *rng.pick(p.variants);
    let cents = p.price * c.price_pct / 100;
    // Round to a price a shop would set (x.00 or x.90 style).
    let cents = (cents / 100) * 100 + if cents % 100 >= 50 { 90 } else { 0 };
    LineItem {
        id: order_id * 10 + k,
        title: p.title.to_string(),
        variant_title: Some(variant.to_string()),
        sku: Some(format!(
            "{}-{}",
            p.sku,
            ascii_fold(variant).to_ascii_uppercase()
        )),
        quantity: if rng.chance(15) { 2 } else { 1 },
        current_quantity: None,
        price: Some(money(cents)),
        image_url: Some(format!("/demo/products/{}.svg", p.sku.to_ascii_lowercase())),
        requires_shipping: ship,
    }
}

fn work_order(
    o: &Order,
    k: u64,
    status: FulfillmentOrderStatus,
    items: &[u64],
) -> FulfillmentOrder {
    let (name, city, cc) = LOCATIONS[k as usize % LOCATIONS.len()];
    FulfillmentOrder {
        id: o.id * 10 + k,
        status,
        fulfill_at: None,
        assigned_location: Some(Location {
            location_id: Some(70_000 + k),
            name: Some(name.to_string()),
            city: Some(city.to_string()),
            country_code: Some(cc.to_string()),
        }),
        fulfillment_holds: Vec::new(),
        request_status: None,
        line_items: o
            .line_items
            .iter()
            .filter(|li| items.contains(&li.id))
            .map(|li| FulfillmentOrderLineItem {
                line_item_id: li.id,
                quantity: li.quantity,
            })
            .collect(),
        updated_at: None,
    }
}

/// The carrier scans from label to `target`, in order.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::timeline::{Headline, Timeline};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn same_seed_same_orders_other_seed_other_orders() {
        let a: Vec<_> = (0..50).map(|i| order(7, i, now(), "s")).collect();
        let b: Vec<_> = (0..50).map(|i| order(7, i, now(), "s")).collect();
        let c: Vec<_> = (0..50).map(|i| order(8, i, now(), "s")).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn every_scenario_appears_in_the_first_orders_and_validates() {
        for (i, s) in SCENARIOS.iter().enumerate() {
            assert_eq!(&scenario(1, i as u64), s);
            let o = order(1, i as u64, now(), "demo.example");
            let o = o.validated("").expect("demo orders are valid");
            assert!(o.updated_at <= Some(now()), "{s:?} updated in the future");
            assert!(o.created_at <= o.updated_at, "{s:?}");
        }
    }

    /// What a shopper checks on a receipt: the summary adds up to the total,
    /// the taxes inside the prices in Europe and on top in America, and
    /// each parcel's scans in the order they happened, at believable
    /// speeds, none before the parcel was handed over.
    #[test]
    fn demo_orders_add_up_and_travel_believably() {
        for i in 0..400 {
            let o = order(5, i, now(), "s");
            let (Some(sub), Some(tax), Some(total)) =
                (o.subtotal_price, o.total_tax, o.total_price)
            else {
                panic!("{}: a demo order has its amounts", o.name);
            };
            let paid =
                sub - o.total_discounts.unwrap_or_default() + o.total_shipping.unwrap_or_default();
            let country = o
                .shipping_address
                .as_ref()
                .and_then(|a| a.country_code.as_deref());
            let european = matches!(country, Some("SE" | "DE" | "FR" | "GB"));
            if country.is_some() {
                assert_eq!(o.taxes_included, european, "{}: VAT in the price", o.name);
            }
            let expected = if o.taxes_included { paid } else { paid + tax };
            assert_eq!(total, expected, "{}: the summary adds up", o.name);
            for f in &o.fulfillments {
                let times: Vec<_> = f.events.iter().filter_map(|e| e.happened_at).collect();
                assert!(
                    times.windows(2).all(|w| w[0] <= w[1]),
                    "{}: scans in order",
                    o.name
                );
                if let (Some(first), Some(last), Some(shipped)) =
                    (times.first(), times.last(), f.created_at)
                {
                    assert!(
                        *first >= shipped,
                        "{}: a scan before the parcel left",
                        o.name
                    );
                    assert!(
                        *last - *first <= chrono::Duration::days(8),
                        "{}: {} days on the way",
                        o.name,
                        (*last - *first).num_days()
                    );
                }
            }
        }
    }

    #[test]
    fn demo_orders_show_the_intended_headline() {
        let headline = |s: Scenario| {
            let i = SCENARIOS.iter().position(|x| *x == s).expect("listed") as u64;
            Timeline::of(&order(3, i, now(), "s"), now(), chrono_tz::UTC).headline
        };
        assert!(matches!(
            headline(Scenario::InTransit),
            Headline::Arriving(_)
        ));
        assert!(matches!(
            headline(Scenario::Delivered),
            Headline::Delivered(_)
        ));
        assert_eq!(headline(Scenario::PartlyShipped), Headline::PartlyShipped);
        assert_eq!(
            headline(Scenario::Scheduled),
            Headline::Scheduled(headline_date(Scenario::Scheduled))
        );
        assert_eq!(
            headline(Scenario::OnHold(HoldReason::IncorrectAddress)),
            Headline::OnHold(HoldReason::IncorrectAddress)
        );
        assert!(matches!(
            headline(Scenario::CustomStage),
            Headline::InStage(_)
        ));
        assert_eq!(
            headline(Scenario::ReturnRequested),
            Headline::ReturnRequested
        );
        assert_eq!(
            headline(Scenario::ReturnInProgress),
            Headline::ReturnInProgress
        );
        assert!(matches!(
            headline(Scenario::Returned),
            Headline::Returned { refunded: true }
        ));
        assert!(matches!(
            headline(Scenario::Cancelled(CancelReason::Fraud)),
            Headline::Cancelled(_)
        ));
        assert_eq!(headline(Scenario::Refunded), Headline::Refunded);
        assert_eq!(
            headline(Scenario::AwaitingPayment),
            Headline::AwaitingPayment
        );
        assert_eq!(headline(Scenario::Digital), Headline::NothingToShip);
        assert_eq!(headline(Scenario::OutForDelivery), Headline::OutForDelivery);
        assert_eq!(headline(Scenario::ReadyForPickup), Headline::ReadyForPickup);
    }

    fn headline_date(s: Scenario) -> Option<chrono::NaiveDate> {
        let i = SCENARIOS.iter().position(|x| *x == s).expect("listed") as u64;
        order(3, i, now(), "s").fulfillment_orders[0]
            .fulfill_at
            .map(|t| t.date_naive())
    }

    #[test]
    fn split_shipments_come_from_two_locations() {
        let i = SCENARIOS
            .iter()
            .position(|x| *x == Scenario::SplitShipment)
            .expect("listed") as u64;
        let o = order(5, i, now(), "s");
        assert_eq!(o.fulfillments.len(), 2);
        assert_ne!(
            o.fulfillments[0].location_name,
            o.fulfillments[1].location_name
        );
    }

    /// What a shopper could check against a map and a calendar, for
    /// 10,000 generated orders: scans in time order along the route from
    /// the warehouse through a hub to the shopper's city, the last mile
    /// in that city, refunds after the payment, returns after delivery.
    #[test]
    fn demo_parcels_could_happen() {
        use TrackingStatus as T;
        let now = now();
        for i in 0..10_000 {
            let o = order(11, i, now, "demo.example");
            let to = o.shipping_address.as_ref().expect("an address");
            let city = to.city.as_deref().expect("a city");
            let country = COUNTRIES
                .iter()
                .find(|c| Some(c.code) == to.country_code.as_deref())
                .expect("a demo country");
            let paid = o.processed_at.or(o.created_at).expect("placed");
            for f in &o.fulfillments {
                let (_, warehouse, _) = LOCATIONS
                    .iter()
                    .find(|(name, _, _)| Some(*name) == f.location_name.as_deref())
                    .expect("a demo warehouse");
                let times: Vec<_> = f.events.iter().map(|e| e.happened_at).collect();
                assert!(times.is_sorted(), "#{i}: scans out of order");
                assert!(
                    times.iter().all(|t| *t <= Some(now)),
                    "#{i}: a scan in the future"
                );
                assert!(
                    f.created_at >= Some(paid),
                    "#{i}: shipped before it was placed"
                );
                for e in &f.events {
                    let at = e.city.as_deref().expect("a city");
                    match e.status {
                        T::LabelPrinted | T::CarrierPickedUp => {
                            assert_eq!(at, *warehouse, "#{i}: {:?}", e.status)
                        }
                        T::InTransit | T::Delayed => {
                            assert_eq!(at, country.hub, "#{i}: {:?}", e.status)
                        }
                        _ => {
                            assert_eq!(at, city, "#{i}: {:?} away from the shopper", e.status);
                            assert_eq!(e.country.as_deref(), Some(country.code), "#{i}");
                        }
                    }
                }
            }
            for r in &o.refunds {
                assert!(
                    r.at().is_none_or(|t| t >= paid),
                    "#{i}: refunded before paid"
                );
            }
            let delivered = o.fulfillments.iter().filter_map(|f| f.delivered_at).min();
            for r in &o.returns {
                let (Some(asked), Some(delivered)) = (r.created_at, delivered) else {
                    panic!("#{i}: a return of an order never delivered");
                };
                assert!(asked >= delivered, "#{i}: returned before delivery");
            }
        }
    }

    #[test]
    fn several_countries_swedish_among_them() {
        let countries: std::collections::HashSet<_> = (0..200)
            .filter_map(|i| order(9, i, now(), "s").shipping_address?.country_code)
            .collect();
        assert!(countries.len() >= 4, "{countries:?}");
        assert!(countries.contains("SE"));
    }
}
