//! Turning a page from `ui` into a response, and what every page needs to
//! know about its request.
//!
//! [`Visitor`] is an extractor: the visitor's language (`?lang=`, the
//! `lang` cookie, `Accept-Language`), the base URL of links the site
//! hands out, and the address asked for. [`html`] serves a page through
//! leptos_axum: the handler has loaded the data and built the page; the
//! shop's [`Chrome`] is provided as context, leptos_meta puts the title
//! and meta tags into the head, and the page's status and headers are set
//! through leptos_axum's `ResponseOptions` (a language chosen with `?lang=`
//! is remembered in a cookie; private pages, orders and the console, are
//! `no-store` and `noindex`). With no WASM there is nothing to hydrate, so
//! no hydration scripts (which the strict CSP would block); the page is
//! rendered whole and sent with a `Content-Length`, in one write.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use futures_util::Stream;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use super::AppState;
use crate::i18n::{I18n, Lang};
use crate::ui::{Chrome, Page};

/// The language chosen with `?lang=`, remembered.
const LANG_COOKIE: &str = "lang";
/// How long the chosen language is remembered.
const LANG_COOKIE_MAX_AGE: i64 = 365 * 24 * 3600;

/// Who is asking, as far as rendering cares.
#[derive(Clone, Debug)]
pub struct Visitor {
    pub lang: Lang,
    /// Whether the language came from `?lang=` (and so is remembered).
    pub lang_from_query: bool,
    /// `https://track.example.com`: where links to this site point.
    pub base_url: String,
    /// The address asked for (what leptos_axum renders the page at).
    pub uri: Uri,
}

impl Visitor {
    pub fn of(state: &AppState, parts: &Parts) -> Visitor {
        Visitor::from_headers(state, &parts.uri, &parts.headers)
    }

    /// The visitor of a request for `uri` with these headers.
    pub fn from_headers(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Visitor {
        let (lang, lang_from_query) = choose_lang(uri.query(), headers);
        Visitor {
            lang,
            lang_from_query,
            base_url: base_url(state, headers),
            uri: uri.clone(),
        }
    }

    /// The visitor's translations, with the shop's time zone.
    pub fn i18n(&self, state: &AppState) -> I18n {
        I18n::new(
            self.lang,
            *state.config.shop.timezone,
            state.catalog.clone(),
        )
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Visitor, Infallible> {
        Ok(Visitor::of(state, parts))
    }
}

/// The shop's chrome for `visitor`.
pub fn chrome(state: &AppState, visitor: &Visitor) -> Chrome {
    let shop = &state.config.shop;
    Chrome {
        i18n: visitor.i18n(state),
        shop_name: shop.name.to_string(),
        logo_url: shop.logo_url.as_ref().map(ToString::to_string),
        support_email: shop.support_email.as_ref().map(ToString::to_string),
        shop_url: shop.url.as_ref().map(ToString::to_string),
        shop_country: shop.country.as_ref().map(ToString::to_string),
        css_href: state.assets.css_href.clone(),
        theme_href: state.assets.theme_href.clone(),
        share_js_href: state.assets.share_js_href.clone(),
        embed_js_href: state.assets.embed_js_href.clone(),
        staff_js_href: state.assets.staff_js_href.clone(),
    }
}

/// Serves `page` (built by the handler from the data it loaded) with
/// `status`, through leptos_axum.
pub async fn html<P>(state: &AppState, visitor: &Visitor, status: StatusCode, page: P) -> Response
where
    P: FnOnce() -> Page + Send + 'static,
{
    let chrome = chrome(state, visitor);
    // A preference, not a secret: a plain cookie, readable by the page.
    let lang_cookie = visitor.lang_from_query.then(|| {
        Cookie::build((LANG_COOKIE, visitor.lang.code()))
            .path("/")
            .max_age(cookie::time::Duration::seconds(LANG_COOKIE_MAX_AGE))
            .same_site(SameSite::Lax)
            .build()
            .to_string()
    });
    render(chrome, visitor.uri.clone(), move || {
        let page = page();
        let res = expect_context::<ResponseOptions>();
        res.set_status(status);
        res.insert_header(
            header::VARY,
            HeaderValue::from_static("Accept-Language, Cookie"),
        );
        if page.private {
            res.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res.insert_header(
                HeaderName::from_static("x-robots-tag"),
                HeaderValue::from_static("noindex, nofollow"),
            );
        }
        if let Some(v) = lang_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
            res.append_header(header::SET_COOKIE, v);
        }
        page
    })
    .await
}

/// A page's HTML alone, rendered the way [`html`] serves it (for the
/// pages rendered once and reused, and for snapshots of pages).
pub async fn page_html<P>(chrome: Chrome, page: P) -> String
where
    P: FnOnce() -> Page + Send + 'static,
{
    let res = render(chrome, Uri::from_static("/"), page).await;
    match axum::body::to_bytes(res.into_body(), usize::MAX).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            tracing::error!(error = %crate::errors::chain(&e), "a page did not render");
            String::new()
        }
    }
}

/// leptos_axum renders the document around `page` for a request of `uri`,
/// with `chrome` in context; the body is collected so the page goes out
/// whole, with a `Content-Length`.
async fn render<P>(chrome: Chrome, uri: Uri, page: P) -> Response
where
    P: FnOnce() -> Page + Send + 'static,
{
    let mut req = Request::new(Body::empty());
    *req.uri_mut() = uri;
    let res = leptos_axum::handle_response_inner(
        move || provide_context(chrome.clone()),
        move || crate::ui::document(page()),
        req,
        whole_page,
    )
    .await;
    let (parts, body) = res.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => Response::from_parts(parts, Body::from(bytes)),
        Err(e) => {
            tracing::error!(error = %crate::errors::chain(&e), "a page did not render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// How Leptos spawns its tasks here: on tokio, after one poll in place.
///
/// leptos_meta waits a "tick" before reading the head of every page: it
/// spawns a task that only completes a channel, and waits for it. On
/// tokio that is a task, and a worker thread woken to steal it, for every
/// page (a fifth of the status page's throughput, measured). A future
/// that is done on its first poll is done here without a task; one that
/// is not is handed to tokio, which polls it again with a real waker (a
/// future must take the waker of each poll, so the first, no-op one is
/// never relied on).
#[derive(Debug)]
pub struct Spawner;

impl any_spawner::CustomExecutor for Spawner {
    fn spawn(&self, mut fut: any_spawner::PinnedFuture<()>) {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if fut.as_mut().poll(&mut cx).is_pending() {
            tokio::spawn(fut);
        }
    }

    fn spawn_local(&self, mut fut: any_spawner::PinnedLocalFuture<()>) {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if fut.as_mut().poll(&mut cx).is_pending() {
            tokio::task::spawn_local(fut);
        }
    }

    fn poll_local(&self) {}
}

type Chunks = Pin<Box<dyn Stream<Item = String> + Send>>;

/// The page rendered whole, in order. What leptos_axum would send after
/// it (`<script>`s handing resources to hydration) is left out: nothing
/// hydrates here, the pages load no resources, and the CSP allows no
/// inline script.
fn whole_page<IV: IntoView + 'static>(
    app: IV,
    _hydration_data: Box<dyn FnOnce() -> Chunks + Send>,
    _out_of_order: bool,
) -> Pin<Box<dyn Future<Output = Chunks> + Send>> {
    // Nothing on these pages waits (no resources, no Suspense): rendered
    // at once into one string, without the streaming renderer's chunks.
    let html = app.to_html();
    Box::pin(async move { Box::pin(futures_util::stream::once(async move { html })) as Chunks })
}

/// `?lang=`, then the `lang` cookie, then `Accept-Language`, then English.
/// The flag says whether the choice came from the query (and so should be
/// remembered).
pub(crate) fn choose_lang(query: Option<&str>, headers: &HeaderMap) -> (Lang, bool) {
    let asked = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == LANG_COOKIE)
        .find_map(|(_, v)| Lang::from_code(&v));
    if let Some(lang) = asked {
        return (lang, true);
    }
    let remembered = CookieJar::from_headers(headers)
        .get(LANG_COOKIE)
        .and_then(|c| Lang::from_code(c.value()));
    if let Some(lang) = remembered {
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
        return u.to_string();
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
