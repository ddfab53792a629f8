//! The fake Shopify keeps Shopify's documented rules: one test per rule,
//! asking the fake directly the way any client would. (If the fake let
//! something through that Shopify refuses, the sync tests would prove
//! nothing.)

use crate::common;

use std::time::Duration;

use chrono::Utc;
use common::fake_shopify::{
    CLIENT_ID, CLIENT_SECRET, FakeShopify, Protected, Rules, STATIC_TOKEN, SUPPORTED_VERSIONS,
    graphql_order, send_webhook,
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
async fn protected_customer_data_is_null_with_shopifys_error_without_the_grant() {
    // Level 2 without the email and name fields: those fields are null,
    // each with Shopify's "not approved" error, and the rest answers.
    let rules = Rules {
        withheld: vec![Protected::Email, Protected::Name, Protected::Address],
        ..Rules::default()
    };
    let fake = FakeShopify::start(rules, orders(1)).await;
    let q = "query P { orders(first: 1) { nodes { id name email customer { firstName } shippingAddress { city address1 } } } }";
    let (_, body, _) = fake.post(V, STATIC_TOKEN, q, json!({})).await;
    let o = &body["data"]["orders"]["nodes"][0];
    assert!(o["email"].is_null() && o["customer"]["firstName"].is_null());
    assert!(o["shippingAddress"]["address1"].is_null());
    assert!(o["name"].is_string() && o["shippingAddress"]["city"].is_string());
    let messages: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        messages.contains(&"This app is not approved to use the email field."),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .all(|m| m.starts_with("This app is not approved to use the "))
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "ACCESS_DENIED");
    // Without level 1 the customer and address objects are withheld whole.
    fake.set_rules(|r| r.withheld = vec![Protected::Customer]);
    let (_, body, _) = fake.post(V, STATIC_TOKEN, q, json!({})).await;
    let o = &body["data"]["orders"]["nodes"][0];
    assert!(o["customer"].is_null() && o["shippingAddress"].is_null() && o["email"].is_null());
    let messages: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        messages.contains(&"This app is not approved to access the MailingAddress object."),
        "{messages:?}"
    );
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
            "{ orders { edges { node { id lineItems { edges { node { id } } } fulfillmentOrders { edges { node { id } } } returns { edges { node { id } } } a: lineItems { edges { node { id } } } b: returns { edges { node { id } } } } } } }",
            "more than 5 connections",
        ),
        // Connections inside a plain list field: what production
        // connectors report Shopify refusing.
        (
            "{ orders { edges { node { id fulfillments { id events { edges { node { id } } } } } } } }",
            "Queries that contain a connection field within a list field are not currently supported.",
        ),
        (
            "{ orders { edges { node { id fulfillments { id fulfillmentLineItems { edges { node { id } } } } } } } }",
            "within a list field",
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
    let ids = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = ids.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let id = headers
                .get("x-shopify-webhook-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            seen.lock().expect("ids").push(id);
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
    // Every retry of one delivery carries the delivery's one Webhook-Id.
    let ids = ids.lock().expect("ids").clone();
    assert_eq!(ids.len(), 3);
    assert!(
        !ids[0].is_empty() && ids.iter().all(|i| *i == ids[0]),
        "{ids:?}"
    );
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

/// A demo order in `scenario`'s state, as the fake holds it.
fn order_in(scenario: order_status::ingest::demo::Scenario) -> (order_status::order::Order, Value) {
    let i = order_status::ingest::demo::SCENARIOS
        .iter()
        .position(|s| *s == scenario)
        .expect("listed") as u64;
    let o = order_status::ingest::demo::order(3, i, Utc::now(), "fake.myshopify.com");
    let v = graphql_order(&o);
    (o, v)
}

#[tokio::test]
async fn a_mutation_costs_10_a_field_and_needs_its_scope() {
    use order_status::ingest::demo::Scenario;
    let (o, v) = order_in(Scenario::Preparing);
    let fake = FakeShopify::start(Rules::default(), vec![v]).await;
    let gid = format!("gid://shopify/Order/{}", o.id);
    let q = "mutation T($id: ID!) { a: tagsAdd(id: $id, tags: [\"x\"]) { userErrors { message } } b: tagsRemove(id: $id, tags: [\"y\"]) { userErrors { message } } }";
    let (_, body, _) = fake.post(V, STATIC_TOKEN, q, json!({"id": gid})).await;
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 20);
    assert_eq!(body["data"]["a"]["userErrors"], json!([]));
    fake.set_rules(|r| r.scopes.retain(|s| s != "write_orders"));
    let (_, body, _) = fake.post(V, STATIC_TOKEN, q, json!({"id": gid})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "ACCESS_DENIED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("write_orders"))
    );
    assert!(body["data"]["a"].is_null(), "nothing written");
    for (mutation, scope) in [
        (
            "fulfillmentEventCreate(fulfillmentEvent: $e)",
            "write_fulfillments",
        ),
        (
            "fulfillmentOrderAcceptFulfillmentRequest(id: $id)",
            "write_assigned_fulfillment_orders",
        ),
    ] {
        fake.set_rules(|r| r.scopes.retain(|s| s != scope));
        let q = format!(
            "mutation M($id: ID!, $e: FulfillmentEventInput!) {{ {mutation} {{ userErrors {{ message }} }} }}"
        );
        let (_, body, _) = fake
            .post(
                V,
                STATIC_TOKEN,
                &q,
                json!({"id": gid, "e": {"fulfillmentId": "x", "status": "IN_TRANSIT"}}),
            )
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "ACCESS_DENIED",
            "{mutation}"
        );
    }
    assert_eq!(
        fake.orders()[0]["tags"],
        v_tags(&o, &["x"]),
        "only the granted write happened"
    );
}

fn v_tags(o: &order_status::order::Order, extra: &[&str]) -> Value {
    let mut t = o.tags.clone();
    t.extend(extra.iter().map(|s| s.to_string()));
    json!(t)
}

#[tokio::test]
async fn metafields_are_checked_whole_before_any_is_written() {
    use order_status::ingest::demo::Scenario;
    let (o, v) = order_in(Scenario::Preparing);
    let fake = FakeShopify::start(Rules::default(), vec![v]).await;
    let gid = format!("gid://shopify/Order/{}", o.id);
    let q = "mutation S($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { metafields { id } userErrors { field message code } } }";
    let good = json!({"ownerId": gid, "namespace": "order_status", "key": "status", "type": "single_line_text_field", "value": "qc"});
    let with = |k: &str, val: Value| {
        let mut m = good.clone();
        m[k] = val;
        m
    };
    for (bad, code) in [
        (with("namespace", json!("ab")), "TOO_SHORT"),
        (with("key", json!("k")), "TOO_SHORT"),
        (with("key", json!("has space")), "INVALID"),
        (with("type", json!("colour")), "INVALID_TYPE"),
        (with("value", json!("two\nlines")), "INVALID_VALUE"),
        (with("value", json!(" ")), "BLANK"),
        (with("ownerId", json!("gid://shopify/Order/1")), "INVALID"),
    ] {
        let (_, body, _) = fake
            .post(V, STATIC_TOKEN, q, json!({"m": [good.clone(), bad]}))
            .await;
        assert_eq!(body["data"]["metafieldsSet"]["userErrors"][0]["code"], code);
        assert!(
            fake.orders()[0]["metafields"].is_null(),
            "all or nothing ({code})"
        );
    }
    let many: Vec<Value> = (0..26).map(|_| good.clone()).collect();
    let (_, body, _) = fake.post(V, STATIC_TOKEN, q, json!({"m": many})).await;
    assert_eq!(
        body["data"]["metafieldsSet"]["userErrors"][0]["code"],
        "LESS_THAN_OR_EQUAL_TO"
    );
    let (_, body, _) = fake.post(V, STATIC_TOKEN, q, json!({"m": [good]})).await;
    assert_eq!(body["data"]["metafieldsSet"]["userErrors"], json!([]));
    assert_eq!(fake.orders()[0]["metafields"][0]["value"], "qc");
}

#[tokio::test]
async fn a_fulfillment_needs_open_work_and_quantities_that_remain() {
    use order_status::ingest::demo::Scenario;
    let (o, v) = order_in(Scenario::Preparing);
    let (held, hv) = order_in(Scenario::OnHold(
        order_status::order::HoldReason::InventoryOutOfStock,
    ));
    let fake = FakeShopify::start(Rules::default(), vec![v, hv]).await;
    let q = "mutation C($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { fulfillment { id name } userErrors { field message } } }";
    let fo = &o.fulfillment_orders[0];
    let fo_gid = format!("gid://shopify/FulfillmentOrder/{}", fo.id);
    let line = format!("gid://shopify/FulfillmentOrderLineItem/{}", fo.id * 100);
    let input = |q: i64, url: &str| {
        json!({"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo_gid,
        "fulfillmentOrderLineItems": [{"id": line, "quantity": q}]}], "trackingInfo": {"number": "N1", "url": url}})
    };
    let message = |body: &Value| {
        body["data"]["fulfillmentCreate"]["userErrors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let (_, body, _) = fake
        .post(
            V,
            STATIC_TOKEN,
            q,
            json!({"f": input(0, "https://t.example/1")}),
        )
        .await;
    assert_eq!(
        message(&body),
        "Invalid fulfillment order line item quantity requested."
    );
    let too_many = i64::from(fo.line_items[0].quantity) + 1;
    let (_, body, _) = fake
        .post(
            V,
            STATIC_TOKEN,
            q,
            json!({"f": input(too_many, "https://t.example/1")}),
        )
        .await;
    assert_eq!(
        message(&body),
        "Invalid fulfillment order line item quantity requested."
    );
    let (_, body, _) = fake
        .post(
            V,
            STATIC_TOKEN,
            q,
            json!({"f": input(1, "javascript:alert(1)")}),
        )
        .await;
    assert_eq!(message(&body), "Url is invalid.");
    let held_fo = format!(
        "gid://shopify/FulfillmentOrder/{}",
        held.fulfillment_orders[0].id
    );
    let (_, body, _) = fake
        .post(
            V,
            STATIC_TOKEN,
            q,
            json!({"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": held_fo}]}}),
        )
        .await;
    assert_eq!(
        message(&body),
        format!(
            "Fulfillment order {} has an unfulfillable status= on_hold.",
            held.fulfillment_orders[0].id
        )
    );
    let (_, body, _) = fake
        .post(V, STATIC_TOKEN, q, json!({"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo_gid}, {"fulfillmentOrderId": held_fo}]}}))
        .await;
    assert_eq!(
        message(&body),
        "All fulfillment orders must belong to the same order."
    );
    assert!(
        fake.orders().iter().all(|o| o["fulfillments"] == json!([])),
        "nothing made"
    );

    let (_, body, _) = fake
        .post(
            V,
            STATIC_TOKEN,
            q,
            json!({"f": input(1, "https://t.example/1")}),
        )
        .await;
    assert_eq!(body["data"]["fulfillmentCreate"]["userErrors"], json!([]));
    assert_eq!(
        body["data"]["fulfillmentCreate"]["fulfillment"]["name"],
        format!("{}.1", o.name)
    );
    let left = &fake.orders()[0]["fulfillmentOrders"][0]["lineItems"][0]["remainingQuantity"];
    assert_eq!(
        left,
        &json!(fo.line_items[0].quantity - 1),
        "the quantity is taken off what remains"
    );
}

#[tokio::test]
async fn tracking_scans_and_requests_need_what_they_name() {
    use order_status::ingest::demo::Scenario;
    let (o, v) = order_in(Scenario::InTransit);
    let (p, mut pv) = order_in(Scenario::Preparing);
    pv["fulfillmentOrders"][0]["requestStatus"] = json!("SUBMITTED");
    let fake = FakeShopify::start(Rules::default(), vec![v, pv]).await;
    let f = format!("gid://shopify/Fulfillment/{}", o.fulfillments[0].id);
    let track = "mutation T($id: ID!, $t: FulfillmentTrackingInput!) { fulfillmentTrackingInfoUpdate(fulfillmentId: $id, trackingInfoInput: $t) { userErrors { message } } }";
    let (_, body, _) = fake
        .post(
            V,
            STATIC_TOKEN,
            track,
            json!({"id": "gid://shopify/Fulfillment/1", "t": {"number": "X"}}),
        )
        .await;
    assert_eq!(
        body["data"]["fulfillmentTrackingInfoUpdate"]["userErrors"][0]["message"],
        "Fulfillment does not exist."
    );
    let (_, body, _) = fake
        .post(
            V,
            STATIC_TOKEN,
            track,
            json!({"id": f, "t": {"number": "X", "url": "not a url"}}),
        )
        .await;
    assert_eq!(
        body["data"]["fulfillmentTrackingInfoUpdate"]["userErrors"][0]["message"],
        "Url is invalid."
    );
    let (_, body, _) = fake
        .post(
            V,
            STATIC_TOKEN,
            track,
            json!({"id": f, "t": {"company": "DHL", "number": "X9"}}),
        )
        .await;
    assert_eq!(
        body["data"]["fulfillmentTrackingInfoUpdate"]["userErrors"],
        json!([])
    );
    assert_eq!(
        fake.orders()[0]["fulfillments"][0]["trackingInfo"][0]["number"],
        "X9"
    );

    let scan = "mutation S($e: FulfillmentEventInput!) { fulfillmentEventCreate(fulfillmentEvent: $e) { fulfillmentEvent { id status } userErrors { message } } }";
    let (_, body, _) = fake
        .post(
            V,
            STATIC_TOKEN,
            scan,
            json!({"e": {"fulfillmentId": f, "status": "OUT_FOR_DELIVERY"}}),
        )
        .await;
    assert_eq!(
        body["data"]["fulfillmentEventCreate"]["fulfillmentEvent"]["status"],
        "OUT_FOR_DELIVERY"
    );
    assert_eq!(
        fake.orders()[0]["fulfillments"][0]["displayStatus"],
        "OUT_FOR_DELIVERY"
    );

    let accept = "mutation A($id: ID!) { fulfillmentOrderAcceptFulfillmentRequest(id: $id) { fulfillmentOrder { requestStatus } userErrors { message } } }";
    let unsubmitted = format!(
        "gid://shopify/FulfillmentOrder/{}",
        o.fulfillment_orders.first().map_or(1, |f| f.id)
    );
    let (_, body, _) = fake
        .post(V, STATIC_TOKEN, accept, json!({"id": unsubmitted}))
        .await;
    assert!(
        body["data"]["fulfillmentOrderAcceptFulfillmentRequest"]["userErrors"][0]["message"]
            .as_str()
            .is_some_and(
                |m| m.starts_with("Cannot accept") || m == "Fulfillment order does not exist."
            ),
        "{body}"
    );
    let submitted = format!(
        "gid://shopify/FulfillmentOrder/{}",
        p.fulfillment_orders[0].id
    );
    let (_, body, _) = fake
        .post(V, STATIC_TOKEN, accept, json!({"id": submitted}))
        .await;
    assert_eq!(
        body["data"]["fulfillmentOrderAcceptFulfillmentRequest"]["fulfillmentOrder"]["requestStatus"],
        "ACCEPTED"
    );
}
