//! The shopper's pages about emails: "Email me my link" (`/link`) and the
//! unsubscribe page a status email links to.

use leptos::prelude::*;

use super::lookup::{LookupForm, LookupFormView};
use super::{Page, ShopHeader, chrome};

/// `/link`: ask for the status link by email (the lookup form, posting
/// to `/link`; [`super::LookupNotice::LinkSent`] once taken).
pub fn link_page(form: LookupForm) -> Page {
    let i = chrome().i18n;
    let cx = chrome();
    Page {
        title: format!("{} · {}", i.t("link.title"), cx.shop_name),
        private: false,
        body: view! {
            <ShopHeader />
            <main id="main" class="page lookup">
                <h1>{i.t("link.title")}</h1>
                <p class="lede">{i.t("link.lede")}</p>
                <LookupFormView form=form action="/link" submit="link.submit" />
                <p>
                    <a href="/">{i.t("site.look_up")}</a>
                </p>
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
