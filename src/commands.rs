//! What each subcommand does, with the terminal output (progress bars,
//! summaries) that only a command line needs. `cli` parses the command
//! line and calls in here; `serve` hands the site to [`crate::app`].
//! `anyhow` is used here, in `cli` and in `main` only: this is the edge.

pub mod connect;
pub mod dead_letters;
pub mod mail_test;
pub mod orders;
pub mod staff_accounts;
pub mod sync;

use std::sync::Arc;

use crate::app::App;
use crate::config::Config;
use crate::ingest::demo::SEED_ORDERS;
use crate::notify::OptOuts;
use crate::shopify::Apis;
use crate::shopify::client::CallOptions;
use crate::store::StoreOptions;

/// `order-status serve`: assembles the site (seeding the demo into an
/// empty store if configured to), says where to look, and serves until
/// Ctrl-C / SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    let site = App::build(config).await?;
    if !site.samples.is_empty() {
        println!(
            "Seeded {SEED_ORDERS} demo orders into {}. Try one of these at http://{}/ :",
            data_dir.display(),
            site.addr
        );
        for o in &site.samples {
            println!("  order {:<8} email {}", o.name, o.email);
        }
    }
    if let Some((name, password)) = site.demo_staff {
        println!(
            "Staff console: http://{}/staff  name {name}  password {password}  (a demo account: remove it with `order-status staff remove {name}`)",
            site.addr
        );
    }
    let shutdown = shutdown_signal();
    println!("order-status is listening on http://{}/", site.addr);
    site.serve(shutdown).await?;
    Ok(())
}

/// The store options of a command that changes orders without serving
/// (`import`, `sync`, `webhooks replay`): emails their changes cause are
/// queued all the same, and go out when the site next runs.
fn offline_store_options(config: &Config, base: StoreOptions) -> anyhow::Result<StoreOptions> {
    anyhow::ensure!(
        !config.replicate.on(),
        "this command changes one data dir, and replicas take their orders from the stream only: run it without replication settings against a stopped single node, or, with replicas, let their background sync and webhooks do it (`import` publishes to the stream)"
    );
    let optouts = Arc::new(OptOuts::open(&config.data_dir)?);
    Ok(crate::notify::store_options(config, &optouts, base))
}

/// Ctrl-C or SIGTERM. The handlers are installed when this is called, not
/// when the future is first polled, which is once the site serves: a
/// SIGTERM sent between "listening" and that poll (a supervisor, a test)
/// would meet the default action and kill the server mid-start. CI once
/// saw the server die by SIGTERM in `sigterm_finishes_cleanly_and_quickly`;
/// this window is the one found that could do it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (interrupt, term) = {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind: SignalKind, name: &'static str| {
            let stream = signal(kind);
            async move {
                match stream {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(e) => {
                        tracing::error!(error = %crate::errors::chain(&e), "cannot listen for {name}");
                        std::future::pending::<()>().await;
                    }
                }
            }
        };
        (
            listen(SignalKind::interrupt(), "Ctrl-C"),
            listen(SignalKind::terminate(), "SIGTERM"),
        )
    };
    #[cfg(not(unix))]
    let (interrupt, term) = (
        async {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::error!(error = %crate::errors::chain(&e), "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
        },
        std::future::pending::<()>(),
    );
    async move {
        tokio::select! {
            () = interrupt => {}
            () = term => {}
        }
        tracing::info!("shutdown requested");
    }
}

/// The configured shops with API credentials, optionally just one.
fn shops_with_api(
    config: &Config,
    only: Option<&str>,
) -> anyhow::Result<Vec<std::sync::Arc<crate::shopify::client::ShopApi>>> {
    let apis = Apis::new(config, CallOptions::default())?;
    let mut shops: Vec<_> = config
        .shopify
        .iter()
        .filter(|s| only.is_none_or(|d| s.domain.eq_ignore_ascii_case(d)))
        .collect();
    anyhow::ensure!(
        !shops.is_empty(),
        "no Shopify shop configured{}: set ORDER_STATUS_SHOPIFY_SHOP and its credentials (see the README)",
        only.map(|d| format!(" called {d}")).unwrap_or_default()
    );
    shops.sort_by(|a, b| a.domain.cmp(&b.domain));
    shops
        .into_iter()
        .map(|s| {
            apis.get(&s.domain).cloned().ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: no Admin API credentials: set ORDER_STATUS_SHOPIFY_CLIENT_ID and ORDER_STATUS_SHOPIFY_CLIENT_SECRET (a Dev Dashboard app) or ORDER_STATUS_SHOPIFY_ACCESS_TOKEN",
                    s.domain
                )
            })
        })
        .collect()
}
