//! `order-status shopify check`: what a shop's app can and cannot read,
//! said plainly, before a sync finds out halfway.
//!
//! For each shop: the kind of credentials (and that they work), the API
//! version Shopify answered with, the access scopes granted
//! (`currentAppInstallation.accessScopes`) against the ones each feature
//! needs, and whether protected customer data comes back: without the
//! shoppers' email Shopify hands the app `null`, and lookups by email
//! cannot work at all.

use std::time::Duration;

use serde_json::{Value, json};

use super::client::{ApiError, ShopApi, VersionSeen};

/// A feature and the scopes that give it (any one of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub feature: &'static str,
    pub any_of: &'static [&'static str],
    /// Without it the site does not work at all.
    pub required: bool,
}

/// What each feature needs.
pub const NEEDS: &[Need] = &[
    Need {
        feature: "orders (sync, webhooks)",
        any_of: &["read_orders"],
        required: true,
    },
    Need {
        feature: "orders older than 60 days",
        any_of: &["read_all_orders"],
        required: false,
    },
    Need {
        feature: "returns",
        any_of: &["read_returns"],
        required: false,
    },
    Need {
        feature: "what your own locations still have to ship",
        any_of: &["read_merchant_managed_fulfillment_orders"],
        required: false,
    },
    Need {
        feature: "orders this app fulfills as a fulfillment service",
        any_of: &["read_assigned_fulfillment_orders"],
        required: false,
    },
    Need {
        feature: "orders other apps' fulfillment services ship",
        any_of: &["read_third_party_fulfillment_orders"],
        required: false,
    },
    Need {
        feature: "write-back: statuses as an order tag and metafield",
        any_of: &["write_orders"],
        required: false,
    },
    Need {
        feature: "write-back: mark as shipped, add tracking",
        any_of: &[
            "write_merchant_managed_fulfillment_orders",
            "write_assigned_fulfillment_orders",
            "write_third_party_fulfillment_orders",
        ],
        required: false,
    },
    Need {
        feature: "write-back: carrier scans",
        any_of: &["write_fulfillments"],
        required: false,
    },
    Need {
        feature: "write-back: accept or reject fulfillment requests (as a fulfillment service)",
        any_of: &["write_assigned_fulfillment_orders"],
        required: false,
    },
];

/// Whether shoppers' emails and names come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protected {
    Granted,
    /// Orders came back with email and name hidden.
    Redacted,
    /// No orders to tell by (or the orders could not be read).
    Unknown,
}

/// One shop's findings.
#[derive(Debug, Clone)]
pub struct Report {
    pub shop: String,
    pub credentials: &'static str,
    pub token_expires_in: Option<Duration>,
    pub version: VersionSeen,
    pub scopes: Vec<String>,
    /// Features whose scopes are missing.
    pub missing: Vec<Need>,
    pub protected: Protected,
    /// Whether the shop is configured to write staff actions back.
    pub write_back: bool,
}

impl Report {
    /// Whether the site can work for this shop.
    pub fn ok(&self) -> bool {
        !self.missing.iter().any(|n| n.required) && self.protected != Protected::Redacted
    }

    /// The findings as lines for a terminal.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!("{}:", self.shop)];
        let expiry = self
            .token_expires_in
            .map(|d| format!(", token valid for {} more minutes", d.as_secs() / 60))
            .unwrap_or_default();
        out.push(format!(
            "  credentials: {} (working{expiry})",
            self.credentials
        ));
        match &self.version.answered {
            Some(a) if *a != self.version.asked => out.push(format!(
                "  API version: asked for {}, Shopify answered with {a}: {} is not supported (any more); set ORDER_STATUS_SHOPIFY_API_VERSION={a} or newer",
                self.version.asked, self.version.asked
            )),
            Some(a) => out.push(format!("  API version: {a}")),
            None => out.push(format!("  API version: {} (no answer seen)", self.version.asked)),
        }
        out.push(format!("  scopes granted: {}", self.scopes.join(", ")));
        if !self.write_back {
            out.push("  write-back: off (set write_back = true in the shop's [[shopify]] table to write statuses and shipments to Shopify)".into());
        }
        for need in NEEDS {
            let have = need
                .any_of
                .iter()
                .any(|s| self.scopes.iter().any(|g| g == s));
            // Write scopes matter once write-back is on; then a missing one
            // is an action staff will be refused.
            let writes = need.feature.starts_with("write-back");
            if writes && !self.write_back {
                continue;
            }
            let mark = match (have, need.required || writes) {
                (true, _) => "ok     ",
                (false, true) => "MISSING",
                (false, false) => "missing",
            };
            out.push(format!(
                "  {mark} {} ({})",
                need.feature,
                need.any_of.join(" or ")
            ));
        }
        out.push(match self.protected {
            Protected::Granted => "  ok      protected customer data: shoppers' emails and names come back".into(),
            Protected::Redacted => "  MISSING protected customer data: Shopify hides the shoppers' emails and names from this app, so lookups by email cannot work. In the Dev Dashboard, request access to protected customer data with the name and email fields for the app, then sync again.".into(),
            Protected::Unknown => "  unknown protected customer data: the shop has no orders to tell by yet".into(),
        });
        out
    }
}

/// The granted scopes.
pub const SCOPES: &str = "query Scopes { currentAppInstallation { accessScopes { handle } } }";
/// Whether protected customer data comes back.
pub const RECENT: &str = "query Recent { orders(first: 5, reverse: true, sortKey: CREATED_AT) { nodes { id email customer { firstName lastName } } } }";

/// Checks one shop.
pub async fn check(api: &ShopApi) -> Result<Report, ApiError> {
    let data = api.call(SCOPES, json!({})).await?;
    let scopes: Vec<String> = data["currentAppInstallation"]["accessScopes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["handle"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let missing: Vec<Need> = NEEDS
        .iter()
        .filter(|n| !n.any_of.iter().any(|s| scopes.iter().any(|g| g == s)))
        .cloned()
        .collect();
    let protected = if scopes.iter().any(|s| s == "read_orders") {
        match api.call(RECENT, json!({})).await {
            Ok(d) => protected_from(&d["orders"]["nodes"]),
            Err(ApiError::MissingScope { .. }) => Protected::Unknown,
            Err(e) => return Err(e),
        }
    } else {
        Protected::Unknown
    };
    Ok(Report {
        shop: api.domain().to_string(),
        credentials: api.tokens().kind(),
        token_expires_in: api.tokens().expires_in().await,
        version: api.version(),
        scopes,
        missing,
        protected,
        write_back: api.shop().write_back,
    })
}

fn protected_from(orders: &Value) -> Protected {
    let Some(list) = orders.as_array().filter(|l| !l.is_empty()) else {
        return Protected::Unknown;
    };
    let shown = list.iter().any(|o| {
        o["email"].as_str().is_some_and(|e| !e.is_empty())
            || o["customer"]["firstName"].as_str().is_some()
            || o["customer"]["lastName"].as_str().is_some()
    });
    if shown {
        Protected::Granted
    } else {
        Protected::Redacted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_emails_are_told_apart_from_no_orders() {
        assert_eq!(protected_from(&json!([])), Protected::Unknown);
        assert_eq!(
            protected_from(&json!([{"id": "1", "email": null, "customer": null}])),
            Protected::Redacted
        );
        assert_eq!(
            protected_from(&json!([{"id": "1", "email": null}, {"id": "2", "email": "a@b.se"}])),
            Protected::Granted
        );
    }
}
