//! The HTTP side: `AppState`, the axum router, and serving.
//!
//! One [`AppState`] is built at start-up and handed both to
//! `leptos_routes_with_context` (so pages get it as context) and to the
//! plain axum handlers. Pages are Leptos routes; everything that is not a
//! page (the stylesheet, static files, later webhooks and the JSON API)
//! is an axum handler here.

mod assets;
mod render;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::FromRef;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use thiserror::Error;
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::config::Config;
use crate::store::Store;
use crate::ui::App;

pub use assets::Assets;
pub use render::render_page;

/// Everything a request handler may need; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub config: Arc<Config>,
    pub assets: Arc<Assets>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Why the server could not run.
#[derive(Debug, Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

impl AppState {
    /// The state for `config` over `store`.
    pub fn new(config: Config, store: Store) -> AppState {
        // site_root is where leptos_axum serves static files from: our
        // public/ dir, never the default "." (that would serve the source).
        let leptos_options = LeptosOptions::builder()
            .output_name("order-status")
            .site_root(config.public_dir.to_string_lossy().to_string())
            .site_addr(config.addr)
            .build();
        AppState {
            leptos_options,
            store,
            config: Arc::new(config),
            assets: Arc::new(Assets::new()),
        }
    }
}

/// The whole site.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    Router::new()
        .route("/style/main.css", get(assets::stylesheet))
        .leptos_routes_with_handler(routes, get(render::page))
        .fallback(static_or_not_found)
        .with_state(state)
}

/// Files from `public/` at the site root; anything else is the 404 page.
async fn static_or_not_found(State(state): State<AppState>, req: Request) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        let (parts, body) = req.into_parts();
        let probe = Request::from_parts(parts.clone(), Body::empty());
        let files = ServeDir::new(&state.config.public_dir);
        match files.oneshot(probe).await {
            Ok(res) if res.status() != StatusCode::NOT_FOUND => return res.into_response(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "static file error"),
        }
        return render_page(state, Request::from_parts(parts, body), || {}).await;
    }
    StatusCode::NOT_FOUND.into_response()
}

/// Listens on `listener` and serves until the process is stopped.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> Result<(), ServeError> {
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
