//! The HTTP side: the axum router, its handlers, and serving.
//!
//! One [`AppState`] is built at start-up ([`crate::app::App::build`]) and
//! given to every handler.
//! Handlers extract what they need ([`render::Visitor`], forms and queries
//! through [`extract`], the staff session), load data from the store, and
//! hand it to a page of `ui` as plain values, or answer JSON; failures are
//! [`error::WebError`]s, mapped to one answer each in [`error`]. The
//! protections are in [`protect`], connection handling in `server`.

mod api;
mod assets;
pub mod error;
mod extract;
mod hooks;
pub mod ops;
pub mod protect;
mod render;
mod server;
mod shop;
mod staff;

use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use error::WebError;
use thiserror::Error;
use tower::ServiceExt;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

use crate::links::{self, LinkClaims};
use crate::order::Order;

pub use crate::app::AppState;
pub use assets::Assets;
pub use hooks::apply_taken;
pub use ops::{Metrics, SyncStatus};
pub use protect::Limiters;
pub use render::{Spawner, Visitor, page_html};
pub use server::raise_open_file_limit;
pub use shop::AddressBudget;
pub use staff::{StaffSession, run_shared_bulk_jobs, spawn_bulk_job};

/// Why the server stopped with an error.
#[derive(Debug, Error)]
pub enum ServeError {
    #[error("serving")]
    Io(#[from] std::io::Error),
}

/// The order a status link opens, if the link is valid now (`Ok(None)`
/// when it is not). Why a link fails is logged at debug level (never the
/// token itself) and not told to the visitor: every failure looks the same
/// from outside. A store that cannot be read is an error, not an invalid
/// link: the visitor should try again, not be told the link is dead.
pub fn open_status_link(
    state: &AppState,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<(std::sync::Arc<Order>, LinkClaims)>, crate::store::StoreError> {
    let claims = match state.links.verify(token, now) {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(reason = %e, "status link refused");
            return Ok(None);
        }
    };
    let key = claims.order_key();
    if let Err(e) = links::check_epoch(&claims, state.epochs.get(&key)) {
        tracing::debug!(reason = %e, "status link refused");
        return Ok(None);
    }
    match state.store.get_shared(&key) {
        Ok(Some(order)) => Ok(Some((order, claims))),
        Ok(None) => {
            tracing::debug!("status link for an order that is gone");
            Ok(None)
        }
        Err(e) => {
            tracing::error!(error = %crate::errors::chain(&e), "store read failed");
            Err(e)
        }
    }
}

/// Largest request body of every area but the webhooks.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest form body (lookup, sign-in, share): short fields need far less.
pub const MAX_FORM_BYTES: usize = 4 * 1024;
/// Longest a request may take, body included, before it gets a 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The whole site: a router per area (the shopper's pages, the staff
/// console, the JSON API, the webhooks, operations), each with its own
/// budgets and body limits, under the protections every answer gets (see
/// [`protect`]): security headers outermost (so every answer has them, 429
/// and 413 included), then the rate-limit explainer, the per-IP page
/// budget, the shared budgets, the same-origin rule for posts, the address
/// length and time limits.
pub fn router(state: AppState) -> Router {
    let limits = &state.limiters;
    Router::new()
        .merge(shop::router(limits))
        .merge(staff::router(&state))
        .merge(api::router(limits))
        .merge(hooks::router(limits))
        .merge(ops::router())
        .fallback(static_or_not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            error::error_pages,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(middleware::from_fn(limit_uri))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            protect::same_origin_posts,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            protect::shared_budgets,
        ))
        .layer(protect::layer(&limits.pages))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            protect::explain_rate_limit,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            protect::security_headers,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), ops::observe))
        // Outermost: every body worth it goes out brotli- or gzip-compressed,
        // at the fastest level (a status page is a few KB; speed matters more).
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Fastest)
                .compress_when(SizeAbove::new(512).and(NotForContentType::IMAGES)),
        )
        .with_state(state)
}

/// Longest request target (path and query) answered normally; a longer one
/// gets 414 here, with the security headers (hyper's own 414, for targets
/// past its buffer, carries none, and no body).
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// 414 for request targets over [`MAX_URI_BYTES`].
async fn limit_uri(req: Request, next: middleware::Next) -> Response {
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return (StatusCode::URI_TOO_LONG, "The address is too long.").into_response();
    }
    next.run(req).await
}

/// A limit on request bodies of `max` bytes (the middleware's state), for
/// an area's routes: 413 for a declared length over it up front; a
/// streamed body is cut off at the limit while it is read. An area adds it
/// with `middleware::from_fn_with_state(MAX, limit_body)`.
pub(crate) async fn limit_body(
    State(max): State<usize>,
    req: Request,
    next: middleware::Next,
) -> Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request body is too large.",
        )
            .into_response();
    }
    let req = req.map(|b| axum::body::Body::new(http_body_util::Limited::new(b, max)));
    next.run(req).await
}

/// Files from `public/` at the site root; anything else is the 404 page.
async fn static_or_not_found(State(state): State<AppState>, req: Request) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return WebError::NotFound.into_response();
    }
    let versioned = req.uri().query().is_some_and(|q| q.starts_with("v="));
    // No index.html and no directory redirects: `GET //.` must not
    // answer with a redirect to `//./` (another host, to a browser).
    let files = ServeDir::new(&*state.config.public_dir).append_index_html_on_directories(false);
    match files.oneshot(req).await {
        // A path the file system cannot take (a NUL byte, say) comes back
        // as ServeDir's 500: for a visitor that is just "not here".
        Ok(res) if res.status().is_server_error() => {
            tracing::debug!(status = %res.status(), "static file lookup failed; answering 404");
        }
        Ok(res) if res.status() != StatusCode::NOT_FOUND => {
            let mut res = res.into_response();
            // Versioned links (`?v=<hash>`) never change; the rest may.
            let cache = if versioned {
                "public, max-age=31536000, immutable"
            } else {
                "public, max-age=3600"
            };
            res.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static(cache),
            );
            return res;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %crate::errors::chain(&e), "static file error"),
    }
    WebError::NotFound.into_response()
}

/// `303 See Other` to `location` (never cached): where a form post leads.
pub(crate) fn see_other(location: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    let h = res.headers_mut();
    match axum::http::HeaderValue::from_str(location) {
        Ok(v) => {
            h.insert(axum::http::header::LOCATION, v);
        }
        Err(_) => {
            h.insert(
                axum::http::header::LOCATION,
                axum::http::HeaderValue::from_static("/"),
            );
        }
    }
    h.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}

/// Whether a client asks for JSON rather than a page.
pub(crate) fn wants_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

/// Listens on `listener` and serves until `shutdown` resolves; then stops
/// accepting and lets requests in flight finish (within a deadline).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    open_files: u64,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServeError> {
    let limits = server::ConnLimits::new(
        &state.config.limits,
        &state.config.trusted_proxies,
        open_files,
    );
    tracing::info!(
        connections = limits.total,
        per_client = limits.per_client,
        open_files,
        "connection limits"
    );
    server::run(listener, router(state), limits, shutdown).await?;
    Ok(())
}
