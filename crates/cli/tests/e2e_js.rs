//! End to end: the ethers v6 scripts in tests/js run unchanged against a
//! real `tally dev` node. Node.js is required: without it this test fails
//! (CI installs it) rather than passing without having checked anything.

mod common;

use std::{process::Command, time::Duration};

use common::*;

#[test]
fn ethers_v6_works_against_tally_dev() {
    run_script("ethers.mjs");
}

/// Native assets, DvP settlement and ballots, from a plain ethers client.
#[test]
fn ethers_v6_issues_settles_and_votes_with_native_assets() {
    run_script("assets.mjs");
}

/// The notary and traceability system contracts, from a plain ethers client.
#[test]
fn ethers_v6_stamps_documents_and_traces_products() {
    run_script("notary.mjs");
}

fn run_script(script: &str) {
    let js = repo_root().join("tests/js");
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "`node --version` failed ({}); Node.js >= 18 is required for the ethers \
             compatibility test",
            out.status
        ),
        Err(e) => panic!(
            "Node.js (`node`) is not on PATH ({e}); it is required for the ethers \
             compatibility test: install Node.js >= 18"
        ),
    }
    // Both tests may find node_modules missing: one installs, the other waits.
    static NPM: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _installing = NPM.lock().unwrap_or_else(|e| e.into_inner());
    if !js.join("node_modules/ethers").is_dir() {
        let mut npm = Command::new("npm");
        npm.args(["ci", "--no-audit", "--no-fund"]).current_dir(&js);
        let (status, out, err) = run_command(npm, Duration::from_secs(300));
        assert!(
            status.success(),
            "`npm ci` in {} failed ({status}):\n{out}\n{err}",
            js.display()
        );
    }

    drop(_installing);
    let node = TestNode::start();
    let mut cmd = Command::new("node");
    cmd.arg(js.join(script))
        .current_dir(&js)
        .env("TALLY_RPC", node.http_url());
    let (status, out, err) = run_command(cmd, Duration::from_secs(120));
    assert!(
        status.success(),
        "{script} failed ({status}):\nstdout:\n{out}\nstderr:\n{err}\nnode log:\n{}",
        node.stderr()
    );
    assert!(out.contains("all checks passed"), "{out}");
}
