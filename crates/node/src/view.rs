//! The engine's read-only view of the chain: the blocks of the run being
//! imported, the block tree, then the database.

use crate::adapters::ExecState;
use tally_chain::BlockTree;
use tally_consensus::ChainView;
use tally_primitives::{BftValidator, SealedHeader, B256};
use tally_state::ChainDb;

pub(crate) struct View<'a> {
    pub tree: &'a BlockTree,
    pub db: &'a ChainDb,
    /// Blocks written in the open write transaction, not yet readable
    /// from the database.
    pub recent: &'a [SealedHeader],
}

impl ChainView for View<'_> {
    fn header(&self, hash: &B256) -> Option<SealedHeader> {
        if let Some(h) = self.recent.iter().rev().find(|h| h.hash == *hash) {
            return Some(h.clone());
        }
        if let Some(e) = self.tree.get(hash) {
            return Some(e.header.clone());
        }
        if let Ok(Some(h)) = self.db.header_by_hash(*hash) {
            return Some(h);
        }
        // A side block stored but not in the tree (below the final block).
        self.db.side_block(hash).ok().flatten().map(|b| b.header)
    }

    fn bft_validators(&self, parent: &B256) -> Option<Vec<BftValidator>> {
        let number = self.db.header_by_hash(*parent).ok().flatten()?.number;
        bft_validators_after(self.db, number)
    }
}

/// The BFT validators that sign block `number + 1`: governance's set in
/// the state after block `number` (a committed canonical block). `None`
/// when that state cannot be read or holds no set.
pub(crate) fn bft_validators_after(db: &ChainDb, number: u64) -> Option<Vec<BftValidator>> {
    let snapshot = db.state_at(number).ok()?;
    let state = ExecState {
        snapshot: &snapshot,
        db,
    };
    tally_executor::system::validators(&state)
        .ok()
        .filter(|v| !v.is_empty())
}
