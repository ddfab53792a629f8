//! The `[mail]` settings: how shopper emails leave (SMTP or files), who
//! they are from, which events send one, retries, DKIM and the `/link`
//! budget. Every value is checked when it is read, and the files named
//! (DKIM key, CA certificates) are read at start, so a bad one stops
//! start-up with its name and the reason instead of failing at the first
//! send.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use clap::Args;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ConfigError;
use super::values::{
    Bounded, Domain, FsPath, Label, MailboxSetting, Period, RateSpec, ReadableFile, Reason, Secret,
    SmtpUrl,
};
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

/// Events that send an email: a list of event names, or `none`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventList(pub Vec<MailEvent>);

impl EventList {
    fn parse_all<'a>(items: impl Iterator<Item = &'a str>) -> Result<EventList, Reason> {
        let list: Vec<&str> = items.map(str::trim).filter(|s| !s.is_empty()).collect();
        if list == ["none"] {
            return Ok(EventList(Vec::new()));
        }
        let known = MailEvent::DETECTED.map(MailEvent::as_str).join(", ");
        list.iter()
            .map(|s| {
                MailEvent::parse(s)
                    .filter(|e| MailEvent::DETECTED.contains(e))
                    .ok_or_else(|| format!("{s:?} is not an event; known: {known}, or none"))
            })
            .collect::<Result<_, _>>()
            .map(EventList)
    }
}

/// `shipped,delivered` (a flag or variable: one comma-separated text).
impl FromStr for EventList {
    type Err = Reason;
    fn from_str(s: &str) -> Result<Self, Reason> {
        EventList::parse_all(s.split(','))
    }
}

impl fmt::Display for EventList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<&str> = self.0.iter().map(|e| e.as_str()).collect();
        f.write_str(&names.join(", "))
    }
}

impl Serialize for EventList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// A list in the file (`["shipped", "delivered"]`), or one text.
impl<'de> Deserialize<'de> for EventList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum ListOrText {
            List(Vec<String>),
            Text(String),
        }
        match ListOrText::deserialize(d)? {
            ListOrText::List(l) => EventList::parse_all(l.iter().map(String::as_str)),
            ListOrText::Text(t) => t.parse(),
        }
        .map_err(serde::de::Error::custom)
    }
}

/// The `[mail]` section.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// The SMTP server, in lettre's URL form: `smtp://127.0.0.1:2525` (a
    /// local relay, no TLS), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), `smtps://user:pass@host:465` (TLS); never logged with its
    /// password. [default: none: files]
    #[arg(
        id = "mail.smtp_url",
        long = "smtp-url",
        env = "ORDER_STATUS_SMTP_URL",
        value_name = "URL",
        global = true
    )]
    pub smtp_url: Option<SmtpUrl>,
    /// Without an SMTP URL: where each message is written as an `.eml` file
    /// (the demo's transport). [default: DATA_DIR/mail/sent]
    #[arg(
        id = "mail.dir",
        long = "mail-dir",
        env = "ORDER_STATUS_MAIL_DIR",
        value_name = "DIR",
        global = true
    )]
    pub dir: Option<FsPath>,
    /// The `From:` of status emails, e.g. `Fika <orders@fika.se>`.
    /// [default: Shop Name <no-reply@SHOP DOMAIN>]
    #[arg(
        id = "mail.from",
        long = "mail-from",
        env = "ORDER_STATUS_MAIL_FROM",
        value_name = "MAILBOX",
        global = true
    )]
    pub from: Option<MailboxSetting>,
    /// The `Reply-To:`. [default: [shop] support_email]
    #[arg(
        id = "mail.reply_to",
        long = "mail-reply-to",
        env = "ORDER_STATUS_MAIL_REPLY_TO",
        value_name = "MAILBOX",
        global = true
    )]
    pub reply_to: Option<MailboxSetting>,
    /// Which events email the shopper (a list; `none` for none); per shop:
    /// `[[shopify]] mail_events`.
    #[arg(
        id = "mail.events",
        long = "mail-events",
        env = "ORDER_STATUS_MAIL_EVENTS",
        value_name = "EVENTS",
        default_value = "delivery_problem, running_late, on_hold, custom_stage, return_received",
        global = true
    )]
    pub events: EventList,
    /// An event older than this when the site learns of it (history
    /// imported, a sync after an outage) sends nothing.
    #[arg(
        id = "mail.max_age",
        long = "mail-max-age",
        env = "ORDER_STATUS_MAIL_MAX_AGE",
        value_name = "PERIOD",
        default_value = "3d",
        global = true
    )]
    pub max_age: Period,
    /// After a temporary failure (no connection, a 4xx reply) the first
    /// wait, doubling up to `retry_max`.
    #[arg(
        id = "mail.retry_first",
        long = "mail-retry-first",
        env = "ORDER_STATUS_MAIL_RETRY_FIRST",
        value_name = "PERIOD",
        default_value = "30s",
        global = true
    )]
    pub retry_first: Period,
    /// The longest wait between two tries.
    #[arg(
        id = "mail.retry_max",
        long = "mail-retry-max",
        env = "ORDER_STATUS_MAIL_RETRY_MAX",
        value_name = "PERIOD",
        default_value = "1h",
        global = true
    )]
    pub retry_max: Period,
    /// After this long in failures the message is marked failed.
    #[arg(
        id = "mail.give_up",
        long = "mail-give-up",
        env = "ORDER_STATUS_MAIL_GIVE_UP",
        value_name = "PERIOD",
        default_value = "2d",
        global = true
    )]
    pub give_up: Period,
    /// Messages sent at once (1 to 64).
    #[arg(
        id = "mail.workers",
        long = "mail-workers",
        env = "ORDER_STATUS_MAIL_WORKERS",
        value_name = "N",
        default_value = "4",
        global = true
    )]
    pub workers: Bounded<1, 64>,
    /// Most messages handed to the transport a second (0: no cap), so a
    /// full outbox does not take every cycle from the pages (BENCHMARKS.md).
    #[arg(
        id = "mail.max_rate",
        long = "mail-max-rate",
        env = "ORDER_STATUS_MAIL_MAX_RATE",
        value_name = "N",
        default_value = "250",
        global = true
    )]
    pub max_rate: Bounded<0, 4_294_967_295>,
    /// "Email me my link" requests per email address (besides `[limits]
    /// lookup` per client).
    #[arg(
        id = "mail.link_per_address",
        long = "mail-link-per-address",
        env = "ORDER_STATUS_MAIL_LINK_PER_ADDRESS",
        value_name = "RATE",
        default_value = "3/h:3",
        global = true
    )]
    pub link_per_address: RateSpec,
    /// PEM certificates trusted, beside the public roots, for the SMTP
    /// server's TLS (a relay with a certificate from your own CA).
    #[arg(
        id = "mail.ca_file",
        long = "mail-ca-file",
        env = "ORDER_STATUS_MAIL_CA_FILE",
        value_name = "FILE",
        global = true
    )]
    pub ca_file: Option<ReadableFile>,
    /// DKIM-sign every message: the signing domain (all three DKIM settings,
    /// or none).
    #[arg(
        id = "mail.dkim_domain",
        long = "dkim-domain",
        env = "ORDER_STATUS_DKIM_DOMAIN",
        value_name = "DOMAIN",
        global = true
    )]
    pub dkim_domain: Option<Domain>,
    /// The DKIM selector.
    #[arg(
        id = "mail.dkim_selector",
        long = "dkim-selector",
        env = "ORDER_STATUS_DKIM_SELECTOR",
        value_name = "NAME",
        global = true
    )]
    pub dkim_selector: Option<Label>,
    /// The DKIM private key: RSA in PKCS#1 PEM, or Ed25519 as base64.
    #[arg(
        id = "mail.dkim_key_file",
        long = "dkim-key-file",
        env = "ORDER_STATUS_DKIM_KEY_FILE",
        value_name = "FILE",
        global = true
    )]
    pub dkim_key_file: Option<ReadableFile>,

    /// Resolved: where messages go (`None`: files under the data dir).
    #[arg(skip)]
    #[serde(skip)]
    pub transport: Option<MailTransport>,
    /// Resolved: DKIM signing, its key read.
    #[arg(skip)]
    #[serde(skip)]
    pub dkim: Option<Dkim>,
    /// Resolved: the certificates of `ca_file`.
    #[arg(skip)]
    #[serde(skip)]
    pub ca_pem: Option<String>,
}

fn invalid(name: &str, reason: String) -> ConfigError {
    ConfigError::Invalid {
        name: format!("mail.{name}"),
        reason,
    }
}

impl MailConfig {
    /// Reads the files the settings name and works out the transport.
    pub(super) fn resolve(&mut self) -> Result<(), ConfigError> {
        self.transport = match (&self.smtp_url, &self.dir) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "dir",
                    "give either an SMTP URL or a directory, not both".into(),
                ));
            }
            (Some(url), None) => Some(MailTransport::Smtp(url.0.clone())),
            (None, Some(dir)) => Some(MailTransport::Files(dir.0.clone())),
            (None, None) => None,
        };
        if *self.retry_max < *self.retry_first {
            self.retry_max = self.retry_first;
        }
        if let Some(file) = &self.ca_file {
            let pem = std::fs::read_to_string(&file.0)
                .map_err(|e| invalid("ca_file", format!("cannot read {file}: {e}")))?;
            let parsed = lettre::transport::smtp::client::Certificate::from_pem(pem.as_bytes());
            if parsed.is_err() || !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(invalid(
                    "ca_file",
                    format!("{file} holds no PEM certificate"),
                ));
            }
            self.ca_pem = Some(pem);
        }
        self.dkim = match (&self.dkim_domain, &self.dkim_selector, &self.dkim_key_file) {
            (None, None, None) => None,
            (Some(domain), Some(selector), Some(file)) => {
                let pem = std::fs::read_to_string(&file.0)
                    .map_err(|e| invalid("dkim_key_file", format!("cannot read {file}: {e}")))?;
                let dkim = Dkim {
                    domain: domain.to_string(),
                    selector: selector.to_string(),
                    key_pem: Secret::new(pem),
                };
                if dkim_key(&dkim).is_none() {
                    return Err(invalid(
                        "dkim_key_file",
                        format!(
                            "{file} holds neither an RSA private key (PKCS#1 PEM) nor an Ed25519 key (base64)"
                        ),
                    ));
                }
                Some(dkim)
            }
            _ => {
                return Err(invalid(
                    "dkim",
                    "DKIM needs all three of dkim_domain, dkim_selector and dkim_key_file".into(),
                ));
            }
        };
        Ok(())
    }

    /// Messages sent at once.
    pub fn worker_count(&self) -> usize {
        self.workers.as_usize()
    }

    /// Most messages a second (0: no cap).
    pub fn rate_cap(&self) -> u32 {
        u32::try_from(self.max_rate.get()).unwrap_or(u32::MAX)
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
