//! order-status: a self-hosted, customer-facing order status site.
//!
//! Data flows one way: `ingest` -> `store` -> `ui` / `web`. The domain
//! (`order`) is pure and knows nothing of the others.

pub mod cli;
pub mod config;
pub mod files;
pub mod i18n;
pub mod ingest;
pub mod links;
pub mod logsafe;
pub mod order;
pub mod shopper;
pub mod staff;
pub mod store;
pub mod ui;
pub mod web;
