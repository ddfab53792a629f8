//! Security headers on every response.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::web::AppState;

/// Security headers for every response (see the module doc).
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let embeddable = req.uri().path() == "/embed";
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let frame_ancestors = if embeddable && !state.config.embed_origins.is_empty() {
        state
            .config
            .embed_origins
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        "'none'".to_string()
    };
    // Images from the site and the shop's image origins only: a line
    // item's image URL comes from Shopify, and the page must not fetch
    // from wherever a payload points.
    let img_src = &state.assets.img_src;
    let csp = format!(
        "default-src 'self'; img-src 'self' {img_src}; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors {frame_ancestors}"
    );
    // A handler that set its own (stricter) policy keeps it: the staff
    // console's email previews are sandboxed.
    if let Ok(v) = HeaderValue::from_str(&csp)
        && !h.contains_key(header::CONTENT_SECURITY_POLICY)
    {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if frame_ancestors == "'none'" {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        axum::http::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        ),
    );
    if state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
    {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}
