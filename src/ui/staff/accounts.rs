//! `/staff/accounts`: who may use the console and with which role. Every
//! signed-in person sees the list; admins also add people, change roles
//! and remove accounts here (or with `order-status staff`).

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::super::{Page, chrome};

/// One account as the page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRow {
    pub name: String,
    /// `viewer`, `agent`, `admin`.
    pub role: String,
    pub created_at: DateTime<Utc>,
}

/// What the page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountsView {
    pub rows: Vec<AccountRow>,
    pub admin: bool,
    /// What an action did, or why it was refused (a text key and whether
    /// it went well).
    pub notice: Option<(String, bool)>,
}

const ROLES: [&str; 3] = ["viewer", "agent", "admin"];

fn role_options(i: &crate::i18n::I18n, selected: &str) -> impl IntoView + use<> {
    ROLES
        .iter()
        .map(|r| {
            view! { <option value=*r selected=*r == selected>{i.t(&format!("accounts.role_{r}"))}</option> }
        })
        .collect_view()
}

/// `/staff/accounts`.
pub fn accounts_page(who: String, v: AccountsView) -> Page {
    let i = chrome().i18n;
    let notice = v.notice.map(|(text, ok)| super::notice(text, ok));
    // The last admin's role cannot change nor the account go (the staff
    // layer refuses both): not offered.
    let admins = v.rows.iter().filter(|a| a.role == "admin").count();
    let rows = v
        .rows
        .iter()
        .map(|a| {
            let enc = super::super::status::percent_encode(&a.name);
            let only_admin = a.role == "admin" && admins == 1;
            let role_cell = if v.admin && !only_admin {
                let id = format!("role-{}", a.name);
                view! {
                    <form method="post" action=format!("/staff/accounts/{enc}/role") class="inline-form">
                        <label for=id.clone() class="visually-hidden">{i.tf("accounts.role_of", &[("name", &a.name)])}</label>
                        <select id=id name="role">{role_options(&i, &a.role)}</select>
                        <button type="submit">{i.t("accounts.change_role")}</button>
                    </form>
                }
                .into_any()
            } else if v.admin {
                view! {
                    {i.t(&format!("accounts.role_{}", a.role))}
                    <p class="meta">{i.t("accounts.only_admin")}</p>
                }
                .into_any()
            } else {
                view! { {i.t(&format!("accounts.role_{}", a.role))} }.into_any()
            };
            let remove = (v.admin && !only_admin).then(|| {
                view! {
                    <form method="post" action=format!("/staff/accounts/{enc}/remove")>
                        <button type="submit" class="secondary" aria-label=i.tf("accounts.remove_who", &[("name", &a.name)])>
                            {i.t("accounts.remove")}
                        </button>
                    </form>
                }
            });
            view! {
                <tr>
                    <td>{a.name.clone()}</td>
                    <td>{role_cell}</td>
                    <td>{i.date_time(a.created_at)}</td>
                    <td>{remove}</td>
                </tr>
            }
        })
        .collect_view();
    let add = if v.admin {
        view! {
            <section class="card" aria-labelledby="add-title">
                <h2 id="add-title">{i.t("accounts.add_title")}</h2>
                <form method="post" action="/staff/accounts" class="stack-form">
                    <label for="new-name">{i.t("staff.name")}</label>
                    <input id="new-name" name="name" type="text" required maxlength="64" autocomplete="off" />
                    <label for="new-password">{i.t("staff.password")}</label>
                    <input id="new-password" name="password" type="password" required minlength="10" maxlength="1024" autocomplete="new-password" />
                    <label for="new-role">{i.t("accounts.role")}</label>
                    <select id="new-role" name="role">{role_options(&i, "agent")}</select>
                    <button type="submit">{i.t("accounts.add")}</button>
                </form>
            </section>
        }
        .into_any()
    } else {
        view! { <p class="meta">{i.t("accounts.admins_only")}</p> }.into_any()
    };
    let body = view! {
        {notice}
        <p>{i.t("accounts.roles_explained")}</p>
        <table>
            <thead><tr>
                <th scope="col">{i.t("staff.name")}</th>
                <th scope="col">{i.t("accounts.role")}</th>
                <th scope="col">{i.t("accounts.added")}</th>
                <th scope="col"><span class="visually-hidden">{i.t("accounts.remove")}</span></th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {add}
    };
    super::console_page(who, i.t("accounts.title"), true, body.into_any())
}
