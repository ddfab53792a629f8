//! The staff console: sign-in, search, and an order's full detail with
//! sharing and revoking of status links.
//!
//! Staff see everything a shopper does not (full address, phone, every
//! raw status and timestamp), so these pages exist only behind a session
//! (`web::staff` enforces it before a page renders). Search is a plain GET
//! form, so a search is a link that can be pasted to a colleague.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::i18n::I18n;
use super::status::{ShopperSections, percent_encode};
use super::{ShopHeader, private_page, request_context};
use crate::order::{
    FinancialStatus, FulfillmentStatus, Order, OrderState, ReturnStatus, order_key,
};
use crate::store::{Filters, SearchQuery, Sort};
use crate::web::AppState;

/// Orders per result page.
pub const PER_PAGE: usize = 20;
/// Deepest result page offered.
pub const MAX_PAGE: usize = 500;
/// Longest search text considered.
pub const MAX_QUERY_CHARS: usize = 200;

/// The signed-in staff member, put in context by `web::staff`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffSession {
    pub name: String,
}

/// What was typed on the sign-in form, after a failed try.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoginForm {
    pub name: String,
    pub failed: bool,
}

/// The outcome of an action on the order page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderAction {
    Shared {
        link: String,
        expires: DateTime<Utc>,
    },
    Revoked,
}

/// "PARTIALLY_FULFILLED" -> "Partially fulfilled": Shopify's words, which
/// staff know from the Shopify admin.
pub fn humanize(value: &str) -> String {
    let lower = value.to_ascii_lowercase().replace('_', " ");
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `/staff/login`.
#[component]
pub fn StaffLoginPage() -> impl IntoView {
    private_page();
    let i = request_context().i18n;
    let form = use_context::<LoginForm>().unwrap_or_default();
    let next = use_query_map()
        .read_untracked()
        .get("next")
        .filter(|n| is_staff_path(n))
        .unwrap_or_else(|| "/staff".into());
    let error = form.failed.then(|| {
        view! { <p class="notice" role="alert">{i.t("staff.login_failed")}</p> }
    });
    view! {
        <Title text=i.t("staff.login_title") />
        <Meta name="robots" content="noindex" />
        <ShopHeader />
        <main id="main" class="page">
            <h1>{i.t("staff.login_title")}</h1>
            <form method="post" action="/staff/login" class="card">
                {error}
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="name">{i.t("staff.name")}</label>
                    <input id="name" name="name" type="text" autocomplete="username" required maxlength="64" value=form.name />
                </div>
                <div class="field">
                    <label for="password">{i.t("staff.password")}</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" />
                </div>
                <button type="submit">{i.t("staff.sign_in")}</button>
            </form>
        </main>
    }
}

/// Where `next` may send a signed-in person: only our own staff pages.
pub fn is_staff_path(p: &str) -> bool {
    (p == "/staff" || p.starts_with("/staff/") || p.starts_with("/staff?"))
        && !p.contains("//")
        && !p.contains('\\')
        && !p.bytes().any(|b| b.is_ascii_control())
}

/// The bar above every signed-in page.
#[component]
fn StaffBar() -> impl IntoView {
    let i = request_context().i18n;
    let who = use_context::<StaffSession>()
        .map(|s| s.name)
        .unwrap_or_default();
    view! {
        <div class="staff-bar">
            <a href="/staff">{i.t("staff.title")}</a>
            <span>{i.tf("staff.signed_in_as", &[("name", &who)])}</span>
            <form method="post" action="/staff/logout">
                <button type="submit" class="link-button">{i.t("staff.sign_out")}</button>
            </form>
        </div>
    }
}

/// A search as parsed from the query string, with what was ignored.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSearch {
    pub query: SearchQuery,
    /// Messages for values that were ignored.
    pub problems: Vec<String>,
    /// The raw values, to fill the form back in.
    pub raw: Vec<(String, String)>,
}

/// Reads `/staff?q=..&payment=..&fulfillment=..&returns=..&state=..&from=..&to=..&sort=..&page=..`.
/// Nothing here is an error: a bad value is ignored and reported.
pub fn parse_search(params: &[(String, String)], i: &I18n) -> ParsedSearch {
    let get = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut problems = Vec::new();
    let mut bad = |name: &str, value: &str| {
        problems.push(i.tf("staff.bad_filter", &[("name", name), ("value", value)]));
    };
    let mut filters = Filters::default();
    if let Some(v) = get("payment") {
        match FinancialStatus::parse(&v) {
            FinancialStatus::Unknown(_) => bad(&i.t("staff.payment"), &v),
            s => filters.financial = Some(s),
        }
    }
    if let Some(v) = get("fulfillment") {
        match FulfillmentStatus::parse(&v) {
            FulfillmentStatus::Unknown(_) => bad(&i.t("staff.fulfillment"), &v),
            s => filters.fulfillment = Some(s),
        }
    }
    if let Some(v) = get("returns") {
        match ReturnStatus::parse(&v) {
            ReturnStatus::Unknown(_) => bad(&i.t("staff.returns"), &v),
            s => filters.return_status = Some(s),
        }
    }
    if let Some(v) = get("state") {
        match v.as_str() {
            "open" => filters.state = Some(OrderState::Open),
            "archived" => filters.state = Some(OrderState::Archived),
            "cancelled" => filters.state = Some(OrderState::Cancelled),
            _ => bad(&i.t("staff.state"), &v),
        }
    }
    let sort = match get("sort").as_deref() {
        None | Some("relevance") => Sort::Relevance,
        Some("updated") => Sort::UpdatedDesc,
        Some("created") => Sort::CreatedDesc,
        Some(other) => {
            bad(&i.t("staff.sort"), other);
            Sort::Relevance
        }
    };
    let mut day = |key: &str, next_day: bool| -> Option<DateTime<Utc>> {
        let v = get(key)?;
        match NaiveDate::parse_from_str(&v, "%Y-%m-%d") {
            Ok(d) => {
                let d = if next_day { d.succ_opt()? } else { d };
                let midnight = d.and_hms_opt(0, 0, 0)?;
                i.tz.from_local_datetime(&midnight)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
            }
            Err(_) => {
                problems.push(i.tf("staff.bad_date", &[("value", &v)]));
                None
            }
        }
    };
    filters.created_from = day("from", false);
    // "Up to" a day includes that whole day.
    filters.created_to = day("to", true);
    let page = get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, MAX_PAGE);
    let text: String = get("q")
        .unwrap_or_default()
        .chars()
        .take(MAX_QUERY_CHARS)
        .collect();
    ParsedSearch {
        query: SearchQuery {
            text,
            filters,
            sort,
            page: page - 1,
            per_page: PER_PAGE,
        },
        problems,
        raw: params.to_vec(),
    }
}

/// Which fields of `order` the words of `text` were found in.
pub fn matched_fields(order: &Order, text: &str) -> Vec<&'static str> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    let number = order.order_number.to_string();
    let mut fields: Vec<(&'static str, Vec<String>)> = vec![
        ("field.number", vec![number, order.name.clone()]),
        ("field.email", vec![order.email.clone()]),
        (
            "field.customer",
            order.customer_name().into_iter().collect(),
        ),
        ("field.phone", order.phone.clone().into_iter().collect()),
        (
            "field.tracking",
            order
                .fulfillments
                .iter()
                .flat_map(|f| f.tracking_numbers.clone())
                .chain(
                    order
                        .returns
                        .iter()
                        .flat_map(|r| r.tracking.iter().filter_map(|t| t.number.clone())),
                )
                .collect(),
        ),
        (
            "field.sku",
            order
                .line_items
                .iter()
                .filter_map(|l| l.sku.clone())
                .collect(),
        ),
        (
            "field.product",
            order
                .line_items
                .iter()
                .flat_map(|l| [Some(l.title.clone()), l.variant_title.clone()])
                .flatten()
                .collect(),
        ),
        (
            "field.place",
            order
                .shipping_address
                .iter()
                .flat_map(|a| [a.city.clone(), a.country.clone()])
                .flatten()
                .collect(),
        ),
        ("field.tags", order.tags.clone()),
    ];
    let mut found = Vec::new();
    for (name, values) in fields.drain(..) {
        let tokens: Vec<String> = values
            .iter()
            .flat_map(|v| {
                v.split(|c: char| !c.is_alphanumeric())
                    .filter(|t| !t.is_empty())
                    .map(str::to_lowercase)
                    .collect::<Vec<_>>()
            })
            .collect();
        let hit = words.iter().any(|w| {
            tokens
                .iter()
                .any(|t| t.starts_with(w.as_str()) || one_edit_apart(t, w))
        });
        if hit {
            found.push(name);
        }
    }
    found
}

/// Whether two words differ by at most one edit (for typo matches).
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if b.len() < 5 || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let (mut i, mut j, mut edits) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        edits += 1;
        if edits > 1 {
            return false;
        }
        match a.len().cmp(&b.len()) {
            std::cmp::Ordering::Greater => i += 1,
            std::cmp::Ordering::Less => j += 1,
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    edits + (a.len() - i) + (b.len() - j) <= 1
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

fn status_badges(order: &Order) -> impl IntoView + use<> {
    let mut badges = vec![
        ("info", humanize(order.financial_status.as_str())),
        ("info", humanize(order.fulfillment_status.as_str())),
    ];
    let r = order.return_status();
    if r != ReturnStatus::NoReturn {
        badges.push(("warn", humanize(r.as_str())));
    }
    match order.state() {
        OrderState::Cancelled => badges.push(("warn", humanize("CANCELLED"))),
        OrderState::Archived => badges.push(("ok", humanize("ARCHIVED"))),
        OrderState::Open => {}
    }
    badges
        .into_iter()
        .map(|(kind, text)| view! { <span class=format!("badge {kind}")>{text}</span> })
        .collect_view()
}

fn options<T, F: Fn(&T) -> String>(
    all: &[T],
    value: F,
    selected: Option<&str>,
    any: &str,
) -> impl IntoView + use<T, F> {
    let mut items = vec![view! { <option value="">{any.to_string()}</option> }.into_any()];
    for v in all {
        let val = value(v);
        let label = humanize(&val);
        let sel = selected.is_some_and(|s| s.eq_ignore_ascii_case(&val));
        items.push(view! { <option value=val selected=sel>{label}</option> }.into_any());
    }
    items.collect_view()
}

/// `/staff`: search every order.
#[component]
pub fn StaffSearchPage() -> impl IntoView {
    private_page();
    let state = expect_context::<AppState>();
    let i = request_context().i18n;
    let params: Vec<(String, String)> = use_query_map()
        .read_untracked()
        .latest_values()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let parsed = parse_search(&params, &i);
    let raw = |k: &str| {
        parsed
            .raw
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let results = state.store.search(&parsed.query);
    let body = match results {
        Err(e) => {
            tracing::error!(error = %e, "staff search failed");
            if let Some(res) = use_context::<ResponseOptions>() {
                res.set_status(axum::http::StatusCode::SERVICE_UNAVAILABLE);
            }
            view! { <p class="notice" role="alert">"Search is unavailable right now."</p> }
                .into_any()
        }
        Ok(r) => {
            let pages = r.total.div_ceil(PER_PAGE).clamp(1, MAX_PAGE);
            let page = parsed.query.page + 1;
            let count = if r.total == 1 {
                i.t("staff.results_one")
            } else {
                i.tf("staff.results", &[("n", &r.total.to_string())])
            };
            let text = parsed.query.text.clone();
            let rows = r
                .hits
                .iter()
                .map(|o| {
                    let href = format!("/staff/orders/{}/{}", percent_encode(&o.shop), o.id);
                    let fields = matched_fields(o, &text)
                        .into_iter()
                        .map(|f| i.t(f))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let matched = (!fields.is_empty())
                        .then(|| view! { <span class="matched">{i.tf("staff.matched", &[("fields", &fields)])}</span> });
                    let placed = o.created_at.map(|t| i.date_time(t)).unwrap_or_default();
                    view! {
                        <li class="hit">
                            <a href=href class="hit-name">{o.name.clone()}</a>
                            <span class="hit-customer">{o.customer_name().unwrap_or_default()}</span>
                            <span class="meta">{placed}</span>
                            <span class="badges">{status_badges(o)}</span>
                            {matched}
                        </li>
                    }
                })
                .collect_view();
            let prev = (page > 1).then(|| {
                let href = format!("/staff?{}", query_string(&parsed.raw, page - 1));
                view! { <a href=href rel="prev">{i.t("staff.prev")}</a> }
            });
            let next = (page < pages).then(|| {
                let href = format!("/staff?{}", query_string(&parsed.raw, page + 1));
                view! { <a href=href rel="next">{i.t("staff.next")}</a> }
            });
            let none = r
                .hits
                .is_empty()
                .then(|| view! { <p>{i.t("staff.no_results")}</p> });
            view! {
                <p class="count" role="status">{count}</p>
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
    let problems = parsed
        .problems
        .iter()
        .map(|p| view! { <li>{p.clone()}</li> })
        .collect_view();
    let any = i.t("staff.any");
    let sort = raw("sort");
    view! {
        <Title text=i.t("staff.title") />
        <Meta name="robots" content="noindex" />
        <ShopHeader />
        <StaffBar />
        <main id="main" class="page wide staff">
            <h1>{i.t("staff.search_title")}</h1>
            <form method="get" action="/staff" class="card search-form">
                <div class="field">
                    <label for="q">{i.t("staff.search_label")}</label>
                    <input id="q" name="q" type="text" value=raw("q") maxlength="200" aria-describedby="q-hint" />
                    <p class="hint" id="q-hint">{i.t("staff.search_hint")}</p>
                </div>
                <fieldset class="filters">
                    <legend>{i.t("staff.filters")}</legend>
                    <div class="field">
                        <label for="payment">{i.t("staff.payment")}</label>
                        <select id="payment" name="payment">
                            {options(FinancialStatus::ALL, |s| s.as_str().to_string(), Some(&raw("payment")), &any)}
                        </select>
                    </div>
                    <div class="field">
                        <label for="fulfillment">{i.t("staff.fulfillment")}</label>
                        <select id="fulfillment" name="fulfillment">
                            {options(FulfillmentStatus::ALL, |s| s.as_str().to_string(), Some(&raw("fulfillment")), &any)}
                        </select>
                    </div>
                    <div class="field">
                        <label for="returns">{i.t("staff.returns")}</label>
                        <select id="returns" name="returns">
                            {options(ReturnStatus::ALL, |s| s.as_str().to_string(), Some(&raw("returns")), &any)}
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
                            <option value="relevance" selected=sort.is_empty() || sort == "relevance">{i.t("staff.sort_relevance")}</option>
                            <option value="updated" selected=sort == "updated">{i.t("staff.sort_updated")}</option>
                            <option value="created" selected=sort == "created">{i.t("staff.sort_created")}</option>
                        </select>
                    </div>
                </fieldset>
                <button type="submit">{i.t("staff.search_button")}</button>
            </form>
            <ul class="problems">{problems}</ul>
            {body}
        </main>
    }
}

/// `/staff/orders/{shop}/{id}`: everything about one order.
#[component]
pub fn StaffOrderPage() -> impl IntoView {
    private_page();
    let state = expect_context::<AppState>();
    let i = request_context().i18n;
    let params = use_params_map().read_untracked();
    let shop = params.get("shop").unwrap_or_default();
    let id = params
        .get("id")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let order = match state.store.get(&order_key(&shop, id)) {
        Ok(Some(o)) => o,
        other => {
            if let Err(e) = other {
                tracing::error!(error = %e, "order read failed");
            }
            if let Some(res) = use_context::<ResponseOptions>() {
                res.set_status(axum::http::StatusCode::NOT_FOUND);
            }
            return view! {
                <Title text=i.t("staff.not_found") />
                <ShopHeader />
                <StaffBar />
                <main id="main" class="page">
                    <h1>{i.t("staff.not_found")}</h1>
                    <p><a href="/staff">{i.t("staff.back")}</a></p>
                </main>
            }
            .into_any();
        }
    };
    let action = use_context::<OrderAction>();
    let base = format!("/staff/orders/{}/{}", percent_encode(&order.shop), order.id);
    let title = i.tf("staff.order_title", &[("name", &order.name)]);
    view! {
        <Title text=title.clone() />
        <Meta name="robots" content="noindex" />
        <ShopHeader />
        <StaffBar />
        <main id="main" class="page wide staff">
            <p><a href="/staff">{i.t("staff.back")}</a></p>
            <h1>{title}</h1>
            <p class="badges">{status_badges(&order)}</p>
            <div class="columns">
                <div>
                    {details(&i, &order).into_any()}
                </div>
                <div>
                    {share_box(&i, &state, &order, &base, action.as_ref()).into_any()}
                    <section class="card preview" aria-labelledby="preview-title">
                        <h2 id="preview-title">{i.t("staff.preview")}</h2>
                        {view! { <ShopperSections order=order.clone() preview=true /> }.into_any()}
                    </section>
                </div>
            </div>
        </main>
    }
    .into_any()
}

fn share_box(
    i: &I18n,
    state: &AppState,
    order: &Order,
    base: &str,
    action: Option<&OrderAction>,
) -> impl IntoView + use<> {
    let result = match action {
        Some(OrderAction::Shared { link, expires }) => {
            let subject = i.tf("staff.mail_subject", &[("name", &order.name)]);
            let body = i.tf(
                "staff.mail_body",
                &[
                    ("name", &order.name),
                    ("link", link),
                    ("shop", &state.config.shop.name),
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
        Some(OrderAction::Revoked) => {
            Some(view! { <p class="notice ok" role="status">{i.t("staff.revoked")}</p> }.into_any())
        }
        None => None,
    };
    let share_js = state.assets.share_js_href.clone();
    let days = [1u32, 7, 30, 90, 365]
        .into_iter()
        .map(|d| {
            let label = if d == 1 {
                i.t("staff.day")
            } else {
                i.tf("staff.days", &[("n", &d.to_string())])
            };
            view! { <option value=d.to_string() selected=d == 30>{label}</option> }
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

fn stamp(i: &I18n, t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| {
        format!(
            "{} ({})",
            i.date_time(t),
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
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
            view! {
                <tr>
                    <td>{title}</td>
                    <td>{li.sku.clone().unwrap_or_default()}</td>
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
                        Some(n) => format!("{} ({n})", humanize(h.reason.as_str())),
                        None => humanize(h.reason.as_str()),
                    };
                    view! { <li>{i.tf("staff.hold", &[("reason", &text)])}</li> }
                })
                .collect_view();
            let when = fo.fulfill_at.map(|t| {
                view! { <li>{i.tf("staff.fulfill_at", &[("time", &i.date_time(t))])}</li> }
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
                    <strong>{humanize(fo.status.as_str())}</strong>
                    " · " {location}
                    <ul>{holds} {when} <li>{lines.join(", ")}</li></ul>
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
                let events = f
                    .events
                    .iter()
                    .map(|e| {
                        let place = [e.city.clone(), e.province.clone(), e.country.clone()]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(", ");
                        view! {
                            <li>
                                {stamp(i, e.happened_at).unwrap_or_default()} " · "
                                <strong>{humanize(e.status.as_str())}</strong>
                                " " {place} " " {e.message.clone().unwrap_or_default()}
                            </li>
                        }
                    })
                    .collect_view();
                let items: Vec<String> = f.line_items.iter().map(|l| format!("{} × {}", l.quantity, l.title)).collect();
                view! {
                    <div class="shipment">
                        <h3>{f.name.clone().unwrap_or_else(|| f.id.to_string())} " · " {humanize(f.display_status().as_str())}</h3>
                        <dl class="facts">
                            {row(i.t("staff.location"), f.location_name.clone())}
                            {row(i.t("staff.tracking"), Some(format!("{} {}", f.tracking_company.clone().unwrap_or_default(), f.tracking_numbers.join(", "))))}
                            {row(i.t("package.eta"), stamp(i, f.estimated_delivery()))}
                            {row(i.t("package.delivered"), stamp(i, f.delivered_time()))}
                            {row(i.t("staff.created"), stamp(i, f.created_at))}
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
                    <strong>{r.name.clone().unwrap_or_default()} " · " {humanize(r.status.as_str())}</strong>
                    <br />{items.join(", ")}
                    {(!tracking.is_empty()).then(|| view! { <br />{tracking.join(", ")} })}
                    <br /><span class="meta">{stamp(i, r.created_at).unwrap_or_default()}</span>
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
                     {i.money_or_unavailable(r.amount(), &o.currency)} " · " {stamp(i, r.at()).unwrap_or_default()}
                    {r.note.clone().map(|n| view! { <br />{i.tf("staff.refund_note", &[("note", &n)])} })}
                </li>
            }
        })
        .collect_view();
    let stages = o
        .custom_stages
        .iter()
        .map(|s| view! { <li>{s.name.clone()} " · " {stamp(i, Some(s.at)).unwrap_or_default()}</li> })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="customer-title">
            <h2 id="customer-title">{i.t("staff.customer")}</h2>
            <dl class="facts">
                {row(i.t("staff.name"), o.customer_name())}
                {row(i.t("staff.email"), Some(o.email.clone()))}
                {row(i.t("staff.phone"), o.phone.clone())}
                {row(i.t("staff.tags"), Some(o.tags.join(", ")))}
            </dl>
            <h3>{i.t("staff.shipping_address")}</h3>
            <address>{address}</address>
        </section>
        <section class="card" aria-labelledby="items-title">
            <h2 id="items-title">{i.t("staff.items")}</h2>
            <table>
                <thead><tr>
                    <th scope="col">{i.t("staff.col_item")}</th>
                    <th scope="col">{i.t("staff.col_sku")}</th>
                    <th scope="col" class="num">{i.t("staff.col_qty")}</th>
                    <th scope="col" class="num">{i.t("staff.col_price")}</th>
                </tr></thead>
                <tbody>{items}</tbody>
            </table>
            <dl class="facts">
                {row(i.t("staff.subtotal"), money(o.subtotal_price))}
                {row(i.t("staff.discounts"), money(o.total_discounts))}
                {row(i.t("staff.tax"), money(o.total_tax))}
                {row(i.t("staff.total"), money(o.total_price))}
                {row(i.t("staff.refunded"), Some(i.money_or_unavailable(o.refunded_amount(), &o.currency)))}
                {row(
                    i.t("staff.total_shop_currency"),
                    o.shop_total_price.zip(o.shop_currency.as_deref()).map(|(d, c)| i.money(d, c)),
                )}
            </dl>
        </section>
        <section class="card" aria-labelledby="statuses-title">
            <h2 id="statuses-title">{i.t("staff.statuses")}</h2>
            <dl class="facts">
                {row(i.t("staff.financial_status"), Some(o.financial_status.as_str().to_string()))}
                {row(i.t("staff.fulfillment_status"), Some(o.fulfillment_status.as_str().to_string()))}
                {row(i.t("staff.return_status"), Some(o.return_status().as_str().to_string()))}
                {row(i.t("staff.cancel_reason"), o.cancel_reason.as_ref().map(|r| r.as_str().to_string()))}
            </dl>
            <h3>{i.t("staff.fulfillment_orders")}</h3>
            <ul>{work}</ul>
            <h3>{i.t("staff.custom_stages")}</h3>
            <ul>{stages}</ul>
        </section>
        <section class="card" aria-labelledby="shipments-title">
            <h2 id="shipments-title">{i.t("staff.shipments")}</h2>
            {shipments}
        </section>
        <section class="card" aria-labelledby="returns-staff-title">
            <h2 id="returns-staff-title">{i.t("staff.returns_refunds")}</h2>
            <ul>{returns}</ul>
            <ul>{refunds}</ul>
        </section>
        <section class="card" aria-labelledby="times-title">
            <h2 id="times-title">{i.t("staff.timestamps")}</h2>
            <dl class="facts">
                {row(i.t("staff.created"), stamp(i, o.created_at))}
                {row(i.t("staff.processed"), stamp(i, o.processed_at))}
                {row(i.t("staff.updated"), stamp(i, o.updated_at))}
                {row(i.t("staff.closed"), stamp(i, o.closed_at))}
                {row(i.t("staff.cancelled"), stamp(i, o.cancelled_at))}
            </dl>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths_stay_on_staff_pages() {
        assert!(is_staff_path("/staff"));
        assert!(is_staff_path("/staff?q=anna"));
        assert!(is_staff_path("/staff/orders/s/1"));
        assert!(!is_staff_path("https://evil.example/staff"));
        assert!(!is_staff_path("//evil.example"));
        assert!(!is_staff_path("/staff//evil"));
        assert!(!is_staff_path("/staffx"));
        assert!(!is_staff_path("/"));
    }

    #[test]
    fn typos_are_one_edit() {
        assert!(one_edit_apart("lindqvist", "lindqvst"));
        assert!(one_edit_apart("nilsson", "nilson"));
        assert!(!one_edit_apart("nilsson", "olsson"));
        assert!(!one_edit_apart("abc", "abd"), "short words need exact");
    }

    #[test]
    fn humanized_values() {
        assert_eq!(humanize("PARTIALLY_FULFILLED"), "Partially fulfilled");
        assert_eq!(humanize(""), "");
    }
}
