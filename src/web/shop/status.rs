//! `GET /status/{token}`: the status page of the order a signed link
//! opens. An invalid link (malformed, tampered with, expired, revoked, or
//! for an order that is gone) gets the lookup form with one message, 404;
//! a store that cannot be read gets the retry page, 503.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;

use crate::insights::Kind;
use crate::order::Order;
use crate::shopper::ShopperView;
use crate::web::error::WebError;
use crate::web::extract::LinkToken;
use crate::web::render::{Visitor, html};
use crate::web::{AppState, open_status_link};

/// `GET /status/{token}`.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    LinkToken(token): LinkToken,
) -> Result<Response, WebError> {
    let now = Utc::now();
    let Some((order, claims)) = open_status_link(&state, &token, now)? else {
        return Ok(html(
            &state,
            &visitor,
            StatusCode::NOT_FOUND,
            crate::ui::link_invalid_page,
        )
        .await);
    };
    state.metrics.status_views.inc();
    count_visit(&state, &visitor, &headers, &order).await;
    let mut view = ShopperView::of(&order, now, *state.config.shop.timezone);
    view.keep_images_from(&state.config.shop.image_origin_list());
    let link = format!("{}/status/{}", visitor.base_url, token);
    Ok(html(&state, &visitor, StatusCode::OK, move || {
        crate::ui::status_page(view, link, claims.expires)
    })
    .await)
}

/// Counts a shopper's visit for the insights page: the view, a link
/// opened from one of our emails (`?via=email`), and the order's first
/// look. Staff opening a shopper's page are not shoppers.
async fn count_visit(state: &AppState, visitor: &Visitor, headers: &HeaderMap, order: &Order) {
    if crate::web::staff::is_staff(state, headers).await {
        return;
    }
    let now = Utc::now();
    let c = &state.insights;
    c.add(&order.shop, Kind::View, now);
    let from_email = form_urlencoded::parse(visitor.uri.query().unwrap_or("").as_bytes())
        .any(|(k, v)| k == "via" && v == "email");
    if from_email {
        c.add(&order.shop, Kind::LinkOpened, now);
    }
    c.looked(
        &order.shop,
        &order.key(),
        order.created_at.or(order.processed_at),
    );
}
