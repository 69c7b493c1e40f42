//! Blocks and headers from peers: block gossip, `BlocksByRange` /
//! `BlockByHash` / `HeadersByRange` answers, BFT certificates, all RLP
//! decoded with `decode_exact` as the node's network task does.
#![no_main]

use alloy_rlp::{Decodable, Encodable};
use libfuzzer_sys::fuzz_target;
use tally_primitives::{Block, CommitCertificate, Header};

/// Decodes `data` as a `T`; a value that decodes must survive a round trip.
fn round_trip<T: Decodable + Encodable + PartialEq + std::fmt::Debug>(data: &[u8]) -> Option<T> {
    let value: T = alloy_rlp::decode_exact(data).ok()?;
    let again: T = alloy_rlp::decode_exact(alloy_rlp::encode(&value))
        .expect("a decoded value re-encodes to something that decodes");
    assert_eq!(again, value);
    Some(value)
}

fuzz_target!(|data: &[u8]| {
    if let Some(block) = round_trip::<Block>(data) {
        // What import does first with a block from a peer.
        let _ = block.header.hash();
        let _ = tally_crypto::recover_senders(&block.transactions);
    }
    if let Some(header) = round_trip::<Header>(data) {
        let _ = header.hash();
    }
    let _ = round_trip::<CommitCertificate>(data);
});
