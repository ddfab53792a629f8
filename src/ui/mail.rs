//! The shopper's pages about emails: "Email me my link" (`/link`) and the
//! unsubscribe page a status email links to.

use leptos::prelude::*;

use super::{Page, ShopHeader, chrome};
use crate::order::MAX_ORDER_REF_LEN;

/// The `/link` form: what was typed, messages per field, and whether the
/// request was taken (the answer is the same whether or not it matched).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkForm {
    pub order: String,
    pub email: String,
    pub order_error: Option<&'static str>,
    pub email_error: Option<&'static str>,
    pub sent: bool,
}

/// `/link`: ask for the status link by email.
pub fn link_page(form: LinkForm) -> Page {
    let i = chrome().i18n;
    let cx = chrome();
    let t = |k: &str| i.t(k);
    let sent = form.sent.then(|| {
        view! {
            <p class="notice ok" role="status" id="link-sent">
                {t("link.sent")}
            </p>
        }
    });
    let order_error = form
        .order_error
        .map(|k| view! { <p class="field-error" id="order-error">{t(k)}</p> });
    let email_error = form
        .email_error
        .map(|k| view! { <p class="field-error" id="email-error">{t(k)}</p> });
    Page {
        title: format!("{} · {}", t("link.title"), cx.shop_name),
        private: false,
        body: view! {
            <ShopHeader />
            <main id="main" class="page lookup">
                <h1>{t("link.title")}</h1>
                <p class="lede">{t("link.lede")}</p>
                <form method="post" action="/link" class="card lookup-form" novalidate>
                    {sent}
                    <div class="field">
                        <label for="order">{t("lookup.order_label")}</label>
                        <input
                            id="order"
                            name="order"
                            type="text"
                            autocomplete="off"
                            required
                            maxlength=MAX_ORDER_REF_LEN.to_string()
                            value=form.order.clone()
                            aria-invalid=form.order_error.map(|_| "true")
                            aria-describedby=form.order_error.map(|_| "order-error")
                        />
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
                    <button type="submit">{t("link.submit")}</button>
                </form>
                <p><a href="/">{t("site.look_up")}</a></p>
            </main>
        }
        .into_any(),
    }
}

/// Where the unsubscribe page is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsubscribe {
    /// Asking: which scope? (`action` is the form's own URL.)
    Ask { order_name: String, action: String },
    /// Done for the order.
    DoneOrder { order_name: String },
    /// Done for the address.
    DoneAddress,
    /// Not a link of ours.
    Invalid,
}

/// `/unsubscribe/{token}`.
pub fn unsubscribe_page(state: Unsubscribe) -> Page {
    let i = chrome().i18n;
    let cx = chrome();
    let body = match state {
        Unsubscribe::Ask { order_name, action } => view! {
            <p class="lede">{i.tf("unsubscribe.ask", &[("name", &order_name)])}</p>
            <form method="post" action=action.clone() class="card">
                <input type="hidden" name="scope" value="order" />
                <button type="submit">{i.t("unsubscribe.order")}</button>
            </form>
            <form method="post" action=action class="card">
                <input type="hidden" name="scope" value="address" />
                <button type="submit" class="secondary">{i.t("unsubscribe.address")}</button>
            </form>
        }
        .into_any(),
        Unsubscribe::DoneOrder { order_name } => view! {
            <p class="notice ok" role="status">
                {i.tf("unsubscribe.done_order", &[("name", &order_name)])}
            </p>
        }
        .into_any(),
        Unsubscribe::DoneAddress => view! {
            <p class="notice ok" role="status">
                {i.tf("unsubscribe.done_address", &[("shop", &cx.shop_name)])}
            </p>
        }
        .into_any(),
        Unsubscribe::Invalid => view! {
            <p class="notice" role="alert">{i.t("unsubscribe.invalid")}</p>
        }
        .into_any(),
    };
    Page {
        title: format!("{} · {}", i.t("unsubscribe.title"), cx.shop_name),
        private: true,
        body: view! {
            <ShopHeader />
            <main id="main" class="page lookup">
                <h1>{i.t("unsubscribe.title")}</h1>
                {body}
            </main>
        }
        .into_any(),
    }
}
