//! Shopify: webhooks (pushed changes) and the GraphQL Admin API (sync,
//! bulk backfill, refetches, `shopify check`), both ending in the same
//! part-by-part merges of the store.
//!
//! - [`auth`] and [`client`]: credentials (static token or client
//!   credentials) and the per-shop API client that keeps Shopify's cost
//!   rules ([`cost`]).
//! - [`graphql`]: the queries and their mapping; [`sync`] and [`bulk`]:
//!   backfill and reconciliation.
//! - [`webhooks`], [`rest`], [`deadletter`]: deliveries to changes, and
//!   what could not be applied.
//! - [`check`]: what a merchant's app may and may not read; [`scopes`]:
//!   the one table of what each feature and webhook topic needs;
//!   [`setup`]: the webhook subscriptions and fulfillment service a shop
//!   needs, registered through the API.

pub mod auth;
pub mod bulk;
pub mod check;
pub mod client;
pub mod cost;
pub mod deadletter;
pub mod graphql;
pub mod rest;
pub mod scopes;
pub mod setup;
pub mod sync;
pub mod webhooks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use client::{CallOptions, ShopApi, VersionSeen};

use crate::config::Config;

/// The API clients of the configured shops that have credentials, one per
/// shop, shared by everything that calls it (its limits are per shop).
#[derive(Debug, Clone, Default)]
pub struct Apis {
    by_shop: HashMap<String, Arc<ShopApi>>,
}

impl Apis {
    /// A client for every configured shop with credentials.
    pub fn new(config: &Config, options: CallOptions) -> Result<Apis, client::ApiError> {
        let mut by_shop = HashMap::new();
        for shop in config.shopify.iter().filter(|s| s.credentials.is_some()) {
            by_shop.insert(shop.domain.clone(), Arc::new(ShopApi::new(shop, options)?));
        }
        Ok(Apis { by_shop })
    }

    /// The client of a shop, if it has credentials.
    pub fn get(&self, shop: &str) -> Option<&Arc<ShopApi>> {
        self.by_shop.get(shop)
    }

    /// Every client.
    pub fn all(&self) -> impl Iterator<Item = &Arc<ShopApi>> {
        self.by_shop.values()
    }
}

/// How each shop's syncing goes, for `/readyz` and `/metrics`.
#[derive(Debug, Default, Clone)]
pub struct SyncStatus {
    inner: Arc<Mutex<HashMap<String, ShopSync>>>,
}

/// One shop's sync state.
#[derive(Debug, Default, Clone)]
pub struct ShopSync {
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The API version asked for and the one Shopify answered with.
    pub version: Option<VersionSeen>,
}

impl SyncStatus {
    pub fn succeeded(&self, shop: &str, at: DateTime<Utc>) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let e = m.entry(shop.to_string()).or_default();
        e.last_success = Some(at);
        e.last_error = None;
    }

    pub fn failed(&self, shop: &str, error: String) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(shop.to_string()).or_default().last_error = Some(error);
    }

    /// Records the API version Shopify answered a shop with.
    pub fn version(&self, shop: &str, seen: VersionSeen) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(shop.to_string()).or_default().version = Some(seen);
    }

    pub fn snapshot(&self) -> HashMap<String, ShopSync> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
