//! The shopper's side, end to end over HTTP against the real server:
//! lookup, the status page, bad links, languages.

use crate::common;

use common::{Server, client, demo_order, scenario_index};
use order_status::ingest::demo::Scenario;
use order_status::order::{CancelReason, HoldReason};

async fn status_of(server: &Server, s: Scenario) -> (order_status::order::Order, String) {
    let order = demo_order(scenario_index(&s));
    let path = server
        .status_path(&order.order_number.to_string(), &order.email)
        .await;
    let (code, html) = server.page(&path).await;
    assert_eq!(code, 200, "{s:?}");
    (order, html)
}

#[tokio::test]
async fn a_matching_pair_redirects_to_the_status_page() {
    let server = Server::start(&[]);
    let (name, email) = server.samples[0].clone();
    // Typed the way shoppers type: "#", spaces, capitals.
    let messy_email = format!("  {} ", email.to_uppercase());
    let res = server.lookup(&format!(" {name} "), &messy_email).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(location.starts_with("/status/"), "{location}");
    assert!(!location.contains('@') && !location.to_lowercase().contains(&email.to_lowercase()));

    let res = client()
        .get(server.url(&location))
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(
        res.headers()["x-robots-tag"]
            .to_str()
            .expect("ascii")
            .contains("noindex")
    );
    let html = res.text().await.expect("body");
    assert!(html.contains(&format!("Order {name}")), "{html}");
    assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"));
    assert!(html.contains("aria-current=\"step\""));
    assert!(html.contains("<ol aria-label=\"Progress\" class=\"steps\">"));
    assert!(html.contains("Arriving "), "order #1001 is in transit");
}

#[tokio::test]
async fn the_status_page_shows_no_address_phone_or_full_email() {
    let server = Server::start(&[]);
    let (order, html) = status_of(&server, Scenario::InTransit).await;
    let address = order.shipping_address.as_ref().expect("address");
    assert!(!html.contains(address.address1.as_deref().expect("street")));
    assert!(!html.contains(address.zip.as_deref().expect("zip")));
    if let Some(phone) = &order.phone {
        assert!(!html.contains(phone));
    }
    assert!(!html.contains(&order.email), "email is masked");
    assert!(html.contains("***@"));
    assert!(
        html.contains(address.city.as_deref().expect("city")),
        "city is fine"
    );
}

#[tokio::test]
async fn a_wrong_email_and_an_unknown_order_look_the_same() {
    let server = Server::start(&[]);
    let existing = demo_order(0).order_number.to_string();
    let a = server.lookup(&existing, "stranger@example.com").await;
    let b = server.lookup("987654", "stranger@example.com").await;
    assert_eq!(a.status(), b.status());
    let headers = |r: &reqwest::Response| {
        let mut h: Vec<(String, String)> = r
            .headers()
            .iter()
            // The date and the request id differ between any two responses.
            .filter(|(k, _)| *k != "date" && *k != "x-request-id")
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        h.sort();
        h
    };
    let (ha, hb) = (headers(&a), headers(&b));
    let body_a = a.text().await.expect("a");
    let body_b = b.text().await.expect("b");
    // Only the echoed order number differs: the form keeps what was typed.
    let norm_a = body_a.replace(&format!("value=\"{existing}\""), "value=\"N\"");
    let norm_b = body_b.replace("value=\"987654\"", "value=\"N\"");
    assert_eq!(norm_a, norm_b);
    assert!(body_a.contains("We couldn't find an order with those details"));
    assert!(
        body_a.contains("value=\"stranger@example.com\""),
        "the email is kept"
    );
    // Content-Length differs with the echoed digits; everything else is equal.
    let strip = |h: Vec<(String, String)>| -> Vec<(String, String)> {
        h.into_iter()
            .filter(|(k, _)| k != "content-length")
            .collect()
    };
    assert_eq!(strip(ha), strip(hb));
}

#[tokio::test]
async fn empty_and_malformed_input_get_field_messages() {
    let server = Server::start(&[]);
    let res = server.lookup("", "").await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.expect("body");
    assert!(html.contains("Enter your order number."));
    assert!(html.contains("Enter the email address you ordered with."));
    assert!(html.contains("aria-invalid=\"true\""));

    let res = server.lookup("abc", "not-an-email").await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.expect("body");
    assert!(html.contains("Enter the order number from your confirmation email"));
    assert!(html.contains("That doesn't look like an email address."));
    assert!(html.contains("value=\"abc\"") && html.contains("value=\"not-an-email\""));

    // Hostile input is escaped, not executed.
    let res = server
        .lookup("<script>x</script>", "\"><img src=x>@a.se")
        .await;
    assert!(res.status().is_client_error());
    let html = res.text().await.expect("body");
    assert!(!html.contains("<script>x</script>"));
    assert!(!html.contains("<img src=x>"));

    // A body that is not a form at all: a 4xx that says so.
    let res = client()
        .post(server.url("/"))
        .header("content-type", "application/json")
        .body("{\"order\": 1}")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("could not be read")
    );
}

#[tokio::test]
async fn the_order_number_can_be_prefilled_from_a_link() {
    let server = Server::start(&[]);
    let (code, html) = server.page("/?order=1001").await;
    assert_eq!(code, 200);
    assert!(html.contains("value=\"1001\""), "{html}");
}

#[tokio::test]
async fn bad_links_get_a_friendly_404_with_the_form() {
    let server = Server::start(&[]);
    let (name, email) = server.samples[0].clone();
    let good = server.status_path(&name, &email).await;
    let mut tampered = good.clone().into_bytes();
    let n = tampered.len() - 1;
    tampered[n] = if tampered[n] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    for path in [
        tampered.as_str(),
        "/status/garbage",
        "/status/a.b",
        "/status/%00%ff",
        &format!("/status/{}", "x".repeat(3000)),
    ] {
        let (code, html) = server.page(path).await;
        assert_eq!(code, 404, "{path}");
        assert!(
            html.contains("This link has expired or isn't valid"),
            "{path}"
        );
        assert!(html.contains("<form method=\"post\" action=\"/\""));
    }
}

#[tokio::test]
async fn expired_links_and_links_from_another_key_are_refused() {
    use order_status::links::{LinkClaims, LinkKey, Links};
    let server = Server::start(&[("ORDER_STATUS_LINK_KEYS", "t1=test-secret-0123456789")]);
    let order = demo_order(0);
    let links = Links::new(vec![
        LinkKey::new("t1", b"test-secret-0123456789").expect("key"),
    ])
    .expect("links");
    let claims = |expires| LinkClaims {
        shop: common::SHOP.into(),
        order_id: order.id,
        expires,
        epoch: 0,
    };
    let valid = links.sign(&claims(chrono::Utc::now() + chrono::Duration::hours(1)));
    assert_eq!(
        server.page(&format!("/status/{valid}")).await.0,
        200,
        "a link built outside the server works"
    );
    let expired = links.sign(&claims(chrono::Utc::now() - chrono::Duration::seconds(5)));
    assert_eq!(server.page(&format!("/status/{expired}")).await.0, 404);
    let other = Links::new(vec![
        LinkKey::new("t1", b"some-other-secret-xyz").expect("key"),
    ])
    .expect("links");
    let forged = other.sign(&claims(chrono::Utc::now() + chrono::Duration::hours(1)));
    assert_eq!(server.page(&format!("/status/{forged}")).await.0, 404);
}

#[tokio::test]
async fn links_survive_a_restart() {
    let server = Server::start(&[]);
    let (name, email) = server.samples[2].clone();
    let path = server.status_path(&name, &email).await;
    let key_file = server.dir.path().join("data/link-keys");
    assert!(key_file.exists());
    let server = server.restart(&[]);
    assert!(server.samples.is_empty(), "no second seeding");
    assert_eq!(server.page(&path).await.0, 200);
}

#[tokio::test]
async fn each_kind_of_order_reads_right() {
    let server = Server::start(&[]);
    let (_, html) = status_of(&server, Scenario::SplitShipment).await;
    assert!(html.contains("Package 1 of 2") && html.contains("Package 2 of 2"));
    assert!(html.contains("Main warehouse") && html.contains("Partner warehouse"));

    let (_, html) = status_of(&server, Scenario::Delivered).await;
    assert!(html.contains("Delivered on "));

    let (_, html) = status_of(&server, Scenario::OnHold(HoldReason::InventoryOutOfStock)).await;
    assert!(html.contains("Your order is on hold"));
    assert!(html.contains("On hold: waiting for stock"));

    let (_, html) = status_of(&server, Scenario::Scheduled).await;
    assert!(html.contains("Scheduled to ship on "));

    let (o, html) = status_of(&server, Scenario::CustomStage).await;
    let stage = &o.custom_stages.last().expect("stage").name;
    assert!(
        html.contains(&format!("<p class=\"headline\">{stage}</p>")),
        "{stage}"
    );

    let (_, html) = status_of(&server, Scenario::Cancelled(CancelReason::Inventory)).await;
    assert!(html.contains("This order was cancelled"));
    assert!(html.contains("because items were out of stock"));
    assert!(html.contains("Your payment has been refunded."));
    assert!(html.contains("Cancelled and refunded"));

    let (_, html) = status_of(&server, Scenario::Cancelled(CancelReason::Fraud)).await;
    assert!(html.contains("You were not charged."));

    let (_, html) = status_of(&server, Scenario::Returned).await;
    assert!(html.contains("Returns and refunds"));
    assert!(html.contains("Completed"));
    assert!(html.contains("Refund of "));

    let (_, html) = status_of(&server, Scenario::ReturnInProgress).await;
    assert!(html.contains("Return in progress"));
    assert!(html.contains("Return parcel: PostNord"));

    let (_, html) = status_of(&server, Scenario::PartiallyRefunded).await;
    assert!(html.contains("Partly refunded: "));

    let (_, html) = status_of(&server, Scenario::Authorized).await;
    assert!(html.contains("you'll be charged when your order ships"));

    let (_, html) = status_of(&server, Scenario::DeliveryFailure).await;
    assert!(html.contains("There's a problem with the delivery"));

    let (o, html) = status_of(&server, Scenario::InTransit).await;
    let f = &o.fulfillments[0];
    let url = &f.tracking_urls[0];
    assert!(
        html.contains(&format!("href=\"{url}\"")),
        "tracking links to the carrier"
    );
    assert!(html.contains("mailto:support@demo.example?subject=Order%20%23"));
    assert!(html.contains("id=\"share-link\""));
}

#[tokio::test]
async fn no_raw_translation_keys_reach_any_page() {
    let server = Server::start(&[]);
    for s in order_status::ingest::demo::SCENARIOS {
        for lang in ["en", "sv"] {
            let order = demo_order(scenario_index(s));
            let path = server
                .status_path(&order.order_number.to_string(), &order.email)
                .await;
            let (_, html) = server.page(&format!("{path}?lang={lang}")).await;
            for section in [
                "headline.",
                "step.",
                "package.",
                "payment.",
                "returns.",
                "cancel.",
                "waiting.",
                "shipment.",
                "hold.",
            ] {
                assert!(
                    !html.contains(&format!(">{section}")),
                    "{s:?} {lang}: raw key {section}"
                );
            }
            assert!(!html.contains('{'), "{s:?} {lang}: unfilled placeholder");
        }
    }
}

#[tokio::test]
async fn the_language_follows_the_browser_the_switch_and_the_cookie() {
    let server = Server::start(&[]);
    let res = client()
        .get(server.url("/"))
        .header("accept-language", "sv-SE,sv;q=0.9,en;q=0.5")
        .send()
        .await
        .expect("GET");
    let html = res.text().await.expect("body");
    assert!(html.contains("<html lang=\"sv\">"));
    assert!(html.contains("Spåra din beställning"));

    let jar = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let res = jar.get(server.url("/?lang=sv")).send().await.expect("GET");
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .starts_with("lang=sv")
    );
    // Later pages stay Swedish without the parameter, whatever the browser says.
    let html = jar
        .get(server.url("/"))
        .header("accept-language", "en")
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("body");
    assert!(html.contains("<html lang=\"sv\">"));
    let html = jar
        .get(server.url("/?lang=en"))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("body");
    assert!(html.contains("<html lang=\"en\">"));

    let (_, html) = status_of(&server, Scenario::InTransit).await;
    assert!(
        html.contains("hreflang=\"sv\""),
        "a language switch on the page"
    );
}

#[tokio::test]
async fn the_status_page_is_small() {
    let server = Server::start(&[]);
    let (_, html) = status_of(&server, Scenario::SplitShipment).await;
    let css = client()
        .get(server.url("/style/main.css"))
        .send()
        .await
        .expect("css")
        .bytes()
        .await
        .expect("css");
    assert!(
        html.len() + css.len() < 40 * 1024,
        "{} + {}",
        html.len(),
        css.len()
    );
}
