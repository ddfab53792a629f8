//! `POST /webhooks/shopify`: Shopify's pushed changes.
//!
//! The HMAC in `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body
//! under the shop's webhook secret; two secrets may be configured while
//! rotating) is checked in constant time before the body is even parsed:
//! 401 otherwise, nothing applied. A webhook already applied (same
//! `X-Shopify-Event-Id`) is answered 200 and skipped. The answer is 200 only
//! once the change is committed; a store failure is a 503 so Shopify
//! retries; a body that is not what its topic promises is a 400.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::AppState;
use crate::config::ShopifyShop;
use crate::ingest::shopify::webhooks::{Outcome, TOPICS, WebhookError};

/// Largest webhook body accepted (orders with hundreds of lines fit).
pub const MAX_WEBHOOK_BYTES: usize = 2 * 1024 * 1024;

fn json(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    json(status, serde_json::json!({ "error": message }).to_string())
}

/// Whether `signature` (base64, as Shopify sends it) signs `body` under
/// one of the shop's secrets. Constant time per secret.
pub fn verify_webhook(shop: &ShopifyShop, body: &[u8], signature: &str) -> bool {
    let Ok(given) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    shop.webhook_secrets.iter().any(|secret| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(body);
        mac.verify_slice(&given).is_ok()
    })
}

/// `POST /webhooks/shopify`, counted by topic and outcome.
pub async fn shopify(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let topic = headers
        .get("x-shopify-topic")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| TOPICS.contains(t))
        .unwrap_or("other")
        .to_string();
    let (res, outcome) = handle(&state, &headers, &body).await;
    state
        .metrics
        .webhooks
        .with_label_values(&[topic.as_str(), outcome])
        .inc();
    res
}

async fn handle(state: &AppState, headers: &HeaderMap, body: &[u8]) -> (Response, &'static str) {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let (Some(topic), Some(domain)) = (text("x-shopify-topic"), text("x-shopify-shop-domain"))
    else {
        let msg = "X-Shopify-Topic and X-Shopify-Shop-Domain are required";
        return (error(StatusCode::BAD_REQUEST, msg), "bad_request");
    };
    let Some(shop) = state.config.shopify_shop(domain) else {
        tracing::info!(shop = domain, "webhook for a shop that is not configured");
        return (
            error(StatusCode::UNAUTHORIZED, "unknown shop"),
            "unknown_shop",
        );
    };
    let signed = text("x-shopify-hmac-sha256").is_some_and(|sig| verify_webhook(shop, body, sig));
    if !signed {
        tracing::warn!(shop = %shop.domain, topic, "webhook with a bad signature refused");
        return (
            error(StatusCode::UNAUTHORIZED, "bad signature"),
            "bad_signature",
        );
    }
    let event_id = text("x-shopify-event-id").or_else(|| text("x-shopify-webhook-id"));
    if let Some(id) = event_id
        && state.webhooks.is_duplicate(id)
    {
        let res = json(StatusCode::OK, "{\"outcome\":\"duplicate\"}".into());
        return (res, "duplicate");
    }
    match state
        .webhooks
        .apply(&state.store, &shop.domain, topic, body)
        .await
    {
        Ok(outcome) => {
            if let Some(id) = event_id {
                state.webhooks.remember(id);
            }
            let name = match outcome {
                Outcome::Applied => "applied",
                Outcome::Unchanged => "unchanged",
                Outcome::UnknownOrder => "unknown_order",
                Outcome::Ignored => "ignored",
                Outcome::Deleted(_) => "deleted",
            };
            tracing::info!(shop = %shop.domain, topic, outcome = name, "webhook");
            (
                json(StatusCode::OK, format!("{{\"outcome\":\"{name}\"}}")),
                name,
            )
        }
        Err(WebhookError::Malformed { topic, reason }) => {
            tracing::warn!(shop = %shop.domain, %topic, %reason, "malformed webhook body");
            let msg = format!("malformed {topic} body: {reason}");
            (error(StatusCode::BAD_REQUEST, &msg), "malformed")
        }
        Err(WebhookError::Store(e)) => {
            tracing::error!(shop = %shop.domain, topic, error = %e, "webhook not applied, store unavailable");
            let mut res = error(
                StatusCode::SERVICE_UNAVAILABLE,
                "store unavailable, retry later",
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
            (res, "store_unavailable")
        }
    }
}
