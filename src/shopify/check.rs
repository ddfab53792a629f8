//! `order-status shopify check`: what a shop's app can and cannot read,
//! said plainly, before a sync finds out halfway.
//!
//! For each shop: the kind of credentials (and that they work), the API
//! version Shopify answered with, the access scopes granted
//! (`currentAppInstallation.accessScopes`) against the ones each feature
//! needs (the one table of [`super::scopes`]), each missing one named
//! with what it breaks, and which protected customer data Shopify
//! withholds: without the shoppers' email Shopify hands the app `null`,
//! and lookups by email cannot work at all.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;

use super::client::{ApiError, ShopApi, VersionSeen};
use super::scopes::{FEATURES, Need, Protected, When};

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
    /// Protected customer data Shopify withholds (`None`: no orders to
    /// tell by, or the orders could not be read).
    pub withheld: Option<BTreeSet<Protected>>,
    /// Whether the shop is configured to write staff actions back.
    pub write_back: bool,
    /// Whether the app is the shop's fulfillment service here.
    pub fulfillment_service: bool,
}

impl Report {
    /// Whether a missing feature matters for this shop's configuration.
    fn applies(&self, need: &Need) -> bool {
        match need.when {
            When::Always | When::Optional => true,
            When::WriteBack => self.write_back,
            When::FulfillmentService => self.fulfillment_service,
        }
    }

    /// Whether a missing feature stops the site (or a configured action).
    fn fatal(&self, need: &Need) -> bool {
        need.when != When::Optional && self.applies(need)
    }

    /// Whether the site can work for this shop.
    pub fn ok(&self) -> bool {
        !self.missing.iter().any(|n| self.fatal(n))
            && !self
                .withheld
                .as_ref()
                .is_some_and(|w| w.iter().any(|p| p.required()))
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
        if !self.fulfillment_service {
            out.push("  fulfillment service: off (set fulfillment_service = \"NAME\" to ship orders as this app's own location)".into());
        }
        for need in FEATURES.iter().filter(|n| self.applies(n)) {
            let missing = self.missing.contains(need);
            let mark = match (missing, self.fatal(need)) {
                (false, _) => "ok     ",
                (true, true) => "MISSING",
                (true, false) => "missing",
            };
            let mut line = format!("  {mark} {} ({})", need.feature, need.any_of.join(" or "));
            if missing {
                line.push_str(&format!(": without it, {}", need.breaks));
            }
            out.push(line);
        }
        match &self.withheld {
            None => out.push(
                "  unknown protected customer data: the shop has no orders to tell by yet".into(),
            ),
            Some(w) if w.is_empty() => out.push(
                "  ok      protected customer data: level 2, with name, email, phone and address"
                    .into(),
            ),
            Some(w) => {
                for p in Protected::ALL {
                    let (used_for, loss) = p.use_and_loss();
                    // Level 1 withheld withholds every field: say it once.
                    if !w.contains(&p)
                        || (p != Protected::Customer && w.contains(&Protected::Customer))
                    {
                        continue;
                    }
                    let mark = if p.required() { "MISSING" } else { "missing" };
                    let what = match p {
                        Protected::Customer => "protected customer data (level 1)".to_string(),
                        other => format!(
                            "protected customer data level 2: the {} field",
                            other.as_str()
                        ),
                    };
                    out.push(format!(
                        "  {mark} {what}, for {used_for}: Shopify withholds it, so {loss}. In the Dev Dashboard, under the app's protected customer data access, request level {} with the {} field{}, then run this check again.",
                        p.level().max(2),
                        if p == Protected::Customer { "email and name".to_string() } else { p.as_str().to_string() },
                        if p == Protected::Customer { "s" } else { "" },
                    ));
                }
            }
        }
        out
    }
}

/// The granted scopes.
pub const SCOPES: &str = "query Scopes { currentAppInstallation { accessScopes { handle } } }";

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
    let missing: Vec<Need> = FEATURES
        .iter()
        .filter(|n| !n.any_of.iter().any(|s| scopes.iter().any(|g| g == s)))
        .copied()
        .collect();
    let withheld = if scopes.iter().any(|s| s == "read_orders") {
        api.probe_protected().await?
    } else {
        None
    };
    Ok(Report {
        shop: api.domain().to_string(),
        credentials: api.tokens().kind(),
        token_expires_in: api.tokens().expires_in().await,
        version: api.version(),
        scopes,
        missing,
        withheld,
        write_back: api.shop().write_back,
        fulfillment_service: api.shop().fulfillment_service.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(scopes: &[&str], withheld: Option<&[Protected]>) -> Report {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        Report {
            shop: "s.example".into(),
            credentials: "static token",
            token_expires_in: None,
            version: VersionSeen::default(),
            missing: FEATURES
                .iter()
                .filter(|n| !n.any_of.iter().any(|s| scopes.iter().any(|g| g == s)))
                .copied()
                .collect(),
            scopes,
            withheld: withheld.map(|w| w.iter().copied().collect()),
            write_back: false,
            fulfillment_service: false,
        }
    }

    #[test]
    fn a_missing_scope_is_named_with_what_it_breaks() {
        let r = report(&["read_orders", "read_all_orders"], Some(&[]));
        assert!(!r.ok(), "read_fulfillments is needed");
        let text = r.lines().join("\n");
        let line = text
            .lines()
            .find(|l| l.contains("read_fulfillments"))
            .expect("named");
        assert!(
            line.contains("MISSING") && line.contains("fulfillments/*"),
            "{line}"
        );
        // Write-back and fulfillment-service scopes only matter when on.
        assert!(!text.contains("write_orders"), "{text}");
        let mut on = r.clone();
        on.write_back = true;
        assert!(
            on.lines()
                .join("\n")
                .contains("MISSING write-back: statuses")
        );
    }

    #[test]
    fn withheld_fields_name_the_level_to_request() {
        let all = crate::shopify::scopes::all_scopes();
        let r = report(&all, Some(&[Protected::Email, Protected::Phone]));
        assert!(!r.ok(), "no emails: lookups cannot work");
        let text = r.lines().join("\n");
        assert!(
            text.contains("MISSING protected customer data level 2: the email field"),
            "{text}"
        );
        assert!(
            text.contains("missing protected customer data level 2: the phone field"),
            "{text}"
        );
        assert!(!text.contains("the name field"), "{text}");
        let fine = report(&all, Some(&[Protected::Phone, Protected::Address]));
        assert!(fine.ok(), "staff-only fields are not needed");
        let none = report(&all, Some(&[Protected::Customer, Protected::Email]));
        let text = none.lines().join("\n");
        assert!(
            text.contains("(level 1)") && !text.contains("the email field"),
            "{text}"
        );
        assert!(report(&all, None).ok(), "no orders yet: nothing to tell");
    }
}
