//! Shopify webhooks against the real server, with Shopify's own sample
//! payloads signed the way Shopify signs them.

mod common;

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
    let (id, secret) = LINK_KEY.split_once('=').expect("key");
    let links = Links::new(vec![LinkKey::new(id, secret.as_bytes()).expect("key")]).expect("links");
    let token = links.sign(&LinkClaims {
        shop: SHOP.into(),
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
    for sig in [
        "",
        "not base64!",
        &sign("wrong-secret", &body),
        &sign(SECRET, b"another body"),
    ] {
        let (code, _) = post(&server, "orders/create", &body, sig, "x").await;
        assert_eq!(code, 401, "{sig}");
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
    let (code, body) = send(&server, "orders/updated", &older, "evt-2").await;
    assert_eq!(code, 200);
    assert!(
        body.contains("unchanged"),
        "an older payload arriving late: {body}"
    );
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
    // For an order we do not have yet: accepted, left to the sync.
    let mut other: serde_json::Value = serde_json::from_slice(&f).expect("json");
    other["order_id"] = 42.into();
    let (code, body) = send(
        &server,
        "fulfillments/create",
        &serde_json::to_vec(&other).expect("json"),
        "f2",
    )
    .await;
    assert_eq!(code, 200);
    assert!(body.contains("unknown_order"));
}

#[tokio::test]
async fn unknown_topics_malformed_and_oversized_bodies() {
    let server = start();
    let (code, body) = send(&server, "products/update", b"{\"id\": 1}", "p").await;
    assert_eq!((code, body.contains("ignored")), (200, true));
    for bad in [&b"{not json"[..], b"[1,2]", b"{\"id\": \"x\"}", b""] {
        let (code, _) = send(&server, "orders/updated", bad, "bad").await;
        assert_eq!(code, 400, "{}", String::from_utf8_lossy(bad));
    }
    let big = vec![b' '; 3 * 1024 * 1024];
    let (code, _) = send(&server, "orders/updated", &big, "big").await;
    assert_eq!(code, 413);
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

/// Evaluates the snippet `order-status link-snippet` prints the way
/// Shopify's Liquid would for one order: the four filters it uses, no more.
fn render_liquid(snippet: &str, order_id: u64, now: i64) -> String {
    let between = |s: &str, a: &str, b: &str| -> String {
        let start = s.find(a).map(|i| i + a.len()).expect("start");
        let end = start + s[start..].find(b).expect("end");
        s[start..end].to_string()
    };
    let plus: i64 = between(snippet, "| plus: ", " -%}")
        .parse()
        .expect("seconds");
    let expires = (now + plus).to_string();
    let payload = between(snippet, "{%- capture os_payload -%}", "{%- endcapture -%}")
        .replace("{{ order.id }}", &order_id.to_string())
        .replace("{{ os_expires }}", &expires);
    // Liquid's base64_url_safe_encode is Ruby's urlsafe_encode64: padded.
    let token = base64::engine::general_purpose::URL_SAFE.encode(payload.as_bytes());
    let secret = between(snippet, "hmac_sha256: '", "'");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(payload.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let url_line = snippet.lines().last().expect("url line");
    url_line
        .replace("{{ os_token }}", &token)
        .replace("{{ os_mac }}", &hex)
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
    assert!(snippet.contains("base64_url_safe_encode") && snippet.contains("hmac_sha256"));
    let url = render_liquid(snippet.trim(), 450789469, chrono::Utc::now().timestamp());
    let path = url.trim_start_matches(&server.base).to_string();
    let (code, html) = server.page(&path).await;
    assert_eq!(code, 200, "{url}");
    assert!(html.contains("Order #1001"));
    // The merchant's key opens only its own shop's orders.
    let forged = render_liquid(
        &snippet.trim().replace(SHOP, "other.myshopify.com"),
        450789469,
        chrono::Utc::now().timestamp(),
    );
    assert_eq!(
        server.page(forged.trim_start_matches(&server.base)).await.0,
        404
    );
    // The lookup form can be pre-filled from a template too.
    let (_, html) = server.page("/?order=1001").await;
    assert!(html.contains("value=\"1001\""));
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
