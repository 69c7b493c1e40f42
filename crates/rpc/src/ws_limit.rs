//! WebSocket connections get their own budget, apart from HTTP requests:
//! a total and a per-address cap. jsonrpsee counts both kinds against one
//! limit, so 100 open WebSockets once answered every HTTP request with
//! 429. A WebSocket upgrade takes a [`WsPermit`] here; it rides in the
//! upgrade request's extensions, which jsonrpsee keeps for the life of the
//! connection, so the permit is given back when the connection closes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use std::sync::Mutex;
use std::task::{Context, Poll};

use http::{header, HeaderValue, Request, Response, StatusCode};
use jsonrpsee::server::HttpBody;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::Service;

use crate::cors::BoxFuture;

/// The WebSocket budgets of one server.
#[derive(Clone)]
pub(crate) struct WsLimits {
    total: Arc<Semaphore>,
    max_total: usize,
    per_ip: Arc<Mutex<HashMap<IpAddr, usize>>>,
    max_per_ip: usize,
}

/// One open WebSocket connection's share of the budgets.
pub(crate) struct WsPermit {
    _total: OwnedSemaphorePermit,
    ip: IpAddr,
    per_ip: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for WsPermit {
    fn drop(&mut self) {
        let mut counts = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = counts.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

impl WsLimits {
    pub fn new(max_total: u32, max_per_ip: u32) -> WsLimits {
        let max_total = max_total as usize;
        WsLimits {
            total: Arc::new(Semaphore::new(max_total)),
            max_total,
            per_ip: Arc::default(),
            max_per_ip: max_per_ip as usize,
        }
    }

    /// A permit for one more connection from `ip`, or why not.
    pub fn admit(&self, ip: IpAddr) -> Result<Arc<WsPermit>, String> {
        let mut counts = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        let from_ip = counts.get(&ip).copied().unwrap_or(0);
        if from_ip >= self.max_per_ip {
            return Err(format!(
                "too many WebSocket connections from {ip}: {from_ip} open, the limit per address \
                 is {}",
                self.max_per_ip
            ));
        }
        let total = self.total.clone().try_acquire_owned().map_err(|_| {
            format!(
                "too many WebSocket connections: {} open, the limit is {}; HTTP requests are \
                 still served",
                self.max_total, self.max_total
            )
        })?;
        counts.insert(ip, from_ip + 1);
        Ok(Arc::new(WsPermit {
            _total: total,
            ip,
            per_ip: self.per_ip.clone(),
        }))
    }

    /// Open WebSocket connections (for tests and metrics).
    #[cfg(test)]
    pub fn open(&self) -> usize {
        self.max_total - self.total.available_permits()
    }
}

/// One connection's service: a WebSocket handshake from `remote` takes a
/// permit or is refused with 429; everything else goes straight on.
#[derive(Clone)]
pub(crate) struct Admit<S> {
    pub inner: S,
    pub limits: WsLimits,
    pub remote: IpAddr,
}

impl<S, B> Service<Request<B>> for Admit<S>
where
    S: Service<Request<B>, Response = Response<HttpBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<HttpBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        if is_ws_upgrade(&req) {
            match self.limits.admit(self.remote) {
                Ok(permit) => {
                    req.extensions_mut().insert(permit);
                }
                Err(why) => {
                    tracing::debug!(remote = %self.remote, %why, "WebSocket connection refused");
                    return Box::pin(std::future::ready(Ok(refused(why))));
                }
            }
        }
        Box::pin(self.inner.call(req))
    }
}

/// A WebSocket handshake (`Connection: upgrade` and `Upgrade: websocket`).
pub(crate) fn is_ws_upgrade<B>(req: &Request<B>) -> bool {
    let has = |name: header::HeaderName, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    has(header::CONNECTION, "upgrade") && has(header::UPGRADE, "websocket")
}

/// The answer to a refused WebSocket handshake.
pub(crate) fn refused(why: String) -> Response<HttpBody> {
    let mut resp = Response::new(HttpBody::from(why + "\n"));
    *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_per_address_and_in_total_and_come_back_on_close() {
        let limits = WsLimits::new(3, 2);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let a1 = limits.admit(a).unwrap();
        let _a2 = limits.admit(a).unwrap();
        let err = limits.admit(a).err().unwrap();
        assert!(err.contains("from 10.0.0.1: 2 open"), "{err}");
        let _b1 = limits.admit(b).unwrap();
        let err = limits.admit(b).err().unwrap();
        assert!(err.contains("the limit is 3"), "{err}");
        assert_eq!(limits.open(), 3);
        drop(a1);
        assert_eq!(limits.open(), 2);
        limits
            .admit(b)
            .expect("a closed connection frees its place");
    }

    #[test]
    fn only_websocket_handshakes_are_upgrades() {
        let ws = Request::builder()
            .header("Connection", "keep-alive, Upgrade")
            .header("Upgrade", "WebSocket")
            .body(())
            .unwrap();
        assert!(is_ws_upgrade(&ws));
        let post = Request::builder().body(()).unwrap();
        assert!(!is_ws_upgrade(&post));
    }
}
