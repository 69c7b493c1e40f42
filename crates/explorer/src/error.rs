//! The explorer's errors: [`ExplorerError`] when it cannot start, and
//! [`PageError`], what a page answers instead of its content (rendered as
//! an HTML error page, or a JSON `{error}` on the API routes).

use std::net::SocketAddr;

use http::StatusCode;
use tally_rpc::BackendError;

/// Failure to start the explorer.
#[derive(Debug, thiserror::Error)]
pub enum ExplorerError {
    #[error(
        "explorer address {addr} is already in use (another node or explorer running?): \
         choose another port with --explorer-port (0 picks a free one) or turn the \
         explorer off with --no-explorer"
    )]
    AddrInUse { addr: SocketAddr },
    #[error(
        "cannot serve the explorer on {addr}: {source} (see --explorer-addr and --explorer-port)"
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Why a page cannot be shown: the status to answer with, a short title
/// and a message that says what was wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    pub status: StatusCode,
    pub title: String,
    pub message: String,
}

impl PageError {
    pub fn new(status: StatusCode, title: impl Into<String>, message: impl Into<String>) -> Self {
        PageError {
            status,
            title: title.into(),
            message: message.into(),
        }
    }

    pub fn bad_request(title: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, title, message)
    }

    pub fn not_found(title: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, title, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", message)
    }
}

impl From<BackendError> for PageError {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::NotFound(m) => PageError::not_found("Not found", m),
            BackendError::InvalidParams(m) => PageError::bad_request("Bad request", m),
            BackendError::Execution { message, .. } => {
                PageError::bad_request("Execution failed", message)
            }
            BackendError::Unavailable(m) => {
                PageError::new(StatusCode::SERVICE_UNAVAILABLE, "Not available", m)
            }
            BackendError::TxRejected(m) | BackendError::Internal(m) => PageError::internal(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_errors_keep_their_meaning() {
        let e = PageError::from(BackendError::no_sql_index());
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(e.message.contains("--no-index"), "{}", e.message);
        let e = PageError::from(BackendError::NotFound("block 9 is not kept".into()));
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        let e = PageError::from(BackendError::InvalidParams("no such column: x".into()));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.message, "no such column: x");
    }

    #[test]
    fn a_port_in_use_names_the_flags() {
        let e = ExplorerError::AddrInUse {
            addr: "127.0.0.1:8080".parse().unwrap(),
        }
        .to_string();
        assert!(
            e.contains("127.0.0.1:8080")
                && e.contains("--explorer-port")
                && e.contains("--no-explorer"),
            "{e}"
        );
    }
}
