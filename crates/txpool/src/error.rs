//! Why the pool refused a transaction.
//!
//! Each message starts with the text geth uses for the same rule ("nonce too
//! low", "already known", ...), because wallets and libraries (ethers, viem,
//! web3.py, MetaMask) match on those prefixes to decide what to tell the user
//! or whether to retry with a higher fee. The details after the colon name the
//! offending values, as geth's do.

use alloy_primitives::{Address, U256};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The bytes are not a well-formed EIP-2718 transaction.
    #[error("invalid transaction encoding: {0}")]
    Decode(String),
    /// A transaction type the pool does not accept (blob, set-code, unknown).
    #[error("transaction type not supported: type {ty} ({reason})")]
    TxTypeNotSupported { ty: u8, reason: &'static str },
    #[error("oversized data: transaction size {size}, limit {limit}")]
    OversizedData { size: usize, limit: usize },
    #[error("invalid chain id: transaction has chain id {got}, this chain is {expected}")]
    InvalidChainId { got: u64, expected: u64 },
    /// The signature is malformed, high-s (EIP-2), or recovers no key.
    #[error("invalid sender: {0}")]
    InvalidSender(String),
    #[error("nonce too low: address {address}, tx: {tx_nonce} state: {state_nonce}")]
    NonceTooLow {
        address: Address,
        tx_nonce: u64,
        state_nonce: u64,
    },
    /// `balance` cannot pay `tx_cost` on top of `pooled_cost`, the cost of
    /// the sender's other transactions already in the pool.
    #[error(
        "insufficient funds for gas * price + value: address {address}, balance {balance}, \
         queued cost {pooled_cost}, tx cost {tx_cost}"
    )]
    InsufficientFunds {
        address: Address,
        balance: U256,
        pooled_cost: U256,
        tx_cost: U256,
    },
    #[error("intrinsic gas too low: gas {gas}, minimum needed {needed}")]
    IntrinsicGasTooLow { gas: u64, needed: u64 },
    /// EIP-7623: calldata-heavy transactions pay a floor price per token.
    #[error("insufficient gas for floor data gas cost: gas {gas}, minimum needed {needed}")]
    FloorDataGas { gas: u64, needed: u64 },
    /// EIP-3860: contract creation code is limited to 49152 bytes.
    #[error("max initcode size exceeded: code size {size}, limit {limit}")]
    MaxInitCodeSizeExceeded { size: usize, limit: usize },
    #[error("transaction gas limit too high: gas {gas}, cap {cap} (EIP-7825)")]
    GasLimitTooHigh { gas: u64, cap: u64 },
    #[error("exceeds block gas limit: tx gas {gas}, block gas limit {limit}")]
    ExceedsBlockGasLimit { gas: u64, limit: u64 },
    #[error(
        "max fee per gas less than block base fee: maxFeePerGas: {max_fee}, baseFee: {base_fee}"
    )]
    FeeCapBelowBaseFee { max_fee: u128, base_fee: u64 },
    #[error(
        "max priority fee per gas higher than max fee per gas: \
         maxPriorityFeePerGas: {tip}, maxFeePerGas: {max_fee}"
    )]
    TipAboveFeeCap { tip: u128, max_fee: u128 },
    #[error("already known")]
    AlreadyKnown,
    /// A same-sender, same-nonce replacement must raise both the fee cap and
    /// the tip by the configured bump.
    #[error(
        "replacement transaction underpriced: needs max fee >= {min_fee} and tip >= {min_tip} \
         (a {bump_percent}% bump over the pooled transaction)"
    )]
    ReplacementUnderpriced {
        min_fee: u128,
        min_tip: u128,
        bump_percent: u64,
    },
    #[error("account limit exceeded: address {address} already has {limit} pooled transactions")]
    AccountLimitExceeded { address: Address, limit: usize },
    /// The pool is at capacity and the transaction pays no more than the
    /// cheapest one it could displace.
    #[error("txpool is full: {capacity} transactions, the cheapest pays a tip of {min_tip} wei")]
    PoolFull { capacity: usize, min_tip: u128 },
    /// The pool holds its byte budget and the transaction pays no more
    /// than the cheapest ones it would displace.
    #[error(
        "txpool is full: {limit} bytes of transactions, the cheapest pays a tip of {min_tip} wei"
    )]
    PoolFullBytes { limit: usize, min_tip: u128 },
    /// The nonce runs further ahead of the account's than the pool allows.
    #[error("nonce too high: address {address}, tx: {tx_nonce} state: {state_nonce} (at most {max_gap} ahead)")]
    NonceTooHigh {
        address: Address,
        tx_nonce: u64,
        state_nonce: u64,
        max_gap: u64,
    },
    /// EIP-2681: a nonce of 2^64 - 1 could never be followed.
    #[error("nonce has max value: address {address}, nonce {nonce}")]
    NonceMax { address: Address, nonce: u64 },
    /// The node cannot take transactions now (its database cannot be
    /// written: a full disk).
    #[error("the node is not accepting transactions: {0}")]
    Unavailable(String),
    /// The node could not read the sender's account.
    /// Consortium chains: the sender lacks the role this transaction needs.
    #[error("{0}")]
    NotPermitted(String),
    /// The fee cap is below the chain's minimum gas price (set by governance).
    #[error("transaction underpriced: max fee per gas {fee_cap} is below the chain's minimum gas price {min}")]
    Underpriced { fee_cap: u128, min: u64 },
    #[error("failed to read account state of {address}: {reason}")]
    State { address: Address, reason: String },
}
