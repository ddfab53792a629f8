//! The staff console's HTTP side: its routes, grouped by the role they
//! need ([`router`]), the session gate in front of every `/staff` page but
//! the sign-in page and the [`StaffSession`] extractor, sign-in and
//! sign-out (here), search (`search`), an order and its actions (`order`),
//! tools, emails, fulfillment and accounts. The pages themselves are in
//! `ui::staff`.
//!
//! Without a valid session a browser is sent to the sign-in page (and back
//! afterwards); anything else gets 401. A signed-in person whose role is
//! below a group's gets 403. The session cookie (see
//! [`crate::staff`]) is signed by axum-extra's cookie jar, HttpOnly,
//! SameSite=Strict, Secure when the site is served over https, scoped to
//! `/staff` and valid for [`SESSION_HOURS`]. Signing out ends every
//! session of the account, on every device.

mod accounts;
mod emails;
mod flash;
mod fulfillment;
mod insights;
mod order;
mod search;
mod tools;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, SameSite, SignedCookieJar};
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::AppState;
use super::error::WebError;
use super::extract::{WebForm, WebQuery};
use super::render::{Visitor, html};
use crate::staff::{Accounts, Role, Session};
use crate::ui::staff::{LoginForm, is_staff_path};

pub use tools::{run_shared_bulk_jobs, spawn_bulk_job};

/// The console's routes. Viewers search and read (and share a link);
/// agents change orders; admins manage accounts and read the audit log.
/// Every route but sign-in is behind the session gate; forms take small
/// bodies.
pub fn router(state: &AppState) -> Router<AppState> {
    let form = DefaultBodyLimit::max(super::MAX_FORM_BYTES);
    let order = "/staff/orders/{shop}/{id}";
    let viewers = Router::new()
        .route("/staff", get(search::search))
        .route(order, get(order::order_page))
        .route(&format!("{order}/share"), post(order::share).layer(form))
        .route(&format!("{order}/emails"), get(emails::email_previews))
        .route(
            &format!("{order}/emails/{{event}}/{{lang}}"),
            get(emails::email_preview_html),
        )
        .route("/staff/mail", get(emails::sent_mail))
        .route("/staff/mail/{name}", get(emails::sent_one))
        .route("/staff/mail/{name}/html", get(emails::sent_one_html))
        .route("/staff/problems", get(tools::problems))
        .route("/staff/insights", get(insights::page))
        .route("/staff/insights.csv", get(insights::csv))
        .route("/staff/bulk/{name}", get(tools::bulk_page))
        .route("/staff/requests", get(fulfillment::requests))
        .route("/staff/accounts", get(accounts::accounts))
        .route("/staff/logout", post(logout));
    let agents = Router::new()
        .route(&format!("{order}/revoke"), post(order::revoke))
        .route(&format!("{order}/status"), post(tools::set_status))
        .route(&format!("{order}/resend"), post(emails::resend))
        .route(&format!("{order}/problem"), post(tools::problem_work))
        .route(
            &format!("{order}/ship"),
            get(fulfillment::ship_form).post(fulfillment::ship),
        )
        .route(
            &format!("{order}/shipments/{{fid}}/tracking"),
            post(fulfillment::tracking),
        )
        .route(
            &format!("{order}/shipments/{{fid}}/scan"),
            post(fulfillment::scan),
        )
        .route("/staff/bulk", post(tools::bulk_prepare))
        .route("/staff/bulk/{name}/confirm", post(tools::bulk_confirm))
        .route("/staff/requests/accept", post(fulfillment::accept))
        .route("/staff/requests/reject", post(fulfillment::reject))
        .route(
            "/staff/requests/cancellation/accept",
            post(fulfillment::accept_cancellation),
        )
        .route(
            "/staff/requests/cancellation/reject",
            post(fulfillment::reject_cancellation),
        )
        .route_layer(form)
        .route_layer(middleware::from_fn(|s, r, n| needs(Role::Agent, s, r, n)));
    let admins = Router::new()
        .route("/staff/accounts", post(accounts::add).layer(form))
        .route("/staff/accounts/{name}/role", post(accounts::set_role))
        .route("/staff/accounts/{name}/remove", post(accounts::remove))
        .route("/staff/audit.ndjson", get(tools::audit_export))
        .route_layer(form)
        .route_layer(middleware::from_fn(|s, r, n| needs(Role::Admin, s, r, n)));
    viewers
        .merge(agents)
        .merge(admins)
        .route_layer(middleware::from_fn_with_state(state.clone(), flash::take))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_staff))
        .route(
            "/staff/login",
            get(login_page).merge(
                post(login)
                    .layer::<_, std::convert::Infallible>(DefaultBodyLimit::max(
                        super::MAX_FORM_BYTES,
                    ))
                    .layer(super::protect::layer(&state.limiters.login)),
            ),
        )
        .layer(axum::middleware::from_fn_with_state(
            super::MAX_BODY_BYTES,
            crate::web::limit_body,
        ))
}

/// Lets through only people whose role is `role` or above (403 for the
/// others, with a message). Behind the session gate.
async fn needs(role: Role, staff: StaffSession, req: Request, next: Next) -> Response {
    match staff.require(role) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// The signed-in staff member, put in the request by [`require_staff`];
/// as an extractor, a handler behind the gate gets it (or 401).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffSession {
    pub name: String,
    pub role: Role,
}

impl StaffSession {
    /// Refuses (403, with a message) a person whose role is below `role`.
    pub fn require(&self, role: Role) -> Result<(), WebError> {
        if self.role >= role {
            Ok(())
        } else {
            tracing::info!(staff = %self.name, need = role.as_str(), "staff action refused by role");
            Err(WebError::bad_request(
                StatusCode::FORBIDDEN,
                "error.role_forbidden",
            ))
        }
    }

    /// Who, for the audit log and status history: `staff:NAME`.
    pub fn actor(&self) -> String {
        format!("staff:{}", self.name)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for StaffSession {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<StaffSession, StatusCode> {
        parts
            .extensions
            .get::<StaffSession>()
            .cloned()
            .ok_or(StatusCode::UNAUTHORIZED)
    }
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "staff_session";
/// The session's copy sent to status pages (see [`preview_cookie`]).
pub const PREVIEW_COOKIE: &str = "staff_preview";
/// How long a sign-in lasts.
pub const SESSION_HOURS: i64 = 12;

/// The signed-in person of a request, if any: a cookie we signed, not
/// expired, for an account that still exists and has not ended its
/// sessions since.
async fn session_of(state: &AppState, headers: &HeaderMap) -> Option<StaffSession> {
    session_in(state, headers, SESSION_COOKIE).await
}

/// [`session_of`] from the cookie `name`.
async fn session_in(state: &AppState, headers: &HeaderMap, name: &str) -> Option<StaffSession> {
    let jar = SignedCookieJar::from_headers(headers, state.sessions.key().clone());
    let session = Session::parse(jar.get(name)?.value())?;
    // Re-read the accounts: removing someone, or their signing out
    // elsewhere, ends this session at once.
    let accounts = match Accounts::load_from(&state.config.data_dir, state.shared_accounts.as_ref())
        .await
    {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %crate::errors::chain(&e), "cannot read the staff accounts; nobody is signed in until it can be read");
            return None;
        }
    };
    let account = accounts.get(&session.name)?;
    session.is_valid(account, Utc::now()).then(|| StaffSession {
        name: session.name.clone(),
        role: account.role,
    })
}

/// Whether a shopper's page is opened by signed-in staff (by the
/// [`PREVIEW_COOKIE`]; a shopper's request, without it, costs nothing
/// more than looking for it).
pub(crate) async fn is_staff(state: &AppState, headers: &HeaderMap) -> bool {
    let has_cookie = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(PREVIEW_COOKIE));
    has_cookie && session_in(state, headers, PREVIEW_COOKIE).await.is_some()
}

/// Lets only signed-in staff through (the gate of every console route but
/// sign-in).
async fn require_staff(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match session_of(&state, req.headers()).await {
        Some(session) => {
            req.extensions_mut().insert(session);
            next.run(req).await
        }
        None if wants_html(req.headers()) && req.method() == Method::GET => {
            let here = req
                .uri()
                .path_and_query()
                .map_or("/staff", |p| p.as_str())
                .to_string();
            let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
            super::see_other(&format!("/staff/login?next={next}"))
        }
        None if wants_html(req.headers()) => super::see_other("/staff/login"),
        None => (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"error": "unauthorized", "sign_in": "/staff/login"})),
        )
            .into_response(),
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// The session cookie with its attributes (an empty value with Max-Age 0
/// removes it).
fn session_cookie(state: &AppState, value: String, max_age: Duration) -> Cookie<'static> {
    let secure = state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    Cookie::build((SESSION_COOKIE, value))
        .path("/staff")
        .max_age(cookie::time::Duration::seconds(max_age.num_seconds()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build()
}

/// The session's copy for the shopper's pages, so staff opening a status
/// link are not counted as shoppers (the session cookie itself stays
/// with `/staff`). Signed and checked like the session; a shopper who
/// forged one would only leave themselves out of the counts.
fn preview_cookie(state: &AppState, value: String, max_age: Duration) -> Cookie<'static> {
    let mut c = session_cookie(state, value, max_age);
    c.set_name(PREVIEW_COOKIE);
    c.set_path("/status");
    // Opened from an email or a chat as often as from the console.
    c.set_same_site(SameSite::Lax);
    c
}

/// `?next=` on the sign-in page.
#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
}

/// `GET /staff/login`.
pub async fn login_page(
    State(state): State<AppState>,
    visitor: Visitor,
    WebQuery(q): WebQuery<LoginQuery>,
) -> Response {
    html(&state, &visitor, StatusCode::OK, move || {
        crate::ui::staff::login_page(LoginForm::default(), &q.next)
    })
    .await
}

/// The sign-in form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct LoginInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /staff/login`.
pub async fn login(
    State(state): State<AppState>,
    visitor: Visitor,
    WebForm(input): WebForm<LoginInput>,
) -> Result<Response, WebError> {
    let name = input.name.trim().chars().take(64).collect::<String>();
    let accounts =
        Accounts::load_from(&state.config.data_dir, state.shared_accounts.as_ref()).await?;
    // argon2 is deliberately slow: keep it off the async workers.
    let who = name.clone();
    let password = input.password;
    let (ok, accounts) = tokio::task::spawn_blocking(move || {
        let ok = accounts.verify(&who, &password);
        (ok, accounts)
    })
    .await
    .map_err(|e| WebError::unavailable("checking a sign-in", e))?;
    if let (true, Some(account)) = (ok, accounts.get(&name)) {
        tracing::info!(staff = %name, "staff signed in");
        let session = Session::of(account, Utc::now() + Duration::hours(SESSION_HOURS));
        let to = if is_staff_path(&input.next) {
            input.next.as_str()
        } else {
            "/staff"
        };
        let hours = Duration::hours(SESSION_HOURS);
        let jar = SignedCookieJar::new(state.sessions.key().clone())
            .add(session_cookie(&state, session.value(), hours))
            .add(preview_cookie(&state, session.value(), hours));
        return Ok((jar, super::see_other(to)).into_response());
    }
    tracing::info!("staff sign-in refused");
    let form = LoginForm { name, failed: true };
    let next = input.next;
    Ok(html(&state, &visitor, StatusCode::UNAUTHORIZED, move || {
        crate::ui::staff::login_page(form, &next)
    })
    .await)
}

/// `POST /staff/logout`: ends every session of the account (this browser
/// and any other), and removes the cookie.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if let Some(s) = session_of(&state, &headers).await {
        let name = s.name.clone();
        Accounts::change(
            &state.config.data_dir,
            state.shared_accounts.as_ref(),
            move |a| a.end_sessions(&name),
        )
        .await?;
        tracing::info!(staff = %s.name, "staff signed out");
    }
    // A removal only goes out for a cookie the request carried.
    let jar = SignedCookieJar::from_headers(&headers, state.sessions.key().clone())
        .remove(session_cookie(&state, String::new(), Duration::zero()))
        // Sent to status pages only, so not in this request: expired by
        // hand (its session has ended anyway).
        .add(preview_cookie(&state, String::new(), Duration::zero()));
    Ok((jar, super::see_other("/staff/login")).into_response())
}
