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

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Instant;

use chrono::{Duration, Utc};
use leptos::prelude::provide_context;

use super::{AppState, render_page};
use crate::links::LinkClaims;
use crate::order::{MAX_EMAIL_LEN, MAX_ORDER_REF_LEN, normalize_order_number};
use crate::ui::{LookupForm, LookupNotice};

/// Largest form body we read; two short fields need far less.
pub const MAX_FORM_BYTES: usize = 4 * 1024;

/// `POST /`.
pub async fn submit(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response();
        }
    };
    let mut form = parse_form(&bytes);
    let number = check(&mut form);
    let status = match number {
        None => {
            state.metrics.lookup("invalid");
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Some(number) => {
            let now = Instant::now();
            let lock = &state.limiters.order_lock;
            let locked = lock.is_locked(number, now);
            // Always look up, locked or not: the same work either way.
            let found = match state.store.lookup(number, &form.email) {
                Ok(found) => found,
                Err(e) => {
                    tracing::error!(error = %e, "lookup failed");
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        [(header::RETRY_AFTER, HeaderValue::from_static("30"))],
                        "Order lookup is unavailable right now. Please try again in a minute.",
                    )
                        .into_response();
                }
            };
            match found {
                Some(order) if !locked => {
                    let key = order.key();
                    let claims = LinkClaims {
                        shop: order.shop,
                        order_id: order.id,
                        expires: Utc::now() + Duration::days(i64::from(state.config.link_ttl_days)),
                        // Links from before a revocation stay dead; this one is new.
                        epoch: state.epochs.get(&key),
                    };
                    let token = state.links.sign(&claims);
                    state.metrics.lookup("found");
                    return see_other(&format!("/status/{token}"));
                }
                _ => {
                    lock.record_failure(number, now);
                    state.metrics.lookup("not_found");
                    form.notice = Some(LookupNotice::NotFound);
                    StatusCode::OK
                }
            }
        }
    };
    // Re-render `/` as a GET of the same URL, with the form in context.
    let mut get = Request::from_parts(parts, Body::empty());
    *get.method_mut() = Method::GET;
    let mut res = render_page(state, get, move || provide_context(form.clone())).await;
    *res.status_mut() = status;
    // The page holds what was typed, the email too: never kept by a cache.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, v),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The two fields, cut to their maximum length; other fields are ignored.
fn parse_form(bytes: &[u8]) -> LookupForm {
    let mut form = LookupForm::default();
    let (mut seen_order, mut seen_email) = (false, false);
    for (k, v) in form_urlencoded::parse(bytes) {
        match k.as_ref() {
            "order" if !seen_order => {
                form.order = v.chars().take(MAX_ORDER_REF_LEN).collect();
                seen_order = true;
            }
            "email" if !seen_email => {
                form.email = v.chars().take(MAX_EMAIL_LEN + 1).collect();
                seen_email = true;
            }
            _ => {}
        }
    }
    form.order = form.order.trim().to_string();
    form.email = form.email.trim().to_string();
    form
}

/// Sets the field messages; the order number when both fields are usable.
fn check(form: &mut LookupForm) -> Option<u64> {
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

    #[test]
    fn forms_parse_and_check() {
        let mut f = parse_form(b"order=%231001&email=+Anna%40Example.se+&extra=1");
        assert_eq!(f.order, "#1001");
        assert_eq!(f.email, "Anna@Example.se");
        assert_eq!(check(&mut f), Some(1001));

        let mut f = parse_form(b"");
        assert_eq!(check(&mut f), None);
        assert_eq!(f.order_error, Some("lookup.order_required"));
        assert_eq!(f.email_error, Some("lookup.email_required"));

        let mut f = parse_form(b"order=abc&email=nope");
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
        fn no_form_body_makes_the_lookup_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let mut f = parse_form(&body);
            let n = check(&mut f);
            proptest::prop_assert!(f.order.chars().count() <= MAX_ORDER_REF_LEN);
            if n.is_some() {
                proptest::prop_assert!(f.order_error.is_none() && f.email_error.is_none());
            }
        }

        #[test]
        fn typed_text_never_panics(order in ".{0,64}", email in ".{0,300}") {
            let body = form_urlencoded::Serializer::new(String::new())
                .append_pair("order", &order)
                .append_pair("email", &email)
                .finish();
            let mut f = parse_form(body.as_bytes());
            let _ = check(&mut f);
        }
    }

    #[test]
    fn overlong_fields_are_cut_not_rejected_wholesale() {
        let long = "1".repeat(100);
        let f = parse_form(format!("order={long}").as_bytes());
        assert_eq!(f.order.len(), MAX_ORDER_REF_LEN);
    }
}
