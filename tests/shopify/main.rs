//! Shopify: the fake that keeps Shopify's rules, sync and backfill, webhooks, and writing back.
//!
//! One test binary for these (each binary links the whole crate).

#[path = "../common/mod.rs"]
mod common;

mod fake_shopify;
mod sync;
mod webhooks;
mod writeback;
