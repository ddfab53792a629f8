//! Admin API credentials: a static access token, or a token obtained with
//! the client-credentials grant.
//!
//! Apps created in the Shopify admin before 2026 have a static token
//! (`shpat_...`). Since 1 January 2026 new apps are made in the Dev
//! Dashboard and have a client id and secret instead, which the app
//! exchanges at `POST {shop}/admin/oauth/access_token`
//! (`grant_type=client_credentials`) for a token that expires (about every
//! 24 hours, `expires_in` says). [`TokenSource`] keeps that token in memory,
//! renews it a while before it expires and once more when Shopify answers
//! 401 anyway. Secrets and tokens are never logged or shown.

use std::time::{Duration, Instant};

use serde::Deserialize;
use thiserror::Error;

use crate::config::{Credentials, ShopifyShop};

/// Renew a granted token when less than this share of its life is left.
const RENEW_AT_REMAINING: f64 = 0.1;
/// ...or less than this, whichever is longer (tokens of a few seconds in
/// tests are renewed before every call).
const RENEW_MARGIN: Duration = Duration::from_secs(60);

/// Why no token could be had.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AuthError {
    #[error(
        "{shop}: no Admin API credentials: set ORDER_STATUS_SHOPIFY_CLIENT_ID and ORDER_STATUS_SHOPIFY_CLIENT_SECRET (a Dev Dashboard app) or ORDER_STATUS_SHOPIFY_ACCESS_TOKEN (an app made in the Shopify admin before 2026)"
    )]
    NoCredentials { shop: String },
    #[error(
        "{shop}: Shopify refused the client credentials ({detail}); check ORDER_STATUS_SHOPIFY_CLIENT_ID and ORDER_STATUS_SHOPIFY_CLIENT_SECRET, and that the app is installed on the shop"
    )]
    Refused { shop: String, detail: String },
    #[error("{shop}: cannot reach Shopify for a token: {detail}")]
    Network { shop: String, detail: String },
}

/// A token and what came with it.
#[derive(Clone)]
struct Granted {
    token: String,
    /// `None`: a static token, never expires.
    expires: Option<Instant>,
    lifetime: Duration,
    scopes: Option<Vec<String>>,
}

/// Hands out a valid token for one shop.
pub struct TokenSource {
    shop: String,
    api_base: String,
    credentials: Credentials,
    http: reqwest::Client,
    granted: tokio::sync::Mutex<Option<Granted>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("shop", &self.shop)
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Grant {
    access_token: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl TokenSource {
    pub fn new(shop: &ShopifyShop, http: reqwest::Client) -> TokenSource {
        let granted = match &shop.credentials {
            Credentials::Token(t) => Some(Granted {
                token: t.clone(),
                expires: None,
                lifetime: Duration::MAX,
                scopes: None,
            }),
            _ => None,
        };
        TokenSource {
            shop: shop.domain.clone(),
            api_base: shop.api_base.clone(),
            credentials: shop.credentials.clone(),
            http,
            granted: tokio::sync::Mutex::new(granted),
        }
    }

    /// "static token", "client credentials" or "none", for `shopify check`.
    pub fn kind(&self) -> &'static str {
        match self.credentials {
            Credentials::Token(_) => "static access token",
            Credentials::ClientCredentials { .. } => "client credentials (Dev Dashboard app)",
            Credentials::None => "none",
        }
    }

    /// A token that is valid now (renewed first if it is about to expire).
    pub async fn token(&self) -> Result<String, AuthError> {
        let mut granted = self.granted.lock().await;
        if let Some(g) = granted.as_ref()
            && !due(g)
        {
            return Ok(g.token.clone());
        }
        let fresh = self.exchange().await?;
        let token = fresh.token.clone();
        *granted = Some(fresh);
        Ok(token)
    }

    /// After Shopify refused `rejected` (401): a new token, unless another
    /// caller renewed it already. `None` for a static token: nothing to
    /// renew, the token is wrong.
    pub async fn renew(&self, rejected: &str) -> Result<Option<String>, AuthError> {
        if !matches!(self.credentials, Credentials::ClientCredentials { .. }) {
            return Ok(None);
        }
        let mut granted = self.granted.lock().await;
        if let Some(g) = granted.as_ref()
            && g.token != rejected
        {
            return Ok(Some(g.token.clone()));
        }
        let fresh = self.exchange().await?;
        let token = fresh.token.clone();
        *granted = Some(fresh);
        Ok(Some(token))
    }

    /// The scopes the grant said the token has (client credentials only).
    pub async fn granted_scopes(&self) -> Option<Vec<String>> {
        self.granted.lock().await.as_ref()?.scopes.clone()
    }

    /// How long the current token has left (`None`: never expires, or none
    /// yet).
    pub async fn expires_in(&self) -> Option<Duration> {
        let g = self.granted.lock().await;
        g.as_ref()?
            .expires
            .map(|e| e.saturating_duration_since(Instant::now()))
    }

    async fn exchange(&self) -> Result<Granted, AuthError> {
        let shop = self.shop.clone();
        let (id, secret) = match &self.credentials {
            Credentials::ClientCredentials {
                client_id,
                client_secret,
            } => (client_id, client_secret),
            Credentials::Token(_) | Credentials::None => {
                return Err(AuthError::NoCredentials { shop });
            }
        };
        let url = format!("{}/admin/oauth/access_token", self.api_base);
        let sent = self
            .http
            .post(url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ])
            .send()
            .await
            .map_err(|e| AuthError::Network {
                shop: shop.clone(),
                detail: e.without_url().to_string(),
            })?;
        let status = sent.status();
        let body = sent.text().await.unwrap_or_default();
        if !status.is_success() {
            // `{"error": "invalid_client", ...}`: the code only, never more
            // of the body (it could echo what was sent).
            let code = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .filter(|c| c.len() < 64 && c.bytes().all(|b| b.is_ascii_graphic()));
            let detail = match code {
                Some(c) => format!("HTTP {} {c}", status.as_u16()),
                None => format!("HTTP {}", status.as_u16()),
            };
            return Err(AuthError::Refused { shop, detail });
        }
        let grant: Grant = serde_json::from_str(&body).map_err(|_| AuthError::Refused {
            shop: shop.clone(),
            detail: "the answer had no access_token".into(),
        })?;
        let lifetime = Duration::from_secs(grant.expires_in.unwrap_or(86_399));
        tracing::info!(shop = %self.shop, expires_in_s = lifetime.as_secs(), "obtained an Admin API token (client credentials)");
        Ok(Granted {
            token: grant.access_token,
            expires: Some(Instant::now() + lifetime),
            lifetime,
            scopes: grant.scope.map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            }),
        })
    }
}

/// Whether a token should be renewed before use.
fn due(g: &Granted) -> bool {
    let Some(expires) = g.expires else {
        return false;
    };
    let left = expires.saturating_duration_since(Instant::now());
    let margin = RENEW_MARGIN.max(g.lifetime.mul_f64(RENEW_AT_REMAINING));
    left <= margin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_before_they_expire() {
        let g = |left: u64, life: u64| Granted {
            token: "t".into(),
            expires: Some(Instant::now() + Duration::from_secs(left)),
            lifetime: Duration::from_secs(life),
            scopes: None,
        };
        assert!(!due(&g(86_000, 86_399)));
        assert!(due(&g(3_000, 86_399)), "under a tenth left");
        assert!(due(&g(30, 300)), "under a minute left");
        assert!(!due(&Granted {
            expires: None,
            ..g(0, 0)
        }));
    }
}
