//! The shopper's email pages: `/link` ("Email me my link") and
//! `/unsubscribe/{token}`.
//!
//! `/link` answers the same words, status and (near enough) timing
//! whether or not the number and email match: the lookup is the store's
//! constant-work one, and a match only queues a message (the commit is
//! not waited for). Only the email on file gets the link, so the form
//! tells nobody anything they could not already read in that inbox. It
//! ignores the order-number lock on purpose: the lock keeps strangers from
//! guessing emails on the lookup form, and must never shut out the owner,
//! who can always get in this way. It has its own budgets: per client (the
//! lookup budget) and per address ([`AddressBudget`]).
//!
//! Unsubscribing needs no sign-in: the token in the link, signed by us and
//! naming one order, is the authority. A `POST` is RFC 8058's one-click
//! (`List-Unsubscribe=One-Click`, sent by mail providers) or the page's own
//! form, for the order or for the whole address.

use std::num::NonZeroU32;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::Utc;
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::lookup::{LookupInput, check, prepare};
use crate::config::RateSpec;
use crate::insights::Kind;
use crate::order::mail_log::{MailEvent, MailMessage, MailState, MailUpdate};
use crate::order::merge::Change;
use crate::order::{normalize_email, order_key};
use crate::ui::{LookupForm, LookupNotice, Unsubscribe};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::extract::LinkToken;
use crate::web::extract::WebForm;
use crate::web::render::{Visitor, html};

/// `/link` requests per email address (digested), whoever sends them.
#[derive(Debug)]
pub struct AddressBudget(DefaultKeyedRateLimiter<[u8; 16]>);

impl AddressBudget {
    pub fn new(spec: RateSpec) -> AddressBudget {
        let burst = NonZeroU32::new(spec.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(spec.replenish_every())
            .unwrap_or_else(|| Quota::per_hour(burst))
            .allow_burst(burst);
        AddressBudget(governor::RateLimiter::keyed(quota))
    }

    /// Takes one request of this address's budget, if any is left.
    pub fn take(&self, email: &str) -> bool {
        let d = Sha256::digest(normalize_email(email).as_bytes());
        let mut key = [0u8; 16];
        key.copy_from_slice(&d[..16]);
        self.0.check_key(&key).is_ok()
    }

    /// Forgets addresses whose budget is full again.
    pub fn prune(&self) {
        self.0.retain_recent();
    }
}

/// `GET /link`.
pub async fn link_page(State(state): State<AppState>, visitor: Visitor) -> Response {
    html(&state, &visitor, StatusCode::OK, || {
        crate::ui::link_page(LookupForm::default())
    })
    .await
}

/// `POST /link`.
pub async fn link_submit(
    State(state): State<AppState>,
    visitor: Visitor,
    WebForm(input): WebForm<LookupInput>,
) -> Result<Response, WebError> {
    let mut typed = prepare(input);
    let Some(number) = check(&mut typed) else {
        return Ok(no_store(
            html(&state, &visitor, StatusCode::UNPROCESSABLE_ENTITY, || {
                crate::ui::link_page(typed)
            })
            .await,
        ));
    };
    // Always both: the same work whether or not anything matches.
    let found = state.store.lookup(number, &typed.email)?;
    let allowed = state.link_budget.take(&typed.email)
        && match &state.shared_limits {
            Some(s) => {
                let digest = Sha256::digest(normalize_email(&typed.email).as_bytes());
                let spec = state.config.mail.link_per_address;
                s.take("link", &digest[..16], spec).await == crate::replicate::Verdict::Allowed
            }
            None => true,
        };
    let asked_of = found
        .as_ref()
        .map_or(&*state.config.shop.domain, |o| o.shop.as_str());
    state
        .insights
        .add(asked_of, Kind::LinkRequested, Utc::now());
    match (found, allowed) {
        (Some(order), true) => {
            let now = Utc::now();
            let message = MailMessage {
                // Not `next_key`: two requests a moment apart would read
                // the same order and one would be lost as a duplicate.
                key: format!("link:{}", now.timestamp_micros()),
                event: MailEvent::Link,
                part: None,
                detail: None,
                queued_at: now,
                state: MailState::Queued,
                at: None,
                attempts: 0,
                note: None,
                // The link goes out in the language of the page it was
                // asked from, and so do the order's later emails.
                lang: Some(visitor.lang.code().to_string()),
            };
            let change = Change::Mail {
                key: order.key(),
                update: MailUpdate::Queue(message),
            };
            // Queued, not awaited: waiting for the commit would make a
            // match measurably slower than a miss.
            let pending = state.store.submit_changes(vec![change]).await?;
            let sender = state.mail.clone();
            state.tasks.spawn(async move {
                match pending.committed().await {
                    Ok(_) => sender.wake(),
                    Err(e) => {
                        tracing::error!(error = %crate::errors::chain(&e), "a requested status link could not be queued")
                    }
                }
            });
            state.metrics.lookup("link_sent");
        }
        (Some(_), false) => {
            tracing::info!("status link by email refused: the address's budget is spent");
            state.metrics.lookup("link_limited");
        }
        (None, _) => state.metrics.lookup("link_no_match"),
    }
    // What was typed is not shown again: the answer is the same for all.
    let form = LookupForm {
        notice: Some(LookupNotice::LinkSent),
        ..LookupForm::default()
    };
    Ok(no_store(
        html(&state, &visitor, StatusCode::OK, || {
            crate::ui::link_page(form)
        })
        .await,
    ))
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The order an unsubscribe token names, if the token is ours.
fn unsubscribe_order(state: &AppState, token: &str) -> Option<String> {
    match state.links.verify_unsubscribe(token) {
        Ok((shop, id)) => Some(order_key(&shop, id)),
        Err(e) => {
            tracing::debug!(reason = %e, "unsubscribe link refused");
            None
        }
    }
}

/// `GET /unsubscribe/{token}`: asks which emails to stop.
pub async fn unsubscribe_page(
    State(state): State<AppState>,
    visitor: Visitor,
    LinkToken(token): LinkToken,
) -> Result<Response, WebError> {
    let order = match unsubscribe_order(&state, &token) {
        Some(key) => state.store.get(&key)?,
        None => None,
    };
    let (status, page) = match order {
        Some(o) => (
            StatusCode::OK,
            Unsubscribe::Ask {
                order_name: o.name,
                action: format!("/unsubscribe/{token}"),
            },
        ),
        None => (StatusCode::NOT_FOUND, Unsubscribe::Invalid),
    };
    Ok(no_store(
        html(&state, &visitor, status, || {
            crate::ui::unsubscribe_page(page)
        })
        .await,
    ))
}

/// The unsubscribe form, or RFC 8058's one-click body.
#[derive(Debug, Default, Deserialize)]
pub struct UnsubscribeInput {
    #[serde(default)]
    scope: Option<String>,
    #[serde(default, rename = "List-Unsubscribe")]
    one_click: Option<String>,
}

/// `POST /unsubscribe/{token}`: stops the emails, for the order (one-click
/// and the first button) or for the address (the second button).
pub async fn unsubscribe(
    State(state): State<AppState>,
    visitor: Visitor,
    LinkToken(token): LinkToken,
    WebForm(input): WebForm<UnsubscribeInput>,
) -> Result<Response, WebError> {
    let order = match unsubscribe_order(&state, &token) {
        Some(key) => state.store.get(&key)?,
        None => None,
    };
    let Some(order) = order else {
        return Ok(no_store(
            html(&state, &visitor, StatusCode::NOT_FOUND, || {
                crate::ui::unsubscribe_page(Unsubscribe::Invalid)
            })
            .await,
        ));
    };
    let whole_address =
        input.one_click.is_none() && input.scope.as_deref().is_some_and(|s| s == "address");
    if whole_address && !order.email.trim().is_empty() {
        state
            .optouts
            .add(&order.email)
            .await
            .map_err(|e| WebError::unavailable("recording an opt-out", e))?;
    }
    state
        .store
        .apply(vec![Change::Mail {
            key: order.key(),
            update: MailUpdate::OptOut { at: Utc::now() },
        }])
        .await?;
    tracing::info!(whole_address, "shopper opted out of status emails");
    state.insights.add(&order.shop, Kind::OptOut, Utc::now());
    let page = if whole_address {
        Unsubscribe::DoneAddress
    } else {
        Unsubscribe::DoneOrder {
            order_name: order.name,
        }
    };
    Ok(no_store(
        html(&state, &visitor, StatusCode::OK, || {
            crate::ui::unsubscribe_page(page)
        })
        .await,
    ))
}
