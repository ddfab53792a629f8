//! `/staff/insights`: the merchant's insights for a period and a shop:
//! self-service (what shoppers looked up instead of asking), delivery
//! performance per carrier and destination, and the work (holds, problem
//! orders, time in the merchant's statuses, returns). Every chart is drawn
//! on the server ([`super::charts`]) with its numbers in a table beside
//! it, and each table can be downloaded as CSV.

use chrono::NaiveDate;
use leptos::prelude::*;

use super::charts::{self, Chart, Series, Shape};
use crate::i18n::I18n;
use crate::insights::figures::{Delivery, Report};
use crate::ui::{Page, chrome};

/// The periods offered as links, in days.
pub const PERIODS: [u32; 3] = [7, 30, 90];

/// What the page shows and how it was asked for.
#[derive(Debug, Clone)]
pub struct InsightsView {
    pub report: Report,
    /// The merchant's statuses: id and title in the console's language.
    pub status_titles: Vec<(String, String)>,
    /// Every shop the site serves (the choice is offered when there are
    /// several).
    pub shops: Vec<String>,
    /// The period asked for as a number of days, if it was one of
    /// [`PERIODS`].
    pub days: Option<u32>,
    /// The dates asked for did not make a period (the last 30 days are
    /// shown instead).
    pub bad_dates: bool,
}

impl InsightsView {
    /// The query that asks for this view again (for links and CSV).
    pub fn query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        match self.days {
            Some(d) => {
                q.append_pair("days", &d.to_string());
            }
            None => {
                q.append_pair("from", &self.report.period.from.to_string());
                q.append_pair("to", &self.report.period.to.to_string());
            }
        }
        if let Some(shop) = &self.report.shop {
            q.append_pair("shop", shop);
        }
        q.finish()
    }
}

fn or_unknown(i: &I18n, x: Option<String>) -> String {
    x.unwrap_or_else(|| i.t("insights.unknown"))
}

/// A chart with its caption, the image, and the table of its numbers
/// (`folded`: behind a disclosure, for the long per-day tables).
fn figure(
    id: &str,
    caption: String,
    chart: Option<Chart>,
    table: AnyView,
    folded: bool,
    csv: String,
) -> AnyView {
    let i = chrome().i18n;
    let image = chart.and_then(|c| charts::svg(&c));
    // Scrolls sideways on a phone: focusable, so keys can scroll it too.
    let image = image.map(|svg| view! { <div class="chart" tabindex="0" inner_html=svg></div> });
    let table = if folded {
        view! {
            <details>
                <summary>{i.t("insights.table")}</summary>
                {table}
            </details>
        }
        .into_any()
    } else {
        table
    };
    view! {
        <figure class="insight" aria-labelledby=format!("{id}-caption")>
            <figcaption id=format!("{id}-caption")><h3>{caption}</h3></figcaption>
            {image}
            {table}
            <p><a href=csv download>{i.t("insights.csv")}</a></p>
        </figure>
    }
    .into_any()
}

fn header_row(cols: Vec<String>) -> AnyView {
    let cells = cols
        .into_iter()
        .map(|c| view! { <th scope="col">{c}</th> })
        .collect_view();
    view! { <thead><tr>{cells}</tr></thead> }.into_any()
}

fn body_rows(rows: Vec<(String, Vec<String>)>) -> AnyView {
    let rows = rows
        .into_iter()
        .map(|(head, cells)| {
            let cells = cells
                .into_iter()
                .map(|c| view! { <td class="num">{c}</td> })
                .collect_view();
            view! { <tr><th scope="row">{head}</th>{cells}</tr> }
        })
        .collect_view();
    view! { <tbody>{rows}</tbody> }.into_any()
}

fn table(cols: Vec<String>, rows: Vec<(String, Vec<String>)>) -> AnyView {
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="insight-table">{header_row(cols)}{body_rows(rows)}</table>
        </div>
    }
    .into_any()
}

fn delivery_rows(
    i: &I18n,
    rows: &[Delivery],
    name: impl Fn(&str) -> String,
) -> Vec<(String, Vec<String>)> {
    rows.iter()
        .map(|d| {
            let spread = |s: Option<crate::insights::figures::Spread>| {
                or_unknown(
                    i,
                    s.map(|s| format!("{} / {}", i.decimal(s.median, 1), i.decimal(s.p90, 1))),
                )
            };
            (
                name(&d.name),
                vec![
                    i.number(d.orders),
                    spread(d.to_ship),
                    spread(d.transit),
                    or_unknown(i, d.on_time.map(|s| i.percent(s))),
                    or_unknown(i, d.problems_per_1000().map(|x| i.decimal(x, 1))),
                ],
            )
        })
        .collect()
}

fn delivery_cols(i: &I18n, first: &str) -> Vec<String> {
    vec![
        i.t(first),
        i.t("insights.col_orders"),
        i.t("insights.col_to_ship"),
        i.t("insights.col_transit"),
        i.t("insights.col_on_time"),
        i.t("insights.col_problems"),
    ]
}

/// The period and shop form: links for the usual periods, dates for any.
fn period_form(i: &I18n, v: &InsightsView) -> AnyView {
    let shop_q = v
        .report
        .shop
        .as_ref()
        .map(|s| {
            let q: String = form_urlencoded::byte_serialize(s.as_bytes()).collect();
            format!("&shop={q}")
        })
        .unwrap_or_default();
    let links = PERIODS
        .into_iter()
        .map(|d| {
            let current = v.days == Some(d);
            view! {
                <li>
                    <a href=format!("/staff/insights?days={d}{shop_q}") aria-current=current.then_some("page")>
                        {i.tf("insights.last_days", &[("n", &d.to_string())])}
                    </a>
                </li>
            }
        })
        .collect_view();
    let shops = (v.shops.len() > 1).then(|| {
        let options = v
            .shops
            .iter()
            .map(|s| {
                let selected = v.report.shop.as_deref() == Some(s.as_str());
                view! { <option value=s.clone() selected=selected>{s.clone()}</option> }
            })
            .collect_view();
        view! {
            <label for="insights-shop">{i.t("insights.shop")}</label>
            <select id="insights-shop" name="shop">
                <option value="" selected=v.report.shop.is_none()>{i.t("insights.all_shops")}</option>
                {options}
            </select>
        }
    });
    let notice = v
        .bad_dates
        .then(|| view! { <p class="notice" role="alert">{i.t("insights.bad_dates")}</p> });
    view! {
        {notice}
        <nav aria-label=i.t("insights.period")>
            <ul class="inline-list">{links}</ul>
        </nav>
        <form method="get" action="/staff/insights" class="inline-form insights-dates">
            <fieldset>
                <legend>{i.t("insights.dates")}</legend>
                <label for="insights-from">{i.t("insights.from")}</label>
                <input id="insights-from" type="date" name="from" required value=v.report.period.from.to_string() />
                <label for="insights-to">{i.t("insights.to")}</label>
                <input id="insights-to" type="date" name="to" required value=v.report.period.to.to_string() />
                {shops}
                <button type="submit">{i.t("insights.show")}</button>
            </fieldset>
        </form>
    }
    .into_any()
}

fn self_service(i: &I18n, v: &InsightsView, csv: &dyn Fn(&str) -> String) -> AnyView {
    let r = &v.report;
    let days: Vec<NaiveDate> = r.activity.iter().map(|a| a.day).collect();
    let labels: Vec<String> = days.iter().map(|d| i.date(*d)).collect();
    let sum = |f: fn(&crate::insights::figures::DayActivity) -> u64| {
        r.activity.iter().map(f).sum::<u64>()
    };
    let share = match r.looked_share() {
        Some(s) => i.tf(
            "insights.looked_share",
            &[("share", &i.percent(s)), ("n", &i.number(r.orders_placed))],
        ),
        None => i.t("insights.no_orders"),
    };
    let totals = i.tf(
        "insights.totals",
        &[
            ("views", &i.number(sum(|a| a.views))),
            ("found", &i.number(sum(|a| a.lookups_found))),
            ("missed", &i.number(sum(|a| a.lookups_missed))),
            ("opened", &i.number(sum(|a| a.links_opened))),
        ],
    );
    let from = i.date(r.period.from);
    let to = i.date(r.period.to);
    let activity_chart = Chart {
        shape: Shape::Lines,
        title: i.t("insights.chart_activity"),
        description: i.tf(
            "insights.chart_activity_desc",
            &[("from", &from), ("to", &to)],
        ),
        labels: labels.clone(),
        series: vec![
            Series {
                name: i.t("insights.col_views"),
                values: r.activity.iter().map(|a| a.views as f64).collect(),
            },
            Series {
                name: i.t("insights.col_found"),
                values: r.activity.iter().map(|a| a.lookups_found as f64).collect(),
            },
            Series {
                name: i.t("insights.col_opened"),
                values: r.activity.iter().map(|a| a.links_opened as f64).collect(),
            },
        ],
    };
    let cols = [
        "insights.col_day",
        "insights.col_views",
        "insights.col_found",
        "insights.col_missed",
        "insights.col_opened",
        "insights.col_requested",
        "insights.col_sent",
        "insights.col_opt_outs",
    ]
    .into_iter()
    .map(|k| i.t(k))
    .collect();
    let rows = r
        .activity
        .iter()
        .zip(&labels)
        .map(|(a, label)| {
            (
                label.clone(),
                [
                    a.views,
                    a.lookups_found,
                    a.lookups_missed,
                    a.links_opened,
                    a.links_requested,
                    a.emails_sent,
                    a.opt_outs,
                ]
                .into_iter()
                .map(|n| i.number(n))
                .collect(),
            )
        })
        .collect();
    let activity = figure(
        "activity",
        i.t("insights.chart_activity"),
        Some(activity_chart),
        table(cols, rows),
        true,
        csv("activity"),
    );
    let event = |e: &str| i.enum_text("email_event", e, &[("status", e)]);
    let emails = if r.sent_by_event.is_empty() {
        view! { <p>{i.t("insights.none")}</p> }.into_any()
    } else {
        let chart = Chart {
            shape: Shape::Across,
            title: i.t("insights.chart_emails"),
            description: i.t("insights.chart_emails_desc"),
            labels: r.sent_by_event.iter().map(|(e, _)| event(e)).collect(),
            series: vec![Series {
                name: i.t("insights.col_count"),
                values: r.sent_by_event.iter().map(|(_, n)| *n as f64).collect(),
            }],
        };
        let rows = r
            .sent_by_event
            .iter()
            .map(|(e, n)| (event(e), vec![i.number(*n)]))
            .collect();
        figure(
            "emails",
            i.t("insights.chart_emails"),
            Some(chart),
            table(
                vec![i.t("insights.col_event"), i.t("insights.col_count")],
                rows,
            ),
            false,
            csv("emails"),
        )
    };
    view! {
        <section aria-labelledby="self-service">
            <h2 id="self-service">{i.t("insights.self_service")}</h2>
            <p>{i.t("insights.self_service_intro")}</p>
            <p>{share}</p>
            <p>{totals}</p>
            {activity}
            {emails}
        </section>
    }
    .into_any()
}

fn delivery(i: &I18n, v: &InsightsView, csv: &dyn Fn(&str) -> String) -> AnyView {
    let r = &v.report;
    let carriers = if r.by_carrier.is_empty() {
        view! { <p>{i.t("insights.none")}</p> }.into_any()
    } else {
        let with_transit: Vec<&Delivery> = r
            .by_carrier
            .iter()
            .filter(|d| d.transit.is_some())
            .collect();
        let chart = (!with_transit.is_empty()).then(|| Chart {
            shape: Shape::Bars,
            title: i.t("insights.chart_carriers"),
            description: i.t("insights.chart_carriers_desc"),
            labels: with_transit.iter().map(|d| d.name.clone()).collect(),
            series: vec![
                Series {
                    name: i.t("insights.median"),
                    values: with_transit
                        .iter()
                        .map(|d| d.transit.map_or(0.0, |s| s.median))
                        .collect(),
                },
                Series {
                    name: i.t("insights.p90"),
                    values: with_transit
                        .iter()
                        .map(|d| d.transit.map_or(0.0, |s| s.p90))
                        .collect(),
                },
            ],
        });
        figure(
            "carriers",
            i.t("insights.chart_carriers"),
            chart,
            table(
                delivery_cols(i, "insights.col_carrier"),
                delivery_rows(i, &r.by_carrier, str::to_string),
            ),
            false,
            csv("carriers"),
        )
    };
    let countries = (!r.by_country.is_empty()).then(|| {
        view! {
            <h3>{i.t("insights.by_country")}</h3>
            {table(
                delivery_cols(i, "insights.col_country"),
                delivery_rows(i, &r.by_country, |c| i.country_or_name(c)),
            )}
            <p><a href=csv("countries") download>{i.t("insights.csv")}</a></p>
        }
    });
    view! {
        <section aria-labelledby="delivery">
            <h2 id="delivery">{i.t("insights.delivery")}</h2>
            <p>{i.t("insights.delivery_intro")}</p>
            {carriers}
            {countries}
        </section>
    }
    .into_any()
}

fn work(i: &I18n, v: &InsightsView, csv: &dyn Fn(&str) -> String) -> AnyView {
    let r = &v.report;
    let reason = |x: &str| i.enum_text("hold_reason", x, &[("status", x)]);
    let holds = if r.holds.is_empty() {
        view! { <h3>{i.t("insights.chart_holds")}</h3><p>{i.t("insights.none")}</p> }.into_any()
    } else {
        let chart = Chart {
            shape: Shape::Across,
            title: i.t("insights.chart_holds"),
            description: i.t("insights.chart_holds_desc"),
            labels: r.holds.iter().map(|h| reason(&h.reason)).collect(),
            series: vec![Series {
                name: i.t("insights.col_on_hold"),
                values: r.holds.iter().map(|h| h.now as f64).collect(),
            }],
        };
        let rows = r
            .holds
            .iter()
            .map(|h| {
                (
                    reason(&h.reason),
                    vec![i.number(h.now), i.number(h.begun.iter().sum())],
                )
            })
            .collect();
        figure(
            "holds",
            i.t("insights.chart_holds"),
            Some(chart),
            table(
                vec![
                    i.t("insights.col_reason"),
                    i.t("insights.col_on_hold"),
                    i.t("insights.col_begun"),
                ],
                rows,
            ),
            false,
            csv("holds"),
        )
    };
    let labels: Vec<String> = r.work.iter().map(|w| i.date(w.day)).collect();
    let problems_chart = Chart {
        shape: Shape::Lines,
        title: i.t("insights.chart_problems"),
        description: i.tf(
            "insights.chart_problems_desc",
            &[
                ("from", &i.date(r.period.from)),
                ("to", &i.date(r.period.to)),
            ],
        ),
        labels: labels.clone(),
        series: vec![
            Series {
                name: i.t("insights.col_opened_problems"),
                values: r.work.iter().map(|w| w.opened as f64).collect(),
            },
            Series {
                name: i.t("insights.col_handled"),
                values: r.work.iter().map(|w| w.handled as f64).collect(),
            },
        ],
    };
    let problems = figure(
        "problems",
        i.t("insights.chart_problems"),
        Some(problems_chart),
        table(
            vec![
                i.t("insights.col_day"),
                i.t("insights.col_opened_problems"),
                i.t("insights.col_handled"),
            ],
            r.work
                .iter()
                .zip(&labels)
                .map(|(w, l)| (l.clone(), vec![i.number(w.opened), i.number(w.handled)]))
                .collect(),
        ),
        true,
        csv("problems"),
    );
    let statuses = if v.status_titles.is_empty() {
        view! { <p>{i.t("insights.no_statuses")}</p> }.into_any()
    } else {
        let rows = r
            .statuses
            .iter()
            .map(|s| {
                let title = v
                    .status_titles
                    .iter()
                    .find(|(id, _)| *id == s.id)
                    .map_or_else(|| s.id.clone(), |(_, t)| t.clone());
                (
                    title,
                    vec![
                        i.number(s.orders),
                        or_unknown(i, s.average_hours.map(|h| i.decimal(h, 1))),
                    ],
                )
            })
            .collect();
        view! {
            <p>{i.t("insights.statuses_intro")}</p>
            {table(
                vec![i.t("insights.col_status"), i.t("insights.col_orders"), i.t("insights.col_hours")],
                rows,
            )}
            <p><a href=csv("statuses") download>{i.t("insights.csv")}</a></p>
        }
        .into_any()
    };
    let why = |x: &str| i.enum_text("return_reason", x, &[("status", x)]);
    let rate = match r.returns.per_100() {
        Some(rate) => i.tf(
            "insights.returns_rate",
            &[
                ("rate", &i.decimal(rate, 1)),
                ("returns", &i.number(r.returns.returns)),
                ("n", &i.number(r.returns.orders)),
            ],
        ),
        None => i.t("insights.no_orders"),
    };
    let reasons = (!r.returns.reasons.is_empty()).then(|| {
        let chart = Chart {
            shape: Shape::Across,
            title: i.t("insights.chart_returns"),
            description: i.t("insights.chart_returns_desc"),
            labels: r.returns.reasons.iter().map(|(x, _)| why(x)).collect(),
            series: vec![Series {
                name: i.t("insights.col_items"),
                values: r.returns.reasons.iter().map(|(_, n)| *n as f64).collect(),
            }],
        };
        figure(
            "returns",
            i.t("insights.chart_returns"),
            Some(chart),
            table(
                vec![i.t("insights.col_reason"), i.t("insights.col_items")],
                r.returns
                    .reasons
                    .iter()
                    .map(|(x, n)| (why(x), vec![i.number(*n)]))
                    .collect(),
            ),
            false,
            csv("returns"),
        )
    });
    view! {
        <section aria-labelledby="work">
            <h2 id="work">{i.t("insights.work")}</h2>
            {holds}
            {problems}
            <h3>{i.t("insights.statuses")}</h3>
            {statuses}
            <h3>{i.t("insights.returns")}</h3>
            <p>{rate}</p>
            {reasons}
        </section>
    }
    .into_any()
}

/// The insights page of `v`, for the staff member `who`.
pub fn insights_page(who: String, v: InsightsView) -> Page {
    let i = chrome().i18n;
    let query = v.query();
    let csv = move |chart: &str| format!("/staff/insights.csv?chart={chart}&{query}");
    let body = view! {
        <p>{i.t("insights.intro")}</p>
        {period_form(&i, &v)}
        {self_service(&i, &v, &csv)}
        {delivery(&i, &v, &csv)}
        {work(&i, &v, &csv)}
    };
    super::console_page(who, i.t("insights.title"), true, body.into_any())
}
