//! A backend that implements only the required methods (over the fixture
//! chain), so the optional ones answer with the trait's defaults: a node
//! without a network that does not mine.

use std::sync::Arc;

use tally_primitives::{
    Account, Address, Bytes, Receipt, SealedBlock, SealedHeader, TxLocation, B256,
};
use tally_rpc::{
    Backend, BackendError, CallOutcome, CallRequest, NewBlock, PendingTransaction, SyncProgress,
};
use tokio::sync::broadcast;

use super::TestBackend;

pub struct Bare(pub Arc<TestBackend>);

macro_rules! delegate {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        $(fn $name(&self $(, $arg: $ty)*) -> $ret {
            Backend::$name(&*self.0 $(, $arg)*)
        })*
    };
}

impl Backend for Bare {
    delegate! {
        fn chain_id(&self) -> u64;
        fn client_version(&self) -> String;
        fn engine_name(&self) -> String;
        fn head(&self) -> SealedHeader;
        fn safe_number(&self) -> u64;
        fn finalized_number(&self) -> u64;
        fn header_by_number(&self, number: u64) -> Result<Option<SealedHeader>, BackendError>;
        fn header_by_hash(&self, hash: B256) -> Result<Option<SealedHeader>, BackendError>;
        fn block_by_number(&self, number: u64) -> Result<Option<SealedBlock>, BackendError>;
        fn block_by_hash(&self, hash: B256) -> Result<Option<SealedBlock>, BackendError>;
        fn receipts(&self, block_hash: B256) -> Result<Option<Vec<Receipt>>, BackendError>;
        fn tx_location(&self, tx_hash: B256) -> Result<Option<TxLocation>, BackendError>;
        fn pending_transaction(&self, tx_hash: B256) -> Result<Option<PendingTransaction>, BackendError>;
        fn pending_transaction_hashes(&self) -> Vec<B256>;
        fn account(&self, address: Address, number: u64) -> Result<Option<Account>, BackendError>;
        fn storage(&self, address: Address, slot: B256, number: u64) -> Result<B256, BackendError>;
        fn code(&self, address: Address, number: u64) -> Result<Bytes, BackendError>;
        fn proof(&self, address: Address, slots: Vec<B256>, number: u64) -> Result<serde_json::Value, BackendError>;
        fn call(&self, request: &CallRequest, number: u64) -> Result<CallOutcome, BackendError>;
        fn send_raw_transaction(&self, raw: Bytes) -> Result<B256, BackendError>;
        fn pending_nonce(&self, address: Address) -> Result<u64, BackendError>;
        fn peer_count(&self) -> usize;
        fn syncing(&self) -> Option<SyncProgress>;
        fn next_base_fee(&self) -> u64;
        fn suggested_priority_fee(&self) -> u128;
        fn subscribe_new_blocks(&self) -> broadcast::Receiver<Arc<NewBlock>>;
        fn subscribe_pending_txs(&self) -> broadcast::Receiver<B256>;
    }
}
