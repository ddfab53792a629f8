//! Operations: health, readiness, Prometheus metrics, and the request log.
//!
//! - `/healthz`: the process is up (200, always).
//! - `/readyz`: the store answers (503 if not), plus, for each configured
//!   shop, the age of its last successful sync. A stale sync does not make
//!   the site unready: stale order data beats no status page at all, and
//!   the sync's lag is a metric to alert on.
//! - `/metrics`: Prometheus text format from a registry owned by
//!   [`AppState`] (no global recorder). It counts what a merchant wants to
//!   know: lookups found / not found / refused, status page views, links
//!   shared, webhooks by topic and outcome, sync lag, orders in the store,
//!   index commits. Only loopback clients may read it, or anyone with the
//!   configured bearer token.
//! - Every request gets an id (`X-Request-Id`, taken from a proxy when it
//!   is sane, else made up) and one log line with method, route, status and
//!   duration, inside a span carrying the id. Routes are logged as their
//!   pattern (`/status/{token}`), so no token, email or address reaches a
//!   log.

use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use tracing::Instrument;

use super::AppState;

/// The site's metrics, registered in a registry of their own.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub lookups: IntCounterVec,
    pub status_views: IntCounter,
    pub links_shared: IntCounter,
    pub webhooks: IntCounterVec,
    orders: IntGauge,
    sync_lag: prometheus::GaugeVec,
    api_version_mismatch: prometheus::IntGaugeVec,
    dead_letters: IntGauge,
    commits: IntCounter,
    commit_seconds: prometheus::Counter,
    mail: IntCounterVec,
    /// Held while a scrape copies counts into the counters above.
    copying: std::sync::Arc<std::sync::Mutex<()>>,
    mail_queued: IntGauge,
    write_queue: IntGauge,
    webhook_inbox: IntGauge,
    problems: prometheus::IntGaugeVec,
    problem_work: prometheus::IntCounterVec,
    replication: prometheus::IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("order_status".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Request latency by route")
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
                ]),
            &["route"],
        )?;
        let lookups = IntCounterVec::new(
            Opts::new(
                "lookups_total",
                "Order lookups: found, not_found, invalid, rate_limited",
            ),
            &["outcome"],
        )?;
        let status_views = IntCounter::new("status_page_views_total", "Status pages shown")?;
        let links_shared = IntCounter::new("share_links_total", "Status links created by staff")?;
        let webhooks = IntCounterVec::new(
            Opts::new("webhooks_total", "Shopify webhooks by topic and outcome"),
            &["topic", "outcome"],
        )?;
        let orders = IntGauge::new("orders", "Orders in the store")?;
        let sync_lag = prometheus::GaugeVec::new(
            Opts::new(
                "sync_lag_seconds",
                "Seconds since the last successful Shopify sync, per shop",
            ),
            &["shop"],
        )?;
        let api_version_mismatch = prometheus::IntGaugeVec::new(
            Opts::new(
                "shopify_api_version_mismatch",
                "1 when Shopify answered with another Admin API version than the configured one (it is no longer supported), per shop",
            ),
            &["shop"],
        )?;
        let dead_letters = IntGauge::new(
            "webhook_dead_letters",
            "Webhook deliveries kept because they could not be applied (see `order-status webhooks replay`)",
        )?;
        let commits = IntCounter::new("store_commits_total", "Index commits since start")?;
        let commit_seconds = prometheus::Counter::new(
            "store_commit_seconds_total",
            "Time spent in index commits since start",
        )?;
        let mail = prometheus::IntCounterVec::new(
            Opts::new(
                "mail_messages_total",
                "Status emails since start by outcome: sent, failed, retried",
            ),
            &["outcome"],
        )?;
        let mail_queued = IntGauge::new(
            "mail_queued_orders",
            "Orders with a status email waiting to be sent",
        )?;
        let write_queue = IntGauge::new(
            "store_write_queue",
            "Writes waiting for the store's writer (a queue that grows: writes come faster than commits)",
        )?;
        let webhook_inbox = IntGauge::new(
            "webhook_inbox_open",
            "Webhook deliveries answered and kept on disk, not yet applied (a number that grows: deliveries come faster than the store takes them)",
        )?;
        let problems = prometheus::IntGaugeVec::new(
            Opts::new(
                "problem_orders",
                "Orders that need a person, by reason (thresholds in [problems])",
            ),
            &["reason"],
        )?;
        let problem_work = prometheus::IntCounterVec::new(
            Opts::new(
                "problem_work_total",
                "Staff work on problem orders since start: problem.take, problem.release, problem.snooze, problem.unsnooze, problem.handled",
            ),
            &["action"],
        )?;
        let replication = prometheus::IntGaugeVec::new(
            Opts::new(
                "replication",
                "With --replicate: applied (the last stream entry in the index), lag (stream entries not applied yet), following (1 while the stream is followed), refused (values in NATS not written by this site, skipped, since start)",
            ),
            &["what"],
        )?;
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(replication.clone()),
            Box::new(problems.clone()),
            Box::new(problem_work.clone()),
            Box::new(mail.clone()),
            Box::new(mail_queued.clone()),
            Box::new(write_queue.clone()),
            Box::new(webhook_inbox.clone()),
            Box::new(latency.clone()),
            Box::new(lookups.clone()),
            Box::new(status_views.clone()),
            Box::new(links_shared.clone()),
            Box::new(webhooks.clone()),
            Box::new(orders.clone()),
            Box::new(sync_lag.clone()),
            Box::new(api_version_mismatch.clone()),
            Box::new(dead_letters.clone()),
            Box::new(commits.clone()),
            Box::new(commit_seconds.clone()),
        ] {
            registry.register(c)?;
        }
        Ok(Metrics {
            registry,
            requests,
            latency,
            lookups,
            status_views,
            links_shared,
            webhooks,
            orders,
            sync_lag,
            api_version_mismatch,
            dead_letters,
            commits,
            commit_seconds,
            mail,
            mail_queued,
            write_queue,
            webhook_inbox,
            problems,
            problem_work,
            replication,
            copying: Default::default(),
        })
    }

    /// Counts a piece of staff work on a problem order (its audit action).
    pub fn problem_work(&self, action: &str) {
        self.problem_work.with_label_values(&[action]).inc();
    }

    /// Counts a lookup's outcome.
    pub fn lookup(&self, outcome: &str) {
        self.lookups.with_label_values(&[outcome]).inc();
    }
}

pub use crate::ingest::shopify::SyncStatus;

/// The operations routes: liveness, readiness, metrics.
pub fn router() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(axum::middleware::from_fn_with_state(
            super::MAX_BODY_BYTES,
            crate::web::limit_body,
        ))
}

/// `GET /healthz`.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Whether a request may see operational detail: from this host itself
/// (not through a proxy), or carrying the metrics token.
fn is_operator(state: &AppState, req: &Request) -> bool {
    let local = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| state.limiters.client_ip.client(c.0.ip(), req.headers()))
        .is_some_and(|who| who.is_local());
    let token_ok = state.config.metrics_token.as_ref().is_some_and(|token| {
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| {
                use subtle::ConstantTimeEq;
                given.as_bytes().ct_eq(token.expose().as_bytes()).into()
            })
    });
    local || token_ok
}

/// `GET /readyz`: ready or not for anyone (load balancers); the store's
/// size and each shop's sync and API version only for operators.
pub async fn readyz(State(state): State<AppState>, req: Request) -> Response {
    let detail = is_operator(&state, &req);
    let store_ok = state.store.search(&crate::store::SearchQuery {
        per_page: 1,
        ..Default::default()
    });
    let syncs = state.sync_status.snapshot();
    let now = Utc::now();
    let shops: Vec<serde_json::Value> = state
        .config
        .shopify
        .iter()
        .map(|s| {
            let st = syncs.get(&s.domain).cloned().unwrap_or_default();
            let version = st.version.as_ref();
            serde_json::json!({
                "shop": s.domain,
                "syncs": s.credentials.is_some(),
                "last_sync_age_seconds": st.last_success.map(|t| (now - t).num_seconds()),
                "last_sync_error": st.last_error,
                "api_version": s.api_version,
                "api_version_answered": version.and_then(|v| v.answered.clone()),
                "api_version_mismatch": version.is_some_and(|v| v.mismatch()),
            })
        })
        .collect();
    let (status, store) = match store_ok {
        // A replica still catching up would answer with old orders.
        Ok(_) if state.replica.as_ref().is_some_and(|r| !r.ready()) => (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"ok": true, "orders": state.store.count(), "catching_up": true}),
        ),
        Ok(_) => (
            StatusCode::OK,
            serde_json::json!({"ok": true, "orders": state.store.count()}),
        ),
        Err(e) => {
            tracing::error!(error = %crate::errors::chain(&e), "readiness: store unreadable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"ok": false}),
            )
        }
    };
    let body = if detail {
        // Its password is in the README: an operator should know.
        let demo_account = crate::staff::Accounts::load_from(
            &state.config.data_dir,
            state.shared_accounts.as_ref(),
        )
        .await
        .is_ok_and(|a| a.exists(crate::staff::DEMO_STAFF.0));
        let replication = state.replica.as_ref().map(|r| {
            let applied = state.store.log_applied();
            serde_json::json!({
                "node": r.node,
                "ready": r.ready(),
                "following": r.following(),
                "caught_up": r.caught_up(),
                "buckets_loaded": r.buckets_loaded(),
                "applied": applied,
                "lag": r.lag(applied),
            })
        });
        serde_json::json!({"ready": status == StatusCode::OK, "store": store, "shops": shops, "replication": replication, "demo_account": demo_account})
    } else {
        serde_json::json!({"ready": status == StatusCode::OK})
    };
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body.to_string(),
    )
        .into_response()
}

/// `GET /metrics`: for loopback clients (not through a proxy), or with the
/// configured token.
pub async fn metrics(State(state): State<AppState>, req: Request) -> Response {
    if !is_operator(&state, &req) {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    }
    let m = &state.metrics;
    m.orders
        .set(i64::try_from(state.store.count()).unwrap_or(i64::MAX));
    let (commits, secs) = state.store.commit_stats();
    // Counters copied from counts kept elsewhere: each scrape adds what
    // happened since the last one (one scrape at a time, so no double add).
    {
        let _copying = m.copying.lock().unwrap_or_else(|p| p.into_inner());
        m.commits.inc_by(commits.saturating_sub(m.commits.get()));
        let more = secs - m.commit_seconds.get();
        if more > 0.0 {
            m.commit_seconds.inc_by(more);
        }
    }
    let now = Utc::now();
    for (shop, s) in state.sync_status.snapshot() {
        if let Some(t) = s.last_success {
            m.sync_lag
                .with_label_values(&[shop.as_str()])
                .set((now - t).num_milliseconds() as f64 / 1000.0);
        }
        if let Some(v) = &s.version {
            m.api_version_mismatch
                .with_label_values(&[shop.as_str()])
                .set(i64::from(v.mismatch()));
        }
    }
    m.dead_letters
        .set(i64::try_from(state.dead_letters.count()).unwrap_or(i64::MAX));
    let sent = state.mail.counts();
    for (outcome, n) in [
        ("sent", sent.sent),
        ("failed", sent.failed),
        ("retried", sent.retried),
    ] {
        let c = m.mail.with_label_values(&[outcome]);
        c.inc_by(n.saturating_sub(c.get()));
    }
    m.mail_queued
        .set(i64::try_from(state.store.mail_queued_count()).unwrap_or(i64::MAX));
    m.write_queue
        .set(i64::try_from(state.store.write_queue_len()).unwrap_or(i64::MAX));
    m.webhook_inbox
        .set(i64::try_from(state.webhook_inbox.open_count()).unwrap_or(i64::MAX));
    for (kind, n) in crate::actions::problems::counts(
        &state.store,
        &state.config.merchant.problems,
        chrono::Utc::now(),
    ) {
        m.problems
            .with_label_values(&[kind.as_str()])
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    if let Some(r) = &state.replica {
        let applied = state.store.log_applied();
        for (what, v) in [
            ("applied", applied),
            ("lag", r.lag(applied)),
            ("following", u64::from(r.following())),
            ("refused", r.refused_count()),
        ] {
            m.replication
                .with_label_values(&[what])
                .set(i64::try_from(v).unwrap_or(i64::MAX));
        }
    }
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&m.registry.gather(), &mut out) {
        tracing::error!(error = %crate::errors::chain(&e), "metrics encoding failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        out,
    )
        .into_response()
}

/// A request id from the proxy when it looks like one, else a new one.
fn request_id(req: &Request) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| {
            let mut raw = [0u8; 8];
            match getrandom::fill(&mut raw) {
                Ok(()) => hex::encode(raw),
                // No randomness (should not happen): still unique enough to
                // tell requests apart in the log, never all zeros.
                Err(_) => format!(
                    "t{:x}",
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos())
                ),
            }
        })
}

/// One log line and the metrics of every request, in a span with its id.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&req);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_string(), |p| p.as_str().to_string());
    let method = req.method().clone();
    let span = tracing::info_span!("request", id = %id, %method, %route);
    let mut res = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = res.status();
    state
        .metrics
        .requests
        .with_label_values(&[route.as_str(), status.as_str()])
        .inc();
    state
        .metrics
        .latency
        .with_label_values(&[route.as_str()])
        .observe(elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            micros = elapsed.as_micros() as u64,
            "request"
        );
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prometheus' naming rules: a counter ends in `_total`, nothing else
    /// does (a gauge named `_total` reads as a counter to every dashboard
    /// and `rate()` over it is nonsense), and units are spelled out.
    #[test]
    fn metric_names_follow_prometheus_conventions() {
        let m = Metrics::new().expect("metrics");
        // Vectors appear in a gather once they have a child.
        m.requests.with_label_values(&["/", "200"]).inc();
        m.latency.with_label_values(&["/"]).observe(0.001);
        m.lookups.with_label_values(&["found"]).inc();
        m.webhooks
            .with_label_values(&["orders/updated", "applied"])
            .inc();
        m.sync_lag.with_label_values(&["shop"]).set(1.0);
        m.api_version_mismatch.with_label_values(&["shop"]).set(0);
        m.mail.with_label_values(&["sent"]).inc();
        m.problems.with_label_values(&["late"]).set(1);
        m.replication.with_label_values(&["lag"]).set(0);
        let families = m.registry.gather();
        assert!(families.len() >= 15, "{} families", families.len());
        for f in &families {
            let name = f.name();
            assert!(name.starts_with("order_status_"), "{name}");
            let counter = f.get_field_type() == prometheus::proto::MetricType::COUNTER;
            assert_eq!(
                counter,
                name.ends_with("_total"),
                "{name}: counters and only counters end in _total"
            );
            assert!(
                !name.contains("_ms") && !name.contains("millis"),
                "{name}: base units (seconds)"
            );
        }
    }
}
