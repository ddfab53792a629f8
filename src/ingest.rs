//! Everything that changes the store: the NDJSON import and the demo data
//! it is usually fed with (Shopify sync and webhooks join here later).

pub mod demo;
pub mod ndjson;
