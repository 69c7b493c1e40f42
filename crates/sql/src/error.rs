//! The crate's errors: opening and writing the index ([`IndexError`]),
//! reading the chain ([`SourceError`]) and answering queries
//! ([`QueryError`]).

use std::path::PathBuf;
use std::time::Duration;

/// The block source could not answer: the node's chain database failed.
#[derive(Debug, thiserror::Error)]
#[error("the block source failed: {0}")]
pub struct SourceError(pub Box<dyn std::error::Error + Send + Sync>);

impl SourceError {
    /// Wraps an error or a message.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(error.into())
    }
}

/// Opening, migrating or writing the index failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("cannot open the SQL index at {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error(
        "the SQL index at {path} is not a usable SQLite database ({reason}); \
         delete the file and the node rebuilds the index from the chain"
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "the SQL index at {path} has schema version {found}, newer than the {supported} \
         this build knows: run a newer tally, or delete the file to rebuild the index"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("writing the SQL index failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("block {number} from the block source is inconsistent: {reason}")]
    Malformed { number: u64, reason: String },
    #[error(
        "the block source has no block {number} although its head is {head}: \
         the index cannot skip a block"
    )]
    MissingBlock { number: u64, head: u64 },
}

/// A query was refused or failed. The index stays usable after any of these.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    NotAllowed(String),
    #[error("the query ran past its time limit of {} ms and was stopped; narrow it (WHERE on an indexed column, LIMIT) or raise the limit", limit.as_millis())]
    Timeout { limit: Duration },
    #[error("only one statement is allowed per query; remove everything after the first `;`")]
    MultipleStatements,
    #[error("the query is empty: give one SELECT statement")]
    Empty,
    #[error("the query has {expected} `?` parameter(s) but {given} value(s) were given")]
    ParameterCount { expected: usize, given: usize },
    #[error("parameter {index} ({value}) cannot be bound: {reason}")]
    Parameter {
        /// 1-based, as SQLite counts `?` placeholders.
        index: usize,
        value: String,
        reason: String,
    },
    #[error("{0}")]
    Sql(String),
    #[error("cannot open a read connection to the SQL index at {path}: {reason}")]
    Open { path: PathBuf, reason: String },
}
