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
//!
//! Peer controls (`admin_`) and mining (`eth_getWork`, ...) are optional:
//! their methods have defaults that say the node has no network or does not
//! mine, so a backend implements only what its node has. The peer controls
//! return futures, since they wait on the network task. So are the BFT
//! reads and the system contracts' views (assets, ballots, settlement).

use std::sync::Arc;

use alloy_eips::eip2930::AccessList;
use futures::future::{self, BoxFuture};
use tally_primitives::{
    Account, Address, BftMember, BftValidator, BlockWithReceipts, Bytes, CommitCertificate,
    Receipt, SealedBlock, SealedHeader, TxEnvelope, TxLocation, B256, U256,
};
use tokio::sync::broadcast;

use tally_primitives::ChainSpec;
use tally_verify::{
    AccountFields, NotaryRecord, ProductRecord, Revocation, SlotProof, TraceEventRecord,
};

use crate::bft::{ChainParamsInfo, ValidatorSetChange};

/// An account and storage slots with their raw proofs against one
/// block's state root ([`Backend::state_proof`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateProof {
    /// `None`: no such account, and `proof` shows its absence.
    pub account: Option<AccountFields>,
    /// Compact state proof of the account (`tally_verify::state::compact`).
    pub proof: Bytes,
    pub slots: Vec<SlotProof>,
}

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
    /// The node cannot do this, now or at all: it has no network or does
    /// not mine, or the network refused (e.g. dialling a blocked peer).
    /// Mapped to code -32000.
    #[error("{0}")]
    Unavailable(String),
    /// A fault inside the node (database error, ...). Mapped to -32603.
    #[error("internal error: {0}")]
    Internal(String),
}

impl BackendError {
    /// What the peer-control defaults answer: the node has no network.
    pub fn no_network() -> Self {
        BackendError::Unavailable(
            "peer controls are not available on this node: it runs without a \
             peer-to-peer network"
                .into(),
        )
    }

    /// What the native-asset defaults answer: the backend has no system
    /// contracts to read.
    pub fn no_assets() -> Self {
        BackendError::Unavailable(
            "native assets, ballots and settlement are not available on this node: \
             its backend does not read the system contracts"
                .into(),
        )
    }

    /// What the proof defaults answer: the backend cannot build proofs.
    pub fn no_proofs() -> Self {
        BackendError::Unavailable(
            "proofs, the notary and traceability are not available on this node: \
             its backend does not read them"
                .into(),
        )
    }

    /// What [`Backend::sql`] answers by default: the node keeps no SQL index.
    pub fn no_sql_index() -> Self {
        BackendError::Unavailable(
            "the SQL index is off on this node (started with --no-index)".into(),
        )
    }

    /// What the mining defaults answer: the node does not mine.
    pub fn not_mining() -> Self {
        BackendError::Unavailable(
            "mining is not available on this node: its consensus engine does not mine \
             (proof-of-work chains only)"
                .into(),
        )
    }
}

/// A connected peer, shaped like an entry of geth's `admin_peers`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    /// The libp2p peer id (geth gives its node id here).
    pub id: String,
    /// The client the peer announced, e.g. `tally/v0.1.0`; empty until the
    /// peer has identified itself.
    pub name: String,
    /// The protocol versions the peer announced; Tally's is
    /// `tally/1/<chain id>/<genesis hash>`.
    pub caps: Vec<String>,
    pub network: PeerNetwork,
    /// Where the peer says it listens (multiaddrs); not in geth.
    pub listen_addrs: Vec<String>,
}

/// How a peer is connected (`admin_peers[].network`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerNetwork {
    /// Our end of the connection; only known when the peer dialled us.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_address: Option<String>,
    /// The peer's end of the connection (a multiaddr).
    pub remote_address: String,
    /// Whether the peer dialled us.
    pub inbound: bool,
    /// Whether the peer was added with `admin_addPeer` (kept and redialled).
    #[serde(rename = "static")]
    pub is_static: bool,
}

/// This node on the network, for `admin_nodeInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    /// The libp2p peer id.
    pub id: String,
    /// The addresses the node listens on, as multiaddrs ending with
    /// `/p2p/<id>`, ready for another node's `admin_addPeer`.
    pub listen_addrs: Vec<String>,
}

/// The miner's state (`eth_mining`, `eth_hashrate`, `tally_miningInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiningInfo {
    /// Whether blocks are being mined now, by built-in threads or by
    /// external miners fetching work.
    pub mining: bool,
    /// Threads the built-in miner runs; 0 with only external miners.
    pub threads: usize,
    /// Where block rewards go.
    pub coinbase: Address,
    /// The built-in miner's hashes per second.
    pub hashrate: u64,
    /// The sum of the recent rates external miners reported
    /// (`eth_submitHashrate`), hashes per second.
    pub external_hashrate: U256,
    /// The compact target of the block being mined; the server derives its
    /// target and difficulty.
    pub bits: u32,
    /// The number of the block being mined.
    pub block_number: u64,
}

/// Work for an external miner (`eth_getWork`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// The template header's seal hash: what the nonce is searched against.
    pub pow_hash: B256,
    /// A seal's PoW hash must be at or below this (big-endian).
    pub target: B256,
    /// The number of the block being mined.
    pub number: u64,
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

/// A block the node has just made canonical, or (`removed`) one a reorg
/// took off the canonical chain, with its receipts (`receipts[i]` belongs
/// to `block.transactions[i]`). Sent to `newHeads` and `logs` subscribers
/// and polling filters: on a reorg, the abandoned blocks come first
/// (highest first, `removed: true`), then the new branch (lowest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBlock {
    pub block: SealedBlock,
    pub receipts: Vec<Receipt>,
    pub removed: bool,
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

    /// A canonical block with its receipts, shared: what receipt lookups
    /// read. Nodes keep recent blocks decoded so that polling receipts
    /// does not decode a whole block per call; this default reads both.
    fn block_with_receipts(
        &self,
        block_hash: B256,
    ) -> Result<Option<Arc<BlockWithReceipts>>, BackendError> {
        let Some(block) = self.block_by_hash(block_hash)? else {
            return Ok(None);
        };
        let receipts = self.receipts(block_hash)?.ok_or_else(|| {
            BackendError::Internal(format!(
                "the receipts of block {} are missing from the database",
                block.number()
            ))
        })?;
        Ok(Some(Arc::new(BlockWithReceipts { block, receipts })))
    }

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

    /// Like [`Backend::call`] on the state after block `number`, but as the
    /// next block would run it (number + 1, a later timestamp): what a
    /// transaction sent now will meet, so gas estimates hold for code that
    /// reads the block number (a system contract recording it, a deadline).
    fn call_as_next_block(
        &self,
        request: &CallRequest,
        number: u64,
    ) -> Result<CallOutcome, BackendError> {
        self.call(request, number)
    }

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

    /// One read-only SQL statement over the node's SQL index, with
    /// positional `?` parameters (`tally_sql`, `GET /sql`). Answers
    /// `{columns, rows, truncated, elapsedMs}`; a refused or failing query
    /// is [`BackendError::InvalidParams`] (or [`BackendError::Execution`]
    /// past the time limit) with the index's message. Blocking: the server
    /// runs it on the blocking pool.
    fn sql(
        &self,
        query: &str,
        params: Vec<serde_json::Value>,
    ) -> Result<serde_json::Value, BackendError> {
        let _ = (query, params);
        Err(BackendError::no_sql_index())
    }

    // Peer controls (`admin_`, `tally_*Peer*`). Peers and addresses are
    // strings here (the RPC crate does not depend on the network crate):
    // the node parses them, answering [`BackendError::InvalidParams`] for
    // text that is not a peer id or multiaddr.

    /// Connected peers (`admin_peers`).
    fn peers(&self) -> BoxFuture<'_, Result<Vec<PeerInfo>, BackendError>> {
        Box::pin(future::ready(Err(BackendError::no_network())))
    }

    /// This node's peer id and listen addresses (`admin_nodeInfo`).
    fn node_identity(&self) -> BoxFuture<'_, Result<NodeIdentity, BackendError>> {
        Box::pin(future::ready(Err(BackendError::no_network())))
    }

    /// Dials the multiaddr `url` and keeps its peer as a static peer
    /// (`admin_addPeer`). Succeeds once the dial has started.
    fn add_peer(&self, url: String) -> BoxFuture<'_, Result<(), BackendError>> {
        let _ = url;
        Box::pin(future::ready(Err(BackendError::no_network())))
    }

    /// Disconnects the peer `url` names (a peer id, or a multiaddr ending
    /// with `/p2p/<id>`) and forgets it as static (`admin_removePeer`);
    /// whether it was connected or static.
    fn remove_peer(&self, url: String) -> BoxFuture<'_, Result<bool, BackendError>> {
        let _ = url;
        Box::pin(future::ready(Err(BackendError::no_network())))
    }

    /// Disconnects the peer and refuses it both ways until unblocked
    /// (`tally_blockPeer`); `peer` is a peer id or a multiaddr ending with it.
    fn block_peer(&self, peer: String) -> BoxFuture<'_, Result<(), BackendError>> {
        let _ = peer;
        Box::pin(future::ready(Err(BackendError::no_network())))
    }

    /// Lifts a block (`tally_unblockPeer`); whether the peer was blocked.
    fn unblock_peer(&self, peer: String) -> BoxFuture<'_, Result<bool, BackendError>> {
        let _ = peer;
        Box::pin(future::ready(Err(BackendError::no_network())))
    }

    /// Blocked peer ids (`tally_blockedPeers`).
    fn blocked_peers(&self) -> BoxFuture<'_, Result<Vec<String>, BackendError>> {
        Box::pin(future::ready(Err(BackendError::no_network())))
    }

    // Mining (geth's `eth_getWork` family). A node whose engine does not
    // mine keeps the defaults: `eth_mining` is false, `eth_hashrate` 0,
    // and the other methods say the node does not mine.

    /// `None` when the node cannot mine at all.
    fn mining_info(&self) -> Option<MiningInfo> {
        None
    }

    /// The current work for external miners; `None` until the node has a
    /// block template (e.g. while it catches up).
    fn get_work(&self) -> Option<Work> {
        None
    }

    /// An external miner's nonce for the work whose seal hash is
    /// `pow_hash`. `Ok(false)` for stale work or a nonce that does not meet
    /// the target (as geth); `Ok(true)` once the sealed block is handed to
    /// the chain.
    fn submit_work(&self, nonce: u64, pow_hash: B256) -> Result<bool, BackendError> {
        let _ = (nonce, pow_hash);
        Err(BackendError::not_mining())
    }

    /// Records an external miner's hash rate (hashes per second) under its
    /// id; whether it was recorded.
    fn submit_hashrate(&self, rate: U256, id: B256) -> bool {
        let _ = (rate, id);
        false
    }

    // BFT consortium chains (`tally_getValidators` and friends, see
    // [`crate::bft`]). Other engines keep the defaults, which say the chain
    // does not run BFT.

    /// The commit certificate of block `number`, `None` when not kept.
    fn bft_certificate(&self, number: u64) -> Result<Option<CommitCertificate>, BackendError> {
        let _ = number;
        Err(BackendError::not_bft(&self.engine_name()))
    }

    /// The validators that sign block `number` (at most head + 1): the
    /// governance set in the state after block `number - 1`.
    fn bft_validators(&self, number: u64) -> Result<Vec<BftValidator>, BackendError> {
        let _ = number;
        Err(BackendError::not_bft(&self.engine_name()))
    }

    /// The genesis set at height 1, then each height where the set changed.
    fn bft_validator_set_changes(&self) -> Result<Vec<ValidatorSetChange>, BackendError> {
        Err(BackendError::not_bft(&self.engine_name()))
    }

    /// Recorded equivocation evidence at the head, as a JSON array.
    fn bft_evidence(&self) -> Result<serde_json::Value, BackendError> {
        Err(BackendError::not_bft(&self.engine_name()))
    }

    /// Every governance proposal at the head, as a JSON array.
    fn governance_proposals(&self) -> Result<serde_json::Value, BackendError> {
        Err(BackendError::not_bft(&self.engine_name()))
    }

    /// One proposal at the head; JSON `null` when there is none.
    fn governance_proposal(&self, id: u64) -> Result<serde_json::Value, BackendError> {
        let _ = id;
        Err(BackendError::not_bft(&self.engine_name()))
    }

    /// The member institutions at the head.
    fn governance_members(&self) -> Result<Vec<BftMember>, BackendError> {
        Err(BackendError::not_bft(&self.engine_name()))
    }

    /// The role bits of `address` at the head.
    fn role_mask(&self, address: Address) -> Result<u8, BackendError> {
        let _ = address;
        Err(BackendError::not_bft(&self.engine_name()))
    }

    /// Governance parameters and votes needed at the head.
    fn chain_params(&self) -> Result<ChainParamsInfo, BackendError> {
        Err(BackendError::not_bft(&self.engine_name()))
    }

    // Native assets, ballots and settlement (see [`crate::assets`]): the
    // system contracts' views over the state after block `number`, on any
    // engine. A backend without them keeps the defaults, which say so.

    /// Every issued asset, oldest first, as a JSON array (the executor's
    /// `assets::Meta`, camelCase).
    fn assets(&self, number: u64) -> Result<serde_json::Value, BackendError> {
        let _ = number;
        Err(BackendError::no_assets())
    }

    /// The asset at `token`; JSON `null` when none was issued there.
    fn asset(&self, token: Address, number: u64) -> Result<serde_json::Value, BackendError> {
        let _ = (token, number);
        Err(BackendError::no_assets())
    }

    /// Holders `start..start + count` (0-based) of `token` with a non-zero
    /// balance, and their balances; empty for an unissued token.
    fn asset_holders(
        &self,
        token: Address,
        start: u64,
        count: u64,
        number: u64,
    ) -> Result<Vec<(Address, U256)>, BackendError> {
        let _ = (token, start, count, number);
        Err(BackendError::no_assets())
    }

    /// Every shareholder ballot, oldest first, as a JSON array (the
    /// executor's `ballots::BallotView`, camelCase).
    fn ballots(&self, number: u64) -> Result<serde_json::Value, BackendError> {
        let _ = number;
        Err(BackendError::no_assets())
    }

    /// One ballot; JSON `null` when there is none with that id.
    fn ballot(&self, id: u64, number: u64) -> Result<serde_json::Value, BackendError> {
        let _ = (id, number);
        Err(BackendError::no_assets())
    }

    // Offline proofs, the notary and traceability (see [`crate::proofs`]).

    /// The chain spec the node runs: its hash goes into every proof, and
    /// its engine decides the finality evidence.
    fn chain_spec(&self) -> Result<ChainSpec, BackendError> {
        Err(BackendError::no_proofs())
    }

    /// The account and storage slots after block `number` with raw proofs
    /// (compact state proofs, `tally_verify::state::compact`) against that block's state root.
    fn state_proof(
        &self,
        address: Address,
        slots: &[B256],
        number: u64,
    ) -> Result<StateProof, BackendError> {
        let _ = (address, slots, number);
        Err(BackendError::no_proofs())
    }

    /// The notary's record of the batch with `root` after block `number`.
    fn notary_batch(&self, root: B256, number: u64) -> Result<Option<NotaryRecord>, BackendError> {
        let _ = (root, number);
        Err(BackendError::no_proofs())
    }

    /// `submitter`'s revocation of `document` after block `number`.
    fn notary_revocation(
        &self,
        submitter: Address,
        document: B256,
        number: u64,
    ) -> Result<Option<Revocation>, BackendError> {
        let _ = (submitter, document, number);
        Err(BackendError::no_proofs())
    }

    /// A product's registration after block `number`.
    fn trace_product(
        &self,
        product_id: &str,
        number: u64,
    ) -> Result<Option<ProductRecord>, BackendError> {
        let _ = (product_id, number);
        Err(BackendError::no_proofs())
    }

    /// A product's events after block `number`, oldest first.
    fn trace_events(
        &self,
        product_id: &str,
        number: u64,
    ) -> Result<Vec<TraceEventRecord>, BackendError> {
        let _ = (product_id, number);
        Err(BackendError::no_proofs())
    }

    /// The block the settlement instruction `id` (its EIP-712 digest)
    /// settled in; `None` when it has not.
    fn settled_at(&self, id: B256, number: u64) -> Result<Option<u64>, BackendError> {
        let _ = (id, number);
        Err(BackendError::no_assets())
    }
}
