//! The Leptos pages, rendered on the server only (no WASM), to one HTML
//! string each. Every page is plain HTML that works with JavaScript
//! switched off; forms are ordinary `<form>`s posting to the page's own URL
//! (see `web::lookup`), not server functions: a no-JS server-function form
//! redirects back and can carry its state only in the URL, and a lookup's
//! state includes the email, which never goes in a URL.
//!
//! Components only render what they are given: each page is a function of
//! plain data (a [`crate::shopper::ShopperView`], a form, search results)
//! that the handlers in `web` load, plus the [`Chrome`] of the request (the
//! language, the shop's name and logo, asset URLs). Nothing here reads the
//! store, counts metrics or knows about HTTP, so the same components render
//! in a unit test, a snapshot, or a status email ([`email`]).

pub mod email;
mod lookup;
mod shopper_mail;
pub mod staff;
mod status;

use leptos::prelude::*;
use leptos_meta::{Meta, MetaTags, Title};

use crate::i18n::{I18n, Lang};

pub use lookup::{
    EmbedLook, EmbedScheme, LookupForm, LookupNotice, WAIT_MARKER, embed_page, lookup_page,
};
pub use shopper_mail::{Unsubscribe, link_page, unsubscribe_page};
pub use status::{link_invalid_page, percent_encode, status_page};

/// What every page knows about the request and the shop: given by the
/// handler, provided to the components while the page renders.
#[derive(Clone, Debug)]
pub struct Chrome {
    pub i18n: I18n,
    pub shop_name: String,
    pub logo_url: Option<String>,
    pub support_email: Option<String>,
    /// The shop's own site ("Continue shopping").
    pub shop_url: Option<String>,
    /// The shop's country (`SE`): times are shown in its zone, named for
    /// shoppers elsewhere (always, when the country is not known).
    pub shop_country: Option<String>,
    /// `/style/main.css?v=...`, `/style/theme.css?v=...`, `/share.js?v=...`.
    pub css_href: String,
    pub theme_href: String,
    pub share_js_href: String,
    pub embed_js_href: String,
    /// `/staff.js?v=...`: the console's keyboard.
    pub staff_js_href: String,
}

/// A page: its `<title>`, whether it is private (an order or the staff
/// console: never cached, never indexed), and what goes in `<body>`.
pub struct Page {
    pub title: String,
    pub private: bool,
    pub body: AnyView,
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("title", &self.title)
            .field("private", &self.private)
            .finish_non_exhaustive()
    }
}

/// The chrome of the page being rendered.
pub fn chrome() -> Chrome {
    expect_context::<Chrome>()
}

/// The HTML document around `page`, with [`Chrome`] in context. Its title
/// and `robots` tag go through leptos_meta, which puts them into the head
/// (`<MetaTags/>`) when the page is served.
pub fn document(page: Page) -> impl IntoView {
    leptos_meta::provide_meta_context();
    let chrome = chrome();
    let Page {
        title,
        private,
        body,
    } = page;
    let robots = private.then(|| view! { <Meta name="robots" content="noindex" /> });
    view! {
        <!DOCTYPE html>
        <html lang=chrome.i18n.lang.code()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="stylesheet" href=chrome.css_href.clone() />
                <link rel="stylesheet" href=chrome.theme_href.clone() />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <MetaTags />
            </head>
            <body>
                <Title text=title />
                {robots}
                {body}
            </body>
        </html>
    }
}

/// The shop's header: logo or name linking home, and the language switch.
#[component]
pub fn ShopHeader() -> impl IntoView {
    let cx = chrome();
    let name = cx.shop_name.clone();
    let logo = cx.logo_url.clone().map(|src| {
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
    let cx = chrome();
    let current = cx.i18n.lang;
    let names: Vec<(Lang, String)> = Lang::ALL
        .iter()
        .map(|lang| {
            let name = I18n::new(*lang, cx.i18n.tz, cx.i18n.catalog()).t("meta.name");
            (*lang, name)
        })
        .collect();
    let current_name = names
        .iter()
        .find(|(l, _)| *l == current)
        .map(|(_, n)| n.clone())
        .unwrap_or_default();
    let links = names
        .into_iter()
        .map(|(lang, name)| {
            let href = format!("?lang={}", lang.code());
            let is_current = lang == current;
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
    // Seven names do not fit a phone's header in a row: a disclosure
    // (works without JavaScript) shows the current one and opens a list.
    view! {
        <nav class="lang" aria-label=cx.i18n.t("site.language")>
            <details>
                <summary>{current_name}</summary>
                <ul>{links}</ul>
            </details>
        </nav>
    }
}

/// Any path we do not serve.
pub fn not_found_page() -> Page {
    let i = chrome().i18n;
    Page {
        title: i.t("site.not_found_title"),
        private: false,
        body: view! {
            <ShopHeader />
            <main id="main" class="page">
                <h1>{i.t("site.not_found_title")}</h1>
                <p>{i.t("site.not_found_body")} " " <a href="/">{i.t("site.look_up")}</a></p>
            </main>
        }
        .into_any(),
    }
}

/// A request that cannot be done as sent (a 4xx): what was wrong, by the
/// key of its message, in the visitor's language.
pub fn error_page(key: &'static str) -> Page {
    let i = chrome().i18n;
    Page {
        title: i.t("error.title"),
        private: true,
        body: view! {
            <ShopHeader />
            <main id="main" class="page">
                <h1>{i.t("error.title")}</h1>
                <p role="alert">{i.t(key)}</p>
                <p>{i.t("error.back")}</p>
            </main>
        }
        .into_any(),
    }
}

/// The store cannot be read right now: try again shortly.
pub fn retry_page() -> Page {
    let i = chrome().i18n;
    Page {
        title: i.t("site.unavailable_title"),
        private: true,
        body: view! {
            <ShopHeader />
            <main id="main" class="page">
                <h1>{i.t("site.unavailable_title")}</h1>
                <p role="alert">{i.t("lookup.unavailable")}</p>
                <p><a href="">{i.t("site.try_again")}</a></p>
            </main>
        }
        .into_any(),
    }
}
