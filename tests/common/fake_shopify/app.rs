//! The app's own things on the shop: its webhook subscriptions and its
//! fulfillment service, with the rules Shopify applies to them.
//!
//! - `webhookSubscriptionCreate`: the topic's access scope must be granted
//!   (the site's own scope table, which follows shopify.dev's topic
//!   reference); a topic whose body carries protected customer data needs
//!   level 1 access ("This app is not approved to subscribe to webhook
//!   topics containing protected customer data.", as Shopify CLI users
//!   report it: Shopify/cli #3443); the address must be https ("Address
//!   protocol http:// is not supported"); one subscription per topic and
//!   address ("Address for this topic has already been taken", Shopify's
//!   long-standing words). Compliance topics are not in the GraphQL enum
//!   at all (the app's configuration sets them), so the schema refuses
//!   them before this runs. The texts for a missing scope and a bad
//!   protocol are ours: Shopify's exact words are not published.
//! - `webhookSubscriptionUpdate` / `Delete`: the subscription must exist.
//! - `fulfillmentServiceCreate`: a unique name ("Name has already been
//!   taken"), an https callback URL when one is given; it creates the
//!   service's location. `fulfillmentServiceUpdate`: the service must
//!   exist.

use chrono::{DateTime, Utc};
use order_status::shopify::scopes::{Protected, Topic};
use serde_json::{Value, json};

/// The app's subscriptions and fulfillment services.
#[derive(Debug, Default, Clone)]
pub struct App {
    pub subscriptions: Vec<Value>,
    pub services: Vec<Value>,
    next: u64,
}

fn user_error(field: &[&str], message: impl Into<String>) -> Value {
    json!({"field": field, "message": message.into()})
}

fn https(uri: &str) -> Result<(), String> {
    match reqwest::Url::parse(uri) {
        Ok(u) if u.scheme() == "https" && u.host().is_some() => Ok(()),
        Ok(u) => Err(format!(
            "Address protocol {}:// is not supported",
            u.scheme()
        )),
        Err(_) => Err("Address is invalid".into()),
    }
}

impl App {
    fn id(&mut self, kind: &str) -> String {
        self.next += 1;
        format!("gid://shopify/{kind}/{}", 9_000 + self.next)
    }

    /// The service this app registered under `name`, if any.
    pub fn service(&self, name: &str) -> Option<&Value> {
        self.services
            .iter()
            .find(|s| s["serviceName"] == json!(name))
    }

    /// Runs one of the app mutations (`None`: not one of them).
    pub fn apply(
        &mut self,
        name: &str,
        arg: &dyn Fn(&str) -> Value,
        scopes: &[String],
        withheld: &[Protected],
        now: DateTime<Utc>,
    ) -> Option<Value> {
        let stamp = now.to_rfc3339();
        Some(match name {
            "webhookSubscriptionCreate" => {
                let fail = |m: String, field: &[&str]| json!({"webhookSubscription": null, "userErrors": [user_error(field, m)]});
                let topic_name = arg("topic").as_str().unwrap_or("").to_string();
                let Some(topic) = Topic::from_graphql(&topic_name) else {
                    return Some(fail(
                        format!("Topic {topic_name} is not supported"),
                        &["topic"],
                    ));
                };
                if !topic.allowed_by(scopes) {
                    return Some(fail(
                        format!(
                            "Access denied for the {} topic. Required access: {}.",
                            topic.as_str(),
                            topic
                                .scopes()
                                .iter()
                                .map(|s| format!("`{s}` access scope"))
                                .collect::<Vec<_>>()
                                .join(" or ")
                        ),
                        &["topic"],
                    ));
                }
                if topic.protected() && withheld.contains(&Protected::Customer) {
                    return Some(fail(
                        "This app is not approved to subscribe to webhook topics containing protected customer data.".into(),
                        &["topic"],
                    ));
                }
                let input = arg("webhookSubscription");
                let uri = input["uri"].as_str().unwrap_or("").to_string();
                if let Err(m) = https(&uri) {
                    return Some(fail(m, &["webhookSubscription", "uri"]));
                }
                let taken = self
                    .subscriptions
                    .iter()
                    .any(|s| s["topic"] == json!(topic_name) && s["uri"] == json!(uri));
                if taken {
                    return Some(fail(
                        "Address for this topic has already been taken".into(),
                        &["webhookSubscription", "uri"],
                    ));
                }
                let sub = json!({"id": self.id("WebhookSubscription"), "topic": topic_name, "uri": uri,
                                 "format": input["format"].as_str().unwrap_or("JSON"),
                                 "createdAt": stamp, "updatedAt": stamp});
                self.subscriptions.push(sub.clone());
                json!({"webhookSubscription": sub, "userErrors": []})
            }
            "webhookSubscriptionUpdate" => {
                let id = arg("id");
                let input = arg("webhookSubscription");
                let Some(k) = self.subscriptions.iter().position(|s| s["id"] == id) else {
                    return Some(
                        json!({"webhookSubscription": null, "userErrors": [user_error(&["id"], "Webhook subscription does not exist")]}),
                    );
                };
                if let Some(uri) = input["uri"].as_str() {
                    if let Err(m) = https(uri) {
                        return Some(
                            json!({"webhookSubscription": null, "userErrors": [user_error(&["webhookSubscription", "uri"], m)]}),
                        );
                    }
                    let topic = self.subscriptions[k]["topic"].clone();
                    let taken = self
                        .subscriptions
                        .iter()
                        .enumerate()
                        .any(|(n, s)| n != k && s["topic"] == topic && s["uri"] == json!(uri));
                    if taken {
                        return Some(
                            json!({"webhookSubscription": null, "userErrors": [user_error(&["webhookSubscription", "uri"], "Address for this topic has already been taken")]}),
                        );
                    }
                    self.subscriptions[k]["uri"] = json!(uri);
                }
                self.subscriptions[k]["updatedAt"] = json!(stamp);
                json!({"webhookSubscription": self.subscriptions[k].clone(), "userErrors": []})
            }
            "webhookSubscriptionDelete" => {
                let id = arg("id");
                let before = self.subscriptions.len();
                self.subscriptions.retain(|s| s["id"] != id);
                if self.subscriptions.len() == before {
                    json!({"deletedWebhookSubscriptionId": null, "userErrors": [user_error(&["id"], "Webhook subscription does not exist")]})
                } else {
                    json!({"deletedWebhookSubscriptionId": id, "userErrors": []})
                }
            }
            "fulfillmentServiceCreate" => {
                let fail = |field: &str, m: &str| json!({"fulfillmentService": null, "userErrors": [user_error(&[field], m)]});
                let service_name = arg("name").as_str().unwrap_or("").trim().to_string();
                if service_name.is_empty() {
                    return Some(fail("name", "Name can't be blank"));
                }
                if self.service(&service_name).is_some() {
                    return Some(fail("name", "Name has already been taken"));
                }
                let callback = arg("callbackUrl");
                if let Some(u) = callback.as_str()
                    && let Err(m) = https(u)
                {
                    return Some(fail("callbackUrl", &m));
                }
                let location = json!({"id": self.id("Location"), "name": service_name});
                let handle = service_name.to_ascii_lowercase().replace(' ', "-");
                let service = json!({"id": self.id("FulfillmentService"), "serviceName": service_name,
                    "handle": handle, "callbackUrl": callback,
                    "trackingSupport": arg("trackingSupport").as_bool().unwrap_or(false),
                    "inventoryManagement": arg("inventoryManagement").as_bool().unwrap_or(false),
                    "location": location});
                self.services.push(service.clone());
                json!({"fulfillmentService": service, "userErrors": []})
            }
            "fulfillmentServiceUpdate" => {
                let id = arg("id");
                let Some(k) = self.services.iter().position(|s| s["id"] == id) else {
                    return Some(
                        json!({"fulfillmentService": null, "userErrors": [user_error(&["id"], "Fulfillment service could not be found.")]}),
                    );
                };
                if let Some(u) = arg("callbackUrl").as_str() {
                    if let Err(m) = https(u) {
                        return Some(
                            json!({"fulfillmentService": null, "userErrors": [user_error(&["callbackUrl"], m)]}),
                        );
                    }
                    self.services[k]["callbackUrl"] = json!(u);
                }
                for f in ["trackingSupport", "inventoryManagement"] {
                    if let Some(b) = arg(f).as_bool() {
                        self.services[k][f] = json!(b);
                    }
                }
                json!({"fulfillmentService": self.services[k].clone(), "userErrors": []})
            }
            _ => return None,
        })
    }
}
