//! Shopify webhooks against the real server, with Shopify's own sample
//! payloads signed the way Shopify signs them.

use crate::common;

use base64::Engine as _;
use common::{Server, client};
use hmac::{Hmac, Mac};
use order_status::links::{LinkClaims, LinkKey, Links};
use sha2::Sha256;

const SHOP: &str = "jsmith.myshopify.com";
const SECRET: &str = "webhook-secret-new";
const OLD_SECRET: &str = "webhook-secret-old";
const LINK_KEY: &str = "t1=test-link-key-0123456789";

fn start() -> Server {
    Server::start(&[
        ("ORDER_STATUS_SEED_DEMO", "false"),
        ("ORDER_STATUS_SHOPIFY_SHOP", SHOP),
        (
            "ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET",
            &format!("{OLD_SECRET},{SECRET}"),
        ),
        ("ORDER_STATUS_LINK_KEYS", LINK_KEY),
    ])
}

fn sample(name: &str, key: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/shopify")
        .join(name);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("sample")).expect("json");
    // A webhook body is the bare resource, not the API's wrapper.
    serde_json::to_vec(&v[key]).expect("inner")
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn post(
    server: &Server,
    topic: &str,
    body: &[u8],
    signature: &str,
    event: &str,
) -> (u16, String) {
    let res = client()
        .post(server.url("/webhooks/shopify"))
        .header("x-shopify-topic", topic)
        .header("x-shopify-shop-domain", SHOP)
        .header("x-shopify-hmac-sha256", signature)
        .header("x-shopify-event-id", event)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .expect("post");
    (res.status().as_u16(), res.text().await.expect("body"))
}

async fn send(server: &Server, topic: &str, body: &[u8], event: &str) -> (u16, String) {
    post(server, topic, body, &sign(SECRET, body), event).await
}

/// The status page of a Shopify order, through a link the test signs.
async fn page(server: &Server, order_id: u64) -> (u16, String) {
    page_of(server, SHOP, order_id).await
}

/// The status page of an order of `shop`.
async fn page_of(server: &Server, shop: &str, order_id: u64) -> (u16, String) {
    let (id, secret) = LINK_KEY.split_once('=').expect("key");
    let links = Links::new(vec![LinkKey::new(id, secret.as_bytes()).expect("key")]).expect("links");
    let token = links.sign(&LinkClaims {
        shop: shop.into(),
        order_id,
        expires: chrono::Utc::now() + chrono::Duration::hours(1),
        epoch: 0,
    });
    server.page(&format!("/status/{token}?lang=en")).await
}

#[tokio::test]
async fn sample_orders_apply_and_show() {
    let server = start();
    for (i, name) in [
        "rest_order_create_paid_fulfilled.json",
        "rest_order_create_paid_unfulfilled.json",
        "rest_order_create_pending.json",
        "rest_order_get_partially_refunded_with_fulfillment_and_refund.json",
        "rest_order_close_closed.json",
        "rest_order_cancel_partially_refunded.json",
        "rest_order_cancel_with_amount_refunded.json",
    ]
    .iter()
    .enumerate()
    {
        let (code, body) = send(
            &server,
            "orders/updated",
            &sample(name, "order"),
            &format!("e{i}"),
        )
        .await;
        assert_eq!(code, 200, "{name}: {body}");
    }
    let (code, html) = page(&server, 1073459983).await;
    assert_eq!(code, 200);
    assert!(html.contains("Waiting for payment"), "the pending sample");
    let (_, html) = page(&server, 450789469).await;
    // The newest of #1001's samples (11:31:25) is the partly refunded
    // cancellation; the fully refunded one (11:31:21) came later but is older.
    assert!(
        html.contains("Cancelled and partly refunded"),
        "the newest sample of #1001 wins"
    );
}

#[tokio::test]
async fn bad_signatures_apply_nothing_and_rotation_works() {
    let server = start();
    let body = sample("rest_order_create_pending.json", "order");
    let mut refusal = None;
    for sig in [
        "",
        "not base64!",
        &sign("wrong-secret", &body),
        &sign(SECRET, b"another body"),
    ] {
        let (code, text) = post(&server, "orders/create", &body, sig, "x").await;
        assert_eq!(code, 401, "{sig}");
        refusal = Some(text);
    }
    assert_eq!(page(&server, 1073459983).await.0, 404, "nothing applied");
    let (code, _) = post(
        &server,
        "orders/create",
        &body,
        &sign(OLD_SECRET, &body),
        "y",
    )
    .await;
    assert_eq!(code, 200, "the old secret still works while rotating");
    assert_eq!(page(&server, 1073459983).await.0, 200);

    let res = client()
        .post(server.url("/webhooks/shopify"))
        .header("x-shopify-topic", "orders/create")
        .header("x-shopify-shop-domain", "other.myshopify.com")
        .header("x-shopify-hmac-sha256", sign(SECRET, &body))
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 401, "a shop we do not serve");
    // Answered exactly like a bad signature: which shops are configured
    // is not for strangers to learn.
    assert_eq!(Some(res.text().await.expect("body")), refusal);
}

#[tokio::test]
async fn duplicates_and_stale_payloads_change_nothing() {
    let server = start();
    let newer = sample("rest_order_cancel_with_amount_refunded.json", "order");
    let older = sample("rest_order_close_closed.json", "order");
    assert_eq!(
        send(&server, "orders/cancelled", &newer, "evt-1").await.0,
        200
    );
    let (code, body) = send(&server, "orders/cancelled", &newer, "evt-1").await;
    assert_eq!((code, body.as_str()), (200, "{\"outcome\":\"duplicate\"}"));
    // The same order as of earlier, arriving late: its order-level fields
    // lose to the stored ones, and its parts are the ones stored.
    let mut late: serde_json::Value = serde_json::from_slice(&newer).expect("json");
    late["updated_at"] = "2008-01-01T00:00:00-05:00".into();
    late["financial_status"] = "pending".into();
    late["cancelled_at"] = serde_json::Value::Null;
    let late = serde_json::to_vec(&late).expect("json");
    let (code, body) = send(&server, "orders/updated", &late, "evt-2").await;
    assert_eq!((code, body.as_str()), (200, "{\"outcome\":\"unchanged\"}"));
    // Another, older, sample of the same order: nothing order-level moves.
    let (code, _) = send(&server, "orders/updated", &older, "evt-3").await;
    assert_eq!(code, 200);
    let (_, html) = page(&server, 450789469).await;
    assert!(html.contains("Cancelled and refunded"));
}

#[tokio::test]
async fn shipments_events_refunds_and_returns_merge_into_the_order() {
    let server = start();
    let order = sample(
        "rest_order_get_partially_refunded_with_fulfillment_and_refund.json",
        "order",
    );
    assert_eq!(send(&server, "orders/create", &order, "o").await.0, 200);
    // A fulfillment for an order we hold, then a carrier event for another
    // of its shipments.
    let f = sample(
        "rest_fulfillment_create_with_tracking_ups.json",
        "fulfillment",
    );
    let (code, body) = send(&server, "fulfillments/create", &f, "f").await;
    assert_eq!((code, body.contains("applied")), (200, true), "{body}");
    let e = sample(
        "rest_fulfillment_event_create_in_transit.json",
        "fulfillment_event",
    );
    let (code, body) = send(&server, "fulfillment_events/create", &e, "ev").await;
    assert_eq!((code, body.contains("applied")), (200, true), "{body}");
    let (_, html) = page(&server, 450789469).await;
    assert!(html.contains("1Z001985YW99744790"), "the UPS shipment");
    assert!(html.contains("In transit"), "the carrier event");
    // The sample refund is the one the order already has: nothing new.
    let r = sample("rest_refund_get.json", "refund");
    let (_, body) = send(&server, "refunds/create", &r, "r").await;
    assert!(body.contains("unchanged"), "{body}");
    // A return, as the returns/request topic sends it.
    let ret = serde_json::json!({
        "id": 9901, "admin_graphql_api_id": "gid://shopify/Return/9901",
        "order": {"id": 450789469, "admin_graphql_api_id": "gid://shopify/Order/450789469"},
        "name": "#1001-R1", "status": "requested",
        "return_line_items": [{"id": 1, "quantity": 1, "return_reason": "size_too_small",
            "fulfillment_line_item": {"line_item": {"id": 466157049, "title": "IPod Nano - 8gb"}}}]
    });
    let body = serde_json::to_vec(&ret).expect("json");
    assert_eq!(send(&server, "returns/request", &body, "ret").await.0, 200);
    let (_, html) = page(&server, 450789469).await;
    assert!(html.contains("Return #1001-R1"));
    // For an order we do not have, with no API access to fetch it: kept
    // as a dead letter (200, so Shopify does not retry for hours).
    let mut other: serde_json::Value = serde_json::from_slice(&f).expect("json");
    other["order_id"] = 42.into();
    let (code, body) = send(
        &server,
        "fulfillments/create",
        &serde_json::to_vec(&other).expect("json"),
        "f2",
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (200, "{\"outcome\":\"dead_letter\"}")
    );
}

#[tokio::test]
async fn unknown_topics_malformed_and_oversized_bodies() {
    let server = start();
    let (code, body) = send(&server, "products/update", b"{\"id\": 1}", "p").await;
    assert_eq!((code, body.contains("ignored")), (200, true));
    // Signed by Shopify but unusable: kept whole, answered 200.
    let bad: [&[u8]; 4] = [b"{not json", b"[1,2]", b"{\"id\": \"x\"}", b""];
    for (i, body) in bad.iter().enumerate() {
        let (code, answer) = send(&server, "orders/updated", body, &format!("bad{i}")).await;
        assert_eq!(
            (code, answer.as_str()),
            (200, "{\"outcome\":\"dead_letter\"}"),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let letters = order_status::ingest::shopify::deadletter::DeadLetters::new(
        &server.dir.path().join("data"),
    );
    let kept = letters.list().expect("list");
    assert_eq!(kept.len(), 4);
    let first = kept[0].1.as_ref().expect("readable");
    assert_eq!(first.topic, "orders/updated");
    assert!(bad.contains(&first.body.as_bytes()), "kept whole");
    let addr: std::net::SocketAddr = server
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("addr");
    // Over the limit: refused from the declared length, before the body is
    // sent (a client writing it all meanwhile may see the connection close
    // under it, so the test sends the head alone and reads the answer).
    let head = format!(
        "POST /webhooks/shopify HTTP/1.1\r\nhost: {}\r\nx-shopify-topic: orders/updated\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        server.base.trim_start_matches("http://"),
        3 * 1024 * 1024
    );
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .expect("timeout");
        s.write_all(head.as_bytes()).expect("head");
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).expect("answer");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    })
    .await
    .expect("join");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let res = client()
        .post(server.url("/webhooks/shopify"))
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 400, "no topic or shop headers");
}

#[tokio::test]
async fn redaction_removes_the_data() {
    let server = start();
    for (i, name) in [
        "rest_order_create_pending.json",
        "rest_order_create_paid_unfulfilled.json",
        "rest_order_close_closed.json",
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(
            send(
                &server,
                "orders/create",
                &sample(name, "order"),
                &format!("c{i}")
            )
            .await
            .0,
            200
        );
    }
    let redact = serde_json::json!({"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 1, "email": "x@y.z"}, "orders_to_redact": [1073459983]});
    let (code, body) = send(
        &server,
        "customers/redact",
        &serde_json::to_vec(&redact).expect("json"),
        "rd",
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(page(&server, 1073459983).await.0, 404);
    assert_eq!(
        page(&server, 1073459976).await.0,
        200,
        "other customers stay"
    );
    let (code, _) = send(
        &server,
        "shop/redact",
        b"{\"shop_id\": 1, \"shop_domain\": \"jsmith.myshopify.com\"}",
        "sr",
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(page(&server, 1073459976).await.0, 404);
    assert_eq!(page(&server, 450789469).await.0, 404);
}

#[tokio::test]
async fn the_json_api_gives_the_shopper_view() {
    let server = start();
    let body = sample(
        "rest_order_get_partially_refunded_with_fulfillment_and_refund.json",
        "order",
    );
    assert_eq!(send(&server, "orders/create", &body, "o").await.0, 200);
    let (id, secret) = LINK_KEY.split_once('=').expect("key");
    let links = Links::new(vec![LinkKey::new(id, secret.as_bytes()).expect("key")]).expect("links");
    let token = links.sign(&LinkClaims {
        shop: SHOP.into(),
        order_id: 450789469,
        expires: chrono::Utc::now() + chrono::Duration::hours(1),
        epoch: 0,
    });
    let res = client()
        .get(server.url(&format!("/api/v1/status/{token}")))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let v: serde_json::Value = res.json().await.expect("json");
    assert_eq!(v["order"], "#1001");
    assert_eq!(v["payment"]["status"], "PARTIALLY_REFUNDED");
    assert_eq!(v["email"], "b***@mail.example.com");
    let text = v.to_string();
    assert!(!text.contains("Chestnut Street"), "no street address");
    assert!(!text.contains("+557734881234"), "no phone");
    let res = client()
        .get(server.url("/api/v1/status/nope"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.json::<serde_json::Value>().await.expect("json")["error"],
        "not_found"
    );
}

/// Shopify's Liquid filters the snippet uses that stock Liquid lacks,
/// reproduced as Shopify documents them: `base64_url_safe_encode` is
/// Ruby's `Base64.urlsafe_encode64` (padded), `hmac_sha256` the lower-case
/// hex HMAC-SHA256 of the input under the given secret.
mod shopify_filters {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    use liquid_core::{
        Display_filter, Expression, Filter, FilterParameters, FilterReflection,
        FromFilterParameters, ParseFilter, Result, Runtime, Value, ValueView,
    };
    use sha2::Sha256;

    #[derive(Clone, ParseFilter, FilterReflection)]
    #[filter(
        name = "base64_url_safe_encode",
        description = "URL-safe base64 of the input.",
        parsed(Base64UrlSafeEncodeFilter)
    )]
    pub struct Base64UrlSafeEncode;

    #[derive(Debug, Default, Display_filter)]
    #[name = "base64_url_safe_encode"]
    struct Base64UrlSafeEncodeFilter;

    impl Filter for Base64UrlSafeEncodeFilter {
        fn evaluate(&self, input: &dyn ValueView, _runtime: &dyn Runtime) -> Result<Value> {
            let text = input.to_kstr().into_string();
            Ok(Value::scalar(
                base64::engine::general_purpose::URL_SAFE.encode(text.as_bytes()),
            ))
        }
    }

    #[derive(Debug, FilterParameters)]
    struct HmacArgs {
        #[parameter(description = "The secret.", arg_type = "str")]
        secret: Expression,
    }

    #[derive(Clone, ParseFilter, FilterReflection)]
    #[filter(
        name = "hmac_sha256",
        description = "Hex HMAC-SHA256 of the input.",
        parameters(HmacArgs),
        parsed(HmacSha256Filter)
    )]
    pub struct HmacSha256;

    #[derive(Debug, FromFilterParameters, Display_filter)]
    #[name = "hmac_sha256"]
    struct HmacSha256Filter {
        #[parameters]
        args: HmacArgs,
    }

    impl Filter for HmacSha256Filter {
        fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> Result<Value> {
            let args = self.args.evaluate(runtime)?;
            let mut mac = Hmac::<Sha256>::new_from_slice(args.secret.as_bytes()).expect("key");
            mac.update(input.to_kstr().as_bytes());
            let hex = hex::encode(mac.finalize().into_bytes());
            Ok(Value::scalar(hex))
        }
    }
}

/// Renders a notification template the way Shopify would for one order:
/// with stock Liquid, Shopify's two extra filters, and only the variables
/// Shopify documents for order notifications (at the top level: `id`,
/// `name`, `order_name`, `order_number`, `email`, `order_status_url`).
/// Unknown variables are errors, as in a strict Liquid.
fn render_notification(template: &str, order_id: u64) -> Result<String, String> {
    let parser = liquid::ParserBuilder::with_stdlib()
        .filter(shopify_filters::Base64UrlSafeEncode)
        .filter(shopify_filters::HmacSha256)
        .build()
        .map_err(|e| e.to_string())?;
    let template = parser.parse(template).map_err(|e| e.to_string())?;
    let globals = liquid::object!({
        "id": order_id,
        "name": "#1001",
        "order_name": "#1001",
        "order_number": 1001,
        "email": "bob.norman@mail.example.com",
        "order_status_url": "https://jsmith.myshopify.com/123/orders/abc/authenticate?key=x",
    });
    template.render(&globals).map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_link_built_by_the_liquid_snippet_opens_the_order() {
    let link_secret = "merchant-link-secret-0123";
    let server = Server::start(&[
        ("ORDER_STATUS_SEED_DEMO", "false"),
        ("ORDER_STATUS_SHOPIFY_SHOP", SHOP),
        ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", SECRET),
        ("ORDER_STATUS_SHOPIFY_LINK_SECRET", link_secret),
    ]);
    let body = sample(
        "rest_order_get_partially_refunded_with_fulfillment_and_refund.json",
        "order",
    );
    assert_eq!(send(&server, "orders/create", &body, "o").await.0, 200);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .arg("link-snippet")
        .env("ORDER_STATUS_SHOPIFY_SHOP", SHOP)
        .env("ORDER_STATUS_SHOPIFY_LINK_SECRET", link_secret)
        .env("ORDER_STATUS_PUBLIC_URL", &server.base)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snippet = String::from_utf8(out.stdout).expect("utf8");
    let url = render_notification(snippet.trim(), 450789469).expect("renders");
    let url = url.trim();
    let path = url.trim_start_matches(&server.base).to_string();
    assert!(path.starts_with("/status/"), "{url}");
    let (code, html) = server.page(&path).await;
    assert_eq!(code, 200, "{url}");
    assert!(html.contains("Order #1001"));
    // Templates have no `order` object: a snippet using one would not even
    // render (the check that the snippet uses documented variables only).
    assert!(render_notification("{{ order.id }}", 1).is_err());
    // The merchant's key opens only its own shop's orders.
    let forged = render_notification(
        &snippet.trim().replace(SHOP, "other.myshopify.com"),
        450789469,
    )
    .expect("renders");
    assert_eq!(
        server
            .page(forged.trim().trim_start_matches(&server.base))
            .await
            .0,
        404
    );
    // Without a link secret: the lookup form, pre-filled from the
    // template's top-level `order_number`.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .arg("link-snippet")
        .env("ORDER_STATUS_SHOPIFY_SHOP", SHOP)
        .env("ORDER_STATUS_PUBLIC_URL", &server.base)
        .output()
        .expect("runs");
    assert!(out.status.success());
    let fallback = String::from_utf8(out.stdout).expect("utf8");
    assert!(!fallback.contains("order."), "{fallback}");
    let url = render_notification(fallback.trim(), 450789469).expect("renders");
    let (_, html) = server
        .page(url.trim().trim_start_matches(&server.base))
        .await;
    assert!(html.contains("value=\"1001\""), "{url}");
}

#[tokio::test]
async fn the_embeddable_form_may_be_framed_by_configured_origins_only() {
    let server = Server::start(&[("ORDER_STATUS_EMBED_ORIGINS", "https://shop.example.com")]);
    let res = client()
        .get(server.url("/embed"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        csp.contains("frame-ancestors https://shop.example.com"),
        "{csp}"
    );
    assert!(!res.headers().contains_key("x-frame-options"));
    assert!(res.text().await.expect("body").contains("target=\"_top\""));
    let res = client().get(server.url("/")).send().await.expect("get");
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .contains("frame-ancestors 'none'")
    );
}

/// The shopper's view as JSON, through a link the test signs.
async fn view(server: &Server, order_id: u64) -> serde_json::Value {
    let (id, secret) = LINK_KEY.split_once('=').expect("key");
    let links = Links::new(vec![LinkKey::new(id, secret.as_bytes()).expect("key")]).expect("links");
    let token = links.sign(&LinkClaims {
        shop: SHOP.into(),
        order_id,
        expires: chrono::Utc::now() + chrono::Duration::hours(1),
        epoch: 0,
    });
    let res = client()
        .get(server.url(&format!("/api/v1/status/{token}?lang=en")))
        .send()
        .await
        .expect("get");
    res.json().await.expect("json")
}

async fn send_at(
    server: &Server,
    topic: &str,
    body: &serde_json::Value,
    event: &str,
    at: &str,
) -> (u16, String) {
    let bytes = serde_json::to_vec(body).expect("json");
    let res = client()
        .post(server.url("/webhooks/shopify"))
        .header("x-shopify-topic", topic)
        .header("x-shopify-shop-domain", SHOP)
        .header("x-shopify-hmac-sha256", sign(SECRET, &bytes))
        .header("x-shopify-event-id", event)
        .header("x-shopify-triggered-at", at)
        .body(bytes)
        .send()
        .await
        .expect("post");
    (res.status().as_u16(), res.text().await.expect("body"))
}

#[tokio::test]
async fn each_part_keeps_its_own_clock_and_nothing_freezes_an_order() {
    let server = start();
    let order = sample(
        "rest_order_get_partially_refunded_with_fulfillment_and_refund.json",
        "order",
    );
    assert_eq!(send(&server, "orders/create", &order, "o").await.0, 200);
    // A carrier scan dated far in the future does not move the order's
    // clock: a later real update still applies.
    let mut scan: serde_json::Value = serde_json::from_slice(&sample(
        "rest_fulfillment_event_create_in_transit.json",
        "fulfillment_event",
    ))
    .expect("json");
    scan["happened_at"] = "2099-01-01T00:00:00Z".into();
    assert!(
        send_at(
            &server,
            "fulfillment_events/create",
            &scan,
            "e2099",
            "2026-11-01T00:00:00Z"
        )
        .await
        .1
        .contains("applied")
    );
    let mut cancelled: serde_json::Value = serde_json::from_slice(&order).expect("json");
    cancelled["updated_at"] = "2026-11-02T00:00:00Z".into();
    cancelled["cancelled_at"] = "2026-11-02T00:00:00Z".into();
    cancelled["cancel_reason"] = "customer".into();
    let (code, body) = send_at(
        &server,
        "orders/cancelled",
        &cancelled,
        "cancel",
        "2026-11-02T00:00:00Z",
    )
    .await;
    assert_eq!((code, body.as_str()), (200, "{\"outcome\":\"applied\"}"));
    assert_eq!(view(&server, 450789469).await["cancelled"], true);

    // A return names its lines by id only; the order knows their titles.
    let request = serde_json::json!({
        "id": 77, "admin_graphql_api_id": "gid://shopify/Return/77", "status": "requested",
        "order": {"id": 450789469, "admin_graphql_api_id": "gid://shopify/Order/450789469"},
        "name": "#1001-R1", "total_return_line_items": 1,
        "return_line_items": [{"id": 1, "admin_graphql_api_id": "gid://shopify/ReturnLineItem/1",
            "fulfillment_line_item": {"id": 9, "line_item": {"id": 466157049, "admin_graphql_api_id": "gid://shopify/LineItem/466157049"}},
            "quantity": 1, "return_reason": "size_too_small"}]
    });
    send_at(
        &server,
        "returns/request",
        &request,
        "r1",
        "2026-11-03T00:00:00Z",
    )
    .await;
    let close = serde_json::json!({"id": 77, "admin_graphql_api_id": "gid://shopify/Return/77", "status": "closed",
        "order": {"id": 450789469}});
    send_at(
        &server,
        "returns/close",
        &close,
        "r3",
        "2026-11-05T00:00:00Z",
    )
    .await;
    // The approval happened before the close but arrives after it.
    let approve = serde_json::json!({"id": 77, "admin_graphql_api_id": "gid://shopify/Return/77", "status": "open",
        "order": {"id": 450789469}, "return_line_items": request["return_line_items"].clone()});
    send_at(
        &server,
        "returns/approve",
        &approve,
        "r2",
        "2026-11-04T00:00:00Z",
    )
    .await;
    let v = view(&server, 450789469).await;
    assert_eq!(v["returns"][0]["status"], "CLOSED", "{v}");
    assert_eq!(v["returns"][0]["items"][0]["title"], "IPod Nano - 8gb");

    // A scan that arrives before its shipment waits for it.
    let early = serde_json::json!({"id": 5551, "fulfillment_id": 9999, "order_id": 450789469,
        "status": "out_for_delivery", "happened_at": "2026-11-06T08:00:00Z"});
    assert!(
        send_at(
            &server,
            "fulfillment_events/create",
            &early,
            "e-early",
            "2026-11-06T08:00:00Z"
        )
        .await
        .1
        .contains("applied")
    );
    let shipment = serde_json::json!({"id": 9999, "order_id": 450789469, "status": "success",
        "tracking_company": "PostNord", "tracking_number": "PN123", "tracking_numbers": ["PN123"],
        "created_at": "2026-11-05T10:00:00Z", "updated_at": "2026-11-05T10:00:00Z",
        "line_items": [{"id": 518995019, "quantity": 1}]});
    assert!(
        send_at(
            &server,
            "fulfillments/create",
            &shipment,
            "f9999",
            "2026-11-05T10:00:00Z"
        )
        .await
        .1
        .contains("applied")
    );
    let v = view(&server, 450789469).await;
    let pkg = v["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["tracking_number"] == "PN123"))
        .cloned()
        .expect("the new shipment");
    assert_eq!(pkg["status"], "OUT_FOR_DELIVERY", "{pkg}");
    assert_eq!(
        pkg["items"][0]["title"], "IPod Nano - 8gb",
        "its line's title from the order"
    );

    // An order edit says only what changed; without API access the
    // orders/updated Shopify sends with it carries the new order.
    let edit = serde_json::json!({"order_edit": {"id": 1, "order_id": 450789469, "committed_at": "2026-11-07T00:00:00Z",
        "line_items": {"additions": [{"id": 1, "delta": 1}], "removals": []}}});
    assert_eq!(
        send_at(
            &server,
            "orders/edited",
            &edit,
            "edit",
            "2026-11-07T00:00:00Z"
        )
        .await,
        (200, "{\"outcome\":\"ignored\"}".to_string())
    );
}

#[tokio::test]
async fn dead_letters_are_replayed_and_deliveries_stay_deduplicated_across_a_restart() {
    let server = start();
    // A shipment for an order that is not here yet: a dead letter.
    let mut other: serde_json::Value = serde_json::from_slice(&sample(
        "rest_fulfillment_create_with_tracking_ups.json",
        "fulfillment",
    ))
    .expect("json");
    other["order_id"] = 1073459983.into();
    let (_, body) = send_at(
        &server,
        "fulfillments/create",
        &other,
        "late-f",
        "2026-11-01T00:00:00Z",
    )
    .await;
    assert_eq!(body, "{\"outcome\":\"dead_letter\"}");
    // Then the order comes.
    let order = sample("rest_order_create_pending.json", "order");
    assert_eq!(
        send(&server, "orders/create", &order, "the-order").await.0,
        200
    );
    let data = server.dir.path().join("data");
    // Stopped cleanly: the replay needs the data dir to itself.
    let dir = server.stop();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .args(["webhooks", "replay", "--data-dir"])
        .arg(&data)
        .env("ORDER_STATUS_SHOPIFY_SHOP", SHOP)
        .env("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", SECRET)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Replayed 1 dead letters; 0 left"), "{text}");
    let server = Server::start_in(
        dir,
        &[
            ("ORDER_STATUS_SEED_DEMO", "false"),
            ("ORDER_STATUS_SHOPIFY_SHOP", SHOP),
            ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", SECRET),
            ("ORDER_STATUS_LINK_KEYS", LINK_KEY),
        ],
    );
    let v = view(&server, 1073459983).await;
    assert_eq!(
        v["packages"][0]["tracking_number"], "1Z001985YW99744790",
        "{v}"
    );
    // Shopify retries with the same event id, after our restart too.
    let (code, body) = send(&server, "orders/create", &order, "the-order").await;
    assert_eq!((code, body.as_str()), (200, "{\"outcome\":\"duplicate\"}"));
    // A delivery Shopify sends is answered at once even when unusable: no
    // retries over hours, no dropped subscription.
    let d = common::fake_shopify::send_webhook(
        &server.url("/webhooks/shopify"),
        SHOP,
        "orders/updated",
        b"{\"id\": \"not-a-number\"}",
        SECRET,
        "unusable",
        chrono::Utc::now(),
        std::time::Duration::from_millis(1),
    )
    .await;
    assert_eq!(d.attempts, vec![200]);
}

/// Polls `check` every 50 ms for up to 20 s.
async fn eventually<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    for _ in 0..400 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

async fn inbox_open(server: &Server) -> Option<u64> {
    server
        .metrics()
        .await
        .lines()
        .find_map(|l| l.strip_prefix("order_status_webhook_inbox_open "))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test]
async fn a_delivery_answered_before_it_is_applied_shows_soon_after() {
    let server = Server::start(&[
        ("ORDER_STATUS_SEED_DEMO", "false"),
        ("ORDER_STATUS_SHOPIFY_SHOP", SHOP),
        ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", SECRET),
        ("ORDER_STATUS_LINK_KEYS", LINK_KEY),
        // Shorter than any commit: every answer comes before the change
        // is applied.
        ("ORDER_STATUS_LIMIT_WEBHOOK_ANSWER", "1ms"),
    ]);
    let order = sample("rest_order_create_pending.json", "order");
    let (code, body) = send(&server, "orders/create", &order, "early-1").await;
    assert_eq!((code, body.as_str()), (200, "{\"outcome\":\"accepted\"}"));
    assert!(
        eventually(|| async {
            page(&server, 1073459983)
                .await
                .1
                .contains("Waiting for payment")
        })
        .await,
        "the accepted order shows on its page"
    );
    assert!(
        eventually(|| async { inbox_open(&server).await == Some(0) }).await,
        "the inbox empties once the delivery is applied"
    );
    // Applied in the background, it is still remembered: Shopify's retry
    // of it is a duplicate.
    let (code, body) = send(&server, "orders/create", &order, "early-1").await;
    assert_eq!((code, body.as_str()), (200, "{\"outcome\":\"duplicate\"}"));
    // A delivery that cannot be applied still becomes a dead letter.
    let (code, _) = send(&server, "orders/updated", b"{\"id\": \"x\"}", "early-2").await;
    assert_eq!(code, 200);
    let dead = server.dir.path().join("data/webhooks/dead");
    assert!(
        eventually(|| async { std::fs::read_dir(&dead).map(|d| d.count()).unwrap_or(0) == 1 })
            .await,
        "the unusable delivery is kept as a dead letter"
    );
}

#[tokio::test]
async fn deliveries_taken_and_not_applied_before_a_stop_are_applied_at_start() {
    use order_status::ingest::shopify::inbox::{Inbox, Taken};
    let server = start();
    let data = server.dir.path().join("data");
    let dir = server.stop();
    // What a crash between the answer and the commit leaves: deliveries in
    // the inbox, one of them finished, and a line cut short.
    let (inbox, open) = Inbox::open(&data).expect("the inbox opens");
    assert!(open.is_empty(), "a clean stop leaves nothing open");
    let taken = |event: &str, name: &str| Taken {
        shop: SHOP.into(),
        topic: "orders/create".into(),
        event_id: Some(event.into()),
        triggered_at: None,
        received_at: chrono::Utc::now(),
        body: String::from_utf8(sample(name, "order")).expect("utf-8"),
    };
    inbox
        .take(&taken("crash-1", "rest_order_create_pending.json"))
        .expect("taken")
        .expect("room");
    let finished = inbox
        .take(&taken("crash-2", "rest_order_close_closed.json"))
        .expect("taken")
        .expect("room");
    inbox.done(finished).expect("done");
    drop(inbox);
    let log = data.join("webhooks/inbox.log");
    let mut bytes = std::fs::read(&log).expect("inbox");
    bytes.extend_from_slice(b"{\"seq\":9,\"deliv");
    std::fs::write(&log, bytes).expect("cut line");

    let server = Server::start_in(
        dir,
        &[
            ("ORDER_STATUS_SEED_DEMO", "false"),
            ("ORDER_STATUS_SHOPIFY_SHOP", SHOP),
            ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", SECRET),
            ("ORDER_STATUS_LINK_KEYS", LINK_KEY),
        ],
    );
    assert!(
        eventually(|| async {
            page(&server, 1073459983)
                .await
                .1
                .contains("Waiting for payment")
        })
        .await,
        "the delivery left open is applied at start"
    );
    assert!(
        eventually(|| async { inbox_open(&server).await == Some(0) }).await,
        "and marked done"
    );
    let (code, _) = page(&server, 450789469).await;
    assert_eq!(code, 404, "the finished one is not applied again");
    let (code, body) = send(
        &server,
        "orders/create",
        &sample("rest_order_create_pending.json", "order"),
        "crash-1",
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (200, "{\"outcome\":\"duplicate\"}"),
        "Shopify's retry of the applied delivery"
    );
}

#[tokio::test]
async fn with_api_access_an_order_edit_reads_the_order_again_and_readyz_tells_the_version() {
    use common::fake_shopify::{FakeShopify, Rules, STATIC_TOKEN, graphql_order};
    let mut order = order_status::ingest::demo::order(5, 1, chrono::Utc::now(), SHOP);
    // Shopify no longer serves the version asked for.
    let rules = Rules {
        versions: vec!["2026-04", "2026-07", "2026-10"],
        ..Rules::default()
    };
    let fake = FakeShopify::start(rules, vec![graphql_order(&order)]).await;
    let server = Server::start(&[
        ("ORDER_STATUS_SEED_DEMO", "false"),
        ("ORDER_STATUS_SHOPIFY_SHOP", SHOP),
        ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", SECRET),
        ("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", STATIC_TOKEN),
        ("ORDER_STATUS_SHOPIFY_API_BASE", &fake.base),
        ("ORDER_STATUS_SHOPIFY_API_VERSION", "2026-01"),
        ("ORDER_STATUS_SYNC_INTERVAL", "10m"),
        ("ORDER_STATUS_LINK_KEYS", LINK_KEY),
    ]);
    // The first sync (a bulk operation, at start) brings the order.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let ready = loop {
        let v: serde_json::Value = client()
            .get(server.url("/readyz"))
            .send()
            .await
            .expect("readyz")
            .json()
            .await
            .expect("json");
        if v["shops"][0]["last_sync_age_seconds"].is_number() {
            break v;
        }
        assert!(std::time::Instant::now() < deadline, "no sync: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(ready["shops"][0]["api_version_mismatch"], true, "{ready}");
    assert_eq!(ready["shops"][0]["api_version_answered"], "2026-04");
    let metrics = server.metrics().await;
    assert!(
        metrics
            .contains("order_status_shopify_api_version_mismatch{shop=\"jsmith.myshopify.com\"} 1"),
        "{metrics}"
    );
    assert_eq!(view(&server, order.id).await["order"], order.name.as_str());

    // The merchant edits the order in Shopify: the webhook says little, the
    // order is read again.
    order.line_items[0].title = "Edited item".into();
    order.updated_at = Some(chrono::Utc::now());
    fake.put_order(graphql_order(&order));
    let edit = serde_json::json!({"order_edit": {"id": 1, "order_id": order.id, "committed_at": "2026-11-07T00:00:00Z",
        "line_items": {"additions": [], "removals": []}}});
    assert_eq!(
        send_at(
            &server,
            "orders/edited",
            &edit,
            "edit",
            "2026-11-07T00:00:00Z"
        )
        .await,
        (200, "{\"outcome\":\"refetching\"}".to_string())
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let v = view(&server, order.id).await.to_string();
        if v.contains("Edited item") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not read again: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Shopify's HMAC covers the body, not the topic or the shop header: a
/// signed delivery re-sent under another topic must change nothing.
#[tokio::test]
async fn a_signed_body_replayed_under_another_topic_deletes_nothing() {
    let server = start();
    let order = sample("rest_order_create_paid_unfulfilled.json", "order");
    assert_eq!(send(&server, "orders/updated", &order, "u1").await.0, 200);
    let other = sample("rest_order_create_pending.json", "order");
    assert_eq!(send(&server, "orders/create", &other, "u2").await.0, 200);
    assert_eq!(page(&server, 1073459976).await.0, 200);
    // The same signed body under the destructive topics.
    for (i, topic) in ["orders/delete", "shop/redact", "customers/redact"]
        .iter()
        .enumerate()
    {
        let (code, answer) = send(&server, topic, &order, &format!("x{i}")).await;
        assert_eq!(code, 200, "{topic}: {answer}");
        assert!(answer.contains("dead_letter"), "{topic}: {answer}");
        assert_eq!(page(&server, 1073459976).await.0, 200, "{topic} deleted it");
        assert_eq!(
            page(&server, 1073459983).await.0,
            200,
            "{topic} deleted another"
        );
    }
    // A shipment's body as an order, an order's as a shipment or a scan.
    let shipment = sample(
        "rest_fulfillment_create_with_tracking_ups.json",
        "fulfillment",
    );
    for (topic, body) in [
        ("orders/updated", &shipment),
        ("fulfillments/create", &order),
        ("fulfillment_events/create", &shipment),
        ("refunds/create", &order),
    ] {
        let (code, answer) = send(&server, topic, body, &format!("{topic}-swap")).await;
        assert_eq!(code, 200, "{topic}: {answer}");
        assert!(answer.contains("dead_letter"), "{topic}: {answer}");
    }
    // The real deletion still works: the id alone.
    let (code, answer) = send(&server, "orders/delete", b"{\"id\": 1073459976}", "del").await;
    assert_eq!((code, answer.contains("deleted")), (200, true), "{answer}");
    assert_eq!(page(&server, 1073459976).await.0, 404);
    // A shop/redact must name this shop.
    let (_, answer) = send(
        &server,
        "shop/redact",
        b"{\"shop_id\": 1, \"shop_domain\": \"other.myshopify.com\"}",
        "sr-other",
    )
    .await;
    assert!(answer.contains("dead_letter"), "{answer}");
    assert_eq!(page(&server, 1073459983).await.0, 200);
}

/// Two shops whose app shares a webhook secret: one shop's delivery sent
/// under the other's domain header must not land in the other shop.
#[tokio::test]
async fn a_delivery_under_another_shops_header_lands_nowhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("order-status.toml");
    std::fs::write(
        &config,
        format!(
            "[[shopify]]\ndomain = \"{SHOP}\"\nwebhook_secrets = [\"{SECRET}\"]\n\n[[shopify]]\ndomain = \"other.myshopify.com\"\nwebhook_secrets = [\"{SECRET}\"]\n"
        ),
    )
    .expect("config");
    let server = Server::start_in(
        dir,
        &[
            ("ORDER_STATUS_SEED_DEMO", "false"),
            ("ORDER_STATUS_LINK_KEYS", LINK_KEY),
            ("ORDER_STATUS_CONFIG", config.to_str().expect("path")),
        ],
    );
    // jsmith's order (its order_status_url is on jsmith.myshopify.com),
    // signed with the shared secret, sent as the other shop's.
    let body = sample("rest_order_create_paid_unfulfilled.json", "order");
    let res = client()
        .post(server.url("/webhooks/shopify"))
        .header("x-shopify-topic", "orders/create")
        .header("x-shopify-shop-domain", "other.myshopify.com")
        .header("x-shopify-hmac-sha256", sign(SECRET, &body))
        .header("x-shopify-event-id", "cross")
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("text").contains("dead_letter"));
    assert_eq!(
        page_of(&server, "other.myshopify.com", 1073459976).await.0,
        404,
        "not an order of the other shop"
    );
    // Under its own shop it applies.
    assert_eq!(send(&server, "orders/create", &body, "own").await.0, 200);
    assert_eq!(page(&server, 1073459976).await.0, 200);
}

/// With API access: a deletion is confirmed with Shopify first, and a
/// change of shape the body only names (a fulfillment order split, a
/// partial hold, a return's parcel) reads the order again.
#[tokio::test]
async fn with_api_access_deletions_are_confirmed_and_shape_changes_read_the_order() {
    use common::fake_shopify::{FakeShopify, Rules, STATIC_TOKEN, graphql_order};
    use order_status::ingest::demo::{SCENARIOS, Scenario};
    use order_status::order::{
        FulfillmentHold, FulfillmentOrderStatus, HoldReason, ReturnTracking,
    };
    let in_scenario = |s: Scenario| {
        let i = SCENARIOS.iter().position(|x| *x == s).expect("listed") as u64;
        order_status::ingest::demo::order(11, i, chrono::Utc::now(), SHOP)
    };
    let mut waiting = in_scenario(Scenario::Preparing);
    let mut returning = in_scenario(Scenario::ReturnInProgress);
    let fake = FakeShopify::start(
        Rules::default(),
        vec![graphql_order(&waiting), graphql_order(&returning)],
    )
    .await;
    let server = Server::start(&[
        ("ORDER_STATUS_SEED_DEMO", "false"),
        ("ORDER_STATUS_SHOPIFY_SHOP", SHOP),
        ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", SECRET),
        ("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", STATIC_TOKEN),
        ("ORDER_STATUS_SHOPIFY_API_BASE", &fake.base),
        ("ORDER_STATUS_SYNC_INTERVAL", "10m"),
        ("ORDER_STATUS_LINK_KEYS", LINK_KEY),
    ]);
    let until = |id: u64, what: &'static str, test: fn(&serde_json::Value) -> bool| {
        let server = &server;
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                let v = view(server, id).await;
                if test(&v) {
                    return v;
                }
                assert!(std::time::Instant::now() < deadline, "{what}: {v}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    // The first sync (at start) brings both orders, whole.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let v: serde_json::Value = client()
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
        assert!(std::time::Instant::now() < deadline, "no sync: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let now = chrono::Utc::now().to_rfc3339();
    // A partial hold: the held part stays in the fulfillment order, the
    // rest moves to a new one that only a read of the order shows.
    let fo = waiting.fulfillment_orders[0].clone();
    let mut held = fo.clone();
    held.status = FulfillmentOrderStatus::OnHold;
    held.fulfillment_holds = vec![FulfillmentHold {
        reason: HoldReason::InventoryOutOfStock,
        reason_notes: None,
    }];
    let mut rest = fo.clone();
    rest.id = fo.id + 1_000;
    rest.line_items = held.line_items.split_off(1.min(held.line_items.len()));
    waiting.fulfillment_orders = vec![held, rest.clone()];
    waiting.updated_at = Some(chrono::Utc::now());
    fake.put_order(graphql_order(&waiting));
    let hold = serde_json::json!({
        "fulfillment_order": {"id": format!("gid://shopify/FulfillmentOrder/{}", fo.id), "status": "on_hold"},
        "remaining_fulfillment_order": {"id": format!("gid://shopify/FulfillmentOrder/{}", rest.id), "status": "open"},
        "held_fulfillment_order_line_items": [],
        "created_fulfillment_hold": {"id": "gid://shopify/FulfillmentHold/1", "reason": "inventory_out_of_stock"}
    });
    let reads = |fake: &FakeShopify| fake.counters().calls.get("Order").copied().unwrap_or(0);
    let before = reads(&fake);
    let (code, answer) = send_at(
        &server,
        "fulfillment_orders/placed_on_hold",
        &hold,
        "hold",
        &now,
    )
    .await;
    assert_eq!(code, 200, "{answer}");
    assert!(answer.contains("applied"), "{answer}");
    until(waiting.id, "the remaining fulfillment order read", |v| {
        v["not_shipped"]
            .to_string()
            .contains("INVENTORY_OUT_OF_STOCK")
            || v["not_shipped"].to_string().contains("on_hold")
    })
    .await;

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while reads(&fake) == before {
        assert!(
            std::time::Instant::now() < deadline,
            "the order was not read again"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // A split names only fulfillment orders: the order is read again.
    let split = serde_json::json!({
        "split_line_items": [],
        "fulfillment_order": {"id": format!("gid://shopify/FulfillmentOrder/{}", fo.id), "status": "on_hold"},
        "remaining_fulfillment_order": {"id": format!("gid://shopify/FulfillmentOrder/{}", fo.id + 7), "status": "open"},
        "replacement_fulfillment_order": null
    });
    let (_, answer) = send_at(&server, "fulfillment_orders/split", &split, "split", &now).await;
    assert_eq!(answer, "{\"outcome\":\"refetching\"}");

    // A return's parcel gets its tracking: read the order again.
    let ret = returning.returns[0].clone();
    returning.returns[0].tracking = vec![ReturnTracking {
        company: Some("PostNord".into()),
        number: Some("RT-ATTACHED-1".into()),
        url: None,
    }];
    fake.put_order(graphql_order(&returning));
    let attach = serde_json::json!({
        "id": 77, "admin_graphql_api_id": "gid://shopify/ReverseDelivery/77",
        "return": {"id": ret.id, "admin_graphql_api_id": format!("gid://shopify/Return/{}", ret.id)},
        "deliverable": {"tracking": {"carrier_name": "PostNord", "tracking_number": "RT-ATTACHED-1"}}
    });
    let (_, answer) = send_at(
        &server,
        "reverse_deliveries/attach_deliverable",
        &attach,
        "attach",
        &now,
    )
    .await;
    assert_eq!(answer, "{\"outcome\":\"refetching\"}");
    until(returning.id, "return tracking", |v| {
        v["returns"].to_string().contains("RT-ATTACHED-1")
    })
    .await;

    // orders/delete while Shopify still has the order: kept.
    let delete = serde_json::json!({"id": waiting.id});
    let (_, answer) = send_at(&server, "orders/delete", &delete, "del1", &now).await;
    assert!(answer.contains("dead_letter"), "{answer}");
    assert!(view(&server, waiting.id).await["order"].is_string());
    // Deleted in Shopify: then it goes.
    fake.remove_order(&format!("gid://shopify/Order/{}", waiting.id));
    let (_, answer) = send_at(&server, "orders/delete", &delete, "del2", &now).await;
    assert!(answer.contains("deleted"), "{answer}");
    assert_eq!(page(&server, waiting.id).await.0, 404);
}
