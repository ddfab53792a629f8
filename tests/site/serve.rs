//! The server as a user meets it: first start on an empty data dir.

use crate::common;

use common::{Server, client};

#[tokio::test]
async fn first_start_seeds_demo_orders_and_serves_the_lookup_page() {
    let server = Server::start_process(&[]);
    assert_eq!(server.samples.len(), 3, "prints three orders to try");
    for (order, email) in &server.samples {
        assert!(order.starts_with('#'), "{order}");
        assert!(email.contains('@'), "{email}");
    }

    let res = client().get(server.url("/")).send().await.expect("GET /");
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let html = res.text().await.expect("body");
    assert!(
        html.contains("<form method=\"post\" action=\"/\""),
        "{html}"
    );
    assert!(html.contains("name=\"order\""));
    assert!(html.contains("name=\"email\""));
    assert!(html.contains("Demo Store"));
    assert!(!html.contains("<script"), "no scripts: nothing to hydrate");

    // The stylesheet the page links to is served and cacheable.
    let href = html
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("stylesheet link");
    let css = client().get(server.url(href)).send().await.expect("css");
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("immutable")
    );
    assert!(
        css.text()
            .await
            .expect("css body")
            .contains("prefers-color-scheme")
    );
}

#[tokio::test]
async fn public_files_are_served_and_unknown_paths_are_404_pages() {
    let server = Server::start_process(&[("ORDER_STATUS_SHOP_NAME", "Fika & Co")]);
    let robots = client()
        .get(server.url("/robots.txt"))
        .send()
        .await
        .expect("robots");
    assert_eq!(robots.status(), 200);
    assert!(
        robots
            .text()
            .await
            .expect("body")
            .contains("Disallow: /status/")
    );

    let missing = client()
        .get(server.url("/no/such/page"))
        .send()
        .await
        .expect("404");
    assert_eq!(missing.status(), 404);
    let html = missing.text().await.expect("body");
    assert!(html.contains("Page not found"));
    assert!(html.contains("Fika &amp; Co"), "config reaches the page");

    let traversal = client()
        .get(server.url("/%2e%2e/Cargo.toml"))
        .send()
        .await
        .expect("get");
    assert_eq!(traversal.status(), 404);
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_fails_clearly() {
    let first = Server::start_process(&[]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_order-status"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(first.dir.path().join("data"))
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("in use by another order-status process"),
        "{err}"
    );
}

#[tokio::test]
async fn pages_are_compressed_and_assets_cached() {
    let server = Server::start_process(&[]);
    let raw = client().get(server.url("/")).send().await.expect("get");
    assert!(
        raw.headers().get("content-encoding").is_none(),
        "identity unless asked"
    );
    for (accept, encoding) in [("br", "br"), ("gzip", "gzip"), ("gzip, br", "br")] {
        let res = client()
            .get(server.url("/style/main.css"))
            .header("accept-encoding", accept)
            .send()
            .await
            .expect("get");
        assert_eq!(res.headers()["content-encoding"], encoding, "{accept}");
    }
    let (name, email) = server.samples[1].clone();
    let path = server.status_path(&name, &email).await;
    let res = client()
        .get(server.url(&path))
        .header("accept-encoding", "br")
        .send()
        .await
        .expect("get");
    assert_eq!(res.headers()["content-encoding"], "br");
    let compressed = res.bytes().await.expect("body").len();
    assert!(
        compressed < 14 * 1024,
        "the first response fits the first round trip: {compressed}"
    );
    let html = client()
        .get(server.url(&path))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let script = html
        .split("<script src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("share.js link");
    assert!(script.starts_with("/share.js?v="), "{script}");
    let js = client().get(server.url(script)).send().await.expect("get");
    assert_eq!(js.status(), 200);
    assert!(
        js.headers()["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("immutable")
    );
}
