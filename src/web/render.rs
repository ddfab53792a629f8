//! Turning a page from `ui` into a response, and what every page needs to
//! know about its request.
//!
//! [`Visitor`] is an extractor: the visitor's language (`?lang=`, the
//! `lang` cookie, `Accept-Language`) and the base URL of links the site
//! hands out. [`html`] renders a page with the shop's [`Chrome`] to one
//! complete HTML string: with no WASM there is nothing to hydrate, so no
//! hydration scripts (which a strict CSP would block), and the response
//! gets a `Content-Length` instead of chunked streaming. A language chosen
//! with `?lang=` is remembered in a cookie; private pages (orders, staff)
//! are `no-store` and `noindex`.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

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
}

impl Visitor {
    pub fn of(state: &AppState, parts: &Parts) -> Visitor {
        Visitor::from_headers(state, parts.uri.query(), &parts.headers)
    }

    /// The visitor of a request with this query string and these headers.
    pub fn from_headers(state: &AppState, query: Option<&str>, headers: &HeaderMap) -> Visitor {
        let (lang, lang_from_query) = choose_lang(query, headers);
        Visitor {
            lang,
            lang_from_query,
            base_url: base_url(state, headers),
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
        css_href: state.assets.css_href.clone(),
        theme_href: state.assets.theme_href.clone(),
        share_js_href: state.assets.share_js_href.clone(),
    }
}

/// Renders `page` as a complete HTML response with `status`.
pub fn html(
    state: &AppState,
    visitor: &Visitor,
    status: StatusCode,
    page: impl FnOnce() -> Page,
) -> Response {
    let rendered = crate::ui::render(chrome(state, visitor), page);
    let mut res = Response::new(Body::from(rendered.html));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    if rendered.private {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            HeaderName::from_static("x-robots-tag"),
            HeaderValue::from_static("noindex, nofollow"),
        );
    }
    if visitor.lang_from_query {
        // A preference, not a secret: a plain cookie, readable by the page.
        let cookie = Cookie::build((LANG_COOKIE, visitor.lang.code()))
            .path("/")
            .max_age(cookie::time::Duration::seconds(LANG_COOKIE_MAX_AGE))
            .same_site(SameSite::Lax)
            .build();
        if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
            h.append(header::SET_COOKIE, v);
        }
    }
    res
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
