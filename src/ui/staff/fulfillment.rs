//! The console's Shopify actions (for shops with write-back on): mark as
//! shipped, add tracking or a carrier scan to a shipment, and the queue of
//! fulfillment requests to accept or reject.

use leptos::prelude::*;

use super::super::{Page, chrome};
use crate::i18n::I18n;

/// A shipment the order page offers tracking and scan forms for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShipmentRef {
    pub id: u64,
    pub name: String,
}

/// What the order page may do in Shopify.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShopifyTools {
    /// Write-back is on for the order's shop.
    pub enabled: bool,
    pub shipments: Vec<ShipmentRef>,
    /// Carrier statuses a scan may have.
    pub scan_statuses: Vec<String>,
}

/// The Shopify card of the order page (agents and admins, write-back on).
pub(super) fn shopify_card(i: &I18n, base: &str, t: &ShopifyTools) -> impl IntoView + use<> {
    let shipments = t
        .shipments
        .iter()
        .map(|s| {
            let statuses = t
                .scan_statuses
                .iter()
                .map(|st| view! { <option value=st.clone()>{super::humanize(st)}</option> })
                .collect_view();
            let p = format!("{base}/shipments/{}", s.id);
            let id = |f: &str| format!("{f}-{}", s.id);
            view! {
                <h3>{s.name.clone()}</h3>
                <form method="post" action=format!("{p}/tracking") class="stack-form">
                    <label for=id("company")>{i.t("shop_actions.carrier")}</label>
                    <input id=id("company") name="company" type="text" maxlength="100" />
                    <label for=id("number")>{i.t("shop_actions.tracking_number")}</label>
                    <input id=id("number") name="number" type="text" maxlength="255" />
                    <label for=id("url")>{i.t("shop_actions.tracking_url")}</label>
                    <input id=id("url") name="url" type="text" maxlength="2000" />
                    <label class="check"><input type="checkbox" name="notify" value="yes" /> {i.t("shop_actions.notify")}</label>
                    <button type="submit">{i.t("shop_actions.save_tracking")}</button>
                </form>
                <form method="post" action=format!("{p}/scan") class="stack-form">
                    <label for=id("scan")>{i.t("shop_actions.scan_status")}</label>
                    <select id=id("scan") name="status">{statuses}</select>
                    <label for=id("message")>{i.t("shop_actions.scan_message")}</label>
                    <input id=id("message") name="message" type="text" maxlength="255" />
                    <label for=id("city")>{i.t("shop_actions.scan_city")}</label>
                    <input id=id("city") name="city" type="text" maxlength="100" />
                    <label for=id("country")>{i.t("shop_actions.scan_country")}</label>
                    <input id=id("country") name="country" type="text" maxlength="100" />
                    <button type="submit">{i.t("shop_actions.add_scan")}</button>
                </form>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="shopify-title">
            <h2 id="shopify-title">{i.t("shop_actions.title")}</h2>
            <p><a href=format!("{base}/ship")>{i.t("shop_actions.mark_shipped")}</a></p>
            {shipments}
        </section>
    }
}

/// One fulfillment order on the "mark as shipped" page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShipGroup {
    pub id: String,
    pub location: String,
    /// (line gid, title, units left to ship).
    pub lines: Vec<(String, String, u32)>,
}

/// `/staff/orders/{shop}/{id}/ship`: one form per fulfillment order
/// (Shopify ships one location's work per call), read live from Shopify.
pub fn ship_page(
    who: String,
    order_name: String,
    base: String,
    groups: Vec<ShipGroup>,
    error: Option<String>,
) -> Page {
    let i = chrome().i18n;
    let error = error.map(|e| super::notice(e, false));
    let forms = if groups.is_empty() {
        view! { <p>{i.t("shop_actions.nothing_to_ship")}</p> }.into_any()
    } else {
        groups
            .into_iter()
            .enumerate()
            .map(|(n, g)| {
                let lines = g
                    .lines
                    .iter()
                    .enumerate()
                    .map(|(k, (id, title, left))| {
                        let input = format!("qty-{n}-{k}");
                        view! {
                            <label for=input.clone()>{i.tf("shop_actions.qty_of", &[("title", title), ("left", &left.to_string())])}</label>
                            <input id=input name=format!("qty:{id}") type="number" min="0" max=left.to_string() value=left.to_string() />
                        }
                    })
                    .collect_view();
                let id = |f: &str| format!("{f}-{n}");
                view! {
                    <form method="post" action=format!("{base}/ship") class="card stack-form">
                        <h2>{i.tf("shop_actions.from", &[("location", &g.location)])}</h2>
                        <input type="hidden" name="fulfillment_order" value=g.id.clone() />
                        {lines}
                        <label for=id("company")>{i.t("shop_actions.carrier")}</label>
                        <input id=id("company") name="company" type="text" maxlength="100" />
                        <label for=id("number")>{i.t("shop_actions.tracking_number")}</label>
                        <input id=id("number") name="number" type="text" maxlength="255" />
                        <label for=id("url")>{i.t("shop_actions.tracking_url")}</label>
                        <input id=id("url") name="url" type="text" maxlength="2000" />
                        <label class="check"><input type="checkbox" name="notify" value="yes" /> {i.t("shop_actions.notify")}</label>
                        <button type="submit">{i.t("shop_actions.ship")}</button>
                    </form>
                }
            })
            .collect_view()
            .into_any()
    };
    let body = view! {
        <p><a href=base.clone()>{i.t("shop_actions.back_to_order")}</a></p>
        {error}
        {forms}
    };
    let title = i.tf("shop_actions.ship_title", &[("name", &order_name)]);
    super::console_page(who, title, false, body.into_any())
}

/// A fulfillment request on the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRow {
    pub shop: String,
    pub fulfillment_order: String,
    pub order_id: u64,
    pub order_name: String,
    pub order_href: String,
    pub location: String,
    pub lines: Vec<String>,
    /// A request to cancel work the service accepted (else a request to
    /// ship).
    pub cancellation: bool,
}

/// `/staff/requests`: fulfillment and cancellation requests for shops
/// that run this site as their fulfillment service.
pub fn requests_page(
    who: String,
    rows: Vec<RequestRow>,
    notice: Option<(String, bool)>,
    problems: Vec<String>,
    reasons: Vec<String>,
) -> Page {
    let i = chrome().i18n;
    let notice = notice.map(|(text, ok)| super::notice(text, ok));
    let problems = problems
        .into_iter()
        .map(|p| super::notice(p, false))
        .collect_view();
    let body = if rows.is_empty() {
        view! { <p>{i.t("shop_actions.no_requests")}</p> }.into_any()
    } else {
        rows.into_iter()
            .enumerate()
            .map(|(n, r)| {
                let reasons = reasons
                    .iter()
                    .map(|x| view! { <option value=x.clone()>{super::humanize(x)}</option> })
                    .collect_view();
                let hidden = view! {
                    <input type="hidden" name="shop" value=r.shop.clone() />
                    <input type="hidden" name="fulfillment_order" value=r.fulfillment_order.clone() />
                    <input type="hidden" name="order_id" value=r.order_id.to_string() />
                };
                let hidden2 = view! {
                    <input type="hidden" name="shop" value=r.shop.clone() />
                    <input type="hidden" name="fulfillment_order" value=r.fulfillment_order.clone() />
                    <input type="hidden" name="order_id" value=r.order_id.to_string() />
                };
                let id = |f: &str| format!("{f}-{n}");
                if r.cancellation {
                    return view! {
                        <section class="card" aria-labelledby=id("req")>
                            <h2 id=id("req")><a href=r.order_href.clone()>{r.order_name.clone()}</a></h2>
                            <p class="notice">{i.t("shop_actions.cancellation_requested")}</p>
                            <p class="meta">{r.location.clone()}</p>
                            <ul>{r.lines.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}</ul>
                            <form method="post" action="/staff/requests/cancellation/accept" class="stack-form">
                                {hidden}
                                <label for=id("accept-msg")>{i.t("shop_actions.message")}</label>
                                <input id=id("accept-msg") name="message" type="text" maxlength="255" />
                                <button type="submit">{i.t("shop_actions.accept_cancellation")}</button>
                            </form>
                            <form method="post" action="/staff/requests/cancellation/reject" class="stack-form">
                                {hidden2}
                                <label for=id("reject-msg")>{i.t("shop_actions.message")}</label>
                                <input id=id("reject-msg") name="message" type="text" maxlength="255" />
                                <button type="submit" class="secondary">{i.t("shop_actions.reject_cancellation")}</button>
                            </form>
                        </section>
                    }
                    .into_any();
                }
                view! {
                    <section class="card" aria-labelledby=id("req")>
                        <h2 id=id("req")><a href=r.order_href.clone()>{r.order_name.clone()}</a></h2>
                        <p class="meta">{r.location.clone()}</p>
                        <ul>{r.lines.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}</ul>
                        <form method="post" action="/staff/requests/accept" class="stack-form">
                            {hidden}
                            <label for=id("accept-msg")>{i.t("shop_actions.message")}</label>
                            <input id=id("accept-msg") name="message" type="text" maxlength="255" />
                            <button type="submit">{i.t("shop_actions.accept")}</button>
                        </form>
                        <form method="post" action="/staff/requests/reject" class="stack-form">
                            {hidden2}
                            <label for=id("reason")>{i.t("shop_actions.reason")}</label>
                            <select id=id("reason") name="reason">{reasons}</select>
                            <label for=id("reject-msg")>{i.t("shop_actions.message")}</label>
                            <input id=id("reject-msg") name="message" type="text" maxlength="255" />
                            <button type="submit" class="secondary">{i.t("shop_actions.reject")}</button>
                        </form>
                    </section>
                }
                .into_any()
            })
            .collect_view()
            .into_any()
    };
    let body = view! {
        {notice}
        {problems}
        {body}
    };
    super::console_page(who, i.t("shop_actions.requests"), false, body.into_any())
}
