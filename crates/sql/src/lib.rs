//! SQL over the ledger: an embedded SQLite index of blocks, transactions,
//! logs, token transfers, touched accounts, created contracts and the
//! records of Tally's system contracts (notary, traceability, assets),
//! answering read-only SQL with row and time limits.
//!
//! Data flows one way. The node implements [`BlockSource`] over its chain
//! database; [`Index::sync`] compares the index's last blocks with the
//! source by number and hash, deletes the rows of blocks the source
//! abandoned (reorgs, unwinds), then indexes forward to the source's head
//! in batched SQLite transactions. [`rows`] turns a block into rows without
//! touching SQLite; [`decoders`] add the system contracts' tables, one
//! [`Decoder`] each. [`Index::query`] runs a user's SELECT on a separate
//! read-only connection. [`schema()`] gives the documented DDL.

mod balances;
pub mod decoders;
mod error;
mod index;
mod query;
pub mod rows;
mod schema;
mod source;

pub use decoders::{Decoder, LogContext};
pub use error::{IndexError, QueryError, SourceError};
pub use index::{BatchLimits, Index, IndexOptions, IndexStats};
pub use query::{QueryLimits, QueryResult};
pub use schema::{schema, SCHEMA_VERSION};
pub use source::{BlockSource, IndexedBlock, Progress, SyncReport};
