//! The staff console's pages: sign-in, search, and an order's full detail
//! with sharing and revoking of status links.
//!
//! Staff see everything a shopper does not (full address, phone, every
//! raw status and timestamp), so these pages exist only behind a session
//! (`web::staff` enforces it before a handler runs). Search is a plain GET
//! form, so a search is a link that can be pasted to a colleague. Like
//! every page here they render what the handlers give them.

mod accounts;
mod charts;
mod emails;
mod fulfillment;
mod insights;
mod login;
mod order;
mod search;
mod tools;

use leptos::prelude::*;

use super::{Page, ShopHeader, chrome};
use crate::i18n::I18n;
use crate::order::{Order, OrderState, ReturnStatus};

pub use accounts::{AccountRow, AccountsView, accounts_page};
pub use emails::{
    EmailPreview, SentMail, email_history, preview_page, sent_mail_page, sent_one_page,
};
pub use fulfillment::{RequestRow, ShipGroup, ShipmentRef, ShopifyTools, requests_page, ship_page};
pub use insights::{InsightsView, PERIODS, insights_page};
pub use login::{LoginForm, login_page};
pub use order::{OrderAction, order_not_found_page, order_page};
pub use search::{SearchHit, SearchOutcome, SearchPage, search_page};
pub use tools::{
    AuditLine, BulkView, OrderTools, ProblemLine, ProblemsView, StatusChoice, bulk_page,
    order_href, problems_page,
};

/// Orders per result page.
pub const PER_PAGE: usize = 20;
/// Deepest result page offered.
pub const MAX_PAGE: usize = 500;

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

/// Where `next` may send a signed-in person: only our own staff pages.
pub fn is_staff_path(p: &str) -> bool {
    (p == "/staff" || p.starts_with("/staff/") || p.starts_with("/staff?"))
        && !p.contains("//")
        && !p.contains('\\')
        && !p.bytes().any(|b| b.is_ascii_control())
}

/// The bar above every signed-in page: who is signed in, and sign-out.
#[component]
fn StaffBar(who: String) -> impl IntoView {
    let cx = chrome();
    let i = cx.i18n;
    view! {
        <script src=cx.staff_js_href defer></script>
        // A landmark, so nothing on the page sits outside one (axe `region`).
        <nav class="staff-bar" aria-label=i.t("staff.title")>
            <a href="/staff">{i.t("staff.title")}</a>
            <a href="/staff/problems">{i.t("tools.problems")}</a>
            <a href="/staff/insights">{i.t("insights.title")}</a>
            <a href="/staff/mail">{i.t("staff.sent_title")}</a>
            <a href="/staff/requests">{i.t("shop_actions.requests")}</a>
            <a href="/staff/accounts">{i.t("accounts.title")}</a>
            <span>{i.tf("staff.signed_in_as", &[("name", &who)])}</span>
            <form method="post" action="/staff/logout">
                <button type="submit" class="link-button">{i.t("staff.sign_out")}</button>
            </form>
        </nav>
    }
}

/// A signed-in console page: the shop header, the staff bar, and `main`
/// with `title` as its heading above `body` (`wide` for tables).
fn console_page(who: String, title: String, wide: bool, body: AnyView) -> Page {
    let class = if wide {
        "page wide staff"
    } else {
        "page staff"
    };
    Page {
        title: title.clone(),
        private: true,
        body: view! {
            <ShopHeader />
            <StaffBar who=who />
            <main id="main" class=class>
                <h1>{title}</h1>
                {body}
            </main>
        }
        .into_any(),
    }
}

/// How an action went, in one line: a status when it went well, an
/// alert when it did not.
fn notice(text: String, ok: bool) -> AnyView {
    if ok {
        view! { <p class="notice ok" role="status">{text}</p> }.into_any()
    } else {
        view! { <p class="notice" role="alert">{text}</p> }.into_any()
    }
}

/// The order's states as badges, in the console's language.
fn status_badges(i: &I18n, order: &Order) -> impl IntoView + use<> {
    let mut badges = vec![
        (
            "info",
            i.enum_text("financial_state", order.financial_status.as_str(), &[]),
        ),
        (
            "info",
            i.enum_text("fulfillment_state", order.fulfillment_status.as_str(), &[]),
        ),
    ];
    let r = order.return_status();
    if r != ReturnStatus::NoReturn {
        badges.push(("warn", i.enum_text("return_state", r.as_str(), &[])));
    }
    match order.state() {
        OrderState::Cancelled => badges.push(("warn", i.t("staff.state_cancelled"))),
        OrderState::Archived => badges.push(("ok", i.t("staff.state_archived"))),
        OrderState::Open => {}
    }
    badges
        .into_iter()
        .map(|(kind, text)| view! { <span class=format!("badge {kind}")>{text}</span> })
        .collect_view()
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
    fn humanized_values() {
        assert_eq!(humanize("PARTIALLY_FULFILLED"), "Partially fulfilled");
        assert_eq!(humanize(""), "");
    }
}
