//! The storage error type.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open chain database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: redb::DatabaseError,
    },
    #[error(
        "{} is not a Tally chain database (it has redb tables but no Tally schema version); \
         point --datadir at a Tally data directory or an empty one",
        path.display()
    )]
    Foreign { path: PathBuf },
    #[error(
        "chain database {} has schema version {found}, this build expects {expected}; \
         use a matching tally build or a fresh data directory",
        path.display()
    )]
    SchemaMismatch {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("chain database error: {0}")]
    Db(#[from] redb::Error),
    #[error("corrupt {what} in the chain database at {key}: {reason}")]
    Corrupt {
        what: &'static str,
        key: String,
        reason: String,
    },
}

/// Every redb error type converts into `redb::Error`; this lets `?` work on
/// all of them without one `From` impl per type.
macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StorageError {
            fn from(e: $t) -> Self {
                StorageError::Db(e.into())
            }
        }
    )*};
}
from_redb!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

impl StorageError {
    pub fn corrupt(what: &'static str, key: impl std::fmt::Display, reason: impl ToString) -> Self {
        StorageError::Corrupt {
            what,
            key: key.to_string(),
            reason: reason.to_string(),
        }
    }
}
