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

impl NodeError {
    /// The RPC address, when the node could not start because another
    /// program holds it (so a front end can say how to pick another).
    pub fn rpc_addr_in_use(&self) -> Option<std::net::SocketAddr> {
        match self {
            NodeError::Rpc(tally_rpc::RpcError::AddrInUse { addr }) => Some(*addr),
            _ => None,
        }
    }
}
