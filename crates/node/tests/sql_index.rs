//! The node's SQL index follows its canonical chain: through a reorg (the
//! abandoned block's rows go, the new branch's come) and a restart (it
//! resumes where it was, without duplicates), answering `tally_sql` and
//! reporting its gauges in the metrics all along.

mod common;

use std::time::{Duration, Instant};

use common::*;
use jsonrpsee::{
    core::client::ClientT,
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use serde_json::{json, Value};
use tally_crypto::node_key::NodeKey;
use tally_node::{MiningOptions, Node};
use tally_primitives::{Address, ChainSpec};

async fn start(spec: &ChainSpec, dir: &std::path::Path, i: u8, mine: bool, index: bool) -> Node {
    let mut cfg = config(dir, spec.clone(), NodeKey::from_bytes(&[80 + i; 32]), None);
    cfg.beneficiary = Address::repeat_byte(i);
    cfg.mining = mine.then_some(MiningOptions { threads: 1 });
    cfg.index = index;
    Node::start(cfg).await.unwrap()
}

fn client(node: &Node) -> HttpClient {
    HttpClientBuilder::default()
        .build(format!("http://{}", node.rpc_addr()))
        .unwrap()
}

async fn rows(rpc: &HttpClient, query: &str, params: Value) -> Vec<Value> {
    let answer: Value = rpc
        .request("tally_sql", rpc_params![query, params])
        .await
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    answer["rows"].as_array().cloned().unwrap_or_default()
}

/// Waits until the index's last block is the node's head.
async fn wait_indexed(node: &Node, rpc: &HttpClient) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let head = node.head();
        let last = rows(
            rpc,
            "SELECT number, hash FROM blocks ORDER BY number DESC LIMIT 1",
            json!([]),
        )
        .await;
        if last == [json!([head.number, format!("{:#x}", head.hash)])] {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "index at {last:?}, head {}",
            head.number
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The index holds exactly the node's canonical blocks, once each.
async fn assert_canonical(node: &Node, rpc: &HttpClient) {
    let head = node.head().number;
    let blocks = rows(
        rpc,
        "SELECT number, hash FROM blocks ORDER BY number",
        json!([]),
    )
    .await;
    let expected: Vec<Value> = (0..=head)
        .map(|n| {
            let h = node.db().header_by_number(n).unwrap().unwrap();
            json!([n, format!("{:#x}", h.hash)])
        })
        .collect();
    assert_eq!(blocks, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_follows_reorgs_and_restarts() {
    let spec = pow_spec();
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(&spec, da.path(), 1, true, true).await;
    let b = start(&spec, db.path(), 2, true, false).await;
    b.set_mining(false);
    let rpc = client(&a);

    // a mines a transfer and stops; its index shows it.
    let tx = a.submit_transaction(transfer(0, 0, 5)).unwrap();
    let hash = format!("{tx:#x}");
    let by_hash = "SELECT block_number FROM transactions WHERE hash = ?";
    let deadline = Instant::now() + Duration::from_secs(60);
    while rows(&rpc, by_hash, json!([hash])).await.is_empty() {
        assert!(Instant::now() < deadline, "the transfer was not indexed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.set_mining(false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    wait_indexed(&a, &rpc).await;
    let weight = |n: &Node| n.db().weight(&n.head().hash).unwrap().unwrap();
    let a_weight = weight(&a);

    // b, never having seen it, mines a heavier branch; a switches to it.
    b.set_mining(true);
    wait_for("b's heavier branch", 60, || weight(&b) > a_weight).await;
    b.set_mining(false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b_head = b.head();
    for n in 1..=b_head.number {
        let block = b.db().block_by_number(n).unwrap().unwrap().to_block();
        a.import_block(block).await.unwrap();
    }
    assert_eq!(a.head(), b_head);
    wait_indexed(&a, &rpc).await;
    assert_canonical(&a, &rpc).await;
    assert!(
        rows(&rpc, by_hash, json!([hash])).await.is_empty(),
        "the abandoned block's transaction is still indexed"
    );
    let beneficiaries = rows(&rpc, "SELECT DISTINCT beneficiary FROM blocks", json!([])).await;
    assert!(
        !beneficiaries.contains(&json!([format!("{:#x}", Address::repeat_byte(1))])),
        "a block a mined is still indexed: {beneficiaries:?}"
    );
    let metrics: Value = rpc.request("tally_metrics", rpc_params![]).await.unwrap();
    assert_eq!(metrics["indexHead"], json!(b_head.number), "{metrics}");
    assert_eq!(metrics["indexLag"], json!(0), "{metrics}");
    assert!(metrics["indexRowsWritten"].as_u64() > Some(0), "{metrics}");
    b.stop().await;
    a.stop().await;

    // Restarted, a has the same index: nothing repeated, nothing missing.
    let a = start(&spec, da.path(), 1, false, true).await;
    let rpc = client(&a);
    wait_indexed(&a, &rpc).await;
    assert_canonical(&a, &rpc).await;
    let metrics: Value = rpc.request("tally_metrics", rpc_params![]).await.unwrap();
    assert_eq!(
        metrics["indexRowsWritten"],
        json!(0),
        "nothing to redo: {metrics}"
    );
    a.stop().await;
}
