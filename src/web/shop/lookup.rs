//! `POST /`: the lookup form.
//!
//! A matching order number and email get a fresh signed link and a
//! `303 See Other` to the status page. Anything else re-renders the lookup
//! page with what was typed: a message per field for empty or malformed
//! input (422), or, for a wrong email and for an unknown order number
//! alike, the same single message (200, byte-identical, so the response
//! does not tell which half was wrong). A number locked after repeated
//! failures (see `protect::OrderLock`) gets that same answer, right pair or
//! not, and takes the same work.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::time::Instant;

use chrono::{Duration, Utc};

use crate::insights::Kind;
use crate::links::LinkClaims;
use crate::order::{MAX_EMAIL_LEN, MAX_ORDER_REF_LEN, normalize_order_number};
use crate::ui::{EmbedLook, EmbedScheme, LookupForm, LookupNotice};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::extract::{WebForm, WebQuery};
use crate::web::render::{Visitor, html};

/// The lookup form's fields; anything else sent is ignored.
#[derive(Debug, Default, Deserialize)]
pub struct LookupInput {
    #[serde(default)]
    pub order: String,
    #[serde(default)]
    pub email: String,
}

/// `?order=1001` on `/`, from a store's "Track my order" link.
#[derive(Debug, Default, Deserialize)]
pub struct Prefill {
    pub order: Option<String>,
}

/// `GET /`: the lookup form, the order number filled in from `?order=`.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    WebQuery(prefill): WebQuery<Prefill>,
) -> Response {
    let form = LookupForm {
        order: prefill
            .order
            .unwrap_or_default()
            .chars()
            .take(MAX_ORDER_REF_LEN)
            .collect(),
        ..LookupForm::default()
    };
    html(&state, &visitor, StatusCode::OK, || {
        crate::ui::lookup_page(form)
    })
    .await
}

/// `GET /embed`: the form alone, for framing.
pub async fn embed(
    State(state): State<AppState>,
    visitor: Visitor,
    WebQuery(q): WebQuery<EmbedQuery>,
) -> Response {
    let look = EmbedLook {
        allowed: !state.config.embed_origins.is_empty(),
        scheme: EmbedScheme::parse(q.scheme.as_deref()),
        accent_href: crate::web::assets::accent_of(q.accent.as_deref())
            .map(|c| format!("/style/theme.css?accent={}", c.trim_start_matches('#'))),
    };
    html(&state, &visitor, StatusCode::OK, move || {
        crate::ui::embed_page(look)
    })
    .await
}

/// `/embed?accent=aa3300&scheme=dark`: the host page's look. Bad values
/// are ignored (the defaults), never echoed.
#[derive(Debug, Default, Deserialize)]
pub struct EmbedQuery {
    accent: Option<String>,
    scheme: Option<String>,
}

/// `POST /`.
pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    WebForm(input): WebForm<LookupInput>,
) -> Result<Response, WebError> {
    let mut form = prepare(input);
    let number = check(&mut form);
    let status = match number {
        None => {
            state.metrics.lookup("invalid");
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Some(number) => {
            let now = Instant::now();
            let lock = &state.limiters.order_lock;
            let spec = state.config.limits.order_failures;
            let shared = match &state.shared_limits {
                Some(s) => s.is_locked(number, spec).await,
                None => None,
            };
            let locked = shared.unwrap_or(false) || lock.is_locked(number, now);
            // Always look up, locked or not: the same work either way.
            let found = state.store.lookup(number, &form.email)?;
            match found {
                Some(order) if !locked => {
                    let key = order.key();
                    let claims = LinkClaims {
                        shop: order.shop,
                        order_id: order.id,
                        expires: Utc::now()
                            + Duration::days(state.config.link_ttl_days.get() as i64),
                        // Links from before a revocation stay dead; this one is new.
                        epoch: state.epochs.get(&key),
                    };
                    let token = state.links.sign(&claims);
                    state.metrics.lookup("found");
                    state
                        .insights
                        .add(&claims.shop, Kind::LookupFound, Utc::now());
                    return Ok(crate::web::see_other(&format!("/status/{token}")));
                }
                _ => {
                    lock.record_failure(number, now);
                    if let Some(s) = &state.shared_limits {
                        s.record_failure(number, spec).await;
                    }
                    state.metrics.lookup("not_found");
                    // A miss names no shop: it counts for the site's own.
                    state
                        .insights
                        .add(&state.config.shop.domain, Kind::LookupMissed, Utc::now());
                    form.notice = Some(LookupNotice::NotFound);
                    StatusCode::OK
                }
            }
        }
    };
    let mut res = html(&state, &visitor, status, || crate::ui::lookup_page(form)).await;
    // The page holds what was typed, the email too: never kept by a cache.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res.into_response())
}

/// The two fields, trimmed and cut to their maximum length.
pub(super) fn prepare(input: LookupInput) -> LookupForm {
    LookupForm {
        order: cut(&input.order, MAX_ORDER_REF_LEN),
        email: cut(&input.email, MAX_EMAIL_LEN + 1),
        ..LookupForm::default()
    }
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect::<String>().trim().to_string()
}

/// Sets the field messages; the order number when both fields are usable.
pub(super) fn check(form: &mut LookupForm) -> Option<u64> {
    let number = if form.order.is_empty() {
        form.order_error = Some("lookup.order_required");
        None
    } else {
        let n = normalize_order_number(&form.order);
        if n.is_none() {
            form.order_error = Some("lookup.order_invalid");
        }
        n
    };
    if form.email.is_empty() {
        form.email_error = Some("lookup.email_required");
    } else if !plausible_email(&form.email) {
        form.email_error = Some("lookup.email_invalid");
    }
    number.filter(|_| form.email_error.is_none())
}

/// Something@something.tld, no spaces, not too long: enough to catch typos
/// without rejecting real addresses.
pub fn plausible_email(s: &str) -> bool {
    if s.len() > MAX_EMAIL_LEN || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    match s.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(order: &str, email: &str) -> LookupForm {
        prepare(LookupInput {
            order: order.into(),
            email: email.into(),
        })
    }

    #[test]
    fn forms_are_prepared_and_checked() {
        let mut f = form("#1001", " Anna@Example.se ");
        assert_eq!(f.order, "#1001");
        assert_eq!(f.email, "Anna@Example.se");
        assert_eq!(check(&mut f), Some(1001));

        let mut f = form("", "");
        assert_eq!(check(&mut f), None);
        assert_eq!(f.order_error, Some("lookup.order_required"));
        assert_eq!(f.email_error, Some("lookup.email_required"));

        let mut f = form("abc", "nope");
        assert_eq!(check(&mut f), None);
        assert_eq!(f.order_error, Some("lookup.order_invalid"));
        assert_eq!(f.email_error, Some("lookup.email_invalid"));
    }

    #[test]
    fn emails_are_checked_loosely() {
        assert!(plausible_email("a@b.se"));
        assert!(plausible_email("first.last+tag@sub.example.co.uk"));
        assert!(!plausible_email("a@b"));
        assert!(!plausible_email("@b.se"));
        assert!(!plausible_email("a b@c.se"));
        assert!(!plausible_email(&format!("{}@x.se", "a".repeat(300))));
    }

    proptest::proptest! {
        #[test]
        fn typed_text_never_panics(order in ".{0,64}", email in ".{0,300}") {
            let mut f = form(&order, &email);
            let n = check(&mut f);
            proptest::prop_assert!(f.order.chars().count() <= MAX_ORDER_REF_LEN);
            if n.is_some() {
                proptest::prop_assert!(f.order_error.is_none() && f.email_error.is_none());
            }
        }
    }

    #[test]
    fn overlong_fields_are_cut_not_rejected_wholesale() {
        let f = form(&"1".repeat(100), "");
        assert_eq!(f.order.len(), MAX_ORDER_REF_LEN);
    }
}
