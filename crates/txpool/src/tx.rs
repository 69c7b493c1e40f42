//! A validated pool transaction with the values ordering and admission need,
//! computed once.

use std::sync::Arc;

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_primitives::{Address, B256, U256};

/// A transaction in the pool: the signed envelope, its recovered sender and
/// hash, and cached fee and size figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PooledTx {
    pub tx: Arc<TxEnvelope>,
    pub sender: Address,
    pub hash: B256,
    pub nonce: u64,
    pub gas_limit: u64,
    /// Fee cap: `max_fee_per_gas`, or `gas_price` for legacy and EIP-2930.
    pub max_fee_per_gas: u128,
    /// Tip cap: `max_priority_fee_per_gas`, or `gas_price` for legacy and EIP-2930.
    pub max_priority_fee_per_gas: u128,
    /// The most the transaction can take from its sender: `gas_limit * max_fee + value`.
    pub cost: U256,
    /// Length of the EIP-2718 encoding in bytes.
    pub encoded_len: usize,
}

impl PooledTx {
    /// Builds the cached figures of a decoded transaction whose sender is known.
    pub fn new(tx: TxEnvelope, sender: Address, encoded_len: usize) -> PooledTx {
        let max_fee_per_gas = tx.max_fee_per_gas();
        let max_priority_fee_per_gas = tx
            .max_priority_fee_per_gas()
            .unwrap_or_else(|| tx.priority_fee_or_price());
        // u128 * u64 < 2^192 and value < 2^256: saturate rather than wrap so an
        // absurd value fails the balance check instead of passing it.
        let cost = U256::from(max_fee_per_gas)
            .saturating_mul(U256::from(tx.gas_limit()))
            .saturating_add(tx.value());
        PooledTx {
            sender,
            hash: *tx.tx_hash(),
            nonce: tx.nonce(),
            gas_limit: tx.gas_limit(),
            max_fee_per_gas,
            max_priority_fee_per_gas,
            cost,
            encoded_len,
            tx: Arc::new(tx),
        }
    }

    /// What the block producer earns per gas at `base_fee`:
    /// `min(tip cap, fee cap - base fee)`, zero if the fee cap is below it.
    pub fn effective_tip(&self, base_fee: u64) -> u128 {
        self.max_fee_per_gas
            .saturating_sub(u128::from(base_fee))
            .min(self.max_priority_fee_per_gas)
    }
}
