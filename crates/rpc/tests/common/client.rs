//! Starting the real server over any backend and calling it over HTTP.

use std::net::SocketAddr;
use std::sync::Arc;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::ClientError;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde_json::Value;
use tally_rpc::{start, Backend, RpcConfig, RpcServerHandle};

/// The server on 127.0.0.1:0 over `backend`, and an HTTP client for it.
pub async fn serve_backend(
    backend: Arc<dyn Backend>,
) -> anyhow::Result<(RpcServerHandle, HttpClient)> {
    let config = RpcConfig {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..RpcConfig::default()
    };
    let handle = start(config, backend).await?;
    let client = HttpClientBuilder::default().build(handle.http_url())?;
    Ok((handle, client))
}

/// Calls `method` with a JSON array of parameters.
pub async fn call(client: &HttpClient, method: &str, params: Value) -> Result<Value, ClientError> {
    let params = match params {
        Value::Array(items) => {
            let mut p = jsonrpsee::core::params::ArrayParams::new();
            for item in items {
                p.insert(item).map_err(ClientError::ParseError)?;
            }
            p
        }
        other => panic!("params must be an array, got {other}"),
    };
    client.request(method, params).await
}

/// The JSON-RPC error code, message and data of a failed call.
pub fn rpc_error(result: Result<Value, ClientError>) -> (i32, String, Option<String>) {
    match result {
        Err(ClientError::Call(e)) => (
            e.code(),
            e.message().to_string(),
            e.data().map(|d| d.get().to_string()),
        ),
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}
