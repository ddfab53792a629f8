//! The composition root: [`App::build`] is the one place the site is
//! assembled from its configuration.
//!
//! It decides replication, opens the store, seeds the demo when asked to,
//! binds the listener, builds every shared part (links, sessions, the mail
//! sender, the Shopify clients, rate limiters, metrics) and starts every
//! background service under one [`supervisor::Supervisor`]. What it
//! returns, a [`Site`], is complete: nothing is set on the state after it
//! is built. `main`'s `serve`, the tests' servers and the in-process test
//! app all go through here, so what they run is what a merchant runs.
//!
//! Layers: this module sits on top of all the others. Request handlers in
//! `web` are given its [`AppState`] (an `Arc` of [`App`]), as an axum
//! application's handlers are given the state its root builds; nothing
//! else imports it.

mod shopify_jobs;
pub mod supervisor;

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::Utc;
use thiserror::Error;

use crate::actions::AuditLog;
use crate::actions::bulk::Jobs;
use crate::config::Config;
use crate::i18n::Catalog;
use crate::ingest::shopify::SyncStatus;
use crate::ingest::shopify::deadletter::{DeadLetters, SeenDeliveries};
use crate::ingest::shopify::inbox::Inbox;
use crate::ingest::shopify::sync;
use crate::insights::DayCounters;
use crate::links::{self, LinkKey, Links};
use crate::notify::{Composer, OptOuts, Sender, Transport};
use crate::order::Order;
use crate::shopify::Apis;
use crate::shopify::client::CallOptions;
use crate::staff::{Accounts, DEMO_STAFF, Sessions, SharedAccounts};
use crate::store::{LinkEpochs, Store, StoreOptions};
use crate::web::{self, AddressBudget, Assets, Limiters, Metrics};
use shopify_jobs::JobsGate;
use supervisor::{Running, Supervisor, Tasks};

/// Everything a request handler may need, built once by [`App::build`].
#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub store: Store,
    pub assets: Assets,
    pub links: Arc<Links>,
    pub catalog: Arc<Catalog>,
    pub limiters: Limiters,
    pub sessions: Sessions,
    pub epochs: Arc<LinkEpochs>,
    /// The Admin API clients of the shops with credentials.
    pub shopify: Apis,
    /// Webhook deliveries applied recently (duplicates are skipped).
    pub seen_deliveries: SeenDeliveries,
    /// Webhook deliveries kept because they could not be applied.
    pub dead_letters: DeadLetters,
    /// Webhook deliveries taken (on disk) and not yet applied.
    pub webhook_inbox: Arc<Inbox>,
    pub metrics: Metrics,
    pub sync_status: SyncStatus,
    /// Status emails: the outbox's sender (and its composer and transport).
    pub mail: Arc<Sender>,
    /// Addresses that opted out of every order email.
    pub optouts: Arc<OptOuts>,
    /// Day counters of shopper activity (the insights page).
    pub insights: Arc<DayCounters>,
    /// `/link` requests per email address.
    pub link_budget: AddressBudget,
    /// Who did what to which order.
    pub audit: AuditLog,
    /// Bulk status changes.
    pub jobs: Jobs,
    /// Where handlers start background jobs (bulk changes, refetches).
    pub tasks: Tasks,
    /// How this replica follows the replication stream (with
    /// `--replicate` only).
    pub replica: Option<Arc<crate::replicate::ReplicaStatus>>,
    /// Budgets and lockouts shared by replicas (with `--replicate` only).
    pub shared_limits: Option<crate::replicate::SharedLimits>,
    /// Staff accounts shared by replicas (with `--replicate` only).
    pub shared_accounts: Option<Arc<dyn SharedAccounts>>,
}

/// The state every handler is given: one [`App`] behind an `Arc`, so a
/// clone per request or layer copies a pointer.
#[derive(Debug, Clone)]
pub struct AppState(Arc<App>);

impl std::ops::Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

/// Why the site could not be assembled or stopped with an error.
#[derive(Debug, Error)]
pub enum AppError {
    #[error("the data dir {dir}: {source}")]
    DataDir {
        dir: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Replicate(#[from] crate::replicate::ReplicateError),
    #[error(transparent)]
    Staff(#[from] crate::staff::StaffError),
    #[error(transparent)]
    Mail(#[from] crate::notify::NotifyError),
    #[error(transparent)]
    Insights(#[from] crate::insights::counters::CounterError),
    #[error(transparent)]
    Links(#[from] links::LinkError),
    #[error(transparent)]
    Shopify(#[from] crate::shopify::client::ApiError),
    #[error("translations: {0}")]
    Translations(String),
    #[error("metrics")]
    Metrics(#[source] prometheus::Error),
    #[error("starting the {what}")]
    Start {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Serve(#[from] web::ServeError),
    #[error("a service of the site ended: {0}")]
    ServiceEnded(String),
}

/// An assembled site, listening but not yet answering: [`Site::serve`]
/// answers requests until it is told to stop. Dropping it stops its
/// services.
#[derive(Debug)]
pub struct Site {
    state: AppState,
    listener: tokio::net::TcpListener,
    open_files: u64,
    running: Running,
    /// Where it listens (the port chosen, for port 0).
    pub addr: SocketAddr,
    /// The demo orders worth trying, when it seeded the demo just now.
    pub samples: Vec<Order>,
    /// The demo staff account it created, if it did.
    pub demo_staff: Option<(&'static str, &'static str)>,
}

impl App {
    /// Assembles the site for `config`: everything `serve` runs. Returns
    /// once it listens, its keys and accounts are on disk and its services
    /// run.
    pub async fn build(mut config: Config) -> Result<Site, AppError> {
        // Before anything opens files: sockets and index segments share it.
        let open_files = web::raise_open_file_limit();
        // Pages render through leptos_axum, whose tasks run on tokio (set
        // once per process; a second site in the same process, as in the
        // tests, finds it set).
        let _ = any_spawner::Executor::init_custom_executor(crate::web::Spawner);
        let data_dir = config.data_dir.to_path_buf();
        let dir_error = |source| AppError::DataDir {
            dir: data_dir.clone(),
            source,
        };
        // Sent emails (working links), opt-outs and the index are nobody
        // else's business: private before anything is written.
        crate::files::make_private(&config.data_dir).map_err(dir_error)?;
        let optouts = Arc::new(OptOuts::open(&config.data_dir)?);
        let store = Store::open(
            &config.data_dir,
            crate::notify::store_options(
                &config,
                &optouts,
                StoreOptions {
                    commits_apart: *config.commit_interval,
                    ..StoreOptions::default()
                },
            ),
        )?;
        let replication = if config.replicate.on() {
            Some(crate::replicate::start(&config.replicate, &config.data_dir, &store).await?)
        } else {
            None
        };
        // A replica's orders come from the stream: an empty one is not a
        // new demo, it has not caught up yet.
        let (samples, demo_staff) =
            if config.seeds_demo() && store.count() == 0 && replication.is_none() {
                seed_demo(&store, &config).await?
            } else {
                (Vec::new(), None)
            };
        if Accounts::load(&config.data_dir)?.exists(DEMO_STAFF.0) {
            tracing::warn!(
                "the demo staff account `{}` (password `{}`) exists: anyone who reads the README can sign in; remove it with `order-status staff remove {}` once you have an account of your own",
                DEMO_STAFF.0,
                DEMO_STAFF.1,
                DEMO_STAFF.0
            );
        }
        let listener = tokio::net::TcpListener::bind(*config.addr)
            .await
            .map_err(|source| AppError::Bind {
                addr: *config.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| AppError::Bind {
            addr: *config.addr,
            source,
        })?;
        // Port 0 asked for any port: links in emails need the one we got.
        config.addr = crate::config::ListenAddr(addr);
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
        let links = Arc::new(Links::new(link_keys(&config)?)?);
        let catalog = Arc::new(config.merchant.catalog().map_err(AppError::Translations)?);
        let epochs = Arc::new(LinkEpochs::open(&config.data_dir)?);
        let seen_deliveries =
            SeenDeliveries::open(&config.data_dir, Utc::now()).map_err(dir_error)?;
        let (webhook_inbox, taken_before) = Inbox::open(&config.data_dir).map_err(dir_error)?;
        let composer = Composer::new(
            &config,
            Arc::clone(&links),
            Arc::clone(&epochs),
            Arc::clone(&catalog),
        );
        let transport = Transport::from_config(&config.mail, &config.data_dir)?;
        let insights = Arc::new(DayCounters::open(&config.data_dir)?);
        let mail = Sender::new(
            &config,
            store.clone(),
            composer,
            transport,
            Arc::clone(&optouts),
            Arc::clone(&insights),
        )?;
        let (sessions, shared_accounts) = match &replication {
            Some(r) => {
                let accounts = r.shared_accounts();
                let key = shared_session_key(&accounts, &config).await?;
                let sessions = match Sessions::with_key(&key) {
                    Some(s) => s,
                    // `shared_session_key` hands out 32 bytes or more;
                    // should that ever fail, this replica's own key.
                    None => Sessions::open(&config.data_dir)?,
                };
                (sessions, Some(accounts))
            }
            None => (Sessions::open(&config.data_dir)?, None),
        };

        let mut supervisor = Supervisor::default();
        let limiters = Limiters::new(&config);
        supervisor.service(
            "pruning the rate limiters",
            limiters.clone().prune_every_minute(),
        );
        let audit = AuditLog::new(&config.data_dir);
        let jobs = Jobs::new(&config.data_dir);
        // With replicas, one replica at a time runs what must run once:
        // the Shopify jobs and the bulk changes.
        let mut lease = None;
        if let Some(r) = &replication {
            audit.set_shared(r.shared_audit());
            jobs.set_shared(r.shared_jobs());
            let (holds, task) = r.jobs_lease();
            supervisor.service("holding the jobs lease", task);
            lease = Some(holds);
            supervisor.service("sharing webhook claims", r.share_seen(&seen_deliveries));
            supervisor.service("following the replication stream", r.follow(store.clone()));
            supervisor.service("sharing link epochs", r.share_epochs(Arc::clone(&epochs)));
            supervisor.service("sharing the email outbox", r.share_outbox(&mail));
            supervisor.service("sharing opt-outs", r.share_optouts(Arc::clone(&optouts)));
            supervisor.service(
                "sharing insight counters",
                r.share_counters(Arc::clone(&insights)),
            );
        }
        if apis.all().next().is_some() {
            let gate = match &lease {
                Some(holds) => JobsGate::leased(holds.clone()),
                None => JobsGate::default(),
            };
            supervisor.service(
                "syncing with Shopify",
                shopify_jobs::sync_periodically(
                    store.clone(),
                    config.data_dir.to_path_buf(),
                    apis.clone(),
                    sync_status.clone(),
                    gate.clone(),
                    *config.sync_interval,
                    replication.as_ref().map(|r| r.shared_checkpoints()),
                ),
            );
            if shopify_jobs::writes_back(&apis) {
                supervisor.service(
                    "writing statuses back to Shopify",
                    shopify_jobs::write_back_statuses(store.clone(), apis.clone(), gate),
                );
            }
        }
        // The sender's CPU work (composing, TLS, its reads of the outbox)
        // on a thread of its own at a lower priority: pages first.
        let ended = crate::background::spawn(
            "mail-sender",
            Arc::clone(&mail).run(supervisor.tasks().stopping()),
        )
        .map_err(|source| AppError::Start {
            what: "mail sender",
            source,
        })?;
        supervisor.service_with_stop("sending status emails", |_| async move {
            let _ = ended.await;
        });
        // Counted in memory, stored every few seconds and once more at
        // the stop (requests in flight have finished by then).
        let counting = Arc::clone(&insights);
        supervisor.service_with_stop("storing insight counters", |stopping| {
            counting.run(stopping.cancelled_owned())
        });

        let state = AppState(Arc::new(App {
            link_budget: AddressBudget::new(config.mail.link_per_address),
            audit,
            jobs,
            assets: Assets::new(&config),
            dead_letters: DeadLetters::new(&config.data_dir),
            metrics: Metrics::new().map_err(AppError::Metrics)?,
            tasks: supervisor.tasks(),
            replica: replication.as_ref().map(|r| Arc::clone(&r.status)),
            shared_limits: replication.as_ref().map(|r| r.shared_limits()),
            shared_accounts,
            store,
            links,
            catalog,
            limiters,
            sessions,
            epochs,
            shopify: apis,
            seen_deliveries,
            webhook_inbox: Arc::new(webhook_inbox),
            sync_status,
            mail,
            optouts,
            insights,
            config,
        }));
        // Deliveries answered before the last stop and not yet applied.
        state
            .tasks
            .spawn(web::apply_taken(state.clone(), taken_before));
        match lease {
            // The cluster's bulk changes, run by the lease holder.
            Some(holds) => supervisor.service(
                "running the cluster's bulk changes",
                web::run_shared_bulk_jobs(state.clone(), holds),
            ),
            // Bulk status changes that were running when the process
            // stopped go on from their last saved batch.
            None => {
                for id in state.jobs.unfinished().await {
                    tracing::info!(job = %id, "resuming a bulk status change");
                    web::spawn_bulk_job(&state, id, Arc::new(|| true));
                }
            }
        }
        Ok(Site {
            running: supervisor.start(),
            state,
            listener,
            open_files,
            addr,
            samples,
            demo_staff,
        })
    }
}

impl Site {
    /// The assembled state (for tests that drive the router in-process).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The whole site's router over this state.
    pub fn router(&self) -> axum::Router {
        web::router(self.state.clone())
    }

    /// Answers requests until `shutdown` resolves or a service ends; then
    /// stops accepting, lets requests in flight finish, stops the services
    /// and closes the store.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        let Site {
            state,
            listener,
            open_files,
            running,
            ..
        } = self;
        let failed = running.failed();
        let stop = async move {
            tokio::select! {
                () = shutdown => {}
                () = failed => {}
            }
        };
        let served = web::serve(listener, state.clone(), open_files, stop).await;
        let failure = running.stop().await;
        // The writer stops once the last handle to the store is gone; the
        // state holds one, so it goes first.
        let store = state.store.clone();
        drop(state);
        store.close(std::time::Duration::from_secs(2)).await;
        tracing::info!("stopped");
        served?;
        match failure {
            Some(what) => Err(AppError::ServiceEnded(what)),
            None => Ok(()),
        }
    }
}

/// The keys status links are signed and checked with: the configured ones
/// (or the one generated in the data dir), and each shop's Liquid key.
fn link_keys(config: &Config) -> Result<Vec<LinkKey>, links::LinkError> {
    let mut keys: Vec<LinkKey> = config.link_keys().cloned().collect();
    if keys.is_empty() {
        keys.push(links::load_or_create_key(&config.data_dir)?);
    }
    // Links built by the shops' notification templates (Liquid).
    for shop in &config.shopify {
        if let Some(secret) = &shop.link_secret {
            keys.push(LinkKey::for_shop(&shop.domain, secret.as_bytes())?);
        }
    }
    Ok(keys)
}

/// Seeds the built-in demo into an empty store, and the demo staff account
/// when there is no account yet.
async fn seed_demo(
    store: &Store,
    config: &Config,
) -> Result<(Vec<Order>, Option<(&'static str, &'static str)>), AppError> {
    let samples = crate::ingest::demo::seed(store, &config.shop.domain, Utc::now()).await?;
    let added = Accounts::change_file(&config.data_dir, |accounts| {
        if accounts.all().is_empty() {
            let (name, password) = DEMO_STAFF;
            accounts.add(name, password)?;
            return Ok(true);
        }
        Ok(false)
    })?;
    Ok((samples, added.then_some(DEMO_STAFF)))
}

/// The staff session key every replica shares. Long enough a wait for a
/// NATS cluster that is just starting to elect its leaders; without NATS
/// the site still serves (reads go on), its staff sessions its own until
/// it starts with NATS again.
async fn shared_session_key(
    accounts: &Arc<dyn SharedAccounts>,
    config: &Config,
) -> Result<Vec<u8>, AppError> {
    let local = Sessions::secret(&config.data_dir)?;
    let wait = std::time::Duration::from_secs(30);
    Ok(
        match tokio::time::timeout(wait, accounts.session_key(local.clone())).await {
            Ok(Ok(k)) => k,
            Ok(Err(e)) => {
                tracing::warn!(error = %crate::errors::chain(&e), "the shared session key cannot be read; using this replica's own");
                local
            }
            Err(_) => {
                tracing::warn!(
                    "NATS did not answer for the shared session key; using this replica's own"
                );
                local
            }
        },
    )
}
