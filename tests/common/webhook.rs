//! Shopify's sample payloads (`tests/fixtures/shopify`), signed and posted
//! to a test server the way Shopify delivers webhooks.

#![allow(dead_code)]

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The resource `key` of a sample file (a webhook body is the bare
/// resource, not the API's wrapper).
pub fn sample(name: &str, key: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/shopify")
        .join(name);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("sample")).expect("json");
    v[key].clone()
}

/// Shopify's `X-Shopify-Hmac-Sha256` of a body.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Posts a signed webhook; returns status and body.
pub async fn deliver(
    base: &str,
    shop: &str,
    secret: &str,
    topic: &str,
    body: &serde_json::Value,
    event: &str,
) -> (u16, String) {
    let bytes = serde_json::to_vec(body).expect("json");
    let res = super::client()
        .post(format!("{base}/webhooks/shopify"))
        .header("x-shopify-topic", topic)
        .header("x-shopify-shop-domain", shop)
        .header("x-shopify-hmac-sha256", sign(secret, &bytes))
        .header("x-shopify-event-id", event)
        .header("content-type", "application/json")
        .body(bytes)
        .send()
        .await
        .expect("post");
    (res.status().as_u16(), res.text().await.expect("body"))
}
