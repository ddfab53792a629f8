//! The shopper's side: the lookup form (`/`, `/embed`), the status page a
//! link opens (`/status/{token}`), "Email me my link" (`/link`) and the
//! unsubscribe page, and the stylesheets. Form posts here spend the
//! lookup budget per client (`[limits] lookup`) and take small bodies.

mod email;
mod lookup;
mod status;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use email::AddressBudget;

use super::{AppState, Limiters, MAX_BODY_BYTES, MAX_FORM_BYTES, assets, protect};

/// The shopper's routes.
pub fn router(limits: &Limiters) -> Router<AppState> {
    // The posts: the lookup budget and a small body; the pages: the
    // site-wide page budget only.
    let posts = Router::new()
        .route("/", post(lookup::submit))
        .route("/link", post(email::link_submit))
        .route("/unsubscribe/{token}", post(email::unsubscribe))
        .route_layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .route_layer(protect::layer(&limits.lookup));
    Router::new()
        .route("/", get(lookup::page))
        .route("/embed", get(lookup::embed))
        .route("/link", get(email::link_page))
        .route("/unsubscribe/{token}", get(email::unsubscribe_page))
        .route("/status/{token}", get(status::page))
        .route("/style/main.css", get(assets::stylesheet))
        .route("/style/theme.css", get(assets::theme))
        .merge(posts)
        .layer(axum::middleware::from_fn_with_state(
            MAX_BODY_BYTES,
            crate::web::limit_body,
        ))
}
