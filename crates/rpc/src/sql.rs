//! SQL over the ledger: `tally_sql(query, params?)` over JSON-RPC and
//! `GET /sql?q=…&p=…` over plain HTTP, both answering
//! `{columns, rows, truncated, elapsedMs}` from [`Backend::sql`].
//!
//! The node's index does the work (read-only, one statement, row and time
//! limits); this module only moves the query off the async workers and
//! shapes the errors: a refused or failing query is -32602 over JSON-RPC
//! and 400 over HTTP, with the index's message.

use std::sync::Arc;

use http::{header::CONTENT_TYPE, HeaderValue, Response, StatusCode};
use jsonrpsee::core::{async_trait, RpcResult};
use jsonrpsee::proc_macros::rpc;
use jsonrpsee::server::HttpBody;
use serde_json::{json, Value};

use crate::backend::{Backend, BackendError};
use crate::eth::blocking;

/// `tally_sql`.
#[rpc(server, namespace = "tally")]
pub trait SqlApi {
    /// Runs one read-only SQL statement over the node's SQL index, with
    /// positional `?` parameters given as JSON values.
    #[method(name = "sql")]
    async fn sql(&self, query: String, params: Option<Vec<Value>>) -> RpcResult<Value>;
}

/// Handler of `tally_sql`.
#[derive(Clone)]
pub struct SqlRpc {
    pub(crate) backend: Arc<dyn Backend>,
}

#[async_trait]
impl SqlApiServer for SqlRpc {
    async fn sql(&self, query: String, params: Option<Vec<Value>>) -> RpcResult<Value> {
        let backend = self.backend.clone();
        blocking(move || Ok(backend.sql(&query, params.unwrap_or_default())?)).await
    }
}

/// The answer to `GET /sql?…` (`query` is the URI's query string).
pub(crate) async fn http_answer(
    backend: Arc<dyn Backend>,
    query: Option<String>,
) -> Response<HttpBody> {
    let (sql, params) = match parse_query(query.as_deref().unwrap_or("")) {
        Ok(parsed) => parsed,
        Err(message) => return json_response(StatusCode::BAD_REQUEST, json!({ "error": message })),
    };
    let answer = tokio::task::spawn_blocking(move || backend.sql(&sql, params)).await;
    match answer {
        Ok(Ok(value)) => json_response(StatusCode::OK, value),
        Ok(Err(e)) => {
            let status = match &e {
                BackendError::InvalidParams(_) | BackendError::Execution { .. } => {
                    StatusCode::BAD_REQUEST
                }
                BackendError::NotFound(_) => StatusCode::NOT_FOUND,
                BackendError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                BackendError::TxRejected(_) | BackendError::Internal(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            };
            json_response(status, json!({ "error": error_message(e) }))
        }
        Err(e) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": format!("the SQL worker task failed: {e}") }),
        ),
    }
}

/// The message a JSON-RPC client would see (without "invalid params:").
fn error_message(e: BackendError) -> String {
    match e {
        BackendError::InvalidParams(m)
        | BackendError::NotFound(m)
        | BackendError::TxRejected(m)
        | BackendError::Unavailable(m)
        | BackendError::Execution { message: m, .. } => m,
        BackendError::Internal(m) => format!("internal error: {m}"),
    }
}

fn json_response(status: StatusCode, body: Value) -> Response<HttpBody> {
    let mut resp = Response::new(HttpBody::from(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// `q=<sql>` once and `p=<param>` any number of times, in order. A
/// parameter is a JSON value (`5`, `"5"`, `null`, `true`) or, when it is
/// not valid JSON, the plain string (`0xf39f…`).
pub(crate) fn parse_query(query: &str) -> Result<(String, Vec<Value>), String> {
    let mut sql = None;
    let mut params = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key)?;
        let value = percent_decode(value)?;
        match key.as_str() {
            "q" if sql.is_some() => {
                return Err("give the query once: more than one q= parameter".into())
            }
            "q" => sql = Some(value),
            "p" => params.push(serde_json::from_str(&value).unwrap_or(Value::String(value))),
            other => {
                return Err(format!(
                    "unknown parameter {other:?}: use q=<SQL> and p=<value> for each `?`"
                ))
            }
        }
    }
    let sql = sql.ok_or("missing the query: GET /sql?q=<URL-encoded SELECT>[&p=<value>]...")?;
    Ok((sql, params))
}

/// `application/x-www-form-urlencoded` decoding: `%XX` bytes and `+` for
/// a space, as browsers and curl's `--data-urlencode` write them.
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        format!("bad percent-encoding at character {i} of {text:?}: expected %XX")
                    })?;
                out.push(hex);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} does not decode to UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode() {
        let (sql, params) = parse_query(
            "q=SELECT+count(*)%20FROM+t+WHERE+a+%3D+%3F+AND+b+%3D+%3F+AND+c+%3D+%3F&p=5&p=0xAb&p=%225%22",
        )
        .unwrap();
        assert_eq!(
            sql,
            "SELECT count(*) FROM t WHERE a = ? AND b = ? AND c = ?"
        );
        assert_eq!(params, vec![json!(5), json!("0xAb"), json!("5")]);
        assert_eq!(parse_query("q=%E2%82%AC").unwrap().0, "€");
        assert_eq!(
            parse_query("q=x&p=null&p=").unwrap().1,
            vec![Value::Null, json!("")]
        );
    }

    #[test]
    fn bad_query_strings_are_refused_clearly() {
        for (query, expect) in [
            ("", "missing the query"),
            ("p=1", "missing the query"),
            ("q=a&q=b", "more than one q="),
            ("q=a&x=1", "unknown parameter \"x\""),
            ("q=%zz", "bad percent-encoding"),
            ("q=%4", "bad percent-encoding"),
            ("q=%ff", "UTF-8"),
        ] {
            let err = parse_query(query).unwrap_err();
            assert!(err.contains(expect), "{query}: {err}");
        }
    }
}
