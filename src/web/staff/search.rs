//! `GET /staff`: search every order. The query string is the search (so a
//! search is a link): `q`, `payment`, `fulfillment`, `returns`, `state`,
//! `from`, `to`, `sort`, `page`. Nothing in it is an error: a bad value is
//! ignored and said so on the page. Without words, orders come newest
//! first (there is no match to rank).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::StaffSession;
use crate::i18n::I18n;
use crate::order::{FinancialStatus, FulfillmentStatus, OrderState, ReturnStatus};
use crate::store::{Filters, SearchQuery, Sort, matched_fields};
use crate::ui::staff::{MAX_PAGE, PER_PAGE, SearchHit, SearchOutcome, SearchPage};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::extract::WebQuery;
use crate::web::render::{Visitor, html};

/// Longest search text considered.
pub const MAX_QUERY_CHARS: usize = 200;

/// `GET /staff`.
pub async fn search(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebQuery(raw): WebQuery<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let i = visitor.i18n(&state);
    let (query, problems) = parse_search(&raw, &i);
    let results = state.store.search(&query)?;
    let hits = results
        .hits
        .into_iter()
        .map(|order| SearchHit {
            matched: matched_fields(&order, &query.text),
            order,
        })
        .collect();
    let page = SearchPage {
        statuses: super::tools::status_choices(&state, &i),
        can_change: staff.role >= crate::staff::Role::Agent,
        who: staff.name,
        raw,
        problems,
        outcome: SearchOutcome {
            total: results.total,
            more: results.more,
            page: query.page + 1,
            hits,
        },
    };
    Ok(html(&state, &visitor, StatusCode::OK, move || {
        crate::ui::staff::search_page(page)
    })
    .await)
}

/// The search a query string asks for, and a message for each value that
/// was ignored.
pub fn parse_search(params: &[(String, String)], i: &I18n) -> (SearchQuery, Vec<String>) {
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
    // Without words there is nothing to rank by: a listing by filters
    // alone (or of everything) is a worklist, newest first.
    let sort = if text.trim().is_empty() && sort == Sort::Relevance {
        Sort::CreatedDesc
    } else {
        sort
    };
    let query = SearchQuery {
        text,
        filters,
        sort,
        page: page - 1,
        per_page: PER_PAGE,
    };
    (query, problems)
}
