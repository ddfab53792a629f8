//! One shop's GraphQL Admin API client, shared by every task that calls
//! that shop (the periodic sync, bulk operations, refetches, `shopify
//! check`), because Shopify's limits are per app and shop.
//!
//! Before a query is sent its requested cost is computed ([`cost`]): one
//! over Shopify's 1,000-point limit is a bug and is never sent, and the
//! client waits until its model of the leaky bucket (corrected by
//! `extensions.cost.throttleStatus` after every answer) holds the requested
//! cost, so Shopify's `THROTTLED` is the exception, not the routine. When
//! it happens anyway (another app process sharing the bucket), the client
//! waits as long as the bucket needs and tries again; 429 honours
//! `Retry-After`; 5xx and network errors back off with jitter. 401 gets
//! one token renewal (client credentials) before it is an error. A
//! field-level `ACCESS_DENIED` names the scope Shopify says is missing.
//!
//! Every answer's `X-Shopify-API-Version` is compared with the version
//! asked for: Shopify serves an unsupported version as the oldest supported
//! one ("falls forward"), silently, so a mismatch is logged once and kept
//! for `/readyz`, `/metrics` and `shopify check`.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use thiserror::Error;

use super::auth::{AuthError, TokenSource};
use super::cost::{self, MAX_QUERY_COST, Schema};
use super::scopes::{Protected, withheld_by};
use crate::config::ShopifyShop;

/// Why a call failed for good.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ApiError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(
        "{shop}: Shopify refused the access token (401); check ORDER_STATUS_SHOPIFY_ACCESS_TOKEN (or the client id and secret), and that the app is still installed"
    )]
    Unauthorized { shop: String },
    #[error(
        "{shop}: access denied (403): the app needs the read_orders scope (and read_all_orders for orders older than 60 days): {detail}"
    )]
    Forbidden { shop: String, detail: String },
    #[error(
        "{shop}: Shopify denied access to `{field}`: the app needs the {} scope; add it to the app's access scopes, have the shop approve it, and sync again", .scopes.join(" or ")
    )]
    MissingScope {
        shop: String,
        field: String,
        scopes: Vec<String>,
    },
    #[error(
        "{shop}: the shop is frozen (402 Payment Required); the Admin API answers again once its bill is paid"
    )]
    PaymentRequired { shop: String },
    #[error("{shop}: the shop is locked (423); contact Shopify support")]
    Locked { shop: String },
    #[error("{shop}: no shop answers at {url} (404); check the shop's domain")]
    NotFound { shop: String, url: String },
    #[error(
        "{shop}: a query costs {cost} points, over Shopify's limit of {MAX_QUERY_COST} (a bug in order-status; please report it)"
    )]
    TooExpensive { shop: String, cost: u64 },
    #[error("{shop}: Shopify answered with an error: {detail}")]
    Query { shop: String, detail: String },
    #[error("{shop}: unexpected answer from Shopify: {detail}")]
    Shape { shop: String, detail: String },
    #[error("{shop}: gave up after {attempts} attempts: {last}")]
    GaveUp {
        shop: String,
        attempts: u32,
        last: String,
    },
}

/// Knobs, mostly for tests (a fake Shopify needs no real back-off).
#[derive(Debug, Clone, Copy)]
pub struct CallOptions {
    /// First back-off step; doubles per retry.
    pub backoff: Duration,
    /// Longest single wait.
    pub max_wait: Duration,
    /// Attempts per call (throttled attempts are not counted).
    pub attempts: u32,
    /// Throttled answers tolerated per call before giving up.
    pub throttles: u32,
}

impl Default for CallOptions {
    fn default() -> Self {
        CallOptions {
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            attempts: 8,
            throttles: 50,
        }
    }
}

/// The leaky bucket as last reported, less what was sent since.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    available: f64,
    maximum: f64,
    restore_rate: f64,
    at: Instant,
}

impl Bucket {
    fn now(&self) -> f64 {
        (self.available + self.at.elapsed().as_secs_f64() * self.restore_rate).min(self.maximum)
    }
}

/// The API version Shopify answered with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionSeen {
    pub asked: String,
    pub answered: Option<String>,
}

impl VersionSeen {
    /// Whether Shopify served another version than the one asked for.
    pub fn mismatch(&self) -> bool {
        self.answered.as_ref().is_some_and(|a| *a != self.asked)
    }
}

/// The GraphQL Admin API of one shop.
pub struct ShopApi {
    shop: ShopifyShop,
    http: reqwest::Client,
    tokens: TokenSource,
    schema: Schema,
    options: CallOptions,
    bucket: Mutex<Option<Bucket>>,
    version: Mutex<VersionSeen>,
    retries: AtomicUsize,
    throttled: AtomicUsize,
    /// Protected customer data Shopify withholds from this app, as its
    /// answers last said ([`ShopApi::probe_protected`] sets it whole).
    withheld: Mutex<BTreeSet<Protected>>,
}

impl std::fmt::Debug for ShopApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopApi")
            .field("shop", &self.shop.domain)
            .finish_non_exhaustive()
    }
}

impl ShopApi {
    pub fn new(shop: &ShopifyShop, options: CallOptions) -> Result<ShopApi, ApiError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("order-status/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Shape {
                shop: shop.domain.clone(),
                detail: e.to_string(),
            })?;
        let schema = Schema::admin().map_err(|e| ApiError::Shape {
            shop: shop.domain.clone(),
            detail: e.to_string(),
        })?;
        Ok(ShopApi {
            tokens: TokenSource::new(shop, http.clone()),
            version: Mutex::new(VersionSeen {
                asked: shop.api_version.clone(),
                answered: None,
            }),
            shop: shop.clone(),
            http,
            schema,
            options,
            bucket: Mutex::new(None),
            retries: AtomicUsize::new(0),
            throttled: AtomicUsize::new(0),
            withheld: Mutex::new(BTreeSet::new()),
        })
    }

    /// The shop's domain.
    pub fn domain(&self) -> &str {
        &self.shop.domain
    }

    /// The shop's configuration.
    pub fn shop(&self) -> &ShopifyShop {
        &self.shop
    }

    /// Its credentials.
    pub fn tokens(&self) -> &TokenSource {
        &self.tokens
    }

    /// The HTTP client (bulk results are downloaded with it).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The schema queries are costed against.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The version asked for and the one Shopify answered with.
    pub fn version(&self) -> VersionSeen {
        self.version
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Calls repeated after a 429, 5xx or network error so far.
    pub fn retries(&self) -> usize {
        self.retries.load(Ordering::Relaxed)
    }

    /// `THROTTLED` answers so far.
    pub fn throttled(&self) -> usize {
        self.throttled.load(Ordering::Relaxed)
    }

    /// The protected customer data Shopify withholds from this app.
    pub fn withheld(&self) -> BTreeSet<Protected> {
        self.withheld
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Asks for the protected fields of the newest 25 orders and keeps
    /// which Shopify withholds (a sync does this first, so that what a
    /// bulk file leaves blank is known to be withheld, not missing; Shopify
    /// only says so of a field an order has, hence more than one order).
    /// `None`: the shop has no orders to tell by.
    pub async fn probe_protected(&self) -> Result<Option<BTreeSet<Protected>>, ApiError> {
        self.withheld
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let data = match self.call(PROTECTED_PROBE, json!({})).await {
            Ok(d) => d,
            // Without read_orders nothing tells; the scope check says why.
            Err(ApiError::MissingScope { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let any = data["orders"]["nodes"]
            .as_array()
            .is_some_and(|n| !n.is_empty());
        Ok(any.then(|| self.withheld()))
    }

    fn url(&self) -> String {
        format!(
            "{}/admin/api/{}/graphql.json",
            self.shop.api_base, self.shop.api_version
        )
    }

    fn err_shop(&self) -> String {
        self.shop.domain.clone()
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.options.backoff.saturating_mul(1u32 << attempt.min(10));
        // Up to half again, so many clients do not retry in step.
        let mut r = [0u8; 2];
        let _ = getrandom::fill(&mut r);
        let jitter = f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX) * 0.5;
        base.mul_f64(1.0 + jitter).min(self.options.max_wait)
    }

    /// Takes `cost` out of the bucket, waiting first until it is there.
    async fn reserve(&self, cost: u64) {
        let cost = cost as f64;
        loop {
            let wait = {
                let mut guard = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
                match guard.as_mut() {
                    // Nothing known yet: the first answer will tell.
                    None => return,
                    Some(b) => {
                        let now = b.now();
                        if now >= cost.min(b.maximum) || b.restore_rate <= 0.0 {
                            b.available = now - cost;
                            b.at = Instant::now();
                            return;
                        }
                        Duration::from_secs_f64((cost - now) / b.restore_rate)
                    }
                }
            };
            tracing::debug!(?wait, cost, "waiting for the GraphQL cost bucket");
            tokio::time::sleep(wait.min(self.options.max_wait)).await;
        }
    }

    fn note_throttle_status(&self, body: &Value) {
        let t = &body["extensions"]["cost"]["throttleStatus"];
        if let (Some(available), Some(maximum), Some(rate)) = (
            t["currentlyAvailable"].as_f64(),
            t["maximumAvailable"].as_f64(),
            t["restoreRate"].as_f64(),
        ) {
            *self.bucket.lock().unwrap_or_else(|p| p.into_inner()) = Some(Bucket {
                available,
                maximum,
                restore_rate: rate,
                at: Instant::now(),
            });
        }
    }

    fn note_version(&self, res: &reqwest::Response) {
        let Some(answered) = res
            .headers()
            .get("x-shopify-api-version")
            .and_then(|v| v.to_str().ok())
        else {
            return;
        };
        let mut seen = self.version.lock().unwrap_or_else(|p| p.into_inner());
        if seen.answered.as_deref() != Some(answered) {
            if answered != seen.asked {
                tracing::warn!(
                    shop = %self.shop.domain,
                    asked = %seen.asked,
                    answered,
                    "Shopify answered with another Admin API version than the one asked for: the asked one is not supported (any more); set ORDER_STATUS_SHOPIFY_API_VERSION to a supported version"
                );
            }
            seen.answered = Some(answered.to_string());
        }
    }

    /// The requested cost of a query, as Shopify will compute it.
    pub fn cost(&self, query: &str, variables: &Value) -> Result<u64, ApiError> {
        let doc = cost::parse_query(query).map_err(|e| ApiError::Query {
            shop: self.err_shop(),
            detail: e.to_string(),
        })?;
        self.schema
            .requested_cost(&doc, variables)
            .map_err(|e| ApiError::Query {
                shop: self.err_shop(),
                detail: e.to_string(),
            })
    }

    /// One GraphQL call: `data` of the answer.
    pub async fn call(&self, query: &str, variables: Value) -> Result<Value, ApiError> {
        let shop = self.err_shop();
        let requested = self.cost(query, &variables)?;
        if requested > MAX_QUERY_COST {
            return Err(ApiError::TooExpensive {
                shop,
                cost: requested,
            });
        }
        let mut last = String::new();
        let mut attempt = 0;
        let mut throttles = 0;
        let mut renewed = false;
        while attempt < self.options.attempts {
            self.reserve(requested).await;
            let token = self.tokens.token().await?;
            let sent = self
                .http
                .post(self.url())
                .header("X-Shopify-Access-Token", &token)
                .json(&json!({ "query": query, "variables": variables }))
                .send()
                .await;
            let res = match sent {
                Ok(r) => r,
                Err(e) => {
                    last = format!("network error: {}", e.without_url());
                    self.retry(&mut attempt).await;
                    continue;
                }
            };
            self.note_version(&res);
            match res.status().as_u16() {
                401 if !renewed => {
                    renewed = true;
                    if self.tokens.renew(&token).await?.is_some() {
                        continue;
                    }
                    return Err(ApiError::Unauthorized { shop });
                }
                401 => return Err(ApiError::Unauthorized { shop }),
                402 => return Err(ApiError::PaymentRequired { shop }),
                403 => {
                    let detail = res.text().await.unwrap_or_default();
                    return Err(ApiError::Forbidden {
                        shop,
                        detail: detail.chars().take(300).collect(),
                    });
                }
                404 => {
                    return Err(ApiError::NotFound {
                        shop,
                        url: self.url(),
                    });
                }
                423 => return Err(ApiError::Locked { shop }),
                429 => {
                    let wait = res
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .filter(|s| s.is_finite() && *s >= 0.0)
                        .map(Duration::from_secs_f64)
                        .unwrap_or_else(|| self.backoff(attempt))
                        .min(self.options.max_wait);
                    last = "429 Too Many Requests".into();
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                    continue;
                }
                s if s >= 500 => {
                    last = format!("HTTP {s}");
                    self.retry(&mut attempt).await;
                    continue;
                }
                s if !(200..300).contains(&s) => {
                    let text = res.text().await.unwrap_or_default();
                    return Err(ApiError::Query {
                        shop,
                        detail: format!("HTTP {s}: {}", text.chars().take(300).collect::<String>()),
                    });
                }
                _ => {}
            }
            let body: Value = match res.json().await {
                Ok(v) => v,
                Err(e) => {
                    last = format!("unreadable answer: {}", e.without_url());
                    self.retry(&mut attempt).await;
                    continue;
                }
            };
            self.note_throttle_status(&body);
            let Some(errors) = body["errors"].as_array().filter(|e| !e.is_empty()) else {
                return Ok(body["data"].clone());
            };
            let code = |c: &str| errors.iter().any(|e| e["extensions"]["code"] == c);
            if code("THROTTLED") {
                throttles += 1;
                self.throttled.fetch_add(1, Ordering::Relaxed);
                if throttles > self.options.throttles {
                    return Err(ApiError::GaveUp {
                        shop,
                        attempts: throttles,
                        last: "THROTTLED".into(),
                    });
                }
                // The next reserve() waits for the bucket Shopify reported.
                last = "THROTTLED".into();
                continue;
            }
            if code("MAX_COST_EXCEEDED") {
                let cost = errors
                    .iter()
                    .find_map(|e| e["extensions"]["cost"].as_u64())
                    .unwrap_or(requested);
                return Err(ApiError::TooExpensive { shop, cost });
            }
            // Protected customer data the app is not approved for: Shopify
            // answers with the data, those fields null. Not an error for
            // the sync; kept so pages can say "not available".
            let withheld: Vec<Protected> = errors
                .iter()
                .filter_map(|e| e["message"].as_str().and_then(withheld_by))
                .collect();
            if withheld.len() == errors.len() {
                let mut set = self.withheld.lock().unwrap_or_else(|p| p.into_inner());
                let before = set.len();
                set.extend(withheld);
                if set.len() > before {
                    tracing::warn!(shop = %self.shop.domain, withheld = ?*set, "Shopify withholds protected customer data from this app; run `order-status shopify check`");
                }
                return Ok(body["data"].clone());
            }
            if let Some(denied) = errors
                .iter()
                .find(|e| e["extensions"]["code"] == "ACCESS_DENIED")
            {
                return Err(missing_scope(shop, denied));
            }
            let messages: Vec<String> = errors
                .iter()
                .filter_map(|e| e["message"].as_str().map(str::to_string))
                .collect();
            return Err(ApiError::Query {
                shop,
                detail: messages.join("; "),
            });
        }
        Err(ApiError::GaveUp {
            shop,
            attempts: self.options.attempts,
            last,
        })
    }

    async fn retry(&self, attempt: &mut u32) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(self.backoff(*attempt)).await;
        *attempt += 1;
    }
}

/// The newest orders' protected fields, to learn which Shopify withholds.
pub const PROTECTED_PROBE: &str = "query Protected { orders(first: 25, reverse: true, sortKey: CREATED_AT) { nodes { id email phone customer { firstName lastName } shippingAddress { address1 city } } } }";

/// A field-level `ACCESS_DENIED`, with the field and the scopes Shopify
/// says it needs ("Access denied for returns field. Required access:
/// `read_returns` access scope.").
fn missing_scope(shop: String, e: &Value) -> ApiError {
    let message = e["message"].as_str().unwrap_or("");
    let field = e["path"]
        .as_array()
        .and_then(|p| p.iter().rev().find_map(Value::as_str))
        .map(str::to_string)
        .or_else(|| {
            message
                .strip_prefix("Access denied for ")
                .and_then(|m| m.split_whitespace().next())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "a field".into());
    let required = e["extensions"]["requiredAccess"]
        .as_str()
        .or_else(|| message.split("Required access:").nth(1))
        .unwrap_or("");
    let scopes: Vec<String> = required
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    ApiError::MissingScope {
        shop,
        field,
        scopes: if scopes.is_empty() {
            vec!["required".into()]
        } else {
            scopes
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_names_the_scopes() {
        let e = json!({
            "message": "Access denied for fulfillmentOrders field. Required access: `read_merchant_managed_fulfillment_orders` access scope or `read_assigned_fulfillment_orders` access scope.",
            "path": ["orders", "nodes", 0, "fulfillmentOrders"],
            "extensions": {"code": "ACCESS_DENIED"}
        });
        let ApiError::MissingScope { field, scopes, .. } = missing_scope("s".into(), &e) else {
            panic!("missing scope");
        };
        assert_eq!(field, "fulfillmentOrders");
        assert_eq!(
            scopes,
            vec![
                "read_merchant_managed_fulfillment_orders".to_string(),
                "read_assigned_fulfillment_orders".to_string()
            ]
        );
        let msg = missing_scope("s".into(), &e).to_string();
        assert!(
            msg.contains("read_merchant_managed_fulfillment_orders"),
            "{msg}"
        );
    }

    #[test]
    fn versions_compare() {
        let v = VersionSeen {
            asked: "2025-10".into(),
            answered: Some("2026-01".into()),
        };
        assert!(v.mismatch());
        assert!(!VersionSeen::default().mismatch());
    }
}
