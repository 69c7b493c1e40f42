//! BFT consortium chains over the simulated network: several real nodes
//! (storage, execution, the chain thread's Tendermint driver, sync) agree
//! on one certified chain under seeded delays and drops, stop when fewer
//! than two thirds of the validators run and resume when they return, let
//! late nodes catch up with certificates, never make a restarted validator
//! sign twice in one slot, and shrug off a rogue peer's consensus gossip.
//!
//! An observer joins the simulated hub like any peer and records every
//! consensus message gossiped, so the tests can check what validators
//! signed. The network's faults are repeatable from the seed
//! (`TALLY_SIM_SEED` picks another); the nodes' threads and clocks are
//! real, so the tests assert only what must hold under any interleaving.

mod common;

use common::{bft::*, *};
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::Duration,
};
use tally_consensus::bft::{
    sign_proposal, sign_vote, verify_block_certificate, verify_certificate, ConsensusMessage,
    ValidatorSet,
};
use tally_crypto::node_key::NodeKey;
use tally_network::{
    sim::{SimHandle, SimNetwork},
    GossipKind, Misbehaviour, Network, NetworkEvent, PeerId, SyncRequest, SyncResponse,
};
use tally_node::Node;
use tally_primitives::{bft::VoteKind, Block, Bytes, ChainSpec, CommitCertificate, Header, B256};

/// One node of the consortium; `node` is `None` while it is stopped.
struct Member {
    node: Option<Node>,
    key: NodeKey,
    dir: tempfile::TempDir,
}

impl Member {
    fn node(&self) -> &Node {
        self.node.as_ref().expect("the member is running")
    }

    fn peer(&self) -> PeerId {
        peer_of(&self.key)
    }
}

async fn join(sim: &SimNetwork, spec: &ChainSpec, i: u8) -> Member {
    let key = node_key(i);
    let dir = tempfile::tempdir().unwrap();
    let node = start_node(sim, spec, &key, dir.path()).await;
    Member {
        node: Some(node),
        key,
        dir,
    }
}

/// Crashes a member: it leaves the network, then its node stops.
async fn stop(sim: &SimNetwork, member: &mut Member) {
    sim.leave(&member.peer());
    if let Some(node) = member.node.take() {
        node.stop().await;
    }
}

/// Restarts a stopped member on its data directory, with its key.
async fn restart(sim: &SimNetwork, spec: &ChainSpec, member: &mut Member) {
    assert!(member.node.is_none(), "restart a stopped member only");
    member.node = Some(start_node(sim, spec, &member.key, member.dir.path()).await);
}

fn running(members: &[Member]) -> Vec<&Node> {
    members.iter().filter_map(|m| m.node.as_ref()).collect()
}

/// Waits until every running node's head is at least `number`.
async fn reach(members: &[Member], number: u64, secs: u64) {
    let nodes = running(members);
    wait_for(
        &format!("every running node to reach block {number}"),
        secs,
        || nodes.iter().all(|n| n.head().number >= number),
    )
    .await;
}

fn max_head(members: &[Member]) -> u64 {
    running(members)
        .iter()
        .map(|n| n.head().number)
        .max()
        .unwrap_or(0)
}

fn min_head(members: &[Member]) -> u64 {
    running(members)
        .iter()
        .map(|n| n.head().number)
        .min()
        .unwrap_or(0)
}

/// Every canonical hash each running node holds, added to `seen`, which
/// must never hold two hashes for one height (a fork).
fn record_hashes(members: &[Member], seen: &mut BTreeMap<u64, B256>) {
    for node in running(members) {
        for n in 1..=node.head().number {
            let Some(h) = node.db().header_by_number(n).unwrap() else {
                continue;
            };
            let known = *seen.entry(n).or_insert(h.hash);
            assert_eq!(known, h.hash, "two nodes committed different blocks at {n}");
        }
    }
}

/// The certificate each node stores for blocks `1..=upto` commits that
/// very block with the spec's validators; the certificate in the next
/// block's header does too; a tampered one does not.
fn check_certificates(node: &Node, spec: &ChainSpec, upto: u64) {
    let validators = &bft_of(spec).validators;
    let set = ValidatorSet::new(validators).unwrap();
    for n in 1..=upto {
        let header = node.db().header_by_number(n).unwrap().unwrap();
        let raw = node
            .db()
            .certificate(n)
            .unwrap()
            .unwrap_or_else(|| panic!("no certificate stored for block {n}"));
        let cert: CommitCertificate = alloy_rlp::decode_exact(&raw).unwrap();
        verify_block_certificate(spec.chain_id, &header.header, &cert, validators)
            .unwrap_or_else(|e| panic!("certificate of block {n}: {e}"));
        verify_certificate(&cert, spec.chain_id, &set).unwrap();
        assert!(cert.signatures.len() >= 3, "a quorum of 4 is 3 signatures");
        let mut forged = cert.clone();
        forged.block_hash = B256::repeat_byte(0xee);
        assert!(verify_certificate(&forged, spec.chain_id, &set).is_err());
        assert!(
            verify_block_certificate(spec.chain_id, &header.header, &forged, validators).is_err()
        );
        if let Some(next) = node.db().header_by_number(n + 1).unwrap() {
            let extra = tally_primitives::BftExtra::decode(&next.extra_data).unwrap();
            let carried = extra
                .last_commit()
                .expect("block after 1 carries its parent's");
            verify_block_certificate(spec.chain_id, &header.header, carried, validators)
                .unwrap_or_else(|e| panic!("last_commit in block {}: {e}", n + 1));
        }
    }
}

/// A peer of the simulated hub that records every consensus message it
/// sees and answers sync requests as a node that has only the genesis
/// block (an answer other than a status to a status request is penalised).
struct Observer {
    handle: SimHandle,
    peer: PeerId,
    seen: Arc<Mutex<Vec<ConsensusMessage>>>,
}

fn observe(sim: &SimNetwork, members: &[Member], key: &NodeKey) -> Observer {
    let genesis = members[0].node().genesis().hash.0;
    let peer = peer_of(key);
    let (handle, mut events) = sim.join(peer);
    let seen: Arc<Mutex<Vec<ConsensusMessage>>> = Arc::default();
    let (net, log) = (handle.clone(), seen.clone());
    tokio::spawn(async move {
        let mut distinct = BTreeSet::new();
        while let Some(event) = events.recv().await {
            match event {
                NetworkEvent::Gossip {
                    kind: GossipKind::Consensus,
                    data,
                    ..
                } => {
                    let Ok(wire) = decode_wire(&data).ok_or(()) else {
                        continue;
                    };
                    // Rebroadcasts repeat messages: keep one copy of each.
                    if !distinct.insert(wire.message.clone()) {
                        continue;
                    }
                    if let Ok(m) = ConsensusMessage::decode(&wire.message) {
                        log.lock().unwrap().push(m);
                    }
                }
                NetworkEvent::Request { id, request, .. } => {
                    let answer = match request {
                        SyncRequest::Status => SyncResponse::Status {
                            genesis,
                            head_number: 0,
                            head_hash: genesis,
                            head_weight: [0; 16],
                        },
                        _ => SyncResponse::Error("an observer".into()),
                    };
                    let _ = net.respond(id, answer).await;
                }
                _ => {}
            }
        }
    });
    Observer { handle, peer, seen }
}

/// A signing slot: (signer, height, round, 0 proposal / vote kind code).
type Slot = (B256, u64, u32, u8);

fn slot_of(m: &ConsensusMessage) -> Slot {
    match m {
        ConsensusMessage::Proposal(p) => (p.proposer, p.height, p.round, 0),
        ConsensusMessage::Vote(v) => (v.validator, v.height, v.round, v.kind.code()),
    }
}

/// Fails if any validator signed two different messages in one slot.
fn assert_no_equivocation(messages: &[ConsensusMessage], validators: &[B256]) -> usize {
    let mut slots: BTreeMap<Slot, &ConsensusMessage> = BTreeMap::new();
    for m in messages {
        if !validators.contains(&m.signer()) {
            continue;
        }
        if let Some(first) = slots.insert(slot_of(m), m) {
            assert_eq!(first, m, "a validator signed twice in one slot");
        }
    }
    slots.len()
}

fn validator_keys(spec: &ChainSpec) -> Vec<B256> {
    bft_of(spec).validators.iter().map(|v| v.key).collect()
}

/// Waits until the transfer `hash` is in a block on every running node and
/// its receipt says it succeeded there.
async fn wait_receipt_everywhere(members: &[Member], hash: B256) {
    let nodes = running(members);
    wait_for("the transfer's receipt on every node", 30, || {
        nodes.iter().all(|n| {
            let Some(at) = n.db().tx_location(hash).unwrap() else {
                return false;
            };
            let receipts = n.db().receipts(at.block_hash).unwrap().unwrap();
            let receipt = &receipts[usize::try_from(at.index).unwrap()];
            assert!(receipt.success, "the transfer succeeded");
            true
        })
    })
    .await;
    let first = nodes[0].db().tx_location(hash).unwrap().unwrap();
    for n in &nodes[1..] {
        assert_eq!(n.db().tx_location(hash).unwrap().unwrap(), first);
    }
}

async fn stop_all(sim: &SimNetwork, members: &mut [Member]) {
    for m in members.iter_mut() {
        stop(sim, m).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_commit_the_same_certified_blocks() {
    let sim = SimNetwork::new(seed(), faults());
    let spec = bft_spec(4, 4, true);
    let mut members = Vec::new();
    for i in 0..4 {
        members.push(join(&sim, &spec, i).await);
    }
    let observer = observe(&sim, &members, &NodeKey::from_bytes(&[7; 32]));
    reach(&members, 3, 30).await;

    // A transfer sent to one validator is committed and its receipt is on all.
    let hash = members[3]
        .node()
        .submit_transaction(transfer(0, 0, 1000))
        .unwrap();
    wait_receipt_everywhere(&members, hash).await;

    let target = max_head(&members) + 2;
    reach(&members, target, 30).await;
    let nodes = running(&members);
    for n in 1..=target {
        assert_same_block(&nodes, n);
    }
    for node in &nodes {
        check_certificates(node, &spec, target);
    }
    let signed = assert_no_equivocation(&observer.seen.lock().unwrap(), &validator_keys(&spec));
    assert!(signed > 0, "the observer saw the validators' messages");
    let stats = sim.stats();
    assert!(
        stats.gossip_dropped > 0,
        "the faults were exercised: {stats:?}"
    );
    stop_all(&sim, &mut members).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_halts_below_two_thirds_never_forks_and_resumes_on_restart() {
    let sim = SimNetwork::new(seed() + 1, faults());
    let spec = bft_spec(4, 4, true);
    let mut members = Vec::new();
    for i in 0..4 {
        members.push(join(&sim, &spec, i).await);
    }
    let observer = observe(&sim, &members, &NodeKey::from_bytes(&[7; 32]));
    let mut hashes = BTreeMap::new();
    reach(&members, 4, 30).await;

    // One of four down: three are a quorum, blocks go on.
    record_hashes(&members, &mut hashes);
    stop(&sim, &mut members[3]).await;
    let at = max_head(&members);
    reach(&members, at + 4, 30).await;

    // Two down: no quorum, no block.
    record_hashes(&members, &mut hashes);
    stop(&sim, &mut members[2]).await;
    // A decision in flight when the second stopped may still land.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let halted: Vec<u64> = running(&members).iter().map(|n| n.head().number).collect();
    tokio::time::sleep(Duration::from_millis(8 * BLOCK_TIME_MS + 1000)).await;
    let after: Vec<u64> = running(&members).iter().map(|n| n.head().number).collect();
    assert_eq!(
        halted, after,
        "no block without two thirds of the validators"
    );
    record_hashes(&members, &mut hashes);

    // Both come back on their data directories: the chain resumes by itself.
    restart(&sim, &spec, &mut members[2]).await;
    restart(&sim, &spec, &mut members[3]).await;
    let target = max_head(&members) + 5;
    reach(&members, target, 45).await;
    record_hashes(&members, &mut hashes);
    let nodes = running(&members);
    for n in 1..=target {
        assert_same_block(&nodes, n);
    }
    check_certificates(nodes[2], &spec, target);
    assert_no_equivocation(&observer.seen.lock().unwrap(), &validator_keys(&spec));
    stop_all(&sim, &mut members).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_validator_and_member_catch_up_with_certificates_and_follow() {
    let sim = SimNetwork::new(seed() + 2, faults());
    // Four validators and a fifth member that does not validate.
    let spec = bft_spec(4, 5, true);
    let mut members = Vec::new();
    for i in 0..3 {
        members.push(join(&sim, &spec, i).await);
    }
    reach(&members, 20, 60).await;

    members.push(join(&sim, &spec, 3).await);
    members.push(join(&sim, &spec, 4).await);
    let caught_up = max_head(&members);
    reach(&members, caught_up, 30).await;
    // ...and then follow the chain as it grows.
    let target = max_head(&members) + 5;
    reach(&members, target, 30).await;
    let nodes = running(&members);
    for n in 1..=target {
        assert_same_block(&nodes, n);
    }
    // The late nodes hold a valid certificate for every block they have.
    check_certificates(nodes[3], &spec, target);
    check_certificates(nodes[4], &spec, target);
    stop_all(&sim, &mut members).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_validators_never_sign_twice_in_one_slot() {
    let sim = SimNetwork::new(seed() + 3, faults());
    let spec = bft_spec(4, 4, true);
    let validators = validator_keys(&spec);
    let mut members = Vec::new();
    for i in 0..4 {
        members.push(join(&sim, &spec, i).await);
    }
    let observer = observe(&sim, &members, &NodeKey::from_bytes(&[7; 32]));
    reach(&members, 3, 30).await;

    // Two of four stop: the other two sign at the next height without
    // deciding (with no two-thirds of any votes, no timeout moves them on).
    stop(&sim, &mut members[2]).await;
    stop(&sim, &mut members[3]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // The two others crash mid-height too; what they signed is in their
    // logs, and what they sent is what they logged.
    let mut logged: Vec<ConsensusMessage> = Vec::new();
    for (i, member) in members.iter_mut().take(2).enumerate() {
        let db = member.node().db().clone();
        let height = member.node().head().number + 1;
        stop(&sim, member).await;
        let log: Vec<ConsensusMessage> = db
            .wal_from(height)
            .unwrap()
            .iter()
            .map(|raw| ConsensusMessage::decode(raw).unwrap())
            .collect();
        // The chain db must be closed before the node opens it again.
        drop(db);
        assert!(
            log.iter().any(|m| m.height() == height
                && matches!(m, ConsensusMessage::Vote(v) if v.kind == VoteKind::Prevote)),
            "validator {i} logged its prevote at height {height}: {log:?}"
        );
        let me = public(&member.key);
        assert!(log.iter().all(|m| m.signer() == me));
        logged.extend(log);
    }
    let observed = observer.seen.lock().unwrap().clone();
    for m in &logged {
        if let Some(sent) = observed.iter().find(|o| slot_of(o) == slot_of(m)) {
            assert_eq!(sent, m, "the log holds what was sent");
        }
    }

    // All come back; validators 0 and 1 resume from their logs (validator
    // 0 or 1 may be the proposer whose block is gone: a later round
    // decides then).
    for member in members.iter_mut() {
        restart(&sim, &spec, member).await;
    }
    let target = max_head(&members) + 3;
    reach(&members, target, 45).await;
    let nodes = running(&members);
    for n in 1..=target {
        assert_same_block(&nodes, n);
    }
    let observed = observer.seen.lock().unwrap().clone();
    assert_no_equivocation(&observed, &validators);
    // What they sent after the restart in a logged slot is what they had
    // logged (they may also have sent nothing there).
    for m in &observed {
        if let Some(before) = logged.iter().find(|l| slot_of(l) == slot_of(m)) {
            assert_eq!(
                m, before,
                "a restarted validator re-signed a logged slot differently"
            );
        }
    }
    stop_all(&sim, &mut members).await;
}

/// Gossips `data` on the consensus topic from the rogue.
async fn rogue_send(rogue: &SimHandle, data: Vec<u8>) {
    // No peers left (it is banned everywhere) is fine.
    let _ = rogue.publish(GossipKind::Consensus, data).await;
}

fn reports_against(sim: &SimNetwork, peer: PeerId, what: Misbehaviour) -> usize {
    sim.reports()
        .iter()
        .filter(|(_, reported, m)| *reported == peer && *m == what)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rogue_consensus_gossip_is_refused_penalised_and_harmless() {
    let sim = SimNetwork::new(seed() + 4, faults());
    let spec = bft_spec(4, 4, true);
    let chain_id = spec.chain_id;
    let mut members = Vec::new();
    for i in 0..4 {
        members.push(join(&sim, &spec, i).await);
    }
    reach(&members, 2, 30).await;
    // A member key that does not validate, unknown to the chain spec.
    let rogue_key = NodeKey::from_bytes(&[66; 32]);
    let rogue = observe(&sim, &members, &rogue_key);
    let honest = node_key(0);

    // A flood of next-height votes (each distinct): the chain thread's
    // queues and the machine's buffer are bounded, the chain goes on.
    let next = max_head(&members) + 2;
    for round in 0..5000u32 {
        let vote = sign_vote(
            &rogue_key,
            chain_id,
            VoteKind::Prevote,
            next,
            round,
            B256::ZERO,
        );
        rogue_send(
            &rogue.handle,
            wire(ConsensusMessage::Vote(vote).encode(), vec![]),
        )
        .await;
        if round % 500 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Far-future messages say only that the receiver is behind: not penalised.
    let far = max_head(&members) + 1000;
    let vote = sign_vote(
        &honest,
        chain_id,
        VoteKind::Precommit,
        far,
        0,
        B256::repeat_byte(1),
    );
    rogue_send(
        &rogue.handle,
        wire(ConsensusMessage::Vote(vote).encode(), vec![]),
    )
    .await;
    let at = max_head(&members);
    reach(&members, at + 3, 30).await;
    // The flood is over the per-publisher rate: dropped and penalised as
    // spam, never as a provably wrong message.
    assert!(
        sim.reports()
            .iter()
            .all(|(_, peer, m)| *peer != rogue.peer || *m == Misbehaviour::Spam),
        "nothing the rogue sent so far is provably wrong: {:?}",
        sim.reports()
    );

    // Votes at the height being decided: from a non-validator, and a
    // validator's vote with a broken signature. Each refusal is penalised
    // (a message may arrive just after its height was decided: then it is
    // stale and ignored, so try again).
    for attempt in 0..20 {
        if reports_against(&sim, rogue.peer, Misbehaviour::InvalidConsensusMessage) >= 2 {
            break;
        }
        let height = min_head(&members) + 1;
        let stranger = sign_vote(
            &rogue_key,
            chain_id,
            VoteKind::Prevote,
            height,
            0,
            B256::ZERO,
        );
        let mut forged = sign_vote(&honest, chain_id, VoteKind::Prevote, height, 0, B256::ZERO);
        forged.signature.0[attempt % 64] ^= 0x01;
        for v in [stranger, forged] {
            rogue_send(
                &rogue.handle,
                wire(ConsensusMessage::Vote(v).encode(), vec![]),
            )
            .await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        reports_against(&sim, rogue.peer, Misbehaviour::InvalidConsensusMessage) >= 1,
        "votes at the current height by a non-validator or with a bad signature are penalised: {:?}",
        sim.reports()
    );

    // Garbage, an undecodable message inside a valid wire, an oversized one.
    rogue_send(&rogue.handle, vec![0xde, 0xad, 0xbe, 0xef]).await;
    rogue_send(&rogue.handle, wire(vec![9, 9, 9], vec![])).await;
    rogue_send(&rogue.handle, wire(vec![2; 64 * 1024], vec![])).await;
    wait_for("the garbage to be penalised", 10, || {
        reports_against(&sim, rogue.peer, Misbehaviour::MalformedMessage) >= 3
    })
    .await;
    // More of it: every validator bans the rogue and cuts it off.
    for _ in 0..5 {
        rogue_send(&rogue.handle, vec![0xff; 8]).await;
    }
    wait_for("every validator to cut the rogue off", 10, || {
        members.iter().all(|m| !sim.linked(&m.peer(), &rogue.peer))
    })
    .await;

    // The chain kept committing through all of it, on one chain.
    let at = max_head(&members);
    reach(&members, at + 3, 30).await;
    let target = min_head(&members);
    let nodes = running(&members);
    for n in 1..=target {
        assert_same_block(&nodes, n);
    }
    for m in &members {
        let against: Vec<_> = sim
            .reports()
            .into_iter()
            .filter(|r| r.1 == m.peer())
            .collect();
        assert!(
            against.is_empty(),
            "an honest validator was penalised: {against:?}"
        );
    }
    for node in &nodes {
        check_certificates(node, &spec, target);
    }
    stop_all(&sim, &mut members).await;
}

/// A block that hashes to what its proposal names but that nobody could
/// execute: junk with the right number.
fn junk_block(number: u64, salt: u64) -> Block {
    Block {
        header: Header {
            parent_hash: B256::repeat_byte(0x99),
            number,
            extra_data: Bytes::from(salt.to_be_bytes().to_vec()),
            ..Default::default()
        },
        transactions: vec![],
    }
}

/// A peer that is not a validator sends proposals for the next height,
/// each with a block: such proposals are buffered unchecked (the next
/// height's validator set is not known yet) and must not crowd out the
/// real proposer's block when that height starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_next_height_proposals_do_not_halt_the_chain() {
    let sim = SimNetwork::new(seed() + 5, faults());
    let spec = bft_spec(4, 4, true);
    let chain_id = spec.chain_id;
    let mut members = Vec::new();
    for i in 0..4 {
        members.push(join(&sim, &spec, i).await);
    }
    reach(&members, 2, 30).await;
    let rogue_key = NodeKey::from_bytes(&[66; 32]);
    let rogue = observe(&sim, &members, &rogue_key);

    let head = min_head(&members);
    // The next height of a node deciding head + 1, and of one a block ahead.
    for height in [head + 2, head + 3] {
        for salt in 0..70u64 {
            let block = junk_block(height, salt);
            let p = sign_proposal(&rogue_key, chain_id, height, 0, None, block.header.hash());
            rogue_send(
                &rogue.handle,
                wire(ConsensusMessage::Proposal(p).encode(), vec![block]),
            )
            .await;
            // Paced, so the chain thread's bounded queue takes them all.
            if salt % 8 == 7 {
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        }
    }
    let at = max_head(&members);
    reach(&members, at + 5, 20).await;
    let target = min_head(&members);
    let nodes = running(&members);
    for n in 1..=target {
        assert_same_block(&nodes, n);
    }
    stop_all(&sim, &mut members).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_empty_blocks_the_chain_waits_for_transactions() {
    let sim = SimNetwork::new(seed() + 6, faults());
    let spec = bft_spec(4, 4, false);
    let mut members = Vec::new();
    for i in 0..4 {
        members.push(join(&sim, &spec, i).await);
    }
    tokio::time::sleep(Duration::from_millis(10 * BLOCK_TIME_MS)).await;
    assert_eq!(max_head(&members), 0, "no block while idle");

    let hash = members[1]
        .node()
        .submit_transaction(transfer(1, 0, 5))
        .unwrap();
    wait_receipt_everywhere(&members, hash).await;
    let with_tx = max_head(&members);
    assert!(with_tx >= 1);

    // Idle again: no more blocks.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = max_head(&members);
    tokio::time::sleep(Duration::from_millis(10 * BLOCK_TIME_MS)).await;
    assert_eq!(
        max_head(&members),
        idle,
        "no empty block after the transaction's"
    );
    // Every block holds a transaction.
    let nodes = running(&members);
    for n in 1..=idle {
        let block = nodes[0].db().block_by_number(n).unwrap().unwrap();
        assert!(!block.transactions.is_empty(), "block {n} is empty");
    }

    // A second transaction makes another block, on every node.
    let hash = members[2]
        .node()
        .submit_transaction(transfer(2, 0, 5))
        .unwrap();
    wait_receipt_everywhere(&members, hash).await;
    let target = min_head(&members);
    assert!(target > idle);
    for n in 1..=target {
        assert_same_block(&running(&members), n);
    }
    check_certificates(running(&members)[0], &spec, target);
    stop_all(&sim, &mut members).await;
}

/// An admin revokes an account's transactor role while a transfer of that
/// account waits in the pool (admitted while it still held the role). The
/// transfer can never run: the proposer drops it and the chain goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pooled_transaction_whose_sender_lost_its_role_does_not_halt_the_chain() {
    use alloy_consensus::TxEip1559;
    use alloy_sol_types::SolCall;
    use tally_executor::system::{abi::ITallyRoles, ROLES};
    use tally_primitives::alloy_primitives::TxKind;

    let sim = SimNetwork::new(seed() + 7, faults());
    let spec = bft_spec(4, 4, true);
    let mut members = Vec::new();
    for i in 0..4 {
        members.push(join(&sim, &spec, i).await);
    }
    reach(&members, 1, 30).await;

    // Member account 0 (an admin) revokes account 1's admin and
    // transactor roles (either lets it send).
    let revoke = sign(
        0,
        TxEip1559 {
            nonce: 0,
            gas_limit: 200_000,
            max_priority_fee_per_gas: 2_000_000_000,
            to: TxKind::Call(ROLES),
            input: ITallyRoles::revokeRoleCall {
                account: dev_address(1),
                mask: 1 | 4,
            }
            .abi_encode()
            .into(),
            ..Default::default()
        },
    );
    // Sent after the revocation, so it can only run after it.
    let doomed = transfer(1, 0, 5);
    let node = members[0].node();
    let revoke_hash = node.submit_transaction(revoke).unwrap();
    let doomed_hash = node.submit_transaction(doomed).unwrap();
    wait_receipt_everywhere(&members, revoke_hash).await;

    let revoked_at = node
        .db()
        .tx_location(revoke_hash)
        .unwrap()
        .unwrap()
        .block_number;
    reach(&members, revoked_at + 3, 30).await;
    for m in &members {
        assert!(
            m.node().db().tx_location(doomed_hash).unwrap().is_none(),
            "a transfer without the transactor role was mined"
        );
    }
    // The account may send no more: refused at the door, with the reason.
    let refused = node.submit_transaction(transfer(1, 0, 6)).unwrap_err();
    assert!(refused.contains("transactor"), "{refused}");
    stop_all(&sim, &mut members).await;
}
