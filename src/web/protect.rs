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
//! Limiter state is pruned every minute (`retain_recent`), so memory stays
//! bounded when addresses rotate.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::middleware::NoOpMiddleware;
use tower_governor::GovernorError;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;

use super::AppState;
use super::render::{Visitor, choose_lang};
use crate::config::{Cidr, Config, FailureSpec, RateSpec};
use crate::i18n::{I18n, Lang};
use crate::ui::{LookupForm, LookupNotice, WAIT_MARKER};

/// The rate-limit key of a client: its address, IPv6 cut to the /64, or
/// "unidentified" when a proxy passed on a forwarding header that does not
/// parse (all such requests share one budget).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientKey {
    Ip(IpAddr),
    Unidentified,
}

/// Who sent a request, as far as can be told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    /// A client talking to us directly (no proxy between).
    Direct(IpAddr),
    /// A client behind one of our trusted proxies.
    Proxied(IpAddr),
    /// Behind a trusted proxy, with a forwarding header that does not say
    /// who (garbage, or only proxies).
    Unidentified,
}

impl Client {
    /// Whether the request comes from this host itself, not through a
    /// proxy (loopback behind a proxy is the proxy, not the client).
    pub fn is_local(self) -> bool {
        matches!(self, Client::Direct(ip) if ip.is_loopback())
    }

    /// The client's address, when known.
    pub fn ip(self) -> Option<IpAddr> {
        match self {
            Client::Direct(ip) | Client::Proxied(ip) => Some(ip),
            Client::Unidentified => None,
        }
    }
}

/// Finds the client behind a request (see the module doc).
#[derive(Clone, Debug)]
pub struct ClientIp {
    trusted: Arc<Vec<Cidr>>,
}

impl ClientIp {
    pub fn new(trusted: Vec<Cidr>) -> ClientIp {
        ClientIp {
            trusted: Arc::new(trusted),
        }
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|c| c.contains(ip))
    }

    /// The client of a request given the TCP peer and its headers.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> Client {
        if !self.is_trusted(peer) {
            return Client::Direct(peer);
        }
        let mut values = headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| v.to_str().ok())
            .peekable();
        if values.peek().is_none() {
            // A trusted proxy's own request (a health check, say).
            return Client::Direct(peer);
        }
        let Some(values) = values.collect::<Option<Vec<&str>>>() else {
            return Client::Unidentified;
        };
        // Walk right to left through every hop: the first address that is
        // not one of our proxies is the client as our proxies saw it; a hop
        // that does not parse is where the trustworthy part ends.
        for hop in values
            .iter()
            .rev()
            .flat_map(|v| v.rsplit(','))
            .map(str::trim)
        {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.is_trusted(ip) => continue,
                Ok(ip) => return Client::Proxied(ip),
                Err(_) => return Client::Unidentified,
            }
        }
        Client::Unidentified
    }

    /// The limiter key of a request.
    pub fn key_of<T>(&self, req: &axum::http::Request<T>) -> Option<ClientKey> {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())?;
        Some(match self.client(peer, req.headers()).ip() {
            Some(ip) => key(ip),
            None => ClientKey::Unidentified,
        })
    }
}

/// IPv4 as is (also when mapped into IPv6); IPv6 by its /64.
fn key(ip: IpAddr) -> ClientKey {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => ClientKey::Ip(IpAddr::V4(v4)),
            None => {
                let net = u128::from(v6) & (u128::MAX << 64);
                ClientKey::Ip(IpAddr::V6(Ipv6Addr::from(net)))
            }
        },
        v4 => ClientKey::Ip(v4),
    }
}

impl KeyExtractor for ClientIp {
    type Key = ClientKey;

    fn extract<T>(&self, req: &axum::http::Request<T>) -> Result<ClientKey, GovernorError> {
        self.key_of(req).ok_or(GovernorError::UnableToExtractKey)
    }
}

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

    /// Prunes every minute, for the life of the process.
    pub fn spawn_pruner(&self) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                me.prune();
            }
        });
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

/// Failed lookups per order number in a fixed window; at `max` the number
/// is locked until the window ends.
#[derive(Debug)]
pub struct OrderLock {
    spec: FailureSpec,
    counts: Mutex<HashMap<u64, (u32, Instant)>>,
}

impl OrderLock {
    pub fn new(spec: FailureSpec) -> OrderLock {
        OrderLock {
            spec,
            counts: Mutex::new(HashMap::new()),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (u32, Instant)>> {
        // A poisoned lock only means another request panicked mid-update;
        // the counts are still usable.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether lookups of `number` are refused right now.
    pub fn is_locked(&self, number: u64, now: Instant) -> bool {
        match self.counts().get(&number) {
            Some((n, start)) => {
                *n >= self.spec.max && now.duration_since(*start) < self.spec.window
            }
            None => false,
        }
    }

    /// Counts one failed lookup of `number`.
    pub fn record_failure(&self, number: u64, now: Instant) {
        let mut counts = self.counts();
        let entry = counts.entry(number).or_insert((0, now));
        if now.duration_since(entry.1) >= self.spec.window {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
    }

    fn prune(&self, now: Instant) {
        let window = self.spec.window;
        self.counts()
            .retain(|_, (_, start)| now.duration_since(*start) < window);
    }
}

/// Applies one of the limiters to a router.
pub fn layer(limit: &Limit) -> tower_governor::GovernorLayer<ClientIp, NoOpMiddleware, Body> {
    tower_governor::GovernorLayer::new(Arc::clone(limit))
}

/// Turns tower-governor's bare 429 into a page or JSON, with a sane
/// `Retry-After` (at least one second). Sits outside the limiters.
pub async fn explain_rate_limit(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let json = wants_json(&req);
    let is_lookup = req.method() == Method::POST && req.uri().path() == "/";
    // Keep what the page needs to speak the visitor's language.
    let mut kept = HeaderMap::new();
    for name in [header::ACCEPT_LANGUAGE, header::COOKIE, header::HOST] {
        for v in req.headers().get_all(&name) {
            kept.append(name.clone(), v.clone());
        }
    }
    let res = next.run(req).await;
    if res.status() != StatusCode::TOO_MANY_REQUESTS
        || !res.headers().contains_key("x-ratelimit-after")
    {
        return res;
    }
    let after = retry_after(&res);
    if is_lookup {
        state.metrics.lookup("rate_limited");
    }
    too_many_requests(&state, &kept, after, json)
}

fn wants_json(req: &Request) -> bool {
    let path = req.uri().path();
    path.starts_with("/api/") || path.starts_with("/webhooks/") || super::wants_json(req.headers())
}

/// Seconds until the client may retry, from a 429's headers.
fn retry_after(res: &Response) -> u64 {
    res.headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1)
}

/// The response for a client over its budget. Browsers get the lookup
/// page saying how long to wait, in their language; it is rendered once per
/// language and reused, so refusing a flood stays cheap.
pub fn too_many_requests(
    state: &AppState,
    headers: &HeaderMap,
    after: u64,
    json: bool,
) -> Response {
    let mut res = if json {
        (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(serde_json::json!({"error": "rate_limited", "retry_after": after})),
        )
            .into_response()
    } else {
        let (lang, _) = choose_lang(None, headers);
        let template = match state.limiters.pages_cache.rate_limited(lang) {
            Some(t) => t,
            None => {
                let form = LookupForm {
                    notice: Some(LookupNotice::RateLimitedTemplate),
                    ..LookupForm::default()
                };
                let visitor = Visitor {
                    lang,
                    lang_from_query: false,
                    base_url: String::new(),
                };
                let chrome = super::render::chrome(state, &visitor);
                let html = crate::ui::render(chrome, || crate::ui::lookup_page(form)).html;
                if !html.contains(WAIT_MARKER) {
                    // Kept only when it rendered right; a plain answer now,
                    // another try next time.
                    tracing::error!("the rate-limit page did not render; answering in plain text");
                    let mut res = (
                        StatusCode::TOO_MANY_REQUESTS,
                        "Too many requests. Please wait a little and try again.",
                    )
                        .into_response();
                    res.headers_mut().insert(header::RETRY_AFTER, after.into());
                    return res;
                }
                state.limiters.pages_cache.set_rate_limited(lang, html)
            }
        };
        let i18n = I18n::new(lang, state.config.shop.timezone, state.catalog.clone());
        let html = template.replace(WAIT_MARKER, &i18n.duration(after));
        (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (
                    header::VARY,
                    HeaderValue::from_static("Accept-Language, Cookie"),
                ),
            ],
            html,
        )
            .into_response()
    };
    res.headers_mut().insert(header::RETRY_AFTER, after.into());
    res
}

/// Pages rendered once per language and reused.
#[derive(Debug, Default)]
pub struct PageCache {
    rate_limited: [OnceLock<Arc<str>>; 2],
}

impl PageCache {
    fn slot(&self, lang: Lang) -> &OnceLock<Arc<str>> {
        match lang {
            Lang::En => &self.rate_limited[0],
            Lang::Sv => &self.rate_limited[1],
        }
    }

    fn rate_limited(&self, lang: Lang) -> Option<Arc<str>> {
        self.slot(lang).get().cloned()
    }

    fn set_rate_limited(&self, lang: Lang, html: String) -> Arc<str> {
        self.slot(lang).get_or_init(|| html.into()).clone()
    }
}

/// Security headers for every response (see the module doc).
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let embeddable = req.uri().path() == "/embed";
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let frame_ancestors = if embeddable && !state.config.embed_origins.is_empty() {
        state.config.embed_origins.join(" ")
    } else {
        "'none'".to_string()
    };
    let csp = format!(
        "default-src 'self'; img-src 'self' https: data:; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors {frame_ancestors}"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if frame_ancestors == "'none'" {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        axum::http::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        ),
    );
    if state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
    {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}

/// Refuses cross-site form posts (Leptos forms and server functions have
/// no CSRF protection of their own). Webhooks and the API are exempt:
/// they carry signatures, not cookies.
pub async fn same_origin_posts(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    let exempt = path.starts_with("/webhooks/") || path.starts_with("/api/");
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if unsafe_method && !exempt && !same_origin(&state, req.headers(), peer) {
        tracing::info!(path = %loggable_path(path), "cross-site form post refused");
        return (
            StatusCode::FORBIDDEN,
            "This form can only be sent from this site. Go back, reload the page and try again.",
        )
            .into_response();
    }
    next.run(req).await
}

/// A path fit for logs: status-link tokens are secrets and never logged.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/status/") {
        Some(_) => "/status/<token>".into(),
        None => path.into(),
    }
}

fn same_origin(state: &AppState, headers: &HeaderMap, peer: Option<IpAddr>) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(site) = text("sec-fetch-site")
        && site != "same-origin"
        && site != "none"
    {
        return false;
    }
    let Some(origin) = text("origin") else {
        // Browsers send Origin on every POST; a client without it is not a
        // browser, so there is no ambient cookie to abuse.
        return true;
    };
    if origin == "null" {
        return false;
    }
    // With a public URL, the origin must be exactly its scheme and host.
    if let Some(public) = state.config.public_url.as_deref() {
        return origin_of(public).eq_ignore_ascii_case(origin);
    }
    // Without one: this host, over the scheme the request came in on
    // (https when a trusted proxy says so).
    let https = text("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
        && peer.is_some_and(|ip| state.limiters.client_ip.is_trusted(ip));
    let scheme = if https { "https://" } else { "http://" };
    origin
        .strip_prefix(scheme)
        .is_some_and(|h| Some(h) == text("host"))
}

/// `https://host[:port]` of a base URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let c = ClientIp::new(vec![]);
        assert_eq!(
            c.client(ip("203.0.113.9"), &headers(&["1.2.3.4"])),
            Client::Direct(ip("203.0.113.9"))
        );
    }

    #[test]
    fn behind_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let c = ClientIp::new(vec![Cidr::parse("10.0.0.0/8").expect("cidr")]);
        // The client wrote "6.6.6.6" itself; our proxy appended the real peer.
        let h = headers(&["6.6.6.6, 198.51.100.7, 10.0.0.2"]);
        assert_eq!(
            c.client(ip("10.0.0.1"), &h),
            Client::Proxied(ip("198.51.100.7"))
        );
        // Split over two headers, the same.
        let h = headers(&["6.6.6.6", "198.51.100.7"]);
        assert_eq!(
            c.client(ip("10.0.0.1"), &h),
            Client::Proxied(ip("198.51.100.7"))
        );
        // Only proxies in the chain: nobody to name.
        assert_eq!(
            c.client(ip("10.0.0.1"), &headers(&["10.0.0.5"])),
            Client::Unidentified
        );
        // A garbage hop never makes the proxy the client.
        for garbage in ["garbage, 10.0.0.9", "1.2.3.4, nonsense", "garbage"] {
            let who = c.client(ip("10.0.0.1"), &headers(&[garbage]));
            assert_eq!(who, Client::Unidentified, "{garbage}");
            assert!(!who.is_local());
        }
        // A real client written after the garbage is believed.
        assert_eq!(
            c.client(ip("10.0.0.1"), &headers(&["garbage, 203.0.113.9"])),
            Client::Proxied(ip("203.0.113.9"))
        );
        // A request not from a proxy: its header is ignored.
        assert_eq!(
            c.client(ip("198.51.100.1"), &headers(&["1.1.1.1"])),
            Client::Direct(ip("198.51.100.1"))
        );
        // Loopback through a proxy on loopback is not local.
        let local = ClientIp::new(vec![Cidr::parse("127.0.0.1").expect("cidr")]);
        let via = local.client(ip("127.0.0.1"), &headers(&["garbage, 127.0.0.1"]));
        assert!(!via.is_local(), "{via:?}");
        assert!(
            !local
                .client(ip("127.0.0.1"), &headers(&["203.0.113.9"]))
                .is_local()
        );
        assert!(local.client(ip("127.0.0.1"), &headers(&[])).is_local());
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        assert_eq!(
            key(ip("2001:db8:1:2:aaaa::1")),
            key(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(key(ip("2001:db8:1:2::1")), key(ip("2001:db8:1:3::1")));
        assert_eq!(key(ip("::ffff:192.0.2.1")), key(ip("192.0.2.1")));
    }

    #[test]
    fn tokens_stay_out_of_logged_paths() {
        assert_eq!(loggable_path("/status/abc.def"), "/status/<token>");
        assert_eq!(loggable_path("/"), "/");
    }

    #[test]
    fn the_order_lock_trips_and_expires() {
        let lock = OrderLock::new(FailureSpec {
            max: 3,
            window: Duration::from_secs(60),
        });
        let t0 = Instant::now();
        for _ in 0..2 {
            lock.record_failure(1001, t0);
        }
        assert!(!lock.is_locked(1001, t0));
        lock.record_failure(1001, t0);
        assert!(lock.is_locked(1001, t0));
        assert!(!lock.is_locked(1002, t0), "other numbers are not affected");
        let later = t0 + Duration::from_secs(61);
        assert!(!lock.is_locked(1001, later));
        lock.prune(later);
        assert!(lock.counts().is_empty());
    }
}
