//! Polling filters (`eth_newFilter`, `eth_newBlockFilter`,
//! `eth_newPendingTransactionFilter`, `eth_getFilterChanges`), which ethers
//! v5 and web3.py use for events over HTTP.
//!
//! Block and log filters keep a cursor (the next block number to report)
//! and read the chain on each poll, so nothing is lost between polls.
//! Pending-transaction filters drain a broadcast receiver. Filters not
//! polled for [`FILTER_TIMEOUT`] are dropped, as geth does.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_rpc_types_eth::Filter;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::TryRecvError;

use tally_primitives::B256;

use crate::backend::NewBlock;

/// Filters idle longer than this are removed.
pub const FILTER_TIMEOUT: Duration = Duration::from_secs(300);
/// Upper bound on live filters, so clients that never uninstall cannot
/// grow the node's memory without limit.
pub const MAX_FILTERS: usize = 10_000;

/// What a filter watches. Block and log filters also hear of reorgs
/// (`reorgs`): blocks they already reported that a reorg abandoned move
/// their cursor back, so the new branch is reported, and a log filter
/// reports the abandoned logs again with `removed: true`.
pub enum FilterKind {
    /// New canonical blocks from `next` on.
    Blocks {
        next: u64,
        reorgs: broadcast::Receiver<Arc<NewBlock>>,
    },
    /// Logs matching `filter` in blocks from `next` on.
    Logs {
        filter: Filter,
        next: u64,
        reorgs: broadcast::Receiver<Arc<NewBlock>>,
    },
    /// Hashes of transactions accepted into the pool.
    PendingTxs { rx: broadcast::Receiver<B256> },
}

struct Entry {
    kind: FilterKind,
    last_poll: Instant,
}

/// The live filters of the server, keyed by their hex id.
#[derive(Default)]
pub struct FilterStore {
    filters: HashMap<String, Entry>,
}

impl FilterStore {
    /// Installs a filter and returns its id, or `None` when full.
    pub fn install(&mut self, kind: FilterKind) -> Option<String> {
        self.expire();
        if self.filters.len() >= MAX_FILTERS {
            return None;
        }
        let id = crate::server::random_hex_id();
        self.filters.insert(
            id.clone(),
            Entry {
                kind,
                last_poll: Instant::now(),
            },
        );
        Some(id)
    }

    /// Removes a filter; `false` if there was none with that id.
    pub fn uninstall(&mut self, id: &str) -> bool {
        self.filters.remove(&normalize(id)).is_some()
    }

    /// The filter with `id`, marked as just polled.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut FilterKind> {
        self.expire();
        let entry = self.filters.get_mut(&normalize(id))?;
        entry.last_poll = Instant::now();
        Some(&mut entry.kind)
    }

    fn expire(&mut self) {
        let now = Instant::now();
        self.filters
            .retain(|_, e| now.duration_since(e.last_poll) < FILTER_TIMEOUT);
    }
}

/// Pool transaction hashes received since the last poll. A lagging
/// receiver skips what it missed rather than failing the poll.
pub fn drain_pending(rx: &mut broadcast::Receiver<B256>) -> Vec<B256> {
    let mut out = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(hash) => out.push(hash),
            Err(TryRecvError::Lagged(_)) => continue,
            Err(TryRecvError::Empty | TryRecvError::Closed) => return out,
        }
    }
}

/// Blocks below `next` (already reported) that a reorg abandoned since the
/// last poll, in the order the node sent them (highest first). A receiver
/// that lagged cannot tell: it skips what it missed.
pub fn drain_abandoned(
    rx: &mut broadcast::Receiver<Arc<NewBlock>>,
    next: u64,
) -> Vec<Arc<NewBlock>> {
    let mut out = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(b) if b.removed && b.block.number() < next => out.push(b),
            Ok(_) | Err(TryRecvError::Lagged(_)) => continue,
            Err(TryRecvError::Empty | TryRecvError::Closed) => return out,
        }
    }
}

/// Ids are hex; accept any letter case and a missing or padded `0x`.
fn normalize(id: &str) -> String {
    let hex = id.trim().trim_start_matches("0x").trim_start_matches("0X");
    let hex = hex.trim_start_matches('0').to_ascii_lowercase();
    format!("0x{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_poll_uninstall() {
        let mut store = FilterStore::default();
        let (_tx, reorgs) = broadcast::channel(1);
        let id = store
            .install(FilterKind::Blocks { next: 5, reorgs })
            .unwrap();
        assert!(id.starts_with("0x"));
        match store.get_mut(&id.to_uppercase().replace("0X", "0x")) {
            Some(FilterKind::Blocks { next, .. }) => assert_eq!(*next, 5),
            _ => panic!("filter {id} not found"),
        }
        assert!(store.uninstall(&id));
        assert!(!store.uninstall(&id));
        assert!(store.get_mut(&id).is_none());
    }

    #[test]
    fn pending_drain_skips_lag() {
        let (tx, mut rx) = broadcast::channel(2);
        for i in 0..5u8 {
            tx.send(B256::repeat_byte(i)).unwrap();
        }
        let got = drain_pending(&mut rx);
        assert_eq!(got, vec![B256::repeat_byte(3), B256::repeat_byte(4)]);
        assert!(drain_pending(&mut rx).is_empty());
    }
}
