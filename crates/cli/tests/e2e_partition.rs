//! Process level: a running proof-of-work testnet split in two by hand
//! (`tally_blockPeer`), both sides mining and each taking a transaction the
//! other never sees, then healed (`tally_unblockPeer`). Every node ends on
//! one chain, with the same blocks and state roots, and each transaction
//! mined exactly once, whichever side won.

mod common;
#[path = "common/testnet.rs"]
mod testnet;

use std::time::Duration;

use alloy_primitives::{TxKind, B256, U256};
use common::*;
use serde_json::{json, Value};
use testnet::{eventually, Testnet};

const WAIT: Duration = Duration::from_secs(90);

async fn peer_id(rpc: &Rpc) -> String {
    let info = rpc.ok("admin_nodeInfo", json!([])).await;
    info["id"].as_str().expect("admin_nodeInfo id").to_string()
}

async fn receipt_block(rpc: &Rpc, tx: B256) -> Option<Value> {
    let r = rpc.ok("eth_getTransactionReceipt", json!([tx])).await;
    (!r.is_null()).then(|| r["blockHash"].clone())
}

/// Whether every node holds both transactions in the same blocks, and the
/// same block (hash and state root) at a height below every head that
/// holds them.
async fn one_chain(rpcs: &[Rpc], lone: B256, pair: B256) -> Option<()> {
    let mut where_lone = Vec::new();
    let mut where_pair = Vec::new();
    let mut heads = Vec::new();
    for rpc in rpcs {
        where_lone.push(receipt_block(rpc, lone).await?);
        where_pair.push(receipt_block(rpc, pair).await?);
        heads.push(rpc.block_number().await);
    }
    if where_lone.iter().any(|b| *b != where_lone[0])
        || where_pair.iter().any(|b| *b != where_pair[0])
    {
        return None;
    }
    let height = heads.iter().min()?.checked_sub(2)?;
    let at = json!([format!("{height:#x}"), false]);
    let first = rpcs[0].ok("eth_getBlockByNumber", at.clone()).await;
    for rpc in &rpcs[1..] {
        let b = rpc.ok("eth_getBlockByNumber", at.clone()).await;
        if b["hash"] != first["hash"] || b["stateRoot"] != first["stateRoot"] {
            return None;
        }
    }
    for hash in [&where_lone[0], &where_pair[0]] {
        let b = rpcs[0].ok("eth_getBlockByHash", json!([hash, false])).await;
        if quantity(&b["number"]) > height {
            return None;
        }
    }
    Some(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_network_heals_onto_one_chain_with_each_transaction_once() {
    let net = Testnet::start(3, &["--consensus", "pow", "--block-time", "1"]);
    let rpcs: Vec<Rpc> = net.nodes.iter().map(|n| n.rpc()).collect();
    let rpcs = &rpcs;
    // Past the first blocks, once every node follows the same chain.
    eventually(
        "every node on one chain past block 3",
        WAIT,
        || async move {
            let mut heads = Vec::new();
            for rpc in rpcs {
                heads.push(rpc.block_number().await);
            }
            let height = heads.iter().min()?.checked_sub(1).filter(|h| *h >= 3)?;
            let at = json!([format!("{height:#x}"), false]);
            let first = rpcs[0].ok("eth_getBlockByNumber", at.clone()).await;
            for rpc in &rpcs[1..] {
                if rpc.ok("eth_getBlockByNumber", at.clone()).await["hash"] != first["hash"] {
                    return None;
                }
            }
            Some(())
        },
    )
    .await;
    let ids = [
        peer_id(&rpcs[0]).await,
        peer_id(&rpcs[1]).await,
        peer_id(&rpcs[2]).await,
    ];

    // Node 3 cuts itself off from nodes 1 and 2.
    for id in &ids[..2] {
        rpcs[2].ok("tally_blockPeer", json!([id])).await;
    }
    let blocked = rpcs[2].ok("tally_blockedPeers", json!([])).await;
    assert_eq!(blocked.as_array().map(Vec::len), Some(2), "{blocked}");
    eventually("node 3 alone", WAIT, || async move {
        let peers = rpcs[2].ok("admin_peers", json!([])).await;
        peers.as_array().is_some_and(|p| p.is_empty()).then_some(())
    })
    .await;

    // Each side takes a transaction the other cannot see.
    let w = wallets(4);
    let to = TxKind::Call(alloy_primitives::Address::repeat_byte(0x77));
    let lone = rpcs[2]
        .send_raw(&w[3].tx(0, to, U256::from(7), Default::default(), 21_000))
        .await
        .expect("node 3 takes its transfer");
    let pair = rpcs[0]
        .send_raw(&w[2].tx(0, to, U256::from(9), Default::default(), 21_000))
        .await
        .expect("node 1 takes its transfer");
    eventually("each side mines its transaction", WAIT, || async move {
        let a = receipt_block(&rpcs[2], lone).await?;
        let b = receipt_block(&rpcs[0], pair).await?;
        Some((a, b))
    })
    .await;
    assert!(
        receipt_block(&rpcs[0], lone).await.is_none(),
        "the partition let node 3's transaction through"
    );
    assert!(receipt_block(&rpcs[2], pair).await.is_none());
    // Let both branches grow a little (well short of the 32 blocks below
    // which nothing is ever unwound).
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Heal.
    for id in &ids[..2] {
        let was = rpcs[2].ok("tally_unblockPeer", json!([id])).await;
        assert_eq!(was, json!(true));
    }
    // One chain everywhere: both transactions in the same blocks on every
    // node, and a height below the heads identical (hash and state root).
    let converged = tokio::time::timeout(WAIT, async {
        loop {
            if one_chain(rpcs, lone, pair).await.is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    if converged.is_err() {
        for (i, node) in net.nodes.iter().enumerate() {
            let head = rpcs[i].block_number().await;
            let peers = rpcs[i].ok("admin_peers", json!([])).await;
            let log = node.log();
            let interesting: Vec<&str> = log
                .lines()
                .filter(|l| !l.contains("sealed block") && !l.contains("kept a block"))
                .rev()
                .take(40)
                .collect();
            if let Some(to) = std::env::var_os("TALLY_KEEP_LOGS") {
                let _ = std::fs::copy(
                    node.dir.join("node.log"),
                    std::path::Path::new(&to).join(format!("node-{}.log", i + 1)),
                );
            }
            eprintln!(
                "node {}: head {head}, {} peers, lone {:?}, pair {:?}\n{}",
                i + 1,
                peers.as_array().map_or(0, Vec::len),
                receipt_block(&rpcs[i], lone).await,
                receipt_block(&rpcs[i], pair).await,
                interesting.join("\n")
            );
        }
        panic!("the network did not converge on one chain within {WAIT:?}");
    }
    // Exactly once: each sender's nonce moved by one, on every node.
    for rpc in rpcs {
        assert_eq!(rpc.nonce(w[3].address, "latest").await, 1);
        assert_eq!(rpc.nonce(w[2].address, "latest").await, 1);
    }
    // The side that lost switched branches (at least one node reorged).
    let mut reorgs = 0.0;
    for node in &net.nodes {
        let text = reqwest::get(format!("{}/metrics", node.rpc_url))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        reorgs += text
            .lines()
            .find_map(|l| l.strip_prefix("tally_reorgs_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
    }
    assert!(reorgs >= 1.0, "no node reorged");
}
