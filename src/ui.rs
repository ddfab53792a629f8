//! The Leptos pages, rendered on the server only (no WASM): the shell,
//! the router and the pages. Every page is plain HTML that works with
//! JavaScript switched off; forms are ordinary `<form>`s posting to the
//! page's own URL (see `web::lookup`), not server functions: a no-JS
//! server-function form redirects back and can carry its state only in the
//! URL, and a lookup's state includes the email, which never goes in a URL.
//!
//! Pages read what they need from [`AppState`] and [`RequestContext`]
//! (both provided as context by `web::render`); the store answers in
//! microseconds, so pages read it directly instead of through async
//! resources and the whole page is rendered in one go.

pub mod i18n;
mod lookup;
pub mod staff;
mod status;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::web::AppState;
use i18n::{I18n, Lang};

pub use lookup::{LookupForm, LookupNotice, LookupPage, WAIT_MARKER};
pub use status::{StatusPage, mask_email};

/// What the pages need to know about the request being answered.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub i18n: I18n,
    /// `https://track.example.com`: where links to this site point.
    pub base_url: String,
    /// The request's path and query, for the language switch.
    pub path: String,
}

/// The request context `web::render` provides to every page.
pub fn request_context() -> RequestContext {
    expect_context::<RequestContext>()
}

/// Marks the page being rendered as private: never cached, never indexed
/// (order pages and the staff console).
pub(crate) fn private_page() {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.insert_header(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        res.insert_header(
            axum::http::HeaderName::from_static("x-robots-tag"),
            axum::http::HeaderValue::from_static("noindex, nofollow"),
        );
    }
}

/// The HTML document around every page.
pub fn shell(_options: LeptosOptions) -> impl IntoView {
    let state = expect_context::<AppState>();
    let cx = request_context();
    let css = state.assets.css_href.clone();
    let theme = state.assets.theme_href.clone();
    view! {
        <!DOCTYPE html>
        <html lang=cx.i18n.lang.code()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="stylesheet" href=css />
                <link rel="stylesheet" href=theme />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The routes of the site.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=LookupPage />
                <Route path=path!("/status/:token") view=StatusPage />
                <Route path=path!("/embed") view=lookup::EmbedPage />
                <Route path=path!("/staff") view=staff::StaffSearchPage />
                <Route path=path!("/staff/login") view=staff::StaffLoginPage />
                <Route path=path!("/staff/orders/:shop/:id") view=staff::StaffOrderPage />
            </Routes>
        </Router>
    }
}

/// The shop's header: logo or name linking home, and the language switch.
#[component]
pub fn ShopHeader() -> impl IntoView {
    let state = expect_context::<AppState>();
    let cx = request_context();
    let shop = &state.config.shop;
    let name = shop.name.clone();
    let logo = shop.logo_url.clone().map(|src| {
        view! { <img class="logo" src=src alt="" width="32" height="32" /> }
    });
    view! {
        <a class="skip" href="#main">{cx.i18n.t("site.skip")}</a>
        <header class="site-header">
            <a class="brand" href="/">
                {logo}
                <span>{name}</span>
            </a>
            <LanguageSwitch />
        </header>
    }
}

/// Links to this page in every language (`?lang=` sticks via a cookie).
/// The links are the query alone, relative to the page: echoing the path
/// would turn a request for `//evil.example` into a link off-site.
#[component]
fn LanguageSwitch() -> impl IntoView {
    let cx = request_context();
    let current = cx.i18n.lang;
    let links = Lang::ALL
        .iter()
        .map(|lang| {
            let name = I18n::new(*lang, cx.i18n.tz, cx.i18n.catalog()).t("meta.name");
            let href = format!("?lang={}", lang.code());
            let is_current = *lang == current;
            view! {
                <li>
                    <a
                        href=href
                        hreflang=lang.code()
                        lang=lang.code()
                        aria-current=is_current.then_some("true")
                    >
                        {name}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="lang" aria-label=cx.i18n.t("site.language")>
            <ul>{links}</ul>
        </nav>
    }
}

/// Any path we do not serve.
#[component]
fn NotFound() -> impl IntoView {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    let cx = request_context();
    view! {
        <Title text=cx.i18n.t("site.not_found_title") />
        <ShopHeader />
        <main id="main" class="page">
            <h1>{cx.i18n.t("site.not_found_title")}</h1>
            <p>{cx.i18n.t("site.not_found_body")} " " <a href="/">{cx.i18n.t("site.look_up")}</a></p>
        </main>
    }
}
