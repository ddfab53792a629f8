//! The merchant's tools in the console: an order's status (set, clear,
//! history) and its activity (the audit log), the problem-orders queue,
//! and bulk status changes with their confirmation and progress.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::super::status::percent_encode;
use super::super::{Page, chrome};
use crate::i18n::I18n;
use crate::order::Order;

/// One of the merchant's statuses, as a choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusChoice {
    pub id: String,
    /// In the console's language.
    pub title: String,
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditLine {
    pub at: DateTime<Utc>,
    pub by: String,
    pub action: String,
    pub detail: String,
}

/// What the order page offers beyond reading.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderTools {
    pub statuses: Vec<StatusChoice>,
    /// Whether the signed-in person may change orders (agent or admin).
    pub can_change: bool,
    /// The order's audit lines, newest first.
    pub audit: Vec<AuditLine>,
    /// What may be done in Shopify.
    pub shopify: super::fulfillment::ShopifyTools,
}

/// The order's status card: now, the form, the history.
pub(super) fn status_card(
    i: &I18n,
    order: &Order,
    base: &str,
    tools: &OrderTools,
) -> impl IntoView + use<> {
    let title_of = |id: &str| {
        tools
            .statuses
            .iter()
            .find(|s| s.id == id)
            .map_or_else(|| id.to_string(), |s| s.title.clone())
    };
    let now = match order.custom_status() {
        Some(c) => i.tf(
            "tools.status_now",
            &[
                ("status", &title_of(c.status.as_deref().unwrap_or(""))),
                ("date", &i.date_time(c.at)),
                ("by", &c.by),
            ],
        ),
        None => i.t("tools.status_none"),
    };
    let current = order.custom_status().and_then(|c| c.status.clone());
    let form = if tools.statuses.is_empty() {
        view! { <p class="meta">{i.t("tools.no_statuses")}</p> }.into_any()
    } else if !tools.can_change {
        view! { <p class="meta">{i.t("tools.viewer_only")}</p> }.into_any()
    } else {
        let options = tools
            .statuses
            .iter()
            .map(|s| {
                view! {
                    <option value=s.id.clone() selected=current.as_deref() == Some(s.id.as_str())>
                        {s.title.clone()}
                    </option>
                }
            })
            .collect_view();
        view! {
            <form method="post" action=format!("{base}/status") class="stack-form">
                <label for="status">{i.t("tools.status_label")}</label>
                // Nothing chosen until staff choose: the placeholder is
                // not sent, and the server refuses a form without a status.
                <select id="status" name="status" required>
                    <option value="" disabled selected=current.is_none()>{i.t("tools.status_choose")}</option>
                    <option value="">{i.t("tools.status_clear")}</option>
                    {options}
                </select>
                <label for="note">{i.t("tools.status_note")}</label>
                <textarea id="note" name="note" maxlength="500" rows="2"></textarea>
                <button type="submit">{i.t("tools.status_save")}</button>
            </form>
        }
        .into_any()
    };
    let history = order
        .status_history
        .iter()
        .rev()
        .map(|c| {
            let what = c
                .status
                .as_deref()
                .map_or_else(|| i.t("tools.status_cleared"), &title_of);
            view! {
                <li>
                    {format!("{} · ", i.date_time(c.at))}
                    <strong>{what}</strong>
                    {format!(" · {}", c.by)}
                    {c.note.clone().map(|n| view! { <br /><span class="meta">{n}</span> })}
                </li>
            }
        })
        .collect_view();
    let has_history = !order.status_history.is_empty();
    view! {
        <section class="card" aria-labelledby="status-card-title">
            <h2 id="status-card-title">{i.t("tools.status_title")}</h2>
            <p>{now}</p>
            {form}
            {has_history.then(|| view! {
                <h3>{i.t("tools.status_history")}</h3>
                <ol class="events">{history}</ol>
            })}
        </section>
    }
}

/// The order's activity: what staff and rules did to it.
pub(super) fn activity_card(i: &I18n, lines: &[AuditLine]) -> impl IntoView + use<> {
    let body = if lines.is_empty() {
        view! { <p class="meta">{i.t("tools.activity_none")}</p> }.into_any()
    } else {
        let items = lines
            .iter()
            .map(|l| {
                view! {
                    <li>
                        {format!("{} · {} · ", i.date_time(l.at), l.by)}
                        <strong>{l.action.clone()}</strong>
                        {format!(" {}", l.detail)}
                    </li>
                }
            })
            .collect_view();
        view! { <ol class="events">{items}</ol> }.into_any()
    };
    view! {
        <section class="card" aria-labelledby="activity-title">
            <h2 id="activity-title">{i.t("tools.activity")}</h2>
            {body}
        </section>
    }
}

/// One row of the problem-orders queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProblemLine {
    pub href: String,
    pub name: String,
    /// `on_hold`, `late`, ...
    pub reason: String,
    pub since: DateTime<Utc>,
}

/// `/staff/problems`.
pub fn problems_page(
    who: String,
    counts: Vec<(String, usize)>,
    only: Option<String>,
    rows: Vec<ProblemLine>,
) -> Page {
    let i = chrome().i18n;
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    let filters = counts
        .iter()
        .map(|(reason, n)| {
            let label = format!("{} ({})", i.t(&format!("tools.problem_{reason}")), i.number(*n as u64));
            let current = only.as_deref() == Some(reason.as_str());
            view! {
                <li>
                    <a href=format!("/staff/problems?reason={reason}") aria-current=current.then_some("page")>
                        {label}
                    </a>
                </li>
            }
        })
        .collect_view();
    let body = if rows.is_empty() {
        view! { <p>{i.t("tools.problems_none")}</p> }.into_any()
    } else {
        let rows = rows
            .into_iter()
            .map(|r| {
                view! {
                    <tr>
                        <td><a href=r.href>{r.name}</a></td>
                        <td>{i.t(&format!("tools.problem_{}", r.reason))}</td>
                        <td>{i.date_time(r.since)}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table>
                <thead><tr>
                    <th scope="col">{i.t("tools.col_order")}</th>
                    <th scope="col">{i.t("tools.col_reason")}</th>
                    <th scope="col">{i.t("tools.col_since")}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let body = view! {
        <p>{i.tf("tools.problems_intro", &[("n", &i.number(total as u64))])}</p>
        <nav aria-label=i.t("tools.col_reason")>
            <ul class="inline-list">
                <li><a href="/staff/problems" aria-current=only.is_none().then_some("page")>{i.t("tools.problems_all")}</a></li>
                {filters}
            </ul>
        </nav>
        {body}
    };
    super::console_page(who, i.t("tools.problems"), true, body.into_any())
}

/// The bulk form under a search's results.
pub(super) fn bulk_form(
    i: &I18n,
    raw: &[(String, String)],
    found: &super::SearchOutcome,
    statuses: &[StatusChoice],
) -> impl IntoView + use<> {
    let n = i.number(found.total as u64);
    let intro = if found.more {
        i.tf("tools.bulk_intro_more", &[("n", &n)])
    } else {
        i.tf("tools.bulk_intro", &[("n", &n)])
    };
    let hidden = raw
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "page" | "sort"))
        .map(|(k, v)| view! { <input type="hidden" name=k.clone() value=v.clone() /> })
        .collect_view();
    let options = statuses
        .iter()
        .map(|s| view! { <option value=s.id.clone()>{s.title.clone()}</option> })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="bulk-title">
            <h2 id="bulk-title">{i.t("tools.bulk_title")}</h2>
            <p>{intro}</p>
            <form method="post" action="/staff/bulk" class="stack-form">
                {hidden}
                <label for="bulk-status">{i.t("tools.status_label")}</label>
                <select id="bulk-status" name="status" required>
                    <option value="" disabled selected>{i.t("tools.status_choose")}</option>
                    <option value="">{i.t("tools.status_clear")}</option>
                    {options}
                </select>
                <label for="bulk-note">{i.t("tools.status_note")}</label>
                <textarea id="bulk-note" name="note" maxlength="500" rows="2"></textarea>
                <button type="submit">{i.t("tools.bulk_prepare")}</button>
            </form>
        </section>
    }
}

/// A bulk change as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkView {
    pub id: String,
    /// Before confirming: how many orders it would change, and how many
    /// emails that would send.
    pub effect: Option<(usize, usize)>,
    /// The status's title, or `None` to clear.
    pub status: Option<String>,
    pub note: Option<String>,
    pub search: String,
    pub total: usize,
    /// `prepared`, `running`, `paused`, `done`.
    pub state: String,
    pub done: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub missing: Vec<String>,
    /// Orders Shopify refused, with why.
    pub refused: Vec<String>,
    pub error: Option<String>,
    pub can_change: bool,
}

/// `/staff/bulk/{id}`: confirm, watch, or read the report.
pub fn bulk_page(who: String, job: BulkView) -> Page {
    let i = chrome().i18n;
    let n = i.number(job.total as u64);
    let what = job
        .status
        .clone()
        .unwrap_or_else(|| i.t("tools.status_clear"));
    let confirm_form = |label: String| {
        view! {
            <form method="post" action=format!("/staff/bulk/{}/confirm", job.id)>
                <input type="hidden" name="count" value=job.total.to_string() />
                <button type="submit">{label}</button>
            </form>
        }
    };
    let body = match job.state.as_str() {
        "prepared" => view! {
            <p>{i.tf("tools.bulk_confirm_q", &[("status", &what), ("n", &n), ("search", &job.search)])}</p>
            {job.effect.map(|(changes, emails)| view! {
                <p><strong>{i.tf("tools.bulk_effect", &[
                    ("changes", &i.number(changes as u64)),
                    ("emails", &i.number(emails as u64)),
                ])}</strong></p>
            })}
            {job.note.clone().map(|note| view! { <p class="meta">{i.tf("tools.bulk_note", &[("note", &note)])}</p> })}
            {job.can_change.then(|| confirm_form(i.tf("tools.bulk_confirm", &[("n", &n)])))}
            <p><a href="/staff">{i.t("tools.bulk_cancel")}</a></p>
        }
        .into_any(),
        "running" => view! {
            <p role="status">{i.tf("tools.bulk_running", &[("done", &i.number(job.done as u64)), ("n", &n)])}</p>
            <p><a href=format!("/staff/bulk/{}", job.id)>{i.t("tools.bulk_refresh")}</a></p>
        }
        .into_any(),
        "paused" => view! {
            <p class="notice error" role="alert">
                {i.tf("tools.bulk_paused", &[("error", job.error.as_deref().unwrap_or("")), ("done", &i.number(job.done as u64)), ("n", &n)])}
            </p>
            {job.can_change.then(|| confirm_form(i.t("tools.bulk_resume")))}
        }
        .into_any(),
        _ => view! {
            <p class="notice ok" role="status">
                {i.tf("tools.bulk_done", &[
                    ("changed", &i.number(job.changed as u64)),
                    ("unchanged", &i.number(job.unchanged as u64)),
                    ("missing", &i.number(job.missing.len() as u64)),
                ])}
            </p>
            {(!job.refused.is_empty()).then(|| view! {
                <h2>{i.tf("tools.bulk_refused", &[("n", &i.number(job.refused.len() as u64))])}</h2>
                <ul>{job.refused.iter().take(100).map(|k| view! { <li>{k.clone()}</li> }).collect_view()}</ul>
            })}
            {(!job.missing.is_empty()).then(|| view! {
                <h2>{i.t("tools.bulk_missing")}</h2>
                <ul>{job.missing.iter().take(100).map(|k| view! { <li>{k.clone()}</li> }).collect_view()}</ul>
            })}
        }
        .into_any(),
    };
    let body = view! {
        <p><a href="/staff">{i.t("staff.back")}</a></p>
        {body}
    };
    super::console_page(who, i.t("tools.bulk_page"), false, body.into_any())
}

/// The address of an order's staff page.
pub fn order_href(shop: &str, id: u64) -> String {
    format!("/staff/orders/{}/{id}", percent_encode(shop))
}
