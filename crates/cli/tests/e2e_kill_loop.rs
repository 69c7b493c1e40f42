//! End to end, the fault loop: SIGKILL a `tally dev` node at random moments
//! while four senders stream transfers into it, restart it on the same data
//! directory, and do it again, N times. After every restart, everything the
//! node reported over RPC before any of the kills must still be there and
//! unchanged: each block's hash, state root and receipts root, each
//! receipt's status, gas and position, both through the block
//! (`eth_getBlockReceipts`) and through the transaction's hash
//! (`eth_getTransactionReceipt`); balances must be exactly what the mined
//! nonces say; and the node must mine again before it is killed. At the end
//! the SQL index, killed as often as the chain, must hold exactly one row
//! per canonical block (no gap, no duplicate, the chain's hashes, linked)
//! and one per transaction.
//!
//! The kill moments come from a seeded RNG; the seed is printed (run with
//! `--nocapture` to see it on success) and `TALLY_FAULT_SEED=<seed>` replays
//! the same delays (the node's own timing still varies). CI runs 5 kills in
//! well under a minute; the long version is
//!
//! ```sh
//! TALLY_FAULT_LOOPS=30 cargo test -p tally-cli --test e2e_kill_loop -- --nocapture
//! ```

mod common;
#[path = "common/load.rs"]
mod load;

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, U256};
use common::*;
use load::{batch, genesis_balance, stream, COST, VALUE};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};

const SENDERS: usize = 4;
/// Kills in CI; `TALLY_FAULT_LOOPS` asks for more.
const DEFAULT_LOOPS: u32 = 5;
/// Once the restarted node has mined a block, the kill comes within this.
const MAX_KILL_DELAY_MS: u64 = 1_500;
/// How long one round may take to see the node mine again.
const ROUND_TIMEOUT: Duration = Duration::from_secs(30);

/// A receipt as the node reported it.
#[derive(Debug, Clone, PartialEq)]
struct SeenReceipt {
    tx: B256,
    index: u64,
    status: Value,
    gas_used: u64,
    cumulative_gas_used: u64,
}

/// A block as the node reported it, with its receipts.
#[derive(Debug, Clone, PartialEq)]
struct SeenBlock {
    hash: B256,
    parent: B256,
    state_root: B256,
    receipts_root: B256,
    receipts: Vec<SeenReceipt>,
}

/// Everything the node reported before the kills.
#[derive(Default)]
struct Seen {
    blocks: BTreeMap<u64, SeenBlock>,
    /// First block whose receipts have not yet been looked up by hash
    /// after a restart.
    lookups_from: u64,
}

fn hex(n: u64) -> String {
    format!("{n:#x}")
}

fn parse_receipt(r: &Value) -> SeenReceipt {
    SeenReceipt {
        tx: b256(&r["transactionHash"]),
        index: quantity(&r["transactionIndex"]),
        status: r["status"].clone(),
        gas_used: quantity(&r["gasUsed"]),
        cumulative_gas_used: quantity(&r["cumulativeGasUsed"]),
    }
}

/// Blocks `from..=to` with their receipts, read in JSON-RPC batches.
async fn read_blocks(rpc: &Rpc, from: u64, to: u64) -> Vec<(u64, Option<SeenBlock>)> {
    let calls: Vec<(&str, Value)> = (from..=to)
        .flat_map(|n| {
            [
                ("eth_getBlockByNumber", json!([hex(n), false])),
                ("eth_getBlockReceipts", json!([hex(n)])),
            ]
        })
        .collect();
    let answers = batch(rpc, &calls).await;
    (from..=to)
        .zip(answers.chunks(2))
        .map(|(n, pair)| {
            let block = match &pair[0] {
                Ok(b) => b,
                Err(e) => panic!("eth_getBlockByNumber({n}): {e:?}"),
            };
            let receipts = match &pair[1] {
                Ok(r) => r,
                Err(e) => panic!("eth_getBlockReceipts({n}): {e:?}"),
            };
            if block.is_null() {
                return (n, None);
            }
            let receipts = receipts
                .as_array()
                .unwrap_or_else(|| panic!("receipts of block {n} missing: {receipts}"))
                .iter()
                .map(parse_receipt)
                .collect();
            let seen = SeenBlock {
                hash: b256(&block["hash"]),
                parent: b256(&block["parentHash"]),
                state_root: b256(&block["stateRoot"]),
                receipts_root: b256(&block["receiptsRoot"]),
                receipts,
            };
            (n, Some(seen))
        })
        .collect()
}

impl Seen {
    /// Records the blocks up to `head` not seen yet.
    async fn record(&mut self, rpc: &Rpc, head: u64) {
        let next = self.blocks.keys().next_back().map_or(0, |n| n + 1);
        if next > head {
            return;
        }
        for (n, block) in read_blocks(rpc, next, head).await {
            let block = block.unwrap_or_else(|| panic!("block {n} <= head {head} not readable"));
            for r in &block.receipts {
                assert_eq!(r.status, json!("0x1"), "tx {} in block {n} failed", r.tx);
            }
            if let Some(parent) = n.checked_sub(1).and_then(|p| self.blocks.get(&p)) {
                assert_eq!(block.parent, parent.hash, "block {n} does not link");
            }
            self.blocks.insert(n, block);
        }
    }

    fn last(&self) -> u64 {
        self.blocks.keys().next_back().copied().unwrap_or(0)
    }

    fn receipts(&self) -> usize {
        self.blocks.values().map(|b| b.receipts.len()).sum()
    }

    /// Asserts that every block and receipt seen so far is still what the
    /// node said it was; `all_lookups` also looks up every receipt by its
    /// transaction's hash, not only those seen since the last check.
    async fn check(&mut self, rpc: &Rpc, after: &str, all_lookups: bool) {
        let last = self.last();
        let now = read_blocks(rpc, 0, last).await;
        for (n, block) in now {
            let Some(block) = block else {
                panic!("block {n} was lost {after}");
            };
            let before = &self.blocks[&n];
            assert_eq!(block.hash, before.hash, "hash of block {n} {after}");
            assert_eq!(
                block.state_root, before.state_root,
                "state root of block {n} {after}"
            );
            assert_eq!(
                block.receipts_root, before.receipts_root,
                "receipts root of block {n} {after}"
            );
            assert_eq!(
                block.receipts, before.receipts,
                "receipts of block {n} {after}"
            );
        }
        // A receipt is also found by its transaction's hash, through an
        // index of its own that a crash could lose apart from the block.
        let from = if all_lookups { 0 } else { self.lookups_from };
        let wanted: Vec<(u64, &SeenBlock, &SeenReceipt)> = self
            .blocks
            .range(from..)
            .flat_map(|(n, b)| b.receipts.iter().map(move |r| (*n, b, r)))
            .collect();
        let calls: Vec<(&str, Value)> = wanted
            .iter()
            .map(|(_, _, r)| ("eth_getTransactionReceipt", json!([r.tx])))
            .collect();
        for ((n, block, seen), answer) in wanted.iter().zip(batch(rpc, &calls).await) {
            let r = answer.unwrap_or_else(|e| panic!("receipt of {}: {e:?}", seen.tx));
            assert!(
                !r.is_null(),
                "receipt of {} (block {n}) lost {after}",
                seen.tx
            );
            assert_eq!(
                b256(&r["blockHash"]),
                block.hash,
                "block of {} {after}",
                seen.tx
            );
            assert_eq!(
                quantity(&r["blockNumber"]),
                *n,
                "block of {} {after}",
                seen.tx
            );
            assert_eq!(parse_receipt(&r), **seen, "receipt of {} {after}", seen.tx);
        }
        self.lookups_from = last + 1;
    }
}

/// Balances at `block` are exactly what the senders' nonces there say:
/// every transfer they ever sent is paid for once, and arrived once.
async fn check_accounts(rpc: &Rpc, senders: &[Address], sink: Address, block: u64, after: &str) {
    let at = hex(block);
    let mut mined = 0u64;
    for a in senders {
        let nonce = rpc.nonce(*a, &at).await;
        mined += nonce;
        assert_eq!(
            rpc.balance(*a, &at).await,
            genesis_balance() - U256::from(COST) * U256::from(nonce),
            "{a} after {nonce} transfers, at block {block} {after}"
        );
    }
    assert_eq!(
        rpc.balance(sink, &at).await,
        genesis_balance() + U256::from(VALUE) * U256::from(mined),
        "the sink after {mined} transfers, at block {block} {after}"
    );
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    let text = std::env::var(name).ok()?;
    match text.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={text:?} is not a number"),
    }
}

/// `tally_sql`, every row of the answer; panics on an error or a
/// truncated answer.
async fn sql(rpc: &Rpc, query: &str, params: Value) -> Vec<Value> {
    let answer = rpc.ok("tally_sql", json!([query, params])).await;
    assert_eq!(answer["truncated"], json!(false), "{query}: truncated");
    match &answer["rows"] {
        Value::Array(rows) => rows.clone(),
        other => panic!("{query}: rows is {other}"),
    }
}

/// Waits until the SQL index has caught up with `head`, then checks it
/// holds the chain exactly: one row per block from genesis to `head`, with
/// the chain's hashes, linked, and one row per transaction.
async fn check_index(rpc: &Rpc, seen: &Seen, head: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = rpc.ok("tally_metrics", json!([])).await;
        if metrics["indexHead"] == json!(head) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the SQL index did not reach block {head} in 30 s: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let counts = sql(
        rpc,
        "SELECT count(*), count(DISTINCT number), min(number), max(number), sum(tx_count) \
         FROM blocks",
        json!([]),
    )
    .await;
    let txs: u64 = seen
        .blocks
        .range(..=head)
        .map(|(_, b)| b.receipts.len() as u64)
        .sum();
    assert_eq!(
        counts,
        vec![json!([head + 1, head + 1, 0, head, txs])],
        "blocks in the SQL index (count, distinct, min, max, transactions) for a chain of \
         {} blocks and {txs} transactions",
        head + 1
    );
    let rows = sql(
        rpc,
        "SELECT count(*), count(DISTINCT hash) FROM transactions",
        json!([]),
    )
    .await;
    assert_eq!(
        rows,
        vec![json!([txs, txs])],
        "transactions in the SQL index"
    );
    let unlinked = sql(
        rpc,
        "SELECT count(*) FROM blocks b JOIN blocks p ON p.number = b.number - 1 \
         WHERE b.parent_hash <> p.hash",
        json!([]),
    )
    .await;
    assert_eq!(
        unlinked,
        vec![json!([0])],
        "blocks of the index that do not link"
    );
    // The index's hashes are the chain's, page by page.
    let mut from = 0u64;
    while from <= head {
        let rows = sql(
            rpc,
            "SELECT number, hash FROM blocks WHERE number >= ? ORDER BY number LIMIT 5000",
            json!([from]),
        )
        .await;
        assert!(!rows.is_empty(), "no index rows from block {from}");
        for row in &rows {
            let n = row[0].as_u64().unwrap_or_else(|| panic!("number in {row}"));
            assert_eq!(n, from, "index rows out of order at {row}");
            assert_eq!(
                b256(&row[1]),
                seen.blocks[&n].hash,
                "hash of block {n} in the index"
            );
            from += 1;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_loop_under_load_loses_nothing_reported() {
    let loops: u32 = env_number("TALLY_FAULT_LOOPS").unwrap_or(DEFAULT_LOOPS);
    assert!(loops >= 1, "TALLY_FAULT_LOOPS must be at least 1");
    let seed: u64 = env_number("TALLY_FAULT_SEED").unwrap_or_else(rand::random);
    eprintln!("kill loop: {loops} kills, seed {seed} (replay with TALLY_FAULT_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();

    let dir = tempfile::tempdir().expect("tempdir");
    let opts = NodeOptions {
        datadir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let w = wallets(SENDERS as u32 + 1);
    let sink = w[SENDERS].address;
    let senders: Vec<Address> = w[..SENDERS].iter().map(|w| w.address).collect();
    let mut seen = Seen::default();
    let mut node = TestNode::start_with(opts.clone());
    for round in 1..=loops {
        let rpc = node.rpc();
        let after = format!("after kill {} (seed {seed})", round - 1);
        if round > 1 {
            seen.check(&rpc, &after, false).await;
        }
        let restart_head = rpc.block_number().await;
        assert!(
            restart_head >= seen.last(),
            "head {restart_head} is behind block {} seen {after}",
            seen.last()
        );
        check_accounts(&rpc, &senders, sink, restart_head, &after).await;

        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for wallet in &w[..SENDERS] {
            let first = rpc.nonce(wallet.address, "pending").await;
            let wallet = wallet.clone();
            tasks.push(tokio::spawn(stream(
                rpc.clone(),
                first,
                move |n| wallet.transfer(n, sink, U256::from(VALUE)),
                stop.clone(),
                sent.clone(),
            )));
        }

        // Watch every block as it appears; once the node mines again, kill
        // it after a random delay, whatever it is doing then.
        let delay = Duration::from_millis(rng.gen_range(0..=MAX_KILL_DELAY_MS));
        let deadline = Instant::now() + ROUND_TIMEOUT;
        let mut kill_at = None;
        loop {
            let head = rpc.block_number().await;
            seen.record(&rpc, head).await;
            if kill_at.is_none() && head > restart_head {
                kill_at = Some(Instant::now() + delay);
            }
            if kill_at.is_some_and(|t| Instant::now() >= t) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: no block past {restart_head} in {ROUND_TIMEOUT:?} \
                 (seed {seed}); node stderr:\n{}",
                node.stderr()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        node.sigkill();
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.expect("sender task");
        }
        eprintln!(
            "kill {round}/{loops}: {:?} after mining resumed at block {restart_head}; \
             {} blocks and {} receipts seen; {} txs accepted this round",
            delay,
            seen.last(),
            seen.receipts(),
            sent.load(Ordering::Relaxed)
        );
        node = TestNode::start_with(opts.clone());
    }

    // After the last kill: everything is there, looked up every way.
    let rpc = node.rpc();
    let after = format!("after kill {loops} (seed {seed})");
    seen.check(&rpc, &after, true).await;
    let head = rpc.block_number().await;
    assert!(
        head >= seen.last(),
        "head {head} behind {} {after}",
        seen.last()
    );
    check_accounts(&rpc, &senders, sink, head, &after).await;
    assert!(
        seen.receipts() >= loops as usize,
        "only {} transfers mined in {loops} rounds",
        seen.receipts()
    );

    // The node goes on: one more transfer is mined on top of the old head.
    let nonce = rpc.nonce(senders[0], "pending").await;
    let receipt = rpc
        .send_and_mine(&w[0].transfer(nonce, sink, U256::from(VALUE)))
        .await;
    let n = quantity(&receipt["blockNumber"]);
    assert!(n > head, "new tx in block {n}, head was {head}");
    let head = rpc.block_number().await;
    seen.record(&rpc, head).await;
    check_accounts(&rpc, &senders, sink, head, "at the end").await;

    check_index(&rpc, &seen, head).await;
    eprintln!(
        "kill loop: {loops} kills, {} blocks, {} transfers, index intact, in {:.1?} (seed {seed})",
        head + 1,
        seen.receipts(),
        started.elapsed()
    );
}
