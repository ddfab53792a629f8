//! The stylesheet, compiled into the binary so the site runs from any
//! working directory, served with a content hash in its URL so browsers may
//! cache it for a year.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;

const CSS: &str = include_str!("../../style/main.css");

/// Static assets and their cache keys.
#[derive(Debug, Clone)]
pub struct Assets {
    /// `/style/main.css?v=<hash>`: what pages link to.
    pub css_href: String,
    css_etag: HeaderValue,
}

impl Default for Assets {
    fn default() -> Self {
        Self::new()
    }
}

impl Assets {
    pub fn new() -> Assets {
        let hash = fnv1a(CSS.as_bytes());
        Assets {
            css_href: format!("/style/main.css?v={hash:016x}"),
            css_etag: HeaderValue::from_str(&format!("\"{hash:016x}\""))
                .unwrap_or(HeaderValue::from_static("\"0\"")),
        }
    }
}

/// FNV-1a: a stable content hash for cache busting (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `GET /style/main.css`.
pub async fn stylesheet(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let etag = &state.assets.css_etag;
    if headers.get(header::IF_NONE_MATCH) == Some(etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag.clone())]).into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (header::ETAG, etag.clone()),
        ],
        CSS,
    )
        .into_response()
}
