//! The [`Backend`] trait: everything the RPC server needs from the node.
//!
//! The RPC crate does not depend on storage, state, executor or txpool; the
//! node implements this trait over them and hands an `Arc<dyn Backend>` to
//! [`crate::start`]. Methods are coarse and synchronous: reads are fast
//! embedded-database reads, and the server moves the heavy ones (`call`,
//! `proof`) onto tokio's blocking pool itself.
//!
//! Block numbers passed in are always resolved by the server: tags
//! (`latest`, `safe`, `finalized`, `pending`, `earliest`) and EIP-1898 block
//! hashes become a canonical block number before a backend method is called.

use std::sync::Arc;

use alloy_eips::eip2930::AccessList;
use tally_primitives::{
    Account, Address, Bytes, Receipt, SealedBlock, SealedHeader, TxEnvelope, TxLocation, B256, U256,
};
use tokio::sync::broadcast;

/// Errors a [`Backend`] reports; the server maps each to a JSON-RPC error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// Something the request names does not exist or is no longer kept
    /// (e.g. state of a pruned block). Mapped to code -32000.
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed JSON but its values are unacceptable.
    /// Mapped to code -32602.
    #[error("invalid params: {0}")]
    InvalidParams(String),
    /// Execution failed before or outside the EVM's own revert/halt (e.g.
    /// "insufficient funds for gas * price + value"). Mapped to code -32000
    /// with `data` when given.
    #[error("{message}")]
    Execution {
        message: String,
        data: Option<Bytes>,
    },
    /// The transaction pool refused a transaction; the message is the pool's
    /// own ("nonce too low", "replacement transaction underpriced", ...).
    /// Mapped to code -32000.
    #[error("{0}")]
    TxRejected(String),
    /// A fault inside the node (database error, ...). Mapped to -32603.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A transaction waiting in the pool, with its recovered sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTransaction {
    pub tx: TxEnvelope,
    pub sender: Address,
}

/// A message call to run against the state after some block
/// (`eth_call`, and `eth_estimateGas` by repeated calls).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallRequest {
    /// The caller; `None` means the zero address.
    pub from: Option<Address>,
    /// `None` creates a contract with `input` as init code.
    pub to: Option<Address>,
    /// Gas limit; `None` means the block gas limit.
    pub gas: Option<u64>,
    /// Legacy gas price. When all fee fields are `None` the call is free
    /// (gas price 0) and the caller's balance is not checked for gas.
    pub gas_price: Option<u128>,
    pub max_fee_per_gas: Option<u128>,
    pub max_priority_fee_per_gas: Option<u128>,
    pub value: Option<U256>,
    pub input: Bytes,
    /// `None` means "the caller's current nonce" (calls skip the nonce check).
    pub nonce: Option<u64>,
    pub access_list: Option<AccessList>,
}

/// How a call ended inside the EVM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallStatus {
    /// Returned normally; `output` is the return data (or the deployed code
    /// for a create).
    Success,
    /// `REVERT`ed; `output` is the revert data (e.g. an `Error(string)`).
    Revert,
    /// Halted exceptionally (out of gas, invalid opcode, stack overflow...);
    /// `reason` says which, for the error message.
    Halt { reason: String },
}

/// The result of [`Backend::call`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    pub status: CallStatus,
    pub gas_used: u64,
    pub output: Bytes,
}

/// Progress of an initial sync, for `eth_syncing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncProgress {
    pub starting_block: u64,
    pub current_block: u64,
    pub highest_block: u64,
}

/// A block the node has just made canonical, with its receipts
/// (`receipts[i]` belongs to `block.transactions[i]`). Sent to
/// `newHeads` and `logs` subscribers and polling filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBlock {
    pub block: SealedBlock,
    pub receipts: Vec<Receipt>,
}

/// What the RPC server reads from and sends to the node.
///
/// Implementations must be cheap to call concurrently from many tasks.
pub trait Backend: Send + Sync + 'static {
    /// The EIP-155 chain id (`eth_chainId`, `net_version`).
    fn chain_id(&self) -> u64;

    /// `web3_clientVersion`, e.g. `"tally/v0.1.0/linux-x86_64"`.
    fn client_version(&self) -> String;

    /// Name of the consensus engine (`"dev"`, `"pow"`, `"bft"`, ...), for
    /// `tally_nodeInfo`.
    fn engine_name(&self) -> String;

    /// The canonical head header (`latest`, and also `pending`: Tally does
    /// not build pending blocks).
    fn head(&self) -> SealedHeader;

    /// Number of the highest block the engine considers safe (`safe` tag).
    fn safe_number(&self) -> u64;

    /// Number of the highest final block (`finalized` tag).
    fn finalized_number(&self) -> u64;

    /// The canonical header at `number`, `None` above the head.
    fn header_by_number(&self, number: u64) -> Result<Option<SealedHeader>, BackendError>;

    /// A header by hash. May return non-canonical headers the node still
    /// keeps; the server checks canonicality where it matters.
    fn header_by_hash(&self, hash: B256) -> Result<Option<SealedHeader>, BackendError>;

    /// The canonical block at `number`, with senders.
    fn block_by_number(&self, number: u64) -> Result<Option<SealedBlock>, BackendError>;

    /// A block by hash, with senders.
    fn block_by_hash(&self, hash: B256) -> Result<Option<SealedBlock>, BackendError>;

    /// The receipts of a block, in transaction order; `None` if the block is
    /// unknown.
    fn receipts(&self, block_hash: B256) -> Result<Option<Vec<Receipt>>, BackendError>;

    /// Where a mined transaction sits on the canonical chain.
    fn tx_location(&self, tx_hash: B256) -> Result<Option<TxLocation>, BackendError>;

    /// A transaction in the pool (not yet mined), with its sender.
    fn pending_transaction(
        &self,
        tx_hash: B256,
    ) -> Result<Option<PendingTransaction>, BackendError>;

    /// Hashes of all transactions in the pool (for `newPendingTransactions`
    /// polling filters and diagnostics).
    fn pending_transaction_hashes(&self) -> Vec<B256>;

    /// The account after block `number`; `None` if it does not exist (empty).
    /// Returns [`BackendError::NotFound`] when that block's state is not kept.
    fn account(&self, address: Address, number: u64) -> Result<Option<Account>, BackendError>;

    /// A storage slot after block `number`; zero when unset.
    fn storage(&self, address: Address, slot: B256, number: u64) -> Result<B256, BackendError>;

    /// The account's code after block `number`; empty when none.
    fn code(&self, address: Address, number: u64) -> Result<Bytes, BackendError>;

    /// An inclusion proof of the account and the given storage slots against
    /// the state root of block `number`, in the state crate's own format
    /// (`eth_getProof` returns it as is).
    fn proof(
        &self,
        address: Address,
        slots: Vec<B256>,
        number: u64,
    ) -> Result<serde_json::Value, BackendError>;

    /// Runs a call on the state after block `number` without committing it.
    /// The EVM's revert/halt is a successful `Ok(CallOutcome)`; `Err` is for
    /// calls that could not run at all (e.g. insufficient funds, gas above
    /// the block gas limit).
    fn call(&self, request: &CallRequest, number: u64) -> Result<CallOutcome, BackendError>;

    /// Decodes, validates and queues a signed EIP-2718 transaction, returning
    /// its hash; [`BackendError::TxRejected`] with the pool's reason otherwise.
    fn send_raw_transaction(&self, raw: Bytes) -> Result<B256, BackendError>;

    /// The next nonce for `address` counting its queued pool transactions
    /// (`eth_getTransactionCount(addr, "pending")`).
    fn pending_nonce(&self, address: Address) -> Result<u64, BackendError>;

    /// Number of connected peers.
    fn peer_count(&self) -> usize;

    /// `Some` while the node is catching up with the network.
    fn syncing(&self) -> Option<SyncProgress>;

    /// The base fee the next block will have (wei).
    fn next_base_fee(&self) -> u64;

    /// The priority fee (tip) the node suggests, in wei
    /// (`eth_maxPriorityFeePerGas`; `eth_gasPrice` = next base fee + this).
    fn suggested_priority_fee(&self) -> u128;

    /// Every block that becomes canonical, in order. Lagging receivers lose
    /// the oldest messages (tokio broadcast semantics).
    fn subscribe_new_blocks(&self) -> broadcast::Receiver<Arc<NewBlock>>;

    /// Hash of every transaction accepted into the pool.
    fn subscribe_pending_txs(&self) -> broadcast::Receiver<B256>;

    /// The node's pipeline counters as a JSON object (`tally_metrics`);
    /// `null` when the backend keeps none.
    fn metrics(&self) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// The node's counters in Prometheus text format, served at
    /// `GET /metrics` on the RPC port; empty when the backend keeps none.
    fn prometheus(&self) -> String {
        String::new()
    }
}
