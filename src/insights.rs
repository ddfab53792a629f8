//! Merchant insights: does the site save "where is my order?" tickets,
//! and how do parcels really travel. Two sources, both cheap to ask:
//!
//! - [`counters`]: day counters of shopper activity (views, lookups,
//!   links, emails, opt-outs), counted as it happens, stored per day and
//!   shared by replicas;
//! - the order store's aggregations over each order's
//!   [`crate::order::insight::Facts`] (percentiles, histograms, terms),
//!   asked by [`report`] without reading orders one by one.
//!
//! [`report::Report`] is the plain data the staff page and its CSV export
//! render. Layers: below `notify` and `web` (both count), above `store`.

pub mod counters;
pub mod figures;
pub mod report;

pub use counters::{DayCounters, Kind};
pub use figures::{Period, Report};
