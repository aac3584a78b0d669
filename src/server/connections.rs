//! The listening socket (its backlog), the accept loop (TCP_NODELAY on every connection) and
//! each connection's limits: slow headers, idle keep-alive, shutdown.
//!
//! hyper's own `header_read_timeout` restarts as soon as a keep-alive connection goes idle, so
//! it would close idle connections after the header limit rather than the idle limit. Each
//! connection therefore watches its own activity instead: the bytes it reads and the requests
//! it has in flight.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

use super::AppService;
use crate::log_window::log_window;

/// Pause between accepts that fail for want of resources (file descriptors, memory): the
/// listener stays readable, so retrying at once would spin while nothing can change.
const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Binds `addr` and listens with room for `backlog` connections whose handshake is done but
/// which are not accepted yet (the kernel caps it at `net.core.somaxconn`). tokio's own `bind`
/// asks for 128, which a burst of a thousand clients overflows: the kernel then drops their
/// handshakes, and each of them waits a second or more before its SYN is sent again.
pub(crate) fn listen(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // As tokio's `bind` does: a restarted process binds its port again at once, even while
    // connections of the previous one linger in TIME_WAIT. (On Windows it would let another
    // process take the port over, so it is left off there.)
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// Accepts the next connection and sets TCP_NODELAY on it: a response leaves in a few small
/// writes, and Nagle's algorithm would hold the last one back until the client acknowledges
/// the previous one (up to 40 ms with a delayed ACK). Cancel-safe, as `TcpListener::accept`:
/// nothing is awaited once a connection is taken.
pub(crate) async fn accept(listener: &TcpListener) -> io::Result<TcpStream> {
    let (stream, _peer) = listener.accept().await?;
    if let Err(error) = stream.set_nodelay(true) {
        // The connection still works, only slower; a peer already gone ends it soon anyway.
        tracing::debug!(%error, "cannot set TCP_NODELAY on an accepted connection");
    }
    Ok(stream)
}

/// How long connections may take over their work, from the `Settings`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// Time to send a request's headers, from the connection's start or the request's first byte.
    pub(crate) header_read_timeout: Duration,
    /// Time a connection may stay open with no request in flight once it has served one.
    pub(crate) keep_alive_idle: Duration,
    /// Time connections may take to finish once shutdown begins.
    pub(crate) shutdown_grace: Duration,
}

impl ConnectionLimits {
    /// How often a connection looks at its activity: a quarter of its shortest limit, between
    /// 100 ms and a second.
    fn recheck(&self) -> Duration {
        (self.header_read_timeout.min(self.keep_alive_idle) / 4)
            .clamp(Duration::from_millis(100), Duration::from_secs(1))
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then drains: no new connections,
/// requests in flight may finish and idle connections close, and once `limits.shutdown_grace`
/// has passed the connections still open are closed.
pub(crate) async fn serve(
    listener: TcpListener,
    router: AppService,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (draining, drain_signal) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut failed_accepts: u64 = 0;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(ended) = connections.join_next(), if !connections.is_empty() => {
                log_panic(ended);
            }
            accepted = accept(&listener) => match accepted {
                Ok(stream) => {
                    if failed_accepts > 0 {
                        // Near the limit, accepts can fail and succeed by turns as sockets
                        // come and go: one line per window, whatever the number of turns.
                        if let Some(suppressed) = log_window().should_log("accept_recovered") {
                            tracing::info!(failed_accepts, suppressed, "accepting connections again");
                        }
                        failed_accepts = 0;
                    }
                    connections.spawn(serve_connection(
                        stream,
                        router.clone(),
                        limits,
                        drain_signal.clone(),
                    ));
                }
                // The client gave up before the connection was accepted: nothing to do.
                Err(error) if is_connection_error(&error) => {}
                Err(error) => {
                    // Logged once per window, not once per connection nor once per run of
                    // failures: a client flood past the open-file limit would otherwise flood
                    // the log too, and near the limit runs of failures come and go.
                    if failed_accepts == 0
                        && let Some(suppressed) = log_window().should_log("accept_failed")
                    {
                        let out_of_files = is_out_of_files(&error);
                        tracing::warn!(
                            %error,
                            out_of_files,
                            suppressed,
                            open_connections = connections.len(),
                            "cannot accept connections; retrying until resources free up"
                        );
                    }
                    failed_accepts += 1;
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(ACCEPT_RETRY_PAUSE) => {}
                    }
                }
            },
        }
    }
    // Stop accepting first: new clients are refused rather than left waiting in the backlog.
    drop(listener);
    let open = connections.len();
    tracing::info!(
        open_connections = open,
        grace_secs = limits.shutdown_grace.as_secs_f64(),
        "draining connections"
    );
    // Nobody listens when no connection is open; that is fine.
    let _ = draining.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while let Some(ended) = connections.join_next().await {
            log_panic(ended);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open_connections = connections.len(),
            "grace period over: closing the connections still open"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Logs a connection task that panicked (a bug); the other connections go on.
fn log_panic(ended: Result<(), tokio::task::JoinError>) {
    if let Err(error) = ended
        && error.is_panic()
    {
        tracing::error!(%error, "a connection's task panicked");
    }
}

/// Errors that concern one incoming connection only, not the listener.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// The process (`EMFILE`) or the system (`ENFILE`) has no file descriptor left for a socket.
fn is_out_of_files(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// Serves one connection with HTTP/1.1 until it ends, its client is too slow, it stays idle
/// too long, or shutdown closes it.
async fn serve_connection(
    stream: TcpStream,
    router: AppService,
    limits: ConnectionLimits,
    mut drain_signal: watch::Receiver<bool>,
) {
    let activity = Arc::new(Mutex::new(Activity::new()));
    let io = TokioIo::new(WatchedStream {
        stream,
        activity: activity.clone(),
    });
    let service = TrackedService {
        router,
        activity: activity.clone(),
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // Header deadlines are kept below (see the module's comment), not by hyper.
    builder.header_read_timeout(None);
    let connection = builder.serve_connection(io, service).with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let mut closing = false;
    loop {
        // Activity moves the deadline without waking this task (a wake per request made every
        // request queue behind every other connection three more times under load). The
        // timer looks again when it fires, at the deadline or after `recheck` at the latest,
        // so a deadline that activity brought forward is kept within that much.
        let deadline = if closing {
            None
        } else {
            let recheck = Instant::now() + limits.recheck();
            Some(
                lock(&activity)
                    .deadline(&limits)
                    .map_or(recheck, |(at, _)| at.min(recheck)),
            )
        };
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                break;
            }
            () = sleep_until(deadline) => {
                let now = Instant::now();
                match lock(&activity).deadline(&limits) {
                    Some((at, Wait::Headers)) if at <= now => {
                        tracing::debug!("closing a connection whose request headers came too slowly");
                        break;
                    }
                    Some((at, Wait::NextRequest)) if at <= now => {
                        tracing::debug!("closing an idle keep-alive connection");
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    // Something happened since the timer was set: set it again.
                    _ => {}
                }
            },
            // `Err` means the accept loop is gone: close as for shutdown.
            _ = drain_signal.wait_for(|draining| *draining), if !closing => {
                // hyper closes the connection at once when no request is under way, and after
                // the response otherwise.
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

/// The activity of a connection, locked. Only this connection's task and its service touch
/// it, one at a time, so the lock is never contended; a poisoned one (a panic in between)
/// still holds valid figures.
fn lock(activity: &Mutex<Activity>) -> std::sync::MutexGuard<'_, Activity> {
    activity
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Completes at `deadline`, or never without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// What a connection is doing, as far as its limits are concerned.
#[derive(Debug, Clone, Copy)]
struct Activity {
    /// Requests handed to the router whose responses are not yet fully written.
    in_flight: usize,
    /// Requests answered so far.
    served: u64,
    /// When the connection was accepted or its last response was written.
    idle_since: Instant,
    /// When the first byte after `idle_since` arrived: a request's headers are on their way.
    request_started: Option<Instant>,
}

/// What a connection with no request in flight waits for.
#[derive(Debug, Clone, Copy)]
enum Wait {
    /// A request's headers: the connection is new, or a request has begun to arrive.
    Headers,
    /// The next request on a keep-alive connection.
    NextRequest,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            in_flight: 0,
            served: 0,
            idle_since: Instant::now(),
            request_started: None,
        }
    }

    /// When the connection has waited too long, and for what; `None` while a request is in
    /// flight (the request deadline bounds it).
    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, Wait)> {
        if self.in_flight > 0 {
            return None;
        }
        Some(match self.request_started {
            Some(started) => (started + limits.header_read_timeout, Wait::Headers),
            // A new connection is expected to send its first request straight away.
            None if self.served == 0 => {
                (self.idle_since + limits.header_read_timeout, Wait::Headers)
            }
            None => (self.idle_since + limits.keep_alive_idle, Wait::NextRequest),
        })
    }
}

/// Marks one request in flight on its connection until dropped, which happens once the
/// response body has been written (or the connection has gone).
struct InFlight {
    activity: Arc<Mutex<Activity>>,
}

impl InFlight {
    fn begin(activity: Arc<Mutex<Activity>>) -> InFlight {
        {
            let mut state = lock(&activity);
            state.in_flight += 1;
            state.request_started = None;
        }
        InFlight { activity }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = lock(&self.activity);
        state.in_flight = state.in_flight.saturating_sub(1);
        state.served += 1;
        if state.in_flight == 0 {
            state.idle_since = Instant::now();
        }
    }
}

/// The router as a hyper service that marks each request in flight until its response is
/// written.
#[derive(Clone)]
struct TrackedService {
    router: AppService,
    activity: Arc<Mutex<Activity>>,
}

impl hyper::service::Service<Request<Incoming>> for TrackedService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let in_flight = InFlight::begin(self.activity.clone());
        let router = self.router.clone();
        Box::pin(async move {
            let response = router.oneshot(request.map(Body::new)).await?;
            // The marker travels with the body, which hyper drops once it has written it.
            Ok(response.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _marker = &in_flight;
                    frame
                }))
            }))
        })
    }
}

/// A TCP stream that notes when the first bytes of a request arrive on an idle connection.
struct WatchedStream {
    stream: TcpStream,
    activity: Arc<Mutex<Activity>>,
}

impl AsyncRead for WatchedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            // Bytes read while a request is in flight are its body (or a pipelined request,
            // which its own deadline covers once the first one is answered).
            let mut state = lock(&self.activity);
            if state.in_flight == 0 && state.request_started.is_none() {
                state.request_started = Some(Instant::now());
            }
        }
        result
    }
}

impl AsyncWrite for WatchedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            keep_alive_idle: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(20),
        }
    }

    #[test]
    fn a_new_connection_must_send_its_headers_within_the_header_limit() {
        let activity = Activity::new();
        let (at, wait) = activity.deadline(&limits()).expect("a deadline");
        assert!(matches!(wait, Wait::Headers));
        assert_eq!(at, activity.idle_since + Duration::from_secs(10));
    }

    #[test]
    fn a_connection_that_has_served_a_request_may_idle_for_the_keep_alive_limit() {
        let mut activity = Activity::new();
        activity.served = 1;
        let (at, wait) = activity.deadline(&limits()).expect("a deadline");
        assert!(matches!(wait, Wait::NextRequest));
        assert_eq!(at, activity.idle_since + Duration::from_secs(60));

        let started = activity.idle_since + Duration::from_secs(5);
        activity.request_started = Some(started);
        let (at, wait) = activity.deadline(&limits()).expect("a deadline");
        assert!(matches!(wait, Wait::Headers));
        assert_eq!(at, started + Duration::from_secs(10));
    }

    #[test]
    fn a_connection_with_a_request_in_flight_has_no_deadline() {
        let mut activity = Activity::new();
        activity.in_flight = 1;
        assert!(activity.deadline(&limits()).is_none());
    }

    #[tokio::test]
    async fn an_accepted_connection_has_tcp_nodelay_set() {
        let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0)), 16).expect("a free port");
        let addr = listener.local_addr().expect("a bound address");
        let client = TcpStream::connect(addr)
            .await
            .expect("the listener takes it");
        // Off by default, so the flag below is the accept's doing.
        assert!(!client.nodelay().expect("a readable option"));
        let accepted = accept(&listener).await.expect("a connection");
        assert!(accepted.nodelay().expect("a readable option"));
    }

    #[test]
    fn only_descriptor_exhaustion_counts_as_out_of_files() {
        assert!(is_out_of_files(&io::Error::from_raw_os_error(libc::EMFILE)));
        assert!(is_out_of_files(&io::Error::from_raw_os_error(libc::ENFILE)));
        assert!(!is_out_of_files(&io::Error::from_raw_os_error(
            libc::ECONNABORTED
        )));
    }
}
