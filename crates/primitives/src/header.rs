//! Block headers and their hashes.

use alloy_primitives::{keccak256, Address, Bloom, Bytes, B256};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use serde::{Deserialize, Serialize};

/// A block header. Field order is the RLP order and is part of the protocol.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, RlpEncodable, RlpDecodable, Serialize, Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub parent_hash: B256,
    pub number: u64,
    /// Seconds since the Unix epoch.
    pub timestamp: u64,
    /// Receives priority fees (and, on chains that have it, the block reward).
    pub beneficiary: Address,
    pub transactions_root: B256,
    pub receipts_root: B256,
    pub state_root: B256,
    pub logs_bloom: Bloom,
    pub gas_limit: u64,
    pub gas_used: u64,
    pub base_fee: u64,
    /// The engine's compact target ("bits", as in Bitcoin) for engines that
    /// search for a hash below a target (PoW, coin-age PoS); 0 for the rest.
    /// Covered by [`Header::seal_hash`], so the target cannot be changed
    /// after the work is done.
    pub bits: u32,
    pub extra_data: Bytes,
    /// Filled by the consensus engine; not covered by [`Header::seal_hash`].
    pub seal: Bytes,
}

/// The header fields without the seal, in the same order: what engines sign.
#[derive(RlpEncodable)]
struct Unsealed<'a> {
    parent_hash: &'a B256,
    number: u64,
    timestamp: u64,
    beneficiary: &'a Address,
    transactions_root: &'a B256,
    receipts_root: &'a B256,
    state_root: &'a B256,
    logs_bloom: &'a Bloom,
    gas_limit: u64,
    gas_used: u64,
    base_fee: u64,
    bits: u32,
    extra_data: &'a Bytes,
}

impl Header {
    /// The block hash: Keccak-256 of the RLP of the whole header, seal included.
    pub fn hash(&self) -> B256 {
        keccak256(alloy_rlp::encode(self))
    }

    /// The hash an engine seals: every field but `seal`.
    pub fn seal_hash(&self) -> B256 {
        keccak256(alloy_rlp::encode(Unsealed {
            parent_hash: &self.parent_hash,
            number: self.number,
            timestamp: self.timestamp,
            beneficiary: &self.beneficiary,
            transactions_root: &self.transactions_root,
            receipts_root: &self.receipts_root,
            state_root: &self.state_root,
            logs_bloom: &self.logs_bloom,
            gas_limit: self.gas_limit,
            gas_used: self.gas_used,
            base_fee: self.base_fee,
            bits: self.bits,
            extra_data: &self.extra_data,
        }))
    }

    /// Computes the hash once and keeps it beside the header.
    pub fn seal_slow(self) -> SealedHeader {
        SealedHeader {
            hash: self.hash(),
            header: self,
        }
    }
}

/// A header with its hash computed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedHeader {
    pub hash: B256,
    pub header: Header,
}

impl std::ops::Deref for SealedHeader {
    type Target = Header;
    fn deref(&self) -> &Header {
        &self.header
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rlp_round_trip_and_hashes() {
        let h = Header {
            number: 7,
            timestamp: 1_700_000_000,
            gas_limit: 30_000_000,
            base_fee: 1_000_000_000,
            extra_data: Bytes::from_static(b"tally"),
            seal: Bytes::from_static(&[1, 2, 3]),
            ..Default::default()
        };
        let enc = alloy_rlp::encode(&h);
        let back: Header = alloy_rlp::Decodable::decode(&mut enc.as_slice()).unwrap();
        assert_eq!(back, h);
        // The seal is covered by the block hash, not by the seal hash.
        let mut other = h.clone();
        other.seal = Bytes::from_static(&[9]);
        assert_ne!(other.hash(), h.hash());
        assert_eq!(other.seal_hash(), h.seal_hash());
        other.state_root = B256::repeat_byte(1);
        assert_ne!(other.seal_hash(), h.seal_hash());
    }

    #[test]
    fn truncated_rlp_is_an_error() {
        let enc = alloy_rlp::encode(Header::default());
        let cut = &enc[..enc.len() - 1];
        assert!(<Header as alloy_rlp::Decodable>::decode(&mut &cut[..]).is_err());
    }
}
