//! The accept loop and the life of a connection, with what `axum::serve`
//! does not do: bounds on how many connections there are and how long one
//! may sit there.
//!
//! - **How many**: at most `limits.connections` at once in all (by default
//!   three quarters of the process's open-file limit, which is raised to
//!   its hard limit at start), and `limits.connections_per_client` from one
//!   client address (IPv6 by /64; trusted proxies are exempt, they carry
//!   everyone). One over gets a bare `503` and is closed at once, so one
//!   client holding every socket it can open cannot starve the others.
//! - **How long**: a connection must send its first byte within
//!   `limits.first_byte_timeout` (HTTP/1 or HTTP/2 alike: the protocol is
//!   not known yet); HTTP/1 headers must be complete within
//!   [`HEADER_READ_TIMEOUT`]; a connection with no request in flight and
//!   no bytes moving for `limits.idle_timeout` is closed (an idle h2c
//!   connection after its preface too). HTTP/2 pings an idle peer and
//!   allows [`H2_MAX_STREAMS`] streams at once.
//! - **Accept errors** (out of file descriptors) back off from 10 ms to a
//!   second instead of spinning.
//!
//! Each connection's peer address is put into its requests as
//! `ConnectInfo`, which the rate limiters key on. On shutdown the loop stops
//! accepting, every connection is asked to finish (idle ones close at once)
//! and requests in flight get [`DRAIN_TIMEOUT`].

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tower::ServiceExt;

use crate::config::{Limits, Network};

/// How long a client may take to send its request headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long requests in flight get to finish once shutdown begins.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(8);
/// How long a connection asked to close at shutdown may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle connection asked to close may take: nothing is in
/// flight, so this only covers HTTP/2's GOAWAY round trip, which a peer
/// that never answers would otherwise stretch to the full close timeout.
const IDLE_CLOSE_GRACE: Duration = Duration::from_secs(1);
/// HTTP/2 streams one connection may have open at once.
pub const H2_MAX_STREAMS: u32 = 64;
/// HTTP/2 keep-alive pings: how often on a quiet connection, and how long
/// to wait for the answer.
const H2_PING_EVERY: Duration = Duration::from_secs(20);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);

/// What bounds connections (from [`Limits`], with the automatic total
/// worked out).
#[derive(Debug, Clone)]
pub struct ConnLimits {
    pub total: usize,
    pub per_client: usize,
    pub first_byte: Duration,
    pub idle: Duration,
    pub trusted: Vec<Network>,
}

impl ConnLimits {
    /// From the configuration and the open-file limit in force.
    pub fn new(limits: &Limits, trusted: &[Network], open_files: u64) -> ConnLimits {
        let auto = usize::try_from(open_files / 4 * 3)
            .unwrap_or(usize::MAX)
            .clamp(64, 65_536);
        ConnLimits {
            total: match limits.connections.as_usize() {
                0 => auto,
                n => n,
            },
            per_client: limits.connections_per_client.as_usize(),
            first_byte: *limits.first_byte_timeout,
            idle: *limits.idle_timeout,
            trusted: trusted.to_vec(),
        }
    }
}

/// Raises the soft open-file limit to the hard one; returns the limit in
/// force (a guess of 1,024 if it cannot be read).
pub fn raise_open_file_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %crate::errors::chain(&e), "cannot raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .map(|(soft, _)| soft)
                .unwrap_or(1024)
        }
    }
}

/// Connections open now, in all and per client.
#[derive(Debug, Default)]
struct Tracker {
    total: AtomicUsize,
    per_client: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; counted until dropped.
struct Admitted {
    tracker: Arc<Tracker>,
    client: Option<IpAddr>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.tracker.total.fetch_sub(1, Ordering::AcqRel);
        if let Some(c) = self.client {
            let mut m = self
                .tracker
                .per_client
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(n) = m.get_mut(&c) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&c);
                }
            }
        }
    }
}

/// The key connections are counted by: IPv4 as is, IPv6 by its /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        },
        v4 => v4,
    }
}

impl Tracker {
    fn admit(self: &Arc<Self>, peer: IpAddr, limits: &ConnLimits) -> Option<Admitted> {
        if self.total.fetch_add(1, Ordering::AcqRel) >= limits.total {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let client = (!limits.trusted.iter().any(|c| c.contains(peer))).then(|| client_key(peer));
        if let Some(c) = client {
            let mut m = self.per_client.lock().unwrap_or_else(|p| p.into_inner());
            let n = m.entry(c).or_insert(0);
            if *n >= limits.per_client {
                drop(m);
                self.total.fetch_sub(1, Ordering::AcqRel);
                return None;
            }
            *n += 1;
        }
        Some(Admitted {
            tracker: Arc::clone(self),
            client,
        })
    }
}

/// When a connection last moved a byte, and whether it has a request in
/// flight: what the idle timeout looks at.
#[derive(Debug)]
struct Activity {
    born: Instant,
    /// Milliseconds since `born` of the last byte read or written.
    last: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            born: Instant::now(),
            last: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let now = self.born.elapsed();
        now.saturating_sub(Duration::from_millis(self.last.load(Ordering::Relaxed)))
    }
}

/// A stream that notes every byte it moves.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        res
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        res
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Counts a request in flight for as long as its handler runs.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(a: &Arc<Activity>) -> InFlight {
        a.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(Arc::clone(a))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.touch();
    }
}

fn builder() -> Builder<TokioExecutor> {
    let mut b = Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    b.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(H2_MAX_STREAMS)
        .keep_alive_interval(H2_PING_EVERY)
        .keep_alive_timeout(H2_PING_TIMEOUT);
    b
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops
/// accepting, closes idle connections and waits for requests in flight.
pub async fn run(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl std::future::Future<Output = ()>,
) -> io::Result<()> {
    let tracker = Arc::new(Tracker::default());
    let limits = Arc::new(limits);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut pause = Duration::from_millis(10);
    loop {
        let accepted = tokio::select! {
            conn = listener.accept() => conn,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(conn) => {
                pause = Duration::from_millis(10);
                conn
            }
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                tracing::warn!(error = %crate::errors::chain(&e), wait_ms = pause.as_millis() as u64, "accept failed");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let Some(admitted) = tracker.admit(peer.ip(), &limits) else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let limits = Arc::clone(&limits);
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            let _admitted = admitted;
            serve_one(stream, peer, app, &limits, stop).await;
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections, finishing requests in flight");
    let _ = stop_tx.send(true);
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while tracker.total.load(Ordering::Acquire) > 0 {
        if Instant::now() >= deadline {
            tracing::warn!("requests still in flight after {DRAIN_TIMEOUT:?}; closing anyway");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Answers a connection over the limits with a bare 503 and closes it.
async fn refuse(mut stream: TcpStream) {
    let reply = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(reply)).await;
}

async fn serve_one(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: &ConnLimits,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // The first byte, whatever the protocol: a silent socket is dropped.
    let mut probe = [0u8; 1];
    match tokio::time::timeout(limits.first_byte, stream.peek(&mut probe)).await {
        Ok(Ok(n)) if n > 0 => {}
        _ => return,
    }
    let activity = Arc::new(Activity::new());
    activity.touch();
    let tracked = Tracked {
        inner: stream,
        activity: Arc::clone(&activity),
    };
    let counting = Arc::clone(&activity);
    let service = app.map_request(move |mut req: Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
        req.extensions_mut()
            .insert(Arc::new(InFlight::start(&counting)));
        req
    });
    let service = TowerToHyperService::new(service.map_err(|e: Infallible| match e {}));
    let builder = builder();
    let conn = builder.serve_connection(TokioIo::new(tracked), service);
    let mut conn = std::pin::pin!(conn);
    let tick = (limits.idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    // When the connection was asked to close, and how long it then gets.
    let mut closing: Option<(Instant, Duration)> = None;
    loop {
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(error = %crate::errors::chain(&*e), "connection ended with an error");
                }
                return;
            }
            changed = stop.changed(), if closing.is_none() => {
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                    closing = Some((Instant::now(), CLOSE_TIMEOUT));
                }
            }
            () = tokio::time::sleep(tick) => {
                match closing {
                    Some((since, grace)) if since.elapsed() >= grace => return,
                    Some(_) => {}
                    None => {
                        let idle = activity.in_flight.load(Ordering::Acquire) == 0
                            && activity.idle_for() >= limits.idle;
                        if idle {
                            conn.as_mut().graceful_shutdown();
                            closing = Some((Instant::now(), IDLE_CLOSE_GRACE));
                        }
                    }
                }
            }
        }
    }
}
