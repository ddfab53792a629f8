//! Rendering a Leptos page into one complete HTML response.
//!
//! Pages are rendered in order to a single string: with no WASM there is
//! nothing to hydrate, so the hydration scripts Leptos would append (inline
//! `<script>`s that a strict CSP blocks) are dropped, and the response gets
//! a `Content-Length` instead of chunked streaming. Every page response,
//! GET, POST re-render or 404, goes through [`render_page`].

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream::once;
use leptos::prelude::*;
use leptos_axum::handle_response_inner;
use leptos_integration_utils::{BoxedFnOnce, PinnedFuture, PinnedStream};

use super::AppState;
use crate::ui::shell;

/// Renders the app for `req` (routing on its path), with `extra` context.
pub async fn render_page(
    state: AppState,
    req: Request,
    extra: impl Fn() + Clone + Send + 'static,
) -> Response {
    let options = state.leptos_options.clone();
    let context = move || {
        provide_context(state.clone());
        extra();
    };
    let res = handle_response_inner(context, move || shell(options), req, html_only).await;
    let (mut parts, body) = res.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            parts.headers.remove(header::TRANSFER_ENCODING);
            parts
                .headers
                .insert(header::CONTENT_LENGTH, bytes.len().into());
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => {
            tracing::error!(error = %e, "page rendering failed");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `GET` of any Leptos route.
pub async fn page(State(state): State<AppState>, req: Request) -> Response {
    render_page(state, req, || {}).await
}

fn html_only<IV>(
    app: IV,
    _hydration_chunks: BoxedFnOnce<PinnedStream<String>>,
    _supports_out_of_order: bool,
) -> PinnedFuture<PinnedStream<String>>
where
    IV: IntoView + 'static,
{
    Box::pin(async move {
        let html = app.to_html_stream_in_order().collect::<String>().await;
        Box::pin(once(async move { html })) as PinnedStream<String>
    })
}
