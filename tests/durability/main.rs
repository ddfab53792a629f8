//! What survives: crashes mid-write, a full or read-only disk, and replicas on a real NATS JetStream cluster.
//!
//! One test binary for these (each binary links the whole crate).

#[path = "../common/mod.rs"]
mod common;

mod crash;
mod diskfull;
mod replicate;
