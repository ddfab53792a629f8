//! `GET /status/{token}`: the status page of the order a signed link
//! opens. An invalid link (malformed, tampered with, expired, revoked, or
//! for an order that is gone) gets the lookup form with one message, 404;
//! a store that cannot be read gets the retry page, 503.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;

use crate::shopper::ShopperView;
use crate::web::error::WebError;
use crate::web::extract::LinkToken;
use crate::web::render::{Visitor, html};
use crate::web::{AppState, open_status_link};

/// `GET /status/{token}`.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
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
    let mut view = ShopperView::of(&order, now, *state.config.shop.timezone);
    view.keep_images_from(&state.config.shop.image_origin_list());
    let link = format!("{}/status/{}", visitor.base_url, token);
    Ok(html(&state, &visitor, StatusCode::OK, move || {
        crate::ui::status_page(view, link, claims.expires)
    })
    .await)
}
