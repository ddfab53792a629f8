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
    /// `staff:alex`, `rule`, `system`.
    pub by: String,
    /// `status.set`, `link.share`, `problem.handled`, ...
    pub action: String,
    /// What the action was on, by name: `status` (a status id), `days`,
    /// `units` and `tracking`, `until` (RFC 3339), `problem` (a kind).
    pub args: Vec<(String, String)>,
    /// A note staff wrote with it.
    pub note: Option<String>,
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
    /// The customer's language (for the message staff send them).
    pub customer: crate::i18n::Lang,
    /// The order's problems now (`on_hold`, since when), by the
    /// merchant's thresholds; handled ones left out.
    pub problems: Vec<(String, DateTime<Utc>)>,
    /// The signed-in person's name.
    pub me: String,
    pub now: DateTime<Utc>,
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
                ("by", &who_did(i, &c.by)),
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
                    {format!(" · {}", who_did(i, &c.by))}
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

/// The order's place in the problem queue: its problems now, who took
/// it, until when it is snoozed, what was handled; and the forms to work
/// it (agents). Nothing when there is nothing to say.
pub(super) fn desk_card(
    i: &I18n,
    order: &Order,
    base: &str,
    tools: &OrderTools,
) -> Option<AnyView> {
    let desk = &order.desk;
    if tools.problems.is_empty() && desk.is_empty() {
        return None;
    }
    let here = base.to_string();
    let action = format!("{base}/problem");
    let problems = tools
        .problems
        .iter()
        .map(|(kind, since)| {
            let form = tools.can_change.then(|| {
                let id = format!("desk-note-{kind}");
                view! {
                    <form method="post" action=action.clone() class="inline-form">
                        <input type="hidden" name="back" value=here.clone() />
                        <input type="hidden" name="do" value="handled" />
                        <input type="hidden" name="kind" value=kind.clone() />
                        <label for=id.clone()>{i.t("desk.note")}</label>
                        <input id=id type="text" name="note" maxlength="500" />
                        <button type="submit">{i.t("desk.handled")}</button>
                    </form>
                }
            });
            view! {
                <li>
                    <strong>{i.t(&format!("tools.problem_{kind}"))}</strong>
                    " "
                    <span class="meta">{i.tf("desk.since", &[("date", &i.date_time(*since))])}</span>
                    {form}
                </li>
            }
        })
        .collect_view();
    let taken = match &desk.taken_by {
        Some(name) if *name == tools.me => i.t("desk.taken_by_you"),
        Some(name) => i.tf("desk.taken_by", &[("name", name)]),
        None => i.t("desk.nobody"),
    };
    let snoozed = desk.snoozed_until.filter(|u| *u > tools.now).map(|u| {
        let text = i.tf(
            "desk.snoozed_until",
            &[("date", &i.long_date(i.local_date(u)))],
        );
        view! { <p>{text}</p> }
    });
    let handled = desk
        .handled
        .iter()
        .rev()
        .map(|h| {
            let who = h.by.strip_prefix("staff:").unwrap_or(&h.by).to_string();
            let text = i.tf(
                "desk.handled_by",
                &[
                    ("problem", &i.t(&format!("tools.problem_{}", h.kind))),
                    ("name", &who),
                    ("date", &i.date_time(h.at)),
                ],
            );
            let note = h.note.clone().map(
                |n| view! { <br /><span class="meta">{i.tf("activity.note", &[("note", &n)])}</span> },
            );
            view! { <li>{text}{note}</li> }
        })
        .collect_view();
    let forms = tools.can_change.then(|| {
        let mine = desk.taken_by.as_deref() == Some(tools.me.as_str());
        let (act, label) = if mine {
            ("release", i.t("desk.release"))
        } else {
            ("take", i.t("desk.take"))
        };
        let tomorrow = (i.local_date(tools.now) + chrono::Duration::days(1))
            .format("%Y-%m-%d")
            .to_string();
        let unsnooze = desk.snooze_active(tools.now).then(|| {
            view! {
                <form method="post" action=action.clone()>
                    <input type="hidden" name="back" value=here.clone() />
                    <input type="hidden" name="do" value="unsnooze" />
                    <button type="submit" class="secondary">{i.t("desk.unsnooze")}</button>
                </form>
            }
        });
        view! {
            <div class="problem-work">
                <form method="post" action=action.clone()>
                    <input type="hidden" name="back" value=here.clone() />
                    <input type="hidden" name="do" value=act />
                    <button type="submit" class="secondary">{label}</button>
                </form>
                <form method="post" action=action.clone() class="inline-form">
                    <input type="hidden" name="back" value=here.clone() />
                    <input type="hidden" name="do" value="snooze" />
                    <label for="desk-until">{i.t("desk.snooze_until")}</label>
                    <input id="desk-until" type="date" name="until" required min=tomorrow.clone() value=tomorrow />
                    <button type="submit" class="secondary">{i.t("desk.snooze")}</button>
                </form>
                {unsnooze}
            </div>
        }
    });
    Some(
        view! {
            <section class="card" aria-labelledby="desk-title">
                <h2 id="desk-title">{i.t("desk.title")}</h2>
                {(!tools.problems.is_empty()).then(|| view! { <ul class="plain">{problems}</ul> })}
                <p>{taken}</p>
                {snoozed}
                {(!desk.handled.is_empty()).then(|| view! { <ul class="plain">{handled}</ul> })}
                {forms}
            </section>
        }
        .into_any(),
    )
}

/// The order's activity: what staff and rules did to it.
pub(super) fn activity_card(i: &I18n, tools: &OrderTools) -> impl IntoView + use<> {
    let lines = &tools.audit;
    let title_of = |id: &str| {
        tools
            .statuses
            .iter()
            .find(|s| s.id == id)
            .map_or_else(|| i.stage(id), |s| s.title.clone())
    };
    let body = if lines.is_empty() {
        view! { <p class="meta">{i.t("tools.activity_none")}</p> }.into_any()
    } else {
        let items = lines
            .iter()
            .map(|l| {
                let note = l
                    .note
                    .as_ref()
                    .map(|n| view! { <br /><span class="meta">{i.tf("activity.note", &[("note", n)])}</span> });
                view! {
                    <li>
                        <span class="meta">{i.date_time(l.at)}</span>
                        " "
                        {activity_sentence(i, l, &title_of)}
                        {note}
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

/// Who did something, as staff read it: `staff:alex` is "alex" (a bulk
/// change keeps its "(bulk …)"), `rule` "A rule", `system` "The site".
pub(super) fn who_did(i: &I18n, by: &str) -> String {
    match by {
        "rule" => i.t("activity.who_rule"),
        "system" => i.t("activity.who_system"),
        _ => by.strip_prefix("staff:").unwrap_or(by).to_string(),
    }
}

/// An audit line as a sentence in the console's language: "alex set the
/// status to “In production”." `title_of` names a merchant status.
pub fn activity_sentence(i: &I18n, l: &AuditLine, title_of: &dyn Fn(&str) -> String) -> String {
    let who = who_did(i, &l.by);
    let arg = |k: &str| {
        l.args
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let mut args: Vec<(&str, String)> = vec![("who", who), ("action", l.action.clone())];
    match l.action.as_str() {
        "status.set" => args.push(("status", title_of(arg("status")))),
        "link.share" => {
            let days = arg("days").parse::<u64>().unwrap_or(0);
            args.push(("days", i.plural(days, "staff.day", "staff.days")));
        }
        "shopify.ship" | "shopify.tracking" => {
            let units = arg("units").parse::<u64>().unwrap_or(0);
            args.push(("units", i.plural(units, "activity.item", "activity.items")));
            args.push(("tracking", arg("tracking").to_string()));
        }
        "shopify.scan" => args.push(("status", super::humanize(arg("status")))),
        "problem.snooze" => {
            let date = DateTime::parse_from_rfc3339(arg("until"))
                .map(|t| i.long_date(i.local_date(t.to_utc())))
                .unwrap_or_default();
            args.push(("date", date));
        }
        "problem.handled" => {
            args.push(("problem", i.t(&format!("tools.problem_{}", arg("problem")))))
        }
        _ => {}
    }
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    i.enum_text("activity", &l.action.replace('.', "_"), &args)
}

/// One row of the problem-orders queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProblemLine {
    pub href: String,
    pub name: String,
    pub customer: Option<String>,
    pub email: String,
    /// `on_hold`, `late`, ...
    pub reason: String,
    pub since: DateTime<Utc>,
    /// An order on hold: each hold's reason (`awaiting_payment`, ...) and
    /// the merchant's note.
    pub holds: Vec<(String, Option<String>)>,
    pub taken_by: Option<String>,
}

/// The problem queue as asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProblemsView {
    /// Per reason, how many (of `who`'s).
    pub counts: Vec<(String, usize)>,
    /// The reason listed, or all.
    pub only: Option<String>,
    /// Whose: empty (everyone's), `me`, `nobody`, or a name.
    pub who: String,
    pub rows: Vec<ProblemLine>,
    /// Whether the signed-in person may work the queue (agents, admins).
    pub can_change: bool,
    /// The signed-in person's name.
    pub me: String,
    pub now: DateTime<Utc>,
    /// The day a snooze offers first (tomorrow).
    pub snooze_default: chrono::NaiveDate,
    /// What the last action did.
    pub notice: Option<(String, bool)>,
}

/// The queue's address for a reason and whose.
fn problems_href(reason: Option<&str>, who: &str) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if let Some(r) = reason {
        q.append_pair("reason", r);
    }
    if !who.is_empty() {
        q.append_pair("who", who);
    }
    let q = q.finish();
    if q.is_empty() {
        "/staff/problems".into()
    } else {
        format!("/staff/problems?{q}")
    }
}

/// How long ago, in the largest whole unit (minutes, hours or days).
fn age(i: &I18n, secs: i64) -> String {
    let secs = secs.max(60) as u64;
    if secs < 3600 {
        i.plural(secs / 60, "time.minute", "time.minutes")
    } else if secs < 48 * 3600 {
        i.plural(secs / 3600, "time.hour", "time.hours")
    } else {
        i.plural(secs / 86_400, "staff.day", "staff.days")
    }
}

/// `/staff/problems`: the orders that need a person, with who took each
/// and the forms to take, snooze or mark one handled.
pub fn problems_page(who: String, v: ProblemsView) -> Page {
    let i = chrome().i18n;
    let total: usize = v.counts.iter().map(|(_, n)| n).sum();
    let here = problems_href(v.only.as_deref(), &v.who);
    let reasons = v
        .counts
        .iter()
        .map(|(reason, n)| {
            let label = format!("{} ({})", i.t(&format!("tools.problem_{reason}")), i.number(*n as u64));
            let current = v.only.as_deref() == Some(reason.as_str());
            view! {
                <li>
                    <a href=problems_href(Some(reason), &v.who) aria-current=current.then_some("page")>
                        {label}
                    </a>
                </li>
            }
        })
        .collect_view();
    let whose = [
        ("", "desk.who_all"),
        ("me", "desk.who_me"),
        ("nobody", "desk.who_nobody"),
    ]
    .into_iter()
    .map(|(w, key)| {
        let current = v.who == w || (w == "me" && v.who == v.me);
        view! {
            <li>
                <a href=problems_href(v.only.as_deref(), w) aria-current=current.then_some("page")>
                    {i.t(key)}
                </a>
            </li>
        }
    })
    .collect_view();
    let notice = v.notice.clone().map(|(text, ok)| super::notice(text, ok));
    let body = if v.rows.is_empty() {
        view! { <p>{i.t("tools.problems_none")}</p> }.into_any()
    } else {
        let rows = v
            .rows
            .iter()
            .enumerate()
            .map(|(n, r)| problem_row(&i, &v, &here, n, r))
            .collect_view();
        view! { <ol class="problem-list">{rows}</ol> }.into_any()
    };
    let body = view! {
        {notice}
        <p>{i.tf("tools.problems_intro", &[("n", &i.number(total as u64))])}</p>
        <nav aria-label=i.t("tools.col_reason")>
            <ul class="inline-list">
                <li><a href=problems_href(None, &v.who) aria-current=v.only.is_none().then_some("page")>{i.t("tools.problems_all")}</a></li>
                {reasons}
            </ul>
        </nav>
        <nav aria-label=i.t("desk.who_label")>
            <ul class="inline-list">{whose}</ul>
        </nav>
        {body}
    };
    super::console_page(who, i.t("tools.problems"), true, body.into_any())
}

/// One problem: what, whose, since when, and (for agents) the work forms.
fn problem_row(i: &I18n, v: &ProblemsView, here: &str, n: usize, r: &ProblemLine) -> AnyView {
    let action = format!("{}/problem", r.href);
    let customer = match &r.customer {
        Some(c) if !c.is_empty() => format!("{c} · {}", r.email),
        _ => r.email.clone(),
    };
    let holds = r
        .holds
        .iter()
        .map(|(reason, note)| {
            let words = i.enum_text("hold_reason", reason, &[]);
            let text = match note {
                Some(n) if !n.trim().is_empty() => format!("{words}: {n}"),
                _ => words,
            };
            view! { <li>{text}</li> }
        })
        .collect_view();
    let taken = match &r.taken_by {
        Some(name) if *name == v.me => i.t("desk.taken_by_you"),
        Some(name) => i.tf("desk.taken_by", &[("name", name)]),
        None => i.t("desk.nobody"),
    };
    let problem = i.t(&format!("tools.problem_{}", r.reason));
    let forms = v.can_change.then(|| {
        let mine = r.taken_by.as_deref() == Some(v.me.as_str());
        let (act, label) = if mine {
            ("release", i.t("desk.release"))
        } else {
            ("take", i.t("desk.take"))
        };
        let until_id = format!("until-{n}");
        let note_id = format!("note-{n}");
        let min = (v.snooze_default).format("%Y-%m-%d").to_string();
        view! {
            <div class="problem-work">
                <form method="post" action=action.clone()>
                    <input type="hidden" name="back" value=here.to_string() />
                    <input type="hidden" name="do" value=act />
                    <button type="submit" class="secondary" aria-label=format!("{label}: {}", r.name)>{label.clone()}</button>
                </form>
                <form method="post" action=action.clone() class="inline-form">
                    <input type="hidden" name="back" value=here.to_string() />
                    <input type="hidden" name="do" value="snooze" />
                    <label for=until_id.clone()>{i.t("desk.snooze_until")}</label>
                    <input id=until_id type="date" name="until" required min=min.clone() value=min />
                    <button type="submit" class="secondary" aria-label=format!("{}: {}", i.t("desk.snooze"), r.name)>{i.t("desk.snooze")}</button>
                </form>
                <form method="post" action=action class="inline-form">
                    <input type="hidden" name="back" value=here.to_string() />
                    <input type="hidden" name="do" value="handled" />
                    <input type="hidden" name="kind" value=r.reason.clone() />
                    <label for=note_id.clone()>{i.t("desk.note")}</label>
                    <input id=note_id type="text" name="note" maxlength="500" />
                    <button type="submit" aria-label=format!("{}: {}", i.t("desk.handled"), r.name)>{i.t("desk.handled")}</button>
                </form>
            </div>
        }
    });
    let since = (v.now - r.since).num_seconds();
    view! {
        <li class="card problem">
            <h2 class="problem-title">
                <a href=r.href.clone()>{r.name.clone()}</a>
                " "
                <span class="badge">{problem}</span>
            </h2>
            <p>{customer}</p>
            <p class="meta">
                {i.tf("desk.for", &[("age", &age(i, since))])}
                " ("{i.date_time(r.since)}")"
            </p>
            {(!r.holds.is_empty()).then(|| view! { <ul class="holds">{holds}</ul> })}
            <p class="taken">{taken}</p>
            {forms}
        </li>
    }
    .into_any()
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
        i.plural(
            found.total as u64,
            "tools.bulk_intro_one",
            "tools.bulk_intro",
        )
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
            <p>{i.plural_tf(job.total as u64, "tools.bulk_confirm_q_one", "tools.bulk_confirm_q", &[("status", &what), ("search", &job.search)])}</p>
            {job.effect.map(|(changes, emails)| view! {
                <p><strong>{i.tf("tools.bulk_effect", &[
                    ("changes", &i.number(changes as u64)),
                    ("emails", &i.number(emails as u64)),
                ])}</strong></p>
            })}
            {job.note.clone().map(|note| view! { <p class="meta">{i.tf("tools.bulk_note", &[("note", &note)])}</p> })}
            {job.can_change.then(|| confirm_form(i.plural(job.total as u64, "tools.bulk_confirm_one", "tools.bulk_confirm")))}
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
                <h2>{i.plural(job.refused.len() as u64, "tools.bulk_refused_one", "tools.bulk_refused")}</h2>
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
