//! A small CORS layer, so browser dapps and the explorer (served from
//! another port, hence another origin) can call the RPC server.
//!
//! Preflight `OPTIONS` requests are answered here; other responses get
//! `Access-Control-Allow-Origin` when the request's origin is allowed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
    VARY,
};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use jsonrpsee::server::HttpBody;
use tower::{Layer, Service};

use crate::error::RpcError;

#[derive(Debug, Clone)]
enum Allowed {
    None,
    Any,
    List(Vec<HeaderValue>),
}

/// Adds CORS headers for the configured origins.
#[derive(Debug, Clone)]
pub struct CorsLayer {
    allowed: Allowed,
}

impl CorsLayer {
    /// `["*"]` allows any origin; an empty list adds no CORS headers.
    pub fn new(origins: &[String]) -> Result<Self, RpcError> {
        let allowed = if origins.is_empty() {
            Allowed::None
        } else if origins.iter().any(|o| o == "*") {
            Allowed::Any
        } else {
            let list = origins
                .iter()
                .map(|o| {
                    HeaderValue::from_str(o.trim_end_matches('/')).map_err(|_| {
                        RpcError::Config(format!(
                            "CORS origin {o:?} is not a valid origin; expected e.g. \
                             http://localhost:8080 or *"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?;
            Allowed::List(list)
        };
        Ok(CorsLayer { allowed })
    }

    fn allow_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        match &self.allowed {
            Allowed::None => None,
            Allowed::Any => Some(HeaderValue::from_static("*")),
            Allowed::List(list) => origin.filter(|o| list.contains(o)).cloned(),
        }
    }
}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;
    fn layer(&self, inner: S) -> Cors<S> {
        Cors {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`CorsLayer`] wraps around the RPC service.
#[derive(Debug, Clone)]
pub struct Cors<S> {
    inner: S,
    layer: CorsLayer,
}

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<Request<B>> for Cors<S>
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
        let allow = self.layer.allow_origin(req.headers().get(ORIGIN));
        let preflight = req.method() == Method::OPTIONS
            && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
        if preflight {
            let mut resp = Response::new(HttpBody::empty());
            *resp.status_mut() = StatusCode::NO_CONTENT;
            if let Some(origin) = allow {
                let h = resp.headers_mut();
                h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                h.insert(
                    ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("POST, GET, OPTIONS"),
                );
                let headers = req
                    .headers()
                    .get(ACCESS_CONTROL_REQUEST_HEADERS)
                    .cloned()
                    .unwrap_or_else(|| HeaderValue::from_static("content-type"));
                h.insert(ACCESS_CONTROL_ALLOW_HEADERS, headers);
                h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
                h.insert(VARY, HeaderValue::from_static("origin"));
            }
            return Box::pin(std::future::ready(Ok(resp)));
        }
        let fut = self.inner.call(req);
        Box::pin(async move {
            let mut resp = fut.await?;
            if let Some(origin) = allow {
                resp.headers_mut()
                    .insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                resp.headers_mut()
                    .insert(VARY, HeaderValue::from_static("origin"));
            }
            Ok(resp)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let any = CorsLayer::new(&["*".to_string()]).unwrap();
        assert_eq!(any.allow_origin(None), Some(HeaderValue::from_static("*")));
        let list = CorsLayer::new(&["http://localhost:8080/".to_string()]).unwrap();
        let ok = HeaderValue::from_static("http://localhost:8080");
        assert_eq!(list.allow_origin(Some(&ok)), Some(ok.clone()));
        let other = HeaderValue::from_static("http://evil.example");
        assert_eq!(list.allow_origin(Some(&other)), None);
        assert_eq!(CorsLayer::new(&[]).unwrap().allow_origin(Some(&ok)), None);
        let err = CorsLayer::new(&["bad\norigin".to_string()]).unwrap_err();
        assert!(err.to_string().contains("not a valid origin"), "{err}");
    }
}
