//! Status emails: SMTP (Debian's aiosmtpd), files, retries, and a crash mid-send.
//!
//! One test binary for these (each binary links the whole crate).

#[path = "../common/mod.rs"]
mod common;

mod mail;
mod mail_crash;
