//! Transaction receipts.

use alloy_primitives::{keccak256, Bloom, Log, B256};
use alloy_rlp::{RlpDecodable, RlpEncodable};

/// The outcome of one transaction in a block.
#[derive(Clone, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Receipt {
    /// EIP-2718 type byte of the transaction (0 for legacy).
    pub tx_type: u8,
    pub success: bool,
    pub gas_used: u64,
    pub cumulative_gas_used: u64,
    pub logs: Vec<Log>,
}

impl Receipt {
    pub fn bloom(&self) -> Bloom {
        let mut bloom = Bloom::ZERO;
        for log in &self.logs {
            bloom.accrue_log(log);
        }
        bloom
    }

    /// The Merkle leaf for the receipts root.
    pub fn leaf_hash(&self) -> B256 {
        keccak256(alloy_rlp::encode(self))
    }
}

/// The bloom of all logs of a block.
pub fn logs_bloom<'a>(receipts: impl IntoIterator<Item = &'a Receipt>) -> Bloom {
    let mut bloom = Bloom::ZERO;
    for r in receipts {
        for log in &r.logs {
            bloom.accrue_log(log);
        }
    }
    bloom
}
