//! The bench's figures: what happened to each transaction in the timed phase,
//! reduced to counts, rates and latency percentiles, shown as a table or JSON.
//!
//! Pure: no IO and no clock, so the maths is tested with hand-made outcomes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

/// What happened to one transaction. Times are offsets from the start of the
/// timed phase, so they need no clock to compare.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxOutcome {
    /// When the batch carrying it was sent.
    pub submitted_at: Option<Duration>,
    /// The node's error message if eth_sendRawTransaction refused it.
    pub rejected: Option<String>,
    /// When the bench first saw a block containing it.
    pub included_at: Option<Duration>,
    /// The number of that block.
    pub block: Option<u64>,
    /// Included, but its receipt has status 0 or is missing.
    pub failed: bool,
    /// Accepted, then forgotten by the node: neither pooled nor in a block
    /// (replaced, evicted, or found invalid when a block was built).
    pub dropped: bool,
}

/// The run's parameters, echoed in the report so a saved JSON is self-describing.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RunInfo {
    pub rpc: String,
    pub chain_id: u64,
    pub kind: String,
    pub txs: usize,
    pub senders: usize,
    pub batch: usize,
    pub concurrency: usize,
    /// Nodes the batches were sent to, round-robin (1: `--rpc` alone).
    pub endpoints: usize,
    /// The gas limit of each token transfer (0 for plain transfers).
    pub token_gas: u64,
    /// The offered load (`--rate`, tx/s); absent when the bench sends as
    /// fast as the node accepts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

/// Latency from submission to the first sighting of the including block.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The bench result.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    #[serde(flatten)]
    pub run: RunInfo,
    /// Accepted by eth_sendRawTransaction.
    pub submitted: usize,
    /// Refused by eth_sendRawTransaction (and never seen in a block).
    pub rejected: usize,
    /// Seen in a block.
    pub included: usize,
    /// Included with receipt status 0 (or no receipt).
    pub failed: usize,
    /// Accepted but not seen in a block before the timeout.
    pub pending: usize,
    /// Accepted, then forgotten by the node (see [`TxOutcome::dropped`]):
    /// the bench stops waiting for these.
    pub dropped: usize,
    /// Seconds from the first batch sent to the last batch answered.
    pub submit_secs: f64,
    /// Accepted transactions per second over `submit_secs`.
    pub submit_tps: f64,
    /// Seconds from the first submission to the last inclusion.
    pub e2e_secs: f64,
    /// Included transactions per second over `e2e_secs`.
    pub throughput_tps: f64,
    pub latency: Latency,
    /// Distinct blocks that hold at least one bench transaction.
    pub blocks_used: usize,
    pub avg_txs_per_block: f64,
    /// Rejection messages (numbers replaced by `N`, see [`message_class`])
    /// and how often each occurred.
    pub rejections: BTreeMap<String, usize>,
    /// Where a Tally node spent its time during the run (`tally_metrics`
    /// after minus before, milliseconds); absent for other nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_time_ms: Option<BTreeMap<String, f64>>,
    /// Block propagation to the `--watch` nodes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub propagation: Vec<NodePropagation>,
}

/// The stages `tally_metrics` reports, in pipeline order, with their labels.
const STAGES: [(&str, &str); 7] = [
    (
        "poolAdmitMs",
        "RPC decode + sender recovery + pool validation",
    ),
    ("senderRecoveryMs", "  of which sender recovery (secp256k1)"),
    ("selectMs", "choosing transactions from the pool"),
    ("executeMs", "EVM execution"),
    ("stateRootMs", "state root"),
    ("commitMs", "commit to disk"),
    ("postCommitMs", "pool update + notifications"),
];

/// The change of every numeric counter between two `tally_metrics` answers.
pub fn metrics_delta(
    before: &serde_json::Value,
    after: &serde_json::Value,
) -> Option<BTreeMap<String, f64>> {
    let (b, a) = (before.as_object()?, after.as_object()?);
    let delta: BTreeMap<String, f64> = a
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_f64()? - b.get(k)?.as_f64()?)))
        .collect();
    (!delta.is_empty()).then_some(delta)
}

/// The nearest-rank percentile `p` (0..=100) of ascending `sorted` values:
/// the smallest value with at least p% of the values at or below it.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.saturating_sub(1).min(sorted.len() - 1);
    sorted.get(index).copied()
}

/// A rejection message with its numbers (decimal, or hex such as hashes)
/// replaced by `N`, so "nonce too high: expected 3, got 7" and "... expected
/// 4, got 9" are counted as one kind of rejection.
pub fn message_class(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut chars = msg.char_indices().peekable();
    let mut prev_alnum = false;
    while let Some((start, c)) = chars.next() {
        if c.is_ascii_digit() && !prev_alnum {
            // Digits, hex letters, and the x of a leading "0x".
            while let Some(&(i, d)) = chars.peek() {
                if !(d.is_ascii_hexdigit() || (d == 'x' && i == start + 1 && c == '0')) {
                    break;
                }
                chars.next();
            }
            out.push('N');
            prev_alnum = true;
        } else {
            out.push(c);
            prev_alnum = c.is_alphanumeric();
        }
    }
    out
}

/// `count` per second over `window`; 0 for an empty window rather than inf.
pub fn rate(count: usize, window: Duration) -> f64 {
    let secs = window.as_secs_f64();
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}

fn ms(d: Option<Duration>) -> f64 {
    d.map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

impl Report {
    /// Reduces per-transaction outcomes. `submit_window` runs from the first
    /// batch sent to the last batch answered.
    pub fn new(run: RunInfo, outcomes: &[TxOutcome], submit_window: Duration) -> Self {
        let mut rejections = BTreeMap::new();
        let mut latencies = Vec::new();
        let mut blocks = BTreeSet::new();
        let (mut submitted, mut rejected, mut included, mut failed) = (0, 0, 0, 0);
        let (mut pending, mut dropped) = (0, 0);
        let mut first_submit: Option<Duration> = None;
        let mut last_inclusion: Option<Duration> = None;

        for o in outcomes {
            if let Some(at) = o.submitted_at {
                first_submit = Some(first_submit.map_or(at, |f| f.min(at)));
            }
            // A transaction the node refused but which still got in (e.g.
            // "already known" after a retry) counts as included, not rejected.
            match (&o.included_at, &o.rejected) {
                (Some(at), _) => {
                    included += 1;
                    last_inclusion = Some(last_inclusion.map_or(*at, |l| l.max(*at)));
                    if let Some(sent) = o.submitted_at {
                        latencies.push(at.saturating_sub(sent));
                    }
                    if let Some(b) = o.block {
                        blocks.insert(b);
                    }
                    if o.failed {
                        failed += 1;
                    }
                }
                (None, Some(msg)) => {
                    rejected += 1;
                    *rejections.entry(message_class(msg)).or_insert(0) += 1;
                }
                (None, None) => {}
            }
            if o.submitted_at.is_some() && o.rejected.is_none() {
                submitted += 1;
                if o.included_at.is_none() && o.dropped {
                    dropped += 1;
                } else if o.included_at.is_none() {
                    pending += 1;
                }
            }
        }
        latencies.sort_unstable();
        let e2e = match (first_submit, last_inclusion) {
            (Some(f), Some(l)) => l.saturating_sub(f),
            _ => Duration::ZERO,
        };
        let latency = Latency {
            p50_ms: ms(percentile(&latencies, 50.0)),
            p90_ms: ms(percentile(&latencies, 90.0)),
            p99_ms: ms(percentile(&latencies, 99.0)),
            max_ms: ms(latencies.last().copied()),
        };
        let avg_txs_per_block = if blocks.is_empty() {
            0.0
        } else {
            included as f64 / blocks.len() as f64
        };
        Report {
            run,
            submitted,
            rejected,
            included,
            failed,
            pending,
            dropped,
            submit_secs: submit_window.as_secs_f64(),
            submit_tps: rate(submitted, submit_window),
            e2e_secs: e2e.as_secs_f64(),
            throughput_tps: rate(included, e2e),
            latency,
            blocks_used: blocks.len(),
            avg_txs_per_block,
            rejections,
            node_time_ms: None,
            propagation: Vec::new(),
        }
    }

    /// The human-readable table.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let r = &self.run;
        let rows: Vec<(&str, String)> = vec![
            ("rpc", r.rpc.clone()),
            ("chain id", r.chain_id.to_string()),
            (
                "workload",
                format!(
                    "{} txs of kind {} from {} senders, batch {}, {} in flight{}{}",
                    r.txs,
                    r.kind,
                    r.senders,
                    r.batch,
                    r.concurrency,
                    if r.endpoints > 1 {
                        format!(", sent to {} nodes", r.endpoints)
                    } else {
                        String::new()
                    },
                    r.rate
                        .map(|rate| format!(", offered at {rate:.0} tx/s"))
                        .unwrap_or_default()
                ),
            ),
            (
                "token gas limit",
                if r.token_gas == 0 {
                    "-".to_string()
                } else {
                    format!("{} per transfer", r.token_gas)
                },
            ),
            ("submitted", self.submitted.to_string()),
            ("rejected", self.rejected.to_string()),
            ("included", self.included.to_string()),
            ("failed (status 0)", self.failed.to_string()),
            ("pending at timeout", self.pending.to_string()),
            ("dropped by the node", self.dropped.to_string()),
            (
                "submission",
                format!("{:.0} tx/s over {:.2} s", self.submit_tps, self.submit_secs),
            ),
            (
                "throughput",
                format!(
                    "{:.0} tx/s included over {:.2} s",
                    self.throughput_tps, self.e2e_secs
                ),
            ),
            (
                "latency",
                format!(
                    "p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
                    self.latency.p50_ms,
                    self.latency.p90_ms,
                    self.latency.p99_ms,
                    self.latency.max_ms
                ),
            ),
            (
                "blocks",
                format!(
                    "{} used, {:.1} txs per block",
                    self.blocks_used, self.avg_txs_per_block
                ),
            ),
        ];
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in rows {
            let _ = writeln!(s, "{k:<width$}  {v}");
        }
        if let Some(t) = &self.node_time_ms {
            let window_ms = self.e2e_secs * 1000.0;
            let _ = writeln!(s, "node time (of {window_ms:.0} ms wall clock, 2 cores):");
            for (key, label) in STAGES {
                if let Some(v) = t.get(key) {
                    let share = if window_ms > 0.0 {
                        100.0 * v / window_ms
                    } else {
                        0.0
                    };
                    let _ = writeln!(s, "  {v:>9.1} ms  {share:>5.1}%  {label}");
                }
            }
            if let (Some(blocks), Some(txs)) = (t.get("blocks"), t.get("transactions")) {
                let _ = writeln!(s, "  {blocks:.0} blocks, {txs:.0} transactions committed");
            }
        }
        if !self.rejections.is_empty() {
            let _ = writeln!(s, "rejections by message:");
            let mut by_count: Vec<_> = self.rejections.iter().collect();
            by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (msg, n) in by_count {
                let _ = writeln!(s, "  {n:>7}  {msg}");
            }
        }
        if !self.propagation.is_empty() {
            s.push_str(&propagation_table(&self.propagation));
        }
        s
    }
}

/// Delays to one watched node.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NodePropagation {
    pub node: String,
    /// Blocks seen on both nodes.
    pub blocks: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub max_ms: f64,
}

/// The table rows for the human-readable report.
pub fn propagation_table(rows: &[NodePropagation]) -> String {
    let mut out = String::from("\nblock propagation (after the node under load announced it):\n");
    for r in rows {
        out.push_str(&format!(
            "  {:<28} {:>5} blocks  p50 {:>7.1} ms  p90 {:>7.1} ms  max {:>7.1} ms\n",
            r.node, r.blocks, r.p50_ms, r.p90_ms, r.max_ms
        ));
    }
    out
}
