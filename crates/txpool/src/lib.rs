//! Tally's transaction pool.
//!
//! A raw transaction (from RPC or gossip) goes through [`TxPool::add_raw`]:
//! size cap, EIP-2718 decode, the checks that need no state (chain id, fees,
//! gas, intrinsic gas), then one signature recovery, then the checks against
//! the sender's account (nonce, balance) and the pool's limits (per-sender
//! cap, replacement bump, capacity with eviction). [`TxPool::add_raw_batch`]
//! does the stateless part and recovery for many transactions in parallel.
//!
//! Accepted transactions are *pending* when they can run in the next block
//! (no nonce gap from the account nonce, affordable) and *queued* otherwise;
//! [`TxPool::on_block_committed`] drops what a block made stale and promotes
//! what it made executable. The block producer takes
//! [`TxPool::best_transactions`]: per sender in nonce order, across senders
//! by effective tip.
//!
//! Error messages follow geth's wording so Ethereum tools recognise them.

mod config;
mod error;
mod pool;
mod store;
mod tx;
pub mod validate;

pub use config::{AccountReader, PoolConfig};
pub use error::PoolError;
pub use pool::TxPool;
pub use tx::PooledTx;
