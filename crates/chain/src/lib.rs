//! The block tree: every block above the last final one, canonical or on a
//! side branch, with its fork-choice weight; which tip is best, and how to
//! get there from the head.
//!
//! Pure bookkeeping over headers, no IO: the node keeps the blocks
//! themselves durable (side blocks in their own table, the canonical chain
//! in the block tables), asks [`BlockTree::insert`] where a new block
//! goes, and when [`BlockTree::best`] is not the head, carries out the
//! [`Route`] [`BlockTree::route`] gives as one atomic unwind-and-apply.
//!
//! Fork choice: the heaviest tip wins (cumulative work for PoW; each
//! engine defines its [`Weight`]); between tips of equal weight the lower
//! hash wins, so every node that holds the same blocks picks the same head
//! whatever order they arrived in. Nothing at or below the root (the final
//! block) is ever unwound: [`BlockTree::finalize`] moves the root up and
//! drops the branches that no longer descend from it.

mod tree;

pub use tally_consensus::Weight;
pub use tree::{BlockTree, Entry, Inserted, Route, TreeError};
