//! Fixtures shared by the fuzz targets (`fuzz_targets/`) and the seed
//! corpus generator (`examples/make_corpus.rs`): one chain id and one set
//! of validators, so the seeds' signatures verify and the targets reach
//! the code behind each signature check, not only the decoders.

use std::sync::OnceLock;

use tally_consensus::bft::{validator_key, ValidatorSet};
use tally_crypto::node_key::NodeKey;
use tally_primitives::BftValidator;

/// The chain id of every seed; the same as `tally-verify`'s test proofs.
pub const CHAIN_ID: u64 = 4242;

/// Four validators with the seeds `[1; 32]` … `[4; 32]`, power 1 each
/// (the keys `tally-verify`'s test proofs are signed with).
pub fn validator_keys() -> Vec<NodeKey> {
    (1..=4u8).map(|i| NodeKey::from_bytes(&[i; 32])).collect()
}

pub fn validator_set() -> &'static ValidatorSet {
    static SET: OnceLock<ValidatorSet> = OnceLock::new();
    SET.get_or_init(|| {
        let list: Vec<BftValidator> = validator_keys()
            .iter()
            .map(|k| BftValidator {
                key: validator_key(k),
                power: 1,
            })
            .collect();
        ValidatorSet::new(&list).expect("four distinct validators form a set")
    })
}

pub mod rpc_stub;

/// `tally-verify`'s builders of real proofs (specs, signed transactions,
/// state trees, each kind of finality evidence), shared as its tests and
/// bench share them.
#[path = "../../crates/verify/tests/common/mod.rs"]
pub mod proofs;
