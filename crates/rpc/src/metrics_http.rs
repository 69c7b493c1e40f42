//! Plain HTTP routes on the RPC port: `GET /metrics` (the node's counters
//! in Prometheus text format, so a scraper needs no second port) and
//! `GET /sql?q=…` (a read-only SQL query, see [`crate::sql`]). Every other
//! request goes on to the JSON-RPC server untouched.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use http::{header::CONTENT_TYPE, HeaderValue, Method, Request, Response};
use jsonrpsee::server::HttpBody;
use tower::{Layer, Service};

use crate::{cors::BoxFuture, Backend};

#[derive(Clone)]
pub struct MetricsLayer {
    backend: Arc<dyn Backend>,
}

impl MetricsLayer {
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        MetricsLayer { backend }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Metrics<S>;
    fn layer(&self, inner: S) -> Metrics<S> {
        Metrics {
            inner,
            backend: self.backend.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Metrics<S> {
    inner: S,
    backend: Arc<dyn Backend>,
}

impl<S, B> Service<Request<B>> for Metrics<S>
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

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if req.method() == Method::GET && req.uri().path() == "/metrics" {
            let mut resp = Response::new(HttpBody::from(self.backend.prometheus()));
            resp.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            return Box::pin(std::future::ready(Ok(resp)));
        }
        if req.method() == Method::GET && req.uri().path() == "/sql" {
            let answer =
                crate::sql::http_answer(self.backend.clone(), req.uri().query().map(str::to_owned));
            return Box::pin(async move { Ok(answer.await) });
        }
        Box::pin(self.inner.call(req))
    }
}
