//! Connecting a shop: `shopify check` (what its app may read), `shopify
//! app-toml` (the app configuration for Shopify CLI), `shopify setup`
//! (webhooks and fulfillment service), `link-snippet` (the Liquid for
//! notification templates).

use super::shops_with_api;
use crate::config::Config;
use crate::shopify::check;

/// `order-status shopify check`: what each shop's app can read. Returns
/// whether every shop can work.
pub async fn shopify_check(config: &Config, only: Option<&str>) -> anyhow::Result<bool> {
    let mut all_ok = true;
    for api in shops_with_api(config, only)? {
        match check::check(&api).await {
            Ok(report) => {
                for line in report.lines() {
                    println!("{line}");
                }
                all_ok &= report.ok();
            }
            Err(e) => {
                println!("{}:\n  error: {}", api.domain(), crate::errors::chain(&e));
                all_ok = false;
            }
        }
    }
    Ok(all_ok)
}

/// `order-status shopify app-toml`: the app configuration for Shopify CLI.
pub fn shopify_app_toml(config: &Config, client_id: &str) -> anyhow::Result<()> {
    let public_url = config.public_url.as_deref().ok_or_else(|| {
        anyhow::anyhow!(
            "set public_url (ORDER_STATUS_PUBLIC_URL), the https address Shopify delivers to"
        )
    })?;
    let write_back = config.shopify.iter().any(|s| s.write_back);
    let service = config
        .shopify
        .iter()
        .any(|s| s.fulfillment_service.is_some());
    print!(
        "{}",
        crate::shopify::setup::app_toml(public_url, client_id, write_back, service)
    );
    Ok(())
}

/// `order-status shopify setup`: registers each shop's webhook
/// subscriptions and fulfillment service. Returns whether all went in.
pub async fn shopify_setup(config: &Config, only: Option<&str>) -> anyhow::Result<bool> {
    let public_url = config
        .public_url
        .as_deref()
        .filter(|u| u.starts_with("https://"))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "shopify setup needs the site's public https address: set public_url (ORDER_STATUS_PUBLIC_URL), e.g. https://track.example.com; Shopify delivers webhooks to https addresses only"
            )
        })?;
    let mut all_ok = true;
    for api in shops_with_api(config, only)? {
        match crate::shopify::setup::setup(&api, public_url).await {
            Ok(report) => {
                for line in report.lines() {
                    println!("{line}");
                }
                all_ok &= report.ok();
            }
            Err(e) => {
                println!("{}:\n  error: {}", api.domain(), crate::errors::chain(&e));
                all_ok = false;
            }
        }
    }
    if !all_ok {
        println!("Some of it was refused: `order-status shopify check` names the missing scopes.");
    }
    Ok(all_ok)
}

/// `order-status link-snippet`: the Liquid for the merchant's templates.
pub fn link_snippet(config: &Config, shop: Option<&str>, days: u32) -> anyhow::Result<()> {
    let shops: Vec<_> = config
        .shopify
        .iter()
        .filter(|s| shop.is_none_or(|d| s.domain.eq_ignore_ascii_case(d)))
        .collect();
    let [shop] = shops[..] else {
        anyhow::bail!(
            "name one configured shop with --shop (configured: {})",
            config.shopify.len()
        );
    };
    let base = config
        .public_url
        .as_ref()
        .map_or_else(|| format!("http://{}", config.addr), ToString::to_string);
    match shop.link_secret.as_deref() {
        Some(secret) => println!(
            "{}",
            crate::links::liquid_snippet(&base, &shop.domain, secret, days.max(1))
        ),
        None => {
            eprintln!(
                "{} has no link secret (ORDER_STATUS_SHOPIFY_LINK_SECRET, 16 characters or more): this is the lookup form with the order number filled in; with a secret the link opens the order itself",
                shop.domain
            );
            println!("{}", crate::links::liquid_lookup_snippet(&base));
        }
    }
    Ok(())
}
