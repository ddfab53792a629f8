//! axum's `Form` and `Query` extractors with their rejections turned into
//! [`WebError`]s, so a form or query string that cannot be read gets the
//! same clear 4xx from every route (413 for a form over its size limit).

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;

use super::error::WebError;

/// A form body, read with `axum::Form`.
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(WebError))]
pub struct WebForm<T>(pub T);

/// A query string, read with `axum::extract::Query`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(WebError))]
pub struct WebQuery<T>(pub T);

impl From<FormRejection> for WebError {
    fn from(r: FormRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            WebError::bad_request(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.")
        } else {
            WebError::bad_request(
                StatusCode::BAD_REQUEST,
                "The form could not be read. Go back, reload the page and try again.",
            )
        }
    }
}

impl From<QueryRejection> for WebError {
    fn from(_: QueryRejection) -> Self {
        WebError::bad_request(
            StatusCode::BAD_REQUEST,
            "The address has a query string that could not be read.",
        )
    }
}
