//! RPC clients see a reorg as Ethereum clients expect: a WebSocket `logs`
//! subscriber and a polling log filter get the abandoned block's logs again
//! with `removed: true`,
//! `newHeads` announces the new branch, and `eth_getLogs`, blocks and
//! receipts never show the abandoned block; its transaction is mined again.

mod common;

use alloy_consensus::TxEip1559;
use alloy_eips::eip2718::Encodable2718;
use common::*;
use jsonrpsee::{
    core::client::{ClientT, Subscription, SubscriptionClientT},
    rpc_params,
    ws_client::WsClientBuilder,
};
use serde_json::{json, Value};
use std::time::Duration;
use tally_crypto::node_key::NodeKey;
use tally_node::{MiningOptions, Node};
use tally_primitives::{alloy_primitives::TxKind, Address, Bytes, ChainSpec, B256};

/// Creation code that emits LOG1 with topic 0x2a and deploys nothing.
const LOGGER: [u8; 8] = [0x60, 0x2a, 0x60, 0x00, 0x60, 0x00, 0xa1, 0x00];

fn logger_tx() -> Bytes {
    let (key, _) = &tally_crypto::mnemonic::dev_accounts(1)[0];
    let tx = TxEip1559 {
        chain_id: 31337,
        nonce: 0,
        gas_limit: 100_000,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Create,
        input: Bytes::from_static(&LOGGER),
        ..Default::default()
    };
    Bytes::from(tally_crypto::sign_transaction(key, tx).encoded_2718())
}

async fn miner(spec: &ChainSpec, dir: &std::path::Path, i: u8) -> Node {
    let mut cfg = config(dir, spec.clone(), NodeKey::from_bytes(&[80 + i; 32]), None);
    cfg.beneficiary = Address::repeat_byte(i);
    cfg.mining = Some(MiningOptions { threads: 1 });
    Node::start(cfg).await.unwrap()
}

async fn next(sub: &mut Subscription<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(30), sub.next())
        .await
        .expect("a notification within 30 s")
        .expect("the subscription is open")
        .expect("a JSON notification")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_sends_removed_logs_and_hides_the_abandoned_block() {
    let spec = pow_spec();
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = miner(&spec, da.path(), 1).await;
    let b = miner(&spec, db.path(), 2).await;
    b.set_mining(false);
    let ws = WsClientBuilder::default()
        .build(format!("ws://{}", a.rpc_addr()))
        .await
        .unwrap();
    let mut logs: Subscription<Value> = ws
        .subscribe(
            "eth_subscribe",
            rpc_params!["logs", json!({"topics": [B256::with_last_byte(0x2a)]})],
            "eth_unsubscribe",
        )
        .await
        .unwrap();
    let mut heads: Subscription<Value> = ws
        .subscribe("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
        .await
        .unwrap();

    // A polling filter too, as ethers v5 and web3.py use.
    let http = jsonrpsee::http_client::HttpClientBuilder::default()
        .build(format!("http://{}", a.rpc_addr()))
        .unwrap();
    let topics = json!({"topics": [B256::with_last_byte(0x2a)]});
    let filter: String = http
        .request("eth_newFilter", rpc_params![topics])
        .await
        .unwrap();
    let poll = || async {
        let got: Vec<Value> = http
            .request("eth_getFilterChanges", rpc_params![filter.clone()])
            .await
            .unwrap();
        got
    };

    // a mines the logging transaction, then stops.
    let tx = a.submit_transaction(logger_tx()).unwrap();
    let first = next(&mut logs).await;
    assert_eq!(first["removed"], json!(false));
    assert_eq!(first["transactionHash"], json!(tx));
    a.set_mining(false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let abandoned: B256 = serde_json::from_value(first["blockHash"].clone()).unwrap();
    let polled = poll().await;
    assert_eq!(polled.len(), 1, "{polled:?}");
    assert_eq!(polled[0]["blockHash"], first["blockHash"]);
    let weight = |n: &Node| n.db().weight(&n.head().hash).unwrap().unwrap();
    let a_weight = weight(&a);

    // b, never having seen the transaction, mines a heavier branch.
    b.set_mining(true);
    wait_for("b's heavier branch", 60, || weight(&b) > a_weight).await;
    b.set_mining(false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    while heads_pending(&mut heads).await {}
    let b_head = b.head();
    for n in 1..=b_head.number {
        let block = b.db().block_by_number(n).unwrap().unwrap().to_block();
        a.import_block(block).await.unwrap();
    }
    assert_eq!(a.head(), b_head);

    // The log comes again, removed; then newHeads names the new branch.
    let removed = next(&mut logs).await;
    assert_eq!(removed["removed"], json!(true));
    assert_eq!(removed["blockHash"], first["blockHash"]);
    assert_eq!(removed["transactionHash"], json!(tx));
    let head = next(&mut heads).await;
    let head_hash: B256 = serde_json::from_value(head["hash"].clone()).unwrap();
    assert!(
        b.db().header_by_hash(head_hash).unwrap().is_some(),
        "a head of b's branch"
    );

    // The polling filter reports the log as removed too.
    let polled = poll().await;
    assert_eq!(polled.len(), 1, "{polled:?}");
    assert_eq!(polled[0]["removed"], json!(true));
    assert_eq!(polled[0]["blockHash"], first["blockHash"]);

    // Nothing of the abandoned block is served any more.
    let found: Vec<Value> = http
        .request(
            "eth_getLogs",
            rpc_params![json!({"fromBlock": "0x0", "toBlock": "latest"})],
        )
        .await
        .unwrap();
    assert!(found.is_empty(), "logs of an abandoned block: {found:?}");
    let by_hash: Value = http
        .request("eth_getBlockByHash", rpc_params![abandoned, false])
        .await
        .unwrap();
    assert_eq!(by_hash, Value::Null);
    let receipt: Value = http
        .request("eth_getTransactionReceipt", rpc_params![tx])
        .await
        .unwrap();
    assert_eq!(receipt, Value::Null, "a receipt from the abandoned block");

    // The transaction went back to a's pool; mining again puts it on the
    // new branch, and its log comes once more, not removed.
    a.set_mining(true);
    let again = next(&mut logs).await;
    assert_eq!(again["removed"], json!(false));
    assert_eq!(again["transactionHash"], json!(tx));
    assert_ne!(again["blockHash"], first["blockHash"]);
    let receipt: Value = http
        .request("eth_getTransactionReceipt", rpc_params![tx])
        .await
        .unwrap();
    assert_eq!(receipt["blockHash"], again["blockHash"]);
    let polled = poll().await;
    assert_eq!(polled.len(), 1, "{polled:?}");
    assert_eq!(polled[0]["removed"], json!(false));
    assert_eq!(polled[0]["blockHash"], again["blockHash"]);
    a.stop().await;
    b.stop().await;
}

/// Drains newHeads notifications already queued; whether one was.
async fn heads_pending(sub: &mut Subscription<Value>) -> bool {
    tokio::time::timeout(Duration::from_millis(50), sub.next())
        .await
        .is_ok()
}
