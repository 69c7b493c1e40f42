//! The JSON-RPC client shared by the client subcommands.
//!
//! The commands are one-shot and synchronous, so [`Rpc`] owns a
//! current-thread tokio runtime and blocks on each call. Errors name the
//! node's URL and the method; a JSON-RPC error keeps its `data` (revert
//! bytes of a failed `eth_call` or `eth_estimateGas`) so callers can decode
//! the revert reason.

use std::time::Duration;

use alloy_primitives::Bytes;
use jsonrpsee::core::client::{ClientT, Error as ClientError};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub const DEFAULT_RPC: &str = "http://127.0.0.1:8545";

/// `--rpc URL`, shared by every command that talks to a node.
#[derive(clap::Args, Debug, Clone)]
pub struct RpcArgs {
    /// JSON-RPC endpoint of the node.
    #[arg(long = "rpc", env = "TALLY_RPC", default_value = DEFAULT_RPC, value_name = "URL")]
    pub url: String,
    /// Seconds to wait for each RPC answer.
    #[arg(long = "rpc-timeout", default_value_t = 30, value_name = "SECS")]
    pub rpc_timeout: u64,
}

/// A JSON-RPC error answer from the node.
#[derive(Debug, Clone)]
pub struct NodeError {
    pub code: i32,
    pub message: String,
    /// The error's `data`, when it is hex (revert data).
    pub revert_data: Option<Bytes>,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    #[error("node at {url} answered {method} with error {}: {}", .error.code, .error.message)]
    Node {
        url: String,
        method: String,
        error: NodeError,
    },
    #[error("node at {url} does not support {method}")]
    MethodNotFound { url: String, method: String },
    #[error(
        "cannot reach node at {url} ({reason}); is a node running there? (set --rpc or TALLY_RPC)"
    )]
    Unreachable { url: String, reason: String },
    #[error("node at {url} sent an unexpected answer to {method}: {reason}")]
    BadAnswer {
        url: String,
        method: String,
        reason: String,
    },
}

impl RpcError {
    /// The revert data of a failed call, if the node sent any.
    pub fn revert_data(&self) -> Option<&Bytes> {
        match self {
            RpcError::Node { error, .. } => error.revert_data.as_ref(),
            _ => None,
        }
    }
}

pub struct Rpc {
    runtime: tokio::runtime::Runtime,
    client: HttpClient,
    url: String,
}

impl Rpc {
    /// A client for the node at `args.url`; no request is made yet.
    pub fn connect(args: &RpcArgs) -> anyhow::Result<Self> {
        let url = args.url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            anyhow::bail!("invalid --rpc URL {url:?}: expected http://host:port");
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        // The HTTP client spawns nothing, but building it wants a runtime.
        let client = runtime.block_on(async {
            HttpClientBuilder::default()
                .request_timeout(Duration::from_secs(args.rpc_timeout.max(1)))
                .build(url)
        });
        let client = client.map_err(|e| anyhow::anyhow!("invalid --rpc URL {url:?}: {e}"))?;
        Ok(Self {
            runtime,
            client,
            url: url.to_string(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls `method` with positional `params` and decodes the result.
    pub fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Vec<Value>,
    ) -> Result<T, RpcError> {
        let raw: Value = self
            .runtime
            .block_on(self.client.request(method, params))
            .map_err(|e| self.classify(method, e))?;
        serde_json::from_value(raw.clone()).map_err(|e| RpcError::BadAnswer {
            url: self.url.clone(),
            method: method.to_string(),
            reason: format!("{e} in {}", truncate(&raw.to_string(), 200)),
        })
    }

    /// Like [`Rpc::call`], but `None` when the node does not have `method`
    /// (other nodes lack Tally's own methods).
    pub fn call_optional<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Vec<Value>,
    ) -> Result<Option<T>, RpcError> {
        match self.call(method, params) {
            Ok(v) => Ok(Some(v)),
            Err(RpcError::MethodNotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn classify(&self, method: &str, error: ClientError) -> RpcError {
        let url = self.url.clone();
        match error {
            ClientError::Call(obj) => {
                if obj.code() == -32601 {
                    return RpcError::MethodNotFound {
                        url,
                        method: method.to_string(),
                    };
                }
                RpcError::Node {
                    url,
                    method: method.to_string(),
                    error: NodeError {
                        code: obj.code(),
                        message: obj.message().to_string(),
                        revert_data: obj.data().and_then(|d| revert_bytes(d.get())),
                    },
                }
            }
            ClientError::Transport(e) => RpcError::Unreachable {
                url,
                reason: error_chain(&*e),
            },
            ClientError::RequestTimeout => RpcError::Unreachable {
                url,
                reason: format!("{method} timed out"),
            },
            other => RpcError::BadAnswer {
                url,
                method: method.to_string(),
                reason: other.to_string(),
            },
        }
    }
}

/// Revert bytes from an error's `data`: geth sends a hex string; some
/// nodes wrap it in an object with a `data` field.
fn revert_bytes(raw_json: &str) -> Option<Bytes> {
    let value: Value = serde_json::from_str(raw_json).ok()?;
    let text = match &value {
        Value::String(s) => s.as_str(),
        Value::Object(map) => map.get("data")?.as_str()?,
        _ => return None,
    };
    text.parse().ok()
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revert_data_is_read_from_string_or_object() {
        assert_eq!(
            revert_bytes(r#""0x08c379a0""#).unwrap().as_ref(),
            &[0x08, 0xc3, 0x79, 0xa0]
        );
        assert_eq!(revert_bytes(r#"{"data":"0x01"}"#).unwrap().as_ref(), &[1]);
        assert!(revert_bytes(r#""execution reverted""#).is_none());
        assert!(revert_bytes("17").is_none());
    }

    #[test]
    fn bad_url_is_rejected_with_the_url() {
        let args = RpcArgs {
            url: "localhost:8545".into(),
            rpc_timeout: 1,
        };
        let err = Rpc::connect(&args).err().unwrap().to_string();
        assert!(err.contains("localhost:8545"), "{err}");
    }

    #[test]
    fn unreachable_node_gives_a_clear_error() {
        // Port 9 (discard) on loopback is closed on test machines.
        let args = RpcArgs {
            url: "http://127.0.0.1:9".into(),
            rpc_timeout: 2,
        };
        let rpc = Rpc::connect(&args).unwrap();
        let err = rpc.call::<String>("eth_chainId", vec![]).unwrap_err();
        assert!(matches!(err, RpcError::Unreachable { .. }), "{err}");
        assert!(err.to_string().contains("127.0.0.1:9"), "{err}");
    }
}
