//! Account state as kept by the world state.

use alloy_primitives::{B256, U256};
use alloy_rlp::{RlpDecodable, RlpEncodable};

/// An account's nonce, balance and code hash. Storage lives apart, keyed by
/// (address, slot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Account {
    pub nonce: u64,
    pub balance: U256,
    pub code_hash: B256,
}

impl Default for Account {
    fn default() -> Self {
        Account {
            nonce: 0,
            balance: U256::ZERO,
            code_hash: crate::EMPTY_CODE_HASH,
        }
    }
}

impl Account {
    /// EIP-161 emptiness: such accounts are not kept in state.
    pub fn is_empty(&self) -> bool {
        self.nonce == 0 && self.balance.is_zero() && self.code_hash == crate::EMPTY_CODE_HASH
    }
}
