//! Several real nodes (storage, execution, engine, sync) over the simulated
//! network, with seeded faults: delays, drops and reordering, a partition
//! that heals, and a node that crashes and restarts. Whatever the faults,
//! every node must end with the producer's head, hash and state root.
//!
//! The network's faults are repeatable from the seed (`TALLY_SIM_SEED`
//! picks another); the nodes' own threads and clocks are real, so the
//! interleaving is not, and the test asserts only what must hold under any.

mod common;

use common::*;
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::time::Duration;
use tally_crypto::node_key::NodeKey;
use tally_network::{
    peer_id_from_ed25519_secret,
    sim::{Faults, SimNetwork},
    PeerId,
};
use tally_node::Node;

struct Member {
    node: Node,
    peer: PeerId,
    key: NodeKey,
    dir: tempfile::TempDir,
}

async fn join(sim: &SimNetwork, key: NodeKey, dir: tempfile::TempDir) -> Member {
    let mut node = Node::start(config(dir.path(), authority_spec(0), key.clone(), None))
        .await
        .unwrap();
    let peer = peer_id_from_ed25519_secret(key.to_bytes()).unwrap();
    let (handle, events) = sim.join(peer);
    node.attach_network(handle, events);
    Member {
        node,
        peer,
        key,
        dir,
    }
}

/// Sends transfers to random members; a transfer not mined within a while
/// (its gossip was dropped) is sent again to the producer, as a wallet
/// would retry.
async fn send_transfers(members: &[Member], rng: &mut StdRng, nonces: &mut [u64], count: usize) {
    let producer = &members[0].node;
    for _ in 0..count {
        let account = rng.gen_range(0..nonces.len());
        let raw = transfer(account, nonces[account], 1 + rng.gen_range(0..1000));
        nonces[account] += 1;
        let target = &members[rng.gen_range(0..members.len())].node;
        // The head before sending: the block may be sealed before
        // `submit_transaction` even returns.
        let mined = producer.head().number;
        target.submit_transaction(raw.clone()).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while producer.head().number == mined && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if producer.head().number == mined {
            let retry = producer.submit_transaction(raw);
            let what = format!("the retried transfer (account {account}, retry: {retry:?})");
            wait_for(&what, 30, || producer.head().number > mined).await;
        }
    }
}

async fn converge(members: &[&Member]) {
    let nodes: Vec<&Node> = members.iter().map(|m| &m.node).collect();
    let target = nodes[0].head().number;
    wait_for(&format!("every node to reach block {target}"), 60, || {
        nodes.iter().all(|n| n.head().number >= target)
    })
    .await;
    assert_same_block(&nodes, target);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_converge_under_delays_drops_partitions_and_a_crash() {
    let seed = std::env::var("TALLY_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261122u64);
    let mut rng = StdRng::seed_from_u64(seed);
    let sim = SimNetwork::new(seed, Faults::lossy());
    let mut members = vec![join(&sim, producer_key(), tempfile::tempdir().unwrap()).await];
    for i in 0..3 {
        members.push(join(&sim, follower_key(i), tempfile::tempdir().unwrap()).await);
    }
    let mut nonces = vec![0u64; 4];

    // Lossy, reordering links.
    send_transfers(&members, &mut rng, &mut nonces, 12).await;
    converge(&members.iter().collect::<Vec<_>>()).await;

    // Two followers cut off while the chain grows, then healed.
    sim.partition(&[
        vec![members[0].peer, members[1].peer],
        vec![members[2].peer, members[3].peer],
    ]);
    send_transfers(&members[..2], &mut rng, &mut nonces, 10).await;
    assert!(members[2].node.head().number < members[0].node.head().number);
    sim.heal();
    converge(&members.iter().collect::<Vec<_>>()).await;

    // A crash: follower 3 leaves, the chain grows, it restarts on its datadir.
    let crashed = members.pop().unwrap();
    sim.leave(&crashed.peer);
    let before = crashed.node.head().number;
    crashed.node.stop().await;
    send_transfers(&members, &mut rng, &mut nonces, 10).await;
    let restarted = join(&sim, crashed.key, crashed.dir).await;
    assert_eq!(
        restarted.node.head().number,
        before,
        "the datadir kept its chain"
    );
    members.push(restarted);
    send_transfers(&members, &mut rng, &mut nonces, 3).await;
    converge(&members.iter().collect::<Vec<_>>()).await;

    let mined: usize = (1..=members[0].node.head().number)
        .map(|n| {
            let block = members[0].node.db().block_by_number(n).unwrap().unwrap();
            block.transactions.len()
        })
        .sum();
    assert_eq!(
        mined as u64,
        nonces.iter().sum::<u64>(),
        "every transfer mined once"
    );
    let stats = sim.stats();
    assert!(
        stats.gossip_dropped > 0,
        "the faults were exercised: {stats:?}"
    );
    for m in members {
        m.node.stop().await;
    }
}
