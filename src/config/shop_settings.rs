//! The shop the site speaks for (`[shop]`), and the Shopify stores it syncs
//! from (`[[shopify]]` in the file, or one store from the
//! `ORDER_STATUS_SHOPIFY_*` variables or `--shopify-*` flags), declared
//! once in [`ShopifySettings`] and resolved into a [`ShopifyShop`]: its
//! credentials, defaults and checks that span several settings.

use clap::Args;
use serde::{Deserialize, Serialize};

use super::values::{
    ApiVersion, BaseUrl, Color, CountryCode, Domain, Email, Flag, Identifier, LogoUrl, Origin,
    Period, Secret, ServiceName, StrongSecret, Text, TimeZone, WebUrl,
};
use super::{ConfigError, DEFAULT_API_VERSION, DEFAULT_BULK_AFTER, mail_settings::EventList};
use crate::i18n::Lang;
use crate::order::mail_log::MailEvent;

/// The shop the site speaks for (name, look, support contact, time zone).
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopConfig {
    /// Shown in the header and titles.
    #[arg(
        id = "shop.name",
        long = "shop-name",
        env = "ORDER_STATUS_SHOP_NAME",
        value_name = "TEXT",
        default_value = "Demo Store",
        global = true
    )]
    pub name: Text,
    /// The shop of imported orders that carry no `shop`.
    #[arg(
        id = "shop.domain",
        long = "shop-domain",
        env = "ORDER_STATUS_SHOP_DOMAIN",
        value_name = "DOMAIN",
        default_value = "demo.example",
        global = true
    )]
    pub domain: Domain,
    /// The "Need help?" address.
    #[arg(
        id = "shop.support_email",
        long = "support-email",
        env = "ORDER_STATUS_SUPPORT_EMAIL",
        value_name = "EMAIL",
        default_value = "support@demo.example",
        global = true
    )]
    pub support_email: Option<Email>,
    /// IANA zone dates and times are shown in.
    #[arg(
        id = "shop.timezone",
        long = "timezone",
        env = "ORDER_STATUS_TIMEZONE",
        value_name = "ZONE",
        default_value = "Europe/Stockholm",
        global = true
    )]
    pub timezone: TimeZone,
    /// The shop's country (ISO code such as `SE`): carrier scan times are
    /// shown in the shop's time zone, named for shoppers in other
    /// countries. Unset, the zone is always named.
    #[arg(
        id = "shop.country",
        long = "shop-country",
        env = "ORDER_STATUS_SHOP_COUNTRY",
        value_name = "CODE",
        global = true
    )]
    pub country: Option<CountryCode>,
    /// `#rgb` or `#rrggbb` for buttons and the timeline.
    #[arg(
        id = "shop.accent_color",
        long = "accent-color",
        env = "ORDER_STATUS_ACCENT_COLOR",
        value_name = "COLOUR",
        default_value = "#1f6f5c",
        global = true
    )]
    pub accent_color: Color,
    /// Logo next to the shop name: an http(s) address or a path under
    /// `public/` such as `/logo.svg`.
    #[arg(
        id = "shop.logo_url",
        long = "logo-url",
        env = "ORDER_STATUS_LOGO_URL",
        value_name = "URL",
        global = true
    )]
    pub logo_url: Option<LogoUrl>,
    /// The shop's own site (http or https); the status page ends with a
    /// "Continue shopping" link to it.
    #[arg(
        id = "shop.url",
        long = "shop-url",
        env = "ORDER_STATUS_SHOP_URL",
        value_name = "URL",
        global = true
    )]
    pub url: Option<WebUrl>,
    /// The language of emails to shoppers whose order does not carry theirs
    /// (en, sv, de, fr, da, nb, fi).
    #[arg(
        id = "shop.language",
        long = "shop-language",
        env = "ORDER_STATUS_SHOP_LANGUAGE",
        value_name = "LANG",
        default_value = "en",
        global = true
    )]
    pub language: Lang,
    /// Origins product pictures may come from (a list); images elsewhere are
    /// not shown, and the CSP's `img-src` allows only these, this site and
    /// the logo's origin.
    #[arg(
        id = "shop.image_origins",
        long = "image-origins",
        env = "ORDER_STATUS_IMAGE_ORIGINS",
        value_name = "ORIGINS",
        value_delimiter = ',',
        default_value = "https://cdn.shopify.com",
        global = true
    )]
    pub image_origins: Vec<Origin>,
}

impl ShopConfig {
    /// The image sources of the pages' CSP: the product image origins and
    /// the logo's origin when it is on another site.
    pub fn image_sources(&self) -> Vec<String> {
        let mut sources: Vec<String> = self.image_origins.iter().map(|o| o.to_string()).collect();
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

    /// The origins product images may come from.
    pub fn image_origin_list(&self) -> Vec<String> {
        self.image_origins.iter().map(|o| o.to_string()).collect()
    }
}

/// One Shopify store as configured: a `[[shopify]]` table of the file, or
/// the one store of the `ORDER_STATUS_SHOPIFY_*` variables.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopifySettings {
    /// A Shopify store, `example.myshopify.com` (several `[[shopify]]`
    /// tables in the file for several stores; the variables configure one).
    #[arg(
        id = "shopify.domain",
        long = "shopify-shop",
        env = "ORDER_STATUS_SHOPIFY_SHOP",
        value_name = "DOMAIN",
        global = true
    )]
    pub domain: Option<Domain>,
    /// A Dev Dashboard app's client id: with its secret, exchanged for Admin
    /// API tokens (client-credentials grant), renewed before they expire.
    #[arg(
        id = "shopify.client_id",
        long = "shopify-client-id",
        env = "ORDER_STATUS_SHOPIFY_CLIENT_ID",
        value_name = "ID",
        global = true
    )]
    pub client_id: Option<Identifier>,
    /// The Dev Dashboard app's client secret.
    #[arg(
        id = "shopify.client_secret",
        long = "shopify-client-secret",
        env = "ORDER_STATUS_SHOPIFY_CLIENT_SECRET",
        value_name = "SECRET",
        global = true
    )]
    pub client_secret: Option<Secret>,
    /// Or: the static Admin API token of an app made in the Shopify admin
    /// before 2026 (not both).
    #[arg(
        id = "shopify.access_token",
        long = "shopify-access-token",
        env = "ORDER_STATUS_SHOPIFY_ACCESS_TOKEN",
        value_name = "TOKEN",
        global = true
    )]
    pub access_token: Option<Secret>,
    /// Admin API version, 2026-01 or newer (each is supported about 12
    /// months; `shopify check`, `/readyz` and `/metrics` say when Shopify
    /// answers with another). [default: 2026-10]
    #[arg(
        id = "shopify.api_version",
        long = "shopify-api-version",
        env = "ORDER_STATUS_SHOPIFY_API_VERSION",
        value_name = "YYYY-MM",
        global = true
    )]
    pub api_version: Option<ApiVersion>,
    /// The app's webhook signing secret (16+ characters, 8+ different); two
    /// (a list) while rotating. [default: the client secret]
    #[arg(
        id = "shopify.webhook_secrets",
        long = "shopify-webhook-secret",
        env = "ORDER_STATUS_SHOPIFY_WEBHOOK_SECRET",
        value_name = "SECRETS",
        value_delimiter = ',',
        global = true
    )]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_secrets: Vec<StrongSecret>,
    /// A sync that would reach back further than this (and the first one)
    /// goes through a bulk operation instead of paging. [default: 6h]
    #[arg(
        id = "shopify.bulk_after",
        long = "shopify-bulk-after",
        env = "ORDER_STATUS_SHOPIFY_BULK_AFTER",
        value_name = "PERIOD",
        global = true
    )]
    pub bulk_after: Option<Period<60>>,
    /// The name of the fulfillment service this site is for the shop (see
    /// "The site as your fulfillment service"); needs API credentials.
    #[arg(
        id = "shopify.fulfillment_service",
        long = "shopify-fulfillment-service",
        env = "ORDER_STATUS_SHOPIFY_FULFILLMENT_SERVICE",
        value_name = "NAME",
        global = true
    )]
    pub fulfillment_service: Option<ServiceName>,
    /// Secret (16+ characters, 8+ different) for links built in
    /// notification templates; it opens and unsubscribes that shop's orders
    /// only.
    #[arg(
        id = "shopify.link_secret",
        long = "shopify-link-secret",
        env = "ORDER_STATUS_SHOPIFY_LINK_SECRET",
        value_name = "SECRET",
        global = true
    )]
    pub link_secret: Option<StrongSecret>,
    /// Where the Admin API is (tests point it at a fake). [default:
    /// https://DOMAIN]
    #[arg(
        id = "shopify.api_base",
        long = "shopify-api-base",
        env = "ORDER_STATUS_SHOPIFY_API_BASE",
        value_name = "URL",
        global = true
    )]
    pub api_base: Option<BaseUrl>,
    /// Write staff actions back to Shopify: statuses as a tag and a
    /// metafield, mark as shipped, tracking, carrier scans, fulfillment
    /// requests (see "Merchant tools"; needs the write scopes `shopify
    /// check` lists). [default: false]
    #[arg(
        id = "shopify.write_back",
        long = "shopify-write-back",
        env = "ORDER_STATUS_SHOPIFY_WRITE_BACK",
        value_name = "BOOL",
        global = true
    )]
    pub write_back: Option<Flag>,
    /// The events that email this shop's shoppers (a list; `none` for none).
    /// [default: `[mail] events`]
    #[arg(
        id = "shopify.mail_events",
        long = "shopify-mail-events",
        env = "ORDER_STATUS_SHOPIFY_MAIL_EVENTS",
        value_name = "EVENTS",
        global = true
    )]
    pub mail_events: Option<EventList>,
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

/// One Shopify store, resolved from its [`ShopifySettings`].
#[derive(Clone, PartialEq)]
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
    /// Whether staff actions are written back to Shopify. Off unless
    /// configured.
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

impl ShopifySettings {
    /// Whether any of it was given (the variables configure a store only
    /// when its domain is set).
    pub fn given(&self) -> bool {
        *self != ShopifySettings::default()
    }

    /// The store these settings describe, with the checks that span more
    /// than one setting.
    pub fn resolve(self) -> Result<ShopifyShop, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            name: "shopify".into(),
            reason,
        };
        let domain = self
            .domain
            .map(String::from)
            .ok_or_else(|| invalid("each shop needs a domain such as example.myshopify.com (ORDER_STATUS_SHOPIFY_SHOP)".into()))?;
        let expose = |s: Secret| s.expose().to_string();
        let credentials = match (self.access_token, self.client_id, self.client_secret) {
            (None, None, None) => Credentials::None,
            (Some(t), None, None) => Credentials::Token(expose(t)),
            (None, Some(client_id), Some(client_secret)) => Credentials::ClientCredentials {
                client_id: client_id.into(),
                client_secret: expose(client_secret),
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
        let mut secrets: Vec<String> = self
            .webhook_secrets
            .iter()
            .map(|s| s.expose().to_string())
            .collect();
        if secrets.len() > 2 {
            return Err(invalid(format!(
                "{domain}: at most two webhook secrets (the old and the new while rotating)"
            )));
        }
        // A Dev Dashboard app signs its webhooks with its client secret.
        if let (Credentials::ClientCredentials { client_secret, .. }, true) =
            (&credentials, secrets.is_empty())
        {
            secrets = vec![client_secret.clone()];
        }
        if self.fulfillment_service.is_some() && !credentials.is_some() {
            return Err(invalid(format!(
                "{domain}: a fulfillment service needs Admin API credentials (client_id and client_secret, or access_token): requests are read and answered through the API"
            )));
        }
        Ok(ShopifyShop {
            api_base: self
                .api_base
                .map_or_else(|| format!("https://{domain}"), String::from),
            api_version: self
                .api_version
                .map_or_else(|| DEFAULT_API_VERSION.to_string(), String::from),
            bulk_after: self.bulk_after.map_or(DEFAULT_BULK_AFTER, |p| p.0),
            webhook_secrets: secrets,
            link_secret: self.link_secret.map(|s| s.expose().to_string()),
            mail_events: self.mail_events.map(|e| e.0),
            write_back: self.write_back.is_some_and(|f| f.0),
            fulfillment_service: self.fulfillment_service.map(String::from),
            credentials,
            domain,
        })
    }
}
