//! The fake Shopify keeps Shopify's documented rules: one test per rule,
//! asking the fake directly the way any client would. (If the fake let
//! something through that Shopify refuses, the sync tests would prove
//! nothing.)

mod common;

use std::time::Duration;

use chrono::Utc;
use common::fake_shopify::{
    CLIENT_ID, CLIENT_SECRET, FakeShopify, Rules, STATIC_TOKEN, SUPPORTED_VERSIONS, graphql_order,
    send_webhook,
};
use serde_json::{Value, json};

fn orders(n: u64) -> Vec<Value> {
    (0..n)
        .map(|i| {
            graphql_order(&order_status::ingest::demo::order(
                3,
                i,
                Utc::now(),
                "fake.myshopify.com",
            ))
        })
        .collect()
}

const V: &str = "2026-10";

#[tokio::test]
async fn a_query_over_1000_points_is_refused_before_running() {
    let fake = FakeShopify::start(Rules::default(), orders(3)).await;
    let before = fake.bucket();
    // 2 + 25 * (1 + (2 + 50 * 1)) = 1327.
    let q =
        "query Big { orders(first: 25) { nodes { id lineItems(first: 50) { nodes { id } } } } }";
    let (status, body, _) = fake.post(V, STATIC_TOKEN, q, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED");
    assert_eq!(body["errors"][0]["extensions"]["cost"], 1327);
    assert!(body["data"].is_null(), "nothing executed");
    assert!(fake.bucket() >= before, "nothing taken from the bucket");
    let (_, ok, _) = fake
        .post(
            V,
            STATIC_TOKEN,
            "query Small { orders(first: 5) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(ok["extensions"]["cost"]["requestedQueryCost"], 7);
    assert_eq!(
        ok["data"]["orders"]["nodes"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(
        ok["extensions"]["cost"]["actualQueryCost"], 5,
        "2 + 3 orders returned"
    );
}

#[tokio::test]
async fn the_leaky_bucket_throttles_and_refunds() {
    let rules = Rules {
        bucket_max: 100.0,
        restore_rate: 100.0,
        ..Rules::default()
    };
    let fake = FakeShopify::start(rules, orders(2)).await;
    // Requested 2 + 60 * 1 = 62, actual 2 + 2 = 4: 58 comes back.
    let q = "query Some { orders(first: 60) { nodes { id } } }";
    let (_, body, _) = fake.post(V, STATIC_TOKEN, q, json!({})).await;
    let left = body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
        .as_f64()
        .expect("available");
    assert!(
        (95.0..=100.0).contains(&left),
        "{left}: refunded the difference"
    );
    fake.drain_bucket();
    let (status, body, _) = fake.post(V, STATIC_TOKEN, q, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["extensions"]["code"], "THROTTLED");
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 62);
    assert_eq!(
        body["extensions"]["cost"]["throttleStatus"]["restoreRate"],
        100.0
    );
    assert!(body.get("data").is_none_or(Value::is_null));
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, body, _) = fake.post(V, STATIC_TOKEN, q, json!({})).await;
    assert!(
        body.get("errors").is_none(),
        "refilled at the restore rate: {body}"
    );
}

#[tokio::test]
async fn fields_without_their_scope_are_denied_and_old_orders_hidden() {
    let rules = Rules {
        scopes: vec!["read_orders".into()],
        ..Rules::default()
    };
    let fake = FakeShopify::start(rules, orders(3)).await;
    let q = "query R { orders(first: 2) { nodes { id returns(first: 1) { nodes { id } } } } }";
    let (_, body, _) = fake.post(V, STATIC_TOKEN, q, json!({})).await;
    let e = &body["errors"][0];
    assert_eq!(e["extensions"]["code"], "ACCESS_DENIED");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("`read_returns` access scope"),
        "{e}"
    );
    assert_eq!(e["path"], json!(["orders", "nodes", 0, "returns"]));
    let q =
        "query F { orders(first: 1) { nodes { fulfillmentOrders(first: 1) { nodes { id } } } } }";
    let (_, body, _) = fake.post(V, STATIC_TOKEN, q, json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("read_merchant_managed_fulfillment_orders")
    );

    // 60 days without read_all_orders.
    let mut old = order_status::ingest::demo::order(3, 9, Utc::now(), "fake.myshopify.com");
    old.id = 424242;
    old.created_at = Some(Utc::now() - chrono::Duration::days(90));
    fake.put_order(graphql_order(&old));
    let all = "query A { orders(first: 10) { nodes { id } } }";
    let (_, body, _) = fake.post(V, STATIC_TOKEN, all, json!({})).await;
    assert_eq!(
        body["data"]["orders"]["nodes"].as_array().map(Vec::len),
        Some(3)
    );
    fake.set_rules(|r| r.scopes.push("read_all_orders".into()));
    let (_, body, _) = fake.post(V, STATIC_TOKEN, all, json!({})).await;
    assert_eq!(
        body["data"]["orders"]["nodes"].as_array().map(Vec::len),
        Some(4)
    );
}

#[tokio::test]
async fn protected_customer_data_is_null_without_the_grant() {
    let rules = Rules {
        protected_data: false,
        ..Rules::default()
    };
    let fake = FakeShopify::start(rules, orders(1)).await;
    let q = "query P { orders(first: 1) { nodes { id name email customer { firstName } shippingAddress { city address1 } } } }";
    let (_, body, _) = fake.post(V, STATIC_TOKEN, q, json!({})).await;
    let o = &body["data"]["orders"]["nodes"][0];
    assert!(o["email"].is_null() && o["customer"]["firstName"].is_null());
    assert!(o["shippingAddress"]["address1"].is_null());
    assert!(o["name"].is_string() && o["shippingAddress"]["city"].is_string());
}

#[tokio::test]
async fn client_credential_tokens_are_granted_and_expire() {
    let rules = Rules {
        token_lifetime: Duration::from_secs(1),
        ..Rules::default()
    };
    let fake = FakeShopify::start(rules, orders(1)).await;
    let http = reqwest::Client::new();
    let grant = |secret: &'static str| {
        http.post(format!("{}/admin/oauth/access_token", fake.base))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", secret),
            ])
            .send()
    };
    let bad = grant("wrong").await.expect("post");
    assert_eq!(bad.status(), 400);
    let v: Value = bad.json().await.expect("json");
    assert_eq!(v["error"], "invalid_client");
    let v: Value = grant(CLIENT_SECRET)
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(v["expires_in"], 1);
    assert!(v["scope"].as_str().unwrap_or("").contains("read_orders"));
    let token = v["access_token"].as_str().expect("token").to_string();
    let q = "query { shop { name } }";
    assert_eq!(fake.post(V, &token, q, json!({})).await.0, 200);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, body, _) = fake.post(V, &token, q, json!({})).await;
    assert_eq!(status, 401, "expired");
    assert!(
        body["errors"]
            .as_str()
            .unwrap_or("")
            .contains("Invalid API key or access token")
    );
}

#[tokio::test]
async fn an_unsupported_version_falls_forward_to_the_oldest_supported() {
    let fake = FakeShopify::start(Rules::default(), orders(1)).await;
    let q = "query { shop { name } }";
    let (_, _, h) = fake.post("2026-10", STATIC_TOKEN, q, json!({})).await;
    assert_eq!(h["x-shopify-api-version"], "2026-10");
    let (status, _, h) = fake.post("2025-10", STATIC_TOKEN, q, json!({})).await;
    assert_eq!(status, 200, "silently served");
    assert_eq!(h["x-shopify-api-version"], SUPPORTED_VERSIONS[0]);
}

#[tokio::test]
async fn connections_page_with_cursors_and_cap_at_250() {
    let fake = FakeShopify::start(Rules::default(), orders(5)).await;
    let q = "query P($after: String) { orders(first: 2, after: $after, sortKey: UPDATED_AT) { pageInfo { hasNextPage endCursor } nodes { id } } }";
    let mut after = Value::Null;
    let mut seen = Vec::new();
    loop {
        let (_, body, _) = fake.post(V, STATIC_TOKEN, q, json!({"after": after})).await;
        let page = &body["data"]["orders"];
        seen.extend(page["nodes"].as_array().cloned().unwrap_or_default());
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 5);
    let (_, body, _) = fake
        .post(
            V,
            STATIC_TOKEN,
            "query { orders(first: 251) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("250")
    );
    let (_, body, _) = fake
        .post(
            V,
            STATIC_TOKEN,
            "query { orders { nodes { id } } }",
            json!({}),
        )
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("first or last")
    );
}

const RUN: &str = "mutation Run($q: String!, $g: Boolean!) { bulkOperationRunQuery(query: $q, groupObjects: $g) { bulkOperation { id status } userErrors { field message code } } }";
const POLL: &str = "query Poll($id: ID!) { bulkOperation(id: $id) { id status objectCount url } }";

#[tokio::test]
async fn bulk_operations_keep_their_restrictions_and_lifecycle() {
    let fake = FakeShopify::start(Rules::default(), orders(3)).await;
    let run = |q: &'static str| fake.post(V, STATIC_TOKEN, RUN, json!({"q": q, "g": true}));
    for (bad, says) in [
        (r#"{ node(id: "gid://shopify/Order/1") { id } }"#, "node"),
        (
            "{ orders { edges { node { lineItems { edges { node { id } } } } } } }",
            "must select the 'id' field",
        ),
        (
            "{ orders { edges { node { id fulfillmentOrders { edges { node { id lineItems { edges { node { id } } } } } } } } } }",
            "nesting depth",
        ),
        (
            "{ orders { edges { node { id lineItems { edges { node { id } } } fulfillmentOrders { edges { node { id } } } returns { edges { node { id } } } fulfillments { id events { edges { node { id } } } fulfillmentLineItems { edges { node { id } } } } } } } }",
            "more than 5 connections",
        ),
    ] {
        let (_, body, _) = run(bad).await;
        let p = &body["data"]["bulkOperationRunQuery"];
        assert!(p["bulkOperation"].is_null(), "{bad}");
        assert!(
            p["userErrors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains(says),
            "{bad}: {p}"
        );
    }
    let (_, body, _) =
        run("{ orders { edges { node { id name lineItems { edges { node { id title } } } } } } }")
            .await;
    assert_eq!(
        body["extensions"]["cost"]["requestedQueryCost"], 10,
        "a mutation costs 10"
    );
    let id = body["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let mut statuses = Vec::new();
    let url = loop {
        let (_, body, _) = fake.post(V, STATIC_TOKEN, POLL, json!({"id": id})).await;
        let op = &body["data"]["bulkOperation"];
        statuses.push(op["status"].as_str().unwrap_or("").to_string());
        if op["status"] == "COMPLETED" {
            break op["url"].as_str().expect("url").to_string();
        }
        assert!(statuses.len() < 10);
    };
    assert_eq!(statuses.first().map(String::as_str), Some("RUNNING"));
    let text = reqwest::get(&url)
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    // Grouped: each order, then its line items pointing back at it.
    let mut parent = None;
    for l in &lines {
        match l.get("__parentId") {
            None => parent = l["id"].as_str().map(str::to_string),
            Some(p) => assert_eq!(
                p.as_str(),
                parent.as_deref(),
                "children follow their parent"
            ),
        }
        assert!(
            l.get("lineItems").is_none(),
            "nested connections are lines of their own"
        );
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.get("__parentId").is_none())
            .count(),
        3
    );

    // Five operations at a time.
    fake.set_rules(|r| r.bulk_polls = 1_000);
    let mut refused = None;
    for _ in 0..6 {
        let (_, body, _) = run("{ orders { edges { node { id } } } }").await;
        let p = body["data"]["bulkOperationRunQuery"].clone();
        if !p["userErrors"].as_array().is_none_or(Vec::is_empty) {
            refused = Some(p);
        }
    }
    let refused = refused.expect("a sixth is refused");
    assert_eq!(refused["userErrors"][0]["code"], "OPERATION_IN_PROGRESS");
}

#[tokio::test]
async fn a_webhook_is_retried_until_answered_2xx_then_given_up() {
    use axum::http::StatusCode;
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                if n < 2 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let d = send_webhook(
        &url,
        "fake.myshopify.com",
        "orders/updated",
        b"{}",
        "s",
        "e1",
        Utc::now(),
        Duration::from_millis(1),
    )
    .await;
    assert_eq!(d.attempts, vec![500, 500, 200]);
    assert!(!d.gave_up);
    let d = send_webhook(
        "http://127.0.0.1:9/nothing",
        "fake.myshopify.com",
        "orders/updated",
        b"{}",
        "s",
        "e2",
        Utc::now(),
        Duration::from_millis(1),
    )
    .await;
    assert_eq!(d.attempts.len(), 9, "the first try and 8 retries");
    assert!(d.gave_up);
}
