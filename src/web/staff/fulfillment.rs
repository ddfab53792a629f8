//! Staff actions that write to Shopify (shops with write-back on, agents
//! and admins): mark as shipped, a shipment's tracking and carrier scans,
//! and the fulfillment-request queue. Each answers with the page showing
//! what Shopify said: its `userErrors` in its words, or the order as read
//! back from Shopify after the change. Every action is in the audit log.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;

use super::StaffSession;
use super::flash::{Flash, Flashed, redirect};
use super::order::{audit, render};
use crate::actions::write_back::{
    self as write, FulfillmentRequests, REJECTION_REASONS, SCAN_STATUSES, Scan, Tracking,
    WriteError,
};
use crate::order::order_key;
use crate::shopify::client::ShopApi;
use crate::ui::staff::{OrderAction, RequestRow, ShipGroup, order_href};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::extract::WebForm;
use crate::web::extract::{OrderRef, ShipmentRef, WebPath};
use crate::web::render::{Visitor, html};

/// The API client of `shop`, if write-back is on for it.
pub fn write_back_api(state: &AppState, shop: &str) -> Option<Arc<ShopApi>> {
    state
        .shopify
        .get(shop)
        .filter(|a| a.shop().write_back)
        .cloned()
}

/// The client of a shop whose fulfillment work staff may do here: with
/// write-back on, or as the shop's fulfillment service (which answers
/// requests and ships what it accepted whether or not statuses are
/// written back).
pub fn fulfillment_api(state: &AppState, shop: &str) -> Option<Arc<ShopApi>> {
    state
        .shopify
        .get(shop)
        .filter(|a| a.shop().write_back || a.shop().fulfillment_service.is_some())
        .cloned()
}

/// The status code for a refused write: Shopify's `userErrors` are the
/// input's fault (422); anything else is Shopify's (502).
pub fn refusal_status(e: &WriteError) -> StatusCode {
    match e {
        WriteError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::BAD_GATEWAY,
    }
}

/// Trimmed, and `None` when blank.
fn given(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The order page after a Shopify action: what it did, or why not.
async fn outcome(
    state: &AppState,
    visitor: &Visitor,
    staff: StaffSession,
    (shop, id): (&str, u64),
    result: Result<(), WriteError>,
    done: &'static str,
    what: (&str, String),
) -> Result<Response, WebError> {
    match result {
        Ok(()) => {
            audit(state, &staff, what.0, &order_key(shop, id), what.1).await;
            Ok(super::order::back_to_order(
                state,
                shop,
                id,
                OrderAction::ShopifyDone(done.into()),
            ))
        }
        Err(e) => {
            tracing::info!(error = %crate::errors::chain(&e), action = what.0, "Shopify refused a staff action");
            let code = refusal_status(&e);
            let mut res = render(
                state,
                visitor,
                staff,
                shop,
                id,
                Some(OrderAction::ShopifyRefused(e.to_string())),
            )
            .await?;
            *res.status_mut() = code;
            Ok(res)
        }
    }
}

/// The API of an order's shop, or 404 when write-back is off (the route
/// group lets agents only).
fn api_for(state: &AppState, shop: &str, id: u64) -> Result<Arc<ShopApi>, WebError> {
    if state.store.get(&order_key(shop, id))?.is_none() {
        return Err(WebError::NotFound);
    }
    fulfillment_api(state, shop).ok_or(WebError::NotFound)
}

/// `GET /staff/orders/{shop}/{id}/ship`: what can ship, read live.
pub async fn ship_form(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebPath(OrderRef { shop, id }): WebPath<OrderRef>,
) -> Result<Response, WebError> {
    let api = api_for(&state, &shop, id)?;
    let order = state
        .store
        .get(&order_key(&shop, id))?
        .ok_or(WebError::NotFound)?;
    let (groups, error) = match write::shippable(&api, id).await {
        Ok(list) => (
            list.into_iter()
                .map(|s| ShipGroup {
                    id: s.id,
                    location: s.location,
                    lines: s
                        .lines
                        .into_iter()
                        .map(|l| (l.id, l.title, l.remaining))
                        .collect(),
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let base = order_href(&shop, id);
    Ok(html(&state, &visitor, StatusCode::OK, move || {
        crate::ui::staff::ship_page(staff.name, order.name, base, groups, error)
    })
    .await)
}

/// `POST /staff/orders/{shop}/{id}/ship`: `fulfillment_order`,
/// `qty:<line gid>` per line, `company`, `number`, `url`, `notify`.
pub async fn ship(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebPath(OrderRef { shop, id }): WebPath<OrderRef>,
    WebForm(form): WebForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let api = api_for(&state, &shop, id)?;
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut lines = Vec::new();
    for (name, value) in &form {
        let Some(line) = name.strip_prefix("qty:") else {
            continue;
        };
        let Ok(q) = value.trim().parse::<u32>() else {
            return Err(WebError::bad_request(
                StatusCode::UNPROCESSABLE_ENTITY,
                "error.quantity_whole",
            ));
        };
        if q > 0 {
            lines.push((line.to_string(), q));
        }
    }
    let fulfillment_order = get("fulfillment_order");
    if lines.is_empty() || fulfillment_order.trim().is_empty() {
        return Err(WebError::bad_request(
            StatusCode::UNPROCESSABLE_ENTITY,
            "error.items_to_ship",
        ));
    }
    let tracking = Tracking {
        company: given(&get("company")),
        number: given(&get("number")),
        url: given(&get("url")),
    };
    let detail = format!(
        "{} units, {} {}",
        lines.iter().map(|(_, q)| q).sum::<u32>(),
        tracking.company.clone().unwrap_or_default(),
        tracking.number.clone().unwrap_or_default()
    );
    let result = write::ship(
        &api,
        &state.store,
        id,
        fulfillment_order.trim(),
        &lines,
        &tracking,
        get("notify") == "yes",
    )
    .await;
    state.mail.wake();
    outcome(
        &state,
        &visitor,
        staff,
        (&shop, id),
        result,
        "shop_actions.shipped",
        ("shopify.ship", detail),
    )
    .await
}

/// The tracking form.
#[derive(Debug, Default, Deserialize)]
pub struct TrackingInput {
    #[serde(default)]
    company: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    notify: String,
}

/// `POST /staff/orders/{shop}/{id}/shipments/{fid}/tracking`.
pub async fn tracking(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebPath(ShipmentRef { shop, id, fid }): WebPath<ShipmentRef>,
    WebForm(input): WebForm<TrackingInput>,
) -> Result<Response, WebError> {
    let api = api_for(&state, &shop, id)?;
    let tracking = Tracking {
        company: given(&input.company),
        number: given(&input.number),
        url: given(&input.url),
    };
    if tracking.number.is_none() && tracking.url.is_none() {
        return Err(WebError::bad_request(
            StatusCode::UNPROCESSABLE_ENTITY,
            "error.tracking_needed",
        ));
    }
    let detail = format!(
        "shipment {fid}: {} {}",
        tracking.company.clone().unwrap_or_default(),
        tracking.number.clone().unwrap_or_default()
    );
    let result = write::update_tracking(
        &api,
        &state.store,
        id,
        fid,
        &tracking,
        input.notify == "yes",
    )
    .await;
    outcome(
        &state,
        &visitor,
        staff,
        (&shop, id),
        result,
        "shop_actions.tracking_saved",
        ("shopify.tracking", detail),
    )
    .await
}

/// The scan form.
#[derive(Debug, Default, Deserialize)]
pub struct ScanInput {
    #[serde(default)]
    status: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    country: String,
}

/// `POST /staff/orders/{shop}/{id}/shipments/{fid}/scan`.
pub async fn scan(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebPath(ShipmentRef { shop, id, fid }): WebPath<ShipmentRef>,
    WebForm(input): WebForm<ScanInput>,
) -> Result<Response, WebError> {
    let api = api_for(&state, &shop, id)?;
    let status = input.status.trim().to_string();
    if !SCAN_STATUSES.contains(&status.as_str()) {
        return Err(WebError::bad_request(
            StatusCode::UNPROCESSABLE_ENTITY,
            "error.carrier_status",
        ));
    }
    let scan = Scan {
        status: status.clone(),
        happened_at: Utc::now(),
        message: given(&input.message),
        city: given(&input.city),
        country: given(&input.country),
    };
    let result = write::add_scan(&api, &state.store, id, fid, &scan).await;
    state.mail.wake();
    outcome(
        &state,
        &visitor,
        staff,
        (&shop, id),
        result,
        "shop_actions.scan_added",
        ("shopify.scan", format!("shipment {fid}: {status}")),
    )
    .await
}

/// The request queue, with what an action did.
async fn requests_page(
    state: &AppState,
    visitor: &Visitor,
    staff: StaffSession,
    notice: Option<(String, bool)>,
    code: StatusCode,
) -> Result<Response, WebError> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let shops = state
        .shopify
        .all()
        .filter(|a| a.shop().write_back || a.shop().fulfillment_service.is_some());
    for api in shops {
        for kind in [
            FulfillmentRequests::CancellationRequested,
            FulfillmentRequests::Submitted,
        ] {
            match write::requests(api, kind).await {
                Ok(list) => rows.extend(list.into_iter().map(|r| RequestRow {
                    shop: api.domain().to_string(),
                    order_href: order_href(api.domain(), r.order_id),
                    fulfillment_order: r.id,
                    order_id: r.order_id,
                    order_name: r.order_name,
                    location: r.location,
                    lines: r.lines,
                    cancellation: kind == FulfillmentRequests::CancellationRequested,
                })),
                Err(e) => problems.push(e.to_string()),
            }
        }
    }
    let reasons = REJECTION_REASONS.iter().map(|r| r.to_string()).collect();
    Ok(html(state, visitor, code, move || {
        crate::ui::staff::requests_page(staff.name, rows, notice, problems, reasons)
    })
    .await)
}

/// `GET /staff/requests`.
pub async fn requests(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    Flashed(flash): Flashed,
) -> Result<Response, WebError> {
    let notice = flash.and_then(Flash::notice);
    requests_page(&state, &visitor, staff, notice, StatusCode::OK).await
}

/// The accept and reject forms.
#[derive(Debug, Default, Deserialize)]
pub struct AnswerInput {
    #[serde(default)]
    shop: String,
    #[serde(default)]
    fulfillment_order: String,
    #[serde(default)]
    order_id: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    reason: String,
}

async fn answer(
    state: AppState,
    visitor: Visitor,
    staff: StaffSession,
    input: AnswerInput,
    reject: bool,
) -> Result<Response, WebError> {
    let api = fulfillment_api(&state, input.shop.trim()).ok_or(WebError::NotFound)?;
    let reason = if reject {
        let r = input.reason.trim();
        if !REJECTION_REASONS.contains(&r) {
            return Err(WebError::bad_request(
                StatusCode::UNPROCESSABLE_ENTITY,
                "error.reject_reason",
            ));
        }
        Some(r)
    } else {
        None
    };
    let order_id = input.order_id.trim().parse::<u64>().unwrap_or(0);
    let result = write::answer_request(
        &api,
        &state.store,
        input.fulfillment_order.trim(),
        order_id,
        reason,
        given(&input.message).as_deref(),
    )
    .await;
    let i = visitor.i18n(&state);
    let (action, done) = if reject {
        ("shopify.reject", "shop_actions.rejected")
    } else {
        ("shopify.accept", "shop_actions.accepted")
    };
    match result {
        Ok(()) => {
            let key = order_key(api.domain(), order_id);
            audit(
                &state,
                &staff,
                action,
                &key,
                input.fulfillment_order.trim().to_string(),
            )
            .await;
            let notice = Flash::Notice {
                text: i.t(done),
                ok: true,
            };
            Ok(redirect(&state, "/staff/requests", &notice))
        }
        Err(e) => {
            let code = refusal_status(&e);
            let notice = Some((
                i.tf("shop_actions.refused", &[("why", &e.to_string())]),
                false,
            ));
            requests_page(&state, &visitor, staff, notice, code).await
        }
    }
}

async fn answer_cancellation(
    state: AppState,
    visitor: Visitor,
    staff: StaffSession,
    input: AnswerInput,
    accept: bool,
) -> Result<Response, WebError> {
    let api = fulfillment_api(&state, input.shop.trim()).ok_or(WebError::NotFound)?;
    let order_id = input.order_id.trim().parse::<u64>().unwrap_or(0);
    let result = write::answer_cancellation(
        &api,
        &state.store,
        input.fulfillment_order.trim(),
        order_id,
        accept,
        given(&input.message).as_deref(),
    )
    .await;
    // Accepting may cancel the order: its email goes out now.
    state.mail.wake();
    let i = visitor.i18n(&state);
    let (action, done) = if accept {
        (
            "shopify.accept_cancellation",
            "shop_actions.cancellation_accepted",
        )
    } else {
        (
            "shopify.reject_cancellation",
            "shop_actions.cancellation_rejected",
        )
    };
    match result {
        Ok(()) => {
            let key = order_key(api.domain(), order_id);
            audit(
                &state,
                &staff,
                action,
                &key,
                input.fulfillment_order.trim().to_string(),
            )
            .await;
            let notice = Flash::Notice {
                text: i.t(done),
                ok: true,
            };
            Ok(redirect(&state, "/staff/requests", &notice))
        }
        Err(e) => {
            let code = refusal_status(&e);
            let notice = Some((
                i.tf("shop_actions.refused", &[("why", &e.to_string())]),
                false,
            ));
            requests_page(&state, &visitor, staff, notice, code).await
        }
    }
}

/// `POST /staff/requests/cancellation/accept`: the service gives the work
/// back (the merchant's cancellation goes through).
pub async fn accept_cancellation(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebForm(input): WebForm<AnswerInput>,
) -> Result<Response, WebError> {
    answer_cancellation(state, visitor, staff, input, true).await
}

/// `POST /staff/requests/cancellation/reject`: the service keeps the work.
pub async fn reject_cancellation(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebForm(input): WebForm<AnswerInput>,
) -> Result<Response, WebError> {
    answer_cancellation(state, visitor, staff, input, false).await
}

/// `POST /staff/requests/accept`.
pub async fn accept(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebForm(input): WebForm<AnswerInput>,
) -> Result<Response, WebError> {
    answer(state, visitor, staff, input, false).await
}

/// `POST /staff/requests/reject`.
pub async fn reject(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebForm(input): WebForm<AnswerInput>,
) -> Result<Response, WebError> {
    answer(state, visitor, staff, input, true).await
}
