//! The staff console's HTTP side: the session gate in front of every
//! `/staff` page, sign-in and sign-out, and the two actions on an order
//! (share a link, revoke links). The pages themselves are in `ui::staff`.
//!
//! Without a valid session a browser is sent to the sign-in page (and back
//! afterwards); anything else gets 401. The session cookie (see
//! [`crate::staff`]) is signed by axum-extra's cookie jar, HttpOnly,
//! SameSite=Strict, Secure when the site is served over https, scoped to
//! `/staff` and valid for [`SESSION_HOURS`]. Signing out ends every
//! session of the account, on every device.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, SameSite, SignedCookieJar};
use chrono::{Duration, Utc};
use leptos::prelude::provide_context;

use super::{AppState, render_page};
use crate::links::LinkClaims;
use crate::order::order_key;
use crate::staff::{Accounts, Session};
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

/// The signed-in person of a request, if any: a cookie we signed, not
/// expired, for an account that still exists and has not ended its
/// sessions since.
fn session_of(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let jar = SignedCookieJar::from_headers(headers, state.sessions.key().clone());
    let session = Session::parse(jar.get(SESSION_COOKIE)?.value())?;
    // Re-read the accounts: removing someone, or their signing out
    // elsewhere, ends this session at once.
    let accounts = match Accounts::load(&state.config.data_dir) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the staff accounts; nobody is signed in until it can be read");
            return None;
        }
    };
    let account = accounts.get(&session.name)?;
    session
        .is_valid(account, Utc::now())
        .then(|| session.name.clone())
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

fn see_other(location: &str, jar: Option<SignedCookieJar>) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    match jar {
        Some(jar) => (jar, res).into_response(),
        None => res,
    }
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
    let epoch = accounts_epoch(&state, &name);
    if let (true, Some(epoch)) = (ok, epoch) {
        tracing::info!(staff = %name, "staff signed in");
        let session = Session {
            name: name.clone(),
            epoch,
            expires: Utc::now() + Duration::hours(SESSION_HOURS),
        };
        let to = if is_staff_path(&next) {
            next.as_str()
        } else {
            "/staff"
        };
        let jar = SignedCookieJar::new(state.sessions.key().clone()).add(session_cookie(
            &state,
            session.value(),
            Duration::hours(SESSION_HOURS),
        ));
        return see_other(to, Some(jar));
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

/// The current session epoch of an account.
fn accounts_epoch(state: &AppState, name: &str) -> Option<u32> {
    Accounts::load(&state.config.data_dir)
        .ok()?
        .get(name)
        .map(|a| a.session_epoch)
}

/// `POST /staff/logout`: ends every session of the account (this browser
/// and any other), and removes the cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(name) = session_of(&state, &headers) {
        let ended = Accounts::load(&state.config.data_dir).and_then(|mut a| a.end_sessions(&name));
        match ended {
            Ok(()) => tracing::info!(staff = %name, "staff signed out"),
            Err(e) => {
                tracing::error!(error = %e, "cannot end the staff sessions");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Signing out failed; your session may still be open. Try again.",
                )
                    .into_response();
            }
        }
    }
    // A removal only goes out for a cookie the request carried.
    let jar = SignedCookieJar::from_headers(&headers, state.sessions.key().clone())
        .remove(session_cookie(&state, String::new(), Duration::zero()));
    see_other("/staff/login", Some(jar))
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
    match state.store.get(&key) {
        Ok(Some(_)) => {}
        Ok(None) => return (StatusCode::NOT_FOUND, "There is no such order.").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "order read failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, HeaderValue::from_static("30"))],
                "The order cannot be read right now; nothing changed. Try again.",
            )
                .into_response();
        }
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
