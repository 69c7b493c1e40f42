//! Refuses JSON-RPC requests whose `id` is an object or an array with a
//! `-32600 Invalid Request` error, as the JSON-RPC 2.0 specification asks
//! (an id is a string, a number or null). jsonrpsee answers such a request
//! with the bare body `null`, and drops such an element from a batch
//! without a word.
//!
//! HTTP `POST` bodies are read here (within the server's request size
//! limit, with jsonrpsee's own reader) and passed on unchanged; every other
//! request (WebSocket upgrades, `GET /metrics`) goes on untouched.

use std::task::{Context, Poll};

use http::{Method, Request, Response};
use jsonrpsee::core::http_helpers::{read_body, HttpError};
use jsonrpsee::server::{http::response, HttpBody};
use serde::Deserialize;
use serde_json::value::RawValue;
use tower::{Layer, Service};

use crate::cors::BoxFuture;

/// JSON-RPC 2.0's code for a request that is not a valid Request object.
const INVALID_REQUEST: i32 = -32600;

#[derive(Clone)]
pub struct RequestIdLayer {
    max_body_bytes: u32,
}

impl RequestIdLayer {
    pub fn new(max_body_bytes: u32) -> Self {
        RequestIdLayer { max_body_bytes }
    }
}

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestId<S>;
    fn layer(&self, inner: S) -> RequestId<S> {
        RequestId {
            inner,
            max_body_bytes: self.max_body_bytes,
        }
    }
}

#[derive(Clone)]
pub struct RequestId<S> {
    inner: S,
    max_body_bytes: u32,
}

impl<S, B> Service<Request<B>> for RequestId<S>
where
    S: Service<Request<HttpBody>, Response = Response<HttpBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<HttpBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if req.method() != Method::POST {
            return Box::pin(self.inner.call(req.map(HttpBody::new)));
        }
        // The service that was polled ready serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let max = self.max_body_bytes;
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let bytes = match read_body(&parts.headers, body, max).await {
                Ok((bytes, _)) => bytes,
                Err(HttpError::TooLarge) => return Ok(response::too_large(max)),
                Err(_) => return Ok(response::malformed()),
            };
            if let Some(problem) = bad_id(&bytes) {
                let body = serde_json::json!({
                    "jsonrpc": "2.0",
                    "id": null,
                    "error": { "code": INVALID_REQUEST, "message": problem },
                });
                return Ok(response::ok_response(body.to_string()));
            }
            inner
                .call(Request::from_parts(parts, HttpBody::from(bytes)))
                .await
        })
    }
}

#[derive(Deserialize)]
struct IdOnly<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
}

fn is_bad(id: Option<&RawValue>) -> bool {
    id.is_some_and(|id| matches!(id.get().trim_start().as_bytes().first(), Some(b'{' | b'[')))
}

/// What is wrong with the ids of a request body, if any. A body that is
/// not JSON (or not objects) is left for the server to answer.
fn bad_id(body: &[u8]) -> Option<String> {
    const RULE: &str = "an id must be a string, a number or null, not an object or an array";
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first == b'[' {
        let batch: Vec<IdOnly<'_>> = serde_json::from_slice(body).ok()?;
        let i = batch.iter().position(|r| is_bad(r.id))?;
        return Some(format!(
            "invalid request: batch element {i} has an invalid id: {RULE}"
        ));
    }
    let single: IdOnly<'_> = serde_json::from_slice(body).ok()?;
    is_bad(single.id).then(|| format!("invalid request: {RULE}"))
}

#[cfg(test)]
mod tests {
    use super::bad_id;

    #[test]
    fn object_and_array_ids_are_found_in_singles_and_batches() {
        let ok = [
            r#"{"jsonrpc":"2.0","id":1,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":"a","method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","method":"m"}"#,
            r#"[{"id":1,"method":"m"},{"id":"x","method":"m"}]"#,
            "not json at all",
            "",
        ];
        for body in ok {
            assert_eq!(bad_id(body.as_bytes()), None, "{body}");
        }
        let single = bad_id(br#"{"jsonrpc":"2.0","id":{"a":1},"method":"m"}"#).unwrap();
        assert!(
            single.starts_with("invalid request: an id must be"),
            "{single}"
        );
        assert!(bad_id(br#" {"id": [1], "method":"m"}"#).is_some());
        let batch = bad_id(br#"[{"id":1,"method":"m"},{"id":{},"method":"m"}]"#).unwrap();
        assert!(batch.contains("batch element 1"), "{batch}");
    }
}
