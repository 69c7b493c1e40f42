//! Where the indexer reads blocks: the node's canonical chain, by number.

use alloy_primitives::B256;
use tally_primitives::{Receipt, SealedBlock};

use crate::SourceError;

/// A canonical block with the receipts of its transactions, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedBlock {
    /// The block, with the recovered sender of each transaction.
    pub block: SealedBlock,
    /// `receipts[i]` is the outcome of `block.transactions[i]`.
    pub receipts: Vec<Receipt>,
}

/// The durable feed the index follows: the canonical chain as it is now.
///
/// The node implements it over its chain database. Because the index asks
/// by number and compares hashes, it needs no event stream: it resumes
/// from whatever it holds, after a restart, a crash, a reorg or an unwind.
pub trait BlockSource {
    /// The canonical head (number, hash); `None` for an empty chain.
    fn head(&self) -> Result<Option<(u64, B256)>, SourceError>;

    /// The canonical block at `number`; `None` above the head.
    fn block(&self, number: u64) -> Result<Option<IndexedBlock>, SourceError>;

    /// The canonical block hash at `number`. The indexer calls it to find
    /// where a reorg forked; override it when a hash is cheaper than a block.
    fn hash(&self, number: u64) -> Result<Option<B256>, SourceError> {
        Ok(self.block(number)?.map(|b| b.block.hash()))
    }
}

impl<S: BlockSource + ?Sized> BlockSource for &S {
    fn head(&self) -> Result<Option<(u64, B256)>, SourceError> {
        (**self).head()
    }
    fn block(&self, number: u64) -> Result<Option<IndexedBlock>, SourceError> {
        (**self).block(number)
    }
    fn hash(&self, number: u64) -> Result<Option<B256>, SourceError> {
        (**self).hash(number)
    }
}

/// How far a [`crate::Index::sync`] has come, reported after each batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The highest block number in the index (`None`: empty).
    pub indexed: Option<u64>,
    /// The source's head block number the sync is heading for.
    pub head: u64,
}

/// What one [`crate::Index::sync`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Blocks removed because the source no longer has them (reorg, unwind).
    pub unwound: u64,
    /// Blocks added.
    pub indexed: u64,
    /// Rows written (all tables).
    pub rows: u64,
    /// The index head afterwards.
    pub head: Option<u64>,
}
