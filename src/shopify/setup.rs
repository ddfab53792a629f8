//! `order-status shopify setup`: what the app needs registered on a shop,
//! made so through the Admin API, idempotently.
//!
//! - **Webhook subscriptions**: one per topic the site handles (every
//!   [`Topic`] but the compliance ones, which Shopify only takes from the
//!   app's configuration: see `shopify.app.toml`), pointing at
//!   `public_url` + [`HOOK_PATH`]. An existing one that points at the
//!   site under another path is updated; one that points at the site for
//!   a topic it no longer handles, or twice, is deleted; subscriptions
//!   that point elsewhere are the merchant's and stay.
//! - **The fulfillment service**, when the shop's `fulfillment_service`
//!   names one: created (`fulfillmentServiceCreate`) with its callback at
//!   `public_url` + [`SERVICE_PATH`] (Shopify posts fulfillment and
//!   cancellation requests to `<callback>/fulfillment_order_notification`),
//!   or updated when its callback moved. Tracking goes to Shopify with each
//!   fulfillment, so `trackingSupport` is off (on, Shopify would poll a
//!   `fetch_tracking_numbers` endpoint the site does not have), and so is
//!   `inventoryManagement`.
//!
//! Shopify's refusals come back in its words, per topic, and the run goes
//! on with the others.

use serde_json::{Value, json};

use super::client::{ApiError, ShopApi};
use super::scopes::Topic;

/// Where webhooks are delivered, under the site's public URL.
pub const HOOK_PATH: &str = "/webhooks/shopify";
/// The fulfillment service's callback URL, under the site's public URL.
pub const SERVICE_PATH: &str = "/webhooks/shopify/fulfillment-service";

/// What setting a shop up did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetupReport {
    pub shop: String,
    /// Topics subscribed now.
    pub created: Vec<Topic>,
    /// Topics whose subscription pointed at the site elsewhere, moved.
    pub updated: Vec<Topic>,
    /// Topics already right.
    pub kept: Vec<Topic>,
    /// Subscriptions to the site that were not needed (topic, address).
    pub removed: Vec<(String, String)>,
    /// Topics Shopify refused, with its words.
    pub refused: Vec<(Topic, String)>,
    /// The fulfillment service, when one is configured.
    pub service: Option<ServiceOutcome>,
}

impl SetupReport {
    /// Whether everything needed is in place.
    pub fn ok(&self) -> bool {
        self.refused.is_empty() && !matches!(self.service, Some(ServiceOutcome::Refused(_)))
    }

    /// The report as lines for a terminal.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!("{}:", self.shop)];
        let list = |ts: &[Topic]| ts.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
        if !self.created.is_empty() {
            out.push(format!("  subscribed: {}", list(&self.created)));
        }
        if !self.updated.is_empty() {
            out.push(format!(
                "  moved to this site's address: {}",
                list(&self.updated)
            ));
        }
        if !self.kept.is_empty() {
            out.push(format!("  already subscribed: {} topics", self.kept.len()));
        }
        for (topic, uri) in &self.removed {
            out.push(format!("  removed: {topic} -> {uri} (not needed)"));
        }
        for (topic, why) in &self.refused {
            out.push(format!("  REFUSED {topic}: {why}"));
        }
        match &self.service {
            None => out.push(
                "  fulfillment service: not configured ([[shopify]] fulfillment_service)".into(),
            ),
            Some(ServiceOutcome::Created { name, callback }) => out.push(format!(
                "  fulfillment service {name:?} registered, callback {callback}"
            )),
            Some(ServiceOutcome::Updated { name, callback }) => out.push(format!(
                "  fulfillment service {name:?}: callback moved to {callback}"
            )),
            Some(ServiceOutcome::Kept { name }) => {
                out.push(format!("  fulfillment service {name:?} already registered"))
            }
            Some(ServiceOutcome::Refused(why)) => {
                out.push(format!("  REFUSED fulfillment service: {why}"))
            }
        }
        out.push("  compliance topics (customers/redact, shop/redact, customers/data_request): set in the app's configuration (shopify.app.toml), not through the API".into());
        out
    }
}

/// What happened to the fulfillment service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceOutcome {
    Created { name: String, callback: String },
    Updated { name: String, callback: String },
    Kept { name: String },
    Refused(String),
}

const LIST: &str = "query Hooks($after: String) { webhookSubscriptions(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id topic uri } } }";
const CREATE: &str = "mutation Subscribe($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) { webhookSubscription { id } userErrors { field message } } }";
const UPDATE: &str = "mutation Move($id: ID!, $sub: WebhookSubscriptionInput!) { webhookSubscriptionUpdate(id: $id, webhookSubscription: $sub) { webhookSubscription { id } userErrors { field message } } }";
const DELETE: &str = "mutation Unsubscribe($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } } }";
const SERVICES: &str =
    "query Services { shop { fulfillmentServices { id serviceName callbackUrl } } }";
const SERVICE_CREATE: &str = "mutation Service($name: String!, $callback: URL) { fulfillmentServiceCreate(name: $name, callbackUrl: $callback, trackingSupport: false, inventoryManagement: false) { fulfillmentService { id } userErrors { field message } } }";
const SERVICE_UPDATE: &str = "mutation ServiceMove($id: ID!, $callback: URL) { fulfillmentServiceUpdate(id: $id, callbackUrl: $callback) { fulfillmentService { id } userErrors { field message } } }";

/// Every query and mutation this module sends (for the cost test).
pub const OPERATIONS: &[&str] = &[
    LIST,
    CREATE,
    UPDATE,
    DELETE,
    SERVICES,
    SERVICE_CREATE,
    SERVICE_UPDATE,
];

/// The `userErrors` of a payload, joined, if any.
fn refused(payload: &Value) -> Option<String> {
    let list = payload["userErrors"].as_array()?;
    (!list.is_empty()).then(|| {
        list.iter()
            .filter_map(|e| e["message"].as_str())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// Scheme, host and port of a URL: what "points at the site" means.
fn origin(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(u.origin().ascii_serialization())
}

/// Sets one shop up. `public_url` is the site's https base URL.
pub async fn setup(api: &ShopApi, public_url: &str) -> Result<SetupReport, ApiError> {
    let base = public_url.trim_end_matches('/');
    let hook = format!("{base}{HOOK_PATH}");
    let site = origin(base);
    let mut report = SetupReport {
        shop: api.domain().to_string(),
        ..SetupReport::default()
    };

    // Every subscription of the app on this shop.
    let mut existing: Vec<(String, String, String)> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = api.call(LIST, json!({ "after": after })).await?;
        let page = &data["webhookSubscriptions"];
        for n in page["nodes"].as_array().into_iter().flatten() {
            let text = |f: &str| n[f].as_str().unwrap_or("").to_string();
            existing.push((text("id"), text("topic"), text("uri")));
        }
        match (
            page["pageInfo"]["hasNextPage"].as_bool(),
            page["pageInfo"]["endCursor"].as_str(),
        ) {
            (Some(true), Some(c)) => after = Some(c.to_string()),
            _ => break,
        }
    }
    let ours = |uri: &str| site.is_some() && origin(uri) == site;
    let mut used: Vec<String> = Vec::new();
    for topic in Topic::subscribed_by_api() {
        let name = topic.graphql();
        if let Some((id, ..)) = existing
            .iter()
            .find(|(id, t, uri)| *t == name && *uri == hook && !used.contains(id))
        {
            used.push(id.clone());
            report.kept.push(topic);
            continue;
        }
        let movable = existing
            .iter()
            .find(|(id, t, uri)| *t == name && ours(uri) && !used.contains(id))
            .map(|(id, ..)| id.clone());
        if let Some(id) = movable {
            let data = api
                .call(UPDATE, json!({ "id": id, "sub": { "uri": hook } }))
                .await?;
            used.push(id);
            match refused(&data["webhookSubscriptionUpdate"]) {
                None => report.updated.push(topic),
                Some(why) => report.refused.push((topic, why)),
            }
            continue;
        }
        let data = api
            .call(
                CREATE,
                json!({ "topic": name, "sub": { "uri": hook, "format": "JSON" } }),
            )
            .await?;
        match refused(&data["webhookSubscriptionCreate"]) {
            None => report.created.push(topic),
            Some(why) => report.refused.push((topic, why)),
        }
    }
    // Subscriptions to the site that nothing above needed.
    for (id, topic, uri) in &existing {
        if used.contains(id) || !ours(uri) {
            continue;
        }
        let data = api.call(DELETE, json!({ "id": id })).await?;
        if refused(&data["webhookSubscriptionDelete"]).is_none() {
            let readable = Topic::from_graphql(topic).map_or(topic.clone(), |t| t.to_string());
            report.removed.push((readable, uri.clone()));
        }
    }

    if let Some(name) = api.shop().fulfillment_service.clone() {
        let callback = format!("{base}{SERVICE_PATH}");
        let data = api.call(SERVICES, json!({})).await?;
        let found = data["shop"]["fulfillmentServices"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["serviceName"].as_str() == Some(name.as_str()))
            .cloned();
        report.service = Some(match found {
            Some(s) if s["callbackUrl"].as_str() == Some(callback.as_str()) => {
                ServiceOutcome::Kept { name }
            }
            Some(s) => {
                let data = api
                    .call(
                        SERVICE_UPDATE,
                        json!({ "id": s["id"], "callback": callback }),
                    )
                    .await?;
                match refused(&data["fulfillmentServiceUpdate"]) {
                    None => ServiceOutcome::Updated { name, callback },
                    Some(why) => ServiceOutcome::Refused(why),
                }
            }
            None => {
                let data = api
                    .call(
                        SERVICE_CREATE,
                        json!({ "name": name, "callback": callback }),
                    )
                    .await?;
                match refused(&data["fulfillmentServiceCreate"]) {
                    None => ServiceOutcome::Created { name, callback },
                    Some(why) => ServiceOutcome::Refused(why),
                }
            }
        });
    }
    Ok(report)
}

/// The app configuration Shopify CLI deploys (`shopify app deploy`), for
/// merchants who manage the app that way instead of `shopify setup`: the
/// scopes the shop's settings need (from [`super::scopes::FEATURES`]),
/// every webhook topic the site handles, and the compliance topics, which
/// only an app's configuration can subscribe to.
pub fn app_toml(
    public_url: &str,
    client_id: &str,
    write_back: bool,
    fulfillment_service: bool,
) -> String {
    use super::scopes::{FEATURES, When};
    let base = public_url.trim_end_matches('/');
    let mut scopes: Vec<&str> = Vec::new();
    for need in FEATURES {
        let wanted = match need.when {
            When::Always | When::Optional => true,
            When::WriteBack => write_back,
            When::FulfillmentService => fulfillment_service,
        };
        // The first scope of a feature is the one to ask for; the others
        // are alternatives (a marketplace's, another service's).
        if wanted
            && let Some(first) = need.any_of.first()
            && !scopes.contains(first)
        {
            scopes.push(first);
        }
    }
    let quoted = |ts: Vec<&str>| {
        ts.iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let api_topics = quoted(Topic::subscribed_by_api().map(|t| t.as_str()).collect());
    let compliance = quoted(
        Topic::ALL
            .iter()
            .filter(|t| t.subscribe() == super::scopes::Subscribe::Compliance)
            .map(|t| t.as_str())
            .collect(),
    );
    format!(
        "# shopify.app.toml for order-status (deploy with `shopify app deploy`).\n\
         client_id = \"{client_id}\"\n\
         name = \"Order status\"\n\
         application_url = \"{base}\"\n\
         embedded = false\n\
         \n\
         [access_scopes]\n\
         scopes = \"{scopes}\"\n\
         \n\
         [webhooks]\n\
         api_version = \"{version}\"\n\
         \n\
         [[webhooks.subscriptions]]\n\
         topics = [{api_topics}]\n\
         uri = \"{base}{HOOK_PATH}\"\n\
         \n\
         [[webhooks.subscriptions]]\n\
         compliance_topics = [{compliance}]\n\
         uri = \"{base}{HOOK_PATH}\"\n",
        scopes = scopes.join(","),
        version = crate::config::DEFAULT_API_VERSION,
    )
}

#[cfg(test)]
mod tests {
    use super::super::cost::{MAX_QUERY_COST, Schema, parse_query};
    use super::*;

    #[test]
    fn the_app_toml_asks_for_what_the_table_says() {
        let text = app_toml("https://track.example.com/", "abc", false, false);
        let v: toml::Value = toml::from_str(&text).expect("valid TOML");
        let scopes = v["access_scopes"]["scopes"].as_str().expect("scopes");
        for s in ["read_orders", "read_fulfillments", "read_returns"] {
            assert!(scopes.split(',').any(|x| x == s), "{scopes}");
        }
        assert!(!scopes.contains("write_"), "{scopes}");
        let subs = v["webhooks"]["subscriptions"].as_array().expect("subs");
        let topics: Vec<&str> = subs[0]["topics"]
            .as_array()
            .expect("topics")
            .iter()
            .filter_map(|t| t.as_str())
            .collect();
        let api: Vec<&str> = Topic::subscribed_by_api().map(|t| t.as_str()).collect();
        assert_eq!(topics, api);
        assert_eq!(
            subs[1]["compliance_topics"].as_array().map(Vec::len),
            Some(3)
        );
        assert_eq!(
            subs[0]["uri"].as_str(),
            Some("https://track.example.com/webhooks/shopify")
        );
        let all = app_toml("https://t.example", "abc", true, true);
        let v: toml::Value = toml::from_str(&all).expect("valid TOML");
        let scopes = v["access_scopes"]["scopes"].as_str().expect("scopes");
        for s in [
            "write_orders",
            "write_fulfillments",
            "write_assigned_fulfillment_orders",
            "read_assigned_fulfillment_orders",
        ] {
            assert!(scopes.split(',').any(|x| x == s), "{s}: {scopes}");
        }
    }

    #[test]
    fn every_setup_operation_is_in_the_schema_and_fits_the_cost_limit() {
        let schema = Schema::admin().expect("schema");
        for q in OPERATIONS {
            let doc = parse_query(q).unwrap_or_else(|e| panic!("{e}\n{q}"));
            let cost = schema
                .requested_cost(&doc, &json!({}))
                .unwrap_or_else(|e| panic!("{e}\n{q}"));
            assert!(cost <= MAX_QUERY_COST, "{q}: {cost}");
        }
        // Every topic subscribed through the API is one the schema knows.
        let values = schema
            .enum_values("WebhookSubscriptionTopic")
            .expect("the topic enum");
        for t in Topic::subscribed_by_api() {
            assert!(values.contains(&t.graphql()), "{t}");
        }
        for t in Topic::ALL.iter().filter(|t| !t.scopes().is_empty()) {
            assert!(values.contains(&t.graphql()), "{t}");
        }
    }
}
