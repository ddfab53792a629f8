//! `/staff/accounts`: the list for everyone signed in; adding, changing a
//! role and removing for admins (each answers 303 to the list, with a
//! notice). Each change is in the audit log, and a
//! changed or removed account's sessions end at once (see
//! [`crate::staff`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::StaffSession;
use super::flash::{Flash, Flashed, redirect};
use crate::actions::AuditEntry;
use crate::staff::{Accounts, Role, StaffError};
use crate::ui::staff::{AccountRow, AccountsView};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::extract::WebForm;
use crate::web::extract::{Named, WebPath};
use crate::web::render::{Visitor, html};

/// The page, with what an action did (`notice`) and its status code.
async fn page(
    state: &AppState,
    visitor: &Visitor,
    staff: StaffSession,
    notice: Option<(String, bool)>,
    code: StatusCode,
) -> Result<Response, WebError> {
    let accounts =
        Accounts::load_from(&state.config.data_dir, state.shared_accounts.as_ref()).await?;
    let rows = accounts
        .all()
        .iter()
        .map(|a| AccountRow {
            name: a.name.clone(),
            role: a.role.as_str().to_string(),
            created_at: a.created_at,
        })
        .collect();
    let view = AccountsView {
        rows,
        admin: staff.role == Role::Admin,
        notice,
    };
    Ok(html(state, visitor, code, move || {
        crate::ui::staff::accounts_page(staff.name, view)
    })
    .await)
}

/// `GET /staff/accounts`.
pub async fn accounts(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    Flashed(flash): Flashed,
) -> Result<Response, WebError> {
    let notice = flash.and_then(Flash::notice);
    page(&state, &visitor, staff, notice, StatusCode::OK).await
}

/// The add form.
#[derive(Debug, Default, Deserialize)]
pub struct AddInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
}

/// The text key for a refused change (the staff layer's own words are
/// English; the page speaks the console's language).
fn refusal(e: &StaffError) -> Option<&'static str> {
    Some(match e {
        StaffError::BadName => "accounts.bad_name",
        StaffError::WeakPassword => "accounts.weak_password",
        StaffError::LongPassword => "accounts.long_password",
        StaffError::Exists(_) => "accounts.exists",
        StaffError::NoSuchAccount(_) => "accounts.no_such",
        StaffError::LastAdmin => "accounts.last_admin",
        StaffError::File { .. } | StaffError::Hash(_) | StaffError::Shared(_) => return None,
    })
}

/// Runs `change` on the accounts file (off the async workers: argon2 is
/// slow on purpose), logs it, and answers with the page.
async fn change(
    state: AppState,
    visitor: Visitor,
    staff: StaffSession,
    what: (&'static str, String, &'static str),
    change: impl Fn(&mut Accounts) -> Result<(), StaffError> + Send + Sync + 'static,
) -> Result<Response, WebError> {
    let (action, detail, done_key) = what;
    let result = Accounts::change(
        &state.config.data_dir,
        state.shared_accounts.as_ref(),
        change,
    )
    .await;
    let i = visitor.i18n(&state);
    match result {
        Ok(()) => {
            tracing::info!(staff = %staff.name, action, "staff account changed");
            let entry = AuditEntry::new(&staff.actor(), action, None, detail);
            if let Err(e) = state.audit.append(vec![entry]).await {
                tracing::error!(error = %crate::errors::chain(&e), "cannot write the audit log");
            }
            let notice = Flash::Notice {
                text: i.t(done_key),
                ok: true,
            };
            Ok(redirect(&state, "/staff/accounts", &notice))
        }
        Err(e) => match refusal(&e) {
            Some(key) => {
                let notice = Some((i.t(key), false));
                page(
                    &state,
                    &visitor,
                    staff,
                    notice,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            None => Err(e.into()),
        },
    }
}

fn role_of(s: &str) -> Result<Role, WebError> {
    Role::parse(s)
        .ok_or_else(|| WebError::bad_request(StatusCode::UNPROCESSABLE_ENTITY, "error.role_names"))
}

/// `POST /staff/accounts`: adds an account.
pub async fn add(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebForm(input): WebForm<AddInput>,
) -> Result<Response, WebError> {
    let role = role_of(&input.role)?;
    let name = input.name.trim().to_string();
    let detail = format!("{name} ({})", role.as_str());
    change(
        state,
        visitor,
        staff,
        ("account.add", detail, "accounts.added_done"),
        move |a| a.add_with_role(&name, &input.password, role),
    )
    .await
}

/// The role form.
#[derive(Debug, Default, Deserialize)]
pub struct RoleInput {
    #[serde(default)]
    role: String,
}

/// `POST /staff/accounts/{name}/role`.
pub async fn set_role(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebPath(Named { name }): WebPath<Named>,
    WebForm(input): WebForm<RoleInput>,
) -> Result<Response, WebError> {
    let role = role_of(&input.role)?;
    let detail = format!("{name} -> {}", role.as_str());
    change(
        state,
        visitor,
        staff,
        ("account.role", detail, "accounts.role_done"),
        move |a| a.set_role(&name, role),
    )
    .await
}

/// `POST /staff/accounts/{name}/remove`.
pub async fn remove(
    State(state): State<AppState>,
    visitor: Visitor,
    staff: StaffSession,
    WebPath(Named { name }): WebPath<Named>,
) -> Result<Response, WebError> {
    change(
        state,
        visitor,
        staff,
        ("account.remove", name.clone(), "accounts.removed_done"),
        move |a| a.remove(&name),
    )
    .await
}
