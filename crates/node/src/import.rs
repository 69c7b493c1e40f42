//! Verifying and importing blocks produced elsewhere (a peer's gossip, a
//! sync range): seal, signatures, execution and every root the header
//! claims, exactly as for any block from outside.
//!
//! A run of consecutive blocks is imported in one write transaction
//! ([`tally_state::BlockBatch`]), and for runs the senders are recovered on
//! a helper thread while the chain thread executes the blocks before them.

use crate::{adapters::PendingExec, chain::Chain, metrics::add, node::NodeError};
use std::{sync::Arc, time::Instant};
use tally_consensus::Engine;
use tally_executor::ExecError;
use tally_primitives::{
    block::{receipts_root, transactions_root},
    receipt::logs_bloom,
    Address, Block, SealedBlock, B256,
};
use tally_rpc::NewBlock;
use tally_state::BlockBatch;

/// Why a block from outside (a peer, a file) was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("block {number} has parent {parent}, but the head is {head}")]
    NotOnHead {
        number: u64,
        parent: B256,
        head: B256,
    },
    #[error(transparent)]
    Seal(#[from] tally_consensus::SealError),
    #[error("block {number}: transaction {index} has an invalid signature: {reason}")]
    BadSignature {
        number: u64,
        index: usize,
        reason: String,
    },
    #[error("block {number}: {source}")]
    Execution { number: u64, source: ExecError },
    #[error(
        "block {number}: header {field} is {claimed}, but executing the block gives {computed}"
    )]
    Mismatch {
        number: u64,
        field: &'static str,
        claimed: String,
        computed: String,
    },
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl From<tally_state::StateError> for ImportError {
    fn from(e: tally_state::StateError) -> Self {
        ImportError::Node(NodeError::from(e))
    }
}

/// A block with its transactions' senders recovered, or the first
/// signature that did not recover.
pub(crate) struct Recovered {
    pub block: Block,
    pub senders: Result<Vec<Address>, ImportError>,
}

/// Recovers the senders of `block`'s transactions, in parallel.
pub(crate) fn recover(block: Block) -> Recovered {
    let number = block.header.number;
    let senders = tally_crypto::recover_senders(&block.transactions)
        .into_iter()
        .enumerate()
        .map(|(index, r)| {
            r.map_err(|e| ImportError::BadSignature {
                number,
                index,
                reason: e.to_string(),
            })
        })
        .collect();
    Recovered { block, senders }
}

/// What became of a run of blocks.
pub(crate) struct Run {
    /// The blocks imported, in order; all are committed.
    pub imported: Vec<Arc<NewBlock>>,
    /// The first block refused and why; the blocks after it were not tried.
    pub error: Option<(u64, ImportError)>,
}

/// Compares a header field with what verification computed; formats only
/// on mismatch, so the common path allocates nothing.
fn check<T: PartialEq + std::fmt::Display>(
    number: u64,
    field: &'static str,
    claimed: T,
    computed: T,
) -> Result<(), ImportError> {
    if claimed == computed {
        return Ok(());
    }
    Err(ImportError::Mismatch {
        number,
        field,
        claimed: claimed.to_string(),
        computed: computed.to_string(),
    })
}

impl Chain {
    /// Verifies and commits one block durably.
    pub fn import_block(
        &self,
        engine: &dyn Engine,
        block: Block,
    ) -> Result<SealedBlock, ImportError> {
        let run = self.import_run(engine, std::iter::once(recover(block)));
        if let Some((_, e)) = run.error {
            return Err(e);
        }
        run.imported
            .first()
            .map(|b| b.block.clone())
            .ok_or_else(|| NodeError::Chain("the block was not imported".into()).into())
    }

    /// Verifies and commits consecutive blocks, senders recovered on a
    /// helper thread ahead of execution. The run is written in one durable
    /// commit at its end.
    pub fn import_blocks(&self, engine: &dyn Engine, blocks: Vec<Block>) -> Run {
        std::thread::scope(|scope| {
            // A small lead is enough to keep the chain thread fed.
            let (tx, rx) = std::sync::mpsc::sync_channel(16);
            scope.spawn(move || {
                for block in blocks {
                    // The chain thread stopped at a refused block.
                    if tx.send(recover(block)).is_err() {
                        break;
                    }
                }
            });
            self.import_run(engine, rx)
        })
    }

    /// Imports `blocks` in order into one write transaction and commits
    /// what verified, stopping at the first block refused.
    fn import_run(&self, engine: &dyn Engine, blocks: impl IntoIterator<Item = Recovered>) -> Run {
        let mut run = Run {
            imported: Vec::new(),
            error: None,
        };
        let next = self.head.read().number + 1;
        let mut batch = match self.db.begin_batch(true) {
            Ok(b) => b,
            Err(e) => {
                run.error = Some((next, e.into()));
                return run;
            }
        };
        for recovered in blocks {
            let number = recovered.block.header.number;
            match self.import_into(&mut batch, engine, recovered) {
                Ok(b) => run.imported.push(Arc::new(b)),
                Err(e) => {
                    run.error = Some((number, e));
                    break;
                }
            }
        }
        let started = Instant::now();
        if let Err(e) = batch.commit() {
            run.error = Some((next, e.into()));
            run.imported.clear();
            return run;
        }
        add(&self.metrics.commit_ns, started.elapsed());
        if let Err(e) = self.after_commit(&run.imported) {
            let after = run.imported.last().map_or(next, |b| b.block.number() + 1);
            run.error.get_or_insert((after, e.into()));
        }
        run
    }

    /// Verifies one block on the head of `batch` and appends it.
    fn import_into(
        &self,
        batch: &mut BlockBatch<'_>,
        engine: &dyn Engine,
        recovered: Recovered,
    ) -> Result<NewBlock, ImportError> {
        let Recovered { block, senders } = recovered;
        let parent = batch.head().clone();
        let header = block.header;
        if header.parent_hash != parent.hash {
            return Err(ImportError::NotOnHead {
                number: header.number,
                parent: header.parent_hash,
                head: parent.hash,
            });
        }
        engine.verify_seal(&parent, &header)?;
        let number = header.number;
        check(number, "gas limit", header.gas_limit, self.spec.gas_limit)?;
        check(number, "base fee", header.base_fee, self.spec.base_fee)?;
        check(
            number,
            "transactions root",
            header.transactions_root,
            transactions_root(&block.transactions),
        )?;
        let senders = senders?;

        let started = Instant::now();
        let outcome = {
            let state = batch.state()?;
            let mut env = self.block_env(&parent, header.timestamp);
            env.beneficiary = header.beneficiary;
            tally_executor::execute_block(&PendingExec(&state), env, &block.transactions, &senders)
                .map_err(|source| ImportError::Execution { number, source })?
        };
        add(&self.metrics.execute_ns, started.elapsed());
        check(number, "gas used", header.gas_used, outcome.gas_used)?;
        check(
            number,
            "receipts root",
            header.receipts_root,
            receipts_root(&outcome.receipts),
        )?;
        check(
            number,
            "logs bloom",
            header.logs_bloom,
            logs_bloom(&outcome.receipts),
        )?;
        let root_started = Instant::now();
        let (state_root, prepared) = batch.prepare_state_root(&outcome.changes)?;
        add(&self.metrics.state_root_ns, root_started.elapsed());
        check(number, "state root", header.state_root, state_root)?;

        let block = SealedBlock {
            header: header.seal_slow(),
            transactions: block.transactions,
            senders,
        };
        let write_started = Instant::now();
        batch.append(&block, &outcome.receipts, &outcome.changes, prepared)?;
        add(&self.metrics.commit_ns, write_started.elapsed());
        Ok(NewBlock {
            block,
            receipts: outcome.receipts,
        })
    }
}
