//! The staff console's email pages: the messages the file transport wrote
//! ("Sent emails"), one of them, and previews of every status email for
//! an order in every language. The email history of an order is on the
//! order page ([`email_history`]).

use leptos::prelude::*;

use super::super::{Page, ShopHeader, chrome};
use super::StaffBar;
use crate::i18n::I18n;
use crate::order::Order;

/// One written message, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    /// Its name (safe in a URL).
    pub name: String,
    pub subject: String,
    pub to: String,
    pub date: String,
    pub text: String,
}

/// One previewed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailPreview {
    /// Its language's name ("Svenska").
    pub title: String,
    pub subject: String,
    pub text: String,
    /// Where its HTML part opens.
    pub html_href: String,
}

/// `/staff/mail`: the newest messages of the file transport; with SMTP
/// configured (`smtp` true) there are none here, and the page says where
/// to look instead.
pub fn sent_mail_page(who: String, mails: Vec<SentMail>, smtp: bool) -> Page {
    let i = chrome().i18n;
    let title = i.t("staff.sent_title");
    let body = if smtp {
        view! { <p>{i.t("staff.sent_smtp")}</p> }.into_any()
    } else if mails.is_empty() {
        view! { <p>{i.t("staff.sent_none")}</p> }.into_any()
    } else {
        let rows = mails
            .into_iter()
            .map(|m| {
                let href = format!("/staff/mail/{}", m.name);
                view! {
                    <tr>
                        <td>{m.date}</td>
                        <td>{m.to}</td>
                        <td><a href=href>{m.subject}</a></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="results">
                <thead>
                    <tr>
                        <th scope="col">{i.t("staff.sent_date")}</th>
                        <th scope="col">{i.t("staff.sent_to")}</th>
                        <th scope="col">{i.t("staff.sent_subject")}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    staff_page(who, title, body)
}

/// `/staff/mail/{name}`: one message as the shopper got it.
pub fn sent_one_page(who: String, mail: SentMail) -> Page {
    let i = chrome().i18n;
    let html_href = format!("/staff/mail/{}/html", mail.name);
    let body = view! {
        <p><a href="/staff/mail">{i.t("staff.sent_title")}</a></p>
        <dl class="facts">
            <dt>{i.t("staff.sent_date")}</dt><dd>{mail.date}</dd>
            <dt>{i.t("staff.sent_to")}</dt><dd>{mail.to}</dd>
        </dl>
        <pre class="card email-text">{mail.text}</pre>
        <p><a href=html_href>{i.t("staff.sent_html")}</a></p>
    }
    .into_any();
    staff_page(who, mail.subject, body)
}

/// `/staff/orders/{shop}/{id}/emails`: every status email that can be
/// about the order, as it would go out now: one fold per email (named),
/// each with the shopper's language first and the others after it.
pub fn preview_page(
    who: String,
    order_name: String,
    back: String,
    previews: Vec<(String, Vec<EmailPreview>)>,
) -> Page {
    let i = chrome().i18n;
    let title = i.tf("staff.preview_title", &[("name", &order_name)]);
    let items = previews
        .into_iter()
        .map(|(event, langs)| {
            let langs = langs
                .into_iter()
                .map(|p| {
                    view! {
                        <section class="card">
                            <h3>{p.title}</h3>
                            <p><strong>{p.subject}</strong></p>
                            <pre class="email-text">{p.text}</pre>
                            <p><a href=p.html_href>{i.t("staff.sent_html")}</a></p>
                        </section>
                    }
                })
                .collect_view();
            view! {
                <details class="preview-event">
                    <summary><h2>{event}</h2></summary>
                    {langs}
                </details>
            }
        })
        .collect_view();
    let body = view! {
        <p><a href=back>{i.t("staff.back_to_order")}</a></p>
        <p>{i.t("staff.preview_note")}</p>
        {items}
    }
    .into_any();
    staff_page(who, title, body)
}

fn staff_page(who: String, title: String, body: AnyView) -> Page {
    Page {
        title: title.clone(),
        private: true,
        body: view! {
            <ShopHeader />
            <StaffBar who=who />
            <main id="main" class="page wide staff">
                <h1>{title}</h1>
                {body}
            </main>
        }
        .into_any(),
    }
}

/// The order page's email card: what was sent, failed or skipped and why,
/// the opt-out, and the preview and resend actions.
pub fn email_history(i: &I18n, order: &Order, base: &str, address_opted_out: bool) -> AnyView {
    let opted = order.mail.opted_out_at.map(|t| {
        let date = i.long_date(i.local_date(t));
        view! { <p class="notice">{i.tf("staff.emails_opted_out", &[("date", &date)])}</p> }
    });
    let address =
        address_opted_out.then(|| view! { <p class="notice">{i.t("staff.address_opted_out")}</p> });
    let rows = order
        .mail
        .messages
        .iter()
        .rev()
        .map(|m| {
            let when = m.at.unwrap_or(m.queued_at);
            let state = serde_json::to_value(m.state)
                .ok()
                .and_then(|v| {
                    v.as_str()
                        .map(|s| i.enum_text("mail_state", &s.to_lowercase(), &[]))
                })
                .unwrap_or_default();
            view! {
                <tr>
                    <td>{i.enum_text("email_event", m.event.as_str(), &[])}</td>
                    <td>{state}</td>
                    <td>{i.date_time(when)}</td>
                    <td>{m.attempts.to_string()}</td>
                    <td>{m.note.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    let table = if order.mail.messages.is_empty() {
        view! { <p>{i.t("staff.emails_none")}</p> }.into_any()
    } else {
        view! {
            <table class="results">
                <thead>
                    <tr>
                        <th scope="col">{i.t("staff.email_event")}</th>
                        <th scope="col">{i.t("staff.email_state")}</th>
                        <th scope="col">{i.t("staff.email_when")}</th>
                        <th scope="col">{i.t("staff.email_attempts")}</th>
                        <th scope="col">{i.t("staff.email_note")}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let preview = format!("{base}/emails");
    let resend = format!("{base}/resend");
    view! {
        <section class="card" aria-labelledby="emails-title">
            <h2 id="emails-title">{i.t("staff.emails")}</h2>
            {opted}
            {address}
            {table}
            <p><a href=preview>{i.t("staff.email_preview")}</a></p>
            <form method="post" action=resend>
                <button type="submit">{i.t("staff.email_resend")}</button>
            </form>
        </section>
    }
    .into_any()
}
