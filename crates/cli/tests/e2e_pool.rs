//! End to end: the transaction pool's admission rules as a wallet meets
//! them through eth_sendRawTransaction on a real node, with the geth error
//! prefixes wallets match on, and the replacement rules that "speed up" and
//! "cancel" buttons rely on.

mod common;

use std::time::Duration;

use alloy_consensus::TxEip1559;
use alloy_primitives::{Bytes, TxKind, U256};
use common::*;
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(20);

fn base_tx(nonce: u64, to: alloy_primitives::Address) -> TxEip1559 {
    TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 2 * BASE_FEE,
        max_priority_fee_per_gas: BASE_FEE,
        to: TxKind::Call(to),
        value: U256::from(1u64),
        access_list: Default::default(),
        input: Bytes::new(),
    }
}

fn expect_err(res: Result<alloy_primitives::B256, RpcErr>, needle: &str) {
    match res {
        Ok(h) => panic!("accepted {h}, expected {needle:?}"),
        Err(e) => assert!(e.message.contains(needle), "expected {needle:?}, got {e:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admission_rules_use_geth_messages() {
    let node = TestNode::start();
    let rpc = node.rpc();
    let w = wallets(2);
    let to = w[1].address;

    let mut tx = base_tx(0, to);
    tx.gas_limit = 20_000;
    expect_err(rpc.send_raw(&w[0].sign(tx)).await, "intrinsic gas too low");

    let mut tx = base_tx(0, to);
    tx.gas_limit = 300_000_001;
    expect_err(
        rpc.send_raw(&w[0].sign(tx)).await,
        "exceeds block gas limit",
    );

    let mut tx = base_tx(0, to);
    tx.max_priority_fee_per_gas = 3 * BASE_FEE;
    expect_err(
        rpc.send_raw(&w[0].sign(tx)).await,
        "max priority fee per gas higher than max fee per gas",
    );

    // A fee cap under the base fee can never be mined here (the base fee
    // is constant): rejected, or at least never mined.
    let mut low = base_tx(0, to);
    low.max_fee_per_gas = BASE_FEE / 2;
    low.max_priority_fee_per_gas = 0;
    let low = w[0].sign(low);
    if rpc.send_raw(&low).await.is_ok() {
        rpc.send_and_mine(&w[1].transfer(0, w[0].address, U256::from(1u64)))
            .await;
        let r = rpc
            .ok("eth_getTransactionReceipt", json!([low.tx_hash()]))
            .await;
        assert!(r.is_null(), "tx paying under the base fee was mined: {r}");
    }

    // Sending the very same pending transaction twice: "already known".
    let mut queued = base_tx(5, to);
    queued.value = U256::from(11u64);
    let queued = w[0].sign(queued);
    rpc.send_raw(&queued).await.expect("queued tx");
    expect_err(rpc.send_raw(&queued).await, "already known");
}

#[tokio::test(flavor = "multi_thread")]
async fn replacement_needs_a_fee_bump_and_wins() {
    let node = TestNode::start();
    let rpc = node.rpc();
    let w = wallets(2);
    let to = w[1].address;

    // Queue nonce 1 behind a gap so it stays in the pool.
    let original = w[0].sign(base_tx(1, to));
    rpc.send_raw(&original).await.expect("original");

    // Higher fee cap but the same tip: still underpriced.
    let mut tx = base_tx(1, to);
    tx.max_fee_per_gas = 4 * BASE_FEE;
    tx.value = U256::from(2u64);
    expect_err(
        rpc.send_raw(&w[0].sign(tx)).await,
        "replacement transaction underpriced",
    );

    // Both raised by >= 10%: accepted, and it is the one mined.
    let mut tx = base_tx(1, to);
    tx.max_fee_per_gas = 3 * BASE_FEE;
    tx.max_priority_fee_per_gas = 2 * BASE_FEE;
    tx.value = U256::from(3u64);
    let replacement = w[0].sign(tx);
    rpc.send_raw(&replacement)
        .await
        .expect("replacement with bumped fees");
    rpc.send_raw(&w[0].transfer(0, to, U256::from(1u64)))
        .await
        .expect("fill the gap");
    let r = rpc.wait_receipt(*replacement.tx_hash(), TIMEOUT).await;
    assert_eq!(r["status"], "0x1");
    let old = rpc
        .ok("eth_getTransactionReceipt", json!([original.tx_hash()]))
        .await;
    assert!(old.is_null(), "replaced tx was mined too: {old}");
    let old = rpc
        .ok("eth_getTransactionByHash", json!([original.tx_hash()]))
        .await;
    assert!(
        old.is_null() || old["blockHash"].is_null(),
        "replaced tx in a block: {old}"
    );
    assert_eq!(rpc.nonce(w[0].address, "latest").await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn pending_state_and_many_senders_in_one_burst() {
    let node = TestNode::start();
    let rpc = node.rpc();
    let w = wallets(10);
    let sink = w[9].address;

    // 9 senders x 10 txs fired without waiting: all mined, nonces in order,
    // every block's gasUsed is the sum of its receipts.
    let mut hashes = Vec::new();
    for nonce in 0..10u64 {
        for s in &w[..9] {
            let tx = s.transfer(nonce, sink, U256::from(1u64));
            hashes.push(rpc.send_raw(&tx).await.expect("burst tx"));
        }
    }
    let mut blocks = std::collections::BTreeSet::new();
    for h in &hashes {
        let r = rpc.wait_receipt(*h, TIMEOUT).await;
        assert_eq!(r["status"], "0x1", "{r}");
        blocks.insert(quantity(&r["blockNumber"]));
    }
    for s in &w[..9] {
        assert_eq!(rpc.nonce(s.address, "latest").await, 10);
    }
    let mut total = 0;
    for n in blocks {
        let block = rpc
            .ok("eth_getBlockByNumber", json!([format!("{n:#x}"), true]))
            .await;
        let receipts = rpc
            .ok("eth_getBlockReceipts", json!([format!("{n:#x}")]))
            .await;
        let receipts = receipts.as_array().expect("receipts");
        let txs = block["transactions"].as_array().expect("txs");
        assert_eq!(receipts.len(), txs.len(), "block {n}");
        total += txs.len();
        let sum: u64 = receipts.iter().map(|r| quantity(&r["gasUsed"])).sum();
        assert_eq!(quantity(&block["gasUsed"]), sum, "block {n} gasUsed");
        let last = receipts.last().map(|r| quantity(&r["cumulativeGasUsed"]));
        assert_eq!(last, Some(sum), "block {n} cumulativeGasUsed");
        for (i, (t, r)) in txs.iter().zip(receipts).enumerate() {
            assert_eq!(t["hash"], r["transactionHash"], "block {n} tx {i}");
            assert_eq!(quantity(&t["transactionIndex"]), i as u64);
            assert_eq!(quantity(&r["transactionIndex"]), i as u64);
        }
        // Within a block, each sender's nonces increase.
        let mut last_nonce = std::collections::HashMap::new();
        for t in txs {
            let from = address(&t["from"]);
            let nonce = quantity(&t["nonce"]);
            if let Some(prev) = last_nonce.insert(from, nonce) {
                assert!(nonce > prev, "block {n}: {from} nonce {nonce} after {prev}");
            }
        }
    }
    assert_eq!(total, 90, "mined exactly the burst");
    assert_eq!(
        rpc.balance(sink, "latest").await,
        U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18)) + U256::from(90u64)
    );
}
