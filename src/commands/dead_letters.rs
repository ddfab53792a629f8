//! `order-status webhooks replay`: applies the webhook deliveries kept as
//! dead letters again, with the server stopped.

use anyhow::Context;

use super::offline_store_options;
use crate::config::Config;
use crate::ingest::shopify::deadletter::DeadLetters;
use crate::ingest::shopify::sync;
use crate::ingest::shopify::webhooks::{Delivery, Plan};
use crate::shopify::Apis;
use crate::shopify::client::CallOptions;
use crate::store::{Store, StoreOptions};

/// `order-status webhooks replay`: applies the dead letters again (the
/// server must be stopped: it owns the store); the ones that now apply are
/// removed. Returns whether all of them applied.
pub async fn replay(config: &Config, only: Option<&str>) -> anyhow::Result<bool> {
    let letters = DeadLetters::new(&config.data_dir);
    let list = letters.list()?;
    if list.is_empty() {
        println!("No dead letters in {}.", letters.dir().display());
        return Ok(true);
    }
    let store = Store::open(
        &config.data_dir,
        offline_store_options(config, StoreOptions::default())?,
    )?;
    let apis = Apis::new(config, CallOptions::default())?;
    let (mut applied, mut kept) = (0, 0);
    for (path, letter) in list {
        let letter = match letter {
            Ok(l) => l,
            Err(e) => {
                eprintln!("{}: unreadable ({e}); left in place", path.display());
                kept += 1;
                continue;
            }
        };
        if only.is_some_and(|d| !letter.shop.eq_ignore_ascii_case(d)) {
            continue;
        }
        let d = Delivery {
            shop: &letter.shop,
            topic: &letter.topic,
            body: letter.body.as_bytes(),
            triggered_at: letter.triggered_at,
        };
        let api = apis.get(&letter.shop);
        let refetch = |id| replay_refetch(&store, api, id);
        let apply = |change| replay_apply(&store, api, change);
        let done = match crate::ingest::shopify::webhooks::plan(&store, &d) {
            Err(e) => Err(e.0),
            Ok(Plan::Apply(change)) => apply(change).await,
            Ok(Plan::NewOrder(change, id)) => match api {
                Some(_) => refetch(id).await,
                None => apply(change).await,
            },
            Ok(Plan::ApplyAndRefetch(change, id)) => match apply(change).await {
                Ok(()) if api.is_some() => refetch(id).await,
                other => other,
            },
            Ok(Plan::DeleteOrder(id)) => {
                let gone = match api {
                    Some(api) => sync::order_exists(api, id)
                        .await
                        .map(|exists| !exists)
                        .map_err(|e| format!("cannot confirm the deletion with Shopify: {e}")),
                    None => Ok(true),
                };
                match gone {
                    Ok(true) => store
                        .delete(vec![crate::order::order_key(&letter.shop, id)])
                        .await
                        .map(|_| ())
                        .map_err(|e| crate::errors::chain(&e)),
                    Ok(false) => Err("Shopify still has this order".to_string()),
                    Err(e) => Err(e),
                }
            }
            Ok(Plan::Delete(keys)) => store
                .delete(keys)
                .await
                .map(|_| ())
                .map_err(|e| crate::errors::chain(&e)),
            Ok(Plan::DeleteShop) => store
                .delete_shop(&letter.shop)
                .await
                .map(|_| ())
                .map_err(|e| crate::errors::chain(&e)),
            Ok(Plan::Refetch(id)) => match api {
                Some(_) => refetch(id).await,
                None => Ok(()),
            },
            Ok(Plan::Ignore) => Ok(()),
        };
        match done {
            Ok(()) => {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
                applied += 1;
            }
            Err(reason) => {
                println!(
                    "{}: {} {}: still not applicable: {reason}",
                    path.display(),
                    letter.shop,
                    letter.topic
                );
                kept += 1;
            }
        }
    }
    println!(
        "Replayed {applied} dead letters; {kept} left in {}.",
        letters.dir().display()
    );
    Ok(kept == 0)
}

/// Reads an order a dead letter names again (an error: no API access).
async fn replay_refetch(
    store: &Store,
    api: Option<&std::sync::Arc<crate::shopify::client::ShopApi>>,
    id: u64,
) -> Result<(), String> {
    match api {
        Some(api) => sync::refetch(store, api, &format!("gid://shopify/Order/{id}"))
            .await
            .map(|_| ())
            .map_err(|e| crate::errors::chain(&e)),
        None => Err("the order is still not in the store".to_string()),
    }
}

/// Applies a dead letter's change; a part of an order still unknown has
/// its order read through the API.
async fn replay_apply(
    store: &Store,
    api: Option<&std::sync::Arc<crate::shopify::client::ShopApi>>,
    change: Box<crate::order::merge::Change>,
) -> Result<(), String> {
    let key = change.key();
    let r = store
        .apply(vec![*change])
        .await
        .map_err(|e| crate::errors::chain(&e))?;
    match key.rsplit('/').next().and_then(|s| s.parse().ok()) {
        Some(id) if r.unknown > 0 => replay_refetch(store, api, id).await,
        _ => Ok(()),
    }
}
