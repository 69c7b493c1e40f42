//! Node configuration.

use std::{net::SocketAddr, path::PathBuf};
use tally_primitives::{Address, ChainSpec};

/// Everything a node needs to start.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Holds `chain.redb`.
    pub datadir: PathBuf,
    pub spec: ChainSpec,
    /// JSON-RPC over HTTP and WebSocket, on one port.
    pub rpc_addr: SocketAddr,
    /// Receives the priority fees of blocks this node produces.
    pub beneficiary: Address,
    /// Overrides the dev engine's block time (milliseconds, 0 = instant)
    /// without changing the chain spec, so a dev chain can be restarted with
    /// another block time.
    pub dev_block_time_ms: Option<u64>,
    /// This node's ed25519 identity; it seals blocks when the chain spec
    /// names it as the authority.
    pub node_key: Option<tally_crypto::node_key::NodeKey>,
}
