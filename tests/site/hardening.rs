//! What an attacker tried against a release build, over HTTP against the
//! real server: forwarded-header garbage, off-site links on error pages,
//! second spellings of links, over-long request lines, operator detail on
//! `/readyz`, and pages with a typed email left in caches.

use crate::common;

use std::io::{Read, Write};
use std::time::Duration;

use common::{Server, client};

/// Sends raw bytes and returns everything the server answered.
fn raw(server: &Server, request: &[u8]) -> String {
    let addr = server.base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(request).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_garbage_forwarded_hop_never_makes_the_client_the_proxy() {
    let server = Server::start(&[
        ("ORDER_STATUS_TRUSTED_PROXIES", "127.0.0.1"),
        ("ORDER_STATUS_PUBLIC_URL", "http://track.test"),
        ("ORDER_STATUS_LIMIT_PAGES", "1/m:4"),
    ]);
    let via_proxy = |xff: &'static str, path: &str| {
        client()
            .get(server.url(path))
            .header("x-forwarded-for", xff)
            .send()
    };
    // Operator pages stay shut to anyone who came through the proxy,
    // whatever they wrote in the header.
    for xff in ["garbage", "garbage, 127.0.0.1", "127.0.0.1"] {
        let res = via_proxy(xff, "/metrics").await.expect("get");
        assert_eq!(res.status(), 404, "/metrics via proxy as {xff:?}");
    }
    // Unidentified clients share one budget of their own: spending it does
    // not touch the proxy's own budget, nor that of identified clients.
    for _ in 0..3 {
        let _ = via_proxy("garbage", "/robots.txt").await.expect("get");
    }
    assert_eq!(
        via_proxy("not-an-ip", "/robots.txt")
            .await
            .expect("get")
            .status(),
        429
    );
    let direct = client()
        .get(server.url("/robots.txt"))
        .send()
        .await
        .expect("get");
    assert_eq!(direct.status(), 200, "the proxy's own budget is untouched");
    assert_eq!(
        via_proxy("198.51.100.3", "/robots.txt")
            .await
            .expect("get")
            .status(),
        200
    );
    // And on this machine, without a proxy, the operator is trusted.
    let res = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn error_pages_never_link_off_site_nor_redirect_oddly() {
    let server = Server::start(&[]);
    let answer = raw(
        &server,
        b"GET //evil.example HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer:.80}");
    assert!(
        !answer.contains("href=\"//") && !answer.contains("evil.example"),
        "an off-site link on the 404 page"
    );
    for path in ["//.", "//./", "/./", "/public/", "/.."] {
        let answer = raw(
            &server,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        let status = &answer[9..12];
        assert!(
            !status.starts_with('3') && status != "500",
            "{path}: {answer:.120}"
        );
        assert!(!answer.to_lowercase().contains("\nlocation:"), "{path}");
    }
}

#[tokio::test]
async fn a_link_has_one_spelling() {
    let server = Server::start(&[]);
    let (name, email) = server.samples[0].clone();
    let path = server.status_path(&name, &email).await;
    assert_eq!(server.page(&path).await.0, 200);
    let (payload, mac) = path.rsplit_once('.').expect("token has a MAC");
    assert!(mac.chars().any(|c| c.is_ascii_alphabetic()), "MAC {mac}");
    let upper = format!("{payload}.{}", mac.to_ascii_uppercase());
    assert_eq!(server.page(&upper).await.0, 404);
    // The same payload in base64 with padding: another spelling, refused.
    // Re-signed with epoch 10 (a later epoch is fine), whose payload does
    // not fill whole base64 groups, so padding shows.
    use base64::Engine as _;
    let p64 = payload.trim_start_matches("/status/");
    let text = String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p64)
            .expect("base64url"),
    )
    .expect("utf8");
    let fields: Vec<&str> = text.split(':').collect();
    let key = order_status::links::load_or_create_key(&server.dir.path().join("data"))
        .expect("the site's key");
    let links = order_status::links::Links::new(vec![key]).expect("links");
    let claims = order_status::links::LinkClaims {
        shop: fields[2].to_string(),
        order_id: fields[3].parse().expect("id"),
        expires: chrono::DateTime::from_timestamp(fields[4].parse().expect("exp"), 0)
            .expect("time"),
        epoch: 10,
    };
    let token = links.sign(&claims);
    let (p64, mac) = token.rsplit_once('.').expect("mac");
    assert_eq!(server.page(&format!("/status/{token}")).await.0, 200);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(p64)
        .expect("base64url");
    let padded = base64::engine::general_purpose::URL_SAFE.encode(&bytes);
    assert_ne!(padded, p64, "this payload needs padding");
    assert_eq!(server.page(&format!("/status/{padded}.{mac}")).await.0, 404);
}

#[tokio::test]
async fn an_over_long_request_line_gets_414_with_the_security_headers() {
    let server = Server::start(&[]);
    let long = format!("/{}", "a".repeat(9 * 1024));
    let res = client().get(server.url(&long)).send().await.expect("get");
    assert_eq!(res.status(), 414);
    let h = res.headers();
    assert!(h.contains_key("content-security-policy"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    // The site is still there for everyone else.
    assert_eq!(server.page("/").await.0, 200);
}

#[tokio::test]
async fn readyz_details_are_for_operators_only() {
    let server = Server::start(&[
        ("ORDER_STATUS_TRUSTED_PROXIES", "127.0.0.1"),
        ("ORDER_STATUS_PUBLIC_URL", "http://track.test"),
        ("ORDER_STATUS_METRICS_TOKEN", "metrics-token-0123456789"),
    ]);
    let get = |xff: Option<&'static str>, token: Option<&'static str>| {
        let mut r = client().get(server.url("/readyz"));
        if let Some(x) = xff {
            r = r.header("x-forwarded-for", x);
        }
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move {
            let res = r.send().await.expect("get");
            assert_eq!(res.status(), 200);
            res.json::<serde_json::Value>().await.expect("json")
        }
    };
    let public = get(Some("203.0.113.9"), None).await;
    assert_eq!(public, serde_json::json!({"ready": true}));
    let wrong = get(Some("203.0.113.9"), Some("wrong")).await;
    assert_eq!(wrong, serde_json::json!({"ready": true}));
    for detailed in [
        get(None, None).await,
        get(Some("203.0.113.9"), Some("metrics-token-0123456789")).await,
    ] {
        assert_eq!(detailed["store"]["orders"], 3000, "{detailed}");
    }
}

#[tokio::test]
async fn a_lookup_page_with_the_typed_email_is_never_cached() {
    let server = Server::start(&[]);
    let (name, email) = server.samples[0].clone();
    for (order, mail) in [
        (name.as_str(), "wrong@example.com"),
        ("", ""),
        (&name, &email),
    ] {
        let res = server.lookup(order, mail).await;
        assert_eq!(
            res.headers()["cache-control"],
            "no-store",
            "lookup {order:?} {mail:?} answered {}",
            res.status()
        );
    }
}

#[tokio::test]
async fn an_overflowing_amount_and_a_script_tracking_url_break_nothing() {
    // What a compromised or buggy source could hand us: two refunds that
    // overflow any decimal sum, and tracking URLs that would run script.
    let huge = "79228162514264337593543950335";
    let line = serde_json::json!({
        "id": 990001, "name": "#99001", "email": "odd@example.se", "currency": "SEK",
        "financial_status": "refunded", "total_price": huge,
        "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-02T10:00:00Z",
        "line_items": [{"id": 1, "title": "Mug", "quantity": 1, "price": huge}],
        "fulfillments": [{
            "id": 7, "status": "success", "created_at": "2026-11-01T12:00:00Z",
            "tracking_company": "PostNord", "tracking_numbers": ["X1"],
            "tracking_urls": ["javascript:alert(document.cookie)"],
            "line_items": [{"id": 1, "title": "Mug", "quantity": 1}]
        }, {
            "id": 8, "status": "success", "created_at": "2026-11-01T12:00:00Z",
            "tracking_company": "DHL", "tracking_numbers": ["X2"],
            "tracking_urls": ["data:text/html,<script>alert(1)</script>"],
            "line_items": [{"id": 1, "title": "Mug", "quantity": 1}]
        }],
        "refunds": [
            {"id": 1, "created_at": "2026-11-02T09:00:00Z",
             "transactions": [{"amount": huge, "kind": "refund", "status": "success"}]},
            {"id": 2, "created_at": "2026-11-02T09:30:00Z",
             "transactions": [{"amount": huge, "kind": "refund", "status": "success"}]}
        ]
    });
    let server = Server::start(&[]);
    let dir = server.stop();
    let file = dir.path().join("odd.ndjson");
    std::fs::write(&file, format!("{line}\n")).expect("write");
    let imported = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .arg("import")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("import runs");
    assert!(imported.status.success(), "{imported:?}");
    let server = Server::start_in(dir, &[]);

    let path = server.status_path("99001", "odd@example.se").await;
    let (status, html) = server.page(&path).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("an amount not available"),
        "shown as unavailable"
    );
    assert!(!html.contains("javascript:") && !html.contains("data:text"));

    let token = path.trim_start_matches("/status/");
    let res = client()
        .get(server.url(&format!("/api/v1/status/{token}")))
        .send()
        .await
        .expect("api");
    assert_eq!(res.status(), 200);
    let body = res.text().await.expect("body");
    assert!(
        !body.contains("javascript:") && !body.contains("data:text"),
        "{body}"
    );
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    let payment = json["payment"].as_object().expect("payment");
    assert_eq!(
        payment.get("refunded"),
        Some(&serde_json::Value::Null),
        "{json}"
    );
    assert!(
        payment["text"]
            .as_str()
            .is_some_and(|t| t.contains("an amount not available")),
        "{json}"
    );

    // Staff see the order too.
    let staff = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let (name, password) = order_status::staff::DEMO_STAFF;
    let res = staff
        .post(server.url("/staff/login"))
        .form(&[("name", name), ("password", password)])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303);
    let res = staff
        .get(server.url("/staff/orders/demo.example/990001"))
        .send()
        .await
        .expect("staff page");
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("body");
    assert!(html.contains("#99001"));
}

/// A proxy on this host that nobody listed in `trusted_proxies`: its
/// clients are not "local" (no operator details, no metrics).
#[tokio::test]
async fn a_proxy_on_this_host_without_trusted_proxies_is_not_local() {
    let server = Server::start(&[]);
    let via_proxy = |path: &'static str| {
        client()
            .get(server.url(path))
            .header("x-forwarded-for", "203.0.113.9")
            .send()
    };
    let ready: serde_json::Value = via_proxy("/readyz")
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        ready,
        serde_json::json!({"ready": true}),
        "no operator details"
    );
    let metrics = via_proxy("/metrics").await.expect("get");
    assert_ne!(
        metrics.status(),
        200,
        "no metrics for the internet behind a proxy"
    );
    // This host itself still is.
    let direct: serde_json::Value = client()
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(direct["store"]["orders"], 3000, "{direct}");
    assert_eq!(direct["demo_account"], true, "operators are told: {direct}");
}

/// The data dir `serve` makes, and everything in it, is its user's only:
/// sent emails hold working links, the index every order.
#[cfg(unix)]
#[tokio::test]
async fn the_data_dir_is_private_to_the_service_user() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start(&[]);
    // Something in every kind of file: an email written to a file.
    let (name, email) = server.samples[0].clone();
    let _ = client()
        .post(server.url("/link"))
        .form(&[("order", name.as_str()), ("email", email.as_str())])
        .send()
        .await
        .expect("post");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let data = server.dir.path().join("data");
    let mut stack = vec![data.clone()];
    let mut seen = 0;
    while let Some(p) = stack.pop() {
        let meta = std::fs::symlink_metadata(&p).expect("meta");
        let mode = meta.permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", p.display());
        seen += 1;
        if meta.is_dir() {
            for e in std::fs::read_dir(&p).expect("dir") {
                stack.push(e.expect("entry").path());
            }
        }
    }
    assert!(seen > 10, "index, keys, mail: {seen}");
    // And another user cannot read them (where this runs as root, as CI
    // does: nobody's uid tries).
    if rustix::process::geteuid().is_root() {
        use std::os::unix::process::CommandExt;
        let key = data.join("link-keys");
        let out = std::process::Command::new("cat")
            .arg(&key)
            .uid(65534)
            .gid(65534)
            .output()
            .expect("runs");
        assert!(!out.status.success(), "nobody read {}", key.display());
    }
}

/// With a real shop or an https address configured, the demo's orders and
/// staff account are not made unless asked for.
#[tokio::test]
async fn a_production_setup_gets_no_demo_orders_nor_demo_account() {
    let server = Server::start(&[("ORDER_STATUS_PUBLIC_URL", "https://track.example.test")]);
    assert!(server.samples.is_empty(), "no demo orders seeded");
    let accounts =
        order_status::staff::Accounts::load(&server.dir.path().join("data")).expect("accounts");
    assert!(!accounts.exists(order_status::staff::DEMO_STAFF.0));
    let direct: serde_json::Value = client()
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(direct["store"]["orders"], 0, "{direct}");
    assert_eq!(direct["demo_account"], false, "{direct}");
    // Asking for it still works.
    let demo = Server::start(&[
        ("ORDER_STATUS_PUBLIC_URL", "https://track.example.test"),
        ("ORDER_STATUS_SEED_DEMO", "true"),
    ]);
    assert!(!demo.samples.is_empty());
}

/// Weak secrets and missing addresses are refused at start, by name.
#[test]
fn weak_secrets_and_missing_addresses_are_refused_at_start() {
    let load = |vars: &[(&str, &str)]| {
        order_status::config::Config::load(None, |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
        .map(|_| ())
        .map_err(|e| format!("{e:#}"))
    };
    for (vars, name) in [
        (
            vec![("ORDER_STATUS_LINK_KEYS", "k1=aaaaaaaaaaaaaaaa")],
            "link_keys",
        ),
        (
            vec![
                ("ORDER_STATUS_SHOPIFY_SHOP", "s.myshopify.com"),
                ("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET", "x"),
            ],
            "webhook_secrets",
        ),
        (
            vec![("ORDER_STATUS_METRICS_TOKEN", "aaaaaaaaaaaaaaaa")],
            "metrics_token",
        ),
        (
            vec![
                ("ORDER_STATUS_SHOPIFY_SHOP", "s.myshopify.com"),
                ("ORDER_STATUS_SHOPIFY_LINK_SECRET", "abababababababab"),
            ],
            "link_secret",
        ),
        (
            vec![("ORDER_STATUS_TRUSTED_PROXIES", "127.0.0.1")],
            "public_url",
        ),
        (
            vec![
                ("ORDER_STATUS_SMTP_URL", "smtp://127.0.0.1:2525"),
                ("ORDER_STATUS_ADDR", "0.0.0.0:3000"),
            ],
            "public_url",
        ),
    ] {
        let e = load(&vars).expect_err(name);
        assert!(e.contains(name), "{vars:?}: {e}");
    }
    assert!(
        load(&[(
            "ORDER_STATUS_LINK_KEYS",
            "k1=9f86d081884c7d659a2feaa0c55ad015"
        )])
        .is_ok()
    );
}
