//! Pool limits and the view of chain state the pool validates against.

use alloy_primitives::{Address, U256};

/// Limits and chain parameters. Construct with [`PoolConfig::new`] and
/// override fields, so new limits can be added without breaking callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    pub chain_id: u64,
    /// A transaction with a larger gas limit could never be included.
    pub block_gas_limit: u64,
    /// The base fee of the next block (constant on Tally for now).
    pub base_fee: u64,
    /// Maximum number of transactions held (pending and queued together).
    pub max_txs: usize,
    /// Maximum number of transactions held per sender.
    pub max_per_sender: usize,
    /// Maximum size of one transaction's EIP-2718 encoding.
    pub max_tx_bytes: usize,
    /// Maximum summed size of all pooled transactions' encodings: bounds
    /// the pool's memory whatever the transactions' sizes.
    pub max_bytes: usize,
    /// Most a transaction's nonce may run ahead of its sender's account
    /// nonce: a gap wider than the sender's pool share could never close.
    pub max_nonce_gap: u64,
    /// How much (percent) a replacement must raise both fee cap and tip.
    pub price_bump_percent: u64,
}

impl PoolConfig {
    /// Defaults as in geth where it has one: 128 KiB transactions, 10% bump;
    /// 256 MiB of transactions in all, and nonces at most 1,000 ahead (the
    /// per-sender limit: a wider gap could never close).
    pub fn new(chain_id: u64, block_gas_limit: u64, base_fee: u64) -> PoolConfig {
        PoolConfig {
            chain_id,
            block_gas_limit,
            base_fee,
            max_txs: 100_000,
            max_per_sender: 1_000,
            max_tx_bytes: 128 * 1024,
            max_bytes: 256 * 1024 * 1024,
            max_nonce_gap: 1_000,
            price_bump_percent: 10,
        }
    }
}

/// The latest state, as far as the pool needs it. The node implements it over
/// its world state; tests implement it over a map.
pub trait AccountReader {
    /// The account's nonce and balance; an absent account is `(0, 0)`.
    fn nonce_and_balance(&self, address: &Address) -> Result<(u64, U256), String>;

    /// Consortium chains: whether `sender` may send a transaction that
    /// creates a contract (`is_create`) or calls one, and whether its fee
    /// cap reaches the chain's minimum gas price. Public chains admit all.
    fn check_admission(
        &self,
        _sender: &Address,
        _is_create: bool,
        _fee_cap: u128,
    ) -> Result<(), crate::PoolError> {
        Ok(())
    }
}

impl<T: AccountReader + ?Sized> AccountReader for &T {
    fn nonce_and_balance(&self, address: &Address) -> Result<(u64, U256), String> {
        (**self).nonce_and_balance(address)
    }
    fn check_admission(
        &self,
        sender: &Address,
        is_create: bool,
        fee_cap: u128,
    ) -> Result<(), crate::PoolError> {
        (**self).check_admission(sender, is_create, fee_cap)
    }
}
