//! `GET /api/v1/status/{token}`: the shopper's view of an order as JSON,
//! for headless storefronts. The same signed link as the status page, the
//! same facts and the same privacy (no address, phone or payment details),
//! texts in the language asked for (`?lang=` or `Accept-Language`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::error::WebError;
use super::render::Visitor;
use super::{AppState, open_status_link};
use crate::i18n::I18n;
use crate::order::timeline::{Headline, Package, Step, StepKind, StepStatus, WaitReason};
use crate::shopper::{Place, ShopperView};
use crate::web::extract::WebPath;

#[derive(Serialize)]
struct StatusView {
    order: String,
    placed_at: Option<DateTime<Utc>>,
    headline: String,
    /// The line under the headline (what to do, a merchant status's
    /// description), as on the page.
    headline_detail: Option<String>,
    /// The merchant status the order is in, while the headline is it.
    merchant_status: Option<MerchantStatusView>,
    /// The merchant's note to the shopper.
    note: Option<String>,
    /// A step's name, or `stage:<id>` for a merchant status.
    current_step: String,
    steps: Vec<StepView>,
    cancelled: bool,
    cancel_reason: Option<String>,
    shipping_to: Option<String>,
    email: Option<String>,
    /// Shopify withheld the email from the shop's app: not available.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    email_withheld: bool,
    packages: Vec<PackageView>,
    not_shipped: Vec<WaitingView>,
    /// Every line of the order and where its units are.
    lines: Vec<LineView>,
    payment: PaymentView,
    returns: Vec<ReturnView>,
    refunds: Vec<RefundView>,
    link_expires_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct MerchantStatusView {
    id: String,
    title: String,
    description: Option<String>,
}

#[derive(Serialize)]
struct LineView {
    title: String,
    variant: Option<String>,
    quantity: u32,
    /// Per unit, in the payment's currency.
    price: Option<String>,
    /// A path on this site or an allowed https URL.
    image: Option<String>,
    places: Vec<PlaceView>,
}

#[derive(Serialize)]
struct PlaceView {
    quantity: u32,
    /// `package`, `waiting`, `returned`, `removed` or `no_shipping`.
    place: &'static str,
    /// The package's number, for `package`.
    package: Option<usize>,
    /// What the page says.
    text: String,
}

#[derive(Serialize)]
struct StepView {
    /// `confirmed`, `preparing`, ..., or `stage:<id>` for a merchant status.
    step: String,
    /// What the page says.
    text: String,
    status: &'static str,
    at: Option<DateTime<Utc>>,
}

#[derive(Serialize)]
struct PackageView {
    number: usize,
    /// `null` while items still wait to ship (more parcels to come).
    of: Option<usize>,
    status: String,
    status_text: String,
    problem: bool,
    carrier: Option<String>,
    tracking_number: Option<String>,
    tracking_url: Option<String>,
    estimated_delivery_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
    /// The carrier's own latest words, where and when, and the page's line.
    carrier_latest: Option<CarrierView>,
    /// Where to collect the parcel, while it waits there.
    pickup_point: Option<PickupView>,
    items: Vec<ItemView>,
    events: Vec<EventView>,
}

#[derive(Serialize)]
struct CarrierView {
    message: String,
    place: Option<String>,
    at: Option<DateTime<Utc>>,
    text: String,
}

#[derive(Serialize)]
struct PickupView {
    /// The carrier's words, which name the place.
    message: Option<String>,
    street: Option<String>,
    zip: Option<String>,
    city: Option<String>,
    country: Option<String>,
}

#[derive(Serialize)]
struct ItemView {
    title: String,
    variant: Option<String>,
    quantity: u32,
}

#[derive(Serialize)]
struct EventView {
    status: String,
    text: String,
    /// The carrier's own words.
    message: Option<String>,
    at: Option<DateTime<Utc>>,
    city: Option<String>,
    country: Option<String>,
}

#[derive(Serialize)]
struct WaitingView {
    title: String,
    variant: Option<String>,
    quantity: u32,
    reason: String,
    reason_text: String,
}

#[derive(Serialize)]
struct PaymentView {
    status: String,
    text: String,
    currency: String,
    total: Option<String>,
    /// `null` when the refunds add up to an impossible amount.
    refunded: Option<String>,
    subtotal: Option<String>,
    shipping: Option<String>,
    shipping_method: Option<String>,
    discounts: Option<String>,
    taxes: Option<String>,
    /// The taxes are part of the prices and the total, not added to them.
    taxes_included: bool,
    /// Paid after refunds, when something was refunded.
    net: Option<String>,
}

#[derive(Serialize)]
struct ReturnView {
    name: String,
    status: String,
    status_text: String,
    items: Vec<ItemView>,
    tracking: Vec<TrackingView>,
}

#[derive(Serialize)]
struct TrackingView {
    carrier: Option<String>,
    number: String,
}

#[derive(Serialize)]
struct RefundView {
    amount: Option<String>,
    at: Option<DateTime<Utc>>,
}

fn step_name(k: StepKind) -> &'static str {
    match k {
        StepKind::Confirmed => "confirmed",
        StepKind::Preparing => "preparing",
        StepKind::Shipped => "shipped",
        StepKind::OutForDelivery => "out_for_delivery",
        StepKind::Delivered => "delivered",
        StepKind::Cancelled => "cancelled",
        StepKind::Return => "return",
        StepKind::Refunded => "refunded",
    }
}

/// A step's name in the API: a merchant status is `stage:<id>`.
fn step_id(s: &Step) -> String {
    match &s.label {
        Some(id) => format!("stage:{id}"),
        None => step_name(s.kind).to_string(),
    }
}

fn step(i: &I18n, s: &Step) -> StepView {
    StepView {
        step: step_id(s),
        text: i.step(s),
        status: match s.status {
            StepStatus::Done => "done",
            StepStatus::Current => "current",
            StepStatus::Upcoming => "upcoming",
        },
        at: s.at,
    }
}

fn package(i: &I18n, p: &Package) -> PackageView {
    PackageView {
        number: p.number,
        of: p.of,
        status: p.status.as_str().to_string(),
        status_text: i.enum_text("shipment", p.status.as_str(), &[]),
        problem: p.problem.is_some(),
        carrier: p.carrier.clone(),
        tracking_number: p.tracking_number.clone(),
        tracking_url: p.tracking_url.clone(),
        estimated_delivery_at: p.estimated_delivery,
        delivered_at: p.delivered_at,
        carrier_latest: p.carrier_latest().map(|w| CarrierView {
            place: Some(i.scan_place(w.city.as_deref(), w.country.as_deref()))
                .filter(|p| !p.is_empty()),
            text: i.carrier_says(&w),
            at: w.at,
            message: w.message,
        }),
        pickup_point: p.pickup.as_ref().map(|pt| PickupView {
            message: pt.message.clone(),
            street: pt.street.clone(),
            zip: pt.zip.clone(),
            city: pt.city.clone(),
            country: pt.country.as_deref().map(|c| i.country_or_name(c)),
        }),
        items: p
            .items
            .iter()
            .map(|it| ItemView {
                title: it.title.clone(),
                variant: it.variant_title.clone(),
                quantity: it.quantity,
            })
            .collect(),
        events: p
            .events
            .iter()
            .map(|e| EventView {
                status: e.status.as_str().to_string(),
                text: i.enum_text("shipment", e.status.as_str(), &[]),
                message: e.message.clone(),
                at: e.happened_at,
                city: e.city.clone(),
                country: e.country.clone(),
            })
            .collect(),
    }
}

fn view(i: &I18n, v: &ShopperView, expires: DateTime<Utc>) -> StatusView {
    let t = &v.timeline;
    let p = &v.payment;
    let refunded = i.money_or_unavailable(p.refunded, &p.currency);
    StatusView {
        order: v.name.clone(),
        placed_at: v.placed_at,
        headline: i.headline(&t.headline),
        headline_detail: i.headline_detail(&t.headline),
        merchant_status: match &t.headline {
            Headline::InStage(id) => Some(MerchantStatusView {
                id: id.clone(),
                title: i.stage(id),
                description: i.headline_detail(&t.headline),
            }),
            _ => None,
        },
        note: v.status_note.clone(),
        current_step: t
            .steps
            .iter()
            .find(|s| s.status == StepStatus::Current)
            .map_or_else(|| step_name(t.current).to_string(), step_id),
        steps: t.steps.iter().map(|s| step(i, s)).collect(),
        cancelled: v.cancellation.is_some(),
        cancel_reason: v
            .cancellation
            .as_ref()
            .and_then(|c| c.reason.as_ref())
            .map(|r| r.as_str().to_string()),
        shipping_to: v
            .destination
            .as_ref()
            .map(|d| d.text(|code| i.country(code))),
        email: v.masked_email.clone(),
        email_withheld: v.email_withheld,
        packages: t.packages.iter().map(|p| package(i, p)).collect(),
        // Units still to ship; those that never will (a cancelled or
        // refunded order) say so in `lines[].places`, as on the page.
        not_shipped: t
            .waiting
            .iter()
            .filter(|w| w.reason.will_ship())
            .map(|w| WaitingView {
                title: w.title.clone(),
                variant: w.variant_title.clone(),
                quantity: w.quantity,
                reason: match &w.reason {
                    WaitReason::Preparing => "preparing".into(),
                    WaitReason::AwaitingPayment => "awaiting_payment".into(),
                    WaitReason::Stage(s) => format!("stage:{s}"),
                    WaitReason::OnHold(r) => format!("on_hold:{}", r.as_str()),
                    WaitReason::Scheduled(d) => {
                        format!("scheduled:{}", d.map(|d| d.to_string()).unwrap_or_default())
                    }
                    WaitReason::Cancelled => "cancelled".into(),
                    WaitReason::Refunded => "refunded".into(),
                },
                reason_text: i.wait_reason(&w.reason),
            })
            .collect(),
        payment: PaymentView {
            status: p.status.as_str().to_string(),
            text: i.enum_text("payment", p.status.as_str(), &[("amount", &refunded)]),
            currency: p.currency.clone(),
            total: p.total.map(|d| d.to_string()),
            refunded: p.refunded.map(|a| a.to_string()),
            subtotal: p.subtotal.map(|d| d.to_string()),
            shipping: p.shipping.map(|d| d.to_string()),
            shipping_method: p.shipping_method.clone(),
            discounts: p.discounts.map(|d| d.to_string()),
            taxes: p.taxes.map(|d| d.to_string()),
            taxes_included: p.taxes_included,
            net: p.net().map(|d| d.to_string()),
        },
        lines: v
            .items
            .iter()
            .map(|it| LineView {
                title: it.title.clone(),
                variant: it.variant_title.clone(),
                quantity: it.quantity,
                price: it.price.map(|d| d.to_string()),
                image: it.image.clone(),
                places: it
                    .places
                    .iter()
                    .map(|pl| PlaceView {
                        quantity: pl.quantity,
                        place: match pl.place {
                            Place::Package { .. } => "package",
                            Place::Shipped => "shipped",
                            Place::Waiting(_) => "waiting",
                            Place::Cancelled => "cancelled",
                            Place::Refunded => "refunded",
                            Place::Returned(_) => "returned",
                            Place::Removed => "removed",
                            Place::NoShipping => "no_shipping",
                        },
                        package: match pl.place {
                            Place::Package { number, .. } => Some(number),
                            _ => None,
                        },
                        text: i.place(&pl.place),
                    })
                    .collect(),
            })
            .collect(),
        returns: v
            .returns
            .iter()
            .map(|r| ReturnView {
                name: r.name.clone(),
                status: r.status.as_str().to_string(),
                status_text: i.enum_text("returns", r.status.as_str(), &[]),
                items: r
                    .items
                    .iter()
                    .map(|it| ItemView {
                        title: it.title.clone(),
                        variant: None,
                        quantity: it.quantity,
                    })
                    .collect(),
                tracking: r
                    .tracking
                    .iter()
                    .map(|t| TrackingView {
                        carrier: t.carrier.clone(),
                        number: t.number.clone(),
                    })
                    .collect(),
            })
            .collect(),
        refunds: v
            .refunds
            .iter()
            .map(|r| RefundView {
                amount: r.amount.map(|a| a.to_string()),
                at: r.at,
            })
            .collect(),
        link_expires_at: expires,
    }
}

/// The JSON API: its own budget per client (`[limits] api`).
pub fn router(limits: &super::Limiters) -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/status/{token}", axum::routing::get(status))
        .route_layer(super::protect::layer(&limits.api))
        .layer(axum::middleware::from_fn_with_state(
            super::MAX_BODY_BYTES,
            crate::web::limit_body,
        ))
}

/// `GET /api/v1/status/{token}`. Failures are JSON (see `web::error`).
pub async fn status(
    State(state): State<AppState>,
    visitor: Visitor,
    WebPath(token): WebPath<String>,
) -> Result<Response, WebError> {
    let i = visitor.i18n(&state);
    let now = Utc::now();
    let Some((order, claims)) = open_status_link(&state, &token, now)? else {
        return Err(WebError::NotFound);
    };
    let mut shopper = ShopperView::of(&order, now, i.tz);
    shopper.keep_images_from(&state.config.shop.image_origin_list());
    let mut res = Json(view(&i, &shopper, claims.expires)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    Ok(res)
}
