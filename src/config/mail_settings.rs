//! The `[mail]` settings: how shopper emails leave (SMTP or files), who
//! they are from, which events send one, retries, DKIM and the `/link`
//! budget. Every value is checked here, so a bad one stops start-up with
//! its name and the reason instead of failing at the first send.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use serde::Deserialize;

use super::values::{RateSpec, parse_period};
use super::{ConfigError, Secret};
use crate::order::mail_log::MailEvent;

/// Where messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailTransport {
    /// An SMTP server, as a lettre URL (`smtp://host:2525`,
    /// `smtps://user:pass@host:465`, `smtp://host?tls=required`).
    Smtp(Secret),
    /// One `.eml` file a message in this directory (the demo's default:
    /// no mail server needed, the staff console shows them).
    Files(PathBuf),
}

/// DKIM signing (optional).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dkim {
    pub domain: String,
    pub selector: String,
    /// The private key, read at start-up: RSA as PKCS#1 PEM, or Ed25519 as
    /// the base64 of its 32 bytes (what lettre takes).
    pub key_pem: Secret,
}

/// The `[mail]` section, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct MailConfig {
    /// `None`: messages go to files under the data dir.
    pub transport: Option<MailTransport>,
    /// `From:`; the shop's name at `no-reply@<shop domain>` when unset.
    pub from: Option<Mailbox>,
    /// `Reply-To:`; the shop's support email when unset.
    pub reply_to: Option<Mailbox>,
    /// Events that send an email (shops may override, see
    /// `[[shopify]] mail_events`).
    pub events: Vec<MailEvent>,
    /// Events older than this when noticed are not mailed (an import of
    /// history, a sync after a long outage).
    pub max_age: Duration,
    /// First wait after a temporary failure; doubles up to `retry_max`.
    pub retry_first: Duration,
    pub retry_max: Duration,
    /// After this long in retries a message is marked failed.
    pub give_up: Duration,
    /// Messages sent at once.
    pub workers: usize,
    /// Most messages handed to the transport per second (0: no cap): a
    /// full outbox then drains at this pace instead of taking the
    /// machine's every cycle from the pages.
    pub max_rate: u32,
    pub dkim: Option<Dkim>,
    /// Certificates (PEM) trusted beside the public roots when the SMTP
    /// server's TLS is checked: a relay with a certificate from the
    /// company's own CA.
    pub ca_pem: Option<String>,
    /// `/link` requests per address (one address cannot be flooded).
    pub link_per_address: RateSpec,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            transport: None,
            from: None,
            reply_to: None,
            events: MailEvent::DEFAULT_ON.to_vec(),
            max_age: Duration::from_secs(3 * 86_400),
            retry_first: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            give_up: Duration::from_secs(2 * 86_400),
            workers: 4,
            max_rate: 250,
            dkim: None,
            ca_pem: None,
            link_per_address: RateSpec::parse("3/h:3").expect("valid built-in rate"),
        }
    }
}

/// The `[mail]` table of the file (and the same from the environment).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileMail {
    pub smtp_url: Option<String>,
    pub dir: Option<PathBuf>,
    pub from: Option<String>,
    pub reply_to: Option<String>,
    pub events: Option<Vec<String>>,
    pub max_age: Option<String>,
    pub retry_first: Option<String>,
    pub retry_max: Option<String>,
    pub give_up: Option<String>,
    pub workers: Option<u64>,
    pub max_rate: Option<u64>,
    pub dkim_domain: Option<String>,
    pub dkim_selector: Option<String>,
    pub dkim_key_file: Option<PathBuf>,
    pub link_per_address: Option<String>,
    pub ca_file: Option<PathBuf>,
}

impl FileMail {
    /// The same settings from `ORDER_STATUS_*` variables.
    pub(super) fn from_env(var: &dyn Fn(&str) -> Option<String>) -> FileMail {
        FileMail {
            smtp_url: var("ORDER_STATUS_SMTP_URL"),
            dir: var("ORDER_STATUS_MAIL_DIR").map(PathBuf::from),
            from: var("ORDER_STATUS_MAIL_FROM"),
            reply_to: var("ORDER_STATUS_MAIL_REPLY_TO"),
            events: var("ORDER_STATUS_MAIL_EVENTS").map(|v| super::values::list(&v)),
            max_age: var("ORDER_STATUS_MAIL_MAX_AGE"),
            retry_first: var("ORDER_STATUS_MAIL_RETRY_FIRST"),
            retry_max: var("ORDER_STATUS_MAIL_RETRY_MAX"),
            give_up: var("ORDER_STATUS_MAIL_GIVE_UP"),
            workers: var("ORDER_STATUS_MAIL_WORKERS").and_then(|v| v.trim().parse().ok()),
            max_rate: var("ORDER_STATUS_MAIL_MAX_RATE").and_then(|v| v.trim().parse().ok()),
            dkim_domain: var("ORDER_STATUS_DKIM_DOMAIN"),
            dkim_selector: var("ORDER_STATUS_DKIM_SELECTOR"),
            dkim_key_file: var("ORDER_STATUS_DKIM_KEY_FILE").map(PathBuf::from),
            link_per_address: var("ORDER_STATUS_MAIL_LINK_PER_ADDRESS"),
            ca_file: var("ORDER_STATUS_MAIL_CA_FILE").map(PathBuf::from),
        }
    }
}

fn invalid(name: &str, reason: String) -> ConfigError {
    ConfigError::Invalid {
        name: format!("mail.{name}"),
        reason,
    }
}

/// A list of event names; `none` (alone) for no events at all.
pub fn parse_events(name: &str, list: &[String]) -> Result<Vec<MailEvent>, ConfigError> {
    let list: Vec<&str> = list
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if list == ["none"] {
        return Ok(Vec::new());
    }
    let known = MailEvent::DETECTED.map(MailEvent::as_str).join(", ");
    list.iter()
        .map(|s| {
            MailEvent::parse(s)
                .filter(|e| MailEvent::DETECTED.contains(e))
                .ok_or_else(|| ConfigError::Invalid {
                    name: name.into(),
                    reason: format!("{s:?} is not an event; known: {known}, or none"),
                })
        })
        .collect()
}

fn parse_mailbox(name: &str, v: &str) -> Result<Mailbox, ConfigError> {
    v.trim().parse::<Mailbox>().map_err(|_| {
        invalid(
            name,
            format!("{v:?} is not an address such as \"Fika <orders@fika.se>\""),
        )
    })
}

impl MailConfig {
    /// Applies the settings given in `f` over the current ones.
    pub(super) fn apply(&mut self, f: FileMail) -> Result<(), ConfigError> {
        if let Some(url) = f.smtp_url.map(|u| u.trim().to_string()) {
            // lettre parses it again when the transport is built; checking
            // here stops start-up with a clear word (and no password in it).
            let parsed = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&url);
            if let Err(e) = parsed {
                let shown = crate::logsafe::url_without_password(&url);
                return Err(ConfigError::Invalid {
                    name: "ORDER_STATUS_SMTP_URL (mail.smtp_url)".into(),
                    reason: format!(
                        "{shown:?} is not an SMTP URL such as smtp://127.0.0.1:2525 or smtps://user:pass@host:465 ({e})"
                    ),
                });
            }
            self.transport = Some(MailTransport::Smtp(Secret(url)));
        }
        if let Some(dir) = f.dir {
            if matches!(self.transport, Some(MailTransport::Smtp(_))) {
                return Err(invalid(
                    "dir",
                    "give either an SMTP URL or a directory, not both".into(),
                ));
            }
            self.transport = Some(MailTransport::Files(dir));
        }
        if let Some(v) = f.from {
            self.from = Some(parse_mailbox("from", &v)?);
        }
        if let Some(v) = f.reply_to {
            self.reply_to = Some(parse_mailbox("reply_to", &v)?);
        }
        if let Some(list) = f.events {
            self.events = parse_events("mail.events", &list)?;
        }
        let period = |name: &str, v: Option<String>, into: &mut Duration| {
            if let Some(v) = v {
                *into = parse_period(v.trim())
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| invalid(name, format!("{v:?} is not a period such as 30s")))?;
            }
            Ok::<(), ConfigError>(())
        };
        period("max_age", f.max_age, &mut self.max_age)?;
        period("retry_first", f.retry_first, &mut self.retry_first)?;
        period("retry_max", f.retry_max, &mut self.retry_max)?;
        period("give_up", f.give_up, &mut self.give_up)?;
        if self.retry_max < self.retry_first {
            self.retry_max = self.retry_first;
        }
        if let Some(n) = f.workers {
            if !(1..=64).contains(&n) {
                return Err(invalid("workers", "must be between 1 and 64".into()));
            }
            self.workers = n as usize;
        }
        if let Some(n) = f.max_rate {
            self.max_rate = u32::try_from(n).map_err(|_| {
                invalid(
                    "max_rate",
                    "must be a number of messages a second, or 0".into(),
                )
            })?;
        }
        if let Some(v) = f.link_per_address {
            self.link_per_address = RateSpec::parse(&v).ok_or_else(|| {
                invalid(
                    "link_per_address",
                    format!("{v:?} is not a rate such as 3/h:3"),
                )
            })?;
        }
        if let Some(file) = f.ca_file {
            let pem = std::fs::read_to_string(&file)
                .map_err(|e| invalid("ca_file", format!("cannot read {}: {e}", file.display())))?;
            let parsed = lettre::transport::smtp::client::Certificate::from_pem(pem.as_bytes());
            if parsed.is_err() || !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(invalid(
                    "ca_file",
                    format!("{} holds no PEM certificate", file.display()),
                ));
            }
            self.ca_pem = Some(pem);
        }
        match (f.dkim_domain, f.dkim_selector, f.dkim_key_file) {
            (None, None, None) => {}
            (Some(domain), Some(selector), Some(file)) => {
                let pem = std::fs::read_to_string(&file).map_err(|e| {
                    invalid(
                        "dkim_key_file",
                        format!("cannot read {}: {e}", file.display()),
                    )
                })?;
                let dkim = Dkim {
                    domain: domain.trim().to_string(),
                    selector: selector.trim().to_string(),
                    key_pem: Secret(pem),
                };
                if crate::config::mail_settings::dkim_key(&dkim).is_none() {
                    return Err(invalid(
                        "dkim_key_file",
                        format!(
                            "{} holds neither an RSA private key (PKCS#1 PEM) nor an Ed25519 key (base64)",
                            file.display()
                        ),
                    ));
                }
                self.dkim = Some(dkim);
            }
            _ => {
                return Err(invalid(
                    "dkim",
                    "DKIM needs all three of dkim_domain, dkim_selector and dkim_key_file".into(),
                ));
            }
        }
        Ok(())
    }
}

/// The signing key of a DKIM setting, if its PEM is one lettre can use.
pub fn dkim_key(d: &Dkim) -> Option<lettre::message::dkim::DkimSigningKey> {
    use lettre::message::dkim::{DkimSigningAlgorithm, DkimSigningKey};
    let pem = d.key_pem.expose();
    DkimSigningKey::new(pem, DkimSigningAlgorithm::Rsa)
        .or_else(|_| DkimSigningKey::new(pem, DkimSigningAlgorithm::Ed25519))
        .ok()
}
