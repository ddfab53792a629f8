//! Snapshots of the rendered pages (insta), so a markup change is seen and
//! reviewed, not accidental: the lookup page, the status page of a fixed
//! set of demo orders, and a staff order page, in English and Swedish.
//! Everything is fixed: the orders, "now", the time zone and the assets,
//! so the HTML is the same on every run. Review changes with
//! `cargo insta review` (or delete the `.snap` and rerun to accept).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use order_status::i18n::{Catalog, I18n, Lang};
use order_status::ingest::demo::{self, SCENARIOS, Scenario};
use order_status::shopper::ShopperView;
use order_status::ui::{self, Chrome, LookupForm};

const SHOP: &str = "demo.example";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

fn chrome(lang: Lang) -> Chrome {
    let tz = chrono_tz::Europe::Stockholm;
    Chrome {
        i18n: I18n::new(lang, tz, Arc::new(Catalog::load().expect("catalog"))),
        shop_name: "Demo Store".into(),
        logo_url: None,
        support_email: Some("support@demo.example".into()),
        shop_url: None,
        shop_country: Some("SE".into()),
        css_href: "/style/main.css?v=test".into(),
        theme_href: "/style/theme.css?v=test".into(),
        share_js_href: "/share.js?v=test".into(),
        staff_js_href: "/staff.js?v=test".into(),
        embed_js_href: "/embed.js?v=test".into(),
    }
}

/// A page rendered the way the site serves it (leptos_axum), as HTML.
async fn render(lang: Lang, page: impl FnOnce() -> ui::Page + Send + 'static) -> String {
    let _ = any_spawner::Executor::init_tokio();
    order_status::web::page_html(chrome(lang), page).await
}

/// One element per line, so a snapshot diff points at what changed.
fn pretty(html: &str) -> String {
    html.replace("><", ">\n<")
}

fn order_of(scenario: Scenario) -> order_status::order::Order {
    let index = SCENARIOS
        .iter()
        .position(|s| *s == scenario)
        .expect("scenario listed") as u64;
    demo::order(order_status::ingest::demo::SEED, index, now(), SHOP)
}

const SNAPSHOT_SCENARIOS: &[Scenario] = &[
    Scenario::InTransit,
    Scenario::SplitShipment,
    Scenario::Delivered,
    Scenario::DeliveryFailure,
    Scenario::Returned,
    Scenario::PartiallyRefunded,
];

#[tokio::test]
async fn lookup_pages() {
    for lang in [Lang::En, Lang::Sv] {
        let empty = render(lang, || ui::lookup_page(LookupForm::default())).await;
        insta::assert_snapshot!(format!("lookup_{}", lang.code()), pretty(&empty));
        let wrong = LookupForm {
            order: "abc".into(),
            email: "nope".into(),
            order_error: Some("lookup.order_invalid"),
            email_error: Some("lookup.email_invalid"),
            notice: None,
        };
        let wrong = render(lang, || ui::lookup_page(wrong)).await;
        insta::assert_snapshot!(format!("lookup_errors_{}", lang.code()), pretty(&wrong));
    }
}

#[tokio::test]
async fn status_pages() {
    let tz = chrono_tz::Europe::Stockholm;
    for scenario in SNAPSHOT_SCENARIOS {
        let order = order_of(scenario.clone());
        for lang in [Lang::En, Lang::Sv] {
            let view = ShopperView::of(&order, now(), tz);
            let link = "https://track.example/status/TOKEN".to_string();
            let expires = now() + chrono::Duration::days(30);
            let page = render(lang, move || ui::status_page(view, link, expires)).await;
            assert!(
                page.contains("<meta name=\"robots\" content=\"noindex\">"),
                "an order's page is private"
            );
            let name = format!("status_{scenario:?}_{}", lang.code())
                .to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_");
            insta::assert_snapshot!(name, pretty(&page));
        }
    }
}

#[tokio::test]
async fn staff_order_page() {
    let mut order = order_of(Scenario::SplitShipment);
    order
        .status_history
        .push(order_status::order::StatusChange {
            at: now() - chrono::Duration::days(2),
            status: Some("qc".into()),
            position: 1,
            note: Some("Checked twice.".into()),
            by: "staff:demo".into(),
        });
    let view = ShopperView::of(&order, now(), chrono_tz::Europe::Stockholm);
    let tools = ui::staff::OrderTools {
        statuses: vec![ui::staff::StatusChoice {
            id: "qc".into(),
            title: "Quality check".into(),
        }],
        can_change: true,
        audit: vec![ui::staff::AuditLine {
            at: now() - chrono::Duration::days(2),
            by: "staff:demo".into(),
            action: "status.set".into(),
            args: vec![("status".into(), "qc".into())],
            note: Some("Checked twice.".into()),
        }],
        customer: Lang::Sv,
        problems: vec![("late".into(), now() - chrono::Duration::days(1))],
        me: "demo".into(),
        now: now(),
        shopify: ui::staff::ShopifyTools {
            enabled: true,
            shipments: order
                .fulfillments
                .iter()
                .map(|f| ui::staff::ShipmentRef {
                    id: f.id,
                    name: f.name.clone().unwrap_or_default(),
                })
                .collect(),
            scan_statuses: vec!["IN_TRANSIT".into(), "DELIVERED".into()],
        },
    };
    let page = render(Lang::En, move || {
        ui::staff::order_page("demo".into(), order, view, None, false, tools)
    })
    .await;
    insta::assert_snapshot!("staff_order_en", pretty(&page));
}

/// The amounts of a page's order summary, by what each is
/// (`data-line` / `data-amount`: the signed value a reader sees).
fn summary_lines(page: &str) -> Vec<(String, rust_decimal::Decimal)> {
    page.split("data-line=\"")
        .skip(1)
        .map(|rest| {
            let what = rest.split('"').next().expect("a name").to_string();
            let amount = rest
                .split("data-amount=\"")
                .nth(1)
                .and_then(|a| a.split('"').next())
                .and_then(|a| a.parse().ok())
                .expect("an amount");
            (what, amount)
        })
        .collect()
}

/// A reader adding up the staff order page's summary (and the shopper's)
/// gets its total, for every state of the demo and a realistic mix: the
/// subtotal, shipping, discounts (negative) and taxes unless the prices
/// include them; and what was paid after refunds is the total less them.
#[tokio::test]
async fn the_money_on_the_staff_order_page_adds_up_for_every_demo_order() {
    let enum_values = crate::common::shopify_enum_values();
    let tz = chrono_tz::Europe::Stockholm;
    for index in 0..(SCENARIOS.len() as u64 + 60) {
        let order = demo::order(demo::SEED, index, now(), SHOP);
        let name = order.name.clone();
        let view = ShopperView::of(&order, now(), tz);
        let page = render(Lang::Sv, move || {
            ui::staff::order_page("demo".into(), order, view, None, false, Default::default())
        })
        .await;
        // The shopper's preview on the page repeats the summary: both add
        // up. A summary's lines come in this order; a line earlier than the
        // one before starts the next summary.
        const ORDER: [&str; 8] = [
            "subtotal",
            "shipping",
            "discounts",
            "taxes",
            "total",
            "taxes_included",
            "refunded",
            "net",
        ];
        let lines = summary_lines(&page);
        let mut summaries: Vec<Vec<(String, rust_decimal::Decimal)>> = Vec::new();
        let mut last = usize::MAX;
        for (what, amount) in lines {
            let at = ORDER
                .iter()
                .position(|w| *w == what)
                .unwrap_or_else(|| panic!("{name}: a line {what}"));
            if last == usize::MAX || at <= last {
                summaries.push(Vec::new());
            }
            last = at;
            summaries.last_mut().expect("one").push((what, amount));
        }
        assert_eq!(summaries.len(), 2, "{name}: the staff's and the shopper's");
        for summary in &summaries {
            let get = |w: &str| summary.iter().find(|(x, _)| x == w).map(|(_, a)| *a);
            let sum: rust_decimal::Decimal = ["subtotal", "shipping", "discounts", "taxes"]
                .iter()
                .filter_map(|w| get(w))
                .sum();
            let total = get("total").expect("a total");
            assert_eq!(sum, total, "{name}: {summary:?}");
            if let Some(net) = get("net") {
                let refunded = get("refunded").expect("net only after a refund");
                assert_eq!(
                    net,
                    (total + refunded).max(rust_decimal::Decimal::ZERO),
                    "{name}"
                );
            }
        }
        assert_eq!(
            summaries[0], summaries[1],
            "{name}: staff and shopper see one summary"
        );
        // Words, not Shopify's enum values ("PAID", "ON_HOLD"); a carrier
        // such as "USPS" is a name.
        let raw: Vec<&str> = page
            .split('>')
            .filter_map(|s| s.split('<').next())
            .map(str::trim)
            .filter(|t| {
                t.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                    && (t.contains('_') || enum_values.contains(t))
            })
            .collect();
        assert!(raw.is_empty(), "{name}: raw values {raw:?}");
    }
}
