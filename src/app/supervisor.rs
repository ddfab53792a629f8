//! The one owner of everything the site runs besides answering requests.
//!
//! Two kinds of work:
//!
//! - **Services** ([`Supervisor::service`], [`Supervisor::service_with_stop`]):
//!   loops for the life of the site (the Shopify sync, write-back, the mail
//!   sender, replication's followers and watchers, the rate limiters'
//!   pruning). Each one retries its own failures inside (a failed sync
//!   round, NATS gone for a while), so a service that *ends* has met
//!   something it cannot get past, or panicked. Decided: the site then
//!   stops (logged with the service's name; exit code 1), because a site
//!   that goes on serving without its sync or its mail sender looks healthy
//!   while orders and emails silently stop; the service manager (systemd's
//!   `Restart=on-failure`, README) starts it afresh.
//! - **Jobs** ([`Tasks::spawn`]): work a request or the start starts and
//!   that ends by itself (a bulk status change, reading an order again
//!   after a webhook). Their failures are logged by the job; they never
//!   stop the site.
//!
//! On stop ([`Running::stop`]) the cancellation token is cancelled: every
//! service and job either finishes its step and returns (those given the
//! token) or is dropped at its next await; all of them get
//! [`STOP_TIMEOUT`] before the rest are aborted. Everything a job leaves
//! half done is resumable by design (bulk jobs save each batch; a refetch
//! is repeated by the next sync).

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long services and jobs (together) get to finish once the site
/// stops: with the server's 8 s for requests in flight and 2 s to close
/// the store, inside systemd's `TimeoutStopSec=15` (README).
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Starting the site's services; [`Supervisor::start`] hands them to a
/// watcher.
#[derive(Debug, Default)]
pub struct Supervisor {
    services: JoinSet<&'static str>,
    tasks: Tasks,
}

/// Where request handlers start jobs, and the site's stop signal. Cheap to
/// clone; part of the application state.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    stop: CancellationToken,
    jobs: TaskTracker,
}

impl Tasks {
    /// Runs `job` in the background until it ends or the site stops;
    /// the handle tells when it has (dropping it leaves the job running).
    pub fn spawn<F>(&self, job: F) -> tokio::task::JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = self.stop.clone();
        self.jobs.spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = job => {}
            }
        })
    }

    /// Resolves once the site has begun to stop.
    pub fn stopping(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.stop.clone().cancelled_owned()
    }

    /// Whether the site has begun to stop.
    pub fn is_stopping(&self) -> bool {
        self.stop.is_cancelled()
    }
}

impl Supervisor {
    /// The job handle that goes into the application state.
    pub fn tasks(&self) -> Tasks {
        self.tasks.clone()
    }

    /// A service that is simply dropped when the site stops (a loop whose
    /// every step may be cut short: the next start repeats it).
    pub fn service<F>(&mut self, name: &'static str, service: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = self.tasks.stop.clone();
        self.services.spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = service => {}
            }
            name
        });
    }

    /// A service that stops by itself when the token it is given is
    /// cancelled (finishing what it has in hand, e.g. the mail sender's
    /// message on the wire), within [`STOP_TIMEOUT`].
    pub fn service_with_stop<F, Fut>(&mut self, name: &'static str, service: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let work = service(self.tasks.stop.clone());
        self.services.spawn(async move {
            work.await;
            name
        });
    }

    /// Hands the services to a watcher that stops the site when one ends
    /// before it was asked to.
    pub fn start(self) -> Running {
        let Supervisor {
            mut services,
            tasks,
        } = self;
        let stop = tasks.stop.clone();
        let watcher = tokio::spawn(async move {
            let failed = tokio::select! {
                biased;
                () = stop.cancelled() => None,
                ended = services.join_next() => match ended {
                    None => {
                        // No services at all: wait for the stop.
                        stop.cancelled().await;
                        None
                    }
                    // Ended because the stop came meanwhile: not a failure.
                    Some(Ok(_)) if stop.is_cancelled() => None,
                    Some(ended) => {
                        let what = describe(ended);
                        tracing::error!(service = %what, "a service of the site ended; the site stops (its service manager should start it again)");
                        stop.cancel();
                        Some(what)
                    }
                },
            };
            let drained = tokio::time::timeout(STOP_TIMEOUT, async {
                while let Some(ended) = services.join_next().await {
                    if let Err(e) = ended
                        && e.is_panic()
                    {
                        tracing::error!(error = %crate::errors::chain(&e), "a service panicked while stopping");
                    }
                }
            })
            .await;
            if drained.is_err() {
                tracing::warn!(
                    "services still running {} s after the stop; aborted",
                    STOP_TIMEOUT.as_secs()
                );
                services.shutdown().await;
            }
            failed
        });
        Running {
            tasks,
            watcher: Some(watcher),
        }
    }
}

/// What ended, for the log: the service's name, or the panic.
fn describe(ended: Result<&'static str, tokio::task::JoinError>) -> String {
    match ended {
        Ok(name) => format!("{name} (ended)"),
        Err(e) if e.is_panic() => format!("a service panicked: {e}"),
        Err(e) => format!("a service was cancelled: {e}"),
    }
}

/// The site's services, running. Dropping it stops them without waiting.
#[derive(Debug)]
pub struct Running {
    tasks: Tasks,
    watcher: Option<tokio::task::JoinHandle<Option<String>>>,
}

impl Running {
    /// Resolves when the site should stop because a service ended.
    pub fn failed(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.tasks.stopping()
    }

    /// Stops every service and job (each gets [`STOP_TIMEOUT`]); returns
    /// the service whose end stopped the site, if one did.
    pub async fn stop(mut self) -> Option<String> {
        self.tasks.stop.cancel();
        self.tasks.jobs.close();
        let watcher = self.watcher.take();
        let jobs = self.tasks.jobs.clone();
        // The watcher gives the services STOP_TIMEOUT; the jobs get the
        // same time, at the same time.
        let (failed, waited) = tokio::join!(
            async move {
                match watcher {
                    Some(w) => w
                        .await
                        .unwrap_or_else(|e| Some(format!("the supervisor: {e}"))),
                    None => None,
                }
            },
            tokio::time::timeout(STOP_TIMEOUT, jobs.wait()),
        );
        if waited.is_err() {
            tracing::warn!(
                jobs = self.tasks.jobs.len(),
                "background jobs still running after the stop; they resume at the next start"
            );
        }
        failed
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.tasks.stop.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn a_service_that_ends_stops_the_site_and_is_named() {
        let mut s = Supervisor::default();
        s.service("forever", std::future::pending());
        s.service("short-lived", async {});
        let running = s.start();
        tokio::time::timeout(Duration::from_secs(5), running.failed())
            .await
            .expect("the site is told to stop");
        let failed = running.stop().await.expect("a failure");
        assert!(failed.contains("short-lived"), "{failed}");
    }

    #[tokio::test]
    async fn a_panicking_service_stops_the_site() {
        let mut s = Supervisor::default();
        s.service("panics", async { panic!("boom") });
        let running = s.start();
        tokio::time::timeout(Duration::from_secs(5), running.failed())
            .await
            .expect("stop");
        let failed = running.stop().await.expect("a failure");
        assert!(failed.contains("boom"), "{failed}");
    }

    #[tokio::test]
    async fn a_stop_lets_services_finish_and_reports_no_failure() {
        let finished = Arc::new(AtomicBool::new(false));
        let mut s = Supervisor::default();
        let f = Arc::clone(&finished);
        s.service_with_stop("graceful", move |stop| async move {
            stop.cancelled().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            f.store(true, Ordering::SeqCst);
        });
        let tasks = s.tasks();
        let job_done = Arc::new(AtomicBool::new(false));
        let j = Arc::clone(&job_done);
        tasks.spawn(async move {
            j.store(true, Ordering::SeqCst);
        });
        let running = s.start();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(running.stop().await.is_none());
        assert!(
            finished.load(Ordering::SeqCst),
            "the service finished its step"
        );
        assert!(job_done.load(Ordering::SeqCst));
        assert!(tasks.is_stopping());
    }

    #[tokio::test]
    async fn jobs_are_dropped_at_the_stop_not_awaited_forever() {
        let s = Supervisor::default();
        let tasks = s.tasks();
        tasks.spawn(std::future::pending());
        let running = s.start();
        tokio::time::timeout(Duration::from_secs(5), running.stop())
            .await
            .expect("the stop does not wait for a job that never ends");
    }
}
