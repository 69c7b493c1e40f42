//! Load for the crash tests: streams of transfers from funded dev accounts
//! that run until told to stop or until the node dies, the arithmetic that
//! says what a sender's balance must be after `n` of them, and JSON-RPC
//! batches to read back many blocks at once. Included by `e2e_crash.rs` and
//! `e2e_kill_loop.rs` next to `common`.

#![allow(dead_code)]

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use alloy_consensus::TxEnvelope;
use alloy_primitives::{Bytes, U256};
use serde_json::{json, Value};

use crate::common::{raw, Rpc, RpcErr, BASE_FEE};

/// Value of every streamed transfer, in wei.
pub const VALUE: u64 = 1_000;
/// What each streamed transfer costs its sender: 21 000 gas at the
/// effective price min(max fee 2 gwei, base 1 gwei + tip 1 gwei) = 2 gwei.
pub const COST: u128 = VALUE as u128 + 21_000 * 2 * BASE_FEE;

/// What `tally dev` gives each funded account: 10,000 ether.
pub fn genesis_balance() -> U256 {
    U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18))
}

/// Sends `make(nonce)` with increasing nonces from `first` until `stop` is
/// set or the node is gone, counting accepted transactions in `sent`.
pub async fn stream(
    rpc: Rpc,
    first: u64,
    make: impl Fn(u64) -> TxEnvelope,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
) {
    let mut nonce = first;
    while !stop.load(Ordering::Relaxed) {
        let tx = make(nonce);
        let raw = Bytes::from(raw(&tx));
        match rpc.try_call("eth_sendRawTransaction", json!([raw])).await {
            Ok(Ok(_)) => {
                nonce += 1;
                sent.fetch_add(1, Ordering::Relaxed);
            }
            // Pool full or similar: back off and retry the same nonce.
            Ok(Err(_)) => tokio::time::sleep(Duration::from_millis(20)).await,
            // The node is gone.
            Err(_) => return,
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
}

/// Calls every `(method, params)` in JSON-RPC batches of at most 500 (the
/// node takes 1,000) and returns the answers in the same order; panics if
/// the node does not answer.
pub async fn batch(rpc: &Rpc, calls: &[(&str, Value)]) -> Vec<Result<Value, RpcErr>> {
    let mut out = Vec::with_capacity(calls.len());
    for (chunk_no, chunk) in calls.chunks(500).enumerate() {
        let body: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(id, (method, params))| {
                json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
            })
            .collect();
        let (status, answers) = rpc.post_raw(Value::Array(body).to_string()).await;
        let Value::Array(mut answers) = answers else {
            panic!("batch {chunk_no}: HTTP {status}, not a JSON array: {answers}");
        };
        assert_eq!(answers.len(), chunk.len(), "batch {chunk_no}: answer count");
        // Answers may come in any order: put them back by id.
        answers.sort_by_key(|a| a["id"].as_u64());
        for (i, (a, (method, _))) in answers.into_iter().zip(chunk).enumerate() {
            assert_eq!(a["id"].as_u64(), Some(i as u64), "batch answer ids: {a}");
            out.push(match a.get("error") {
                Some(e) => Err(RpcErr {
                    code: e["code"].as_i64().unwrap_or(0),
                    message: e["message"].as_str().unwrap_or("").to_string(),
                    data: e.get("data").cloned(),
                }),
                None => Ok(a
                    .get("result")
                    .cloned()
                    .unwrap_or_else(|| panic!("{method}: neither result nor error: {a}"))),
            });
        }
    }
    out
}
