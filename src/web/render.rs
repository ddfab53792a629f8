//! Rendering a Leptos page into one complete HTML response.
//!
//! Pages are rendered in order to a single string: with no WASM there is
//! nothing to hydrate, so the hydration scripts Leptos would append (inline
//! `<script>`s that a strict CSP blocks) are dropped, and the response gets
//! a `Content-Length` instead of chunked streaming. Every page response,
//! GET, POST re-render or 404, goes through [`render_page`], which also
//! works out the request's language and base URL for the pages.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream::once;
use leptos::prelude::*;
use leptos_axum::handle_response_inner;
use leptos_integration_utils::{BoxedFnOnce, PinnedFuture, PinnedStream};

use super::AppState;
use crate::ui::i18n::{I18n, Lang};
use crate::ui::staff::StaffSession;
use crate::ui::{RequestContext, shell};

/// How long the language chosen with `?lang=` is remembered.
const LANG_COOKIE_MAX_AGE: u32 = 365 * 24 * 3600;

/// Renders the app for `req` (routing on its path), with `extra` context.
pub async fn render_page(
    state: AppState,
    req: Request,
    extra: impl Fn() + Clone + Send + 'static,
) -> Response {
    let (lang, from_query) = choose_lang(&req);
    let cx = RequestContext {
        i18n: I18n::new(lang, state.config.shop.timezone, state.catalog.clone()),
        base_url: base_url(&state, req.headers()),
        path: req
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_string(), |p| p.as_str().to_string()),
    };
    let options = state.leptos_options.clone();
    let staff = req.extensions().get::<StaffSession>().cloned();
    let context = move || {
        provide_context(state.clone());
        provide_context(cx.clone());
        if let Some(s) = staff.clone() {
            provide_context(s);
        }
        extra();
    };
    let res = handle_response_inner(context, move || shell(options), req, html_only).await;
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "page rendering failed");
            return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let h = &mut parts.headers;
    h.remove(header::TRANSFER_ENCODING);
    h.insert(header::CONTENT_LENGTH, bytes.len().into());
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    if from_query {
        let cookie = format!(
            "lang={}; Path=/; Max-Age={LANG_COOKIE_MAX_AGE}; SameSite=Lax",
            lang.code()
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.append(header::SET_COOKIE, v);
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// `GET` of any Leptos route.
pub async fn page(State(state): State<AppState>, req: Request) -> Response {
    render_page(state, req, || {}).await
}

/// `?lang=`, then the `lang` cookie, then `Accept-Language`, then English.
/// The flag says whether the choice came from the query (and so should be
/// remembered).
pub(crate) fn choose_lang(req: &Request) -> (Lang, bool) {
    let query = req.uri().query().unwrap_or("");
    if let Some(lang) = query
        .split('&')
        .filter_map(|kv| kv.strip_prefix("lang="))
        .find_map(Lang::from_code)
    {
        return (lang, true);
    }
    let headers = req.headers();
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix("lang="))
        .find_map(Lang::from_code);
    if let Some(lang) = cookie {
        return (lang, false);
    }
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::negotiate);
    (accepted.unwrap_or(Lang::En), false)
}

/// The base of links the site hands out: the configured public URL; else,
/// for a site reached on this machine (the demo), the Host it was reached
/// by; else the listen address. Without `public_url` a Host header is not
/// believed: anyone can write one, and a link shared with a customer must
/// not point at a host an attacker chose.
pub(crate) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.clone();
    }
    let addr = state.config.addr.to_string();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| *h == addr || is_loopback_host(h));
    match host {
        Some(h) => format!("http://{h}"),
        None => format!("http://{addr}"),
    }
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((n, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty() => n,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn html_only<IV>(
    app: IV,
    _hydration_chunks: BoxedFnOnce<PinnedStream<String>>,
    _supports_out_of_order: bool,
) -> PinnedFuture<PinnedStream<String>>
where
    IV: IntoView + 'static,
{
    Box::pin(async move {
        let html = app.to_html_stream_in_order().collect::<String>().await;
        Box::pin(once(async move { html })) as PinnedStream<String>
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_this_machines_names_are_loopback_hosts() {
        for h in [
            "localhost",
            "localhost:3000",
            "127.0.0.1:3000",
            "127.1.2.3",
            "[::1]:80",
            "[::1]",
        ] {
            assert!(super::is_loopback_host(h), "{h}");
        }
        for h in [
            "evil.example",
            "evil.example:3000",
            "localhost.evil.example",
            "10.0.0.1:3000",
            "",
        ] {
            assert!(!super::is_loopback_host(h), "{h}");
        }
    }
}
