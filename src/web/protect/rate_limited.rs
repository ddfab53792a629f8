//! What a client over its budget gets: a page in its language, or JSON.

use std::sync::{Arc, OnceLock};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::i18n::{I18n, Lang};
use crate::ui::{LookupForm, LookupNotice, WAIT_MARKER};
use crate::web::AppState;
use crate::web::render::{Visitor, choose_lang};

/// Turns tower-governor's bare 429 into a page or JSON, with a sane
/// `Retry-After` (at least one second). Sits outside the limiters.
pub async fn explain_rate_limit(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let json = wants_json(&req);
    let is_lookup = req.method() == Method::POST && req.uri().path() == "/";
    // Keep what the page needs to speak the visitor's language.
    let mut kept = HeaderMap::new();
    for name in [header::ACCEPT_LANGUAGE, header::COOKIE, header::HOST] {
        for v in req.headers().get_all(&name) {
            kept.append(name.clone(), v.clone());
        }
    }
    let res = next.run(req).await;
    if res.status() != StatusCode::TOO_MANY_REQUESTS
        || !res.headers().contains_key("x-ratelimit-after")
    {
        return res;
    }
    let after = retry_after(&res);
    if is_lookup {
        state.metrics.lookup("rate_limited");
    }
    too_many_requests(&state, &kept, after, json).await
}

fn wants_json(req: &Request) -> bool {
    let path = req.uri().path();
    path.starts_with("/api/")
        || path.starts_with("/webhooks/")
        || crate::web::wants_json(req.headers())
}

/// Seconds until the client may retry, from a 429's headers.
fn retry_after(res: &Response) -> u64 {
    res.headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1)
}

/// The response for a client over its budget. Browsers get the lookup
/// page saying how long to wait, in their language; it is rendered once per
/// language and reused, so refusing a flood stays cheap.
pub async fn too_many_requests(
    state: &AppState,
    headers: &HeaderMap,
    after: u64,
    json: bool,
) -> Response {
    let mut res = if json {
        (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(serde_json::json!({"error": "rate_limited", "retry_after": after})),
        )
            .into_response()
    } else {
        let (lang, _) = choose_lang(None, headers);
        let template = match state.limiters.pages_cache.rate_limited(lang) {
            Some(t) => t,
            None => {
                let form = LookupForm {
                    notice: Some(LookupNotice::RateLimitedTemplate),
                    ..LookupForm::default()
                };
                let visitor = Visitor {
                    lang,
                    lang_from_query: false,
                    base_url: String::new(),
                    uri: axum::http::Uri::from_static("/"),
                };
                let chrome = crate::web::render::chrome(state, &visitor);
                let html =
                    crate::web::render::page_html(chrome, || crate::ui::lookup_page(form)).await;
                if !html.contains(WAIT_MARKER) {
                    // Kept only when it rendered right; a plain answer now,
                    // another try next time.
                    tracing::error!("the rate-limit page did not render; answering in plain text");
                    let mut res = (
                        StatusCode::TOO_MANY_REQUESTS,
                        "Too many requests. Please wait a little and try again.",
                    )
                        .into_response();
                    res.headers_mut().insert(header::RETRY_AFTER, after.into());
                    return res;
                }
                state.limiters.pages_cache.set_rate_limited(lang, html)
            }
        };
        let i18n = I18n::new(lang, *state.config.shop.timezone, state.catalog.clone());
        let html = template.replace(WAIT_MARKER, &i18n.duration(after));
        (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (
                    header::VARY,
                    HeaderValue::from_static("Accept-Language, Cookie"),
                ),
            ],
            html,
        )
            .into_response()
    };
    res.headers_mut().insert(header::RETRY_AFTER, after.into());
    res
}

/// Pages rendered once per language and reused.
#[derive(Debug, Default)]
pub struct PageCache {
    rate_limited: [OnceLock<Arc<str>>; Lang::ALL.len()],
}

impl PageCache {
    fn slot(&self, lang: Lang) -> &OnceLock<Arc<str>> {
        &self.rate_limited[lang.index()]
    }

    fn rate_limited(&self, lang: Lang) -> Option<Arc<str>> {
        self.slot(lang).get().cloned()
    }

    fn set_rate_limited(&self, lang: Lang, html: String) -> Arc<str> {
        self.slot(lang).get_or_init(|| html.into()).clone()
    }
}
