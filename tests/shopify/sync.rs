//! The Shopify client, sync and bulk backfill end to end against the fake
//! Shopify of `common::fake_shopify`, which keeps Shopify's documented
//! rules (cost limit, leaky bucket, scopes, expiring tokens, version
//! fall-forward, bulk operations).

use crate::common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::fake_shopify::{
    self as fake, Blip, CLIENT_ID, CLIENT_SECRET, FakeShopify, Rules, SHOP, STATIC_TOKEN,
    graphql_order,
};
use order_status::config::{Config, ShopifyShop};
use order_status::ingest::shopify::sync::{
    BulkMode, SyncError, SyncOptions, load_checkpoint, sync_shop,
};
use order_status::order::*;
use order_status::shopify::client::{ApiError, CallOptions, ShopApi};
use order_status::store::{Store, StoreOptions};
use serde_json::{Value, json};

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn shop_with(base: &str, vars: &[(&str, &str)]) -> ShopifyShop {
    let mut all: Vec<(String, String)> = vec![
        ("ORDER_STATUS_SHOPIFY_SHOP".into(), SHOP.into()),
        ("ORDER_STATUS_SHOPIFY_API_BASE".into(), base.into()),
    ];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let mut config = Config::load(None, |k| {
        all.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    })
    .expect("config");
    config.shopify.remove(0)
}

fn token_shop(base: &str) -> ShopifyShop {
    shop_with(base, &[("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", STATIC_TOKEN)])
}

fn client_credentials_shop(base: &str) -> ShopifyShop {
    shop_with(
        base,
        &[
            ("ORDER_STATUS_SHOPIFY_CLIENT_ID", CLIENT_ID),
            ("ORDER_STATUS_SHOPIFY_CLIENT_SECRET", CLIENT_SECRET),
        ],
    )
}

fn fast() -> CallOptions {
    CallOptions {
        backoff: Duration::from_millis(10),
        max_wait: Duration::from_secs(2),
        attempts: 6,
        throttles: 200,
    }
}

fn options(bulk: BulkMode) -> SyncOptions {
    SyncOptions {
        bulk,
        poll_first: Duration::from_millis(5),
        poll_longest: Duration::from_millis(20),
        ..SyncOptions::default()
    }
}

/// `n` demo orders, as our model and as the fake holds them.
fn demo(n: u64) -> (Vec<Order>, Vec<Value>) {
    let orders: Vec<Order> = (0..n)
        .map(|i| order_status::ingest::demo::order(7, i, now(), SHOP))
        .collect();
    let gql = orders.iter().map(graphql_order).collect();
    (orders, gql)
}

fn open_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
    (dir, store)
}

/// Whether a bulk backfill reads the order again (open work, or returns).
fn refetched_after_bulk(o: &Order) -> bool {
    let done = matches!(
        o.fulfillment_status,
        FulfillmentStatus::Fulfilled | FulfillmentStatus::FulfillmentNotRequired
    );
    !o.returns.is_empty() || (!done && o.cancelled_at.is_none() && o.closed_at.is_none())
}

/// What the store must hold of an order Shopify has (ours aside); a bulk
/// backfill brings fulfillment orders only for orders read again.
fn assert_same(stored: &Order, want: &Order) {
    assert_same_but(stored, want, true)
}

fn assert_same_but(stored: &Order, want: &Order, fulfillment_orders: bool) {
    let n = &want.name;
    assert_eq!(stored.email, want.email, "{n}");
    assert_eq!(stored.financial_status, want.financial_status, "{n}");
    assert_eq!(
        stored.line_items.len(),
        want.line_items.len(),
        "{n} line items"
    );
    assert_eq!(stored.total_price, want.total_price, "{n}");
    assert_eq!(
        stored.fulfillments.len(),
        want.fulfillments.len(),
        "{n} shipments"
    );
    for (s, w) in stored.fulfillments.iter().zip(&want.fulfillments) {
        assert_eq!(s.events.len(), w.events.len(), "{n} scans");
        assert_eq!(s.line_items.len(), w.line_items.len(), "{n} shipped lines");
        assert_eq!(s.tracking_numbers, w.tracking_numbers, "{n} tracking");
    }
    if !fulfillment_orders {
        assert!(stored.fulfillment_orders.is_empty(), "{n}");
    }
    let fos = if fulfillment_orders {
        &want.fulfillment_orders[..]
    } else {
        &[][..]
    };
    assert_eq!(stored.fulfillment_orders.len(), fos.len(), "{n} FOs");
    for (s, w) in stored.fulfillment_orders.iter().zip(fos) {
        assert_eq!(s.line_items.len(), w.line_items.len(), "{n} FO lines");
        assert_eq!(s.status, w.status, "{n} FO status");
    }
    assert_eq!(stored.returns.len(), want.returns.len(), "{n} returns");
    for (s, w) in stored.returns.iter().zip(&want.returns) {
        assert_eq!(s.line_items.len(), w.line_items.len(), "{n} returned lines");
        assert_eq!(s.status, w.status, "{n} return status");
    }
    assert_eq!(stored.refunds.len(), want.refunds.len(), "{n} refunds");
    assert_eq!(stored.refunded_amount(), want.refunded_amount(), "{n}");
}

#[tokio::test]
async fn the_first_sync_backfills_with_a_bulk_operation_then_pages_what_changed() {
    let (orders, gql) = demo(60);
    let fake = FakeShopify::start(Rules::default(), gql).await;
    let (dir, store) = open_store();
    let api = ShopApi::new(&token_shop(&fake.base), fast()).expect("api");
    let r = sync_shop(
        &store,
        dir.path(),
        &api,
        None,
        options(BulkMode::Auto),
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(
        fake.counters().bulk_started,
        1,
        "the first run is a bulk operation"
    );
    assert_eq!(r.bulk_orders, 60);
    // Returns and fulfillment orders cannot come whole through a bulk
    // query: orders with returns or open work are read again.
    let need = orders.iter().filter(|o| refetched_after_bulk(o)).count();
    assert!(need > 0 && need < 60, "the demo has some: {need}");
    assert_eq!(r.refetched, need);
    assert_eq!(store.count(), 60);
    for o in &orders {
        let stored = store.get(&o.key()).expect("get").expect("stored");
        assert_same_but(&stored, o, refetched_after_bulk(o));
    }
    let c = fake.counters();
    assert_eq!((c.max_cost_exceeded, c.access_denied), (0, 0));
    assert!(c.max_requested <= 1000);
    // A bulk query cannot hold a shipment's lines and scans (connections
    // inside the plain list `Order.fulfillments`): every other order's
    // shipments were read afterwards, many to a query.
    let parcels: u64 = orders
        .iter()
        .filter(|o| !refetched_after_bulk(o))
        .map(|o| o.fulfillments.len() as u64)
        .sum();
    assert!(parcels > 0);
    assert_eq!((r.parcels, r.parcels_left), (parcels, 0));
    let queries = c.calls.get("Parcels").copied().unwrap_or(0) as u64;
    assert!(
        queries > 0 && queries < parcels,
        "{queries} queries for {parcels}"
    );
    // What the shopper's page shows of each parcel: its items and scans.
    let tz = chrono_tz::Europe::Stockholm;
    let mut shown = 0;
    for o in &orders {
        let stored = store.get(&o.key()).expect("get").expect("stored");
        let view = order_status::shopper::ShopperView::of(&stored, now(), tz);
        for p in &view.timeline.packages {
            let want = o
                .fulfillments
                .iter()
                .find(|f| f.id == p.fulfillment_id)
                .expect("a parcel of the order");
            assert_eq!(p.items.len(), want.line_items.len(), "{} items", o.name);
            assert_eq!(p.events.len(), want.events.len(), "{} scans", o.name);
            shown += usize::from(!p.items.is_empty() && !p.events.is_empty());
        }
    }
    assert!(
        shown > 10,
        "parcels with items and scans on the page: {shown}"
    );

    // The next run asks only for what changed since.
    let mut changed = orders[3].clone();
    changed.updated_at = Some(now() + chrono::Duration::seconds(5));
    changed.financial_status = FinancialStatus::Refunded;
    fake.put_order(graphql_order(&changed));
    let r = sync_shop(
        &store,
        dir.path(),
        &api,
        None,
        options(BulkMode::Auto),
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(fake.counters().bulk_started, 1, "a small gap is paged");
    assert!(r.orders >= 1 && r.orders < 60, "{r:?}");
    let pages = fake.counters().order_pages;
    assert!(
        pages
            .last()
            .and_then(|p| p.1.as_deref())
            .is_some_and(|q| q.starts_with("updated_at:>='")),
        "{pages:?}"
    );
    let stored = store.get(&changed.key()).expect("get").expect("stored");
    assert_eq!(stored.financial_status, FinancialStatus::Refunded);
}

#[tokio::test]
async fn a_server_reads_the_backfills_parcels_newest_first_a_share_per_run() {
    let (orders, gql) = demo(120);
    let fake = FakeShopify::start(Rules::default(), gql).await;
    let (dir, store) = open_store();
    let api = ShopApi::new(&token_shop(&fake.base), fast()).expect("api");
    let per_run = 20;
    let budgeted = SyncOptions {
        parcels_per_run: Some(per_run),
        ..options(BulkMode::Auto)
    };
    let r = sync_shop(&store, dir.path(), &api, None, budgeted, |_| {})
        .await
        .expect("sync");
    // Shipments of orders that are not read again whole, newest first.
    let mut waiting: Vec<(&Order, &Fulfillment)> = orders
        .iter()
        .filter(|o| !refetched_after_bulk(o))
        .flat_map(|o| o.fulfillments.iter().map(move |f| (o, f)))
        .collect();
    waiting.sort_by_key(|(o, _)| std::cmp::Reverse(o.created_at));
    let total = waiting.len() as u64;
    assert!(total > 2 * per_run, "the demo has enough: {total}");
    assert_eq!((r.parcels, r.parcels_left), (per_run, total - per_run));
    let complete = |o: &Order, f: &Fulfillment| {
        let stored = store.get(&o.key()).expect("get").expect("stored");
        let s = stored
            .fulfillments
            .iter()
            .find(|s| s.id == f.id)
            .expect("the shipment came with the bulk file")
            .clone();
        s.line_items.len() == f.line_items.len() && s.events.len() == f.events.len()
    };
    // The newest orders' parcels are complete; the oldest wait (the demo's
    // oldest shipments all have lines, so waiting shows).
    let (newest, oldest) = waiting.split_at(per_run as usize);
    assert!(newest.iter().all(|(o, f)| complete(o, f)));
    assert!(oldest.iter().any(|(o, f)| !complete(o, f)));
    let cp = load_checkpoint(dir.path(), SHOP).expect("checkpoint");
    assert_eq!((cp.parcels, cp.parcels_done), (total, per_run));
    // Later runs go on where it stopped, with no new bulk operation, and
    // page what changed meanwhile as usual.
    let mut runs = 1;
    loop {
        let r = sync_shop(&store, dir.path(), &api, None, budgeted, |_| {})
            .await
            .expect("sync");
        runs += 1;
        if r.parcels_left == 0 {
            break;
        }
        assert!(runs < 20);
    }
    assert_eq!(runs, total.div_ceil(per_run));
    assert_eq!(fake.counters().bulk_started, 1);
    assert!(waiting.iter().all(|(o, f)| complete(o, f)));
    assert!(
        !order_status::ingest::shopify::sync::parcels_path(dir.path(), SHOP).exists(),
        "the parcel file goes when done"
    );
    let cp = load_checkpoint(dir.path(), SHOP).expect("checkpoint");
    assert_eq!((cp.parcels, cp.parcels_done), (0, 0));
}

#[tokio::test]
async fn protected_data_shopify_withholds_is_marked_not_available_and_the_sync_goes_on() {
    let (orders, gql) = demo(12);
    let rules = Rules {
        withheld: vec![fake::Protected::Email, fake::Protected::Name],
        ..Rules::default()
    };
    let fake = FakeShopify::start(rules, gql).await;
    let (dir, store) = open_store();
    let api = ShopApi::new(&token_shop(&fake.base), fast()).expect("api");
    // The first run reads through a bulk file (no errors there, only
    // blanks), the orders read again through queries (with Shopify's
    // "not approved" errors): both end marked.
    let r = sync_shop(
        &store,
        dir.path(),
        &api,
        None,
        options(BulkMode::Auto),
        |_| {},
    )
    .await
    .expect("the sync completes");
    assert_eq!(r.bulk_orders, 12);
    assert!(r.refetched > 0);
    for o in &orders {
        let stored = store.get(&o.key()).expect("get").expect("stored");
        assert!(stored.email.is_empty(), "{}", o.name);
        assert!(
            stored.is_withheld("email") && stored.is_withheld("name"),
            "{}: {:?}",
            o.name,
            stored.withheld
        );
        assert!(!stored.is_withheld("phone"), "phones are granted");
        let view =
            order_status::shopper::ShopperView::of(&stored, now(), chrono_tz::Europe::Stockholm);
        assert!(view.email_withheld && view.masked_email.is_none());
    }
    // Once the app is approved, the next read fills them in.
    fake.set_rules(|r| r.withheld.clear());
    sync_shop(
        &store,
        dir.path(),
        &api,
        Some(now() - chrono::Duration::days(400)),
        options(BulkMode::Never),
        |_| {},
    )
    .await
    .expect("sync");
    let stored = store.get(&orders[0].key()).expect("get").expect("stored");
    assert_eq!(stored.email, orders[0].email);
    assert!(stored.withheld.is_empty(), "{:?}", stored.withheld);
}

/// An order with more of everything than any first page holds.
fn big_order() -> Order {
    let mut o = order_status::ingest::demo::order(7, 0, now(), SHOP);
    o.id = 9_000_001;
    o.name = "FK-9001-SE".into();
    o.order_number = 0;
    o.line_items = (0..30)
        .map(|i| LineItem {
            id: 500 + i,
            title: format!("Thing {i}"),
            variant_title: None,
            sku: Some(format!("SKU-{i}")),
            quantity: 1,
            current_quantity: None,
            price: Some(rust_decimal::Decimal::new(1000, 2)),
            image_url: None,
            requires_shipping: true,
        })
        .collect();
    o.fulfillment_orders = (0..4)
        .map(|k| FulfillmentOrder {
            request_status: None,
            id: 800 + k,
            status: FulfillmentOrderStatus::Open,
            fulfill_at: None,
            assigned_location: None,
            fulfillment_holds: vec![],
            line_items: (0..8)
                .map(|i| FulfillmentOrderLineItem {
                    line_item_id: 500 + k * 7 + i,
                    quantity: 1,
                })
                .collect(),
            updated_at: None,
        })
        .collect();
    let t0 = now() - chrono::Duration::days(3);
    o.fulfillments = (0..5)
        .map(|k| Fulfillment {
            id: 700 + k,
            name: Some(format!("#9001.{k}")),
            status: Some(ShipmentRecordStatus::Success),
            shipment_status: None,
            display_status: Some(FulfillmentDisplayStatus::InTransit),
            location_id: Some(1),
            location_name: Some("Main".into()),
            tracking_company: Some("DHL".into()),
            tracking_numbers: (0..3).map(|i| format!("DHL{k}{i}")).collect(),
            tracking_urls: vec![],
            estimated_delivery_at: None,
            in_transit_at: None,
            delivered_at: None,
            created_at: Some(t0),
            updated_at: Some(t0),
            line_items: (0..7)
                .map(|i| ShippedItem {
                    id: 500 + i,
                    title: format!("Thing {i}"),
                    variant_title: None,
                    quantity: 1,
                })
                .collect(),
            events: (0..12)
                .map(|i| TrackingEvent {
                    id: 70_000 + k * 100 + i,
                    status: TrackingStatus::InTransit,
                    happened_at: Some(t0 + chrono::Duration::hours(i as i64)),
                    message: None,
                    city: Some("Malmö".into()),
                    address1: None,
                    zip: None,
                    province: None,
                    country: None,
                    estimated_delivery_at: None,
                })
                .collect(),
        })
        .collect();
    o.returns = (0..3)
        .map(|k| Return {
            id: 600 + k,
            name: Some(format!("#9001-R{k}")),
            status: ReturnState::Open,
            created_at: Some(t0),
            closed_at: None,
            line_items: (0..6)
                .map(|i| ReturnItem {
                    line_item_id: 500 + i,
                    title: format!("Thing {i}"),
                    quantity: 1,
                    return_reason: Some("SIZE_TOO_SMALL".into()),
                })
                .collect(),
            tracking: (0..2)
                .map(|i| ReturnTracking {
                    company: Some("PostNord".into()),
                    number: Some(format!("RT{k}{i}")),
                    url: None,
                })
                .collect(),
            updated_at: None,
        })
        .collect();
    o.refunds = (0..5)
        .map(|k| Refund {
            id: 400 + k,
            created_at: Some(t0),
            processed_at: Some(t0),
            note: None,
            transactions: vec![Transaction {
                amount: rust_decimal::Decimal::new(500, 2),
                kind: "refund".into(),
                status: "success".into(),
            }],
        })
        .collect();
    o.updated_at = Some(now() - chrono::Duration::hours(1));
    o
}

#[tokio::test]
async fn every_truncated_list_is_completed_with_queries_under_the_limit() {
    let big = big_order();
    let fake = FakeShopify::start(Rules::default(), vec![graphql_order(&big)]).await;
    let (dir, store) = open_store();
    let api = ShopApi::new(&token_shop(&fake.base), fast()).expect("api");
    sync_shop(
        &store,
        dir.path(),
        &api,
        Some(now() - chrono::Duration::days(1)),
        options(BulkMode::Never),
        |_| {},
    )
    .await
    .expect("sync");
    let stored = store
        .get(&format!("{SHOP}/9000001"))
        .expect("get")
        .expect("stored");
    assert_same(&stored, &big);
    assert_eq!(stored.order_number, 9001, "a prefixed and suffixed name");
    assert_eq!(stored.returns[2].tracking.len(), 2, "every return parcel");
    assert_eq!(stored.fulfillments[4].tracking_numbers.len(), 3);
    assert!(
        store.lookup(9001, &big.email).expect("lookup").is_some(),
        "found by its number alone"
    );
    let c = fake.counters();
    assert_eq!(c.max_cost_exceeded, 0);
    assert!(c.max_requested <= 1000, "{}", c.max_requested);
    assert!(
        c.calls.get("FollowUp").copied().unwrap_or(0) >= 10,
        "{:?}",
        c.calls
    );
}

#[tokio::test]
async fn the_client_budgets_by_requested_cost_and_rides_out_throttling() {
    let (_, gql) = demo(30);
    // A bucket that holds one order page, refilling briskly.
    let rules = Rules {
        bucket_max: 1000.0,
        restore_rate: 4_000.0,
        ..Rules::default()
    };
    let fake = FakeShopify::start(rules, gql).await;
    let (dir, store) = open_store();
    let api = ShopApi::new(&token_shop(&fake.base), fast()).expect("api");
    let since = now() - chrono::Duration::days(400);
    sync_shop(
        &store,
        dir.path(),
        &api,
        Some(since),
        options(BulkMode::Never),
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(store.count(), 30);
    assert_eq!(
        fake.counters().throttled,
        0,
        "the client waits for the bucket instead of being throttled"
    );
    // Another client of the app spent the bucket: Shopify throttles, the
    // client waits as long as the bucket needs and goes on.
    fake.drain_bucket();
    let before = api.throttled();
    fake.drain_bucket();
    sync_shop(
        &store,
        dir.path(),
        &api,
        Some(since),
        options(BulkMode::Never),
        |_| {},
    )
    .await
    .expect("sync after throttling");
    assert!(api.throttled() > before, "Shopify did throttle");
    assert!(fake.counters().throttled > 0);
}

#[tokio::test]
async fn blips_429_and_5xx_are_retried() {
    let (_, gql) = demo(6);
    let fake = FakeShopify::start(Rules::default(), gql).await;
    fake.blip(Blip::TooManyRequests);
    fake.blip(Blip::ServerError);
    fake.blip(Blip::ServerError);
    let (dir, store) = open_store();
    let api = ShopApi::new(&token_shop(&fake.base), fast()).expect("api");
    let r = sync_shop(
        &store,
        dir.path(),
        &api,
        Some(now() - chrono::Duration::days(400)),
        options(BulkMode::Never),
        |_| {},
    )
    .await
    .expect("sync");
    assert!(r.retries >= 3, "{r:?}");
    assert_eq!(store.count(), 6);
}

#[tokio::test]
async fn an_interrupted_sync_resumes_from_its_checkpoint() {
    let (_, gql) = demo(17);
    let fake = FakeShopify::start(Rules::default(), gql).await;
    fake.break_after_pages(Some(2));
    let (dir, store) = open_store();
    let api = ShopApi::new(&token_shop(&fake.base), fast()).expect("api");
    let since = now() - chrono::Duration::days(400);
    let err = sync_shop(
        &store,
        dir.path(),
        &api,
        Some(since),
        options(BulkMode::Never),
        |_| {},
    )
    .await
    .expect_err("Shopify went down");
    assert!(
        matches!(err, SyncError::Api(ApiError::GaveUp { .. })),
        "{err}"
    );
    assert_eq!(store.count(), 10, "two pages of five were committed");
    let cursor = load_checkpoint(dir.path(), SHOP).expect("cp").cursor;
    assert!(cursor.is_some());
    fake.break_after_pages(None);
    let pages_before = fake.counters().order_pages.len();
    let r = sync_shop(
        &store,
        dir.path(),
        &api,
        None,
        options(BulkMode::Never),
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(r.orders, 7, "only what was left");
    assert_eq!(
        fake.counters().order_pages[pages_before].0,
        cursor,
        "resumed at the cursor"
    );
    assert_eq!(store.count(), 17);
}

#[tokio::test]
async fn a_restarted_sync_picks_up_its_bulk_operation_instead_of_starting_another() {
    let (_, gql) = demo(12);
    let rules = Rules {
        bulk_polls: 1_000_000,
        ..Rules::default()
    };
    let fake = FakeShopify::start(rules, gql).await;
    let (dir, store) = open_store();
    let api = ShopApi::new(&token_shop(&fake.base), fast()).expect("api");
    // The process stops while the operation runs.
    let cut = tokio::time::timeout(
        Duration::from_millis(300),
        sync_shop(
            &store,
            dir.path(),
            &api,
            None,
            options(BulkMode::Auto),
            |_| {},
        ),
    )
    .await;
    assert!(cut.is_err(), "still polling when stopped");
    let cp = load_checkpoint(dir.path(), SHOP).expect("cp");
    let run = cp.bulk.expect("the operation id is checkpointed");
    fake.finish_bulks();
    let r = sync_shop(
        &store,
        dir.path(),
        &api,
        None,
        options(BulkMode::Auto),
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(
        fake.counters().bulk_started,
        1,
        "the same operation: {}",
        run.id
    );
    assert_eq!(r.bulk_orders, 12);
    assert_eq!(store.count(), 12);
    assert!(
        load_checkpoint(dir.path(), SHOP)
            .expect("cp")
            .bulk
            .is_none()
    );
}

#[tokio::test]
async fn an_ungrouped_bulk_file_still_ends_complete() {
    // Shopify may put nested lines after all parents when not grouping;
    // their orders are read again.
    let (orders, gql) = demo(8);
    let fake = FakeShopify::start(Rules::default(), gql).await;
    let (dir, store) = open_store();
    let api = ShopApi::new(&token_shop(&fake.base), fast()).expect("api");
    // Start a bulk operation by hand without grouping, then import it.
    let query = order_status::shopify::graphql::bulk_orders_query(None);
    let data = api
        .call(
            "mutation Run($query: String!) { bulkOperationRunQuery(query: $query, groupObjects: false) { bulkOperation { id } userErrors { message } } }",
            json!({"query": query}),
        )
        .await
        .expect("run");
    let id = data["bulkOperationRunQuery"]["bulkOperation"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    fake.finish_bulks();
    let done = order_status::shopify::bulk::wait(
        &api,
        &id,
        Duration::from_millis(5),
        Duration::from_millis(5),
    )
    .await
    .expect("done");
    let imported = order_status::ingest::shopify::backfill::import_url(
        &store,
        &api,
        done.url.as_deref().expect("url"),
        now(),
        0,
        |_, _, _| {},
    )
    .await
    .expect("import");
    assert_eq!(imported.orders, 8);
    assert!(
        imported.refetch.len() >= 8,
        "every order's lines came apart from it"
    );
    for gid in &imported.refetch {
        order_status::ingest::shopify::sync::refetch(&store, &api, gid)
            .await
            .expect("refetch");
    }
    for o in &orders {
        assert_same(&store.get(&o.key()).expect("get").expect("stored"), o);
    }
    drop(dir);
}

#[tokio::test]
async fn client_credential_tokens_are_obtained_renewed_and_never_shown() {
    let (_, gql) = demo(5);
    let fake = FakeShopify::start(Rules::default(), gql).await;
    let (dir, store) = open_store();
    let shop = client_credentials_shop(&fake.base);
    assert!(!format!("{shop:?}").contains(CLIENT_SECRET));
    let api = ShopApi::new(&shop, fast()).expect("api");
    let since = Some(now() - chrono::Duration::days(400));
    sync_shop(
        &store,
        dir.path(),
        &api,
        since,
        options(BulkMode::Never),
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(fake.counters().token_grants, 1, "one token, kept in memory");
    // The token stops working (revoked): one 401, one renewal, on we go.
    fake.revoke_tokens();
    sync_shop(
        &store,
        dir.path(),
        &api,
        since,
        options(BulkMode::Never),
        |_| {},
    )
    .await
    .expect("sync after the token was revoked");
    let c = fake.counters();
    assert_eq!(c.token_grants, 2);
    assert_eq!(c.unauthorized, 1);
    // Tokens that expire are renewed before they do.
    fake.set_rules(|r| r.token_lifetime = Duration::from_secs(1));
    fake.revoke_tokens();
    let api = ShopApi::new(&shop, fast()).expect("api");
    for _ in 0..2 {
        sync_shop(
            &store,
            dir.path(),
            &api,
            since,
            options(BulkMode::Never),
            |_| {},
        )
        .await
        .expect("sync with short-lived tokens");
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert_eq!(
        fake.counters().unauthorized,
        1,
        "renewed before expiry, never refused"
    );
}

#[tokio::test]
async fn wrong_credentials_and_missing_scopes_fail_naming_what_to_fix() {
    let (_, gql) = demo(5);
    let fake = FakeShopify::start(Rules::default(), gql).await;
    let (dir, store) = open_store();
    let since = Some(now() - chrono::Duration::days(400));
    let wrong = shop_with(
        &fake.base,
        &[("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", "shpat_wrong")],
    );
    let err = sync_shop(
        &store,
        dir.path(),
        &ShopApi::new(&wrong, fast()).expect("api"),
        since,
        options(BulkMode::Never),
        |_| {},
    )
    .await
    .expect_err("401");
    assert!(
        err.to_string()
            .contains("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN"),
        "{err}"
    );
    let bad_secret = shop_with(
        &fake.base,
        &[
            ("ORDER_STATUS_SHOPIFY_CLIENT_ID", CLIENT_ID),
            (
                "ORDER_STATUS_SHOPIFY_CLIENT_SECRET",
                "not-the-secret-at-all",
            ),
        ],
    );
    let err = sync_shop(
        &store,
        dir.path(),
        &ShopApi::new(&bad_secret, fast()).expect("api"),
        since,
        options(BulkMode::Never),
        |_| {},
    )
    .await
    .expect_err("refused");
    let msg = err.to_string();
    assert!(
        msg.contains("invalid_client") && msg.contains("ORDER_STATUS_SHOPIFY_CLIENT_SECRET"),
        "{msg}"
    );
    assert!(!msg.contains("not-the-secret-at-all"));

    fake.set_rules(|r| r.scopes.retain(|s| s != "read_returns"));
    let api = ShopApi::new(&token_shop(&fake.base), fast()).expect("api");
    let err = sync_shop(
        &store,
        dir.path(),
        &api,
        since,
        options(BulkMode::Never),
        |_| {},
    )
    .await
    .expect_err("no returns scope");
    let msg = err.to_string();
    assert!(
        msg.contains("read_returns") && msg.contains("returns"),
        "{msg}"
    );
}

#[tokio::test]
async fn an_unsupported_api_version_falls_forward_and_is_noticed() {
    let (_, gql) = demo(3);
    // A year on: Shopify no longer serves 2026-01.
    let rules = Rules {
        versions: vec!["2026-04", "2026-07", "2026-10", "2027-01"],
        ..Rules::default()
    };
    let fake = FakeShopify::start(rules, gql).await;
    let (dir, store) = open_store();
    let old = shop_with(
        &fake.base,
        &[
            ("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", STATIC_TOKEN),
            ("ORDER_STATUS_SHOPIFY_API_VERSION", "2026-01"),
        ],
    );
    let api = ShopApi::new(&old, fast()).expect("api");
    sync_shop(
        &store,
        dir.path(),
        &api,
        Some(now() - chrono::Duration::days(400)),
        options(BulkMode::Never),
        |_| {},
    )
    .await
    .expect("it still answers");
    let v = api.version();
    assert!(v.mismatch());
    assert_eq!(v.answered.as_deref(), Some("2026-04"));
    let current = ShopApi::new(&token_shop(&fake.base), fast()).expect("api");
    current
        .call("query { shop { name } }", json!({}))
        .await
        .expect("call");
    assert!(
        !current.version().mismatch(),
        "2026-10 is the default and current"
    );
}

#[test]
fn a_version_older_than_the_queries_need_is_refused_at_start() {
    let vars = [
        ("ORDER_STATUS_SHOPIFY_SHOP", SHOP),
        ("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", STATIC_TOKEN),
        ("ORDER_STATUS_SHOPIFY_API_VERSION", "2025-10"),
    ];
    let e = Config::load(None, |k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .expect_err("too old");
    let msg = format!("{e:#}");
    assert!(
        msg.contains("2025-10")
            && msg.contains("2026-01")
            && msg.contains("ORDER_STATUS_SHOPIFY_API_VERSION"),
        "{msg}"
    );
}

#[tokio::test]
async fn the_sync_and_check_commands_report_and_exit_by_their_result() {
    let (_, gql) = demo(7);
    let fake = FakeShopify::start(Rules::default(), gql).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |args: &'static [&'static str], vars: Vec<(&'static str, String)>| {
        let data = dir.path().to_path_buf();
        let base = fake.base.clone();
        tokio::task::spawn_blocking(move || {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"));
            cmd.args(args)
                .arg("--data-dir")
                .arg(&data)
                .env("ORDER_STATUS_SHOPIFY_SHOP", SHOP)
                .env("ORDER_STATUS_SHOPIFY_API_BASE", &base)
                .env("RUST_LOG", "warn");
            for (k, v) in vars {
                cmd.env(k, v);
            }
            cmd.output().expect("runs")
        })
    };
    let creds = || {
        vec![
            ("ORDER_STATUS_SHOPIFY_CLIENT_ID", CLIENT_ID.to_string()),
            (
                "ORDER_STATUS_SHOPIFY_CLIENT_SECRET",
                CLIENT_SECRET.to_string(),
            ),
        ]
    };
    let out = run(&["sync"], creds()).await.expect("join");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("fake.myshopify.com: 7 orders (7 through a bulk operation"),
        "{text}"
    );

    let out = run(&["shopify", "check"], creds()).await.expect("join");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("client credentials") && text.contains("API version: 2026-10"),
        "{text}"
    );
    assert!(text.contains("ok      protected customer data"), "{text}");

    fake.set_rules(|r| {
        r.withheld = vec![fake::Protected::Email];
        r.scopes.retain(|s| s != "read_all_orders");
    });
    let out = run(&["shopify", "check"], creds()).await.expect("join");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "hidden emails fail the check");
    assert!(
        text.contains("missing orders older than 60 days (read_all_orders): without it, the first sync stops 60 days back"),
        "{text}"
    );
    assert!(
        text.contains("MISSING protected customer data level 2: the email field")
            && text.contains("request level 2 with the email field"),
        "{text}"
    );
    assert!(text.contains("cannot look their orders up"), "{text}");
    // A scope webhooks need is named with what it breaks.
    fake.set_rules(|r| {
        r.withheld.clear();
        r.scopes.retain(|s| s != "read_fulfillments");
    });
    let out = run(&["shopify", "check"], creds()).await.expect("join");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("MISSING shipments and carrier scans as they happen (read_fulfillments): without it, the fulfillments/*"),
        "{text}"
    );
    assert!(text.contains("write-back: off"), "{text}");

    // With write-back on, the write scopes are listed, a missing one loud.
    fake.set_rules(|r| r.scopes.retain(|s| s != "write_fulfillments"));
    let mut with_writes = creds();
    with_writes.push(("ORDER_STATUS_SHOPIFY_WRITE_BACK", "true".into()));
    let out = run(&["shopify", "check"], with_writes).await.expect("join");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ok      write-back: statuses as an order tag and metafield (write_orders)"),
        "{text}"
    );
    assert!(
        text.contains("MISSING write-back: carrier scans (write_fulfillments)"),
        "{text}"
    );

    let out = run(
        &["sync"],
        vec![("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", "wrong".into())],
    )
    .await
    .expect("join");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused the access token"));

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .args(["sync", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Shopify shop configured"));
}
