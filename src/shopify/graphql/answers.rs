//! What the GraphQL Admin API answers, as serde types, and how an answer
//! becomes an [`Order`] (and its parts, for follow-up queries and bulk
//! lines): ids from GIDs, amounts from `presentmentMoney`, `null` lists as
//! empty.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use std::collections::BTreeSet;

use crate::order::*;
use crate::shopify::scopes::Protected;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    #[serde(default)]
    pub has_next_page: bool,
    #[serde(default)]
    pub end_cursor: Option<String>,
}

/// A connection: a page of nodes and whether there are more.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection<T> {
    #[serde(default)]
    pub page_info: PageInfo,
    #[serde(default = "Vec::new")]
    pub nodes: Vec<T>,
}

impl<T> Default for Connection<T> {
    fn default() -> Self {
        Connection {
            page_info: PageInfo::default(),
            nodes: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyBag {
    pub shop_money: Option<Money>,
    pub presentment_money: Option<Money>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub amount: Option<Decimal>,
    #[serde(default)]
    pub currency_code: Option<String>,
}

impl MoneyBag {
    /// What the shopper paid (the presentment amount), else the shop's.
    fn shopper(&self) -> Option<Decimal> {
        self.presentment_money
            .as_ref()
            .and_then(|m| m.amount)
            .or_else(|| self.shop_money.as_ref().and_then(|m| m.amount))
    }

    fn shop(&self) -> Option<Decimal> {
        self.shop_money.as_ref().and_then(|m| m.amount)
    }
}

fn amount(m: &Option<MoneyBag>) -> Option<Decimal> {
    m.as_ref()?.shopper()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlOrder {
    pub id: String,
    #[serde(default)]
    pub legacy_resource_id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub customer_locale: Option<String>,
    #[serde(default)]
    pub currency_code: Option<String>,
    #[serde(default)]
    pub presentment_currency_code: Option<String>,
    #[serde(default)]
    pub subtotal_price_set: Option<MoneyBag>,
    #[serde(default)]
    pub total_tax_set: Option<MoneyBag>,
    #[serde(default)]
    pub taxes_included: bool,
    #[serde(default)]
    pub total_discounts_set: Option<MoneyBag>,
    #[serde(default)]
    pub total_price_set: Option<MoneyBag>,
    #[serde(default)]
    pub total_shipping_price_set: Option<MoneyBag>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub processed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub cancel_reason: Option<CancelReason>,
    #[serde(default, deserialize_with = "null_list")]
    pub tags: Vec<String>,
    #[serde(default)]
    pub customer: Option<GqlCustomer>,
    #[serde(default)]
    pub shipping_address: Option<GqlAddress>,
    #[serde(default)]
    pub shipping_line: Option<GqlShippingLine>,
    #[serde(default)]
    pub display_financial_status: Option<FinancialStatus>,
    #[serde(default)]
    pub display_fulfillment_status: Option<FulfillmentStatus>,
    #[serde(default)]
    pub return_status: Option<ReturnStatus>,
    #[serde(default, deserialize_with = "null_default")]
    pub line_items: Connection<GqlLineItem>,
    #[serde(default, deserialize_with = "null_default")]
    pub fulfillment_orders: Connection<GqlFulfillmentOrder>,
    #[serde(default, deserialize_with = "null_list")]
    pub fulfillments: Vec<GqlFulfillment>,
    #[serde(default, deserialize_with = "null_default")]
    pub returns: Connection<GqlReturn>,
    #[serde(default, deserialize_with = "null_list")]
    pub refunds: Vec<GqlRefund>,
}

/// `null` where a list or connection was expected reads as empty.
fn null_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlCustomer {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlShippingLine {
    pub title: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlAddress {
    pub name: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
    #[serde(rename = "countryCodeV2")]
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlLineItem {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub variant_title: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub quantity: Option<u32>,
    #[serde(default)]
    pub current_quantity: Option<u32>,
    #[serde(default)]
    pub requires_shipping: Option<bool>,
    #[serde(default)]
    pub original_unit_price_set: Option<MoneyBag>,
    #[serde(default)]
    pub image: Option<GqlImage>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GqlImage {
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlFulfillmentOrder {
    pub id: String,
    pub status: FulfillmentOrderStatus,
    #[serde(default)]
    pub fulfill_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub request_status: Option<RequestStatus>,
    #[serde(default)]
    pub assigned_location: Option<GqlAssignedLocation>,
    #[serde(default, deserialize_with = "null_list")]
    pub fulfillment_holds: Vec<GqlHold>,
    #[serde(default, deserialize_with = "null_default")]
    pub line_items: Connection<GqlFoLineItem>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GqlAssignedLocation {
    pub name: Option<String>,
    pub location: Option<GqlLocationRef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlLocationRef {
    pub legacy_resource_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlHold {
    pub reason: HoldReason,
    #[serde(default)]
    pub reason_notes: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlFoLineItem {
    #[serde(default)]
    pub total_quantity: Option<u32>,
    pub line_item: Option<GqlIdRef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlIdRef {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub variant_title: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlFulfillment {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<ShipmentRecordStatus>,
    #[serde(default)]
    pub display_status: Option<FulfillmentDisplayStatus>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub estimated_delivery_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub in_transit_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub location: Option<GqlLocation>,
    #[serde(default, deserialize_with = "null_list")]
    pub tracking_info: Vec<GqlTracking>,
    #[serde(default, deserialize_with = "null_default")]
    pub fulfillment_line_items: Connection<GqlFulfillmentLineItem>,
    #[serde(default, deserialize_with = "null_default")]
    pub events: Connection<GqlEvent>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlLocation {
    pub name: Option<String>,
    pub legacy_resource_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GqlTracking {
    pub company: Option<String>,
    pub number: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlFulfillmentLineItem {
    #[serde(default)]
    pub quantity: Option<u32>,
    pub line_item: Option<GqlIdRef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlEvent {
    pub id: String,
    pub status: TrackingStatus,
    #[serde(default)]
    pub happened_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub address1: Option<String>,
    #[serde(default)]
    pub zip: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub province: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub estimated_delivery_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlReturn {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub status: ReturnState,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "null_default")]
    pub return_line_items: Connection<GqlReturnLineItem>,
    #[serde(default, deserialize_with = "null_default")]
    pub reverse_fulfillment_orders: Connection<GqlReverseFulfillmentOrder>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlReturnLineItem {
    #[serde(default)]
    pub quantity: Option<u32>,
    #[serde(default)]
    pub return_reason_definition: Option<GqlReasonDefinition>,
    #[serde(default)]
    pub fulfillment_line_item: Option<GqlFulfillmentLineItem>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GqlReasonDefinition {
    pub handle: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlReverseFulfillmentOrder {
    #[serde(default, deserialize_with = "null_default")]
    pub reverse_deliveries: Connection<GqlReverseDelivery>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GqlReverseDelivery {
    pub deliverable: Option<GqlDeliverable>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GqlDeliverable {
    pub tracking: Option<GqlReverseTracking>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlReverseTracking {
    pub carrier_name: Option<String>,
    pub number: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlRefund {
    pub id: String,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub total_refunded_set: Option<MoneyBag>,
}

/// The numeric id at the end of a gid (`gid://shopify/Order/123` -> 123).
pub fn legacy_id(gid: &str) -> u64 {
    gid.rsplit('/')
        .next()
        .and_then(|s| s.split('?').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The resource type of a gid (`gid://shopify/Order/123` -> `Order`).
pub fn gid_type(gid: &str) -> Option<&str> {
    let rest = gid.strip_prefix("gid://shopify/")?;
    rest.split('/').next()
}

fn location_id(s: &Option<String>) -> Option<u64> {
    s.as_deref().and_then(|s| s.parse().ok())
}

/// A return reason handle as the model keeps it (`size-too-small` ->
/// `SIZE_TOO_SMALL`, matching the older enum's spelling).
fn reason(handle: &str) -> String {
    handle.trim().to_ascii_uppercase().replace(['-', ' '], "_")
}

impl GqlOrder {
    /// The order in our model, for `shop`.
    pub fn into_order(self, shop: &str) -> Order {
        let id = self
            .legacy_resource_id
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| legacy_id(&self.id));
        let shop_currency = self.currency_code.clone();
        let currency = self
            .presentment_currency_code
            .clone()
            .or_else(|| self.currency_code.clone())
            .unwrap_or_default();
        let differs = shop_currency.as_deref().is_some_and(|s| s != currency);
        let line_items = self.line_items.nodes.into_iter().map(line_item).collect();
        let fulfillment_orders = self
            .fulfillment_orders
            .nodes
            .into_iter()
            .map(fulfillment_order)
            .collect();
        let fulfillments = self.fulfillments.into_iter().map(fulfillment).collect();
        let returns = self.returns.nodes.into_iter().map(gql_return).collect();
        let refunds = self.refunds.into_iter().map(refund).collect();
        Order {
            shop: shop.to_string(),
            id,
            order_number: crate::order::order_number_in_name(&self.name).unwrap_or(0),
            name: self.name,
            email: self.email.unwrap_or_default(),
            phone: self.phone,
            shop_total_price: if differs {
                self.total_price_set.as_ref().and_then(MoneyBag::shop)
            } else {
                None
            },
            shop_currency: shop_currency.filter(|_| differs),
            currency,
            customer_locale: self
                .customer_locale
                .or_else(|| self.customer.as_ref().and_then(|c| c.locale.clone())),
            shipping_method: self.shipping_line.and_then(|s| s.title),
            total_shipping: amount(&self.total_shipping_price_set),
            subtotal_price: amount(&self.subtotal_price_set),
            total_tax: amount(&self.total_tax_set),
            taxes_included: self.taxes_included,
            total_discounts: amount(&self.total_discounts_set),
            total_price: amount(&self.total_price_set),
            created_at: self.created_at,
            processed_at: self.processed_at,
            updated_at: self.updated_at,
            closed_at: self.closed_at,
            cancelled_at: self.cancelled_at,
            cancel_reason: self.cancel_reason,
            tags: self.tags,
            customer: self.customer.map(|c| Customer {
                first_name: c.first_name,
                last_name: c.last_name,
            }),
            shipping_address: self.shipping_address.map(|a| Address {
                name: a.name,
                address1: a.address1,
                address2: a.address2,
                city: a.city,
                province: a.province,
                zip: a.zip,
                country: a.country,
                country_code: a.country_code,
                phone: a.phone,
            }),
            line_items,
            financial_status: self.display_financial_status.unwrap_or_default(),
            fulfillment_status: self.display_fulfillment_status.unwrap_or_default(),
            fulfillment_orders,
            fulfillments,
            returns,
            return_status: self.return_status,
            refunds,
            custom_stages: Vec::new(),
            status_history: Vec::new(),
            pending_events: Vec::new(),
            mail: Default::default(),
            desk: Default::default(),
            withheld: Vec::new(),
        }
    }
}

/// Marks what Shopify withheld from an order the app read: each kind of
/// protected data in `withheld` whose value came back blank.
pub fn mark_withheld(o: &mut Order, withheld: &BTreeSet<Protected>) {
    for p in withheld {
        let blank = match p {
            Protected::Customer => o.customer.is_none() && o.shipping_address.is_none(),
            Protected::Email => o.email.trim().is_empty(),
            Protected::Name => o
                .customer
                .as_ref()
                .is_none_or(|c| c.first_name.is_none() && c.last_name.is_none()),
            Protected::Phone => o.phone.is_none(),
            Protected::Address => o
                .shipping_address
                .as_ref()
                .is_none_or(|a| a.address1.is_none()),
        };
        if blank && !o.withheld.iter().any(|w| w == p.as_str()) {
            o.withheld.push(p.as_str().to_string());
        }
    }
}

/// A fulfillment order in our model.
pub fn fulfillment_order(fo: GqlFulfillmentOrder) -> FulfillmentOrder {
    FulfillmentOrder {
        id: legacy_id(&fo.id),
        status: fo.status,
        request_status: fo.request_status,
        fulfill_at: fo.fulfill_at,
        assigned_location: fo.assigned_location.map(|l| Location {
            location_id: l.location.and_then(|r| location_id(&r.legacy_resource_id)),
            name: l.name,
            city: None,
            country_code: None,
        }),
        fulfillment_holds: fo
            .fulfillment_holds
            .into_iter()
            .map(|h| FulfillmentHold {
                reason: h.reason,
                reason_notes: h.reason_notes,
            })
            .collect(),
        line_items: fo.line_items.nodes.into_iter().map(fo_line).collect(),
        updated_at: fo.updated_at,
    }
}

/// A fulfillment order's line in our model.
pub fn fo_line(l: GqlFoLineItem) -> FulfillmentOrderLineItem {
    FulfillmentOrderLineItem {
        line_item_id: l.line_item.map(|r| legacy_id(&r.id)).unwrap_or(0),
        quantity: l.total_quantity.unwrap_or(0),
    }
}

/// A shipment in our model.
pub fn fulfillment(f: GqlFulfillment) -> Fulfillment {
    Fulfillment {
        id: legacy_id(&f.id),
        name: f.name,
        status: f.status,
        shipment_status: None,
        display_status: f.display_status,
        location_id: f
            .location
            .as_ref()
            .and_then(|l| location_id(&l.legacy_resource_id)),
        location_name: f.location.and_then(|l| l.name),
        tracking_company: f.tracking_info.iter().find_map(|t| t.company.clone()),
        tracking_numbers: f
            .tracking_info
            .iter()
            .filter_map(|t| t.number.clone())
            .collect(),
        tracking_urls: f
            .tracking_info
            .iter()
            .filter_map(|t| t.url.clone())
            .collect(),
        estimated_delivery_at: f.estimated_delivery_at,
        in_transit_at: f.in_transit_at,
        delivered_at: f.delivered_at,
        created_at: f.created_at,
        updated_at: f.updated_at,
        line_items: f
            .fulfillment_line_items
            .nodes
            .into_iter()
            .filter_map(shipped_item)
            .collect(),
        events: f.events.nodes.into_iter().map(event).collect(),
    }
}

/// A shipment's line in our model.
pub fn shipped_item(l: GqlFulfillmentLineItem) -> Option<ShippedItem> {
    let li = l.line_item?;
    Some(ShippedItem {
        id: legacy_id(&li.id),
        title: li.title.unwrap_or_default(),
        variant_title: li.variant_title,
        quantity: l.quantity.unwrap_or(0),
    })
}

/// A return in our model (its `updated_at` is set by whoever knows when
/// it was read).
pub fn gql_return(r: GqlReturn) -> Return {
    Return {
        id: legacy_id(&r.id),
        name: r.name,
        status: r.status,
        created_at: r.created_at,
        closed_at: r.closed_at,
        line_items: r
            .return_line_items
            .nodes
            .into_iter()
            .map(return_item)
            .collect(),
        tracking: r
            .reverse_fulfillment_orders
            .nodes
            .into_iter()
            .flat_map(|rfo| rfo.reverse_deliveries.nodes)
            .filter_map(|d| d.deliverable?.tracking)
            .map(return_tracking)
            .collect(),
        updated_at: None,
    }
}

/// A returned line in our model.
pub fn return_item(l: GqlReturnLineItem) -> ReturnItem {
    let li = l.fulfillment_line_item.and_then(|f| f.line_item);
    ReturnItem {
        line_item_id: li.as_ref().map(|r| legacy_id(&r.id)).unwrap_or(0),
        title: li.and_then(|r| r.title).unwrap_or_default(),
        quantity: l.quantity.unwrap_or(0),
        return_reason: l
            .return_reason_definition
            .and_then(|d| d.handle)
            .map(|h| reason(&h)),
    }
}

/// A return parcel's tracking in our model.
pub fn return_tracking(t: GqlReverseTracking) -> ReturnTracking {
    ReturnTracking {
        company: t.carrier_name,
        number: t.number,
        url: t.url,
    }
}

/// A refund in our model: one successful refund transaction of what the
/// shopper gets back.
pub fn refund(r: GqlRefund) -> Refund {
    Refund {
        id: legacy_id(&r.id),
        created_at: r.created_at,
        processed_at: r.created_at,
        note: r.note,
        transactions: amount(&r.total_refunded_set)
            .map(|a| Transaction {
                amount: a,
                kind: "refund".into(),
                status: "success".into(),
            })
            .into_iter()
            .collect(),
    }
}

/// A carrier event in our model.
pub fn event(e: GqlEvent) -> TrackingEvent {
    TrackingEvent {
        id: legacy_id(&e.id),
        status: e.status,
        happened_at: e.happened_at,
        message: e.message,
        address1: e.address1,
        zip: e.zip,
        city: e.city,
        province: e.province,
        country: e.country,
        estimated_delivery_at: e.estimated_delivery_at,
    }
}

/// A line item in our model.
pub fn line_item(li: GqlLineItem) -> LineItem {
    LineItem {
        id: legacy_id(&li.id),
        title: li.title.unwrap_or_default(),
        variant_title: li.variant_title,
        sku: li.sku.filter(|s| !s.is_empty()),
        quantity: li.quantity.unwrap_or(0),
        current_quantity: li.current_quantity,
        price: amount(&li.original_unit_price_set),
        image_url: li.image.and_then(|i| i.url),
        requires_shipping: li.requires_shipping.unwrap_or(true),
    }
}
