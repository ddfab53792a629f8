//! One error type for every handler, and one place that turns it into what
//! the visitor sees.
//!
//! A handler returns `Result<_, WebError>`. [`WebError`]'s `IntoResponse`
//! logs the internal detail (never shown) and answers with the status
//! code and a [`Failure`] marker; the [`error_pages`] middleware, which has
//! the state and the request, replaces a marked answer with the page for
//! it: the friendly 404, the "try again shortly" page with `Retry-After`
//! (503), or a 4xx page with its message, in the visitor's language, and
//! as JSON (in English) for the JSON API. So the same failure looks the
//! same from every route. A 503's cause is logged here with its whole
//! chain, and nowhere else.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::render::{Visitor, html};

pub use crate::errors::Cause;

/// What went wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The order store (or another file the site needs) cannot be read
    /// or written right now: 503, try again shortly. `what` could not be
    /// done; the cause is logged (with its own causes), never shown.
    #[error("{what}")]
    Unavailable {
        what: &'static str,
        #[source]
        source: Cause,
    },
    /// Nothing here: the friendly 404.
    #[error("not found")]
    NotFound,
    /// The request itself is wrong: a 4xx with a message for the visitor,
    /// by its key in the translations (`error.*`).
    #[error("bad request ({status}): {key}")]
    BadRequest {
        status: StatusCode,
        key: &'static str,
    },
}

impl From<crate::store::StoreError> for WebError {
    fn from(e: crate::store::StoreError) -> Self {
        WebError::unavailable("the order store", e)
    }
}

impl From<crate::staff::StaffError> for WebError {
    fn from(e: crate::staff::StaffError) -> Self {
        WebError::unavailable("the staff accounts", e)
    }
}

impl WebError {
    /// A 4xx with a message (a key of the translations' `error` section).
    pub fn bad_request(status: StatusCode, key: &'static str) -> WebError {
        WebError::BadRequest { status, key }
    }

    /// A 503: `what` could not be done, because of `source`.
    pub fn unavailable(what: &'static str, source: impl Into<Cause>) -> WebError {
        WebError::Unavailable {
            what,
            source: source.into(),
        }
    }
}

/// How long a client should wait before retrying an unavailable store.
pub const RETRY_AFTER_SECS: u64 = 30;

/// The marker [`error_pages`] looks for.
#[derive(Debug, Clone, Copy)]
pub enum Failure {
    NotFound,
    Unavailable,
    /// The key of the message.
    BadRequest(&'static str),
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, failure) = match &self {
            WebError::Unavailable { .. } => {
                // The edge: the one place the whole chain is logged.
                tracing::error!(error = %crate::errors::chain(&self), "answering 503");
                (StatusCode::SERVICE_UNAVAILABLE, Failure::Unavailable)
            }
            WebError::NotFound => (StatusCode::NOT_FOUND, Failure::NotFound),
            WebError::BadRequest { status, key } => (*status, Failure::BadRequest(key)),
        };
        let mut res = status.into_response();
        res.extensions_mut().insert(failure);
        res
    }
}

/// Replaces an answer marked with a [`Failure`] by the page (or JSON) for
/// it. Answers without the marker pass untouched.
pub async fn error_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let json = api || super::wants_json(req.headers());
    // Keep only what a failure page needs (its language and links); the
    // visitor is worked out only when a failure is answered, not on every
    // status page and lookup.
    let uri = req.uri().clone();
    let mut kept = HeaderMap::new();
    for name in [header::ACCEPT_LANGUAGE, header::COOKIE, header::HOST] {
        for v in req.headers().get_all(&name) {
            kept.append(name.clone(), v.clone());
        }
    }
    let res = next.run(req).await;
    let Some(failure) = res.extensions().get::<Failure>().copied() else {
        return res;
    };
    let visitor = Visitor::from_headers(&state, &uri, &kept);
    let status = res.status();
    let mut out = if json {
        let body = match failure {
            Failure::NotFound => serde_json::json!({
                "error": "not_found",
                "message": "This link has expired or is not valid.",
            }),
            Failure::Unavailable => serde_json::json!({
                "error": "unavailable",
                "message": "Order status is unavailable right now; try again shortly.",
            }),
            // The JSON API answers in English: a program reads it.
            Failure::BadRequest(key) => serde_json::json!({
                "error": "bad_request",
                "message": crate::i18n::I18n::new(
                    crate::i18n::Lang::En,
                    *state.config.shop.timezone,
                    state.catalog.clone(),
                )
                .t(key),
            }),
        };
        let mut res = (status, axum::Json(body)).into_response();
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if api {
            res.headers_mut().insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
        res
    } else {
        match failure {
            Failure::NotFound => html(&state, &visitor, status, crate::ui::not_found_page).await,
            Failure::Unavailable => html(&state, &visitor, status, crate::ui::retry_page).await,
            Failure::BadRequest(key) => {
                html(&state, &visitor, status, move || crate::ui::error_page(key)).await
            }
        }
    };
    if matches!(failure, Failure::Unavailable) {
        out.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    out
}
