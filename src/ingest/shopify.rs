//! What changes orders from Shopify: webhooks (pushed changes) and the
//! sync (bulk backfill, reconciliation, refetches), both ending in the same
//! part-by-part merges of the store. The Admin API itself (credentials,
//! cost, queries) is [`crate::shopify`]'s.
//!
//! - [`sync`]: backfill and reconciliation; [`backfill`]: a bulk
//!   operation's file into the store.
//! - [`webhooks`], [`rest`], [`deadletter`]: deliveries to changes, and
//!   what could not be applied; [`inbox`]: deliveries taken and not yet
//!   applied.

pub mod backfill;
pub mod deadletter;
pub mod inbox;
pub mod rest;
pub mod shared_checkpoint;
pub mod sync;
pub mod webhooks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::shopify::client::VersionSeen;

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
