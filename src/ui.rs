//! The Leptos pages, rendered on the server only (no WASM): the shell,
//! the router and the pages. Every page is plain HTML that works with
//! JavaScript switched off; forms are ordinary `<form>`s.
//!
//! Pages read what they need from [`AppState`] (provided as context by
//! `leptos_routes_with_context`); the store answers in microseconds, so
//! pages read it directly instead of through async resources and the whole
//! page is in the first chunk of the response.

mod lookup;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::web::AppState;

pub use lookup::LookupPage;

/// The HTML document around every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let state = use_context::<AppState>();
    let css = state
        .as_ref()
        .map(|s| s.assets.css_href.clone())
        .unwrap_or_else(|| "/style/main.css".into());
    let accent = state
        .as_ref()
        .map(|s| format!("--accent: {}", s.config.shop.accent_color))
        .unwrap_or_default();
    let _ = options;
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="stylesheet" href=css />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <MetaTags />
            </head>
            <body style=accent>
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
            </Routes>
        </Router>
    }
}

/// The shop's header: logo or name, linking home.
#[component]
pub fn ShopHeader() -> impl IntoView {
    let state = expect_context::<AppState>();
    let shop = &state.config.shop;
    let name = shop.name.clone();
    let logo = shop.logo_url.clone().map(|src| {
        view! { <img class="logo" src=src alt="" width="32" height="32" /> }
    });
    view! {
        <header class="site-header">
            <a class="brand" href="/">
                {logo}
                <span>{name}</span>
            </a>
        </header>
    }
}

/// Any path we do not serve.
#[component]
fn NotFound() -> impl IntoView {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <ShopHeader />
        <main id="main" class="page">
            <h1>"Page not found"</h1>
            <p>
                "There is nothing at this address. "
                <a href="/">"Look up an order"</a>
            </p>
        </main>
    }
}
