//! `tally bench sync` through the real binary: a small source chain is
//! generated, a fresh follower catches it up over loopback libp2p, and the
//! JSON report says every block and transaction arrived. A second run reuses
//! the chain; a run with another workload is refused.

mod common;

use std::process::{Command, Output};

use serde_json::Value;

const BLOCKS: u64 = 200;
const TXS_PER_BLOCK: u64 = 5;

fn bench_sync(dir: &std::path::Path, txs_per_block: u64) -> Output {
    Command::new(common::tally_bin())
        .args([
            "bench",
            "sync",
            "--json",
            "--senders",
            "50",
            "--recipients",
            "500",
        ])
        .args(["--blocks", &BLOCKS.to_string()])
        .args(["--txs-per-block", &txs_per_block.to_string()])
        .arg("--dir")
        .arg(dir)
        .output()
        .expect("run tally bench sync")
}

fn report(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "tally bench sync failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn assert_fully_synced(r: &Value) {
    assert_eq!(r["source_blocks"], BLOCKS, "{r}");
    assert_eq!(r["blocks"], BLOCKS, "{r}");
    assert_eq!(r["transactions"], BLOCKS * TXS_PER_BLOCK, "{r}");
    assert_eq!(r["heads_match"], true, "{r}");
    for key in ["secs", "blocks_per_sec", "tx_per_sec"] {
        let v = r[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing: {r}"));
        assert!(v > 0.0, "{key} = {v}");
    }
    let t = &r["follower_ms"];
    for key in ["import_ms", "execute_ms", "state_root_ms", "commit_ms"] {
        assert!(t[key].as_f64().is_some_and(|v| v > 0.0), "{key}: {r}");
    }
}

#[test]
fn a_fresh_node_syncs_the_generated_chain_and_a_rerun_reuses_it() {
    let dir = tempfile::tempdir().unwrap();

    let first = report(&bench_sync(dir.path(), TXS_PER_BLOCK));
    assert_fully_synced(&first);
    assert_eq!(first["generated_blocks"], BLOCKS);
    assert!(dir.path().join("chain.toml").exists());
    assert!(dir.path().join("manifest.json").exists());

    let second = report(&bench_sync(dir.path(), TXS_PER_BLOCK));
    assert_fully_synced(&second);
    assert_eq!(second["generated_blocks"], 0, "the chain should be reused");

    // The follower's temporary datadirs are gone.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("follower-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let other = bench_sync(dir.path(), TXS_PER_BLOCK + 1);
    assert!(!other.status.success());
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(
        stderr.contains(&format!("--txs-per-block {TXS_PER_BLOCK}")),
        "{stderr}"
    );
}
