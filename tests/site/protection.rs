//! Protection over HTTP against the real server: rate limits, the order
//! lock, spoofed forwarding headers, security headers, cross-site posts,
//! oversized bodies, slow clients.

use crate::common;

use std::io::{Read, Write};
use std::time::Duration;

use common::{Server, client, demo_order};

async fn post_as(server: &Server, ip: Option<&str>, order: &str, email: &str) -> reqwest::Response {
    let mut req = client()
        .post(server.url("/"))
        .header("accept", "text/html")
        .form(&[("order", order), ("email", email)]);
    if let Some(ip) = ip {
        req = req.header("x-forwarded-for", ip);
    }
    req.send().await.expect("POST /")
}

#[tokio::test]
async fn the_lookup_limit_trips_and_resets() {
    // One lookup a second, bursts of two.
    let server = Server::start(&[("ORDER_STATUS_LIMIT_LOOKUP", "1/s:2")]);
    assert_ne!(post_as(&server, None, "1", "a@b.se").await.status(), 429);
    assert_ne!(post_as(&server, None, "1", "a@b.se").await.status(), 429);
    let res = post_as(&server, None, "1", "a@b.se").await;
    assert_eq!(res.status(), 429);
    let after: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&after), "{after}");
    let html = res.text().await.expect("body");
    assert!(
        html.contains("Too many attempts. Please wait 1 second and try again."),
        "{html}"
    );

    // Swedish for a Swedish browser.
    let res = client()
        .post(server.url("/"))
        .header("accept-language", "sv")
        .form(&[("order", "1"), ("email", "a@b.se")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 429);
    assert!(res.text().await.expect("body").contains("För många försök"));

    // API clients get JSON.
    let res = client()
        .post(server.url("/"))
        .header("accept", "application/json")
        .form(&[("order", "1"), ("email", "a@b.se")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["error"], "rate_limited");

    // Pages are not lookups: still served.
    assert_eq!(
        client()
            .get(server.url("/"))
            .send()
            .await
            .expect("get")
            .status(),
        200
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_ne!(
        post_as(&server, None, "1", "a@b.se").await.status(),
        429,
        "budget refills"
    );
}

#[tokio::test]
async fn another_client_is_not_affected_and_spoofing_does_not_help() {
    let server = Server::start(&[
        ("ORDER_STATUS_LIMIT_LOOKUP", "1/m:2"),
        ("ORDER_STATUS_TRUSTED_PROXIES", "127.0.0.1"),
        ("ORDER_STATUS_PUBLIC_URL", "http://track.test"),
    ]);
    let a = Some("198.51.100.1");
    for _ in 0..2 {
        assert_ne!(post_as(&server, a, "1", "a@b.se").await.status(), 429);
    }
    assert_eq!(post_as(&server, a, "1", "a@b.se").await.status(), 429);
    // A different client behind the same proxy has its own budget.
    assert_ne!(
        post_as(&server, Some("198.51.100.2"), "1", "a@b.se")
            .await
            .status(),
        429
    );
    // Client A prepending made-up addresses is still client A: the proxy
    // appended its real address last.
    for spoof in [
        "203.0.113.7, 198.51.100.1",
        "10.0.0.1, 1.2.3.4, 198.51.100.1",
    ] {
        assert_eq!(
            post_as(&server, Some(spoof), "1", "a@b.se").await.status(),
            429,
            "{spoof}"
        );
    }
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_headers_are_ignored() {
    let server = Server::start(&[("ORDER_STATUS_LIMIT_LOOKUP", "1/m:1")]);
    assert_ne!(
        post_as(&server, Some("1.1.1.1"), "1", "a@b.se")
            .await
            .status(),
        429
    );
    assert_eq!(
        post_as(&server, Some("2.2.2.2"), "1", "a@b.se")
            .await
            .status(),
        429
    );
    assert_eq!(
        post_as(&server, Some("3.3.3.3"), "1", "a@b.se")
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn the_page_budget_covers_every_request() {
    let server = Server::start(&[("ORDER_STATUS_LIMIT_PAGES", "1/m:3")]);
    for _ in 0..3 {
        assert_eq!(
            client()
                .get(server.url("/"))
                .send()
                .await
                .expect("get")
                .status(),
            200
        );
    }
    let res = client()
        .get(server.url("/robots.txt"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn an_order_number_locks_after_failures_from_many_clients() {
    let server = Server::start(&[
        ("ORDER_STATUS_LIMIT_ORDER_FAILURES", "3/1m"),
        ("ORDER_STATUS_TRUSTED_PROXIES", "127.0.0.1"),
        ("ORDER_STATUS_PUBLIC_URL", "http://track.test"),
    ]);
    let target = demo_order(0);
    let number = target.order_number.to_string();
    // A baseline answer for a wrong email, before any lock.
    let other = demo_order(1);
    let wrong = post_as(
        &server,
        Some("203.0.113.50"),
        &other.order_number.to_string(),
        "x@guess.se",
    )
    .await;
    assert_eq!(wrong.status(), 200);
    let wrong_body = wrong.text().await.expect("body");

    for (i, guess) in ["a@guess.se", "b@guess.se", "c@guess.se"]
        .iter()
        .enumerate()
    {
        let ip = format!("203.0.113.{}", i + 1);
        let res = post_as(&server, Some(&ip), &number, guess).await;
        assert_eq!(res.status(), 200, "a failed guess");
    }
    // Now even the right email, from a fresh address, gets "not found"...
    let locked = post_as(&server, Some("203.0.113.99"), &number, &target.email).await;
    assert_eq!(locked.status(), 200);
    let headers: Vec<String> = locked.headers().keys().map(|k| k.to_string()).collect();
    let locked_body = locked.text().await.expect("body");
    // ...and it reads exactly like a wrong email (bar what was typed).
    let normalise = |body: &str, number: &str, email: &str| {
        body.replace(&format!("value=\"{number}\""), "value=\"N\"")
            .replace(&format!("value=\"{email}\""), "value=\"E\"")
    };
    assert_eq!(
        normalise(&locked_body, &number, &target.email),
        normalise(&wrong_body, &other.order_number.to_string(), "x@guess.se")
    );
    assert!(!headers.iter().any(|h| h == "location"));
    // Other orders are not locked.
    let res = post_as(
        &server,
        Some("203.0.113.99"),
        &other.order_number.to_string(),
        &other.email,
    )
    .await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let server = Server::start(&[
        ("ORDER_STATUS_PUBLIC_URL", "https://track.example.com"),
        // An https address turns the demo off unless asked for.
        ("ORDER_STATUS_SEED_DEMO", "true"),
    ]);
    let (name, email) = server.samples[0].clone();
    let status = server.status_path(&name, &email).await;
    for path in ["/", "/robots.txt", "/nope", &status, "/style/main.css"] {
        let res = client().get(server.url(path)).send().await.expect("get");
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().expect("ascii");
        for part in [
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert!(h.contains_key("permissions-policy"), "{path}");
        assert!(
            h["strict-transport-security"]
                .to_str()
                .expect("ascii")
                .contains("max-age=")
        );
    }
    // The pages use no inline style or script the CSP would block.
    let (_, html) = server.page(&status).await;
    assert!(!html.contains("style=\""), "no inline styles");
    assert!(!html.contains("<script>"), "no inline scripts");
    let res = client().get(server.url(&status)).send().await.expect("get");
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(
        res.headers()["x-robots-tag"]
            .to_str()
            .expect("ascii")
            .contains("noindex")
    );
}

#[tokio::test]
async fn images_come_only_from_the_site_and_the_shops_image_origins() {
    let csp = |server: &Server| {
        let server_url = server.url("/");
        async move {
            let res = client().get(server_url).send().await.expect("get");
            let csp = res.headers()["content-security-policy"]
                .to_str()
                .expect("ascii")
                .to_string();
            csp.split(';')
                .map(str::trim)
                .find(|d| d.starts_with("img-src"))
                .expect("an img-src")
                .to_string()
        }
    };
    let server = Server::start(&[]);
    assert_eq!(csp(&server).await, "img-src 'self' https://cdn.shopify.com");
    // The demo's pictures are on the site itself, and shown.
    let (name, email) = server.samples[0].clone();
    let (_, html) = server.page(&server.status_path(&name, &email).await).await;
    assert!(html.contains("src=\"/demo/products/"), "demo pictures");
    let server = Server::start(&[
        (
            "ORDER_STATUS_IMAGE_ORIGINS",
            "https://images.shop.example, https://cdn.shopify.com/",
        ),
        ("ORDER_STATUS_LOGO_URL", "https://brand.example/logo.svg"),
    ]);
    assert_eq!(
        csp(&server).await,
        "img-src 'self' https://images.shop.example https://cdn.shopify.com https://brand.example"
    );
    // Not an origin: start-up stops, naming the setting.
    let dir = tempfile::tempdir().expect("dir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("ORDER_STATUS_IMAGE_ORIGINS", "cdn.shopify.com/files")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[shop] image_origins"), "{err}");
}

#[tokio::test]
async fn hsts_only_when_served_over_https() {
    let server = Server::start(&[]);
    let res = client().get(server.url("/")).send().await.expect("get");
    assert!(!res.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let server = Server::start(&[]);
    let post = |origin: Option<&str>, site: Option<&str>| {
        let mut req = client()
            .post(server.url("/"))
            .form(&[("order", "1001"), ("email", "a@b.se")]);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(s) = site {
            req = req.header("sec-fetch-site", s);
        }
        req.send()
    };
    assert_eq!(
        post(Some("https://evil.example"), None)
            .await
            .expect("post")
            .status(),
        403
    );
    assert_eq!(post(Some("null"), None).await.expect("post").status(), 403);
    assert_eq!(
        post(None, Some("cross-site")).await.expect("post").status(),
        403
    );
    assert_eq!(
        post(None, Some("same-site")).await.expect("post").status(),
        403
    );
    let ours = server.base.clone();
    assert_eq!(
        post(Some(&ours), Some("same-origin"))
            .await
            .expect("post")
            .status(),
        200
    );
    assert_eq!(
        post(None, None).await.expect("post").status(),
        200,
        "non-browser clients"
    );
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let server = Server::start(&[]);
    let big = format!("order=1001&email={}", "a".repeat(200 * 1024));
    let res = client()
        .post(server.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 413);
    // Over the form's own smaller limit, too.
    let res = client()
        .post(server.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("order=1&email={}", "a".repeat(8 * 1024)))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let server = Server::start(&[]);
    let addr = server.base.trim_start_matches("http://").to_string();
    let started = std::time::Instant::now();
    let closed = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        // Half a request line, then nothing.
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .expect("write");
        let mut buf = [0u8; 1024];
        // The server answers (408) or closes; either way read returns.
        let _ = s.read(&mut buf);
        std::time::Instant::now()
    })
    .await
    .expect("join");
    let waited = closed - started;
    assert!(waited < Duration::from_secs(25), "held for {waited:?}");
}
