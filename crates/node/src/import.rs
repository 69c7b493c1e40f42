//! Verifying and importing blocks produced elsewhere (a peer's gossip, a
//! sync range): seal, signatures, execution and every root the header
//! claims, exactly as for any block from outside.
//!
//! A run of consecutive blocks is imported in one write transaction
//! ([`tally_state::BlockBatch`]), and for runs the senders are recovered on
//! a helper thread while the chain thread executes the blocks before them.

use crate::{adapters::PendingExec, chain::Chain, error::NodeError, metrics::add, view::View};
use rayon::prelude::*;
use std::{
    sync::Arc,
    time::{Instant, SystemTime, UNIX_EPOCH},
};
use tally_chain::BlockTree;
use tally_consensus::{Engine, Millis, Weight};
use tally_executor::ExecError;
use tally_primitives::{
    block::{receipts_root, transactions_root},
    receipt::logs_bloom,
    Address, Block, SealedBlock, SealedHeader, TxEnvelope, B256,
};
use tally_rpc::NewBlock;
use tally_state::{BlockBatch, StateError};

/// Why a block from outside (a peer, a file) was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("block {number} has parent {parent}, but the head is {head}")]
    NotOnHead {
        number: u64,
        parent: B256,
        head: B256,
    },
    #[error("block {number} ({hash}) has parent {parent}, which this node does not know")]
    UnknownParent {
        number: u64,
        hash: B256,
        parent: B256,
    },
    #[error("block {number} is at or below the final block {final_number}: it can never become canonical")]
    BelowFinal { number: u64, final_number: u64 },
    #[error("block {number} ({hash}) builds on a block found invalid")]
    BadAncestor { number: u64, hash: B256 },
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
    #[error("block {number} has no commit certificate yet: a BFT block is imported only with one")]
    Uncertified { number: u64 },
    #[error("block {number}: its commit certificate does not hold: {reason}")]
    BadCertificate { number: u64, reason: String },
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl ImportError {
    /// Whether the block itself is invalid (its sender's fault), rather
    /// than not fitting our head or our own failure (disk, shutdown).
    pub fn is_invalid_block(&self) -> bool {
        match self {
            ImportError::NotOnHead { .. }
            | ImportError::UnknownParent { .. }
            | ImportError::BelowFinal { .. }
            | ImportError::Uncertified { .. }
            | ImportError::Node(_) => false,
            // Too far ahead of our clock is not proof of anything: it may
            // be valid a little later (or our clock is behind).
            ImportError::Seal(tally_consensus::SealError::TimestampInFuture { .. }) => false,
            ImportError::BadAncestor { .. }
            | ImportError::Seal(_)
            | ImportError::BadSignature { .. }
            | ImportError::Execution { .. }
            | ImportError::Mismatch { .. }
            | ImportError::BadCertificate { .. } => true,
        }
    }
}

impl From<tally_state::StateError> for ImportError {
    fn from(e: tally_state::StateError) -> Self {
        ImportError::Node(NodeError::from(e))
    }
}

/// A block to import, with its transactions' senders when they were
/// recovered ahead of it (runs); otherwise they are recovered after the
/// cheap checks (a single gossiped block).
pub(crate) struct Incoming {
    pub block: Block,
    pub senders: Option<Result<Vec<Address>, ImportError>>,
}

/// The node's clock, for the engines' future-timestamp rule.
pub(crate) fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Recovers the senders of `block`'s transactions, in parallel; the error
/// names the first signature that did not recover.
pub(crate) fn recover(number: u64, txs: &[TxEnvelope]) -> Result<Vec<Address>, ImportError> {
    tally_crypto::recover_senders(txs)
        .into_iter()
        .enumerate()
        .map(|(index, r)| {
            r.map_err(|e| ImportError::BadSignature {
                number,
                index,
                reason: e.to_string(),
            })
        })
        .collect()
}

impl Chain {
    /// The senders of `txs`: taken from the pool for the transactions it
    /// holds (their signatures were checked on admission, and the hash
    /// covers the signature), recovered in parallel for the rest.
    pub(crate) fn senders(
        &self,
        number: u64,
        txs: &[TxEnvelope],
    ) -> Result<Vec<Address>, ImportError> {
        let hashes: Vec<B256> = txs.iter().map(|t| *t.tx_hash()).collect();
        let known = self.pool.senders_of(&hashes);
        let missing: Vec<usize> = known
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_none())
            .map(|(i, _)| i)
            .collect();
        if missing.is_empty() {
            return Ok(known.into_iter().flatten().collect());
        }
        let unknown: Vec<TxEnvelope> = missing.iter().map(|&i| txs[i].clone()).collect();
        let recovered = recover(number, &unknown).map_err(|e| match e {
            ImportError::BadSignature {
                number,
                index,
                reason,
            } => ImportError::BadSignature {
                number,
                index: missing[index],
                reason,
            },
            other => other,
        })?;
        let mut senders = known;
        for (i, sender) in missing.into_iter().zip(recovered) {
            senders[i] = Some(sender);
        }
        Ok(senders.into_iter().flatten().collect())
    }
}

/// Blocks whose senders are recovered together, and how far ahead of
/// execution they may be.
const RECOVER_AHEAD: usize = 32;

/// A run keeps the state trees of its last this many blocks (and every
/// block imported alone keeps its tree): proofs at them work, and a reorg
/// can unwind that deep into synced blocks. Earlier blocks of a run are
/// verified in full but write only the tree nodes later trees need, which
/// cuts the bytes a synced block writes by about a third.
pub const KEEP_TREES: u64 = 128;

/// Headers of the run kept for the engine's look at ancestors (median
/// time past needs 11).
const RECENT_HEADERS: usize = 64;

/// How a run checks roots and which trees it keeps.
#[derive(Clone, Copy)]
struct Mode {
    keep_trees_from: u64,
    /// Check state roots on a second thread, behind execution.
    roots_behind: bool,
}

impl Mode {
    /// A block imported alone: its tree kept, its root checked before it is written.
    fn single() -> Self {
        Mode {
            keep_trees_from: 0,
            roots_behind: false,
        }
    }
}

/// What became of a run of blocks.
pub(crate) struct Run {
    /// The blocks imported, in order, with the weight of the chain each
    /// ends; all are committed.
    pub imported: Vec<Arc<NewBlock>>,
    pub weights: Vec<Weight>,
    /// The first block refused and why; the blocks after it were not tried.
    pub error: Option<(u64, ImportError)>,
}

/// Checks the header's gas used, receipts root and logs bloom against
/// what executing its block gave.
fn check_outcome(
    header: &tally_primitives::Header,
    outcome: &tally_executor::BlockOutcome,
) -> Result<(), ImportError> {
    let number = header.number;
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
    )
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
        tree: &BlockTree,
        block: Block,
    ) -> Result<Run, ImportError> {
        let incoming = Incoming {
            block,
            senders: None,
        };
        let run = self.import_run(engine, tree, Mode::single(), std::iter::once(incoming));
        match run.error {
            Some((_, e)) => Err(e),
            None if run.imported.is_empty() => {
                Err(NodeError::Chain("the block was not imported".into()).into())
            }
            None => Ok(run),
        }
    }

    /// Verifies and commits consecutive blocks, senders recovered on a
    /// helper thread ahead of execution and state roots checked on another
    /// behind it. The run is written in one durable commit at its end.
    pub fn import_blocks(&self, engine: &dyn Engine, tree: &BlockTree, blocks: Vec<Block>) -> Run {
        let mode = Mode {
            keep_trees_from: blocks
                .last()
                .map_or(0, |b| b.header.number.saturating_sub(KEEP_TREES - 1)),
            roots_behind: true,
        };
        std::thread::scope(|scope| {
            // A small lead is enough to keep the chain thread fed.
            let (tx, rx) = std::sync::mpsc::sync_channel(RECOVER_AHEAD);
            scope.spawn(move || {
                let mut blocks = blocks.into_iter().peekable();
                while blocks.peek().is_some() {
                    // Blocks in groups: the pool wakes once per group, not
                    // once per block, and a large block still splits.
                    let group: Vec<Block> = blocks.by_ref().take(RECOVER_AHEAD).collect();
                    let senders: Vec<_> = group
                        .par_iter()
                        .map(|b| recover(b.header.number, &b.transactions))
                        .collect();
                    for (block, senders) in group.into_iter().zip(senders) {
                        let senders = Some(senders);
                        // The chain thread stopped at a refused block.
                        if tx.send(Incoming { block, senders }).is_err() {
                            return;
                        }
                    }
                }
            });
            self.import_run(engine, tree, mode, rx)
        })
    }

    /// Imports `blocks` in order into one write transaction and commits
    /// what verified, stopping at the first block refused.
    fn import_run(
        &self,
        engine: &dyn Engine,
        tree: &BlockTree,
        mode: Mode,
        blocks: impl IntoIterator<Item = Incoming>,
    ) -> Run {
        let mut run = Run {
            imported: Vec::new(),
            weights: Vec::new(),
            error: None,
        };
        let next = self.head.read().number + 1;
        let mut batch = match self.db.begin_batch() {
            Ok(b) => b,
            Err(e) => {
                run.error = Some((next, e.into()));
                return run;
            }
        };
        batch.keep_trees_from(mode.keep_trees_from);
        let mut weight = match tree.get(&batch.head().hash) {
            Some(e) => e.weight,
            None => {
                let e = NodeError::Chain("the head is missing from the block tree".into());
                run.error = Some((next, e.into()));
                return run;
            }
        };
        // The run's latest headers, for the engine's look at ancestors.
        let mut recent: Vec<SealedHeader> = Vec::new();
        for incoming in blocks {
            let number = incoming.block.header.number;
            let view = View {
                tree,
                db: &self.db,
                recent: &recent,
            };
            match self.import_into(
                &mut batch,
                engine,
                &view,
                incoming,
                mode.roots_behind,
                weight,
            ) {
                Ok((b, w)) => {
                    weight = w;
                    if recent.len() >= 2 * RECENT_HEADERS {
                        recent.drain(..RECENT_HEADERS);
                    }
                    recent.push(b.block.header.clone());
                    run.imported.push(Arc::new(b));
                    run.weights.push(w);
                }
                Err(e) => {
                    run.error = Some((number, e));
                    break;
                }
            }
        }
        let roots_started = Instant::now();
        match batch.finish_roots() {
            Ok(busy) => {
                add(&self.metrics.state_root_ns, busy);
                tracing::debug!(
                    blocks = run.imported.len(),
                    ms = roots_started.elapsed().as_millis() as u64,
                    "waited for the run's state roots and wrote its tree"
                );
            }
            Err(StateError::StateRootMismatch {
                number,
                claimed,
                computed,
            }) => {
                drop(batch);
                let refused = ImportError::Mismatch {
                    number,
                    field: "state root",
                    claimed: claimed.to_string(),
                    computed: computed.to_string(),
                };
                return self.redo_before(engine, tree, mode, run.imported, number, refused);
            }
            Err(e) => {
                run.error = Some((next, e.into()));
                run.imported.clear();
                run.weights.clear();
                return run;
            }
        }
        let started = Instant::now();
        if let Err(e) = batch.commit() {
            run.error = Some((next, e.into()));
            run.imported.clear();
            run.weights.clear();
            return run;
        }
        add(&self.metrics.commit_ns, started.elapsed());
        tracing::debug!(
            blocks = run.imported.len(),
            ms = started.elapsed().as_millis() as u64,
            "committed a run"
        );
        if let Err(e) = self.after_commit(&run.imported) {
            let after = run.imported.last().map_or(next, |b| b.block.number() + 1);
            run.error.get_or_insert((after, e.into()));
        }
        run
    }

    /// A run whose block `refused` had a wrong state root found out after
    /// later blocks were written: imports the blocks before it again, with
    /// roots checked as they go, and reports the refused block.
    fn redo_before(
        &self,
        engine: &dyn Engine,
        tree: &BlockTree,
        mode: Mode,
        verified: Vec<Arc<NewBlock>>,
        refused: u64,
        error: ImportError,
    ) -> Run {
        let again = verified
            .iter()
            .take_while(|b| b.block.number() < refused)
            .map(|b| Incoming {
                block: Block {
                    header: b.block.header.header.clone(),
                    transactions: b.block.transactions.clone(),
                },
                senders: Some(Ok(b.block.senders.clone())),
            })
            .collect::<Vec<_>>();
        let mode = Mode {
            roots_behind: false,
            ..mode
        };
        let mut run = self.import_run(engine, tree, mode, again);
        run.error.get_or_insert((refused, error));
        run
    }

    /// Verifies one block on the head of `batch` and appends it; with
    /// `roots_behind`, its state root is checked on the batch's root thread.
    pub(crate) fn import_into(
        &self,
        batch: &mut BlockBatch<'_>,
        engine: &dyn Engine,
        view: &View<'_>,
        incoming: Incoming,
        roots_behind: bool,
        parent_weight: Weight,
    ) -> Result<(NewBlock, Weight), ImportError> {
        let Incoming { block, senders } = incoming;
        let parent = batch.head().clone();
        if block.header.parent_hash != parent.hash {
            return Err(ImportError::NotOnHead {
                number: block.header.number,
                parent: block.header.parent_hash,
                head: parent.hash,
            });
        }
        self.check_header(engine, view, &parent, &block)?;
        let header = block.header;
        let number = header.number;
        // Signatures last among the checks: recovery is the costly one.
        let senders = match senders {
            Some(recovered) => recovered?,
            None => recover(number, &block.transactions)?,
        };

        let started = Instant::now();
        let outcome = {
            let state = batch.state()?;
            let env = self.block_env(&parent, &header, engine.rewards(&header));
            tally_executor::execute_block(&PendingExec(&state), env, &block.transactions, &senders)
                .map_err(|source| ImportError::Execution { number, source })?
        };
        add(&self.metrics.execute_ns, started.elapsed());
        check_outcome(&header, &outcome)?;
        let prepared = if roots_behind {
            None
        } else {
            let root_started = Instant::now();
            let (state_root, prepared) = batch.prepare_state_root(&outcome.changes)?;
            add(&self.metrics.state_root_ns, root_started.elapsed());
            check(number, "state root", header.state_root, state_root)?;
            Some(prepared)
        };

        let block = SealedBlock {
            header: header.seal_slow(),
            transactions: block.transactions,
            senders,
        };
        let weight = engine.weight(parent_weight, &block.header);
        let write_started = Instant::now();
        match prepared {
            Some(p) => batch.append(&block, &outcome.receipts, &outcome.changes, p)?,
            None => batch.append_deferred(&block, &outcome.receipts, &outcome.changes)?,
        }
        batch.set_weight(&block.hash(), weight.0)?;
        add(&self.metrics.commit_ns, write_started.elapsed());
        Ok((
            NewBlock {
                block,
                receipts: outcome.receipts,
                removed: false,
            },
            weight,
        ))
    }

    /// Executes `block` on `parent` (the head) and checks every root,
    /// keeping the outcome as a template that commits without executing
    /// again: how a BFT validator judges a proposed block before it votes,
    /// and commits it once decided.
    pub(crate) fn execute_proposal(
        &self,
        engine: &dyn Engine,
        view: &View<'_>,
        parent: &SealedHeader,
        block: Block,
    ) -> Result<crate::producer::Template, ImportError> {
        let started = Instant::now();
        self.check_header(engine, view, parent, &block)?;
        let Block {
            header,
            transactions,
        } = block;
        let number = header.number;
        let senders = self.senders(number, &transactions)?;
        let snapshot = self.db.state_at(parent.number)?;
        let source = crate::adapters::ExecState {
            snapshot: &snapshot,
            db: &self.db,
        };
        let exec_started = Instant::now();
        let env = self.block_env(parent, &header, engine.rewards(&header));
        let outcome = tally_executor::execute_block(&source, env, &transactions, &senders)
            .map_err(|source| ImportError::Execution { number, source })?;
        add(&self.metrics.execute_ns, exec_started.elapsed());
        check_outcome(&header, &outcome)?;
        let root_started = Instant::now();
        let (state_root, prepared) = self
            .db
            .prepare_state_root(parent.number, &outcome.changes)?;
        add(&self.metrics.state_root_ns, root_started.elapsed());
        check(number, "state root", header.state_root, state_root)?;
        Ok(crate::producer::Template {
            parent: parent.clone(),
            header,
            transactions,
            senders,
            receipts: outcome.receipts,
            changes: outcome.changes,
            prepared,
            invalid: Vec::new(),
            started,
        })
    }

    /// The checks that need no execution: the engine's header rules on
    /// `parent`, the chain spec's gas limit and base fee, the transactions
    /// root. A side block passes these before it is kept.
    pub(crate) fn check_header(
        &self,
        engine: &dyn Engine,
        view: &View<'_>,
        parent: &SealedHeader,
        block: &Block,
    ) -> Result<(), ImportError> {
        let header = &block.header;
        engine.verify_header(view, parent, header, now_ms())?;
        let number = header.number;
        check(
            number,
            "gas limit",
            header.gas_limit,
            self.gas_limit_after(parent),
        )?;
        check(number, "base fee", header.base_fee, self.spec.base_fee)?;
        check(
            number,
            "transactions root",
            header.transactions_root,
            transactions_root(&block.transactions),
        )
    }
}
