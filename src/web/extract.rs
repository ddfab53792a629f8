//! axum's `Form`, `Query` and `Path` extractors with their rejections
//! turned into [`WebError`]s, so a form or query string that cannot be read
//! gets the same clear 4xx from every route (413 for a form over its size
//! limit), and an address whose parts are not what the route takes (an
//! order id that is not a number) is simply not found. The typed path
//! parts the routes share ([`OrderRef`], [`ShipmentRef`], ...) are here.

use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::Deserialize;

use super::error::WebError;

/// The parts of a route's path, read with `axum::extract::Path`; anything
/// that does not fit is a 404.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(WebError))]
pub struct WebPath<T>(pub T);

impl From<PathRejection> for WebError {
    fn from(_: PathRejection) -> Self {
        WebError::NotFound
    }
}

/// An order's address: `/staff/orders/{shop}/{id}/...`.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderRef {
    pub shop: String,
    pub id: u64,
}

/// A shipment of an order: `.../shipments/{fid}/...`.
#[derive(Debug, Clone, Deserialize)]
pub struct ShipmentRef {
    pub shop: String,
    pub id: u64,
    pub fid: u64,
}

/// A name in the path: a staff account, a sent message, a bulk job.
#[derive(Debug, Clone, Deserialize)]
pub struct Named {
    pub name: String,
}

/// A status link's token, as the path has it. A token that is not even
/// text (`%ff`) is just another invalid link: empty, never a rejection.
#[derive(Debug, Clone)]
pub struct LinkToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for LinkToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<LinkToken, Self::Rejection> {
        Ok(LinkToken(
            Path::<String>::from_request_parts(parts, state)
                .await
                .map(|Path(t)| t)
                .unwrap_or_default(),
        ))
    }
}

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
            WebError::bad_request(StatusCode::PAYLOAD_TOO_LARGE, "error.form_too_large")
        } else {
            WebError::bad_request(StatusCode::BAD_REQUEST, "error.form_unreadable")
        }
    }
}

impl From<QueryRejection> for WebError {
    fn from(_: QueryRejection) -> Self {
        WebError::bad_request(StatusCode::BAD_REQUEST, "error.query_unreadable")
    }
}
