//! A node for the RPC fuzz target: a chain of its genesis block alone, an
//! empty pool, no accounts. Every read answers (so each method gets past
//! its parameters into its own code) and nothing is ever found.

use std::sync::Arc;

use tally_primitives::{
    Account, Address, Block, Bytes, Header, Receipt, SealedBlock, SealedHeader, TxLocation, B256,
};
use tally_rpc::{
    Backend, BackendError, CallOutcome, CallRequest, CallStatus, NewBlock, PendingTransaction,
    SyncProgress,
};
use tokio::sync::broadcast;

pub struct StubNode {
    genesis: SealedHeader,
    blocks: broadcast::Sender<Arc<NewBlock>>,
    pending: broadcast::Sender<B256>,
}

impl Default for StubNode {
    fn default() -> Self {
        StubNode {
            genesis: Header {
                gas_limit: 30_000_000,
                base_fee: 7,
                ..Header::default()
            }
            .seal_slow(),
            blocks: broadcast::channel(1).0,
            pending: broadcast::channel(1).0,
        }
    }
}

impl StubNode {
    fn header(&self, number: u64) -> Option<SealedHeader> {
        (number == 0).then(|| self.genesis.clone())
    }

    fn block(&self, header: Option<SealedHeader>) -> Option<SealedBlock> {
        header.map(|header| SealedBlock {
            header,
            transactions: Vec::new(),
            senders: Vec::new(),
        })
    }
}

impl Backend for StubNode {
    fn chain_id(&self) -> u64 {
        crate::CHAIN_ID
    }
    fn client_version(&self) -> String {
        "tally-fuzz".into()
    }
    fn engine_name(&self) -> String {
        "dev".into()
    }
    fn head(&self) -> SealedHeader {
        self.genesis.clone()
    }
    fn safe_number(&self) -> u64 {
        0
    }
    fn finalized_number(&self) -> u64 {
        0
    }
    fn header_by_number(&self, number: u64) -> Result<Option<SealedHeader>, BackendError> {
        Ok(self.header(number))
    }
    fn header_by_hash(&self, hash: B256) -> Result<Option<SealedHeader>, BackendError> {
        Ok((hash == self.genesis.hash).then(|| self.genesis.clone()))
    }
    fn block_by_number(&self, number: u64) -> Result<Option<SealedBlock>, BackendError> {
        Ok(self.block(self.header(number)))
    }
    fn block_by_hash(&self, hash: B256) -> Result<Option<SealedBlock>, BackendError> {
        Ok(self.block(self.header_by_hash(hash)?))
    }
    fn receipts(&self, block_hash: B256) -> Result<Option<Vec<Receipt>>, BackendError> {
        Ok((block_hash == self.genesis.hash).then(Vec::new))
    }
    fn tx_location(&self, _: B256) -> Result<Option<TxLocation>, BackendError> {
        Ok(None)
    }
    fn pending_transaction(&self, _: B256) -> Result<Option<PendingTransaction>, BackendError> {
        Ok(None)
    }
    fn pending_transaction_hashes(&self) -> Vec<B256> {
        Vec::new()
    }
    fn account(&self, _: Address, _: u64) -> Result<Option<Account>, BackendError> {
        Ok(None)
    }
    fn storage(&self, _: Address, _: B256, _: u64) -> Result<B256, BackendError> {
        Ok(B256::ZERO)
    }
    fn code(&self, _: Address, _: u64) -> Result<Bytes, BackendError> {
        Ok(Bytes::new())
    }
    fn proof(&self, _: Address, _: Vec<B256>, _: u64) -> Result<serde_json::Value, BackendError> {
        Ok(serde_json::Value::Null)
    }
    fn call(&self, _: &CallRequest, _: u64) -> Result<CallOutcome, BackendError> {
        Ok(CallOutcome {
            status: CallStatus::Success,
            gas_used: 21_000,
            output: Bytes::new(),
        })
    }
    fn send_raw_transaction(&self, raw: Bytes) -> Result<B256, BackendError> {
        // What the node does with the bytes first.
        tally_txpool::validate::decode(&raw)
            .map(|tx| *tx.tx_hash())
            .map_err(|e| BackendError::TxRejected(e.to_string()))
    }
    fn pending_nonce(&self, _: Address) -> Result<u64, BackendError> {
        Ok(0)
    }
    fn peer_count(&self) -> usize {
        0
    }
    fn syncing(&self) -> Option<SyncProgress> {
        None
    }
    fn next_base_fee(&self) -> u64 {
        7
    }
    fn suggested_priority_fee(&self) -> u128 {
        1
    }
    fn subscribe_new_blocks(&self) -> broadcast::Receiver<Arc<NewBlock>> {
        self.blocks.subscribe()
    }
    fn subscribe_pending_txs(&self) -> broadcast::Receiver<B256> {
        self.pending.subscribe()
    }
}

/// The genesis block the stub serves (seeds name its hash).
pub fn genesis() -> Block {
    Block {
        header: StubNode::default().genesis.header,
        transactions: Vec::new(),
    }
}
