//! The GraphQL Admin API's order shape: the queries we send and the
//! mapping of their answers to [`Order`].
//!
//! Every query here fits Shopify's 1,000-point limit on requested cost
//! (a test computes each one's cost with [`super::cost`]): the order page
//! asks for the first few of each nested list, and whatever comes back
//! truncated (a connection's `hasNextPage`, or a plain list that came back
//! full) is completed by follow-up queries on the part itself. Field names
//! are GraphQL's (camelCase); statuses are kept verbatim. Amounts are the
//! shopper's (`presentmentMoney`), with the shop's own total kept for
//! staff when the currencies differ.

mod answers;

pub use answers::*;

/// The largest order page whose requested cost fits 1,000 points (a test
/// proves it fits and that one more would not).
pub const MAX_PAGE_SIZE: u32 = 5;

/// First page sizes of the lists nested in an order page.
pub mod first {
    pub const LINE_ITEMS: u32 = 10;
    pub const FULFILLMENT_ORDERS: u32 = 2;
    pub const FULFILLMENT_ORDER_LINES: u32 = 5;
    pub const SHIPMENTS: u32 = 2;
    pub const TRACKING: u32 = 2;
    pub const SHIPMENT_LINES: u32 = 5;
    pub const EVENTS: u32 = 5;
    pub const RETURNS: u32 = 1;
    pub const RETURN_LINES: u32 = 3;
    pub const RETURN_SHIPMENTS: u32 = 1;
    pub const REFUNDS: u32 = 2;
}

/// What the shopper paid: the presentment amount (the currency is the
/// order's `presentmentCurrencyCode`).
const MONEY: &str = "presentmentMoney { amount }";
/// The total in both currencies (staff see the shop's when it differs).
const BOTH_MONEYS: &str = "shopMoney { amount } presentmentMoney { amount }";
const LINE_ITEM: &str = "id title variantTitle sku quantity currentQuantity requiresShipping originalUnitPriceSet { presentmentMoney { amount } } image { url }";
const EVENT: &str =
    "id status happenedAt message address1 zip city province country estimatedDeliveryAt";
const REFUND: &str = "id createdAt note totalRefundedSet { presentmentMoney { amount } }";
const RETURN_LINE: &str = "quantity returnReasonDefinition { handle } ... on ReturnLineItem { fulfillmentLineItem { lineItem { id title } } }";
const PAGE: &str = "pageInfo { hasNextPage endCursor }";

fn fulfillment_order_fields() -> String {
    format!(
        "id status requestStatus fulfillAt updatedAt assignedLocation {{ name location {{ legacyResourceId }} }} \
         fulfillmentHolds {{ reason reasonNotes }} \
         lineItems(first: {n}) {{ {PAGE} nodes {{ totalQuantity lineItem {{ id }} }} }}",
        n = first::FULFILLMENT_ORDER_LINES
    )
}

/// A shipment's own fields (no lists): what a bulk operation may read of it.
const SHIPMENT_SCALARS: &str = "id name status displayStatus createdAt updatedAt estimatedDeliveryAt inTransitAt deliveredAt \
     location { name legacyResourceId }";

fn shipment_fields() -> String {
    format!(
        "{SHIPMENT_SCALARS} \
         trackingInfo(first: {t}) {{ company number url }} \
         fulfillmentLineItems(first: {l}) {{ {PAGE} nodes {{ quantity lineItem {{ id title variantTitle }} }} }} \
         events(first: {e}) {{ {PAGE} nodes {{ {EVENT} }} }}",
        t = first::TRACKING,
        l = first::SHIPMENT_LINES,
        e = first::EVENTS
    )
}

fn return_fields() -> String {
    format!(
        "id name status createdAt closedAt \
         returnLineItems(first: {l}) {{ {PAGE} nodes {{ {RETURN_LINE} }} }} \
         reverseFulfillmentOrders(first: {s}) {{ {PAGE} nodes {{ reverseDeliveries(first: {s}) {{ {PAGE} nodes {{ deliverable {{ ... on ReverseDeliveryShippingDeliverable {{ tracking {{ carrierName number url }} }} }} }} }} }} }}",
        l = first::RETURN_LINES,
        s = first::RETURN_SHIPMENTS
    )
}

/// The order-level fields, also what a bulk operation reads of an order.
fn order_scalars() -> String {
    format!(
        "id legacyResourceId name email phone customerLocale currencyCode presentmentCurrencyCode \
         subtotalPriceSet {{ {MONEY} }} totalPriceSet {{ {BOTH_MONEYS} }} totalTaxSet {{ {MONEY} }} taxesIncluded \
         totalDiscountsSet {{ {MONEY} }} totalShippingPriceSet {{ {MONEY} }} \
         createdAt processedAt updatedAt closedAt cancelledAt cancelReason tags \
         customer {{ firstName lastName locale }} \
         shippingAddress {{ name address1 address2 city province zip country countryCodeV2 phone }} \
         shippingLine {{ title }} \
         displayFinancialStatus displayFulfillmentStatus returnStatus"
    )
}

/// Everything the model needs of an order, with the first page of each
/// nested list.
pub fn order_fragment() -> String {
    format!(
        "fragment OrderFields on Order {{ {scalars} \
         lineItems(first: {li}) {{ {PAGE} nodes {{ {LINE_ITEM} }} }} \
         fulfillmentOrders(first: {fo}) {{ {PAGE} nodes {{ {fof} }} }} \
         fulfillments(first: {sh}) {{ {shf} }} \
         returns(first: {r}) {{ {PAGE} nodes {{ {rf} }} }} \
         refunds(first: {rf_n}) {{ {REFUND} }} }}",
        scalars = order_scalars(),
        li = first::LINE_ITEMS,
        fo = first::FULFILLMENT_ORDERS,
        fof = fulfillment_order_fields(),
        sh = first::SHIPMENTS,
        shf = shipment_fields(),
        r = first::RETURNS,
        rf = return_fields(),
        rf_n = first::REFUNDS,
    )
}

/// A page of orders matching `$query`, oldest update first.
pub fn orders_query() -> String {
    format!(
        "query Orders($first: Int!, $after: String, $query: String) {{ \
         orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{ {PAGE} nodes {{ ...OrderFields }} }} }} {}",
        order_fragment()
    )
}

/// One order by its gid (a refetch after `orders/edited`, or for a
/// webhook about an order we do not have yet).
pub fn order_query() -> String {
    format!(
        "query Order($id: ID!) {{ node(id: $id) {{ ...OrderFields }} }} {}",
        order_fragment()
    )
}

/// A follow-up query: `$id` is the part's gid, `$after` the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    LineItems,
    FulfillmentOrders,
    FulfillmentOrderLines,
    /// Every shipment id of an order (a plain list: no cursor).
    ShipmentIds,
    /// One shipment, whole.
    Shipment,
    /// Every tracking number of a shipment (a plain list).
    Tracking,
    ShipmentLines,
    Events,
    Returns,
    ReturnLines,
    ReturnShipments,
    /// Every refund of an order (a plain list).
    Refunds,
}

impl FollowUp {
    /// Every follow-up, for the cost test.
    pub const ALL: [FollowUp; 12] = [
        FollowUp::LineItems,
        FollowUp::FulfillmentOrders,
        FollowUp::FulfillmentOrderLines,
        FollowUp::ShipmentIds,
        FollowUp::Shipment,
        FollowUp::Tracking,
        FollowUp::ShipmentLines,
        FollowUp::Events,
        FollowUp::Returns,
        FollowUp::ReturnLines,
        FollowUp::ReturnShipments,
        FollowUp::Refunds,
    ];

    /// The field of the node the answer is under.
    pub fn field(self) -> &'static str {
        match self {
            FollowUp::LineItems | FollowUp::FulfillmentOrderLines => "lineItems",
            FollowUp::FulfillmentOrders => "fulfillmentOrders",
            FollowUp::ShipmentIds => "fulfillments",
            FollowUp::Shipment => "",
            FollowUp::Tracking => "trackingInfo",
            FollowUp::ShipmentLines => "fulfillmentLineItems",
            FollowUp::Events => "events",
            FollowUp::Returns => "returns",
            FollowUp::ReturnLines => "returnLineItems",
            FollowUp::ReturnShipments => "reverseFulfillmentOrders",
            FollowUp::Refunds => "refunds",
        }
    }

    /// The query text.
    pub fn query(self) -> String {
        let (on, body) = match self {
            FollowUp::LineItems => (
                "Order",
                format!(
                    "lineItems(first: 100, after: $after) {{ {PAGE} nodes {{ {LINE_ITEM} }} }}"
                ),
            ),
            FollowUp::FulfillmentOrders => (
                "Order",
                format!(
                    "fulfillmentOrders(first: 10, after: $after) {{ {PAGE} nodes {{ {} }} }}",
                    fulfillment_order_fields()
                ),
            ),
            FollowUp::FulfillmentOrderLines => (
                "FulfillmentOrder",
                format!(
                    "lineItems(first: 100, after: $after) {{ {PAGE} nodes {{ totalQuantity lineItem {{ id }} }} }}"
                ),
            ),
            FollowUp::ShipmentIds => ("Order", "fulfillments(first: 250) { id }".to_string()),
            FollowUp::Shipment => ("Fulfillment", shipment_fields()),
            FollowUp::Tracking => (
                "Fulfillment",
                "trackingInfo(first: 250) { company number url }".to_string(),
            ),
            FollowUp::ShipmentLines => (
                "Fulfillment",
                format!(
                    "fulfillmentLineItems(first: 100, after: $after) {{ {PAGE} nodes {{ quantity lineItem {{ id title variantTitle }} }} }}"
                ),
            ),
            FollowUp::Events => (
                "Fulfillment",
                format!("events(first: 100, after: $after) {{ {PAGE} nodes {{ {EVENT} }} }}"),
            ),
            FollowUp::Returns => (
                "Order",
                format!(
                    "returns(first: 5, after: $after) {{ {PAGE} nodes {{ {} }} }}",
                    return_fields()
                ),
            ),
            FollowUp::ReturnLines => (
                "Return",
                format!(
                    "returnLineItems(first: 50, after: $after) {{ {PAGE} nodes {{ {RETURN_LINE} }} }}"
                ),
            ),
            FollowUp::ReturnShipments => (
                "Return",
                format!(
                    "reverseFulfillmentOrders(first: 10) {{ {PAGE} nodes {{ reverseDeliveries(first: 10) {{ {PAGE} nodes {{ deliverable {{ ... on ReverseDeliveryShippingDeliverable {{ tracking {{ carrierName number url }} }} }} }} }} }} }}"
                ),
            ),
            FollowUp::Refunds => ("Order", format!("refunds(first: 100) {{ {REFUND} }}")),
        };
        let uses_after = body.contains("$after");
        let vars = if uses_after {
            "$id: ID!, $after: String"
        } else {
            "$id: ID!"
        };
        format!("query FollowUp({vars}) {{ node(id: $id) {{ ... on {on} {{ {body} }} }} }}")
    }
}

/// The bulk operation's query: every order matching `search`, with its
/// line items, the ids of its returns, its shipments and its refunds.
///
/// Shopify's bulk operations allow five connections nested two deep, and
/// none inside a plain list field: `Order.fulfillments` is a plain list,
/// so a shipment's lines and scans (connections) cannot come with it.
/// They are read afterwards for every shipment with [`parcels_query`];
/// fulfillment orders (whose lines would be a third level) and returns'
/// lines are read for the orders that have open work or returns at all.
pub fn bulk_orders_query(search: Option<&str>) -> String {
    // Oldest first, so the parcels listed last (read first) are the
    // newest orders'.
    let filter = search
        .map(|s| format!(", query: {}", serde_json::Value::from(s)))
        .unwrap_or_default();
    format!(
        "{{ orders(sortKey: CREATED_AT{filter}) {{ edges {{ node {{ {scalars} \
         lineItems {{ edges {{ node {{ {LINE_ITEM} }} }} }} \
         returns {{ edges {{ node {{ id }} }} }} \
         fulfillments {{ {SHIPMENT_SCALARS} trackingInfo {{ company number url }} }} \
         refunds {{ {REFUND} }} }} }} }} }}",
        scalars = order_scalars()
    )
}

/// Shipments whose lines and scans a query of [`parcels_query`] reads at
/// once: the most whose requested cost fits 1,000 points (a test proves
/// it, and that one more would not).
pub const PARCEL_BATCH: usize = 43;

/// Up to [`PARCEL_BATCH`] shipments, whole (each `$pN` a shipment's gid,
/// its answer under the alias `pN`), with the first page of their lines
/// and scans; longer lists are paged with [`FollowUp`].
pub fn parcels_query(n: usize) -> String {
    let vars: Vec<String> = (0..n).map(|i| format!("$p{i}: ID!")).collect();
    let fields: Vec<String> = (0..n)
        .map(|i| format!("p{i}: node(id: $p{i}) {{ ...Parcel }}"))
        .collect();
    format!(
        "query Parcels({}) {{ {} }} fragment Parcel on Fulfillment {{ {} }}",
        vars.join(", "),
        fields.join(" "),
        shipment_fields()
    )
}

#[cfg(test)]
mod tests {
    use super::super::cost::{MAX_QUERY_COST, Schema, parse_query};
    use super::*;
    use crate::order::*;
    use rust_decimal::Decimal;
    use serde_json::json;

    fn money(shop: &str, presentment: &str) -> serde_json::Value {
        json!({"shopMoney": {"amount": shop, "currencyCode": "SEK"},
               "presentmentMoney": {"amount": presentment, "currencyCode": "EUR"}})
    }

    #[test]
    fn every_query_the_client_sends_fits_shopifys_cost_limit() {
        let schema = Schema::admin().expect("schema");
        let cost = |q: &str, vars: serde_json::Value| {
            let doc = parse_query(q).unwrap_or_else(|e| panic!("{e}\n{q}"));
            schema
                .requested_cost(&doc, &vars)
                .unwrap_or_else(|e| panic!("{e}\n{q}"))
        };
        // The order page at the largest size the sync may use.
        let page = cost(&orders_query(), json!({"first": MAX_PAGE_SIZE}));
        assert!(page <= MAX_QUERY_COST, "orders page: {page}");
        assert!(
            cost(&orders_query(), json!({"first": MAX_PAGE_SIZE + 1})) > MAX_QUERY_COST,
            "the page size is the largest that fits"
        );
        assert!(cost(&order_query(), json!({"id": "gid://shopify/Order/1"})) <= MAX_QUERY_COST);
        // The shipments read after a bulk operation, at the batch size.
        assert!(cost(&parcels_query(PARCEL_BATCH), json!({})) <= MAX_QUERY_COST);
        assert!(
            cost(&parcels_query(PARCEL_BATCH + 1), json!({})) > MAX_QUERY_COST,
            "the batch is the largest that fits"
        );
        for f in FollowUp::ALL {
            let c = cost(
                &f.query(),
                json!({"id": "gid://shopify/Order/1", "after": "x"}),
            );
            assert!(c <= MAX_QUERY_COST, "{f:?}: {c}");
        }
        // The bulk operation's start and polls, and `shopify check`.
        for q in [
            super::super::bulk::RUN,
            super::super::bulk::POLL,
            super::super::check::SCOPES,
            super::super::client::PROTECTED_PROBE,
        ] {
            let c = cost(
                q,
                json!({"id": "gid://shopify/BulkOperation/1", "query": "{}"}),
            );
            assert!(c <= MAX_QUERY_COST, "{q}: {c}");
        }
    }

    #[test]
    fn the_bulk_query_keeps_shopifys_bulk_restrictions() {
        let schema = Schema::admin().expect("schema");
        let q = bulk_orders_query(Some("updated_at:>='2026-01-01T00:00:00Z'"));
        let shape = schema
            .check_bulk_query(&parse_query(&q).expect("parses"))
            .expect("a valid bulk query");
        assert_eq!((shape.connections, shape.depth), (3, 2));
    }

    #[test]
    fn a_graphql_order_maps_in_the_shoppers_currency() {
        let v = json!({
            "id": "gid://shopify/Order/450789469", "legacyResourceId": "450789469",
            "name": "FK-1001-SE", "email": "bob@example.com",
            "currencyCode": "SEK", "presentmentCurrencyCode": "EUR", "customerLocale": "de",
            "totalPriceSet": money("6890.00", "598.94"),
            "totalShippingPriceSet": money("49.00", "4.50"),
            "shippingLine": {"title": "DHL Express"},
            "updatedAt": "2026-11-20T10:00:00Z",
            "displayFinancialStatus": "PARTIALLY_REFUNDED", "displayFulfillmentStatus": "PARTIALLY_FULFILLED",
            "returnStatus": "IN_PROGRESS", "cancelReason": null, "tags": ["vip"],
            "lineItems": {"pageInfo": {"hasNextPage": false}, "nodes": [
                {"id": "gid://shopify/LineItem/1", "title": "Mug", "quantity": 2,
                 "originalUnitPriceSet": money("143.00", "12.50"), "someNewField": 1}]},
            "fulfillmentOrders": {"nodes": [{"id": "gid://shopify/FulfillmentOrder/7", "status": "ON_HOLD",
                "updatedAt": "2026-11-20T09:00:00Z",
                "fulfillmentHolds": [{"reason": "AWAITING_PAYMENT"}],
                "lineItems": {"nodes": [{"totalQuantity": 1, "lineItem": {"id": "gid://shopify/LineItem/1"}}]}}]},
            "fulfillments": [{"id": "gid://shopify/Fulfillment/9", "status": "SUCCESS", "displayStatus": "IN_TRANSIT",
                "trackingInfo": [{"company": "UPS", "number": "1Z1", "url": "https://ups.example/1Z1"}],
                "fulfillmentLineItems": {"nodes": [{"quantity": 1, "lineItem": {"id": "gid://shopify/LineItem/1", "title": "Mug"}}]},
                "events": {"pageInfo": {"hasNextPage": false}, "nodes": [
                    {"id": "gid://shopify/FulfillmentEvent/3", "status": "IN_TRANSIT", "happenedAt": "2026-11-20T09:00:00Z"}]}}],
            "returns": {"nodes": [{"id": "gid://shopify/Return/5", "name": "#1001-R1", "status": "OPEN",
                "returnLineItems": {"nodes": [{"quantity": 1, "returnReasonDefinition": {"handle": "defective"},
                    "fulfillmentLineItem": {"lineItem": {"id": "gid://shopify/LineItem/1", "title": "Mug"}}}]},
                "reverseFulfillmentOrders": {"nodes": [{"reverseDeliveries": {"nodes": [{"deliverable":
                    {"tracking": {"carrierName": "PostNord", "number": "RT1", "url": null}}}]}}]}}]},
            "refunds": [{"id": "gid://shopify/Refund/8", "note": "broken",
                "totalRefundedSet": money("143.00", "12.50")}]
        });
        let g: GqlOrder = serde_json::from_value(v).expect("graphql order");
        let o = g.into_order("s.example");
        assert_eq!((o.id, o.order_number), (450789469, 1001));
        assert_eq!(o.currency, "EUR", "what the shopper paid in");
        assert_eq!(o.total_price, Some(Decimal::new(59894, 2)));
        assert_eq!(o.shop_currency.as_deref(), Some("SEK"));
        assert_eq!(o.shop_total_price, Some(Decimal::new(689000, 2)));
        assert_eq!(o.line_items[0].price, Some(Decimal::new(1250, 2)));
        assert_eq!(o.refunded_amount(), Some(Decimal::new(1250, 2)));
        assert_eq!(o.customer_locale.as_deref(), Some("de"));
        assert_eq!(o.shipping_method.as_deref(), Some("DHL Express"));
        assert_eq!(o.financial_status, FinancialStatus::PartiallyRefunded);
        assert_eq!(
            o.fulfillment_orders[0].fulfillment_holds[0].reason,
            HoldReason::AwaitingPayment
        );
        assert_eq!(
            o.fulfillments[0].display_status(),
            FulfillmentDisplayStatus::InTransit
        );
        assert_eq!(
            o.returns[0].line_items[0].return_reason.as_deref(),
            Some("DEFECTIVE")
        );
        assert_eq!(o.returns[0].tracking[0].number.as_deref(), Some("RT1"));
    }

    #[test]
    fn nulls_where_lists_were_expected_read_as_empty() {
        let g: GqlOrder = serde_json::from_value(json!({
            "id": "gid://shopify/Order/1", "name": "#1", "tags": null, "lineItems": null,
            "fulfillments": null, "refunds": null, "returns": null, "fulfillmentOrders": null
        }))
        .expect("nulls tolerated");
        assert!(g.into_order("s").line_items.is_empty());
    }

    #[test]
    fn gids_become_numbers() {
        assert_eq!(legacy_id("gid://shopify/Order/123"), 123);
        assert_eq!(legacy_id("gid://shopify/LineItem/9?x=1"), 9);
        assert_eq!(legacy_id("nonsense"), 0);
        assert_eq!(
            gid_type("gid://shopify/FulfillmentEvent/5"),
            Some("FulfillmentEvent")
        );
        assert_eq!(gid_type("nope"), None);
    }
}
