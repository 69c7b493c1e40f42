//! Nodes on a real libp2p network on loopback: transactions reach the
//! producer from any node, blocks reach every node, a late node catches up.

mod common;

use common::*;
use tally_network::Multiaddr;
use tally_node::{NetworkOptions, Node};

fn listen() -> NetworkOptions {
    NetworkOptions::new("/ip4/127.0.0.1/tcp/0".parse().unwrap())
}

async fn bootnode_of(node: &Node) -> Multiaddr {
    let net = node.network().unwrap();
    let addr = net.listen_addrs().await.unwrap().remove(0);
    addr.with(tally_network::multiaddr::Protocol::P2p(net.local_peer_id()))
}

/// The chain's block producer, listening on loopback.
async fn start_producer(dir: &std::path::Path, spec: tally_primitives::ChainSpec) -> Node {
    Node::start(config(dir, spec, producer_key(), Some(listen())))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_sent_to_a_follower_is_mined_and_the_block_reaches_everyone() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let spec = authority_spec(0);
    let producer = start_producer(dirs[0].path(), spec.clone()).await;
    let boot = bootnode_of(&producer).await;
    let mut followers = Vec::new();
    for (i, dir) in dirs[1..].iter().enumerate() {
        let mut opts = listen();
        opts.bootnodes = vec![boot.clone()];
        let node = Node::start(config(
            dir.path(),
            spec.clone(),
            follower_key(i as u8),
            Some(opts),
        ))
        .await
        .unwrap();
        followers.push(node);
    }
    wait_for("peers", 20, || {
        producer
            .metrics()
            .peers
            .load(std::sync::atomic::Ordering::Relaxed)
            == 2
    })
    .await;
    // Gossip meshes form on the first heartbeat after subscription.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;

    followers[1].submit_transaction(transfer(0, 0, 1)).unwrap();
    wait_for("the producer to mine it", 20, || {
        producer.head().number >= 1
    })
    .await;
    wait_for("followers to import it", 20, || {
        followers.iter().all(|f| f.head().number >= 1)
    })
    .await;
    assert_same_block(&[&producer, &followers[0], &followers[1]], 1);
    assert_eq!(
        producer
            .db()
            .block_by_number(1)
            .unwrap()
            .unwrap()
            .transactions
            .len(),
        1
    );
    for node in followers {
        node.stop().await;
    }
    producer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_node_catches_up_then_follows() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let spec = authority_spec(10);
    let producer = start_producer(dirs[0].path(), spec.clone()).await;
    wait_for("300 blocks", 60, || producer.head().number >= 300).await;
    let mut opts = listen();
    opts.bootnodes = vec![bootnode_of(&producer).await];
    let late = Node::start(config(dirs[1].path(), spec, follower_key(9), Some(opts)))
        .await
        .unwrap();
    let target = producer.head().number;
    wait_for("the late node to catch up", 60, || {
        late.head().number >= target + 5
    })
    .await;
    let n = late.head().number;
    wait_for("the producer", 10, || producer.head().number >= n).await;
    assert_same_block(&[&producer, &late], n);
    // The catch-up was reported: it began at genesis and saw the target.
    let progress = *late.sync_status().borrow();
    assert_eq!(progress.starting, 0);
    assert!(progress.highest >= target, "{progress:?}");
    // The sync task counts a run once the chain thread has answered, a
    // moment after the head moved.
    wait_for("the imported blocks counted", 10, || {
        late.metrics()
            .blocks_imported
            .load(std::sync::atomic::Ordering::Relaxed)
            >= target
    })
    .await;
    late.stop().await;
    producer.stop().await;
}

/// A rogue peer on the network publishes `header` (an empty block on genesis).
async fn rogue_publishes(
    node: &Node,
    header: tally_primitives::Header,
) -> (
    tally_network::NetworkHandle,
    tokio::sync::mpsc::Receiver<tally_network::NetworkEvent>,
) {
    let mut config = tally_network::NetworkConfig::new(
        "/ip4/127.0.0.1/tcp/0".parse().unwrap(),
        31337,
        node.genesis().hash.0,
    );
    config.bootnodes = vec![bootnode_of(node).await];
    let (rogue, events) =
        tally_network::NetworkService::start(config, tally_network::Keypair::generate_ed25519())
            .await
            .unwrap();
    let block = tally_primitives::Block {
        header,
        transactions: vec![],
    };
    let data = alloy_rlp::encode(&block);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    // Until the gossip mesh has formed, there is nobody to publish to.
    while rogue.publish_block(data.clone()).await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "rogue never found a gossip peer"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    (rogue, events)
}

fn empty_child(node: &Node, state_root: tally_primitives::B256) -> tally_primitives::Header {
    use tally_primitives::block::{receipts_root, transactions_root};
    let genesis = node.genesis();
    tally_primitives::Header {
        parent_hash: genesis.hash,
        number: 1,
        timestamp: genesis.timestamp + 1,
        beneficiary: tally_primitives::Address::repeat_byte(0xbe),
        transactions_root: transactions_root(&[]),
        receipts_root: receipts_root(&[]),
        state_root,
        logs_bloom: Default::default(),
        gas_limit: 300_000_000,
        gas_used: 0,
        base_fee: 1_000_000_000,
        bits: 0,
        extra_data: Default::default(),
        seal: Default::default(),
    }
}

fn sealed_by(
    key: tally_crypto::node_key::NodeKey,
    header: tally_primitives::Header,
) -> tally_primitives::Header {
    let authority = tally_primitives::B256::from(key.public().to_bytes());
    let engine = tally_consensus::dev::DevEngine::with_authority(0, &authority, Some(key)).unwrap();
    engine.seal(header).unwrap()
}

async fn assert_rogue_disconnected_and_block_refused(header: tally_primitives::Header) {
    let dir = tempfile::tempdir().unwrap();
    // A follower: it imports whatever valid block 1 comes, and makes none.
    let node = Node::start(config(
        dir.path(),
        authority_spec(0),
        follower_key(1),
        Some(listen()),
    ))
    .await
    .unwrap();
    let (_rogue, mut events) = rogue_publishes(&node, header).await;
    let deadline = std::time::Duration::from_secs(20);
    tokio::time::timeout(deadline, async {
        while let Some(event) = events.recv().await {
            if matches!(event, tally_network::NetworkEvent::PeerDisconnected(_)) {
                return;
            }
        }
    })
    .await
    .expect("the node disconnects the rogue");
    assert_eq!(node.head().number, 0, "the bad block was imported");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_sending_a_block_with_a_bad_signature_is_disconnected() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Node::start(config(dir.path(), authority_spec(0), follower_key(2), None))
        .await
        .unwrap();
    let header = empty_child(&probe, probe.genesis().state_root);
    probe.stop().await;
    // Signed by a key that is not the chain's authority.
    assert_rogue_disconnected_and_block_refused(sealed_by(follower_key(3), header)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_sending_a_block_with_a_bad_state_root_is_disconnected() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Node::start(config(dir.path(), authority_spec(0), follower_key(2), None))
        .await
        .unwrap();
    let header = empty_child(&probe, tally_primitives::B256::repeat_byte(7));
    probe.stop().await;
    // A valid authority signature over a false state root.
    assert_rogue_disconnected_and_block_refused(sealed_by(producer_key(), header)).await;
}
