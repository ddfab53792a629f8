//! The staff console's HTTP side: the session gate in front of every
//! `/staff` page, sign-in and sign-out, and the two actions on an order
//! (share a link, revoke links). The pages themselves are in `ui::staff`.
//!
//! Without a valid session a browser is sent to the sign-in page (and back
//! afterwards); anything else gets 401. The session cookie is HttpOnly,
//! SameSite=Strict, Secure when the site is served over https, scoped to
//! `/staff` and valid for [`SESSION_HOURS`].

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use leptos::prelude::provide_context;

use super::{AppState, render_page};
use crate::links::LinkClaims;
use crate::order::order_key;
use crate::staff::Accounts;
use crate::ui::staff::{LoginForm, OrderAction, StaffSession, is_staff_path};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "staff_session";
/// How long a sign-in lasts.
pub const SESSION_HOURS: i64 = 12;
/// Longest a shared link may be valid.
pub const MAX_SHARE_DAYS: i64 = 365;
const MAX_FORM_BYTES: usize = 4 * 1024;

fn is_gated(path: &str) -> bool {
    (path == "/staff" || path.starts_with("/staff/")) && path != "/staff/login"
}

/// The signed-in person of a request, if any: a valid cookie for an
/// account that still exists.
fn session_of(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(&format!("{SESSION_COOKIE}="))
                .map(str::to_string)
        })?;
    let name = state.sessions.verify(&value, Utc::now())?;
    // Re-read the accounts: removing someone ends their sessions at once.
    let accounts = Accounts::load(&state.config.data_dir).ok()?;
    accounts.exists(&name).then_some(name)
}

/// Lets only signed-in staff through to `/staff` (but the sign-in page).
pub async fn require_staff(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    if !is_gated(req.uri().path()) {
        return next.run(req).await;
    }
    match session_of(&state, req.headers()) {
        Some(name) => {
            req.extensions_mut().insert(StaffSession { name });
            next.run(req).await
        }
        None if wants_html(req.headers()) && req.method() == Method::GET => {
            let here = req
                .uri()
                .path_and_query()
                .map_or("/staff", |p| p.as_str())
                .to_string();
            let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
            see_other(&format!("/staff/login?next={next}"), None)
        }
        None if wants_html(req.headers()) => see_other("/staff/login", None),
        None => (
            StatusCode::UNAUTHORIZED,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            "{\"error\":\"unauthorized\",\"sign_in\":\"/staff/login\"}",
        )
            .into_response(),
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().insert(header::SET_COOKIE, c);
    }
    res
}

fn cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    format!(
        "{SESSION_COOKIE}={value}; Path=/staff; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

async fn form(
    req: Request,
) -> Result<(axum::http::request::Parts, Vec<(String, String)>), Response> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response())?;
    let fields = form_urlencoded::parse(&bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Ok((parts, fields))
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// `POST /staff/login`.
pub async fn login(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, fields) = match form(req).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let name = field(&fields, "name")
        .trim()
        .chars()
        .take(64)
        .collect::<String>();
    let password = field(&fields, "password").to_string();
    let next = field(&fields, "next").to_string();
    let accounts = match Accounts::load(&state.config.data_dir) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "cannot read staff accounts");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable right now.",
            )
                .into_response();
        }
    };
    // argon2 is deliberately slow: keep it off the async workers.
    let who = name.clone();
    let ok = tokio::task::spawn_blocking(move || accounts.verify(&who, &password))
        .await
        .unwrap_or(false);
    if ok {
        tracing::info!(staff = %name, "staff signed in");
        let expires = Utc::now() + Duration::hours(SESSION_HOURS);
        let value = state.sessions.sign(&name, expires);
        let to = if is_staff_path(&next) {
            next.as_str()
        } else {
            "/staff"
        };
        return see_other(to, Some(cookie(&state, &value, SESSION_HOURS * 3600)));
    }
    tracing::info!("staff sign-in refused");
    parts.method = Method::GET;
    let form = LoginForm { name, failed: true };
    let mut res = render_page(
        state,
        Request::from_parts(parts, Body::empty()),
        move || provide_context(form.clone()),
    )
    .await;
    *res.status_mut() = StatusCode::UNAUTHORIZED;
    res
}

/// `POST /staff/logout`.
pub async fn logout(State(state): State<AppState>) -> Response {
    see_other("/staff/login", Some(cookie(&state, "", 0)))
}

/// `POST /staff/orders/{shop}/{id}/share`: a fresh link for the customer.
pub async fn share(
    State(state): State<AppState>,
    Path((shop, id)): Path<(String, u64)>,
    req: Request,
) -> Response {
    let (parts, fields) = match form(req).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let key = order_key(&shop, id);
    match state.store.get(&key) {
        Ok(Some(_)) => {}
        Ok(None) => return (StatusCode::NOT_FOUND, "There is no such order.").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "order read failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let days = field(&fields, "days")
        .parse::<i64>()
        .unwrap_or(30)
        .clamp(1, MAX_SHARE_DAYS);
    let expires = Utc::now() + Duration::days(days);
    let claims = LinkClaims {
        shop,
        order_id: id,
        expires,
        epoch: state.epochs.get(&key),
    };
    let token = state.links.sign(&claims);
    let base = super::render::base_url(&state, &parts.headers);
    let who = parts
        .extensions
        .get::<StaffSession>()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    tracing::info!(staff = %who, days, "status link shared");
    state.metrics.links_shared.inc();
    let action = OrderAction::Shared {
        link: format!("{base}/status/{token}"),
        expires,
    };
    order_page(state, parts, action).await
}

/// `POST /staff/orders/{shop}/{id}/revoke`: every link issued so far stops
/// working.
pub async fn revoke(
    State(state): State<AppState>,
    Path((shop, id)): Path<(String, u64)>,
    req: Request,
) -> Response {
    let (parts, _) = req.into_parts();
    let key = order_key(&shop, id);
    if !matches!(state.store.get(&key), Ok(Some(_))) {
        return (StatusCode::NOT_FOUND, "There is no such order.").into_response();
    }
    if let Err(e) = state.epochs.bump(&key) {
        tracing::error!(error = %e, "cannot revoke links");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Links could not be revoked; nothing changed. Try again.",
        )
            .into_response();
    }
    let who = parts
        .extensions
        .get::<StaffSession>()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    tracing::info!(staff = %who, "status links revoked");
    order_page(state, parts, OrderAction::Revoked).await
}

/// The order page again, showing what an action did.
async fn order_page(
    state: AppState,
    mut parts: axum::http::request::Parts,
    action: OrderAction,
) -> Response {
    parts.method = Method::GET;
    let path = parts
        .uri
        .path()
        .rsplit_once('/')
        .map_or("/staff", |(p, _)| p)
        .to_string();
    parts.uri = path
        .parse()
        .unwrap_or_else(|_| axum::http::Uri::from_static("/staff"));
    render_page(
        state,
        Request::from_parts(parts, Body::empty()),
        move || provide_context(action.clone()),
    )
    .await
}
