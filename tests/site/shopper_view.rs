//! The status page and the JSON API render one `ShopperView`: for every
//! demo scenario, each fact the API gives a headless storefront is on the
//! page too (in-process, through the whole router).

use crate::common;

use common::inproc::TestApp;
use common::{demo_order, scenario_index};
use order_status::ingest::demo::{SCENARIOS, Scenario};

/// Text as it appears in HTML.
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn has(html: &str, fact: &serde_json::Value, what: &str) {
    if let Some(text) = fact.as_str() {
        assert!(
            html.contains(&escaped(text)),
            "{what}: {text:?} is in the API but not on the page"
        );
    }
}

#[tokio::test]
async fn the_page_and_the_api_show_the_same_facts_for_every_scenario() {
    // A small fixture: one order of each scenario, no seeding.
    let site = TestApp::builder()
        .orders(
            SCENARIOS
                .iter()
                .map(|s| demo_order(scenario_index(s)))
                .collect(),
        )
        .build()
        .await;
    assert_eq!(site.state.store.count(), SCENARIOS.len() as u64);
    for scenario in SCENARIOS {
        let order = demo_order(scenario_index(scenario));
        let token = site.token(&order);
        let (status, html) = site.get(&format!("/status/{token}")).await;
        assert_eq!(status, 200, "{scenario:?}");
        let (status, body) = site.get(&format!("/api/v1/status/{token}?lang=en")).await;
        assert_eq!(status, 200, "{scenario:?}");
        let api: serde_json::Value = serde_json::from_str(&body).expect("json");
        let at = |what: &str| format!("{scenario:?} {what}");

        has(&html, &api["order"], &at("order"));
        has(&html, &api["headline"], &at("headline"));
        has(&html, &api["headline_detail"], &at("headline_detail"));
        has(&html, &api["note"], &at("note"));
        has(
            &html,
            &api["merchant_status"]["title"],
            &at("merchant status"),
        );
        if let Some(current) = api["current_step"].as_str()
            && let Some(id) = current.strip_prefix("stage:")
        {
            assert_eq!(api["merchant_status"]["id"], id, "{}", at("current step"));
        }
        has(&html, &api["shipping_to"], &at("shipping_to"));
        has(&html, &api["email"], &at("email"));
        has(&html, &api["payment"]["text"], &at("payment"));
        let steps = api["steps"].as_array().expect("steps");
        for s in steps {
            has(&html, &s["text"], &at("step"));
        }
        assert_eq!(
            html.matches("class=\"step ").count(),
            steps.len(),
            "{}",
            at("steps")
        );
        assert_eq!(
            html.contains("class=\"banner cancelled\""),
            api["cancelled"] == true,
            "{}",
            at("cancelled")
        );
        for p in api["packages"].as_array().expect("packages") {
            for key in ["carrier", "tracking_number", "status_text"] {
                has(&html, &p[key], &at(key));
            }
            if let Some(url) = p["tracking_url"].as_str() {
                assert!(
                    html.contains(&format!("href=\"{}\"", escaped(url))),
                    "{}",
                    at("url")
                );
            }
            for item in p["items"].as_array().expect("items") {
                has(&html, &item["title"], &at("package item"));
            }
            has(&html, &p["carrier_latest"]["text"], &at("carrier's latest"));
            for key in ["message", "street", "zip", "city", "country"] {
                has(&html, &p["pickup_point"][key], &at("pickup point"));
            }
            for e in p["events"].as_array().expect("events") {
                has(&html, &e["text"], &at("event"));
                has(&html, &e["message"], &at("carrier's words"));
            }
        }
        for line in api["lines"].as_array().expect("lines") {
            has(&html, &line["title"], &at("line"));
            let units: u64 = line["places"]
                .as_array()
                .expect("places")
                .iter()
                .inspect(|p| has(&html, &p["text"], &at("line place")))
                .map(|p| p["quantity"].as_u64().expect("a count"))
                .sum();
            assert_eq!(
                units,
                line["quantity"].as_u64().expect("a count"),
                "{}: every unit of {} has one place",
                at("lines"),
                line["title"]
            );
        }
        for w in api["not_shipped"].as_array().expect("not shipped") {
            has(&html, &w["title"], &at("waiting item"));
            has(&html, &w["reason_text"], &at("waiting reason"));
        }
        for r in api["returns"].as_array().expect("returns") {
            has(&html, &r["name"], &at("return"));
            has(&html, &r["status_text"], &at("return status"));
            for t in r["tracking"].as_array().expect("tracking") {
                has(&html, &t["number"], &at("return tracking"));
            }
        }
        let refunds = api["refunds"].as_array().expect("refunds");
        let on_page = html
            .split("<ul class=\"refunds\">")
            .nth(1)
            .map_or(0, |rest| {
                rest.split("</ul>")
                    .next()
                    .unwrap_or("")
                    .matches("<li>")
                    .count()
            });
        assert_eq!(on_page, refunds.len(), "{}", at("refunds"));
    }
}

/// The page of one demo scenario, from a site with these settings.
async fn page_of(site: &TestApp, scenario: &Scenario, lang: &str) -> String {
    let order = demo_order(scenario_index(scenario));
    let (status, html) = site
        .get(&format!("/status/{}?lang={lang}", site.token(&order)))
        .await;
    assert_eq!(status, 200, "{scenario:?}");
    html
}

#[tokio::test]
async fn the_page_gives_the_carriers_words_the_pickup_point_and_a_way_to_reach_the_shop() {
    use order_status::order::{CancelReason, HoldReason};
    let scenarios = [
        Scenario::DeliveryFailure,
        Scenario::ReadyForPickup,
        Scenario::InTransit,
        Scenario::OnHold(HoldReason::IncorrectAddress),
        Scenario::Cancelled(CancelReason::Customer),
    ];
    let orders = || {
        scenarios
            .iter()
            .map(|s| demo_order(scenario_index(s)))
            .collect::<Vec<_>>()
    };
    let site = TestApp::builder().orders(orders()).build().await;

    // A failed delivery: the carrier's own words, and "Contact us" as a
    // button under the headline, a mail about this order.
    let failed = page_of(&site, &Scenario::DeliveryFailure, "en").await;
    assert!(
        failed.contains("“Could not be delivered, returning to sender”"),
        "{failed}"
    );
    let order = demo_order(scenario_index(&Scenario::DeliveryFailure));
    let mail = format!(
        "href=\"mailto:support@demo.example?subject=Order%20%23{}\" class=\"button\">Contact us</a>",
        order.order_number
    );
    assert!(failed.contains(&mail), "{failed}");
    assert!(
        !failed.contains("Estimated delivery"),
        "a parcel going back has no estimate"
    );
    // So does an address to check; a parcel on its way needs no button.
    let hold = page_of(&site, &Scenario::OnHold(HoldReason::IncorrectAddress), "en").await;
    assert!(hold.contains(">Contact us</a>"));
    let moving = page_of(&site, &Scenario::InTransit, "en").await;
    assert!(!moving.contains(">Contact us</a>"));

    // At a pickup point: where it is, in the carrier's words, and steps
    // that say "ready for pickup".
    let pickup = page_of(&site, &Scenario::ReadyForPickup, "sv").await;
    let order = demo_order(scenario_index(&Scenario::ReadyForPickup));
    let scan = order.fulfillments[0]
        .events
        .iter()
        .find(|e| e.status == order_status::order::TrackingStatus::ReadyForPickup)
        .expect("a pickup scan");
    assert!(pickup.contains("<h3>Utlämningsställe</h3>"), "{pickup}");
    for part in [&scan.message, &scan.address1, &scan.zip] {
        let part = part.as_deref().expect("the demo's pickup point says it");
        assert!(pickup.contains(part), "{part} not on the page");
    }
    assert!(
        pickup.contains(">Redo att hämtas</span>"),
        "the step: {pickup}"
    );
    // The shop's country is not set: every scan time names the zone.
    assert!(pickup.contains(" CET</time>") || pickup.contains(" CEST</time>"));

    // A cancelled order that never shipped goes nowhere.
    let cancelled = page_of(&site, &Scenario::Cancelled(CancelReason::Customer), "en").await;
    assert!(!cancelled.contains("Shipping to"), "{cancelled}");

    // In the shop's own country, times are the shopper's own: no zone.
    let shop_country = demo_order(scenario_index(&Scenario::InTransit))
        .shipping_address
        .and_then(|a| a.country_code)
        .expect("a country");
    let home = TestApp::builder()
        .with(move |c| c.shop.country = Some(shop_country.parse().expect("a code")))
        .orders(orders())
        .build()
        .await;
    let moving = page_of(&home, &Scenario::InTransit, "en").await;
    assert!(moving.contains("<time datetime="), "{moving}");
    assert!(!moving.contains(" CET</time>") && !moving.contains(" CEST</time>"));
}

#[tokio::test]
async fn a_parcel_ships_from_its_warehouse_until_it_has_left_and_then_was_shipped_from_it() {
    let scenarios = [
        Scenario::LabelPrinted,
        Scenario::InTransit,
        Scenario::Delivered,
    ];
    let orders = scenarios
        .iter()
        .map(|s| demo_order(scenario_index(s)))
        .collect::<Vec<_>>();
    for order in &orders {
        assert!(
            order.fulfillments[0].location_name.is_some(),
            "the demo names the warehouse"
        );
    }
    let site = TestApp::builder().orders(orders).build().await;

    // A label made: the parcel is still at the warehouse.
    let label = page_of(&site, &Scenario::LabelPrinted, "en").await;
    assert!(label.contains(">Ships from "), "{label}");
    assert!(!label.contains("Shipped from"), "{label}");
    // With the carrier or delivered: it left, in the past tense.
    for scenario in [Scenario::InTransit, Scenario::Delivered] {
        let page = page_of(&site, &scenario, "en").await;
        assert!(page.contains(">Shipped from "), "{scenario:?}: {page}");
        assert!(!page.contains("Ships from"), "{scenario:?}: {page}");
    }
    let sv = page_of(&site, &Scenario::Delivered, "sv").await;
    assert!(sv.contains(">Skickat från "), "{sv}");
    assert!(!sv.contains("Skickas från"), "{sv}");
}
