//! Building, importing and committing blocks. Only the chain thread calls
//! these, so blocks are committed one at a time and in order.

use crate::{
    adapters::{ExecState, PoolState},
    metrics::{add, Metrics},
    node::NodeError,
};
use parking_lot::RwLock;
use std::{
    sync::{atomic::Ordering, Arc},
    time::Instant,
};
use tally_consensus::Engine;
use tally_executor::{BlockBuilder, BlockEnv, ExecError};
use tally_primitives::{
    block::{receipts_root, transactions_root},
    receipt::logs_bloom,
    Address, Bytes, ChainSpec, Header, SealedBlock, SealedHeader, B256,
};
use tally_rpc::NewBlock;
use tally_state::{ChainDb, StateSnapshot};
use tally_txpool::{PoolError, TxPool};
use tokio::sync::broadcast;

/// The parts of the node the block pipeline works on.
#[derive(Clone)]
pub(crate) struct Chain {
    pub db: ChainDb,
    pub pool: TxPool,
    pub spec: Arc<ChainSpec>,
    pub beneficiary: Address,
    /// The canonical head, for readers that must not wait on the database.
    pub head: Arc<RwLock<SealedHeader>>,
    pub finalized: Arc<RwLock<u64>>,
    pub new_blocks: broadcast::Sender<Arc<NewBlock>>,
    pub metrics: Arc<Metrics>,
    /// A read view of the head's state, shared by every pool admission
    /// until the next block replaces it (opening one per transaction costs
    /// more than validating the transaction).
    pub latest_state: Arc<RwLock<Arc<StateSnapshot>>>,
    /// Blocks this node built, for gossip.
    pub produced: broadcast::Sender<Arc<SealedBlock>>,
    /// What the network tasks share with RPC.
    pub net: Arc<crate::net::NetShared>,
}

impl Chain {
    /// Admits raw transactions to the pool against the head's state, in
    /// parallel. A block may commit while they are validated: the pool then
    /// pruned against newer state than they were checked with, and one
    /// could sit queued behind a nonce that block mined, so their senders
    /// are re-read from the new state.
    pub fn admit(&self, raws: &[alloy_primitives::Bytes]) -> Vec<Result<B256, PoolError>> {
        let snapshot = self.latest_state.read().clone();
        let results = self.pool.add_raw_batch(raws, &PoolState(snapshot.clone()));
        self.refresh_if_stale(&snapshot, &results);
        results
    }

    /// [`Chain::admit`] for one transaction (RPC), without a parallel batch.
    pub fn admit_one(&self, raw: &[u8]) -> Result<B256, PoolError> {
        let snapshot = self.latest_state.read().clone();
        let result = self.pool.add_raw(raw, &PoolState(snapshot.clone()));
        self.refresh_if_stale(&snapshot, std::slice::from_ref(&result));
        result
    }

    fn refresh_if_stale(&self, used: &Arc<StateSnapshot>, results: &[Result<B256, PoolError>]) {
        let now = self.latest_state.read().clone();
        if Arc::ptr_eq(used, &now) {
            return;
        }
        let state = PoolState(now);
        let mut senders: Vec<Address> = results
            .iter()
            .flatten()
            .filter_map(|hash| self.pool.get(hash).map(|t| t.sender))
            .collect();
        senders.sort_unstable();
        senders.dedup();
        for sender in senders {
            self.pool.refresh_account(&sender, &state);
        }
    }

    pub fn block_env(&self, parent: &SealedHeader, timestamp: u64) -> BlockEnv {
        BlockEnv {
            chain_id: self.spec.chain_id,
            number: parent.number + 1,
            timestamp,
            beneficiary: self.beneficiary,
            gas_limit: self.spec.gas_limit,
            base_fee: self.spec.base_fee,
            prevrandao: parent.hash,
        }
    }

    /// Builds a block on the current head from the pool's best transactions,
    /// has the engine seal it, and commits it.
    pub fn build_block(
        &self,
        engine: &mut dyn Engine,
        parent_hash: B256,
        timestamp: u64,
    ) -> Result<SealedBlock, NodeError> {
        let parent = self.head.read().clone();
        if parent.hash != parent_hash {
            return Err(NodeError::Chain(format!(
                "engine asked to build on {parent_hash}, but the head is {}",
                parent.hash
            )));
        }
        let started = Instant::now();
        let candidates = self.pool.best_transactions(self.spec.gas_limit);
        add(&self.metrics.select_ns, started.elapsed());

        let snapshot = self.db.state_at(parent.number)?;
        let source = ExecState {
            snapshot: &snapshot,
            db: &self.db,
        };
        let env = self.block_env(&parent, timestamp);
        let exec_started = Instant::now();
        let mut builder = BlockBuilder::new(&source, env.clone());
        let mut txs = Vec::with_capacity(candidates.len());
        let mut senders = Vec::with_capacity(candidates.len());
        let mut invalid = Vec::new();
        for ptx in &candidates {
            if builder.gas_left() < 21_000 {
                break;
            }
            match builder.execute(&ptx.tx, ptx.sender) {
                Ok(_) => {
                    txs.push((*ptx.tx).clone());
                    senders.push(ptx.sender);
                }
                Err(ExecError::BlockGasExceeded { .. }) => continue,
                Err(ExecError::InvalidTransaction { reason, .. }) => {
                    tracing::debug!(tx = %ptx.hash, %reason, "dropping transaction that no longer executes");
                    invalid.push(ptx.hash);
                }
                Err(e) => return Err(NodeError::Chain(format!("executing block: {e}"))),
            }
        }
        let outcome = builder.finish();
        add(&self.metrics.execute_ns, exec_started.elapsed());

        let root_started = Instant::now();
        let (state_root, prepared) = self
            .db
            .prepare_state_root(parent.number, &outcome.changes)?;
        add(&self.metrics.state_root_ns, root_started.elapsed());

        let header = Header {
            parent_hash: parent.hash,
            number: env.number,
            timestamp,
            beneficiary: env.beneficiary,
            transactions_root: transactions_root(&txs),
            receipts_root: receipts_root(&outcome.receipts),
            state_root,
            logs_bloom: logs_bloom(&outcome.receipts),
            gas_limit: env.gas_limit,
            gas_used: outcome.gas_used,
            base_fee: env.base_fee,
            extra_data: Bytes::new(),
            seal: Bytes::new(),
        };
        let header = engine
            .seal(header)
            .map_err(|e| NodeError::Chain(format!("engine could not seal: {e}")))?;
        let block = SealedBlock {
            header: header.seal_slow(),
            transactions: txs,
            senders,
        };

        let commit_started = Instant::now();
        self.db
            .commit_block(&block, &outcome.receipts, &outcome.changes, prepared)?;
        add(&self.metrics.commit_ns, commit_started.elapsed());

        let post_started = Instant::now();
        for hash in &invalid {
            self.pool.remove(hash);
        }
        self.after_commit(&[Arc::new(NewBlock {
            block: block.clone(),
            receipts: outcome.receipts,
        })])?;
        add(&self.metrics.post_commit_ns, post_started.elapsed());
        tracing::info!(
            number = block.number(),
            hash = %block.hash(),
            txs = block.transactions.len(),
            gas = block.header.gas_used,
            ms = started.elapsed().as_millis() as u64,
            "sealed block"
        );
        Ok(block)
    }

    /// Bookkeeping once a run of blocks is durable: state view, pool,
    /// head, metrics and subscribers, once per run.
    pub(crate) fn after_commit(&self, run: &[Arc<NewBlock>]) -> Result<(), NodeError> {
        let Some(last) = run.last() else {
            return Ok(());
        };
        let latest = Arc::new(self.db.latest_state()?);
        *self.latest_state.write() = latest.clone();
        let mined: Vec<(Address, u64)> = run
            .iter()
            .flat_map(|b| b.block.transactions.iter().zip(&b.block.senders))
            .map(|(tx, s)| (*s, alloy_consensus::Transaction::nonce(tx)))
            .collect();
        self.pool.on_block_committed(&mined, &PoolState(latest));
        // The head moves last: whoever sees it sees the pool and the state
        // that go with it.
        *self.head.write() = last.block.header.clone();
        for b in run {
            self.metrics.blocks.fetch_add(1, Ordering::Relaxed);
            self.metrics
                .transactions
                .fetch_add(b.block.transactions.len() as u64, Ordering::Relaxed);
            self.metrics
                .gas
                .fetch_add(b.block.header.gas_used, Ordering::Relaxed);
            // No subscribers is fine: the send only fails when nobody listens.
            let _ = self.new_blocks.send(b.clone());
        }
        Ok(())
    }
}
