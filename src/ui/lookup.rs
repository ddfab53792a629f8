//! The lookup page at `/`: the shop's name and a form asking for the order
//! number and the email used at checkout. The same form appears on the
//! "link not valid" page.
//!
//! The page shows the form it is given (by `web::lookup`): the values
//! typed, a message per field, or the one "not found" message that a wrong
//! email and an unknown order number share.

use leptos::prelude::*;

use super::{Page, ShopHeader, chrome};
use crate::order::MAX_ORDER_REF_LEN;

/// Page-wide messages of the lookup form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupNotice {
    /// Wrong email or unknown order number: deliberately the same.
    NotFound,
    /// A status link that is malformed, tampered with, expired or revoked.
    LinkInvalid,
    /// The order store cannot be read right now: try again shortly.
    Unavailable,
    /// Too many attempts from this client: try again in this many seconds.
    RateLimited(u64),
    /// The same, with [`WAIT_MARKER`] where the time goes: rendered once
    /// per language and filled in per response, since a flood of refused
    /// requests should cost next to nothing.
    RateLimitedTemplate,
    /// `/link`: the request was taken (matched or not: the same words).
    LinkSent,
}

/// Stands in for the waiting time in a [`LookupNotice::RateLimitedTemplate`].
pub const WAIT_MARKER: &str = "\u{27e6}wait\u{27e7}";

/// What the shopper typed and what was wrong with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupForm {
    pub order: String,
    pub email: String,
    /// Translation keys of the field messages.
    pub order_error: Option<&'static str>,
    pub email_error: Option<&'static str>,
    pub notice: Option<LookupNotice>,
}

/// `/`: find an order by number and email.
pub fn lookup_page(form: LookupForm) -> Page {
    let i = chrome().i18n;
    let cx = chrome();
    Page {
        title: format!("{} · {}", i.t("lookup.title"), cx.shop_name),
        private: false,
        body: view! {
            <ShopHeader />
            <main id="main" class="page lookup">
                <h1>{i.t("lookup.title")}</h1>
                <p class="lede">{i.t("lookup.lede")}</p>
                <LookupFormView form=form />
                <p class="link-ask">
                    <a href="/link">{i.t("link.ask")}</a>
                </p>
            </main>
        }
        .into_any(),
    }
}

/// How the embedded form looks on the merchant's page.
#[derive(Debug, Clone, Default)]
pub struct EmbedLook {
    /// Some origin may frame it (`embed_origins`); if none may, the page
    /// says how to allow one, for the merchant trying it.
    pub allowed: bool,
    /// The host page's colour scheme: `light` (the default, as a page that
    /// declares none), `dark`, or `auto` (the visitor's). A frame whose
    /// scheme differs from its page's is painted opaque by browsers.
    pub scheme: EmbedScheme,
    /// A stylesheet with the host page's accent colour, when one was given.
    pub accent_href: Option<String>,
}

/// The colour scheme of the page that frames the form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EmbedScheme {
    #[default]
    Light,
    Dark,
    Auto,
}

impl EmbedScheme {
    /// `?scheme=`'s value; anything else is the default.
    pub fn parse(s: Option<&str>) -> EmbedScheme {
        match s {
            Some("dark") => EmbedScheme::Dark,
            Some("auto") => EmbedScheme::Auto,
            _ => EmbedScheme::Light,
        }
    }

    fn class(self) -> &'static str {
        match self {
            EmbedScheme::Light => "page embed embed-light",
            EmbedScheme::Dark => "page embed embed-dark",
            EmbedScheme::Auto => "page embed",
        }
    }
}

/// `/embed`: just the form, for merchants to frame in their own pages (the
/// origins allowed to frame it are configured). Transparent, in the host
/// page's scheme and accent; a small script reports its height to the
/// host page. The form opens the status page in the whole window, since
/// the status page itself is never framed; "email me my link" opens in a
/// new one.
pub fn embed_page(look: EmbedLook) -> Page {
    let cx = chrome();
    let i = cx.i18n;
    let not_allowed = (!look.allowed).then(|| {
        view! { <p class="notice" role="note">{i.t("embed.not_allowed")}</p> }
    });
    let accent = look
        .accent_href
        .map(|href| view! { <link rel="stylesheet" href=href /> });
    Page {
        title: i.t("lookup.title"),
        private: false,
        body: view! {
            {accent}
            <main id="main" class=look.scheme.class()>
                {not_allowed}
                <h1>{i.t("lookup.title")}</h1>
                <LookupFormView form=LookupForm::default() target_top=true />
                <p class="link-ask">
                    <a href="/link" target="_blank" rel="noopener">{i.t("link.ask")}</a>
                </p>
            </main>
            <script src=cx.embed_js_href defer></script>
        }
        .into_any(),
    }
}

/// The form itself, with its messages. It posts to `/` unless `action`
/// says otherwise (`/link` asks for the link by email with it).
#[component]
pub fn LookupFormView(
    form: LookupForm,
    #[prop(optional)] target_top: bool,
    #[prop(default = "/")] action: &'static str,
    #[prop(default = "lookup.submit")] submit: &'static str,
) -> impl IntoView {
    let cx = chrome();
    let t = |k: &str| cx.i18n.t(k);
    let notice = form.notice.map(|n| {
        let text = match n {
            LookupNotice::NotFound => t("lookup.not_found"),
            LookupNotice::LinkInvalid => t("lookup.link_invalid"),
            LookupNotice::Unavailable => t("lookup.unavailable"),
            LookupNotice::RateLimited(secs) => cx
                .i18n
                .tf("lookup.rate_limited", &[("wait", &cx.i18n.duration(secs))]),
            LookupNotice::RateLimitedTemplate => {
                cx.i18n.tf("lookup.rate_limited", &[("wait", WAIT_MARKER)])
            }
            LookupNotice::LinkSent => t("link.sent"),
        };
        // Good news is a status, not an alert.
        let (class, role) = match n {
            LookupNotice::LinkSent => ("notice ok", "status"),
            _ => ("notice", "alert"),
        };
        view! {
            <p class=class role=role id="lookup-notice">
                {text}
            </p>
        }
    });
    let order_error = form.order_error.map(|k| {
        view! {
            <p class="field-error" id="order-error">
                {t(k)}
            </p>
        }
    });
    let email_error = form.email_error.map(|k| {
        view! {
            <p class="field-error" id="email-error">
                {t(k)}
            </p>
        }
    });
    let order_describedby = if form.order_error.is_some() {
        "order-error order-hint"
    } else {
        "order-hint"
    };
    view! {
        <form
            method="post"
            action=action
            class="card lookup-form"
            novalidate
            target=target_top.then_some("_top")
        >
            {notice}
            <div class="field">
                <label for="order">{t("lookup.order_label")}</label>
                <input
                    id="order"
                    name="order"
                    type="text"
                    autocomplete="off"
                    autocapitalize="characters"
                    placeholder="#1001"
                    required
                    maxlength=MAX_ORDER_REF_LEN.to_string()
                    value=form.order.clone()
                    aria-invalid=form.order_error.map(|_| "true")
                    aria-describedby=order_describedby
                />
                <p class="hint" id="order-hint">
                    {t("lookup.order_hint")}
                </p>
                {order_error}
            </div>
            <div class="field">
                <label for="email">{t("lookup.email_label")}</label>
                <input
                    id="email"
                    name="email"
                    type="email"
                    autocomplete="email"
                    required
                    maxlength="254"
                    value=form.email.clone()
                    aria-invalid=form.email_error.map(|_| "true")
                    aria-describedby=form.email_error.map(|_| "email-error")
                />
                {email_error}
            </div>
            <button type="submit">{t(submit)}</button>
        </form>
    }
}
