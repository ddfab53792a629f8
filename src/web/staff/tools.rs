//! The merchant's tools: set or clear an order's status, change a whole
//! search's orders in bulk (prepare, confirm the count, watch), the
//! problem-orders queue, and the audit log's export. Changing orders
//! needs the agent role; exporting the log, admin.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{TimeZone, Utc};
use serde::Deserialize;

use super::StaffSession;
use super::flash::{Flash, Flashed, redirect};
use super::order::render;
use crate::actions::bulk::{self, JobState, MAX_ORDERS};
use crate::actions::problems::{Work, WorkRefused};
use crate::actions::{self, ActionError, AuditEntry, write_back};
use crate::i18n::I18n;
use crate::order::order_key;
use crate::order::problems::{Assignee, ProblemKind};
use crate::staff::Role;
use crate::ui::staff::{
    BulkView, OrderAction, ProblemLine, ProblemsView, StatusChoice, is_staff_path, order_href,
};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::extract::{Named, OrderRef, WebPath};
use crate::web::extract::{WebForm, WebQuery};
use crate::web::render::{Visitor, html};

/// Rows the problem queue shows.
const PROBLEM_ROWS: usize = 200;

/// The merchant's statuses as choices, in the console's language.
pub fn status_choices(state: &AppState, i: &I18n) -> Vec<StatusChoice> {
    state
        .config
        .merchant
        .statuses
        .iter()
        .map(|s| StatusChoice {
            id: s.id.clone(),
            title: i.stage(&s.id),
        })
        .collect()
}

/// The status form.
#[derive(Debug, Default, Deserialize)]
pub struct StatusInput {
    /// Missing when staff chose nothing (the menu's placeholder is not
    /// sent); empty to clear the status.
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    note: String,
}

/// `POST /staff/orders/{shop}/{id}/status`.
pub async fn set_status(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebPath(OrderRef { shop, id }): WebPath<OrderRef>,
    WebForm(input): WebForm<StatusInput>,
) -> Result<Response, WebError> {
    let key = order_key(&shop, id);
    let order = state.store.get(&key)?.ok_or(WebError::NotFound)?;
    let change = match input.status.as_deref().map(|status| {
        actions::status_change(
            &state.config.merchant,
            status,
            &input.note,
            staff.actor(),
            Utc::now(),
        )
    }) {
        Some(Ok(c)) => c,
        refused => {
            let why = match refused {
                None => "error.status_choose_first",
                Some(Err(ActionError::LongNote)) => "tools.status_long_note",
                _ => "tools.status_unknown",
            };
            let mut res = render(
                &state,
                &visitor,
                staff,
                &shop,
                id,
                Some(OrderAction::StatusRefused(why.into())),
            )
            .await?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(res);
        }
    };
    // Shopify first: if it refuses, nothing changes here either.
    let api = super::fulfillment::write_back_api(&state, &shop);
    if let Some(api) = &api {
        let same = order.custom_status().and_then(|c| c.status.as_deref())
            == change.status.as_deref()
            && change.note.is_none();
        if !same
            && let Err(e) =
                write_back::write_status(api, id, &order.tags, change.status.as_deref()).await
        {
            tracing::info!(error = %crate::errors::chain(&e), "Shopify refused a status write-back");
            let mut res = render(
                &state,
                &visitor,
                staff,
                &shop,
                id,
                Some(OrderAction::ShopifyRefused(e.to_string())),
            )
            .await?;
            *res.status_mut() = super::fulfillment::refusal_status(&e);
            return Ok(res);
        }
    }
    let changed = actions::set_status(&state.store, &state.audit, &key, change)
        .await
        .map_err(action_error)?;
    if let Some(api) = &api
        && changed
        && let Err(e) = write_back::read_back(api, &state.store, id).await
    {
        tracing::warn!(error = %crate::errors::chain(&e), "could not read the order back after a status write-back");
    }
    if changed {
        state.mail.wake();
        tracing::info!(staff = %staff.name, "order status changed by staff");
    }
    let action = if changed {
        OrderAction::StatusSaved
    } else {
        OrderAction::StatusSame
    };
    Ok(super::order::back_to_order(&state, &shop, id, action))
}

fn action_error(e: ActionError) -> WebError {
    match e {
        ActionError::NoSuchOrder => WebError::NotFound,
        other => WebError::unavailable("a staff action", other),
    }
}

/// The problem queue's query: `reason` (one of them, or all), `who`
/// (`me`, `nobody`, a staff name, or everyone's).
#[derive(Debug, Default, Deserialize)]
pub struct ProblemsQuery {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    who: String,
}

/// Whose problems `who` asks for.
fn assignee(who: &str, me: &str) -> Assignee {
    match who.trim() {
        "" => Assignee::Anyone,
        "me" => Assignee::Taken(me.to_string()),
        "nobody" => Assignee::Nobody,
        name => Assignee::Taken(name.chars().take(64).collect()),
    }
}

/// `GET /staff/problems`.
pub async fn problems(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    Flashed(flash): Flashed,
    WebQuery(q): WebQuery<ProblemsQuery>,
) -> Result<Response, WebError> {
    let only = ProblemKind::parse(q.reason.trim());
    let now = Utc::now();
    let queue = actions::problems::queue(
        &state.store,
        &state.config.merchant.problems,
        now,
        only,
        &assignee(&q.who, &staff.name),
        PROBLEM_ROWS,
    )?;
    let counts = queue
        .counts
        .iter()
        .map(|(k, n)| (k.as_str().to_string(), *n))
        .collect();
    let rows = queue
        .rows
        .into_iter()
        .map(|r| ProblemLine {
            href: order_href(&r.shop, r.id),
            name: r.name,
            customer: r.customer,
            email: r.email,
            reason: r.kind.as_str().to_string(),
            since: r.since,
            holds: r
                .holds
                .into_iter()
                .map(|(reason, note)| (reason.as_str().to_string(), note))
                .collect(),
            taken_by: r.taken_by,
        })
        .collect();
    let i = visitor.i18n(&state);
    let view = ProblemsView {
        counts,
        only: only.map(|k| k.as_str().to_string()),
        who: q.who.trim().chars().take(64).collect(),
        rows,
        can_change: staff.role >= Role::Agent,
        me: staff.name.clone(),
        now,
        snooze_default: i.local_date(now) + chrono::Duration::days(1),
        notice: flash.and_then(Flash::notice),
    };
    Ok(html(&state, &visitor, StatusCode::OK, move || {
        crate::ui::staff::problems_page(staff.name, view)
    })
    .await)
}

/// A piece of work on a problem order: `do` (`take`, `release`,
/// `snooze` with `until` a day, `unsnooze`, `handled` with `kind` and an
/// optional `note`), and `back`, the queue's address to return to.
#[derive(Debug, Default, Deserialize)]
pub struct WorkInput {
    #[serde(default, rename = "do")]
    act: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: String,
}

/// `POST /staff/orders/{shop}/{id}/problem`: take, release, snooze or
/// mark handled; 303 back to the queue (or the order) with a notice.
pub async fn problem_work(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebPath(OrderRef { shop, id }): WebPath<OrderRef>,
    WebForm(input): WebForm<WorkInput>,
) -> Result<Response, WebError> {
    let i = visitor.i18n(&state);
    let refuse = |key| WebError::bad_request(StatusCode::UNPROCESSABLE_ENTITY, key);
    let work = match input.act.trim() {
        "take" => Work::Take,
        "release" => Work::Release,
        "unsnooze" => Work::Snooze(None),
        "snooze" => {
            let day = chrono::NaiveDate::parse_from_str(input.until.trim(), "%Y-%m-%d")
                .map_err(|_| refuse("error.snooze_range"))?;
            // The start of that day where the shop is.
            let start = day
                .and_hms_opt(0, 0, 0)
                .and_then(|t| i.tz.from_local_datetime(&t).earliest())
                .ok_or_else(|| refuse("error.snooze_range"))?;
            Work::Snooze(Some(start.with_timezone(&Utc)))
        }
        "handled" => Work::Handle {
            kind: ProblemKind::parse(input.kind.trim())
                .ok_or_else(|| refuse("error.problem_action"))?,
            note: input.note,
        },
        _ => return Err(refuse("error.problem_action")),
    };
    let key = order_key(&shop, id);
    let order = state.store.get(&key)?.ok_or(WebError::NotFound)?;
    let now = Utc::now();
    let done = match actions::problems::work(
        &state.store,
        &state.audit,
        &key,
        &staff.name,
        work.clone(),
        now,
    )
    .await
    .map_err(action_error)?
    {
        Ok(()) => work,
        Err(refused) => {
            tracing::info!(error = %refused, "problem work refused");
            return Err(refuse(match refused {
                WorkRefused::NotAProblem => "error.problem_gone",
                WorkRefused::SnoozeRange => "error.snooze_range",
                WorkRefused::LongNote => "error.handled_note_long",
            }));
        }
    };
    state.metrics.problem_work(done.action());
    tracing::info!(staff = %staff.name, action = done.action(), "problem order worked");
    let name = order.name.as_str();
    let text = match &done {
        Work::Take => i.tf("desk.done_take", &[("name", name)]),
        Work::Release => i.tf("desk.done_release", &[("name", name)]),
        Work::Snooze(Some(until)) => i.tf(
            "desk.done_snooze",
            &[("name", name), ("date", &i.long_date(i.local_date(*until)))],
        ),
        Work::Snooze(None) => i.tf("desk.done_unsnooze", &[("name", name)]),
        Work::Handle { kind, .. } => i.tf(
            "desk.done_handled",
            &[
                ("name", name),
                ("problem", &i.t(&format!("tools.problem_{}", kind.as_str()))),
            ],
        ),
    };
    let back = input.back.trim();
    let to = if is_staff_path(back) {
        back.to_string()
    } else {
        "/staff/problems".to_string()
    };
    Ok(redirect(&state, &to, &Flash::Notice { text, ok: true }))
}

/// `POST /staff/bulk`: the search's fields plus `status` and `note`.
pub async fn bulk_prepare(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebForm(raw): WebForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let get = |k: &str| {
        raw.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    // A form without a status chose nothing (the menu's placeholder is
    // not sent): not "clear every status".
    if !raw.iter().any(|(k, _)| k == "status") {
        return Err(WebError::bad_request(
            StatusCode::UNPROCESSABLE_ENTITY,
            "error.status_choose_first",
        ));
    }
    let change = actions::status_change(
        &state.config.merchant,
        &get("status"),
        &get("note"),
        staff.actor(),
        Utc::now(),
    )
    .map_err(|e| match e {
        ActionError::LongNote => {
            WebError::bad_request(StatusCode::UNPROCESSABLE_ENTITY, "error.note_too_long")
        }
        _ => WebError::bad_request(StatusCode::UNPROCESSABLE_ENTITY, "error.unknown_status"),
    })?;
    let i = visitor.i18n(&state);
    let search: Vec<(String, String)> = raw
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "status" | "note" | "page" | "sort"))
        .cloned()
        .collect();
    let (query, _) = super::search::parse_search(&search, &i);
    let store = state.store.clone();
    let (total, keys) = tokio::task::spawn_blocking(move || store.search_keys(&query, MAX_ORDERS))
        .await
        .map_err(|e| WebError::unavailable("searching the orders", e))??;
    let Some(keys) = keys else {
        tracing::info!(total, "bulk change refused: too many orders");
        return Err(WebError::bad_request(
            StatusCode::UNPROCESSABLE_ENTITY,
            "error.search_too_many",
        ));
    };
    if total == 0 {
        return Err(WebError::bad_request(
            StatusCode::UNPROCESSABLE_ENTITY,
            "error.search_empty",
        ));
    }
    let described = search_in_words(&i, &search);
    let job = state
        .jobs
        .prepare(&staff.actor(), change, described, keys)
        .await
        .map_err(action_error)?;
    Ok(crate::web::see_other(&format!("/staff/bulk/{}", job.id)))
}

/// A search in the staff's words, for the confirmation: "Payment: Paid ·
/// Fulfillment: On hold", not the form's field names and Shopify's values.
fn search_in_words(i: &I18n, search: &[(String, String)]) -> String {
    let labelled = |label: &str, value: &str| {
        i.tf(
            "email.label_value",
            &[("label", &i.t(label)), ("value", value)],
        )
    };
    let words: Vec<String> = search
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .filter_map(|(k, v)| {
            let v = v.trim();
            Some(match k.as_str() {
                "q" => labelled("staff.search_label", &format!("“{v}”")),
                "payment" => labelled("staff.payment", &i.enum_text("financial_state", v, &[])),
                "fulfillment" => labelled(
                    "staff.fulfillment",
                    &i.enum_text("fulfillment_state", v, &[]),
                ),
                "returns" => labelled("staff.returns", &i.enum_text("return_state", v, &[])),
                "state" if matches!(v, "open" | "archived" | "cancelled") => {
                    labelled("staff.state", &i.t(&format!("staff.state_{v}")))
                }
                "from" => labelled("staff.from", v),
                "to" => labelled("staff.to", v),
                _ => return None,
            })
        })
        .collect();
    if words.is_empty() {
        i.t("tools.bulk_all_orders")
    } else {
        words.join(" · ")
    }
}

/// How many of `keys` a status `change` would change, and how many emails
/// that would send (shoppers with an email who did not opt out, for a
/// status that emails and a `custom_stage` event that is on).
fn bulk_effect(
    state: &AppState,
    keys: &[String],
    change: &crate::order::StatusChange,
) -> Result<(usize, usize), WebError> {
    use crate::order::merge::{Change, Merged, apply};
    let now = Utc::now();
    let (mut changes, mut emails) = (0, 0);
    for key in keys {
        let Some(order) = state.store.get(key)? else {
            continue;
        };
        let status = Change::Status {
            key: key.clone(),
            change: change.clone(),
        };
        if let Merged::Write(new) = apply(Some(&order), status) {
            changes += 1;
            emails +=
                crate::notify::mails_for(&state.config, &state.optouts, Some(&order), &new, now)
                    .iter()
                    .filter(|m| m.state == crate::order::mail_log::MailState::Queued)
                    .count();
        }
    }
    Ok((changes, emails))
}

/// `GET /staff/bulk/{id}`.
pub async fn bulk_page(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebPath(Named { name: id }): WebPath<Named>,
) -> Result<Response, WebError> {
    let job = state
        .jobs
        .get(&id)
        .await
        .map_err(action_error)?
        .ok_or(WebError::NotFound)?;
    let i = visitor.i18n(&state);
    // Before confirming: what it would do, counted on the orders as they
    // are now (the same merge and mail rules the change itself runs).
    let effect = if job.state == JobState::Prepared {
        let (state2, keys, change) = (state.clone(), job.keys.clone(), job.change.clone());
        Some(
            tokio::task::spawn_blocking(move || bulk_effect(&state2, &keys, &change))
                .await
                .map_err(|e| WebError::unavailable("counting a bulk change", e))??,
        )
    } else {
        None
    };
    let view = BulkView {
        id: job.id.clone(),
        effect,
        status: job.change.status.as_deref().map(|s| i.stage(s)),
        note: job.change.note.clone(),
        search: job.search.clone(),
        total: job.keys.len(),
        state: match job.state {
            JobState::Prepared => "prepared",
            JobState::Running => "running",
            JobState::Paused => "paused",
            JobState::Done => "done",
        }
        .into(),
        done: job.done,
        changed: job.changed,
        unchanged: job.unchanged,
        missing: job.missing.clone(),
        refused: job.refused.clone(),
        error: job.error.clone(),
        can_change: staff.role >= Role::Agent,
    };
    Ok(html(&state, &visitor, StatusCode::OK, move || {
        crate::ui::staff::bulk_page(staff.name, view)
    })
    .await)
}

/// The confirmation: the count staff saw.
#[derive(Debug, Default, Deserialize)]
pub struct ConfirmInput {
    #[serde(default)]
    count: String,
}

/// `POST /staff/bulk/{id}/confirm`: starts (or resumes) the job.
pub async fn bulk_confirm(
    State(state): State<AppState>,
    staff: StaffSession,
    WebPath(Named { name: id }): WebPath<Named>,
    WebForm(input): WebForm<ConfirmInput>,
) -> Result<Response, WebError> {
    if state.jobs.get(&id).await.map_err(action_error)?.is_none() {
        return Err(WebError::NotFound);
    }
    let count = input.count.trim().parse::<usize>().map_err(|_| {
        WebError::bad_request(StatusCode::UNPROCESSABLE_ENTITY, "error.confirm_count")
    })?;
    let (job, started) = state
        .jobs
        .confirm(&id, count, &staff.actor())
        .await
        .map_err(|e| {
            tracing::info!(error = %crate::errors::chain(&e), "bulk confirmation refused");
            WebError::bad_request(StatusCode::CONFLICT, "error.count_changed")
        })?;
    if started {
        tracing::info!(staff = %staff.name, orders = job.keys.len(), "bulk status change started");
        // With replicas the holder of the jobs lease runs it (see
        // `run_shared_bulk_jobs`).
        if !state.jobs.is_shared() {
            spawn_bulk_job(&state, job.id.clone(), Arc::new(|| true));
        }
    }
    // Started here or already running: either way, its page.
    Ok(crate::web::see_other(&format!("/staff/bulk/{}", job.id)))
}

/// Runs a confirmed bulk job in the background while `keep_going` says
/// so (resumed from its last saved batch when the site stops before it
/// ends).
pub fn spawn_bulk_job(
    state: &AppState,
    id: String,
    keep_going: Arc<dyn Fn() -> bool + Send + Sync>,
) -> tokio::task::JoinHandle<()> {
    let (store, shopify, audit, jobs, mail) = (
        state.store.clone(),
        state.shopify.clone(),
        state.audit.clone(),
        state.jobs.clone(),
        Arc::clone(&state.mail),
    );
    state.tasks.spawn(async move {
        match bulk::run(&store, &shopify, &audit, &jobs, &id, &*keep_going).await {
            Ok(job) => tracing::info!(
                job = %id,
                changed = job.changed,
                unchanged = job.unchanged,
                missing = job.missing.len(),
                state = ?job.state,
                "bulk status change ended"
            ),
            Err(e) => tracing::error!(job = %id, error = %crate::errors::chain(&e), "bulk status change stopped"),
        }
        mail.wake();
    })
}

/// With replicas: while this replica holds the jobs lease (`holds`), runs
/// every bulk change the cluster has running, whichever replica
/// confirmed it, and takes up those whose runner died with the lease. A
/// job stops at once when the lease is lost; the next holder resumes it.
pub async fn run_shared_bulk_jobs(state: AppState, holds: tokio::sync::watch::Receiver<bool>) {
    use std::collections::HashMap;
    use std::time::{Duration, Instant};
    const LOOK_EVERY: Duration = Duration::from_secs(1);
    // A runner that ended with its job still running (an error, the lease
    // lost) is not started again at once: errors would repeat each second.
    const AGAIN_AFTER: Duration = Duration::from_secs(30);
    let mut runners: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
    let mut ended: HashMap<String, Instant> = HashMap::new();
    loop {
        tokio::time::sleep(LOOK_EVERY).await;
        runners.retain(|id, h| {
            let finished = h.is_finished();
            if finished {
                ended.insert(id.clone(), Instant::now());
            }
            !finished
        });
        ended.retain(|_, at| at.elapsed() < AGAIN_AFTER);
        if !*holds.borrow() {
            continue;
        }
        for id in state.jobs.unfinished().await {
            if runners.contains_key(&id) || ended.contains_key(&id) {
                continue;
            }
            tracing::info!(job = %id, "running a bulk status change of the cluster");
            let holds = holds.clone();
            let handle = spawn_bulk_job(&state, id.clone(), Arc::new(move || *holds.borrow()));
            runners.insert(id, handle);
        }
    }
}

/// `GET /staff/audit.ndjson`: the whole audit log (admins).
pub async fn audit_export(
    State(state): State<AppState>,
    staff: StaffSession,
) -> Result<Response, WebError> {
    let body = state
        .audit
        .export()
        .await
        .map_err(|e| WebError::unavailable("reading the audit log", e))?;
    state
        .audit
        .append(vec![AuditEntry::new(
            &staff.actor(),
            "audit.export",
            None,
            String::new(),
        )])
        .await
        .map_err(action_error)?;
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit.ndjson\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
