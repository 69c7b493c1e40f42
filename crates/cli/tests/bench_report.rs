//! The bench's report maths: percentiles, rates, counts and the JSON shape.

#[allow(dead_code)]
#[path = "../src/bench/report.rs"]
mod report;

use std::time::Duration;

use report::{percentile, rate, Report, RunInfo, TxOutcome};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn run_info() -> RunInfo {
    RunInfo {
        rpc: "http://127.0.0.1:8545".into(),
        chain_id: 31337,
        kind: "transfer".into(),
        txs: 6,
        senders: 2,
        batch: 2,
        concurrency: 1,
        endpoints: 1,
        token_gas: 0,
        rate: None,
    }
}

#[test]
fn nearest_rank_percentiles() {
    let values: Vec<Duration> = (1..=100).map(ms).collect();
    assert_eq!(percentile(&values, 50.0), Some(ms(50)));
    assert_eq!(percentile(&values, 90.0), Some(ms(90)));
    assert_eq!(percentile(&values, 99.0), Some(ms(99)));
    assert_eq!(percentile(&values, 100.0), Some(ms(100)));
    assert_eq!(percentile(&values, 0.0), Some(ms(1)));
    // Small sets: p50 of [10, 20, 30, 40] is the 2nd value, p99 the last.
    let four = [ms(10), ms(20), ms(30), ms(40)];
    assert_eq!(percentile(&four, 50.0), Some(ms(20)));
    assert_eq!(percentile(&four, 51.0), Some(ms(30)));
    assert_eq!(percentile(&four, 99.0), Some(ms(40)));
    assert_eq!(percentile(&[ms(7)], 90.0), Some(ms(7)));
    assert_eq!(percentile(&[], 50.0), None);
}

#[test]
fn rate_guards_an_empty_window() {
    assert_eq!(rate(500, Duration::from_secs(2)), 250.0);
    assert_eq!(rate(10, Duration::ZERO), 0.0);
}

#[test]
fn report_counts_rates_and_latencies() {
    let sent = |at: u64| TxOutcome {
        submitted_at: Some(ms(at)),
        ..Default::default()
    };
    let included = |at: u64, seen: u64, block: u64| TxOutcome {
        included_at: Some(ms(seen)),
        block: Some(block),
        ..sent(at)
    };
    let outcomes = vec![
        included(0, 100, 5),   // latency 100
        included(0, 300, 6),   // 300
        included(100, 300, 6), // 200
        TxOutcome {
            failed: true,
            ..included(100, 1100, 7) // 1000, reverted
        },
        TxOutcome {
            rejected: Some("nonce too low".into()),
            ..sent(200)
        },
        sent(200), // accepted, never included
    ];
    let r = Report::new(run_info(), &outcomes, ms(500));
    assert_eq!(r.submitted, 5);
    assert_eq!(r.rejected, 1);
    assert_eq!(r.included, 4);
    assert_eq!(r.failed, 1);
    assert_eq!(r.pending, 1);
    assert_eq!(r.rejections.get("nonce too low"), Some(&1));
    assert_eq!(r.blocks_used, 3);
    assert!((r.avg_txs_per_block - 4.0 / 3.0).abs() < 1e-9);
    // 5 accepted over 0.5 s; 4 included from t=0 to t=1.1 s.
    assert!((r.submit_tps - 10.0).abs() < 1e-9);
    assert!((r.e2e_secs - 1.1).abs() < 1e-9);
    assert!((r.throughput_tps - 4.0 / 1.1).abs() < 1e-9);
    // Sorted latencies 100, 200, 300, 1000.
    assert_eq!(r.latency.p50_ms, 200.0);
    assert_eq!(r.latency.p90_ms, 1000.0);
    assert_eq!(r.latency.p99_ms, 1000.0);
    assert_eq!(r.latency.max_ms, 1000.0);

    let table = r.to_table();
    assert!(table.contains("rejected"), "{table}");
    assert!(table.contains("nonce too low"), "{table}");
    let json: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(json["included"], 4);
    assert_eq!(json["chain_id"], 31337);
    assert_eq!(json["latency"]["p50_ms"], 200.0);
    assert_eq!(json["rejections"]["nonce too low"], 1);
}

#[test]
fn rejected_but_included_counts_as_included() {
    // e.g. a retried transaction answered "already known" yet mined.
    let o = TxOutcome {
        submitted_at: Some(ms(0)),
        rejected: Some("already known".into()),
        included_at: Some(ms(50)),
        block: Some(1),
        failed: false,
        dropped: false,
    };
    let r = Report::new(run_info(), &[o], ms(10));
    assert_eq!((r.included, r.rejected, r.pending), (1, 0, 0));
    assert!(r.rejections.is_empty());
}

#[test]
fn forgotten_transactions_count_as_dropped_not_pending() {
    let accepted = |dropped| TxOutcome {
        submitted_at: Some(ms(0)),
        dropped,
        ..Default::default()
    };
    let r = Report::new(run_info(), &[accepted(true), accepted(false)], ms(10));
    assert_eq!((r.submitted, r.included), (2, 0));
    assert_eq!((r.dropped, r.pending), (1, 1));
    let table = r.to_table();
    assert!(table.contains("dropped by the node"), "{table}");
    let json: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(json["dropped"], 1);
}

#[test]
fn empty_run_reports_zeros() {
    let r = Report::new(run_info(), &[], Duration::ZERO);
    assert_eq!((r.submitted, r.included, r.blocks_used), (0, 0, 0));
    assert_eq!(r.throughput_tps, 0.0);
    assert_eq!(r.latency.max_ms, 0.0);
}

#[test]
fn rejections_are_grouped_by_message_with_numbers_masked() {
    use report::message_class;
    assert_eq!(
        message_class("Nonce too high. Expected nonce to be 3 but got 17."),
        "Nonce too high. Expected nonce to be N but got N."
    );
    assert_eq!(
        message_class("known transaction: 0xdeadBEEF01 already imported"),
        "known transaction: N already imported"
    );
    // Digits inside words are part of the word, not a number.
    assert_eq!(
        message_class("eip1559 fee cap too low"),
        "eip1559 fee cap too low"
    );
    assert_eq!(
        message_class("intrinsic gas too low"),
        "intrinsic gas too low"
    );

    let rejected = |msg: &str| TxOutcome {
        submitted_at: Some(ms(0)),
        rejected: Some(msg.into()),
        ..Default::default()
    };
    let r = Report::new(
        run_info(),
        &[
            rejected("nonce too high: expected 3, got 7"),
            rejected("nonce too high: expected 4, got 9"),
            rejected("insufficient funds"),
        ],
        ms(1),
    );
    assert_eq!(r.rejected, 3);
    assert_eq!(r.rejections.len(), 2);
    assert_eq!(
        r.rejections.get("nonce too high: expected N, got N"),
        Some(&2)
    );
}
