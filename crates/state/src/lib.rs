//! Tally's world state and chain database: [`ChainDb`].
//!
//! Data flow for one block: the executor reads a [`StateSnapshot`] (through
//! the [`StateReader`] trait) and produces [`StateChanges`];
//! [`ChainDb::prepare_state_root`] applies them to the parent's Merkle tree
//! in memory, touching only the changed keys, and returns the new state root
//! with the new tree nodes ([`PreparedState`]); [`ChainDb::commit_block`]
//! then writes the block, its receipts, the plain state changes, the
//! block's changeset (previous values), per-key history and the tree nodes
//! in one durable redb write transaction.
//!
//! - The current state is kept in plain tables; history entries give the
//!   state after any kept block ([`ChainDb::state_at`]).
//! - The state commitment is a Jellyfish Merkle tree versioned by block
//!   number (see [`trie`] and `docs/adr/0001-state-commitment.md`); it gives
//!   inclusion and exclusion proofs ([`ChainDb::account_proof`]).
//! - [`ChainDb::begin_batch`] executes and writes a run of blocks (sync) in
//!   one write transaction: one commit per run instead of per block. Its
//!   roots may be checked on a second thread behind execution
//!   ([`BlockBatch::append_deferred`]), and it may keep only its last
//!   blocks' trees ([`BlockBatch::keep_trees_from`]).
//! - The transaction index (hash to block) is written in sorted batches of
//!   tens of thousands of transactions; the newest stay in memory until
//!   then, and are read back from their blocks on open (`lookup`).
//! - [`ChainDb::unwind_to`] undoes blocks from their changesets and drops
//!   the tree versions above the target, for reorgs.

mod batch;
mod chain_db;
mod commit;
mod consensus;
mod error;
mod lookup;
mod proof;
mod recent;
mod root_worker;
mod run_tree;
mod snapshot;
pub mod trie;

pub use batch::{BlockBatch, PendingState};
pub use chain_db::ChainDb;
pub use commit::PreparedState;
pub use error::StateError;
pub use proof::{AccountProof, StorageProof};
pub use snapshot::{StateReader, StateSnapshot};
pub use tally_primitives::{
    Account, BlockWithReceipts, ChainSpec, Receipt, SealedBlock, SealedHeader, StateChanges,
    StorageChanges, TxLocation,
};
