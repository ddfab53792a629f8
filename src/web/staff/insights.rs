//! `GET /staff/insights` and `GET /staff/insights.csv`: the merchant's
//! insights for a period and a shop, for every role. The query says which:
//! `days` (the last so many, 30 when nothing is asked), or `from` and `to`
//! (ISO dates, at most 366 days); `shop` (one of the site's shops; all
//! when absent); and for the CSV, `chart`. Dates that do not make a period
//! are said on the page, which shows the last 30 days instead; a shop the
//! site does not serve, or a chart it does not have, is a 404.
//!
//! The aggregations are CPU work over the index, so they run on a
//! blocking thread, off the threads that answer shoppers.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

use super::StaffSession;
use crate::insights::report::{self, Period, Report};
use crate::ui::staff::{InsightsView, PERIODS};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::extract::WebQuery;
use crate::web::render::{Visitor, html};

/// The period when none is asked for.
const DEFAULT_DAYS: u32 = 30;

/// The query of both addresses.
#[derive(Debug, Default, Deserialize)]
pub struct InsightsQuery {
    #[serde(default)]
    days: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    shop: String,
    #[serde(default)]
    chart: String,
}

/// The period asked for: (period, the days if asked as days, whether
/// dates were asked for and did not make one).
fn period(q: &InsightsQuery, today: NaiveDate) -> (Period, Option<u32>, bool) {
    let (from, to) = (q.from.trim(), q.to.trim());
    if !from.is_empty() || !to.is_empty() {
        let dates = from
            .parse::<NaiveDate>()
            .ok()
            .zip(to.parse::<NaiveDate>().ok());
        return match dates.and_then(|(f, t)| Period::between(f, t)) {
            Some(p) => (p, None, false),
            None => (Period::last(DEFAULT_DAYS, today), Some(DEFAULT_DAYS), true),
        };
    }
    let days = q
        .days
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|d| PERIODS.contains(d))
        .unwrap_or(DEFAULT_DAYS);
    (Period::last(days, today), Some(days), false)
}

/// Every shop the site serves: its own and each connected one.
fn shops(state: &AppState) -> Vec<String> {
    let mut all = vec![state.config.shop.domain.to_string()];
    for s in &state.config.shopify {
        if !all.contains(&s.domain.to_string()) {
            all.push(s.domain.to_string());
        }
    }
    all
}

/// The report the query asks for, computed off the async threads.
async fn report_for(
    state: &AppState,
    q: &InsightsQuery,
) -> Result<(Report, Option<u32>, bool), WebError> {
    let shop = match q.shop.trim() {
        "" => None,
        s if shops(state).iter().any(|x| x == s) => Some(s.to_string()),
        _ => {
            return Err(WebError::bad_request(
                StatusCode::NOT_FOUND,
                "error.insights_shop",
            ));
        }
    };
    let (period, days, bad_dates) = period(q, Utc::now().date_naive());
    let (store, counters) = (state.store.clone(), state.insights.clone());
    let statuses: Vec<String> = state
        .config
        .merchant
        .statuses
        .iter()
        .map(|s| s.id.clone())
        .collect();
    let report = tokio::task::spawn_blocking(move || {
        report::build(&store, &counters, &statuses, shop.as_deref(), period)
    })
    .await
    .map_err(|e| WebError::unavailable("computing insights", e))??;
    Ok((report, days, bad_dates))
}

/// `GET /staff/insights`.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebQuery(q): WebQuery<InsightsQuery>,
) -> Result<Response, WebError> {
    let (report, days, bad_dates) = report_for(&state, &q).await?;
    let lang = visitor.lang;
    let view = InsightsView {
        report,
        status_titles: state
            .config
            .merchant
            .statuses
            .iter()
            .map(|s| (s.id.clone(), s.title(lang).to_string()))
            .collect(),
        shops: shops(&state),
        days,
        bad_dates,
    };
    Ok(html(&state, &visitor, StatusCode::OK, move || {
        crate::ui::staff::insights_page(staff.name, view)
    })
    .await)
}

/// `GET /staff/insights.csv?chart=…`: one chart's numbers.
pub async fn csv(
    State(state): State<AppState>,
    WebQuery(q): WebQuery<InsightsQuery>,
) -> Result<Response, WebError> {
    let chart = q.chart.trim();
    if !crate::insights::figures::CSV_CHARTS.contains(&chart) {
        return Err(WebError::bad_request(
            StatusCode::NOT_FOUND,
            "error.insights_chart",
        ));
    }
    let (report, _, _) = report_for(&state, &q).await?;
    let body = report.csv(chart).ok_or(WebError::bad_request(
        StatusCode::NOT_FOUND,
        "error.insights_chart",
    ))?;
    let name = format!(
        "attachment; filename=\"insights-{chart}-{}-{}.csv\"",
        report.period.from, report.period.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}
