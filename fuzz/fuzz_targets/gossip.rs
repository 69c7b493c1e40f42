//! Gossip messages as the node reads them off each topic: a transaction
//! message (an RLP list of EIP-2718 envelopes, each then decoded by the
//! pool) and a BFT consensus message (its RLP wrapper, then the message).
//! Block gossip is the `block` target.
#![no_main]

use alloy_primitives::Bytes;
use alloy_rlp::{RlpDecodable, RlpEncodable};
use libfuzzer_sys::fuzz_target;
use tally_consensus::bft::ConsensusMessage;
use tally_primitives::Block;

/// The consensus topic's wrapper, `tally_node::driver::bft::Wire`: the same
/// fields in the same order. It is restated here because `tally-node`
/// brings the whole node (revm, SQLite, the RPC server) into every
/// instrumented build. Keep the two in step.
#[derive(RlpEncodable, RlpDecodable, Debug, PartialEq)]
struct Wire {
    message: Bytes,
    block: Vec<Block>,
    sent_at: u64,
}

fuzz_target!(|data: &[u8]| {
    if let Ok(txs) = alloy_rlp::decode_exact::<Vec<Bytes>>(data) {
        for raw in &txs {
            let _ = tally_txpool::validate::decode(raw);
        }
    }
    if let Ok(wire) = alloy_rlp::decode_exact::<Wire>(data) {
        let _ = ConsensusMessage::decode(&wire.message);
        let again: Wire = alloy_rlp::decode_exact(alloy_rlp::encode(&wire)).expect("re-decodes");
        assert_eq!(again, wire);
    }
});
