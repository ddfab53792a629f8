//! A fake Shopify that keeps Shopify's documented rules, so that a client
//! passing against it would pass against the real thing:
//!
//! - GraphQL Admin API at `/admin/api/{version}/graphql.json`, executing
//!   real queries (aliases, fragments, `node(id:)`, connections with
//!   cursors) against the same schema file the client uses.
//! - The requested cost of every query by the documented rules;
//!   `MAX_COST_EXCEEDED` over 1,000 points with nothing executed; a leaky
//!   bucket (`maximumAvailable`, `restoreRate`) that must hold the requested
//!   cost before a query runs (`THROTTLED` otherwise) and is refunded the
//!   difference to the actual cost afterwards; `extensions.cost` on every
//!   answer.
//! - Access scopes: `ACCESS_DENIED` (with the required scopes in the
//!   message) on fields whose scope is not granted; orders older than 60
//!   days invisible without `read_all_orders`; protected customer data
//!   by kind (level 1: the customer and address objects; level 2: name,
//!   email, phone, address fields) `null` with Shopify's "This app is not
//!   approved to ..." error (`ACCESS_DENIED`) unless approved, the rest
//!   of the answer intact.
//! - Credentials: static tokens, and the client-credentials grant at
//!   `/admin/oauth/access_token` whose tokens expire (401 after that).
//! - API versions: an unsupported version is served as the oldest
//!   supported one, as `X-Shopify-API-Version` says.
//! - Bulk operations: `bulkOperationRunQuery` with the bulk restrictions
//!   (one top-level connection, not `node`; five connections, two levels;
//!   a nested connection's parent selects `id`) and a limit of concurrent
//!   operations; CREATED -> RUNNING -> COMPLETED over polls; a JSONL file
//!   with one object a line and `__parentId` on nested ones, grouped under
//!   their parent when asked.
//! - Webhooks: [`send_webhook`] signs like Shopify and retries a non-2xx
//!   (or a reply slower than 5 s) up to 8 times, then gives up.
//! - Writes (`writes`): tags, metafields, fulfillments, tracking, carrier
//!   events and fulfillment requests, each with its scope (from the
//!   schema's `@scope`, `ACCESS_DENIED` otherwise), the flat mutation cost
//!   and its documented `userErrors`.
//! - `assignedFulfillmentOrders` for a fulfillment service app; the app's
//!   webhook subscriptions and fulfillment services (`app`); fulfillment
//!   and cancellation requests posted to the service's callback, signed.
//! - Injected failures ("blips"): 429 with `Retry-After`, 5xx.

#![allow(dead_code)]

mod app;
mod writes;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use graphql_parser::query as q;
use order_status::order::Order;
use order_status::shopify::cost::{
    self, Document, Kind, MAX_PAGE, MAX_QUERY_COST, OperationKind, Schema,
};
pub use order_status::shopify::scopes::Protected;
use serde_json::{Map, Value, json};

/// Versions the fake supports, oldest first (about twelve months' worth).
pub const SUPPORTED_VERSIONS: &[&str] = &["2026-01", "2026-04", "2026-07", "2026-10"];
/// Every scope this site may ask for: the site's own table.
pub fn all_scopes() -> Vec<String> {
    order_status::shopify::scopes::all_scopes()
        .into_iter()
        .map(str::to_string)
        .collect()
}
pub const SHOP: &str = "fake.myshopify.com";
pub const STATIC_TOKEN: &str = "shpat_fake_static_token";
pub const CLIENT_ID: &str = "fake-client-id";
pub const CLIENT_SECRET: &str = "fake-client-secret-0123456789";

/// The shop's documented rules, as a test sets them.
#[derive(Debug, Clone)]
pub struct Rules {
    pub bucket_max: f64,
    pub restore_rate: f64,
    pub scopes: Vec<String>,
    /// Protected customer data the app is not approved for: `null` with
    /// Shopify's "not approved" error in a query (level 1 withheld
    /// withholds every field), silently `null` in a bulk file.
    pub withheld: Vec<Protected>,
    /// Lifetime of client-credentials tokens.
    pub token_lifetime: Duration,
    /// Polls a bulk operation stays CREATED/RUNNING for.
    pub bulk_polls: u32,
    /// Bulk query operations that may run at once (5 from 2026-01).
    pub bulk_concurrency: usize,
    /// The fake's idea of now (for the 60-day window).
    pub now: DateTime<Utc>,
    /// The API versions served, oldest first; any other is served as the
    /// oldest ("falls forward").
    pub versions: Vec<&'static str>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            bucket_max: 1000.0,
            // Fast, so tests do not wait; the rules are the same.
            restore_rate: 20_000.0,
            scopes: all_scopes(),
            withheld: Vec::new(),
            token_lifetime: Duration::from_secs(86_399),
            bulk_polls: 2,
            bulk_concurrency: 5,
            now: Utc::now(),
            versions: SUPPORTED_VERSIONS.to_vec(),
        }
    }
}

/// A failure to serve before answering normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blip {
    TooManyRequests,
    ServerError,
}

/// Counts of what happened, for assertions.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    /// GraphQL calls by operation name (or `anonymous`).
    pub calls: HashMap<String, usize>,
    pub throttled: usize,
    pub max_cost_exceeded: usize,
    pub access_denied: usize,
    pub unauthorized: usize,
    pub token_grants: usize,
    pub bulk_started: usize,
    /// The highest requested cost of any query executed.
    pub max_requested: u64,
    /// Write mutations run (scope granted), by name.
    pub writes: HashMap<String, usize>,
    /// The `after` and `query` variables of every `orders` page.
    pub order_pages: Vec<(Option<String>, Option<String>)>,
}

struct Bulk {
    id: String,
    status: &'static str,
    polls: u32,
    query: Document,
    group: bool,
    created_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    file: Option<String>,
    objects: u64,
    error: Option<&'static str>,
}

struct Shop {
    rules: Rules,
    schema: Schema,
    base: String,
    orders: Vec<Value>,
    bucket: f64,
    bucket_at: Instant,
    tokens: HashMap<String, Instant>,
    next_token: u64,
    bulks: Vec<Bulk>,
    blips: VecDeque<Blip>,
    counters: Counters,
    /// After this many order pages, answer 500 to everything.
    break_after_pages: Option<usize>,
    /// The app's webhook subscriptions and fulfillment services.
    app: app::App,
}

/// A running fake shop.
#[derive(Clone)]
pub struct FakeShopify {
    pub base: String,
    state: Arc<Mutex<Shop>>,
}

impl FakeShopify {
    /// Starts the fake on 127.0.0.1 with `orders` (GraphQL-shaped, see
    /// [`graphql_order`]).
    pub async fn start(rules: Rules, orders: Vec<Value>) -> FakeShopify {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(Shop {
            bucket: rules.bucket_max,
            rules,
            schema: Schema::admin().expect("schema"),
            base: base.clone(),
            orders,
            bucket_at: Instant::now(),
            tokens: HashMap::new(),
            next_token: 0,
            bulks: Vec::new(),
            blips: VecDeque::new(),
            counters: Counters::default(),
            break_after_pages: None,
            app: app::App::default(),
        }));
        let app = axum::Router::new()
            .route(
                "/admin/api/{version}/graphql.json",
                axum::routing::post(graphql),
            )
            .route("/admin/oauth/access_token", axum::routing::post(grant))
            .route("/bulk/{file}", axum::routing::get(bulk_file))
            .with_state(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeShopify { base, state }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Shop) -> R) -> R {
        f(&mut self.state.lock().expect("fake"))
    }

    pub fn counters(&self) -> Counters {
        self.with(|s| s.counters.clone())
    }

    pub fn set_rules(&self, f: impl FnOnce(&mut Rules)) {
        self.with(|s| f(&mut s.rules));
    }

    pub fn blip(&self, b: Blip) {
        self.with(|s| s.blips.push_back(b));
    }

    pub fn break_after_pages(&self, n: Option<usize>) {
        self.with(|s| s.break_after_pages = n);
    }

    /// Revokes every client-credentials token (as an uninstall and
    /// reinstall, or a secret rotation, would).
    pub fn revoke_tokens(&self) {
        self.with(|s| s.tokens.clear());
    }

    /// Empties the bucket (another client of the same app spent it).
    pub fn drain_bucket(&self) {
        self.with(|s| {
            s.bucket = 0.0;
            s.bucket_at = Instant::now();
        });
    }

    pub fn bucket(&self) -> f64 {
        self.with(|s| s.refill())
    }

    /// Replaces or adds an order (by id).
    pub fn put_order(&self, order: Value) {
        self.with(
            |s| match s.orders.iter_mut().find(|o| o["id"] == order["id"]) {
                Some(o) => *o = order,
                None => s.orders.push(order),
            },
        );
    }

    /// The app's webhook subscriptions (topic, uri).
    pub fn subscriptions(&self) -> Vec<(String, String)> {
        self.with(|s| {
            s.app
                .subscriptions
                .iter()
                .map(|w| {
                    (
                        w["topic"].as_str().unwrap_or("").to_string(),
                        w["uri"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
    }

    /// Adds a subscription as if made earlier (by hand, or by an older
    /// version of the site), whatever its topic's rules.
    pub fn add_subscription(&self, topic: &str, uri: &str) {
        self.with(|s| {
            let n = s.app.subscriptions.len();
            s.app.subscriptions.push(json!({"id": format!("gid://shopify/WebhookSubscription/{}", 100 + n), "topic": topic, "uri": uri, "format": "JSON", "createdAt": Utc::now().to_rfc3339(), "updatedAt": Utc::now().to_rfc3339()}));
        });
    }

    /// The app's fulfillment services.
    pub fn services(&self) -> Vec<Value> {
        self.with(|s| s.app.services.clone())
    }

    /// Where the fake posts a service's notifications, instead of its
    /// registered https callback: the test server on 127.0.0.1, as a
    /// proxy in front of the public address would.
    pub fn route_callback(&self, service: &str, to: &str) {
        self.with(|s| {
            if let Some(svc) = s
                .app
                .services
                .iter_mut()
                .find(|x| x["serviceName"] == json!(service))
            {
                svc["routedTo"] = json!(to);
            }
        });
    }

    /// The merchant asks the app's fulfillment service `service` to ship
    /// an order's first open fulfillment order (Shopify assigns it to the
    /// service's location): its request status becomes SUBMITTED and the
    /// service's callback gets `{"kind":"FULFILLMENT_REQUEST"}` at
    /// `<callbackUrl>/fulfillment_order_notification`, signed with the
    /// app's secret. Returns the callback's HTTP status.
    pub async fn request_fulfillment(&self, order_gid: &str, service: &str) -> u16 {
        let callback = self.with(|s| {
            let svc = s.app.service(service).cloned().expect("the service exists");
            let o = s
                .orders
                .iter_mut()
                .find(|o| o["id"] == json!(order_gid))
                .expect("the order exists");
            let fo = o["fulfillmentOrders"]
                .as_array_mut()
                .and_then(|l| l.iter_mut().find(|fo| fo["status"] == json!("OPEN")))
                .expect("an open fulfillment order");
            fo["assignedToApp"] = json!(true);
            fo["requestStatus"] = json!("SUBMITTED");
            fo["assignedLocation"] = json!({"name": svc["serviceName"], "countryCode": "SE", "location": svc["location"]});
            fo["updatedAt"] = json!(Utc::now().to_rfc3339());
            o["updatedAt"] = json!(Utc::now().to_rfc3339());
            svc["routedTo"]
                .as_str()
                .or(svc["callbackUrl"].as_str())
                .unwrap_or("")
                .to_string()
        });
        notify_service(&callback, "FULFILLMENT_REQUEST").await
    }

    /// The merchant cancels an order whose fulfillment order the service
    /// accepted: Shopify asks the service first (request status
    /// CANCELLATION_REQUESTED, `{"kind":"CANCELLATION_REQUEST"}` to the
    /// callback); the order is cancelled once the service accepts.
    pub async fn request_cancellation(&self, order_gid: &str, service: &str) -> u16 {
        let callback = self.with(|s| {
            let svc = s.app.service(service).cloned().expect("the service exists");
            let o = s
                .orders
                .iter_mut()
                .find(|o| o["id"] == json!(order_gid))
                .expect("the order exists");
            let fo = o["fulfillmentOrders"]
                .as_array_mut()
                .and_then(|l| {
                    l.iter_mut()
                        .find(|fo| fo["requestStatus"] == json!("ACCEPTED"))
                })
                .expect("an accepted fulfillment order");
            fo["requestStatus"] = json!("CANCELLATION_REQUESTED");
            fo["cancelsOrder"] = json!(true);
            fo["updatedAt"] = json!(Utc::now().to_rfc3339());
            o["updatedAt"] = json!(Utc::now().to_rfc3339());
            svc["routedTo"]
                .as_str()
                .or(svc["callbackUrl"].as_str())
                .unwrap_or("")
                .to_string()
        });
        notify_service(&callback, "CANCELLATION_REQUEST").await
    }

    /// Deletes an order (as a merchant deleting it in the admin would).
    pub fn remove_order(&self, gid: &str) {
        self.with(|s| s.orders.retain(|o| o["id"] != json!(gid)));
    }

    pub fn orders(&self) -> Vec<Value> {
        self.with(|s| s.orders.clone())
    }

    /// Makes every running bulk operation end now.
    pub fn finish_bulks(&self) {
        self.with(|s| {
            for i in 0..s.bulks.len() {
                if matches!(s.bulks[i].status, "CREATED" | "RUNNING") {
                    s.complete_bulk(i);
                }
            }
        });
    }

    /// Runs a query against the fake as a client would, returning the
    /// whole answer (status, body).
    pub async fn post(
        &self,
        version: &str,
        token: &str,
        query: &str,
        variables: Value,
    ) -> (u16, Value, HeaderMap) {
        let res = reqwest::Client::new()
            .post(format!("{}/admin/api/{version}/graphql.json", self.base))
            .header("X-Shopify-Access-Token", token)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await
            .expect("post");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.json().await.unwrap_or(Value::Null);
        (status, body, headers)
    }
}

impl Shop {
    fn refill(&mut self) -> f64 {
        let now = Instant::now();
        let elapsed = now.duration_since(self.bucket_at).as_secs_f64();
        self.bucket = (self.bucket + elapsed * self.rules.restore_rate).min(self.rules.bucket_max);
        self.bucket_at = now;
        self.bucket
    }

    fn throttle_status(&mut self) -> Value {
        let available = self.refill();
        json!({
            "maximumAvailable": self.rules.bucket_max,
            "currentlyAvailable": available.floor(),
            "restoreRate": self.rules.restore_rate,
        })
    }

    fn valid_token(&mut self, token: &str) -> bool {
        if token == STATIC_TOKEN {
            return true;
        }
        match self.tokens.get(token) {
            Some(expires) => Instant::now() < *expires,
            None => false,
        }
    }

    fn has_scope(&self, any: &[String]) -> bool {
        any.is_empty() || any.iter().any(|s| self.rules.scopes.contains(s))
    }

    /// Whether an order is visible to the app (60 days without
    /// `read_all_orders`).
    fn visible(&self, order: &Value) -> bool {
        if self.rules.scopes.iter().any(|s| s == "read_all_orders") {
            return true;
        }
        let created = order["createdAt"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.to_utc());
        created.is_none_or(|c| self.rules.now - c <= chrono::Duration::days(60))
    }

    fn complete_bulk(&mut self, i: usize) {
        let doc = self.bulks[i].query.clone();
        let group = self.bulks[i].group;
        let mut exec = Exec::new(self, &Value::Null, true);
        let lines = exec.bulk_lines(&doc, group);
        let denied = !exec.errors.is_empty();
        let b = &mut self.bulks[i];
        b.completed_at = Some(Utc::now());
        if denied {
            b.status = "FAILED";
            b.error = Some("ACCESS_DENIED");
            return;
        }
        b.objects = lines.len() as u64;
        b.file = Some(lines.join("\n") + if lines.is_empty() { "" } else { "\n" });
        b.status = "COMPLETED";
    }
}

/// The JSONL lines Shopify's bulk operation writes for `query`, one order
/// at a time (for benchmarks that need a large result file).
pub struct BulkFile {
    shop: Shop,
    query: Document,
}

impl BulkFile {
    pub fn new(query: &str) -> BulkFile {
        let rules = Rules::default();
        BulkFile {
            shop: Shop {
                bucket: rules.bucket_max,
                rules,
                schema: Schema::admin().expect("schema"),
                base: String::new(),
                orders: Vec::new(),
                bucket_at: Instant::now(),
                tokens: HashMap::new(),
                next_token: 0,
                bulks: Vec::new(),
                blips: VecDeque::new(),
                counters: Counters::default(),
                break_after_pages: None,
                app: app::App::default(),
            },
            query: cost::parse_query(query).expect("a bulk query"),
        }
    }

    /// The lines of one order (grouped: the order, then its children).
    pub fn lines(&mut self, order: Value) -> Vec<String> {
        self.shop.orders = vec![order];
        let doc = self.query.clone();
        Exec::new(&mut self.shop, &Value::Null, true).bulk_lines(&doc, true)
    }
}

fn gql_error(message: String, code: &str, extra: Value) -> Value {
    let mut ext = json!({"code": code});
    if let (Some(e), Some(x)) = (ext.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            e.insert(k.clone(), v.clone());
        }
    }
    json!({"message": message, "extensions": ext})
}

async fn grant(
    State(state): State<Arc<Mutex<Shop>>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut s = state.lock().expect("fake");
    let ok = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET);
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_client", "error_description": "Client authentication failed"})),
        )
            .into_response();
    }
    s.next_token += 1;
    s.counters.token_grants += 1;
    let token = format!("shpca_fake_{}", s.next_token);
    let lifetime = s.rules.token_lifetime;
    s.tokens.insert(token.clone(), Instant::now() + lifetime);
    Json(json!({
        "access_token": token,
        "scope": s.rules.scopes.join(","),
        "expires_in": lifetime.as_secs(),
    }))
    .into_response()
}

async fn bulk_file(State(state): State<Arc<Mutex<Shop>>>, Path(file): Path<String>) -> Response {
    let s = state.lock().expect("fake");
    let n: Option<usize> = file.strip_suffix(".jsonl").and_then(|n| n.parse().ok());
    match n.and_then(|n| s.bulks.get(n)).and_then(|b| b.file.clone()) {
        Some(body) => (StatusCode::OK, body).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn graphql(
    State(state): State<Arc<Mutex<Shop>>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    Json(req): Json<Value>,
) -> Response {
    let mut s = state.lock().expect("fake");
    // Version fall-forward.
    let served = if s.rules.versions.contains(&version.as_str()) {
        version.clone()
    } else {
        s.rules
            .versions
            .first()
            .copied()
            .unwrap_or("2026-10")
            .to_string()
    };
    let with_version = |mut res: Response| {
        if let Ok(v) = HeaderValue::from_str(&served) {
            res.headers_mut().insert("x-shopify-api-version", v);
        }
        res
    };
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !s.valid_token(token) {
        s.counters.unauthorized += 1;
        return with_version(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})),
            )
                .into_response(),
        );
    }
    if let Some(b) = s.blips.pop_front() {
        return with_version(match b {
            Blip::TooManyRequests => (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                "Too Many Requests",
            )
                .into_response(),
            Blip::ServerError => (StatusCode::BAD_GATEWAY, "blip").into_response(),
        });
    }
    let text = req["query"].as_str().unwrap_or("");
    let variables = req["variables"].clone();
    let doc = match cost::parse_query(text) {
        Ok(d) => d,
        Err(e) => {
            return with_version(Json(json!({"errors": [{"message": e.to_string(), "extensions": {"code": "PARSE_ERROR"}}]})).into_response());
        }
    };
    let name = op_name(&doc);
    *s.counters.calls.entry(name.clone()).or_default() += 1;
    if name == "Orders" {
        if let Some(limit) = s.break_after_pages
            && s.counters.order_pages.len() >= limit
        {
            return with_version((StatusCode::INTERNAL_SERVER_ERROR, "down").into_response());
        }
        s.counters.order_pages.push((
            variables["after"].as_str().map(str::to_string),
            variables["query"].as_str().map(str::to_string),
        ));
    }
    let requested = match s.schema.requested_cost(&doc, &variables) {
        Ok(c) => c,
        Err(e) => {
            return with_version(Json(json!({"errors": [{"message": e.to_string(), "extensions": {"code": "BAD_REQUEST"}}]})).into_response());
        }
    };
    if requested > MAX_QUERY_COST {
        s.counters.max_cost_exceeded += 1;
        let msg = format!(
            "Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
        );
        let err = gql_error(
            msg,
            "MAX_COST_EXCEEDED",
            json!({"cost": requested, "maxCost": MAX_QUERY_COST, "documentation": "https://shopify.dev/api/usage/rate-limits"}),
        );
        return with_version(Json(json!({"errors": [err]})).into_response());
    }
    let available = s.refill();
    if (requested as f64) > available {
        s.counters.throttled += 1;
        let status = s.throttle_status();
        return with_version(
            Json(json!({
                "errors": [gql_error("Throttled".into(), "THROTTLED", json!({"documentation": "https://shopify.dev/api/usage/rate-limits"}))],
                "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": null, "throttleStatus": status}}
            }))
            .into_response(),
        );
    }
    s.bucket -= requested as f64;
    s.counters.max_requested = s.counters.max_requested.max(requested);
    let (data, errors, actual) = {
        let mut exec = Exec::new(&mut s, &variables, false);
        let data = exec.run(&doc);
        (data, std::mem::take(&mut exec.errors), exec.actual)
    };
    let actual = actual.min(requested);
    s.bucket = (s.bucket + (requested - actual) as f64).min(s.rules.bucket_max);
    if !errors.is_empty() {
        s.counters.access_denied += errors
            .iter()
            .filter(|e| e["extensions"]["code"] == "ACCESS_DENIED")
            .count();
    }
    let status = s.throttle_status();
    let mut body = json!({
        "data": data,
        "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": status}}
    });
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    with_version(Json(body).into_response())
}

fn op_name(doc: &Document) -> String {
    doc.definitions
        .iter()
        .find_map(|d| match d {
            q::Definition::Operation(q::OperationDefinition::Query(op)) => op.name.clone(),
            q::Definition::Operation(q::OperationDefinition::Mutation(op)) => op.name.clone(),
            _ => None,
        })
        .unwrap_or_else(|| "anonymous".into())
}

type Sel = q::Selection<'static, String>;
type Field = q::Field<'static, String>;

/// Executes one document against the shop's data.
struct Exec<'s> {
    s: &'s mut Shop,
    variables: Value,
    bulk: bool,
    errors: Vec<Value>,
    actual: u64,
    fragments: HashMap<String, q::FragmentDefinition<'static, String>>,
}

fn encode_cursor(i: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{{\"last_id\":{i}}}"))
}

fn decode_cursor(c: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::STANDARD.decode(c).ok()?;
    let v: Value = serde_json::from_slice(&raw).ok()?;
    v["last_id"].as_u64().map(|n| n as usize)
}

impl<'s> Exec<'s> {
    fn new(s: &'s mut Shop, variables: &Value, bulk: bool) -> Exec<'s> {
        Exec {
            s,
            variables: variables.clone(),
            bulk,
            errors: Vec::new(),
            actual: 0,
            fragments: HashMap::new(),
        }
    }

    fn arg(&self, f: &Field, name: &str) -> Option<Value> {
        let (_, v) = f.arguments.iter().find(|(n, _)| n == name)?;
        Some(self.value(v))
    }

    /// An argument's value: a variable's, or a literal (lists and input
    /// objects too).
    fn value(&self, v: &q::Value<'static, String>) -> Value {
        match v {
            q::Value::Variable(var) => self
                .variables
                .get(var.as_str())
                .cloned()
                .unwrap_or(Value::Null),
            q::Value::Int(n) => json!(n.as_i64()),
            q::Value::Float(x) => json!(x),
            q::Value::String(s) => json!(s),
            q::Value::Boolean(b) => json!(b),
            q::Value::Enum(e) => json!(e),
            q::Value::Null => Value::Null,
            q::Value::List(items) => Value::Array(items.iter().map(|i| self.value(i)).collect()),
            q::Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, x)| (k.clone(), self.value(x)))
                    .collect(),
            ),
        }
    }

    fn run(&mut self, doc: &Document) -> Value {
        self.fragments = cost::fragments(doc)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let Some((kind, items)) = cost::operation(doc) else {
            return Value::Null;
        };
        let items: Vec<Sel> = items.to_vec();
        match kind {
            OperationKind::Query => {
                let mut out = Map::new();
                for item in &items {
                    if let q::Selection::Field(f) = item {
                        let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
                        out.insert(key.clone(), self.root(f, vec![json!(key)]));
                    }
                }
                Value::Object(out)
            }
            OperationKind::Mutation => {
                let mut out = Map::new();
                for item in &items {
                    if let q::Selection::Field(f) = item {
                        let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
                        let scopes = self
                            .s
                            .schema
                            .field("Mutation", &f.name)
                            .map(|d| d.scopes.clone())
                            .unwrap_or_default();
                        if !self.s.has_scope(&scopes) {
                            self.deny(&f.name, &scopes, vec![json!(key)]);
                            out.insert(key, Value::Null);
                            continue;
                        }
                        out.insert(key, self.mutation(f));
                    }
                }
                Value::Object(out)
            }
        }
    }

    fn deny(&mut self, field: &str, scopes: &[String], path: Vec<Value>) {
        let required = scopes
            .iter()
            .map(|s| format!("`{s}` access scope"))
            .collect::<Vec<_>>()
            .join(" or ");
        self.errors.push(json!({
            "message": format!("Access denied for {field} field. Required access: {required}."),
            "locations": [],
            "path": path,
            "extensions": {"code": "ACCESS_DENIED", "documentation": "https://shopify.dev/api/usage/access-scopes", "requiredAccess": format!("{required}.")}
        }));
    }

    fn root(&mut self, f: &Field, path: Vec<Value>) -> Value {
        let def = self.s.schema.field("QueryRoot", &f.name).cloned();
        let Some(def) = def else {
            return Value::Null;
        };
        if !self.s.has_scope(&def.scopes) {
            self.deny(&f.name, &def.scopes, path);
            return Value::Null;
        }
        match f.name.as_str() {
            "orders" => {
                let mut list: Vec<Value> = self
                    .s
                    .orders
                    .iter()
                    .filter(|o| self.s.visible(o))
                    .cloned()
                    .collect();
                if let Some(Value::String(search)) = self.arg(f, "query") {
                    list.retain(|o| matches_search(o, &search));
                }
                let sort = match self.arg(f, "sortKey") {
                    Some(Value::String(k)) => k,
                    _ => "PROCESSED_AT".into(),
                };
                let field = match sort.as_str() {
                    "UPDATED_AT" => "updatedAt",
                    "CREATED_AT" => "createdAt",
                    "ID" => "legacyResourceId",
                    _ => "processedAt",
                };
                list.sort_by_key(|o| o[field].as_str().unwrap_or("").to_string());
                if self.arg(f, "reverse") == Some(Value::Bool(true)) {
                    list.reverse();
                }
                self.connection("Order", &list, f, path)
            }
            "node" | "order" => {
                let id = self
                    .arg(f, "id")
                    .and_then(|v| v.as_str().map(str::to_string));
                let Some(id) = id else { return Value::Null };
                let found = self.find(&id);
                match found {
                    Some((ty, v)) => {
                        self.actual += 1;
                        self.object(&ty, &v, &f.selection_set.items, path)
                    }
                    None => Value::Null,
                }
            }
            "currentAppInstallation" => {
                let scopes: Vec<Value> = self
                    .s
                    .rules
                    .scopes
                    .iter()
                    .map(|h| json!({"handle": h, "description": h}))
                    .collect();
                self.actual += 1;
                self.object(
                    "AppInstallation",
                    &json!({"accessScopes": scopes}),
                    &f.selection_set.items,
                    path,
                )
            }
            "shop" => {
                self.actual += 1;
                let services = self.s.app.services.clone();
                self.object("Shop", &json!({"name": "Fake", "myshopifyDomain": SHOP, "currencyCode": "SEK", "ianaTimezone": "Europe/Stockholm", "fulfillmentServices": services}), &f.selection_set.items, path)
            }
            "webhookSubscriptions" => {
                let uri = self
                    .arg(f, "uri")
                    .and_then(|v| v.as_str().map(str::to_string));
                let list: Vec<Value> = self
                    .s
                    .app
                    .subscriptions
                    .iter()
                    .filter(|s| uri.as_ref().is_none_or(|u| s["uri"] == json!(u)))
                    .cloned()
                    .collect();
                self.connection("WebhookSubscription", &list, f, path)
            }
            "assignedFulfillmentOrders" => {
                // The fake app is the fulfillment service of every
                // fulfillment order marked `assignedToApp`.
                let wanted = match self.arg(f, "assignmentStatus") {
                    Some(Value::String(s)) => Some(s),
                    _ => None,
                };
                let list: Vec<Value> = self
                    .s
                    .orders
                    .iter()
                    .filter(|o| self.s.visible(o))
                    .flat_map(|o| {
                        o["fulfillmentOrders"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                    })
                    .filter(|fo| fo["assignedToApp"] == json!(true))
                    .filter(|fo| {
                        let request = fo["requestStatus"].as_str().unwrap_or("UNSUBMITTED");
                        match wanted.as_deref() {
                            Some("FULFILLMENT_REQUESTED") => request == "SUBMITTED",
                            Some("FULFILLMENT_ACCEPTED") => request == "ACCEPTED",
                            Some("CANCELLATION_REQUESTED") => request == "CANCELLATION_REQUESTED",
                            _ => true,
                        }
                    })
                    .collect();
                self.connection("FulfillmentOrder", &list, f, path)
            }
            "bulkOperation" => {
                let id = self
                    .arg(f, "id")
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                let Some(i) = self.s.bulks.iter().position(|b| b.id == id) else {
                    return Value::Null;
                };
                {
                    let b = &mut self.s.bulks[i];
                    b.polls += 1;
                    if b.status == "CREATED" {
                        b.status = "RUNNING";
                    }
                }
                if self.s.bulks[i].status == "RUNNING"
                    && self.s.bulks[i].polls > self.s.rules.bulk_polls
                {
                    self.s.complete_bulk(i);
                }
                let v = self.bulk_value(i);
                self.actual += 1;
                self.object("BulkOperation", &v, &f.selection_set.items, path)
            }
            _ => Value::Null,
        }
    }

    fn bulk_value(&self, i: usize) -> Value {
        let b = &self.s.bulks[i];
        let url = b
            .file
            .as_ref()
            .map(|_| format!("{}/bulk/{i}.jsonl", self.s.base));
        json!({
            "id": b.id, "status": b.status, "errorCode": b.error, "type": "QUERY",
            "query": "", "createdAt": b.created_at.to_rfc3339(),
            "completedAt": b.completed_at.map(|t| t.to_rfc3339()),
            "objectCount": b.objects.to_string(), "rootObjectCount": "0",
            "fileSize": b.file.as_ref().map(|f| f.len().to_string()),
            "url": if b.status == "COMPLETED" { url.clone() } else { None },
            "partialDataUrl": if b.status == "FAILED" { url } else { None },
        })
    }

    fn mutation(&mut self, f: &Field) -> Value {
        let payload = match f.name.as_str() {
            "bulkOperationRunQuery" => {
                let text = self
                    .arg(f, "query")
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                let group = self.arg(f, "groupObjects") == Some(Value::Bool(true));
                let user_error = |m: String, code: &str| json!({"bulkOperation": null, "userErrors": [{"field": ["query"], "message": m, "code": code}]});
                let doc = match cost::parse_query(&text) {
                    Ok(d) => d,
                    Err(e) => {
                        return self.project(
                            "BulkOperationRunQueryPayload",
                            &user_error(e.to_string(), "INVALID"),
                            f,
                        );
                    }
                };
                if let Err(m) = self.s.schema.check_bulk_query(&doc) {
                    return self.project(
                        "BulkOperationRunQueryPayload",
                        &user_error(m, "INVALID"),
                        f,
                    );
                }
                let running = self
                    .s
                    .bulks
                    .iter()
                    .filter(|b| matches!(b.status, "CREATED" | "RUNNING"))
                    .count();
                if running >= self.s.rules.bulk_concurrency {
                    return self.project("BulkOperationRunQueryPayload", &user_error(
                        format!("A bulk query operation for this app and shop is already in progress: only {} may run at a time.", self.s.rules.bulk_concurrency),
                        "OPERATION_IN_PROGRESS"), f);
                }
                let n = self.s.bulks.len();
                self.s.counters.bulk_started += 1;
                self.s.bulks.push(Bulk {
                    id: format!("gid://shopify/BulkOperation/{}", 1000 + n),
                    status: "CREATED",
                    polls: 0,
                    query: doc,
                    group,
                    created_at: Utc::now(),
                    completed_at: None,
                    file: None,
                    objects: 0,
                    error: None,
                });
                json!({"bulkOperation": self.bulk_value(n), "userErrors": []})
            }
            "bulkOperationCancel" => {
                let id = self
                    .arg(f, "id")
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                match self.s.bulks.iter().position(|b| b.id == id) {
                    Some(i) => {
                        self.s.bulks[i].status = "CANCELED";
                        json!({"bulkOperation": self.bulk_value(i), "userErrors": []})
                    }
                    None => {
                        json!({"bulkOperation": null, "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}]})
                    }
                }
            }
            other => {
                let args: HashMap<String, Value> = f
                    .arguments
                    .iter()
                    .map(|(name, _)| (name.clone(), self.arg(f, name).unwrap_or(Value::Null)))
                    .collect();
                let arg = |name: &str| args.get(name).cloned().unwrap_or(Value::Null);
                *self.s.counters.writes.entry(other.to_string()).or_default() += 1;
                let (scopes, withheld) =
                    (self.s.rules.scopes.clone(), self.s.rules.withheld.clone());
                match self
                    .s
                    .app
                    .apply(other, &arg, &scopes, &withheld, Utc::now())
                {
                    Some(v) => v,
                    None => writes::apply(other, &arg, &mut self.s.orders, Utc::now())
                        .unwrap_or(Value::Null),
                }
            }
        };
        let ty = self
            .s
            .schema
            .field("Mutation", &f.name)
            .map(|d| d.ty.clone())
            .unwrap_or_default();
        self.project(&ty, &payload, f)
    }

    fn project(&mut self, ty: &str, v: &Value, f: &Field) -> Value {
        self.object(ty, v, &f.selection_set.items, vec![])
    }

    /// The object with gid `id`, anywhere in the shop, with its type.
    fn find(&self, id: &str) -> Option<(String, Value)> {
        fn walk(v: &Value, id: &str) -> Option<Value> {
            match v {
                Value::Object(m) => {
                    if m.get("id").and_then(Value::as_str) == Some(id) {
                        return Some(v.clone());
                    }
                    m.values().find_map(|x| walk(x, id))
                }
                Value::Array(a) => a.iter().find_map(|x| walk(x, id)),
                _ => None,
            }
        }
        let ty = id
            .strip_prefix("gid://shopify/")?
            .split('/')
            .next()?
            .to_string();
        for o in self.s.orders.iter().filter(|o| self.s.visible(o)) {
            if let Some(v) = walk(o, id) {
                return Some((ty, v));
            }
        }
        None
    }

    /// The concrete type of `v` when its declared type is abstract.
    fn concrete(&self, declared: &str, v: &Value) -> String {
        match self.s.schema.kind(declared) {
            Some(Kind::Interface | Kind::Union) => v["__typename"]
                .as_str()
                .map(str::to_string)
                .or_else(|| {
                    v["id"].as_str().and_then(|id| {
                        id.strip_prefix("gid://shopify/")?
                            .split('/')
                            .next()
                            .map(str::to_string)
                    })
                })
                .unwrap_or_else(|| declared.to_string()),
            _ => declared.to_string(),
        }
    }

    fn selections(&self, ty: &str, items: &[Sel]) -> Vec<Field> {
        let mut out = Vec::new();
        for item in items {
            match item {
                q::Selection::Field(f) => out.push(f.clone()),
                q::Selection::InlineFragment(fr) => {
                    let applies = match &fr.type_condition {
                        None => true,
                        Some(q::TypeCondition::On(c)) => self.s.schema.applies(c, ty),
                    };
                    if applies {
                        out.extend(self.selections(ty, &fr.selection_set.items));
                    }
                }
                q::Selection::FragmentSpread(sp) => {
                    if let Some(fr) = self.fragments.get(&sp.fragment_name).cloned() {
                        let q::TypeCondition::On(c) = &fr.type_condition;
                        if self.s.schema.applies(c, ty) {
                            out.extend(self.selections(ty, &fr.selection_set.items));
                        }
                    }
                }
            }
        }
        out
    }

    fn object(&mut self, declared: &str, v: &Value, items: &[Sel], path: Vec<Value>) -> Value {
        if v.is_null() {
            return Value::Null;
        }
        let ty = self.concrete(declared, v);
        let mut out = Map::new();
        for f in self.selections(&ty, items) {
            let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
            let mut p = path.clone();
            p.push(json!(key));
            let value = self.field(&ty, v, &f, p);
            out.insert(key, value);
        }
        Value::Object(out)
    }

    fn field(&mut self, ty: &str, v: &Value, f: &Field, path: Vec<Value>) -> Value {
        if f.name == "__typename" {
            return json!(ty);
        }
        let Some(def) = self.s.schema.field(ty, &f.name).cloned() else {
            return Value::Null;
        };
        if !self.s.has_scope(&def.scopes) {
            self.deny(&f.name, &def.scopes, path);
            return Value::Null;
        }
        if let Some(kind) = def.protected {
            let w = &self.s.rules.withheld;
            if w.contains(&kind) || w.contains(&Protected::Customer) {
                if !self.bulk {
                    let message = if kind == Protected::Customer {
                        format!("This app is not approved to access the {} object.", def.ty)
                    } else {
                        format!("This app is not approved to use the {} field.", f.name)
                    };
                    self.errors.push(json!({
                        "message": message, "locations": [], "path": path,
                        "extensions": {"code": "ACCESS_DENIED", "documentation": "https://shopify.dev/docs/apps/launch/protected-customer-data"}
                    }));
                }
                return Value::Null;
            }
        }
        let raw = v.get(&f.name).cloned().unwrap_or(Value::Null);
        match self.s.schema.kind(&def.ty) {
            Some(Kind::Scalar | Kind::Enum) | None => return raw,
            _ => {}
        }
        if let Some(node) = self.s.schema.connection_node(&def.ty).map(str::to_string) {
            let list = raw.as_array().cloned().unwrap_or_default();
            return self.connection(&node, &list, f, path);
        }
        if def.list {
            let mut list = raw.as_array().cloned().unwrap_or_default();
            if !self.bulk
                && let Some(n) = self.arg(f, "first").and_then(|v| v.as_u64())
            {
                list.truncate(n as usize);
            }
            let mut out = Vec::new();
            for (i, e) in list.iter().enumerate() {
                let mut p = path.clone();
                p.push(json!(i));
                self.actual += 1;
                out.push(self.object(&def.ty, e, &f.selection_set.items, p));
            }
            return Value::Array(out);
        }
        if raw.is_null() {
            return Value::Null;
        }
        self.actual += 1;
        self.object(&def.ty, &raw, &f.selection_set.items, path)
    }

    fn connection(&mut self, node: &str, list: &[Value], f: &Field, path: Vec<Value>) -> Value {
        let first = self.arg(f, "first").and_then(|v| v.as_u64());
        let last = self.arg(f, "last").and_then(|v| v.as_u64());
        let (start, end) = if self.bulk {
            (0, list.len())
        } else {
            let after = self
                .arg(f, "after")
                .and_then(|v| v.as_str().and_then(decode_cursor));
            let start = after.map_or(0, |a| a + 1).min(list.len());
            let n = first.or(last).unwrap_or(MAX_PAGE) as usize;
            (start, (start + n).min(list.len()))
        };
        self.actual += 2;
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        let node_items: Vec<Sel> = cost::node_selections(f).into_iter().cloned().collect();
        for (i, v) in list.iter().enumerate().take(end).skip(start) {
            self.actual += 1;
            let mut p = path.clone();
            p.push(json!("nodes"));
            p.push(json!(i - start));
            let projected = self.object(node, v, &node_items, p);
            nodes.push(projected.clone());
            edges.push(json!({"cursor": encode_cursor(i), "node": projected}));
        }
        let page = json!({
            "hasNextPage": end < list.len(),
            "hasPreviousPage": start > 0,
            "startCursor": (start < end).then(|| encode_cursor(start)),
            "endCursor": (start < end).then(|| encode_cursor(end - 1)),
        });
        let mut out = Map::new();
        for item in &f.selection_set.items {
            if let q::Selection::Field(sub) = item {
                let key = sub.alias.clone().unwrap_or_else(|| sub.name.clone());
                let value = match sub.name.as_str() {
                    "nodes" => Value::Array(nodes.clone()),
                    "edges" => Value::Array(
                        edges
                            .iter()
                            .map(|e| {
                                let mut m = Map::new();
                                for x in &sub.selection_set.items {
                                    if let q::Selection::Field(ef) = x {
                                        let k = ef.alias.clone().unwrap_or_else(|| ef.name.clone());
                                        m.insert(k, e[ef.name.as_str()].clone());
                                    }
                                }
                                Value::Object(m)
                            })
                            .collect(),
                    ),
                    "pageInfo" => {
                        let mut m = Map::new();
                        for x in &sub.selection_set.items {
                            if let q::Selection::Field(pf) = x {
                                let k = pf.alias.clone().unwrap_or_else(|| pf.name.clone());
                                m.insert(k, page[pf.name.as_str()].clone());
                            }
                        }
                        Value::Object(m)
                    }
                    _ => Value::Null,
                };
                out.insert(key, value);
            }
        }
        Value::Object(out)
    }

    /// The JSONL lines of a bulk query: each node of every connection on a
    /// line of its own, nested ones with `__parentId`.
    fn bulk_lines(&mut self, doc: &Document, group: bool) -> Vec<String> {
        self.fragments = cost::fragments(doc)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let Some((_, items)) = cost::operation(doc) else {
            return Vec::new();
        };
        let root = items.iter().find_map(|s| match s {
            q::Selection::Field(f) => Some(f.clone()),
            _ => None,
        });
        let Some(root) = root else { return Vec::new() };
        let resolved = self.root(&root, vec![]);
        let node_ty = self
            .s
            .schema
            .field("QueryRoot", &root.name)
            .and_then(|d| self.s.schema.connection_node(&d.ty))
            .unwrap_or("Order")
            .to_string();
        let roots = connection_nodes(&resolved);
        let node_items: Vec<Sel> = cost::node_selections(&root).into_iter().cloned().collect();
        let mut grouped = Vec::new();
        let mut parents = Vec::new();
        let mut children = Vec::new();
        for r in roots {
            let mut lines = Vec::new();
            self.flatten(&node_ty, r, &node_items, None, &mut lines);
            let mut it = lines.into_iter();
            if let Some(first) = it.next() {
                parents.push(first.clone());
                grouped.push(first);
            }
            for l in it {
                children.push(l.clone());
                grouped.push(l);
            }
        }
        if group {
            grouped
        } else {
            parents.into_iter().chain(children).collect()
        }
    }

    /// Emits `v` (a projected object of type `ty`) with its nested
    /// connections taken out and emitted after it.
    fn flatten(
        &self,
        ty: &str,
        v: Value,
        items: &[Sel],
        parent: Option<&str>,
        out: &mut Vec<String>,
    ) {
        let mut obj = v.as_object().cloned().unwrap_or_default();
        let id = obj.get("id").and_then(Value::as_str).map(str::to_string);
        // (node type, nodes, their selection, the owner's id)
        type Nested = (String, Vec<Value>, Vec<Sel>, Option<String>);
        let mut nested: Vec<Nested> = Vec::new();
        for f in self.selections(ty, items) {
            let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
            let Some(def) = self.s.schema.field(ty, &f.name) else {
                continue;
            };
            if let Some(node) = self.s.schema.connection_node(&def.ty) {
                let value = obj.remove(&key).unwrap_or(Value::Null);
                let sel: Vec<Sel> = cost::node_selections(&f).into_iter().cloned().collect();
                nested.push((node.to_string(), connection_nodes(&value), sel, id.clone()));
            } else if def.list {
                // Connections inside list elements (a shipment's scans).
                if let Some(Value::Array(elems)) = obj.get_mut(&key) {
                    for e in elems.iter_mut() {
                        let eid = e.get("id").and_then(Value::as_str).map(str::to_string);
                        for sf in self.selections(&def.ty, &f.selection_set.items) {
                            let skey = sf.alias.clone().unwrap_or_else(|| sf.name.clone());
                            let Some(sdef) = self.s.schema.field(&def.ty, &sf.name) else {
                                continue;
                            };
                            if let Some(snode) = self.s.schema.connection_node(&sdef.ty) {
                                let value = e
                                    .as_object_mut()
                                    .and_then(|m| m.remove(&skey))
                                    .unwrap_or(Value::Null);
                                let sel: Vec<Sel> =
                                    cost::node_selections(&sf).into_iter().cloned().collect();
                                nested.push((
                                    snode.to_string(),
                                    connection_nodes(&value),
                                    sel,
                                    eid.clone(),
                                ));
                            }
                        }
                    }
                }
            }
        }
        if let Some(p) = parent {
            obj.insert("__parentId".into(), json!(p));
        }
        out.push(Value::Object(obj).to_string());
        for (node_ty, nodes, sel, owner) in nested {
            for n in nodes {
                self.flatten(&node_ty, n, &sel, owner.as_deref(), out);
            }
        }
    }
}

fn connection_nodes(v: &Value) -> Vec<Value> {
    if let Some(nodes) = v["nodes"].as_array() {
        return nodes.clone();
    }
    v["edges"]
        .as_array()
        .map(|e| e.iter().map(|x| x["node"].clone()).collect())
        .unwrap_or_default()
}

/// Shopify's search syntax, the part the client uses:
/// `updated_at:>='TIME'` (and `<=`, `>`, `<`), terms joined by spaces.
fn matches_search(order: &Value, search: &str) -> bool {
    search.split_whitespace().all(|term| {
        let Some((field, cond)) = term.split_once(':') else {
            return true;
        };
        let key = match field {
            "updated_at" => "updatedAt",
            "created_at" => "createdAt",
            _ => return true,
        };
        let have = order[key]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        let (op, value) = ["<=", ">=", "<", ">"]
            .iter()
            .find_map(|op| cond.strip_prefix(op).map(|v| (*op, v)))
            .unwrap_or(("=", cond));
        let want = DateTime::parse_from_rfc3339(value.trim_matches('\''));
        match (have, want) {
            (Some(h), Ok(w)) => match op {
                "<=" => h <= w,
                ">=" => h >= w,
                "<" => h < w,
                ">" => h > w,
                _ => h == w,
            },
            _ => false,
        }
    })
}

fn money(
    amount: Option<rust_decimal::Decimal>,
    shop: Option<rust_decimal::Decimal>,
    currency: &str,
    shop_currency: &str,
) -> Value {
    let a = amount.unwrap_or_default().to_string();
    let s = shop.or(amount).unwrap_or_default().to_string();
    json!({"shopMoney": {"amount": s, "currencyCode": shop_currency}, "presentmentMoney": {"amount": a, "currencyCode": currency}})
}

/// An order of ours as Shopify's GraphQL Admin API holds it (the fake's
/// data): connections as plain lists, every object with its gid.
pub fn graphql_order(o: &Order) -> Value {
    let cur = o.currency.as_str();
    let shop_cur = o.shop_currency.as_deref().unwrap_or(cur);
    let m = |a: Option<rust_decimal::Decimal>| money(a, None, cur, shop_cur);
    let line_items: Vec<Value> = o
        .line_items
        .iter()
        .map(|li| {
            json!({"id": gid("LineItem", li.id), "title": li.title, "variantTitle": li.variant_title, "sku": li.sku,
                   "quantity": li.quantity, "currentQuantity": li.live_quantity(), "requiresShipping": li.requires_shipping,
                   "originalUnitPriceSet": m(li.price), "image": li.image_url.as_ref().map(|u| json!({"url": u}))})
        })
        .collect();
    let customer = o.customer.as_ref().map(|c| {
        json!({"id": gid("Customer", o.id), "firstName": c.first_name, "lastName": c.last_name, "locale": "en"})
    });
    let address = o.shipping_address.as_ref().map(|a| {
        json!({"name": a.name, "address1": a.address1, "address2": a.address2, "city": a.city,
               "province": a.province, "zip": a.zip, "country": a.country, "countryCodeV2": a.country_code, "phone": a.phone})
    });
    let fulfillment_orders: Vec<Value> = o
        .fulfillment_orders
        .iter()
        .map(|fo| gql_fulfillment_order(o, fo, &line_items))
        .collect();
    let fulfillments: Vec<Value> = o
        .fulfillments
        .iter()
        .map(|f| gql_fulfillment(f, &line_items))
        .collect();
    let returns: Vec<Value> = o
        .returns
        .iter()
        .map(|r| gql_return(r, &line_items))
        .collect();
    let refunds: Vec<Value> = o
        .refunds
        .iter()
        .map(|r| json!({"id": gid("Refund", r.id), "createdAt": t(r.at()), "note": r.note, "totalRefundedSet": m(r.amount())}))
        .collect();
    let mut v = json!({
        "id": gid("Order", o.id), "legacyResourceId": o.id.to_string(), "name": o.name,
        "email": o.email, "phone": o.phone, "customerLocale": o.customer_locale,
        "currencyCode": shop_cur, "presentmentCurrencyCode": cur,
        "createdAt": t(o.created_at), "processedAt": t(o.processed_at), "updatedAt": t(o.updated_at),
        "closedAt": t(o.closed_at), "cancelledAt": t(o.cancelled_at),
        "cancelReason": o.cancel_reason.as_ref().map(|r| r.as_str()),
        "tags": o.tags,
        "displayFinancialStatus": o.financial_status.as_str(),
        "displayFulfillmentStatus": o.fulfillment_status.as_str(),
        "returnStatus": o.return_status().as_str(),
    });
    let extra = [
        ("subtotalPriceSet", m(o.subtotal_price)),
        (
            "totalPriceSet",
            money(o.total_price, o.shop_total_price, cur, shop_cur),
        ),
        ("totalTaxSet", m(o.total_tax)),
        ("taxesIncluded", json!(o.taxes_included)),
        ("totalDiscountsSet", m(o.total_discounts)),
        ("totalShippingPriceSet", m(o.total_shipping)),
        ("customer", customer.unwrap_or(Value::Null)),
        ("shippingAddress", address.unwrap_or(Value::Null)),
        (
            "shippingLine",
            o.shipping_method
                .as_ref()
                .map(|s| json!({"title": s}))
                .unwrap_or(Value::Null),
        ),
        ("lineItems", Value::Array(line_items)),
        ("fulfillmentOrders", Value::Array(fulfillment_orders)),
        ("fulfillments", Value::Array(fulfillments)),
        ("returns", Value::Array(returns)),
        ("refunds", Value::Array(refunds)),
    ];
    if let Some(map) = v.as_object_mut() {
        for (k, x) in extra {
            map.insert(k.to_string(), x);
        }
    }
    v
}

fn gid(t: &str, id: u64) -> String {
    format!("gid://shopify/{t}/{id}")
}

fn t(d: Option<DateTime<Utc>>) -> Option<String> {
    d.map(|d| d.to_rfc3339())
}

fn line_ref(lines: &[Value], id: u64) -> Value {
    lines
        .iter()
        .find(|l| l["id"] == json!(gid("LineItem", id)))
        .cloned()
        .unwrap_or_else(|| json!({"id": gid("LineItem", id)}))
}

fn gql_fulfillment_order(
    o: &Order,
    fo: &order_status::order::FulfillmentOrder,
    lines: &[Value],
) -> Value {
    let location = fo
        .assigned_location
        .as_ref()
        .and_then(|l| l.location_id)
        .map(|id| json!({"id": gid("Location", id), "legacyResourceId": id.to_string(), "name": "L"}));
    let name = fo
        .assigned_location
        .as_ref()
        .and_then(|l| l.name.clone())
        .unwrap_or_default();
    let holds: Vec<Value> = fo
        .fulfillment_holds
        .iter()
        .map(|h| json!({"reason": h.reason.as_str(), "reasonNotes": h.reason_notes}))
        .collect();
    let fo_lines: Vec<Value> = fo
        .line_items
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({"id": gid("FulfillmentOrderLineItem", fo.id * 100 + i as u64), "totalQuantity": l.quantity,
                   "remainingQuantity": l.quantity, "lineItem": line_ref(lines, l.line_item_id)})
        })
        .collect();
    json!({
        "id": gid("FulfillmentOrder", fo.id), "orderId": gid("Order", o.id), "orderName": o.name,
        "status": fo.status.as_str(), "requestStatus": "UNSUBMITTED",
        "fulfillAt": t(fo.fulfill_at), "updatedAt": t(fo.updated_at.or(o.updated_at)),
        "assignedLocation": {"name": name, "countryCode": "SE", "location": location},
        "fulfillmentHolds": holds, "lineItems": fo_lines,
    })
}

fn gql_fulfillment(f: &order_status::order::Fulfillment, lines: &[Value]) -> Value {
    let tracking: Vec<Value> = f
        .tracking_numbers
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"company": f.tracking_company, "number": n, "url": f.tracking_urls.get(i)}))
        .collect();
    let items: Vec<Value> = f
        .line_items
        .iter()
        .enumerate()
        .map(|(i, l)| json!({"id": gid("FulfillmentLineItem", f.id * 100 + i as u64), "quantity": l.quantity, "lineItem": line_ref(lines, l.id)}))
        .collect();
    let events: Vec<Value> = f
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let id = if e.id == 0 { f.id * 1000 + i as u64 } else { e.id };
            json!({"id": gid("FulfillmentEvent", id), "status": e.status.as_str(), "happenedAt": t(e.happened_at),
                   "message": e.message, "address1": e.address1, "zip": e.zip, "city": e.city, "province": e.province, "country": e.country,
                   "estimatedDeliveryAt": t(e.estimated_delivery_at)})
        })
        .collect();
    let location = f.location_name.as_ref().map(|n| {
        let id = f.location_id.unwrap_or(1);
        json!({"id": gid("Location", id), "name": n, "legacyResourceId": id.to_string()})
    });
    let status = f
        .status
        .as_ref()
        .map(|s| s.as_str().to_ascii_uppercase())
        .unwrap_or_else(|| "SUCCESS".into());
    json!({
        "id": gid("Fulfillment", f.id), "name": f.name, "status": status,
        "displayStatus": f.display_status().as_str(), "createdAt": t(f.created_at),
        "updatedAt": t(f.updated_at.or(f.created_at)), "estimatedDeliveryAt": t(f.estimated_delivery()),
        "inTransitAt": t(f.in_transit_at), "deliveredAt": t(f.delivered_time()), "location": location,
        "trackingInfo": tracking, "fulfillmentLineItems": items, "events": events,
    })
}

fn gql_return(r: &order_status::order::Return, lines: &[Value]) -> Value {
    let items: Vec<Value> = r
        .line_items
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let reason = l.return_reason.as_ref().map(|h| {
                json!({"id": "gid://shopify/ReturnReasonDefinition/1", "handle": h.to_ascii_lowercase().replace('_', "-"), "name": h})
            });
            let fli = json!({"id": gid("FulfillmentLineItem", r.id * 1000 + i as u64), "quantity": l.quantity, "lineItem": line_ref(lines, l.line_item_id)});
            json!({"__typename": "ReturnLineItem", "id": gid("ReturnLineItem", r.id * 100 + i as u64),
                   "quantity": l.quantity, "returnReasonDefinition": reason, "fulfillmentLineItem": fli})
        })
        .collect();
    let deliveries: Vec<Value> = r
        .tracking
        .iter()
        .enumerate()
        .map(|(i, tr)| {
            let tracking = json!({"carrierName": tr.company, "number": tr.number, "url": tr.url});
            json!({"id": gid("ReverseDelivery", r.id * 10 + i as u64),
                   "deliverable": {"__typename": "ReverseDeliveryShippingDeliverable", "tracking": tracking}})
        })
        .collect();
    let rfos = if deliveries.is_empty() {
        vec![]
    } else {
        vec![json!({"id": gid("ReverseFulfillmentOrder", r.id), "reverseDeliveries": deliveries})]
    };
    json!({
        "id": gid("Return", r.id), "name": r.name.clone().unwrap_or_default(), "status": r.status.as_str(),
        "createdAt": t(r.created_at), "closedAt": t(r.closed_at),
        "returnLineItems": items, "reverseFulfillmentOrders": rfos,
    })
}

/// Posts a fulfillment service notification the way Shopify does:
/// `<callback>/fulfillment_order_notification`, the body `{"kind": ...}`,
/// HMAC-SHA256 of the body under the app's client secret, the shop's
/// domain in a header.
async fn notify_service(callback: &str, kind: &str) -> u16 {
    use hmac::{Hmac, Mac};
    let body = json!({ "kind": kind }).to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).expect("key");
    mac.update(body.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    reqwest::Client::new()
        .post(format!(
            "{}/fulfillment_order_notification",
            callback.trim_end_matches('/')
        ))
        .header("content-type", "application/json")
        .header("x-shopify-shop-domain", SHOP)
        .header("x-shopify-hmac-sha256", signature)
        .body(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// How a webhook delivery went, attempt by attempt.
#[derive(Debug, Clone, Default)]
pub struct Delivered {
    /// Status of each attempt (0: no answer in time / no connection).
    pub attempts: Vec<u16>,
    /// Shopify gave up (and would remove the subscription after more).
    pub gave_up: bool,
}

/// Retries after the first attempt (Shopify: 8, over 4 hours).
pub const WEBHOOK_RETRIES: usize = 8;
/// How long Shopify waits for an answer.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

/// Delivers a webhook the way Shopify does: signed, with its headers, and
/// retried on anything but a 2xx answered within 5 s, up to 8 more times
/// (the 4-hour schedule compressed to `pause` between attempts).
#[allow(clippy::too_many_arguments)]
pub async fn send_webhook(
    url: &str,
    shop: &str,
    topic: &str,
    body: &[u8],
    secret: &str,
    event_id: &str,
    triggered_at: DateTime<Utc>,
    pause: Duration,
) -> Delivered {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let client = reqwest::Client::builder()
        .timeout(WEBHOOK_TIMEOUT)
        .build()
        .expect("client");
    // One id per delivery, the same on every retry (Shopify's documented
    // de-duplication key beside the event id).
    let webhook_id = format!("wh-{event_id}");
    let mut done = Delivered::default();
    for attempt in 0..=WEBHOOK_RETRIES {
        if attempt > 0 {
            tokio::time::sleep(pause).await;
        }
        let res = client
            .post(url)
            .header("content-type", "application/json")
            .header("x-shopify-topic", topic)
            .header("x-shopify-shop-domain", shop)
            .header("x-shopify-hmac-sha256", &signature)
            .header("x-shopify-api-version", "2026-10")
            .header("x-shopify-webhook-id", &webhook_id)
            .header("x-shopify-event-id", event_id)
            .header("x-shopify-triggered-at", triggered_at.to_rfc3339())
            .body(body.to_vec())
            .send()
            .await;
        let status = res.map(|r| r.status().as_u16()).unwrap_or(0);
        done.attempts.push(status);
        if (200..300).contains(&status) {
            return done;
        }
    }
    done.gave_up = true;
    done
}
