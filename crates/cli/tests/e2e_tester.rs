//! End to end with the Tester contract and every transaction type: custom
//! errors and panics in eth_call, reverts mined on chain (status 0, nonce
//! used, gas paid), payable calls, legacy / EIP-2930 / EIP-1559 envelopes,
//! block tags and EIP-1898 block objects, filters, pending transactions,
//! timed blocks, and a chain that survives a clean restart.

mod common;

use std::time::Duration;

use alloy_consensus::{TxEip2930, TxLegacy};
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_sol_types::{sol, Revert, SolCall, SolConstructor, SolError, SolEvent};
use common::*;
use jsonrpsee::core::client::{Subscription, SubscriptionClientT};
use jsonrpsee::rpc_params;
use serde_json::{json, Value};

sol! {
    contract Tester {
        error CustomFailure(uint256 code, string message);
        constructor(uint256 initialValue);
        function value() external view returns (uint256);
        function setValue(uint256 newValue) external;
        function getValuePlus(uint256 delta) external view returns (uint256);
        function failWithReason() external pure;
        function failCustom() external pure;
        function maybeFail(bool fail) external;
        function deposit() external payable;
        function totalReceived() external view returns (uint256);
        event ValueChanged(address indexed sender, uint256 indexed oldValue, uint256 newValue);
        event Received(address indexed sender, uint256 amount, uint256 total);
    }
}

const TIMEOUT: Duration = Duration::from_secs(20);

async fn deploy_tester(rpc: &Rpc, w: &Wallet, initial: u64) -> Address {
    let mut code = artifact("Tester").bytecode.to_vec();
    code.extend(
        Tester::constructorCall {
            initialValue: U256::from(initial),
        }
        .abi_encode(),
    );
    let nonce = rpc.nonce(w.address, "pending").await;
    let r = rpc
        .send_and_mine(&w.tx(nonce, TxKind::Create, U256::ZERO, code.into(), 2_000_000))
        .await;
    address(&r["contractAddress"])
}

async fn call_u256(rpc: &Rpc, to: Address, data: Vec<u8>, block: Value) -> U256 {
    let out = rpc
        .ok(
            "eth_call",
            json!([{"to": to, "data": Bytes::from(data)}, block]),
        )
        .await;
    U256::from_be_slice(&bytes(&out))
}

#[tokio::test(flavor = "multi_thread")]
async fn reverts_custom_errors_and_payable_calls() {
    let node = TestNode::start();
    let rpc = node.rpc();
    let w = wallets(2);
    let tester = deploy_tester(&rpc, &w[0], 5).await;

    let plus = call_u256(
        &rpc,
        tester,
        Tester::getValuePlusCall {
            delta: U256::from(10u64),
        }
        .abi_encode(),
        json!("latest"),
    )
    .await;
    assert_eq!(plus, U256::from(15u64));

    // Error(string) from eth_call and eth_estimateGas.
    let data = Bytes::from(Tester::failWithReasonCall {}.abi_encode());
    let err = rpc
        .err("eth_call", json!([{"to": tester, "data": data}, "latest"]))
        .await;
    assert_eq!(err.code, 3, "{err:?}");
    assert_eq!(err.message, "execution reverted: Tester: always fails");
    let want: Bytes = Revert::from("Tester: always fails").abi_encode().into();
    assert_eq!(err.data.as_ref().map(bytes), Some(want.clone()));
    let err = rpc
        .err(
            "eth_estimateGas",
            json!([{"from": w[0].address, "to": tester, "data": data}]),
        )
        .await;
    assert_eq!(err.code, 3, "estimateGas revert: {err:?}");
    assert_eq!(err.data.as_ref().map(bytes), Some(want), "{err:?}");

    // A custom error reaches the caller whole, for clients to decode.
    let data = Bytes::from(Tester::failCustomCall {}.abi_encode());
    let err = rpc
        .err("eth_call", json!([{"to": tester, "data": data}, "latest"]))
        .await;
    assert_eq!(err.code, 3, "{err:?}");
    assert!(err.message.starts_with("execution reverted"), "{err:?}");
    let raw = err.data.as_ref().map(bytes).expect("revert data");
    let decoded = Tester::CustomFailure::abi_decode(&raw).expect("CustomFailure data");
    assert_eq!(decoded.code, U256::from(42u64));
    assert_eq!(decoded.message, "custom");

    // A revert mined on chain: status 0, nonce used, gas paid, no logs,
    // state untouched.
    let before = rpc.balance(w[1].address, "latest").await;
    let fail = w[1].tx(
        0,
        TxKind::Call(tester),
        U256::ZERO,
        Tester::maybeFailCall { fail: true }.abi_encode().into(),
        100_000,
    );
    let hash = rpc.send_raw(&fail).await.expect("send failing tx");
    let r = rpc.wait_receipt(hash, TIMEOUT).await;
    assert_eq!(r["status"], "0x0", "{r}");
    assert_eq!(r["logs"].as_array().map(Vec::len), Some(0), "{r}");
    let used = quantity(&r["gasUsed"]);
    assert!(used > 21_000 && used < 100_000, "gasUsed {used}");
    assert_eq!(rpc.nonce(w[1].address, "latest").await, 1);
    let price = u256(&r["effectiveGasPrice"]);
    assert_eq!(
        rpc.balance(w[1].address, "latest").await,
        before - price * U256::from(used)
    );
    let value = call_u256(
        &rpc,
        tester,
        Tester::valueCall {}.abi_encode(),
        json!("latest"),
    )
    .await;
    assert_eq!(value, U256::from(5u64), "a reverted tx changed state");
    // The same call that succeeds.
    let ok = w[1].tx(
        1,
        TxKind::Call(tester),
        U256::ZERO,
        Tester::maybeFailCall { fail: false }.abi_encode().into(),
        100_000,
    );
    rpc.send_and_mine(&ok).await;
    let value = call_u256(
        &rpc,
        tester,
        Tester::valueCall {}.abi_encode(),
        json!("latest"),
    )
    .await;
    assert_eq!(value, U256::from(6u64));

    // Payable: value reaches the contract, event carries it, estimate with
    // value works.
    let deposit = Bytes::from(Tester::depositCall {}.abi_encode());
    let wei = U256::from(10u64).pow(U256::from(17));
    let est = rpc
        .ok(
            "eth_estimateGas",
            json!([{"from": w[0].address, "to": tester, "data": deposit, "value": wei}]),
        )
        .await;
    let gas = quantity(&est);
    let nonce = rpc.nonce(w[0].address, "latest").await;
    let r = rpc
        .send_and_mine(&w[0].tx(nonce, TxKind::Call(tester), wei, deposit, gas))
        .await;
    assert_eq!(rpc.balance(tester, "latest").await, wei);
    let log = &r["logs"][0];
    let topics: Vec<B256> = serde_json::from_value(log["topics"].clone()).expect("topics");
    let ev = Tester::Received::decode_raw_log(topics, &bytes(&log["data"])).expect("Received");
    assert_eq!((ev.sender, ev.amount, ev.total), (w[0].address, wei, wei));
    // Sending value to a non-payable function reverts in eth_call.
    let err = rpc
        .err(
            "eth_call",
            json!([{"from": w[0].address, "to": tester, "data": Bytes::from(Tester::valueCall {}.abi_encode()), "value": "0x1"}, "latest"]),
        )
        .await;
    assert_eq!(err.code, 3, "value to a non-payable function: {err:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_transaction_type_is_accepted_and_reported() {
    let node = TestNode::start();
    let rpc = node.rpc();
    let w = wallets(3);
    let to = w[2].address;

    let legacy = tally_crypto::sign_transaction(
        &w[0].key,
        TxLegacy {
            chain_id: Some(CHAIN_ID),
            nonce: 0,
            gas_price: 2 * BASE_FEE,
            gas_limit: 21_000,
            to: TxKind::Call(to),
            value: U256::from(1u64),
            input: Bytes::new(),
        },
    );
    let r = rpc.send_and_mine(&legacy).await;
    assert_eq!(r["type"], "0x0", "{r}");
    assert_eq!(u256(&r["effectiveGasPrice"]), U256::from(2 * BASE_FEE));
    let t = rpc
        .ok("eth_getTransactionByHash", json!([legacy.tx_hash()]))
        .await;
    assert_eq!(t["type"], "0x0");
    assert_eq!(quantity(&t["gasPrice"]), (2 * BASE_FEE) as u64);
    assert_eq!(quantity(&t["chainId"]), CHAIN_ID, "{t}");
    let v = quantity(&t["v"]);
    assert!(
        v == CHAIN_ID * 2 + 35 || v == CHAIN_ID * 2 + 36,
        "EIP-155 v {v}"
    );

    let access = AccessList(vec![AccessListItem {
        address: to,
        storage_keys: vec![B256::ZERO],
    }]);
    let eip2930 = tally_crypto::sign_transaction(
        &w[0].key,
        TxEip2930 {
            chain_id: CHAIN_ID,
            nonce: 1,
            gas_price: 2 * BASE_FEE,
            gas_limit: 30_000,
            to: TxKind::Call(to),
            value: U256::from(1u64),
            access_list: access,
            input: Bytes::new(),
        },
    );
    let r = rpc.send_and_mine(&eip2930).await;
    assert_eq!(r["type"], "0x1", "{r}");
    // 21000 + 2400 per address + 1900 per storage key.
    assert_eq!(quantity(&r["gasUsed"]), 21_000 + 2_400 + 1_900);
    let t = rpc
        .ok("eth_getTransactionByHash", json!([eip2930.tx_hash()]))
        .await;
    assert_eq!(t["type"], "0x1");
    assert_eq!(t["accessList"][0]["address"], json!(to), "{t}");

    let r = rpc
        .send_and_mine(&w[1].transfer(0, to, U256::from(1u64)))
        .await;
    assert_eq!(r["type"], "0x2", "{r}");
    // EIP-1559: effective price = base fee + tip (capped by max fee).
    assert_eq!(u256(&r["effectiveGasPrice"]), U256::from(2 * BASE_FEE));
    let block = rpc
        .ok("eth_getBlockByHash", json!([r["blockHash"], false]))
        .await;
    assert_eq!(u256(&block["baseFeePerGas"]), U256::from(BASE_FEE));
    assert_eq!(
        rpc.balance(to, "latest").await,
        U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18)) + U256::from(3u64)
    );

    // Sending the same transaction again is not a new transaction.
    let again = rpc.send_raw(&legacy).await;
    assert!(again.is_err(), "re-sent mined tx accepted: {again:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn block_tags_filters_and_pending_transactions() {
    let node = TestNode::start();
    let rpc = node.rpc();
    let w = wallets(3);

    assert_eq!(rpc.ok("net_version", json!([])).await, "31337");
    assert_eq!(quantity(&rpc.ok("eth_chainId", json!([])).await), CHAIN_ID);
    let version = rpc.ok("web3_clientVersion", json!([])).await;
    assert!(version.as_str().is_some_and(|v| !v.is_empty()));

    let block_filter = rpc.ok("eth_newBlockFilter", json!([])).await;
    let tester = deploy_tester(&rpc, &w[0], 1).await;
    let log_filter = rpc.ok("eth_newFilter", json!([{"address": tester}])).await;
    let set = |v: u64| -> Bytes {
        Tester::setValueCall {
            newValue: U256::from(v),
        }
        .abi_encode()
        .into()
    };
    let r1 = rpc
        .send_and_mine(&w[0].tx(1, TxKind::Call(tester), U256::ZERO, set(2), 100_000))
        .await;
    let b1 = quantity(&r1["blockNumber"]);

    // Polling filters: the block filter saw the deploy block and this one;
    // the log filter sees the ValueChanged log; a second poll is empty.
    let hashes = rpc.ok("eth_getFilterChanges", json!([block_filter])).await;
    let hashes = hashes.as_array().expect("block hashes");
    assert!(hashes.contains(&r1["blockHash"]), "{hashes:?}");
    let logs = rpc.ok("eth_getFilterChanges", json!([log_filter])).await;
    let logs = logs.as_array().expect("logs");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(
        b256(&logs[0]["topics"][0]),
        Tester::ValueChanged::SIGNATURE_HASH
    );
    let again = rpc.ok("eth_getFilterChanges", json!([log_filter])).await;
    assert_eq!(again.as_array().map(Vec::len), Some(0), "{again}");
    assert_eq!(
        rpc.ok("eth_uninstallFilter", json!([log_filter])).await,
        true
    );
    let gone = rpc.call("eth_getFilterChanges", json!([log_filter])).await;
    assert!(gone.is_err(), "uninstalled filter still answers: {gone:?}");

    // Tags and EIP-1898 block objects.
    let value_call = Bytes::from(Tester::valueCall {}.abi_encode());
    let call_at = |block: Value| {
        let rpc = rpc.clone();
        let data = value_call.clone();
        async move {
            let out = rpc
                .ok("eth_call", json!([{"to": tester, "data": data}, block]))
                .await;
            U256::from_be_slice(&bytes(&out))
        }
    };
    let deploy_block = format!("{:#x}", b1 - 1);
    assert_eq!(call_at(json!(deploy_block)).await, U256::from(1u64));
    assert_eq!(call_at(json!("latest")).await, U256::from(2u64));
    assert_eq!(
        call_at(json!({"blockNumber": deploy_block})).await,
        U256::from(1u64)
    );
    assert_eq!(
        call_at(json!({"blockHash": r1["blockHash"]})).await,
        U256::from(2u64)
    );
    for tag in ["safe", "finalized", "pending"] {
        let b = rpc.ok("eth_getBlockByNumber", json!([tag, false])).await;
        assert!(!b.is_null(), "{tag} block");
    }
    let earliest = rpc
        .ok("eth_getBlockByNumber", json!(["earliest", false]))
        .await;
    assert_eq!(quantity(&earliest["number"]), 0);
    let future = rpc
        .ok(
            "eth_getBlockByNumber",
            json!([format!("{:#x}", b1 + 100), false]),
        )
        .await;
    assert!(future.is_null(), "block past the head: {future}");
    // A reversed range is a client bug to report, as geth does ("invalid
    // block range params"), not an empty result that hides it.
    let reversed = rpc
        .call(
            "eth_getLogs",
            json!([{"fromBlock": format!("{b1:#x}"), "toBlock": format!("{:#x}", b1 - 1)}]),
        )
        .await;
    assert!(
        reversed.is_err(),
        "fromBlock > toBlock answered {reversed:?}"
    );
    let unknown = rpc
        .ok("eth_getTransactionReceipt", json!([B256::repeat_byte(7)]))
        .await;
    assert!(unknown.is_null());
    let err = rpc
        .call(
            "eth_getBalance",
            json!([w[0].address, {"blockHash": B256::repeat_byte(9)}]),
        )
        .await;
    assert!(err.is_err(), "unknown block hash answered: {err:?}");

    // A queued transaction (nonce gap) is visible but not mined; pending
    // nonce counts only executable transactions.
    let queued = w[1].transfer(1, w[2].address, U256::from(1u64));
    rpc.send_raw(&queued).await.expect("queued tx");
    let t = rpc
        .ok("eth_getTransactionByHash", json!([queued.tx_hash()]))
        .await;
    if !t.is_null() {
        assert!(t["blockHash"].is_null(), "queued tx has a block: {t}");
    }
    assert_eq!(rpc.nonce(w[1].address, "latest").await, 0);

    // newPendingTransactions over WebSocket sees a new transaction's hash.
    let ws = jsonrpsee::ws_client::WsClientBuilder::default()
        .build(node.ws_url())
        .await
        .expect("ws");
    let mut pending: Subscription<Value> = ws
        .subscribe(
            "eth_subscribe",
            rpc_params!["newPendingTransactions"],
            "eth_unsubscribe",
        )
        .await
        .expect("subscribe newPendingTransactions");
    let tx = w[2].transfer(0, w[1].address, U256::from(1u64));
    rpc.send_and_mine(&tx).await;
    let got = tokio::time::timeout(TIMEOUT, pending.next())
        .await
        .expect("pending tx notification")
        .expect("open")
        .expect("valid");
    assert_eq!(b256(&got), *tx.tx_hash());
    let err = ws
        .subscribe::<Value, _>(
            "eth_subscribe",
            rpc_params!["noSuchKind"],
            "eth_unsubscribe",
        )
        .await;
    assert!(err.is_err(), "unknown subscription kind accepted");

    // Fee history covers the chain.
    let fh = rpc
        .ok("eth_feeHistory", json!(["0x2", "latest", [50.0]]))
        .await;
    assert_eq!(
        fh["baseFeePerGas"].as_array().map(Vec::len),
        Some(3),
        "{fh}"
    );
    assert_eq!(u256(&fh["baseFeePerGas"][0]), U256::from(BASE_FEE));
}

#[tokio::test(flavor = "multi_thread")]
async fn timed_blocks_and_clean_restart_keep_the_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = NodeOptions {
        datadir: Some(dir.path().to_path_buf()),
        block_time: Some(0.2),
        ..Default::default()
    };
    let mut node = TestNode::start_with(opts.clone());
    let rpc = node.rpc();
    let w = wallets(2);
    // Timed blocks come without transactions too.
    wait_block(&rpc, 3, TIMEOUT).await;
    let r = rpc
        .send_and_mine(&w[0].transfer(0, w[1].address, U256::from(9u64)))
        .await;
    let mined_in = quantity(&r["blockNumber"]);
    let b = rpc.ok("eth_getBlockByNumber", json!(["0x1", false])).await;
    let t1 = quantity(&b["timestamp"]);
    let b = rpc.ok("eth_getBlockByNumber", json!(["0x3", false])).await;
    assert!(quantity(&b["timestamp"]) >= t1, "timestamps go forward");

    let status = node.signal_and_wait("TERM", Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
    let head_hash = {
        let node = TestNode::start_with(NodeOptions {
            block_time: None,
            ..opts.clone()
        });
        let rpc = node.rpc();
        let tx = rpc
            .ok("eth_getTransactionReceipt", json!([r["transactionHash"]]))
            .await;
        assert_eq!(
            quantity(&tx["blockNumber"]),
            mined_in,
            "receipt after restart"
        );
        assert_eq!(rpc.nonce(w[0].address, "latest").await, 1);
        let head = rpc.block_number().await;
        assert!(head >= mined_in);
        rpc.ok("eth_getBlockByNumber", json!(["latest", false]))
            .await["hash"]
            .clone()
    };
    assert!(head_hash.is_string());
}
