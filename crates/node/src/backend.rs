//! The RPC server's view of the node.

use crate::{adapters::ExecState, admin, chain::Chain, driver::ChainMsg, metrics::add};
use futures::future::BoxFuture;
use std::{
    sync::{atomic::Ordering, mpsc::SyncSender, Arc},
    time::Instant,
};
use tally_executor::{
    system::{self, ProposalAction, ProposalStatus},
    BlockEnv, ExecError, StateSourceError,
};
use tally_primitives::ChainSpec;
use tally_primitives::{
    Account, Address, BftMember, BftSpec, BftValidator, BlockWithReceipts, Bytes,
    CommitCertificate, EngineSpec, Receipt, SealedBlock, SealedHeader, TxLocation, B256, U256,
};
use tally_rpc::backend::StateProof;
use tally_rpc::{
    Backend, BackendError, CallOutcome, CallRequest, CallStatus, ChainParamsInfo, MiningInfo,
    NewBlock, NodeIdentity, PeerInfo, PendingTransaction, SyncProgress, ValidatorSetChange, Work,
};
use tally_state::StateError;
use tally_verify::{
    AccountFields, NotaryRecord, ProductRecord, Revocation, SlotProof, TraceEventRecord,
};
use tokio::sync::broadcast;

pub(crate) struct NodeBackend {
    pub chain: Chain,
    pub engine_name: String,
    pub chain_tx: SyncSender<ChainMsg>,
    pub pending_txs: broadcast::Sender<B256>,
    pub index: crate::sql_index::IndexAccess,
}

/// Blocks behind the best peer that still count as following the chain.
const FOLLOW_SLACK: u64 = 2;

fn internal(e: StateError) -> BackendError {
    BackendError::Internal(e.to_string())
}

impl NodeBackend {
    fn state(&self, number: u64) -> Result<tally_state::StateSnapshot, BackendError> {
        self.chain.db.state_at(number).map_err(|e| match e {
            StateError::AboveHead { .. } | StateError::MissingBlock(_) => {
                BackendError::NotFound(e.to_string())
            }
            other => internal(other),
        })
    }
}

/// BFT and governance reads.
impl NodeBackend {
    /// An `eth_call` on the state after block `number`, in that block's
    /// environment or (`next`) in the next block's.
    fn call_at(
        &self,
        request: &CallRequest,
        number: u64,
        next: bool,
    ) -> Result<CallOutcome, BackendError> {
        let header = self
            .chain
            .db
            .header_by_number(number)
            .map_err(internal)?
            .ok_or_else(|| BackendError::NotFound(format!("block {number} not found")))?;
        // Like geth's RPC gas cap: a call may not ask for more gas than a
        // block holds, so one request cannot run the EVM without bound.
        if let Some(gas) = request.gas {
            if gas > header.gas_limit {
                return Err(BackendError::InvalidParams(format!(
                    "gas {gas} is above the block gas limit {}",
                    header.gas_limit
                )));
            }
        }
        let snapshot = self.state(number)?;
        let source = ExecState {
            snapshot: &snapshot,
            db: &self.chain.db,
        };
        let (number, timestamp) = if next {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            (header.number + 1, now.max(header.timestamp + 1))
        } else {
            (header.number, header.timestamp)
        };
        let env = BlockEnv {
            chain_id: self.chain.spec.chain_id,
            number,
            timestamp,
            beneficiary: header.beneficiary,
            gas_limit: header.gas_limit,
            base_fee: header.base_fee,
            prevrandao: header.parent_hash,
            rewards: Vec::new(),
            evidence: Vec::new(),
        };
        let req = tally_executor::CallRequest {
            from: request.from,
            to: request.to,
            gas: request.gas,
            gas_price: request.gas_price,
            max_fee_per_gas: request.max_fee_per_gas,
            max_priority_fee_per_gas: request.max_priority_fee_per_gas,
            value: request.value,
            input: request.input.clone(),
            nonce: request.nonce,
            access_list: request.access_list.clone(),
        };
        let out = tally_executor::call(&source, &env, &req).map_err(|e| match e {
            ExecError::InvalidTransaction { reason, .. } => BackendError::Execution {
                message: reason,
                data: None,
            },
            other => BackendError::Internal(other.to_string()),
        })?;
        let status = if out.success {
            CallStatus::Success
        } else if out.reverted {
            CallStatus::Revert
        } else {
            CallStatus::Halt {
                reason: out.halt_reason.unwrap_or_else(|| "halted".into()),
            }
        };
        Ok(CallOutcome {
            status,
            gas_used: out.gas_used,
            output: out.output,
        })
    }

    fn bft_spec(&self) -> Result<&BftSpec, BackendError> {
        match &self.chain.spec.engine {
            EngineSpec::Bft(spec) => Ok(spec),
            _ => Err(BackendError::not_bft(&self.engine_name)),
        }
    }

    /// Runs a system-contract read over the state after block `number`.
    fn read_at<T>(
        &self,
        number: u64,
        read: impl FnOnce(&ExecState<'_>) -> Result<T, StateSourceError>,
    ) -> Result<T, BackendError> {
        let snapshot = self.state(number)?;
        let source = ExecState {
            snapshot: &snapshot,
            db: &self.chain.db,
        };
        read(&source).map_err(|e| BackendError::Internal(e.0))
    }

    /// The account and slots after block `number` with their proofs.
    fn account_proof(
        &self,
        address: Address,
        slots: &[B256],
        number: u64,
    ) -> Result<tally_state::AccountProof, BackendError> {
        self.chain
            .db
            .account_proof(address, slots, number)
            .map_err(|e| match e {
                StateError::AboveHead { .. }
                | StateError::MissingBlock(_)
                | StateError::TreeNotKept { .. } => BackendError::NotFound(e.to_string()),
                other => internal(other),
            })
    }

    /// Like [`Self::read_at`] at the head, on BFT chains only.
    fn read_head<T>(
        &self,
        read: impl FnOnce(&ExecState<'_>) -> Result<T, StateSourceError>,
    ) -> Result<T, BackendError> {
        self.bft_spec()?;
        let head = self.chain.head.read().number;
        self.read_at(head, read)
    }

    /// The set signing block `parent + 1`: governance's, or the spec's
    /// while the state holds none.
    fn validators_after(&self, parent: u64) -> Result<Vec<BftValidator>, BackendError> {
        let spec = self.bft_spec()?;
        let set = self.read_at(parent, |s| system::validators(s))?;
        Ok(if set.is_empty() {
            spec.validators.clone()
        } else {
            set
        })
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, BackendError> {
    serde_json::to_value(value).map_err(|e| BackendError::Internal(e.to_string()))
}

impl Backend for NodeBackend {
    fn chain_id(&self) -> u64 {
        self.chain.spec.chain_id
    }

    fn client_version(&self) -> String {
        format!(
            "tally/v{}/{}-{}",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        )
    }

    fn engine_name(&self) -> String {
        self.engine_name.clone()
    }

    fn head(&self) -> SealedHeader {
        self.chain.head.read().clone()
    }

    fn safe_number(&self) -> u64 {
        *self.chain.safe.read()
    }

    fn finalized_number(&self) -> u64 {
        *self.chain.finalized.read()
    }

    fn header_by_number(&self, number: u64) -> Result<Option<SealedHeader>, BackendError> {
        self.chain.db.header_by_number(number).map_err(internal)
    }

    fn header_by_hash(&self, hash: B256) -> Result<Option<SealedHeader>, BackendError> {
        self.chain.db.header_by_hash(hash).map_err(internal)
    }

    fn block_by_number(&self, number: u64) -> Result<Option<SealedBlock>, BackendError> {
        self.chain.db.block_by_number(number).map_err(internal)
    }

    fn block_by_hash(&self, hash: B256) -> Result<Option<SealedBlock>, BackendError> {
        self.chain.db.block_by_hash(hash).map_err(internal)
    }

    fn receipts(&self, block_hash: B256) -> Result<Option<Vec<Receipt>>, BackendError> {
        self.chain.db.receipts(block_hash).map_err(internal)
    }

    fn block_with_receipts(
        &self,
        block_hash: B256,
    ) -> Result<Option<Arc<BlockWithReceipts>>, BackendError> {
        self.chain
            .db
            .block_with_receipts(block_hash)
            .map_err(internal)
    }

    fn tx_location(&self, tx_hash: B256) -> Result<Option<TxLocation>, BackendError> {
        self.chain.db.tx_location(tx_hash).map_err(internal)
    }

    fn pending_transaction(
        &self,
        tx_hash: B256,
    ) -> Result<Option<PendingTransaction>, BackendError> {
        Ok(self.chain.pool.get(&tx_hash).map(|p| PendingTransaction {
            tx: (*p.tx).clone(),
            sender: p.sender,
        }))
    }

    fn pending_transaction_hashes(&self) -> Vec<B256> {
        self.chain
            .pool
            .pending_transactions()
            .iter()
            .map(|p| p.hash)
            .collect()
    }

    fn account(&self, address: Address, number: u64) -> Result<Option<Account>, BackendError> {
        self.state(number)?.account(&address).map_err(internal)
    }

    fn storage(&self, address: Address, slot: B256, number: u64) -> Result<B256, BackendError> {
        let value = self
            .state(number)?
            .storage(&address, &U256::from_be_bytes(slot.0))
            .map_err(internal)?;
        Ok(B256::from(value.to_be_bytes::<32>()))
    }

    fn code(&self, address: Address, number: u64) -> Result<Bytes, BackendError> {
        let state = self.state(number)?;
        let Some(account) = state.account(&address).map_err(internal)? else {
            return Ok(Bytes::new());
        };
        Ok(state
            .code(&account.code_hash)
            .map_err(internal)?
            .unwrap_or_default())
    }

    fn proof(
        &self,
        address: Address,
        slots: Vec<B256>,
        number: u64,
    ) -> Result<serde_json::Value, BackendError> {
        let proof = self.account_proof(address, &slots, number)?;
        // The eth_getProof shape. Proofs are jmt proofs against the block's
        // state root, one flat tree for accounts and storage (ADR 0001), so
        // `storageHash` is that same root.
        let account = proof.account.unwrap_or_default();
        Ok(serde_json::json!({
            "address": proof.address,
            "accountProof": [proof.proof],
            "balance": account.balance,
            "codeHash": account.code_hash,
            "nonce": format!("{:#x}", account.nonce),
            "storageHash": proof.root,
            "storageProof": proof.storage.iter().map(|s| serde_json::json!({
                "key": s.slot,
                "value": s.value,
                "proof": [s.proof],
            })).collect::<Vec<_>>(),
        }))
    }

    fn call(&self, request: &CallRequest, number: u64) -> Result<CallOutcome, BackendError> {
        self.call_at(request, number, false)
    }

    fn call_as_next_block(
        &self,
        request: &CallRequest,
        number: u64,
    ) -> Result<CallOutcome, BackendError> {
        self.call_at(request, number, true)
    }

    fn send_raw_transaction(&self, raw: Bytes) -> Result<B256, BackendError> {
        let started = Instant::now();
        let result = self.chain.admit_one(&raw);
        add(&self.chain.metrics.pool_admit_ns, started.elapsed());
        match result {
            Ok(hash) => {
                self.chain
                    .metrics
                    .pool_admitted
                    .fetch_add(1, Ordering::Relaxed);
                self.chain.txs_wake.notify(&self.chain_tx);
                let _ = self.pending_txs.send(hash);
                if let Some(gossip) = self.chain.net.local_txs.get() {
                    // Full: peers will see it in our block instead.
                    if gossip.try_send(raw).is_err() {
                        self.chain
                            .metrics
                            .net_dropped
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok(hash)
            }
            Err(e) => {
                self.chain
                    .metrics
                    .pool_rejected
                    .fetch_add(1, Ordering::Relaxed);
                Err(BackendError::TxRejected(e.to_string()))
            }
        }
    }

    fn pending_nonce(&self, address: Address) -> Result<u64, BackendError> {
        if let Some(n) = self.chain.pool.pending_nonce(&address) {
            return Ok(n);
        }
        let state = self.chain.db.latest_state().map_err(internal)?;
        Ok(state
            .account(&address)
            .map_err(internal)?
            .map_or(0, |a| a.nonce))
    }

    fn peer_count(&self) -> usize {
        self.chain.metrics.peers.load(Ordering::Relaxed) as usize
    }

    fn syncing(&self) -> Option<SyncProgress> {
        let p = *self.chain.net.sync.borrow();
        let current = self.chain.head.read().number;
        // A block or two behind is following, not syncing: a status answer
        // often lands just before the gossiped block itself.
        (p.highest > current + FOLLOW_SLACK).then_some(SyncProgress {
            starting_block: p.starting,
            current_block: current,
            highest_block: p.highest,
        })
    }

    fn next_base_fee(&self) -> u64 {
        self.chain.spec.base_fee
    }

    fn suggested_priority_fee(&self) -> u128 {
        1_000_000_000
    }

    fn subscribe_new_blocks(&self) -> broadcast::Receiver<Arc<NewBlock>> {
        self.chain.new_blocks.subscribe()
    }

    fn subscribe_pending_txs(&self) -> broadcast::Receiver<B256> {
        self.pending_txs.subscribe()
    }

    fn prometheus(&self) -> String {
        let head = self.chain.head.read().number;
        let pool = &self.chain.pool;
        let mut text = self.chain.metrics.prometheus(&[
            (
                "head_block",
                "Number of the canonical head block.",
                head as f64,
            ),
            (
                "finalized_block",
                "Number of the highest final block.",
                *self.chain.finalized.read() as f64,
            ),
            (
                "txpool_pending",
                "Executable transactions in the pool.",
                pool.pending_count() as f64,
            ),
            (
                "txpool_queued",
                "Transactions waiting for a nonce gap to fill.",
                pool.queued_count() as f64,
            ),
            (
                "txpool_bytes",
                "Summed encoded size of the pooled transactions (bounded by the pool's byte budget).",
                pool.bytes() as f64,
            ),
            ("peers", "Connected peers.", 0.0),
            (
                "safe_block",
                "Number of the highest safe block.",
                *self.chain.safe.read() as f64,
            ),
            (
                "miner_hashrate",
                "Hashes per second of the built-in miner.",
                self.chain.mining.hashrate(),
            ),
            (
                "difficulty_bits",
                "Compact target (bits) of the head block.",
                f64::from(self.chain.head.read().bits),
            ),
        ]);
        text.push_str(&format!(
            "# HELP tally_sender_recovery_seconds_total Time recovering transaction senders.\n\
             # TYPE tally_sender_recovery_seconds_total counter\n\
             tally_sender_recovery_seconds_total {}\n",
            pool.recovery_time().as_secs_f64()
        ));
        text.push_str(&self.index.prometheus(head));
        text
    }

    fn metrics(&self) -> serde_json::Value {
        let mut snapshot = self.chain.metrics.snapshot();
        snapshot.sender_recovery_ms = self.chain.pool.recovery_time().as_secs_f64() * 1e3;
        let mut metrics = serde_json::to_value(snapshot).unwrap_or_default();
        self.index
            .add_metrics(self.chain.head.read().number, &mut metrics);
        metrics
    }

    fn sql(
        &self,
        query: &str,
        params: Vec<serde_json::Value>,
    ) -> Result<serde_json::Value, BackendError> {
        self.index.query(query, &params)
    }

    fn mining_info(&self) -> Option<MiningInfo> {
        let mining = &self.chain.mining;
        if !mining.enabled {
            return None;
        }
        let work = mining.work.lock().clone();
        let head = self.chain.head.read().clone();
        Some(MiningInfo {
            mining: mining.active.load(Ordering::Relaxed),
            threads: mining.threads,
            coinbase: mining.coinbase,
            hashrate: mining.hashrate() as u64,
            external_hashrate: mining.external_hashrate(),
            bits: work.as_ref().map_or(head.bits, |w| w.bits),
            block_number: work.as_ref().map_or(head.number + 1, |w| w.number),
        })
    }

    fn get_work(&self) -> Option<Work> {
        let work = self.chain.mining.work.lock().clone()?;
        Some(Work {
            pow_hash: work.seal_hash,
            target: work.target,
            number: work.number,
        })
    }

    fn submit_work(&self, nonce: u64, pow_hash: B256) -> Result<bool, BackendError> {
        if !self.chain.mining.enabled {
            return Err(BackendError::not_mining());
        }
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.chain_tx
            .send(ChainMsg::SubmitWork {
                seal_hash: pow_hash,
                nonce,
                reply,
            })
            .map_err(|_| BackendError::Internal("the chain thread has stopped".into()))?;
        // The chain thread answers at once (it checks one hash); a block
        // import in progress delays it by that import at most.
        answer
            .recv()
            .map_err(|_| BackendError::Internal("the chain thread has stopped".into()))?
            .map_err(BackendError::Internal)
    }

    fn submit_hashrate(&self, rate: U256, id: B256) -> bool {
        if !self.chain.mining.enabled {
            return false;
        }
        self.chain.mining.submit_hashrate(id, rate);
        true
    }

    fn bft_certificate(&self, number: u64) -> Result<Option<CommitCertificate>, BackendError> {
        self.bft_spec()?;
        let Some(raw) = self.chain.db.certificate(number).map_err(internal)? else {
            return Ok(None);
        };
        alloy_rlp::decode_exact(&raw).map(Some).map_err(|e| {
            BackendError::Internal(format!(
                "stored certificate of block {number} is corrupt: {e}"
            ))
        })
    }

    fn bft_validators(&self, number: u64) -> Result<Vec<BftValidator>, BackendError> {
        self.validators_after(number.saturating_sub(1))
    }

    fn bft_validator_set_changes(&self) -> Result<Vec<ValidatorSetChange>, BackendError> {
        let mut changes = vec![ValidatorSetChange {
            height: 1,
            validators: self.validators_after(0)?,
        }];
        // A change takes effect at the block after the one at whose end it
        // was applied; read the set there, as the signers of that height.
        let mut heights: Vec<u64> = self
            .read_head(|s| system::proposals(s))?
            .into_iter()
            .filter(|p| p.status == ProposalStatus::Executed)
            .filter(|p| {
                matches!(
                    p.action,
                    ProposalAction::AddValidator { .. } | ProposalAction::RemoveValidator { .. }
                )
            })
            .filter_map(|p| p.executed_block.map(|b| b.saturating_add(1)))
            .collect();
        heights.sort_unstable();
        heights.dedup();
        for height in heights.into_iter().filter(|h| *h > 1) {
            let validators = self.validators_after(height - 1)?;
            if changes.last().is_some_and(|c| c.validators == validators) {
                continue;
            }
            changes.push(ValidatorSetChange { height, validators });
        }
        Ok(changes)
    }

    fn bft_evidence(&self) -> Result<serde_json::Value, BackendError> {
        to_json(&self.read_head(|s| system::evidence(s))?)
    }

    fn governance_proposals(&self) -> Result<serde_json::Value, BackendError> {
        to_json(&self.read_head(|s| system::proposals(s))?)
    }

    fn governance_proposal(&self, id: u64) -> Result<serde_json::Value, BackendError> {
        to_json(&self.read_head(|s| system::proposal(s, id))?)
    }

    fn governance_members(&self) -> Result<Vec<BftMember>, BackendError> {
        self.read_head(|s| system::members(s))
    }

    fn role_mask(&self, address: Address) -> Result<u8, BackendError> {
        self.read_head(|s| system::role_mask(s, address))
    }

    fn chain_params(&self) -> Result<ChainParamsInfo, BackendError> {
        self.read_head(|s| {
            let p = system::params(s)?;
            Ok(ChainParamsInfo {
                gas_limit: p.gas_limit,
                block_time_ms: p.block_time_ms,
                min_gas_price: p.min_gas_price,
                votes_needed: system::votes_needed(s)?,
            })
        })
    }

    fn assets(&self, number: u64) -> Result<serde_json::Value, BackendError> {
        to_json(&self.read_at(number, |s| system::assets::assets(s))?)
    }

    fn asset(&self, token: Address, number: u64) -> Result<serde_json::Value, BackendError> {
        to_json(&self.read_at(number, |s| system::assets::asset(s, token))?)
    }

    fn asset_holders(
        &self,
        token: Address,
        start: u64,
        count: u64,
        number: u64,
    ) -> Result<Vec<(Address, U256)>, BackendError> {
        self.read_at(number, |s| system::assets::holders(s, token, start, count))
    }

    fn ballots(&self, number: u64) -> Result<serde_json::Value, BackendError> {
        to_json(&self.read_at(number, |s| system::ballots::ballots(s))?)
    }

    fn ballot(&self, id: u64, number: u64) -> Result<serde_json::Value, BackendError> {
        to_json(&self.read_at(number, |s| system::ballots::ballot(s, id))?)
    }

    fn chain_spec(&self) -> Result<ChainSpec, BackendError> {
        Ok((*self.chain.spec).clone())
    }

    fn state_proof(
        &self,
        address: Address,
        slots: &[B256],
        number: u64,
    ) -> Result<StateProof, BackendError> {
        let p = self.account_proof(address, slots, number)?;
        // Offline proofs carry the compact encoding; eth_getProof keeps
        // jmt's borsh (`account_proof`).
        let (proof, slot_proofs) = p.compact_proofs().map_err(internal)?;
        Ok(StateProof {
            account: p.account.map(|a| AccountFields {
                nonce: a.nonce,
                balance: a.balance,
                code_hash: a.code_hash,
            }),
            proof,
            slots: p
                .storage
                .into_iter()
                .zip(slot_proofs)
                .map(|(s, proof)| SlotProof {
                    slot: s.slot,
                    value: s.value,
                    proof,
                })
                .collect(),
        })
    }

    fn notary_batch(&self, root: B256, number: u64) -> Result<Option<NotaryRecord>, BackendError> {
        self.read_at(number, |s| system::notary::batch(s, root))
    }

    fn notary_revocation(
        &self,
        submitter: Address,
        document: B256,
        number: u64,
    ) -> Result<Option<Revocation>, BackendError> {
        self.read_at(number, |s| {
            system::notary::revocation(s, submitter, document)
        })
    }

    fn trace_product(
        &self,
        product_id: &str,
        number: u64,
    ) -> Result<Option<ProductRecord>, BackendError> {
        self.read_at(number, |s| system::trace::product(s, product_id))
    }

    fn trace_events(
        &self,
        product_id: &str,
        number: u64,
    ) -> Result<Vec<TraceEventRecord>, BackendError> {
        self.read_at(number, |s| system::trace::events(s, product_id))
    }

    fn settled_at(&self, id: B256, number: u64) -> Result<Option<u64>, BackendError> {
        self.read_at(number, |s| system::settlement::settled_at(s, id))
    }

    fn peers(&self) -> BoxFuture<'_, Result<Vec<PeerInfo>, BackendError>> {
        admin::peers(self.chain.net.control.get())
    }

    fn node_identity(&self) -> BoxFuture<'_, Result<NodeIdentity, BackendError>> {
        admin::node_identity(self.chain.net.control.get())
    }

    fn add_peer(&self, url: String) -> BoxFuture<'_, Result<(), BackendError>> {
        admin::add_peer(self.chain.net.control.get(), url)
    }

    fn remove_peer(&self, url: String) -> BoxFuture<'_, Result<bool, BackendError>> {
        admin::remove_peer(self.chain.net.control.get(), url)
    }

    fn block_peer(&self, peer: String) -> BoxFuture<'_, Result<(), BackendError>> {
        admin::block_peer(self.chain.net.control.get(), peer)
    }

    fn unblock_peer(&self, peer: String) -> BoxFuture<'_, Result<bool, BackendError>> {
        admin::unblock_peer(self.chain.net.control.get(), peer)
    }

    fn blocked_peers(&self) -> BoxFuture<'_, Result<Vec<String>, BackendError>> {
        admin::blocked_peers(self.chain.net.control.get())
    }
}
