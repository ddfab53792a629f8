//! The whole site in-process: an `AppState` over a fresh data dir with the
//! demo orders, and its `Router`, driven with `tower::ServiceExt::oneshot`
//! (no socket, no process): for tests that only need HTTP semantics.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use order_status::config::Config;
use order_status::web::AppState;
use tower::ServiceExt;

/// A site over the demo data, with the limits relaxed.
pub struct Site {
    _site: order_status::app::Site,
    pub state: AppState,
    pub router: Router,
    pub dir: tempfile::TempDir,
}

impl Site {
    pub async fn demo() -> Site {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::load(None, |k| {
            super::RELAXED_LIMITS
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
        .expect("config");
        config.data_dir = dir.path().join("data").into();
        config.public_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("public")
            .into();
        config.addr = "127.0.0.1:0".parse().expect("addr");
        let site = order_status::app::App::build(config)
            .await
            .expect("the site builds");
        Site {
            router: site.router(),
            state: site.state().clone(),
            _site: site,
            dir,
        }
    }

    /// Sends `req` as if from 127.0.0.1.
    pub async fn send(
        &self,
        mut req: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        (
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    /// GETs `path`: status and body.
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let req = Request::get(path).body(Body::empty()).expect("request");
        let (status, _, body) = self.send(req).await;
        (status, body)
    }

    /// A valid status link token for a stored order.
    pub fn token(&self, order: &order_status::order::Order) -> String {
        self.state.links.sign(&order_status::links::LinkClaims {
            shop: order.shop.clone(),
            order_id: order.id,
            expires: chrono::Utc::now() + chrono::Duration::days(1),
            epoch: self.state.epochs.get(&order.key()),
        })
    }
}
