//! The figures of `tally bench sync`: rates of the catch-up and where the
//! follower spent its time, as a table or JSON.
//!
//! Pure: built from counts, durations and a metrics snapshot, so it is
//! tested without running nodes.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;
use tally_node::MetricsSnapshot;

use crate::bench::report::rate;

/// The follower's time by pipeline stage, in milliseconds (`import_ms` is
/// the wall time of the import batches on the chain thread).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct FollowerTime {
    pub import_ms: f64,
    pub execute_ms: f64,
    /// On the state root thread, beside the chain thread: overlaps the
    /// other stages rather than adding to them.
    pub state_root_ms: f64,
    /// Writing blocks, and the commit at the end of each run.
    pub commit_ms: f64,
    /// Chain-thread import time not in execution or commit: seal check,
    /// waiting for senders, roots of transactions and receipts, head update.
    pub other_import_ms: f64,
}

impl FollowerTime {
    pub fn new(metrics: &MetricsSnapshot, import: Duration) -> Self {
        let import_ms = import.as_secs_f64() * 1e3;
        let staged = metrics.execute_ms + metrics.commit_ms;
        Self {
            import_ms,
            execute_ms: metrics.execute_ms,
            state_root_ms: metrics.state_root_ms,
            commit_ms: metrics.commit_ms,
            other_import_ms: (import_ms - staged).max(0.0),
        }
    }
}

/// The bench result.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SyncReport {
    pub txs_per_block: usize,
    pub senders: usize,
    pub recipients: usize,
    /// Blocks in the source chain (the follower's target head).
    pub source_blocks: u64,
    /// Blocks and transactions the follower imported.
    pub blocks: u64,
    pub transactions: u64,
    /// Whether the follower's head equals the source's (hash and state root).
    pub heads_match: bool,
    /// Seconds from starting the follower to its head equalling the source's.
    pub secs: f64,
    pub blocks_per_sec: f64,
    pub tx_per_sec: f64,
    /// Seconds from starting the follower to its first imported block
    /// (connecting, learning the peer's head, first download).
    pub first_block_secs: Option<f64>,
    pub follower_ms: FollowerTime,
    /// Blocks this run added to the source chain (0 when it was reused),
    /// and the seconds that took (untimed phase).
    pub generated_blocks: u64,
    pub generation_secs: f64,
}

/// What the timed phase measured.
#[derive(Clone, Debug, Default)]
pub struct Measured {
    pub source_blocks: u64,
    pub heads_match: bool,
    pub elapsed: Duration,
    pub first_block: Option<Duration>,
    pub metrics: MetricsSnapshot,
    pub import: Duration,
}

impl SyncReport {
    pub fn new(
        params: &super::source::Params,
        m: &Measured,
        generated_blocks: u64,
        generation_secs: f64,
    ) -> Self {
        let (blocks, transactions) = (m.metrics.blocks, m.metrics.transactions);
        Self {
            txs_per_block: params.txs_per_block,
            senders: params.senders,
            recipients: params.recipients,
            source_blocks: m.source_blocks,
            blocks,
            transactions,
            heads_match: m.heads_match,
            secs: m.elapsed.as_secs_f64(),
            blocks_per_sec: rate(blocks as usize, m.elapsed),
            tx_per_sec: rate(transactions as usize, m.elapsed),
            first_block_secs: m.first_block.map(|d| d.as_secs_f64()),
            follower_ms: FollowerTime::new(&m.metrics, m.import),
            generated_blocks,
            generation_secs,
        }
    }

    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let t = &self.follower_ms;
        let share = |ms: f64| {
            if t.import_ms > 0.0 {
                ms / t.import_ms * 100.0
            } else {
                0.0
            }
        };
        let _ = writeln!(
            out,
            "source chain      {} blocks x {} transfers ({} senders, {} recipients){}",
            self.source_blocks,
            self.txs_per_block,
            self.senders,
            self.recipients,
            if self.generated_blocks > 0 {
                format!(
                    "; generated {} blocks in {:.1}s",
                    self.generated_blocks, self.generation_secs
                )
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            out,
            "synced            {} blocks, {} transactions in {:.2}s{}",
            self.blocks,
            self.transactions,
            self.secs,
            if self.heads_match {
                ""
            } else {
                " (HEADS DIFFER)"
            }
        );
        let _ = writeln!(out, "blocks/s          {:.0}", self.blocks_per_sec);
        let _ = writeln!(out, "tx/s              {:.0}", self.tx_per_sec);
        if let Some(first) = self.first_block_secs {
            let _ = writeln!(out, "first block after {first:.2}s");
        }
        let _ = writeln!(out, "follower time     {:>10.0} ms import", t.import_ms);
        for (label, ms) in [
            ("execute", t.execute_ms),
            ("state root (own thread)", t.state_root_ms),
            ("commit", t.commit_ms),
            ("other (seal, senders, roots)", t.other_import_ms),
        ] {
            let _ = writeln!(
                out,
                "                  {ms:>10.0} ms {label} ({:.0}%)",
                share(ms)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::sync::source::Params;

    fn measured() -> Measured {
        Measured {
            source_blocks: 200,
            heads_match: true,
            elapsed: Duration::from_secs(4),
            first_block: Some(Duration::from_millis(500)),
            metrics: MetricsSnapshot {
                blocks: 200,
                transactions: 2_000,
                execute_ms: 1_000.0,
                state_root_ms: 500.0,
                commit_ms: 250.0,
                ..Default::default()
            },
            import: Duration::from_secs(2),
        }
    }

    #[test]
    fn rates_and_breakdown() {
        let params = Params {
            senders: 100,
            recipients: 1_000,
            txs_per_block: 10,
        };
        let r = SyncReport::new(&params, &measured(), 0, 0.0);
        assert_eq!(r.blocks_per_sec, 50.0);
        assert_eq!(r.tx_per_sec, 500.0);
        // The state root's time overlaps the chain thread's.
        assert_eq!(r.follower_ms.other_import_ms, 750.0);
        let table = r.to_table();
        assert!(table.contains("tx/s              500"), "{table}");
        assert!(table.contains("(50%)"), "{table}");
        assert!(!table.contains("generated"), "{table}");
    }

    #[test]
    fn json_names_the_figures() {
        let params = Params {
            senders: 1,
            recipients: 1,
            txs_per_block: 10,
        };
        let r = SyncReport::new(&params, &measured(), 200, 3.0);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["blocks"], 200);
        assert_eq!(v["transactions"], 2_000);
        assert_eq!(v["heads_match"], true);
        assert_eq!(v["follower_ms"]["execute_ms"], 1_000.0);
        assert!(r.to_table().contains("generated 200 blocks"));
    }
}
