//! The node's error type.

use tally_state::StateError;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("cannot create data directory {path}: {source}")]
    Datadir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Rpc(#[from] tally_rpc::RpcError),
    #[error(transparent)]
    Explorer(#[from] tally_explorer::ExplorerError),
    #[error("{0}")]
    Chain(String),
    #[error("engine could not prepare the header: {0}")]
    Prepare(tally_consensus::SealError),
    #[error("network: {0}")]
    Network(String),
}
