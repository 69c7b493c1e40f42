//! Decoders of Tally's system contracts: each turns the logs of one
//! contract into rows of its own tables. Adding a contract to the index is
//! adding a [`Decoder`]; the index notices a new or changed decoder when it
//! opens and rebuilds itself from the chain so the new tables cover every
//! block.

mod assets;
mod notary;
mod trace;

use alloy_primitives::{Address, Log, B256};

use crate::rows::Row;

pub use assets::AssetsDecoder;
pub use notary::NotaryDecoder;
pub use trace::TraceDecoder;

/// Where a log sits, handed to every decoder with the log.
#[derive(Clone, Copy, Debug)]
pub struct LogContext<'a> {
    pub block_number: u64,
    pub block_hash: B256,
    /// The block's time, seconds since the Unix epoch.
    pub timestamp: u64,
    pub tx_hash: B256,
    /// The transaction's position in its block.
    pub tx_index: u64,
    /// The log's position in its block (over all its transactions).
    pub log_index: u64,
    /// Who signed the transaction that emitted the log.
    pub sender: Address,
    pub log: &'a Log,
}

/// Turns the logs of one contract into rows of its tables.
pub trait Decoder: Send + Sync {
    /// A short unique name; with [`Decoder::version`] it is recorded in the
    /// index, and a change rebuilds the index.
    fn name(&self) -> &'static str;

    /// Bump when the decoder's tables or rows change.
    fn version(&self) -> u32 {
        1
    }

    /// The DDL of its tables and indexes (`CREATE TABLE IF NOT EXISTS`…),
    /// with comments: it is shown by [`crate::schema`]. Every table has a
    /// `block_number INTEGER NOT NULL` column, which [`Row::new`] fills and
    /// through which a reorg deletes rows; an index on it keeps that fast.
    fn schema(&self) -> &'static str;

    /// The tables [`Decoder::schema`] creates.
    fn tables(&self) -> &'static [&'static str];

    /// Appends the rows `ctx.log` gives (none for logs it does not know).
    /// Never fails: a log that does not decode is left to the `logs` table.
    fn decode(&self, ctx: &LogContext<'_>, out: &mut Vec<Row>);
}

/// The decoders of Tally's system contracts: notary, traceability, assets.
pub fn builtin() -> Vec<Box<dyn Decoder>> {
    vec![
        Box::new(NotaryDecoder),
        Box::new(TraceDecoder),
        Box::new(AssetsDecoder),
    ]
}

/// The Solidity interfaces the decoders read, bound from `contracts/*.sol`
/// (public so tests and tools can build the same events).
pub mod abi {
    alloy_sol_types::sol!("../../contracts/ITallyNotary.sol");
    alloy_sol_types::sol!("../../contracts/ITallyTrace.sol");
    alloy_sol_types::sol!("../../contracts/ITallyAssets.sol");
}

/// The reserved addresses of the system contracts decoded here (as
/// `tally_executor::system` and the `.sol` comments give them).
pub mod addresses {
    use alloy_primitives::{address, Address};

    pub const ASSETS: Address = address!("0000000000000000000000000000000000001003");
    pub const NOTARY: Address = address!("0000000000000000000000000000000000001006");
    pub const TRACE: Address = address!("0000000000000000000000000000000000001007");
}
