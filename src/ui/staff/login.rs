//! `/staff/login`: the sign-in form, again with the name typed after a
//! failed try.

use leptos::prelude::*;

use super::super::{Page, ShopHeader, chrome};

/// What was typed on the sign-in form, after a failed try.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoginForm {
    pub name: String,
    pub failed: bool,
}

/// `/staff/login`: `next` is where to go once signed in (a staff path;
/// anything else is replaced by `/staff`).
pub fn login_page(form: LoginForm, next: &str) -> Page {
    let i = chrome().i18n;
    let next = if super::is_staff_path(next) {
        next.to_string()
    } else {
        "/staff".to_string()
    };
    let error = form.failed.then(|| {
        view! { <p class="notice" role="alert">{i.t("staff.login_failed")}</p> }
    });
    Page {
        title: i.t("staff.login_title"),
        private: true,
        body: view! {
            <ShopHeader />
            <main id="main" class="page">
                <h1>{i.t("staff.login_title")}</h1>
                <form method="post" action="/staff/login" class="card">
                    {error}
                    <input type="hidden" name="next" value=next />
                    <div class="field">
                        <label for="name">{i.t("staff.name")}</label>
                        <input id="name" name="name" type="text" autocomplete="username" required maxlength="64" value=form.name />
                    </div>
                    <div class="field">
                        <label for="password">{i.t("staff.password")}</label>
                        <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" />
                    </div>
                    <button type="submit">{i.t("staff.sign_in")}</button>
                </form>
            </main>
        }
        .into_any(),
    }
}
