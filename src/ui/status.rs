//! The status page at `/status/{token}`: what a shopper sees of an order.
//!
//! Top to bottom: the headline and step indicator, a cancellation banner
//! when cancelled, a card per package, every item with where its units
//! are, payment with the order summary, returns and refunds, help, and a
//! box with the page's own link. It renders a [`ShopperView`], which holds
//! the privacy rules; an invalid link gets the lookup form instead
//! (`link_invalid_page`).

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use rust_decimal::Decimal;

use super::lookup::{LookupForm, LookupFormView, LookupNotice};
use super::{Page, ShopHeader, chrome};
use crate::i18n::I18n;
use crate::order::HoldReason;
use crate::order::timeline::{Headline, Package, Step, StepKind, StepStatus};
use crate::shopper::{Cancellation, ItemView, Payment, Place, RefundLine, ReturnView, ShopperView};

/// The page of one order, opened by a valid link (`link`, valid until
/// `expires`).
pub fn status_page(view: ShopperView, link: String, expires: DateTime<Utc>) -> Page {
    let cx = chrome();
    let i = cx.i18n.clone();
    let title = format!(
        "{} · {}",
        i.tf("status.title", &[("name", &view.name)]),
        cx.shop_name
    );
    let expires = i.long_date(i.local_date(expires));
    let share_js = cx.share_js_href.clone();
    // The way back to the shop, after everything about the order.
    let back = cx.shop_url.clone().map(|href| {
        view! {
            <p class="continue">
                <a class="button" href=href>{i.t("status.continue_shopping")}</a>
            </p>
        }
    });
    Page {
        title,
        private: true,
        body: view! {
            <ShopHeader />
            <main id="main" class="page status">
                <ShopperSections view=view preview=false />
                {back}
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
        .into_any(),
    }
}

/// A link that is malformed, tampered with, expired or revoked: the lookup
/// form, with the one message every such link gets.
pub fn link_invalid_page() -> Page {
    let i = chrome().i18n;
    let form = LookupForm {
        notice: Some(LookupNotice::LinkInvalid),
        ..LookupForm::default()
    };
    Page {
        title: i.t("lookup.title"),
        private: true,
        body: view! {
            <ShopHeader />
            <main id="main" class="page lookup">
                <h1>{i.t("lookup.title")}</h1>
                <LookupFormView form=form />
            </main>
        }
        .into_any(),
    }
}

/// Everything a shopper sees of an order, from the headline to "Need
/// help?". Also the staff console's preview (`preview`: the order title is
/// a second-level heading there, under the staff page's own).
#[component]
pub(crate) fn ShopperSections(view: ShopperView, preview: bool) -> impl IntoView {
    let cx = chrome();
    let i = cx.i18n.clone();
    let timeline = &view.timeline;
    let headline = i.headline(&timeline.headline);
    let detail = i
        .headline_detail(&timeline.headline)
        .map(|d| view! { <p class="detail">{d}</p> });
    // A delivery problem, or an address to check, asks the shopper to get
    // in touch: the way is right here.
    let contact = matches!(
        timeline.headline,
        Headline::DeliveryProblem(_) | Headline::OnHold(HoldReason::IncorrectAddress)
    )
    .then(|| cx.support_email.clone())
    .flatten()
    .map(|email| {
        let href = mailto(&i, &email, &view.name);
        view! {
            <p class="contact"><a class="button" href=href>{i.t("help.contact")}</a></p>
        }
    });
    let note = view
        .status_note
        .clone()
        .map(|n| view! { <p class="detail note">{n}</p> });
    let placed = view
        .placed_at
        .map(|t| i.tf("status.placed", &[("date", &i.long_date(i.local_date(t)))]));
    let order_title = i.tf("status.title", &[("name", &view.name)]);
    let heading = if preview {
        view! { <h2 id="order-title">{order_title}</h2> }.into_any()
    } else {
        view! { <h1 id="order-title">{order_title}</h1> }.into_any()
    };
    let cancelled = view.cancellation.as_ref().map(|c| cancel_banner(&i, c));
    let to = view.destination.clone().map(|d| {
        let place = d.text(|code| i.country(code));
        let key = if d.arrived {
            "status.delivered_to"
        } else {
            "status.shipping_to"
        };
        view! { <p class="meta">{i.tf(key, &[("place", &place)])}</p> }
    });
    let email = match (&view.masked_email, view.email_withheld) {
        (Some(masked), _) => Some(
            view! { <p class="meta">{i.tf("status.email", &[("email", masked)])}</p> }.into_any(),
        ),
        (None, true) => {
            Some(view! { <p class="meta">{i.t("status.email_withheld")}</p> }.into_any())
        }
        (None, false) => None,
    };
    let zone_named = cx.shop_country.is_none()
        || view
            .destination
            .as_ref()
            .and_then(|d| d.country_code.as_deref())
            .is_some_and(|c| Some(c) != cx.shop_country.as_deref());
    let packages = timeline
        .packages
        .iter()
        .map(|p| package_card(&i, p, zone_named))
        .collect_view();
    // Each part type-erased: the whole page as one nested type goes past
    // the compiler's query depth limit on a clean build.
    let items = items_section(&i, &view.items, &view.payment.currency).map(IntoAny::into_any);
    let payment = payment_section(&i, &view.payment).into_any();
    let returns = returns_section(&i, &view.returns, &view.refunds, &view.payment.currency)
        .map(IntoAny::into_any);
    let help = help_section(&i, cx.support_email.as_deref(), &view.name).map(IntoAny::into_any);
    let steps = timeline.steps.clone();
    view! {
        <section class="summary" aria-labelledby="order-title">
            {heading}
            {placed.map(|p| view! { <p class="meta">{p}</p> })}
            <p class="headline">{headline}</p>
            {detail}
            {contact}
            {note}
            {cancelled}
            <Steps steps=steps />
            {to}
            {email}
        </section>
        // On a wide screen, where it is beside what it holds and costs.
        <div class="status-grid">
            <div class="status-main">{packages} {returns}</div>
            <div class="status-side">{items} {payment} {help}</div>
        </div>
    }
}

/// The step indicator, as an ordered list.
#[component]
fn Steps(steps: Vec<Step>) -> impl IntoView {
    let i = chrome().i18n;
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
                    <span class="label">{i.step(&s)}</span>
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

fn cancel_banner(i: &I18n, c: &Cancellation) -> impl IntoView + use<> {
    let reason = c
        .reason
        .as_ref()
        .map(|r| i.t(&format!("cancel.{}", r.as_str())));
    let refund = i.t(&format!("cancel.{}", c.money.as_str()));
    view! {
        <div class="banner cancelled" role="status">
            <p class="banner-title">{i.t("cancel.title")}</p>
            {reason.map(|r| view! { <p>{r}</p> })}
            <p>{refund}</p>
        </div>
    }
}

/// A parcel's card. `zone_named`: scan times say the shop's time zone
/// (the shopper may live in another).
fn package_card(i: &I18n, p: &Package, zone_named: bool) -> AnyView {
    let id = format!("package-{}", p.number);
    let title = i.package_title(p.number, p.of);
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
                <a class="tracking" href=url rel="noopener noreferrer" target="_blank">{n}</a>
            }
            .into_any(),
            None => view! { <span class="tracking">{n}</span> }.into_any(),
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
        let key = if p.status.has_left() {
            "package.shipped_from"
        } else {
            "package.from"
        };
        view! { <p class="meta">{i.tf(key, &[("location", &l)])}</p> }
    });
    let at = |t: DateTime<Utc>| {
        let iso = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let text = if zone_named {
            i.date_time_zoned(t)
        } else {
            i.date_time(t)
        };
        view! { <time datetime=iso>{text}</time> }
    };
    // The carrier's own latest words, under our label in the badge.
    let latest = p.carrier_latest().map(|w| {
        let when = w.at.map(at);
        view! { <p class="carrier-latest">{i.carrier_says(&w)} " " {when}</p> }
    });
    let pickup = p.pickup.clone().map(|pt| {
        let town = [pt.zip.clone(), pt.city.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let lines = [
            pt.message.clone(),
            pt.street.clone(),
            (!town.is_empty()).then_some(town),
            pt.country.as_deref().map(|c| i.country_or_name(c)),
        ]
        .into_iter()
        .flatten()
        .filter(|l| !l.trim().is_empty())
        .map(|l| view! { <span>{l}</span> })
        .collect_view();
        view! {
            <div class="pickup">
                <h3>{i.t("package.pickup_point")}</h3>
                <address>{lines}</address>
            </div>
        }
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
                let place = i.scan_place(e.city.as_deref(), e.country.as_deref());
                let label = i.enum_text("shipment", e.status.as_str(), &[]);
                // The carrier's words when they say more than our label.
                let said = e
                    .message
                    .as_deref()
                    .map(str::trim)
                    .filter(|m| !m.is_empty() && !m.eq_ignore_ascii_case(&label))
                    .map(|m| view! { <q class="said">{m.to_string()}</q> });
                view! {
                    <li>
                        {e.happened_at.map(at)}
                        <span class="what">{label}</span>
                        {said}
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
            {latest}
            {pickup}
            {from}
            <dl class="facts">{carrier} {tracking} {when}</dl>
            <h3>{i.t("package.items")}</h3>
            <ul class="items">{items}</ul>
            <h3>{i.t("package.history")}</h3>
            {events}
        </section>
    }
    .into_any()
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

/// Every line with its picture, price and where its units are, so that
/// "2 of 3 items shipped" is never a puzzle.
fn items_section(i: &I18n, items: &[ItemView], currency: &str) -> Option<impl IntoView + use<>> {
    if items.is_empty() {
        return None;
    }
    let rows = items
        .iter()
        .map(|it| {
            // Fixed size, so nothing moves while it loads; an empty box of
            // the same size when there is no picture keeps the lines aligned.
            let thumb = match &it.image {
                Some(src) => view! {
                    <img class="thumb" src=src.clone() alt=it.title.clone() width="56" height="56"
                        loading="lazy" decoding="async" />
                }
                .into_any(),
                None => view! { <span class="thumb none" aria-hidden="true"></span> }.into_any(),
            };
            let variant = it
                .variant_title
                .clone()
                .map(|v| view! { <span class="variant">{v}</span> });
            let price = it.price.map(|p| {
                view! { <span class="price">{i.tf("items.each", &[("price", &i.money(p, currency))])}</span> }
            });
            let places = it
                .places
                .iter()
                .map(|p| {
                    let text = i.place(&p.place);
                    let n = p.quantity.to_string();
                    let line = i.tf("items.units", &[("n", &n), ("where", &text)]);
                    match &p.place {
                        Place::Package { number, .. } => {
                            let href = format!("#package-{number}");
                            view! { <li><a href=href>{line}</a></li> }.into_any()
                        }
                        _ => view! { <li>{line}</li> }.into_any(),
                    }
                })
                .collect_view();
            view! {
                <li class="line">
                    {thumb}
                    <div class="line-body">
                        <span class="title">{it.title.clone()}</span>
                        {variant}
                        <span class="qty">{i.tf("status.qty", &[("n", &it.quantity.to_string())])}</span>
                        {price}
                        <ul class="places">{places}</ul>
                    </div>
                </li>
            }
        })
        .collect_view();
    Some(view! {
        <section class="card lines" aria-labelledby="items-title">
            <h2 id="items-title">{i.t("items.title")}</h2>
            <ul class="lines">{rows}</ul>
        </section>
    })
}

fn payment_section(i: &I18n, p: &Payment) -> impl IntoView + use<> {
    let refunded = i.money_or_unavailable(p.refunded, &p.currency);
    let text = i.enum_text("payment", p.status.as_str(), &[("amount", &refunded)]);
    view! {
        <section class="card payment" aria-labelledby="payment-title">
            <h2 id="payment-title">{i.t("payment.title")}</h2>
            <p>{text}</p>
            {order_summary(i, p)}
        </section>
    }
}

/// Shopify's order summary: what was bought, then what was paid; on the
/// status page and the staff console's order page alike. Each amount says
/// what it is and its signed value in `data-line` and `data-amount`, so a
/// test can add up what a reader sees.
pub(crate) fn order_summary(i: &I18n, p: &Payment) -> Option<impl IntoView + use<>> {
    let money = |d: Decimal| i.money(d, &p.currency);
    let shipping_label = match &p.shipping_method {
        Some(m) => i.tf("payment.shipping_method", &[("method", m)]),
        None => i.t("payment.shipping"),
    };
    // (what, label, signed amount, class: "amount", the "total"s, or
    // taxes already "included" in the total)
    let lines: [(&'static str, String, Option<Decimal>, &'static str); 8] = [
        ("subtotal", i.t("payment.subtotal"), p.subtotal, "amount"),
        ("shipping", shipping_label, p.shipping, "amount"),
        (
            "discounts",
            i.t("payment.discounts"),
            p.discounts.map(|d| -d),
            "amount",
        ),
        (
            "taxes",
            i.t("payment.taxes"),
            p.taxes.filter(|_| !p.taxes_included),
            "amount",
        ),
        ("total", i.t("payment.total_label"), p.total, "total"),
        (
            "taxes_included",
            i.t("payment.taxes_included"),
            p.taxes.filter(|t| p.taxes_included && !t.is_zero()),
            "included",
        ),
        (
            "refunded",
            i.t("payment.refunded"),
            p.refunded.filter(|r| !r.is_zero()).map(|r| -r),
            "amount",
        ),
        ("net", i.t("payment.net"), p.net(), "total"),
    ];
    let rows: Vec<_> = lines
        .into_iter()
        .filter_map(|(what, label, amount, class)| amount.map(|a| (what, label, a, class)))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let rows = rows
        .into_iter()
        .map(|(what, label, amount, class)| {
            // A minus of its own, before the currency ("−€5.50").
            let shown = if amount.is_sign_negative() {
                format!("−{}", money(-amount))
            } else {
                money(amount)
            };
            view! {
                <div class=class>
                    <dt>{label}</dt>
                    <dd data-line=what data-amount=amount.to_string()>{shown}</dd>
                </div>
            }
        })
        .collect_view();
    Some(view! { <dl class="totals">{rows}</dl> })
}

fn returns_section(
    i: &I18n,
    returns: &[ReturnView],
    refunds: &[RefundLine],
    currency: &str,
) -> Option<impl IntoView + use<>> {
    if returns.is_empty() && refunds.is_empty() {
        return None;
    }
    let returns = returns
        .iter()
        .map(|r| {
            let state = i.enum_text("returns", r.status.as_str(), &[]);
            let items = r
                .items
                .iter()
                .map(|it| item_row(i, &it.title, None, it.quantity, None))
                .collect_view();
            let tracking = r
                .tracking
                .iter()
                .map(|t| {
                    let carrier = t.carrier.clone().unwrap_or_default();
                    view! {
                        <p class="meta">
                            {i.tf("returns.tracking", &[("carrier", &carrier), ("number", &t.number)])}
                        </p>
                    }
                })
                .collect_view();
            view! {
                <div class="return">
                    <h3>{i.tf("returns.return", &[("name", &r.name)])}</h3>
                    <p><span class="badge info">{state}</span></p>
                    <ul class="items">{items}</ul>
                    {tracking}
                </div>
            }
        })
        .collect_view();
    let refunds = refunds
        .iter()
        .map(|r| {
            let amount = i.money_or_unavailable(r.amount, currency);
            let date = r.at.map(|t| i.date(i.local_date(t))).unwrap_or_default();
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

fn help_section(i: &I18n, email: Option<&str>, name: &str) -> Option<impl IntoView + use<>> {
    let email = email?.to_string();
    let href = mailto(i, &email, name);
    Some(view! {
        <section class="card help" aria-labelledby="help-title">
            <h2 id="help-title">{i.t("help.title")}</h2>
            <p>{i.t("help.body")}</p>
            <p><a href=href>{i.tf("help.email", &[("email", &email)])}</a></p>
        </section>
    })
}

/// A mail link to the shop about order `name`, its subject filled in.
fn mailto(i: &I18n, email: &str, name: &str) -> String {
    let subject = i.tf("help.subject", &[("name", name)]);
    format!("mailto:{email}?subject={}", percent_encode(&subject))
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn percent_encode(s: &str) -> String {
    /// Everything but RFC 3986's unreserved characters.
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, RESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
