//! A reorg of depth ~10 with 1,000 transfers per block, timed:
//! `cargo bench -p tally-node --bench reorg`.
//!
//! Two proof-of-work nodes from one genesis (the easiest target, so mining
//! costs nothing) each mine their own blocks of 1,000 transfers (the gas
//! limit holds exactly 1,000), through the external-miner interface so
//! that no empty block slips in. The lighter node then imports the heavier
//! branch; the import that makes it heavier unwinds ~10 blocks and applies
//! ~11 in one write transaction. The figure printed is that import's time.

use alloy_consensus::TxEip1559;
use alloy_eips::eip2718::Encodable2718;
use std::{
    collections::BTreeMap,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
use tally_crypto::{node_key::NodeKey, SecretKey};
use tally_node::{Imported, MiningOptions, Node, NodeConfig};
use tally_primitives::{
    alloy_primitives::TxKind, Address, Bytes, ChainSpec, EngineSpec, GenesisAccount, PowSpec, B256,
    U256,
};

const TXS_PER_BLOCK: usize = 1_000;
const DEPTH: usize = 10;

fn keys(n: usize) -> Vec<(SecretKey, Address)> {
    (0..n)
        .map(|i| {
            let mut bytes = [7u8; 32];
            bytes[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            let key = tally_crypto::secret_key(&bytes).expect("valid key");
            let address = tally_crypto::address_of(&key);
            (key, address)
        })
        .collect()
}

fn spec(accounts: &[(SecretKey, Address)]) -> ChainSpec {
    let alloc: BTreeMap<Address, GenesisAccount> = accounts
        .iter()
        .map(|(_, a)| {
            let funds = GenesisAccount {
                balance: U256::from(10u128.pow(24)),
                ..Default::default()
            };
            (*a, funds)
        })
        .collect();
    let mut spec = ChainSpec::dev(alloc, 0);
    spec.gas_limit = 21_000 * TXS_PER_BLOCK as u64;
    spec.engine = EngineSpec::Pow(PowSpec {
        target_block_time_ms: 1000,
        // The easiest target, held there: blocks cost a hash or two.
        initial_bits: 0x207f_ffff,
        halflife_s: 1 << 40,
        finality_depth: 64,
        ..PowSpec::default()
    });
    spec.timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    spec
}

fn transfers(accounts: &[(SecretKey, Address)], round: u64, value: u64) -> Vec<Bytes> {
    accounts
        .iter()
        .map(|(key, _)| {
            let tx = TxEip1559 {
                chain_id: 31337,
                nonce: round,
                gas_limit: 21_000,
                max_fee_per_gas: 2_000_000_000,
                max_priority_fee_per_gas: 1_000_000_000,
                to: TxKind::Call(Address::repeat_byte(0x77)),
                value: U256::from(value),
                ..Default::default()
            };
            Bytes::from(tally_crypto::sign_transaction(key, tx).encoded_2718())
        })
        .collect()
}

async fn start(spec: &ChainSpec, dir: &std::path::Path, i: u8) -> Node {
    Node::start(NodeConfig {
        datadir: dir.to_path_buf(),
        spec: spec.clone(),
        rpc_addr: "127.0.0.1:0".parse().expect("address"),
        rpc_limits: Default::default(),
        beneficiary: Address::repeat_byte(i),
        dev_block_time_ms: None,
        node_key: Some(NodeKey::from_bytes(&[i; 32])),
        network: None,
        mining: Some(MiningOptions { threads: 0 }),
        index: false,
    })
    .await
    .expect("node starts")
}

/// Mines one block on `node` as an external miner would: the template
/// the node offers (`eth_getWork`), a nonce found here, `eth_submitWork`.
/// The node mines nothing by itself (no miner threads), so every block is
/// exactly the template asked for.
async fn mine_one(node: &Node) {
    use jsonrpsee::{core::client::ClientT, rpc_params};
    use tally_consensus::pow::hash::search;
    let rpc = jsonrpsee::http_client::HttpClientBuilder::default()
        .build(format!("http://{}", node.rpc_addr()))
        .expect("rpc client");
    let before = node.head();
    let work: Vec<String> = loop {
        if let Ok(w) = rpc
            .request::<Vec<String>, _>("eth_getWork", rpc_params![])
            .await
        {
            let number = u64::from_str_radix(w[3].trim_start_matches("0x"), 16).unwrap_or(0);
            if number == before.number + 1 {
                break w;
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let seal_hash: B256 = work[0].parse().expect("seal hash");
    let target = U256::from_be_bytes(work[2].parse::<B256>().expect("target").0);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let hashes = std::sync::atomic::AtomicU64::new(0);
    let nonce = search(&seal_hash, &target, 0..=u64::MAX, &stop, &hashes).expect("a nonce");
    let ok: bool = rpc
        .request(
            "eth_submitWork",
            rpc_params![format!("{nonce:#018x}"), seal_hash, B256::ZERO],
        )
        .await
        .expect("eth_submitWork");
    assert!(ok, "the node refused a valid nonce");
    while node.head().number == before.number {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Mines `blocks` blocks of 1,000 transfers each (value `value`, so the
/// two branches' transactions differ).
async fn mine(node: &Node, accounts: &[(SecretKey, Address)], blocks: usize, value: u64) {
    for round in 0..blocks as u64 {
        // Paused while the transfers arrive, so the template built when
        // mining resumes holds all of them.
        node.set_mining(false);
        for r in node.submit_transactions(&transfers(accounts, round, value)) {
            r.expect("transfer admitted");
        }
        node.set_mining(true);
        mine_one(node).await;
    }
    node.set_mining(false);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let accounts = keys(TXS_PER_BLOCK);
        let spec = spec(&accounts);
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = start(&spec, da.path(), 1).await;
        let b = start(&spec, db.path(), 2).await;
        eprintln!("mining {DEPTH} blocks on one branch and {} on the other...", DEPTH + 1);
        mine(&a, &accounts, DEPTH, 1).await;
        mine(&b, &accounts, DEPTH + 1, 2).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (a_head, b_head) = (a.head(), b.head());
        let mut txs_a = 0;
        for n in 1..=a_head.number {
            txs_a += a.db().block_by_number(n).unwrap().unwrap().transactions.len();
        }
        eprintln!(
            "branch A: {} blocks, {txs_a} transfers; branch B: {} blocks",
            a_head.number, b_head.number
        );
        let mut reorg_time = None;
        for n in 1..=b_head.number {
            let block = b.db().block_by_number(n).unwrap().unwrap().to_block();
            let started = Instant::now();
            let imported = a.import_block(block).await.expect("import");
            let took = started.elapsed();
            if matches!(imported, Imported::Canonical(_)) && reorg_time.is_none() {
                reorg_time = Some((n, took));
            }
        }
        let (at, took) = reorg_time.expect("the heavier branch was adopted");
        assert_eq!(a.head(), b_head);
        println!(
            "reorg: unwound {} blocks ({txs_a} transfers), applied {at} blocks ({} transfers) in {:.1} ms",
            a_head.number,
            at as usize * TXS_PER_BLOCK,
            took.as_secs_f64() * 1e3
        );
        a.stop().await;
        b.stop().await;
    });
}
