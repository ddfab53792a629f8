//! Protection: who the client is, rate limits, the per-order-number lock,
//! security headers and the same-origin rule for form posts.
//!
//! - **Client IP**: the peer address; behind configured trusted proxies,
//!   the rightmost `X-Forwarded-For` address that is not a trusted proxy
//!   (the leftmost is whatever the client wrote). A hop that does not parse
//!   makes the client unidentified (one shared, strict bucket), never the
//!   proxy itself. IPv6 clients are keyed by their /64, since one host gets
//!   a whole /64 to rotate through.
//! - **Rate limits** (tower-governor, per client IP): every request, lookup
//!   posts, staff sign-in posts, and webhooks/API, each with its own
//!   configurable budget. Over budget is 429 with `Retry-After`: browsers
//!   get the lookup page with a localised "try again in N minutes", API
//!   clients get JSON.
//! - **Order-number lock**: failed lookups are counted per order number
//!   across all clients; past the limit the number is locked for the rest
//!   of the window and every lookup of it gets the same "not found" answer
//!   as a wrong email, so a botnet cannot walk the emails of one order.
//! - **Headers** on every response: CSP, nosniff, `Referrer-Policy:
//!   same-origin` (not `no-referrer`: form redirects may rely on it),
//!   Permissions-Policy, HSTS when served over https.
//! - **Same origin**: a POST from a browser must come from this site
//!   (`Sec-Fetch-Site`, `Origin`), except webhooks and the API, which are
//!   authenticated by signature instead of cookies.
//!
//! - **Replicas**: with `--replicate`, the lookup and sign-in budgets and
//!   the order-number lock are also kept in NATS ([`shared_budgets`]), so
//!   N replicas do not give a client N budgets.
//!
//! Limiter state is pruned every minute (`retain_recent`), so memory stays
//! bounded when addresses rotate.

mod client;
mod headers;
mod lock;
mod origin;
mod rate_limited;
mod shared;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use governor::middleware::NoOpMiddleware;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};

use crate::config::{Config, RateSpec};

pub use client::{Client, ClientIp, ClientKey};
pub use headers::security_headers;
pub use lock::OrderLock;
pub use origin::{loggable_path, same_origin_posts};
pub use rate_limited::{PageCache, explain_rate_limit, too_many_requests};
pub use shared::shared_budgets;

/// A tower-governor configuration keyed by client.
pub type Limit = Arc<GovernorConfig<ClientIp, NoOpMiddleware>>;

/// Every limiter of the site.
#[derive(Clone, Debug)]
pub struct Limiters {
    pub pages: Limit,
    /// The "too many requests" page, per language.
    pub pages_cache: Arc<PageCache>,
    pub lookup: Limit,
    pub login: Limit,
    pub api: Limit,
    pub order_lock: Arc<OrderLock>,
    pub client_ip: ClientIp,
}

impl Limiters {
    pub fn new(config: &Config) -> Limiters {
        let ip = ClientIp::new(config.trusted_proxies.clone());
        let l = &config.limits;
        Limiters {
            pages: limit(&ip, l.pages),
            pages_cache: Arc::new(PageCache::default()),
            lookup: limit(&ip, l.lookup),
            login: limit(&ip, l.login),
            api: limit(&ip, l.api),
            order_lock: Arc::new(OrderLock::new(l.order_failures)),
            client_ip: ip,
        }
    }

    /// Drops state of clients and order numbers not seen for a while.
    pub fn prune(&self) {
        for l in [&self.pages, &self.lookup, &self.login, &self.api] {
            l.limiter().retain_recent();
            l.limiter().shrink_to_fit();
        }
        self.order_lock.prune(Instant::now());
    }

    /// Prunes every minute, for as long as it is polled (a service of the
    /// site's supervisor).
    pub async fn prune_every_minute(self) {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.prune();
        }
    }
}

fn limit(ip: &ClientIp, spec: RateSpec) -> Limit {
    let config = GovernorConfigBuilder::default()
        .key_extractor(ip.clone())
        .period(spec.replenish_every())
        .burst_size(spec.burst)
        .finish()
        .expect("period and burst are non-zero by construction");
    Arc::new(config)
}

/// Applies one of the limiters to a router.
pub fn layer(limit: &Limit) -> tower_governor::GovernorLayer<ClientIp, NoOpMiddleware, Body> {
    tower_governor::GovernorLayer::new(Arc::clone(limit))
}
