//! The RPC method signatures, by namespace. The `jsonrpsee` macros generate
//! parameter parsing (bad parameters get -32602) and registration.

use alloy_primitives::{Address, Bytes, B256, U256, U64};
use alloy_rpc_types_eth::{
    Block, BlockId, BlockNumberOrTag, FeeHistory, Filter, Header, Index, Log, SyncStatus,
    Transaction, TransactionReceipt, TransactionRequest,
};
use jsonrpsee::core::{RpcResult, SubscriptionResult};
use jsonrpsee::proc_macros::rpc;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::backend::PeerInfo;

/// `web3_` methods.
#[rpc(server, namespace = "web3")]
pub trait Web3Api {
    #[method(name = "clientVersion")]
    fn client_version(&self) -> RpcResult<String>;

    /// Keccak-256 of the given bytes.
    #[method(name = "sha3")]
    fn sha3(&self, data: Bytes) -> RpcResult<B256>;
}

/// `net_` methods.
#[rpc(server, namespace = "net")]
pub trait NetApi {
    /// The chain id as a decimal string (as geth answers).
    #[method(name = "version")]
    fn version(&self) -> RpcResult<String>;

    #[method(name = "listening")]
    fn listening(&self) -> RpcResult<bool>;

    #[method(name = "peerCount")]
    fn peer_count(&self) -> RpcResult<U64>;
}

/// What `tally_nodeInfo` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    pub version: String,
    pub chain_id: u64,
    pub engine: String,
    pub head_number: u64,
    pub head_hash: B256,
    pub safe_number: u64,
    pub finalized_number: u64,
    pub peers: usize,
    pub syncing: bool,
}

/// Tally's own methods.
#[rpc(server, namespace = "tally")]
pub trait TallyApi {
    #[method(name = "nodeInfo")]
    fn node_info(&self) -> RpcResult<NodeInfo>;

    /// Cumulative timings of the node's block pipeline (pool admission,
    /// execution, state root, commit), for `tally bench` reports.
    #[method(name = "metrics")]
    fn metrics(&self) -> RpcResult<serde_json::Value>;
}

/// What `admin_nodeInfo` reports: geth's fields where Tally has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminNodeInfo {
    /// The libp2p peer id.
    pub id: String,
    /// `web3_clientVersion`.
    pub name: String,
    /// The first of `listenAddrs` (geth's field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen_addr: Option<String>,
    /// Every listen address, ending with `/p2p/<id>`: what another node's
    /// `admin_addPeer` takes.
    pub listen_addrs: Vec<String>,
}

/// Peer controls: geth's `admin_` peer methods and Tally's blocks. Peers are
/// named by libp2p peer id or by a multiaddr ending with `/p2p/<peer id>`.
#[rpc(server)]
pub trait AdminApi {
    #[method(name = "admin_peers")]
    async fn peers(&self) -> RpcResult<Vec<PeerInfo>>;

    #[method(name = "admin_nodeInfo")]
    async fn node_info(&self) -> RpcResult<AdminNodeInfo>;

    /// Dials a multiaddr and keeps the peer, redialling it when it drops.
    /// `true` once the dial has started (the connection may still fail).
    #[method(name = "admin_addPeer")]
    async fn add_peer(&self, url: String) -> RpcResult<bool>;

    /// Disconnects a peer and forgets it as static; `false` when it was
    /// neither connected nor static. The peer may reconnect.
    #[method(name = "admin_removePeer")]
    async fn remove_peer(&self, url: String) -> RpcResult<bool>;

    /// Disconnects a peer and refuses it, both ways, until
    /// `tally_unblockPeer`: how an operator partitions a network by hand.
    #[method(name = "tally_blockPeer")]
    async fn block_peer(&self, peer: String) -> RpcResult<bool>;

    /// Lifts a block and redials the peer; `false` when it was not blocked.
    #[method(name = "tally_unblockPeer")]
    async fn unblock_peer(&self, peer: String) -> RpcResult<bool>;

    #[method(name = "tally_blockedPeers")]
    async fn blocked_peers(&self) -> RpcResult<Vec<String>>;
}

/// What `tally_miningInfo` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MiningStatus {
    pub mining: bool,
    /// Threads of the built-in miner.
    pub threads: usize,
    pub coinbase: Address,
    /// The built-in miner's hashes per second.
    pub hashrate: U256,
    /// The difficulty of the block being mined: the expected number of
    /// hashes to meet its target, `2^256 / (target + 1)`.
    pub difficulty: U256,
    /// The block's target, 32 bytes big-endian.
    pub target: B256,
    /// The same target in compact form.
    pub bits: U64,
    /// The number of the block being mined.
    pub block_number: U64,
    /// The sum of external miners' recent `eth_submitHashrate` reports.
    pub external_hashrate: U256,
}

/// Mining: geth's remote-sealer methods and Tally's summary.
#[rpc(server)]
pub trait MiningApi {
    #[method(name = "eth_mining")]
    fn mining(&self) -> RpcResult<bool>;

    /// Hashes per second: the built-in miner's plus external miners'.
    #[method(name = "eth_hashrate")]
    fn hashrate(&self) -> RpcResult<U256>;

    #[method(name = "eth_coinbase")]
    fn coinbase(&self) -> RpcResult<Address>;

    /// `[powHash, seedHash, target, blockNumber]`: the seal hash to search
    /// nonces against, 32 zero bytes (there is no DAG), the target and the
    /// number of the block being mined.
    #[method(name = "eth_getWork")]
    fn get_work(&self) -> RpcResult<(B256, B256, B256, U64)>;

    /// An 8-byte nonce for the work `pow_hash`; the mix digest is accepted
    /// for compatibility and ignored. `false` for stale or insufficient work.
    #[method(name = "eth_submitWork")]
    fn submit_work(
        &self,
        nonce: Bytes,
        pow_hash: B256,
        mix_digest: Option<B256>,
    ) -> RpcResult<bool>;

    /// An external miner's hashes per second, under an id it chooses.
    #[method(name = "eth_submitHashrate")]
    fn submit_hashrate(&self, rate: U256, id: B256) -> RpcResult<bool>;

    #[method(name = "tally_miningInfo")]
    fn mining_info(&self) -> RpcResult<MiningStatus>;
}

/// `eth_` methods and subscriptions.
#[rpc(server, namespace = "eth")]
pub trait EthApi {
    #[method(name = "chainId")]
    fn chain_id(&self) -> RpcResult<U64>;

    #[method(name = "syncing")]
    fn syncing(&self) -> RpcResult<SyncStatus>;

    #[method(name = "blockNumber")]
    fn block_number(&self) -> RpcResult<U64>;

    /// Always empty: the node holds no keys.
    #[method(name = "accounts")]
    fn accounts(&self) -> RpcResult<Vec<Address>>;

    #[method(name = "getBalance")]
    fn balance(&self, address: Address, block: Option<BlockId>) -> RpcResult<U256>;

    #[method(name = "getTransactionCount")]
    fn transaction_count(&self, address: Address, block: Option<BlockId>) -> RpcResult<U64>;

    #[method(name = "getCode")]
    fn code(&self, address: Address, block: Option<BlockId>) -> RpcResult<Bytes>;

    #[method(name = "getStorageAt")]
    fn storage_at(&self, address: Address, slot: U256, block: Option<BlockId>) -> RpcResult<B256>;

    #[method(name = "getProof")]
    async fn proof(
        &self,
        address: Address,
        slots: Vec<U256>,
        block: Option<BlockId>,
    ) -> RpcResult<Value>;

    #[method(name = "call")]
    async fn call(
        &self,
        request: TransactionRequest,
        block: Option<BlockId>,
        state_overrides: Option<Value>,
    ) -> RpcResult<Bytes>;

    #[method(name = "estimateGas")]
    async fn estimate_gas(
        &self,
        request: TransactionRequest,
        block: Option<BlockId>,
    ) -> RpcResult<U64>;

    #[method(name = "gasPrice")]
    fn gas_price(&self) -> RpcResult<U256>;

    #[method(name = "maxPriorityFeePerGas")]
    fn max_priority_fee_per_gas(&self) -> RpcResult<U256>;

    #[method(name = "feeHistory")]
    fn fee_history(
        &self,
        block_count: U64,
        newest_block: BlockNumberOrTag,
        reward_percentiles: Option<Vec<f64>>,
    ) -> RpcResult<FeeHistory>;

    #[method(name = "sendRawTransaction")]
    async fn send_raw_transaction(&self, raw: Bytes) -> RpcResult<B256>;

    #[method(name = "getTransactionByHash")]
    fn transaction_by_hash(&self, hash: B256) -> RpcResult<Option<Transaction>>;

    #[method(name = "getTransactionReceipt")]
    fn transaction_receipt(&self, hash: B256) -> RpcResult<Option<TransactionReceipt>>;

    #[method(name = "getBlockByNumber")]
    fn block_by_number(
        &self,
        block: BlockNumberOrTag,
        full: Option<bool>,
    ) -> RpcResult<Option<Block>>;

    #[method(name = "getBlockByHash")]
    fn block_by_hash(&self, hash: B256, full: Option<bool>) -> RpcResult<Option<Block>>;

    /// geth's header-only block lookups.
    #[method(name = "getHeaderByNumber")]
    fn header_by_number(&self, block: BlockNumberOrTag) -> RpcResult<Option<Header>>;

    #[method(name = "getHeaderByHash")]
    fn header_by_hash(&self, hash: B256) -> RpcResult<Option<Header>>;

    /// Signing methods: refused with a clear message, the node holds no keys.
    #[method(name = "sendTransaction")]
    fn send_transaction(&self, request: Value) -> RpcResult<B256>;

    #[method(name = "sign")]
    fn sign(&self, address: Value, data: Value) -> RpcResult<Bytes>;

    #[method(name = "getBlockTransactionCountByNumber")]
    fn block_tx_count_by_number(&self, block: BlockNumberOrTag) -> RpcResult<Option<U64>>;

    #[method(name = "getBlockTransactionCountByHash")]
    fn block_tx_count_by_hash(&self, hash: B256) -> RpcResult<Option<U64>>;

    #[method(name = "getUncleCountByBlockNumber")]
    fn uncle_count_by_number(&self, block: BlockNumberOrTag) -> RpcResult<Option<U64>>;

    #[method(name = "getUncleCountByBlockHash")]
    fn uncle_count_by_hash(&self, hash: B256) -> RpcResult<Option<U64>>;

    #[method(name = "getTransactionByBlockNumberAndIndex")]
    fn tx_by_number_and_index(
        &self,
        block: BlockNumberOrTag,
        index: Index,
    ) -> RpcResult<Option<Transaction>>;

    #[method(name = "getTransactionByBlockHashAndIndex")]
    fn tx_by_hash_and_index(&self, hash: B256, index: Index) -> RpcResult<Option<Transaction>>;

    #[method(name = "getBlockReceipts")]
    fn block_receipts(&self, block: BlockId) -> RpcResult<Option<Vec<TransactionReceipt>>>;

    #[method(name = "getLogs")]
    async fn logs(&self, filter: Filter) -> RpcResult<Vec<Log>>;

    #[method(name = "newFilter")]
    fn new_filter(&self, filter: Filter) -> RpcResult<String>;

    #[method(name = "newBlockFilter")]
    fn new_block_filter(&self) -> RpcResult<String>;

    #[method(name = "newPendingTransactionFilter")]
    fn new_pending_tx_filter(&self) -> RpcResult<String>;

    /// Block hashes, transaction hashes or logs since the last poll.
    #[method(name = "getFilterChanges")]
    async fn filter_changes(&self, id: String) -> RpcResult<Value>;

    /// All logs a log filter matches, from its whole range.
    #[method(name = "getFilterLogs")]
    async fn filter_logs(&self, id: String) -> RpcResult<Vec<Log>>;

    #[method(name = "uninstallFilter")]
    fn uninstall_filter(&self, id: String) -> RpcResult<bool>;

    /// `newHeads`, `logs` (with an optional filter object) and
    /// `newPendingTransactions` (optionally `true` for full transactions).
    #[subscription(
        name = "subscribe" => "subscription",
        unsubscribe = "unsubscribe",
        item = Value
    )]
    async fn subscribe(&self, kind: String, params: Option<Value>) -> SubscriptionResult;
}
