//! The transaction index (hash to block and position), written in batches.
//!
//! Transaction hashes are random, so one block's transactions land on
//! pages all over the `tx_lookup` B-tree, and redb rewrites every page a
//! commit touches. Written block by block, a table of a few hundred
//! thousand transactions was rewritten almost whole at every block: about
//! 4 KB of writes per transaction, growing with the chain.
//!
//! So the newest blocks' entries live in memory ([`Lookups`]) and are
//! written together, sorted by hash, once they hold [`FLUSH_TXS`]
//! transactions or [`FLUSH_BLOCKS`] blocks: then each page of the table is
//! rewritten once per batch, not once per block. The table's mark (`META`
//! `tx_lookup_mark`, committed with the batch) is the highest block it
//! holds in full; on open, the blocks above it are read back into memory,
//! so a crash loses nothing.
//!
//! Readers look in their snapshot's table first, then in memory. An entry
//! in memory counts only if its block is canonical in the reader's
//! snapshot, so entries of blocks not yet committed, or abandoned by a
//! reorg, are never seen. A batch's entries stay in memory until the next
//! batch is written, for readers whose snapshot predates the batch.

use std::collections::{BTreeMap, HashMap};

use alloy_primitives::B256;
use parking_lot::RwLock;
use tally_primitives::{SealedBlock, TxLocation};
use tally_storage::{
    blocks::{self, BlockReader, TxLookup},
    Store,
};

use crate::StateError;

/// Write the batch once this many transactions wait in memory...
pub(crate) const FLUSH_TXS: usize = 50_000;
/// ...or this many blocks (so reopening reads back at most this many).
pub(crate) const FLUSH_BLOCKS: u64 = 512;

/// Where a transaction is: block number, position, block hash.
#[derive(Clone, Copy)]
struct TxAt {
    number: u64,
    index: u32,
    block: B256,
}

/// A canonical block's transactions, as the index needs them.
#[derive(Clone)]
pub(crate) struct BlockTxs {
    number: u64,
    hash: B256,
    txs: Vec<B256>,
}

impl BlockTxs {
    pub(crate) fn of(block: &SealedBlock) -> Self {
        BlockTxs {
            number: block.number(),
            hash: block.hash(),
            txs: block.tx_hashes().collect(),
        }
    }
}

/// What a write transaction changes in the index, applied to [`Lookups`]
/// when it commits.
#[derive(Default)]
pub(crate) struct Staged {
    /// The run unwound the chain to this block first.
    unwound_to: Option<u64>,
    /// Blocks the run appended, in order.
    added: Vec<BlockTxs>,
}

impl Staged {
    pub(crate) fn unwind(&mut self, number: u64) {
        self.unwound_to = Some(self.unwound_to.map_or(number, |n| n.min(number)));
        self.added.retain(|b| b.number <= number);
    }

    pub(crate) fn add(&mut self, block: &SealedBlock) {
        self.added.push(BlockTxs::of(block));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.unwound_to.is_none() && self.added.is_empty()
    }
}

/// The entries not yet in the table, shared by every clone of the
/// database handle.
pub(crate) struct Lookups {
    inner: RwLock<Memory>,
}

#[derive(Default)]
struct Memory {
    /// A commit failed after its changes were applied: read the file
    /// again before the next run.
    stale: bool,
    /// The table holds every canonical block up to here.
    mark: u64,
    /// Canonical blocks above `mark`, and the last batch's blocks (at or
    /// below it) for readers with older snapshots.
    blocks: BTreeMap<u64, BlockTxs>,
    txs: HashMap<B256, TxAt>,
    /// Transactions in `blocks` above `mark`.
    unwritten: usize,
}

impl Memory {
    fn insert(&mut self, block: BlockTxs) {
        if let Some(old) = self.blocks.remove(&block.number) {
            self.forget(&old);
        }
        for (i, h) in block.txs.iter().enumerate() {
            let at = TxAt {
                number: block.number,
                index: i as u32,
                block: block.hash,
            };
            self.txs.insert(*h, at);
        }
        if block.number > self.mark {
            self.unwritten += block.txs.len();
        }
        self.blocks.insert(block.number, block);
    }

    /// Drops a block's entries (those a later block has not taken over).
    fn forget(&mut self, block: &BlockTxs) {
        for h in &block.txs {
            if self
                .txs
                .get(h)
                .is_some_and(|at| at.number == block.number && at.block == block.hash)
            {
                self.txs.remove(h);
            }
        }
        if block.number > self.mark {
            self.unwritten = self.unwritten.saturating_sub(block.txs.len());
        }
    }

    fn remove_above(&mut self, number: u64) {
        let above: Vec<u64> = self.blocks.range(number + 1..).map(|(n, _)| *n).collect();
        for n in above {
            if let Some(b) = self.blocks.remove(&n) {
                self.forget(&b);
            }
        }
    }

    fn apply(&mut self, staged: Staged) {
        if let Some(n) = staged.unwound_to {
            self.remove_above(n);
            // The unwind removed the table's entries above `n` too.
            self.mark = self.mark.min(n);
        }
        for b in staged.added {
            self.insert(b);
        }
    }

    /// A batch is due once it is big enough, or spans enough blocks (even
    /// empty ones: the mark then moves, so reopening an idle chain reads
    /// few blocks back).
    fn due(&self, head: u64) -> bool {
        self.unwritten >= FLUSH_TXS || head.saturating_sub(self.mark) >= FLUSH_BLOCKS
    }

    /// The entries above the mark up to `head`.
    fn unwritten_entries(&self, head: u64) -> Vec<TxLookup> {
        let mut out = Vec::with_capacity(self.unwritten);
        for b in self.blocks.range(self.mark + 1..=head).map(|(_, b)| b) {
            out.extend(
                b.txs
                    .iter()
                    .enumerate()
                    .map(|(i, h)| (*h, b.number, i as u64)),
            );
        }
        out
    }

    /// The table now holds everything up to `head`: forget the previous
    /// batch's blocks and keep this one's for older snapshots.
    fn written(&mut self, head: u64) {
        let old: Vec<u64> = self.blocks.range(..=self.mark).map(|(n, _)| *n).collect();
        for n in old {
            if let Some(b) = self.blocks.remove(&n) {
                self.forget(&b);
            }
        }
        self.mark = head;
        self.unwritten = self
            .blocks
            .range(head + 1..)
            .map(|(_, b)| b.txs.len())
            .sum();
    }
}

impl Lookups {
    /// Reads the blocks above the table's mark back into memory.
    pub(crate) fn load(store: &Store) -> Result<Lookups, StateError> {
        let lookups = Lookups {
            inner: RwLock::new(Memory::default()),
        };
        lookups.reload(store)?;
        Ok(lookups)
    }

    /// Rebuilds the memory from the file (after opening, or after a
    /// commit failed and the memory may hold blocks that never landed).
    pub(crate) fn reload(&self, store: &Store) -> Result<(), StateError> {
        let txn = store.begin_read()?;
        let reader = BlockReader::new(&txn);
        let mut memory = Memory::default();
        if let (Some(mark), Some(head)) = (reader.lookup_mark()?, reader.head_number()?) {
            memory.mark = mark;
            for n in mark + 1..=head {
                let block = reader.block(n)?.ok_or(StateError::MissingBlock(n))?;
                memory.insert(BlockTxs::of(&block));
            }
        }
        *self.inner.write() = memory;
        Ok(())
    }

    /// A transaction in memory whose block is canonical in `reader`'s
    /// snapshot.
    pub(crate) fn find(
        &self,
        reader: &BlockReader<'_>,
        hash: &B256,
    ) -> Result<Option<TxLocation>, StateError> {
        let Some(at) = self.inner.read().txs.get(hash).copied() else {
            return Ok(None);
        };
        if reader.hash_of(at.number)? != Some(at.block) {
            return Ok(None);
        }
        Ok(Some(TxLocation {
            block_hash: at.block,
            block_number: at.number,
            index: u64::from(at.index),
        }))
    }

    /// Applies a run's changes before its transaction commits, and writes
    /// the batch into it when one is due. Returns the new mark if it wrote
    /// one: pass it to [`Lookups::committed`] once the commit lands.
    pub(crate) fn stage(
        &self,
        txn: &redb::WriteTransaction,
        staged: Staged,
        head: u64,
        store: &Store,
    ) -> Result<Option<u64>, StateError> {
        if self.inner.read().stale {
            self.reload(store)?;
        }
        let mut memory = self.inner.write();
        memory.apply(staged);
        if !memory.due(head) {
            // Files from before batching have no mark: record the one
            // this run relies on.
            blocks::set_lookup_mark(txn, memory.mark)?;
            return Ok(None);
        }
        let mut entries = memory.unwritten_entries(head);
        drop(memory);
        blocks::insert_tx_lookups(txn, &mut entries)?;
        blocks::set_lookup_mark(txn, head)?;
        Ok(Some(head))
    }

    /// The run's commit landed; `mark` is what [`Lookups::stage`] returned.
    pub(crate) fn committed(&self, mark: Option<u64>) {
        if let Some(head) = mark {
            self.inner.write().written(head);
        }
    }

    /// The run was staged but did not commit: the memory may hold its
    /// blocks, so the next run reads the file again first.
    pub(crate) fn failed(&self) {
        self.inner.write().stale = true;
    }
}
