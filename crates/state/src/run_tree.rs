//! The state tree of a run of blocks: the nodes the run made, and which of
//! them to write ([`crate::BlockBatch::keep_trees_from`]).

use crate::{
    trie::{self, EncodedNodes, Overlay, RecentNodes},
    StateError,
};
use jmt::storage::{Node, NodeKey, TreeReader};

pub(crate) struct RunTree {
    /// Nodes the run made, newest per path.
    recent: RecentNodes,
    /// Blocks from this number on write their own tree nodes.
    keep_from: u64,
    /// Nodes in `recent` that are not written yet.
    unwritten: bool,
}

impl RunTree {
    pub fn new(keep_from: u64) -> Self {
        RunTree {
            recent: RecentNodes::default(),
            keep_from,
            unwritten: false,
        }
    }

    /// The tree of the run's last block, over the nodes stored before it.
    pub fn reader<'a, R: TreeReader>(&'a self, base: &'a R) -> Overlay<'a, R, RecentNodes> {
        Overlay {
            base,
            nodes: &self.recent,
        }
    }

    /// Adds block `number`'s new nodes; returns the nodes to write now.
    /// The first kept block after unkept ones first writes the newest node
    /// at each path, which completes the tree it builds on.
    pub fn add(
        &mut self,
        number: u64,
        tree: Vec<(NodeKey, Node)>,
    ) -> Result<Vec<EncodedNodes>, StateError> {
        let mut out = Vec::new();
        if number >= self.keep_from {
            out.extend(self.unwritten()?);
            out.push(
                trie::encode_nodes(tree.iter().map(|(k, n)| (k, n))).map_err(StateError::trie)?,
            );
        } else {
            self.unwritten = true;
        }
        self.recent.insert_all(tree);
        Ok(out)
    }

    /// The nodes still to write at the end of the run: with those written
    /// before, the whole tree of its last block.
    pub fn unwritten(&mut self) -> Result<Option<EncodedNodes>, StateError> {
        if !std::mem::take(&mut self.unwritten) {
            return Ok(None);
        }
        Ok(Some(self.recent.encoded().map_err(StateError::trie)?))
    }
}
