//! Shared by the BFT node tests: a consortium chain spec, its validators'
//! keys, the simulated network's faults, starting a node on the hub, and
//! the consensus topic's wire format.

use super::config;
use std::{collections::BTreeMap, path::Path, time::Duration};
use tally_consensus::bft::validator_key;
use tally_crypto::node_key::NodeKey;
use tally_network::{
    peer_id_from_ed25519_secret,
    sim::{Faults, SimNetwork},
    PeerId,
};
use tally_node::{BftWire, Node};
use tally_primitives::{
    Address, BftMember, BftSpec, BftValidator, Block, ChainSpec, EngineSpec, B256,
};

pub const BLOCK_TIME_MS: u64 = 150;

pub fn seed() -> u64 {
    std::env::var("TALLY_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261122)
}

/// Short delays, a little loss: enough to reorder votes and make rounds
/// fail now and then, little enough to keep the tests fast.
pub fn faults() -> Faults {
    Faults {
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(15),
        drop_gossip: 0.03,
        drop_requests: 0.02,
    }
}

/// Validator `i`'s node key (validators come first among the members).
pub fn node_key(i: u8) -> NodeKey {
    NodeKey::from_bytes(&[200 + i; 32])
}

pub fn public(key: &NodeKey) -> B256 {
    validator_key(key)
}

pub fn peer_of(key: &NodeKey) -> PeerId {
    peer_id_from_ed25519_secret(key.to_bytes()).unwrap()
}

/// A consortium of `members` nodes (`node_key(0..members)`), the first
/// `validators` of which validate with power 1. The first four members vote
/// with the funded test accounts, so those accounts are admins and may send
/// transfers.
pub fn bft_spec(validators: u8, members: u8, create_empty_blocks: bool) -> ChainSpec {
    let mut spec = super::authority_spec(0);
    let accounts: Vec<Address> = tally_crypto::mnemonic::dev_accounts(4)
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    let keys: Vec<B256> = (0..members).map(|i| public(&node_key(i))).collect();
    spec.engine = EngineSpec::Bft(BftSpec {
        block_time_ms: BLOCK_TIME_MS,
        create_empty_blocks,
        timeout_ms: 400,
        timeout_delta_ms: 200,
        validators: keys
            .iter()
            .take(usize::from(validators))
            .map(|&key| BftValidator { key, power: 1 })
            .collect(),
        members: keys
            .iter()
            .enumerate()
            .map(|(i, &node_key)| BftMember {
                name: format!("member-{i}"),
                account: accounts
                    .get(i)
                    .copied()
                    .unwrap_or(Address::repeat_byte(0x50 + i as u8)),
                node_key,
            })
            .collect(),
        roles: BTreeMap::new(),
        governance_threshold_pct: 67,
        min_gas_price: 0,
    });
    spec.members = keys;
    spec.validate().expect("the test spec is valid");
    spec
}

pub fn bft_of(spec: &ChainSpec) -> &BftSpec {
    match &spec.engine {
        EngineSpec::Bft(bft) => bft,
        other => panic!("not a BFT spec: {other:?}"),
    }
}

/// Starts a node of `spec` with `key` in `dir` and joins it to the hub.
pub async fn start_node(sim: &SimNetwork, spec: &ChainSpec, key: &NodeKey, dir: &Path) -> Node {
    let mut node = Node::start(config(dir, spec.clone(), key.clone(), None))
        .await
        .unwrap_or_else(|e| panic!("node did not start: {e:?}"));
    let (handle, events) = sim.join(peer_of(key));
    node.attach_network(handle, events);
    node
}

/// A consensus gossip message as a node sends it; each call's bytes differ.
pub fn wire(message: Vec<u8>, block: Vec<Block>) -> Vec<u8> {
    static SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    alloy_rlp::encode(BftWire {
        message: message.into(),
        block,
        sent_at: SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    })
}

pub fn decode_wire(data: &[u8]) -> Option<BftWire> {
    alloy_rlp::decode_exact(data).ok()
}
