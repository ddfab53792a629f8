//! Staff actions written back to Shopify, end to end: the site (in
//! process) against the fake Shopify of `common::fake_shopify`, which
//! enforces each mutation's scope, cost and documented `userErrors`.
//! After every change the site reads the order back, so the staff page
//! shows what Shopify has.

use crate::common;

use std::time::Duration;

use common::fake_shopify::{FakeShopify, Rules, SHOP, STATIC_TOKEN, graphql_order};
use common::{Server, client, scenario_index};
use order_status::ingest::demo::Scenario;
use order_status::order::Order;
use order_status::staff::Role;
use serde_json::{Value, json};

const CONFIG: &str = r#"
[[status]]
id = "production"
title = { en = "In production" }
description = { en = "We are making it." }

[[status]]
id = "qc"
title = { en = "Quality check" }
description = { en = "We check it." }

[[status_rule]]
status = "production"
tag = "engrave"
"#;

fn demo(s: Scenario) -> Order {
    order_status::ingest::demo::order(
        order_status::ingest::demo::SEED,
        scenario_index(&s),
        chrono::Utc::now(),
        SHOP,
    )
}

struct Site {
    server: Server,
    fake: FakeShopify,
    staff: reqwest::Client,
}

/// The fake with `orders`, the site synced from it, an agent signed in.
async fn site(orders: Vec<Value>, write_back: bool) -> Site {
    let fake = FakeShopify::start(Rules::default(), orders).await;
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("order-status.toml");
    std::fs::write(&config, CONFIG).expect("config");
    let config = config.display().to_string();
    let server = Server::start_in(
        dir,
        &[
            ("ORDER_STATUS_CONFIG", &config),
            ("ORDER_STATUS_SEED_DEMO", "false"),
            ("ORDER_STATUS_SHOPIFY_SHOP", SHOP),
            ("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", STATIC_TOKEN),
            ("ORDER_STATUS_SHOPIFY_API_BASE", &fake.base),
            ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", "webhook-secret-0123"),
            (
                "ORDER_STATUS_SHOPIFY_WRITE_BACK",
                if write_back { "true" } else { "false" },
            ),
            ("ORDER_STATUS_SYNC_INTERVAL", "10m"),
        ],
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let v: Value = client()
            .get(server.url("/readyz"))
            .send()
            .await
            .expect("readyz")
            .json()
            .await
            .expect("json");
        if v["shops"][0]["last_sync_age_seconds"].is_number() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no first sync: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let staff = sign_in(&server, "agent1", Role::Agent).await;
    Site {
        server,
        fake,
        staff,
    }
}

async fn sign_in(server: &Server, name: &str, role: Role) -> reqwest::Client {
    common::staff_client(server, name, role).await
}

impl Site {
    async fn get(&self, path: &str) -> (u16, String) {
        let res = self
            .staff
            .get(self.server.url(path))
            .send()
            .await
            .expect("get");
        (res.status().as_u16(), res.text().await.expect("body"))
    }

    /// Posts a form as a browser does: the page it leads to (a
    /// successful post redirects), or the refusal.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let (code, body, _) = common::post_form(&self.staff, self.server.url(path), form).await;
        (code, body)
    }

    /// The fake's copy of an order.
    fn shopify_order(&self, id: u64) -> Value {
        self.fake
            .orders()
            .into_iter()
            .find(|o| o["id"] == json!(format!("gid://shopify/Order/{id}")))
            .expect("the fake has the order")
    }

    fn writes(&self, name: &str) -> usize {
        self.fake.counters().writes.get(name).copied().unwrap_or(0)
    }
}

fn page_of(o: &Order) -> String {
    format!("/staff/orders/{SHOP}/{}", o.id)
}

fn tags(v: &Value) -> Vec<String> {
    v["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_status_goes_to_shopify_as_a_tag_and_a_metafield_or_not_at_all() {
    let order = demo(Scenario::Preparing);
    let site = site(vec![graphql_order(&order)], true).await;
    let status = format!("{}/status", page_of(&order));

    let (code, html) = site.post(&status, &[("status", "production")]).await;
    assert_eq!(code, 200, "{html}");
    assert!(html.contains("Status saved."));
    let theirs = site.shopify_order(order.id);
    assert!(tags(&theirs).contains(&"status:production".to_string()));
    assert_eq!(theirs["metafields"][0]["namespace"], "order_status");
    assert_eq!(theirs["metafields"][0]["key"], "status");
    assert_eq!(theirs["metafields"][0]["value"], "production");
    assert!(
        html.contains("status:production"),
        "read back: the tag is on the order here too"
    );

    // The next status replaces the tag; clearing removes tag and metafield.
    site.post(&status, &[("status", "qc")]).await;
    let theirs = site.shopify_order(order.id);
    assert!(tags(&theirs).contains(&"status:qc".to_string()));
    assert!(!tags(&theirs).contains(&"status:production".to_string()));
    assert_eq!(theirs["metafields"][0]["value"], "qc");
    site.post(&status, &[("status", "")]).await;
    let theirs = site.shopify_order(order.id);
    assert!(!tags(&theirs).iter().any(|t| t.starts_with("status:")));
    assert_eq!(theirs["metafields"], json!([]));
    assert_eq!(
        (
            site.writes("metafieldsSet"),
            site.writes("metafieldsDelete")
        ),
        (2, 1),
        "one write per change"
    );

    // Without the write scope Shopify refuses, and nothing changes here.
    site.fake
        .set_rules(|r| r.scopes.retain(|s| s != "write_orders"));
    let (code, html) = site.post(&status, &[("status", "qc")]).await;
    assert_eq!(code, 502);
    assert!(html.contains("Shopify did not make the change"), "{html}");
    assert!(html.contains("write_orders"), "the page names the scope");
    assert!(
        html.contains("The order has none of the shop"),
        "not set here either"
    );
}

#[tokio::test]
async fn shopifys_user_errors_are_shown_and_nothing_changes() {
    let order = demo(Scenario::Preparing);
    let site = site(vec![graphql_order(&order)], true).await;
    // Deleted in Shopify since the site read it.
    site.fake
        .remove_order(&format!("gid://shopify/Order/{}", order.id));
    let (code, html) = site
        .post(&format!("{}/status", page_of(&order)), &[("status", "qc")])
        .await;
    assert_eq!(code, 422);
    assert!(
        html.contains("Order does not exist"),
        "Shopify's words: {html}"
    );
    assert!(
        html.contains("The order has none of the shop"),
        "nothing set here"
    );
}

#[tokio::test]
async fn mark_as_shipped_creates_the_shipment_in_shopify_and_reads_it_back() {
    let order = demo(Scenario::Preparing);
    let site = site(vec![graphql_order(&order)], true).await;
    let ship = format!("{}/ship", page_of(&order));
    let (code, form) = site.get(&ship).await;
    assert_eq!(code, 200);
    let fo = &order.fulfillment_orders[0];
    let fo_gid = format!("gid://shopify/FulfillmentOrder/{}", fo.id);
    let line = format!("gid://shopify/FulfillmentOrderLineItem/{}", fo.id * 100);
    assert!(form.contains(&format!("name=\"qty:{line}\"")), "{form}");
    let qty = fo.line_items[0].quantity.to_string();
    let too_many = (fo.line_items[0].quantity + 1).to_string();
    let field = format!("qty:{line}");

    // Shopify's rules, in its words, and nothing created.
    let (code, html) = site
        .post(
            &ship,
            &[("fulfillment_order", &fo_gid), (&field, &too_many)],
        )
        .await;
    assert_eq!(code, 422);
    assert!(html.contains("Invalid fulfillment order line item quantity requested."));
    let (code, html) = site
        .post(
            &ship,
            &[
                ("fulfillment_order", &fo_gid),
                (&field, &qty),
                ("number", "RR1"),
                ("url", "ftp://x"),
            ],
        )
        .await;
    assert_eq!(code, 422);
    assert!(html.contains("Url is invalid."));
    assert_eq!(site.shopify_order(order.id)["fulfillments"], json!([]));

    // Every line, all that is left: the work is done.
    let every: Vec<(String, String)> = fo
        .line_items
        .iter()
        .enumerate()
        .map(|(k, l)| {
            (
                format!(
                    "qty:gid://shopify/FulfillmentOrderLineItem/{}",
                    fo.id * 100 + k as u64
                ),
                l.quantity.to_string(),
            )
        })
        .collect();
    let mut form: Vec<(&str, &str)> = vec![
        ("fulfillment_order", &fo_gid),
        ("company", "PostNord"),
        ("number", "RR123456789SE"),
        ("url", "https://tracking.postnord.com/?id=RR123456789SE"),
        ("notify", "yes"),
    ];
    form.extend(every.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (code, html) = site.post(&ship, &form).await;
    assert_eq!(code, 200, "{html}");
    assert!(html.contains("Shopify created the shipment"));
    let theirs = site.shopify_order(order.id);
    let made = &theirs["fulfillments"][0];
    assert_eq!(made["trackingInfo"][0]["number"], "RR123456789SE");
    assert_eq!(made["notifyCustomer"], true);
    assert_eq!(theirs["fulfillmentOrders"][0]["status"], "CLOSED");
    assert!(
        html.contains("RR123456789SE"),
        "read back: the shipment is on the order here"
    );
    assert!(
        html.contains(" in Shopify. PostNord RR123456789SE"),
        "in the activity, in words: {html}"
    );

    // Again: the work is closed now.
    let (code, html) = site
        .post(&ship, &[("fulfillment_order", &fo_gid), (&field, &qty)])
        .await;
    assert_eq!(code, 422);
    assert!(
        html.contains("has an unfulfillable status= closed"),
        "{html}"
    );
    assert_eq!(
        site.shopify_order(order.id)["fulfillments"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn tracking_and_carrier_scans_are_written_and_read_back() {
    let order = demo(Scenario::InTransit);
    let site = site(vec![graphql_order(&order)], true).await;
    let f = &order.fulfillments[0];
    let base = format!("{}/shipments/{}", page_of(&order), f.id);
    let (code, html) = site
        .post(
            &format!("{base}/tracking"),
            &[
                ("company", "DHL"),
                ("number", "JD0001234"),
                ("url", "https://www.dhl.com/?id=JD0001234"),
            ],
        )
        .await;
    assert_eq!(code, 200, "{html}");
    assert!(html.contains("Shopify saved the tracking."));
    assert!(html.contains("JD0001234"), "read back");
    let (code, _) = site
        .post(&format!("{base}/tracking"), &[("company", "DHL")])
        .await;
    assert_eq!(code, 422, "a number or a URL is needed");

    let (code, html) = site
        .post(
            &format!("{base}/scan"),
            &[
                ("status", "DELIVERED"),
                ("city", "Lund"),
                ("message", "Left at the door"),
            ],
        )
        .await;
    assert_eq!(code, 200, "{html}");
    assert!(html.contains("Shopify added the carrier scan."));
    let theirs = site.shopify_order(order.id);
    let events = theirs["fulfillments"][0]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        events
            .iter()
            .any(|e| e["status"] == "DELIVERED" && e["city"] == "Lund")
    );
    assert!(
        html.contains("Left at the door"),
        "read back: the scan is here"
    );
    let (code, _) = site
        .post(&format!("{base}/scan"), &[("status", "TELEPORTED")])
        .await;
    assert_eq!(code, 422, "not a carrier status");
    // A shipment Shopify does not know: its words.
    let (code, html) = site
        .post(
            &format!("{}/shipments/4242/scan", page_of(&order)),
            &[("status", "IN_TRANSIT")],
        )
        .await;
    assert_eq!(code, 422);
    assert!(html.contains("Fulfillment does not exist."));
}

#[tokio::test]
async fn fulfillment_requests_are_accepted_or_rejected_with_the_scope_they_need() {
    let a = demo(Scenario::Preparing);
    let b = demo(Scenario::Scheduled);
    let mut orders = Vec::new();
    for o in [&a, &b] {
        let mut v = graphql_order(o);
        if let Some(fos) = v["fulfillmentOrders"].as_array_mut() {
            for fo in fos {
                fo["assignedToApp"] = json!(true);
                fo["requestStatus"] = json!("SUBMITTED");
                fo["status"] = json!("OPEN");
            }
        }
        orders.push(v);
    }
    let site = site(orders, true).await;
    let (code, html) = site.get("/staff/requests").await;
    assert_eq!(code, 200);
    assert!(html.contains(&a.name) && html.contains(&b.name), "{html}");
    let fo_a = format!(
        "gid://shopify/FulfillmentOrder/{}",
        a.fulfillment_orders[0].id
    );
    let fo_b = format!(
        "gid://shopify/FulfillmentOrder/{}",
        b.fulfillment_orders[0].id
    );
    let (ida, idb) = (a.id.to_string(), b.id.to_string());

    let (code, html) = site
        .post(
            "/staff/requests/accept",
            &[
                ("shop", SHOP),
                ("fulfillment_order", &fo_a),
                ("order_id", &ida),
            ],
        )
        .await;
    assert_eq!(code, 200, "{html}");
    assert!(html.contains("Request accepted."));
    assert!(!html.contains(&a.name), "no longer waiting");
    assert_eq!(
        site.shopify_order(a.id)["fulfillmentOrders"][0]["requestStatus"],
        "ACCEPTED"
    );
    // Twice: Shopify's words.
    let (code, html) = site
        .post(
            "/staff/requests/accept",
            &[
                ("shop", SHOP),
                ("fulfillment_order", &fo_a),
                ("order_id", &ida),
            ],
        )
        .await;
    assert_eq!(code, 422);
    assert!(html.contains("request status is accepted"), "{html}");

    let (code, _) = site
        .post(
            "/staff/requests/reject",
            &[
                ("shop", SHOP),
                ("fulfillment_order", &fo_b),
                ("order_id", &idb),
            ],
        )
        .await;
    assert_eq!(code, 422, "a reason is needed");
    site.fake.set_rules(|r| {
        r.scopes
            .retain(|s| s != "write_assigned_fulfillment_orders")
    });
    let form = [
        ("shop", SHOP),
        ("fulfillment_order", fo_b.as_str()),
        ("order_id", idb.as_str()),
        ("reason", "INVENTORY_OUT_OF_STOCK"),
        ("message", "Sold out"),
    ];
    let (code, html) = site.post("/staff/requests/reject", &form).await;
    assert_eq!(code, 502);
    assert!(html.contains("write_assigned_fulfillment_orders"), "{html}");
    site.fake.set_rules(|r| {
        r.scopes.push("write_assigned_fulfillment_orders".into());
    });
    let (code, html) = site.post("/staff/requests/reject", &form).await;
    assert_eq!(code, 200, "{html}");
    let fo = &site.shopify_order(b.id)["fulfillmentOrders"][0];
    assert_eq!(fo["requestStatus"], "REJECTED");
    assert_eq!(fo["rejectionReason"], "INVENTORY_OUT_OF_STOCK");
    let log =
        std::fs::read_to_string(site.server.dir.path().join("data/audit.ndjson")).expect("log");
    assert!(log.contains("shopify.accept") && log.contains("shopify.reject"));

    // A viewer reads the queue but may not answer.
    let viewer = sign_in(&site.server, "viewer1", Role::Viewer).await;
    let res = viewer
        .post(site.server.url("/staff/requests/accept"))
        .form(&[("shop", SHOP), ("fulfillment_order", fo_a.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn with_write_back_off_nothing_is_written_to_shopify() {
    let order = demo(Scenario::Preparing);
    let site = site(vec![graphql_order(&order)], false).await;
    let (code, html) = site
        .post(&format!("{}/status", page_of(&order)), &[("status", "qc")])
        .await;
    assert_eq!(code, 200);
    assert!(html.contains("Status saved."), "set here");
    assert!(!html.contains("Mark items as shipped"), "no Shopify card");
    assert!(site.fake.counters().writes.is_empty(), "nothing written");
    assert_eq!(site.get(&format!("{}/ship", page_of(&order))).await.0, 404);
}

#[tokio::test]
async fn a_bulk_change_writes_each_order_and_reports_what_shopify_refused() {
    let a = demo(Scenario::Preparing);
    let b = demo(Scenario::Scheduled);
    let site = site(vec![graphql_order(&a), graphql_order(&b)], true).await;
    site.fake
        .remove_order(&format!("gid://shopify/Order/{}", b.id));
    let res = site
        .staff
        .post(site.server.url("/staff/bulk"))
        .form(&[("q", ""), ("status", "qc")])
        .send()
        .await
        .expect("prepare");
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert_eq!(
        site.post(&format!("{to}/confirm"), &[("count", "2")])
            .await
            .0,
        200,
        "confirmed: the job's page"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let report = loop {
        let (_, html) = site.get(&to).await;
        if html.contains("Done:") {
            break html;
        }
        assert!(std::time::Instant::now() < deadline, "the job ends");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(report.contains("Done: 1 changed"), "{report}");
    assert!(report.contains("Shopify refused 1 order;"), "{report}");
    assert!(report.contains("Order does not exist"), "with why");
    assert!(tags(&site.shopify_order(a.id)).contains(&"status:qc".to_string()));
    let (_, html) = site.get(&page_of(&b)).await;
    assert!(
        html.contains("The order has none of the shop"),
        "b left as it was"
    );
    let (_, html) = site.get(&page_of(&a)).await;
    assert!(html.contains("Now: Quality check"));
}

#[tokio::test]
async fn a_status_set_by_a_rule_reaches_shopify_too() {
    let mut order = demo(Scenario::Preparing);
    order.tags = vec!["engrave".into()];
    // The first sync brings the order; the rule sets its status in the
    // store's writer, and the write-back round takes it to Shopify.
    let site = site(vec![graphql_order(&order)], true).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    loop {
        let theirs = site.shopify_order(order.id);
        if tags(&theirs).contains(&"status:production".to_string()) {
            assert_eq!(theirs["metafields"][0]["value"], "production");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not written back: {theirs}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, html) = site.get(&page_of(&order)).await;
    assert!(html.contains("Now: In production"));
    assert!(html.contains("· A rule"));
}

const SERVICE: &str = "Acme Warehouse";
const PUBLIC: &str = "https://track.example.test";

/// `order-status shopify ...` against the fake, as a merchant runs it.
async fn run_cli(fake: &FakeShopify, args: &[&str], extra: &[(&str, &str)]) -> (bool, String) {
    let dir = tempfile::tempdir().expect("dir");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"));
    cmd.args(args)
        .arg("--data-dir")
        .arg(dir.path())
        .env("ORDER_STATUS_SHOPIFY_SHOP", SHOP)
        .env("ORDER_STATUS_SHOPIFY_API_BASE", &fake.base)
        .env("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", STATIC_TOKEN)
        .env("ORDER_STATUS_SHOPIFY_FULFILLMENT_SERVICE", SERVICE)
        .env("RUST_LOG", "warn");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("runs"))
        .await
        .expect("join");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn shopify_setup_leaves_exactly_the_needed_subscriptions_and_one_service() {
    let fake = FakeShopify::start(Rules::default(), vec![]).await;
    // What a shop may already have: an old address of the site, a topic
    // the site no longer handles, and the merchant's own ERP hook.
    fake.add_subscription("ORDERS_CREATE", &format!("{PUBLIC}/old/hooks"));
    fake.add_subscription("ORDERS_UPDATED", &format!("{PUBLIC}/webhooks/shopify"));
    fake.add_subscription("ORDERS_UPDATED", &format!("{PUBLIC}/webhooks/shopify/old"));
    fake.add_subscription("CARTS_CREATE", &format!("{PUBLIC}/webhooks/carts"));
    fake.add_subscription("ORDERS_CREATE", "https://erp.example.com/hook");

    let (ok, text) = run_cli(&fake, &["shopify", "setup"], &[]).await;
    assert!(!ok, "no public_url: {text}");
    assert!(text.contains("ORDER_STATUS_PUBLIC_URL"), "{text}");

    let public = [("ORDER_STATUS_PUBLIC_URL", PUBLIC)];
    let (ok, text) = run_cli(&fake, &["shopify", "setup"], &public).await;
    assert!(ok, "{text}");
    assert!(
        text.contains("moved to this site's address: orders/create"),
        "{text}"
    );
    assert!(
        text.contains(&format!("fulfillment service \"{SERVICE}\" registered")),
        "{text}"
    );
    let hook = format!("{PUBLIC}/webhooks/shopify");
    let want: Vec<(String, String)> = order_status::shopify::scopes::Topic::subscribed_by_api()
        .map(|t| (t.graphql(), hook.clone()))
        .collect();
    let check = |fake: &FakeShopify| {
        let mut have = fake.subscriptions();
        have.sort();
        let mut expected = want.clone();
        expected.push((
            "ORDERS_CREATE".into(),
            "https://erp.example.com/hook".into(),
        ));
        expected.sort();
        assert_eq!(have, expected);
        let services = fake.services();
        assert_eq!(services.len(), 1, "{services:?}");
        assert_eq!(
            services[0]["callbackUrl"],
            format!("{PUBLIC}/webhooks/shopify/fulfillment-service")
        );
        assert_eq!(services[0]["trackingSupport"], false);
    };
    check(&fake);
    // Again: nothing to do, nothing doubled.
    let (ok, text) = run_cli(&fake, &["shopify", "setup"], &public).await;
    assert!(ok, "{text}");
    assert!(
        !text
            .lines()
            .any(|l| l.trim_start().starts_with("subscribed:") || l.contains("removed:")),
        "{text}"
    );
    assert!(text.contains("already registered"), "{text}");
    check(&fake);

    // A missing scope: its topics refused in Shopify's words, the rest
    // in place, and the exit code says so.
    fake.set_rules(|r| r.scopes.retain(|s| s != "read_returns"));
    let fresh = FakeShopify::start(
        Rules {
            scopes: {
                let mut s = common::fake_shopify::all_scopes();
                s.retain(|x| x != "read_fulfillments");
                s
            },
            ..Rules::default()
        },
        vec![],
    )
    .await;
    let (ok, text) = run_cli(&fresh, &["shopify", "setup"], &public).await;
    assert!(!ok, "{text}");
    assert!(
        text.contains("REFUSED fulfillments/create") && text.contains("read_fulfillments"),
        "{text}"
    );
    assert!(text.contains("shopify check"), "{text}");
    let (ok, text) = run_cli(&fresh, &["shopify", "check"], &public).await;
    assert!(!ok);
    assert!(
        text.contains("MISSING shipments and carrier scans as they happen (read_fulfillments)"),
        "{text}"
    );
}

#[tokio::test]
async fn a_fulfillment_request_reaches_the_service_is_shipped_and_a_cancellation_cancels() {
    let first = demo(Scenario::Preparing);
    let second = demo(Scenario::Authorized);
    let fake = FakeShopify::start(
        Rules::default(),
        vec![graphql_order(&first), graphql_order(&second)],
    )
    .await;
    let public = [("ORDER_STATUS_PUBLIC_URL", PUBLIC)];
    let (ok, text) = run_cli(&fake, &["shopify", "setup"], &public).await;
    assert!(ok, "{text}");
    let dir = tempfile::tempdir().expect("dir");
    let server = Server::start_in(
        dir,
        &[
            ("ORDER_STATUS_SEED_DEMO", "false"),
            ("ORDER_STATUS_PUBLIC_URL", PUBLIC),
            ("ORDER_STATUS_SHOPIFY_SHOP", SHOP),
            ("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", STATIC_TOKEN),
            ("ORDER_STATUS_SHOPIFY_API_BASE", &fake.base),
            // Shopify signs the service's notifications like webhooks,
            // with the app's secret.
            (
                "ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET",
                common::fake_shopify::CLIENT_SECRET,
            ),
            ("ORDER_STATUS_SHOPIFY_FULFILLMENT_SERVICE", SERVICE),
            ("ORDER_STATUS_SYNC_INTERVAL", "10m"),
            ("ORDER_STATUS_LINK_KEYS", "t1=test-link-key-0123456789"),
        ],
    );
    fake.route_callback(
        SERVICE,
        &server.url("/webhooks/shopify/fulfillment-service"),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let v: Value = client()
            .get(server.url("/readyz"))
            .send()
            .await
            .expect("readyz")
            .json()
            .await
            .expect("json");
        if v["shops"][0]["last_sync_age_seconds"].is_number() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no first sync: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let staff = common::staff_client(&server, "agent1", Role::Agent).await;
    let get = |path: String| {
        let staff = staff.clone();
        let url = server.url(&path);
        async move {
            let res = staff.get(url).send().await.expect("get");
            (res.status().as_u16(), res.text().await.expect("body"))
        }
    };
    let post = |path: String, form: Vec<(String, String)>| {
        let staff = staff.clone();
        let url = server.url(&path);
        async move {
            let form: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let (code, body, _) = common::post_form(&staff, url, &form).await;
            (code, body)
        }
    };
    let until = |path: String, want: String| {
        let get = &get;
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            loop {
                let (_, html) = get(path.clone()).await;
                if html.contains(&want) {
                    return html;
                }
                assert!(std::time::Instant::now() < deadline, "{want}: {html}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let shopper = |o: &Order| {
        let links = order_status::links::Links::new(vec![
            order_status::links::LinkKey::new("t1", b"test-link-key-0123456789").expect("key"),
        ])
        .expect("links");
        let token = links.sign(&order_status::links::LinkClaims {
            shop: SHOP.into(),
            order_id: o.id,
            expires: chrono::Utc::now() + chrono::Duration::hours(1),
            epoch: 0,
        });
        server.url(&format!("/status/{token}?lang=en"))
    };

    // 1. The merchant requests fulfillment: Shopify notifies the callback.
    let gid = |o: &Order| format!("gid://shopify/Order/{}", o.id);
    assert_eq!(fake.request_fulfillment(&gid(&first), SERVICE).await, 200);
    let html = until("/staff/requests".into(), first.name.clone()).await;
    assert!(html.contains(SERVICE), "{html}");
    until(
        page_of(&first),
        "Fulfillment request: sent to the service".into(),
    )
    .await;

    // 2. Staff accept it, then ship it from the service's location with
    //    tracking.
    let fo = &order_status_fo(&fake, &first);
    let (code, html) = post(
        "/staff/requests/accept".into(),
        vec![
            ("shop".into(), SHOP.into()),
            ("fulfillment_order".into(), fo.clone()),
            ("order_id".into(), first.id.to_string()),
        ],
    )
    .await;
    assert_eq!(code, 200, "{html}");
    until(
        page_of(&first),
        "Fulfillment request: accepted by the service".into(),
    )
    .await;
    let ship = format!("{}/ship", page_of(&first));
    let (code, form_html) = get(ship.clone()).await;
    assert_eq!(code, 200);
    assert!(
        form_html.contains(SERVICE),
        "the service's location: {form_html}"
    );
    let mut form: Vec<(String, String)> = vec![
        ("fulfillment_order".into(), fo.clone()),
        ("company".into(), "PostNord".into()),
        ("number".into(), "RR987654321SE".into()),
        (
            "url".into(),
            "https://tracking.postnord.com/?id=RR987654321SE".into(),
        ),
    ];
    let theirs = fake
        .orders()
        .into_iter()
        .find(|o| o["id"] == json!(gid(&first)))
        .expect("fake order");
    for l in theirs["fulfillmentOrders"][0]["lineItems"]
        .as_array()
        .expect("lines")
    {
        form.push((
            format!("qty:{}", l["id"].as_str().expect("id")),
            l["remainingQuantity"].to_string(),
        ));
    }
    let (code, html) = post(ship, form).await;
    assert_eq!(code, 200, "{html}");
    let page = client()
        .get(shopper(&first))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("RR987654321SE"),
        "the shopper sees the parcel: {page}"
    );

    // 3. Another order: requested, accepted, then the merchant cancels
    //    the order: the service is asked, staff accept, the order is
    //    cancelled.
    assert_eq!(fake.request_fulfillment(&gid(&second), SERVICE).await, 200);
    until("/staff/requests".into(), second.name.clone()).await;
    let fo2 = order_status_fo(&fake, &second);
    let (code, _) = post(
        "/staff/requests/accept".into(),
        vec![
            ("shop".into(), SHOP.into()),
            ("fulfillment_order".into(), fo2.clone()),
            ("order_id".into(), second.id.to_string()),
        ],
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(fake.request_cancellation(&gid(&second), SERVICE).await, 200);
    let html = until(
        "/staff/requests".into(),
        "asks to cancel work you accepted".into(),
    )
    .await;
    assert!(html.contains(&second.name), "{html}");
    let (code, html) = post(
        "/staff/requests/cancellation/accept".into(),
        vec![
            ("shop".into(), SHOP.into()),
            ("fulfillment_order".into(), fo2.clone()),
            ("order_id".into(), second.id.to_string()),
        ],
    )
    .await;
    assert_eq!(code, 200, "{html}");
    assert!(html.contains("Cancellation accepted."), "{html}");
    let page = client()
        .get(shopper(&second))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("Cancelled"),
        "the shopper sees it cancelled: {page}"
    );
    let log = std::fs::read_to_string(server.dir.path().join("data/audit.ndjson")).expect("log");
    assert!(log.contains("shopify.accept_cancellation"), "{log}");
    // A second answer: Shopify's words.
    let (code, html) = post(
        "/staff/requests/cancellation/accept".into(),
        vec![
            ("shop".into(), SHOP.into()),
            ("fulfillment_order".into(), fo2),
            ("order_id".into(), second.id.to_string()),
        ],
    )
    .await;
    assert_eq!(code, 422);
    assert!(
        html.contains("request status is cancellation_accepted"),
        "{html}"
    );

    // A notification that is not signed by the app is refused.
    let res = client()
        .post(server.url("/webhooks/shopify/fulfillment-service/fulfillment_order_notification"))
        .header("x-shopify-shop-domain", SHOP)
        .header("x-shopify-hmac-sha256", "AAAA")
        .body("{\"kind\":\"FULFILLMENT_REQUEST\"}")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 401);
}

/// The gid of an order's first fulfillment order, as the fake has it.
fn order_status_fo(fake: &FakeShopify, o: &Order) -> String {
    fake.orders()
        .into_iter()
        .find(|v| v["id"] == json!(format!("gid://shopify/Order/{}", o.id)))
        .and_then(|v| v["fulfillmentOrders"][0]["id"].as_str().map(str::to_string))
        .expect("a fulfillment order")
}
