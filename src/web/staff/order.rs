//! `/staff/orders/{shop}/{id}`: one order's page, and its two actions:
//! share a fresh link with the customer, revoke every link issued so far.
//! A successful action answers 303 to the order page, which shows what it
//! did (see `flash`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::StaffSession;
use super::flash::{Flash, Flashed, redirect};
use crate::links::LinkClaims;
use crate::order::order_key;
use crate::shopper::ShopperView;
use crate::staff::Role;
use crate::ui::staff::{AuditLine, OrderAction, OrderTools, ShipmentRef, ShopifyTools, order_href};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::extract::WebForm;
use crate::web::extract::{OrderRef, WebPath};
use crate::web::render::{Visitor, html};

/// Longest a shared link may be valid.
pub const MAX_SHARE_DAYS: i64 = 365;
/// A shared link's validity when the form does not say.
const DEFAULT_SHARE_DAYS: i64 = 30;

/// `GET /staff/orders/{shop}/{id}`.
pub async fn order_page(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebPath(OrderRef { shop, id }): WebPath<OrderRef>,
    Flashed(flash): Flashed,
) -> Result<Response, WebError> {
    let action = flash.and_then(Flash::order_action);
    render(&state, &visitor, staff, &shop, id, action).await
}

/// The order's key, when the order exists.
fn existing(state: &AppState, shop: &str, id: u64) -> Result<String, WebError> {
    let key = order_key(shop, id);
    match state.store.get(&key)? {
        Some(_) => Ok(key),
        None => Err(WebError::NotFound),
    }
}

/// The order page, with what an action did.
pub(super) async fn render(
    state: &AppState,
    visitor: &Visitor,
    staff: StaffSession,
    shop: &str,
    id: u64,
    action: Option<OrderAction>,
) -> Result<Response, WebError> {
    let Some(order) = state.store.get(&order_key(shop, id))? else {
        return Ok(html(state, visitor, StatusCode::NOT_FOUND, || {
            crate::ui::staff::order_not_found_page(staff.name)
        })
        .await);
    };
    let mut shopper = ShopperView::of(&order, Utc::now(), *state.config.shop.timezone);
    shopper.keep_images_from(&state.config.shop.image_origin_list());
    let address_opted_out = state.optouts.contains(&order.email);
    let audit = state
        .audit
        .for_order(&order.key(), AUDIT_LINES)
        .await
        .into_iter()
        .map(audit_line)
        .collect();
    let shopify = ShopifyTools {
        enabled: super::fulfillment::fulfillment_api(state, shop).is_some(),
        shipments: order
            .fulfillments
            .iter()
            .filter(|f| f.display_status() != crate::order::FulfillmentDisplayStatus::Canceled)
            .map(|f| ShipmentRef {
                id: f.id,
                name: f.name.clone().unwrap_or_else(|| f.id.to_string()),
            })
            .collect(),
        scan_statuses: crate::actions::write_back::SCAN_STATUSES
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    let customer = order
        .customer_locale
        .as_deref()
        .and_then(crate::i18n::Lang::negotiate)
        .unwrap_or(state.config.shop.language);
    let now = Utc::now();
    let problems = crate::order::problems::problems(&order, now, &state.config.merchant.problems)
        .into_iter()
        .map(|(k, since)| (k.as_str().to_string(), since))
        .collect();
    let tools = OrderTools {
        customer,
        problems,
        me: staff.name.clone(),
        now,
        statuses: super::tools::status_choices(state, &visitor.i18n(state)),
        can_change: staff.role >= Role::Agent,
        audit,
        shopify,
    };
    Ok(html(state, visitor, StatusCode::OK, move || {
        crate::ui::staff::order_page(staff.name, order, shopper, action, address_opted_out, tools)
    })
    .await)
}

/// An audit entry for the page: its detail (written by this layer's
/// handlers and `actions`, in the formats below) taken apart into what the
/// page's sentence names.
fn audit_line(e: crate::actions::AuditEntry) -> AuditLine {
    let mut args = Vec::new();
    let mut note = None;
    let d = e.detail.as_str();
    let mut arg = |k: &str, v: &str| args.push((k.to_string(), v.trim().to_string()));
    match e.action.as_str() {
        // "qc (note: …)", "(note: …)" for a clear with a note.
        "status.set" | "status.clear" => {
            let (status, n) = match d.split_once("(note: ") {
                Some((s, n)) => (s, Some(n.strip_suffix(')').unwrap_or(n))),
                None => (d, None),
            };
            arg("status", status);
            note = n.map(str::to_string);
        }
        // "7 days"
        "link.share" => arg("days", d.split(' ').next().unwrap_or("")),
        // "2 units, PostNord RR123"
        "shopify.ship" => {
            let (units, tracking) = d.split_once(" units, ").unwrap_or(("", d));
            arg("units", units);
            arg("tracking", tracking);
        }
        // "shipment 12: PostNord RR123", "shipment 12: IN_TRANSIT"
        "shopify.tracking" => arg("tracking", d.split_once(": ").map_or(d, |(_, t)| t)),
        "shopify.scan" => arg("status", d.split_once(": ").map_or(d, |(_, t)| t)),
        // "until 2026-12-08T00:00:00+00:00"
        "problem.snooze" => arg("until", d.strip_prefix("until ").unwrap_or(d)),
        // "on_hold", "on_hold: called the warehouse"
        "problem.handled" => {
            let (kind, n) = match d.split_once(": ") {
                Some((k, n)) => (k, Some(n)),
                None => (d, None),
            };
            arg("problem", kind);
            note = n.map(str::to_string);
        }
        _ => {}
    }
    AuditLine {
        at: e.at,
        by: e.by,
        action: e.action,
        args,
        note,
    }
}

/// Audit lines shown on an order's page (the newest).
const AUDIT_LINES: usize = 50;

/// The share form.
#[derive(Debug, Default, Deserialize)]
pub struct ShareInput {
    #[serde(default)]
    days: String,
}

/// `POST /staff/orders/{shop}/{id}/share`: a fresh link for the customer.
pub async fn share(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebPath(OrderRef { shop, id }): WebPath<OrderRef>,
    WebForm(input): WebForm<ShareInput>,
) -> Result<Response, WebError> {
    let key = existing(&state, &shop, id)?;
    let days = input
        .days
        .trim()
        .parse::<i64>()
        .unwrap_or(DEFAULT_SHARE_DAYS)
        .clamp(1, MAX_SHARE_DAYS);
    let expires = Utc::now() + Duration::days(days);
    let claims = LinkClaims {
        shop: shop.clone(),
        order_id: id,
        expires,
        epoch: state.epochs.get(&key),
    };
    let token = state.links.sign(&claims);
    tracing::info!(staff = %staff.name, days, "status link shared");
    audit(&state, &staff, "link.share", &key, format!("{days} days")).await;
    state.metrics.links_shared.inc();
    let action = OrderAction::Shared {
        link: format!("{}/status/{token}", visitor.base_url),
        expires,
        days: u32::try_from(days).unwrap_or(30),
    };
    Ok(back_to_order(&state, &shop, id, action))
}

/// 303 to the order's page, which will show what `action` did.
pub(super) fn back_to_order(
    state: &AppState,
    shop: &str,
    id: u64,
    action: OrderAction,
) -> Response {
    redirect(state, &order_href(shop, id), &Flash::Order(action))
}

/// `POST /staff/orders/{shop}/{id}/revoke`: every link issued so far stops
/// working.
pub async fn revoke(
    State(state): State<AppState>,
    staff: StaffSession,
    WebPath(OrderRef { shop, id }): WebPath<OrderRef>,
) -> Result<Response, WebError> {
    let key = existing(&state, &shop, id)?;
    state
        .epochs
        .bump(&key)
        .await
        .map_err(|e| WebError::unavailable("revoking links", e))?;
    tracing::info!(staff = %staff.name, "status links revoked");
    audit(&state, &staff, "link.revoke", &key, String::new()).await;
    Ok(back_to_order(&state, &shop, id, OrderAction::Revoked))
}

/// Records a staff action on an order in the audit log. The action is
/// done by now; a log that cannot be written is logged loudly rather than
/// undoing it.
pub(super) async fn audit(
    state: &AppState,
    staff: &StaffSession,
    action: &str,
    key: &str,
    detail: String,
) {
    let entry = crate::actions::AuditEntry::new(&staff.actor(), action, Some(key), detail);
    if let Err(e) = state.audit.append(vec![entry]).await {
        tracing::error!(error = %crate::errors::chain(&e), action, "cannot write the audit log");
    }
}
