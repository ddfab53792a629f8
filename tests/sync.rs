//! `sync` end to end against a fake Shopify: an axum server in the test
//! that speaks the GraphQL Admin API's request and response shapes
//! (cursors, `extensions.cost`, THROTTLED errors, 429, 5xx blips, nested
//! connections that come back truncated).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use order_status::config::ShopifyShop;
use order_status::ingest::shopify::sync::{SyncError, SyncOptions, load_checkpoint, sync_shop};
use order_status::store::{Store, StoreOptions};
use serde_json::{Value, json};

const TOKEN: &str = "shpat_test_token";
const SHOP: &str = "fake.myshopify.com";

#[derive(Default)]
struct Fake {
    orders: Vec<Value>,
    /// Failures to serve before answering, in order: "throttled", "429", "500".
    blips: Vec<&'static str>,
    /// After this many order pages, answer 500 to everything.
    break_after_pages: Option<usize>,
    order_pages: usize,
    /// The `after` and `query` of every orders call.
    seen: Vec<(Option<String>, Option<String>)>,
    nested_calls: usize,
}

type Shared = Arc<Mutex<Fake>>;

fn gql_order(n: u64, updated: &str) -> Value {
    json!({
        "id": format!("gid://shopify/Order/{n}"), "legacyResourceId": n.to_string(),
        "name": format!("#{}", 1000 + n), "email": format!("buyer{n}@example.com"),
        "currencyCode": "EUR", "updatedAt": updated, "createdAt": "2026-11-01T08:00:00Z",
        "displayFinancialStatus": "PAID", "displayFulfillmentStatus": "FULFILLED",
        "returnStatus": "NO_RETURN", "tags": [],
        "customer": {"firstName": "Test", "lastName": format!("Buyer{n}")},
        "shippingAddress": {"city": "Lyon", "country": "France", "countryCodeV2": "FR"},
        "lineItems": {"pageInfo": {"hasNextPage": n == 3, "endCursor": "li1"},
            "nodes": [{"id": format!("gid://shopify/LineItem/{n}1"), "title": "Mug", "quantity": 1}]},
        "fulfillmentOrders": {"nodes": [{
            "id": format!("gid://shopify/FulfillmentOrder/{n}7"), "status": "CLOSED",
            "lineItems": {"pageInfo": {"hasNextPage": n == 3, "endCursor": "fo1"},
                "nodes": [{"totalQuantity": 1, "lineItem": {"id": format!("gid://shopify/LineItem/{n}1")}}]}
        }]},
        "fulfillments": [{
            "id": format!("gid://shopify/Fulfillment/{n}9"), "status": "SUCCESS", "displayStatus": "IN_TRANSIT",
            "createdAt": "2026-11-02T08:00:00Z",
            "trackingInfo": [{"company": "DHL", "number": format!("DHL{n}"), "url": "https://dhl.example/t"}],
            "fulfillmentLineItems": {"pageInfo": {"hasNextPage": n == 3, "endCursor": "fli1"},
                "nodes": [{"quantity": 1, "lineItem": {"id": format!("gid://shopify/LineItem/{n}1"), "title": "Mug"}}]},
            "events": {"pageInfo": {"hasNextPage": n == 3, "endCursor": "ev1"},
                "nodes": [{"id": format!("gid://shopify/FulfillmentEvent/{n}01"), "status": "LABEL_PRINTED", "happenedAt": "2026-11-02T09:00:00Z"}]}
        }],
        "returns": {"nodes": []},
        "refunds": []
    })
}

fn cost(available: f64) -> Value {
    json!({"cost": {"requestedQueryCost": 200, "actualQueryCost": 120,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": 100000.0}}})
}

async fn graphql(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Json(req): Json<Value>,
) -> Response {
    if headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok())
        != Some(TOKEN)
    {
        if headers
            .get("x-shopify-access-token")
            .and_then(|v| v.to_str().ok())
            == Some("no-scope")
        {
            return (
                StatusCode::FORBIDDEN,
                "[API] This action requires merchant approval for read_orders scope.",
            )
                .into_response();
        }
        return (
            StatusCode::UNAUTHORIZED,
            "[API] Invalid API key or access token",
        )
            .into_response();
    }
    let mut f = fake.lock().expect("fake");
    if !f.blips.is_empty() {
        match f.blips.remove(0) {
            "throttled" => {
                return Json(json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": cost(10.0)})).into_response();
            }
            "429" => {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "1")],
                    "slow down",
                )
                    .into_response();
            }
            _ => return (StatusCode::BAD_GATEWAY, "blip").into_response(),
        }
    }
    let query = req["query"].as_str().unwrap_or("");
    let vars = &req["variables"];
    if query.contains("MoreFulfillmentLineItems") {
        f.nested_calls += 1;
        return Json(json!({"data": {"node": {"fulfillmentLineItems": {"pageInfo": {"hasNextPage": false},
            "nodes": [{"quantity": 2, "lineItem": {"id": "gid://shopify/LineItem/32", "title": "Plate"}}]}}},
            "extensions": cost(1900.0)})).into_response();
    }
    if query.contains("MoreFulfillmentOrderLineItems") {
        f.nested_calls += 1;
        return Json(
            json!({"data": {"node": {"lineItems": {"pageInfo": {"hasNextPage": false},
            "nodes": [{"totalQuantity": 2, "lineItem": {"id": "gid://shopify/LineItem/32"}}]}}},
            "extensions": cost(1900.0)}),
        )
        .into_response();
    }
    if query.contains("MoreLineItems") {
        f.nested_calls += 1;
        let n =
            order_status::ingest::shopify::graphql::legacy_id(vars["id"].as_str().unwrap_or(""));
        return Json(json!({"data": {"node": {"lineItems": {"pageInfo": {"hasNextPage": false, "endCursor": null},
            "nodes": [{"id": format!("gid://shopify/LineItem/{n}2"), "title": "Plate", "quantity": 2},
                      {"id": format!("gid://shopify/LineItem/{n}3"), "title": "Bowl", "quantity": 1}]}}},
            "extensions": cost(1900.0)})).into_response();
    }
    if query.contains("MoreEvents") {
        f.nested_calls += 1;
        return Json(json!({"data": {"node": {"events": {"pageInfo": {"hasNextPage": false},
            "nodes": [{"id": "gid://shopify/FulfillmentEvent/302", "status": "IN_TRANSIT", "happenedAt": "2026-11-03T09:00:00Z", "city": "Paris"}]}}},
            "extensions": cost(1900.0)})).into_response();
    }
    if let Some(limit) = f.break_after_pages
        && f.order_pages >= limit
    {
        return (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response();
    }
    f.order_pages += 1;
    let after = vars["after"].as_str().map(str::to_string);
    let filter = vars["query"].as_str().map(str::to_string);
    f.seen.push((after.clone(), filter.clone()));
    let since = filter
        .as_deref()
        .and_then(|q| q.strip_prefix("updated_at:>='"))
        .and_then(|q| q.strip_suffix('\''))
        .map(str::to_string);
    let mut matching: Vec<&Value> = f
        .orders
        .iter()
        .filter(|o| {
            since
                .as_deref()
                .is_none_or(|s| o["updatedAt"].as_str().unwrap_or("") >= s)
        })
        .collect();
    matching.sort_by_key(|o| o["updatedAt"].as_str().unwrap_or("").to_string());
    let start: usize = after
        .as_deref()
        .and_then(|c| c.strip_prefix('c'))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let first = vars["first"].as_u64().unwrap_or(10) as usize;
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(first)
        .map(|v| (*v).clone())
        .collect();
    let end = start + page.len();
    Json(json!({"data": {"orders": {"pageInfo": {"hasNextPage": end < matching.len(), "endCursor": format!("c{end}")},
        "nodes": page}}, "extensions": cost(1500.0)}))
    .into_response()
}

async fn fake_shopify(fake: Shared) -> String {
    let app = axum::Router::new()
        .route(
            "/admin/api/2025-10/graphql.json",
            axum::routing::post(graphql),
        )
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn shop(base: &str, token: &str) -> ShopifyShop {
    let mut config = order_status::config::Config::load(None, |k| match k {
        "ORDER_STATUS_SHOPIFY_SHOP" => Some(SHOP.into()),
        "ORDER_STATUS_SHOPIFY_ACCESS_TOKEN" => Some(token.into()),
        "ORDER_STATUS_SHOPIFY_API_BASE" => Some(base.into()),
        _ => None,
    })
    .expect("config");
    config.shopify.remove(0)
}

fn fast() -> SyncOptions {
    SyncOptions {
        backoff: Duration::from_millis(10),
        max_wait: Duration::from_secs(2),
        attempts: 6,
        page_size: 2,
    }
}

fn seven_orders() -> Vec<Value> {
    (1..=7)
        .map(|n| gql_order(n, &format!("2026-11-1{n}T10:00:00Z")))
        .collect()
}

#[tokio::test]
async fn a_full_sync_survives_throttling_429_and_5xx_and_pages_nested_lists() {
    let fake: Shared = Arc::new(Mutex::new(Fake {
        orders: seven_orders(),
        blips: vec!["throttled", "429", "500"],
        ..Fake::default()
    }));
    let base = fake_shopify(fake.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
    let report = sync_shop(
        &store,
        dir.path(),
        &shop(&base, TOKEN),
        None,
        fast(),
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(report.orders, 7);
    assert_eq!(report.pages, 4, "7 orders, 2 a page");
    assert!(report.retries >= 3, "{report:?}");
    assert_eq!(store.count(), 7);
    let o = store
        .get(&format!("{SHOP}/3"))
        .expect("get")
        .expect("order 3");
    assert_eq!(o.line_items.len(), 3, "the truncated line items were paged");
    assert_eq!(
        o.fulfillments[0].events.len(),
        2,
        "the truncated events were paged"
    );
    assert_eq!(
        o.fulfillments[0].line_items.len(),
        2,
        "the shipment's truncated items were paged"
    );
    assert_eq!(
        o.fulfillment_orders[0].line_items.len(),
        2,
        "the fulfillment order's too"
    );
    assert_eq!(o.order_number, 1003);
    assert!(
        store
            .lookup(1003, "buyer3@example.com")
            .expect("lookup")
            .is_some()
    );
    let cp = load_checkpoint(dir.path(), SHOP).expect("checkpoint");
    assert_eq!(cp.cursor, None);
    assert_eq!(
        cp.since.map(|t| t.to_rfc3339()),
        Some("2026-11-17T09:59:59+00:00".into())
    );
    assert_eq!(fake.lock().expect("fake").nested_calls, 4);
}

#[tokio::test]
async fn an_interrupted_sync_resumes_from_its_checkpoint() {
    let fake: Shared = Arc::new(Mutex::new(Fake {
        orders: seven_orders(),
        break_after_pages: Some(2),
        ..Fake::default()
    }));
    let base = fake_shopify(fake.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
    let err = sync_shop(
        &store,
        dir.path(),
        &shop(&base, TOKEN),
        None,
        fast(),
        |_| {},
    )
    .await
    .expect_err("Shopify went down");
    assert!(matches!(err, SyncError::GaveUp { .. }), "{err}");
    assert_eq!(store.count(), 4, "two pages were committed before it broke");
    assert_eq!(
        load_checkpoint(dir.path(), SHOP)
            .expect("cp")
            .cursor
            .as_deref(),
        Some("c4")
    );

    {
        let mut f = fake.lock().expect("fake");
        f.break_after_pages = None;
        f.seen.clear();
    }
    let report = sync_shop(
        &store,
        dir.path(),
        &shop(&base, TOKEN),
        None,
        fast(),
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(report.orders, 3, "only what was left");
    assert_eq!(
        fake.lock().expect("fake").seen[0].0.as_deref(),
        Some("c4"),
        "resumed at the cursor"
    );
    assert_eq!(store.count(), 7);
}

#[tokio::test]
async fn the_next_sync_asks_only_for_what_changed() {
    let fake: Shared = Arc::new(Mutex::new(Fake {
        orders: seven_orders(),
        ..Fake::default()
    }));
    let base = fake_shopify(fake.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
    sync_shop(
        &store,
        dir.path(),
        &shop(&base, TOKEN),
        None,
        fast(),
        |_| {},
    )
    .await
    .expect("sync");
    {
        let mut f = fake.lock().expect("fake");
        let mut changed = gql_order(2, "2026-11-20T12:00:00Z");
        changed["displayFinancialStatus"] = "REFUNDED".into();
        f.orders[1] = changed;
        f.seen.clear();
    }
    let report = sync_shop(
        &store,
        dir.path(),
        &shop(&base, TOKEN),
        None,
        fast(),
        |_| {},
    )
    .await
    .expect("sync");
    let seen = fake.lock().expect("fake").seen.clone();
    assert_eq!(
        seen[0].1.as_deref(),
        Some("updated_at:>='2026-11-17T09:59:59Z'")
    );
    assert_eq!(
        report.orders, 2,
        "the newest of last time (overlap) and the changed one"
    );
    let o = store
        .get(&format!("{SHOP}/2"))
        .expect("get")
        .expect("order");
    assert_eq!(
        o.financial_status,
        order_status::order::FinancialStatus::Refunded
    );

    // --since starts a new run from that time.
    let since = chrono::DateTime::parse_from_rfc3339("2026-11-15T00:00:00Z")
        .expect("t")
        .to_utc();
    let report = sync_shop(
        &store,
        dir.path(),
        &shop(&base, TOKEN),
        Some(since),
        fast(),
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(report.orders, 4, "orders 5, 6, 7 and the changed 2");
}

#[tokio::test]
async fn bad_tokens_and_missing_scopes_fail_clearly() {
    let fake: Shared = Arc::new(Mutex::new(Fake::default()));
    let base = fake_shopify(fake).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
    let err = sync_shop(
        &store,
        dir.path(),
        &shop(&base, "wrong"),
        None,
        fast(),
        |_| {},
    )
    .await
    .expect_err("401");
    assert!(matches!(err, SyncError::Unauthorized { .. }));
    assert!(
        err.to_string()
            .contains("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN"),
        "{err}"
    );
    let err = sync_shop(
        &store,
        dir.path(),
        &shop(&base, "no-scope"),
        None,
        fast(),
        |_| {},
    )
    .await
    .expect_err("403");
    assert!(
        err.to_string().contains("read_orders") && err.to_string().contains("read_all_orders"),
        "{err}"
    );
}

#[tokio::test]
async fn the_sync_command_reports_and_exits_by_its_result() {
    let fake: Shared = Arc::new(Mutex::new(Fake {
        orders: seven_orders(),
        ..Fake::default()
    }));
    let base = fake_shopify(fake).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |token: &'static str| {
        let base = base.clone();
        let data = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
                .args(["sync", "--data-dir"])
                .arg(&data)
                .env("ORDER_STATUS_SHOPIFY_SHOP", SHOP)
                .env("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", token)
                .env("ORDER_STATUS_SHOPIFY_API_BASE", &base)
                .env("RUST_LOG", "warn")
                .output()
                .expect("runs")
        })
    };
    let out = run(TOKEN).await.expect("join");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("fake.myshopify.com: 7 orders"), "{text}");
    let out = run("wrong").await.expect("join");
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
