//! One `Config` for the whole process, read once at start-up.
//!
//! Sources, later ones winning: built-in defaults, the TOML file
//! (`order-status.toml` in the working directory if present, or the file
//! named by `--config` / `ORDER_STATUS_CONFIG`), `ORDER_STATUS_*`
//! environment variables, command-line flags. Every setting and its
//! variable is listed in the README. Secrets (later: link keys, Shopify
//! tokens) are never printed: `Debug` is written by hand to redact them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono_tz::Tz;
use serde::Deserialize;
use thiserror::Error;

use crate::i18n::Lang;
use crate::links::LinkKey;
use crate::order::mail_log::MailEvent;
pub use mail_settings::{Dkim, MailConfig, MailTransport};
pub use merchant::{MerchantConfig, ProblemThresholds, StatusDef};

pub mod mail_settings;
pub mod merchant;
mod values;

pub use values::{Cidr, FailureSpec, Limits, RateSpec, parse_addr};
use values::{
    list, parse_bool, parse_color, parse_count, parse_link_key, parse_nats_url, parse_origin,
    parse_period, parse_public_url, parse_web_url,
};

/// Why the configuration cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("config file {path}: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("{name}: {reason}")]
    Invalid { name: String, reason: String },
}

/// The shop the site speaks for (name, look, support contact, time zone).
#[derive(Clone, Debug, PartialEq)]
pub struct ShopConfig {
    /// Shown in the header and the page title.
    pub name: String,
    /// The shop's domain; orders imported without a `shop` get this one.
    pub domain: String,
    /// Where "Need help?" mails go.
    pub support_email: Option<String>,
    /// Dates and times on the pages are shown in this zone.
    pub timezone: Tz,
    /// CSS colour for buttons and highlights, e.g. `#1f6feb`.
    pub accent_color: String,
    /// Logo URL (absolute, or a path under `public/`).
    pub logo_url: Option<String>,
    /// The shop's own site: where "Continue shopping" leads.
    pub url: Option<String>,
    /// The language of emails to shoppers whose order does not say theirs.
    pub language: Lang,
    /// Where product images may come from (`https://cdn.shopify.com`):
    /// the only image origins the pages' CSP allows besides the site.
    pub image_origins: Vec<String>,
}

impl ShopConfig {
    /// The image sources of the pages' CSP: the product image origins and
    /// the logo's origin when it is on another site.
    pub fn image_sources(&self) -> Vec<String> {
        let mut sources = self.image_origins.clone();
        let logo_origin = self
            .logo_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .filter(|u| matches!(u.scheme(), "https" | "http"))
            .map(|u| u.origin().ascii_serialization());
        if let Some(o) = logo_origin
            && !sources.contains(&o)
        {
            sources.push(o);
        }
        sources
    }
}

/// The whole configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where `serve` listens.
    pub addr: SocketAddr,
    /// Where the index (and later keys and checkpoints) live.
    pub data_dir: PathBuf,
    /// Static files served at the site root.
    pub public_dir: PathBuf,
    /// Seed demo orders (and the demo staff account) when the store is
    /// empty at start-up: on by default, off by default once a Shopify
    /// shop or an https `public_url` is configured.
    pub seed_demo: bool,
    /// Whether `seed_demo` was set (file or environment), not defaulted.
    seed_demo_set: bool,
    /// The site's public base URL (`https://track.example.com`), used in
    /// links the site hands out; without it, the request's Host is used.
    pub public_url: Option<String>,
    /// How long a link made by a shopper's lookup stays valid.
    pub link_ttl_days: u32,
    /// Link signing keys, newest first (`ID=SECRET`); empty means "use the
    /// key generated in the data dir".
    pub link_keys: Vec<LinkKey>,
    /// Reverse proxies whose `X-Forwarded-For` we believe.
    pub trusted_proxies: Vec<Cidr>,
    /// Origins allowed to frame the embeddable pages.
    pub embed_origins: Vec<String>,
    pub limits: Limits,
    pub shop: ShopConfig,
    /// Shopify stores this site syncs from and takes webhooks for.
    pub shopify: Vec<ShopifyShop>,
    /// How often `serve` reconciles with Shopify (webhooks can be lost).
    pub sync_interval: std::time::Duration,
    /// Bearer token that lets non-loopback clients read `/metrics`.
    pub metrics_token: Option<Secret>,
    /// Emails to shoppers.
    pub mail: MailConfig,
    /// The merchant's statuses, their rules and the problem thresholds.
    pub merchant: MerchantConfig,
    /// Replicas fed by NATS JetStream (no servers: the embedded single
    /// node).
    pub replicate: ReplicateConfig,
}

/// Where the replication log and shared state live (see
/// `crate::replicate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicateConfig {
    /// NATS servers (`nats://host:port`), any of the cluster; empty: off.
    pub servers: Vec<String>,
    /// How many NATS servers keep a copy of the log and the buckets (3 in
    /// production; 1 for a single test server).
    pub copies: usize,
}

impl Default for ReplicateConfig {
    fn default() -> Self {
        ReplicateConfig {
            servers: Vec::new(),
            copies: 3,
        }
    }
}

impl ReplicateConfig {
    /// Replication is on.
    pub fn on(&self) -> bool {
        !self.servers.is_empty()
    }
}

/// A secret setting: its `Debug` says only that it is there.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for comparing; never for logging.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How the site authenticates to a shop's Admin API.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// None configured: webhooks only, no sync.
    None,
    /// A static token of an app made in the Shopify admin (before 2026).
    Token(String),
    /// A Dev Dashboard app's client id and secret, exchanged for expiring
    /// tokens with the client-credentials grant.
    ClientCredentials {
        client_id: String,
        client_secret: String,
    },
}

impl Credentials {
    /// Whether the Admin API can be called at all.
    pub fn is_some(&self) -> bool {
        !matches!(self, Credentials::None)
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Token(_) => f.write_str("Token(<redacted>)"),
            Credentials::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", &"<redacted>")
                .finish(),
        }
    }
}

/// One Shopify store.
#[derive(Clone)]
pub struct ShopifyShop {
    /// `example.myshopify.com`: the key of its orders here.
    pub domain: String,
    /// Admin API credentials (scopes: see the README).
    pub credentials: Credentials,
    /// Admin API version, e.g. `2026-10`.
    pub api_version: String,
    /// Where the Admin API lives; `https://<domain>` unless overridden
    /// (tests point it at a fake).
    pub api_base: String,
    /// Webhook signing secrets; two may be valid at once while rotating.
    pub webhook_secrets: Vec<String>,
    /// Secret for status links built in Liquid (see the README).
    pub link_secret: Option<String>,
    /// A sync that would reach further back than this goes through a bulk
    /// operation instead of paging (as does the first one).
    pub bulk_after: std::time::Duration,
    /// The events that email this shop's shoppers, when not `[mail] events`.
    pub mail_events: Option<Vec<MailEvent>>,
    /// Whether staff actions are written back to Shopify (statuses as a
    /// tag and a metafield, shipments, tracking, carrier scans,
    /// fulfillment requests). Off unless configured.
    pub write_back: bool,
    /// The name of the fulfillment service this app registers on the shop
    /// (`shopify setup`); `None`: the app is not a fulfillment service.
    pub fulfillment_service: Option<String>,
}

impl std::fmt::Debug for ShopifyShop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |o: bool| if o { "<redacted>" } else { "<none>" };
        f.debug_struct("ShopifyShop")
            .field("domain", &self.domain)
            .field("credentials", &self.credentials)
            .field("bulk_after", &self.bulk_after)
            .field("api_version", &self.api_version)
            .field("api_base", &self.api_base)
            .field(
                "webhook_secrets",
                &format!("<{} redacted>", self.webhook_secrets.len()),
            )
            .field("link_secret", &redacted(self.link_secret.is_some()))
            .field("write_back", &self.write_back)
            .field("fulfillment_service", &self.fulfillment_service)
            .finish()
    }
}

/// The Admin API version used unless configured: the current stable one
/// (each is supported for about twelve months; an unsupported version
/// "falls forward" to the oldest supported one).
pub const DEFAULT_API_VERSION: &str = "2026-10";

/// The oldest Admin API version the site's queries work with:
/// `bulkOperation(id:)` and `ReturnLineItem.returnReasonDefinition` came
/// with 2026-01. An older one is refused at start; Shopify would serve it
/// as its oldest supported version anyway ("fall forward").
pub const OLDEST_API_VERSION: &str = "2026-01";

/// Default for [`ShopifyShop::bulk_after`].
pub const DEFAULT_BULK_AFTER: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from("data"),
            public_dir: PathBuf::from("public"),
            seed_demo: true,
            seed_demo_set: false,
            public_url: None,
            link_ttl_days: 30,
            link_keys: Vec::new(),
            trusted_proxies: Vec::new(),
            embed_origins: Vec::new(),
            limits: Limits::default(),
            shopify: Vec::new(),
            sync_interval: std::time::Duration::from_secs(300),
            metrics_token: None,
            mail: MailConfig::default(),
            merchant: MerchantConfig::default(),
            replicate: ReplicateConfig::default(),
            shop: ShopConfig {
                name: "Demo Store".into(),
                domain: "demo.example".into(),
                support_email: Some("support@demo.example".into()),
                timezone: chrono_tz::Europe::Stockholm,
                accent_color: "#1f6f5c".into(),
                logo_url: None,
                url: None,
                language: Lang::En,
                image_origins: vec!["https://cdn.shopify.com".into()],
            },
        }
    }
}

/// The TOML file's shape: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<String>,
    data_dir: Option<PathBuf>,
    public_dir: Option<PathBuf>,
    seed_demo: Option<bool>,
    public_url: Option<String>,
    link_ttl_days: Option<u32>,
    link_keys: Option<Vec<String>>,
    trusted_proxies: Option<Vec<String>>,
    embed_origins: Option<Vec<String>>,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    shop: FileShop,
    sync_interval: Option<String>,
    metrics_token: Option<String>,
    #[serde(default)]
    shopify: Vec<FileShopify>,
    #[serde(default)]
    mail: mail_settings::FileMail,
    #[serde(default)]
    status: Vec<merchant::FileStatus>,
    #[serde(default)]
    status_rule: Vec<merchant::FileRule>,
    #[serde(default)]
    problems: merchant::FileProblems,
    replicate: Option<Vec<String>>,
    replicate_copies: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShopify {
    domain: Option<String>,
    access_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    bulk_after: Option<String>,
    api_version: Option<String>,
    api_base: Option<String>,
    webhook_secrets: Option<Vec<String>>,
    link_secret: Option<String>,
    mail_events: Option<Vec<String>>,
    write_back: Option<bool>,
    fulfillment_service: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    pages: Option<String>,
    lookup: Option<String>,
    login: Option<String>,
    api: Option<String>,
    order_failures: Option<String>,
    connections: Option<u64>,
    connections_per_client: Option<u64>,
    first_byte_timeout: Option<String>,
    idle_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShop {
    name: Option<String>,
    domain: Option<String>,
    support_email: Option<String>,
    timezone: Option<String>,
    accent_color: Option<String>,
    logo_url: Option<String>,
    url: Option<String>,
    language: Option<String>,
    image_origins: Option<Vec<String>>,
}

/// The default config file, read when present.
pub const DEFAULT_FILE: &str = "order-status.toml";

impl Config {
    /// Loads defaults, then `file` (or `order-status.toml` if it exists),
    /// then the environment given by `env` (a lookup, so tests need not
    /// touch the process environment).
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        let mut merchant_file = Default::default();
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| env("ORDER_STATUS_CONFIG").map(PathBuf::from))
            .or_else(|| Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.exists()));
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let mut f: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            // Resolved last: texts fall back to the shop's language, which
            // the environment may still set.
            merchant_file = (
                std::mem::take(&mut f.status),
                std::mem::take(&mut f.status_rule),
                std::mem::take(&mut f.problems),
            );
            c.apply(f)?;
        }
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let write_back_var = var("ORDER_STATUS_SHOPIFY_WRITE_BACK")
            .map(|v| parse_bool("ORDER_STATUS_SHOPIFY_WRITE_BACK", &v))
            .transpose()?;
        c.apply(FileConfig {
            addr: var("ORDER_STATUS_ADDR"),
            data_dir: var("ORDER_STATUS_DATA_DIR").map(PathBuf::from),
            public_dir: var("ORDER_STATUS_PUBLIC_DIR").map(PathBuf::from),
            seed_demo: var("ORDER_STATUS_SEED_DEMO")
                .map(|v| parse_bool("ORDER_STATUS_SEED_DEMO", &v))
                .transpose()?,
            public_url: var("ORDER_STATUS_PUBLIC_URL"),
            link_ttl_days: var("ORDER_STATUS_LINK_TTL_DAYS")
                .map(|v| {
                    v.trim().parse().map_err(|_| ConfigError::Invalid {
                        name: "ORDER_STATUS_LINK_TTL_DAYS".into(),
                        reason: format!("{v:?} is not a number of days"),
                    })
                })
                .transpose()?,
            link_keys: var("ORDER_STATUS_LINK_KEYS").map(|v| list(&v)),
            trusted_proxies: var("ORDER_STATUS_TRUSTED_PROXIES").map(|v| list(&v)),
            embed_origins: var("ORDER_STATUS_EMBED_ORIGINS").map(|v| list(&v)),
            sync_interval: var("ORDER_STATUS_SYNC_INTERVAL"),
            metrics_token: var("ORDER_STATUS_METRICS_TOKEN"),
            shopify: var("ORDER_STATUS_SHOPIFY_SHOP")
                .map(|domain| {
                    vec![FileShopify {
                        domain: Some(domain),
                        access_token: var("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN"),
                        client_id: var("ORDER_STATUS_SHOPIFY_CLIENT_ID"),
                        client_secret: var("ORDER_STATUS_SHOPIFY_CLIENT_SECRET"),
                        bulk_after: var("ORDER_STATUS_SHOPIFY_BULK_AFTER"),
                        api_version: var("ORDER_STATUS_SHOPIFY_API_VERSION"),
                        api_base: var("ORDER_STATUS_SHOPIFY_API_BASE"),
                        webhook_secrets: var("ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET")
                            .map(|v| list(&v)),
                        link_secret: var("ORDER_STATUS_SHOPIFY_LINK_SECRET"),
                        mail_events: var("ORDER_STATUS_SHOPIFY_MAIL_EVENTS").map(|v| list(&v)),
                        write_back: write_back_var,
                        fulfillment_service: var("ORDER_STATUS_SHOPIFY_FULFILLMENT_SERVICE"),
                    }]
                })
                .unwrap_or_default(),
            limits: FileLimits {
                pages: var("ORDER_STATUS_LIMIT_PAGES"),
                lookup: var("ORDER_STATUS_LIMIT_LOOKUP"),
                login: var("ORDER_STATUS_LIMIT_LOGIN"),
                api: var("ORDER_STATUS_LIMIT_API"),
                order_failures: var("ORDER_STATUS_LIMIT_ORDER_FAILURES"),
                connections: var("ORDER_STATUS_LIMIT_CONNECTIONS")
                    .map(|v| parse_count("ORDER_STATUS_LIMIT_CONNECTIONS", &v))
                    .transpose()?,
                connections_per_client: var("ORDER_STATUS_LIMIT_CONNECTIONS_PER_CLIENT")
                    .map(|v| parse_count("ORDER_STATUS_LIMIT_CONNECTIONS_PER_CLIENT", &v))
                    .transpose()?,
                first_byte_timeout: var("ORDER_STATUS_LIMIT_FIRST_BYTE_TIMEOUT"),
                idle_timeout: var("ORDER_STATUS_LIMIT_IDLE_TIMEOUT"),
            },
            shop: FileShop {
                name: var("ORDER_STATUS_SHOP_NAME"),
                domain: var("ORDER_STATUS_SHOP_DOMAIN"),
                support_email: var("ORDER_STATUS_SUPPORT_EMAIL"),
                timezone: var("ORDER_STATUS_TIMEZONE"),
                accent_color: var("ORDER_STATUS_ACCENT_COLOR"),
                logo_url: var("ORDER_STATUS_LOGO_URL"),
                url: var("ORDER_STATUS_SHOP_URL"),
                language: var("ORDER_STATUS_SHOP_LANGUAGE"),
                image_origins: var("ORDER_STATUS_IMAGE_ORIGINS").map(|v| list(&v)),
            },
            mail: mail_settings::FileMail::from_env(&var),
            replicate: var("ORDER_STATUS_REPLICATE").map(|v| list(&v)),
            replicate_copies: var("ORDER_STATUS_REPLICATE_COPIES")
                .map(|v| parse_count("ORDER_STATUS_REPLICATE_COPIES", &v))
                .transpose()?,
            ..FileConfig::default()
        })?;
        let (statuses, rules, problems) = merchant_file;
        c.merchant = merchant::resolve(statuses, rules, problems, c.shop.language)?;
        c.check_production()?;
        Ok(c)
    }

    /// What a production setup must not leave to defaults: the demo's
    /// orders and staff account are off unless asked for once a real shop
    /// or an https address is configured; links in emails and behind a
    /// proxy need the site's public address.
    fn check_production(&mut self) -> Result<(), ConfigError> {
        let production = !self.shopify.is_empty()
            || self
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"));
        if production && !self.seed_demo_set {
            self.seed_demo = false;
        }
        if self.public_url.is_none() && self.mail.transport.is_some() {
            // Emails carry links: a loopback address is a test setup (and
            // said so); any other without the public address is a mistake.
            if !self.addr.ip().is_loopback() {
                return Err(ConfigError::Invalid {
                    name: "public_url (ORDER_STATUS_PUBLIC_URL)".into(),
                    reason: "emails carry links to the status page: set the site's public address, e.g. https://track.example.com".into(),
                });
            }
            tracing::warn!(
                "emails go out through SMTP but public_url (ORDER_STATUS_PUBLIC_URL) is not set: their links point at http://{} (this machine only)",
                self.addr
            );
        }
        if self.public_url.is_none() && !self.trusted_proxies.is_empty() {
            return Err(ConfigError::Invalid {
                name: "public_url (ORDER_STATUS_PUBLIC_URL)".into(),
                reason: "behind a proxy the site cannot know its own address: set it, e.g. https://track.example.com".into(),
            });
        }
        Ok(())
    }

    /// Sets the NATS servers of `--replicate` / `replicate` (an empty list
    /// turns replication off).
    pub fn set_replicate(&mut self, servers: &[String]) -> Result<(), ConfigError> {
        self.replicate.servers = servers
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(parse_nats_url)
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    fn apply(&mut self, f: FileConfig) -> Result<(), ConfigError> {
        if let Some(a) = f.addr {
            self.addr = parse_addr(&a)?;
        }
        if let Some(d) = f.data_dir {
            self.data_dir = d;
        }
        if let Some(d) = f.public_dir {
            self.public_dir = d;
        }
        if let Some(b) = f.seed_demo {
            self.seed_demo = b;
            self.seed_demo_set = true;
        }
        if let Some(u) = f.public_url {
            self.public_url = Some(parse_public_url(&u)?);
        }
        if let Some(d) = f.link_ttl_days {
            if d == 0 {
                return Err(ConfigError::Invalid {
                    name: "link_ttl_days".into(),
                    reason: "must be at least 1".into(),
                });
            }
            self.link_ttl_days = d;
        }
        if let Some(list) = f.trusted_proxies {
            self.trusted_proxies = list
                .iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    Cidr::parse(s).ok_or_else(|| ConfigError::Invalid {
                        name: "trusted_proxies".into(),
                        reason: format!("{s:?} is not an address or network such as 10.0.0.0/8"),
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(list) = f.embed_origins {
            self.embed_origins = list
                .iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| parse_origin("embed_origins", s))
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = f.sync_interval {
            self.sync_interval = parse_period(v.trim())
                .filter(|d| d.as_secs() >= 10)
                .ok_or_else(|| ConfigError::Invalid {
                    name: "sync_interval".into(),
                    reason: format!("{v:?} is not a period of 10s or more such as 5m"),
                })?;
        }
        if let Some(t) = f
            .metrics_token
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
        {
            values::strong_secret("metrics_token (ORDER_STATUS_METRICS_TOKEN)", &t)?;
            self.metrics_token = Some(Secret(t));
        }
        for shop in f.shopify {
            self.add_shopify(shop)?;
        }
        if let Some(servers) = f.replicate {
            self.set_replicate(&servers)?;
        }
        if let Some(n) = f.replicate_copies {
            if !(1..=5).contains(&n) {
                return Err(ConfigError::Invalid {
                    name: "replicate_copies".into(),
                    reason: format!("{n} copies: JetStream keeps 1 to 5"),
                });
            }
            self.replicate.copies = n as usize;
        }
        let l = f.limits;
        let rate =
            |name: &str, v: Option<String>, into: &mut RateSpec| -> Result<(), ConfigError> {
                if let Some(v) = v {
                    *into = RateSpec::parse(&v).ok_or_else(|| ConfigError::Invalid {
                        name: format!("limits.{name}"),
                        reason: format!(
                            "{v:?} is not a rate such as 10/m:5 (10 a minute, bursts of 5)"
                        ),
                    })?;
                }
                Ok(())
            };
        rate("pages", l.pages, &mut self.limits.pages)?;
        rate("lookup", l.lookup, &mut self.limits.lookup)?;
        rate("login", l.login, &mut self.limits.login)?;
        rate("api", l.api, &mut self.limits.api)?;
        if let Some(v) = l.order_failures {
            self.limits.order_failures =
                FailureSpec::parse(&v).ok_or_else(|| ConfigError::Invalid {
                    name: "limits.order_failures".into(),
                    reason: format!("{v:?} is not a count and window such as 5/15m"),
                })?;
        }
        if let Some(n) = l.connections {
            self.limits.connections = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = l.connections_per_client {
            if n == 0 {
                return Err(ConfigError::Invalid {
                    name: "limits.connections_per_client".into(),
                    reason: "must be at least 1".into(),
                });
            }
            self.limits.connections_per_client = usize::try_from(n).unwrap_or(usize::MAX);
        }
        let timeout = |name: &str, v: Option<String>, into: &mut std::time::Duration| {
            if let Some(v) = v {
                *into = parse_period(v.trim()).ok_or_else(|| ConfigError::Invalid {
                    name: format!("limits.{name}"),
                    reason: format!("{v:?} is not a period such as 10s or 2m"),
                })?;
            }
            Ok::<(), ConfigError>(())
        };
        timeout(
            "first_byte_timeout",
            l.first_byte_timeout,
            &mut self.limits.first_byte_timeout,
        )?;
        timeout(
            "idle_timeout",
            l.idle_timeout,
            &mut self.limits.idle_timeout,
        )?;
        if let Some(keys) = f.link_keys {
            self.link_keys = keys
                .iter()
                .filter(|k| !k.trim().is_empty())
                .map(|k| parse_link_key(k))
                .collect::<Result<_, _>>()?;
        }
        let s = f.shop;
        if let Some(v) = s.name {
            self.shop.name = v;
        }
        if let Some(v) = s.domain {
            self.shop.domain = v.trim().to_ascii_lowercase();
        }
        if let Some(v) = s.support_email {
            self.shop.support_email = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = s.timezone {
            self.shop.timezone = Tz::from_str(v.trim()).map_err(|_| ConfigError::Invalid {
                name: "timezone".into(),
                reason: format!("{v:?} is not an IANA time zone such as Europe/Stockholm"),
            })?;
        }
        if let Some(v) = s.accent_color {
            self.shop.accent_color = parse_color(&v)?;
        }
        if let Some(v) = s.logo_url {
            self.shop.logo_url = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = s.url {
            self.shop.url = (!v.trim().is_empty())
                .then(|| parse_web_url("shop.url", &v))
                .transpose()?;
        }
        if let Some(v) = s.language {
            let known = Lang::ALL.map(Lang::code).join(", ");
            self.shop.language = Lang::from_code(&v).ok_or_else(|| ConfigError::Invalid {
                name: "shop.language".into(),
                reason: format!("{v:?} is not a language the site speaks ({known})"),
            })?;
        }
        if let Some(list) = s.image_origins {
            self.shop.image_origins = list
                .iter()
                .filter(|o| !o.trim().is_empty())
                .map(|o| parse_origin("shop.image_origins", o))
                .collect::<Result<_, _>>()?;
        }
        self.mail.apply(f.mail)?;
        Ok(())
    }
}

impl Config {
    /// Adds (or, for the same domain, replaces) a Shopify store.
    fn add_shopify(&mut self, f: FileShopify) -> Result<(), ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            name: "shopify".into(),
            reason,
        };
        let domain = f
            .domain
            .map(|d| {
                d.trim()
                    .trim_start_matches("https://")
                    .trim_end_matches('/')
                    .to_ascii_lowercase()
            })
            .filter(|d| {
                !d.is_empty()
                    && d.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            })
            .ok_or_else(|| {
                invalid("each shop needs a domain such as example.myshopify.com".into())
            })?;
        let api_version = f.api_version.unwrap_or_else(|| DEFAULT_API_VERSION.into());
        let version_ok = api_version.len() == 7
            && api_version.as_bytes()[4] == b'-'
            && api_version
                .bytes()
                .enumerate()
                .all(|(i, b)| i == 4 || b.is_ascii_digit());
        if !version_ok {
            return Err(invalid(format!(
                "{api_version:?} is not an API version such as 2026-10"
            )));
        }
        if api_version.as_str() < OLDEST_API_VERSION {
            return Err(invalid(format!(
                "API version {api_version} is older than {OLDEST_API_VERSION}, the oldest this site's queries work with (they use `bulkOperation(id:)` and `returnReasonDefinition`); set api_version (ORDER_STATUS_SHOPIFY_API_VERSION) to {DEFAULT_API_VERSION}"
            )));
        }
        let api_base = match f.api_base {
            Some(b) => {
                parse_public_url(&b).map_err(|_| invalid(format!("{b:?} is not a base URL")))?
            }
            None => format!("https://{domain}"),
        };
        let secrets: Vec<String> = f
            .webhook_secrets
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if secrets.len() > 2 {
            return Err(invalid(
                "at most two webhook secrets (the old and the new while rotating)".into(),
            ));
        }
        for secret in &secrets {
            values::strong_secret(
                &format!("{domain}: webhook_secrets (ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET)"),
                secret,
            )?;
        }
        let link_secret = f
            .link_secret
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let nonempty =
            |v: Option<String>| v.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        let credentials = match (
            nonempty(f.access_token),
            nonempty(f.client_id),
            nonempty(f.client_secret),
        ) {
            (None, None, None) => Credentials::None,
            (Some(t), None, None) => Credentials::Token(t),
            (None, Some(client_id), Some(client_secret)) => Credentials::ClientCredentials {
                client_id,
                client_secret,
            },
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(invalid(format!(
                    "{domain}: give either an access token or a client id and secret, not both"
                )));
            }
            (None, Some(_), None) | (None, None, Some(_)) => {
                return Err(invalid(format!(
                    "{domain}: the client-credentials grant needs both the client id and the client secret"
                )));
            }
        };
        // A Dev Dashboard app signs its webhooks with its client secret.
        let secrets = match (&credentials, secrets.is_empty()) {
            (Credentials::ClientCredentials { client_secret, .. }, true) => {
                vec![client_secret.clone()]
            }
            _ => secrets,
        };
        let bulk_after = match f.bulk_after {
            None => DEFAULT_BULK_AFTER,
            Some(v) => parse_period(v.trim())
                .filter(|d| d.as_secs() >= 60)
                .ok_or_else(|| {
                    invalid(format!(
                        "bulk_after {v:?} is not a period of 1m or more such as 6h"
                    ))
                })?,
        };
        if let Some(secret) = &link_secret {
            values::strong_secret(
                &format!("{domain}: link_secret (ORDER_STATUS_SHOPIFY_LINK_SECRET)"),
                secret,
            )?;
        }
        let mail_events = f
            .mail_events
            .map(|l| mail_settings::parse_events(&format!("{domain}: mail_events"), &l))
            .transpose()?;
        let fulfillment_service = match f.fulfillment_service.map(|n| n.trim().to_string()) {
            Some(n)
                if n.is_empty() || n.chars().count() > 255 || n.chars().any(char::is_control) =>
            {
                return Err(invalid(format!(
                    "the fulfillment service name of {domain} must be 1 to 255 characters"
                )));
            }
            other => other,
        };
        if fulfillment_service.is_some() && !credentials.is_some() {
            return Err(invalid(format!(
                "{domain}: a fulfillment service needs Admin API credentials (client_id and client_secret, or access_token): requests are read and answered through the API"
            )));
        }
        let shop = ShopifyShop {
            fulfillment_service,
            write_back: f.write_back.unwrap_or(false),
            mail_events,
            credentials,
            bulk_after,
            api_version,
            api_base,
            webhook_secrets: secrets,
            link_secret,
            domain,
        };
        self.shopify.retain(|s| s.domain != shop.domain);
        self.shopify.push(shop);
        Ok(())
    }

    /// The configured Shopify store with this domain.
    pub fn shopify_shop(&self, domain: &str) -> Option<&ShopifyShop> {
        self.shopify
            .iter()
            .find(|s| s.domain.eq_ignore_ascii_case(domain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_need_no_file_and_no_env() {
        let c = Config::load(None, env(&[])).expect("defaults");
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.data_dir, PathBuf::from("data"));
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "addr = \"0.0.0.0:8080\"\ndata_dir = \"/var/lib/os\"\n[shop]\nname = \"Fika\"\ntimezone = \"America/New_York\"\n",
        )
        .expect("write");
        let c =
            Config::load(Some(&path), env(&[("ORDER_STATUS_DATA_DIR", "/tmp/x")])).expect("load");
        assert_eq!(c.addr.to_string(), "0.0.0.0:8080");
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(c.shop.name, "Fika");
        assert_eq!(c.shop.timezone, chrono_tz::America::New_York);
    }

    #[test]
    fn bad_values_are_named() {
        let e = Config::load(None, env(&[("ORDER_STATUS_ADDR", "nowhere")])).expect_err("bad addr");
        assert!(e.to_string().contains("addr"), "{e}");
        let e = Config::load(None, env(&[("ORDER_STATUS_TIMEZONE", "Mars/Olympus")]))
            .expect_err("bad tz");
        assert!(e.to_string().contains("Mars/Olympus"), "{e}");
        let e = Config::load(None, env(&[("ORDER_STATUS_ACCENT_COLOR", "red;}")]))
            .expect_err("bad colour");
        assert!(e.to_string().contains("accent_color"), "{e}");
        let e = Config::load(None, env(&[("ORDER_STATUS_SEED_DEMO", "maybe")])).expect_err("bool");
        assert!(e.to_string().contains("ORDER_STATUS_SEED_DEMO"), "{e}");
        for bad in [
            "javascript:alert(1)",
            "//shop.example",
            "https://",
            "https://a b",
        ] {
            let e = Config::load(None, env(&[("ORDER_STATUS_SHOP_URL", bad)])).expect_err(bad);
            assert!(e.to_string().contains("shop.url"), "{e}");
        }
        let c = Config::load(
            None,
            env(&[(
                "ORDER_STATUS_SHOP_URL",
                " https://shop.example/collections/all ",
            )]),
        )
        .expect("shop url");
        assert_eq!(
            c.shop.url.as_deref(),
            Some("https://shop.example/collections/all")
        );
    }

    #[test]
    fn unknown_file_keys_are_errors_not_silently_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "adr = \"1.2.3.4:5\"\n").expect("write");
        let e = Config::load(Some(&path), env(&[])).expect_err("typo");
        assert!(e.to_string().contains("adr"), "{e}");
    }

    #[test]
    fn link_keys_and_urls() {
        let c = Config::load(
            None,
            env(&[
                (
                    "ORDER_STATUS_LINK_KEYS",
                    "k2=0123456789abcdefXYZ,k1=fedcba9876543210abc",
                ),
                ("ORDER_STATUS_PUBLIC_URL", "https://track.example.com/"),
            ]),
        )
        .expect("load");
        assert_eq!(c.link_keys.len(), 2);
        assert_eq!(c.link_keys[0].id, "k2");
        assert_eq!(c.public_url.as_deref(), Some("https://track.example.com"));
        assert!(
            !format!("{c:?}").contains("0123456789abcdefXYZ"),
            "secrets stay out of Debug"
        );
        let c = Config::load(
            None,
            env(&[("ORDER_STATUS_METRICS_TOKEN", "a-long-metrics-token-secret")]),
        )
        .expect("load");
        assert!(!format!("{c:?}").contains("a-long-metrics-token-secret"));
        let e =
            Config::load(None, env(&[("ORDER_STATUS_LINK_KEYS", "k1=tiny1")])).expect_err("short");
        assert!(!e.to_string().contains("tiny1"), "{e}");
    }

    #[test]
    fn rates_and_networks() {
        let r = RateSpec::parse("10/m:5").expect("rate");
        assert_eq!((r.count, r.burst), (10, 5));
        assert_eq!(r.replenish_every(), std::time::Duration::from_secs(6));
        assert_eq!(RateSpec::parse("100/s").expect("rate").burst, 100);
        assert_eq!(
            RateSpec::parse("3/10m").expect("rate").period.as_secs(),
            600
        );
        for bad in ["", "0/m", "10/x", "10", "a/m", "10/m:x"] {
            assert!(RateSpec::parse(bad).is_none(), "{bad}");
        }
        let f = FailureSpec::parse("5/15m").expect("lock");
        assert_eq!((f.max, f.window.as_secs()), (5, 900));

        let net = Cidr::parse("10.0.0.0/8").expect("cidr");
        assert!(net.contains("10.1.2.3".parse().expect("ip")));
        assert!(!net.contains("11.0.0.1".parse().expect("ip")));
        assert!(
            net.contains("::ffff:10.9.9.9".parse().expect("ip")),
            "mapped v4"
        );
        let one = Cidr::parse("127.0.0.1").expect("cidr");
        assert!(one.contains("127.0.0.1".parse().expect("ip")));
        assert!(!one.contains("127.0.0.2".parse().expect("ip")));
        let v6 = Cidr::parse("2001:db8::/32").expect("cidr");
        assert!(v6.contains("2001:db8:1::5".parse().expect("ip")));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .expect("all")
                .contains("8.8.8.8".parse().expect("ip"))
        );
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        let e = Config::load(None, env(&[("ORDER_STATUS_LIMIT_LOOKUP", "lots")])).expect_err("bad");
        assert!(e.to_string().contains("limits.lookup"), "{e}");
    }

    #[test]
    fn shopify_from_env_and_file() {
        let c = Config::load(
            None,
            env(&[
                ("ORDER_STATUS_SHOPIFY_SHOP", "Fika.myshopify.com"),
                ("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", "shpat_secret_token"),
                (
                    "ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET",
                    "old-webhook-secret-1,new-webhook-secret-2",
                ),
            ]),
        )
        .expect("load");
        let s = c.shopify_shop("fika.myshopify.com").expect("configured");
        assert_eq!(s.api_version, DEFAULT_API_VERSION);
        assert_eq!(s.api_base, "https://fika.myshopify.com");
        assert_eq!(s.webhook_secrets.len(), 2);
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("shpat_secret_token") && !debug.contains("old-secret"),
            "{debug}"
        );

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "sync_interval = \"2m\"\n[[shopify]]\ndomain = \"a.myshopify.com\"\n[[shopify]]\ndomain = \"b.myshopify.com\"\napi_version = \"2026-01\"\n",
        )
        .expect("write");
        let c = Config::load(Some(&path), env(&[])).expect("load");
        assert_eq!(c.shopify.len(), 2);
        assert_eq!(c.sync_interval.as_secs(), 120);
        let e = Config::load(
            None,
            env(&[
                ("ORDER_STATUS_SHOPIFY_SHOP", "x.myshopify.com"),
                ("ORDER_STATUS_SHOPIFY_API_VERSION", "latest"),
            ]),
        )
        .expect_err("bad version");
        assert!(e.to_string().contains("API version"), "{e}");
    }

    #[test]
    fn shopify_credentials_are_a_token_or_a_client_id_and_secret() {
        let load = |pairs: &[(&str, &str)]| {
            let mut all = vec![("ORDER_STATUS_SHOPIFY_SHOP", "x.myshopify.com")];
            all.extend_from_slice(pairs);
            Config::load(None, env(&all))
        };
        let c = load(&[
            ("ORDER_STATUS_SHOPIFY_CLIENT_ID", "id-123"),
            ("ORDER_STATUS_SHOPIFY_CLIENT_SECRET", "client-secret-abc"),
        ])
        .expect("client credentials");
        let s = &c.shopify[0];
        assert!(matches!(
            s.credentials,
            Credentials::ClientCredentials { .. }
        ));
        assert_eq!(
            s.webhook_secrets,
            vec!["client-secret-abc".to_string()],
            "a Dev Dashboard app signs webhooks with its client secret"
        );
        assert!(!format!("{c:?}").contains("client-secret-abc"));
        assert_eq!(s.bulk_after, DEFAULT_BULK_AFTER);
        let e = load(&[
            ("ORDER_STATUS_SHOPIFY_ACCESS_TOKEN", "shpat_x"),
            ("ORDER_STATUS_SHOPIFY_CLIENT_ID", "id-123"),
            ("ORDER_STATUS_SHOPIFY_CLIENT_SECRET", "s"),
        ])
        .expect_err("both");
        assert!(e.to_string().contains("not both"), "{e}");
        let e = load(&[("ORDER_STATUS_SHOPIFY_CLIENT_ID", "id-123")]).expect_err("half");
        assert!(e.to_string().contains("client secret"), "{e}");
        let c = load(&[("ORDER_STATUS_SHOPIFY_BULK_AFTER", "2d")]).expect("bulk_after");
        assert_eq!(c.shopify[0].bulk_after.as_secs(), 2 * 86_400);
        assert_eq!(c.shopify[0].credentials, Credentials::None);
        assert!(load(&[("ORDER_STATUS_SHOPIFY_BULK_AFTER", "soon")]).is_err());
    }

    #[test]
    fn addresses() {
        assert_eq!(
            parse_addr("8080").expect("port").to_string(),
            "127.0.0.1:8080"
        );
        assert_eq!(
            parse_addr("localhost:9").expect("localhost").to_string(),
            "127.0.0.1:9"
        );
        assert_eq!(
            parse_addr("[::1]:3000").expect("v6").to_string(),
            "[::1]:3000"
        );
    }
}
