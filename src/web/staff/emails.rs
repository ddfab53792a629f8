//! The staff console's email pages: "Sent emails" (what the file transport
//! wrote), previews of every status email for an order in each language,
//! and "send the status email again".

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::StaffSession;
use crate::i18n::Lang;
use crate::notify::SentFile;
use crate::order::mail_log::{MailEvent, MailMessage, MailState, MailUpdate};
use crate::order::merge::Change;
use crate::order::order_key;
use crate::ui::staff::{EmailPreview, OrderAction, SentMail};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::extract::{Named, OrderRef, WebPath};
use crate::web::render::{Visitor, html};

/// Messages listed on "Sent emails".
const SENT_LISTED: usize = 200;

/// A written message for the console: its `Date` header in the console's
/// date format and the shop's zone (as written, when it cannot be read).
fn sent_mail_of(i: &crate::i18n::I18n, f: SentFile) -> SentMail {
    let date = chrono::DateTime::parse_from_rfc2822(f.date.trim())
        .map(|d| i.date_time_zoned(d.with_timezone(&Utc)))
        .unwrap_or(f.date);
    SentMail {
        name: f.name,
        subject: f.subject,
        to: f.to,
        date,
        text: f.text,
    }
}

/// `GET /staff/mail`.
pub async fn sent_mail(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
) -> Response {
    let dir = state
        .mail
        .transport()
        .dir()
        .map(std::path::Path::to_path_buf);
    let smtp = dir.is_none();
    let mails = match dir {
        Some(d) => tokio::task::spawn_blocking(move || crate::notify::sent_files(&d, SENT_LISTED))
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let i = visitor.i18n(&state);
    let mails = mails.into_iter().map(|f| sent_mail_of(&i, f)).collect();
    html(&state, &visitor, StatusCode::OK, move || {
        crate::ui::staff::sent_mail_page(staff.name, mails, smtp)
    })
    .await
}

fn sent_file(state: &AppState, name: &str) -> Result<SentFile, WebError> {
    let dir = state.mail.transport().dir().ok_or(WebError::NotFound)?;
    crate::notify::sent_file(dir, name).ok_or(WebError::NotFound)
}

/// `GET /staff/mail/{name}`.
pub async fn sent_one(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebPath(Named { name }): WebPath<Named>,
) -> Result<Response, WebError> {
    let mail = sent_mail_of(&visitor.i18n(&state), sent_file(&state, &name)?);
    Ok(html(&state, &visitor, StatusCode::OK, move || {
        crate::ui::staff::sent_one_page(staff.name, mail)
    })
    .await)
}

/// An email's HTML, as its own sandboxed document: no scripts, nothing of
/// the console's origin reachable from it, and no requests but for the
/// pictures a status page may show too (this site's and the shop's image
/// origins), so staff see the email as the shopper does.
fn email_html(state: &AppState, body: String) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    let csp = format!(
        "sandbox; default-src 'none'; img-src 'self' {}; style-src 'unsafe-inline'; \
         frame-ancestors 'none'",
        state.assets.img_src
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /staff/mail/{name}/html`.
pub async fn sent_one_html(
    State(state): State<AppState>,
    WebPath(Named { name }): WebPath<Named>,
) -> Result<Response, WebError> {
    Ok(email_html(&state, sent_file(&state, &name)?.html))
}

/// A message of `event` for previews (nothing is queued).
fn sample(event: MailEvent, order: &crate::order::Order) -> MailMessage {
    // The parcel or hold the preview is about: the order's latest.
    let part = match event {
        MailEvent::OnHold => order.fulfillment_orders.last().map(|f| f.id),
        MailEvent::ReturnReceived => order.returns.last().map(|r| r.id),
        MailEvent::Refunded => order.refunds.last().map(|r| r.id),
        MailEvent::Cancelled | MailEvent::CustomStage | MailEvent::Link | MailEvent::Status => None,
        _ => order.fulfillments.last().map(|f| f.id),
    };
    let detail = match event {
        MailEvent::OnHold => order
            .fulfillment_orders
            .last()
            .and_then(|f| f.fulfillment_holds.first())
            .map(|h| h.reason.as_str().to_string()),
        MailEvent::CustomStage => order.custom_stages.last().map(|s| s.name.clone()),
        _ => None,
    };
    MailMessage {
        key: format!("preview:{}", event.as_str()),
        event,
        part,
        detail,
        queued_at: Utc::now(),
        state: MailState::Queued,
        at: None,
        attempts: 0,
        note: None,
        lang: None,
    }
}

fn all_events() -> impl Iterator<Item = MailEvent> {
    MailEvent::DETECTED
        .into_iter()
        .chain([MailEvent::Link, MailEvent::Status])
}

/// The order at a staff address, or not found.
fn order_at(state: &AppState, shop: &str, id: u64) -> Result<crate::order::Order, WebError> {
    state
        .store
        .get(&order_key(shop, id))?
        .ok_or(WebError::NotFound)
}

/// `GET /staff/orders/{shop}/{id}/emails`.
pub async fn email_previews(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebPath(OrderRef { shop, id }): WebPath<OrderRef>,
) -> Result<Response, WebError> {
    let order = order_at(&state, &shop, id)?;
    let base = format!("/staff/orders/{}/{id}", crate::ui::percent_encode(&shop));
    let composer = state.mail.composer();
    let now = Utc::now();
    // One fold per event, the shopper's language first (the email they
    // would get), the others after it.
    let shopper_lang = order
        .customer_locale
        .as_deref()
        .and_then(Lang::negotiate)
        .unwrap_or(state.config.shop.language);
    let langs: Vec<Lang> = std::iter::once(shopper_lang)
        .chain(Lang::ALL.into_iter().filter(|l| *l != shopper_lang))
        .collect();
    let i = visitor.i18n(&state);
    let mut previews = Vec::new();
    for event in all_events().filter(|e| e.can_apply(&order)) {
        let msg = sample(event, &order);
        let mut group = Vec::new();
        for &lang in &langs {
            let r = composer.render(&order, &msg, lang, now);
            let lang_name =
                crate::i18n::I18n::new(lang, *state.config.shop.timezone, state.catalog.clone())
                    .t("meta.name");
            group.push(EmailPreview {
                title: lang_name,
                subject: r.subject.clone(),
                text: crate::ui::email::plain(&r),
                html_href: format!("{base}/emails/{}/{}", event.as_str(), lang.code()),
            });
        }
        previews.push((i.enum_text("email_event", event.as_str(), &[]), group));
    }
    let name = order.name.clone();
    Ok(html(&state, &visitor, StatusCode::OK, move || {
        crate::ui::staff::preview_page(staff.name, name, base, previews)
    })
    .await)
}

/// A preview's address: the order, the event and the language.
#[derive(Debug, serde::Deserialize)]
pub struct PreviewRef {
    shop: String,
    id: u64,
    event: String,
    lang: String,
}

/// `GET /staff/orders/{shop}/{id}/emails/{event}/{lang}`: one preview's HTML.
pub async fn email_preview_html(
    State(state): State<AppState>,
    WebPath(PreviewRef {
        shop,
        id,
        event,
        lang,
    }): WebPath<PreviewRef>,
) -> Result<Response, WebError> {
    let event = MailEvent::parse(&event).ok_or(WebError::NotFound)?;
    let lang = Lang::from_code(&lang)
        .filter(|l| l.code() == lang)
        .ok_or(WebError::NotFound)?;
    let order = order_at(&state, &shop, id)?;
    if !event.can_apply(&order) {
        return Err(WebError::NotFound);
    }
    let r = state
        .mail
        .composer()
        .render(&order, &sample(event, &order), lang, Utc::now());
    Ok(email_html(
        &state,
        crate::ui::email::html(&r, &state.config.shop.accent_color),
    ))
}

/// `POST /staff/orders/{shop}/{id}/resend`: queues the current status.
pub async fn resend(
    State(state): State<AppState>,
    staff: StaffSession,
    WebPath(OrderRef { shop, id }): WebPath<OrderRef>,
) -> Result<Response, WebError> {
    let order = order_at(&state, &shop, id)?;
    let key = order.key();
    let mut message = sample(MailEvent::Status, &order);
    message.key = order.mail.next_key(MailEvent::Status);
    // Staff asked for it: an opt-out is the shopper's word, though.
    if order.mail.opted_out_at.is_some() || state.optouts.contains(&order.email) {
        message.state = MailState::Skipped;
        message.at = Some(Utc::now());
        message.note = Some("opted out".into());
    } else if order.email.trim().is_empty() {
        message.state = MailState::Skipped;
        message.at = Some(Utc::now());
        message.note = Some("the order has no email".into());
    }
    state
        .store
        .apply(vec![Change::Mail {
            key,
            update: MailUpdate::Queue(message),
        }])
        .await?;
    state.mail.wake();
    tracing::info!(staff = %staff.name, "status email queued by staff");
    super::order::audit(&state, &staff, "mail.resend", &order.key(), String::new()).await;
    Ok(super::order::back_to_order(
        &state,
        &shop,
        id,
        OrderAction::Resent,
    ))
}
