//! One `Config` for the whole process, read once at start-up, and every
//! setting declared once: in the fields below (and the sections they
//! flatten), each with its file key (the field), its environment variable
//! and flag (`#[arg]`), its type and its default. Sources, later ones
//! winning: built-in defaults, the TOML file (`order-status.toml` in the
//! working directory if present, or the file named by `--config` /
//! `ORDER_STATUS_CONFIG`), `ORDER_STATUS_*` environment variables,
//! command-line flags ([`layers`]). A bad value anywhere is refused with
//! the setting's names and the reason; an unknown key in the file too.
//! `order-status settings` prints them all (the README's table is that
//! output, checked by a test).
//!
//! Secrets (tokens, keys, the SMTP URL) are never printed: their types'
//! `Debug` redacts them and they have no `Display`.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub mod layers;
mod limits;
pub mod mail_settings;
pub mod merchant;
mod shop_settings;
pub mod values;

pub use layers::settings_table;
pub use limits::Limits;
pub use mail_settings::{Dkim, EventList, MailConfig, MailTransport};
pub use merchant::{MerchantConfig, ProblemThresholds, StatusDef};
pub use shop_settings::{Credentials, ShopConfig, ShopifySettings, ShopifyShop};
pub use values::{
    BaseUrl, Bounded, FailureSpec, Flag, FsPath, LinkKeySetting, ListenAddr, NatsUrl, Network,
    Origin, Period, RateSpec, Secret, StrongSecret,
};

/// Why the configuration cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}")]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path}: {reason}")]
    Parse {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("{name}: {reason}")]
    Invalid { name: String, reason: String },
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

/// The default config file, read when present.
pub const DEFAULT_FILE: &str = "order-status.toml";

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// JSON lines, each with the request's id.
    Json,
}

/// The whole configuration: every setting, and what they resolve to.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[command(
    next_help_heading = "Settings (each also a key of the config file and an ORDER_STATUS_* variable; `order-status settings` lists them)"
)]
pub struct Config {
    /// Where `serve` listens.
    #[arg(
        id = "addr",
        long = "addr",
        env = "ORDER_STATUS_ADDR",
        value_name = "ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: ListenAddr,
    /// The order index, the link key, staff accounts and the outbox.
    #[arg(
        id = "data_dir",
        long = "data-dir",
        env = "ORDER_STATUS_DATA_DIR",
        value_name = "DIR",
        default_value = "data",
        global = true
    )]
    pub data_dir: FsPath,
    /// Files served at the site root (favicon, robots.txt, logo).
    #[arg(
        id = "public_dir",
        long = "public-dir",
        env = "ORDER_STATUS_PUBLIC_DIR",
        value_name = "DIR",
        default_value = "public",
        global = true
    )]
    pub public_dir: FsPath,
    /// Seed demo orders and the `demo` staff account into an empty store
    /// (every start warns while the `demo` account exists). [default: true,
    /// or false once a Shopify shop or an https public_url is configured]
    #[arg(
        id = "seed_demo",
        long = "seed-demo",
        env = "ORDER_STATUS_SEED_DEMO",
        value_name = "BOOL",
        global = true
    )]
    pub seed_demo: Option<Flag>,
    /// Base URL of links the site hands out, e.g.
    /// `https://track.example.com`; without it, a loopback Host (the demo) or
    /// else the listen address: an arbitrary Host header is never believed.
    /// Required with trusted_proxies, and with an SMTP server unless the site
    /// listens on loopback (then a warning).
    #[arg(
        id = "public_url",
        long = "public-url",
        env = "ORDER_STATUS_PUBLIC_URL",
        value_name = "URL",
        global = true
    )]
    pub public_url: Option<BaseUrl>,
    /// How long the link made by a shopper's lookup stays valid, in days.
    #[arg(
        id = "link_ttl_days",
        long = "link-ttl-days",
        env = "ORDER_STATUS_LINK_TTL_DAYS",
        value_name = "DAYS",
        default_value = "30",
        global = true
    )]
    pub link_ttl_days: Bounded<1, 3650>,
    /// Link signing keys, newest first, `ID=SECRET` (a list); new links use
    /// the first, all verify; each secret 16+ characters, 8+ of them
    /// different (`openssl rand -hex 32`). [default: generated, kept in
    /// DATA_DIR/link-keys]
    #[arg(
        id = "link_keys",
        long = "link-keys",
        env = "ORDER_STATUS_LINK_KEYS",
        value_name = "KEYS",
        value_delimiter = ',',
        global = true
    )]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link_keys: Vec<LinkKeySetting>,
    /// Reverse proxies (addresses or networks, e.g. `10.0.0.0/8`; a list)
    /// whose `X-Forwarded-For` is believed.
    #[arg(
        id = "trusted_proxies",
        long = "trusted-proxies",
        env = "ORDER_STATUS_TRUSTED_PROXIES",
        value_name = "NETWORKS",
        value_delimiter = ',',
        global = true
    )]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<Network>,
    /// Merchant origins allowed to frame the embeddable pages (a list).
    #[arg(
        id = "embed_origins",
        long = "embed-origins",
        env = "ORDER_STATUS_EMBED_ORIGINS",
        value_name = "ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embed_origins: Vec<Origin>,
    /// How often `serve` reconciles with Shopify (10s or more).
    #[arg(
        id = "sync_interval",
        long = "sync-interval",
        env = "ORDER_STATUS_SYNC_INTERVAL",
        value_name = "PERIOD",
        default_value = "5m",
        global = true
    )]
    pub sync_interval: Period<10>,
    /// How long after one index commit the next may begin: writes that
    /// come meanwhile are committed together. Under a stream of webhooks
    /// it bounds commits (each rewrites files and reloads the reader) to
    /// four a second; a lone write after a quiet spell is committed at
    /// once. What a shopper sees of a webhook comes up to this much later.
    #[arg(
        id = "commit_interval",
        long = "commit-interval",
        env = "ORDER_STATUS_COMMIT_INTERVAL",
        value_name = "PERIOD",
        default_value = "250ms",
        global = true
    )]
    pub commit_interval: Period<0>,
    /// Bearer token (16+ characters, 8+ different) that lets other clients
    /// read `/metrics` and `/readyz`'s details (requests through a proxy
    /// always need it).
    #[arg(
        id = "metrics_token",
        long = "metrics-token",
        env = "ORDER_STATUS_METRICS_TOKEN",
        value_name = "TOKEN",
        global = true
    )]
    pub metrics_token: Option<StrongSecret>,
    /// Run as one of several replicas fed by NATS JetStream: the NATS
    /// servers (a list, `nats://host:4222`). [default: none: one node]
    #[arg(
        id = "replicate",
        long = "replicate",
        env = "ORDER_STATUS_REPLICATE",
        value_name = "URLS",
        value_delimiter = ',',
        global = true
    )]
    #[serde(rename = "replicate", default, skip_serializing_if = "Vec::is_empty")]
    pub replicate_servers: Vec<NatsUrl>,
    /// How many NATS servers keep a copy of the log and the buckets (1 to 5;
    /// 1 for a single test server).
    #[arg(
        id = "replicate_copies",
        long = "replicate-copies",
        env = "ORDER_STATUS_REPLICATE_COPIES",
        value_name = "N",
        default_value = "3",
        global = true
    )]
    pub replicate_copies: Bounded<1, 5>,
    /// The NATS user (with replicate_password), when the servers require
    /// one; or give `nats://user:password@host:4222`.
    #[arg(
        id = "replicate_user",
        long = "replicate-user",
        env = "ORDER_STATUS_REPLICATE_USER",
        value_name = "USER",
        global = true
    )]
    pub replicate_user: Option<Secret>,
    /// The NATS user's password.
    #[arg(
        id = "replicate_password",
        long = "replicate-password",
        env = "ORDER_STATUS_REPLICATE_PASSWORD",
        value_name = "PASSWORD",
        global = true
    )]
    pub replicate_password: Option<Secret>,
    /// A NATS token, when the servers require one; or give
    /// `nats://token@host:4222`.
    #[arg(
        id = "replicate_token",
        long = "replicate-token",
        env = "ORDER_STATUS_REPLICATE_TOKEN",
        value_name = "TOKEN",
        global = true
    )]
    pub replicate_token: Option<Secret>,
    /// A NATS user's NKey seed (`SU…`), when the servers know the user by
    /// its public key.
    #[arg(
        id = "replicate_nkey",
        long = "replicate-nkey",
        env = "ORDER_STATUS_REPLICATE_NKEY",
        value_name = "SEED",
        global = true
    )]
    pub replicate_nkey: Option<Secret>,
    /// A NATS credentials file (`.creds`: a user JWT and its NKey seed), for
    /// servers run with accounts (operator mode).
    #[arg(
        id = "replicate_credentials",
        long = "replicate-credentials",
        env = "ORDER_STATUS_REPLICATE_CREDENTIALS",
        value_name = "FILE",
        global = true
    )]
    pub replicate_credentials: Option<FsPath>,
    /// The CA certificate (PEM) that signed the NATS servers' certificates;
    /// turns TLS on (as does a `tls://` address).
    #[arg(
        id = "replicate_tls_ca",
        long = "replicate-tls-ca",
        env = "ORDER_STATUS_REPLICATE_TLS_CA",
        value_name = "FILE",
        global = true
    )]
    pub replicate_tls_ca: Option<FsPath>,
    /// This replica's client certificate (PEM), for servers that verify
    /// clients (mutual TLS); with replicate_tls_key.
    #[arg(
        id = "replicate_tls_cert",
        long = "replicate-tls-cert",
        env = "ORDER_STATUS_REPLICATE_TLS_CERT",
        value_name = "FILE",
        global = true
    )]
    pub replicate_tls_cert: Option<FsPath>,
    /// The client certificate's private key (PEM).
    #[arg(
        id = "replicate_tls_key",
        long = "replicate-tls-key",
        env = "ORDER_STATUS_REPLICATE_TLS_KEY",
        value_name = "FILE",
        global = true
    )]
    pub replicate_tls_key: Option<FsPath>,
    /// How log lines are written: text, or json (JSON lines, each with the
    /// request's id). Not in the file: logging starts before it is read.
    #[arg(
        id = "log_format",
        long = "log-format",
        env = "ORDER_STATUS_LOG_FORMAT",
        value_name = "FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    #[serde(skip)]
    pub log_format: LogFormat,

    #[command(flatten)]
    pub limits: Limits,
    #[command(flatten)]
    pub shop: ShopConfig,
    #[command(flatten)]
    pub mail: MailConfig,
    /// The store of the `ORDER_STATUS_SHOPIFY_*` variables and flags.
    #[command(flatten)]
    #[serde(skip)]
    shopify_env: ShopifySettings,
    /// The file's `[[shopify]]` tables.
    #[arg(skip)]
    #[serde(rename = "shopify", default, skip_serializing_if = "Vec::is_empty")]
    shopify_tables: Vec<ShopifySettings>,
    /// The file's `[[status]]`, `[[status_rule]]` and `[problems]`.
    #[arg(skip)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    status: Vec<merchant::FileStatus>,
    #[arg(skip)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    status_rule: Vec<merchant::FileRule>,
    #[arg(skip)]
    #[serde(default)]
    problems: merchant::FileProblems,

    /// Resolved: the Shopify stores this site syncs from and takes
    /// webhooks for.
    #[arg(skip)]
    #[serde(skip)]
    pub shopify: Vec<ShopifyShop>,
    /// Resolved: the merchant's statuses, their rules and the problem
    /// thresholds.
    #[arg(skip)]
    #[serde(skip)]
    pub merchant: MerchantConfig,
    /// Resolved: replicas fed by NATS JetStream (no servers: one node).
    #[arg(skip)]
    #[serde(skip)]
    pub replicate: ReplicateConfig,
}

/// Where the replication log and shared state live (see
/// `crate::replicate`), and how a replica proves who it is to NATS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicateConfig {
    /// NATS servers, any of the cluster (credentials taken out: see
    /// `auth`); empty: off.
    pub servers: Vec<NatsUrl>,
    /// How many NATS servers keep a copy of the log and the buckets.
    pub copies: usize,
    /// Who this replica is to NATS.
    pub auth: NatsAuth,
    /// TLS to NATS: the CA to trust, a client certificate, and whether it is
    /// required (a CA given, or a `tls://` address).
    pub tls_ca: Option<PathBuf>,
    pub tls_client: Option<(PathBuf, PathBuf)>,
    pub tls_required: bool,
}

/// How a replica authenticates to NATS (one way at most).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NatsAuth {
    /// NATS runs open.
    #[default]
    None,
    UserPassword {
        user: Secret,
        password: Secret,
    },
    Token(Secret),
    /// An NKey seed.
    Nkey(Secret),
    /// A `.creds` file.
    Credentials(PathBuf),
}

impl Default for ReplicateConfig {
    fn default() -> Self {
        ReplicateConfig {
            servers: Vec::new(),
            copies: 3,
            auth: NatsAuth::None,
            tls_ca: None,
            tls_client: None,
            tls_required: false,
        }
    }
}

impl ReplicateConfig {
    /// Replication is on.
    pub fn on(&self) -> bool {
        !self.servers.is_empty()
    }
}

impl Default for Config {
    /// The built-in defaults: no file, no environment, no flags.
    fn default() -> Self {
        layers::defaults()
    }
}

impl Config {
    /// Loads defaults, then `file` (or the one `ORDER_STATUS_CONFIG` names,
    /// or `order-status.toml` if it exists), then the `ORDER_STATUS_*`
    /// variables given by `env` (a lookup, so tests need not touch the
    /// process environment).
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        layers::load_with_env(file, env)
    }

    /// Works out what the settings resolve to and checks what spans more
    /// than one of them.
    fn finish(&mut self) -> Result<(), ConfigError> {
        let mut shops: Vec<ShopifyShop> = Vec::new();
        let env_shop = std::mem::take(&mut self.shopify_env);
        let tables = std::mem::take(&mut self.shopify_tables);
        let given = env_shop.given().then_some(env_shop);
        for settings in tables.into_iter().chain(given) {
            let shop = settings.resolve()?;
            // The variables' store replaces the file's of the same domain.
            shops.retain(|s| s.domain != shop.domain);
            shops.push(shop);
        }
        self.shopify = shops;
        self.mail.resolve()?;
        self.merchant = merchant::resolve(
            std::mem::take(&mut self.status),
            std::mem::take(&mut self.status_rule),
            std::mem::take(&mut self.problems),
            self.shop.language,
        )?;
        self.replicate = self.replicate_config()?;
        self.check_production()
    }

    /// The replication settings as one: one way to authenticate (the
    /// settings', or the addresses' credentials, all alike), a client
    /// certificate with its key.
    fn replicate_config(&self) -> Result<ReplicateConfig, ConfigError> {
        use values::NatsUrlAuth;
        let invalid = |name: &str, reason: &str| ConfigError::Invalid {
            name: name.into(),
            reason: reason.into(),
        };
        let mut from_urls = self.replicate_servers.iter().map(NatsUrl::auth);
        let url_auth = from_urls.next().flatten();
        if from_urls.any(|a| a != url_auth) {
            return Err(invalid(
                "replicate",
                "the addresses carry different credentials; give them once (replicate_user and replicate_password, or replicate_token)",
            ));
        }
        let mut ways = Vec::new();
        match (&self.replicate_user, &self.replicate_password) {
            (Some(user), Some(password)) => ways.push(NatsAuth::UserPassword {
                user: user.clone(),
                password: password.clone(),
            }),
            (None, None) => {}
            _ => {
                return Err(invalid(
                    "replicate_user",
                    "replicate_user and replicate_password go together",
                ));
            }
        }
        if let Some(t) = &self.replicate_token {
            ways.push(NatsAuth::Token(t.clone()));
        }
        if let Some(k) = &self.replicate_nkey {
            if !k.expose().starts_with("SU") {
                return Err(invalid(
                    "replicate_nkey",
                    "is not a user's NKey seed (those start with SU)",
                ));
            }
            ways.push(NatsAuth::Nkey(k.clone()));
        }
        if let Some(f) = &self.replicate_credentials {
            ways.push(NatsAuth::Credentials(f.0.clone()));
        }
        match url_auth {
            Some(NatsUrlAuth::UserPassword(user, password)) => ways.push(NatsAuth::UserPassword {
                user: Secret::new(user),
                password: Secret::new(password),
            }),
            Some(NatsUrlAuth::Token(t)) => ways.push(NatsAuth::Token(Secret::new(t))),
            None => {}
        }
        if ways.len() > 1 {
            return Err(invalid(
                "replicate_user",
                "more than one way to sign in to NATS is given (user and password, token, NKey, credentials file, or credentials in the addresses): keep one",
            ));
        }
        let tls_client = match (&self.replicate_tls_cert, &self.replicate_tls_key) {
            (Some(c), Some(k)) => Some((c.0.clone(), k.0.clone())),
            (None, None) => None,
            _ => {
                return Err(invalid(
                    "replicate_tls_cert",
                    "replicate_tls_cert and replicate_tls_key go together",
                ));
            }
        };
        let tls_ca = self.replicate_tls_ca.as_ref().map(|p| p.0.clone());
        let tls_required = tls_ca.is_some()
            || tls_client.is_some()
            || self
                .replicate_servers
                .iter()
                .any(|u| u.expose().starts_with("tls://"));
        Ok(ReplicateConfig {
            servers: self.replicate_servers.clone(),
            copies: self.replicate_copies.as_usize(),
            auth: ways.pop().unwrap_or_default(),
            tls_ca,
            tls_client,
            tls_required,
        })
    }

    /// Whether this is a production setup: a Shopify shop or an https
    /// public address is configured.
    fn production(&self) -> bool {
        !self.shopify.is_empty()
            || self
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
    }

    /// Whether to seed the demo into an empty store: as configured, and by
    /// default only outside production.
    pub fn seeds_demo(&self) -> bool {
        self.seed_demo.map_or(!self.production(), |f| f.0)
    }

    /// What a production setup must not leave to defaults: links in emails
    /// and behind a proxy need the site's public address.
    fn check_production(&self) -> Result<(), ConfigError> {
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

    /// The configured Shopify store with this domain.
    pub fn shopify_shop(&self, domain: &str) -> Option<&ShopifyShop> {
        self.shopify
            .iter()
            .find(|s| s.domain.eq_ignore_ascii_case(domain))
    }

    /// The configured link signing keys, newest first (empty: use the key
    /// generated in the data dir).
    pub fn link_keys(&self) -> impl Iterator<Item = &crate::links::LinkKey> {
        self.link_keys.iter().map(LinkKeySetting::key)
    }
}

#[cfg(test)]
mod tests;
