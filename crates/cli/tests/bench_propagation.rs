//! `tally bench` against running nodes: `--watch` (load on the producer of
//! a 2-node testnet, and the report says how long its blocks took to reach
//! the other node), `--submit-to` (load spread over nodes) and `--rate` (a
//! fixed offered load).

mod common;
#[path = "common/testnet.rs"]
mod testnet;

use std::time::Duration;

use common::{run_to_exit, TestNode};
use serde_json::Value;
use testnet::Testnet;

/// `tally bench` with `args`, 300 transfers from 30 senders in batches
/// of 30: its JSON report.
fn bench_300(args: &[&str]) -> Value {
    let common = ["--txs", "300", "--senders", "30", "--batch", "30", "--json"];
    let all: Vec<&str> = ["bench"]
        .iter()
        .chain(args)
        .chain(&common)
        .copied()
        .collect();
    let (status, stdout, stderr) = run_to_exit(&all, Duration::from_secs(120));
    assert!(status.success(), "bench failed: {stderr}");
    serde_json::from_str(&stdout).expect("JSON report")
}

#[test]
fn bench_reports_block_propagation_to_watched_nodes() {
    let net = Testnet::start(2, &["--block-time", "0"]);
    let (producer, follower) = (net.node(1).rpc_url.clone(), net.node(2).rpc_url.clone());
    let report = bench_300(&["--rpc", &producer, "--watch", &follower]);
    assert_eq!(report["included"], 300, "{report}");
    let rows = report["propagation"].as_array().expect("propagation rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["node"], follower.as_str());
    assert!(rows[0]["blocks"].as_u64().unwrap_or(0) >= 1, "{report}");
    let (p50, max) = (rows[0]["p50_ms"].as_f64(), rows[0]["max_ms"].as_f64());
    assert!(p50.is_some_and(|p| p >= 0.0) && max >= p50, "{report}");
}

#[test]
fn bench_spreads_batches_over_the_nodes_it_submits_to() {
    let net = Testnet::start(2, &["--block-time", "0"]);
    let (producer, follower) = (net.node(1).rpc_url.clone(), net.node(2).rpc_url.clone());
    let report = bench_300(&["--rpc", &producer, "--submit-to", &follower]);
    // Every other batch went to the follower, which relayed it to the
    // producer: the producer's RPC admitted only its own half, and all
    // 300 were accepted and mined.
    assert_eq!(report["endpoints"], 2, "{report}");
    assert_eq!(report["node_time_ms"]["poolAdmitted"], 150.0, "{report}");
    assert_eq!(report["rejected"], 0, "{report}");
    assert_eq!(report["included"], 300, "{report}");
}

#[test]
fn bench_offers_a_fixed_rate() {
    let node = TestNode::start();
    let report = bench_300(&["--rpc", &node.http_url(), "--rate", "200"]);
    assert_eq!(report["rate"], 200.0, "{report}");
    assert_eq!(report["included"], 300, "{report}");
    // Ten batches of 30 at 200 tx/s: the last is due 270 / 200 = 1.35 s
    // after the first, however fast the node answers.
    let window = report["submit_secs"].as_f64().expect("submit_secs");
    assert!(window >= 1.35, "sent faster than offered: {report}");

    for bad in ["0", "-5", "fast", "inf"] {
        let (status, _, stderr) = run_to_exit(
            &["bench", "--rpc", &node.http_url(), &format!("--rate={bad}")],
            Duration::from_secs(30),
        );
        assert!(!status.success(), "--rate {bad} was taken");
        assert!(stderr.contains("is not a rate"), "--rate {bad}: {stderr}");
    }
}

#[test]
fn bench_compares_two_kinds_on_one_node_in_alternating_rounds() {
    let node = TestNode::start();
    let url = node.http_url();
    let report = bench_300(&[
        "--rpc", &url, "--kind", "asset", "--versus", "erc20", "--rounds", "2",
    ]);
    let runs = report["runs"].as_array().expect("runs");
    let kinds: Vec<&str> = runs.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["asset", "erc20", "erc20", "asset"], "{report}");
    for run in runs {
        assert_eq!(run["included"], 300, "{run}");
        assert_eq!(run["failed"], 0, "{run}");
    }
    // Each kind's median is the mean of its two runs.
    let tps = |kind: &str| -> Vec<f64> {
        runs.iter()
            .filter(|r| r["kind"] == kind)
            .map(|r| r["throughput_tps"].as_f64().unwrap())
            .collect()
    };
    let summary = report["summary"].as_array().expect("summary");
    for (row, kind) in summary.iter().zip(["asset", "erc20"]) {
        let t = tps(kind);
        assert_eq!(row["kind"], kind);
        assert_eq!(row["runs"], 2);
        let median = row["median_tps"].as_f64().unwrap();
        assert!((median - (t[0] + t[1]) / 2.0).abs() < 1e-6, "{row}");
        assert!(median > 0.0, "{row}");
    }
    let ratio = report["ratio"].as_f64().unwrap();
    let expected =
        summary[0]["median_tps"].as_f64().unwrap() / summary[1]["median_tps"].as_f64().unwrap();
    assert!((ratio - expected).abs() < 1e-9, "{report}");

    // Each round's two runs compared with each other: asset first in the
    // first round, ERC-20 first in the second.
    let (a, e) = (tps("asset"), tps("erc20"));
    let paired: Vec<f64> = report["paired_ratios"]
        .as_array()
        .expect("paired ratios")
        .iter()
        .map(|r| r.as_f64().unwrap())
        .collect();
    assert_eq!(paired.len(), 2, "{report}");
    for (round, r) in paired.iter().enumerate() {
        assert!((r - a[round] / e[round]).abs() < 1e-9, "{report}");
    }
    let won = paired.iter().filter(|r| **r >= 1.0).count();
    assert_eq!(report["rounds_won"], won, "{report}");

    let (status, _, stderr) = run_to_exit(
        &[
            "bench", "--rpc", &url, "--kind", "erc20", "--versus", "erc20",
        ],
        Duration::from_secs(30),
    );
    assert!(!status.success());
    assert!(stderr.contains("same kind"), "{stderr}");
}
