//! Where the node's time goes: cumulative timings of the block pipeline
//! stages, for `tally bench` reports and the `/metrics` endpoint.

use serde::Serialize;
use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

/// Cumulative counters; cheap to update from any thread.
#[derive(Debug, Default)]
pub struct Metrics {
    pub blocks: AtomicU64,
    pub transactions: AtomicU64,
    pub gas: AtomicU64,
    /// Sender recovery and validation of transactions entering the pool.
    pub pool_admit_ns: AtomicU64,
    pub pool_admitted: AtomicU64,
    pub pool_rejected: AtomicU64,
    /// Choosing transactions from the pool for a block.
    pub select_ns: AtomicU64,
    pub execute_ns: AtomicU64,
    pub state_root_ns: AtomicU64,
    pub commit_ns: AtomicU64,
    /// Pool maintenance and subscriber notification after commit.
    pub post_commit_ns: AtomicU64,
    /// Network: connected peers (a gauge).
    pub peers: AtomicU64,
    /// Gossip messages received / sent, by kind.
    pub gossip_in_tx: AtomicU64,
    pub gossip_in_block: AtomicU64,
    pub gossip_out_tx: AtomicU64,
    pub gossip_out_block: AtomicU64,
    pub gossip_out_consensus: AtomicU64,
    /// Gossip or sync work dropped because a bounded queue was full.
    pub net_dropped: AtomicU64,
    /// Blocks from peers (gossip or sync) imported, and the time it took.
    pub blocks_imported: AtomicU64,
    pub import_ns: AtomicU64,
    /// Sync: the highest head a peer announced (a gauge).
    pub sync_highest: AtomicU64,
    /// Fork choice: reorgs carried out, blocks they unwound, blocks kept
    /// on side branches, blocks refused as invalid.
    pub reorgs: AtomicU64,
    pub reorged_blocks: AtomicU64,
    pub side_blocks: AtomicU64,
    pub invalid_blocks: AtomicU64,
    /// Mining: blocks this node's miner (or an external one) sealed.
    pub blocks_mined: AtomicU64,
}

/// A copy of [`Metrics`] at one moment, in milliseconds.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricsSnapshot {
    pub blocks: u64,
    pub transactions: u64,
    pub gas: u64,
    pub pool_admitted: u64,
    pub pool_rejected: u64,
    pub pool_admit_ms: f64,
    /// Part of `pool_admit_ms` spent recovering senders (summed over threads).
    pub sender_recovery_ms: f64,
    pub select_ms: f64,
    pub execute_ms: f64,
    pub state_root_ms: f64,
    pub commit_ms: f64,
    pub post_commit_ms: f64,
}

pub(crate) fn add(counter: &AtomicU64, d: Duration) {
    counter.fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
}

fn ms(c: &AtomicU64) -> f64 {
    c.load(Ordering::Relaxed) as f64 / 1e6
}

impl Metrics {
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            blocks: self.blocks.load(Ordering::Relaxed),
            transactions: self.transactions.load(Ordering::Relaxed),
            gas: self.gas.load(Ordering::Relaxed),
            pool_admitted: self.pool_admitted.load(Ordering::Relaxed),
            pool_rejected: self.pool_rejected.load(Ordering::Relaxed),
            pool_admit_ms: ms(&self.pool_admit_ns),
            sender_recovery_ms: 0.0,
            select_ms: ms(&self.select_ns),
            execute_ms: ms(&self.execute_ns),
            state_root_ms: ms(&self.state_root_ns),
            commit_ms: ms(&self.commit_ns),
            post_commit_ms: ms(&self.post_commit_ns),
        }
    }

    /// Prometheus text exposition of the counters, plus the gauges given.
    pub fn prometheus(&self, gauges: &[(&str, &str, f64)]) -> String {
        let s = self.snapshot();
        let mut out = String::new();
        for (name, help, v) in gauges {
            out.push_str(&format!(
                "# HELP tally_{name} {help}\n# TYPE tally_{name} gauge\ntally_{name} {v}\n"
            ));
        }
        let mut line = |name: &str, help: &str, kind: &str, v: f64| {
            out.push_str(&format!(
                "# HELP tally_{name} {help}\n# TYPE tally_{name} {kind}\ntally_{name} {v}\n"
            ));
        };
        line(
            "blocks_total",
            "Blocks produced or imported.",
            "counter",
            s.blocks as f64,
        );
        line(
            "transactions_total",
            "Transactions in committed blocks.",
            "counter",
            s.transactions as f64,
        );
        line(
            "gas_total",
            "Gas used by committed blocks.",
            "counter",
            s.gas as f64,
        );
        line(
            "pool_admitted_total",
            "Transactions accepted into the pool.",
            "counter",
            s.pool_admitted as f64,
        );
        line(
            "pool_rejected_total",
            "Transactions the pool refused.",
            "counter",
            s.pool_rejected as f64,
        );
        line(
            "pool_admit_seconds_total",
            "Time decoding, recovering and validating pool transactions.",
            "counter",
            s.pool_admit_ms / 1e3,
        );
        line(
            "execute_seconds_total",
            "Time executing blocks.",
            "counter",
            s.execute_ms / 1e3,
        );
        line(
            "state_root_seconds_total",
            "Time computing state roots.",
            "counter",
            s.state_root_ms / 1e3,
        );
        line(
            "commit_seconds_total",
            "Time committing blocks to disk.",
            "counter",
            s.commit_ms / 1e3,
        );
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64;
        let network = [
            ("peers", "Connected peers.", "gauge", get(&self.peers)),
            (
                "sync_highest_block",
                "Highest head announced by a peer.",
                "gauge",
                get(&self.sync_highest),
            ),
            (
                "gossip_received_transactions_total",
                "Transaction gossip messages received.",
                "counter",
                get(&self.gossip_in_tx),
            ),
            (
                "gossip_received_blocks_total",
                "Block gossip messages received.",
                "counter",
                get(&self.gossip_in_block),
            ),
            (
                "gossip_sent_transactions_total",
                "Transaction gossip messages sent.",
                "counter",
                get(&self.gossip_out_tx),
            ),
            (
                "gossip_sent_blocks_total",
                "Block gossip messages sent.",
                "counter",
                get(&self.gossip_out_block),
            ),
            (
                "gossip_sent_consensus_total",
                "BFT consensus messages sent.",
                "counter",
                get(&self.gossip_out_consensus),
            ),
            (
                "network_dropped_total",
                "Gossip or sync work dropped because a bounded queue was full.",
                "counter",
                get(&self.net_dropped),
            ),
            (
                "blocks_imported_total",
                "Blocks from peers (gossip or sync) imported.",
                "counter",
                get(&self.blocks_imported),
            ),
            (
                "import_seconds_total",
                "Time importing blocks from peers.",
                "counter",
                get(&self.import_ns) / 1e9,
            ),
            (
                "reorgs_total",
                "Reorgs to a heavier branch.",
                "counter",
                get(&self.reorgs),
            ),
            (
                "reorged_blocks_total",
                "Blocks unwound by reorgs.",
                "counter",
                get(&self.reorged_blocks),
            ),
            (
                "side_blocks_total",
                "Blocks kept on a side branch when they arrived.",
                "counter",
                get(&self.side_blocks),
            ),
            (
                "invalid_blocks_total",
                "Blocks from peers refused as invalid.",
                "counter",
                get(&self.invalid_blocks),
            ),
            (
                "blocks_mined_total",
                "Blocks sealed by this node's miner or its external miners.",
                "counter",
                get(&self.blocks_mined),
            ),
        ];
        for (name, help, kind, v) in network {
            line(name, help, kind, v);
        }
        out
    }
}
