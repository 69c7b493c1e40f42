//! End to end: an ERC-20 token on a real `tally dev` process, through the
//! JSON-RPC calls wallets and dapps make (deploy, call, transfer, receipts,
//! logs, blocks, estimates, reverts, historical reads, proofs, and
//! WebSocket subscriptions).

mod common;

use std::time::Duration;

use alloy_primitives::{keccak256, Address, Bytes, TxKind, B256, U256};
use alloy_sol_types::{sol, Revert, SolCall, SolConstructor, SolError, SolEvent};
use common::*;
use jsonrpsee::core::client::{Subscription, SubscriptionClientT};
use jsonrpsee::rpc_params;
use serde_json::{json, Value};

sol! {
    contract TestToken {
        constructor(string name_, string symbol_, uint256 initialSupply);
        function transfer(address to, uint256 value) external returns (bool);
        function balanceOf(address owner) external view returns (uint256);
        event Transfer(address indexed from, address indexed to, uint256 value);
    }
}

const TIMEOUT: Duration = Duration::from_secs(20);
/// `balanceOf` is the 4th state variable (name, symbol, totalSupply,
/// balanceOf; `decimals` is a constant and takes no slot).
const BALANCE_OF_SLOT: u64 = 3;
const TOTAL_SUPPLY_SLOT: u64 = 2;

fn supply() -> U256 {
    U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18))
}

fn hex_num(n: u64) -> String {
    format!("{n:#x}")
}

/// The storage slot of `balanceOf[owner]`: keccak(pad(owner) ++ pad(slot)).
fn balance_slot(owner: Address) -> B256 {
    let mut buf = [0u8; 64];
    buf[12..32].copy_from_slice(owner.as_slice());
    buf[32..].copy_from_slice(&U256::from(BALANCE_OF_SLOT).to_be_bytes::<32>());
    keccak256(buf)
}

fn topic_of(addr: Address) -> B256 {
    addr.into_word()
}

/// Deploys TestToken from `w` (nonce 0) and returns (token, receipt).
async fn deploy_token(rpc: &Rpc, w: &Wallet) -> (Address, Value) {
    let art = artifact("TestToken");
    let args = TestToken::constructorCall {
        name_: "Test Token".into(),
        symbol_: "TST".into(),
        initialSupply: supply(),
    }
    .abi_encode();
    let mut code = art.bytecode.to_vec();
    code.extend_from_slice(&args);
    let nonce = rpc.nonce(w.address, "pending").await;
    let tx = w.tx(nonce, TxKind::Create, U256::ZERO, code.into(), 3_000_000);
    let receipt = rpc.send_and_mine(&tx).await;
    let token = address(&receipt["contractAddress"]);
    assert_eq!(token, w.address.create(nonce), "contractAddress");
    (token, receipt)
}

async fn balance_of(rpc: &Rpc, token: Address, owner: Address, block: &str) -> U256 {
    let data: Bytes = TestToken::balanceOfCall { owner }.abi_encode().into();
    let out = rpc
        .ok("eth_call", json!([{"to": token, "data": data}, block]))
        .await;
    TestToken::balanceOfCall::abi_decode_returns(&bytes(&out)).expect("decode balanceOf")
}

fn transfer_data(to: Address, value: U256) -> Bytes {
    TestToken::transferCall { to, value }.abi_encode().into()
}

#[tokio::test(flavor = "multi_thread")]
async fn erc20_lifecycle_over_json_rpc() {
    let node = TestNode::start();
    let rpc = node.rpc();
    let w = wallets(2);
    let (alice, bob) = (&w[0], &w[1]);

    // --- deploy ---
    let (token, receipt) = deploy_token(&rpc, alice).await;
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(address(&receipt["from"]), alice.address);
    assert!(receipt["to"].is_null(), "creation receipt has to = null");
    let gas_used = quantity(&receipt["gasUsed"]);
    assert!(
        gas_used > 53_000 && gas_used < 3_000_000,
        "gasUsed {gas_used}"
    );
    let deploy_block = quantity(&receipt["blockNumber"]);
    let logs = receipt["logs"].as_array().expect("logs array");
    assert_eq!(logs.len(), 1, "mint emits exactly one Transfer: {logs:?}");
    assert_eq!(address(&logs[0]["address"]), token);
    let mint = decode_transfer(&logs[0]);
    assert_eq!(mint.from, Address::ZERO);
    assert_eq!(mint.to, alice.address);
    assert_eq!(mint.value, supply());

    // --- code and reads ---
    let code = bytes(&rpc.ok("eth_getCode", json!([token, "latest"])).await);
    assert!(!code.is_empty(), "no code at {token}");
    let deployed = artifact_field("TestToken", "deployedBytecode");
    assert_eq!(code, deployed, "runtime code differs from the artifact");
    assert_eq!(
        balance_of(&rpc, token, alice.address, "latest").await,
        supply()
    );

    // --- estimate and transfer ---
    let amount = U256::from(1234u64);
    let estimate = quantity(
        &rpc.ok(
            "eth_estimateGas",
            json!([{"from": alice.address, "to": token, "data": transfer_data(bob.address, amount)}]),
        )
        .await,
    );
    assert!(
        (21_000..100_000).contains(&estimate),
        "estimate {estimate} for an ERC-20 transfer"
    );
    let alice_eth_before = rpc.balance(alice.address, "latest").await;
    let tx = alice.tx(
        1,
        TxKind::Call(token),
        U256::ZERO,
        transfer_data(bob.address, amount),
        estimate,
    );
    let receipt = rpc.send_and_mine(&tx).await;
    let tx_hash = *tx.tx_hash();
    let block_hash = b256(&receipt["blockHash"]);
    let transfer_block = quantity(&receipt["blockNumber"]);
    assert!(transfer_block > deploy_block);
    assert_eq!(b256(&receipt["transactionHash"]), tx_hash);
    assert_eq!(address(&receipt["to"]), token);
    assert!(receipt["contractAddress"].is_null());
    let used = quantity(&receipt["gasUsed"]);
    assert!(used <= estimate, "used {used} > estimate {estimate}");
    let logs = receipt["logs"].as_array().expect("logs");
    assert_eq!(logs.len(), 1);
    let ev = decode_transfer(&logs[0]);
    assert_eq!(
        (ev.from, ev.to, ev.value),
        (alice.address, bob.address, amount)
    );
    assert_eq!(b256(&logs[0]["blockHash"]), block_hash);
    assert_eq!(b256(&logs[0]["transactionHash"]), tx_hash);
    assert_eq!(quantity(&logs[0]["blockNumber"]), transfer_block);

    // Token balances moved; alice paid exactly gasUsed * effectiveGasPrice.
    assert_eq!(
        balance_of(&rpc, token, alice.address, "latest").await,
        supply() - amount
    );
    assert_eq!(balance_of(&rpc, token, bob.address, "latest").await, amount);
    let price = u256(&receipt["effectiveGasPrice"]);
    assert_eq!(
        rpc.balance(alice.address, "latest").await,
        alice_eth_before - price * U256::from(used),
        "ETH paid for the transfer"
    );

    // --- blocks and transactions ---
    let block = rpc
        .ok(
            "eth_getBlockByNumber",
            json!([hex_num(transfer_block), true]),
        )
        .await;
    assert_eq!(b256(&block["hash"]), block_hash);
    let txs = block["transactions"].as_array().expect("txs");
    let full = txs
        .iter()
        .find(|t| t["hash"] == json!(tx_hash))
        .unwrap_or_else(|| panic!("tx {tx_hash} not in block {block}"));
    check_tx_fields(
        full,
        tx_hash,
        alice.address,
        token,
        1,
        block_hash,
        transfer_block,
    );
    let by_hash = rpc.ok("eth_getTransactionByHash", json!([tx_hash])).await;
    check_tx_fields(
        &by_hash,
        tx_hash,
        alice.address,
        token,
        1,
        block_hash,
        transfer_block,
    );
    assert_eq!(by_hash["type"], "0x2");
    assert_eq!(quantity(&by_hash["chainId"]), CHAIN_ID);
    let by_block_hash = rpc
        .ok("eth_getBlockByHash", json!([block_hash, false]))
        .await;
    assert_eq!(quantity(&by_block_hash["number"]), transfer_block);
    assert!(by_block_hash["transactions"]
        .as_array()
        .expect("hashes")
        .contains(&json!(tx_hash)));

    // --- logs ---
    check_logs(&rpc, token, alice.address, bob.address, block_hash, tx_hash).await;

    // --- revert with a reason ---
    let too_much = transfer_data(alice.address, supply());
    let err = rpc
        .err(
            "eth_call",
            json!([{"from": bob.address, "to": token, "data": too_much}, "latest"]),
        )
        .await;
    let reason = "ERC20: transfer amount exceeds balance";
    assert_eq!(err.code, 3, "{err:?}");
    assert!(err.message.contains(reason), "{err:?}");
    let expected: Bytes = Revert::from(reason).abi_encode().into();
    assert_eq!(err.data.as_ref().map(bytes), Some(expected), "{err:?}");
    let err = rpc
        .err(
            "eth_estimateGas",
            json!([{"from": bob.address, "to": token, "data": too_much}]),
        )
        .await;
    assert!(err.message.contains(reason), "estimateGas: {err:?}");

    // --- historical reads ---
    let at_deploy = hex_num(deploy_block);
    assert_eq!(
        balance_of(&rpc, token, bob.address, &at_deploy).await,
        U256::ZERO
    );
    assert_eq!(
        balance_of(&rpc, token, alice.address, &at_deploy).await,
        supply()
    );
    assert_eq!(
        rpc.balance(alice.address, &at_deploy).await,
        alice_eth_before,
        "ETH balance at the deploy block"
    );
    let genesis_eth = rpc.balance(alice.address, "0x0").await;
    assert_eq!(
        genesis_eth,
        U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18))
    );
    let slot = balance_slot(bob.address);
    let old = rpc
        .ok("eth_getStorageAt", json!([token, slot, at_deploy]))
        .await;
    let new = rpc
        .ok("eth_getStorageAt", json!([token, slot, "latest"]))
        .await;
    assert_eq!(b256(&old), B256::ZERO, "bob's slot before the transfer");
    assert_eq!(U256::from_be_bytes(b256(&new).0), amount);
    let supply_slot = B256::from(U256::from(TOTAL_SUPPLY_SLOT));
    let total = rpc
        .ok("eth_getStorageAt", json!([token, supply_slot, "latest"]))
        .await;
    assert_eq!(U256::from_be_bytes(b256(&total).0), supply());
    // Before the token existed, it had no code.
    let before = hex_num(deploy_block - 1);
    let code = bytes(&rpc.ok("eth_getCode", json!([token, before])).await);
    assert!(code.is_empty(), "code at {token} before deployment");

    // --- proofs ---
    let proof = rpc
        .ok("eth_getProof", json!([token, [slot], "latest"]))
        .await;
    assert_eq!(address(&proof["address"]), token);
    assert_eq!(b256(&proof["codeHash"]), keccak256(&deployed));
    assert_eq!(quantity(&proof["nonce"]), 1, "a contract starts at nonce 1");
    assert!(
        !proof["accountProof"]
            .as_array()
            .expect("accountProof")
            .is_empty(),
        "empty account proof: {proof}"
    );
    let sp = &proof["storageProof"][0];
    assert_eq!(u256(&sp["value"]), amount, "{proof}");
    assert!(sp["proof"].is_array(), "{proof}");
}

fn artifact_field(name: &str, field: &str) -> Bytes {
    let path = repo_root()
        .join("contracts/build")
        .join(format!("{name}.json"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("artifact"))
        .expect("artifact JSON");
    bytes(&v[field])
}

fn decode_transfer(log: &Value) -> TestToken::Transfer {
    let topics: Vec<B256> = serde_json::from_value(log["topics"].clone()).expect("topics");
    assert_eq!(topics.first(), Some(&TestToken::Transfer::SIGNATURE_HASH));
    TestToken::Transfer::decode_raw_log(topics, &bytes(&log["data"]))
        .unwrap_or_else(|e| panic!("not a Transfer log {log}: {e}"))
}

fn check_tx_fields(
    tx: &Value,
    hash: B256,
    from: Address,
    to: Address,
    nonce: u64,
    block_hash: B256,
    block_number: u64,
) {
    assert_eq!(b256(&tx["hash"]), hash, "{tx}");
    assert_eq!(address(&tx["from"]), from, "{tx}");
    assert_eq!(address(&tx["to"]), to, "{tx}");
    assert_eq!(quantity(&tx["nonce"]), nonce, "{tx}");
    assert_eq!(b256(&tx["blockHash"]), block_hash, "{tx}");
    assert_eq!(quantity(&tx["blockNumber"]), block_number, "{tx}");
    assert!(tx["transactionIndex"].is_string(), "{tx}");
    assert!(!bytes(&tx["input"]).is_empty(), "{tx}");
}

async fn check_logs(
    rpc: &Rpc,
    token: Address,
    alice: Address,
    bob: Address,
    block_hash: B256,
    tx_hash: B256,
) {
    let sig = TestToken::Transfer::SIGNATURE_HASH;
    let all = rpc
        .ok(
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "toBlock": "latest", "address": token}]),
        )
        .await;
    let all = all.as_array().expect("logs");
    assert_eq!(all.len(), 2, "mint + transfer: {all:?}");
    assert_eq!(
        decode_transfer(&all[0]).from,
        Address::ZERO,
        "logs in chain order"
    );
    let to_bob = rpc
        .ok(
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "address": token, "topics": [sig, null, topic_of(bob)]}]),
        )
        .await;
    let to_bob = to_bob.as_array().expect("logs");
    assert_eq!(to_bob.len(), 1, "{to_bob:?}");
    assert_eq!(b256(&to_bob[0]["transactionHash"]), tx_hash);
    // OR within a topic position: from zero or from alice -> both logs.
    let either = rpc
        .ok(
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "topics": [sig, [topic_of(Address::ZERO), topic_of(alice)]]}]),
        )
        .await;
    assert_eq!(either.as_array().map(Vec::len), Some(2), "{either}");
    let none = rpc
        .ok(
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "address": token, "topics": [sig, topic_of(bob)]}]),
        )
        .await;
    assert_eq!(none.as_array().map(Vec::len), Some(0), "{none}");
    let in_block = rpc
        .ok("eth_getLogs", json!([{"blockHash": block_hash}]))
        .await;
    let in_block = in_block.as_array().expect("logs");
    assert_eq!(in_block.len(), 1, "{in_block:?}");
    assert_eq!(b256(&in_block[0]["transactionHash"]), tx_hash);
    let other = rpc
        .ok(
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "address": Address::repeat_byte(0x42)}]),
        )
        .await;
    assert_eq!(other.as_array().map(Vec::len), Some(0), "{other}");
}

async fn next_within<T: serde::de::DeserializeOwned>(sub: &mut Subscription<T>, what: &str) -> T {
    match tokio::time::timeout(TIMEOUT, sub.next()).await {
        Ok(Some(Ok(v))) => v,
        Ok(Some(Err(e))) => panic!("{what}: bad notification: {e}"),
        Ok(None) => panic!("{what}: subscription closed"),
        Err(_) => panic!("{what}: nothing within {TIMEOUT:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn subscriptions_deliver_heads_and_logs() {
    let node = TestNode::start();
    let rpc = node.rpc();
    let w = wallets(2);
    let (alice, bob) = (&w[0], &w[1]);
    let (token, _) = deploy_token(&rpc, alice).await;

    let ws = jsonrpsee::ws_client::WsClientBuilder::default()
        .build(node.ws_url())
        .await
        .expect("connect WebSocket");
    let mut heads: Subscription<Value> = ws
        .subscribe("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
        .await
        .expect("subscribe newHeads");
    let mut logs: Subscription<Value> = ws
        .subscribe(
            "eth_subscribe",
            rpc_params![
                "logs",
                json!({"address": token, "topics": [TestToken::Transfer::SIGNATURE_HASH]})
            ],
            "eth_unsubscribe",
        )
        .await
        .expect("subscribe logs");
    // A filter that matches nothing must stay silent.
    let mut silent: Subscription<Value> = ws
        .subscribe(
            "eth_subscribe",
            rpc_params!["logs", json!({"address": Address::repeat_byte(0x42)})],
            "eth_unsubscribe",
        )
        .await
        .expect("subscribe logs (no match)");

    let tx = alice.tx(
        1,
        TxKind::Call(token),
        U256::ZERO,
        transfer_data(bob.address, U256::from(7u64)),
        100_000,
    );
    let receipt = rpc.send_and_mine(&tx).await;
    let block_hash = b256(&receipt["blockHash"]);
    let number = quantity(&receipt["blockNumber"]);

    // Heads arrive in order; skip any earlier one until ours.
    loop {
        let head = next_within(&mut heads, "newHeads").await;
        let n = quantity(&head["number"]);
        assert!(n <= number, "head {n} past block {number} without it");
        if n == number {
            assert_eq!(b256(&head["hash"]), block_hash, "{head}");
            assert!(head["parentHash"].is_string() && head["stateRoot"].is_string());
            break;
        }
    }
    let log = next_within(&mut logs, "logs").await;
    assert_eq!(b256(&log["transactionHash"]), *tx.tx_hash(), "{log}");
    assert_eq!(b256(&log["blockHash"]), block_hash, "{log}");
    assert_eq!(address(&log["address"]), token);
    let ev = decode_transfer(&log);
    assert_eq!(
        (ev.from, ev.to, ev.value),
        (alice.address, bob.address, U256::from(7u64))
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), silent.next())
            .await
            .is_err(),
        "a non-matching logs subscription got a notification"
    );
}
