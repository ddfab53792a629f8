//! The stylesheet, compiled into the binary so the site runs from any
//! working directory, served with a content hash in its URL so browsers may
//! cache it for a year.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::config::Config;
use crate::config::values::Color;

const CSS: &str = include_str!("../../style/main.css");

/// Static assets and their cache keys.
#[derive(Debug, Clone)]
pub struct Assets {
    /// `/style/main.css?v=<hash>`: what pages link to.
    pub css_href: String,
    css_etag: HeaderValue,
    /// `/style/theme.css?v=<hash>`: the shop's colours. A stylesheet, not
    /// an inline style, so the CSP needs no 'unsafe-inline'.
    pub theme_href: String,
    theme: String,
    theme_etag: HeaderValue,
    /// `/share.js?v=<hash>` (from `public/`), cached for a year.
    pub share_js_href: String,
    /// `/embed.js?v=<hash>` (from `public/`): the embedded form's height.
    pub embed_js_href: String,
    /// `/staff.js?v=<hash>` (from `public/`): the console's keyboard.
    pub staff_js_href: String,
    /// The CSP's image sources besides `'self'`: worked out once, not
    /// on every response.
    pub img_src: String,
}

impl Assets {
    pub fn new(config: &Config) -> Assets {
        let hash = fnv1a(CSS.as_bytes());
        // The colour was checked to be #rgb or #rrggbb when configured.
        let theme = format!(":root{{--accent:{}}}\n", config.shop.accent_color);
        let theme_hash = fnv1a(theme.as_bytes());
        // The script is a public/ file; a hash of its bytes versions the link.
        let share_js = std::fs::read(config.public_dir.join("share.js")).unwrap_or_default();
        let embed_js = std::fs::read(config.public_dir.join("embed.js")).unwrap_or_default();
        let staff_js = std::fs::read(config.public_dir.join("staff.js")).unwrap_or_default();
        Assets {
            embed_js_href: format!("/embed.js?v={:016x}", fnv1a(&embed_js)),
            share_js_href: format!("/share.js?v={:016x}", fnv1a(&share_js)),
            staff_js_href: format!("/staff.js?v={:016x}", fnv1a(&staff_js)),
            css_href: format!("/style/main.css?v={hash:016x}"),
            css_etag: etag(hash),
            theme_href: format!("/style/theme.css?v={theme_hash:016x}"),
            theme,
            theme_etag: etag(theme_hash),
            img_src: config.shop.image_sources().join(" "),
        }
    }
}

fn etag(hash: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{hash:016x}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// FNV-1a: a stable content hash for cache busting (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `GET /style/main.css`.
pub async fn stylesheet(State(state): State<AppState>, headers: HeaderMap) -> Response {
    css(&headers, &state.assets.css_etag, CSS.to_string())
}

/// `?accent=` of the theme: another accent colour (`rrggbb` or `rgb`,
/// without the `#`), for the embedded form on a merchant's page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ThemeQuery {
    accent: Option<String>,
}

/// The accent colour a query asks for, when it is one (`#` added).
pub fn accent_of(asked: Option<&str>) -> Option<Color> {
    asked.and_then(|a| format!("#{}", a.trim_start_matches('#')).parse().ok())
}

/// `GET /style/theme.css`, with the shop's accent colour or, with a valid
/// `?accent=`, that one (anything else gets the shop's: never echoed).
pub async fn theme(
    State(state): State<AppState>,
    Query(q): Query<ThemeQuery>,
    headers: HeaderMap,
) -> Response {
    match accent_of(q.accent.as_deref()) {
        Some(accent) => {
            let theme = format!(":root{{--accent:{accent}}}\n");
            css(&headers, &etag(fnv1a(theme.as_bytes())), theme)
        }
        None => css(
            &headers,
            &state.assets.theme_etag,
            state.assets.theme.clone(),
        ),
    }
}

fn css(headers: &HeaderMap, etag: &HeaderValue, body: String) -> Response {
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
        body,
    )
        .into_response()
}
