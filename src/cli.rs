//! The subcommands behind `main`: what each one does, with the terminal
//! output (progress bars, summaries) that only a command line needs.
//! `anyhow` is used here and in `main` only: this is the edge.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::ingest::shopify::deadletter::DeadLetters;
use crate::ingest::shopify::sync::{self, BulkMode, SyncOptions};
use crate::ingest::shopify::webhooks::{Delivery, Plan};
use crate::ingest::{demo, ndjson};
use crate::notify::{self, OptOuts};
use crate::order::Order;
use crate::shopify::client::CallOptions;
use crate::shopify::{Apis, check};
use crate::staff::{Accounts, Role};
use crate::store::{Store, StoreOptions};
use crate::web::{self, AppState, SyncStatus};

/// The demo staff account `serve` creates alongside the demo orders.
pub use crate::staff::DEMO_STAFF;

/// How many demo orders `serve` seeds into an empty store.
pub const SEED_ORDERS: u64 = 3_000;
/// The seed of the built-in demo, so every new install shows the same orders.
pub const SEED: u64 = 42;

/// The store's tuning for commands that write many orders at once
/// (`import`, `sync`): more indexing threads and memory than a server.
pub const BATCH_STORE_OPTIONS: StoreOptions = StoreOptions {
    writer_threads: 2,
    writer_memory: 128 << 20,
    on_write: None,
    random_reads: false,
    merge_factor: 16,
    merge_max_orders: 10_000_000,
};

/// What a server that has started tells whoever started it.
#[derive(Debug, Clone)]
pub struct Started {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// The demo orders worth trying, when it seeded the demo just now.
    pub samples: Vec<Order>,
    /// The demo staff account it created, if it did.
    pub demo_staff: Option<(&'static str, &'static str)>,
}

/// `order-status serve`: seed demo data into an empty store if configured
/// to, then serve until Ctrl-C / SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    run(config, shutdown_signal(), move |s| {
        if !s.samples.is_empty() {
            println!(
                "Seeded {SEED_ORDERS} demo orders into {}. Try one of these at http://{}/ :",
                data_dir.display(),
                s.addr
            );
            for o in &s.samples {
                println!("  order {:<8} email {}", o.name, o.email);
            }
        }
        if let Some((name, password)) = s.demo_staff {
            println!(
                "Staff console: http://{}/staff  name {name}  password {password}  (a demo account: remove it with `order-status staff remove {name}`)",
                s.addr
            );
        }
        println!("order-status is listening on http://{}/", s.addr);
    })
    .await
}

/// Everything `serve` does, until `shutdown` resolves: opens the store,
/// seeds the demo if asked to, binds, starts the background sync, and
/// serves. `started` is called once the site is ready for requests (keys
/// and accounts on disk). Tests run servers in-process through this.
pub async fn run(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    started: impl FnOnce(&Started),
) -> anyhow::Result<()> {
    // Before anything opens files: sockets and index segments share it.
    let open_files = web::raise_open_file_limit();
    // Sent emails (working links), opt-outs and the index are nobody
    // else's business: private before anything is written.
    crate::files::make_private(&config.data_dir)?;
    let optouts = Arc::new(OptOuts::open(&config.data_dir)?);
    let store = Store::open(
        &config.data_dir,
        mail_store_options(&config, &optouts, StoreOptions::default()),
    )?;
    let replication = if config.replicate.on() {
        Some(crate::replicate::start(&config.replicate, &config.data_dir, &store).await?)
    } else {
        None
    };
    let following = replication.as_ref().map(|r| r.follow(store.clone()));
    let mut samples = Vec::new();
    let mut demo_staff = None;
    // A replica's orders come from the stream: an empty one is not a new
    // demo, it has not caught up yet.
    if config.seed_demo && store.count() == 0 && replication.is_none() {
        samples = seed_demo(&store, &config.shop.domain, Utc::now()).await?;
        let added = Accounts::change_file(&config.data_dir, |accounts| {
            if accounts.all().is_empty() {
                let (name, password) = DEMO_STAFF;
                accounts.add(name, password)?;
                return Ok(true);
            }
            Ok(false)
        })?;
        if added {
            demo_staff = Some(DEMO_STAFF);
        }
    }
    if Accounts::load(&config.data_dir)?.exists(DEMO_STAFF.0) {
        tracing::warn!(
            "the demo staff account `{}` (password `{}`) exists: anyone who reads the README can sign in; remove it with `order-status staff remove {}` once you have an account of your own",
            DEMO_STAFF.0,
            DEMO_STAFF.1,
            DEMO_STAFF.0
        );
    }
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| web::ServeError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr()?;
    // Port 0 asked for any port: links in emails need the one we got.
    let mut config = config;
    config.addr = addr;
    tracing::info!(%addr, orders = store.count(), "serving");
    if config.public_url.is_none() && !addr.ip().is_loopback() {
        tracing::warn!(
            "public_url is not set: links the site hands out (shared by staff, in emails) will point at {addr}; set ORDER_STATUS_PUBLIC_URL to the address shoppers use"
        );
    }
    let sync_status = SyncStatus::default();
    for shop in &config.shopify {
        // Resume readiness reporting from the last finished sync on disk.
        if let Ok(cp) = sync::load_checkpoint(&config.data_dir, &shop.domain)
            && let Some(t) = cp.finished_at
        {
            sync_status.succeeded(&shop.domain, t);
        }
    }
    let apis = Apis::new(&config, CallOptions::default())?;
    let (gate, leasing) = match &replication {
        Some(r) => {
            let (rx, task) = r.jobs_lease();
            (JobsGate(Some(rx)), Some(task))
        }
        None => (JobsGate(None), None),
    };
    let syncing = spawn_background_sync(&config, &store, &apis, &sync_status, &gate);
    let reconciling = spawn_status_write_back(&store, &apis, &gate);
    let mut state = AppState::new(config, store.clone(), apis, sync_status, optouts)?;
    let sharing = replication.as_ref().map(|r| {
        state.replica = Some(Arc::clone(&r.status));
        state.shared_limits = Some(Arc::new(r.shared_limits()));
        r.share_epochs(Arc::clone(&state.epochs))
    });
    let offering = replication.as_ref().map(|r| r.share_outbox(&state.mail));
    let opting = replication
        .as_ref()
        .map(|r| r.share_optouts(Arc::clone(&state.optouts)));
    if let Some(r) = &replication {
        let accounts = r.shared_accounts();
        let local = crate::staff::Sessions::secret(&state.config.data_dir)?;
        // Long enough for a NATS cluster that is just starting to elect
        // its leaders; a replica without NATS is not ready meanwhile.
        let wait = std::time::Duration::from_secs(30);
        // Without NATS the site still serves (reads go on); its staff
        // sessions are then its own until it starts with NATS again.
        let key = match tokio::time::timeout(wait, accounts.session_key(local.clone())).await {
            Ok(Ok(k)) => k,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the shared session key cannot be read; using this replica's own");
                local
            }
            Err(_) => {
                tracing::warn!(
                    "NATS did not answer for the shared session key; using this replica's own"
                );
                local
            }
        };
        state.sessions = crate::staff::Sessions::with_key(&key);
        state.shared_accounts = Some(accounts);
    }
    state.resume_bulk_changes();
    let (stop_mail, mail_stopped) = tokio::sync::oneshot::channel::<()>();
    // The sender's CPU work (composing, TLS, its reads of the outbox) on
    // a thread of its own at a lower priority: pages first.
    let mailing = crate::background::spawn(
        "mail-sender",
        Arc::clone(&state.mail).run(async {
            let _ = mail_stopped.await;
        }),
    )?;
    started(&Started {
        addr,
        samples,
        demo_staff,
    });
    let served = web::serve(listener, state, open_files, shutdown).await;
    let _ = stop_mail.send(());
    let _ = mailing.await;
    served?;
    for task in [
        syncing,
        reconciling,
        following,
        sharing,
        offering,
        opting,
        leasing,
    ]
    .into_iter()
    .flatten()
    {
        task.abort();
        let _ = task.await;
    }
    store.close(std::time::Duration::from_secs(2)).await;
    tracing::info!("stopped");
    Ok(())
}

/// `base` with the write hook that queues status emails in the same
/// commit as the order changes that cause them.
pub fn mail_store_options(
    config: &Config,
    optouts: &Arc<OptOuts>,
    base: StoreOptions,
) -> StoreOptions {
    StoreOptions {
        on_write: Some(notify::hook(config, Arc::clone(optouts))),
        ..base
    }
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
    Ok(mail_store_options(config, &optouts, base))
}

/// `order-status mail test --to ADDRESS`: connects, authenticates and
/// sends one message through the configured transport, saying which step
/// failed if one does. Returns whether the message was accepted.
pub async fn mail_test(config: &Config, to: &str) -> anyhow::Result<bool> {
    use crate::config::MailTransport;
    let Ok(to) = to.trim().parse::<lettre::message::Mailbox>() else {
        println!("{to:?} is not an email address.");
        return Ok(false);
    };
    let transport = notify::Transport::from_config(&config.mail, &config.data_dir)?;
    match &config.mail.transport {
        Some(MailTransport::Smtp(url)) => println!(
            "Transport: SMTP {}",
            crate::logsafe::url_without_password(url.expose())
        ),
        _ => println!(
            "Transport: files in {} (set ORDER_STATUS_SMTP_URL to send real email)",
            transport
                .dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default()
        ),
    }
    if let Err(e) = transport.check().await {
        println!("Cannot reach the mail server (connect, TLS or sign-in failed): {e}");
        return Ok(false);
    }
    println!("Connected.");
    let links =
        crate::links::Links::new(vec![crate::links::load_or_create_key(&config.data_dir)?])?;
    let composer = notify::Composer::new(
        config,
        Arc::new(links),
        Arc::new(crate::store::LinkEpochs::open(&config.data_dir)?),
        Arc::new(config.merchant.catalog().map_err(anyhow::Error::msg)?),
    );
    let message = composer.test_message(to.clone())?;
    let name = format!("{}-test", Utc::now().format("%Y%m%dT%H%M%S"));
    match transport.send(&message, &name).await {
        Ok(()) => {
            println!("Sent: the server accepted the test message to {to}.");
            Ok(true)
        }
        Err(e) => {
            println!("Not sent: {e}");
            Ok(false)
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutdown requested");
}

/// While serving, reconcile every shop with API credentials every
/// `sync_interval` (webhooks can be lost), starting right away.
/// How often statuses that Shopify's tags do not say yet are written back.
const WRITE_BACK_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// Whether this process runs the Shopify jobs now: always alone, and with
/// replicas while it holds the jobs lease (`replicate::lease`).
#[derive(Clone)]
struct JobsGate(Option<tokio::sync::watch::Receiver<bool>>);

impl JobsGate {
    fn open(&self) -> bool {
        self.0.as_ref().is_none_or(|rx| *rx.borrow())
    }
}

/// For shops with write-back on: writes back, every [`WRITE_BACK_EVERY`],
/// the statuses set where no Shopify call can be made (automatic rules,
/// inside the store's writer) or left half-written by a failure.
fn spawn_status_write_back(
    store: &Store,
    apis: &Apis,
    gate: &JobsGate,
) -> Option<tokio::task::JoinHandle<()>> {
    if !apis.all().any(|a| a.shop().write_back) {
        return None;
    }
    let (store, apis, gate) = (store.clone(), apis.clone(), gate.clone());
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(WRITE_BACK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !gate.open() {
                continue;
            }
            let n = crate::actions::write_back::reconcile(&store, &apis).await;
            if n > 0 {
                tracing::info!(orders = n, "statuses written back to Shopify");
            }
        }
    }))
}

/// Shipments a server's periodic sync completes per run after a bulk
/// backfill (about 24 queries; by Shopify's published 100 points a second
/// on a standard plan, a few minutes of the bucket, worked out, not
/// measured), so the run still gets to paging what changed; `order-status
/// sync` reads them all.
const SERVER_PARCELS_PER_RUN: u64 = 1_000;

fn spawn_background_sync(
    config: &Config,
    store: &Store,
    apis: &Apis,
    status: &SyncStatus,
    gate: &JobsGate,
) -> Option<tokio::task::JoinHandle<()>> {
    let shops: Vec<_> = apis.all().cloned().collect();
    if shops.is_empty() {
        return None;
    }
    let (store, data_dir, every) = (store.clone(), config.data_dir.clone(), config.sync_interval);
    let (status, mut gate) = (status.clone(), gate.clone());
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // A replica that has just taken the lease syncs at once.
            match gate.0.as_mut() {
                Some(rx) if !*rx.borrow() => {
                    if rx.wait_for(|holds| *holds).await.is_err() {
                        return;
                    }
                    tick.reset();
                }
                _ => {
                    tick.tick().await;
                }
            }
            if !gate.open() {
                continue;
            }
            for api in &shops {
                let domain = api.domain().to_string();
                let options = SyncOptions {
                    parcels_per_run: Some(SERVER_PARCELS_PER_RUN),
                    ..SyncOptions::default()
                };
                let result = sync::sync_shop(&store, &data_dir, api, None, options, |_| {}).await;
                status.version(&domain, api.version());
                match result {
                    Ok(r) => {
                        status.succeeded(&domain, Utc::now());
                        tracing::info!(shop = %domain, orders = r.orders, applied = r.written.applied, "sync finished");
                    }
                    Err(e) => {
                        status.failed(&domain, e.to_string());
                        tracing::error!(shop = %domain, error = %e, "sync failed; will retry next round");
                    }
                }
            }
        }
    }))
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

/// `order-status sync [--since DATE] [--shop DOMAIN]`: returns whether
/// every shop synced.
pub async fn sync(
    config: &Config,
    since: Option<DateTime<Utc>>,
    only: Option<&str>,
) -> anyhow::Result<bool> {
    sync_with(config, since, only, BulkMode::Auto).await
}

async fn sync_with(
    config: &Config,
    since: Option<DateTime<Utc>>,
    only: Option<&str>,
    bulk: BulkMode,
) -> anyhow::Result<bool> {
    let apis = shops_with_api(config, only)?;
    let store = Store::open(
        &config.data_dir,
        offline_store_options(config, BATCH_STORE_OPTIONS)?,
    )?;
    let mut all_ok = true;
    for api in apis {
        let domain = api.domain().to_string();
        let bar = ProgressBar::new_spinner().with_message(domain.clone());
        let started = std::time::Instant::now();
        let options = SyncOptions {
            bulk,
            ..SyncOptions::default()
        };
        let result = sync::sync_shop(&store, &config.data_dir, &api, since, options, |r| {
            bar.set_message(format!(
                "{domain}: {} orders ({} by bulk operation), {} shipments completed, {} pages",
                r.orders, r.bulk_orders, r.parcels, r.pages
            ));
            bar.tick();
        })
        .await;
        bar.finish_and_clear();
        let version = api.version();
        if version.mismatch() {
            eprintln!(
                "warning: {domain}: asked for API version {}, Shopify answered with {}: set ORDER_STATUS_SHOPIFY_API_VERSION to a supported version",
                version.asked,
                version.answered.as_deref().unwrap_or("?")
            );
        }
        match result {
            Ok(r) => println!(
                "{domain}: {} orders ({} through a bulk operation, {} read again, {} shipments' lines and scans read, {} pages) ({} written, {} older than stored, {} unchanged; {} calls retried, {} throttled) in {:.1} s; next sync from {}",
                r.orders,
                r.bulk_orders,
                r.refetched,
                r.parcels,
                r.pages,
                r.written.applied,
                r.written.stale,
                r.written.unchanged,
                r.retries,
                r.throttled,
                started.elapsed().as_secs_f64(),
                r.next_since
                    .map_or("the beginning".to_string(), |t| t.to_rfc3339())
            ),
            Err(e) => {
                eprintln!("error: {e}");
                all_ok = false;
            }
        }
    }
    Ok(all_ok)
}

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
                println!(
                    "{}:
  error: {e}",
                    api.domain()
                );
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
                println!("{}:\n  error: {e}", api.domain());
                all_ok = false;
            }
        }
    }
    if !all_ok {
        println!("Some of it was refused: `order-status shopify check` names the missing scopes.");
    }
    Ok(all_ok)
}

/// `order-status webhooks replay`: applies the dead letters again (the
/// server must be stopped: it owns the store); the ones that now apply are
/// removed. Returns whether all of them applied.
pub async fn webhooks_replay(config: &Config, only: Option<&str>) -> anyhow::Result<bool> {
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
                        .map_err(|e| e.to_string()),
                    Ok(false) => Err("Shopify still has this order".to_string()),
                    Err(e) => Err(e),
                }
            }
            Ok(Plan::Delete(keys)) => store
                .delete(keys)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Ok(Plan::DeleteShop) => store
                .delete_shop(&letter.shop)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
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
            .map_err(|e| e.to_string()),
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
        .map_err(|e| e.to_string())?;
    match key.rsplit('/').next().and_then(|s| s.parse().ok()) {
        Some(id) if r.unknown > 0 => replay_refetch(store, api, id).await,
        _ => Ok(()),
    }
}

/// Loads the built-in demo into `store` and returns three orders worth
/// trying (one on its way, a split shipment, one delivered).
pub async fn seed_demo(
    store: &Store,
    shop: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Order>> {
    let orders: Vec<Order> = (0..SEED_ORDERS)
        .map(|i| demo::order(SEED, i, now, shop))
        .collect();
    let samples = orders[..3].to_vec();
    for chunk in orders.chunks(1_000) {
        store.upsert(chunk.to_vec()).await?;
    }
    Ok(samples)
}

/// `order-status import FILE`: returns whether every line was imported.
pub async fn import(config: &Config, file: &Path) -> anyhow::Result<bool> {
    let f = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    // Beside running replicas: into their stream, not into a data dir.
    let store = if config.replicate.on() {
        crate::replicate::log_only_store(&config.replicate).await?
    } else {
        Store::open(
            &config.data_dir,
            offline_store_options(config, BATCH_STORE_OPTIONS)?,
        )?
    };
    // indicatif draws nothing when stderr is not a terminal.
    let bar = ProgressBar::new(len).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let report = ndjson::import(
        &store,
        BufReader::with_capacity(1 << 20, f),
        &config.shop.domain,
        |bytes| bar.set_position(bytes),
    )
    .await?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    for e in &report.errors {
        eprintln!("{}:{}: {}", file.display(), e.line, e.reason);
    }
    if report.failed > report.errors.len() {
        eprintln!(
            "... and {} more bad lines",
            report.failed - report.errors.len()
        );
    }
    if config.replicate.on() {
        println!(
            "Published {} orders from {} lines to the replication stream in {:.1} s; {} lines failed. Every replica applies them (its /readyz and /metrics say how far it is).",
            report.logged, report.lines, secs, report.failed,
        );
        return Ok(report.failed == 0);
    }
    println!(
        "Imported {} orders ({} older than the stored version and {} unchanged, skipped) from {} lines in {:.1} s ({:.0} orders/s); {} lines failed. The store has {} orders.",
        report.applied,
        report.stale,
        report.unchanged,
        report.lines,
        secs,
        (report.applied + report.stale + report.unchanged) as f64 / secs.max(1e-9),
        report.failed,
        store.count(),
    );
    Ok(report.failed == 0)
}

/// `order-status snapshot --out DIR`: the index as of its last commit,
/// taken while the server runs (see `store::snapshot`).
pub fn snapshot(config: &Config, out: &Path) -> anyhow::Result<()> {
    let s = crate::store::snapshot::take(&config.data_dir, out)?;
    let position = if s.log_seq > 0 {
        format!(
            "; it holds the replication stream up to entry {}: a replica started on it goes on from there",
            s.log_seq
        )
    } else {
        String::new()
    };
    println!(
        "Snapshot of {} orders in {}{position}. To start on it: stop the server, put it in place of {}, start the server.",
        s.orders,
        out.display(),
        config.data_dir.join("index").display()
    );
    Ok(())
}

/// `order-status export [--out FILE]`.
pub fn export(config: &Config, out: Option<&Path>) -> anyhow::Result<()> {
    let store = Store::open_read_only(&config.data_dir)
        .with_context(|| format!("no order index in {}", config.data_dir.display()))?;
    let sink: Box<dyn Write> = match out {
        Some(p) => {
            Box::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = BufWriter::with_capacity(1 << 20, sink);
    let n = store.for_each_order(|o| {
        serde_json::to_writer(&mut w, &o)?;
        w.write_all(b"\n")
    })?;
    w.flush()?;
    eprintln!("Exported {n} orders.");
    Ok(())
}

/// `order-status reindex`: a fresh index from a file or from Shopify; the
/// old one is moved aside, not deleted. Returns whether it all went in.
pub async fn reindex(
    config: &Config,
    from: Option<&Path>,
    from_shopify: bool,
) -> anyhow::Result<bool> {
    anyhow::ensure!(
        from.is_some() || from_shopify,
        "say where the orders come from: --from FILE (an export) or --from-shopify"
    );
    if let Some(f) = from {
        anyhow::ensure!(f.is_file(), "cannot read {}", f.display());
    }
    anyhow::ensure!(
        !config.replicate.on(),
        "a replica's index is rebuilt from the stream: stop it, move its data dir's index aside and start it again"
    );
    let index = config.data_dir.join("index");
    // Taking the writer lock first makes sure no server is using the data dir.
    drop(Store::open(&config.data_dir, StoreOptions::default())?);
    let aside = config
        .data_dir
        .join(format!("index.old-{}", Utc::now().format("%Y%m%dT%H%M%S")));
    if index.exists() {
        // The writer thread lets go of its lock once the handle is gone.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        std::fs::rename(&index, &aside)
            .with_context(|| format!("cannot move {} aside", index.display()))?;
        println!(
            "The old index is kept in {}; delete it once you are happy.",
            aside.display()
        );
    }
    if let Some(f) = from {
        return import(config, f).await;
    }
    for shop in &config.shopify {
        let cp = sync::checkpoint_path(&config.data_dir, &shop.domain);
        if cp.exists() {
            std::fs::remove_file(&cp).with_context(|| format!("cannot reset {}", cp.display()))?;
        }
    }
    sync_with(config, None, None, BulkMode::Always).await
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
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.addr));
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

/// A password from standard input: asked twice, without echo, on a
/// terminal; one line otherwise.
fn read_password(name: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {name}: "))?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(
            first == again,
            "the two passwords differ; nothing was changed"
        );
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }
}

fn parse_role(role: &str) -> anyhow::Result<Role> {
    Role::parse(role)
        .ok_or_else(|| anyhow::anyhow!("{role:?} is not a role: viewer, agent or admin"))
}

/// `order-status staff add NAME [--role ROLE]`: the first account is an
/// admin (someone must manage the others), later ones agents.
pub fn staff_add(config: &Config, name: &str, role: Option<&str>) -> anyhow::Result<()> {
    let role = role.map(parse_role).transpose()?;
    let password = read_password(name)?;
    let role = Accounts::change_file(&config.data_dir, |accounts| {
        let role = role.unwrap_or(if accounts.all().is_empty() {
            Role::Admin
        } else {
            Role::Agent
        });
        accounts.add_with_role(name, &password, role).map(|()| role)
    })?;
    println!("Added staff account {name} ({}).", role.as_str());
    Ok(())
}

/// `order-status staff role NAME ROLE`.
pub fn staff_role(config: &Config, name: &str, role: &str) -> anyhow::Result<()> {
    let role = parse_role(role)?;
    Accounts::change_file(&config.data_dir, |accounts| accounts.set_role(name, role))?;
    println!(
        "{name} is now {}; their sessions have ended.",
        role.as_str()
    );
    Ok(())
}

/// `order-status staff passwd NAME`: a new password; every session of the
/// account ends.
pub fn staff_passwd(config: &Config, name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        Accounts::load(&config.data_dir)?.exists(name),
        "there is no staff account called {name}"
    );
    let password = read_password(name)?;
    Accounts::change_file(&config.data_dir, |accounts| {
        accounts.set_password(name, &password)
    })?;
    println!("Changed the password of {name}; their sessions have ended.");
    Ok(())
}

/// `order-status staff remove NAME`.
pub fn staff_remove(config: &Config, name: &str) -> anyhow::Result<()> {
    Accounts::change_file(&config.data_dir, |accounts| accounts.remove(name))?;
    println!("Removed staff account {name}; their sessions have ended.");
    Ok(())
}

/// `order-status staff list`.
pub fn staff_list(config: &Config) -> anyhow::Result<()> {
    let accounts = Accounts::load(&config.data_dir)?;
    if accounts.all().is_empty() {
        println!("No staff accounts. Add one with `order-status staff add NAME`.");
    }
    for a in accounts.all() {
        println!(
            "{}\t{}\tadded {}",
            a.name,
            a.role.as_str(),
            a.created_at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    Ok(())
}

/// `order-status demo-data`: writes `count` demo orders as NDJSON.
pub fn demo_data(
    count: u64,
    seed: u64,
    out: Option<&PathBuf>,
    shop: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let sink: Box<dyn Write> = match out {
        Some(p) => {
            Box::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = BufWriter::with_capacity(1 << 20, sink);
    let bar = if out.is_some() {
        ProgressBar::new(count)
    } else {
        ProgressBar::hidden()
    };
    for i in 0..count {
        serde_json::to_writer(&mut w, &demo::order(seed, i, now, shop))?;
        w.write_all(b"\n")?;
        if i % 10_000 == 0 {
            bar.set_position(i);
        }
    }
    w.flush()?;
    bar.finish_and_clear();
    if let Some(p) = out {
        eprintln!("Wrote {count} demo orders to {}", p.display());
    }
    Ok(())
}
