//! SIGKILL during a deep reorg: a `tally node` process holding a lighter
//! branch meets a peer with a heavier one and is killed, again and again,
//! while it switches. After every kill its database holds one consistent
//! chain (every block links to the one before, and the state is that
//! branch's state at the head); in the end it follows the heavier chain.

mod common;
#[path = "common/testnet.rs"]
mod testnet;

use common::*;
use std::{
    collections::BTreeMap,
    path::Path,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
use tally_crypto::node_key::NodeKey;
use tally_network::multiaddr::Protocol;
use tally_node::{MiningOptions, NetworkOptions, Node, NodeConfig};
use tally_primitives::{
    Address, ChainSpec, EngineSpec, GenesisAccount, PowSpec, SealedHeader, U256,
};
use tally_state::ChainDb;
use testnet::{free_port, NodeProcess};

fn spec() -> ChainSpec {
    let alloc: BTreeMap<Address, GenesisAccount> = wallets(2)
        .iter()
        .map(|w| {
            let funds = GenesisAccount {
                balance: U256::from(10u128.pow(24)),
                ..Default::default()
            };
            (w.address, funds)
        })
        .collect();
    let mut spec = ChainSpec::dev(alloc, 0);
    spec.engine = EngineSpec::Pow(PowSpec {
        target_block_time_ms: 1000,
        initial_bits: 0x1f00_ffff,
        halflife_s: 2,
        finality_depth: 200,
        safe_depth: 2,
        ..PowSpec::default()
    });
    spec.timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    spec
}

fn node_config(
    dir: &Path,
    spec: &ChainSpec,
    key: u8,
    network: Option<NetworkOptions>,
) -> NodeConfig {
    NodeConfig {
        datadir: dir.to_path_buf(),
        spec: spec.clone(),
        rpc_addr: "127.0.0.1:0".parse().unwrap(),
        rpc_limits: Default::default(),
        beneficiary: Address::repeat_byte(key),
        dev_block_time_ms: None,
        node_key: Some(NodeKey::from_bytes(&[key; 32])),
        network,
        mining: Some(MiningOptions { threads: 1 }),
        index: false,
    }
}

/// Mines on `node` until it holds `blocks` blocks, a transfer from
/// `wallet` in each.
async fn mine(node: &Node, wallet: &Wallet, blocks: u64, value: u64) {
    let mut nonce = 0;
    while node.head().number < blocks {
        let tx = wallet.tx(
            nonce,
            alloy_primitives::TxKind::Call(Address::repeat_byte(0x77)),
            U256::from(value),
            Default::default(),
            21_000,
        );
        if node.submit_transaction(raw(&tx).into()).is_ok() {
            nonce += 1;
        }
        let at = node.head().number;
        let deadline = Instant::now() + Duration::from_secs(30);
        while node.head().number == at && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    node.set_mining(false);
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// The chain in `datadir` links from its head back to genesis, and its
/// state is the state of the branch that holds the head.
fn assert_consistent(datadir: &Path, branches: &[&ChainDb]) -> SealedHeader {
    let db = ChainDb::open(&datadir.join("chain.redb")).expect("the database opens after a kill");
    let head = db.head().unwrap();
    for n in (1..=head.number).rev() {
        let h = db
            .header_by_number(n)
            .unwrap()
            .expect("every block up to the head");
        let parent = db.header_by_number(n - 1).unwrap().unwrap();
        assert_eq!(
            h.parent_hash,
            parent.hash,
            "block {n} does not link to block {}",
            n - 1
        );
    }
    let branch = branches
        .iter()
        .find(|b| b.header_by_hash(head.hash).unwrap().is_some())
        .expect("the head is a block of one of the branches");
    let ours = db.latest_state().unwrap();
    let theirs = branch.state_at(head.number).unwrap();
    for w in wallets(2) {
        assert_eq!(
            ours.account(&w.address).unwrap(),
            theirs.account(&w.address).unwrap(),
            "state at the head differs from the branch's"
        );
    }
    head
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_deep_reorg_leaves_one_consistent_chain() {
    let spec = spec();
    let dir = tempfile::tempdir().unwrap();
    let chain_path = dir.path().join("chain.toml");
    std::fs::write(&chain_path, spec.to_toml()).unwrap();
    let w = wallets(2);

    // The light branch, mined in the datadir the process will use; a copy
    // keeps it for comparison.
    let light_dir = dir.path().join("light");
    let light = Node::start(node_config(&light_dir, &spec, 1, None))
        .await
        .unwrap();
    mine(&light, &w[0], 12, 1).await;
    let light_weight = light.db().weight(&light.head().hash).unwrap().unwrap();
    light.stop().await;
    let copy_dir = dir.path().join("light-copy");
    std::fs::create_dir_all(&copy_dir).unwrap();
    std::fs::copy(light_dir.join("chain.redb"), copy_dir.join("chain.redb")).unwrap();
    std::fs::copy(
        light_dir.join("chain.redb"),
        dir.path().join("light-witness.redb"),
    )
    .unwrap();
    let light_copy = ChainDb::open(&dir.path().join("light-witness.redb")).unwrap();

    // The heavy branch, served over libp2p.
    let listen = NetworkOptions::new("/ip4/127.0.0.1/tcp/0".parse().unwrap());
    let heavy = Node::start(node_config(
        &dir.path().join("heavy"),
        &spec,
        2,
        Some(listen),
    ))
    .await
    .unwrap();
    mine(&heavy, &w[1], 30, 2).await;
    while heavy.db().weight(&heavy.head().hash).unwrap().unwrap() <= light_weight {
        heavy.set_mining(true);
        tokio::time::sleep(Duration::from_millis(100)).await;
        heavy.set_mining(false);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let target = heavy.head();
    let net = heavy.network().unwrap();
    let bootnode = net
        .listen_addrs()
        .await
        .unwrap()
        .remove(0)
        .with(Protocol::P2p(net.local_peer_id()));

    let rpc_port = free_port();
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        format!(
            "datadir = \"light\"\nrpc = \"127.0.0.1:{rpc_port}\"\nlisten = \"/ip4/127.0.0.1/tcp/0\"\nbootnodes = [\"{bootnode}\"]\n"
        ),
    )
    .unwrap();
    let rpc = Rpc::new(&format!("http://127.0.0.1:{rpc_port}"));
    let log = dir.path().join("node.log");

    let branches = [heavy.db(), &light_copy];
    let mut heads = Vec::new();
    for round in 0..10u64 {
        // Every round starts from the light branch again, so each kill
        // lands at another point of the same switch.
        std::fs::copy(copy_dir.join("chain.redb"), light_dir.join("chain.redb")).unwrap();
        let mut process = NodeProcess::spawn(&config, &chain_path, &log);
        process.wait_rpc(&rpc).await;
        tokio::time::sleep(Duration::from_millis(40 + round * 20)).await;
        drop(process); // SIGKILL
        heads.push(assert_consistent(&light_dir, &branches).number);
    }
    eprintln!("heads after each kill: {heads:?}");
    // Left alone, it ends on the heavier chain.
    let mut process = NodeProcess::spawn(&config, &chain_path, &log);
    process.wait_rpc(&rpc).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while rpc.block_number().await < target.number {
        assert!(
            Instant::now() < deadline,
            "the node did not reach the heavier chain; log:\n{}",
            process.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let head = rpc
        .ok("eth_getBlockByNumber", serde_json::json!(["latest", false]))
        .await;
    if let Some(to) = std::env::var_os("TALLY_KEEP_LOG") {
        std::fs::copy(&log, to).unwrap();
    }
    assert_eq!(b256(&head["hash"]), target.hash);
    assert_eq!(b256(&head["stateRoot"]), target.state_root);
    drop(process);
    assert_consistent(&light_dir, &branches);
    heavy.stop().await;
}
