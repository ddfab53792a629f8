//! What a status email says, in the shopper's language: a subject, one
//! line saying what changed, the parcel's carrier, tracking number and
//! link and contents where there is a parcel, the order's headline, the
//! signed status link, and why the email came with a one-click way out.
//!
//! Both parts come from the same [`EmailView`], whose words come from the
//! [`ShopperView`] (so an email never tells more than the page may), laid
//! out by `ui::email` (Leptos, like the pages): plain text first, then HTML
//! readable without images (the shop's logo and product pictures are the
//! only ones; no tracking pixel). Headers: `From`/`Reply-To` from the config, a
//! `Message-ID` derived from the idempotency key (so a repeat after a
//! crash is recognisably the same message), `Date`, and RFC 8058's
//! `List-Unsubscribe` + `List-Unsubscribe-Post`; DKIM-signed if set up.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use lettre::Message;
use lettre::message::dkim::DkimConfig;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use sha2::{Digest, Sha256};

use super::NotifyError;
use crate::config::{Config, ShopConfig};
use crate::i18n::{Catalog, I18n, Lang};
use crate::links::{LinkClaims, Links};
use crate::order::Order;
use crate::order::mail_log::{MailEvent, MailMessage, STATUS_KEY_PREFIX};
use crate::order::timeline::Package;
use crate::shopper::ShopperView;
use crate::store::LinkEpochs;
use crate::ui::email::{EmailView, ItemFacts, ParcelFacts};

/// Builds messages; one per site.
#[derive(Clone)]
pub struct Composer {
    shop: ShopConfig,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    base_url: String,
    link_ttl_days: u32,
    links: Arc<Links>,
    epochs: Arc<LinkEpochs>,
    catalog: Arc<Catalog>,
    dkim: Option<Arc<DkimConfig>>,
}

impl std::fmt::Debug for Composer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Composer")
            .field("from", &self.from)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// The `From:` of the site's emails: the configured one, else the shop's
/// name at `no-reply@<shop domain>`.
pub fn from_address(config: &Config) -> Mailbox {
    config
        .mail
        .from
        .as_ref()
        .map(|m| m.0.clone())
        .unwrap_or_else(|| default_from(&config.shop))
}

fn default_from(shop: &ShopConfig) -> Mailbox {
    let email = format!("no-reply@{}", shop.domain)
        .parse()
        .unwrap_or_else(|_| "no-reply@localhost".parse().expect("a valid address"));
    Mailbox::new(Some(shop.name.to_string()), email)
}

impl Composer {
    /// A composer for the site `config` describes.
    pub fn new(
        config: &Config,
        links: Arc<Links>,
        epochs: Arc<LinkEpochs>,
        catalog: Arc<Catalog>,
    ) -> Composer {
        let reply_to = config
            .mail
            .reply_to
            .as_ref()
            .map(|m| m.0.clone())
            .or_else(|| {
                config
                    .shop
                    .support_email
                    .as_deref()
                    .and_then(|e| e.parse().ok())
                    .map(|e| Mailbox::new(None, e))
            });
        let dkim = config.mail.dkim.as_ref().and_then(|d| {
            let key = crate::config::mail_settings::dkim_key(d)?;
            Some(Arc::new(DkimConfig::default_config(
                d.selector.clone(),
                d.domain.clone(),
                key,
            )))
        });
        Composer {
            shop: config.shop.clone(),
            from: from_address(config),
            reply_to,
            base_url: config
                .public_url
                .as_ref()
                .map_or_else(|| format!("http://{}", config.addr), ToString::to_string),
            link_ttl_days: u32::try_from(config.link_ttl_days.get()).unwrap_or(u32::MAX),
            links,
            epochs,
            catalog,
            dkim,
        }
    }

    /// The language of an order's emails: the shopper's checkout language
    /// if the site speaks it, else the language of the page where the
    /// shopper last asked for their link, else the shop's.
    pub fn lang_of(&self, order: &Order) -> Lang {
        order
            .customer_locale
            .as_deref()
            .and_then(Lang::from_code)
            .or_else(|| {
                order
                    .mail
                    .messages
                    .iter()
                    .rev()
                    .find_map(|m| m.lang.as_deref().and_then(Lang::from_code))
            })
            .unwrap_or(self.shop.language)
    }

    /// The `Message-ID` of a message: the same for every attempt.
    pub fn message_id(&self, order: &Order, msg: &MailMessage) -> String {
        let domain = self.from.email.domain();
        format!("<os.{}@{domain}>", self.file_name(order, msg))
    }

    /// A short name unique to (order, message), for ids and file names.
    pub fn file_name(&self, order: &Order, msg: &MailMessage) -> String {
        let d = Sha256::digest(format!("{}\u{1f}{}", order.key(), msg.key).as_bytes());
        let hash = hex::encode(&d[..12]);
        format!("{}-{hash}", msg.queued_at.format("%Y%m%dT%H%M%S"))
    }

    /// The words of `msg` about `order` in `lang`, as of `now`.
    pub fn render(
        &self,
        order: &Order,
        msg: &MailMessage,
        lang: Lang,
        now: DateTime<Utc>,
    ) -> EmailView {
        let i = I18n::new(lang, *self.shop.timezone, Arc::clone(&self.catalog));
        let view = ShopperView::of(order, now, *self.shop.timezone);
        let name = view.name.as_str();
        let stage = msg
            .detail
            .as_deref()
            .map(|d| i.stage(d))
            .unwrap_or_default();
        let subject = i.tf(
            &format!("email.subject_{}", msg.event.as_str()),
            &[("name", name), ("stage", &stage), ("shop", &self.shop.name)],
        );
        let package = msg.part.and_then(|id| {
            view.timeline
                .packages
                .iter()
                .find(|p| p.fulfillment_id == id)
        });
        let line = self.line(&i, order, msg, package);
        let expires = now + Duration::days(i64::from(self.link_ttl_days));
        let token = self.links.sign(&LinkClaims {
            shop: order.shop.clone(),
            order_id: order.id,
            expires,
            epoch: self.epochs.get(&order.key()),
        });
        let unsubscribe = self.links.sign_unsubscribe(&order.shop, order.id);
        let show_parcel = matches!(
            msg.event,
            MailEvent::Shipped
                | MailEvent::OutForDelivery
                | MailEvent::Delivered
                | MailEvent::DeliveryProblem
                | MailEvent::RunningLate
        );
        let headline = i.headline(&view.timeline.headline);
        // "Your order is on its way" needs no "Where it stands: On its way".
        let repeats = line.to_lowercase().contains(&headline.to_lowercase());
        let first_name = order
            .customer
            .as_ref()
            .and_then(|c| c.first_name.as_deref())
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let images = |id: u64| {
            view.items
                .iter()
                .zip(&order.line_items)
                .find(|(_, li)| li.id == id)
                .and_then(|(it, _)| it.image.as_deref())
                .and_then(|u| self.absolute_image(u))
        };
        let parcel = package
            .filter(|_| show_parcel)
            .map(|p| parcel(&i, p, &images));
        EmailView {
            lang,
            subject,
            shop_name: self.shop.name.to_string(),
            logo_url: self
                .shop
                .logo_url
                .as_ref()
                .and_then(|u| self.absolute_image(&u.to_string())),
            order_title: i.tf("status.title", &[("name", name)]),
            greeting: match first_name {
                Some(n) => i.tf("email.greeting", &[("name", n)]),
                None => i.t("email.greeting_anonymous"),
            },
            line,
            headline: (!repeats).then(|| i.tf("email.now", &[("headline", &headline)])),
            items_title: i.t("email.items"),
            items: if parcel.is_some() {
                Vec::new()
            } else {
                order
                    .line_items
                    .iter()
                    .filter(|li| li.live_quantity() > 0)
                    .map(|li| ItemFacts {
                        text: item_text(li.live_quantity(), &li.title, li.variant_title.as_deref()),
                        image: images(li.id),
                    })
                    .collect()
            },
            parcel,
            // `via=email`: the insights page counts links opened from emails.
            status_url: format!("{}/status/{token}?via=email", self.base_url),
            status_label: i.t("email.view"),
            link_until: i.tf(
                "email.link_until",
                &[("date", &i.long_date(i.local_date(expires)))],
            ),
            footer: i.tf("email.why", &[("name", name), ("shop", &self.shop.name)]),
            unsubscribe_url: format!("{}/unsubscribe/{unsubscribe}", self.base_url),
            unsubscribe_label: i.t("email.unsubscribe"),
        }
    }

    /// An image address a mail client can load: `https`, or a path on this
    /// site made absolute; anything else is left out.
    fn absolute_image(&self, url: &str) -> Option<String> {
        if url.starts_with("https://") {
            Some(url.to_string())
        } else if url.starts_with('/') && !url.starts_with("//") {
            Some(format!("{}{url}", self.base_url))
        } else {
            None
        }
    }

    fn line(&self, i: &I18n, order: &Order, msg: &MailMessage, p: Option<&Package>) -> String {
        let key = format!("email.line_{}", msg.event.as_str());
        match msg.event {
            MailEvent::Delivered => {
                let date = p
                    .and_then(|p| p.delivered_at)
                    .map(|t| i.long_date(i.local_date(t)))
                    .unwrap_or_default();
                i.tf(&key, &[("date", &date)])
            }
            MailEvent::DeliveryProblem => {
                let status = p
                    .map(|p| i.enum_text("shipment", p.status.as_str(), &[]))
                    .unwrap_or_default();
                i.tf(&key, &[("status", &status)])
            }
            MailEvent::RunningLate => {
                let date = p
                    .and_then(|p| p.estimated_delivery)
                    .map(|t| i.long_date(i.local_date(t)))
                    .unwrap_or_default();
                i.tf(&key, &[("date", &date)])
            }
            MailEvent::OnHold => {
                let reason = msg.detail.as_deref().unwrap_or("OTHER");
                i.tf(&key, &[("reason", &i.enum_text("hold", reason, &[]))])
            }
            MailEvent::CustomStage => {
                let id = msg.detail.as_deref().unwrap_or("");
                let line = i.tf(&key, &[("stage", &i.stage(id))]);
                // The merchant's note for the shopper, while the order is
                // still in that status.
                let note = order
                    .custom_status()
                    .filter(|c| c.status.as_deref() == Some(id))
                    .and_then(|c| c.note.as_deref())
                    .filter(|_| msg.key.starts_with(STATUS_KEY_PREFIX));
                match note {
                    Some(n) => format!("{line} {n}"),
                    None => line,
                }
            }
            MailEvent::Refunded => {
                let amount = order
                    .refunds
                    .iter()
                    .find(|r| Some(r.id) == msg.part)
                    .and_then(|r| r.amount());
                i.tf(
                    &key,
                    &[("amount", &i.money_or_unavailable(amount, &order.currency))],
                )
            }
            _ => i.t(&key),
        }
    }

    /// A message for `mail test`: says where it came from, nothing else.
    pub fn test_message(&self, to: Mailbox) -> Result<Message, NotifyError> {
        let mut b = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("{}: order-status test message", self.shop.name))
            .date_now();
        if let Some(reply) = &self.reply_to {
            b = b.reply_to(reply.clone());
        }
        let mut m = b
            .body(format!(
                "This is a test message from the order status site of {} ({}).\nIf you can read it, status emails can be sent.\n",
                self.shop.name, self.base_url
            ))
            .map_err(|e| NotifyError::Compose(e.into()))?;
        if let Some(dkim) = &self.dkim {
            m.sign(dkim);
        }
        Ok(m)
    }

    /// The whole message for `msg`, ready to send.
    pub fn message(
        &self,
        order: &Order,
        msg: &MailMessage,
        now: DateTime<Utc>,
    ) -> Result<Message, NotifyError> {
        let to: Mailbox = order
            .email
            .trim()
            .parse()
            .map_err(|_| NotifyError::Compose("the order's email is not an address".into()))?;
        let r = self.render(order, msg, self.lang_of(order), now);
        let mut b = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(r.subject.clone())
            .message_id(Some(self.message_id(order, msg)))
            .date_now()
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{}>", r.unsubscribe_url),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Content-Language"),
                r.lang.code().into(),
            ))
            // Tells auto-responders not to answer (RFC 3834).
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            ));
        if let Some(reply) = &self.reply_to {
            b = b.reply_to(reply.clone());
        }
        let mut m = b
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(crate::ui::email::plain(&r)),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(crate::ui::email::html(&r, &self.shop.accent_color)),
                    ),
            )
            .map_err(|e| NotifyError::Compose(e.into()))?;
        if let Some(dkim) = &self.dkim {
            m.sign(dkim);
        }
        Ok(m)
    }
}

/// "2 × Mug (Blue)".
fn item_text(quantity: u32, title: &str, variant: Option<&str>) -> String {
    match variant.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => format!("{quantity} × {title} ({v})"),
        None => format!("{quantity} × {title}"),
    }
}

fn parcel(i: &I18n, p: &Package, image: &dyn Fn(u64) -> Option<String>) -> ParcelFacts {
    let carrier = p.carrier.clone().filter(|c| !c.trim().is_empty());
    let labelled = |label: &str, value: &str| {
        i.tf(
            "email.label_value",
            &[("label", &i.t(label)), ("value", value)],
        )
    };
    let latest = p.carrier_latest().map(|w| i.carrier_says(&w));
    ParcelFacts {
        title: i.package_title(p.number, p.of),
        carrier: carrier.as_ref().map(|c| labelled("package.carrier", c)),
        tracking: p
            .tracking_number
            .as_ref()
            .map(|t| labelled("package.tracking", t)),
        latest,
        track_url: p.tracking_url.clone(),
        track_label: match &carrier {
            Some(c) => i.tf("package.track", &[("carrier", c)]),
            None => i.t("email.track"),
        },
        items_title: i.t("package.items"),
        items: p
            .items
            .iter()
            .map(|it| ItemFacts {
                text: item_text(it.quantity, &it.title, it.variant_title.as_deref()),
                image: image(it.id),
            })
            .collect(),
    }
}
