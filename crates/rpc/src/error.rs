//! Errors: the server's own ([`RpcError`]) and the JSON-RPC error objects
//! methods answer with, using the codes Ethereum clients expect.

use std::net::SocketAddr;

use alloy_primitives::Bytes;
use alloy_sol_types::{Panic, Revert, SolError};
use jsonrpsee::types::ErrorObjectOwned;

use crate::backend::BackendError;

/// Standard JSON-RPC: invalid method parameters.
pub const INVALID_PARAMS: i32 = -32602;
/// Standard JSON-RPC: internal error.
pub const INTERNAL_ERROR: i32 = -32603;
/// Ethereum convention (geth): generic server-side failure, rejected txs.
pub const SERVER_ERROR: i32 = -32000;
/// EIP-1474: a request exceeded a limit (log range, result count).
pub const LIMIT_EXCEEDED: i32 = -32005;
/// geth: execution reverted, with the revert data in `data`.
pub const EXECUTION_REVERTED: i32 = 3;

/// Failure to start the RPC server.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The front end adds how to choose another address (its flags).
    #[error("RPC address {addr} is already in use (another node running?)")]
    AddrInUse { addr: SocketAddr },
    #[error("cannot listen for RPC on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid RPC configuration: {0}")]
    Config(String),
}

/// An error object with no data.
pub fn rpc_err(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

pub fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    rpc_err(INVALID_PARAMS, message)
}

pub fn internal(message: impl Into<String>) -> ErrorObjectOwned {
    rpc_err(INTERNAL_ERROR, message)
}

/// `execution reverted[: reason]` with code 3 and the raw revert bytes as
/// `data`, exactly as geth answers, so ethers/viem decode custom errors.
pub fn revert_error(output: &Bytes) -> ErrorObjectOwned {
    let message = match revert_reason(output) {
        Some(reason) => format!("execution reverted: {reason}"),
        None => "execution reverted".to_string(),
    };
    ErrorObjectOwned::owned(EXECUTION_REVERTED, message, Some(output.clone()))
}

/// The human reason inside `Error(string)` or `Panic(uint256)` revert data.
pub fn revert_reason(output: &[u8]) -> Option<String> {
    if let Ok(revert) = Revert::abi_decode(output) {
        return Some(revert.reason);
    }
    if let Ok(panic) = Panic::abi_decode(output) {
        return Some(match panic.kind() {
            Some(kind) => format!("{kind}"),
            None => format!("panic code {:#x}", panic.code),
        });
    }
    None
}

impl From<BackendError> for ErrorObjectOwned {
    fn from(err: BackendError) -> Self {
        match err {
            BackendError::NotFound(msg) => rpc_err(SERVER_ERROR, msg),
            BackendError::InvalidParams(msg) => invalid_params(msg),
            BackendError::Execution { message, data } => {
                ErrorObjectOwned::owned(SERVER_ERROR, message, data)
            }
            BackendError::TxRejected(msg) => rpc_err(SERVER_ERROR, msg),
            BackendError::Unavailable(msg) => rpc_err(SERVER_ERROR, msg),
            BackendError::Internal(msg) => internal(msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revert_reasons_are_decoded() {
        let data: Bytes = Revert::from("not owner").abi_encode().into();
        let err = revert_error(&data);
        assert_eq!(err.code(), 3);
        assert_eq!(err.message(), "execution reverted: not owner");
        let raw = err.data().map(|d| d.get().to_string());
        assert_eq!(raw, Some(format!("\"{data}\"")));

        let custom = Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(revert_error(&custom).message(), "execution reverted");

        let panic: Bytes = Panic::from(0x11u64).abi_encode().into();
        let msg = revert_error(&panic).message().to_string();
        assert!(msg.starts_with("execution reverted: "), "{msg}");
        assert!(msg.contains("overflow"), "{msg}");
    }
}
