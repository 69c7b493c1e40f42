//! Catch-up from a peer that serves one forged block in the middle of an
//! honest range.
//!
//! Synced blocks are imported in long runs, one write transaction per run.
//! When a block of a run is refused, the blocks before it must stay
//! committed, the peer that sent it must be penalised with
//! `Misbehaviour::InvalidBlock` (which bans it), and the blocks from the
//! refused one on must be fetched again from another peer.
//!
//! The scene, on the in-process simulator: an honest producer A builds a
//! chain; a hand-driven rogue R answers sync requests with A's own blocks,
//! except block [`BAD`], which it forges; a fresh follower F first reaches
//! only R, then (after the partition heals) A as well.

mod common;

use common::*;
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};
use std::time::Duration;
use tally_consensus::dev::DevEngine;
use tally_network::{
    peer_id_from_ed25519_secret,
    sim::{Faults, SimHandle, SimNetwork},
    Misbehaviour, Network, NetworkEvent, PeerId, SyncRequest, SyncResponse,
};
use tally_node::Node;
use tally_primitives::{Block, B256};
use tally_state::ChainDb;
use tokio::{sync::mpsc, task::JoinHandle};

/// Blocks the producer builds before the follower starts.
const CHAIN: u64 = 200;
/// The block the rogue forges: well inside the first range the follower
/// asks for (128 blocks), so the refused run has blocks before and after it.
const BAD: u64 = 100;

/// How the rogue forges block [`BAD`].
#[derive(Clone, Copy, Debug)]
enum Forgery {
    /// A false state root, signed again with the authority key: the seal
    /// verifies, so only executing the block can expose it.
    StateRootResealed,
    /// A changed gas used, not signed again: the seal no longer matches.
    GasUsedUnsealed,
}

/// Builds `blocks` blocks on an instant-mode producer, one transfer each,
/// so every block changes the state (and its state root).
async fn grow_chain(node: &Node, blocks: u64) {
    while node.head().number < blocks {
        let before = node.head().number;
        // Accounts take turns, so each has sent before / 4 transfers.
        let raw = transfer((before % 4) as usize, before / 4, 1 + before);
        for result in node.submit_transactions(&[raw]) {
            result.unwrap();
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while node.head().number == before {
            assert!(
                std::time::Instant::now() < deadline,
                "the producer did not mine block {}",
                before + 1
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    assert_eq!(node.head().number, blocks, "one block per transfer");
}

/// A's real block [`BAD`], forged as `forgery` says; checks that the forgery
/// is the kind intended (caught by the seal or only past it).
fn forge(producer: &Node, forgery: Forgery) -> Block {
    let real = producer.db().block_by_number(BAD).unwrap().unwrap();
    let parent = producer.db().header_by_number(BAD - 1).unwrap().unwrap();
    let authority = B256::from(producer_key().public().to_bytes());
    let engine = DevEngine::with_authority(0, &authority, Some(producer_key())).unwrap();
    let mut block = real.to_block();
    match forgery {
        Forgery::StateRootResealed => {
            block.header.state_root = B256::repeat_byte(0x5a);
            block.header = engine.seal(block.header).unwrap();
            engine
                .verify_seal(&parent.header, &block.header)
                .expect("the resealed forgery passes the seal check");
        }
        Forgery::GasUsedUnsealed => {
            block.header.gas_used += 1;
            engine
                .verify_seal(&parent.header, &block.header)
                .expect_err("the unsealed forgery fails the seal check");
        }
    }
    assert_ne!(block.header.hash(), real.hash(), "the forgery differs");
    block
}

/// What the rogue did, for the test to check that the forgery was served.
#[derive(Default)]
struct RogueLog {
    forged_served: AtomicU64,
    range_requests: AtomicU64,
}

/// The rogue's answer: A's status, and A's blocks with block [`BAD`]
/// replaced by `forged`, encoded as an honest node encodes them.
fn rogue_answer(
    db: &ChainDb,
    forged: &Block,
    request: SyncRequest,
    log: &RogueLog,
) -> SyncResponse {
    match request {
        SyncRequest::Status => {
            let genesis = db.header_by_number(0).unwrap().unwrap();
            let head = db.head().unwrap();
            SyncResponse::Status {
                genesis: genesis.hash.0,
                head_number: head.number,
                head_hash: head.hash.0,
                head_weight: [0; 16],
            }
        }
        SyncRequest::HeadersByRange { .. } => SyncResponse::Headers(Vec::new()),
        SyncRequest::Certificate { .. } => SyncResponse::Certificate(None),
        SyncRequest::BlockByHash(hash) => SyncResponse::Block(
            db.block_by_hash(hash.into())
                .unwrap()
                .map(|b| alloy_rlp::encode(b.to_block())),
        ),
        SyncRequest::BlocksByRange { start, count } => {
            log.range_requests.fetch_add(1, Ordering::Relaxed);
            let mut blocks = Vec::new();
            for number in start..start.saturating_add(u64::from(count.min(1024))) {
                let Some(block) = db.block_by_number(number).unwrap() else {
                    break;
                };
                if number == BAD {
                    log.forged_served.fetch_add(1, Ordering::Relaxed);
                    blocks.push(alloy_rlp::encode(forged));
                } else {
                    blocks.push(alloy_rlp::encode(block.to_block()));
                }
            }
            SyncResponse::Blocks(blocks)
        }
    }
}

/// Runs the rogue: answers every inbound request until aborted.
fn spawn_rogue(
    net: SimHandle,
    mut events: mpsc::Receiver<NetworkEvent>,
    db: ChainDb,
    forged: Block,
    log: Arc<RogueLog>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let NetworkEvent::Request { id, request, .. } = event {
                let response = rogue_answer(&db, &forged, request, &log);
                // The requester may have been cut off meanwhile.
                let _ = net.respond(id, response).await;
            }
        }
    })
}

fn peer_of(key: &tally_crypto::node_key::NodeKey) -> PeerId {
    peer_id_from_ed25519_secret(key.to_bytes()).unwrap()
}

/// F's block [`BAD`], if it has one, is A's.
fn assert_no_forgery(follower: &Node, producer: &Node) {
    if let Some(h) = follower.db().header_by_number(BAD).unwrap() {
        let real = producer.db().header_by_number(BAD).unwrap().unwrap();
        assert_eq!(h.hash, real.hash, "the follower holds the forged block");
    }
    if follower.head().number == BAD {
        let real = producer.db().header_by_number(BAD).unwrap().unwrap();
        assert_eq!(
            follower.head().hash,
            real.hash,
            "the forged block is the head"
        );
    }
}

async fn a_forged_block_mid_run_is_refused_and_fetched_elsewhere(forgery: Forgery) {
    let sim = SimNetwork::new(
        7,
        Faults {
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            ..Faults::default()
        },
    );
    let (a_peer, f_peer, r_peer) = (
        peer_of(&producer_key()),
        peer_of(&follower_key(1)),
        peer_of(&follower_key(7)),
    );
    // F reaches only R until the partition heals.
    sim.partition(&[vec![a_peer], vec![r_peer, f_peer]]);

    let a_dir = tempfile::tempdir().unwrap();
    let mut producer = Node::start(config(
        a_dir.path(),
        authority_spec(0),
        producer_key(),
        None,
    ))
    .await
    .unwrap();
    let (handle, events) = sim.join(a_peer);
    producer.attach_network(handle, events);
    grow_chain(&producer, CHAIN).await;

    let log = Arc::new(RogueLog::default());
    let (r_handle, r_events) = sim.join(r_peer);
    let rogue = spawn_rogue(
        r_handle,
        r_events,
        producer.db().clone(),
        forge(&producer, forgery),
        log.clone(),
    );

    let f_dir = tempfile::tempdir().unwrap();
    let mut follower = Node::start(config(
        f_dir.path(),
        authority_spec(0),
        follower_key(1),
        None,
    ))
    .await
    .unwrap();
    let (handle, events) = sim.join(f_peer);
    follower.attach_network(handle, events);
    assert!(sim.linked(&f_peer, &r_peer) && !sim.linked(&f_peer, &a_peer));

    // Phase 1: only the rogue to sync from.
    let refused = (f_peer, r_peer, Misbehaviour::InvalidBlock);
    wait_for("the follower to refuse the forged block", 60, || {
        assert_no_forgery(&follower, &producer);
        sim.reports().contains(&refused)
    })
    .await;
    assert!(log.forged_served.load(Ordering::Relaxed) >= 1);
    assert_no_forgery(&follower, &producer);
    // The blocks of the run before the forged one stayed committed, the
    // forged one and those after it did not.
    assert_eq!(follower.head().number, BAD - 1, "{forgery:?}");
    assert_same_block(&[&producer, &follower], BAD - 1);
    assert!(follower.db().header_by_number(BAD).unwrap().is_none());
    assert_eq!(
        follower.metrics().blocks_imported.load(Ordering::Relaxed),
        BAD - 1,
        "blocks the refused run committed"
    );
    assert_eq!(sim.reports(), vec![refused], "one report, for the forgery");
    // One InvalidBlock reaches the ban threshold: the link is cut.
    assert!(!sim.linked(&f_peer, &r_peer), "the rogue is still linked");
    // With no peer left, the follower stays where it was.
    let requests = log.range_requests.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(follower.head().number, BAD - 1);
    assert_eq!(log.range_requests.load(Ordering::Relaxed), requests);

    // Phase 2: the honest producer becomes reachable.
    sim.heal();
    assert!(sim.linked(&f_peer, &a_peer));
    assert!(
        !sim.linked(&f_peer, &r_peer),
        "the ban outlives the partition"
    );
    wait_for("the follower to catch up with the producer", 60, || {
        assert_no_forgery(&follower, &producer);
        follower.head().number >= CHAIN
    })
    .await;
    assert_eq!(producer.head().number, CHAIN, "the producer stood still");
    assert_eq!(follower.head().hash, producer.head().hash);
    assert_eq!(follower.head().state_root, producer.head().state_root);
    for number in 1..=CHAIN {
        assert_same_block(&[&producer, &follower], number);
    }
    // The counter moves just after the head does.
    let imported = || follower.metrics().blocks_imported.load(Ordering::Relaxed);
    wait_for("the import counter", 10, || imported() >= CHAIN).await;
    assert_eq!(imported(), CHAIN, "every block imported once");
    assert_eq!(
        sim.reports(),
        vec![refused],
        "nobody else was penalised, the rogue once"
    );
    assert_eq!(
        log.range_requests.load(Ordering::Relaxed),
        requests,
        "the banned rogue was not asked again"
    );

    rogue.abort();
    follower.stop().await;
    producer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resealed_block_with_a_false_state_root_mid_run_is_refused() {
    a_forged_block_mid_run_is_refused_and_fetched_elsewhere(Forgery::StateRootResealed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_whose_seal_no_longer_matches_mid_run_is_refused() {
    a_forged_block_mid_run_is_refused_and_fetched_elsewhere(Forgery::GasUsedUnsealed).await;
}
