//! Shopify: webhooks (pushed changes) and the GraphQL Admin API sync
//! (backfill and reconciliation, since webhooks can be late or lost).
//! Both end in the same store upserts, keyed by shop and order id.

pub mod graphql;
pub mod sync;
pub mod webhooks;
