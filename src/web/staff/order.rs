//! `/staff/orders/{shop}/{id}`: one order's page, and its two actions:
//! share a fresh link with the customer, revoke every link issued so far.
//! An action answers with the order page showing what it did.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::StaffSession;
use crate::links::LinkClaims;
use crate::order::order_key;
use crate::shopper::ShopperView;
use crate::staff::Role;
use crate::ui::staff::{AuditLine, OrderAction, OrderTools, ShipmentRef, ShopifyTools};
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
) -> Result<Response, WebError> {
    render(&state, &visitor, staff, &shop, id, None).await
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
        .map(|e| AuditLine {
            at: e.at,
            by: e.by,
            action: e.action,
            detail: e.detail,
        })
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
    let tools = OrderTools {
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
    };
    render(&state, &visitor, staff, &shop, id, Some(action)).await
}

/// `POST /staff/orders/{shop}/{id}/revoke`: every link issued so far stops
/// working.
pub async fn revoke(
    State(state): State<AppState>,
    visitor: Visitor,
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
    render(
        &state,
        &visitor,
        staff,
        &shop,
        id,
        Some(OrderAction::Revoked),
    )
    .await
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
