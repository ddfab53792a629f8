//! Every input from outside, generated: paths, query strings, forms,
//! cookies, headers, link tokens and signed webhook bodies go through the
//! whole router in-process (`oneshot`, with the middleware a real
//! connection gets); NDJSON lines and config values go through their
//! parsers. Whatever arrives, the answer is never a 5xx and nothing
//! panics (a panic in a handler is what drops a shopper's connection).
//! Case counts are bounded so this stays a few seconds of `cargo test`.

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use base64::Engine;
use hmac::{Hmac, Mac};
use http_body_util::BodyExt;
use order_status::config::Config;
use proptest::prelude::*;

use crate::common::inproc::TestApp;
use sha2::Sha256;
use tower::ServiceExt;

const SHOP: &str = "prop-shop.myshopify.com";
const WEBHOOK_SECRET: &str = "property-webhook-secret";

/// One app for every case: a data dir with the demo orders, a staff
/// session cookie and a valid status link, so generated requests reach
/// past authentication into the handlers.
struct App {
    _site: TestApp,
    rt: tokio::runtime::Runtime,
    router: Router,
    /// A signed-in staff cookie; renewed after a generated sign-out
    /// ends the account's sessions.
    session_cookie: std::sync::Mutex<String>,
    status_token: String,
    order_path: String,
}

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (site, router, status_token, order_path, session_cookie) = rt.block_on(async {
            let site = TestApp::builder()
                .file(&format!(
                    "seed_demo = true\ntrusted_proxies = [\"127.0.0.1\"]\npublic_url = \"http://track.test\"\n\
                     [[shopify]]\ndomain = \"{SHOP}\"\nwebhook_secrets = [\"{WEBHOOK_SECRET}\"]"
                ))
                .build()
                .await;
            let samples = site.samples().to_vec();
            let router = site.router.clone();
            // A real status link, through the lookup form.
            let first = &samples[0];
            let res = send(
                &router,
                Request::post("/")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(format!(
                        "order={}&email={}",
                        first.name.trim_start_matches('#'),
                        first.email.replace('+', "%2B").replace('@', "%40")
                    )))
                    .expect("request"),
            )
            .await;
            let location = res
                .headers()
                .get("location")
                .expect("the lookup redirects")
                .to_str()
                .expect("ascii")
                .to_string();
            let token = location
                .strip_prefix("/status/")
                .expect("status link")
                .to_string();
            let order_path = format!("/staff/orders/{}/{}", first.shop, first.id);
            let cookie = sign_in(&router).await;
            (site, router, token, order_path, cookie)
        });
        App {
            _site: site,
            rt,
            router,
            session_cookie: std::sync::Mutex::new(session_cookie),
            status_token,
            order_path,
        }
    })
}

/// Signs the demo account in and returns its cookie header.
async fn sign_in(router: &Router) -> String {
    let (name, password) = order_status::staff::DEMO_STAFF;
    let res = send(
        router,
        Request::post("/staff/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("name={name}&password={password}")))
            .expect("request"),
    )
    .await;
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join("; ");
    assert!(!cookie.is_empty(), "signed in: {:?}", res.status());
    cookie
}

fn session_cookie() -> String {
    app()
        .session_cookie
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

async fn send(router: &Router, mut req: Request<Body>) -> axum::response::Response {
    if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    }
    router.clone().oneshot(req).await.expect("infallible")
}

/// Sends `req` and checks the answer is not a server error; reads the
/// whole body, as a client would.
fn check(req: Request<Body>) -> Result<(), TestCaseError> {
    let app = app();
    let what = format!("{} {}", req.method(), req.uri());
    let signs_out = req.uri().path() == "/staff/logout";
    let (status, body) = app.rt.block_on(async {
        let res = send(&app.router, req).await;
        let status = res.status();
        let body = res.into_body().collect().await.map(|b| b.to_bytes());
        if signs_out {
            let fresh = sign_in(&app.router).await;
            *app.session_cookie.lock().unwrap_or_else(|p| p.into_inner()) = fresh;
        }
        (status, body)
    });
    prop_assert!(body.is_ok(), "{what}: the body broke off");
    prop_assert!(!status.is_server_error(), "{what}: answered {status}");
    Ok(())
}

/// Percent-encodes what a URI may not carry as is, and keeps the rest
/// (including `%`, so broken escapes get through too).
fn encode(raw: &str) -> String {
    const ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'-')
        .remove(b'%')
        .remove(b'+')
        .remove(b'=')
        .remove(b'&')
        .remove(b'?')
        .remove(b':')
        .remove(b'@')
        .remove(b'!')
        .remove(b'$')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')')
        .remove(b'*')
        .remove(b',')
        .remove(b';');
    percent_encoding::percent_encode(raw.as_bytes(), ESCAPED).to_string()
}

fn junk() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[a-z0-9.%/-]{0,30}",
        Just("..".to_string()),
        Just("%2e%2e/%2e%2e/etc/passwd".to_string()),
        Just("%ff%fe%00".to_string()),
        Just("79228162514264337593543950335".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        junk(),
        Just(String::new()).prop_map(|_| app().status_token.clone()),
        junk().prop_map(|j| format!("{}{j}", app().status_token)),
    ];
    prop_oneof![
        token.clone().prop_map(|t| format!("/status/{t}")),
        token.prop_map(|t| format!("/api/v1/status/{t}")),
        (junk(), junk()).prop_map(|(s, i)| format!("/staff/orders/{s}/{i}")),
        (junk(), junk()).prop_map(|(s, i)| format!("/staff/orders/{s}/{i}/share")),
        (junk(), junk()).prop_map(|(s, i)| format!("/staff/orders/{s}/{i}/revoke")),
        Just(String::new()).prop_map(|_| app().order_path.clone()),
        // (Revoking the real order is left out: it would end the one valid
        // link the other cases use; tests/staff.rs covers it.)
        Just(String::new()).prop_map(|_| format!("{}/share", app().order_path)),
        prop::sample::select(vec![
            "/",
            "/staff",
            "/staff/login",
            "/staff/logout",
            "/healthz",
            "/readyz",
            "/metrics",
            "/webhooks/shopify",
            "/style/main.css",
            "/style/theme.css",
            "/robots.txt",
            "//",
            "//.",
            "/public/",
            "/link",
        ])
        .prop_map(str::to_string),
        junk().prop_map(|j| format!("/{j}")),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "lang", "q", "page", "status", "shop", "sort", "from", "to", "v", "next", "order", "email",
        "per_page", "carrier", "",
    ]);
    prop::collection::vec((key, junk()), 0..4).prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn form() -> impl Strategy<Value = Vec<u8>> {
    let key = prop::sample::select(vec![
        "order", "email", "lang", "next", "name", "password", "days", "reason", "x",
    ]);
    prop_oneof![
        prop::collection::vec((key, junk()), 0..5).prop_map(|pairs| {
            pairs
                .iter()
                .map(|(k, v)| format!("{k}={}", encode(v)))
                .collect::<Vec<_>>()
                .join("&")
                .into_bytes()
        }),
        prop::collection::vec(any::<u8>(), 0..200),
    ]
}

#[derive(Debug, Clone)]
struct Headers {
    cookie: Option<String>,
    accept_language: Option<String>,
    forwarded_for: Option<String>,
    origin: Option<String>,
    host: Option<String>,
    authorization: Option<String>,
    content_type: Option<String>,
    peer: [u8; 4],
}

fn headers() -> impl Strategy<Value = Headers> {
    let text = || prop::option::of("[ -~]{0,60}");
    let cookie = prop_oneof![
        Just(None),
        Just(Some(String::new())).prop_map(|_| Some(session_cookie())),
        junk().prop_map(|j| Some(format!("{}{j}", session_cookie()))),
        "[ -~]{0,80}".prop_map(Some),
        junk().prop_map(|j| Some(format!("lang={j}"))),
    ];
    let content_type = prop::option::of(prop::sample::select(vec![
        "application/x-www-form-urlencoded".to_string(),
        "application/json".to_string(),
        "multipart/form-data; boundary=x".to_string(),
        "text/plain; charset=utf-16".to_string(),
    ]));
    let peer = prop::sample::select(vec![[127, 0, 0, 1], [203, 0, 113, 9], [10, 0, 0, 1]]);
    (
        cookie,
        text(),
        text(),
        text(),
        text(),
        text(),
        content_type,
        peer,
    )
        .prop_map(
            |(cookie, accept_language, forwarded_for, origin, host, authorization, ct, peer)| {
                Headers {
                    cookie,
                    accept_language,
                    forwarded_for,
                    origin,
                    host,
                    authorization,
                    content_type: ct,
                    peer,
                }
            },
        )
}

fn request(method: &str, target: &str, h: &Headers, body: Vec<u8>) -> Option<Request<Body>> {
    let mut b = Request::builder().method(method).uri(target);
    let pairs = [
        ("cookie", &h.cookie),
        ("accept-language", &h.accept_language),
        ("x-forwarded-for", &h.forwarded_for),
        ("origin", &h.origin),
        ("host", &h.host),
        ("authorization", &h.authorization),
        ("content-type", &h.content_type),
    ];
    for (name, value) in pairs {
        if let Some(v) = value {
            b = b.header(name, v.as_str());
        }
    }
    let mut req = b.body(Body::from(body)).ok()?;
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((h.peer, 40001))));
    Some(req)
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).expect("key");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A published Shopify payload, as a webhook body.
fn samples() -> &'static Vec<serde_json::Value> {
    static SAMPLES: OnceLock<Vec<serde_json::Value>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shopify");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                let v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
                // The API's wrapper holds one resource (or a list of them).
                if let Some(obj) = v.as_object() {
                    for inner in obj.values() {
                        match inner {
                            serde_json::Value::Array(items) => out.extend(items.iter().cloned()),
                            other => out.push(other.clone()),
                        }
                    }
                }
            }
        }
        out
    })
}

fn odd_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        junk().prop_map(Value::String),
        Just(json!("79228162514264337593543950335")),
        Just(json!("-79228162514264337593543950335")),
        Just(json!("javascript:alert(1)")),
        Just(json!("2099-01-01T00:00:00Z")),
        Just(json!("0000-00-00")),
        Just(json!([])),
        Just(json!({})),
    ]
}

/// Every JSON pointer to a leaf (and to each object and array, too).
fn pointers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, inner) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(inner, p, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(inner, p, out);
            }
        }
        _ => {}
    }
}

/// `base` with up to three of its values replaced by odd ones.
fn mutated(
    base: serde_json::Value,
    picks: &[(prop::sample::Index, serde_json::Value)],
) -> serde_json::Value {
    let mut v = base;
    for (index, value) in picks {
        let mut all = Vec::new();
        pointers(&v, String::new(), &mut all);
        if all.is_empty() {
            break;
        }
        let at = &all[index.index(all.len())];
        if let Some(slot) = v.pointer_mut(at) {
            *slot = value.clone();
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_request_is_answered_without_a_server_error(
        method in prop::sample::select(vec!["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"]),
        path in path(),
        query in query(),
        headers in headers(),
        body in form(),
    ) {
        let target = if query.is_empty() { encode(&path) } else { format!("{}?{}", encode(&path), encode(&query)) };
        if let Some(req) = request(method, &target, &headers, body) {
            check(req)?;
        }
    }

    #[test]
    fn any_signed_webhook_is_answered_without_a_server_error(
        topic in prop::sample::select(order_status::shopify::scopes::Topic::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>()),
        base in any::<prop::sample::Index>(),
        picks in prop::collection::vec((any::<prop::sample::Index>(), odd_value()), 0..4),
        raw in prop::option::weighted(0.1, prop::collection::vec(any::<u8>(), 0..300)),
    ) {
        let body = match raw {
            Some(bytes) => bytes,
            None => {
                let all = samples();
                let v = mutated(all[base.index(all.len())].clone(), &picks);
                serde_json::to_vec(&v).expect("json")
            }
        };
        let req = Request::post("/webhooks/shopify")
            .header("x-shopify-topic", topic)
            .header("x-shopify-shop-domain", SHOP)
            .header("x-shopify-hmac-sha256", sign(&body))
            .header("x-shopify-webhook-id", format!("prop-{}", body.len()))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .expect("request");
        check(req)?;
    }

    #[test]
    fn any_ndjson_line_is_imported_or_refused_with_a_reason(
        picks in prop::collection::vec((any::<prop::sample::Index>(), odd_value()), 0..4),
        index in 0u64..3000,
        raw in prop::option::weighted(0.2, prop::collection::vec(any::<u8>(), 0..300)),
    ) {
        let line = match raw {
            Some(bytes) => bytes,
            None => {
                let order = order_status::ingest::demo::order(1, index, chrono::Utc::now(), "demo.example");
                let v = serde_json::to_value(&order).expect("json");
                serde_json::to_vec(&mutated(v, &picks)).expect("json")
            }
        };
        if let Err(reason) = order_status::ingest::ndjson::parse_line(&line, "demo.example") {
            prop_assert!(!reason.trim().is_empty());
        }
    }

    #[test]
    fn any_config_value_loads_or_is_refused_by_name(
        key in prop::sample::select(
            order_status::config::layers::settings_args()
                .iter()
                .filter_map(|a| a.get_env().and_then(|v| v.to_str()).map(str::to_string))
                .collect::<Vec<_>>()
        ),
        value in prop_oneof![junk(), "[ -~]{0,40}", Just("0".to_string()), Just("99999999999999999999".to_string())],
        toml_value in prop_oneof![
            junk().prop_map(|j| format!("{j:?}")),
            any::<i64>().prop_map(|n| n.to_string()),
            Just("[1, \"a\"]".to_string()),
            Just("{ a = 1 }".to_string()),
            "[ -~]{0,30}",
        ],
    ) {
        let with_env = Config::load(None, |k| (k == key.as_str()).then(|| value.clone()));
        if let Err(e) = with_env {
            prop_assert!(!e.to_string().is_empty());
        }
        // The same kind of value in a file, under the setting's key.
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.toml");
        let arg = order_status::config::layers::settings_args()
            .into_iter()
            .find(|a| a.get_env().and_then(|v| v.to_str()) == Some(key.as_str()))
            .expect("a setting");
        let text = match arg.get_id().as_str().split_once('.') {
            Some(("shopify", k)) => format!("[[shopify]]\ndomain = \"a.myshopify.com\"\n{k} = {toml_value}\n"),
            Some((section, k)) => format!("[{section}]\n{k} = {toml_value}\n"),
            None => format!("{} = {toml_value}\n", arg.get_id()),
        };
        std::fs::write(&file, text).expect("write");
        if let Err(e) = Config::load(Some(&file), |_| None) {
            prop_assert!(!e.to_string().is_empty());
        }
    }
}

#[test]
fn the_generated_requests_reach_the_handlers() {
    // The suite above proves little if everything bounced off the router:
    // with the session cookie the staff page opens; with the link, the page.
    let app = app();
    let mut req = Request::get("/staff")
        .header("cookie", session_cookie())
        .body(Body::empty())
        .expect("request");
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 1))));
    let status = app
        .rt
        .block_on(async { send(&app.router, req).await.status() });
    assert_eq!(status, StatusCode::OK);
    let req = Request::get(format!("/status/{}", app.status_token))
        .body(Body::empty())
        .expect("request");
    let status = app
        .rt
        .block_on(async { send(&app.router, req).await.status() });
    assert_eq!(status, StatusCode::OK);
}
