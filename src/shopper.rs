//! The shopper's view of an order: everything a shopper may see, and
//! nothing else, worked out once from an [`Order`] and the time.
//!
//! The status page, the JSON API and the status emails all render
//! a [`ShopperView`], so they cannot disagree about what a shopper is told,
//! and every privacy rule lives here: the email masked, the address cut to
//! city and country, no phone, street or card, only web tracking URLs (see
//! `order::timeline`), no zero-amount refunds, impossible money as `None`.
//! Pure: no I/O, no language (the renderers translate).
//!
//! What always holds, whatever the order's state (checked as properties
//! over generated orders in `shopper/invariants.rs`):
//! 1. Every unit of every line is in exactly one place: a package, shipped
//!    without a known parcel, waiting, won't ship, returned, removed, or
//!    nothing to ship. The places of a line add up to its quantity.
//! 2. Nothing "waits to ship" in a cancelled order or one refunded in full:
//!    those units say they won't ship.
//! 3. Packages are numbered 1..n; "of n" is said only when no unit still
//!    waits to ship; an item's package is one of them.
//! 4. Once a parcel has left, the Shipped step is done (unless the order
//!    was cancelled, which ends the path).
//! 5. An order with nothing to ship has no destination and no step past
//!    "confirmed"; nor has one cancelled or refunded before anything
//!    left a destination.
//! 6. No estimate is in the past, and none is on a parcel out for delivery,
//!    delivered, or whose delivery failed.
//! 7. An on-hold headline names the reason of a hold the order has.
//! 8. A merchant's note to the shopper is never hidden.
//! 9. Nothing private is in the view: no street, postcode or phone, no
//!    whole email (a pickup point's street is a public place, and only
//!    its scans keep one).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::order::timeline::{StepKind, StepStatus, Timeline, WaitReason};
use crate::order::{CancelReason, FinancialStatus, FulfillmentDisplayStatus, Order, ReturnState};

/// What a shopper sees of one order.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopperView {
    /// `#1001`.
    pub name: String,
    pub placed_at: Option<DateTime<Utc>>,
    /// Headline, steps, packages with tracking, items not shipped and why.
    pub timeline: Timeline,
    pub cancellation: Option<Cancellation>,
    /// City and country: as precise as a shopper page gets.
    pub destination: Option<Destination>,
    /// `a***@example.se`; `None` for an order without an email.
    pub masked_email: Option<String>,
    /// Shopify withheld the email from the shop's app (protected customer
    /// data): the page says it is not available rather than nothing.
    pub email_withheld: bool,
    pub payment: Payment,
    /// Every line of the order and where each unit of it is.
    pub items: Vec<ItemView>,
    pub returns: Vec<ReturnView>,
    /// Refunds with an amount (a zero refund is a restock, not money).
    pub refunds: Vec<RefundLine>,
    /// The merchant's note for the shopper on the status the order is in
    /// (only while the headline is that status).
    pub status_note: Option<String>,
}

/// Where the order goes, without the street.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    pub city: Option<String>,
    /// ISO 3166 code (`SE`): renderers name it in the page's language.
    pub country_code: Option<String>,
    /// The name Shopify gave, for when the code is missing or unknown.
    pub country: Option<String>,
    /// Everything sent there has arrived and nothing more will go: the
    /// page says "delivered to", not "shipping to".
    pub arrived: bool,
}

impl Destination {
    /// "Göteborg, Sverige", with `country_name` naming a country code.
    pub fn text(&self, country_name: impl Fn(&str) -> Option<String>) -> String {
        let country = self
            .country_code
            .as_deref()
            .and_then(country_name)
            .or_else(|| self.country.clone());
        [self.city.clone(), country]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One line of the order, as the shopper sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemView {
    pub title: String,
    pub variant_title: Option<String>,
    /// As ordered.
    pub quantity: u32,
    /// Per unit, in the order's currency.
    pub price: Option<Decimal>,
    /// An `https://` URL or a path on this site; see
    /// [`ShopperView::keep_images_from`].
    pub image: Option<String>,
    /// Where the units are: they add up to `quantity` (returns aside,
    /// which are units that were delivered first).
    pub places: Vec<ItemPlace>,
}

/// Some units of a line, and where they are.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemPlace {
    pub quantity: u32,
    pub place: Place,
}

/// Where units of a line are.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// In "Package `number` of `of`", which is at `status`.
    Package {
        number: usize,
        /// How many packages, once no more are to come.
        of: Option<usize>,
        status: FulfillmentDisplayStatus,
    },
    /// Shipped, with no parcel known (Shopify said so without the shipment).
    Shipped,
    /// Not shipped yet, and why; it will ship.
    Waiting(WaitReason),
    /// Will not ship: the order was cancelled.
    Cancelled,
    /// Will not ship: the order was refunded before it shipped.
    Refunded,
    /// Sent back (or on the way back), in a return at this state.
    Returned(ReturnState),
    /// Taken off the order (refunded or edited out).
    Removed,
    /// Nothing to ship: a download, a gift card.
    NoShipping,
}

/// Why an order was cancelled and what happened to the money.
#[derive(Debug, Clone, PartialEq)]
pub struct Cancellation {
    /// Shopify's reason; an unknown one reads as `Other`.
    pub reason: Option<CancelReason>,
    pub money: CancelMoney,
}

/// The money of a cancelled order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelMoney {
    Refunded,
    PartlyRefunded,
    /// The payment was voided or expired: never taken.
    Voided,
    NotRefunded,
}

impl CancelMoney {
    pub fn as_str(self) -> &'static str {
        match self {
            CancelMoney::Refunded => "refunded",
            CancelMoney::PartlyRefunded => "partly_refunded",
            CancelMoney::Voided => "voided",
            CancelMoney::NotRefunded => "not_refunded",
        }
    }
}

/// Payment in the currency the shopper paid.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub status: FinancialStatus,
    pub currency: String,
    pub total: Option<Decimal>,
    /// `None` when the refunds add up to an impossible amount.
    pub refunded: Option<Decimal>,
    pub subtotal: Option<Decimal>,
    pub shipping: Option<Decimal>,
    /// "Standard", "Express"; the shipping line's title.
    pub shipping_method: Option<String>,
    /// As a positive amount taken off.
    pub discounts: Option<Decimal>,
    pub taxes: Option<Decimal>,
    /// The taxes are part of the prices (not added to them).
    pub taxes_included: bool,
}

impl Payment {
    /// The payment of `order`, as its summary shows it.
    pub fn of(order: &Order) -> Payment {
        Payment {
            status: order.financial_status.clone(),
            currency: order.currency.clone(),
            total: order.total_price,
            refunded: order.refunded_amount(),
            subtotal: order.subtotal_price,
            shipping: order.total_shipping,
            shipping_method: order
                .shipping_method
                .clone()
                .filter(|m| !m.trim().is_empty()),
            discounts: order
                .total_discounts
                .filter(|d| !d.is_zero())
                .map(|d| d.abs()),
            taxes: order.total_tax,
            taxes_included: order.taxes_included,
        }
    }

    /// What the shopper paid after refunds, when something was refunded.
    pub fn net(&self) -> Option<Decimal> {
        match (self.total, self.refunded) {
            (Some(t), Some(r)) if !r.is_zero() => Some((t - r).max(Decimal::ZERO)),
            _ => None,
        }
    }
}

/// One return, as the shopper sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnView {
    /// The return's name, or the order's when Shopify gave none.
    pub name: String,
    pub status: ReturnState,
    pub items: Vec<ReturnItemView>,
    /// Return parcels that have a tracking number.
    pub tracking: Vec<ReturnTracking>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReturnItemView {
    pub title: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReturnTracking {
    pub carrier: Option<String>,
    pub number: String,
}

/// One refund: `None` amount when it cannot be added up.
#[derive(Debug, Clone, PartialEq)]
pub struct RefundLine {
    pub amount: Option<Decimal>,
    pub at: Option<DateTime<Utc>>,
}

impl ShopperView {
    /// The view of `order` as of `now`, with days counted in `tz`.
    pub fn of(order: &Order, now: DateTime<Utc>, tz: Tz) -> ShopperView {
        let timeline = Timeline::of(order, now, tz);
        // The merchant wrote it for the shopper: shown whatever the
        // headline says (a hold or a parcel does not make it untrue).
        let status_note = order
            .custom_status()
            .and_then(|c| c.note.clone())
            .filter(|n| !n.trim().is_empty());
        // A destination only while something went or will go there: not
        // for a download, nor for an order cancelled or refunded before
        // anything left.
        let sent_or_will = !timeline.packages.is_empty()
            || timeline.waiting.iter().any(|w| w.reason.will_ship())
            || timeline
                .steps
                .iter()
                .any(|s| s.kind == StepKind::Shipped && s.status == StepStatus::Done);
        let ships = sent_or_will
            && order
                .line_items
                .iter()
                .any(|li| li.requires_shipping && li.live_quantity() > 0);
        let arrived = arrived(&timeline);
        ShopperView {
            name: order.name.clone(),
            placed_at: order.processed_at.or(order.created_at),
            timeline,
            status_note,
            cancellation: order.cancelled_at.is_some().then(|| cancellation(order)),
            destination: ships
                .then(|| destination(order))
                .flatten()
                .map(|d| Destination { arrived, ..d }),
            masked_email: (!order.email.trim().is_empty()).then(|| mask_email(&order.email)),
            email_withheld: order.email.trim().is_empty() && order.is_withheld("email"),
            payment: Payment::of(order),
            items: Vec::new(),
            returns: order
                .returns
                .iter()
                .map(|r| ReturnView {
                    name: r.name.clone().unwrap_or_else(|| order.name.clone()),
                    status: r.status.clone(),
                    items: r
                        .line_items
                        .iter()
                        .map(|it| ReturnItemView {
                            title: it.title.clone(),
                            quantity: it.quantity,
                        })
                        .collect(),
                    tracking: r
                        .tracking
                        .iter()
                        .filter_map(|t| {
                            let number = t.number.clone().filter(|n| !n.trim().is_empty())?;
                            Some(ReturnTracking {
                                carrier: t.company.clone().filter(|c| !c.trim().is_empty()),
                                number,
                            })
                        })
                        .collect(),
                })
                .collect(),
            refunds: order
                .refunds
                .iter()
                .filter(|r| r.amount().is_none_or(|a| !a.is_zero()))
                .map(|r| RefundLine {
                    amount: r.amount(),
                    at: r.at(),
                })
                .collect(),
        }
        .with_items(order)
    }

    fn with_items(mut self, order: &Order) -> ShopperView {
        let items = order
            .line_items
            .iter()
            .map(|li| ItemView {
                title: li.title.clone(),
                variant_title: li.variant_title.clone().filter(|v| !v.trim().is_empty()),
                quantity: li.quantity,
                price: li.price,
                image: li.image_url.clone().filter(|u| is_image_url(u)),
                places: places(order, li, &self.timeline),
            })
            .collect();
        self.items = items;
        self
    }

    /// Drops the images that do not come from this site or one of
    /// `origins` (the CSP would block them anyway; a broken image is
    /// worse than none).
    pub fn keep_images_from(&mut self, origins: &[String]) {
        for item in &mut self.items {
            item.image = item.image.take().filter(|u| {
                u.starts_with('/')
                    || url::Url::parse(u)
                        .is_ok_and(|p| origins.contains(&p.origin().ascii_serialization()))
            });
        }
    }
}

/// An `https://` URL or a path on this site (`/…`, not `//host`).
fn is_image_url(u: &str) -> bool {
    let u = u.trim();
    (u.starts_with('/') && !u.starts_with("//")) || (u.starts_with("https://") && u.len() > 8)
}

fn cancellation(order: &Order) -> Cancellation {
    let reason = order.cancel_reason.as_ref().map(|r| match r {
        CancelReason::Unknown(_) => CancelReason::Other,
        other => other.clone(),
    });
    let money = match order.financial_status {
        FinancialStatus::Refunded => CancelMoney::Refunded,
        FinancialStatus::PartiallyRefunded => CancelMoney::PartlyRefunded,
        FinancialStatus::Voided | FinancialStatus::Expired => CancelMoney::Voided,
        _ => CancelMoney::NotRefunded,
    };
    Cancellation { reason, money }
}

/// Where each unit of `li` is, each unit once (invariant 1): parcels first
/// (what left is where it is, whatever happened after), returns out of the
/// parcels they came from, then the units that never left: removed from the
/// order, nothing to ship, waiting or won't ship, and the rest shipped
/// without a known parcel.
fn places(order: &Order, li: &crate::order::LineItem, timeline: &Timeline) -> Vec<ItemPlace> {
    let mut left = li.quantity;
    let mut take = |n: u32| {
        let n = n.min(left);
        left -= n;
        n
    };
    let mut in_packages: Vec<ItemPlace> = timeline
        .packages
        .iter()
        .filter_map(|p| {
            let n: u32 = p
                .items
                .iter()
                .filter(|it| it.id == li.id)
                .map(|it| it.quantity)
                .sum();
            let n = take(n);
            (n > 0).then(|| ItemPlace {
                quantity: n,
                place: Place::Package {
                    number: p.number,
                    of: p.of,
                    status: p.status.clone(),
                },
            })
        })
        .collect();
    let mut returned = Vec::new();
    for r in order
        .returns
        .iter()
        .filter(|r| !matches!(r.status, ReturnState::Declined | ReturnState::Canceled))
    {
        let mut want: u32 = r
            .line_items
            .iter()
            .filter(|it| it.line_item_id == li.id)
            .map(|it| it.quantity)
            .sum();
        let mut n = 0;
        for p in in_packages.iter_mut().rev() {
            let from = want.min(p.quantity);
            p.quantity -= from;
            want -= from;
            n += from;
        }
        if n > 0 {
            returned.push(ItemPlace {
                quantity: n,
                place: Place::Returned(r.status.clone()),
            });
        }
    }
    // Parcels whose every unit of the line came back hold none of it now.
    in_packages.retain(|p| p.quantity > 0);
    let mut places = in_packages;
    let mut put = |quantity: u32, place: Place| {
        if quantity > 0 {
            places.push(ItemPlace { quantity, place });
        }
    };
    let removed = take(li.quantity.saturating_sub(li.live_quantity()));
    if !li.requires_shipping {
        put(take(u32::MAX), Place::NoShipping);
    }
    for w in timeline.waiting.iter().filter(|w| w.line_item_id == li.id) {
        let place = match &w.reason {
            WaitReason::Cancelled => Place::Cancelled,
            WaitReason::Refunded => Place::Refunded,
            reason => Place::Waiting(reason.clone()),
        };
        put(take(w.quantity), place);
    }
    let rest = take(u32::MAX);
    put(
        rest,
        if order.cancelled_at.is_some() {
            Place::Cancelled
        } else if order.financial_status == FinancialStatus::Refunded {
            Place::Refunded
        } else {
            Place::Shipped
        },
    );
    put(removed, Place::Removed);
    places.extend(returned);
    places
}

fn destination(order: &Order) -> Option<Destination> {
    let a = order.shipping_address.as_ref()?;
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let d = Destination {
        city: clean(&a.city),
        country_code: clean(&a.country_code).filter(|c| c.len() == 2),
        country: clean(&a.country),
        arrived: false,
    };
    (d.city.is_some() || d.country_code.is_some() || d.country.is_some()).then_some(d)
}

/// Every parcel was delivered or picked up, and no item waits to ship.
fn arrived(timeline: &Timeline) -> bool {
    use crate::order::FulfillmentDisplayStatus as D;
    !timeline.packages.is_empty()
        && timeline
            .packages
            .iter()
            .all(|p| p.delivered_at.is_some() || matches!(p.status, D::Delivered | D::PickedUp))
        && !timeline.waiting.iter().any(|w| w.reason.will_ship())
}

/// `anna.lindqvist@example.se` -> `a***@example.se`.
pub fn mask_email(email: &str) -> String {
    match email.trim().split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

#[cfg(test)]
mod invariants;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::demo;

    #[test]
    fn a_delivered_order_is_delivered_to_its_place_not_shipping_there() {
        use demo::Scenario as S;
        let now = Utc::now();
        let first = |want: S| {
            let i = (0..200)
                .find(|i| demo::scenario(demo::SEED, *i) == want)
                .expect("the demo has it");
            demo::order(demo::SEED, i, now, "demo.example")
        };
        let tz = chrono_tz::Europe::Stockholm;
        for (scenario, arrived) in [
            (S::Delivered, true),
            (S::InTransit, false),
            (S::PartlyShipped, false),
            (S::OutForDelivery, false),
        ] {
            let v = ShopperView::of(&first(scenario.clone()), now, tz);
            let to = v.destination.expect("a destination");
            assert_eq!(to.arrived, arrived, "{scenario:?}");
        }
    }

    #[test]
    fn every_unit_of_a_line_has_a_place() {
        let now = Utc::now();
        let mut order = demo::order(7, 0, now, "demo.example");
        order.cancelled_at = None;
        order.financial_status = FinancialStatus::Paid;
        order.fulfillment_status = crate::order::FulfillmentStatus::PartiallyFulfilled;
        order.fulfillment_orders.clear();
        order.returns.clear();
        order.line_items.truncate(1);
        let li = &mut order.line_items[0];
        li.quantity = 4;
        li.current_quantity = Some(3);
        li.requires_shipping = true;
        li.image_url = Some("https://evil.example/pixel.gif".into());
        let id = li.id;
        order.fulfillments = vec![
            serde_json::from_value(serde_json::json!({
                "id": 9, "status": "success", "shipment_status": "delivered",
                "line_items": [{"id": id, "title": "Mug", "quantity": 2}]
            }))
            .expect("fulfillment"),
        ];
        let mut v = ShopperView::of(&order, now, chrono_tz::Europe::Stockholm);
        let places: Vec<(u32, &Place)> = v.items[0]
            .places
            .iter()
            .map(|p| (p.quantity, &p.place))
            .collect();
        assert_eq!(
            places,
            vec![
                (
                    2,
                    &Place::Package {
                        number: 1,
                        of: None,
                        status: FulfillmentDisplayStatus::Delivered
                    }
                ),
                (1, &Place::Waiting(WaitReason::Preparing)),
                (1, &Place::Removed),
            ]
        );
        // An image from an origin the shop did not allow is dropped.
        assert!(v.items[0].image.is_some());
        v.keep_images_from(&["https://cdn.shopify.com".into()]);
        assert_eq!(v.items[0].image, None);
    }

    #[test]
    fn the_summary_nets_out_refunds() {
        let p = Payment {
            status: FinancialStatus::PartiallyRefunded,
            currency: "SEK".into(),
            total: Some(Decimal::new(50000, 2)),
            refunded: Some(Decimal::new(12000, 2)),
            subtotal: None,
            shipping: None,
            shipping_method: None,
            discounts: None,
            taxes: None,
            taxes_included: false,
        };
        assert_eq!(p.net(), Some(Decimal::new(38000, 2)));
        assert_eq!(
            Payment {
                refunded: Some(Decimal::ZERO),
                ..p.clone()
            }
            .net(),
            None
        );
    }

    #[test]
    fn emails_are_masked() {
        assert_eq!(mask_email("anna.lindqvist@example.se"), "a***@example.se");
        assert_eq!(mask_email("x@y.z"), "x***@y.z");
        assert_eq!(mask_email("nonsense"), "***");
    }

    #[test]
    fn blank_places_zero_refunds_and_empty_emails_are_left_out() {
        let now = Utc::now();
        let mut order = demo::order(7, 0, now, "demo.example");
        if let Some(a) = order.shipping_address.as_mut() {
            a.city = Some("  ".into());
            a.country = Some("Sweden".into());
        }
        order.email = " ".into();
        order.refunds =
            vec![serde_json::from_value(serde_json::json!({
            "id": 1, "transactions": [{"amount": "0.00", "kind": "refund", "status": "success"}]
        }))
        .expect("refund")];
        let v = ShopperView::of(&order, now, chrono_tz::Europe::Stockholm);
        let to = v.destination.expect("a country");
        assert_eq!(to.city, None);
        assert_eq!(to.text(|_| None), "Sweden");
        assert_eq!(v.masked_email, None);
        assert!(v.refunds.is_empty());
    }
}
