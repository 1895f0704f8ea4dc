//! The HTTP listener behind `/healthz` and `/metrics`, hardened so that nothing a client does
//! to the port reaches the backups: it runs on its own thread and runtime, holds at most
//! [`Limits::connections`] sockets (a newcomer closes the oldest connection, so a flood can
//! neither exhaust file descriptors nor lock probes out), and closes every connection that is
//! slow to send its request, idle, or simply old.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};
use tracing::warn;

/// What one client may cost. The endpoints answer in microseconds from memory and take no
/// body, so every bound is far above what a probe or a scraper needs.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at most; the next one closes the oldest.
    pub connections: usize,
    /// From the connection's start, or from the previous response (an idle keep-alive
    /// connection), to a complete request head.
    pub header_timeout: Duration,
    /// A connection is closed this long after it opened, whatever it is doing: the bound on
    /// a whole request, including a client that never reads its response.
    pub lifetime: Duration,
    /// Request head (line and headers), bytes; larger gets 431.
    pub max_header_bytes: usize,
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            connections: 128,
            header_timeout: Duration::from_secs(5),
            lifetime: Duration::from_secs(10),
            // hyper's smallest read buffer; a probe's request is ~100 bytes.
            max_header_bytes: 8192,
            max_headers: 32,
        }
    }
}

impl Limits {
    /// The defaults, with the connection cap lowered to a quarter of the open-files limit
    /// when that is small: the backups' pipes and sockets keep the rest.
    pub fn for_this_process() -> Limits {
        let mut limits = Limits::default();
        if let Some(soft) = nofile_limit().map(|(soft, _)| soft) {
            let quarter = usize::try_from(soft / 4).unwrap_or(usize::MAX);
            limits.connections = limits.connections.min(quarter).max(4);
        }
        limits
    }
}

/// How the limits have been used, for `/metrics`.
#[derive(Debug, Default)]
pub struct Stats {
    pub open: AtomicU64,
    pub evicted: AtomicU64,
    pub header_timeouts: AtomicU64,
    pub lifetime_ends: AtomicU64,
}

/// After a failed `accept` that is not about one connection (EMFILE, ENFILE, ENOMEM): the
/// connection waits in the kernel's backlog and would fail again at once, so pause instead
/// of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(500);

/// How long a newcomer waits for the connection it evicted to close.
const EVICTION_WAIT: Duration = Duration::from_millis(200);

/// Pending connections the kernel holds for us (the listener's backlog).
const BACKLOG: u32 = 1024;

/// Bind `addr` and serve `app` on a thread of its own, with a single-threaded runtime: the
/// backups' runtime never runs a task of a client's. Returns the bound address, or the bind
/// error (the caller exits 2).
pub async fn start(
    addr: SocketAddr,
    app: Router,
    limits: Limits,
    stats: Arc<Stats>,
) -> io::Result<SocketAddr> {
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("dbstash-health".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            rt.block_on(async move {
                let listener = match bind(addr) {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let _ = tx.send(listener.local_addr());
                serve(listener, app, limits, stats).await;
            });
        })?;
    rx.await
        .unwrap_or_else(|_| Err(io::Error::other("the health endpoint's thread stopped")))
}

fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// The accept loop. Never returns.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, stats: Arc<Stats>) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(limits.max_headers);
    let service = TowerToHyperService::new(app);
    let slots = Arc::new(Semaphore::new(limits.connections));
    // Open connections, oldest first; a send closes one. Entries of connections that ended
    // on their own are closed senders, pruned now and then.
    let mut open: VecDeque<oneshot::Sender<()>> = VecDeque::new();
    let mut last_warning: Option<Instant> = None;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                if !is_per_connection(&e) {
                    // At most one line a minute: a flood must not flood the log too.
                    if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                        warn!("health endpoint: accepting a connection failed (retrying): {e}");
                        last_warning = Some(Instant::now());
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
                continue;
            }
        };
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                // Full: the oldest connection makes room. Probes send their request at once
                // and are the newest, so an attacker holding connections open cannot lock
                // them out; it would have to open more than `connections` within the
                // milliseconds a probe takes.
                while let Some(oldest) = open.pop_front() {
                    if oldest.send(()).is_ok() {
                        stats.evicted.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
                match tokio::time::timeout(EVICTION_WAIT, slots.clone().acquire_owned()).await {
                    Ok(Ok(p)) => p,
                    // Nothing closed in time: drop the newcomer, never queue it.
                    _ => continue,
                }
            }
        };
        if open.len() > 2 * limits.connections {
            open.retain(|s| !s.is_closed());
        }
        let (evict, evicted) = oneshot::channel();
        open.push_back(evict);
        tokio::spawn(connection(
            stream,
            http.clone(),
            service.clone(),
            evicted,
            permit,
            limits.lifetime,
            stats.clone(),
        ));
    }
}

/// Serve one connection until it ends, is evicted, or outlives `lifetime`; dropping it
/// closes the socket and frees its slot.
async fn connection(
    stream: TcpStream,
    http: http1::Builder,
    service: TowerToHyperService<Router>,
    evicted: oneshot::Receiver<()>,
    _slot: OwnedSemaphorePermit,
    lifetime: Duration,
    stats: Arc<Stats>,
) {
    stats.open.fetch_add(1, Ordering::Relaxed);
    let conn = http.serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        done = conn => {
            if done.is_err_and(|e| e.is_timeout()) {
                stats.header_timeouts.fetch_add(1, Ordering::Relaxed);
            }
        }
        _ = evicted => {}
        _ = tokio::time::sleep(lifetime) => {
            stats.lifetime_ends.fetch_add(1, Ordering::Relaxed);
        }
    }
    stats.open.fetch_sub(1, Ordering::Relaxed);
}

/// Errors that concern only the connection being accepted: go on at once.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

/// The open-files limit: (soft, hard).
fn nofile_limit() -> Option<(libc::rlim_t, libc::rlim_t)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct passed.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0)
        .then_some((lim.rlim_cur, lim.rlim_max))
}

/// Raise the soft limit on open files towards the hard one (up to 65536): headroom for the
/// backups' pipes and sockets. The health endpoint's own use stays bounded by its limits
/// whatever this achieves.
pub fn raise_nofile_limit() {
    const WANT: libc::rlim_t = 65536;
    let Some((soft, hard)) = nofile_limit() else {
        return;
    };
    let target = hard.min(WANT);
    if soft >= target {
        return;
    }
    let lim = libc::rlimit {
        rlim_cur: target,
        rlim_max: hard,
    };
    // SAFETY: setrlimit only reads the struct passed.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        warn!(
            "could not raise the open-files limit from {soft} to {target}: {}",
            io::Error::last_os_error()
        );
    }
}
