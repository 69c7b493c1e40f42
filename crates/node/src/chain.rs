//! [`Chain`]: the handles every part of the node shares (database, pool,
//! head and finality, subscribers, metrics), pool admission, and the
//! bookkeeping after blocks are committed or a reorg replaced some.
//!
//! Only the chain thread writes blocks ([`crate::driver`]); it builds them
//! with [`crate::producer`], verifies others' with [`crate::import`] and
//! moves between branches with [`crate::reorg`].

use crate::{
    adapters::PoolState, driver::ChainMsg, error::NodeError, metrics::Metrics, mining::MiningShared,
};
use alloy_eips::eip2718::Encodable2718;
use parking_lot::RwLock;
use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicBool, Ordering},
        mpsc::SyncSender,
        Arc,
    },
};
use tally_executor::BlockEnv;
use tally_primitives::{
    Address, BftExtra, ChainSpec, EngineSpec, Header, SealedBlock, SealedHeader, B256, U256,
};
use tally_rpc::NewBlock;
use tally_state::{ChainDb, StateSnapshot};
use tally_txpool::{PoolError, PooledTx, TxPool};
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
    /// The highest block the engine says is unlikely to be unwound.
    pub safe: Arc<RwLock<u64>>,
    /// The highest final block: the node never unwinds it.
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
    pub net: Arc<crate::net_state::NetShared>,
    /// The miner's state and the work offered to external miners.
    pub mining: Arc<MiningShared>,
    /// What a header proves on its own (sync checks branches with it
    /// before downloading their bodies).
    pub seal_work: tally_consensus::SealWork,
    /// Set once the chain database can no longer be written.
    pub fault: Arc<crate::fault::StorageFault>,
    /// Wakes the chain thread for transactions new in the pool.
    pub txs_wake: Arc<TxsWake>,
}

/// Wakes the chain thread for transactions new in the pool, with at most
/// one wake-up waiting in its queue. An admission per transaction (3,000 a
/// second under load) would otherwise fill the queue while a block is
/// being committed, and the consensus messages behind them would be
/// dropped, leaving a loaded validator behind its peers.
#[derive(Debug, Default)]
pub(crate) struct TxsWake {
    queued: AtomicBool,
}

impl TxsWake {
    /// Queues a [`ChainMsg::TxsPending`] unless one is already waiting.
    pub fn notify(&self, chain_tx: &SyncSender<ChainMsg>) {
        if !self.queued.swap(true, Ordering::AcqRel)
            && chain_tx.try_send(ChainMsg::TxsPending).is_err()
        {
            // Full of other work (or stopped): the next admission tries again.
            self.queued.store(false, Ordering::Release);
        }
    }

    /// The chain thread took the wake-up: admissions from now on send
    /// another. Called before it looks at the pool, so none is missed.
    pub fn taken(&self) {
        self.queued.store(false, Ordering::Release);
    }
}

impl Chain {
    /// The pool's view of `snapshot`: a consortium chain's roles and
    /// minimum gas price apply.
    pub(crate) fn pool_state(&self, snapshot: Arc<StateSnapshot>) -> PoolState {
        PoolState {
            snapshot,
            consortium: self.is_bft(),
        }
    }

    /// The gas limit of the child of `parent`: the chain spec's, or on a
    /// consortium chain what governance set in the state after `parent`.
    pub(crate) fn gas_limit_after(&self, parent: &SealedHeader) -> u64 {
        if !self.is_bft() {
            return self.spec.gas_limit;
        }
        self.governance_params(parent.number)
            .map_or(self.spec.gas_limit, |p| p.gas_limit)
    }

    /// Governance's chain parameters in the state after block `number`.
    pub(crate) fn governance_params(
        &self,
        number: u64,
    ) -> Option<tally_executor::system::ChainParams> {
        let snapshot = self.db.state_at(number).ok()?;
        let state = crate::adapters::ExecState {
            snapshot: &snapshot,
            db: &self.db,
        };
        tally_executor::system::params(&state)
            .ok()
            .filter(|p| p.gas_limit > 0)
    }

    /// Whether the chain runs BFT consensus.
    pub fn is_bft(&self) -> bool {
        matches!(self.spec.engine, EngineSpec::Bft(_))
    }

    /// Admits raw transactions to the pool against the head's state, in
    /// parallel. A block may commit while they are validated: the pool then
    /// pruned against newer state than they were checked with, and one
    /// could sit queued behind a nonce that block mined, so their senders
    /// are re-read from the new state.
    pub fn admit(&self, raws: &[alloy_primitives::Bytes]) -> Vec<Result<B256, PoolError>> {
        if let Some(reason) = self.fault.reason() {
            return vec![Err(unavailable(reason)); raws.len()];
        }
        let snapshot = self.latest_state.read().clone();
        let results = self
            .pool
            .add_raw_batch(raws, &self.pool_state(snapshot.clone()));
        self.refresh_if_stale(&snapshot, &results);
        results
    }

    /// [`Chain::admit`] for one transaction (RPC), without a parallel batch.
    pub fn admit_one(&self, raw: &[u8]) -> Result<B256, PoolError> {
        if let Some(reason) = self.fault.reason() {
            return Err(unavailable(reason));
        }
        let snapshot = self.latest_state.read().clone();
        let result = self.pool.add_raw(raw, &self.pool_state(snapshot.clone()));
        self.refresh_if_stale(&snapshot, std::slice::from_ref(&result));
        result
    }

    fn refresh_if_stale(&self, used: &Arc<StateSnapshot>, results: &[Result<B256, PoolError>]) {
        let now = self.latest_state.read().clone();
        if Arc::ptr_eq(used, &now) {
            return;
        }
        let state = self.pool_state(now);
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

    /// The EVM's view of `header`, the child of `parent`.
    pub fn block_env(
        &self,
        parent: &SealedHeader,
        header: &Header,
        rewards: Vec<(Address, U256)>,
    ) -> BlockEnv {
        // BFT: the equivocation evidence the proposer included is recorded
        // on chain. The engine refused headers whose extra does not decode.
        let evidence = match &self.spec.engine {
            EngineSpec::Bft(_) => BftExtra::decode(&header.extra_data)
                .map(|e| e.evidence)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        BlockEnv {
            chain_id: self.spec.chain_id,
            number: parent.number + 1,
            timestamp: header.timestamp,
            beneficiary: header.beneficiary,
            gas_limit: header.gas_limit,
            base_fee: self.spec.base_fee,
            prevrandao: parent.hash,
            rewards,
            evidence,
        }
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
        self.pool
            .on_block_committed(&mined, &self.pool_state(latest));
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

    /// Bookkeeping once a reorg is durable: `reverted` left the canonical
    /// chain (highest first), `committed` joined it (lowest first). The
    /// transactions only the abandoned blocks held go back to the pool;
    /// subscribers see the abandoned blocks as removed, then the new ones.
    pub(crate) fn after_reorg(
        &self,
        reverted: &[Arc<NewBlock>],
        committed: &[Arc<NewBlock>],
    ) -> Result<(), NodeError> {
        let latest = Arc::new(self.db.latest_state()?);
        *self.latest_state.write() = latest.clone();
        let state = self.pool_state(latest);
        let mined: Vec<(Address, u64)> = committed
            .iter()
            .flat_map(|b| b.block.transactions.iter().zip(&b.block.senders))
            .map(|(tx, s)| (*s, alloy_consensus::Transaction::nonce(tx)))
            .collect();
        let included: HashSet<B256> = committed.iter().flat_map(|b| b.block.tx_hashes()).collect();
        // Oldest first, so each sender's nonces go back in order.
        let mut returned = 0usize;
        for b in reverted.iter().rev() {
            for (tx, sender) in b.block.transactions.iter().zip(&b.block.senders) {
                if included.contains(tx.tx_hash()) {
                    continue;
                }
                let len = tx.encode_2718_len();
                // Refused ones (already mined on the new branch under another
                // hash, or no longer valid) are simply gone, as in geth.
                if self
                    .pool
                    .add_pooled(PooledTx::new(tx.clone(), *sender, len), &state)
                    .is_ok()
                {
                    returned += 1;
                    // Peers that never saw it (the other side of a
                    // partition) get it again, so any miner can include it.
                    if let Some(gossip) = self.net.local_txs.get() {
                        let _ = gossip.try_send(tx.encoded_2718().into());
                    }
                }
            }
        }
        self.pool.on_block_committed(&mined, &state);
        if let Some(last) = committed.last() {
            *self.head.write() = last.block.header.clone();
        }
        self.metrics.reorgs.fetch_add(1, Ordering::Relaxed);
        self.metrics
            .reorged_blocks
            .fetch_add(reverted.len() as u64, Ordering::Relaxed);
        tracing::info!(
            reverted = reverted.len(),
            committed = committed.len(),
            returned_txs = returned,
            "reorg"
        );
        for b in reverted {
            let _ = self.new_blocks.send(b.clone());
        }
        for b in committed {
            self.metrics.blocks.fetch_add(1, Ordering::Relaxed);
            let _ = self.new_blocks.send(b.clone());
        }
        Ok(())
    }
}

/// The pool's answer while the node cannot write its database.
fn unavailable(reason: &str) -> PoolError {
    PoolError::Unavailable(reason.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_wake_up_waits_however_many_admissions_come() {
        let (tx, rx) = std::sync::mpsc::sync_channel(64);
        let wake = TxsWake::default();
        for _ in 0..1_000 {
            wake.notify(&tx);
        }
        assert!(matches!(rx.try_recv(), Ok(ChainMsg::TxsPending)));
        assert!(rx.try_recv().is_err(), "a second wake-up was queued");

        // Taken: the next admission wakes the thread again.
        wake.taken();
        wake.notify(&tx);
        wake.notify(&tx);
        assert!(matches!(rx.try_recv(), Ok(ChainMsg::TxsPending)));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_full_queue_does_not_lose_the_next_wake_up() {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        tx.send(ChainMsg::Shutdown).unwrap();
        let wake = TxsWake::default();
        wake.notify(&tx); // refused: the queue is full
        assert!(matches!(rx.try_recv(), Ok(ChainMsg::Shutdown)));
        wake.notify(&tx);
        assert!(matches!(rx.try_recv(), Ok(ChainMsg::TxsPending)));
    }
}
