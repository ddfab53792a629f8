//! `POST /webhooks/shopify`: Shopify's pushed changes.
//!
//! The HMAC in `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body
//! under the shop's webhook secret, or its app's client secret; two may be
//! configured while rotating) is checked in constant time before the body
//! is even parsed. A shop that is not configured gets the very answer a
//! bad signature gets, after the same work, so the endpoint does not tell
//! which shops exist. A delivery applied before (same shop, topic and
//! `X-Shopify-Event-Id`) is answered 200 and skipped.
//!
//! A verified delivery is kept on disk first (the inbox,
//! `crate::ingest::shopify::inbox`), then applied on a task of its own.
//! Its answer waits for that up to `[limits] webhook_answer`: 200 with the
//! outcome once the change is committed, 503 when the store cannot take
//! it (Shopify retries), and 200 as well for a delivery that verifies but
//! cannot be applied: it is kept whole as a dead letter (`order-status
//! webhooks replay`), because a non-2xx answer makes Shopify retry it for
//! hours and then drop the subscription. Past the wait the answer is 200
//! `accepted`: a commit under load takes tens of milliseconds, and the
//! delivery is safe in the inbox; from then on the site applies it, and
//! tries again itself while the store cannot take it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::oneshot;

use super::AppState;
use crate::actions::write_back::FulfillmentRequests;
use crate::config::ShopifyShop;
use crate::ingest::shopify::deadletter::{Claim, DeadLetter};
use crate::ingest::shopify::inbox::Taken;
use crate::ingest::shopify::sync;
use crate::ingest::shopify::webhooks::{Delivery, Plan, plan};
use crate::order::merge::Change;
use crate::order::order_key;
use crate::shopify::scopes::Topic;
use crate::store::StoreError;

/// Largest webhook body accepted (orders with hundreds of lines fit).
pub const MAX_WEBHOOK_BYTES: usize = 2 * 1024 * 1024;

fn json(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

fn outcome(name: &'static str) -> (Response, &'static str) {
    (
        json(StatusCode::OK, serde_json::json!({ "outcome": name })),
        name,
    )
}

/// Whether `signature` (base64, as Shopify sends it) signs `body` under
/// The webhook routes: the API's budget per client (`[limits] api`) and
/// bodies up to [`MAX_WEBHOOK_BYTES`].
pub fn router(limits: &super::Limiters) -> axum::Router<AppState> {
    axum::Router::new()
        .route("/webhooks/shopify", axum::routing::post(shopify))
        .route(
            "/webhooks/shopify/fulfillment-service/fulfillment_order_notification",
            axum::routing::post(fulfillment_service),
        )
        .route_layer(super::protect::layer(&limits.api))
        .layer(axum::middleware::from_fn_with_state(
            MAX_WEBHOOK_BYTES,
            crate::web::limit_body,
        ))
}

/// one of the shop's secrets. Constant time per secret.
pub fn verify_webhook(shop: &ShopifyShop, body: &[u8], signature: &str) -> bool {
    signed_by(
        shop.webhook_secrets.iter().map(String::as_bytes),
        body,
        signature,
    )
}

fn signed_by<'a>(secrets: impl Iterator<Item = &'a [u8]>, body: &[u8], signature: &str) -> bool {
    let given = STANDARD.decode(signature.trim()).unwrap_or_default();
    let mut ok = false;
    for secret in secrets {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
        mac.update(body);
        ok |= mac.verify_slice(&given).is_ok();
    }
    ok
}

/// `POST /webhooks/shopify`, counted by topic and outcome.
pub async fn shopify(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let topic = headers
        .get("x-shopify-topic")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .and_then(Topic::parse)
        .map_or("other", Topic::as_str)
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
            .filter(|v| !v.is_empty())
    };
    let (Some(topic), Some(domain)) = (text("x-shopify-topic"), text("x-shopify-shop-domain"))
    else {
        let msg = "X-Shopify-Topic and X-Shopify-Shop-Domain are required";
        return (
            json(StatusCode::BAD_REQUEST, serde_json::json!({ "error": msg })),
            "bad_request",
        );
    };
    let signature = text("x-shopify-hmac-sha256").unwrap_or("");
    let shop = state.config.shopify_shop(domain);
    let signed = match shop {
        Some(shop) => verify_webhook(shop, body, signature),
        None => {
            // The same work and the same answer as a bad signature.
            let _ = signed_by(
                std::iter::once(&b"not-a-configured-shop"[..]),
                body,
                signature,
            );
            false
        }
    };
    let Some(shop) = shop.filter(|_| signed) else {
        tracing::warn!(
            topic,
            "webhook refused: bad signature or shop not configured"
        );
        return (
            json(
                StatusCode::UNAUTHORIZED,
                serde_json::json!({ "error": "bad signature" }),
            ),
            "bad_signature",
        );
    };
    let event_id = text("x-shopify-event-id").or_else(|| text("x-shopify-webhook-id"));
    if let Some(id) = event_id
        && state.seen_deliveries.claim(&shop.domain, topic, id).await == Claim::Duplicate
    {
        return outcome("duplicate");
    }
    let triggered_at = text("x-shopify-triggered-at")
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.to_utc());
    if let Ok(body) = std::str::from_utf8(body) {
        let taken = Taken {
            shop: shop.domain.clone(),
            topic: topic.to_string(),
            event_id: event_id.map(str::to_string),
            triggered_at,
            received_at: Utc::now(),
            body: body.to_string(),
        };
        match take(state, taken).await {
            Ok(answer) => return answer,
            Err(e) => tracing::warn!(
                shop = %shop.domain,
                topic,
                error = %crate::errors::chain(&e),
                "webhook not taken into the inbox; applying it before answering"
            ),
        }
    }
    let delivery = Delivery {
        shop: &shop.domain,
        topic,
        body,
        triggered_at,
    };
    let result = settle(state, &delivery, event_id).await;
    if let Some(id) = event_id {
        match &result {
            Ok(_) => state
                .seen_deliveries
                .remember(&shop.domain, topic, id, Utc::now()),
            Err(_) => state.seen_deliveries.release(&shop.domain, topic, id).await,
        }
    }
    answer(&delivery, result)
}

/// Applies a verified delivery (or keeps it as a dead letter): the
/// outcome's name, or the store's failure.
async fn settle(
    state: &AppState,
    delivery: &Delivery<'_>,
    event_id: Option<&str>,
) -> Result<&'static str, StoreError> {
    match plan(&state.store, delivery) {
        Ok(p) => apply(state, delivery, event_id, p).await,
        Err(unusable) => dead_letter(state, delivery, event_id, &unusable.0),
    }
}

/// The answer to Shopify for a settled delivery: 503 (retry) only when
/// the store could not take it.
fn answer(d: &Delivery<'_>, result: Result<&'static str, StoreError>) -> (Response, &'static str) {
    match result {
        Ok(name) => {
            tracing::info!(shop = %d.shop, topic = d.topic, outcome = name, "webhook");
            outcome(name)
        }
        Err(e) => {
            tracing::error!(shop = %d.shop, topic = d.topic, error = %crate::errors::chain(&e), "webhook not applied: the store is unavailable");
            let mut res = json(
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({ "error": "store unavailable, retry later" }),
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
            (res, "store_unavailable")
        }
    }
}

/// Why a delivery was not taken into the inbox (it is then applied before
/// it is answered, as if there were no inbox).
#[derive(Debug, thiserror::Error)]
enum NotTaken {
    #[error("the inbox holds {0} deliveries not yet applied")]
    Full(usize),
    #[error("the inbox cannot be written")]
    Io(#[from] std::io::Error),
}

/// Keeps the delivery in the inbox, then applies it on a task of its own.
/// The answer is the delivery's outcome if it is settled within
/// `[limits] webhook_answer`, else 200 `accepted`: it is on disk, and is
/// applied right after (and again at start after a crash).
async fn take(state: &AppState, taken: Taken) -> Result<(Response, &'static str), NotTaken> {
    let inbox = std::sync::Arc::clone(&state.webhook_inbox);
    let kept = taken.clone();
    let seq = tokio::task::spawn_blocking(move || inbox.take(&kept))
        .await
        .map_err(std::io::Error::other)??
        .ok_or_else(|| NotTaken::Full(state.webhook_inbox.open_count()))?;
    let (tx, mut rx) = oneshot::channel();
    state
        .tasks
        .spawn(work_on(state.clone(), taken, seq, Some(tx)));
    Ok(
        match tokio::time::timeout(*state.config.limits.webhook_answer, &mut rx).await {
            Ok(Ok(answer)) => answer,
            // The site is stopping: applied at the next start.
            Ok(Err(_)) => outcome("accepted"),
            Err(_) => {
                // Closed first, so an outcome sent just now is still
                // read, and one sent later is not sent to nobody.
                rx.close();
                rx.try_recv().unwrap_or_else(|_| outcome("accepted"))
            }
        },
    )
}

/// The longest pause between tries of a delivery the store cannot take.
const RETRY_AT_MOST: std::time::Duration = std::time::Duration::from_secs(60);

/// Settles a delivery taken into the inbox, and marks it done there.
/// While its answer is awaited (`waiting`), a store failure is answered
/// 503, as before the inbox, and Shopify sends it again; once answered
/// `accepted`, the delivery is ours, and it is tried again here, with
/// pauses growing to [`RETRY_AT_MOST`], until the store takes it.
async fn work_on(
    state: AppState,
    taken: Taken,
    seq: u64,
    mut waiting: Option<oneshot::Sender<(Response, &'static str)>>,
) {
    let d = Delivery {
        shop: &taken.shop,
        topic: &taken.topic,
        body: taken.body.as_bytes(),
        triggered_at: taken.triggered_at,
    };
    let event_id = taken.event_id.as_deref();
    let mut pause = std::time::Duration::from_secs(1);
    loop {
        let result = settle(&state, &d, event_id).await;
        let failed = result.is_err();
        if !failed && let Some(id) = event_id {
            state
                .seen_deliveries
                .remember(d.shop, d.topic, id, Utc::now());
        }
        if failed {
            if let Some(tx) = waiting.take().filter(|tx| !tx.is_closed()) {
                if let Some(id) = event_id {
                    state.seen_deliveries.release(d.shop, d.topic, id).await;
                }
                if tx.send(answer(&d, result)).is_ok() {
                    done(&state, seq).await;
                    return;
                }
            } else if let Err(e) = result {
                tracing::warn!(shop = %d.shop, topic = d.topic, error = %crate::errors::chain(&e), retry_in = ?pause, "a webhook taken into the inbox cannot be applied yet");
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(RETRY_AT_MOST);
            continue;
        }
        done(&state, seq).await;
        let answered = answer(&d, result);
        if let Some(tx) = waiting {
            let _ = tx.send(answered);
        }
        return;
    }
}

async fn done(state: &AppState, seq: u64) {
    let inbox = std::sync::Arc::clone(&state.webhook_inbox);
    let marked = tokio::task::spawn_blocking(move || inbox.done(seq)).await;
    if let Ok(Err(e)) | Err(e) = marked.map_err(std::io::Error::other) {
        tracing::warn!(error = %crate::errors::chain(&e), "cannot mark a webhook done in the inbox; it is applied again (harmlessly) at the next start");
    }
}

/// How many deliveries left by the last run are applied at once: as
/// deliveries arriving together, so the store's writer commits them in
/// groups.
const REPLAY_AT_ONCE: usize = 64;

/// Applies the deliveries left in the inbox by the last run, started in
/// the order they were taken (started by `App::build`).
pub async fn apply_taken(state: AppState, taken: Vec<(u64, Taken)>) {
    use futures_util::StreamExt as _;
    if taken.is_empty() {
        return;
    }
    tracing::info!(
        deliveries = taken.len(),
        "applying the webhooks taken before the last stop"
    );
    futures_util::stream::iter(taken)
        .for_each_concurrent(REPLAY_AT_ONCE, |(seq, t)| {
            work_on(state.clone(), t, seq, None)
        })
        .await;
}

async fn apply(
    state: &AppState,
    d: &Delivery<'_>,
    event_id: Option<&str>,
    plan: Plan,
) -> Result<&'static str, StoreError> {
    match plan {
        Plan::Apply(change) => apply_change(state, d, event_id, *change).await,
        Plan::NewOrder(change, order_id) => {
            // The body does not prove its shop: where the API is there,
            // the order is what that shop's Shopify says it is.
            if refetch(state, d.shop, order_id) {
                Ok("refetching")
            } else {
                apply_change(state, d, event_id, *change).await
            }
        }
        Plan::ApplyAndRefetch(change, order_id) => {
            let outcome = apply_change(state, d, event_id, *change).await?;
            refetch(state, d.shop, order_id);
            Ok(outcome)
        }
        Plan::DeleteOrder(order_id) => {
            if let Some(api) = state.shopify.get(d.shop) {
                match sync::order_exists(api, order_id).await {
                    Ok(false) => {}
                    Ok(true) => {
                        return dead_letter(
                            state,
                            d,
                            event_id,
                            "Shopify still has this order; the delivery is not its deletion",
                        );
                    }
                    Err(e) => {
                        return Err(StoreError::Write(crate::store::context(
                            "cannot confirm the deletion with Shopify",
                            e,
                        )));
                    }
                }
            }
            delete_orders(state, vec![order_key(d.shop, order_id)]).await
        }
        Plan::Delete(keys) => delete_orders(state, keys).await,
        Plan::DeleteShop => {
            if state.mail.transport().dir().is_some() {
                // A whole shop's orders: read off the async threads.
                let (store, mail, shop) =
                    (state.store.clone(), state.mail.clone(), d.shop.to_string());
                let files = tokio::task::spawn_blocking(move || {
                    let mut files = Vec::new();
                    store
                        .for_each_order(|o| {
                            if o.shop == shop {
                                files.extend(mail.files_of(&o));
                            }
                            Ok(())
                        })
                        .map(|_| files)
                })
                .await
                .map_err(|e| crate::store::StoreError::Read(e.into()))??;
                remove_files(files).await;
            }
            state.store.delete_shop(d.shop).await?;
            Ok("deleted")
        }
        Plan::Refetch(order_id) => Ok(if refetch(state, d.shop, order_id) {
            "refetching"
        } else {
            // Without credentials, the `orders/updated` that Shopify sends
            // with every edit carries the new order.
            "ignored"
        }),
        Plan::Ignore => Ok("ignored"),
    }
}

async fn apply_change(
    state: &AppState,
    d: &Delivery<'_>,
    event_id: Option<&str>,
    change: Change,
) -> Result<&'static str, StoreError> {
    let key = change.key();
    let r = state.store.apply(vec![change]).await?;
    Ok(if r.applied > 0 {
        // The change may have queued a status email: send it now rather
        // than at the sender's next look.
        state.mail.wake();
        "applied"
    } else if r.stale > 0 {
        "stale"
    } else if r.unknown > 0 {
        // A part of an order we do not have yet: read the whole order
        // from Shopify, or keep the delivery for later.
        let id = key.rsplit('/').next().and_then(|s| s.parse().ok());
        match id {
            Some(id) if refetch(state, d.shop, id) => "refetching",
            _ => dead_letter(
                state,
                d,
                event_id,
                "the order is not in the store and there are no API credentials to fetch it",
            )?,
        }
    } else {
        "unchanged"
    })
}

/// Erases orders, with the file transport's copies of their emails.
async fn delete_orders(state: &AppState, keys: Vec<String>) -> Result<&'static str, StoreError> {
    let mut files = Vec::new();
    for key in &keys {
        if let Some(order) = state.store.get(key)? {
            files.extend(state.mail.files_of(&order));
        }
    }
    remove_files(files).await;
    state.store.delete(keys).await?;
    Ok("deleted")
}

/// `POST /webhooks/shopify/fulfillment-service/fulfillment_order_notification`:
/// Shopify tells the app, as the shop's fulfillment service, that a
/// merchant asked it to ship something or to cancel what it accepted.
/// The body is `{"kind": "FULFILLMENT_REQUEST"}` or
/// `{"kind": "CANCELLATION_REQUEST"}`, signed like a webhook with the
/// app's secret. It names no order: the site asks Shopify which
/// fulfillment orders wait with that request and reads each one's order
/// again, so the staff console's requests and the order pages show it.
/// Answered at once; the reading goes on in the background.
pub async fn fulfillment_service(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let signature = text("x-shopify-hmac-sha256").unwrap_or("");
    let shop = text("x-shopify-shop-domain").and_then(|d| state.config.shopify_shop(d));
    let signed = match shop {
        Some(shop) => verify_webhook(shop, &body, signature),
        None => {
            let _ = signed_by(
                std::iter::once(&b"not-a-configured-shop"[..]),
                &body,
                signature,
            );
            false
        }
    };
    let Some(shop) = shop.filter(|s| signed && s.fulfillment_service.is_some()) else {
        tracing::warn!(
            "fulfillment service notification refused: bad signature, or no fulfillment service configured for the shop"
        );
        return json(
            StatusCode::UNAUTHORIZED,
            serde_json::json!({ "error": "bad signature" }),
        );
    };
    let kind = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string));
    let status = match kind.as_deref() {
        Some("FULFILLMENT_REQUEST") => FulfillmentRequests::Submitted,
        Some("CANCELLATION_REQUEST") => FulfillmentRequests::CancellationRequested,
        _ => {
            tracing::warn!(shop = %shop.domain, "fulfillment service notification of an unknown kind; ignored");
            return json(StatusCode::OK, serde_json::json!({ "outcome": "ignored" }));
        }
    };
    let Some(api) = state.shopify.get(&shop.domain).cloned() else {
        return json(StatusCode::OK, serde_json::json!({ "outcome": "ignored" }));
    };
    let store = state.store.clone();
    state.tasks.spawn(async move {
        match crate::actions::write_back::requests(&api, status).await {
            Ok(list) => {
                for r in list {
                    if let Err(e) =
                        crate::actions::write_back::read_back(&api, &store, r.order_id).await
                    {
                        tracing::warn!(shop = %api.domain(), error = %crate::errors::chain(&e), "reading a requested order failed; the next sync brings it");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(shop = %api.domain(), error = %crate::errors::chain(&e), "listing the fulfillment requests failed; staff see them on the requests page")
            }
        }
    });
    tracing::info!(shop = %shop.domain, kind = ?status, "fulfillment service notification");
    json(StatusCode::OK, serde_json::json!({ "outcome": "noted" }))
}

/// Reads an order again in the background; false without API access.
fn refetch(state: &AppState, shop: &str, order_id: u64) -> bool {
    let Some(api) = state.shopify.get(shop).cloned() else {
        return false;
    };
    let store = state.store.clone();
    state.tasks.spawn(async move {
        let gid = format!("gid://shopify/Order/{order_id}");
        if let Err(e) = sync::refetch(&store, &api, &gid).await {
            tracing::warn!(shop = %api.domain(), error = %crate::errors::chain(&e), "reading an order again after a webhook failed; the next sync brings it");
        }
    });
    true
}

/// Keeps a delivery that cannot be applied. Only a failure to keep it is
/// an error (then Shopify must retry: 503).
fn dead_letter(
    state: &AppState,
    d: &Delivery<'_>,
    event_id: Option<&str>,
    reason: &str,
) -> Result<&'static str, StoreError> {
    let letter = DeadLetter {
        shop: d.shop.to_string(),
        topic: d.topic.to_string(),
        event_id: event_id.map(str::to_string),
        triggered_at: d.triggered_at,
        received_at: Utc::now(),
        reason: reason.to_string(),
        body: String::from_utf8_lossy(d.body).into_owned(),
    };
    match state.dead_letters.keep(&letter) {
        Ok(path) => {
            tracing::warn!(
                shop = d.shop,
                topic = d.topic,
                event_id,
                reason,
                file = %path.display(),
                "webhook kept as a dead letter (replay with `order-status webhooks replay`)"
            );
            Ok("dead_letter")
        }
        Err(e) => Err(StoreError::Write(crate::store::context(
            "cannot keep a dead letter",
            e,
        ))),
    }
}

/// Erases the file transport's copies of messages to erased orders (the
/// demo's, or a site without SMTP), before the orders go: once they are
/// gone nothing names their files. A file that cannot be removed is
/// logged.
async fn remove_files(files: Vec<std::path::PathBuf>) {
    if files.is_empty() {
        return;
    }
    let _ = tokio::task::spawn_blocking(move || {
        for f in files {
            match std::fs::remove_file(&f) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(file = %f.display(), error = %crate::errors::chain(&e), "cannot erase a sent email")
                }
            }
        }
    })
    .await;
}
