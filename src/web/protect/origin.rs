//! The same-origin rule for form posts, and paths fit for logs.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::web::AppState;

/// Refuses cross-site form posts (Leptos forms and server functions have
/// no CSRF protection of their own). Webhooks and the API are exempt:
/// they carry signatures, not cookies.
pub async fn same_origin_posts(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    // Unsubscribe links are posted by mail providers from their own
    // servers (RFC 8058 one-click); the signed token is the authority.
    let exempt = path.starts_with("/webhooks/")
        || path.starts_with("/api/")
        || path.starts_with("/unsubscribe/");
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if unsafe_method && !exempt && !same_origin(&state, req.headers(), peer) {
        tracing::info!(path = %loggable_path(path), "cross-site form post refused");
        return (
            StatusCode::FORBIDDEN,
            "This form can only be sent from this site. Go back, reload the page and try again.",
        )
            .into_response();
    }
    next.run(req).await
}

/// A path fit for logs: status-link tokens are secrets and never logged.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    if path.starts_with("/status/") {
        "/status/<token>".into()
    } else if path.starts_with("/unsubscribe/") {
        "/unsubscribe/<token>".into()
    } else {
        path.into()
    }
}

fn same_origin(state: &AppState, headers: &HeaderMap, peer: Option<IpAddr>) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(site) = text("sec-fetch-site")
        && site != "same-origin"
        && site != "none"
    {
        return false;
    }
    let Some(origin) = text("origin") else {
        // Browsers send Origin on every POST; a client without it is not a
        // browser, so there is no ambient cookie to abuse.
        return true;
    };
    if origin == "null" {
        return false;
    }
    // With a public URL, the origin must be exactly its scheme and host.
    if let Some(public) = state.config.public_url.as_deref() {
        return origin_of(public).eq_ignore_ascii_case(origin);
    }
    // Without one: this host, over the scheme the request came in on
    // (https when a trusted proxy says so).
    let https = text("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
        && peer.is_some_and(|ip| state.limiters.client_ip.is_trusted(ip));
    let scheme = if https { "https://" } else { "http://" };
    origin
        .strip_prefix(scheme)
        .is_some_and(|h| Some(h) == text("host"))
}

/// `https://host[:port]` of a base URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_stay_out_of_logged_paths() {
        assert_eq!(loggable_path("/status/abc.def"), "/status/<token>");
        assert_eq!(loggable_path("/"), "/");
    }
}
