//! The `eth_` namespace, implemented over [`Backend`].

use std::sync::{Arc, Mutex, MutexGuard};

use alloy_primitives::{Address, Bytes, B256, U256, U64};
use alloy_rpc_types_eth::{
    Block, BlockId, BlockNumberOrTag, FeeHistory, Filter, Header, Index, Log, SyncInfo, SyncStatus,
    Transaction, TransactionReceipt, TransactionRequest,
};
use jsonrpsee::core::{async_trait, RpcResult, SubscriptionResult};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::PendingSubscriptionSink;
use serde_json::Value;
use tally_primitives::{SealedBlock, SealedHeader};

use crate::api::EthApiServer;
use crate::backend::Backend;
use crate::block_id::{resolve_header, state_number, tag_number};
use crate::call::{call_request, call_result, estimate_gas};
use crate::convert::{
    rpc_block, rpc_block_receipts, rpc_header, rpc_pending_transaction, rpc_receipt,
    rpc_transaction,
};
use crate::error::{internal, invalid_params, rpc_err, LIMIT_EXCEEDED, SERVER_ERROR};
use crate::fees;
use crate::filters::{drain_abandoned, drain_pending, FilterKind, FilterStore};
use crate::logs::{filter_range, get_logs, logs_in_range, LogLimits};

/// Most storage slots one `eth_getProof` call proves: each is a walk of
/// the state tree and a proof in the answer.
pub const MAX_GET_PROOF_SLOTS: usize = 1024;

/// State shared by the `eth_` handlers of all connections.
#[derive(Clone)]
pub struct EthRpc {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) limits: LogLimits,
    filters: Arc<Mutex<FilterStore>>,
}

impl EthRpc {
    pub fn new(backend: Arc<dyn Backend>, limits: LogLimits) -> Self {
        EthRpc {
            backend,
            limits,
            filters: Arc::default(),
        }
    }

    fn filters(&self) -> MutexGuard<'_, FilterStore> {
        // A panic while holding the lock cannot leave the map half-updated
        // in a way that matters to readers, so poisoning is ignored.
        self.filters.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn block_at(&self, tag: BlockNumberOrTag) -> RpcResult<Option<SealedBlock>> {
        let number = tag_number(&*self.backend, tag);
        Ok(self.backend.block_by_number(number)?)
    }

    fn install(&self, kind: FilterKind) -> RpcResult<String> {
        self.filters().install(kind).ok_or_else(|| {
            rpc_err(
                LIMIT_EXCEEDED,
                "too many installed filters; uninstall some with eth_uninstallFilter",
            )
        })
    }
}

/// Runs a blocking backend operation off the async workers.
pub(crate) async fn blocking<T, F>(f: F) -> RpcResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> RpcResult<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| internal(format!("RPC worker task failed: {e}")))?
}

fn tx_in_block(block: &SealedBlock, index: usize) -> Option<Transaction> {
    let tx = block.transactions.get(index)?;
    let sender = *block.senders.get(index)?;
    Some(rpc_transaction(tx, sender, &block.header, index))
}

fn corrupt(what: &str, header: &SealedHeader) -> ErrorObjectOwned {
    internal(format!(
        "{what} of block {} ({}) are missing or inconsistent",
        header.number, header.hash
    ))
}

#[async_trait]
impl EthApiServer for EthRpc {
    fn chain_id(&self) -> RpcResult<U64> {
        Ok(U64::from(self.backend.chain_id()))
    }

    fn syncing(&self) -> RpcResult<SyncStatus> {
        Ok(match self.backend.syncing() {
            None => SyncStatus::None,
            Some(p) => SyncStatus::Info(Box::new(SyncInfo {
                starting_block: U256::from(p.starting_block),
                current_block: U256::from(p.current_block),
                highest_block: U256::from(p.highest_block),
                warp_chunks_amount: None,
                warp_chunks_processed: None,
                stages: None,
            })),
        })
    }

    fn block_number(&self) -> RpcResult<U64> {
        Ok(U64::from(self.backend.head().number))
    }

    fn accounts(&self) -> RpcResult<Vec<Address>> {
        Ok(Vec::new())
    }

    fn balance(&self, address: Address, block: Option<BlockId>) -> RpcResult<U256> {
        let number = state_number(&*self.backend, block)?;
        let account = self.backend.account(address, number)?;
        Ok(account.map_or(U256::ZERO, |a| a.balance))
    }

    fn transaction_count(&self, address: Address, block: Option<BlockId>) -> RpcResult<U64> {
        if block == Some(BlockId::Number(BlockNumberOrTag::Pending)) {
            return Ok(U64::from(self.backend.pending_nonce(address)?));
        }
        let number = state_number(&*self.backend, block)?;
        let account = self.backend.account(address, number)?;
        Ok(U64::from(account.map_or(0, |a| a.nonce)))
    }

    fn code(&self, address: Address, block: Option<BlockId>) -> RpcResult<Bytes> {
        let number = state_number(&*self.backend, block)?;
        Ok(self.backend.code(address, number)?)
    }

    fn storage_at(&self, address: Address, slot: U256, block: Option<BlockId>) -> RpcResult<B256> {
        let number = state_number(&*self.backend, block)?;
        Ok(self.backend.storage(address, B256::from(slot), number)?)
    }

    async fn proof(
        &self,
        address: Address,
        slots: Vec<U256>,
        block: Option<BlockId>,
    ) -> RpcResult<Value> {
        if slots.len() > MAX_GET_PROOF_SLOTS {
            return Err(invalid_params(format!(
                "{} storage slots requested, more than the limit of {MAX_GET_PROOF_SLOTS} per \
                 eth_getProof call",
                slots.len()
            )));
        }
        let backend = self.backend.clone();
        blocking(move || {
            let number = state_number(&*backend, block)?;
            let slots = slots.into_iter().map(B256::from).collect();
            Ok(backend.proof(address, slots, number)?)
        })
        .await
    }

    async fn call(
        &self,
        request: TransactionRequest,
        block: Option<BlockId>,
        state_overrides: Option<Value>,
    ) -> RpcResult<Bytes> {
        if state_overrides.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(invalid_params(
                "state overrides are not supported; pass only the call and the block",
            ));
        }
        let request = call_request(request)?;
        let backend = self.backend.clone();
        blocking(move || {
            let number = state_number(&*backend, block)?;
            call_result(backend.call(&request, number)?)
        })
        .await
    }

    async fn estimate_gas(
        &self,
        request: TransactionRequest,
        block: Option<BlockId>,
    ) -> RpcResult<U64> {
        let request = call_request(request)?;
        let backend = self.backend.clone();
        blocking(move || {
            let number = state_number(&*backend, block)?;
            let header = backend
                .header_by_number(number)?
                .ok_or_else(|| internal(format!("canonical header {number} is missing")))?;
            estimate_gas(&*backend, request, number, header.gas_limit).map(U64::from)
        })
        .await
    }

    fn gas_price(&self) -> RpcResult<U256> {
        Ok(U256::from(fees::gas_price(&*self.backend)))
    }

    fn max_priority_fee_per_gas(&self) -> RpcResult<U256> {
        Ok(U256::from(self.backend.suggested_priority_fee()))
    }

    fn fee_history(
        &self,
        block_count: U64,
        newest_block: BlockNumberOrTag,
        reward_percentiles: Option<Vec<f64>>,
    ) -> RpcResult<FeeHistory> {
        fees::fee_history(
            &*self.backend,
            block_count.saturating_to(),
            newest_block,
            reward_percentiles,
        )
    }

    async fn send_raw_transaction(&self, raw: Bytes) -> RpcResult<B256> {
        let backend = self.backend.clone();
        // Validation recovers the signature: keep it off the async workers.
        blocking(move || Ok(backend.send_raw_transaction(raw)?)).await
    }

    fn transaction_by_hash(&self, hash: B256) -> RpcResult<Option<Transaction>> {
        if let Some(loc) = self.backend.tx_location(hash)? {
            let Some(block) = self.backend.block_by_hash(loc.block_hash)? else {
                return Err(internal(format!(
                    "block {} of transaction {hash} is missing",
                    loc.block_hash
                )));
            };
            let index = usize::try_from(loc.index).unwrap_or(usize::MAX);
            return tx_in_block(&block, index)
                .map(Some)
                .ok_or_else(|| corrupt("transactions", &block.header));
        }
        Ok(self
            .backend
            .pending_transaction(hash)?
            .map(|p| rpc_pending_transaction(&p.tx, p.sender)))
    }

    fn transaction_receipt(&self, hash: B256) -> RpcResult<Option<TransactionReceipt>> {
        let Some(loc) = self.backend.tx_location(hash)? else {
            return Ok(None);
        };
        let Some(found) = self.backend.block_with_receipts(loc.block_hash)? else {
            return Err(internal(format!(
                "block {} of transaction {hash} is missing",
                loc.block_hash
            )));
        };
        let index = usize::try_from(loc.index).unwrap_or(usize::MAX);
        rpc_receipt(&found.block, &found.receipts, index)
            .map(Some)
            .ok_or_else(|| corrupt("receipts", &found.block.header))
    }

    fn block_by_number(
        &self,
        block: BlockNumberOrTag,
        full: Option<bool>,
    ) -> RpcResult<Option<Block>> {
        Ok(self
            .block_at(block)?
            .map(|b| rpc_block(&b, full.unwrap_or(false))))
    }

    fn block_by_hash(&self, hash: B256, full: Option<bool>) -> RpcResult<Option<Block>> {
        Ok(self
            .backend
            .block_by_hash(hash)?
            .map(|b| rpc_block(&b, full.unwrap_or(false))))
    }

    fn header_by_number(&self, block: BlockNumberOrTag) -> RpcResult<Option<Header>> {
        let number = tag_number(&*self.backend, block);
        Ok(self
            .backend
            .header_by_number(number)?
            .map(|h| rpc_header(&h, None)))
    }

    fn header_by_hash(&self, hash: B256) -> RpcResult<Option<Header>> {
        Ok(self
            .backend
            .header_by_hash(hash)?
            .map(|h| rpc_header(&h, None)))
    }

    fn send_transaction(&self, _request: Value) -> RpcResult<B256> {
        Err(no_keys("eth_sendTransaction"))
    }

    fn sign(&self, _address: Value, _data: Value) -> RpcResult<Bytes> {
        Err(no_keys("eth_sign"))
    }

    fn block_tx_count_by_number(&self, block: BlockNumberOrTag) -> RpcResult<Option<U64>> {
        Ok(self
            .block_at(block)?
            .map(|b| U64::from(b.transactions.len())))
    }

    fn block_tx_count_by_hash(&self, hash: B256) -> RpcResult<Option<U64>> {
        Ok(self
            .backend
            .block_by_hash(hash)?
            .map(|b| U64::from(b.transactions.len())))
    }

    fn uncle_count_by_number(&self, block: BlockNumberOrTag) -> RpcResult<Option<U64>> {
        let number = tag_number(&*self.backend, block);
        Ok(self.backend.header_by_number(number)?.map(|_| U64::ZERO))
    }

    fn uncle_count_by_hash(&self, hash: B256) -> RpcResult<Option<U64>> {
        Ok(self.backend.header_by_hash(hash)?.map(|_| U64::ZERO))
    }

    fn tx_by_number_and_index(
        &self,
        block: BlockNumberOrTag,
        index: Index,
    ) -> RpcResult<Option<Transaction>> {
        Ok(self.block_at(block)?.and_then(|b| tx_in_block(&b, index.0)))
    }

    fn tx_by_hash_and_index(&self, hash: B256, index: Index) -> RpcResult<Option<Transaction>> {
        Ok(self
            .backend
            .block_by_hash(hash)?
            .and_then(|b| tx_in_block(&b, index.0)))
    }

    fn block_receipts(&self, block: BlockId) -> RpcResult<Option<Vec<TransactionReceipt>>> {
        let Some(header) = resolve_header(&*self.backend, block)? else {
            return Ok(None);
        };
        let found = self
            .backend
            .block_with_receipts(header.hash)?
            .ok_or_else(|| corrupt("transactions", &header))?;
        rpc_block_receipts(&found.block, &found.receipts)
            .map(Some)
            .ok_or_else(|| corrupt("receipts", &header))
    }

    async fn logs(&self, filter: Filter) -> RpcResult<Vec<Log>> {
        let backend = self.backend.clone();
        let limits = self.limits;
        blocking(move || get_logs(&*backend, &filter, limits)).await
    }

    fn new_filter(&self, filter: Filter) -> RpcResult<String> {
        if filter.block_option.as_block_hash().is_some() {
            return Err(invalid_params(
                "a filter on one blockHash cannot be polled; use eth_getLogs",
            ));
        }
        let head = self.backend.head().number;
        // Polling reports logs from new blocks only, or from `fromBlock`
        // when it is an explicit later block.
        let next = match filter.block_option.get_from_block() {
            Some(BlockNumberOrTag::Number(n)) if *n > head => *n,
            _ => head + 1,
        };
        let reorgs = self.backend.subscribe_new_blocks();
        self.install(FilterKind::Logs {
            filter,
            next,
            reorgs,
        })
    }

    fn new_block_filter(&self) -> RpcResult<String> {
        let next = self.backend.head().number + 1;
        let reorgs = self.backend.subscribe_new_blocks();
        self.install(FilterKind::Blocks { next, reorgs })
    }

    fn new_pending_tx_filter(&self) -> RpcResult<String> {
        let rx = self.backend.subscribe_pending_txs();
        self.install(FilterKind::PendingTxs { rx })
    }

    async fn filter_changes(&self, id: String) -> RpcResult<Value> {
        let head = self.backend.head().number;
        let max_span = self.limits.max_block_range.max(1);
        // Take what the poll needs, then release the lock before reading
        // the chain so other filters are not blocked behind this one.
        let (filter, from, to, abandoned) = {
            let mut store = self.filters();
            let kind = store.get_mut(&id).ok_or_else(|| filter_not_found(&id))?;
            match kind {
                FilterKind::PendingTxs { rx } => return to_value(drain_pending(rx)),
                FilterKind::Blocks { next, reorgs } => {
                    // The new branch is reported from where it forks.
                    let abandoned = drain_abandoned(reorgs, *next);
                    if let Some(low) = abandoned.iter().map(|b| b.block.number()).min() {
                        *next = low;
                    }
                    let from = *next;
                    let to = head.min(from.saturating_add(max_span - 1));
                    if to >= from {
                        *next = to + 1;
                    }
                    (None, from, to, Vec::new())
                }
                FilterKind::Logs {
                    filter,
                    next,
                    reorgs,
                } => {
                    let abandoned = drain_abandoned(reorgs, *next);
                    if let Some(low) = abandoned.iter().map(|b| b.block.number()).min() {
                        *next = low;
                    }
                    let from = *next;
                    let (_, filter_to) = filter_range(&*self.backend, filter);
                    let to = filter_to.min(from.saturating_add(max_span - 1));
                    if to >= from {
                        *next = to + 1;
                    }
                    (Some(filter.clone()), from, to, abandoned)
                }
            }
        };
        let backend = self.backend.clone();
        let limits = self.limits;
        blocking(move || match filter {
            None => {
                let mut hashes = Vec::new();
                for n in from..=to {
                    match backend.header_by_number(n)? {
                        Some(h) => hashes.push(h.hash),
                        None => break,
                    }
                }
                to_value(hashes)
            }
            Some(filter) => {
                // Logs a reorg took back first, then the chain as it is now.
                let mut logs: Vec<Log> = Vec::new();
                for b in &abandoned {
                    let mut removed = crate::logs::block_logs(&filter, &b.block, &b.receipts);
                    for log in &mut removed {
                        log.removed = true;
                    }
                    logs.extend(removed);
                }
                if from <= to {
                    logs.extend(logs_in_range(&*backend, &filter, from, to, limits)?);
                }
                to_value(logs)
            }
        })
        .await
    }

    async fn filter_logs(&self, id: String) -> RpcResult<Vec<Log>> {
        let filter = match self.filters().get_mut(&id) {
            Some(FilterKind::Logs { filter, .. }) => filter.clone(),
            Some(_) => {
                return Err(invalid_params(format!(
                    "filter {id} is not a log filter; use eth_getFilterChanges"
                )))
            }
            None => return Err(filter_not_found(&id)),
        };
        self.logs(filter).await
    }

    fn uninstall_filter(&self, id: String) -> RpcResult<bool> {
        Ok(self.filters().uninstall(&id))
    }

    async fn subscribe(
        &self,
        pending: PendingSubscriptionSink,
        kind: String,
        params: Option<Value>,
    ) -> SubscriptionResult {
        crate::pubsub::subscribe(self.backend.clone(), pending, kind, params).await
    }
}

fn no_keys(method: &str) -> ErrorObjectOwned {
    rpc_err(
        SERVER_ERROR,
        format!(
            "{method} is not available: the node holds no keys; sign the transaction \
             in the wallet or client and send it with eth_sendRawTransaction"
        ),
    )
}

fn filter_not_found(id: &str) -> ErrorObjectOwned {
    rpc_err(SERVER_ERROR, format!("filter not found: {id}"))
}

fn to_value<T: serde::Serialize>(v: T) -> RpcResult<Value> {
    serde_json::to_value(v).map_err(|e| internal(format!("cannot serialise result: {e}")))
}
