//! Post, redirect, get: every staff form that succeeds answers 303 to the
//! page it changed, so a reload shows the page again instead of posting
//! again. What the post did (a status saved, a link made, an account
//! added) travels to that page in a short-lived cookie, `staff_flash`,
//! signed with the session key (a visitor cannot forge a notice, nor a
//! share link), HttpOnly, scoped to `/staff`, and removed by the next page
//! a browser fetches, so a notice is shown once.
//!
//! A refused post (422, 403, 502) still answers with the page and the
//! reason: nothing changed, so posting again is harmless, and the form
//! keeps what was typed.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, SameSite, SignedCookieJar};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::ui::staff::OrderAction;
use crate::web::AppState;

/// The cookie's name.
const COOKIE: &str = "staff_flash";
/// How long a notice waits for its page, in seconds: a redirect is
/// followed at once; a notice found later would be out of place.
const MAX_AGE_SECONDS: i64 = 120;

/// What a successful post did, for the page it redirects to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flash {
    /// An action on one order, for its page.
    Order(OrderAction),
    /// A sentence, already in the console's language, and whether it is
    /// good news.
    Notice { text: String, ok: bool },
}

impl Flash {
    /// The order page's action, if this is one.
    pub fn order_action(self) -> Option<OrderAction> {
        match self {
            Flash::Order(a) => Some(a),
            Flash::Notice { .. } => None,
        }
    }

    /// A notice as a page shows it: the order page's actions are shown by
    /// that page.
    pub fn notice(self) -> Option<(String, bool)> {
        match self {
            Flash::Notice { text, ok } => Some((text, ok)),
            Flash::Order(_) => None,
        }
    }
}

/// 303 to `to`, carrying `flash` for it.
pub fn redirect(state: &AppState, to: &str, flash: &Flash) -> Response {
    let value = match serde_json::to_vec(flash) {
        Ok(json) => URL_SAFE_NO_PAD.encode(json),
        // Serializing plain strings cannot fail; if it ever did, the
        // redirect still goes (without its notice).
        Err(_) => return crate::web::see_other(to),
    };
    let jar = SignedCookieJar::new(state.sessions.key().clone()).add(cookie(state, value, true));
    (jar, crate::web::see_other(to)).into_response()
}

fn cookie(state: &AppState, value: String, keep: bool) -> Cookie<'static> {
    let secure = state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let age = if keep { MAX_AGE_SECONDS } else { 0 };
    Cookie::build((COOKIE, value))
        .path("/staff")
        .max_age(cookie::time::Duration::seconds(age))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build()
}

/// Middleware on the console: a request's flash, if it carries a valid
/// one, is put where [`Flashed`] finds it; a page fetched with one removes
/// the cookie (shown once).
pub async fn take(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let jar = SignedCookieJar::from_headers(req.headers(), state.sessions.key().clone());
    let Some(c) = jar.get(COOKIE) else {
        return next.run(req).await;
    };
    let flash = URL_SAFE_NO_PAD
        .decode(c.value())
        .ok()
        .and_then(|json| serde_json::from_slice::<Flash>(&json).ok());
    let is_get = req.method() == Method::GET;
    if let Some(flash) = flash {
        req.extensions_mut().insert(flash);
    }
    let res = next.run(req).await;
    if is_get {
        (jar.remove(cookie(&state, String::new(), false)), res).into_response()
    } else {
        res
    }
}

/// The flash a page was fetched with, if any (see [`take`]).
#[derive(Clone, Debug, Default)]
pub struct Flashed(pub Option<Flash>);

impl<S: Send + Sync> FromRequestParts<S> for Flashed {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Flashed, Self::Rejection> {
        Ok(Flashed(parts.extensions.get::<Flash>().cloned()))
    }
}
