//! The engine's read-only view of the chain: the blocks of the run being
//! imported, the block tree, then the database.

use tally_chain::BlockTree;
use tally_consensus::ChainView;
use tally_primitives::{SealedHeader, B256};
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
}
