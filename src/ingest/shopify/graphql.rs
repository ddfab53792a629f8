//! The GraphQL Admin API's order shape, and its mapping to [`Order`].
//!
//! Field names here are GraphQL's (camelCase); the mapping keeps every
//! status verbatim (`displayFinancialStatus` -> `financial_status`, ...).
//! Unknown fields are ignored and unknown enum values kept, like
//! everywhere else. Connections carry their `pageInfo`, so the sync can
//! tell a complete list from a truncated one and page the rest.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::order::*;

/// How many orders one page asks for.
pub const ORDERS_PER_PAGE: u32 = 25;

/// Everything the model needs of an order. Nested lists ask for a first
/// page; `sync` pages the rest of any that come back truncated.
pub const ORDER_FIELDS: &str = r#"
fragment OrderFields on Order {
  id legacyResourceId name email phone currencyCode
  subtotalPriceSet { shopMoney { amount } }
  totalTaxSet { shopMoney { amount } }
  totalDiscountsSet { shopMoney { amount } }
  totalPriceSet { shopMoney { amount } }
  createdAt processedAt updatedAt closedAt cancelledAt cancelReason
  tags
  customer { firstName lastName }
  shippingAddress { name address1 address2 city province zip country countryCodeV2 phone }
  displayFinancialStatus displayFulfillmentStatus returnStatus
  lineItems(first: 50) {
    pageInfo { hasNextPage endCursor }
    nodes { ...LineItemFields }
  }
  fulfillmentOrders(first: 10) {
    nodes {
      id status fulfillAt
      assignedLocation { name location { legacyResourceId } }
      fulfillmentHolds { reason reasonNotes }
      lineItems(first: 50) {
        pageInfo { hasNextPage endCursor }
        nodes { totalQuantity lineItem { id } }
      }
    }
  }
  fulfillments(first: 20) {
    id name status displayStatus createdAt updatedAt
    estimatedDeliveryAt inTransitAt deliveredAt
    location { name legacyResourceId }
    trackingInfo(first: 5) { company number url }
    fulfillmentLineItems(first: 50) {
      pageInfo { hasNextPage endCursor }
      nodes { quantity lineItem { id title variantTitle } }
    }
    events(first: 50) {
      pageInfo { hasNextPage endCursor }
      nodes { ...EventFields }
    }
  }
  returns(first: 10) {
    nodes {
      id name status createdAt closedAt
      returnLineItems(first: 50) {
        pageInfo { hasNextPage endCursor }
        nodes {
          ... on ReturnLineItem {
            quantity returnReason
            fulfillmentLineItem { lineItem { id title } }
          }
        }
      }
      reverseFulfillmentOrders(first: 5) {
        nodes {
          reverseDeliveries(first: 5) {
            nodes {
              deliverable {
                ... on ReverseDeliveryShippingDeliverable { tracking { carrierName number url } }
              }
            }
          }
        }
      }
    }
  }
  refunds(first: 20) {
    id createdAt note
    totalRefundedSet { shopMoney { amount } }
  }
}
fragment LineItemFields on LineItem {
  id title variantTitle sku quantity currentQuantity requiresShipping
  originalUnitPriceSet { shopMoney { amount } }
  image { url }
}
fragment EventFields on FulfillmentEvent {
  id status happenedAt message city province country estimatedDeliveryAt
}
"#;

/// A page of orders updated since a time, oldest update first.
pub fn orders_query() -> String {
    format!(
        "query Orders($first: Int!, $after: String, $query: String) {{\n  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{\n    pageInfo {{ hasNextPage endCursor }}\n    nodes {{ ...OrderFields }}\n  }}\n}}\n{ORDER_FIELDS}"
    )
}

/// The rest of an order's line items.
pub const MORE_LINE_ITEMS: &str = r#"
query MoreLineItems($id: ID!, $after: String) {
  node(id: $id) {
    ... on Order {
      lineItems(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { ...LineItemFields }
      }
    }
  }
}
fragment LineItemFields on LineItem {
  id title variantTitle sku quantity currentQuantity requiresShipping
  originalUnitPriceSet { shopMoney { amount } }
  image { url }
}
"#;

/// The rest of a fulfillment's line items.
pub const MORE_FULFILLMENT_LINE_ITEMS: &str = r#"
query MoreFulfillmentLineItems($id: ID!, $after: String) {
  node(id: $id) {
    ... on Fulfillment {
      fulfillmentLineItems(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { quantity lineItem { id title variantTitle } }
      }
    }
  }
}
"#;

/// The rest of a fulfillment order's line items.
pub const MORE_FULFILLMENT_ORDER_LINE_ITEMS: &str = r#"
query MoreFulfillmentOrderLineItems($id: ID!, $after: String) {
  node(id: $id) {
    ... on FulfillmentOrder {
      lineItems(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { totalQuantity lineItem { id } }
      }
    }
  }
}
"#;

/// The rest of a return's line items.
pub const MORE_RETURN_LINE_ITEMS: &str = r#"
query MoreReturnLineItems($id: ID!, $after: String) {
  node(id: $id) {
    ... on Return {
      returnLineItems(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes {
          ... on ReturnLineItem {
            quantity returnReason
            fulfillmentLineItem { lineItem { id title } }
          }
        }
      }
    }
  }
}
"#;

/// The rest of a fulfillment's carrier events.
pub const MORE_EVENTS: &str = r#"
query MoreEvents($id: ID!, $after: String) {
  node(id: $id) {
    ... on Fulfillment {
      events(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { ...EventFields }
      }
    }
  }
}
fragment EventFields on FulfillmentEvent {
  id status happenedAt message city province country estimatedDeliveryAt
}
"#;

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
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Money {
    pub amount: Option<Decimal>,
}

fn amount(m: &Option<MoneyBag>) -> Option<Decimal> {
    m.as_ref()?.shop_money.as_ref()?.amount
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
    pub currency_code: Option<String>,
    #[serde(default)]
    pub subtotal_price_set: Option<MoneyBag>,
    #[serde(default)]
    pub total_tax_set: Option<MoneyBag>,
    #[serde(default)]
    pub total_discounts_set: Option<MoneyBag>,
    #[serde(default)]
    pub total_price_set: Option<MoneyBag>,
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
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub customer: Option<GqlCustomer>,
    #[serde(default)]
    pub shipping_address: Option<GqlAddress>,
    #[serde(default)]
    pub display_financial_status: Option<FinancialStatus>,
    #[serde(default)]
    pub display_fulfillment_status: Option<FulfillmentStatus>,
    #[serde(default)]
    pub return_status: Option<ReturnStatus>,
    #[serde(default)]
    pub line_items: Connection<GqlLineItem>,
    #[serde(default)]
    pub fulfillment_orders: Connection<GqlFulfillmentOrder>,
    #[serde(default)]
    pub fulfillments: Vec<GqlFulfillment>,
    #[serde(default)]
    pub returns: Connection<GqlReturn>,
    #[serde(default)]
    pub refunds: Vec<GqlRefund>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlCustomer {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
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
    pub title: String,
    #[serde(default)]
    pub variant_title: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub quantity: u32,
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
    pub assigned_location: Option<GqlAssignedLocation>,
    #[serde(default)]
    pub fulfillment_holds: Vec<GqlHold>,
    #[serde(default)]
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
    pub total_quantity: u32,
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
    #[serde(default)]
    pub tracking_info: Vec<GqlTracking>,
    #[serde(default)]
    pub fulfillment_line_items: Connection<GqlFulfillmentLineItem>,
    #[serde(default)]
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
    pub quantity: u32,
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
    #[serde(default)]
    pub return_line_items: Connection<GqlReturnLineItem>,
    #[serde(default)]
    pub reverse_fulfillment_orders: Connection<GqlReverseFulfillmentOrder>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlReturnLineItem {
    #[serde(default)]
    pub quantity: u32,
    #[serde(default)]
    pub return_reason: Option<String>,
    #[serde(default)]
    pub fulfillment_line_item: Option<GqlFulfillmentLineItem>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlReverseFulfillmentOrder {
    #[serde(default)]
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

fn location_id(s: &Option<String>) -> Option<u64> {
    s.as_deref().and_then(|s| s.parse().ok())
}

impl GqlOrder {
    /// The order in our model, for `shop`.
    pub fn into_order(self, shop: &str) -> Order {
        let id = self
            .legacy_resource_id
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| legacy_id(&self.id));
        let line_items = self.line_items.nodes.into_iter().map(line_item).collect();
        let fulfillment_orders = self
            .fulfillment_orders
            .nodes
            .into_iter()
            .map(|fo| FulfillmentOrder {
                id: legacy_id(&fo.id),
                status: fo.status,
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
                line_items: fo
                    .line_items
                    .nodes
                    .into_iter()
                    .map(|l| FulfillmentOrderLineItem {
                        line_item_id: l.line_item.map(|r| legacy_id(&r.id)).unwrap_or(0),
                        quantity: l.total_quantity,
                    })
                    .collect(),
            })
            .collect();
        let fulfillments = self
            .fulfillments
            .into_iter()
            .map(|f| Fulfillment {
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
                    .filter_map(|l| {
                        let li = l.line_item?;
                        Some(ShippedItem {
                            id: legacy_id(&li.id),
                            title: li.title.unwrap_or_default(),
                            variant_title: li.variant_title,
                            quantity: l.quantity,
                        })
                    })
                    .collect(),
                events: f.events.nodes.into_iter().map(event).collect(),
            })
            .collect();
        let returns = self
            .returns
            .nodes
            .into_iter()
            .map(|r| Return {
                id: legacy_id(&r.id),
                name: r.name,
                status: r.status,
                created_at: r.created_at,
                closed_at: r.closed_at,
                line_items: r
                    .return_line_items
                    .nodes
                    .into_iter()
                    .map(|l| {
                        let li = l.fulfillment_line_item.and_then(|f| f.line_item);
                        ReturnItem {
                            line_item_id: li.as_ref().map(|r| legacy_id(&r.id)).unwrap_or(0),
                            title: li.and_then(|r| r.title).unwrap_or_default(),
                            quantity: l.quantity,
                            return_reason: l.return_reason,
                        }
                    })
                    .collect(),
                tracking: r
                    .reverse_fulfillment_orders
                    .nodes
                    .into_iter()
                    .flat_map(|rfo| rfo.reverse_deliveries.nodes)
                    .filter_map(|d| d.deliverable?.tracking)
                    .map(|t| ReturnTracking {
                        company: t.carrier_name,
                        number: t.number,
                        url: t.url,
                    })
                    .collect(),
            })
            .collect();
        let refunds = self
            .refunds
            .into_iter()
            .map(|r| Refund {
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
            })
            .collect();
        Order {
            shop: shop.to_string(),
            id,
            order_number: crate::order::normalize_order_number(&self.name).unwrap_or(0),
            name: self.name,
            email: self.email.unwrap_or_default(),
            phone: self.phone,
            currency: self.currency_code.unwrap_or_default(),
            subtotal_price: amount(&self.subtotal_price_set),
            total_tax: amount(&self.total_tax_set),
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
        }
    }
}

/// A carrier event in our model.
pub fn event(e: GqlEvent) -> TrackingEvent {
    TrackingEvent {
        id: legacy_id(&e.id),
        status: e.status,
        happened_at: e.happened_at,
        message: e.message,
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
        title: li.title,
        variant_title: li.variant_title,
        sku: li.sku.filter(|s| !s.is_empty()),
        quantity: li.quantity,
        current_quantity: li.current_quantity,
        price: amount(&li.original_unit_price_set),
        image_url: li.image.and_then(|i| i.url),
        requires_shipping: li.requires_shipping.unwrap_or(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_graphql_order_maps_with_its_statuses_verbatim() {
        let v = json!({
            "id": "gid://shopify/Order/450789469", "legacyResourceId": "450789469",
            "name": "#1001", "email": "bob@example.com", "currencyCode": "USD",
            "totalPriceSet": {"shopMoney": {"amount": "598.94", "currencyCode": "USD"}},
            "updatedAt": "2026-11-20T10:00:00Z",
            "displayFinancialStatus": "PARTIALLY_REFUNDED", "displayFulfillmentStatus": "PARTIALLY_FULFILLED",
            "returnStatus": "IN_PROGRESS", "cancelReason": null, "tags": ["vip"],
            "lineItems": {"pageInfo": {"hasNextPage": false}, "nodes": [
                {"id": "gid://shopify/LineItem/1", "title": "Mug", "quantity": 2,
                 "originalUnitPriceSet": {"shopMoney": {"amount": "12.50"}}, "someNewField": 1}]},
            "fulfillmentOrders": {"nodes": [{"id": "gid://shopify/FulfillmentOrder/7", "status": "ON_HOLD",
                "fulfillmentHolds": [{"reason": "AWAITING_PAYMENT"}],
                "lineItems": {"nodes": [{"totalQuantity": 1, "lineItem": {"id": "gid://shopify/LineItem/1"}}]}}]},
            "fulfillments": [{"id": "gid://shopify/Fulfillment/9", "status": "SUCCESS", "displayStatus": "IN_TRANSIT",
                "trackingInfo": [{"company": "UPS", "number": "1Z1", "url": "https://ups.example/1Z1"}],
                "fulfillmentLineItems": {"nodes": [{"quantity": 1, "lineItem": {"id": "gid://shopify/LineItem/1", "title": "Mug"}}]},
                "events": {"pageInfo": {"hasNextPage": false}, "nodes": [
                    {"id": "gid://shopify/FulfillmentEvent/3", "status": "IN_TRANSIT", "happenedAt": "2026-11-20T09:00:00Z"}]}}],
            "returns": {"nodes": [{"id": "gid://shopify/Return/5", "name": "#1001-R1", "status": "OPEN",
                "returnLineItems": {"nodes": [{"quantity": 1, "returnReason": "DEFECTIVE",
                    "fulfillmentLineItem": {"lineItem": {"id": "gid://shopify/LineItem/1", "title": "Mug"}}}]},
                "reverseFulfillmentOrders": {"nodes": [{"reverseDeliveries": {"nodes": [{"deliverable":
                    {"tracking": {"carrierName": "PostNord", "number": "RT1", "url": null}}}]}}]}}]},
            "refunds": [{"id": "gid://shopify/Refund/8", "note": "broken",
                "totalRefundedSet": {"shopMoney": {"amount": "12.50"}}}]
        });
        let g: GqlOrder = serde_json::from_value(v).expect("graphql order");
        let o = g.into_order("s.example");
        assert_eq!((o.id, o.order_number), (450789469, 1001));
        assert_eq!(o.financial_status, FinancialStatus::PartiallyRefunded);
        assert_eq!(o.fulfillment_status, FulfillmentStatus::PartiallyFulfilled);
        assert_eq!(o.return_status(), ReturnStatus::InProgress);
        assert_eq!(o.line_items[0].price, Some(Decimal::new(1250, 2)));
        assert_eq!(
            o.fulfillment_orders[0].fulfillment_holds[0].reason,
            HoldReason::AwaitingPayment
        );
        assert_eq!(
            o.fulfillments[0].display_status(),
            FulfillmentDisplayStatus::InTransit
        );
        assert_eq!(o.fulfillments[0].tracking_numbers, vec!["1Z1".to_string()]);
        assert_eq!(o.fulfillments[0].events[0].id, 3);
        assert_eq!(o.returns[0].tracking[0].number.as_deref(), Some("RT1"));
        assert_eq!(o.refunded_amount(), Decimal::new(1250, 2));
        assert_eq!(o.total_price, Some(Decimal::new(59894, 2)));
    }

    #[test]
    fn gids_become_numbers() {
        assert_eq!(legacy_id("gid://shopify/Order/123"), 123);
        assert_eq!(legacy_id("gid://shopify/LineItem/9?x=1"), 9);
        assert_eq!(legacy_id("nonsense"), 0);
    }
}
