//! Equivocation over the simulated network: a Byzantine peer holding
//! validator 3's key (of validators 0..=3, power 1 each) signs two
//! different prevotes in one slot of the height being decided and gossips
//! both. The three honest validators are a quorum by themselves: they go
//! on committing one chain, one of them puts the evidence in a block, every
//! node's governance state records it (`tally_getEvidence` over the node's
//! RPC), and it names exactly the slot and the two values the rogue signed.
//!
//! The network's faults are repeatable from the seed (`TALLY_SIM_SEED`
//! picks another); the nodes' threads and clocks are real, so the test
//! asserts only what must hold under any interleaving.

mod common;

use common::{bft::*, *};
use jsonrpsee::{core::client::ClientT, http_client::HttpClientBuilder, rpc_params};
use std::{collections::BTreeMap, time::Duration};
use tally_consensus::bft::{
    sign_vote, validator_key, verify_block_certificate, verify_evidence, ConsensusMessage,
    ValidatorSet,
};
use tally_crypto::node_key::NodeKey;
use tally_executor::system::EvidenceView;
use tally_network::{
    sim::{SimHandle, SimNetwork},
    GossipKind, Network, NetworkEvent, SyncRequest, SyncResponse,
};
use tally_node::Node;
use tally_primitives::{bft::VoteKind, BftExtra, BftValidator, ChainSpec, CommitCertificate, B256};

fn validators_of(spec: &ChainSpec) -> &[BftValidator] {
    &bft_of(spec).validators
}

/// Waits until every node's head is at least `number`.
async fn reach(nodes: &[Node], number: u64, secs: u64) {
    wait_for(&format!("every node to reach block {number}"), secs, || {
        nodes.iter().all(|n| n.head().number >= number)
    })
    .await;
}

fn min_head(nodes: &[Node]) -> u64 {
    nodes.iter().map(|n| n.head().number).min().unwrap_or(0)
}

fn max_head(nodes: &[Node]) -> u64 {
    nodes.iter().map(|n| n.head().number).max().unwrap_or(0)
}

/// The Byzantine peer: on the hub under validator 3's identity, it answers
/// sync requests as a node with only the genesis block and ignores the
/// rest (it never votes honestly).
fn join_rogue(sim: &SimNetwork, genesis: B256, key: &NodeKey) -> SimHandle {
    let (handle, mut events) = sim.join(peer_of(key));
    let net = handle.clone();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let NetworkEvent::Request { id, request, .. } = event {
                let answer = match request {
                    SyncRequest::Status => SyncResponse::Status {
                        genesis: genesis.0,
                        head_number: 0,
                        head_hash: genesis.0,
                        head_weight: [0; 16],
                    },
                    _ => SyncResponse::Error("a rogue".into()),
                };
                let _ = net.respond(id, answer).await;
            }
        }
    });
    handle
}

/// Gossips one signed prevote on the consensus topic.
async fn publish_prevote(rogue: &SimHandle, key: &NodeKey, chain_id: u64, slot: Slot, value: B256) {
    let vote = sign_vote(key, chain_id, VoteKind::Prevote, slot.0, slot.1, value);
    let data = wire(ConsensusMessage::Vote(vote).encode(), vec![]);
    // A peer that has cut the rogue off is no reason to stop.
    let _ = rogue.publish(GossipKind::Consensus, data).await;
}

/// (height, round) of an equivocation.
type Slot = (u64, u32);

/// The two block hashes the rogue prevotes for at `slot`: neither is a
/// block anyone proposed, and they differ from every other slot's.
fn values(slot: Slot) -> (B256, B256) {
    let value = |which: u8| {
        let mut v = [which; 32];
        v[..8].copy_from_slice(&slot.0.to_be_bytes());
        v[8..12].copy_from_slice(&slot.1.to_be_bytes());
        B256::from(v)
    };
    (value(0xa1), value(0xb2))
}

/// The evidence recorded in the node's governance state, over its RPC.
async fn recorded(node: &Node) -> Vec<EvidenceView> {
    let client = HttpClientBuilder::default()
        .build(format!("http://{}", node.rpc_addr()))
        .expect("an RPC client");
    client
        .request("tally_getEvidence", rpc_params![])
        .await
        .expect("tally_getEvidence")
}

/// Three honest validators (0..=2) on the hub and the rogue holding
/// validator 3's key, past block 2; `sent` holds every slot the rogue
/// signed twice in, with the two values.
struct Consortium {
    nodes: Vec<Node>,
    _dirs: Vec<tempfile::TempDir>,
    rogue: SimHandle,
    byzantine: NodeKey,
    spec: ChainSpec,
    sent: BTreeMap<Slot, (B256, B256)>,
    _sim: SimNetwork,
}

impl Consortium {
    async fn start(seed: u64) -> Consortium {
        let sim = SimNetwork::new(seed, faults());
        let spec = bft_spec(4, 4, true);
        let mut dirs = Vec::new();
        let mut nodes = Vec::new();
        for i in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            nodes.push(start_node(&sim, &spec, &node_key(i), dir.path()).await);
            dirs.push(dir);
        }
        let byzantine = node_key(3);
        let rogue = join_rogue(&sim, nodes[0].genesis().hash, &byzantine);
        // Three of four are a quorum: the chain runs without validator 3.
        reach(&nodes, 2, 30).await;
        Consortium {
            nodes,
            _dirs: dirs,
            rogue,
            byzantine,
            spec,
            sent: BTreeMap::new(),
            _sim: sim,
        }
    }

    fn accused(&self) -> B256 {
        validator_key(&self.byzantine)
    }

    /// Two different prevotes in round 0 of the height the most advanced
    /// node is deciding, once per height; false if that height has had its
    /// pair. (A pair that reaches a node after it decided the height is
    /// stale there and ignored.)
    async fn equivocate(&mut self) -> bool {
        let slot = (max_head(&self.nodes) + 1, 0);
        if self.sent.contains_key(&slot) {
            return false;
        }
        let (a, b) = values(slot);
        self.sent.insert(slot, (a, b));
        for value in [a, b] {
            publish_prevote(
                &self.rogue,
                &self.byzantine,
                self.spec.chain_id,
                slot,
                value,
            )
            .await;
        }
        true
    }

    /// The first block (on node 0) that carries evidence, if any yet.
    fn first_carrying_evidence(&self) -> Option<u64> {
        (1..=self.nodes[0].head().number).find(|&n| !evidence_in(&self.nodes[0], n).is_empty())
    }

    /// The evidence every node's state records, once they all agree on it
    /// (evidence may still be on its way into a block on some).
    async fn recorded_everywhere(&self) -> Vec<EvidenceView> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let mut views = Vec::new();
            for node in &self.nodes {
                views.push(recorded(node).await);
            }
            if views.iter().all(|v| v == &views[0]) && !views[0].is_empty() {
                return views.swap_remove(0);
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the nodes' recorded evidence differs: {views:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The two values the rogue signed in `slot`, in a fixed order.
    fn sent_pair(&self, slot: Slot) -> (B256, B256) {
        let pair = self
            .sent
            .get(&slot)
            .unwrap_or_else(|| panic!("evidence of {slot:?}, where the rogue did not equivocate"));
        sorted(pair.0, pair.1)
    }

    async fn stop(self) {
        for node in self.nodes {
            node.stop().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_prevote_is_recorded_as_evidence_and_the_chain_goes_on() {
    let mut net = Consortium::start(seed() + 10).await;
    let chain_id = net.spec.chain_id;
    let accused = net.accused();

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let carried_in = loop {
        net.equivocate().await;
        if let Some(n) = net.first_carrying_evidence() {
            break n;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no block carried evidence of the {} equivocations sent",
            net.sent.len()
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    };

    // The chain goes on, on one chain, each block certified by a quorum.
    let nodes = &net.nodes;
    let target = max_head(nodes) + 5;
    reach(nodes, target, 30).await;
    let target = min_head(nodes);
    let refs: Vec<&Node> = nodes.iter().collect();
    for n in 1..=target {
        assert_same_block(&refs, n);
    }
    let validators = validators_of(&net.spec);
    for n in 1..=target {
        let header = nodes[0].db().header_by_number(n).unwrap().unwrap();
        let raw = nodes[0]
            .db()
            .certificate(n)
            .unwrap()
            .expect("a certificate");
        let cert: CommitCertificate = alloy_rlp::decode_exact(&raw).unwrap();
        verify_block_certificate(chain_id, &header.header, &cert, validators)
            .unwrap_or_else(|e| panic!("certificate of block {n}: {e}"));
    }

    // What the block carries is a proof anyone can check: both signatures
    // by validator 3, for the two values of a slot the rogue signed in.
    let set = ValidatorSet::new(validators).unwrap();
    let carried = evidence_in(&nodes[0], carried_in);
    for ev in &carried {
        verify_evidence(ev, chain_id, &set).expect("the carried evidence verifies");
        assert_eq!(ev.validator, accused);
        assert!(
            ev.height <= carried_in,
            "evidence from height {} in block {carried_in}",
            ev.height
        );
        assert_eq!(ev.kind, VoteKind::Prevote.code());
        assert_eq!(
            sorted(ev.first.value, ev.second.value),
            net.sent_pair((ev.height, ev.round))
        );
    }

    // Every node's governance state records the same evidence, and each
    // record names a slot the rogue signed twice in, with both values.
    let on_chain = net.recorded_everywhere().await;
    for (i, ev) in on_chain.iter().enumerate() {
        assert_eq!(ev.index, i as u64);
        assert_eq!(ev.validator, accused, "{ev:?}");
        assert_eq!(ev.kind, VoteKind::Prevote.code(), "{ev:?}");
        assert_eq!(
            sorted(ev.first_value, ev.second_value),
            net.sent_pair((ev.height, ev.round)),
            "{ev:?}"
        );
    }
    assert!(
        carried
            .iter()
            .all(|c| on_chain.iter().any(|r| r.hash == c.hash())),
        "what block {carried_in} carries is recorded: {carried:?} vs {on_chain:?}"
    );
    net.stop().await;
}

/// Nodes that receive the two votes in opposite orders build the same
/// evidence with `first` and `second` swapped; that is still one
/// equivocation and must be recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_equivocation_is_recorded_once() {
    let mut net = Consortium::start(seed() + 11).await;
    // Four slots: with 1-15 ms of random delay per message, some node
    // almost surely sees some pair in the other order.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while net.sent.len() < 4 {
        net.equivocate().await;
        assert!(std::time::Instant::now() < deadline, "the chain stalled");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let target = max_head(&net.nodes) + 6;
    reach(&net.nodes, target, 30).await;

    let on_chain = net.recorded_everywhere().await;
    let mut per_slot: BTreeMap<Slot, usize> = BTreeMap::new();
    for ev in &on_chain {
        net.sent_pair((ev.height, ev.round));
        *per_slot.entry((ev.height, ev.round)).or_default() += 1;
    }
    assert!(
        per_slot.values().all(|&n| n == 1),
        "one equivocation recorded more than once: {per_slot:?}\n{on_chain:?}"
    );
    net.stop().await;
}

/// The evidence block `n`'s header carries.
fn evidence_in(node: &Node, n: u64) -> Vec<tally_primitives::Evidence> {
    let header = node.db().header_by_number(n).unwrap().unwrap();
    BftExtra::decode(&header.extra_data)
        .expect("a BFT header's extra data")
        .evidence
}

fn sorted(a: B256, b: B256) -> (B256, B256) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}
