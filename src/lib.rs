//! order-status: a self-hosted, customer-facing order status site.
//!
//! Layers, each using only those before it: the pure domain (`order`, the
//! shopper's view of an order in `shopper`, translations in `i18n`), then
//! `store`, and beside it `shopify` (the Admin API adapter, which knows the
//! domain but not the store); then `ingest`, `notify` (status emails) and
//! `actions` (staff actions, Shopify write-back), then `replicate`, then
//! `web`, which loads data and hands it to `ui` to render. `ui` knows
//! neither `web` nor `store`; nothing below `web` knows `web` or `ui`. On
//! top, `app` assembles the site (`App::build`), `commands` does each
//! subcommand's work, and `cli` parses the command line for `main`.

pub mod actions;
pub mod app;
pub mod background;
pub mod cli;
pub mod commands;
pub mod config;
pub mod errors;
pub mod files;
pub mod i18n;
pub mod ingest;
pub mod insights;
pub mod links;
pub mod logsafe;
pub mod notify;
pub mod order;
pub mod replicate;
pub mod shopify;
pub mod shopper;
pub mod staff;
pub mod store;
pub mod ui;
pub mod web;
