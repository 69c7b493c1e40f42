//! The HTTP server: one listener, HTTP/1.1 connections served by hyper,
//! each request answered on tokio's blocking pool (pages make synchronous
//! reads), a bound on open connections and on the time a client may take
//! to send its headers, and a graceful stop.

use std::{convert::Infallible, net::SocketAddr, sync::Arc, time::Duration};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tally_rpc::Backend;
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use crate::{error::ExplorerError, routes};

/// Connections served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 256;
/// A client that has not sent its request headers by then is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections get to finish when the explorer stops.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// A running explorer. Dropping it leaves the server running until the
/// runtime ends; call [`ExplorerHandle::stop`].
pub struct ExplorerHandle {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ExplorerHandle {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://host:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Stops accepting connections and waits (briefly) for open ones.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Binds `addr` and serves the explorer over `backend` until stopped.
/// Must be called inside a tokio runtime.
pub async fn start(
    addr: SocketAddr,
    backend: Arc<dyn Backend>,
) -> Result<ExplorerHandle, ExplorerError> {
    let bind_err = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            ExplorerError::AddrInUse { addr }
        } else {
            ExplorerError::Bind { addr, source }
        }
    };
    let listener = TcpListener::bind(addr).await.map_err(bind_err)?;
    let local_addr = listener.local_addr().map_err(bind_err)?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(serve(listener, backend, stopped));
    tracing::info!(%local_addr, "explorer listening");
    Ok(ExplorerHandle {
        local_addr,
        stop,
        task,
    })
}

async fn serve(
    listener: TcpListener,
    backend: Arc<dyn Backend>,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stopped.changed() => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait, then go on.
                    tracing::warn!(error = %e, "explorer: accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let backend = backend.clone();
        let service = service_fn(move |req| answer(backend.clone(), req));
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // A client that hangs up mid-request is not worth a log line.
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(STOP_GRACE, graceful.shutdown()).await;
}

async fn answer(
    backend: Arc<dyn Backend>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let answered =
        tokio::task::spawn_blocking(move || routes::handle(&*backend, &method, &path, &query))
            .await;
    Ok(answered.unwrap_or_else(|e| {
        tracing::error!(error = %e, "explorer: a page failed");
        let mut resp = Response::new(Full::new(Bytes::from_static(
            b"internal error: the page could not be rendered",
        )));
        *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        resp
    }))
}
