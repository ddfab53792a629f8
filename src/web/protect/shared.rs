//! With replicas (`--replicate`): the lookup and sign-in budgets per
//! client, kept where every replica counts them
//! (`crate::replicate::SharedLimits`), behind the local limiters. Over
//! budget answers as the local limiters do (429 with `Retry-After`), so
//! [`super::explain_rate_limit`] words it the same.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ClientKey;
use crate::replicate::Verdict;
use crate::web::AppState;

/// Takes the request from its shared budget, if it has one.
pub async fn shared_budgets(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(shared) = &state.shared_limits else {
        return next.run(req).await;
    };
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let limits = &state.config.limits;
    let path = req.uri().path();
    // The routes behind the lookup and sign-in limiters (web::router).
    let (kind, spec) = if path == "/" || path == "/link" || path.starts_with("/unsubscribe/") {
        ("lookup", limits.lookup)
    } else if path == "/staff/login" {
        ("login", limits.login)
    } else {
        return next.run(req).await;
    };
    let client = match state.limiters.client_ip.key_of(&req) {
        Some(ClientKey::Ip(ip)) => ip.to_string(),
        Some(ClientKey::Unidentified) => "unidentified".to_string(),
        None => return next.run(req).await,
    };
    match shared.take(kind, client.as_bytes(), spec).await {
        Verdict::Allowed => next.run(req).await,
        Verdict::Wait(seconds) => {
            let after = HeaderValue::from(seconds);
            (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::RETRY_AFTER, after.clone()),
                    (header::HeaderName::from_static("x-ratelimit-after"), after),
                ],
            )
                .into_response()
        }
    }
}
