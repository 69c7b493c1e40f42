//! End to end: SIGKILL a `tally dev` node while several senders stream
//! transactions into it, restart it on the same data directory, and check
//! that nothing it ever reported is lost or changed: every block seen before
//! the crash is still there with the same hash and state root, balances
//! match what the chain says was mined, and the node goes on mining.

mod common;
#[path = "common/load.rs"]
mod load;

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_sol_types::{sol, SolCall};
use common::*;
use load::{genesis_balance, stream, COST, VALUE};
use serde_json::json;

sol! {
    function setValue(uint256 newValue) external;
    function value() external view returns (uint256);
}

const SENDERS: usize = 4;
/// Stop streaming after this many blocks have been observed.
const BLOCKS_BEFORE_KILL: usize = 30;

/// A block as observed before the crash, with the senders' balances in it.
#[derive(Debug, Clone)]
struct Seen {
    number: u64,
    hash: B256,
    state_root: B256,
    balances: Vec<U256>,
    /// Tester.value() in this block (storage written by the stream).
    stored: U256,
}

async fn stored_value(rpc: &Rpc, tester: Address, block: &str) -> Option<U256> {
    let data = Bytes::from(valueCall {}.abi_encode());
    let out = rpc
        .try_call("eth_call", json!([{"to": tester, "data": data}, block]))
        .await
        .ok()?
        .ok()?;
    Some(U256::from_be_slice(&bytes(&out)))
}

async fn record_block(rpc: &Rpc, n: u64, senders: &[Address], tester: Address) -> Option<Seen> {
    let block = rpc
        .try_call("eth_getBlockByNumber", json!([format!("{n:#x}"), false]))
        .await
        .ok()?
        .ok()?;
    let mut balances = Vec::new();
    for a in senders {
        let b = rpc
            .try_call("eth_getBalance", json!([a, format!("{n:#x}")]))
            .await
            .ok()?
            .ok()?;
        balances.push(u256(&b));
    }
    Some(Seen {
        number: n,
        hash: b256(&block["hash"]),
        state_root: b256(&block["stateRoot"]),
        balances,
        stored: stored_value(rpc, tester, &format!("{n:#x}")).await?,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_under_load_loses_nothing_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = NodeOptions {
        datadir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let mut node = TestNode::start_with(opts.clone());
    let rpc = node.rpc();
    let w = wallets(SENDERS as u32 + 2);
    let sink = w[SENDERS].address;
    let senders: Vec<Address> = w[..SENDERS].iter().map(|w| w.address).collect();
    // One more sender writes contract storage in every tx it sends.
    let writer = w[SENDERS + 1].clone();
    let mut code = artifact("Tester").bytecode.to_vec();
    code.extend_from_slice(&[0u8; 32]); // constructor(uint256 initialValue = 0)
    let deployed = rpc
        .send_and_mine(&writer.tx(0, TxKind::Create, U256::ZERO, code.into(), 1_000_000))
        .await;
    let tester = address(&deployed["contractAddress"]);

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let mut tasks: Vec<_> = w[..SENDERS]
        .iter()
        .map(|wallet| {
            let wallet = wallet.clone();
            tokio::spawn(stream(
                rpc.clone(),
                0,
                move |n| wallet.transfer(n, sink, U256::from(VALUE)),
                stop.clone(),
                sent.clone(),
            ))
        })
        .collect();
    let w5 = writer.clone();
    tasks.push(tokio::spawn(stream(
        rpc.clone(),
        1,
        move |n| {
            let data = setValueCall {
                newValue: U256::from(n),
            }
            .abi_encode();
            w5.tx(n, TxKind::Call(tester), U256::ZERO, data.into(), 100_000)
        },
        stop.clone(),
        Arc::new(AtomicU64::new(0)),
    )));

    // Record every block as it appears, then kill the node while the
    // senders are still sending.
    let mut seen: Vec<Seen> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < BLOCKS_BEFORE_KILL {
        assert!(
            Instant::now() < deadline,
            "only {} blocks in 60 s; node stderr:\n{}",
            seen.len(),
            node.stderr()
        );
        let head = rpc.block_number().await;
        let next = seen.last().map_or(0, |s| s.number + 1);
        for n in next..=head {
            match record_block(&rpc, n, &senders, tester).await {
                Some(s) => seen.push(s),
                None => panic!("block {n} <= head {head} not readable"),
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    node.sigkill();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("sender task");
    }
    let accepted = sent.load(Ordering::Relaxed);
    let last = seen.last().cloned().expect("blocks recorded");
    assert!(
        last.balances.iter().any(|b| *b < genesis_balance()),
        "no streamed transfer was mined before the kill"
    );

    // Restart on the same data directory.
    let node = TestNode::start_with(opts);
    let rpc = node.rpc();
    let head = rpc.block_number().await;
    assert!(
        head >= last.number,
        "head {head} after restart is behind block {} seen before the crash",
        last.number
    );
    for s in &seen {
        let n = format!("{:#x}", s.number);
        let block = rpc.ok("eth_getBlockByNumber", json!([n, false])).await;
        assert!(!block.is_null(), "block {} lost in the crash", s.number);
        assert_eq!(b256(&block["hash"]), s.hash, "hash of block {}", s.number);
        assert_eq!(
            b256(&block["stateRoot"]),
            s.state_root,
            "state root of block {}",
            s.number
        );
        for (a, b) in senders.iter().zip(&s.balances) {
            assert_eq!(rpc.balance(*a, &n).await, *b, "{a} at block {}", s.number);
        }
        assert_eq!(
            stored_value(&rpc, tester, &n).await,
            Some(s.stored),
            "contract storage at block {}",
            s.number
        );
    }

    // The state at the head is exactly what the mined nonces say (read at
    // a fixed number in case the node mines more after the restart).
    let at_head = format!("{head:#x}");
    let mut mined = 0u64;
    for a in &senders {
        let nonce = rpc.nonce(*a, &at_head).await;
        mined += nonce;
        let expected = genesis_balance() - U256::from(COST) * U256::from(nonce);
        assert_eq!(
            rpc.balance(*a, &at_head).await,
            expected,
            "{a} after {nonce} transfers"
        );
    }
    // The writer's last mined setValue(nonce) is what the contract holds.
    let writes = rpc.nonce(writer.address, &at_head).await;
    assert_eq!(
        stored_value(&rpc, tester, &at_head).await,
        Some(U256::from(writes.saturating_sub(1))),
        "Tester.value() after {writes} txs from the writer"
    );
    assert!(
        last.stored > U256::ZERO,
        "no storage write was mined before the kill"
    );
    // A sender may have had one send in flight when the node died: accepted
    // and mined, but the answer lost.
    assert!(
        mined <= accepted + SENDERS as u64,
        "{mined} mined but only {accepted} accepted"
    );
    eprintln!(
        "crash test: {} blocks seen before SIGKILL, head {head} after restart, \
         {accepted} txs accepted, {mined} mined",
        seen.len()
    );
    let sink_expected = genesis_balance() + U256::from(VALUE) * U256::from(mined);
    assert_eq!(rpc.balance(sink, &at_head).await, sink_expected);

    // The node goes on: one more transfer is mined on top of the old head.
    let nonce = rpc.nonce(senders[0], "pending").await;
    let receipt = rpc
        .send_and_mine(&w[0].transfer(nonce, sink, U256::from(VALUE)))
        .await;
    let n = quantity(&receipt["blockNumber"]);
    assert!(n > head, "new tx in block {n}, head was {head}");
    let parent = rpc
        .ok(
            "eth_getBlockByNumber",
            json!([format!("{:#x}", n - 1), false]),
        )
        .await;
    let block = rpc
        .ok("eth_getBlockByNumber", json!([format!("{n:#x}"), false]))
        .await;
    assert_eq!(
        block["parentHash"], parent["hash"],
        "chain links after restart"
    );
}
