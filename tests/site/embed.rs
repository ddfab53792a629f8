//! The lookup form framed on a merchant's page (`/embed`): who may frame
//! it, what the merchant is told when nobody may, the host page's accent
//! and colour scheme, the height report and "email me my link"
//! (in-process, through the whole router).

use axum::body::Body;
use axum::http::Request;

use crate::common;
use common::inproc::TestApp;

async fn embed(site: &TestApp, query: &str) -> (String, String) {
    let req = Request::get(format!("/embed{query}"))
        .body(Body::empty())
        .expect("request");
    let (status, headers, body) = site.send(req).await;
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_string();
    (csp, body)
}

#[tokio::test]
async fn with_no_origin_allowed_the_form_says_how_to_allow_one() {
    let site = TestApp::builder().orders(Vec::new()).build().await;
    let (csp, body) = embed(&site, "").await;
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        body.contains("embed_origins"),
        "the merchant is told: {body}"
    );
    assert!(body.contains("ORDER_STATUS_EMBED_ORIGINS"));
    // In the visitor's language, like the rest of the page.
    let (_, sv) = embed(&site, "?lang=sv").await;
    assert!(sv.contains("Bara webbplatser"), "{sv}");
}

#[tokio::test]
async fn a_framed_form_follows_the_host_page_and_reports_its_height() {
    let site = TestApp::builder()
        .file("embed_origins = [\"https://shop.example.com\"]")
        .orders(Vec::new())
        .build()
        .await;
    let (csp, body) = embed(&site, "?accent=aa3300&scheme=dark").await;
    assert!(
        csp.contains("frame-ancestors https://shop.example.com"),
        "{csp}"
    );
    assert!(!body.contains("embed_origins"), "no notice once allowed");
    assert!(body.contains("class=\"page embed embed-dark\""), "{body}");
    assert!(body.contains("href=\"/style/theme.css?accent=aa3300\""));
    assert!(body.contains("<script src=\"/embed.js?v="), "{body}");
    assert!(body.contains("action=\"/\"") && body.contains("target=\"_top\""));
    assert!(
        body.contains("href=\"/link\" target=\"_blank\""),
        "email me my link: {body}"
    );
    // The accent's stylesheet says the colour asked for.
    let (status, css) = site.get("/style/theme.css?accent=aa3300").await;
    assert_eq!(status, 200);
    assert_eq!(css.trim(), ":root{--accent:#aa3300}");
    // The light scheme by default: a page that declares none is light, and
    // a frame of another scheme is painted opaque.
    let (_, light) = embed(&site, "").await;
    assert!(light.contains("class=\"page embed embed-light\""));
    let (_, auto) = embed(&site, "?scheme=auto").await;
    assert!(auto.contains("class=\"page embed\""));
    // The script the form loads is served.
    let js = body
        .split("<script src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("script");
    let (status, script) = site.get(js).await;
    assert_eq!(status, 200);
    assert!(script.contains("order-status:height"));
}

#[tokio::test]
async fn a_bad_look_is_ignored_never_echoed() {
    let site = TestApp::builder()
        .file("embed_origins = [\"https://shop.example.com\"]")
        .orders(Vec::new())
        .build()
        .await;
    for query in [
        "?accent=red%7D%3Cscript%3E",
        "?accent=12345",
        "?scheme=%3Cb%3E",
        "?accent=",
    ] {
        let (_, body) = embed(&site, query).await;
        assert!(!body.contains("accent="), "{query}: {body}");
        assert!(
            !body.contains("<script>") && !body.contains("<b>"),
            "{query}"
        );
        assert!(body.contains("class=\"page embed embed-light\""), "{query}");
    }
    let (status, css) = site.get("/style/theme.css?accent=red%7D").await;
    assert_eq!(status, 200);
    assert!(!css.contains("red"), "{css}");
}
