//! The state error type.

use alloy_primitives::B256;
use std::path::PathBuf;
use tally_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("chain database {} has no genesis yet; call init_genesis first", path.display())]
    NotInitialized { path: PathBuf },
    #[error(
        "chain database {} was initialised from chain spec {stored}, but the given spec hashes \
         to {given}; use the original spec or a fresh data directory",
        path.display()
    )]
    SpecMismatch {
        path: PathBuf,
        stored: B256,
        given: B256,
    },
    #[error("block {requested} is above the head {head}")]
    AboveHead { requested: u64, head: u64 },
    #[error("block {number} ({hash}) does not extend the head {head} ({head_hash}): expected number {} and parent {head_hash}", head + 1)]
    NotOnHead {
        number: u64,
        hash: B256,
        head: u64,
        head_hash: B256,
    },
    #[error(
        "prepared state was computed on block {prepared_parent} ({prepared_parent_hash}), \
         not on the current head {head} ({head_hash})"
    )]
    StalePrepared {
        prepared_parent: u64,
        prepared_parent_hash: B256,
        head: u64,
        head_hash: B256,
    },
    #[error("block {number} claims state root {claimed}, but its state changes give {computed}")]
    StateRootMismatch {
        number: u64,
        claimed: B256,
        computed: B256,
    },
    #[error("block {0} is not stored")]
    MissingBlock(u64),
    #[error(
        "the state tree of block {number} was not kept: this node synced that block inside a \
         run, which keeps the trees of the run's last blocks only; proofs and unwinding need a \
         block whose tree is kept"
    )]
    TreeNotKept { number: u64 },
    #[error("state trie error: {0}")]
    Trie(String),
    #[error("invalid proof for {what}: {reason}")]
    InvalidProof { what: String, reason: String },
}

impl StateError {
    pub(crate) fn trie(e: impl std::fmt::Display) -> Self {
        StateError::Trie(format!("{e:#}"))
    }

    /// The same error once more, for a failure reported again later (a
    /// root mismatch keeps its fields, others their message).
    pub(crate) fn again(&self) -> Self {
        match self {
            StateError::StateRootMismatch {
                number,
                claimed,
                computed,
            } => StateError::StateRootMismatch {
                number: *number,
                claimed: *claimed,
                computed: *computed,
            },
            other => StateError::Trie(other.to_string()),
        }
    }
}

/// Lets `?` work on every redb error type, through the storage error.
macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StateError {
            fn from(e: $t) -> Self {
                StateError::Storage(StorageError::Db(e.into()))
            }
        }
    )*};
}
from_redb!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);
