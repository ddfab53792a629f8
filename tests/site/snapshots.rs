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
            detail: "qc (note: Checked twice.)".into(),
        }],
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
