//! Node configuration.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};
use tally_crypto::node_key::{NodeKey, NodeKeyError};
use tally_network::Multiaddr;
use tally_primitives::{Address, ChainSpec};

/// Everything a node needs to start.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Holds `chain.redb`, `index.sqlite` (the SQL index) and `node.key`
    /// (see [`node_key_in`]).
    pub datadir: PathBuf,
    pub spec: ChainSpec,
    /// JSON-RPC over HTTP and WebSocket, on one port.
    pub rpc_addr: SocketAddr,
    /// The RPC server's caps that an operator sets (`tally dev` flags,
    /// `node.toml`); its other limits are [`tally_rpc::RpcConfig`]'s.
    pub rpc_limits: RpcLimits,
    /// Receives the priority fees of blocks this node produces.
    pub beneficiary: Address,
    /// Overrides the dev engine's block time (milliseconds, 0 = instant)
    /// without changing the chain spec, so a dev chain can be restarted with
    /// another block time.
    pub dev_block_time_ms: Option<u64>,
    /// This node's ed25519 identity: its peer id on the network, and the key
    /// that seals blocks when the chain spec names it as the authority.
    /// Required when `network` is set.
    pub node_key: Option<NodeKey>,
    /// Join a peer-to-peer network; `None` runs the node alone (`tally dev`).
    pub network: Option<NetworkOptions>,
    /// Build blocks to be mined (PoW), rewards and fees to `beneficiary`;
    /// `None` only verifies.
    pub mining: Option<MiningOptions>,
    /// Keep the SQL index of the chain in `datadir/index.sqlite` and answer
    /// `tally_sql` and `GET /sql` from it.
    pub index: bool,
}

/// The RPC server's caps that can be set per node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RpcLimits {
    /// Most WebSocket connections open at once, counted apart from HTTP
    /// requests (so subscriptions never lock HTTP out). At least 1.
    pub ws_max_connections: u32,
    /// Most WebSocket connections open at once from one IP address. At
    /// least 1; above `ws_max_connections` the total binds first.
    pub ws_max_per_ip: u32,
}

impl Default for RpcLimits {
    /// 500 WebSockets in all, 100 per address.
    fn default() -> Self {
        let rpc = tally_rpc::RpcConfig::default();
        RpcLimits {
            ws_max_connections: rpc.max_ws_connections,
            ws_max_per_ip: rpc.max_ws_per_ip,
        }
    }
}

/// How this node mines.
#[derive(Clone, Debug, Default)]
pub struct MiningOptions {
    /// Threads of the built-in miner; 0 leaves the work to external miners
    /// (`eth_getWork` / `eth_submitWork`).
    pub threads: usize,
}

/// How the node joins its peers.
#[derive(Clone, Debug)]
pub struct NetworkOptions {
    /// e.g. `/ip4/0.0.0.0/tcp/30303`; `tcp/0` picks a free port.
    pub listen: Multiaddr,
    /// Peers dialled at start, `/ip4/…/tcp/…/p2p/<peer id>`.
    pub bootnodes: Vec<Multiaddr>,
    /// Find peers on the local network by multicast DNS.
    pub mdns: bool,
    /// Connections beyond this number are refused.
    pub max_peers: usize,
}

impl NetworkOptions {
    /// Listen on `listen` with no bootnodes, mDNS off and 50 peers at most.
    pub fn new(listen: Multiaddr) -> Self {
        Self {
            listen,
            bootnodes: Vec::new(),
            mdns: false,
            max_peers: 50,
        }
    }
}

/// The node key kept in `datadir/node.key`, created on first start so a
/// node keeps its identity (and its place in a consortium) across restarts.
pub fn node_key_in(datadir: &Path) -> Result<NodeKey, NodeKeyError> {
    std::fs::create_dir_all(datadir).map_err(|source| NodeKeyError::Io {
        path: datadir.display().to_string(),
        source,
    })?;
    NodeKey::load_or_generate(&datadir.join("node.key"))
}
