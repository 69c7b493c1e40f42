//! Client commands that need a node, run where no node is listening: they
//! must fail with an error naming the bad input or the unreachable URL
//! before anything else, and never panic.

use std::process::{Command, Output};

/// A loopback port nothing listens on (the discard port).
const DEAD_RPC: &str = "http://127.0.0.1:9";

fn tally(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(args)
        .env_remove("TALLY_RPC")
        .env_remove("TALLY_KEYSTORE")
        .env_remove("TALLY_PASSWORD")
        .output()
        .expect("run tally")
}

fn fails_with(args: &[&str], needle: &str) {
    let out = tally(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(
        err.contains(needle),
        "{args:?}: expected {needle:?} in {err}"
    );
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

#[test]
fn unreachable_node_names_the_url() {
    let addr = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    fails_with(
        &["status", "--rpc", DEAD_RPC],
        "cannot reach node at http://127.0.0.1:9",
    );
    fails_with(&["block", "--rpc", DEAD_RPC], "cannot reach node");
    fails_with(
        &["account", "balance", addr, "--rpc", DEAD_RPC],
        "cannot reach node",
    );
    fails_with(
        &["account", "nonce", addr, "--rpc", DEAD_RPC],
        "cannot reach node",
    );
    fails_with(
        &[
            "tx",
            "send",
            "--to",
            addr,
            "--value",
            "1eth",
            "--dev-account",
            "0",
            "--rpc",
            DEAD_RPC,
        ],
        "cannot reach node",
    );
    // TALLY_RPC is read too.
    let out = Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(["status"])
        .env("TALLY_RPC", DEAD_RPC)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("127.0.0.1:9"));
}

#[test]
fn bad_inputs_are_named_before_any_rpc() {
    fails_with(
        &["account", "balance", "0x1234", "--rpc", DEAD_RPC],
        "invalid address \"0x1234\"",
    );
    fails_with(
        &[
            "account",
            "balance",
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "--block",
            "soon",
        ],
        "invalid block \"soon\"",
    );
    fails_with(&["block", "yesterday"], "invalid block \"yesterday\"");
    fails_with(&["status", "--rpc", "localhost:8545"], "invalid --rpc URL");

    let to = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    fails_with(
        &[
            "tx",
            "send",
            "--to",
            to,
            "--value",
            "1.5.5eth",
            "--dev-account",
            "0",
        ],
        "invalid amount \"1.5.5eth\"",
    );
    fails_with(
        &[
            "tx",
            "send",
            "--to",
            to,
            "--data",
            "0xabc",
            "--dev-account",
            "0",
        ],
        "invalid --data \"0xabc\"",
    );
    fails_with(&["tx", "send", "--to", to, "--rpc", DEAD_RPC], "no signer");
    fails_with(
        &[
            "tx",
            "send",
            "--to",
            to,
            "--private-key-env",
            "TALLY_TEST_UNSET_VAR_XYZ",
        ],
        "TALLY_TEST_UNSET_VAR_XYZ is not set",
    );
}

#[test]
fn contract_inputs_are_checked_offline() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("Token.json");
    std::fs::write(
        &artifact,
        r#"{"abi": [
            {"type":"function","name":"balanceOf","inputs":[{"name":"who","type":"address"}],
             "outputs":[{"name":"","type":"uint256"}],"stateMutability":"view"},
            {"type":"function","name":"transfer","inputs":[{"name":"to","type":"address"},{"name":"amount","type":"uint256"}],
             "outputs":[{"name":"","type":"bool"}],"stateMutability":"nonpayable"}
           ], "bytecode": "0x6080"}"#,
    )
    .unwrap();
    let art = artifact.display().to_string();
    let addr = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

    fails_with(
        &[
            "contract",
            "call",
            "--artifact",
            &art,
            "--address",
            addr,
            "balanceOf",
            "--args",
            "[1,",
        ],
        "invalid --args \"[1,\"",
    );
    fails_with(
        &[
            "contract",
            "call",
            "--artifact",
            &art,
            "--address",
            addr,
            "balanceOf",
            "--args",
            "[\"0x12\"]",
        ],
        "argument 1 (who: address)",
    );
    fails_with(
        &[
            "contract",
            "call",
            "--artifact",
            &art,
            "--address",
            addr,
            "mint",
        ],
        "no function \"mint\"",
    );
    fails_with(
        &[
            "contract",
            "call",
            "--artifact",
            &art,
            "--address",
            addr,
            "transfer",
            "--args",
            &format!("[\"{addr}\", \"5\"]"),
            "--rpc",
            DEAD_RPC,
        ],
        "needs a signer",
    );
    fails_with(
        &[
            "contract",
            "call",
            "--artifact",
            &art,
            "--address",
            addr,
            "balanceOf",
            "--args",
            &format!("[\"{addr}\"]"),
            "--rpc",
            DEAD_RPC,
        ],
        "cannot reach node",
    );
    fails_with(
        &[
            "contract",
            "deploy",
            "--artifact",
            "/nonexistent/A.json",
            "--dev-account",
            "0",
        ],
        "cannot read artifact /nonexistent/A.json",
    );
}
