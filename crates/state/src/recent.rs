//! Recently read blocks, kept decoded with their receipts.
//!
//! A wallet waiting for its transaction polls `eth_getTransactionReceipt`,
//! and each answer needs the whole block and all its receipts (cumulative
//! gas and log positions come from the transactions before it). Decoding
//! a block of 1,000 transfers for each of its 1,000 receipts made reading
//! back a `tally bench` run's receipts three quarters of `tally dev`'s CPU
//! for the whole run. The first reader of a block decodes it once; later
//! readers share it.
//!
//! Entries are keyed by block hash, and a hash fixes the block's header,
//! transactions and receipts, so an entry is never stale. Whether the
//! block is still canonical is the caller's question, asked of the
//! database on every read.

use std::{collections::VecDeque, sync::Arc};

use alloy_primitives::B256;
use parking_lot::Mutex;
use tally_primitives::BlockWithReceipts;

/// At most this many blocks are kept...
const MAX_BLOCKS: usize = 64;
/// ...holding at most this many transactions in all (about 30 MB of
/// decoded ERC-20 transfers); the oldest go first.
const MAX_TXS: usize = 32_768;

/// The cache: newest last.
#[derive(Default)]
pub(crate) struct Recent {
    entries: Mutex<VecDeque<(B256, Arc<BlockWithReceipts>)>>,
}

impl Recent {
    pub(crate) fn get(&self, hash: &B256) -> Option<Arc<BlockWithReceipts>> {
        self.entries
            .lock()
            .iter()
            .rev()
            .find(|(h, _)| h == hash)
            .map(|(_, e)| e.clone())
    }

    /// Keeps `entry` (unless another reader already did) and evicts the
    /// oldest beyond the caps. A block larger than the whole cache is not
    /// kept.
    pub(crate) fn insert(&self, hash: B256, entry: Arc<BlockWithReceipts>) {
        let size = entry.block.transactions.len();
        if size > MAX_TXS {
            return;
        }
        let mut entries = self.entries.lock();
        if entries.iter().any(|(h, _)| *h == hash) {
            return;
        }
        entries.push_back((hash, entry));
        let mut txs: usize = entries
            .iter()
            .map(|(_, e)| e.block.transactions.len())
            .sum();
        while entries.len() > MAX_BLOCKS || txs > MAX_TXS {
            let Some((_, old)) = entries.pop_front() else {
                break;
            };
            txs -= old.block.transactions.len();
        }
    }
}
