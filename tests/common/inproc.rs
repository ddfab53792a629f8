//! The whole site in-process, for tests that need HTTP semantics but not
//! the connection layer: [`TestApp::builder`] assembles the site with
//! `App::build` from typed settings (a TOML fragment, then changes to the
//! `Config` itself), on a fresh data dir, with the demo orders or only the
//! orders the test gives; requests go through the `Router` with
//! `tower::ServiceExt::oneshot` (no socket, no process).

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use order_status::config::Config;
use order_status::config::values::Flag;
use order_status::order::Order;
use order_status::web::AppState;
use tower::ServiceExt;

/// A site assembled for a test.
pub struct TestApp {
    site: order_status::app::Site,
    pub state: AppState,
    pub router: Router,
    pub dir: tempfile::TempDir,
}

type Change = Box<dyn FnOnce(&mut Config)>;

/// How the test wants its site: settings and orders.
pub struct Builder {
    toml: String,
    changes: Vec<Change>,
    orders: Option<Vec<Order>>,
}

impl TestApp {
    /// A site to configure (relaxed limits; the demo unless
    /// [`Builder::orders`] says otherwise).
    pub fn builder() -> Builder {
        Builder {
            toml: String::new(),
            changes: Vec::new(),
            orders: None,
        }
    }

    /// The demo site, limits relaxed.
    pub async fn demo() -> TestApp {
        TestApp::builder().build().await
    }

    /// The demo orders' samples (one per scenario), as the site lists them.
    pub fn samples(&self) -> &[Order] {
        &self.site.samples
    }

    /// Sends `req` as if from 127.0.0.1 (unless the request names a peer).
    pub async fn send(&self, mut req: Request<Body>) -> (StatusCode, HeaderMap, String) {
        if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        }
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
    pub fn token(&self, order: &Order) -> String {
        self.state.links.sign(&order_status::links::LinkClaims {
            shop: order.shop.clone(),
            order_id: order.id,
            expires: chrono::Utc::now() + chrono::Duration::days(1),
            epoch: self.state.epochs.get(&order.key()),
        })
    }
}

impl Builder {
    /// Settings as an operator writes them in `order-status.toml`.
    pub fn file(mut self, toml: &str) -> Builder {
        self.toml.push_str(toml);
        self.toml.push('\n');
        self
    }

    /// A change to the typed settings, after the file.
    pub fn with(mut self, change: impl FnOnce(&mut Config) + 'static) -> Builder {
        self.changes.push(Box::new(change));
        self
    }

    /// Only these orders in the store (no demo seeding): a small fixture.
    pub fn orders(mut self, orders: Vec<Order>) -> Builder {
        self.orders = Some(orders);
        self
    }

    /// Assembles the site, as `serve` would, and stores the fixture.
    pub async fn build(self) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("order-status.toml");
        std::fs::write(&file, &self.toml).expect("settings file");
        let mut config = Config::load(Some(&file), |k| {
            super::RELAXED_LIMITS
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
        .expect("the test's settings load");
        config.data_dir = dir.path().join("data").into();
        config.public_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("public")
            .into();
        config.addr = "127.0.0.1:0".parse().expect("addr");
        if self.orders.is_some() {
            config.seed_demo = Some(Flag(false));
        }
        for change in self.changes {
            change(&mut config);
        }
        let site = order_status::app::App::build(config)
            .await
            .expect("the site builds");
        if let Some(orders) = self.orders {
            site.state()
                .store
                .upsert(orders)
                .await
                .expect("the fixture is stored");
        }
        TestApp {
            router: site.router(),
            state: site.state().clone(),
            site,
            dir,
        }
    }
}
