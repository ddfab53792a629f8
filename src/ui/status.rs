//! The status page at `/status/{token}`: what a shopper sees of an order.
//!
//! Top to bottom: the headline and step indicator, a cancellation banner
//! when cancelled, a card per package, items not shipped yet, payment,
//! returns and refunds, help, and a box with the page's own link. Only
//! what a shopper needs: city and country at most, the email masked, no
//! street, phone or card. An invalid link gets a 404 with the lookup form.

use chrono::Utc;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use super::i18n::I18n;
use super::lookup::{LookupForm, LookupFormView, LookupNotice};
use super::{ShopHeader, private_page, request_context};
use crate::order::timeline::{Package, Step, StepKind, StepStatus, Timeline, WaitReason};
use crate::order::{CancelReason, FinancialStatus, Order};
use crate::web::{AppState, open_status_link};

/// `/status/{token}`.
#[component]
pub fn StatusPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let cx = request_context();
    // An order page is private to whoever holds the link.
    private_page();
    let token = use_params_map()
        .read_untracked()
        .get("token")
        .unwrap_or_default();
    let now = Utc::now();
    match open_status_link(&state, &token, now) {
        Ok(Some((order, claims))) => {
            state.metrics.status_views.inc();
            let link = format!("{}/status/{}", cx.base_url, token);
            let expires = cx.i18n.long_date(cx.i18n.local_date(claims.expires));
            view! { <OrderStatus order=order link=link expires=expires /> }.into_any()
        }
        found => {
            let (status, notice) = match found {
                Err(_) => (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    LookupNotice::Unavailable,
                ),
                _ => (axum::http::StatusCode::NOT_FOUND, LookupNotice::LinkInvalid),
            };
            if let Some(res) = use_context::<ResponseOptions>() {
                res.set_status(status);
                if status == axum::http::StatusCode::SERVICE_UNAVAILABLE {
                    res.insert_header(
                        axum::http::header::RETRY_AFTER,
                        axum::http::HeaderValue::from_static("30"),
                    );
                }
            }
            let form = LookupForm {
                notice: Some(notice),
                ..LookupForm::default()
            };
            view! {
                <Title text=cx.i18n.t("lookup.title") />
                <Meta name="robots" content="noindex" />
                <ShopHeader />
                <main id="main" class="page lookup">
                    <h1>{cx.i18n.t("lookup.title")}</h1>
                    <LookupFormView form=form />
                </main>
            }
            .into_any()
        }
    }
}

/// The page of one order.
#[component]
fn OrderStatus(order: Order, link: String, expires: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let i = request_context().i18n;
    let title = format!(
        "{} · {}",
        i.tf("status.title", &[("name", &order.name)]),
        state.config.shop.name
    );
    let share_js = state.assets.share_js_href.clone();
    view! {
        <Title text=title />
        <Meta name="robots" content="noindex" />
        <ShopHeader />
        <main id="main" class="page status">
            <ShopperSections order=order preview=false />
            <section class="card share" aria-labelledby="share-title">
                <h2 id="share-title">{i.t("share.title")}</h2>
                <p>{i.tf("share.body", &[("date", &expires)])}</p>
                <label for="share-link">{i.t("share.label")}</label>
                <div class="share-row">
                    <input id="share-link" type="text" readonly value=link />
                    <button
                        type="button"
                        class="copy"
                        hidden
                        data-copy="share-link"
                        data-copied=i.t("share.copied")
                    >
                        {i.t("share.copy")}
                    </button>
                </div>
            </section>
        </main>
        <script src=share_js defer></script>
    }
}

/// Everything a shopper sees of an order, from the headline to "Need
/// help?". Also the staff console's preview (`preview`: the order title is
/// a second-level heading there, under the staff page's own).
#[component]
pub(crate) fn ShopperSections(order: Order, preview: bool) -> impl IntoView {
    let state = expect_context::<AppState>();
    let i = request_context().i18n;
    let timeline = Timeline::of(&order, Utc::now(), i.tz);
    let headline = i.headline(&timeline.headline);
    let detail = i
        .headline_detail(&timeline.headline)
        .map(|d| view! { <p class="detail">{d}</p> });
    let placed = order
        .processed_at
        .or(order.created_at)
        .map(|t| i.tf("status.placed", &[("date", &i.long_date(i.local_date(t)))]));
    let order_title = i.tf("status.title", &[("name", &order.name)]);
    let heading = if preview {
        view! { <h2 id="order-title">{order_title}</h2> }.into_any()
    } else {
        view! { <h1 id="order-title">{order_title}</h1> }.into_any()
    };
    let cancelled = order
        .cancelled_at
        .is_some()
        .then(|| cancel_banner(&i, &order));
    let to = destination(&order).map(|place| {
        view! { <p class="meta">{i.tf("status.shipping_to", &[("place", &place)])}</p> }
    });
    let email = (!order.email.is_empty()).then(|| {
        view! { <p class="meta">{i.tf("status.email", &[("email", &mask_email(&order.email))])}</p> }
    });
    let packages = timeline
        .packages
        .iter()
        .map(|p| package_card(&i, p))
        .collect_view();
    let waiting = waiting_section(&i, &timeline);
    let payment = payment_section(&i, &order);
    let returns = returns_section(&i, &order);
    let help = help_section(&i, &state, &order);
    view! {
        <section class="summary" aria-labelledby="order-title">
            {heading}
            {placed.map(|p| view! { <p class="meta">{p}</p> })}
            <p class="headline">{headline}</p>
            {detail}
            {cancelled}
            <Steps steps=timeline.steps.clone() />
            {to}
            {email}
        </section>
        {packages}
        {waiting}
        {payment}
        {returns}
        {help}
    }
}

/// The step indicator, as an ordered list.
#[component]
fn Steps(steps: Vec<Step>) -> impl IntoView {
    let cx = request_context();
    let i = cx.i18n;
    let items = steps
        .into_iter()
        .map(|s| {
            let class = match s.status {
                StepStatus::Done => "step done",
                StepStatus::Current => "step current",
                StepStatus::Upcoming => "step upcoming",
            };
            let when = s.at.filter(|_| s.status != StepStatus::Upcoming).map(|t| {
                view! { <span class="when">{i.date(i.local_date(t))}</span> }
            });
            view! {
                <li class=class aria-current=(s.status == StepStatus::Current).then_some("step")>
                    <span class="label">{i.t(step_key(s.kind))}</span>
                    {when}
                </li>
            }
        })
        .collect_view();
    view! {
        <ol class="steps" aria-label=i.t("status.progress")>
            {items}
        </ol>
    }
}

fn step_key(k: StepKind) -> &'static str {
    match k {
        StepKind::Confirmed => "step.confirmed",
        StepKind::Preparing => "step.preparing",
        StepKind::Shipped => "step.shipped",
        StepKind::OutForDelivery => "step.out_for_delivery",
        StepKind::Delivered => "step.delivered",
        StepKind::Cancelled => "step.cancelled",
        StepKind::Return => "step.return",
        StepKind::Refunded => "step.refunded",
    }
}

fn cancel_banner(i: &I18n, order: &Order) -> impl IntoView + use<> {
    let reason = order.cancel_reason.as_ref().map(|r| {
        let r = match r {
            CancelReason::Unknown(_) => CancelReason::Other,
            other => other.clone(),
        };
        i.t(&format!("cancel.{}", r.as_str()))
    });
    let refund = i.t(match order.financial_status {
        FinancialStatus::Refunded => "cancel.refunded",
        FinancialStatus::PartiallyRefunded => "cancel.partly_refunded",
        FinancialStatus::Voided | FinancialStatus::Expired => "cancel.voided",
        _ => "cancel.not_refunded",
    });
    view! {
        <div class="banner cancelled" role="status">
            <p class="banner-title">{i.t("cancel.title")}</p>
            {reason.map(|r| view! { <p>{r}</p> })}
            <p>{refund}</p>
        </div>
    }
}

/// "Göteborg, Sweden": as precise as a shopper page gets.
fn destination(order: &Order) -> Option<String> {
    let a = order.shipping_address.as_ref()?;
    let parts: Vec<&str> = [a.city.as_deref(), a.country.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// `anna.lindqvist@example.se` -> `a***@example.se`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

fn package_card(i: &I18n, p: &Package) -> impl IntoView + use<> {
    let id = format!("package-{}", p.number);
    let title = i.tf(
        "package.title",
        &[("n", &p.number.to_string()), ("of", &p.of.to_string())],
    );
    let status = i.enum_text("shipment", p.status.as_str(), &[]);
    let badge_class = format!(
        "badge {}",
        if p.problem.is_some() {
            "warn"
        } else if p.stage == StepKind::Delivered {
            "ok"
        } else {
            "info"
        }
    );
    let carrier = p.carrier.clone().map(|c| {
        view! {
            <dt>{i.t("package.carrier")}</dt>
            <dd>{c}</dd>
        }
    });
    let tracking = p.tracking_number.clone().map(|n| {
        let link = match p.tracking_url.clone() {
            Some(url) => view! {
                <a href=url rel="noopener noreferrer" target="_blank">{n}</a>
            }
            .into_any(),
            None => view! { <span>{n}</span> }.into_any(),
        };
        view! {
            <dt>{i.t("package.tracking")}</dt>
            <dd>{link}</dd>
        }
    });
    let when = match (p.delivered_at, p.estimated_delivery) {
        (Some(t), _) => Some((i.t("package.delivered"), i.date(i.local_date(t)))),
        (None, Some(t)) if p.stage != StepKind::Delivered => {
            Some((i.t("package.eta"), i.date(i.local_date(t))))
        }
        _ => None,
    }
    .map(|(label, date)| {
        view! {
            <dt>{label}</dt>
            <dd>{date}</dd>
        }
    });
    let from = p.location_name.clone().map(|l| {
        view! { <p class="meta">{i.tf("package.from", &[("location", &l)])}</p> }
    });
    let items = p
        .items
        .iter()
        .map(|it| item_row(i, &it.title, it.variant_title.as_deref(), it.quantity, None))
        .collect_view();
    let events = if p.events.is_empty() {
        view! { <p class="meta">{i.t("package.no_events")}</p> }.into_any()
    } else {
        let rows = p
            .events
            .iter()
            .map(|e| {
                let place = [e.city.as_deref(), e.country.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ");
                let when = e.happened_at.map(|t| {
                    let iso = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    view! { <time datetime=iso>{i.date_time(t)}</time> }
                });
                view! {
                    <li>
                        {when}
                        <span class="what">{i.enum_text("shipment", e.status.as_str(), &[])}</span>
                        {(!place.is_empty()).then(|| view! { <span class="where">{place}</span> })}
                    </li>
                }
            })
            .collect_view();
        view! { <ol class="events">{rows}</ol> }.into_any()
    };
    let heading_id = format!("{id}-title");
    let labelled_by = heading_id.clone();
    view! {
        <section class="card package" id=id aria-labelledby=labelled_by>
            <div class="card-head">
                <h2 id=heading_id>{title}</h2>
                <span class=badge_class>{status}</span>
            </div>
            {from}
            <dl class="facts">{carrier} {tracking} {when}</dl>
            <h3>{i.t("package.items")}</h3>
            <ul class="items">{items}</ul>
            <h3>{i.t("package.history")}</h3>
            {events}
        </section>
    }
}

fn item_row(
    i: &I18n,
    title: &str,
    variant: Option<&str>,
    qty: u32,
    note: Option<String>,
) -> impl IntoView + use<> {
    let variant = variant
        .filter(|v| !v.is_empty())
        .map(|v| view! { <span class="variant">{v.to_string()}</span> });
    view! {
        <li>
            <span class="title">{title.to_string()}</span>
            {variant}
            <span class="qty">{i.tf("status.qty", &[("n", &qty.to_string())])}</span>
            {note.map(|n| view! { <span class="why">{n}</span> })}
        </li>
    }
}

fn waiting_section(i: &I18n, t: &Timeline) -> Option<impl IntoView + use<>> {
    if t.waiting.is_empty() {
        return None;
    }
    let rows = t
        .waiting
        .iter()
        .map(|w| {
            let why = match &w.reason {
                WaitReason::Preparing => i.t("waiting.preparing"),
                WaitReason::AwaitingPayment => i.t("waiting.awaiting_payment"),
                WaitReason::Stage(s) => i.tf("waiting.stage", &[("stage", s)]),
                WaitReason::OnHold(r) => {
                    let reason = i.enum_text("hold", r.as_str(), &[]);
                    i.tf("waiting.on_hold", &[("reason", &reason)])
                }
                WaitReason::Scheduled(Some(d)) => {
                    i.tf("waiting.scheduled", &[("date", &i.date(*d))])
                }
                WaitReason::Scheduled(None) => i.t("waiting.scheduled_undated"),
                WaitReason::Cancelled => i.t("waiting.cancelled"),
            };
            item_row(
                i,
                &w.title,
                w.variant_title.as_deref(),
                w.quantity,
                Some(why),
            )
        })
        .collect_view();
    Some(view! {
        <section class="card waiting" aria-labelledby="waiting-title">
            <h2 id="waiting-title">{i.t("waiting.title")}</h2>
            <ul class="items">{rows}</ul>
        </section>
    })
}

fn payment_section(i: &I18n, order: &Order) -> impl IntoView + use<> {
    let refunded = i.money_or_unavailable(order.refunded_amount(), &order.currency);
    let status = order.financial_status.as_str();
    let text = i.enum_text("payment", status, &[("amount", &refunded)]);
    let total = order
        .total_price
        .map(|t| view! { <p class="meta">{i.tf("payment.total", &[("amount", &i.money(t, &order.currency))])}</p> });
    view! {
        <section class="card payment" aria-labelledby="payment-title">
            <h2 id="payment-title">{i.t("payment.title")}</h2>
            <p>{text}</p>
            {total}
        </section>
    }
}

fn returns_section(i: &I18n, order: &Order) -> Option<impl IntoView + use<>> {
    if order.returns.is_empty() && order.refunds.is_empty() {
        return None;
    }
    let returns = order
        .returns
        .iter()
        .map(|r| {
            let name = r.name.clone().unwrap_or_else(|| order.name.clone());
            let state = i.enum_text("returns", r.status.as_str(), &[]);
            let items = r
                .line_items
                .iter()
                .map(|it| item_row(i, &it.title, None, it.quantity, None))
                .collect_view();
            let tracking = r
                .tracking
                .iter()
                .filter_map(|t| {
                    let number = t.number.clone()?;
                    let carrier = t.company.clone().unwrap_or_default();
                    Some(view! {
                        <p class="meta">
                            {i.tf("returns.tracking", &[("carrier", &carrier), ("number", &number)])}
                        </p>
                    })
                })
                .collect_view();
            view! {
                <div class="return">
                    <h3>{i.tf("returns.return", &[("name", &name)])}</h3>
                    <p><span class="badge info">{state}</span></p>
                    <ul class="items">{items}</ul>
                    {tracking}
                </div>
            }
        })
        .collect_view();
    let refunds = order
        .refunds
        .iter()
        .filter(|r| r.amount().is_none_or(|a| !a.is_zero()))
        .map(|r| {
            let amount = i.money_or_unavailable(r.amount(), &order.currency);
            let date = r.at().map(|t| i.date(i.local_date(t))).unwrap_or_default();
            view! { <li>{i.tf("returns.refund", &[("amount", &amount), ("date", &date)])}</li> }
        })
        .collect_view();
    Some(view! {
        <section class="card returns" aria-labelledby="returns-title">
            <h2 id="returns-title">{i.t("returns.title")}</h2>
            {returns}
            <ul class="refunds">{refunds}</ul>
        </section>
    })
}

fn help_section(i: &I18n, state: &AppState, order: &Order) -> Option<impl IntoView + use<>> {
    let email = state.config.shop.support_email.clone()?;
    let subject = i.tf("help.subject", &[("name", &order.name)]);
    let href = format!("mailto:{email}?subject={}", percent_encode(&subject));
    Some(view! {
        <section class="card help" aria-labelledby="help-title">
            <h2 id="help-title">{i.t("help.title")}</h2>
            <p>{i.t("help.body")}</p>
            <p><a href=href>{i.tf("help.email", &[("email", &email)])}</a></p>
        </section>
    })
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_masked() {
        assert_eq!(mask_email("anna.lindqvist@example.se"), "a***@example.se");
        assert_eq!(mask_email("x@y.z"), "x***@y.z");
        assert_eq!(mask_email("nonsense"), "***");
    }

    #[test]
    fn only_web_urls_are_links() {
        use crate::order::timeline::is_web_url;
        assert!(is_web_url("https://track.example/1"));
        assert!(!is_web_url("javascript:alert(1)"));
        assert!(!is_web_url("data:text/html,x"));
        assert!(!is_web_url("https://a b"));
    }

    #[test]
    fn subjects_are_percent_encoded() {
        assert_eq!(percent_encode("Order #1001"), "Order%20%231001");
    }
}
