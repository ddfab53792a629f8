//! Everything that changes the store: the NDJSON import, the demo data it
//! is usually fed with, and Shopify's webhooks and sync.

pub mod demo;
pub mod ndjson;
pub mod shopify;
