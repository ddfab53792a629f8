//! The order as this project knows it: one struct tree that is at once the
//! domain model, the NDJSON import format and the stored form.
//!
//! Field names follow Shopify's REST `Order` resource wherever Shopify has
//! the field (`id`, `name`, `order_number`, `financial_status`,
//! `fulfillments[].tracking_numbers`, `refunds[].transactions`, ...), so a
//! REST order or webhook body is already nearly a valid record and one
//! mapping serves import and webhooks. Fields Shopify only has in GraphQL
//! (`display_status`, `estimated_delivery_at`, `returns`, `return_status`)
//! use the GraphQL name in snake_case. Fields that Shopify does not have
//! (`shop`, `custom_stages`, `status_history`, `events` inside a
//! fulfillment) are ours and are
//! documented in the README. Every field but `id` is optional on input and
//! unknown fields are ignored, because payloads grow.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

pub use super::mail_log::{MailEvent, MailLog, MailMessage, MailState};
pub use super::status::StatusChange;
pub use super::vocab::*;

/// A store order, with everything a status page or a support agent needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// The shop this order belongs to (`example.myshopify.com`). Part of the
    /// order key, so one deployment can serve several shops.
    #[serde(default)]
    pub shop: String,
    /// Shopify's numeric order id.
    pub id: u64,
    /// The order name shown to shoppers, e.g. `#1001`.
    #[serde(default)]
    pub name: String,
    /// The sequential order number, e.g. `1001`.
    #[serde(default)]
    pub order_number: u64,
    /// The shopper's email (as entered; lookups normalise it).
    #[serde(default, deserialize_with = "nullable")]
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// ISO 4217 code of the money fields: the currency the shopper paid
    /// in (Shopify's presentment currency), which can differ from the
    /// shop's.
    #[serde(default, deserialize_with = "nullable")]
    pub currency: String,
    /// The shop's own currency, when it differs from `currency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_currency: Option<String>,
    /// The total in the shop's currency, when that differs (for staff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_total_price: Option<Decimal>,
    /// The language the shopper checked out in (`sv`, `de-DE`), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_locale: Option<String>,
    /// The shipping method's name ("Standard", "PostNord Varubrev").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_method: Option<String>,
    /// What shipping cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_shipping: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtotal_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tax: Option<Decimal>,
    /// The prices include the taxes (EU and UK shops): `total_tax` is
    /// part of the subtotal, not added to it (Shopify's `taxes_included`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub taxes_included: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_discounts: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_price: Option<Decimal>,

    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// When the order was archived (closed) by the merchant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<CancelReason>,

    /// Tags; REST sends one comma-separated string, we also take a list.
    #[serde(
        default,
        deserialize_with = "tags",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineItem>,

    #[serde(
        default,
        alias = "display_financial_status",
        deserialize_with = "nullable"
    )]
    pub financial_status: FinancialStatus,
    #[serde(
        default,
        alias = "display_fulfillment_status",
        deserialize_with = "nullable"
    )]
    pub fulfillment_status: FulfillmentStatus,
    /// The per-location work orders (REST `FulfillmentOrder`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fulfillment_orders: Vec<FulfillmentOrder>,
    /// Shipments, one per parcel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fulfillments: Vec<Fulfillment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<Return>,
    /// GraphQL `returnStatus`; derived from `returns` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_status: Option<ReturnStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<Refund>,
    /// Merchant-defined steps before shipping, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_stages: Vec<CustomStage>,
    /// The merchant's statuses set on the order, oldest first (ours; see
    /// [`super::status`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_history: Vec<StatusChange>,
    /// Carrier scans that arrived before their shipment did (ours): they
    /// join it when it arrives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_events: Vec<PendingEvent>,
    /// The emails this order has caused (ours; see [`super::mail`]).
    #[serde(default, skip_serializing_if = "MailLog::is_empty")]
    pub mail: MailLog,
    /// Staff's work on its problems (ours; see [`super::problems`]).
    #[serde(default, skip_serializing_if = "super::problems::Desk::is_empty")]
    pub desk: super::problems::Desk,
    /// Protected customer data the shop's app is not approved for, which
    /// Shopify withheld when the order was read (`email`, `name`, `phone`,
    /// `address`, or `customer` for all of it): pages say "not available"
    /// instead of leaving a blank that looks like a missing value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
}

/// A carrier scan waiting for its shipment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingEvent {
    pub fulfillment_id: u64,
    pub event: TrackingEvent,
}

/// The buyer, as far as a status page needs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Customer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
}

/// A postal address (REST `shipping_address`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// One product line of the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    #[serde(default)]
    pub id: u64,
    #[serde(default, deserialize_with = "nullable")]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default)]
    pub quantity: u32,
    /// Quantity after removals and refunds before shipping (REST
    /// `current_quantity`); `quantity` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// False for digital goods and gift cards.
    #[serde(default = "yes")]
    pub requires_shipping: bool,
}

/// The work one location has to do for the order (REST `FulfillmentOrder`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FulfillmentOrder {
    #[serde(default)]
    pub id: u64,
    pub status: FulfillmentOrderStatus,
    /// For `SCHEDULED`: when the work is planned to start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfill_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_location: Option<Location>,
    /// For `ON_HOLD`: why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fulfillment_holds: Vec<FulfillmentHold>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<FulfillmentOrderLineItem>,
    /// When Shopify last changed it (decides between two versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Where a request to a fulfillment service stands (REST's
    /// `request_status`); `None` when not known (bulk, older data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_status: Option<RequestStatus>,
}

/// A warehouse, shop or fulfillment service location.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
}

/// Why a fulfillment order is on hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FulfillmentHold {
    pub reason: HoldReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_notes: Option<String>,
}

/// A line item's share of a fulfillment order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FulfillmentOrderLineItem {
    #[serde(default)]
    pub line_item_id: u64,
    #[serde(default)]
    pub quantity: u32,
}

/// One shipment (parcel) with its tracking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fulfillment {
    #[serde(default)]
    pub id: u64,
    /// `#1001.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The record's status (REST `status`: success, cancelled, failure...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ShipmentRecordStatus>,
    /// REST `shipment_status`: the latest carrier status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_status: Option<TrackingStatus>,
    /// GraphQL `displayStatus`; derived when absent, see
    /// [`Fulfillment::display_status`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_status: Option<FulfillmentDisplayStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<u64>,
    /// The shipping location's name (GraphQL `location.name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_company: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracking_numbers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracking_urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_delivery_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_transit_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<ShippedItem>,
    /// Carrier scans (REST `FulfillmentEvent`s), any order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<TrackingEvent>,
}

/// A line item (or part of one) inside a shipment or return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippedItem {
    /// The order line item this is part of (REST: `id` of the line item).
    #[serde(default, alias = "line_item_id")]
    pub id: u64,
    #[serde(default, deserialize_with = "nullable")]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_title: Option<String>,
    #[serde(default)]
    pub quantity: u32,
}

/// One carrier scan (REST `FulfillmentEvent`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingEvent {
    /// Shopify's event id (0 when unknown).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub id: u64,
    pub status: TrackingStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub happened_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The street of where it happened: for a parcel ready for pickup, the
    /// pickup point's (a public place, not the shopper's address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_delivery_at: Option<DateTime<Utc>>,
}

/// A return of some items (GraphQL `Return`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Return {
    #[serde(default)]
    pub id: u64,
    /// `#1001-R1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: ReturnState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<ReturnItem>,
    /// Return shipping labels and their tracking.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracking: Vec<ReturnTracking>,
    /// When the status held here was set (ours: from Shopify's trigger
    /// time, or when a snapshot of the order was read). Decides between
    /// two versions of a return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// An item being returned, with the shopper's reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnItem {
    #[serde(default)]
    pub line_item_id: u64,
    #[serde(default, deserialize_with = "nullable")]
    pub title: String,
    #[serde(default)]
    pub quantity: u32,
    /// GraphQL `ReturnReason` (`SIZE_TOO_SMALL`, `DEFECTIVE`, ...), verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_reason: Option<String>,
}

/// The parcel a shopper sends back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnTracking {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Money given back (REST `Refund`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    #[serde(default)]
    pub id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transactions: Vec<Transaction>,
}

/// A money movement of a refund (REST `Transaction`, the fields we need).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    #[serde(default)]
    pub amount: Decimal,
    /// `refund`, `sale`, ...: verbatim.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// `success`, `pending`, `failure`, `error`: verbatim.
    #[serde(default, deserialize_with = "nullable")]
    pub status: String,
}

/// A merchant-defined step before shipping ("Engraving", "Quality check").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomStage {
    pub name: String,
    /// When the order entered this stage.
    pub at: DateTime<Utc>,
}

impl Order {
    /// Whether Shopify withheld this kind of protected data (`email`,
    /// `name`, `phone`, `address`) from the shop's app.
    pub fn is_withheld(&self, kind: &str) -> bool {
        self.withheld.iter().any(|w| w == kind || w == "customer")
    }

    /// The store key: shop and Shopify id, unique across shops.
    pub fn key(&self) -> String {
        order_key(&self.shop, self.id)
    }

    /// "First Last", or whatever part of it is known.
    pub fn customer_name(&self) -> Option<String> {
        let c = self.customer.as_ref()?;
        let name = [c.first_name.as_deref(), c.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        (!name.is_empty()).then_some(name)
    }

    /// The order's return status: as Shopify sent it, or summed up from
    /// the returns when it did not.
    pub fn return_status(&self) -> ReturnStatus {
        if let Some(s) = &self.return_status {
            return s.clone();
        }
        let live = |s: &ReturnState| !matches!(s, ReturnState::Declined | ReturnState::Canceled);
        if self.returns.is_empty() {
            ReturnStatus::NoReturn
        } else if self
            .returns
            .iter()
            .any(|r| r.status == ReturnState::Requested)
        {
            ReturnStatus::ReturnRequested
        } else if self.returns.iter().any(|r| r.status == ReturnState::Open) {
            ReturnStatus::InProgress
        } else if self.returns.iter().any(|r| r.status == ReturnState::Closed) {
            ReturnStatus::Returned
        } else if self.returns.iter().any(|r| live(&r.status)) {
            ReturnStatus::InProgress
        } else {
            ReturnStatus::NoReturn
        }
    }

    /// Total refunded: the sum of successful refund transactions; `None`
    /// when the amounts are impossible (the sum overflows), which pages
    /// show as "unavailable" instead of a wrong number.
    pub fn refunded_amount(&self) -> Option<Decimal> {
        self.refunds
            .iter()
            .try_fold(Decimal::ZERO, |sum, r| sum.checked_add(r.amount()?))
    }

    /// Open, archived (closed) or cancelled: the staff filter.
    pub fn state(&self) -> OrderState {
        if self.cancelled_at.is_some() {
            OrderState::Cancelled
        } else if self.closed_at.is_some() {
            OrderState::Archived
        } else {
            OrderState::Open
        }
    }
}

/// Whether an order is still open, archived by the merchant, or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderState {
    Open,
    Archived,
    Cancelled,
}

impl OrderState {
    /// The lower-case name used in filters and the index.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Open => "open",
            OrderState::Archived => "archived",
            OrderState::Cancelled => "cancelled",
        }
    }
}

impl Refund {
    /// Money actually returned by this refund (`None`: an impossible sum).
    pub fn amount(&self) -> Option<Decimal> {
        self.transactions
            .iter()
            .filter(|t| t.kind.eq_ignore_ascii_case("refund"))
            .filter(|t| t.status.is_empty() || t.status.eq_ignore_ascii_case("success"))
            .try_fold(Decimal::ZERO, |sum, t| sum.checked_add(t.amount))
    }

    /// When the refund happened.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        self.processed_at.or(self.created_at)
    }
}

impl LineItem {
    /// How many are still part of the order (after removals).
    pub fn live_quantity(&self) -> u32 {
        self.current_quantity.unwrap_or(self.quantity)
    }
}

impl Fulfillment {
    /// The shipment's display status: GraphQL `displayStatus` when present,
    /// otherwise derived from the REST fields the way Shopify's admin does:
    /// a cancelled or failed record first, then the latest carrier status
    /// (`shipment_status`, or the newest event), then "fulfilled".
    pub fn display_status(&self) -> FulfillmentDisplayStatus {
        if let Some(s) = &self.display_status {
            return s.clone();
        }
        match &self.status {
            Some(ShipmentRecordStatus::Cancelled) => return FulfillmentDisplayStatus::Canceled,
            Some(ShipmentRecordStatus::Failure | ShipmentRecordStatus::Error) => {
                return FulfillmentDisplayStatus::Failure;
            }
            _ => {}
        }
        if let Some(s) = &self.shipment_status {
            return s.as_display_status();
        }
        if let Some(e) = self.latest_event() {
            return e.status.as_display_status();
        }
        match &self.status {
            Some(ShipmentRecordStatus::Pending | ShipmentRecordStatus::Open) => {
                FulfillmentDisplayStatus::Submitted
            }
            _ => FulfillmentDisplayStatus::Fulfilled,
        }
    }

    /// The newest carrier scan.
    pub fn latest_event(&self) -> Option<&TrackingEvent> {
        self.events.iter().max_by_key(|e| e.happened_at)
    }

    /// The carrier's latest delivery estimate: the newest event that gave
    /// one, else the shipment's own.
    pub fn estimated_delivery(&self) -> Option<DateTime<Utc>> {
        self.events
            .iter()
            .filter(|e| e.estimated_delivery_at.is_some())
            .max_by_key(|e| e.happened_at)
            .and_then(|e| e.estimated_delivery_at)
            .or(self.estimated_delivery_at)
    }

    /// When the parcel was delivered (or picked up), if it was.
    pub fn delivered_time(&self) -> Option<DateTime<Utc>> {
        self.delivered_at.or_else(|| {
            self.events
                .iter()
                .filter(|e| {
                    matches!(
                        e.status,
                        TrackingStatus::Delivered | TrackingStatus::PickedUp
                    )
                })
                .filter_map(|e| e.happened_at)
                .max()
        })
    }
}

/// The store key of an order: `shop/id`.
pub fn order_key(shop: &str, id: u64) -> String {
    format!("{shop}/{id}")
}

fn yes() -> bool {
    true
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Reads `null` as the type's default: REST sends `null` for many fields
/// (`fulfillment_status: null` means unfulfilled).
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Tags as REST's comma-separated string or as a list.
fn tags<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Tags {
        One(String),
        Many(Vec<String>),
    }
    let list = match Option::<Tags>::deserialize(d)? {
        None => Vec::new(),
        Some(Tags::One(s)) => s.split(',').map(str::to_string).collect(),
        Some(Tags::Many(v)) => v,
    };
    Ok(list
        .into_iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect())
}

// The enums come from a macro shared by enums without a default.
#[allow(clippy::derivable_impls)]
impl Default for FinancialStatus {
    fn default() -> Self {
        FinancialStatus::Pending
    }
}

#[allow(clippy::derivable_impls)]
impl Default for FulfillmentStatus {
    fn default() -> Self {
        FulfillmentStatus::Unfulfilled
    }
}
