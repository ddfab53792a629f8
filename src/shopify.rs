//! The Shopify Admin API adapter: credentials, the per-shop client that
//! keeps Shopify's cost rules, the GraphQL queries and their answers, bulk
//! operations, what a shop's app may read, and what it must have
//! registered. `ingest` reads through it (sync, refetches, backfills);
//! `actions` writes through it (write-back, fulfillment requests). It
//! knows the domain (`order`) but not the store.
//!
//! - [`auth`] and [`client`]: credentials (static token or client
//!   credentials) and the per-shop API client that keeps Shopify's cost
//!   rules ([`cost`]).
//! - [`graphql`]: the queries and their mapping to the model; [`bulk`]:
//!   a bulk operation's life.
//! - [`scopes`]: the one table of what each feature and webhook topic
//!   needs; [`check`]: what a merchant's app may and may not read;
//!   [`setup`]: the webhook subscriptions and fulfillment service a shop
//!   needs, registered through the API.

pub mod auth;
pub mod bulk;
pub mod check;
pub mod client;
pub mod cost;
pub mod graphql;
pub mod scopes;
pub mod setup;

use std::collections::HashMap;
use std::sync::Arc;

use client::{CallOptions, ShopApi};

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
