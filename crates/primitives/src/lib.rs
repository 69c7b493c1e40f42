//! Tally's data layer types, with no IO.
//!
//! Blocks are chained by hash: a [`Header`] commits to its parent's hash, to a
//! binary Merkle root over the block's transactions and another over its
//! receipts, and to the state root after execution. The header's `seal` is
//! left to the consensus engine (a signature, a PoW nonce, a BFT certificate);
//! the engine signs [`Header::seal_hash`], which covers every field but the
//! seal, while [`Header::hash`] covers the seal too.
//!
//! Ethereum types (addresses, U256, transactions, logs) come from `alloy`; all
//! encodings are RLP through `alloy-rlp`.

pub mod account;
pub mod bft;
pub mod block;
pub mod chain_spec;
pub mod header;
pub mod merkle;
pub mod receipt;
pub mod state_changes;

pub use account::Account;
pub use alloy_consensus::TxEnvelope;
pub use alloy_primitives::{self, keccak256, Address, Bloom, Bytes, Log, LogData, B256, U256};
pub use bft::{BftExtra, BftMember, BftSpec, BftValidator, CommitCertificate, Evidence, Role};
pub use block::{Block, BlockWithReceipts, SealedBlock, TxLocation};
pub use chain_spec::{ChainSpec, ChainSpecError, EngineSpec, GenesisAccount, PowSpec};
pub use header::{Header, SealedHeader};
pub use receipt::Receipt;
pub use state_changes::{StateChanges, StorageChanges};

/// Keccak-256 of the empty byte string: the code hash of an account without code.
pub const EMPTY_CODE_HASH: B256 = alloy_primitives::KECCAK256_EMPTY;
