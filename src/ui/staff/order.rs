//! `/staff/orders/{shop}/{id}`: everything about one order, the share and
//! revoke forms, and a preview of exactly what the shopper sees.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::tachys::view::any_view::AnyView;

use super::super::status::{ShopperSections, order_summary, percent_encode};
use super::super::{Chrome, Page, ShopHeader, chrome};
use super::tools::{OrderTools, activity_card, desk_card, status_card};
use super::{StaffBar, humanize, status_badges};
use crate::i18n::I18n;
use crate::order::Order;
use crate::shopper::{Payment, ShopperView};

/// The outcome of an action on the order page.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OrderAction {
    /// A link was made, valid for `days` (kept as the form's choice).
    Shared {
        link: String,
        expires: DateTime<Utc>,
        days: u32,
    },
    Revoked,
    /// A status email was queued.
    Resent,
    /// The merchant's status was set or cleared.
    StatusSaved,
    /// The order already had that status.
    StatusSame,
    /// The status form was refused: the text key of why.
    StatusRefused(String),
    /// A Shopify action went through: the text key of what it did.
    ShopifyDone(String),
    /// Shopify (or the way to it) refused, in its words.
    ShopifyRefused(String),
}

/// `/staff/orders/{shop}/{id}`: everything about one order. `shopper` is
/// what the shopper sees of it (the preview); `action` what a share or
/// revoke just did.
pub fn order_page(
    who: String,
    order: Order,
    shopper: ShopperView,
    action: Option<OrderAction>,
    address_opted_out: bool,
    tools: OrderTools,
) -> Page {
    let cx = chrome();
    let i = cx.i18n.clone();
    let base = format!("/staff/orders/{}/{}", percent_encode(&order.shop), order.id);
    let title = i.tf("staff.order_title", &[("name", &order.name)]);
    let customer = I18n::new(tools.customer, i.tz, i.catalog());
    let share = share_box(&i, &customer, &cx, &order, &base, action.as_ref()).into_any();
    let details = details(&i, &order).into_any();
    let resent = matches!(action, Some(OrderAction::Resent))
        .then(|| view! { <p class="notice ok" role="status">{i.t("staff.email_resent")}</p> });
    let emails = super::emails::email_history(&i, &order, &base, address_opted_out);
    let status_notice = match &action {
        Some(OrderAction::StatusSaved) => Some(super::notice(i.t("tools.status_saved"), true)),
        Some(OrderAction::StatusSame) => Some(super::notice(i.t("tools.status_same"), true)),
        Some(OrderAction::StatusRefused(key)) => Some(super::notice(i.t(key), false)),
        Some(OrderAction::ShopifyDone(key)) => Some(super::notice(i.t(key), true)),
        Some(OrderAction::ShopifyRefused(why)) => Some(super::notice(
            i.tf("shop_actions.refused", &[("why", why)]),
            false,
        )),
        _ => None,
    };
    let shopify = (tools.shopify.enabled && tools.can_change)
        .then(|| super::fulfillment::shopify_card(&i, &base, &tools.shopify).into_any());
    let status = status_card(&i, &order, &base, &tools).into_any();
    let activity = activity_card(&i, &tools).into_any();
    let desk = desk_card(&i, &order, &base, &tools);
    let glance = glance(&i, &shopper);
    // Boxed: the preview's view type is deep enough to overflow the
    // compiler's query depth when nested in the page's.
    let preview = view! { <ShopperSections view=shopper preview=true /> }.into_any();
    Page {
        title: title.clone(),
        private: true,
        body: view! {
            <ShopHeader />
            <StaffBar who=who />
            <main id="main" class="page wide staff">
                <p><a href="/staff">{i.t("staff.back")}</a></p>
                <h1>{title}</h1>
                <p class="badges">{status_badges(&i, &order)}</p>
                {glance}
                <div class="columns">
                    <div>{details}</div>
                    <div>
                        {status_notice}
                        {desk}
                        {status}
                        {shopify}
                        {resent}
                        {share}
                        {emails}
                        {activity}
                        <section class="card preview" aria-labelledby="preview-title">
                            <h2 id="preview-title">{i.t("staff.preview")}</h2>
                            {preview}
                        </section>
                    </div>
                </div>
            </main>
        }
        .into_any(),
    }
}

/// At the top, in one look, what the customer reads: the headline, and
/// for each parcel its state and the carrier's latest words with the
/// place; the whole page is further down.
fn glance(i: &I18n, view: &ShopperView) -> AnyView {
    let t = &view.timeline;
    let detail = i
        .headline_detail(&t.headline)
        .map(|d| view! { <p class="meta">{d}</p> });
    let parcels = t
        .packages
        .iter()
        .map(|p| {
            let state = i.enum_text("shipment", p.status.as_str(), &[]);
            let said = p
                .carrier_latest()
                .map(|w| view! { <br /><span class="meta">{i.carrier_says(&w)}</span> });
            view! {
                <li>
                    <strong>{i.package_title(p.number, p.of)}</strong>": "{state}
                    {said}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card glance" aria-labelledby="glance-title">
            <h2 id="glance-title">{i.t("staff.glance")}</h2>
            <p class="glance-headline">{i.headline(&t.headline)}</p>
            {detail}
            {(!t.packages.is_empty()).then(|| view! { <ul class="plain">{parcels}</ul> })}
            <p><a href="#preview-title">{i.t("staff.glance_full")}</a></p>
        </section>
    }
    .into_any()
}

/// An order id that is not in the store.
pub fn order_not_found_page(who: String) -> Page {
    let i = chrome().i18n;
    Page {
        title: i.t("staff.not_found"),
        private: true,
        body: view! {
            <ShopHeader />
            <StaffBar who=who />
            <main id="main" class="page">
                <h1>{i.t("staff.not_found")}</h1>
                <p><a href="/staff">{i.t("staff.back")}</a></p>
            </main>
        }
        .into_any(),
    }
}

/// The share card. The ready-made message to the customer is in the
/// customer's language (`customer`), the rest in the console's.
fn share_box(
    i: &I18n,
    customer: &I18n,
    cx: &Chrome,
    order: &Order,
    base: &str,
    action: Option<&OrderAction>,
) -> impl IntoView + use<> {
    let chosen = match action {
        Some(OrderAction::Shared { days, .. }) => *days,
        _ => 30,
    };
    let result = match action {
        Some(OrderAction::Shared { link, expires, .. }) => {
            let subject = customer.tf("staff.mail_subject", &[("name", &order.name)]);
            let body = customer.tf(
                "staff.mail_body",
                &[
                    ("name", &order.name),
                    ("link", link),
                    ("shop", &cx.shop_name),
                ],
            );
            let mailto = format!(
                "mailto:{}?subject={}&body={}",
                percent_encode(&order.email),
                percent_encode(&subject),
                percent_encode(&body)
            );
            let until = i.long_date(i.local_date(*expires));
            Some(
                view! {
                    <div class="share-result" role="status">
                        <label for="share-link">{i.t("staff.link_label")}</label>
                        <div class="share-row">
                            <input id="share-link" type="text" readonly value=link.clone() />
                            <button type="button" class="copy" hidden data-copy="share-link" data-copied=i.t("share.copied")>
                                {i.t("share.copy")}
                            </button>
                        </div>
                        <p class="meta">{i.tf("staff.link_expires", &[("date", &until)])}</p>
                        <p><a href=mailto>{i.tf("staff.mail_customer", &[("email", &order.email)])}</a></p>
                    </div>
                }
                .into_any(),
            )
        }
        Some(
            OrderAction::Resent
            | OrderAction::StatusSaved
            | OrderAction::StatusSame
            | OrderAction::StatusRefused(_)
            | OrderAction::ShopifyDone(_)
            | OrderAction::ShopifyRefused(_),
        ) => None,
        Some(OrderAction::Revoked) => {
            Some(view! { <p class="notice ok" role="status">{i.t("staff.revoked")}</p> }.into_any())
        }
        None => None,
    };
    let share_js = cx.share_js_href.clone();
    let days = [1u32, 7, 30, 90, 365]
        .into_iter()
        .map(|d| {
            let label = i.plural(d.into(), "staff.day", "staff.days");
            view! { <option value=d.to_string() selected=d == chosen>{label}</option> }
        })
        .collect_view();
    view! {
        <section class="card share" aria-labelledby="share-title">
            <h2 id="share-title">{i.t("staff.share_title")}</h2>
            <p>{i.t("staff.share_body")}</p>
            <form method="post" action=format!("{base}/share") class="inline-form">
                <label for="days">{i.t("staff.expiry")}</label>
                <select id="days" name="days">{days}</select>
                <button type="submit">{i.t("staff.create_link")}</button>
            </form>
            {result}
            <h3>{i.t("staff.revoke_title")}</h3>
            <p>{i.t("staff.revoke_body")}</p>
            <form method="post" action=format!("{base}/revoke")>
                <button type="submit" class="secondary">{i.t("staff.revoke_button")}</button>
            </form>
        </section>
        <script src=share_js defer></script>
    }
}

fn row(label: String, value: Option<String>) -> Option<impl IntoView + use<>> {
    value.filter(|v| !v.is_empty()).map(|v| {
        view! {
            <dt>{label}</dt>
            <dd>{v}</dd>
        }
    })
}

/// "Not available: Shopify withholds it" for protected data the shop's
/// app is not approved for.
fn withheld(i: &I18n, o: &Order, kind: &str) -> Option<String> {
    o.is_withheld(kind).then(|| i.t("staff.withheld"))
}

/// A moment in the console's words, then exactly (UTC, for logs and
/// Shopify's admin); the exact form wraps as a whole, never at a hyphen.
fn stamp(i: &I18n, t: Option<DateTime<Utc>>) -> Option<AnyView> {
    t.map(|t| {
        let iso = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let datetime = iso.clone();
        view! {
            <time datetime=datetime>{i.date_time(t)} " " <span class="iso">"(" {iso} ")"</span></time>
        }
        .into_any()
    })
}

/// A fact whose value is a moment; nothing when there is none.
fn stamp_row(label: String, value: Option<AnyView>) -> Option<impl IntoView + use<>> {
    value.map(|v| {
        view! {
            <dt>{label}</dt>
            <dd>{v}</dd>
        }
    })
}

fn details(i: &I18n, o: &Order) -> impl IntoView + use<> {
    let money = |d: Option<rust_decimal::Decimal>| d.map(|d| i.money(d, &o.currency));
    let address = o.shipping_address.as_ref().map(|a| {
        [
            a.name.clone(),
            a.address1.clone(),
            a.address2.clone(),
            [a.zip.clone(), a.city.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
                .into(),
            a.province.clone(),
            a.country.clone(),
            a.phone.clone(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .map(|line| view! { <span class="line">{line}</span> })
        .collect_view()
    });
    let items = o
        .line_items
        .iter()
        .map(|li| {
            let title = match &li.variant_title {
                Some(v) if !v.is_empty() => format!("{} ({v})", li.title),
                _ => li.title.clone(),
            };
            // The SKU under the name, not in a column of its own: on a
            // phone a column cut "NBS-DOTTED" into "NBS-DOTTE / D".
            let sku = li.sku.clone().filter(|s| !s.is_empty()).map(|s| {
                view! { <br /><span class="meta sku">{i.t("staff.col_sku")} " " {s}</span> }
            });
            view! {
                <tr>
                    <td>{title}{sku}</td>
                    <td class="num">{li.quantity.to_string()}</td>
                    <td class="num">{money(li.price).unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    let work = o
        .fulfillment_orders
        .iter()
        .map(|fo| {
            let location = fo
                .assigned_location
                .as_ref()
                .and_then(|l| l.name.clone())
                .unwrap_or_default();
            let holds = fo
                .fulfillment_holds
                .iter()
                .map(|h| {
                    let text = match &h.reason_notes {
                        Some(n) => format!(
                            "{} ({n})",
                            i.enum_text("hold_reason", h.reason.as_str(), &[])
                        ),
                        None => i.enum_text("hold_reason", h.reason.as_str(), &[]),
                    };
                    view! { <li>{i.tf("staff.hold", &[("reason", &text)])}</li> }
                })
                .collect_view();
            let when = fo.fulfill_at.map(|t| {
                view! { <li>{i.tf("staff.fulfill_at", &[("time", &i.date_time(t))])}</li> }
            });
            // Where a request to the fulfillment service stands (none
            // made: nothing to say).
            let request = fo
                .request_status
                .as_ref()
                .filter(|r| **r != crate::order::RequestStatus::Unsubmitted)
                .map(|r| {
                    let text = match r {
                        crate::order::RequestStatus::Unknown(raw) => humanize(raw),
                        known => i.t(&format!(
                            "staff.request_{}",
                            known.as_str().to_ascii_lowercase()
                        )),
                    };
                    view! { <li>{text}</li> }
                });
            let lines: Vec<String> = fo
                .line_items
                .iter()
                .map(|l| {
                    let title = o
                        .line_items
                        .iter()
                        .find(|li| li.id == l.line_item_id)
                        .map_or("?", |li| li.title.as_str());
                    format!("{} × {title}", l.quantity)
                })
                .collect();
            view! {
                <li>
                    <strong>{i.enum_text("work_state", fo.status.as_str(), &[])}</strong>
                    " · " {location}
                    <ul>{holds} {when} {request} <li>{lines.join(", ")}</li></ul>
                </li>
            }
        })
        .collect_view();
    let shipments = if o.fulfillments.is_empty() {
        view! { <p>{i.t("staff.no_shipments")}</p> }.into_any()
    } else {
        o.fulfillments
            .iter()
            .map(|f| {
                // Newest first, as the shopper's page lists them; the
                // place and the carrier's words each on their own.
                let mut scans: Vec<_> = f.events.iter().collect();
                scans.sort_by_key(|e| std::cmp::Reverse(e.happened_at));
                let events = scans
                    .into_iter()
                    .map(|e| {
                        let country = e.country.as_deref().map(|c| i.country_or_name(c));
                        let place = [e.city.clone(), e.province.clone(), country]
                            .into_iter()
                            .flatten()
                            .filter(|p| !p.trim().is_empty())
                            .collect::<Vec<_>>()
                            .join(", ");
                        let said = e
                            .message
                            .clone()
                            .filter(|m| !m.trim().is_empty())
                            .map(|m| view! { <q class="said">{m}</q> });
                        view! {
                            <li>
                                {stamp(i, e.happened_at)}
                                <span class="what">{i.enum_text("shipment", e.status.as_str(), &[])}</span>
                                {said}
                                {(!place.is_empty()).then(|| view! { <span class="where">{place}</span> })}
                            </li>
                        }
                    })
                    .collect_view();
                let items: Vec<String> = f.line_items.iter().map(|l| format!("{} × {}", l.quantity, l.title)).collect();
                view! {
                    <div class="shipment">
                        <h3>{f.name.clone().unwrap_or_else(|| f.id.to_string())} " · " {i.enum_text("shipment", f.display_status().as_str(), &[])}</h3>
                        <dl class="facts">
                            {row(i.t("staff.location"), f.location_name.clone())}
                            {row(i.t("staff.tracking"), Some(format!("{} {}", f.tracking_company.clone().unwrap_or_default(), f.tracking_numbers.join(", "))))}
                            // An estimate means nothing once delivered.
                            {stamp_row(i.t("package.eta"), stamp(i, f.estimated_delivery().filter(|_| f.delivered_time().is_none())))}
                            {stamp_row(i.t("package.delivered"), stamp(i, f.delivered_time()))}
                            {stamp_row(i.t("staff.created"), stamp(i, f.created_at))}
                        </dl>
                        <p>{items.join(", ")}</p>
                        <h4>{i.t("staff.events")}</h4>
                        <ol class="events">{events}</ol>
                    </div>
                }
            })
            .collect_view()
            .into_any()
    };
    let returns = o
        .returns
        .iter()
        .map(|r| {
            let items: Vec<String> = r
                .line_items
                .iter()
                .map(|l| match &l.return_reason {
                    Some(reason) => format!("{} × {} ({})", l.quantity, l.title, humanize(reason)),
                    None => format!("{} × {}", l.quantity, l.title),
                })
                .collect();
            let tracking: Vec<String> = r
                .tracking
                .iter()
                .map(|t| format!("{} {}", t.company.clone().unwrap_or_default(), t.number.clone().unwrap_or_default()))
                .collect();
            view! {
                <li>
                    <strong>{r.name.clone().unwrap_or_default()} " · " {i.enum_text("returns", r.status.as_str(), &[])}</strong>
                    <br />{items.join(", ")}
                    {(!tracking.is_empty()).then(|| view! { <br />{tracking.join(", ")} })}
                    <br /><span class="meta">{stamp(i, r.created_at)}</span>
                </li>
            }
        })
        .collect_view();
    let refunds = o
        .refunds
        .iter()
        .map(|r| {
            view! {
                <li>
                     {i.money_or_unavailable(r.amount(), &o.currency)} " · " {stamp(i, r.at())}
                    {r.note.clone().map(|n| view! { <br />{i.tf("staff.refund_note", &[("note", &n)])} })}
                </li>
            }
        })
        .collect_view();
    let stages = o
        .custom_stages
        .iter()
        .map(|s| view! { <li>{s.name.clone()} " · " {stamp(i, Some(s.at))}</li> })
        .collect_view();
    let shop_total = o
        .shop_total_price
        .zip(o.shop_currency.as_deref())
        .map(|(d, c)| i.money(d, c));
    // Headings only over something.
    let work = (!o.fulfillment_orders.is_empty()).then(|| {
        view! {
            <h3>{i.t("staff.fulfillment_orders")}</h3>
            <ul>{work}</ul>
        }
    });
    let stages = (!o.custom_stages.is_empty()).then(|| {
        view! {
            <h3>{i.t("staff.custom_stages")}</h3>
            <ul>{stages}</ul>
        }
    });
    let returns = (!o.returns.is_empty() || !o.refunds.is_empty()).then(|| {
        view! {
            <section class="card" aria-labelledby="returns-staff-title">
                <h2 id="returns-staff-title">{i.t("staff.returns_refunds")}</h2>
                <ul>{returns}</ul>
                <ul>{refunds}</ul>
            </section>
        }
    });
    view! {
        <section class="card" aria-labelledby="customer-title">
            <h2 id="customer-title">{i.t("staff.customer")}</h2>
            <dl class="facts">
                {row(i.t("staff.name"), o.customer_name().or_else(|| withheld(i, o, "name")))}
                {row(i.t("staff.email"), Some(o.email.clone()).filter(|e| !e.is_empty()).or_else(|| withheld(i, o, "email")))}
                {row(i.t("staff.phone"), o.phone.clone().or_else(|| withheld(i, o, "phone")))}
                {row(i.t("staff.tags"), Some(o.tags.join(", ")))}
            </dl>
            <h3>{i.t("staff.shipping_address")}</h3>
            <address>{address}</address>
            {withheld(i, o, "address").map(|w| view! { <p class="meta">{w}</p> })}
        </section>
        <section class="card" aria-labelledby="staff-items-title">
            <h2 id="staff-items-title">{i.t("staff.items")}</h2>
            <table>
                <thead><tr>
                    <th scope="col">{i.t("staff.col_item")}</th>
                    <th scope="col" class="num">{i.t("staff.col_qty")}</th>
                    <th scope="col" class="num">{i.t("staff.col_price")}</th>
                </tr></thead>
                <tbody>{items}</tbody>
            </table>
            // The same summary the shopper sees, so the two never differ.
            {order_summary(i, &Payment::of(o))}
            {shop_total.map(|t| view! { <dl class="facts">{row(i.t("staff.total_shop_currency"), Some(t))}</dl> })}
        </section>
        <section class="card" aria-labelledby="statuses-title">
            <h2 id="statuses-title">{i.t("staff.statuses")}</h2>
            <dl class="facts">
                {row(i.t("staff.financial_status"), Some(i.enum_text("financial_state", o.financial_status.as_str(), &[])))}
                {row(i.t("staff.fulfillment_status"), Some(i.enum_text("fulfillment_state", o.fulfillment_status.as_str(), &[])))}
                {row(i.t("staff.return_status"), Some(i.enum_text("return_state", o.return_status().as_str(), &[])))}
                {row(i.t("staff.cancel_reason"), o.cancel_reason.as_ref().map(|r| i.enum_text("cancel_reason", r.as_str(), &[])))}
            </dl>
            {work}
            {stages}
        </section>
        <section class="card" aria-labelledby="shipments-title">
            <h2 id="shipments-title">{i.t("staff.shipments")}</h2>
            {shipments}
        </section>
        {returns}
        <section class="card" aria-labelledby="times-title">
            <h2 id="times-title">{i.t("staff.timestamps")}</h2>
            <dl class="facts">
                {stamp_row(i.t("staff.created"), stamp(i, o.created_at))}
                {stamp_row(i.t("staff.processed"), stamp(i, o.processed_at))}
                {stamp_row(i.t("staff.updated"), stamp(i, o.updated_at))}
                {stamp_row(i.t("staff.closed"), stamp(i, o.closed_at))}
                {stamp_row(i.t("staff.cancelled"), stamp(i, o.cancelled_at))}
            </dl>
        </section>
    }
}
