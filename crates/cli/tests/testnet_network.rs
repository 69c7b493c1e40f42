//! Process level: `tally testnet` runs real `tally node` processes that form
//! one chain. A transfer sent to a follower is sealed by the producer and
//! the block appears, identical, on every node; a node killed with SIGKILL
//! and restarted with the same `tally node` command after the chain has
//! grown catches up and goes on following.

mod common;
#[path = "common/testnet.rs"]
mod testnet;

use std::time::Duration;

use alloy_primitives::{Address, U256};
use common::*;
use serde_json::{json, Value};
use testnet::{eventually, NodeProcess, Testnet};

const WAIT: Duration = Duration::from_secs(60);

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

/// The block at `number` on `rpc`, once it has it.
async fn block_at(rpc: &Rpc, number: u64, what: &str) -> Value {
    eventually(what, WAIT, || async move {
        let b = rpc
            .ok(
                "eth_getBlockByNumber",
                json!([format!("{number:#x}"), false]),
            )
            .await;
        (!b.is_null()).then_some(b)
    })
    .await
}

/// Sends `tx` to `to` and waits for its receipt on `seen_on`.
async fn send_and_see(to: &Rpc, seen_on: &Rpc, tx: &alloy_consensus::TxEnvelope) -> Value {
    let hash = to.send_raw(tx).await.expect("transaction accepted");
    let receipt = eventually("receipt on the producer", WAIT, || async move {
        let r = seen_on.ok("eth_getTransactionReceipt", json!([hash])).await;
        (!r.is_null()).then_some(r)
    })
    .await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    receipt
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_sent_to_node_4_is_in_the_same_block_on_every_node() {
    let net = Testnet::start(4, &["--block-time", "0.25"]);
    assert!(
        net.stdout.contains(&net.node(4).rpc_url),
        "the table lists each RPC URL:\n{}",
        net.stdout
    );
    let sender = &wallets(1)[0];
    let to = Address::repeat_byte(0x42);
    let tx = sender.transfer(0, to, ether(3));
    let receipt = send_and_see(&net.node(4).rpc(), &net.node(1).rpc(), &tx).await;
    let number = quantity(&receipt["blockNumber"]);
    let on_producer = block_at(&net.node(1).rpc(), number, "block on node 1").await;
    assert_eq!(on_producer["hash"], receipt["blockHash"]);
    assert!(
        on_producer["transactions"]
            .as_array()
            .is_some_and(|txs| txs.iter().any(|h| b256(h) == *tx.tx_hash())),
        "the block holds the transfer: {on_producer}"
    );
    for node in &net.nodes {
        let rpc = node.rpc();
        let block = block_at(
            &rpc,
            number,
            &format!("block {number} on node {}", node.index),
        )
        .await;
        assert_eq!(block["hash"], on_producer["hash"], "node {}", node.index);
        assert_eq!(
            block["stateRoot"], on_producer["stateRoot"],
            "node {}",
            node.index
        );
        let balance = rpc.balance(to, &format!("{number:#x}")).await;
        assert_eq!(balance, ether(3), "node {}", node.index);
    }

    // A follower (not the authority) serves a proof of the transfer's
    // receipt; it checks offline against the authority named in the spec.
    let proof = net.dir.join("receipt.proof.json");
    let proof_arg = proof.to_string_lossy().into_owned();
    let chain = net.chain_path().to_string_lossy().into_owned();
    let hash = tx.tx_hash().to_string();
    let url = net.node(4).rpc_url.clone();
    let (status, stdout, stderr) = run_to_exit(
        &["proof", "receipt", &hash, "-o", &proof_arg, "--rpc", &url],
        WAIT,
    );
    assert!(status.success(), "{stdout}\n{stderr}");
    let (status, stdout, stderr) = run_to_exit(&["verify", &proof_arg, "--chain", &chain], WAIT);
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("block {number}")), "{stdout}");
    assert!(stdout.to_lowercase().contains("authority"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_node_catches_up_after_restart_and_follows() {
    let net = Testnet::start(4, &["--block-time", "0.2"]);
    let (n1, n3) = (net.node(1).rpc(), net.node(3).rpc());
    wait_block(&n3, 2, WAIT).await;

    net.sigkill(3).await;
    let at_kill = n1.block_number().await;
    // The chain grows while node 3 is down, with a transfer in it (sent to
    // node 2, so gossip between the survivors carries it).
    let sender = &wallets(2)[1];
    let to = Address::repeat_byte(0x33);
    let tx = sender.transfer(0, to, ether(1));
    let receipt = send_and_see(&net.node(2).rpc(), &n1, &tx).await;
    wait_block(&n1, at_kill + 40, WAIT).await;

    let restarted = {
        let node = net.node(3);
        let mut p = NodeProcess::spawn(&node.config, &net.chain_path(), &node.dir.join("node.log"));
        p.wait_rpc(&n3).await;
        p
    };
    let target = n1.block_number().await;
    wait_block(&n3, target, WAIT).await;
    for number in [quantity(&receipt["blockNumber"]), target] {
        let theirs = block_at(&n1, number, "block on node 1").await;
        let ours = block_at(&n3, number, "block on node 3").await;
        assert_eq!(ours["hash"], theirs["hash"], "block {number}");
        assert_eq!(ours["stateRoot"], theirs["stateRoot"], "block {number}");
    }
    let r = n3
        .ok("eth_getTransactionReceipt", json!([tx.tx_hash()]))
        .await;
    assert_eq!(r["blockHash"], receipt["blockHash"]);

    // Then it follows new blocks as they are sealed.
    let later = target + 10;
    wait_block(&n3, later, WAIT).await;
    let theirs = block_at(&n1, later, "later block on node 1").await;
    let ours = block_at(&n3, later, "later block on node 3").await;
    assert_eq!(ours["hash"], theirs["hash"]);
    let synced: Value = n3.ok("eth_syncing", json!([])).await;
    assert!(
        synced == Value::Bool(false) || synced.is_object(),
        "eth_syncing answers false or a progress object: {synced}"
    );

    let log = restarted.log_text();
    let restart_part = &log[log.rfind("Tally node of chain").unwrap_or(0)..];
    assert!(
        restart_part.contains("catching up with peers"),
        "the restarted node reports its catch-up:\n{restart_part}"
    );
    assert!(
        restart_part.contains("caught up"),
        "the restarted node reports the end of its catch-up:\n{restart_part}"
    );
}

/// By default only node 1 keeps the SQL index: on one machine one index
/// answers every query. Node 1 answers `tally_sql` from its index file;
/// node 2 has none and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testnet_indexes_node_1_only_by_default() {
    let net = Testnet::start(2, &["--block-time", "0.2"]);
    let (first, second) = (&net.nodes[0], &net.nodes[1]);
    let rpc = first.rpc();
    wait_block(&rpc, 3, WAIT).await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let answer = rpc
            .ok("tally_sql", json!(["SELECT max(number) FROM blocks"]))
            .await;
        if answer["rows"][0][0].as_u64().is_some_and(|n| n >= 3) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node 1's index never reached block 3: {answer}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(first.dir.join("index.sqlite").exists());
    let err = second.rpc().err("tally_sql", json!(["SELECT 1"])).await;
    assert!(err.message.contains("--no-index"), "node 2: {err:?}");
    assert!(!second.dir.join("index.sqlite").exists());
}

/// `tally testnet --no-index` starts validators that leave queries to
/// other nodes: the chain runs, no node keeps an index file, and `tally_sql`
/// says why it cannot answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testnet_without_index_runs_and_keeps_no_index() {
    let net = Testnet::start(2, &["--block-time", "0.2", "--no-index"]);
    for node in &net.nodes {
        let rpc = node.rpc();
        wait_block(&rpc, 3, WAIT).await;
        let err = rpc.err("tally_sql", json!(["SELECT 1"])).await;
        assert!(
            err.message.contains("--no-index"),
            "node {}: {err:?}",
            node.index
        );
        assert!(
            !node.dir.join("index.sqlite").exists(),
            "node {} keeps an index file",
            node.index
        );
    }
}
