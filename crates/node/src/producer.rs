//! Building blocks: a template from the pool's best transactions on the
//! head, executed and with every root computed, left for the engine's
//! sealer; and committing it once sealed.

use crate::{adapters::ExecState, chain::Chain, error::NodeError, metrics::add, view::View};
use std::{collections::HashSet, sync::Arc, time::Instant};
use tally_consensus::{Engine, Weight};
use tally_executor::{BlockBuilder, ExecError};
use tally_primitives::{
    block::{receipts_root, transactions_root},
    receipt::logs_bloom,
    Address, Bytes, Header, Receipt, SealedBlock, SealedHeader, StateChanges, TxEnvelope, B256,
};
use tally_rpc::NewBlock;
use tally_state::PreparedState;

/// A block built and executed on `parent`, waiting for its seal.
pub(crate) struct Template {
    pub parent: SealedHeader,
    /// The header with every field but the seal.
    pub header: Header,
    pub transactions: Vec<TxEnvelope>,
    pub senders: Vec<Address>,
    pub receipts: Vec<Receipt>,
    pub changes: StateChanges,
    pub prepared: PreparedState,
    /// Pool transactions that no longer execute, dropped once the block commits.
    pub invalid: Vec<B256>,
    pub started: Instant,
}

impl Chain {
    /// Builds a template on `parent` (the head) from the pool's best
    /// transactions at `timestamp` (the engine may raise it), with the
    /// engine's `extra_data` (a BFT block's parent certificate and evidence).
    pub fn build_template(
        &self,
        engine: &dyn Engine,
        view: &View<'_>,
        parent: &SealedHeader,
        timestamp: u64,
        extra_data: Bytes,
    ) -> Result<Template, NodeError> {
        let started = Instant::now();
        let mut header = Header {
            parent_hash: parent.hash,
            number: parent.number + 1,
            timestamp,
            beneficiary: self.beneficiary,
            gas_limit: self.gas_limit_after(parent),
            base_fee: self.spec.base_fee,
            extra_data,
            ..Default::default()
        };
        engine
            .prepare(view, parent, &mut header)
            .map_err(NodeError::Prepare)?;
        let candidates = self.pool.block_candidates(header.gas_limit);
        add(&self.metrics.select_ns, started.elapsed());

        let snapshot = self.db.state_at(parent.number)?;
        let source = ExecState {
            snapshot: &snapshot,
            db: &self.db,
        };
        let env = self.block_env(parent, &header, engine.rewards(&header));
        let exec_started = Instant::now();
        let mut builder = BlockBuilder::new(&source, env);
        let mut transactions = Vec::with_capacity(candidates.len());
        let mut senders = Vec::with_capacity(candidates.len());
        let mut invalid = Vec::new();
        // Senders whose next transaction did not go in: their later nonces
        // cannot run in this block, and stay pooled for the next.
        let mut stopped: HashSet<Address> = HashSet::new();
        for ptx in &candidates {
            if builder.gas_left() < 21_000 {
                break;
            }
            if stopped.contains(&ptx.sender) {
                continue;
            }
            match builder.execute(&ptx.tx, ptx.sender) {
                Ok(_) => {
                    transactions.push((*ptx.tx).clone());
                    senders.push(ptx.sender);
                }
                Err(ExecError::BlockGasExceeded { .. }) => {
                    stopped.insert(ptx.sender);
                }
                Err(ExecError::InvalidTransaction { reason, .. }) => {
                    tracing::debug!(tx = %ptx.hash, %reason, "dropping transaction that no longer executes");
                    invalid.push(ptx.hash);
                    stopped.insert(ptx.sender);
                }
                // The sender lost its role after the pool admitted it: the
                // transaction can never run, and must not stop the chain.
                Err(e @ ExecError::PermissionDenied { .. }) => {
                    tracing::info!(tx = %ptx.hash, "dropping transaction: {e}");
                    invalid.push(ptx.hash);
                    stopped.insert(ptx.sender);
                }
                Err(e) => return Err(NodeError::Chain(format!("executing block: {e}"))),
            }
        }
        let outcome = builder
            .finish()
            .map_err(|e| NodeError::Chain(format!("executing block: {e}")))?;
        add(&self.metrics.execute_ns, exec_started.elapsed());

        let root_started = Instant::now();
        let (state_root, prepared) = self
            .db
            .prepare_state_root(parent.number, &outcome.changes)?;
        add(&self.metrics.state_root_ns, root_started.elapsed());

        header.transactions_root = transactions_root(&transactions);
        header.receipts_root = receipts_root(&outcome.receipts);
        header.state_root = state_root;
        header.logs_bloom = logs_bloom(&outcome.receipts);
        header.gas_used = outcome.gas_used;
        header.seal = Bytes::new();
        Ok(Template {
            parent: parent.clone(),
            header,
            transactions,
            senders,
            receipts: outcome.receipts,
            changes: outcome.changes,
            prepared,
            invalid,
            started,
        })
    }

    /// Commits a template with its seal on the head it was built on, as
    /// the chain ending at `weight`.
    pub fn commit_template(
        &self,
        template: Template,
        sealed: Header,
        weight: Weight,
    ) -> Result<Arc<NewBlock>, NodeError> {
        let block = SealedBlock {
            header: sealed.seal_slow(),
            transactions: template.transactions,
            senders: template.senders,
        };
        let commit_started = Instant::now();
        let mut batch = self.db.begin_batch()?;
        batch.append(
            &block,
            &template.receipts,
            &template.changes,
            template.prepared,
        )?;
        batch.set_weight(&block.hash(), weight.0)?;
        batch.commit()?;
        add(&self.metrics.commit_ns, commit_started.elapsed());

        let post_started = Instant::now();
        for hash in &template.invalid {
            self.pool.remove(hash);
        }
        let new = Arc::new(NewBlock {
            block,
            receipts: template.receipts,
            removed: false,
        });
        self.after_commit(std::slice::from_ref(&new))?;
        add(&self.metrics.post_commit_ns, post_started.elapsed());
        tracing::info!(
            number = new.block.number(),
            hash = %new.block.hash(),
            txs = new.block.transactions.len(),
            gas = new.block.header.gas_used,
            ms = template.started.elapsed().as_millis() as u64,
            "sealed block"
        );
        Ok(new)
    }
}
