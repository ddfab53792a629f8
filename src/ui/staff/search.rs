//! `/staff`: the search form, the results with what matched, and paging.

use leptos::prelude::*;

use super::super::status::percent_encode;
use super::super::{Page, ShopHeader, chrome};
use super::tools::{StatusChoice, bulk_form};
use super::{MAX_PAGE, PER_PAGE, StaffBar, status_badges};
use crate::i18n::I18n;
use crate::order::search::SearchField;
use crate::order::{FinancialStatus, FulfillmentStatus, Order, ReturnStatus};

/// What the search page shows.
#[derive(Clone, Debug)]
pub struct SearchPage {
    /// The signed-in staff member.
    pub who: String,
    /// The query string's values, to fill the form back in and page on.
    pub raw: Vec<(String, String)>,
    /// Values that were ignored, in words.
    pub problems: Vec<String>,
    pub outcome: SearchOutcome,
    /// The merchant's statuses, for the bulk change under the results.
    pub statuses: Vec<StatusChoice>,
    /// Whether the signed-in person may change orders.
    pub can_change: bool,
}

/// One page of results.
#[derive(Clone, Debug)]
pub struct SearchOutcome {
    pub total: usize,
    /// More than `total` match (the store stopped counting).
    pub more: bool,
    /// 1-based.
    pub page: usize,
    pub hits: Vec<SearchHit>,
}

/// An order found, and which of its fields the words matched.
#[derive(Clone, Debug)]
pub struct SearchHit {
    pub order: Order,
    pub matched: Vec<SearchField>,
}

fn query_string(raw: &[(String, String)], page: usize) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in raw {
        if k != "page" && !v.is_empty() {
            out.append_pair(k, v);
        }
    }
    out.append_pair("page", &page.to_string());
    out.finish()
}

/// A filter's choices: each value in words from `section` of the
/// catalogue, "any" first.
fn options<T, F: Fn(&T) -> String>(
    i: &I18n,
    section: &str,
    all: &[T],
    value: F,
    selected: Option<&str>,
    any: &str,
) -> impl IntoView + use<T, F> {
    let mut items = vec![view! { <option value="">{any.to_string()}</option> }.into_any()];
    for v in all {
        let val = value(v);
        let label = i.enum_text(section, &val, &[]);
        let sel = selected.is_some_and(|s| s.eq_ignore_ascii_case(&val));
        items.push(view! { <option value=val selected=sel>{label}</option> }.into_any());
    }
    items.collect_view()
}

/// `/staff`: search every order.
pub fn search_page(search: SearchPage) -> Page {
    let i = chrome().i18n;
    let raw = |k: &str| {
        search
            .raw
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let r = &search.outcome;
    let today = i.local_date(chrono::Utc::now());
    let body = {
        {
            let pages = r.total.div_ceil(PER_PAGE).clamp(1, MAX_PAGE);
            let page = r.page;
            let count = if r.more {
                i.tf("staff.results_more", &[("n", &i.number(r.total as u64))])
            } else {
                i.plural(r.total as u64, "staff.results_one", "staff.results")
            };
            let rows = r
                .hits
                .iter()
                .map(|hit| {
                    let o = &hit.order;
                    let href = format!("/staff/orders/{}/{}", percent_encode(&o.shop), o.id);
                    let fields = hit
                        .matched
                        .iter()
                        .map(|f| i.t(&format!("field.{}", f.as_str())))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let matched = (!fields.is_empty())
                        .then(|| view! { <span class="matched">{i.tf("staff.matched", &[("fields", &fields)])}</span> });
                    // The year only when it is not this one.
                    let placed = o
                        .created_at
                        .map(|t| i.date_near(i.local_date(t), today))
                        .unwrap_or_default();
                    let total = i.money_or_unavailable(o.total_price, &o.currency);
                    let country = o
                        .shipping_address
                        .as_ref()
                        .and_then(|a| a.country_code.as_deref())
                        .map(|c| i.country_or_name(c))
                        .unwrap_or_default();
                    view! {
                        <li class="hit">
                            <span class="hit-head">
                                <a href=href class="hit-name">{o.name.clone()}</a>
                                <span class="hit-customer">{o.customer_name().unwrap_or_default()}</span>
                                <span class="num hit-total">{total}</span>
                            </span>
                            <span class="hit-meta meta">
                                <span>{o.email.clone()}</span>
                                {(!country.is_empty()).then(|| view! { <span>{country.clone()}</span> })}
                                <span>{placed}</span>
                            </span>
                            <span class="badges">{status_badges(&i, o)}</span>
                            {matched}
                        </li>
                    }
                })
                .collect_view();
            let prev = (page > 1).then(|| {
                let href = format!("/staff?{}", query_string(&search.raw, page - 1));
                view! { <a href=href rel="prev">{i.t("staff.prev")}</a> }
            });
            let next = (page < pages).then(|| {
                let href = format!("/staff?{}", query_string(&search.raw, page + 1));
                view! { <a href=href rel="next">{i.t("staff.next")}</a> }
            });
            let none = r
                .hits
                .is_empty()
                .then(|| view! { <p>{i.t("staff.no_results")}</p> });
            view! {
                <p class="count" role="status">{count}</p>
                <p class="meta" data-keys-hint hidden>{i.t("staff.keys_hint")}</p>
                {none}
                <ol class="hits">{rows}</ol>
                <nav class="pager" aria-label=i.tf("staff.page", &[("page", &page.to_string()), ("pages", &pages.to_string())])>
                    {prev}
                    <span>{i.tf("staff.page", &[("page", &page.to_string()), ("pages", &pages.to_string())])}</span>
                    {next}
                </nav>
            }
            .into_any()
        }
    };
    let problems = search
        .problems
        .iter()
        .map(|p| view! { <li>{p.clone()}</li> })
        .collect_view();
    let any = i.t("staff.any");
    // What the server did: without words, newest first (see
    // `web::staff::search`).
    let sort = match raw("sort").as_str() {
        "" | "relevance" if raw("q").trim().is_empty() => "created".to_string(),
        "" => "relevance".to_string(),
        s => s.to_string(),
    };
    // Folded (a phone's first screen is the search box and the results)
    // unless a filter is in use, which it then shows.
    let in_use = ["payment", "fulfillment", "returns", "state", "from", "to"]
        .iter()
        .filter(|k| !raw(k).trim().is_empty())
        .count();
    let filtered = in_use > 0;
    let filters_label = if filtered {
        i.tf("staff.filters_in_use", &[("n", &i.number(in_use as u64))])
    } else {
        i.t("staff.filters")
    };
    let who = search.who.clone();
    let bulk = (search.can_change && !search.statuses.is_empty() && search.outcome.total > 0)
        .then(|| bulk_form(&i, &search.raw, &search.outcome, &search.statuses));
    let body_view = view! {
        <ShopHeader />
        <StaffBar who=who />
        <main id="main" class="page wide staff">
            <h1>{i.t("staff.search_title")}</h1>
            <form method="get" action="/staff" class="card search-form">
                <div class="field">
                    <label for="q">{i.t("staff.search_label")}</label>
                    <input id="q" name="q" type="text" value=raw("q") maxlength="200" aria-describedby="q-hint" />
                    <p class="hint" id="q-hint">{i.t("staff.search_hint")}</p>
                </div>
                <details class="filters-fold" open=filtered>
                <summary>{filters_label}</summary>
                <fieldset class="filters">
                    <legend class="visually-hidden">{i.t("staff.filters")}</legend>
                    <div class="field">
                        <label for="payment">{i.t("staff.payment")}</label>
                        <select id="payment" name="payment">
                            {options(&i, "financial_state", FinancialStatus::ALL, |s| s.as_str().to_string(), Some(&raw("payment")), &any)}
                        </select>
                    </div>
                    <div class="field">
                        <label for="fulfillment">{i.t("staff.fulfillment")}</label>
                        <select id="fulfillment" name="fulfillment">
                            {options(&i, "fulfillment_state", FulfillmentStatus::ALL, |s| s.as_str().to_string(), Some(&raw("fulfillment")), &any)}
                        </select>
                    </div>
                    <div class="field">
                        <label for="returns">{i.t("staff.returns")}</label>
                        <select id="returns" name="returns">
                            {options(&i, "return_state", ReturnStatus::ALL, |s| s.as_str().to_string(), Some(&raw("returns")), &any)}
                        </select>
                    </div>
                    <div class="field">
                        <label for="state">{i.t("staff.state")}</label>
                        <select id="state" name="state">
                            <option value="">{any.clone()}</option>
                            <option value="open" selected=raw("state") == "open">{i.t("staff.state_open")}</option>
                            <option value="archived" selected=raw("state") == "archived">{i.t("staff.state_archived")}</option>
                            <option value="cancelled" selected=raw("state") == "cancelled">{i.t("staff.state_cancelled")}</option>
                        </select>
                    </div>
                    <div class="field">
                        <label for="from">{i.t("staff.from")}</label>
                        <input id="from" name="from" type="date" value=raw("from") />
                    </div>
                    <div class="field">
                        <label for="to">{i.t("staff.to")}</label>
                        <input id="to" name="to" type="date" value=raw("to") />
                    </div>
                    <div class="field">
                        <label for="sort">{i.t("staff.sort")}</label>
                        <select id="sort" name="sort">
                            <option value="relevance" selected=sort == "relevance">{i.t("staff.sort_relevance")}</option>
                            <option value="updated" selected=sort == "updated">{i.t("staff.sort_updated")}</option>
                            <option value="created" selected=sort == "created">{i.t("staff.sort_created")}</option>
                        </select>
                    </div>
                </fieldset>
                </details>
                <button type="submit">{i.t("staff.search_button")}</button>
            </form>
            <ul class="problems">{problems}</ul>
            {body}
            {bulk}
        </main>
    };
    Page {
        title: i.t("staff.title"),
        private: true,
        body: body_view.into_any(),
    }
}
