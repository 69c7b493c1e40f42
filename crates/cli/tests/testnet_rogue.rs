//! Process level: a rogue libp2p peer, started in the test process with the
//! `tally-network` library, joins a real `tally testnet` and gossips a
//! forged block 1. A block sealed by a key that is not the chain's authority,
//! and one sealed by the authority but claiming a false state root, are both
//! refused: the node disconnects the rogue, logs the refusal, and imports
//! nothing. A real transfer afterwards still makes block 1 on every node.
//!
//! The testnet seals only when transactions are pending (`--block-time 0`),
//! so block 1 stays free for the rogue until the test sends its transfer.

mod common;
#[path = "common/testnet.rs"]
mod testnet;

use std::time::{Duration, Instant};

use alloy_primitives::{Address, U256};
use common::*;
use serde_json::{json, Value};
use tally_crypto::node_key::NodeKey;
use tally_network::{Multiaddr, NetworkConfig, NetworkEvent, NetworkService, PeerId};
use tally_primitives::{
    block::{receipts_root, transactions_root},
    Block, Header, B256,
};
use testnet::{eventually, NetNode, Testnet};

const WAIT: Duration = Duration::from_secs(20);

/// What a forged block 1 needs from the genesis block, read over RPC.
struct Genesis {
    hash: B256,
    timestamp: u64,
    state_root: B256,
    gas_limit: u64,
    base_fee: u64,
}

async fn genesis(rpc: &Rpc) -> Genesis {
    let g = rpc.ok("eth_getBlockByNumber", json!(["0x0", false])).await;
    Genesis {
        hash: b256(&g["hash"]),
        timestamp: quantity(&g["timestamp"]),
        state_root: b256(&g["stateRoot"]),
        gas_limit: quantity(&g["gasLimit"]),
        base_fee: quantity(&g["baseFeePerGas"]),
    }
}

/// An empty, unsealed block 1 on genesis claiming `state_root`; every other
/// field is what the chain expects, so only the seal or the root is wrong.
fn empty_child(genesis: &Genesis, state_root: B256) -> Header {
    Header {
        parent_hash: genesis.hash,
        number: 1,
        timestamp: genesis.timestamp + 1,
        beneficiary: Address::repeat_byte(0xbe),
        transactions_root: transactions_root(&[]),
        receipts_root: receipts_root(&[]),
        state_root,
        logs_bloom: Default::default(),
        gas_limit: genesis.gas_limit,
        gas_used: 0,
        base_fee: genesis.base_fee,
        bits: 0,
        extra_data: Default::default(),
        seal: Default::default(),
    }
}

/// `header` signed by `key` as the dev engine seals.
fn sealed_by(key: NodeKey, header: Header) -> Header {
    let public = B256::from(key.public().to_bytes());
    let engine = tally_consensus::dev::DevEngine::with_authority(0, &public, Some(key))
        .expect("engine for the key");
    engine.seal(header).expect("seal with the key")
}

/// Node `node`'s key, as `tally testnet` wrote it.
fn node_key(node: &NetNode) -> NodeKey {
    NodeKey::load(&node.dir.join("node.key")).expect("testnet node key")
}

/// What others dial to reach `node`: its listen address and peer id.
fn dial_of(node: &NetNode) -> (Multiaddr, PeerId) {
    let text = std::fs::read_to_string(&node.config).expect("node.toml");
    let config: toml::Value = toml::from_str(&text).expect("node.toml is TOML");
    let listen: Multiaddr = config["listen"]
        .as_str()
        .expect("listen in node.toml")
        .parse()
        .expect("listen is a multiaddr");
    let peer = tally_network::peer_id_from_ed25519_public(node_key(node).public().to_bytes())
        .expect("peer id of the node key");
    let addr = listen.with(tally_network::multiaddr::Protocol::P2p(peer));
    (addr, peer)
}

/// Starts a rogue peer (a fresh key) dialling `target`, gossips `block`
/// once a gossip peer is there, and waits until `target` disconnects it.
async fn rogue_is_disconnected(target: &NetNode, genesis: &Genesis, block: &Block) {
    let (boot, target_peer) = dial_of(target);
    let mut config = NetworkConfig::new(
        "/ip4/127.0.0.1/tcp/0".parse().expect("listen multiaddr"),
        CHAIN_ID,
        genesis.hash.0,
    );
    config.bootnodes = vec![boot];
    // Talk to the target only: no discovery of the other nodes.
    config.kademlia = false;
    let (rogue, mut events) =
        NetworkService::start(config, tally_network::Keypair::generate_ed25519())
            .await
            .expect("start the rogue peer");
    let data = alloy_rlp::encode(block);
    let deadline = Instant::now() + WAIT;
    // Until the gossip mesh has formed there is nobody to publish to.
    while rogue.publish_block(data.clone()).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the rogue never found a gossip peer"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::timeout(WAIT, async {
        while let Some(event) = events.recv().await {
            if matches!(event, NetworkEvent::PeerDisconnected(p) if p == target_peer) {
                return;
            }
        }
        panic!(
            "the rogue's network stopped before node {} disconnected it",
            target.index
        );
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "node {} did not disconnect the rogue within {WAIT:?}; log:\n{}",
            target.index,
            target.log()
        )
    });
    let _ = rogue.shutdown().await;
}

/// Block 1 on `node`, `Null` if it has none.
async fn block_1(node: &NetNode) -> Value {
    node.rpc()
        .ok("eth_getBlockByNumber", json!(["0x1", false]))
        .await
}

async fn assert_no_block_1(net: &Testnet, what: &str) {
    for node in &net.nodes {
        let b = block_1(node).await;
        assert!(b.is_null(), "node {} imported {what}: {b}", node.index);
    }
}

/// Waits until `node`'s log holds `needle` (the refusal is logged just
/// before the disconnect, by another process).
async fn log_mentions(node: &NetNode, needle: &str) -> String {
    eventually(
        &format!("node {} logs {needle:?}", node.index),
        Duration::from_secs(5),
        || async move {
            let log = node.log();
            log.contains(needle).then_some(log)
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rogue_peer_sending_invalid_blocks_is_disconnected_and_nothing_is_imported() {
    let net = Testnet::start(2, &["--block-time", "0"]);
    let genesis = genesis(&net.node(1).rpc()).await;
    let follower = net.node(2);

    // (a) A well-formed block sealed by a key that is not the authority.
    let outsider = sealed_by(
        NodeKey::generate(),
        empty_child(&genesis, genesis.state_root),
    );
    let bad_seal = Block {
        header: outsider,
        transactions: vec![],
    };
    rogue_is_disconnected(follower, &genesis, &bad_seal).await;
    assert_no_block_1(&net, "the block with a bad signature").await;
    let log = log_mentions(follower, "refused an invalid block").await;
    assert!(
        log.contains("not signed by the chain's authority"),
        "the refusal names the bad seal:\n{log}"
    );

    // (b) The authority's valid signature over a false state root, from a
    // fresh rogue (the first one is banned).
    let bad_root = B256::repeat_byte(7);
    let authority = node_key(net.node(1));
    let forged = sealed_by(authority, empty_child(&genesis, bad_root));
    let bad_state = Block {
        header: forged,
        transactions: vec![],
    };
    rogue_is_disconnected(follower, &genesis, &bad_state).await;
    assert_no_block_1(&net, "the block with a bad state root").await;
    let log = log_mentions(follower, &format!("header state root is {bad_root}")).await;
    assert_eq!(
        log.matches("refused an invalid block").count(),
        2,
        "one refusal per forged block:\n{log}"
    );

    // The network still works: a real transfer makes block 1 everywhere.
    let sender = &wallets(1)[0];
    let tx = sender.transfer(0, Address::repeat_byte(0x42), U256::from(1_000u64));
    let producer = net.node(1).rpc();
    let hash = producer.send_raw(&tx).await.expect("transfer accepted");
    let receipt = producer.wait_receipt(hash, WAIT).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(quantity(&receipt["blockNumber"]), 1, "{receipt}");
    let on_producer = block_1(net.node(1)).await;
    let on_follower = eventually("block 1 on node 2", WAIT, || async move {
        let b = block_1(follower).await;
        (!b.is_null()).then_some(b)
    })
    .await;
    assert_eq!(on_follower["hash"], on_producer["hash"]);
    assert_eq!(on_follower["stateRoot"], on_producer["stateRoot"]);
    let real = b256(&on_producer["hash"]);
    assert_ne!(real, bad_seal.header.hash());
    assert_ne!(real, bad_state.header.hash());
}
