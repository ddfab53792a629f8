//! What the site needs of a Shopify app, in one table: every feature and
//! every webhook topic with the access scopes that give it, and the
//! protected customer data it reads.
//!
//! `shopify check` compares a shop's granted scopes with [`FEATURES`] and
//! names what a missing one breaks; `shopify setup` subscribes to
//! [`Topic::ALL`] but the compliance topics (which Shopify only takes from
//! the app's configuration); the README's scope table and the shipped
//! `shopify.app.toml` are checked against these lists by tests, and the
//! tests' fake Shopify refuses a subscription whose scope is not granted
//! by the same table. Scopes per topic are shopify.dev's webhook topic
//! reference for 2026-10.

/// When a feature's scope matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// The site does not work without it.
    Always,
    /// A part of the page is missing without it.
    Optional,
    /// Only with `write_back` on: a staff action is refused without it.
    WriteBack,
    /// Only when the app is the shop's fulfillment service.
    FulfillmentService,
}

/// A feature and the scopes that give it (any one of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    pub feature: &'static str,
    pub any_of: &'static [&'static str],
    pub when: When,
    /// What a merchant loses without it, in a few words.
    pub breaks: &'static str,
}

/// What each feature needs.
pub const FEATURES: &[Need] = &[
    Need {
        feature: "orders (sync, order webhooks)",
        any_of: &["read_orders"],
        when: When::Always,
        breaks: "no orders at all",
    },
    Need {
        feature: "orders older than 60 days",
        any_of: &["read_all_orders"],
        when: When::Optional,
        breaks: "the first sync stops 60 days back",
    },
    Need {
        feature: "shipments and carrier scans as they happen",
        any_of: &["read_fulfillments"],
        when: When::Always,
        breaks: "the fulfillments/* and fulfillment_events/* webhooks: parcels and scans only arrive with the next sync",
    },
    Need {
        feature: "returns",
        any_of: &["read_returns"],
        when: When::Optional,
        breaks: "no returns on the page; the returns/* webhooks",
    },
    Need {
        feature: "what your own locations still have to ship",
        any_of: &["read_merchant_managed_fulfillment_orders"],
        when: When::Optional,
        breaks: "holds and 'waiting at the warehouse'",
    },
    Need {
        feature: "orders other apps' fulfillment services ship",
        any_of: &["read_third_party_fulfillment_orders"],
        when: When::Optional,
        breaks: "holds and waiting work at a 3PL",
    },
    Need {
        feature: "orders this app fulfills as a fulfillment service",
        any_of: &["read_assigned_fulfillment_orders"],
        when: When::FulfillmentService,
        breaks: "fulfillment requests cannot be listed",
    },
    Need {
        feature: "fulfillment service: register it, accept or reject requests and cancellations",
        any_of: &["write_assigned_fulfillment_orders"],
        when: When::FulfillmentService,
        breaks: "requests cannot be answered",
    },
    Need {
        feature: "fulfillment service: create or update the service",
        any_of: &["write_fulfillments"],
        when: When::FulfillmentService,
        breaks: "`shopify setup` cannot register the service",
    },
    Need {
        feature: "write-back: statuses as an order tag and metafield",
        any_of: &["write_orders"],
        when: When::WriteBack,
        breaks: "setting a status is refused",
    },
    Need {
        feature: "write-back: mark as shipped, add tracking",
        any_of: &[
            "write_merchant_managed_fulfillment_orders",
            "write_assigned_fulfillment_orders",
            "write_third_party_fulfillment_orders",
        ],
        when: When::WriteBack,
        breaks: "mark as shipped and tracking are refused",
    },
    Need {
        feature: "write-back: carrier scans",
        any_of: &["write_fulfillments"],
        when: When::WriteBack,
        breaks: "recording a carrier scan is refused",
    },
];

/// Every scope the site may ask for, in the order of [`FEATURES`].
pub fn all_scopes() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for need in FEATURES {
        for s in need.any_of {
            if !out.contains(s) {
                out.push(s);
            }
        }
    }
    out
}

/// The README's scope table, made from [`FEATURES`] (a test keeps the
/// README's copy the same).
pub fn readme_table() -> String {
    let mut out =
        String::from("| feature | scope (any one) | needed | without it |\n|---|---|---|---|\n");
    for n in FEATURES {
        let when = match n.when {
            When::Always => "always",
            When::Optional => "recommended",
            When::WriteBack => "with `write_back`",
            When::FulfillmentService => "with `fulfillment_service`",
        };
        let scopes = n
            .any_of
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(" or ");
        out.push_str(&format!(
            "| {} | {scopes} | {when} | {} |\n",
            n.feature, n.breaks
        ));
    }
    out
}

/// A kind of protected customer data (shopify.dev, "Work with protected
/// customer data"): level 1 is customer data at all; level 2 adds each of
/// the fields name, email, phone and address, requested one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protected {
    /// Level 1: the customer and address objects at all.
    Customer,
    /// Level 2 fields.
    Name,
    Email,
    Phone,
    Address,
}

impl Protected {
    pub const ALL: [Protected; 5] = [
        Protected::Customer,
        Protected::Name,
        Protected::Email,
        Protected::Phone,
        Protected::Address,
    ];

    /// The word the schema file and Shopify's Dev Dashboard use.
    pub fn as_str(self) -> &'static str {
        match self {
            Protected::Customer => "customer",
            Protected::Name => "name",
            Protected::Email => "email",
            Protected::Phone => "phone",
            Protected::Address => "address",
        }
    }

    pub fn parse(s: &str) -> Option<Protected> {
        Protected::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Shopify's level for it.
    pub fn level(self) -> u8 {
        match self {
            Protected::Customer => 1,
            _ => 2,
        }
    }

    /// What the site does with it, and what happens without it.
    pub fn use_and_loss(self) -> (&'static str, &'static str) {
        match self {
            Protected::Customer => (
                "the order's customer and address at all",
                "no names or cities on any page, no emails",
            ),
            Protected::Email => (
                "lookups by order number and email, status emails",
                "shoppers cannot look their orders up and get no emails",
            ),
            Protected::Name => (
                "the greeting in emails, staff search by name",
                "emails say \"Hello\" without a name; staff cannot search by name",
            ),
            Protected::Address => (
                "the full address on the staff page",
                "staff see the city and country only",
            ),
            Protected::Phone => ("the phone number on the staff page", "staff see no phone"),
        }
    }

    /// Whether the site cannot work without it.
    pub fn required(self) -> bool {
        matches!(self, Protected::Customer | Protected::Email)
    }
}

/// The kind of protected data a GraphQL error says Shopify withheld:
/// "This app is not approved to access the Customer object." (level 1,
/// as production integrations quote it: Shopify/shopify-api-js #748) or
/// "This app is not approved to use the email field." (level 2; Shopify
/// answers such a query with the data, the field `null`, and the error).
pub fn withheld_by(message: &str) -> Option<Protected> {
    let rest = message.strip_prefix("This app is not approved to ")?;
    if rest.starts_with("access the ") && rest.contains(" object") {
        return Some(Protected::Customer);
    }
    let field = rest.strip_prefix("use the ")?.split_whitespace().next()?;
    Some(match field {
        "email" => Protected::Email,
        "phone" => Protected::Phone,
        "firstName" | "lastName" | "name" | "displayName" => Protected::Name,
        "address1" | "address2" | "zip" => Protected::Address,
        _ => Protected::Customer,
    })
}

/// How a topic is subscribed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscribe {
    /// Through the Admin API (`shopify setup`) or the app's TOML.
    Api,
    /// Mandatory compliance topics: the app's configuration only
    /// (`compliance_topics` in `shopify.app.toml`, or the Dev Dashboard).
    Compliance,
}

macro_rules! topics {
    ($( $variant:ident = $name:literal, $sub:ident, [$($scope:literal),*], $protected:literal; )*) => {
        /// A webhook topic this site acts on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Topic { $( $variant, )* }

        impl Topic {
            /// Every topic, in the README's order.
            pub const ALL: &'static [Topic] = &[ $( Topic::$variant, )* ];

            /// `orders/create`: the `X-Shopify-Topic` header's spelling.
            pub fn as_str(self) -> &'static str {
                match self { $( Topic::$variant => $name, )* }
            }

            /// The scopes any one of which allows a subscription.
            pub fn scopes(self) -> &'static [&'static str] {
                match self { $( Topic::$variant => &[$($scope),*], )* }
            }

            /// How it is subscribed.
            pub fn subscribe(self) -> Subscribe {
                match self { $( Topic::$variant => Subscribe::$sub, )* }
            }

            /// Whether its body carries protected customer data (Shopify
            /// refuses the subscription without level 1 access).
            pub fn protected(self) -> bool {
                match self { $( Topic::$variant => $protected, )* }
            }
        }
    };
}

topics! {
    OrdersCreate = "orders/create", Api, ["read_orders", "read_marketplace_orders"], true;
    OrdersUpdated = "orders/updated", Api, ["read_orders", "read_marketplace_orders"], true;
    OrdersPaid = "orders/paid", Api, ["read_orders", "read_marketplace_orders"], true;
    OrdersCancelled = "orders/cancelled", Api, ["read_orders", "read_marketplace_orders"], true;
    OrdersFulfilled = "orders/fulfilled", Api, ["read_orders", "read_marketplace_orders"], true;
    OrdersPartiallyFulfilled = "orders/partially_fulfilled", Api, ["read_orders", "read_marketplace_orders"], true;
    OrdersEdited = "orders/edited", Api, ["read_orders", "read_marketplace_orders"], false;
    OrdersDelete = "orders/delete", Api, ["read_orders", "read_marketplace_orders"], false;
    FulfillmentsCreate = "fulfillments/create", Api, ["read_fulfillments", "read_marketplace_orders"], true;
    FulfillmentsUpdate = "fulfillments/update", Api, ["read_fulfillments", "read_marketplace_orders"], true;
    FulfillmentEventsCreate = "fulfillment_events/create", Api, ["read_fulfillments", "read_marketplace_orders"], false;
    FulfillmentEventsDelete = "fulfillment_events/delete", Api, ["read_fulfillments", "read_marketplace_orders"], false;
    FulfillmentOrdersPlacedOnHold = "fulfillment_orders/placed_on_hold", Api, ["read_merchant_managed_fulfillment_orders", "read_assigned_fulfillment_orders", "read_third_party_fulfillment_orders", "read_marketplace_fulfillment_orders"], false;
    FulfillmentOrdersHoldReleased = "fulfillment_orders/hold_released", Api, ["read_merchant_managed_fulfillment_orders", "read_assigned_fulfillment_orders", "read_third_party_fulfillment_orders", "read_marketplace_fulfillment_orders"], false;
    FulfillmentOrdersCancelled = "fulfillment_orders/cancelled", Api, ["read_merchant_managed_fulfillment_orders", "read_assigned_fulfillment_orders", "read_third_party_fulfillment_orders", "read_marketplace_fulfillment_orders"], false;
    FulfillmentOrdersScheduledReady = "fulfillment_orders/scheduled_fulfillment_order_ready", Api, ["read_merchant_managed_fulfillment_orders", "read_assigned_fulfillment_orders", "read_third_party_fulfillment_orders", "read_marketplace_fulfillment_orders"], false;
    FulfillmentOrdersRescheduled = "fulfillment_orders/rescheduled", Api, ["read_merchant_managed_fulfillment_orders", "read_assigned_fulfillment_orders", "read_third_party_fulfillment_orders", "read_marketplace_fulfillment_orders"], false;
    FulfillmentOrdersRequestAccepted = "fulfillment_orders/fulfillment_request_accepted", Api, ["read_merchant_managed_fulfillment_orders", "read_assigned_fulfillment_orders", "read_third_party_fulfillment_orders", "read_marketplace_fulfillment_orders"], false;
    FulfillmentOrdersRequestRejected = "fulfillment_orders/fulfillment_request_rejected", Api, ["read_merchant_managed_fulfillment_orders", "read_assigned_fulfillment_orders", "read_third_party_fulfillment_orders", "read_marketplace_fulfillment_orders"], false;
    FulfillmentOrdersSplit = "fulfillment_orders/split", Api, ["read_merchant_managed_fulfillment_orders", "read_assigned_fulfillment_orders", "read_third_party_fulfillment_orders", "read_marketplace_fulfillment_orders"], false;
    FulfillmentOrdersMerged = "fulfillment_orders/merged", Api, ["read_merchant_managed_fulfillment_orders", "read_assigned_fulfillment_orders", "read_third_party_fulfillment_orders", "read_marketplace_fulfillment_orders"], false;
    FulfillmentOrdersMoved = "fulfillment_orders/moved", Api, ["read_merchant_managed_fulfillment_orders", "read_assigned_fulfillment_orders", "read_third_party_fulfillment_orders", "read_marketplace_fulfillment_orders"], false;
    RefundsCreate = "refunds/create", Api, ["read_orders", "read_marketplace_orders"], false;
    ReturnsRequest = "returns/request", Api, ["read_returns", "read_marketplace_returns"], false;
    ReturnsApprove = "returns/approve", Api, ["read_returns", "read_marketplace_returns"], false;
    ReturnsDecline = "returns/decline", Api, ["read_returns", "read_marketplace_returns"], false;
    ReturnsCancel = "returns/cancel", Api, ["read_returns", "read_marketplace_returns"], false;
    ReturnsClose = "returns/close", Api, ["read_returns", "read_marketplace_returns"], false;
    ReturnsReopen = "returns/reopen", Api, ["read_returns", "read_marketplace_returns"], false;
    ReturnsUpdate = "returns/update", Api, ["read_returns", "read_marketplace_returns"], false;
    ReverseDeliveriesAttachDeliverable = "reverse_deliveries/attach_deliverable", Api, ["read_returns", "read_marketplace_returns"], false;
    CustomersRedact = "customers/redact", Compliance, [], false;
    ShopRedact = "shop/redact", Compliance, [], false;
    CustomersDataRequest = "customers/data_request", Compliance, [], false;
}

impl Topic {
    /// `ORDERS_CREATE`: the GraphQL `WebhookSubscriptionTopic` value.
    pub fn graphql(self) -> String {
        self.as_str().to_ascii_uppercase().replace('/', "_")
    }

    /// The topic of a GraphQL `WebhookSubscriptionTopic` value.
    pub fn from_graphql(s: &str) -> Option<Topic> {
        Topic::ALL.iter().copied().find(|t| t.graphql() == s)
    }

    /// The topic of an `X-Shopify-Topic` header (`None`: one the site
    /// does not act on).
    pub fn parse(s: &str) -> Option<Topic> {
        Topic::ALL.iter().copied().find(|t| t.as_str() == s)
    }

    /// The topics `shopify setup` subscribes to through the Admin API.
    pub fn subscribed_by_api() -> impl Iterator<Item = Topic> {
        Topic::ALL
            .iter()
            .copied()
            .filter(|t| t.subscribe() == Subscribe::Api)
    }

    /// Whether `granted` allows a subscription.
    pub fn allowed_by(self, granted: &[String]) -> bool {
        self.scopes().is_empty() || self.scopes().iter().any(|s| granted.iter().any(|g| g == s))
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_parse_back_and_name_their_graphql_enum() {
        for t in Topic::ALL {
            assert_eq!(Topic::parse(t.as_str()), Some(*t));
            assert_eq!(Topic::from_graphql(&t.graphql()), Some(*t));
            match t.subscribe() {
                Subscribe::Api => assert!(!t.scopes().is_empty(), "{t}"),
                Subscribe::Compliance => assert!(t.scopes().is_empty(), "{t}"),
            }
        }
        assert_eq!(Topic::parse("orders/unknown"), None);
    }

    #[test]
    fn withheld_data_is_told_by_shopifys_words() {
        assert_eq!(
            withheld_by("This app is not approved to access the MailingAddress object."),
            Some(Protected::Customer)
        );
        assert_eq!(
            withheld_by("This app is not approved to use the email field."),
            Some(Protected::Email)
        );
        assert_eq!(
            withheld_by("This app is not approved to use the firstName field."),
            Some(Protected::Name)
        );
        assert_eq!(withheld_by("Access denied for returns field."), None);
    }

    #[test]
    fn the_readme_lists_the_scope_table_and_the_app_toml_as_the_code_makes_them() {
        let readme = include_str!("../../README.md");
        let table = readme_table();
        assert!(
            readme.contains(&table),
            "README.md's scope table differs from the code's; put this in:\n{table}"
        );
        let toml = super::super::setup::app_toml(
            "https://track.example.com",
            "YOUR_CLIENT_ID",
            false,
            false,
        );
        assert!(
            readme.contains(&toml),
            "README.md's shopify.app.toml differs from `order-status shopify app-toml`; put this in:\n{toml}"
        );
    }

    #[test]
    fn every_api_topic_is_covered_by_a_feature_scope() {
        let all = all_scopes();
        for t in Topic::subscribed_by_api() {
            assert!(
                t.scopes().iter().any(|s| all.contains(s)),
                "{t}: the app is never told to ask for any of {:?}",
                t.scopes()
            );
        }
        assert!(all.contains(&"read_fulfillments"));
    }
}
