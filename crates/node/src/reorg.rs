//! Moving the canonical chain to another branch of the block tree.
//!
//! A reorg unwinds the canonical chain to the common ancestor and applies
//! the new branch in one write transaction ([`tally_state::BlockBatch`]):
//! a crash in the middle leaves the old chain or the new one, never a mix.
//! The unwound blocks stay known as side blocks (a later reorg may return
//! to them). Side blocks are executed only when they become canonical
//! (ADR 0006): a branch that never wins costs its header checks only.

use crate::{
    chain::Chain,
    error::NodeError,
    import::{ImportError, Incoming},
    view::View,
};
use std::sync::Arc;
use tally_chain::{BlockTree, Route};
use tally_consensus::{Engine, Weight};
use tally_primitives::{SealedBlock, SealedHeader, B256};
use tally_rpc::NewBlock;

/// What a reorg changed.
pub(crate) struct Reorged {
    /// Blocks that left the canonical chain, highest first.
    pub reverted: Vec<Arc<NewBlock>>,
    /// Blocks that joined it, lowest first.
    pub committed: Vec<Arc<NewBlock>>,
}

/// A reorg that did not happen: nothing was written.
pub(crate) struct Refused {
    /// The block of the new branch that failed, when the branch is at fault.
    pub invalid: Option<B256>,
    pub error: ImportError,
}

impl Chain {
    /// Keeps `block` (checked against `parent` by the caller) as a side
    /// block with the weight of the chain it ends.
    pub fn store_side_block(&self, block: &SealedBlock, weight: Weight) -> Result<(), NodeError> {
        let mut batch = self.db.begin_batch()?;
        batch.put_side_block(block, weight.0)?;
        batch.commit()?;
        Ok(())
    }

    /// Forgets side blocks (invalid ones, or below the final block).
    pub fn drop_side_blocks(&self, hashes: &[B256]) -> Result<(), NodeError> {
        if hashes.is_empty() {
            return Ok(());
        }
        let mut batch = self.db.begin_batch()?;
        for hash in hashes {
            batch.drop_side_block(hash)?;
        }
        batch.commit()?;
        Ok(())
    }

    /// Carries out `route` from the head in one write transaction: every
    /// block of the new branch is executed and checked exactly as an
    /// imported block; the first that fails aborts the whole reorg.
    pub fn reorg(
        &self,
        engine: &dyn Engine,
        tree: &BlockTree,
        route: &Route,
    ) -> Result<Reorged, Refused> {
        let ours = |e: tally_state::StateError| Refused {
            invalid: None,
            error: e.into(),
        };
        let mut batch = self.db.begin_batch().map_err(ours)?;
        let removed = batch.unwind_to(route.ancestor.number).map_err(ours)?;
        for (block, _) in &removed {
            let hash = block.hash();
            let weight = tree.get(&hash).map_or(0, |e| e.weight.0);
            batch.put_side_block(block, weight).map_err(ours)?;
        }
        let mut weight = tree
            .get(&route.ancestor.hash)
            .map(|e| e.weight)
            .ok_or_else(|| Refused {
                invalid: None,
                error: NodeError::Chain(format!(
                    "the reorg's common ancestor {} is not in the block tree",
                    route.ancestor.hash
                ))
                .into(),
            })?;
        let mut committed = Vec::with_capacity(route.apply.len());
        let mut recent: Vec<SealedHeader> = Vec::with_capacity(route.apply.len());
        for header in &route.apply {
            let refused = |error| Refused {
                invalid: Some(header.hash),
                error,
            };
            let block = batch
                .take_side_block(&header.hash)
                .map_err(ours)?
                .ok_or_else(|| Refused {
                    invalid: None,
                    error: NodeError::Chain(format!(
                        "side block {} of the new branch is not stored",
                        header.hash
                    ))
                    .into(),
                })?;
            let view = View {
                tree,
                db: &self.db,
                recent: &recent,
            };
            // Senders were recovered when the block arrived.
            let incoming = Incoming {
                senders: Some(Ok(block.senders.clone())),
                block: block.to_block(),
            };
            let (new, w) = self
                .import_into(&mut batch, engine, &view, incoming, false, weight)
                .map_err(refused)?;
            weight = w;
            recent.push(new.block.header.clone());
            committed.push(Arc::new(new));
        }
        batch.commit().map_err(ours)?;
        let reverted = removed
            .into_iter()
            .map(|(block, receipts)| {
                Arc::new(NewBlock {
                    block,
                    receipts,
                    removed: true,
                })
            })
            .collect();
        Ok(Reorged {
            reverted,
            committed,
        })
    }
}
