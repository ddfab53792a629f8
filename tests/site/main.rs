//! The site over HTTP and in-process: the shopper's pages, the staff console, merchant tools, protections, operations, connections, the command line, snapshots of pages and properties of outside inputs.
//!
//! One test binary for these (each binary links the whole crate).

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod connections;
mod embed;
mod hardening;
mod house;
mod insights;
mod merchant;
mod ops;
mod outside_inputs;
mod properties;
mod protection;
mod serve;
mod shopper;
mod shopper_view;
mod snapshots;
mod staff;
